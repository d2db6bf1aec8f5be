//! Civil dates, UTC instants and durations, with the treaty calendar rule.
//!
//! The language needs only proleptic Gregorian dates in UTC, whole-second instants and
//! durations counted in a unit. Keeping them here (instead of a general time library) keeps
//! the core free of time zones and of the clock, and makes the month rule explicit: adding
//! months or years moves the calendar field and clamps the day to the end of the month.

use std::fmt;

/// A proleptic Gregorian calendar date, years 1..=9999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: i32,
    month: u8,
    day: u8,
}

/// A UTC instant with second precision, as seconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(i64);

/// The unit of a [`Duration`]. Months and years are calendar units; the rest are exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TimeUnit {
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

/// A count of a time unit, e.g. `24h`, `6 months`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration {
    pub count: i64,
    pub unit: TimeUnit,
}

const SECONDS_PER_DAY: i64 = 86_400;
/// Days from 0000-03-01 to 1970-01-01 in the proleptic Gregorian calendar.
const UNIX_EPOCH_DAYS: i64 = 719_468;

pub fn is_leap_year(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

pub fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap_year(year) => 29,
        _ => 28,
    }
}

impl Date {
    pub const MIN_YEAR: i32 = 1;
    pub const MAX_YEAR: i32 = 9999;

    /// A date, if the fields name a real day in years 1..=9999.
    pub fn new(year: i32, month: u8, day: u8) -> Option<Date> {
        let valid = (Self::MIN_YEAR..=Self::MAX_YEAR).contains(&year)
            && (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month);
        valid.then_some(Date { year, month, day })
    }

    pub fn year(self) -> i32 {
        self.year
    }
    pub fn month(self) -> u8 {
        self.month
    }
    pub fn day(self) -> u8 {
        self.day
    }

    /// Parses `YYYY-MM-DD` exactly.
    pub fn parse(text: &str) -> Option<Date> {
        let b = text.as_bytes();
        if b.len() != 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
            return None;
        }
        let year = parse_digits(b.get(0..4)?)?;
        let month = parse_digits(b.get(5..7)?)?;
        let day = parse_digits(b.get(8..10)?)?;
        Date::new(
            i32::try_from(year).ok()?,
            u8::try_from(month).ok()?,
            u8::try_from(day).ok()?,
        )
    }

    /// Days since 1970-01-01 (negative before). Howard Hinnant's `days_from_civil`.
    pub fn days_since_epoch(self) -> i64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let mp = if m > 2 { m - 3 } else { m + 9 };
        let doy = (153 * mp + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - UNIX_EPOCH_DAYS
    }

    /// The date `days` days after 1970-01-01, if within years 1..=9999.
    pub fn from_days_since_epoch(days: i64) -> Option<Date> {
        let z = days.checked_add(UNIX_EPOCH_DAYS)?;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Date::new(
            i32::try_from(year).ok()?,
            u8::try_from(month).ok()?,
            u8::try_from(day).ok()?,
        )
    }

    /// Midnight UTC at the start of this date.
    pub fn start(self) -> Instant {
        Instant(self.days_since_epoch() * SECONDS_PER_DAY)
    }

    /// Adds whole calendar months, clamping the day to the end of the target month:
    /// 2020-01-31 + 1 month = 2020-02-29.
    pub fn add_months(self, months: i64) -> Option<Date> {
        let index = i64::from(self.year) * 12 + i64::from(self.month) - 1 + months;
        let year = i32::try_from(index.div_euclid(12)).ok()?;
        let month = u8::try_from(index.rem_euclid(12) + 1).ok()?;
        if !(Self::MIN_YEAR..=Self::MAX_YEAR).contains(&year) {
            return None;
        }
        let day = self.day.min(days_in_month(year, month));
        Date::new(year, month, day)
    }

    pub fn add_days(self, days: i64) -> Option<Date> {
        Date::from_days_since_epoch(self.days_since_epoch().checked_add(days)?)
    }

    /// Adds a duration. Exact units that do not fall on a day boundary are rounded down to
    /// whole days (a date has no time of day); use [`Instant::add`] for those.
    pub fn checked_add(self, duration: Duration) -> Option<Date> {
        match duration.unit {
            TimeUnit::Month => self.add_months(duration.count),
            TimeUnit::Year => self.add_months(duration.count.checked_mul(12)?),
            _ => self.add_days(duration.exact_seconds()?.div_euclid(SECONDS_PER_DAY)),
        }
    }

    pub fn checked_sub(self, duration: Duration) -> Option<Date> {
        self.checked_add(duration.negated()?)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

fn parse_digits(bytes: &[u8]) -> Option<u32> {
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut value: u32 = 0;
    for b in bytes {
        value = value.checked_mul(10)?.checked_add(u32::from(b - b'0'))?;
    }
    Some(value)
}

impl Instant {
    pub const fn from_unix_seconds(seconds: i64) -> Instant {
        Instant(seconds)
    }
    pub const fn unix_seconds(self) -> i64 {
        self.0
    }

    /// Parses `YYYY-MM-DDTHH:MM:SSZ` (RFC 3339 in UTC, no fraction), or a bare date
    /// (`YYYY-MM-DD`, meaning midnight UTC).
    pub fn parse(text: &str) -> Option<Instant> {
        if text.len() == 10 {
            return Date::parse(text).map(Date::start);
        }
        let b = text.as_bytes();
        if b.len() != 20
            || b.get(10) != Some(&b'T')
            || b.get(13) != Some(&b':')
            || b.get(16) != Some(&b':')
            || b.get(19) != Some(&b'Z')
        {
            return None;
        }
        let date = Date::parse(text.get(0..10)?)?;
        let hour = i64::from(parse_digits(b.get(11..13)?)?);
        let minute = i64::from(parse_digits(b.get(14..16)?)?);
        let second = i64::from(parse_digits(b.get(17..19)?)?);
        if hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        Some(Instant(date.start().0 + hour * 3600 + minute * 60 + second))
    }

    /// The date this instant falls on.
    pub fn date(self) -> Date {
        // Instants are only built from valid dates plus bounded offsets, so the date exists;
        // fall back to the epoch rather than panic if arithmetic ever strays.
        Date::from_days_since_epoch(self.0.div_euclid(SECONDS_PER_DAY)).unwrap_or(Date {
            year: 1970,
            month: 1,
            day: 1,
        })
    }

    /// Adds a duration; months and years follow the calendar rule and keep the time of day.
    pub fn checked_add(self, duration: Duration) -> Option<Instant> {
        match duration.unit {
            TimeUnit::Month | TimeUnit::Year => {
                let time_of_day = self.0.rem_euclid(SECONDS_PER_DAY);
                let date = self.date().checked_add(duration)?;
                Some(Instant(date.start().0 + time_of_day))
            }
            _ => Some(Instant(self.0.checked_add(duration.exact_seconds()?)?)),
        }
    }

    pub fn checked_sub(self, duration: Duration) -> Option<Instant> {
        self.checked_add(duration.negated()?)
    }

    /// Seconds from `earlier` to `self` (negative if `earlier` is later).
    pub fn seconds_since(self, earlier: Instant) -> i64 {
        self.0.saturating_sub(earlier.0)
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let date = self.date();
        let secs = self.0.rem_euclid(SECONDS_PER_DAY);
        write!(
            f,
            "{date}T{:02}:{:02}:{:02}Z",
            secs / 3600,
            (secs / 60) % 60,
            secs % 60
        )
    }
}

impl Duration {
    pub const fn new(count: i64, unit: TimeUnit) -> Duration {
        Duration { count, unit }
    }

    /// The exact length in seconds, or `None` for calendar units (months, years).
    pub fn exact_seconds(self) -> Option<i64> {
        let per = match self.unit {
            TimeUnit::Minute => 60,
            TimeUnit::Hour => 3600,
            TimeUnit::Day => SECONDS_PER_DAY,
            TimeUnit::Week => 7 * SECONDS_PER_DAY,
            TimeUnit::Month | TimeUnit::Year => return None,
        };
        self.count.checked_mul(per)
    }

    pub fn negated(self) -> Option<Duration> {
        Some(Duration {
            count: self.count.checked_neg()?,
            unit: self.unit,
        })
    }
}

impl TimeUnit {
    /// The unit named by a word of the language (`h`, `days`, `year` …).
    pub fn from_word(word: &str) -> Option<TimeUnit> {
        Some(match word {
            "min" | "minute" | "minutes" => TimeUnit::Minute,
            "h" | "hour" | "hours" => TimeUnit::Hour,
            "d" | "day" | "days" => TimeUnit::Day,
            "week" | "weeks" => TimeUnit::Week,
            "month" | "months" => TimeUnit::Month,
            "year" | "years" => TimeUnit::Year,
            _ => return None,
        })
    }

    /// The canonical spelling used by the formatter, for `count` units.
    pub fn word(self, count: i64) -> &'static str {
        let one = count == 1 || count == -1;
        match (self, one) {
            (TimeUnit::Minute, _) => "min",
            (TimeUnit::Hour, _) => "h",
            (TimeUnit::Day, true) => "day",
            (TimeUnit::Day, false) => "days",
            (TimeUnit::Week, true) => "week",
            (TimeUnit::Week, false) => "weeks",
            (TimeUnit::Month, true) => "month",
            (TimeUnit::Month, false) => "months",
            (TimeUnit::Year, true) => "year",
            (TimeUnit::Year, false) => "years",
        }
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.unit {
            TimeUnit::Hour => write!(f, "{}h", self.count),
            unit => write!(f, "{} {}", self.count, unit.word(self.count)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Date {
        Date::parse(text).unwrap_or_else(|| unreachable!("bad test date {text}"))
    }

    #[test]
    fn month_addition_clamps_to_end_of_month() {
        let cases = [
            ("2020-01-31", 1, "2020-02-29"),
            ("2021-01-31", 1, "2021-02-28"),
            ("2020-03-31", -1, "2020-02-29"),
            ("2020-02-29", 12, "2021-02-28"),
            ("2019-12-15", 1, "2020-01-15"),
            ("1977-10-03", 36, "1980-10-03"),
        ];
        for (start, months, expected) in cases {
            assert_eq!(
                d(start).add_months(months),
                Some(d(expected)),
                "{start} + {months}"
            );
        }
    }

    #[test]
    fn days_round_trip_over_four_centuries() {
        let mut day = d("1800-01-01").days_since_epoch();
        let end = d("2200-12-31").days_since_epoch();
        let mut previous = Date::from_days_since_epoch(day - 1);
        while day <= end {
            let date = Date::from_days_since_epoch(day);
            assert!(date.is_some());
            assert_eq!(date.map(Date::days_since_epoch), Some(day));
            assert!(previous < date);
            previous = date;
            day += 1;
        }
    }

    #[test]
    fn instants_parse_and_print() {
        let t = Instant::parse("1979-06-18T10:00:00Z");
        assert_eq!(
            t.map(|t| t.to_string()).as_deref(),
            Some("1979-06-18T10:00:00Z")
        );
        assert_eq!(Instant::parse("1970-01-01"), Some(Instant(0)));
        assert_eq!(Instant::parse("1979-06-18T24:00:00Z"), None);
        assert_eq!(Instant::parse("1979-02-29"), None);
        assert_eq!(Instant::parse("1979-06-18T10:00:00+01:00"), None);
    }

    #[test]
    fn instant_adds_calendar_and_exact_units() {
        let t = Instant::parse("2020-01-31T12:00:00Z").unwrap_or(Instant(0));
        let month = t.checked_add(Duration::new(1, TimeUnit::Month));
        assert_eq!(
            month.map(|t| t.to_string()).as_deref(),
            Some("2020-02-29T12:00:00Z")
        );
        let day = t.checked_add(Duration::new(24, TimeUnit::Hour));
        assert_eq!(
            day.map(|t| t.to_string()).as_deref(),
            Some("2020-02-01T12:00:00Z")
        );
    }
}
