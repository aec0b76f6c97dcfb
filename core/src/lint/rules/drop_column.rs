use crate::ddl::{AlterTableCmd, Statement, StatementKind};
use crate::lint::{Context, Hit, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "drop-column",
    severity: Severity::Warning,
    message: "dropping a column loses its data and breaks code that still reads or writes it",
    why: "Application instances deployed before the migration still name the column; its values are gone for good.",
    alternative: "Stop using the column in the application (and ignore it in the ORM) first; drop it in a later release, after a backup.",
    check,
};

fn check(stmt: &Statement, ctx: &Context, out: &mut Vec<Hit>) {
    if let StatementKind::AlterTable(at) = &stmt.kind {
        if ctx.is_new(&at.table) {
            return;
        }
        for c in &at.commands {
            if let AlterTableCmd::DropColumn { name, .. } = c {
                out.push(Hit::on(format!("{}.{name}", at.table), ""));
            }
        }
    }
}
