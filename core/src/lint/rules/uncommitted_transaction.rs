//! `uncommitted-transaction`: BEGIN without a COMMIT: the script ends with its transaction open

use crate::ddl::*;
use crate::lint::{Context, Hit, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "uncommitted-transaction",
    severity: Severity::Error,
    message: "BEGIN without a COMMIT: the script ends with its transaction open",
    why: "Everything after BEGIN is rolled back when the session ends, or holds its locks until someone commits.",
    alternative: "End the transaction with COMMIT (or drop the BEGIN: the migrator wraps the migration).",
    check,
};

fn check(stmt: &Statement, ctx: &Context, out: &mut Vec<Hit>) {
    if let StatementKind::Transaction(TransactionKind::Begin) = &stmt.kind {
        if ctx.unclosed_begins.contains(&stmt.span.start) {
            out.push(Hit::on("", ""));
        }
    }
}
