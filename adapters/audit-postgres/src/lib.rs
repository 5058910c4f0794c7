//! The mcppol audit trail in PostgreSQL. [`postgres_sink`] starts a queued sink whose writer
//! thread appends batches with one multi-row `INSERT … SELECT FROM unnest(…)` (prepared once,
//! any batch size, `ON CONFLICT (id) DO NOTHING` so a replay is idempotent). [`PgReader`]
//! queries and verifies. Embedded, versioned migrations run on connect: the table, a trigger
//! that refuses UPDATE, DELETE and TRUNCATE, and a role with INSERT and SELECT only, which the
//! writer assumes after migrating. `docs/audit.md` describes the schema.

mod backend;
mod migrate;
mod reader;
pub mod testing;

pub use backend::PgBackend;
pub use migrate::{SCHEMA_VERSION, migrate};
pub use reader::PgReader;

use mcppol_adapters_core::audit::{AuditError, ErrorKind, QueuedSink, SinkOptions};
use postgres::{Client, NoTls};
use std::time::Duration;

/// Where and how to connect.
#[derive(Clone)]
pub struct PgConfig {
    /// A `postgres://` URL or a `key=value` connection string.
    pub url: String,
    /// The schema holding the audit table (a lowercase identifier).
    pub schema: String,
    /// The append-only role the migration creates (cluster-wide, shared by schemas).
    pub writer_role: String,
    /// Whether the writer runs `SET ROLE writer_role` after migrating, so even a superuser URL
    /// writes with INSERT and SELECT only. The connecting user must be a member of the role.
    pub assume_writer_role: bool,
    /// How long a connection attempt may take.
    pub connect_timeout: Duration,
    /// How long one statement may take before the batch goes to the spool instead.
    pub statement_timeout: Duration,
    /// `application_name` of the writer's sessions (find them in `pg_stat_activity`).
    pub application_name: String,
}

impl PgConfig {
    /// Defaults for `url`: schema `mcppol_audit`, role `mcppol_audit_writer`.
    pub fn new(url: impl Into<String>) -> Self {
        PgConfig {
            url: url.into(),
            schema: "mcppol_audit".to_owned(),
            writer_role: "mcppol_audit_writer".to_owned(),
            assume_writer_role: true,
            connect_timeout: Duration::from_secs(2),
            statement_timeout: Duration::from_secs(5),
            application_name: "mcppol-audit".to_owned(),
        }
    }

    /// Checks the names, which are spliced into SQL as identifiers.
    ///
    /// # Errors
    /// `audit.config` for a name that is not a plain lowercase identifier.
    pub fn validate(&self) -> Result<(), AuditError> {
        for (what, name) in [("schema", &self.schema), ("role", &self.writer_role)] {
            let mut bytes = name.bytes();
            let plain = name.len() <= 63
                && bytes.next().is_some_and(|b| b.is_ascii_lowercase() || b == b'_')
                && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !plain {
                return Err(AuditError::new(
                    ErrorKind::Config,
                    format!("{what} name `{name}` is not a lowercase identifier"),
                )
                .with_hint("use letters a-z, digits and `_`, starting with a letter or `_`"));
            }
        }
        Ok(())
    }

    /// Opens a session with the timeouts set.
    ///
    /// # Errors
    /// `audit.config` for a malformed URL, `audit.database` when the server cannot be reached.
    pub fn connect(&self) -> Result<Client, AuditError> {
        self.validate()?;
        let mut config: postgres::Config = self.url.parse().map_err(|error| {
            AuditError::new(ErrorKind::Config, format!("invalid PostgreSQL URL: {error}"))
                .with_hint("write it as postgres://USER[:PASSWORD]@HOST:PORT/DATABASE")
        })?;
        config.connect_timeout(self.connect_timeout);
        config.application_name(&self.application_name);
        let mut client =
            config.connect(NoTls).map_err(|error| database("cannot connect", &error))?;
        let millis = self.statement_timeout.as_millis();
        client
            .batch_execute(&format!("SET statement_timeout = {millis}"))
            .map_err(|error| database("cannot configure the session", &error))?;
        Ok(client)
    }
}

impl std::fmt::Debug for PgConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password: never print it.
        f.debug_struct("PgConfig")
            .field("url", &"<hidden>")
            .field("schema", &self.schema)
            .field("writer_role", &self.writer_role)
            .field("assume_writer_role", &self.assume_writer_role)
            .field("connect_timeout", &self.connect_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .field("application_name", &self.application_name)
            .finish()
    }
}

/// A database failure as an audit error, with the SQLSTATE when the server sent one.
pub(crate) fn database(what: &str, error: &postgres::Error) -> AuditError {
    let detail = match error.as_db_error() {
        Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
        None => error.to_string(),
    };
    AuditError::new(ErrorKind::Database, format!("postgres: {what}: {detail}"))
}

/// Starts a queued sink writing to PostgreSQL. It does not connect here: the writer connects
/// (and migrates) on first use and after every failure, spooling to `options.spool` meanwhile.
///
/// # Errors
/// `audit.config` for invalid names; spool errors.
pub fn postgres_sink(config: PgConfig, options: SinkOptions) -> Result<QueuedSink, AuditError> {
    config.validate()?;
    QueuedSink::start(PgBackend::new(config), options)
}
