//! How the pages write times, spans, numbers and statuses.

use detente_assess::report::{Num, Status};
use detente_lang::time::Instant;
use detente_node::Clock;

/// The node's clock as an instant.
pub fn now(clock: &dyn Clock) -> Instant {
    Instant::from_unix_seconds(clock.now_secs())
}

/// Milliseconds since the epoch as an instant (whole seconds).
pub fn instant_of_ms(ms: i64) -> Instant {
    Instant::from_unix_seconds(ms.div_euclid(1000))
}

/// `1980-12-31 12:00 UTC`.
pub fn instant_minutes(at: Instant) -> String {
    let text = at.to_string();
    match (text.get(0..10), text.get(11..16)) {
        (Some(date), Some(time)) => format!("{date} {time} UTC"),
        _ => text,
    }
}

/// `1980-12-31`, or `1980-12-31 12:00 UTC` when the time of day is not midnight.
pub fn instant_short(at: Instant) -> String {
    if at.unix_seconds().rem_euclid(86_400) == 0 {
        at.date().to_string()
    } else {
        instant_minutes(at)
    }
}

/// A length of time in words: `3 d 4 h`, `45 min`, `12 s`, `2 y 31 d`.
pub fn span(seconds: i64) -> String {
    let s = seconds.unsigned_abs();
    let (years, rest) = (s / (365 * 86_400), s % (365 * 86_400));
    let (days, rest) = (rest / 86_400, rest % 86_400);
    let (hours, rest) = (rest / 3600, rest % 3600);
    let minutes = rest / 60;
    if years > 0 {
        if days > 0 {
            format!("{years} y {days} d")
        } else {
            format!("{years} y")
        }
    } else if days > 0 {
        if hours > 0 && days < 10 {
            format!("{days} d {hours} h")
        } else {
            format!("{days} d")
        }
    } else if hours > 0 {
        if minutes > 0 {
            format!("{hours} h {minutes} min")
        } else {
            format!("{hours} h")
        }
    } else if minutes > 0 {
        format!("{minutes} min")
    } else {
        format!("{s} s")
    }
}

/// Time from `now` to `then`: `in 3 d 4 h`, `2 h ago`, `now`.
pub fn relative(then: Instant, now: Instant) -> String {
    let seconds = then.seconds_since(now);
    if seconds.abs() < 30 {
        "now".to_owned()
    } else if seconds > 0 {
        format!("in {}", span(seconds))
    } else {
        format!("{} ago", span(seconds))
    }
}

/// Percent-encodes a query component (everything but unreserved characters).
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A query string from pairs, each part encoded.
pub fn query(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A comparison as read: `≤`, `≥`, `<`, `>`, `=`, `≠`.
pub fn comparison(op: Option<&str>) -> &'static str {
    match op {
        Some("<=") => "≤",
        Some(">=") => "≥",
        Some("<") => "<",
        Some(">") => ">",
        Some("==") | Some("=") => "=",
        Some("!=") => "≠",
        _ => "/",
    }
}

/// `value ≤ bound`, or nothing when either is missing.
pub fn value_bound(value: Option<Num>, op: Option<&str>, bound: Option<Num>) -> Option<String> {
    Some(format!("{} {} {}", value?, comparison(op), bound?))
}

/// `1 violation`, `3 violations`.
pub fn count_of(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `1980-12-31 12:00` (UTC), compact for tables whose header says UTC.
pub fn instant_compact(at: Instant) -> String {
    let text = at.to_string();
    match (text.get(0..10), text.get(11..16)) {
        (Some(date), Some(time)) => format!("{date} {time}"),
        _ => text,
    }
}

/// An instant as written in a report, shortened; other text as it is.
pub fn report_instant(text: &str) -> String {
    Instant::parse(text).map_or_else(|| text.to_owned(), instant_short)
}

pub fn num(value: Option<Num>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// The words of a status (never colour alone).
pub fn status_label(status: Status) -> &'static str {
    match status {
        Status::Compliant => "compliant",
        Status::Violation => "violation",
        Status::NotYetInForce => "not yet in force",
        Status::Expired => "expired",
        Status::NoData => "no data",
    }
}

/// A mark beside the words, for scanning a column.
pub fn status_mark(status: Status) -> &'static str {
    match status {
        Status::Compliant => "✓",
        Status::Violation => "✗",
        Status::NotYetInForce => "…",
        Status::Expired => "–",
        Status::NoData => "?",
    }
}

/// The CSS class of a status.
pub fn status_class(status: Status) -> &'static str {
    match status {
        Status::Compliant => "st-compliant",
        Status::Violation => "st-violation",
        Status::NotYetInForce => "st-pending",
        Status::Expired => "st-expired",
        Status::NoData => "st-nodata",
    }
}

/// The first 12 hexadecimal digits of a hash.
pub fn short_hash(hex: &str) -> String {
    hex.chars().take(12).collect()
}

/// A JSON value on one line, strings without their quotes.
pub fn json_inline(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// An instant typed in a form: a date, `YYYY-MM-DDTHH:MM` (a `datetime-local` field,
/// read as UTC), with or without seconds and a `Z`.
pub fn parse_instant(text: &str) -> Option<Instant> {
    let text = text.trim();
    if let Some(at) = Instant::parse(text) {
        return Some(at);
    }
    let text = text.trim_end_matches('Z').replace(' ', "T");
    match text.len() {
        16 => Instant::parse(&format!("{text}:00Z")),
        19 => Instant::parse(&format!("{text}Z")),
        _ => None,
    }
}

/// The value of a `datetime-local` field for an instant (UTC).
pub fn datetime_local(at: Instant) -> String {
    let text = at.to_string();
    text.get(0..19).unwrap_or(&text).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_and_relative_times_read_as_words() {
        assert_eq!(span(0), "0 s");
        assert_eq!(span(90), "1 min");
        assert_eq!(span(3 * 3600 + 60), "3 h 1 min");
        assert_eq!(span(86_400 * 3 + 3600 * 4), "3 d 4 h");
        assert_eq!(span(86_400 * 40), "40 d");
        assert_eq!(span(86_400 * 400), "1 y 35 d");
        let now = Instant::from_unix_seconds(1_000_000);
        assert_eq!(
            relative(Instant::from_unix_seconds(1_000_000 + 7200), now),
            "in 2 h"
        );
        assert_eq!(
            relative(Instant::from_unix_seconds(1_000_000 - 7200), now),
            "2 h ago"
        );
        assert_eq!(relative(now, now), "now");
    }

    #[test]
    fn form_instants_are_read_as_utc() {
        let at = Instant::parse("1980-12-31T12:30:00Z");
        assert_eq!(parse_instant("1980-12-31T12:30"), at);
        assert_eq!(parse_instant("1980-12-31T12:30:00"), at);
        assert_eq!(parse_instant("1980-12-31T12:30:00Z"), at);
        assert_eq!(parse_instant(" 1980-12-31 "), Instant::parse("1980-12-31"));
        assert_eq!(parse_instant("soon"), None);
        assert_eq!(
            datetime_local(Instant::parse("1980-12-31T12:30:00Z").unwrap_or(now_zero())),
            "1980-12-31T12:30:00"
        );
    }

    fn now_zero() -> Instant {
        Instant::from_unix_seconds(0)
    }

    #[test]
    fn query_components_are_encoded() {
        assert_eq!(
            encode("detente/carter_1977/US"),
            "detente%2Fcarter_1977%2FUS"
        );
        assert_eq!(encode("a b&c=d"), "a%20b%26c%3Dd");
    }
}
