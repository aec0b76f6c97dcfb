//! Confiture: schema governance inside PostgreSQL.
//!
//! Only what must touch the server lives in this crate; the decisions are
//! in `confiture-core`. One module per capability.

use pgrx::prelude::*;

pub mod anon;
pub mod ddl;
pub mod dryrun;
pub mod error;
pub mod guc;
pub mod history;
pub mod hooks;
pub mod lint;
pub mod migrate;
pub mod privilege;
pub mod risk;
pub mod security;
pub mod subxact;
pub mod timeout;

::pgrx::pg_module_magic!(name, version);

#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    guc::init();
}

#[cfg(test)]
pub mod pg_test {
    pub fn setup(_options: Vec<&str>) {}

    pub fn postgresql_conf_options() -> Vec<&'static str> {
        vec![]
    }
}
