//! The writer's side: connect, migrate, assume the append-only role, and append batches.

use crate::migrate::migrate;
use crate::{PgConfig, database};
use mcppol_adapters_core::audit::{AuditError, AuditEvent, Backend, ChainHead, ErrorKind};
use mcppol_adapters_core::canonical;
use postgres::{Client, Statement};
use std::collections::BTreeSet;

/// A [`Backend`] over one PostgreSQL session, reopened after any failure.
pub struct PgBackend {
    config: PgConfig,
    session: Option<(Client, Statement)>,
}

/// The columns in the order `event_from_row` reads them; `ts` as microseconds (exact: `extract`
/// returns numeric since PostgreSQL 14).
pub(crate) const COLUMNS: &str = "id, log, seq, (extract(epoch FROM ts) * 1000000)::bigint, \
    kind, policy_hash, method, server, tool, principal, roles, decision, rule, code, reason, \
    risk, latency_ns, approval_id, args_mode, args_digest, args, prev_hash, hash";

fn insert_sql(schema: &str) -> String {
    // One statement for any batch size: arrays in, rows out. `ON CONFLICT (id)` makes replay
    // idempotent; a (log, seq) conflict is not caught, so a second writer on a log fails loudly.
    format!(
        "INSERT INTO {schema}.audit_events (id, log, seq, ts, kind, policy_hash, method, server, \
         tool, principal, roles, decision, rule, code, reason, risk, latency_ns, approval_id, \
         args_mode, args_digest, args, prev_hash, hash) \
         SELECT id, log, seq, timestamptz 'epoch' + ts_us * interval '1 microsecond', kind, \
         policy_hash, method, server, tool, principal, roles, decision, rule, code, reason, risk, \
         latency_ns, approval_id, args_mode, args_digest, args, prev_hash, hash \
         FROM unnest($1::text[], $2::text[], $3::int8[], $4::int8[], $5::text[], $6::text[], \
         $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], \
         $14::text[], $15::text[], $16::text[], $17::int8[], $18::text[], $19::text[], \
         $20::text[], $21::text[], $22::text[], $23::text[]) \
         AS u(id, log, seq, ts_us, kind, policy_hash, method, server, tool, principal, roles, \
         decision, rule, code, reason, risk, latency_ns, approval_id, args_mode, args_digest, \
         args, prev_hash, hash) \
         ON CONFLICT (id) DO NOTHING"
    )
}

fn out_of_range(what: &str) -> AuditError {
    AuditError::new(ErrorKind::Malformed, format!("{what} is out of range for PostgreSQL bigint"))
}

impl PgBackend {
    /// A backend for `config`; connects on first use.
    pub fn new(config: PgConfig) -> Self {
        PgBackend { config, session: None }
    }

    fn session(&mut self) -> Result<&mut (Client, Statement), AuditError> {
        if self.session.is_none() {
            let mut client = self.config.connect()?;
            migrate(&mut client, &self.config)?;
            if self.config.assume_writer_role {
                client.batch_execute(&format!("SET ROLE {}", self.config.writer_role)).map_err(
                    |error| {
                        database(
                            &format!("cannot assume role `{}`", self.config.writer_role),
                            &error,
                        )
                        .with_hint(format!(
                            "GRANT {} TO the user in the URL",
                            self.config.writer_role
                        ))
                    },
                )?;
            }
            let insert = client
                .prepare(&insert_sql(&self.config.schema))
                .map_err(|error| database("cannot prepare the insert", &error))?;
            self.session = Some((client, insert));
        }
        self.session.as_mut().ok_or_else(|| AuditError::new(ErrorKind::Database, "no session"))
    }
}

impl Backend for PgBackend {
    fn head(&mut self, log: &str) -> Result<ChainHead, AuditError> {
        let schema = self.config.schema.clone();
        let (client, _) = self.session()?;
        let row = client
            .query_opt(
                &format!(
                    "SELECT seq, hash FROM {schema}.audit_events WHERE log = $1 \
                     ORDER BY seq DESC LIMIT 1"
                ),
                &[&log],
            )
            .map_err(|error| database("cannot read the chain head", &error))?;
        Ok(match row {
            None => ChainHead::genesis(),
            Some(row) => ChainHead {
                seq: u64::try_from(row.get::<_, i64>(0)).unwrap_or(0),
                hash: row.get(1),
            },
        })
    }

    fn stored(&mut self, ids: &[&str]) -> Result<BTreeSet<String>, AuditError> {
        let schema = self.config.schema.clone();
        let (client, _) = self.session()?;
        let rows = client
            .query(&format!("SELECT id FROM {schema}.audit_events WHERE id = ANY($1)"), &[&ids])
            .map_err(|error| database("cannot look up replayed events", &error))?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }

    fn append(&mut self, events: &[AuditEvent]) -> Result<(), AuditError> {
        let mut columns = Columns::default();
        for event in events {
            columns.push(event)?;
        }
        let (client, insert) = self.session()?;
        let c = &columns;
        client
            .execute(
                &*insert,
                &[
                    &c.id,
                    &c.log,
                    &c.seq,
                    &c.ts,
                    &c.kind,
                    &c.policy_hash,
                    &c.method,
                    &c.server,
                    &c.tool,
                    &c.principal,
                    &c.roles,
                    &c.decision,
                    &c.rule,
                    &c.code,
                    &c.reason,
                    &c.risk,
                    &c.latency_ns,
                    &c.approval_id,
                    &c.args_mode,
                    &c.args_digest,
                    &c.args,
                    &c.prev_hash,
                    &c.hash,
                ],
            )
            .map_err(|error| database("cannot insert audit events", &error))?;
        Ok(())
    }

    fn reset(&mut self) {
        self.session = None;
    }
}

/// A batch, column by column, for `unnest`.
#[derive(Default)]
struct Columns<'a> {
    id: Vec<&'a str>,
    log: Vec<&'a str>,
    seq: Vec<i64>,
    ts: Vec<i64>,
    kind: Vec<&'static str>,
    policy_hash: Vec<&'a str>,
    method: Vec<&'a str>,
    server: Vec<&'a str>,
    tool: Vec<&'a str>,
    principal: Vec<&'a str>,
    roles: Vec<String>,
    decision: Vec<&'a str>,
    rule: Vec<Option<&'a str>>,
    code: Vec<&'a str>,
    reason: Vec<&'a str>,
    risk: Vec<&'a str>,
    latency_ns: Vec<i64>,
    approval_id: Vec<Option<&'a str>>,
    args_mode: Vec<&'a str>,
    args_digest: Vec<Option<&'a str>>,
    args: Vec<Option<String>>,
    prev_hash: Vec<&'a str>,
    hash: Vec<&'a str>,
}

impl<'a> Columns<'a> {
    fn push(&mut self, event: &'a AuditEvent) -> Result<(), AuditError> {
        self.id.push(&event.id);
        self.log.push(&event.log);
        self.seq.push(i64::try_from(event.seq).map_err(|_| out_of_range("seq"))?);
        self.ts.push(event.ts.0);
        self.kind.push(event.kind.as_str());
        self.policy_hash.push(&event.policy_hash);
        self.method.push(&event.method);
        self.server.push(&event.server);
        self.tool.push(&event.tool);
        self.principal.push(&event.principal);
        let roles = serde_json::Value::from(event.roles.clone());
        self.roles.push(canonical::to_canonical(&roles));
        self.decision.push(&event.decision);
        self.rule.push(event.rule.as_deref());
        self.code.push(&event.code);
        self.reason.push(&event.reason);
        self.risk.push(&event.risk);
        self.latency_ns.push(i64::try_from(event.latency_ns).map_err(|_| out_of_range("latency"))?);
        self.approval_id.push(event.approval_id.as_deref());
        self.args_mode.push(&event.args_mode);
        self.args_digest.push(event.args_digest.as_deref());
        self.args.push(event.args.as_ref().map(canonical::to_canonical));
        self.prev_hash.push(&event.prev_hash);
        self.hash.push(&event.hash);
        Ok(())
    }
}

impl std::fmt::Debug for PgBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The client has no Debug; the URL may hold a password, so only the schema is shown.
        f.debug_struct("PgBackend")
            .field("schema", &self.config.schema)
            .field("connected", &self.session.is_some())
            .finish()
    }
}
