//! The DDL model: owned Rust types for the statements Confiture reasons
//! about.
//!
//! `src/ddl/convert.rs` builds these from the server's own parse tree (from
//! `raw_parser` or an event trigger's `parsetree`); lint rules, risk rules,
//! the migrator and the DDL history see only these types. Statement kinds
//! that no rule cares about are kept as [`StatementKind::Other`] with their
//! command tag, so nothing is ever dropped on the floor.

pub mod functions;
pub mod state;
pub mod table;
pub mod transaction;

pub use table::*;

use crate::source::Span;
use serde::{Deserialize, Serialize};

/// A possibly schema-qualified name, as written (not resolved).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
pub struct QualifiedName {
    pub schema: Option<String>,
    pub name: String,
}

impl QualifiedName {
    pub fn new(schema: Option<&str>, name: &str) -> Self {
        QualifiedName {
            schema: schema.map(str::to_owned),
            name: name.to_owned(),
        }
    }
    pub fn unqualified(name: &str) -> Self {
        Self::new(None, name)
    }
}

impl std::fmt::Display for QualifiedName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.schema {
            Some(s) => write!(f, "{}.{}", s, self.name),
            None => write!(f, "{}", self.name),
        }
    }
}

/// pg_locks' name of lock mode `n` (1 = AccessShareLock ... 8 = AccessExclusiveLock).
pub fn lock_mode_name(n: i32) -> &'static str {
    match n {
        1 => "AccessShareLock",
        2 => "RowShareLock",
        3 => "RowExclusiveLock",
        4 => "ShareUpdateExclusiveLock",
        5 => "ShareLock",
        6 => "ShareRowExclusiveLock",
        7 => "ExclusiveLock",
        _ => "AccessExclusiveLock",
    }
}

impl Statement {
    /// The existing tables the statement works on (for deciding whether
    /// they were created in the same transaction).
    pub fn target_tables(&self) -> Vec<QualifiedName> {
        match &self.kind {
            StatementKind::CreateIndex(ci) => vec![ci.table.clone()],
            StatementKind::AlterTable(at) => vec![at.table.clone()],
            StatementKind::Rename(r) => vec![r.target.clone()],
            StatementKind::Dml(d) => vec![d.table.clone()],
            StatementKind::Truncate { tables, .. } => tables.clone(),
            StatementKind::Lock { tables, .. } => tables.clone(),
            StatementKind::Drop(d) => d.names.clone(),
            _ => Vec::new(),
        }
    }
}

/// One statement of a migration or one DDL command seen by an event trigger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    /// Where it is in the source text (first token to last, no `;`).
    pub span: Span,
    /// The server's command tag, e.g. `CREATE INDEX`, `ALTER TABLE`.
    pub tag: String,
    pub kind: StatementKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum StatementKind {
    CreateIndex(CreateIndex),
    Drop(Drop),
    Reindex(Reindex),
    Vacuum(Vacuum),
    Cluster(Cluster),
    /// `ALTER SYSTEM ...`
    AlterSystem,
    /// `CREATE`/`DROP`/`ALTER DATABASE`; `set_tablespace` for `ALTER DATABASE ... SET TABLESPACE`.
    Database {
        action: DatabaseAction,
    },
    /// `CREATE`/`DROP TABLESPACE`
    Tablespace {
        create: bool,
    },
    /// `BEGIN`, `COMMIT`, `SAVEPOINT`, `PREPARE TRANSACTION` ...
    Transaction(TransactionKind),
    /// `CREATE`/`ALTER`/`DROP SUBSCRIPTION`; whether it touches a replication slot.
    Subscription {
        action: SubscriptionAction,
    },
    /// `COPY`; `client_side` when it reads from STDIN or writes to STDOUT.
    Copy {
        client_side: bool,
    },
    /// `DISCARD ALL` and friends.
    Discard {
        all: bool,
    },
    CreateTable(CreateTable),
    AlterTable(AlterTable),
    Rename(Rename),
    /// `INSERT`, `UPDATE`, `DELETE`, `MERGE` on a table.
    Dml(Dml),
    Truncate {
        tables: Vec<QualifiedName>,
        cascade: bool,
    },
    /// `ALTER TYPE t ADD VALUE v [BEFORE | AFTER w]`; `positioned` with BEFORE/AFTER.
    AddEnumValue {
        type_name: QualifiedName,
        value: String,
        positioned: bool,
    },
    /// `CREATE DOMAIN ... CHECK (...)` (`create`) or `ALTER DOMAIN ... ADD CONSTRAINT`.
    DomainConstraint {
        name: QualifiedName,
        create: bool,
    },
    CreateFunction(CreateFunction),
    /// `SET [LOCAL] name = value` (`lock_timeout`, `statement_timeout` ...).
    Set {
        name: String,
        value: Option<String>,
        local: bool,
    },
    /// `CREATE [OR REPLACE] VIEW` / `CREATE MATERIALIZED VIEW`.
    CreateView {
        name: QualifiedName,
        materialized: bool,
        or_replace: bool,
    },
    RefreshMaterializedView {
        name: QualifiedName,
        concurrently: bool,
    },
    CreateTrigger {
        table: QualifiedName,
        name: String,
    },
    /// `CREATE SCHEMA`, `CREATE TYPE`, `CREATE EXTENSION` ...: something new and empty.
    CreateOther {
        object: ObjectKind,
        name: Option<QualifiedName>,
    },
    /// `LOCK [TABLE] t, ... [IN mode MODE]`; `mode` as pg_locks names it.
    Lock {
        tables: Vec<QualifiedName>,
        mode: String,
    },
    /// `ALTER TABLE|VIEW|TYPE|FUNCTION ... SET SCHEMA s`
    SetSchema {
        object: ObjectKind,
        name: QualifiedName,
        schema: String,
    },
    /// Anything no rule looks at.
    Other,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CreateIndex {
    pub name: Option<String>,
    pub table: QualifiedName,
    pub unique: bool,
    pub concurrently: bool,
    pub if_not_exists: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ObjectKind {
    Table,
    Index,
    Sequence,
    View,
    MaterializedView,
    Schema,
    Column,
    Constraint,
    Function,
    Procedure,
    Trigger,
    Type,
    Domain,
    Extension,
    Policy,
    Other,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Drop {
    pub object: ObjectKind,
    pub names: Vec<QualifiedName>,
    pub concurrently: bool,
    pub if_exists: bool,
    pub cascade: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReindexTarget {
    Index,
    Table,
    Schema,
    System,
    Database,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reindex {
    pub target: ReindexTarget,
    pub name: Option<QualifiedName>,
    pub concurrently: bool,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Vacuum {
    /// `ANALYZE` without `VACUUM` may run in a transaction block.
    pub analyze_only: bool,
    pub full: bool,
    pub tables: Vec<QualifiedName>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Cluster {
    /// `None` for a bare `CLUSTER`, which reclusters every table.
    pub table: Option<QualifiedName>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DatabaseAction {
    Create,
    Drop,
    SetTablespace,
    Alter,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TransactionKind {
    Begin,
    Commit,
    Rollback,
    Savepoint,
    Release,
    RollbackTo,
    Prepare,
    CommitPrepared,
    RollbackPrepared,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SubscriptionAction {
    /// `CREATE SUBSCRIPTION` that creates its slot (the default).
    CreateWithSlot,
    /// `DROP SUBSCRIPTION` of a subscription that has a slot (we cannot
    /// know without the catalog, so every DROP is this).
    Drop,
    /// `ALTER SUBSCRIPTION ... REFRESH PUBLICATION` and friends.
    Refresh,
    /// Anything else (allowed in a transaction block).
    Other,
}
