//! Numbers: a number in a range, noise (± percent), credit cards that keep
//! their last four digits and stay Luhn-valid.

use super::Prf;

/// A number as an error message shows it: 1e308, not 309 digits.
fn show(f: f64) -> String {
    if f.is_finite() && f != 0.0 && !(1e-6..1e15).contains(&f.abs()) {
        format!("{f:e}")
    } else {
        format!("{f}")
    }
}

/// Why a range or a noise level cannot be used, for the callers' errors.
pub fn check_range(min: f64, max: f64) -> Result<(), String> {
    if !min.is_finite() || !max.is_finite() {
        return Err(format!(
            "min and max must be finite numbers, not {min} and {max}"
        ));
    }
    if min >= max {
        return Err(format!(
            "min ({}) must be smaller than max ({}): an empty or one-point range writes a constant (use redact or null)",
            show(min),
            show(max)
        ));
    }
    Ok(())
}

pub fn check_percent(percent: f64) -> Result<(), String> {
    if !(percent > 0.0 && percent <= 100.0) {
        return Err(format!(
            "percent must be greater than 0 and at most 100, not {}",
            show(percent)
        ));
    }
    Ok(())
}

fn unit(bits: u64) -> f64 {
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

/// A number in `[min, max)`, never the value itself (callers check the range
/// with [`check_range`]; an unusable one returns `min`).
pub fn number_range(prf: &Prf, value: &[u8], min: f64, max: f64) -> f64 {
    if check_range(min, max).is_err() {
        return min;
    }
    let original = (value.len() == 8)
        .then(|| f64::from_bits(u64::from_le_bytes(value.try_into().unwrap_or_default())));
    let mut round = 0u8;
    loop {
        let bits = if round == 0 {
            prf.bits("number_range", value)
        } else {
            prf.bits("number_range", &[value, &[round]].concat())
        };
        let v = (min + unit(bits) * (max - min)).clamp(min, max);
        if Some(v) != original || round == u8::MAX {
            return v;
        }
        round += 1;
    }
}

/// The value ± up to `percent` (0 < percent <= 100), always finite for a
/// finite value, and never the value itself unless it is 0 or not finite.
pub fn noise(prf: &Prf, value: f64, percent: f64) -> f64 {
    if !value.is_finite() || value == 0.0 || check_percent(percent).is_err() {
        return value;
    }
    let key = value.to_bits().to_le_bytes();
    let mut round = 0u8;
    loop {
        let bits = if round == 0 {
            prf.bits("noise", &key)
        } else {
            prf.bits("noise", &[&key[..], &[round]].concat())
        };
        let delta = (unit(bits) * 2.0 - 1.0) * percent / 100.0;
        // value + value * delta, without overflowing near f64::MAX
        let mut v = value + value * delta;
        if !v.is_finite() {
            v = value - value * delta;
        }
        if v != value || round == u8::MAX {
            return v;
        }
        round += 1;
    }
}

pub fn luhn_valid(digits: &str) -> bool {
    let ds: Vec<u32> = digits.chars().filter_map(super::decimal_digit).collect();
    if ds.len() < 2 {
        return false;
    }
    luhn_sum(&ds) % 10 == 0
}

fn luhn_sum(ds: &[u32]) -> u32 {
    ds.iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                if d * 2 > 9 {
                    d * 2 - 9
                } else {
                    d * 2
                }
            } else {
                d
            }
        })
        .sum()
}

/// Replace all but the last four digits (keeping separators; a digit of
/// any script counts, replacements are ASCII), then fix the digit just
/// before the last four so the number stays Luhn-valid. A value of four
/// digits or fewer has all of them replaced. Never the value itself when it
/// has a digit.
pub fn credit_card(prf: &Prf, value: &str) -> String {
    use super::decimal_digit;
    let total = value
        .chars()
        .filter(|&c| decimal_digit(c).is_some())
        .count();
    if total == 0 {
        return value.to_owned();
    }
    let keep = if total > 4 { 4 } else { 0 };
    let mut bits = prf.bits("credit_card", value.as_bytes());
    let mut round = 0u8;
    let mut seen = 0;
    let mut out: Vec<char> = value
        .chars()
        .map(|c| {
            if decimal_digit(c).is_none() {
                return c;
            }
            seen += 1;
            if seen > total - keep {
                return c;
            }
            if bits < 10 {
                round = round.wrapping_add(1);
                bits = prf.bits("credit_card", &[value.as_bytes(), &[round]].concat());
            }
            let d = (bits % 10) as u8;
            bits /= 10;
            (b'0' + d) as char
        })
        .collect();
    let digit_positions: Vec<usize> = out
        .iter()
        .enumerate()
        .filter(|(_, &c)| decimal_digit(c).is_some())
        .map(|(i, _)| i)
        .collect();
    let valid = |out: &[char]| {
        let ds: Vec<u32> = out.iter().filter_map(|&c| decimal_digit(c)).collect();
        ds.len() >= 2 && luhn_sum(&ds) % 10 == 0
    };
    if keep == 0 {
        // not a card number: only make sure it changed
        if out.iter().copied().eq(value.chars()) {
            let i = digit_positions[total - 1];
            out[i] = (b'0' + ((decimal_digit(out[i]).unwrap_or(0) + 1) % 10) as u8) as char;
        }
        return out.into_iter().collect();
    }
    // the digit right before the kept four: choose it to satisfy Luhn
    let fix = digit_positions[total - 5];
    let fix_luhn = |out: &mut Vec<char>| {
        for d in 0..10u8 {
            out[fix] = (b'0' + d) as char;
            if valid(out) {
                break;
            }
        }
    };
    fix_luhn(&mut out);
    if out.iter().copied().eq(value.chars()) && total > 5 {
        // the draw reproduced the number: move the first replaced digit
        let i = digit_positions[0];
        out[i] = (b'0' + ((decimal_digit(out[i]).unwrap_or(0) + 1) % 10) as u8) as char;
        fix_luhn(&mut out);
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cards_keep_last_four_and_luhn() {
        let p = Prf::new("s");
        for card in [
            "4111 1111 1111 1111",
            "5500-0000-0000-0004",
            "340000000000009",
            "6011000990139424",
        ] {
            let m = credit_card(&p, card);
            assert!(luhn_valid(&m), "{m}");
            assert_eq!(&m[m.len() - 4..], &card[card.len() - 4..]);
            assert_eq!(m.len(), card.len());
            assert_ne!(m, card);
            assert_eq!(m, credit_card(&p, card));
        }
        assert_ne!(credit_card(&p, "123"), "123");
        assert_eq!(credit_card(&p, "n/a"), "n/a");
        // full-width digits: masked like ASCII ones, last four kept
        let wide = "４１１１ １１１１ １１１１ １１１１";
        let m = credit_card(&p, wide);
        assert_ne!(m, wide);
        assert!(m.ends_with("１１１１"), "{m}");
        assert!(luhn_valid(&m), "{m}");
        assert!(luhn_valid("4111111111111111") && !luhn_valid("4111111111111112"));
    }

    #[test]
    fn ranges_and_noise() {
        let p = Prf::new("s");
        for i in 0..1000u32 {
            let v = number_range(&p, &i.to_le_bytes(), 10.0, 20.0);
            assert!((10.0..=20.0).contains(&v));
            let n = noise(&p, 100.0 + i as f64, 10.0);
            assert!((n - (100.0 + i as f64)).abs() <= (100.0 + i as f64) * 0.1 + 1e-9);
        }
        assert_eq!(number_range(&p, b"x", 5.0, 5.0), 5.0);
        assert_eq!(noise(&p, 0.0, 10.0), 0.0);
        assert!(check_range(5.0, 1.0).is_err() && check_range(1.0, 1.0).is_err());
        assert!(check_range(f64::NAN, 1.0).is_err() && check_range(0.0, f64::INFINITY).is_err());
        assert!(
            check_percent(0.0).is_err()
                && check_percent(1e308).is_err()
                && check_percent(f64::NAN).is_err()
        );
        let big = noise(&p, 1e308, 100.0);
        assert!(big.is_finite());
        let big = noise(&p, f64::MAX, 100.0);
        assert!(big.is_finite() && big != f64::MAX);
        // a value in the range is never given back as itself
        for i in 0..10_000 {
            let v = (i % 10) as f64;
            assert_ne!(number_range(&p, &v.to_bits().to_le_bytes(), 0.0, 10.0), v);
            assert_ne!(noise(&p, v + 1.0, 10.0), v + 1.0);
        }
    }
}
