//! The one place that walks `pg_sys` parse nodes: it turns a raw statement
//! (from `raw_parser`, or an event trigger's `parsetree`) into the owned
//! `confiture_core::ddl` model. Everything here only reads the tree, copies
//! strings out, and never keeps a pointer.

use confiture_core::ddl::*;
use confiture_core::source::Span;
use pgrx::list::PgList;
use pgrx::pg_sys::{self, NodeTag};
use std::ffi::CStr;

/// Convert one raw statement.
///
/// # Safety
/// `node` must be a parse tree produced by the server in the current
/// memory context (or NULL).
pub unsafe fn statement(node: *mut pg_sys::Node, span: Span) -> Statement {
    let tag = command_tag(node);
    let kind = if node.is_null() {
        StatementKind::Other
    } else {
        kind(node)
    };
    Statement { span, tag, kind }
}

/// The server's command tag (`CREATE TABLE`, `ALTER TABLE` ...).
pub unsafe fn command_tag(node: *mut pg_sys::Node) -> String {
    if node.is_null() {
        return "???".into();
    }
    let tag = pg_sys::CreateCommandTag(node);
    text(pg_sys::GetCommandTagName(tag)).unwrap_or_else(|| "???".into())
}

unsafe fn kind(node: *mut pg_sys::Node) -> StatementKind {
    use StatementKind as K;
    match (*node).type_ {
        NodeTag::T_IndexStmt => {
            let s = &*(node as *mut pg_sys::IndexStmt);
            K::CreateIndex(CreateIndex {
                name: text(s.idxname),
                table: range_var(s.relation),
                unique: s.unique,
                concurrently: s.concurrent,
                if_not_exists: s.if_not_exists,
            })
        }
        NodeTag::T_DropStmt => {
            let s = &*(node as *mut pg_sys::DropStmt);
            K::Drop(Drop {
                object: object_kind(s.removeType),
                names: nodes(s.objects)
                    .into_iter()
                    .filter_map(|n| object_name(n))
                    .collect(),
                concurrently: s.concurrent,
                if_exists: s.missing_ok,
                cascade: s.behavior == pg_sys::DropBehavior::DROP_CASCADE,
            })
        }
        NodeTag::T_ReindexStmt => {
            let s = &*(node as *mut pg_sys::ReindexStmt);
            use pg_sys::ReindexObjectType as R;
            let target = match s.kind {
                R::REINDEX_OBJECT_INDEX => ReindexTarget::Index,
                R::REINDEX_OBJECT_TABLE => ReindexTarget::Table,
                R::REINDEX_OBJECT_SCHEMA => ReindexTarget::Schema,
                R::REINDEX_OBJECT_SYSTEM => ReindexTarget::System,
                _ => ReindexTarget::Database,
            };
            let name = if !s.relation.is_null() {
                Some(range_var(s.relation))
            } else {
                text(s.name as *mut _).map(|n| QualifiedName::unqualified(&n))
            };
            K::Reindex(Reindex {
                target,
                name,
                concurrently: option_on(s.params, "concurrently"),
            })
        }
        NodeTag::T_VacuumStmt => {
            let s = &*(node as *mut pg_sys::VacuumStmt);
            let tables = nodes(s.rels)
                .into_iter()
                .filter(|n| (**n).type_ == NodeTag::T_VacuumRelation)
                .map(|n| range_var((*(n as *mut pg_sys::VacuumRelation)).relation))
                .collect();
            K::Vacuum(Vacuum {
                analyze_only: !s.is_vacuumcmd,
                full: option_on(s.options, "full"),
                tables,
            })
        }
        NodeTag::T_ClusterStmt => {
            let s = &*(node as *mut pg_sys::ClusterStmt);
            K::Cluster(Cluster {
                table: (!s.relation.is_null()).then(|| range_var(s.relation)),
            })
        }
        NodeTag::T_AlterSystemStmt => K::AlterSystem,
        NodeTag::T_CreatedbStmt => K::Database {
            action: DatabaseAction::Create,
        },
        NodeTag::T_DropdbStmt => K::Database {
            action: DatabaseAction::Drop,
        },
        NodeTag::T_AlterDatabaseStmt => {
            let s = &*(node as *mut pg_sys::AlterDatabaseStmt);
            let action = if has_option(s.options, "tablespace") {
                DatabaseAction::SetTablespace
            } else {
                DatabaseAction::Alter
            };
            K::Database { action }
        }
        NodeTag::T_CreateTableSpaceStmt => K::Tablespace { create: true },
        NodeTag::T_DropTableSpaceStmt => K::Tablespace { create: false },
        NodeTag::T_TransactionStmt => {
            let s = &*(node as *mut pg_sys::TransactionStmt);
            use pg_sys::TransactionStmtKind as T;
            K::Transaction(match s.kind {
                T::TRANS_STMT_BEGIN | T::TRANS_STMT_START => TransactionKind::Begin,
                T::TRANS_STMT_COMMIT => TransactionKind::Commit,
                T::TRANS_STMT_ROLLBACK => TransactionKind::Rollback,
                T::TRANS_STMT_SAVEPOINT => TransactionKind::Savepoint,
                T::TRANS_STMT_RELEASE => TransactionKind::Release,
                T::TRANS_STMT_ROLLBACK_TO => TransactionKind::RollbackTo,
                T::TRANS_STMT_PREPARE => TransactionKind::Prepare,
                T::TRANS_STMT_COMMIT_PREPARED => TransactionKind::CommitPrepared,
                _ => TransactionKind::RollbackPrepared,
            })
        }
        NodeTag::T_CreateSubscriptionStmt => {
            let s = &*(node as *mut pg_sys::CreateSubscriptionStmt);
            let no_slot = option_off(s.options, "create_slot") || option_off(s.options, "connect");
            let action = if no_slot {
                SubscriptionAction::Other
            } else {
                SubscriptionAction::CreateWithSlot
            };
            K::Subscription { action }
        }
        NodeTag::T_AlterSubscriptionStmt => {
            let s = &*(node as *mut pg_sys::AlterSubscriptionStmt);
            use pg_sys::AlterSubscriptionType as A;
            let refreshes = match s.kind {
                A::ALTER_SUBSCRIPTION_REFRESH => true,
                A::ALTER_SUBSCRIPTION_SET_PUBLICATION
                | A::ALTER_SUBSCRIPTION_ADD_PUBLICATION
                | A::ALTER_SUBSCRIPTION_DROP_PUBLICATION => !option_off(s.options, "refresh"),
                _ => false,
            };
            let action = if refreshes {
                SubscriptionAction::Refresh
            } else {
                SubscriptionAction::Other
            };
            K::Subscription { action }
        }
        NodeTag::T_DropSubscriptionStmt => K::Subscription {
            action: SubscriptionAction::Drop,
        },
        NodeTag::T_CopyStmt => {
            let s = &*(node as *mut pg_sys::CopyStmt);
            K::Copy {
                client_side: s.filename.is_null() && !s.is_program,
            }
        }
        NodeTag::T_DiscardStmt => {
            let s = &*(node as *mut pg_sys::DiscardStmt);
            K::Discard {
                all: s.target == pg_sys::DiscardMode::DISCARD_ALL,
            }
        }
        NodeTag::T_CreateStmt => K::CreateTable(create_table(&*(node as *mut pg_sys::CreateStmt))),
        NodeTag::T_CreateTableAsStmt => {
            let s = &*(node as *mut pg_sys::CreateTableAsStmt);
            let name = if s.into.is_null() {
                QualifiedName::default()
            } else {
                range_var((*s.into).rel)
            };
            if s.objtype == pg_sys::ObjectType::OBJECT_MATVIEW {
                K::CreateView {
                    name,
                    materialized: true,
                    or_replace: false,
                }
            } else {
                let temporary = !s.into.is_null()
                    && !(*s.into).rel.is_null()
                    && (*(*s.into).rel).relpersistence as u8 == b't';
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
        NodeTag::T_SelectStmt if !(*(node as *mut pg_sys::SelectStmt)).intoClause.is_null() => {
            let into = (*(node as *mut pg_sys::SelectStmt)).intoClause;
            let name = range_var((*into).rel);
            let temporary = !(*into).rel.is_null() && (*(*into).rel).relpersistence as u8 == b't';
            K::CreateTable(CreateTable {
                name,
                as_select: true,
                temporary,
                ..Default::default()
            })
        }
        NodeTag::T_LockStmt => {
            let s = &*(node as *mut pg_sys::LockStmt);
            K::Lock {
                tables: nodes(s.relations)
                    .into_iter()
                    .filter(|n| (**n).type_ == NodeTag::T_RangeVar)
                    .map(|n| range_var(n as *mut pg_sys::RangeVar))
                    .collect(),
                mode: lock_mode_name(s.mode).to_owned(),
            }
        }
        NodeTag::T_AlterObjectSchemaStmt => {
            let s = &*(node as *mut pg_sys::AlterObjectSchemaStmt);
            let name = if !s.relation.is_null() {
                range_var(s.relation)
            } else if !s.object.is_null() {
                object_name(s.object).unwrap_or_default()
            } else {
                QualifiedName::default()
            };
            K::SetSchema {
                object: object_kind(s.objectType),
                name,
                schema: text(s.newschema).unwrap_or_default(),
            }
        }
        NodeTag::T_AlterTableStmt => {
            let s = &*(node as *mut pg_sys::AlterTableStmt);
            let commands = nodes(s.cmds)
                .into_iter()
                .filter(|n| (**n).type_ == NodeTag::T_AlterTableCmd)
                .map(|n| alter_table_cmd(&*(n as *mut pg_sys::AlterTableCmd)))
                .collect();
            K::AlterTable(AlterTable {
                table: range_var(s.relation),
                object: Some(object_kind(s.objtype)),
                commands,
            })
        }
        NodeTag::T_RenameStmt => {
            let s = &*(node as *mut pg_sys::RenameStmt);
            let target = if !s.relation.is_null() {
                range_var(s.relation)
            } else if !s.object.is_null() {
                object_name(s.object).unwrap_or_default()
            } else {
                QualifiedName::default()
            };
            K::Rename(Rename {
                object: object_kind(s.renameType),
                target,
                sub: text(s.subname),
                new_name: text(s.newname).unwrap_or_default(),
            })
        }
        NodeTag::T_InsertStmt => {
            let s = &*(node as *mut pg_sys::InsertStmt);
            K::Dml(Dml {
                kind: DmlKind::Insert,
                table: range_var(s.relation),
                has_where: true,
                duplicate_column: first_duplicate(target_names(s.cols)),
            })
        }
        NodeTag::T_UpdateStmt => {
            let s = &*(node as *mut pg_sys::UpdateStmt);
            K::Dml(Dml {
                kind: DmlKind::Update,
                table: range_var(s.relation),
                has_where: !s.whereClause.is_null(),
                duplicate_column: first_duplicate(target_names(s.targetList)),
            })
        }
        NodeTag::T_DeleteStmt => {
            let s = &*(node as *mut pg_sys::DeleteStmt);
            K::Dml(Dml {
                kind: DmlKind::Delete,
                table: range_var(s.relation),
                has_where: !s.whereClause.is_null(),
                duplicate_column: None,
            })
        }
        NodeTag::T_MergeStmt => {
            let s = &*(node as *mut pg_sys::MergeStmt);
            K::Dml(Dml {
                kind: DmlKind::Merge,
                table: range_var(s.relation),
                has_where: true,
                duplicate_column: None,
            })
        }
        NodeTag::T_TruncateStmt => {
            let s = &*(node as *mut pg_sys::TruncateStmt);
            let tables = nodes(s.relations)
                .into_iter()
                .filter(|n| (**n).type_ == NodeTag::T_RangeVar)
                .map(|n| range_var(n as *mut pg_sys::RangeVar))
                .collect();
            K::Truncate {
                tables,
                cascade: s.behavior == pg_sys::DropBehavior::DROP_CASCADE,
            }
        }
        NodeTag::T_CreateFunctionStmt => {
            let s = &*(node as *mut pg_sys::CreateFunctionStmt);
            let options = nodes(s.options);
            let mut f = CreateFunction {
                name: dotted_name(s.funcname).unwrap_or_default(),
                procedure: s.is_procedure,
                or_replace: s.replace,
                ..Default::default()
            };
            for o in options
                .into_iter()
                .filter(|n| (**n).type_ == NodeTag::T_DefElem)
            {
                let d = o as *mut pg_sys::DefElem;
                match text((*d).defname).as_deref() {
                    Some("security") => f.security_definer = bool_arg(d) == Some(true),
                    Some("set") => {
                        let arg = (*d).arg;
                        if !arg.is_null() && (*arg).type_ == NodeTag::T_VariableSetStmt {
                            let v = &*(arg as *mut pg_sys::VariableSetStmt);
                            if text(v.name).as_deref() == Some("search_path") {
                                f.sets_search_path = true;
                            }
                        }
                    }
                    _ => {}
                }
            }
            K::CreateFunction(f)
        }
        NodeTag::T_VariableSetStmt => {
            let s = &*(node as *mut pg_sys::VariableSetStmt);
            let value = nodes(s.args).into_iter().find_map(|a| constant_text(a));
            K::Set {
                name: text(s.name).unwrap_or_default().to_ascii_lowercase(),
                value,
                local: s.is_local,
            }
        }
        NodeTag::T_ViewStmt => {
            let s = &*(node as *mut pg_sys::ViewStmt);
            K::CreateView {
                name: range_var(s.view),
                materialized: false,
                or_replace: s.replace,
            }
        }
        NodeTag::T_RefreshMatViewStmt => {
            let s = &*(node as *mut pg_sys::RefreshMatViewStmt);
            K::RefreshMaterializedView {
                name: range_var(s.relation),
                concurrently: s.concurrent,
            }
        }
        NodeTag::T_CreateTrigStmt => {
            let s = &*(node as *mut pg_sys::CreateTrigStmt);
            K::CreateTrigger {
                table: range_var(s.relation),
                name: text(s.trigname).unwrap_or_default(),
            }
        }
        NodeTag::T_CreateSchemaStmt => {
            let s = &*(node as *mut pg_sys::CreateSchemaStmt);
            K::CreateOther {
                object: ObjectKind::Schema,
                name: text(s.schemaname).map(|n| QualifiedName::unqualified(&n)),
            }
        }
        NodeTag::T_AlterEnumStmt
            if !(*(node as *mut pg_sys::AlterEnumStmt)).newVal.is_null()
                && (*(node as *mut pg_sys::AlterEnumStmt)).oldVal.is_null() =>
        {
            let s = &*(node as *mut pg_sys::AlterEnumStmt);
            K::AddEnumValue {
                type_name: dotted_name(s.typeName).unwrap_or_default(),
                value: text(s.newVal).unwrap_or_default(),
                positioned: !s.newValNeighbor.is_null(),
            }
        }
        NodeTag::T_CreateDomainStmt
            if !(*(node as *mut pg_sys::CreateDomainStmt))
                .constraints
                .is_null() =>
        {
            let s = &*(node as *mut pg_sys::CreateDomainStmt);
            K::DomainConstraint {
                name: dotted_name(s.domainname).unwrap_or_default(),
                create: true,
            }
        }
        NodeTag::T_AlterDomainStmt
            if (*(node as *mut pg_sys::AlterDomainStmt)).subtype as u8 == b'C' =>
        {
            let s = &*(node as *mut pg_sys::AlterDomainStmt);
            K::DomainConstraint {
                name: dotted_name(s.typeName).unwrap_or_default(),
                create: false,
            }
        }
        NodeTag::T_CreateSeqStmt
        | NodeTag::T_CompositeTypeStmt
        | NodeTag::T_CreateEnumStmt
        | NodeTag::T_CreateDomainStmt
        | NodeTag::T_CreateExtensionStmt => K::CreateOther {
            object: ObjectKind::Other,
            name: None,
        },
        _ => K::Other,
    }
}

unsafe fn create_table(s: &pg_sys::CreateStmt) -> CreateTable {
    let mut t = CreateTable {
        name: range_var(s.relation),
        if_not_exists: s.if_not_exists,
        partitioned: !s.partspec.is_null(),
        ..Default::default()
    };
    if !s.relation.is_null() {
        let persistence = (*s.relation).relpersistence as u8;
        t.unlogged = persistence == b'u';
        t.temporary = persistence == b't';
    }
    for el in nodes(s.tableElts) {
        match (*el).type_ {
            NodeTag::T_ColumnDef => t.columns.push(column_def(&*(el as *mut pg_sys::ColumnDef))),
            NodeTag::T_Constraint => t
                .constraints
                .push(constraint(&*(el as *mut pg_sys::Constraint))),
            _ => {}
        }
    }
    t
}

unsafe fn type_name(tn: *mut pg_sys::TypeName) -> TypeName {
    if tn.is_null() {
        return TypeName::default();
    }
    let mut parts: Vec<String> = nodes((*tn).names)
        .into_iter()
        .filter_map(|n| string_value(n))
        .collect();
    let name = parts.pop().unwrap_or_default().to_ascii_lowercase();
    let schema = parts.pop().filter(|s| s != "pg_catalog");
    let modifiers = nodes((*tn).typmods)
        .into_iter()
        .filter_map(|m| constant_text(m).and_then(|t| t.parse::<i64>().ok()))
        .collect();
    TypeName {
        name,
        schema,
        modifiers,
        array: !(*tn).arrayBounds.is_null(),
    }
}

unsafe fn column_def(c: &pg_sys::ColumnDef) -> ColumnDef {
    let mut col = ColumnDef {
        name: text(c.colname).unwrap_or_default(),
        type_name: type_name(c.typeName),
        not_null: c.is_not_null,
        identity: c.identity != 0,
        generated_stored: c.generated == b's' as std::ffi::c_char,
        ..Default::default()
    };
    if !c.raw_default.is_null() {
        col.default = Some(default_expr(c.raw_default));
    }
    for k in nodes(c.constraints)
        .into_iter()
        .filter(|n| (**n).type_ == NodeTag::T_Constraint)
    {
        let k = &*(k as *mut pg_sys::Constraint);
        use pg_sys::ConstrType as C;
        match k.contype {
            C::CONSTR_NOTNULL => col.not_null = true,
            C::CONSTR_DEFAULT => col.default = Some(default_expr(k.raw_expr)),
            C::CONSTR_IDENTITY => col.identity = true,
            C::CONSTR_GENERATED => col.generated_stored = true,
            C::CONSTR_PRIMARY => {
                col.primary_key = true;
                col.not_null = true;
            }
            C::CONSTR_UNIQUE => col.unique = true,
            C::CONSTR_FOREIGN => col.references = Some(range_var(k.pktable)),
            _ => {}
        }
    }
    col
}

unsafe fn constraint(k: &pg_sys::Constraint) -> Constraint {
    use pg_sys::ConstrType as C;
    let kind = match k.contype {
        C::CONSTR_PRIMARY => ConstraintKind::PrimaryKey,
        C::CONSTR_UNIQUE => ConstraintKind::Unique,
        C::CONSTR_CHECK => ConstraintKind::Check,
        C::CONSTR_FOREIGN => ConstraintKind::ForeignKey,
        C::CONSTR_EXCLUSION => ConstraintKind::Exclusion,
        C::CONSTR_NOTNULL => ConstraintKind::NotNull,
        _ => ConstraintKind::Other,
    };
    let columns_of = |l: *mut pg_sys::List| -> Vec<String> {
        nodes(l)
            .into_iter()
            .filter_map(|n| string_value(n))
            .collect()
    };
    let columns = if kind == ConstraintKind::ForeignKey {
        columns_of(k.fk_attrs)
    } else {
        columns_of(k.keys)
    };
    // CHECK (col IS NOT NULL): the documented way to make SET NOT NULL cheap
    let checks_not_null = (kind == ConstraintKind::Check
        && !k.raw_expr.is_null()
        && (*k.raw_expr).type_ == NodeTag::T_NullTest)
        .then(|| {
            let t = &*(k.raw_expr as *mut pg_sys::NullTest);
            if t.nulltesttype != pg_sys::NullTestType::IS_NOT_NULL || t.arg.is_null() {
                return None;
            }
            let arg = t.arg as *mut pg_sys::Node;
            if (*arg).type_ == NodeTag::T_ColumnRef {
                nodes((*(arg as *mut pg_sys::ColumnRef)).fields)
                    .into_iter()
                    .filter_map(|f| string_value(f))
                    .last()
            } else {
                None
            }
        })
        .flatten();
    Constraint {
        name: text(k.conname),
        kind,
        not_valid: k.skip_validation,
        using_index: text(k.indexname),
        columns,
        references: (!k.pktable.is_null()).then(|| range_var(k.pktable)),
        checks_not_null,
    }
}

unsafe fn alter_table_cmd(c: &pg_sys::AlterTableCmd) -> AlterTableCmd {
    use pg_sys::AlterTableType as A;
    use AlterTableCmd as T;
    let name = text(c.name).unwrap_or_default();
    let def = c.def;
    let is = |tag: NodeTag| !def.is_null() && (*def).type_ == tag;
    match c.subtype {
        A::AT_AddColumn | A::AT_AddColumnRecurse if is(NodeTag::T_ColumnDef) => T::AddColumn {
            column: column_def(&*(def as *mut pg_sys::ColumnDef)),
            if_not_exists: c.missing_ok,
        },
        A::AT_DropColumn | A::AT_DropColumnRecurse => T::DropColumn {
            name,
            if_exists: c.missing_ok,
            cascade: c.behavior == pg_sys::DropBehavior::DROP_CASCADE,
        },
        A::AT_AlterColumnType if is(NodeTag::T_ColumnDef) => {
            let cd = &*(def as *mut pg_sys::ColumnDef);
            T::AlterColumnType {
                column: name,
                type_name: type_name(cd.typeName),
                using: !cd.raw_default.is_null(),
            }
        }
        A::AT_SetNotNull => T::SetNotNull { column: name },
        A::AT_DropNotNull => T::DropNotNull { column: name },
        A::AT_ColumnDefault if def.is_null() => T::DropDefault { column: name },
        A::AT_ColumnDefault => T::SetDefault {
            column: name,
            default: default_expr(def),
        },
        A::AT_AddConstraint | A::AT_AddConstraintRecurse if is(NodeTag::T_Constraint) => {
            T::AddConstraint(constraint(&*(def as *mut pg_sys::Constraint)))
        }
        A::AT_ValidateConstraint | A::AT_ValidateConstraintRecurse => {
            T::ValidateConstraint { name }
        }
        A::AT_DropConstraint | A::AT_DropConstraintRecurse => T::DropConstraint {
            name,
            if_exists: c.missing_ok,
            cascade: c.behavior == pg_sys::DropBehavior::DROP_CASCADE,
        },
        A::AT_SetLogged => T::SetLogged,
        A::AT_SetUnLogged => T::SetUnlogged,
        A::AT_SetTableSpace => T::SetTablespace,
        A::AT_SetStatistics => T::SetStatistics { column: name },
        A::AT_AttachPartition | A::AT_DetachPartition if is(NodeTag::T_PartitionCmd) => {
            let p = &*(def as *mut pg_sys::PartitionCmd);
            if c.subtype == A::AT_AttachPartition {
                T::AttachPartition {
                    partition: range_var(p.name),
                }
            } else {
                T::DetachPartition {
                    partition: range_var(p.name),
                    concurrently: p.concurrent,
                }
            }
        }
        A::AT_SetRelOptions | A::AT_ResetRelOptions => T::SetOptions {
            options: nodes(def as *mut pg_sys::List)
                .into_iter()
                .filter(|n| (**n).type_ == NodeTag::T_DefElem)
                .filter_map(|n| {
                    let d = n as *mut pg_sys::DefElem;
                    let name = text((*d).defname)?;
                    Some(match text((*d).defnamespace) {
                        Some(ns) => format!("{ns}.{name}"),
                        None => name,
                    })
                })
                .collect(),
            reset: c.subtype == A::AT_ResetRelOptions,
        },
        A::AT_SetOptions | A::AT_ResetOptions => T::SetColumnOptions { column: name },
        A::AT_SetStorage | A::AT_SetCompression => T::SetStorage { column: name },
        A::AT_ClusterOn => T::ClusterOn { index: Some(name) },
        A::AT_DropCluster => T::ClusterOn { index: None },
        A::AT_EnableTrig | A::AT_EnableAlwaysTrig | A::AT_EnableReplicaTrig => T::Trigger {
            enable: true,
            name: Some(name),
        },
        A::AT_EnableTrigAll | A::AT_EnableTrigUser => T::Trigger {
            enable: true,
            name: None,
        },
        A::AT_DisableTrig => T::Trigger {
            enable: false,
            name: Some(name),
        },
        A::AT_DisableTrigAll | A::AT_DisableTrigUser => T::Trigger {
            enable: false,
            name: None,
        },
        A::AT_EnableRule | A::AT_EnableAlwaysRule | A::AT_EnableReplicaRule => {
            T::Rule { enable: true }
        }
        A::AT_DisableRule => T::Rule { enable: false },
        A::AT_EnableRowSecurity
        | A::AT_DisableRowSecurity
        | A::AT_ForceRowSecurity
        | A::AT_NoForceRowSecurity => T::RowSecurity,
        A::AT_AddInherit | A::AT_DropInherit if is(NodeTag::T_RangeVar) => T::Inherit {
            parent: range_var(def as *mut pg_sys::RangeVar),
            add: c.subtype == A::AT_AddInherit,
        },
        A::AT_ChangeOwner => T::Owner,
        A::AT_ReplicaIdentity => T::ReplicaIdentity,
        A::AT_AddIdentity | A::AT_SetIdentity | A::AT_DropIdentity => T::Identity { column: name },
        A::AT_AlterConstraint => T::AlterConstraint {
            name: if is(NodeTag::T_Constraint) {
                text((*(def as *mut pg_sys::Constraint)).conname).unwrap_or_default()
            } else {
                name
            },
        },
        A::AT_SetAccessMethod => T::SetAccessMethod,
        A::AT_DropExpression => T::DropExpression { column: name },
        other => T::Other(format!("subcommand {other}")),
    }
}

use confiture_core::ddl::functions::{NOT_VOLATILE, VOLATILE};

unsafe fn default_expr(expr: *mut pg_sys::Node) -> DefaultExpr {
    // `DEFAULT 1+1+...+1` nests one node per operand: a deep tree must end in
    // "stack depth limit exceeded" (54001), as the server's own analysis does,
    // never in a stack overflow that restarts the server.
    pg_sys::check_stack_depth();
    if expr.is_null() {
        return DefaultExpr::Constant;
    }
    match (*expr).type_ {
        NodeTag::T_A_Const => DefaultExpr::Constant,
        NodeTag::T_TypeCast => default_expr((*(expr as *mut pg_sys::TypeCast)).arg),
        NodeTag::T_SQLValueFunction => DefaultExpr::Stable,
        NodeTag::T_FuncCall => {
            let f = &*(expr as *mut pg_sys::FuncCall);
            let name = dotted_name(f.funcname)
                .map(|n| n.name.to_ascii_lowercase())
                .unwrap_or_default();
            if VOLATILE.contains(&name.as_str()) {
                DefaultExpr::Volatile(name)
            } else if NOT_VOLATILE.contains(&name.as_str()) {
                // still volatile if an argument is
                match nodes(f.args)
                    .into_iter()
                    .map(|a| default_expr(a))
                    .find(|d| !matches!(d, DefaultExpr::Constant | DefaultExpr::Stable))
                {
                    Some(d) => d,
                    None => DefaultExpr::Stable,
                }
            } else {
                DefaultExpr::Unknown(name)
            }
        }
        NodeTag::T_A_Expr => {
            let e = &*(expr as *mut pg_sys::A_Expr);
            for side in [e.lexpr, e.rexpr] {
                if !side.is_null() {
                    let d = default_expr(side);
                    if !matches!(d, DefaultExpr::Constant | DefaultExpr::Stable) {
                        return d;
                    }
                }
            }
            DefaultExpr::Stable
        }
        _ => DefaultExpr::Unknown("expression".into()),
    }
}

/// The text of a constant (`'5s'`, `5`, `on`), if the node is one.
unsafe fn constant_text(node: *mut pg_sys::Node) -> Option<String> {
    pg_sys::check_stack_depth(); // '5s'::text::text::... nests too
    if node.is_null() {
        return None;
    }
    match (*node).type_ {
        NodeTag::T_A_Const => {
            let c = &*(node as *mut pg_sys::A_Const);
            if c.isnull {
                return None;
            }
            let v = &c.val as *const pg_sys::ValUnion as *mut pg_sys::Node;
            match (*v).type_ {
                NodeTag::T_Integer => Some((*(v as *mut pg_sys::Integer)).ival.to_string()),
                NodeTag::T_Float => text((*(v as *mut pg_sys::Float)).fval),
                NodeTag::T_String => text((*(v as *mut pg_sys::String)).sval),
                NodeTag::T_Boolean => Some((*(v as *mut pg_sys::Boolean)).boolval.to_string()),
                _ => None,
            }
        }
        NodeTag::T_TypeCast => constant_text((*(node as *mut pg_sys::TypeCast)).arg),
        NodeTag::T_String => string_value(node),
        _ => None,
    }
}

/// The column names of a list of `ResTarget`s (an UPDATE's SET list, an
/// INSERT's column list); `SET (a, b) = ...` counts each column.
unsafe fn target_names(list: *mut pg_sys::List) -> Vec<String> {
    nodes(list)
        .into_iter()
        .filter(|n| (**n).type_ == NodeTag::T_ResTarget)
        .filter_map(|n| text((*(n as *mut pg_sys::ResTarget)).name))
        .collect()
}

/// Copy a C string out of the tree.
pub unsafe fn text(ptr: *const std::ffi::c_char) -> Option<String> {
    (!ptr.is_null()).then(|| CStr::from_ptr(ptr).to_string_lossy().into_owned())
}

/// The elements of a `List` of nodes (empty for NIL).
pub unsafe fn nodes(list: *mut pg_sys::List) -> Vec<*mut pg_sys::Node> {
    PgList::<pg_sys::Node>::from_pg(list)
        .iter_ptr()
        .filter(|n| !n.is_null())
        .collect()
}

/// The value of a `String` node.
pub unsafe fn string_value(node: *mut pg_sys::Node) -> Option<String> {
    if node.is_null() || (*node).type_ != NodeTag::T_String {
        return None;
    }
    text((*(node as *mut pg_sys::String)).sval)
}

pub unsafe fn range_var(rv: *mut pg_sys::RangeVar) -> QualifiedName {
    if rv.is_null() {
        return QualifiedName::default();
    }
    QualifiedName {
        schema: text((*rv).schemaname),
        name: text((*rv).relname).unwrap_or_default(),
    }
}

/// A dotted name given as a list of `String` nodes: the last two parts.
pub unsafe fn dotted_name(list: *mut pg_sys::List) -> Option<QualifiedName> {
    let mut parts: Vec<String> = nodes(list)
        .into_iter()
        .filter_map(|n| string_value(n))
        .collect();
    let name = parts.pop()?;
    Some(QualifiedName {
        schema: parts.pop(),
        name,
    })
}

/// The name of one object of a `DROP`: a dotted name, a bare `String`
/// (schemas, extensions), a function signature or a type name.
pub unsafe fn object_name(node: *mut pg_sys::Node) -> Option<QualifiedName> {
    match (*node).type_ {
        NodeTag::T_List => dotted_name(node as *mut pg_sys::List),
        NodeTag::T_String => string_value(node).map(|n| QualifiedName::unqualified(&n)),
        NodeTag::T_ObjectWithArgs => dotted_name((*(node as *mut pg_sys::ObjectWithArgs)).objname),
        NodeTag::T_TypeName => dotted_name((*(node as *mut pg_sys::TypeName)).names),
        _ => None,
    }
}

pub fn object_kind(t: pg_sys::ObjectType::Type) -> ObjectKind {
    use pg_sys::ObjectType as O;
    match t {
        O::OBJECT_TABLE => ObjectKind::Table,
        O::OBJECT_INDEX => ObjectKind::Index,
        O::OBJECT_SEQUENCE => ObjectKind::Sequence,
        O::OBJECT_VIEW => ObjectKind::View,
        O::OBJECT_MATVIEW => ObjectKind::MaterializedView,
        O::OBJECT_SCHEMA => ObjectKind::Schema,
        O::OBJECT_COLUMN => ObjectKind::Column,
        O::OBJECT_TABCONSTRAINT => ObjectKind::Constraint,
        O::OBJECT_FUNCTION => ObjectKind::Function,
        O::OBJECT_PROCEDURE => ObjectKind::Procedure,
        O::OBJECT_TRIGGER => ObjectKind::Trigger,
        O::OBJECT_TYPE => ObjectKind::Type,
        O::OBJECT_DOMAIN => ObjectKind::Domain,
        O::OBJECT_EXTENSION => ObjectKind::Extension,
        O::OBJECT_POLICY => ObjectKind::Policy,
        _ => ObjectKind::Other,
    }
}

/// The `DefElem` named `name` in an option list.
unsafe fn option(list: *mut pg_sys::List, name: &str) -> Option<*mut pg_sys::DefElem> {
    nodes(list)
        .into_iter()
        .filter(|n| (**n).type_ == NodeTag::T_DefElem)
        .map(|n| n as *mut pg_sys::DefElem)
        .find(|d| text((**d).defname).as_deref() == Some(name))
}

unsafe fn has_option(list: *mut pg_sys::List, name: &str) -> bool {
    option(list, name).is_some()
}

/// A boolean option given as on (`FULL`, `FULL true`, `CONCURRENTLY`).
unsafe fn option_on(list: *mut pg_sys::List, name: &str) -> bool {
    option(list, name)
        .map(|d| bool_arg(d).unwrap_or(true))
        .unwrap_or(false)
}

/// A boolean option explicitly turned off (`create_slot = false`).
unsafe fn option_off(list: *mut pg_sys::List, name: &str) -> bool {
    option(list, name)
        .map(|d| bool_arg(d) == Some(false))
        .unwrap_or(false)
}

/// The boolean value of an option without raising an error on odd spellings.
pub unsafe fn bool_arg(d: *mut pg_sys::DefElem) -> Option<bool> {
    let arg = (*d).arg;
    if arg.is_null() {
        return Some(true);
    }
    match (*arg).type_ {
        NodeTag::T_Boolean => Some((*(arg as *mut pg_sys::Boolean)).boolval),
        NodeTag::T_Integer => Some((*(arg as *mut pg_sys::Integer)).ival != 0),
        NodeTag::T_String => match string_value(arg)?.to_ascii_lowercase().as_str() {
            "true" | "on" | "yes" | "1" => Some(true),
            "false" | "off" | "no" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}
