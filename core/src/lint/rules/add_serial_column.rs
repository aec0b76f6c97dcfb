use crate::ddl::{AlterTableCmd, Statement, StatementKind};
use crate::lint::{Context, Hit, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "add-serial-column",
    severity: Severity::Error,
    message: "adding a serial, identity or stored generated column rewrites the table",
    why: "Each existing row needs its own value, so the table is rewritten under ACCESS EXCLUSIVE.",
    alternative: "Add a plain nullable column, backfill it in batches, then attach the sequence default or generation.",
    check,
};

fn check(stmt: &Statement, ctx: &Context, out: &mut Vec<Hit>) {
    if let StatementKind::AlterTable(at) = &stmt.kind {
        if ctx.is_new(&at.table) {
            return;
        }
        for c in &at.commands {
            if let AlterTableCmd::AddColumn { column, .. } = c {
                let kind = if column.type_name.is_serial() {
                    Some(column.type_name.name.as_str())
                } else if column.identity {
                    Some("identity")
                } else if column.generated_stored {
                    Some("stored generated")
                } else {
                    None
                };
                if let Some(kind) = kind {
                    out.push(Hit::on(format!("{}.{}", at.table, column.name), format!(
                        "{kind} column {} rewrites {} under ACCESS EXCLUSIVE", column.name, at.table
                    )));
                }
            }
        }
    }
}
