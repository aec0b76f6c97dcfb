//! The masking strategies as SQL functions. Every one returns NULL for a
//! NULL value; the salt defaults to `confiture.anon_salt`. They are STABLE,
//! not IMMUTABLE: without a salt argument the result depends on a setting,
//! and an index or a constant folded under one salt would be wrong under
//! the next. Every other argument is checked here, by name.

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

/// A required argument: NULL is an error naming it.
fn arg<T>(v: Option<T>, function: &str, name: &str) -> T {
    match v {
        Some(v) => v,
        None => Error::null_argument(function, name).raise(),
    }
}

/// An argument a strategy cannot use (22023), with why.
fn bad(function: &str, why: String) -> ! {
    Error::new(
        Kind::InvalidArgument,
        format!("invalid argument for {function}"),
    )
    .detail(format!("{why}."))
    .hint("SELECT * FROM confiture.strategies() lists each strategy's options.")
    .raise()
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

#[pg_extern(stable, parallel_safe)]
fn mask_email(
    value: Option<&str>,
    salt: default!(Option<&str>, "NULL"),
    keep_domain: default!(bool, false),
) -> Option<String> {
    let v = value?;
    Some(with_prf(salt, |p| anon::text::email(p, v, keep_domain)))
}

#[pg_extern(stable, parallel_safe)]
fn mask_hash(
    value: Option<&str>,
    salt: default!(Option<&str>, "NULL"),
    format: default!(Option<&str>, "'hex'"),
) -> Option<String> {
    let v = value?;
    let format = arg(format, "confiture.mask_hash", "format");
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

#[pg_extern(stable, parallel_safe)]
fn mask_hash_bigint(value: Option<&str>, salt: default!(Option<&str>, "NULL")) -> Option<i64> {
    let v = value?;
    Some(anon::hash::bigint(&self::salt(salt), v.as_bytes()))
}

#[pg_extern(stable, parallel_safe)]
fn mask_pattern(value: Option<&str>, pattern: Option<&str>) -> Option<String> {
    let v = value?;
    Some(anon::text::pattern(
        v,
        arg(pattern, "confiture.mask_pattern", "pattern"),
    ))
}

#[pg_extern(stable, parallel_safe)]
fn mask_partial(
    value: Option<&str>,
    keep_first: default!(Option<i32>, 1),
    keep_last: default!(Option<i32>, 1),
    mask: default!(Option<&str>, "'*'"),
) -> Option<String> {
    const F: &str = "confiture.mask_partial";
    let v = value?;
    let (first, last) = (
        arg(keep_first, F, "keep_first"),
        arg(keep_last, F, "keep_last"),
    );
    let mask = arg(mask, F, "mask");
    if first < 0 || last < 0 {
        bad(
            F,
            format!("keep_first and keep_last must not be negative, not {first} and {last}"),
        );
    }
    let mut chars = mask.chars();
    let (Some(c), None) = (chars.next(), chars.next()) else {
        bad(F, format!("mask must be one character, not {mask:?}"))
    };
    Some(anon::text::partial(v, first as usize, last as usize, c))
}

#[pg_extern(stable, parallel_safe)]
fn mask_redact(
    value: Option<&str>,
    replacement: default!(Option<&str>, "'[REDACTED]'"),
) -> Option<String> {
    value?;
    Some(arg(replacement, "confiture.mask_redact", "replacement").to_owned())
}

#[pg_extern(stable, parallel_safe)]
fn mask_phone(
    value: Option<&str>,
    salt: default!(Option<&str>, "NULL"),
    keep_digits: default!(Option<i32>, 5),
) -> Option<String> {
    const F: &str = "confiture.mask_phone";
    let v = value?;
    let keep = arg(keep_digits, F, "keep_digits");
    anon::person::check_keep_digits(keep as i64).unwrap_or_else(|why| bad(F, why));
    Some(with_prf(salt, |p| anon::person::phone(p, v, keep as usize)))
}

#[pg_extern(stable, parallel_safe)]
fn mask_first_name(value: Option<&str>, salt: default!(Option<&str>, "NULL")) -> Option<String> {
    let v = value?;
    Some(with_prf(salt, |p| {
        anon::person::first_name(p, v).to_owned()
    }))
}

#[pg_extern(stable, parallel_safe)]
fn mask_last_name(value: Option<&str>, salt: default!(Option<&str>, "NULL")) -> Option<String> {
    let v = value?;
    Some(with_prf(salt, |p| anon::person::last_name(p, v).to_owned()))
}

#[pg_extern(stable, parallel_safe)]
fn mask_name(value: Option<&str>, salt: default!(Option<&str>, "NULL")) -> Option<String> {
    let v = value?;
    Some(with_prf(salt, |p| anon::person::full_name(p, v)))
}

/// Days to add to a date or timestamp (the SQL wrappers add them).
#[pg_extern(stable, parallel_safe)]
fn mask_date_shift_days(
    value: Option<&str>,
    salt: default!(Option<&str>, "NULL"),
    days: default!(Option<i32>, 30),
) -> Option<i32> {
    const F: &str = "confiture.mask_date_shift";
    let v = value?;
    let days = arg(days, F, "days");
    anon::dates::check_days(days as i64).unwrap_or_else(|why| bad(F, why));
    Some(with_prf(salt, |p| {
        anon::dates::shift_days(p, v.as_bytes(), days as i64) as i32
    }))
}

#[pg_extern(stable, parallel_safe)]
fn mask_ip_text(
    value: Option<&str>,
    salt: default!(Option<&str>, "NULL"),
    keep_bits: default!(Option<i32>, "NULL"),
    keep_bits_v6: default!(Option<i32>, "NULL"),
) -> Option<String> {
    const F: &str = "confiture.mask_ip";
    let v = value?;
    // not an address: NULL (an error would show the value to masked readers)
    let addr: std::net::IpAddr = v.split('/').next().unwrap_or(v).parse().ok()?;
    let keep = if addr.is_ipv4() {
        keep_bits.unwrap_or(24)
    } else {
        keep_bits_v6.unwrap_or(64)
    };
    anon::network::check_keep_bits(keep as i64, addr.is_ipv6()).unwrap_or_else(|why| bad(F, why));
    let keep = keep as u32;
    Some(with_prf(salt, |p| {
        anon::network::ip(p, addr, keep).to_string()
    }))
}

#[pg_extern(stable, parallel_safe)]
fn mask_credit_card(value: Option<&str>, salt: default!(Option<&str>, "NULL")) -> Option<String> {
    let v = value?;
    Some(with_prf(salt, |p| anon::numbers::credit_card(p, v)))
}

#[pg_extern(stable, parallel_safe)]
fn mask_number_range(
    value: Option<f64>,
    salt: default!(Option<&str>, "NULL"),
    min: default!(Option<f64>, 0.0),
    max: default!(Option<f64>, 1.0),
) -> Option<f64> {
    const F: &str = "confiture.mask_number_range";
    let (min, max) = (arg(min, F, "min"), arg(max, F, "max"));
    anon::numbers::check_range(min, max).unwrap_or_else(|why| bad(F, why));
    let v = value?;
    Some(with_prf(salt, |p| {
        anon::numbers::number_range(p, &v.to_bits().to_le_bytes(), min, max)
    }))
}

#[pg_extern(stable, parallel_safe)]
fn mask_noise(
    value: Option<f64>,
    salt: default!(Option<&str>, "NULL"),
    percent: default!(Option<f64>, 10.0),
) -> Option<f64> {
    const F: &str = "confiture.mask_noise";
    let percent = arg(percent, F, "percent");
    anon::numbers::check_percent(percent).unwrap_or_else(|why| bad(F, why));
    let v = value?;
    Some(with_prf(salt, |p| anon::numbers::noise(p, v, percent)))
}

#[pg_extern(stable, parallel_safe)]
fn mask_regex(
    value: Option<&str>,
    pattern: Option<&str>,
    replacement: default!(Option<&str>, "'[REDACTED]'"),
) -> Option<String> {
    const F: &str = "confiture.mask_regex";
    let v = value?;
    let pattern = arg(pattern, F, "pattern");
    let replacement = arg(replacement, F, "replacement");
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
