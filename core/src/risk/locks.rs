//! The table-level lock each kind of statement takes on PostgreSQL 15 (from
//! the documentation of each command and "Explicit Locking"), with an
//! example run against `risk_t (id int PRIMARY KEY, a int, b text)` and
//! `risk_r (id int PRIMARY KEY)`. `pg_test/sql/risk.sql` runs every example
//! in a rolled-back savepoint and checks the lock the server really took
//! against both this table and `confiture.assess`.

use crate::ddl::*;

pub struct LockFact {
    pub operation: &'static str,
    pub example: &'static str,
    /// The strongest lock on `relation`.
    pub lock: &'static str,
    pub rewrites: bool,
    /// The relation the lock is on (`risk_t` unless said otherwise).
    pub relation: &'static str,
}

const fn fact(
    operation: &'static str,
    example: &'static str,
    lock: &'static str,
    rewrites: bool,
) -> LockFact {
    fact_on(operation, example, "risk_t", lock, rewrites)
}

const fn fact_on(
    operation: &'static str,
    example: &'static str,
    relation: &'static str,
    lock: &'static str,
    rewrites: bool,
) -> LockFact {
    LockFact {
        operation,
        example,
        lock,
        rewrites,
        relation,
    }
}

pub const ACCESS_EXCLUSIVE: &str = "AccessExclusiveLock";
pub const EXCLUSIVE: &str = "ExclusiveLock";
pub const SHARE_ROW_EXCLUSIVE: &str = "ShareRowExclusiveLock";
pub const SHARE: &str = "ShareLock";
pub const SHARE_UPDATE_EXCLUSIVE: &str = "ShareUpdateExclusiveLock";
pub const ROW_EXCLUSIVE: &str = "RowExclusiveLock";

/// A pg_locks mode as SQL names it: `AccessExclusiveLock` → `ACCESS EXCLUSIVE`.
pub fn sql_mode(mode: &str) -> String {
    let m = mode.strip_suffix("Lock").unwrap_or(mode);
    let mut out = String::new();
    for (i, c) in m.char_indices() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push(' ');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// Does `mode` make ordinary reads or writes of the table wait (and so,
/// while it waits itself, queue them behind it)?
pub fn blocks_traffic(mode: &str) -> bool {
    matches!(
        mode,
        ACCESS_EXCLUSIVE | EXCLUSIVE | SHARE_ROW_EXCLUSIVE | SHARE
    )
}

/// How an `ALTER TABLE` storage parameter is locked (PostgreSQL's
/// `reloptions.c`): the maintenance ones take SHARE UPDATE EXCLUSIVE.
fn option_lock(option: &str) -> &'static str {
    let o = option.strip_prefix("toast.").unwrap_or(option);
    let light = o.starts_with("autovacuum_")
        || matches!(
            o,
            "fillfactor"
                | "log_autovacuum_min_duration"
                | "vacuum_index_cleanup"
                | "vacuum_truncate"
                | "parallel_workers"
                | "toast_tuple_target"
        );
    if light {
        SHARE_UPDATE_EXCLUSIVE
    } else {
        ACCESS_EXCLUSIVE
    }
}

/// The lock one `ALTER TABLE` subcommand takes on its table (PostgreSQL
/// 15's `AlterTableGetLockLevel`).
pub fn alter_lock(cmd: &AlterTableCmd) -> &'static str {
    use AlterTableCmd as C;
    match cmd {
        C::ValidateConstraint { .. }
        | C::SetStatistics { .. }
        | C::SetColumnOptions { .. }
        | C::ClusterOn { .. }
        | C::AttachPartition { .. } => SHARE_UPDATE_EXCLUSIVE,
        C::DetachPartition { concurrently, .. } => {
            if *concurrently {
                SHARE_UPDATE_EXCLUSIVE
            } else {
                ACCESS_EXCLUSIVE
            }
        }
        C::SetOptions { options, .. } => {
            crate::estimate::strongest(options.iter().map(|o| option_lock(o)))
                .unwrap_or(ACCESS_EXCLUSIVE)
        }
        C::Trigger { .. } => SHARE_ROW_EXCLUSIVE,
        C::AddConstraint(k) if k.kind == ConstraintKind::ForeignKey => SHARE_ROW_EXCLUSIVE,
        _ => ACCESS_EXCLUSIVE,
    }
}

/// The table-level locks a statement takes on the relations it names,
/// strongest per relation, in the order they are named.
pub fn statement_locks(stmt: &Statement) -> Vec<(QualifiedName, &'static str)> {
    use StatementKind as K;
    let mut out: Vec<(QualifiedName, &'static str)> = Vec::new();
    let mut add = |t: &QualifiedName, mode: &'static str| {
        if t.name.is_empty() {
            return;
        }
        match out.iter_mut().find(|(n, _)| n == t) {
            Some((_, m)) => *m = crate::estimate::strongest([*m, mode]).unwrap_or(mode),
            None => out.push((t.clone(), mode)),
        }
    };
    match &stmt.kind {
        K::CreateIndex(ci) => add(
            &ci.table,
            if ci.concurrently {
                SHARE_UPDATE_EXCLUSIVE
            } else {
                SHARE
            },
        ),
        K::Drop(d) => {
            for n in &d.names {
                match d.object {
                    ObjectKind::Table | ObjectKind::View | ObjectKind::MaterializedView => {
                        add(n, ACCESS_EXCLUSIVE)
                    }
                    ObjectKind::Index => add(
                        n,
                        if d.concurrently {
                            SHARE_UPDATE_EXCLUSIVE
                        } else {
                            ACCESS_EXCLUSIVE
                        },
                    ),
                    // DROP TRIGGER trg ON t: the name's "schema" part is the table
                    ObjectKind::Trigger | ObjectKind::Policy => {
                        if let Some(t) = &n.schema {
                            add(&QualifiedName::unqualified(t), ACCESS_EXCLUSIVE)
                        }
                    }
                    _ => {}
                }
            }
        }
        K::Truncate { tables, .. } => tables.iter().for_each(|t| add(t, ACCESS_EXCLUSIVE)),
        K::Lock { tables, mode } => {
            let mode = crate::estimate::LOCK_MODES
                .iter()
                .find(|m| *m == mode)
                .copied()
                .unwrap_or(ACCESS_EXCLUSIVE);
            tables.iter().for_each(|t| add(t, mode))
        }
        K::AlterTable(at) => {
            for c in &at.commands {
                let mode = match at.object {
                    // ALTER INDEX ... SET (...) / SET TABLESPACE: on the index
                    Some(ObjectKind::Index) => match c {
                        AlterTableCmd::SetOptions { .. } => SHARE_UPDATE_EXCLUSIVE,
                        _ => alter_lock(c),
                    },
                    _ => alter_lock(c),
                };
                add(&at.table, mode);
                match c {
                    AlterTableCmd::AddConstraint(k) => {
                        if let Some(r) = &k.references {
                            add(r, SHARE_ROW_EXCLUSIVE);
                        }
                    }
                    AlterTableCmd::AttachPartition { partition }
                    | AlterTableCmd::DetachPartition { partition, .. } => {
                        add(partition, ACCESS_EXCLUSIVE)
                    }
                    _ => {}
                }
            }
        }
        K::Rename(r) => match r.object {
            ObjectKind::Index => add(&r.target, SHARE_UPDATE_EXCLUSIVE),
            ObjectKind::Table
            | ObjectKind::Column
            | ObjectKind::Constraint
            | ObjectKind::View
            | ObjectKind::MaterializedView
            | ObjectKind::Sequence
            | ObjectKind::Trigger
            | ObjectKind::Policy => add(&r.target, ACCESS_EXCLUSIVE),
            _ => {}
        },
        K::CreateTrigger { table, .. } => add(table, SHARE_ROW_EXCLUSIVE),
        K::Vacuum(v) if v.full => v.tables.iter().for_each(|t| add(t, ACCESS_EXCLUSIVE)),
        K::Cluster(c) => {
            if let Some(t) = &c.table {
                add(t, ACCESS_EXCLUSIVE)
            }
        }
        K::RefreshMaterializedView { name, concurrently } => add(
            name,
            if *concurrently {
                EXCLUSIVE
            } else {
                ACCESS_EXCLUSIVE
            },
        ),
        K::Reindex(r) if !r.concurrently => {
            if let Some(n) = &r.name {
                match r.target {
                    ReindexTarget::Table => add(n, SHARE),
                    ReindexTarget::Index => add(n, ACCESS_EXCLUSIVE),
                    _ => {}
                }
            }
        }
        K::SetSchema {
            object: ObjectKind::Table | ObjectKind::View | ObjectKind::MaterializedView,
            name,
            ..
        } => add(name, ACCESS_EXCLUSIVE),
        K::Dml(d) => add(&d.table, ROW_EXCLUSIVE),
        _ => {}
    }
    out
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
    // every other ALTER TABLE subcommand
    fact("set storage parameter (maintenance)", "ALTER TABLE risk_t SET (autovacuum_enabled = false)", "ShareUpdateExclusiveLock", false),
    fact("set fillfactor", "ALTER TABLE risk_t SET (fillfactor = 90)", "ShareUpdateExclusiveLock", false),
    fact("reset storage parameter", "ALTER TABLE risk_t RESET (autovacuum_vacuum_scale_factor)", "ShareUpdateExclusiveLock", false),
    fact("set toast storage parameter", "ALTER TABLE risk_t SET (toast.autovacuum_enabled = false)", "ShareUpdateExclusiveLock", false),
    fact("set user_catalog_table", "ALTER TABLE risk_t SET (user_catalog_table = true)", "AccessExclusiveLock", false),
    fact("set column n_distinct", "ALTER TABLE risk_t ALTER COLUMN a SET (n_distinct = 100)", "ShareUpdateExclusiveLock", false),
    fact("reset column options", "ALTER TABLE risk_t ALTER COLUMN a RESET (n_distinct)", "ShareUpdateExclusiveLock", false),
    fact("set storage", "ALTER TABLE risk_t ALTER COLUMN b SET STORAGE EXTERNAL", "AccessExclusiveLock", false),
    fact("set compression", "ALTER TABLE risk_t ALTER COLUMN b SET COMPRESSION pglz", "AccessExclusiveLock", false),
    fact("cluster on", "ALTER TABLE risk_t CLUSTER ON risk_t_pkey", "ShareUpdateExclusiveLock", false),
    fact("set without cluster", "ALTER TABLE risk_t SET WITHOUT CLUSTER", "ShareUpdateExclusiveLock", false),
    fact("disable trigger", "ALTER TABLE risk_t DISABLE TRIGGER ALL", "ShareRowExclusiveLock", false),
    fact("enable trigger", "ALTER TABLE risk_t ENABLE TRIGGER USER", "ShareRowExclusiveLock", false),
    fact("enable replica trigger", "ALTER TABLE risk_t ENABLE REPLICA TRIGGER risk_t_trg", "ShareRowExclusiveLock", false),
    fact("disable rule", "ALTER TABLE risk_t DISABLE RULE risk_t_rule", "AccessExclusiveLock", false),
    fact("enable row level security", "ALTER TABLE risk_t ENABLE ROW LEVEL SECURITY", "AccessExclusiveLock", false),
    fact("force row level security", "ALTER TABLE risk_t FORCE ROW LEVEL SECURITY", "AccessExclusiveLock", false),
    fact("inherit", "ALTER TABLE risk_t INHERIT risk_p", "AccessExclusiveLock", false),
    fact("owner to", "ALTER TABLE risk_t OWNER TO CURRENT_USER", "AccessExclusiveLock", false),
    fact("replica identity", "ALTER TABLE risk_t REPLICA IDENTITY FULL", "AccessExclusiveLock", false),
    fact("add identity", "ALTER TABLE risk_t ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY", "AccessExclusiveLock", false),
    fact_on("alter constraint", "ALTER TABLE risk_f ALTER CONSTRAINT risk_f_fk DEFERRABLE", "risk_f", "AccessExclusiveLock", false),
    fact("drop default", "ALTER TABLE risk_t ALTER COLUMN a DROP DEFAULT", "AccessExclusiveLock", false),
    fact("set logged (of a logged table: nothing to do)", "ALTER TABLE risk_t SET LOGGED", "AccessExclusiveLock", false),
    fact("add primary key using index", "ALTER TABLE risk_t DROP CONSTRAINT risk_t_pkey, ADD CONSTRAINT risk_pk PRIMARY KEY USING INDEX risk_t_id_u", "AccessExclusiveLock", false),
    fact("add exclusion constraint", "ALTER TABLE risk_t ADD CONSTRAINT risk_x EXCLUDE (id WITH =)", "AccessExclusiveLock", false),
    fact("set access method (to the one it has: no rewrite)", "ALTER TABLE risk_t SET ACCESS METHOD heap", "AccessExclusiveLock", false),
    fact("set schema", "ALTER TABLE risk_t SET SCHEMA risk_s", "AccessExclusiveLock", false),
    fact_on("add foreign key not valid: referenced table", "ALTER TABLE risk_t ADD CONSTRAINT risk_fk FOREIGN KEY (a) REFERENCES risk_r (id) NOT VALID", "risk_r", "ShareRowExclusiveLock", false),
    fact_on("attach partition: the partition", "ALTER TABLE risk_pt ATTACH PARTITION risk_pt2 FOR VALUES FROM (100) TO (200)", "risk_pt2", "AccessExclusiveLock", false),
    fact_on("attach partition: the parent", "ALTER TABLE risk_pt ATTACH PARTITION risk_pt2 FOR VALUES FROM (100) TO (200)", "risk_pt", "ShareUpdateExclusiveLock", false),
    fact_on("detach partition", "ALTER TABLE risk_pt DETACH PARTITION risk_pt1", "risk_pt", "AccessExclusiveLock", false),
    // the other DDL the rules reason about
    fact("create unique index", "CREATE UNIQUE INDEX risk_u2 ON risk_t (id)", "ShareLock", false),
    fact_on("drop index", "DROP INDEX risk_t_id_u", "risk_t", "AccessExclusiveLock", false),
    fact_on("rename index", "ALTER INDEX risk_t_id_u RENAME TO risk_t_id_u2", "risk_t_id_u", "ShareUpdateExclusiveLock", false),
    fact("rename constraint", "ALTER TABLE risk_t RENAME CONSTRAINT risk_t_a_check TO risk_t_a_positive", "AccessExclusiveLock", false),
    fact("rename trigger", "ALTER TRIGGER risk_t_trg ON risk_t RENAME TO risk_t_trg2", "AccessExclusiveLock", false),
    fact("drop trigger", "DROP TRIGGER risk_t_trg ON risk_t", "AccessExclusiveLock", false),
    fact("lock table", "LOCK TABLE risk_t", "AccessExclusiveLock", false),
    fact("lock table in share mode", "LOCK TABLE risk_t IN SHARE MODE", "ShareLock", false),
    fact("reindex table", "REINDEX TABLE risk_t", "ShareLock", false),
    fact_on("reindex index", "REINDEX INDEX risk_t_id_u", "risk_t_id_u", "AccessExclusiveLock", false),
    fact_on("refresh materialized view", "REFRESH MATERIALIZED VIEW risk_mv", "risk_mv", "AccessExclusiveLock", false),
    fact_on("create table referencing an existing table", "CREATE TABLE risk_c (id int REFERENCES risk_r)", "risk_r", "ShareRowExclusiveLock", false),
];
