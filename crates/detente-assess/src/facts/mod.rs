//! The facts: what the parties declared, held, did, notified and observed.
//!
//! Facts arrive as JSON Lines (one record per line, `"kind"` first; see `docs/` and the
//! "Contracts" section of the design). [`FactsLoader`] reads them line by line without doing
//! any I/O itself: the caller reads the file and feeds it lines, so the same code serves the
//! CLI, the server and tests. Loading never panics and never stops at the first problem: it
//! returns the facts it could read and a list of [`FactError`]s, each pointing at a file, a
//! line, a column and a field.
//!
//! Once loaded, [`Facts`] are in a canonical order (by party, then id or date, then content,
//! then origin), so the same facts in any line order compare equal apart from their
//! origins. Contradictions between records (an item recorded twice over overlapping
//! intervals, a quantity declared twice with two values, an id reused for different
//! content) are errors. [`Facts::validate`] then checks the names and attribute types
//! against a treaty's [`Vocabulary`].
//!
//! Names that repeat on every line (parties, categories, event types, attribute names) are
//! interned as [`Name`]s, so two million items share a handful of strings.

mod error;
mod fast;
mod load;
mod locate;
mod normalize;
mod validate;
mod write;

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use detente_lang::time::{Date, Instant};

use crate::geo::{Point, Polygon};

pub use error::{FactError, FactErrorKind};
pub use load::{FactsLoader, load_str};
pub use locate::locate_column;
pub use validate::{AttrType, Vocabulary};

/// The most bytes one line may hold (1 MiB).
pub const MAX_LINE_BYTES: usize = 1 << 20;
/// The most records one loader accepts, over all its sources.
pub const MAX_RECORDS: u64 = 10_000_000;
/// The most errors reported by one load or one validation; past it, loading stops.
pub const MAX_ERRORS: usize = 1000;

/// An interned name: a party, a category, an event type, a quantity, a provision, a zone
/// or an attribute name. Compares by content.
pub type Name = Arc<str>;

/// Where a record came from: the index of its source in [`Facts::sources`] and its 1-based
/// line number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Origin {
    pub source: u32,
    pub line: u64,
}

/// A declared quantity: JSON integers are `Int`, numbers with a fraction or an exponent are
/// `Decimal`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    Int(i64),
    Decimal(f64),
}

impl Number {
    /// The value as a decimal (an `Int` beyond 2^53 rounds).
    pub fn as_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Decimal(d) => d,
        }
    }

    /// Whether two numbers have the same value (`2400` and `2400.0` do).
    pub fn same_value(self, other: Number) -> bool {
        match (self, other) {
            (Number::Int(a), Number::Int(b)) => a == b,
            (a, b) => a.as_f64() == b.as_f64(),
        }
    }

    fn total_cmp(&self, other: &Number) -> Ordering {
        match (self, other) {
            (Number::Int(a), Number::Int(b)) => a.cmp(b),
            (Number::Decimal(a), Number::Decimal(b)) => a.total_cmp(b),
            (Number::Int(_), Number::Decimal(_)) => Ordering::Less,
            (Number::Decimal(_), Number::Int(_)) => Ordering::Greater,
        }
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Number::Int(i) => write!(f, "{i}"),
            Number::Decimal(d) => write!(f, "{d:?}"),
        }
    }
}

/// The value of an attribute of an item, an event or an observation.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    Bool(bool),
    Int(i64),
    Decimal(f64),
    Text(String),
}

impl AttrValue {
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            AttrValue::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The value of a numeric attribute; an `Int` widens to a decimal.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            AttrValue::Int(i) => Some(*i as f64),
            AttrValue::Decimal(d) => Some(*d),
            _ => None,
        }
    }

    pub fn as_text(&self) -> Option<&str> {
        match self {
            AttrValue::Text(t) => Some(t),
            _ => None,
        }
    }

    fn rank(&self) -> u8 {
        match self {
            AttrValue::Bool(_) => 0,
            AttrValue::Int(_) => 1,
            AttrValue::Decimal(_) => 2,
            AttrValue::Text(_) => 3,
        }
    }

    fn total_cmp(&self, other: &AttrValue) -> Ordering {
        match (self, other) {
            (AttrValue::Bool(a), AttrValue::Bool(b)) => a.cmp(b),
            (AttrValue::Int(a), AttrValue::Int(b)) => a.cmp(b),
            (AttrValue::Decimal(a), AttrValue::Decimal(b)) => a.total_cmp(b),
            (AttrValue::Text(a), AttrValue::Text(b)) => a.cmp(b),
            (a, b) => a.rank().cmp(&b.rank()),
        }
    }
}

/// Written as JSON: `true`, `5`, `1.5`, `"silo"`.
impl fmt::Display for AttrValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttrValue::Bool(b) => write!(f, "{b}"),
            AttrValue::Int(i) => write!(f, "{i}"),
            AttrValue::Decimal(d) => write!(f, "{d:?}"),
            AttrValue::Text(t) => {
                let mut out = String::new();
                write::json_string(&mut out, t);
                f.write_str(&out)
            }
        }
    }
}

/// Attributes sorted by name, each name once.
///
/// The list is shared: the loader gives records with identical attributes (two million
/// launchers with `{"mirv": true, "mobile": false}`) one allocation between them.
#[derive(Debug, Clone, PartialEq)]
pub struct Attributes(Arc<[(Name, AttrValue)]>);

impl Default for Attributes {
    fn default() -> Attributes {
        Attributes(Arc::from(Vec::new()))
    }
}

impl Attributes {
    /// Attributes from pairs in any order; a name given twice is returned as the error.
    pub fn new(mut pairs: Vec<(Name, AttrValue)>) -> Result<Attributes, Name> {
        sort_pairs(&mut pairs)?;
        Ok(Attributes(Arc::from(pairs)))
    }

    pub fn get(&self, name: &str) -> Option<&AttrValue> {
        self.0
            .binary_search_by(|(n, _)| (**n).cmp(name))
            .ok()
            .and_then(|index| self.0.get(index))
            .map(|(_, value)| value)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Name, &AttrValue)> {
        self.0.iter().map(|(name, value)| (name, value))
    }

    pub fn as_slice(&self) -> &[(Name, AttrValue)] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn total_cmp(&self, other: &Attributes) -> Ordering {
        if Arc::ptr_eq(&self.0, &other.0) {
            return Ordering::Equal;
        }
        cmp_pairs(&self.0, &other.0)
    }
}

/// Sorts attribute pairs by name; a name given twice is returned as the error.
fn sort_pairs(pairs: &mut [(Name, AttrValue)]) -> Result<(), Name> {
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    for pair in pairs.windows(2) {
        if let [(a, _), (b, _)] = pair
            && a == b
        {
            return Err(a.clone());
        }
    }
    Ok(())
}

fn cmp_pairs(a: &[(Name, AttrValue)], b: &[(Name, AttrValue)]) -> Ordering {
    let mut a = a.iter();
    let mut b = b.iter();
    loop {
        match (a.next(), b.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some((na, va)), Some((nb, vb))) => {
                let order = cmp_name(na, nb).then_with(|| va.total_cmp(vb));
                if order != Ordering::Equal {
                    return order;
                }
            }
        }
    }
}

/// A party's statement of quantities as of a date.
#[derive(Debug, Clone, PartialEq)]
pub struct Declaration {
    pub party: Name,
    pub as_of: Date,
    /// Sorted by name, each name once.
    pub quantities: Vec<(Name, Number)>,
    pub id: Option<String>,
    /// When the declaration was delivered (an extension of the contract), to judge lateness.
    pub delivered_at: Option<Instant>,
    pub origin: Origin,
}

impl Declaration {
    pub fn quantity(&self, name: &str) -> Option<Number> {
        self.quantities
            .binary_search_by(|(n, _)| (**n).cmp(name))
            .ok()
            .and_then(|index| self.quantities.get(index))
            .map(|(_, value)| *value)
    }
}

/// A treaty-accountable item over its interval of existence `[from, until)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub party: Name,
    /// Shared by successive records of the same item, as the loader reads them.
    pub id: Arc<str>,
    pub category: Name,
    pub attributes: Attributes,
    pub location: Option<Point>,
    /// A bare date in the facts means midnight UTC.
    pub from: Instant,
    /// Exclusive; `None` means the item still exists.
    pub until: Option<Instant>,
    pub origin: Origin,
}

impl Item {
    /// Whether the item exists at `at`: `from <= at < until`.
    pub fn exists_at(&self, at: Instant) -> bool {
        self.from <= at && self.until.is_none_or(|until| at < until)
    }
}

/// Something that happened at an instant.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub party: Name,
    pub id: Arc<str>,
    /// The record's `type`.
    pub event_type: Name,
    pub at: Instant,
    pub location: Option<Point>,
    pub attributes: Attributes,
    pub origin: Origin,
}

/// A closed interval of instants, `from <= t <= to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Window {
    pub from: Instant,
    pub to: Instant,
}

impl Window {
    pub fn contains(&self, at: Instant) -> bool {
        self.from <= at && at <= self.to
    }
}

/// A launch or impact area stated in a notification.
#[derive(Debug, Clone, PartialEq)]
pub enum Area {
    /// A great-circle disc; `radius_nmi` in the facts is converted to kilometres.
    Circle { center: Point, radius_km: f64 },
    /// One ring, as listed (no holes).
    Polygon(Polygon),
    /// A zone named by the treaty; the caller resolves it.
    Zone(Name),
}

impl Area {
    /// Whether `p` is in the area, edges included; `None` for a zone, which the caller must
    /// resolve against the treaty.
    pub fn contains(&self, p: Point) -> Option<bool> {
        match self {
            Area::Circle { center, radius_km } => Some(
                crate::geo::Shape::Circle {
                    center: *center,
                    radius_km: *radius_km,
                }
                .contains(p),
            ),
            Area::Polygon(polygon) => Some(polygon.contains(p)),
            Area::Zone(_) => None,
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Area::Circle { .. } => 0,
            Area::Polygon(_) => 1,
            Area::Zone(_) => 2,
        }
    }

    fn total_cmp(&self, other: &Area) -> Ordering {
        match (self, other) {
            (
                Area::Circle {
                    center: ca,
                    radius_km: ra,
                },
                Area::Circle {
                    center: cb,
                    radius_km: rb,
                },
            ) => cmp_point(ca, cb).then_with(|| ra.total_cmp(rb)),
            (Area::Polygon(a), Area::Polygon(b)) => cmp_points(&a.outer, &b.outer),
            (Area::Zone(a), Area::Zone(b)) => cmp_name(a, b),
            (a, b) => a.rank().cmp(&b.rank()),
        }
    }
}

/// A party's notice of a future event. The stated fields are optional here because a
/// missing one is a finding of the treaty's `notify` provision, not a load error.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub party: Name,
    pub id: String,
    pub provision: Name,
    pub event_type: Name,
    pub sent_at: Instant,
    pub received_at: Option<Instant>,
    pub window: Option<Window>,
    pub launch_area: Option<Area>,
    pub impact_area: Option<Area>,
    pub origin: Origin,
}

/// What `observer` saw of `party`.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    pub observer: Name,
    pub party: Name,
    pub id: String,
    /// The record's `type`: an event type or a category.
    pub observed_type: Name,
    pub at: Instant,
    pub launch_point: Option<Point>,
    pub impact_point: Option<Point>,
    pub location: Option<Point>,
    /// Body-wave magnitude of a seismic event.
    pub mb: Option<f64>,
    /// The category of an item that was seen.
    pub category: Option<Name>,
    pub attributes: Attributes,
    pub origin: Origin,
}

/// All the facts of an assessment, in canonical order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Facts {
    /// Source names (file names), indexed by [`Origin::source`].
    pub sources: Vec<String>,
    /// By party, as-of date, then content.
    pub declarations: Vec<Declaration>,
    /// By party, id, `from`, then content.
    pub items: Vec<Item>,
    /// By party, id, `at`, then content.
    pub events: Vec<Event>,
    /// By party, id, `sent_at`, then content.
    pub notifications: Vec<Notification>,
    /// By observer, id, then content.
    pub observations: Vec<Observation>,
}

/// One record of any kind, as the places that treat every kind alike see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordRef<'a> {
    /// The facts contract's kind: `declaration`, `item`, `event`, `notification`,
    /// `observation`.
    pub kind: &'static str,
    /// Its id (a declaration may have none).
    pub id: Option<&'a str>,
    pub origin: Origin,
    /// The party it is about.
    pub party: &'a str,
    /// The party that speaks for it: its `observer` for an observation, else its `party`.
    pub speaker: &'a str,
}

impl Facts {
    /// Every record: declarations, items, events, notifications, then observations, each
    /// kind in its canonical order.
    pub fn records(&self) -> impl Iterator<Item = RecordRef<'_>> {
        let declarations = self.declarations.iter().map(|d| RecordRef {
            kind: "declaration",
            id: d.id.as_deref(),
            origin: d.origin,
            party: &d.party,
            speaker: &d.party,
        });
        let items = self.items.iter().map(|i| RecordRef {
            kind: "item",
            id: Some(&i.id),
            origin: i.origin,
            party: &i.party,
            speaker: &i.party,
        });
        let events = self.events.iter().map(|e| RecordRef {
            kind: "event",
            id: Some(&e.id),
            origin: e.origin,
            party: &e.party,
            speaker: &e.party,
        });
        let notifications = self.notifications.iter().map(|n| RecordRef {
            kind: "notification",
            id: Some(&n.id),
            origin: n.origin,
            party: &n.party,
            speaker: &n.party,
        });
        let observations = self.observations.iter().map(|o| RecordRef {
            kind: "observation",
            id: Some(&o.id),
            origin: o.origin,
            party: &o.party,
            speaker: &o.observer,
        });
        declarations
            .chain(items)
            .chain(events)
            .chain(notifications)
            .chain(observations)
    }

    /// The name of the source an origin points into (empty if unknown).
    pub fn source_name(&self, origin: Origin) -> &str {
        usize::try_from(origin.source)
            .ok()
            .and_then(|index| self.sources.get(index))
            .map_or("", String::as_str)
    }

    /// How many records there are, of every kind.
    pub fn len(&self) -> u64 {
        [
            self.declarations.len(),
            self.items.len(),
            self.events.len(),
            self.notifications.len(),
            self.observations.len(),
        ]
        .into_iter()
        .map(|n| u64::try_from(n).unwrap_or(u64::MAX))
        .fold(0, u64::saturating_add)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The facts of both, in canonical order, with `other`'s sources numbered after this
    /// one's. Contradictions between the two are reported as with [`Facts::normalize`].
    pub fn merge(mut self, other: Facts) -> (Facts, Vec<FactError>) {
        let offset = u32::try_from(self.sources.len()).unwrap_or(u32::MAX);
        let shift = |origin: &mut Origin| origin.source = origin.source.saturating_add(offset);
        self.sources.extend(other.sources);
        for mut d in other.declarations {
            shift(&mut d.origin);
            self.declarations.push(d);
        }
        for mut i in other.items {
            shift(&mut i.origin);
            self.items.push(i);
        }
        for mut e in other.events {
            shift(&mut e.origin);
            self.events.push(e);
        }
        for mut n in other.notifications {
            shift(&mut n.origin);
            self.notifications.push(n);
        }
        for mut o in other.observations {
            shift(&mut o.origin);
            self.observations.push(o);
        }
        let errors = self.normalize();
        (self, errors)
    }

    /// Puts every list in canonical order, drops records identical to an earlier one (by
    /// origin) but for their origin, and reports contradictions: an item recorded twice
    /// over overlapping intervals, a quantity declared by one party as of one date with two
    /// values, and an event, notification or observation id reused for different content.
    /// Contradicting records are all kept. [`FactsLoader::finish`] calls this; call it
    /// yourself after building or changing facts by hand.
    /// The errors are sorted by origin.
    pub fn normalize(&mut self) -> Vec<FactError> {
        let mut errors = normalize::normalize(self);
        errors.sort_by_key(|(origin, _)| *origin);
        errors.into_iter().map(|(_, error)| error).collect()
    }

    /// The facts as JSON Lines, one record per line in canonical order, each line ending in
    /// `\n`. Loading the text gives the same facts (with new origins).
    pub fn to_json_lines(&self) -> String {
        write::facts(self)
    }
}

fn cmp_name(a: &Name, b: &Name) -> Ordering {
    if Arc::ptr_eq(a, b) {
        Ordering::Equal
    } else {
        a.cmp(b)
    }
}

fn cmp_point(a: &Point, b: &Point) -> Ordering {
    a.lat
        .total_cmp(&b.lat)
        .then_with(|| a.lon.total_cmp(&b.lon))
}

fn cmp_points(a: &[Point], b: &[Point]) -> Ordering {
    let mut a = a.iter();
    let mut b = b.iter();
    loop {
        match (a.next(), b.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(pa), Some(pb)) => {
                let order = cmp_point(pa, pb);
                if order != Ordering::Equal {
                    return order;
                }
            }
        }
    }
}

fn cmp_option<T>(a: &Option<T>, b: &Option<T>, cmp: impl FnOnce(&T, &T) -> Ordering) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(a), Some(b)) => cmp(a, b),
    }
}
