//! Masking strategies: pure functions, NULL-preserving (callers map NULL to
//! NULL), deterministic under a salt (same input + same salt = same output,
//! everywhere; another salt = another output). Each declares whether it is
//! injective (keeps distinct values distinct, so UNIQUE keys and joins
//! survive) and whether it is reversible.

pub mod dates;
pub mod hash;
pub mod names;
pub mod network;
pub mod numbers;
pub mod person;
pub mod rules;
pub mod text;

use sha2::{Digest, Sha256};
use siphasher::sip::SipHasher24;
use std::hash::Hasher;

/// A keyed pseudo-random function: SipHash-2-4 keyed by the salt (fast,
/// for values that must look random); `hash` uses HMAC-SHA256 instead.
#[derive(Clone)]
pub struct Prf {
    k0: u64,
    k1: u64,
}

impl Prf {
    pub fn new(salt: &str) -> Prf {
        let d = Sha256::digest(salt.as_bytes());
        let k0 = u64::from_le_bytes(d[0..8].try_into().unwrap_or_default());
        let k1 = u64::from_le_bytes(d[8..16].try_into().unwrap_or_default());
        Prf { k0, k1 }
    }

    /// 64 pseudo-random bits for `input` in `domain` (each strategy has its
    /// own domain, so an email and a name of the same input differ).
    pub fn bits(&self, domain: &str, input: &[u8]) -> u64 {
        let mut h = SipHasher24::new_with_keys(self.k0, self.k1);
        h.write(domain.as_bytes());
        h.write_u8(0);
        h.write(input);
        h.finish()
    }

    /// A number in `0..n` (n > 0).
    pub fn below(&self, domain: &str, input: &[u8], n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        self.bits(domain, input) % n
    }
}

/// The value of a decimal digit of any script (ASCII, full-width,
/// Arabic-Indic, Devanagari, ...), or None.
pub fn decimal_digit(c: char) -> Option<u32> {
    if c.is_ascii_digit() {
        return Some(c as u32 - '0' as u32);
    }
    // the zeros of Unicode's decimal-digit (Nd) runs of ten
    const ZEROS: &[u32] = &[
        0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6,
        0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0,
        0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0,
        0xAA50, 0xABF0, 0xFF10, 0x104A0, 0x11066, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6,
    ];
    let u = c as u32;
    ZEROS
        .iter()
        .find(|&&z| (z..z + 10).contains(&u))
        .map(|z| u - z)
}

/// What the SQL type of a strategy's output is compatible with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Text,
    Uuid,
    Bigint,
    Number,
    Date,
    Inet,
    /// The column's own type (preserve, null, noise keeps numbers numeric).
    Same,
}

pub struct StrategyInfo {
    pub name: &'static str,
    pub injective: bool,
    pub reversible: bool,
    pub output: Output,
    pub options: &'static str,
    pub description: &'static str,
    /// None: every non-NULL value comes out different. Some(why): the
    /// values it may leave as they were.
    pub may_keep: Option<&'static str>,
}

const fn info(
    name: &'static str,
    injective: bool,
    output: Output,
    options: &'static str,
    description: &'static str,
) -> StrategyInfo {
    StrategyInfo {
        name,
        injective,
        reversible: false,
        output,
        options,
        description,
        may_keep: None,
    }
}

const fn keeps(mut s: StrategyInfo, why: &'static str) -> StrategyInfo {
    s.may_keep = Some(why);
    s
}

pub static STRATEGIES: &[StrategyInfo] = &[
    info(
        "email",
        true,
        Output::Text,
        "keep_domain (bool, default false)",
        "user_<hash>@example.com, or @ the original domain",
    ),
    info(
        "hash",
        true,
        Output::Text,
        "format: hex (default) | uuid | bigint",
        "HMAC-SHA256 of the value under the salt",
    ),
    keeps(
        info(
            "pattern",
            false,
            Output::Text,
            "pattern (text, e.g. '***-**-####': # keeps a character, * masks it)",
            "mask by a pattern",
        ),
        "values that already read like the pattern's output (# keeps, literals match)",
    ),
    keeps(
        info(
            "partial",
            false,
            Output::Text,
            "keep_first, keep_last (int, default 1), mask (char, default *)",
            "keep the first and last characters",
        ),
        "values too short to hide anything, or already masked with the mask character",
    ),
    keeps(
        info(
            "redact",
            false,
            Output::Text,
            "replacement (text, default [REDACTED])",
            "a constant",
        ),
        "a value equal to the replacement",
    ),
    info("null", false, Output::Same, "", "NULL"),
    keeps(
        info(
            "phone",
            false,
            Output::Text,
            "keep_digits (int, default 5: country and area code)",
            "same format, other digits",
        ),
        "values with no more digits than keep_digits",
    ),
    info(
        "first_name",
        false,
        Output::Text,
        "",
        "a first name from a built-in list",
    ),
    info(
        "last_name",
        false,
        Output::Text,
        "",
        "a last name from a built-in list",
    ),
    info("name", false, Output::Text, "", "a first and last name"),
    info(
        "date_shift",
        false,
        Output::Date,
        "days (int, default 30)",
        "shift by up to n days either way",
    ),
    keeps(
        info(
            "date_trunc",
            false,
            Output::Date,
            "unit: month (default) | year",
            "truncate to the month or year",
        ),
        "values already at the start of the unit",
    ),
    info(
        "ip",
        false,
        Output::Inet,
        "keep_bits (int, default 24 for IPv4, 64 for IPv6)",
        "keep the network, other host",
    ),
    keeps(
        info(
            "credit_card",
            false,
            Output::Text,
            "",
            "keep the last four digits, still Luhn-valid",
        ),
        "values with no digits",
    ),
    info(
        "number_range",
        false,
        Output::Number,
        "min, max (numbers, required)",
        "a number in [min, max]",
    ),
    keeps(
        info(
            "noise",
            false,
            Output::Same,
            "percent (number, default 10)",
            "the value ± up to percent",
        ),
        "0, NaN and infinities",
    ),
    keeps(
        info(
            "regex_redact",
            false,
            Output::Text,
            "pattern (regex, required), replacement (default [REDACTED])",
            "redact matches inside free text",
        ),
        "values the pattern does not match",
    ),
    keeps(
        info("preserve", true, Output::Same, "", "no change"),
        "every value: it is the identity",
    ),
    keeps(
        info(
            "custom",
            false,
            Output::Same,
            "function (regprocedure taking the value, required)",
            "any SQL function",
        ),
        "whatever the function returns unchanged",
    ),
];

pub fn strategy(name: &str) -> Option<&'static StrategyInfo> {
    STRATEGIES.iter().find(|s| s.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prf_is_deterministic_and_salted() {
        let a = Prf::new("salt");
        assert_eq!(a.bits("email", b"x"), Prf::new("salt").bits("email", b"x"));
        assert_ne!(
            a.bits("email", b"x"),
            Prf::new("pepper").bits("email", b"x")
        );
        assert_ne!(a.bits("email", b"x"), a.bits("name", b"x"));
        assert!(a.below("d", b"x", 10) < 10);
        assert_eq!(a.below("d", b"x", 0), 0);
    }

    #[test]
    fn every_strategy_is_listed_once() {
        let names = [
            "email",
            "hash",
            "pattern",
            "partial",
            "redact",
            "null",
            "phone",
            "first_name",
            "last_name",
            "name",
            "date_shift",
            "date_trunc",
            "ip",
            "credit_card",
            "number_range",
            "noise",
            "regex_redact",
            "preserve",
            "custom",
        ];
        assert_eq!(STRATEGIES.len(), names.len());
        for n in names {
            assert!(strategy(n).is_some(), "{n}");
        }
    }
}

#[cfg(test)]
mod edge_cases {
    //! Every strategy on empty, unicode and very long input: no panic,
    //! deterministic, salt-sensitive where it is random.
    use super::*;

    fn inputs() -> Vec<String> {
        vec![
            String::new(),
            "é日本🙂".into(),
            "x".repeat(1_000_000),
            "+1 (555) 123-4567".into(),
            "a@b.c".into(),
        ]
    }

    #[test]
    fn every_strategy_handles_hostile_input() {
        let (a, b) = (Prf::new("salt-a"), Prf::new("salt-b"));
        let re = regex::Regex::new(r"\d+").unwrap();
        for v in inputs() {
            let run = |p: &Prf, s: &str| -> Vec<String> {
                vec![
                    text::email(p, &v, false),
                    text::email(p, &v, true),
                    hash::hex(s, v.as_bytes()),
                    hash::uuid(s, v.as_bytes()),
                    hash::bigint(s, v.as_bytes()).to_string(),
                    person::full_name(p, &v),
                    person::phone(p, &v, 3),
                    numbers::credit_card(p, &v),
                    numbers::number_range(p, v.as_bytes(), 0.0, 10.0).to_string(),
                    dates::shift_days(p, v.as_bytes(), 30).to_string(),
                ]
            };
            let first = run(&a, "salt-a");
            assert_eq!(
                first,
                run(&a, "salt-a"),
                "deterministic for {:?}",
                v.chars().take(10).collect::<String>()
            );
            let other = run(&b, "salt-b");
            // emails and hashes always change with the salt
            assert_ne!(first[0], other[0]);
            assert_ne!(first[2], other[2]);
            // the structural ones keep shape whatever the input
            assert_eq!(text::pattern(&v, "##**").chars().count(), 4);
            assert!(text::partial(&v, 1, 1, '*').chars().count() == v.chars().count());
            let _ = text::regex_redact(&re, &v, "[N]");
        }
    }

    #[test]
    fn hashes_are_injective_on_many_inputs() {
        let set: std::collections::HashSet<String> = (0..50_000)
            .map(|i| hash::hex("s", i.to_string().as_bytes()))
            .collect();
        assert_eq!(set.len(), 50_000);
        let ints: std::collections::HashSet<i64> = (0..50_000)
            .map(|i| hash::bigint("s", i.to_string().as_bytes()))
            .collect();
        assert_eq!(ints.len(), 50_000);
    }
}
