//! Funnel stage, decisions: one [`Decision`] per partner and range, from a table of named
//! rules; every output (team and partner reports, calendar, build annotation, leads, MCP)
//! renders it and none re-derives a rule.
//!
//! Takes: a partner's [`Figures`], the per-partner averages, the bands and the partner's test
//! (when it runs one). Gives: a [`Decision`] that names its [`Rule`], says what to do and why,
//! lists the figures it cites, and carries what it was decided from: the stage verdicts, the
//! handoff checks, the test's verdict and the traffic state. The first matching rule in
//! [`RULES`] wins:
//!
//! 1. a test whose visitors are not split as planned stops everything else (`invalid_split`);
//! 2. a test with a winner is promoted (`promote_winner`); a test settled as equivalent ends
//!    (`end_test`);
//! 3. a broken handoff is a defect, not a rate judgement, so it comes before the traffic rule:
//!    a landing-page beacon that stopped while clicks kept coming (`beacon_stopped`: at least
//!    [`MIN_CLICKS_AFTER_STOP`] clicks on at least [`MIN_DAYS_AFTER_STOP`] days after the day
//!    of the last `visit`, `lead_magnet` or `cta` row, see [`super::beacon`]), at least [`MIN_HANDOFF_CLICKS`] clicks and the whole 95% Wilson interval of the
//!    click-to-visit share under [`CLICK_TO_VISIT_FLOOR`] (`weak_click_to_visit`), or a banded
//!    stage that never fired while a later one did at least [`MIN_LATER_EVENTS`] times
//!    (`stage_never_fires`);
//! 4. a test still running says so, and no copy change is proposed for the stages under test
//!    (`test_running`);
//! 5. then the band rules: the two band-breach examples, "not enough visitors", the weak steps
//!    from the top of the funnel down, strength, "too young to judge", an open question (an
//!    interval crossing a band edge), and last "every step within its band".
//!
//! Each rule keeps its test, its action and its explanation side by side, and the explanation
//! is written from the same [`Figures`] the test read, so the text cannot contradict the
//! numbers. Rates are those of the mature part of the cohort (see [`super::count`]).
//!
//! "Clearly below/above" means the whole 95% interval is outside the band, so the first two
//! band rules can fire on fewer visitors than `bands.min_visitors` when the evidence is that
//! strong (a small partner may send only 40 clicks); the weak-step rules use the band verdicts,
//! which need `min_visitors` mature visitors.

use super::beacon::{BeaconStop, MIN_CLICKS_AFTER_STOP, MIN_DAYS_AFTER_STOP};
use super::count::{Figures, Rate, BANDED};
use super::journey::Stage;
use super::stats::{pct, Proportion, Verdict};
use crate::config::Bands;
use crate::text::plural;
use serde::Serialize;
use std::collections::BTreeMap;

/// Below this click-to-visit share, the handoff from the partner's link to the page is broken.
pub(crate) const CLICK_TO_VISIT_FLOOR: f64 = 0.80;

/// The clicks a click-to-visit loss needs before it is called a broken handoff: with 30 clicks
/// the 95% Wilson interval of a 50% share ends near 67%, clearly under the floor.
pub const MIN_HANDOFF_CLICKS: u64 = 30;

/// A stage that never fired is a broken beacon when a later stage fired at least this often.
pub const MIN_LATER_EVENTS: u64 = 5;

/// The decision's rule: a stable name, listed in the JSON schemas.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// The test's visitors are not split as its weights say: fix the assignment first.
    InvalidSplit,
    /// The test has a winner: make it the page.
    PromoteWinner,
    /// The test's versions convert alike: end it.
    EndTest,
    /// The landing page stopped reporting (no beacon row) while clicks kept coming.
    BeaconStopped,
    /// Clicks are lost between the partner's link and the page.
    WeakClickToVisit,
    /// A stage never fires while later ones do: its beacon is broken.
    StageNeverFires,
    /// A test runs with no verdict yet: no copy change for the stages under test.
    TestRunning,
    /// Much traffic, lead magnet clearly under its band.
    ManyClicksWeakLeadMagnet,
    /// Little traffic, activation clearly over its band.
    FewVisitsStrongActivation,
    /// Fewer visitors than a verdict needs.
    InsufficientData,
    /// Lead magnet under its band.
    WeakLeadMagnet,
    /// CTA under its band.
    WeakCta,
    /// Activation under its band.
    WeakActivation,
    /// A step over its band.
    AboveBand,
    /// The cohort is too young to judge.
    TooEarly,
    /// A stage's interval crosses a band edge: the question is open.
    OpenQuestion,
    /// Every step inside its band.
    WithinBands,
}

impl Rule {
    /// The rule's stable name, as JSON writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::InvalidSplit => "invalid_split",
            Rule::PromoteWinner => "promote_winner",
            Rule::EndTest => "end_test",
            Rule::BeaconStopped => "beacon_stopped",
            Rule::WeakClickToVisit => "weak_click_to_visit",
            Rule::StageNeverFires => "stage_never_fires",
            Rule::TestRunning => "test_running",
            Rule::ManyClicksWeakLeadMagnet => "many_clicks_weak_lead_magnet",
            Rule::FewVisitsStrongActivation => "few_visits_strong_activation",
            Rule::InsufficientData => "insufficient_data",
            Rule::WeakLeadMagnet => "weak_lead_magnet",
            Rule::WeakCta => "weak_cta",
            Rule::WeakActivation => "weak_activation",
            Rule::AboveBand => "above_band",
            Rule::TooEarly => "too_early",
            Rule::OpenQuestion => "open_question",
            Rule::WithinBands => "within_bands",
        }
    }

    /// The rule named `name` (`None`: no such rule).
    pub fn parse(name: &str) -> Option<Rule> {
        serde_json::from_value(serde_json::Value::String(name.to_string())).ok()
    }

    /// The stage a weak-step rule asks to fix (`None` for the others).
    pub fn fixes(self) -> Option<Stage> {
        match self {
            Rule::ManyClicksWeakLeadMagnet | Rule::WeakLeadMagnet => Some(Stage::LeadMagnet),
            Rule::WeakCta => Some(Stage::Cta),
            Rule::WeakActivation => Some(Stage::Activation),
            _ => None,
        }
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for Rule {
    fn eq(&self, o: &&str) -> bool {
        self.as_str() == *o
    }
}

impl PartialEq<str> for Rule {
    fn eq(&self, o: &str) -> bool {
        self.as_str() == o
    }
}

/// The partner's test, as the decision reads it.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct TestState {
    /// The test's verdict over all its stages.
    pub verdict: TestVerdict,
    /// The winning variant (`winner` only).
    pub winner: Option<String>,
    /// The control: the first variant.
    pub control: String,
    /// The stage whose test gave the verdict.
    pub stage: Option<Stage>,
    /// The stages the test compares (no copy change for them while it runs).
    pub under_test: Vec<Stage>,
    /// The test's own explanation, with its figures.
    pub because: String,
}

/// A test's verdict over all its stages, as the decision reads it (the experiment module
/// decides it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "TestOutcome")]
pub enum TestVerdict {
    /// One variant beats the others.
    Winner,
    /// Nothing conclusive yet.
    NoDifferenceYet,
    /// The variants convert alike.
    StopEquivalent,
    /// The visitors do not match the weights.
    InvalidSplit,
}

impl TestVerdict {
    /// The verdict as JSON writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            TestVerdict::Winner => "winner",
            TestVerdict::NoDifferenceYet => "no_difference_yet",
            TestVerdict::StopEquivalent => "stop_equivalent",
            TestVerdict::InvalidSplit => "invalid_split",
        }
    }
}

/// The handoff checks: is the partner's traffic reaching the page, and does every stage fire.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Handoff {
    /// Clicks whose journey has a visit.
    pub click_to_visit: Proportion,
    /// The clicks a loss needs before it counts.
    pub min_clicks: u64,
    /// The share under which the handoff is broken.
    pub floor: f64,
    /// At least `min_clicks` clicks and the whole 95% Wilson interval under `floor`.
    pub broken: bool,
    /// Banded stages no visitor reached while a later stage was reached at least 5 times.
    pub silent: Vec<Stage>,
    /// The landing-page beacon stopped while clicks kept coming (absent: it did not).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<BeaconStop>,
}

/// The traffic state: enough visitors for a verdict or not.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Traffic {
    /// Distinct visitors who followed the link.
    pub clicks: u64,
    /// Distinct visitors who reached the page.
    pub visitors: u64,
    /// Visitors a verdict needs.
    pub min_visitors: u64,
    /// `visitors >= min_visitors`.
    pub enough: bool,
}

/// One stage's verdict, as the decision read it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, schemars::JsonSchema)]
pub struct StageCall {
    /// The stage.
    pub stage: Stage,
    /// Its verdict against its band.
    pub verdict: Verdict,
    /// For an open verdict: about how many visitors old enough would settle it.
    pub settles_at: Option<u64>,
}

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
    /// The partner's test, when it runs one.
    pub test: Option<&'a TestState>,
    /// The landing-page beacon stopped while clicks kept coming.
    pub beacon_stop: Option<BeaconStop>,
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

/// A rule of the table: when it applies, what it recommends and why, side by side.
pub struct RuleDef {
    pub name: Rule,
    /// When it applies, in words (docs).
    pub when: &'static str,
    pub test: fn(&RuleInput<'_>) -> bool,
    /// The action, from the figures.
    pub action: fn(&RuleInput<'_>) -> String,
    /// Why: the figures that triggered the rule, cited into `Cited`.
    pub because: fn(&RuleInput<'_>, &mut Cited) -> String,
}

/// One partner's decision for one range: the rule that applies, what to do, why, and what it
/// was decided from. Every output renders this value.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[schemars(rename = "PartnerDecision")]
pub struct Decision {
    /// The rule's name, e.g. `many_clicks_weak_lead_magnet`.
    pub rule: Rule,
    /// What to do.
    #[schemars(length(min = 1))]
    pub action: String,
    /// Why: the figures that triggered the rule, in a sentence.
    #[schemars(length(min = 1))]
    pub because: String,
    /// The same figures as numbers.
    pub figures: BTreeMap<String, f64>,
    /// The verdict of every banded stage.
    pub stages: Vec<StageCall>,
    /// The handoff checks.
    pub handoff: Handoff,
    /// The partner's test (absent when it runs none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test: Option<TestState>,
    /// The traffic state.
    pub traffic: Traffic,
    /// With a test: the rule that applies to the page's figures once the test is over (what
    /// the weeks after promoting or ending it work on).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub without_test: Option<Rule>,
}

/// The former name of [`Decision`].
pub type Action = Decision;

impl Decision {
    /// The stage the decision asks to fix (a weak-step rule), if any.
    pub fn fixes(&self) -> Option<Stage> {
        self.rule.fixes()
    }

    /// The verdict of a banded stage.
    pub fn verdict(&self, s: Stage) -> Option<Verdict> {
        self.stages.iter().find(|c| c.stage == s).map(|c| c.verdict)
    }
}

fn test_is(i: &RuleInput<'_>, v: TestVerdict) -> bool {
    i.test.is_some_and(|t| t.verdict == v)
}

fn test_because(i: &RuleInput<'_>) -> String {
    match i.test {
        Some(t) if !t.because.is_empty() => format!("test: {}", t.because),
        Some(t) => format!("test: {}", t.verdict.as_str()),
        None => String::new(),
    }
}

/// At least [`MIN_HANDOFF_CLICKS`] clicks and the whole interval under the floor.
pub(crate) fn handoff_broken(f: &Figures) -> bool {
    let s = &f.steps.click_to_visit;
    s.of >= MIN_HANDOFF_CLICKS && s.high < CLICK_TO_VISIT_FLOOR
}

/// Banded stages nobody reached while a later stage was reached at least
/// [`MIN_LATER_EVENTS`] times.
pub(crate) fn silent_stages(f: &Figures) -> Vec<Stage> {
    let c = &f.counts;
    let n = [c.lead_magnet, c.cta, c.activation];
    (0..2)
        .filter(|&k| n[k] == 0 && n[k + 1..].iter().any(|x| *x >= MIN_LATER_EVENTS))
        .map(|k| BANDED[k])
        .collect()
}

/// `, settled at about 420 visitors old enough if the rate holds`.
fn settle_text(r: &Rate) -> String {
    match super::stats::settles_at(&r.proportion, &r.band) {
        Some(n) => format!(
            ", settled at about {} old enough if the rate holds",
            plural(n, "visitor", "visitors")
        ),
        None => String::new(),
    }
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
    format!(
        "{}, {}",
        plural(n.clicks, "click", "clicks"),
        plural(n.visitors, "visitor", "visitors")
    )
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
pub const RULES: &[RuleDef] = &[
    RuleDef {
        name: Rule::InvalidSplit,
        when: "the partner's test does not split its visitors as its weights say (sample-ratio check)",
        test: |i| test_is(i, TestVerdict::InvalidSplit),
        action: |_| "Fix the test's assignment before reading anything else: check the variant cookie and the weights, then restart the test.".into(),
        because: |i, c| format!("{}; {}", traffic(i, c), test_because(i)),
    },
    RuleDef {
        name: Rule::PromoteWinner,
        when: "the partner's test has a winner",
        test: |i| test_is(i, TestVerdict::Winner),
        action: |i| {
            let (w, st) = i
                .test
                .map(|t| (t.winner.clone().unwrap_or_default(), t.stage))
                .unwrap_or_default();
            format!(
                "Promote the winner: make version \"{w}\" the page (its copy becomes the partner's own, the test ends){}.",
                st.map(|s| format!("; it won on the {}", label(s))).unwrap_or_default()
            )
        },
        because: |i, c| format!("{}; {}", traffic(i, c), test_because(i)),
    },
    RuleDef {
        name: Rule::EndTest,
        when: "the partner's test is settled: its versions convert alike (stop_equivalent)",
        test: |i| test_is(i, TestVerdict::StopEquivalent),
        action: |i| format!(
            "End the test and keep the control (\"{}\"): the versions convert alike.",
            i.test.map(|t| t.control.as_str()).unwrap_or("control")
        ),
        because: |i, c| format!("{}; {}", traffic(i, c), test_because(i)),
    },
    RuleDef {
        name: Rule::BeaconStopped,
        when: "the landing page sent no visit, lead_magnet or cta row after a day while at least 20 clicks on at least 2 later days came in (and it had sent at least 5 before)",
        test: |i| i.beacon_stop.is_some(),
        action: |i| format!(
            "Fix the page's tracking: no visit has been recorded since {} while the partner's link kept sending clicks. Check that the page still loads the beacon script and that the collector address is right, then check that a visit arrives.",
            i.beacon_stop.map(|s| s.since_date()).unwrap_or_default()
        ),
        because: |i, c| {
            let Some(s) = i.beacon_stop else {
                return traffic(i, c);
            };
            c.put("clicks_after_stop", s.clicks_after as f64);
            c.put("days_with_clicks_after_stop", s.days_with_clicks as f64);
            c.put("beacon_rows_before_stop", s.beacons_before as f64);
            format!(
                "the last landing-page event was on {} ({} in the range before it); since {}: {} on {} and no visit, lead magnet or CTA (a stop needs at least {} on at least {})",
                s.last_beacon.date_string(),
                plural(s.beacons_before, "event", "events"),
                s.since_date(),
                plural(s.clicks_after, "click", "clicks"),
                plural(s.days_with_clicks, "day", "days"),
                plural(MIN_CLICKS_AFTER_STOP, "click", "clicks"),
                plural(MIN_DAYS_AFTER_STOP, "day", "days"),
            )
        },
    },
    RuleDef {
        name: Rule::WeakClickToVisit,
        when: "at least 30 clicks and the whole 95% Wilson interval of the click-to-visit share under 80%, whatever the traffic",
        test: |i| handoff_broken(i.figures),
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
    RuleDef {
        name: Rule::StageNeverFires,
        when: "a banded stage no visitor reached while a later stage was reached at least 5 times",
        test: |i| !silent_stages(i.figures).is_empty(),
        action: |i| {
            let names: Vec<&str> = silent_stages(i.figures).into_iter().map(label).collect();
            format!(
                "Fix the tracking: the {} event never arrives while later stages do. Check that the page sends it (the button's data attribute, the beacon) before reading any rate.",
                names.join(" and ")
            )
        },
        because: |i, c| {
            let n = &i.figures.counts;
            let parts: Vec<String> = silent_stages(i.figures)
                .into_iter()
                .map(|s| {
                    c.put(s.as_str(), 0.0);
                    format!("no {} event", label(s))
                })
                .collect();
            c.put("cta", n.cta as f64);
            c.put("activation", n.activation as f64);
            format!(
                "{}; {} while {} and {} were recorded",
                traffic(i, c),
                parts.join(", "),
                plural(n.cta, "CTA", "CTAs"),
                plural(n.activation, "activation", "activations")
            )
        },
    },
    RuleDef {
        name: Rule::TestRunning,
        when: "the partner's test runs with no verdict yet",
        test: |i| i.test.is_some(),
        action: |i| {
            let stages: Vec<&str> = i
                .test
                .map(|t| t.under_test.iter().map(|s| label(*s)).collect())
                .unwrap_or_default();
            format!(
                "Let the test run: no copy change on the {} while it compares the versions; read it again next week.",
                stages.join(", ")
            )
        },
        because: |i, c| format!("{}; {}", traffic(i, c), test_because(i)),
    },
    RuleDef {
        name: Rule::ManyClicksWeakLeadMagnet,
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
    RuleDef {
        name: Rule::FewVisitsStrongActivation,
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
    RuleDef {
        name: Rule::InsufficientData,
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
                "{}, fewer than the {} needed for a verdict",
                plural(v, "visitor", "visitors"),
                i.bands.min_visitors
            )
        },
    },
    RuleDef {
        name: Rule::WeakLeadMagnet,
        when: "lead-magnet rate below its band",
        test: |i| rate(i, Stage::LeadMagnet).verdict == Verdict::Below,
        action: |_| "Rewrite the landing page headline and add a proof block, and match the lead magnet to this audience's problem: too few visitors take it.".into(),
        because: |i, c| weak_because(i, c, Stage::LeadMagnet),
    },
    RuleDef {
        name: Rule::WeakCta,
        when: "CTA rate below its band",
        test: |i| rate(i, Stage::Cta).verdict == Verdict::Below,
        action: |_| "Rework the call to action: one clear next step after the lead magnet, with one label.".into(),
        because: |i, c| weak_because(i, c, Stage::Cta),
    },
    RuleDef {
        name: Rule::WeakActivation,
        when: "activation rate below its band",
        test: |i| rate(i, Stage::Activation).verdict == Verdict::Below,
        action: |i| format!(
            "Help leads reach {}: send a partner-specific onboarding email or tutorial that walks them there.",
            i.activation_event
        ),
        because: |i, c| weak_because(i, c, Stage::Activation),
    },
    RuleDef {
        name: Rule::AboveBand,
        when: "no step below its band and at least one step clearly above it",
        test: |i| !with_verdict(i, Verdict::Above).is_empty(),
        action: |_| "Candidate for more partner inventory: offer a guest post, a webinar, a co-marketing slot or a higher commission.".into(),
        because: |i, c| format!("{}; above the band: {}", traffic(i, c), stages_text(i, c, Verdict::Above)),
    },
    RuleDef {
        name: Rule::TooEarly,
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
                        "{}: {} of {} visitors are old enough ({}; all ready {})",
                        label(s),
                        r.proportion.of,
                        i.figures.counts.visitors,
                        plural(u64::from(r.horizon_days), "day", "days"),
                        ready_text(&r)
                    )
                })
                .collect();
            format!("{}; too young to judge: {}", traffic(i, c), parts.join("; "))
        },
    },
    RuleDef {
        name: Rule::OpenQuestion,
        when: "no stage clearly off its band, but a stage's interval crosses a band edge",
        test: |i| BANDED.into_iter().any(|s| rate(i, s).verdict.is_open()),
        action: |i| {
            let parts: Vec<String> = BANDED
                .into_iter()
                .filter(|s| rate(i, *s).verdict.is_open())
                .map(|s| {
                    let r = rate(i, s);
                    format!("{} {}{}", label(s), r.verdict.word(), settle_text(&r))
                })
                .collect();
            format!("Change nothing yet and keep measuring: {}.", parts.join("; "))
        },
        because: |i, c| {
            let parts: Vec<String> = BANDED
                .into_iter()
                .filter(|s| rate(i, *s).verdict.is_open())
                .map(|s| format!("{} {}", label(s), c.rate(s, &rate(i, s))))
                .collect();
            format!("{}; interval crossing a band edge: {}", traffic(i, c), parts.join("; "))
        },
    },
    RuleDef {
        name: Rule::WithinBands,
        when: "every step judged and within its band",
        test: |_| true,
        action: |_| "Keep the page and the partner's placements as they are, and review next week.".into(),
        because: |i, c| format!("{}; within the band: {}", traffic(i, c), stages_text(i, c, Verdict::Within)),
    },
];

/// Decide: pick the first matching rule and say why, from the figures it read, with the
/// stage verdicts, handoff checks, test state and traffic state it read them with.
pub(crate) fn recommend(i: &RuleInput<'_>) -> Decision {
    let rule = RULES
        .iter()
        .find(|r| (r.test)(i))
        .unwrap_or(&RULES[RULES.len() - 1]);
    let mut cited = Cited::default();
    let because = (rule.because)(i, &mut cited);
    let f = i.figures;
    Decision {
        rule: rule.name,
        action: (rule.action)(i),
        because,
        figures: cited.0,
        stages: BANDED
            .into_iter()
            .map(|s| {
                let r = rate(i, s);
                StageCall {
                    stage: s,
                    verdict: r.verdict,
                    settles_at: r
                        .verdict
                        .is_open()
                        .then(|| super::stats::settles_at(&r.proportion, &r.band))
                        .flatten(),
                }
            })
            .collect(),
        handoff: Handoff {
            click_to_visit: f.steps.click_to_visit,
            min_clicks: MIN_HANDOFF_CLICKS,
            floor: CLICK_TO_VISIT_FLOOR,
            broken: handoff_broken(f),
            silent: silent_stages(f),
            stopped: i.beacon_stop,
        },
        test: i.test.cloned(),
        traffic: Traffic {
            clicks: f.counts.clicks,
            visitors: f.counts.visitors,
            min_visitors: i.bands.min_visitors,
            enough: f.counts.visitors >= i.bands.min_visitors,
        },
        without_test: i.test.map(|_| {
            let plain = RuleInput { test: None, ..*i };
            RULES
                .iter()
                .find(|r| (r.test)(&plain))
                .map_or(Rule::WithinBands, |r| r.name)
        }),
    }
}

#[cfg(test)]
mod tests;
