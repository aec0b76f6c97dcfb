//! Confiture's decisions in plain Rust.
//!
//! Nothing here touches the server: `src/` converts parse trees and catalog
//! rows into these types, this crate decides, `src/` reports. So every rule,
//! strategy and ordering has plain unit tests that run in seconds.

pub mod anon;
pub mod checksum;
pub mod ddl;
pub mod estimate;
pub mod hooks;
pub mod lint;
pub mod plan;
pub mod psql;
pub mod risk;
pub mod source;
pub mod sql;
pub mod version;
