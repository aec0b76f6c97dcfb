use crate::ddl::{ObjectKind, Statement, StatementKind};
use crate::lint::{Context, Hit, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "drop-index-not-concurrent",
    severity: Severity::Warning,
    message: "DROP INDEX without CONCURRENTLY takes ACCESS EXCLUSIVE on the table",
    why: "Reads and writes of the table wait until the drop commits.",
    alternative: "DROP INDEX CONCURRENTLY, run outside a transaction.",
    check,
};

fn check(stmt: &Statement, _ctx: &Context, out: &mut Vec<Hit>) {
    if let StatementKind::Drop(d) = &stmt.kind {
        if d.object == ObjectKind::Index && !d.concurrently {
            out.extend(d.names.iter().map(|n| Hit::on(n, "")));
        }
    }
}
