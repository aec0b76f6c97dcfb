use crate::ddl::{AlterTableCmd, Statement, StatementKind};
use crate::lint::{Context, Hit, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "missing-lock-timeout",
    severity: Severity::Warning,
    message: "statement takes ACCESS EXCLUSIVE without a lock_timeout",
    why: "While it waits for the lock behind a long query, every other query on the table queues behind it: a short ALTER becomes an outage.",
    alternative: "SET lock_timeout = '5s' (or SET LOCAL) before it, and retry the migration if it times out.",
    check,
};

fn check(stmt: &Statement, ctx: &Context, out: &mut Vec<Hit>) {
    if ctx.lock_timeout {
        return;
    }
    if let StatementKind::AlterTable(at) = &stmt.kind {
        let exclusive = at.commands.iter().any(|c| {
            !matches!(
                c,
                AlterTableCmd::ValidateConstraint { .. }
                    | AlterTableCmd::SetStatistics { .. }
                    | AlterTableCmd::AttachPartition { .. }
            )
        });
        if exclusive && !ctx.is_new(&at.table) {
            out.push(Hit::on(
                &at.table,
                format!(
                    "ALTER TABLE {} takes ACCESS EXCLUSIVE with no lock_timeout set",
                    at.table
                ),
            ));
        }
    }
}
