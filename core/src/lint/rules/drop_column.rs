use crate::ddl::{AlterTableCmd, Statement};
use crate::lint::{existing_table_commands, Context, Hit, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "drop-column",
    severity: Severity::Warning,
    message: "dropping a column loses its data and breaks code that still reads or writes it",
    why: "Application instances deployed before the migration still name the column; its values are gone for good.",
    alternative: "Stop using the column in the application (and ignore it in the ORM) first; drop it in a later release, after a backup.",
    check,
};

fn check(stmt: &Statement, ctx: &Context, out: &mut Vec<Hit>) {
    for (table, cmd) in existing_table_commands(stmt, ctx) {
        if let AlterTableCmd::DropColumn { name, .. } = cmd {
            if ctx.state.is_new_column(table, name) {
                continue; // added by this script: nothing reads it yet
            }
            out.push(Hit::on(format!("{table}.{name}"), ""));
        }
    }
}
