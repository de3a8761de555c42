//! Funnel stage, decisions: one recommended action per partner from a table of named rules.
//!
//! Takes: a partner's [`Figures`], the pooled average and the bands. Gives: an [`Action`] that
//! names its rule and states the figures that triggered it. The first matching rule in
//! [`RULES`] wins; the order puts the two band-breach rules first, then "not enough data", then
//! the weak steps from the top of the funnel down, then strength.
//!
//! "Clearly below/above" means the whole 95% interval is outside the band, so the first two
//! rules can fire on fewer visitors than `bands.min_visitors` when the evidence is that strong
//! (a small partner may send only 40 clicks); the weak-step rules use the band verdicts, which
//! need `min_visitors`.

use super::count::Figures;
use super::stats::{pct, Proportion, Verdict};
use crate::config::Bands;
use serde::Serialize;
use std::collections::BTreeMap;

/// Below this click-to-visit share, the handoff from the partner's link to the page is broken.
pub(crate) const CLICK_TO_VISIT_FLOOR: f64 = 0.80;

/// What the rules see of a partner.
#[derive(Debug, Clone, Copy)]
pub struct RuleInput<'a> {
    pub figures: &'a Figures,
    pub bands: &'a Bands,
    /// Average clicks and visitors per partner with traffic in the range.
    pub avg_clicks: f64,
    pub avg_visitors: f64,
    /// The partner's activation event name (from its YAML), for the action text.
    pub activation_event: &'a str,
}

/// A named rule: a condition and the action it recommends.
pub struct Rule {
    pub name: &'static str,
    /// When it applies, in words (docs and `--help`).
    pub when: &'static str,
    /// The action, in words.
    pub action: &'static str,
    pub test: fn(&RuleInput<'_>) -> bool,
}

/// The recommended action for one partner.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Action {
    /// The rule's name, e.g. `many_clicks_weak_lead_magnet`.
    pub rule: String,
    /// What to do.
    pub action: String,
    /// Why: the figures that triggered the rule, in a sentence.
    pub because: String,
    /// The same figures as numbers.
    pub figures: BTreeMap<String, f64>,
}

fn many_clicks(i: &RuleInput<'_>) -> bool {
    let c = &i.figures.counts;
    let traffic = c.clicks.max(c.visitors) as f64;
    traffic >= i.bands.min_visitors as f64 && traffic >= i.avg_clicks.max(i.avg_visitors)
}

fn few_visits(i: &RuleInput<'_>) -> bool {
    let v = i.figures.counts.visitors as f64;
    v > 0.0 && (v < i.avg_visitors || v < i.bands.min_visitors as f64)
}

/// The rule table, in priority order.
pub const RULES: &[Rule] = &[
    Rule {
        name: "many_clicks_weak_lead_magnet",
        when: "clicks or visitors at least the per-partner average (and at least min_visitors), and the lead-magnet rate clearly below its band",
        action: "Rewrite the landing page headline and add a clearer proof block: the traffic arrives but the promise does not convince.",
        test: |i| many_clicks(i) && i.figures.rates.lead_magnet.proportion.clearly_below(&i.bands.lead_magnet),
    },
    Rule {
        name: "few_visits_strong_activation",
        when: "visitors under the per-partner average (or under min_visitors), and the activation rate clearly above its band",
        action: "Offer this partner a guest post, a webinar or a higher commission: their audience is qualified, they need more inventory.",
        test: |i| few_visits(i) && i.figures.rates.activation.proportion.clearly_above(&i.bands.activation),
    },
    Rule {
        name: "insufficient_data",
        when: "fewer than min_visitors visitors",
        action: "Collect more traffic before changing anything: the rates are not yet conclusive.",
        test: |i| i.figures.counts.visitors < i.bands.min_visitors,
    },
    Rule {
        name: "weak_click_to_visit",
        when: "at least min_visitors clicks and the click-to-visit rate clearly under 80%",
        action: "Fix the handoff from the partner's link: check the /go redirect, the page speed and that the link lands on the promised page.",
        test: |i| {
            let s = &i.figures.steps.click_to_visit;
            s.of >= i.bands.min_visitors && s.high < CLICK_TO_VISIT_FLOOR
        },
    },
    Rule {
        name: "weak_lead_magnet",
        when: "lead-magnet rate below its band",
        action: "Sharpen the lead magnet: match it to this audience's problem and put the download above the fold.",
        test: |i| i.figures.rates.lead_magnet.verdict == Verdict::Below,
    },
    Rule {
        name: "weak_cta",
        when: "CTA rate below its band",
        action: "Rework the call to action: make the demo or newsletter the obvious next step after the lead magnet, with one clear label.",
        test: |i| i.figures.rates.cta.verdict == Verdict::Below,
    },
    Rule {
        name: "weak_activation",
        when: "activation rate below its band",
        action: "Help leads reach activation: send a partner-specific onboarding email or tutorial that walks them to the activation event.",
        test: |i| i.figures.rates.activation.verdict == Verdict::Below,
    },
    Rule {
        name: "above_every_band",
        when: "lead-magnet, CTA and activation rates all clearly above their bands",
        action: "Give this partner more inventory: more placements, co-marketing slots or a higher tier.",
        test: |i| {
            let r = &i.figures.rates;
            [r.lead_magnet, r.cta, r.activation].iter().all(|x| x.verdict == Verdict::Above)
        },
    },
    Rule {
        name: "within_bands",
        when: "no other rule applies",
        action: "Keep the page and the partner's placements as they are, and review next week.",
        test: |_| true,
    },
];

/// Pick the first matching rule and say why.
pub(crate) fn recommend(i: &RuleInput<'_>) -> Action {
    let rule = RULES
        .iter()
        .find(|r| (r.test)(i))
        .unwrap_or(&RULES[RULES.len() - 1]);
    let f = i.figures;
    let c = &f.counts;
    let mut figures = BTreeMap::new();
    let mut put = |k: &str, v: f64| {
        figures.insert(k.to_string(), super::stats::round6(v));
    };
    put("clicks", c.clicks as f64);
    put("visitors", c.visitors as f64);
    let band = |p: &Proportion, b: &crate::config::Band| {
        format!("{} (band {}–{})", p.display(), pct(b.low), pct(b.high))
    };
    let because = match rule.name {
        "many_clicks_weak_lead_magnet" | "weak_lead_magnet" => {
            let r = &f.rates.lead_magnet;
            put("lead_magnet", c.lead_magnet as f64);
            put("lead_magnet_rate", r.proportion.rate.unwrap_or(0.0));
            put("lead_magnet_high", r.proportion.high);
            format!(
                "{} clicks and {} visitors, {} lead-magnet downloads: {}",
                c.clicks,
                c.visitors,
                c.lead_magnet,
                band(&r.proportion, &r.band)
            )
        }
        "few_visits_strong_activation" => {
            let r = &f.rates.activation;
            put("activation", c.activation as f64);
            put("activation_rate", r.proportion.rate.unwrap_or(0.0));
            put("activation_low", r.proportion.low);
            put("average_visitors", i.avg_visitors);
            format!(
                "only {} visitors (average {:.0} per partner) but {} reached {}: {}",
                c.visitors,
                i.avg_visitors,
                c.activation,
                i.activation_event,
                band(&r.proportion, &r.band)
            )
        }
        "insufficient_data" => {
            put("min_visitors", i.bands.min_visitors as f64);
            format!(
                "{} visitor{}, fewer than the {} needed for a verdict ({} more)",
                c.visitors,
                if c.visitors == 1 { "" } else { "s" },
                i.bands.min_visitors,
                i.bands.min_visitors - c.visitors
            )
        }
        "weak_click_to_visit" => {
            let s = &f.steps.click_to_visit;
            put("click_to_visit_rate", s.rate.unwrap_or(0.0));
            put("click_to_visit_high", s.high);
            format!(
                "{} of {} clicks reached the page: {} (floor {})",
                s.count,
                s.of,
                s.display(),
                pct(CLICK_TO_VISIT_FLOOR)
            )
        }
        "weak_cta" => {
            let r = &f.rates.cta;
            put("cta", c.cta as f64);
            put("cta_rate", r.proportion.rate.unwrap_or(0.0));
            format!(
                "{} of {} visitors took the CTA: {}",
                c.cta,
                c.visitors,
                band(&r.proportion, &r.band)
            )
        }
        "weak_activation" => {
            let r = &f.rates.activation;
            put("activation", c.activation as f64);
            put("activation_rate", r.proportion.rate.unwrap_or(0.0));
            format!(
                "{} of {} visitors reached {}: {}",
                c.activation,
                c.visitors,
                i.activation_event,
                band(&r.proportion, &r.band)
            )
        }
        _ => {
            let r = &f.rates;
            put(
                "lead_magnet_rate",
                r.lead_magnet.proportion.rate.unwrap_or(0.0),
            );
            put("cta_rate", r.cta.proportion.rate.unwrap_or(0.0));
            put(
                "activation_rate",
                r.activation.proportion.rate.unwrap_or(0.0),
            );
            format!(
                "lead magnet {}, CTA {}, activation {} over {} visitors",
                band(&r.lead_magnet.proportion, &r.lead_magnet.band),
                band(&r.cta.proportion, &r.cta.band),
                band(&r.activation.proportion, &r.activation.band),
                c.visitors
            )
        }
    };
    Action {
        rule: rule.name.to_string(),
        action: rule.action.to_string(),
        because: format!("{because} (rule {})", rule.name),
        figures,
    }
}
