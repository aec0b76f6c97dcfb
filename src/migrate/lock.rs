//! The migration lock: an EXCLUSIVE lock on the ledger table, held until
//! the transaction ends, so two sessions never apply the same migration. A
//! second `migrate` waits for the first to commit or roll back and then
//! reads the ledger afresh, finding nothing left to do.
//!
//! A table lock, not an advisory key: any role can take any advisory lock,
//! but this one needs UPDATE on the ledger, which only the extension's owner
//! has (roles that may only read the ledger take ACCESS SHARE, which does not
//! conflict). The wait is bounded by `lock_timeout`, or by
//! `confiture.lock_wait_timeout` when `lock_timeout` is 0.

use crate::error::{Error, Kind, Result};
use crate::guc::LOCK_WAIT_TIMEOUT;
use crate::security::{self, GucScope};
use crate::subxact::Subtransaction;
use pgrx::prelude::*;

const LOCK_NOWAIT: &str = "LOCK TABLE confiture.migrations IN EXCLUSIVE MODE NOWAIT";
const LOCK_WAIT: &str = "LOCK TABLE confiture.migrations IN EXCLUSIVE MODE";

fn try_lock(sql: &str) -> Result<std::result::Result<(), crate::subxact::Failure>> {
    security::as_owner(|| {
        Ok(Subtransaction::new().run(|| Spi::run(sql).unwrap_or_else(|e| Error::from(e).raise())))
    })
}

/// Take the lock for the rest of the transaction, waiting if another
/// session holds it.
pub fn acquire(function: &str) -> Result<()> {
    match try_lock(LOCK_NOWAIT)? {
        Ok(()) => return Ok(()),
        Err(f) if f.code() == "55P03" => {}
        Err(f) => f.rethrow(),
    }
    let holder = holder_pid().map_or("(unknown)".into(), |p| p.to_string());
    let snapshot_isolation =
        security::setting("transaction_isolation").is_some_and(|l| l != "read committed");
    if snapshot_isolation {
        // Our snapshot predates the other run: after waiting we could not
        // see what it applied, and would try to apply it again.
        return Err(Error::new(
            Kind::SerializationFailure,
            format!("{function} cannot wait for a concurrent migration in this isolation level"),
        )
        .detail(format!("Session {holder} is changing the ledger; this transaction's snapshot would not see its result."))
        .hint("Retry the transaction, or run it in READ COMMITTED.")
        .into());
    }
    let lock_timeout = security::setting("lock_timeout").unwrap_or_default();
    let (bound, source) = if lock_timeout == "0" {
        (
            format!("{}ms", LOCK_WAIT_TIMEOUT.get()),
            "confiture.lock_wait_timeout",
        )
    } else {
        (lock_timeout, "lock_timeout")
    };
    pgrx::notice!("{function} is waiting for session {holder} to finish its migration run ({source} = {bound})");
    let waited = {
        let _bound = (source != "lock_timeout" && LOCK_WAIT_TIMEOUT.get() > 0)
            .then(|| GucScope::set(&[("lock_timeout", &bound)]));
        try_lock(LOCK_WAIT)?
    };
    match waited {
        Ok(()) => Ok(()),
        Err(f) if f.code() == "55P03" => Err(Error::new(
            Kind::LockNotAvailable,
            format!("{function} gave up waiting for the migration lock"),
        )
        .detail(format!(
            "Session {holder} still holds it after {source} = {bound}."
        ))
        .hint(format!(
            "Wait for the other run to finish (see pg_stat_activity), or raise {source}."
        ))
        .into()),
        Err(f) => f.rethrow(),
    }
}

fn holder_pid() -> Option<i32> {
    Spi::get_one::<i32>(
        "SELECT pid FROM pg_catalog.pg_locks
          WHERE locktype = 'relation' AND granted AND mode = 'ExclusiveLock'
            AND relation = 'confiture.migrations'::pg_catalog.regclass
            AND database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())
          LIMIT 1",
    )
    .ok()
    .flatten()
}
