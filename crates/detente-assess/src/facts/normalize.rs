//! The canonical order of facts, duplicates and contradictions.
//!
//! Every list is sorted by a total order on content (party, then id or date, then every
//! other field, floats by their total order) with the origin last, so the same facts in any
//! line order end up in the same order and only origins differ. Records identical but for
//! their origin collapse into the earliest one.

use std::cmp::Ordering;

use detente_lang::time::Instant;

use super::{
    Declaration, Event, FactError, FactErrorKind, Facts, Item, Notification, Number, Observation,
    Origin, cmp_name, cmp_option, cmp_point,
};

pub(crate) fn normalize(facts: &mut Facts) -> Vec<(Origin, FactError)> {
    facts
        .declarations
        .sort_unstable_by(|a, b| declaration_order(a, b).then(a.origin.cmp(&b.origin)));
    facts
        .declarations
        .dedup_by(|later, earlier| declaration_order(earlier, later).is_eq());
    facts
        .items
        .sort_unstable_by(|a, b| item_order(a, b).then(a.origin.cmp(&b.origin)));
    facts
        .items
        .dedup_by(|later, earlier| item_order(earlier, later).is_eq());
    facts
        .events
        .sort_unstable_by(|a, b| event_order(a, b).then(a.origin.cmp(&b.origin)));
    facts
        .events
        .dedup_by(|later, earlier| event_order(earlier, later).is_eq());
    facts
        .notifications
        .sort_unstable_by(|a, b| notification_order(a, b).then(a.origin.cmp(&b.origin)));
    facts
        .notifications
        .dedup_by(|later, earlier| notification_order(earlier, later).is_eq());
    facts
        .observations
        .sort_unstable_by(|a, b| observation_order(a, b).then(a.origin.cmp(&b.origin)));
    facts
        .observations
        .dedup_by(|later, earlier| observation_order(earlier, later).is_eq());

    let mut errors = Vec::new();
    declaration_conflicts(facts, &mut errors);
    item_overlaps(facts, &mut errors);
    id_conflicts(
        facts,
        &facts.events,
        |a, b| a.party == b.party && a.id == b.id,
        |e| e.origin,
        |e| format!("event `{}` of `{}`", e.id, e.party),
        &mut errors,
    );
    id_conflicts(
        facts,
        &facts.notifications,
        |a, b| a.party == b.party && a.id == b.id,
        |n| n.origin,
        |n| format!("notification `{}` of `{}`", n.id, n.party),
        &mut errors,
    );
    id_conflicts(
        facts,
        &facts.observations,
        |a, b| a.observer == b.observer && a.id == b.id,
        |o| o.origin,
        |o| format!("observation `{}` by `{}`", o.id, o.observer),
        &mut errors,
    );
    errors
}

/// `None` (no end) after every instant.
fn cmp_until(a: Option<Instant>, b: Option<Instant>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(a), Some(b)) => a.cmp(&b),
    }
}

fn cmp_quantities(a: &[(super::Name, Number)], b: &[(super::Name, Number)]) -> Ordering {
    let mut a = a.iter();
    let mut b = b.iter();
    loop {
        match (a.next(), b.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some((na, va)), Some((nb, vb))) => {
                let order = cmp_name(na, nb).then_with(|| va.total_cmp(vb));
                if order.is_ne() {
                    return order;
                }
            }
        }
    }
}

fn declaration_order(a: &Declaration, b: &Declaration) -> Ordering {
    cmp_name(&a.party, &b.party)
        .then(a.as_of.cmp(&b.as_of))
        .then_with(|| a.id.cmp(&b.id))
        .then(a.delivered_at.cmp(&b.delivered_at))
        .then_with(|| cmp_quantities(&a.quantities, &b.quantities))
}

fn item_order(a: &Item, b: &Item) -> Ordering {
    cmp_name(&a.party, &b.party)
        .then_with(|| a.id.cmp(&b.id))
        .then(a.from.cmp(&b.from))
        .then(cmp_until(a.until, b.until))
        .then_with(|| cmp_name(&a.category, &b.category))
        .then_with(|| a.attributes.total_cmp(&b.attributes))
        .then_with(|| cmp_option(&a.location, &b.location, cmp_point))
}

fn event_order(a: &Event, b: &Event) -> Ordering {
    cmp_name(&a.party, &b.party)
        .then_with(|| a.id.cmp(&b.id))
        .then(a.at.cmp(&b.at))
        .then_with(|| cmp_name(&a.event_type, &b.event_type))
        .then_with(|| a.attributes.total_cmp(&b.attributes))
        .then_with(|| cmp_option(&a.location, &b.location, cmp_point))
}

fn notification_order(a: &Notification, b: &Notification) -> Ordering {
    cmp_name(&a.party, &b.party)
        .then_with(|| a.id.cmp(&b.id))
        .then(a.sent_at.cmp(&b.sent_at))
        .then_with(|| cmp_name(&a.provision, &b.provision))
        .then_with(|| cmp_name(&a.event_type, &b.event_type))
        .then(a.received_at.cmp(&b.received_at))
        .then(a.window.cmp(&b.window))
        .then_with(|| cmp_option(&a.launch_area, &b.launch_area, |x, y| x.total_cmp(y)))
        .then_with(|| cmp_option(&a.impact_area, &b.impact_area, |x, y| x.total_cmp(y)))
}

fn observation_order(a: &Observation, b: &Observation) -> Ordering {
    cmp_name(&a.observer, &b.observer)
        .then_with(|| a.id.cmp(&b.id))
        .then_with(|| cmp_name(&a.party, &b.party))
        .then(a.at.cmp(&b.at))
        .then_with(|| cmp_name(&a.observed_type, &b.observed_type))
        .then_with(|| cmp_option(&a.launch_point, &b.launch_point, cmp_point))
        .then_with(|| cmp_option(&a.impact_point, &b.impact_point, cmp_point))
        .then_with(|| cmp_option(&a.location, &b.location, cmp_point))
        .then_with(|| cmp_option(&a.mb, &b.mb, f64::total_cmp))
        .then_with(|| cmp_option(&a.category, &b.category, cmp_name))
        .then_with(|| a.attributes.total_cmp(&b.attributes))
}

fn contradiction(
    facts: &Facts,
    origin: Origin,
    field: String,
    message: String,
    help: &str,
) -> (Origin, FactError) {
    (
        origin,
        FactError {
            kind: FactErrorKind::Contradiction,
            source: facts.source_name(origin).to_owned(),
            line: origin.line,
            column: 0,
            field: Some(field),
            message,
            help: Some(help.to_owned()),
        },
    )
}

fn place(facts: &Facts, origin: Origin) -> String {
    format!("{}:{}", facts.source_name(origin), origin.line)
}

/// One party may declare a quantity as of a date only once (identical repeats aside).
fn declaration_conflicts(facts: &Facts, errors: &mut Vec<(Origin, FactError)>) {
    for group in facts
        .declarations
        .chunk_by(|a, b| a.party == b.party && a.as_of == b.as_of)
    {
        if group.len() < 2 {
            continue;
        }
        let mut stated: Vec<(&str, Origin, Number)> = group
            .iter()
            .flat_map(|d| {
                d.quantities
                    .iter()
                    .map(|(name, value)| (&**name, d.origin, *value))
            })
            .collect();
        stated.sort_by(|a, b| a.0.cmp(b.0).then(a.1.cmp(&b.1)));
        for run in stated.chunk_by(|a, b| a.0 == b.0) {
            let Some(&(name, first_origin, first_value)) = run.first() else {
                continue;
            };
            for &(_, origin, value) in run.iter().skip(1) {
                if value.same_value(first_value) {
                    continue;
                }
                let Some(d) = group.iter().find(|d| d.origin == origin) else {
                    continue;
                };
                let message = format!(
                    "`{name}` of `{}` as of `{}` is declared `{value}` here and `{first_value}` at `{}`",
                    d.party,
                    d.as_of,
                    place(facts, first_origin)
                );
                let help =
                    "a party declares each quantity once per date; identical repeats are fine";
                errors.push(contradiction(
                    facts,
                    origin,
                    format!("quantities.{name}"),
                    message,
                    help,
                ));
            }
        }
    }
}

/// An item's records must not overlap in time.
fn item_overlaps(facts: &Facts, errors: &mut Vec<(Origin, FactError)>) {
    for group in facts
        .items
        .chunk_by(|a, b| a.party == b.party && a.id == b.id)
    {
        let mut records = group.iter();
        let Some(mut reach) = records.next() else {
            continue;
        };
        for item in records {
            // Sorted by `from`: `item` overlaps an earlier record exactly when it starts
            // before the latest end so far.
            if reach.until.is_none_or(|until| item.from < until) {
                let (here, there) = if item.origin > reach.origin {
                    (item, reach)
                } else {
                    (reach, item)
                };
                let message = format!(
                    "item `{}` of `{}` overlaps its record at `{}`",
                    here.id,
                    here.party,
                    place(facts, there.origin)
                );
                let help = "an item may have several records only if their intervals `[from, until)` do not overlap";
                errors.push(contradiction(
                    facts,
                    here.origin,
                    "id".to_owned(),
                    message,
                    help,
                ));
            }
            if cmp_until(item.until, reach.until).is_gt() {
                reach = item;
            }
        }
    }
}

/// Records that share an id must be identical (and so were merged).
fn id_conflicts<T>(
    facts: &Facts,
    records: &[T],
    same_id: impl Fn(&T, &T) -> bool,
    origin: impl Fn(&T) -> Origin,
    describe: impl Fn(&T) -> String,
    errors: &mut Vec<(Origin, FactError)>,
) {
    for group in records.chunk_by(|a, b| same_id(a, b)) {
        let Some(first) = group.iter().min_by_key(|r| origin(r)) else {
            continue;
        };
        for record in group {
            if origin(record) == origin(first) {
                continue;
            }
            let message = format!(
                "{} is already recorded with different content at `{}`",
                describe(record),
                place(facts, origin(first))
            );
            let help = "an id names one record of its party; identical repeats are fine";
            errors.push(contradiction(
                facts,
                origin(record),
                "id".to_owned(),
                message,
                help,
            ));
        }
    }
}
