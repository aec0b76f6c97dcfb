//! `drop-not-null`: dropping NOT NULL lets NULLs in that running code does not expect

use crate::ddl::*;
use crate::lint::{Context, Hit, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "drop-not-null",
    severity: Severity::Warning,
    message: "dropping NOT NULL lets NULLs in that running code does not expect",
    why: "Readers written for a NOT NULL column break on the first NULL; the change takes ACCESS EXCLUSIVE.",
    alternative: "Deploy readers that handle NULL first, then drop the constraint.",
    check,
};

fn check(stmt: &Statement, ctx: &Context, out: &mut Vec<Hit>) {
    for (table, cmd) in crate::lint::existing_table_commands(stmt, ctx) {
        if let AlterTableCmd::DropNotNull { column } = cmd {
            if !ctx.state.is_new_column(table, column) {
                out.push(Hit::on(format!("{table}.{column}"), ""));
            }
        }
    }
}
