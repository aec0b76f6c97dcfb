//! Names from built-in lists, and phone numbers that keep their country and
//! area code.

use super::Prf;

use super::decimal_digit;
pub use super::names::{FIRST_NAMES, LAST_NAMES};

fn pick(prf: &Prf, domain: &str, value: &str, list: &'static [&'static str]) -> &'static str {
    let i = prf.below(domain, value.as_bytes(), list.len() as u64) as usize;
    // never the value itself: the next name in the list instead
    if list[i] == value {
        list[(i + 1) % list.len()]
    } else {
        list[i]
    }
}

pub fn first_name(prf: &Prf, value: &str) -> &'static str {
    pick(prf, "first_name", value, FIRST_NAMES)
}

pub fn last_name(prf: &Prf, value: &str) -> &'static str {
    pick(prf, "last_name", value, LAST_NAMES)
}

pub fn full_name(prf: &Prf, value: &str) -> String {
    let first = first_name(prf, value);
    let last = last_name(prf, value);
    let name = format!("{first} {last}");
    if name != value {
        return name;
    }
    let i = LAST_NAMES.iter().position(|l| *l == last).unwrap_or(0);
    format!("{first} {}", LAST_NAMES[(i + 1) % LAST_NAMES.len()])
}

/// E.164 numbers have at most 15 digits: keeping 15 or more keeps them all.
pub fn check_keep_digits(keep: i64) -> Result<(), String> {
    if !(0..=14).contains(&keep) {
        return Err(format!(
            "keep_digits must be between 0 and 14, not {keep}: a phone number has at most 15 digits, and keeping them all changes nothing"
        ));
    }
    Ok(())
}

/// Keep the first `keep` digits (country and area code) and every
/// non-digit; replace the other digits (any script's decimal digits count;
/// replacements are ASCII). Never returns the value itself when it has more
/// than `keep` digits: if the draw reproduces it, the last replaced digit is
/// moved by one.
pub fn phone(prf: &Prf, value: &str, keep: usize) -> String {
    let mut seen = 0;
    let mut bits = prf.bits("phone", value.as_bytes());
    let mut round = 0u8;
    let mut last_replaced = None;
    let mut out: Vec<char> = value
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if decimal_digit(c).is_none() {
                return c;
            }
            seen += 1;
            if seen <= keep {
                return c;
            }
            if bits < 10 {
                round = round.wrapping_add(1);
                bits = prf.bits("phone", &[value.as_bytes(), &[round]].concat());
            }
            let d = (bits % 10) as u8;
            bits /= 10;
            last_replaced = Some(i);
            (b'0' + d) as char
        })
        .collect();
    if let Some(i) = last_replaced {
        if out.iter().copied().eq(value.chars()) {
            let d = decimal_digit(out[i]).unwrap_or(0);
            out[i] = (b'0' + ((d + 1) % 10) as u8) as char;
        }
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_from_the_lists_and_deterministic() {
        let p = Prf::new("s");
        assert!(FIRST_NAMES.contains(&first_name(&p, "Ada")));
        assert_eq!(full_name(&p, "Ada Lovelace"), full_name(&p, "Ada Lovelace"));
        let differs = (0..50)
            .any(|i| full_name(&p, &i.to_string()) != full_name(&Prf::new("t"), &i.to_string()));
        assert!(differs);
        assert!(!full_name(&p, &"x".repeat(1_000_000)).is_empty());
    }

    #[test]
    fn phones_keep_format_and_prefix() {
        let p = Prf::new("s");
        let m = phone(&p, "+1 (555) 123-4567", 4);
        assert!(m.starts_with("+1 (555) "), "{m}");
        assert_eq!(m.len(), "+1 (555) 123-4567".len());
        assert_eq!(m, phone(&p, "+1 (555) 123-4567", 4));
        assert_eq!(phone(&p, "", 4), "");
        assert_eq!(phone(&p, "n/a", 4), "n/a");
        assert_eq!(phone(&p, &"9".repeat(100), 0).len(), 100);
        // full-width digits are digits too
        assert_ne!(phone(&p, "０３１２３４５６７８", 2), "０３１２３４５６７８");
    }

    #[test]
    fn phones_always_change_when_they_have_digits_to_replace() {
        // one replaced digit: a draw reproduces it one time in ten
        for salt in 0..200 {
            let p = Prf::new(&salt.to_string());
            for v in ["+1 555 0", "12", "+33 6 1"] {
                assert_ne!(
                    phone(&p, v, v.chars().filter(char::is_ascii_digit).count() - 1),
                    v
                );
            }
        }
        let p = Prf::new("s");
        for i in 0..200_000u32 {
            let v = format!("+1 555 {i:07}");
            assert_ne!(phone(&p, &v, 4), v);
        }
    }

    #[test]
    fn names_never_map_to_themselves_and_have_many_combinations() {
        assert!(FIRST_NAMES.len() * LAST_NAMES.len() >= 100_000);
        let firsts: std::collections::HashSet<_> = FIRST_NAMES.iter().collect();
        let lasts: std::collections::HashSet<_> = LAST_NAMES.iter().collect();
        assert_eq!(firsts.len(), FIRST_NAMES.len(), "no duplicate first names");
        assert_eq!(lasts.len(), LAST_NAMES.len(), "no duplicate last names");
        for salt in 0..50 {
            let p = Prf::new(&format!("salt{salt}"));
            for f in FIRST_NAMES {
                assert_ne!(first_name(&p, f), *f);
            }
            for l in LAST_NAMES {
                assert_ne!(last_name(&p, l), *l);
            }
            let v = full_name(&p, "x");
            assert_ne!(full_name(&p, &v), v);
        }
        // a million people get far more than a few thousand distinct names
        let p = Prf::new("s");
        let distinct: std::collections::HashSet<String> = (0..300_000)
            .map(|i| full_name(&p, &format!("person {i}")))
            .collect();
        assert!(distinct.len() > 100_000, "{}", distinct.len());
    }
}
