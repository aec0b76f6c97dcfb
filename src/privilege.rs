//! Who may change what: superusers, the extension's owner and members of
//! `confiture_admin`. Checked explicitly so the error says what to grant,
//! instead of a bare "permission denied for table migrations".

use crate::error::{Error, Kind, Result};
use pgrx::prelude::*;

/// The role every administrative function requires.
pub const ADMIN_ROLE: &str = "confiture_admin";

/// Fail with 42501 unless the current user may administer confiture.
pub fn require_admin(function: &str) -> Result<()> {
    let allowed = Spi::get_one::<bool>(
        "SELECT r.rolsuper
             OR r.oid = (SELECT extowner FROM pg_catalog.pg_extension WHERE extname = 'confiture')
             OR CASE WHEN EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'confiture_admin')
                     THEN pg_catalog.pg_has_role(r.oid, 'confiture_admin', 'MEMBER')
                     ELSE false END
           FROM pg_catalog.pg_roles r WHERE r.rolname = current_user",
    )
    .map_err(Error::from)?
    .unwrap_or(false);
    if allowed {
        Ok(())
    } else {
        Err(Error::new(Kind::InsufficientPrivilege, format!("permission denied for {function}"))
            .detail(format!(
                "Only superusers, the owner of extension confiture and members of role {ADMIN_ROLE} may call {function}."
            ))
            .hint(format!("A superuser can run: GRANT {ADMIN_ROLE} TO {};", current_role()))
            .into())
    }
}

fn current_role() -> String {
    Spi::get_one::<String>("SELECT quote_ident(current_user)")
        .ok()
        .flatten()
        .unwrap_or_else(|| "<role>".into())
}
