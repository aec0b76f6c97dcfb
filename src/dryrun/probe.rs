//! What a dry run reads around each statement: this backend's locks, the
//! user relations (file node and shape), constraints, and row counters of
//! the current transaction. Differences between two probes are what the
//! statement did.

use crate::error::{Error, Result};
use pgrx::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, PartialEq)]
pub struct Relation {
    pub name: String,
    pub kind: String,
    pub filenode: i64,
    /// Hash of columns, constraints and name: changes when the relation is altered.
    pub shape: String,
    /// For an index, its table; for a table, itself.
    pub table: String,
    pub rows: f64,
}

#[derive(Debug, Clone, Default)]
pub struct Probe {
    pub relations: BTreeMap<i64, Relation>,
    pub locks: BTreeSet<(String, String)>,
    /// (constraint, table) → validated
    pub constraints: BTreeMap<(String, String), bool>,
    /// table → (inserted, updated, deleted) in this transaction so far
    pub rows: BTreeMap<String, (i64, i64, i64)>,
}

const USER_SCHEMAS: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema', 'confiture', 'pg_toast')
                            AND n.nspname NOT LIKE 'pg\\_temp%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp%'";

fn spi_err(e: pgrx::spi::SpiError) -> crate::error::ErrorReport {
    Error::from(e).into()
}

impl Probe {
    pub fn take() -> Result<Probe> {
        let mut p = Probe::default();
        Spi::connect_mut(|c| {
            let rels = c.update(
                &format!(
                    "SELECT c.oid::int8, c.oid::regclass::text, c.relkind::text, c.relfilenode::int8,
                            md5(c.relname || coalesce((SELECT string_agg(a.attname || ':' || a.atttypid || ':' || a.atttypmod
                                                   || ':' || a.attnotnull || ':' || a.atthasdef || ':' || a.attisdropped,
                                                   ',' ORDER BY a.attnum)
                                              FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0), '')),
                            coalesce(i.indrelid, c.oid)::regclass::text,
                            greatest(c.reltuples, 0)::float8
                       FROM pg_catalog.pg_class c
                       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                       LEFT JOIN pg_catalog.pg_index i ON i.indexrelid = c.oid
                      WHERE c.relkind IN ('r', 'p', 'i', 'I', 'm', 'v', 'S', 'f') AND {USER_SCHEMAS}"
                ),
                None,
                &[],
            )?;
            for r in rels {
                p.relations.insert(
                    r.get::<i64>(1)?.unwrap_or(0),
                    Relation {
                        name: r.get(2)?.unwrap_or_default(),
                        kind: r.get(3)?.unwrap_or_default(),
                        filenode: r.get(4)?.unwrap_or(0),
                        shape: r.get(5)?.unwrap_or_default(),
                        table: r.get(6)?.unwrap_or_default(),
                        rows: r.get(7)?.unwrap_or(0.0),
                    },
                );
            }
            let locks = c.update(
                &format!(
                    "SELECT l.relation::regclass::text, l.mode
                       FROM pg_catalog.pg_locks l
                       JOIN pg_catalog.pg_class c ON c.oid = l.relation
                       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                      WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted AND {USER_SCHEMAS}"
                ),
                None,
                &[],
            )?;
            for r in locks {
                p.locks.insert((r.get(1)?.unwrap_or_default(), r.get(2)?.unwrap_or_default()));
            }
            let cons = c.update(
                &format!(
                    "SELECT k.conname::text, k.conrelid::regclass::text, k.convalidated
                       FROM pg_catalog.pg_constraint k
                       JOIN pg_catalog.pg_namespace n ON n.oid = k.connamespace
                      WHERE k.conrelid <> 0 AND {USER_SCHEMAS}"
                ),
                None,
                &[],
            )?;
            for r in cons {
                p.constraints
                    .insert((r.get(1)?.unwrap_or_default(), r.get(2)?.unwrap_or_default()), r.get(3)?.unwrap_or(false));
            }
            let counts = c.update(
                "SELECT relid::regclass::text, n_tup_ins, n_tup_upd, n_tup_del
                   FROM pg_catalog.pg_stat_xact_user_tables
                  WHERE n_tup_ins + n_tup_upd + n_tup_del > 0 AND schemaname <> 'confiture'",
                None,
                &[],
            )?;
            for r in counts {
                p.rows.insert(
                    r.get(1)?.unwrap_or_default(),
                    (r.get(2)?.unwrap_or(0), r.get(3)?.unwrap_or(0), r.get(4)?.unwrap_or(0)),
                );
            }
            Ok::<_, pgrx::spi::SpiError>(())
        })
        .map_err(spi_err)?;
        Ok(p)
    }
}

/// What one statement did, from the probes before and after it.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Effects {
    pub inserted: i64,
    pub updated: i64,
    pub deleted: i64,
    /// Tables whose rows changed.
    pub changed_tables: Vec<String>,
    /// (relation, mode) locks taken on relations that existed before.
    pub locks: Vec<(String, String)>,
    pub rewritten: Vec<String>,
    pub created: Vec<String>,
    pub altered: Vec<String>,
    pub dropped: Vec<String>,
    /// (constraint, table, validated)
    pub constraints: Vec<(String, String, bool)>,
    /// Tables involved (locked, rewritten, indexed), with their rows before.
    pub tables: BTreeMap<String, f64>,
    pub index_built: bool,
}

pub fn effects(before: &Probe, after: &Probe) -> Effects {
    let mut e = Effects::default();
    for (table, &(i, u, d)) in &after.rows {
        let (bi, bu, bd) = before.rows.get(table).copied().unwrap_or((0, 0, 0));
        if (i, u, d) != (bi, bu, bd) {
            e.inserted += i - bi;
            e.updated += u - bu;
            e.deleted += d - bd;
            e.changed_tables.push(table.clone());
        }
    }
    let existed: BTreeSet<&str> = before.relations.values().map(|r| r.name.as_str()).collect();
    for (oid, r) in &after.relations {
        match before.relations.get(oid) {
            None => {
                e.created.push(r.name.clone());
                if matches!(r.kind.as_str(), "i" | "I") && existed.contains(r.table.as_str()) {
                    e.index_built = true;
                    involve(&mut e, before, &r.table);
                }
            }
            Some(b) => {
                if b.filenode != r.filenode && r.filenode != 0 {
                    e.rewritten.push(r.name.clone());
                    if matches!(r.kind.as_str(), "i" | "I") {
                        e.index_built = true;
                    }
                    involve(&mut e, before, &r.table);
                }
                if b.shape != r.shape {
                    e.altered.push(r.name.clone());
                }
            }
        }
    }
    for (oid, r) in &before.relations {
        if !after.relations.contains_key(oid) {
            e.dropped.push(r.name.clone());
        }
    }
    for lock in after.locks.difference(&before.locks) {
        if existed.contains(lock.0.as_str()) {
            e.locks.push(lock.clone());
            involve(&mut e, before, &lock.0);
        }
    }
    // A lock already held since an earlier statement does not show up as
    // new; a relation this statement rewrote or altered still needed it.
    for lock in &after.locks {
        let touched = e.rewritten.contains(&lock.0) || e.altered.contains(&lock.0);
        if touched && lock.1 == "AccessExclusiveLock" && !e.locks.contains(lock) {
            e.locks.push(lock.clone());
            involve(&mut e, before, &lock.0);
        }
    }
    e.locks.sort();
    for ((name, table), &valid) in &after.constraints {
        if before.constraints.get(&(name.clone(), table.clone())) != Some(&valid) {
            e.constraints.push((name.clone(), table.clone(), valid));
        }
    }
    e
}

/// Remember a table (not an index or sequence) the statement worked on.
fn involve(e: &mut Effects, before: &Probe, name: &str) {
    if let Some(r) = before
        .relations
        .values()
        .find(|r| r.name == name && matches!(r.kind.as_str(), "r" | "p" | "m"))
    {
        e.tables.insert(r.name.clone(), r.rows);
    }
}
