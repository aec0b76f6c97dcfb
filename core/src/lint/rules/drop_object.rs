//! `drop-object`: dropping a function, view, type, sequence, extension or trigger breaks code that still uses it

use crate::ddl::*;
use crate::lint::{Context, Hit, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "drop-object",
    severity: Severity::Warning,
    message: "dropping a function, view, type, sequence, extension or trigger breaks code that still uses it",
    why: "Running code and other objects (views, defaults, triggers) that name it fail at once; a dropped sequence or extension may take data with it.",
    alternative: "Stop using it first (check pg_depend and the application), drop it in a later release.",
    check,
};

fn check(stmt: &Statement, ctx: &Context, out: &mut Vec<Hit>) {
    let StatementKind::Drop(d) = &stmt.kind else {
        return;
    };
    let what = match d.object {
        ObjectKind::Function => "function",
        ObjectKind::Procedure => "procedure",
        ObjectKind::View => "view",
        ObjectKind::Type => "type",
        ObjectKind::Domain => "domain",
        ObjectKind::Sequence => "sequence",
        ObjectKind::Extension => "extension",
        ObjectKind::Trigger => "trigger",
        ObjectKind::Policy => "policy",
        _ => return,
    };
    for n in &d.names {
        if matches!(d.object, ObjectKind::View) && ctx.is_new(n) {
            continue;
        }
        // dropped to be created again by the same script: nothing breaks
        let again = match d.object {
            ObjectKind::View => format!("view:{}", n.name),
            ObjectKind::Function | ObjectKind::Procedure => format!("function:{}", n.name),
            ObjectKind::Type | ObjectKind::Domain => format!("type:{}", n.name),
            ObjectKind::Trigger => {
                format!("trigger:{}.{}", n.schema.as_deref().unwrap_or(""), n.name)
            }
            _ => String::new(),
        };
        if ctx.recreated.contains(&again) {
            continue;
        }
        out.push(Hit::on(
            n,
            format!("{what} {n} is dropped: code using it breaks"),
        ));
    }
}
