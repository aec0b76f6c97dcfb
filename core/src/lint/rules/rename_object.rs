//! `rename-object`: renaming an index, trigger, constraint, sequence, function or type breaks what refers to it by name

use crate::ddl::*;
use crate::lint::{Context, Hit, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "rename-object",
    severity: Severity::Warning,
    message: "renaming an index, trigger, constraint, sequence, function or type breaks what refers to it by name",
    why: "Code, monitoring, hints and later migrations that name the object by its old name fail; for an index or constraint the lock is taken on its table.",
    alternative: "Keep the old name, or update every reference in the same release (and in later migrations).",
    check,
};

fn check(stmt: &Statement, ctx: &Context, out: &mut Vec<Hit>) {
    let StatementKind::Rename(r) = &stmt.kind else {
        return;
    };
    if matches!(
        r.object,
        ObjectKind::Table | ObjectKind::Column | ObjectKind::View | ObjectKind::Schema
    ) {
        return; // the rename rule
    }
    if ctx.is_new(&r.target) {
        return;
    }
    let old = match &r.sub {
        Some(s) => format!("{}.{s}", r.target),
        None => r.target.to_string(),
    };
    out.push(Hit::on(&old, format!("{old} is renamed to {}", r.new_name)));
}
