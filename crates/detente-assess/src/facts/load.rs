//! The JSON Lines loader.
//!
//! Each line is parsed by serde_json into the final records directly, through hand-written
//! visitors rather than derived ones, for three reasons: the error messages use the facts'
//! own words (`expected a date like …`, never a Rust type name); the visitors know which
//! field they are in, so every error names its field and points at the start of its value;
//! and nothing is buffered: `kind` comes first, so the line is read once, strings are
//! borrowed from it, dates are parsed in place and repeated names are interned.
//!
//! The commonest lines (items and events without escapes, locations or decimals) are read
//! first by a plain scanner ([`super::fast`]) that gives the same records; whatever it does
//! not recognise, errors included, goes to serde_json, which gives the messages.
//!
//! Limits ([`MAX_RECORDS`], [`MAX_ERRORS`]) are applied as if every line had been read in
//! order by one loader, even when parts of the sources were read by several
//! ([`FactsLoader::part`], [`FactsLoader::take`], [`FactsLoader::absorb`]): each loader
//! notes what every line gave (a record, an error, nothing) and [`FactsLoader::finish`]
//! replays that in line order.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use detente_lang::time::{Date, Instant};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::fast::{self, Fast};
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
///
/// Lines may also be read on several threads: each reads its share of the lines, in order,
/// with [`FactsLoader::push_line_at`] into its own [`FactsLoader::part`], hands what it read
/// over with [`FactsLoader::take`] (as often as it likes), and one loader
/// [`FactsLoader::absorb`]s every part before it finishes. The facts and errors are the same
/// as if one loader had read every line in order, whatever the order of the parts.
#[derive(Debug)]
pub struct FactsLoader {
    facts: Facts,
    /// What lines gave instead of a record, with their origins: at most one per line, in the
    /// order read (parts may append theirs out of order). Source and line are filled in when
    /// the error is reported.
    line_errors: Vec<LineError>,
    interner: Interner,
    source: u32,
    line: u64,
    /// Lines held here that count towards [`MAX_RECORDS`]: records and lines that failed to
    /// parse (blank and over-long lines do not count).
    counted: u64,
    /// Lines this loader read that count, and errors of lines it read, over its life
    /// (including what it handed over with [`FactsLoader::take`], not what it absorbed):
    /// they say when to stop reading.
    seen_counted: u64,
    seen_errors: usize,
    /// [`MAX_RECORDS`], lowered by tests.
    max_records: u64,
    /// Lines after this one are ignored: a limit was reached there among the lines this
    /// loader read (in order), so reading every line in order would have stopped there or
    /// earlier.
    stop_after: Option<Origin>,
}

#[derive(Debug)]
struct LineError {
    origin: Origin,
    error: FactError,
    /// Whether the line counts towards [`MAX_RECORDS`] (it failed to parse, rather than
    /// being too long).
    counted: bool,
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
            line_errors: Vec::new(),
            interner: Interner::default(),
            source: 0,
            line: 0,
            counted: 0,
            seen_counted: 0,
            seen_errors: 0,
            max_records: MAX_RECORDS,
            stop_after: None,
        }
    }

    /// An empty loader for the same sources, to read some of their lines on another thread
    /// with [`FactsLoader::push_line_at`]; give what it read back with
    /// [`FactsLoader::take`] and [`FactsLoader::absorb`]. It shares the names interned so far
    /// (see [`FactsLoader::intern_names`]).
    pub fn part(&self) -> FactsLoader {
        FactsLoader {
            facts: Facts {
                sources: self.facts.sources.clone(),
                ..Facts::default()
            },
            line_errors: Vec::new(),
            interner: self.interner.names_only(),
            source: self.source,
            line: self.line,
            counted: 0,
            seen_counted: 0,
            seen_errors: 0,
            max_records: self.max_records,
            stop_after: None,
        }
    }

    /// Interns `names` (a treaty's parties, categories, attribute names…) before reading, so
    /// that the records of every [`FactsLoader::part`] made afterwards share them: equal
    /// names that are one allocation compare without reading their text. The facts read are
    /// the same with or without.
    pub fn intern_names<'a>(&mut self, names: impl IntoIterator<Item = &'a str>) {
        for name in names {
            if !name.is_empty() {
                self.interner.intern(name);
            }
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
        let origin = Origin {
            source: self.source,
            line: self.line,
        };
        self.read_line(origin, line);
    }

    /// Reads the line at `origin`: line `origin.line` (from 1) of source `origin.source`
    /// (0 for the source named in [`FactsLoader::new`], then one more for each
    /// [`FactsLoader::start_source`]). A loader must be given its lines in order, though not
    /// every line (a [`FactsLoader::part`] reads only its share); the following
    /// [`FactsLoader::push_line`] reads the line after `origin`.
    pub fn push_line_at(&mut self, origin: Origin, line: &str) {
        self.source = origin.source;
        self.line = origin.line;
        self.read_line(origin, line);
    }

    /// What this loader has read so far, as a loader to [`FactsLoader::absorb`] into
    /// another; this one keeps its interned names and its position, and goes on reading.
    pub fn take(&mut self) -> FactsLoader {
        // The next part will likely be as big as this one.
        fn take_sized<T>(records: &mut Vec<T>) -> Vec<T> {
            let capacity = records.len();
            std::mem::replace(records, Vec::with_capacity(capacity))
        }
        let facts = Facts {
            sources: self.facts.sources.clone(),
            declarations: take_sized(&mut self.facts.declarations),
            items: take_sized(&mut self.facts.items),
            events: take_sized(&mut self.facts.events),
            notifications: take_sized(&mut self.facts.notifications),
            observations: take_sized(&mut self.facts.observations),
        };
        FactsLoader {
            facts,
            line_errors: std::mem::take(&mut self.line_errors),
            interner: Interner::default(),
            source: self.source,
            line: self.line,
            counted: std::mem::take(&mut self.counted),
            seen_counted: 0,
            seen_errors: 0,
            max_records: self.max_records,
            stop_after: self.stop_after,
        }
    }

    /// Takes over what `part` read (see [`FactsLoader::part`]). Its sources are those of
    /// this loader. Parts may be absorbed in any order: the limits are applied when the
    /// loader finishes, over every line.
    pub fn absorb(&mut self, part: FactsLoader) {
        let FactsLoader {
            facts,
            line_errors,
            counted,
            ..
        } = part;
        append(&mut self.facts.declarations, facts.declarations);
        append(&mut self.facts.items, facts.items);
        append(&mut self.facts.events, facts.events);
        append(&mut self.facts.notifications, facts.notifications);
        append(&mut self.facts.observations, facts.observations);
        append(&mut self.line_errors, line_errors);
        self.counted = self.counted.saturating_add(counted);
    }

    fn read_line(&mut self, origin: Origin, line: &str) {
        if self.stop_after.is_some_and(|stop| origin > stop) {
            return;
        }
        if line.len() > MAX_LINE_BYTES {
            let message = format!(
                "line is too long: {} bytes, the limit is {MAX_LINE_BYTES} bytes (1 MiB)",
                line.len()
            );
            let help = "each line holds one record; is this a JSON Lines file?";
            self.line_error(origin, limit_error(message, help), false);
            return;
        }
        let line = line.strip_suffix('\n').unwrap_or(line);
        let line = line.strip_suffix('\r').unwrap_or(line);
        let line = if origin.line == 1 {
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
        self.counted += 1;
        self.seen_counted += 1;
        if self.seen_counted > self.max_records {
            // Reading in order stops here at the latest; `finish` says where.
            self.stop_after = Some(self.stop_after.map_or(origin, |stop| stop.min(origin)));
        }
        match fast::record(line, &mut self.interner) {
            Some(Fast::Item(mut item)) => {
                item.origin = origin;
                self.facts.items.push(item);
            }
            Some(Fast::Event(mut event)) => {
                event.origin = origin;
                self.facts.events.push(event);
            }
            None => match parse_line(line, &mut self.interner) {
                Ok(record) => self.push_record(record, origin),
                Err(error) => self.line_error(origin, error, true),
            },
        }
    }

    fn line_error(&mut self, origin: Origin, error: FactError, counted: bool) {
        self.line_errors.push(LineError {
            origin,
            error,
            counted,
        });
        self.seen_errors += 1;
        if self.seen_errors > MAX_ERRORS {
            self.stop_after = Some(self.stop_after.map_or(origin, |stop| stop.min(origin)));
        }
    }

    /// The facts read, in canonical order (see [`Facts::normalize`]), and every error:
    /// those of each line in line order, then the contradictions.
    pub fn finish(self) -> (Facts, Vec<FactError>) {
        self.finish_with(|a, b| {
            a();
            b();
        })
    }

    /// [`FactsLoader::finish`], putting the items in order with one function and the other
    /// records with another: `join` must run both (on two threads, say) and return once
    /// both have returned. The result is the same however they are run.
    pub fn finish_with(
        self,
        mut join: impl FnMut(&mut (dyn FnMut() + Send), &mut (dyn FnMut() + Send)),
    ) -> (Facts, Vec<FactError>) {
        let FactsLoader {
            mut facts,
            mut line_errors,
            max_records,
            ..
        } = self;
        // Replay the lines in order: the first `max_records` counted lines are read; then
        // errors are reported until there are too many.
        let record_limit = if facts.len() + count_of(&line_errors, |e| e.counted) > max_records {
            nth_counted(&facts, &line_errors, max_records)
        } else {
            None
        };
        line_errors.sort_by_key(|e| e.origin);
        let mut report = Report::default();
        for LineError { origin, error, .. } in line_errors {
            if report.stopped.is_some() || record_limit.is_some_and(|limit| origin >= limit) {
                break;
            }
            report.error(&facts, origin, error);
        }
        if let Some(limit) = record_limit
            && report.stopped.is_none()
        {
            let message =
                format!("too many records: the limit is {max_records}; the rest is ignored");
            let help = "split the facts, or assess fewer at a time";
            report.error(&facts, limit, limit_error(message, help));
            report.stopped = Some(limit);
        }
        if let Some(stop) = report.stopped {
            retain_before(&mut facts, stop);
        }
        let contradictions = normalize::normalize_with(&mut facts, &mut join);
        for (origin, error) in contradictions {
            report.error(&facts, origin, error);
        }
        report
            .errors
            .sort_by_key(|(origin, error)| (*origin, error.column));
        let mut errors: Vec<FactError> = report.errors.into_iter().map(|(_, e)| e).collect();
        errors.extend(report.overflow);
        (facts, errors)
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
}

/// Moves `more` to the end of `all`, without copying if `all` is empty.
fn append<T>(all: &mut Vec<T>, mut more: Vec<T>) {
    if all.is_empty() && all.capacity() < more.capacity() {
        *all = more;
    } else {
        all.append(&mut more);
    }
}

fn count_of(line_errors: &[LineError], which: impl Fn(&LineError) -> bool) -> u64 {
    let count = line_errors.iter().filter(|e| which(e)).count();
    u64::try_from(count).unwrap_or(u64::MAX)
}

/// The origin of the counted line after the first `n` (records and lines that failed to
/// parse), if there are more than `n`.
fn nth_counted(facts: &Facts, line_errors: &[LineError], n: u64) -> Option<Origin> {
    let mut origins: Vec<Origin> = facts
        .declarations
        .iter()
        .map(|r| r.origin)
        .chain(facts.items.iter().map(|r| r.origin))
        .chain(facts.events.iter().map(|r| r.origin))
        .chain(facts.notifications.iter().map(|r| r.origin))
        .chain(facts.observations.iter().map(|r| r.origin))
        .chain(line_errors.iter().filter(|e| e.counted).map(|e| e.origin))
        .collect();
    let n = usize::try_from(n).ok()?;
    if n >= origins.len() {
        return None;
    }
    let (_, nth, _) = origins.select_nth_unstable(n);
    Some(*nth)
}

/// Drops the records read at or after `stop`.
fn retain_before(facts: &mut Facts, stop: Origin) {
    facts.declarations.retain(|r| r.origin < stop);
    facts.items.retain(|r| r.origin < stop);
    facts.events.retain(|r| r.origin < stop);
    facts.notifications.retain(|r| r.origin < stop);
    facts.observations.retain(|r| r.origin < stop);
}

fn limit_error(message: String, help: &str) -> FactError {
    FactError {
        kind: FactErrorKind::Limit,
        source: String::new(),
        line: 0,
        column: 1,
        field: None,
        message,
        help: Some(help.to_owned()),
    }
}

/// The errors reported, up to [`MAX_ERRORS`] and a note that there were more.
#[derive(Default)]
struct Report {
    errors: Vec<(Origin, FactError)>,
    /// The "too many errors" note, kept apart so that it is listed last.
    overflow: Option<FactError>,
    /// Where reading stopped, if it did.
    stopped: Option<Origin>,
}

impl Report {
    /// Records an error, filling in its source and line; past [`MAX_ERRORS`], notes it once
    /// and stops reading.
    fn error(&mut self, facts: &Facts, origin: Origin, mut error: FactError) {
        error.source = facts.source_name(origin).to_owned();
        error.line = origin.line;
        if self.errors.len() < MAX_ERRORS {
            self.errors.push((origin, error));
        } else if self.overflow.is_none() {
            self.stopped = Some(self.stopped.map_or(origin, |stop| stop.min(origin)));
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

/// At most this many distinct attribute sets are remembered for sharing.
const MAX_SHARED_SETS: usize = 1 << 12;
/// Attribute objects longer than this (in bytes) are not remembered by their text.
const MAX_SET_TEXT_BYTES: usize = 256;
/// Slots of the cache in front of the interned names.
const NAME_CACHE_SLOTS: usize = 256;

/// Names seen so far, shared by every record that uses them, and attribute sets.
#[derive(Debug, Default)]
pub(super) struct Interner {
    names: BTreeSet<Name>,
    /// A direct-mapped cache in front of `names`, by a hash of the text: most lines repeat a
    /// handful of names.
    name_cache: Vec<Option<Name>>,
    /// The attributes being read, kept to reuse the allocation.
    pub(super) pairs: Vec<(Name, AttrValue)>,
    /// Distinct attribute sets, by a hash of their content, so that records with the same
    /// attributes share one allocation. Bounded by [`MAX_SHARED_SETS`]: past it, new sets
    /// are not shared.
    sets: BTreeMap<u64, Vec<Attributes>>,
    shared_sets: usize,
    /// Attribute objects by their exact text (`{"mirv":true}`), for the scanner: a line
    /// whose attributes are written as an earlier line's need not parse them again.
    set_texts: BTreeMap<u64, Vec<(Arc<str>, Attributes)>>,
    shared_texts: usize,
    /// The last attribute object [`Interner::set_by_text`] found, and its text.
    last_set: Option<(Arc<str>, Attributes)>,
    /// The last id read: the records of one item usually follow each other.
    last_id: Option<Arc<str>>,
}

impl Interner {
    pub(super) fn intern(&mut self, text: &str) -> Name {
        let slot = name_slot(text.as_bytes());
        if let Some(Some(name)) = self.name_cache.get(slot)
            && **name == *text
        {
            return name.clone();
        }
        let name = match self.names.get(text) {
            Some(name) => name.clone(),
            None => {
                let name: Name = Name::from(text);
                self.names.insert(name.clone());
                name
            }
        };
        if self.name_cache.is_empty() {
            self.name_cache.resize(NAME_CACHE_SLOTS, None);
        }
        if let Some(cached) = self.name_cache.get_mut(slot) {
            *cached = Some(name.clone());
        }
        name
    }

    /// An interner with the same names, and nothing else.
    fn names_only(&self) -> Interner {
        Interner {
            names: self.names.clone(),
            name_cache: self.name_cache.clone(),
            ..Interner::default()
        }
    }

    /// A record id, shared with the previous one if they are the same.
    pub(super) fn id(&mut self, text: &str) -> Arc<str> {
        if let Some(last) = &self.last_id
            && **last == *text
        {
            return last.clone();
        }
        let id: Arc<str> = Arc::from(text);
        self.last_id = Some(id.clone());
        id
    }

    /// An empty attribute set, shared like any other.
    pub(super) fn no_attributes(&mut self) -> Attributes {
        self.pairs.clear();
        self.attributes().unwrap_or_default()
    }

    /// The attributes in `pairs`, sorted, shared with an identical earlier set if any; a
    /// name given twice is the error.
    pub(super) fn attributes(&mut self) -> Result<Attributes, Name> {
        sort_pairs(&mut self.pairs)?;
        let key = hash_pairs(&self.pairs);
        let found = self.sets.get(&key).and_then(|sets| {
            sets.iter()
                .find(|set| cmp_pairs(&set.0, &self.pairs).is_eq())
                .cloned()
        });
        let set = match found {
            Some(set) => set,
            None => {
                let set = Attributes(Arc::from(self.pairs.as_slice()));
                if self.shared_sets < MAX_SHARED_SETS {
                    self.shared_sets += 1;
                    self.sets.entry(key).or_default().push(set.clone());
                }
                set
            }
        };
        self.pairs.clear();
        Ok(set)
    }

    /// The set an attribute object written exactly as `text` was read as before.
    pub(super) fn set_by_text(&mut self, text: &str) -> Option<Attributes> {
        // Successive records of an item usually have the same attributes.
        if let Some((last, set)) = &self.last_set
            && **last == *text
        {
            return Some(set.clone());
        }
        let set = self
            .set_texts
            .get(&hash_bytes(text.as_bytes()))?
            .iter()
            .find(|(known, _)| **known == *text)
            .map(|(known, set)| (known.clone(), set.clone()))?;
        self.last_set = Some(set.clone());
        Some(set.1)
    }

    /// Remembers that the attribute object written `text` reads as `set`.
    pub(super) fn remember_text(&mut self, text: &str, set: &Attributes) {
        if self.shared_texts < MAX_SHARED_SETS && text.len() <= MAX_SET_TEXT_BYTES {
            self.shared_texts += 1;
            self.set_texts
                .entry(hash_bytes(text.as_bytes()))
                .or_default()
                .push((Arc::from(text), set.clone()));
        }
    }
}

/// The slot of a name in the interner's cache: a hash of its length and three of its
/// bytes, enough to tell a treaty's names apart (a clash only costs a lookup).
fn name_slot(bytes: &[u8]) -> usize {
    let byte = |at: usize| u64::from(bytes.get(at).copied().unwrap_or(0));
    let len = bytes.len();
    let mixed = (len as u64 ^ byte(0) << 8 ^ byte(len / 2) << 16 ^ byte(len.wrapping_sub(1)) << 24)
        .wrapping_mul(0x9e37_79b9_7f4a_7c15);
    usize::try_from(mixed >> 56).unwrap_or(0) % NAME_CACHE_SLOTS
}

/// A 64-bit hash for lookups in the interner's tables (never for ordering anything).
fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut hash = Hasher::default();
    hash.bytes(bytes);
    hash.finish()
}

fn hash_pairs(pairs: &[(Name, AttrValue)]) -> u64 {
    let mut hash = Hasher::default();
    for (name, value) in pairs {
        hash.bytes(name.as_bytes());
        match value {
            AttrValue::Bool(b) => hash.word(u64::from(*b)),
            // Decimals compare by their bits (`total_cmp`), so they hash by them too.
            AttrValue::Int(i) => hash.word(1 ^ i.cast_unsigned().rotate_left(8)),
            AttrValue::Decimal(d) => hash.word(2 ^ d.to_bits().rotate_left(8)),
            AttrValue::Text(t) => {
                hash.word(3);
                hash.bytes(t.as_bytes());
            }
        }
    }
    hash.finish()
}

/// A small multiplicative hash, word by word.
#[derive(Default)]
struct Hasher(u64);

impl Hasher {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;

    fn word(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(26) ^ word).wrapping_mul(Self::K);
    }

    fn bytes(&mut self, bytes: &[u8]) {
        let word =
            |bytes: &[u8]| u64::from_le_bytes(<[u8; 8]>::try_from(bytes).unwrap_or_default());
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            self.word(word(w));
        }
        let rest = words.remainder();
        let last = if rest.is_empty() {
            0
        } else if let Some(tail) = bytes.len().checked_sub(8).and_then(|at| bytes.get(at..)) {
            // The last 8 bytes, overlapping the last whole word.
            word(tail)
        } else {
            rest.iter().rev().fold(0u64, |w, b| w << 8 | u64::from(*b))
        };
        // The length ends the text, so that "ab" then "c" differs from "a" then "bc".
        self.word(last ^ (bytes.len() as u64).rotate_right(8));
    }

    fn finish(&self) -> u64 {
        self.0 ^ (self.0 >> 29)
    }
}

pub(super) enum Record {
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
            "id" => field(map, ctx, &mut id, "id", SharedIdExpect)?,
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
            "id" => field(map, ctx, &mut id, "id", SharedIdExpect)?,
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

/// The id of an item or an event, shared with the previous record's if the same.
struct SharedIdExpect;

impl<'de> Expect<'de> for SharedIdExpect {
    type Value = Arc<str>;

    fn expected(&self) -> &'static str {
        IdExpect.expected()
    }

    fn str<E: de::Error>(self, ctx: &mut Ctx<'_>, v: &str) -> Result<Arc<str>, E> {
        if v.is_empty() {
            return IdExpect.str(ctx, v).map(Arc::from);
        }
        Ok(ctx.interner.id(v))
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

    /// A small deterministic generator (xorshift).
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            usize::try_from(self.0 % u64::try_from(n.max(1)).unwrap_or(1)).unwrap_or(0)
        }
    }

    /// Lines of the kinds the scanner reads, in several spellings.
    const PLAIN: &[&str] = &[
        r#"{"kind":"item","party":"P05","id":"P05-acv-000000","category":"acv","attributes":{"variant":"hacv","active_unit":true},"from":"2013-05-28","until":"2014-08-08"}"#,
        r#"{"kind": "item", "party": "US", "id": "m1", "category": "icbm", "attributes": {"mirv": true, "w": -12, "b": "silo"}, "location": null, "from": "1979-01-01T10:00:00Z", "until": null}"#,
        r#" { "kind" : "event" , "party" : "P01" , "id" : "P01-export-0000001" , "type" : "equipment_export" , "at" : "2001-02-03T04:05:06Z" , "attributes" : { "units" : 5 } } "#,
        r#"{"kind":"event","party":"P01","id":"e","type":"t","at":"2001-02-03","location":null,"attributes":null}"#,
        r#"{"kind":"item","party":"P","id":"i","category":"c","attributes":{},"from":"2001-01-01"}"#,
        r#"{"kind":"item","party":"P","id":"i","category":"c","attributes":{"a":0,"b":false,"c":"é}","d":123456789012345678},"from":"2001-01-01"}"#,
        r#"{"kind":"item","until":"2001-01-02","from":"2001-01-01","attributes":{"z":1,"a":2},"category":"c","id":"i","party":"P"}"#,
    ];

    /// Pieces to insert into a line: JSON punctuation, escapes, numbers, literals.
    const PIECES: &[&str] = &[
        "\"",
        "\\",
        "{",
        "}",
        ",",
        ":",
        " ",
        "\t",
        "0",
        "1",
        "-",
        ".",
        "e",
        "E",
        "n",
        "null",
        "true",
        "x",
        "\u{1}",
        "é",
        "\"a\":1,",
        "}}",
        "\\u0041",
        "9999999999999999999",
        "-0",
        "\"kind\":\"item\",",
        "\"until\":\"2000-01-01\",",
        "\"location\":{\"lat\":1,\"lon\":2},",
    ];

    fn same_record(a: &Fast, b: &Record) -> bool {
        match (a, b) {
            (Fast::Item(a), Record::Item(b)) => a == b,
            (Fast::Event(a), Record::Event(b)) => a == b,
            _ => false,
        }
    }

    #[test]
    fn the_scanner_reads_what_serde_reads() {
        let mut rng = Rng(0x5eed_1990_1119);
        // Interners that live across lines, as in a load, so that their caches are used.
        let mut scanner = Interner::default();
        let mut serde = Interner::default();
        let mut read = 0;
        for round in 0..40_000 {
            let mut line = PLAIN
                .get(rng.below(PLAIN.len()))
                .copied()
                .unwrap_or("")
                .to_owned();
            for _ in 0..rng.below(3) {
                let mut at = rng.below(line.len() + 1);
                while !line.is_char_boundary(at) {
                    at -= 1;
                }
                match rng.below(3) {
                    0 => line.insert_str(at, PIECES.get(rng.below(PIECES.len())).unwrap_or(&"")),
                    1 => {
                        let mut end = (at + 1 + rng.below(4)).min(line.len());
                        while !line.is_char_boundary(end) {
                            end += 1;
                        }
                        line.replace_range(at..end, "");
                    }
                    _ => {
                        let mut end = (at + 1).min(line.len());
                        while !line.is_char_boundary(end) {
                            end += 1;
                        }
                        let piece = PIECES.get(rng.below(PIECES.len())).unwrap_or(&"");
                        line.replace_range(at..end, piece);
                    }
                }
            }
            let by_serde = parse_line(&line, &mut serde);
            if let Some(record) = fast::record(&line, &mut scanner) {
                let agrees = by_serde.is_ok_and(|by_serde| same_record(&record, &by_serde));
                assert!(agrees, "round {round}: the scanner misreads {line}");
                read += 1;
            }
        }
        // The unchanged lines, at least, are the scanner's.
        assert!(read > 10_000, "the scanner read only {read} lines");
    }

    /// The loader as it was before it could read in parts: it applied the limits line by
    /// line, as it read them. The model the loader is checked against.
    fn read_in_order(max_records: u64, sources: &[&[String]]) -> (Facts, Vec<FactError>) {
        let mut store = FactsLoader::new("f.jsonl");
        let mut errors: Vec<(Origin, FactError)> = Vec::new();
        let mut overflow: Option<FactError> = None;
        let mut stopped = false;
        let mut records = 0u64;
        let mut error = |facts: &Facts, stopped: &mut bool, origin: Origin, mut e: FactError| {
            e.source = facts.source_name(origin).to_owned();
            e.line = origin.line;
            if errors.len() < MAX_ERRORS {
                errors.push((origin, e));
            } else if overflow.is_none() {
                *stopped = true;
                overflow = Some(FactError {
                    kind: FactErrorKind::Limit,
                    message: format!("too many errors: only the first {MAX_ERRORS} are shown"),
                    help: Some("fix these and load again".to_owned()),
                    column: 0,
                    field: None,
                    ..e
                });
            }
        };
        for (source, lines) in sources.iter().enumerate() {
            if source > 0 {
                store.start_source("g.jsonl");
            }
            for (n, line) in lines.iter().enumerate() {
                let origin = Origin {
                    source: u32::try_from(source).unwrap_or(0),
                    line: u64::try_from(n + 1).unwrap_or(0),
                };
                if stopped {
                    continue;
                }
                if line.len() > MAX_LINE_BYTES {
                    let message = format!(
                        "line is too long: {} bytes, the limit is {MAX_LINE_BYTES} bytes (1 MiB)",
                        line.len()
                    );
                    let e = limit_error(
                        message,
                        "each line holds one record; is this a JSON Lines file?",
                    );
                    error(&store.facts, &mut stopped, origin, e);
                    continue;
                }
                let line = if n == 0 {
                    line.strip_prefix('\u{feff}').unwrap_or(line)
                } else {
                    line
                };
                if line
                    .bytes()
                    .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
                {
                    continue;
                }
                records += 1;
                if records > max_records {
                    let message = format!(
                        "too many records: the limit is {max_records}; the rest is ignored"
                    );
                    let e = limit_error(message, "split the facts, or assess fewer at a time");
                    error(&store.facts, &mut stopped, origin, e);
                    stopped = true;
                    continue;
                }
                match parse_line(line, &mut store.interner) {
                    Ok(record) => store.push_record(record, origin),
                    Err(e) => error(&store.facts, &mut stopped, origin, e),
                }
            }
        }
        let mut facts = store.facts;
        for (origin, e) in normalize::normalize(&mut facts) {
            error(&facts, &mut stopped, origin, e);
        }
        errors.sort_by_key(|(origin, e)| (*origin, e.column));
        let mut errors: Vec<FactError> = errors.into_iter().map(|(_, e)| e).collect();
        errors.extend(overflow);
        (facts, errors)
    }

    /// Every line pushed to one loader, and the same lines read by parts of two threads'
    /// worth in chunks, absorbed in order and in reverse, give the same facts and errors as
    /// [`read_in_order`].
    fn check_parts(max_records: u64, sources: &[&[String]]) {
        let reference = read_in_order(max_records, sources);
        let pushed = {
            let mut loader = FactsLoader::new("f.jsonl");
            loader.max_records = max_records;
            for (source, lines) in sources.iter().enumerate() {
                if source > 0 {
                    loader.start_source("g.jsonl");
                }
                for line in *lines {
                    loader.push_line(line);
                }
            }
            loader.finish()
        };
        assert!(
            pushed == reference,
            "limit {max_records}: {:#?}\nand\n{:#?}",
            pushed.1,
            reference.1
        );
        for chunk in [1, 3, 64] {
            for reversed in [false, true] {
                let mut main = FactsLoader::new("f.jsonl");
                main.max_records = max_records;
                let mut parts = [main.part(), main.part()];
                let mut taken = Vec::new();
                let mut sent = 0;
                for (source, lines) in sources.iter().enumerate() {
                    if source > 0 {
                        main.start_source("g.jsonl");
                    }
                    let source = u32::try_from(source).unwrap_or(0);
                    for (n, lines) in lines.chunks(chunk).enumerate() {
                        sent += 1;
                        let Some(part) = parts.get_mut(sent % 2) else {
                            continue;
                        };
                        for (k, text) in lines.iter().enumerate() {
                            let line = u64::try_from(n * chunk + k + 1).unwrap_or(0);
                            part.push_line_at(Origin { source, line }, text);
                        }
                        taken.push(part.take());
                    }
                }
                if reversed {
                    taken.reverse();
                }
                for part in taken {
                    main.absorb(part);
                }
                let parted = main.finish();
                assert!(
                    parted == reference,
                    "chunks of {chunk}, reversed {reversed}, limit {max_records}: {:#?}\nand\n{:#?}",
                    parted.1,
                    reference.1
                );
            }
        }
    }

    #[test]
    fn parts_read_like_one_loader() {
        let item = |i: usize, from: &str| {
            format!(
                r#"{{"kind":"item","party":"P{}","id":"i{}","category":"c","from":"{from}"}}"#,
                i % 3,
                i % 7
            )
        };
        // Records, blank lines, errors, contradictions, a BOM (which only line 1 may have).
        let mut lines = vec![format!("\u{feff}{}", item(0, "2001-01-01"))];
        for i in 1..60 {
            lines.push(match i % 6 {
                0 => String::new(),
                1 => "garbage".to_owned(),
                2 => format!("\u{feff}{}", item(i, "2002-01-01")),
                3 => item(i, "2003-01-01"),
                _ => item(i, &format!("20{:02}-01-01", 10 + i)),
            });
        }
        let more: Vec<String> = lines.iter().rev().cloned().collect();
        for limit in [MAX_RECORDS, 1, 5, 17, 40, 45] {
            check_parts(limit, &[&lines]);
            check_parts(limit, &[&lines, &more]);
        }
        // Too many errors, with records between them; then the record limit at the same line.
        let garbage: Vec<String> = (0..MAX_ERRORS * 5 / 2)
            .map(|i| {
                if i % 10 == 0 {
                    item(i, "2001-01-01")
                } else {
                    "x".to_owned()
                }
            })
            .collect();
        check_parts(MAX_RECORDS, &[&garbage]);
        check_parts(u64::try_from(MAX_ERRORS).unwrap_or(0), &[&garbage]);
        // Lines too long, which are errors but not records.
        let long = vec![
            item(1, "2001-01-01"),
            "x".repeat(MAX_LINE_BYTES + 1),
            item(2, "2001-01-01"),
        ];
        check_parts(1, &[&long]);
        check_parts(MAX_RECORDS, &[&long]);
    }

    #[test]
    fn serde_positions_become_byte_offsets() {
        assert_eq!(byte_offset("abc", 1, 1), 0);
        assert_eq!(byte_offset("abc", 1, 0), 0);
        assert_eq!(byte_offset("ab\ncd", 2, 2), 4);
        assert_eq!(byte_offset("ab", 7, 2), 3);
    }
}
