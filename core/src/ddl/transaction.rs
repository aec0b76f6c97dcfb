//! Statements that cannot run inside a transaction block.
//!
//! Every migration runs inside a subtransaction of the caller's
//! transaction, so these would fail half way through a run (or, for
//! `COMMIT`, break the run's atomicity). The migrator refuses them before
//! anything runs. The list follows PostgreSQL 15's `PreventInTransactionBlock`
//! call sites, plus what SPI itself cannot execute.

use super::{DatabaseAction, Statement, StatementKind, SubscriptionAction};

/// Why a statement cannot be part of a migration, and what to do instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restriction {
    pub reason: String,
    pub hint: String,
    /// The confiture client can run it (at top level, in autocommit);
    /// false for what no migration may contain (transaction control, COPY
    /// from the client).
    pub client_runs: bool,
}

fn restriction(reason: impl Into<String>, hint: impl Into<String>) -> Option<Restriction> {
    Some(Restriction {
        reason: reason.into(),
        hint: hint.into(),
        client_runs: true,
    })
}

fn refused(reason: impl Into<String>, hint: impl Into<String>) -> Option<Restriction> {
    Some(Restriction {
        reason: reason.into(),
        hint: hint.into(),
        client_runs: false,
    })
}

/// The marker that makes a whole migration run through the client, one
/// statement at a time in autocommit: `-- confiture:no-transaction` on its
/// first line.
pub const NO_TRANSACTION_MARKER: &str = "-- confiture:no-transaction";

pub fn has_no_transaction_marker(sql: &str) -> bool {
    sql.trim_start()
        .lines()
        .next()
        .is_some_and(|l| l.trim_end() == NO_TRANSACTION_MARKER)
}

const OUTSIDE: &str = "Apply the migration with the confiture client (confiture migrate up), which runs such \
                       statements one at a time outside a transaction; write them re-runnable (IF NOT EXISTS).";

/// The restriction on `stmt`, or `None` when it may run in a migration.
pub fn restriction_of(stmt: &Statement) -> Option<Restriction> {
    use StatementKind::*;
    match &stmt.kind {
        CreateIndex(ci) if ci.concurrently => restriction(
            "CREATE INDEX CONCURRENTLY cannot run inside a transaction block",
            OUTSIDE,
        ),
        Drop(d) if d.concurrently => {
            restriction("DROP INDEX CONCURRENTLY cannot run inside a transaction block", OUTSIDE)
        }
        Reindex(r) if r.concurrently => {
            restriction("REINDEX CONCURRENTLY cannot run inside a transaction block", OUTSIDE)
        }
        Reindex(r)
            if matches!(r.target, super::ReindexTarget::System | super::ReindexTarget::Database) =>
        {
            restriction("REINDEX DATABASE and REINDEX SYSTEM cannot run inside a transaction block", OUTSIDE)
        }
        Vacuum(v) if !v.analyze_only => {
            restriction("VACUUM cannot run inside a transaction block", "Use ANALYZE inside a migration if fresh statistics are what you need; schedule VACUUM separately.")
        }
        Cluster(c) if c.table.is_none() => restriction(
            "CLUSTER without a table name cannot run inside a transaction block",
            "Name the table: CLUSTER table_name USING index_name.",
        ),
        AlterSystem => restriction("ALTER SYSTEM cannot run inside a transaction block", OUTSIDE),
        Database { action } if *action != DatabaseAction::Alter => {
            restriction(format!("{} cannot run inside a transaction block", stmt.tag), OUTSIDE)
        }
        Tablespace { .. } => {
            restriction(format!("{} cannot run inside a transaction block", stmt.tag), OUTSIDE)
        }
        Subscription { action } if *action != SubscriptionAction::Other => {
            restriction(format!("{} cannot run inside a transaction block", stmt.tag), OUTSIDE)
        }
        Transaction(_) => refused(
            format!("{} would end or split the migration's transaction", stmt.tag),
            "Remove transaction control from the migration: each migration already runs atomically in its own subtransaction.",
        ),
        Copy { client_side: true } => refused(
            "COPY FROM STDIN / TO STDOUT needs a client connection, which a migration does not have",
            "Use COPY with a server-side file, or INSERT ... SELECT.",
        ),
        Discard { all: true } => {
            restriction("DISCARD ALL cannot run inside a transaction block", "Remove it from the migration.")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ddl::*;
    use crate::source::Span;

    fn stmt(tag: &str, kind: StatementKind) -> Statement {
        Statement {
            span: Span::default(),
            tag: tag.into(),
            kind,
        }
    }

    #[test]
    fn concurrent_index_is_refused() {
        let ci = CreateIndex {
            concurrently: true,
            ..Default::default()
        };
        let r = restriction_of(&stmt("CREATE INDEX", StatementKind::CreateIndex(ci))).unwrap();
        assert!(r.reason.contains("CONCURRENTLY"));
        let plain = CreateIndex::default();
        assert_eq!(
            restriction_of(&stmt("CREATE INDEX", StatementKind::CreateIndex(plain))),
            None
        );
    }

    #[test]
    fn analyze_is_allowed_vacuum_is_not() {
        let v = Vacuum {
            analyze_only: true,
            ..Default::default()
        };
        assert!(restriction_of(&stmt("ANALYZE", StatementKind::Vacuum(v))).is_none());
        let v = Vacuum::default();
        assert!(restriction_of(&stmt("VACUUM", StatementKind::Vacuum(v))).is_some());
    }

    #[test]
    fn cluster_needs_a_table() {
        let all = Cluster { table: None };
        assert!(restriction_of(&stmt("CLUSTER", StatementKind::Cluster(all))).is_some());
        let one = Cluster {
            table: Some(QualifiedName::unqualified("t")),
        };
        assert!(restriction_of(&stmt("CLUSTER", StatementKind::Cluster(one))).is_none());
    }

    #[test]
    fn transaction_control_and_system_statements() {
        for (tag, kind) in [
            (
                "COMMIT",
                StatementKind::Transaction(TransactionKind::Commit),
            ),
            ("ALTER SYSTEM", StatementKind::AlterSystem),
            (
                "CREATE DATABASE",
                StatementKind::Database {
                    action: DatabaseAction::Create,
                },
            ),
            (
                "DROP TABLESPACE",
                StatementKind::Tablespace { create: false },
            ),
            ("COPY", StatementKind::Copy { client_side: true }),
            ("DISCARD ALL", StatementKind::Discard { all: true }),
        ] {
            assert!(restriction_of(&stmt(tag, kind)).is_some(), "{tag}");
        }
        assert!(restriction_of(&stmt(
            "ALTER DATABASE",
            StatementKind::Database {
                action: DatabaseAction::Alter
            }
        ))
        .is_none());
        assert!(
            restriction_of(&stmt("COPY", StatementKind::Copy { client_side: false })).is_none()
        );
        assert!(restriction_of(&stmt("CREATE TABLE", StatementKind::Other)).is_none());
    }
}
