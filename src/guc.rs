//! Settings (GUCs). Everything a DBA may tune per session, role or database.

use pgrx::prelude::*;
use pgrx::{GucContext, GucFlags, GucRegistry, GucSetting};
use std::ffi::CString;

/// What the DDL guard does with its findings.
#[derive(PostgresGucEnum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum LintMode {
    #[name = c"off"]
    Off,
    #[name = c"warn"]
    Warn,
    #[name = c"enforce"]
    Enforce,
}

/// What `migrate` does when the live schema drifted from the last snapshot.
#[derive(PostgresGucEnum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum DriftMode {
    #[name = c"off"]
    Off,
    #[name = c"warn"]
    Warn,
    #[name = c"enforce"]
    Enforce,
}

pub static LINT_MODE: GucSetting<LintMode> = GucSetting::<LintMode>::new(LintMode::Off);
pub static DRIFT_MODE: GucSetting<DriftMode> = GucSetting::<DriftMode>::new(DriftMode::Warn);
pub static ANON_SALT: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);
pub static DDL_LOG: GucSetting<bool> = GucSetting::<bool>::new(true);
pub static SNAPSHOTS: GucSetting<bool> = GucSetting::<bool>::new(true);
/// Report each migration of a `migrate` run as a NOTICE as it ends (the
/// confiture client shows them as progress).
pub static PROGRESS: GucSetting<bool> = GucSetting::<bool>::new(false);
/// How long ledger changes wait for another session's run when
/// `lock_timeout` is 0 (milliseconds; 0 waits forever).
pub static LOCK_WAIT_TIMEOUT: GucSetting<i32> = GucSetting::<i32>::new(60_000);
/// How long a migration statement may hold a blocking lock on an existing
/// table (by its estimated duration from the table's size) before a lint
/// finding about it is an error rather than info (milliseconds).
pub static LOCK_BUDGET: GucSetting<i32> = GucSetting::<i32>::new(1_000);

pub fn init() {
    GucRegistry::define_enum_guc(
        c"confiture.lint_mode",
        c"What the DDL guard does with lint findings: off, warn or enforce.",
        c"warn reports findings as WARNINGs; enforce rejects statements with findings of severity error. \
          Statements run by confiture.migrate follow the same mode.",
        &LINT_MODE,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_enum_guc(
        c"confiture.drift_mode",
        c"What confiture.migrate does when the schema drifted since the last migration: off, warn or enforce.",
        c"",
        &DRIFT_MODE,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_string_guc(
        c"confiture.anon_salt",
        c"Default salt of the masking functions and of profiles without their own.",
        c"Only superusers can read it.",
        &ANON_SALT,
        GucContext::Suset,
        GucFlags::SUPERUSER_ONLY | GucFlags::NO_SHOW_ALL,
    );
    GucRegistry::define_bool_guc(
        c"confiture.ddl_log",
        c"Record every DDL statement in confiture.ddl_log.",
        c"",
        &DDL_LOG,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"confiture.lock_wait_timeout",
        c"How long migrate, rollback and register wait for another session's migration run when lock_timeout is 0.",
        c"With lock_timeout set, lock_timeout applies instead. 0 waits forever.",
        &LOCK_WAIT_TIMEOUT,
        0,
        i32::MAX,
        GucContext::Userset,
        GucFlags::UNIT_MS,
    );
    GucRegistry::define_int_guc(
        c"confiture.lock_budget",
        c"How long a statement may hold a blocking lock on an existing table before lint calls it an error.",
        c"With a database (confiture.lint, the DDL guard), rules about locks held while a table is scanned, rewritten or indexed \
          estimate the time from pg_class.reltuples: within the budget the finding is info, beyond it an error.",
        &LOCK_BUDGET,
        0,
        i32::MAX,
        GucContext::Suset,
        GucFlags::UNIT_MS,
    );
    GucRegistry::define_bool_guc(
        c"confiture.progress",
        c"Report each migration of a migrate run as a NOTICE when it ends.",
        c"The confiture client turns it on to show progress; the NOTICE reads: confiture progress: <n>/<total> <version> <state> <milliseconds>.",
        &PROGRESS,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_bool_guc(
        c"confiture.snapshots",
        c"Take a structural snapshot of the user schemas after each applied migration.",
        c"",
        &SNAPSHOTS,
        GucContext::Suset,
        GucFlags::default(),
    );
}
