//! Writing SQL text safely: literals quoted as the server quotes them, and
//! secrets taken out of statements before they are stored.

/// PostgreSQL's `quote_literal`: quotes and backslashes doubled, and an `E`
/// prefix when there is a backslash, so the literal reads the same whether
/// `standard_conforming_strings` is on or off.
pub fn quote_literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 3);
    if value.contains('\\') {
        out.push('E');
    }
    out.push('\'');
    for c in value.chars() {
        if c == '\'' || c == '\\' {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// Command tags whose statements may carry credentials: passwords of roles,
/// options of foreign servers and user mappings, server settings.
pub fn carries_secrets(tag: &str) -> bool {
    matches!(
        tag,
        "CREATE ROLE"
            | "ALTER ROLE"
            | "CREATE USER MAPPING"
            | "ALTER USER MAPPING"
            | "CREATE SERVER"
            | "ALTER SERVER"
            | "ALTER SYSTEM"
            | "CREATE SUBSCRIPTION"
            | "ALTER SUBSCRIPTION"
    )
}

/// What stands where a secret was.
pub const REDACTED: &str = "'[redacted]'";

/// `statement` with every string literal (plain, `E''`, `U&''`, `B''`/`X''`
/// and dollar-quoted) replaced by [`REDACTED`]. Comments and identifiers are
/// kept. An unterminated literal is redacted to the end.
pub fn redact_literals(statement: &str) -> String {
    let b = statement.as_bytes();
    let mut out = String::with_capacity(statement.len());
    let mut i = 0;
    let mut copied = 0;
    while i < b.len() {
        match b[i] {
            b'-' if b.get(i + 1) == Some(&b'-') => {
                i = statement[i..].find('\n').map_or(b.len(), |n| i + n);
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = statement[i + 2..]
                    .find("*/")
                    .map_or(b.len(), |n| i + 2 + n + 2);
            }
            b'"' => {
                i += 1;
                while i < b.len() {
                    if b[i] == b'"' {
                        if b.get(i + 1) == Some(&b'"') {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'\'' => {
                // E'..' (backslash escapes) when the letter before is E.
                let mut start = i;
                let escapes = i > 0 && matches!(b[i - 1], b'e' | b'E');
                if i > 0
                    && matches!(
                        b[i - 1],
                        b'e' | b'E' | b'b' | b'B' | b'x' | b'X' | b'n' | b'N'
                    )
                {
                    start = i - 1;
                }
                if i > 1 && b[i - 1] == b'&' && matches!(b[i - 2], b'u' | b'U') {
                    start = i - 2;
                }
                let mut j = i + 1;
                while j < b.len() {
                    if escapes && b[j] == b'\\' {
                        j += 2;
                        continue;
                    }
                    if b[j] == b'\'' {
                        if b.get(j + 1) == Some(&b'\'') {
                            j += 2;
                            continue;
                        }
                        break;
                    }
                    j += 1;
                }
                out.push_str(&statement[copied..start]);
                out.push_str(REDACTED);
                i = (j + 1).min(b.len());
                copied = i;
            }
            b'$' => {
                // $tag$ ... $tag$ (a tag is empty or an identifier; $1 is a parameter)
                let rest = &statement[i + 1..];
                let tag_len = rest.find('$').filter(|&n| {
                    rest[..n].chars().enumerate().all(|(k, c)| {
                        c == '_' || c.is_alphabetic() || (k > 0 && c.is_ascii_digit())
                    })
                });
                match tag_len {
                    Some(n) => {
                        let delim = &statement[i..i + n + 2];
                        let body = i + n + 2;
                        let end = statement[body..]
                            .find(delim)
                            .map_or(b.len(), |k| body + k + delim.len());
                        out.push_str(&statement[copied..i]);
                        out.push_str(REDACTED);
                        i = end;
                        copied = i;
                    }
                    None => i += 1,
                }
            }
            _ => i += 1,
        }
        // never split a UTF-8 sequence
        while i < b.len() && !statement.is_char_boundary(i) {
            i += 1;
        }
    }
    if copied < b.len() {
        out.push_str(&statement[copied.min(b.len())..]);
    }
    out
}

/// The text to store for a statement with this command tag.
pub fn redact_statement(tag: &str, statement: &str) -> String {
    if carries_secrets(tag) {
        redact_literals(statement)
    } else {
        statement.to_owned()
    }
}

/// The text to log for a DDL command with tag `tag` that `statement` ran.
/// Usually `statement` is the command itself; when the command ran inside
/// it (a `DO` block, a function call), `statement` is the top-level
/// statement, which may also have run a command that carries secrets: it
/// is then redacted whenever it mentions one.
pub fn redact_logged(tag: &str, statement: &str) -> String {
    let own = first_word(statement).eq_ignore_ascii_case(first_word(tag));
    if carries_secrets(tag) || (!own && mentions_secrets(statement)) {
        redact_literals(statement)
    } else {
        statement.to_owned()
    }
}

fn first_word(s: &str) -> &str {
    let s = s.trim_start();
    let end = s
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(s.len());
    &s[..end]
}

/// Does `statement` name a command that can carry credentials?
fn mentions_secrets(statement: &str) -> bool {
    const WORDS: [&str; 8] = [
        "password",
        "role",
        "user",
        "mapping",
        "server",
        "system",
        "subscription",
        "connection",
    ];
    let lower = statement.to_ascii_lowercase();
    let b = lower.as_bytes();
    let is_word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    WORDS.iter().any(|w| {
        lower.match_indices(w).any(|(i, _)| {
            (i == 0 || !is_word(b[i - 1])) && b.get(i + w.len()).is_none_or(|&c| !is_word(c))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_are_quoted_like_the_server() {
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(
            quote_literal(r"a\'; DROP TABLE t; --"),
            r"E'a\\''; DROP TABLE t; --'"
        );
        assert_eq!(quote_literal(""), "''");
    }

    #[test]
    fn passwords_are_redacted() {
        let s = "ALTER ROLE alice PASSWORD 's3cret' VALID UNTIL '2030-01-01'";
        let r = redact_statement("ALTER ROLE", s);
        assert!(!r.contains("s3cret"), "{r}");
        assert!(
            r.starts_with("ALTER ROLE alice PASSWORD '[redacted]'"),
            "{r}"
        );
        let m = "CREATE USER MAPPING FOR bob SERVER s OPTIONS (user 'bob', password E'p\\'w')";
        let r = redact_statement("CREATE USER MAPPING", m);
        assert!(!r.contains("p\\'w") && !r.contains("'bob'"), "{r}");
        let d = "ALTER SERVER s OPTIONS (SET password $x$hunter2$x$) -- it's fine";
        assert!(!redact_statement("ALTER SERVER", d).contains("hunter2"));
        assert!(redact_statement("ALTER SERVER", d).contains("-- it's fine"));
    }

    #[test]
    fn statements_that_ran_secret_commands_are_redacted() {
        let block = "DO $$BEGIN CREATE TABLE t (); CREATE ROLE r PASSWORD 'p'; END$$";
        assert!(!redact_logged("CREATE TABLE", block).contains("'p'"));
        let plain = "DO $$BEGIN CREATE TABLE t (c text DEFAULT 'x'); END$$";
        assert_eq!(redact_logged("CREATE TABLE", plain), plain);
        // the command's own text: only secret-carrying tags are redacted
        let own = "CREATE TABLE users (password text DEFAULT 'x')";
        assert_eq!(redact_logged("CREATE TABLE", own), own);
        assert!(!redact_logged("ALTER ROLE", "ALTER ROLE a PASSWORD 'p'").contains("'p'"));
        assert_eq!(
            redact_logged("CREATE TABLE", "SELECT make_users()"),
            "SELECT make_users()"
        );
    }

    #[test]
    fn other_statements_are_kept() {
        let s = "CREATE TABLE t (c text DEFAULT 'x')";
        assert_eq!(redact_statement("CREATE TABLE", s), s);
    }

    #[test]
    fn hostile_text_does_not_panic() {
        for s in [
            "'", "E'\\", "$", "$a", "$a$", "/*", "--", "\"", "U&'", "é'é", "'é\\",
        ] {
            let r = redact_literals(s);
            assert!(!r.contains("é\\") || s == "é'é");
        }
        let big = "'x".repeat(100_000);
        redact_literals(&big);
    }
}
