//! Identifiers longer than PostgreSQL's 63 bytes are silently truncated by
//! the parser (with only a NOTICE), so two long names can collide. The parse
//! tree holds the truncated name; this scans the statement's own text.

pub const MAX_BYTES: usize = 63;

/// Identifiers (unquoted words and "quoted" names) longer than 63 bytes,
/// skipping string literals, dollar-quoted bodies and comments.
pub fn too_long(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'-' && b.get(i + 1) == Some(&b'-') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            i = text[i + 2..].find("*/").map_or(b.len(), |j| i + 2 + j + 2);
        } else if c == b'\'' {
            i += 1;
            while i < b.len() {
                if b[i] == b'\'' {
                    if b.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            i += 1;
        } else if c == b'$' {
            // $tag$ ... $tag$
            let tag_end = text[i + 1..].find('$').map(|j| i + 1 + j);
            match tag_end {
                Some(e)
                    if text[i + 1..e]
                        .bytes()
                        .all(|x| x.is_ascii_alphanumeric() || x == b'_') =>
                {
                    let tag = &text[i..=e];
                    i = text[e + 1..]
                        .find(tag)
                        .map_or(b.len(), |j| e + 1 + j + tag.len());
                }
                _ => i += 1,
            }
        } else if c == b'"' {
            let end = text[i + 1..].find('"').map_or(b.len(), |j| i + 1 + j);
            let name = &text[(i + 1).min(end)..end];
            if name.len() > MAX_BYTES {
                out.push(name.to_owned());
            }
            i = end + 1;
        } else if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 {
            let start = i;
            while i < b.len()
                && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$' || b[i] >= 0x80)
            {
                i += 1;
            }
            if i - start > MAX_BYTES {
                out.push(text[start..i].to_owned());
            }
        } else {
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_long_names_but_not_long_strings() {
        let long = "x".repeat(64);
        assert_eq!(
            too_long(&format!("CREATE INDEX {long} ON t (a)")),
            vec![long.clone()]
        );
        assert_eq!(
            too_long(&format!("CREATE TABLE \"{long}\" (a int)")),
            vec![long.clone()]
        );
        assert!(too_long(&format!("SELECT '{long}' -- {long}\n")).is_empty());
        assert!(too_long(&format!(
            "CREATE FUNCTION f() RETURNS int AS $$ SELECT {long} $$ LANGUAGE sql"
        ))
        .is_empty());
        assert!(too_long(&"y".repeat(63)).is_empty());
        assert!(too_long("unterminated 'string").is_empty());
        assert!(too_long("\"unterminated").is_empty());
    }
}
