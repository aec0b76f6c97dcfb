//! `enum-value-order`: a new enum value without BEFORE or AFTER sorts after all others

use crate::ddl::*;
use crate::lint::{Context, Hit, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "enum-value-order",
    severity: Severity::Info,
    message: "a new enum value without BEFORE or AFTER sorts after all others",
    why: "Enum values compare in declaration order: a value appended at the end may break ORDER BY and range comparisons; it also cannot be used until the transaction commits.",
    alternative: "ALTER TYPE ... ADD VALUE 'v' BEFORE 'w' (or AFTER) where the order matters, IF NOT EXISTS for reruns.",
    check,
};

fn check(stmt: &Statement, ctx: &Context, out: &mut Vec<Hit>) {
    if let StatementKind::AddEnumValue {
        type_name,
        value,
        positioned: false,
    } = &stmt.kind
    {
        let _ = ctx;
        out.push(Hit::on(
            type_name,
            format!("value {value} is added to {type_name} after every other value"),
        ));
    }
}
