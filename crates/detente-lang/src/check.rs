//! The checker: a syntax tree to a [`model::Treaty`], or diagnostics.
//!
//! It resolves every name (with did-you-mean help), checks every type, refuses quantities
//! that refer to themselves (naming the cycle), and reports every problem in one pass.

use crate::ast::{self, ExprKind, ItemKind, ProvisionKind, StmtKind, Subject, TypeKind};
use crate::diag::{Diagnostic, Span};
use crate::model::{self, Expr, Type};
use crate::suggest::did_you_mean_help;
use crate::time::{Date, Duration};
use std::collections::{BTreeMap, BTreeSet};

/// The result of checking: a treaty when there is no error, and every diagnostic.
#[derive(Debug)]
pub struct Checked {
    pub treaty: Option<model::Treaty>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses and checks a treaty source.
pub fn check_source(source: &str) -> Checked {
    let parsed = crate::parser::parse(source);
    let mut checked = check(&parsed.file);
    let mut diagnostics = parsed.diagnostics;
    let parse_failed = diagnostics.iter().any(Diagnostic::is_error);
    diagnostics.append(&mut checked.diagnostics);
    diagnostics.sort_by_key(|d| (d.span().start, d.span().end));
    if parse_failed {
        checked.treaty = None;
    }
    Checked {
        treaty: checked.treaty,
        diagnostics,
    }
}

/// Checks a parsed file.
pub fn check(file: &ast::File) -> Checked {
    let Some(treaty) = &file.treaty else {
        return Checked {
            treaty: None,
            diagnostics: Vec::new(),
        };
    };
    let mut checker = Checker::default();
    let result = checker.treaty(treaty);
    let has_error = checker.diagnostics.iter().any(Diagnostic::is_error);
    Checked {
        treaty: if has_error { None } else { Some(result) },
        diagnostics: checker.diagnostics,
    }
}

/// What a bare name means in an expression.
#[derive(Debug, Clone, Copy)]
enum Scope<'a> {
    /// Params, `in_force` and `signed` only (param defaults, dates of provisions).
    Constant,
    /// Params, quantities, dates.
    Quantity,
    /// Attributes of the kinds being filtered, then params.
    Filter(&'a [&'a model::Kind]),
}

#[derive(Default)]
struct Checker {
    diagnostics: Vec<Diagnostic>,
    parties: Vec<String>,
    params: BTreeMap<String, (Type, Span)>,
    /// Params in declaration order, for the "defined later" rule.
    param_order: Vec<String>,
    /// Each param's position in `param_order`.
    param_position: BTreeMap<String, usize>,
    quantities: BTreeMap<String, (Type, Span)>,
    categories: BTreeMap<String, model::Kind>,
    event_types: BTreeMap<String, model::Kind>,
    zones: BTreeMap<String, Span>,
    groups: BTreeMap<String, Span>,
    /// Quantities marked `declared`.
    declarable: BTreeSet<String>,
    /// Names of params visible to the default being checked (those declared before it).
    visible_params: Option<usize>,
}

fn expected_type(expected: &str, found: &Type) -> String {
    format!("expected {expected}, found {}", a_type(found))
}

/// A type with its article, as in "an `int`" or "a `date`".
fn a_type(ty: &Type) -> String {
    let text = ty.to_string();
    let article = if text.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} `{text}`")
}

impl Checker {
    fn error(&mut self, d: Diagnostic) {
        self.diagnostics.push(d);
    }

    fn duplicate(&mut self, what: &str, name: &str, span: Span, first: Span) {
        self.error(
            Diagnostic::error("E0303", format!("{what} `{name}` is defined twice"), span)
                .label("defined again here")
                .with_label(first, "first defined here")
                .help(if matches!(what, "party" | "header field") {
                    format!("remove the repeated {what}")
                } else {
                    format!("rename one of them or remove the repeated {what}")
                }),
        );
    }

    fn treaty(&mut self, treaty: &ast::Treaty) -> model::Treaty {
        // Pass 1: collect the names every later statement may refer to, in any order.
        let mut party_spans: Vec<(String, Span)> = Vec::new();
        let mut parties_seen = false;
        for item in &treaty.items {
            match &item.kind {
                ItemKind::Parties(list) => {
                    if parties_seen {
                        self.error(
                            Diagnostic::error("E0303", "`parties` is given twice", item.span)
                                .help("list every party in one `parties` statement"),
                        );
                    }
                    parties_seen = true;
                    for party in list {
                        if let Some((_, first)) = party_spans.iter().find(|(n, _)| *n == party.name)
                        {
                            let first = *first;
                            self.duplicate("party", &party.name, party.span, first);
                        } else {
                            party_spans.push((party.name.clone(), party.span));
                        }
                    }
                }
                ItemKind::Category(decl) => self.register_kind(treaty, decl, true),
                ItemKind::EventType(decl) => self.register_kind(treaty, decl, false),
                ItemKind::Zone(decl) => {
                    if let Some(first) = self.zones.get(&decl.name.name).copied() {
                        self.duplicate("zone", &decl.name.name, decl.name.span, first);
                    } else {
                        self.zones.insert(decl.name.name.clone(), decl.name.span);
                    }
                }
                ItemKind::Group(decl) => {
                    if let Some(first) = self.groups.get(&decl.name.name).copied() {
                        self.duplicate("group", &decl.name.name, decl.name.span, first);
                    } else {
                        self.groups.insert(decl.name.name.clone(), decl.name.span);
                    }
                }
                ItemKind::Param(p) => {
                    let ty = match (&p.ty, &p.value) {
                        (Some(t), _) => self.type_expr(t),
                        (None, Some(value)) => self.literal_type(value),
                        (None, None) => {
                            self.error(
                                Diagnostic::error(
                                    "E0304",
                                    format!(
                                        "param `{}` has neither a type nor a value",
                                        p.name.name
                                    ),
                                    p.name.span,
                                )
                                .help(format!(
                                    "give it a type, as in `param {}: decimal`, or a default value",
                                    p.name.name
                                )),
                            );
                            Type::Decimal
                        }
                    };
                    if let Some((_, first)) = self.params.get(&p.name.name) {
                        let first = *first;
                        self.duplicate("param", &p.name.name, p.name.span, first);
                    } else {
                        self.params.insert(p.name.name.clone(), (ty, p.name.span));
                        self.param_position
                            .insert(p.name.name.clone(), self.param_order.len());
                        self.param_order.push(p.name.name.clone());
                    }
                }
                ItemKind::Quantity(q) => {
                    if q.declared {
                        self.declarable.insert(q.name.name.clone());
                    }
                    let ty = self.quantity_type_hint(q);
                    if let Some((_, first)) = self.quantities.get(&q.name.name) {
                        let first = *first;
                        self.duplicate("quantity", &q.name.name, q.name.span, first);
                    } else if let Some((_, first)) = self.params.get(&q.name.name) {
                        let first = *first;
                        self.duplicate("name", &q.name.name, q.name.span, first);
                    } else {
                        self.quantities
                            .insert(q.name.name.clone(), (ty, q.name.span));
                    }
                }
                _ => {}
            }
        }
        self.parties = party_spans.iter().map(|(n, _)| n.clone()).collect();
        if !parties_seen {
            self.error(
                Diagnostic::error(
                    "E0309",
                    format!("treaty `{}` names no parties", treaty.name.name),
                    treaty.name.span,
                )
                .help("add a statement such as `parties US, USSR`"),
            );
        } else if self.parties.len() == 1 {
            let span = party_spans.first().map_or(treaty.name.span, |(_, s)| *s);
            self.error(
                Diagnostic::warning("W0001", "the treaty has only one party", span)
                    .help("an agreement binds two or more parties"),
            );
        }

        // Pass 2: check every statement in full.
        let mut out = model::Treaty {
            name: treaty.name.name.clone(),
            title: treaty
                .title
                .as_ref()
                .map_or_else(|| treaty.name.name.clone(), |t| t.value.clone()),
            parties: self.parties.clone(),
            signed: None,
            in_force: None,
            expires: None,
            params: Vec::new(),
            categories: self.categories.values().cloned().collect(),
            event_types: self.event_types.values().cloned().collect(),
            quantities: Vec::new(),
            zones: Vec::new(),
            groups: Vec::new(),
            provisions: Vec::new(),
            deferred: Vec::new(),
            interpretations: Vec::new(),
        };
        // Keep declaration order for categories and event types.
        out.categories = declared_kinds(treaty, true)
            .filter_map(|n| self.categories.get(n).cloned())
            .collect();
        out.event_types = declared_kinds(treaty, false)
            .filter_map(|n| self.event_types.get(n).cloned())
            .collect();

        let mut provision_ids: BTreeMap<String, Span> = BTreeMap::new();
        let mut interpretation_ids: BTreeMap<String, Span> = BTreeMap::new();
        let mut header_seen: BTreeMap<&str, Span> = BTreeMap::new();
        let mut quantity_decls: Vec<(&ast::QuantityDecl, Span)> = Vec::new();
        let mut param_index = 0usize;
        for item in &treaty.items {
            match &item.kind {
                ItemKind::Signed(e) | ItemKind::InForce(e) | ItemKind::Expires(e) => {
                    let key = match &item.kind {
                        ItemKind::Signed(_) => "signed",
                        ItemKind::InForce(_) => "in_force",
                        _ => "expires",
                    };
                    if let Some(first) = header_seen.get(key).copied() {
                        self.duplicate("header field", key, item.span, first);
                        continue;
                    }
                    header_seen.insert(key, item.span);
                    if key == "expires" {
                        self.visible_params = None;
                        out.expires = self.typed(e, &Type::Date, Scope::Constant, "`expires`");
                    } else if let ExprKind::Date(d) = e.kind {
                        if key == "signed" {
                            out.signed = Some(d);
                        } else {
                            out.in_force = Some(d);
                        }
                    } else {
                        self.error(
                            Diagnostic::error(
                                "E0304",
                                format!("`{key}` must be a date literal"),
                                e.span,
                            )
                            .help(format!("write it as `{key} 1977-10-03`")),
                        );
                    }
                }
                ItemKind::Param(p) => {
                    param_index += 1;
                    self.visible_params = Some(param_index - 1);
                    let ty = self
                        .params
                        .get(&p.name.name)
                        .map_or(Type::Decimal, |(t, _)| t.clone());
                    let default = p.value.as_ref().and_then(|v| {
                        self.typed(v, &ty, Scope::Constant, &format!("param `{}`", p.name.name))
                    });
                    self.visible_params = None;
                    // The type written, or else the type of the default (`param p = true`).
                    let written =
                        p.ty.as_ref()
                            .map(|t| t.span)
                            .or_else(|| p.value.as_ref().map(|v| v.span));
                    if !matches!(
                        ty,
                        Type::Int | Type::Decimal | Type::Date | Type::Duration | Type::Instant
                    ) && let Some(span) = written
                    {
                        self.error(
                            Diagnostic::error(
                                "E0304",
                                format!("param `{}` has type `{ty}`", p.name.name),
                                span,
                            )
                            .help("params are numbers, dates, instants or durations"),
                        );
                    }
                    out.params.push(model::Param {
                        name: p.name.name.clone(),
                        ty,
                        default,
                        note: p.note.as_ref().map(|n| n.value.clone()),
                        span: p.name.span,
                    });
                }
                ItemKind::Quantity(q) => quantity_decls.push((q, item.span)),
                ItemKind::Zone(z) => {
                    if let Some(zone) = self.zone(z) {
                        out.zones.push(zone);
                    }
                }
                ItemKind::Group(g) => {
                    let mut members: Vec<String> =
                        g.members.iter().map(|m| m.value.clone()).collect();
                    members.sort();
                    members.dedup();
                    out.groups.push(model::Group {
                        name: g.name.name.clone(),
                        note: g.note.as_ref().map(|n| n.value.clone()),
                        members,
                    });
                }
                ItemKind::Provision(p) => {
                    if let Some(first) = provision_ids.get(&p.id.name).copied() {
                        self.duplicate("provision id", &p.id.name, p.id.span, first);
                    } else {
                        provision_ids.insert(p.id.name.clone(), p.id.span);
                    }
                    if let Some(provision) = self.provision(p, item.span) {
                        out.provisions.push(provision);
                    }
                }
                ItemKind::Deferred(d) => {
                    if let Some(first) = provision_ids.get(&d.id.name).copied() {
                        self.duplicate("provision id", &d.id.name, d.id.span, first);
                    } else {
                        provision_ids.insert(d.id.name.clone(), d.id.span);
                    }
                    out.deferred.push(model::Deferred {
                        id: d.id.name.clone(),
                        title: d
                            .title
                            .as_ref()
                            .map_or_else(|| d.id.name.clone(), |t| t.value.clone()),
                        note: d.note.as_ref().map(|n| n.value.clone()),
                    });
                }
                ItemKind::Interpretation(_) | ItemKind::Parties(_) => {}
                ItemKind::Category(_) | ItemKind::EventType(_) => {}
            }
        }

        // Quantities: check each, then refuse cycles and order by dependency.
        let mut quantities = Vec::new();
        for (q, span) in &quantity_decls {
            if let Some(checked) = self.quantity(q, *span) {
                quantities.push(checked);
            }
        }
        self.refuse_cycles(&quantities, None);
        out.quantities = quantities;
        let base_names: Vec<&model::Quantity> = out.quantities.iter().collect();
        let mut ordered = base_names.clone();
        model::order_by_dependencies(&mut ordered);
        out.quantities = ordered.into_iter().cloned().collect();

        for item in &treaty.items {
            if let ItemKind::Interpretation(i) = &item.kind {
                if let Some(first) = interpretation_ids.get(&i.id.name).copied() {
                    self.duplicate("interpretation", &i.id.name, i.id.span, first);
                    continue;
                }
                interpretation_ids.insert(i.id.name.clone(), i.id.span);
                let mut overrides = Vec::new();
                for (q, span) in &i.quantities {
                    let Some((base_ty, _)) = self.quantities.get(&q.name.name).cloned() else {
                        let names: Vec<&str> = self.quantities.keys().map(String::as_str).collect();
                        self.error(
                            Diagnostic::error(
                                "E0302",
                                format!(
                                    "interpretation `{}` redefines `{}`, which is not a quantity of the treaty",
                                    i.id.name, q.name.name
                                ),
                                q.name.span,
                            )
                            .maybe_help(
                                did_you_mean_help(&q.name.name, names),
                            ),
                        );
                        continue;
                    };
                    if let Some(checked) = self.quantity(q, *span) {
                        if checked.ty != base_ty {
                            self.error(
                                Diagnostic::error(
                                    "E0304",
                                    format!(
                                        "quantity `{}` has type `{}` in the treaty but `{}` here",
                                        q.name.name, base_ty, checked.ty
                                    ),
                                    q.name.span,
                                )
                                .help("an interpretation may change how a quantity is counted, not its type"),
                            );
                        }
                        overrides.push(checked);
                    }
                }
                let mut merged: Vec<model::Quantity> = out
                    .quantities
                    .iter()
                    .map(|q| {
                        overrides
                            .iter()
                            .find(|o| o.name == q.name)
                            .unwrap_or(q)
                            .clone()
                    })
                    .collect();
                self.refuse_cycles(&merged, Some(&i.id.name));
                merged.clear();
                out.interpretations.push(model::Interpretation {
                    id: i.id.name.clone(),
                    title: i
                        .title
                        .as_ref()
                        .map_or_else(|| i.id.name.clone(), |t| t.value.clone()),
                    quantities: overrides,
                });
            }
        }
        out
    }

    /// Records a category (or an event type): the two share one namespace, since counts
    /// name either.
    fn register_kind(&mut self, treaty: &ast::Treaty, decl: &ast::KindDecl, category: bool) {
        let kind = self.kind_decl(decl);
        let name = &decl.name.name;
        let (own, other) = if category {
            (&self.categories, &self.event_types)
        } else {
            (&self.event_types, &self.categories)
        };
        let what = if category { "category" } else { "event type" };
        if own.contains_key(name) {
            let first = self.kind_span(treaty, name, category);
            self.duplicate(what, name, decl.name.span, first);
        } else if other.contains_key(name) {
            let first = self.kind_span(treaty, name, !category);
            self.duplicate("name", name, decl.name.span, first);
        } else if category {
            self.categories.insert(name.clone(), kind);
        } else {
            self.event_types.insert(name.clone(), kind);
        }
    }

    fn kind_span(&self, treaty: &ast::Treaty, name: &str, category: bool) -> Span {
        treaty
            .items
            .iter()
            .find_map(|item| match &item.kind {
                ItemKind::Category(d) if category && d.name.name == name => Some(d.name.span),
                ItemKind::EventType(d) if !category && d.name.name == name => Some(d.name.span),
                _ => None,
            })
            .unwrap_or_default()
    }

    fn kind_decl(&mut self, decl: &ast::KindDecl) -> model::Kind {
        let mut attrs: Vec<(String, Type)> = Vec::new();
        let mut spans: Vec<Span> = Vec::new();
        for attr in &decl.attrs {
            let ty = self.type_expr(&attr.ty);
            if let Some(i) = attrs.iter().position(|(n, _)| *n == attr.name.name) {
                let first = spans.get(i).copied().unwrap_or_default();
                self.duplicate("attribute", &attr.name.name, attr.name.span, first);
                continue;
            }
            if matches!(
                attr.name.name.as_str(),
                "party" | "id" | "location" | "from" | "until" | "at"
            ) {
                self.error(
                    Diagnostic::error(
                        "E0303",
                        format!("`{}` is a built-in field and cannot be an attribute", attr.name.name),
                        attr.name.span,
                    )
                    .help("every item has a party, an id, a location and `from`/`until`; every event has `at`"),
                );
                continue;
            }
            attrs.push((attr.name.name.clone(), ty));
            spans.push(attr.name.span);
        }
        model::Kind {
            name: decl.name.name.clone(),
            note: decl.note.as_ref().map(|n| n.value.clone()),
            attrs,
        }
    }

    fn type_expr(&mut self, t: &ast::TypeExpr) -> Type {
        match &t.kind {
            TypeKind::Int => Type::Int,
            TypeKind::Decimal => Type::Decimal,
            TypeKind::Bool => Type::Bool,
            TypeKind::String => Type::Str,
            TypeKind::Date => Type::Date,
            TypeKind::Instant => Type::Instant,
            TypeKind::Duration => Type::Duration,
            TypeKind::Enum(values) => {
                let mut names: Vec<String> = Vec::new();
                for v in values {
                    if names.contains(&v.name) {
                        self.error(
                            Diagnostic::error(
                                "E0303",
                                format!("enum value `{}` is listed twice", v.name),
                                v.span,
                            )
                            .help("list each value once"),
                        );
                    } else {
                        names.push(v.name.clone());
                    }
                }
                Type::Enum(names)
            }
        }
    }

    /// The type of a param's default when it has no annotation.
    fn literal_type(&mut self, e: &ast::Expr) -> Type {
        // Infer without reporting: the full check happens in pass 2. The params are lent to
        // the scratch checker, not copied: a copy per param is quadratic in long files.
        let mut scratch = Checker {
            params: std::mem::take(&mut self.params),
            ..Checker::default()
        };
        let ty = scratch.expr(e, Scope::Constant).unwrap_or(Type::Decimal);
        self.params = scratch.params;
        ty
    }

    fn quantity_type_hint(&mut self, q: &ast::QuantityDecl) -> Type {
        match &q.ty {
            Some(t) => {
                let ty = self.type_expr(t);
                if ty.is_numeric() {
                    ty
                } else {
                    self.error(
                        Diagnostic::error(
                            "E0304",
                            format!("quantity `{}` has type `{ty}`", q.name.name),
                            t.span,
                        )
                        .label("quantities are numbers")
                        .help("use `int` or `decimal`"),
                    );
                    Type::Decimal
                }
            }
            // Refined after the expression is checked; `int` is the default for counts.
            None => Type::Int,
        }
    }

    fn quantity(&mut self, q: &ast::QuantityDecl, span: Span) -> Option<model::Quantity> {
        let annotated = q.ty.as_ref().map(|t| match &t.kind {
            TypeKind::Decimal => Type::Decimal,
            _ => Type::Int,
        });
        let (ty, expr) = match &q.value {
            Some(value) => {
                let found = self.expr(value, Scope::Quantity)?;
                if !found.is_numeric() {
                    self.error(
                        Diagnostic::error(
                            "E0304",
                            format!("quantity `{}` must be a number", q.name.name),
                            value.span,
                        )
                        .label(expected_type("`int` or `decimal`", &found))
                        .help("a quantity counts or adds up items, events, declared numbers and params"),
                    );
                    return None;
                }
                let ty = match annotated {
                    Some(Type::Int) if found == Type::Decimal => {
                        self.error(
                            Diagnostic::error(
                                "E0304",
                                format!(
                                    "quantity `{}` is declared `int` but its value is a decimal",
                                    q.name.name
                                ),
                                value.span,
                            )
                            .label(expected_type("`int`", &found))
                            .help("declare it `decimal`, or remove the division"),
                        );
                        return None;
                    }
                    Some(t) => t,
                    None => found,
                };
                (ty, Some(self.lower(value, Scope::Quantity)?))
            }
            None => {
                if !q.declared {
                    self.error(
                        Diagnostic::error(
                            "E0307",
                            format!("quantity `{}` has no definition", q.name.name),
                            q.name.span,
                        )
                        .help(format!(
                            "define it with `= EXPRESSION`, or mark it `declared` if parties declare it: `quantity {}: int declared`",
                            q.name.name
                        )),
                    );
                    return None;
                }
                (annotated.unwrap_or(Type::Int), None)
            }
        };
        if let Some(entry) = self.quantities.get_mut(&q.name.name)
            && entry.1 == q.name.span
        {
            entry.0 = ty.clone();
        }
        Some(model::Quantity {
            name: q.name.name.clone(),
            ty,
            expr,
            declarable: q.declared,
            note: q.note.as_ref().map(|n| n.value.clone()),
            span: if q.name.span.is_empty() {
                span
            } else {
                q.name.span
            },
        })
    }

    fn refuse_cycles(&mut self, quantities: &[model::Quantity], interpretation: Option<&str>) {
        let deps = model::dependency_graph(quantities.iter());
        let spans: BTreeMap<&str, Span> = quantities
            .iter()
            .map(|q| (q.name.as_str(), q.span))
            .collect();
        let name = |i: usize| quantities.get(i).map_or("", |q| q.name.as_str());
        // One report per strongly connected component that holds a cycle: the first cycle a
        // depth-first search finds from the component's first quantity back to it. Both
        // searches use explicit stacks and are linear, so thousands of chained quantities
        // cost neither stack nor time.
        let mut on_path = vec![false; quantities.len()];
        let mut done = vec![false; quantities.len()];
        let mut cyclic: Vec<Vec<usize>> = model::components(&deps)
            .into_iter()
            .filter(|c| match c.as_slice() {
                [q] => deps.get(*q).is_some_and(|d| d.contains(q)),
                _ => true,
            })
            .collect();
        cyclic.sort_unstable();
        for component in cyclic {
            let Some(&start) = component.first() else {
                continue;
            };
            let mut path: Vec<usize> = vec![start];
            let mut iters: Vec<usize> = vec![0];
            let mut cycle: Option<Vec<&str>> = None;
            while let (Some(&node), Some(next)) = (path.last(), iters.last_mut()) {
                let children = deps.get(node).map(Vec::as_slice).unwrap_or_default();
                if let Some(&child) = children.get(*next) {
                    *next += 1;
                    if child == start {
                        let mut names: Vec<&str> = path.iter().map(|&i| name(i)).collect();
                        names.push(name(start));
                        cycle = Some(names);
                        break;
                    }
                    if component.binary_search(&child).is_ok()
                        && on_path.get(child) == Some(&false)
                        && done.get(child) == Some(&false)
                    {
                        if let Some(slot) = on_path.get_mut(child) {
                            *slot = true;
                        }
                        path.push(child);
                        iters.push(0);
                    }
                } else {
                    if let Some(slot) = done.get_mut(node) {
                        *slot = true;
                    }
                    if let Some(slot) = on_path.get_mut(node) {
                        *slot = false;
                    }
                    path.pop();
                    iters.pop();
                }
            }
            for &i in &path {
                if let Some(slot) = on_path.get_mut(i) {
                    *slot = false;
                }
            }
            if let Some(cycle) = cycle {
                let on_cycle: BTreeSet<&str> = cycle.iter().copied().collect();
                let tangled: Vec<&str> = component
                    .iter()
                    .map(|&i| name(i))
                    .filter(|n| !on_cycle.contains(n))
                    .collect();
                self.report_cycle(&cycle, &tangled, &spans, interpretation);
            }
        }
    }

    /// Reports `cycle`; `tangled` are the other quantities that form cycles with it.
    fn report_cycle(
        &mut self,
        cycle: &[&str],
        tangled: &[&str],
        spans: &BTreeMap<&str, Span>,
        interpretation: Option<&str>,
    ) {
        let first = cycle.first().copied().unwrap_or("");
        let shown = cycle
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(" → ");
        let context =
            interpretation.map_or_else(String::new, |i| format!(" under interpretation `{i}`"));
        let span = spans.get(first).copied().unwrap_or_default();
        let mut d = Diagnostic::error(
            "E0301",
            format!("quantity `{first}` refers to itself{context}: {shown}"),
            span,
        )
        .label("this quantity depends on itself");
        for name in cycle.iter().skip(1).take(cycle.len().saturating_sub(2)) {
            if let Some(s) = spans.get(name) {
                d = d.with_label(*s, format!("`{name}` is part of the cycle"));
            }
        }
        for name in tangled {
            if let Some(s) = spans.get(name) {
                d = d.with_label(*s, format!("`{name}` is part of another cycle with them"));
            }
        }
        self.error(d.help("quantities may not refer to themselves; define one of them from facts or params instead"));
    }

    fn zone(&mut self, z: &ast::ZoneDecl) -> Option<model::Zone> {
        let shape = match &z.shape {
            ast::ZoneShape::File(path) => {
                if path.value.trim().is_empty() {
                    self.error(
                        Diagnostic::error("E0308", "zone file path is empty", path.span)
                            .help("give the GeoJSON file's path relative to the treaty file"),
                    );
                    return None;
                }
                model::ZoneSource::File(path.value.clone())
            }
            ast::ZoneShape::Polygon(points) => {
                let mut vertices = Vec::new();
                for (lat, lon) in points {
                    vertices.push(self.coordinate(lat, lon)?);
                }
                if vertices.len() < 3 {
                    self.error(
                        Diagnostic::error(
                            "E0308",
                            format!(
                                "zone `{}` has {} points; a polygon needs at least 3",
                                z.name.name,
                                vertices.len()
                            ),
                            z.name.span,
                        )
                        .help("list the polygon's corners as (latitude, longitude) pairs"),
                    );
                    return None;
                }
                model::ZoneSource::Polygon(vertices)
            }
            ast::ZoneShape::Circle {
                center,
                radius,
                unit,
            } => {
                let (lat, lon) = self.coordinate(&center.0, &center.1)?;
                let value = self.number_literal(radius, "a radius")?;
                let factor = match unit.name.as_str() {
                    "km" => 1.0,
                    "nmi" => 1.852,
                    other => {
                        self.error(
                            Diagnostic::error(
                                "E0308",
                                format!("unknown distance unit `{other}`"),
                                unit.span,
                            )
                            .help("use `km` or `nmi` (nautical miles)"),
                        );
                        return None;
                    }
                };
                if value <= 0.0 {
                    self.error(
                        Diagnostic::error(
                            "E0308",
                            "a circle's radius must be positive",
                            radius.span,
                        )
                        .help("write the radius as a positive number"),
                    );
                    return None;
                }
                model::ZoneSource::Circle {
                    lat,
                    lon,
                    radius_km: value * factor,
                }
            }
        };
        Some(model::Zone {
            name: z.name.name.clone(),
            note: z.note.as_ref().map(|n| n.value.clone()),
            shape,
        })
    }

    fn number_literal(&mut self, e: &ast::Expr, what: &str) -> Option<f64> {
        match e.kind {
            ExprKind::Int(n) => Some(n as f64),
            ExprKind::Decimal(v) => Some(v),
            _ => {
                self.error(
                    Diagnostic::error("E0308", format!("expected {what} as a number"), e.span)
                        .help("coordinates and radii are number literals, in degrees or in the given unit"),
                );
                None
            }
        }
    }

    fn coordinate(&mut self, lat: &ast::Expr, lon: &ast::Expr) -> Option<(f64, f64)> {
        let la = self.number_literal(lat, "a latitude")?;
        let lo = self.number_literal(lon, "a longitude")?;
        if !(-90.0..=90.0).contains(&la) {
            self.error(
                Diagnostic::error(
                    "E0308",
                    format!("latitude `{}` is outside -90..90", crate::format::expr(lat)),
                    lat.span,
                )
                .help("points are written (latitude, longitude), latitude first"),
            );
            return None;
        }
        if !(-180.0..=180.0).contains(&lo) {
            self.error(
                Diagnostic::error(
                    "E0308",
                    format!(
                        "longitude `{}` is outside -180..180",
                        crate::format::expr(lon)
                    ),
                    lon.span,
                )
                .help("points are written (latitude, longitude), latitude first"),
            );
            return None;
        }
        Some((la, lo))
    }

    fn party(&mut self, p: &ast::Ident) -> bool {
        if self.parties.contains(&p.name) {
            return true;
        }
        let help = did_you_mean_help(&p.name, self.parties.iter().map(String::as_str))
            .unwrap_or_else(|| format!("the parties are {}", list(&self.parties)));
        self.error(
            Diagnostic::error("E0302", format!("unknown party `{}`", p.name), p.span).help(help),
        );
        false
    }

    fn provision(&mut self, p: &ast::Provision, span: Span) -> Option<model::Provision> {
        let from = p
            .from
            .as_ref()
            .and_then(|e| self.typed(e, &Type::Date, Scope::Constant, "the provision's start"));
        let until = p
            .until
            .as_ref()
            .and_then(|e| self.typed(e, &Type::Date, Scope::Constant, "the provision's end"));
        let rule = match p.kind {
            ProvisionKind::Limit | ProvisionKind::Objective => self.limit(p)?,
            ProvisionKind::Ban => self.ban(p)?,
            ProvisionKind::Notify => self.notify(p)?,
            ProvisionKind::Declare => self.declare(p)?,
        };
        Some(model::Provision {
            id: p.id.name.clone(),
            kind: p.kind,
            title: p
                .title
                .as_ref()
                .map_or_else(|| p.id.name.clone(), |t| t.value.clone()),
            article: p.article.as_ref().map(|a| a.value.clone()),
            from,
            until,
            rule,
            span: if p.id.span.is_empty() {
                span
            } else {
                p.id.span
            },
        })
    }

    fn wrong_statement(&mut self, p: &ast::Provision, stmt: &ast::Stmt, expected: &str) {
        self.error(
            Diagnostic::error(
                "E0201",
                format!(
                    "this statement does not belong in a `{}` provision",
                    p.kind.keyword()
                ),
                stmt.span,
            )
            .help(format!(
                "a `{}` provision holds {expected}",
                p.kind.keyword()
            )),
        );
    }

    fn limit(&mut self, p: &ast::Provision) -> Option<model::Rule> {
        let mut clauses = Vec::new();
        let mut covered: BTreeMap<String, Span> = BTreeMap::new();
        let mut ok = true;
        for stmt in &p.body {
            let StmtKind::Clause {
                lhs,
                op,
                schedule,
                parties,
            } = &stmt.kind
            else {
                self.wrong_statement(p, stmt, "comparisons such as `sdv <= 2400`");
                ok = false;
                continue;
            };
            let lhs_checked = self.typed(
                lhs,
                &Type::Decimal,
                Scope::Quantity,
                "the left side of the comparison",
            );
            let schedule = self.schedule(schedule);
            let mut names = Vec::new();
            for party in parties {
                if self.party(party) {
                    names.push(party.name.clone());
                }
            }
            let keys: Vec<String> = if parties.is_empty() {
                vec![String::new()]
            } else {
                names.clone()
            };
            for key in keys {
                if let Some(first) = covered.get(&key).copied() {
                    let who = if key.is_empty() {
                        "every party".to_owned()
                    } else {
                        format!("`{key}`")
                    };
                    self.error(
                        Diagnostic::error("E0306", format!("two clauses apply to {who}"), stmt.span)
                            .with_label(first, "the first clause")
                            .help("give each party one clause; a clause without `for` applies to the others"),
                    );
                    ok = false;
                } else {
                    covered.insert(key, stmt.span);
                }
            }
            match (lhs_checked, schedule) {
                (Some(lhs), Some(schedule)) => clauses.push(model::Clause {
                    lhs,
                    op: *op,
                    schedule,
                    parties: names,
                }),
                _ => ok = false,
            }
        }
        if p.body.is_empty() {
            self.error(
                Diagnostic::error(
                    "E0306",
                    format!("{} `{}` has no comparison", p.kind.keyword(), p.id.name),
                    p.id.span,
                )
                .help("add a comparison such as `sdv <= sdv_ceiling` inside the braces"),
            );
            return None;
        }
        ok.then_some(model::Rule::Limit { clauses })
    }

    fn schedule(&mut self, s: &ast::Schedule) -> Option<model::Schedule> {
        match s {
            ast::Schedule::Piecewise(entries) => {
                let mut out = Vec::new();
                let mut last_date: Option<(Date, Span)> = None;
                let mut ok = true;
                for (bound, date) in entries {
                    let b = self.typed(bound, &Type::Decimal, Scope::Quantity, "the bound");
                    let d = match date {
                        Some(d) => {
                            if let ExprKind::Date(value) = d.kind {
                                if let Some((prev, prev_span)) = last_date
                                    && value <= prev
                                {
                                    self.error(
                                        Diagnostic::error(
                                            "E0306",
                                            format!("schedule dates must increase, but `{value}` is not after `{prev}`"),
                                            d.span,
                                        )
                                        .with_label(prev_span, "the previous date")
                                        .help("list the bounds in the order they take effect"),
                                    );
                                    ok = false;
                                }
                                last_date = Some((value, d.span));
                            }
                            match self.typed(
                                d,
                                &Type::Date,
                                Scope::Constant,
                                "the bound's start date",
                            ) {
                                Some(e) => Some(e),
                                None => {
                                    ok = false;
                                    None
                                }
                            }
                        }
                        None => None,
                    };
                    match b {
                        Some(b) => out.push((b, d)),
                        None => ok = false,
                    }
                }
                ok.then_some(model::Schedule::Piecewise(out))
            }
            ast::Schedule::Steps {
                start,
                target,
                every,
                until,
            } => {
                let start =
                    self.typed(start, &Type::Decimal, Scope::Quantity, "the starting level");
                let target =
                    self.typed(target, &Type::Decimal, Scope::Quantity, "the target level");
                let every_checked =
                    self.typed(every, &Type::Duration, Scope::Constant, "the step interval");
                if let ExprKind::Duration(n, _) = every.kind
                    && n <= 0
                {
                    self.error(
                        Diagnostic::error(
                            "E0306",
                            "the step interval must be positive",
                            every.span,
                        )
                        .help("write it as `every 1 year`"),
                    );
                    return None;
                }
                let until = self.typed(
                    until,
                    &Type::Date,
                    Scope::Constant,
                    "the date the steps end",
                );
                Some(model::Schedule::Steps {
                    start: start?,
                    target: target?,
                    every: every_checked?,
                    until: until?,
                })
            }
        }
    }

    fn ban(&mut self, p: &ast::Provision) -> Option<model::Rule> {
        let mut targets = Vec::new();
        let mut exceptions_ast = Vec::new();
        let mut ok = true;
        let mut kinds_in_ban: Vec<model::Kind> = Vec::new();
        for stmt in &p.body {
            match &stmt.kind {
                StmtKind::Target {
                    subject,
                    names,
                    filter,
                    within,
                } => {
                    let mut resolved = Vec::new();
                    let mut kinds = Vec::new();
                    for name in names {
                        match self.kind_ref(*subject, name) {
                            Some(kind) => {
                                resolved.push(name.name.clone());
                                kinds.push(kind);
                            }
                            None => ok = false,
                        }
                    }
                    let filter = match filter {
                        Some(f) if !kinds.is_empty() => {
                            let refs: Vec<&model::Kind> = kinds.iter().collect();
                            let checked = self.filter(f, &refs);
                            if checked.is_none() {
                                ok = false;
                            }
                            checked
                        }
                        _ => None,
                    };
                    let within = within.as_ref().and_then(|z| self.zone_ref(z));
                    kinds_in_ban.extend(kinds);
                    targets.push(model::BanTarget {
                        subject: *subject,
                        names: resolved,
                        filter,
                        within,
                    });
                }
                StmtKind::Except { .. } => exceptions_ast.push(stmt),
                _ => {
                    self.wrong_statement(p, stmt, "`item …`, `event …` and `except …` statements");
                    ok = false;
                }
            }
        }
        if targets.is_empty() {
            self.error(
                Diagnostic::error(
                    "E0201",
                    format!("ban `{}` bans nothing", p.id.name),
                    p.id.span,
                )
                .help("add `item CATEGORY` or `event TYPE` inside the braces"),
            );
            return None;
        }
        let mut exceptions = Vec::new();
        for stmt in exceptions_ast {
            if let StmtKind::Except {
                filter,
                within,
                until,
                note,
            } = &stmt.kind
            {
                let refs: Vec<&model::Kind> = kinds_in_ban.iter().collect();
                let filter = match filter {
                    Some(f) => match self.filter(f, &refs) {
                        Some(f) => Some(f),
                        None => {
                            ok = false;
                            None
                        }
                    },
                    None => None,
                };
                let within = within.as_ref().and_then(|z| self.zone_ref(z));
                let until = until.as_ref().and_then(|u| {
                    self.typed(u, &Type::Date, Scope::Constant, "the exception's sunset")
                });
                exceptions.push(model::Exception {
                    filter,
                    within,
                    until,
                    note: note.as_ref().map(|n| n.value.clone()),
                });
            }
        }
        ok.then_some(model::Rule::Ban {
            targets,
            exceptions,
        })
    }

    fn kind_ref(&mut self, subject: Subject, name: &ast::Ident) -> Option<model::Kind> {
        let (own, other, what, other_what, other_kw) = match subject {
            Subject::Item => (
                &self.categories,
                &self.event_types,
                "category",
                "an event type",
                "event",
            ),
            Subject::Event => (
                &self.event_types,
                &self.categories,
                "event type",
                "a category",
                "item",
            ),
        };
        if let Some(kind) = own.get(&name.name) {
            return Some(kind.clone());
        }
        let help = if other.contains_key(&name.name) {
            format!(
                "`{}` is {other_what}; write `{other_kw} {}`",
                name.name, name.name
            )
        } else {
            did_you_mean_help(&name.name, own.keys().map(String::as_str)).unwrap_or_else(|| {
                format!(
                    "declare it with `{} {}`",
                    if subject == Subject::Item {
                        "category"
                    } else {
                        "event"
                    },
                    name.name
                )
            })
        };
        self.error(
            Diagnostic::error(
                "E0302",
                format!("unknown {what} `{}`", name.name),
                name.span,
            )
            .help(help),
        );
        None
    }

    fn zone_ref(&mut self, z: &ast::Ident) -> Option<String> {
        if self.zones.contains_key(&z.name) {
            return Some(z.name.clone());
        }
        let help = did_you_mean_help(&z.name, self.zones.keys().map(String::as_str))
            .unwrap_or_else(|| format!("declare it with `zone {} = file \"…\"`", z.name));
        self.error(
            Diagnostic::error("E0302", format!("unknown zone `{}`", z.name), z.span).help(help),
        );
        None
    }

    fn filter(&mut self, f: &ast::Expr, kinds: &[&model::Kind]) -> Option<Expr> {
        let ty = self.expr(f, Scope::Filter(kinds))?;
        if ty != Type::Bool {
            self.error(
                Diagnostic::error("E0304", "a filter must be true or false", f.span)
                    .label(expected_type("`bool`", &ty))
                    .help("compare an attribute, as in `purpose == \"peaceful\"`, or name a `bool` attribute"),
            );
            return None;
        }
        self.lower(f, Scope::Filter(kinds))
    }

    fn notify(&mut self, p: &ast::Provision) -> Option<model::Rule> {
        let mut event_type = None;
        let mut lead = None;
        let mut stating = Vec::new();
        let mut ok = true;
        for stmt in &p.body {
            match &stmt.kind {
                StmtKind::NotifyEvent(name) => {
                    if event_type.is_some() {
                        self.error(
                            Diagnostic::error(
                                "E0303",
                                "a notification duty names one event type",
                                stmt.span,
                            )
                            .help("write a separate `notify` provision for each event type"),
                        );
                        ok = false;
                    }
                    match self.kind_ref(Subject::Event, name) {
                        Some(_) => event_type = Some(name.name.clone()),
                        None => ok = false,
                    }
                }
                StmtKind::Lead(e) => {
                    lead = self.typed(e, &Type::Duration, Scope::Constant, "the lead time");
                    if lead.is_none() {
                        ok = false;
                    }
                }
                StmtKind::Stating(fields) => {
                    for field in fields {
                        match model::NotifyField::ALL
                            .iter()
                            .find(|f| f.name() == field.name)
                        {
                            Some(f) => stating.push(*f),
                            None => {
                                let help = did_you_mean_help(
                                    &field.name,
                                    model::NotifyField::ALL.iter().map(|f| f.name()),
                                )
                                .unwrap_or_else(|| {
                                    "the fields are `window`, `launch_area` and `impact_area`"
                                        .to_owned()
                                });
                                self.error(
                                    Diagnostic::error(
                                        "E0302",
                                        format!("unknown notification field `{}`", field.name),
                                        field.span,
                                    )
                                    .help(help),
                                );
                                ok = false;
                            }
                        }
                    }
                }
                _ => {
                    self.wrong_statement(
                        p,
                        stmt,
                        "`event TYPE`, `lead DURATION` and `stating FIELD, …`",
                    );
                    ok = false;
                }
            }
        }
        stating.sort();
        stating.dedup();
        let Some(event_type) = event_type else {
            if ok {
                self.error(
                    Diagnostic::error(
                        "E0201",
                        format!("notify `{}` names no event type", p.id.name),
                        p.id.span,
                    )
                    .help("add `event TYPE` inside the braces"),
                );
            }
            return None;
        };
        let lead = lead.unwrap_or(Expr::Duration(Duration::new(
            0,
            crate::time::TimeUnit::Hour,
        )));
        ok.then_some(model::Rule::Notify {
            event_type,
            lead,
            stating,
        })
    }

    fn declare(&mut self, p: &ast::Provision) -> Option<model::Rule> {
        let mut quantities = None;
        let mut as_of = Vec::new();
        let mut due = None;
        let mut ok = true;
        for stmt in &p.body {
            match &stmt.kind {
                StmtKind::Quantities(None) => {
                    let mut all: Vec<(String, Span)> = self
                        .quantities
                        .iter()
                        .map(|(n, (_, s))| (n.clone(), *s))
                        .collect();
                    all.retain(|(n, _)| self.declarable.contains(n));
                    all.sort_by_key(|(_, s)| *s);
                    quantities = Some(all.into_iter().map(|(n, _)| n).collect::<Vec<_>>());
                }
                StmtKind::Quantities(Some(names)) => {
                    let mut list = Vec::new();
                    for name in names {
                        if self.declarable.contains(&name.name) {
                            list.push(name.name.clone());
                        } else if self.quantities.contains_key(&name.name) {
                            self.error(
                                Diagnostic::error("E0307", format!("quantity `{}` is not declarable", name.name), name.span)
                                    .help(format!("mark it `declared` where it is defined: `quantity {} = … declared`", name.name)),
                            );
                            ok = false;
                        } else {
                            let help = did_you_mean_help(
                                &name.name,
                                self.quantities.keys().map(String::as_str),
                            );
                            self.error(
                                Diagnostic::error(
                                    "E0302",
                                    format!("unknown quantity `{}`", name.name),
                                    name.span,
                                )
                                .maybe_help(help),
                            );
                            ok = false;
                        }
                    }
                    quantities = Some(list);
                }
                StmtKind::AsOf(dates) => {
                    for (day, month) in dates {
                        let Some(m) = month_number(&month.name) else {
                            let help = did_you_mean_help(&month.name, MONTHS.iter().copied())
                                .unwrap_or_else(|| {
                                    "write the month's English name, as in `1 January`".to_owned()
                                });
                            self.error(
                                Diagnostic::error(
                                    "E0307",
                                    format!("`{}` is not a month", month.name),
                                    month.span,
                                )
                                .help(help),
                            );
                            ok = false;
                            continue;
                        };
                        let d = match day.kind {
                            ExprKind::Int(n) => u8::try_from(n).ok(),
                            _ => None,
                        };
                        // Checked against a common year: a yearly date must exist every year.
                        match d.filter(|d| *d >= 1 && *d <= crate::time::days_in_month(2001, m)) {
                            Some(d) => as_of.push((m, d)),
                            None => {
                                self.error(
                                    Diagnostic::error("E0307", format!("`{} {}` is not a day of every year", day_text(day), month.name), day.span.to(month.span))
                                        .help("use a day that exists in every year (29 February does not)"),
                                );
                                ok = false;
                            }
                        }
                    }
                }
                StmtKind::Due(e) => {
                    due = self.typed(e, &Type::Duration, Scope::Constant, "the time allowed");
                    if due.is_none() {
                        ok = false;
                    }
                }
                _ => {
                    self.wrong_statement(
                        p,
                        stmt,
                        "`quantities …`, `as_of DAY MONTH, …` and `due DURATION`",
                    );
                    ok = false;
                }
            }
        }
        as_of.sort_unstable();
        as_of.dedup();
        if as_of.is_empty() && ok {
            self.error(
                Diagnostic::error(
                    "E0307",
                    format!("declare `{}` names no as-of dates", p.id.name),
                    p.id.span,
                )
                .help("add `as_of 1 January, 1 July` inside the braces"),
            );
            return None;
        }
        let quantities = quantities.unwrap_or_default();
        let due = due.unwrap_or(Expr::Duration(Duration::new(0, crate::time::TimeUnit::Day)));
        ok.then_some(model::Rule::Declare {
            quantities,
            as_of,
            due,
        })
    }

    // ----- expressions --------------------------------------------------------------------

    /// Checks `e` against an expected type and lowers it.
    fn typed(
        &mut self,
        e: &ast::Expr,
        expected: &Type,
        scope: Scope<'_>,
        what: &str,
    ) -> Option<Expr> {
        let found = self.expr(e, scope)?;
        let fits = if *expected == Type::Decimal {
            found.is_numeric()
        } else {
            found.fits(expected)
        };
        if !fits {
            let wanted = if *expected == Type::Decimal {
                "a number".to_owned()
            } else {
                a_type(expected)
            };
            let help = match expected {
                Type::Decimal => "use a quantity, a param or a number literal".to_owned(),
                Type::Int => "write a whole number, such as `2400`".to_owned(),
                Type::Date => {
                    "write a date, such as `1979-06-18` or `in_force + 3 years`".to_owned()
                }
                Type::Instant => {
                    "write an instant, such as `1979-06-18T10:00:00Z`, or a date".to_owned()
                }
                Type::Duration => {
                    "write a duration, such as `24h`, `30 days` or `6 months`".to_owned()
                }
                _ => format!("{what} must be {wanted}"),
            };
            self.error(
                Diagnostic::error(
                    "E0304",
                    format!("expected {wanted} for {what}, found {}", a_type(&found)),
                    e.span,
                )
                .label(format!("this is {}", a_type(&found)))
                .help(help),
            );
            return None;
        }
        self.lower(e, scope)
    }

    fn unknown_name(&mut self, name: &str, span: Span, scope: Scope<'_>) {
        let mut candidates: Vec<&str> = Vec::new();
        match scope {
            Scope::Filter(kinds) => {
                for k in kinds {
                    candidates.extend(k.attrs.iter().map(|(n, _)| n.as_str()));
                }
                candidates.extend(self.params.keys().map(String::as_str));
            }
            Scope::Quantity => {
                candidates.extend(self.quantities.keys().map(String::as_str));
                candidates.extend(self.params.keys().map(String::as_str));
                candidates.extend(["in_force", "signed"]);
            }
            Scope::Constant => {
                candidates.extend(self.params.keys().map(String::as_str));
                candidates.extend(["in_force", "signed"]);
            }
        }
        let wanted = match scope {
            Scope::Filter(_) => "an attribute",
            Scope::Quantity | Scope::Constant => "a number",
        };
        let (message, help) = if self.categories.contains_key(name) {
            (
                format!("`{name}` is a category, not {wanted}"),
                Some(format!(
                    "count its items with `count({name})` in a quantity"
                )),
            )
        } else if self.event_types.contains_key(name) {
            (
                format!("`{name}` is an event type, not {wanted}"),
                Some(format!(
                    "count its events with `count({name} per year)` in a quantity"
                )),
            )
        } else if matches!(scope, Scope::Constant) && self.quantities.contains_key(name) {
            (
                format!("quantity `{name}` cannot be used in a param, a date or a duration"),
                Some(
                    "these are known before any fact is read, and a quantity only from facts"
                        .to_owned(),
                ),
            )
        } else {
            let what = match scope {
                Scope::Filter(_) => "attribute",
                Scope::Quantity => "quantity or param",
                Scope::Constant => "param",
            };
            let keyword = crate::parser::ITEM_KEYWORDS.contains(&name)
                && !matches!(name, "in_force" | "signed");
            let help = if keyword {
                Some(format!(
                    "`{name}` starts a statement: is the expression before it unfinished?"
                ))
            } else {
                did_you_mean_help(name, candidates)
            };
            (format!("unknown {what} `{name}`"), help)
        };
        let help = help.or_else(|| match scope {
            Scope::Filter(kinds) => Some(format!(
                "the attributes here are {}",
                list(
                    &kinds
                        .iter()
                        .flat_map(|k| k.attrs.iter().map(|(n, _)| n.clone()))
                        .collect::<Vec<_>>()
                )
            )),
            Scope::Quantity => Some(format!(
                "declare it with `quantity {name} = …` or `param {name} = …`"
            )),
            Scope::Constant => Some(format!("declare it with `param {name} = …`")),
        });
        let code = if message.starts_with("unknown attribute") {
            "E0305"
        } else {
            "E0302"
        };
        self.error(Diagnostic::error(code, message, span).maybe_help(help));
    }

    fn param_visible(&self, name: &str) -> bool {
        match self.visible_params {
            None => true,
            Some(count) => self.param_position.get(name).is_some_and(|&i| i < count),
        }
    }

    /// The type of an expression, reporting every problem found; `None` when it has none.
    fn expr(&mut self, e: &ast::Expr, scope: Scope<'_>) -> Option<Type> {
        match &e.kind {
            ExprKind::Int(_) => Some(Type::Int),
            ExprKind::Decimal(_) => Some(Type::Decimal),
            ExprKind::Str(_) => Some(Type::Str),
            ExprKind::Bool(_) => Some(Type::Bool),
            ExprKind::Date(_) => Some(Type::Date),
            ExprKind::Instant(_) => Some(Type::Instant),
            ExprKind::Duration(..) => Some(Type::Duration),
            ExprKind::Error => None,
            ExprKind::Paren(inner) => self.expr(inner, scope),
            ExprKind::Name(name) => self.name_type(name, e.span, scope),
            ExprKind::Neg(inner) => {
                let t = self.expr(inner, scope)?;
                if t.is_numeric() {
                    Some(t)
                } else {
                    self.mismatch(
                        inner.span,
                        "a number after `-`",
                        &t,
                        "only numbers can be negated",
                    );
                    None
                }
            }
            ExprKind::Not(inner) => {
                let t = self.expr(inner, scope)?;
                if t == Type::Bool {
                    Some(Type::Bool)
                } else {
                    self.mismatch(
                        inner.span,
                        "`bool` after `not`",
                        &t,
                        "`not` applies to a condition",
                    );
                    None
                }
            }
            ExprKind::And(a, b) | ExprKind::Or(a, b) => {
                let ta = self.expr(a, scope);
                let tb = self.expr(b, scope);
                let mut ok = true;
                for (t, side) in [(ta.clone(), a), (tb.clone(), b)] {
                    if let Some(t) = t
                        && t != Type::Bool
                    {
                        self.mismatch(
                            side.span,
                            "a condition (`bool`)",
                            &t,
                            "combine conditions with `and`/`or`, such as `mirv and mobile`",
                        );
                        ok = false;
                    }
                }
                (ok && ta.is_some() && tb.is_some()).then_some(Type::Bool)
            }
            ExprKind::Arith(op, a, b) => {
                let ta = self.expr(a, scope);
                let tb = self.expr(b, scope);
                let (ta, tb) = (ta?, tb?);
                use ast::ArithOp::*;
                match (op, &ta, &tb) {
                    (Div, x, y) if x.is_numeric() && y.is_numeric() => Some(Type::Decimal),
                    (_, Type::Int, Type::Int) => Some(Type::Int),
                    (_, x, y) if x.is_numeric() && y.is_numeric() => Some(Type::Decimal),
                    (Add | Sub, Type::Date, Type::Duration) => Some(Type::Date),
                    (Add | Sub, Type::Instant, Type::Duration) => Some(Type::Instant),
                    (Add, Type::Duration, Type::Date) => Some(Type::Date),
                    _ => {
                        self.error(
                            Diagnostic::error(
                                "E0304",
                                format!("cannot apply `{}` to `{ta}` and `{tb}`", op.symbol()),
                                e.span,
                            )
                            .with_label(a.span, format!("this is {}", a_type(&ta)))
                            .with_label(b.span, format!("this is {}", a_type(&tb)))
                            .help(
                                "arithmetic works on numbers, and `date + duration` moves a date",
                            ),
                        );
                        None
                    }
                }
            }
            ExprKind::Cmp(op, a, b) => {
                let ta = self.expr(a, scope);
                // An enum value is written as a bare name: check it against the enum's values
                // before it is taken for an unknown attribute.
                if let (Some(Type::Enum(values)), ExprKind::Name(s)) = (&ta, &b.kind)
                    && !values.contains(s)
                    && !matches!(self.name_kind(s, scope), NameKind::Attr | NameKind::Param)
                {
                    let values = values.clone();
                    self.enum_value_error(s, b.span, &values);
                    return None;
                }
                let tb = self.expr(b, scope);
                let (ta, tb) = (ta?, tb?);
                let numbers = ta.is_numeric() && tb.is_numeric();
                let dates = matches!(ta, Type::Date | Type::Instant)
                    && matches!(tb, Type::Date | Type::Instant);
                let same_kind =
                    numbers || dates || (ta.is_textual() && tb.is_textual()) || ta == tb;
                if !same_kind {
                    self.error(
                        Diagnostic::error(
                            "E0304",
                            format!("cannot compare `{ta}` with `{tb}` using `{}`", op.symbol()),
                            e.span,
                        )
                        .with_label(a.span, format!("this is {}", a_type(&ta)))
                        .with_label(b.span, format!("this is {}", a_type(&tb)))
                        .help("compare numbers with numbers, text with text, dates with dates"),
                    );
                    return None;
                }
                if !numbers && !dates && !matches!(op, ast::CmpOp::Eq | ast::CmpOp::Ne) {
                    self.error(
                        Diagnostic::error(
                            "E0304",
                            format!("`{}` cannot order `{ta}` values", op.symbol()),
                            e.span,
                        )
                        .label(format!(
                            "this compares {} with {}",
                            a_type(&ta),
                            a_type(&tb)
                        ))
                        .help(
                            "only numbers and dates are ordered; compare text, `bool` and \
                             `duration` values with `==` or `!=`",
                        ),
                    );
                    return None;
                }
                if let (Type::Enum(values), ExprKind::Str(s))
                | (Type::Enum(values), ExprKind::Name(s)) = (&ta, &b.kind)
                    && !values.contains(s)
                    && !matches!(self.name_kind(s, scope), NameKind::Attr | NameKind::Param)
                {
                    self.enum_value_error(s, b.span, values);
                    return None;
                }
                Some(Type::Bool)
            }
            ExprKind::In(a, set) => self.in_type(a, set, scope),
            ExprKind::Call(func, args) => {
                if args.len() < 2 {
                    self.error(
                        Diagnostic::error(
                            "E0304",
                            format!("`{}` takes at least two values", func.name),
                            e.span,
                        )
                        .help(format!("write `{}(a, b)`", func.name)),
                    );
                    return None;
                }
                let mut ty = Type::Int;
                let mut ok = true;
                for arg in args {
                    match self.expr(arg, scope) {
                        Some(Type::Decimal) => ty = Type::Decimal,
                        Some(Type::Int) => {}
                        Some(t) => {
                            self.mismatch(
                                arg.span,
                                "a number",
                                &t,
                                &format!("`{}` works on numbers", func.name),
                            );
                            ok = false;
                        }
                        None => ok = false,
                    }
                }
                ok.then_some(ty)
            }
            ExprKind::Aggregate { .. } => self.aggregate_type(e, scope),
        }
    }

    /// The type of `x in group` or `x in (a, b, …)`; apart from [`Checker::expr`] to keep its
    /// stack frame small, as it recurses once per level of the tree.
    fn in_type(&mut self, a: &ast::Expr, set: &ast::InSet, scope: Scope<'_>) -> Option<Type> {
        let ta = self.expr(a, scope)?;
        if !ta.is_textual() {
            self.mismatch(
                a.span,
                "text before `in`",
                &ta,
                "`in` tests whether a text attribute is in a group or a list",
            );
            return None;
        }
        match set {
            ast::InSet::Group(g) => {
                if !self.groups.contains_key(&g.name) {
                    if let Type::Enum(values) = &ta
                        && values.contains(&g.name)
                    {
                        return Some(Type::Bool);
                    }
                    let help = did_you_mean_help(&g.name, self.groups.keys().map(String::as_str))
                        .unwrap_or_else(|| {
                            format!("declare it with `group {} = {{ \"…\" }}`", g.name)
                        });
                    self.error(
                        Diagnostic::error("E0302", format!("unknown group `{}`", g.name), g.span)
                            .help(help),
                    );
                    return None;
                }
            }
            ast::InSet::List(values) => {
                for v in values {
                    match (&v.kind, &ta) {
                        (ExprKind::Str(_), _) => {}
                        (ExprKind::Name(n), Type::Enum(vals)) => {
                            if !vals.contains(n) {
                                self.enum_value_error(n, v.span, vals);
                                return None;
                            }
                        }
                        _ => {
                            self.error(
                                Diagnostic::error(
                                    "E0304",
                                    "a list after `in` holds text values",
                                    v.span,
                                )
                                .help("write the values in quotes, or as enum value names"),
                            );
                            return None;
                        }
                    }
                }
            }
        }
        Some(Type::Bool)
    }

    /// The type of `count(…)` or `sum(…)`; apart from [`Checker::expr`] like [`Checker::in_type`].
    fn aggregate_type(&mut self, e: &ast::Expr, scope: Scope<'_>) -> Option<Type> {
        let ExprKind::Aggregate {
            func,
            target,
            attr,
            filter,
            within,
            window,
        } = &e.kind
        else {
            return None;
        };
        if !matches!(scope, Scope::Quantity) {
            self.error(
                Diagnostic::error("E0304", "counts and sums belong in quantities", e.span)
                    .help("define a `quantity` with this count and use its name here"),
            );
            return None;
        }
        let (subject, kind) = if let Some(k) = self.categories.get(&target.name) {
            (Subject::Item, k.clone())
        } else if let Some(k) = self.event_types.get(&target.name) {
            (Subject::Event, k.clone())
        } else {
            let mut names: Vec<&str> = self.categories.keys().map(String::as_str).collect();
            names.extend(self.event_types.keys().map(String::as_str));
            let help = did_you_mean_help(&target.name, names).unwrap_or_else(|| {
                format!(
                    "declare it with `category {}` or `event {}`",
                    target.name, target.name
                )
            });
            self.error(
                Diagnostic::error(
                    "E0302",
                    format!("unknown category or event type `{}`", target.name),
                    target.span,
                )
                .help(help),
            );
            // Still check the rest for more errors.
            if let Some(z) = within {
                self.zone_ref(z);
            }
            return None;
        };
        let mut ok = true;
        let mut ty = Type::Int;
        if let Some(attr) = attr {
            match kind.attr(&attr.name) {
                Some(t) if t.is_numeric() => {
                    if *func == ast::AggFunc::Sum {
                        ty = t.clone();
                    }
                }
                Some(t) => {
                    let t = t.clone();
                    self.mismatch(
                        attr.span,
                        "a numeric attribute to add up",
                        &t,
                        "`sum` adds up `int` or `decimal` attributes",
                    );
                    ok = false;
                }
                None => {
                    let help =
                        did_you_mean_help(&attr.name, kind.attrs.iter().map(|(n, _)| n.as_str()))
                            .unwrap_or_else(|| {
                                format!(
                                    "the attributes of `{}` are {}",
                                    kind.name,
                                    list(
                                        &kind
                                            .attrs
                                            .iter()
                                            .map(|(n, _)| n.clone())
                                            .collect::<Vec<_>>()
                                    )
                                )
                            });
                    self.error(
                        Diagnostic::error(
                            "E0305",
                            format!("`{}` has no attribute `{}`", kind.name, attr.name),
                            attr.span,
                        )
                        .help(help),
                    );
                    ok = false;
                }
            }
            if *func == ast::AggFunc::Count {
                self.error(
                    Diagnostic::error(
                        "E0304",
                        "`count` counts whole items or events, not an attribute",
                        attr.span,
                    )
                    .help(format!(
                        "write `count({})`, or `sum({}.{})` to add the attribute up",
                        target.name, target.name, attr.name
                    )),
                );
                ok = false;
            }
        }
        if let Some(f) = filter {
            let kinds = [&kind];
            let t = self.expr(f, Scope::Filter(&kinds));
            match t {
                Some(Type::Bool) => {}
                Some(t) => {
                    self.mismatch(
                        f.span,
                        "a condition (`bool`)",
                        &t,
                        "filter with a condition, such as `where mobile`",
                    );
                    ok = false;
                }
                None => ok = false,
            }
        }
        if let Some(z) = within
            && self.zone_ref(z).is_none()
        {
            ok = false;
        }
        match (subject, window) {
            (Subject::Event, None) => {
                self.error(
                    Diagnostic::error("E0304", format!("events of `{}` need a time window", target.name), e.span)
                        .label("this counts events")
                        .help("add `per year` (this calendar year) or `over 12 months` (a trailing window) before `)`"),
                );
                ok = false;
            }
            (Subject::Item, Some(_)) => {
                self.error(
                    Diagnostic::error("E0304", format!("items of `{}` are counted at an instant, not over a window", target.name), e.span)
                        .help("remove `per year` / `over …`: items are counted as they exist at the instant assessed"),
                );
                ok = false;
            }
            (_, Some(ast::Window::Over(d))) if !matches!(d.kind, ExprKind::Duration(n, _) if n > 0) =>
            {
                self.error(
                    Diagnostic::error(
                        "E0304",
                        "the window must be a positive duration literal",
                        d.span,
                    )
                    .help("write it as `over 12 months` or `over 30 days`"),
                );
                ok = false;
            }
            _ => {}
        }
        ok.then_some(ty)
    }

    fn enum_value_error(&mut self, value: &str, span: Span, values: &[String]) {
        let help = did_you_mean_help(value, values.iter().map(String::as_str))
            .unwrap_or_else(|| format!("the values are {}", list(values)));
        self.error(
            Diagnostic::error(
                "E0304",
                format!("`{value}` is not one of the enum's values"),
                span,
            )
            .help(help),
        );
    }

    fn mismatch(&mut self, span: Span, expected: &str, found: &Type, help: &str) {
        self.error(
            Diagnostic::error(
                "E0304",
                format!("expected {expected}, found {}", a_type(found)),
                span,
            )
            .label(format!("this is {}", a_type(found)))
            .help(help.to_owned()),
        );
    }

    fn name_kind(&self, name: &str, scope: Scope<'_>) -> NameKind {
        match scope {
            Scope::Filter(kinds) => {
                if kinds.iter().any(|k| k.attr(name).is_some()) {
                    NameKind::Attr
                } else if self.params.contains_key(name) {
                    NameKind::Param
                } else if kinds.iter().any(|k| {
                    k.attrs
                        .iter()
                        .any(|(_, t)| matches!(t, Type::Enum(v) if v.iter().any(|x| x == name)))
                }) {
                    NameKind::EnumValue
                } else {
                    NameKind::Unknown
                }
            }
            Scope::Quantity | Scope::Constant => {
                if matches!(name, "in_force" | "signed") {
                    NameKind::Date
                } else if self.params.contains_key(name) && self.param_visible(name) {
                    NameKind::Param
                } else if matches!(scope, Scope::Quantity) && self.quantities.contains_key(name) {
                    NameKind::Quantity
                } else {
                    NameKind::Unknown
                }
            }
        }
    }

    fn name_type(&mut self, name: &str, span: Span, scope: Scope<'_>) -> Option<Type> {
        match self.name_kind(name, scope) {
            NameKind::Attr => {
                let Scope::Filter(kinds) = scope else {
                    return None;
                };
                let types: Vec<&Type> = kinds.iter().filter_map(|k| k.attr(name)).collect();
                let first = types.first().copied().cloned();
                if kinds.iter().any(|k| k.attr(name).is_none()) {
                    let missing: Vec<String> = kinds
                        .iter()
                        .filter(|k| k.attr(name).is_none())
                        .map(|k| k.name.clone())
                        .collect();
                    self.error(
                        Diagnostic::error("E0305", format!("{} has no attribute `{name}`", list(&missing)), span)
                            .help("a filter shared by several categories or event types may only use attributes they all have"),
                    );
                    return None;
                }
                if types.iter().any(|t| Some(*t) != first.as_ref()) {
                    self.error(
                        Diagnostic::error(
                            "E0304",
                            format!("attribute `{name}` has different types in the kinds filtered"),
                            span,
                        )
                        .help("give the attribute one type in every category or event type"),
                    );
                    return None;
                }
                first
            }
            NameKind::Param => self.params.get(name).map(|(t, _)| t.clone()),
            NameKind::Quantity => self.quantities.get(name).map(|(t, _)| t.clone()),
            NameKind::Date => Some(Type::Date),
            NameKind::EnumValue => Some(Type::Str),
            NameKind::Unknown => {
                if self.params.contains_key(name) && !self.param_visible(name) {
                    self.error(
                        Diagnostic::error("E0302", format!("param `{name}` is used before it is defined"), span)
                            .help("a param's default may only use params defined above it; move this param below"),
                    );
                } else {
                    self.unknown_name(name, span, scope);
                }
                None
            }
        }
    }

    /// Lowers a checked expression to the model. Call only after [`Checker::expr`] passed.
    fn lower(&mut self, e: &ast::Expr, scope: Scope<'_>) -> Option<Expr> {
        Some(match &e.kind {
            ExprKind::Int(n) => Expr::Int(*n),
            ExprKind::Decimal(v) => Expr::Decimal(*v),
            ExprKind::Str(s) => Expr::Str(s.clone()),
            ExprKind::Bool(b) => Expr::Bool(*b),
            ExprKind::Date(d) => Expr::Date(*d),
            ExprKind::Instant(i) => Expr::Instant(*i),
            ExprKind::Duration(n, u) => Expr::Duration(Duration::new(*n, *u)),
            ExprKind::Error => return None,
            ExprKind::Paren(inner) => self.lower(inner, scope)?,
            ExprKind::Name(name) => match self.name_kind(name, scope) {
                NameKind::Attr => Expr::Attr(name.clone()),
                NameKind::Param => Expr::Param(name.clone()),
                NameKind::Quantity => Expr::Quantity(name.clone()),
                NameKind::Date if name == "in_force" => Expr::InForce,
                NameKind::Date => Expr::Signed,
                NameKind::EnumValue => Expr::Str(name.clone()),
                NameKind::Unknown => return None,
            },
            ExprKind::Neg(inner) => Expr::Neg(Box::new(self.lower(inner, scope)?)),
            ExprKind::Not(inner) => Expr::Not(Box::new(self.lower(inner, scope)?)),
            ExprKind::And(a, b) => Expr::And(
                Box::new(self.lower(a, scope)?),
                Box::new(self.lower(b, scope)?),
            ),
            ExprKind::Or(a, b) => Expr::Or(
                Box::new(self.lower(a, scope)?),
                Box::new(self.lower(b, scope)?),
            ),
            ExprKind::Arith(op, a, b) => Expr::Arith(
                *op,
                Box::new(self.lower(a, scope)?),
                Box::new(self.lower(b, scope)?),
            ),
            ExprKind::Cmp(op, a, b) => {
                let lhs = self.lower(a, scope)?;
                // An enum value written as a bare name on the right is a string constant.
                let rhs = match &b.kind {
                    ExprKind::Name(n)
                        if matches!(self.name_kind(n, scope), NameKind::EnumValue) =>
                    {
                        Expr::Str(n.clone())
                    }
                    _ => self.lower(b, scope)?,
                };
                Expr::Cmp(*op, Box::new(lhs), Box::new(rhs))
            }
            ExprKind::In(a, set) => {
                let lhs = Box::new(self.lower(a, scope)?);
                match set {
                    ast::InSet::Group(g) if self.groups.contains_key(&g.name) => {
                        Expr::InGroup(lhs, g.name.clone())
                    }
                    ast::InSet::Group(g) => Expr::InList(lhs, vec![Expr::Str(g.name.clone())]),
                    ast::InSet::List(values) => Expr::InList(
                        lhs,
                        values
                            .iter()
                            .map(|v| match &v.kind {
                                ExprKind::Str(s) | ExprKind::Name(s) => Expr::Str(s.clone()),
                                _ => Expr::Str(String::new()),
                            })
                            .collect(),
                    ),
                }
            }
            ExprKind::Call(func, args) => {
                let args = args
                    .iter()
                    .map(|a| self.lower(a, scope))
                    .collect::<Option<Vec<_>>>()?;
                if func.name == "min" {
                    Expr::Min(args)
                } else {
                    Expr::Max(args)
                }
            }
            ExprKind::Aggregate {
                func,
                target,
                attr,
                filter,
                within,
                window,
            } => {
                let (subject, kind) = if let Some(k) = self.categories.get(&target.name) {
                    (Subject::Item, k.clone())
                } else {
                    (Subject::Event, self.event_types.get(&target.name)?.clone())
                };
                let kinds = [&kind];
                let filter = match filter {
                    Some(f) => Some(self.lower(f, Scope::Filter(&kinds))?),
                    None => None,
                };
                let window = match window {
                    None => None,
                    Some(ast::Window::PerYear) => Some(model::AggWindow::PerYear),
                    Some(ast::Window::Over(d)) => match d.kind {
                        ExprKind::Duration(n, u) => {
                            Some(model::AggWindow::Over(Duration::new(n, u)))
                        }
                        _ => return None,
                    },
                };
                Expr::Aggregate(Box::new(model::Aggregate {
                    func: match func {
                        ast::AggFunc::Count => model::AggFunc::Count,
                        ast::AggFunc::Sum => model::AggFunc::Sum,
                    },
                    subject,
                    target: target.name.clone(),
                    attr: attr.as_ref().map(|a| a.name.clone()),
                    filter,
                    within: within.as_ref().map(|z| z.name.clone()),
                    window,
                }))
            }
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NameKind {
    Attr,
    Param,
    Quantity,
    Date,
    EnumValue,
    Unknown,
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn month_number(name: &str) -> Option<u8> {
    MONTHS
        .iter()
        .position(|m| *m == name)
        .and_then(|i| u8::try_from(i + 1).ok())
}

fn day_text(e: &ast::Expr) -> String {
    match e.kind {
        ExprKind::Int(n) => n.to_string(),
        _ => "?".to_owned(),
    }
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        return "none".to_owned();
    }
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn declared_kinds(treaty: &ast::Treaty, categories: bool) -> impl Iterator<Item = &str> {
    treaty
        .items
        .iter()
        .filter_map(move |item| match &item.kind {
            ItemKind::Category(d) if categories => Some(d.name.name.as_str()),
            ItemKind::EventType(d) if !categories => Some(d.name.name.as_str()),
            _ => None,
        })
}
