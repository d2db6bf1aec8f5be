//! The JSON Lines loader.
//!
//! Each line is parsed by serde_json into the final records directly, through hand-written
//! visitors rather than derived ones, for three reasons: the error messages use the facts'
//! own words (`expected a date like …`, never a Rust type name); the visitors know which
//! field they are in, so every error names its field and points at the start of its value;
//! and nothing is buffered: `kind` comes first, so the line is read once, strings are
//! borrowed from it, dates are parsed in place and repeated names are interned.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use detente_lang::time::{Date, Instant};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::locate::{self, PathDisplay, Seg, Target};
use super::normalize;
use super::{
    Area, AttrValue, Attributes, Declaration, Event, FactError, FactErrorKind, Facts, Item,
    MAX_ERRORS, MAX_LINE_BYTES, MAX_RECORDS, Name, Notification, Number, Observation, Origin,
    Window, cmp_pairs, sort_pairs,
};
use crate::geo::{KM_PER_NMI, Point, Polygon};
use crate::suggest::did_you_mean;

/// Reads facts from JSON Lines, one line at a time, from one or more sources.
///
/// ```
/// use detente_assess::facts::FactsLoader;
///
/// let mut loader = FactsLoader::new("facts.jsonl");
/// loader.push_line(r#"{"kind": "item", "party": "US", "id": "m1", "category": "icbm_launcher", "from": "1979-01-01"}"#);
/// let (facts, errors) = loader.finish();
/// assert!(errors.is_empty());
/// assert_eq!(facts.items.len(), 1);
/// ```
#[derive(Debug)]
pub struct FactsLoader {
    facts: Facts,
    errors: Vec<(Origin, FactError)>,
    /// The "too many errors" note, kept apart so that it is listed last.
    overflow: Option<FactError>,
    interner: Interner,
    source: u32,
    line: u64,
    records: u64,
    /// [`MAX_RECORDS`], lowered by tests.
    max_records: u64,
    stopped: bool,
}

/// Loads one source held in memory; lines end in `\n` or `\r\n`.
pub fn load_str(source_name: &str, text: &str) -> (Facts, Vec<FactError>) {
    let mut loader = FactsLoader::new(source_name);
    for line in text.split('\n') {
        loader.push_line(line);
    }
    loader.finish()
}

impl FactsLoader {
    /// A loader whose first source is called `source_name` (a file name, as shown in errors).
    pub fn new(source_name: &str) -> FactsLoader {
        FactsLoader {
            facts: Facts {
                sources: vec![source_name.to_owned()],
                ..Facts::default()
            },
            errors: Vec::new(),
            overflow: None,
            interner: Interner::default(),
            source: 0,
            line: 0,
            records: 0,
            max_records: MAX_RECORDS,
            stopped: false,
        }
    }

    /// Starts another source: the following lines belong to it and are numbered from 1.
    pub fn start_source(&mut self, source_name: &str) {
        self.facts.sources.push(source_name.to_owned());
        self.source = u32::try_from(self.facts.sources.len() - 1).unwrap_or(u32::MAX);
        self.line = 0;
    }

    /// Reads one line (its terminator, `\n` or `\r\n`, may be left on or taken off). Blank
    /// lines are skipped but counted. After [`MAX_RECORDS`] records or [`MAX_ERRORS`] errors
    /// the loader reports it once and ignores the rest.
    pub fn push_line(&mut self, line: &str) {
        self.line = self.line.saturating_add(1);
        if self.stopped {
            return;
        }
        let origin = Origin {
            source: self.source,
            line: self.line,
        };
        if line.len() > MAX_LINE_BYTES {
            self.error(
                origin,
                FactError {
                    kind: FactErrorKind::Limit,
                    source: String::new(),
                    line: 0,
                    column: 1,
                    field: None,
                    message: format!(
                        "line is too long: {} bytes, the limit is {MAX_LINE_BYTES} bytes (1 MiB)",
                        line.len()
                    ),
                    help: Some("each line holds one record; is this a JSON Lines file?".to_owned()),
                },
            );
            return;
        }
        let line = line.strip_suffix('\n').unwrap_or(line);
        let line = line.strip_suffix('\r').unwrap_or(line);
        let line = if self.line == 1 {
            line.strip_prefix('\u{feff}').unwrap_or(line)
        } else {
            line
        };
        if line
            .bytes()
            .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        {
            return;
        }
        self.records += 1;
        if self.records > self.max_records {
            self.error(
                origin,
                FactError {
                    kind: FactErrorKind::Limit,
                    source: String::new(),
                    line: 0,
                    column: 1,
                    field: None,
                    message: format!(
                        "too many records: the limit is {}; the rest is ignored",
                        self.max_records
                    ),
                    help: Some("split the facts, or assess fewer at a time".to_owned()),
                },
            );
            self.stopped = true;
            return;
        }
        match parse_line(line, &mut self.interner) {
            Ok(record) => self.push_record(record, origin),
            Err(error) => self.error(origin, error),
        }
    }

    /// The facts read, in canonical order (see [`Facts::normalize`]), and every error:
    /// those of each line in line order, then the contradictions.
    pub fn finish(mut self) -> (Facts, Vec<FactError>) {
        let contradictions = normalize::normalize(&mut self.facts);
        for (origin, error) in contradictions {
            self.error(origin, error);
        }
        self.errors
            .sort_by_key(|(origin, error)| (*origin, error.column));
        let mut errors: Vec<FactError> = self.errors.into_iter().map(|(_, e)| e).collect();
        errors.extend(self.overflow);
        (self.facts, errors)
    }

    fn push_record(&mut self, record: Record, origin: Origin) {
        match record {
            Record::Declaration(mut d) => {
                d.origin = origin;
                self.facts.declarations.push(d);
            }
            Record::Item(mut i) => {
                i.origin = origin;
                self.facts.items.push(i);
            }
            Record::Event(mut e) => {
                e.origin = origin;
                self.facts.events.push(e);
            }
            Record::Notification(mut n) => {
                n.origin = origin;
                self.facts.notifications.push(n);
            }
            Record::Observation(mut o) => {
                o.origin = origin;
                self.facts.observations.push(o);
            }
        }
    }

    /// Records an error, filling in its source and line; past [`MAX_ERRORS`], notes it once
    /// and stops reading.
    fn error(&mut self, origin: Origin, mut error: FactError) {
        error.source = self.facts.source_name(origin).to_owned();
        error.line = origin.line;
        if self.errors.len() < MAX_ERRORS {
            self.errors.push((origin, error));
        } else if self.overflow.is_none() {
            self.stopped = true;
            self.overflow = Some(FactError {
                kind: FactErrorKind::Limit,
                message: format!("too many errors: only the first {MAX_ERRORS} are shown"),
                help: Some("fix these and load again".to_owned()),
                column: 0,
                field: None,
                ..error
            });
        }
    }
}

/// How many recent attribute sets the loader remembers for sharing.
const RECENT_ATTRIBUTE_SETS: usize = 16;

/// Names seen so far, shared by every record that uses them, and recent attribute sets.
#[derive(Debug, Default)]
struct Interner {
    names: BTreeSet<Name>,
    /// The attributes being read, kept to reuse the allocation.
    pairs: Vec<(Name, AttrValue)>,
    /// Attribute sets seen lately. Facts tend to repeat a handful of sets, so a short list
    /// shares nearly all of them without a table that could grow with the input.
    recent_sets: Vec<Attributes>,
}

impl Interner {
    fn intern(&mut self, text: &str) -> Name {
        if let Some(name) = self.names.get(text) {
            return name.clone();
        }
        let name: Name = Name::from(text);
        self.names.insert(name.clone());
        name
    }

    /// An empty attribute set, shared like any other.
    fn no_attributes(&mut self) -> Attributes {
        self.pairs.clear();
        self.attributes().unwrap_or_default()
    }

    /// The attributes in `pairs`, sorted, shared with an identical recent set if any; a
    /// name given twice is the error.
    fn attributes(&mut self) -> Result<Attributes, Name> {
        sort_pairs(&mut self.pairs)?;
        let found = self
            .recent_sets
            .iter()
            .position(|set| cmp_pairs(&set.0, &self.pairs).is_eq());
        let set = match found {
            Some(index) => {
                // Move it one step towards the front, so the commonest sets stay cheap to find.
                self.recent_sets.swap(index, index.saturating_sub(1));
                self.recent_sets
                    .get(index.saturating_sub(1))
                    .cloned()
                    .unwrap_or_default()
            }
            None => {
                let set = Attributes(Arc::from(self.pairs.as_slice()));
                if self.recent_sets.len() == RECENT_ATTRIBUTE_SETS {
                    self.recent_sets.pop();
                }
                self.recent_sets.push(set.clone());
                set
            }
        };
        self.pairs.clear();
        Ok(set)
    }
}

enum Record {
    Declaration(Declaration),
    Item(Item),
    Event(Event),
    Notification(Notification),
    Observation(Observation),
}

/// Parses one non-blank line. The error's source and line are filled in by the caller.
fn parse_line(line: &str, interner: &mut Interner) -> Result<Record, FactError> {
    let mut ctx = Ctx {
        interner,
        detail: None,
        path: Vec::new(),
    };
    let mut de = serde_json::Deserializer::from_str(line);
    let result = Seed {
        expect: RecordExpect,
        ctx: &mut ctx,
    }
    .deserialize(&mut de)
    .and_then(|record| de.end().map(|()| record));
    match result {
        Ok(record) => Ok(record),
        Err(error) => Err(describe(line, &error, ctx.detail, ctx.path)),
    }
}

/// Turns a serde_json error (and what the visitors recorded about it) into a [`FactError`].
fn describe(
    line: &str,
    error: &serde_json::Error,
    detail: Option<Detail>,
    mut path: Vec<Seg>,
) -> FactError {
    // The path was recorded innermost first, as the error unwound.
    path.reverse();
    let stopped_at = byte_offset(line, error.line(), error.column());
    let Some(detail) = detail else {
        // The line is not JSON (or a limit of the JSON parser was hit).
        let (kind, message, help) = json_message(error);
        return FactError {
            kind,
            source: String::new(),
            line: 0,
            column: locate::char_column(line, stopped_at),
            field: (!path.is_empty()).then(|| PathDisplay(&path).to_string()),
            message,
            help,
        };
    };
    let offset = locate::locate(line, &path, detail.target, stopped_at.saturating_add(1))
        .unwrap_or(stopped_at);
    if let Some(missing) = detail.missing {
        path.push(Seg::Key(missing.to_owned()));
    }
    FactError {
        kind: detail.kind,
        source: String::new(),
        line: 0,
        column: locate::char_column(line, offset),
        field: (!path.is_empty()).then(|| PathDisplay(&path).to_string()),
        message: detail.message,
        help: detail.help,
    }
}

/// The byte offset of serde_json's 1-based (line, column) in `text`.
fn byte_offset(text: &str, line: usize, column: usize) -> usize {
    let line_start = if line <= 1 {
        0
    } else {
        text.match_indices('\n')
            .nth(line - 2)
            .map_or(text.len(), |(at, _)| at + 1)
    };
    line_start.saturating_add(column.saturating_sub(1))
}

/// serde_json's message without its position, in the words of these docs.
fn json_message(error: &serde_json::Error) -> (FactErrorKind, String, Option<String>) {
    let text = error.to_string();
    let bare = match text.rfind(" at line ") {
        Some(at) => text.get(..at).unwrap_or(&text),
        None => &text,
    };
    let one_object = Some("each line holds one JSON object".to_owned());
    let (message, help) = match bare {
        "recursion limit exceeded" => {
            return (
                FactErrorKind::Limit,
                "nesting is too deep".to_owned(),
                Some("records nest at most a few levels".to_owned()),
            );
        }
        "trailing characters" => ("unexpected text after the record".to_owned(), one_object),
        "EOF while parsing a value" => (
            "expected a value, found the end of the line".to_owned(),
            None,
        ),
        "EOF while parsing an object" => ("the line ends inside an object".to_owned(), one_object),
        "EOF while parsing a list" => ("the line ends inside an array".to_owned(), one_object),
        "EOF while parsing a string" => ("the line ends inside a string".to_owned(), one_object),
        "expected ident" => (
            "invalid literal: expected `true`, `false` or `null`".to_owned(),
            Some("strings are written in double quotes".to_owned()),
        ),
        "expected value" => ("expected a JSON value".to_owned(), None),
        other => (other.to_owned(), None),
    };
    (FactErrorKind::Json, message, help)
}

/// What our own code found wrong, recorded in [`Ctx`] when it fails, because serde's error
/// type carries only a string.
struct Detail {
    kind: FactErrorKind,
    message: String,
    help: Option<String>,
    /// Where to point: at the key or at the value of the path.
    target: Target,
    /// For a missing field: its name (the path is then the object that lacks it).
    missing: Option<&'static str>,
}

impl Detail {
    fn new(kind: FactErrorKind, message: String, help: Option<String>) -> Detail {
        Detail {
            kind,
            message,
            help,
            target: Target::Value,
            missing: None,
        }
    }

    fn at_key(mut self) -> Detail {
        self.target = Target::Key;
        self
    }
}

struct Ctx<'i> {
    interner: &'i mut Interner,
    detail: Option<Detail>,
    /// The path of the failing field, pushed innermost first as an error unwinds.
    path: Vec<Seg>,
}

impl Ctx<'_> {
    fn fail<E: de::Error>(&mut self, detail: Detail) -> E {
        if self.detail.is_none() {
            self.detail = Some(detail);
        }
        E::custom("invalid fact")
    }

    /// Fails at a member of the current object.
    fn fail_at<E: de::Error>(&mut self, key: &str, detail: Detail) -> E {
        self.path.push(Seg::Key(key.to_owned()));
        self.fail(detail)
    }

    /// Passes `result` through, noting `seg` in the path if it failed.
    fn within<T, E>(&mut self, seg: impl FnOnce() -> Seg, result: Result<T, E>) -> Result<T, E> {
        if result.is_err() {
            self.path.push(seg());
        }
        result
    }
}

/// What a JSON value was, for "expected …, found …".
enum Found<'a> {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(&'a str),
    Array,
    Object,
}

impl fmt::Display for Found<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Found::Null => f.write_str("`null`"),
            Found::Bool(b) => write!(f, "`{b}`"),
            Found::Int(i) => write!(f, "`{i}`"),
            Found::UInt(u) => write!(f, "`{u}`"),
            Found::Float(x) => write!(f, "`{x:?}`"),
            Found::Str(s) => write!(f, "`\"{}\"`", shown(s)),
            Found::Array => f.write_str("an array"),
            Found::Object => f.write_str("an object"),
        }
    }
}

/// User input as shown in a message: at most 60 characters.
fn shown(text: &str) -> Cow<'_, str> {
    const MAX_CHARS: usize = 60;
    match text.char_indices().nth(MAX_CHARS) {
        Some((at, _)) => Cow::Owned(format!("{}…", text.get(..at).unwrap_or(text))),
        None => Cow::Borrowed(text),
    }
}

/// `` `a`, `b` and `c` ``.
fn list(names: &[&str]) -> String {
    let mut out = String::new();
    for (index, name) in names.iter().enumerate() {
        if index > 0 {
            out.push_str(if index + 1 == names.len() {
                " and "
            } else {
                ", "
            });
        }
        out.push('`');
        out.push_str(name);
        out.push('`');
    }
    out
}

/// A kind of JSON value the facts expect, with what to do with each JSON type; a type it
/// does not handle is an "expected …, found …" error.
trait Expect<'de>: Sized {
    type Value;

    /// What was expected: "a string", "a date like `1979-06-18`".
    fn expected(&self) -> &'static str;

    fn help(&self) -> Option<String> {
        None
    }

    fn wrong<E: de::Error>(&self, ctx: &mut Ctx<'_>, found: Found<'_>) -> E {
        let message = format!("expected {}, found {found}", self.expected());
        ctx.fail(Detail::new(FactErrorKind::Field, message, self.help()))
    }

    fn null<E: de::Error>(self, ctx: &mut Ctx<'_>) -> Result<Self::Value, E> {
        Err(self.wrong(ctx, Found::Null))
    }

    fn bool<E: de::Error>(self, ctx: &mut Ctx<'_>, v: bool) -> Result<Self::Value, E> {
        Err(self.wrong(ctx, Found::Bool(v)))
    }

    fn int<E: de::Error>(self, ctx: &mut Ctx<'_>, v: i64) -> Result<Self::Value, E> {
        Err(self.wrong(ctx, Found::Int(v)))
    }

    fn uint<E: de::Error>(self, ctx: &mut Ctx<'_>, v: u64) -> Result<Self::Value, E> {
        Err(self.wrong(ctx, Found::UInt(v)))
    }

    fn float<E: de::Error>(self, ctx: &mut Ctx<'_>, v: f64) -> Result<Self::Value, E> {
        Err(self.wrong(ctx, Found::Float(v)))
    }

    fn str<E: de::Error>(self, ctx: &mut Ctx<'_>, v: &str) -> Result<Self::Value, E> {
        Err(self.wrong(ctx, Found::Str(v)))
    }

    fn map<A: MapAccess<'de>>(self, ctx: &mut Ctx<'_>, map: A) -> Result<Self::Value, A::Error> {
        let _ = map;
        Err(self.wrong(ctx, Found::Object))
    }

    fn seq<A: SeqAccess<'de>>(self, ctx: &mut Ctx<'_>, seq: A) -> Result<Self::Value, A::Error> {
        let _ = seq;
        Err(self.wrong(ctx, Found::Array))
    }
}

/// Runs an [`Expect`] as a serde seed and visitor.
struct Seed<'c, 'i, T> {
    expect: T,
    ctx: &'c mut Ctx<'i>,
}

impl<'de, T: Expect<'de>> DeserializeSeed<'de> for Seed<'_, '_, T> {
    type Value = T::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<T::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, T: Expect<'de>> Visitor<'de> for Seed<'_, '_, T> {
    type Value = T::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expect.expected())
    }

    fn visit_unit<E: de::Error>(self) -> Result<T::Value, E> {
        self.expect.null(self.ctx)
    }

    fn visit_none<E: de::Error>(self) -> Result<T::Value, E> {
        self.expect.null(self.ctx)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<T::Value, E> {
        self.expect.bool(self.ctx, v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T::Value, E> {
        self.expect.int(self.ctx, v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T::Value, E> {
        self.expect.uint(self.ctx, v)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T::Value, E> {
        self.expect.float(self.ctx, v)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T::Value, E> {
        self.expect.str(self.ctx, v)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T::Value, A::Error> {
        self.expect.map(self.ctx, map)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<T::Value, A::Error> {
        self.expect.seq(self.ctx, seq)
    }
}

/// Object keys, borrowed from the line unless they hold escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
}

/// The fields of one kind of object, for "unknown field" and "missing field" messages.
struct Form {
    /// "an `item` record", "a location".
    what: &'static str,
    fields: &'static [&'static str],
    /// What the object needs, as help for a missing field.
    needs: &'static str,
}

const DECLARATION: Form = Form {
    what: "a `declaration` record",
    fields: &["kind", "party", "as_of", "quantities", "id", "delivered_at"],
    needs: "a `declaration` needs `party`, `as_of` and `quantities`",
};
const ITEM: Form = Form {
    what: "an `item` record",
    fields: &[
        "kind",
        "party",
        "id",
        "category",
        "attributes",
        "location",
        "from",
        "until",
    ],
    needs: "an `item` needs `party`, `id`, `category` and `from`",
};
const EVENT: Form = Form {
    what: "an `event` record",
    fields: &[
        "kind",
        "party",
        "id",
        "type",
        "at",
        "location",
        "attributes",
    ],
    needs: "an `event` needs `party`, `id`, `type` and `at`",
};
const NOTIFICATION: Form = Form {
    what: "a `notification` record",
    fields: &[
        "kind",
        "party",
        "id",
        "provision",
        "event_type",
        "sent_at",
        "received_at",
        "window",
        "launch_area",
        "impact_area",
    ],
    needs: "a `notification` needs `party`, `id`, `provision`, `event_type` and `sent_at`",
};
const OBSERVATION: Form = Form {
    what: "an `observation` record",
    fields: &[
        "kind",
        "observer",
        "party",
        "id",
        "type",
        "at",
        "launch_point",
        "impact_point",
        "location",
        "mb",
        "category",
        "attributes",
    ],
    needs: "an `observation` needs `observer`, `party`, `id`, `type` and `at`",
};
const LOCATION: Form = Form {
    what: "a location",
    fields: &["lat", "lon"],
    needs: "a location is written `{\"lat\": …, \"lon\": …}`",
};
const WINDOW: Form = Form {
    what: "a window",
    fields: &["from", "to"],
    needs: "a window is written `{\"from\": …, \"to\": …}`",
};
const AREA: Form = Form {
    what: "an area",
    fields: &["circle", "polygon", "zone"],
    needs: "an area is one of `{\"circle\": …}`, `{\"polygon\": […]}` or `{\"zone\": \"name\"}`",
};
const CIRCLE: Form = Form {
    what: "a circle",
    fields: &["center", "radius_km", "radius_nmi"],
    needs: "a circle is written `{\"center\": {\"lat\": …, \"lon\": …}, \"radius_km\": …}`",
};

fn unknown_field<E: de::Error>(ctx: &mut Ctx<'_>, key: &str, form: &Form) -> E {
    let help = match did_you_mean(key, form.fields.iter().copied()) {
        Some(name) => format!("did you mean `{name}`?"),
        None => format!("{} has the fields {}", form.what, list(form.fields)),
    };
    let message = format!("unknown field `{}` in {}", shown(key), form.what);
    ctx.fail_at(
        key,
        Detail::new(FactErrorKind::Field, message, Some(help)).at_key(),
    )
}

fn duplicate_field<E: de::Error>(ctx: &mut Ctx<'_>, key: &str) -> E {
    let message = format!("field `{key}` is given twice");
    ctx.fail_at(
        key,
        Detail::new(FactErrorKind::Field, message, None).at_key(),
    )
}

/// Reads the value of `key` into its slot, which must still be empty.
fn field<'de, A, T>(
    map: &mut A,
    ctx: &mut Ctx<'_>,
    slot: &mut Option<T::Value>,
    key: &str,
    expect: T,
) -> Result<(), A::Error>
where
    A: MapAccess<'de>,
    T: Expect<'de>,
{
    if slot.is_some() {
        return Err(duplicate_field(ctx, key));
    }
    let value = map.next_value_seed(Seed {
        expect,
        ctx: &mut *ctx,
    });
    *slot = Some(ctx.within(|| Seg::Key(key.to_owned()), value)?);
    Ok(())
}

fn required<T, E: de::Error>(
    ctx: &mut Ctx<'_>,
    slot: Option<T>,
    key: &'static str,
    form: &Form,
) -> Result<T, E> {
    match slot {
        Some(value) => Ok(value),
        None => {
            let mut detail = Detail::new(
                FactErrorKind::Field,
                format!("missing field `{key}`"),
                Some(form.needs.to_owned()),
            );
            detail.missing = Some(key);
            Err(ctx.fail(detail))
        }
    }
}

/// A whole line: an object whose first field is `kind`.
struct RecordExpect;

#[derive(Clone, Copy)]
enum RecordKind {
    Declaration,
    Item,
    Event,
    Notification,
    Observation,
}

const KINDS: &[&str] = &[
    "declaration",
    "item",
    "event",
    "notification",
    "observation",
];

impl<'de> Expect<'de> for RecordExpect {
    type Value = Record;

    fn expected(&self) -> &'static str {
        "a record like `{\"kind\": \"item\", …}`"
    }

    fn help(&self) -> Option<String> {
        Some("each line holds one JSON object".to_owned())
    }

    fn map<A: MapAccess<'de>>(self, ctx: &mut Ctx<'_>, mut map: A) -> Result<Record, A::Error> {
        let Some(key) = map.next_key_seed(KeySeed)? else {
            let mut detail = Detail::new(
                FactErrorKind::Field,
                "missing field `kind`".to_owned(),
                Some(format!("the kinds are {}", list(KINDS))),
            );
            detail.missing = Some("kind");
            return Err(ctx.fail(detail));
        };
        if key != "kind" {
            let message = format!("the first field must be `kind`, found `{}`", shown(&key));
            let help = "every record starts with its kind, e.g. `{\"kind\": \"item\", …}`";
            let detail = Detail::new(FactErrorKind::Field, message, Some(help.to_owned()));
            return Err(ctx.fail_at(&key, detail.at_key()));
        }
        let kind = map.next_value_seed(Seed {
            expect: KindExpect,
            ctx: &mut *ctx,
        });
        let kind = ctx.within(|| Seg::Key("kind".to_owned()), kind)?;
        match kind {
            RecordKind::Declaration => declaration(&mut map, ctx).map(Record::Declaration),
            RecordKind::Item => item(&mut map, ctx).map(Record::Item),
            RecordKind::Event => event(&mut map, ctx).map(Record::Event),
            RecordKind::Notification => notification(&mut map, ctx).map(Record::Notification),
            RecordKind::Observation => observation(&mut map, ctx).map(Record::Observation),
        }
    }
}

struct KindExpect;

impl<'de> Expect<'de> for KindExpect {
    type Value = RecordKind;

    fn expected(&self) -> &'static str {
        "a record kind"
    }

    fn help(&self) -> Option<String> {
        Some(format!("the kinds are {}", list(KINDS)))
    }

    fn str<E: de::Error>(self, ctx: &mut Ctx<'_>, v: &str) -> Result<RecordKind, E> {
        Ok(match v {
            "declaration" => RecordKind::Declaration,
            "item" => RecordKind::Item,
            "event" => RecordKind::Event,
            "notification" => RecordKind::Notification,
            "observation" => RecordKind::Observation,
            other => {
                let help = match did_you_mean(other, KINDS.iter().copied()) {
                    Some(kind) => format!("did you mean `{kind}`?"),
                    None => format!("the kinds are {}", list(KINDS)),
                };
                let message = format!("unknown record kind `{}`", shown(other));
                return Err(ctx.fail(Detail::new(FactErrorKind::Value, message, Some(help))));
            }
        })
    }
}

fn declaration<'de, A: MapAccess<'de>>(
    map: &mut A,
    ctx: &mut Ctx<'_>,
) -> Result<Declaration, A::Error> {
    let (mut party, mut as_of, mut quantities, mut id, mut delivered_at) =
        (None, None, None, None, None);
    while let Some(key) = map.next_key_seed(KeySeed)? {
        match &*key {
            "party" => field(map, ctx, &mut party, "party", NameExpect)?,
            "as_of" => field(map, ctx, &mut as_of, "as_of", DateExpect)?,
            "quantities" => field(map, ctx, &mut quantities, "quantities", QuantitiesExpect)?,
            "id" => field(map, ctx, &mut id, "id", Opt(IdExpect))?,
            "delivered_at" => field(map, ctx, &mut delivered_at, "delivered_at", Opt(INSTANT))?,
            "kind" => return Err(duplicate_field(ctx, "kind")),
            other => return Err(unknown_field(ctx, other, &DECLARATION)),
        }
    }
    Ok(Declaration {
        party: required(ctx, party, "party", &DECLARATION)?,
        as_of: required(ctx, as_of, "as_of", &DECLARATION)?,
        quantities: required(ctx, quantities, "quantities", &DECLARATION)?,
        id: id.flatten(),
        delivered_at: delivered_at.flatten(),
        origin: Origin::default(),
    })
}

fn item<'de, A: MapAccess<'de>>(map: &mut A, ctx: &mut Ctx<'_>) -> Result<Item, A::Error> {
    let (mut party, mut id, mut category, mut attributes) = (None, None, None, None);
    let (mut location, mut from, mut until) = (None, None, None);
    while let Some(key) = map.next_key_seed(KeySeed)? {
        match &*key {
            "party" => field(map, ctx, &mut party, "party", NameExpect)?,
            "id" => field(map, ctx, &mut id, "id", IdExpect)?,
            "category" => field(map, ctx, &mut category, "category", NameExpect)?,
            "attributes" => field(map, ctx, &mut attributes, "attributes", Opt(AttrsExpect))?,
            "location" => field(map, ctx, &mut location, "location", Opt(PointExpect))?,
            "from" => field(map, ctx, &mut from, "from", DATE_OR_INSTANT)?,
            "until" => field(map, ctx, &mut until, "until", Opt(DATE_OR_INSTANT))?,
            "kind" => return Err(duplicate_field(ctx, "kind")),
            other => return Err(unknown_field(ctx, other, &ITEM)),
        }
    }
    let party = required(ctx, party, "party", &ITEM)?;
    let id = required(ctx, id, "id", &ITEM)?;
    let category = required(ctx, category, "category", &ITEM)?;
    let from = required(ctx, from, "from", &ITEM)?;
    let until = until.flatten();
    if let Some(until) = until
        && until <= from
    {
        let message = format!("`until` must be later than `from` (`{from}`), found `{until}`");
        let help = "an item exists from `from` up to, not including, `until`";
        let detail = Detail::new(FactErrorKind::Value, message, Some(help.to_owned()));
        return Err(ctx.fail_at("until", detail));
    }
    Ok(Item {
        party,
        id,
        category,
        attributes: attributes
            .flatten()
            .unwrap_or_else(|| ctx.interner.no_attributes()),
        location: location.flatten(),
        from,
        until,
        origin: Origin::default(),
    })
}

fn event<'de, A: MapAccess<'de>>(map: &mut A, ctx: &mut Ctx<'_>) -> Result<Event, A::Error> {
    let (mut party, mut id, mut event_type) = (None, None, None);
    let (mut at, mut location, mut attributes) = (None, None, None);
    while let Some(key) = map.next_key_seed(KeySeed)? {
        match &*key {
            "party" => field(map, ctx, &mut party, "party", NameExpect)?,
            "id" => field(map, ctx, &mut id, "id", IdExpect)?,
            "type" => field(map, ctx, &mut event_type, "type", NameExpect)?,
            "at" => field(map, ctx, &mut at, "at", INSTANT)?,
            "location" => field(map, ctx, &mut location, "location", Opt(PointExpect))?,
            "attributes" => field(map, ctx, &mut attributes, "attributes", Opt(AttrsExpect))?,
            "kind" => return Err(duplicate_field(ctx, "kind")),
            other => return Err(unknown_field(ctx, other, &EVENT)),
        }
    }
    Ok(Event {
        party: required(ctx, party, "party", &EVENT)?,
        id: required(ctx, id, "id", &EVENT)?,
        event_type: required(ctx, event_type, "type", &EVENT)?,
        at: required(ctx, at, "at", &EVENT)?,
        location: location.flatten(),
        attributes: attributes
            .flatten()
            .unwrap_or_else(|| ctx.interner.no_attributes()),
        origin: Origin::default(),
    })
}

fn notification<'de, A: MapAccess<'de>>(
    map: &mut A,
    ctx: &mut Ctx<'_>,
) -> Result<Notification, A::Error> {
    let (mut party, mut id, mut provision, mut event_type, mut sent_at) =
        (None, None, None, None, None);
    let (mut received_at, mut window, mut launch_area, mut impact_area) = (None, None, None, None);
    while let Some(key) = map.next_key_seed(KeySeed)? {
        match &*key {
            "party" => field(map, ctx, &mut party, "party", NameExpect)?,
            "id" => field(map, ctx, &mut id, "id", IdExpect)?,
            "provision" => field(map, ctx, &mut provision, "provision", NameExpect)?,
            "event_type" => field(map, ctx, &mut event_type, "event_type", NameExpect)?,
            "sent_at" => field(map, ctx, &mut sent_at, "sent_at", INSTANT)?,
            "received_at" => field(map, ctx, &mut received_at, "received_at", Opt(INSTANT))?,
            "window" => field(map, ctx, &mut window, "window", Opt(WindowExpect))?,
            "launch_area" => field(map, ctx, &mut launch_area, "launch_area", Opt(AreaExpect))?,
            "impact_area" => field(map, ctx, &mut impact_area, "impact_area", Opt(AreaExpect))?,
            "kind" => return Err(duplicate_field(ctx, "kind")),
            other => return Err(unknown_field(ctx, other, &NOTIFICATION)),
        }
    }
    Ok(Notification {
        party: required(ctx, party, "party", &NOTIFICATION)?,
        id: required(ctx, id, "id", &NOTIFICATION)?,
        provision: required(ctx, provision, "provision", &NOTIFICATION)?,
        event_type: required(ctx, event_type, "event_type", &NOTIFICATION)?,
        sent_at: required(ctx, sent_at, "sent_at", &NOTIFICATION)?,
        received_at: received_at.flatten(),
        window: window.flatten(),
        launch_area: launch_area.flatten(),
        impact_area: impact_area.flatten(),
        origin: Origin::default(),
    })
}

fn observation<'de, A: MapAccess<'de>>(
    map: &mut A,
    ctx: &mut Ctx<'_>,
) -> Result<Observation, A::Error> {
    let (mut observer, mut party, mut id, mut observed_type, mut at) =
        (None, None, None, None, None);
    let (mut launch_point, mut impact_point, mut location) = (None, None, None);
    let (mut mb, mut category, mut attributes) = (None, None, None);
    while let Some(key) = map.next_key_seed(KeySeed)? {
        match &*key {
            "observer" => field(map, ctx, &mut observer, "observer", NameExpect)?,
            "party" => field(map, ctx, &mut party, "party", NameExpect)?,
            "id" => field(map, ctx, &mut id, "id", IdExpect)?,
            "type" => field(map, ctx, &mut observed_type, "type", NameExpect)?,
            "at" => field(map, ctx, &mut at, "at", INSTANT)?,
            "launch_point" => field(
                map,
                ctx,
                &mut launch_point,
                "launch_point",
                Opt(PointExpect),
            )?,
            "impact_point" => field(
                map,
                ctx,
                &mut impact_point,
                "impact_point",
                Opt(PointExpect),
            )?,
            "location" => field(map, ctx, &mut location, "location", Opt(PointExpect))?,
            "mb" => field(map, ctx, &mut mb, "mb", Opt(FloatExpect))?,
            "category" => field(map, ctx, &mut category, "category", Opt(NameExpect))?,
            "attributes" => field(map, ctx, &mut attributes, "attributes", Opt(AttrsExpect))?,
            "kind" => return Err(duplicate_field(ctx, "kind")),
            other => return Err(unknown_field(ctx, other, &OBSERVATION)),
        }
    }
    Ok(Observation {
        observer: required(ctx, observer, "observer", &OBSERVATION)?,
        party: required(ctx, party, "party", &OBSERVATION)?,
        id: required(ctx, id, "id", &OBSERVATION)?,
        observed_type: required(ctx, observed_type, "type", &OBSERVATION)?,
        at: required(ctx, at, "at", &OBSERVATION)?,
        launch_point: launch_point.flatten(),
        impact_point: impact_point.flatten(),
        location: location.flatten(),
        mb: mb.flatten(),
        category: category.flatten(),
        attributes: attributes
            .flatten()
            .unwrap_or_else(|| ctx.interner.no_attributes()),
        origin: Origin::default(),
    })
}

/// An optional field: `null` means absent.
struct Opt<T>(T);

impl<'de, T: Expect<'de>> Expect<'de> for Opt<T> {
    type Value = Option<T::Value>;

    fn expected(&self) -> &'static str {
        self.0.expected()
    }

    fn null<E: de::Error>(self, _ctx: &mut Ctx<'_>) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn bool<E: de::Error>(self, ctx: &mut Ctx<'_>, v: bool) -> Result<Self::Value, E> {
        self.0.bool(ctx, v).map(Some)
    }

    fn int<E: de::Error>(self, ctx: &mut Ctx<'_>, v: i64) -> Result<Self::Value, E> {
        self.0.int(ctx, v).map(Some)
    }

    fn uint<E: de::Error>(self, ctx: &mut Ctx<'_>, v: u64) -> Result<Self::Value, E> {
        self.0.uint(ctx, v).map(Some)
    }

    fn float<E: de::Error>(self, ctx: &mut Ctx<'_>, v: f64) -> Result<Self::Value, E> {
        self.0.float(ctx, v).map(Some)
    }

    fn str<E: de::Error>(self, ctx: &mut Ctx<'_>, v: &str) -> Result<Self::Value, E> {
        self.0.str(ctx, v).map(Some)
    }

    fn map<A: MapAccess<'de>>(self, ctx: &mut Ctx<'_>, map: A) -> Result<Self::Value, A::Error> {
        self.0.map(ctx, map).map(Some)
    }

    fn seq<A: SeqAccess<'de>>(self, ctx: &mut Ctx<'_>, seq: A) -> Result<Self::Value, A::Error> {
        self.0.seq(ctx, seq).map(Some)
    }
}

/// A party, category, type, provision or zone name: a non-empty string, interned.
struct NameExpect;

impl<'de> Expect<'de> for NameExpect {
    type Value = Name;

    fn expected(&self) -> &'static str {
        "a name in a string"
    }

    fn str<E: de::Error>(self, ctx: &mut Ctx<'_>, v: &str) -> Result<Name, E> {
        if v.is_empty() {
            let detail = Detail::new(
                FactErrorKind::Value,
                "a name must not be empty".to_owned(),
                None,
            );
            return Err(ctx.fail(detail));
        }
        Ok(ctx.interner.intern(v))
    }
}

/// A record id: a non-empty string.
struct IdExpect;

impl<'de> Expect<'de> for IdExpect {
    type Value = String;

    fn expected(&self) -> &'static str {
        "an id in a string"
    }

    fn str<E: de::Error>(self, ctx: &mut Ctx<'_>, v: &str) -> Result<String, E> {
        if v.is_empty() {
            let detail = Detail::new(
                FactErrorKind::Value,
                "an id must not be empty".to_owned(),
                None,
            );
            return Err(ctx.fail(detail));
        }
        Ok(v.to_owned())
    }
}

struct DateExpect;

impl<'de> Expect<'de> for DateExpect {
    type Value = Date;

    fn expected(&self) -> &'static str {
        "a date like `1979-06-18`"
    }

    fn help(&self) -> Option<String> {
        Some("dates are written `YYYY-MM-DD`, in UTC".to_owned())
    }

    fn str<E: de::Error>(self, ctx: &mut Ctx<'_>, v: &str) -> Result<Date, E> {
        Date::parse(v).ok_or_else(|| {
            let help = if Instant::parse(v).is_some() {
                "this field takes a date, without a time of day".to_owned()
            } else {
                "dates are written `YYYY-MM-DD` and must exist in the calendar".to_owned()
            };
            let message = format!("expected {}, found `{}`", self.expected(), shown(v));
            ctx.fail(Detail::new(FactErrorKind::Value, message, Some(help)))
        })
    }
}

/// An instant, or a bare date meaning midnight UTC; `expected` says which the field is
/// mostly written with.
struct InstantExpect {
    expected: &'static str,
}

/// Fields that are usually instants (`at`, `sent_at`).
const INSTANT: InstantExpect = InstantExpect {
    expected: "an instant like `1979-06-18T10:00:00Z`",
};
/// Fields that are usually dates (an item's `from` and `until`).
const DATE_OR_INSTANT: InstantExpect = InstantExpect {
    expected: "a date like `1979-06-18` or an instant like `1979-06-18T10:00:00Z`",
};

impl<'de> Expect<'de> for InstantExpect {
    type Value = Instant;

    fn expected(&self) -> &'static str {
        self.expected
    }

    fn help(&self) -> Option<String> {
        Some(
            "instants are UTC, written `YYYY-MM-DDTHH:MM:SSZ`; a date `YYYY-MM-DD` means midnight"
                .to_owned(),
        )
    }

    fn str<E: de::Error>(self, ctx: &mut Ctx<'_>, v: &str) -> Result<Instant, E> {
        Instant::parse(v).ok_or_else(|| {
            let message = format!("expected {}, found `{}`", self.expected(), shown(v));
            ctx.fail(Detail::new(FactErrorKind::Value, message, self.help()))
        })
    }
}

fn int_too_large<E: de::Error>(ctx: &mut Ctx<'_>, v: u64) -> E {
    let message = format!("integer `{v}` is too large; integers are 64-bit signed");
    ctx.fail(Detail::new(FactErrorKind::Value, message, None))
}

/// A declared quantity: an int or a decimal.
struct NumberExpect;

impl<'de> Expect<'de> for NumberExpect {
    type Value = Number;

    fn expected(&self) -> &'static str {
        "a number"
    }

    fn int<E: de::Error>(self, _ctx: &mut Ctx<'_>, v: i64) -> Result<Number, E> {
        Ok(Number::Int(v))
    }

    fn uint<E: de::Error>(self, ctx: &mut Ctx<'_>, v: u64) -> Result<Number, E> {
        i64::try_from(v)
            .map(Number::Int)
            .map_err(|_| int_too_large(ctx, v))
    }

    fn float<E: de::Error>(self, _ctx: &mut Ctx<'_>, v: f64) -> Result<Number, E> {
        Ok(Number::Decimal(v))
    }
}

/// A number read as a decimal (coordinates, radii, magnitudes).
struct FloatExpect;

impl<'de> Expect<'de> for FloatExpect {
    type Value = f64;

    fn expected(&self) -> &'static str {
        "a number"
    }

    fn int<E: de::Error>(self, _ctx: &mut Ctx<'_>, v: i64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn uint<E: de::Error>(self, _ctx: &mut Ctx<'_>, v: u64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn float<E: de::Error>(self, _ctx: &mut Ctx<'_>, v: f64) -> Result<f64, E> {
        Ok(v)
    }
}

/// `{"lat": …, "lon": …}` in range.
struct PointExpect;

impl<'de> Expect<'de> for PointExpect {
    type Value = Point;

    fn expected(&self) -> &'static str {
        "a location like `{\"lat\": 51.5, \"lon\": -0.1}`"
    }

    fn map<A: MapAccess<'de>>(self, ctx: &mut Ctx<'_>, mut map: A) -> Result<Point, A::Error> {
        let (mut lat, mut lon) = (None, None);
        while let Some(key) = map.next_key_seed(KeySeed)? {
            match &*key {
                "lat" => field(&mut map, ctx, &mut lat, "lat", FloatExpect)?,
                "lon" => field(&mut map, ctx, &mut lon, "lon", FloatExpect)?,
                other => return Err(unknown_field(ctx, other, &LOCATION)),
            }
        }
        let lat = required(ctx, lat, "lat", &LOCATION)?;
        let lon = required(ctx, lon, "lon", &LOCATION)?;
        if !(-90.0..=90.0).contains(&lat) {
            let message = format!("latitude `{lat}` is out of range; expected -90 to 90");
            return Err(ctx.fail_at("lat", Detail::new(FactErrorKind::Value, message, None)));
        }
        if !(-180.0..=180.0).contains(&lon) {
            let message = format!("longitude `{lon}` is out of range; expected -180 to 180");
            return Err(ctx.fail_at("lon", Detail::new(FactErrorKind::Value, message, None)));
        }
        Ok(Point { lat, lon })
    }
}

/// `{"from": instant, "to": instant}` with `from <= to`.
struct WindowExpect;

impl<'de> Expect<'de> for WindowExpect {
    type Value = Window;

    fn expected(&self) -> &'static str {
        "a window like `{\"from\": …, \"to\": …}`"
    }

    fn map<A: MapAccess<'de>>(self, ctx: &mut Ctx<'_>, mut map: A) -> Result<Window, A::Error> {
        let (mut from, mut to) = (None, None);
        while let Some(key) = map.next_key_seed(KeySeed)? {
            match &*key {
                "from" => field(&mut map, ctx, &mut from, "from", INSTANT)?,
                "to" => field(&mut map, ctx, &mut to, "to", INSTANT)?,
                other => return Err(unknown_field(ctx, other, &WINDOW)),
            }
        }
        let from = required(ctx, from, "from", &WINDOW)?;
        let to = required(ctx, to, "to", &WINDOW)?;
        if to < from {
            let message = format!(
                "a window must not end before it starts: `to` is `{to}`, `from` is `{from}`"
            );
            return Err(ctx.fail_at("to", Detail::new(FactErrorKind::Value, message, None)));
        }
        Ok(Window { from, to })
    }
}

/// `{"circle": …}`, `{"polygon": […]}` or `{"zone": "name"}`.
struct AreaExpect;

impl<'de> Expect<'de> for AreaExpect {
    type Value = Area;

    fn expected(&self) -> &'static str {
        "an area"
    }

    fn help(&self) -> Option<String> {
        Some(AREA.needs.to_owned())
    }

    fn map<A: MapAccess<'de>>(self, ctx: &mut Ctx<'_>, mut map: A) -> Result<Area, A::Error> {
        let mut area = None;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            if area.is_some() && AREA.fields.contains(&&*key) {
                let message = "an area is exactly one of `circle`, `polygon` or `zone`".to_owned();
                let detail = Detail::new(FactErrorKind::Field, message, None).at_key();
                return Err(ctx.fail_at(&key, detail));
            }
            match &*key {
                "circle" => {
                    let mut circle = None;
                    field(&mut map, ctx, &mut circle, "circle", CircleExpect)?;
                    area = circle.map(|(center, radius_km)| Area::Circle { center, radius_km });
                }
                "polygon" => {
                    let mut polygon = None;
                    field(&mut map, ctx, &mut polygon, "polygon", PolygonExpect)?;
                    area = polygon.map(Area::Polygon);
                }
                "zone" => {
                    let mut zone = None;
                    field(&mut map, ctx, &mut zone, "zone", NameExpect)?;
                    area = zone.map(Area::Zone);
                }
                other => return Err(unknown_field(ctx, other, &AREA)),
            }
        }
        area.ok_or_else(|| {
            let message = "an empty area: expected `circle`, `polygon` or `zone`".to_owned();
            ctx.fail(Detail::new(FactErrorKind::Field, message, self.help()))
        })
    }
}

/// `{"center": point, "radius_km": N}` or `radius_nmi`; the radius in km.
struct CircleExpect;

impl<'de> Expect<'de> for CircleExpect {
    type Value = (Point, f64);

    fn expected(&self) -> &'static str {
        "a circle like `{\"center\": {\"lat\": …, \"lon\": …}, \"radius_km\": …}`"
    }

    fn map<A: MapAccess<'de>>(
        self,
        ctx: &mut Ctx<'_>,
        mut map: A,
    ) -> Result<(Point, f64), A::Error> {
        let (mut center, mut radius_km, mut radius_nmi) = (None, None, None);
        while let Some(key) = map.next_key_seed(KeySeed)? {
            match &*key {
                "center" => field(&mut map, ctx, &mut center, "center", PointExpect)?,
                "radius_km" | "radius_nmi" => {
                    let (slot, key) = if key == "radius_km" {
                        (&mut radius_km, "radius_km")
                    } else {
                        (&mut radius_nmi, "radius_nmi")
                    };
                    field(&mut map, ctx, slot, key, FloatExpect)?;
                    if radius_km.is_some() && radius_nmi.is_some() {
                        let message =
                            "a circle has one radius: give `radius_km` or `radius_nmi`".to_owned();
                        let detail = Detail::new(FactErrorKind::Field, message, None).at_key();
                        return Err(ctx.fail_at(key, detail));
                    }
                    let radius = radius_km.or(radius_nmi).unwrap_or(0.0);
                    if radius <= 0.0 {
                        let message = format!("a radius must be positive, found `{radius}`");
                        return Err(
                            ctx.fail_at(key, Detail::new(FactErrorKind::Value, message, None))
                        );
                    }
                }
                other => return Err(unknown_field(ctx, other, &CIRCLE)),
            }
        }
        let center = required(ctx, center, "center", &CIRCLE)?;
        let radius_km = match (radius_km, radius_nmi) {
            (Some(km), _) => km,
            (None, Some(nmi)) => nmi * KM_PER_NMI,
            (None, None) => required(ctx, None, "radius_km", &CIRCLE)?,
        };
        Ok((center, radius_km))
    }
}

/// `[point, point, point, …]`: one ring of at least three points.
struct PolygonExpect;

impl<'de> Expect<'de> for PolygonExpect {
    type Value = Polygon;

    fn expected(&self) -> &'static str {
        "a list of locations like `[{\"lat\": …, \"lon\": …}, …]`"
    }

    fn seq<A: SeqAccess<'de>>(self, ctx: &mut Ctx<'_>, mut seq: A) -> Result<Polygon, A::Error> {
        let mut points = Vec::new();
        let mut index: u64 = 0;
        loop {
            let next = seq.next_element_seed(Seed {
                expect: PointExpect,
                ctx: &mut *ctx,
            });
            match ctx.within(|| Seg::Index(index), next)? {
                Some(point) => points.push(point),
                None => break,
            }
            index += 1;
        }
        if points.len() < 3 {
            let message = format!("a polygon needs at least 3 points, found {}", points.len());
            return Err(ctx.fail(Detail::new(FactErrorKind::Value, message, None)));
        }
        Ok(Polygon::new(points))
    }
}

/// `{"name": value, …}`: attributes, each name once.
struct AttrsExpect;

impl<'de> Expect<'de> for AttrsExpect {
    type Value = Attributes;

    fn expected(&self) -> &'static str {
        "attributes like `{\"mirv\": true}`"
    }

    fn map<A: MapAccess<'de>>(self, ctx: &mut Ctx<'_>, mut map: A) -> Result<Attributes, A::Error> {
        ctx.interner.pairs.clear();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let value = map.next_value_seed(Seed {
                expect: AttrValueExpect,
                ctx: &mut *ctx,
            });
            let value = ctx.within(|| Seg::Key(key.to_string()), value)?;
            let name = ctx.interner.intern(&key);
            ctx.interner.pairs.push((name, value));
        }
        ctx.interner.attributes().map_err(|name| {
            let message = format!("attribute `{}` is given twice", shown(&name));
            ctx.fail_at(
                &name,
                Detail::new(FactErrorKind::Field, message, None).at_key(),
            )
        })
    }
}

struct AttrValueExpect;

impl<'de> Expect<'de> for AttrValueExpect {
    type Value = AttrValue;

    fn expected(&self) -> &'static str {
        "a bool, a number or a string"
    }

    fn bool<E: de::Error>(self, _ctx: &mut Ctx<'_>, v: bool) -> Result<AttrValue, E> {
        Ok(AttrValue::Bool(v))
    }

    fn int<E: de::Error>(self, _ctx: &mut Ctx<'_>, v: i64) -> Result<AttrValue, E> {
        Ok(AttrValue::Int(v))
    }

    fn uint<E: de::Error>(self, ctx: &mut Ctx<'_>, v: u64) -> Result<AttrValue, E> {
        i64::try_from(v)
            .map(AttrValue::Int)
            .map_err(|_| int_too_large(ctx, v))
    }

    fn float<E: de::Error>(self, _ctx: &mut Ctx<'_>, v: f64) -> Result<AttrValue, E> {
        Ok(AttrValue::Decimal(v))
    }

    fn str<E: de::Error>(self, _ctx: &mut Ctx<'_>, v: &str) -> Result<AttrValue, E> {
        Ok(AttrValue::Text(v.to_owned()))
    }
}

/// `{"name": number, …}`: declared quantities, each name once, sorted by name.
struct QuantitiesExpect;

impl<'de> Expect<'de> for QuantitiesExpect {
    type Value = Vec<(Name, Number)>;

    fn expected(&self) -> &'static str {
        "quantities like `{\"sdv\": 2400}`"
    }

    fn map<A: MapAccess<'de>>(
        self,
        ctx: &mut Ctx<'_>,
        mut map: A,
    ) -> Result<Self::Value, A::Error> {
        let mut quantities: Vec<(Name, Number)> = Vec::new();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let value = map.next_value_seed(Seed {
                expect: NumberExpect,
                ctx: &mut *ctx,
            });
            let value = ctx.within(|| Seg::Key(key.to_string()), value)?;
            quantities.push((ctx.interner.intern(&key), value));
        }
        quantities.sort_by(|a, b| a.0.cmp(&b.0));
        for pair in quantities.windows(2) {
            if let [(a, _), (b, _)] = pair
                && a == b
            {
                let message = format!("quantity `{}` is given twice", shown(a));
                let detail = Detail::new(FactErrorKind::Field, message, None).at_key();
                return Err(ctx.fail_at(a, detail));
            }
        }
        Ok(quantities)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn past_the_record_limit_the_rest_is_ignored() {
        let mut loader = FactsLoader::new("f.jsonl");
        loader.max_records = 2;
        let line =
            r#"{"kind": "event", "party": "US", "id": "e", "type": "t", "at": "1979-01-01"}"#;
        for _ in 0..5 {
            loader.push_line(line);
            loader.push_line("");
        }
        let (facts, errors) = loader.finish();
        assert_eq!(facts.events.len(), 1, "identical repeats collapse");
        let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            ["f.jsonl:5:1: too many records: the limit is 2; the rest is ignored"]
        );
    }

    #[test]
    fn serde_positions_become_byte_offsets() {
        assert_eq!(byte_offset("abc", 1, 1), 0);
        assert_eq!(byte_offset("abc", 1, 0), 0);
        assert_eq!(byte_offset("ab\ncd", 2, 2), 4);
        assert_eq!(byte_offset("ab", 7, 2), 3);
    }
}
