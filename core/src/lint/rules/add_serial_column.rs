use crate::ddl::{AlterTableCmd, Statement};
use crate::lint::{existing_table_commands, Context, Hit, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "add-serial-column",
    severity: Severity::Error,
    message: "adding a serial, identity or stored generated column rewrites the table",
    why: "Each existing row needs its own value, so the table is rewritten under ACCESS EXCLUSIVE.",
    alternative: "Add a plain nullable column, backfill it in batches, then attach the sequence default or generation.",
    check,
};

fn check(stmt: &Statement, ctx: &Context, out: &mut Vec<Hit>) {
    for (table, cmd) in existing_table_commands(stmt, ctx) {
        let AlterTableCmd::AddColumn { column, .. } = cmd else {
            continue;
        };
        let kind = if column.type_name.is_serial() {
            column.type_name.name.as_str()
        } else if column.identity {
            "identity"
        } else if column.generated_stored {
            "stored generated"
        } else {
            continue;
        };
        out.push(Hit::on(
            format!("{table}.{}", column.name),
            format!(
                "{kind} column {} rewrites {table} under ACCESS EXCLUSIVE",
                column.name
            ),
        ));
    }
}
