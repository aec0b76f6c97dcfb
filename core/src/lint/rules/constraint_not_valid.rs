use crate::ddl::{AlterTableCmd, ConstraintKind, Statement};
use crate::lint::{existing_table_commands, Context, Hit, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "constraint-not-valid",
    severity: Severity::Error,
    message: "adding a foreign key or check constraint validates every row while holding a lock",
    why: "Without NOT VALID the whole table is scanned under the lock (SHARE ROW EXCLUSIVE on both tables for a foreign key, ACCESS EXCLUSIVE for a check).",
    alternative: "ADD CONSTRAINT ... NOT VALID, then ALTER TABLE ... VALIDATE CONSTRAINT in a later statement (SHARE UPDATE EXCLUSIVE on the table, ROW SHARE on the referenced one: reads and writes go on). NOT VALID itself still takes SHARE ROW EXCLUSIVE (foreign key) or ACCESS EXCLUSIVE (check) briefly: set a lock_timeout.",
    check,
};

fn check(stmt: &Statement, ctx: &Context, out: &mut Vec<Hit>) {
    for (table, cmd) in existing_table_commands(stmt, ctx) {
        let AlterTableCmd::AddConstraint(k) = cmd else {
            continue;
        };
        if matches!(k.kind, ConstraintKind::ForeignKey | ConstraintKind::Check) && !k.not_valid {
            let what = if k.kind == ConstraintKind::ForeignKey {
                "foreign key"
            } else {
                "check constraint"
            };
            let lock = crate::risk::locks::sql_mode(crate::risk::locks::alter_lock(cmd));
            let on = match &k.references {
                Some(r) => format!("{table} and {r}"),
                None => table.to_string(),
            };
            out.push(Hit::on(table, format!(
                "{what} {} on {table} is added without NOT VALID: every row is checked while {lock} is held on {on}",
                k.name.as_deref().unwrap_or("")
            )));
        }
    }
}
