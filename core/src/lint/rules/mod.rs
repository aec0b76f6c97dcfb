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

mod combine_alter_table;
mod concurrently_in_transaction;
mod detach_partition_not_concurrent;
mod domain_constraint;
mod drop_constraint;
mod drop_database;
mod drop_default;
mod drop_not_null;
mod drop_object;
mod duplicate_column_assignment;
mod enum_value_order;
mod exclusion_constraint;
mod missing_statement_timeout;
mod prefer_robust_stmts;
mod primary_key_using_index;
mod reindex_not_concurrent;
mod rename_object;
mod set_schema;
mod statements_after_access_exclusive;
mod transaction_nesting;
mod truncate_cascade;
mod uncommitted_transaction;

use super::Rule;

/// Rules that are off unless switched on (`confiture.lint_rules.enabled`,
/// `[lint] enabled` in confiture.toml): advice that is noisy on most scripts.
pub static OFF_BY_DEFAULT: &[&str] = &[
    "combine-alter-table",
    "statements-after-access-exclusive",
    "enum-value-order",
    "missing-statement-timeout",
];

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
    &truncate_cascade::RULE,
    &drop_constraint::RULE,
    &drop_default::RULE,
    &drop_not_null::RULE,
    &drop_object::RULE,
    &set_schema::RULE,
    &rename_object::RULE,
    &enum_value_order::RULE,
    &concurrently_in_transaction::RULE,
    &transaction_nesting::RULE,
    &uncommitted_transaction::RULE,
    &reindex_not_concurrent::RULE,
    &detach_partition_not_concurrent::RULE,
    &exclusion_constraint::RULE,
    &statements_after_access_exclusive::RULE,
    &combine_alter_table::RULE,
    &primary_key_using_index::RULE,
    &missing_statement_timeout::RULE,
    &prefer_robust_stmts::RULE,
    &domain_constraint::RULE,
    &drop_database::RULE,
    &duplicate_column_assignment::RULE,
];
