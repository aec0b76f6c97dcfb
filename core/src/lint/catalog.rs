//! The catalog rules (run as SQL over the live schema by
//! `confiture.lint_schema`): their ids, severities and advice, listed with
//! the migration rules by `confiture.lint_rules()`.

use super::Severity;

pub struct CatalogRule {
    pub id: &'static str,
    pub severity: Severity,
    pub message: &'static str,
    pub alternative: &'static str,
}

const fn rule(
    id: &'static str,
    severity: Severity,
    message: &'static str,
    alternative: &'static str,
) -> CatalogRule {
    CatalogRule {
        id,
        severity,
        message,
        alternative,
    }
}

pub static ALL: &[CatalogRule] = &[
    rule("table-without-primary-key", Severity::Error, "table has no primary key", "Add a bigint identity primary key (replication, ORMs and deduplication need one)."),
    rule("fk-without-index", Severity::Warning, "foreign key columns have no index starting with them", "CREATE INDEX CONCURRENTLY on the referencing columns: deletes on the parent and joins scan otherwise."),
    rule("table-without-comment", Severity::Info, "table has no comment", "COMMENT ON TABLE ... IS '...': say what a row is."),
    rule("naming-snake-case", Severity::Warning, "name is not snake_case", "Use lower case letters, digits and underscores."),
    rule("naming-pattern", Severity::Error, "name does not match the naming rule of its schema", "Rename it to match confiture.lint_naming."),
    rule("missing-required-column", Severity::Error, "table lacks a required column (e.g. tenant_id)", "Add the column, or exempt the table in confiture.lint_required_columns."),
    rule("unlogged-table", Severity::Warning, "unlogged table: emptied after a crash and not replicated", "ALTER TABLE ... SET LOGGED, unless the data is disposable."),
    rule("plaintext-secret", Severity::Error, "column looks like a secret stored as plain text", "Store a hash (e.g. crypt()) or move the secret to a vault; restrict access."),
    rule("read-model-source-missing", Severity::Error, "read model's declared source table does not exist", "Fix the declaration in confiture.read_models, or create the source."),
];
