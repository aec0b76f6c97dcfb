//! Parse SQL text with pg_query (PostgreSQL 18's parser as a C library)
//! into the DDL model.
//!
//! The crate's `pg_query::parse` drops the error's cursor position, which a
//! `syntax-error` finding needs, so the one C entry point is called here
//! directly (its declaration mirrors `pg_query.h` of libpg_query 18).
//! Statements are decoded one by one: protobuf decoding refuses trees
//! nested deeper than 100 messages, and such a statement becomes one
//! "too deep" entry instead of failing its whole file.

use super::convert;
use confiture_core::ddl::Statement;
use confiture_core::source::{self, Span};
use pg_query::protobuf as pb;
use prost::Message;
use std::ffi::{c_char, c_int, CStr, CString};

#[repr(C)]
struct PgQueryError {
    message: *mut c_char,
    funcname: *mut c_char,
    filename: *mut c_char,
    lineno: c_int,
    cursorpos: c_int,
    context: *mut c_char,
}

#[repr(C)]
struct PgQueryProtobuf {
    len: usize,
    data: *mut c_char,
}

#[repr(C)]
struct PgQueryProtobufParseResult {
    parse_tree: PgQueryProtobuf,
    stderr_buffer: *mut c_char,
    error: *mut PgQueryError,
}

extern "C" {
    // Linked through the pg_query crate, which builds libpg_query.
    fn pg_query_parse_protobuf_opts(
        input: *const c_char,
        parser_options: c_int,
    ) -> PgQueryProtobufParseResult;
    fn pg_query_free_protobuf_parse_result(result: PgQueryProtobufParseResult);
}

/// Text the parser rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub message: String,
    /// Byte offset of the error in the text, when the parser gave one.
    pub offset: Option<usize>,
}

/// A statement whose tree nests too deeply to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooDeep {
    pub span: Span,
}

/// The statements of a text, in order; statements too deep to read are
/// [`confiture_core::ddl::StatementKind::Other`] there and listed in `too_deep`.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub statements: Vec<Statement>,
    pub too_deep: Vec<TooDeep>,
}

/// Parse `sql` into the DDL model.
pub fn statements(sql: &str) -> Result<Parsed, SyntaxError> {
    let tree = parse_protobuf(sql)?;
    let mut parsed = Parsed {
        statements: Vec::new(),
        too_deep: Vec::new(),
    };
    for raw in raw_statements(&tree) {
        let span = source::statement_span(sql, raw.location, raw.len);
        match pb::RawStmt::decode(raw.bytes) {
            Ok(stmt) => parsed
                .statements
                .push(convert::statement(stmt.stmt.as_deref(), span)),
            Err(_) => {
                parsed.statements.push(convert::statement(None, span));
                parsed.too_deep.push(TooDeep { span });
            }
        }
    }
    Ok(parsed)
}

/// The serialized `ParseResult` of `sql`, or where and why the parser stopped.
fn parse_protobuf(sql: &str) -> Result<Vec<u8>, SyntaxError> {
    let Ok(input) = CString::new(sql) else {
        // PostgreSQL text cannot hold a NUL; the server says the same
        return Err(SyntaxError {
            message: "SQL text contains a NUL byte".into(),
            offset: sql.find('\0'),
        });
    };
    // SAFETY: `input` is a valid C string for the call; the result is read
    // (error strings and the protobuf buffer copied out) before it is freed,
    // and freed exactly once.
    unsafe {
        let result = pg_query_parse_protobuf_opts(input.as_ptr(), 0);
        let out = if !result.error.is_null() {
            let e = &*result.error;
            let message = if e.message.is_null() {
                "syntax error".to_owned()
            } else {
                CStr::from_ptr(e.message).to_string_lossy().into_owned()
            };
            // cursorpos is 1-based, in characters, like the server's
            let offset = (e.cursorpos > 0).then(|| source::char_to_byte(sql, e.cursorpos as usize));
            Err(SyntaxError { message, offset })
        } else if result.parse_tree.data.is_null() {
            Ok(Vec::new())
        } else {
            Ok(std::slice::from_raw_parts(
                result.parse_tree.data as *const u8,
                result.parse_tree.len,
            )
            .to_vec())
        };
        pg_query_free_protobuf_parse_result(result);
        out
    }
}

/// One `RawStmt` of a serialized `ParseResult`, not decoded yet.
struct RawStatement<'a> {
    bytes: &'a [u8],
    location: usize,
    len: usize,
}

/// The `stmts` (field 2) of a serialized `ParseResult`, read at the wire
/// level so that each statement is decoded on its own.
fn raw_statements(tree: &[u8]) -> Vec<RawStatement<'_>> {
    let mut out = Vec::new();
    for (field, value) in Fields(tree) {
        if let (2, Value::Bytes(bytes)) = (field, value) {
            let (mut location, mut len) = (0, 0);
            for (f, v) in Fields(bytes) {
                match (f, v) {
                    (2, Value::Varint(v)) => location = v as i32 as i64,
                    (3, Value::Varint(v)) => len = v as i32 as i64,
                    _ => {}
                }
            }
            out.push(RawStatement {
                bytes,
                location: location.max(0) as usize,
                len: len.max(0) as usize,
            });
        }
    }
    out
}

enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

/// The fields of one protobuf message; stops at the first malformed byte.
struct Fields<'a>(&'a [u8]);

impl<'a> Iterator for Fields<'a> {
    type Item = (u64, Value<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        let key = varint(&mut self.0)?;
        let value = match key & 7 {
            0 => Value::Varint(varint(&mut self.0)?),
            1 | 5 => {
                let n = if key & 7 == 1 { 8 } else { 4 };
                self.0 = self.0.get(n..)?;
                Value::Fixed
            }
            2 => {
                let n = usize::try_from(varint(&mut self.0)?).ok()?;
                let (bytes, rest) = (self.0.get(..n)?, self.0.get(n..)?);
                self.0 = rest;
                Value::Bytes(bytes)
            }
            _ => return None,
        };
        Some((key >> 3, value))
    }
}

fn varint(b: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for shift in 0..10 {
        let (&byte, rest) = b.split_first()?;
        *b = rest;
        value |= u64::from(byte & 0x7f) << (7 * shift);
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use confiture_core::ddl::StatementKind;

    #[test]
    fn splits_statements_and_keeps_spans() {
        let sql = "create table a (id int);\n-- c\nCREATE INDEX CONCURRENTLY i ON a (id);";
        let p = statements(sql).unwrap();
        assert_eq!(p.statements.len(), 2);
        assert_eq!(p.statements[0].tag, "CREATE TABLE");
        assert_eq!(p.statements[0].span.text(sql), "create table a (id int)");
        assert_eq!(
            p.statements[1].span.text(sql),
            "CREATE INDEX CONCURRENTLY i ON a (id)"
        );
        assert!(p.too_deep.is_empty());
    }

    #[test]
    fn syntax_error_has_a_position() {
        let sql = "select 1;\nselect * frm t;";
        let e = statements(sql).unwrap_err();
        assert!(e.message.contains("syntax error"), "{}", e.message);
        assert_eq!(&sql[e.offset.unwrap()..], "frm t;");
        let e = statements("select 'é' frm t").unwrap_err();
        assert_eq!(e.offset, Some("select 'é' frm ".len()));
        assert_eq!(statements("select \0").unwrap_err().offset, Some(7));
    }

    #[test]
    fn hostile_input_is_an_error_or_a_finding_not_a_crash() {
        assert!(statements("select 'unterminated").is_err());
        assert!(statements("").unwrap().statements.is_empty());
        assert!(statements(";;;").unwrap().statements.is_empty());
        let long = format!("create table {} (id int)", "x".repeat(100_000));
        assert_eq!(statements(&long).unwrap().statements.len(), 1);
        // nesting far beyond what protobuf decoding accepts: that statement
        // is reported as too deep, the others are read
        let deep = format!(
            "select 1; select {}1{}; create table t (a int)",
            "(1 + ".repeat(500),
            ")".repeat(500)
        );
        let p = statements(&deep).unwrap();
        assert_eq!(p.statements.len(), 3);
        assert_eq!(p.too_deep.len(), 1);
        assert!(p.too_deep[0]
            .span
            .text(&deep)
            .starts_with("select (1 + (1 + "));
        assert!(matches!(p.statements[1].kind, StatementKind::Other));
        assert_eq!(p.statements[2].tag, "CREATE TABLE");
        // every depth up to bison's limit ends in a result, on a thread's default stack
        for depth in [1_000, 3_000, 4_000, 6_000, 9_000] {
            let sql = format!("select {}1{}", "(1 + ".repeat(depth), ")".repeat(depth));
            let _ = std::thread::spawn(move || statements(&sql).map(|p| p.too_deep.len()))
                .join()
                .expect("no crash");
        }
        // bison's own stack limit: an error with a position
        let deeper = format!("select {}1{}", "(1 + ".repeat(100_000), ")".repeat(100_000));
        assert!(statements(&deeper)
            .unwrap_err()
            .message
            .contains("memory exhausted"));
    }

    #[test]
    fn parses_on_many_threads_at_once() {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                std::thread::spawn(move || {
                    statements(&format!("create table t{i} (a int); drop table t{i};"))
                        .unwrap()
                        .statements
                        .len()
                })
            })
            .collect();
        for h in handles {
            assert_eq!(h.join().unwrap(), 2);
        }
    }
}
