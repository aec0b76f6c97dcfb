//! `primary-key-using-index`: ADD PRIMARY KEY USING INDEX sets NOT NULL on its columns

use crate::ddl::*;
use crate::lint::{Context, Hit, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "primary-key-using-index",
    severity: Severity::Info,
    message: "ADD PRIMARY KEY USING INDEX sets NOT NULL on its columns",
    why: "If a column is nullable, PostgreSQL scans the whole table under ACCESS EXCLUSIVE to check it.",
    alternative: "Make the columns NOT NULL first without a scan (CHECK (col IS NOT NULL) NOT VALID, VALIDATE, SET NOT NULL), then add the key.",
    check,
};

fn check(stmt: &Statement, ctx: &Context, out: &mut Vec<Hit>) {
    for (table, cmd) in crate::lint::existing_table_commands(stmt, ctx) {
        if let AlterTableCmd::AddConstraint(k) = cmd {
            if k.kind == ConstraintKind::PrimaryKey && k.using_index.is_some() {
                out.push(Hit::on(table, format!("primary key on {table} using index {}: its columns become NOT NULL (a full scan if they are nullable)", k.using_index.as_deref().unwrap_or(""))));
            }
        }
    }
}
