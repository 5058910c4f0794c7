//! The audit record: what a gateway hands the sink on the hot path ([`Record`]), and the event
//! the log keeps ([`AuditEvent`]): the record with its arguments reduced as the policy allows,
//! an id, a time, and its place in the hash chain.

use crate::canonical::{self, hex};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::fmt;

use super::Timestamp;

/// The chain's `prev_hash` before the first event of a log: 32 zero bytes in hex.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What an event records. Decisions today; approval state changes share the log (and the
/// chain) so an auditor reads one ordered history per call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum EventKind {
    /// A policy decision on a call.
    #[serde(rename = "decision")]
    Decision,
    /// An approval was requested for a `require_approval` decision.
    #[serde(rename = "approval.created")]
    ApprovalCreated,
    /// A human approved.
    #[serde(rename = "approval.approved")]
    ApprovalApproved,
    /// A human denied.
    #[serde(rename = "approval.denied")]
    ApprovalDenied,
    /// The approved call was made (an approval is single-use).
    #[serde(rename = "approval.consumed")]
    ApprovalConsumed,
    /// Nobody decided in time.
    #[serde(rename = "approval.expired")]
    ApprovalExpired,
}

impl EventKind {
    /// The stable name, as stored.
    pub const fn as_str(self) -> &'static str {
        match self {
            EventKind::Decision => "decision",
            EventKind::ApprovalCreated => "approval.created",
            EventKind::ApprovalApproved => "approval.approved",
            EventKind::ApprovalDenied => "approval.denied",
            EventKind::ApprovalConsumed => "approval.consumed",
            EventKind::ApprovalExpired => "approval.expired",
        }
    }

    /// The kind named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        [
            EventKind::Decision,
            EventKind::ApprovalCreated,
            EventKind::ApprovalApproved,
            EventKind::ApprovalDenied,
            EventKind::ApprovalConsumed,
            EventKind::ApprovalExpired,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == name)
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How much of a call's arguments the log may keep.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum ArgsPolicy {
    /// Nothing, not even a digest (a digest of low-entropy arguments can be brute-forced).
    None,
    /// Only the digest of the canonical arguments.
    #[default]
    Digest,
    /// The digest, and the arguments with these members replaced by `"[REDACTED]"`. A name is
    /// a dotted path into nested objects (`auth.token`).
    Redacted(Vec<String>),
    /// The digest and the full canonical arguments (what `mcppol audit export` can replay).
    Full,
}

impl ArgsPolicy {
    /// Parses `none`, `digest`, `full` or `redacted:NAME[,NAME…]`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "none" => Some(ArgsPolicy::None),
            "digest" => Some(ArgsPolicy::Digest),
            "full" => Some(ArgsPolicy::Full),
            other => {
                let names = other.strip_prefix("redacted:")?;
                let names: Vec<String> = names.split(',').map(str::to_owned).collect();
                (!names.iter().any(String::is_empty)).then_some(ArgsPolicy::Redacted(names))
            }
        }
    }

    /// The mode name stored in each event.
    pub const fn mode(&self) -> &'static str {
        match self {
            ArgsPolicy::None => "none",
            ArgsPolicy::Digest => "digest",
            ArgsPolicy::Redacted(_) => "redacted",
            ArgsPolicy::Full => "full",
        }
    }
}

/// The replacement for a redacted member.
pub const REDACTED: &str = "[REDACTED]";

/// What a gateway knows when it decides: handed to [`super::AuditSink::record`] on the hot path.
/// The sink adds the id and time; its writer thread reduces the arguments and chains the event,
/// so the hot path neither parses nor hashes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// What happened.
    pub kind: EventKind,
    /// The policy's SHA-256 content hash (`Program::content_hash`).
    pub policy_hash: [u8; 32],
    /// The MCP method (`tools/call`).
    pub method: String,
    /// The upstream server.
    pub server: String,
    /// The tool.
    pub tool: String,
    /// The principal id.
    pub principal: String,
    /// The principal's roles (recorded because they decide, and replay needs them).
    pub roles: Vec<String>,
    /// `allow`, `deny` or `require_approval`.
    pub decision: String,
    /// The rule that decided, if one did.
    pub rule: Option<String>,
    /// The stable reason code.
    pub code: String,
    /// The human reason.
    pub reason: String,
    /// `low`, `medium`, `high` or `critical`.
    pub risk: String,
    /// How long evaluation took, in nanoseconds.
    pub latency_ns: u64,
    /// The approval this event belongs to, if any.
    pub approval_id: Option<String>,
    /// The raw bytes of the call's arguments, exactly as the runtime saw them.
    pub args: Vec<u8>,
}

/// One event of an audit log. Every field is always present (absent values are `null`), so
/// the canonical form, and therefore the hash, has one shape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditEvent {
    /// A UUIDv7: unique, and ordered by time of creation.
    pub id: String,
    /// The log (hash chain) this event belongs to.
    pub log: String,
    /// The 1-based position in the log; 0 until the writer chains the event.
    pub seq: u64,
    /// When the gateway recorded the decision.
    pub ts: Timestamp,
    /// What happened.
    pub kind: EventKind,
    /// The policy content hash, lowercase hex.
    pub policy_hash: String,
    /// The MCP method.
    pub method: String,
    /// The upstream server.
    pub server: String,
    /// The tool.
    pub tool: String,
    /// The principal id.
    pub principal: String,
    /// The principal's roles.
    pub roles: Vec<String>,
    /// `allow`, `deny` or `require_approval`.
    pub decision: String,
    /// The rule that decided.
    pub rule: Option<String>,
    /// The stable reason code.
    pub code: String,
    /// The human reason.
    pub reason: String,
    /// The risk level.
    pub risk: String,
    /// Evaluation latency in nanoseconds.
    pub latency_ns: u64,
    /// The approval this event belongs to.
    pub approval_id: Option<String>,
    /// How the arguments were kept: `none`, `digest`, `redacted`, `full`; for argument bytes
    /// that are not strict JSON, `raw` (full mode: the text kept verbatim as a JSON string) or
    /// `invalid` (only the digest of the bytes).
    pub args_mode: String,
    /// `sha256:HEX` of the canonical arguments, or `sha256-raw:HEX` of the raw bytes when they
    /// have no canonical form; `null` in mode `none`.
    pub args_digest: Option<String>,
    /// The arguments as the mode allows (`redacted` or `full`), in canonical form.
    pub args: Option<Value>,
    /// The previous event's `hash` in this log ([`GENESIS_HASH`] for the first).
    pub prev_hash: String,
    /// SHA-256 over the previous hash and this event's canonical form (see [`chain_hash`]).
    pub hash: String,
}

/// Text columns of a database cannot hold NUL; a NUL would make the store refuse the event for
/// ever. It is replaced before the event is chained, so what is hashed is what is stored.
fn storable(text: String) -> String {
    if text.contains('\0') { text.replace('\0', "\u{fffd}") } else { text }
}

impl AuditEvent {
    /// The event for `record`, not yet chained (`seq` 0, empty hashes): arguments reduced as
    /// `policy` allows.
    pub fn from_record(record: Record, id: String, ts: Timestamp, policy: &ArgsPolicy) -> Self {
        let (args_mode, args_digest, args) = reduce_args(&record.args, policy);
        AuditEvent {
            id,
            log: String::new(),
            seq: 0,
            ts,
            kind: record.kind,
            policy_hash: hex(&record.policy_hash),
            method: storable(record.method),
            server: storable(record.server),
            tool: storable(record.tool),
            principal: storable(record.principal),
            roles: record.roles.into_iter().map(storable).collect(),
            decision: storable(record.decision),
            rule: record.rule.map(storable),
            code: storable(record.code),
            reason: storable(record.reason),
            risk: storable(record.risk),
            latency_ns: record.latency_ns,
            approval_id: record.approval_id.map(storable),
            args_mode: args_mode.to_owned(),
            args_digest,
            args,
            prev_hash: String::new(),
            hash: String::new(),
        }
    }

    /// Places the event after `prev` in `log`.
    pub fn seal(&mut self, log: &str, seq: u64, prev_hash: &str) {
        log.clone_into(&mut self.log);
        self.seq = seq;
        prev_hash.clone_into(&mut self.prev_hash);
        self.hash = chain_hash(self);
    }

    /// The event's canonical form without its `hash` member: the bytes the chain hashes.
    pub fn canonical_body(&self) -> String {
        let mut value = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Value::Object(members) = &mut value {
            members.remove("hash");
        }
        canonical::to_canonical(&value)
    }
}

/// `hash_n = SHA-256(bytes(prev_hash_n) || canonical(event_n without "hash"))`, lowercase hex;
/// `bytes(prev_hash)` is the 32 bytes the previous hash's hex spells (zeros for the first
/// event). A `prev_hash` that is not 64 hex digits hashes as its text, so it can never match.
pub fn chain_hash(event: &AuditEvent) -> String {
    let mut hasher = Sha256::new();
    match decode_hex32(&event.prev_hash) {
        Some(bytes) => hasher.update(bytes),
        None => hasher.update(event.prev_hash.as_bytes()),
    }
    hasher.update(event.canonical_body().as_bytes());
    hex(&hasher.finalize())
}

fn decode_hex32(text: &str) -> Option<[u8; 32]> {
    let digits = text.as_bytes();
    if digits.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        let high = char::from(*pair.first()?).to_digit(16)?;
        let low = char::from(*pair.get(1)?).to_digit(16)?;
        // Lowercase only: one spelling per hash.
        if pair.iter().any(u8::is_ascii_uppercase) {
            return None;
        }
        *byte = u8::try_from(high * 16 + low).ok()?;
    }
    Some(out)
}

fn reduce_args(raw: &[u8], policy: &ArgsPolicy) -> (&'static str, Option<String>, Option<Value>) {
    if *policy == ArgsPolicy::None {
        return ("none", None, None);
    }
    let Ok(value) = canonical::parse_strict(raw) else {
        // No canonical form (duplicate member, bad UTF-8, not JSON): digest the exact bytes, so
        // the event still identifies the call without guessing its meaning. In full mode keep
        // the text verbatim too: such calls are the attacks an auditor wants to replay.
        let digest = Some(format!("sha256-raw:{}", hex(&Sha256::digest(raw))));
        return match (policy, std::str::from_utf8(raw)) {
            (ArgsPolicy::Full, Ok(text)) => ("raw", digest, Some(Value::String(text.to_owned()))),
            _ => ("invalid", digest, None),
        };
    };
    // Re-read the canonical text so the kept value is exactly what any reader will parse back
    // (integers beyond 2^53 round as RFC 8785 says).
    let value =
        canonical::parse_strict(canonical::to_canonical(&value).as_bytes()).unwrap_or(value);
    let digest = Some(canonical::digest(&value));
    match policy {
        ArgsPolicy::None | ArgsPolicy::Digest => (policy.mode(), digest, None),
        ArgsPolicy::Full => ("full", digest, Some(value)),
        ArgsPolicy::Redacted(names) => {
            let mut value = value;
            for name in names {
                redact(&mut value, name);
            }
            ("redacted", digest, Some(value))
        }
    }
}

fn redact(value: &mut Value, path: &str) {
    let (head, rest) = match path.split_once('.') {
        Some((head, rest)) => (head, Some(rest)),
        None => (path, None),
    };
    let Value::Object(members) = value else { return };
    let Some(member) = members.get_mut(head) else { return };
    match rest {
        None => *member = Value::String(REDACTED.to_owned()),
        Some(rest) => redact(member, rest),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn record(args: &str) -> Record {
        Record {
            kind: EventKind::Decision,
            policy_hash: [7; 32],
            method: "tools/call".into(),
            server: "files".into(),
            tool: "fs.read".into(),
            principal: "ana".into(),
            roles: vec!["dev".into()],
            decision: "deny".into(),
            rule: Some("no-etc".into()),
            code: "policy.rule".into(),
            reason: "no".into(),
            risk: "high".into(),
            latency_ns: 1200,
            approval_id: None,
            args: args.as_bytes().to_vec(),
        }
    }

    fn event(args: &str, policy: &ArgsPolicy) -> AuditEvent {
        AuditEvent::from_record(record(args), "id".into(), Timestamp(0), policy)
    }

    #[test]
    fn args_are_kept_only_as_the_policy_allows() {
        let args = r#"{"path":"/etc/passwd","auth":{"token":"s3cret","user":"u"}}"#;
        let none = event(args, &ArgsPolicy::None);
        assert_eq!((none.args_mode.as_str(), none.args_digest, none.args), ("none", None, None));
        let digest = event(args, &ArgsPolicy::Digest);
        assert_eq!(digest.args, None);
        let expected = canonical::digest(&canonical::parse_strict(args.as_bytes()).unwrap());
        assert_eq!(digest.args_digest.as_deref(), Some(expected.as_str()));
        let redacted = event(args, &ArgsPolicy::parse("redacted:auth.token,nope").unwrap());
        assert_eq!(
            canonical::to_canonical(redacted.args.as_ref().unwrap()),
            r#"{"auth":{"token":"[REDACTED]","user":"u"},"path":"/etc/passwd"}"#
        );
        assert_eq!(redacted.args_digest, digest.args_digest, "the digest is of the full call");
        let full = event(args, &ArgsPolicy::Full);
        assert_eq!(full.args, Some(canonical::parse_strict(args.as_bytes()).unwrap()));
        let raw = event(r#"{"a":1,"a":2}"#, &ArgsPolicy::Full);
        assert_eq!(raw.args_mode, "raw");
        assert!(raw.args_digest.unwrap().starts_with("sha256-raw:"));
        assert_eq!(raw.args, Some(Value::String(r#"{"a":1,"a":2}"#.into())));
        let invalid = event(r#"{"a":1,"a":2}"#, &ArgsPolicy::parse("redacted:a").unwrap());
        assert_eq!((invalid.args_mode.as_str(), invalid.args), ("invalid", None));
        let bytes = event("\"\u{fffd}\"", &ArgsPolicy::Full);
        assert_eq!(bytes.args_mode, "full");
    }

    #[test]
    fn the_chain_hash_covers_every_field_and_the_previous_hash() {
        let mut first = event("{}", &ArgsPolicy::Full);
        first.seal("main", 1, GENESIS_HASH);
        let mut expected = Sha256::new();
        expected.update([0u8; 32]);
        expected.update(first.canonical_body().as_bytes());
        assert_eq!(first.hash, hex(&expected.finalize()));
        assert!(first.canonical_body().starts_with(r#"{"approval_id":null,"args":{},"#));
        assert!(!first.canonical_body().contains("\"hash\""));
        let mut edited = first.clone();
        edited.decision = "allow".into();
        assert_ne!(chain_hash(&edited), first.hash);
        let mut second = event("{}", &ArgsPolicy::Full);
        second.seal("main", 2, &first.hash);
        let mut other = second.clone();
        other.seal("main", 2, GENESIS_HASH);
        assert_ne!(second.hash, other.hash);
    }

    #[test]
    fn nul_never_reaches_a_text_column() {
        let mut record = record("{}");
        record.tool = "a\0b".into();
        let event = AuditEvent::from_record(record, "id".into(), Timestamp(0), &ArgsPolicy::Digest);
        assert_eq!(event.tool, "a\u{fffd}b");
    }
}
