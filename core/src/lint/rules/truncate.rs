use crate::ddl::{Statement, StatementKind};
use crate::lint::{Context, Hit, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "truncate",
    severity: Severity::Warning,
    message: "TRUNCATE removes every row under ACCESS EXCLUSIVE",
    why: "The data is gone, and TRUNCATE waits for and then blocks every query on the table.",
    alternative: "Make sure this is intended; DELETE in batches if the table is in use.",
    check,
};

fn check(stmt: &Statement, ctx: &Context, out: &mut Vec<Hit>) {
    if let StatementKind::Truncate { tables, .. } = &stmt.kind {
        out.extend(
            tables
                .iter()
                .filter(|t| !ctx.is_new(t))
                .map(|t| Hit::on(t, "")),
        );
    }
}
