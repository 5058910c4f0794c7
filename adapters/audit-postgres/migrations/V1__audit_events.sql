-- V1: the append-only audit table. `{schema}` and `{role}` are replaced by validated
-- identifiers before this runs. docs/audit.md describes every column.

CREATE TABLE {schema}.audit_events (
    id          text        PRIMARY KEY,
    log         text        NOT NULL,
    seq         bigint      NOT NULL CHECK (seq >= 1),
    ts          timestamptz NOT NULL,
    kind        text        NOT NULL,
    policy_hash text        NOT NULL,
    method      text        NOT NULL,
    server      text        NOT NULL,
    tool        text        NOT NULL,
    principal   text        NOT NULL,
    roles       text        NOT NULL,  -- the roles as canonical JSON (an array of strings)
    decision    text        NOT NULL,
    rule        text,
    code        text        NOT NULL,
    reason      text        NOT NULL,
    risk        text        NOT NULL,
    latency_ns  bigint      NOT NULL,
    approval_id text,
    args_mode   text        NOT NULL,
    args_digest text,
    args        text,                  -- canonical JSON text: jsonb would refuse \u0000
    prev_hash   text        NOT NULL,
    hash        text        NOT NULL,
    -- One chain per log: a second writer on the same log fails here instead of forking it.
    UNIQUE (log, seq)
);

-- The query order (keyset pagination on ts, id).
CREATE INDEX audit_events_ts_id ON {schema}.audit_events (ts, id);

-- Append-only, enforced by the database for everyone, the table owner included.
CREATE FUNCTION {schema}.audit_events_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'mcppol audit log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_events_no_update_delete
    BEFORE UPDATE OR DELETE ON {schema}.audit_events
    FOR EACH ROW EXECUTE FUNCTION {schema}.audit_events_refuse_change();

CREATE TRIGGER audit_events_no_truncate
    BEFORE TRUNCATE ON {schema}.audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION {schema}.audit_events_refuse_change();

-- The writer role may read and append, nothing else.
REVOKE ALL ON {schema}.audit_events FROM PUBLIC;
GRANT USAGE ON SCHEMA {schema} TO {role};
GRANT SELECT, INSERT ON {schema}.audit_events TO {role};
GRANT SELECT ON {schema}.schema_version TO {role};
