//! The masking strategies as SQL functions. Every one returns NULL for a
//! NULL value; the salt defaults to `confiture.anon_salt`.

use crate::error::{Error, Kind};
use crate::guc::ANON_SALT;
use confiture_core::anon::{self, Prf};
use pgrx::prelude::*;
use std::cell::RefCell;

thread_local! {
    /// The last salt's PRF: masking calls come per row with the same salt.
    static PRF: RefCell<Option<(String, Prf)>> = const { RefCell::new(None) };
    static REGEX: RefCell<Option<(String, regex::Regex)>> = const { RefCell::new(None) };
}

/// The salt to use: the argument, else `confiture.anon_salt` — for roles
/// that may read that setting (superusers, pg_read_all_settings) only:
/// anyone else computing masks under the secret salt would have an oracle.
pub fn salt(arg: Option<&str>) -> String {
    if let Some(s) = arg {
        return s.to_owned();
    }
    if !may_read_default_salt() {
        Error::new(Kind::InsufficientPrivilege, "permission denied for the default salt confiture.anon_salt")
            .detail("Without a salt argument, masking uses confiture.anon_salt, which only superusers and members of pg_read_all_settings may use.")
            .hint("Pass a salt, or use a profile: confiture.anonymized(NULL::t, 'profile') uses the profile's own salt.")
            .raise();
    }
    match ANON_SALT.get() {
        Some(s) => s.to_string_lossy().into_owned(),
        None => Error::new(Kind::InvalidArgument, "no salt: pass one, or set confiture.anon_salt")
            .detail("Masking is deterministic under a salt; without one, masked values could be recomputed from guesses.")
            .hint("Pass a salt, use a profile (its salt is kept in confiture.anon_profiles), or set confiture.anon_salt in postgresql.conf.")
            .raise(),
    }
}

/// Per call, not cached: a REVOKE takes effect at once (the server caches
/// superuser and role membership itself).
fn may_read_default_salt() -> bool {
    let role = crate::security::current_role();
    crate::security::is_superuser(role)
        || crate::security::role_oid("pg_read_all_settings")
            .is_some_and(|r| crate::security::has_privs_of(role, r))
}

fn with_prf<T>(salt_arg: Option<&str>, f: impl FnOnce(&Prf) -> T) -> T {
    let salt = salt(salt_arg);
    PRF.with(|p| {
        let mut p = p.borrow_mut();
        if p.as_ref().map(|(s, _)| s != &salt).unwrap_or(true) {
            *p = Some((salt.clone(), Prf::new(&salt)));
        }
        f(&p.as_ref()
            .map(|(_, prf)| prf.clone())
            .unwrap_or_else(|| Prf::new(&salt)))
    })
}

#[pg_extern(immutable, parallel_safe)]
fn mask_email(
    value: Option<&str>,
    salt: default!(Option<&str>, "NULL"),
    keep_domain: default!(bool, false),
) -> Option<String> {
    let v = value?;
    Some(with_prf(salt, |p| anon::text::email(p, v, keep_domain)))
}

#[pg_extern(immutable, parallel_safe)]
fn mask_hash(
    value: Option<&str>,
    salt: default!(Option<&str>, "NULL"),
    format: default!(&str, "'hex'"),
) -> Option<String> {
    let v = value?;
    let s = self::salt(salt);
    Some(match format {
        "hex" => anon::hash::hex(&s, v.as_bytes()),
        "uuid" => anon::hash::uuid(&s, v.as_bytes()),
        "bigint" => anon::hash::bigint(&s, v.as_bytes()).to_string(),
        other => Error::new(
            Kind::InvalidArgument,
            format!("unknown hash format {other:?}"),
        )
        .detail("The hash strategy writes hex, a uuid or a bigint.")
        .hint("Pass format => 'hex', 'uuid' or 'bigint'.")
        .raise(),
    })
}

#[pg_extern(immutable, parallel_safe)]
fn mask_hash_bigint(value: Option<&str>, salt: default!(Option<&str>, "NULL")) -> Option<i64> {
    let v = value?;
    Some(anon::hash::bigint(&self::salt(salt), v.as_bytes()))
}

#[pg_extern(immutable, parallel_safe)]
fn mask_pattern(value: Option<&str>, pattern: &str) -> Option<String> {
    Some(anon::text::pattern(value?, pattern))
}

#[pg_extern(immutable, parallel_safe)]
fn mask_partial(
    value: Option<&str>,
    keep_first: default!(i32, 1),
    keep_last: default!(i32, 1),
    mask: default!(&str, "'*'"),
) -> Option<String> {
    let c = mask.chars().next().unwrap_or('*');
    Some(anon::text::partial(
        value?,
        keep_first.max(0) as usize,
        keep_last.max(0) as usize,
        c,
    ))
}

#[pg_extern(immutable, parallel_safe)]
fn mask_redact(value: Option<&str>, replacement: default!(&str, "'[REDACTED]'")) -> Option<String> {
    value.map(|_| replacement.to_owned())
}

#[pg_extern(immutable, parallel_safe)]
fn mask_phone(
    value: Option<&str>,
    salt: default!(Option<&str>, "NULL"),
    keep_digits: default!(i32, 5),
) -> Option<String> {
    let v = value?;
    Some(with_prf(salt, |p| {
        anon::person::phone(p, v, keep_digits.max(0) as usize)
    }))
}

#[pg_extern(immutable, parallel_safe)]
fn mask_first_name(value: Option<&str>, salt: default!(Option<&str>, "NULL")) -> Option<String> {
    let v = value?;
    Some(with_prf(salt, |p| {
        anon::person::first_name(p, v).to_owned()
    }))
}

#[pg_extern(immutable, parallel_safe)]
fn mask_last_name(value: Option<&str>, salt: default!(Option<&str>, "NULL")) -> Option<String> {
    let v = value?;
    Some(with_prf(salt, |p| anon::person::last_name(p, v).to_owned()))
}

#[pg_extern(immutable, parallel_safe)]
fn mask_name(value: Option<&str>, salt: default!(Option<&str>, "NULL")) -> Option<String> {
    let v = value?;
    Some(with_prf(salt, |p| anon::person::full_name(p, v)))
}

/// Days to add to a date or timestamp (the SQL wrappers add them).
#[pg_extern(immutable, parallel_safe)]
fn mask_date_shift_days(
    value: Option<&str>,
    salt: default!(Option<&str>, "NULL"),
    days: default!(i32, 30),
) -> Option<i32> {
    let v = value?;
    Some(with_prf(salt, |p| {
        anon::dates::shift_days(p, v.as_bytes(), days as i64) as i32
    }))
}

#[pg_extern(immutable, parallel_safe)]
fn mask_ip_text(
    value: Option<&str>,
    salt: default!(Option<&str>, "NULL"),
    keep_bits: default!(Option<i32>, "NULL"),
) -> Option<String> {
    let v = value?;
    let addr: std::net::IpAddr = v.split('/').next().unwrap_or(v).parse().ok()?;
    let keep = keep_bits
        .map(|k| k.max(0) as u32)
        .unwrap_or(if addr.is_ipv4() { 24 } else { 64 });
    Some(with_prf(salt, |p| {
        anon::network::ip(p, addr, keep).to_string()
    }))
}

#[pg_extern(immutable, parallel_safe)]
fn mask_credit_card(value: Option<&str>, salt: default!(Option<&str>, "NULL")) -> Option<String> {
    let v = value?;
    Some(with_prf(salt, |p| anon::numbers::credit_card(p, v)))
}

#[pg_extern(immutable, parallel_safe)]
fn mask_number_range(
    value: Option<f64>,
    salt: default!(Option<&str>, "NULL"),
    min: default!(f64, 0.0),
    max: default!(f64, 1.0),
) -> Option<f64> {
    let v = value?;
    Some(with_prf(salt, |p| {
        anon::numbers::number_range(p, &v.to_bits().to_le_bytes(), min, max)
    }))
}

#[pg_extern(immutable, parallel_safe)]
fn mask_noise(
    value: Option<f64>,
    salt: default!(Option<&str>, "NULL"),
    percent: default!(f64, 10.0),
) -> Option<f64> {
    let v = value?;
    Some(with_prf(salt, |p| anon::numbers::noise(p, v, percent)))
}

#[pg_extern(immutable, parallel_safe)]
fn mask_regex(
    value: Option<&str>,
    pattern: &str,
    replacement: default!(&str, "'[REDACTED]'"),
) -> Option<String> {
    let v = value?;
    REGEX.with(|r| {
        let mut r = r.borrow_mut();
        if r.as_ref().map(|(p, _)| p != pattern).unwrap_or(true) {
            let re = regex::Regex::new(pattern).unwrap_or_else(|e| {
                Error::new(
                    Kind::InvalidArgument,
                    format!("invalid regular expression: {e}"),
                )
                .detail(format!("pattern => {pattern:?}"))
                .hint("Use Rust regex syntax (close to POSIX ERE).")
                .raise()
            });
            *r = Some((pattern.to_owned(), re));
        }
        r.as_ref()
            .map(|(_, re)| anon::text::regex_redact(re, v, replacement))
    })
}
