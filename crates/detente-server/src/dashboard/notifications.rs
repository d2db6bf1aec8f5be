//! Notifications: the party's own (outgoing) and the other parties' (incoming, from the
//! mirrored logs), with lead times and the cosignature that is each one's receipt; and the
//! form an officer files a launch notification with. The form is checked here (times,
//! coordinates, the lead time the treaty asks for) and then by the node, exactly as a
//! submission is; nothing is appended unless both accept it.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use detente_assess::facts::{Area, Notification};
use detente_lang::model::Rule;
use detente_lang::time::Instant;
use detente_node::facts::LogFacts;
use detente_node::replay::place_of;
use detente_node::users::Role;
use detente_node::{Node, NodeError, Store};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;

use super::deadlines::eval_duration;
use super::{Layout, Viewer, error_page, format, node_error, render_status};
use crate::AppState;

/// A notify provision the form offers.
#[derive(Debug, Clone)]
pub struct NotifyChoice {
    pub id: String,
    pub title: String,
    pub event_type: String,
    pub lead: String,
    pub selected: bool,
}

/// What the officer typed (kept to show the form again with its errors).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct FilingForm {
    #[serde(default)]
    pub provision: String,
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub window_from: String,
    #[serde(default)]
    pub window_to: String,
    #[serde(default)]
    pub launch_zone: String,
    #[serde(default)]
    pub launch_lat: String,
    #[serde(default)]
    pub launch_lon: String,
    #[serde(default)]
    pub launch_radius_km: String,
    #[serde(default)]
    pub impact_zone: String,
    #[serde(default)]
    pub impact_lat: String,
    #[serde(default)]
    pub impact_lon: String,
    #[serde(default)]
    pub impact_radius_km: String,
    #[serde(default)]
    pub late: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NotificationRow {
    pub id: String,
    pub party: String,
    pub provision: String,
    pub event_type: String,
    pub sent_at: String,
    pub window: String,
    pub launch_area: String,
    pub impact_area: String,
    pub received_label: &'static str,
    pub received: String,
    pub received_class: &'static str,
    pub lead: String,
    pub lead_class: &'static str,
    pub href: String,
    pub receipt: String,
}

#[derive(askama::Template)]
#[template(path = "notifications.html")]
struct NotificationsPage {
    layout: Layout,
    may_file: bool,
    notice: String,
    errors: Vec<String>,
    form: FilingForm,
    choices: Vec<NotifyChoice>,
    zones: Vec<String>,
    now: String,
    outgoing: Vec<NotificationRow>,
    incoming: Vec<NotificationRow>,
    shown_limit: usize,
}

/// Rows shown per table.
const SHOWN: usize = 200;

fn area_text(area: Option<&Area>) -> String {
    match area {
        None => "—".to_owned(),
        Some(Area::Circle { center, radius_km }) => format!(
            "within {radius_km:.0} km of {:.2}°, {:.2}°",
            center.lat, center.lon
        ),
        Some(Area::Polygon(p)) => format!("a polygon of {} points", p.outer.len()),
        Some(Area::Zone(z)) => format!("zone {z}"),
    }
}

/// The first cosignature by another party on a checkpoint covering each entry, by
/// (origin, index): (time, cosigner).
async fn receipts<S: Store>(
    node: &Node<S>,
    facts: &LogFacts,
) -> Result<BTreeMap<(String, u64), (i64, String)>, NodeError> {
    let mut by_origin = BTreeMap::new();
    for input in &facts.inputs {
        by_origin.insert(input.name.clone(), node.cosignatures(&input.name).await?);
    }
    let mut out = BTreeMap::new();
    for n in &facts.facts.notifications {
        let Some(place) = place_of(&facts.facts, "notification", n.origin) else {
            continue;
        };
        let first = by_origin.get(&place.origin).and_then(|list| {
            list.iter()
                .filter(|c| c.size > place.index && c.cosigner != place.origin)
                .min_by_key(|c| c.timestamp)
        });
        if let Some(c) = first {
            let party = node
                .network()
                .party_of_origin(&c.cosigner)
                .map_or(c.cosigner.clone(), |p| p.name.clone());
            out.insert(
                (place.origin, place.index),
                (i64::try_from(c.timestamp).unwrap_or(i64::MAX), party),
            );
        }
    }
    Ok(out)
}

fn rows<S: Store>(
    node: &Node<S>,
    facts: &LogFacts,
    receipts: &BTreeMap<(String, u64), (i64, String)>,
    leads: &BTreeMap<String, i64>,
    mine: bool,
) -> Vec<NotificationRow> {
    let mut list: Vec<&Notification> = facts
        .facts
        .notifications
        .iter()
        .filter(|n| (*n.party == *node.party()) == mine)
        .collect();
    list.sort_by(|a, b| b.sent_at.cmp(&a.sent_at).then(a.id.cmp(&b.id)));
    list.into_iter()
        .take(SHOWN)
        .map(|n| {
            let place = place_of(&facts.facts, "notification", n.origin);
            let key = place.as_ref().map(|p| (p.origin.clone(), p.index));
            let cosigned = key.as_ref().and_then(|k| receipts.get(k));
            // The engine's rule (detente_node::facts::read_logs): the cosignature is the
            // receipt when either clock puts the notification before its window opens;
            // otherwise (a record of past notifications) the stated receipt stands.
            let live = key.as_ref().is_some_and(|k| facts.receipts.contains_key(k));
            let at = |t: &i64| format::instant_compact(Instant::from_unix_seconds(*t));
            let (received_label, received, received_class) = match (cosigned, n.received_at) {
                (Some((t, party)), _) if live => (
                    "✓ received",
                    format!("{}, by {party}'s cosignature", at(t)),
                    "st-compliant",
                ),
                (Some((t, party)), Some(stated)) => (
                    "✓ received",
                    format!(
                        "{} (stated); cosigned by {party} {}",
                        format::instant_compact(stated),
                        at(t)
                    ),
                    "st-compliant",
                ),
                (Some((t, party)), None) => (
                    "cosigned after the window",
                    format!("by {party} {}", at(t)),
                    "st-pending",
                ),
                (None, Some(t)) => (
                    "stated receipt",
                    format!("{} (stated); not cosigned yet", format::instant_compact(t)),
                    "st-pending",
                ),
                (None, None) => ("awaiting cosignature", String::new(), "st-nodata"),
            };
            let required = leads.get(&*n.provision).copied();
            let (lead, lead_class) = match n.window {
                Some(w) => {
                    let lead = w.from.seconds_since(n.received_at.unwrap_or(n.sent_at));
                    let short = required.is_some_and(|r| lead < r);
                    (
                        format!(
                            "{}{}{}",
                            if lead < 0 { "−" } else { "" },
                            format::span(lead),
                            if short { " (short)" } else { "" }
                        ),
                        if short { "st-violation" } else { "" },
                    )
                }
                None => ("no window".to_owned(), "st-violation"),
            };
            let q = place
                .as_ref()
                .map(|p| format!("origin={}&index={}", format::encode(&p.origin), p.index));
            NotificationRow {
                id: n.id.clone(),
                party: n.party.to_string(),
                provision: n.provision.to_string(),
                event_type: n.event_type.to_string(),
                sent_at: format::instant_compact(n.sent_at),
                window: n.window.map_or_else(
                    || "—".to_owned(),
                    |w| {
                        format!(
                            "{} to {}",
                            format::instant_compact(w.from),
                            format::instant_compact(w.to)
                        )
                    },
                ),
                launch_area: area_text(n.launch_area.as_ref()),
                impact_area: area_text(n.impact_area.as_ref()),
                received_label,
                received,
                received_class,
                lead,
                lead_class,
                href: q
                    .as_ref()
                    .map(|q| format!("/dashboard/fact?{q}"))
                    .unwrap_or_default(),
                receipt: q
                    .map(|q| format!("/api/v1/receipt?{q}"))
                    .unwrap_or_default(),
            }
        })
        .collect()
}

/// The notify provisions, with their lead times in seconds (where exact).
fn notify_provisions<S: Store>(
    node: &Node<S>,
    params: &BTreeMap<String, serde_json::Value>,
    chosen: &str,
) -> (Vec<NotifyChoice>, BTreeMap<String, i64>) {
    let mut choices = Vec::new();
    let mut leads = BTreeMap::new();
    for p in &node.treaty().treaty.provisions {
        if let Rule::Notify {
            event_type, lead, ..
        } = &p.rule
        {
            let lead = eval_duration(lead, params);
            if let Some(seconds) = lead.and_then(|d| d.exact_seconds()) {
                leads.insert(p.id.clone(), seconds);
            }
            choices.push(NotifyChoice {
                selected: p.id == chosen,
                id: p.id.clone(),
                title: p.title.clone(),
                event_type: event_type.clone(),
                lead: lead.map(|d| d.to_string()).unwrap_or_default(),
            });
        }
    }
    if !choices.iter().any(|c| c.selected)
        && let Some(first) = choices.first_mut()
    {
        first.selected = true;
    }
    (choices, leads)
}

/// The params as the engine reads them (defaults; the form files against the treaty as
/// written).
fn params<S: Store>(node: &Node<S>, facts: &LogFacts) -> BTreeMap<String, serde_json::Value> {
    super::asof::engine(node, facts, &Default::default())
        .map(|e| e.assumptions().params)
        .unwrap_or_default()
}

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    filed: Option<String>,
}

async fn show<S: Store>(
    state: &AppState<S>,
    viewer: &Viewer,
    status: StatusCode,
    notice: String,
    errors: Vec<String>,
    form: Option<FilingForm>,
) -> Response {
    let node = &state.node;
    let facts = match node.log_facts().await {
        Ok(f) => f,
        Err(e) => return node_error(e),
    };
    let receipts = match receipts(node, &facts).await {
        Ok(r) => r,
        Err(e) => return node_error(e),
    };
    let params = params(node, &facts);
    let now = format::now(node.clock());
    let form = form.unwrap_or_else(|| default_form(node, &facts, now));
    let (choices, leads) = notify_provisions(node, &params, &form.provision);
    let page = NotificationsPage {
        layout: Layout::new(state, viewer, "Notifications", "notifications", ""),
        may_file: viewer.role() >= Role::Officer,
        notice,
        errors,
        choices,
        zones: node
            .treaty()
            .treaty
            .zones
            .iter()
            .map(|z| z.name.clone())
            .collect(),
        now: format::instant_minutes(now),
        outgoing: rows(node, &facts, &receipts, &leads, true),
        incoming: rows(node, &facts, &receipts, &leads, false),
        shown_limit: SHOWN,
        form,
    };
    render_status(status, &page)
}

/// A fresh form: a new id, a window opening in two days for six hours.
fn default_form<S: Store>(node: &Node<S>, facts: &LogFacts, now: Instant) -> FilingForm {
    let day = now.date().to_string();
    let prefix = format!("{}-{day}-ntf-", node.party().to_lowercase());
    let taken = facts
        .facts
        .notifications
        .iter()
        .filter(|n| n.id.starts_with(&prefix))
        .count();
    let start = Instant::from_unix_seconds((now.unix_seconds() / 3600 + 48) * 3600);
    FilingForm {
        id: format!("{prefix}{}", taken + 1),
        window_from: format::datetime_local(start),
        window_to: format::datetime_local(Instant::from_unix_seconds(
            start.unix_seconds() + 6 * 3600,
        )),
        launch_radius_km: "50".to_owned(),
        impact_radius_km: "200".to_owned(),
        ..FilingForm::default()
    }
}

pub async fn page<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    viewer: Viewer,
    query: Result<Query<PageQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let notice = query
        .ok()
        .and_then(|Query(q)| q.filed)
        .map(|id| {
            format!(
                "Notification `{id}` was appended to this party's log. The other parties see it once they mirror the log; their cosignature is its receipt."
            )
        })
        .unwrap_or_default();
    show(&state, &viewer, StatusCode::OK, notice, Vec::new(), None).await
}

/// An area from the form: a zone of the treaty, or a circle.
fn area(
    what: &str,
    zone: &str,
    lat: &str,
    lon: &str,
    radius: &str,
    zones: &[String],
    errors: &mut Vec<String>,
) -> Option<serde_json::Value> {
    if !zone.trim().is_empty() {
        if zones.iter().any(|z| z == zone.trim()) {
            return Some(serde_json::json!({"zone": zone.trim()}));
        }
        errors.push(format!("{what}: `{zone}` is not a zone of the treaty"));
        return None;
    }
    if lat.trim().is_empty() && lon.trim().is_empty() {
        errors.push(format!(
            "{what}: give a latitude and a longitude (and a radius), or choose a zone"
        ));
        return None;
    }
    let number = |text: &str, name: &str, lo: f64, hi: f64, errors: &mut Vec<String>| match text
        .trim()
        .parse::<f64>()
    {
        Ok(v) if v.is_finite() && (lo..=hi).contains(&v) => Some(v),
        _ => {
            errors.push(format!(
                "{what}: {name} `{}` is not a number from {lo} to {hi}",
                text.trim()
            ));
            None
        }
    };
    let lat = number(lat, "latitude", -90.0, 90.0, errors);
    let lon = number(lon, "longitude", -180.0, 180.0, errors);
    let radius = number(radius, "radius (km)", 0.0, 20_000.0, errors);
    Some(
        serde_json::json!({"circle": {"center": {"lat": lat?, "lon": lon?}, "radius_km": radius?}}),
    )
}

/// `POST /dashboard/notifications`: files a launch notification (officers).
pub async fn file<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    viewer: Viewer,
    form: Result<Form<FilingForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    if let Err(refused) = viewer.require(Role::Officer, "filing a notification").await {
        return refused;
    }
    let Ok(Form(form)) = form else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "the notification form was not sent whole; reload the page and fill it in again",
        );
    };
    let node = &state.node;
    let facts = match node.log_facts().await {
        Ok(f) => f,
        Err(e) => return node_error(e),
    };
    let now = format::now(node.clock());
    let params = params(node, &facts);
    let (choices, leads) = notify_provisions(node, &params, &form.provision);
    let zones: Vec<String> = node
        .treaty()
        .treaty
        .zones
        .iter()
        .map(|z| z.name.clone())
        .collect();
    let mut errors = Vec::new();
    let choice = choices.iter().find(|c| c.id == form.provision);
    if choice.is_none() {
        errors.push(format!(
            "provision: `{}` is not a notification provision of the treaty",
            form.provision
        ));
    }
    let id = form.id.trim();
    if id.is_empty() || id.len() > 128 || id.chars().any(char::is_control) {
        errors.push("id: give the notification an id (at most 128 characters)".to_owned());
    }
    let from = format::parse_instant(&form.window_from);
    let to = format::parse_instant(&form.window_to);
    if from.is_none() {
        errors.push(format!(
            "window opens: `{}` is not a date and time (UTC)",
            form.window_from
        ));
    }
    if to.is_none() {
        errors.push(format!(
            "window closes: `{}` is not a date and time (UTC)",
            form.window_to
        ));
    }
    if let (Some(from), Some(to)) = (from, to) {
        if to <= from {
            errors.push("window: it must close after it opens".to_owned());
        }
        if from <= now {
            errors.push(format!(
                "window: it opens {}, before now ({}); a notification announces a future launch",
                format::instant_minutes(from),
                format::instant_minutes(now)
            ));
        } else if let Some(required) = leads.get(&form.provision) {
            let lead = from.seconds_since(now);
            if lead < *required && form.late.is_none() {
                errors.push(format!(
                    "lead time: the window opens in {}, but provision {} asks for notice {} ahead; filed now it would be late. Tick \"file it late\" to file it anyway.",
                    format::span(lead),
                    form.provision,
                    format::span(*required)
                ));
            }
        }
    }
    let launch = area(
        "launch area",
        &form.launch_zone,
        &form.launch_lat,
        &form.launch_lon,
        &form.launch_radius_km,
        &zones,
        &mut errors,
    );
    let impact = area(
        "impact area",
        &form.impact_zone,
        &form.impact_lat,
        &form.impact_lon,
        &form.impact_radius_km,
        &zones,
        &mut errors,
    );
    let (Some(choice), Some(from), Some(to), Some(launch), Some(impact), true) =
        (choice, from, to, launch, impact, errors.is_empty())
    else {
        return show(
            &state,
            &viewer,
            StatusCode::UNPROCESSABLE_ENTITY,
            String::new(),
            errors,
            Some(form),
        )
        .await;
    };
    let record = serde_json::json!({
        "kind": "notification",
        "party": node.party(),
        "id": id,
        "provision": choice.id,
        "event_type": choice.event_type,
        "sent_at": now.to_string(),
        "window": {"from": from.to_string(), "to": to.to_string()},
        "launch_area": launch,
        "impact_area": impact,
    });
    let source = format!("notification form ({})", viewer.name());
    match node
        .submit_part(&record.to_string(), &source, 1, Some(viewer.role()))
        .await
    {
        Ok(submitted) if submitted.appended > 0 => {
            tracing::info!(operator = %viewer.name(), id, index = submitted.first_index, "notification filed");
            Redirect::to(&format!(
                "/dashboard/notifications?filed={}",
                format::encode(id)
            ))
            .into_response()
        }
        Ok(_) => {
            show(
                &state,
                &viewer,
                StatusCode::OK,
                format!(
                    "Notification `{id}` is already in the log, byte for byte; nothing was added."
                ),
                Vec::new(),
                None,
            )
            .await
        }
        Err(NodeError::Rejected(problems)) => {
            show(
                &state,
                &viewer,
                StatusCode::UNPROCESSABLE_ENTITY,
                String::new(),
                problems,
                Some(form),
            )
            .await
        }
        Err(e) => node_error(e),
    }
}
