-- The migration ledger: one row per registered migration.
--
-- Rows are written by confiture.register / migrate / rollback / baseline;
-- users read them through confiture.status(). Members of confiture_admin
-- may run migrations, so they get the table privileges those functions use.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'confiture_admin') THEN
        CREATE ROLE confiture_admin NOLOGIN;
    END IF;
END
$$;

CREATE TABLE confiture.migrations (
    version         text PRIMARY KEY CHECK (btrim(version) <> ''),
    -- natural order of version (2 < 10), computed by confiture; byte order
    sort_key        text COLLATE "C" NOT NULL UNIQUE,
    name            text NOT NULL,
    up_sql          text NOT NULL,
    down_sql        text,
    -- sha256 (hex) of up_sql as registered; status() compares against it
    checksum        text NOT NULL CHECK (checksum ~ '^[0-9a-f]{64}$'),
    state           text NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'running', 'applied', 'failed', 'baselined')),
    -- NULL when the up SQL does not parse on this server
    statements      integer,
    registered_at   timestamptz NOT NULL DEFAULT now(),
    registered_by   name NOT NULL DEFAULT current_user,
    -- the role whose privileges the migration runs with: whoever last
    -- registered its SQL (see README, "Security model")
    run_as          regrole NOT NULL DEFAULT current_user::regrole,
    -- the search_path it was registered under, used when it runs
    search_path     text NOT NULL DEFAULT current_setting('search_path'),
    -- set by a superuser (confiture.trust_migration): run as the caller instead
    trusted         boolean NOT NULL DEFAULT false,
    -- false: it has statements that cannot run in a transaction block (or
    -- says -- confiture:no-transaction); the confiture client applies it
    transactional   boolean NOT NULL DEFAULT true,
    -- while the client applies it (state 'running'): its session and start
    running_pid     integer,
    running_since   timestamptz,
    -- who approved applying it (confiture migrate wizard): the operating
    -- system user, the database role, a note
    approved_by     text,
    approved_role   name,
    approval_note   text,
    approved_at     timestamptz,
    applied_at      timestamptz,
    applied_by      name,
    duration        interval,
    attempts        integer NOT NULL DEFAULT 0,
    last_error      text,
    last_sqlstate   text,
    -- which statement of up_sql failed last (1-based) and where it starts
    failed_statement integer,
    failed_line     integer
);
COMMENT ON TABLE confiture.migrations IS
    'Confiture migration ledger: one row per registered migration (read it with confiture.status()).';

-- Everything that happened to a migration, in order: an audit trail that
-- survives re-registration and rollback.
CREATE TABLE confiture.migration_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    version     text NOT NULL,
    action      text NOT NULL
                CHECK (action IN ('register', 'replace', 'apply', 'fail', 'rollback', 'baseline', 'trust', 'start', 'approve')),
    by_role     name NOT NULL DEFAULT current_user,
    duration    interval,
    sqlstate    text,
    message     text
);
CREATE INDEX migration_log_version_idx ON confiture.migration_log (version, id);
COMMENT ON TABLE confiture.migration_log IS
    'Confiture audit trail: every register, apply, failure, rollback and baseline.';

-- Everyone may call confiture's functions; each one checks what it needs.
-- Only confiture writes its tables (as the extension's owner): a row here
-- decides what runs as whom, so no role may write one directly.
GRANT USAGE ON SCHEMA confiture TO PUBLIC;
GRANT SELECT ON confiture.migrations, confiture.migration_log TO confiture_admin;

SELECT pg_catalog.pg_extension_config_dump('confiture.migrations', '');
SELECT pg_catalog.pg_extension_config_dump('confiture.migration_log', '');
