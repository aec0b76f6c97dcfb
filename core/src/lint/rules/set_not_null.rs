use crate::ddl::{AlterTableCmd, Statement};
use crate::lint::{existing_table_commands, Context, Hit, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "set-not-null",
    severity: Severity::Warning,
    message: "SET NOT NULL scans the whole table under ACCESS EXCLUSIVE",
    why: "PostgreSQL checks every row while blocking reads and writes, unless a validated CHECK (col IS NOT NULL) already proves it.",
    alternative: "ADD CONSTRAINT ... CHECK (col IS NOT NULL) NOT VALID; VALIDATE CONSTRAINT; then SET NOT NULL (no scan) and drop the check.",
    check,
};

fn check(stmt: &Statement, ctx: &Context, out: &mut Vec<Hit>) {
    for (table, cmd) in existing_table_commands(stmt, ctx) {
        if let AlterTableCmd::SetNotNull { column } = cmd {
            if !ctx.state.not_null_checked(table, column) {
                out.push(Hit::on(format!("{table}.{column}"), ""));
            }
        }
    }
}
