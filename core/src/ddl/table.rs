//! Tables, columns, types, defaults, constraints, ALTER TABLE subcommands,
//! renames, DML and functions: the parts of the model rules and risk
//! assessment reason about.

use super::{ObjectKind, QualifiedName};
use serde::{Deserialize, Serialize};

/// A type as written: `varchar(200)`, `timestamp with time zone`, `int[]`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TypeName {
    /// The type's own name, lower case, without schema (`pg_catalog.int4` → `int4`).
    pub name: String,
    pub schema: Option<String>,
    pub modifiers: Vec<i64>,
    pub array: bool,
}

impl TypeName {
    pub fn is(&self, names: &[&str]) -> bool {
        names.contains(&self.name.as_str())
    }
    /// `serial`, `bigserial`, `smallserial`: a sequence default in disguise.
    pub fn is_serial(&self) -> bool {
        self.is(&[
            "serial",
            "serial4",
            "bigserial",
            "serial8",
            "smallserial",
            "serial2",
        ])
    }
}

impl std::fmt::Display for TypeName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.name)?;
        if !self.modifiers.is_empty() {
            let m: Vec<String> = self.modifiers.iter().map(|m| m.to_string()).collect();
            write!(f, "({})", m.join(","))?;
        }
        if self.array {
            write!(f, "[]")?;
        }
        Ok(())
    }
}

/// What a default expression is, as far as rewrites are concerned: since
/// PostgreSQL 11 a non-volatile default is evaluated once and stored in the
/// catalog; a volatile one is evaluated for every row, rewriting the table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DefaultExpr {
    /// A literal, a cast of one, `NULL`.
    Constant,
    /// `now()`, `current_timestamp`, an operator over constants ...
    Stable,
    /// `random()`, `clock_timestamp()`, `gen_random_uuid()`, `nextval(...)`.
    Volatile(String),
    /// A call to a function whose volatility only the catalog knows.
    Unknown(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ColumnDef {
    pub name: String,
    pub type_name: TypeName,
    pub not_null: bool,
    pub default: Option<DefaultExpr>,
    /// `GENERATED ALWAYS AS (...) STORED`
    pub generated_stored: bool,
    /// `GENERATED ... AS IDENTITY`
    pub identity: bool,
    pub primary_key: bool,
    pub unique: bool,
    pub references: Option<QualifiedName>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConstraintKind {
    PrimaryKey,
    Unique,
    Check,
    ForeignKey,
    Exclusion,
    NotNull,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Constraint {
    pub name: Option<String>,
    pub kind: ConstraintKind,
    /// `NOT VALID`: existing rows are not checked now.
    pub not_valid: bool,
    /// `... USING INDEX name`: built from an existing index, no new index build.
    pub using_index: Option<String>,
    pub columns: Vec<String>,
    pub references: Option<QualifiedName>,
    /// For CHECK: the expression is `<column> IS NOT NULL`.
    pub checks_not_null: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CreateTable {
    pub name: QualifiedName,
    pub columns: Vec<ColumnDef>,
    pub constraints: Vec<Constraint>,
    pub if_not_exists: bool,
    pub unlogged: bool,
    pub temporary: bool,
    pub partitioned: bool,
    /// `CREATE TABLE ... AS` / `SELECT INTO`
    pub as_select: bool,
}

/// The first name that occurs twice in `names`.
pub fn first_duplicate(names: impl IntoIterator<Item = String>) -> Option<String> {
    let mut seen = std::collections::BTreeSet::new();
    names.into_iter().find(|n| !seen.insert(n.clone()))
}

impl CreateTable {
    pub fn has_primary_key(&self) -> bool {
        self.columns.iter().any(|c| c.primary_key)
            || self
                .constraints
                .iter()
                .any(|c| c.kind == ConstraintKind::PrimaryKey)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AlterTableCmd {
    AddColumn {
        column: ColumnDef,
        if_not_exists: bool,
    },
    DropColumn {
        name: String,
        if_exists: bool,
        cascade: bool,
    },
    AlterColumnType {
        column: String,
        type_name: TypeName,
        using: bool,
    },
    SetNotNull {
        column: String,
    },
    DropNotNull {
        column: String,
    },
    SetDefault {
        column: String,
        default: DefaultExpr,
    },
    DropDefault {
        column: String,
    },
    AddConstraint(Constraint),
    ValidateConstraint {
        name: String,
    },
    DropConstraint {
        name: String,
        if_exists: bool,
        cascade: bool,
    },
    SetLogged,
    SetUnlogged,
    AttachPartition {
        partition: QualifiedName,
    },
    DetachPartition {
        partition: QualifiedName,
        concurrently: bool,
    },
    SetTablespace,
    SetStatistics {
        column: String,
    },
    /// `SET (...)` / `RESET (...)` storage parameters, by name.
    SetOptions {
        options: Vec<String>,
        reset: bool,
    },
    /// `ALTER COLUMN c SET (n_distinct = ...)` / `RESET (...)`.
    SetColumnOptions {
        column: String,
    },
    /// `ALTER COLUMN c SET STORAGE ...` / `SET COMPRESSION ...`.
    SetStorage {
        column: String,
    },
    /// `CLUSTER ON index` (`Some`) / `SET WITHOUT CLUSTER` (`None`).
    ClusterOn {
        index: Option<String>,
    },
    /// `ENABLE` / `DISABLE [ALWAYS | REPLICA] TRIGGER name | ALL | USER`.
    Trigger {
        enable: bool,
        name: Option<String>,
    },
    /// `ENABLE` / `DISABLE [ALWAYS | REPLICA] RULE`.
    Rule {
        enable: bool,
    },
    /// `ENABLE` / `DISABLE` / `[NO] FORCE ROW LEVEL SECURITY`.
    RowSecurity,
    /// `INHERIT parent` / `NO INHERIT parent`.
    Inherit {
        parent: QualifiedName,
        add: bool,
    },
    /// `OWNER TO role`
    Owner,
    /// `REPLICA IDENTITY ...`
    ReplicaIdentity,
    /// `ALTER COLUMN c ADD | SET | DROP IDENTITY`
    Identity {
        column: String,
    },
    /// `ALTER CONSTRAINT name [NOT] DEFERRABLE`
    AlterConstraint {
        name: String,
    },
    /// `SET ACCESS METHOD`
    SetAccessMethod,
    /// `ALTER COLUMN c DROP EXPRESSION`
    DropExpression {
        column: String,
    },
    /// Anything else, by the server's subcommand name.
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AlterTable {
    pub table: QualifiedName,
    /// `ALTER INDEX`, `ALTER VIEW` ... use the same statement.
    pub object: Option<ObjectKind>,
    pub commands: Vec<AlterTableCmd>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rename {
    pub object: ObjectKind,
    /// The renamed object, or the table a column / constraint belongs to.
    pub target: QualifiedName,
    /// For a column or constraint: its old name.
    pub sub: Option<String>,
    pub new_name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DmlKind {
    Insert,
    Update,
    Delete,
    Merge,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dml {
    pub kind: DmlKind,
    pub table: QualifiedName,
    pub has_where: bool,
    /// A column assigned twice (`UPDATE t SET a = 1, a = 2`, `INSERT INTO t (a, a)`).
    #[serde(default)]
    pub duplicate_column: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CreateFunction {
    pub name: QualifiedName,
    pub security_definer: bool,
    /// `SET search_path = ...` among its options.
    pub sets_search_path: bool,
    pub procedure: bool,
    pub or_replace: bool,
}
