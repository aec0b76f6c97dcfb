//! Masking views: one schema per profile (`confiture_masked_<profile>`), one
//! plain view per table the profile masks. The planner inlines them, so
//! `LIMIT` stops early and filters reach the table's indexes; they are what
//! roles granted masked access read (never the tables, never the salt).
//!
//! The salt is not in the views' text (pg_views is world-readable): each
//! view reads it with a scalar subquery of `confiture.anon_profiles`, which
//! the view's owner (confiture's owner) may read and its readers may not.
//! Because the views run with their owner's rights, profiles whose rules
//! carry SQL of their own (conditions, custom functions) get views only when
//! that SQL's author, the profile's owner, is a superuser.

use super::profile::{require_profile, require_profile_owner, table_rules_salted};
use crate::error::{fail, require, Error, Kind, Result};
use crate::migrate::ledger::first_value;
use crate::privilege::require_admin;
use confiture_core::sql::quote_literal;
use pgrx::prelude::*;

/// The schema of a profile's masking views.
fn schema_name(profile: &str) -> Result<String> {
    let name = format!("confiture_masked_{profile}");
    if name.len() > 63 {
        return fail(
            Error::new(
                Kind::InvalidArgument,
                format!("profile name {profile:?} is too long for a schema of masking views"),
            )
            .detail(format!(
                "The views live in schema {name:?}, longer than PostgreSQL's 63 bytes."
            ))
            .hint("Use a profile name of at most 46 bytes."),
        );
    }
    Ok(name)
}

fn quote_ident(s: &str) -> Result<String> {
    Ok(
        first_value::<String>("SELECT pg_catalog.quote_ident($1)", &[s.into()])?
            .unwrap_or_default(),
    )
}

fn schema_exists(name: &str) -> Result<bool> {
    Ok(first_value::<bool>(
        "SELECT true FROM pg_catalog.pg_namespace WHERE nspname OPERATOR(pg_catalog.=) $1",
        &[name.into()],
    )?
    .is_some())
}

/// The tables a profile masks (not skipped), with their view names: the
/// table's name, prefixed with its schema outside `public`.
fn profile_tables(profile: &str) -> Result<Vec<(String, String)>> {
    Spi::connect_mut(|c| {
        c.update(
            "SELECT DISTINCT r.table_name::text,
                    CASE WHEN n.nspname OPERATOR(pg_catalog.=) 'public' THEN k.relname::text
                         ELSE n.nspname OPERATOR(pg_catalog.||) '_' OPERATOR(pg_catalog.||) k.relname END
               FROM confiture.anon_rules r
               JOIN pg_catalog.pg_class k ON k.oid OPERATOR(pg_catalog.=) r.table_name
               JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) k.relnamespace
              WHERE r.profile OPERATOR(pg_catalog.=) $1
                AND NOT EXISTS (SELECT FROM confiture.anon_skipped s
                                 WHERE s.profile OPERATOR(pg_catalog.=) r.profile
                                   AND s.table_name OPERATOR(pg_catalog.=) r.table_name)
              ORDER BY 1",
            None,
            &[profile.into()],
        )?
        .map(|r| {
            Ok((
                r.get::<String>(1)?.unwrap_or_default(),
                r.get::<String>(2)?.unwrap_or_default(),
            ))
        })
        .collect::<std::result::Result<Vec<_>, pgrx::spi::SpiError>>()
    })
    .map_err(|e| Error::from(e).into())
}

/// (Re)create the profile's schema of views, and grant them again to the
/// roles with masked access. Runs as confiture's owner.
fn build(profile: &str) -> Result<Vec<(String, String)>> {
    let schema = schema_name(profile)?;
    let qschema = quote_ident(&schema)?;
    let owner = first_value::<String>(
        "SELECT owner::text FROM confiture.anon_profiles WHERE name OPERATOR(pg_catalog.=) $1",
        &[profile.into()],
    )?
    .unwrap_or_default();
    let owner_oid = crate::security::role_oid(&owner).unwrap_or(pg_sys::InvalidOid);
    let owner_is_superuser = crate::security::is_superuser(owner_oid);
    let tables = profile_tables(profile)?;
    let salt_sql = format!(
        "(SELECT confiture_p.salt FROM confiture.anon_profiles confiture_p WHERE confiture_p.name OPERATOR(pg_catalog.=) {})",
        quote_literal(profile)
    );
    let mut views = Vec::with_capacity(tables.len());
    for (table, view) in &tables {
        pgrx::check_for_interrupts!();
        // the views read the table with their owner's rights: only for a
        // profile owner who may read it
        let readable = first_value::<bool>(
            "SELECT pg_catalog.has_table_privilege($1::regrole, $2::regclass, 'SELECT')",
            &[owner.clone().into(), table.clone().into()],
        )?
        .unwrap_or(false);
        if !readable && !owner_is_superuser {
            return fail(
                Error::new(
                    Kind::InsufficientPrivilege,
                    format!("profile {profile}'s owner {owner} may not read {table}"),
                )
                .detail("Masking views read their tables with confiture's rights; they are made only for tables the profile's owner may read.")
                .hint(format!("GRANT SELECT ON {table} TO {owner}, or skip the table with confiture.skip_table.")),
            );
        }
        let rules = table_rules_salted(profile, table, &salt_sql)?;
        if !owner_is_superuser
            && rules
                .iter()
                .any(|(_, _, cond, s)| cond.is_some() || s == "custom")
        {
            return fail(
                Error::new(
                    Kind::InsufficientPrivilege,
                    format!("profile {profile} has rules with SQL of their own on {table}"),
                )
                .detail("A condition or a custom function in a masking view would run with the view owner's rights, not its author's.")
                .hint("Ask a superuser to own the profile, or mask without conditions and custom functions."),
            );
        }
        views.push((
            table.clone(),
            format!("{qschema}.{}", quote_ident(view)?),
            crate::anon::profile::masked_select(table, &rules)?,
        ));
    }
    let roles = Spi::connect_mut(|c| {
        c.update(
            "SELECT pg_catalog.quote_ident(role_name) FROM confiture.anon_masked_access
              WHERE profile OPERATOR(pg_catalog.=) $1 ORDER BY 1",
            None,
            &[profile.into()],
        )?
        .map(|r| r.get::<String>(1).map(|v| v.unwrap_or_default()))
        .collect::<std::result::Result<Vec<_>, pgrx::spi::SpiError>>()
    })
    .map_err(Error::from)?;
    let spi =
        |e: pgrx::spi::SpiError| -> pgrx::pg_sys::panic::ErrorReport { Error::from(e).into() };
    crate::security::as_owner(|| {
        Spi::run(&format!("DROP SCHEMA IF EXISTS {qschema} CASCADE")).map_err(spi)?;
        Spi::run(&format!("CREATE SCHEMA {qschema}")).map_err(spi)?;
        for (_, view, query) in &views {
            Spi::run(&format!("CREATE VIEW {view} AS {query}")).map_err(spi)?;
        }
        for role in &roles {
            // only roles that still exist
            if first_value::<bool>(
                "SELECT true FROM pg_catalog.pg_roles WHERE pg_catalog.quote_ident(rolname) OPERATOR(pg_catalog.=) $1",
                &[role.clone().into()],
            )?
            .is_none()
            {
                continue;
            }
            Spi::run(&format!("GRANT USAGE ON SCHEMA {qschema} TO {role}")).map_err(spi)?;
            Spi::run(&format!(
                "GRANT SELECT ON ALL TABLES IN SCHEMA {qschema} TO {role}"
            ))
            .map_err(spi)?;
        }
        Ok(())
    })?;
    Ok(views.into_iter().map(|(t, v, _)| (t, v)).collect())
}

/// After a rule changes: rebuild the views if the profile has them.
pub fn refresh_if_present(profile: &str) -> Result<()> {
    if schema_exists(&schema_name(profile)?)? {
        build(profile)?;
    }
    Ok(())
}

/// Create (or rebuild) a profile's masking views; returns each table and
/// its view. Rebuild them after changing a masked table's columns.
#[pg_extern(sql = r#"
CREATE FUNCTION confiture.create_masking_views(profile text)
RETURNS TABLE (table_name text, view_name text)
LANGUAGE c AS 'MODULE_PATHNAME', '@FUNCTION_NAME@';
"#)]
fn create_masking_views(
    profile: Option<String>,
) -> Result<TableIterator<'static, (name!(table_name, String), name!(view_name, String))>> {
    let _entered = crate::security::enter();
    const F: &str = "confiture.create_masking_views";
    let profile = require(profile, F, "profile")?;
    require_admin(F)?;
    require_profile_owner(&profile)?;
    Ok(TableIterator::new(build(&profile)?))
}

/// Drop a profile's masking views (a masked table's column can then be dropped).
#[pg_extern]
fn drop_masking_views(profile: Option<String>) -> Result<bool> {
    let _entered = crate::security::enter();
    const F: &str = "confiture.drop_masking_views";
    let profile = require(profile, F, "profile")?;
    require_admin(F)?;
    require_profile_owner(&profile)?;
    let qschema = quote_ident(&schema_name(&profile)?)?;
    crate::security::as_owner(|| {
        Spi::run(&format!("DROP SCHEMA IF EXISTS {qschema} CASCADE"))
            .map_err(|e| Error::from(e).into())
    })?;
    Ok(true)
}

/// The masking view of a table under a profile (schema-qualified), or NULL
/// when the profile has no views.
#[pg_extern(
    stable,
    sql = r#"
CREATE FUNCTION confiture.masking_view("table" regclass, profile text)
RETURNS text STABLE LANGUAGE c AS 'MODULE_PATHNAME', '@FUNCTION_NAME@';
"#
)]
fn masking_view(table: Option<pg_sys::Oid>, profile: Option<String>) -> Result<Option<String>> {
    let _entered = crate::security::enter();
    const F: &str = "confiture.masking_view";
    let table = require(table, F, "table")?;
    let profile = require(profile, F, "profile")?;
    require_profile(&profile)?;
    let schema = schema_name(&profile)?;
    first_value::<String>(
        "SELECT pg_catalog.quote_ident(n.nspname) OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(
                    CASE WHEN tn.nspname OPERATOR(pg_catalog.=) 'public' THEN k.relname::text
                         ELSE tn.nspname OPERATOR(pg_catalog.||) '_' OPERATOR(pg_catalog.||) k.relname END)
           FROM pg_catalog.pg_class k
           JOIN pg_catalog.pg_namespace tn ON tn.oid OPERATOR(pg_catalog.=) k.relnamespace
           JOIN pg_catalog.pg_namespace n ON n.nspname OPERATOR(pg_catalog.=) $2
          WHERE k.oid OPERATOR(pg_catalog.=) $1
            AND EXISTS (SELECT FROM pg_catalog.pg_class v WHERE v.relnamespace OPERATOR(pg_catalog.=) n.oid
                          AND v.relname OPERATOR(pg_catalog.=) CASE WHEN tn.nspname OPERATOR(pg_catalog.=) 'public' THEN k.relname::text
                                                                    ELSE tn.nspname OPERATOR(pg_catalog.||) '_' OPERATOR(pg_catalog.||) k.relname END)",
        &[table.into(), schema.into()],
    )
}

/// Let `role` read the profile's masking views (created if needed): never
/// the tables, never the salt.
#[pg_extern(sql = r#"
CREATE FUNCTION confiture.grant_masked_access(profile text, role regrole)
RETURNS boolean LANGUAGE c AS 'MODULE_PATHNAME', '@FUNCTION_NAME@';
"#)]
fn grant_masked_access(profile: Option<String>, role: Option<pg_sys::Oid>) -> Result<bool> {
    let _entered = crate::security::enter();
    const F: &str = "confiture.grant_masked_access";
    let profile = require(profile, F, "profile")?;
    let role = require(role, F, "role")?;
    require_admin(F)?;
    require_profile_owner(&profile)?;
    let name = crate::security::role_name(role).unwrap_or_default();
    if crate::security::is_superuser(role) {
        return fail(
            Error::new(Kind::InvalidArgument, format!("role {name} is a superuser"))
                .detail("A superuser reads every table; masked access would not restrict it.")
                .hint("Grant masked access to a role without SUPERUSER."),
        );
    }
    crate::security::as_owner(|| {
        Spi::run_with_args(
            "INSERT INTO confiture.anon_masked_access (profile, role_name) VALUES ($1, $2)
             ON CONFLICT DO NOTHING",
            &[profile.clone().into(), name.clone().into()],
        )
        .map_err(|e| Error::from(e).into())
    })?;
    build(&profile)?;
    Ok(true)
}

#[pg_extern(sql = r#"
CREATE FUNCTION confiture.revoke_masked_access(profile text, role regrole)
RETURNS boolean LANGUAGE c AS 'MODULE_PATHNAME', '@FUNCTION_NAME@';
"#)]
fn revoke_masked_access(profile: Option<String>, role: Option<pg_sys::Oid>) -> Result<bool> {
    let _entered = crate::security::enter();
    const F: &str = "confiture.revoke_masked_access";
    let profile = require(profile, F, "profile")?;
    let role = require(role, F, "role")?;
    require_admin(F)?;
    require_profile_owner(&profile)?;
    let name = crate::security::role_name(role).unwrap_or_default();
    let qschema = quote_ident(&schema_name(&profile)?)?;
    let qrole = quote_ident(&name)?;
    let had = schema_exists(&schema_name(&profile)?)?;
    crate::security::as_owner(|| {
        let run = || -> std::result::Result<(), pgrx::spi::SpiError> {
            Spi::run_with_args(
                "DELETE FROM confiture.anon_masked_access WHERE profile OPERATOR(pg_catalog.=) $1
                    AND role_name OPERATOR(pg_catalog.=) $2",
                &[profile.clone().into(), name.clone().into()],
            )?;
            if had {
                Spi::run(&format!(
                    "REVOKE SELECT ON ALL TABLES IN SCHEMA {qschema} FROM {qrole}"
                ))?;
                Spi::run(&format!("REVOKE USAGE ON SCHEMA {qschema} FROM {qrole}"))?;
            }
            Ok(())
        };
        run().map_err(|e| Error::from(e).into())
    })?;
    Ok(true)
}
