//! `combine-alter-table`: several ALTER TABLE statements on one table could be one

use crate::ddl::*;
use crate::lint::{Context, Hit, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "combine-alter-table",
    severity: Severity::Info,
    message: "several ALTER TABLE statements on one table could be one",
    why: "Each statement takes the lock again and may scan or rewrite the table again; one ALTER TABLE with several subcommands does it once.",
    alternative: "ALTER TABLE t ADD COLUMN a ..., ADD COLUMN b ...; in one statement.",
    check,
};

fn check(stmt: &Statement, ctx: &Context, out: &mut Vec<Hit>) {
    if let StatementKind::AlterTable(at) = &stmt.kind {
        if at.object == Some(ObjectKind::Table)
            && !ctx.is_new(&at.table)
            && ctx.altered.get(&ctx.state.key(&at.table)) == Some(&1)
        {
            out.push(Hit::on(
                &at.table,
                format!(
                    "{} is altered again: combine its ALTER TABLE statements",
                    at.table
                ),
            ));
        }
    }
}
