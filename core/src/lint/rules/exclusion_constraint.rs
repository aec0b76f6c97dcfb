//! `exclusion-constraint`: adding an exclusion constraint builds its index under ACCESS EXCLUSIVE

use crate::ddl::*;
use crate::lint::{Context, Hit, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "exclusion-constraint",
    severity: Severity::Warning,
    message: "adding an exclusion constraint builds its index under ACCESS EXCLUSIVE",
    why: "Unlike UNIQUE, there is no CONCURRENTLY or USING INDEX form: reads and writes wait for the whole build and check.",
    alternative: "Add it while the table is small or in a maintenance window; for equality only, use a unique index built CONCURRENTLY.",
    check,
};

fn check(stmt: &Statement, ctx: &Context, out: &mut Vec<Hit>) {
    for (table, cmd) in crate::lint::existing_table_commands(stmt, ctx) {
        if let AlterTableCmd::AddConstraint(k) = cmd {
            if k.kind == ConstraintKind::Exclusion {
                out.push(Hit::on(table, ""));
            }
        }
    }
}
