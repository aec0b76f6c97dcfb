//! Risk assessment without running: `confiture.assess(sql)`,
//! `confiture.assess_migration(version)`, and the lock facts behind them
//! (`confiture.lock_facts()`, checked with `confiture.probe_locks(sql)`).

use crate::ddl::parse;
use crate::error::{require, Error, Kind, Result};
use crate::migrate::ledger;
use crate::subxact::Subtransaction;
use confiture_core::risk::{self, locks::FACTS, Assessment, Context, Tier};
use confiture_core::source;
use pgrx::datum::Interval;
use pgrx::prelude::*;

/// One row of an assessment: statement 0 is the whole script's tier.
struct Row {
    statement: i32,
    line: Option<i32>,
    sql: Option<String>,
    a: Option<Assessment>,
    tier: Tier,
    reasons: Vec<String>,
    estimate_ms: Option<f64>,
    confidence: Option<String>,
    inputs: Option<Vec<String>>,
}

fn rows_of(sql: &str, what: &str) -> Result<Vec<Row>> {
    let script = parse::psql_script(sql);
    let sql = script.text.as_str();
    // SQL this server cannot parse is a finding, as in lint: the caller's
    // transaction goes on
    let statements = match parse::parse(sql) {
        Ok(s) => s,
        Err(e) => {
            let at = if e.location().is_empty() {
                String::new()
            } else {
                format!(" at {}", e.location())
            };
            return Ok(vec![Row {
                statement: 0,
                line: e.line.map(|l| l as i32),
                sql: None,
                a: None,
                tier: risk::Tier::Dangerous,
                reasons: vec![format!(
                    "{what} does not parse on this server: {}{at} [{}]",
                    e.message, e.sqlstate
                )],
                estimate_ms: None,
                confidence: None,
                inputs: None,
            }]);
        }
    };
    let mut ctx = Context {
        state: crate::ddl::state::script_state(&statements),
        ..Default::default()
    };
    // the rates this server was calibrated with, or the defaults (saying so)
    let rates = crate::dryrun::calibrate::stored_rates();
    let mwm_kb = crate::dryrun::model::maintenance_work_mem_kb();
    let rated = if rates.calibrated {
        "medium (calibrated rates)"
    } else {
        "low (default rates: run confiture.calibrate())"
    };
    let mut rows = Vec::with_capacity(statements.len() + 1);
    let mut assessments = Vec::with_capacity(statements.len());
    for (i, stmt) in statements.iter().enumerate() {
        let a = risk::assess(stmt, &ctx);
        ctx.after(stmt);
        pgrx::check_for_interrupts!();
        let text = stmt.span.text(sql);
        let cost = crate::dryrun::model::assess_cost(stmt, &a, text, &rates, mwm_kb);
        let (estimate_ms, confidence, inputs) = match cost {
            Some(c) => (Some(c.ms), rated.to_owned(), c.inputs),
            None => (Some(0.0), "high (catalog only)".to_owned(), Vec::new()),
        };
        rows.push(Row {
            statement: i as i32 + 1,
            line: Some(source::line_col(sql, stmt.span.start).0 as i32),
            sql: Some(stmt.span.text(sql).to_owned()),
            tier: a.tier,
            reasons: a.reasons.clone(),
            estimate_ms,
            confidence: Some(confidence),
            inputs: Some(inputs),
            a: Some(a.clone()),
        });
        assessments.push(a);
    }
    let (tier, reasons) = risk::migration_tier(&assessments);
    let total: Option<f64> = rows.iter().map(|r| r.estimate_ms).sum();
    // the script is as sure as its least sure statement
    let confidence = rows
        .iter()
        .filter_map(|r| r.confidence.clone())
        .min_by_key(|c| {
            ["low", "medium", "high"]
                .iter()
                .position(|p| c.starts_with(p))
        })
        .or(Some("high (catalog only)".to_owned()));
    rows.insert(
        0,
        Row {
            statement: 0,
            line: None,
            sql: None,
            a: None,
            tier,
            reasons,
            estimate_ms: total,
            confidence,
            inputs: None,
        },
    );
    Ok(rows)
}

type AssessRow = (
    i32,
    Option<i32>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<Vec<String>>,
    Option<String>,
    Option<bool>,
    Option<String>,
    Option<String>,
    Option<Vec<String>>,
    Option<String>,
    String,
    Vec<String>,
    Option<Interval>,
    Option<String>,
    Option<Vec<String>>,
);

fn to_tuples(rows: Vec<Row>) -> Vec<AssessRow> {
    rows.into_iter()
        .map(|r| {
            let a = r.a;
            (
                r.statement,
                r.line,
                r.sql,
                a.as_ref().and_then(|a| a.lock.map(str::to_owned)),
                a.as_ref().map(|a| a.blocks.to_owned()),
                a.as_ref().map(|a| a.locked.clone()),
                a.as_ref().map(|a| a.rewrite.as_str().to_owned()),
                a.as_ref().map(|a| a.full_scan),
                a.as_ref().and_then(|a| a.data_loss.clone()),
                a.as_ref().and_then(|a| a.compatibility.clone()),
                a.as_ref().map(|a| a.recommendations.clone()),
                a.as_ref()
                    .map(|a| a.inverse.clone().unwrap_or_else(|| "irreversible".into())),
                r.tier.as_str().to_owned(),
                r.reasons,
                r.estimate_ms
                    .map(|ms| Interval::from_micros((ms * 1000.0) as i64)),
                r.confidence,
                r.inputs,
            )
        })
        .collect()
}

/// Assess SQL without running it: one row per statement (and row 0 for
/// the whole script): lock, what it blocks, rewrite, full scan, data loss,
/// backward compatibility, recommendations, inverse, tier and reasons.
#[pg_extern]
fn assess(
    sql: Option<String>,
) -> Result<
    TableIterator<
        'static,
        (
            name!(statement, i32),
            name!(line, Option<i32>),
            name!(sql, Option<String>),
            name!(lock, Option<String>),
            name!(blocks, Option<String>),
            name!(locked, Option<Vec<String>>),
            name!(rewrite, Option<String>),
            name!(full_scan, Option<bool>),
            name!(data_loss, Option<String>),
            name!(compatibility, Option<String>),
            name!(recommendations, Option<Vec<String>>),
            name!(inverse, Option<String>),
            name!(tier, String),
            name!(reasons, Vec<String>),
            name!(estimated_duration, Option<Interval>),
            name!(confidence, Option<String>),
            name!(inputs, Option<Vec<String>>),
        ),
    >,
> {
    let _entered = crate::security::enter();
    let sql = require(sql, "confiture.assess", "sql")?;
    Ok(TableIterator::new(to_tuples(rows_of(&sql, "the SQL")?)))
}

/// Assess a registered migration's up SQL.
#[pg_extern]
fn assess_migration(
    version: Option<String>,
) -> Result<
    TableIterator<
        'static,
        (
            name!(statement, i32),
            name!(line, Option<i32>),
            name!(sql, Option<String>),
            name!(lock, Option<String>),
            name!(blocks, Option<String>),
            name!(locked, Option<Vec<String>>),
            name!(rewrite, Option<String>),
            name!(full_scan, Option<bool>),
            name!(data_loss, Option<String>),
            name!(compatibility, Option<String>),
            name!(recommendations, Option<Vec<String>>),
            name!(inverse, Option<String>),
            name!(tier, String),
            name!(reasons, Vec<String>),
            name!(estimated_duration, Option<Interval>),
            name!(confidence, Option<String>),
            name!(inputs, Option<Vec<String>>),
        ),
    >,
> {
    let _entered = crate::security::enter();
    let version = require(version, "confiture.assess_migration", "version")?;
    let Some(m) = ledger::find(&version)? else {
        return Err(Error::new(
            Kind::UndefinedObject,
            format!("migration {version} is not registered"),
        )
        .detail("confiture.assess_migration looks it up in confiture.migrations.")
        .hint("SELECT version FROM confiture.status() lists the registered versions.")
        .into());
    };
    Ok(TableIterator::new(to_tuples(rows_of(
        &m.up_sql,
        &format!("migration {version}"),
    )?)))
}

/// The documented lock of each kind of statement, with an example.
#[pg_extern(immutable, parallel_safe)]
fn lock_facts() -> TableIterator<
    'static,
    (
        name!(operation, String),
        name!(example, String),
        name!(lock, String),
        name!(rewrites, bool),
        name!(relation, String),
    ),
> {
    TableIterator::new(FACTS.iter().map(|f| {
        (
            f.operation.into(),
            f.example.into(),
            f.lock.into(),
            f.rewrites,
            f.relation.into(),
        )
    }))
}

/// Run `sql` in a savepoint that is always rolled back and return the
/// table locks it took (relation, mode): what this server really does.
#[pg_extern]
fn probe_locks(
    sql: Option<String>,
) -> Result<TableIterator<'static, (name!(relation, String), name!(mode, String))>> {
    let _entered = crate::security::enter();
    let sql = require(sql, "confiture.probe_locks", "sql")?;
    crate::migrate::refuse_nested("confiture.probe_locks")?;
    // (relation oid, name, mode); names are read before running, since a
    // dropped or renamed relation no longer has its old name afterwards
    let read = || -> Vec<(i64, String, String)> {
        Spi::connect_mut(|c| {
            c.update(
                "SELECT l.relation::int8, l.relation::regclass::text, l.mode FROM pg_catalog.pg_locks l
                  WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted
                    AND l.relation NOT IN (SELECT oid FROM pg_catalog.pg_class
                                            WHERE relnamespace = 'pg_catalog'::regnamespace)",
                None,
                &[],
            )?
            .map(|r| Ok((r.get(1)?.unwrap_or(0), r.get(2)?.unwrap_or_default(), r.get(3)?.unwrap_or_default())))
            .collect::<std::result::Result<Vec<_>, pgrx::spi::SpiError>>()
        })
        .unwrap_or_default()
    };
    // names as the caller sees them (under their search_path): the query is
    // fully qualified, so nothing in that search_path can stand in for it
    let names: std::collections::BTreeMap<i64, String> = crate::security::with_caller_search_path(|| {
        ledger::first_value::<pgrx::JsonB>(
            "SELECT pg_catalog.jsonb_object_agg(c.oid::pg_catalog.int8::pg_catalog.text, c.oid::pg_catalog.regclass::pg_catalog.text)
               FROM pg_catalog.pg_class c
              WHERE c.relnamespace OPERATOR(pg_catalog.<>) 'pg_catalog'::pg_catalog.regnamespace",
            &[],
        )
    })?
    .and_then(|j| serde_json::from_value::<std::collections::BTreeMap<String, String>>(j.0).ok())
    .map(|m| m.into_iter().filter_map(|(k, v)| Some((k.parse().ok()?, v))).collect())
    .unwrap_or_default();
    let before = read();
    let outcome = Subtransaction::new().always_roll_back().run(|| {
        crate::security::with_caller_search_path(|| {
            Spi::run(&sql)
                .unwrap_or_else(|e| Error::new(Kind::InvalidArgument, e.to_string()).raise())
        });
        read()
    });
    match outcome {
        Ok(after) => Ok(TableIterator::new(
            after
                .into_iter()
                .filter(move |l| !before.contains(l))
                .map(move |(oid, name, mode)| (names.get(&oid).cloned().unwrap_or(name), mode)),
        )),
        Err(f) => f.rethrow(),
    }
}
