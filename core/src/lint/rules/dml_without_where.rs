use crate::ddl::{DmlKind, Statement, StatementKind};
use crate::lint::{Context, Hit, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "dml-without-where",
    severity: Severity::Error,
    message: "UPDATE or DELETE without WHERE touches every row in one transaction",
    why: "It locks every row until the migration commits, bloats the table, and DELETE loses all data.",
    alternative: "Add a WHERE clause; for a backfill, update in batches (e.g. a backfill hook).",
    check,
};

fn check(stmt: &Statement, ctx: &Context, out: &mut Vec<Hit>) {
    if let StatementKind::Dml(d) = &stmt.kind {
        if matches!(d.kind, DmlKind::Update | DmlKind::Delete)
            && !d.has_where
            && !ctx.is_new(&d.table)
        {
            let verb = if d.kind == DmlKind::Update {
                "UPDATE"
            } else {
                "DELETE"
            };
            out.push(Hit::on(
                &d.table,
                format!("{verb} of {} has no WHERE clause", d.table),
            ));
        }
    }
}
