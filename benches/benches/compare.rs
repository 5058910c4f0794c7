//! Criterion medians for mcppol against cedar-policy, regorus (interpreter and RVM) and cel, on
//! every workload family at N = 10 … 10,000 rules, in three tiers kept apart:
//!
//! - `t1/<family>/<engine>/<N>`: one decision from a pre-built native request;
//! - `t2/<family>/<engine>/<N>`: one decision from the raw `tools/call` body bytes;
//! - `t3/<family>/<engine>/<N>`: cold load (mcppol: load + verify; peers: parse + compile).
//!
//! All engines run in this one binary, so ratios come from one run on one machine. Before any
//! timing, every engine must decide every call of the workload's corpus as expected.
//!
//! Filter with criterion's usual argument, e.g. `cargo bench -p mcppol-benches --bench compare
//! -- t2/path`. `MCPPOL_BENCH_PEER_MAX_N` (default 1000) caps the rule count at which the peers
//! run here: at 10,000 rules one peer decision takes tens of milliseconds, and the summary
//! bench measures them there instead.

#[allow(dead_code, reason = "each bench binary uses a different part of the shared code")]
mod common;

use common::engines::{self, Kind};
use common::workload::{Family, SIZES, Workload};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use std::time::Duration;

fn peer_max_n() -> usize {
    std::env::var("MCPPOL_BENCH_PEER_MAX_N").ok().and_then(|n| n.parse().ok()).unwrap_or(1_000)
}

#[expect(clippy::panic, reason = "criterion's bench functions cannot return errors")]
fn fail(message: &str) -> ! {
    panic!("{message}")
}

fn compare(c: &mut Criterion) {
    let peer_max_n = peer_max_n();
    for family in Family::ALL {
        for n in SIZES {
            let workload = Workload::new(family, n);
            let artifact = engines::mcppol_compile(&workload).unwrap_or_else(|error| fail(&error));
            for kind in Kind::ALL {
                if kind != Kind::Mcppol && n > peer_max_n {
                    continue;
                }
                let id = |tier: &str| format!("{tier}/{}/{}", family.name(), kind.name());
                let mut engine = match engines::build(kind, &workload) {
                    Ok(engine) => engine,
                    // A peer that cannot load the policy (regorus's RVM caps programs at
                    // 65,535 instructions) has no time to measure; the summary reports it.
                    Err(reason) if kind != Kind::Mcppol => {
                        eprintln!("{}: {} refused the policy: {reason}", id("t1"), n);
                        continue;
                    }
                    Err(reason) => fail(&reason),
                };
                engines::check_agreement(kind, engine.as_mut(), &workload)
                    .unwrap_or_else(|error| fail(&error));
                c.bench_with_input(BenchmarkId::new(id("t1"), n), &0, |b, &call| {
                    b.iter(|| engine.eval_native(call).unwrap_or_else(|e| fail(&e)));
                });
                c.bench_with_input(BenchmarkId::new(id("t2"), n), &0, |b, &call| {
                    b.iter(|| engine.eval_raw(call).unwrap_or_else(|e| fail(&e)));
                });
                c.bench_with_input(BenchmarkId::new(id("t3"), n), &artifact, |b, artifact| {
                    b.iter_custom(|iterations| {
                        (0..iterations)
                            .map(|_| {
                                engines::cold_load(kind, &workload, artifact)
                                    .unwrap_or_else(|e| fail(&e))
                            })
                            .sum()
                    });
                });
            }
        }
    }
}

criterion_group! {
    name = benches;
    // Short runs: 600 benchmarks on a 2-core machine. Wall-clock noise there (±40% seen in
    // peers.md) dwarfs what longer sampling would remove; the summary bench reports tails.
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(200))
        .measurement_time(Duration::from_millis(500));
    targets = compare
}
criterion_main!(benches);
