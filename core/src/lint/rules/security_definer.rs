use crate::ddl::{Statement, StatementKind};
use crate::lint::{Context, Hit, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "security-definer-search-path",
    severity: Severity::Error,
    message: "SECURITY DEFINER function without a pinned search_path",
    why: "A caller can put their own objects first on the search_path and have them run with the owner's privileges.",
    alternative: "Add SET search_path = pg_catalog, <schema> to the function (or schema-qualify everything and set it empty).",
    check,
};

fn check(stmt: &Statement, _ctx: &Context, out: &mut Vec<Hit>) {
    if let StatementKind::CreateFunction(f) = &stmt.kind {
        if f.security_definer && !f.sets_search_path {
            out.push(Hit::on(&f.name, ""));
        }
    }
}
