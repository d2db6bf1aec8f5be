//! The checked treaty: every name resolved, every expression typed.
//!
//! This is what the engine evaluates. It holds no spans inside expressions (diagnostics
//! about the source are the checker's job), only on the declarations a runtime message may
//! need to point at.

use crate::ast::{ArithOp, CmpOp, ProvisionKind, Subject};
use crate::diag::Span;
use crate::time::{Date, Duration, Instant};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Type {
    Int,
    Decimal,
    Bool,
    Str,
    Enum(Vec<String>),
    Date,
    Instant,
    Duration,
}

impl Type {
    pub fn is_numeric(&self) -> bool {
        matches!(self, Type::Int | Type::Decimal)
    }

    pub fn is_textual(&self) -> bool {
        matches!(self, Type::Str | Type::Enum(_))
    }

    /// Whether a value of type `self` is accepted where `expected` is wanted.
    pub fn fits(&self, expected: &Type) -> bool {
        match (self, expected) {
            (Type::Int, Type::Decimal) => true,
            (Type::Enum(_), Type::Str) | (Type::Str, Type::Enum(_)) => true,
            (Type::Date, Type::Instant) => true,
            (a, b) => a == b,
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Int => f.write_str("int"),
            Type::Decimal => f.write_str("decimal"),
            Type::Bool => f.write_str("bool"),
            Type::Str => f.write_str("string"),
            Type::Enum(values) => write!(f, "enum({})", values.join(", ")),
            Type::Date => f.write_str("date"),
            Type::Instant => f.write_str("instant"),
            Type::Duration => f.write_str("duration"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Treaty {
    pub name: String,
    pub title: String,
    pub parties: Vec<String>,
    pub signed: Option<Date>,
    pub in_force: Option<Date>,
    pub expires: Option<Expr>,
    pub params: Vec<Param>,
    pub categories: Vec<Kind>,
    pub event_types: Vec<Kind>,
    /// In dependency order: a quantity comes after every quantity it uses.
    pub quantities: Vec<Quantity>,
    pub zones: Vec<Zone>,
    pub groups: Vec<Group>,
    pub provisions: Vec<Provision>,
    pub deferred: Vec<Deferred>,
    pub interpretations: Vec<Interpretation>,
}

impl Treaty {
    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.name == name)
    }
    pub fn quantity(&self, name: &str) -> Option<&Quantity> {
        self.quantities.iter().find(|q| q.name == name)
    }
    pub fn category(&self, name: &str) -> Option<&Kind> {
        self.categories.iter().find(|k| k.name == name)
    }
    pub fn event_type(&self, name: &str) -> Option<&Kind> {
        self.event_types.iter().find(|k| k.name == name)
    }
    pub fn zone(&self, name: &str) -> Option<&Zone> {
        self.zones.iter().find(|z| z.name == name)
    }
    pub fn group(&self, name: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.name == name)
    }
    pub fn provision(&self, id: &str) -> Option<&Provision> {
        self.provisions.iter().find(|p| p.id == id)
    }
    pub fn interpretation(&self, id: &str) -> Option<&Interpretation> {
        self.interpretations.iter().find(|i| i.id == id)
    }

    /// The quantities in effect under an interpretation (or the treaty's own), in
    /// dependency order.
    pub fn quantities_under(&self, interpretation: Option<&str>) -> Vec<&Quantity> {
        let overrides = interpretation
            .and_then(|id| self.interpretation(id))
            .map(|i| i.quantities.as_slice())
            .unwrap_or(&[]);
        let mut chosen: Vec<&Quantity> = self
            .quantities
            .iter()
            .map(|q| overrides.iter().find(|o| o.name == q.name).unwrap_or(q))
            .collect();
        if !overrides.is_empty() {
            order_by_dependencies(&mut chosen);
        }
        chosen
    }
}

/// Sorts quantities so that each comes after those it uses (stable; the checker has
/// already refused cycles, and a residual cycle keeps the original order).
///
/// The order is that of repeated passes over the list, each pass taking, in list order,
/// every quantity whose dependencies are already taken; quantities in or behind a cycle are
/// never taken and follow in list order. It is computed in linear time: a quantity is taken
/// in the pass of its latest dependency, or in the next pass when that dependency comes
/// after it in the list.
pub fn order_by_dependencies(quantities: &mut Vec<&Quantity>) {
    let deps = dependency_graph(quantities.iter().copied());
    let mut pass: Vec<Option<usize>> = vec![None; quantities.len()];
    for component in components(&deps) {
        // Components come dependencies first; one of several quantities is a cycle.
        let [q] = component.as_slice() else {
            continue;
        };
        let mut taken = Some(0usize);
        for &d in deps.get(*q).map(Vec::as_slice).unwrap_or_default() {
            taken = match (taken, pass.get(d).copied().flatten()) {
                (Some(p), Some(dp)) if d != *q => Some(p.max(dp + usize::from(d > *q))),
                _ => None,
            };
        }
        if let Some(slot) = pass.get_mut(*q) {
            *slot = taken;
        }
    }
    let mut order: Vec<usize> = (0..quantities.len()).collect();
    order.sort_by_key(|&i| (pass.get(i).copied().flatten().unwrap_or(usize::MAX), i));
    let unordered = std::mem::take(quantities);
    *quantities = order
        .into_iter()
        .filter_map(|i| unordered.get(i).copied())
        .collect();
}

/// For each quantity, the positions of the quantities it uses, in the order it names them.
/// A name given twice refers to its first definition.
pub(crate) fn dependency_graph<'a>(
    quantities: impl Iterator<Item = &'a Quantity> + Clone,
) -> Vec<Vec<usize>> {
    let mut position: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for (i, q) in quantities.clone().enumerate() {
        position.entry(q.name.as_str()).or_insert(i);
    }
    quantities
        .map(|q| {
            let mut refs = Vec::new();
            if let Some(e) = &q.expr {
                e.quantity_refs(&mut refs);
            }
            refs.iter()
                .filter_map(|r| position.get(r.as_str()).copied())
                .collect()
        })
        .collect()
}

/// The strongly connected components of a graph (`deps[i]` lists the nodes `i` uses), each
/// sorted, dependencies first: Tarjan's algorithm with an explicit stack, so a long chain
/// cannot overflow the call stack.
pub(crate) fn components(deps: &[Vec<usize>]) -> Vec<Vec<usize>> {
    const UNSEEN: usize = usize::MAX;
    let n = deps.len();
    let mut index = vec![UNSEEN; n];
    let mut low = vec![0usize; n];
    let mut on_stack = vec![false; n];
    let mut stack: Vec<usize> = Vec::new();
    let mut out = Vec::new();
    let mut next = 0usize;
    let mut visit = |v: usize,
                     index: &mut Vec<usize>,
                     low: &mut Vec<usize>,
                     on_stack: &mut Vec<bool>,
                     stack: &mut Vec<usize>| {
        if let (Some(i), Some(l), Some(o)) = (index.get_mut(v), low.get_mut(v), on_stack.get_mut(v))
        {
            *i = next;
            *l = next;
            *o = true;
        }
        next += 1;
        stack.push(v);
    };
    for root in 0..n {
        if index.get(root) != Some(&UNSEEN) {
            continue;
        }
        visit(root, &mut index, &mut low, &mut on_stack, &mut stack);
        let mut work: Vec<(usize, usize)> = vec![(root, 0)];
        while let Some((v, child)) = work.last_mut() {
            let v = *v;
            if let Some(&w) = deps.get(v).and_then(|d| d.get(*child)) {
                *child += 1;
                if index.get(w) == Some(&UNSEEN) {
                    visit(w, &mut index, &mut low, &mut on_stack, &mut stack);
                    work.push((w, 0));
                } else if on_stack.get(w) == Some(&true) {
                    let w_index = index.get(w).copied().unwrap_or(UNSEEN);
                    if let Some(l) = low.get_mut(v) {
                        *l = (*l).min(w_index);
                    }
                }
                continue;
            }
            work.pop();
            let v_low = low.get(v).copied().unwrap_or(0);
            if let Some((parent, _)) = work.last()
                && let Some(l) = low.get_mut(*parent)
            {
                *l = (*l).min(v_low);
            }
            if Some(&v_low) == index.get(v) {
                let mut component = Vec::new();
                while let Some(w) = stack.pop() {
                    if let Some(o) = on_stack.get_mut(w) {
                        *o = false;
                    }
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                component.sort_unstable();
                out.push(component);
            }
        }
    }
    out
}

#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: String,
    pub ty: Type,
    pub default: Option<Expr>,
    pub note: Option<String>,
    pub span: Span,
}

/// A category of items or an event type.
#[derive(Debug, Clone, PartialEq)]
pub struct Kind {
    pub name: String,
    pub note: Option<String>,
    pub attrs: Vec<(String, Type)>,
}

impl Kind {
    pub fn attr(&self, name: &str) -> Option<&Type> {
        self.attrs.iter().find(|(n, _)| n == name).map(|(_, t)| t)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Quantity {
    pub name: String,
    /// `Int` or `Decimal`.
    pub ty: Type,
    /// How it is computed from facts; `None` for a declared-only quantity.
    pub expr: Option<Expr>,
    /// Whether parties may declare it in aggregate.
    pub declarable: bool,
    pub note: Option<String>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Zone {
    pub name: String,
    pub note: Option<String>,
    pub shape: ZoneSource,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ZoneSource {
    /// A GeoJSON file, relative to the treaty file; the caller reads it.
    File(String),
    /// (latitude, longitude) vertices in degrees.
    Polygon(Vec<(f64, f64)>),
    Circle {
        lat: f64,
        lon: f64,
        radius_km: f64,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub name: String,
    pub note: Option<String>,
    /// Sorted, without duplicates.
    pub members: Vec<String>,
}

impl Group {
    pub fn contains(&self, value: &str) -> bool {
        self.members
            .binary_search_by(|m| m.as_str().cmp(value))
            .is_ok()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Provision {
    pub id: String,
    pub kind: ProvisionKind,
    pub title: String,
    pub article: Option<String>,
    /// When it takes effect; `None` means at entry into force.
    pub from: Option<Expr>,
    /// When it ends; `None` means at the treaty's expiry, if any.
    pub until: Option<Expr>,
    pub rule: Rule,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    /// A limit or an objective.
    Limit { clauses: Vec<Clause> },
    Ban {
        targets: Vec<BanTarget>,
        exceptions: Vec<Exception>,
    },
    Notify {
        event_type: String,
        lead: Expr,
        stating: Vec<NotifyField>,
    },
    Declare {
        quantities: Vec<String>,
        /// (month, day) pairs, in calendar order.
        as_of: Vec<(u8, u8)>,
        due: Expr,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    pub lhs: Expr,
    pub op: CmpOp,
    pub schedule: Schedule,
    /// Empty: the clause for every party without one of its own.
    pub parties: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    Piecewise(Vec<(Expr, Option<Expr>)>),
    Steps {
        start: Expr,
        target: Expr,
        every: Expr,
        until: Expr,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct BanTarget {
    pub subject: Subject,
    pub names: Vec<String>,
    pub filter: Option<Expr>,
    pub within: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Exception {
    pub filter: Option<Expr>,
    pub within: Option<String>,
    pub until: Option<Expr>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NotifyField {
    Window,
    LaunchArea,
    ImpactArea,
}

impl NotifyField {
    pub const ALL: [NotifyField; 3] = [
        NotifyField::Window,
        NotifyField::LaunchArea,
        NotifyField::ImpactArea,
    ];
    pub fn name(self) -> &'static str {
        match self {
            NotifyField::Window => "window",
            NotifyField::LaunchArea => "launch_area",
            NotifyField::ImpactArea => "impact_area",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Deferred {
    pub id: String,
    pub title: String,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Interpretation {
    pub id: String,
    pub title: String,
    pub quantities: Vec<Quantity>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggFunc {
    Count,
    Sum,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AggWindow {
    /// The calendar year containing the instant, up to the instant.
    PerYear,
    /// The trailing window of this length ending at the instant.
    Over(Duration),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Aggregate {
    pub func: AggFunc,
    pub subject: Subject,
    pub target: String,
    pub attr: Option<String>,
    pub filter: Option<Expr>,
    pub within: Option<String>,
    pub window: Option<AggWindow>,
}

/// A typed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Int(i64),
    Decimal(f64),
    Str(String),
    Bool(bool),
    Date(Date),
    Instant(Instant),
    Duration(Duration),
    InForce,
    Signed,
    Param(String),
    Quantity(String),
    /// An attribute of the item or event a filter is applied to.
    Attr(String),
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Arith(ArithOp, Box<Expr>, Box<Expr>),
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    InGroup(Box<Expr>, String),
    InList(Box<Expr>, Vec<Expr>),
    Min(Vec<Expr>),
    Max(Vec<Expr>),
    Aggregate(Box<Aggregate>),
}

impl Expr {
    /// Names of the quantities this expression uses directly.
    pub fn quantity_refs(&self, out: &mut Vec<String>) {
        self.walk(&mut |e| {
            if let Expr::Quantity(name) = e
                && !out.contains(name)
            {
                out.push(name.clone());
            }
        });
    }

    /// Names of the params this expression uses directly.
    pub fn param_refs(&self, out: &mut Vec<String>) {
        self.walk(&mut |e| {
            if let Expr::Param(name) = e
                && !out.contains(name)
            {
                out.push(name.clone());
            }
        });
    }

    /// Calls `f` on this node and every node below it, aggregates' filters included.
    pub fn walk(&self, f: &mut dyn FnMut(&Expr)) {
        f(self);
        match self {
            Expr::Neg(e) | Expr::Not(e) | Expr::InGroup(e, _) => e.walk(f),
            Expr::Arith(_, a, b) | Expr::Cmp(_, a, b) | Expr::And(a, b) | Expr::Or(a, b) => {
                a.walk(f);
                b.walk(f);
            }
            Expr::InList(e, list) => {
                e.walk(f);
                list.iter().for_each(|x| x.walk(f));
            }
            Expr::Min(list) | Expr::Max(list) => list.iter().for_each(|x| x.walk(f)),
            Expr::Aggregate(agg) => {
                if let Some(filter) = &agg.filter {
                    filter.walk(f);
                }
            }
            _ => {}
        }
    }
}
