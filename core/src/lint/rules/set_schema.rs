//! `set-schema`: moving an object to another schema breaks code that names it by its old schema

use crate::ddl::*;
use crate::lint::{Context, Hit, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "set-schema",
    severity: Severity::Warning,
    message: "moving an object to another schema breaks code that names it by its old schema",
    why: "Qualified names and search_path lookups stop finding it; for a table it takes ACCESS EXCLUSIVE.",
    alternative: "Create the object in its new schema (or a view there) and move the code first.",
    check,
};

fn check(stmt: &Statement, ctx: &Context, out: &mut Vec<Hit>) {
    if let StatementKind::SetSchema { name, schema, .. } = &stmt.kind {
        if !ctx.is_new(name) {
            out.push(Hit::on(
                name,
                format!("{name} is moved to schema {schema}: code naming it breaks"),
            ));
        }
    }
}
