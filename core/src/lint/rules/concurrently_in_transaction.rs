//! `concurrently-in-transaction`: CONCURRENTLY cannot run inside a transaction block

use crate::ddl::*;
use crate::lint::{Context, Hit, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "concurrently-in-transaction",
    severity: Severity::Error,
    message: "CONCURRENTLY cannot run inside a transaction block",
    why: "CREATE/DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY and DETACH PARTITION CONCURRENTLY fail with 25001 after BEGIN: the migration stops there.",
    alternative: "Run it outside BEGIN ... COMMIT, in a migration of its own.",
    check,
};

fn check(stmt: &Statement, ctx: &Context, out: &mut Vec<Hit>) {
    if !ctx.in_transaction {
        return;
    }
    let what = match &stmt.kind {
        StatementKind::CreateIndex(ci) if ci.concurrently => Some(ci.table.to_string()),
        StatementKind::Drop(d) if d.concurrently => Some(
            d.names
                .iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        StatementKind::Reindex(r) if r.concurrently => {
            Some(r.name.as_ref().map(|n| n.to_string()).unwrap_or_default())
        }
        StatementKind::AlterTable(at)
            if at.commands.iter().any(|c| {
                matches!(
                    c,
                    AlterTableCmd::DetachPartition {
                        concurrently: true,
                        ..
                    }
                )
            }) =>
        {
            Some(at.table.to_string())
        }
        _ => None,
    };
    if let Some(o) = what {
        out.push(Hit::on(
            o,
            format!(
                "{} ... CONCURRENTLY after BEGIN fails: it cannot run in a transaction block",
                stmt.tag
            ),
        ));
    }
}
