//! The numbers of docs/performance.md in one run: for every workload family and rule count,
//! each engine's per-call p50 and p99 (tier 1: pre-built request; tier 2: from the raw
//! `tools/call` body), allocations per call, cold load (tier 3), and for mcppol the compile
//! time, artifact size and load + verify per KiB. Prints markdown; `--svg PATH` also draws the
//! scaling plot.
//!
//! Criterion reports means and medians of batches; a tail needs per-call samples, so this
//! harness times every call on its own with `Instant` and subtracts the timer's own median
//! cost, measured the same way.
//!
//! ```text
//! cargo bench --locked -p mcppol-benches --bench summary -- [--svg docs/img/scaling.svg]
//!     [--families path,tool] [--sizes 10,100] [--budget-ms 250] [--peer-max-n 10000]
//!     [--engines mcppol,cedar,rego-interp,rego-vm,cel]
//! ```

#[allow(dead_code, reason = "each bench binary uses a different part of the shared code")]
mod common;

use common::alloc;
use common::engines::{self, Engine, Kind};
use common::workload::{Family, SIZES, Workload};
use std::fmt::Write as _;
use std::hint::black_box;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Command-line options (`cargo bench` adds `--bench`, which is ignored).
#[derive(Debug)]
struct Options {
    families: Vec<Family>,
    sizes: Vec<usize>,
    budget: Duration,
    peer_max_n: usize,
    engines: Vec<Kind>,
    svg: Option<std::path::PathBuf>,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        families: Family::ALL.to_vec(),
        sizes: SIZES.to_vec(),
        budget: Duration::from_millis(250),
        peer_max_n: 10_000,
        engines: Kind::ALL.to_vec(),
        svg: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("`{arg}` needs a value"));
        match arg.as_str() {
            "--bench" => {}
            "--families" => {
                options.families = value()?
                    .split(',')
                    .map(|name| Family::from_name(name).ok_or(format!("unknown family `{name}`")))
                    .collect::<Result<_, _>>()?;
            }
            "--sizes" => {
                options.sizes = value()?
                    .split(',')
                    .map(|n| n.parse().map_err(|_| format!("bad size `{n}`")))
                    .collect::<Result<_, _>>()?;
            }
            "--engines" => {
                options.engines = value()?
                    .split(',')
                    .map(|name| {
                        Kind::ALL
                            .into_iter()
                            .find(|kind| kind.name() == name)
                            .ok_or(format!("unknown engine `{name}`"))
                    })
                    .collect::<Result<_, _>>()?;
            }
            "--budget-ms" => {
                let ms = value()?.parse().map_err(|_| "bad --budget-ms".to_owned())?;
                options.budget = Duration::from_millis(ms);
            }
            "--peer-max-n" => {
                options.peer_max_n = value()?.parse().map_err(|_| "bad --peer-max-n".to_owned())?;
            }
            "--svg" => {
                // Relative to the workspace root, whatever directory cargo runs the bench in.
                let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
                options.svg = Some(root.join(value()?));
            }
            other => return Err(format!("unknown option `{other}`")),
        }
    }
    Ok(options)
}

/// Per-call latency distribution, in nanoseconds.
#[derive(Clone, Copy, Debug, Default)]
struct Latency {
    p50: f64,
    p99: f64,
    samples: usize,
}

/// The median cost of reading the clock twice, subtracted from every sample.
fn timer_overhead() -> f64 {
    let mut samples: Vec<u128> = (0..20_000)
        .map(|_| {
            let start = Instant::now();
            black_box(());
            start.elapsed().as_nanos()
        })
        .collect();
    samples.sort_unstable();
    percentile(&samples, 0.5)
}

#[expect(clippy::cast_precision_loss, reason = "nanosecond counts far below 2^52")]
#[expect(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "a rank within the sample count"
)]
fn percentile(sorted: &[u128], fraction: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((sorted.len() - 1) as f64 * fraction).round() as usize;
    sorted.get(rank).map_or(f64::NAN, |&value| value as f64)
}

/// The most samples kept per engine, workload and tier (16 bytes each, as in earlier rounds,
/// so the peers' allocator sees the same harness).
const SAMPLES_MAX: usize = 50_000;

/// Times `call` one call at a time for about `budget` (at least 5 calls), after a warm-up of a
/// fifth of the budget, and keeps a uniform sample of at most `SAMPLES_MAX` of the timings
/// (reservoir sampling, with a fixed-seed generator so runs do not differ by it). Fast engines
/// are thus sampled over the whole budget: keeping the first 50,000 calls, as this did until
/// this round, sampled a ~200 ns call for only ~15 ms, so one burst of the host (this VM has
/// bursts of a few hundred ms in which everything runs up to 2× slower) could move a whole
/// workload's median.
fn latency(
    budget: Duration,
    overhead: f64,
    mut call: impl FnMut() -> Result<bool, String>,
) -> Result<Latency, String> {
    let warm = Instant::now();
    let mut warm_calls = 0;
    while warm.elapsed() < budget / 5 || warm_calls < 2 {
        black_box(call()?);
        warm_calls += 1;
    }
    let mut samples = Vec::with_capacity(SAMPLES_MAX);
    let mut timed = 0u64;
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let started = Instant::now();
    while started.elapsed() < budget || timed < 5 {
        let start = Instant::now();
        let decision = call();
        let elapsed = start.elapsed().as_nanos();
        black_box(decision?);
        timed += 1;
        if samples.len() < SAMPLES_MAX {
            samples.push(elapsed);
        } else {
            // xorshift64: the kept sample stays uniform over every call timed so far.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            if let Some(slot) =
                usize::try_from(state % timed).ok().and_then(|at| samples.get_mut(at))
            {
                *slot = elapsed;
            }
        }
    }
    samples.sort_unstable();
    let correct = |value: f64| (value - overhead).max(0.0);
    Ok(Latency {
        p50: correct(percentile(&samples, 0.50)),
        p99: correct(percentile(&samples, 0.99)),
        samples: usize::try_from(timed).unwrap_or(usize::MAX),
    })
}

/// The median of `runs` timings of `work` (each returns its own duration).
fn median_of(
    runs: usize,
    mut work: impl FnMut() -> Result<Duration, String>,
) -> Result<f64, String> {
    let mut samples: Vec<u128> =
        (0..runs.max(1)).map(|_| work().map(|d| d.as_nanos())).collect::<Result<_, _>>()?;
    samples.sort_unstable();
    Ok(percentile(&samples, 0.5))
}

/// One engine's results on one workload.
#[derive(Clone, Debug)]
struct Row {
    family: Family,
    n: usize,
    kind: Kind,
    native: Latency,
    raw: Latency,
    allocs_native: f64,
    allocs_raw: f64,
    load_ns: f64,
    /// Why the engine could not run this workload (it refused to load the policy).
    refused: Option<String>,
}

/// mcppol's build figures for one workload.
#[derive(Clone, Debug)]
struct Build {
    family: Family,
    n: usize,
    compile_ns: f64,
    artifact_bytes: usize,
    load_ns: f64,
}

fn measure_engine(
    kind: Kind,
    workload: &Workload,
    artifact: &[u8],
    options: &Options,
    overhead: f64,
) -> Result<Row, String> {
    let mut engine: Box<dyn Engine> = match engines::build(kind, workload) {
        Ok(engine) => engine,
        // A peer that cannot load the policy at all is a result, not a benchmark failure.
        Err(reason) if kind != Kind::Mcppol => {
            eprintln!("{}: {} refused the policy: {reason}", workload.label(), kind.name());
            return Ok(Row {
                family: workload.family,
                n: workload.n,
                kind,
                native: Latency { p50: f64::NAN, p99: f64::NAN, samples: 0 },
                raw: Latency { p50: f64::NAN, p99: f64::NAN, samples: 0 },
                allocs_native: f64::NAN,
                allocs_raw: f64::NAN,
                load_ns: f64::NAN,
                refused: Some(reason),
            });
        }
        Err(reason) => return Err(reason),
    };
    engines::check_agreement(kind, engine.as_mut(), workload)?;
    let native = latency(options.budget, overhead, || engine.eval_native(0))?;
    let raw = latency(options.budget, overhead, || engine.eval_raw(0))?;
    // Few repetitions for slow engines: a count per call does not need many.
    let reps = if native.p50 > 100_000.0 { 5 } else { 200 };
    let allocs_native = alloc::count(reps, || {
        let _ = black_box(engine.eval_native(0));
    });
    let allocs_raw = alloc::count(reps, || {
        let _ = black_box(engine.eval_raw(0));
    });
    let load_once = cold_runs(kind, workload, artifact)?;
    let load_ns = median_of(load_once, || engines::cold_load(kind, workload, artifact))?;
    Ok(Row {
        family: workload.family,
        n: workload.n,
        kind,
        native,
        raw,
        allocs_native,
        allocs_raw,
        load_ns,
        refused: None,
    })
}

/// How many cold loads to take the median of: many when one is fast.
fn cold_runs(kind: Kind, workload: &Workload, artifact: &[u8]) -> Result<usize, String> {
    let first = engines::cold_load(kind, workload, artifact)?;
    Ok(match first.as_micros() {
        0..=999 => 101,
        1_000..=99_999 => 11,
        _ => 3,
    })
}

fn run(options: &Options) -> Result<String, String> {
    let overhead = timer_overhead();
    let mut rows = Vec::new();
    let mut builds = Vec::new();
    for &family in &options.families {
        for &n in &options.sizes {
            let workload = Workload::new(family, n);
            eprintln!("{}: compiling", workload.label());
            let compile_runs = if n >= 10_000 { 1 } else { 3 };
            let mut artifact = Vec::new();
            let compile_ns = median_of(compile_runs, || {
                let start = Instant::now();
                artifact = engines::mcppol_compile(&workload)?;
                Ok(start.elapsed())
            })?;
            let load_ns =
                median_of(101, || engines::cold_load(Kind::Mcppol, &workload, &artifact))?;
            builds.push(Build { family, n, compile_ns, artifact_bytes: artifact.len(), load_ns });
            for &kind in &options.engines {
                if kind != Kind::Mcppol && n > options.peer_max_n {
                    continue;
                }
                eprintln!("{}: {}", workload.label(), kind.name());
                rows.push(measure_engine(kind, &workload, &artifact, options, overhead)?);
            }
        }
    }
    let default = shipped_default(options, overhead)?;
    let mut out = String::new();
    let _ = writeln!(out, "timer overhead subtracted from every sample: {overhead:.0} ns\n");
    report(&mut out, &rows, &builds, &default);
    if let Some(path) = &options.svg {
        let svg = plot(&rows);
        std::fs::write(path, svg).map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
        let _ = writeln!(out, "\nplot written to `{}`", path.display());
    }
    Ok(out)
}

/// The shipped default policy's own requests (mcppol only: the peers have no path normaliser,
/// SQL classifier or SSRF check to express it with).
fn shipped_default(
    options: &Options,
    overhead: f64,
) -> Result<Vec<(String, Latency, f64)>, String> {
    const ARTIFACT: &[u8] = include_bytes!("../../policies/default.mcpb");
    let program = mcppol_runtime::Program::from_bytes(ARTIFACT).map_err(|e| e.to_string())?;
    let mut scratch = Box::new(mcppol_runtime::Scratch::new());
    let requests = [
        ("fs.read allow", "fs.read", r#"{"path":"/workspace/README.md"}"#),
        ("fs.read traversal deny", "fs.read", r#"{"path":"/workspace/../etc/passwd"}"#),
        ("fs.read secret deny", "fs.read", r#"{"path":"/workspace/app/.env"}"#),
        ("sql.query SELECT allow", "sql.query", r#"{"query":"SELECT id FROM users"}"#),
        ("http.fetch allow", "http.fetch", r#"{"url":"https://api.github.com/repos/a/b"}"#),
        ("unknown tool deny", "shell.exec", r#"{"cmd":"rm -rf /"}"#),
    ];
    let mut out = Vec::new();
    for (label, tool, args) in requests {
        let request = mcppol_runtime::Request::tool_call(tool, args.as_bytes());
        let latency = latency(options.budget, overhead, || {
            Ok(program.evaluate(black_box(&request), &mut scratch).effect
                == mcppol_runtime::Effect::Allow)
        })?;
        let allocs = alloc::count(200, || {
            black_box(program.evaluate(black_box(&request), &mut scratch));
        });
        out.push((label.to_owned(), latency, allocs));
    }
    let load = median_of(1001, || {
        let start = Instant::now();
        let program = mcppol_runtime::Program::from_bytes(black_box(ARTIFACT));
        let elapsed = start.elapsed();
        program.map_err(|e| e.to_string())?;
        Ok(elapsed)
    })?;
    out.push((
        format!("load + verify default.mcpb ({} bytes)", ARTIFACT.len()),
        Latency { p50: load, p99: f64::NAN, samples: 1001 },
        0.0,
    ));
    Ok(out)
}

fn time(ns: f64) -> String {
    if ns.is_nan() {
        "–".to_owned()
    } else if ns < 1_000.0 {
        format!("{ns:.0} ns")
    } else if ns < 1_000_000.0 {
        format!("{:.2} µs", ns / 1e3)
    } else if ns < 1_000_000_000.0 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}

fn ratio(peer: f64, mcppol: f64) -> String {
    if mcppol > 0.0 && peer.is_finite() {
        format!("{:.0}×", peer / mcppol)
    } else {
        "–".to_owned()
    }
}

fn report(out: &mut String, rows: &[Row], builds: &[Build], default: &[(String, Latency, f64)]) {
    let mut families: Vec<Family> = rows.iter().map(|row| row.family).collect();
    families.dedup();
    for family in families {
        let _ = writeln!(out, "### `{}`\n", family.name());
        let _ = writeln!(
            out,
            "| N | engine | T1 p50 | T1 p99 | T2 p50 | T2 p99 | T2 ÷ mcppol | allocs/call T1 / T2 | T3 cold load | T3 ÷ mcppol |"
        );
        let _ = writeln!(out, "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        for row in rows.iter().filter(|row| row.family == family) {
            if let Some(reason) = &row.refused {
                let _ = writeln!(
                    out,
                    "| {} | {} | refused the policy: {reason} | | | | | | | |",
                    row.n,
                    row.kind.name()
                );
                continue;
            }
            let base =
                rows.iter().find(|r| r.family == family && r.n == row.n && r.kind == Kind::Mcppol);
            let (base_raw, base_load) =
                base.map_or((f64::NAN, f64::NAN), |b| (b.raw.p50, b.load_ns));
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {:.0} / {:.0} | {} | {} |",
                row.n,
                row.kind.name(),
                time(row.native.p50),
                time(row.native.p99),
                time(row.raw.p50),
                time(row.raw.p99),
                if row.kind == Kind::Mcppol {
                    "1×".to_owned()
                } else {
                    ratio(row.raw.p50, base_raw)
                },
                row.allocs_native,
                row.allocs_raw,
                time(row.load_ns),
                if row.kind == Kind::Mcppol {
                    "1×".to_owned()
                } else {
                    ratio(row.load_ns, base_load)
                },
            );
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(out, "### mcppol build: compile, artifact, load + verify\n");
    let _ = writeln!(
        out,
        "| family | N | compile | artifact | load + verify | per KiB |\n|---|---:|---:|---:|---:|---:|"
    );
    for build in builds {
        #[expect(clippy::cast_precision_loss, reason = "artifact sizes far below 2^52")]
        let kib = build.artifact_bytes as f64 / 1024.0;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.1} KiB | {} | {} |",
            build.family.name(),
            build.n,
            time(build.compile_ns),
            kib,
            time(build.load_ns),
            time(build.load_ns / kib),
        );
    }
    let _ = writeln!(out, "\n### mcppol, shipped default policy (tier 1)\n");
    let _ = writeln!(out, "| request | p50 | p99 | allocs/call |\n|---|---:|---:|---:|");
    for (label, latency, allocs) in default {
        let _ = writeln!(
            out,
            "| {label} | {} | {} | {allocs:.0} |",
            time(latency.p50),
            time(latency.p99)
        );
    }
    let samples: usize = rows.iter().map(|row| row.native.samples + row.raw.samples).sum();
    let _ = writeln!(out, "\n{samples} timed calls in all.");
}

/// A log-log plot of tier-2 p50 against N for the `path` family, one line per engine.
fn plot(rows: &[Row]) -> String {
    let (width, height, left, right, top, bottom) = (720.0, 440.0, 70.0, 150.0, 30.0, 50.0);
    let (x0, x1) = (1.0_f64, 4.0_f64); // log10 N from 10 to 10,000
    let (y0, y1) = (1.0_f64, 8.0_f64); // log10 ns from 10 ns to 100 ms
    let x = |n: f64| left + (n.log10() - x0) / (x1 - x0) * (width - left - right);
    let y =
        |ns: f64| top + (1.0 - (ns.max(10.0).log10() - y0) / (y1 - y0)) * (height - top - bottom);
    let colours = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e"];
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="18" text-anchor="middle" font-size="14">path workload: one call from raw JSON (tier 2), median per call</text>"#,
        (width - right + left) / 2.0
    );
    for decade in 1..=8 {
        let ns = 10f64.powi(decade);
        let label = ["", "10 ns", "100 ns", "1 µs", "10 µs", "100 µs", "1 ms", "10 ms", "100 ms"]
            .get(usize::try_from(decade).unwrap_or(0))
            .copied()
            .unwrap_or("");
        let _ = writeln!(
            svg,
            r##"<line x1="{left}" x2="{}" y1="{y}" y2="{y}" stroke="#ddd"/><text x="{}" y="{}" text-anchor="end">{label}</text>"##,
            width - right,
            left - 6.0,
            y(ns) + 4.0,
            y = y(ns)
        );
    }
    for n in [10.0, 100.0, 1_000.0, 10_000.0] {
        let _ = writeln!(
            svg,
            r##"<line x1="{x}" x2="{x}" y1="{top}" y2="{}" stroke="#ddd"/><text x="{x}" y="{}" text-anchor="middle">{n}</text>"##,
            height - bottom,
            height - bottom + 18.0,
            x = x(n)
        );
    }
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle">rules (N)</text>"#,
        (width - right + left) / 2.0,
        height - 12.0
    );
    for (index, kind) in Kind::ALL.into_iter().enumerate() {
        let colour = colours.get(index).copied().unwrap_or("black");
        let points: Vec<(f64, f64)> = rows
            .iter()
            .filter(|row| row.family == Family::Path && row.kind == kind)
            // An engine that refused the policy has no point there.
            .filter(|row| row.raw.p50.is_finite())
            .map(|row| {
                #[expect(clippy::cast_precision_loss, reason = "rule counts far below 2^52")]
                let n = row.n as f64;
                (x(n), y(row.raw.p50))
            })
            .collect();
        if points.is_empty() {
            continue;
        }
        let path: Vec<String> = points.iter().map(|(px, py)| format!("{px:.1},{py:.1}")).collect();
        let _ = writeln!(
            svg,
            r#"<polyline fill="none" stroke="{colour}" stroke-width="2" points="{}"/>"#,
            path.join(" ")
        );
        for (px, py) in &points {
            let _ = writeln!(svg, r#"<circle cx="{px:.1}" cy="{py:.1}" r="3" fill="{colour}"/>"#);
        }
        #[expect(clippy::cast_precision_loss, reason = "a legend row index")]
        let legend_y = top + 20.0 + 20.0 * index as f64;
        let _ = writeln!(
            svg,
            r#"<line x1="{}" x2="{}" y1="{legend_y}" y2="{legend_y}" stroke="{colour}" stroke-width="2"/><text x="{}" y="{}">{}</text>"#,
            width - right + 10.0,
            width - right + 30.0,
            width - right + 36.0,
            legend_y + 4.0,
            kind.name()
        );
    }
    svg.push_str("</svg>\n");
    svg
}

fn main() -> ExitCode {
    let options = match options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(64);
        }
    };
    // The peers' parsers recurse over a 10,000-clause policy; give them a deep stack.
    let worker = std::thread::Builder::new().stack_size(1 << 30).spawn(move || run(&options));
    match worker.map(std::thread::JoinHandle::join) {
        Ok(Ok(Ok(report))) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Ok(Ok(Err(message))) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
        _ => {
            eprintln!("error: the benchmark thread failed");
            ExitCode::FAILURE
        }
    }
}
