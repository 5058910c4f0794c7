//! Test support, public so the crate's tests, its benchmark and the CLI's tests share it: a
//! fresh schema per test on the real server, dropped when the guard drops. Not for production.
//!
//! The server comes from `MCPPOL_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`). When it is unreachable, [`TestSchema::acquire`]
//! fails under `CI=true` (the Postgres tests are mandatory there) and otherwise reports loudly
//! that the test was skipped.

use crate::PgConfig;
use postgres::{Client, NoTls};
use std::io::Write;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The variable naming the test server.
pub const URL_VARIABLE: &str = "MCPPOL_TEST_POSTGRES_URL";
/// The test server when the variable is unset.
pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

static NEXT: AtomicU32 = AtomicU32::new(0);

/// The test server's URL.
pub fn url() -> String {
    std::env::var(URL_VARIABLE).unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

/// A schema of its own for one test; dropped (with everything in it) on drop.
pub struct TestSchema {
    /// The server URL.
    pub url: String,
    /// The schema name (unique per process, test and time).
    pub schema: String,
    admin: Client,
}

impl TestSchema {
    /// A fresh schema name on the test server. `Ok(None)` after printing a loud SKIPPED when
    /// the server is unreachable outside CI; `Err` when it is unreachable and `CI=true`.
    ///
    /// # Errors
    /// The server is unreachable under `CI=true`.
    pub fn acquire(test: &str) -> Result<Option<Self>, String> {
        let url = url();
        let admin = url.parse::<postgres::Config>().map_err(|error| error.to_string()).and_then(
            |mut config| {
                config.connect_timeout(Duration::from_secs(3));
                config.connect(NoTls).map_err(|error| error.to_string())
            },
        );
        let admin = match admin {
            Ok(admin) => admin,
            Err(error) => {
                let message = format!(
                    "PostgreSQL at `{url}` is unreachable ({error}); set {URL_VARIABLE} or start the server"
                );
                if std::env::var("CI").is_ok_and(|value| value == "true") {
                    return Err(format!("{message} (CI=true: the PostgreSQL tests are mandatory)"));
                }
                // Straight to the process's stderr: the test harness captures `eprintln!` of
                // passing tests, and a skip must not pass unnoticed.
                let _ = writeln!(std::io::stderr(), "\n*** SKIPPED `{test}`: {message} ***\n");
                return Ok(None);
            }
        };
        let nanos =
            SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.subsec_nanos());
        let schema = format!(
            "mcppol_t_{}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            nanos % 1_000_000
        );
        Ok(Some(TestSchema { url, schema, admin }))
    }

    /// A configuration for this schema, its writer sessions named `application_name`.
    pub fn config(&self) -> PgConfig {
        let mut config = PgConfig::new(self.url.clone());
        config.schema.clone_from(&self.schema);
        config.application_name = format!("mcppol-test-{}", self.schema);
        config
    }

    /// A superuser session (the URL's user) for inspecting and tampering.
    pub fn admin(&mut self) -> &mut Client {
        &mut self.admin
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        let _ = self.admin.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema));
    }
}

impl std::fmt::Debug for TestSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestSchema").field("schema", &self.schema).finish_non_exhaustive()
    }
}
