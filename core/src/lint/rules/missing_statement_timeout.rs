//! `missing-statement-timeout`: statement holds a blocking lock without a statement_timeout

use crate::ddl::Statement;
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
    if !ctx.statement_timeout {
        super::lock_timeout::blocking_locks_without(stmt, ctx, "statement_timeout", out);
    }
}
