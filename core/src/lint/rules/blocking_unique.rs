use crate::ddl::{AlterTableCmd, ConstraintKind, Statement};
use crate::lint::{existing_table_commands, Context, Hit, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "blocking-unique",
    severity: Severity::Error,
    message: "adding a UNIQUE or PRIMARY KEY constraint builds its index under ACCESS EXCLUSIVE",
    why: "The index build blocks reads and writes of the table for its whole duration.",
    alternative: "CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT ... UNIQUE/PRIMARY KEY USING INDEX.",
    check,
};

fn check(stmt: &Statement, ctx: &Context, out: &mut Vec<Hit>) {
    for (table, cmd) in existing_table_commands(stmt, ctx) {
        if let AlterTableCmd::AddConstraint(k) = cmd {
            if matches!(k.kind, ConstraintKind::Unique | ConstraintKind::PrimaryKey)
                && k.using_index.is_none()
            {
                out.push(Hit::on(table, ""));
            }
        }
    }
}
