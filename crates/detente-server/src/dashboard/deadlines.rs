//! Deadlines: declarations due, notified launch windows, phase-in dates, sunsets and
//! milestones, each with the time left (from the node's clock, or the instant chosen).

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use detente_assess::report::Report;
use detente_lang::ast::ArithOp;
use detente_lang::model::{Expr, Rule, Treaty, Type};
use detente_lang::time::{Date, Duration, Instant, TimeUnit};
use detente_node::facts::LogFacts;
use detente_node::{Node, Store};
use std::collections::BTreeMap;
use std::sync::Arc;

use super::asof::{self, AsOf, AsOfForm};
use super::{Layout, Viewer, error_page, format, render};
use crate::AppState;

/// A deadline, with how far off it is.
#[derive(Debug, Clone)]
pub struct DeadlineRow {
    pub date: String,
    pub what: String,
    pub party: String,
    pub href: String,
    pub when: String,
    pub state: String,
    pub class: &'static str,
}

#[derive(askama::Template)]
#[template(path = "deadlines.html")]
struct DeadlinesPage {
    layout: Layout,
    asof: AsOfForm,
    reference: String,
    declarations: Vec<DeadlineRow>,
    windows: Vec<DeadlineRow>,
    older_windows: usize,
    dates: Vec<DeadlineRow>,
}

/// A date an expression of the treaty stands for, where it can be read without the
/// engine: a date, a date param, entry into force, and those plus or minus a duration.
pub fn eval_date(
    expr: &Expr,
    params: &BTreeMap<String, serde_json::Value>,
    in_force: Option<Date>,
) -> Option<Date> {
    match expr {
        Expr::Date(d) => Some(*d),
        Expr::Instant(i) => Some(i.date()),
        Expr::InForce => in_force,
        Expr::Param(name) => params
            .get(name)
            .and_then(|v| v.as_str())
            .and_then(|s| Date::parse(s.get(0..10).unwrap_or(s))),
        Expr::Arith(op @ (ArithOp::Add | ArithOp::Sub), a, b) => {
            let date = eval_date(a, params, in_force)?;
            let duration = eval_duration(b, params)?;
            match op {
                ArithOp::Add => date.checked_add(duration),
                _ => date.checked_sub(duration),
            }
        }
        _ => None,
    }
}

/// A duration an expression stands for: a literal or a duration param.
pub fn eval_duration(
    expr: &Expr,
    params: &BTreeMap<String, serde_json::Value>,
) -> Option<Duration> {
    match expr {
        Expr::Duration(d) => Some(*d),
        Expr::Param(name) => params
            .get(name)
            .and_then(|v| v.as_str())
            .and_then(parse_duration),
        _ => None,
    }
}

/// `24h`, `30 days`, `1 year` (as a duration prints).
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit() && c != '-')?;
    let (count, unit) = text.split_at(split);
    Some(Duration::new(
        count.trim().parse().ok()?,
        TimeUnit::from_word(unit.trim())?,
    ))
}

fn row(
    date: Instant,
    reference: Instant,
    what: String,
    party: &str,
    provision: &str,
    query: &str,
) -> DeadlineRow {
    let ahead = date > reference;
    let soon = ahead && date.seconds_since(reference) <= 30 * 86_400;
    DeadlineRow {
        date: format::instant_short(date),
        what,
        party: party.to_owned(),
        href: if provision.is_empty() {
            String::new()
        } else {
            format!("/dashboard/provision/{}{query}", format::encode(provision))
        },
        when: format::relative(date, reference),
        state: if soon {
            "within 30 days".to_owned()
        } else if ahead {
            "ahead".to_owned()
        } else {
            "passed".to_owned()
        },
        class: if soon {
            "st-nodata"
        } else if ahead {
            "st-pending"
        } else {
            "st-expired"
        },
    }
}

/// Declarations due around `reference`: per declare provision and party, the last as-of
/// date whose deadline has passed and the next two, with what was delivered.
fn declarations(
    treaty: &Treaty,
    facts: &LogFacts,
    report: &Report,
    reference: Instant,
    query: &str,
) -> Vec<DeadlineRow> {
    let mut rows = Vec::new();
    for p in &treaty.provisions {
        let Rule::Declare { as_of, due, .. } = &p.rule else {
            continue;
        };
        let due = eval_duration(due, &report.assumptions.params)
            .unwrap_or(Duration::new(0, TimeUnit::Day));
        for party in &treaty.parties {
            let start = report
                .findings
                .iter()
                .find(|f| f.provision == p.id && f.party == *party)
                .and_then(|f| f.effective_from.as_deref())
                .and_then(Date::parse);
            let year = reference.date().year();
            let mut dates: Vec<(Date, Instant)> = (year - 1..=year + 1)
                .flat_map(|y| as_of.iter().filter_map(move |(m, d)| Date::new(y, *m, *d)))
                .filter(|d| start.is_none_or(|s| *d >= s))
                .filter_map(|d| d.start().checked_add(due).map(|deadline| (d, deadline)))
                .collect();
            dates.sort();
            let last_passed = dates
                .iter()
                .rposition(|(_, deadline)| *deadline <= reference);
            let first = last_passed.unwrap_or(0);
            for (date, deadline) in dates.iter().skip(first).take(3) {
                let delivered = facts
                    .facts
                    .declarations
                    .iter()
                    .filter(|d| *d.party == **party && d.as_of == *date)
                    .filter_map(|d| d.delivered_at.or(Some(date.start())))
                    .filter(|t| *t <= reference)
                    .min();
                let mut r = row(
                    *deadline,
                    reference,
                    format!("declaration as of {date} due"),
                    party,
                    &p.id,
                    query,
                );
                match delivered {
                    Some(t) if t <= *deadline => {
                        r.state = format!("delivered {}", format::instant_short(t));
                        r.class = "st-compliant";
                    }
                    Some(t) => {
                        r.state = format!("delivered late, {}", format::instant_short(t));
                        r.class = "st-violation";
                    }
                    None if *deadline <= reference => {
                        r.state = "not delivered".to_owned();
                        r.class = "st-violation";
                    }
                    None => {}
                }
                rows.push(r);
            }
        }
    }
    rows
}

pub async fn page<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    viewer: Viewer,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let node = &state.node;
    let (asof, facts, form) = match asof::select(node, pairs, "/dashboard/deadlines").await {
        Ok(selected) => selected,
        Err(page) => return page,
    };
    let query = asof.query();
    let page = match build(node, &facts, &asof, &query) {
        Ok((declarations, windows, older_windows, dates)) => DeadlinesPage {
            layout: Layout::new(&state, &viewer, "Deadlines", "deadlines", &query),
            asof: form,
            reference: format!(
                "{}{}",
                format::instant_minutes(asof.at),
                if asof.at_given {
                    " (the instant chosen)"
                } else {
                    " (the node's clock)"
                }
            ),
            declarations,
            windows,
            older_windows,
            dates,
        },
        Err(e) => return error_page(StatusCode::BAD_REQUEST, e),
    };
    render(&page)
}

type Sections = (Vec<DeadlineRow>, Vec<DeadlineRow>, usize, Vec<DeadlineRow>);

fn build<S: Store>(
    node: &Node<S>,
    facts: &LogFacts,
    asof: &AsOf,
    query: &str,
) -> Result<Sections, String> {
    let engine = asof::engine(node, facts, &asof.options())?;
    let report = engine.assess(asof.at);
    let treaty = &node.treaty().treaty;
    let reference = asof.at;
    let suffix = if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    };
    let declarations = declarations(treaty, facts, &report, reference, &suffix);

    // Launch windows: those still to open or open, then the latest closed (90 days).
    let mut windows = Vec::new();
    let mut older = 0;
    let mut notices: Vec<_> = facts
        .facts
        .notifications
        .iter()
        .filter(|n| n.sent_at <= reference)
        .filter_map(|n| n.window.map(|w| (w, n)))
        .collect();
    notices.sort_by_key(|(w, n)| (w.from, n.id.clone()));
    for (w, n) in &notices {
        let closed = w.to < reference;
        if closed && reference.seconds_since(w.to) > 90 * 86_400 {
            older += 1;
            continue;
        }
        let mut r = row(
            w.from,
            reference,
            format!(
                "{} window `{}` ({} to {})",
                n.event_type,
                n.id,
                format::instant_minutes(w.from),
                format::instant_minutes(w.to)
            ),
            &n.party,
            &n.provision,
            &suffix,
        );
        if w.from <= reference && !closed {
            r.state = format!("open, closes {}", format::relative(w.to, reference));
            r.class = "st-nodata";
        } else if closed {
            r.state = format!("closed {}", format::relative(w.to, reference));
        }
        windows.push(r);
    }

    // Phase-in dates, sunsets, date params and milestones.
    let mut dates = Vec::new();
    let in_force = report.assumptions.in_force.as_deref().and_then(Date::parse);
    if let Some(d) = in_force {
        dates.push(row(
            d.start(),
            reference,
            format!(
                "entry into force{}",
                if report.assumptions.in_force_assumed {
                    " (assumed)"
                } else {
                    ""
                }
            ),
            "",
            "",
            &suffix,
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    for f in &report.findings {
        for (date, what) in [(&f.effective_from, "takes effect"), (&f.until, "ends")] {
            let Some(date) = date.as_deref().and_then(Date::parse) else {
                continue;
            };
            if Some(date) == in_force && what == "takes effect" {
                continue;
            }
            if seen.insert((f.provision.clone(), what, date)) {
                dates.push(row(
                    date.start(),
                    reference,
                    format!("{} {what}: {}", f.provision, f.title),
                    "",
                    &f.provision,
                    &suffix,
                ));
            }
        }
    }
    for p in &treaty.provisions {
        if let Rule::Ban { exceptions, .. } = &p.rule {
            for e in exceptions {
                if let Some(date) = e
                    .until
                    .as_ref()
                    .and_then(|u| eval_date(u, &report.assumptions.params, in_force))
                {
                    dates.push(row(
                        date.start(),
                        reference,
                        format!(
                            "sunset of an exception to {}{}",
                            p.id,
                            e.note
                                .as_ref()
                                .map(|n| format!(": {n}"))
                                .unwrap_or_default()
                        ),
                        "",
                        &p.id,
                        &suffix,
                    ));
                }
            }
        }
    }
    for param in &treaty.params {
        if param.ty != Type::Date {
            continue;
        }
        if let Some(date) = eval_date(
            &Expr::Param(param.name.clone()),
            &report.assumptions.params,
            in_force,
        ) {
            dates.push(row(
                date.start(),
                reference,
                format!(
                    "param `{}`{}",
                    param.name,
                    param
                        .note
                        .as_ref()
                        .map(|n| format!(": {n}"))
                        .unwrap_or_default()
                ),
                "",
                "",
                &suffix,
            ));
        }
    }
    for party in &treaty.parties {
        for m in engine.plan(party, reference).milestones {
            let Some(date) = Date::parse(&m.date) else {
                continue;
            };
            let mut r = row(
                date.start(),
                reference,
                format!(
                    "{} milestone of {}: at most {} (now {})",
                    m.kind, m.provision, m.bound, m.current_value
                ),
                party,
                &m.provision,
                &suffix,
            );
            if m.reduction_owed.as_f64() > 0.0 {
                r.state = format!("{} still owed", m.reduction_owed);
                r.class = "st-nodata";
            }
            dates.push(r);
        }
    }
    dates.sort_by(|a, b| a.date.cmp(&b.date).then(a.what.cmp(&b.what)));
    Ok((declarations, windows, older, dates))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_of_treaty_expressions_are_read() {
        let mut params = BTreeMap::new();
        params.insert("sunset".to_owned(), serde_json::json!("1980-10-03"));
        params.insert("lead".to_owned(), serde_json::json!("24h"));
        let in_force = Date::parse("1977-10-03");
        assert_eq!(
            eval_date(&Expr::Param("sunset".into()), &params, in_force),
            Date::parse("1980-10-03")
        );
        let plus = Expr::Arith(
            ArithOp::Add,
            Box::new(Expr::InForce),
            Box::new(Expr::Duration(Duration::new(3, TimeUnit::Year))),
        );
        assert_eq!(
            eval_date(&plus, &params, in_force),
            Date::parse("1980-10-03")
        );
        assert_eq!(
            eval_duration(&Expr::Param("lead".into()), &params),
            Some(Duration::new(24, TimeUnit::Hour))
        );
        assert_eq!(
            parse_duration("30 days"),
            Some(Duration::new(30, TimeUnit::Day))
        );
        assert_eq!(parse_duration("soon"), None);
    }
}
