//! One rule a file. `ALL` is the order findings are reported in.

mod add_serial_column;
mod blocking_unique;
mod change_column_type;
mod constraint_not_valid;
mod dml_without_where;
mod drop_column;
mod drop_index_not_concurrent;
mod drop_table;
mod identifier_too_long;
mod index_not_concurrent;
pub mod lock_timeout;
mod not_null_without_default;
mod prefer_types;
mod rename;
mod security_definer;
mod set_not_null;
mod table_rewrite;
mod truncate;
mod volatile_default;

use super::Rule;

pub static ALL: &[&Rule] = &[
    &index_not_concurrent::RULE,
    &drop_index_not_concurrent::RULE,
    &constraint_not_valid::RULE,
    &blocking_unique::RULE,
    &set_not_null::RULE,
    &volatile_default::RULE,
    &add_serial_column::RULE,
    &not_null_without_default::RULE,
    &change_column_type::RULE,
    &rename::RULE,
    &drop_column::RULE,
    &drop_table::RULE,
    &table_rewrite::RULE,
    &lock_timeout::RULE,
    &prefer_types::PREFER_BIGINT,
    &prefer_types::PREFER_IDENTITY,
    &prefer_types::PREFER_TEXT,
    &prefer_types::BAN_CHAR_FIELD,
    &prefer_types::PREFER_TIMESTAMPTZ,
    &prefer_types::PREFER_JSONB,
    &identifier_too_long::RULE,
    &dml_without_where::RULE,
    &security_definer::RULE,
    &truncate::RULE,
];
