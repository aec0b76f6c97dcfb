//! Numbers: a number in a range, noise (± percent), credit cards that keep
//! their last four digits and stay Luhn-valid.

use super::Prf;

pub fn number_range(prf: &Prf, value: &[u8], min: f64, max: f64) -> f64 {
    if !(max > min) {
        return min;
    }
    let u = (prf.bits("number_range", value) >> 11) as f64 / (1u64 << 53) as f64;
    min + u * (max - min)
}

pub fn noise(prf: &Prf, value: f64, percent: f64) -> f64 {
    let u = (prf.bits("noise", &value.to_bits().to_le_bytes()) >> 11) as f64 / (1u64 << 53) as f64;
    value * (1.0 + (u * 2.0 - 1.0) * percent / 100.0)
}

pub fn luhn_valid(digits: &str) -> bool {
    let ds: Vec<u32> = digits.chars().filter_map(|c| c.to_digit(10)).collect();
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

/// Replace all but the last four digits (keeping separators), then fix the
/// digit just before the last four so the number stays Luhn-valid.
pub fn credit_card(prf: &Prf, value: &str) -> String {
    let total = value.chars().filter(|c| c.is_ascii_digit()).count();
    if total <= 4 {
        return value.to_owned();
    }
    let mut bits = prf.bits("credit_card", value.as_bytes());
    let mut round = 0u8;
    let mut seen = 0;
    let mut out: Vec<char> = value
        .chars()
        .map(|c| {
            if !c.is_ascii_digit() {
                return c;
            }
            seen += 1;
            if seen > total - 4 {
                return c;
            }
            if bits < 10 {
                round += 1;
                bits = prf.bits("credit_card", &[value.as_bytes(), &[round]].concat());
            }
            let d = (bits % 10) as u8;
            bits /= 10;
            (b'0' + d) as char
        })
        .collect();
    // the digit right before the kept four: choose it to satisfy Luhn
    let digit_positions: Vec<usize> = out
        .iter()
        .enumerate()
        .filter(|(_, c)| c.is_ascii_digit())
        .map(|(i, _)| i)
        .collect();
    let fix = digit_positions[total - 5];
    for d in 0..10u8 {
        out[fix] = (b'0' + d) as char;
        let s: String = out.iter().collect();
        if luhn_valid(&s) {
            break;
        }
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
        assert_eq!(credit_card(&p, "123"), "123");
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
    }
}
