//! The table-level lock each kind of statement takes on PostgreSQL 15 (from
//! the documentation of each command and "Explicit Locking"), with an
//! example run against `risk_t (id int PRIMARY KEY, a int, b text)` and
//! `risk_r (id int PRIMARY KEY)`. `pg_test/sql/risk.sql` runs every example
//! in a rolled-back savepoint and checks the lock the server really took
//! against both this table and `confiture.assess`.

pub struct LockFact {
    pub operation: &'static str,
    pub example: &'static str,
    /// The strongest lock on the table the example names first.
    pub lock: &'static str,
    pub rewrites: bool,
}

const fn fact(
    operation: &'static str,
    example: &'static str,
    lock: &'static str,
    rewrites: bool,
) -> LockFact {
    LockFact {
        operation,
        example,
        lock,
        rewrites,
    }
}

pub const FACTS: &[LockFact] = &[
    fact("add column", "ALTER TABLE risk_t ADD COLUMN c text", "AccessExclusiveLock", false),
    fact("add column, constant default", "ALTER TABLE risk_t ADD COLUMN c int DEFAULT 0", "AccessExclusiveLock", false),
    fact("add column, volatile default", "ALTER TABLE risk_t ADD COLUMN c float8 DEFAULT random()", "AccessExclusiveLock", true),
    fact("add column, serial", "ALTER TABLE risk_t ADD COLUMN c bigserial", "AccessExclusiveLock", true),
    fact("drop column", "ALTER TABLE risk_t DROP COLUMN b", "AccessExclusiveLock", false),
    fact("change column type", "ALTER TABLE risk_t ALTER COLUMN a TYPE bigint", "AccessExclusiveLock", true),
    fact("set not null", "ALTER TABLE risk_t ALTER COLUMN a SET NOT NULL", "AccessExclusiveLock", false),
    fact("drop not null", "ALTER TABLE risk_t ALTER COLUMN a DROP NOT NULL", "AccessExclusiveLock", false),
    fact("set default", "ALTER TABLE risk_t ALTER COLUMN a SET DEFAULT 1", "AccessExclusiveLock", false),
    fact("add check", "ALTER TABLE risk_t ADD CONSTRAINT risk_c CHECK (a > 0)", "AccessExclusiveLock", false),
    fact("add check not valid", "ALTER TABLE risk_t ADD CONSTRAINT risk_c CHECK (a > 0) NOT VALID", "AccessExclusiveLock", false),
    fact("add foreign key", "ALTER TABLE risk_t ADD CONSTRAINT risk_fk FOREIGN KEY (a) REFERENCES risk_r (id)", "ShareRowExclusiveLock", false),
    fact("add foreign key not valid", "ALTER TABLE risk_t ADD CONSTRAINT risk_fk FOREIGN KEY (a) REFERENCES risk_r (id) NOT VALID", "ShareRowExclusiveLock", false),
    fact("validate constraint", "ALTER TABLE risk_t VALIDATE CONSTRAINT risk_t_a_check", "ShareUpdateExclusiveLock", false),
    fact("add unique", "ALTER TABLE risk_t ADD CONSTRAINT risk_u UNIQUE (b)", "AccessExclusiveLock", false),
    fact("drop constraint", "ALTER TABLE risk_t DROP CONSTRAINT risk_t_a_check", "AccessExclusiveLock", false),
    fact("set statistics", "ALTER TABLE risk_t ALTER COLUMN a SET STATISTICS 500", "ShareUpdateExclusiveLock", false),
    fact("set unlogged", "ALTER TABLE risk_t SET UNLOGGED", "AccessExclusiveLock", true),
    fact("create index", "CREATE INDEX risk_i ON risk_t (a)", "ShareLock", false),
    fact("drop table", "DROP TABLE risk_t", "AccessExclusiveLock", false),
    fact("rename table", "ALTER TABLE risk_t RENAME TO risk_t2", "AccessExclusiveLock", false),
    fact("rename column", "ALTER TABLE risk_t RENAME COLUMN a TO a2", "AccessExclusiveLock", false),
    fact("truncate", "TRUNCATE risk_t", "AccessExclusiveLock", false),
    fact("update", "UPDATE risk_t SET a = a + 1", "RowExclusiveLock", false),
    fact("delete", "DELETE FROM risk_t WHERE a < 0", "RowExclusiveLock", false),
    fact("insert", "INSERT INTO risk_t VALUES (1000, 1, 'x')", "RowExclusiveLock", false),
    fact("create trigger", "CREATE TRIGGER risk_trg BEFORE UPDATE ON risk_t FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()", "ShareRowExclusiveLock", false),
    fact("cluster", "CLUSTER risk_t USING risk_t_pkey", "AccessExclusiveLock", true),
];
