//! DDL history, snapshots, drift and pgGit. The log and the snapshot
//! queries are SQL (sql/40_history.sql); this module finds each statement's
//! own text, and is called by `confiture.migrate` around each migration.

use crate::ddl::parse;
use crate::error::{Error, Kind, Result};
use crate::guc::{DriftMode, DRIFT_MODE, SNAPSHOTS};
use crate::migrate::{context, ledger};
use crate::subxact::Subtransaction;
use pgrx::prelude::*;
use std::cell::RefCell;
use std::ffi::CStr;
use std::time::Duration;

// The event triggers are PL/pgSQL: the functions they call are looked up
// when they run, not when they are created.
pgrx::extension_sql_file!("../../sql/40_history.sql", name = "history", requires = ["ledger"]);
pgrx::extension_sql!(
    r#"
CREATE EVENT TRIGGER confiture_ddl_log ON ddl_command_end EXECUTE FUNCTION confiture.log_ddl();
CREATE EVENT TRIGGER confiture_ddl_drop ON sql_drop EXECUTE FUNCTION confiture.log_drop();
"#,
    name = "history_triggers",
    finalize
);

/// The statements of the query string being executed, and how far the
/// event triggers have got through them.
#[derive(Default)]
struct Cursor {
    query: String,
    statements: Vec<(String, String)>,
    next: usize,
}

thread_local! {
    static CURSOR: RefCell<Cursor> = RefCell::new(Cursor::default());
}

/// The text of the DDL statement that fired the event trigger: inside
/// `confiture.migrate`, the migration's statement; typed by hand, the
/// statement of the query string with this command tag, in order (a string
/// of several statements is split with the server's parser, once).
/// `advance => false` for `sql_drop`, which fires before `ddl_command_end`
/// for the same statement.
#[pg_extern(volatile, parallel_unsafe)]
fn ddl_statement_text(tag: Option<String>, advance: default!(Option<bool>, "true")) -> Option<String> {
    if let Some(s) = context::current_statement() {
        return Some(s);
    }
    let tag = tag?;
    let query = unsafe {
        let q = pg_sys::debug_query_string;
        if q.is_null() {
            return None;
        }
        CStr::from_ptr(q).to_string_lossy().into_owned()
    };
    CURSOR.with(|c| {
        let mut c = c.borrow_mut();
        if c.query != query {
            let statements = parse::parse_with(&query, |node, span| unsafe {
                (crate::ddl::convert::command_tag(node), span.text(&query).to_owned())
            })
            .unwrap_or_default();
            *c = Cursor { query: query.clone(), statements, next: 0 };
        }
        if c.statements.len() <= 1 {
            return c.statements.first().map(|(_, t)| t.clone()).or(Some(query.clone()));
        }
        let found = (c.next..c.statements.len()).find(|&i| c.statements[i].0 == tag)?;
        if advance.unwrap_or(true) {
            c.next = found + 1;
        }
        Some(c.statements[found].1.clone())
    })
}

/// Record the DDL that fired the event trigger (called by
/// `confiture.log_ddl()` / `log_drop()`): the role that ran it, each
/// statement's own text with secrets redacted. Written as the extension's
/// owner; outside an event trigger the server refuses the row sources.
#[pg_extern(volatile, parallel_unsafe)]
fn record_ddl(tag: Option<String>, dropped: default!(Option<bool>, "false")) -> Result<()> {
    let _entered = crate::security::enter();
    let tag = tag.unwrap_or_default();
    let dropped = dropped.unwrap_or(false);
    let role = crate::security::current_role_name();
    let migration = context::current_version();
    let statement = ddl_statement_text(Some(tag.clone()), Some(!dropped))
        .map(|s| confiture_core::sql::redact_statement(&tag, &s));
    let sql = if dropped {
        "INSERT INTO confiture.ddl_log (command_tag, object_type, object_identity, schema_name, objid, statement,
                                       migration_version, dropped, role_name)
         SELECT $1, d.object_type, d.object_identity, d.schema_name, d.objid, $2, $3, true, $4
           FROM pg_catalog.pg_event_trigger_dropped_objects() d
          -- also what went with it (a serial column's sequence, a table's indexes)
          WHERE (d.original OR d.object_type IN ('table', 'view', 'materialized view', 'sequence', 'index', 'function',
                                                'trigger', 'table constraint'))
            AND d.schema_name IS DISTINCT FROM 'confiture'"
    } else {
        "INSERT INTO confiture.ddl_log (command_tag, object_type, object_identity, schema_name, objid, statement,
                                       migration_version, role_name)
         SELECT c.command_tag, c.object_type, c.object_identity, c.schema_name, c.objid,
                $2, $3, $4
           FROM pg_catalog.pg_event_trigger_ddl_commands() c
          WHERE NOT c.in_extension AND c.schema_name IS DISTINCT FROM 'confiture'"
    };
    crate::security::as_owner(|| spi(sql, &[tag.clone().into(), statement.clone().into(), migration.clone().into(), role.clone().into()]))
}

fn spi(sql: &str, args: &[pgrx::datum::DatumWithOid]) -> Result<()> {
    Spi::run_with_args(sql, args).map_err(|e| Error::from(e).into())
}

/// Describe objects under the same search_path as `confiture.drift()` and
/// friends, so deparsed definitions (`REFERENCES public.customers`) compare
/// equal whatever the session's search_path; written as the extension's
/// owner (no role writes the snapshots directly).
fn with_snapshot_search_path(work: impl FnOnce() -> Result<()>) -> Result<()> {
    let _path = crate::security::GucScope::set(&[("search_path", "pg_catalog, confiture, pg_temp")]);
    crate::security::as_owner(work)
}

/// Before a run: take the base snapshot on first use, then compare the live
/// schema with the last snapshot per `confiture.drift_mode`.
pub fn check_drift_before_migrate() -> Result<()> {
    if !SNAPSHOTS.get() {
        return Ok(());
    }
    let any = ledger::first_value::<bool>("SELECT true FROM confiture.snapshot_objects LIMIT 1", &[])?;
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

/// After a migration is applied: snapshot the objects it touched, and tell pgGit.
pub fn after_migration_applied(version: &str, duration: Duration) -> Result<()> {
    snapshot_touched(version)?;
    pggit_event("apply", version, duration)
}

/// After a migration is rolled back: record the state its down SQL left
/// (the latest rows win), and tell pgGit.
pub fn after_migration_rolled_back(version: &str, duration: Duration) -> Result<()> {
    snapshot_touched(version)?;
    pggit_event("rollback", version, duration)
}

/// After a migration the client applied over several transactions: the
/// objects its statements touched since the run began, then pgGit.
pub fn after_client_run_applied(version: &str, duration: Duration) -> Result<()> {
    if SNAPSHOTS.get() {
        let since_run_began = SNAPSHOT_TOUCHED.replacen(
            "g.xid = pg_current_xact_id()",
            "g.at >= (SELECT m.running_since FROM confiture.migrations m WHERE m.version = $1)",
            1,
        );
        debug_assert_ne!(since_run_began, SNAPSHOT_TOUCHED);
        with_snapshot_search_path(|| spi(&since_run_began, &[version.into()]))?;
    }
    pggit_event("apply", version, duration)
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
                *cell = Some(c.prepare_mut(sql, &[pgrx::PgOid::BuiltIn(pg_sys::PgBuiltInOids::TEXTOID)])?.keep());
            }
            let prepared = cell.as_ref().expect("prepared above");
            c.update(prepared, None, &[arg.into()]).map(|_| ())
        })
    })
    .map_err(|e: pgrx::spi::SpiError| Error::from(e).into())
}

const SNAPSHOT_TOUCHED: &str = "WITH touched AS (
                -- the object, or the table a trigger, constraint or index belongs to
                -- (for a dropped one: by its name, or the table whose snapshot had it)
                SELECT DISTINCT coalesce(i.indrelid, t.tgrelid, k.conrelid,
                           to_regclass(substring(g.object_identity from ' on (.*)$')),
                           (SELECT s.objid FROM confiture.snapshot_objects s
                             WHERE g.dropped AND g.object_type = 'index' AND s.kind = 'table'
                               AND s.definition->'indexes' ?| ARRAY[g.object_identity, split_part(g.object_identity, '.', 2)]
                             ORDER BY s.id DESC LIMIT 1),
                           g.objid) AS oid,
                       g.object_type, g.object_identity, g.dropped
                  FROM confiture.ddl_log g
                  LEFT JOIN pg_catalog.pg_index i ON i.indexrelid = g.objid
                  LEFT JOIN pg_catalog.pg_trigger t ON t.oid = g.objid
                  LEFT JOIN pg_catalog.pg_constraint k ON k.oid = g.objid
                 WHERE g.migration_version = $1 AND g.xid = pg_current_xact_id()),
             now AS (
                SELECT * FROM confiture.object_definitions WHERE objid = ANY (ARRAY(
                    SELECT oid FROM touched WHERE oid IS NOT NULL
                       AND NOT (dropped AND object_type IN ('table', 'view', 'materialized view', 'function',
                                                            'procedure', 'sequence', 'type'))))),
             renamed AS (
                -- recorded under another name before: that name is gone
                SELECT DISTINCT ON (s.identity) s.kind, s.identity, s.objid, s.definition
                  FROM confiture.snapshot_objects s
                 WHERE s.objid IN (SELECT objid FROM now)
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

/// Is pgGit there, and owned by a role trusted to run code as whoever
/// migrates? Its schema, `create_commit` and `migrations` must belong to a
/// superuser or to confiture's owner: anyone with CREATE on the database
/// could otherwise make a schema `pggit` whose functions confiture would
/// call with the migrating role's (often a superuser's) privileges.
fn pggit_present() -> Result<bool> {
    let found = ledger::first_value::<bool>(
        "SELECT bool_and(r.rolsuper OR r.oid = (SELECT extowner FROM pg_catalog.pg_extension WHERE extname = 'confiture'))
           FROM (SELECT n.nspowner AS owner FROM pg_catalog.pg_namespace n WHERE n.nspname = 'pggit'
                 UNION ALL
                 SELECT p.proowner FROM pg_catalog.pg_proc p
                  WHERE p.oid = pg_catalog.to_regprocedure('pggit.create_commit(text, text, text, uuid[])')
                 UNION ALL
                 SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid = pg_catalog.to_regclass('pggit.migrations')) o
           JOIN pg_catalog.pg_roles r ON r.oid = o.owner
         HAVING count(*) = 3",
        &[],
    )?;
    match found {
        Some(true) => Ok(true),
        Some(false) => {
            Error::new(Kind::InsufficientPrivilege, "pgGit is ignored: its objects are not owned by a trusted role")
                .detail("Schema pggit, pggit.create_commit and pggit.migrations must belong to a superuser or to the owner of extension confiture.")
                .hint("Install pgGit as a superuser (or drop the impostor schema pggit).")
                .warn();
            Ok(false)
        }
        None => Ok(false),
    }
}

fn pggit_event(event: &str, version: &str, duration: Duration) -> Result<()> {
    if !pggit_present()? {
        return Ok(());
    }
    let payload = ledger::first_value::<pgrx::JsonB>(
        "SELECT jsonb_build_object('version', version, 'description', name, 'up_sql', up_sql, 'down_sql', down_sql,
                                   'checksum', checksum, 'applied_at', coalesce(applied_at, now()),
                                   'applied_by', current_user, 'execution_time_ms', $2::int8)
           FROM confiture.migrations WHERE version = $1",
        &[version.into(), (duration.as_millis() as i64).into()],
    )?
    .map(|j| j.0)
    .unwrap_or_default();
    // a failure in pgGit must not fail the migration: queue the event
    let delivered = Subtransaction::new().run(|| deliver(event, &payload));
    if let Err(f) = delivered {
        crate::security::as_owner(|| spi(
            "INSERT INTO confiture.pggit_outbox (event, version, payload, attempts, last_error) VALUES ($1, $2, $3, 1, $4)",
            &[event.into(), version.into(), pgrx::JsonB(payload).into(), f.message.clone().into()],
        ))?;
        Error::new(Kind::WrongState, format!("pgGit did not take migration {version}: {}", f.message))
            .detail("The migration itself succeeded; the event waits in confiture.pggit_outbox.")
            .hint("Run SELECT confiture.pggit_sync() once pgGit works again.")
            .warn();
    }
    Ok(())
}

/// Register one event with pgGit (raises on failure).
fn deliver(event: &str, payload: &serde_json::Value) {
    let p = pgrx::JsonB(payload.clone());
    let sql = if event == "apply" {
        "WITH m AS (SELECT * FROM jsonb_to_record($1) AS r(version text, description text, up_sql text, down_sql text,
                           checksum text, applied_at timestamptz, applied_by text, execution_time_ms int8)),
              ins AS (INSERT INTO pggit.migrations (version, description, up_sql, down_sql, checksum, applied_at,
                                                    applied_by, execution_time_ms)
                      SELECT version, description, up_sql, down_sql, checksum, applied_at, applied_by, execution_time_ms FROM m)
         SELECT pggit.create_commit(coalesce(current_setting('pggit.branch', true), 'main'),
                                    'confiture: apply ' || version || ' ' || description, up_sql) FROM m"
    } else {
        "WITH m AS (SELECT * FROM jsonb_to_record($1) AS r(version text, description text, down_sql text)),
              del AS (DELETE FROM pggit.migrations WHERE version = (SELECT version FROM m))
         SELECT pggit.create_commit(coalesce(current_setting('pggit.branch', true), 'main'),
                                    'confiture: roll back ' || version || ' ' || description, coalesce(down_sql, '')) FROM m"
    };
    Spi::run_with_args(sql, &[p.into()]).unwrap_or_else(|e| Error::new(Kind::Internal, e.to_string()).raise());
}

/// Deliver the events waiting in `confiture.pggit_outbox`, oldest first;
/// stops at the first that fails again. Returns how many were delivered.
#[pg_extern]
fn pggit_sync() -> Result<i64> {
    let _entered = crate::security::enter();
    crate::privilege::require_admin("confiture.pggit_sync")?;
    if !pggit_present()? {
        return Err(Error::new(Kind::UndefinedObject, "pgGit is not installed in this database")
            .detail("confiture.pggit_sync needs pggit.migrations and pggit.create_commit(text, text, text, uuid[]).")
            .hint("CREATE EXTENSION pggit, then run it again.")
            .into());
    }
    let pending: Vec<(i64, String, serde_json::Value)> = Spi::connect_mut(|c| {
        c.update("SELECT id, event, payload FROM confiture.pggit_outbox WHERE delivered_at IS NULL ORDER BY id", None, &[])?
            .map(|r| Ok((r.get(1)?.unwrap_or(0), r.get(2)?.unwrap_or_default(), r.get::<pgrx::JsonB>(3)?.map(|j| j.0).unwrap_or_default())))
            .collect::<std::result::Result<Vec<_>, pgrx::spi::SpiError>>()
    })
    .map_err(Error::from)?;
    let mut delivered = 0;
    for (id, event, payload) in pending {
        match Subtransaction::new().run(|| deliver(&event, &payload)) {
            Ok(()) => {
                crate::security::as_owner(|| {
                    spi("UPDATE confiture.pggit_outbox SET delivered_at = now(), attempts = attempts + 1 WHERE id = $1", &[id.into()])
                })?;
                delivered += 1;
            }
            Err(f) => {
                crate::security::as_owner(|| {
                    spi(
                        "UPDATE confiture.pggit_outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1",
                        &[id.into(), f.message.clone().into()],
                    )
                })?;
                Error::new(Kind::WrongState, format!("pgGit still refuses event {id}: {}", f.message))
                    .detail(format!("{delivered} event(s) were delivered before it; the rest wait."))
                    .hint("Fix pgGit and run confiture.pggit_sync() again.")
                    .warn();
                break;
            }
        }
    }
    Ok(delivered)
}
