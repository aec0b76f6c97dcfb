//! The built-in hooks: their names, their options (validated when the hook
//! is registered) and the pure part of their verdicts.

use serde_json::{Map, Value};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    CaptureRowCounts,
    VerifyRowCounts,
    VerifyNoViolations,
    Backfill,
    RefreshMaterializedView,
    Analyze,
    Reindex,
}

impl Builtin {
    pub const ALL: [Builtin; 7] = [
        Builtin::CaptureRowCounts,
        Builtin::VerifyRowCounts,
        Builtin::VerifyNoViolations,
        Builtin::Backfill,
        Builtin::RefreshMaterializedView,
        Builtin::Analyze,
        Builtin::Reindex,
    ];

    pub fn parse(s: &str) -> Option<Builtin> {
        Builtin::ALL.into_iter().find(|b| b.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Builtin::CaptureRowCounts => "capture_row_counts",
            Builtin::VerifyRowCounts => "verify_row_counts",
            Builtin::VerifyNoViolations => "verify_no_violations",
            Builtin::Backfill => "backfill",
            Builtin::RefreshMaterializedView => "refresh_materialized_view",
            Builtin::Analyze => "analyze",
            Builtin::Reindex => "reindex",
        }
    }

    /// The options it accepts: (key, kind, required, meaning).
    pub fn options(self) -> &'static [(&'static str, Kind, bool, &'static str)] {
        use Kind::*;
        match self {
            Builtin::CaptureRowCounts => &[("tables", Names, true, "tables to count")],
            Builtin::VerifyRowCounts => &[
                ("tables", Names, false, "tables to compare with the captured counts (default: all captured)"),
                ("source", Text, false, "name of the capture_row_counts hook to compare with (default: the latest)"),
                ("ratio", Number, false, "expected after/before ratio (default 1)"),
                ("delta", Integer, false, "expected after - before difference (instead of ratio)"),
                ("tolerance", Number, false, "allowed relative deviation, e.g. 0.01 (default 0)"),
                ("equal", Pairs, false, "pairs of tables whose counts must match, e.g. [[\"r_orders\", \"w_orders\"]]"),
            ],
            Builtin::VerifyNoViolations => &[
                ("query", Text, true, "a query returning the violating rows, or one column named count"),
                ("max", Integer, false, "violations allowed (default 0)"),
            ],
            Builtin::Backfill => &[
                ("sql", Text, true, "UPDATE/INSERT ... SELECT; $1 = batch size, or $1/$2 = key range when table and key are given"),
                ("batch_size", Integer, false, "rows per batch (default 10000)"),
                ("table", Text, false, "table whose key range is walked (range mode)"),
                ("key", Text, false, "integer key column of that table (range mode)"),
                ("max_batches", Integer, false, "stop after this many batches (default: until done)"),
            ],
            Builtin::RefreshMaterializedView => &[
                ("view", Text, true, "the materialized view"),
                ("concurrently", Bool, false, "REFRESH ... CONCURRENTLY (needs a unique index)"),
            ],
            Builtin::Analyze => &[("tables", Names, false, "tables to analyze (default: the whole database)")],
            Builtin::Reindex => &[
                ("index", Text, false, "an index to rebuild"),
                ("table", Text, false, "a table whose indexes to rebuild"),
            ],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Names,
    Pairs,
    Number,
    Integer,
    Bool,
}

impl Kind {
    fn accepts(self, v: &Value) -> bool {
        match self {
            Kind::Text => v.as_str().is_some_and(|s| !s.trim().is_empty()),
            Kind::Names => v
                .as_array()
                .is_some_and(|a| !a.is_empty() && a.iter().all(|x| x.is_string())),
            Kind::Pairs => v.as_array().is_some_and(|a| {
                !a.is_empty()
                    && a.iter().all(|p| {
                        p.as_array()
                            .is_some_and(|p| p.len() == 2 && p.iter().all(Value::is_string))
                    })
            }),
            Kind::Number => v.is_number(),
            Kind::Integer => v.as_i64().is_some_and(|n| n >= 0),
            Kind::Bool => v.is_boolean(),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Kind::Text => "a non-empty string",
            Kind::Names => "a non-empty array of names",
            Kind::Pairs => "an array of [table, table] pairs",
            Kind::Number => "a number",
            Kind::Integer => "a non-negative integer",
            Kind::Bool => "true or false",
        }
    }
}

/// Check a built-in's options; the error says which key is wrong and why.
pub fn validate(builtin: Builtin, options: &Value) -> Result<(), String> {
    let Some(map) = options.as_object() else {
        return Err(format!("options must be a JSON object, not {options}"));
    };
    let spec = builtin.options();
    for key in map.keys() {
        if !spec.iter().any(|(k, ..)| k == key) {
            let known: Vec<&str> = spec.iter().map(|(k, ..)| *k).collect();
            return Err(format!(
                "unknown option {key:?} for {}; it accepts {}",
                builtin.as_str(),
                known.join(", ")
            ));
        }
    }
    for (key, kind, required, _) in spec {
        match map.get(*key) {
            None if *required => {
                return Err(format!(
                    "{} needs option {key:?} ({})",
                    builtin.as_str(),
                    kind.describe()
                ))
            }
            Some(v) if !kind.accepts(v) => {
                return Err(format!(
                    "option {key:?} of {} must be {}, not {v}",
                    builtin.as_str(),
                    kind.describe()
                ))
            }
            _ => {}
        }
    }
    match builtin {
        Builtin::Backfill => {
            let ranged = map.contains_key("table") || map.contains_key("key");
            if ranged && !(map.contains_key("table") && map.contains_key("key")) {
                return Err(
                    "backfill needs both \"table\" and \"key\" for range mode, or neither".into(),
                );
            }
            if map.get("batch_size").and_then(Value::as_i64) == Some(0) {
                return Err("option \"batch_size\" of backfill must be at least 1".into());
            }
        }
        Builtin::Reindex if map.contains_key("index") == map.contains_key("table") => {
            return Err("reindex needs exactly one of \"index\" or \"table\"".into());
        }
        Builtin::VerifyRowCounts if map.contains_key("ratio") && map.contains_key("delta") => {
            return Err("verify_row_counts takes \"ratio\" or \"delta\", not both".into());
        }
        _ => {}
    }
    Ok(())
}

/// Row counts by table name.
pub type Counts = BTreeMap<String, i64>;

pub fn counts_from_json(v: &Value) -> Counts {
    v.as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, n)| Some((k.clone(), n.as_i64()?)))
                .collect()
        })
        .unwrap_or_default()
}

pub fn counts_to_json(c: &Counts) -> Value {
    Value::Object(
        c.iter()
            .map(|(k, v)| (k.clone(), Value::from(*v)))
            .collect::<Map<_, _>>(),
    )
}

/// What `verify_row_counts` expects of each table's count.
#[derive(Debug, Clone, PartialEq)]
pub enum Expectation {
    Ratio(f64),
    Delta(i64),
}

/// The tables whose count is not what was expected, as messages.
pub fn count_mismatches(
    before: &Counts,
    after: &Counts,
    expect: &Expectation,
    tolerance: f64,
) -> Vec<String> {
    let mut out = Vec::new();
    for (table, &b) in before {
        let Some(&a) = after.get(table) else {
            out.push(format!("{table}: no count after (it was {b})"));
            continue;
        };
        let expected = match expect {
            Expectation::Ratio(r) => b as f64 * r,
            Expectation::Delta(d) => (b + d) as f64,
        };
        let allowed = (expected.abs() * tolerance).max(0.0);
        if (a as f64 - expected).abs() > allowed + 1e-9 {
            out.push(format!("{table}: {a} rows, expected {expected} (was {b})"));
        }
    }
    out
}

/// Pairs of tables whose counts must be equal (e.g. a read model and its source).
pub fn pair_mismatches(pairs: &[(String, String)], counts: &Counts) -> Vec<String> {
    pairs
        .iter()
        .filter_map(|(l, r)| {
            let (a, b) = (counts.get(l)?, counts.get(r)?);
            (a != b).then(|| format!("{l} has {a} rows but {r} has {b}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn options_are_checked_by_key_and_type() {
        assert!(validate(Builtin::CaptureRowCounts, &json!({"tables": ["a", "b"]})).is_ok());
        assert!(validate(Builtin::CaptureRowCounts, &json!({}))
            .unwrap_err()
            .contains("needs option \"tables\""));
        assert!(validate(Builtin::CaptureRowCounts, &json!({"tables": "a"}))
            .unwrap_err()
            .contains("array"));
        assert!(validate(Builtin::Analyze, &json!({"tabels": ["a"]}))
            .unwrap_err()
            .contains("unknown option"));
        assert!(validate(Builtin::Analyze, &json!([1]))
            .unwrap_err()
            .contains("JSON object"));
        assert!(validate(Builtin::Backfill, &json!({"sql": "x", "table": "t"})).is_err());
        assert!(validate(Builtin::Backfill, &json!({"sql": "x", "batch_size": 0})).is_err());
        assert!(validate(
            Builtin::Backfill,
            &json!({"sql": "x", "table": "t", "key": "id"})
        )
        .is_ok());
        assert!(validate(Builtin::Reindex, &json!({})).is_err());
        assert!(validate(Builtin::VerifyRowCounts, &json!({"ratio": 1, "delta": 2})).is_err());
        assert!(validate(Builtin::VerifyRowCounts, &json!({"equal": [["r", "w"]]})).is_ok());
        assert!(validate(Builtin::VerifyRowCounts, &json!({"equal": [["r"]]})).is_err());
    }

    #[test]
    fn counts_compare_by_ratio_delta_and_tolerance() {
        let before: Counts = [("a".into(), 100), ("b".into(), 10)].into();
        let same = before.clone();
        assert!(count_mismatches(&before, &same, &Expectation::Ratio(1.0), 0.0).is_empty());
        let grown: Counts = [("a".into(), 200), ("b".into(), 20)].into();
        assert!(count_mismatches(&before, &grown, &Expectation::Ratio(2.0), 0.0).is_empty());
        assert_eq!(
            count_mismatches(&before, &grown, &Expectation::Ratio(1.0), 0.0).len(),
            2
        );
        let plus5: Counts = [("a".into(), 105), ("b".into(), 15)].into();
        assert!(count_mismatches(&before, &plus5, &Expectation::Delta(5), 0.0).is_empty());
        assert!(count_mismatches(
            &before,
            &[("a".into(), 101)].into(),
            &Expectation::Ratio(1.0),
            0.02
        )
        .iter()
        .all(|m| m.starts_with("b:")));
    }

    #[test]
    fn pairs_must_match() {
        let c: Counts = [("r".into(), 5), ("w".into(), 5), ("x".into(), 4)].into();
        assert!(pair_mismatches(&[("r".into(), "w".into())], &c).is_empty());
        assert_eq!(
            pair_mismatches(&[("r".into(), "x".into())], &c),
            vec!["r has 5 rows but x has 4"]
        );
    }
}
