//! Every rule the command can report: the migration rules of
//! `confiture_core::lint` (run unchanged), and the few findings only the
//! command makes, about what it read rather than about the schema change.

use confiture_core::lint::{catalog, rules, Severity};

/// What a report needs to know about a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleInfo {
    pub id: &'static str,
    pub severity: Severity,
    pub message: &'static str,
    pub why: &'static str,
    pub alternative: &'static str,
}

/// The text does not parse (the server reports the same rule).
pub const SYNTAX_ERROR: RuleInfo = RuleInfo {
    id: "syntax-error",
    severity: Severity::Error,
    message: "the SQL does not parse",
    why: "A migration that does not parse fails when it runs.",
    alternative: "Fix the SQL; PostgreSQL 18's parser (used offline) rejects it.",
};

/// A `:variable` nothing sets.
pub const PSQL_VARIABLE: RuleInfo = RuleInfo {
    id: "psql-variable",
    severity: Severity::Error,
    message: "psql variable is not set",
    why: "psql leaves an unset :variable in the SQL as it is, and the server then rejects the statement.",
    alternative: "Set it with -v name=value (as for psql), in [lint.variables] of confiture.toml, or with \\set in the script.",
};

/// A statement that cannot run inside the migration's transaction.
pub const NON_TRANSACTIONAL: RuleInfo = RuleInfo {
    id: "non-transactional",
    severity: Severity::Error,
    message: "statement cannot run inside a transaction block",
    why: "confiture.migrate (and psql --single-transaction, or a BEGIN … COMMIT around the file) runs a migration in one transaction; this statement fails there, or ends the transaction half way.",
    alternative: "Move it to a migration that runs outside a transaction (lint it with transactional = false).",
};

/// A statement nested too deeply to be read offline.
pub const PARSE_LIMIT: RuleInfo = RuleInfo {
    id: "parse-limit",
    severity: Severity::Error,
    message: "statement nests too deeply to be checked offline",
    why: "The offline parser's tree is read with a nesting limit; rules could not look at this statement.",
    alternative: "Lint this file with --database (the server's own parser), or simplify the expression.",
};

/// The command's own findings.
pub const COMMAND_RULES: [RuleInfo; 4] =
    [SYNTAX_ERROR, PSQL_VARIABLE, NON_TRANSACTIONAL, PARSE_LIMIT];

/// Migration rules (core) and the command's own, in report order.
pub fn all() -> Vec<RuleInfo> {
    let mut out: Vec<RuleInfo> = rules::ALL
        .iter()
        .map(|r| RuleInfo {
            id: r.id,
            severity: r.severity,
            message: r.message,
            why: r.why,
            alternative: r.alternative,
        })
        .collect();
    out.extend(COMMAND_RULES);
    out
}

/// A rule a configuration may name: migration rules, the command's own,
/// and the catalog rules (which only `confiture.lint_schema` in a server runs).
pub fn is_known(id: &str) -> bool {
    rules::ALL.iter().any(|r| r.id == id)
        || COMMAND_RULES.iter().any(|r| r.id == id)
        || catalog::ALL.iter().any(|r| r.id == id)
}
