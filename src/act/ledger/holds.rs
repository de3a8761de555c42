//! Hold rules: earnings that look wrong are `held` with a reason, never deleted and never paid
//! while the rule holds. Each rule and its threshold:
//!
//! | reason | rule |
//! |---|---|
//! | `self_referral` | the payment's Stripe customer or user id (or the lead's user id) is one of the partner's `own_accounts` |
//! | `fast_conversions` | one visitor made at least [`FAST_COUNT`] conversions (lead, activation, payment), each within [`FAST_SECS`] seconds after a click of the same visitor |
//! | `refund_rate` | the partner has at least [`REFUND_MIN_PAYMENTS`] payments and refunds a share of them at least [`REFUND_FACTOR`] times the program's and at least [`REFUND_MIN_RATE`] |
//! | `click_burst` | one visitor id made at least [`BURST_CLICKS`] clicks within [`BURST_SECS`] seconds |
//!
//! The first reason that applies is given, in the order of the table. Paid rows are never
//! held afterwards (a lock is final; a refund claws back).

use crate::events::{Event, Ts};
use crate::partner::Partner;
use crate::site::Site;
use std::collections::{BTreeMap, BTreeSet};

/// Conversions of one visitor, each this soon after a click, that make it suspicious.
pub const FAST_COUNT: usize = 3;
/// Seconds after a click that count as "within seconds".
pub const FAST_SECS: i64 = 10;
/// Payments a partner needs before its refund rate is judged.
pub const REFUND_MIN_PAYMENTS: usize = 5;
/// How many times the program's refund rate is "far above".
pub const REFUND_FACTOR: f64 = 3.0;
/// The lowest refund rate held, whatever the program's.
pub const REFUND_MIN_RATE: f64 = 0.25;
/// Clicks of one visitor id in [`BURST_SECS`] that make a burst.
pub const BURST_CLICKS: usize = 20;
/// The window of a click burst, in seconds.
pub const BURST_SECS: i64 = 60;

/// What the hold rules found in the events.
#[derive(Debug, Clone, Default)]
pub struct Holds {
    fast_visitors: BTreeSet<String>,
    burst_visitors: BTreeSet<String>,
    refund_partners: BTreeMap<String, String>,
}

fn ts(e: &Event) -> Ts {
    Ts::parse(&e.created_at).unwrap_or(Ts(0))
}

impl Holds {
    /// Apply the visitor and partner rules to every event.
    pub fn find(site: &Site, events: &[Event]) -> Holds {
        let mut clicks: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
        let mut conversions: Vec<(&str, i64)> = Vec::new();
        for e in events {
            let Some(v) = e.visitor_id.as_deref().filter(|v| !v.is_empty()) else {
                continue;
            };
            match e.event_name.as_str() {
                "click" => clicks.entry(v).or_default().push(ts(e).0),
                "lead_magnet" | "activation" | crate::revenue::PAYMENT => {
                    conversions.push((v, ts(e).0))
                }
                _ => {}
            }
        }
        for list in clicks.values_mut() {
            list.sort_unstable();
        }
        let mut burst_visitors = BTreeSet::new();
        for (v, list) in &clicks {
            let burst = list
                .windows(BURST_CLICKS)
                .any(|w| w[BURST_CLICKS - 1] - w[0] <= BURST_SECS * 1000);
            if burst {
                burst_visitors.insert(v.to_string());
            }
        }
        let mut fast: BTreeMap<&str, usize> = BTreeMap::new();
        for (v, at) in conversions {
            let Some(list) = clicks.get(v) else { continue };
            // The latest click at or before the conversion.
            let i = list.partition_point(|c| *c <= at);
            if i > 0 && at - list[i - 1] <= FAST_SECS * 1000 {
                *fast.entry(v).or_default() += 1;
            }
        }
        let fast_visitors = fast
            .into_iter()
            .filter(|(_, n)| *n >= FAST_COUNT)
            .map(|(v, _)| v.to_string())
            .collect();

        // Refund rate: share of a partner's payments with any refund, against the program's.
        let refunded: BTreeSet<&str> = events
            .iter()
            .filter(|e| e.event_name == crate::revenue::REFUND)
            .filter_map(|e| e.pay.stripe_object_id.as_deref())
            .collect();
        let mut per: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        for e in events.iter().filter(|e| {
            e.event_name == crate::revenue::PAYMENT && site.partner(&e.partner_code).is_some()
        }) {
            let n = per.entry(e.partner_code.as_str()).or_default();
            n.0 += 1;
            if e.pay
                .stripe_object_id
                .as_deref()
                .is_some_and(|o| refunded.contains(o))
            {
                n.1 += 1;
            }
        }
        let (all, all_refunded) = per.values().fold((0, 0), |(a, b), (x, y)| (a + x, b + y));
        let program = if all == 0 {
            0.0
        } else {
            all_refunded as f64 / all as f64
        };
        let mut refund_partners = BTreeMap::new();
        for (code, (n, r)) in per {
            let rate = r as f64 / n as f64;
            if n >= REFUND_MIN_PAYMENTS
                && rate >= REFUND_MIN_RATE
                && rate >= REFUND_FACTOR * program
            {
                refund_partners.insert(
                    code.to_string(),
                    format!(
                        "refund_rate: {r} of {n} payments refunded ({:.0}%), program {:.0}%",
                        rate * 100.0,
                        program * 100.0
                    ),
                );
            }
        }
        Holds {
            fast_visitors,
            burst_visitors,
            refund_partners,
        }
    }

    fn of_visitor(&self, visitor: Option<&str>) -> Option<String> {
        let v = visitor.filter(|v| !v.is_empty())?;
        if self.fast_visitors.contains(v) {
            return Some(format!(
                "fast_conversions: {FAST_COUNT} or more conversions of one visitor within {FAST_SECS} s of a click"
            ));
        }
        if self.burst_visitors.contains(v) {
            return Some(format!(
                "click_burst: {BURST_CLICKS} or more clicks of one visitor within {BURST_SECS} s"
            ));
        }
        None
    }

    /// Why a payment of `partner` is held, if it is.
    pub fn of_payment(&self, partner: &Partner, p: &Event) -> Option<String> {
        let own = |id: Option<&str>| {
            id.is_some_and(|id| !id.is_empty() && partner.own_accounts.iter().any(|a| a == id))
        };
        if own(p.pay.stripe_customer_id.as_deref()) || own(p.user_id.as_deref()) {
            return Some("self_referral: the customer is one of the partner's own accounts".into());
        }
        if let Some(r) = self.fast_visitor_or_none(p) {
            return Some(r);
        }
        if let Some(r) = self.refund_partners.get(&partner.code) {
            return Some(r.clone());
        }
        self.burst_only(p)
    }

    fn fast_visitor_or_none(&self, e: &Event) -> Option<String> {
        let v = e.visitor_id.as_deref()?;
        self.fast_visitors
            .contains(v)
            .then(|| self.of_visitor(Some(v)))
            .flatten()
    }

    fn burst_only(&self, e: &Event) -> Option<String> {
        let v = e.visitor_id.as_deref()?;
        self.burst_visitors
            .contains(v)
            .then(|| self.of_visitor(Some(v)))
            .flatten()
    }

    /// Why a lead or activation of `partner` is held, if it is.
    pub fn of_conversion(&self, partner: &Partner, e: &Event) -> Option<String> {
        if e.user_id
            .as_deref()
            .is_some_and(|u| partner.own_accounts.iter().any(|a| a == u))
        {
            return Some("self_referral: the user is one of the partner's own accounts".into());
        }
        self.of_visitor(e.visitor_id.as_deref())
    }
}
