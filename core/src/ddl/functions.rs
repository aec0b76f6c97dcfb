//! What the converters need to know about functions used as column
//! defaults, shared by the server's converter (`src/ddl/convert.rs`) and the
//! offline one (`cli/src/lint/convert.rs`) so both classify a default alike.

/// Functions whose result differs per row: as a column default they force
/// a table rewrite.
pub const VOLATILE: &[&str] = &[
    "random",
    "clock_timestamp",
    "timeofday",
    "gen_random_uuid",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "nextval",
    "txid_current",
    "statement_timestamp",
    "setseed",
    "random_normal",
];

/// Stable or immutable built-ins commonly used as defaults: evaluated once.
pub const NOT_VOLATILE: &[&str] = &[
    "now",
    "transaction_timestamp",
    "current_timestamp",
    "current_date",
    "localtimestamp",
    "lower",
    "upper",
    "jsonb_build_object",
    "json_build_object",
    "to_jsonb",
    "array",
    "coalesce",
    "make_interval",
    "timezone",
    "current_setting",
    "length",
    "concat",
    "md5",
    "abs",
    "greatest",
    "least",
];
