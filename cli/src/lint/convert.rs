//! The one place that walks pg_query's tree: it turns a raw statement into
//! the owned `confiture_core::ddl` model, exactly as the server's converter
//! (`src/ddl/convert.rs`) does from the server's own parse tree, so the
//! rules see the same statements offline and inside the server.
//!
//! pg_query's protobuf tree differs from the server's C tree only in form:
//! a NULL string is `""`, a NIL list is empty, enums are `i32` with
//! accessors. Where PostgreSQL 18's grammar produces a different tree than
//! 15's for the same text, the difference is handled here and commented.

use super::command_tag::command_tag;
use confiture_core::ddl::functions::{NOT_VOLATILE, VOLATILE};
use confiture_core::ddl::*;
use confiture_core::source::Span;
use pg_query::protobuf as pb;
use pg_query::protobuf::node::Node as N;

/// Deeper expressions than this are not looked into (pg_query's protobuf
/// decoding already stops at 100 nested messages; this bound keeps the
/// converter safe by itself).
const MAX_EXPRESSION_DEPTH: usize = 200;

/// Convert one raw statement (`None`: a statement pg_query could not decode).
pub fn statement(node: Option<&pb::Node>, span: Span) -> Statement {
    let node = node.and_then(|n| n.node.as_ref());
    let tag = node.map_or_else(|| "???".to_owned(), |n| command_tag(n).to_owned());
    let kind = node.map_or(StatementKind::Other, kind);
    Statement { span, tag, kind }
}

fn kind(node: &N) -> StatementKind {
    use StatementKind as K;
    match node {
        N::IndexStmt(s) => K::CreateIndex(CreateIndex {
            name: text(&s.idxname),
            table: range_var(s.relation.as_ref()),
            unique: s.unique,
            concurrently: s.concurrent,
            if_not_exists: s.if_not_exists,
        }),
        N::DropStmt(s) => K::Drop(Drop {
            object: object_kind(s.remove_type()),
            names: s.objects.iter().filter_map(object_name).collect(),
            concurrently: s.concurrent,
            if_exists: s.missing_ok,
            cascade: s.behavior() == pb::DropBehavior::DropCascade,
        }),
        N::ReindexStmt(s) => {
            use pb::ReindexObjectType as R;
            let target = match s.kind() {
                R::ReindexObjectIndex => ReindexTarget::Index,
                R::ReindexObjectTable => ReindexTarget::Table,
                R::ReindexObjectSchema => ReindexTarget::Schema,
                R::ReindexObjectSystem => ReindexTarget::System,
                _ => ReindexTarget::Database,
            };
            let name = match &s.relation {
                Some(rv) => Some(range_var(Some(rv))),
                None => text(&s.name).map(|n| QualifiedName::unqualified(&n)),
            };
            K::Reindex(Reindex {
                target,
                name,
                concurrently: option_on(&s.params, "concurrently"),
            })
        }
        N::VacuumStmt(s) => {
            let tables = s
                .rels
                .iter()
                .filter_map(|n| match &n.node {
                    Some(N::VacuumRelation(r)) => Some(range_var(r.relation.as_ref())),
                    _ => None,
                })
                .collect();
            K::Vacuum(Vacuum {
                analyze_only: !s.is_vacuumcmd,
                full: option_on(&s.options, "full"),
                tables,
            })
        }
        N::ClusterStmt(s) => K::Cluster(Cluster {
            table: s.relation.as_ref().map(|rv| range_var(Some(rv))),
        }),
        N::AlterSystemStmt(_) => K::AlterSystem,
        N::CreatedbStmt(_) => K::Database {
            action: DatabaseAction::Create,
        },
        N::DropdbStmt(_) => K::Database {
            action: DatabaseAction::Drop,
        },
        N::AlterDatabaseStmt(s) => {
            let action = if has_option(&s.options, "tablespace") {
                DatabaseAction::SetTablespace
            } else {
                DatabaseAction::Alter
            };
            K::Database { action }
        }
        N::CreateTableSpaceStmt(_) => K::Tablespace { create: true },
        N::DropTableSpaceStmt(_) => K::Tablespace { create: false },
        N::TransactionStmt(s) => {
            use pb::TransactionStmtKind as T;
            K::Transaction(match s.kind() {
                T::TransStmtBegin | T::TransStmtStart => TransactionKind::Begin,
                T::TransStmtCommit => TransactionKind::Commit,
                T::TransStmtRollback => TransactionKind::Rollback,
                T::TransStmtSavepoint => TransactionKind::Savepoint,
                T::TransStmtRelease => TransactionKind::Release,
                T::TransStmtRollbackTo => TransactionKind::RollbackTo,
                T::TransStmtPrepare => TransactionKind::Prepare,
                T::TransStmtCommitPrepared => TransactionKind::CommitPrepared,
                _ => TransactionKind::RollbackPrepared,
            })
        }
        N::CreateSubscriptionStmt(s) => {
            let no_slot =
                option_off(&s.options, "create_slot") || option_off(&s.options, "connect");
            let action = if no_slot {
                SubscriptionAction::Other
            } else {
                SubscriptionAction::CreateWithSlot
            };
            K::Subscription { action }
        }
        N::AlterSubscriptionStmt(s) => {
            use pb::AlterSubscriptionType as A;
            let refreshes = match s.kind() {
                A::AlterSubscriptionRefresh => true,
                A::AlterSubscriptionSetPublication
                | A::AlterSubscriptionAddPublication
                | A::AlterSubscriptionDropPublication => !option_off(&s.options, "refresh"),
                _ => false,
            };
            let action = if refreshes {
                SubscriptionAction::Refresh
            } else {
                SubscriptionAction::Other
            };
            K::Subscription { action }
        }
        N::DropSubscriptionStmt(_) => K::Subscription {
            action: SubscriptionAction::Drop,
        },
        N::CopyStmt(s) => K::Copy {
            client_side: s.filename.is_empty() && !s.is_program,
        },
        N::DiscardStmt(s) => K::Discard {
            all: s.target() == pb::DiscardMode::DiscardAll,
        },
        N::CreateStmt(s) => K::CreateTable(create_table(s)),
        N::CreateTableAsStmt(s) => {
            let name = s
                .into
                .as_ref()
                .map_or_else(QualifiedName::default, |i| range_var(i.rel.as_ref()));
            if s.objtype() == pb::ObjectType::ObjectMatview {
                K::CreateView {
                    name,
                    materialized: true,
                    or_replace: false,
                }
            } else {
                let temporary = s
                    .into
                    .as_ref()
                    .and_then(|i| i.rel.as_ref())
                    .is_some_and(|r| r.relpersistence == "t");
                K::CreateTable(CreateTable {
                    name,
                    as_select: true,
                    if_not_exists: s.if_not_exists,
                    temporary,
                    ..Default::default()
                })
            }
        }
        // SELECT ... INTO t makes a new table t, as CREATE TABLE t AS does
        N::SelectStmt(s) if s.into_clause.is_some() => {
            let rel = s.into_clause.as_ref().and_then(|i| i.rel.as_ref());
            K::CreateTable(CreateTable {
                name: range_var(rel),
                as_select: true,
                temporary: rel.is_some_and(|r| r.relpersistence == "t"),
                ..Default::default()
            })
        }
        N::LockStmt(s) => K::Lock {
            tables: s
                .relations
                .iter()
                .filter_map(|n| match &n.node {
                    Some(N::RangeVar(rv)) => Some(range_var(Some(rv))),
                    _ => None,
                })
                .collect(),
            mode: lock_mode_name(s.mode).to_owned(),
        },
        N::AlterObjectSchemaStmt(s) => {
            let name = if let Some(rv) = &s.relation {
                range_var(Some(rv))
            } else if let Some(o) = &s.object {
                object_name(o).unwrap_or_default()
            } else {
                QualifiedName::default()
            };
            K::SetSchema {
                object: object_kind(s.object_type()),
                name,
                schema: s.newschema.clone(),
            }
        }
        N::AlterTableStmt(s) => {
            let commands = s
                .cmds
                .iter()
                .filter_map(|n| match &n.node {
                    Some(N::AlterTableCmd(c)) => Some(alter_table_cmd(c)),
                    _ => None,
                })
                .collect();
            K::AlterTable(AlterTable {
                table: range_var(s.relation.as_ref()),
                object: Some(object_kind(s.objtype())),
                commands,
            })
        }
        N::RenameStmt(s) => {
            let target = if let Some(rv) = &s.relation {
                range_var(Some(rv))
            } else if let Some(o) = &s.object {
                object_name(o).unwrap_or_default()
            } else {
                QualifiedName::default()
            };
            K::Rename(Rename {
                object: object_kind(s.rename_type()),
                target,
                sub: text(&s.subname),
                new_name: s.newname.clone(),
            })
        }
        N::InsertStmt(s) => K::Dml(Dml {
            kind: DmlKind::Insert,
            table: range_var(s.relation.as_ref()),
            has_where: true,
            duplicate_column: first_duplicate(target_names(&s.cols)),
        }),
        N::UpdateStmt(s) => K::Dml(Dml {
            kind: DmlKind::Update,
            table: range_var(s.relation.as_ref()),
            has_where: s.where_clause.is_some(),
            duplicate_column: first_duplicate(target_names(&s.target_list)),
        }),
        N::DeleteStmt(s) => K::Dml(Dml {
            kind: DmlKind::Delete,
            table: range_var(s.relation.as_ref()),
            has_where: s.where_clause.is_some(),
            duplicate_column: None,
        }),
        N::MergeStmt(s) => K::Dml(Dml {
            kind: DmlKind::Merge,
            table: range_var(s.relation.as_ref()),
            has_where: true,
            duplicate_column: None,
        }),
        N::TruncateStmt(s) => K::Truncate {
            tables: s
                .relations
                .iter()
                .filter_map(|n| match &n.node {
                    Some(N::RangeVar(rv)) => Some(range_var(Some(rv))),
                    _ => None,
                })
                .collect(),
            cascade: s.behavior() == pb::DropBehavior::DropCascade,
        },
        N::CreateFunctionStmt(s) => {
            let mut f = CreateFunction {
                name: dotted_name(&s.funcname).unwrap_or_default(),
                procedure: s.is_procedure,
                or_replace: s.replace,
                ..Default::default()
            };
            for d in def_elems(&s.options) {
                match d.defname.as_str() {
                    "security" => f.security_definer = bool_arg(d) == Some(true),
                    "set" => {
                        if let Some(N::VariableSetStmt(v)) =
                            d.arg.as_ref().and_then(|a| a.node.as_ref())
                        {
                            if v.name == "search_path" {
                                f.sets_search_path = true;
                            }
                        }
                    }
                    _ => {}
                }
            }
            K::CreateFunction(f)
        }
        N::VariableSetStmt(s) => K::Set {
            name: s.name.to_ascii_lowercase(),
            value: s.args.iter().find_map(|a| constant_text(a, 0)),
            local: s.is_local,
        },
        N::ViewStmt(s) => K::CreateView {
            name: range_var(s.view.as_ref()),
            materialized: false,
            or_replace: s.replace,
        },
        N::RefreshMatViewStmt(s) => K::RefreshMaterializedView {
            name: range_var(s.relation.as_ref()),
            concurrently: s.concurrent,
        },
        N::CreateTrigStmt(s) => K::CreateTrigger {
            table: range_var(s.relation.as_ref()),
            name: s.trigname.clone(),
        },
        N::CreateSchemaStmt(s) => K::CreateOther {
            object: ObjectKind::Schema,
            name: text(&s.schemaname).map(|n| QualifiedName::unqualified(&n)),
        },
        N::AlterEnumStmt(s) if !s.new_val.is_empty() && s.old_val.is_empty() => K::AddEnumValue {
            type_name: dotted_name(&s.type_name).unwrap_or_default(),
            value: s.new_val.clone(),
            positioned: !s.new_val_neighbor.is_empty(),
        },
        N::CreateDomainStmt(s) if !s.constraints.is_empty() => K::DomainConstraint {
            name: dotted_name(&s.domainname).unwrap_or_default(),
            create: true,
        },
        N::AlterDomainStmt(s) if s.subtype == "C" => K::DomainConstraint {
            name: dotted_name(&s.type_name).unwrap_or_default(),
            create: false,
        },
        N::CreateSeqStmt(_)
        | N::CompositeTypeStmt(_)
        | N::CreateEnumStmt(_)
        | N::CreateDomainStmt(_)
        | N::CreateExtensionStmt(_) => K::CreateOther {
            object: ObjectKind::Other,
            name: None,
        },
        _ => K::Other,
    }
}

/// The column names of a list of `ResTarget`s (an UPDATE's SET list, an
/// INSERT's column list); `SET (a, b) = ...` counts each column.
fn target_names(list: &[pb::Node]) -> Vec<String> {
    list.iter()
        .filter_map(|n| match &n.node {
            Some(N::ResTarget(t)) if !t.name.is_empty() => Some(t.name.clone()),
            _ => None,
        })
        .collect()
}

fn create_table(s: &pb::CreateStmt) -> CreateTable {
    let mut t = CreateTable {
        name: range_var(s.relation.as_ref()),
        if_not_exists: s.if_not_exists,
        partitioned: s.partspec.is_some(),
        ..Default::default()
    };
    if let Some(rv) = &s.relation {
        t.unlogged = rv.relpersistence == "u";
        t.temporary = rv.relpersistence == "t";
    }
    for el in &s.table_elts {
        match &el.node {
            Some(N::ColumnDef(c)) => t.columns.push(column_def(c)),
            Some(N::Constraint(k)) => t.constraints.push(constraint(k)),
            _ => {}
        }
    }
    t
}

fn type_name(tn: Option<&pb::TypeName>) -> TypeName {
    let Some(tn) = tn else {
        return TypeName::default();
    };
    let mut parts: Vec<String> = tn.names.iter().filter_map(string_value).collect();
    let name = parts.pop().unwrap_or_default().to_ascii_lowercase();
    let schema = parts.pop().filter(|s| s != "pg_catalog");
    let modifiers = tn
        .typmods
        .iter()
        .filter_map(|m| constant_text(m, 0).and_then(|t| t.parse::<i64>().ok()))
        .collect();
    TypeName {
        name,
        schema,
        modifiers,
        array: !tn.array_bounds.is_empty(),
    }
}

fn column_def(c: &pb::ColumnDef) -> ColumnDef {
    let mut col = ColumnDef {
        name: c.colname.clone(),
        type_name: type_name(c.type_name.as_ref()),
        not_null: c.is_not_null,
        identity: !c.identity.is_empty(),
        generated_stored: c.generated == "s",
        ..Default::default()
    };
    if let Some(d) = &c.raw_default {
        col.default = Some(default_expr(Some(d), 0));
    }
    for k in c.constraints.iter().filter_map(|n| match &n.node {
        Some(N::Constraint(k)) => Some(k),
        _ => None,
    }) {
        use pb::ConstrType as C;
        match k.contype() {
            C::ConstrNotnull => col.not_null = true,
            C::ConstrDefault => col.default = Some(default_expr(k.raw_expr.as_deref(), 0)),
            C::ConstrIdentity => col.identity = true,
            // PostgreSQL 18 also has VIRTUAL generated columns (the default
            // there), which are computed on read and rewrite nothing; 15
            // knows only STORED, so for text both parse this is the same.
            C::ConstrGenerated => col.generated_stored |= k.generated_kind != "v",
            C::ConstrPrimary => {
                col.primary_key = true;
                col.not_null = true;
            }
            C::ConstrUnique => col.unique = true,
            C::ConstrForeign => col.references = Some(range_var(k.pktable.as_ref())),
            _ => {}
        }
    }
    col
}

fn constraint(k: &pb::Constraint) -> Constraint {
    use pb::ConstrType as C;
    let kind = match k.contype() {
        C::ConstrPrimary => ConstraintKind::PrimaryKey,
        C::ConstrUnique => ConstraintKind::Unique,
        C::ConstrCheck => ConstraintKind::Check,
        C::ConstrForeign => ConstraintKind::ForeignKey,
        C::ConstrExclusion => ConstraintKind::Exclusion,
        C::ConstrNotnull => ConstraintKind::NotNull,
        _ => ConstraintKind::Other,
    };
    let columns_of =
        |l: &[pb::Node]| -> Vec<String> { l.iter().filter_map(string_value).collect() };
    let columns = if kind == ConstraintKind::ForeignKey {
        columns_of(&k.fk_attrs)
    } else {
        columns_of(&k.keys)
    };
    // CHECK (col IS NOT NULL): the documented way to make SET NOT NULL cheap
    let checks_not_null = match k.raw_expr.as_deref().and_then(|e| e.node.as_ref()) {
        Some(N::NullTest(t))
            if kind == ConstraintKind::Check && t.nulltesttype() == pb::NullTestType::IsNotNull =>
        {
            match t.arg.as_deref().and_then(|a| a.node.as_ref()) {
                Some(N::ColumnRef(r)) => r.fields.iter().filter_map(string_value).next_back(),
                _ => None,
            }
        }
        _ => None,
    };
    Constraint {
        name: text(&k.conname),
        kind,
        not_valid: k.skip_validation,
        using_index: text(&k.indexname),
        columns,
        references: k.pktable.as_ref().map(|rv| range_var(Some(rv))),
        checks_not_null,
    }
}

fn alter_table_cmd(c: &pb::AlterTableCmd) -> AlterTableCmd {
    use pb::AlterTableType as A;
    use AlterTableCmd as T;
    let name = c.name.clone();
    let def = c.def.as_deref().and_then(|d| d.node.as_ref());
    let cascade = c.behavior() == pb::DropBehavior::DropCascade;
    // PostgreSQL 15 also has AT_*Recurse subcommands, but only after parse
    // analysis: raw trees of both versions carry the plain ones.
    match (c.subtype(), def) {
        (A::AtAddColumn, Some(N::ColumnDef(cd))) => T::AddColumn {
            column: column_def(cd),
            if_not_exists: c.missing_ok,
        },
        (A::AtDropColumn, _) => T::DropColumn {
            name,
            if_exists: c.missing_ok,
            cascade,
        },
        (A::AtAlterColumnType, Some(N::ColumnDef(cd))) => T::AlterColumnType {
            column: name,
            type_name: type_name(cd.type_name.as_ref()),
            using: cd.raw_default.is_some(),
        },
        (A::AtSetNotNull, _) => T::SetNotNull { column: name },
        (A::AtDropNotNull, _) => T::DropNotNull { column: name },
        (A::AtColumnDefault, None) => T::DropDefault { column: name },
        (A::AtColumnDefault, Some(_)) => T::SetDefault {
            column: name,
            default: default_expr(c.def.as_deref(), 0),
        },
        (A::AtAddConstraint, Some(N::Constraint(k))) => T::AddConstraint(constraint(k)),
        (A::AtValidateConstraint, _) => T::ValidateConstraint { name },
        (A::AtDropConstraint, _) => T::DropConstraint {
            name,
            if_exists: c.missing_ok,
            cascade,
        },
        (A::AtSetLogged, _) => T::SetLogged,
        (A::AtSetUnLogged, _) => T::SetUnlogged,
        (A::AtSetTableSpace, _) => T::SetTablespace,
        (A::AtSetStatistics, _) => T::SetStatistics { column: name },
        (A::AtAttachPartition, Some(N::PartitionCmd(p))) => T::AttachPartition {
            partition: range_var(p.name.as_ref()),
        },
        (A::AtDetachPartition, Some(N::PartitionCmd(p))) => T::DetachPartition {
            partition: range_var(p.name.as_ref()),
            concurrently: p.concurrent,
        },
        (A::AtSetRelOptions | A::AtResetRelOptions, Some(N::List(l))) => T::SetOptions {
            options: def_elems(&l.items)
                .map(|d| {
                    if d.defnamespace.is_empty() {
                        d.defname.clone()
                    } else {
                        format!("{}.{}", d.defnamespace, d.defname)
                    }
                })
                .collect(),
            reset: c.subtype() == A::AtResetRelOptions,
        },
        (A::AtSetOptions | A::AtResetOptions, _) => T::SetColumnOptions { column: name },
        (A::AtSetStorage | A::AtSetCompression, _) => T::SetStorage { column: name },
        (A::AtClusterOn, _) => T::ClusterOn { index: Some(name) },
        (A::AtDropCluster, _) => T::ClusterOn { index: None },
        (A::AtEnableTrig | A::AtEnableAlwaysTrig | A::AtEnableReplicaTrig, _) => T::Trigger {
            enable: true,
            name: Some(name),
        },
        (A::AtEnableTrigAll | A::AtEnableTrigUser, _) => T::Trigger {
            enable: true,
            name: None,
        },
        (A::AtDisableTrig, _) => T::Trigger {
            enable: false,
            name: Some(name),
        },
        (A::AtDisableTrigAll | A::AtDisableTrigUser, _) => T::Trigger {
            enable: false,
            name: None,
        },
        (A::AtEnableRule | A::AtEnableAlwaysRule | A::AtEnableReplicaRule, _) => {
            T::Rule { enable: true }
        }
        (A::AtDisableRule, _) => T::Rule { enable: false },
        (
            A::AtEnableRowSecurity
            | A::AtDisableRowSecurity
            | A::AtForceRowSecurity
            | A::AtNoForceRowSecurity,
            _,
        ) => T::RowSecurity,
        (A::AtAddInherit | A::AtDropInherit, Some(N::RangeVar(rv))) => T::Inherit {
            parent: range_var(Some(rv)),
            add: c.subtype() == A::AtAddInherit,
        },
        (A::AtChangeOwner, _) => T::Owner,
        (A::AtReplicaIdentity, _) => T::ReplicaIdentity,
        (A::AtAddIdentity | A::AtSetIdentity | A::AtDropIdentity, _) => {
            T::Identity { column: name }
        }
        (A::AtAlterConstraint, def) => T::AlterConstraint {
            name: match def {
                Some(N::Constraint(k)) => k.conname.clone(),
                Some(N::AtalterConstraint(k)) => k.conname.clone(),
                _ => name,
            },
        },
        (A::AtSetAccessMethod, _) => T::SetAccessMethod,
        (A::AtDropExpression, _) => T::DropExpression { column: name },
        // the server names the subcommand by its number; the name says more
        (other, _) => T::Other(format!("subcommand {}", other.as_str_name())),
    }
}

fn is_settled(d: &DefaultExpr) -> bool {
    matches!(d, DefaultExpr::Constant | DefaultExpr::Stable)
}

fn default_expr(expr: Option<&pb::Node>, depth: usize) -> DefaultExpr {
    let Some(expr) = expr.and_then(|e| e.node.as_ref()) else {
        return DefaultExpr::Constant;
    };
    if depth > MAX_EXPRESSION_DEPTH {
        return DefaultExpr::Unknown("expression".into());
    }
    match expr {
        N::AConst(_) => DefaultExpr::Constant,
        N::TypeCast(c) => default_expr(c.arg.as_deref(), depth + 1),
        N::SqlvalueFunction(_) => DefaultExpr::Stable,
        N::FuncCall(f) => {
            let name = dotted_name(&f.funcname)
                .map(|n| n.name.to_ascii_lowercase())
                .unwrap_or_default();
            if VOLATILE.contains(&name.as_str()) {
                DefaultExpr::Volatile(name)
            } else if NOT_VOLATILE.contains(&name.as_str()) || is_sql_value_function(f, &name) {
                // still volatile if an argument is
                f.args
                    .iter()
                    .map(|a| default_expr(Some(a), depth + 1))
                    .find(|d| !is_settled(d))
                    .unwrap_or(DefaultExpr::Stable)
            } else {
                DefaultExpr::Unknown(name)
            }
        }
        N::AExpr(e) => {
            for side in [e.lexpr.as_deref(), e.rexpr.as_deref()]
                .into_iter()
                .flatten()
            {
                let d = default_expr(Some(side), depth + 1);
                if !is_settled(&d) {
                    return d;
                }
            }
            DefaultExpr::Stable
        }
        _ => DefaultExpr::Unknown("expression".into()),
    }
}

/// `CURRENT_USER`, `SESSION_USER`, `USER`, `CURRENT_ROLE`, `CURRENT_SCHEMA`,
/// `CURRENT_CATALOG`: SQLValueFunction nodes in PostgreSQL 15, calls in SQL
/// syntax (`pg_catalog.current_user()`) from 16 on. Both are stable.
fn is_sql_value_function(f: &pb::FuncCall, name: &str) -> bool {
    f.funcformat() == pb::CoercionForm::CoerceSqlSyntax
        && matches!(
            name,
            "current_user"
                | "session_user"
                | "user"
                | "current_role"
                | "current_schema"
                | "current_database"
        )
}

/// The text of a constant (`'5s'`, `5`, `on`), if the node is one.
fn constant_text(node: &pb::Node, depth: usize) -> Option<String> {
    use pb::a_const::Val;
    if depth > MAX_EXPRESSION_DEPTH {
        return None;
    }
    match node.node.as_ref()? {
        N::AConst(c) if c.isnull => None,
        N::AConst(c) => match c.val.as_ref()? {
            Val::Ival(i) => Some(i.ival.to_string()),
            Val::Fval(f) => Some(f.fval.clone()),
            Val::Sval(s) => Some(s.sval.clone()),
            Val::Boolval(b) => Some(b.boolval.to_string()),
            Val::Bsval(_) => None,
        },
        N::TypeCast(c) => constant_text(c.arg.as_deref()?, depth + 1),
        N::String(s) => Some(s.sval.clone()),
        _ => None,
    }
}

/// pg_query writes a NULL string as `""`; no identifier is empty.
fn text(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

/// The value of a `String` node.
fn string_value(node: &pb::Node) -> Option<String> {
    match &node.node {
        Some(N::String(s)) => Some(s.sval.clone()),
        _ => None,
    }
}

fn range_var(rv: Option<&pb::RangeVar>) -> QualifiedName {
    let Some(rv) = rv else {
        return QualifiedName::default();
    };
    QualifiedName {
        schema: text(&rv.schemaname),
        name: rv.relname.clone(),
    }
}

/// A dotted name given as a list of `String` nodes: the last two parts.
fn dotted_name(list: &[pb::Node]) -> Option<QualifiedName> {
    let mut parts: Vec<String> = list.iter().filter_map(string_value).collect();
    let name = parts.pop()?;
    Some(QualifiedName {
        schema: parts.pop(),
        name,
    })
}

/// The name of one object of a `DROP`: a dotted name, a bare `String`
/// (schemas, extensions), a function signature or a type name.
fn object_name(node: &pb::Node) -> Option<QualifiedName> {
    match node.node.as_ref()? {
        N::List(l) => dotted_name(&l.items),
        N::String(s) => Some(QualifiedName::unqualified(&s.sval)),
        N::ObjectWithArgs(o) => dotted_name(&o.objname),
        N::TypeName(t) => dotted_name(&t.names),
        _ => None,
    }
}

fn object_kind(t: pb::ObjectType) -> ObjectKind {
    use pb::ObjectType as O;
    match t {
        O::ObjectTable => ObjectKind::Table,
        O::ObjectIndex => ObjectKind::Index,
        O::ObjectSequence => ObjectKind::Sequence,
        O::ObjectView => ObjectKind::View,
        O::ObjectMatview => ObjectKind::MaterializedView,
        O::ObjectSchema => ObjectKind::Schema,
        O::ObjectColumn => ObjectKind::Column,
        O::ObjectTabconstraint => ObjectKind::Constraint,
        O::ObjectFunction => ObjectKind::Function,
        O::ObjectProcedure => ObjectKind::Procedure,
        O::ObjectTrigger => ObjectKind::Trigger,
        O::ObjectType => ObjectKind::Type,
        O::ObjectDomain => ObjectKind::Domain,
        O::ObjectExtension => ObjectKind::Extension,
        O::ObjectPolicy => ObjectKind::Policy,
        _ => ObjectKind::Other,
    }
}

fn def_elems(list: &[pb::Node]) -> impl Iterator<Item = &pb::DefElem> {
    list.iter().filter_map(|n| match &n.node {
        Some(N::DefElem(d)) => Some(d.as_ref()),
        _ => None,
    })
}

/// The `DefElem` named `name` in an option list.
fn option<'a>(list: &'a [pb::Node], name: &str) -> Option<&'a pb::DefElem> {
    def_elems(list).find(|d| d.defname == name)
}

fn has_option(list: &[pb::Node], name: &str) -> bool {
    option(list, name).is_some()
}

/// A boolean option given as on (`FULL`, `FULL true`, `CONCURRENTLY`).
fn option_on(list: &[pb::Node], name: &str) -> bool {
    option(list, name).is_some_and(|d| bool_arg(d).unwrap_or(true))
}

/// A boolean option explicitly turned off (`create_slot = false`).
fn option_off(list: &[pb::Node], name: &str) -> bool {
    option(list, name).is_some_and(|d| bool_arg(d) == Some(false))
}

/// The boolean value of an option without failing on odd spellings.
fn bool_arg(d: &pb::DefElem) -> Option<bool> {
    let Some(arg) = d.arg.as_deref().and_then(|a| a.node.as_ref()) else {
        return Some(true);
    };
    match arg {
        N::Boolean(b) => Some(b.boolval),
        N::Integer(i) => Some(i.ival != 0),
        N::String(s) => match s.sval.to_ascii_lowercase().as_str() {
            "true" | "on" | "yes" | "1" => Some(true),
            "false" | "off" | "no" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use confiture_core::ddl::*;

    fn statements(sql: &str) -> Vec<Statement> {
        parse::statements(sql)
            .unwrap_or_else(|e| panic!("{sql}: {e:?}"))
            .statements
    }

    #[test]
    fn converts_alter_table_create_table_set_and_functions() {
        // the same statements as the server's test (src/ddl/parse.rs)
        let sql = "ALTER TABLE s.t ADD COLUMN c timestamptz DEFAULT clock_timestamp(), ADD COLUMN d int DEFAULT 0, \
                   ALTER COLUMN e TYPE varchar(20), ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES r (id) NOT VALID;
                   CREATE TABLE n (id bigserial PRIMARY KEY, at timestamp, doc json);
                   SET lock_timeout = '5s';
                   CREATE FUNCTION f() RETURNS int SECURITY DEFINER SET search_path = pg_catalog LANGUAGE sql AS 'SELECT 1';
                   UPDATE t SET a = 1;";
        let stmts = statements(sql);
        let StatementKind::AlterTable(at) = &stmts[0].kind else {
            panic!("{:?}", stmts[0].kind)
        };
        assert_eq!(stmts[0].tag, "ALTER TABLE");
        assert_eq!(at.table, QualifiedName::new(Some("s"), "t"));
        assert_eq!(at.object, Some(ObjectKind::Table));
        assert!(
            matches!(&at.commands[0], AlterTableCmd::AddColumn { column, .. }
            if column.default == Some(DefaultExpr::Volatile("clock_timestamp".into())))
        );
        assert!(
            matches!(&at.commands[1], AlterTableCmd::AddColumn { column, .. } if column.default == Some(DefaultExpr::Constant))
        );
        assert!(
            matches!(&at.commands[2], AlterTableCmd::AlterColumnType { type_name, .. }
            if type_name.name == "varchar" && type_name.modifiers == vec![20] && type_name.schema.is_none())
        );
        assert!(
            matches!(&at.commands[3], AlterTableCmd::AddConstraint(k) if k.kind == ConstraintKind::ForeignKey && k.not_valid
            && k.columns == vec!["a".to_string()] && k.name.as_deref() == Some("fk"))
        );
        let StatementKind::CreateTable(ct) = &stmts[1].kind else {
            panic!()
        };
        assert_eq!(stmts[1].tag, "CREATE TABLE");
        assert!(
            ct.columns[0].type_name.is_serial()
                && ct.columns[0].primary_key
                && ct.has_primary_key()
        );
        assert_eq!(ct.columns[1].type_name.name, "timestamp");
        assert!(
            matches!(&stmts[2].kind, StatementKind::Set { name, value, .. } if name == "lock_timeout" && value.as_deref() == Some("5s"))
        );
        assert!(
            matches!(&stmts[3].kind, StatementKind::CreateFunction(f) if f.security_definer && f.sets_search_path)
        );
        assert!(
            matches!(&stmts[4].kind, StatementKind::Dml(d) if d.kind == DmlKind::Update && !d.has_where)
        );
        assert_eq!(stmts[4].span.text(sql), "UPDATE t SET a = 1");
    }

    /// SQL, its command tag, and what its model must be.
    type Case = (&'static str, &'static str, fn(&StatementKind) -> bool);

    #[test]
    fn every_statement_kind_of_the_model() {
        use StatementKind as K;
        let cases: &[Case] = &[
            (
                "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i ON s.t (a)",
                "CREATE INDEX",
                |k| matches!(k, K::CreateIndex(c) if c.unique && c.concurrently && c.if_not_exists && c.name.as_deref() == Some("i") && c.table.schema.as_deref() == Some("s")),
            ),
            (
                "DROP INDEX CONCURRENTLY IF EXISTS a.i, j CASCADE",
                "DROP INDEX",
                |k| matches!(k, K::Drop(d) if d.object == ObjectKind::Index && d.concurrently && d.if_exists && d.cascade && d.names.len() == 2),
            ),
            (
                "DROP FUNCTION s.f(int), g",
                "DROP FUNCTION",
                |k| matches!(k, K::Drop(d) if d.object == ObjectKind::Function && d.names[0] == QualifiedName::new(Some("s"), "f")),
            ),
            (
                "DROP SCHEMA app",
                "DROP SCHEMA",
                |k| matches!(k, K::Drop(d) if d.object == ObjectKind::Schema && d.names == vec![QualifiedName::unqualified("app")]),
            ),
            (
                "DROP TYPE s.mood",
                "DROP TYPE",
                |k| matches!(k, K::Drop(d) if d.object == ObjectKind::Type && d.names[0].schema.as_deref() == Some("s")),
            ),
            (
                "REINDEX (CONCURRENTLY) TABLE t",
                "REINDEX",
                |k| matches!(k, K::Reindex(r) if r.concurrently && r.target == ReindexTarget::Table),
            ),
            (
                "REINDEX SCHEMA app",
                "REINDEX",
                |k| matches!(k, K::Reindex(r) if r.target == ReindexTarget::Schema && r.name == Some(QualifiedName::unqualified("app"))),
            ),
            (
                "REINDEX DATABASE d",
                "REINDEX",
                |k| matches!(k, K::Reindex(r) if r.target == ReindexTarget::Database),
            ),
            (
                "VACUUM FULL t, u",
                "VACUUM",
                |k| matches!(k, K::Vacuum(v) if v.full && !v.analyze_only && v.tables.len() == 2),
            ),
            (
                "VACUUM (FULL false) t",
                "VACUUM",
                |k| matches!(k, K::Vacuum(v) if !v.full),
            ),
            (
                "ANALYZE t",
                "ANALYZE",
                |k| matches!(k, K::Vacuum(v) if v.analyze_only),
            ),
            (
                "CLUSTER",
                "CLUSTER",
                |k| matches!(k, K::Cluster(c) if c.table.is_none()),
            ),
            (
                "CLUSTER t USING i",
                "CLUSTER",
                |k| matches!(k, K::Cluster(c) if c.table.is_some()),
            ),
            ("ALTER SYSTEM SET work_mem = '1MB'", "ALTER SYSTEM", |k| {
                matches!(k, K::AlterSystem)
            }),
            ("CREATE DATABASE d", "CREATE DATABASE", |k| {
                matches!(
                    k,
                    K::Database {
                        action: DatabaseAction::Create
                    }
                )
            }),
            ("DROP DATABASE d", "DROP DATABASE", |k| {
                matches!(
                    k,
                    K::Database {
                        action: DatabaseAction::Drop
                    }
                )
            }),
            ("ALTER DATABASE d SET TABLESPACE x", "ALTER DATABASE", |k| {
                matches!(
                    k,
                    K::Database {
                        action: DatabaseAction::SetTablespace
                    }
                )
            }),
            (
                "ALTER DATABASE d CONNECTION LIMIT 3",
                "ALTER DATABASE",
                |k| {
                    matches!(
                        k,
                        K::Database {
                            action: DatabaseAction::Alter
                        }
                    )
                },
            ),
            (
                "CREATE TABLESPACE x LOCATION '/x'",
                "CREATE TABLESPACE",
                |k| matches!(k, K::Tablespace { create: true }),
            ),
            ("DROP TABLESPACE x", "DROP TABLESPACE", |k| {
                matches!(k, K::Tablespace { create: false })
            }),
            ("BEGIN", "BEGIN", |k| {
                matches!(k, K::Transaction(TransactionKind::Begin))
            }),
            ("START TRANSACTION", "START TRANSACTION", |k| {
                matches!(k, K::Transaction(TransactionKind::Begin))
            }),
            ("END", "COMMIT", |k| {
                matches!(k, K::Transaction(TransactionKind::Commit))
            }),
            ("ROLLBACK TO SAVEPOINT a", "ROLLBACK", |k| {
                matches!(k, K::Transaction(TransactionKind::RollbackTo))
            }),
            ("SAVEPOINT a", "SAVEPOINT", |k| {
                matches!(k, K::Transaction(TransactionKind::Savepoint))
            }),
            ("RELEASE a", "RELEASE", |k| {
                matches!(k, K::Transaction(TransactionKind::Release))
            }),
            ("PREPARE TRANSACTION 'x'", "PREPARE TRANSACTION", |k| {
                matches!(k, K::Transaction(TransactionKind::Prepare))
            }),
            ("COMMIT PREPARED 'x'", "COMMIT PREPARED", |k| {
                matches!(k, K::Transaction(TransactionKind::CommitPrepared))
            }),
            ("ROLLBACK PREPARED 'x'", "ROLLBACK PREPARED", |k| {
                matches!(k, K::Transaction(TransactionKind::RollbackPrepared))
            }),
            (
                "CREATE SUBSCRIPTION s CONNECTION 'x' PUBLICATION p",
                "CREATE SUBSCRIPTION",
                |k| {
                    matches!(
                        k,
                        K::Subscription {
                            action: SubscriptionAction::CreateWithSlot
                        }
                    )
                },
            ),
            (
                "CREATE SUBSCRIPTION s CONNECTION 'x' PUBLICATION p WITH (connect = false)",
                "CREATE SUBSCRIPTION",
                |k| {
                    matches!(
                        k,
                        K::Subscription {
                            action: SubscriptionAction::Other
                        }
                    )
                },
            ),
            (
                "ALTER SUBSCRIPTION s REFRESH PUBLICATION",
                "ALTER SUBSCRIPTION",
                |k| {
                    matches!(
                        k,
                        K::Subscription {
                            action: SubscriptionAction::Refresh
                        }
                    )
                },
            ),
            (
                "ALTER SUBSCRIPTION s SET PUBLICATION p WITH (refresh = false)",
                "ALTER SUBSCRIPTION",
                |k| {
                    matches!(
                        k,
                        K::Subscription {
                            action: SubscriptionAction::Other
                        }
                    )
                },
            ),
            ("ALTER SUBSCRIPTION s DISABLE", "ALTER SUBSCRIPTION", |k| {
                matches!(
                    k,
                    K::Subscription {
                        action: SubscriptionAction::Other
                    }
                )
            }),
            ("DROP SUBSCRIPTION s", "DROP SUBSCRIPTION", |k| {
                matches!(
                    k,
                    K::Subscription {
                        action: SubscriptionAction::Drop
                    }
                )
            }),
            ("COPY t FROM STDIN", "COPY", |k| {
                matches!(k, K::Copy { client_side: true })
            }),
            ("COPY t FROM '/tmp/x'", "COPY", |k| {
                matches!(k, K::Copy { client_side: false })
            }),
            ("COPY t TO PROGRAM 'gzip'", "COPY", |k| {
                matches!(k, K::Copy { client_side: false })
            }),
            ("DISCARD ALL", "DISCARD ALL", |k| {
                matches!(k, K::Discard { all: true })
            }),
            ("DISCARD PLANS", "DISCARD PLANS", |k| {
                matches!(k, K::Discard { all: false })
            }),
            (
                "CREATE UNLOGGED TABLE IF NOT EXISTS u (a int) PARTITION BY RANGE (a)",
                "CREATE TABLE",
                |k| matches!(k, K::CreateTable(t) if t.unlogged && t.if_not_exists && t.partitioned && !t.temporary),
            ),
            (
                "CREATE TEMP TABLE tt (a int)",
                "CREATE TABLE",
                |k| matches!(k, K::CreateTable(t) if t.temporary),
            ),
            (
                "CREATE TABLE c AS SELECT 1",
                "CREATE TABLE AS",
                |k| matches!(k, K::CreateTable(t) if t.as_select && t.name.name == "c"),
            ),
            (
                "SELECT 1 INTO c",
                "SELECT",
                |k| matches!(k, K::CreateTable(t) if t.as_select && t.name.name == "c"),
            ),
            (
                "UPDATE t SET a = 1, a = 2",
                "UPDATE",
                |k| matches!(k, K::Dml(d) if d.duplicate_column.as_deref() == Some("a")),
            ),
            (
                "INSERT INTO t (a, b) VALUES (1, 2)",
                "INSERT",
                |k| matches!(k, K::Dml(d) if d.duplicate_column.is_none()),
            ),
            (
                "LOCK TABLE t IN SHARE MODE",
                "LOCK TABLE",
                |k| matches!(k, K::Lock { tables, mode } if tables.len() == 1 && mode == "ShareLock"),
            ),
            (
                "ALTER TABLE s.t SET SCHEMA u",
                "ALTER TABLE",
                |k| matches!(k, K::SetSchema { object: ObjectKind::Table, name, schema } if name.name == "t" && schema == "u"),
            ),
            (
                "CREATE MATERIALIZED VIEW m AS SELECT 1",
                "CREATE MATERIALIZED VIEW",
                |k| {
                    matches!(
                        k,
                        K::CreateView {
                            materialized: true,
                            ..
                        }
                    )
                },
            ),
            ("CREATE OR REPLACE VIEW v AS SELECT 1", "CREATE VIEW", |k| {
                matches!(
                    k,
                    K::CreateView {
                        materialized: false,
                        or_replace: true,
                        ..
                    }
                )
            }),
            (
                "REFRESH MATERIALIZED VIEW CONCURRENTLY m",
                "REFRESH MATERIALIZED VIEW",
                |k| {
                    matches!(
                        k,
                        K::RefreshMaterializedView {
                            concurrently: true,
                            ..
                        }
                    )
                },
            ),
            (
                "ALTER INDEX i SET TABLESPACE x",
                "ALTER INDEX",
                |k| matches!(k, K::AlterTable(a) if a.object == Some(ObjectKind::Index) && a.commands == vec![AlterTableCmd::SetTablespace]),
            ),
            (
                "ALTER TABLE t RENAME COLUMN a TO b",
                "ALTER TABLE",
                |k| matches!(k, K::Rename(r) if r.object == ObjectKind::Column && r.sub.as_deref() == Some("a") && r.new_name == "b"),
            ),
            (
                "ALTER TABLE s.t RENAME TO u",
                "ALTER TABLE",
                |k| matches!(k, K::Rename(r) if r.object == ObjectKind::Table && r.target == QualifiedName::new(Some("s"), "t")),
            ),
            // the grammar keeps a schema's old name in subname, as the server's model shows
            (
                "ALTER SCHEMA a RENAME TO b",
                "ALTER SCHEMA",
                |k| matches!(k, K::Rename(r) if r.object == ObjectKind::Schema && r.sub.as_deref() == Some("a")),
            ),
            (
                "ALTER TABLE t RENAME CONSTRAINT c TO d",
                "ALTER TABLE",
                |k| matches!(k, K::Rename(r) if r.object == ObjectKind::Constraint),
            ),
            (
                "ALTER VIEW v RENAME TO w",
                "ALTER VIEW",
                |k| matches!(k, K::Rename(r) if r.object == ObjectKind::View),
            ),
            (
                "INSERT INTO t VALUES (1)",
                "INSERT",
                |k| matches!(k, K::Dml(d) if d.kind == DmlKind::Insert && d.has_where),
            ),
            (
                "DELETE FROM t WHERE a",
                "DELETE",
                |k| matches!(k, K::Dml(d) if d.kind == DmlKind::Delete && d.has_where),
            ),
            (
                "MERGE INTO t USING u ON t.a = u.a WHEN MATCHED THEN DELETE",
                "MERGE",
                |k| matches!(k, K::Dml(d) if d.kind == DmlKind::Merge),
            ),
            (
                "TRUNCATE a, s.b",
                "TRUNCATE TABLE",
                |k| matches!(k, K::Truncate { tables, .. } if tables.len() == 2),
            ),
            (
                "CREATE PROCEDURE p() SECURITY INVOKER LANGUAGE sql AS 'SELECT 1'",
                "CREATE PROCEDURE",
                |k| matches!(k, K::CreateFunction(f) if f.procedure && !f.security_definer),
            ),
            (
                "RESET lock_timeout",
                "RESET",
                |k| matches!(k, K::Set { name, value: None, .. } if name == "lock_timeout"),
            ),
            (
                "SET LOCAL statement_timeout TO 0",
                "SET",
                |k| matches!(k, K::Set { local: true, value: Some(v), .. } if v == "0"),
            ),
            (
                "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f()",
                "CREATE TRIGGER",
                |k| matches!(k, K::CreateTrigger { name, .. } if name == "tr"),
            ),
            ("CREATE SCHEMA app", "CREATE SCHEMA", |k| {
                matches!(
                    k,
                    K::CreateOther {
                        object: ObjectKind::Schema,
                        name: Some(_)
                    }
                )
            }),
            ("CREATE SEQUENCE s", "CREATE SEQUENCE", |k| {
                matches!(
                    k,
                    K::CreateOther {
                        object: ObjectKind::Other,
                        name: None
                    }
                )
            }),
            ("CREATE TYPE mood AS ENUM ('a')", "CREATE TYPE", |k| {
                matches!(k, K::CreateOther { .. })
            }),
            ("CREATE TYPE pair AS (a int, b int)", "CREATE TYPE", |k| {
                matches!(k, K::CreateOther { .. })
            }),
            ("CREATE DOMAIN d AS int", "CREATE DOMAIN", |k| {
                matches!(k, K::CreateOther { .. })
            }),
            (
                "CREATE EXTENSION IF NOT EXISTS pgcrypto",
                "CREATE EXTENSION",
                |k| matches!(k, K::CreateOther { .. }),
            ),
            ("GRANT SELECT ON t TO r", "GRANT", |k| matches!(k, K::Other)),
            ("COMMENT ON TABLE t IS 'x'", "COMMENT", |k| {
                matches!(k, K::Other)
            }),
        ];
        for (sql, tag, check) in cases {
            let stmts = statements(sql);
            assert_eq!(stmts.len(), 1, "{sql}");
            assert_eq!(stmts[0].tag, *tag, "{sql}");
            assert!(check(&stmts[0].kind), "{sql}: {:?}", stmts[0].kind);
        }
    }

    #[test]
    fn alter_table_subcommands_and_constraints() {
        let sql = "ALTER TABLE t ADD COLUMN IF NOT EXISTS a int NOT NULL DEFAULT 0 REFERENCES r, \
                   DROP COLUMN IF EXISTS b CASCADE, ALTER COLUMN c TYPE bigint USING c::bigint, \
                   ALTER COLUMN d SET NOT NULL, ALTER COLUMN d DROP NOT NULL, ALTER COLUMN e SET DEFAULT now(), \
                   ALTER COLUMN e DROP DEFAULT, ADD CONSTRAINT k CHECK (f IS NOT NULL) NOT VALID, \
                   VALIDATE CONSTRAINT k, DROP CONSTRAINT IF EXISTS k2, SET LOGGED, SET UNLOGGED, \
                   ALTER COLUMN g SET STATISTICS 100, ADD CONSTRAINT u UNIQUE USING INDEX i, \
                   ADD PRIMARY KEY (id), SET (fillfactor = 90), ADD COLUMN g2 int GENERATED ALWAYS AS IDENTITY, \
                   ADD COLUMN g3 int GENERATED ALWAYS AS (a * 2) STORED";
        let stmts = statements(sql);
        let StatementKind::AlterTable(at) = &stmts[0].kind else {
            panic!()
        };
        use AlterTableCmd as T;
        let c = &at.commands;
        assert!(matches!(&c[0], T::AddColumn { column, if_not_exists: true }
            if column.not_null && column.default == Some(DefaultExpr::Constant) && column.references == Some(QualifiedName::unqualified("r"))));
        assert_eq!(
            c[1],
            T::DropColumn {
                name: "b".into(),
                if_exists: true,
                cascade: true
            }
        );
        assert!(
            matches!(&c[2], T::AlterColumnType { column, using: true, type_name } if column == "c" && type_name.name == "int8")
        );
        assert_eq!(c[3], T::SetNotNull { column: "d".into() });
        assert_eq!(c[4], T::DropNotNull { column: "d".into() });
        assert_eq!(
            c[5],
            T::SetDefault {
                column: "e".into(),
                default: DefaultExpr::Stable
            }
        );
        assert_eq!(c[6], T::DropDefault { column: "e".into() });
        assert!(
            matches!(&c[7], T::AddConstraint(k) if k.kind == ConstraintKind::Check && k.not_valid && k.checks_not_null.as_deref() == Some("f"))
        );
        assert_eq!(c[8], T::ValidateConstraint { name: "k".into() });
        assert_eq!(
            c[9],
            T::DropConstraint {
                name: "k2".into(),
                if_exists: true,
                cascade: false
            }
        );
        assert_eq!((&c[10], &c[11]), (&T::SetLogged, &T::SetUnlogged));
        assert_eq!(c[12], T::SetStatistics { column: "g".into() });
        assert!(
            matches!(&c[13], T::AddConstraint(k) if k.kind == ConstraintKind::Unique && k.using_index.as_deref() == Some("i"))
        );
        assert!(
            matches!(&c[14], T::AddConstraint(k) if k.kind == ConstraintKind::PrimaryKey && k.columns == vec!["id".to_string()])
        );
        assert_eq!(
            c[15],
            T::SetOptions {
                options: vec!["fillfactor".into()],
                reset: false
            }
        );
        assert!(matches!(&c[16], T::AddColumn { column, .. } if column.identity));
        assert!(matches!(&c[17], T::AddColumn { column, .. } if column.generated_stored));
        // partitions
        let stmts = statements("ALTER TABLE p ATTACH PARTITION s.c FOR VALUES IN (1); ALTER TABLE p DETACH PARTITION c CONCURRENTLY");
        let StatementKind::AlterTable(at) = &stmts[0].kind else {
            panic!()
        };
        assert_eq!(
            at.commands,
            vec![T::AttachPartition {
                partition: QualifiedName::new(Some("s"), "c")
            }]
        );
        let StatementKind::AlterTable(at) = &stmts[1].kind else {
            panic!()
        };
        assert_eq!(
            at.commands,
            vec![T::DetachPartition {
                partition: QualifiedName::unqualified("c"),
                concurrently: true
            }]
        );
    }

    #[test]
    fn default_volatility_and_types() {
        let default_of = |expr: &str| {
            let stmts = statements(&format!("CREATE TABLE t (c int DEFAULT {expr})"));
            let StatementKind::CreateTable(t) = &stmts[0].kind else {
                panic!()
            };
            t.columns[0].default.clone().unwrap()
        };
        assert_eq!(default_of("1"), DefaultExpr::Constant);
        assert_eq!(default_of("NULL"), DefaultExpr::Constant);
        assert_eq!(default_of("'x'::text::varchar"), DefaultExpr::Constant);
        assert_eq!(default_of("now()"), DefaultExpr::Stable);
        assert_eq!(default_of("CURRENT_TIMESTAMP"), DefaultExpr::Stable);
        assert_eq!(default_of("current_user"), DefaultExpr::Stable);
        assert_eq!(
            default_of("pg_catalog.random()"),
            DefaultExpr::Volatile("random".into())
        );
        assert_eq!(
            default_of("gen_random_uuid()::text"),
            DefaultExpr::Volatile("gen_random_uuid".into())
        );
        assert_eq!(
            default_of("lower(random()::text)"),
            DefaultExpr::Volatile("random".into())
        );
        // COALESCE is an expression node of its own, not a call (as in the server)
        assert_eq!(
            default_of("coalesce(random(), 1)"),
            DefaultExpr::Unknown("expression".into())
        );
        assert_eq!(
            default_of("1 + nextval('s')"),
            DefaultExpr::Volatile("nextval".into())
        );
        assert_eq!(default_of("now() + interval '1 day'"), DefaultExpr::Stable);
        assert_eq!(
            default_of("my_func()"),
            DefaultExpr::Unknown("my_func".into())
        );
        assert_eq!(
            default_of("ARRAY[1]"),
            DefaultExpr::Unknown("expression".into())
        );
        let stmts = statements("CREATE TABLE t (a pg_catalog.int4, b public.citext, c timestamp with time zone, \
                                d numeric(10, 2)[], e character varying(5), f serial, g int GENERATED ALWAYS AS (a) VIRTUAL)");
        let StatementKind::CreateTable(t) = &stmts[0].kind else {
            panic!()
        };
        let types: Vec<String> = t.columns.iter().map(|c| c.type_name.to_string()).collect();
        assert_eq!(
            types,
            vec![
                "int4",
                "citext",
                "timestamptz",
                "numeric(10,2)[]",
                "varchar(5)",
                "serial",
                "int4"
            ]
        );
        assert_eq!(t.columns[1].type_name.schema.as_deref(), Some("public"));
        assert!(
            !t.columns[6].generated_stored,
            "virtual generated columns rewrite nothing"
        );
    }

    #[test]
    fn deep_defaults_stay_bounded() {
        // 40 nested additions decode (prost's limit is 100 messages) and convert
        let expr = format!("{}random(){}", "(1 + ".repeat(40), ")".repeat(40));
        let stmts = statements(&format!("ALTER TABLE t ADD COLUMN c int DEFAULT {expr}"));
        let StatementKind::AlterTable(at) = &stmts[0].kind else {
            panic!()
        };
        assert!(
            matches!(&at.commands[0], AlterTableCmd::AddColumn { column, .. } if column.default == Some(DefaultExpr::Volatile("random".into())))
        );
    }
}
