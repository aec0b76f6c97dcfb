//! `duplicate-column-assignment`: a column assigned twice in one UPDATE or
//! named twice in an INSERT's column list.

use crate::ddl::*;
use crate::lint::{Context, Hit, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "duplicate-column-assignment",
    severity: Severity::Error,
    message: "a column is assigned twice in one statement",
    why: "PostgreSQL rejects it (42701 multiple assignments to same column) when the migration runs; it is usually a copy-paste slip that hides the intended second column.",
    alternative: "Assign each column once; check which column the second assignment was meant for.",
    check,
};

fn check(stmt: &Statement, _ctx: &Context, out: &mut Vec<Hit>) {
    if let StatementKind::Dml(d) = &stmt.kind {
        if let Some(c) = &d.duplicate_column {
            out.push(Hit::on(
                format!("{}.{c}", d.table),
                format!("column {c} of {} is assigned twice", d.table),
            ));
        }
    }
}
