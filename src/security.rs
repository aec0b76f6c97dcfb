//! Who the code runs as, and under which search_path.
//!
//! Three rules, each one primitive here:
//!
//! * Every query the extension issues runs under `search_path = pg_catalog,
//!   pg_temp` ([`enter`], at the top of every SQL-callable function), so no
//!   function or operator another role created (`public.||(bigint, text)`)
//!   can be picked instead of the built-in one and run as the caller.
//! * Code a role registered (migrations, hooks, masking rules) runs with that
//!   role's privileges ([`as_role`]), under the caller's own search_path
//!   ([`with_caller_search_path`]), never with the caller's superuser rights.
//! * Confiture's own tables are written only by confiture ([`as_owner`]):
//!   roles read them, none writes them directly, so nobody can forge a
//!   ledger row that a superuser would later run.
//!
//! The switches use the server's own mechanisms: a GUC nest level (what a
//! function's `SET` clause does) and `SetUserIdAndSecContext` with
//! `SECURITY_LOCAL_USERID_CHANGE` (what `SECURITY DEFINER` does: `SET ROLE`
//! is refused inside). Both are undone when dropped, also while unwinding,
//! and by the server itself when a (sub)transaction aborts.

use crate::error::{Error, Kind, Result};
use pgrx::pg_sys;
use pgrx::prelude::*;
use std::cell::RefCell;
use std::ffi::{CStr, CString};

/// The search_path every internal query runs under.
pub const PINNED_SEARCH_PATH: &str = "pg_catalog, pg_temp";

thread_local! {
    /// The callers' search_paths, innermost last (functions nest: a hook
    /// may call confiture.lint).
    static CALLER_PATHS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    /// The roles that called them, innermost last.
    static INVOKERS: RefCell<Vec<pg_sys::Oid>> = const { RefCell::new(Vec::new()) };
}

/// A GUC value set for a scope; the previous value comes back on drop.
pub struct GucScope {
    nest_level: i32,
}

impl GucScope {
    /// Set `name = value` until the scope ends (like a function's SET clause).
    pub fn set(settings: &[(&str, &str)]) -> GucScope {
        Self::set_in(pg_sys::GucContext::PGC_USERSET, settings)
    }

    /// The same for superuser-only settings (`confiture.lint_mode`), which
    /// confiture itself may change for its own work.
    pub fn set_as_superuser(settings: &[(&str, &str)]) -> GucScope {
        Self::set_in(pg_sys::GucContext::PGC_SUSET, settings)
    }

    fn set_in(context: pg_sys::GucContext::Type, settings: &[(&str, &str)]) -> GucScope {
        unsafe {
            let nest_level = pg_sys::NewGUCNestLevel();
            for (name, value) in settings {
                let name = CString::new(*name).expect("GUC name");
                let value = CString::new(*value).unwrap_or_default();
                pg_sys::set_config_option(
                    name.as_ptr(),
                    value.as_ptr(),
                    context,
                    pg_sys::GucSource::PGC_S_SESSION,
                    pg_sys::GucAction::GUC_ACTION_SAVE,
                    true,
                    0,
                    false,
                );
            }
            GucScope { nest_level }
        }
    }
}

impl Drop for GucScope {
    fn drop(&mut self) {
        unsafe { pg_sys::AtEOXact_GUC(true, self.nest_level) }
    }
}

/// The current value of a setting, as SHOW prints it.
pub fn setting(name: &str) -> Option<String> {
    let name = CString::new(name).ok()?;
    unsafe {
        let v = pg_sys::GetConfigOption(name.as_ptr(), true, false);
        (!v.is_null()).then(|| CStr::from_ptr(v).to_string_lossy().into_owned())
    }
}

/// Entered at the top of every SQL-callable function: the search_path is
/// pinned until it returns, and the caller's is remembered for user code.
pub struct Entered {
    _path: GucScope,
}

impl Drop for Entered {
    fn drop(&mut self) {
        CALLER_PATHS.with(|p| p.borrow_mut().pop());
        INVOKERS.with(|p| p.borrow_mut().pop());
    }
}

#[must_use = "the search_path is pinned only while the guard lives"]
pub fn enter() -> Entered {
    let mut caller = setting("search_path").unwrap_or_default();
    // called from confiture itself (add_hook -> register): the caller is the outer one
    if caller == PINNED_SEARCH_PATH {
        if let Some(outer) = CALLER_PATHS.with(|p| p.borrow().last().cloned()) {
            caller = outer;
        }
    }
    CALLER_PATHS.with(|p| p.borrow_mut().push(caller));
    INVOKERS.with(|p| p.borrow_mut().push(current_role()));
    Entered {
        _path: GucScope::set(&[("search_path", PINNED_SEARCH_PATH)]),
    }
}

/// Run user code (a migration's statements, a hook) under the search_path
/// its caller had.
pub fn with_caller_search_path<T>(work: impl FnOnce() -> T) -> T {
    match CALLER_PATHS.with(|p| p.borrow().last().cloned()) {
        Some(path) => {
            let _scope = GucScope::set(&[("search_path", &path)]);
            work()
        }
        None => work(),
    }
}

/// The search_path of the innermost caller of a confiture function.
pub fn caller_search_path() -> Option<String> {
    CALLER_PATHS.with(|p| p.borrow().last().cloned())
}

/// The role that called the innermost confiture function (before any
/// switch to a registrant or to the owner).
pub fn invoker() -> pg_sys::Oid {
    INVOKERS
        .with(|p| p.borrow().last().copied())
        .unwrap_or_else(current_role)
}

/// Whose privileges and search_path registered code runs with.
#[derive(Debug, Clone, Default)]
pub struct Runner {
    /// None: the caller's (a trusted migration, or nothing registered).
    pub role: Option<pg_sys::Oid>,
    /// None: the caller's.
    pub search_path: Option<String>,
    /// What the code is, for error messages ("migration 7").
    pub what: String,
}

impl Runner {
    /// Run `work` as this runner, raising 42704 if its role was dropped.
    pub fn run<T>(&self, work: impl FnOnce() -> T) -> T {
        let Some(role) = self.role else {
            return with_caller_search_path(work);
        };
        if role_name(role).is_none() {
            Error::new(
                Kind::UndefinedObject,
                format!("the role that registered {} no longer exists", self.what),
            )
            .detail(format!(
                "{} runs with the privileges of the role that registered it (oid {}).",
                self.what,
                role.to_u32()
            ))
            .hint("Register it again as an existing role, or have a superuser mark it trusted.")
            .raise();
        }
        let _path = self
            .search_path
            .as_deref()
            .map(|p| GucScope::set(&[("search_path", p)]));
        as_role(role, work)
    }
}

/// The role whose privileges apply now (`current_user`).
pub fn current_role() -> pg_sys::Oid {
    unsafe { pg_sys::GetUserId() }
}

pub fn role_name(role: pg_sys::Oid) -> Option<String> {
    unsafe {
        let n = pg_sys::GetUserNameFromId(role, true);
        (!n.is_null()).then(|| CStr::from_ptr(n).to_string_lossy().into_owned())
    }
}

/// `current_user`'s name.
pub fn current_role_name() -> String {
    role_name(current_role()).unwrap_or_default()
}

pub fn is_superuser(role: pg_sys::Oid) -> bool {
    unsafe { pg_sys::superuser_arg(role) }
}

/// Does `member` have the privileges of `role` (itself, or through INHERIT)?
pub fn has_privs_of(member: pg_sys::Oid, role: pg_sys::Oid) -> bool {
    unsafe { pg_sys::has_privs_of_role(member, role) }
}

/// A role's oid by name, if it exists.
pub fn role_oid(name: &str) -> Option<pg_sys::Oid> {
    let c = CString::new(name).ok()?;
    let oid = unsafe { pg_sys::get_role_oid(c.as_ptr(), true) };
    (oid != pg_sys::InvalidOid).then_some(oid)
}

/// The owner of extension confiture: the role that owns its tables.
pub fn extension_owner() -> Result<pg_sys::Oid> {
    let owner = Spi::get_one::<pg_sys::Oid>(
        "SELECT extowner FROM pg_catalog.pg_extension WHERE extname OPERATOR(pg_catalog.=) 'confiture'",
    )
    .map_err(Error::from)?;
    owner.ok_or_else(|| {
        Error::new(
            Kind::Internal,
            "extension confiture is not installed in this database",
        )
        .hint("CREATE EXTENSION confiture;")
        .into()
    })
}

/// The user id and security context in force, restored on drop.
struct RoleScope {
    saved_user: pg_sys::Oid,
    saved_context: i32,
}

impl RoleScope {
    fn switch(role: pg_sys::Oid, extra_context: u32) -> RoleScope {
        unsafe {
            let mut saved_user = pg_sys::InvalidOid;
            let mut saved_context = 0;
            pg_sys::GetUserIdAndSecContext(&mut saved_user, &mut saved_context);
            pg_sys::SetUserIdAndSecContext(
                role,
                saved_context | pg_sys::SECURITY_LOCAL_USERID_CHANGE as i32 | extra_context as i32,
            );
            RoleScope {
                saved_user,
                saved_context,
            }
        }
    }
}

impl Drop for RoleScope {
    fn drop(&mut self) {
        unsafe { pg_sys::SetUserIdAndSecContext(self.saved_user, self.saved_context) }
    }
}

/// Run `work` with the privileges of `role` (as SECURITY DEFINER would;
/// `SET ROLE` and `SET SESSION AUTHORIZATION` are refused inside).
pub fn as_role<T>(role: pg_sys::Oid, work: impl FnOnce() -> T) -> T {
    if role == current_role() {
        return work();
    }
    let _scope = RoleScope::switch(role, 0);
    work()
}

/// Write confiture's own tables as the extension's owner. Only fixed,
/// schema-qualified queries run inside: no user code, no user functions.
pub fn as_owner<T>(work: impl FnOnce() -> Result<T>) -> Result<T> {
    let owner = extension_owner()?;
    let _scope = RoleScope::switch(owner, 0);
    work()
}

/// Refuse unless `role` is `owner` or has its privileges (or is a superuser).
pub fn require_privs_of(role: pg_sys::Oid, owner: pg_sys::Oid, what: &str) -> Result<()> {
    if is_superuser(role) || has_privs_of(role, owner) {
        return Ok(());
    }
    Err(Error::new(
        Kind::InsufficientPrivilege,
        format!("permission denied for {what}"),
    )
    .detail(format!(
        "It belongs to role {}; role {} is neither that role nor a member of it.",
        role_name(owner).unwrap_or_else(|| "(dropped)".into()),
        role_name(role).unwrap_or_default()
    ))
    .hint("Ask its owner or a superuser to do it.")
    .into())
}
