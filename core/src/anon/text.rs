//! Text strategies: email, pattern, partial, redact, regex_redact.

use super::Prf;

/// `user_<16 hex>@example.com`, or `@` the original domain. Injective in
/// practice: 64 bits of a keyed hash of the whole address.
pub fn email(prf: &Prf, value: &str, keep_domain: bool) -> String {
    let domain = match value.rsplit_once('@') {
        Some((_, d)) if keep_domain && !d.is_empty() => d.to_ascii_lowercase(),
        _ => "example.com".to_owned(),
    };
    format!("user_{:016x}@{domain}", prf.bits("email", value.as_bytes()))
}

/// `#` keeps the character at that position, `*` masks it, anything else is
/// written as is: `pattern('123-45-6789', '***-**-####')` = `***-**-6789`.
pub fn pattern(value: &str, pattern: &str) -> String {
    let mut chars = value.chars();
    pattern
        .chars()
        .map(|p| {
            let c = chars.next();
            match p {
                '#' => c.unwrap_or('*'),
                '*' => '*',
                other => other,
            }
        })
        .collect()
}

/// Keep the first `first` and last `last` characters, mask the rest.
pub fn partial(value: &str, first: usize, last: usize, mask: char) -> String {
    let chars: Vec<char> = value.chars().collect();
    let n = chars.len();
    if first + last >= n {
        // too short to keep anything and still hide something
        return mask.to_string().repeat(n);
    }
    chars[..first]
        .iter()
        .copied()
        .chain(std::iter::repeat_n(mask, n - first - last))
        .chain(chars[n - last..].iter().copied())
        .collect()
}

pub fn regex_redact(re: &regex::Regex, value: &str, replacement: &str) -> String {
    re.replace_all(value, regex::NoExpand(replacement))
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        let p = Prf::new("s");
        let a = email(&p, "Ada@Example.org", false);
        assert!(a.starts_with("user_") && a.ends_with("@example.com"));
        assert_eq!(a, email(&p, "Ada@Example.org", false));
        assert_ne!(a, email(&Prf::new("t"), "Ada@Example.org", false));
        assert!(email(&p, "ada@corp.io", true).ends_with("@corp.io"));
        assert!(email(&p, "no-at-sign", true).ends_with("@example.com"));
        assert!(email(&p, "", false).ends_with("@example.com"));
        // distinct inputs stay distinct (injective in practice)
        let set: std::collections::HashSet<String> = (0..20_000)
            .map(|i| email(&p, &format!("u{i}@x.io"), false))
            .collect();
        assert_eq!(set.len(), 20_000);
    }

    #[test]
    fn patterns_and_partials() {
        assert_eq!(pattern("123-45-6789", "***-**-####"), "***-**-6789");
        assert_eq!(pattern("12", "####"), "12**");
        assert_eq!(pattern("", "***"), "***");
        assert_eq!(partial("Ada Lovelace", 1, 2, '*'), "A*********ce");
        assert_eq!(partial("ab", 1, 1, '*'), "**");
        assert_eq!(partial("", 1, 1, '*'), "");
        assert_eq!(partial("日本語テキスト", 1, 1, '•'), "日•••••ト");
    }

    #[test]
    fn regex_redaction() {
        let re = regex::Regex::new(r"\d{3}-\d{2}-\d{4}").unwrap();
        assert_eq!(
            regex_redact(&re, "ssn 123-45-6789 and 987-65-4321", "[SSN]"),
            "ssn [SSN] and [SSN]"
        );
        assert_eq!(regex_redact(&re, "nothing", "$1"), "nothing");
    }
}
