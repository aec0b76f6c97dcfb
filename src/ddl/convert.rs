//! The one place that walks `pg_sys` parse nodes: it turns a raw statement
//! (from `raw_parser`, or an event trigger's `parsetree`) into the owned
//! `confiture_core::ddl` model. Everything here only reads the tree, copies
//! strings out, and never keeps a pointer.

use confiture_core::ddl::*;
use confiture_core::source::Span;
use pgrx::pg_sys::{self, NodeTag};
use pgrx::list::PgList;
use std::ffi::CStr;

/// Convert one raw statement.
///
/// # Safety
/// `node` must be a parse tree produced by the server in the current
/// memory context (or NULL).
pub unsafe fn statement(node: *mut pg_sys::Node, span: Span) -> Statement {
    let tag = command_tag(node);
    let kind = if node.is_null() { StatementKind::Other } else { kind(node) };
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
                names: nodes(s.objects).into_iter().filter_map(|n| object_name(n)).collect(),
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
            K::Reindex(Reindex { target, name, concurrently: option_on(s.params, "concurrently") })
        }
        NodeTag::T_VacuumStmt => {
            let s = &*(node as *mut pg_sys::VacuumStmt);
            let tables = nodes(s.rels)
                .into_iter()
                .filter(|n| (**n).type_ == NodeTag::T_VacuumRelation)
                .map(|n| range_var((*(n as *mut pg_sys::VacuumRelation)).relation))
                .collect();
            K::Vacuum(Vacuum { analyze_only: !s.is_vacuumcmd, full: option_on(s.options, "full"), tables })
        }
        NodeTag::T_ClusterStmt => {
            let s = &*(node as *mut pg_sys::ClusterStmt);
            K::Cluster(Cluster { table: (!s.relation.is_null()).then(|| range_var(s.relation)) })
        }
        NodeTag::T_AlterSystemStmt => K::AlterSystem,
        NodeTag::T_CreatedbStmt => K::Database { action: DatabaseAction::Create },
        NodeTag::T_DropdbStmt => K::Database { action: DatabaseAction::Drop },
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
            let action = if no_slot { SubscriptionAction::Other } else { SubscriptionAction::CreateWithSlot };
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
            let action = if refreshes { SubscriptionAction::Refresh } else { SubscriptionAction::Other };
            K::Subscription { action }
        }
        NodeTag::T_DropSubscriptionStmt => K::Subscription { action: SubscriptionAction::Drop },
        NodeTag::T_CopyStmt => {
            let s = &*(node as *mut pg_sys::CopyStmt);
            K::Copy { client_side: s.filename.is_null() && !s.is_program }
        }
        NodeTag::T_DiscardStmt => {
            let s = &*(node as *mut pg_sys::DiscardStmt);
            K::Discard { all: s.target == pg_sys::DiscardMode::DISCARD_ALL }
        }
        _ => K::Other,
    }
}

/// Copy a C string out of the tree.
pub unsafe fn text(ptr: *const std::ffi::c_char) -> Option<String> {
    (!ptr.is_null()).then(|| CStr::from_ptr(ptr).to_string_lossy().into_owned())
}

/// The elements of a `List` of nodes (empty for NIL).
pub unsafe fn nodes(list: *mut pg_sys::List) -> Vec<*mut pg_sys::Node> {
    PgList::<pg_sys::Node>::from_pg(list).iter_ptr().filter(|n| !n.is_null()).collect()
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
    QualifiedName { schema: text((*rv).schemaname), name: text((*rv).relname).unwrap_or_default() }
}

/// A dotted name given as a list of `String` nodes: the last two parts.
pub unsafe fn dotted_name(list: *mut pg_sys::List) -> Option<QualifiedName> {
    let mut parts: Vec<String> = nodes(list).into_iter().filter_map(|n| string_value(n)).collect();
    let name = parts.pop()?;
    Some(QualifiedName { schema: parts.pop(), name })
}

/// The name of one object of a `DROP`: a dotted name, a bare `String`
/// (schemas, extensions), a function signature or a type name.
unsafe fn object_name(node: *mut pg_sys::Node) -> Option<QualifiedName> {
    match (*node).type_ {
        NodeTag::T_List => dotted_name(node as *mut pg_sys::List),
        NodeTag::T_String => string_value(node).map(|n| QualifiedName::unqualified(&n)),
        NodeTag::T_ObjectWithArgs => dotted_name((*(node as *mut pg_sys::ObjectWithArgs)).objname),
        NodeTag::T_TypeName => dotted_name((*(node as *mut pg_sys::TypeName)).names),
        _ => None,
    }
}

fn object_kind(t: pg_sys::ObjectType::Type) -> ObjectKind {
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
    option(list, name).map(|d| bool_arg(d).unwrap_or(true)).unwrap_or(false)
}

/// A boolean option explicitly turned off (`create_slot = false`).
unsafe fn option_off(list: *mut pg_sys::List, name: &str) -> bool {
    option(list, name).map(|d| bool_arg(d) == Some(false)).unwrap_or(false)
}

/// The boolean value of an option without raising an error on odd spellings.
unsafe fn bool_arg(d: *mut pg_sys::DefElem) -> Option<bool> {
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
