//! `transaction-nesting`: BEGIN inside an open transaction, or COMMIT / ROLLBACK in a migration that runs in one

use crate::ddl::*;
use crate::lint::{Context, Hit, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "transaction-nesting",
    severity: Severity::Warning,
    message: "BEGIN inside an open transaction, or COMMIT / ROLLBACK in a migration that runs in one",
    why: "A second BEGIN is ignored with a WARNING, and its COMMIT ends the outer transaction early: the rest of the migration runs outside it and cannot be rolled back together.",
    alternative: "One transaction per migration: remove the inner BEGIN / COMMIT (the migrator wraps the migration).",
    check,
};

fn check(stmt: &Statement, ctx: &Context, out: &mut Vec<Hit>) {
    if let StatementKind::Transaction(TransactionKind::Begin) = &stmt.kind {
        if ctx.in_transaction {
            out.push(Hit::on(
                "",
                "BEGIN while a transaction is already open: the inner COMMIT ends the outer one",
            ));
        }
    }
}
