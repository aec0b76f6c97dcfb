//! prefer-bigint, prefer-identity, prefer-text, prefer-timestamptz and
//! prefer-jsonb: column types that age badly.

use crate::ddl::{AlterTableCmd, ColumnDef, Statement, StatementKind};
use crate::lint::{Context, Hit, Rule, Severity};

fn columns(stmt: &Statement) -> Vec<(String, &ColumnDef)> {
    match &stmt.kind {
        StatementKind::CreateTable(t) => t
            .columns
            .iter()
            .map(|c| (format!("{}.{}", t.name, c.name), c))
            .collect(),
        StatementKind::AlterTable(at) => at
            .commands
            .iter()
            .filter_map(|c| match c {
                AlterTableCmd::AddColumn { column, .. } => {
                    Some((format!("{}.{}", at.table, column.name), column))
                }
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

macro_rules! type_rule {
    ($name:ident, $id:literal, $sev:expr, $msg:literal, $why:literal, $alt:literal, $pred:expr) => {
        pub static $name: Rule = Rule {
            id: $id,
            severity: $sev,
            message: $msg,
            why: $why,
            alternative: $alt,
            check: |stmt: &Statement, _ctx: &Context, out: &mut Vec<Hit>| {
                let pred: fn(&ColumnDef) -> bool = $pred;
                for (object, c) in columns(stmt) {
                    if pred(c) {
                        out.push(Hit::on(
                            object,
                            format!(concat!($msg, " ({})"), c.type_name),
                        ));
                    }
                }
            },
        };
    };
}

type_rule!(
    PREFER_BIGINT,
    "prefer-bigint",
    Severity::Warning,
    "integer key columns run out at 2,147,483,647",
    "Changing a key from integer to bigint later rewrites the table and every referencing one.",
    "Use bigint for primary keys and the columns that reference them.",
    |c| c.type_name.is(&[
        "int4",
        "int",
        "integer",
        "int2",
        "smallint",
        "serial",
        "serial4",
        "smallserial",
        "serial2"
    ]) && (c.primary_key
        || c.references.is_some()
        || c.name == "id"
        || c.name.ends_with("_id"))
);
type_rule!(PREFER_IDENTITY, "prefer-identity", Severity::Info,
    "serial columns are better written as identity columns",
    "serial creates a loosely owned sequence with awkward permissions; identity is the SQL standard.",
    "bigint GENERATED ALWAYS AS IDENTITY.",
    |c| c.type_name.is_serial());
type_rule!(PREFER_TEXT, "prefer-text", Severity::Info,
    "varchar(n) limits are better checked with a constraint",
    "Changing the limit later needs ALTER COLUMN TYPE; text with a CHECK (length(col) <= n) changes cheaply.",
    "text, with a CHECK constraint where a limit matters.",
    |c| c.type_name.is(&["varchar"]) && !c.type_name.modifiers.is_empty());
type_rule!(BAN_CHAR_FIELD, "ban-char-field", Severity::Warning,
    "char(n) pads values with spaces",
    "char(n) is blank-padded: trailing spaces are silently added, ignored in comparisons and counted in length limits; it is never faster than text.",
    "text (with a CHECK (length(col) = n) if the length is fixed).",
    |c| c.type_name.is(&["bpchar"]));
type_rule!(
    PREFER_TIMESTAMPTZ,
    "prefer-timestamptz",
    Severity::Warning,
    "timestamp without time zone loses the offset",
    "Values are interpreted in each session's time zone; instants become ambiguous.",
    "timestamptz (timestamp with time zone).",
    |c| c.type_name.is(&["timestamp"])
);
type_rule!(
    PREFER_JSONB,
    "prefer-jsonb",
    Severity::Info,
    "json stores text; jsonb is indexed and compared",
    "json has no equality operator and no GIN indexing, and is reparsed on every access.",
    "jsonb.",
    |c| c.type_name.is(&["json"])
);
