//! The engines under comparison, each behind one interface: load a workload, then decide a call
//! of its corpus either from a pre-built native request (tier 1) or from the raw `tools/call`
//! JSON-RPC body a proxy holds (tier 2, each engine's own conversion included).
//!
//! Tier 2 for the peers starts with an allocation-free strict parse of the envelope (`method`,
//! `params.name`, and `params.arguments` as raw bytes), see [`envelope`]; they then build their
//! native request from the argument bytes, which is part of what they cost a proxy. mcppol has
//! an entry point for exactly this, `Program::evaluate_call`, which scans the body once (as
//! strictly as [`envelope`], duplicate keys included) and evaluates on that scan, so its tier 2
//! uses it; the peers have no such entry point, so they keep the shared helper.

use crate::common::workload::{Call, Workload};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A failure while loading or deciding; the benchmark stops with it.
pub type Error = String;

/// The engines, in report order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// mcppol: compiled artifact, verified once, evaluated by the runtime.
    Mcppol,
    /// cedar-policy 4.14.1.
    Cedar,
    /// regorus 0.14.1, tree-walking interpreter.
    RegoInterp,
    /// regorus 0.14.1, RVM bytecode VM.
    RegoVm,
    /// cel 0.15.0 (cel-rust), interpreter over the parsed expression.
    Cel,
}

impl Kind {
    /// Every engine, mcppol first.
    pub const ALL: [Kind; 5] =
        [Kind::Mcppol, Kind::Cedar, Kind::RegoInterp, Kind::RegoVm, Kind::Cel];

    /// The short name used in benchmark ids and tables.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Mcppol => "mcppol",
            Kind::Cedar => "cedar",
            Kind::RegoInterp => "rego-interp",
            Kind::RegoVm => "rego-vm",
            Kind::Cel => "cel",
        }
    }
}

/// A loaded workload, ready to decide any call of its corpus.
pub trait Engine {
    /// Tier 1: decides call `index` from its pre-built native request. `true` is allow.
    fn eval_native(&mut self, index: usize) -> Result<bool, Error>;
    /// Tier 2: decides call `index` from its raw JSON-RPC body bytes.
    fn eval_raw(&mut self, index: usize) -> Result<bool, Error>;
}

/// The parts of a `tools/call` body a policy needs, borrowed from the body.
#[derive(Clone, Copy, Debug)]
pub struct Envelope<'a> {
    /// The JSON-RPC method.
    pub method: &'a str,
    /// `params.name`: the tool.
    pub name: &'a str,
    /// `params.arguments`, the raw bytes of the object, unparsed.
    pub arguments: &'a [u8],
}

/// A JSON tape for [`envelope`], allocated once per engine.
pub type EnvelopeTape = Box<[mcppol_runtime::json::Entry; mcppol_runtime::json::JSON_VALUES_MAX]>;

/// A fresh [`EnvelopeTape`].
pub fn envelope_tape() -> EnvelopeTape {
    Box::new([mcppol_runtime::json::Entry::EMPTY; mcppol_runtime::json::JSON_VALUES_MAX])
}

/// Splits a `tools/call` body into its envelope, without allocating, with the runtime's strict
/// JSON scanner (so a duplicate `name` or `arguments` key is refused, as a gateway must: two
/// parsers could pick different ones). The same helper serves every engine. It measured
/// faster than a borrowed serde_json parse of the same envelope (about 230 ns on this machine
/// for the path workload's 110-byte body, most of tier 2's cost).
///
/// # Errors
///
/// When the body is not a JSON object with a string `method` and `params.name` without escapes
/// and an object `params.arguments`.
pub fn envelope<'a>(body: &'a [u8], tape: &mut EnvelopeTape) -> Result<Envelope<'a>, Error> {
    let tape = mcppol_runtime::json::parse(body, &mut tape[..])
        .map_err(|error| format!("bad envelope: {}", error.code()))?;
    let root = tape.root();
    // The tape's slices borrow the tape; re-borrow the same bytes from `body` by position.
    let rebase = |part: &[u8]| -> Result<&'a [u8], Error> {
        let start = (part.as_ptr() as usize).wrapping_sub(body.as_ptr() as usize);
        body.get(start..start.saturating_add(part.len()))
            .ok_or_else(|| "bad envelope: span".to_owned())
    };
    let plain = |value: Option<mcppol_runtime::json::Value<'_>>| -> Result<&'a str, Error> {
        let string = value.and_then(|value| value.string()).ok_or("bad envelope: not a string")?;
        if string.raw().contains(&b'\\') {
            return Err("bad envelope: escaped name".to_owned());
        }
        std::str::from_utf8(rebase(string.raw())?).map_err(|e| e.to_string())
    };
    let params = root.get(b"params").ok_or("bad envelope: no params")?;
    let arguments = params.get(b"arguments").ok_or("bad envelope: no arguments")?;
    Ok(Envelope {
        method: plain(root.get(b"method"))?,
        name: plain(params.get(b"name"))?,
        arguments: rebase(arguments.raw())?,
    })
}

/// Builds `kind`'s engine for `workload`: compile or parse the policy, prepare the corpus.
///
/// # Errors
///
/// When the engine rejects the generated policy or a request.
pub fn build(kind: Kind, workload: &Workload) -> Result<Box<dyn Engine>, Error> {
    // Leaked on purpose: the engines borrow the corpus for the life of the benchmark process.
    let calls: &'static [Call] = Vec::leak(workload.calls.clone());
    Ok(match kind {
        Kind::Mcppol => Box::new(Mcppol::new(workload, calls)?),
        Kind::Cedar => Box::new(Cedar::new(workload, calls)?),
        Kind::RegoInterp => Box::new(RegoInterp::new(workload, calls)?),
        Kind::RegoVm => Box::new(RegoVm::new(workload, calls)?),
        Kind::Cel => Box::new(Cel::new(workload, calls)?),
    })
}

/// Tier 3: the time to get from policy text to something that can decide, once. For mcppol
/// that is load + verify of the compiled artifact (compilation happens in CI, not in the
/// gateway; it is reported separately); for the peers it is parse + compile of the text.
///
/// # Errors
///
/// When the engine rejects the policy.
pub fn cold_load(kind: Kind, workload: &Workload, artifact: &[u8]) -> Result<Duration, Error> {
    Ok(match kind {
        Kind::Mcppol => {
            let start = Instant::now();
            let program = mcppol_runtime::Program::from_bytes(black_box(artifact));
            let elapsed = start.elapsed();
            program.map_err(|error| error.to_string())?;
            elapsed
        }
        Kind::Cedar => {
            let text = workload.cedar();
            let start = Instant::now();
            let policies = cedar_policy::PolicySet::from_str(black_box(&text));
            let elapsed = start.elapsed();
            policies.map_err(|error| error.to_string())?;
            elapsed
        }
        Kind::RegoInterp => {
            let text = workload.rego();
            let start = Instant::now();
            let compiled = rego_compile(black_box(&text));
            let elapsed = start.elapsed();
            compiled?;
            elapsed
        }
        Kind::RegoVm => {
            let text = workload.rego();
            let start = Instant::now();
            let program =
                rego_compile(black_box(&text)).and_then(|compiled| rvm_program(&compiled));
            let elapsed = start.elapsed();
            program?;
            elapsed
        }
        Kind::Cel => {
            let text = workload.cel();
            let start = Instant::now();
            let program = cel::Program::compile(black_box(&text));
            let elapsed = start.elapsed();
            program.map_err(|error| error.to_string())?;
            elapsed
        }
    })
}

/// Checks that every engine decides every call of `workload`'s corpus as expected, in both
/// tiers. A benchmark of a wrong answer is worse than none.
///
/// # Errors
///
/// Names the engine, tier and call that disagreed.
pub fn check_agreement(
    kind: Kind,
    engine: &mut dyn Engine,
    workload: &Workload,
) -> Result<(), Error> {
    for (index, call) in workload.calls.iter().enumerate() {
        let native = engine.eval_native(index)?;
        let raw = engine.eval_raw(index)?;
        if native != call.allow || raw != call.allow {
            return Err(format!(
                "{} on {}: call {index} ({} {} roles {:?}) expected allow={}, got native={native} raw={raw}",
                kind.name(),
                workload.label(),
                call.tool,
                call.args,
                call.roles,
                call.allow
            ));
        }
    }
    Ok(())
}

/// The roles of each call, as the `&[&str]` a gateway's authentication layer hands over.
fn role_slices(calls: &'static [Call]) -> Vec<Vec<&'static str>> {
    calls.iter().map(|call| call.roles.iter().map(String::as_str).collect()).collect()
}

// ---------------------------------------------------------------------------------------------
// mcppol

struct Mcppol {
    program: mcppol_runtime::Program<'static>,
    scratch: Box<mcppol_runtime::Scratch>,
    calls: &'static [Call],
    roles: &'static [Vec<&'static str>],
}

/// Compiles `workload`'s YAML to verified artifact bytes.
///
/// # Errors
///
/// The compiler's diagnostics, rendered.
pub fn mcppol_compile(workload: &Workload) -> Result<Vec<u8>, Error> {
    let yaml = workload.mcppol_yaml();
    mcppol_compiler::compile(&yaml, "bench.yaml").map(|compiled| compiled.bytes).map_err(
        |diagnostics| {
            diagnostics.iter().map(|d| format!("{} {}: {}", d.code, d.line, d.message)).collect()
        },
    )
}

impl Mcppol {
    fn new(workload: &Workload, calls: &'static [Call]) -> Result<Mcppol, Error> {
        let bytes: &'static [u8] = Vec::leak(mcppol_compile(workload)?);
        let program = mcppol_runtime::Program::from_bytes(bytes).map_err(|e| e.to_string())?;
        Ok(Mcppol {
            program,
            scratch: Box::new(mcppol_runtime::Scratch::new()),
            calls,
            roles: Vec::leak(role_slices(calls)),
        })
    }
}

/// One mcppol decision: `true` is allow.
fn decide(
    program: &mcppol_runtime::Program<'_>,
    scratch: &mut mcppol_runtime::Scratch,
    tool: &str,
    roles: &[&str],
    args: &[u8],
) -> bool {
    let request = mcppol_runtime::Request {
        method: "tools/call",
        server: "",
        tool,
        principal_id: "agent-1",
        principal_roles: roles,
        args,
    };
    program.evaluate(&request, scratch).effect == mcppol_runtime::Effect::Allow
}

impl Engine for Mcppol {
    fn eval_native(&mut self, index: usize) -> Result<bool, Error> {
        let call = self.calls.get(index).ok_or("no such call")?;
        let roles = self.roles.get(index).ok_or("no such call")?;
        let (tool, args) = (black_box(call.tool.as_str()), black_box(call.args.as_bytes()));
        Ok(decide(&self.program, &mut self.scratch, tool, roles, args))
    }

    fn eval_raw(&mut self, index: usize) -> Result<bool, Error> {
        let call = self.calls.get(index).ok_or("no such call")?;
        let roles = self.roles.get(index).ok_or("no such call")?;
        // The body as the proxy received it: one strict scan, method, name and arguments
        // taken from it, then the evaluation (see the module docs).
        let caller =
            mcppol_runtime::Caller { server: "", principal_id: "agent-1", principal_roles: roles };
        let decision =
            self.program.evaluate_call(black_box(call.body.as_bytes()), &caller, &mut self.scratch);
        Ok(decision.effect == mcppol_runtime::Effect::Allow)
    }
}

// ---------------------------------------------------------------------------------------------
// Cedar

struct Cedar {
    authorizer: cedar_policy::Authorizer,
    policies: cedar_policy::PolicySet,
    native: Vec<(cedar_policy::Request, cedar_policy::Entities)>,
    principal: cedar_policy::EntityUid,
    action: cedar_policy::EntityUid,
    calls: &'static [Call],
    tape: EnvelopeTape,
}

fn cedar_uid(kind: &str, id: &str) -> Result<cedar_policy::EntityUid, Error> {
    let type_name = cedar_policy::EntityTypeName::from_str(kind).map_err(|e| e.to_string())?;
    Ok(cedar_policy::EntityUid::from_type_name_and_id(type_name, cedar_policy::EntityId::new(id)))
}

impl Cedar {
    fn new(workload: &Workload, calls: &'static [Call]) -> Result<Cedar, Error> {
        let policies =
            cedar_policy::PolicySet::from_str(&workload.cedar()).map_err(|e| e.to_string())?;
        let principal = cedar_uid("Agent", "agent-1")?;
        let action = cedar_uid("Action", "call")?;
        let mut engine = Cedar {
            authorizer: cedar_policy::Authorizer::new(),
            policies,
            native: Vec::new(),
            principal,
            action,
            calls,
            tape: envelope_tape(),
        };
        for call in calls {
            let args: serde_json::Value =
                serde_json::from_str(&call.args).map_err(|e| e.to_string())?;
            let roles: Vec<&str> = call.roles.iter().map(String::as_str).collect();
            let request = engine.request(&call.tool, args, &roles)?;
            engine.native.push(request);
        }
        Ok(engine)
    }

    fn request(
        &self,
        tool: &str,
        args: serde_json::Value,
        roles: &[&str],
    ) -> Result<(cedar_policy::Request, cedar_policy::Entities), Error> {
        let context =
            cedar_policy::Context::from_json_value(serde_json::json!({ "args": args }), None)
                .map_err(|e| e.to_string())?;
        let request = cedar_policy::Request::new(
            self.principal.clone(),
            self.action.clone(),
            cedar_uid("Tool", tool)?,
            context,
            None,
        )
        .map_err(|e| e.to_string())?;
        let entities = if roles.is_empty() {
            cedar_policy::Entities::empty()
        } else {
            // Cedar's own type is a `HashSet`; only membership is read from it.
            let parents =
                roles.iter().map(|role| cedar_uid("Role", role)).collect::<Result<_, _>>()?;
            let agent = cedar_policy::Entity::new_no_attrs(self.principal.clone(), parents);
            cedar_policy::Entities::from_entities([agent], None).map_err(|e| e.to_string())?
        };
        Ok((request, entities))
    }

    fn authorize(
        &self,
        request: &cedar_policy::Request,
        entities: &cedar_policy::Entities,
    ) -> bool {
        self.authorizer.is_authorized(request, &self.policies, entities).decision()
            == cedar_policy::Decision::Allow
    }
}

impl Engine for Cedar {
    fn eval_native(&mut self, index: usize) -> Result<bool, Error> {
        let (request, entities) = self.native.get(index).ok_or("no such call")?;
        Ok(self.authorize(black_box(request), entities))
    }

    fn eval_raw(&mut self, index: usize) -> Result<bool, Error> {
        let call = self.calls.get(index).ok_or("no such call")?;
        let envelope = envelope(black_box(call.body.as_bytes()), &mut self.tape)?;
        let args: serde_json::Value =
            serde_json::from_slice(envelope.arguments).map_err(|e| e.to_string())?;
        let roles: Vec<&str> = call.roles.iter().map(String::as_str).collect();
        let (request, entities) = self.request(envelope.name, args, &roles)?;
        Ok(self.authorize(&request, &entities))
    }
}

// ---------------------------------------------------------------------------------------------
// Rego (regorus)

const REGO_ENTRY: &str = "data.mcp.allow";

fn rego_compile(text: &str) -> Result<regorus::CompiledPolicy, Error> {
    let mut engine = regorus::Engine::new();
    engine.add_policy("mcp.rego".to_owned(), text.to_owned()).map_err(|e| e.to_string())?;
    engine.compile_with_entrypoint(&REGO_ENTRY.into()).map_err(|e| e.to_string())
}

fn rvm_program(compiled: &regorus::CompiledPolicy) -> Result<Arc<regorus::rvm::Program>, Error> {
    regorus::languages::rego::compiler::Compiler::compile_from_policy(compiled, &[REGO_ENTRY])
        .map_err(|e| e.to_string())
}

/// The Rego input document `{tool, roles, args}`.
fn rego_input(tool: &str, roles: &[String], args: &str) -> Result<regorus::Value, Error> {
    let mut input = BTreeMap::new();
    input.insert(regorus::Value::from("tool"), regorus::Value::from(tool));
    let roles: Vec<regorus::Value> =
        roles.iter().map(|role| regorus::Value::from(role.as_str())).collect();
    input.insert(regorus::Value::from("roles"), regorus::Value::from(roles));
    input.insert(
        regorus::Value::from("args"),
        regorus::Value::from_json_str(args).map_err(|e| e.to_string())?,
    );
    Ok(regorus::Value::from(input))
}

fn rego_native(calls: &'static [Call]) -> Result<Vec<regorus::Value>, Error> {
    calls.iter().map(|call| rego_input(&call.tool, &call.roles, &call.args)).collect()
}

fn rego_raw_input(call: &Call, tape: &mut EnvelopeTape) -> Result<regorus::Value, Error> {
    let envelope = envelope(black_box(call.body.as_bytes()), tape)?;
    let args = std::str::from_utf8(envelope.arguments).map_err(|e| e.to_string())?;
    rego_input(envelope.name, &call.roles, args)
}

struct RegoInterp {
    policy: regorus::CompiledPolicy,
    native: Vec<regorus::Value>,
    calls: &'static [Call],
    allow: regorus::Value,
    tape: EnvelopeTape,
}

impl RegoInterp {
    fn new(workload: &Workload, calls: &'static [Call]) -> Result<RegoInterp, Error> {
        Ok(RegoInterp {
            policy: rego_compile(&workload.rego())?,
            native: rego_native(calls)?,
            calls,
            allow: regorus::Value::from(true),
            tape: envelope_tape(),
        })
    }

    fn decide(&self, input: regorus::Value) -> Result<bool, Error> {
        Ok(self.policy.eval_with_input(input).map_err(|e| e.to_string())? == self.allow)
    }
}

impl Engine for RegoInterp {
    fn eval_native(&mut self, index: usize) -> Result<bool, Error> {
        let input = self.native.get(index).ok_or("no such call")?.clone();
        self.decide(black_box(input))
    }

    fn eval_raw(&mut self, index: usize) -> Result<bool, Error> {
        let call = self.calls.get(index).ok_or("no such call")?;
        let input = rego_raw_input(call, &mut self.tape)?;
        self.decide(input)
    }
}

struct RegoVm {
    vm: regorus::rvm::RegoVM,
    native: Vec<regorus::Value>,
    calls: &'static [Call],
    allow: regorus::Value,
    tape: EnvelopeTape,
}

impl RegoVm {
    fn new(workload: &Workload, calls: &'static [Call]) -> Result<RegoVm, Error> {
        let program = rvm_program(&rego_compile(&workload.rego())?)?;
        let mut vm = regorus::rvm::RegoVM::new();
        vm.load_program(program);
        Ok(RegoVm {
            vm,
            native: rego_native(calls)?,
            calls,
            allow: regorus::Value::from(true),
            tape: envelope_tape(),
        })
    }

    fn decide(&mut self, input: regorus::Value) -> Result<bool, Error> {
        self.vm.set_input(input);
        Ok(self.vm.execute().map_err(|e| e.to_string())? == self.allow)
    }
}

impl Engine for RegoVm {
    fn eval_native(&mut self, index: usize) -> Result<bool, Error> {
        let input = self.native.get(index).ok_or("no such call")?.clone();
        self.decide(black_box(input))
    }

    fn eval_raw(&mut self, index: usize) -> Result<bool, Error> {
        let call = self.calls.get(index).ok_or("no such call")?;
        let input = rego_raw_input(call, &mut self.tape)?;
        self.decide(input)
    }
}

// ---------------------------------------------------------------------------------------------
// CEL

struct Cel {
    program: cel::Program,
    /// The standard library's functions; each call's variables go in a child scope of it, so
    /// no call pays for building the function registry.
    root: &'static cel::Context<'static, 'static>,
    native: Vec<cel::Context<'static, 'static>>,
    calls: &'static [Call],
    tape: EnvelopeTape,
}

fn cel_bind(
    context: &mut cel::Context<'_, '_>,
    tool: &str,
    roles: &[String],
    args: &serde_json::Value,
) -> Result<(), Error> {
    context.add_variable_from_value("tool", tool.to_owned());
    context.add_variable_from_value("roles", roles.to_vec());
    let args = cel::to_value(args).map_err(|e| e.to_string())?;
    context.add_variable_from_value("args", args);
    Ok(())
}

impl Cel {
    fn new(workload: &Workload, calls: &'static [Call]) -> Result<Cel, Error> {
        let program = cel::Program::compile(&workload.cel()).map_err(|e| e.to_string())?;
        let root: &'static cel::Context<'static, 'static> = Box::leak(Box::default());
        let mut native = Vec::new();
        for call in calls {
            let args: serde_json::Value =
                serde_json::from_str(&call.args).map_err(|e| e.to_string())?;
            let mut context = root.new_inner_scope();
            cel_bind(&mut context, &call.tool, &call.roles, &args)?;
            native.push(context);
        }
        Ok(Cel { program, root, native, calls, tape: envelope_tape() })
    }

    fn decide(&self, context: &cel::Context<'_, '_>) -> Result<bool, Error> {
        match self.program.execute(context) {
            Ok(value) => Ok(value == cel::Value::Bool(true)),
            // An error is not an allow; the generated expression guards every field it reads, so
            // an error here means the workload is broken.
            Err(error) => Err(format!("cel: {error}")),
        }
    }
}

impl Engine for Cel {
    fn eval_native(&mut self, index: usize) -> Result<bool, Error> {
        let context = self.native.get(index).ok_or("no such call")?;
        self.decide(black_box(context))
    }

    fn eval_raw(&mut self, index: usize) -> Result<bool, Error> {
        let call = self.calls.get(index).ok_or("no such call")?;
        let envelope = envelope(black_box(call.body.as_bytes()), &mut self.tape)?;
        let args: serde_json::Value =
            serde_json::from_slice(envelope.arguments).map_err(|e| e.to_string())?;
        let mut context = self.root.new_inner_scope();
        cel_bind(&mut context, envelope.name, &call.roles, &args)?;
        self.decide(&context)
    }
}
