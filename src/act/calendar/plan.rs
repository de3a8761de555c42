//! Calendar stage, planning: what each partner gets each week, and why.
//!
//! Takes: each partner's funnel figures (from [`crate::funnel`], with its experiment's verdict
//! when it runs one). Gives: a [`Schedule`] per partner, one list of [`Spec`]s per week, that
//! [`super::plan`] turns into [`super::Task`]s.
//!
//! The funnel's recommended action decides where a partner stands ([`Standing`]); the standing
//! decides a sequence of weeks that acts on the data first and then follows through:
//!
//! | standing (funnel action) | week 1 | the weeks after |
//! |---|---|---|
//! | fix (a weak step: `many_clicks_weak_lead_magnet`, `weak_*`, ...) | fix the weakest step: a landing/CTA proposal, an email with the partner's figures, a brief | measure that fix (when the cohort after it is readable), then fix the next weak step (its proposal applies after the first), a follow-up email and a brief on what converts, then re-plan |
//! | co-marketing (`few_visits_strong_activation`, `above_band`) | offer inventory (guest post, webinar, co-marketing slot, higher commission): an email citing the verdict's figures, a tracked campaign for a guest post, its brief | a webinar campaign and outline, measure the guest-post campaign, a follow-up email, re-plan |
//! | collect-traffic (`insufficient_data`) | one ask for traffic (a launch email when nobody visited yet) | count the visitors since the ask, a post the partner can share, re-plan: never a second ask |
//! | wait-for-cohort (`too_early`) | wait until the cohort is old enough (the date), no change to the page | content on what works, a progress email, read the verdict on the ready date, re-plan |
//! | build-on-strength (`within_bands`) | an email with what converted, a brief on the best step | a brief on the next best step, measure the campaign pushed, re-plan |
//!
//! A partner whose experiment has a verdict gets it first: `winner <id>` promotes the winner
//! (a proposal that makes its overrides the partner's own fields and removes `variants:`) and
//! tells the partner which promise converted; `stop_equivalent` ends the test keeping the
//! control; the standing's weeks then follow one week later. `invalid_split` adds a check to
//! week 1 (fix the split; no patch). `no_difference_yet` adds nothing.
//!
//! A sequence shorter than the plan leaves the last weeks empty: the last task says to re-plan
//! from the new data, and repeating a week's task would only be noise.

use super::{ExperimentFigures, PartnerFigures, StageFigures, TaskKind};
use crate::funnel::Rule;
use chrono::{Days, NaiveDate};

/// Funnel stages that have bands, in funnel order.
pub(crate) const BANDED_STAGES: [&str; 3] = ["lead_magnet", "cta", "activation"];

/// Allocation rule names (they appear in every task and in the docs).
pub(crate) const RULE_CO_MARKETING: &str = "co-marketing";
pub(crate) const RULE_COLLECT: &str = "collect-traffic";
pub(crate) const RULE_FIX: &str = "fix-weakest-step";
pub(crate) const RULE_STRENGTH: &str = "build-on-strength";
pub(crate) const RULE_WAIT: &str = "wait-for-cohort";
pub(crate) const RULE_PROMOTE: &str = "promote-winner";
pub(crate) const RULE_END_TEST: &str = "end-test";
pub(crate) const RULE_FIX_SPLIT: &str = "fix-split";
pub(crate) const RULE_FIX_HANDOFF: &str = "fix-handoff";
pub(crate) const RULE_LET_TEST_RUN: &str = "let-test-run";
pub(crate) const RULE_KEEP_MEASURING: &str = "keep-measuring";

/// Every rule (the JSON schema lists them).
pub(crate) const RULES: [&str; 11] = [
    RULE_FIX_HANDOFF,
    RULE_LET_TEST_RUN,
    RULE_KEEP_MEASURING,
    RULE_CO_MARKETING,
    RULE_COLLECT,
    RULE_STRENGTH,
    RULE_FIX,
    RULE_WAIT,
    RULE_PROMOTE,
    RULE_END_TEST,
    RULE_FIX_SPLIT,
];

/// What a task does in the partner's sequence.
pub(crate) const PHASE_ACT: &str = "act";
pub(crate) const PHASE_MEASURE: &str = "measure";
pub(crate) const PHASE_NEXT: &str = "next-step";
pub(crate) const PHASE_FOLLOW_UP: &str = "follow-up";
pub(crate) const PHASE_ASK: &str = "ask";
pub(crate) const PHASE_LAUNCH: &str = "launch";
pub(crate) const PHASE_WAIT: &str = "wait";
pub(crate) const PHASE_READ: &str = "read";
pub(crate) const PHASE_REPLAN: &str = "replan";

/// Every phase (the schema lists them).
pub(crate) const PHASES: [&str; 9] = [
    PHASE_ACT,
    PHASE_MEASURE,
    PHASE_NEXT,
    PHASE_FOLLOW_UP,
    PHASE_ASK,
    PHASE_LAUNCH,
    PHASE_WAIT,
    PHASE_READ,
    PHASE_REPLAN,
];

/// Day of the week (0 = the week's first day) a task is scheduled on: the landing fix and
/// anything that must happen before it first, then the partner email, the brief, and the
/// checks that read the week's data last.
pub(crate) fn day_offset(kind: TaskKind, rule: &str) -> u64 {
    match kind {
        TaskKind::Proposal => 0,
        TaskKind::Check
            if [
                RULE_FIX_SPLIT,
                RULE_WAIT,
                RULE_FIX_HANDOFF,
                RULE_LET_TEST_RUN,
                RULE_KEEP_MEASURING,
            ]
            .contains(&rule) =>
        {
            0
        }
        TaskKind::Email => 1,
        TaskKind::Brief => 2,
        TaskKind::Check => 3,
    }
}

/// Where a partner stands, decided once from its figures.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Standing {
    CoMarketing,
    /// Some visitors, fewer than a verdict needs.
    Collect,
    /// No visitor at all: the link has not been shared yet.
    Launch,
    /// Enough visitors, too young to judge: ready on this date (`None`: unknown).
    TooEarly(Option<NaiveDate>),
    /// Steps to work on, weakest first (at least one).
    Fix(Vec<String>),
    /// Every step within its band: stages, best first.
    Steady(Vec<String>),
    /// The test decides the weeks: it runs with no verdict (`true`), or its split is broken
    /// (`false`): no change to the page until it is read or fixed.
    Hold(bool),
    /// Clicks lost before the page, or a stage that never fires: fix the handoff first.
    Handoff,
    /// A stage's interval crosses a band edge: keep measuring, change nothing.
    Open,
}

/// The calendar rule of a funnel decision: the first task of a partner carries it.
#[cfg(test)]
pub(crate) fn calendar_rule(decision: Rule) -> &'static str {
    match decision {
        Rule::InvalidSplit => RULE_FIX_SPLIT,
        Rule::PromoteWinner => RULE_PROMOTE,
        Rule::EndTest => RULE_END_TEST,
        Rule::TestRunning => RULE_LET_TEST_RUN,
        Rule::BeaconStopped | Rule::WeakClickToVisit | Rule::StageNeverFires => RULE_FIX_HANDOFF,
        Rule::FewVisitsStrongActivation | Rule::AboveBand => RULE_CO_MARKETING,
        Rule::InsufficientData => RULE_COLLECT,
        Rule::ManyClicksWeakLeadMagnet
        | Rule::WeakLeadMagnet
        | Rule::WeakCta
        | Rule::WeakActivation => RULE_FIX,
        Rule::TooEarly => RULE_WAIT,
        Rule::OpenQuestion => RULE_KEEP_MEASURING,
        Rule::WithinBands => RULE_STRENGTH,
    }
}

/// Classify a partner from the funnel's decision (the funnel decides; the calendar only turns
/// the decision into weeks of work). After a test is promoted or ended, the weeks work on the
/// rule of the page's own figures.
pub(crate) fn standing(f: &PartnerFigures) -> Standing {
    let mut rule = Rule::parse(&f.action.rule);
    if matches!(rule, Some(Rule::PromoteWinner | Rule::EndTest)) {
        rule = Rule::parse(&f.action.without_test);
    }
    match rule {
        Some(Rule::TestRunning) => Standing::Hold(true),
        Some(Rule::InvalidSplit) => Standing::Hold(false),
        Some(Rule::BeaconStopped | Rule::WeakClickToVisit | Rule::StageNeverFires) => {
            Standing::Handoff
        }
        Some(Rule::FewVisitsStrongActivation | Rule::AboveBand) => Standing::CoMarketing,
        _ if f.visitors == 0 => Standing::Launch,
        Some(Rule::InsufficientData) => Standing::Collect,
        Some(Rule::TooEarly) => Standing::TooEarly(
            f.stages
                .iter()
                .filter(|s| s.verdict == "too_early")
                .filter_map(|s| s.ready_date())
                .max(),
        ),
        Some(Rule::OpenQuestion) => Standing::Open,
        Some(Rule::WithinBands) => Standing::Steady(best_first(f)),
        Some(
            r @ (Rule::ManyClicksWeakLeadMagnet
            | Rule::WeakLeadMagnet
            | Rule::WeakCta
            | Rule::WeakActivation),
        ) => {
            // The step the decision names, then every other step wholly under its band.
            let mut steps: Vec<String> = r
                .fixes()
                .map(|s| s.as_str().to_string())
                .into_iter()
                .collect();
            for s in weakest_first(f) {
                let below = f.stage(&s).is_some_and(|x| x.verdict == "below");
                if below && !steps.contains(&s) {
                    steps.push(s);
                }
            }
            Standing::Fix(steps)
        }
        _ => Standing::Steady(best_first(f)),
    }
}

/// Banded stages ranked weakest first: wholly below the band, then by rate / band low.
pub(crate) fn weakest_first(f: &PartnerFigures) -> Vec<String> {
    let mut ranked: Vec<(&StageFigures, bool, f64)> = BANDED_STAGES
        .iter()
        .filter_map(|s| f.stage(s))
        .map(|s| {
            let below = s.high < s.band_low;
            let ratio = if s.band_low > 0.0 {
                s.rate / s.band_low
            } else {
                f64::INFINITY
            };
            (s, below, ratio)
        })
        .collect();
    // Stable sort: ties keep funnel order, so earlier steps are fixed first.
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.total_cmp(&b.2)));
    ranked
        .into_iter()
        .map(|(s, _, _)| s.stage.clone())
        .collect()
}

/// Banded stages someone reached, best relative to its band first (funnel order on ties).
pub(crate) fn best_first(f: &PartnerFigures) -> Vec<String> {
    let mut ranked: Vec<&StageFigures> = BANDED_STAGES
        .iter()
        .filter_map(|s| f.stage(s))
        .filter(|s| s.count > 0)
        .collect();
    ranked.sort_by(|a, b| (b.rate / b.band_high).total_cmp(&(a.rate / a.band_high)));
    let mut out: Vec<String> = ranked.into_iter().map(|s| s.stage.clone()).collect();
    if out.is_empty() {
        out.push("lead_magnet".into());
    }
    out
}

/// The stage that converts best relative to its band, among stages someone reached.
pub(crate) fn best_relative(f: &PartnerFigures) -> Option<&StageFigures> {
    BANDED_STAGES
        .iter()
        .filter_map(|s| f.stage(s))
        .filter(|s| s.count > 0)
        .max_by(|a, b| (a.rate / a.band_high).total_cmp(&(b.rate / b.band_high)))
}

/// What to tell the partner converted: the best stage, if it reaches its band at all.
pub(crate) fn strongest(f: &PartnerFigures) -> Option<&StageFigures> {
    best_relative(f).filter(|s| s.rate >= s.band_low && s.of > 0)
}

/// The stages the funnel judged above their band (co-marketing cites them), or activation
/// when the action is the strong-activation rule.
pub(crate) fn above_stages(f: &PartnerFigures) -> Vec<&StageFigures> {
    let above: Vec<&StageFigures> = f.stages.iter().filter(|s| s.verdict == "above").collect();
    if !above.is_empty() {
        return above;
    }
    f.stage("activation").into_iter().collect()
}

/// The campaign to push next: the one with the most activations, then lead magnets, then
/// visitors; `default` when no campaign has traffic.
pub(crate) fn next_campaign(f: &PartnerFigures) -> String {
    f.campaigns
        .iter()
        .filter(|c| c.visitors > 0)
        .max_by(|a, b| {
            (
                a.activations,
                a.lead_magnets,
                a.visitors,
                std::cmp::Reverse(&a.name),
            )
                .cmp(&(
                    b.activations,
                    b.lead_magnets,
                    b.visitors,
                    std::cmp::Reverse(&b.name),
                ))
        })
        .map(|c| c.name.clone())
        .unwrap_or_else(|| crate::partner::DEFAULT_CAMPAIGN.to_string())
}

/// The questions a partner's audience asks before taking a step; a brief answers them.
pub(crate) fn objections(stage: &str, audience: &str, promise: &str) -> Vec<String> {
    match stage {
        "lead_magnet" => vec![
            format!("Is the {promise} written for {audience}, or is it generic advice?"),
            "What exactly do I get, and how long does it take to use?".into(),
            "Why should I trust this source over what I already use?".into(),
        ],
        "cta" => vec![
            "I have the free resource; why would I take the next step now?".into(),
            "How much time does it cost me, and what happens afterwards?".into(),
            format!("What does it change for {audience} in practice?"),
        ],
        "activation" => vec![
            "How do I get a first result without a long setup?".into(),
            "Will it work with the tools and sites I already have?".into(),
            "What does a good first result look like?".into(),
        ],
        "co-marketing" => vec![
            format!("What do {audience} achieve with the {promise}, in numbers?"),
            "What will I learn that I cannot find in the docs?".into(),
            "Who is speaking, and why should I trust them?".into(),
        ],
        _ => vec![
            format!("Why do {audience} trust this partner's recommendation?"),
            "What result did people like me get, in numbers?".into(),
        ],
    }
}

/// One task the planner decided, before dates, titles and files are given.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Spec {
    pub kind: TaskKind,
    pub rule: &'static str,
    pub phase: &'static str,
    pub target_stage: Option<String>,
    /// Co-marketing format (`guest-post` or `webinar`).
    pub format: Option<&'static str>,
    /// The earlier task (0-based week, kind) this one follows through on.
    pub follows: Option<(u32, TaskKind)>,
    /// It follows through on the change an earlier run proposed (see [`super::PriorChange`]).
    pub follows_prior: bool,
}

impl Spec {
    fn new(kind: TaskKind, rule: &'static str, phase: &'static str) -> Spec {
        Spec {
            kind,
            rule,
            phase,
            target_stage: None,
            format: None,
            follows: None,
            follows_prior: false,
        }
    }

    fn stage(mut self, s: &str) -> Spec {
        self.target_stage = Some(s.to_string());
        self
    }

    fn format(mut self, f: &'static str) -> Spec {
        self.format = Some(f);
        self
    }

    fn follows(mut self, week: u32, kind: TaskKind) -> Spec {
        self.follows = Some((week, kind));
        self
    }
}

/// One partner's plan: the tasks of each week (0-based), as many weeks as asked.
pub(crate) type Schedule = Vec<Vec<Spec>>;

/// The weeks of a partner that stands at `standing`, with its experiment's verdict, cut or
/// padded (with empty weeks) to `weeks`.
///
/// `measuring`: the stage of a change an earlier run proposed and the partner file now has,
/// while the cohort after it is not yet readable. A partner with a weak step then measures that
/// change first instead of changing the page again.
pub(crate) fn schedule(
    standing: &Standing,
    experiment: Option<&ExperimentFigures>,
    best: &[String],
    start: NaiveDate,
    weeks: u32,
    measuring: Option<&str>,
    asked: bool,
) -> Schedule {
    use TaskKind::{Brief, Check, Email, Proposal};
    let mut out: Schedule = Vec::new();
    // The experiment's verdict goes first: it changes the page every later task works on.
    let mut split_check = None;
    if let Some(x) = experiment {
        match x.verdict.as_str() {
            "winner" => out.push(vec![
                Spec::new(Proposal, RULE_PROMOTE, PHASE_ACT).stage(&x.stage),
                Spec::new(Email, RULE_PROMOTE, PHASE_ACT).stage(&x.stage),
            ]),
            "stop_equivalent" => out.push(vec![
                Spec::new(Proposal, RULE_END_TEST, PHASE_ACT).stage(&x.stage),
                Spec::new(Email, RULE_END_TEST, PHASE_ACT).stage(&x.stage),
            ]),
            "invalid_split" => {
                split_check = Some(Spec::new(Check, RULE_FIX_SPLIT, PHASE_ACT).stage("visit"));
            }
            _ => {}
        }
    }
    let w0 = out.len() as u32;
    let second = |s: &str| best.iter().find(|b| *b != s).cloned();
    let best0 = best
        .first()
        .cloned()
        .unwrap_or_else(|| "lead_magnet".into());
    let mut seq: Schedule = Vec::new();
    match standing {
        Standing::Fix(all_steps) => {
            let mut steps = all_steps.clone();
            if let Some(m) = measuring {
                let mut check = Spec::new(Check, RULE_FIX, PHASE_MEASURE).stage(m);
                check.follows_prior = true;
                seq.push(vec![check]);
                steps.retain(|s| s != m);
            }
            let steps = &steps;
            let first_act = w0 + seq.len() as u32;
            for (i, s) in steps.iter().enumerate() {
                let act = w0 + seq.len() as u32;
                let phase = if i == 0 { PHASE_ACT } else { PHASE_NEXT };
                let mut week = vec![Spec::new(Proposal, RULE_FIX, phase).stage(s)];
                if i == 0 {
                    week.push(Spec::new(Email, RULE_FIX, PHASE_ACT).stage(s));
                } else if i == 1 {
                    week.push(
                        Spec::new(Email, RULE_FIX, PHASE_FOLLOW_UP)
                            .stage(s)
                            .follows(first_act, Proposal),
                    );
                }
                week.push(Spec::new(Brief, RULE_FIX, phase).stage(s));
                seq.push(week);
                seq.push(vec![Spec::new(Check, RULE_FIX, PHASE_MEASURE)
                    .stage(s)
                    .follows(act, Proposal)]);
            }
            // What converts gets content too, and the partner hears what changed.
            let mut week = Vec::new();
            if steps.len() < 2 && !steps.is_empty() {
                week.push(
                    Spec::new(Email, RULE_STRENGTH, PHASE_FOLLOW_UP)
                        .stage(&best0)
                        .follows(first_act, Proposal),
                );
            }
            week.push(Spec::new(Brief, RULE_STRENGTH, PHASE_FOLLOW_UP).stage(&best0));
            seq.push(week);
        }
        Standing::CoMarketing => {
            seq.push(vec![
                Spec::new(Proposal, RULE_CO_MARKETING, PHASE_ACT)
                    .stage("activation")
                    .format("guest-post"),
                Spec::new(Email, RULE_CO_MARKETING, PHASE_ACT)
                    .stage("activation")
                    .format("guest-post"),
                Spec::new(Brief, RULE_CO_MARKETING, PHASE_ACT)
                    .stage("activation")
                    .format("guest-post"),
            ]);
            seq.push(vec![
                Spec::new(Proposal, RULE_CO_MARKETING, PHASE_NEXT)
                    .stage("activation")
                    .format("webinar"),
                Spec::new(Brief, RULE_CO_MARKETING, PHASE_NEXT)
                    .stage("activation")
                    .format("webinar"),
            ]);
            seq.push(vec![Spec::new(Check, RULE_CO_MARKETING, PHASE_MEASURE)
                .stage("activation")
                .format("guest-post")
                .follows(w0, Proposal)]);
            seq.push(vec![Spec::new(Email, RULE_CO_MARKETING, PHASE_FOLLOW_UP)
                .stage("activation")
                .format("webinar")
                .follows(w0 + 1, Proposal)]);
            seq.push(vec![Spec::new(Check, RULE_CO_MARKETING, PHASE_MEASURE)
                .stage("activation")
                .format("webinar")
                .follows(w0 + 1, Proposal)]);
        }
        Standing::Collect | Standing::Launch => {
            let phase = if *standing == Standing::Launch {
                PHASE_LAUNCH
            } else {
                PHASE_ASK
            };
            // One ask across the plan: the later weeks count, and give the partner something
            // to share, but never ask again (nor when an earlier run asked recently).
            if asked {
                let mut check = Spec::new(Check, RULE_COLLECT, PHASE_MEASURE).stage("visit");
                check.follows_prior = true;
                seq.push(vec![check]);
            } else {
                seq.push(vec![Spec::new(Email, RULE_COLLECT, phase).stage("visit")]);
                seq.push(vec![Spec::new(Check, RULE_COLLECT, PHASE_MEASURE)
                    .stage("visit")
                    .follows(w0, Email)]);
            }
            seq.push(vec![
                Spec::new(Brief, RULE_COLLECT, PHASE_FOLLOW_UP).stage("visit")
            ]);
        }
        Standing::TooEarly(ready) => {
            // The first week whose checks (day 3) fall on or after the ready day.
            let ready_week = ready.map_or(2, |r| {
                let days = (r - start).num_days() - 3;
                if days <= 0 {
                    0
                } else {
                    ((days + 6) / 7) as u32
                }
            });
            let mut first = vec![Spec::new(Check, RULE_WAIT, PHASE_WAIT)];
            // A progress note only while the first results are still ahead of it.
            if ready.is_none_or(|r| r > add_days(start, u64::from(w0) * 7 + 1)) {
                first.push(Spec::new(Email, RULE_WAIT, PHASE_FOLLOW_UP));
            }
            seq.push(first);
            seq.push(vec![
                Spec::new(Brief, RULE_STRENGTH, PHASE_FOLLOW_UP).stage(&best0)
            ]);
            let read_at = ready_week.saturating_sub(w0).max(2) as usize;
            seq.resize(read_at, Vec::new());
            seq.push(vec![
                Spec::new(Check, RULE_WAIT, PHASE_READ).follows(w0, Check)
            ]);
        }
        Standing::Hold(true) => {
            seq.push(vec![Spec::new(Check, RULE_LET_TEST_RUN, PHASE_WAIT)]);
            seq.push(vec![
                Spec::new(Check, RULE_LET_TEST_RUN, PHASE_READ).follows(w0, Check)
            ]);
        }
        Standing::Hold(false) => {}
        Standing::Handoff => {
            seq.push(vec![
                Spec::new(Check, RULE_FIX_HANDOFF, PHASE_ACT).stage("visit"),
                Spec::new(Email, RULE_FIX_HANDOFF, PHASE_ACT).stage("visit"),
            ]);
            seq.push(vec![Spec::new(Check, RULE_FIX_HANDOFF, PHASE_MEASURE)
                .stage("visit")
                .follows(w0, Check)]);
        }
        Standing::Open => {
            // No change to the page while a rate may still be on either side of its band;
            // content on what converts changes nothing on the page.
            seq.push(vec![
                Spec::new(Check, RULE_KEEP_MEASURING, PHASE_WAIT),
                Spec::new(Brief, RULE_STRENGTH, PHASE_FOLLOW_UP).stage(&best0),
            ]);
            seq.push(vec![
                Spec::new(Check, RULE_KEEP_MEASURING, PHASE_READ).follows(w0, Check)
            ]);
        }
        Standing::Steady(_) => {
            seq.push(vec![
                Spec::new(Email, RULE_STRENGTH, PHASE_ACT).stage(&best0),
                Spec::new(Brief, RULE_STRENGTH, PHASE_ACT).stage(&best0),
            ]);
            if let Some(s) = second(&best0) {
                seq.push(vec![Spec::new(Brief, RULE_STRENGTH, PHASE_NEXT).stage(&s)]);
            }
            seq.push(vec![Spec::new(Check, RULE_STRENGTH, PHASE_MEASURE)
                .stage(&best0)
                .follows(w0, Email)]);
        }
    }
    out.extend(seq);
    // The last task: re-plan from the data the sequence produced.
    let rule = out
        .iter()
        .flatten()
        .rev()
        .map(|s| s.rule)
        .find(|r| {
            ![
                RULE_PROMOTE,
                RULE_END_TEST,
                RULE_FIX_SPLIT,
                RULE_LET_TEST_RUN,
            ]
            .contains(r)
        })
        .unwrap_or(RULE_STRENGTH);
    out.push(vec![Spec::new(TaskKind::Check, rule, PHASE_REPLAN)]);
    if let Some(c) = split_check {
        match out.first_mut() {
            Some(w) => w.insert(0, c),
            None => out.push(vec![c]),
        }
    }
    out.resize(weeks as usize, Vec::new());
    out
}

/// Date of a task: the week's first day plus the kind's offset.
pub(crate) fn task_date(start: NaiveDate, week: u32, kind: TaskKind, rule: &str) -> NaiveDate {
    add_days(start, u64::from(week) * 7 + day_offset(kind, rule))
}

/// `d` plus `n` days (saturating at `d`).
pub(crate) fn add_days(d: NaiveDate, n: u64) -> NaiveDate {
    d.checked_add_days(Days::new(n)).unwrap_or(d)
}

/// A short `[a-z0-9-]` slug of a stage or format, for file names.
pub(crate) fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

#[cfg(test)]
mod tests;
