//! Funnel stage, decisions: one recommended action per partner from a table of named rules.
//!
//! Takes: a partner's [`Figures`], the per-partner averages and the bands. Gives: an [`Action`]
//! that names its rule, says what to do and why, and lists the figures it cites. The first
//! matching rule in [`RULES`] wins; the order puts the two band-breach examples first, then "not
//! enough visitors", then the weak steps from the top of the funnel down (a weak step is fixed
//! before anything else), then strength (any step above its band: more inventory), then "too
//! young to judge", and last "every step within its band".
//!
//! Each rule keeps its test, its action and its explanation side by side, and the explanation
//! is written from the same [`Figures`] the test read, so the text cannot contradict the
//! numbers. Rates are those of the mature part of the cohort (see [`super::count`]).
//!
//! "Clearly below/above" means the whole 95% interval is outside the band, so the first two
//! rules can fire on fewer visitors than `bands.min_visitors` when the evidence is that strong
//! (a small partner may send only 40 clicks); the weak-step rules use the band verdicts, which
//! need `min_visitors` mature visitors.

use super::count::{Figures, Rate, BANDED};
use super::journey::Stage;
use super::stats::{pct, Verdict};
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

/// The figures an explanation cites, by name (they become [`Action::figures`]).
#[derive(Debug, Default)]
pub struct Cited(BTreeMap<String, f64>);

impl Cited {
    fn put(&mut self, k: &str, v: f64) {
        self.0.insert(k.to_string(), super::stats::round6(v));
    }

    /// Cite a stage rate (count, base, rate, interval) and give its text:
    /// `2 of 250 visitors: 0.8% [0.2–2.9%] (band 20–35%)`.
    fn rate(&mut self, s: Stage, r: &Rate) -> String {
        let p = &r.proportion;
        let k = s.as_str();
        self.put(k, p.count as f64);
        self.put(&format!("{k}_of"), p.of as f64);
        self.put(&format!("{k}_rate"), p.rate.unwrap_or(0.0));
        self.put(&format!("{k}_low"), p.low);
        self.put(&format!("{k}_high"), p.high);
        format!(
            "{} of {} visitors: {} (band {}–{})",
            p.count,
            p.of,
            p.display(),
            pct(r.band.low),
            pct(r.band.high)
        )
    }
}

/// A named rule: when it applies, what it recommends and why, side by side.
pub struct Rule {
    pub name: &'static str,
    /// When it applies, in words (docs).
    pub when: &'static str,
    pub test: fn(&RuleInput<'_>) -> bool,
    /// The action, from the figures.
    pub action: fn(&RuleInput<'_>) -> String,
    /// Why: the figures that triggered the rule, cited into `Cited`.
    pub because: fn(&RuleInput<'_>, &mut Cited) -> String,
}

/// The recommended action for one partner.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Action {
    /// The rule's name, e.g. `many_clicks_weak_lead_magnet`.
    #[schemars(schema_with = "rule_names")]
    pub rule: String,
    /// What to do.
    #[schemars(length(min = 1))]
    pub action: String,
    /// Why: the figures that triggered the rule, in a sentence.
    #[schemars(length(min = 1))]
    pub because: String,
    /// The same figures as numbers.
    pub figures: BTreeMap<String, f64>,
}

/// The schema of a rule's name: one of [`RULES`].
fn rule_names(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let names: Vec<&str> = RULES.iter().map(|r| r.name).collect();
    schemars::json_schema!({ "type": "string", "enum": names })
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

fn rate(i: &RuleInput<'_>, s: Stage) -> Rate {
    // BANDED stages only; `get` is Some for them.
    i.figures
        .rates
        .get(s)
        .copied()
        .unwrap_or(i.figures.rates.lead_magnet)
}

fn with_verdict(i: &RuleInput<'_>, v: Verdict) -> Vec<Stage> {
    BANDED
        .into_iter()
        .filter(|s| rate(i, *s).verdict == v)
        .collect()
}

fn label(s: Stage) -> &'static str {
    match s {
        Stage::LeadMagnet => "lead magnet",
        Stage::Cta => "CTA",
        Stage::Activation => "activation",
        Stage::Visit => "visit",
        Stage::Click => "click",
    }
}

fn traffic(i: &RuleInput<'_>, c: &mut Cited) -> String {
    let n = &i.figures.counts;
    c.put("clicks", n.clicks as f64);
    c.put("visitors", n.visitors as f64);
    format!("{} clicks, {} visitors", n.clicks, n.visitors)
}

/// The stages with verdict `v`, each with its figures, joined: `lead magnet 61 of 150 ...`.
fn stages_text(i: &RuleInput<'_>, c: &mut Cited, v: Verdict) -> String {
    with_verdict(i, v)
        .into_iter()
        .map(|s| format!("{} {}", label(s), c.rate(s, &rate(i, s))))
        .collect::<Vec<_>>()
        .join("; ")
}

fn weak_because(i: &RuleInput<'_>, c: &mut Cited, s: Stage) -> String {
    let name = match s {
        Stage::Activation => format!("activation ({})", i.activation_event),
        _ => label(s).to_string(),
    };
    format!("{}; {name} {}", traffic(i, c), c.rate(s, &rate(i, s)))
}

/// The date a stage's cohort is old enough: `2026-12-06`.
fn ready_text(r: &Rate) -> String {
    r.ready
        .map(|t| t.to_string()[..10].to_string())
        .unwrap_or_else(|| "now".into())
}

/// The rule table, in priority order.
pub const RULES: &[Rule] = &[
    Rule {
        name: "many_clicks_weak_lead_magnet",
        when: "clicks or visitors at least the per-partner average (and at least min_visitors), and the lead-magnet rate clearly below its band",
        test: |i| many_clicks(i) && rate(i, Stage::LeadMagnet).proportion.clearly_below(&i.bands.lead_magnet),
        action: |_| "Rewrite the landing page headline and add a clearer proof block: the traffic arrives but the promise does not convince.".into(),
        because: |i, c| {
            c.put("average_clicks", i.avg_clicks);
            format!(
                "{} (average {:.0} clicks per partner) but lead magnet {}",
                traffic(i, c),
                i.avg_clicks,
                c.rate(Stage::LeadMagnet, &rate(i, Stage::LeadMagnet))
            )
        },
    },
    Rule {
        name: "few_visits_strong_activation",
        when: "visitors under the per-partner average (or under min_visitors), and the activation rate clearly above its band",
        test: |i| few_visits(i) && rate(i, Stage::Activation).proportion.clearly_above(&i.bands.activation),
        action: |_| "Offer this partner a guest post, a webinar or a higher commission: their audience is qualified, they need more inventory.".into(),
        because: |i, c| {
            c.put("average_visitors", i.avg_visitors);
            format!(
                "only {} (average {:.0} visitors per partner) but {} (activation) {}",
                traffic(i, c),
                i.avg_visitors,
                i.activation_event,
                c.rate(Stage::Activation, &rate(i, Stage::Activation))
            )
        },
    },
    Rule {
        name: "insufficient_data",
        when: "fewer than min_visitors visitors",
        test: |i| i.figures.counts.visitors < i.bands.min_visitors,
        action: |i| format!(
            "Collect more traffic before changing anything: ask the partner for {} more visitors.",
            i.bands.min_visitors - i.figures.counts.visitors.min(i.bands.min_visitors)
        ),
        because: |i, c| {
            let v = i.figures.counts.visitors;
            c.put("visitors", v as f64);
            c.put("min_visitors", i.bands.min_visitors as f64);
            format!(
                "{v} visitor{}, fewer than the {} needed for a verdict",
                if v == 1 { "" } else { "s" },
                i.bands.min_visitors
            )
        },
    },
    Rule {
        name: "weak_click_to_visit",
        when: "at least min_visitors clicks and the click-to-visit rate clearly under 80%",
        test: |i| {
            let s = &i.figures.steps.click_to_visit;
            s.of >= i.bands.min_visitors && s.high < CLICK_TO_VISIT_FLOOR
        },
        action: |_| "Fix the handoff from the partner's link: check the /go redirect, the page speed and that the link lands on the promised page.".into(),
        because: |i, c| {
            let s = &i.figures.steps.click_to_visit;
            c.put("click_to_visit", s.count as f64);
            c.put("clicks", s.of as f64);
            c.put("click_to_visit_rate", s.rate.unwrap_or(0.0));
            c.put("click_to_visit_high", s.high);
            format!(
                "{} of {} clicks reached the page: {} (floor {})",
                s.count,
                s.of,
                s.display(),
                pct(CLICK_TO_VISIT_FLOOR)
            )
        },
    },
    Rule {
        name: "weak_lead_magnet",
        when: "lead-magnet rate below its band",
        test: |i| rate(i, Stage::LeadMagnet).verdict == Verdict::Below,
        action: |_| "Rewrite the landing page headline and add a proof block, and match the lead magnet to this audience's problem: too few visitors take it.".into(),
        because: |i, c| weak_because(i, c, Stage::LeadMagnet),
    },
    Rule {
        name: "weak_cta",
        when: "CTA rate below its band",
        test: |i| rate(i, Stage::Cta).verdict == Verdict::Below,
        action: |_| "Rework the call to action: one clear next step after the lead magnet, with one label.".into(),
        because: |i, c| weak_because(i, c, Stage::Cta),
    },
    Rule {
        name: "weak_activation",
        when: "activation rate below its band",
        test: |i| rate(i, Stage::Activation).verdict == Verdict::Below,
        action: |i| format!(
            "Help leads reach {}: send a partner-specific onboarding email or tutorial that walks them there.",
            i.activation_event
        ),
        because: |i, c| weak_because(i, c, Stage::Activation),
    },
    Rule {
        name: "above_band",
        when: "no step below its band and at least one step clearly above it",
        test: |i| !with_verdict(i, Verdict::Above).is_empty(),
        action: |_| "Candidate for more partner inventory: offer a guest post, a webinar, a co-marketing slot or a higher commission.".into(),
        because: |i, c| format!("{}; above the band: {}", traffic(i, c), stages_text(i, c, Verdict::Above)),
    },
    Rule {
        name: "too_early",
        when: "enough visitors, but a stage has fewer than min_visitors visitors old enough (its maturity horizon) to judge it",
        test: |i| !with_verdict(i, Verdict::TooEarly).is_empty(),
        action: |i| {
            let when: Vec<String> = with_verdict(i, Verdict::TooEarly)
                .into_iter()
                .map(|s| format!("{} ({})", ready_text(&rate(i, s)), label(s)))
                .collect();
            format!(
                "Wait before changing anything: the cohort is too young to judge. Re-run this report on or after {}.",
                when.join(", ")
            )
        },
        because: |i, c| {
            let parts: Vec<String> = with_verdict(i, Verdict::TooEarly)
                .into_iter()
                .map(|s| {
                    let r = rate(i, s);
                    c.put(&format!("{}_of", s.as_str()), r.proportion.of as f64);
                    c.put(&format!("{}_horizon_days", s.as_str()), f64::from(r.horizon_days));
                    format!(
                        "{}: {} of {} visitors are old enough ({} days; all ready {})",
                        label(s),
                        r.proportion.of,
                        i.figures.counts.visitors,
                        r.horizon_days,
                        ready_text(&r)
                    )
                })
                .collect();
            format!("{}; too young to judge: {}", traffic(i, c), parts.join("; "))
        },
    },
    Rule {
        name: "within_bands",
        when: "every step judged and within its band",
        test: |_| true,
        action: |_| "Keep the page and the partner's placements as they are, and review next week.".into(),
        because: |i, c| format!("{}; within the band: {}", traffic(i, c), stages_text(i, c, Verdict::Within)),
    },
];

/// Pick the first matching rule and say why, from the figures it read.
pub(crate) fn recommend(i: &RuleInput<'_>) -> Action {
    let rule = RULES
        .iter()
        .find(|r| (r.test)(i))
        .unwrap_or(&RULES[RULES.len() - 1]);
    let mut cited = Cited::default();
    let because = (rule.because)(i, &mut cited);
    Action {
        rule: rule.name.to_string(),
        action: (rule.action)(i),
        because,
        figures: cited.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Maturity;
    use crate::events::Ts;
    use crate::funnel::count::{Counts, Matured};
    use crate::funnel::stats::Proportion;

    /// A partner's figures, every visitor old enough for every stage unless `young` says how
    /// many are old enough for CTA and activation.
    fn figures(
        clicks: u64,
        visitors: u64,
        lm: u64,
        cta: u64,
        act: u64,
        young: Option<u64>,
    ) -> Figures {
        let old = young.unwrap_or(visitors);
        let m = |reached: u64, of: u64| Matured {
            visitors: of,
            reached: reached.min(of),
        };
        let c = Counts {
            journeys: clicks.max(visitors),
            clicks,
            clicks_with_visit: visitors.min(clicks),
            visitors,
            lead_magnet: lm,
            cta,
            activation: act,
            mature: crate::funnel::count::MatureCounts {
                lead_magnet: m(lm, visitors),
                cta: m(cta, old),
                activation: m(act, old),
            },
            newest_start: 0,
            ..Counts::default()
        };
        let as_of = if young.is_some() {
            Ts(0)
        } else {
            Ts(i64::MAX / 2)
        };
        Figures::new(c, &Bands::default(), &Maturity::default(), as_of)
    }

    /// Every stage figure an explanation cites is written in it as `count of base visitors:
    /// rate [interval]`, from the same numbers; and clicks and visitors as counted.
    fn assert_cites_its_figures(a: &Action) {
        for s in BANDED {
            let k = s.as_str();
            if let (Some(n), Some(of)) = (a.figures.get(k), a.figures.get(&format!("{k}_of"))) {
                let p = Proportion::new(*n as u64, *of as u64);
                let text = format!("{} of {} visitors: {}", *n as u64, *of as u64, p.display());
                assert!(
                    a.because.contains(&text),
                    "{}: {text:?} not in {:?}",
                    a.rule,
                    a.because
                );
            }
        }
        for k in ["clicks", "visitors"] {
            if let Some(n) = a.figures.get(k) {
                assert!(
                    a.because.contains(&format!("{} {k}", *n as u64))
                        || a.because.contains(&format!("{} visitor", *n as u64)),
                    "{}: {k} {n} not in {:?}",
                    a.rule,
                    a.because
                );
            }
        }
    }

    /// (case, figures, average clicks, average visitors, rule, words the action must contain)
    type Case<'a> = (&'a str, Figures, f64, f64, &'a str, &'a [&'a str]);

    #[test]
    fn each_rule_fires_on_its_case_and_explains_it_with_its_figures() {
        let cases: Vec<Case<'_>> = vec![
            (
                "partner A: 300 clicks, 2 downloads",
                figures(300, 250, 2, 1, 0, None),
                170.0,
                144.0,
                "many_clicks_weak_lead_magnet",
                &["headline", "proof block"],
            ),
            (
                "partner B: 40 clicks, 9 activations",
                figures(40, 38, 14, 11, 9, None),
                170.0,
                144.0,
                "few_visits_strong_activation",
                &["guest post", "webinar", "higher commission"],
            ),
            (
                "too little traffic",
                figures(60, 50, 15, 4, 1, None),
                60.0,
                50.0,
                "insufficient_data",
                &["Collect more traffic", "50 more visitors"],
            ),
            (
                "clicks lost before the page",
                figures(400, 200, 60, 16, 4, None),
                1000.0,
                1000.0,
                "weak_click_to_visit",
                &["/go redirect"],
            ),
            (
                "weak lead magnet, little traffic",
                figures(210, 200, 20, 16, 4, None),
                1000.0,
                1000.0,
                "weak_lead_magnet",
                &["headline", "proof block"],
            ),
            (
                "weak CTA",
                figures(410, 400, 100, 4, 8, None),
                1000.0,
                1000.0,
                "weak_cta",
                &["one clear next step"],
            ),
            (
                "weak activation",
                figures(1010, 1000, 250, 80, 1, None),
                2000.0,
                2000.0,
                "weak_activation",
                &["onboarding", "runs_first_audit"],
            ),
            (
                "lead magnet far above its band",
                figures(310, 300, 150, 24, 6, None),
                300.0,
                300.0,
                "above_band",
                &["guest post", "webinar", "co-marketing", "higher commission"],
            ),
            (
                "too young for CTA and activation",
                figures(310, 300, 80, 2, 0, Some(40)),
                300.0,
                300.0,
                "too_early",
                &["Wait", "1970-01-08 (CTA)", "1970-01-15 (activation)"],
            ),
            (
                "every step within its band",
                figures(410, 400, 110, 32, 8, None),
                400.0,
                400.0,
                "within_bands",
                &["Keep the page"],
            ),
        ];
        let bands = Bands::default();
        let mut fired: Vec<&str> = cases.iter().map(|c| c.4).collect();
        fired.sort_unstable();
        let mut all: Vec<&str> = RULES.iter().map(|r| r.name).collect();
        all.sort_unstable();
        assert_eq!(fired, all, "one case per rule");
        for (case, f, avg_clicks, avg_visitors, rule, words) in cases {
            let a = recommend(&RuleInput {
                figures: &f,
                bands: &bands,
                avg_clicks,
                avg_visitors,
                activation_event: "runs_first_audit",
            });
            assert_eq!(a.rule, rule, "{case}: {a:?}");
            for w in words {
                assert!(a.action.contains(w), "{case}: {w:?} not in {:?}", a.action);
            }
            assert_cites_its_figures(&a);
            // Text never claims a verdict the figures do not have.
            for s in BANDED {
                let v = f.rates.get(s).unwrap().verdict;
                if a.because
                    .contains(&format!("within the band: {}", label(s)))
                {
                    assert_eq!(v, Verdict::Within, "{case}");
                }
            }
        }
    }

    #[test]
    fn rule_names_are_unique() {
        let mut names: Vec<&str> = RULES.iter().map(|r| r.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), RULES.len());
    }
}
