//! The in-memory approval store (the shared scenarios, the 100-thread race), tokens, the link
//! to the audit trail (a real file log whose digests match the binding), and the webhook
//! notifier against a real HTTP server on loopback (retries, signature, Slack shape).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap or a panic is a failed test, with its message"
)]

#[path = "support/scenarios.rs"]
mod scenarios;

use mcppol_adapters_core::approval::{
    ApprovalStore, Hooks, ManualClock, MemoryStore, Notifier, PayloadFormat, SIGNATURE_HEADER,
    StoreOptions, SystemClock, TIMESTAMP_HEADER, Token, WebhookConfig, WebhookNotifier, sign,
    token_hash, verify_signature,
};
use mcppol_adapters_core::audit::{
    ArgsPolicy, AuditReader, AuditSink, EventKind, FileReader, Query, SinkOptions, file_sink,
};
use scenarios::{ARGS, Collect, Fixture};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn memory() -> Fixture {
    let clock = Arc::new(ManualClock::new(1_800_000_000_000));
    let audit = Arc::new(Collect::default());
    let hooks = Hooks { audit: Some(audit.clone()), notifier: None };
    let store = Arc::new(MemoryStore::new(clock.clone(), hooks, &StoreOptions::default()));
    Fixture { store, clock, audit }
}

#[test]
fn memory_lifecycle() {
    scenarios::lifecycle(&memory());
}

#[test]
fn memory_each_mismatch_denies_with_its_own_code() {
    scenarios::mismatches(&memory());
}

#[test]
fn memory_denial() {
    scenarios::denial(&memory());
}

#[test]
fn memory_expiry_by_the_injected_clock() {
    scenarios::expiry(&memory());
}

#[test]
fn memory_100_concurrent_consumers_exactly_one_wins() {
    let fixture = memory();
    let store = fixture.store.clone();
    scenarios::race(&fixture, 100, &move || store.clone());
}

#[test]
fn arguments_without_a_canonical_form_make_no_approval() {
    scenarios::invalid_args();
}

#[test]
fn memory_forgets_requests_after_the_retention() {
    let clock = Arc::new(ManualClock::new(1_800_000_000_000));
    let options = StoreOptions { retention: Duration::from_secs(60) };
    let store = MemoryStore::new(clock.clone(), Hooks::default(), &options);
    let fixture = Fixture { store: Arc::new(store), clock: clock.clone(), audit: Arc::default() };
    let created = scenarios::create(&fixture, ARGS);
    clock.advance(scenarios::TTL + Duration::from_secs(59));
    fixture.store.expire_overdue().unwrap();
    // Within the retention a late use still gets the precise reason ...
    let late = fixture.store.consume(created.token.as_str(), &scenarios::binding(ARGS));
    assert_eq!(late.unwrap_err().code(), "approval.expired");
    clock.advance(Duration::from_secs(2));
    fixture.store.expire_overdue().unwrap();
    // ... after it, the request and its token are gone.
    assert_eq!(fixture.store.get(&created.request.id).unwrap_err().code(), "approval.not_found");
    let gone = fixture.store.consume(created.token.as_str(), &scenarios::binding(ARGS));
    assert_eq!(gone.unwrap_err().code(), "approval.unknown_token");
}

#[test]
fn tokens_are_256_random_bits_and_stores_keep_only_their_hash() {
    let tokens: Vec<Token> = (0..1000).map(|_| Token::generate().unwrap()).collect();
    let distinct: std::collections::BTreeSet<&str> = tokens.iter().map(Token::as_str).collect();
    assert_eq!(distinct.len(), tokens.len());
    for token in &tokens {
        let hex = token.as_str().strip_prefix("mcpa_").unwrap();
        assert_eq!(hex.len(), 64);
        assert!(hex.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    }
    // Roughly half the bits set: not a counter or a constant.
    let ones: u32 = tokens
        .iter()
        .flat_map(|t| t.as_str()[5..].chars().map(|c| c.to_digit(16).unwrap().count_ones()))
        .sum();
    let bits = 256.0 * tokens.len() as f64;
    assert!((f64::from(ones) / bits - 0.5).abs() < 0.01, "{ones} of {bits}");
    assert_eq!(format!("{:?}", tokens[0]), "Token(…)");
    // The store's memory holds the hash, never the token.
    let store = MemoryStore::default();
    let new =
        scenarios::call(ARGS).request(scenarios::RULE, "why", "high", scenarios::TTL).unwrap();
    let created = store.create(new).unwrap();
    let dump = format!("{store:?}");
    assert!(!dump.contains(created.token.as_str()));
    assert!(dump.contains(&token_hash(created.token.as_str())));
}

#[test]
fn approval_events_reach_a_real_audit_log_with_the_bindings_digest() {
    let dir = std::env::temp_dir().join(format!("mcppol-approvals-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("audit.jsonl");
    let options = SinkOptions { args: ArgsPolicy::Digest, ..SinkOptions::default() };
    let sink: Arc<dyn AuditSink> = Arc::new(file_sink(&path, options).unwrap());
    let hooks = Hooks { audit: Some(sink.clone()), notifier: None };
    let store = MemoryStore::new(Arc::new(SystemClock), hooks, &StoreOptions::default());
    let new =
        scenarios::call(ARGS).request(scenarios::RULE, "why", "high", scenarios::TTL).unwrap();
    let digest = new.binding.args_digest.clone();
    let created = store.create(new).unwrap();
    store.approve(&created.request.id, "bob").unwrap();
    store.consume(created.token.as_str(), &scenarios::binding(ARGS)).unwrap();
    sink.close().unwrap();
    let mut reader = FileReader::new(&path);
    let page = reader.query(&Query::default()).unwrap();
    let kinds: Vec<EventKind> = page.events.iter().map(|event| event.kind).collect();
    assert_eq!(
        kinds,
        [EventKind::ApprovalCreated, EventKind::ApprovalApproved, EventKind::ApprovalConsumed]
    );
    for event in &page.events {
        assert_eq!(event.approval_id.as_deref(), Some(created.request.id.as_str()));
        assert_eq!(event.args_digest.as_deref(), Some(digest.as_str()), "same digest as audit");
        assert_eq!(event.tool, "fs.write");
    }
    assert!(reader.verify().unwrap().first_break.is_none());
    let _ = std::fs::remove_dir_all(&dir);
}

/// One HTTP request as the receiver saw it.
#[derive(Debug, Clone)]
struct Received {
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
    at: Instant,
}

/// A real HTTP/1.1 server on loopback that answers each request with the next status of
/// `statuses` (the last one repeats) and keeps what it received.
fn receiver(statuses: Vec<u16>) -> (String, Arc<Mutex<Vec<Received>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let received = Arc::new(Mutex::new(Vec::new()));
    let log = received.clone();
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            assert!(line.starts_with("POST /hook HTTP/1.1"), "{line}");
            let mut headers = BTreeMap::new();
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                let (name, value) = line.split_once(':').unwrap();
                headers.insert(name.to_ascii_lowercase(), value.trim().to_owned());
            }
            let length: usize = headers["content-length"].parse().unwrap();
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            log.lock().unwrap().push(Received { headers, body, at: Instant::now() });
            let status = statuses[n.min(statuses.len() - 1)];
            let answer =
                format!("HTTP/1.1 {status} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
            stream.write_all(answer.as_bytes()).unwrap();
        }
    });
    (url, received)
}

fn webhook(url: &str, format: PayloadFormat) -> WebhookNotifier {
    let mut config = WebhookConfig::new(url, b"s3cret-shared-key".to_vec());
    config.format = format;
    config.links_base = Some("https://gw.example/approvals/".into());
    config.backoff = Duration::from_millis(40);
    config.attempts = 4;
    config.timeout = Duration::from_secs(2);
    WebhookNotifier::new(config).unwrap()
}

fn now_seconds() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

#[test]
fn webhook_retries_with_backoff_until_the_receiver_takes_it_and_signs_every_attempt() {
    let (url, received) = receiver(vec![500, 500, 200]);
    let fixture = memory();
    let request = scenarios::create(&fixture, ARGS).request;
    let delivery = webhook(&url, PayloadFormat::Mcppol).deliver(&request).unwrap();
    assert_eq!((delivery.attempts, delivery.status), (3, 200));
    let received = received.lock().unwrap().clone();
    assert_eq!(received.len(), 3);
    // Backoff: 40 ms, then 80 ms.
    assert!(received[1].at - received[0].at >= Duration::from_millis(40));
    assert!(received[2].at - received[1].at >= Duration::from_millis(80));
    for attempt in &received {
        let headers = &attempt.headers;
        assert_eq!(headers["content-type"], "application/json");
        assert_eq!(headers["x-mcppol-delivery"], delivery.id, "one id across retries");
        // The receiver's check: HMAC over timestamp "." body with the shared secret, fresh.
        let timestamp = &headers[&TIMESTAMP_HEADER.to_ascii_lowercase()];
        let signature = &headers[&SIGNATURE_HEADER.to_ascii_lowercase()];
        let tolerance = Duration::from_secs(300);
        let body = &attempt.body;
        assert!(verify_signature(
            b"s3cret-shared-key",
            timestamp,
            signature,
            body,
            now_seconds(),
            tolerance
        ));
        assert!(!verify_signature(
            b"wrong-key",
            timestamp,
            signature,
            body,
            now_seconds(),
            tolerance
        ));
        let mut tampered = body.clone();
        tampered[10] ^= 1;
        assert!(!verify_signature(
            b"s3cret-shared-key",
            timestamp,
            signature,
            &tampered,
            now_seconds(),
            tolerance
        ));
        // A replay an hour later is refused by the timestamp check.
        assert!(!verify_signature(
            b"s3cret-shared-key",
            timestamp,
            signature,
            body,
            now_seconds() + 3600,
            tolerance
        ));
    }
    let body: Value = serde_json::from_slice(&received[2].body).unwrap();
    assert_eq!(body["type"], "approval.created");
    assert_eq!(body["id"], request.id.as_str());
    assert_eq!(body["what"]["tool"], "fs.write");
    assert_eq!(body["what"]["args"]["path"], "/workspace/deploy.sh");
    assert_eq!(body["what"]["args_digest"], request.binding.args_digest.as_str());
    assert_eq!(body["who"]["principal"], "ana");
    assert_eq!(body["why"]["rule"], scenarios::RULE);
    assert_eq!(body["risk"], "high");
    assert!(body["expires_at"].as_str().unwrap().ends_with('Z'));
    let approve = format!("https://gw.example/approvals/{}/approve", request.id);
    assert_eq!(body["links"]["approve"], approve.as_str());
    assert!(body["links"]["deny"].as_str().unwrap().ends_with("/deny"));
}

#[test]
fn webhook_slack_payload_has_text_and_buttons() {
    let (url, received) = receiver(vec![200]);
    let fixture = memory();
    let request = scenarios::create(&fixture, ARGS).request;
    webhook(&url, PayloadFormat::Slack).deliver(&request).unwrap();
    let body: Value = serde_json::from_slice(&received.lock().unwrap()[0].body).unwrap();
    assert!(body["text"].as_str().unwrap().contains("fs.write"));
    assert_eq!(body["blocks"][0]["type"], "section");
    let buttons = body["blocks"][1]["elements"].as_array().unwrap();
    assert_eq!(buttons.len(), 2);
    assert_eq!(buttons[0]["style"], "primary");
    assert!(buttons[1]["url"].as_str().unwrap().ends_with(&format!("{}/deny", request.id)));
}

#[test]
fn webhook_gives_up_on_a_client_error_at_once_and_after_the_last_attempt_otherwise() {
    let fixture = memory();
    let request = scenarios::create(&fixture, ARGS).request;
    let (url, received) = receiver(vec![403]);
    let error = webhook(&url, PayloadFormat::Mcppol).deliver(&request).unwrap_err();
    assert_eq!(error.code(), "approval.notify_failed");
    assert!(error.message.contains("after 1 attempt:"), "{error}");
    assert_eq!(received.lock().unwrap().len(), 1);
    // Nobody listening: every attempt fails to connect, then it gives up.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", closed.local_addr().unwrap());
    drop(closed);
    let notifier = webhook(&url, PayloadFormat::Mcppol);
    let error = notifier.deliver(&request).unwrap_err();
    assert!(error.message.contains("after 4 attempts"), "{error}");
    assert_eq!(notifier.counts(), (0, 1));
}

#[test]
fn a_store_with_a_webhook_notifies_approvers_of_each_new_request_in_the_background() {
    let (url, received) = receiver(vec![200]);
    let notifier = Arc::new(webhook(&url, PayloadFormat::Mcppol));
    let hooks =
        Hooks { audit: None, notifier: Some(Arc::new(notifier.clone()) as Arc<dyn Notifier>) };
    let store = MemoryStore::new(Arc::new(SystemClock), hooks, &StoreOptions::default());
    let new =
        scenarios::call(ARGS).request(scenarios::RULE, "why", "high", scenarios::TTL).unwrap();
    let created = store.create(new).unwrap();
    let start = Instant::now();
    while notifier.counts().0 == 0 {
        assert!(start.elapsed() < Duration::from_secs(10), "no delivery");
        std::thread::sleep(Duration::from_millis(10));
    }
    let body: Value = serde_json::from_slice(&received.lock().unwrap()[0].body).unwrap();
    assert_eq!(body["id"], created.request.id.as_str());
}

#[test]
fn webhook_refuses_what_it_cannot_send_safely() {
    let https = WebhookNotifier::new(WebhookConfig::new("https://hooks.example/x", b"k".to_vec()));
    if !cfg!(feature = "webhook-tls") {
        assert!(https.unwrap_err().message.contains("webhook-tls"));
    }
    let empty = WebhookNotifier::new(WebhookConfig::new("http://127.0.0.1:1/", Vec::new()));
    assert_eq!(empty.unwrap_err().code(), "approval.invalid");
    assert_eq!(sign(b"k", 1, b"{}"), sign(b"k", 1, b"{}"));
    assert_ne!(sign(b"k", 1, b"{}"), sign(b"k", 2, b"{}"));
}
