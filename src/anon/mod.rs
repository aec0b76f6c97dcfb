//! Anonymization: masking strategies as SQL functions, profiles of rules
//! validated when declared, in-place masking, a streaming function and a
//! verifier. The strategies and the SQL they become are in
//! `confiture_core::anon`.

pub mod functions;
pub mod masked;
pub mod profile;
pub mod verify;

pgrx::extension_sql_file!(
    "../../sql/50_anon.sql",
    name = "anon",
    requires = ["ledger"]
);

pgrx::extension_sql_file!(
    "../../sql/51_anon_masked.sql",
    name = "anon_masked",
    requires = ["anon"]
);
