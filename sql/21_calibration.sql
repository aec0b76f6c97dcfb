-- The rates estimates rest on, measured on this server by confiture.calibrate().
-- One row per rate; assess and the dry run's scaling read them (and use
-- default rates, saying so, while the table is empty). Not dumped: rates
-- belong to the server they were measured on, and a restored copy on
-- another server calibrates itself again.
CREATE TABLE confiture.calibration (
    name            text PRIMARY KEY,
    value           float8 NOT NULL,
    unit            text NOT NULL,
    measured_at     timestamptz NOT NULL DEFAULT now(),
    server_version  text NOT NULL
);
COMMENT ON TABLE confiture.calibration IS 'Confiture: rates measured by confiture.calibrate() on this server, for estimates.';
GRANT SELECT ON confiture.calibration TO confiture_admin;
