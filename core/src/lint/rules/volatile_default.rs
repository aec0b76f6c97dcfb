use crate::ddl::{AlterTableCmd, DefaultExpr, Statement, StatementKind};
use crate::lint::{Context, Hit, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "volatile-default",
    severity: Severity::Error,
    message: "adding a column with a volatile default rewrites the table under ACCESS EXCLUSIVE",
    why: "A volatile default (random(), clock_timestamp(), gen_random_uuid(), nextval()) is computed for every existing row, so the table is rewritten while reads and writes wait.",
    alternative: "Add the column without a default, set the default for new rows, and backfill existing rows in batches.",
    check,
};

fn check(stmt: &Statement, ctx: &Context, out: &mut Vec<Hit>) {
    if let StatementKind::AlterTable(at) = &stmt.kind {
        if ctx.is_new(&at.table) {
            return;
        }
        for c in &at.commands {
            if let AlterTableCmd::AddColumn { column, .. } = c {
                if let Some(DefaultExpr::Volatile(f)) = &column.default {
                    out.push(Hit::on(format!("{}.{}", at.table, column.name), format!(
                        "column {} is added with volatile default {f}(): {} is rewritten under ACCESS EXCLUSIVE", column.name, at.table
                    )));
                }
            }
        }
    }
}
