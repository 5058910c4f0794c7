//! The auditor's side: filtered, keyset-paginated queries and chain verification, reading rows
//! back into the same events the writer chained.

use crate::backend::COLUMNS;
use crate::migrate::{SCHEMA_VERSION, current_version, too_new};
use crate::{PgConfig, database};
use mcppol_adapters_core::audit::{
    AuditError, AuditEvent, AuditReader, ErrorKind, EventKind, Page, Query, Timestamp, Verifier,
    VerifyReport,
};
use mcppol_adapters_core::canonical;
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::ToSql;
use postgres::{Client, Row};

/// Reads an audit schema. It never migrates: reading must not change the store.
pub struct PgReader {
    client: Client,
    schema: String,
}

impl PgReader {
    /// Connects and checks that `config.schema` holds an audit table this build understands.
    ///
    /// # Errors
    /// Connection failures, a missing or too new schema.
    pub fn connect(config: &PgConfig) -> Result<Self, AuditError> {
        let mut client = config.connect()?;
        match current_version(&mut client, &config.schema)? {
            None => Err(AuditError::new(
                ErrorKind::Database,
                format!("schema `{}` holds no mcppol audit table", config.schema),
            )
            .with_hint("name the schema the writer used with --schema")),
            Some(version) if version > SCHEMA_VERSION => Err(too_new(&config.schema, version)),
            Some(_) => Ok(PgReader { client, schema: config.schema.clone() }),
        }
    }
}

/// A row as an event; the error says which field is unreadable.
pub(crate) fn event_from_row(row: &Row) -> Result<AuditEvent, String> {
    fn get<'a, T: postgres::types::FromSql<'a>>(row: &'a Row, index: usize) -> Result<T, String> {
        row.try_get(index).map_err(|error| format!("column {index}: {error}"))
    }
    let kind: String = get(row, 4)?;
    let roles: String = get(row, 10)?;
    let args: Option<String> = get(row, 20)?;
    Ok(AuditEvent {
        id: get(row, 0)?,
        log: get(row, 1)?,
        seq: u64::try_from(get::<i64>(row, 2)?).map_err(|_| "negative seq".to_owned())?,
        ts: Timestamp(get(row, 3)?),
        kind: EventKind::parse(&kind).ok_or_else(|| format!("unknown kind `{kind}`"))?,
        policy_hash: get(row, 5)?,
        method: get(row, 6)?,
        server: get(row, 7)?,
        tool: get(row, 8)?,
        principal: get(row, 9)?,
        roles: serde_json::from_str(&roles).map_err(|error| format!("roles: {error}"))?,
        decision: get(row, 11)?,
        rule: get(row, 12)?,
        code: get(row, 13)?,
        reason: get(row, 14)?,
        risk: get(row, 15)?,
        latency_ns: u64::try_from(get::<i64>(row, 16)?)
            .map_err(|_| "negative latency".to_owned())?,
        approval_id: get(row, 17)?,
        args_mode: get(row, 18)?,
        args_digest: get(row, 19)?,
        args: args
            .map(|text| canonical::parse_strict(text.as_bytes()))
            .transpose()
            .map_err(|error| format!("args: {error}"))?,
        prev_hash: get(row, 21)?,
        hash: get(row, 22)?,
    })
}

impl AuditReader for PgReader {
    fn query(&mut self, query: &Query) -> Result<Page, AuditError> {
        let mut conditions: Vec<String> = Vec::new();
        let mut params: Vec<Box<dyn ToSql + Sync>> = Vec::new();
        let mut bind = |condition: &str, value: Box<dyn ToSql + Sync>| {
            params.push(value);
            conditions.push(condition.replace('?', &format!("${}", params.len())));
        };
        let at = "timestamptz 'epoch' + ?::bigint * interval '1 microsecond'";
        if let Some(since) = query.since {
            bind(&format!("ts >= {at}"), Box::new(since.0));
        }
        if let Some(until) = query.until {
            bind(&format!("ts < {at}"), Box::new(until.0));
        }
        for (column, filter) in [
            ("tool", &query.tool),
            ("server", &query.server),
            ("decision", &query.decision),
            ("principal", &query.principal),
            ("rule", &query.rule),
            ("risk", &query.risk),
            ("kind", &query.kind),
            ("log", &query.log),
        ] {
            if let Some(value) = filter {
                bind(&format!("{column} = ?"), Box::new(value.clone()));
            }
        }
        if let Some(after) = &query.after {
            // A row comparison is exactly the (ts, id) order, and the (ts, id) index serves it.
            params.push(Box::new(after.ts.0));
            let ts_param = params.len();
            params.push(Box::new(after.id.clone()));
            let id_param = params.len();
            conditions.push(format!(
                "(ts, id) > (timestamptz 'epoch' + ${ts_param}::bigint * interval '1 microsecond', \
                 ${id_param})"
            ));
        }
        let limit = i64::try_from(query.limit.saturating_add(1)).unwrap_or(i64::MAX);
        params.push(Box::new(limit));
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM {}.audit_events {filter} ORDER BY ts, id LIMIT ${}",
            self.schema,
            params.len()
        );
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(AsRef::as_ref).collect();
        let rows =
            self.client.query(&sql, &refs).map_err(|error| database("query failed", &error))?;
        let events = rows
            .iter()
            .map(|row| {
                event_from_row(row).map_err(|why| {
                    AuditError::new(ErrorKind::Malformed, format!("unreadable audit row: {why}"))
                        .with_hint("run `mcppol audit verify`")
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_sorted(events, query.limit))
    }

    fn verify(&mut self) -> Result<VerifyReport, AuditError> {
        let sql = format!("SELECT {COLUMNS} FROM {}.audit_events ORDER BY log, seq", self.schema);
        let mut transaction = self
            .client
            .build_transaction()
            .read_only(true)
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .start()
            .map_err(|error| database("cannot start a snapshot", &error))?;
        let statement =
            transaction.prepare(&sql).map_err(|error| database("verify failed", &error))?;
        let params: [&(dyn ToSql + Sync); 0] = [];
        let mut rows = transaction
            .query_raw(&statement, params)
            .map_err(|error| database("verify failed", &error))?;
        let mut verifier = Verifier::new();
        while let Some(row) = rows.next().map_err(|error| database("verify failed", &error))? {
            match event_from_row(&row) {
                Ok(event) => {
                    if !verifier.push(&event) {
                        break;
                    }
                }
                Err(why) => {
                    let log: String = row.try_get(1).unwrap_or_default();
                    let seq: i64 = row.try_get(2).unwrap_or_default();
                    let id: String = row.try_get(0).unwrap_or_default();
                    verifier.malformed(&log, u64::try_from(seq).unwrap_or(0), &id, why);
                    break;
                }
            }
        }
        drop(rows);
        let _ = transaction.commit();
        Ok(verifier.finish())
    }
}

impl std::fmt::Debug for PgReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgReader").field("schema", &self.schema).finish_non_exhaustive()
    }
}
