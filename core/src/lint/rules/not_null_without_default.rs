use crate::ddl::{AlterTableCmd, Statement};
use crate::lint::{existing_table_commands, Context, Hit, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "not-null-without-default",
    severity: Severity::Error,
    message: "adding a NOT NULL column without a default fails on a non-empty table and breaks existing INSERTs",
    why: "Existing rows would be NULL, and running code that does not set the column can no longer insert.",
    alternative: "Add the column with a default (constant defaults are free since PostgreSQL 11), or nullable and SET NOT NULL later.",
    check,
};

fn check(stmt: &Statement, ctx: &Context, out: &mut Vec<Hit>) {
    for (table, cmd) in existing_table_commands(stmt, ctx) {
        let AlterTableCmd::AddColumn { column, .. } = cmd else {
            continue;
        };
        let generated = column.identity || column.generated_stored || column.type_name.is_serial();
        if column.not_null && column.default.is_none() && !generated {
            out.push(Hit::on(format!("{table}.{}", column.name), ""));
        }
    }
}
