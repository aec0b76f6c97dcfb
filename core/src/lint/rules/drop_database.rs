//! `drop-database`: DROP DATABASE destroys a whole database

use crate::ddl::*;
use crate::lint::{Context, Hit, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "drop-database",
    severity: Severity::Error,
    message: "DROP DATABASE destroys a whole database",
    why: "Every table and every row in it is gone; no migration should do this.",
    alternative: "Do it by hand, after a backup, if it is really meant.",
    check,
};

fn check(stmt: &Statement, ctx: &Context, out: &mut Vec<Hit>) {
    let _ = ctx;
    if let StatementKind::Database {
        action: DatabaseAction::Drop,
    } = &stmt.kind
    {
        out.push(Hit::on("", ""));
    }
}
