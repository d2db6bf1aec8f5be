//! The formatter: one canonical layout for every treaty.
//!
//! Two-space indentation, one statement per line, one space around operators, a blank line
//! where the author left one (at most one), and every comment kept: own-line comments stay
//! before the statement that follows them, trailing comments stay at the end of their line.
//! Lists the author broke over several lines (attributes, group members, polygon points)
//! keep their line breaks. Formatting is idempotent: formatting formatted text changes
//! nothing.

use crate::ast::*;
use crate::diag::{Diagnostic, LineIndex};
use crate::lexer::Comment;
use crate::time::TimeUnit;

/// Formats a treaty source. Refuses (returning the diagnostics) when the source has syntax
/// errors, because a tree with holes would lose text.
pub fn format_source(source: &str) -> Result<String, Vec<Diagnostic>> {
    let parsed = crate::parser::parse(source);
    let errors: Vec<Diagnostic> = parsed
        .diagnostics
        .into_iter()
        .filter(Diagnostic::is_error)
        .collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    let Some(treaty) = &parsed.file.treaty else {
        return Err(Vec::new());
    };
    let mut f = Formatter {
        out: String::new(),
        comments: &parsed.file.comments,
        next_comment: 0,
        lines: LineIndex::new(source),
        source,
        indent: 0,
    };
    f.treaty(treaty);
    Ok(f.out)
}

struct Formatter<'a> {
    out: String,
    comments: &'a [Comment],
    next_comment: usize,
    lines: LineIndex<'a>,
    source: &'a str,
    indent: usize,
}

/// Lines longer than this are broken where the construct allows it.
const WIDTH: usize = 100;

impl Formatter<'_> {
    fn line(&mut self, text: &str) {
        for _ in 0..self.indent {
            self.out.push_str("  ");
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    fn blank(&mut self) {
        if !self.out.ends_with("{\n") && !self.out.ends_with("\n\n") && !self.out.is_empty() {
            self.out.push('\n');
        }
    }

    fn line_of(&self, offset: u32) -> u32 {
        self.lines.line(offset)
    }

    /// Own-line comments before `offset`, each on its own line, keeping one blank line
    /// where the author left one.
    fn leading_comments(&mut self, offset: u32) {
        while let Some(c) = self.comments.get(self.next_comment) {
            if c.span.start >= offset {
                break;
            }
            self.next_comment += 1;
            if self.gap_before(c.span.start) {
                self.blank();
            }
            let text = comment_text(c);
            self.line(&text);
        }
    }

    /// Whether the source has a blank line just before `offset`.
    fn gap_before(&self, offset: u32) -> bool {
        let before = self.source.get(..offset as usize).unwrap_or("");
        let trimmed = before.trim_end_matches([' ', '\t']);
        let Some(rest) = trimmed.strip_suffix('\n') else {
            return false;
        };
        rest.trim_end_matches([' ', '\t', '\r']).ends_with('\n')
    }

    /// A trailing comment on the source line `line`, if any: appended to the last output line.
    fn trailing_comment(&mut self, line: u32) {
        if let Some(c) = self.comments.get(self.next_comment)
            && c.trailing
            && self.line_of(c.span.start) == line
        {
            self.next_comment += 1;
            if self.out.ends_with('\n') {
                self.out.pop();
            }
            self.out.push_str("  ");
            self.out.push_str(&comment_text(c));
            self.out.push('\n');
        }
    }

    fn treaty(&mut self, t: &Treaty) {
        self.leading_comments(t.span.start);
        let mut header = format!("treaty {}", t.name.name);
        if let Some(title) = &t.title {
            header.push(' ');
            header.push_str(&string(&title.value));
        }
        header.push_str(" {");
        self.line(&header);
        self.trailing_comment(self.line_of(t.span.start));
        self.indent += 1;
        for item in &t.items {
            if self.gap_before(self.first_offset(item.span.start)) {
                self.blank();
            }
            self.leading_comments(item.span.start);
            self.item(item);
        }
        self.leading_comments(t.span.end);
        self.indent -= 1;
        self.line("}");
        self.trailing_comment(self.line_of(t.span.end.saturating_sub(1)));
        self.leading_comments(u32::MAX);
    }

    /// Where an item's leading comments begin, so the blank line goes before them.
    fn first_offset(&self, item_start: u32) -> u32 {
        self.comments
            .get(self.next_comment)
            .filter(|c| c.span.start < item_start && !c.trailing)
            .map_or(item_start, |c| c.span.start)
    }

    fn item(&mut self, item: &Item) {
        let end_line = self.line_of(item.span.end.saturating_sub(1));
        match &item.kind {
            ItemKind::Parties(list) => {
                let names: Vec<&str> = list.iter().map(|i| i.name.as_str()).collect();
                self.line(&format!("parties {}", names.join(", ")));
            }
            ItemKind::Signed(e) => self.line(&format!("signed {}", expr(e))),
            ItemKind::InForce(e) => self.line(&format!("in_force {}", expr(e))),
            ItemKind::Expires(e) => self.line(&format!("expires {}", expr(e))),
            ItemKind::Param(p) => {
                let mut text = format!("param {}", p.name.name);
                if let Some(t) = &p.ty {
                    text.push_str(": ");
                    text.push_str(&type_text(t));
                }
                if let Some(v) = &p.value {
                    text.push_str(" = ");
                    text.push_str(&expr(v));
                }
                push_note(&mut text, p.note.as_ref());
                self.line(&text);
            }
            ItemKind::Category(k) => self.kind_decl("category", k, item),
            ItemKind::EventType(k) => self.kind_decl("event", k, item),
            ItemKind::Quantity(q) => {
                let text = format!("quantity {}", quantity_text(q));
                self.line(&text);
            }
            ItemKind::Zone(z) => self.zone(z, item),
            ItemKind::Group(g) => {
                let mut head = format!("group {}", g.name.name);
                push_note(&mut head, g.note.as_ref());
                head.push_str(" = {");
                let members: Vec<(String, u32)> = g
                    .members
                    .iter()
                    .map(|m| (string(&m.value), m.span.start))
                    .collect();
                self.list(&head, &members, "}", item);
            }
            ItemKind::Provision(p) => self.provision(p, item),
            ItemKind::Deferred(d) => {
                let mut text = format!("deferred {}", d.id.name);
                push_note(&mut text, d.title.as_ref());
                push_note(&mut text, d.note.as_ref());
                self.line(&text);
            }
            ItemKind::Interpretation(i) => {
                let mut head = format!("interpretation {}", i.id.name);
                push_note(&mut head, i.title.as_ref());
                head.push_str(" {");
                self.line(&head);
                self.trailing_comment(self.line_of(item.span.start));
                self.indent += 1;
                for (q, span) in &i.quantities {
                    if self.gap_before(self.first_offset(span.start)) {
                        self.blank();
                    }
                    self.leading_comments(span.start);
                    self.line(&format!("quantity {}", quantity_text(q)));
                    self.trailing_comment(self.line_of(span.end.saturating_sub(1)));
                }
                self.leading_comments(item.span.end);
                self.indent -= 1;
                self.line("}");
            }
        }
        self.trailing_comment(end_line);
    }

    /// A bracketed list: on one line when the source had it on one line and it fits, else
    /// one element per source line, with the comments between elements kept.
    fn list(&mut self, head: &str, elements: &[(String, u32)], close: &str, item: &Item) {
        let start_line = self.line_of(item.span.start);
        let end_line = self.line_of(item.span.end.saturating_sub(1));
        let one_line = format!(
            "{head}{}{}{}{close}",
            if close == "}" && !elements.is_empty() {
                " "
            } else {
                ""
            },
            elements
                .iter()
                .map(|(t, _)| t.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            if close == "}" && !elements.is_empty() {
                " "
            } else {
                ""
            },
        );
        if start_line == end_line && one_line.len() + self.indent * 2 <= WIDTH {
            self.line(&one_line);
            return;
        }
        self.line(head);
        self.trailing_comment(start_line);
        self.indent += 1;
        let mut current = String::new();
        let mut current_line = 0;
        let count = elements.len();
        for (i, (text, offset)) in elements.iter().enumerate() {
            let line = self.line_of(*offset);
            let has_comment_before = self
                .comments
                .get(self.next_comment)
                .is_some_and(|c| c.span.start < *offset);
            let breaks = line != current_line || has_comment_before;
            let too_long = current.len() + text.len() + 2 + self.indent * 2 > WIDTH;
            if !current.is_empty() && (breaks || too_long) {
                self.line(current.trim_end());
                self.trailing_comment(current_line);
                current.clear();
            }
            if current.is_empty() {
                self.leading_comments(*offset);
                current_line = line;
            } else {
                current.push(' ');
            }
            current.push_str(text);
            if i + 1 < count {
                current.push(',');
            }
        }
        if !current.is_empty() {
            self.line(current.trim_end());
            self.trailing_comment(current_line);
        }
        self.leading_comments(item.span.end.saturating_sub(1));
        self.indent -= 1;
        self.line(close);
    }

    fn kind_decl(&mut self, keyword: &str, k: &KindDecl, item: &Item) {
        let mut head = format!("{keyword} {}", k.name.name);
        push_note(&mut head, k.note.as_ref());
        if k.attrs.is_empty() {
            self.line(&head);
            return;
        }
        head.push_str(" {");
        let attrs: Vec<(String, u32)> = k
            .attrs
            .iter()
            .map(|a| {
                (
                    format!("{}: {}", a.name.name, type_text(&a.ty)),
                    a.name.span.start,
                )
            })
            .collect();
        self.list(&head, &attrs, "}", item);
    }

    fn zone(&mut self, z: &ZoneDecl, item: &Item) {
        let mut head = format!("zone {}", z.name.name);
        push_note(&mut head, z.note.as_ref());
        match &z.shape {
            ZoneShape::File(path) => self.line(&format!("{head} = file {}", string(&path.value))),
            ZoneShape::Circle {
                center,
                radius,
                unit,
            } => self.line(&format!(
                "{head} = circle ({}, {}) radius {} {}",
                expr(&center.0),
                expr(&center.1),
                expr(radius),
                unit.name
            )),
            ZoneShape::Polygon(points) => {
                let elements: Vec<(String, u32)> = points
                    .iter()
                    .map(|(a, b)| (format!("({}, {})", expr(a), expr(b)), a.span.start))
                    .collect();
                self.list(&format!("{head} = polygon ["), &elements, "]", item);
            }
        }
    }

    fn provision(&mut self, p: &Provision, item: &Item) {
        let mut head = format!("{} {}", p.kind.keyword(), p.id.name);
        push_note(&mut head, p.title.as_ref());
        if let Some(a) = &p.article {
            head.push_str(" article ");
            head.push_str(&string(&a.value));
        }
        if let Some(from) = &p.from {
            head.push_str(" from ");
            head.push_str(&expr(from));
        }
        if let Some(until) = &p.until {
            head.push_str(" until ");
            head.push_str(&expr(until));
        }
        head.push_str(" {");
        self.line(&head);
        self.trailing_comment(self.line_of(item.span.start));
        self.indent += 1;
        for stmt in &p.body {
            if self.gap_before(self.first_offset(stmt.span.start)) {
                self.blank();
            }
            self.leading_comments(stmt.span.start);
            let text = stmt_text(stmt);
            self.line(&text);
            self.trailing_comment(self.line_of(stmt.span.end.saturating_sub(1)));
        }
        self.leading_comments(item.span.end.saturating_sub(1));
        self.indent -= 1;
        self.line("}");
    }
}

fn comment_text(c: &Comment) -> String {
    if c.text.is_empty() {
        "//".to_owned()
    } else if c.text.starts_with(' ') {
        format!("//{}", c.text)
    } else {
        format!("// {}", c.text)
    }
}

fn push_note(text: &mut String, note: Option<&StrLit>) {
    if let Some(n) = note {
        text.push(' ');
        text.push_str(&string(&n.value));
    }
}

fn quantity_text(q: &QuantityDecl) -> String {
    let mut text = q.name.name.clone();
    if let Some(t) = &q.ty {
        text.push_str(": ");
        text.push_str(&type_text(t));
    }
    if let Some(v) = &q.value {
        text.push_str(" = ");
        text.push_str(&expr(v));
    }
    if q.declared {
        text.push_str(" declared");
    }
    push_note(&mut text, q.note.as_ref());
    text
}

fn stmt_text(stmt: &Stmt) -> String {
    match &stmt.kind {
        StmtKind::Clause {
            lhs,
            op,
            schedule,
            parties,
        } => {
            let mut text = format!("{} {} ", expr(lhs), op.symbol());
            match schedule {
                Schedule::Piecewise(entries) => {
                    let parts: Vec<String> = entries
                        .iter()
                        .map(|(bound, date)| match date {
                            Some(d) => format!("{} from {}", expr(bound), expr(d)),
                            None => expr(bound),
                        })
                        .collect();
                    text.push_str(&parts.join(", "));
                }
                Schedule::Steps {
                    start,
                    target,
                    every,
                    until,
                } => text.push_str(&format!(
                    "steps {} to {} every {} until {}",
                    expr(start),
                    expr(target),
                    expr(every),
                    expr(until)
                )),
            }
            if !parties.is_empty() {
                let names: Vec<&str> = parties.iter().map(|p| p.name.as_str()).collect();
                text.push_str(" for ");
                text.push_str(&names.join(", "));
            }
            text
        }
        StmtKind::Target {
            subject,
            names,
            filter,
            within,
        } => {
            let names: Vec<&str> = names.iter().map(|n| n.name.as_str()).collect();
            let mut text = format!(
                "{} {}",
                match subject {
                    Subject::Item => "item",
                    Subject::Event => "event",
                },
                names.join(", ")
            );
            if let Some(f) = filter {
                text.push_str(" where ");
                text.push_str(&expr(f));
            }
            if let Some(z) = within {
                text.push_str(" within ");
                text.push_str(&z.name);
            }
            text
        }
        StmtKind::Except {
            filter,
            within,
            until,
            note,
        } => {
            let mut text = "except".to_owned();
            if let Some(f) = filter {
                text.push_str(" where ");
                text.push_str(&expr(f));
            }
            if let Some(z) = within {
                text.push_str(" within ");
                text.push_str(&z.name);
            }
            if let Some(u) = until {
                text.push_str(" until ");
                text.push_str(&expr(u));
            }
            push_note(&mut text, note.as_ref());
            text
        }
        StmtKind::NotifyEvent(name) => format!("event {}", name.name),
        StmtKind::Lead(e) => format!("lead {}", expr(e)),
        StmtKind::Stating(fields) => {
            let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
            format!("stating {}", names.join(", "))
        }
        StmtKind::Quantities(None) => "quantities all".to_owned(),
        StmtKind::Quantities(Some(names)) => {
            let names: Vec<&str> = names.iter().map(|n| n.name.as_str()).collect();
            format!("quantities {}", names.join(", "))
        }
        StmtKind::AsOf(dates) => {
            let parts: Vec<String> = dates
                .iter()
                .map(|(d, m)| format!("{} {}", expr(d), m.name))
                .collect();
            format!("as_of {}", parts.join(", "))
        }
        StmtKind::Due(e) => format!("due {}", expr(e)),
    }
}

fn type_text(t: &TypeExpr) -> String {
    match &t.kind {
        TypeKind::Int => "int".to_owned(),
        TypeKind::Decimal => "decimal".to_owned(),
        TypeKind::Bool => "bool".to_owned(),
        TypeKind::String => "string".to_owned(),
        TypeKind::Date => "date".to_owned(),
        TypeKind::Instant => "instant".to_owned(),
        TypeKind::Duration => "duration".to_owned(),
        TypeKind::Enum(values) => {
            let names: Vec<&str> = values.iter().map(|v| v.name.as_str()).collect();
            format!("enum({})", names.join(", "))
        }
    }
}

/// A string literal with the language's escapes.
pub fn string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A decimal that reads back as the same number and as a decimal (`2.0`, not `2`).
fn decimal(v: f64) -> String {
    let text = format!("{v}");
    if text.contains('.') || text.contains('e') || text.contains("inf") || text.contains("NaN") {
        text
    } else {
        format!("{text}.0")
    }
}

pub fn expr(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Int(n) => n.to_string(),
        ExprKind::Decimal(v) => decimal(*v),
        ExprKind::Str(s) => string(s),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Date(d) => d.to_string(),
        ExprKind::Instant(i) => i.to_string(),
        ExprKind::Duration(n, unit) => match unit {
            TimeUnit::Hour => format!("{n}h"),
            u => format!("{n} {}", u.word(*n)),
        },
        ExprKind::Name(n) => n.clone(),
        ExprKind::Neg(inner) => format!("-{}", expr(inner)),
        ExprKind::Not(inner) => format!("not {}", expr(inner)),
        ExprKind::Arith(op, a, b) => format!("{} {} {}", expr(a), op.symbol(), expr(b)),
        ExprKind::Cmp(op, a, b) => format!("{} {} {}", expr(a), op.symbol(), expr(b)),
        ExprKind::And(a, b) => format!("{} and {}", expr(a), expr(b)),
        ExprKind::Or(a, b) => format!("{} or {}", expr(a), expr(b)),
        ExprKind::In(a, set) => match set {
            InSet::Group(g) => format!("{} in {}", expr(a), g.name),
            InSet::List(values) => {
                let parts: Vec<String> = values.iter().map(expr).collect();
                format!("{} in ({})", expr(a), parts.join(", "))
            }
        },
        ExprKind::Call(f, args) => {
            let parts: Vec<String> = args.iter().map(expr).collect();
            format!("{}({})", f.name, parts.join(", "))
        }
        ExprKind::Aggregate {
            func,
            target,
            attr,
            filter,
            within,
            window,
        } => {
            let mut text = match func {
                AggFunc::Count => "count(".to_owned(),
                AggFunc::Sum => "sum(".to_owned(),
            };
            text.push_str(&target.name);
            if let Some(a) = attr {
                text.push('.');
                text.push_str(&a.name);
            }
            if let Some(f) = filter {
                text.push_str(" where ");
                text.push_str(&expr(f));
            }
            if let Some(z) = within {
                text.push_str(" within ");
                text.push_str(&z.name);
            }
            match window {
                Some(Window::PerYear) => text.push_str(" per year"),
                Some(Window::Over(d)) => {
                    text.push_str(" over ");
                    text.push_str(&expr(d));
                }
                None => {}
            }
            text.push(')');
            text
        }
        ExprKind::Paren(inner) => format!("({})", expr(inner)),
        ExprKind::Error => String::new(),
    }
}
