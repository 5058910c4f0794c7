//! Every limit the runtime enforces, in one place. The compiler refuses to emit an artifact
//! that exceeds one, and the verifier refuses to load one; request-side limits make the
//! evaluation deny with a coded reason. `docs/limits.md` tabulates every limit with where each
//! side enforces it; `tests/it/limits.rs` tests each at the limit and one past it.

pub use crate::json::{
    ARGS_BYTES_MAX, JSON_DEPTH_MAX, JSON_VALUES_MAX, KEY_BYTES_MAX, OBJECT_KEYS_MAX,
};

/// Largest artifact the runtime loads (64 MiB).
pub const ARTIFACT_BYTES_MAX: usize = 64 << 20;
/// Most DAG nodes in one artifact; also the bound on evaluation steps. `ARTIFACT_BYTES_MAX`
/// binds first: this many 16-byte nodes alone fill it.
pub const NODE_COUNT_MAX: usize = 1 << 22;
/// Most predicates in one artifact. As for nodes, `ARTIFACT_BYTES_MAX` binds first.
pub const PREDICATE_COUNT_MAX: usize = 1 << 22;
/// Most rules in one artifact.
pub const RULE_COUNT_MAX: usize = 1 << 20;
/// Most outcomes in one artifact.
pub const OUTCOME_COUNT_MAX: usize = 1 << 21;
/// Most distinct tool names in the dispatch table.
pub const TOOL_COUNT_MAX: usize = 1 << 20;
/// Most buckets one tool lookup looks at (format 1.3's `max_probe`): the bound on the work of
/// finding a tool's entry, whatever the name. The compiler's index usually needs far fewer.
pub const TOOL_PROBES_MAX: usize = 16;
/// Most strings in one artifact.
pub const STRING_COUNT_MAX: usize = 1 << 22;
/// Most string sets in one artifact.
pub const SET_COUNT_MAX: usize = 1 << 20;
/// Most DFAs in one artifact.
pub const DFA_COUNT_MAX: usize = 1 << 16;
/// Longest string in the artifact, and longest argument string the evaluator unescapes or
/// normalises (32 KiB). A longer argument that a rule must inspect denies with
/// `limit.string_too_long`.
pub const STRING_BYTES_MAX: usize = 32 << 10;

const _: () = assert!(NODE_COUNT_MAX < u32::MAX as usize);
const _: () = assert!(ARTIFACT_BYTES_MAX < u32::MAX as usize);
const _: () = assert!(STRING_BYTES_MAX <= ARGS_BYTES_MAX);
