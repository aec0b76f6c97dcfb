//! Positions in SQL text.
//!
//! The server's parser reports statement spans in bytes (`stmt_location`,
//! `stmt_len`) and error cursors in characters (1-based). Users want line and
//! column of the first real token, so spans skip leading whitespace and
//! comments, which the parser includes in a statement's span.

/// A statement's place in its source: byte offsets, `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }
    pub fn text<'a>(&self, src: &'a str) -> &'a str {
        src.get(self.start..self.end).unwrap_or("")
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(src: &str, byte_offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(src, byte_offset.min(src.len()));
    let before = &src[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let col = src[line_start..offset].chars().count() + 1;
    (line, col)
}

/// Line and column of many offsets of one text, in linear total time when
/// they come in increasing order (as statements do); an offset before the
/// previous one is computed from the start.
pub struct Locator<'a> {
    src: &'a str,
    offset: usize,
    line: usize,
    col: usize,
}

impl<'a> Locator<'a> {
    pub fn new(src: &'a str) -> Self {
        Locator {
            src,
            offset: 0,
            line: 1,
            col: 1,
        }
    }

    pub fn line_col(&mut self, byte_offset: usize) -> (usize, usize) {
        let target = floor_char_boundary(self.src, byte_offset.min(self.src.len()));
        if target < self.offset {
            *self = Locator::new(self.src);
        }
        for c in self.src[self.offset..target].chars() {
            if c == '\n' {
                self.line += 1;
                self.col = 1;
            } else {
                self.col += 1;
            }
        }
        self.offset = target;
        (self.line, self.col)
    }
}

/// Byte offset of a 1-based character position (the server's error cursor).
pub fn char_to_byte(src: &str, char_pos: usize) -> usize {
    if char_pos <= 1 {
        return 0;
    }
    src.char_indices()
        .nth(char_pos - 1)
        .map(|(i, _)| i)
        .unwrap_or(src.len())
}

fn floor_char_boundary(src: &str, mut i: usize) -> usize {
    while i > 0 && !src.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The first byte at or after `from` that is not whitespace or a comment.
/// Unterminated block comments run to the end of the text.
pub fn skip_trivia(src: &str, from: usize) -> usize {
    let bytes = src.as_bytes();
    let mut i = from.min(bytes.len());
    loop {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if bytes[i..].starts_with(b"--") {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
        } else if bytes[i..].starts_with(b"/*") {
            // Block comments nest in PostgreSQL.
            let mut depth = 0usize;
            while i < bytes.len() {
                if bytes[i..].starts_with(b"/*") {
                    depth += 1;
                    i += 2;
                } else if bytes[i..].starts_with(b"*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else {
            return i;
        }
    }
}

/// The statement's span with trailing whitespace and its `;` trimmed and
/// leading trivia skipped. `len == 0` means "to the end" (the parser's
/// convention for the last statement).
pub fn statement_span(src: &str, location: usize, len: usize) -> Span {
    let start = location.min(src.len());
    let raw_end = if len == 0 {
        src.len()
    } else {
        (start + len).min(src.len())
    };
    let start = skip_trivia(src, start).min(raw_end);
    let mut end = raw_end;
    let bytes = src.as_bytes();
    while end > start && (bytes[end - 1].is_ascii_whitespace() || bytes[end - 1] == b';') {
        end -= 1;
    }
    Span::new(start, end)
}

/// The comments just above a statement: the trivia between `from` (the
/// end of the previous statement) and the statement's first token.
pub fn leading_comments(src: &str, from: usize, stmt_start: usize) -> &str {
    src.get(from.min(stmt_start)..stmt_start).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column() {
        let src = "select 1;\n  select 2;\n";
        assert_eq!(line_col(src, 0), (1, 1));
        assert_eq!(line_col(src, 12), (2, 3));
        assert_eq!(line_col(src, 999), (3, 1));
    }

    #[test]
    fn locator_agrees_with_line_col() {
        let src = "a\nbé c\n\n  d;é";
        let mut l = Locator::new(src);
        for i in [0, 1, 2, 3, 5, 7, 8, 9, 12, 3, 14, 100] {
            assert_eq!(l.line_col(i), line_col(src, i), "offset {i}");
        }
    }

    #[test]
    fn columns_count_characters() {
        let src = "-- é\nselect 'ü', x";
        let x = src.find('x').unwrap();
        assert_eq!(line_col(src, x), (2, 13));
        // an offset inside a multi-byte char does not panic
        assert_eq!(line_col(src, 4), (1, 4));
    }

    #[test]
    fn cursor_positions_are_characters() {
        let src = "select 'é' frm";
        assert_eq!(char_to_byte(src, 1), 0);
        assert_eq!(&src[char_to_byte(src, 12)..], "frm");
        assert_eq!(char_to_byte(src, 500), src.len());
    }

    #[test]
    fn trivia_is_skipped() {
        let src = "  -- a\n /* b /* nested */ c */\n\tcreate table t()";
        assert_eq!(&src[skip_trivia(src, 0)..], "create table t()");
        assert_eq!(skip_trivia("/* open", 0), 7);
        assert_eq!(skip_trivia("", 0), 0);
        assert_eq!(skip_trivia("--x", 0), 3);
    }

    #[test]
    fn spans_trim_both_ends() {
        let src = "select 1;\n-- two\nselect 2 ;\n";
        let s = statement_span(src, 9, 0);
        assert_eq!(s.text(src), "select 2");
        assert_eq!(statement_span(src, 0, 8).text(src), "select 1");
        assert_eq!(leading_comments(src, 9, s.start), "\n-- two\n");
    }
}
