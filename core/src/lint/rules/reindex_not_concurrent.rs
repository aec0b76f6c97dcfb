//! `reindex-not-concurrent`: REINDEX without CONCURRENTLY blocks writes to the table (and reads through the index)

use crate::ddl::*;
use crate::lint::{Context, Hit, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "reindex-not-concurrent",
    severity: Severity::Warning,
    message: "REINDEX without CONCURRENTLY blocks writes to the table (and reads through the index)",
    why: "REINDEX TABLE holds SHARE on the table and ACCESS EXCLUSIVE on each index while it rebuilds them.",
    alternative: "REINDEX ... CONCURRENTLY (PostgreSQL 12+), outside a transaction block.",
    check,
};

fn check(stmt: &Statement, ctx: &Context, out: &mut Vec<Hit>) {
    if let StatementKind::Reindex(r) = &stmt.kind {
        if r.concurrently
            || !matches!(
                r.target,
                ReindexTarget::Table
                    | ReindexTarget::Index
                    | ReindexTarget::Schema
                    | ReindexTarget::Database
            )
        {
            return;
        }
        if let Some(n) = &r.name {
            if !ctx.is_new(n) {
                out.push(Hit::on(n, ""));
            }
        }
    }
}
