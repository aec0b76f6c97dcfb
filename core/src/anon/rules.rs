//! A profile rule turned into SQL: validate its options and the column's
//! type, and write the masking expression (the salt is a query parameter,
//! never inlined, so it does not show in pg_stat_activity).

use super::{strategy, Output, StrategyInfo};
use serde_json::Value;

/// A column as the catalog describes it.
pub struct Column<'a> {
    /// Quoted name, e.g. `"Email"`.
    pub quoted: &'a str,
    /// `format_type` of the column, e.g. `character varying(200)`.
    pub type_name: &'a str,
}

fn text_type(t: &str) -> bool {
    t == "text"
        || t.starts_with("character varying")
        || t.starts_with("character")
        || t == "citext"
        || t == "name"
}
fn integer_type(t: &str) -> bool {
    matches!(t, "bigint" | "integer" | "smallint")
}
fn number_type(t: &str) -> bool {
    integer_type(t) || t.starts_with("numeric") || matches!(t, "real" | "double precision")
}
fn date_type(t: &str) -> bool {
    t == "date" || t.starts_with("timestamp")
}

fn opt_str<'a>(o: &'a Value, k: &str) -> Option<&'a str> {
    o.get(k).and_then(Value::as_str)
}

// literals the server reads the same under any standard_conforming_strings
use crate::sql::quote_literal as lit;

/// Check a rule; on success, the SQL expression that masks the column.
/// `salt` is the SQL text of the salt parameter (e.g. `$1`).
pub fn expression(
    strategy_name: &str,
    options: &Value,
    col: &Column,
    salt: &str,
) -> Result<String, RuleError> {
    let info = strategy(strategy_name)
        .ok_or_else(|| RuleError::UnknownStrategy(strategy_name.to_owned()))?;
    if !options.is_object() {
        return Err(RuleError::Options(format!(
            "options must be a JSON object, not {options}"
        )));
    }
    check_type(info, options, col)?;
    let c = col.quoted;
    let t = col.type_name;
    let int = |k: &str, d: i64| -> Result<i64, RuleError> {
        match options.get(k) {
            None => Ok(d),
            Some(v) => v.as_i64().ok_or_else(|| {
                RuleError::Options(format!("option {k:?} must be an integer, not {v}"))
            }),
        }
    };
    let num = |k: &str| -> Result<Option<f64>, RuleError> {
        match options.get(k) {
            None => Ok(None),
            Some(v) => v.as_f64().map(Some).ok_or_else(|| {
                RuleError::Options(format!("option {k:?} must be a number, not {v}"))
            }),
        }
    };
    let cast_back = |e: String| {
        if text_type(t) && t != "text" {
            format!("({e})::{t}")
        } else {
            e
        }
    };
    Ok(match strategy_name {
        "email" => {
            let keep = options
                .get("keep_domain")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            cast_back(format!("confiture.mask_email({c}::text, {salt}, {keep})"))
        }
        "hash" => match opt_str(options, "format").unwrap_or("hex") {
            "hex" => cast_back(format!("confiture.mask_hash({c}::text, {salt}, 'hex')")),
            "uuid" => format!("(confiture.mask_hash({c}::text, {salt}, 'uuid'))::{t}"),
            "bigint" => format!("(confiture.mask_hash_bigint({c}::text, {salt}))::{t}"),
            other => {
                return Err(RuleError::Options(format!(
                    "format must be hex, uuid or bigint, not {other:?}"
                )))
            }
        },
        "pattern" => {
            let p = opt_str(options, "pattern")
                .ok_or_else(|| RuleError::Options("pattern needs option \"pattern\"".into()))?;
            cast_back(format!("confiture.mask_pattern({c}::text, {})", lit(p)))
        }
        "partial" => {
            let mask = opt_str(options, "mask").unwrap_or("*");
            if mask.chars().count() != 1 {
                return Err(RuleError::Options(format!(
                    "mask must be one character, not {mask:?}"
                )));
            }
            for k in ["keep_first", "keep_last"] {
                if int(k, 1)? < 0 {
                    return Err(RuleError::Options(format!("{k} must not be negative")));
                }
            }
            cast_back(format!(
                "confiture.mask_partial({c}::text, {}, {}, {})",
                int("keep_first", 1)?,
                int("keep_last", 1)?,
                lit(mask)
            ))
        }
        "redact" => cast_back(format!(
            "confiture.mask_redact({c}::text, {})",
            lit(opt_str(options, "replacement").unwrap_or("[REDACTED]"))
        )),
        "null" => "NULL".into(),
        "phone" => {
            let keep = int("keep_digits", 5)?;
            super::person::check_keep_digits(keep).map_err(RuleError::Options)?;
            cast_back(format!("confiture.mask_phone({c}::text, {salt}, {keep})"))
        }
        "first_name" => cast_back(format!("confiture.mask_first_name({c}::text, {salt})")),
        "last_name" => cast_back(format!("confiture.mask_last_name({c}::text, {salt})")),
        "name" => cast_back(format!("confiture.mask_name({c}::text, {salt})")),
        "date_shift" => {
            let days = int("days", 30)?;
            super::dates::check_days(days).map_err(RuleError::Options)?;
            format!(
                "({c} + confiture.mask_date_shift_days({c}::text, {salt}, {days}) * interval '1 day')::{t}"
            )
        }
        "date_trunc" => {
            let unit = opt_str(options, "unit").unwrap_or("month");
            if !matches!(unit, "month" | "year") {
                return Err(RuleError::Options(format!(
                    "unit must be month or year, not {unit:?}"
                )));
            }
            format!("date_trunc('{unit}', {c})::{t}")
        }
        "ip" => {
            let keep = int("keep_bits", 24)?;
            super::network::check_keep_bits(keep, false).map_err(RuleError::Options)?;
            let keep6 = int("keep_bits_v6", 64)?;
            super::network::check_keep_bits(keep6, true).map_err(RuleError::Options)?;
            format!("(confiture.mask_ip_text(host({c}::inet), {salt}, {keep}, {keep6}))::{t}")
        }
        "credit_card" => cast_back(format!("confiture.mask_credit_card({c}::text, {salt})")),
        "number_range" => {
            let (min, max) = (num("min")?, num("max")?);
            let (Some(min), Some(max)) = (min, max) else {
                return Err(RuleError::Options(
                    "number_range needs options \"min\" and \"max\"".into(),
                ));
            };
            super::numbers::check_range(min, max).map_err(RuleError::Options)?;
            let e = format!("confiture.mask_number_range({c}::float8, {salt}, {min}, {max})");
            if integer_type(t) {
                format!("round({e})::{t}")
            } else {
                format!("({e})::{t}")
            }
        }
        "noise" => {
            let p = num("percent")?.unwrap_or(10.0);
            super::numbers::check_percent(p).map_err(RuleError::Options)?;
            let e = format!("confiture.mask_noise({c}::float8, {salt}, {p})");
            if integer_type(t) {
                format!("round({e})::{t}")
            } else {
                format!("({e})::{t}")
            }
        }
        "regex_redact" => {
            let p = opt_str(options, "pattern").ok_or_else(|| {
                RuleError::Options("regex_redact needs option \"pattern\"".into())
            })?;
            regex::Regex::new(p)
                .map_err(|e| RuleError::Options(format!("invalid regular expression: {e}")))?;
            cast_back(format!(
                "confiture.mask_regex({c}::text, {}, {})",
                lit(p),
                lit(opt_str(options, "replacement").unwrap_or("[REDACTED]"))
            ))
        }
        "preserve" => c.to_owned(),
        "custom" => {
            let f = opt_str(options, "function")
                .ok_or_else(|| RuleError::Options("custom needs option \"function\"".into()))?;
            if !f
                .chars()
                .all(|ch| ch.is_alphanumeric() || ch == '_' || ch == '.' || ch == '"')
            {
                return Err(RuleError::Options(format!(
                    "function must be a (schema-qualified) function name, not {f:?}"
                )));
            }
            format!("({f}({c}))::{t}")
        }
        _ => unreachable!("strategy() only returns known strategies"),
    })
}

fn check_type(info: &StrategyInfo, options: &Value, col: &Column) -> Result<(), RuleError> {
    let t = col.type_name;
    let ok = if info.name == "hash" {
        match opt_str(options, "format") {
            Some("uuid") => t == "uuid" || t == "text",
            Some("bigint") => integer_type(t) || t == "text",
            // 64 hex characters need room
            _ => t == "text" || t == "citext" || t == "character varying",
        }
    } else {
        match info.output {
            Output::Text => text_type(t),
            Output::Uuid => t == "uuid" || text_type(t),
            Output::Bigint => integer_type(t) || text_type(t),
            Output::Number => number_type(t),
            Output::Date => date_type(t),
            Output::Inet => matches!(t, "inet" | "cidr") || text_type(t),
            Output::Same => info.name != "noise" || number_type(t),
        }
    };
    if ok {
        Ok(())
    } else {
        Err(RuleError::Type {
            strategy: info.name.to_owned(),
            column_type: t.to_owned(),
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum RuleError {
    UnknownStrategy(String),
    Options(String),
    Type {
        strategy: String,
        column_type: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn col<'a>(t: &'a str) -> Column<'a> {
        Column {
            quoted: "c",
            type_name: t,
        }
    }

    #[test]
    fn expressions() {
        assert_eq!(
            expression("email", &json!({}), &col("text"), "$1").unwrap(),
            "confiture.mask_email(c::text, $1, false)"
        );
        assert_eq!(
            expression(
                "email",
                &json!({"keep_domain": true}),
                &col("character varying(200)"),
                "$1"
            )
            .unwrap(),
            "(confiture.mask_email(c::text, $1, true))::character varying(200)"
        );
        assert!(
            expression("hash", &json!({"format": "bigint"}), &col("bigint"), "$1")
                .unwrap()
                .contains("mask_hash_bigint")
        );
        assert_eq!(
            expression("null", &json!({}), &col("text"), "$1").unwrap(),
            "NULL"
        );
        assert_eq!(
            expression("preserve", &json!({}), &col("int"), "$1").unwrap(),
            "c"
        );
        assert!(
            expression("pattern", &json!({"pattern": "it's"}), &col("text"), "$1")
                .unwrap()
                .contains("'it''s'")
        );
    }

    #[test]
    fn refusals() {
        assert_eq!(
            expression("emial", &json!({}), &col("text"), "$1"),
            Err(RuleError::UnknownStrategy("emial".into()))
        );
        assert!(matches!(
            expression("email", &json!({}), &col("integer"), "$1"),
            Err(RuleError::Type { .. })
        ));
        assert!(matches!(
            expression("date_shift", &json!({}), &col("text"), "$1"),
            Err(RuleError::Type { .. })
        ));
        assert!(matches!(
            expression("number_range", &json!({"min": 1}), &col("integer"), "$1"),
            Err(RuleError::Options(_))
        ));
        assert!(matches!(
            expression(
                "number_range",
                &json!({"min": 5, "max": 1}),
                &col("integer"),
                "$1"
            ),
            Err(RuleError::Options(_))
        ));
        assert!(matches!(
            expression("regex_redact", &json!({"pattern": "("}), &col("text"), "$1"),
            Err(RuleError::Options(_))
        ));
        assert!(matches!(
            expression(
                "custom",
                &json!({"function": "f(); DROP TABLE x"}),
                &col("text"),
                "$1"
            ),
            Err(RuleError::Options(_))
        ));
        // rules that would leave values unchanged
        for (strategy, options, t) in [
            ("date_shift", json!({"days": 0}), "date"),
            ("date_shift", json!({"days": -3}), "date"),
            ("ip", json!({"keep_bits": 32}), "inet"),
            ("ip", json!({"keep_bits_v6": 128}), "inet"),
            ("phone", json!({"keep_digits": 99}), "text"),
            ("phone", json!({"keep_digits": 15}), "text"),
            ("number_range", json!({"min": 3, "max": 3}), "integer"),
            ("noise", json!({"percent": 0}), "integer"),
            ("noise", json!({"percent": 1e308}), "double precision"),
            ("partial", json!({"keep_first": -1}), "text"),
        ] {
            assert!(
                matches!(
                    expression(strategy, &options, &col(t), "$1"),
                    Err(RuleError::Options(_))
                ),
                "{strategy} {options}"
            );
        }
        assert!(expression("ip", &json!({"keep_bits": 31}), &col("inet"), "$1").is_ok());
        assert!(matches!(
            expression("email", &json!([1]), &col("text"), "$1"),
            Err(RuleError::Options(_))
        ));
        assert!(matches!(
            expression("hash", &json!({}), &col("character varying(10)"), "$1"),
            Err(RuleError::Type { .. })
        ));
    }
}
