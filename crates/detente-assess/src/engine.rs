//! The engine: a checked treaty and facts in, findings out.
//!
//! [`Engine::new`] indexes the facts once: for every count or sum a quantity uses, and every
//! party, the matching items' start and end instants (and attribute values) are sorted with
//! prefix sums, and matching events are sorted by time. Evaluating a quantity at an instant
//! is then a few binary searches, so [`Engine::assess`] at one instant and
//! [`Engine::timeline`] over hundreds of instants both cost one pass over the facts plus
//! logarithmic work per instant.

use crate::facts::{Declaration, Event, Facts, Item, Number, Observation};
use crate::geo::{Point, Shape, great_circle_km, yield_kt};
use crate::report::*;
use crate::value::{self, EvalResult, Missing, Value, eval};
use detente_lang::ast::{CmpOp, ProvisionKind, Subject};
use detente_lang::model::{
    AggFunc, AggWindow, Aggregate, Expr, Group, Provision, Quantity, Rule, Schedule, Treaty, Type,
    ZoneSource,
};
use detente_lang::time::{Date, Duration, Instant, TimeUnit};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

/// A notification whose window misses an event by at most this much is reported as
/// `outside_notified_window` rather than `unnotified_event` (the 1988 agreement's 24 h).
const NEAR_WINDOW_SECONDS: i64 = 24 * 3600;
/// A seismic observation is explained by a declared explosion within this distance on the
/// same UTC day.
const EXPLAINED_WITHIN_KM: f64 = 50.0;
/// The most fact ids one violation lists.
const MAX_EVIDENCE_IDS: usize = 1000;
/// Default magnitude–yield constants, used when the treaty has no `mb_a`/`mb_b` params.
const DEFAULT_MB_A: f64 = 4.45;
const DEFAULT_MB_B: f64 = 0.75;

/// How an assessment is set up beyond the treaty and the facts.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Param overrides (`--set name=value`), as text; parsed against each param's type.
    pub params: BTreeMap<String, String>,
    pub assume_in_force: Option<Date>,
    pub interpretation: Option<String>,
}

/// Where the report says it came from: the treaty source hash and the inputs.
#[derive(Debug, Clone, Default)]
pub struct Provenance {
    pub source_sha256: String,
    pub inputs: Vec<InputRef>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineError {
    UnknownInterpretation {
        name: String,
        help: Option<String>,
    },
    UnknownParam {
        name: String,
        help: Option<String>,
    },
    BadParamValue {
        name: String,
        expected: String,
        found: String,
    },
    MissingZone {
        name: String,
    },
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineError::UnknownInterpretation { name, help } => {
                write!(f, "the treaty has no interpretation `{name}`")?;
                if let Some(h) = help {
                    write!(f, "; {h}")?;
                }
                Ok(())
            }
            EngineError::UnknownParam { name, help } => {
                write!(f, "the treaty has no param `{name}`")?;
                if let Some(h) = help {
                    write!(f, "; {h}")?;
                }
                Ok(())
            }
            EngineError::BadParamValue {
                name,
                expected,
                found,
            } => write!(f, "param `{name}` expects {expected}, found `{found}`"),
            EngineError::MissingZone { name } => {
                write!(f, "zone `{name}` names a file that was not loaded")
            }
        }
    }
}

impl std::error::Error for EngineError {}

/// The index of one aggregate for one party: sorted instants, and prefix sums only where
/// the aggregate adds up an attribute (a count's prefix count is the position itself).
#[derive(Debug, Default)]
struct Series {
    /// Items: the instants they begin; events: the instants they happen.
    starts: Vec<i64>,
    /// Items: the instants they end (items that end).
    ends: Vec<i64>,
    sums: Option<Sums>,
}

/// Prefix sums aligned with `starts` and `ends`, one element longer than each.
#[derive(Debug)]
enum Sums {
    /// Integer attributes are added exactly.
    Int {
        starts: Vec<i64>,
        ends: Vec<i64>,
    },
    Dec {
        starts: Vec<f64>,
        ends: Vec<f64>,
    },
}

impl Series {
    fn counts(mut starts: Vec<i64>, mut ends: Vec<i64>) -> Series {
        starts.sort_unstable();
        ends.sort_unstable();
        Series {
            starts,
            ends,
            sums: None,
        }
    }

    fn sums(mut starts: Vec<(i64, Number)>, mut ends: Vec<(i64, Number)>, int: bool) -> Series {
        // A total order (time, then value) so that decimal sums add in one order everywhere.
        let order = |a: &(i64, Number), b: &(i64, Number)| {
            a.0.cmp(&b.0).then(a.1.as_f64().total_cmp(&b.1.as_f64()))
        };
        starts.sort_unstable_by(order);
        ends.sort_unstable_by(order);
        let sums = if int {
            let prefix = |list: &[(i64, Number)]| {
                let mut acc = 0i64;
                let mut out = Vec::with_capacity(list.len() + 1);
                out.push(acc);
                for (_, n) in list {
                    if let Number::Int(v) = n {
                        acc = acc.saturating_add(*v);
                    }
                    out.push(acc);
                }
                out
            };
            Sums::Int {
                starts: prefix(&starts),
                ends: prefix(&ends),
            }
        } else {
            let prefix = |list: &[(i64, Number)]| {
                let mut acc = 0.0f64;
                let mut out = Vec::with_capacity(list.len() + 1);
                out.push(acc);
                for (_, n) in list {
                    acc += n.as_f64();
                    out.push(acc);
                }
                out
            };
            Sums::Dec {
                starts: prefix(&starts),
                ends: prefix(&ends),
            }
        };
        Series {
            starts: starts.iter().map(|(t, _)| *t).collect(),
            ends: ends.iter().map(|(t, _)| *t).collect(),
            sums: Some(sums),
        }
    }

    /// How many entries have started by `t` (inclusive), and how many have ended by `t`.
    fn alive(&self, t: i64) -> (usize, usize) {
        let started = self.starts.partition_point(|&s| s <= t);
        let ended = self.ends.partition_point(|&e| e <= t);
        (started, ended)
    }

    fn count_alive(&self, t: i64) -> i64 {
        let (s, e) = self.alive(t);
        i64::try_from(s.saturating_sub(e)).unwrap_or(i64::MAX)
    }

    /// The sum of starts in positions `[lo_start, hi_start)` minus ends in `[lo_end, hi_end)`.
    fn sum_between(
        &self,
        (lo_start, hi_start): (usize, usize),
        (lo_end, hi_end): (usize, usize),
    ) -> Num {
        match &self.sums {
            Some(Sums::Int { starts, ends }) => {
                let get = |v: &Vec<i64>, i: usize| v.get(i).copied().unwrap_or(0);
                Num::Int(
                    (get(starts, hi_start) - get(starts, lo_start))
                        .saturating_sub(get(ends, hi_end) - get(ends, lo_end)),
                )
            }
            Some(Sums::Dec { starts, ends }) => {
                let get = |v: &Vec<f64>, i: usize| v.get(i).copied().unwrap_or(0.0);
                Num::Dec(
                    (get(starts, hi_start) - get(starts, lo_start))
                        - (get(ends, hi_end) - get(ends, lo_end)),
                )
            }
            // A count indexed without values: each entry counts one.
            None => Num::Int(
                i64::try_from(hi_start.saturating_sub(lo_start)).unwrap_or(i64::MAX)
                    - i64::try_from(hi_end.saturating_sub(lo_end)).unwrap_or(i64::MAX),
            ),
        }
    }

    fn sum_alive(&self, t: i64) -> Num {
        let (s, e) = self.alive(t);
        self.sum_between((0, s), (0, e))
    }

    /// Events (stored as starts only) in `(from, to]`.
    fn window(&self, from_exclusive: i64, to: i64) -> (usize, usize) {
        let lo = self.starts.partition_point(|&s| s <= from_exclusive);
        let hi = self.starts.partition_point(|&s| s <= to);
        (lo, hi.max(lo))
    }
}

/// Every quantity's value for one party at one instant, by name.
pub type Values<'t, 'f> = BTreeMap<&'t str, QuantityValue<'f>>;

/// A party's declarations of one quantity, sorted by as-of date.
type DeclSeries<'f> = Vec<(Date, Number, &'f Declaration)>;

pub struct Engine<'t, 'f> {
    treaty: &'t Treaty,
    facts: &'f Facts,
    zones: BTreeMap<String, Shape>,
    provenance: Provenance,
    in_force: Option<Date>,
    in_force_assumed: bool,
    interpretation: Option<String>,
    params: BTreeMap<String, Result<Value, Missing>>,
    overridden: Vec<String>,
    quantities: Vec<&'t Quantity>,
    /// Quantities the active interpretation redefines: computed by its definition, never
    /// taken from a party's declared aggregate (which is that party's own reading).
    reinterpreted: BTreeSet<String>,
    /// Keyed by the aggregate's address in the treaty (stable for the engine's lifetime)
    /// and the party; looked up, never iterated.
    series: BTreeMap<(usize, &'t str), Series>,
    /// Parties and categories with item-level data: where a count of items is meaningful.
    item_data: BTreeSet<(&'f str, &'f str)>,
    declarations: BTreeMap<(&'f str, &'f str), DeclSeries<'f>>,
    /// Events by (party, event type), in the facts' order: a violated limit over events
    /// names the events it counted, and a server keeping the engine across requests asks
    /// for them at every report (scanning all the events each time cost more than the
    /// rest of a CFE-scale report together).
    events_by: BTreeMap<(&'f str, &'f str), Vec<&'f Event>>,
    /// See [`Engine::snapshot`].
    /// Behind a lock (not a `RefCell`) so that one engine can serve several threads: a
    /// server keeps it across requests while the facts do not change.
    snapshots: Mutex<BTreeMap<String, BTreeMap<Date, Arc<Values<'t, 'f>>>>>,
}

impl fmt::Debug for Engine<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("treaty", &self.treaty.name)
            .field("series", &self.series.len())
            .finish_non_exhaustive()
    }
}

fn agg_key(agg: &Aggregate) -> usize {
    std::ptr::from_ref(agg) as usize
}

/// Every aggregate inside an expression.
fn aggregates_of<'e>(expr: &'e Expr, out: &mut Vec<&'e Aggregate>) {
    match expr {
        Expr::Aggregate(a) => out.push(a),
        Expr::Neg(e) | Expr::Not(e) | Expr::InGroup(e, _) => aggregates_of(e, out),
        Expr::Arith(_, a, b) | Expr::Cmp(_, a, b) | Expr::And(a, b) | Expr::Or(a, b) => {
            aggregates_of(a, out);
            aggregates_of(b, out);
        }
        Expr::InList(e, list) => {
            aggregates_of(e, out);
            list.iter().for_each(|x| aggregates_of(x, out));
        }
        Expr::Min(list) | Expr::Max(list) => list.iter().for_each(|x| aggregates_of(x, out)),
        _ => {}
    }
}

/// Builds a zone's shape from the treaty when it is inline.
pub fn inline_shape(source: &ZoneSource) -> Option<Shape> {
    match source {
        ZoneSource::File(_) => None,
        ZoneSource::Polygon(points) => Some(Shape::polygon(
            points
                .iter()
                .map(|&(lat, lon)| Point { lat, lon })
                .collect(),
        )),
        ZoneSource::Circle {
            lat,
            lon,
            radius_km,
        } => Some(Shape::Circle {
            center: Point {
                lat: *lat,
                lon: *lon,
            },
            radius_km: *radius_km,
        }),
    }
}

/// Parses a param override against the param's type.
fn parse_param(text: &str, ty: &Type) -> Option<Value> {
    let text = text.trim();
    match ty {
        Type::Int => text.parse::<i64>().ok().map(Value::Int),
        Type::Decimal => text
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .map(Value::Dec),
        Type::Date => Date::parse(text).map(Value::Date),
        Type::Instant => Instant::parse(text).map(Value::Instant),
        Type::Duration => {
            let split = text
                .find(|c: char| !c.is_ascii_digit() && c != '-')
                .unwrap_or(text.len());
            let count = text.get(..split)?.parse::<i64>().ok()?;
            let unit = TimeUnit::from_word(text.get(split..)?.trim())?;
            Some(Value::Duration(Duration::new(count, unit)))
        }
        _ => None,
    }
}

/// A scope over params and dates only.
struct ConstScope<'a> {
    treaty: &'a Treaty,
    in_force: Option<Date>,
    params: &'a BTreeMap<String, Result<Value, Missing>>,
}

impl value::Scope for ConstScope<'_> {
    fn param(&self, name: &str) -> EvalResult {
        self.params
            .get(name)
            .cloned()
            .unwrap_or_else(|| Err(Missing(format!("param `{name}` is not defined"))))
    }
    fn in_force(&self) -> EvalResult {
        self.in_force
            .map(Value::Date)
            .ok_or_else(|| Missing("the treaty is not in force (no `in_force` date)".to_owned()))
    }
    fn signed(&self) -> EvalResult {
        self.treaty
            .signed
            .map(Value::Date)
            .ok_or_else(|| Missing("the treaty has no `signed` date".to_owned()))
    }
    fn quantity(&self, name: &str) -> EvalResult {
        Err(Missing(format!("quantity `{name}` is not known here")))
    }
    fn attribute(&self, name: &str) -> EvalResult {
        Err(Missing(format!("attribute `{name}` is not known here")))
    }
    fn group(&self, name: &str) -> Option<&Group> {
        self.treaty.group(name)
    }
    fn aggregate(&self, _: &Aggregate) -> EvalResult {
        Err(Missing("counts are not known here".to_owned()))
    }
}

/// A scope over one fact's attributes (for filters).
struct FactScope<'a> {
    base: &'a ConstScope<'a>,
    attributes: &'a crate::facts::Attributes,
}

impl value::Scope for FactScope<'_> {
    fn param(&self, name: &str) -> EvalResult {
        self.base.param(name)
    }
    fn in_force(&self) -> EvalResult {
        self.base.in_force()
    }
    fn signed(&self) -> EvalResult {
        self.base.signed()
    }
    fn quantity(&self, name: &str) -> EvalResult {
        self.base.quantity(name)
    }
    fn attribute(&self, name: &str) -> EvalResult {
        value::attribute(self.attributes, name)
    }
    fn group(&self, name: &str) -> Option<&Group> {
        self.base.group(name)
    }
    fn aggregate(&self, agg: &Aggregate) -> EvalResult {
        self.base.aggregate(agg)
    }
}

/// How declarations are read when quantities are evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DeclMode {
    /// The latest declaration of each quantity as of the instant.
    Latest,
    /// Only declarations as of exactly this date (to check a declaration against its own
    /// components and items).
    AsOf(Date),
}

/// A quantity's value for one party at one instant, and where it came from.
#[derive(Debug, Clone)]
pub struct QuantityValue<'f> {
    pub value: Result<Num, Missing>,
    pub declared: Option<(Date, Number, &'f Declaration)>,
    /// The value computed from facts, when the treaty defines one and the data exist.
    pub computed: Option<Num>,
}

impl<'t, 'f> Engine<'t, 'f> {
    /// Indexes the facts for the treaty. `zones` holds the shapes of zones the treaty reads
    /// from files (inline zones are built here).
    pub fn new(
        treaty: &'t Treaty,
        facts: &'f Facts,
        file_zones: BTreeMap<String, Shape>,
        options: &Options,
        provenance: Provenance,
    ) -> Result<Engine<'t, 'f>, EngineError> {
        if let Some(name) = &options.interpretation
            && treaty.interpretation(name).is_none()
        {
            let help = crate::suggest::did_you_mean_help(
                name,
                treaty.interpretations.iter().map(|i| i.id.as_str()),
            );
            return Err(EngineError::UnknownInterpretation {
                name: name.clone(),
                help,
            });
        }
        let mut zones = BTreeMap::new();
        for zone in &treaty.zones {
            match inline_shape(&zone.shape) {
                Some(shape) => {
                    zones.insert(zone.name.clone(), shape);
                }
                None => {
                    let shape = file_zones.get(&zone.name).cloned().ok_or_else(|| {
                        EngineError::MissingZone {
                            name: zone.name.clone(),
                        }
                    })?;
                    zones.insert(zone.name.clone(), shape);
                }
            }
        }
        for name in options.params.keys() {
            if treaty.param(name).is_none() {
                let help = crate::suggest::did_you_mean_help(
                    name,
                    treaty.params.iter().map(|p| p.name.as_str()),
                );
                return Err(EngineError::UnknownParam {
                    name: name.clone(),
                    help,
                });
            }
        }
        let in_force = options.assume_in_force.or(treaty.in_force);
        let mut params: BTreeMap<String, Result<Value, Missing>> = BTreeMap::new();
        let mut overridden = Vec::new();
        for p in &treaty.params {
            let value = if let Some(text) = options.params.get(&p.name) {
                overridden.push(p.name.clone());
                Ok(
                    parse_param(text, &p.ty).ok_or_else(|| EngineError::BadParamValue {
                        name: p.name.clone(),
                        expected: describe_type(&p.ty),
                        found: text.clone(),
                    })?,
                )
            } else if let Some(default) = &p.default {
                let scope = ConstScope {
                    treaty,
                    in_force,
                    params: &params,
                };
                eval(default, &scope).map(|v| widen(v, &p.ty))
            } else {
                Err(Missing(format!("param `{}` has no value", p.name)))
            };
            params.insert(p.name.clone(), value);
        }
        let quantities = treaty.quantities_under(options.interpretation.as_deref());
        let reinterpreted = options
            .interpretation
            .as_deref()
            .and_then(|name| treaty.interpretation(name))
            .map(|i| i.quantities.iter().map(|q| q.name.clone()).collect())
            .unwrap_or_default();
        let mut engine = Engine {
            treaty,
            facts,
            zones,
            provenance,
            in_force,
            in_force_assumed: options.assume_in_force.is_some(),
            interpretation: options.interpretation.clone(),
            params,
            overridden,
            quantities,
            reinterpreted,
            series: BTreeMap::new(),
            item_data: BTreeSet::new(),
            declarations: BTreeMap::new(),
            events_by: BTreeMap::new(),
            snapshots: Mutex::new(BTreeMap::new()),
        };
        engine.index();
        Ok(engine)
    }

    fn const_scope(&self) -> ConstScope<'_> {
        ConstScope {
            treaty: self.treaty,
            in_force: self.in_force,
            params: &self.params,
        }
    }

    fn index(&mut self) {
        let facts: &'f Facts = self.facts;
        for item in &facts.items {
            let key = (&*item.party, &*item.category);
            if !self.item_data.contains(&key) {
                self.item_data.insert(key);
            }
        }
        for d in &facts.declarations {
            for (name, number) in &d.quantities {
                self.declarations
                    .entry((&*d.party, &**name))
                    .or_default()
                    .push((d.as_of, *number, d));
            }
        }
        for list in self.declarations.values_mut() {
            list.sort_by(|a, b| a.0.cmp(&b.0).then(a.2.origin.cmp(&b.2.origin)));
        }
        // Group facts by (party, kind) once, then build each aggregate's series.
        let mut items_by: BTreeMap<(&str, &str), Vec<&Item>> = BTreeMap::new();
        for item in &facts.items {
            items_by
                .entry((&item.party, &item.category))
                .or_default()
                .push(item);
        }
        let mut events_by: BTreeMap<(&'f str, &'f str), Vec<&'f Event>> = BTreeMap::new();
        for event in &facts.events {
            events_by
                .entry((&event.party, &event.event_type))
                .or_default()
                .push(event);
        }
        let mut aggregates = Vec::new();
        for q in &self.quantities {
            if let Some(e) = &q.expr {
                aggregates_of(e, &mut aggregates);
            }
        }
        let treaty: &'t Treaty = self.treaty;
        let mut series = BTreeMap::new();
        {
            let scope = self.const_scope();
            for agg in aggregates {
                let with_values = agg.func == AggFunc::Sum;
                let int = agg_is_int(treaty, agg);
                // Loaded facts share identical attribute sets, so a filter that reads only
                // attributes is evaluated once per distinct set (keyed by its address, used
                // for lookup only, never iterated).
                let mut verdicts: BTreeMap<usize, bool> = BTreeMap::new();
                let mut passes = |attributes: &crate::facts::Attributes,
                                  location: Option<Point>| {
                    if agg.within.is_some() {
                        return self.matches(
                            &scope,
                            agg.filter.as_ref(),
                            agg.within.as_deref(),
                            attributes,
                            location,
                        );
                    }
                    let Some(filter) = agg.filter.as_ref() else {
                        return true;
                    };
                    let key = attributes.as_slice().as_ptr() as usize;
                    *verdicts.entry(key).or_insert_with(|| {
                        self.matches(&scope, Some(filter), None, attributes, location)
                    })
                };
                for party in &treaty.parties {
                    let key = (party.as_str(), agg.target.as_str());
                    let built = match agg.subject {
                        Subject::Item => {
                            let items = items_by.get(&key).map(Vec::as_slice).unwrap_or(&[]);
                            if with_values {
                                let mut starts = Vec::new();
                                let mut ends = Vec::new();
                                for item in items {
                                    if passes(&item.attributes, item.location) {
                                        let n = agg_value(agg, &item.attributes);
                                        starts.push((item.from.unix_seconds(), n));
                                        if let Some(until) = item.until {
                                            ends.push((until.unix_seconds(), n));
                                        }
                                    }
                                }
                                Series::sums(starts, ends, int)
                            } else {
                                let mut starts = Vec::with_capacity(items.len());
                                let mut ends = Vec::with_capacity(items.len());
                                for item in items {
                                    if passes(&item.attributes, item.location) {
                                        starts.push(item.from.unix_seconds());
                                        if let Some(until) = item.until {
                                            ends.push(until.unix_seconds());
                                        }
                                    }
                                }
                                starts.shrink_to_fit();
                                ends.shrink_to_fit();
                                Series::counts(starts, ends)
                            }
                        }
                        Subject::Event => {
                            let events = events_by.get(&key).map(Vec::as_slice).unwrap_or(&[]);
                            if with_values {
                                let mut starts = Vec::new();
                                for event in events {
                                    if passes(&event.attributes, event.location) {
                                        starts.push((
                                            event.at.unix_seconds(),
                                            agg_value(agg, &event.attributes),
                                        ));
                                    }
                                }
                                Series::sums(starts, Vec::new(), int)
                            } else {
                                let mut starts = Vec::new();
                                for event in events {
                                    if passes(&event.attributes, event.location) {
                                        starts.push(event.at.unix_seconds());
                                    }
                                }
                                Series::counts(starts, Vec::new())
                            }
                        }
                    };
                    series.insert((agg_key(agg), party.as_str()), built);
                }
            }
        }
        self.series = series;
        self.events_by = events_by;
    }

    /// Whether a fact passes a filter and a zone test. A fact whose filter cannot be
    /// evaluated (an attribute missing) does not match.
    fn matches(
        &self,
        scope: &ConstScope<'_>,
        filter: Option<&Expr>,
        within: Option<&str>,
        attributes: &crate::facts::Attributes,
        location: Option<Point>,
    ) -> bool {
        if let Some(f) = filter {
            let fs = FactScope {
                base: scope,
                attributes,
            };
            if !matches!(eval(f, &fs), Ok(Value::Bool(true))) {
                return false;
            }
        }
        if let Some(zone) = within {
            return match (self.zones.get(zone), location) {
                (Some(shape), Some(p)) => shape.contains(p),
                _ => false,
            };
        }
        true
    }

    fn param_f64(&self, name: &str, default: f64) -> f64 {
        match self.params.get(name) {
            Some(Ok(v)) => v.num().map_or(default, Num::as_f64),
            _ => default,
        }
    }

    fn date_value(&self, expr: &Expr) -> Result<Date, Missing> {
        let v = eval(expr, &self.const_scope())?;
        v.date()
            .ok_or_else(|| Missing("a date has the wrong type".to_owned()))
    }

    // ----- quantities ---------------------------------------------------------------------

    /// Every quantity's value for a party at an instant.
    pub fn quantities_at(&self, party: &str, at: Instant) -> Values<'t, 'f> {
        self.quantities_with(party, at, DeclMode::Latest)
    }

    /// The quantities as declared on `date` exactly (with the facts of that date), computed
    /// once per party and date for the engine's lifetime: every finding that checks a
    /// declaration's consistency asks for the same few snapshots.
    fn snapshot(&self, party: &str, date: Date) -> Arc<Values<'t, 'f>> {
        let held = |snapshots: &BTreeMap<String, BTreeMap<Date, Arc<Values<'t, 'f>>>>| {
            snapshots
                .get(party)
                .and_then(|by_date| by_date.get(&date))
                .map(Arc::clone)
        };
        // A panic elsewhere cannot leave a map half-written: each insert is whole.
        if let Some(found) = held(
            &self
                .snapshots
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        ) {
            return found;
        }
        // Computed without the lock (two threads may both compute one snapshot; they get
        // equal values, and the first one stored is kept).
        let computed = Arc::new(self.quantities_with(party, date.start(), DeclMode::AsOf(date)));
        Arc::clone(
            self.snapshots
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(party.to_owned())
                .or_default()
                .entry(date)
                .or_insert(computed),
        )
    }

    fn quantities_with(&self, party: &str, at: Instant, mode: DeclMode) -> Values<'t, 'f> {
        let mut values: Values<'t, 'f> = BTreeMap::new();
        for q in &self.quantities {
            let declared = self
                .declarations
                .get(&(party, q.name.as_str()))
                .and_then(|list| match mode {
                    DeclMode::Latest => list.iter().rev().find(|(d, _, _)| d.start() <= at),
                    DeclMode::AsOf(date) => list.iter().rev().find(|(d, _, _)| *d == date),
                })
                .copied();
            let computed = q.expr.as_ref().and_then(|expr| {
                let scope = QuantityScope {
                    engine: self,
                    party,
                    at,
                    values: &values,
                };
                if !self.has_item_data(party, expr) {
                    return None;
                }
                eval(expr, &scope)
                    .ok()
                    .and_then(|v| v.num())
                    .map(|n| fit(n, &q.ty))
            });
            let value = match (declared, computed) {
                (_, Some(c)) if self.reinterpreted.contains(&q.name) => Ok(c),
                (Some((_, n, _)), _) => Ok(fit(number_to_num(n), &q.ty)),
                (None, Some(c)) => Ok(c),
                (None, None) => Err(self.missing_reason(q, party, at, &values)),
            };
            values.insert(
                q.name.as_str(),
                QuantityValue {
                    value,
                    declared,
                    computed,
                },
            );
        }
        values
    }

    /// Whether every count of items in `expr` has item-level data for the party.
    fn has_item_data(&self, party: &str, expr: &Expr) -> bool {
        let mut aggs = Vec::new();
        aggregates_of(expr, &mut aggs);
        aggs.iter().all(|a| {
            a.subject == Subject::Event || self.item_data.contains(&(party, a.target.as_str()))
        })
    }

    fn missing_reason(
        &self,
        q: &Quantity,
        party: &str,
        at: Instant,
        values: &Values<'t, 'f>,
    ) -> Missing {
        if let Some(expr) = &q.expr {
            // Name the first input that is missing.
            let mut refs = Vec::new();
            expr.quantity_refs(&mut refs);
            for r in refs {
                if let Some(QuantityValue { value: Err(m), .. }) = values.get(r.as_str()) {
                    return m.clone();
                }
            }
            let mut aggs = Vec::new();
            aggregates_of(expr, &mut aggs);
            if let Some(a) = aggs.iter().find(|a| {
                a.subject == Subject::Item && !self.item_data.contains(&(party, a.target.as_str()))
            }) {
                return Missing(format!(
                    "`{party}` has declared no `{}` as of {} and has no `{}` items to count",
                    q.name,
                    at.date(),
                    a.target
                ));
            }
            let scope = QuantityScope {
                engine: self,
                party,
                at,
                values,
            };
            if let Err(m) = eval(expr, &scope) {
                return m;
            }
        }
        Missing(format!(
            "`{party}` has declared no `{}` as of {}",
            q.name,
            at.date()
        ))
    }

    fn aggregate_at(&self, agg: &Aggregate, party: &str, at: Instant) -> EvalResult {
        let Some(series) = self.series.get(&(agg_key(agg), party)) else {
            return Err(Missing(format!("`{}` is not indexed", agg.target)));
        };
        let t = at.unix_seconds();
        Ok(match agg.subject {
            Subject::Item => match agg.func {
                AggFunc::Count => Value::Int(series.count_alive(t)),
                AggFunc::Sum => Value::from_num(series.sum_alive(t)),
            },
            Subject::Event => {
                let from_exclusive = window_start_exclusive(agg, at);
                let (lo, hi) = series.window(from_exclusive, t);
                match agg.func {
                    AggFunc::Count => Value::Int(i64::try_from(hi - lo).unwrap_or(i64::MAX)),
                    AggFunc::Sum => Value::from_num(series.sum_between((lo, hi), (0, 0))),
                }
            }
        })
    }

    // ----- provisions ---------------------------------------------------------------------

    /// The provision's effective period: (start, end), each `Err` with a reason when it
    /// cannot be known (a param without a value, a treaty not in force).
    fn period(&self, p: &Provision) -> (Result<Date, Missing>, Option<Result<Date, Missing>>) {
        let start = match &p.from {
            Some(e) => self.date_value(e),
            None => self
                .in_force
                .ok_or_else(|| Missing("the treaty has not entered into force".to_owned())),
        };
        let end = match (&p.until, &self.treaty.expires) {
            (Some(e), _) | (None, Some(e)) => Some(self.date_value(e)),
            (None, None) => None,
        };
        (start, end)
    }

    /// Assesses every provision for every party at an instant.
    pub fn assess(&self, at: Instant) -> Report {
        let mut findings = Vec::new();
        for party in &self.treaty.parties {
            let values = self.quantities_at(party, at);
            for p in &self.treaty.provisions {
                if let Some(f) = self.finding(p, party, at, &values) {
                    findings.push(f);
                }
            }
        }
        findings.sort_by(|a, b| {
            a.party
                .cmp(&b.party)
                .then_with(|| a.provision.cmp(&b.provision))
        });
        Report {
            treaty: self.treaty_ref(),
            at: at.to_string(),
            assumptions: self.assumptions(),
            inputs: self.provenance.inputs.clone(),
            summary: summarize(&findings),
            findings,
            deferred: self
                .treaty
                .deferred
                .iter()
                .map(|d| DeferredIssue {
                    id: d.id.clone(),
                    title: d.title.clone(),
                    note: d.note.clone(),
                })
                .collect(),
        }
    }

    fn treaty_ref(&self) -> TreatyRef {
        TreatyRef {
            id: self.treaty.name.clone(),
            title: self.treaty.title.clone(),
            source_sha256: self.provenance.source_sha256.clone(),
        }
    }

    pub fn assumptions(&self) -> Assumptions {
        Assumptions {
            in_force: self.in_force.map(|d| d.to_string()),
            in_force_assumed: self.in_force_assumed,
            params: self
                .params
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_ref().map_or(serde_json::Value::Null, Value::to_json),
                    )
                })
                .collect(),
            overridden: self.overridden.clone(),
            interpretation: self.interpretation.clone(),
        }
    }

    fn finding(
        &self,
        p: &Provision,
        party: &str,
        at: Instant,
        values: &Values<'t, 'f>,
    ) -> Option<Finding> {
        let kind = match p.kind {
            ProvisionKind::Limit => "limit",
            ProvisionKind::Objective => "objective",
            ProvisionKind::Ban => "ban",
            ProvisionKind::Notify => "notify",
            ProvisionKind::Declare => "declare",
        };
        let mut finding = Finding {
            party: party.to_owned(),
            provision: p.id.clone(),
            kind,
            title: p.title.clone(),
            article: p.article.clone(),
            status: Status::Compliant,
            value: None,
            bound: None,
            margin: None,
            comparison: None,
            effective_from: None,
            until: None,
            reason: None,
            violations: Vec::new(),
            stale: None,
            evidence: BTreeMap::new(),
        };
        let (start, end) = self.period(p);
        if let Ok(s) = &start {
            finding.effective_from = Some(s.to_string());
        }
        if let Some(Ok(e)) = &end {
            finding.until = Some(e.to_string());
        }
        let phase = match (&start, &end) {
            (Err(_), _) => Phase::NotYet,
            (Ok(s), _) if at < s.start() => Phase::NotYet,
            (_, Some(Ok(e))) if at >= e.start() => Phase::Expired,
            _ => Phase::Active,
        };
        let start_date = start.as_ref().ok().copied();
        match &p.rule {
            Rule::Limit { clauses } => {
                let clause = clause_for(clauses, party)?;
                self.limit(&mut finding, clause, party, at, start_date, values);
            }
            Rule::Ban {
                targets,
                exceptions,
            } => {
                if phase == Phase::Active
                    && let Some(s) = start_date
                {
                    self.ban(&mut finding, targets, exceptions, party, at, s);
                }
            }
            Rule::Notify {
                event_type,
                lead,
                stating,
            } => {
                if phase == Phase::Active
                    && let Some(s) = start_date
                {
                    self.notify(&mut finding, event_type, lead, stating, party, at, s);
                }
            }
            Rule::Declare {
                quantities,
                as_of,
                due,
            } => {
                if phase == Phase::Active
                    && let Some(s) = start_date
                {
                    self.declare(&mut finding, quantities, as_of, due, party, at, s);
                }
            }
        }
        // The phase decides the status unless data are missing for an active provision.
        finding.status = match phase {
            Phase::NotYet => {
                if let Err(m) = &start {
                    finding.reason.get_or_insert_with(|| m.0.clone());
                }
                Status::NotYetInForce
            }
            Phase::Expired => Status::Expired,
            Phase::Active => {
                if !finding.violations.is_empty() {
                    Status::Violation
                } else if finding.status == Status::NoData {
                    Status::NoData
                } else {
                    Status::Compliant
                }
            }
        };
        if phase != Phase::Active {
            finding.violations.clear();
        }
        Some(finding)
    }

    fn limit(
        &self,
        finding: &mut Finding,
        clause: &detente_lang::model::Clause,
        party: &str,
        at: Instant,
        start: Option<Date>,
        values: &Values<'t, 'f>,
    ) {
        finding.comparison = Some(clause.op.symbol());
        let scope = QuantityScope {
            engine: self,
            party,
            at,
            values,
        };
        let value = eval(&clause.lhs, &scope).and_then(|v| {
            v.num()
                .ok_or_else(|| Missing("the compared value is not a number".to_owned()))
        });
        let int = expr_is_int(self.treaty, &self.quantities, &clause.lhs);
        let bound = self.bound_at(&clause.schedule, clause.op, at, start, &scope, int);
        // Evidence: each quantity used, with its value and source.
        let mut refs = Vec::new();
        clause.lhs.quantity_refs(&mut refs);
        let mut used: Vec<String> = Vec::new();
        let mut stack = refs.clone();
        while let Some(name) = stack.pop() {
            if used.contains(&name) {
                continue;
            }
            used.push(name.clone());
            if let Some(q) = self.quantities.iter().find(|q| q.name == name)
                && let Some(e) = &q.expr
            {
                let mut more = Vec::new();
                e.quantity_refs(&mut more);
                stack.extend(more);
            }
        }
        used.sort();
        let mut quantities = serde_json::Map::new();
        for name in &used {
            if let Some(qv) = values.get(name.as_str()) {
                quantities.insert(name.clone(), quantity_evidence(qv));
            }
        }
        finding.evidence.insert(
            "quantities".to_owned(),
            serde_json::Value::Object(quantities),
        );
        if let Some(interpretation) = &self.interpretation {
            finding.evidence.insert(
                "interpretation".to_owned(),
                serde_json::Value::String(interpretation.clone()),
            );
        }
        // Staleness and consistency of the declarations behind the value.
        // The data the value came from: declared quantities, and the inputs of computed
        // ones (a declared aggregate's components did not contribute).
        let mut oldest: Option<Date> = None;
        let mut pending = refs.clone();
        let mut visited: Vec<String> = Vec::new();
        while let Some(name) = pending.pop() {
            if visited.contains(&name) {
                continue;
            }
            visited.push(name.clone());
            match values.get(name.as_str()) {
                Some(QuantityValue {
                    declared: Some((d, _, _)),
                    ..
                }) if !self.reinterpreted.contains(&name) => {
                    oldest = Some(oldest.map_or(*d, |o| o.min(*d)));
                }
                _ => {
                    if let Some(q) = self.quantities.iter().find(|q| q.name == name)
                        && let Some(e) = &q.expr
                    {
                        e.quantity_refs(&mut pending);
                    }
                }
            }
        }
        if let Some(data_as_of) = oldest
            && let Some(due_as_of) = self.last_due_as_of(at)
            && data_as_of < due_as_of
        {
            finding.stale = Some(Staleness {
                data_as_of: data_as_of.to_string(),
                due_as_of: due_as_of.to_string(),
            });
        }
        for name in &used {
            if let Some(v) = self.inconsistency(party, name, at) {
                finding.violations.push(v);
            }
        }
        match (value, bound) {
            (Ok(v), Ok(b)) => {
                let margin = margin(clause.op, v, b);
                finding.value = Some(v);
                finding.bound = Some(b);
                finding.margin = Some(margin);
                let holds = value::compare(clause.op, &Value::from_num(v), &Value::from_num(b))
                    .unwrap_or(false);
                if !holds {
                    finding.violations.insert(
                        0,
                        Violation {
                            reason: "exceeds_bound",
                            ids: {
                                let mut ids = declaration_ids(values, &used);
                                ids.extend(self.counted_event_ids(party, at, &used, values));
                                ids
                            },
                            at: None,
                            detail: format!("{v} {} {b} does not hold", clause.op.symbol()),
                            evidence: BTreeMap::new(),
                        },
                    );
                }
            }
            (v, b) => {
                finding.value = v.as_ref().ok().copied();
                finding.bound = b.as_ref().ok().copied();
                finding.status = Status::NoData;
                let reason = v.err().or(b.err()).map(|m| m.0).unwrap_or_default();
                finding.reason = Some(reason);
            }
        }
    }

    /// The ids of the events counted into the computed (not declared) quantities a limit
    /// used, so a violation of a limit over events names them. Looked up only when a limit
    /// is violated; at most [`MAX_EVIDENCE_IDS`].
    fn counted_event_ids(
        &self,
        party: &str,
        at: Instant,
        used: &[String],
        values: &Values<'t, 'f>,
    ) -> Vec<String> {
        let scope = self.const_scope();
        let mut ids = Vec::new();
        for name in used {
            let computed = values
                .get(name.as_str())
                .is_some_and(|v| v.declared.is_none());
            let Some(expr) = self
                .quantities
                .iter()
                .find(|q| q.name == *name)
                .and_then(|q| q.expr.as_ref())
            else {
                continue;
            };
            if !computed {
                continue;
            }
            let mut aggregates = Vec::new();
            aggregates_of(expr, &mut aggregates);
            for agg in aggregates
                .into_iter()
                .filter(|a| a.subject == Subject::Event)
            {
                let from = window_start_exclusive(agg, at);
                let events = self
                    .events_by
                    .get(&(party, agg.target.as_str()))
                    .map(Vec::as_slice)
                    .unwrap_or(&[]);
                for event in events {
                    let t = event.at.unix_seconds();
                    if *event.party == *party
                        && *event.event_type == *agg.target
                        && t > from
                        && t <= at.unix_seconds()
                        && self.matches(
                            &scope,
                            agg.filter.as_ref(),
                            agg.within.as_deref(),
                            &event.attributes,
                            event.location,
                        )
                    {
                        ids.push(event.id.to_string());
                        if ids.len() >= MAX_EVIDENCE_IDS {
                            ids.sort();
                            return ids;
                        }
                    }
                }
            }
        }
        ids.sort();
        ids.dedup();
        ids
    }

    /// The latest as-of date, among all `declare` provisions, whose delivery was due by `at`.
    fn last_due_as_of(&self, at: Instant) -> Option<Date> {
        let mut best: Option<Date> = None;
        for p in &self.treaty.provisions {
            if let Rule::Declare { as_of, due, .. } = &p.rule
                && let (Ok(start), _) = self.period(p)
                && let Ok(Value::Duration(due)) = eval(due, &self.const_scope())
            {
                for date in as_of_dates(as_of, start, at.date()) {
                    if let Some(deadline) = date.start().checked_add(due)
                        && deadline <= at
                    {
                        best = Some(best.map_or(date, |b| b.max(date)));
                    }
                }
            }
        }
        best
    }

    /// A declared value of `name` as of the latest declaration up to `at` that disagrees
    /// with the value computed from the same date's declarations and items.
    fn inconsistency(&self, party: &str, name: &str, at: Instant) -> Option<Violation> {
        if self.reinterpreted.contains(name) {
            return None;
        }
        let list = self.declarations.get(&(party, name))?;
        let (date, declared, decl) = list.iter().rev().find(|(d, _, _)| d.start() <= at)?;
        let snapshot = self.snapshot(party, *date);
        let computed = snapshot.get(name)?.computed?;
        let declared = number_to_num(*declared);
        if (computed.as_f64() - declared.as_f64()).abs() < 1e-9 {
            return None;
        }
        let mut evidence = BTreeMap::new();
        evidence.insert("declared".to_owned(), serde_json::json!(declared));
        evidence.insert("computed".to_owned(), serde_json::json!(computed));
        Some(Violation {
            reason: "inconsistent_declaration",
            ids: decl.id.iter().cloned().collect(),
            at: Some(date.to_string()),
            detail: format!(
                "`{name}` declared as {declared} as of {date}, but the facts of that date give {computed}"
            ),
            evidence,
        })
    }

    fn bound_at(
        &self,
        schedule: &Schedule,
        op: CmpOp,
        at: Instant,
        start: Option<Date>,
        scope: &QuantityScope<'_, 't, 'f>,
        int: bool,
    ) -> Result<Num, Missing> {
        let num = |e: &Expr| -> Result<Num, Missing> {
            eval(e, scope)?
                .num()
                .ok_or_else(|| Missing("a bound is not a number".to_owned()))
        };
        match schedule {
            Schedule::Piecewise(entries) => {
                let mut current: Option<&Expr> = None;
                for (bound, date) in entries {
                    match date {
                        None => current = Some(bound),
                        Some(d) => {
                            if self.date_value(d)?.start() <= at {
                                current = Some(bound);
                            }
                        }
                    }
                }
                let first = entries.first().map(|(b, _)| b);
                num(current
                    .or(first)
                    .ok_or_else(|| Missing("the schedule is empty".to_owned()))?)
            }
            Schedule::Steps {
                start: s,
                target,
                every,
                until,
            } => {
                let s_value = num(s)?;
                let t_value = num(target)?;
                let every = match eval(every, scope)? {
                    Value::Duration(d) => d,
                    _ => return Err(Missing("the step interval is not a duration".to_owned())),
                };
                let until = self.date_value(until)?;
                let Some(from) = start else {
                    return Ok(s_value);
                };
                let steps = step_dates(from, every, until);
                let n = steps.len();
                let k = steps.iter().filter(|d| d.start() <= at).count();
                if n == 0 || k >= n {
                    return Ok(if k >= n && n > 0 { t_value } else { s_value });
                }
                let fraction = k as f64 / n as f64;
                let exact = s_value.as_f64() + (t_value.as_f64() - s_value.as_f64()) * fraction;
                Ok(if int {
                    // Round towards the stricter side: down for ceilings, up for floors.
                    let r = match op {
                        CmpOp::Le | CmpOp::Lt => exact.floor(),
                        _ => exact.ceil(),
                    };
                    Num::Int(r as i64)
                } else {
                    Num::Dec(exact)
                })
            }
        }
    }

    fn ban(
        &self,
        finding: &mut Finding,
        targets: &[detente_lang::model::BanTarget],
        exceptions: &[detente_lang::model::Exception],
        party: &str,
        at: Instant,
        start: Date,
    ) {
        let scope = self.const_scope();
        let excepted =
            |attributes: &crate::facts::Attributes, location: Option<Point>, when: Instant| {
                exceptions.iter().any(|x| {
                    let before_sunset = match &x.until {
                        None => true,
                        Some(u) => self.date_value(u).is_ok_and(|d| when < d.start()),
                    };
                    before_sunset
                        && self.matches(
                            &scope,
                            x.filter.as_ref(),
                            x.within.as_deref(),
                            attributes,
                            location,
                        )
                })
            };
        let mut checked = 0u64;
        for target in targets {
            let reason_for = |subject: Subject| match (&target.within, subject) {
                (Some(_), _) => "in_zone",
                (None, Subject::Item) => "prohibited_item",
                (None, Subject::Event) => "prohibited_event",
            };
            match target.subject {
                Subject::Item => {
                    for item in self.facts.items.iter().filter(|i| {
                        &*i.party == party && target.names.iter().any(|n| **n == *i.category)
                    }) {
                        if !item.exists_at(at) {
                            continue;
                        }
                        checked += 1;
                        if self.matches(
                            &scope,
                            target.filter.as_ref(),
                            target.within.as_deref(),
                            &item.attributes,
                            item.location,
                        ) && !excepted(&item.attributes, item.location, at)
                        {
                            finding.violations.push(Violation {
                                reason: reason_for(Subject::Item),
                                ids: vec![item.id.to_string()],
                                at: Some(item.from.max(start.start()).to_string()),
                                detail: format!(
                                    "`{}` `{}` exists{}",
                                    item.category,
                                    item.id,
                                    zone_phrase(target.within.as_deref())
                                ),
                                evidence: location_evidence(item.location),
                            });
                        }
                    }
                    // Items seen by another party's observers.
                    for obs in self.observations_of(party, start, at) {
                        let Some(category) = &obs.category else {
                            continue;
                        };
                        if !target.names.iter().any(|n| **n == **category) {
                            continue;
                        }
                        checked += 1;
                        if self.matches(
                            &scope,
                            target.filter.as_ref(),
                            target.within.as_deref(),
                            &obs.attributes,
                            obs.location,
                        ) && !excepted(&obs.attributes, obs.location, obs.at)
                        {
                            let mut evidence = location_evidence(obs.location);
                            evidence.insert(
                                "observer".to_owned(),
                                serde_json::json!(obs.observer.to_string()),
                            );
                            finding.violations.push(Violation {
                                reason: reason_for(Subject::Item),
                                ids: vec![obs.id.clone()],
                                at: Some(obs.at.to_string()),
                                detail: format!(
                                    "`{}` observed a `{category}`{}",
                                    obs.observer,
                                    zone_phrase(target.within.as_deref())
                                ),
                                evidence,
                            });
                        }
                    }
                }
                Subject::Event => {
                    for occurrence in self.occurrences(party, start, at, &target.names) {
                        checked += 1;
                        let (attributes, location) = match &occurrence {
                            Occurrence::Declared(e, _) => (&e.attributes, e.location),
                            Occurrence::Observed(o) => {
                                (&o.attributes, o.location.or(o.launch_point))
                            }
                        };
                        if let Occurrence::Observed(o) = &occurrence
                            && o.mb.is_some()
                        {
                            // A seismic event nobody declared: its purpose is unknown, so no
                            // exception can apply.
                            let mb = o.mb.unwrap_or_default();
                            let y = yield_kt(
                                mb,
                                self.param_f64("mb_a", DEFAULT_MB_A),
                                self.param_f64("mb_b", DEFAULT_MB_B),
                            );
                            let mut evidence = location_evidence(location);
                            evidence.insert("mb".to_owned(), serde_json::json!(mb));
                            evidence.insert("yield_kt".to_owned(), serde_json::json!(round3(y)));
                            evidence.insert(
                                "observer".to_owned(),
                                serde_json::json!(o.observer.to_string()),
                            );
                            finding.violations.push(Violation {
                                reason: "undeclared_explosion",
                                ids: vec![o.id.clone()],
                                at: Some(o.at.to_string()),
                                detail: format!(
                                    "`{}` recorded a seismic event of mb {mb} (about {} kt) that no declared explosion explains",
                                    o.observer,
                                    round3(y)
                                ),
                                evidence,
                            });
                            continue;
                        }
                        let when = occurrence.at();
                        if self.matches(
                            &scope,
                            target.filter.as_ref(),
                            target.within.as_deref(),
                            attributes,
                            location,
                        ) && !excepted(attributes, location, when)
                        {
                            finding.violations.push(Violation {
                                reason: reason_for(Subject::Event),
                                ids: vec![occurrence.id().to_owned()],
                                at: Some(when.to_string()),
                                detail: format!(
                                    "`{}` `{}` took place{}",
                                    occurrence.type_name(),
                                    occurrence.id(),
                                    zone_phrase(target.within.as_deref())
                                ),
                                evidence: location_evidence(location),
                            });
                        }
                    }
                }
            }
        }
        finding
            .evidence
            .insert("facts_checked".to_owned(), serde_json::json!(checked));
    }

    /// Observations of a party made in `[start, at]`.
    fn observations_of(
        &self,
        party: &str,
        start: Date,
        at: Instant,
    ) -> impl Iterator<Item = &'f Observation> + '_ {
        let from = start.start();
        let party = party.to_owned();
        self.facts
            .observations
            .iter()
            .filter(move |o| *o.party == *party && o.at >= from && o.at <= at)
    }

    /// The events of the given types that happened in `[start, at]`: every declared event,
    /// and every observed one that no declared event explains (same type, same UTC day,
    /// within 50 km when both have a place).
    fn occurrences(
        &self,
        party: &str,
        start: Date,
        at: Instant,
        types: &[String],
    ) -> Vec<Occurrence<'f>> {
        let from = start.start();
        let declared: Vec<&Event> = self
            .facts
            .events
            .iter()
            .filter(|e| {
                *e.party == *party
                    && e.at >= from
                    && e.at <= at
                    && types.iter().any(|t| **t == *e.event_type)
            })
            .collect();
        // An observation a declared event explains is folded into it: it may carry what
        // the declaration lacks (the impact point).
        let mut seen: Vec<Option<&'f Observation>> = vec![None; declared.len()];
        let mut out: Vec<Occurrence<'f>> = Vec::new();
        for o in self.observations_of(party, start, at) {
            if !types.iter().any(|t| **t == *o.observed_type) {
                continue;
            }
            let place = o.location.or(o.launch_point);
            let explained_by = declared.iter().position(|e| {
                e.event_type == o.observed_type
                    && e.at.date() == o.at.date()
                    && match (e.location, place) {
                        (Some(a), Some(b)) => great_circle_km(a, b) <= EXPLAINED_WITHIN_KM,
                        _ => true,
                    }
            });
            match explained_by.and_then(|i| seen.get_mut(i)) {
                Some(slot) => {
                    slot.get_or_insert(o);
                }
                None => out.push(Occurrence::Observed(o)),
            }
        }
        out.extend(
            declared
                .iter()
                .zip(seen)
                .map(|(e, o)| Occurrence::Declared(e, o)),
        );
        out.sort_by(|a, b| a.at().cmp(&b.at()).then_with(|| a.id().cmp(b.id())));
        out
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "the rule's fields, the party and the period, passed unpacked"
    )]
    fn notify(
        &self,
        finding: &mut Finding,
        event_type: &str,
        lead: &Expr,
        stating: &[detente_lang::model::NotifyField],
        party: &str,
        at: Instant,
        start: Date,
    ) {
        use detente_lang::model::NotifyField;
        let lead = match eval(lead, &self.const_scope()) {
            Ok(Value::Duration(d)) => d,
            _ => Duration::new(0, TimeUnit::Hour),
        };
        let lead_seconds = lead.exact_seconds().unwrap_or(0);
        let notices: Vec<&crate::facts::Notification> = self
            .facts
            .notifications
            .iter()
            .filter(|n| *n.party == *party && *n.event_type == *event_type && n.sent_at <= at)
            .collect();
        // Every notification must state the required fields.
        for n in &notices {
            if n.sent_at < start.start() {
                continue;
            }
            let missing: Vec<&str> = stating
                .iter()
                .filter(|f| match f {
                    NotifyField::Window => n.window.is_none(),
                    NotifyField::LaunchArea => n.launch_area.is_none(),
                    NotifyField::ImpactArea => n.impact_area.is_none(),
                })
                .map(|f| f.name())
                .collect();
            if !missing.is_empty() {
                finding.violations.push(Violation {
                    reason: "missing_required_field",
                    ids: vec![n.id.clone()],
                    at: Some(n.sent_at.to_string()),
                    detail: format!(
                        "notification `{}` does not state {}",
                        n.id,
                        missing.join(", ")
                    ),
                    evidence: BTreeMap::new(),
                });
            }
        }
        let types = [event_type.to_owned()];
        let occurrences = self.occurrences(party, start, at, &types);
        for occurrence in &occurrences {
            let t = occurrence.at();
            let covering = notices
                .iter()
                .filter(|n| n.window.is_some_and(|w| w.contains(t)))
                .min_by_key(|n| (n.sent_at, n.id.clone()));
            let Some(n) = covering else {
                let near = notices.iter().find(|n| {
                    n.window.is_some_and(|w| {
                        w.from.unix_seconds() - NEAR_WINDOW_SECONDS <= t.unix_seconds()
                            && t.unix_seconds() <= w.to.unix_seconds() + NEAR_WINDOW_SECONDS
                    })
                });
                let (reason, ids, detail) = match near {
                    Some(n) => (
                        "outside_notified_window",
                        vec![occurrence.id().to_owned(), n.id.clone()],
                        format!(
                            "`{}` at {t} falls outside the window of notification `{}`",
                            occurrence.id(),
                            n.id
                        ),
                    ),
                    None => (
                        "unnotified_event",
                        vec![occurrence.id().to_owned()],
                        format!("`{}` at {t} was not notified", occurrence.id()),
                    ),
                };
                finding.violations.push(Violation {
                    reason,
                    ids,
                    at: Some(t.to_string()),
                    detail,
                    evidence: occurrence_evidence(occurrence),
                });
                continue;
            };
            let received = n.received_at.unwrap_or(n.sent_at);
            if let Some(w) = n.window {
                let lead_actual = w.from.seconds_since(received);
                if lead_actual < lead_seconds {
                    let mut evidence = BTreeMap::new();
                    evidence.insert("lead_seconds".to_owned(), serde_json::json!(lead_actual));
                    evidence.insert(
                        "required_seconds".to_owned(),
                        serde_json::json!(lead_seconds),
                    );
                    evidence.insert(
                        "received_at".to_owned(),
                        serde_json::json!(received.to_string()),
                    );
                    finding.violations.push(Violation {
                        reason: "late_notification",
                        ids: vec![occurrence.id().to_owned(), n.id.clone()],
                        at: Some(received.to_string()),
                        detail: format!(
                            "notification `{}` was received {} before its window; {lead} were required",
                            n.id,
                            exact_span(lead_actual)
                        ),
                        evidence,
                    });
                }
            }
            let (launch, impact) = occurrence.points();
            for (point, area, reason, what) in [
                (
                    launch,
                    &n.launch_area,
                    "outside_launch_area",
                    "launch point",
                ),
                (
                    impact,
                    &n.impact_area,
                    "outside_impact_area",
                    "impact point",
                ),
            ] {
                if let (Some(point), Some(area)) = (point, area) {
                    let inside = match area {
                        crate::facts::Area::Zone(z) => {
                            self.zones.get(&**z).is_some_and(|s| s.contains(point))
                        }
                        other => other.contains(point).unwrap_or(false),
                    };
                    if !inside {
                        finding.violations.push(Violation {
                            reason,
                            ids: vec![occurrence.id().to_owned(), n.id.clone()],
                            at: Some(t.to_string()),
                            detail: format!(
                                "the {what} of `{}` is outside the area stated in notification `{}`",
                                occurrence.id(),
                                n.id
                            ),
                            evidence: location_evidence(Some(point)),
                        });
                    }
                }
            }
        }
        finding
            .evidence
            .insert("events".to_owned(), serde_json::json!(occurrences.len()));
        finding
            .evidence
            .insert("notifications".to_owned(), serde_json::json!(notices.len()));
        finding.evidence.insert(
            "lead_required".to_owned(),
            serde_json::json!(lead.to_string()),
        );
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "the rule's fields, the party and the period, passed unpacked"
    )]
    fn declare(
        &self,
        finding: &mut Finding,
        quantities: &[String],
        as_of: &[(u8, u8)],
        due: &Expr,
        party: &str,
        at: Instant,
        start: Date,
    ) {
        let due = match eval(due, &self.const_scope()) {
            Ok(Value::Duration(d)) => d,
            _ => Duration::new(0, TimeUnit::Day),
        };
        let mine: Vec<&Declaration> = self
            .facts
            .declarations
            .iter()
            .filter(|d| d.delivered_at.is_none_or(|t| t <= at))
            .filter(|d| {
                *d.party == *party
                    && d.quantities
                        .iter()
                        .any(|(q, _)| quantities.iter().any(|x| **x == **q))
            })
            .collect();
        let mut checked = Vec::new();
        for date in as_of_dates(as_of, start, at.date()) {
            let Some(deadline) = date.start().checked_add(due) else {
                continue;
            };
            if deadline > at {
                continue;
            }
            let found = mine
                .iter()
                .filter(|d| d.as_of == date)
                .min_by_key(|d| d.delivered_at);
            match found {
                None => finding.violations.push(Violation {
                    reason: "missing_declaration",
                    ids: Vec::new(),
                    at: Some(deadline.to_string()),
                    detail: format!(
                        "no declaration as of {date} was delivered by {}",
                        deadline.date()
                    ),
                    evidence: BTreeMap::new(),
                }),
                Some(d) => {
                    if let Some(delivered) = d.delivered_at
                        && delivered > deadline
                    {
                        let mut evidence = BTreeMap::new();
                        evidence.insert(
                            "delivered_at".to_owned(),
                            serde_json::json!(delivered.to_string()),
                        );
                        evidence.insert("due".to_owned(), serde_json::json!(deadline.to_string()));
                        finding.violations.push(Violation {
                            reason: "late_declaration",
                            ids: d.id.iter().cloned().collect(),
                            at: Some(delivered.to_string()),
                            detail: format!(
                                "the declaration as of {date} was delivered {}, after it was due {}",
                                delivered.date(),
                                deadline.date()
                            ),
                            evidence,
                        });
                    }
                    checked
                        .push(serde_json::json!({"as_of": date.to_string(), "declaration": d.id}));
                }
            }
        }
        // Every declaration up to now must agree with the facts of its date.
        let mut seen = BTreeSet::new();
        for d in &mine {
            if d.as_of.start() > at || !seen.insert(d.as_of) {
                continue;
            }
            let snapshot = self.snapshot(party, d.as_of);
            for name in quantities {
                if self.reinterpreted.contains(name) {
                    continue;
                }
                if let Some(QuantityValue {
                    declared: Some((_, declared, decl)),
                    computed: Some(computed),
                    ..
                }) = snapshot.get(name.as_str())
                {
                    let declared = number_to_num(*declared);
                    if (computed.as_f64() - declared.as_f64()).abs() >= 1e-9 {
                        let mut evidence = BTreeMap::new();
                        evidence.insert("declared".to_owned(), serde_json::json!(declared));
                        evidence.insert("computed".to_owned(), serde_json::json!(computed));
                        finding.violations.push(Violation {
                            reason: "inconsistent_declaration",
                            ids: decl.id.iter().cloned().collect(),
                            at: Some(d.as_of.to_string()),
                            detail: format!(
                                "`{name}` declared as {declared} as of {}, but the facts of that date give {computed}",
                                d.as_of
                            ),
                            evidence,
                        });
                    }
                }
            }
        }
        finding.evidence.insert(
            "declarations_due".to_owned(),
            serde_json::Value::Array(checked),
        );
        finding
            .violations
            .sort_by(|a, b| a.at.cmp(&b.at).then(a.reason.cmp(b.reason)));
    }

    // ----- timeline and plan --------------------------------------------------------------

    /// Findings of limits and objectives at every instant from `from` to `to` (inclusive)
    /// stepping by `every`. The facts are indexed once; each instant costs a few binary
    /// searches per quantity.
    pub fn timeline(&self, from: Instant, to: Instant, every: Duration) -> Timeline {
        let mut points = Vec::new();
        let mut instants = Vec::new();
        let mut k = 0i64;
        while let Some(t) =
            from.checked_add(Duration::new(every.count.saturating_mul(k), every.unit))
        {
            if t > to || instants.len() >= 100_000 || every.count <= 0 {
                break;
            }
            instants.push(t);
            k += 1;
        }
        for &t in &instants {
            for party in &self.treaty.parties {
                let values = self.quantities_at(party, t);
                for p in &self.treaty.provisions {
                    if !matches!(p.rule, Rule::Limit { .. }) {
                        continue;
                    }
                    if let Some(f) = self.finding(p, party, t, &values) {
                        points.push(TimelinePoint {
                            at: t.to_string(),
                            party: f.party,
                            provision: f.provision,
                            status: f.status,
                            value: f.value,
                            bound: f.bound,
                            margin: f.margin,
                        });
                    }
                }
            }
        }
        Timeline {
            treaty: self.treaty_ref(),
            from: from.to_string(),
            to: to.to_string(),
            every: every.to_string(),
            assumptions: self.assumptions(),
            inputs: self.provenance.inputs.clone(),
            points,
        }
    }

    /// For each future milestone of every limit and objective, what the party still owes
    /// given its latest data.
    pub fn plan(&self, party: &str, at: Instant) -> Plan {
        let values = self.quantities_at(party, at);
        let mut milestones = Vec::new();
        let mut unknown = Vec::new();
        for p in &self.treaty.provisions {
            let Rule::Limit { clauses } = &p.rule else {
                continue;
            };
            let Some(clause) = clause_for(clauses, party) else {
                continue;
            };
            let scope = QuantityScope {
                engine: self,
                party,
                at,
                values: &values,
            };
            let current = match eval(&clause.lhs, &scope).map(|v| v.num()) {
                Ok(Some(v)) => v,
                Ok(None) => continue,
                Err(m) => {
                    unknown.push((p.id.clone(), m.0));
                    continue;
                }
            };
            let (start, end) = self.period(p);
            let Ok(start) = start else {
                unknown.push((p.id.clone(), "the provision has no start date".to_owned()));
                continue;
            };
            let int = expr_is_int(self.treaty, &self.quantities, &clause.lhs);
            // Milestones: the provision's start and every date the bound changes.
            let mut dates = vec![start];
            match &clause.schedule {
                Schedule::Piecewise(entries) => {
                    for (_, d) in entries {
                        if let Some(d) = d
                            && let Ok(d) = self.date_value(d)
                        {
                            dates.push(d);
                        }
                    }
                }
                Schedule::Steps { every, until, .. } => {
                    if let (Ok(Value::Duration(every)), Ok(until)) =
                        (eval(every, &self.const_scope()), self.date_value(until))
                    {
                        dates.extend(step_dates(start, every, until));
                    }
                }
            }
            dates.sort();
            dates.dedup();
            for date in dates {
                if date.start() <= at {
                    continue;
                }
                if let Some(Ok(e)) = &end
                    && date >= *e
                {
                    continue;
                }
                let Ok(bound) = self.bound_at(
                    &clause.schedule,
                    clause.op,
                    date.start(),
                    Some(start),
                    &scope,
                    int,
                ) else {
                    continue;
                };
                let slack = margin(clause.op, current, bound);
                let owed = match slack {
                    Num::Int(i) => Num::Int((-i).max(0)),
                    Num::Dec(d) => Num::Dec((-d).max(0.0)),
                };
                let days_left = date.days_since_epoch() - at.date().days_since_epoch();
                let years = (days_left as f64 / 365.25).max(1.0 / 365.25);
                milestones.push(Milestone {
                    provision: p.id.clone(),
                    kind: if p.kind == ProvisionKind::Objective {
                        "objective"
                    } else {
                        "limit"
                    },
                    date: date.to_string(),
                    bound,
                    current_value: current,
                    reduction_owed: owed,
                    days_left,
                    per_year: Num::Dec(round3(owed.as_f64() / years)),
                });
            }
        }
        milestones.sort_by(|a, b| {
            a.date
                .cmp(&b.date)
                .then_with(|| a.provision.cmp(&b.provision))
        });
        Plan {
            treaty: self.treaty_ref(),
            party: party.to_owned(),
            at: at.to_string(),
            assumptions: self.assumptions(),
            inputs: self.provenance.inputs.clone(),
            milestones,
            unknown,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    NotYet,
    Active,
    Expired,
}

#[derive(Debug)]
enum Occurrence<'f> {
    /// A declared event, with the observation it explains, if any.
    Declared(&'f Event, Option<&'f Observation>),
    Observed(&'f Observation),
}

impl Occurrence<'_> {
    fn at(&self) -> Instant {
        match self {
            Occurrence::Declared(e, _) => e.at,
            Occurrence::Observed(o) => o.at,
        }
    }
    fn id(&self) -> &str {
        match self {
            Occurrence::Declared(e, _) => &e.id,
            Occurrence::Observed(o) => &o.id,
        }
    }
    fn type_name(&self) -> &str {
        match self {
            Occurrence::Declared(e, _) => &e.event_type,
            Occurrence::Observed(o) => &o.observed_type,
        }
    }
    /// Launch and impact points, where known.
    fn points(&self) -> (Option<Point>, Option<Point>) {
        match self {
            Occurrence::Declared(e, o) => (
                e.location.or(o.and_then(|o| o.launch_point.or(o.location))),
                o.and_then(|o| o.impact_point),
            ),
            Occurrence::Observed(o) => (o.launch_point.or(o.location), o.impact_point),
        }
    }
}

fn occurrence_evidence(o: &Occurrence<'_>) -> BTreeMap<String, serde_json::Value> {
    let mut evidence = BTreeMap::new();
    match o {
        Occurrence::Declared(..) => {
            evidence.insert("source".to_owned(), serde_json::json!("declared event"));
        }
        Occurrence::Observed(obs) => {
            evidence.insert("source".to_owned(), serde_json::json!("observation"));
            evidence.insert(
                "observer".to_owned(),
                serde_json::json!(obs.observer.to_string()),
            );
        }
    }
    let (launch, impact) = o.points();
    if let Some(p) = launch {
        evidence.insert(
            "launch_point".to_owned(),
            serde_json::json!({"lat": p.lat, "lon": p.lon}),
        );
    }
    if let Some(p) = impact {
        evidence.insert(
            "impact_point".to_owned(),
            serde_json::json!({"lat": p.lat, "lon": p.lon}),
        );
    }
    evidence
}

/// The scope a quantity expression is evaluated in: one party at one instant.
struct QuantityScope<'e, 't, 'f> {
    engine: &'e Engine<'t, 'f>,
    party: &'e str,
    at: Instant,
    values: &'e Values<'t, 'f>,
}

impl value::Scope for QuantityScope<'_, '_, '_> {
    fn param(&self, name: &str) -> EvalResult {
        self.engine
            .params
            .get(name)
            .cloned()
            .unwrap_or_else(|| Err(Missing(format!("param `{name}` is not defined"))))
    }
    fn in_force(&self) -> EvalResult {
        self.engine.const_scope().in_force()
    }
    fn signed(&self) -> EvalResult {
        self.engine.const_scope().signed()
    }
    fn quantity(&self, name: &str) -> EvalResult {
        match self.values.get(name) {
            Some(QuantityValue { value: Ok(n), .. }) => Ok(Value::from_num(*n)),
            Some(QuantityValue { value: Err(m), .. }) => Err(m.clone()),
            None => Err(Missing(format!("quantity `{name}` has no value yet"))),
        }
    }
    fn attribute(&self, name: &str) -> EvalResult {
        Err(Missing(format!("attribute `{name}` is not known here")))
    }
    fn group(&self, name: &str) -> Option<&Group> {
        self.engine.treaty.group(name)
    }
    fn aggregate(&self, agg: &Aggregate) -> EvalResult {
        self.engine.aggregate_at(agg, self.party, self.at)
    }
}

/// The instant (exclusive) where an event aggregate's window begins, for a window ending at
/// `at`.
fn window_start_exclusive(agg: &Aggregate, at: Instant) -> i64 {
    match &agg.window {
        Some(AggWindow::PerYear) => {
            let year_start =
                Date::new(at.date().year(), 1, 1).map_or(i64::MIN, |d| d.start().unix_seconds());
            year_start - 1
        }
        Some(AggWindow::Over(d)) => at.checked_sub(*d).map_or(i64::MIN, Instant::unix_seconds),
        None => i64::MIN,
    }
}

/// The clause that binds a party: its own, else the clause without `for`.
fn clause_for<'c>(
    clauses: &'c [detente_lang::model::Clause],
    party: &str,
) -> Option<&'c detente_lang::model::Clause> {
    clauses
        .iter()
        .find(|c| c.parties.iter().any(|x| x == party))
        .or_else(|| clauses.iter().find(|c| c.parties.is_empty()))
}

fn agg_value(agg: &Aggregate, attributes: &crate::facts::Attributes) -> Number {
    match (&agg.func, &agg.attr) {
        (AggFunc::Sum, Some(attr)) => match attributes.get(attr) {
            Some(crate::facts::AttrValue::Int(i)) => Number::Int(*i),
            Some(crate::facts::AttrValue::Decimal(d)) => Number::Decimal(*d),
            _ => Number::Int(0),
        },
        _ => Number::Int(1),
    }
}

fn agg_is_int(treaty: &Treaty, agg: &Aggregate) -> bool {
    match (&agg.func, &agg.attr) {
        (AggFunc::Count, _) | (_, None) => true,
        (AggFunc::Sum, Some(attr)) => {
            let kind = match agg.subject {
                Subject::Item => treaty.category(&agg.target),
                Subject::Event => treaty.event_type(&agg.target),
            };
            kind.and_then(|k| k.attr(attr)) == Some(&Type::Int)
        }
    }
}

/// Whether an expression's value is an integer (so bounds round to whole numbers).
fn expr_is_int(treaty: &Treaty, quantities: &[&Quantity], expr: &Expr) -> bool {
    match expr {
        Expr::Int(_) => true,
        Expr::Quantity(name) => quantities
            .iter()
            .find(|q| q.name == *name)
            .is_some_and(|q| q.ty == Type::Int),
        Expr::Param(name) => treaty.param(name).is_some_and(|p| p.ty == Type::Int),
        Expr::Arith(op, a, b) => {
            *op != detente_lang::ast::ArithOp::Div
                && expr_is_int(treaty, quantities, a)
                && expr_is_int(treaty, quantities, b)
        }
        Expr::Neg(e) => expr_is_int(treaty, quantities, e),
        Expr::Min(list) | Expr::Max(list) => {
            list.iter().all(|e| expr_is_int(treaty, quantities, e))
        }
        Expr::Aggregate(a) => agg_is_int(treaty, a),
        _ => false,
    }
}

fn number_to_num(n: Number) -> Num {
    match n {
        Number::Int(i) => Num::Int(i),
        Number::Decimal(d) => Num::Dec(d),
    }
}

/// A value shaped to a quantity's type: decimals of an `int` quantity stay decimals only if
/// they have a fraction.
fn fit(n: Num, ty: &Type) -> Num {
    match (n, ty) {
        (Num::Dec(d), Type::Int) if d.fract() == 0.0 && d.abs() < 9.0e15 => Num::Int(d as i64),
        (Num::Int(i), Type::Decimal) => Num::Dec(i as f64),
        (n, _) => n,
    }
}

fn widen(v: Value, ty: &Type) -> Value {
    match (v, ty) {
        (Value::Int(i), Type::Decimal) => Value::Dec(i as f64),
        (v, _) => v,
    }
}

fn describe_type(ty: &Type) -> String {
    match ty {
        Type::Int => "a whole number".to_owned(),
        Type::Decimal => "a number".to_owned(),
        Type::Date => "a date like `1979-06-18`".to_owned(),
        Type::Instant => "an instant like `1979-06-18T10:00:00Z`".to_owned(),
        Type::Duration => "a duration like `24h` or `3 years`".to_owned(),
        other => format!("a `{other}`"),
    }
}

/// The slack of a comparison: positive when it holds with room to spare.
fn margin(op: CmpOp, value: Num, bound: Num) -> Num {
    let int = value.is_int() && bound.is_int();
    let v = value.as_f64();
    let b = bound.as_f64();
    let m = match op {
        CmpOp::Le | CmpOp::Lt => b - v,
        CmpOp::Ge | CmpOp::Gt => v - b,
        CmpOp::Eq | CmpOp::Ne => -(v - b).abs(),
    };
    if int {
        match (value, bound) {
            (Num::Int(vi), Num::Int(bi)) => Num::Int(match op {
                CmpOp::Le | CmpOp::Lt => bi.saturating_sub(vi),
                CmpOp::Ge | CmpOp::Gt => vi.saturating_sub(bi),
                CmpOp::Eq | CmpOp::Ne => -(vi.saturating_sub(bi)).saturating_abs(),
            }),
            _ => Num::Dec(m),
        }
    } else {
        Num::Dec(m)
    }
}

/// A span of seconds written exactly, e.g. `23 h 59 min 59 s` (never rounded up to the
/// lead it falls short of).
fn exact_span(seconds: i64) -> String {
    let sign = if seconds < 0 { "-" } else { "" };
    let s = seconds.unsigned_abs();
    let (h, m, sec) = (s / 3600, (s / 60) % 60, s % 60);
    let mut parts = Vec::new();
    if h > 0 {
        parts.push(format!("{h} h"));
    }
    if m > 0 {
        parts.push(format!("{m} min"));
    }
    if sec > 0 || parts.is_empty() {
        parts.push(format!("{sec} s"));
    }
    format!("{sign}{}", parts.join(" "))
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The dates of each step from `from` (exclusive) to `until` (inclusive): `from + k·every`
/// for k = 1, 2, … while before `until`, then `until` itself.
fn step_dates(from: Date, every: Duration, until: Date) -> Vec<Date> {
    let mut dates = Vec::new();
    let mut k = 1i64;
    while dates.len() < 10_000 {
        let Some(d) = from.checked_add(Duration::new(every.count.saturating_mul(k), every.unit))
        else {
            break;
        };
        if d >= until || every.count <= 0 {
            break;
        }
        dates.push(d);
        k += 1;
    }
    if until > from {
        dates.push(until);
    }
    dates
}

/// Every yearly as-of date on or after `start` and on or before `until`.
fn as_of_dates(as_of: &[(u8, u8)], start: Date, until: Date) -> Vec<Date> {
    let mut out = Vec::new();
    for year in start.year()..=until.year() {
        for &(month, day) in as_of {
            if let Some(d) = Date::new(year, month, day)
                && d >= start
                && d <= until
            {
                out.push(d);
            }
        }
    }
    out
}

fn quantity_evidence(qv: &QuantityValue<'_>) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    match &qv.value {
        Ok(n) => {
            map.insert("value".to_owned(), serde_json::json!(n));
        }
        Err(m) => {
            map.insert("missing".to_owned(), serde_json::json!(m.0));
        }
    }
    if let Some((date, _, decl)) = &qv.declared {
        map.insert("source".to_owned(), serde_json::json!("declared"));
        map.insert("as_of".to_owned(), serde_json::json!(date.to_string()));
        if let Some(id) = &decl.id {
            map.insert("declaration".to_owned(), serde_json::json!(id));
        }
    } else if qv.computed.is_some() {
        map.insert("source".to_owned(), serde_json::json!("computed"));
    }
    if let Some(c) = qv.computed {
        map.insert("computed".to_owned(), serde_json::json!(c));
    }
    serde_json::Value::Object(map)
}

fn declaration_ids(values: &Values<'_, '_>, used: &[String]) -> Vec<String> {
    let mut ids: Vec<String> = used
        .iter()
        .filter_map(|n| values.get(n.as_str()))
        .filter_map(|qv| qv.declared.and_then(|(_, _, d)| d.id.clone()))
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

fn zone_phrase(zone: Option<&str>) -> String {
    zone.map_or_else(String::new, |z| format!(" within zone `{z}`"))
}

fn location_evidence(location: Option<Point>) -> BTreeMap<String, serde_json::Value> {
    let mut evidence = BTreeMap::new();
    if let Some(p) = location {
        evidence.insert(
            "location".to_owned(),
            serde_json::json!({"lat": p.lat, "lon": p.lon}),
        );
    }
    evidence
}
