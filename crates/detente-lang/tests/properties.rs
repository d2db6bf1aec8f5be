#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Properties of the language front end, tested on generated input:
//!
//! - no input makes `check_source` or `format_source` panic;
//! - valid treaties format to a fixed point that means the same treaty;
//! - hostile nesting yields a diagnostic, not a stack overflow;
//! - quantities are ordered for evaluation as they always were, in linear time.

use detente_lang::ast::ArithOp;
use detente_lang::format::format_source;
use detente_lang::model::{Expr, Quantity, Type, order_by_dependencies};
use detente_lang::parser::{MAX_DEPTH, MAX_EXPR_NODES, MAX_TREE_DEPTH};
use detente_lang::{Checked, check_source};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::Config;

/// Modest case counts keep the suite fast in debug builds.
fn config() -> Config {
    Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    }
}

/// Removes `Span { … }` from a debug dump so two layouts of one treaty compare equal.
fn strip_spans(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("Span {") {
        out.push_str(&rest[..i]);
        rest = rest[i..].split_once('}').map_or("", |(_, r)| r);
    }
    out.push_str(rest);
    out
}

fn model(checked: &Checked) -> Option<String> {
    checked
        .treaty
        .as_ref()
        .map(|t| strip_spans(&format!("{t:?}")))
}

fn codes(checked: &Checked) -> Vec<&'static str> {
    checked.diagnostics.iter().map(|d| d.code).collect()
}

// ----- (a) nothing panics ----------------------------------------------------------------

/// Tokens and near-tokens of the language, valid and invalid.
const TOKENS: &[&str] = &[
    // statement and body keywords
    "treaty",
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
    "item",
    "except",
    "lead",
    "stating",
    "quantities",
    "all",
    "as_of",
    "due",
    "article",
    "file",
    "polygon",
    "circle",
    "radius",
    "km",
    "nmi",
    // reserved words
    "and",
    "or",
    "not",
    "in",
    "where",
    "within",
    "per",
    "over",
    "from",
    "until",
    "for",
    "to",
    "every",
    "steps",
    "true",
    "false",
    "count",
    "sum",
    "declared",
    "min",
    "max",
    "year",
    // types
    "int",
    "decimal",
    "bool",
    "string",
    "date",
    "instant",
    "duration",
    "enum",
    // names
    "a",
    "b",
    "q",
    "p",
    "c",
    "e",
    "z",
    "g",
    "x",
    "US",
    "USSR",
    "mirv",
    "window",
    "March",
    "ru-2021",
    "_x1",
    "January",
    // punctuation
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ",",
    ":",
    ".",
    "=",
    "+",
    "-",
    "*",
    "/",
    "<",
    "<=",
    ">",
    ">=",
    "==",
    "!=",
    "!",
    "@",
    "≤",
    "“",
    // numbers, dates, instants, durations
    "0",
    "1",
    "2400",
    "-5",
    "4.45",
    "0.0",
    "9223372036854775807",
    "99999999999999999999",
    "1977-10-03",
    "2020-02-29",
    "2021-02-29",
    "1979-06-18T10:00:00Z",
    "1979-06-18T25:00:00Z",
    "24h",
    "30 days",
    "6 months",
    "1 year",
    "0 days",
    "-1 year",
    // strings
    "\"x\"",
    "\"\"",
    "\"a \\\" b\"",
    "\"unterminated",
    "\"bad \\q escape\"",
    // layout
    "\n",
    "\n\n",
    "// comment\n",
    "//\n",
    "\t",
];

fn token_soup() -> impl Strategy<Value = String> {
    vec(
        (
            prop::sample::select(TOKENS),
            prop::sample::select(&[" ", "", "\n"][..]),
        ),
        0..300,
    )
    .prop_map(|parts| {
        let mut out = String::new();
        for (token, sep) in parts {
            out.push_str(token);
            out.push_str(sep);
        }
        out
    })
}

/// Anything `format_source` accepts formats to a fixed point.
fn assert_format_is_stable(source: &str) -> Result<(), TestCaseError> {
    if let Ok(once) = format_source(source) {
        let twice = format_source(&once);
        prop_assert_eq!(twice.as_ref(), Ok(&once), "not a fixed point:\n{}", source);
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..2000)) {
        let source = String::from_utf8_lossy(&bytes);
        let checked = check_source(&source);
        prop_assert!(checked.treaty.is_some() || !checked.diagnostics.is_empty());
        assert_format_is_stable(&source)?;
    }

    #[test]
    fn token_soup_never_panics(source in token_soup()) {
        let checked = check_source(&source);
        prop_assert!(checked.treaty.is_some() || !checked.diagnostics.is_empty());
        assert_format_is_stable(&source)?;
    }

    /// A token soup inside a treaty block reaches deeper into the parser and checker.
    #[test]
    fn token_soup_in_a_treaty_never_panics(body in token_soup()) {
        let source = format!("treaty t \"T\" {{\n  parties A, B\n{body}\n}}\n");
        let _ = check_source(&source);
        assert_format_is_stable(&source)?;
    }
}

// ----- (b) valid treaties format to a fixed point with the same meaning ------------------

/// Choices for the generator, read from bytes proptest generates and shrinks: a byte of 0
/// (and the end of the bytes) always picks the simplest option.
struct Choices<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Choices<'_> {
    fn pick(&mut self, n: usize) -> usize {
        let byte = self.bytes.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        usize::from(byte) % n.max(1)
    }

    fn chance(&mut self, in_four: usize) -> bool {
        self.pick(4) < in_four
    }

    fn one<'b>(&mut self, options: &[&'b str]) -> &'b str {
        options[self.pick(options.len())]
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Num {
    Int,
    Decimal,
}

/// A kind (category or event type) the generated treaty declares.
struct Kind {
    name: &'static str,
    event: bool,
    /// (attribute, type) pairs.
    attrs: &'static [(&'static str, &'static str)],
}

const KINDS: &[Kind] = &[
    Kind {
        name: "launcher",
        event: false,
        attrs: &[
            ("mirv", "bool"),
            ("warheads", "int"),
            ("basing", "enum(silo, road, rail)"),
            ("weight_t", "decimal"),
        ],
    },
    Kind {
        name: "bomber",
        event: false,
        attrs: &[("mirv", "bool"), ("warheads", "int")],
    },
    Kind {
        name: "test",
        event: true,
        attrs: &[("yield_kt", "decimal"), ("purpose", "string")],
    },
];

struct Generator<'a> {
    c: Choices<'a>,
    /// Numeric params declared so far, with their type.
    params: Vec<(String, Num)>,
    /// Date params declared so far.
    date_params: Vec<String>,
    /// Quantities declared so far (a quantity only uses earlier ones: no cycles).
    quantities: Vec<String>,
    /// Quantities marked `declared`, and which of them are declared-only `int`s.
    declarable: Vec<String>,
    declared_ints: Vec<String>,
    parties: Vec<&'static str>,
}

impl Generator<'_> {
    fn int(&mut self) -> String {
        self.c
            .one(&["0", "1", "2", "10", "1320", "2400", "-5"])
            .to_owned()
    }

    fn decimal(&mut self) -> String {
        self.c
            .one(&["0.5", "1.5", "4.45", "100.0", "-0.25"])
            .to_owned()
    }

    fn date(&mut self) -> String {
        let year = 1975 + self.c.pick(20);
        let month = 1 + self.c.pick(12);
        let day = 1 + self.c.pick(28);
        format!("{year}-{month:02}-{day:02}")
    }

    /// A date expression: a literal, `in_force` moved by a duration, or a date param.
    fn date_expr(&mut self) -> String {
        match self.c.pick(3) {
            0 => self.date(),
            1 => format!(
                "in_force + {} {}",
                1 + self.c.pick(5),
                self.c.one(&["years", "months", "weeks", "days"])
            ),
            _ if !self.date_params.is_empty() => {
                let i = self.c.pick(self.date_params.len());
                self.date_params[i].clone()
            }
            _ => self.date(),
        }
    }

    /// A condition over the attributes every kind in `kinds` has.
    fn filter(&mut self, kinds: &[&Kind], depth: usize) -> String {
        if depth > 0 && self.c.chance(1) {
            let a = self.filter(kinds, depth - 1);
            let b = self.filter(kinds, depth - 1);
            return match self.c.pick(4) {
                0 => format!("{a} and {b}"),
                1 => format!("{a} or {b}"),
                2 => format!("({a} or {b}) and {}", self.filter(kinds, 0)),
                _ => format!("not ({a})"),
            };
        }
        let common: Vec<(&str, &str)> = kinds[0]
            .attrs
            .iter()
            .filter(|(name, _)| kinds.iter().all(|k| k.attrs.iter().any(|(n, _)| n == name)))
            .copied()
            .collect();
        let (attr, ty) = common[self.c.pick(common.len())];
        match ty {
            "bool" => {
                if self.c.chance(1) {
                    format!("not {attr}")
                } else {
                    attr.to_owned()
                }
            }
            "int" => {
                let int_params: Vec<String> = self
                    .params
                    .iter()
                    .filter(|(_, t)| *t == Num::Int)
                    .map(|(n, _)| n.clone())
                    .collect();
                let value = if !int_params.is_empty() && self.c.chance(1) {
                    int_params[self.c.pick(int_params.len())].clone()
                } else {
                    self.int()
                };
                format!(
                    "{attr} {} {value}",
                    self.c.one(&["<", "<=", ">", ">=", "==", "!="])
                )
            }
            "decimal" => format!(
                "{attr} {} {}",
                self.c.one(&["<", ">=", "=="]),
                self.decimal()
            ),
            "string" => match self.c.pick(3) {
                0 => format!("{attr} == \"peaceful\""),
                1 => format!("{attr} in allies"),
                _ => format!("{attr} in (\"a\", \"b c\")"),
            },
            _ => match self.c.pick(3) {
                0 => format!("{attr} == {}", self.c.one(&["silo", "road", "rail"])),
                1 => format!("{attr} != \"rail\""),
                _ => format!("{attr} in (road, rail)"),
            },
        }
    }

    fn aggregate(&mut self) -> String {
        let kind = &KINDS[self.c.pick(KINDS.len())];
        let numeric: Vec<&str> = kind
            .attrs
            .iter()
            .filter(|(_, t)| matches!(*t, "int" | "decimal"))
            .map(|(n, _)| *n)
            .collect();
        let mut text = if self.c.chance(1) {
            format!("sum({}.{}", kind.name, numeric[self.c.pick(numeric.len())])
        } else {
            format!("count({}", kind.name)
        };
        if self.c.chance(2) {
            text.push_str(" where ");
            text.push_str(&self.filter(&[kind], 2));
        }
        if self.c.chance(1) {
            text.push_str(" within zone_a");
        }
        if kind.event {
            match self.c.pick(3) {
                0 => text.push_str(" per year"),
                1 => text.push_str(&format!(" over {} months", 1 + self.c.pick(24))),
                _ => text.push_str(&format!(" over {} days", 1 + self.c.pick(90))),
            }
        }
        text.push(')');
        text
    }

    /// A numeric expression over literals, params, earlier quantities and aggregates.
    fn arith(&mut self, depth: usize, aggregates: bool) -> String {
        if depth > 0 && self.c.chance(2) {
            let a = self.arith(depth - 1, aggregates);
            let b = self.arith(depth - 1, aggregates);
            return match self.c.pick(8) {
                0 => format!("{a} + {b}"),
                1 => format!("{a} - {b}"),
                2 => format!("{a} * {b}"),
                3 => format!("{a} / {b}"),
                4 => format!("({a} + {b}) * {}", self.arith(0, aggregates)),
                5 => format!("min({a}, {b})"),
                6 => format!("max({a}, {b}, {})", self.arith(0, aggregates)),
                _ => format!("{a} - ({b} - {})", self.arith(0, aggregates)),
            };
        }
        match self.c.pick(6) {
            1 if !self.params.is_empty() => {
                let i = self.c.pick(self.params.len());
                self.params[i].0.clone()
            }
            2 if !self.quantities.is_empty() => {
                let i = self.c.pick(self.quantities.len());
                self.quantities[i].clone()
            }
            3 | 4 if aggregates => self.aggregate(),
            5 => self.decimal(),
            _ => self.int(),
        }
    }

    fn params(&mut self, out: &mut Vec<String>) {
        for i in 0..self.c.pick(5) {
            let name = format!("p{i}");
            let (text, ty) = match self.c.pick(6) {
                0 => (format!("param {name} = {}", self.int()), Some(Num::Int)),
                1 => (
                    format!("param {name}: decimal = {}", self.decimal()),
                    Some(Num::Decimal),
                ),
                2 => (
                    format!("param {name}: int \"set it with --set\""),
                    Some(Num::Int),
                ),
                3 if !self.params.is_empty() => {
                    let j = self.c.pick(self.params.len());
                    let (other, ty) = self.params[j].clone();
                    (format!("param {name} = {other} * 2"), Some(ty))
                }
                4 => {
                    let date = self.date_expr();
                    self.date_params.push(name.clone());
                    (format!("param {name}: date = {date}"), None)
                }
                _ => (
                    format!("param {name} = {} \"a note\"", self.decimal()),
                    Some(Num::Decimal),
                ),
            };
            if let Some(ty) = ty {
                self.params.push((name, ty));
            }
            out.push(text);
        }
    }

    fn quantities(&mut self, out: &mut Vec<String>) {
        for i in 0..1 + self.c.pick(5) {
            let name = format!("q{i}");
            let text = if self.c.chance(1) {
                self.declarable.push(name.clone());
                self.declared_ints.push(name.clone());
                format!("quantity {name}: int declared")
            } else {
                let value = self.arith(3, true);
                let declared = self.c.chance(1);
                if declared {
                    self.declarable.push(name.clone());
                }
                format!(
                    "quantity {name} = {value}{}{}",
                    if declared { " declared" } else { "" },
                    if self.c.chance(1) { " \"a note\"" } else { "" }
                )
            };
            self.quantities.push(name);
            out.push(text);
        }
    }

    fn schedule(&mut self) -> String {
        match self.c.pick(3) {
            0 => self.arith(2, false),
            1 => {
                let mut years: Vec<usize> = (0..1 + self.c.pick(3))
                    .map(|_| 1976 + self.c.pick(30))
                    .collect();
                years.sort_unstable();
                years.dedup();
                let mut text = self.arith(1, false);
                for year in years {
                    text.push_str(&format!(", {} from {year}-01-01", self.arith(1, false)));
                }
                text
            }
            _ => format!(
                "steps {} to {} every {} {} until {}",
                self.arith(1, false),
                self.arith(1, false),
                1 + self.c.pick(3),
                self.c.one(&["years", "months"]),
                self.date_expr()
            ),
        }
    }

    fn limit(&mut self, i: usize) -> Vec<String> {
        let mut head = format!("{} l{i} \"Limit {i}\"", self.c.one(&["limit", "objective"]));
        if self.c.chance(1) {
            head.push_str(&format!(
                " article \"{}\"",
                self.c.one(&["I", "III.2", "art. 5"])
            ));
        }
        if self.c.chance(1) {
            head.push_str(&format!(" from {}", self.date_expr()));
        }
        if self.c.chance(1) {
            head.push_str(&format!(" until {}", self.date_expr()));
        }
        head.push_str(" {");
        // Who each clause is for: everyone; everyone and one party; one clause each.
        let groups: Vec<String> = match self.c.pick(3) {
            0 => vec![String::new()],
            1 => vec![String::new(), format!(" for {}", self.parties[0])],
            _ => self.parties.iter().map(|p| format!(" for {p}")).collect(),
        };
        let mut lines = vec![head];
        for who in groups {
            // A clause has no keyword: one that began with `-` would continue the
            // expression that ends the clause before it.
            let mut lhs = self.arith(2, false);
            if lhs.starts_with('-') {
                lhs = format!("({lhs})");
            }
            let op = self.c.one(&["<=", "<", ">=", ">", "=="]);
            let schedule = self.schedule();
            lines.push(format!("  {lhs} {op} {schedule}{who}"));
        }
        lines.push("}".to_owned());
        lines
    }

    fn ban(&mut self, i: usize) -> Vec<String> {
        let mut lines = vec![format!("ban b{i} \"Ban {i}\" {{")];
        let kinds: Vec<&Kind> = match self.c.pick(3) {
            0 => vec![&KINDS[0]],
            1 => vec![&KINDS[0], &KINDS[1]],
            _ => vec![&KINDS[2]],
        };
        let subject = if kinds[0].event { "event" } else { "item" };
        let names: Vec<&str> = kinds.iter().map(|k| k.name).collect();
        let mut target = format!("  {subject} {}", names.join(", "));
        if self.c.chance(2) {
            target.push_str(&format!(" where {}", self.filter(&kinds, 2)));
        }
        if self.c.chance(1) {
            target.push_str(" within zone_b");
        }
        lines.push(target);
        for _ in 0..self.c.pick(3) {
            let mut except = "  except".to_owned();
            if self.c.chance(2) {
                except.push_str(&format!(" where {}", self.filter(&kinds, 1)));
            }
            if self.c.chance(1) {
                except.push_str(" within zone_a");
            }
            if self.c.chance(2) {
                except.push_str(&format!(" until {}", self.date_expr()));
            }
            if self.c.chance(1) {
                except.push_str(" \"an exception\"");
            }
            lines.push(except);
        }
        lines.push("}".to_owned());
        lines
    }

    /// The statements of a valid treaty, each as one or more lines.
    fn statements(&mut self) -> Vec<Vec<String>> {
        self.parties = if self.c.chance(1) {
            vec!["US", "USSR", "UK"]
        } else {
            vec!["US", "USSR"]
        };
        let mut out: Vec<Vec<String>> = vec![vec![format!("parties {}", self.parties.join(", "))]];
        out.push(vec![format!("in_force {}", self.date())]);
        if self.c.chance(1) {
            out.push(vec![format!("signed {}", self.date())]);
        }
        if self.c.chance(1) {
            out.push(vec![format!(
                "expires in_force + {} years",
                1 + self.c.pick(20)
            )]);
        }
        for kind in KINDS {
            let keyword = if kind.event { "event" } else { "category" };
            let attrs: Vec<String> = kind
                .attrs
                .iter()
                .map(|(n, t)| format!("{n}: {t}"))
                .collect();
            if self.c.chance(1) {
                let mut lines = vec![format!("{keyword} {} {{", kind.name)];
                for attr in attrs {
                    lines.push(format!("  {attr},"));
                }
                lines.push("}".to_owned());
                out.push(lines);
            } else {
                out.push(vec![format!(
                    "{keyword} {} {{ {} }}",
                    kind.name,
                    attrs.join(", ")
                )]);
            }
        }
        out.push(vec![match self.c.pick(3) {
            0 => "zone zone_a = circle (28.5, -80.6) radius 200 km".to_owned(),
            1 => "zone zone_a = file \"zones/a.geojson\"".to_owned(),
            _ => "zone zone_a = polygon [(10.0, 40.0), (10.0, 50.0), (0.0, 50.0)]".to_owned(),
        }]);
        out.push(vec![
            "zone zone_b \"a note\" = circle (-10, 170.5) radius 12 nmi".to_owned(),
        ]);
        out.push(vec!["group allies = { \"a\", \"b c\" }".to_owned()]);
        let mut lines = Vec::new();
        self.params(&mut lines);
        out.extend(lines.into_iter().map(|l| vec![l]));
        let mut lines = Vec::new();
        self.quantities(&mut lines);
        out.extend(lines.into_iter().map(|l| vec![l]));
        for i in 0..self.c.pick(4) {
            out.push(self.limit(i));
        }
        for i in 0..self.c.pick(3) {
            out.push(self.ban(i));
        }
        if self.c.chance(1) {
            out.push(vec![
                "notify n0 \"Launches\" {".to_owned(),
                "  event test".to_owned(),
                format!("  lead {}", self.c.one(&["24h", "2 days", "1 week"])),
                "  stating window, launch_area".to_owned(),
                "}".to_owned(),
            ]);
        }
        if self.c.chance(1) && !self.declarable.is_empty() {
            let list = if self.c.chance(2) {
                "all".to_owned()
            } else {
                self.declarable.join(", ")
            };
            out.push(vec![
                "declare d0 \"Data\" {".to_owned(),
                format!("  quantities {list}"),
                "  as_of 1 January, 1 July".to_owned(),
                "  due 30 days".to_owned(),
                "}".to_owned(),
            ]);
        }
        if self.c.chance(1) && !self.declared_ints.is_empty() {
            let i = self.c.pick(self.declared_ints.len());
            let name = self.declared_ints[i].clone();
            out.push(vec![
                "interpretation reading-1 \"A reading\" {".to_owned(),
                format!("  quantity {name} = count(launcher where mirv) + 1"),
                "}".to_owned(),
            ]);
        }
        if self.c.chance(1) {
            out.push(vec!["deferred later \"Later\" \"a note\"".to_owned()]);
        }
        out
    }

    /// The treaty's text, laid out with random indentation, blank lines and comments.
    fn source(&mut self) -> String {
        let statements = self.statements();
        let mut out = String::new();
        if self.c.chance(1) {
            out.push_str("// A generated treaty.\n\n");
        }
        out.push_str("treaty generated \"Generated\" {");
        if self.c.chance(1) {
            out.push_str(" // trailing the header");
        }
        out.push('\n');
        for (i, lines) in statements.iter().enumerate() {
            for _ in 0..self.c.pick(3).saturating_sub(1) {
                out.push('\n');
            }
            if self.c.chance(1) {
                out.push_str(&format!("  // before statement {i}\n"));
            }
            for (j, line) in lines.iter().enumerate() {
                let indent = " ".repeat(self.c.pick(5));
                out.push_str(&indent);
                out.push_str(line);
                if self.c.chance(1) {
                    out.push_str(&format!(" // on line {j} of statement {i}"));
                }
                out.push('\n');
                if j > 0 && j + 1 < lines.len() && self.c.chance(1) {
                    out.push_str("    // inside a block\n");
                }
            }
        }
        if self.c.chance(1) {
            out.push_str("  // at the end\n");
        }
        out.push('}');
        if self.c.chance(1) {
            out.push_str(" // trailing the treaty");
        }
        out.push('\n');
        out
    }
}

fn generate(bytes: &[u8]) -> String {
    Generator {
        c: Choices { bytes, pos: 0 },
        params: Vec::new(),
        date_params: Vec::new(),
        quantities: Vec::new(),
        declarable: Vec::new(),
        declared_ints: Vec::new(),
        parties: Vec::new(),
    }
    .source()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn valid_treaties_format_to_a_fixed_point_with_the_same_meaning(
        bytes in vec(any::<u8>(), 0..400)
    ) {
        let source = generate(&bytes);
        let checked = check_source(&source);
        prop_assert!(
            checked.diagnostics.is_empty(),
            "the generator made an invalid treaty:\n{}\n{:#?}",
            source,
            checked.diagnostics
        );
        let once = format_source(&source);
        prop_assert!(once.is_ok(), "the formatter refused:\n{}", source);
        let once = once.unwrap_or_default();
        let twice = format_source(&once).unwrap_or_default();
        prop_assert_eq!(&twice, &once, "not a fixed point; the source was:\n{}", source);
        let reformatted = check_source(&once);
        prop_assert!(reformatted.diagnostics.is_empty(), "{:#?}", reformatted.diagnostics);
        prop_assert_eq!(
            model(&reformatted),
            model(&checked),
            "formatting changed the treaty; source:\n{}\nformatted:\n{}",
            source,
            once
        );
        prop_assert_eq!(
            source.matches("//").count(),
            once.matches("//").count(),
            "comments were lost:\n{}\n{}",
            source,
            once
        );
    }

    /// One word deleted, repeated or replaced in a valid treaty: never a panic, and
    /// whatever still formats is a fixed point with the same diagnostics and meaning.
    #[test]
    fn damaged_treaties_never_panic(
        bytes in vec(any::<u8>(), 0..400),
        at in any::<prop::sample::Index>(),
        damage in 0..3usize,
        token in prop::sample::select(TOKENS),
    ) {
        let source = generate(&bytes);
        let words: Vec<&str> = source.split(' ').collect();
        let i = at.index(words.len());
        let mut damaged: Vec<&str> = words.clone();
        match damage {
            0 => {
                damaged.remove(i);
            }
            1 => damaged.insert(i, words[i]),
            _ => damaged[i] = token,
        }
        let damaged = damaged.join(" ");
        let checked = check_source(&damaged);
        if let Ok(once) = format_source(&damaged) {
            let twice = format_source(&once);
            prop_assert_eq!(twice.as_ref(), Ok(&once), "not a fixed point:\n{}", damaged);
            let again = check_source(&once);
            prop_assert_eq!(codes(&again), codes(&checked), "{}\n{}", damaged, once);
            prop_assert_eq!(model(&again), model(&checked));
        }
    }
}

// ----- (c) hostile nesting: a diagnostic, not a stack overflow --------------------------

/// Runs `f` on a thread with the default stack size of a test thread (2 MiB), so a deep
/// recursion would overflow here as it would in any test.
fn on_test_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(f)
        .expect("a thread")
        .join()
        .expect("the thread finished without a panic");
}

fn quantity_source(expr: &str) -> String {
    format!(
        "treaty t \"T\" {{\n  parties A, B\n  category c {{ m: bool }}\n  quantity q = {expr}\n}}\n"
    )
}

fn assert_only(source: &str, code: &str) {
    let checked = check_source(source);
    let codes = codes(&checked);
    assert_eq!(codes, [code], "{:?}", checked.diagnostics);
    assert!(checked.treaty.is_none());
    assert!(format_source(source).is_err());
}

#[test]
fn ten_thousand_parentheses_give_e0002() {
    on_test_stack(|| {
        let expr = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
        assert_only(&quantity_source(&expr), "E0002");
        let filter = format!(
            "count(c where {}m{})",
            "(".repeat(10_000),
            ")".repeat(10_000)
        );
        assert_only(&quantity_source(&filter), "E0002");
        let nots = format!("count(c where {}m)", "not ".repeat(10_000));
        assert_only(&quantity_source(&nots), "E0002");
        let negations = format!("{}1{}", "-(".repeat(10_000), ")".repeat(10_000));
        assert_only(&quantity_source(&negations), "E0002");
        let calls = format!("{}1{}", "max(1, ".repeat(10_000), ")".repeat(10_000));
        assert_only(&quantity_source(&calls), "E0002");
    });
}

#[test]
fn a_hundred_thousand_terms_give_e0003() {
    on_test_stack(|| {
        let sum = vec!["1"; 100_000].join("+");
        assert_only(&quantity_source(&sum), "E0003");
        let filter = format!("count(c where {})", vec!["m"; 100_000].join(" and "));
        assert_only(&quantity_source(&filter), "E0003");
        let products = vec!["2"; 100_000].join(" * ");
        let source = format!(
            "treaty t \"T\" {{\n  parties A, B\n  quantity q = 1\n  limit l \"L\" {{\n    q <= {products}\n  }}\n}}\n"
        );
        assert_only(&source, "E0003");
    });
}

/// The deepest expressions still accepted are checked and formatted on a test thread's
/// stack: the limits leave room for the recursion that follows parsing.
#[test]
fn the_deepest_accepted_expressions_are_checked_and_formatted() {
    on_test_stack(|| {
        // `count(` opens one level, each `not (` two, the innermost `(` one.
        let depth = usize::try_from(MAX_DEPTH).unwrap_or(64);
        let levels = (depth - 2) / 2;
        let chain = vec!["m"; MAX_TREE_DEPTH - 2 - 2 * levels].join(" and ");
        let nested = format!(
            "count(c where {}({chain}){})",
            "not (".repeat(levels),
            ")".repeat(levels)
        );
        for expr in [
            vec!["q0"; MAX_TREE_DEPTH].join(" + "),
            format!("{}1{}", "(".repeat(depth), ")".repeat(depth)),
            nested,
        ] {
            let source = format!(
                "treaty t \"T\" {{\n  parties A, B\n  category c {{ m: bool }}\n  quantity q0: int declared\n  quantity q = {expr}\n}}\n"
            );
            let checked = check_source(&source);
            assert!(checked.diagnostics.is_empty(), "{:?}", checked.diagnostics);
            let once = format_source(&source).expect("it formats");
            assert_eq!(format_source(&once).as_ref(), Ok(&once));
        }
        // One more term, or one more level, is refused.
        let too_long = vec!["q0"; MAX_TREE_DEPTH + 1].join(" + ");
        let source = format!(
            "treaty t \"T\" {{\n  parties A, B\n  quantity q0: int declared\n  quantity q = {too_long}\n}}\n"
        );
        assert_eq!(codes(&check_source(&source)), ["E0003"]);
        let too_deep = format!("{}1{}", "(".repeat(depth + 1), ")".repeat(depth + 1));
        assert_only(&quantity_source(&too_deep), "E0002");
    });
}

/// The node budget is per expression, and a wide but shallow expression may use it all.
#[test]
fn wide_expressions_within_the_budget_are_accepted() {
    on_test_stack(|| {
        let args = vec!["1"; usize::try_from(MAX_EXPR_NODES).unwrap_or(4096) - 1].join(", ");
        let source = quantity_source(&format!("max({args})"));
        let checked = check_source(&source);
        assert!(checked.diagnostics.is_empty(), "{:?}", checked.diagnostics);
    });
}

// ----- (d) the evaluation order of quantities -------------------------------------------

/// The order `order_by_dependencies` gave before it was made linear: repeated passes, each
/// taking every quantity whose dependencies are taken; what is never taken follows.
fn reference_order<'a>(quantities: &[&'a Quantity]) -> Vec<&'a Quantity> {
    let all: Vec<String> = quantities.iter().map(|q| q.name.clone()).collect();
    let mut ordered: Vec<&Quantity> = Vec::new();
    let mut remaining: Vec<&Quantity> = quantities.to_vec();
    while !remaining.is_empty() {
        let before = remaining.len();
        let mut waiting = Vec::new();
        for q in remaining {
            let mut deps = Vec::new();
            if let Some(expr) = &q.expr {
                expr.quantity_refs(&mut deps);
            }
            let ready = deps
                .iter()
                .all(|d| !all.contains(d) || ordered.iter().any(|o| &o.name == d));
            if ready {
                ordered.push(q);
            } else {
                waiting.push(q);
            }
        }
        if waiting.len() == before {
            ordered.extend(waiting);
            break;
        }
        remaining = waiting;
    }
    ordered
}

fn quantity(name: String, uses: &[String]) -> Quantity {
    let expr = uses
        .iter()
        .map(|u| Expr::Quantity(u.clone()))
        .reduce(|a, b| Expr::Arith(ArithOp::Add, Box::new(a), Box::new(b)));
    Quantity {
        name,
        ty: Type::Int,
        expr,
        declarable: false,
        note: None,
        span: detente_lang::Span::default(),
    }
}

proptest! {
    #![proptest_config(config())]

    /// Any graph, cycles and unknown names included: the same order as before.
    #[test]
    fn quantities_are_ordered_as_by_repeated_passes(
        edges in vec(vec(0..14usize, 0..4), 0..12)
    ) {
        let n = edges.len();
        let quantities: Vec<Quantity> = edges
            .iter()
            .enumerate()
            .map(|(i, uses)| {
                // Index `n` and above name no quantity (a param, say).
                let names: Vec<String> = uses.iter().map(|u| format!("q{u}")).collect();
                quantity(format!("q{i}"), &names)
            })
            .collect();
        let refs: Vec<&Quantity> = quantities.iter().collect();
        let mut ordered = refs.clone();
        order_by_dependencies(&mut ordered);
        let names = |qs: &[&Quantity]| qs.iter().map(|q| q.name.clone()).collect::<Vec<_>>();
        prop_assert_eq!(names(&ordered), names(&reference_order(&refs)), "n = {}", n);
    }
}

/// Thousands of chained quantities, declared last-used-first: linear, not cubic.
#[test]
fn long_quantity_chains_check_quickly() {
    let n = 20_000;
    let mut source = String::from("treaty t \"T\" {\n  parties A, B\n");
    for i in 0..n {
        if i + 1 < n {
            source.push_str(&format!("  quantity q{i} = q{} + 1\n", i + 1));
        } else {
            source.push_str(&format!("  quantity q{i} = 1\n"));
        }
    }
    source.push_str("}\n");
    let started = std::time::Instant::now();
    let checked = check_source(&source);
    assert!(checked.diagnostics.is_empty());
    let treaty = checked.treaty.expect("a treaty");
    assert_eq!(
        treaty.quantities.first().map(|q| q.name.as_str()),
        Some("q19999")
    );
    // Generous for a debug build on a slow machine; the cubic version took minutes.
    assert!(
        started.elapsed().as_secs() < 20,
        "took {:?}",
        started.elapsed()
    );

    // The same chain closed into a ring: one cycle, named once.
    let ring = source.replace(
        &format!("quantity q{} = 1", n - 1),
        &format!("quantity q{} = q0", n - 1),
    );
    let checked = check_source(&ring);
    let codes = codes(&checked);
    assert_eq!(codes, ["E0301"]);
}
