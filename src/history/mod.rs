//! DDL history, snapshots, drift and pgGit. The log is kept by event
//! triggers ([`log`]), the snapshot queries are SQL (sql/40_history.sql),
//! pgGit gets an event per applied or rolled back migration ([`pggit`]);
//! `confiture.migrate` calls in here around each migration.

pub mod log;
pub mod pggit;

use crate::error::{Error, Kind, Result};
use crate::guc::{DriftMode, DRIFT_MODE, SNAPSHOTS};
use crate::migrate::ledger;
use pgrx::prelude::*;
use std::cell::RefCell;
use std::time::Duration;

pgrx::extension_sql_file!(
    "../../sql/40_history.sql",
    name = "history",
    requires = ["ledger", log::ddl_log_flush]
);

fn spi(sql: &str, args: &[pgrx::datum::DatumWithOid]) -> Result<()> {
    Spi::run_with_args(sql, args).map_err(|e| Error::from(e).into())
}

/// Describe objects under the same search_path as `confiture.drift()` and
/// friends, so deparsed definitions (`REFERENCES public.customers`) compare
/// equal whatever the session's search_path; written as the extension's
/// owner (no role writes the snapshots directly).
fn with_snapshot_search_path(work: impl FnOnce() -> Result<()>) -> Result<()> {
    // a generic plan, built once per backend: planning the snapshot query
    // for each migration cost as much as running it
    let _path = crate::security::GucScope::set(&[
        ("search_path", "pg_catalog, confiture, pg_temp"),
        ("plan_cache_mode", "force_generic_plan"),
    ]);
    crate::security::as_owner(work)
}

/// Before a run: take the base snapshot on first use, then compare the live
/// schema with the last snapshot per `confiture.drift_mode`.
pub fn check_drift_before_migrate() -> Result<()> {
    if !SNAPSHOTS.get() {
        return Ok(());
    }
    let any =
        ledger::first_value::<bool>("SELECT true FROM confiture.snapshot_objects LIMIT 1", &[])?;
    if any.is_none() {
        return with_snapshot_search_path(|| {
            spi(
                "INSERT INTO confiture.snapshot_objects (version, kind, identity, objid, definition, hash)
                 SELECT 'base', kind, identity, objid, definition, encode(sha256(convert_to(definition::text, 'UTF8')), 'hex')
                   FROM confiture.schema_objects(NULL)",
                &[],
            )
        });
    }
    let mode = DRIFT_MODE.get();
    if mode == DriftMode::Off {
        return Ok(());
    }
    let drift = ledger::first_value::<String>(
        "SELECT count(*) || ' object(s): ' || string_agg(change || ' ' || kind || ' ' || identity, ', ')
           FROM (SELECT * FROM confiture.drift() LIMIT 20) d HAVING count(*) > 0",
        &[],
    )?;
    let Some(what) = drift else { return Ok(()) };
    let e = Error::new(Kind::WrongState, format!("the schema has drifted from the last migration: {what}"))
        .detail("These changes were made outside confiture.migrate; confiture.drift() lists them with the DDL that made them.");
    if mode == DriftMode::Enforce {
        return Err(e
            .hint("Turn the change into a migration (or revert it); SET confiture.drift_mode = warn to migrate anyway.")
            .into());
    }
    e.hint("Turn the change into a migration (or revert it); SET confiture.drift_mode = off to silence this.").warn();
    Ok(())
}

/// After a migration is applied: write its log rows, snapshot the objects
/// it touched, and tell pgGit.
pub fn after_migration_applied(version: &str, duration: Duration) -> Result<()> {
    log::flush();
    snapshot_touched(version)?;
    pggit::event("apply", version, duration)
}

/// After a migration is rolled back: record the state its down SQL left
/// (the latest rows win), and tell pgGit.
pub fn after_migration_rolled_back(version: &str, duration: Duration) -> Result<()> {
    log::flush();
    snapshot_touched(version)?;
    pggit::event("rollback", version, duration)
}

/// After a migration failed: its own DDL is gone, but what its `on_error`
/// hooks kept (`survive => true`) was made by confiture.migrate, not by
/// hand: snapshot it, so it is not drift.
pub fn after_migration_failed(version: &str) -> Result<()> {
    log::flush();
    snapshot_touched(version)
}

/// After a migration the client applied over several transactions: the
/// objects its statements touched since the run began, then pgGit.
pub fn after_client_run_applied(version: &str, duration: Duration) -> Result<()> {
    log::flush();
    if SNAPSHOTS.get() {
        let since_run_began = SNAPSHOT_TOUCHED.replacen(
            "g.xid = pg_current_xact_id()",
            "g.at >= (SELECT m.running_since FROM confiture.migrations m WHERE m.version = $1)",
            1,
        );
        debug_assert_ne!(since_run_began, SNAPSHOT_TOUCHED);
        with_snapshot_search_path(|| spi(&since_run_began, &[version.into()]))?;
    }
    pggit::event("apply", version, duration)
}

thread_local! {
    /// The per-migration snapshot statement, planned once per backend: its
    /// planning (a large view) cost as much as running it.
    static SNAPSHOT_PLAN: RefCell<Option<pgrx::spi::OwnedPreparedStatement>> = const { RefCell::new(None) };
}

/// Snapshot the objects the DDL of `version` touched in this transaction.
fn snapshot_touched(version: &str) -> Result<()> {
    if SNAPSHOTS.get() {
        with_snapshot_search_path(|| run_kept(&SNAPSHOT_PLAN, SNAPSHOT_TOUCHED, version))?;
    }
    Ok(())
}

/// Run a kept plan with one text argument, preparing it on first use.
fn run_kept(
    plan: &'static std::thread::LocalKey<RefCell<Option<pgrx::spi::OwnedPreparedStatement>>>,
    sql: &str,
    arg: &str,
) -> Result<()> {
    plan.with(|cell| {
        Spi::connect_mut(|c| {
            let mut cell = cell.borrow_mut();
            if cell.is_none() {
                *cell = Some(
                    c.prepare_mut(sql, &[pgrx::PgOid::BuiltIn(pg_sys::PgBuiltInOids::TEXTOID)])?
                        .keep(),
                );
            }
            let prepared = cell.as_ref().expect("prepared above");
            c.update(prepared, None, &[arg.into()]).map(|_| ())
        })
    })
    .map_err(|e: pgrx::spi::SpiError| Error::from(e).into())
}

const SNAPSHOT_TOUCHED: &str = "WITH touched AS (
                -- the object, or the table a trigger, constraint or index belongs to
                -- (for a dropped one: by its name; a dropped index: the table the
                -- log saw it on, else the table whose snapshot had it). Scalar
                -- subqueries: one index lookup each, whatever the plan.
                SELECT DISTINCT coalesce(
                           (SELECT i.indrelid FROM pg_catalog.pg_index i WHERE i.indexrelid = g.objid),
                           (SELECT t.tgrelid FROM pg_catalog.pg_trigger t WHERE t.oid = g.objid),
                           (SELECT k.conrelid FROM pg_catalog.pg_constraint k WHERE k.oid = g.objid),
                           to_regclass(substring(g.object_identity from ' on (.*)$')),
                           CASE WHEN g.dropped AND g.object_type = 'index' THEN coalesce(
                               (SELECT p.parent FROM confiture.ddl_log p
                                 WHERE p.objid = g.objid AND p.id < g.id AND p.parent IS NOT NULL
                                 ORDER BY p.objid DESC, p.id DESC LIMIT 1),
                               (SELECT s.objid FROM confiture.snapshot_objects s
                                 WHERE s.kind = 'table'
                                   AND s.definition->'indexes' ?| ARRAY[g.object_identity, split_part(g.object_identity, '.', 2)]
                                 ORDER BY s.id DESC LIMIT 1)) END,
                           g.objid) AS oid,
                       g.object_type, g.object_identity, g.dropped
                  FROM confiture.ddl_log g
                 WHERE g.migration_version = $1 AND g.xid = pg_current_xact_id()),
             now AS (
                SELECT * FROM confiture.object_definitions WHERE objid = ANY (ARRAY(
                    SELECT oid FROM touched WHERE oid IS NOT NULL
                       AND NOT (dropped AND object_type IN ('table', 'view', 'materialized view', 'function',
                                                            'procedure', 'sequence', 'type'))))),
             renamed AS (
                -- recorded under another name before: that name is gone
                SELECT DISTINCT ON (s.identity) s.kind, s.identity, s.objid, s.definition
                  FROM now n
                  CROSS JOIN LATERAL (SELECT * FROM confiture.snapshot_objects s   -- by its objid index
                                       WHERE s.objid = n.objid AND s.identity <> n.identity OFFSET 0) s
                 ORDER BY s.identity, s.id DESC)
             INSERT INTO confiture.snapshot_objects (version, kind, identity, objid, definition, hash)
             SELECT $1, n.kind, n.identity, n.objid, n.definition,
                    encode(sha256(convert_to(n.definition::text, 'UTF8')), 'hex')
               FROM now n
             UNION ALL
             SELECT $1, g.object_type, g.object_identity, NULL, NULL, NULL FROM touched g
              WHERE g.dropped AND g.object_type IN ('table', 'view', 'materialized view', 'function', 'procedure', 'sequence', 'type')
             UNION ALL
             SELECT $1, r.kind, r.identity, r.objid, NULL, NULL FROM renamed r
              WHERE r.definition IS NOT NULL AND r.identity NOT IN (SELECT identity FROM now)";
