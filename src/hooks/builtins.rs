//! The built-in hooks, run inside the hook's savepoint. Options were
//! validated at registration (`confiture_core::hooks::builtin::validate`);
//! a failed check raises, and the runner decides what that means.

use crate::error::{Error, Kind};
use confiture_core::hooks::builtin::{
    count_mismatches, counts_from_json, counts_to_json, pair_mismatches, Builtin, Counts,
    Expectation,
};
use pgrx::prelude::*;
use serde_json::{json, Value};

/// What a hook did: rows touched and a result later hooks can read.
#[derive(Debug, Default)]
pub struct Done {
    pub rows: Option<i64>,
    pub result: Option<Value>,
}

pub fn run(builtin: Builtin, hook: &str, options: &Value, results: &[(String, Value)]) -> Done {
    match builtin {
        Builtin::CaptureRowCounts => {
            let counts = count_rows(&names(options, "tables"));
            Done {
                rows: None,
                result: Some(json!({ "counts": counts_to_json(&counts) })),
            }
        }
        Builtin::VerifyRowCounts => verify_row_counts(hook, options, results),
        Builtin::VerifyNoViolations => verify_no_violations(hook, options),
        Builtin::Backfill => backfill(hook, options),
        Builtin::RefreshMaterializedView => {
            let view = relation(str_opt(options, "view").unwrap_or_default());
            let concurrently = options.get("concurrently").and_then(Value::as_bool) == Some(true);
            execute(&format!(
                "REFRESH MATERIALIZED VIEW {}{view}",
                if concurrently { "CONCURRENTLY " } else { "" }
            ));
            Done::default()
        }
        Builtin::Analyze => {
            let tables = names(options, "tables");
            if tables.is_empty() {
                execute("ANALYZE");
            } else {
                let list: Vec<String> = tables.iter().map(|t| relation(t)).collect();
                execute(&format!("ANALYZE {}", list.join(", ")));
            }
            Done::default()
        }
        Builtin::Reindex => {
            match (str_opt(options, "index"), str_opt(options, "table")) {
                (Some(i), _) => execute(&format!("REINDEX INDEX {}", relation(i))),
                (_, Some(t)) => execute(&format!("REINDEX TABLE {}", relation(t))),
                _ => {}
            }
            Done::default()
        }
    }
}

fn str_opt<'a>(options: &'a Value, key: &str) -> Option<&'a str> {
    options.get(key).and_then(Value::as_str)
}

fn names(options: &Value, key: &str) -> Vec<String> {
    options
        .get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A relation name from options, resolved by the server and quoted (so an
/// option can never inject SQL): `public.orders` → `public.orders`.
fn relation(name: &str) -> String {
    Spi::get_one_with_args::<String>("SELECT $1::regclass::text", &[name.into()])
        .ok()
        .flatten()
        .unwrap_or_else(|| {
            Error::new(
                Kind::UndefinedObject,
                format!("relation {name:?} does not exist"),
            )
            .raise()
        })
}

fn execute(sql: &str) {
    if let Err(e) = Spi::run(sql) {
        Error::new(Kind::Internal, format!("{sql} failed: {e}")).raise();
    }
}

fn count_rows(tables: &[String]) -> Counts {
    tables
        .iter()
        .map(|t| {
            let n = Spi::get_one::<i64>(&format!("SELECT count(*) FROM {}", relation(t)))
                .ok()
                .flatten()
                .unwrap_or(0);
            (t.clone(), n)
        })
        .collect()
}

fn verify_row_counts(hook: &str, options: &Value, results: &[(String, Value)]) -> Done {
    let mut problems = Vec::new();
    let mut checked = Counts::new();
    // compare with an earlier capture_row_counts of this migration
    let wanted = str_opt(options, "source");
    let captured = results
        .iter()
        .rev()
        .filter(|(name, _)| wanted.is_none_or(|w| w == name.as_str()))
        .find_map(|(_, r)| r.get("result").and_then(|r| r.get("counts")))
        .map(counts_from_json);
    if let Some(before) = captured {
        let only = names(options, "tables");
        let before: Counts = before
            .into_iter()
            .filter(|(t, _)| only.is_empty() || only.contains(t))
            .collect();
        let after = count_rows(&before.keys().cloned().collect::<Vec<_>>());
        let expect = match options.get("delta").and_then(Value::as_i64) {
            Some(d) => Expectation::Delta(d),
            None => Expectation::Ratio(options.get("ratio").and_then(Value::as_f64).unwrap_or(1.0)),
        };
        let tolerance = options
            .get("tolerance")
            .and_then(Value::as_f64)
            .unwrap_or(0.0);
        problems.extend(count_mismatches(&before, &after, &expect, tolerance));
        checked.extend(after);
    } else if options.get("equal").is_none() {
        Error::new(Kind::WrongState, format!("hook {hook} found no captured row counts to compare with"))
            .detail("verify_row_counts compares with the result of a capture_row_counts hook that ran earlier in the same migration.")
            .hint("Add a capture_row_counts hook in before_ddl, or use the \"equal\" option.")
            .raise();
    }
    let pairs: Vec<(String, String)> = options
        .get("equal")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|p| {
                    Some((
                        p.get(0)?.as_str()?.to_owned(),
                        p.get(1)?.as_str()?.to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    if !pairs.is_empty() {
        let tables: Vec<String> = pairs
            .iter()
            .flat_map(|(l, r)| [l.clone(), r.clone()])
            .collect();
        let counts = count_rows(&tables);
        problems.extend(pair_mismatches(&pairs, &counts));
        checked.extend(counts);
    }
    if !problems.is_empty() {
        Error::new(Kind::CheckViolation, format!("row counts changed unexpectedly ({})", problems.len()))
            .detail(problems.join("; "))
            .hint("The migration (or a backfill) lost or duplicated rows; fix it before running it again.")
            .raise();
    }
    Done {
        rows: None,
        result: Some(json!({ "counts": counts_to_json(&checked) })),
    }
}

fn verify_no_violations(hook: &str, options: &Value) -> Done {
    let query = str_opt(options, "query").unwrap_or_default();
    let max = options.get("max").and_then(Value::as_i64).unwrap_or(0);
    let (violations, sample) = Spi::connect_mut(|client| {
        // read-write SPI: a fresh snapshot that sees this transaction's own changes
        let rows = client.update(query, None, &[])?;
        let n = rows.len() as i64;
        // one row with one column named "count" is a count, not a violating row
        if n == 1 && rows.columns()? == 1 && rows.column_name(1)? == "count" {
            let first = rows.first();
            let count = first
                .get_one::<i64>()
                .or_else(|_| first.get_one::<i32>().map(|c| c.map(i64::from)));
            if let Ok(Some(count)) = count {
                return Ok::<_, pgrx::spi::SpiError>((count, Vec::new()));
            }
        }
        let sample = client
            .update(
                &format!("SELECT to_jsonb(v)::text FROM ({query}) v LIMIT 3"),
                None,
                &[],
            )?
            .filter_map(|r| r.get::<String>(1).ok().flatten())
            .collect::<Vec<_>>();
        Ok((n, sample))
    })
    .unwrap_or_else(|e| Error::new(Kind::Internal, format!("hook {hook}: {e}")).raise());
    if violations > max {
        let mut detail = format!("The query found {violations} violation(s) (allowed: {max}).");
        if !sample.is_empty() {
            detail.push_str(&format!(" First: {}", sample.join(", ")));
        }
        Error::new(
            Kind::CheckViolation,
            format!("{violations} violating row(s) found"),
        )
        .detail(detail)
        .hint("Fix the data, or the migration, before running it again.")
        .raise();
    }
    Done {
        rows: Some(violations),
        result: Some(json!({ "violations": violations })),
    }
}

/// Run an UPDATE / INSERT ... SELECT in batches, reporting progress.
/// Range mode (`table` + `key`): `$1`/`$2` are the bounds of each key range.
/// Loop mode: `$1` is the batch size; runs until a batch touches no rows.
fn backfill(hook: &str, options: &Value) -> Done {
    let sql = str_opt(options, "sql").unwrap_or_default();
    let batch = options
        .get("batch_size")
        .and_then(Value::as_i64)
        .unwrap_or(10_000)
        .max(1);
    let max_batches = options
        .get("max_batches")
        .and_then(Value::as_i64)
        .unwrap_or(i64::MAX);
    let mut total: i64 = 0;
    let mut batches: i64 = 0;
    Spi::connect_mut(|client| {
        let plan_err = |e: pgrx::spi::SpiError| -> ! {
            Error::new(Kind::Internal, format!("backfill hook {hook} failed: {e}")).raise()
        };
        if let (Some(table), Some(key)) = (str_opt(options, "table"), str_opt(options, "key")) {
            let rel = relation(table);
            let bounds = client
                .update(
                    &format!(
                        "SELECT min({k})::int8, max({k})::int8 FROM {rel}",
                        k = pgrx::spi::quote_identifier(key)
                    ),
                    None,
                    &[],
                )
                .unwrap_or_else(|e| plan_err(e));
            let (lo, hi) = bounds
                .first()
                .get_two::<i64, i64>()
                .unwrap_or_else(|e| plan_err(e));
            let (Some(mut lo), Some(hi)) = (lo, hi) else {
                return;
            };
            while lo <= hi && batches < max_batches {
                let upper = lo.saturating_add(batch - 1);
                let n = client
                    .update(sql, None, &[lo.into(), upper.into()])
                    .unwrap_or_else(|e| plan_err(e))
                    .len() as i64;
                total += n;
                batches += 1;
                progress(hook, batches, total);
                lo = match upper.checked_add(1) {
                    Some(l) => l,
                    None => break,
                };
            }
        } else {
            while batches < max_batches {
                let n = client
                    .update(sql, None, &[batch.into()])
                    .unwrap_or_else(|e| plan_err(e))
                    .len() as i64;
                total += n;
                batches += 1;
                progress(hook, batches, total);
                if n == 0 {
                    break;
                }
            }
        }
    });
    Done {
        rows: Some(total),
        result: Some(json!({ "batches": batches, "rows": total })),
    }
}

fn progress(hook: &str, batches: i64, total: i64) {
    pgrx::notice!("backfill {hook}: batch {batches} done, {total} rows so far");
}
