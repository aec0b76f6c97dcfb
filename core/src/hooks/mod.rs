//! Migration hooks: phases, which migrations a hook applies to, and the
//! built-in hooks' options and verdicts. The server side (running them in
//! savepoints with timeouts) is `src/hooks/`.

pub mod builtin;

use std::fmt;

/// The phases of a migration, in the order they run. `OnError` runs only
/// when something in the migration or its hooks failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    BeforeValidation,
    BeforeDdl,
    AfterDdl,
    AfterValidation,
    Cleanup,
    OnError,
}

impl Phase {
    pub const ALL: [Phase; 6] = [
        Phase::BeforeValidation,
        Phase::BeforeDdl,
        Phase::AfterDdl,
        Phase::AfterValidation,
        Phase::Cleanup,
        Phase::OnError,
    ];

    pub fn parse(s: &str) -> Option<Phase> {
        Phase::ALL.into_iter().find(|p| p.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::BeforeValidation => "before_validation",
            Phase::BeforeDdl => "before_ddl",
            Phase::AfterDdl => "after_ddl",
            Phase::AfterValidation => "after_validation",
            Phase::Cleanup => "cleanup",
            Phase::OnError => "on_error",
        }
    }

    pub fn names() -> String {
        Phase::ALL.map(Phase::as_str).join(", ")
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Does a hook's migration selector match this migration?
///
/// `None` matches every migration; otherwise the selector is a version, or
/// a SQL `LIKE` pattern (`%`, `_`, `\` escapes) matched against the version
/// and the name, e.g. `'w_%'` or `'2024-%'`.
pub fn selects(selector: Option<&str>, version: &str, name: &str) -> bool {
    match selector {
        None => true,
        Some(s) => s == version || like(s, version) || like(s, name),
    }
}

/// SQL `LIKE` with the default escape character.
pub fn like(pattern: &str, text: &str) -> bool {
    fn go(p: &[char], t: &[char]) -> bool {
        match p.first() {
            None => t.is_empty(),
            Some('%') => (0..=t.len()).any(|i| go(&p[1..], &t[i..])),
            Some('_') => !t.is_empty() && go(&p[1..], &t[1..]),
            Some('\\') if p.len() > 1 => t.first() == Some(&p[1]) && go(&p[2..], &t[1..]),
            Some(c) => t.first() == Some(c) && go(&p[1..], &t[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    go(&p, &t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_round_trip_in_order() {
        for p in Phase::ALL {
            assert_eq!(Phase::parse(p.as_str()), Some(p));
        }
        assert!(Phase::BeforeValidation < Phase::Cleanup);
        assert_eq!(Phase::parse("after-ddl"), None);
    }

    #[test]
    fn selectors() {
        assert!(selects(None, "1", "x"));
        assert!(selects(Some("0042"), "0042", "add orders"));
        assert!(!selects(Some("42"), "0042", "add orders"));
        assert!(selects(Some("w_%"), "7", "w_orders_add_total"));
        assert!(!selects(Some("w_%"), "7", "r_orders"));
        assert!(selects(Some("2024-%"), "2024-01-02", "x"));
        assert!(selects(Some("w\\_%"), "7", "w_x"));
        assert!(!selects(Some("w\\_%"), "7", "wax"));
    }
}
