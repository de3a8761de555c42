use super::*;
use crate::calendar::{CampaignFigures, StageFigures};

fn stage(name: &str, count: u64, visitors: u64, band: (f64, f64)) -> StageFigures {
    let (low, high) = crate::calendar::tests_support::wilson(count, visitors);
    let verdict = if high < band.0 {
        "below"
    } else if low > band.1 {
        "above"
    } else {
        "within"
    };
    StageFigures {
        stage: name.into(),
        label: crate::calendar::stage_label(name).into(),
        count,
        of: visitors,
        rate: count as f64 / visitors as f64,
        low,
        high,
        verdict: verdict.into(),
        band_low: band.0,
        band_high: band.1,
        ..Default::default()
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
        experiment: None,
    }
}

fn start() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
}

fn kinds(s: &Schedule) -> Vec<Vec<(TaskKind, &'static str)>> {
    s.iter()
        .map(|w| w.iter().map(|t| (t.kind, t.phase)).collect())
        .collect()
}

#[test]
fn many_visits_few_downloads_fixes_the_lead_magnet_step_first() {
    let f = partner(300, 2, 3, 3, "many_clicks_weak_lead_magnet");
    assert_eq!(
        standing(&f),
        Standing::Fix(vec!["lead_magnet".into(), "cta".into()])
    );
}

#[test]
fn the_step_the_action_names_comes_first_then_the_other_weak_steps() {
    let f = partner(300, 90, 2, 0, "weak_activation");
    assert_eq!(
        standing(&f),
        Standing::Fix(vec!["activation".into(), "cta".into()])
    );
}

#[test]
fn few_visits_many_activations_gets_co_marketing() {
    let f = partner(40, 12, 6, 9, "few_visits_strong_activation");
    assert_eq!(standing(&f), Standing::CoMarketing);
}

#[test]
fn a_partner_without_visitors_gets_a_launch_not_an_ask() {
    let f = partner(0, 0, 0, 0, "insufficient_data");
    assert_eq!(standing(&f), Standing::Launch);
    let f = partner(40, 8, 2, 0, "insufficient_data");
    assert_eq!(standing(&f), Standing::Collect);
}

#[test]
fn too_little_traffic_gets_one_ask_across_the_weeks() {
    for st in [Standing::Collect, Standing::Launch] {
        let s = schedule(&st, None, &[], start(), 8, None, false);
        let emails = s.iter().flatten().filter(|t| t.kind == TaskKind::Email);
        assert_eq!(emails.count(), 1, "{st:?}: {s:?}");
        assert!(s.iter().flatten().all(|t| t.kind != TaskKind::Proposal));
        assert!(s[..4].iter().all(|w| !w.is_empty()), "{s:?}");
    }
}

#[test]
fn a_partner_asked_by_an_earlier_run_is_not_asked_again() {
    let s = schedule(&Standing::Collect, None, &[], start(), 4, None, true);
    assert!(
        s.iter().flatten().all(|t| t.kind != TaskKind::Email),
        "{s:?}"
    );
    assert_eq!(s[0][0].phase, PHASE_MEASURE);
    assert!(s[0][0].follows_prior);
}

#[test]
fn a_young_cohort_waits_with_no_proposal() {
    let mut f = partner(300, 80, 2, 0, "too_early");
    f.stages[2].verdict = "too_early".into();
    f.stages[2].ready = Some("2026-12-08".into());
    let st = standing(&f);
    assert_eq!(st, Standing::TooEarly(NaiveDate::from_ymd_opt(2026, 12, 8)));
    let s = schedule(&st, None, &best_first(&f), start(), 4, None, false);
    assert_eq!(s[0][0].phase, PHASE_WAIT);
    assert!(s.iter().flatten().all(|t| t.kind != TaskKind::Proposal));
    assert!(s.iter().all(|w| !w.is_empty()));
    use TaskKind::*;
    assert_eq!(
        kinds(&s),
        vec![
            vec![(Check, "wait"), (Email, "follow-up")],
            vec![(Brief, "follow-up")],
            vec![(Check, "read")],
            vec![(Check, "replan")],
        ]
    );
    // Ready in five weeks: the verdict is read in that week, not before.
    let late = Standing::TooEarly(NaiveDate::from_ymd_opt(2027, 1, 4));
    let s = schedule(&late, None, &best_first(&f), start(), 7, None, false);
    assert_eq!(s[5][0].phase, PHASE_READ, "{s:?}");
    assert!(s[2].is_empty() && s[4].is_empty());
    // Ready before the plan's first email: no progress note promising a past date.
    let soon = Standing::TooEarly(NaiveDate::from_ymd_opt(2026, 12, 1));
    let s = schedule(&soon, None, &best_first(&f), start(), 3, None, false);
    assert_eq!(kinds(&s)[0], vec![(Check, "wait")]);
}

#[test]
fn a_fix_is_measured_before_the_next_step_and_four_weeks_differ() {
    let f = partner(300, 2, 3, 3, "many_clicks_weak_lead_magnet");
    let s = schedule(
        &standing(&f),
        None,
        &best_first(&f),
        start(),
        4,
        None,
        false,
    );
    use TaskKind::*;
    assert_eq!(
        kinds(&s),
        vec![
            vec![(Proposal, "act"), (Email, "act"), (Brief, "act")],
            vec![(Check, "measure")],
            vec![
                (Proposal, "next-step"),
                (Email, "follow-up"),
                (Brief, "next-step")
            ],
            vec![(Check, "measure")],
        ]
    );
    assert_eq!(s[0][0].target_stage.as_deref(), Some("lead_magnet"));
    assert_eq!(s[1][0].target_stage.as_deref(), Some("lead_magnet"));
    assert_eq!(s[1][0].follows, Some((0, Proposal)));
    assert_eq!(s[2][0].target_stage.as_deref(), Some("cta"));
    assert_eq!(s[3][0].follows, Some((2, Proposal)));
}

#[test]
fn one_weak_step_still_fills_four_different_weeks() {
    let f = partner(300, 2, 30, 6, "many_clicks_weak_lead_magnet");
    let s = schedule(
        &standing(&f),
        None,
        &best_first(&f),
        start(),
        6,
        None,
        false,
    );
    use TaskKind::*;
    assert_eq!(
        kinds(&s),
        vec![
            vec![(Proposal, "act"), (Email, "act"), (Brief, "act")],
            vec![(Check, "measure")],
            vec![(Email, "follow-up"), (Brief, "follow-up")],
            vec![(Check, "replan")],
            vec![],
            vec![],
        ]
    );
}

#[test]
fn a_change_an_earlier_run_made_is_measured_before_anything_else_changes() {
    let f = partner(300, 2, 3, 3, "many_clicks_weak_lead_magnet");
    let s = schedule(
        &standing(&f),
        None,
        &best_first(&f),
        start(),
        3,
        Some("lead_magnet"),
        false,
    );
    use TaskKind::*;
    assert_eq!(
        kinds(&s),
        vec![
            vec![(Check, "measure")],
            vec![(Proposal, "act"), (Email, "act"), (Brief, "act")],
            vec![(Check, "measure")],
        ]
    );
    assert!(s[0][0].follows_prior);
    assert_eq!(s[1][0].target_stage.as_deref(), Some("cta"));
}

#[test]
fn a_winner_is_promoted_first_and_the_rest_follows_a_week_later() {
    let f = partner(300, 2, 10, 3, "many_clicks_weak_lead_magnet");
    let x = ExperimentFigures {
        verdict: "winner".into(),
        winner: Some("speed".into()),
        stage: "lead_magnet".into(),
        ..Default::default()
    };
    let s = schedule(
        &standing(&f),
        Some(&x),
        &best_first(&f),
        start(),
        3,
        None,
        false,
    );
    assert_eq!(s[0][0].rule, RULE_PROMOTE);
    assert_eq!(s[0][0].kind, TaskKind::Proposal);
    assert_eq!(s[1][0].rule, RULE_FIX);
    assert_eq!(s[1][0].phase, PHASE_ACT);
    let split = ExperimentFigures {
        verdict: "invalid_split".into(),
        ..Default::default()
    };
    let s = schedule(
        &standing(&f),
        Some(&split),
        &best_first(&f),
        start(),
        1,
        None,
        false,
    );
    assert_eq!(s[0][0].rule, RULE_FIX_SPLIT);
    assert_eq!(s[0][0].kind, TaskKind::Check);
    assert!(s[0].iter().any(|t| t.rule == RULE_FIX));
    let none = ExperimentFigures {
        verdict: "no_difference_yet".into(),
        ..Default::default()
    };
    let s = schedule(
        &standing(&f),
        Some(&none),
        &best_first(&f),
        start(),
        1,
        None,
        false,
    );
    assert!(s[0].iter().all(|t| t.rule == RULE_FIX), "{s:?}");
}

#[test]
fn every_funnel_rule_the_calendar_reads_exists() {
    let names: Vec<&str> = crate::funnel::RULES
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    for r in crate::funnel::RULES {
        assert!(RULES.contains(&calendar_rule(r.name)));
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
    let st = standing(&f);
    assert_eq!(
        st,
        Standing::Steady(vec![
            "activation".into(),
            "lead_magnet".into(),
            "cta".into()
        ])
    );
    let s = schedule(&st, None, &best_first(&f), start(), 4, None, false);
    assert!(s.iter().flatten().all(|t| t.kind != TaskKind::Proposal));
    assert_eq!(s[0][1].target_stage.as_deref(), Some("activation"));
    assert_eq!(s[1][0].target_stage.as_deref(), Some("lead_magnet"));
}

#[test]
fn co_marketing_offers_a_guest_post_then_a_webinar() {
    let s = schedule(&Standing::CoMarketing, None, &[], start(), 2, None, false);
    assert_eq!(s[0][0].format, Some("guest-post"));
    assert_eq!(s[1][0].format, Some("webinar"));
    assert_eq!(s[1][0].kind, TaskKind::Proposal);
}

#[test]
fn slugs_are_lowercase_and_dashed() {
    assert_eq!(slug("lead_magnet"), "lead-magnet");
    assert_eq!(slug("  Guest Post!! "), "guest-post");
}
