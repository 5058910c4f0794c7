//! A request as the fields of its Redis hash: every value a string, absent options absent
//! fields, roles as a JSON array. Flat fields (not one JSON blob) so the scripts can check
//! `state`, `expires_at` and each binding field directly.

use mcppol_adapters_core::approval::{ApprovalError, ApprovalRequest, Binding, ErrorKind, State};
use std::collections::BTreeMap;

/// The hash fields of `request`, as field, value, field, value, ...
pub(crate) fn fields(request: &ApprovalRequest) -> Vec<String> {
    let binding = &request.binding;
    let mut out = vec![
        ("id", request.id.clone()),
        ("state", request.state.as_str().to_owned()),
        ("policy_hash", binding.policy_hash.clone()),
        ("principal", binding.principal.clone()),
        ("server", binding.server.clone()),
        ("tool", binding.tool.clone()),
        ("args_digest", binding.args_digest.clone()),
        ("rule", binding.rule.clone()),
        ("method", request.method.clone()),
        ("roles", serde_json::to_string(&request.roles).unwrap_or_else(|_| "[]".to_owned())),
        ("args", request.args.clone()),
        ("reason", request.reason.clone()),
        ("risk", request.risk.clone()),
        ("created_at", request.created_at.to_string()),
        ("expires_at", request.expires_at.to_string()),
    ];
    let optional = [
        ("decided_at", request.decided_at.map(|ms| ms.to_string())),
        ("decided_by", request.decided_by.clone()),
        ("note", request.note.clone()),
        ("consumed_at", request.consumed_at.map(|ms| ms.to_string())),
        ("expired_at", request.expired_at.map(|ms| ms.to_string())),
    ];
    out.extend(optional.into_iter().filter_map(|(name, value)| Some((name, value?))));
    out.into_iter().flat_map(|(name, value)| [name.to_owned(), value]).collect()
}

/// The request an `HGETALL` reply (field, value, ...) describes.
///
/// # Errors
/// `approval.malformed` when a field is missing or unreadable.
pub(crate) fn parse(flat: &[String]) -> Result<ApprovalRequest, ApprovalError> {
    let map: BTreeMap<&str, &str> = flat
        .chunks_exact(2)
        .filter_map(|pair| Some((pair.first()?.as_str(), pair.get(1)?.as_str())))
        .collect();
    let id = map.get("id").copied().unwrap_or("?");
    let malformed =
        |what: &str| ApprovalError::new(ErrorKind::Malformed, format!("approval `{id}`: {what}"));
    let text = |name: &str| {
        map.get(name)
            .map(|value| (*value).to_owned())
            .ok_or_else(|| malformed(&format!("no `{name}`")))
    };
    let number = |name: &str| -> Result<Option<u64>, ApprovalError> {
        map.get(name)
            .map(|value| value.parse::<u64>().map_err(|_| malformed(&format!("bad `{name}`"))))
            .transpose()
    };
    let required = |name: &str| number(name)?.ok_or_else(|| malformed(&format!("no `{name}`")));
    let state = State::parse(&text("state")?).ok_or_else(|| malformed("bad `state`"))?;
    let roles: Vec<String> =
        serde_json::from_str(&text("roles")?).map_err(|_| malformed("bad `roles`"))?;
    Ok(ApprovalRequest {
        id: text("id")?,
        state,
        binding: Binding {
            policy_hash: text("policy_hash")?,
            principal: text("principal")?,
            server: text("server")?,
            tool: text("tool")?,
            args_digest: text("args_digest")?,
            rule: text("rule")?,
        },
        method: text("method")?,
        roles,
        args: text("args")?,
        reason: text("reason")?,
        risk: text("risk")?,
        created_at: required("created_at")?,
        expires_at: required("expires_at")?,
        decided_at: number("decided_at")?,
        decided_by: map.get("decided_by").map(|value| (*value).to_owned()),
        note: map.get("note").map(|value| (*value).to_owned()),
        consumed_at: number("consumed_at")?,
        expired_at: number("expired_at")?,
    })
}
