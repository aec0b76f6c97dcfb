use crate::ddl::{AlterTableCmd, Statement, StatementKind};
use crate::lint::{Context, Hit, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "not-null-without-default",
    severity: Severity::Error,
    message: "adding a NOT NULL column without a default fails on a non-empty table and breaks existing INSERTs",
    why: "Existing rows would be NULL, and running code that does not set the column can no longer insert.",
    alternative: "Add the column with a default (constant defaults are free since PostgreSQL 11), or nullable and SET NOT NULL later.",
    check,
};

fn check(stmt: &Statement, ctx: &Context, out: &mut Vec<Hit>) {
    if let StatementKind::AlterTable(at) = &stmt.kind {
        if ctx.is_new(&at.table) {
            return;
        }
        for c in &at.commands {
            if let AlterTableCmd::AddColumn { column, .. } = c {
                let generated = column.identity || column.generated_stored || column.type_name.is_serial();
                if column.not_null && column.default.is_none() && !generated {
                    out.push(Hit::on(format!("{}.{}", at.table, column.name), ""));
                }
            }
        }
    }
}
