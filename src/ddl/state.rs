//! What the server knows that a file linter cannot: the schema unqualified
//! names resolve to, and whether a `CREATE TABLE IF NOT EXISTS` would
//! create anything. Syscache lookups only (no SPI): the DDL guard calls
//! these on every statement.

use confiture_core::ddl::state::ScriptState;
use confiture_core::ddl::{Statement, StatementKind};
use pgrx::pg_sys;
use std::collections::BTreeSet;
use std::ffi::{CStr, CString};

/// `current_schema()` of the caller (not of confiture's pinned search
/// path): the first schema of their search path that exists.
pub fn current_schema() -> Option<String> {
    crate::security::with_caller_search_path(caller_current_schema)
}

fn caller_current_schema() -> Option<String> {
    unsafe {
        let path = pg_sys::fetch_search_path(false);
        if path.is_null() || (*path).length < 1 {
            return None;
        }
        let oid = (*(*path).elements).oid_value;
        pg_sys::list_free(path);
        let name = pg_sys::get_namespace_name(oid);
        (!name.is_null()).then(|| CStr::from_ptr(name).to_string_lossy().into_owned())
    }
}

/// Does relation `schema.name` exist?
pub fn relation_exists(schema: &str, name: &str) -> bool {
    let (Ok(s), Ok(n)) = (CString::new(schema), CString::new(name)) else {
        return false;
    };
    unsafe {
        let nsp = pg_sys::get_namespace_oid(s.as_ptr(), true);
        nsp != pg_sys::InvalidOid
            && pg_sys::get_relname_relid(n.as_ptr(), nsp) != pg_sys::InvalidOid
    }
}

/// A script state that resolves names as this session does and knows,
/// for every `CREATE TABLE IF NOT EXISTS` among `statements`, whether the
/// table exists already.
pub fn script_state(statements: &[Statement]) -> ScriptState {
    let mut state = ScriptState::with_default_schema(current_schema());
    let mut existing = BTreeSet::new();
    for s in statements {
        note_existing(&state, s, &mut existing);
    }
    state.catalog = Some(existing);
    state
}

/// Add `stmt`'s table to `existing` when it is a `CREATE TABLE IF NOT EXISTS`
/// of a table the catalog has.
pub fn note_existing(state: &ScriptState, stmt: &Statement, existing: &mut BTreeSet<String>) {
    if let StatementKind::CreateTable(t) = &stmt.kind {
        if t.if_not_exists && !t.temporary {
            let schema = state.resolved_schema(&t.name);
            if relation_exists(&schema, &t.name.name) {
                existing.insert(format!("{schema}.{}", t.name.name));
            }
        }
    }
}
