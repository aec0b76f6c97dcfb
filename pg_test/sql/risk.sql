-- Risk assessment without running: locks, rewrites, data loss, backward
-- compatibility, recommendations, inverses and a tier per migration.
CREATE EXTENSION confiture;
SET client_min_messages = warning;
SET IntervalStyle = postgres;  -- pg_regress would print '@ 5 mins'
SET confiture.drift_mode = off;  -- this suite makes objects by hand on purpose (drift: history.sql)
CREATE TABLE risk_r (id int PRIMARY KEY);
CREATE TABLE risk_t (id int PRIMARY KEY, a int CHECK (a > -100), b text);
INSERT INTO risk_r SELECT g FROM generate_series(1, 10) g;
INSERT INTO risk_t SELECT g, g % 10 + 1, 'b' || g FROM generate_series(1, 100) g;
-- what the other facts' examples name
CREATE UNIQUE INDEX risk_t_id_u ON risk_t (id);
CREATE TABLE risk_f (a int CONSTRAINT risk_f_fk REFERENCES risk_r (id));
CREATE TRIGGER risk_t_trg BEFORE UPDATE ON risk_t FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger();
CREATE RULE risk_t_rule AS ON DELETE TO risk_t WHERE false DO INSTEAD NOTHING;
CREATE TABLE risk_p (id int);
CREATE SCHEMA risk_s;
CREATE TABLE risk_pt (id int) PARTITION BY RANGE (id);
CREATE TABLE risk_pt1 PARTITION OF risk_pt FOR VALUES FROM (0) TO (100);
CREATE TABLE risk_pt2 (id int);
CREATE MATERIALIZED VIEW risk_mv AS SELECT id FROM risk_r;

-- Every documented lock fact, checked three ways: the table in core, what
-- confiture.assess says (the statement's strongest lock), and the strongest
-- lock the server really takes on the fact's relation (run in a savepoint
-- that is rolled back).
CREATE TEMP TABLE lock_order (mode text, strength int);
INSERT INTO lock_order VALUES ('AccessShareLock', 1), ('RowShareLock', 2), ('RowExclusiveLock', 3),
  ('ShareUpdateExclusiveLock', 4), ('ShareLock', 5), ('ShareRowExclusiveLock', 6), ('ExclusiveLock', 7),
  ('AccessExclusiveLock', 8);
CREATE TEMP TABLE checked AS
SELECT f.operation, f.relation, f.lock AS documented,
       (SELECT a.lock FROM confiture.assess(f.example) a WHERE a.statement = 1) AS assessed,
       (SELECT p.mode FROM confiture.probe_locks(f.example) p JOIN lock_order o USING (mode)
         WHERE p.relation = f.relation ORDER BY o.strength DESC LIMIT 1) AS observed,
       f.rewrites,
       (SELECT a.rewrite FROM confiture.assess(f.example) a WHERE a.statement = 1) AS assessed_rewrite
  FROM confiture.lock_facts() f;
SELECT * FROM checked;
-- none differs from the server
SELECT operation, documented, observed FROM checked WHERE documented IS DISTINCT FROM observed;

-- The rewrite facts, against the server: does the table get a new file?
CREATE FUNCTION rewrites(sql text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE before oid := (SELECT relfilenode FROM pg_class WHERE relname = 'risk_t'); after oid;
BEGIN
    BEGIN
        EXECUTE sql;
        after := (SELECT relfilenode FROM pg_class WHERE oid = 'risk_t'::regclass);
        RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = 'undo';
    EXCEPTION WHEN raise_exception THEN NULL;
    END;
    RETURN after IS DISTINCT FROM before;
END $$;
SELECT operation, rewrites AS documented, rewrites(example) AS observed
  FROM confiture.lock_facts() WHERE example LIKE 'ALTER TABLE risk_t %' AND example NOT LIKE '%RENAME%'
   AND example NOT LIKE '%SET SCHEMA%';

-- A migration assessed statement by statement; row 0 is the migration's tier.
SELECT statement, line, lock, blocks, rewrite, full_scan, data_loss IS NOT NULL AS data_loss,
       compatibility IS NOT NULL AS breaks_code, tier, inverse
  FROM confiture.assess($$
    CREATE TABLE w_orders (id bigint PRIMARY KEY, total numeric);
    CREATE INDEX ON w_orders (total);
    ALTER TABLE risk_t ADD COLUMN c text;
    ALTER TABLE risk_t ADD COLUMN d timestamptz DEFAULT clock_timestamp();
    ALTER TABLE risk_t ALTER COLUMN a TYPE bigint;
    ALTER TABLE risk_t ADD CONSTRAINT risk_fk FOREIGN KEY (a) REFERENCES risk_r (id) NOT VALID;
    ALTER TABLE risk_t VALIDATE CONSTRAINT risk_fk;
    ALTER TABLE risk_t RENAME COLUMN b TO b2;
    ALTER TABLE risk_t DROP COLUMN c;
    UPDATE risk_t SET a = 1;
  $$);

-- assess agrees with lint: renaming a table (or a column) the script created
-- breaks nothing; a type change with USING always rewrites.
SELECT statement, tier, compatibility IS NOT NULL AS breaks_code, rewrite
  FROM confiture.assess($$
    CREATE TABLE risk_n (id int);
    ALTER TABLE risk_n RENAME TO risk_n2;
    ALTER TABLE risk_n2 RENAME COLUMN id TO id2;
    ALTER TABLE risk_t ALTER COLUMN b TYPE text USING b || '';
    ALTER TABLE risk_t ALTER COLUMN b TYPE text;
  $$);

-- Recommendations name the safe form.
SELECT statement, unnest(recommendations) AS recommendation
  FROM confiture.assess($$
    CREATE INDEX risk_i ON risk_t (b);
    ALTER TABLE risk_t ADD CONSTRAINT risk_fk FOREIGN KEY (a) REFERENCES risk_r (id);
    ALTER TABLE risk_t ALTER COLUMN a SET NOT NULL;
  $$) WHERE statement > 0;

-- SET lock_timeout earlier in the script silences that recommendation.
SELECT count(*) FILTER (WHERE r LIKE 'SET lock_timeout%') AS lock_timeout_advice
  FROM confiture.assess($$SET lock_timeout = '5s'; ALTER TABLE risk_t ADD COLUMN e int;$$), unnest(recommendations) r;

-- The reasons of a migration's tier, and assess_migration for registered ones.
SELECT confiture.register('1', 'drop and rename', 'ALTER TABLE risk_t DROP COLUMN b; ALTER TABLE risk_t RENAME TO risk_t_old;');
SELECT statement, tier, reasons FROM confiture.assess_migration('1');

-- Bad input
SELECT * FROM confiture.assess('ALTER TABLE');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM confiture.assess(NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM confiture.assess_migration('nope');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- SQL this server cannot parse is assessed as dangerous, with the reason,
-- instead of an ERROR that would abort the caller's transaction.
BEGIN;
SELECT statement, line, tier, reasons FROM confiture.assess(E'SELECT 1;\nSELECT * FROM (SELECT 1);');
SELECT 'the transaction goes on' AS still;
COMMIT;

DROP EXTENSION confiture;
DROP FUNCTION rewrites(text);
DROP TABLE risk_t, risk_f, risk_r, risk_p, risk_pt, risk_pt2 CASCADE;
DROP SCHEMA risk_s;
