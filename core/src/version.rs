//! Natural ordering of migration versions.
//!
//! Versions are text chosen by users: `1`, `2`, `10`, `2019-02-26-002946`,
//! `V3__x`. They must sort so that `2 < 10` and timestamps sort in time
//! order. [`sort_key`] maps a version to a string whose byte order (`COLLATE
//! "C"`) is that natural order, so the ledger can index and `ORDER BY` it
//! without calling back into Rust.

/// The natural-order key of a version.
///
/// Runs of ASCII digits become `#` + their length (two digits, after
/// stripping leading zeros) + the digits; everything else is kept as is.
/// `#` (0x23) sorts below letters and digits, so a number sorts before a
/// word at the same position, like most natural sorts.
pub fn sort_key(version: &str) -> String {
    let mut out = String::with_capacity(version.len() + 8);
    let mut chars = version.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if c.is_ascii_digit() {
            let mut end = start + 1;
            while let Some(&(i, d)) = chars.peek() {
                if !d.is_ascii_digit() {
                    break;
                }
                end = i + 1;
                chars.next();
            }
            let digits = version[start..end].trim_start_matches('0');
            let digits = if digits.is_empty() { "0" } else { digits };
            // 99 digits is far beyond any version; longer runs still sort
            // after shorter ones because the length saturates.
            out.push('#');
            out.push_str(&format!("{:02}", digits.len().min(99)));
            out.push_str(digits);
        } else {
            out.push(c);
        }
    }
    out
}

/// Why a version string is not acceptable, if it is not.
pub fn validate(version: &str) -> Result<(), String> {
    if version.trim().is_empty() {
        return Err("the version is empty".into());
    }
    if version.len() > 200 {
        return Err(format!(
            "the version is {} bytes long; the limit is 200",
            version.len()
        ));
    }
    if version.chars().any(|c| c.is_control()) {
        return Err("the version contains control characters".into());
    }
    if version != version.trim() {
        return Err("the version has leading or trailing spaces".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(mut v: Vec<&str>) -> Vec<&str> {
        v.sort_by_key(|s| sort_key(s));
        v
    }

    #[test]
    fn numbers_sort_by_value() {
        assert_eq!(
            sorted(vec!["10", "2", "1", "100"]),
            vec!["1", "2", "10", "100"]
        );
    }

    #[test]
    fn timestamps_sort_in_time_order() {
        let v = vec![
            "2020-01-13-025151",
            "2019-02-26-002946",
            "00000000000000",
            "2019-03-05-233828",
            "2025-08-01-000016",
            "2025-08-01-000002",
        ];
        assert_eq!(
            sorted(v),
            vec![
                "00000000000000",
                "2019-02-26-002946",
                "2019-03-05-233828",
                "2020-01-13-025151",
                "2025-08-01-000002",
                "2025-08-01-000016",
            ]
        );
    }

    #[test]
    fn mixed_prefixes() {
        assert_eq!(
            sorted(vec!["v10_b", "v2_a", "v2_b"]),
            vec!["v2_a", "v2_b", "v10_b"]
        );
        assert!(sort_key("1.10") > sort_key("1.9"));
    }

    #[test]
    fn leading_zeros_collide() {
        assert_eq!(sort_key("002"), sort_key("2"));
        assert_ne!(sort_key("2a"), sort_key("2"));
    }

    #[test]
    fn validation() {
        assert!(validate("").is_err());
        assert!(validate("  ").is_err());
        assert!(validate(" 1").is_err());
        assert!(validate("a\nb").is_err());
        assert!(validate(&"9".repeat(201)).is_err());
        assert!(validate("2019-02-26-002946").is_ok());
    }
}
