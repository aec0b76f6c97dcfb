//! The migration lock: one transaction-scoped advisory lock, so two
//! sessions never apply the same migration. A second `migrate` waits for
//! the first to commit or roll back (bounded by `lock_timeout`) and then
//! reads the ledger afresh, finding nothing left to do.

use crate::error::{Error, Kind, Result};
use crate::subxact::Subtransaction;
use pgrx::prelude::*;

/// "confitur" as a bigint: the advisory lock key of every ledger change.
pub const KEY: i64 = i64::from_be_bytes(*b"confitur");

/// Take the lock for the rest of the transaction, waiting if another
/// session holds it.
pub fn acquire(function: &str) -> Result<()> {
    let got = Spi::get_one_with_args::<bool>("SELECT pg_catalog.pg_try_advisory_xact_lock($1)", &[KEY.into()])
        .map_err(Error::from)?;
    if got == Some(true) {
        return Ok(());
    }
    let holder = holder_pid();
    let snapshot_isolation = Spi::get_one::<String>("SELECT current_setting('transaction_isolation')")
        .map_err(Error::from)?
        .is_some_and(|l| l != "read committed");
    if snapshot_isolation {
        // Our snapshot predates the other run: after waiting we could not
        // see what it applied, and would try to apply it again.
        return Err(Error::new(
            Kind::SerializationFailure,
            format!("{function} cannot wait for a concurrent migration in this isolation level"),
        )
        .detail(format!(
            "Session {} is running confiture.migrate; this transaction's snapshot would not see its result.",
            holder.map_or("(unknown)".into(), |p| p.to_string())
        ))
        .hint("Retry the transaction, or run confiture.migrate in READ COMMITTED.")
        .into());
    }
    let lock_timeout = Spi::get_one::<String>("SELECT current_setting('lock_timeout')")
        .map_err(Error::from)?
        .unwrap_or_default();
    pgrx::notice!(
        "{function} is waiting for session {} to finish its migration run (lock_timeout = {lock_timeout})",
        holder.map_or("(unknown)".into(), |p| p.to_string())
    );
    let waited = Subtransaction::new()
        .run(|| Spi::run_with_args("SELECT pg_catalog.pg_advisory_xact_lock($1)", &[KEY.into()]));
    match waited {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(Error::from(e).into()),
        Err(f) if f.code() == "55P03" => Err(Error::new(
            Kind::LockNotAvailable,
            format!("{function} gave up waiting for the migration lock"),
        )
        .detail(format!(
            "Session {} still holds it after lock_timeout = {lock_timeout}.",
            holder.map_or("(unknown)".into(), |p| p.to_string())
        ))
        .hint("Wait for the other run to finish (see pg_stat_activity), or raise lock_timeout.")
        .into()),
        Err(f) => f.rethrow(),
    }
}

fn holder_pid() -> Option<i32> {
    Spi::get_one_with_args::<i32>(
        "SELECT pid FROM pg_catalog.pg_locks
          WHERE locktype = 'advisory' AND granted AND objsubid = 1
            AND ((classid::int8 << 32) | objid::int8) = $1
          LIMIT 1",
        &[KEY.into()],
    )
    .ok()
    .flatten()
}
