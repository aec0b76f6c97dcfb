//! psql scripts as plain SQL.
//!
//! Migration files are often psql scripts: `\set ON_ERROR_STOP 1`,
//! `:variables`, `\ir` includes, a `BEGIN; … COMMIT;` around everything.
//! [`preprocess`] turns such a script into the SQL the server would receive,
//! without moving anything: meta-command lines become spaces (newlines are
//! kept, so line numbers stay those of the file), a meta-command that sends
//! the query buffer (`\g`, `\gset` …) becomes a `;`, and variables are
//! substituted as psql does. Only substitution changes lengths, and
//! [`Script::original_offset`] maps offsets of the result back to the file.
//!
//! The scanner follows psql's lexer (`psqlscan.l`) in what matters here:
//! nothing is substituted inside string literals, quoted identifiers,
//! dollar quotes or comments, `::` is a cast, `;` inside parentheses or
//! inside a `BEGIN ATOMIC … END` function body does not end a statement.
//! It is a single loop without recursion: any input, however large, deep
//! or unterminated, is scanned in linear time.

use crate::source::{line_col, Span};
use std::collections::{BTreeMap, BTreeSet};

/// psql variables by name.
pub type Variables = BTreeMap<String, String>;

/// Variables psql sets itself when it connects or runs a query: a script
/// may use them, and only the run knows their values.
const RUNTIME_VARIABLES: &[&str] = &[
    "AUTOCOMMIT",
    "DBNAME",
    "ENCODING",
    "HOST",
    "PORT",
    "USER",
    "VERSION",
    "VERSION_NAME",
    "VERSION_NUM",
    "SERVER_VERSION_NAME",
    "SERVER_VERSION_NUM",
    "LAST_ERROR_MESSAGE",
    "LAST_ERROR_SQLSTATE",
    "ERROR",
    "SQLSTATE",
    "ROW_COUNT",
    "SHELL_ERROR",
    "SHELL_EXIT_CODE",
];

/// Meta-commands that send the query buffer: for the server they end a statement, like `;`.
const SENDS_BUFFER: &[&str] = &["g", "gx", "gset", "gexec", "gdesc", "crosstabview", "watch"];

/// At most this many `\i` / `\ir` are recorded per script (each keeps a copy of the variables).
pub const MAX_INCLUDES: usize = 1000;

/// A `:name` that no variable defines, at its byte offset in the original script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariableRef {
    pub name: String,
    pub offset: usize,
}

/// A `\i` / `\include` (relative to the working directory) or `\ir` /
/// `\include_relative` (relative to the including file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Include {
    pub path: String,
    pub relative: bool,
    /// 1-based line of the meta-command in the original script.
    pub line: usize,
    /// The variables as they are where the file is included.
    pub variables: Variables,
}

/// A `BEGIN` … `COMMIT` that wraps the whole script: byte spans of the two
/// statements (with their `;`) in [`Script::text`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransactionWrapper {
    pub begin: Span,
    pub commit: Span,
}

/// A replaced range: `processed` in the result stands for `original` in the script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Edit {
    processed: Span,
    original: Span,
}

/// The SQL of a psql script, and what the script asked of psql.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// The SQL the server would receive, with the script's line structure.
    pub text: String,
    /// Variables the script uses but nothing sets, in order of appearance.
    /// Each was replaced by its name (`:tbl` → ` tbl`, `:'v'` → ` 'v'`) so
    /// the rest of the statement still parses.
    pub unresolved: Vec<VariableRef>,
    pub includes: Vec<Include>,
    /// More includes than [`MAX_INCLUDES`] were left out.
    pub includes_truncated: bool,
    pub transaction_wrapper: Option<TransactionWrapper>,
    /// The variables at the end of the script (given ones, changed by `\set` / `\unset`).
    pub variables: Variables,
    edits: Vec<Edit>,
    /// A non-ASCII character was blanked: columns after it on its line count
    /// differently in the text (one space a byte) than in the script.
    blanked_non_ascii: bool,
}

impl Script {
    /// The byte offset in the original script of byte `processed` of
    /// [`Script::text`]. Inside a substituted value: the start of the
    /// variable reference.
    pub fn original_offset(&self, processed: usize) -> usize {
        let after = self
            .edits
            .partition_point(|e| e.processed.start <= processed);
        match after.checked_sub(1).map(|i| self.edits[i]) {
            None => processed,
            Some(e) if processed < e.processed.end => e.original.start,
            Some(e) => processed - e.processed.end + e.original.end,
        }
    }

    /// Line and column (1-based, in characters) in `original` of a position
    /// given as line and column in [`Script::text`].
    pub fn original_line_col(&self, original: &str, line: usize, column: usize) -> (usize, usize) {
        if line == 0 || (self.edits.is_empty() && !self.blanked_non_ascii) {
            return (line, column); // "no position" stays so; so does every position of an unchanged layout
        }
        let processed = offset_of(&self.text, line, column);
        line_col(original, self.original_offset(processed))
    }

    /// Blank the transaction wrapper, if there is one; true when there was.
    pub fn blank_transaction_wrapper(&mut self) -> bool {
        match self.transaction_wrapper {
            Some(w) => {
                for span in [w.begin, w.commit] {
                    self.blanked_non_ascii |= !span.text(&self.text).is_ascii();
                    blank(&mut self.text, span);
                }
                true
            }
            None => false,
        }
    }
}

/// Replace `span` of `text` with spaces, keeping newlines and every byte offset.
pub fn blank(text: &mut String, span: Span) {
    let end = span.end.min(text.len());
    let start = span.start.min(end);
    if !text.is_char_boundary(start) || !text.is_char_boundary(end) {
        return;
    }
    let blanked: String = text[start..end]
        .bytes()
        .map(|b| if b == b'\n' { '\n' } else { ' ' })
        .collect();
    text.replace_range(start..end, &blanked);
}

/// The byte offset of a 1-based line and column (in characters); past the
/// end of a line: its end; past the last line: the end of the text.
pub fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut start = 0;
    for _ in 1..line.max(1) {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    let line_text = &text[start..];
    let line_end = line_text.find('\n').unwrap_or(line_text.len());
    line_text[..line_end]
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(start + line_end, |(i, _)| start + i)
}

/// Turn a psql script into SQL; `variables` are those given with `-v`.
pub fn preprocess(src: &str, variables: &Variables) -> Script {
    let mut scanner = Scanner::new(src, variables);
    scanner.run();
    scanner.finish()
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}
fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}
/// psql's `variable_char`.
fn is_variable_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// psql's quoting of `:'name'` (PQescapeLiteral).
fn quote_literal(value: &str) -> String {
    let doubled = value.replace('\'', "''");
    if value.contains('\\') {
        format!(" E'{}'", doubled.replace('\\', "\\\\"))
    } else {
        format!("'{doubled}'")
    }
}

/// psql's quoting of `:"name"` (PQescapeIdentifier).
fn quote_identifier(value: &str) -> String {
    format!("\"{}\"", value.replace('"', "\"\""))
}

/// One top-level statement seen by the scanner.
struct StatementInfo {
    span: Span,
    /// Its leading keywords, upper case (up to the first token that is not a word).
    words: Vec<String>,
}

impl StatementInfo {
    fn word(&self, i: usize) -> &str {
        self.words.get(i).map_or("", String::as_str)
    }
    fn is_begin(&self) -> bool {
        self.word(0) == "BEGIN" || (self.word(0) == "START" && self.word(1) == "TRANSACTION")
    }
    fn is_commit(&self) -> bool {
        matches!(self.word(0), "COMMIT" | "END") && self.word(1) != "PREPARED"
    }
    fn is_transaction_control(&self) -> bool {
        self.is_begin()
            || matches!(self.word(0), "COMMIT" | "END" | "ROLLBACK" | "ABORT")
            || (self.word(0) == "PREPARE" && self.word(1) == "TRANSACTION")
    }
}

/// The statement being scanned.
#[derive(Default)]
struct Current {
    start: Option<usize>,
    last_token_end: usize,
    words: Vec<String>,
    leading_words_only: bool,
    /// psql's heuristic for `CREATE [OR REPLACE] FUNCTION|PROCEDURE … BEGIN ATOMIC … END`.
    identifiers: [u8; 4],
    identifier_count: usize,
    begin_depth: usize,
    paren_depth: usize,
    bracket_depth: usize,
    previous_was_from: bool,
    copy_from_stdin: bool,
}

struct Scanner<'a> {
    src: &'a str,
    b: &'a [u8],
    i: usize,
    out: Vec<u8>,
    edits: Vec<Edit>,
    variables: Variables,
    /// Variables whose value only the run knows (psql's own, backquotes).
    runtime: BTreeSet<String>,
    unresolved: Vec<VariableRef>,
    includes: Vec<Include>,
    includes_truncated: bool,
    statements: Vec<StatementInfo>,
    current: Current,
    /// COPY … FROM STDIN data follows the current line.
    copy_data_next_line: bool,
    blanked_non_ascii: bool,
    /// Line counting for includes: newlines before `line_pos`.
    line: usize,
    line_pos: usize,
}

impl<'a> Scanner<'a> {
    fn new(src: &'a str, variables: &Variables) -> Self {
        Scanner {
            src,
            b: src.as_bytes(),
            i: 0,
            out: Vec::with_capacity(src.len()),
            edits: Vec::new(),
            variables: variables.clone(),
            runtime: RUNTIME_VARIABLES
                .iter()
                .filter(|v| !variables.contains_key(**v))
                .map(|v| v.to_string())
                .collect(),
            unresolved: Vec::new(),
            includes: Vec::new(),
            includes_truncated: false,
            statements: Vec::new(),
            current: Current {
                leading_words_only: true,
                ..Default::default()
            },
            copy_data_next_line: false,
            blanked_non_ascii: false,
            line: 1,
            line_pos: 0,
        }
    }

    fn peek(&self, k: usize) -> Option<u8> {
        self.b.get(self.i + k).copied()
    }

    /// Copy `src[i..to]` unchanged.
    fn copy_to(&mut self, to: usize) {
        let to = to.min(self.b.len());
        self.out.extend_from_slice(&self.b[self.i..to]);
        self.i = to;
    }

    /// Replace `src[i..to]` with spaces (newlines kept).
    fn blank_to(&mut self, to: usize) {
        let to = to.min(self.b.len());
        self.blanked_non_ascii |= !self.b[self.i..to].is_ascii();
        self.out.extend(
            self.b[self.i..to]
                .iter()
                .map(|&c| if c == b'\n' { b'\n' } else { b' ' }),
        );
        self.i = to;
    }

    /// Replace `src[i..to]` with `text`, remembering the change of length.
    fn substitute(&mut self, to: usize, text: &str) {
        let processed = Span::new(self.out.len(), self.out.len() + text.len());
        let original = Span::new(self.i, to);
        self.out.extend_from_slice(text.as_bytes());
        self.i = to;
        if processed.end - processed.start != original.end - original.start
            || text.as_bytes() != &self.b[original.start..original.end]
        {
            self.edits.push(Edit {
                processed,
                original,
            });
        }
    }

    /// The 1-based line of byte `pos` of the original (positions only move forward).
    fn line_at(&mut self, pos: usize) -> usize {
        let pos = pos.min(self.b.len());
        if pos >= self.line_pos {
            self.line += self.b[self.line_pos..pos]
                .iter()
                .filter(|&&c| c == b'\n')
                .count();
            self.line_pos = pos;
        }
        self.line
    }

    /// A token of the current statement ends at `out.len()`; it started at `start`.
    fn token(&mut self, start: usize) {
        if self.current.start.is_none() {
            self.current.start = Some(start);
        }
        self.current.last_token_end = self.out.len();
    }

    fn non_word_token(&mut self, start: usize) {
        self.token(start);
        self.current.leading_words_only = false;
    }

    fn end_statement(&mut self, end: usize) {
        let current = std::mem::replace(
            &mut self.current,
            Current {
                leading_words_only: true,
                ..Default::default()
            },
        );
        if let Some(start) = current.start {
            self.statements.push(StatementInfo {
                span: Span::new(start, end.max(start)),
                words: current.words,
            });
        }
        if current.copy_from_stdin {
            self.copy_data_next_line = true;
        }
    }

    fn run(&mut self) {
        while self.i < self.b.len() {
            let c = self.b[self.i];
            match c {
                b'\n' => {
                    self.copy_to(self.i + 1);
                    if self.copy_data_next_line {
                        self.copy_data_next_line = false;
                        self.skip_copy_data();
                    }
                }
                b'-' if self.peek(1) == Some(b'-') => {
                    let end = self.src[self.i..]
                        .find('\n')
                        .map_or(self.b.len(), |j| self.i + j);
                    self.copy_to(end);
                }
                b'/' if self.peek(1) == Some(b'*') => self.block_comment(),
                b'\'' => {
                    let start = self.out.len();
                    self.string_literal(false);
                    self.non_word_token(start);
                }
                b'"' => {
                    let start = self.out.len();
                    self.quoted(b'"');
                    self.non_word_token(start);
                }
                b'$' => self.dollar(),
                b'\\' => self.meta_command(),
                b':' => self.colon(),
                b';' => {
                    let start = self.out.len();
                    self.copy_to(self.i + 1);
                    let cur = &self.current;
                    if cur.paren_depth == 0 && cur.begin_depth == 0 {
                        self.end_statement(self.out.len());
                    } else {
                        self.non_word_token(start);
                    }
                }
                b'(' | b')' | b'[' | b']' => {
                    let start = self.out.len();
                    let cur = &mut self.current;
                    match c {
                        b'(' => cur.paren_depth += 1,
                        b')' => cur.paren_depth = cur.paren_depth.saturating_sub(1),
                        b'[' => cur.bracket_depth += 1,
                        _ => cur.bracket_depth = cur.bracket_depth.saturating_sub(1),
                    }
                    self.copy_to(self.i + 1);
                    self.non_word_token(start);
                }
                c if is_ident_start(c) => self.word(),
                c if c.is_ascii_digit() => {
                    let start = self.out.len();
                    let mut j = self.i;
                    while j < self.b.len()
                        && (self.b[j].is_ascii_alphanumeric()
                            || self.b[j] == b'.'
                            || self.b[j] == b'_')
                    {
                        j += 1;
                    }
                    self.copy_to(j);
                    self.non_word_token(start);
                }
                c if c.is_ascii_whitespace() => self.copy_to(self.i + 1),
                _ => {
                    let start = self.out.len();
                    // one whole character (never split a UTF-8 sequence)
                    let len = self.src[self.i..].chars().next().map_or(1, char::len_utf8);
                    self.copy_to(self.i + len);
                    self.non_word_token(start);
                }
            }
        }
    }

    fn finish(mut self) -> Script {
        let end = self.current.last_token_end;
        self.end_statement(end);
        let transaction_wrapper = match self.statements.as_slice() {
            [first, middle @ .., last]
                if first.is_begin()
                    && last.is_commit()
                    && !middle.iter().any(StatementInfo::is_transaction_control) =>
            {
                Some(TransactionWrapper {
                    begin: first.span,
                    commit: last.span,
                })
            }
            _ => None,
        };
        let text = String::from_utf8(self.out)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        Script {
            text,
            unresolved: self.unresolved,
            includes: self.includes,
            includes_truncated: self.includes_truncated,
            transaction_wrapper,
            variables: self.variables,
            edits: self.edits,
            blanked_non_ascii: self.blanked_non_ascii,
        }
    }

    fn block_comment(&mut self) {
        // nested, as in PostgreSQL; unterminated runs to the end
        let mut depth = 0usize;
        let mut j = self.i;
        while j < self.b.len() {
            if self.b[j..].starts_with(b"/*") {
                depth += 1;
                j += 2;
            } else if self.b[j..].starts_with(b"*/") {
                depth -= 1;
                j += 2;
                if depth == 0 {
                    break;
                }
            } else {
                j += 1;
            }
        }
        self.copy_to(j);
    }

    /// A string literal at `i` (the quote); `escapes` for E'...'.
    fn string_literal(&mut self, escapes: bool) {
        let mut j = self.i + 1;
        while j < self.b.len() {
            match self.b[j] {
                b'\\' if escapes => j += 2,
                b'\'' if self.b.get(j + 1) == Some(&b'\'') => j += 2,
                b'\'' => {
                    j += 1;
                    break;
                }
                _ => j += 1,
            }
        }
        self.copy_to(j);
    }

    /// A quoted identifier at `i`.
    fn quoted(&mut self, quote: u8) {
        let mut j = self.i + 1;
        while j < self.b.len() {
            if self.b[j] == quote {
                if self.b.get(j + 1) == Some(&quote) {
                    j += 2;
                    continue;
                }
                j += 1;
                break;
            }
            j += 1;
        }
        self.copy_to(j);
    }

    /// `$tag$ … $tag$`, or a `$1` parameter, or a lone `$`.
    fn dollar(&mut self) {
        let start = self.out.len();
        let mut j = self.i + 1;
        if j < self.b.len() && is_ident_start(self.b[j]) {
            while j < self.b.len() && is_ident_char(self.b[j]) && self.b[j] != b'$' {
                j += 1;
            }
        }
        if self.b.get(j) == Some(&b'$') {
            let tag = &self.src[self.i..=j];
            let body = j + 1;
            let end = self.src[body..]
                .find(tag)
                .map_or(self.b.len(), |k| body + k + tag.len());
            self.copy_to(end);
        } else {
            let mut k = self.i + 1;
            while k < self.b.len() && self.b[k].is_ascii_digit() {
                k += 1;
            }
            self.copy_to(k);
        }
        self.non_word_token(start);
    }

    fn word(&mut self) {
        let start_out = self.out.len();
        let mut j = self.i;
        while j < self.b.len() && is_ident_char(self.b[j]) {
            j += 1;
        }
        let word = &self.src[self.i..j];
        // E'...' has backslash escapes; U&'...', B'...', X'...' do not
        let e_string = (word == "E" || word == "e") && self.b.get(j) == Some(&b'\'');
        self.copy_to(j);
        if e_string {
            self.string_literal(true);
            self.non_word_token(start_out);
            return;
        }
        self.token(start_out);
        let is = |k: &str| word.eq_ignore_ascii_case(k);
        let cur = &mut self.current;
        if cur.leading_words_only && cur.words.len() < 4 {
            cur.words.push(word.to_ascii_uppercase());
        }
        if cur.previous_was_from
            && is("STDIN")
            && cur.words.first().map(String::as_str) == Some("COPY")
        {
            cur.copy_from_stdin = true;
        }
        cur.previous_was_from = is("FROM");
        // psql's BEGIN ATOMIC heuristic (psqlscan.l, {identifier})
        if cur.identifier_count == 0 {
            cur.identifiers = [0; 4];
        }
        if cur.identifier_count < 4
            && ["CREATE", "FUNCTION", "PROCEDURE", "OR", "REPLACE"]
                .iter()
                .any(|k| is(k))
        {
            cur.identifiers[cur.identifier_count] = word.as_bytes()[0].to_ascii_lowercase();
        }
        cur.identifier_count += 1;
        let ids = cur.identifiers;
        let in_routine = ids[0] == b'c'
            && (ids[1] == b'f'
                || ids[1] == b'p'
                || (ids[1] == b'o' && ids[2] == b'r' && (ids[3] == b'f' || ids[3] == b'p')));
        if in_routine && cur.paren_depth == 0 {
            // CASE also ends with END, but matters only inside a BEGIN
            if is("BEGIN") || (is("CASE") && cur.begin_depth >= 1) {
                cur.begin_depth += 1;
            } else if is("END") {
                cur.begin_depth = cur.begin_depth.saturating_sub(1);
            }
        }
    }

    /// `:name`, `:'name'`, `:"name"`, `:{?name}`, `::`, or a plain colon.
    fn colon(&mut self) {
        let start_out = self.out.len();
        let name_from = |k: usize| {
            let mut e = k;
            while e < self.b.len() && is_variable_char(self.b[e]) {
                e += 1;
            }
            e
        };
        match self.peek(1) {
            Some(b':') => self.copy_to(self.i + 2),
            Some(q @ (b'\'' | b'"')) => {
                let end = name_from(self.i + 2);
                if end > self.i + 2 && self.b.get(end) == Some(&q) {
                    let name = self.src[self.i + 2..end].to_owned();
                    self.variable(&name, end + 1, Some(q));
                } else {
                    self.copy_to(self.i + 1);
                }
            }
            Some(b'{') if self.peek(2) == Some(b'?') => {
                let end = name_from(self.i + 3);
                if end > self.i + 3 && self.b.get(end) == Some(&b'}') {
                    let defined = self.variables.contains_key(&self.src[self.i + 3..end]);
                    self.substitute(end + 1, if defined { "TRUE" } else { "FALSE" });
                } else {
                    self.copy_to(self.i + 1);
                }
            }
            Some(c) if is_variable_char(c) => {
                let end = name_from(self.i + 1);
                let name = self.src[self.i + 1..end].to_owned();
                self.variable(&name, end, None);
            }
            _ => self.copy_to(self.i + 1),
        }
        self.non_word_token(start_out);
    }

    /// Substitute variable `name` referenced by `src[i..end]`, quoted as `quote` says.
    fn variable(&mut self, name: &str, end: usize, quote: Option<u8>) {
        if let Some(value) = self.variables.get(name).cloned() {
            let text = match quote {
                Some(b'\'') => quote_literal(&value),
                Some(_) => quote_identifier(&value),
                None => value,
            };
            self.substitute(end, &text);
            return;
        }
        // psql leaves an unknown :name as it is; `a[1:2]` and `a[lo:hi]` are array slices
        let slice = quote.is_none()
            && (self.current.bracket_depth > 0 || name.as_bytes()[0].is_ascii_digit());
        if slice {
            self.copy_to(end);
            return;
        }
        if !self.runtime.contains(name) {
            self.unresolved.push(VariableRef {
                name: name.to_owned(),
                offset: self.i,
            });
        }
        // the name in place of the reference keeps the statement parseable
        self.out.push(b' ');
        self.i += 1;
        self.copy_to(end);
    }

    /// A backslash at top level: a meta-command, to the end of the line or a `\\`.
    fn meta_command(&mut self) {
        let start = self.i;
        let start_out = self.out.len();
        match self.peek(1) {
            // \; puts a ';' in the query buffer; \: a literal ':'
            Some(b';') => {
                self.blank_to(self.i + 1);
                self.copy_to(self.i + 1);
                if self.current.paren_depth == 0 && self.current.begin_depth == 0 {
                    self.end_statement(self.out.len());
                }
                return;
            }
            Some(b':') => {
                self.blank_to(self.i + 1);
                self.copy_to(self.i + 1);
                self.non_word_token(start_out + 1);
                return;
            }
            _ => {}
        }
        let mut j = self.i + 1;
        while j < self.b.len() && self.b[j].is_ascii_graphic() && self.b[j] != b'\\' {
            j += 1;
        }
        let name = self.src[self.i + 1..j].to_owned();
        let args_start = j;
        let args_end = self.meta_args_end(j);
        let args = self.src[args_start..args_end].trim().to_owned();
        let line = self.line_at(start);
        let sends = SENDS_BUFFER.contains(&name.as_str());
        if sends {
            self.out.push(b';');
            self.i += 1;
        }
        self.blank_to(args_end);
        // the `\\` separator: blank it, SQL may follow on the same line
        if self.b[self.i..].starts_with(b"\\\\") {
            self.blank_to(self.i + 2);
        }
        if sends && self.current.paren_depth == 0 {
            self.end_statement(start_out + 1);
        }
        let arguments = self.meta_arguments(&args);
        match name.as_str() {
            "set" => {
                if let Some((var, value)) = arguments.split_first() {
                    if value.iter().any(|a| a.backquoted) {
                        // the output of a shell command: known only when psql runs
                        self.variables.remove(&var.text);
                        self.runtime.insert(var.text.clone());
                    } else {
                        let value: String = value.iter().map(|a| a.text.as_str()).collect();
                        self.variables.insert(var.text.clone(), value);
                        self.runtime.remove(&var.text);
                    }
                }
            }
            "unset" => {
                if let Some(var) = arguments.first() {
                    self.variables.remove(&var.text);
                    self.runtime.remove(&var.text);
                }
            }
            "i" | "include" | "ir" | "include_relative" => {
                if let Some(path) = arguments.first() {
                    if self.includes.len() < MAX_INCLUDES {
                        self.includes.push(Include {
                            path: path.text.clone(),
                            relative: name.starts_with("ir") || name == "include_relative",
                            line,
                            variables: self.variables.clone(),
                        });
                    } else {
                        self.includes_truncated = true;
                    }
                }
            }
            "copy" => {
                let lower = args.to_ascii_lowercase();
                let words: Vec<&str> = lower.split_whitespace().collect();
                // `from stdin` reads the lines that follow; `from pstdin` reads psql's own input
                if words.windows(2).any(|w| w == ["from", "stdin"]) {
                    self.copy_data_next_line = true;
                }
            }
            _ => {}
        }
    }

    /// Where the arguments of a meta-command starting at `from` end: the end
    /// of the line, or an unquoted `\\`.
    fn meta_args_end(&self, from: usize) -> usize {
        let mut j = from;
        let mut quote: Option<u8> = None;
        while j < self.b.len() && self.b[j] != b'\n' {
            let c = self.b[j];
            match quote {
                Some(q) if c == b'\\' && q == b'\'' => j += 1,
                Some(q) if c == q => quote = None,
                Some(_) => {}
                None if c == b'\'' || c == b'`' || c == b'"' => quote = Some(c),
                None if self.b[j..].starts_with(b"\\\\") => return j,
                None => {}
            }
            j += 1;
        }
        j.min(self.b.len())
    }

    /// Split meta-command arguments as psql does (enough for \set, \i):
    /// whitespace-separated, 'single-quoted' with '' and \ escapes,
    /// "double-quoted" kept with quotes, `backquoted` unknown, :variables
    /// substituted.
    fn meta_arguments(&self, args: &str) -> Vec<Argument> {
        let b = args.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if i >= b.len() {
                break;
            }
            let mut arg = Argument::default();
            while i < b.len() && !b[i].is_ascii_whitespace() {
                match b[i] {
                    b'\'' => {
                        i += 1;
                        while i < b.len() {
                            if b[i] == b'\'' && b.get(i + 1) == Some(&b'\'') {
                                arg.text.push('\'');
                                i += 2;
                            } else if b[i] == b'\'' {
                                i += 1;
                                break;
                            } else if b[i] == b'\\' && i + 1 < b.len() {
                                let escaped = args[i + 1..].chars().next().unwrap_or('\\');
                                arg.text.push(match escaped {
                                    'n' => '\n',
                                    't' => '\t',
                                    'r' => '\r',
                                    other => other,
                                });
                                i += 1 + escaped.len_utf8();
                            } else {
                                let ch = args[i..].chars().next().unwrap_or(' ');
                                arg.text.push(ch);
                                i += ch.len_utf8();
                            }
                        }
                    }
                    b'`' => {
                        arg.backquoted = true;
                        let end = args[i + 1..].find('`').map_or(b.len(), |k| i + 1 + k + 1);
                        i = end;
                    }
                    b'"' => {
                        let end = args[i + 1..].find('"').map_or(b.len(), |k| i + 1 + k + 1);
                        arg.text.push_str(&args[i..end]);
                        i = end;
                    }
                    b':' if b.get(i + 1).is_some_and(|&c| is_variable_char(c)) => {
                        let mut e = i + 1;
                        while e < b.len() && is_variable_char(b[e]) {
                            e += 1;
                        }
                        match self.variables.get(&args[i + 1..e]) {
                            Some(v) => arg.text.push_str(v),
                            None => arg.text.push_str(&args[i..e]),
                        }
                        i = e;
                    }
                    _ => {
                        let ch = args[i..].chars().next().unwrap_or(' ');
                        arg.text.push(ch);
                        i += ch.len_utf8();
                    }
                }
            }
            out.push(arg);
        }
        out
    }

    /// COPY … FROM STDIN data: lines up to one that is `\.`, all blanked.
    fn skip_copy_data(&mut self) {
        while self.i < self.b.len() {
            let end = self.src[self.i..]
                .find('\n')
                .map_or(self.b.len(), |k| self.i + k);
            let is_end = self.src[self.i..end].trim_end() == "\\.";
            self.blank_to(end);
            if self.i < self.b.len() {
                self.copy_to(self.i + 1);
            }
            if is_end {
                break;
            }
        }
    }
}

#[derive(Default)]
struct Argument {
    text: String,
    backquoted: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Variables {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn plain(src: &str) -> Script {
        preprocess(src, &Variables::new())
    }

    #[test]
    fn meta_command_lines_become_spaces_and_lines_stay() {
        let src = "\\set ON_ERROR_STOP 1\n\\echo hi\nCREATE TABLE t (a int);\n  \\timing on\n\\if :x\nSELECT 1;\n\\endif\n";
        let s = plain(src);
        assert_eq!(s.text.len(), src.len());
        assert_eq!(s.text.lines().count(), src.lines().count());
        assert_eq!(s.text.lines().nth(2), Some("CREATE TABLE t (a int);"));
        assert!(s.text.lines().next().unwrap().trim().is_empty());
        assert!(s.text.lines().nth(3).unwrap().trim().is_empty());
        assert!(!s.text.contains('\\'));
        assert!(
            s.unresolved.is_empty(),
            "variables in meta-commands are psql's business: {:?}",
            s.unresolved
        );
        assert_eq!(
            s.variables.get("ON_ERROR_STOP").map(String::as_str),
            Some("1")
        );
    }

    #[test]
    fn gset_and_g_end_the_statement() {
        let src = "SELECT 1 AS x \\gset\nSELECT 2 \\g\nSELECT 3;";
        let s = plain(src);
        assert_eq!(s.text.len(), src.len());
        assert_eq!(s.text, "SELECT 1 AS x ;    \nSELECT 2 ; \nSELECT 3;");
        // \; separates without sending, \: is a literal colon
        let s = plain("SELECT 1 \\; SELECT '\\:' \\:x");
        assert_eq!(s.text, "SELECT 1  ; SELECT '\\:'  :x");
        assert!(s.unresolved.is_empty());
    }

    #[test]
    fn variables_are_substituted_as_psql_does() {
        let v = vars(&[
            ("tbl", "orders"),
            ("val", "it's"),
            ("col", "Odd \"name\""),
            ("path", "a\\b"),
        ]);
        let s = preprocess("SELECT :'val', :\"col\" FROM :tbl WHERE x = :'path';", &v);
        assert_eq!(
            s.text,
            "SELECT 'it''s', \"Odd \"\"name\"\"\" FROM orders WHERE x =  E'a\\\\b';"
        );
        assert!(s.unresolved.is_empty());
        // not in literals, identifiers, dollar quotes, comments, casts, named arguments
        let src = "SELECT ':tbl', \":tbl\", $$ :tbl $$, $f$ :tbl $f$, x::int, f(a := 1) -- :tbl\n/* :tbl /* :tbl */ :tbl */;";
        assert_eq!(preprocess(src, &v).text, src);
        // E'' strings: \' does not end the literal
        let src = "SELECT E'\\' :tbl', :tbl;";
        assert_eq!(preprocess(src, &v).text, "SELECT E'\\' :tbl', orders;");
        // :{?name} tests whether a variable is set
        assert_eq!(
            preprocess("SELECT :{?tbl}, :{?nope};", &v).text,
            "SELECT TRUE, FALSE;"
        );
    }

    #[test]
    fn set_and_unset_in_the_script_change_variables() {
        let src = "\\set t accounts\n\\set greeting 'hello world' '!'\nSELECT :'greeting' FROM :t;\n\\unset t\nSELECT * FROM :t;";
        let s = plain(src);
        let lines: Vec<&str> = s.text.lines().collect();
        assert_eq!(lines[2], "SELECT 'hello world!' FROM accounts;");
        assert_eq!(lines[4], "SELECT * FROM  t;");
        assert_eq!(
            s.unresolved,
            vec![VariableRef {
                name: "t".into(),
                offset: src.rfind(":t;").unwrap()
            }]
        );
        // a value from a shell command is known only when psql runs
        let s = plain("\\set now `date`\nSELECT :'now';");
        assert!(s.unresolved.is_empty());
        assert_eq!(s.text.lines().nth(1), Some("SELECT  'now';"));
    }

    #[test]
    fn unresolved_variables_are_reported_with_original_offsets() {
        let src = "SELECT 1;\nALTER TABLE :tbl ADD COLUMN c int DEFAULT :'dflt';";
        let s = plain(src);
        let names: Vec<&str> = s.unresolved.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(names, vec!["tbl", "dflt"]);
        assert_eq!(&src[s.unresolved[0].offset..][..4], ":tbl");
        assert_eq!(&src[s.unresolved[1].offset..][..7], ":'dflt'");
        assert!(s
            .text
            .contains("ALTER TABLE  tbl ADD COLUMN c int DEFAULT  'dflt';"));
        // psql's own variables are not the script's fault; array slices are not variables
        let s = plain("SELECT :'DBNAME', a[1:2], a[lo:hi] FROM t;");
        assert!(s.unresolved.is_empty(), "{:?}", s.unresolved);
        assert!(s.text.contains("a[1:2], a[lo:hi]"));
    }

    #[test]
    fn offsets_map_back_when_lengths_change() {
        let v = vars(&[("t", "a_much_longer_table_name"), ("e", "")]);
        let src = "SELECT :t, x FROM :e y;\nSELECT z;";
        let s = preprocess(src, &v);
        assert_eq!(
            s.text,
            "SELECT a_much_longer_table_name, x FROM  y;\nSELECT z;"
        );
        let x_processed = s.text.find(", x").unwrap() + 2;
        assert_eq!(s.original_offset(x_processed), src.find(", x").unwrap() + 2);
        let y = s.text.find(" y;").unwrap() + 1;
        assert_eq!(s.original_offset(y), src.find(" y;").unwrap() + 1);
        // inside a substituted value: the start of the reference
        assert_eq!(s.original_offset(8), src.find(":t").unwrap());
        // line and column: second line unchanged
        assert_eq!(s.original_line_col(src, 2, 8), (2, 8));
        assert_eq!(s.original_line_col(src, 1, 34), (1, 12));
        assert_eq!(s.original_line_col(src, 0, 0), (0, 0));
        // a value with a newline adds a line to the text, not to the positions
        let v = vars(&[("cols", "a,\nb")]);
        let src = "SELECT :cols FROM t;\nSELECT bad;";
        let s = preprocess(src, &v);
        assert_eq!(s.text.lines().count(), 3);
        assert_eq!(s.original_line_col(src, 3, 8), (2, 8));
    }

    #[test]
    fn columns_stay_right_after_blanked_non_ascii_text() {
        let src = "\\echo é \\\\ SELECT x;";
        let s = plain(src);
        let (xl, xc) = line_col(&s.text, s.text.find('x').unwrap());
        assert_ne!(
            (xl, xc),
            line_col(src, src.find('x').unwrap()),
            "the text itself counts differently"
        );
        assert_eq!(
            s.original_line_col(src, xl, xc),
            line_col(src, src.find('x').unwrap())
        );
        let src = "BEGIN /* é */; SELECT y; COMMIT;";
        let mut s = plain(src);
        assert!(s.blank_transaction_wrapper());
        let (yl, yc) = line_col(&s.text, s.text.find('y').unwrap());
        assert_ne!((yl, yc), line_col(src, src.find('y').unwrap()));
        assert_eq!(
            s.original_line_col(src, yl, yc),
            line_col(src, src.find('y').unwrap())
        );
    }

    #[test]
    fn includes_are_reported_with_their_line_and_variables() {
        let src = "\\set schema app\n\\i common/setup.sql\nSELECT 1;\n  \\ir 'sub dir/next.sql'\n\\include_relative x.sql\n";
        let s = plain(src);
        assert_eq!(s.includes.len(), 3);
        assert_eq!(
            (
                s.includes[0].path.as_str(),
                s.includes[0].relative,
                s.includes[0].line
            ),
            ("common/setup.sql", false, 2)
        );
        assert_eq!(
            s.includes[0].variables.get("schema").map(String::as_str),
            Some("app")
        );
        assert_eq!(
            (
                s.includes[1].path.as_str(),
                s.includes[1].relative,
                s.includes[1].line
            ),
            ("sub dir/next.sql", true, 4)
        );
        assert!(s.includes[2].relative);
        assert!(s.text.trim() == "SELECT 1;");
    }

    #[test]
    fn transaction_wrapper_is_found_and_blanked() {
        for (begin, commit) in [
            ("BEGIN;", "COMMIT;"),
            ("begin transaction isolation level serializable;", "end;"),
            ("START TRANSACTION;", "COMMIT WORK;"),
            ("BEGIN;", "COMMIT"),
        ] {
            let src = format!("-- migration 12\n\\set ON_ERROR_STOP 1\n{begin}\nCREATE TABLE t (a int);\nCREATE INDEX ON t (a);\n{commit}\n-- done\n");
            let mut s = plain(&src);
            let w = s
                .transaction_wrapper
                .unwrap_or_else(|| panic!("{begin} … {commit}"));
            assert_eq!(
                w.begin.text(&s.text).trim_end_matches(';'),
                begin.trim_end_matches(';')
            );
            assert_eq!(
                w.commit.text(&s.text).trim_end_matches(';'),
                commit.trim_end_matches(';')
            );
            assert!(s.blank_transaction_wrapper());
            assert_eq!(s.text.len(), src.len());
            let sql: Vec<&str> = s
                .text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect();
            assert_eq!(
                sql,
                vec![
                    "-- migration 12",
                    "CREATE TABLE t (a int);",
                    "CREATE INDEX ON t (a);",
                    "-- done"
                ]
            );
        }
        for src in [
            "BEGIN; CREATE TABLE t (a int); COMMIT; BEGIN; DROP TABLE x; COMMIT;",
            "CREATE TABLE a (); BEGIN; CREATE TABLE t (a int); COMMIT;",
            "BEGIN; CREATE TABLE t (a int); ROLLBACK;",
            "BEGIN; CREATE TABLE t (a int); COMMIT; SELECT 1;",
            "BEGIN; COMMIT PREPARED 'x';",
            "CREATE TABLE t (a int);",
        ] {
            assert_eq!(plain(src).transaction_wrapper, None, "{src}");
        }
    }

    #[test]
    fn begin_atomic_bodies_do_not_end_at_their_semicolons() {
        let src = "BEGIN;\nCREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 1 END; END;\nCOMMIT;";
        let s = plain(src);
        let w = s.transaction_wrapper.expect("wrapper");
        assert_eq!(w.commit.text(&s.text), "COMMIT;");
        // without the heuristic the body's END would look like the wrapper's end
        let src = "BEGIN;\nCREATE OR REPLACE PROCEDURE p() BEGIN ATOMIC SELECT 1; END;";
        assert_eq!(plain(src).transaction_wrapper, None);
    }

    #[test]
    fn copy_from_stdin_data_is_blanked() {
        let src = "COPY t (a, b) FROM stdin;\n1\t:x\n2\t'\n\\.\nSELECT :'y';\n\\copy t from stdin\nraw ; data\n\\.\nSELECT 3;";
        let s = plain(src);
        let lines: Vec<&str> = s.text.lines().collect();
        assert_eq!(lines[0], "COPY t (a, b) FROM stdin;");
        assert!(lines[1..4].iter().all(|l| l.trim().is_empty()), "{lines:?}");
        assert_eq!(lines[4], "SELECT  'y';");
        assert!(lines[5..8].iter().all(|l| l.trim().is_empty()), "{lines:?}");
        assert_eq!(lines[8], "SELECT 3;");
        assert_eq!(
            s.unresolved
                .iter()
                .map(|u| u.name.as_str())
                .collect::<Vec<_>>(),
            vec!["y"]
        );
    }

    #[test]
    fn hostile_input_is_scanned_without_panics() {
        let v = vars(&[("a", "1")]);
        let huge = format!(
            "SELECT :a;\n{}",
            "CREATE TABLE t (a int); -- :a\n".repeat(50_000)
        );
        let s = preprocess(&huge, &v);
        assert_eq!(s.text.len(), huge.len() - 1);
        for src in [
            "SELECT 'unterminated :a",
            "SELECT \"unterminated :a",
            "SELECT $$ unterminated :a",
            "SELECT $tag$ :a $other$",
            "/* /* unterminated :a */",
            "SELECT E'\\",
            "\\",
            "\\set",
            "\\set x 'unterminated",
            "\\i",
            ":",
            ":'",
            ":\"a",
            ":{?",
            "$",
            "$1 $a",
            "SELECT \u{0} :a \u{0}",
            "é:aé :é 'é' \\é",
            "\\\\",
            "COPY t FROM STDIN;\nno end marker",
        ] {
            let s = preprocess(src, &v);
            let _ = s.original_offset(s.text.len());
            let _ = s.original_line_col(src, 1, 1000);
            let _ = s.original_line_col(src, 1000, 1);
        }
        let deep = format!("SELECT {}1{};", "(".repeat(100_000), ")".repeat(100_000));
        assert_eq!(plain(&deep).text, deep);
        let deep_comments = "/*".repeat(100_000);
        assert_eq!(plain(&deep_comments).text, deep_comments);
        let many_includes = "\\i x.sql\n".repeat(MAX_INCLUDES + 5);
        let s = plain(&many_includes);
        assert_eq!(s.includes.len(), MAX_INCLUDES);
        assert!(s.includes_truncated);
        let many_vars = ":a :b ".repeat(20_000);
        let s = preprocess(&many_vars, &v);
        assert_eq!(s.unresolved.len(), 20_000);
        assert_eq!(s.original_offset(s.text.len()), many_vars.len());
    }

    #[test]
    fn blank_and_offset_of() {
        let mut t = String::from("BEGIN /* é */;\nx");
        blank(&mut t, Span::new(0, 15));
        assert_eq!(t.len(), "BEGIN /* é */;\nx".len());
        assert!(t.ends_with("\nx") && t[..t.len() - 2].trim().is_empty());
        assert_eq!(offset_of("ab\ncdé\nf", 2, 3), 5);
        assert_eq!(offset_of("ab\ncdé\nf", 2, 99), 7);
        assert_eq!(offset_of("ab", 9, 1), 2);
        blank(&mut t, Span::new(5, 999)); // out of range: clamped, no panic
    }
}
