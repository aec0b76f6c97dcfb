use crate::ddl::{AlterTableCmd, DefaultExpr, Statement};
use crate::lint::{existing_table_commands, Context, Hit, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "volatile-default",
    severity: Severity::Error,
    message: "adding a column with a volatile default rewrites the table under ACCESS EXCLUSIVE",
    why: "A volatile default (random(), clock_timestamp(), gen_random_uuid(), nextval()) is computed for every existing row, so the table is rewritten while reads and writes wait.",
    alternative: "Add the column without a default, set the default for new rows, and backfill existing rows in batches.",
    check,
};

fn check(stmt: &Statement, ctx: &Context, out: &mut Vec<Hit>) {
    for (table, cmd) in existing_table_commands(stmt, ctx) {
        if let AlterTableCmd::AddColumn { column, .. } = cmd {
            if let Some(DefaultExpr::Volatile(f)) = &column.default {
                out.push(Hit::on(format!("{table}.{}", column.name), format!(
                    "column {} is added with volatile default {f}(): {table} is rewritten under ACCESS EXCLUSIVE", column.name
                )));
            }
        }
    }
}
