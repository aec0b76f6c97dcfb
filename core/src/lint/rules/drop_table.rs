use crate::ddl::{ObjectKind, Statement, StatementKind};
use crate::lint::{Context, Hit, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "drop-table",
    severity: Severity::Warning,
    message: "dropping a table or schema loses its data and breaks code that uses it",
    why: "The rows cannot be brought back without a backup, and running code still queries the table.",
    alternative: "Rename it (or revoke access) first and drop it in a later release, once nothing uses it.",
    check,
};

fn check(stmt: &Statement, ctx: &Context, out: &mut Vec<Hit>) {
    if let StatementKind::Drop(d) = &stmt.kind {
        if matches!(
            d.object,
            ObjectKind::Table | ObjectKind::Schema | ObjectKind::MaterializedView
        ) {
            out.extend(
                d.names
                    .iter()
                    .filter(|n| !ctx.is_new(n))
                    .map(|n| Hit::on(n, "")),
            );
        }
    }
}
