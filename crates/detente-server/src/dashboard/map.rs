//! The map: the treaty's zones, the items that exist at the instant (where they have a
//! location) and the observations up to it, on Natural Earth's land outline, in an
//! equirectangular projection (x = longitude + 180, y = 90 − latitude, in degrees).

use axum::extract::{Query, State};
use axum::response::Response;
use detente_assess::engine::inline_shape;
use detente_assess::geo::{EARTH_RADIUS_KM, Point, Shape};
use detente_lang::model::ZoneSource;
use detente_node::Store;
use std::collections::BTreeMap;
use std::sync::Arc;

use super::asof::{self, AsOfForm};
use super::{Layout, Viewer, format, render};
use crate::AppState;

#[derive(Debug, Clone)]
pub struct ZoneView {
    pub name: String,
    pub note: String,
    pub source: String,
    /// SVG path data.
    pub path: String,
    pub label_x: String,
    pub label_y: String,
    pub items_inside: usize,
}

#[derive(Debug, Clone)]
pub struct Marker {
    pub x: String,
    pub y: String,
    pub r: String,
    pub class: String,
    pub title: String,
}

#[derive(Debug, Clone)]
pub struct ObservationRow {
    pub id: String,
    pub observer: String,
    pub party: String,
    pub kind: String,
    pub at: String,
    pub place: String,
}

#[derive(askama::Template)]
#[template(path = "map.html")]
struct MapPage {
    layout: Layout,
    asof: AsOfForm,
    zones: Vec<ZoneView>,
    items: Vec<Marker>,
    observations: Vec<Marker>,
    legend: Vec<(String, String)>,
    counts: Vec<(String, String, usize)>,
    recent: Vec<ObservationRow>,
    unlocated: usize,
}

fn x(lon: f64) -> f64 {
    lon + 180.0
}

fn y(lat: f64) -> f64 {
    90.0 - lat
}

fn num(v: f64) -> String {
    format!("{:.3}", v)
        .trim_end_matches('0')
        .trim_end_matches('.')
        .to_owned()
}

/// A ring as SVG path data.
fn ring(points: &[Point]) -> String {
    let mut d = String::new();
    for (i, p) in points.iter().enumerate() {
        d.push(if i == 0 { 'M' } else { 'L' });
        d.push_str(&format!("{} {}", num(x(p.lon)), num(y(p.lat))));
    }
    if !d.is_empty() {
        d.push('Z');
    }
    d
}

/// The point `km` from `center` on the initial bearing `bearing` (degrees).
fn destination(center: Point, km: f64, bearing: f64) -> Point {
    let d = km / EARTH_RADIUS_KM;
    let (lat1, lon1, b) = (
        center.lat.to_radians(),
        center.lon.to_radians(),
        bearing.to_radians(),
    );
    let lat2 = (lat1.sin() * d.cos() + lat1.cos() * d.sin() * b.cos()).asin();
    let lon2 = lon1 + (b.sin() * d.sin() * lat1.cos()).atan2(d.cos() - lat1.sin() * lat2.sin());
    Point {
        lat: lat2.to_degrees(),
        lon: (lon2.to_degrees() + 540.0).rem_euclid(360.0) - 180.0,
    }
}

/// A shape as SVG path data and a place for its label.
fn shape_path(shape: &Shape) -> (String, Point) {
    match shape {
        Shape::Circle { center, radius_km } => {
            let points: Vec<Point> = (0..72)
                .map(|i| destination(*center, *radius_km, f64::from(i) * 5.0))
                .collect();
            (ring(&points), *center)
        }
        Shape::Polygons(polygons) => {
            let mut d = String::new();
            let mut all = Vec::new();
            for p in polygons {
                d.push_str(&ring(&p.outer));
                for hole in &p.holes {
                    d.push_str(&ring(hole));
                }
                all.extend(p.outer.iter().copied());
            }
            let n = all.len().max(1) as f64;
            let centre = Point {
                lat: all.iter().map(|p| p.lat).sum::<f64>() / n,
                lon: all.iter().map(|p| p.lon).sum::<f64>() / n,
            };
            (d, centre)
        }
    }
}

pub async fn page<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    viewer: Viewer,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let node = &state.node;
    let (asof, facts, form) = match asof::select(node, pairs, "/dashboard/map").await {
        Ok(selected) => selected,
        Err(page) => return page,
    };
    let bundle = node.treaty();
    let treaty = &bundle.treaty;
    let party_class = |party: &str| {
        let i = treaty.parties.iter().position(|p| p == party).unwrap_or(0);
        format!("p{}", i % 4)
    };

    // Zones, with the shapes the engine uses.
    let shapes: Vec<(String, Shape)> = treaty
        .zones
        .iter()
        .filter_map(|z| {
            inline_shape(&z.shape)
                .or_else(|| bundle.zones.get(&z.name).cloned())
                .map(|s| (z.name.clone(), s))
        })
        .collect();
    let at = asof.at;
    let located: Vec<_> = facts
        .facts
        .items
        .iter()
        .filter(|i| i.exists_at(at))
        .collect();
    let unlocated = located.iter().filter(|i| i.location.is_none()).count();
    let zones = treaty
        .zones
        .iter()
        .filter_map(|z| {
            let (_, shape) = shapes.iter().find(|(n, _)| *n == z.name)?;
            let (path, label) = shape_path(shape);
            Some(ZoneView {
                name: z.name.clone(),
                note: z.note.clone().unwrap_or_default(),
                source: match &z.shape {
                    ZoneSource::File(f) => format!("file {f}"),
                    ZoneSource::Polygon(p) => format!("a polygon of {} points", p.len()),
                    ZoneSource::Circle { radius_km, .. } => format!("a circle of {radius_km} km"),
                },
                path,
                label_x: num(x(label.lon)),
                label_y: num(y(label.lat)),
                items_inside: located
                    .iter()
                    .filter(|i| i.location.is_some_and(|p| shape.contains(p)))
                    .count(),
            })
        })
        .collect();

    // Items, grouped by place and party (a silo field is one mark with a count).
    let mut groups: BTreeMap<(String, String, String), Vec<String>> = BTreeMap::new();
    let mut counts: BTreeMap<(String, String), usize> = BTreeMap::new();
    for item in &located {
        *counts
            .entry((item.party.to_string(), item.category.to_string()))
            .or_default() += 1;
        let Some(p) = item.location else { continue };
        groups
            .entry((item.party.to_string(), num(x(p.lon)), num(y(p.lat))))
            .or_default()
            .push(format!("{} ({})", item.id, item.category));
    }
    let items = groups
        .into_iter()
        .map(|((party, gx, gy), list)| {
            let inside: Vec<&str> = gx
                .parse::<f64>()
                .ok()
                .zip(gy.parse::<f64>().ok())
                .map(|(px, py)| Point {
                    lat: 90.0 - py,
                    lon: px - 180.0,
                })
                .map(|p| {
                    shapes
                        .iter()
                        .filter(|(_, s)| s.contains(p))
                        .map(|(n, _)| n.as_str())
                        .collect()
                })
                .unwrap_or_default();
            let shown: Vec<&String> = list.iter().take(6).collect();
            let title = format!(
                "{party}: {}{}{}",
                shown
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                if list.len() > shown.len() {
                    format!(" and {} more", list.len() - shown.len())
                } else {
                    String::new()
                },
                if inside.is_empty() {
                    String::new()
                } else {
                    format!(" — inside zone {}", inside.join(", "))
                }
            );
            Marker {
                r: num((0.9 + (list.len() as f64).sqrt() * 0.15).min(2.2)),
                x: gx,
                y: gy,
                class: format!(
                    "item {}{}",
                    party_class(&party),
                    if inside.is_empty() { "" } else { " inzone" }
                ),
                title,
            }
        })
        .collect();

    // Observations up to the instant: each point seen, as a ring.
    let mut observations = Vec::new();
    let mut seen: Vec<_> = facts
        .facts
        .observations
        .iter()
        .filter(|o| o.at <= at)
        .collect();
    seen.sort_by(|a, b| b.at.cmp(&a.at).then(a.id.cmp(&b.id)));
    for o in &seen {
        for (what, point) in [
            ("launch point", o.launch_point),
            ("impact point", o.impact_point),
            ("location", o.location),
        ] {
            if let Some(p) = point {
                observations.push(Marker {
                    x: num(x(p.lon)),
                    y: num(y(p.lat)),
                    r: "1.4".to_owned(),
                    class: format!("obs {}", party_class(&o.party)),
                    title: format!(
                        "{} by {} of {}: {} {what}, {}",
                        o.id,
                        o.observer,
                        o.party,
                        o.observed_type,
                        format::instant_minutes(o.at)
                    ),
                });
            }
        }
    }
    let recent = seen
        .iter()
        .take(50)
        .map(|o| ObservationRow {
            id: o.id.clone(),
            observer: o.observer.to_string(),
            party: o.party.to_string(),
            kind: o.observed_type.to_string(),
            at: format::instant_minutes(o.at),
            place: o
                .launch_point
                .or(o.location)
                .or(o.impact_point)
                .map(|p| format!("{:.2}°, {:.2}°", p.lat, p.lon))
                .unwrap_or_default(),
        })
        .collect();
    let page = MapPage {
        layout: Layout::new(&state, &viewer, "Map", "map", &asof.query()),
        asof: form,
        zones,
        items,
        observations,
        legend: treaty
            .parties
            .iter()
            .map(|p| (party_class(p), p.clone()))
            .collect(),
        counts: counts
            .into_iter()
            .map(|((party, category), n)| (party, category, n))
            .collect(),
        recent,
        unlocated,
    };
    render(&page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_projection_puts_the_indian_ocean_where_it_is() {
        // 80°E 10°S
        assert_eq!(num(x(80.0)), "260");
        assert_eq!(num(y(-10.0)), "100");
        let d = ring(&[
            Point { lat: 0.0, lon: 0.0 },
            Point {
                lat: 10.0,
                lon: 20.5,
            },
            Point {
                lat: 0.0,
                lon: 20.5,
            },
        ]);
        assert_eq!(d, "M180 90L200.5 80L200.5 90Z");
        let east = destination(Point { lat: 0.0, lon: 0.0 }, 111.195, 90.0);
        assert!((east.lon - 1.0).abs() < 1e-3 && east.lat.abs() < 1e-9);
    }
}
