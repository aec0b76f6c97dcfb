//! The server's command tag of a raw statement (`CREATE TABLE`, `ALTER
//! TABLE` …), as PostgreSQL's `CreateCommandTag` (utility.c) computes it:
//! the server's converter copies that function's result, so the offline
//! converter reproduces it for every statement kind a migration can hold.

use pb::ObjectType as O;
use pg_query::protobuf as pb;
use pg_query::protobuf::node::Node as N;

pub fn command_tag(node: &N) -> &'static str {
    match node {
        N::RawStmt(r) => r
            .stmt
            .as_ref()
            .and_then(|s| s.node.as_ref())
            .map_or("???", command_tag),
        N::InsertStmt(_) => "INSERT",
        N::DeleteStmt(_) => "DELETE",
        N::UpdateStmt(_) => "UPDATE",
        N::MergeStmt(_) => "MERGE",
        N::SelectStmt(_) | N::ReturnStmt(_) | N::PlassignStmt(_) => "SELECT",
        N::TransactionStmt(s) => {
            use pb::TransactionStmtKind as T;
            match s.kind() {
                T::TransStmtBegin => "BEGIN",
                T::TransStmtStart => "START TRANSACTION",
                T::TransStmtCommit => "COMMIT",
                T::TransStmtRollback | T::TransStmtRollbackTo => "ROLLBACK",
                T::TransStmtSavepoint => "SAVEPOINT",
                T::TransStmtRelease => "RELEASE",
                T::TransStmtPrepare => "PREPARE TRANSACTION",
                T::TransStmtCommitPrepared => "COMMIT PREPARED",
                T::TransStmtRollbackPrepared => "ROLLBACK PREPARED",
                T::Undefined => "???",
            }
        }
        N::DeclareCursorStmt(_) => "DECLARE CURSOR",
        N::ClosePortalStmt(s) => {
            if s.portalname.is_empty() {
                "CLOSE CURSOR ALL"
            } else {
                "CLOSE CURSOR"
            }
        }
        N::FetchStmt(s) => {
            if s.ismove {
                "MOVE"
            } else {
                "FETCH"
            }
        }
        N::CreateDomainStmt(_) => "CREATE DOMAIN",
        N::CreateSchemaStmt(_) => "CREATE SCHEMA",
        N::CreateStmt(_) => "CREATE TABLE",
        N::CreateTableSpaceStmt(_) => "CREATE TABLESPACE",
        N::DropTableSpaceStmt(_) => "DROP TABLESPACE",
        N::AlterTableSpaceOptionsStmt(_) => "ALTER TABLESPACE",
        N::CreateExtensionStmt(_) => "CREATE EXTENSION",
        N::AlterExtensionStmt(_) | N::AlterExtensionContentsStmt(_) => "ALTER EXTENSION",
        N::CreateFdwStmt(_) => "CREATE FOREIGN DATA WRAPPER",
        N::AlterFdwStmt(_) => "ALTER FOREIGN DATA WRAPPER",
        N::CreateForeignServerStmt(_) => "CREATE SERVER",
        N::AlterForeignServerStmt(_) => "ALTER SERVER",
        N::CreateUserMappingStmt(_) => "CREATE USER MAPPING",
        N::AlterUserMappingStmt(_) => "ALTER USER MAPPING",
        N::DropUserMappingStmt(_) => "DROP USER MAPPING",
        N::CreateForeignTableStmt(_) => "CREATE FOREIGN TABLE",
        N::ImportForeignSchemaStmt(_) => "IMPORT FOREIGN SCHEMA",
        N::DropStmt(s) => drop_tag(s.remove_type()),
        N::TruncateStmt(_) => "TRUNCATE TABLE",
        N::CommentStmt(_) => "COMMENT",
        N::SecLabelStmt(_) => "SECURITY LABEL",
        N::CopyStmt(_) => "COPY",
        // a renamed column is tagged by its relation's kind
        N::RenameStmt(s) => alter_tag(if s.rename_type() == O::ObjectColumn {
            s.relation_type()
        } else {
            s.rename_type()
        }),
        N::AlterObjectDependsStmt(s) => alter_tag(s.object_type()),
        N::AlterObjectSchemaStmt(s) => alter_tag(s.object_type()),
        N::AlterOwnerStmt(s) => alter_tag(s.object_type()),
        N::AlterTableMoveAllStmt(s) => alter_tag(s.objtype()),
        N::AlterTableStmt(s) => alter_tag(s.objtype()),
        N::AlterDomainStmt(_) => "ALTER DOMAIN",
        N::AlterFunctionStmt(s) => match s.objtype() {
            O::ObjectProcedure => "ALTER PROCEDURE",
            O::ObjectRoutine => "ALTER ROUTINE",
            O::ObjectFunction => "ALTER FUNCTION",
            _ => "???",
        },
        N::GrantStmt(s) => {
            if s.is_grant {
                "GRANT"
            } else {
                "REVOKE"
            }
        }
        N::GrantRoleStmt(s) => {
            if s.is_grant {
                "GRANT ROLE"
            } else {
                "REVOKE ROLE"
            }
        }
        N::AlterDefaultPrivilegesStmt(_) => "ALTER DEFAULT PRIVILEGES",
        N::DefineStmt(s) => match s.kind() {
            O::ObjectAggregate => "CREATE AGGREGATE",
            O::ObjectOperator => "CREATE OPERATOR",
            O::ObjectType => "CREATE TYPE",
            O::ObjectTsparser => "CREATE TEXT SEARCH PARSER",
            O::ObjectTsdictionary => "CREATE TEXT SEARCH DICTIONARY",
            O::ObjectTstemplate => "CREATE TEXT SEARCH TEMPLATE",
            O::ObjectTsconfiguration => "CREATE TEXT SEARCH CONFIGURATION",
            O::ObjectCollation => "CREATE COLLATION",
            O::ObjectAccessMethod => "CREATE ACCESS METHOD",
            _ => "???",
        },
        N::CompositeTypeStmt(_) | N::CreateEnumStmt(_) | N::CreateRangeStmt(_) => "CREATE TYPE",
        N::AlterEnumStmt(_) | N::AlterTypeStmt(_) => "ALTER TYPE",
        N::ViewStmt(_) => "CREATE VIEW",
        N::CreateFunctionStmt(s) => {
            if s.is_procedure {
                "CREATE PROCEDURE"
            } else {
                "CREATE FUNCTION"
            }
        }
        N::IndexStmt(_) => "CREATE INDEX",
        N::RuleStmt(_) => "CREATE RULE",
        N::CreateSeqStmt(_) => "CREATE SEQUENCE",
        N::AlterSeqStmt(_) => "ALTER SEQUENCE",
        N::DoStmt(_) => "DO",
        N::CreatedbStmt(_) => "CREATE DATABASE",
        N::AlterDatabaseStmt(_)
        | N::AlterDatabaseRefreshCollStmt(_)
        | N::AlterDatabaseSetStmt(_) => "ALTER DATABASE",
        N::DropdbStmt(_) => "DROP DATABASE",
        N::NotifyStmt(_) => "NOTIFY",
        N::ListenStmt(_) => "LISTEN",
        N::UnlistenStmt(_) => "UNLISTEN",
        N::LoadStmt(_) => "LOAD",
        N::CallStmt(_) => "CALL",
        N::ClusterStmt(_) => "CLUSTER",
        N::VacuumStmt(s) => {
            if s.is_vacuumcmd {
                "VACUUM"
            } else {
                "ANALYZE"
            }
        }
        N::ExplainStmt(_) => "EXPLAIN",
        N::CreateTableAsStmt(s) => match s.objtype() {
            O::ObjectTable if s.is_select_into => "SELECT INTO",
            O::ObjectTable => "CREATE TABLE AS",
            O::ObjectMatview => "CREATE MATERIALIZED VIEW",
            _ => "???",
        },
        N::RefreshMatViewStmt(_) => "REFRESH MATERIALIZED VIEW",
        N::AlterSystemStmt(_) => "ALTER SYSTEM",
        N::VariableSetStmt(s) => {
            use pb::VariableSetKind as V;
            match s.kind() {
                V::VarSetValue | V::VarSetCurrent | V::VarSetDefault | V::VarSetMulti => "SET",
                V::VarReset | V::VarResetAll => "RESET",
                V::Undefined => "???",
            }
        }
        N::VariableShowStmt(_) => "SHOW",
        N::DiscardStmt(s) => {
            use pb::DiscardMode as D;
            match s.target() {
                D::DiscardAll => "DISCARD ALL",
                D::DiscardPlans => "DISCARD PLANS",
                D::DiscardTemp => "DISCARD TEMP",
                D::DiscardSequences => "DISCARD SEQUENCES",
                D::Undefined => "???",
            }
        }
        N::CreateTransformStmt(_) => "CREATE TRANSFORM",
        N::CreateTrigStmt(_) => "CREATE TRIGGER",
        N::CreateEventTrigStmt(_) => "CREATE EVENT TRIGGER",
        N::AlterEventTrigStmt(_) => "ALTER EVENT TRIGGER",
        N::CreatePlangStmt(_) => "CREATE LANGUAGE",
        N::CreateRoleStmt(_) => "CREATE ROLE",
        N::AlterRoleStmt(_) | N::AlterRoleSetStmt(_) => "ALTER ROLE",
        N::DropRoleStmt(_) => "DROP ROLE",
        N::DropOwnedStmt(_) => "DROP OWNED",
        N::ReassignOwnedStmt(_) => "REASSIGN OWNED",
        N::LockStmt(_) => "LOCK TABLE",
        N::ConstraintsSetStmt(_) => "SET CONSTRAINTS",
        N::CheckPointStmt(_) => "CHECKPOINT",
        N::ReindexStmt(_) => "REINDEX",
        N::CreateConversionStmt(_) => "CREATE CONVERSION",
        N::CreateCastStmt(_) => "CREATE CAST",
        N::CreateOpClassStmt(_) => "CREATE OPERATOR CLASS",
        N::CreateOpFamilyStmt(_) => "CREATE OPERATOR FAMILY",
        N::AlterOpFamilyStmt(_) => "ALTER OPERATOR FAMILY",
        N::AlterOperatorStmt(_) => "ALTER OPERATOR",
        N::AlterTsdictionaryStmt(_) => "ALTER TEXT SEARCH DICTIONARY",
        N::AlterTsconfigurationStmt(_) => "ALTER TEXT SEARCH CONFIGURATION",
        N::CreatePolicyStmt(_) => "CREATE POLICY",
        N::AlterPolicyStmt(_) => "ALTER POLICY",
        N::CreateAmStmt(_) => "CREATE ACCESS METHOD",
        N::CreatePublicationStmt(_) => "CREATE PUBLICATION",
        N::AlterPublicationStmt(_) => "ALTER PUBLICATION",
        N::CreateSubscriptionStmt(_) => "CREATE SUBSCRIPTION",
        N::AlterSubscriptionStmt(_) => "ALTER SUBSCRIPTION",
        N::DropSubscriptionStmt(_) => "DROP SUBSCRIPTION",
        N::AlterCollationStmt(_) => "ALTER COLLATION",
        N::PrepareStmt(_) => "PREPARE",
        N::ExecuteStmt(_) => "EXECUTE",
        N::CreateStatsStmt(_) => "CREATE STATISTICS",
        N::AlterStatsStmt(_) => "ALTER STATISTICS",
        N::DeallocateStmt(s) => {
            if s.isall {
                "DEALLOCATE ALL"
            } else {
                "DEALLOCATE"
            }
        }
        _ => "???",
    }
}

/// `DROP …` by the kind of object dropped.
fn drop_tag(t: O) -> &'static str {
    match t {
        O::ObjectTable => "DROP TABLE",
        O::ObjectSequence => "DROP SEQUENCE",
        O::ObjectView => "DROP VIEW",
        O::ObjectMatview => "DROP MATERIALIZED VIEW",
        O::ObjectIndex => "DROP INDEX",
        O::ObjectType => "DROP TYPE",
        O::ObjectDomain => "DROP DOMAIN",
        O::ObjectCollation => "DROP COLLATION",
        O::ObjectConversion => "DROP CONVERSION",
        O::ObjectSchema => "DROP SCHEMA",
        O::ObjectTsparser => "DROP TEXT SEARCH PARSER",
        O::ObjectTsdictionary => "DROP TEXT SEARCH DICTIONARY",
        O::ObjectTstemplate => "DROP TEXT SEARCH TEMPLATE",
        O::ObjectTsconfiguration => "DROP TEXT SEARCH CONFIGURATION",
        O::ObjectForeignTable => "DROP FOREIGN TABLE",
        O::ObjectExtension => "DROP EXTENSION",
        O::ObjectFunction => "DROP FUNCTION",
        O::ObjectProcedure => "DROP PROCEDURE",
        O::ObjectRoutine => "DROP ROUTINE",
        O::ObjectAggregate => "DROP AGGREGATE",
        O::ObjectOperator => "DROP OPERATOR",
        O::ObjectLanguage => "DROP LANGUAGE",
        O::ObjectCast => "DROP CAST",
        O::ObjectTrigger => "DROP TRIGGER",
        O::ObjectEventTrigger => "DROP EVENT TRIGGER",
        O::ObjectRule => "DROP RULE",
        O::ObjectFdw => "DROP FOREIGN DATA WRAPPER",
        O::ObjectForeignServer => "DROP SERVER",
        O::ObjectOpclass => "DROP OPERATOR CLASS",
        O::ObjectOpfamily => "DROP OPERATOR FAMILY",
        O::ObjectPolicy => "DROP POLICY",
        O::ObjectTransform => "DROP TRANSFORM",
        O::ObjectAccessMethod => "DROP ACCESS METHOD",
        O::ObjectPublication => "DROP PUBLICATION",
        O::ObjectStatisticExt => "DROP STATISTICS",
        _ => "???",
    }
}

/// `ALTER …` by object kind (PostgreSQL's `AlterObjectTypeCommandTag`).
fn alter_tag(t: O) -> &'static str {
    match t {
        O::ObjectAggregate => "ALTER AGGREGATE",
        O::ObjectAttribute => "ALTER TYPE",
        O::ObjectCast => "ALTER CAST",
        O::ObjectCollation => "ALTER COLLATION",
        O::ObjectColumn => "ALTER TABLE",
        O::ObjectConversion => "ALTER CONVERSION",
        O::ObjectDatabase => "ALTER DATABASE",
        O::ObjectDomain | O::ObjectDomconstraint => "ALTER DOMAIN",
        O::ObjectExtension => "ALTER EXTENSION",
        O::ObjectFdw => "ALTER FOREIGN DATA WRAPPER",
        O::ObjectForeignServer => "ALTER SERVER",
        O::ObjectForeignTable => "ALTER FOREIGN TABLE",
        O::ObjectFunction => "ALTER FUNCTION",
        O::ObjectIndex => "ALTER INDEX",
        O::ObjectLanguage => "ALTER LANGUAGE",
        O::ObjectLargeobject => "ALTER LARGE OBJECT",
        O::ObjectOpclass => "ALTER OPERATOR CLASS",
        O::ObjectOperator => "ALTER OPERATOR",
        O::ObjectOpfamily => "ALTER OPERATOR FAMILY",
        O::ObjectPolicy => "ALTER POLICY",
        O::ObjectProcedure => "ALTER PROCEDURE",
        O::ObjectRole => "ALTER ROLE",
        O::ObjectRoutine => "ALTER ROUTINE",
        O::ObjectRule => "ALTER RULE",
        O::ObjectSchema => "ALTER SCHEMA",
        O::ObjectSequence => "ALTER SEQUENCE",
        O::ObjectTable | O::ObjectTabconstraint => "ALTER TABLE",
        O::ObjectTablespace => "ALTER TABLESPACE",
        O::ObjectTrigger => "ALTER TRIGGER",
        O::ObjectEventTrigger => "ALTER EVENT TRIGGER",
        O::ObjectTsconfiguration => "ALTER TEXT SEARCH CONFIGURATION",
        O::ObjectTsdictionary => "ALTER TEXT SEARCH DICTIONARY",
        O::ObjectTsparser => "ALTER TEXT SEARCH PARSER",
        O::ObjectTstemplate => "ALTER TEXT SEARCH TEMPLATE",
        O::ObjectType => "ALTER TYPE",
        O::ObjectView => "ALTER VIEW",
        O::ObjectMatview => "ALTER MATERIALIZED VIEW",
        O::ObjectPublication => "ALTER PUBLICATION",
        O::ObjectSubscription => "ALTER SUBSCRIPTION",
        O::ObjectStatisticExt => "ALTER STATISTICS",
        _ => "???",
    }
}
