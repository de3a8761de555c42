//! Funnel stage helper: the report range `[start, end)` from `last`, `since`, `until` and
//! `now`, in UTC.
//!
//! Takes: a [`RangeSpec`] (the range as a person or an agent writes it). Gives: a [`Range`];
//! bad values are user errors with a hint.

use crate::error::{Error, Result};
use crate::events::Ts;
use serde::Serialize;

/// A half-open time range `[start, end)`, UTC, read as of a time (`as_of`, the report's "now").
///
/// The journeys that start in `[start, end)` are the cohort; their rows are counted up to
/// `as_of` (at most a window after their start), so an old range read today sees what its
/// journeys did since, and a stage is judged only on journeys at least its maturity horizon
/// old at `as_of`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Range {
    /// First instant in the range.
    pub start: Ts,
    /// First instant after the range.
    pub end: Ts,
    /// Rows created from here on are not read (they have not happened yet). Never before
    /// `start`; the report shows it with the maturity horizons.
    #[serde(skip)]
    pub as_of: Ts,
}

/// The recent window the build annotation and the calendar read, ending at `now`: four weekly
/// cohorts, so the older ones are past every stage's maturity horizon (14 days by default) and
/// the verdicts rest on journeys that had the time to convert.
pub const RECENT: &str = "28d";

/// A range as it is asked for: `last` (a duration ending at `now`) or `since`/`until` (dates or
/// RFC 3339 times), and `now` (default: the current time). What `report`, `leads` and the MCP
/// tools take; [`RangeSpec::resolve`] turns it into a [`Range`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RangeSpec<'a> {
    /// A duration ending at `now`: `7d`, `24h`, `4w`, `90m` (default `7d`).
    pub last: Option<&'a str>,
    /// Start (inclusive): a UTC date or an RFC 3339 time.
    pub since: Option<&'a str>,
    /// End (exclusive): a UTC date or an RFC 3339 time (default: `now`).
    pub until: Option<&'a str>,
    /// "Now", RFC 3339 (default: the current time).
    pub now: Option<&'a str>,
}

impl RangeSpec<'_> {
    /// The range `[start, end)`; `last` together with `since` or `until` is refused.
    pub fn resolve(&self) -> Result<Range> {
        if self.last.is_some() && (self.since.is_some() || self.until.is_some()) {
            return Err(Error::user_hint(
                "give `last` or `since`/`until`, not both",
                "`last` is a duration ending now; `since`/`until` are the range's start and end",
            ));
        }
        Range::from_flags(self.last, self.since, self.until, self.now)
    }
}

impl Range {
    /// Resolve the flags: `--since/--until` (a date = midnight UTC, or an RFC 3339 time), else
    /// `--last` (default `7d`) ending at `--now` (default: the current time).
    ///
    /// ```
    /// use partner_pages::funnel::Range;
    /// let r = Range::from_flags(Some("7d"), None, None, Some("2026-11-24T00:00:00Z")).unwrap();
    /// assert_eq!(r.start.to_string(), "2026-11-17T00:00:00.000Z");
    /// ```
    pub fn from_flags(
        last: Option<&str>,
        since: Option<&str>,
        until: Option<&str>,
        now: Option<&str>,
    ) -> Result<Range> {
        let now = match now {
            Some(s) => parse_time("now", s)?,
            None => Ts::now(),
        };
        let range = if since.is_some() || until.is_some() {
            let end = until
                .map(|s| parse_time("until", s))
                .transpose()?
                .unwrap_or(now);
            let start = match since {
                Some(s) => parse_time("since", s)?,
                None => Ts(end.0 - parse_duration(last.unwrap_or("7d"))?),
            };
            Range::new(start, end).at(now)
        } else {
            Range::new(Ts(now.0 - parse_duration(last.unwrap_or("7d"))?), now)
        };
        if range.start >= range.end {
            return Err(Error::user_hint(
                format!(
                    "empty report range: {} is not before {}",
                    range.start, range.end
                ),
                "the start (`since`) is inclusive and the end (`until`) exclusive: give an earlier start",
            ));
        }
        Ok(range)
    }

    /// `[start, end)` read as of `end`.
    pub fn new(start: Ts, end: Ts) -> Range {
        Range {
            start,
            end,
            as_of: end,
        }
    }

    /// The same range read as of `now` (at least its start, so an empty read stays empty).
    pub fn at(self, now: Ts) -> Range {
        Range {
            as_of: now.max(self.start),
            ..self
        }
    }

    /// Whether `t` is in `[start, end)`.
    pub fn contains(&self, t: Ts) -> bool {
        t >= self.start && t < self.end
    }
}

fn parse_time(field: &'static str, s: &str) -> Result<Ts> {
    Ts::parse_date_or_time(s.trim()).ok_or_else(|| {
        Error::field(
            field,
            s,
            "not a date or time",
            "write a UTC date like 2026-11-17 or a time like 2026-11-17T10:00:00Z",
        )
    })
}

/// `7d`, `24h`, `4w`, `90m` in milliseconds.
pub(crate) fn parse_duration(s: &str) -> Result<i64> {
    let s = s.trim();
    let bad = || {
        Error::field(
            "last",
            s,
            "not a duration",
            "write a whole number and a unit: 7d (days), 24h (hours), 4w (weeks), 90m (minutes)",
        )
    };
    let (num, unit) = s.split_at(s.len().saturating_sub(1));
    let n: i64 = num.parse().map_err(|_| bad())?;
    let ms = match unit {
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 7 * 86_400_000,
        _ => return Err(bad()),
    };
    if n <= 0 {
        return Err(bad());
    }
    n.checked_mul(ms).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_is_relative_to_now() {
        let r = Range::from_flags(Some("24h"), None, None, Some("2026-11-24T12:00:00Z")).unwrap();
        assert_eq!(r.start.to_string(), "2026-11-23T12:00:00.000Z");
        assert_eq!(r.end.to_string(), "2026-11-24T12:00:00.000Z");
    }

    #[test]
    fn dates_are_midnight_utc_and_until_is_exclusive() {
        let r = Range::from_flags(None, Some("2026-11-17"), Some("2026-11-24"), None).unwrap();
        assert!(r.contains(Ts::parse("2026-11-17 00:00:00").unwrap()));
        assert!(!r.contains(Ts::parse("2026-11-24 00:00:00").unwrap()));
    }

    #[test]
    fn bad_values_say_what_to_write() {
        let e = Range::from_flags(Some("7 days"), None, None, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("7d (days)"), "{e}");
        let e = Range::from_flags(None, Some("17.11.2026"), None, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("2026-11-17"), "{e}");
        assert!(Range::from_flags(None, Some("2026-11-24"), Some("2026-11-17"), None).is_err());
    }
}
