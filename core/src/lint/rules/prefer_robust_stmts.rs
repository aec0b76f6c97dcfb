//! `prefer-robust-stmts`: a CONCURRENTLY statement without IF [NOT] EXISTS cannot be rerun after a failure

use crate::ddl::*;
use crate::lint::{Context, Hit, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "prefer-robust-stmts",
    severity: Severity::Warning,
    message: "a CONCURRENTLY statement without IF [NOT] EXISTS cannot be rerun after a failure",
    why: "It runs outside a transaction: if it fails halfway (an invalid index is left behind) or the migration is retried, the rerun fails on what the first run left.",
    alternative: "CREATE INDEX CONCURRENTLY IF NOT EXISTS / DROP INDEX CONCURRENTLY IF EXISTS (and drop an INVALID index before retrying).",
    check,
};

fn check(stmt: &Statement, ctx: &Context, out: &mut Vec<Hit>) {
    let _ = ctx;
    match &stmt.kind {
        StatementKind::CreateIndex(ci) if ci.concurrently && !ci.if_not_exists => {
            out.push(Hit::on(
                &ci.table,
                "CREATE INDEX CONCURRENTLY without IF NOT EXISTS fails when rerun",
            ));
        }
        StatementKind::Drop(d) if d.concurrently && !d.if_exists => {
            for n in &d.names {
                out.push(Hit::on(
                    n,
                    "DROP INDEX CONCURRENTLY without IF EXISTS fails when rerun",
                ));
            }
        }
        _ => {}
    }
}
