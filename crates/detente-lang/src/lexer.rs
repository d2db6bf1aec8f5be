//! The lexer: source text to tokens, comments kept aside for the formatter.
//!
//! It never fails: a character it does not know becomes an [`TokenKind::Error`] token and a
//! diagnostic, and lexing goes on.

use crate::diag::{Diagnostic, Span};
use crate::time::{Date, Instant};

#[derive(Debug, Clone, PartialEq)]
pub enum TokenKind {
    Ident(String),
    Int(i64),
    Decimal(f64),
    Str(String),
    Date(Date),
    Instant(Instant),
    LBrace,
    RBrace,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Colon,
    Dot,
    Assign,
    Plus,
    Minus,
    Star,
    Slash,
    Lt,
    Le,
    Gt,
    Ge,
    EqEq,
    NotEq,
    Error,
    Eof,
}

impl TokenKind {
    /// How the token is named in diagnostics.
    pub fn describe(&self) -> String {
        match self {
            TokenKind::Ident(name) => format!("`{name}`"),
            TokenKind::Int(n) => format!("`{n}`"),
            TokenKind::Decimal(n) => format!("`{n}`"),
            TokenKind::Str(_) => "a string".to_owned(),
            TokenKind::Date(d) => format!("the date `{d}`"),
            TokenKind::Instant(i) => format!("the instant `{i}`"),
            TokenKind::Error => "an invalid character".to_owned(),
            TokenKind::Eof => "the end of the file".to_owned(),
            other => format!("`{}`", other.punct()),
        }
    }

    fn punct(&self) -> &'static str {
        match self {
            TokenKind::LBrace => "{",
            TokenKind::RBrace => "}",
            TokenKind::LParen => "(",
            TokenKind::RParen => ")",
            TokenKind::LBracket => "[",
            TokenKind::RBracket => "]",
            TokenKind::Comma => ",",
            TokenKind::Colon => ":",
            TokenKind::Dot => ".",
            TokenKind::Assign => "=",
            TokenKind::Plus => "+",
            TokenKind::Minus => "-",
            TokenKind::Star => "*",
            TokenKind::Slash => "/",
            TokenKind::Lt => "<",
            TokenKind::Le => "<=",
            TokenKind::Gt => ">",
            TokenKind::Ge => ">=",
            TokenKind::EqEq => "==",
            TokenKind::NotEq => "!=",
            _ => "?",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

/// A `//` comment, with its text (without the slashes) and whether code precedes it on
/// its line (a trailing comment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub span: Span,
    pub text: String,
    pub trailing: bool,
}

#[derive(Debug, Default)]
pub struct Lexed {
    pub tokens: Vec<Token>,
    pub comments: Vec<Comment>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Longest string literal accepted, in bytes.
pub const MAX_STRING_BYTES: usize = 64 * 1024;

pub fn lex(source: &str) -> Lexed {
    let mut lexer = Lexer {
        src: source.as_bytes(),
        text: source,
        pos: 0,
        out: Lexed::default(),
        code_on_line: false,
    };
    lexer.run();
    lexer.out
}

struct Lexer<'a> {
    src: &'a [u8],
    text: &'a str,
    pos: usize,
    out: Lexed,
    code_on_line: bool,
}

fn offset(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl Lexer<'_> {
    fn peek(&self, ahead: usize) -> u8 {
        self.src.get(self.pos + ahead).copied().unwrap_or(0)
    }

    fn push(&mut self, kind: TokenKind, start: usize) {
        self.code_on_line = true;
        self.out.tokens.push(Token {
            kind,
            span: Span::new(offset(start), offset(self.pos)),
        });
    }

    fn error(&mut self, code: &'static str, message: String, start: usize, help: &str) {
        let mut d = Diagnostic::error(code, message, Span::new(offset(start), offset(self.pos)));
        if !help.is_empty() {
            d = d.help(help);
        }
        self.out.diagnostics.push(d);
    }

    fn run(&mut self) {
        while self.pos < self.src.len() {
            let start = self.pos;
            let c = self.peek(0);
            match c {
                b'\n' => {
                    self.pos += 1;
                    self.code_on_line = false;
                }
                b' ' | b'\t' | b'\r' => self.pos += 1,
                b'/' if self.peek(1) == b'/' => self.comment(),
                b'"' => self.string(),
                b'0'..=b'9' => self.number(),
                b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                    while matches!(self.peek(0), b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_') {
                        self.pos += 1;
                    }
                    let word = self.text.get(start..self.pos).unwrap_or("").to_owned();
                    self.push(TokenKind::Ident(word), start);
                }
                _ => {
                    let two = [c, self.peek(1)];
                    let (kind, len) = match &two {
                        b"<=" => (TokenKind::Le, 2),
                        b">=" => (TokenKind::Ge, 2),
                        b"==" => (TokenKind::EqEq, 2),
                        b"!=" => (TokenKind::NotEq, 2),
                        _ => match c {
                            b'{' => (TokenKind::LBrace, 1),
                            b'}' => (TokenKind::RBrace, 1),
                            b'(' => (TokenKind::LParen, 1),
                            b')' => (TokenKind::RParen, 1),
                            b'[' => (TokenKind::LBracket, 1),
                            b']' => (TokenKind::RBracket, 1),
                            b',' => (TokenKind::Comma, 1),
                            b':' => (TokenKind::Colon, 1),
                            b'.' => (TokenKind::Dot, 1),
                            b'=' => (TokenKind::Assign, 1),
                            b'+' => (TokenKind::Plus, 1),
                            b'-' => (TokenKind::Minus, 1),
                            b'*' => (TokenKind::Star, 1),
                            b'/' => (TokenKind::Slash, 1),
                            b'<' => (TokenKind::Lt, 1),
                            b'>' => (TokenKind::Gt, 1),
                            _ => (TokenKind::Error, 0),
                        },
                    };
                    if kind == TokenKind::Error {
                        let ch = self.text.get(start..).and_then(|s| s.chars().next());
                        self.pos += ch.map_or(1, char::len_utf8);
                        let shown =
                            ch.map_or_else(|| "?".to_owned(), |c| c.escape_debug().to_string());
                        let help = match ch {
                            Some('≤') => "write `<=`",
                            Some('≥') => "write `>=`",
                            Some('≠') => "write `!=`",
                            Some('“' | '”' | '„' | '«' | '»') => {
                                "strings use straight quotes: `\"…\"`"
                            }
                            Some('–' | '—' | '−') => "write `-`",
                            Some('×') => "write `*`",
                            Some('÷') => "write `/`",
                            Some('#') => "comments start with `//`",
                            Some(';') => "statements need no `;`; start each on its own line",
                            _ => {
                                "treaty sources use ASCII punctuation; text belongs in \"strings\""
                            }
                        };
                        self.error(
                            "E0101",
                            format!("unexpected character `{shown}`"),
                            start,
                            help,
                        );
                        self.push(TokenKind::Error, start);
                    } else {
                        self.pos += len;
                        self.push(kind, start);
                    }
                }
            }
        }
        let end = self.pos;
        self.out.tokens.push(Token {
            kind: TokenKind::Eof,
            span: Span::new(offset(end), offset(end)),
        });
    }

    fn comment(&mut self) {
        let start = self.pos;
        while self.pos < self.src.len() && self.peek(0) != b'\n' {
            self.pos += 1;
        }
        let text = self
            .text
            .get(start + 2..self.pos)
            .unwrap_or("")
            .trim_end()
            .to_owned();
        self.out.comments.push(Comment {
            span: Span::new(offset(start), offset(self.pos)),
            text,
            trailing: self.code_on_line,
        });
    }

    fn string(&mut self) {
        let start = self.pos;
        self.pos += 1;
        let mut value = String::new();
        loop {
            match self.peek(0) {
                0 if self.pos >= self.src.len() => {
                    self.error(
                        "E0102",
                        "unterminated string".to_owned(),
                        start,
                        "close the string with `\"` on the same line",
                    );
                    self.push(TokenKind::Str(value), start);
                    return;
                }
                b'\n' => {
                    self.error(
                        "E0102",
                        "unterminated string".to_owned(),
                        start,
                        "close the string with `\"` on the same line",
                    );
                    self.push(TokenKind::Str(value), start);
                    return;
                }
                b'"' => {
                    self.pos += 1;
                    if value.len() > MAX_STRING_BYTES {
                        self.error(
                            "E0001",
                            format!("string is longer than {MAX_STRING_BYTES} bytes"),
                            start,
                            "",
                        );
                    }
                    self.push(TokenKind::Str(value), start);
                    return;
                }
                b'\\' => {
                    let escaped = match self.peek(1) {
                        b'"' => Some('"'),
                        b'\\' => Some('\\'),
                        b'n' => Some('\n'),
                        b't' => Some('\t'),
                        _ => None,
                    };
                    if let Some(ch) = escaped {
                        value.push(ch);
                        self.pos += 2;
                    } else {
                        let esc_start = self.pos;
                        self.pos += 1;
                        self.error(
                            "E0102",
                            "unknown escape in string".to_owned(),
                            esc_start,
                            "the escapes are `\\\"`, `\\\\`, `\\n` and `\\t`",
                        );
                    }
                }
                _ => {
                    let rest = self.text.get(self.pos..).unwrap_or("");
                    let ch = rest.chars().next().unwrap_or('?');
                    value.push(ch);
                    self.pos += ch.len_utf8().max(1);
                }
            }
        }
    }

    fn number(&mut self) {
        let start = self.pos;
        while self.peek(0).is_ascii_digit() {
            self.pos += 1;
        }
        let digits = self.pos - start;
        // A date: exactly four digits, `-`, two digits, `-`, two digits.
        if digits == 4
            && self.peek(0) == b'-'
            && self.peek(1).is_ascii_digit()
            && self.peek(2).is_ascii_digit()
            && self.peek(3) == b'-'
        {
            self.date(start);
            return;
        }
        let mut is_decimal = false;
        if self.peek(0) == b'.' && self.peek(1).is_ascii_digit() {
            is_decimal = true;
            self.pos += 1;
            while self.peek(0).is_ascii_digit() {
                self.pos += 1;
            }
        }
        let text = self.text.get(start..self.pos).unwrap_or("");
        if is_decimal {
            match text.parse::<f64>() {
                Ok(v) if v.is_finite() => self.push(TokenKind::Decimal(v), start),
                _ => {
                    self.error("E0103", format!("malformed number `{text}`"), start, "");
                    self.push(TokenKind::Error, start);
                }
            }
        } else {
            match text.parse::<i64>() {
                Ok(v) => self.push(TokenKind::Int(v), start),
                Err(_) => {
                    self.error(
                        "E0103",
                        format!("number `{text}` is too large"),
                        start,
                        "integers are 64-bit: at most 9223372036854775807",
                    );
                    self.push(TokenKind::Error, start);
                }
            }
        }
    }

    fn date(&mut self, start: usize) {
        // Consume the widest run that could be a date or instant, then validate it.
        while matches!(self.peek(0), b'0'..=b'9' | b'-' | b':' | b'T' | b'Z') {
            self.pos += 1;
        }
        let text = self.text.get(start..self.pos).unwrap_or("");
        if text.len() == 10 {
            if let Some(date) = Date::parse(text) {
                self.push(TokenKind::Date(date), start);
                return;
            }
            self.error(
                "E0103",
                format!("`{text}` is not a valid date"),
                start,
                "dates are written YYYY-MM-DD and must exist in the calendar, e.g. `1979-06-18`",
            );
        } else if let Some(instant) = Instant::parse(text) {
            self.push(TokenKind::Instant(instant), start);
            return;
        } else {
            self.error(
                "E0103",
                format!("`{text}` is not a valid date or instant"),
                start,
                "write a date as `1979-06-18` or an instant in UTC as `1979-06-18T10:00:00Z`",
            );
        }
        self.push(TokenKind::Error, start);
    }
}
