use crate::ddl::{Statement, StatementKind};
use crate::lint::{Context, Hit, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "index-not-concurrent",
    severity: Severity::Warning,
    message: "CREATE INDEX without CONCURRENTLY blocks writes to the table while it builds",
    why: "A plain CREATE INDEX holds a SHARE lock for the whole build: every INSERT, UPDATE and DELETE waits.",
    alternative: "CREATE INDEX CONCURRENTLY, run outside a transaction (not in confiture.migrate).",
    check,
};

fn check(stmt: &Statement, ctx: &Context, out: &mut Vec<Hit>) {
    if let StatementKind::CreateIndex(ci) = &stmt.kind {
        if !ci.concurrently && !ctx.is_new(&ci.table) {
            out.push(Hit::on(&ci.table, ""));
        }
    }
}
