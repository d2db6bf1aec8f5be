//! The parser: tokens to a syntax tree, never failing.
//!
//! Recursive descent with one token of lookahead. On an error it records a diagnostic and
//! skips to the next statement keyword (or the closing brace of the block it is in), so one
//! mistake yields one diagnostic and the rest of the file is still read. Nesting depth and
//! expression size are bounded, so hostile input cannot overflow the stack.

use crate::ast::*;
use crate::diag::{Diagnostic, Span};
use crate::lexer::{Token, TokenKind, lex};
use crate::time::TimeUnit;

/// Largest source accepted, in bytes.
pub const MAX_SOURCE_BYTES: usize = 1024 * 1024;
/// Deepest nesting of expressions and filters, as the author writes it: parentheses,
/// `not`, unary `-`, `min`/`max` and `count`/`sum` each open one level.
pub const MAX_DEPTH: u32 = 64;
/// Most nodes in one expression.
pub const MAX_EXPR_NODES: u32 = 4096;
/// Deepest expression tree. A chain such as `a + b + c` nests one level per operator, so
/// this bounds the recursion of everything that walks the tree (checker, formatter,
/// evaluator) where [`MAX_DEPTH`] alone, which counts parentheses and prefixes, does not.
pub const MAX_TREE_DEPTH: usize = 128;

#[derive(Debug)]
pub struct Parsed {
    pub file: File,
    pub diagnostics: Vec<Diagnostic>,
}

/// Top-level statement keywords, where recovery resumes.
pub(crate) const ITEM_KEYWORDS: &[&str] = &[
    "parties",
    "signed",
    "in_force",
    "expires",
    "param",
    "category",
    "event",
    "quantity",
    "zone",
    "group",
    "limit",
    "objective",
    "ban",
    "notify",
    "declare",
    "deferred",
    "interpretation",
];

/// Provision body keywords, where recovery inside a body resumes.
const BODY_KEYWORDS: &[&str] = &[
    "item",
    "event",
    "except",
    "lead",
    "stating",
    "quantities",
    "as_of",
    "due",
    "quantity",
];

/// Words that end an expression or cannot name a quantity, param or attribute.
pub const RESERVED: &[&str] = &[
    "and", "or", "not", "in", "where", "within", "per", "over", "from", "until", "for", "to",
    "every", "steps", "true", "false", "count", "sum", "declared",
];

pub fn parse(source: &str) -> Parsed {
    if source.len() > MAX_SOURCE_BYTES {
        let end = u32::try_from(MAX_SOURCE_BYTES).unwrap_or(u32::MAX);
        return Parsed {
            file: File {
                treaty: None,
                comments: Vec::new(),
            },
            diagnostics: vec![
                Diagnostic::error(
                    "E0001",
                    format!(
                        "treaty source is {} bytes; the limit is {MAX_SOURCE_BYTES}",
                        source.len()
                    ),
                    Span::new(0, end.min(1)),
                )
                .help("split the treaty or remove generated content"),
            ],
        };
    }
    let lexed = lex(source);
    let mut previous_end = 0usize;
    let line_breaks = lexed
        .tokens
        .iter()
        .map(|t| {
            let gap = source
                .get(previous_end..t.span.start as usize)
                .unwrap_or("");
            previous_end = t.span.end as usize;
            gap.contains('\n')
        })
        .collect();
    let mut parser = Parser {
        line_breaks,
        tokens: lexed.tokens,
        pos: 0,
        diagnostics: lexed.diagnostics,
        depth: 0,
        expr_nodes: 0,
        expr_budget_reported: false,
    };
    let treaty = parser.file();
    Parsed {
        file: File {
            treaty,
            comments: lexed.comments,
        },
        diagnostics: parser.diagnostics,
    }
}

struct Parser {
    tokens: Vec<Token>,
    /// Whether a line break comes before each token.
    line_breaks: Vec<bool>,
    pos: usize,
    diagnostics: Vec<Diagnostic>,
    depth: u32,
    expr_nodes: u32,
    expr_budget_reported: bool,
}

/// A parse failure that has already been reported; the caller recovers.
struct Reported;

type PResult<T> = Result<T, Reported>;

impl Parser {
    // ----- token access -------------------------------------------------------------------

    fn token(&self) -> &Token {
        self.tokens
            .get(self.pos)
            .or_else(|| self.tokens.last())
            .unwrap_or(&EOF_TOKEN)
    }

    fn kind(&self) -> &TokenKind {
        &self.token().kind
    }

    fn nth_kind(&self, n: usize) -> &TokenKind {
        self.tokens
            .get(self.pos + n)
            .map_or(&TokenKind::Eof, |t| &t.kind)
    }

    fn span(&self) -> Span {
        self.token().span
    }

    fn prev_span(&self) -> Span {
        self.pos
            .checked_sub(1)
            .and_then(|i| self.tokens.get(i))
            .map_or_else(|| self.span(), |t| t.span)
    }

    fn bump(&mut self) -> Token {
        let token = self.token().clone();
        if self.pos < self.tokens.len().saturating_sub(1) {
            self.pos += 1;
        }
        token
    }

    fn at_eof(&self) -> bool {
        matches!(self.kind(), TokenKind::Eof)
    }

    fn at(&self, kind: &TokenKind) -> bool {
        self.kind() == kind
    }

    fn at_word(&self, word: &str) -> bool {
        matches!(self.kind(), TokenKind::Ident(w) if w == word)
    }

    fn eat(&mut self, kind: &TokenKind) -> bool {
        if self.at(kind) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn eat_word(&mut self, word: &str) -> bool {
        if self.at_word(word) {
            self.bump();
            true
        } else {
            false
        }
    }

    // ----- errors -------------------------------------------------------------------------

    fn error_expected(&mut self, what: &str) -> Reported {
        if self.at(&TokenKind::Error) {
            // The lexer has reported this token; a second diagnostic would say nothing new.
            return Reported;
        }
        let found = self.kind().describe();
        let span = self.span();
        let mut d = Diagnostic::error("E0201", format!("expected {what}, found {found}"), span)
            .label(format!("expected {what} here"));
        if let TokenKind::Ident(word) = self.kind()
            && RESERVED.contains(&word.as_str())
        {
            d = d.help(format!("`{word}` is a reserved word of the language"));
        }
        self.diagnostics.push(d);
        Reported
    }

    fn expect(&mut self, kind: &TokenKind, what: &str) -> PResult<Span> {
        if self.at(kind) {
            Ok(self.bump().span)
        } else {
            Err(self.error_expected(what))
        }
    }

    /// The closing delimiter of `open`. When a statement keyword, a `}` or the end of the
    /// file comes instead, the delimiter was left open (E0202); anything else is a plain
    /// syntax error, such as a missing `,`.
    fn expect_close(&mut self, kind: &TokenKind, what: &str, open: Span) -> PResult<Span> {
        if self.at(kind) {
            return Ok(self.bump().span);
        }
        let ended = match self.kind() {
            TokenKind::Eof => true,
            TokenKind::RBrace => *kind != TokenKind::RBrace,
            TokenKind::Ident(word) => {
                ITEM_KEYWORDS.contains(&word.as_str()) || BODY_KEYWORDS.contains(&word.as_str())
            }
            _ => false,
        };
        if !ended {
            return Err(self.error_expected(what));
        }
        let span = self.span();
        let opener = match kind {
            TokenKind::RParen => "(",
            TokenKind::RBracket => "[",
            _ => "{",
        };
        self.diagnostics.push(
            Diagnostic::error("E0202", format!("`{opener}` is not closed"), span)
                .label(format!("expected {what} before this"))
                .with_label(open, "opened here")
                .help(format!(
                    "close it with `{}`",
                    kind.describe().trim_matches('`')
                )),
        );
        Err(Reported)
    }

    fn expect_word(&mut self, word: &str) -> PResult<Span> {
        if self.at_word(word) {
            Ok(self.bump().span)
        } else {
            Err(self.error_expected(&format!("`{word}`")))
        }
    }

    fn ident(&mut self, what: &str) -> PResult<Ident> {
        match self.kind().clone() {
            TokenKind::Ident(name) if !RESERVED.contains(&name.as_str()) => {
                let span = self.bump().span;
                Ok(Ident { name, span })
            }
            _ => Err(self.error_expected(what)),
        }
    }

    /// A provision or interpretation id: names joined by `-` with no spaces (`ru-2021`).
    fn id(&mut self, what: &str) -> PResult<Ident> {
        let first = match self.kind().clone() {
            TokenKind::Ident(name) => name,
            TokenKind::Int(n) => n.to_string(),
            _ => return Err(self.error_expected(what)),
        };
        let mut span = self.bump().span;
        let mut name = first;
        while self.at(&TokenKind::Minus) && self.span().start == span.end {
            let next = self.nth_kind(1).clone();
            let next_span = self.tokens.get(self.pos + 1).map(|t| t.span);
            let part = match next {
                TokenKind::Ident(word) => word,
                TokenKind::Int(n) => n.to_string(),
                _ => break,
            };
            match next_span {
                Some(s) if s.start == self.span().end => {
                    self.bump();
                    self.bump();
                    name.push('-');
                    name.push_str(&part);
                    span = span.to(s);
                }
                _ => break,
            }
        }
        Ok(Ident { name, span })
    }

    fn string(&mut self) -> Option<StrLit> {
        if let TokenKind::Str(value) = self.kind().clone() {
            let span = self.bump().span;
            Some(StrLit { value, span })
        } else {
            None
        }
    }

    /// After a statement that began at token `statement_start` failed: skips to the next
    /// token that can start a statement of the current block, or to the block's closing
    /// brace, honouring nested braces. Braces the failed statement opened are skipped to their
    /// end (`category c { a: wrong }`), unless a statement keyword shows that the author left
    /// them open. The keyword of the failed statement itself is never a place to resume.
    fn recover(&mut self, keywords: &[&str], statement_start: usize) {
        // Keywords that may appear inside the failed statement's own braces.
        let inner: &[&str] = match self.tokens.get(statement_start).map(|t| &t.kind) {
            Some(TokenKind::Ident(word)) if word == "interpretation" => &["quantity"],
            Some(TokenKind::Ident(word))
                if matches!(
                    word.as_str(),
                    "limit" | "objective" | "ban" | "notify" | "declare"
                ) =>
            {
                BODY_KEYWORDS
            }
            _ => &[],
        };
        let mut depth = 0u32;
        for token in self
            .tokens
            .get(statement_start..self.pos)
            .unwrap_or_default()
        {
            match token.kind {
                TokenKind::LBrace => depth += 1,
                TokenKind::RBrace => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        loop {
            match self.kind() {
                TokenKind::Eof => return,
                TokenKind::LBrace => depth += 1,
                TokenKind::RBrace => {
                    if depth == 0 {
                        return;
                    }
                    depth -= 1;
                }
                TokenKind::Ident(word)
                    if self.pos > statement_start
                        && keywords.contains(&word.as_str())
                        && (depth == 0 || !inner.contains(&word.as_str())) =>
                {
                    return;
                }
                _ => {}
            }
            self.bump();
        }
    }

    // ----- file and items -----------------------------------------------------------------

    fn file(&mut self) -> Option<Treaty> {
        if self.at_eof() {
            let span = self.span();
            self.diagnostics.push(
                Diagnostic::error("E0201", "the file has no treaty", span)
                    .help("a treaty file holds one `treaty NAME \"TITLE\" { … }` block"),
            );
            return None;
        }
        let start = self.span();
        if self.expect_word("treaty").is_err() {
            // Perhaps the header is missing: look for the first `treaty`.
            while !self.at_eof() && !self.at_word("treaty") {
                self.bump();
            }
            if !self.eat_word("treaty") {
                return None;
            }
        }
        let name = self.ident("a treaty name").ok()?;
        let title = self.string();
        if self
            .expect(&TokenKind::LBrace, "`{` to open the treaty")
            .is_err()
            && !self.at_word_in(ITEM_KEYWORDS)
        {
            // Without `{`, go on only if a statement follows (the title may have swallowed it).
            return None;
        }
        let mut items = Vec::new();
        while !self.at(&TokenKind::RBrace) && !self.at_eof() {
            let before = self.pos;
            match self.item() {
                Ok(item) => items.push(item),
                Err(Reported) => self.recover(ITEM_KEYWORDS, before),
            }
            if self.pos == before {
                self.bump();
            }
        }
        let end = self.span();
        if !self.eat(&TokenKind::RBrace) {
            self.diagnostics.push(
                Diagnostic::error("E0202", "the treaty block is not closed", end)
                    .with_label(start, "the treaty starts here")
                    .help("add `}` at the end of the treaty"),
            );
        } else if !self.at_eof() {
            let span = self.span();
            self.diagnostics.push(
                Diagnostic::error(
                    "E0201",
                    format!("unexpected {} after the treaty", self.kind().describe()),
                    span,
                )
                .help("a file holds exactly one treaty; remove what follows its closing `}`"),
            );
        }
        Some(Treaty {
            name,
            title,
            items,
            span: start.to(end),
        })
    }

    fn item(&mut self) -> PResult<Item> {
        let start = self.span();
        let word = match self.kind() {
            TokenKind::Ident(word) => word.clone(),
            _ => {
                return Err(self.error_expected(
                    "a treaty statement (`param`, `quantity`, `limit`, `ban`, …)",
                ));
            }
        };
        // Every statement starts with its keyword: consume it once the keyword is known.
        if ITEM_KEYWORDS.contains(&word.as_str()) {
            self.bump();
        }
        let kind = match word.as_str() {
            "parties" => {
                let mut parties = vec![self.ident("a party code")?];
                while self.eat(&TokenKind::Comma) {
                    parties.push(self.ident("a party code")?);
                }
                ItemKind::Parties(parties)
            }
            "signed" => ItemKind::Signed(self.expr()?),
            "in_force" => ItemKind::InForce(self.expr()?),
            "expires" => ItemKind::Expires(self.expr()?),
            "param" => ItemKind::Param(self.param()?),
            "category" => ItemKind::Category(self.kind_decl("a category name")?),
            "event" => ItemKind::EventType(self.kind_decl("an event type name")?),
            "quantity" => ItemKind::Quantity(self.quantity()?),
            "zone" => ItemKind::Zone(self.zone()?),
            "group" => ItemKind::Group(self.group()?),
            "limit" | "objective" | "ban" | "notify" | "declare" => {
                let kind = match word.as_str() {
                    "limit" => ProvisionKind::Limit,
                    "objective" => ProvisionKind::Objective,
                    "ban" => ProvisionKind::Ban,
                    "notify" => ProvisionKind::Notify,
                    _ => ProvisionKind::Declare,
                };
                ItemKind::Provision(self.provision(kind)?)
            }
            "deferred" => {
                let id = self.id("an id for the deferred issue")?;
                let title = self.string();
                let note = self.string();
                ItemKind::Deferred(Deferred { id, title, note })
            }
            "interpretation" => ItemKind::Interpretation(self.interpretation()?),
            _ => {
                let span = self.span();
                let mut d = Diagnostic::error(
                    "E0201",
                    format!("`{word}` does not start a treaty statement"),
                    span,
                );
                // `param a = 1 +` then `category c`: the keyword was read as an operand.
                let previous = self.pos.checked_sub(1).and_then(|i| self.tokens.get(i));
                if let Some(Token {
                    kind: TokenKind::Ident(keyword),
                    ..
                }) = previous
                    && ITEM_KEYWORDS.contains(&keyword.as_str())
                    && !matches!(keyword.as_str(), "in_force" | "signed")
                {
                    d = d.help(format!(
                        "`{keyword}` before it was read as a name in the statement above: \
                         is that statement unfinished?"
                    ));
                }
                if d.help.is_none() {
                    d = d.maybe_help(crate::suggest::did_you_mean_help(
                        &word,
                        ITEM_KEYWORDS.iter().copied(),
                    ));
                }
                if d.help.is_none() {
                    d = d.help(
                        "statements are `parties`, `in_force`, `param`, `category`, `event`, \
                         `quantity`, `zone`, `group`, `limit`, `objective`, `ban`, `notify`, \
                         `declare`, `deferred` and `interpretation`",
                    );
                }
                self.diagnostics.push(d);
                return Err(Reported);
            }
        };
        Ok(Item {
            kind,
            span: start.to(self.prev_span()),
        })
    }

    fn param(&mut self) -> PResult<Param> {
        let name = self.ident("a param name")?;
        let ty = if self.eat(&TokenKind::Colon) {
            Some(self.type_expr()?)
        } else {
            None
        };
        let value = if self.eat(&TokenKind::Assign) {
            Some(self.expr()?)
        } else {
            None
        };
        let note = self.string();
        Ok(Param {
            name,
            ty,
            value,
            note,
        })
    }

    fn type_expr(&mut self) -> PResult<TypeExpr> {
        let start = self.span();
        let name = match self.kind() {
            TokenKind::Ident(word) => word.clone(),
            _ => return Err(self.error_expected("a type")),
        };
        let kind = match name.as_str() {
            "int" => TypeKind::Int,
            "decimal" => TypeKind::Decimal,
            "bool" => TypeKind::Bool,
            "string" => TypeKind::String,
            "date" => TypeKind::Date,
            "instant" => TypeKind::Instant,
            "duration" => TypeKind::Duration,
            "enum" => {
                self.bump();
                let open = self.expect(&TokenKind::LParen, "`(` and the enum's values")?;
                let mut values = vec![self.ident("an enum value")?];
                while self.eat(&TokenKind::Comma) {
                    if self.at(&TokenKind::RParen) {
                        break;
                    }
                    values.push(self.ident("an enum value")?);
                }
                let end = self.expect_close(&TokenKind::RParen, "`,` or `)`", open)?;
                return Ok(TypeExpr {
                    kind: TypeKind::Enum(values),
                    span: start.to(end),
                });
            }
            other => {
                let alias = match other {
                    "integer" | "i64" | "long" => Some("int"),
                    "float" | "double" | "number" | "real" | "f64" => Some("decimal"),
                    "boolean" => Some("bool"),
                    "str" | "text" => Some("string"),
                    "datetime" | "timestamp" | "time" => Some("instant"),
                    _ => None,
                };
                let help = alias
                    .or_else(|| {
                        crate::suggest::did_you_mean(
                            other,
                            [
                                "int", "decimal", "bool", "string", "date", "instant", "duration",
                                "enum",
                            ],
                        )
                    })
                    .map_or_else(
                        || {
                            "the types are `int`, `decimal`, `bool`, `string`, `date`, `instant`, \
                         `duration` and `enum(a, b, …)`"
                                .to_owned()
                        },
                        |s| format!("did you mean `{s}`?"),
                    );
                self.diagnostics.push(
                    Diagnostic::error("E0201", format!("unknown type `{other}`"), start).help(help),
                );
                self.bump();
                return Err(Reported);
            }
        };
        self.bump();
        Ok(TypeExpr { kind, span: start })
    }

    fn kind_decl(&mut self, what: &str) -> PResult<KindDecl> {
        let name = self.ident(what)?;
        let note = self.string();
        let mut attrs = Vec::new();
        if self.eat(&TokenKind::LBrace) {
            let open = self.prev_span();
            while !self.at(&TokenKind::RBrace) {
                let attr = self.ident("an attribute name")?;
                self.expect(&TokenKind::Colon, "`:` and the attribute's type")?;
                let ty = self.type_expr()?;
                attrs.push(AttrDecl { name: attr, ty });
                if !self.eat(&TokenKind::Comma) {
                    break;
                }
            }
            self.expect_close(&TokenKind::RBrace, "`,` or `}`", open)?;
        }
        Ok(KindDecl { name, note, attrs })
    }

    fn quantity(&mut self) -> PResult<QuantityDecl> {
        let name = self.ident("a quantity name")?;
        let ty = if self.eat(&TokenKind::Colon) {
            Some(self.type_expr()?)
        } else {
            None
        };
        let value = if self.eat(&TokenKind::Assign) {
            Some(self.expr()?)
        } else {
            None
        };
        let declared = self.eat_word("declared");
        let note = self.string();
        Ok(QuantityDecl {
            name,
            ty,
            value,
            declared,
            note,
        })
    }

    fn zone(&mut self) -> PResult<ZoneDecl> {
        let name = self.ident("a zone name")?;
        let note = self.string();
        self.expect(&TokenKind::Assign, "`=` and the zone's shape")?;
        let shape = if self.eat_word("file") {
            match self.string() {
                Some(path) => ZoneShape::File(path),
                None => return Err(self.error_expected("a file path in quotes")),
            }
        } else if self.eat_word("polygon") {
            let open = self.expect(&TokenKind::LBracket, "`[` and the polygon's points")?;
            let mut points = Vec::new();
            while !self.at(&TokenKind::RBracket) {
                points.push(self.point()?);
                if !self.eat(&TokenKind::Comma) {
                    break;
                }
            }
            self.expect_close(&TokenKind::RBracket, "`,` or `]`", open)?;
            ZoneShape::Polygon(points)
        } else if self.eat_word("circle") {
            let center = self.point()?;
            self.expect_word("radius")?;
            let radius = self.unary()?;
            let unit = self.ident("a distance unit (`km` or `nmi`)")?;
            ZoneShape::Circle {
                center,
                radius,
                unit,
            }
        } else {
            return Err(self.error_expected("`file`, `polygon` or `circle`"));
        };
        Ok(ZoneDecl { name, note, shape })
    }

    fn point(&mut self) -> PResult<(Expr, Expr)> {
        self.start_expr();
        let open = self.expect(&TokenKind::LParen, "`(latitude, longitude)`")?;
        let lat = self.unary()?;
        self.expect(&TokenKind::Comma, "`,` between latitude and longitude")?;
        let lon = self.unary()?;
        self.expect_close(&TokenKind::RParen, "`)`", open)?;
        Ok((lat, lon))
    }

    fn group(&mut self) -> PResult<GroupDecl> {
        let name = self.ident("a group name")?;
        let note = self.string();
        self.expect(&TokenKind::Assign, "`=` and the group's members")?;
        let open = self.expect(&TokenKind::LBrace, "`{` and the group's members")?;
        let mut members = Vec::new();
        while !self.at(&TokenKind::RBrace) {
            match self.string() {
                Some(s) => members.push(s),
                None => return Err(self.error_expected("a member in quotes")),
            }
            if !self.eat(&TokenKind::Comma) {
                break;
            }
        }
        self.expect_close(&TokenKind::RBrace, "`,` or `}`", open)?;
        Ok(GroupDecl {
            name,
            note,
            members,
        })
    }

    fn provision(&mut self, kind: ProvisionKind) -> PResult<Provision> {
        let id = self.id("a provision id")?;
        let title = self.string();
        let mut article = None;
        let mut from = None;
        let mut until = None;
        loop {
            if self.eat_word("article") {
                match self.string() {
                    Some(s) => article = Some(s),
                    None => return Err(self.error_expected("an article reference in quotes")),
                }
            } else if self.eat_word("from") {
                from = Some(self.expr()?);
            } else if self.eat_word("until") {
                until = Some(self.expr()?);
            } else {
                break;
            }
        }
        let open = self.expect(&TokenKind::LBrace, "`{` to open the provision")?;
        let mut body = Vec::new();
        let mut failed = false;
        while !self.at(&TokenKind::RBrace) && !self.at_eof() {
            if self.at_word_in(ITEM_KEYWORDS) && !self.at_word_in(BODY_KEYWORDS) {
                break;
            }
            let before = self.pos;
            match self.stmt(kind) {
                Ok(stmt) => body.push(stmt),
                Err(Reported) => {
                    failed = true;
                    self.recover(BODY_KEYWORDS, before);
                }
            }
            if self.pos == before {
                self.bump();
            }
        }
        if !self.eat(&TokenKind::RBrace) {
            return Err(self.unclosed(&format!("{} `{}`", kind.keyword(), id.name), open));
        }
        if failed {
            // Left out, so that the checker does not report what the failed statement
            // would have provided (`limit … has no comparison`, `ban … bans nothing`).
            return Err(Reported);
        }
        Ok(Provision {
            kind,
            id,
            title,
            article,
            from,
            until,
            body,
        })
    }

    /// A statement that belongs in another kind of provision, such as `item c` in a limit.
    fn wrong_statement(&mut self, kind: ProvisionKind) -> Reported {
        let word = match self.kind() {
            TokenKind::Ident(word) => word.clone(),
            other => other.describe(),
        };
        let holds = match kind {
            ProvisionKind::Limit | ProvisionKind::Objective => "comparisons such as `sdv <= 2400`",
            ProvisionKind::Ban => "`item …`, `event …` and `except …` statements",
            ProvisionKind::Notify => "`event TYPE`, `lead DURATION` and `stating FIELD, …`",
            ProvisionKind::Declare => "`quantities …`, `as_of DAY MONTH, …` and `due DURATION`",
        };
        let span = self.span();
        self.diagnostics.push(
            Diagnostic::error(
                "E0201",
                format!(
                    "`{word}` does not belong in a `{}` provision",
                    kind.keyword()
                ),
                span,
            )
            .help(format!("a `{}` provision holds {holds}", kind.keyword())),
        );
        Reported
    }

    /// A block whose `}` is missing: the next statement, or the end of the file, came first.
    fn unclosed(&mut self, what: &str, open: Span) -> Reported {
        let span = self.span();
        self.diagnostics.push(
            Diagnostic::error("E0202", format!("{what} is not closed"), span)
                .label("expected `}` before this")
                .with_label(open, "the block opens here")
                .help(format!("add `}}` after the last statement of {what}")),
        );
        Reported
    }

    fn at_word_in(&self, words: &[&str]) -> bool {
        matches!(self.kind(), TokenKind::Ident(w) if words.contains(&w.as_str()))
    }

    fn stmt(&mut self, kind: ProvisionKind) -> PResult<Stmt> {
        let start = self.span();
        self.start_expr();
        let stmt = match kind {
            ProvisionKind::Limit | ProvisionKind::Objective => {
                // `item c`, `lead 24h`: a statement of another kind of provision. A quantity
                // may be named like a keyword, but then an operator follows it.
                if self.at_word_in(BODY_KEYWORDS)
                    && matches!(
                        self.nth_kind(1),
                        TokenKind::Ident(_)
                            | TokenKind::Int(_)
                            | TokenKind::Decimal(_)
                            | TokenKind::Str(_)
                            | TokenKind::Date(_)
                    )
                {
                    return Err(self.wrong_statement(kind));
                }
                self.clause()?
            }
            ProvisionKind::Ban => {
                if self.at_word("item") || self.at_word("event") {
                    let subject = if self.eat_word("item") {
                        Subject::Item
                    } else {
                        self.bump();
                        Subject::Event
                    };
                    let mut names = vec![self.ident("a category or event type")?];
                    while self.eat(&TokenKind::Comma) {
                        names.push(self.ident("a category or event type")?);
                    }
                    let filter = self.root_where()?;
                    let within = self.opt_within()?;
                    StmtKind::Target {
                        subject,
                        names,
                        filter,
                        within,
                    }
                } else if self.eat_word("except") {
                    let filter = self.root_where()?;
                    let within = self.opt_within()?;
                    let until = if self.eat_word("until") {
                        Some(self.expr()?)
                    } else {
                        None
                    };
                    let note = self.string();
                    StmtKind::Except {
                        filter,
                        within,
                        until,
                        note,
                    }
                } else if self.at_word_in(BODY_KEYWORDS) {
                    return Err(self.wrong_statement(kind));
                } else {
                    return Err(self.error_expected("`item`, `event` or `except`"));
                }
            }
            ProvisionKind::Notify => {
                if self.eat_word("event") {
                    StmtKind::NotifyEvent(self.ident("an event type")?)
                } else if self.eat_word("lead") {
                    StmtKind::Lead(self.expr()?)
                } else if self.eat_word("stating") {
                    let mut fields = vec![self.ident("a notification field")?];
                    while self.eat(&TokenKind::Comma) {
                        fields.push(self.ident("a notification field")?);
                    }
                    StmtKind::Stating(fields)
                } else if self.at_word_in(BODY_KEYWORDS) {
                    return Err(self.wrong_statement(kind));
                } else {
                    return Err(self.error_expected("`event`, `lead` or `stating`"));
                }
            }
            ProvisionKind::Declare => {
                if self.eat_word("quantities") {
                    if self.eat_word("all") {
                        StmtKind::Quantities(None)
                    } else {
                        let mut names = vec![self.ident("a quantity")?];
                        while self.eat(&TokenKind::Comma) {
                            names.push(self.ident("a quantity")?);
                        }
                        StmtKind::Quantities(Some(names))
                    }
                } else if self.eat_word("as_of") {
                    let mut dates = vec![self.day_month()?];
                    while self.eat(&TokenKind::Comma) {
                        dates.push(self.day_month()?);
                    }
                    StmtKind::AsOf(dates)
                } else if self.eat_word("due") {
                    StmtKind::Due(self.expr()?)
                } else if self.at_word_in(BODY_KEYWORDS) {
                    return Err(self.wrong_statement(kind));
                } else {
                    return Err(self.error_expected("`quantities`, `as_of` or `due`"));
                }
            }
        };
        Ok(Stmt {
            kind: stmt,
            span: start.to(self.prev_span()),
        })
    }

    fn day_month(&mut self) -> PResult<(Expr, Ident)> {
        let day = match self.kind() {
            TokenKind::Int(n) => {
                let n = *n;
                let span = self.bump().span;
                Expr {
                    kind: ExprKind::Int(n),
                    span,
                }
            }
            _ => return Err(self.error_expected("a day of the month, as in `1 January`")),
        };
        let month = self.ident("a month name, as in `1 January`")?;
        Ok((day, month))
    }

    fn opt_where(&mut self) -> PResult<Option<Box<Expr>>> {
        Ok(if self.eat_word("where") {
            Some(Box::new(self.or_expr()?))
        } else {
            None
        })
    }

    /// A ban's `where` filter: a whole expression of its own.
    fn root_where(&mut self) -> PResult<Option<Box<Expr>>> {
        self.start_expr();
        match self.opt_where()? {
            Some(f) => Ok(Some(Box::new(self.finish_expr(*f)?))),
            None => Ok(None),
        }
    }

    fn opt_within(&mut self) -> PResult<Option<Ident>> {
        Ok(if self.eat_word("within") {
            Some(self.ident("a zone name")?)
        } else {
            None
        })
    }

    fn clause(&mut self) -> PResult<StmtKind> {
        self.start_expr();
        let lhs = self.arith()?;
        let lhs = self.finish_expr(lhs)?;
        let op = match self.kind() {
            TokenKind::Le => CmpOp::Le,
            TokenKind::Lt => CmpOp::Lt,
            TokenKind::Ge => CmpOp::Ge,
            TokenKind::Gt => CmpOp::Gt,
            TokenKind::EqEq => CmpOp::Eq,
            _ => return Err(self.error_expected("a comparison (`<=`, `<`, `>=`, `>` or `==`)")),
        };
        self.bump();
        let schedule = if self.eat_word("steps") {
            let start = self.bound()?;
            self.expect_word("to")?;
            let target = self.bound()?;
            self.expect_word("every")?;
            let every = self.bound()?;
            self.expect_word("until")?;
            let until = self.bound()?;
            Schedule::Steps {
                start,
                target,
                every,
                until,
            }
        } else {
            let mut entries = vec![(self.bound()?, None)];
            while self.eat(&TokenKind::Comma) {
                let bound = self.bound()?;
                self.expect_word("from")?;
                let date = self.bound()?;
                entries.push((bound, Some(date)));
            }
            Schedule::Piecewise(entries)
        };
        let mut parties = Vec::new();
        if self.eat_word("for") {
            parties.push(self.ident("a party code")?);
            while self.eat(&TokenKind::Comma) {
                parties.push(self.ident("a party code")?);
            }
        }
        Ok(StmtKind::Clause {
            lhs,
            op,
            schedule,
            parties,
        })
    }

    /// One expression of a schedule, with its own node budget.
    fn bound(&mut self) -> PResult<Expr> {
        self.start_expr();
        let e = self.arith()?;
        self.finish_expr(e)
    }

    fn interpretation(&mut self) -> PResult<Interpretation> {
        let id = self.id("an interpretation name")?;
        let title = self.string();
        let open = self.expect(&TokenKind::LBrace, "`{` to open the interpretation")?;
        let mut quantities = Vec::new();
        while !self.at(&TokenKind::RBrace) && !self.at_eof() {
            let start = self.span();
            if self.eat_word("quantity") {
                let q = self.quantity()?;
                quantities.push((q, start.to(self.prev_span())));
            } else if self.at_word_in(ITEM_KEYWORDS) {
                return Err(self.unclosed(&format!("interpretation `{}`", id.name), open));
            } else {
                return Err(self.error_expected("`quantity` or `}`"));
            }
        }
        if !self.eat(&TokenKind::RBrace) {
            return Err(self.unclosed(&format!("interpretation `{}`", id.name), open));
        }
        Ok(Interpretation {
            id,
            title,
            quantities,
        })
    }

    // ----- expressions --------------------------------------------------------------------

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let span = self.span();
            self.diagnostics.push(
                Diagnostic::error(
                    "E0002",
                    format!("expression is nested more than {MAX_DEPTH} levels deep"),
                    span,
                )
                .help("split it into named quantities"),
            );
            // The statement is abandoned; recovery resumes at the next statement.
            return Err(Reported);
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Starts a new expression: resets the nesting depth (an error unwinds without
    /// leaving the levels it entered) and the node budget.
    fn start_expr(&mut self) {
        self.depth = 0;
        self.expr_nodes = 0;
        self.expr_budget_reported = false;
    }

    /// Refuses a finished expression whose tree is deeper than [`MAX_TREE_DEPTH`]; a chain
    /// such as `a + b + c` nests one level per operator without any parentheses.
    fn finish_expr(&mut self, e: Expr) -> PResult<Expr> {
        if tree_depth(&e) <= MAX_TREE_DEPTH {
            return Ok(e);
        }
        if !self.expr_budget_reported {
            self.expr_budget_reported = true;
            self.diagnostics.push(
                Diagnostic::error(
                    "E0003",
                    format!("expression is more than {MAX_TREE_DEPTH} operations deep"),
                    e.span,
                )
                .help(
                    "a chain such as `a + b + c + …` nests one level per operator; \
                     split it into named quantities",
                ),
            );
        }
        Err(Reported)
    }

    fn node(&mut self, kind: ExprKind, span: Span) -> PResult<Expr> {
        self.expr_nodes += 1;
        if self.expr_nodes > MAX_EXPR_NODES {
            if !self.expr_budget_reported {
                self.expr_budget_reported = true;
                self.diagnostics.push(
                    Diagnostic::error(
                        "E0003",
                        format!("expression has more than {MAX_EXPR_NODES} parts"),
                        span,
                    )
                    .help("split it into named quantities"),
                );
            }
            return Err(Reported);
        }
        Ok(Expr { kind, span })
    }

    /// A full expression: `or` has the lowest precedence.
    fn expr(&mut self) -> PResult<Expr> {
        self.start_expr();
        let e = self.or_expr()?;
        self.finish_expr(e)
    }

    fn or_expr(&mut self) -> PResult<Expr> {
        let mut lhs = self.and_expr()?;
        while self.eat_word("or") {
            let rhs = self.and_expr()?;
            let span = lhs.span.to(rhs.span);
            lhs = self.node(ExprKind::Or(Box::new(lhs), Box::new(rhs)), span)?;
        }
        Ok(lhs)
    }

    fn and_expr(&mut self) -> PResult<Expr> {
        let mut lhs = self.not_expr()?;
        while self.eat_word("and") {
            let rhs = self.not_expr()?;
            let span = lhs.span.to(rhs.span);
            lhs = self.node(ExprKind::And(Box::new(lhs), Box::new(rhs)), span)?;
        }
        Ok(lhs)
    }

    fn not_expr(&mut self) -> PResult<Expr> {
        if self.at_word("not") {
            let start = self.bump().span;
            self.enter()?;
            let inner = self.not_expr()?;
            self.leave();
            let span = start.to(inner.span);
            return self.node(ExprKind::Not(Box::new(inner)), span);
        }
        self.cmp_expr()
    }

    fn cmp_expr(&mut self) -> PResult<Expr> {
        let lhs = self.arith()?;
        let op = match self.kind() {
            TokenKind::Lt => Some(CmpOp::Lt),
            TokenKind::Le => Some(CmpOp::Le),
            TokenKind::Gt => Some(CmpOp::Gt),
            TokenKind::Ge => Some(CmpOp::Ge),
            TokenKind::EqEq => Some(CmpOp::Eq),
            TokenKind::NotEq => Some(CmpOp::Ne),
            _ => None,
        };
        if let Some(op) = op {
            self.bump();
            let rhs = self.arith()?;
            let span = lhs.span.to(rhs.span);
            return self.node(ExprKind::Cmp(op, Box::new(lhs), Box::new(rhs)), span);
        }
        if self.eat_word("in") {
            let set = if self.at(&TokenKind::LParen) {
                let open = self.bump().span;
                let mut values = Vec::new();
                while !self.at(&TokenKind::RParen) {
                    values.push(self.arith()?);
                    if !self.eat(&TokenKind::Comma) {
                        break;
                    }
                }
                self.expect_close(&TokenKind::RParen, "`,` or `)`", open)?;
                InSet::List(values)
            } else {
                InSet::Group(self.ident("a group name or `(a, b, …)`")?)
            };
            let span = lhs.span.to(self.prev_span());
            return self.node(ExprKind::In(Box::new(lhs), set), span);
        }
        Ok(lhs)
    }

    /// Arithmetic: `+ -` over `* /` over unary.
    fn arith(&mut self) -> PResult<Expr> {
        self.left_assoc(Parser::term, |kind| match kind {
            TokenKind::Plus => Some(ArithOp::Add),
            TokenKind::Minus => Some(ArithOp::Sub),
            _ => None,
        })
    }

    fn term(&mut self) -> PResult<Expr> {
        self.left_assoc(Parser::unary, |kind| match kind {
            TokenKind::Star => Some(ArithOp::Mul),
            TokenKind::Slash => Some(ArithOp::Div),
            _ => None,
        })
    }

    /// One left-associative level of arithmetic: operands from `operand`, joined by the
    /// operators `op_of` recognizes.
    fn left_assoc(
        &mut self,
        operand: fn(&mut Parser) -> PResult<Expr>,
        op_of: fn(&TokenKind) -> Option<ArithOp>,
    ) -> PResult<Expr> {
        let mut lhs = operand(self)?;
        while let Some(op) = op_of(self.kind()) {
            self.bump();
            let rhs = operand(self)?;
            let span = lhs.span.to(rhs.span);
            lhs = self.node(ExprKind::Arith(op, Box::new(lhs), Box::new(rhs)), span)?;
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> PResult<Expr> {
        if self.at(&TokenKind::Minus) {
            let start = self.bump().span;
            self.enter()?;
            let inner = self.unary()?;
            self.leave();
            let span = start.to(inner.span);
            // Fold a literal so `-5` stays a literal.
            let kind = match inner.kind {
                ExprKind::Int(n) => match n.checked_neg() {
                    Some(v) => ExprKind::Int(v),
                    None => ExprKind::Neg(Box::new(inner)),
                },
                ExprKind::Decimal(v) => ExprKind::Decimal(-v),
                _ => ExprKind::Neg(Box::new(inner)),
            };
            return self.node(kind, span);
        }
        self.atom()
    }

    fn atom(&mut self) -> PResult<Expr> {
        let token = self.token().clone();
        let span = token.span;
        match token.kind {
            TokenKind::Int(n) => {
                self.bump();
                // A number followed by a time unit on its line is a duration: `24h`, `30 days`.
                // On the next line the word begins something else: a clause `min(a, b) <= 5`
                // after `q <= 10`, or a quantity named `d`.
                if let TokenKind::Ident(word) = self.kind()
                    && !self.line_breaks.get(self.pos).copied().unwrap_or(false)
                    && let Some(unit) = TimeUnit::from_word(word)
                {
                    let end = self.bump().span;
                    return self.node(ExprKind::Duration(n, unit), span.to(end));
                }
                self.node(ExprKind::Int(n), span)
            }
            TokenKind::Decimal(v) => {
                self.bump();
                self.node(ExprKind::Decimal(v), span)
            }
            TokenKind::Str(s) => {
                self.bump();
                self.node(ExprKind::Str(s), span)
            }
            TokenKind::Date(d) => {
                self.bump();
                self.node(ExprKind::Date(d), span)
            }
            TokenKind::Instant(i) => {
                self.bump();
                self.node(ExprKind::Instant(i), span)
            }
            TokenKind::LParen => {
                self.bump();
                self.enter()?;
                let inner = self.or_expr()?;
                self.leave();
                let end = self.expect_close(&TokenKind::RParen, "`)`", span)?;
                self.node(ExprKind::Paren(Box::new(inner)), span.to(end))
            }
            TokenKind::Ident(word) => match word.as_str() {
                "true" | "false" => {
                    self.bump();
                    self.node(ExprKind::Bool(word == "true"), span)
                }
                "count" | "sum" if matches!(self.nth_kind(1), TokenKind::LParen) => {
                    self.aggregate()
                }
                "min" | "max" if matches!(self.nth_kind(1), TokenKind::LParen) => {
                    let func = Ident {
                        name: word.clone(),
                        span,
                    };
                    self.bump();
                    let open = self.bump().span;
                    self.enter()?;
                    let mut args = Vec::new();
                    while !self.at(&TokenKind::RParen) {
                        args.push(self.arith()?);
                        if !self.eat(&TokenKind::Comma) {
                            break;
                        }
                    }
                    self.leave();
                    let end = self.expect_close(&TokenKind::RParen, "`,` or `)`", open)?;
                    self.node(ExprKind::Call(func, args), span.to(end))
                }
                _ if RESERVED.contains(&word.as_str()) => {
                    Err(self.error_expected("a value, a name or `(`"))
                }
                // `param a = 1 +` then `category c { … }` on the next line: a statement keyword
                // followed by a name and `=`, `:`, `{`, a string or `,` is never an operand
                // (no valid expression has two names in a row), so the expression is unfinished.
                // Stopping here lets the next statement be read.
                _ if ITEM_KEYWORDS.contains(&word.as_str())
                    && !matches!(word.as_str(), "in_force" | "signed")
                    && matches!(self.nth_kind(1), TokenKind::Ident(next) if !RESERVED.contains(&next.as_str()))
                    && matches!(
                        self.nth_kind(2),
                        TokenKind::Assign
                            | TokenKind::Colon
                            | TokenKind::LBrace
                            | TokenKind::Str(_)
                            | TokenKind::Comma
                    ) =>
                {
                    self.diagnostics.push(
                        Diagnostic::error(
                            "E0201",
                            format!("expected a value, a name or `(`, found `{word}`"),
                            span,
                        )
                        .label("expected a value, a name or `(` here")
                        .help(format!(
                            "`{word}` starts the next statement: finish the expression before it"
                        )),
                    );
                    Err(Reported)
                }
                _ => {
                    self.bump();
                    self.node(ExprKind::Name(word), span)
                }
            },
            _ => Err(self.error_expected("a value, a name or `(`")),
        }
    }

    fn aggregate(&mut self) -> PResult<Expr> {
        let start = self.span();
        let func = if self.eat_word("count") {
            AggFunc::Count
        } else {
            self.bump();
            AggFunc::Sum
        };
        let open = self.bump().span; // `(`
        self.enter()?;
        let target = self.ident("a category or event type")?;
        let attr = if self.eat(&TokenKind::Dot) {
            Some(self.ident("an attribute name")?)
        } else {
            None
        };
        if func == AggFunc::Sum && attr.is_none() {
            let span = self.span();
            self.diagnostics.push(
                Diagnostic::error("E0201", "`sum` needs an attribute to add up", span)
                    .label("expected `.` and an attribute here")
                    .help(format!(
                        "write `sum({}.ATTRIBUTE)`, or `count({})` to count",
                        target.name, target.name
                    )),
            );
            return Err(Reported);
        }
        let filter = self.opt_where()?;
        let within = self.opt_within()?;
        let window = if self.eat_word("per") {
            self.expect_word("year")?;
            Some(Window::PerYear)
        } else if self.eat_word("over") {
            Some(Window::Over(Box::new(self.arith()?)))
        } else {
            None
        };
        self.leave();
        let end = self.expect_close(&TokenKind::RParen, "`)` to close the aggregate", open)?;
        self.node(
            ExprKind::Aggregate {
                func,
                target,
                attr,
                filter,
                within,
                window,
            },
            start.to(end),
        )
    }
}

/// The depth of an expression tree, measured without recursion.
fn tree_depth<'a>(e: &'a Expr) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(e, 1usize)];
    while let Some((e, depth)) = stack.pop() {
        deepest = deepest.max(depth);
        let mut push = |child: &'a Expr| stack.push((child, depth + 1));
        match &e.kind {
            ExprKind::Neg(a) | ExprKind::Not(a) | ExprKind::Paren(a) => push(a),
            ExprKind::Arith(_, a, b)
            | ExprKind::Cmp(_, a, b)
            | ExprKind::And(a, b)
            | ExprKind::Or(a, b) => {
                push(a);
                push(b);
            }
            ExprKind::In(a, set) => {
                push(a);
                if let InSet::List(values) = set {
                    values.iter().for_each(push);
                }
            }
            ExprKind::Call(_, args) => args.iter().for_each(push),
            ExprKind::Aggregate { filter, window, .. } => {
                if let Some(f) = filter {
                    push(f);
                }
                if let Some(Window::Over(d)) = window {
                    push(d);
                }
            }
            _ => {}
        }
    }
    deepest
}

static EOF_TOKEN: Token = Token {
    kind: TokenKind::Eof,
    span: Span { start: 0, end: 0 },
};
