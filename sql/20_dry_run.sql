-- Dry runs leave nothing behind but this record of themselves.
CREATE TABLE confiture.dry_runs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id      uuid NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    by_role     name NOT NULL DEFAULT current_user,
    target      text,
    report      jsonb NOT NULL
);
COMMENT ON TABLE confiture.dry_runs IS 'Confiture: the report of every dry run (the dry run itself left nothing else).';
-- Reports hold sampled rows: each role reads only its own dry runs
-- (superusers all); only confiture writes them.
ALTER TABLE confiture.dry_runs ENABLE ROW LEVEL SECURITY;
CREATE POLICY dry_runs_own ON confiture.dry_runs FOR SELECT USING (by_role = current_user);
GRANT SELECT ON confiture.dry_runs TO confiture_admin;
SELECT pg_catalog.pg_extension_config_dump('confiture.dry_runs', '');
