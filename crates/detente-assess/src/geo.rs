//! Geometry of zones and areas, and the seismic yield estimate.
//!
//! Pure functions over `f64` degrees. Two kinds of shape exist:
//!
//! - a **circle** is a great-circle disc on a sphere of radius [`EARTH_RADIUS_KM`];
//! - **polygons** are planar in longitude/latitude: containment uses the even-odd ray-casting
//!   rule on the (lon, lat) plane. That is what a treaty zone drawn on a chart means, and it is
//!   fine away from the poles and the antimeridian; a polygon that crosses the antimeridian
//!   must be split in two (a documented limitation).
//!
//! Both shapes are closed sets: a point on a circle's edge or on a polygon's edge (its outer
//! ring or a hole's ring) is inside. Edges are judged with small, fixed tolerances
//! ([`CIRCLE_EDGE_TOLERANCE_KM`], [`POLYGON_EDGE_TOLERANCE_DEG`]) so that a point computed to
//! lie on an edge is not thrown out by the last bit of rounding; the same inputs always give
//! the same answer.

use std::fmt;

use serde_json::Value;

/// Mean Earth radius (IUGG), in kilometres.
pub const EARTH_RADIUS_KM: f64 = 6371.0088;
/// Kilometres per international nautical mile.
pub const KM_PER_NMI: f64 = 1.852;
/// A point at most this far beyond a circle's radius counts as on its edge, hence inside.
/// One micrometre: far below any treaty's precision, far above the rounding of the haversine.
pub const CIRCLE_EDGE_TOLERANCE_KM: f64 = 1e-9;
/// A point at most this far (in degrees, on the lon/lat plane) from a polygon edge counts as
/// on the edge, hence inside. About 0.1 mm on the ground.
pub const POLYGON_EDGE_TOLERANCE_DEG: f64 = 1e-9;
/// The most vertices a GeoJSON zone file may hold, over all its rings.
pub const MAX_GEOJSON_VERTICES: u64 = 1_000_000;
/// The largest GeoJSON zone file accepted, in bytes (128 MiB).
pub const MAX_GEOJSON_BYTES: u64 = 128 * 1024 * 1024;

/// A position on the Earth, in degrees: latitude north positive, longitude east positive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub lat: f64,
    pub lon: f64,
}

impl Point {
    pub const fn new(lat: f64, lon: f64) -> Point {
        Point { lat, lon }
    }

    /// Whether the latitude is within -90..=90 and the longitude within -180..=180.
    pub fn is_valid(self) -> bool {
        (-90.0..=90.0).contains(&self.lat) && (-180.0..=180.0).contains(&self.lon)
    }
}

/// The great-circle distance between two points, in kilometres (haversine formula on a
/// sphere of radius [`EARTH_RADIUS_KM`]).
pub fn great_circle_km(a: Point, b: Point) -> f64 {
    let (lat1, lat2) = (a.lat.to_radians(), b.lat.to_radians());
    let dlat = lat2 - lat1;
    let dlon = (b.lon - a.lon).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
    // Rounding can push `h` a hair above 1 for antipodal points; asin would return NaN.
    2.0 * EARTH_RADIUS_KM * h.clamp(0.0, 1.0).sqrt().asin()
}

/// A simple polygon on the lon/lat plane with optional holes.
///
/// Rings may be given closed (first vertex repeated last, as GeoJSON writes them) or open;
/// both mean the same polygon.
#[derive(Debug, Clone, PartialEq)]
pub struct Polygon {
    pub outer: Vec<Point>,
    pub holes: Vec<Vec<Point>>,
}

impl Polygon {
    /// A polygon without holes.
    pub fn new(outer: Vec<Point>) -> Polygon {
        Polygon {
            outer,
            holes: Vec::new(),
        }
    }

    /// Whether `p` is inside the outer ring or on its edge, and not strictly inside a hole.
    /// A point on a hole's edge is inside the polygon (the polygon is a closed set).
    pub fn contains(&self, p: Point) -> bool {
        match ring_position(&self.outer, p) {
            RingPosition::Outside => false,
            RingPosition::OnEdge => true,
            RingPosition::Inside => self
                .holes
                .iter()
                .all(|hole| ring_position(hole, p) != RingPosition::Inside),
        }
    }
}

/// A zone or an area: a great-circle disc, or a union of polygons.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    Circle { center: Point, radius_km: f64 },
    Polygons(Vec<Polygon>),
}

impl Shape {
    /// A shape made of one polygon without holes.
    pub fn polygon(ring: Vec<Point>) -> Shape {
        Shape::Polygons(vec![Polygon::new(ring)])
    }

    /// Whether `p` is inside the shape or on its edge. For a circle, a point whose
    /// great-circle distance from the centre is at most `radius_km` plus
    /// [`CIRCLE_EDGE_TOLERANCE_KM`] is inside.
    pub fn contains(&self, p: Point) -> bool {
        match self {
            Shape::Circle { center, radius_km } => {
                great_circle_km(*center, p) <= radius_km + CIRCLE_EDGE_TOLERANCE_KM
            }
            Shape::Polygons(polygons) => polygons.iter().any(|polygon| polygon.contains(p)),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RingPosition {
    Inside,
    OnEdge,
    Outside,
}

/// Where `p` lies relative to one ring: on an edge (within the tolerance), or inside or
/// outside by the even-odd rule. The edge test runs first, so a point on an edge never
/// depends on which way the crossing count happens to round.
fn ring_position(ring: &[Point], p: Point) -> RingPosition {
    let Some(&last) = ring.last() else {
        return RingPosition::Outside;
    };
    let mut inside = false;
    let mut a = last;
    for &b in ring {
        if on_segment(a, b, p) {
            return RingPosition::OnEdge;
        }
        // Half-open rule on latitude: an edge counts when exactly one endpoint is strictly
        // above `p`, so a ray through a vertex is counted once, and horizontal edges never.
        if (a.lat > p.lat) != (b.lat > p.lat) {
            let lon_at = a.lon + (p.lat - a.lat) * (b.lon - a.lon) / (b.lat - a.lat);
            if p.lon < lon_at {
                inside = !inside;
            }
        }
        a = b;
    }
    if inside {
        RingPosition::Inside
    } else {
        RingPosition::Outside
    }
}

/// Whether `p` lies on the segment `a`–`b`, within [`POLYGON_EDGE_TOLERANCE_DEG`].
fn on_segment(a: Point, b: Point, p: Point) -> bool {
    let eps = POLYGON_EDGE_TOLERANCE_DEG;
    let within_box = p.lon >= a.lon.min(b.lon) - eps
        && p.lon <= a.lon.max(b.lon) + eps
        && p.lat >= a.lat.min(b.lat) - eps
        && p.lat <= a.lat.max(b.lat) + eps;
    if !within_box {
        return false;
    }
    let (dx, dy) = (b.lon - a.lon, b.lat - a.lat);
    let length = dx.hypot(dy);
    if length == 0.0 {
        // A degenerate edge (a repeated vertex): the box test above was a distance test.
        return true;
    }
    let cross = dx * (p.lat - a.lat) - dy * (p.lon - a.lon);
    cross.abs() <= eps * length
}

/// The seismic yield estimate in kilotons from a body-wave magnitude:
/// `yield_kt = 10^((mb - a) / b)`. The constants are treaty params (commonly `a = 4.45`,
/// `b = 0.75`); `b` must not be zero, else the result is infinite or NaN.
pub fn yield_kt(mb: f64, a: f64, b: f64) -> f64 {
    10f64.powf((mb - a) / b)
}

/// Why a GeoJSON zone file was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GeoError {
    /// The text is larger than [`MAX_GEOJSON_BYTES`].
    TooLarge { bytes: u64, limit: u64 },
    /// The text is not JSON (or is nested too deeply).
    Json {
        line: u64,
        column: u64,
        message: String,
    },
    /// The JSON is not the GeoJSON this module reads. `path` names the value at fault, e.g.
    /// `features[0].geometry.coordinates[0][3]`; it is empty for the top level.
    Invalid { path: String, message: String },
    /// More than [`MAX_GEOJSON_VERTICES`] vertices.
    TooManyVertices { limit: u64 },
    /// No polygon at all (e.g. an empty FeatureCollection).
    Empty,
}

impl fmt::Display for GeoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GeoError::TooLarge { bytes, limit } => write!(
                f,
                "zone file is too large: {bytes} bytes, the limit is {limit} bytes"
            ),
            GeoError::Json {
                line,
                column,
                message,
            } => write!(f, "invalid JSON at line {line}, column {column}: {message}"),
            GeoError::Invalid { path, message } if path.is_empty() => f.write_str(message),
            GeoError::Invalid { path, message } => write!(f, "at `{path}`: {message}"),
            GeoError::TooManyVertices { limit } => {
                write!(f, "zone file has more than {limit} vertices")
            }
            GeoError::Empty => f.write_str("zone file holds no polygon"),
        }
    }
}

impl std::error::Error for GeoError {}

/// Reads a zone from GeoJSON (RFC 7946): a `Polygon` or `MultiPolygon` geometry, a `Feature`
/// holding one, or a `FeatureCollection` whose polygons are united.
///
/// Positions are `[lon, lat]` (a third number, the altitude, is ignored). The first ring of
/// a polygon is its outer boundary and the others are holes, which are subtracted (a point on
/// a hole's edge stays inside). Rings may be closed or open and need at least three distinct
/// vertices. Feature properties are ignored. Every other geometry type, a feature without
/// geometry, an out-of-range coordinate, more than [`MAX_GEOJSON_VERTICES`] vertices or a
/// text over [`MAX_GEOJSON_BYTES`] is an error.
pub fn parse_geojson(text: &str) -> Result<Shape, GeoError> {
    let bytes = u64::try_from(text.len()).unwrap_or(u64::MAX);
    if bytes > MAX_GEOJSON_BYTES {
        return Err(GeoError::TooLarge {
            bytes,
            limit: MAX_GEOJSON_BYTES,
        });
    }
    let value: Value = serde_json::from_str(text).map_err(|e| GeoError::Json {
        line: u64::try_from(e.line()).unwrap_or(u64::MAX),
        column: u64::try_from(e.column()).unwrap_or(u64::MAX),
        message: json_message(&e),
    })?;
    let mut reader = GeoReader {
        polygons: Vec::new(),
        vertices: 0,
    };
    reader.top(&value)?;
    if reader.polygons.is_empty() {
        return Err(GeoError::Empty);
    }
    Ok(Shape::Polygons(reader.polygons))
}

/// serde_json's message without its " at line L column C" suffix, in our words.
fn json_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let bare = match text.rfind(" at line ") {
        Some(at) => text.get(..at).unwrap_or(&text),
        None => &text,
    };
    match bare {
        "recursion limit exceeded" => "nesting is too deep".to_owned(),
        "trailing characters" => "unexpected text after the JSON value".to_owned(),
        "expected ident" | "expected value" => "expected a JSON value".to_owned(),
        "EOF while parsing a value" => {
            "expected a JSON value, found the end of the text".to_owned()
        }
        "EOF while parsing a list" => "the text ends inside an array".to_owned(),
        other => match other.strip_prefix("EOF while parsing ") {
            Some(what) => format!("the text ends inside {what}"),
            None => other.to_owned(),
        },
    }
}

/// A JSON path being read, for error messages: keys joined with `.`, indexes in brackets.
#[derive(Clone, Copy)]
enum Step<'a> {
    Root,
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

struct Path<'a>(Step<'a>);

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Step::Root => Ok(()),
            Step::Key(parent, key) => {
                if matches!(parent.0, Step::Root) {
                    write!(f, "{key}")
                } else {
                    write!(f, "{parent}.{key}")
                }
            }
            Step::Index(parent, index) => write!(f, "{parent}[{index}]"),
        }
    }
}

struct GeoReader {
    polygons: Vec<Polygon>,
    vertices: u64,
}

fn invalid(path: &Path<'_>, message: String) -> GeoError {
    GeoError::Invalid {
        path: path.to_string(),
        message,
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::Null => "`null`".to_owned(),
        Value::Bool(b) => format!("`{b}`"),
        Value::Number(n) => format!("`{n}`"),
        Value::String(s) if s.chars().count() > 40 => {
            let head: String = s.chars().take(40).collect();
            format!("`\"{head}…\"`")
        }
        Value::String(s) => format!("`\"{s}\"`"),
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
    }
}

fn member<'v>(value: &'v Value, key: &str, path: &Path<'_>) -> Result<&'v Value, GeoError> {
    let Value::Object(map) = value else {
        return Err(invalid(
            path,
            format!("expected an object, found {}", describe(value)),
        ));
    };
    map.get(key)
        .ok_or_else(|| invalid(path, format!("missing field `{key}`")))
}

fn array<'v>(value: &'v Value, path: &Path<'_>, what: &str) -> Result<&'v [Value], GeoError> {
    match value {
        Value::Array(items) => Ok(items),
        other => Err(invalid(
            path,
            format!("expected {what}, found {}", describe(other)),
        )),
    }
}

impl GeoReader {
    fn top(&mut self, value: &Value) -> Result<(), GeoError> {
        let root = Path(Step::Root);
        let kind = member(value, "type", &root)?;
        match kind.as_str() {
            Some("FeatureCollection") => {
                let path = Path(Step::Key(&root, "features"));
                let features = array(member(value, "features", &root)?, &path, "an array")?;
                for (index, feature) in features.iter().enumerate() {
                    let path = Path(Step::Index(&path, index));
                    let kind = member(feature, "type", &path)?;
                    if kind.as_str() != Some("Feature") {
                        let kind_path = Path(Step::Key(&path, "type"));
                        return Err(invalid(
                            &kind_path,
                            format!("expected `\"Feature\"`, found {}", describe(kind)),
                        ));
                    }
                    self.feature(feature, &path)?;
                }
                Ok(())
            }
            Some("Feature") => self.feature(value, &root),
            _ => self.geometry(value, &root),
        }
    }

    fn feature(&mut self, feature: &Value, path: &Path<'_>) -> Result<(), GeoError> {
        let geometry = member(feature, "geometry", path)?;
        let path = Path(Step::Key(path, "geometry"));
        if geometry.is_null() {
            return Err(invalid(
                &path,
                "a feature without geometry cannot be part of a zone".to_owned(),
            ));
        }
        self.geometry(geometry, &path)
    }

    fn geometry(&mut self, geometry: &Value, path: &Path<'_>) -> Result<(), GeoError> {
        let kind = member(geometry, "type", path)?;
        let coords_path = Path(Step::Key(path, "coordinates"));
        match kind.as_str() {
            Some("Polygon") => {
                let coordinates = member(geometry, "coordinates", path)?;
                let polygon = self.polygon(coordinates, &coords_path)?;
                self.polygons.push(polygon);
                Ok(())
            }
            Some("MultiPolygon") => {
                let coordinates = member(geometry, "coordinates", path)?;
                let polygons = array(coordinates, &coords_path, "an array of polygons")?;
                for (index, polygon) in polygons.iter().enumerate() {
                    let polygon = self.polygon(polygon, &Path(Step::Index(&coords_path, index)))?;
                    self.polygons.push(polygon);
                }
                Ok(())
            }
            _ => Err(invalid(
                &Path(Step::Key(path, "type")),
                format!(
                    "unsupported geometry type {}; expected `\"Polygon\"` or `\"MultiPolygon\"`",
                    describe(kind)
                ),
            )),
        }
    }

    fn polygon(&mut self, value: &Value, path: &Path<'_>) -> Result<Polygon, GeoError> {
        let rings = array(value, path, "an array of rings")?;
        let mut rings_read = Vec::with_capacity(rings.len());
        for (index, ring) in rings.iter().enumerate() {
            rings_read.push(self.ring(ring, &Path(Step::Index(path, index)))?);
        }
        let mut rings_read = rings_read.into_iter();
        let Some(outer) = rings_read.next() else {
            return Err(invalid(
                path,
                "a polygon needs at least one ring".to_owned(),
            ));
        };
        Ok(Polygon {
            outer,
            holes: rings_read.collect(),
        })
    }

    fn ring(&mut self, value: &Value, path: &Path<'_>) -> Result<Vec<Point>, GeoError> {
        let positions = array(value, path, "an array of positions")?;
        let mut ring = Vec::with_capacity(positions.len());
        for (index, position) in positions.iter().enumerate() {
            self.vertices += 1;
            if self.vertices > MAX_GEOJSON_VERTICES {
                return Err(GeoError::TooManyVertices {
                    limit: MAX_GEOJSON_VERTICES,
                });
            }
            ring.push(position_point(position, &Path(Step::Index(path, index)))?);
        }
        let open_len = match (ring.first(), ring.last()) {
            (Some(first), Some(last)) if ring.len() > 1 && first == last => ring.len() - 1,
            _ => ring.len(),
        };
        if open_len < 3 {
            return Err(invalid(
                path,
                format!("a ring needs at least 3 distinct vertices, found {open_len}"),
            ));
        }
        Ok(ring)
    }
}

fn position_point(value: &Value, path: &Path<'_>) -> Result<Point, GeoError> {
    let numbers = array(value, path, "a position like `[lon, lat]`")?;
    let number = |index: usize| numbers.get(index).and_then(Value::as_f64);
    let (Some(lon), Some(lat)) = (number(0), number(1)) else {
        return Err(invalid(
            path,
            "expected a position like `[lon, lat]` with two numbers".to_owned(),
        ));
    };
    if numbers.len() > 3 || (numbers.len() == 3 && number(2).is_none()) {
        return Err(invalid(
            path,
            "expected a position like `[lon, lat]` or `[lon, lat, altitude]`".to_owned(),
        ));
    }
    if !(-180.0..=180.0).contains(&lon) {
        return Err(invalid(
            path,
            format!("longitude `{lon}` is out of range; expected -180 to 180"),
        ));
    }
    if !(-90.0..=90.0).contains(&lat) {
        return Err(invalid(
            path,
            format!("latitude `{lat}` is out of range; expected -90 to 90"),
        ));
    }
    Ok(Point { lat, lon })
}

#[cfg(test)]
mod tests {
    use super::*;

    const INDIAN_OCEAN: &str = include_str!("../../../treaties/indian-ocean.geojson");

    fn p(lat: f64, lon: f64) -> Point {
        Point::new(lat, lon)
    }

    fn square() -> Shape {
        // lat 0..10, lon 0..10, listed as (lat, lon).
        Shape::polygon(vec![p(0.0, 0.0), p(0.0, 10.0), p(10.0, 10.0), p(10.0, 0.0)])
    }

    fn close(a: f64, b: f64, relative: f64) -> bool {
        (a - b).abs() <= relative * b.abs().max(1.0)
    }

    #[test]
    fn great_circle_known_distances() {
        let cases = [
            // (a, b, km, relative tolerance)
            (p(0.0, 0.0), p(0.0, 0.0), 0.0, 1e-12),
            // A quarter of a meridian.
            (
                p(0.0, 0.0),
                p(90.0, 0.0),
                EARTH_RADIUS_KM * std::f64::consts::FRAC_PI_2,
                1e-12,
            ),
            // Antipodes: half the circumference, with no NaN.
            (
                p(0.0, 0.0),
                p(0.0, 180.0),
                EARTH_RADIUS_KM * std::f64::consts::PI,
                1e-12,
            ),
            // One degree of longitude on the equator.
            (
                p(0.0, 10.0),
                p(0.0, 11.0),
                EARTH_RADIUS_KM * 1f64.to_radians(),
                1e-9,
            ),
            // Moscow to Washington, about 7,820 km.
            (p(55.7558, 37.6173), p(38.9072, -77.0369), 7820.0, 0.01),
        ];
        for (a, b, km, tolerance) in cases {
            let d = great_circle_km(a, b);
            assert!(
                close(d, km, tolerance),
                "{a:?} to {b:?}: {d} km, expected {km}"
            );
            assert_eq!(d.to_bits(), great_circle_km(b, a).to_bits(), "symmetric");
        }
    }

    #[test]
    fn circle_edge_is_inside() {
        let center = p(28.5, -80.6);
        let radius_km = 200.0;
        let degrees = (radius_km / EARTH_RADIUS_KM).to_degrees();
        let cases = [
            // (point, inside)
            (center, true),
            (p(center.lat + degrees, center.lon), true),
            (p(center.lat - degrees, center.lon), true),
            (p(center.lat + degrees * (1.0 + 1e-6), center.lon), false),
            (p(center.lat - degrees * (1.0 + 1e-6), center.lon), false),
            (p(center.lat, center.lon + 5.0), false),
        ];
        let circle = Shape::Circle { center, radius_km };
        for (point, inside) in cases {
            assert_eq!(circle.contains(point), inside, "{point:?}");
        }
        // A circle of 200 nmi reaches 370.4 km.
        let nmi = Shape::Circle {
            center,
            radius_km: 200.0 * KM_PER_NMI,
        };
        let at_370 = p(
            center.lat + (370.3 / EARTH_RADIUS_KM).to_degrees(),
            center.lon,
        );
        let at_371 = p(
            center.lat + (370.5 / EARTH_RADIUS_KM).to_degrees(),
            center.lon,
        );
        assert!(nmi.contains(at_370));
        assert!(!nmi.contains(at_371));
    }

    #[test]
    fn polygon_containment_at_the_boundaries() {
        let cases = [
            // (point as lat, lon; inside)
            (p(5.0, 5.0), true),
            (p(0.0, 0.0), true),   // a vertex
            (p(10.0, 10.0), true), // the opposite vertex
            (p(0.0, 5.0), true),   // on the bottom edge
            (p(5.0, 10.0), true),  // on the right edge
            (p(10.0, 5.0), true),  // on the top edge
            (p(5.0, 0.0), true),   // on the left edge
            (p(5.0, -1e-6), false),
            (p(5.0, 10.000_001), false),
            (p(-1e-6, 5.0), false),
            (p(5.0, 20.0), false),
            (p(20.0, 5.0), false),
            // On the ray through a vertex, outside.
            (p(10.0, 20.0), false),
            (p(0.0, -5.0), false),
        ];
        let shape = square();
        for (point, inside) in cases {
            assert_eq!(shape.contains(point), inside, "{point:?}");
        }
    }

    #[test]
    fn polygon_diagonal_edges_and_concave_rings() {
        // A triangle with a diagonal edge from (0, 0) to (10, 10) (lat, lon) and a concave
        // "C" whose notch opens to the east.
        let triangle = Shape::polygon(vec![p(0.0, 0.0), p(10.0, 10.0), p(0.0, 10.0)]);
        let c_shape = Shape::polygon(vec![
            p(0.0, 0.0),
            p(0.0, 10.0),
            p(3.0, 10.0),
            p(3.0, 3.0),
            p(7.0, 3.0),
            p(7.0, 10.0),
            p(10.0, 10.0),
            p(10.0, 0.0),
        ]);
        let cases = [
            (&triangle, p(5.0, 5.0), true), // on the diagonal
            (&triangle, p(0.2, 0.2), true), // on the diagonal, inexact decimals
            (&triangle, p(0.3, 0.3), true),
            (&triangle, p(2.0, 8.0), true),
            (&triangle, p(8.0, 2.0), false),
            (&c_shape, p(5.0, 5.0), false), // in the notch
            (&c_shape, p(5.0, 3.0), true),  // on the notch's inner edge
            (&c_shape, p(5.0, 1.0), true),
            (&c_shape, p(1.0, 9.0), true),
            (&c_shape, p(3.0, 6.0), true), // on the notch's lower edge
        ];
        for (shape, point, inside) in cases {
            assert_eq!(shape.contains(point), inside, "{point:?} in {shape:?}");
        }
    }

    #[test]
    fn holes_are_subtracted_but_their_edges_stay_inside() {
        let text = r#"{"type": "Polygon", "coordinates": [
            [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]],
            [[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]]
        ]}"#;
        let shape = parse_geojson(text).unwrap();
        let cases = [
            (p(5.0, 5.0), false), // in the hole
            (p(4.0, 5.0), true),  // on the hole's edge
            (p(4.0, 4.0), true),  // on the hole's corner
            (p(2.0, 2.0), true),
            (p(11.0, 5.0), false),
        ];
        for (point, inside) in cases {
            assert_eq!(shape.contains(point), inside, "{point:?}");
        }
    }

    #[test]
    fn indian_ocean_zone() {
        let zone = parse_geojson(INDIAN_OCEAN).unwrap();
        let cases = [
            ("Diego Garcia", p(-7.3, 72.4), true),
            ("Mauritius", p(-20.2, 57.5), true),
            ("mid-ocean", p(-30.0, 80.0), true),
            ("Moscow", p(55.7558, 37.6173), false),
            ("Washington", p(38.9072, -77.0369), false),
            ("Persian Gulf", p(27.0, 51.0), false),
            ("Red Sea", p(20.0, 38.5), false),
            ("South China Sea", p(10.0, 112.0), false),
            ("Atlantic off Cape Town", p(-34.0, 17.0), false),
            // The western limit at 20E is an edge: on it is inside.
            ("20E, 45S", p(-45.0, 20.0), true),
            ("southern limit, 60S", p(-60.0, 90.0), true),
        ];
        for (name, point, inside) in cases {
            assert_eq!(zone.contains(point), inside, "{name} {point:?}");
        }
    }

    #[test]
    fn geojson_forms_are_united() {
        let polygon = r#"{"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,1]]]}"#;
        let multi = r#"{"type": "MultiPolygon", "coordinates": [
            [[[0,0],[1,0],[1,1],[0,1],[0,0]]],
            [[[5,5],[6,5],[6,6],[5,6],[5,5]]]
        ]}"#;
        let feature = format!(r#"{{"type": "Feature", "properties": null, "geometry": {multi}}}"#);
        let collection = format!(
            r#"{{"type": "FeatureCollection", "features": [
                {{"type": "Feature", "properties": {{}}, "geometry": {polygon}}},
                {{"type": "Feature", "properties": {{}}, "geometry":
                  {{"type": "Polygon", "coordinates": [[[10,10],[11,10],[11,11],[10,11],[10,10]]]}}}}
            ]}}"#
        );
        let cases: [(&str, &[(Point, bool)]); 4] = [
            (polygon, &[(p(0.5, 0.5), true), (p(5.5, 5.5), false)]),
            (
                multi,
                &[
                    (p(0.5, 0.5), true),
                    (p(5.5, 5.5), true),
                    (p(3.0, 3.0), false),
                ],
            ),
            (&feature, &[(p(5.5, 5.5), true), (p(3.0, 3.0), false)]),
            (
                &collection,
                &[
                    (p(0.5, 0.5), true),
                    (p(10.5, 10.5), true),
                    (p(5.5, 5.5), false),
                ],
            ),
        ];
        for (text, points) in cases {
            let shape = parse_geojson(text).unwrap();
            for &(point, inside) in points {
                assert_eq!(shape.contains(point), inside, "{point:?} in {text}");
            }
        }
    }

    #[test]
    fn geojson_errors() {
        let cases = [
            (
                "",
                "invalid JSON at line 1, column 0: expected a JSON value, found the end of the text",
            ),
            (
                "[1",
                "invalid JSON at line 1, column 2: the text ends inside an array",
            ),
            ("{}", "missing field `type`"),
            (
                r#"{"type": "Point", "coordinates": [0, 0]}"#,
                "at `type`: unsupported geometry type `\"Point\"`; expected `\"Polygon\"` or `\"MultiPolygon\"`",
            ),
            (
                r#"{"type": "FeatureCollection", "features": []}"#,
                "zone file holds no polygon",
            ),
            (
                r#"{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": null}]}"#,
                "at `features[0].geometry`: a feature without geometry cannot be part of a zone",
            ),
            (
                r#"{"type": "Polygon", "coordinates": [[[0,0],[1,0],[0,0]]]}"#,
                "at `coordinates[0]`: a ring needs at least 3 distinct vertices, found 2",
            ),
            (
                r#"{"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,95],[0,0]]]}"#,
                "at `coordinates[0][2]`: latitude `95` is out of range; expected -90 to 90",
            ),
            (
                r#"{"type": "Polygon", "coordinates": [[[0,0],[1,0],["1",1],[0,0]]]}"#,
                "at `coordinates[0][2]`: expected a position like `[lon, lat]` with two numbers",
            ),
            (
                r#"{"type": "Polygon", "coordinates": []}"#,
                "at `coordinates`: a polygon needs at least one ring",
            ),
            (
                r#"{"type": "MultiPolygon", "coordinates": {}}"#,
                "at `coordinates`: expected an array of polygons, found an object",
            ),
        ];
        for (text, expected) in cases {
            let error = parse_geojson(text).unwrap_err();
            assert_eq!(error.to_string(), expected, "{text}");
        }
    }

    #[test]
    fn geojson_limits() {
        let deep = "[".repeat(100_000);
        let error = parse_geojson(&deep).unwrap_err();
        assert!(
            error.to_string().ends_with("nesting is too deep"),
            "{error}"
        );

        let mut many = String::from(r#"{"type": "Polygon", "coordinates": [["#);
        for i in 0..=MAX_GEOJSON_VERTICES {
            if i > 0 {
                many.push(',');
            }
            many.push_str("[0,0]");
        }
        many.push_str("]]}");
        assert_eq!(
            parse_geojson(&many),
            Err(GeoError::TooManyVertices {
                limit: MAX_GEOJSON_VERTICES
            })
        );
    }

    #[test]
    fn yield_estimates() {
        let cases = [
            (4.45, 4.45, 0.75, 1.0),
            (5.2, 4.45, 0.75, 10.0),
            (5.95, 4.45, 0.75, 100.0),
            (3.7, 4.45, 0.75, 0.1),
            (6.0, 4.0, 1.0, 100.0),
        ];
        for (mb, a, b, expected) in cases {
            let kt = yield_kt(mb, a, b);
            assert!(
                close(kt, expected, 1e-12),
                "mb {mb}: {kt} kt, expected {expected}"
            );
        }
        assert_eq!(yield_kt(4.45, 4.45, 0.75), 1.0);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        #[test]
        fn any_text_parses_without_panicking(text in proptest::prelude::any::<String>()) {
            let _ = parse_geojson(&text);
        }

        /// The shipped zone file with a few bytes changed: an error or a shape, never a panic.
        #[test]
        fn damaged_zone_files_never_panic(
            edits in proptest::collection::vec((0usize..2000, 0u8..3, 0u8..128), 1..8),
        ) {
            let mut bytes = INDIAN_OCEAN.as_bytes().to_vec();
            for (at, op, byte) in edits {
                let at = at % (bytes.len() + 1);
                match op {
                    0 if at < bytes.len() => {
                        bytes.remove(at);
                    }
                    1 => bytes.insert(at, byte),
                    _ if at < bytes.len() => bytes[at] = byte,
                    _ => bytes.push(byte),
                }
            }
            let text = String::from_utf8_lossy(&bytes);
            if let Ok(shape) = parse_geojson(&text) {
                let _ = shape.contains(p(-7.3, 72.4));
            }
        }
    }
}
