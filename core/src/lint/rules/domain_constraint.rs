//! `domain-constraint`: a constraint on a domain is checked against every column of that type

use crate::ddl::*;
use crate::lint::{Context, Hit, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "domain-constraint",
    severity: Severity::Warning,
    message: "a constraint on a domain is checked against every column of that type",
    why: "ALTER DOMAIN ... ADD CONSTRAINT scans every table using the domain under locks; CREATE DOMAIN ... CHECK makes later changes to the rule that expensive, and columns of the domain hide the constraint.",
    alternative: "Put CHECK constraints on the table columns (NOT VALID, then VALIDATE).",
    check,
};

fn check(stmt: &Statement, ctx: &Context, out: &mut Vec<Hit>) {
    if let StatementKind::DomainConstraint { name, create } = &stmt.kind {
        let _ = ctx;
        out.push(Hit::on(
            name,
            if *create {
                format!("domain {name} is created with a constraint")
            } else {
                format!("a constraint is added to domain {name}: every column of it is checked")
            },
        ));
    }
}
