//! mcppol approvals in Redis, shared by every gateway that points at it. `docs/approvals.md`
//! specifies the semantics; this crate keeps them with Redis primitives:
//!
//! - every state change is one Lua script (`scripts`), run by `EVALSHA` (with an `EVAL`
//!   fallback after a script-cache flush): checks and writes are one atomic step, so of any
//!   number of concurrent consumers of one approved token exactly one wins;
//! - tokens are kept only as their SHA-256 (`{prefix}token:{hash}` → id);
//! - every call has one deadline ([`RedisConfig::timeout`]) covering connecting and every round
//!   trip; a Redis that is down, refuses, or does not answer in time gives
//!   `approval.unavailable`, and the gateway denies (fail closed).
//!
//! Key layout (`{prefix}` defaults to `mcppol:approval:`):
//!
//! | Key | Type | Holds | Dropped |
//! |---|---|---|---|
//! | `{prefix}req:{id}` | hash | the request's fields (state, binding, args, times, approver) | `PXAT` expiry + retention |
//! | `{prefix}token:{sha256}` | string | the request id | with its request |
//! | `{prefix}open` | sorted set | open (pending or approved) ids, scored by expiry | members leave on every state change and sweep |

mod record;
mod scripts;
pub mod testing;

use mcppol_adapters_core::approval::{
    ApprovalError, ApprovalRequest, ApprovalStore, Binding, Clock, Created, ErrorKind, Hooks,
    NewApproval, State, StoreOptions, Token, new_id, token_hash,
};
use mcppol_adapters_core::audit::EventKind;
use redis::{Connection, FromRedisValue, RedisError, RedisResult};
use scripts::{Lua, Scripts};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Where the store is and how patient it is.
#[derive(Clone, Debug)]
pub struct RedisConfig {
    /// `redis://[USER:PASSWORD@]HOST:PORT[/DB]` (or `redis+unix:///path`).
    pub url: String,
    /// Prepended to every key, so several deployments (or tests) share one Redis.
    pub prefix: String,
    /// The most one store call may take, connecting included. Past it the call fails with
    /// `approval.unavailable` and the gateway denies.
    pub timeout: Duration,
    /// Retention and other settings every store shares.
    pub options: StoreOptions,
    /// Idle connections kept for reuse.
    pub idle_max: usize,
}

/// The default key prefix.
pub const DEFAULT_PREFIX: &str = "mcppol:approval:";

impl RedisConfig {
    /// Defaults for `url`: prefix `mcppol:approval:`, timeout 250 ms, retention 1 h.
    pub fn new(url: impl Into<String>) -> Self {
        RedisConfig {
            url: url.into(),
            prefix: DEFAULT_PREFIX.to_owned(),
            timeout: Duration::from_millis(250),
            options: StoreOptions::default(),
            idle_max: 16,
        }
    }
}

/// Approvals in Redis.
pub struct RedisStore {
    client: redis::Client,
    config: RedisConfig,
    idle: Mutex<Vec<Connection>>,
    clock: Arc<dyn Clock>,
    hooks: Hooks,
    scripts: Scripts,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.config.prefix)
            .field("timeout", &self.config.timeout)
            .finish_non_exhaustive()
    }
}

/// One call's time budget.
struct Deadline(Instant);

impl Deadline {
    /// Sets the connection's socket timeouts to what is left, or fails when nothing is.
    fn arm(&self, connection: &Connection) -> RedisResult<()> {
        let left = self.left()?;
        connection.set_read_timeout(Some(left))?;
        connection.set_write_timeout(Some(left))
    }

    fn left(&self) -> RedisResult<Duration> {
        let left = self.0.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(RedisError::from(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the deadline passed",
            )));
        }
        Ok(left)
    }
}

/// A script's answer: the outcome code and the request's fields.
struct Reply {
    code: String,
    fields: Vec<String>,
}

impl FromRedisValue for Reply {
    fn from_redis_value(value: redis::Value) -> Result<Self, redis::ParsingError> {
        let mut items: Vec<String> = Vec::from_redis_value(value)?;
        if items.is_empty() {
            return Err("an empty script reply".into());
        }
        let code = items.remove(0);
        Ok(Reply { code, fields: items })
    }
}

impl RedisStore {
    /// A store for `config`, deciding expiry by `clock`, recording and notifying through
    /// `hooks`. Connects lazily: a Redis that is down now makes calls fail closed, not this.
    ///
    /// # Errors
    /// `approval.invalid` when the URL cannot be parsed or the timeout is zero.
    pub fn new(
        config: RedisConfig,
        clock: Arc<dyn Clock>,
        hooks: Hooks,
    ) -> Result<Self, ApprovalError> {
        use redis::IntoConnectionInfo;
        let bad_url = |error: RedisError| {
            ApprovalError::new(ErrorKind::Invalid, format!("bad redis url: {error}"))
        };
        let info = config.url.as_str().into_connection_info().map_err(bad_url)?;
        // No `CLIENT SETINFO` round trip on connect: one less exchange inside the deadline.
        let settings = info.redis_settings().clone().set_skip_set_lib_name();
        let client = redis::Client::open(info.set_redis_settings(settings)).map_err(bad_url)?;
        if config.timeout.is_zero() {
            return Err(ApprovalError::new(ErrorKind::Invalid, "the redis timeout must be > 0"));
        }
        Ok(RedisStore {
            client,
            config,
            idle: Mutex::new(Vec::new()),
            clock,
            hooks,
            scripts: Scripts::new(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &RedisConfig {
        &self.config
    }

    /// Checks that Redis answers within the timeout.
    ///
    /// # Errors
    /// `approval.unavailable`.
    pub fn ping(&self) -> Result<(), ApprovalError> {
        self.run(|connection, deadline| {
            deadline.arm(connection)?;
            redis::cmd("PING").query::<String>(connection).map(|_| ())
        })
    }

    fn key(&self, what: &str) -> String {
        format!("{}{what}", self.config.prefix)
    }

    /// Runs `operation` on a pooled or fresh connection, all within one deadline. A failed
    /// connection is dropped, never pooled; an I/O failure on a reused connection (one the
    /// server closed while idle) is retried once on a fresh one while time is left.
    fn run<T>(
        &self,
        mut operation: impl FnMut(&mut Connection, &Deadline) -> RedisResult<T>,
    ) -> Result<T, ApprovalError> {
        let deadline = Deadline(Instant::now() + self.config.timeout);
        let mut reused = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
        loop {
            let fresh = reused.is_none();
            let mut connection = match reused.take() {
                Some(connection) => connection,
                None => self.connect(&deadline).map_err(|error| self.unavailable(&error))?,
            };
            match operation(&mut connection, &deadline) {
                Ok(value) => {
                    let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
                    if idle.len() < self.config.idle_max {
                        idle.push(connection);
                    }
                    return Ok(value);
                }
                Err(error) if !fresh && error.is_io_error() && !error.is_timeout() => {}
                Err(error) => return Err(self.unavailable(&error)),
            }
        }
    }

    fn connect(&self, deadline: &Deadline) -> RedisResult<Connection> {
        self.client.get_connection_with_timeout(deadline.left()?)
    }

    fn unavailable(&self, error: &RedisError) -> ApprovalError {
        let why = if error.is_timeout() {
            format!("no answer within {} ms", self.config.timeout.as_millis())
        } else {
            error.to_string()
        };
        ApprovalError::new(
            ErrorKind::Unavailable,
            format!("the approval store (redis) is unavailable: {why}"),
        )
    }

    fn invoke<T: FromRedisValue>(
        &self,
        script: &Lua,
        keys: &[String],
        args: &[String],
    ) -> Result<T, ApprovalError> {
        self.run(|connection, deadline| {
            deadline.arm(connection)?;
            let result = redis::cmd("EVALSHA")
                .arg(&script.hash)
                .arg(keys.len())
                .arg(keys)
                .arg(args)
                .query::<T>(connection);
            match result {
                // A restarted or flushed Redis forgot the script: send it in full (which caches
                // it again).
                Err(error)
                    if error.kind()
                        == redis::ErrorKind::Server(redis::ServerErrorKind::NoScript) =>
                {
                    deadline.arm(connection)?;
                    redis::cmd("EVAL")
                        .arg(script.source)
                        .arg(keys.len())
                        .arg(keys)
                        .arg(args)
                        .query::<T>(connection)
                }
                other => other,
            }
        })
    }

    fn decide(
        &self,
        id: &str,
        approver: &str,
        to: State,
        note: &str,
    ) -> Result<ApprovalRequest, ApprovalError> {
        let now = self.clock.now_ms();
        let keys = [self.key(&format!("req:{id}")), self.key("open")];
        let args = [now.to_string(), to.as_str().to_owned(), approver.to_owned(), note.to_owned()];
        let reply: Reply = self.invoke(&self.scripts.decide, &keys, &args)?;
        match reply.code.as_str() {
            "ok" => {
                let request = record::parse(&reply.fields)?;
                self.hooks.record(to.event_kind(), &request)?;
                Ok(request)
            }
            "expired" => {
                self.hooks.record(EventKind::ApprovalExpired, &record::parse(&reply.fields)?)?;
                Err(ApprovalError::about(ErrorKind::Expired, id))
            }
            "approval.not_pending" => {
                let state = record::parse(&reply.fields).map(|request| request.state.as_str());
                Err(ApprovalError::new(
                    ErrorKind::NotPending,
                    format!("approval `{id}` is {}, not pending", state.unwrap_or("malformed")),
                ))
            }
            code => Err(refusal(code, id)),
        }
    }
}

/// The error for an `approval.*` code a script answered (an unknown code is malformed).
fn refusal(code: &str, id: &str) -> ApprovalError {
    match ErrorKind::parse(code) {
        Some(ErrorKind::UnknownToken) => {
            ApprovalError::new(ErrorKind::UnknownToken, ErrorKind::UnknownToken.describe())
        }
        Some(kind) => ApprovalError::about(kind, id),
        None => ApprovalError::new(
            ErrorKind::Malformed,
            format!("the approval store answered `{code}` for `{id}`"),
        ),
    }
}

impl ApprovalStore for RedisStore {
    fn create(&self, new: NewApproval) -> Result<Created, ApprovalError> {
        let token = Token::generate()?;
        let now = self.clock.now_ms();
        let request = ApprovalRequest::open(new_id(), new, now);
        let retention =
            u64::try_from(self.config.options.retention.as_millis()).unwrap_or(u64::MAX);
        let keep_until = request.expires_at.saturating_add(retention);
        let keys = [
            self.key(&format!("req:{}", request.id)),
            self.key(&format!("token:{}", token.hash())),
            self.key("open"),
        ];
        let mut args =
            vec![request.id.clone(), request.expires_at.to_string(), keep_until.to_string()];
        args.extend(record::fields(&request));
        let reply: Reply = self.invoke(&self.scripts.create, &keys, &args)?;
        if reply.code != "ok" {
            return Err(refusal(&reply.code, &request.id));
        }
        self.hooks.created(&request)?;
        Ok(Created { request, token })
    }

    fn get(&self, id: &str) -> Result<ApprovalRequest, ApprovalError> {
        let key = self.key(&format!("req:{id}"));
        let fields: Vec<String> = self.run(|connection, deadline| {
            deadline.arm(connection)?;
            redis::cmd("HGETALL").arg(&key).query(connection)
        })?;
        if fields.is_empty() {
            return Err(ApprovalError::about(ErrorKind::NotFound, id));
        }
        record::parse(&fields)
    }

    fn open(&self, limit: usize) -> Result<Vec<ApprovalRequest>, ApprovalError> {
        self.expire_overdue()?;
        let now = self.clock.now_ms();
        let open = self.key("open");
        let hashes: Vec<Vec<String>> = self.run(|connection, deadline| {
            deadline.arm(connection)?;
            let ids: Vec<String> = redis::cmd("ZRANGEBYSCORE")
                .arg(&open)
                .arg(format!("({now}"))
                .arg("+inf")
                .arg("LIMIT")
                .arg(0)
                .arg(limit)
                .query(connection)?;
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            let mut pipe = redis::pipe();
            for id in &ids {
                pipe.cmd("HGETALL").arg(self.key(&format!("req:{id}")));
            }
            deadline.arm(connection)?;
            pipe.query(connection)
        })?;
        hashes
            .iter()
            .filter(|fields| !fields.is_empty())
            .map(|fields| record::parse(fields))
            .collect()
    }

    fn approve(&self, id: &str, approver: &str) -> Result<ApprovalRequest, ApprovalError> {
        self.decide(id, approver, State::Approved, "")
    }

    fn deny(
        &self,
        id: &str,
        approver: &str,
        reason: &str,
    ) -> Result<ApprovalRequest, ApprovalError> {
        self.decide(id, approver, State::Denied, reason)
    }

    fn consume(&self, token: &str, binding: &Binding) -> Result<ApprovalRequest, ApprovalError> {
        let now = self.clock.now_ms();
        let keys = [self.key(&format!("token:{}", token_hash(token))), self.key("open")];
        let args = [
            self.config.prefix.clone(),
            now.to_string(),
            binding.policy_hash.clone(),
            binding.principal.clone(),
            binding.server.clone(),
            binding.tool.clone(),
            binding.args_digest.clone(),
            binding.rule.clone(),
        ];
        let reply: Reply = self.invoke(&self.scripts.consume, &keys, &args)?;
        match reply.code.as_str() {
            "ok" => {
                let request = record::parse(&reply.fields)?;
                self.hooks.record(EventKind::ApprovalConsumed, &request)?;
                Ok(request)
            }
            "expired" => {
                let request = record::parse(&reply.fields)?;
                self.hooks.record(EventKind::ApprovalExpired, &request)?;
                Err(ApprovalError::about(ErrorKind::Expired, &request.id))
            }
            code => {
                let id = record::parse(&reply.fields).map(|request| request.id).unwrap_or_default();
                Err(refusal(code, &id))
            }
        }
    }

    fn expire_overdue(&self) -> Result<Vec<ApprovalRequest>, ApprovalError> {
        /// Most requests one sweep round expires, so one script never blocks Redis for long.
        const BATCH: usize = 256;
        let mut expired = Vec::new();
        loop {
            let now = self.clock.now_ms();
            let keys = [self.key("open")];
            let args = [self.config.prefix.clone(), now.to_string(), BATCH.to_string()];
            let batch: Vec<Vec<String>> = self.invoke(&self.scripts.sweep, &keys, &args)?;
            let done = batch.len() < BATCH;
            for fields in &batch {
                expired.push(record::parse(fields)?);
            }
            if done {
                break;
            }
        }
        self.hooks.expired(&expired)?;
        Ok(expired)
    }
}
