//! The Redis approval store against the real server: the same scenarios as the in-memory store
//! (lifecycle, each mismatch code, denial, expiry by the injected clock), 100 consumers with
//! their own connections racing on one token, the key layout, TTLs and memory per request, a
//! flushed script cache, and failing closed when Redis is down or never answers. Each test has
//! its own key prefix, deleted at the end.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap or a panic is a failed test, with its message"
)]

#[path = "../../core/tests/support/scenarios.rs"]
mod scenarios;

use mcppol_adapters_core::approval::{
    ApprovalStore, Clock, Hooks, ManualClock, StoreOptions, SystemClock, token_hash,
};
use mcppol_approvals_redis::testing::TestRedis;
use mcppol_approvals_redis::{RedisConfig, RedisStore};
use scenarios::{ARGS, Collect, Fixture};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The test's prefix, or `None` after a loud SKIPPED (never under `CI=true`, where an
/// unreachable server fails the test).
fn redis(test: &str) -> Option<TestRedis> {
    TestRedis::acquire(test).unwrap_or_else(|message| panic!("{message}"))
}

/// A store on the test's prefix with a manual clock that starts at the real time (key TTLs
/// are absolute times on the server's clock, so the test clock must not start in the past).
fn fixture(test: &TestRedis) -> Fixture {
    let clock = Arc::new(ManualClock::new(SystemClock.now_ms()));
    let audit = Arc::new(Collect::default());
    let store = store(test.config(), clock.clone(), &audit);
    Fixture { store, clock, audit }
}

fn store(
    config: RedisConfig,
    clock: Arc<ManualClock>,
    audit: &Arc<Collect>,
) -> Arc<dyn ApprovalStore> {
    let hooks = Hooks { audit: Some(audit.clone()), notifier: None };
    Arc::new(RedisStore::new(config, clock, hooks).unwrap())
}

#[test]
fn redis_lifecycle() {
    let Some(test) = redis("redis_lifecycle") else { return };
    scenarios::lifecycle(&fixture(&test));
}

#[test]
fn redis_each_mismatch_denies_with_its_own_code() {
    let Some(test) = redis("redis_each_mismatch_denies_with_its_own_code") else { return };
    scenarios::mismatches(&fixture(&test));
}

#[test]
fn redis_denial() {
    let Some(test) = redis("redis_denial") else { return };
    scenarios::denial(&fixture(&test));
}

#[test]
fn redis_expiry_by_the_injected_clock() {
    let Some(test) = redis("redis_expiry_by_the_injected_clock") else { return };
    scenarios::expiry(&fixture(&test));
}

#[test]
fn redis_100_consumers_with_their_own_connections_exactly_one_wins() {
    let Some(test) = redis("redis_100_consumers_with_their_own_connections_exactly_one_wins")
    else {
        return;
    };
    let fixture = fixture(&test);
    let config = test.config();
    let clock = fixture.clock.clone();
    let audit = fixture.audit.clone();
    // Each consumer is its own store, so its own connection: the race is between clients of
    // the server, not threads of one client.
    scenarios::race(&fixture, 100, &move || store(config.clone(), clock.clone(), &audit));
}

#[test]
fn key_layout_ttls_and_memory_per_pending_request() {
    let Some(mut test) = redis("key_layout_ttls_and_memory_per_pending_request") else { return };
    let fixture = fixture(&test);
    let created = scenarios::create(&fixture, ARGS);
    let id = &created.request.id;
    let prefix = test.prefix.clone();
    let hash = token_hash(created.token.as_str());
    let mut expected =
        vec![format!("{prefix}open"), format!("{prefix}req:{id}"), format!("{prefix}token:{hash}")];
    expected.sort();
    assert_eq!(test.keys().unwrap(), expected);
    let admin = test.admin();
    // The token appears nowhere: not in a key, not in a value.
    let token_key = format!("{prefix}token:{hash}");
    let points_to: String = redis::cmd("GET").arg(&token_key).query(admin).unwrap();
    assert_eq!(&points_to, id);
    let fields: Vec<String> =
        redis::cmd("HGETALL").arg(format!("{prefix}req:{id}")).query(admin).unwrap();
    assert!(fields.iter().all(|value| !value.contains(created.token.as_str())));
    assert!(fields.iter().all(|value| !value.contains(&created.token.as_str()[5..])));
    // TTLs: expiry (10 min) + retention (1 h), on both keys; the open set has none.
    let expected_ms = (scenarios::TTL + StoreOptions::default().retention).as_millis() as i64;
    for key in [format!("{prefix}req:{id}"), token_key.clone()] {
        let ttl: i64 = redis::cmd("PTTL").arg(&key).query(admin).unwrap();
        assert!((expected_ms - 5_000..=expected_ms).contains(&ttl), "{key}: {ttl}");
    }
    let open_ttl: i64 = redis::cmd("PTTL").arg(format!("{prefix}open")).query(admin).unwrap();
    assert_eq!(open_ttl, -1);
    let score: f64 =
        redis::cmd("ZSCORE").arg(format!("{prefix}open")).arg(id).query(admin).unwrap();
    assert_eq!(score as u64, created.request.expires_at);
    // Memory per pending request, as Redis counts it.
    let usage = |key: String, admin: &mut redis::Connection| -> i64 {
        redis::cmd("MEMORY").arg("USAGE").arg(key).arg("SAMPLES").arg(0).query(admin).unwrap()
    };
    let request = usage(format!("{prefix}req:{id}"), admin);
    let token = usage(token_key, admin);
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        format!("MEMORY USAGE: request hash {request} B, token key {token} B\n").as_bytes(),
    );
    assert!(request < 2048 && token < 256, "request {request} B, token {token} B");
}

#[test]
fn consumed_and_expired_requests_leave_the_open_set_and_sweeps_drop_dangling_ids() {
    let Some(mut test) = redis("consumed_and_expired_requests_leave_the_open_set") else { return };
    let fixture = fixture(&test);
    let first = scenarios::create(&fixture, ARGS);
    let second = scenarios::create(&fixture, ARGS);
    fixture.store.approve(&first.request.id, "bob").unwrap();
    fixture.store.consume(first.token.as_str(), &scenarios::binding(ARGS)).unwrap();
    let prefix = test.prefix.clone();
    let admin = test.admin();
    let open: Vec<String> =
        redis::cmd("ZRANGE").arg(format!("{prefix}open")).arg(0).arg(-1).query(admin).unwrap();
    assert_eq!(open, std::slice::from_ref(&second.request.id));
    // A request Redis dropped by its TTL while still listed: the next sweep forgets the id.
    let _: i64 =
        redis::cmd("DEL").arg(format!("{prefix}req:{}", second.request.id)).query(admin).unwrap();
    fixture.clock.advance(scenarios::TTL);
    assert!(fixture.store.expire_overdue().unwrap().is_empty());
    let open: i64 = redis::cmd("ZCARD").arg(format!("{prefix}open")).query(admin).unwrap();
    assert_eq!(open, 0);
}

#[test]
fn a_flushed_script_cache_is_refilled() {
    let Some(mut test) = redis("a_flushed_script_cache_is_refilled") else { return };
    let fixture = fixture(&test);
    let created = scenarios::create(&fixture, ARGS);
    // Another client (or a restart) empties the cache: EVALSHA fails with NOSCRIPT, and the
    // store sends the script in full.
    let _: String = redis::cmd("SCRIPT").arg("FLUSH").query(test.admin()).unwrap();
    fixture.store.approve(&created.request.id, "bob").unwrap();
    fixture.store.consume(created.token.as_str(), &scenarios::binding(ARGS)).unwrap();
}

fn unreachable_store(url: String, timeout: Duration) -> RedisStore {
    let mut config = RedisConfig::new(url);
    config.timeout = timeout;
    RedisStore::new(config, Arc::new(SystemClock), Hooks::default()).unwrap()
}

/// Every operation of `store` fails closed with `approval.unavailable` within `limit`.
fn fails_closed(store: &RedisStore, limit: Duration) {
    let new = scenarios::call(ARGS).request(scenarios::RULE, "r", "high", scenarios::TTL).unwrap();
    let binding = scenarios::binding(ARGS);
    let outcomes: Vec<(&str, Duration, Result<(), String>)> = vec![
        timed("consume", || store.consume("mcpa_x", &binding).map(|_| ())),
        timed("create", || store.create(new.clone()).map(|_| ())),
        timed("approve", || store.approve("id", "bob").map(|_| ())),
        timed("open", || store.open(10).map(|_| ())),
        timed("ping", || store.ping()),
    ];
    for (what, elapsed, outcome) in outcomes {
        let message = outcome.unwrap_err();
        assert!(message.contains("[approval.unavailable]"), "{what}: {message}");
        assert!(elapsed < limit, "{what} took {elapsed:?}");
    }
}

fn timed<T: std::fmt::Debug>(
    what: &'static str,
    operation: impl FnOnce() -> Result<T, mcppol_adapters_core::approval::ApprovalError>,
) -> (&'static str, Duration, Result<(), String>) {
    let start = Instant::now();
    let outcome = operation().map(|_| ()).map_err(|error| error.to_string());
    (what, start.elapsed(), outcome)
}

#[test]
fn a_closed_port_fails_closed_at_once() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("redis://{}/", listener.local_addr().unwrap());
    drop(listener);
    fails_closed(&unreachable_store(url, Duration::from_millis(200)), Duration::from_millis(200));
}

#[test]
fn a_server_that_never_answers_fails_closed_within_the_timeout() {
    // Accepts connections and reads nothing, answers nothing: a hung Redis.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("redis://{}/", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    let timeout = Duration::from_millis(150);
    let store = unreachable_store(url, timeout);
    let start = Instant::now();
    let error = store.consume("mcpa_x", &scenarios::binding(ARGS)).unwrap_err();
    let elapsed = start.elapsed();
    assert_eq!(error.code(), "approval.unavailable");
    assert!(error.message.contains("no answer within 150 ms"), "{error}");
    // It waited for the timeout, and not much longer.
    assert!(elapsed >= timeout && elapsed < timeout + Duration::from_millis(200), "{elapsed:?}");
    fails_closed(&store, timeout + Duration::from_millis(200));
}
