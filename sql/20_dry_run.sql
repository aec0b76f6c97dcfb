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
GRANT SELECT, INSERT ON confiture.dry_runs TO confiture_admin;
SELECT pg_catalog.pg_extension_config_dump('confiture.dry_runs', '');
