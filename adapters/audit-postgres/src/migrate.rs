//! Embedded, versioned migrations. Each runs once per schema, in one transaction under an
//! advisory lock (two gateways starting together do not race), recorded in `schema_version`.
//! A schema newer than this build is refused: writing rows an older layout does not describe
//! could break the chain for a newer reader.

use crate::{PgConfig, database};
use mcppol_adapters_core::audit::{AuditError, ErrorKind};
use postgres::Client;
use postgres::error::SqlState;

/// The schema version this build writes.
pub const SCHEMA_VERSION: i32 = 1;

const MIGRATIONS: &[(i32, &str, &str)] =
    &[(1, "audit_events", include_str!("../migrations/V1__audit_events.sql"))];

/// The schema's version, `None` if it has no version table.
pub(crate) fn current_version(
    client: &mut Client,
    schema: &str,
) -> Result<Option<i32>, AuditError> {
    let table = format!("{schema}.schema_version");
    let exists = client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&table])
        .map_err(|error| database("cannot read the schema version", &error))?;
    if !exists.get::<_, bool>(0) {
        return Ok(None);
    }
    let row = client
        .query_one(&format!("SELECT coalesce(max(version), 0) FROM {table}"), &[])
        .map_err(|error| database("cannot read the schema version", &error))?;
    Ok(Some(row.get(0)))
}

pub(crate) fn too_new(schema: &str, version: i32) -> AuditError {
    AuditError::new(
        ErrorKind::SchemaVersion,
        format!(
            "schema `{schema}` is at version {version}, newer than this build ({SCHEMA_VERSION})"
        ),
    )
    .with_hint("upgrade mcppol")
}

/// Brings `config.schema` to [`SCHEMA_VERSION`]; returns the version found before.
///
/// # Errors
/// Database failures, or a schema newer than this build.
pub fn migrate(client: &mut Client, config: &PgConfig) -> Result<i32, AuditError> {
    config.validate()?;
    let schema = config.schema.as_str();
    let role = config.writer_role.as_str();
    // Up to date: touch nothing, so a writer without CREATE rights can start.
    match current_version(client, schema)? {
        Some(version) if version == SCHEMA_VERSION => return Ok(version),
        Some(version) if version > SCHEMA_VERSION => return Err(too_new(schema, version)),
        _ => {}
    }
    ensure_role(client, role)?;
    let mut transaction =
        client.transaction().map_err(|error| database("cannot begin the migration", &error))?;
    transaction
        .execute("SELECT pg_advisory_xact_lock(hashtext($1))", &[&format!("mcppol-audit:{schema}")])
        .map_err(|error| database("cannot lock for migration", &error))?;
    transaction
        .batch_execute(&format!(
            "CREATE SCHEMA IF NOT EXISTS {schema};
             CREATE TABLE IF NOT EXISTS {schema}.schema_version (
                 version     integer     PRIMARY KEY,
                 description text        NOT NULL,
                 applied_at  timestamptz NOT NULL DEFAULT now()
             );"
        ))
        .map_err(|error| database("cannot create the schema", &error))?;
    let row = transaction
        .query_one(&format!("SELECT coalesce(max(version), 0) FROM {schema}.schema_version"), &[])
        .map_err(|error| database("cannot read the schema version", &error))?;
    let before: i32 = row.get(0);
    if before > SCHEMA_VERSION {
        return Err(too_new(schema, before));
    }
    for &(version, description, sql) in MIGRATIONS {
        if version <= before {
            continue;
        }
        let sql = sql.replace("{schema}", schema).replace("{role}", role);
        transaction
            .batch_execute(&sql)
            .map_err(|error| database(&format!("migration V{version} failed"), &error))?;
        transaction
            .execute(
                &format!(
                    "INSERT INTO {schema}.schema_version (version, description) VALUES ($1, $2)"
                ),
                &[&version, &description],
            )
            .map_err(|error| database("cannot record the schema version", &error))?;
    }
    transaction.commit().map_err(|error| database("cannot commit the migration", &error))?;
    Ok(before)
}

/// Creates the writer role unless it exists. Roles are cluster-wide: concurrent creators (two
/// schemas migrating at once) race, and the loser's duplicate error means "exists".
fn ensure_role(client: &mut Client, role: &str) -> Result<(), AuditError> {
    let exists = client
        .query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[&role])
        .map_err(|error| database("cannot look up the writer role", &error))?;
    if exists.is_some() {
        return Ok(());
    }
    match client.batch_execute(&format!("CREATE ROLE {role} NOLOGIN")) {
        Ok(()) => Ok(()),
        Err(error)
            if error.code() == Some(&SqlState::DUPLICATE_OBJECT)
                || error.code() == Some(&SqlState::UNIQUE_VIOLATION) =>
        {
            Ok(())
        }
        Err(error) => Err(database(&format!("cannot create role `{role}`"), &error)
            .with_hint("run the first migration as a user with CREATEROLE, or create the role")),
    }
}
