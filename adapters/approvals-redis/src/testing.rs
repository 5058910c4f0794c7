//! Test support, public so the crate's tests, its benchmark and the CLI's tests share it: a
//! fresh key prefix per test on the real Redis, whose keys are deleted when the guard drops.
//! Not for production.
//!
//! The server comes from `MCPPOL_TEST_REDIS_URL` (default `redis://127.0.0.1:6379/`). When it
//! is unreachable, [`TestRedis::acquire`] fails under `CI=true` (the Redis tests are mandatory
//! there) and otherwise reports loudly that the test was skipped.

use crate::RedisConfig;
use std::io::Write;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The variable naming the test server.
pub const URL_VARIABLE: &str = "MCPPOL_TEST_REDIS_URL";
/// The test server when the variable is unset.
pub const DEFAULT_URL: &str = "redis://127.0.0.1:6379/";

static NEXT: AtomicU32 = AtomicU32::new(0);

/// The test server's URL.
pub fn url() -> String {
    std::env::var(URL_VARIABLE).unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

/// A key prefix of its own for one test; its keys are deleted on drop.
pub struct TestRedis {
    /// The server URL.
    pub url: String,
    /// The key prefix (unique per process, test and time).
    pub prefix: String,
    admin: redis::Connection,
}

impl TestRedis {
    /// A fresh prefix on the test server. `Ok(None)` after printing a loud SKIPPED when the
    /// server is unreachable outside CI; `Err` when it is unreachable and `CI=true`.
    ///
    /// # Errors
    /// The server is unreachable under `CI=true`.
    pub fn acquire(test: &str) -> Result<Option<Self>, String> {
        let url = url();
        let admin = redis::Client::open(url.as_str())
            .and_then(|client| client.get_connection_with_timeout(Duration::from_secs(3)))
            .and_then(|mut admin| {
                redis::cmd("PING").query::<String>(&mut admin)?;
                Ok(admin)
            });
        let admin = match admin {
            Ok(admin) => admin,
            Err(error) => {
                let message = format!(
                    "Redis at `{url}` is unreachable ({error}); set {URL_VARIABLE} or start the server"
                );
                if std::env::var("CI").is_ok_and(|value| value == "true") {
                    return Err(format!("{message} (CI=true: the Redis tests are mandatory)"));
                }
                // Straight to the process's stderr: the test harness captures `eprintln!` of
                // passing tests, and a skip must not pass unnoticed.
                let _ = writeln!(std::io::stderr(), "\n*** SKIPPED `{test}`: {message} ***\n");
                return Ok(None);
            }
        };
        let nanos =
            SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.subsec_nanos());
        let prefix = format!(
            "mcppol_t:{}:{}:{}:",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            nanos % 1_000_000
        );
        Ok(Some(TestRedis { url, prefix, admin }))
    }

    /// A configuration for this prefix.
    pub fn config(&self) -> RedisConfig {
        let mut config = RedisConfig::new(self.url.clone());
        config.prefix.clone_from(&self.prefix);
        config
    }

    /// A plain connection, for inspecting keys.
    pub fn admin(&mut self) -> &mut redis::Connection {
        &mut self.admin
    }

    /// Every key under this prefix, sorted.
    ///
    /// # Errors
    /// Redis fails.
    pub fn keys(&mut self) -> redis::RedisResult<Vec<String>> {
        let mut keys: Vec<String> =
            redis::cmd("KEYS").arg(format!("{}*", self.prefix)).query(&mut self.admin)?;
        keys.sort();
        Ok(keys)
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        if let Ok(keys) = self.keys()
            && !keys.is_empty()
        {
            for chunk in keys.chunks(1000) {
                let _ = redis::cmd("DEL").arg(chunk).query::<i64>(&mut self.admin);
            }
        }
    }
}

impl std::fmt::Debug for TestRedis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestRedis").field("prefix", &self.prefix).finish_non_exhaustive()
    }
}
