-- Migration hooks: registered with confiture.add_hook, run by
-- confiture.migrate around each migration, every run recorded.

CREATE TABLE confiture.hooks (
    name            text PRIMARY KEY CHECK (btrim(name) <> ''),
    phase           text NOT NULL CHECK (phase IN ('before_validation', 'before_ddl', 'after_ddl',
                                                   'after_validation', 'cleanup', 'on_error')),
    -- NULL: every migration; else a version, or a LIKE pattern on version or name
    migration       text,
    -- exactly one action: SQL text, a function taking jsonb, or a built-in
    action_sql      text,
    action_function regprocedure,
    builtin         text,
    options         jsonb NOT NULL DEFAULT '{}',
    run_order       integer NOT NULL DEFAULT 0,
    timeout         interval NOT NULL DEFAULT '5 minutes' CHECK (timeout > '0'),
    on_failure      text NOT NULL DEFAULT 'abort' CHECK (on_failure IN ('abort', 'warn')),
    -- on_error hooks only: keep the hook's own work after the migration is rolled back
    survive         boolean NOT NULL DEFAULT false,
    -- SQL boolean expression over the hook's jsonb context, named "context"
    condition       text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    created_by      name NOT NULL DEFAULT current_user,
    -- the hook runs with this role's privileges, under this search_path
    run_as          regrole NOT NULL DEFAULT current_user::regrole,
    search_path     text NOT NULL DEFAULT current_setting('search_path'),
    -- a function hook: its owner and definition when registered; the hook
    -- refuses to run once either changed (CREATE OR REPLACE, ALTER OWNER)
    function_fingerprint text,
    CHECK (num_nonnulls(action_sql, action_function, builtin) = 1),
    CHECK (NOT survive OR phase = 'on_error')
);
COMMENT ON TABLE confiture.hooks IS
    'Confiture migration hooks (add with confiture.add_hook, remove with confiture.drop_hook).';

-- Every hook run: what ran, when, for how long, and how it ended.
CREATE TABLE confiture.hook_runs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id      uuid NOT NULL,
    version     text NOT NULL,
    phase       text NOT NULL,
    hook        text NOT NULL,
    started_at  timestamptz NOT NULL,
    duration    interval NOT NULL,
    rows        bigint,
    outcome     text NOT NULL CHECK (outcome IN ('ok', 'failed', 'timeout', 'warned', 'skipped')),
    message     text,
    result      jsonb,
    dry_run     boolean NOT NULL DEFAULT false
);
CREATE INDEX hook_runs_version_idx ON confiture.hook_runs (version, id);
COMMENT ON TABLE confiture.hook_runs IS 'Confiture: one row per hook run.';

-- Written only by confiture (as the extension's owner): a row decides what runs as whom.
GRANT SELECT ON confiture.hooks, confiture.hook_runs TO confiture_admin;

-- What a function hook is pinned to: its owner and everything that decides
-- what it does. NULL for no function.
CREATE FUNCTION confiture.function_fingerprint(fn oid) RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT md5(ROW(p.proowner, p.prolang, p.prosrc, p.probin, p.prosecdef, p.proconfig, p.provolatile,
                   p.prorettype, p.proargtypes)::text)
      FROM pg_catalog.pg_proc p WHERE p.oid = $1
$$;
SELECT pg_catalog.pg_extension_config_dump('confiture.hooks', '');
SELECT pg_catalog.pg_extension_config_dump('confiture.hook_runs', '');
