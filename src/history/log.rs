//! The DDL log: two event triggers (`ddl_command_end`, `sql_drop`) written
//! in Rust that keep one row per DDL command in this backend's memory, and
//! write them to `confiture.ddl_log` once: at the end of each migration,
//! before anything of confiture reads the log (`history()`, `drift()`,
//! snapshots), and when the transaction commits (a transaction callback at
//! `XACT_EVENT_PRE_COMMIT`). Rows of a subtransaction that rolls back are
//! dropped with it; on abort they all go.
//!
//! Recording must never make DDL fail. Per command there is no
//! subtransaction (its cost grows with the locks and relations the
//! transaction holds: quadratic on a long query string), so the per-command
//! work only reads what the server hands the trigger; writing the rows, the
//! part that can fail, runs in one subtransaction per flush, and its errors
//! are WARNINGs.
//!
//! Each row holds the text of the top-level statement that ran the command
//! (a query string of several statements contributes each statement's own
//! text; a command run inside a `DO` block or a function belongs to the
//! statement that ran it), taken from the portal the server is executing,
//! whose plan knows where its statement lies in the query string: nothing
//! is parsed again, so each command costs the same however long the string.

use crate::error::{Error, Kind, Result};
use crate::guc::DDL_LOG;
use crate::migrate::context;
use crate::subxact::Subtransaction;
use pgrx::pg_sys;
use pgrx::prelude::*;
use pgrx::spi::OwnedPreparedStatement;
use pgrx::PgOid;
use std::cell::{Cell, RefCell};
use std::ffi::CStr;

pgrx::extension_sql!(
    r#"
CREATE FUNCTION confiture.log_ddl() RETURNS event_trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'confiture_log_ddl';
CREATE FUNCTION confiture.log_drop() RETURNS event_trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'confiture_log_drop';
COMMENT ON FUNCTION confiture.log_ddl() IS 'Confiture DDL log: records each DDL command in confiture.ddl_log.';
COMMENT ON FUNCTION confiture.log_drop() IS 'Confiture DDL log: records each dropped object in confiture.ddl_log.';
-- created last, so the extension's own script does not fire them half-built
CREATE EVENT TRIGGER confiture_ddl_log ON ddl_command_end EXECUTE FUNCTION confiture.log_ddl();
CREATE EVENT TRIGGER confiture_ddl_drop ON sql_drop EXECUTE FUNCTION confiture.log_drop();
"#,
    name = "history_triggers",
    finalize
);

/// One `confiture.ddl_log` row, not yet written.
struct Row {
    /// `clock_timestamp()` when the command ended (microseconds since 2000).
    at: i64,
    role: String,
    tag: String,
    object_type: Option<String>,
    identity: Option<String>,
    schema: Option<String>,
    objid: Option<pg_sys::Oid>,
    parent: Option<pg_sys::Oid>,
    statement: Option<String>,
    version: Option<String>,
    dropped: bool,
    /// The subtransaction that ran the command: its rows go if it aborts.
    subxact: pg_sys::SubTransactionId,
}

thread_local! {
    static BUFFER: RefCell<Vec<Row>> = const { RefCell::new(Vec::new()) };
    static CALLBACKS: Cell<bool> = const { Cell::new(false) };
    static COMMANDS_PLAN: RefCell<Option<OwnedPreparedStatement>> = const { RefCell::new(None) };
    static DROPPED_PLAN: RefCell<Option<OwnedPreparedStatement>> = const { RefCell::new(None) };
    static INSERT_PLAN: RefCell<Option<OwnedPreparedStatement>> = const { RefCell::new(None) };
}

const COMMANDS: &str =
    "SELECT command_tag, object_type, object_identity, schema_name, objid, in_extension
                          FROM pg_catalog.pg_event_trigger_ddl_commands()";
const DROPPED: &str = "SELECT object_type, object_identity, schema_name, objid, original
                         FROM pg_catalog.pg_event_trigger_dropped_objects()";
const INSERT: &str = "INSERT INTO confiture.ddl_log (at, role_name, command_tag, object_type, object_identity, schema_name,
                                                    objid, statement, migration_version, dropped, parent)
                      SELECT '2000-01-01 00:00:00+00'::pg_catalog.timestamptz OPERATOR(pg_catalog.+)
                                 (r.at::pg_catalog.float8 OPERATOR(pg_catalog.*) '1 microsecond'::pg_catalog.interval),
                             r.role_name, r.command_tag, r.object_type, r.object_identity, r.schema_name, r.objid,
                             r.statement, r.migration_version, r.dropped, r.parent
                        FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), pg_catalog.unnest($3),
                                        pg_catalog.unnest($4), pg_catalog.unnest($5), pg_catalog.unnest($6),
                                        pg_catalog.unnest($7), pg_catalog.unnest($8), pg_catalog.unnest($9),
                                        pg_catalog.unnest($10), pg_catalog.unnest($11)) WITH ORDINALITY
                             AS r(at, role_name, command_tag, object_type, object_identity, schema_name, objid,
                                  statement, migration_version, dropped, parent, n)
                       ORDER BY r.n";

/// What `sql_drop` also records besides the objects the statement named:
/// what went with them (a serial column's sequence, a table's indexes).
const DEPENDENT_KINDS: [&str; 8] = [
    "table",
    "view",
    "materialized view",
    "sequence",
    "index",
    "function",
    "trigger",
    "table constraint",
];

#[no_mangle]
pub extern "C" fn pg_finfo_confiture_log_ddl() -> &'static pg_sys::Pg_finfo_record {
    const V1: pg_sys::Pg_finfo_record = pg_sys::Pg_finfo_record { api_version: 1 };
    &V1
}

#[no_mangle]
pub extern "C" fn pg_finfo_confiture_log_drop() -> &'static pg_sys::Pg_finfo_record {
    const V1: pg_sys::Pg_finfo_record = pg_sys::Pg_finfo_record { api_version: 1 };
    &V1
}

/// # Safety
/// Called by the server as the `ddl_command_end` event trigger.
#[pg_guard]
#[no_mangle]
pub unsafe extern "C-unwind" fn confiture_log_ddl(
    fcinfo: pg_sys::FunctionCallInfo,
) -> pg_sys::Datum {
    on_event(fcinfo, false);
    pg_sys::Datum::from(0)
}

/// # Safety
/// Called by the server as the `sql_drop` event trigger.
#[pg_guard]
#[no_mangle]
pub unsafe extern "C-unwind" fn confiture_log_drop(
    fcinfo: pg_sys::FunctionCallInfo,
) -> pg_sys::Datum {
    on_event(fcinfo, true);
    pg_sys::Datum::from(0)
}

unsafe fn on_event(fcinfo: pg_sys::FunctionCallInfo, dropped: bool) {
    let context_node = (*fcinfo).context;
    if context_node.is_null() || (*context_node).type_ != pg_sys::NodeTag::T_EventTriggerData {
        Error::new(Kind::WrongState, "confiture's DDL log functions must be called as event triggers")
            .detail("It was called directly.")
            .hint("They run by themselves on every DDL statement; SET confiture.ddl_log = off turns them off.")
            .raise();
    }
    if !DDL_LOG.get() || pg_sys::creating_extension {
        return;
    }
    let _entered = crate::security::enter();
    let data = context_node as *mut pg_sys::EventTriggerData;
    let event_tag = CStr::from_ptr(pg_sys::GetCommandTagName((*data).tag))
        .to_string_lossy()
        .into_owned();
    let commands = if dropped {
        dropped_objects()
    } else {
        ddl_commands()
    };
    if commands.is_empty() {
        return;
    }
    let statement = statement_text();
    let role = crate::security::current_role_name();
    let version = context::current_version();
    let at = pg_sys::GetCurrentTimestamp();
    let subxact = pg_sys::GetCurrentSubTransactionId();
    ensure_callbacks();
    BUFFER.with(|b| {
        let mut b = b.borrow_mut();
        let mut redacted: Option<(String, Option<String>)> = None;
        for c in commands {
            let tag = if dropped {
                event_tag.clone()
            } else {
                c.tag.unwrap_or_else(|| event_tag.clone())
            };
            // the same text for every command of the statement: redact it once per tag
            let text = match &redacted {
                Some((t, text)) if *t == tag => text.clone(),
                _ => {
                    let text = statement
                        .as_deref()
                        .map(|s| confiture_core::sql::redact_logged(&tag, s));
                    redacted = Some((tag.clone(), text.clone()));
                    text
                }
            };
            b.push(Row {
                at,
                role: role.clone(),
                tag,
                object_type: c.object_type,
                identity: c.identity,
                schema: c.schema,
                objid: c.objid,
                parent: c.parent,
                statement: text,
                version: version.clone(),
                dropped,
                subxact,
            });
        }
    });
}

/// One command (or dropped object) as the server reports it.
struct Command {
    tag: Option<String>,
    object_type: Option<String>,
    identity: Option<String>,
    schema: Option<String>,
    objid: Option<pg_sys::Oid>,
    parent: Option<pg_sys::Oid>,
}

/// The commands of the statement that just ended, except those of
/// extensions and of confiture itself.
fn ddl_commands() -> Vec<Command> {
    with_kept_plan(&COMMANDS_PLAN, COMMANDS, |row| {
        let schema: Option<String> = row.get(4)?;
        let in_extension: Option<bool> = row.get(6)?;
        if in_extension == Some(true) || ignored_schema(schema.as_deref()) {
            return Ok(None);
        }
        let object_type: Option<String> = row.get(2)?;
        let objid: Option<pg_sys::Oid> = row.get(5)?;
        // the table of an index: once the index is dropped, the catalog no longer says
        let parent = match (object_type.as_deref(), objid) {
            (Some("index"), Some(oid)) => Some(unsafe { pg_sys::IndexGetRelation(oid, true) })
                .filter(|&t| t != pg_sys::InvalidOid),
            _ => None,
        };
        Ok(Some(Command {
            tag: row.get(1)?,
            object_type,
            identity: row.get(3)?,
            schema,
            objid,
            parent,
        }))
    })
}

/// The objects the statement dropped: those it named, and what went with
/// them.
fn dropped_objects() -> Vec<Command> {
    with_kept_plan(&DROPPED_PLAN, DROPPED, |row| {
        let object_type: Option<String> = row.get(1)?;
        let schema: Option<String> = row.get(3)?;
        let original: Option<bool> = row.get(5)?;
        let kept = original == Some(true)
            || object_type
                .as_deref()
                .is_some_and(|t| DEPENDENT_KINDS.contains(&t));
        if !kept || ignored_schema(schema.as_deref()) {
            return Ok(None);
        }
        Ok(Some(Command {
            tag: None,
            object_type,
            identity: row.get(2)?,
            schema,
            objid: row.get(4)?,
            parent: None,
        }))
    })
}

/// Confiture's own objects, and TOAST tables and their indexes (they come
/// and go with the tables they belong to).
fn ignored_schema(schema: Option<&str>) -> bool {
    matches!(schema, Some("confiture" | "pg_toast"))
}

/// Run a query prepared once per backend (under the pinned search_path)
/// and collect the rows `take` keeps.
fn with_kept_plan<T>(
    plan: &'static std::thread::LocalKey<RefCell<Option<OwnedPreparedStatement>>>,
    sql: &str,
    mut take: impl FnMut(
        &pgrx::spi::SpiHeapTupleData,
    ) -> std::result::Result<Option<T>, pgrx::spi::SpiError>,
) -> Vec<T> {
    plan.with(|cell| {
        Spi::connect_mut(|c| {
            let mut cell = cell.borrow_mut();
            if cell.is_none() {
                *cell = Some(c.prepare_mut(sql, &[])?.keep());
            }
            let prepared = cell.as_ref().expect("prepared above");
            let mut out = Vec::new();
            for row in c.update(prepared, None, &[])? {
                if let Some(t) = take(&row)? {
                    out.push(t);
                }
            }
            Ok(out)
        })
    })
    .unwrap_or_else(|e: pgrx::spi::SpiError| Error::from(e).raise())
}

/// The text of the top-level statement being executed: inside
/// `confiture.migrate`, the migration's statement; otherwise the statement
/// of the active portal, cut from its query string where the plan says it
/// lies (no parsing). None when there is no statement text at all.
fn statement_text() -> Option<String> {
    if let Some(s) = context::current_statement() {
        return Some(s);
    }
    unsafe {
        let portal = pg_sys::ActivePortal;
        if !portal.is_null() && !(*portal).sourceText.is_null() {
            let source = (*portal).sourceText;
            let stmts = pgrx::list::PgList::<pg_sys::Node>::from_pg((*portal).stmts);
            if let Some(node) = stmts.get_ptr(0) {
                if !node.is_null() && (*node).type_ == pg_sys::NodeTag::T_PlannedStmt {
                    let planned = node as *mut pg_sys::PlannedStmt;
                    let (location, len) = ((*planned).stmt_location, (*planned).stmt_len);
                    if location >= 0 {
                        let start = source.add(location as usize);
                        let bytes = if len > 0 {
                            std::slice::from_raw_parts(start as *const u8, len as usize)
                        } else {
                            CStr::from_ptr(start).to_bytes()
                        };
                        return Some(trimmed(bytes));
                    }
                }
            }
            return Some(trimmed(CStr::from_ptr(source).to_bytes()));
        }
        let q = pg_sys::debug_query_string;
        (!q.is_null()).then(|| trimmed(CStr::from_ptr(q).to_bytes()))
    }
}

/// A statement's text without the comments and blanks around it and
/// without its semicolon, as the migration runner cuts statements.
fn trimmed(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    confiture_core::source::statement_span(&text, 0, 0)
        .text(&text)
        .to_owned()
}

/// Write the buffered rows to `confiture.ddl_log` now, as the extension's
/// owner with each row's role given explicitly. A failure is a WARNING:
/// the DDL ran, only its entries are missing.
pub fn flush() {
    let rows = BUFFER.with(|b| std::mem::take(&mut *b.borrow_mut()));
    if rows.is_empty() {
        return;
    }
    let n = rows.len();
    // at commit the statement's snapshot is gone: SPI needs one
    let pushed = unsafe {
        let missing = !pg_sys::ActiveSnapshotSet();
        if missing {
            pg_sys::PushActiveSnapshot(pg_sys::GetTransactionSnapshot());
        }
        missing
    };
    let written =
        Subtransaction::new().run(|| write(rows).unwrap_or_else(|e| e.report(PgLogLevel::ERROR)));
    if pushed {
        unsafe { pg_sys::PopActiveSnapshot() };
    }
    if let Err(f) = written {
        Error::new(
            Kind::Internal,
            format!(
                "confiture could not record {n} DDL command(s): {}",
                f.message
            ),
        )
        .detail("The statements ran; only their entries in confiture.ddl_log are missing.")
        .hint("Check that extension confiture is intact (its table confiture.ddl_log).")
        .warn();
    }
}

fn write(rows: Vec<Row>) -> Result<()> {
    let mut at = Vec::with_capacity(rows.len());
    let mut role = Vec::with_capacity(rows.len());
    let mut tag = Vec::with_capacity(rows.len());
    let mut object_type = Vec::with_capacity(rows.len());
    let mut identity = Vec::with_capacity(rows.len());
    let mut schema = Vec::with_capacity(rows.len());
    let mut objid = Vec::with_capacity(rows.len());
    let mut statement = Vec::with_capacity(rows.len());
    let mut version = Vec::with_capacity(rows.len());
    let mut dropped = Vec::with_capacity(rows.len());
    let mut parent = Vec::with_capacity(rows.len());
    for r in rows {
        at.push(r.at);
        role.push(r.role);
        tag.push(r.tag);
        object_type.push(r.object_type);
        identity.push(r.identity);
        schema.push(r.schema);
        objid.push(r.objid);
        statement.push(r.statement);
        version.push(r.version);
        dropped.push(r.dropped);
        parent.push(r.parent);
    }
    crate::security::as_owner(|| {
        INSERT_PLAN
            .with(|cell| {
                Spi::connect_mut(|c| {
                    let mut cell = cell.borrow_mut();
                    if cell.is_none() {
                        use pg_sys::PgBuiltInOids as O;
                        let types = [
                            O::INT8ARRAYOID,
                            O::TEXTARRAYOID,
                            O::TEXTARRAYOID,
                            O::TEXTARRAYOID,
                            O::TEXTARRAYOID,
                            O::TEXTARRAYOID,
                            O::OIDARRAYOID,
                            O::TEXTARRAYOID,
                            O::TEXTARRAYOID,
                            O::BOOLARRAYOID,
                            O::OIDARRAYOID,
                        ]
                        .map(PgOid::BuiltIn);
                        *cell = Some(c.prepare_mut(INSERT, &types)?.keep());
                    }
                    let prepared = cell.as_ref().expect("prepared above");
                    c.update(
                        prepared,
                        None,
                        &[
                            at.into(),
                            role.into(),
                            tag.into(),
                            object_type.into(),
                            identity.into(),
                            schema.into(),
                            objid.into(),
                            statement.into(),
                            version.into(),
                            dropped.into(),
                            parent.into(),
                        ],
                    )
                    .map(|_| ())
                })
            })
            .map_err(|e: pgrx::spi::SpiError| Error::from(e).into())
    })
}

/// `confiture.ddl_log_flush()`: write this session's buffered DDL log rows
/// now (the history functions call it before they read the log). Only ever
/// writes what this session's own DDL produced.
#[pg_extern(volatile, parallel_unsafe)]
fn ddl_log_flush() {
    let _entered = crate::security::enter();
    flush();
}

fn ensure_callbacks() {
    if CALLBACKS.with(|c| c.replace(true)) {
        return;
    }
    unsafe {
        pg_sys::RegisterXactCallback(Some(xact_callback), std::ptr::null_mut());
        pg_sys::RegisterSubXactCallback(Some(subxact_callback), std::ptr::null_mut());
    }
}

fn buffered() -> bool {
    BUFFER.with(|b| !b.borrow().is_empty())
}

#[pg_guard]
unsafe extern "C-unwind" fn xact_callback(
    event: pg_sys::XactEvent::Type,
    _arg: *mut std::ffi::c_void,
) {
    use pg_sys::XactEvent::*;
    match event {
        XACT_EVENT_PRE_COMMIT | XACT_EVENT_PRE_PREPARE if buffered() => {
            let _entered = crate::security::enter();
            flush();
        }
        XACT_EVENT_ABORT | XACT_EVENT_PARALLEL_ABORT | XACT_EVENT_COMMIT | XACT_EVENT_PREPARE => {
            BUFFER.with(|b| b.borrow_mut().clear());
        }
        _ => {}
    }
}

#[pg_guard]
unsafe extern "C-unwind" fn subxact_callback(
    event: pg_sys::SubXactEvent::Type,
    subxact: pg_sys::SubTransactionId,
    _parent: pg_sys::SubTransactionId,
    _arg: *mut std::ffi::c_void,
) {
    // every subtransaction started after the one that aborts is nested in it
    if event == pg_sys::SubXactEvent::SUBXACT_EVENT_ABORT_SUB {
        BUFFER.with(|b| b.borrow_mut().retain(|r| r.subxact < subxact));
    }
}
