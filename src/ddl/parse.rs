//! Parse SQL text with the server's own parser (`raw_parser`).
//!
//! The parse tree lives in a memory context of its own that is deleted as
//! soon as it has been converted into owned `confiture_core::ddl` values, so
//! parsing a 1 MB migration leaves nothing behind. A syntax error is caught
//! and returned with its position; anything else (a cancel, out of memory)
//! is raised again unchanged.

use crate::ddl::convert;
use crate::subxact::sqlstate_text;
use confiture_core::ddl::Statement;
use confiture_core::source::{self, Span};
use pgrx::pg_sys;
use pgrx::pg_sys::panic::CaughtError;
use pgrx::prelude::*;
use std::cell::Cell;
use std::ffi::CString;

/// A statement the parser rejected, located in the source text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub sqlstate: String,
    pub message: String,
    /// Byte offset into the source, when the server reported a position.
    pub offset: Option<usize>,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl SyntaxError {
    /// `line 3, column 14` or empty when the position is unknown.
    pub fn location(&self) -> String {
        match (self.line, self.column) {
            (Some(l), Some(c)) => format!("line {l}, column {c}"),
            _ => String::new(),
        }
    }
}

thread_local! {
    /// The cursor position of the error being raised, captured by
    /// `capture_position` while the server still holds the error data.
    static ERROR_POSITION: Cell<i32> = const { Cell::new(0) };
}

#[pg_guard]
unsafe extern "C-unwind" fn capture_position(_arg: *mut std::ffi::c_void) {
    // Runs inside errfinish(), where the error's cursor position is readable.
    ERROR_POSITION.with(|p| p.set(pg_sys::geterrposition()));
}

/// Raise `client_min_messages` to `warning` for a scope, if it is lower.
fn quiet_notices() -> Option<crate::security::GucScope> {
    let current = unsafe {
        let v = pg_sys::GetConfigOption(c"client_min_messages".as_ptr(), true, false);
        if v.is_null() {
            return None;
        }
        std::ffi::CStr::from_ptr(v).to_string_lossy().into_owned()
    };
    let lower =
        current.starts_with("debug") || matches!(current.as_str(), "log" | "notice" | "info");
    lower.then(|| crate::security::GucScope::set(&[("client_min_messages", "warning")]))
}

/// Parse `sql` and hand each raw statement (its node and its span in `sql`)
/// to `convert`, which must copy out everything it needs.
pub fn parse_with<T>(
    sql: &str,
    mut convert: impl FnMut(*mut pg_sys::Node, Span) -> T,
) -> Result<Vec<T>, SyntaxError> {
    // The server's parser stops at a NUL byte; PostgreSQL text cannot hold one
    // anyway, but Rust strings can.
    let Ok(c_sql) = CString::new(sql) else {
        return Err(SyntaxError {
            sqlstate: "22021".into(),
            message: "SQL text contains a NUL byte".into(),
            offset: sql.find('\0'),
            line: None,
            column: None,
        });
    };
    // the scanner's NOTICEs ("identifier ... will be truncated") would reach
    // the client besides the finding that reports them: quiet while parsing
    let _quiet = quiet_notices();
    unsafe {
        let caller_context = pg_sys::CurrentMemoryContext;
        let parse_context = pg_sys::AllocSetContextCreateInternal(
            caller_context,
            c"confiture parse".as_ptr(),
            pg_sys::ALLOCSET_DEFAULT_MINSIZE as usize,
            pg_sys::ALLOCSET_DEFAULT_INITSIZE as usize,
            pg_sys::ALLOCSET_DEFAULT_MAXSIZE as usize,
        );
        let saved_stack = pg_sys::error_context_stack;
        let mut callback = pg_sys::ErrorContextCallback {
            previous: saved_stack,
            callback: Some(capture_position),
            arg: std::ptr::null_mut(),
        };
        ERROR_POSITION.with(|p| p.set(0));
        pg_sys::CurrentMemoryContext = parse_context;
        pg_sys::error_context_stack = &mut callback;

        let raw = PgTryBuilder::new(|| {
            Ok(pg_sys::raw_parser(
                c_sql.as_ptr(),
                pg_sys::RawParseMode::RAW_PARSE_DEFAULT,
            ))
        })
        .catch_others(Err)
        .execute();

        pg_sys::error_context_stack = saved_stack;
        let result = match raw {
            Ok(list) => {
                let stmts = pgrx::list::PgList::<pg_sys::RawStmt>::from_pg(list);
                let mut out = Vec::with_capacity(stmts.len());
                for raw_stmt in stmts.iter_ptr() {
                    pgrx::check_for_interrupts!();
                    let span = source::statement_span(
                        sql,
                        (*raw_stmt).stmt_location.max(0) as usize,
                        (*raw_stmt).stmt_len.max(0) as usize,
                    );
                    out.push(convert((*raw_stmt).stmt, span));
                }
                Ok(out)
            }
            Err(caught) => Err(caught),
        };
        pg_sys::CurrentMemoryContext = caller_context;
        pg_sys::MemoryContextDelete(parse_context);

        match result {
            Ok(out) => Ok(out),
            Err(caught) => Err(syntax_error(sql, caught)),
        }
    }
}

/// A script as the server runs and lints it: psql meta-commands blanked
/// (lines and offsets unchanged), and a `BEGIN; ... COMMIT;` around the
/// whole script dropped (the migration is already one transaction).
pub struct PsqlScript {
    pub text: String,
    /// `:name` references nothing here can set (offsets in the text).
    pub unresolved: Vec<confiture_core::psql::VariableRef>,
    /// A BEGIN/COMMIT wrapper was dropped.
    pub dropped_wrapper: bool,
}

pub fn psql_script(sql: &str) -> PsqlScript {
    // plain SQL (the common case) is left as it is
    if !sql.contains('\\')
        && !sql.contains(':')
        && !sql.to_ascii_lowercase().contains("begin")
        && !sql.to_ascii_lowercase().contains("start")
    {
        return PsqlScript {
            text: sql.to_owned(),
            unresolved: Vec::new(),
            dropped_wrapper: false,
        };
    }
    let mut script = confiture_core::psql::preprocess(sql, &Default::default());
    let dropped_wrapper = script.blank_transaction_wrapper();
    PsqlScript {
        text: script.text.clone(),
        unresolved: script.unresolved.clone(),
        dropped_wrapper,
    }
}

/// Parse `sql` into the DDL model.
pub fn parse(sql: &str) -> Result<Vec<Statement>, SyntaxError> {
    parse_with(sql, |node, span| unsafe { convert::statement(node, span) })
}

fn syntax_error(sql: &str, caught: CaughtError) -> SyntaxError {
    let report = match &caught {
        CaughtError::PostgresError(r) | CaughtError::ErrorReport(r) => r,
        CaughtError::RustPanic { ereport, .. } => ereport,
    };
    let sqlstate = sqlstate_text(report.sql_error_code());
    // A cancel, a timeout or running out of memory is not the SQL's fault.
    if sqlstate.starts_with("57") || sqlstate.starts_with("53") {
        caught.rethrow();
    }
    let position = ERROR_POSITION.with(|p| p.get());
    let offset = (position > 0).then(|| source::char_to_byte(sql, position as usize));
    let (line, column) = match offset {
        Some(o) => {
            let (l, c) = source::line_col(sql, o);
            (Some(l), Some(c))
        }
        None => (None, None),
    };
    SyntaxError {
        sqlstate,
        message: report.message().to_owned(),
        offset,
        line,
        column,
    }
}

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use super::*;

    #[pg_test]
    fn splits_statements_and_keeps_spans() {
        let sql = "create table a (id int);\n-- c\nCREATE INDEX CONCURRENTLY i ON a (id);";
        let stmts = parse(sql).unwrap();
        assert_eq!(stmts.len(), 2);
        assert_eq!(stmts[0].tag, "CREATE TABLE");
        assert_eq!(
            stmts[1].span.text(sql),
            "CREATE INDEX CONCURRENTLY i ON a (id)"
        );
    }

    #[pg_test]
    fn syntax_error_has_line_and_column() {
        let err = parse("select 1;\nselect * from (select 1);").unwrap_err();
        assert_eq!(err.sqlstate, "42601");
        assert_eq!(err.line, Some(2));
        assert!(err.column.unwrap() > 1);
    }

    #[pg_test]
    fn converts_alter_table_create_table_set_and_functions() {
        use confiture_core::ddl::*;
        let sql = "ALTER TABLE s.t ADD COLUMN c timestamptz DEFAULT clock_timestamp(), ADD COLUMN d int DEFAULT 0, \
                   ALTER COLUMN e TYPE varchar(20), ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES r (id) NOT VALID;
                   CREATE TABLE n (id bigserial PRIMARY KEY, at timestamp, doc json);
                   SET lock_timeout = '5s';
                   CREATE FUNCTION f() RETURNS int SECURITY DEFINER SET search_path = pg_catalog LANGUAGE sql AS 'SELECT 1';
                   UPDATE t SET a = 1;";
        let stmts = parse(sql).unwrap();
        let StatementKind::AlterTable(at) = &stmts[0].kind else {
            panic!("{:?}", stmts[0].kind)
        };
        assert_eq!(at.table, QualifiedName::new(Some("s"), "t"));
        assert!(
            matches!(&at.commands[0], AlterTableCmd::AddColumn { column, .. }
            if column.default == Some(DefaultExpr::Volatile("clock_timestamp".into())))
        );
        assert!(
            matches!(&at.commands[1], AlterTableCmd::AddColumn { column, .. } if column.default == Some(DefaultExpr::Constant))
        );
        assert!(
            matches!(&at.commands[2], AlterTableCmd::AlterColumnType { type_name, .. }
            if type_name.name == "varchar" && type_name.modifiers == vec![20])
        );
        assert!(
            matches!(&at.commands[3], AlterTableCmd::AddConstraint(k) if k.kind == ConstraintKind::ForeignKey && k.not_valid)
        );
        let StatementKind::CreateTable(ct) = &stmts[1].kind else {
            panic!()
        };
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
    }

    #[pg_test]
    fn hostile_input_is_an_error_not_a_crash() {
        assert!(parse("select 'unterminated").is_err());
        assert!(parse("\u{0}").is_err());
        let long = format!("create table {} (id int)", "x".repeat(100_000));
        assert_eq!(parse(&long).unwrap().len(), 1);
        assert!(parse("").unwrap().is_empty());
    }
}
