//! `drop-default`: dropping a column default breaks INSERTs that leave the column out

use crate::ddl::*;
use crate::lint::{Context, Hit, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "drop-default",
    severity: Severity::Warning,
    message: "dropping a column default breaks INSERTs that leave the column out",
    why: "Running code that omits the column now writes NULL (or fails on a NOT NULL column) instead of the default.",
    alternative: "Deploy code that sets the column explicitly first, then drop the default.",
    check,
};

fn check(stmt: &Statement, ctx: &Context, out: &mut Vec<Hit>) {
    for (table, cmd) in crate::lint::existing_table_commands(stmt, ctx) {
        if let AlterTableCmd::DropDefault { column } = cmd {
            let restored = ctx
                .default_set_at
                .get(&format!("{table}.{column}"))
                .is_some_and(|at| *at > stmt.span.start);
            if !restored && !ctx.state.is_new_column(table, column) {
                out.push(Hit::on(format!("{table}.{column}"), ""));
            }
        }
    }
}
