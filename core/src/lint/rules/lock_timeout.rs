//! `missing-lock-timeout`: a statement that waits for a lock which blocks
//! reads or writes (ALTER TABLE, DROP TABLE / INDEX, TRUNCATE, renames,
//! CREATE / DROP / ALTER TRIGGER, LOCK TABLE, CREATE INDEX, REINDEX,
//! CLUSTER ...) on a table that existed before the script, with no non-zero
//! `lock_timeout` in effect. Reported once per script, listing every
//! statement it covers (see [`merge`]).

use crate::ddl::Statement;
use crate::lint::{Context, Finding, Hit, Rule, Severity};
use crate::risk::locks::{blocks_traffic, sql_mode, statement_locks};

pub static RULE: Rule = Rule {
    id: "missing-lock-timeout",
    severity: Severity::Warning,
    message: "statement takes a lock that blocks other queries without a lock_timeout",
    why: "While it waits for the lock behind a long query, every other query on the table queues behind it: a short ALTER becomes an outage. `SET lock_timeout = 0` waits forever, as if none were set.",
    alternative: "SET lock_timeout = '5s' (or SET LOCAL) before it, and retry the migration if it times out.",
    check,
};

fn check(stmt: &Statement, ctx: &Context, out: &mut Vec<Hit>) {
    if !ctx.lock_timeout {
        blocking_locks_without(stmt, ctx, "lock_timeout", out);
    }
}

/// A hit per blocking lock `stmt` takes on a table that existed before the
/// script, saying that no `setting` bounds it (also missing-statement-timeout's).
pub fn blocking_locks_without(stmt: &Statement, ctx: &Context, setting: &str, out: &mut Vec<Hit>) {
    for (t, mode) in statement_locks(stmt) {
        if blocks_traffic(mode) && !ctx.is_new(&t) {
            out.push(Hit::on(
                &t,
                format!(
                    "{} {t} takes {} with no {setting} set",
                    stmt.tag,
                    sql_mode(mode)
                ),
            ));
        }
    }
}

/// One finding of `rule` per script: the first one, listing every statement
/// (each one's message without `suffix`), as "N statements `phrase`: ...".
pub fn merge(findings: &mut Vec<Finding>, rule: &str, suffix: &str, phrase: &str) {
    let hits: Vec<usize> = findings
        .iter()
        .enumerate()
        .filter(|(_, f)| f.rule == rule)
        .map(|(i, _)| i)
        .collect();
    if hits.len() < 2 {
        return;
    }
    let mut objects: Vec<String> = Vec::new();
    let mut lines: Vec<String> = Vec::new();
    for &i in &hits {
        let f = &findings[i];
        if !objects.contains(&f.object) {
            objects.push(f.object.clone());
        }
        let what = f.message.strip_suffix(suffix).unwrap_or(&f.message);
        lines.push(format!("line {} {what}", f.line));
    }
    let first = hits[0];
    findings[first].object = objects.join(", ");
    findings[first].message = format!("{} statements {phrase}: {}", hits.len(), lines.join("; "));
    let mut n = 0;
    findings.retain(|f| {
        let keep = f.rule != rule || n == 0;
        if f.rule == rule {
            n += 1;
        }
        keep
    });
}
