//! `statements-after-access-exclusive`: more statements run while an ACCESS EXCLUSIVE lock is held

use crate::ddl::*;
use crate::lint::{Context, Hit, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "statements-after-access-exclusive",
    severity: Severity::Info,
    message: "more statements run while an ACCESS EXCLUSIVE lock is held",
    why: "The lock is held until the transaction commits: every statement after the one that took it lengthens the time the table is unreadable.",
    alternative: "Put the statement that takes ACCESS EXCLUSIVE last in its migration (or in a migration of its own).",
    check,
};

fn check(stmt: &Statement, ctx: &Context, out: &mut Vec<Hit>) {
    if let Some(holder) = &ctx.holding_access_exclusive {
        if matches!(
            stmt.kind,
            StatementKind::Transaction(_) | StatementKind::Set { .. }
        ) {
            return;
        }
        out.push(Hit::on(
            holder,
            format!(
                "{} runs while ACCESS EXCLUSIVE on {holder} is held (until COMMIT)",
                stmt.tag
            ),
        ));
    }
}
