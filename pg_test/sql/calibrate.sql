-- Calibration: estimates rest on rates (microseconds per row scanned,
-- written, indexed, checked ...). confiture.calibrate() measures them on
-- this server in a few seconds, on a scratch table it drops, and stores one
-- row per rate. Until then, assess uses default rates and says so.
CREATE EXTENSION confiture;
SET client_min_messages = warning;
SET confiture.drift_mode = off;  -- this suite makes objects by hand on purpose (drift: history.sql)
CREATE TABLE cal_t (id bigint PRIMARY KEY, email text);
INSERT INTO cal_t SELECT g, 'user' || g || '@example.com' FROM generate_series(1, 50000) g;
ANALYZE cal_t;
SELECT statement, confidence FROM confiture.assess('CREATE INDEX ON cal_t (email)');
-- What an estimate used:
SELECT unnest(inputs) AS input FROM confiture.assess('CREATE INDEX ON cal_t (email)') WHERE statement = 1;

-- Calibrate: every rate, positive, for this server's version; the scratch table is gone.
SELECT count(*) AS rates, bool_and(value >= 0) AS not_negative,
       bool_and(server_version = current_setting('server_version')) AS this_server
  FROM confiture.calibrate();
SELECT name, unit FROM confiture.calibration ORDER BY name;
SELECT count(*) AS scratch_left FROM pg_class WHERE relname LIKE 'calibration\_scratch\_%' OR relname LIKE 'calibration\_parent\_%';
-- Calibrating again replaces the rows.
SELECT count(*) FROM confiture.calibrate();
SELECT count(*) FROM confiture.calibration;

-- assess now says its rates are this server's.
SELECT statement, confidence FROM confiture.assess('CREATE INDEX ON cal_t (email)');
SELECT input ~ '^rates calibrated ' AS calibrated FROM confiture.assess('CREATE INDEX ON cal_t (email)') a, unnest(a.inputs) input
 WHERE a.statement = 1 AND input LIKE 'rates%';

-- maintenance_work_mem: an index build whose sort does not fit spills to
-- disk and is slower by index_build_spill_factor (set to 2 here, so the test
-- does not depend on this machine); more memory never makes it slower.
UPDATE confiture.calibration SET value = 2 WHERE name = 'index_build_spill_factor';
UPDATE confiture.calibration SET value = 0 WHERE name = 'index_build_startup_ms';  -- no startup: the ratio is exact
SET maintenance_work_mem = '1MB';
CREATE TEMP TABLE cal_small_mem AS
SELECT extract(epoch FROM estimated_duration) AS s, inputs FROM confiture.assess('CREATE INDEX ON cal_t (email)') WHERE statement = 1;
SET maintenance_work_mem = '1GB';
CREATE TEMP TABLE cal_big_mem AS
SELECT extract(epoch FROM estimated_duration) AS s, inputs FROM confiture.assess('CREATE INDEX ON cal_t (email)') WHERE statement = 1;
RESET maintenance_work_mem;
SELECT b.s < m.s AS more_memory_is_faster, round((m.s / b.s)::numeric, 1) AS ratio,
       'maintenance_work_mem (the sort spills to disk)' = ANY (m.inputs) AS small_spills,
       'maintenance_work_mem (the sort fits in memory)' = ANY (b.inputs) AS big_fits
  FROM cal_small_mem m, cal_big_mem b;

-- Only administrators calibrate, and read the rates; everyone's assess uses them.
CREATE ROLE cal_regress_user;
SET ROLE cal_regress_user;
SELECT * FROM confiture.calibrate();
SELECT count(*) FROM confiture.calibration;
SELECT statement, confidence FROM confiture.assess('ALTER TABLE cal_t ALTER COLUMN email SET NOT NULL');
RESET ROLE;
DROP ROLE cal_regress_user;

-- A read-only transaction cannot calibrate.
BEGIN READ ONLY;
SELECT * FROM confiture.calibrate();
ROLLBACK;
DROP TABLE cal_t;
DROP EXTENSION confiture;
