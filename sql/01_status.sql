-- confiture.status(): the ledger as users read it.
CREATE FUNCTION confiture.status()
RETURNS TABLE (
    version         text,
    name            text,
    state           text,
    drifted         boolean,
    applied_at      timestamptz,
    applied_by      name,
    duration        interval,
    statements      integer,
    has_down        boolean,
    attempts        integer,
    last_sqlstate   text,
    last_error      text,
    checksum        text
)
LANGUAGE sql STABLE
SET search_path = pg_catalog, confiture, pg_temp
AS $$
    SELECT m.version, m.name, m.state,
           -- the SQL in the ledger is no longer what was applied
           m.state IN ('applied', 'baselined')
               AND encode(sha256(convert_to(m.up_sql, 'UTF8')), 'hex') <> m.checksum,
           m.applied_at, m.applied_by, m.duration, m.statements,
           m.down_sql IS NOT NULL, m.attempts, m.last_sqlstate, m.last_error, m.checksum
      FROM confiture.migrations m
     ORDER BY m.sort_key
$$;
COMMENT ON FUNCTION confiture.status() IS
    'Every registered migration in version order, with its state and whether its SQL drifted since it was applied.';
