use crate::ddl::{AlterTableCmd, Statement};
use crate::lint::{existing_table_commands, Context, Hit, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "change-column-type",
    severity: Severity::Error,
    message: "changing a column's type rewrites the table under ACCESS EXCLUSIVE (and changes what running code reads)",
    why: "Except for a few binary-compatible changes (varchar to text, widening varchar), every row and index is rewritten while reads and writes wait.",
    alternative: "Add a column of the new type, backfill it in batches, move the code to it, then drop the old column.",
    check,
};

fn check(stmt: &Statement, ctx: &Context, out: &mut Vec<Hit>) {
    for (table, cmd) in existing_table_commands(stmt, ctx) {
        if let AlterTableCmd::AlterColumnType {
            column, type_name, ..
        } = cmd
        {
            out.push(Hit::on(
                format!("{table}.{column}"),
                format!("column {column} of {table} changes type to {type_name}"),
            ));
        }
    }
}
