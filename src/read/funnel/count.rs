//! Funnel stage, counting: journeys -> distinct-visitor counts per partner and campaign, rates
//! with intervals and verdicts, the pooled average.
//!
//! Takes: each visitor's journeys in the range. Gives: [`Counts`] and [`Figures`].

use super::journey::{RawJourney, Stage};
use super::stats::{Proportion, Verdict};
use crate::config::{Band, Bands, Maturity};
use crate::events::{Ts, MS_PER_DAY};
use serde::Serialize;
use std::collections::HashMap;

/// Distinct-visitor counts of one partner (or campaign, or the pooled average).
///
/// A visitor counts once per partner, with its first journey of that partner that has a
/// `visit` (stages) and its first that has a `click` (clicks).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Counts {
    /// Journeys that started in the range (a visitor may have several).
    pub journeys: u64,
    /// Distinct visitors whose journey has a `click`.
    pub clicks: u64,
    /// ... of whom the same journey also has a `visit` (the rest is the click-to-visit loss).
    pub clicks_with_visit: u64,
    /// Distinct visitors whose journey has a `visit`: the base of every rate.
    pub visitors: u64,
    /// Distinct visitors who took the lead magnet.
    pub lead_magnet: u64,
    /// Distinct visitors who clicked the CTA.
    pub cta: u64,
    /// Distinct visitors who activated.
    pub activation: u64,
    /// Visitors who reached both (for the step-to-step rates).
    pub lead_magnet_and_cta: u64,
    /// Visitors who reached both the CTA and activation.
    pub cta_and_activation: u64,
    /// Visitors who took the lead magnet or the CTA: the leads someone could follow up.
    pub leads: u64,
    /// ... of whom the journey carries a user id: leads there is someone to contact for.
    pub contactable_leads: u64,
    /// Journeys with a `revenue` row, and the sum of their values.
    pub revenue_journeys: u64,
    /// Sum of the revenue values.
    #[serde(serialize_with = "super::stats::round")]
    pub revenue: f64,
    /// Per banded stage, the visitors old enough to be judged on it and those of them who
    /// reached it within its horizon: the base of the rates and verdicts.
    pub mature: MatureCounts,
    /// Start of the newest counted visitor's journey (ms; 0: none): when the cohort matures.
    #[serde(skip)]
    pub newest_start: i64,
}

/// Visitors whose journey is at least a stage's maturity horizon old, and how many of them
/// reached the stage within that horizon.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Matured {
    pub visitors: u64,
    pub reached: u64,
}

/// Mature visitors and those who reached the stage, per banded stage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct MatureCounts {
    pub lead_magnet: Matured,
    pub cta: Matured,
    pub activation: Matured,
}

impl MatureCounts {
    pub fn get_mut(&mut self, s: Stage) -> Option<&mut Matured> {
        match s {
            Stage::LeadMagnet => Some(&mut self.lead_magnet),
            Stage::Cta => Some(&mut self.cta),
            Stage::Activation => Some(&mut self.activation),
            _ => None,
        }
    }
}

/// The banded stages, in funnel order.
pub(crate) const BANDED: [Stage; 3] = [Stage::LeadMagnet, Stage::Cta, Stage::Activation];

/// The maturity horizon of a banded stage, in days.
pub(crate) fn horizon_days(m: &Maturity, s: Stage) -> u32 {
    match s {
        Stage::LeadMagnet => m.lead_magnet,
        Stage::Cta => m.cta,
        _ => m.activation,
    }
}

impl Counts {
    /// Add another partner's (or campaign's) counts.
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
        self.leads += o.leads;
        self.contactable_leads += o.contactable_leads;
        self.revenue_journeys += o.revenue_journeys;
        self.revenue += o.revenue;
        for (a, b) in [
            (&mut self.mature.lead_magnet, o.mature.lead_magnet),
            (&mut self.mature.cta, o.mature.cta),
            (&mut self.mature.activation, o.mature.activation),
        ] {
            a.visitors += b.visitors;
            a.reached += b.reached;
        }
        self.newest_start = self.newest_start.max(o.newest_start);
    }
}

/// A stage rate with its interval, band and verdict: the share of the visitors whose journey
/// is at least `horizon_days` old who reached the stage within `horizon_days` of its start.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Rate {
    /// The count, its base and interval.
    #[serde(flatten)]
    pub proportion: Proportion,
    /// The stage's healthy range.
    pub band: Band,
    /// The rate judged against the band.
    pub verdict: Verdict,
    /// The stage's maturity horizon.
    pub horizon_days: u32,
    /// When the whole cohort will be old enough (`None`: it already is).
    pub ready: Option<Ts>,
}

/// The three banded rates, as shares of visitors (as the bands are).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Rates {
    /// Lead-magnet rate.
    pub lead_magnet: Rate,
    /// CTA rate.
    pub cta: Rate,
    /// Activation rate.
    pub activation: Rate,
}

impl Rates {
    /// The rate of a banded stage (`None` for click and visit).
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
#[derive(Debug, Clone, Copy, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Steps {
    /// Clicks whose journey has a visit.
    pub click_to_visit: Proportion,
    /// Visitors who took the lead magnet.
    pub visit_to_lead_magnet: Proportion,
    /// Lead-magnet takers who clicked the CTA.
    pub lead_magnet_to_cta: Proportion,
    /// CTA clickers who activated.
    pub cta_to_activation: Proportion,
}

/// Counts with their rates, intervals and verdicts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Figures {
    /// Distinct-visitor counts.
    pub counts: Counts,
    /// The banded rates with their verdicts.
    pub rates: Rates,
    /// Step-to-step rates.
    pub steps: Steps,
}

impl Figures {
    /// The figures of `c` as of `as_of` (the rates only count journeys old enough).
    pub fn new(c: Counts, bands: &Bands, maturity: &Maturity, as_of: Ts) -> Figures {
        let rate = |m: Matured, band: Band, horizon_days: u32| {
            let proportion = Proportion::new(m.reached, m.visitors);
            let ready = Ts(c.newest_start + i64::from(horizon_days) * MS_PER_DAY);
            Rate {
                proportion,
                band,
                verdict: Verdict::judge_mature(&proportion, &band, c.visitors, bands.min_visitors),
                horizon_days,
                ready: (c.visitors > 0 && ready > as_of).then_some(ready),
            }
        };
        let m = &c.mature;
        Figures {
            counts: c,
            rates: Rates {
                lead_magnet: rate(m.lead_magnet, bands.lead_magnet, maturity.lead_magnet),
                cta: rate(m.cta, bands.cta, maturity.cta),
                activation: rate(m.activation, bands.activation, maturity.activation),
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
#[derive(Debug)]
pub(crate) struct Tally {
    pub by_campaign: HashMap<(u16, u32), Counts>,
    /// Horizons of the banded stages (ms).
    horizons_ms: [i64; 3],
}

impl Tally {
    pub(crate) fn new(maturity: &Maturity) -> Tally {
        Tally {
            by_campaign: HashMap::new(),
            horizons_ms: BANDED.map(|s| i64::from(horizon_days(maturity, s)) * MS_PER_DAY),
        }
    }

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
                if lm || cta {
                    c.leads += 1;
                    c.contactable_leads += u64::from(j.has_user());
                }
                c.newest_start = c.newest_start.max(j.start.0);
                // Old enough for a stage: followed for its whole horizon (`counted_until` is
                // min(as_of, start + window), and no horizon exceeds the window); reached it
                // within the horizon, so every cohort is measured over the same time.
                for (k, s) in BANDED.into_iter().enumerate() {
                    let h = self.horizons_ms[k];
                    if j.start.0 + h <= j.counted_until.0 {
                        if let Some(m) = c.mature.get_mut(s) {
                            m.visitors += 1;
                            m.reached += u64::from(r.get(s).is_some_and(|t| t.0 < j.start.0 + h));
                        }
                    }
                }
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
