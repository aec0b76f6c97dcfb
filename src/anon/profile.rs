//! Profiles and rules (validated when declared), the masking query of a
//! table, and in-place masking.

use crate::error::{fail, require, Error, Kind, Result};
use crate::migrate::ledger::first_value;
use crate::privilege::require_admin;
use confiture_core::anon::rules::{self, Column, RuleError};
use confiture_core::anon::STRATEGIES;
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::Value;
use std::time::Instant;

/// Every strategy: options, whether it keeps values distinct, reversible.
#[pg_extern(immutable, parallel_safe)]
fn strategies() -> TableIterator<
    'static,
    (
        name!(strategy, String),
        name!(options, String),
        name!(injective, bool),
        name!(reversible, bool),
        name!(changes_every_value, bool),
        name!(may_keep, Option<String>),
        name!(description, String),
    ),
> {
    TableIterator::new(STRATEGIES.iter().map(|s| {
        (
            s.name.into(),
            s.options.into(),
            s.injective,
            s.reversible,
            s.may_keep.is_none(),
            s.may_keep.map(str::to_owned),
            s.description.into(),
        )
    }))
}

/// Declare a profile. Its salt, when given, is readable only by its owner
/// and superusers; without one, `confiture.anon_salt` is used.
#[pg_extern]
fn create_profile(name: Option<String>, salt: default!(Option<String>, "NULL")) -> Result<String> {
    let _entered = crate::security::enter();
    const F: &str = "confiture.create_profile";
    let name = require(name, F, "name")?;
    require_admin(F)?;
    if name.trim().is_empty() {
        return fail(
            Error::new(Kind::InvalidArgument, "a profile's name cannot be empty")
                .detail("Profiles are named in add_rule, anonymize and anonymized.")
                .hint("Pass a name such as 'qa'."),
        );
    }
    if salt.as_deref().is_some_and(|s| s.len() < 8) {
        return fail(Error::new(Kind::InvalidArgument, "the salt is too short")
            .detail("A short salt lets masked values be recomputed from guesses.")
            .hint("Use at least 16 random characters, e.g. encode(gen_random_bytes(24), 'base64')."));
    }
    if first_value::<bool>(
        "SELECT true FROM confiture.anon_profiles WHERE name = $1",
        &[name.clone().into()],
    )?
    .is_some()
    {
        return fail(
            Error::new(
                Kind::DuplicateObject,
                format!("profile {name} already exists"),
            )
            .detail("Profile names are unique.")
            .hint("Add rules to it with confiture.add_rule, or choose another name."),
        );
    }
    // No salt given: a random 256-bit one, never a shared default.
    let salt = match salt {
        Some(s) => s,
        None => random_salt()?,
    };
    let owner = crate::security::current_role_name();
    crate::security::as_owner(|| {
        Spi::run_with_args(
            "INSERT INTO confiture.anon_profiles (name, salt, owner) VALUES ($1, $2, $3)",
            &[name.clone().into(), salt.into(), owner.into()],
        )
        .map_err(|e| Error::from(e).into())
    })?;
    Ok(name)
}

/// 32 bytes from the server's strong random source, as hex.
fn random_salt() -> Result<String> {
    let mut buf = [0u8; 32];
    if !unsafe { pg_sys::pg_strong_random(buf.as_mut_ptr().cast(), buf.len()) } {
        return fail(
            Error::new(Kind::Internal, "could not generate a random salt")
                .detail("pg_strong_random failed.")
                .hint("Pass a salt to confiture.create_profile."),
        );
    }
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// The profile's owner; an error when it does not exist.
fn profile_owner(name: &str) -> Result<pg_sys::Oid> {
    let owner = first_value::<String>(
        "SELECT owner::text FROM confiture.anon_profiles WHERE name = $1",
        &[name.into()],
    )?;
    match owner {
        Some(o) => Ok(crate::security::role_oid(&o).unwrap_or(pg_sys::InvalidOid)),
        None => fail(
            Error::new(
                Kind::UndefinedObject,
                format!("anonymization profile {name} does not exist"),
            )
            .detail("confiture.anon_profiles has no profile of that name.")
            .hint("Create it with confiture.create_profile(name, salt)."),
        ),
    }
}

pub fn require_profile(name: &str) -> Result<()> {
    profile_owner(name).map(|_| ())
}

/// A profile's rules and salt are its owner's: only the owner (or a member
/// of the owning role, or a superuser) may change or use them.
pub fn require_profile_owner(name: &str) -> Result<pg_sys::Oid> {
    let owner = profile_owner(name)?;
    crate::security::require_privs_of(
        crate::security::invoker(),
        owner,
        &format!("anonymization profile {name}"),
    )?;
    Ok(owner)
}

/// A profile's salt, for its owner (and members of the owning role) and
/// superusers; read as confiture's owner, since no role reads the table.
#[pg_extern(volatile, parallel_unsafe)]
fn profile_salt(profile: Option<String>) -> Result<String> {
    let _entered = crate::security::enter();
    let profile = require(profile, "confiture.profile_salt", "profile")?;
    require_profile_owner(&profile).map_err(|_| {
        Error::new(
            Kind::InsufficientPrivilege,
            format!("permission denied for the salt of profile {profile}"),
        )
        .detail("Only its owner and superusers may use a profile's salt.")
        .hint("Ask the owner, or a superuser, to run it.")
    })?;
    let salt = crate::security::as_owner(|| {
        first_value::<String>(
            "SELECT salt FROM confiture.anon_profiles WHERE name = $1",
            &[profile.clone().into()],
        )
    })?;
    salt.ok_or_else(|| {
        Error::new(
            Kind::InvalidArgument,
            format!("profile {profile} has no salt"),
        )
        .detail("Masking is deterministic under a salt.")
        .hint("Create the profile again with a salt.")
        .into()
    })
}

/// The column's quoted name, type, whether a unique key covers it and
/// whether it is NOT NULL, or an error naming the table.
fn column(table: &str, column: &str) -> Result<(String, String, bool, bool)> {
    let found = first_value::<JsonB>(
        "SELECT jsonb_build_object('quoted', quote_ident(a.attname), 'type', format_type(a.atttypid, a.atttypmod),
                                   'notnull', a.attnotnull,
                                   'unique', EXISTS (SELECT FROM pg_catalog.pg_constraint k WHERE k.conrelid = a.attrelid
                                                        AND k.contype IN ('p', 'u') AND a.attnum = ANY (k.conkey))
                                             OR EXISTS (SELECT FROM pg_catalog.pg_index i WHERE i.indrelid = a.attrelid
                                                        AND i.indisunique AND a.attnum = ANY (i.indkey::int2[])))
           FROM pg_catalog.pg_attribute a
          WHERE a.attrelid = $1::regclass AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped",
        &[table.into(), column.into()],
    )?;
    let Some(JsonB(v)) = found else {
        return Err(Error::new(
            Kind::UndefinedColumn,
            format!("column {column} of {table} does not exist"),
        )
        .detail("A rule names a column of the table.")
        .hint(format!("\\d {table} lists its columns."))
        .into());
    };
    Ok((
        v["quoted"].as_str().unwrap_or_default().to_owned(),
        v["type"].as_str().unwrap_or_default().to_owned(),
        v["unique"].as_bool().unwrap_or(false),
        v["notnull"].as_bool().unwrap_or(false),
    ))
}

/// Add (or replace) a rule: mask `column` of `table` with `strategy`.
/// Refused when the table or column does not exist, the strategy is unknown,
/// its options are wrong, its output does not fit the column's type, or a
/// non-injective strategy would break a UNIQUE or PRIMARY KEY.
#[pg_extern(sql = r#"
CREATE FUNCTION confiture.add_rule(profile text, "table" regclass, "column" text, strategy text,
                                   options jsonb DEFAULT '{}', condition text DEFAULT NULL)
RETURNS boolean LANGUAGE c AS 'MODULE_PATHNAME', '@FUNCTION_NAME@';
"#)]
fn add_rule(
    profile: Option<String>,
    table: Option<pg_sys::Oid>,
    column: Option<String>,
    strategy: Option<String>,
    options: default!(Option<JsonB>, "'{}'"),
    condition: default!(Option<String>, "NULL"),
) -> Result<bool> {
    let _entered = crate::security::enter();
    const F: &str = "confiture.add_rule";
    let profile = require(profile, F, "profile")?;
    let table = require(table, F, "table")?;
    let column_name = require(column, F, "column")?;
    let strategy = require(strategy, F, "strategy")?;
    let options = require(options, F, "options")?.0;
    require_admin(F)?;
    require_profile_owner(&profile)?;
    let table_name =
        first_value::<String>("SELECT $1::regclass::text", &[table.into()])?.unwrap_or_default();
    let (quoted, type_name, unique, notnull) = self::column(&table_name, &column_name)?;
    if strategy == "null" && notnull {
        return fail(
            Error::new(
                Kind::NotNullViolation,
                format!("strategy null cannot mask {table_name}.{column_name}: the column is NOT NULL"),
            )
            .detail(format!("{column_name} is declared NOT NULL; writing NULL into it would fail."))
            .hint("Use redact, hash or another strategy that writes a value, or drop the NOT NULL first."),
        );
    }
    if let Err(e) = rules::expression(
        &strategy,
        &options,
        &Column {
            quoted: &quoted,
            type_name: &type_name,
        },
        "$1",
    ) {
        return Err(rule_error(e, &table_name, &column_name).into());
    }
    let info = confiture_core::anon::strategy(&strategy).expect("validated above");
    if unique && !info.injective && strategy != "null" || unique && strategy == "null" {
        return fail(Error::new(Kind::UniqueViolation, format!(
            "strategy {strategy} would break the uniqueness of {table_name}.{column_name}"))
            .detail(format!("{column_name} is under a UNIQUE or PRIMARY KEY constraint, and {strategy} can map distinct values to the same one."))
            .hint("Use an injective strategy (hash, email, preserve) for this column."));
    }
    if let Some(cond) = &condition {
        let probe = format!("SELECT ({cond})::boolean FROM {table_name} LIMIT 0");
        if let Err(e) = crate::ddl::parse::parse(&probe) {
            return fail(
                Error::new(
                    Kind::SyntaxError,
                    format!("the rule's condition does not parse: {}", e.message),
                )
                .detail(format!("It is used as: {probe}"))
                .hint("Write a boolean SQL expression over the row's columns, e.g. NOT internal."),
            );
        }
    }
    crate::security::as_owner(|| {
        Spi::run_with_args(
            "INSERT INTO confiture.anon_rules (profile, table_name, column_name, strategy, options, condition)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (profile, table_name, column_name)
             DO UPDATE SET strategy = EXCLUDED.strategy, options = EXCLUDED.options, condition = EXCLUDED.condition",
            &[profile.clone().into(), table.into(), column_name.into(), strategy.into(), JsonB(options).into(), condition.into()],
        )
        .map_err(|e| Error::from(e).into())
    })?;
    super::masked::refresh_if_present(&profile)?;
    Ok(true)
}

fn rule_error(e: RuleError, table: &str, column: &str) -> Error {
    match e {
        RuleError::UnknownStrategy(s) => Error::new(Kind::InvalidArgument, format!("unknown masking strategy {s:?}"))
            .detail(format!("Strategies: {}.", STRATEGIES.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")))
            .hint("SELECT * FROM confiture.strategies() lists them with their options."),
        RuleError::Options(why) => Error::new(Kind::InvalidArgument, format!("invalid options for {table}.{column}"))
            .detail(format!("{why}."))
            .hint("SELECT * FROM confiture.strategies() lists each strategy's options."),
        RuleError::Type { strategy, column_type } => Error::new(
            Kind::DatatypeMismatch,
            format!("strategy {strategy} does not fit column {table}.{column} of type {column_type}"),
        )
        .detail("Its output cannot be stored in that column.")
        .hint("Choose a strategy for this type (SELECT * FROM confiture.strategies()), or hash with format => bigint/uuid."),
    }
}

/// Leave a table out of `anonymize` even if rules name it.
#[pg_extern(sql = r#"
CREATE FUNCTION confiture.skip_table(profile text, "table" regclass)
RETURNS boolean LANGUAGE c AS 'MODULE_PATHNAME', '@FUNCTION_NAME@';
"#)]
fn skip_table(profile: Option<String>, table: Option<pg_sys::Oid>) -> Result<bool> {
    let _entered = crate::security::enter();
    const F: &str = "confiture.skip_table";
    let profile = require(profile, F, "profile")?;
    let table = require(table, F, "table")?;
    require_admin(F)?;
    require_profile_owner(&profile)?;
    crate::security::as_owner(|| {
        Spi::run_with_args(
            "INSERT INTO confiture.anon_skipped VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[profile.clone().into(), table.into()],
        )
        .map_err(|e| Error::from(e).into())
    })?;
    super::masked::refresh_if_present(&profile)?;
    Ok(true)
}

/// One table's rules: (quoted column, expression, condition, strategy),
/// with the salt as `$1`.
pub fn table_rules(
    profile: &str,
    table: &str,
) -> Result<Vec<(String, String, Option<String>, String)>> {
    table_rules_salted(profile, table, "$1")
}

/// The same, with `salt` (SQL text) in place of the salt.
pub fn table_rules_salted(
    profile: &str,
    table: &str,
    salt: &str,
) -> Result<Vec<(String, String, Option<String>, String)>> {
    let rows = Spi::connect_mut(|c| {
        c.update(
            "SELECT column_name::text, strategy, options, condition FROM confiture.anon_rules
              WHERE profile = $1 AND table_name = $2::regclass ORDER BY column_name",
            None,
            &[profile.into(), table.into()],
        )?
        .map(|r| {
            Ok((
                r.get::<String>(1)?.unwrap_or_default(),
                r.get::<String>(2)?.unwrap_or_default(),
                r.get::<JsonB>(3)?.map(|j| j.0).unwrap_or(Value::Null),
                r.get::<String>(4)?,
            ))
        })
        .collect::<std::result::Result<Vec<_>, pgrx::spi::SpiError>>()
    })
    .map_err(Error::from)?;
    let mut out = Vec::with_capacity(rows.len());
    for (col, strategy, options, condition) in rows {
        let (quoted, type_name, ..) = column(table, &col)?;
        let expr = rules::expression(
            &strategy,
            &options,
            &Column {
                quoted: &quoted,
                type_name: &type_name,
            },
            salt,
        )
        .map_err(|e| rule_error(e, table, &col))?;
        // typed, so a view's column keeps the table's type
        let expr = if expr == "NULL" {
            format!("NULL::{type_name}")
        } else {
            expr
        };
        let expr = match &condition {
            Some(c) => format!("CASE WHEN ({c}) THEN {expr} ELSE {quoted} END"),
            None => expr,
        };
        out.push((quoted, expr, condition, strategy));
    }
    Ok(out)
}

/// `SELECT <every column, masked where a rule says> FROM table` with the
/// salt as `$1`: what `confiture.anonymized` runs.
#[pg_extern(sql = r#"
CREATE FUNCTION confiture.masking_query("table" regclass, profile text)
RETURNS text LANGUAGE c AS 'MODULE_PATHNAME', '@FUNCTION_NAME@';
"#)]
fn masking_query(table: Option<pg_sys::Oid>, profile: Option<String>) -> Result<String> {
    let _entered = crate::security::enter();
    const F: &str = "confiture.masking_query";
    let table = require(table, F, "table")?;
    let profile = require(profile, F, "profile")?;
    require_profile(&profile)?;
    let table_name =
        first_value::<String>("SELECT $1::regclass::text", &[table.into()])?.unwrap_or_default();
    let rules = table_rules(&profile, &table_name)?;
    masked_select(&table_name, &rules)
}

/// `SELECT <each column, masked where a rule says> FROM table`: the masking
/// query, and the body of a masking view.
pub fn masked_select(
    table: &str,
    rules: &[(String, String, Option<String>, String)],
) -> Result<String> {
    let columns = Spi::connect_mut(|c| {
        c.update(
            "SELECT pg_catalog.quote_ident(attname) FROM pg_catalog.pg_attribute
              WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            None,
            &[table.into()],
        )?
        .map(|r| r.get::<String>(1).map(|v| v.unwrap_or_default()))
        .collect::<std::result::Result<Vec<_>, pgrx::spi::SpiError>>()
    })
    .map_err(Error::from)?;
    let list: Vec<String> = columns
        .iter()
        .map(|c| match rules.iter().find(|(q, ..)| q == c) {
            Some((_, expr, ..)) => format!("{expr} AS {c}"),
            None => c.clone(),
        })
        .collect();
    Ok(format!("SELECT {} FROM {table}", list.join(", ")))
}

/// Foreign keys whose two sides a profile masks differently: masking them
/// would break the join.
pub fn inconsistent_foreign_keys(profile: &str) -> Result<Vec<String>> {
    Spi::connect_mut(|c| {
        c.update(
            "SELECT format('%s (%s.%s -> %s.%s): %s', k.conname, k.conrelid::regclass, ca.attname, k.confrelid::regclass, pa.attname,
                          CASE WHEN cr.strategy IS NULL THEN 'the referenced key is masked, the referencing column is not'
                               WHEN pr.strategy IS NULL THEN 'the referencing column is masked, the referenced key is not'
                               ELSE 'the two sides use different strategies or options' END)
               FROM pg_catalog.pg_constraint k
               CROSS JOIN LATERAL unnest(k.conkey, k.confkey) AS u(c, p)
               JOIN pg_catalog.pg_attribute ca ON ca.attrelid = k.conrelid AND ca.attnum = u.c
               JOIN pg_catalog.pg_attribute pa ON pa.attrelid = k.confrelid AND pa.attnum = u.p
               LEFT JOIN confiture.anon_rules cr ON cr.profile = $1 AND cr.table_name = k.conrelid AND cr.column_name = ca.attname
                                                 AND cr.strategy <> 'preserve'
               LEFT JOIN confiture.anon_rules pr ON pr.profile = $1 AND pr.table_name = k.confrelid AND pr.column_name = pa.attname
                                                 AND pr.strategy <> 'preserve'
              WHERE k.contype = 'f' AND (cr.strategy IS NOT NULL OR pr.strategy IS NOT NULL)
                AND (cr.strategy IS DISTINCT FROM pr.strategy OR cr.options IS DISTINCT FROM pr.options
                     OR cr.condition IS NOT NULL OR pr.condition IS NOT NULL)
              ORDER BY 1",
            None,
            &[profile.into()],
        )?
        .map(|r| r.get::<String>(1).map(|v| v.unwrap_or_default()))
        .collect::<std::result::Result<Vec<_>, pgrx::spi::SpiError>>()
    })
    .map_err(|e| Error::from(e).into())
}

/// Mask a profile's tables in place, one UPDATE per table, in one
/// transaction. Foreign keys keep matching because both sides are masked
/// the same way; a profile that would break one is refused first.
#[pg_extern(sql = r#"
CREATE FUNCTION confiture.anonymize(profile text, "table" regclass DEFAULT NULL)
RETURNS TABLE (table_name text, rows bigint, duration interval)
LANGUAGE c AS 'MODULE_PATHNAME', '@FUNCTION_NAME@';
"#)]
fn anonymize(
    profile: Option<String>,
    table: default!(Option<pg_sys::Oid>, "NULL"),
) -> Result<
    TableIterator<
        'static,
        (
            name!(table_name, String),
            name!(rows, i64),
            name!(duration, pgrx::datum::Interval),
        ),
    >,
> {
    let _entered = crate::security::enter();
    const F: &str = "confiture.anonymize";
    let profile = require(profile, F, "profile")?;
    require_admin(F)?;
    // the rules (their conditions are SQL) are the owner's: they run as the owner
    let owner = require_profile_owner(&profile)?;
    let broken = inconsistent_foreign_keys(&profile)?;
    if !broken.is_empty() {
        return fail(Error::new(Kind::ForeignKeyViolation, format!("profile {profile} would break {} foreign key(s)", broken.len()))
            .detail(broken.join("; "))
            .hint("Mask both sides of each foreign key with the same strategy and options (and no condition)."));
    }
    let salt = first_value::<String>(
        "SELECT confiture.profile_salt($1)",
        &[profile.clone().into()],
    )?
    .ok_or_else(|| {
        Error::new(
            Kind::InvalidArgument,
            format!("profile {profile} has no salt and confiture.anon_salt is not set"),
        )
        .detail("Masking is deterministic under a salt.")
        .hint("Create the profile with a salt, or set confiture.anon_salt.")
    })?;
    let tables: Vec<String> = Spi::connect_mut(|c| {
        c.update(
            "SELECT DISTINCT r.table_name::text FROM confiture.anon_rules r
              WHERE r.profile = $1 AND ($2::oid IS NULL OR r.table_name = $2::oid)
                AND NOT EXISTS (SELECT FROM confiture.anon_skipped s WHERE s.profile = r.profile AND s.table_name = r.table_name)
                AND r.strategy <> 'preserve'
              ORDER BY 1",
            None,
            &[profile.clone().into(), table.into()],
        )?
        .map(|r| r.get::<String>(1).map(|v| v.unwrap_or_default()))
        .collect::<std::result::Result<Vec<_>, pgrx::spi::SpiError>>()
    })
    .map_err(Error::from)?;
    // Every lock up front, all or none, in a fixed order: a concurrent
    // migrate cannot deadlock with us.
    lock_tables(&tables, owner, F)?;
    // Keys on both sides of a foreign key change in separate statements:
    // the checks would fail in between. Both sides get the same values, so
    // the checks are skipped while masking and the keys verified after.
    let fk_involved = first_value::<bool>(
        "SELECT true FROM confiture.anon_rules r JOIN pg_catalog.pg_constraint k
             ON k.contype = 'f' AND (k.conrelid = r.table_name OR k.confrelid = r.table_name)
          WHERE r.profile = $1 LIMIT 1",
        &[profile.clone().into()],
    )?
    .is_some();
    // A superuser pauses every trigger (replica mode); anyone else cannot,
    // so the foreign keys involved are deferred until the tables are masked.
    let superuser = crate::security::is_superuser(crate::security::current_role());
    let deferred = if fk_involved && !superuser {
        defer_foreign_keys(&tables, owner)?
    } else {
        Vec::new()
    };
    if fk_involved && superuser {
        Spi::run("SET LOCAL session_replication_role = replica").map_err(Error::from)?;
    }
    // No user trigger fires while masking, whoever runs it and whether a
    // foreign key is involved or not: an audit trigger would copy every
    // original value into its table. (Replica mode alone would still fire
    // ENABLE ALWAYS triggers, and only superusers may set it.)
    let paused = pause_user_triggers(&tables, owner)?;
    let mut out = Vec::with_capacity(tables.len());
    for t in &tables {
        pgrx::check_for_interrupts!();
        let rules = table_rules(&profile, t)?;
        let set: Vec<String> = rules
            .iter()
            .map(|(c, e, ..)| format!("{c} = {e}"))
            .collect();
        let started = Instant::now();
        let rows = crate::security::as_role(owner, || {
            Spi::connect_mut(|c| {
                c.update(
                    &format!("UPDATE {t} SET {}", set.join(", ")),
                    None,
                    &[salt.clone().into()],
                )
                .map(|r| r.len() as i64)
            })
        })
        .map_err(Error::from)?;
        out.push((
            t.clone(),
            rows,
            pgrx::datum::Interval::from_micros(started.elapsed().as_micros() as i64),
        ));
    }
    if fk_involved && superuser {
        Spi::run("SET LOCAL session_replication_role = origin").map_err(Error::from)?;
        verify_foreign_keys(&tables)?;
    }
    if !deferred.is_empty() {
        restore_foreign_keys(&deferred, owner)?;
    }
    resume_user_triggers(&paused, owner)?;
    Ok(TableIterator::new(out))
}

/// Lock the tables `anonymize` changes and the tables on the other side of
/// their foreign keys, ACCESS EXCLUSIVE, in oid order, all at once: NOWAIT
/// in a subtransaction, retried with nothing held in between, until
/// `lock_timeout` (or `confiture.lock_wait_timeout` when it is 0) runs out.
/// Never waiting while holding some of them, it cannot be one side of a
/// deadlock.
fn lock_tables(tables: &[String], owner: pg_sys::Oid, function: &str) -> Result<()> {
    if tables.is_empty() {
        return Ok(());
    }
    let all = first_value::<String>(
        "SELECT string_agg(t::regclass::text, ', ' ORDER BY t) FROM (
           SELECT unnest($1::regclass[])::oid AS t
           UNION SELECT k.confrelid FROM pg_catalog.pg_constraint k WHERE k.contype = 'f' AND k.conrelid = ANY ($1::regclass[])
           UNION SELECT k.conrelid FROM pg_catalog.pg_constraint k WHERE k.contype = 'f' AND k.confrelid = ANY ($1::regclass[])) s",
        &[tables.to_vec().into()],
    )?
    .unwrap_or_default();
    let bound_ms = first_value::<f64>(
        "SELECT extract(epoch FROM pg_catalog.current_setting('lock_timeout')::interval)::float8 * 1000",
        &[],
    )?
    .unwrap_or(0.0) as i64;
    let (bound_ms, source) = if bound_ms > 0 {
        (bound_ms, "lock_timeout")
    } else {
        (
            crate::guc::LOCK_WAIT_TIMEOUT.get() as i64,
            "confiture.lock_wait_timeout",
        )
    };
    let sql = format!("LOCK TABLE {all} IN ACCESS EXCLUSIVE MODE NOWAIT");
    let started = Instant::now();
    loop {
        let tried = crate::security::as_role(owner, || {
            crate::subxact::Subtransaction::new()
                .run(|| Spi::run(&sql).unwrap_or_else(|e| Error::from(e).raise()))
        });
        match tried {
            Ok(()) => return Ok(()),
            Err(f) if f.code() == "55P03" => {}
            Err(f) => f.rethrow(),
        }
        if bound_ms > 0 && started.elapsed().as_millis() as i64 >= bound_ms {
            let holders = first_value::<String>(
                "SELECT string_agg(DISTINCT l.pid::text, ', ') FROM pg_catalog.pg_locks l
                  WHERE l.granted AND l.pid <> pg_catalog.pg_backend_pid()
                    AND l.relation = ANY (pg_catalog.string_to_array($1, ', ')::regclass[])",
                &[all.clone().into()],
            )?
            .unwrap_or_else(|| "(unknown)".into());
            return fail(
                Error::new(Kind::LockNotAvailable, format!("{function} could not lock the tables it masks"))
                    .detail(format!("Sessions {holders} hold locks on {all}; waited {bound_ms} ms ({source}), holding none of them meanwhile."))
                    .hint(format!("Retry when they finish (see pg_stat_activity), or raise {source}.")),
            );
        }
        pgrx::check_for_interrupts!();
        unsafe { pg_sys::pg_usleep(10_000) };
    }
}

/// Disable the enabled user (not internal, so not foreign-key) triggers of
/// `tables`, as the owner may; returns (table, trigger, tgenabled) to put
/// back with [`resume_user_triggers`]. An error aborts the transaction,
/// which also undoes the ALTERs.
fn pause_user_triggers(
    tables: &[String],
    owner: pg_sys::Oid,
) -> Result<Vec<(String, String, String)>> {
    let triggers: Vec<(String, String, String)> = Spi::connect_mut(|c| {
        c.update(
            "SELECT t.tgrelid::regclass::text, pg_catalog.quote_ident(t.tgname), t.tgenabled::text
               FROM pg_catalog.pg_trigger t
              WHERE t.tgrelid = ANY ($1::regclass[]) AND NOT t.tgisinternal AND t.tgenabled <> 'D'
              ORDER BY 1, 2",
            None,
            &[tables.to_vec().into()],
        )?
        .map(|r| {
            Ok((
                r.get::<String>(1)?.unwrap_or_default(),
                r.get::<String>(2)?.unwrap_or_default(),
                r.get::<String>(3)?.unwrap_or_default(),
            ))
        })
        .collect::<std::result::Result<Vec<_>, pgrx::spi::SpiError>>()
    })
    .map_err(Error::from)?;
    crate::security::as_role(owner, || {
        for (t, g, _) in &triggers {
            Spi::run(&format!("ALTER TABLE {t} DISABLE TRIGGER {g}"))?;
        }
        Ok::<_, pgrx::spi::SpiError>(())
    })
    .map_err(Error::from)?;
    Ok(triggers)
}

fn resume_user_triggers(triggers: &[(String, String, String)], owner: pg_sys::Oid) -> Result<()> {
    crate::security::as_role(owner, || {
        for (t, g, state) in triggers {
            let how = match state.as_str() {
                "A" => "ENABLE ALWAYS",
                "R" => "ENABLE REPLICA",
                _ => "ENABLE",
            };
            Spi::run(&format!("ALTER TABLE {t} {how} TRIGGER {g}"))?;
        }
        Ok::<_, pgrx::spi::SpiError>(())
    })
    .map_err(|e| Error::from(e).into())
}

/// Make the NOT DEFERRABLE foreign keys into or out of `tables` deferred
/// (as the tables' owner may): returns them as (table, constraint), to be
/// checked and restored by [`restore_foreign_keys`].
fn defer_foreign_keys(tables: &[String], owner: pg_sys::Oid) -> Result<Vec<(String, String)>> {
    let fks: Vec<(String, String)> = Spi::connect_mut(|c| {
        c.update(
            "SELECT k.conrelid::regclass::text, pg_catalog.quote_ident(k.conname) FROM pg_catalog.pg_constraint k
              WHERE k.contype = 'f' AND NOT k.condeferrable
                AND (k.conrelid = ANY ($1::regclass[]) OR k.confrelid = ANY ($1::regclass[]))
              ORDER BY 1, 2",
            None,
            &[tables.to_vec().into()],
        )?
        .map(|r| Ok((r.get::<String>(1)?.unwrap_or_default(), r.get::<String>(2)?.unwrap_or_default())))
        .collect::<std::result::Result<Vec<_>, pgrx::spi::SpiError>>()
    })
    .map_err(Error::from)?;
    crate::security::as_role(owner, || {
        for (t, k) in &fks {
            Spi::run(&format!(
                "ALTER TABLE {t} ALTER CONSTRAINT {k} DEFERRABLE INITIALLY IMMEDIATE"
            ))?;
            Spi::run(&format!("SET CONSTRAINTS {}.{k} DEFERRED", schema_of(t)))?;
        }
        Ok::<_, pgrx::spi::SpiError>(())
    })
    .map_err(Error::from)?;
    Ok(fks)
}

/// The schema part of a `regclass::text` (for SET CONSTRAINTS).
fn schema_of(table: &str) -> String {
    first_value::<String>(
        "SELECT pg_catalog.quote_ident(n.nspname) FROM pg_catalog.pg_class c
           JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1::regclass",
        &[table.into()],
    )
    .ok()
    .flatten()
    .unwrap_or_else(|| "public".into())
}

/// Check the deferred foreign keys now (an error names the broken one) and
/// make them NOT DEFERRABLE again.
fn restore_foreign_keys(fks: &[(String, String)], owner: pg_sys::Oid) -> Result<()> {
    crate::security::as_role(owner, || {
        for (t, k) in fks {
            Spi::run(&format!("SET CONSTRAINTS {}.{k} IMMEDIATE", schema_of(t)))?;
        }
        for (t, k) in fks {
            Spi::run(&format!(
                "ALTER TABLE {t} ALTER CONSTRAINT {k} NOT DEFERRABLE"
            ))?;
        }
        Ok::<_, pgrx::spi::SpiError>(())
    })
    .map_err(|e| Error::from(e).into())
}

/// Every foreign key into or out of these tables still holds.
fn verify_foreign_keys(tables: &[String]) -> Result<()> {
    let broken = first_value::<String>(
        "SELECT string_agg(k.conname, ', ') FROM pg_catalog.pg_constraint k
          WHERE k.contype = 'f' AND (k.conrelid = ANY ($1::regclass[]) OR k.confrelid = ANY ($1::regclass[]))
            AND confiture.foreign_key_orphans(k.oid) > 0",
        &[tables.to_vec().into()],
    )?;
    if let Some(names) = broken {
        return fail(
            Error::new(
                Kind::ForeignKeyViolation,
                format!("masking broke foreign keys: {names}"),
            )
            .detail(
                "Some referencing rows no longer find their referenced key; nothing was changed.",
            )
            .hint("Mask both sides of each foreign key with the same strategy, options and salt."),
        );
    }
    Ok(())
}
