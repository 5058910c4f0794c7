//! The webhook notifier: on a new approval request it POSTs JSON (what, who, why, risk, expiry,
//! approve/deny links) to a configured URL, signed with HMAC-SHA256, retrying with exponential
//! backoff. `docs/approvals.md` specifies the payloads and how a receiver verifies them.
//!
//! Signature: `X-Mcppol-Signature: sha256=HEX(HMAC-SHA256(secret, TIMESTAMP "." BODY))` with
//! `X-Mcppol-Timestamp: TIMESTAMP` (Unix seconds). The timestamp is inside the signed bytes, so a
//! receiver that refuses old timestamps refuses replays; each attempt is signed afresh, and
//! `X-Mcppol-Delivery` (one id per notification, the same on every attempt) lets a receiver
//! drop duplicates when an attempt it answered was retried anyway.

use super::{ApprovalError, ApprovalRequest, ErrorKind, Notifier, format_ms, new_id};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The signature header: `sha256=` and lowercase hex.
pub const SIGNATURE_HEADER: &str = "X-Mcppol-Signature";
/// The timestamp header: Unix seconds, inside the signed bytes.
pub const TIMESTAMP_HEADER: &str = "X-Mcppol-Timestamp";
/// The delivery id header: the same on every attempt of one notification.
pub const DELIVERY_HEADER: &str = "X-Mcppol-Delivery";

/// The body's shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayloadFormat {
    /// mcppol's own JSON object (documented in `docs/approvals.md`).
    Mcppol,
    /// A Slack incoming-webhook message: `text` plus `blocks` with approve/deny buttons.
    Slack,
}

/// Where and how to notify.
#[derive(Clone)]
pub struct WebhookConfig {
    /// The receiver: `http://…` (or `https://…` with feature `webhook-tls`).
    pub url: String,
    /// The shared HMAC key. Should be at least 32 random bytes.
    pub secret: Vec<u8>,
    /// The body's shape.
    pub format: PayloadFormat,
    /// The base of the approve/deny links: `{base}/{id}/approve` and `{base}/{id}/deny`.
    /// `None` leaves links out (approvers use the CLI commands the payload names).
    pub links_base: Option<String>,
    /// Attempts in all, the first included (at least 1).
    pub attempts: u32,
    /// The wait before the second attempt; it doubles each time, up to `backoff_max`.
    pub backoff: Duration,
    /// The longest wait between attempts.
    pub backoff_max: Duration,
    /// How long one attempt may take, connecting included.
    pub timeout: Duration,
}

impl std::fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        f.debug_struct("WebhookConfig")
            .field("url", &self.url)
            .field("format", &self.format)
            .field("links_base", &self.links_base)
            .field("attempts", &self.attempts)
            .field("backoff", &self.backoff)
            .field("backoff_max", &self.backoff_max)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl WebhookConfig {
    /// Defaults for `url` and `secret`: mcppol format, no links, 5 attempts, backoff 0.5 s
    /// doubling up to 8 s, 5 s per attempt.
    pub fn new(url: impl Into<String>, secret: impl Into<Vec<u8>>) -> Self {
        WebhookConfig {
            url: url.into(),
            secret: secret.into(),
            format: PayloadFormat::Mcppol,
            links_base: None,
            attempts: 5,
            backoff: Duration::from_millis(500),
            backoff_max: Duration::from_secs(8),
            timeout: Duration::from_secs(5),
        }
    }
}

/// How a notification went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// The delivery id (the `X-Mcppol-Delivery` header).
    pub id: String,
    /// Attempts made.
    pub attempts: u32,
    /// The receiver's (2xx) HTTP status.
    pub status: u16,
}

/// POSTs signed notifications of new requests.
#[derive(Debug)]
pub struct WebhookNotifier {
    config: WebhookConfig,
    agent: ureq::Agent,
    delivered: AtomicU64,
    failed: AtomicU64,
    in_flight: AtomicU64,
}

/// Most background deliveries at once. A receiver that is down makes each delivery sleep
/// through its backoff; beyond this many, new notifications are counted as failed instead of
/// piling up threads (approvers still see every request in `list`).
pub const IN_FLIGHT_MAX: u64 = 64;

/// `sha256=` and the lowercase hex HMAC-SHA256 of `timestamp "." body` under `secret`.
pub fn sign(secret: &[u8], timestamp: u64, body: &[u8]) -> String {
    let mac = signed(secret, timestamp, body).map(|mac| mac.finalize().into_bytes());
    format!("sha256={}", mac.map(|mac| crate::canonical::hex(&mac)).unwrap_or_default())
}

/// The MAC over `timestamp "." body`. HMAC takes keys of any length, so this is never `None`;
/// the `Option` only keeps the code free of panics (an empty signature verifies nowhere).
fn signed(secret: &[u8], timestamp: u64, body: &[u8]) -> Option<Hmac<Sha256>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).ok()?;
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Some(mac)
}

/// What a receiver does: true when `signature` is the HMAC of `timestamp "." body` under
/// `secret` (compared in constant time) and `timestamp` is within `tolerance` of `now` (Unix
/// seconds), so a captured request cannot be replayed later.
pub fn verify_signature(
    secret: &[u8],
    timestamp: &str,
    signature: &str,
    body: &[u8],
    now: u64,
    tolerance: Duration,
) -> bool {
    let Ok(stamp) = timestamp.parse::<u64>() else { return false };
    if now.abs_diff(stamp) > tolerance.as_secs() {
        return false;
    }
    let Some(hex) = signature.strip_prefix("sha256=") else { return false };
    let Some(bytes) = decode_hex(hex) else { return false };
    signed(secret, stamp, body).is_some_and(|mac| mac.verify_slice(&bytes).is_ok())
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.as_bytes()
        .chunks_exact(2)
        .map(|pair| std::str::from_utf8(pair).ok().and_then(|d| u8::from_str_radix(d, 16).ok()))
        .collect()
}

fn unix_seconds() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs())
}

impl WebhookNotifier {
    /// A notifier for `config`.
    ///
    /// # Errors
    /// `approval.invalid` when the URL is not `http://` (or `https://` with feature
    /// `webhook-tls`), the secret is empty, or `attempts` is 0.
    pub fn new(config: WebhookConfig) -> Result<Self, ApprovalError> {
        let tls = cfg!(feature = "webhook-tls") && config.url.starts_with("https://");
        if !config.url.starts_with("http://") && !tls {
            let hint = if config.url.starts_with("https://") {
                ": https needs mcppol built with feature `webhook-tls`"
            } else {
                ""
            };
            return Err(ApprovalError::new(
                ErrorKind::Invalid,
                format!("webhook url `{}` is not supported{hint}", config.url),
            ));
        }
        if config.secret.is_empty() || config.attempts == 0 {
            return Err(ApprovalError::new(
                ErrorKind::Invalid,
                "a webhook needs a non-empty secret and at least one attempt",
            ));
        }
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(config.timeout))
            // Statuses are outcomes to retry or not, not errors; a redirect could send the
            // signed body somewhere else.
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into();
        Ok(WebhookNotifier {
            config,
            agent,
            delivered: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
        })
    }

    /// The body for `request`, in the configured format.
    pub fn payload(&self, request: &ApprovalRequest) -> Vec<u8> {
        let links = self.config.links_base.as_deref().map(|base| {
            let base = base.trim_end_matches('/');
            (format!("{base}/{}/approve", request.id), format!("{base}/{}/deny", request.id))
        });
        let value = match self.config.format {
            PayloadFormat::Mcppol => mcppol_payload(request, links.as_ref()),
            PayloadFormat::Slack => slack_payload(request, links.as_ref()),
        };
        serde_json::to_vec(&value).unwrap_or_default()
    }

    /// Delivers the notification of `request`, blocking through every retry.
    ///
    /// Retries on a connection failure, a timeout, 408, 429 and 5xx; any other status is final
    /// (2xx success, 4xx a receiver that will not take it).
    ///
    /// # Errors
    /// `approval.notify_failed` after the last attempt, or on a final refusal.
    pub fn deliver(&self, request: &ApprovalRequest) -> Result<Delivery, ApprovalError> {
        let body = self.payload(request);
        let delivery = new_id();
        let mut wait = self.config.backoff;
        let mut last = String::new();
        for attempt in 1..=self.config.attempts {
            if attempt > 1 {
                std::thread::sleep(wait);
                wait = wait.saturating_mul(2).min(self.config.backoff_max);
            }
            let timestamp = unix_seconds();
            let sent = self
                .agent
                .post(&self.config.url)
                .header("Content-Type", "application/json")
                .header("User-Agent", concat!("mcppol/", env!("CARGO_PKG_VERSION")))
                .header(TIMESTAMP_HEADER, timestamp.to_string())
                .header(SIGNATURE_HEADER, sign(&self.config.secret, timestamp, &body))
                .header(DELIVERY_HEADER, delivery.as_str())
                .send(&body[..]);
            match sent {
                Ok(response) => {
                    let code = response.status().as_u16();
                    if (200..300).contains(&code) {
                        self.delivered.fetch_add(1, Ordering::Relaxed);
                        return Ok(Delivery { id: delivery, attempts: attempt, status: code });
                    }
                    last = format!("the receiver answered HTTP {code}");
                    if !(code == 408 || code == 429 || code >= 500) {
                        self.failed.fetch_add(1, Ordering::Relaxed);
                        return Err(self.failure(&request.id, attempt, &last));
                    }
                }
                Err(error) => last = error.to_string(),
            }
        }
        self.failed.fetch_add(1, Ordering::Relaxed);
        Err(self.failure(&request.id, self.config.attempts, &last))
    }

    fn failure(&self, id: &str, attempts: u32, last: &str) -> ApprovalError {
        ApprovalError::new(
            ErrorKind::NotifyFailed,
            format!(
                "webhook `{}` for approval `{id}` failed after {attempts} attempt{}: {last}",
                self.config.url,
                if attempts == 1 { "" } else { "s" }
            ),
        )
    }

    /// Notifications delivered and given up on so far (background deliveries included).
    pub fn counts(&self) -> (u64, u64) {
        (self.delivered.load(Ordering::Relaxed), self.failed.load(Ordering::Relaxed))
    }
}

/// As a store's [`Notifier`]: delivers on a background thread, so creating a request never
/// waits for a receiver. Failures are counted ([`WebhookNotifier::counts`]); approvers can
/// always list pending requests, so a lost notification delays a call but never allows one.
impl Notifier for Arc<WebhookNotifier> {
    fn notify(&self, request: &ApprovalRequest) {
        if self.in_flight.fetch_add(1, Ordering::AcqRel) >= IN_FLIGHT_MAX {
            self.in_flight.fetch_sub(1, Ordering::AcqRel);
            self.failed.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let notifier = Arc::clone(self);
        let request = request.clone();
        let spawned =
            std::thread::Builder::new().name("mcppol-webhook".to_owned()).spawn(move || {
                // The outcome is counted inside `deliver`.
                let _ = notifier.deliver(&request);
                notifier.in_flight.fetch_sub(1, Ordering::AcqRel);
            });
        if spawned.is_err() {
            self.in_flight.fetch_sub(1, Ordering::AcqRel);
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn args_value(request: &ApprovalRequest) -> Value {
    // Stored arguments are canonical JSON text; anything else is shown as text.
    serde_json::from_str(&request.args).unwrap_or_else(|_| Value::String(request.args.clone()))
}

fn mcppol_payload(request: &ApprovalRequest, links: Option<&(String, String)>) -> Value {
    let binding = &request.binding;
    json!({
        "type": "approval.created",
        "id": request.id,
        "what": {
            "method": request.method,
            "server": binding.server,
            "tool": binding.tool,
            "args": args_value(request),
            "args_digest": binding.args_digest,
        },
        "who": { "principal": binding.principal, "roles": request.roles },
        "why": { "rule": binding.rule, "reason": request.reason },
        "risk": request.risk,
        "policy_hash": binding.policy_hash,
        "created_at": format_ms(request.created_at),
        "expires_at": format_ms(request.expires_at),
        "links": links.map(|(approve, deny)| json!({ "approve": approve, "deny": deny })),
        "commands": {
            "approve": format!("mcppol approvals approve {}", request.id),
            "deny": format!("mcppol approvals deny {} --reason TEXT", request.id),
        },
    })
}

fn slack_payload(request: &ApprovalRequest, links: Option<&(String, String)>) -> Value {
    let binding = &request.binding;
    let principal = if binding.principal.is_empty() { "(anonymous)" } else { &binding.principal };
    let text = format!(
        "Approval needed ({} risk): `{}` on `{}` by `{principal}`",
        request.risk, binding.tool, binding.server
    );
    let detail = format!(
        "*{text}*\n*Why:* {} (rule `{}`)\n*Arguments:* ```{}```\n*Expires:* {}\n*Id:* `{}`\n\
         Approve: `mcppol approvals approve {}`  Deny: `mcppol approvals deny {} --reason TEXT`",
        request.reason,
        binding.rule,
        request.args,
        format_ms(request.expires_at),
        request.id,
        request.id,
        request.id
    );
    let mut blocks =
        vec![json!({ "type": "section", "text": { "type": "mrkdwn", "text": detail } })];
    if let Some((approve, deny)) = links {
        blocks.push(json!({
            "type": "actions",
            "elements": [
                { "type": "button", "text": { "type": "plain_text", "text": "Approve" },
                  "style": "primary", "url": approve, "action_id": "approve" },
                { "type": "button", "text": { "type": "plain_text", "text": "Deny" },
                  "style": "danger", "url": deny, "action_id": "deny" },
            ],
        }));
    }
    json!({ "text": text, "blocks": blocks })
}
