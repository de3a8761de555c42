//! Read stage helper: event timestamps as UTC milliseconds.
//!
//! Takes: `created_at` text in either stored format (`2026-11-17T10:00:00.000Z` or SQLite's
//! `2026-11-17 10:00:00`, both UTC). Gives: a [`Ts`] that sorts and compares in time order —
//! comparing the two text forms directly gets the boundary day wrong.

use serde::{Serialize, Serializer};
use std::fmt;

/// Milliseconds since 1970-01-01T00:00:00Z.
///
/// ```
/// use partner_pages::events::Ts;
/// let a = Ts::parse("2026-11-17T10:00:00.000Z").unwrap();
/// let b = Ts::parse("2026-11-17 10:00:00").unwrap();
/// assert_eq!(a, b);
/// assert_eq!(a.to_string(), "2026-11-17T10:00:00.000Z");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ts(pub i64);

/// Milliseconds in a day.
pub const MS_PER_DAY: i64 = 86_400_000;

impl Ts {
    /// Parse `YYYY-MM-DD[T| ]HH:MM:SS[.fff][Z|+HH:MM|-HH:MM]` (no zone means UTC).
    pub fn parse(s: &str) -> Option<Ts> {
        let b = s.as_bytes();
        if b.len() < 19 {
            return None;
        }
        let date = parse_date_bytes(&b[..10])?;
        parse_time_of_day(b, date)
    }

    /// As [`Ts::parse`], remembering the last date seen: rows come in about time order, so
    /// most share their day with the previous row and skip the calendar arithmetic.
    pub(crate) fn parse_cached(s: &str, cache: &mut DateCache) -> Option<Ts> {
        let b = s.as_bytes();
        if b.len() < 19 {
            return None;
        }
        let date = if b[..10] == cache.text {
            cache.day
        } else {
            let d = parse_date_bytes(&b[..10])?;
            cache.text.copy_from_slice(&b[..10]);
            cache.day = d;
            d
        };
        parse_time_of_day(b, date)
    }
}

/// The last date [`Ts::parse_cached`] parsed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DateCache {
    text: [u8; 10],
    day: Ts,
}

impl Default for DateCache {
    fn default() -> DateCache {
        // 0xFF is never in UTF-8 text: the first row always misses.
        DateCache {
            text: [0xFF; 10],
            day: Ts(0),
        }
    }
}

/// The part after `YYYY-MM-DD` (checked by the caller, `b.len() >= 19`) on top of `date`.
fn parse_time_of_day(b: &[u8], date: Ts) -> Option<Ts> {
    if b[10] != b'T' && b[10] != b't' && b[10] != b' ' {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let h = two(b[11], b[12])?;
    let mi = two(b[14], b[15])?;
    let sec = two(b[17], b[18])?;
    if h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    let mut ms: i64 = 0;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let start = i;
        let mut scale = 100;
        while i < b.len() && b[i].is_ascii_digit() {
            ms += i64::from(b[i] - b'0') * scale;
            scale /= 10;
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    let mut offset_min: i64 = 0;
    if i < b.len() {
        match b[i] {
            b'Z' | b'z' if i + 1 == b.len() => {}
            b'+' | b'-' if b.len() == i + 6 && b[i + 3] == b':' => {
                let oh = two(b[i + 1], b[i + 2])?;
                let om = two(b[i + 4], b[i + 5])?;
                offset_min = oh * 60 + om;
                if b[i] == b'+' {
                    offset_min = -offset_min;
                }
            }
            _ => return None,
        }
    }
    Some(Ts(date.0
        + ((h * 60 + mi + offset_min) * 60 + sec) * 1000
        + ms))
}

impl Ts {
    /// Parse a date `YYYY-MM-DD` (midnight UTC) or a full time as [`Ts::parse`] accepts.
    pub fn parse_date_or_time(s: &str) -> Option<Ts> {
        if s.len() == 10 {
            parse_date_bytes(s.as_bytes())
        } else {
            Ts::parse(s)
        }
    }

    /// The day this instant falls on, as `YYYY-MM-DD` (used for coarse SQL range filters).
    pub fn date_string(self) -> String {
        let (y, m, d) = civil_from_days(self.0.div_euclid(MS_PER_DAY));
        format!("{y:04}-{m:02}-{d:02}")
    }

    /// This time `days` days later (earlier when negative).
    pub fn plus_days(self, days: i64) -> Ts {
        Ts(self.0 + days * MS_PER_DAY)
    }

    /// The current time, truncated to milliseconds.
    pub fn now() -> Ts {
        Ts(chrono::Utc::now().timestamp_millis())
    }
}

impl fmt::Display for Ts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.0.div_euclid(MS_PER_DAY);
        let rem = self.0.rem_euclid(MS_PER_DAY);
        let (y, m, d) = civil_from_days(days);
        let (h, rem) = (rem / 3_600_000, rem % 3_600_000);
        let (mi, rem) = (rem / 60_000, rem % 60_000);
        let (s, ms) = (rem / 1000, rem % 1000);
        write!(f, "{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z")
    }
}

/// A UTC time with milliseconds, as every report writes it.
impl schemars::JsonSchema for Ts {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Time".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A UTC time with milliseconds (RFC 3339).",
            "type": "string",
            "pattern": crate::json_schema::TIMESTAMP,
        })
    }
}

impl Serialize for Ts {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

fn two(a: u8, b: u8) -> Option<i64> {
    if a.is_ascii_digit() && b.is_ascii_digit() {
        Some(i64::from(a - b'0') * 10 + i64::from(b - b'0'))
    } else {
        None
    }
}

fn parse_date_bytes(b: &[u8]) -> Option<Ts> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y = two(b[0], b[1])? * 100 + two(b[2], b[3])?;
    let m = two(b[5], b[6])?;
    let d = two(b[8], b[9])?;
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    Some(Ts(days_from_civil(y, m, d) * MS_PER_DAY))
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's civil-calendar algorithms (public domain), proleptic Gregorian.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_stored_formats_are_the_same_instant() {
        let iso = Ts::parse("2026-11-17T00:00:00.000Z").unwrap();
        let sqlite = Ts::parse("2026-11-17 00:00:00").unwrap();
        assert_eq!(iso, sqlite);
        assert_eq!(iso, Ts::parse_date_or_time("2026-11-17").unwrap());
    }

    #[test]
    fn agrees_with_chrono_on_epoch_and_leap_days() {
        for s in [
            "1970-01-01T00:00:00.000Z",
            "2000-02-29T23:59:59.999Z",
            "2024-02-29T12:00:00.000Z",
            "2026-12-31T23:59:59.001Z",
        ] {
            let ours = Ts::parse(s).unwrap();
            let theirs = chrono::DateTime::parse_from_rfc3339(s)
                .unwrap()
                .timestamp_millis();
            assert_eq!(ours.0, theirs, "{s}");
            assert_eq!(ours.to_string(), s);
        }
    }

    #[test]
    fn offsets_are_converted_to_utc() {
        assert_eq!(
            Ts::parse("2026-11-17T12:00:00+02:00"),
            Ts::parse("2026-11-17T10:00:00Z")
        );
    }

    #[test]
    fn garbage_is_refused() {
        for s in [
            "",
            "17/11/2026 10:00:00",
            "2026-13-01 00:00:00",
            "2026-02-30 00:00:00",
            "2026-11-17X10:00:00",
            "2026-11-17 10:00:00 junk",
        ] {
            assert_eq!(Ts::parse(s), None, "{s}");
        }
    }
}
