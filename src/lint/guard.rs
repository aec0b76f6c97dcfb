//! The DDL guard: an event trigger on `ddl_command_start` that lints each
//! DDL statement as the server runs it, per `confiture.lint_mode`: `off`
//! (returns at once), `warn` (a WARNING listing the findings), `enforce`
//! (an ERROR for findings of severity error: the statement does not run).
//! Statements run by `confiture.migrate` go through it too.

use crate::ddl::convert;
use crate::error::{Error, Kind};
use crate::guc::{LintMode, LINT_MODE};
use crate::migrate::context;
use confiture_core::lint::{self, ignore, Context, Finding, Severity};
use confiture_core::source::Span;
use pgrx::prelude::*;
use std::cell::RefCell;
use std::ffi::CStr;

pgrx::extension_sql!(
    r#"
CREATE FUNCTION confiture.ddl_guard() RETURNS event_trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'ddl_guard';
COMMENT ON FUNCTION confiture.ddl_guard() IS 'Confiture DDL guard: lints each DDL statement per confiture.lint_mode.';
CREATE EVENT TRIGGER confiture_lint_guard ON ddl_command_start
    EXECUTE FUNCTION confiture.ddl_guard();
"#,
    name = "lint_guard",
    requires = ["lint"]
);

#[no_mangle]
pub extern "C" fn pg_finfo_ddl_guard() -> &'static pg_sys::Pg_finfo_record {
    const V1: pg_sys::Pg_finfo_record = pg_sys::Pg_finfo_record { api_version: 1 };
    &V1
}

/// # Safety
/// Called by the server as an event trigger function.
#[pg_guard]
#[no_mangle]
pub unsafe extern "C-unwind" fn ddl_guard(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::Datum {
    let mode = LINT_MODE.get();
    if mode == LintMode::Off || pg_sys::creating_extension {
        return pg_sys::Datum::from(0);
    }
    let context_node = (*fcinfo).context;
    if context_node.is_null() || (*context_node).type_ != pg_sys::NodeTag::T_EventTriggerData {
        Error::new(
            Kind::WrongState,
            "confiture.ddl_guard() must be called as an event trigger",
        )
        .detail("It was called directly.")
        .hint("It runs by itself on every DDL statement; set confiture.lint_mode to control it.")
        .raise();
    }
    let _entered = crate::security::enter();
    let data = context_node as *mut pg_sys::EventTriggerData;
    let node = (*data).parsetree;
    if node.is_null() {
        return pg_sys::Datum::from(0);
    }
    // the statement's own text: exact inside confiture.migrate, else the query string
    let (text, leading) = match context::current().and_then(|c| c.statement.map(|s| (s, c.leading)))
    {
        Some((s, l)) => (s, l.unwrap_or_default()),
        None => {
            let q = pg_sys::debug_query_string;
            let q = if q.is_null() {
                String::new()
            } else {
                CStr::from_ptr(q).to_string_lossy().into_owned()
            };
            (q.clone(), q)
        }
    };
    let stmt = convert::statement(node, Span::new(0, text.len()));
    let mut ctx = Context {
        text,
        lock_timeout: lock_timeout_set(),
        ..Default::default()
    };
    STATE.with(|state| {
        let mut state = state.borrow_mut();
        state.start_transaction();
        state.script.default_schema = crate::ddl::state::current_schema();
        let mut existing = state.script.catalog.take().unwrap_or_default();
        crate::ddl::state::note_existing(&state.script, &stmt, &mut existing);
        state.script.catalog = Some(existing);
        ctx.state = state.script.clone();
    });
    // what this statement did, for the ones after it in the transaction
    // (not for a statement the guard rejects: it does not run)
    let remember = || STATE.with(|state| state.borrow_mut().script.after(&stmt));
    // cheap first pass with no configuration: most statements have no
    // finding and cost nothing more
    if lint::check(&stmt, &Default::default(), &ctx).is_empty() {
        remember();
        return pg_sys::Datum::from(0);
    }
    let config = STATE.with(|state| {
        let mut state = state.borrow_mut();
        if state.config.is_none() {
            state.config = Some(super::load_config().unwrap_or_else(|e| {
                e.report(PgLogLevel::ERROR);
                unreachable!()
            }));
        }
        state.config.clone().unwrap_or_default()
    });
    // the size of the tables it locks decides how serious a blocking lock is
    ctx.sizes = super::table_sizes(std::slice::from_ref(&stmt));
    ctx.lock_budget_ms = Some(super::lock_budget_ms());
    let ignored = ignore::file_ignores(&leading)
        .into_iter()
        .chain(ignore::statement_ignores(&leading, 0, leading.len()))
        .collect::<std::collections::BTreeSet<_>>();
    let findings: Vec<Finding> = lint::check(&stmt, &config, &ctx)
        .into_iter()
        .filter(|f| !ignored.contains(f.rule) && !ignored.contains("all"))
        .collect();
    if findings.is_empty() {
        remember();
        return pg_sys::Datum::from(0);
    }
    report(mode, &stmt.tag, &findings);
    remember();
    pg_sys::Datum::from(0)
}

fn lock_timeout_set() -> bool {
    unsafe {
        let v = pg_sys::GetConfigOption(c"lock_timeout".as_ptr(), true, false);
        !v.is_null() && lint::is_timeout(Some(&CStr::from_ptr(v).to_string_lossy()))
    }
}

/// What the guard remembers within one transaction: the tables created in
/// it (statements on them risk nothing) and the lint configuration (read
/// once, not per statement).
#[derive(Default)]
struct GuardState {
    lxid: u32,
    script: confiture_core::ddl::state::ScriptState,
    config: Option<confiture_core::lint::Config>,
}

impl GuardState {
    fn start_transaction(&mut self) {
        let lxid = unsafe {
            if pg_sys::MyProc.is_null() {
                0
            } else {
                (*pg_sys::MyProc).lxid
            }
        };
        if lxid != self.lxid {
            *self = GuardState {
                lxid,
                ..Default::default()
            };
        }
    }
}

thread_local! {
    static STATE: RefCell<GuardState> = RefCell::new(GuardState::default());
}

fn report(mode: LintMode, tag: &str, findings: &[Finding]) {
    let lines: Vec<String> = findings
        .iter()
        .map(|f| format!("{} ({}): {}", f.rule, f.severity.as_str(), f.message))
        .collect();
    let hints: Vec<&str> = findings.iter().map(|f| f.suggestion).collect();
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let where_ = match context::current_version() {
        Some(v) => format!(" (migration {v})"),
        None => String::new(),
    };
    if mode == LintMode::Enforce && errors > 0 {
        Error::new(Kind::LintViolation, format!("confiture.lint_mode = enforce rejected {tag}{where_}: {}", findings[0].message))
            .detail(lines.join("\n"))
            .hint(format!(
                "{} To run it anyway: -- confiture:ignore {} before the statement, or SET confiture.lint_mode = warn.",
                hints.join(" "),
                findings.iter().filter(|f| f.severity == Severity::Error).map(|f| f.rule).collect::<Vec<_>>().join(", ")
            ))
            .raise();
    }
    let e = Error::new(
        Kind::LintViolation,
        format!(
            "confiture lint: {} finding(s) in {tag}{where_}",
            findings.len()
        ),
    )
    .detail(lines.join("\n"))
    .hint(hints.join(" "));
    // info findings are information, not a warning
    if findings.iter().all(|f| f.severity == Severity::Info) {
        e.notice()
    } else {
        e.warn()
    }
}
