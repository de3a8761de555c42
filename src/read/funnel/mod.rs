//! Funnel stage: events -> journeys (first-touch attribution with a window) -> distinct-visitor
//! counts -> Wilson intervals, band verdicts and one recommended action per partner.
//!
//! Takes: an event [`Source`], the partner registry (`site.partners`), a [`FunnelConfig`] (from
//! `partner-pages.yaml`) and a report [`Range`]. Gives: [`Journey`]s (for `leads`) or a
//! [`FunnelReport`] (for `report`, the build annotation and `calendar`). Every type is
//! `Serialize`; the JSON of `report --format json` is `FunnelReport` as is.
//!
//! The rules, in one place:
//! - rows of partner codes not in `partners/`, rows without a visitor id, rows with an unknown
//!   event name or timestamp, and bots (visitor ids with more than `bot_max_events` rows among
//!   the rows read) are counted apart in [`Excluded`], never funneled;
//! - a visitor's rows in time order form journeys: a `click` or `visit` starts one when none is
//!   active; it lasts `window_days` and owns every row of the visitor in it, whatever partner the
//!   row names; its partner and campaign are its first row's;
//! - a report over `[start, end)` takes the journeys that start in it and counts their rows up
//!   to `min(end, start + window)`; rows from `start - window` on are read to know which
//!   journeys were already active;
//! - `lead_magnet`, `cta`, `activation` count when at or after the journey's first `visit`;
//! - a partner's visitors are distinct visitor ids (first journey with a visit), clicks the
//!   distinct visitors whose journey has a click; rates are shares of visitors.
//!
//! ```
//! use partner_pages::events::{Event, Source};
//! use partner_pages::funnel::{self, FunnelConfig, Range};
//! # fn ev(vid: &str, stage: &str, at: &str) -> Event {
//! #     Event { id: format!("{vid}-{stage}-{at}"), partner_code: "seo".into(), campaign: "default".into(),
//! #         event_name: stage.into(), page_path: "/p/seo/".into(), visitor_id: Some(vid.into()),
//! #         created_at: at.into(), value: None, user_id: None, variant: None, pay: Default::default() }
//! # }
//! let source = Source::Memory(vec![
//!     ev("v1", "click", "2026-11-18T09:00:00.000Z"),
//!     ev("v1", "visit", "2026-11-18T09:00:01.000Z"),
//!     ev("v1", "visit", "2026-11-18T09:05:00.000Z"),       // a reload: still one visitor
//!     ev("v1", "lead_magnet", "2026-11-18 09:06:00"),      // SQLite's format is fine too
//! ]);
//! let partners = ["seo"];
//! let cfg = FunnelConfig::default();
//! let range = Range::from_flags(Some("7d"), None, None, Some("2026-11-24T00:00:00Z")).unwrap();
//!
//! let j = funnel::journeys(&source, &partners, &cfg, range).unwrap();
//! assert_eq!(j.journeys.len(), 1);
//! assert_eq!(j.journeys[0].partner, "seo");
//! assert!(j.journeys[0].reached.lead_magnet.is_some());
//!
//! let report = funnel::compute(&source, &partners, &cfg, range).unwrap();
//! let seo = &report.partners[0];
//! assert_eq!(seo.figures.counts.visitors, 1);
//! assert_eq!(seo.figures.counts.lead_magnet, 1);
//! // The table ends minutes after the visit: too young to judge the lead magnet (1-day horizon).
//! assert_eq!(seo.figures.rates.lead_magnet.proportion.of, 0);
//! assert_eq!(seo.action.rule, "insufficient_data");   // 1 visitor is not a verdict
//! ```

pub(crate) mod beacon;
mod buckets;
pub(crate) mod count;
pub(crate) mod decision_rules;
pub(crate) mod journey;
mod pack;
pub(crate) mod range;
pub mod stats;

#[cfg(test)]
mod simulation;
#[cfg(test)]
mod tests;

pub use beacon::{BeaconStop, MIN_BEACONS_BEFORE, MIN_CLICKS_AFTER_STOP, MIN_DAYS_AFTER_STOP};
pub use count::{Counts, Figures, Rate, Rates, Steps};
pub use decision_rules::{
    Action, Decision, Handoff, Rule, StageCall, TestState, TestVerdict, Traffic,
    MIN_HANDOFF_CLICKS, MIN_LATER_EVENTS, RULES,
};
pub use journey::{Activity, Excluded, Journey, Reached, Stage};
pub use range::{Range, RangeSpec};
pub use stats::{Proportion, Verdict};

use crate::config::{Bands, Config, Maturity};
use crate::error::Result;
use crate::events::Source;
use crate::partner::Partner;
use journey::Registry;
use serde::Serialize;

/// The settings the computation uses, from `partner-pages.yaml` (`attribution`, `bands`).
#[derive(Debug, Clone)]
pub struct FunnelConfig {
    /// Attribution window: how long a journey lasts (`attribution.window_days`).
    pub window_days: u32,
    /// Visitors with more rows than this are bots (`attribution.bot_max_events`).
    pub bot_max_events: u32,
    /// Healthy ranges per stage.
    pub bands: Bands,
    /// Maturity horizons of the banded stages.
    pub maturity: Maturity,
    /// Progress while reading a large source (a terminal only; `None` = quiet).
    pub progress: Option<indicatif::ProgressBar>,
    /// Bytes of packed rows (about 33 a row) held in memory before they move to a temporary
    /// file; memory stays near this whatever the size of the table.
    pub memory_budget: usize,
    /// Parts a large SQLite source is read in, side by side (0: one per core, at most 4).
    pub scan_parts: usize,
}

impl Default for FunnelConfig {
    fn default() -> Self {
        FunnelConfig::from_config(&Config {
            name: String::new(),
            base_url: String::new(),
            summary: String::new(),
            description: None,
            language: String::new(),
            collector: Default::default(),
            attribution: Default::default(),
            bands: Default::default(),
            maturity: Default::default(),
            privacy: Default::default(),
            llms: Default::default(),
            kits: Default::default(),
            host: Default::default(),
            shell: None,
            stripe: None,
            content_dir: None,
            reward: None,
        })
    }
}

impl FunnelConfig {
    /// The settings of a site's config.
    pub fn from_config(c: &Config) -> FunnelConfig {
        FunnelConfig {
            window_days: c.attribution.window_days,
            bot_max_events: c.attribution.bot_max_events,
            bands: c.bands.clone(),
            maturity: c.maturity.within(c.attribution.window_days),
            progress: None,
            memory_budget: journey::SPILL_BYTES,
            scan_parts: 0,
        }
    }
}

/// What the computation needs to know about a partner. Implemented for [`Partner`] (the real
/// registry) and for `&str` codes (tests, examples).
pub trait PartnerInfo {
    /// The partner's code.
    fn code(&self) -> &str;
    /// The partner's name (default: its code).
    fn name(&self) -> &str {
        self.code()
    }
    /// The partner's promise.
    fn promise(&self) -> &str {
        ""
    }
    /// The partner's name for its activation.
    fn activation_event(&self) -> &str {
        "activation"
    }
}

impl PartnerInfo for Partner {
    fn code(&self) -> &str {
        &self.code
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn promise(&self) -> &str {
        &self.promise
    }
    fn activation_event(&self) -> &str {
        &self.activation.event
    }
}

impl PartnerInfo for &str {
    fn code(&self) -> &str {
        self
    }
}

/// Every journey that starts in the range, with what was set apart.
#[derive(Debug, Clone, Serialize)]
pub struct Journeys {
    /// The range the journeys started in.
    pub range: Range,
    /// Sorted by start time, then visitor id.
    pub journeys: Vec<Journey>,
    /// Rows set apart.
    pub excluded: Excluded,
}

/// The funnel of one campaign of a partner.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CampaignFunnel {
    /// The campaign's name.
    pub campaign: String,
    /// Its funnel.
    pub figures: Figures,
}

/// One partner's funnel, split by campaign, with its recommended action.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PartnerFunnel {
    /// The partner's code (its `partners/<code>.yaml`).
    #[schemars(pattern(crate::json_schema::CODE))]
    pub code: String,
    /// The partner's name.
    pub name: String,
    /// The partner's promise (from its YAML).
    pub promise: String,
    /// The partner's own name for its activation (from its YAML).
    pub activation_event: String,
    /// The partner's funnel over every campaign.
    pub figures: Figures,
    /// Campaigns with journeys in the range, by name (as stored, declared or not).
    pub campaigns: Vec<CampaignFunnel>,
    /// Stages reached in the range by this partner's journeys, whenever they started.
    pub activity: Activity,
    /// The landing-page beacon stopped while clicks kept coming (the decision carries it in
    /// its handoff checks).
    #[serde(skip)]
    #[schemars(skip)]
    pub beacon_stop: Option<BeaconStop>,
    /// The partner's decision for the range: the first rule that applies, what to do, why,
    /// and the verdicts, handoff checks, test and traffic state it was decided from.
    pub action: Decision,
}

/// Distinct-visitor funnel per partner and campaign over a UTC range [start, end): rates over
/// the journeys old enough for each stage (maturity horizons) with 95% Wilson intervals, the
/// range's activity, band verdicts and one recommended action per partner (docs/report.md).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct FunnelReport {
    /// Version of this JSON shape.
    #[schemars(extend("const" = 1))]
    pub version: u32,
    /// The event source, e.g. `sqlite:partner-events.db`.
    pub source: String,
    /// The UTC range `[start, end)` the journeys started in.
    pub range: Range,
    /// Attribution window in days.
    pub window_days: u32,
    /// Visitors with more rows than this are treated as bots.
    pub bot_max_events: u32,
    /// The healthy ranges the verdicts use.
    pub bands: Bands,
    /// The time the report is read at: the cohort's rows are counted up to here.
    pub as_of: crate::events::Ts,
    /// Maturity horizons (days) of the banded stages.
    pub maturity: Maturity,
    /// Pooled over every partner (the "funnel average" partners are compared with).
    pub average: Figures,
    /// Registered partners, by code (only the `--partner` one when filtered).
    pub partners: Vec<PartnerFunnel>,
    /// Rows set apart by the funnel rules.
    pub excluded: Excluded,
    /// The tests of partners with `variants`, cumulative from each test's first visit to the
    /// range's end (absent when no partner runs one).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub experiments: Vec<crate::experiment::observe::PartnerTest>,
    /// Revenue from Stripe webhooks (absent when the events hold no payment).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revenue: Option<crate::revenue::Revenue>,
    /// Earnings per partner from the commission ledger, for the team's Markdown and HTML
    /// report only: never in the JSON (agents read it through MCP; reward figures are private).
    #[serde(skip)]
    #[schemars(skip)]
    pub earnings: Vec<crate::ledger::TeamEarnings>,
}

impl FunnelReport {
    /// The funnel of the partner with this code.
    pub fn partner(&self, code: &str) -> Option<&PartnerFunnel> {
        self.partners.iter().find(|p| p.code == code)
    }

    /// Decide again with the partners' tests (partner code, state): a test's verdict comes
    /// before the band rules (see `decision_rules`). The one place a decision is made with its test.
    pub fn with_tests(mut self, tests: &[(String, TestState)]) -> FunnelReport {
        let active: Vec<&Counts> = self
            .partners
            .iter()
            .map(|p| &p.figures.counts)
            .filter(|c| c.journeys > 0)
            .collect();
        let n = active.len().max(1) as f64;
        let avg_clicks = active.iter().map(|c| c.clicks as f64).sum::<f64>() / n;
        let avg_visitors = active.iter().map(|c| c.visitors as f64).sum::<f64>() / n;
        for p in &mut self.partners {
            let state = tests.iter().find(|t| t.0 == p.code).map(|t| &t.1);
            p.action = decision_rules::recommend(&decision_rules::RuleInput {
                figures: &p.figures,
                bands: &self.bands,
                avg_clicks,
                avg_visitors,
                activation_event: &p.activation_event,
                test: state,
                beacon_stop: p.beacon_stop,
            });
        }
        self
    }

    /// Keep one partner (the average stays pooled over all).
    pub fn only(mut self, code: &str) -> FunnelReport {
        self.partners.retain(|p| p.code == code);
        self.experiments.retain(|t| t.partner == code);
        self
    }
}

/// Every journey starting in `range`, for per-lead views (`leads`).
pub fn journeys<P: PartnerInfo>(
    source: &Source,
    partners: &[P],
    cfg: &FunnelConfig,
    range: Range,
) -> Result<Journeys> {
    let mut reg = Registry::new(partners.iter().map(|p| p.code()));
    let (journeys, totals) = journey::collect(source, &mut reg, cfg, range)?;
    Ok(Journeys {
        range: Range {
            as_of: totals.as_of,
            ..range
        },
        journeys,
        excluded: totals.excluded,
    })
}

/// The funnel report of `range`: one streaming pass over `source`.
pub fn compute<P: PartnerInfo>(
    source: &Source,
    partners: &[P],
    cfg: &FunnelConfig,
    range: Range,
) -> Result<FunnelReport> {
    let mut reg = Registry::new(partners.iter().map(|p| p.code()));
    let mut tally = count::Tally::new(&cfg.maturity);
    let totals = journey::scan_journeys(source, &mut reg, cfg, range, &mut |v| {
        tally.visitor(v.journeys)
    })?;
    Ok(build_report(
        source.describe(),
        partners,
        &reg,
        &tally,
        cfg,
        range,
        totals,
    ))
}

/// The report of journeys you already have (from [`journeys`]): the same counting, no second
/// pass over the source.
pub fn compute_from_journeys<P: PartnerInfo>(
    journeys: &Journeys,
    source_name: &str,
    partners: &[P],
    cfg: &FunnelConfig,
) -> FunnelReport {
    let mut reg = Registry::new(partners.iter().map(|p| p.code()));
    let mut tally = count::Tally::new(&cfg.maturity);
    let mut activity = vec![Activity::default(); reg.codes.len()];
    let mut trails = vec![beacon::Trail::default(); reg.codes.len()];
    let mut i = 0;
    // Journeys are sorted by start; group them per visitor, in time order.
    let mut order: Vec<&Journey> = journeys.journeys.iter().collect();
    order.sort_by(|a, b| (&a.visitor_id, a.start).cmp(&(&b.visitor_id, b.start)));
    while i < order.len() {
        let mut k = i;
        let mut raw = Vec::new();
        while k < order.len() && order[k].visitor_id == order[i].visitor_id {
            raw.extend(journey::intern(&mut reg, order[k]));
            k += 1;
        }
        // Only the cohort's journeys are at hand here: their stages reached in the range.
        for j in &raw {
            let a = &mut activity[j.partner as usize];
            for s in Stage::ALL {
                if j.reached.get(s).is_some_and(|t| journeys.range.contains(t)) {
                    a.bump(s);
                }
            }
            if let Some(t) = trails.get_mut(j.partner as usize) {
                t.journey(&j.reached, journeys.range.start, journeys.range.end);
            }
        }
        tally.visitor(&raw);
        i = k;
    }
    build_report(
        source_name.to_string(),
        partners,
        &reg,
        &tally,
        cfg,
        journeys.range,
        journey::ScanTotals {
            excluded: journeys.excluded.clone(),
            activity,
            trails,
            as_of: journeys.range.as_of,
        },
    )
}

fn build_report<P: PartnerInfo>(
    source: String,
    partners: &[P],
    reg: &Registry,
    tally: &count::Tally,
    cfg: &FunnelConfig,
    range: Range,
    scan: journey::ScanTotals,
) -> FunnelReport {
    let bands = &cfg.bands;
    let range = Range {
        as_of: scan.as_of,
        ..range
    };
    let fig = |c: Counts| Figures::new(c, bands, &cfg.maturity, range.as_of);
    let totals: Vec<Counts> = (0..reg.codes.len() as u16)
        .map(|p| tally.partner_total(p))
        .collect();
    let mut pooled = Counts::default();
    for t in &totals {
        pooled.add(t);
    }
    let active: Vec<&Counts> = totals.iter().filter(|c| c.journeys > 0).collect();
    let n_active = active.len().max(1) as f64;
    let avg_clicks = active.iter().map(|c| c.clicks as f64).sum::<f64>() / n_active;
    let avg_visitors = active.iter().map(|c| c.visitors as f64).sum::<f64>() / n_active;

    let mut out = Vec::new();
    for p in partners {
        let Some(idx) = reg.partner(p.code()) else {
            continue;
        };
        if out.iter().any(|o: &PartnerFunnel| o.code == p.code()) {
            continue;
        }
        let figures = fig(totals[idx as usize]);
        let mut camps: Vec<(u32, &Counts)> = tally
            .by_campaign
            .iter()
            .filter(|((pp, _), _)| *pp == idx)
            .map(|((_, c), v)| (*c, v))
            .collect();
        camps.sort_by(|a, b| reg.campaigns[a.0 as usize].cmp(&reg.campaigns[b.0 as usize]));
        let beacon_stop = scan.trails.get(idx as usize).and_then(beacon::Trail::stop);
        let action = decision_rules::recommend(&decision_rules::RuleInput {
            figures: &figures,
            bands,
            avg_clicks,
            avg_visitors,
            activation_event: p.activation_event(),
            test: None,
            beacon_stop,
        });
        out.push(PartnerFunnel {
            code: p.code().to_string(),
            name: p.name().to_string(),
            promise: p.promise().to_string(),
            activation_event: p.activation_event().to_string(),
            figures,
            campaigns: camps
                .into_iter()
                .map(|(c, v)| CampaignFunnel {
                    campaign: reg.campaigns[c as usize].clone(),
                    figures: fig(*v),
                })
                .collect(),
            activity: scan.activity.get(idx as usize).copied().unwrap_or_default(),
            beacon_stop,
            action,
        });
    }
    out.sort_by(|a, b| a.code.cmp(&b.code));
    FunnelReport {
        version: 1,
        source,
        range,
        window_days: cfg.window_days,
        bot_max_events: cfg.bot_max_events,
        bands: bands.clone(),
        as_of: range.as_of,
        maturity: cfg.maturity,
        average: fig(pooled),
        partners: out,
        excluded: scan.excluded,
        experiments: Vec::new(),
        revenue: None,
        earnings: Vec::new(),
    }
}
