//! Risk assessment of a statement without running it: the lock it takes
//! and what that blocks, whether it rewrites the table or scans it under
//! the lock, data loss, backward compatibility for running application
//! code, the safe alternative, and how to undo it. The lock and rewrite
//! facts are PostgreSQL 15's documentation, kept in [`locks::FACTS`] with an
//! example each, checked against the real server by the regress suite.

pub mod locks;

use crate::ddl::*;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Tier {
    Safe,
    Caution,
    Dangerous,
}

impl Tier {
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Safe => "safe",
            Tier::Caution => "caution",
            Tier::Dangerous => "dangerous",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Rewrite {
    No,
    Yes,
    /// Depends on something only the catalog knows (a function's volatility).
    Maybe,
}

/// What is known while assessing a script, statement after statement.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Tables created earlier in the same script (following renames and
    /// schemas): nobody else can be using them.
    pub state: crate::ddl::state::ScriptState,
    /// `SET lock_timeout` was run earlier in the script.
    pub lock_timeout: bool,
}

impl Context {
    fn is_new(&self, t: &QualifiedName) -> bool {
        self.state.is_new(t)
    }
    /// Remember what a statement changes for the ones after it.
    pub fn after(&mut self, stmt: &Statement) {
        match &stmt.kind {
            StatementKind::Set { name, value, .. } if name == "lock_timeout" => {
                self.lock_timeout = crate::lint::is_timeout(value.as_deref());
            }
            _ => {}
        }
        self.state.after(stmt);
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Assessment {
    /// The strongest table lock the statement takes, if any.
    pub lock: Option<&'static str>,
    /// The relations it locks that way.
    pub locked: Vec<String>,
    /// What that lock blocks for other sessions.
    pub blocks: &'static str,
    pub rewrite: Rewrite,
    /// Reads every row while holding the lock (validation, SET NOT NULL).
    pub full_scan: bool,
    /// Builds an index while holding the lock.
    pub index_build: bool,
    /// Writes every row of the table (UPDATE or DELETE without WHERE).
    pub writes_every_row: bool,
    pub data_loss: Option<String>,
    pub compatibility: Option<String>,
    pub recommendations: Vec<String>,
    /// The statement that undoes it, or None when it cannot be undone.
    pub inverse: Option<String>,
    pub tier: Tier,
    pub reasons: Vec<String>,
    /// Tables whose size decides how long it takes.
    pub tables: Vec<String>,
}

impl Assessment {
    fn new() -> Self {
        Assessment {
            lock: None,
            locked: Vec::new(),
            blocks: "nothing",
            rewrite: Rewrite::No,
            full_scan: false,
            index_build: false,
            writes_every_row: false,
            data_loss: None,
            compatibility: None,
            recommendations: Vec::new(),
            inverse: None,
            tier: Tier::Safe,
            reasons: Vec::new(),
            tables: Vec::new(),
        }
    }

    fn lock(&mut self, mode: &'static str, on: &QualifiedName, ctx: &Context) {
        if ctx.is_new(on) {
            return; // a table created in this script blocks nobody
        }
        let stronger =
            crate::estimate::strongest(self.lock.into_iter().chain([mode])).unwrap_or(mode);
        self.lock = Some(stronger);
        let name = on.to_string();
        if !self.locked.contains(&name) {
            self.locked.push(name.clone());
        }
        if !self.tables.contains(&name) {
            self.tables.push(name);
        }
    }

    fn raise(&mut self, tier: Tier, reason: impl Into<String>) {
        self.tier = self.tier.max(tier);
        self.reasons.push(reason.into());
    }

    fn recommend(&mut self, r: impl Into<String>) {
        let r = r.into();
        if !self.recommendations.contains(&r) {
            self.recommendations.push(r);
        }
    }
}

const ACCESS_EXCLUSIVE: &str = "AccessExclusiveLock";
/// The inverse of a statement that changes nothing persistent.
pub const NOTHING_TO_UNDO: &str = "nothing to undo";

/// Assess one statement; `ctx` knows what earlier statements did.
pub fn assess(stmt: &Statement, ctx: &Context) -> Assessment {
    let mut a = assess_kind(stmt, ctx);
    // the lock facts cover statements the arms below do not lock
    // (LOCK, triggers, SET SCHEMA, REINDEX, foreign keys of CREATE TABLE ...)
    for (t, mode) in locks::statement_locks(stmt) {
        a.lock(mode, &t, ctx);
    }
    if let StatementKind::CreateTable(t) = &stmt.kind {
        let refs = t
            .columns
            .iter()
            .filter_map(|c| c.references.as_ref())
            .chain(t.constraints.iter().filter_map(|k| k.references.as_ref()));
        for r in refs {
            a.lock(locks::SHARE_ROW_EXCLUSIVE, r, ctx);
        }
    }
    a
}

fn assess_kind(stmt: &Statement, ctx: &Context) -> Assessment {
    let mut a = Assessment::new();
    use StatementKind as K;
    match &stmt.kind {
        K::CreateTable(t) => {
            a.inverse = Some(format!("DROP TABLE {}", t.name));
        }
        K::CreateIndex(ci) => {
            let name = ci
                .name
                .clone()
                .unwrap_or_else(|| format!("<the new index on {}>", ci.table));
            if ci.concurrently {
                a.lock("ShareUpdateExclusiveLock", &ci.table, ctx);
            } else {
                a.lock("ShareLock", &ci.table, ctx);
                if !ctx.is_new(&ci.table) {
                    a.index_build = true;
                    a.raise(
                        Tier::Caution,
                        format!("CREATE INDEX blocks writes to {} while it builds", ci.table),
                    );
                    a.recommend(
                        "Use CREATE INDEX CONCURRENTLY, outside the migration's transaction.",
                    );
                }
            }
            a.inverse = Some(format!("DROP INDEX {name}"));
        }
        K::Drop(d) => drop(&mut a, d, ctx),
        K::AlterTable(at) => {
            for cmd in &at.commands {
                alter(&mut a, &at.table, cmd, ctx);
            }
            if a.lock == Some(ACCESS_EXCLUSIVE) && !ctx.lock_timeout && !ctx.is_new(&at.table) {
                a.recommend("SET lock_timeout (e.g. '5s') before this statement, so waiting for the lock cannot queue every query behind it.");
            }
        }
        K::Rename(r) => {
            let t = &r.target;
            // ALTER INDEX ... RENAME takes SHARE UPDATE EXCLUSIVE (the lock facts)
            if r.object != ObjectKind::Index {
                a.lock(ACCESS_EXCLUSIVE, t, ctx);
            }
            let old = r.sub.clone().unwrap_or_else(|| t.name.clone());
            // a table (or column) this script created has no code using its name yet
            let unseen = ctx.is_new(t)
                || (r.object == ObjectKind::Column
                    && r.sub
                        .as_deref()
                        .is_some_and(|c| ctx.state.is_new_column(t, c)));
            if !unseen {
                a.compatibility = Some(format!("application code using the name {old} breaks"));
                a.raise(
                    Tier::Dangerous,
                    format!(
                        "renaming {old} to {} breaks running code that uses the old name",
                        r.new_name
                    ),
                );
                a.recommend("Add the new name alongside the old one (a view, or a new column kept in sync), move the code, then drop the old name.");
            }
            a.inverse = Some(match (&r.object, &r.sub) {
                (ObjectKind::Column, Some(col)) => {
                    format!("ALTER TABLE {t} RENAME COLUMN {} TO {col}", r.new_name)
                }
                (ObjectKind::Constraint, Some(c)) => {
                    format!("ALTER TABLE {t} RENAME CONSTRAINT {} TO {c}", r.new_name)
                }
                _ => {
                    let renamed = QualifiedName {
                        schema: t.schema.clone(),
                        name: r.new_name.clone(),
                    };
                    format!(
                        "ALTER {} {renamed} RENAME TO {}",
                        object_word(r.object),
                        t.name
                    )
                }
            });
        }
        K::Dml(d) => {
            a.lock("RowExclusiveLock", &d.table, ctx);
            let verb = match d.kind {
                DmlKind::Insert => "INSERT",
                DmlKind::Update => "UPDATE",
                DmlKind::Delete => "DELETE",
                DmlKind::Merge => "MERGE",
            };
            if matches!(d.kind, DmlKind::Update | DmlKind::Delete)
                && !d.has_where
                && !ctx.is_new(&d.table)
            {
                a.writes_every_row = true;
                a.raise(
                    Tier::Caution,
                    format!("{verb} without WHERE touches every row of {}", d.table),
                );
                a.recommend(
                    "Backfill in batches (e.g. a backfill hook) so each transaction stays short.",
                );
                if d.kind == DmlKind::Delete {
                    a.data_loss = Some(format!("deletes every row of {}", d.table));
                    a.raise(Tier::Dangerous, "DELETE without WHERE");
                }
            }
        }
        K::Truncate { tables, .. } => {
            for t in tables {
                a.lock(ACCESS_EXCLUSIVE, t, ctx);
            }
            a.data_loss = Some("removes every row".into());
            a.raise(
                Tier::Dangerous,
                "TRUNCATE removes every row and cannot be undone",
            );
        }
        K::Vacuum(v) if v.full => {
            for t in &v.tables {
                a.lock(ACCESS_EXCLUSIVE, t, ctx);
            }
            a.rewrite = Rewrite::Yes;
            a.raise(
                Tier::Dangerous,
                "VACUUM FULL rewrites the table under ACCESS EXCLUSIVE",
            );
            a.recommend("Use pg_repack, or plain VACUUM.");
        }
        K::Cluster(c) => {
            if let Some(t) = &c.table {
                a.lock(ACCESS_EXCLUSIVE, t, ctx);
            }
            a.rewrite = Rewrite::Yes;
            a.raise(
                Tier::Dangerous,
                "CLUSTER rewrites the table under ACCESS EXCLUSIVE",
            );
            a.recommend("Use pg_repack.");
        }
        K::Reindex(r) => {
            if let Some(n) = &r.name {
                if r.concurrently {
                    a.lock("ShareUpdateExclusiveLock", n, ctx);
                } else {
                    a.lock(
                        if r.target == ReindexTarget::Index {
                            ACCESS_EXCLUSIVE
                        } else {
                            "ShareLock"
                        },
                        n,
                        ctx,
                    );
                    a.index_build = true;
                    a.raise(Tier::Caution, "REINDEX blocks writes while it rebuilds");
                    a.recommend("Use REINDEX CONCURRENTLY, outside the migration's transaction.");
                }
            }
        }
        K::RefreshMaterializedView { name, concurrently } => {
            a.lock(
                if *concurrently {
                    "ExclusiveLock"
                } else {
                    ACCESS_EXCLUSIVE
                },
                name,
                ctx,
            );
            if !concurrently {
                a.raise(
                    Tier::Caution,
                    format!("REFRESH MATERIALIZED VIEW blocks reads of {name}"),
                );
                a.recommend("REFRESH MATERIALIZED VIEW CONCURRENTLY (needs a unique index).");
            }
        }
        K::CreateTrigger { table, name } => {
            a.lock("ShareRowExclusiveLock", table, ctx);
            a.inverse = Some(format!("DROP TRIGGER {name} ON {table}"));
        }
        K::CreateView {
            name, materialized, ..
        } => {
            a.inverse = Some(format!(
                "DROP {}VIEW {name}",
                if *materialized { "MATERIALIZED " } else { "" }
            ));
        }
        K::CreateFunction(f) => {
            a.inverse = Some(format!(
                "DROP {} {}",
                if f.procedure { "PROCEDURE" } else { "FUNCTION" },
                f.name
            ));
        }
        K::Set { .. } | K::Vacuum(_) => a.inverse = Some(NOTHING_TO_UNDO.into()),
        _ => {}
    }
    a.blocks = a.lock.map(crate::estimate::blocks).unwrap_or("nothing");
    if a.inverse.is_none()
        && (a.data_loss.is_some() || matches!(stmt.kind, K::Drop(_) | K::Truncate { .. }))
    {
        a.reasons
            .push("irreversible: the data it removes cannot be brought back by a statement".into());
    }
    a
}

fn object_word(k: ObjectKind) -> &'static str {
    match k {
        ObjectKind::Index => "INDEX",
        ObjectKind::View => "VIEW",
        ObjectKind::MaterializedView => "MATERIALIZED VIEW",
        ObjectKind::Sequence => "SEQUENCE",
        ObjectKind::Schema => "SCHEMA",
        ObjectKind::Function => "FUNCTION",
        ObjectKind::Type => "TYPE",
        _ => "TABLE",
    }
}

fn drop(a: &mut Assessment, d: &Drop, ctx: &Context) {
    for n in &d.names {
        match d.object {
            ObjectKind::Index => {
                // DROP INDEX locks the index's table too; only the catalog knows which
                a.lock(
                    if d.concurrently {
                        "ShareUpdateExclusiveLock"
                    } else {
                        ACCESS_EXCLUSIVE
                    },
                    n,
                    ctx,
                );
                if !d.concurrently {
                    a.raise(
                        Tier::Caution,
                        format!("DROP INDEX {n} takes ACCESS EXCLUSIVE on its table"),
                    );
                    a.recommend(
                        "Use DROP INDEX CONCURRENTLY, outside the migration's transaction.",
                    );
                }
            }
            ObjectKind::Table | ObjectKind::MaterializedView => {
                a.lock(ACCESS_EXCLUSIVE, n, ctx);
                if !ctx.is_new(n) {
                    a.data_loss = Some(format!("drops {n} and all its rows"));
                    a.compatibility = Some(format!("code reading {n} breaks"));
                    a.raise(Tier::Dangerous, format!("DROP of {n} loses its data"));
                    a.recommend("Rename it first and drop it in a later release, once nothing uses it (and after a backup).");
                }
            }
            ObjectKind::Schema => {
                a.data_loss = Some(format!(
                    "drops schema {n}{}",
                    if d.cascade {
                        " and everything in it"
                    } else {
                        ""
                    }
                ));
                a.raise(Tier::Dangerous, format!("DROP SCHEMA {n}"));
            }
            ObjectKind::Column => {}
            _ => {
                a.lock(ACCESS_EXCLUSIVE, n, ctx);
                a.compatibility = Some(format!("code using {n} breaks"));
                a.raise(Tier::Caution, format!("dropping {n}"));
            }
        }
    }
}

fn alter(a: &mut Assessment, table: &QualifiedName, cmd: &AlterTableCmd, ctx: &Context) {
    use AlterTableCmd as C;
    let new = ctx.is_new(table);
    match cmd {
        C::AddColumn { column, .. } => {
            a.lock(ACCESS_EXCLUSIVE, table, ctx);
            a.inverse = Some(format!("ALTER TABLE {table} DROP COLUMN {}", column.name));
            let volatile = match &column.default {
                Some(DefaultExpr::Volatile(f)) => {
                    Some(Rewrite::Yes).map(|r| (r, format!("volatile default {f}()")))
                }
                Some(DefaultExpr::Unknown(f)) => {
                    Some((Rewrite::Maybe, format!("default {f}(), volatile or not")))
                }
                _ if column.type_name.is_serial() => Some((
                    Rewrite::Yes,
                    format!("{} (a nextval() default)", column.type_name.name),
                )),
                _ if column.identity => {
                    Some((Rewrite::Yes, "identity column (a nextval() default)".into()))
                }
                _ if column.generated_stored => {
                    Some((Rewrite::Yes, "stored generated column".into()))
                }
                _ => None,
            };
            if let Some((rewrite, why)) = volatile {
                if !new {
                    a.rewrite = a.rewrite.max_of(rewrite);
                    let tier = if rewrite == Rewrite::Yes {
                        Tier::Dangerous
                    } else {
                        Tier::Caution
                    };
                    a.raise(
                        tier,
                        format!(
                            "adding {} with a {why} rewrites {table} under ACCESS EXCLUSIVE",
                            column.name
                        ),
                    );
                    a.recommend("Add the column without a default (or with a constant one), then backfill in batches and set the default afterwards.");
                }
            }
            if column.not_null && column.default.is_none() && !new {
                a.compatibility = Some(format!("INSERTs that do not set {} fail", column.name));
                a.raise(Tier::Caution, format!("NOT NULL column {} without a default breaks existing INSERTs (and fails on a non-empty table)", column.name));
                a.recommend("Add it nullable or with a default; set NOT NULL once every row and every writer has it.");
            }
        }
        C::DropColumn { name, .. } => {
            a.lock(ACCESS_EXCLUSIVE, table, ctx);
            if !new {
                a.data_loss = Some(format!("column {table}.{name} and its values"));
                a.compatibility = Some(format!("code reading or writing {name} breaks"));
                a.raise(
                    Tier::Dangerous,
                    format!("dropping column {name} loses its data and breaks code that uses it"),
                );
                a.recommend("Stop using the column in the application first (and ignore it in the ORM), then drop it in a later release.");
            }
        }
        C::AlterColumnType {
            column,
            type_name,
            using,
        } => {
            a.lock(ACCESS_EXCLUSIVE, table, ctx);
            if !new {
                // widening varchar / to text is binary-coercible: no rewrite;
                // a USING expression is computed for every row: always one
                let cheap =
                    !*using && type_name.is(&["text", "varchar", "character varying", "citext"]);
                a.rewrite = if cheap { Rewrite::Maybe } else { Rewrite::Yes };
                let tier = if cheap {
                    Tier::Caution
                } else {
                    Tier::Dangerous
                };
                a.raise(tier, format!("changing the type of {column} to {type_name} {} {table} under ACCESS EXCLUSIVE",
                    if cheap { "may rewrite" } else { "rewrites" }));
                a.compatibility = Some(format!("code reading {column} may see a different type"));
                if !cheap {
                    a.data_loss = Some(format!(
                        "values of {column} that do not fit {type_name} are changed or rejected"
                    ));
                }
                a.recommend("Add a new column of the new type, backfill it in batches, switch the code, then drop the old column.");
            }
        }
        C::SetNotNull { column } => {
            a.lock(ACCESS_EXCLUSIVE, table, ctx);
            if !new {
                a.full_scan = true;
                a.raise(
                    Tier::Caution,
                    format!("SET NOT NULL on {column} scans {table} under ACCESS EXCLUSIVE"),
                );
                a.recommend(format!(
                    "First ADD CONSTRAINT ... CHECK ({column} IS NOT NULL) NOT VALID, then VALIDATE CONSTRAINT; SET NOT NULL then skips the scan."
                ));
                a.compatibility = Some(format!("writers that leave {column} NULL fail"));
            }
            a.inverse = Some(format!(
                "ALTER TABLE {table} ALTER COLUMN {column} DROP NOT NULL"
            ));
        }
        C::DropNotNull { column } => {
            a.lock(ACCESS_EXCLUSIVE, table, ctx);
            a.inverse = Some(format!(
                "ALTER TABLE {table} ALTER COLUMN {column} SET NOT NULL"
            ));
        }
        C::SetDefault { column, .. } => {
            a.lock(ACCESS_EXCLUSIVE, table, ctx);
            a.inverse = Some(format!(
                "ALTER TABLE {table} ALTER COLUMN {column} DROP DEFAULT"
            ));
        }
        C::DropDefault { .. } => a.lock(ACCESS_EXCLUSIVE, table, ctx),
        C::AddConstraint(k) => add_constraint(a, table, k, ctx),
        C::ValidateConstraint { .. } => {
            a.lock("ShareUpdateExclusiveLock", table, ctx);
            a.full_scan = !new;
            a.inverse = Some(NOTHING_TO_UNDO.into());
        }
        C::DropConstraint { name, .. } => {
            a.lock(ACCESS_EXCLUSIVE, table, ctx);
            a.reasons.push(format!(
                "dropping constraint {name}: its definition must be restated to undo it"
            ));
        }
        C::SetLogged | C::SetUnlogged => {
            a.lock(ACCESS_EXCLUSIVE, table, ctx);
            if !new {
                a.rewrite = Rewrite::Yes;
                a.raise(
                    Tier::Dangerous,
                    format!("SET LOGGED/UNLOGGED rewrites {table}"),
                );
            }
            a.inverse = Some(format!(
                "ALTER TABLE {table} SET {}",
                if matches!(cmd, C::SetLogged) {
                    "UNLOGGED"
                } else {
                    "LOGGED"
                }
            ));
        }
        C::SetTablespace => {
            a.lock(ACCESS_EXCLUSIVE, table, ctx);
            a.rewrite = Rewrite::Yes;
            a.raise(
                Tier::Dangerous,
                format!("SET TABLESPACE copies {table} under ACCESS EXCLUSIVE"),
            );
        }
        C::AttachPartition { partition } => {
            a.lock("ShareUpdateExclusiveLock", table, ctx);
            a.lock(ACCESS_EXCLUSIVE, partition, ctx);
            a.full_scan = true;
            a.recommend("Add a CHECK constraint matching the partition bound (NOT VALID, then VALIDATE) before attaching, to skip the scan.");
            a.inverse = Some(format!("ALTER TABLE {table} DETACH PARTITION {partition}"));
        }
        C::DetachPartition {
            partition,
            concurrently,
        } => {
            a.lock(
                if *concurrently {
                    "ShareUpdateExclusiveLock"
                } else {
                    ACCESS_EXCLUSIVE
                },
                table,
                ctx,
            );
            a.inverse = Some(format!(
                "ALTER TABLE {table} ATTACH PARTITION {partition} FOR VALUES ..."
            ));
        }
        C::SetStatistics { column } => {
            a.lock("ShareUpdateExclusiveLock", table, ctx);
            a.inverse = Some(format!(
                "ALTER TABLE {table} ALTER COLUMN {column} SET STATISTICS -1"
            ));
        }
        // every other subcommand: the lock PostgreSQL takes for it
        _ => a.lock(locks::alter_lock(cmd), table, ctx),
    }
}

fn add_constraint(a: &mut Assessment, table: &QualifiedName, k: &Constraint, ctx: &Context) {
    let new = ctx.is_new(table);
    let name = k.name.clone().unwrap_or_else(|| "<constraint>".into());
    a.inverse = Some(format!("ALTER TABLE {table} DROP CONSTRAINT {name}"));
    match k.kind {
        ConstraintKind::ForeignKey => {
            a.lock("ShareRowExclusiveLock", table, ctx);
            if let Some(r) = &k.references {
                a.lock("ShareRowExclusiveLock", r, ctx);
            }
            if !k.not_valid && !new {
                a.full_scan = true;
                a.raise(Tier::Caution, format!("adding foreign key {name} validates every row of {table} while blocking writes to both tables"));
                a.recommend("Add it NOT VALID, then VALIDATE CONSTRAINT in a later statement (it only takes SHARE UPDATE EXCLUSIVE).");
            }
        }
        ConstraintKind::PrimaryKey | ConstraintKind::Unique => {
            a.lock(ACCESS_EXCLUSIVE, table, ctx);
            if k.using_index.is_none() && !new {
                a.index_build = true;
                a.raise(
                    Tier::Dangerous,
                    format!("adding {name} builds its index under ACCESS EXCLUSIVE"),
                );
                a.recommend(
                    "CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT ... USING INDEX.",
                );
            }
        }
        ConstraintKind::Check | ConstraintKind::NotNull => {
            a.lock(ACCESS_EXCLUSIVE, table, ctx);
            if !k.not_valid && !new {
                a.full_scan = true;
                a.raise(
                    Tier::Caution,
                    format!("adding check {name} scans {table} under ACCESS EXCLUSIVE"),
                );
                a.recommend("Add it NOT VALID, then VALIDATE CONSTRAINT in a later statement.");
            }
        }
        ConstraintKind::Exclusion => {
            a.lock(ACCESS_EXCLUSIVE, table, ctx);
            if !new {
                a.index_build = true;
                a.raise(
                    Tier::Dangerous,
                    format!(
                        "adding exclusion constraint {name} builds an index under ACCESS EXCLUSIVE"
                    ),
                );
            }
        }
        ConstraintKind::Other => a.lock(ACCESS_EXCLUSIVE, table, ctx),
    }
}

impl Rewrite {
    fn max_of(self, other: Rewrite) -> Rewrite {
        match (self, other) {
            (Rewrite::Yes, _) | (_, Rewrite::Yes) => Rewrite::Yes,
            (Rewrite::Maybe, _) | (_, Rewrite::Maybe) => Rewrite::Maybe,
            _ => Rewrite::No,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Rewrite::No => "no",
            Rewrite::Yes => "yes",
            Rewrite::Maybe => "maybe",
        }
    }
}

/// A migration's tier: its worst statement's, with every reason.
pub fn migration_tier(assessments: &[Assessment]) -> (Tier, Vec<String>) {
    let tier = assessments
        .iter()
        .map(|a| a.tier)
        .max()
        .unwrap_or(Tier::Safe);
    let reasons = assessments
        .iter()
        .flat_map(|a| a.reasons.iter().cloned())
        .collect();
    (tier, reasons)
}

/// Rough cost of the work, in microseconds per row of the table, for
/// estimating a duration without running (measured on PostgreSQL 15 with
/// the data in memory; a dry run measures instead).
pub fn micros_per_row(a: &Assessment) -> f64 {
    if a.writes_every_row {
        10.0
    } else if a.rewrite == Rewrite::Yes {
        1.0
    } else if a.index_build {
        0.6
    } else if a.full_scan {
        0.12
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Span;

    fn stmt(kind: StatementKind) -> Statement {
        Statement {
            span: Span::new(0, 0),
            tag: String::new(),
            kind,
        }
    }
    fn alter(cmd: AlterTableCmd) -> Statement {
        stmt(StatementKind::AlterTable(AlterTable {
            table: QualifiedName::unqualified("t"),
            object: None,
            commands: vec![cmd],
        }))
    }
    fn column(default: Option<DefaultExpr>) -> ColumnDef {
        ColumnDef {
            name: "c".into(),
            type_name: TypeName {
                name: "int4".into(),
                ..Default::default()
            },
            default,
            ..Default::default()
        }
    }

    #[test]
    fn volatile_defaults_rewrite_constant_ones_do_not() {
        let ctx = Context::default();
        let constant = assess(
            &alter(AlterTableCmd::AddColumn {
                column: column(Some(DefaultExpr::Constant)),
                if_not_exists: false,
            }),
            &ctx,
        );
        assert_eq!(
            (constant.lock, constant.rewrite, constant.tier),
            (Some("AccessExclusiveLock"), Rewrite::No, Tier::Safe)
        );
        let volatile = assess(
            &alter(AlterTableCmd::AddColumn {
                column: column(Some(DefaultExpr::Volatile("random".into()))),
                if_not_exists: false,
            }),
            &ctx,
        );
        assert_eq!(
            (volatile.rewrite, volatile.tier),
            (Rewrite::Yes, Tier::Dangerous)
        );
        assert!(volatile
            .recommendations
            .iter()
            .any(|r| r.contains("backfill")));
    }

    #[test]
    fn tables_created_in_the_same_script_are_not_at_risk() {
        let mut ctx = Context::default();
        ctx.after(&stmt(StatementKind::CreateTable(CreateTable {
            name: QualifiedName::unqualified("t"),
            ..Default::default()
        })));
        let a = assess(
            &alter(AlterTableCmd::AlterColumnType {
                column: "c".into(),
                type_name: TypeName::default(),
                using: false,
            }),
            &ctx,
        );
        assert_eq!((a.lock, a.rewrite, a.tier), (None, Rewrite::No, Tier::Safe));
    }

    #[test]
    fn foreign_keys_not_valid_then_validate() {
        let ctx = Context::default();
        let fk = |not_valid| Constraint {
            name: Some("fk".into()),
            kind: ConstraintKind::ForeignKey,
            not_valid,
            using_index: None,
            columns: vec!["c".into()],
            references: Some(QualifiedName::unqualified("r")),
            checks_not_null: None,
        };
        let blocking = assess(&alter(AlterTableCmd::AddConstraint(fk(false))), &ctx);
        assert!(blocking.full_scan && blocking.tier == Tier::Caution);
        assert_eq!(blocking.locked, vec!["t".to_string(), "r".to_string()]);
        let quick = assess(&alter(AlterTableCmd::AddConstraint(fk(true))), &ctx);
        assert!(!quick.full_scan && quick.tier == Tier::Safe);
        let validate = assess(
            &alter(AlterTableCmd::ValidateConstraint { name: "fk".into() }),
            &ctx,
        );
        assert_eq!(
            (validate.lock, validate.blocks),
            (Some("ShareUpdateExclusiveLock"), "nothing")
        );
    }

    #[test]
    fn drops_lose_data_and_renames_break_code() {
        let ctx = Context::default();
        let d = assess(
            &alter(AlterTableCmd::DropColumn {
                name: "c".into(),
                if_exists: false,
                cascade: false,
            }),
            &ctx,
        );
        assert!(d.data_loss.is_some() && d.inverse.is_none() && d.tier == Tier::Dangerous);
        let r = assess(
            &stmt(StatementKind::Rename(Rename {
                object: ObjectKind::Column,
                target: QualifiedName::unqualified("t"),
                sub: Some("a".into()),
                new_name: "b".into(),
            })),
            &ctx,
        );
        assert_eq!(
            r.inverse.as_deref(),
            Some("ALTER TABLE t RENAME COLUMN b TO a")
        );
        assert!(r.compatibility.is_some());
    }

    #[test]
    fn every_lock_fact_names_a_known_mode() {
        for f in locks::FACTS {
            assert!(
                crate::estimate::LOCK_MODES.contains(&f.lock),
                "{}",
                f.operation
            );
        }
    }
}
