//! `-- confiture:ignore rule-a, rule-b` on the lines just before a
//! statement silences those rules for it; `confiture:ignore-file rule`
//! anywhere silences them for the whole script; `all` silences every rule.

use std::collections::BTreeSet;

fn rules_after(text: &str, marker: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text.lines() {
        if let Some(i) = line.find(marker) {
            let rest = &line[i + marker.len()..];
            if !rest.starts_with(|c: char| c.is_whitespace()) {
                continue; // "confiture:ignore-file" is not "confiture:ignore"
            }
            for r in rest
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|r| !r.is_empty())
            {
                if r.starts_with("--") || r.starts_with("*/") {
                    break;
                }
                out.insert(r.to_ascii_lowercase());
            }
        }
    }
    out
}

pub fn file_ignores(src: &str) -> BTreeSet<String> {
    rules_after(src, "confiture:ignore-file")
}

/// Rules ignored by comments between the previous statement's end and this one's start.
pub fn statement_ignores(src: &str, from: usize, stmt_start: usize) -> BTreeSet<String> {
    let between = crate::source::leading_comments(src, from, stmt_start);
    rules_after(between, "confiture:ignore")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignore_comments() {
        let src = "-- confiture:ignore index-not-concurrent, drop-column\nCREATE INDEX i ON t (a);";
        let i = statement_ignores(src, 0, src.find("CREATE").unwrap());
        assert!(i.contains("index-not-concurrent") && i.contains("drop-column"));
        assert!(file_ignores(src).is_empty());
        let f = file_ignores("/* confiture:ignore-file prefer-text */ SELECT 1");
        assert!(f.contains("prefer-text"));
    }
}
