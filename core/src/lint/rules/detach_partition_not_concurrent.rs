//! `detach-partition-not-concurrent`: DETACH PARTITION without CONCURRENTLY takes ACCESS EXCLUSIVE on the partitioned table

use crate::ddl::*;
use crate::lint::{Context, Hit, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "detach-partition-not-concurrent",
    severity: Severity::Warning,
    message: "DETACH PARTITION without CONCURRENTLY takes ACCESS EXCLUSIVE on the partitioned table",
    why: "Every query on the parent and all its partitions waits while it runs.",
    alternative: "ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY (PostgreSQL 14+), outside a transaction block.",
    check,
};

fn check(stmt: &Statement, ctx: &Context, out: &mut Vec<Hit>) {
    for (table, cmd) in crate::lint::existing_table_commands(stmt, ctx) {
        if let AlterTableCmd::DetachPartition {
            partition,
            concurrently: false,
        } = cmd
        {
            out.push(Hit::on(
                table,
                format!("detaching {partition} takes ACCESS EXCLUSIVE on {table}"),
            ));
        }
    }
}
