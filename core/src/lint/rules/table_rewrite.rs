use crate::ddl::{AlterTableCmd, Statement, StatementKind};
use crate::lint::{Context, Hit, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "table-rewrite",
    severity: Severity::Error,
    message: "VACUUM FULL, CLUSTER, SET LOGGED/UNLOGGED and SET TABLESPACE rewrite the table under ACCESS EXCLUSIVE",
    why: "Reads and writes wait for a full copy of the table and its indexes.",
    alternative: "Use pg_repack (or pg_squeeze) to rewrite online; plain VACUUM for bloat.",
    check,
};

fn check(stmt: &Statement, ctx: &Context, out: &mut Vec<Hit>) {
    match &stmt.kind {
        StatementKind::Vacuum(v) if v.full => {
            if v.tables.is_empty() {
                out.push(Hit::on("(every table)", "VACUUM FULL rewrites every table"));
            }
            out.extend(v.tables.iter().map(|t| Hit::on(t, "")));
        }
        StatementKind::Cluster(c) => out.push(Hit::on(
            c.table
                .as_ref()
                .map_or("(every clustered table)".into(), |t| t.to_string()),
            "",
        )),
        StatementKind::AlterTable(at) if !ctx.is_new(&at.table) => {
            for c in &at.commands {
                if matches!(
                    c,
                    AlterTableCmd::SetLogged
                        | AlterTableCmd::SetUnlogged
                        | AlterTableCmd::SetTablespace
                ) {
                    out.push(Hit::on(&at.table, ""));
                }
            }
        }
        _ => {}
    }
}
