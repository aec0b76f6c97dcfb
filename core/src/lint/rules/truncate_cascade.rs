//! `truncate-cascade`: TRUNCATE ... CASCADE also empties every table that references these, recursively

use crate::ddl::*;
use crate::lint::{Context, Hit, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "truncate-cascade",
    severity: Severity::Warning,
    message: "TRUNCATE ... CASCADE also empties every table that references these, recursively",
    why: "CASCADE follows foreign keys to tables the statement does not name: data far from the migration's intent is removed, under ACCESS EXCLUSIVE on all of them.",
    alternative: "Name every table to truncate explicitly, without CASCADE, so the statement fails if another table still references them.",
    check,
};

fn check(stmt: &Statement, _ctx: &Context, out: &mut Vec<Hit>) {
    if let StatementKind::Truncate {
        tables,
        cascade: true,
    } = &stmt.kind
    {
        for t in tables {
            out.push(Hit::on(
                t,
                format!("TRUNCATE {t} CASCADE empties every table referencing it too"),
            ));
        }
    }
}
