//! The funnel rules on small hand-built tables: one test per trap of a naive GROUP BY count.

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
        variant: None,
        pay: Default::default(),
    }
}

fn e(vid: &str, partner: &str, stage: &str, at: &str) -> Event {
    ev(Some(vid), partner, stage, at)
}

fn range() -> Range {
    Range::from_flags(None, Some(START), Some(END), Some(END)).unwrap()
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
        // The table runs a day later: both journeys are old enough for the lead magnet.
        ev(None, "seo", "visit", "2026-11-23T00:00:00.000Z"),
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

/// A mixed table: UUID and other visitor ids, both timestamp formats, revenue and user ids,
/// unknown partners and events, rows without a visitor, a bot; rows not in time order.
fn mixed_rows(n: usize) -> Vec<Event> {
    let mut rows = Vec::with_capacity(n);
    let mut i = 0usize;
    while rows.len() < n {
        let vid = if i % 3 == 0 {
            format!("visitor-{i}")
        } else {
            format!(
                "{:08x}-{:04x}-4abc-8def-{:012x}",
                i * 2_654_435_761 % (1 << 32),
                i % 65536,
                i
            )
        };
        let day = 17 + i % 7;
        let partner = ["seo", "agency", "seo", "gone", "agency"][i % 5];
        let campaign = ["default", "webinar", "jan"][i % 3];
        let at = |h: usize, sqlite: bool| {
            if sqlite {
                format!("2026-11-{day} {h:02}:00:00")
            } else {
                format!("2026-11-{day}T{h:02}:00:00.{:03}Z", i % 1000)
            }
        };
        let mut push = |stage: &str, created_at: String, value: Option<f64>, user: Option<&str>| {
            rows.push(Event {
                id: format!("r{}", rows.len()),
                partner_code: partner.into(),
                campaign: campaign.into(),
                event_name: stage.into(),
                page_path: "/".into(),
                visitor_id: (i % 17 != 0).then(|| vid.clone()),
                created_at,
                value,
                user_id: user.map(str::to_string),
                variant: None,
                pay: Default::default(),
            })
        };
        // Out of order: the lead magnet row comes first.
        if i % 4 == 0 {
            push("lead_magnet", at(11, i % 5 == 0), None, None);
        }
        push("click", at(9, false), None, None);
        push("visit", at(10, i % 5 == 0), None, None);
        if i % 6 == 0 {
            push(
                "activation",
                at(12, false),
                None,
                Some(&format!("acct-{i}")),
            );
            push("revenue", at(13, false), Some((i % 97) as f64 + 0.25), None);
        }
        if i % 13 == 0 {
            push("scroll", at(14, false), None, None);
        }
        if i == 40 {
            for k in 0..120 {
                push(
                    "visit",
                    format!("2026-11-20T10:{:02}:{:02}.000Z", k / 60, k % 60),
                    None,
                    None,
                );
            }
        }
        i += 1;
    }
    rows
}

fn write_sqlite(path: &std::path::Path, rows: &[Event]) {
    let mut conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(crate::events::SCHEMA_SQL).unwrap();
    conn.execute_batch(crate::events::EXTRA_COLUMNS_SQL)
        .unwrap();
    let tx = conn.transaction().unwrap();
    {
        let mut st = tx.prepare(&crate::events::insert_sql("INSERT")).unwrap();
        for e in rows {
            st.execute(&crate::events::insert_params(&e.as_row())[..])
                .unwrap();
        }
    }
    tx.commit().unwrap();
}

#[test]
fn split_and_spilled_sqlite_scan_gives_the_in_memory_report() {
    let rows = mixed_rows(crate::events::SPLIT_MIN_ROWS as usize + 5_000);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("events.db");
    write_sqlite(&db, &rows);
    let memory = Source::Memory(rows);
    let sqlite = Source::Sqlite(db);
    let plain = FunnelConfig {
        scan_parts: 1,
        ..Default::default()
    };
    // Three readers, each with a few KB before its rows go to a temporary file.
    let split = FunnelConfig {
        scan_parts: 3,
        memory_budget: 48 << 10,
        ..Default::default()
    };
    let json = |src: &Source, cfg: &FunnelConfig| {
        let mut r = serde_json::to_value(compute(src, &PARTNERS, cfg, range()).unwrap()).unwrap();
        r["source"] = serde_json::Value::Null;
        r
    };
    let want = json(&memory, &plain);
    assert!(
        want["partners"][1]["figures"]["counts"]["visitors"]
            .as_u64()
            .unwrap()
            > 1000
    );
    assert_eq!(want["excluded"]["bot_visitors"], 1);
    assert_eq!(json(&sqlite, &split), want);
    assert_eq!(json(&sqlite, &plain), want);
    let j =
        |src: &Source, cfg: &FunnelConfig| journeys(src, &PARTNERS, cfg, range()).unwrap().journeys;
    let want = j(&memory, &plain);
    assert!(want
        .iter()
        .any(|j| j.user_id.is_some() && j.visitor_id.contains('-')));
    assert!(want.iter().any(|j| j.visitor_id.starts_with("visitor-")));
    assert_eq!(j(&sqlite, &split), want);
}

#[test]
fn a_stage_waits_until_its_journeys_are_old_enough() {
    // 120 visitors on 2026-11-18, every one downloading; the table ends the next morning.
    let mut rows = Vec::new();
    for i in 0..120 {
        let v = format!("v{i}");
        rows.push(e(&v, "seo", "visit", "2026-11-18T10:00:00.000Z"));
        rows.push(e(&v, "seo", "lead_magnet", "2026-11-18T10:01:00.000Z"));
    }
    rows.push(ev(None, "seo", "visit", "2026-11-19T08:00:00.000Z"));
    let r = report(rows.clone());
    let lm = r.partner("seo").unwrap().figures.rates.lead_magnet;
    assert_eq!(lm.verdict, Verdict::TooEarly);
    assert_eq!(lm.proportion.of, 0);
    assert_eq!(lm.ready.unwrap().to_string(), "2026-11-19T10:00:00.000Z");
    assert_eq!(r.partner("seo").unwrap().action.rule, "too_early");
    assert!(r
        .partner("seo")
        .unwrap()
        .action
        .action
        .contains("2026-11-19"));
    // A day later in the table, the same cohort is judged (and is far above its band).
    rows.push(ev(None, "seo", "visit", "2026-11-21T08:00:00.000Z"));
    let r = report(rows);
    let lm = r.partner("seo").unwrap().figures.rates.lead_magnet;
    assert_eq!(
        (lm.verdict, lm.proportion.of, lm.ready),
        (Verdict::Above, 120, None)
    );
    assert_eq!(r.partner("seo").unwrap().action.rule, "above_band");
}

/// `n` visitors of `partner` who click on `day` (2026-11-DD) at `hour`, visiting when `visit`.
fn clickers(partner: &str, day: u32, n: u32, visit: bool) -> Vec<Event> {
    let mut out = Vec::new();
    for k in 0..n {
        let vid = format!("{partner}-{day}-{k}");
        let at = |m: u32| format!("2026-11-{day:02}T10:{m:02}:{:02}.000Z", k % 60);
        out.push(e(&vid, partner, "click", &at(0)));
        if visit {
            out.push(e(&vid, partner, "visit", &at(1)));
        }
    }
    out
}

#[test]
fn a_beacon_that_stopped_is_named_before_the_traffic_rule_with_its_date_and_figures() {
    // seo: 8 clicks with a visit a day on Nov 17-19, then 8 clicks a day on Nov 20-23 and no
    // visit: 24 visitors (under min_visitors), 56 clicks.
    let mut rows = Vec::new();
    for d in 17..=19 {
        rows.extend(clickers("seo", d, 8, true));
    }
    for d in 20..=23 {
        rows.extend(clickers("seo", d, 8, false));
    }
    // agency: a small partner, 3 clicks with a visit a day, and a quiet last day of 2 clicks
    // that did not reach the page: not a stop.
    for d in 17..=22 {
        rows.extend(clickers("agency", d, 3, true));
    }
    rows.extend(clickers("agency", 23, 2, false));
    let source = Source::Memory(rows);
    let r = compute(&source, &PARTNERS, &FunnelConfig::default(), range()).unwrap();
    let seo = &r.partner("seo").unwrap().action;
    assert_eq!(seo.rule, Rule::BeaconStopped, "{seo:?}");
    let stop = seo.handoff.stopped.expect("the stop in the handoff checks");
    assert_eq!(stop.since_date(), "2026-11-20");
    assert_eq!((stop.clicks_after, stop.days_with_clicks), (32, 4));
    assert!(seo.action.contains("since 2026-11-20"), "{}", seo.action);
    assert!(
        seo.because
            .contains("last landing-page event was on 2026-11-19")
            && seo.because.contains("32 clicks on 4 days"),
        "{}",
        seo.because
    );
    assert_eq!(seo.figures["clicks_after_stop"], 32.0);
    let agency = &r.partner("agency").unwrap().action;
    assert_eq!(agency.rule, Rule::InsufficientData, "{agency:?}");
    assert_eq!(agency.handoff.stopped, None);
    // The same decisions from materialised journeys (the path `leads` and library users take).
    let j = journeys(&source, &PARTNERS, &FunnelConfig::default(), range()).unwrap();
    let again = compute_from_journeys(&j, "memory", &PARTNERS, &FunnelConfig::default());
    assert_eq!(&again.partner("seo").unwrap().action, seo);
    assert_eq!(
        again.partner("agency").unwrap().action.rule,
        Rule::InsufficientData
    );
}
