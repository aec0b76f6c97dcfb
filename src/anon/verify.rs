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
    // the profile's owner only: a clear error before the salt is read
    super::profile::require_profile_owner(&profile)?;
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
        // every column of the masked row that can carry text, for the leak
        // check: (name, lower-cased text of its masked value)
        let haystack = leak_haystack(t, &rules)?;
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
                out.push(leak_row(t, col, &sampled, &haystack, &salt)?);
            }
            if strategy == "null" {
                out.push(leak_row(t, col, &sampled, &haystack, &salt)?);
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

    out.extend(trigger_rows(&tables)?);

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

/// The columns of `table` that can carry an original value as text (text
/// types, json/jsonb, arrays, tsvector, and every masked column), as
/// (quoted name, SQL of the lower-cased text of its masked value).
fn leak_haystack(
    table: &str,
    rules: &[(String, String, Option<String>, String)],
) -> Result<Vec<(String, String)>> {
    let cols = Spi::connect_mut(|c| {
        c.update(
            "SELECT pg_catalog.quote_ident(a.attname),
                    t.typcategory IN ('S', 'A') OR a.atttypid IN ('json'::regtype, 'jsonb'::regtype, 'tsvector'::regtype)
               FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
              WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            None,
            &[table.into()],
        )?
        .map(|r| Ok((r.get::<String>(1)?.unwrap_or_default(), r.get::<bool>(2)?.unwrap_or(false))))
        .collect::<std::result::Result<Vec<_>, pgrx::spi::SpiError>>()
    })
    .map_err(Error::from)?;
    Ok(cols
        .into_iter()
        .filter_map(|(c, textual)| match rules.iter().find(|(q, ..)| *q == c) {
            Some((_, _, _, s)) if s == "null" => None,
            Some((_, e, ..)) => Some((c, format!("pg_catalog.lower(({e})::text)"))),
            None if textual => Some((c.clone(), format!("pg_catalog.lower({c}::text)"))),
            None => None,
        })
        .collect())
}

/// Sampled rows whose masked form still holds the original value of `col`
/// in some column (case-insensitively: a tsvector lower-cases), and where.
fn leak_row(
    table: &str,
    col: &str,
    sampled: &str,
    haystack: &[(String, String)],
    salt: &str,
) -> Result<CheckRow> {
    let cname = col.trim_matches('"');
    if haystack.is_empty() {
        return Ok(row(
            "no_original_in_masked_row",
            Some(table),
            Some(cname),
            true,
            "0 sampled row(s) still contain the original value".into(),
        ));
    }
    let names: Vec<String> = haystack
        .iter()
        .map(|(c, _)| confiture_core::sql::quote_literal(c.trim_matches('"')))
        .collect();
    let texts: Vec<&str> = haystack.iter().map(|(_, e)| e.as_str()).collect();
    let found = first_value::<JsonB>(
        &format!(
            "SELECT jsonb_build_object('rows', count(DISTINCT r.confiture_row), 'where',
                      coalesce(string_agg(DISTINCT confiture_leak.c, ', '), ''))
               FROM (SELECT row_number() OVER () AS confiture_row, * FROM {sampled}) r,
                    LATERAL unnest(ARRAY[{}]::text[], ARRAY[{}]::text[]) AS confiture_leak(c, v)
              WHERE r.{col} IS NOT NULL AND length(r.{col}::text) >= 4
                AND strpos(confiture_leak.v, pg_catalog.lower(r.{col}::text)) > 0",
            names.join(", "),
            texts.join(", ")
        ),
        &[salt.to_owned().into()],
    )?
    .map(|j| j.0)
    .unwrap_or_default();
    let rows = found["rows"].as_i64().unwrap_or(0);
    let wher = found["where"].as_str().unwrap_or_default();
    Ok(row(
        "no_original_in_masked_row",
        Some(table),
        Some(cname),
        rows == 0,
        if rows == 0 {
            "0 sampled row(s) still contain the original value".into()
        } else {
            format!("{rows} sampled row(s) still contain the original value, in: {wher}")
        },
    ))
}

/// User triggers on the profile's tables, and the tables their functions
/// write to (as named in the function's source): `anonymize` pauses them,
/// but every other write to those tables runs them.
fn trigger_rows(tables: &[String]) -> Result<Vec<CheckRow>> {
    Spi::connect_mut(|c| {
        c.update(
            r#"SELECT t.tgrelid::regclass::text,
                      format('trigger %s runs %s, which writes to %s; anonymize disables it while masking',
                             pg_catalog.quote_ident(t.tgname), t.tgfoid::regproc,
                             coalesce((SELECT string_agg(DISTINCT m[3], ', ')
                                         FROM regexp_matches(p.prosrc,
                                              '(insert\s+into|update|delete\s+from|merge\s+into|copy)\s+(only\s+)?([A-Za-z_"][A-Za-z0-9_."$]*)',
                                              'gi') AS m
                                        WHERE lower(m[3]) NOT IN ('set', 'of')), 'no table it names'))
                 FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid
                WHERE t.tgrelid = ANY ($1::regclass[]) AND NOT t.tgisinternal
                ORDER BY 1, 2"#,
            None,
            &[tables.to_vec().into()],
        )?
        .map(|r| {
            Ok(row(
                "user_triggers",
                r.get::<String>(1)?.as_deref(),
                None,
                false,
                r.get::<String>(2)?.unwrap_or_default(),
            ))
        })
        .collect::<std::result::Result<Vec<_>, pgrx::spi::SpiError>>()
    })
    .map(|rows| {
        rows.into_iter()
            .map(|mut r| {
                r.3 = "warn".into();
                r
            })
            .collect()
    })
    .map_err(|e| Error::from(e).into())
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
            AND n.nspname NOT LIKE 'pg\\_%'
            -- another extension's own tables are its business, not personal data of the user's
            AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d
                             WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid
                               AND d.deptype = 'e')",
        &[],
    )?;
    Ok(v.and_then(|j| serde_json::from_value(j.0).ok())
        .unwrap_or_default())
}
