//! From a statement to the cost model's inputs: which work it does on which
//! table (core's `estimate::Work`), and what the catalog says about that
//! table (rows, pages, TOAST, fill factor, indexes, key widths). Shared by
//! `assess` (statistics and rates only) and the dry run (the model's ratio
//! between production and here scales what was measured).

use crate::migrate::ledger;
use confiture_core::ddl::{AlterTableCmd, ConstraintKind, DmlKind, Statement, StatementKind};
use confiture_core::estimate::{self, Cost, IndexStats, Rates, TableStats, Work};
use confiture_core::risk::{Assessment, Rewrite};
use pgrx::prelude::*;
use pgrx::JsonB;

/// What one statement does, before the catalog is asked.
#[derive(Debug, Clone)]
pub enum Planned {
    Work(Work),
    /// An index on these columns (None: an expression).
    Index(Vec<Option<String>>),
    /// VALIDATE CONSTRAINT: a CHECK or a FOREIGN KEY, the catalog knows.
    Validate(String),
    /// UPDATE or DELETE with a WHERE clause: the planner estimates its rows.
    Filtered {
        delete: bool,
    },
}

/// The (table, work) pairs of a statement.
pub fn plan(stmt: &Statement, a: &Assessment, sql: &str) -> Vec<(String, Planned)> {
    use StatementKind as K;
    let mut out = Vec::new();
    match &stmt.kind {
        K::CreateIndex(ci) if a.index_build || ci.concurrently => {
            out.push((
                ci.table.to_string(),
                Planned::Index(estimate::index_columns(sql)),
            ));
        }
        K::AlterTable(at) => {
            let table = at.table.to_string();
            if a.rewrite == Rewrite::Yes {
                // one rewrite, whatever else the statement does during it
                out.push((table, Planned::Work(Work::Rewrite)));
                return out;
            }
            for cmd in &at.commands {
                match cmd {
                    AlterTableCmd::SetNotNull { .. } if a.full_scan => {
                        out.push((table.clone(), Planned::Work(Work::NotNullScan)))
                    }
                    AlterTableCmd::ValidateConstraint { name } if a.full_scan => {
                        out.push((table.clone(), Planned::Validate(name.clone())))
                    }
                    AlterTableCmd::AddConstraint(k) if !k.not_valid => match k.kind {
                        ConstraintKind::ForeignKey if a.full_scan => {
                            out.push((table.clone(), Planned::Work(Work::ForeignKeyScan)))
                        }
                        ConstraintKind::Check | ConstraintKind::NotNull if a.full_scan => {
                            out.push((table.clone(), Planned::Work(Work::CheckScan)))
                        }
                        ConstraintKind::PrimaryKey
                        | ConstraintKind::Unique
                        | ConstraintKind::Exclusion
                            if a.index_build =>
                        {
                            out.push((
                                table.clone(),
                                Planned::Index(k.columns.iter().map(|c| Some(c.clone())).collect()),
                            ))
                        }
                        _ => {}
                    },
                    _ => {}
                }
            }
        }
        K::Dml(d) if matches!(d.kind, DmlKind::Update | DmlKind::Delete) => {
            let delete = d.kind == DmlKind::Delete;
            if a.writes_every_row {
                out.push((
                    d.table.to_string(),
                    Planned::Work(if delete {
                        Work::Delete { rows: None }
                    } else {
                        Work::Update { rows: None }
                    }),
                ));
            } else if d.has_where {
                out.push((d.table.to_string(), Planned::Filtered { delete }));
            }
        }
        K::Vacuum(_) | K::Cluster(_) if a.rewrite == Rewrite::Yes => {
            for t in &a.tables {
                out.push((t.clone(), Planned::Work(Work::Rewrite)));
            }
        }
        _ => {}
    }
    out
}

/// The table's statistics, or None when it does not exist (yet).
/// The oid of `table` as the caller names it (resolved under the caller's
/// search_path by a fully qualified call: nothing there can stand in).
pub fn table_oid(table: &str) -> Option<i64> {
    crate::security::with_caller_search_path(|| {
        ledger::first_value::<i64>(
            "SELECT pg_catalog.to_regclass($1)::pg_catalog.oid::pg_catalog.int8",
            &[table.to_owned().into()],
        )
    })
    .ok()
    .flatten()
}

pub fn table_stats(table: &str) -> Option<TableStats> {
    let oid = table_oid(table)?;
    // the catalog queries run under the pinned search_path
    let found = {
        ledger::first_value::<JsonB>(
            r#"SELECT pg_catalog.jsonb_build_object(
                 'name', c.oid::pg_catalog.regclass::pg_catalog.text,
                 'oid', c.oid::pg_catalog.int8,
                 'rows', c.reltuples::pg_catalog.float8,
                 'pages', c.relpages::pg_catalog.float8,
                 'size_pages', (pg_catalog.pg_relation_size(c.oid) / 8192)::pg_catalog.float8,
                 'toast_pages', coalesce((SELECT (pg_catalog.pg_relation_size(t.oid) / 8192)::pg_catalog.float8
                                            FROM pg_catalog.pg_class t WHERE t.oid OPERATOR(pg_catalog.=) c.reltoastrelid), 0),
                 'fillfactor', coalesce((SELECT pg_catalog.substring(o, 12)::pg_catalog.float8 FROM pg_catalog.unnest(c.reloptions) o
                                          WHERE o OPERATOR(pg_catalog.~~) 'fillfactor=%'), 100),
                 'indexes', coalesce((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                                  'name', i.indexrelid::pg_catalog.regclass::pg_catalog.text,
                                  'key_bytes', (SELECT coalesce(sum(coalesce(s.avg_width, CASE WHEN a.attlen OPERATOR(pg_catalog.>) 0 THEN a.attlen END, 16)), 16)
                                                  FROM pg_catalog.pg_attribute a
                                                  LEFT JOIN pg_catalog.pg_stats s ON s.schemaname OPERATOR(pg_catalog.=) n.nspname
                                                        AND s.tablename OPERATOR(pg_catalog.=) c.relname AND s.attname OPERATOR(pg_catalog.=) a.attname
                                                 WHERE a.attrelid OPERATOR(pg_catalog.=) c.oid AND a.attnum OPERATOR(pg_catalog.=) ANY (i.indkey::pg_catalog.int2[])),
                                  'text_key', i.indexprs IS NOT NULL OR EXISTS (
                                                SELECT FROM pg_catalog.pg_attribute a
                                                 WHERE a.attrelid OPERATOR(pg_catalog.=) c.oid AND a.attnum OPERATOR(pg_catalog.=) ANY (i.indkey::pg_catalog.int2[])
                                                   AND a.attcollation OPERATOR(pg_catalog.<>) 0)))
                               FROM pg_catalog.pg_index i WHERE i.indrelid OPERATOR(pg_catalog.=) c.oid), '[]'))
               FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
              WHERE c.oid OPERATOR(pg_catalog.=) $1::pg_catalog.oid"#,
            &[oid.into()],
        )
    }
    .ok()
    .flatten()?
    .0;
    let f = |k: &str| found.get(k).and_then(|v| v.as_f64()).unwrap_or(0.0);
    let mut rows = f("rows");
    let size_pages = f("size_pages");
    let mut pages = f("pages");
    if rows < 0.0 {
        // never analyzed: assume rows of the calibration table's width
        rows = size_pages * 8192.0 / Rates::default().calibration_row_bytes;
    }
    if pages < 1.0 && size_pages >= 1.0 {
        pages = size_pages;
    }
    let indexes = found
        .get("indexes")
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .map(|i| IndexStats {
                    name: i
                        .get("name")
                        .and_then(|v| v.as_str())
                        .unwrap_or("")
                        .to_owned(),
                    key_bytes: i.get("key_bytes").and_then(|v| v.as_f64()).unwrap_or(16.0),
                    text_key: i.get("text_key").and_then(|v| v.as_bool()).unwrap_or(true),
                })
                .collect()
        })
        .unwrap_or_default();
    let oid = found.get("oid").and_then(|v| v.as_i64()).unwrap_or(0);
    Some(TableStats {
        own_transaction: rewritten_in_this_transaction(oid),
        name: found
            .get("name")
            .and_then(|v| v.as_str())
            .unwrap_or(table)
            .to_owned(),
        rows,
        pages,
        toast_pages: f("toast_pages"),
        fillfactor: f("fillfactor"),
        indexes,
    })
}

/// Was the relation created, or given a new file (a rewrite), by the
/// current transaction? Then its rows are this transaction's own.
fn rewritten_in_this_transaction(oid: i64) -> bool {
    if oid <= 0 {
        return false;
    }
    unsafe {
        let rel = pg_sys::RelationIdGetRelation(pg_sys::Oid::from(oid as u32));
        if rel.is_null() {
            return false;
        }
        let own = (*rel).rd_createSubid != 0
            || (*rel).rd_newRelfilenodeSubid != 0
            || (*rel).rd_firstRelfilenodeSubid != 0;
        pg_sys::RelationClose(rel);
        own
    }
}

/// Key width and kind of an index on `columns` of `table`.
fn key_of(table: &str, columns: &[Option<String>]) -> (f64, bool) {
    let names: Vec<String> = columns.iter().flatten().cloned().collect();
    let expressions = columns.iter().filter(|c| c.is_none()).count() as f64;
    let oid = table_oid(table).unwrap_or(0);
    let found = {
        ledger::first_value::<JsonB>(
            "SELECT pg_catalog.jsonb_build_object(
                 'bytes', coalesce(sum(coalesce(s.avg_width, CASE WHEN a.attlen OPERATOR(pg_catalog.>) 0 THEN a.attlen END, 16)), 0),
                 'text', coalesce(bool_or(a.attcollation OPERATOR(pg_catalog.<>) 0), false))
               FROM pg_catalog.pg_attribute a
               JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) a.attrelid
               JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
               LEFT JOIN pg_catalog.pg_stats s ON s.schemaname OPERATOR(pg_catalog.=) n.nspname
                     AND s.tablename OPERATOR(pg_catalog.=) c.relname AND s.attname OPERATOR(pg_catalog.=) a.attname
              WHERE a.attrelid OPERATOR(pg_catalog.=) $1::pg_catalog.oid
                AND a.attname OPERATOR(pg_catalog.=) ANY ($2::pg_catalog.name[]) AND NOT a.attisdropped",
            &[oid.into(), names.into()],
        )
    }
    .ok()
    .flatten()
    .map(|j| j.0);
    let bytes = found
        .as_ref()
        .and_then(|v| v.get("bytes")?.as_f64())
        .unwrap_or(0.0)
        + 16.0 * expressions;
    let text = found
        .as_ref()
        .and_then(|v| v.get("text")?.as_bool())
        .unwrap_or(false)
        || expressions > 0.0;
    (bytes.max(4.0), text)
}

/// The contype of constraint `name` on `table`: 'f', 'c', ...
fn constraint_kind(table: &str, name: &str) -> Option<String> {
    let oid = table_oid(table)?;
    ledger::first_value::<String>(
        "SELECT contype::pg_catalog.text FROM pg_catalog.pg_constraint
          WHERE conrelid OPERATOR(pg_catalog.=) $1::pg_catalog.oid AND conname OPERATOR(pg_catalog.=) $2",
        &[oid.into(), name.to_owned().into()],
    )
    .ok()
    .flatten()
}

/// The planner's row estimate for an UPDATE or DELETE (EXPLAIN without
/// ANALYZE, so nothing runs; in a subtransaction always rolled back, as the
/// caller, with pg_catalog first in the search_path).
fn planned_rows(sql: &str) -> Option<f64> {
    let path = format!(
        "pg_catalog, {}",
        crate::security::caller_search_path().unwrap_or_default()
    );
    let explain = format!("EXPLAIN (FORMAT JSON) {sql}");
    crate::subxact::Subtransaction::new()
        .always_roll_back()
        .run(|| {
            let _path = crate::security::GucScope::set(&[("search_path", &path)]);
            Spi::get_one::<pgrx::Json>(&explain).ok().flatten()
        })
        .ok()
        .flatten()
        .and_then(|j| {
            let plan = j.0.get(0)?.get("Plan")?.clone();
            // ModifyTable reports 0 rows: its input has them
            let input = plan.get("Plans").and_then(|p| p.get(0)).unwrap_or(&plan);
            input.get("Plan Rows")?.as_f64()
        })
}

/// Turn a planned piece into the model's work, asking the catalog.
pub fn resolve(table: &str, p: &Planned, sql: &str) -> (Work, Vec<String>) {
    match p {
        Planned::Work(w) => (w.clone(), vec![]),
        Planned::Index(cols) => {
            let (key_bytes, text_key) = key_of(table, cols);
            (
                Work::IndexBuild {
                    key_bytes,
                    text_key,
                },
                vec!["key width (pg_stats.avg_width)".into()],
            )
        }
        Planned::Validate(name) => match constraint_kind(table, name).as_deref() {
            Some("f") => (Work::ForeignKeyScan, vec![]),
            _ => (Work::CheckScan, vec![]),
        },
        Planned::Filtered { delete } => {
            let rows = planned_rows(sql);
            let note = if rows.is_some() {
                vec![]
            } else {
                vec!["every row (the WHERE clause could not be planned)".into()]
            };
            (
                if *delete {
                    Work::Delete { rows }
                } else {
                    Work::Update { rows }
                },
                note,
            )
        }
    }
}

/// maintenance_work_mem in kB.
pub fn maintenance_work_mem_kb() -> f64 {
    ledger::first_value::<i64>(
        "SELECT setting::pg_catalog.int8 FROM pg_catalog.pg_settings WHERE name OPERATOR(pg_catalog.=) 'maintenance_work_mem'",
        &[],
    )
    .ok()
    .flatten()
    .unwrap_or(65536) as f64
}

/// assess's estimate of a statement: statistics and rates, nothing run.
pub fn assess_cost(
    stmt: &Statement,
    a: &Assessment,
    sql: &str,
    rates: &Rates,
    mwm_kb: f64,
) -> Option<Cost> {
    let planned = plan(stmt, a, sql);
    let mut total = Cost::default();
    for (table, p) in &planned {
        pgrx::check_for_interrupts!();
        let Some(stats) = table_stats(table) else {
            total
                .inputs
                .push(format!("{table} does not exist yet: 0 rows"));
            continue;
        };
        let (work, notes) = resolve(table, p, sql);
        let c = estimate::cost(&work, &stats, rates, mwm_kb);
        total.ms += c.ms;
        for i in notes.into_iter().chain(c.inputs) {
            if !total.inputs.contains(&i) {
                total.inputs.push(i);
            }
        }
    }
    (!planned.is_empty()).then_some(total)
}
