//! Facts back to JSON Lines, `kind` first, in the field order of the contract.
//!
//! Written by hand rather than through `serde_json::Value`, whose maps sort their keys and
//! would put `kind` anywhere but first.

use std::fmt::Write as _;

use detente_lang::time::Instant;

use super::{
    Area, AttrValue, Attributes, Declaration, Event, Facts, Item, Name, Notification, Number,
    Observation, Window,
};
use crate::geo::Point;

pub(crate) fn facts(facts: &Facts) -> String {
    let mut out = String::new();
    for d in &facts.declarations {
        declaration(&mut out, d);
    }
    for i in &facts.items {
        item(&mut out, i);
    }
    for e in &facts.events {
        event(&mut out, e);
    }
    for n in &facts.notifications {
        notification(&mut out, n);
    }
    for o in &facts.observations {
        observation(&mut out, o);
    }
    out
}

/// A JSON string literal.
pub(crate) fn json_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A decimal as JSON: shortest round-trip digits; a non-finite value (which loading never
/// produces) as `null`.
fn decimal(out: &mut String, value: f64) {
    if value.is_finite() {
        let _ = write!(out, "{value:?}");
    } else {
        out.push_str("null");
    }
}

/// Writes `"key":` after a comma (every field follows `kind`).
fn key(out: &mut String, key: &str) {
    out.push(',');
    json_string(out, key);
    out.push(':');
}

fn text_field(out: &mut String, name: &str, value: &str) {
    key(out, name);
    json_string(out, value);
}

fn instant_field(out: &mut String, name: &str, value: Instant) {
    key(out, name);
    let _ = write!(out, "\"{value}\"");
}

fn point_value(out: &mut String, point: Point) {
    out.push_str("{\"lat\":");
    decimal(out, point.lat);
    out.push_str(",\"lon\":");
    decimal(out, point.lon);
    out.push('}');
}

fn point_field(out: &mut String, name: &str, point: Option<Point>) {
    if let Some(point) = point {
        key(out, name);
        point_value(out, point);
    }
}

fn attributes_field(out: &mut String, attributes: &Attributes) {
    key(out, "attributes");
    out.push('{');
    for (index, (name, value)) in attributes.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        json_string(out, name);
        out.push(':');
        match value {
            AttrValue::Bool(b) => {
                let _ = write!(out, "{b}");
            }
            AttrValue::Int(i) => {
                let _ = write!(out, "{i}");
            }
            AttrValue::Decimal(d) => decimal(out, *d),
            AttrValue::Text(t) => json_string(out, t),
        }
    }
    out.push('}');
}

fn quantities_field(out: &mut String, quantities: &[(Name, Number)]) {
    key(out, "quantities");
    out.push('{');
    for (index, (name, value)) in quantities.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        json_string(out, name);
        out.push(':');
        match value {
            Number::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Number::Decimal(d) => decimal(out, *d),
        }
    }
    out.push('}');
}

fn window_field(out: &mut String, window: Option<Window>) {
    if let Some(window) = window {
        key(out, "window");
        let _ = write!(
            out,
            "{{\"from\":\"{}\",\"to\":\"{}\"}}",
            window.from, window.to
        );
    }
}

fn area_field(out: &mut String, name: &str, area: Option<&Area>) {
    let Some(area) = area else {
        return;
    };
    key(out, name);
    match area {
        Area::Circle { center, radius_km } => {
            out.push_str("{\"circle\":{\"center\":");
            point_value(out, *center);
            out.push_str(",\"radius_km\":");
            decimal(out, *radius_km);
            out.push_str("}}");
        }
        Area::Polygon(polygon) => {
            out.push_str("{\"polygon\":[");
            for (index, point) in polygon.outer.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                point_value(out, *point);
            }
            out.push_str("]}");
        }
        Area::Zone(zone) => {
            out.push_str("{\"zone\":");
            json_string(out, zone);
            out.push('}');
        }
    }
}

pub(crate) fn declaration(out: &mut String, d: &Declaration) {
    out.push_str("{\"kind\":\"declaration\"");
    text_field(out, "party", &d.party);
    key(out, "as_of");
    let _ = write!(out, "\"{}\"", d.as_of);
    quantities_field(out, &d.quantities);
    if let Some(id) = &d.id {
        text_field(out, "id", id);
    }
    if let Some(at) = d.delivered_at {
        instant_field(out, "delivered_at", at);
    }
    out.push_str("}\n");
}

pub(crate) fn item(out: &mut String, i: &Item) {
    out.push_str("{\"kind\":\"item\"");
    text_field(out, "party", &i.party);
    text_field(out, "id", &i.id);
    text_field(out, "category", &i.category);
    attributes_field(out, &i.attributes);
    point_field(out, "location", i.location);
    instant_field(out, "from", i.from);
    if let Some(until) = i.until {
        instant_field(out, "until", until);
    }
    out.push_str("}\n");
}

pub(crate) fn event(out: &mut String, e: &Event) {
    out.push_str("{\"kind\":\"event\"");
    text_field(out, "party", &e.party);
    text_field(out, "id", &e.id);
    text_field(out, "type", &e.event_type);
    instant_field(out, "at", e.at);
    point_field(out, "location", e.location);
    attributes_field(out, &e.attributes);
    out.push_str("}\n");
}

pub(crate) fn notification(out: &mut String, n: &Notification) {
    out.push_str("{\"kind\":\"notification\"");
    text_field(out, "party", &n.party);
    text_field(out, "id", &n.id);
    text_field(out, "provision", &n.provision);
    text_field(out, "event_type", &n.event_type);
    instant_field(out, "sent_at", n.sent_at);
    if let Some(at) = n.received_at {
        instant_field(out, "received_at", at);
    }
    window_field(out, n.window);
    area_field(out, "launch_area", n.launch_area.as_ref());
    area_field(out, "impact_area", n.impact_area.as_ref());
    out.push_str("}\n");
}

pub(crate) fn observation(out: &mut String, o: &Observation) {
    out.push_str("{\"kind\":\"observation\"");
    text_field(out, "observer", &o.observer);
    text_field(out, "party", &o.party);
    text_field(out, "id", &o.id);
    text_field(out, "type", &o.observed_type);
    instant_field(out, "at", o.at);
    point_field(out, "launch_point", o.launch_point);
    point_field(out, "impact_point", o.impact_point);
    point_field(out, "location", o.location);
    if let Some(mb) = o.mb {
        key(out, "mb");
        decimal(out, mb);
    }
    if let Some(category) = &o.category {
        text_field(out, "category", category);
    }
    attributes_field(out, &o.attributes);
    out.push_str("}\n");
}
