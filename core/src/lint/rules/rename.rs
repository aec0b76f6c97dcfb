use crate::ddl::{ObjectKind, Statement, StatementKind};
use crate::lint::{Context, Hit, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "rename",
    severity: Severity::Warning,
    message: "renaming a table or column breaks running application code that uses the old name",
    why: "Until every instance of the application is deployed with the new name, queries using the old one fail.",
    alternative: "Expand and contract: add the new name (a column kept in sync, or a view), move the code, then remove the old name.",
    check,
};

fn check(stmt: &Statement, ctx: &Context, out: &mut Vec<Hit>) {
    if let StatementKind::Rename(r) = &stmt.kind {
        if ctx.is_new(&r.target) {
            return;
        }
        if let (ObjectKind::Column, Some(c)) = (r.object, &r.sub) {
            if ctx.state.is_new_column(&r.target, c) {
                return; // added by this script: nothing uses it yet
            }
        }
        if matches!(
            r.object,
            ObjectKind::Table | ObjectKind::Column | ObjectKind::View | ObjectKind::Schema
        ) {
            let old = match &r.sub {
                Some(c) => format!("{}.{c}", r.target),
                None => r.target.to_string(),
            };
            out.push(Hit::on(
                &old,
                format!(
                    "{old} is renamed to {}: code using the old name breaks",
                    r.new_name
                ),
            ));
        }
    }
}
