use crate::ddl::{Statement, StatementKind};
use crate::lint::{identifiers, Context, Hit, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "identifier-too-long",
    severity: Severity::Error,
    message: "identifier longer than 63 bytes is silently truncated",
    why: "PostgreSQL cuts names at 63 bytes with only a NOTICE: two long names can collide, and the stored name differs from the one in the code.",
    alternative: "Use a name of at most 63 bytes.",
    check,
};

fn check(stmt: &Statement, ctx: &Context, out: &mut Vec<Hit>) {
    // a DROP finds the object under the same truncated name: nothing to fix
    if matches!(stmt.kind, StatementKind::Drop(_)) {
        return;
    }
    for name in identifiers::too_long(&ctx.text) {
        out.push(Hit::on(
            &name,
            format!(
                "identifier {name} is {} bytes long; PostgreSQL keeps 63",
                name.len()
            ),
        ));
    }
}
