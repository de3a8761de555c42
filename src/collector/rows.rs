//! Collector stage, building rows: an accepted request as the `partner_events` row the store
//! writes, with its random id and its UTC timestamp.
//!
//! Takes: an [`Accepted`] event from the request checks. Gives: an [`Event`] to store.

use crate::model::event::Event;

/// An event that passed the rules; [`Accepted::into_event`] stamps its id and time.
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    /// The partner's code.
    pub partner: String,
    /// The campaign (`default` when none or an undeclared one was given).
    pub campaign: String,
    /// The stage the event records (`click`, `visit`, `lead_magnet`, `cta`, `activation`, `revenue`).
    pub stage: String,
    /// The page the event happened on (site path).
    pub page_path: String,
    /// The visitor id: the cookie's, or a new one.
    pub visitor_id: String,
    /// Cookies to set on the response.
    pub set: SetCookies,
    /// Revenue value (`revenue` events from `/s` only).
    pub value: Option<f64>,
    /// The product's opaque user id (`/s` events only).
    pub user_id: Option<String>,
    /// The experiment variant recorded with the event: the signed cookie's, or a fresh
    /// assignment; `None` for a partner without a test, and for a forged variant cookie.
    pub variant: Option<String>,
    /// The value of a variant cookie (`<prefix>_x_<code>`) to set: a fresh signed assignment.
    pub variant_cookie: Option<String>,
}

/// Which attribution cookies a response sets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SetCookies {
    /// Set the visitor id cookie (`<prefix>_vid`).
    pub vid: bool,
    /// Set the first-touch source cookie (`<prefix>_src`).
    pub src: bool,
}

impl Accepted {
    /// The stored row: this event with its id and creation time.
    pub fn into_event(self, id: String, created_at: String) -> Event {
        Event {
            id,
            partner_code: self.partner,
            campaign: self.campaign,
            event_name: self.stage,
            page_path: self.page_path,
            visitor_id: Some(self.visitor_id),
            created_at,
            value: self.value,
            user_id: self.user_id,
            variant: self.variant,
            pay: Default::default(),
        }
    }
}

/// What the beacon route does with a valid request.
#[derive(Debug, Clone, PartialEq)]
// One per request, moved once: boxing the row would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum BeaconOutcome {
    /// Record this event.
    Record(Accepted),
    /// Valid, but not this partner's activation (e.g. a host page's beacon): 204, no row.
    Ignore,
}

/// A random UUID v4 (row ids and visitor ids: random, never derived from the request), in the
/// lower-case hyphenated form the collector accepts back as a visitor id.
pub fn new_uuid() -> String {
    uuid::Uuid::new_v4().hyphenated().to_string()
}

/// `created_at` of a row: UTC ISO-8601 with milliseconds and `Z`.
pub fn timestamp(now: chrono::DateTime<chrono::Utc>) -> String {
    now.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collector::cookies::valid_cookie_visitor_id;

    #[test]
    fn uuids_are_v4_and_distinct() {
        let a = new_uuid();
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert_eq!(
            a.split('-').map(str::len).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(valid_cookie_visitor_id(&a));
        assert_ne!(a, new_uuid());
    }

    #[test]
    fn timestamps_are_utc_milliseconds_with_z() {
        let t = chrono::DateTime::from_timestamp_millis(1_700_000_000_123).unwrap();
        assert_eq!(timestamp(t), "2023-11-14T22:13:20.123Z");
    }
}
