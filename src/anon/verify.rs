//! `confiture.verify_profile`: what a profile would do, checked on a sample
//! of real rows, without changing anything.

use super::profile::{inconsistent_foreign_keys, table_rules};
use crate::error::{require, Error, Result};
use crate::migrate::ledger::first_value;
use pgrx::prelude::*;
use pgrx::JsonB;

type CheckRow = (String, Option<String>, Option<String>, String, String);

fn count(sql: &str, salt: &str) -> Result<i64> {
    Ok(first_value::<i64>(sql, &[salt.to_owned().into()])?.unwrap_or(0))
}

fn row(
    check: &str,
    table: Option<&str>,
    column: Option<&str>,
    ok: bool,
    detail: String,
) -> CheckRow {
    (
        check.into(),
        table.map(str::to_owned),
        column.map(str::to_owned),
        if ok { "ok" } else { "fail" }.into(),
        detail,
    )
}

/// Check a profile on a sample of rows: masked values differ, hashing is
/// deterministic, NULLs stay NULL, unique columns stay unique, no original
/// value shows in the masked row, foreign keys still join, protected
/// columns (tenant_id) are untouched, and columns that look personal have
/// a rule.
#[pg_extern]
fn verify_profile(
    profile: Option<String>,
    sample: default!(Option<i32>, "1000"),
) -> Result<
    TableIterator<
        'static,
        (
            name!(check, String),
            name!(table_name, Option<String>),
            name!(column_name, Option<String>),
            name!(status, String),
            name!(detail, String),
        ),
    >,
> {
    let _entered = crate::security::enter();
    const F: &str = "confiture.verify_profile";
    let profile = require(profile, F, "profile")?;
    let n = require(sample, F, "sample")?.max(1);
    let salt = first_value::<String>(
        "SELECT confiture.profile_salt($1)",
        &[profile.clone().into()],
    )?
    .unwrap_or_default();
    let mut out: Vec<CheckRow> = Vec::new();

    let tables: Vec<String> = Spi::connect_mut(|c| {
        c.update(
            "SELECT DISTINCT table_name::text FROM confiture.anon_rules r WHERE profile = $1
                AND NOT EXISTS (SELECT FROM confiture.anon_skipped s WHERE s.profile = r.profile AND s.table_name = r.table_name)
              ORDER BY 1",
            None,
            &[profile.clone().into()],
        )?
        .map(|r| r.get::<String>(1).map(|v| v.unwrap_or_default()))
        .collect::<std::result::Result<Vec<_>, pgrx::spi::SpiError>>()
    })
    .map_err(Error::from)?;

    for t in &tables {
        let rules = table_rules(&profile, t)?;
        // every masked column of the row, for the leak check
        let all_masked: Vec<String> = rules
            .iter()
            .filter(|(.., s)| s != "preserve")
            .map(|(_, e, ..)| format!("coalesce(({e})::text, '')"))
            .collect();
        let all_masked = if all_masked.is_empty() {
            "''".to_owned()
        } else {
            all_masked.join(" || '|' || ")
        };
        for (col, expr, condition, strategy) in &rules {
            let scope = condition
                .as_deref()
                .map(|c| format!(" WHERE ({c})"))
                .unwrap_or_default();
            let sampled = format!("(SELECT * FROM {t}{scope} LIMIT {n}) r");
            let cname = col.trim_matches('"');
            if strategy != "preserve" && strategy != "null" {
                let same = count(&format!("SELECT count(*) FROM {sampled} WHERE {col} IS NOT NULL AND ({expr}) IS NOT DISTINCT FROM {col}"), &salt)?;
                out.push(row(
                    "masked_values_differ",
                    Some(t),
                    Some(cname),
                    same == 0,
                    format!("{same} sampled value(s) unchanged"),
                ));
                let leaks = count(&format!(
                    "SELECT count(*) FROM {sampled} WHERE {col} IS NOT NULL AND length({col}::text) >= 4
                        AND strpos({all_masked}, {col}::text) > 0"), &salt)?;
                out.push(row(
                    "no_original_in_masked_row",
                    Some(t),
                    Some(cname),
                    leaks == 0,
                    format!("{leaks} sampled row(s) still contain the original value"),
                ));
            }
            let unstable = count(
                &format!("SELECT count(*) FROM {sampled} WHERE ({expr}) IS DISTINCT FROM ({expr})"),
                &salt,
            )?;
            out.push(row(
                "deterministic",
                Some(t),
                Some(cname),
                unstable == 0,
                format!("{unstable} value(s) masked differently twice"),
            ));
            let nulls = count(
                &format!(
                    "SELECT count(*) FROM {sampled} WHERE {col} IS NULL AND ({expr}) IS NOT NULL"
                ),
                &salt,
            )?;
            out.push(row(
                "nulls_stay_null",
                Some(t),
                Some(cname),
                nulls == 0,
                format!("{nulls} NULL(s) became values"),
            ));
            let unique = first_value::<bool>(
                "SELECT EXISTS (SELECT FROM pg_catalog.pg_index i JOIN pg_catalog.pg_attribute a
                                  ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey::int2[])
                                 WHERE i.indrelid = $1::regclass AND i.indisunique AND quote_ident(a.attname) = $2)",
                &[t.clone().into(), col.clone().into()],
            )?
            .unwrap_or(false);
            if unique {
                let lost = count(&format!(
                    "SELECT count(DISTINCT {col}) - count(DISTINCT ({expr})) FROM (SELECT * FROM {t} LIMIT {n}) r"), &salt)?;
                out.push(row(
                    "unique_stays_unique",
                    Some(t),
                    Some(cname),
                    lost == 0,
                    format!("{lost} distinct value(s) collapsed"),
                ));
            }
        }
        // protected columns must not be touched
        for (col, ..) in rules.iter().filter(|(c, ..)| c == "tenant_id") {
            out.push(row(
                "protected_column_untouched",
                Some(t),
                Some(col),
                false,
                "tenant_id has a masking rule".into(),
            ));
        }
        let has_tenant = first_value::<bool>(
            "SELECT true FROM pg_catalog.pg_attribute WHERE attrelid = $1::regclass AND attname = 'tenant_id' AND NOT attisdropped",
            &[t.clone().into()],
        )?
        .is_some();
        if has_tenant && !rules.iter().any(|(c, ..)| c == "tenant_id") {
            out.push(row(
                "protected_column_untouched",
                Some(t),
                Some("tenant_id"),
                true,
                "tenant_id is not masked".into(),
            ));
        }
    }

    // foreign keys: both sides masked alike, and the masked values still join
    for broken in inconsistent_foreign_keys(&profile)? {
        out.push(row("foreign_keys_join", None, None, false, broken));
    }
    let fks = Spi::connect_mut(|c| {
        c.update(
            "SELECT k.conrelid::regclass::text, quote_ident(ca.attname), k.confrelid::regclass::text, quote_ident(pa.attname), k.conname::text
               FROM pg_catalog.pg_constraint k
               JOIN pg_catalog.pg_attribute ca ON ca.attrelid = k.conrelid AND ca.attnum = k.conkey[1]
               JOIN pg_catalog.pg_attribute pa ON pa.attrelid = k.confrelid AND pa.attnum = k.confkey[1]
               JOIN confiture.anon_rules cr ON cr.profile = $1 AND cr.table_name = k.conrelid AND cr.column_name = ca.attname
               JOIN confiture.anon_rules pr ON pr.profile = $1 AND pr.table_name = k.confrelid AND pr.column_name = pa.attname
              WHERE k.contype = 'f' AND array_length(k.conkey, 1) = 1",
            None,
            &[profile.clone().into()],
        )?
        .map(|r| Ok((r.get::<String>(1)?.unwrap_or_default(), r.get::<String>(2)?.unwrap_or_default(),
                     r.get::<String>(3)?.unwrap_or_default(), r.get::<String>(4)?.unwrap_or_default(),
                     r.get::<String>(5)?.unwrap_or_default())))
        .collect::<std::result::Result<Vec<_>, pgrx::spi::SpiError>>()
    })
    .map_err(Error::from)?;
    for (child, ccol, parent, pcol, name) in fks {
        let c_expr = rule_expr(&profile, &child, &ccol, "c")?;
        let p_expr = rule_expr(&profile, &parent, &pcol, "p")?;
        let mismatched = count(&format!(
            "SELECT count(*) FROM (SELECT * FROM {child} LIMIT {n}) c JOIN {parent} p ON p.{pcol} = c.{ccol}
              WHERE ({c_expr}) IS DISTINCT FROM ({p_expr})"), &salt)?;
        out.push(row(
            "foreign_keys_join",
            Some(&child),
            Some(ccol.trim_matches('"')),
            mismatched == 0,
            format!("{name}: {mismatched} sampled row(s) would no longer find {parent}"),
        ));
    }

    // columns that look personal, by name or by content, with no rule
    let user_tables = all_user_tables()?;
    let unprotected = Spi::connect_mut(|c| {
        c.update(
            r"SELECT c.oid::regclass::text, a.attname::text,
                     CASE WHEN a.attname ~* '(e_?mail|phone|mobile|ssn|social_security|first_?name|last_?name|full_?name|^name$|address|street|birth|dob|^ip$|ip_?addr|card|iban|passport|salary)'
                          THEN 'its name looks personal' ELSE 'its values look like email addresses' END
                FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
               WHERE c.oid = ANY ($2::regclass[]) AND a.attnum > 0 AND NOT a.attisdropped
                 AND NOT EXISTS (SELECT FROM confiture.anon_rules r WHERE r.profile = $1 AND r.table_name = c.oid AND r.column_name = a.attname)
                 AND (a.attname ~* '(e_?mail|phone|mobile|ssn|social_security|first_?name|last_?name|full_?name|^name$|address|street|birth|dob|^ip$|ip_?addr|card|iban|passport|salary)'
                      OR (a.atttypid IN ('text'::regtype, 'varchar'::regtype)
                          AND confiture.looks_like_email(c.oid, a.attname)))",
            None,
            &[profile.clone().into(), user_tables.into()],
        )?
        .map(|r| Ok((r.get::<String>(1)?.unwrap_or_default(), r.get::<String>(2)?.unwrap_or_default(), r.get::<String>(3)?.unwrap_or_default())))
        .collect::<std::result::Result<Vec<_>, pgrx::spi::SpiError>>()
    })
    .map_err(Error::from)?;
    for (t, c, why) in unprotected {
        out.push((
            "personal_data_without_rule".into(),
            Some(t),
            Some(c),
            "warn".into(),
            format!("no rule, but {why}"),
        ));
    }
    Ok(TableIterator::new(out))
}

fn rule_expr(profile: &str, table: &str, quoted_col: &str, alias: &str) -> Result<String> {
    let (_, expr, ..) = table_rules(profile, table)?
        .into_iter()
        .find(|(c, ..)| c == quoted_col)
        .unwrap_or_default();
    // the expressions name the bare column; qualify it for the join
    Ok(expr
        .replace(
            &format!("{quoted_col}::"),
            &format!("{alias}.{quoted_col}::"),
        )
        .replace(&format!("{quoted_col})"), &format!("{alias}.{quoted_col})")))
}

/// Every user table (the personal-data scan covers them all, not only the
/// profile's).
fn all_user_tables() -> Result<Vec<String>> {
    let v = first_value::<JsonB>(
        "SELECT coalesce(jsonb_agg(c.oid::regclass::text), '[]') FROM pg_catalog.pg_class c
           JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'confiture', 'pggit')
            AND n.nspname NOT LIKE 'pg\\_%'",
        &[],
    )?;
    Ok(v.and_then(|j| serde_json::from_value(j.0).ok())
        .unwrap_or_default())
}
