//! The canonical order of facts, duplicates and contradictions.
//!
//! Every list is sorted by a total order on content (party, then id or date, then every
//! other field, floats by their total order) with the origin last, so the same facts in any
//! line order end up in the same order and only origins differ. Records identical but for
//! their origin collapse into the earliest one.

use std::cmp::Ordering;
use std::sync::Arc;

use detente_lang::time::Instant;

use super::{
    Declaration, Event, FactError, FactErrorKind, Facts, Item, Name, Notification, Number,
    Observation, Origin, cmp_name, cmp_option, cmp_point,
};

/// Runs two functions, in turn or side by side, and returns when both have run.
pub(crate) type Join<'a> = &'a mut dyn FnMut(&mut (dyn FnMut() + Send), &mut (dyn FnMut() + Send));

pub(crate) fn normalize(facts: &mut Facts) -> Vec<(Origin, FactError)> {
    normalize_with(facts, &mut |a, b| {
        a();
        b();
    })
}

/// [`normalize`], sorting the items (most of the work) and the other records with `join`.
pub(crate) fn normalize_with(facts: &mut Facts, join: Join<'_>) -> Vec<(Origin, FactError)> {
    let Facts {
        declarations,
        items,
        events,
        notifications,
        observations,
        ..
    } = facts;
    let mut overlaps = Vec::new();
    join(
        &mut || {
            sort_by_id(
                items,
                |i| (&i.party, &i.id),
                |a, b| item_order(a, b).then(a.origin.cmp(&b.origin)),
            );
            overlaps = dedup_items(items);
        },
        &mut || {
            declarations
                .sort_unstable_by(|a, b| declaration_order(a, b).then(a.origin.cmp(&b.origin)));
            declarations.dedup_by(|later, earlier| declaration_order(earlier, later).is_eq());
            sort_by_id(
                events,
                |e| (&e.party, &e.id),
                |a, b| event_order(a, b).then(a.origin.cmp(&b.origin)),
            );
            events.dedup_by(|later, earlier| event_order(earlier, later).is_eq());
            notifications
                .sort_unstable_by(|a, b| notification_order(a, b).then(a.origin.cmp(&b.origin)));
            notifications.dedup_by(|later, earlier| notification_order(earlier, later).is_eq());
            observations
                .sort_unstable_by(|a, b| observation_order(a, b).then(a.origin.cmp(&b.origin)));
            observations.dedup_by(|later, earlier| observation_order(earlier, later).is_eq());
        },
    );

    let mut errors = Vec::new();
    declaration_conflicts(facts, &mut errors);
    item_overlaps(facts, &overlaps, &mut errors);
    id_conflicts(
        facts,
        &facts.events,
        |a, b| same(&a.party, &b.party) && same(&a.id, &b.id),
        |e| e.origin,
        |e| format!("event `{}` of `{}`", e.id, e.party),
        &mut errors,
    );
    id_conflicts(
        facts,
        &facts.notifications,
        |a, b| same(&a.party, &b.party) && a.id == b.id,
        |n| n.origin,
        |n| format!("notification `{}` of `{}`", n.id, n.party),
        &mut errors,
    );
    id_conflicts(
        facts,
        &facts.observations,
        |a, b| same(&a.observer, &b.observer) && a.id == b.id,
        |o| o.origin,
        |o| format!("observation `{}` by `{}`", o.id, o.observer),
        &mut errors,
    );
    errors
}

/// Whether two shared texts are equal, without reading them if they are one allocation.
fn same(a: &Arc<str>, b: &Arc<str>) -> bool {
    Arc::ptr_eq(a, b) || a == b
}

/// Sorts records by `order`, a total order that starts with the party and the id.
///
/// Millions of items are too many to sort by comparing their ids as strings (each a
/// pointer away) and moving them around whole. Successive records of one item share their
/// party and id (the loader interns them), and usually come in order: so the runs of
/// records with the same party and id are sorted instead (by the first bytes of both,
/// inline, then by the strings if they tie), the records are placed by counting run
/// lengths, the few groups that need it (runs out of order, an id in several runs) are
/// sorted by `order`, and every record is moved once.
fn sort_by_id<T>(
    records: &mut [T],
    key: impl Fn(&T) -> (&Name, &Arc<str>),
    order: impl Fn(&T, &T) -> Ordering,
) {
    if records.is_sorted_by(|a, b| order(a, b).is_le()) {
        return;
    }
    let Ok(count) = u32::try_from(records.len()) else {
        records.sort_unstable_by(order);
        return;
    };
    let mut runs: Vec<Run<'_>> = Vec::new();
    let mut previous: Option<&T> = None;
    for (index, record) in (0..count).zip(records.iter()) {
        let (party, id) = key(record);
        let run = runs
            .last_mut()
            .filter(|run| std::ptr::eq(run.party, &**party) && std::ptr::eq(run.id, &**id));
        match run {
            Some(run) => {
                run.len += 1;
                if previous.is_some_and(|previous| order(previous, record).is_gt()) {
                    run.in_order = false;
                }
            }
            None => runs.push(Run {
                party,
                id,
                party_prefix: prefix(party, 0),
                id_prefix: (prefix(id, 0), prefix(id, 16)),
                start: index,
                len: 1,
                in_order: true,
            }),
        }
        previous = Some(record);
    }
    runs.sort_unstable_by(Run::cmp);
    // Where each place takes its record from.
    let mut from: Vec<u32> = Vec::with_capacity(records.len());
    for group in runs.chunk_by(|a, b| a.cmp(b).is_eq()) {
        let first = from.len();
        for run in group {
            from.extend(run.start..run.start.saturating_add(run.len));
        }
        if (group.len() > 1 || group.iter().any(|run| !run.in_order))
            && let Some(places) = from.get_mut(first..)
        {
            let record = |index: &u32| usize::try_from(*index).ok().and_then(|i| records.get(i));
            places.sort_unstable_by(|a, b| match (record(a), record(b)) {
                (Some(a), Some(b)) => order(a, b),
                _ => Ordering::Equal,
            });
        }
    }
    drop(runs);
    // Move each record into place, as `slice::sort_by_cached_key` does: place `i` takes
    // the record `from` names, following where earlier swaps moved it.
    for i in 0..from.len() {
        let Some(mut source) = from.get(i).copied() else {
            break;
        };
        while usize::try_from(source).unwrap_or(usize::MAX) < i {
            match usize::try_from(source).ok().and_then(|s| from.get(s)) {
                Some(next) => source = *next,
                None => break,
            }
        }
        if let Some(place) = from.get_mut(i) {
            *place = source;
        }
        let source = usize::try_from(source).unwrap_or(usize::MAX);
        if source < records.len() {
            records.swap(i, source);
        }
    }
}

/// Successive records with the same party and id (the same allocations).
struct Run<'a> {
    party: &'a str,
    id: &'a str,
    party_prefix: u128,
    /// The first 32 bytes of the id (ids of events are often longer than 16).
    id_prefix: (u128, u128),
    start: u32,
    len: u32,
    /// Whether the run's records are in order.
    in_order: bool,
}

impl Run<'_> {
    /// By party, then id, as strings.
    fn cmp(&self, other: &Run<'_>) -> Ordering {
        cmp_prefixed(
            self.party_prefix,
            self.party,
            other.party_prefix,
            other.party,
            16,
        )
        .then_with(|| cmp_prefixed(self.id_prefix, self.id, other.id_prefix, other.id, 32))
    }
}

/// The 16 bytes of a text from `from` on, zero-padded, as a number that orders like them.
fn prefix(text: &str, from: usize) -> u128 {
    let mut bytes = [0u8; 16];
    let text = text.as_bytes().get(from..).unwrap_or_default();
    for (to, from) in bytes.iter_mut().zip(text) {
        *to = *from;
    }
    u128::from_be_bytes(bytes)
}

/// Two texts by their first `width` bytes, zero-padded (if those differ, the texts differ
/// the same way), then by the texts: texts of at most `width` bytes that tie differ only in
/// trailing zero bytes, so the shorter is first.
fn cmp_prefixed<P: Ord>(a_prefix: P, a: &str, b_prefix: P, b: &str, width: usize) -> Ordering {
    a_prefix.cmp(&b_prefix).then_with(|| {
        if a.len() <= width && b.len() <= width {
            a.len().cmp(&b.len())
        } else {
            a.cmp(b)
        }
    })
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

/// Ids compare by content; records of one item share theirs.
fn cmp_id(a: &Arc<str>, b: &Arc<str>) -> Ordering {
    if Arc::ptr_eq(a, b) {
        Ordering::Equal
    } else {
        a.cmp(b)
    }
}

fn item_order(a: &Item, b: &Item) -> Ordering {
    cmp_name(&a.party, &b.party)
        .then_with(|| cmp_id(&a.id, &b.id))
        .then(a.from.cmp(&b.from))
        .then(cmp_until(a.until, b.until))
        .then_with(|| cmp_name(&a.category, &b.category))
        .then_with(|| a.attributes.total_cmp(&b.attributes))
        .then_with(|| cmp_option(&a.location, &b.location, cmp_point))
}

fn event_order(a: &Event, b: &Event) -> Ordering {
    cmp_name(&a.party, &b.party)
        .then_with(|| cmp_id(&a.id, &b.id))
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

/// Drops the items identical to the one before them but for their origin (the later
/// origin goes), in one pass with the search for records of one item that overlap in
/// time: for each, the index of a record of the item (after the drop) and the origins of
/// the overlapping records, the later first.
fn dedup_items(items: &mut Vec<Item>) -> Vec<(usize, Origin, Origin)> {
    let mut overlaps = Vec::new();
    let mut kept = 0usize;
    // The kept record of the current item that ends last.
    let mut reach = 0usize;
    for index in 0..items.len() {
        if let Some(last) = kept.checked_sub(1).and_then(|last| items.get(last))
            && let Some(item) = items.get(index)
        {
            if item_order(last, item).is_eq() {
                continue;
            }
            if same(&last.party, &item.party) && same(&last.id, &item.id) {
                if let Some(reaching) = items.get(reach) {
                    // Sorted by `from`: `item` overlaps an earlier record exactly when it
                    // starts before the latest end so far.
                    if reaching.until.is_none_or(|until| item.from < until) {
                        let pair = if item.origin > reaching.origin {
                            (item.origin, reaching.origin)
                        } else {
                            (reaching.origin, item.origin)
                        };
                        overlaps.push((kept, pair.0, pair.1));
                    }
                    if cmp_until(item.until, reaching.until).is_gt() {
                        reach = kept;
                    }
                }
            } else {
                reach = kept;
            }
        }
        items.swap(kept, index);
        kept += 1;
    }
    items.truncate(kept);
    overlaps
}

/// An item's records must not overlap in time: the errors for the overlaps
/// [`dedup_items`] found.
fn item_overlaps(
    facts: &Facts,
    overlaps: &[(usize, Origin, Origin)],
    errors: &mut Vec<(Origin, FactError)>,
) {
    for &(index, here, there) in overlaps {
        let Some(item) = facts.items.get(index) else {
            continue;
        };
        let message = format!(
            "item `{}` of `{}` overlaps its record at `{}`",
            item.id,
            item.party,
            place(facts, there)
        );
        let help = "an item may have several records only if their intervals `[from, until)` do not overlap";
        errors.push(contradiction(facts, here, "id".to_owned(), message, help));
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
