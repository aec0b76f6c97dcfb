//! `drop-constraint`: dropping a constraint lets rows in that the code may rely on being impossible

use crate::ddl::*;
use crate::lint::{Context, Hit, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "drop-constraint",
    severity: Severity::Info,
    message: "dropping a constraint lets rows in that the code may rely on being impossible",
    why: "Readers and the planner may rely on the constraint (uniqueness, foreign keys, checks); it takes ACCESS EXCLUSIVE, and restoring it later means validating every row again.",
    alternative: "Make sure no code relies on it; keep its definition to restore it (ADD ... NOT VALID, then VALIDATE).",
    check,
};

fn check(stmt: &Statement, ctx: &Context, out: &mut Vec<Hit>) {
    for (table, cmd) in crate::lint::existing_table_commands(stmt, ctx) {
        if let AlterTableCmd::DropConstraint { name, .. } = cmd {
            out.push(Hit::on(
                format!("{table}.{name}"),
                format!("constraint {name} of {table} is dropped"),
            ));
        }
    }
}
