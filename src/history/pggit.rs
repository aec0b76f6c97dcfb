//! pgGit: every applied or rolled back migration becomes an event in
//! `confiture.pggit_outbox`, delivered to pgGit strictly in order: a new
//! event queues behind any that still wait, and each is delivered only once
//! all older ones were (or were skipped with `confiture.pggit_skip`).
//!
//! The contract, checked against pgGit's own source (pggit--0.1.3.sql and
//! sql/install.sql of evoludigit/pgGit v0.2.1):
//!
//! * `pggit.migrations (id serial, version text NOT NULL UNIQUE, description,
//!   up_script text NOT NULL, down_script, checksum, applied_at timestamp,
//!   applied_by, execution_time_ms integer, created_at)`: an apply upserts
//!   the row by version (so delivering an apply pgGit already has is not an
//!   error), a rollback keeps the row and clears `applied_at` (pgGit's
//!   "pending").
//! * `pggit.create_commit(branch, message, sql, parents uuid[] DEFAULT
//!   NULL)`: one commit per event on the event's branch. pgGit hashes the
//!   message and the SQL through a text-to-bytea cast, where a backslash is
//!   an escape: both are passed with backslashes doubled, so pgGit hashes
//!   exactly the original bytes. The message names the event, which keeps
//!   commit hashes (message, SQL and transaction start) unique.
//! * The branch: `pggit.branch` (confiture's setting), else pgGit's own
//!   `pggit.current_branch`, else `main`; an empty value (after `RESET`)
//!   counts as unset. It is stored with the event when it is queued.

use crate::error::{Error, Kind, Result};
use crate::migrate::ledger;
use crate::subxact::Subtransaction;
use pgrx::prelude::*;
use std::cell::Cell;
use std::time::Duration;

thread_local! {
    /// The local transaction id in which a delivery last failed: later
    /// events of that transaction queue without trying pgGit again (one
    /// WARNING per run, not one per migration).
    static FAILED_IN: Cell<Option<u32>> = const { Cell::new(None) };
}

fn local_xid() -> u32 {
    unsafe {
        if pg_sys::MyProc.is_null() {
            0
        } else {
            (*pg_sys::MyProc).lxid
        }
    }
}

/// Is pgGit there, and owned by a role trusted to run code as whoever
/// migrates? Its schema, `create_commit` and `migrations` must belong to a
/// superuser or to confiture's owner: anyone with CREATE on the database
/// could otherwise make a schema `pggit` whose functions confiture would
/// call with the migrating role's (often a superuser's) privileges.
pub fn pggit_present() -> Result<bool> {
    // most databases have no pgGit: one catalog lookup, no query
    if unsafe { pg_sys::get_namespace_oid(c"pggit".as_ptr(), true) } == pg_sys::InvalidOid {
        return Ok(false);
    }
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

/// The pgGit branch events of this session go to.
fn current_branch() -> String {
    let set = |name: &str| {
        crate::security::setting(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    set("pggit.branch")
        .or_else(|| set("pggit.current_branch"))
        .unwrap_or_else(|| "main".to_owned())
}

/// Queue the event of migration `version` (just applied or rolled back)
/// and deliver what waits, in order.
pub fn event(event: &str, version: &str, duration: Duration) -> Result<()> {
    if !pggit_present()? {
        return Ok(());
    }
    let by = crate::security::role_name(crate::security::invoker()).unwrap_or_default();
    let id = crate::security::as_owner(|| {
        ledger::first_value::<i64>(
            "INSERT INTO confiture.pggit_outbox (event, version, branch, payload)
             SELECT $1, m.version, $2,
                    pg_catalog.jsonb_build_object('version', m.version, 'description', m.name, 'up_script', m.up_sql,
                        'down_script', m.down_sql, 'checksum', m.checksum,
                        'applied_at', coalesce(m.applied_at, pg_catalog.now()), 'applied_by', $4::text,
                        'execution_time_ms', $5::int8)
               FROM confiture.migrations m WHERE m.version = $3
             RETURNING id",
            &[event.into(), current_branch().into(), version.into(), by.into(), (duration.as_millis() as i64).into()],
        )
    })?;
    let Some(id) = id else { return Ok(()) };
    if FAILED_IN.with(|f| f.get()) == Some(local_xid()) {
        return Ok(());
    }
    deliver_waiting(Some((id, version)))?;
    Ok(())
}

struct Waiting {
    id: i64,
    event: String,
    version: String,
    branch: String,
    payload: serde_json::Value,
}

/// Deliver the waiting events oldest first, stopping at the first pgGit
/// refuses (its error is kept with it). `new` is the event just queued by a
/// migration, for the warning. Returns how many were delivered.
fn deliver_waiting(new: Option<(i64, &str)>) -> Result<i64> {
    let waiting: Vec<Waiting> = Spi::connect_mut(|c| {
        c.update(
            "SELECT id, event, version, coalesce(branch, 'main'), payload FROM confiture.pggit_outbox
              WHERE delivered_at IS NULL AND skipped_at IS NULL ORDER BY id",
            None,
            &[],
        )?
        .map(|r| {
            Ok(Waiting {
                id: r.get(1)?.unwrap_or(0),
                event: r.get(2)?.unwrap_or_default(),
                version: r.get(3)?.unwrap_or_default(),
                branch: r.get(4)?.unwrap_or_default(),
                payload: r.get::<pgrx::JsonB>(5)?.map(|j| j.0).unwrap_or_default(),
            })
        })
        .collect::<std::result::Result<Vec<_>, pgrx::spi::SpiError>>()
    })
    .map_err(Error::from)?;
    let total = waiting.len();
    let mut delivered = 0;
    for w in waiting {
        pgrx::check_for_interrupts!();
        match Subtransaction::new().run(|| deliver(&w)) {
            Ok(()) => {
                crate::security::as_owner(|| {
                    spi("UPDATE confiture.pggit_outbox SET delivered_at = pg_catalog.now(), attempts = attempts + 1,
                                last_error = NULL WHERE id = $1",
                        &[w.id.into()])
                })?;
                delivered += 1;
            }
            Err(f) => {
                crate::security::as_owner(|| {
                    spi("UPDATE confiture.pggit_outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1",
                        &[w.id.into(), f.message.clone().into()])
                })?;
                FAILED_IN.with(|x| x.set(Some(local_xid())));
                let behind = total - delivered as usize - 1;
                let e = match new {
                    Some((id, version)) if id == w.id => {
                        Error::new(Kind::WrongState, format!("pgGit did not take migration {version}: {}", f.message))
                            .detail(format!("The migration itself succeeded; its {} event {} waits in confiture.pggit_outbox.", w.event, w.id))
                    }
                    Some((_, version)) => Error::new(
                        Kind::WrongState,
                        format!("pgGit still refuses event {} ({} of migration {}): {}", w.id, w.event, w.version, f.message),
                    )
                    .detail(format!(
                        "Migration {version} succeeded; its event waits behind event {} ({} event(s) wait, to be delivered in order).",
                        w.id,
                        behind + 1
                    )),
                    None => Error::new(
                        Kind::WrongState,
                        format!("pgGit still refuses event {} ({} of migration {}): {}", w.id, w.event, w.version, f.message),
                    )
                    .detail(format!("{delivered} event(s) were delivered before it; it and the {behind} after it wait.")),
                };
                e.hint(format!(
                    "Fix pgGit and run SELECT confiture.pggit_sync(); if pgGit will never accept it: SELECT confiture.pggit_skip({}, 'why');",
                    w.id
                ))
                .warn();
                break;
            }
        }
    }
    Ok(delivered)
}

/// Register one event with pgGit (raises on failure).
fn deliver(w: &Waiting) {
    let p = &w.payload;
    let text = |k: &str| p.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    let description = text("description").unwrap_or_default();
    let (upsert, verb, sql) = if w.event == "apply" {
        (
            "INSERT INTO pggit.migrations AS g (version, description, up_script, down_script, checksum, applied_at,
                                                applied_by, execution_time_ms)
             SELECT r.version, r.description, coalesce(r.up_script, ''), r.down_script, r.checksum, r.applied_at,
                    r.applied_by, least(r.execution_time_ms, 2147483647)::int4
               FROM pg_catalog.jsonb_to_record($1) AS r(version text, description text, up_script text, down_script text,
                    checksum text, applied_at timestamptz, applied_by text, execution_time_ms int8)
             ON CONFLICT (version) DO UPDATE
                SET description = excluded.description, up_script = excluded.up_script,
                    down_script = excluded.down_script, checksum = excluded.checksum, applied_at = excluded.applied_at,
                    applied_by = excluded.applied_by, execution_time_ms = excluded.execution_time_ms",
            "apply",
            text("up_script").unwrap_or_default(),
        )
    } else {
        (
            "INSERT INTO pggit.migrations AS g (version, description, up_script, down_script, checksum)
             SELECT r.version, r.description, coalesce(r.up_script, ''), r.down_script, r.checksum
               FROM pg_catalog.jsonb_to_record($1) AS r(version text, description text, up_script text, down_script text,
                    checksum text)
             ON CONFLICT (version) DO UPDATE SET applied_at = NULL, applied_by = NULL, execution_time_ms = NULL",
            "roll back",
            text("down_script").unwrap_or_default(),
        )
    };
    let message = format!(
        "confiture: {verb} {} {description} (event {})",
        w.version, w.id
    );
    // pgGit casts both to bytea, where a backslash escapes: double them
    let escape = |s: &str| s.replace('\\', "\\\\");
    let ran = Spi::run_with_args(upsert, &[pgrx::JsonB(p.clone()).into()]).and_then(|_| {
        Spi::run_with_args(
            "SELECT pggit.create_commit($1, $2, $3)",
            &[
                w.branch.clone().into(),
                escape(&message).into(),
                escape(&sql).into(),
            ],
        )
    });
    ran.unwrap_or_else(|e| Error::new(Kind::Internal, e.to_string()).raise());
}

fn spi(sql: &str, args: &[pgrx::datum::DatumWithOid]) -> Result<()> {
    Spi::run_with_args(sql, args).map_err(|e| Error::from(e).into())
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
            .hint("Install pgGit (as a superuser), then run it again.")
            .into());
    }
    crate::migrate::lock::acquire("confiture.pggit_sync")?;
    FAILED_IN.with(|f| f.set(None));
    deliver_waiting(None)
}

/// Give up on one waiting event that pgGit will never accept, so the ones
/// after it can be delivered: it stays in the outbox, marked skipped, with
/// the reason and who skipped it. Returns how many events still wait.
#[pg_extern]
fn pggit_skip(id: Option<i64>, reason: Option<String>) -> Result<i64> {
    let _entered = crate::security::enter();
    const F: &str = "confiture.pggit_skip";
    let id = crate::error::require(id, F, "id")?;
    let reason = crate::error::require(reason, F, "reason")?;
    if reason.trim().is_empty() {
        return Err(
            Error::new(Kind::InvalidArgument, "reason must not be empty")
                .detail("A skipped event is never delivered to pgGit; the reason is kept with it.")
                .hint("Say why pgGit will not get this event.")
                .into(),
        );
    }
    crate::privilege::require_admin(F)?;
    crate::migrate::lock::acquire(F)?;
    let state = ledger::first_value::<String>(
        "SELECT CASE WHEN delivered_at IS NOT NULL THEN 'delivered' WHEN skipped_at IS NOT NULL THEN 'skipped'
                     ELSE 'waiting' END
           FROM confiture.pggit_outbox WHERE id = $1",
        &[id.into()],
    )?;
    match state.as_deref() {
        None => {
            return Err(Error::new(Kind::UndefinedObject, format!("there is no pgGit event {id}"))
                .detail("confiture.pggit_outbox has no event with this id.")
                .hint("SELECT id, event, version, last_error FROM confiture.pggit_outbox WHERE delivered_at IS NULL AND skipped_at IS NULL;")
                .into())
        }
        Some("waiting") => {}
        Some(s) => {
            return Err(Error::new(Kind::WrongState, format!("pgGit event {id} was already {s}"))
                .detail("Only a waiting event can be skipped.")
                .hint("SELECT * FROM confiture.pggit_outbox WHERE id = ...; shows it.")
                .into())
        }
    }
    let by = crate::security::role_name(crate::security::invoker()).unwrap_or_default();
    crate::security::as_owner(|| {
        spi(
            "UPDATE confiture.pggit_outbox SET skipped_at = pg_catalog.now(), skipped_by = $2, skip_reason = $3 WHERE id = $1",
            &[id.into(), by.into(), reason.into()],
        )
    })?;
    Ok(ledger::first_value::<i64>(
        "SELECT count(*) FROM confiture.pggit_outbox WHERE delivered_at IS NULL AND skipped_at IS NULL",
        &[],
    )?
    .unwrap_or(0))
}
