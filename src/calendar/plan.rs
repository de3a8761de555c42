//! Calendar stage, planning: which three tasks each partner gets each week, and why.
//!
//! Takes: each partner's funnel figures (from [`crate::funnel`]) and the site's bands. Gives:
//! the [`Task`]s of the plan, each naming the allocation rule and the figures behind it.
//!
//! The allocation rules, in the order they are tried for a partner:
//!
//! | rule | when | the week's tasks |
//! |---|---|---|
//! | `co-marketing` | the funnel's action is `few_visits_strong_activation` or `above_band` | a guest-post (odd weeks) or webinar (even weeks) brief, a co-marketing email, a proposal adding a tracked campaign for the slot |
//! | `collect-traffic` | the funnel's action is `insufficient_data` (fewer visitors than `bands.min_visitors`) | one email asking the partner for more traffic; no brief, no landing change |
//! | `build-on-strength` | the funnel's action is `within_bands` (keep the page as it is) | a brief on the step that converts best, an email with what converted; no landing change |
//! | `fix-weakest-step` | any other action | a brief answering the objections of the weakest step, an email with what converted, a landing/CTA proposal for that step |
//!
//! A partner's steps are ranked weakest first: the step the funnel's action names, then steps
//! whose whole interval is under the band, then by rate relative to the band's low end. Week 1 works on the weakest step, week 2 on the
//! next one, and so on (cycling), so weak steps get fixes first.

use super::{PartnerFigures, StageFigures, TaskKind};
use chrono::{Days, NaiveDate};

/// Funnel stages that have bands, in funnel order.
pub(crate) const BANDED_STAGES: [&str; 3] = ["lead_magnet", "cta", "activation"];

/// Allocation rule names (they appear in every task and in the docs).
pub(crate) const RULE_CO_MARKETING: &str = "co-marketing";
pub(crate) const RULE_COLLECT: &str = "collect-traffic";
pub(crate) const RULE_FIX: &str = "fix-weakest-step";
pub(crate) const RULE_STRENGTH: &str = "build-on-strength";

/// Day of the week (0 = the week's first day) each kind of task is scheduled on: the landing
/// fix first, then the partner email, then the brief.
pub(crate) fn day_offset(kind: TaskKind) -> u64 {
    match kind {
        TaskKind::Proposal => 0,
        TaskKind::Email => 1,
        TaskKind::Brief => 2,
    }
}

/// Where a partner stands, decided once from its figures.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Standing {
    CoMarketing,
    Collect,
    /// Steps to work on, weakest first.
    Fix(Vec<String>),
    /// Every step within its band: keep the page, write more of what converts (this stage).
    Steady(String),
}

/// Funnel action rules (from [`crate::funnel::RULES`]) that mean "qualified audience, give it
/// more inventory".
pub(crate) const STRENGTH_RULES: [&str; 2] = ["few_visits_strong_activation", "above_band"];
/// The funnel action rule that means "not enough visitors for a verdict".
pub(crate) const INSUFFICIENT_RULE: &str = "insufficient_data";
/// The funnel action rule that means "keep the page as it is".
pub(crate) const WITHIN_RULE: &str = "within_bands";

/// Classify a partner from the funnel's recommended action (the funnel decides; the calendar
/// only turns the decision into weeks of work).
pub(crate) fn standing(f: &PartnerFigures) -> Standing {
    let rule = f.action.rule.as_str();
    if STRENGTH_RULES.contains(&rule) {
        return Standing::CoMarketing;
    }
    if rule == INSUFFICIENT_RULE || f.visitors == 0 {
        return Standing::Collect;
    }
    if rule == WITHIN_RULE {
        let best = best_relative(f).map_or("lead_magnet", |s| s.stage.as_str());
        return Standing::Steady(best.to_string());
    }
    let mut steps = weakest_first(f);
    // The step the action names goes first (e.g. `many_clicks_weak_lead_magnet`).
    if let Some(named) = BANDED_STAGES.iter().find(|s| rule.ends_with(*s)) {
        steps.retain(|s| s != named);
        steps.insert(0, named.to_string());
    }
    Standing::Fix(steps)
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
    best_relative(f).filter(|s| s.rate >= s.band_low)
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
        _ => vec![
            format!("Why do {audience} trust this partner's recommendation?"),
            "What result did people like me get, in numbers?".into(),
        ],
    }
}

/// What the planner decides for one partner in one week, before files are named.
#[derive(Debug, Clone)]
pub(crate) struct WeekPlan {
    pub rule: &'static str,
    pub target_stage: Option<String>,
    /// Co-marketing format of the week (`guest-post` or `webinar`).
    pub format: Option<&'static str>,
    pub kinds: Vec<TaskKind>,
}

/// The plan for `week` (0-based) of a partner with `standing`.
pub(crate) fn week_plan(standing: &Standing, week: u32) -> WeekPlan {
    match standing {
        Standing::CoMarketing => WeekPlan {
            rule: RULE_CO_MARKETING,
            target_stage: Some("activation".into()),
            format: Some(if week % 2 == 0 {
                "guest-post"
            } else {
                "webinar"
            }),
            kinds: vec![TaskKind::Proposal, TaskKind::Email, TaskKind::Brief],
        },
        Standing::Collect => WeekPlan {
            rule: RULE_COLLECT,
            target_stage: Some("visit".into()),
            format: None,
            kinds: vec![TaskKind::Email],
        },
        Standing::Fix(steps) => WeekPlan {
            rule: RULE_FIX,
            target_stage: if steps.is_empty() {
                None
            } else {
                Some(steps[week as usize % steps.len()].clone())
            },
            format: None,
            kinds: vec![TaskKind::Proposal, TaskKind::Email, TaskKind::Brief],
        },
        // The funnel says keep the page: no landing change, content on what works.
        Standing::Steady(stage) => WeekPlan {
            rule: RULE_STRENGTH,
            target_stage: Some(stage.clone()),
            format: None,
            kinds: vec![TaskKind::Email, TaskKind::Brief],
        },
    }
}

/// Date of a task: the week's first day plus the kind's offset.
pub(crate) fn task_date(start: NaiveDate, week: u32, kind: TaskKind) -> NaiveDate {
    start
        .checked_add_days(Days::new(u64::from(week) * 7 + day_offset(kind)))
        .unwrap_or(start)
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
mod tests {
    use super::*;
    use crate::calendar::{CampaignFigures, StageFigures};

    fn stage(name: &str, count: u64, visitors: u64, band: (f64, f64)) -> StageFigures {
        let (low, high) = crate::calendar::tests_support::wilson(count, visitors);
        StageFigures {
            stage: name.into(),
            label: crate::calendar::stage_label(name).into(),
            count,
            rate: count as f64 / visitors as f64,
            low,
            high,
            verdict: String::new(),
            band_low: band.0,
            band_high: band.1,
        }
    }

    fn partner(visitors: u64, lm: u64, cta: u64, act: u64, rule: &str) -> PartnerFigures {
        PartnerFigures {
            code: "p".into(),
            visitors,
            clicks: visitors,
            stages: vec![
                stage("lead_magnet", lm, visitors, (0.20, 0.35)),
                stage("cta", cta, visitors, (0.05, 0.12)),
                stage("activation", act, visitors, (0.01, 0.03)),
            ],
            campaigns: vec![CampaignFigures {
                name: "default".into(),
                visitors,
                lead_magnets: lm,
                activations: act,
            }],
            action: crate::calendar::ActionFigures {
                rule: rule.into(),
                ..Default::default()
            },
        }
    }

    #[test]
    fn many_visits_few_downloads_fixes_the_lead_magnet_step_first() {
        let f = partner(300, 2, 10, 3, "many_clicks_weak_lead_magnet");
        assert_eq!(
            standing(&f),
            Standing::Fix(vec![
                "lead_magnet".into(),
                "cta".into(),
                "activation".into()
            ])
        );
    }

    #[test]
    fn the_step_the_action_names_comes_first() {
        let f = partner(300, 90, 2, 3, "weak_activation");
        assert_eq!(
            standing(&f),
            Standing::Fix(vec![
                "activation".into(),
                "cta".into(),
                "lead_magnet".into()
            ])
        );
    }

    #[test]
    fn few_visits_many_activations_gets_co_marketing() {
        let f = partner(40, 12, 6, 9, "few_visits_strong_activation");
        assert_eq!(standing(&f), Standing::CoMarketing);
    }

    #[test]
    fn few_visits_without_a_clear_signal_collects_traffic() {
        let f = partner(40, 8, 2, 0, "insufficient_data");
        assert_eq!(standing(&f), Standing::Collect);
        let w = week_plan(&Standing::Collect, 0);
        assert_eq!(w.kinds, vec![TaskKind::Email]);
    }

    #[test]
    fn every_funnel_rule_the_calendar_reads_exists() {
        let names: Vec<&str> = crate::funnel::RULES.iter().map(|r| r.name).collect();
        for r in STRENGTH_RULES
            .iter()
            .chain([&INSUFFICIENT_RULE, &WITHIN_RULE])
        {
            assert!(names.contains(r), "{r} is not a funnel rule: {names:?}");
        }
        for s in BANDED_STAGES {
            assert!(
                names.iter().any(|n| n.ends_with(s)),
                "no funnel rule names {s}"
            );
        }
    }

    #[test]
    fn partners_within_every_band_keep_their_page_and_build_on_their_best_step() {
        let f = partner(300, 75, 20, 8, "within_bands");
        assert_eq!(standing(&f), Standing::Steady("activation".into()));
        let w = week_plan(&standing(&f), 0);
        assert_eq!(w.kinds, vec![TaskKind::Email, TaskKind::Brief]);
        assert_eq!(w.rule, RULE_STRENGTH);
    }

    #[test]
    fn weeks_cycle_through_the_weak_steps_in_order() {
        let s = Standing::Fix(vec!["cta".into(), "activation".into()]);
        assert_eq!(week_plan(&s, 0).target_stage.as_deref(), Some("cta"));
        assert_eq!(week_plan(&s, 1).target_stage.as_deref(), Some("activation"));
        assert_eq!(week_plan(&s, 2).target_stage.as_deref(), Some("cta"));
    }

    #[test]
    fn co_marketing_alternates_guest_posts_and_webinars() {
        assert_eq!(
            week_plan(&Standing::CoMarketing, 0).format,
            Some("guest-post")
        );
        assert_eq!(week_plan(&Standing::CoMarketing, 1).format, Some("webinar"));
    }

    #[test]
    fn slugs_are_lowercase_and_dashed() {
        assert_eq!(slug("lead_magnet"), "lead-magnet");
        assert_eq!(slug("  Guest Post!! "), "guest-post");
    }
}
