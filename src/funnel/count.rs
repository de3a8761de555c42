//! Funnel stage, counting: journeys -> distinct-visitor counts per partner and campaign, rates
//! with intervals and verdicts, the pooled average.
//!
//! Takes: each visitor's journeys in the range. Gives: [`Counts`] and [`Figures`].
#![expect(missing_docs, reason = "public fields and items still to document")]

use super::journey::{RawJourney, Stage};
use super::stats::{Proportion, Verdict};
use crate::config::{Band, Bands};
use serde::Serialize;
use std::collections::HashMap;

/// Distinct-visitor counts of one partner (or campaign, or the pooled average).
///
/// A visitor counts once per partner, with its first journey of that partner that has a
/// `visit` (stages) and its first that has a `click` (clicks).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Counts {
    /// Journeys that started in the range (a visitor may have several).
    pub journeys: u64,
    /// Distinct visitors whose journey has a `click`.
    pub clicks: u64,
    /// ... of whom the same journey also has a `visit` (the rest is the click-to-visit loss).
    pub clicks_with_visit: u64,
    /// Distinct visitors whose journey has a `visit`: the base of every rate.
    pub visitors: u64,
    pub lead_magnet: u64,
    pub cta: u64,
    pub activation: u64,
    /// Visitors who reached both (for the step-to-step rates).
    pub lead_magnet_and_cta: u64,
    pub cta_and_activation: u64,
    /// Journeys with a `revenue` row, and the sum of their values.
    pub revenue_journeys: u64,
    #[serde(serialize_with = "super::stats::round")]
    pub revenue: f64,
}

impl Counts {
    pub fn add(&mut self, o: &Counts) {
        self.journeys += o.journeys;
        self.clicks += o.clicks;
        self.clicks_with_visit += o.clicks_with_visit;
        self.visitors += o.visitors;
        self.lead_magnet += o.lead_magnet;
        self.cta += o.cta;
        self.activation += o.activation;
        self.lead_magnet_and_cta += o.lead_magnet_and_cta;
        self.cta_and_activation += o.cta_and_activation;
        self.revenue_journeys += o.revenue_journeys;
        self.revenue += o.revenue;
    }
}

/// A stage rate (share of visitors) with its interval, band and verdict.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rate {
    #[serde(flatten)]
    pub proportion: Proportion,
    pub band: Band,
    pub verdict: Verdict,
}

/// The three banded rates, as shares of visitors (as the bands are).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rates {
    pub lead_magnet: Rate,
    pub cta: Rate,
    pub activation: Rate,
}

impl Rates {
    pub fn get(&self, s: Stage) -> Option<&Rate> {
        match s {
            Stage::LeadMagnet => Some(&self.lead_magnet),
            Stage::Cta => Some(&self.cta),
            Stage::Activation => Some(&self.activation),
            _ => None,
        }
    }
}

/// Step-to-step rates: of those who reached one stage, the share who reached the next.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Steps {
    pub click_to_visit: Proportion,
    pub visit_to_lead_magnet: Proportion,
    pub lead_magnet_to_cta: Proportion,
    pub cta_to_activation: Proportion,
}

/// Counts with their rates, intervals and verdicts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Figures {
    pub counts: Counts,
    pub rates: Rates,
    pub steps: Steps,
}

impl Figures {
    pub fn new(c: Counts, bands: &Bands) -> Figures {
        let rate = |count: u64, band: Band| {
            let proportion = Proportion::new(count, c.visitors);
            Rate {
                proportion,
                band,
                verdict: Verdict::judge(&proportion, &band, c.visitors, bands.min_visitors),
            }
        };
        Figures {
            counts: c,
            rates: Rates {
                lead_magnet: rate(c.lead_magnet, bands.lead_magnet),
                cta: rate(c.cta, bands.cta),
                activation: rate(c.activation, bands.activation),
            },
            steps: Steps {
                click_to_visit: Proportion::new(c.clicks_with_visit, c.clicks),
                visit_to_lead_magnet: Proportion::new(c.lead_magnet, c.visitors),
                lead_magnet_to_cta: Proportion::new(c.lead_magnet_and_cta, c.lead_magnet),
                cta_to_activation: Proportion::new(c.cta_and_activation, c.cta),
            },
        }
    }
}

/// Accumulates counts per (partner, campaign) from each visitor's journeys.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub by_campaign: HashMap<(u16, u32), Counts>,
}

impl Tally {
    /// One visitor's journeys in the range, in time order.
    pub(crate) fn visitor(&mut self, journeys: &[RawJourney]) {
        // Per partner: has a visit journey / a click journey been counted yet.
        let mut seen: Vec<(u16, bool, bool)> = Vec::with_capacity(2);
        for j in journeys {
            let idx = match seen.iter().position(|s| s.0 == j.partner) {
                Some(i) => i,
                None => {
                    seen.push((j.partner, false, false));
                    seen.len() - 1
                }
            };
            let c = self.by_campaign.entry((j.partner, j.campaign)).or_default();
            c.journeys += 1;
            if j.revenue_events > 0 {
                c.revenue_journeys += 1;
                c.revenue += j.revenue;
            }
            let r = &j.reached;
            if r.click.is_some() && !seen[idx].2 {
                seen[idx].2 = true;
                c.clicks += 1;
                c.clicks_with_visit += u64::from(r.visit.is_some());
            }
            if r.visit.is_some() && !seen[idx].1 {
                seen[idx].1 = true;
                c.visitors += 1;
                let (lm, cta, act) = (
                    r.lead_magnet.is_some(),
                    r.cta.is_some(),
                    r.activation.is_some(),
                );
                c.lead_magnet += u64::from(lm);
                c.cta += u64::from(cta);
                c.activation += u64::from(act);
                c.lead_magnet_and_cta += u64::from(lm && cta);
                c.cta_and_activation += u64::from(cta && act);
            }
        }
    }

    pub(crate) fn partner_total(&self, partner: u16) -> Counts {
        // Sorted, so float sums (revenue) add up in the same order on every run.
        let mut keys: Vec<&(u16, u32)> =
            self.by_campaign.keys().filter(|k| k.0 == partner).collect();
        keys.sort();
        let mut c = Counts::default();
        for k in keys {
            c.add(&self.by_campaign[k]);
        }
        c
    }
}
