//! `missing-statement-timeout`: statement holds a blocking lock without a statement_timeout

use crate::ddl::*;
use crate::lint::{Context, Hit, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "missing-statement-timeout",
    severity: Severity::Info,
    message: "statement holds a blocking lock without a statement_timeout",
    why: "A rewrite, scan or index build that takes longer than expected keeps the table locked until it ends; a statement_timeout bounds the outage.",
    alternative: "SET statement_timeout = '...' (a bound you accept) before it.",
    check,
};

fn check(stmt: &Statement, ctx: &Context, out: &mut Vec<Hit>) {
    if ctx.statement_timeout {
        return;
    }
    for (t, mode) in crate::risk::locks::statement_locks(stmt) {
        if crate::risk::locks::blocks_traffic(mode) && !ctx.is_new(&t) {
            out.push(Hit::on(
                &t,
                format!(
                    "{} {t} takes {} with no statement_timeout set",
                    stmt.tag,
                    crate::risk::locks::sql_mode(mode)
                ),
            ));
        }
    }
}
