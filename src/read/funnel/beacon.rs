//! Funnel stage, the beacon's trail: did the landing page stop reporting while the partner's
//! link kept sending clicks?
//!
//! Takes: each journey's first-reach times (per partner, in the range). Gives: a [`Trail`] per
//! partner (the last landing-page beacon row and the clicks per day) and, from it, a
//! [`BeaconStop`] when the evidence is clear.
//!
//! Beacon rows are the ones the landing page sends: `visit`, `lead_magnet`, `cta`. `activation`
//! is left out because the product's backend may send it (`/s`): a server-side activation must
//! not hide a page that stopped reporting. Clicks are the `/go` redirect's, server side.
//!
//! The minimum evidence: at least [`MIN_CLICKS_AFTER_STOP`] clicks on at least
//! [`MIN_DAYS_AFTER_STOP`] distinct days after the day of the last beacon row, and at least
//! [`MIN_BEACONS_BEFORE`] beacon rows before it (the page did report). Clicks on the day of the
//! last beacon row are not counted (some of them did reach the page). With 20 clicks, even a
//! partner whose clicks reach the page only 30% of the time has a chance of 0.7^20 < 0.1% of
//! giving no visit at all by bad luck; a quiet day with a handful of clicks proves nothing.

use super::journey::Reached;
use crate::events::{Ts, MS_PER_DAY};
use serde::Serialize;
use std::collections::BTreeMap;

/// Clicks after the last beacon row a stop needs.
pub const MIN_CLICKS_AFTER_STOP: u64 = 20;
/// Distinct days with clicks after the last beacon row a stop needs.
pub const MIN_DAYS_AFTER_STOP: u64 = 2;
/// Beacon rows before the stop (the page did report before).
pub const MIN_BEACONS_BEFORE: u64 = 5;

/// One partner's trail in the range: landing-page beacon rows and clicks per day.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Trail {
    /// The newest beacon row (first reach of `visit`, `lead_magnet` or `cta` of a journey).
    pub last_beacon: Option<Ts>,
    /// Beacon rows (first reaches) in the range.
    pub beacons: u64,
    /// Clicks (first reach of `click` of a journey) per UTC day number.
    pub clicks_by_day: BTreeMap<i64, u64>,
}

impl Trail {
    /// Add a journey's first reaches that fall in `[start, end)`.
    pub(crate) fn journey(&mut self, r: &Reached, start: Ts, end: Ts) {
        let inside = |t: &Ts| *t >= start && *t < end;
        if let Some(t) = r.click.filter(inside) {
            *self
                .clicks_by_day
                .entry(t.0.div_euclid(MS_PER_DAY))
                .or_default() += 1;
        }
        for t in [r.visit, r.lead_magnet, r.cta].into_iter().flatten() {
            if inside(&t) {
                self.beacons += 1;
                self.last_beacon = Some(self.last_beacon.map_or(t, |l| l.max(t)));
            }
        }
    }

    /// The stop, when the evidence is clear (see the module's minimum).
    pub(crate) fn stop(&self) -> Option<BeaconStop> {
        let last = self.last_beacon?;
        let day = last.0.div_euclid(MS_PER_DAY);
        let after: Vec<(&i64, &u64)> = self.clicks_by_day.range(day + 1..).collect();
        let clicks: u64 = after.iter().map(|(_, n)| **n).sum();
        let days = after.len() as u64;
        let stop = BeaconStop {
            last_beacon: last,
            since: Ts((day + 1) * MS_PER_DAY),
            clicks_after: clicks,
            days_with_clicks: days,
            last_click: after.last().map(|(d, _)| Ts(**d * MS_PER_DAY))?,
            beacons_before: self.beacons,
        };
        (clicks >= MIN_CLICKS_AFTER_STOP
            && days >= MIN_DAYS_AFTER_STOP
            && self.beacons >= MIN_BEACONS_BEFORE)
            .then_some(stop)
    }
}

/// A landing-page beacon that stopped while clicks kept coming.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, schemars::JsonSchema)]
pub struct BeaconStop {
    /// The newest landing-page beacon row (`visit`, `lead_magnet` or `cta`).
    pub last_beacon: Ts,
    /// The first day with no beacon row: the day after the last one (midnight UTC).
    pub since: Ts,
    /// Clicks from that day on, none of which reached the page.
    pub clicks_after: u64,
    /// Days with clicks from that day on.
    pub days_with_clicks: u64,
    /// The newest day with clicks (midnight UTC).
    pub last_click: Ts,
    /// Beacon rows in the range before the stop.
    pub beacons_before: u64,
}

impl BeaconStop {
    /// The first silent day, `YYYY-MM-DD`.
    pub fn since_date(&self) -> String {
        self.since.date_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = MS_PER_DAY;

    /// A trail with `visits` visits a day on days `0..visit_days` and `clicks[d]` clicks on day d.
    fn trail(visits: u64, visit_days: i64, clicks: &[u64]) -> Trail {
        let mut t = Trail::default();
        let end = Ts(100 * DAY);
        for d in 0..visit_days {
            for _ in 0..visits {
                let r = Reached {
                    click: Some(Ts(d * DAY + 3_600_000)),
                    visit: Some(Ts(d * DAY + 3_601_000)),
                    ..Reached::default()
                };
                t.journey(&r, Ts(0), end);
            }
        }
        for (d, n) in clicks.iter().enumerate() {
            for _ in 0..*n {
                let r = Reached {
                    click: Some(Ts(d as i64 * DAY + 7_200_000)),
                    ..Reached::default()
                };
                t.journey(&r, Ts(0), end);
            }
        }
        t
    }

    #[test]
    fn clicks_on_several_days_after_the_last_visit_are_a_stop() {
        // Visits on days 0-9, then 12 clicks a day on days 10-13 with no visit.
        let mut clicks = vec![0; 10];
        clicks.extend([12, 12, 12, 12]);
        let s = trail(10, 10, &clicks).stop().expect("a stop");
        assert_eq!(s.since, Ts(10 * DAY));
        assert_eq!(s.since_date(), "1970-01-11");
        assert_eq!(s.clicks_after, 48);
        assert_eq!(s.days_with_clicks, 4);
        assert_eq!(s.beacons_before, 100);
    }

    #[test]
    fn a_quiet_day_or_a_single_day_is_not_a_stop() {
        // A low-traffic partner: 3 clicks on the last day and none reached the page yet.
        let mut clicks = vec![0; 10];
        clicks.push(3);
        assert_eq!(trail(2, 10, &clicks).stop(), None);
        // 25 clicks, but all on one day: could be one bad hour.
        let mut clicks = vec![0; 10];
        clicks.push(25);
        assert_eq!(trail(10, 10, &clicks).stop(), None);
        // 30 clicks over 3 days but the page never reported: not a stop (the handoff rules
        // judge a page that never reported).
        assert_eq!(trail(0, 0, &[10, 10, 10]).stop(), None);
        // Visits every day: nothing stopped.
        assert_eq!(trail(10, 14, &[]).stop(), None);
        // Rows outside the range count for nothing.
        let mut t = Trail::default();
        let r = Reached {
            click: Some(Ts(200 * DAY)),
            visit: Some(Ts(200 * DAY)),
            ..Reached::default()
        };
        t.journey(&r, Ts(0), Ts(100 * DAY));
        assert_eq!(t, Trail::default());
    }
}
