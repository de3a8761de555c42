//! The funnel rules on small hand-built tables: one test per trap of the seed's SQL.

use super::*;
use crate::events::Event;

const START: &str = "2026-11-17T00:00:00.000Z";
const END: &str = "2026-11-24T00:00:00.000Z";

fn ev(vid: Option<&str>, partner: &str, stage: &str, at: &str) -> Event {
    Event {
        id: format!("{}-{partner}-{stage}-{at}", vid.unwrap_or("-")),
        partner_code: partner.into(),
        campaign: "default".into(),
        event_name: stage.into(),
        page_path: "/".into(),
        visitor_id: vid.map(str::to_string),
        created_at: at.into(),
        value: None,
        user_id: None,
    }
}

fn e(vid: &str, partner: &str, stage: &str, at: &str) -> Event {
    ev(Some(vid), partner, stage, at)
}

fn range() -> Range {
    Range::from_flags(None, Some(START), Some(END), None).unwrap()
}

const PARTNERS: [&str; 2] = ["agency", "seo"];

fn report(rows: Vec<Event>) -> FunnelReport {
    report_with(rows, FunnelConfig::default())
}

fn report_with(rows: Vec<Event>, cfg: FunnelConfig) -> FunnelReport {
    compute(&Source::Memory(rows), &PARTNERS, &cfg, range()).unwrap()
}

fn counts(r: &FunnelReport, code: &str) -> Counts {
    r.partner(code).unwrap().figures.counts
}

#[test]
fn repeat_visits_count_one_visitor() {
    let r = report(vec![
        e("v1", "seo", "visit", "2026-11-18T10:00:00.000Z"),
        e("v1", "seo", "visit", "2026-11-18T10:01:00.000Z"),
        e("v1", "seo", "visit", "2026-11-19T08:00:00.000Z"),
        e("v1", "seo", "lead_magnet", "2026-11-18T10:02:00.000Z"),
        e("v1", "seo", "lead_magnet", "2026-11-18T10:03:00.000Z"),
        e("v2", "seo", "visit", "2026-11-18T11:00:00.000Z"),
    ]);
    let c = counts(&r, "seo");
    assert_eq!((c.visitors, c.lead_magnet, c.journeys), (2, 1, 2));
    assert_eq!(
        r.partner("seo")
            .unwrap()
            .figures
            .rates
            .lead_magnet
            .proportion
            .rate,
        Some(0.5)
    );
}

#[test]
fn a_stage_before_the_first_visit_does_not_count() {
    let r = report(vec![
        e("v1", "seo", "click", "2026-11-18T10:00:00.000Z"),
        e("v1", "seo", "activation", "2026-11-18T10:00:01.000Z"),
        e("v1", "seo", "cta", "2026-11-18T10:00:02.000Z"),
        e("v1", "seo", "visit", "2026-11-18T10:00:03.000Z"),
        e("v1", "seo", "lead_magnet", "2026-11-18T10:00:04.000Z"),
    ]);
    let c = counts(&r, "seo");
    assert_eq!(
        (c.clicks, c.visitors, c.lead_magnet, c.cta, c.activation),
        (1, 1, 1, 0, 0)
    );
}

#[test]
fn a_later_stage_counts_without_the_ones_in_between() {
    let r = report(vec![
        e("v1", "seo", "visit", "2026-11-18T10:00:00.000Z"),
        e("v1", "seo", "cta", "2026-11-18T10:05:00.000Z"),
    ]);
    let c = counts(&r, "seo");
    assert_eq!((c.lead_magnet, c.cta, c.lead_magnet_and_cta), (0, 1, 0));
}

#[test]
fn first_touch_wins_when_two_partners_touch_one_visitor() {
    let r = report(vec![
        e("v1", "seo", "click", "2026-11-18T10:00:00.000Z"),
        e("v1", "seo", "visit", "2026-11-18T10:00:01.000Z"),
        e("v1", "agency", "click", "2026-11-19T10:00:00.000Z"),
        e("v1", "agency", "visit", "2026-11-19T10:00:01.000Z"),
        e("v1", "agency", "cta", "2026-11-19T10:02:00.000Z"),
    ]);
    let seo = counts(&r, "seo");
    let agency = counts(&r, "agency");
    assert_eq!((seo.visitors, seo.cta, seo.journeys), (1, 1, 1));
    assert_eq!((agency.clicks, agency.visitors, agency.journeys), (0, 0, 0));
}

#[test]
fn after_the_window_the_next_touch_starts_a_new_journey() {
    let cfg = FunnelConfig {
        window_days: 2,
        ..Default::default()
    };
    let rows = vec![
        e("v1", "seo", "visit", "2026-11-17T10:00:00.000Z"),
        // 2.5 days later: seo's journey has expired; this row has no journey.
        e("v1", "seo", "activation", "2026-11-19T22:00:00.000Z"),
        e("v1", "agency", "visit", "2026-11-20T10:00:00.000Z"),
        e("v1", "agency", "lead_magnet", "2026-11-20T10:01:00.000Z"),
    ];
    let r = report_with(rows.clone(), cfg.clone());
    assert_eq!(counts(&r, "seo").visitors, 1);
    assert_eq!(counts(&r, "seo").activation, 0);
    assert_eq!(counts(&r, "agency").visitors, 1);
    assert_eq!(counts(&r, "agency").lead_magnet, 1);
    assert_eq!(r.excluded.unattributed_rows, 1);
    let j = journeys(&Source::Memory(rows), &PARTNERS, &cfg, range()).unwrap();
    assert_eq!(j.journeys.len(), 2);
    assert_eq!(
        j.journeys[0].counted_until.to_string(),
        "2026-11-19T10:00:00.000Z"
    );
}

#[test]
fn a_journey_active_before_the_range_owns_touches_in_it() {
    // Started 5 days before the range: the visit inside the range belongs to it, so the
    // range has no journey of this visitor (it is not counted twice across weeks).
    let r = report(vec![
        e("v1", "seo", "visit", "2026-11-12T10:00:00.000Z"),
        e("v1", "agency", "visit", "2026-11-18T10:00:00.000Z"),
    ]);
    assert_eq!(counts(&r, "seo").visitors, 0);
    assert_eq!(counts(&r, "agency").visitors, 0);
}

#[test]
fn two_journeys_with_one_partner_count_one_visitor_with_the_first() {
    let cfg = FunnelConfig {
        window_days: 1,
        ..Default::default()
    };
    let r = report_with(
        vec![
            e("v1", "seo", "visit", "2026-11-17T10:00:00.000Z"),
            e("v1", "seo", "visit", "2026-11-20T10:00:00.000Z"),
            e("v1", "seo", "lead_magnet", "2026-11-20T10:01:00.000Z"),
        ],
        cfg,
    );
    let c = counts(&r, "seo");
    assert_eq!((c.journeys, c.visitors, c.lead_magnet), (2, 1, 0));
}

#[test]
fn rows_without_visitor_id_are_counted_apart() {
    let r = report(vec![
        ev(None, "seo", "visit", "2026-11-18T10:00:00.000Z"),
        ev(None, "seo", "lead_magnet", "2026-11-18T10:00:00.000Z"),
        e("v1", "seo", "visit", "2026-11-18T10:00:00.000Z"),
    ]);
    assert_eq!(counts(&r, "seo").visitors, 1);
    assert_eq!(r.excluded.no_visitor_rows.get("seo"), Some(&2));
}

#[test]
fn unknown_partner_codes_are_counted_apart() {
    let r = report(vec![
        e("v1", "old-partner", "click", "2026-11-18T10:00:00.000Z"),
        e("v1", "old-partner", "visit", "2026-11-18T10:00:01.000Z"),
        e("v1", "seo", "lead_magnet", "2026-11-18T10:00:02.000Z"),
        e("v2", "seo", "visit", "2026-11-18T10:00:00.000Z"),
    ]);
    assert_eq!(r.excluded.unknown_partner_rows.get("old-partner"), Some(&2));
    assert_eq!(counts(&r, "seo").visitors, 1);
    assert_eq!(counts(&r, "seo").lead_magnet, 0);
    assert!(r.partner("old-partner").is_none());
}

#[test]
fn both_timestamp_formats_are_ordered_by_time_not_text() {
    // As text, "2026-11-18 10:30:00" sorts before "2026-11-18T10:00:00.000Z"; in time it is
    // after, so the download counts.
    let r = report(vec![
        e("v1", "seo", "visit", "2026-11-18T10:00:00.000Z"),
        e("v1", "seo", "lead_magnet", "2026-11-18 10:30:00"),
        e("v2", "seo", "visit", "2026-11-18 11:00:00"),
        e("v2", "seo", "lead_magnet", "2026-11-18T10:59:59.999Z"),
    ]);
    let c = counts(&r, "seo");
    assert_eq!((c.visitors, c.lead_magnet), (2, 1));
}

#[test]
fn the_range_includes_its_start_and_excludes_its_end() {
    let r = report(vec![
        e("at-start", "seo", "visit", "2026-11-17 00:00:00"),
        e("before", "seo", "visit", "2026-11-16T23:59:59.999Z"),
        e("last-ms", "seo", "visit", "2026-11-23T23:59:59.999Z"),
        e("at-end", "seo", "visit", "2026-11-24T00:00:00.000Z"),
        // The cohort counts rows up to the end of the range only.
        e("at-start", "seo", "activation", "2026-11-24 00:00:00"),
    ]);
    let c = counts(&r, "seo");
    assert_eq!((c.visitors, c.activation), (2, 0));
}

#[test]
fn bots_with_more_rows_than_the_limit_are_excluded_and_counted() {
    let cfg = FunnelConfig {
        bot_max_events: 5,
        ..Default::default()
    };
    let mut rows = Vec::new();
    for i in 0..6 {
        rows.push(e(
            "bot",
            "seo",
            "visit",
            &format!("2026-11-18T10:00:0{i}.000Z"),
        ));
    }
    for i in 0..5 {
        rows.push(e(
            "human",
            "seo",
            "visit",
            &format!("2026-11-18T10:00:0{i}.000Z"),
        ));
    }
    let r = report_with(rows, cfg);
    assert_eq!(counts(&r, "seo").visitors, 1);
    assert_eq!((r.excluded.bot_visitors, r.excluded.bot_rows), (1, 6));
}

#[test]
fn revenue_and_user_id_stay_with_the_journey() {
    let mut rev = e("v1", "seo", "revenue", "2026-11-19T10:00:00.000Z");
    rev.value = Some(49.5);
    rev.user_id = Some("acct-7".into());
    let rows = vec![e("v1", "seo", "visit", "2026-11-18T10:00:00.000Z"), rev];
    let j = journeys(
        &Source::Memory(rows.clone()),
        &PARTNERS,
        &FunnelConfig::default(),
        range(),
    )
    .unwrap();
    assert_eq!(j.journeys[0].user_id.as_deref(), Some("acct-7"));
    assert_eq!(j.journeys[0].revenue, 49.5);
    let c = counts(&report(rows), "seo");
    assert_eq!((c.revenue_journeys, c.revenue), (1, 49.5));
}

#[test]
fn counting_known_journeys_gives_the_same_report() {
    let rows = vec![
        e("v1", "seo", "click", "2026-11-18T10:00:00.000Z"),
        e("v1", "seo", "visit", "2026-11-18T10:00:01.000Z"),
        e("v2", "agency", "visit", "2026-11-18T10:00:01.000Z"),
        e("v2", "agency", "cta", "2026-11-18T10:00:05.000Z"),
        e("v3", "seo", "click", "2026-11-18T10:00:01.000Z"),
    ];
    let src = Source::Memory(rows);
    let cfg = FunnelConfig::default();
    let direct = compute(&src, &PARTNERS, &cfg, range()).unwrap();
    let j = journeys(&src, &PARTNERS, &cfg, range()).unwrap();
    let again = compute_from_journeys(&j, &src.describe(), &PARTNERS, &cfg);
    assert_eq!(
        serde_json::to_string(&direct).unwrap(),
        serde_json::to_string(&again).unwrap()
    );
    assert_eq!(counts(&direct, "seo").clicks, 2);
    assert_eq!(counts(&direct, "seo").clicks_with_visit, 1);
}

#[test]
fn many_rows_spill_to_buckets_and_give_the_same_counts() {
    // A tiny memory budget forces the buckets to temporary files.
    let n = 30_000usize;
    let mut rows = Vec::with_capacity(n);
    let mut expected_lm = 0;
    for i in 0..n / 3 {
        let v = format!("visitor-{i:08}");
        let day = 17 + (i % 7);
        rows.push(e(
            &v,
            "seo",
            "click",
            &format!("2026-11-{day}T10:00:00.000Z"),
        ));
        rows.push(e(
            &v,
            "seo",
            "visit",
            &format!("2026-11-{day}T10:00:01.000Z"),
        ));
        if i % 4 == 0 {
            expected_lm += 1;
            rows.push(e(
                &v,
                "seo",
                "lead_magnet",
                &format!("2026-11-{day} 10:00:02"),
            ));
        } else {
            rows.push(e(&v, "agency", "cta", &format!("2026-11-{day} 10:00:02")));
        }
    }
    let cfg = FunnelConfig {
        memory_budget: 64 << 10,
        ..Default::default()
    };
    let c = counts(&report_with(rows.clone(), cfg), "seo");
    assert_eq!(c, counts(&report(rows), "seo"));
    assert_eq!(
        (c.visitors, c.lead_magnet, c.cta),
        ((n / 3) as u64, expected_lm, (n / 3) as u64 - expected_lm)
    );
}
