//! The maturity rules tested by simulation: a known true rate and a known delay distribution per
//! stage, many seeds, and weekly reports taken as the data arrives (each report reads only the
//! rows created before its `as_of`).
//!
//! What must hold:
//! - every judged verdict (`below`, `within`, `above`) comes with an interval that covers the
//!   true rate (the share of visitors who reach the stage within its horizon, `p · F(h)`) in at
//!   least 93% of the cases;
//! - a stage's base is exactly the cohort's visitors that are at least the horizon old, counted
//!   here independently from the generated journeys; a cohort with fewer than `min_visitors` of
//!   them never gets a judged verdict.
//!
//! - each verdict word is rarely wrong against the known true rate: `within` (the whole interval
//!   inside the band) is wrong (the truth outside the band) in at most 5% of the verdicts, as are
//!   `below` and `above`; the open words (`leaning_below`, `unclear`, `leaning_above`) say the
//!   question is open, and how often their lean is wrong is printed.
//!
//! Run with `cargo test --lib simulation -- --nocapture` to see the measured coverage and the
//! error rate of every verdict word.

use super::*;
use crate::events::{Event, Ts, MS_PER_DAY};

const SEEDS: u64 = 40;
const WEEKS_OF_TRAFFIC: i64 = 8;
const VISITORS_PER_WEEK: usize = 170;
/// 2026-10-05T00:00:00Z, a Monday.
const T0: i64 = 1_791_158_400_000;
const WEEK: i64 = 7 * MS_PER_DAY;
const HOUR: f64 = 3_600_000.0;

/// One banded stage: the probability a visitor ever reaches it and the mean of its
/// exponential delay after the visit.
struct Truth {
    stage: Stage,
    p: f64,
    mean_delay_hours: f64,
}

const TRUTH: [Truth; 3] = [
    Truth {
        stage: Stage::LeadMagnet,
        p: 0.27,
        mean_delay_hours: 0.5,
    },
    Truth {
        stage: Stage::Cta,
        p: 0.08,
        mean_delay_hours: 48.0,
    },
    Truth {
        stage: Stage::Activation,
        p: 0.03,
        mean_delay_hours: 96.0,
    },
];

/// The rate the report estimates: reached within the horizon, `p · (1 - exp(-h / mean))`.
fn true_rate(t: &Truth, horizon_days: u32) -> f64 {
    t.p * (1.0 - (-(f64::from(horizon_days) * 24.0) / t.mean_delay_hours).exp())
}

fn event(n: &mut u64, vid: &str, stage: &str, at: i64) -> Event {
    *n += 1;
    Event {
        id: format!("e{n}"),
        partner_code: "sim".into(),
        campaign: "default".into(),
        event_name: stage.into(),
        page_path: "/p/sim/".into(),
        visitor_id: Some(vid.into()),
        created_at: Ts(at).to_string(),
        value: None,
        user_id: None,
        variant: None,
        pay: Default::default(),
    }
}

use crate::test_rng::Rng;

/// The table of one seed (every row that will ever exist) and each visitor's journey start.
fn table(seed: u64) -> (Vec<Event>, Vec<i64>) {
    table_with(seed, &TRUTH)
}

/// [`table`] with other true rates.
fn table_with(seed: u64, truth: &[Truth; 3]) -> (Vec<Event>, Vec<i64>) {
    let mut rng = Rng(seed);
    let mut rows = Vec::new();
    let mut starts = Vec::new();
    let mut n = 0;
    let visitors = VISITORS_PER_WEEK * WEEKS_OF_TRAFFIC as usize;
    for v in 0..visitors {
        let vid = format!("s{seed}-v{v}");
        let click = T0 + (rng.unit() * (WEEKS_OF_TRAFFIC * WEEK) as f64) as i64;
        let visit = click + 5_000;
        starts.push(click);
        rows.push(event(&mut n, &vid, "click", click));
        rows.push(event(&mut n, &vid, "visit", visit));
        for t in truth {
            if rng.unit() < t.p {
                let u = rng.unit().max(f64::MIN_POSITIVE);
                let delay = (-t.mean_delay_hours * u.ln() * HOUR) as i64;
                // Past the attribution window the row belongs to no journey: never counted.
                rows.push(event(&mut n, &vid, t.stage.as_str(), visit + delay));
            }
        }
    }
    (rows, starts)
}

#[derive(Default)]
struct Tallies {
    judged: [u64; 3],
    covered: [u64; 3],
    waiting: u64,
}

#[test]
fn mature_verdicts_cover_the_true_rate_and_young_cohorts_wait() {
    let cfg = FunnelConfig {
        scan_parts: 1,
        ..FunnelConfig::default()
    };
    let horizons = [
        cfg.maturity.lead_magnet,
        cfg.maturity.cta,
        cfg.maturity.activation,
    ];
    let min = cfg.bands.min_visitors;
    let mut t = Tallies::default();
    for seed in 0..SEEDS {
        let (rows, starts) = table(seed);
        let source = Source::Memory(rows);
        // A report every Monday from the first week on, and after the traffic stops.
        for week in 1..=WEEKS_OF_TRAFFIC + 2 {
            let as_of = T0 + week * WEEK;
            // The last week, each of the two before it, and the last four weeks together.
            let mut ranges: Vec<(i64, i64)> = (1..=3)
                .map(|k| (as_of - k * WEEK, as_of - (k - 1) * WEEK))
                .collect();
            ranges.push((as_of - 4 * WEEK, as_of));
            for (start, end) in ranges {
                let range = Range::new(Ts(start), Ts(end)).at(Ts(as_of));
                let report = compute(&source, &["sim"], &cfg, range).unwrap();
                let Some(p) = report.partner("sim") else {
                    continue;
                };
                let cohort: Vec<i64> = starts
                    .iter()
                    .copied()
                    // The visit comes 5 s after the click: it must have happened by `as_of`.
                    .filter(|s| *s >= start && *s < end && *s + 5_000 < as_of)
                    .collect();
                assert_eq!(p.figures.counts.visitors, cohort.len() as u64);
                for (k, truth) in TRUTH.iter().enumerate() {
                    let h = i64::from(horizons[k]) * MS_PER_DAY;
                    let rate = p.figures.rates.get(truth.stage).unwrap();
                    // Followed until the newest row (the report's `as_of`), never past `as_of`.
                    let followed = report.as_of.0;
                    assert!(followed <= as_of);
                    let old_enough = cohort.iter().filter(|s| *s + h <= followed).count() as u64;
                    assert_eq!(
                        rate.proportion.of,
                        old_enough,
                        "seed {seed} week {week} {}: the base is the mature visitors",
                        truth.stage.as_str()
                    );
                    if old_enough < min {
                        assert!(
                            !rate.verdict.is_judged(),
                            "seed {seed} week {week} {}: {} mature visitors got {:?}",
                            truth.stage.as_str(),
                            old_enough,
                            rate.verdict
                        );
                        t.waiting += u64::from(rate.verdict == Verdict::TooEarly);
                        continue;
                    }
                    assert!(rate.verdict.is_judged());
                    let truth_rate = true_rate(truth, horizons[k]);
                    t.judged[k] += 1;
                    let p = &rate.proportion;
                    t.covered[k] += u64::from(p.low <= truth_rate && truth_rate <= p.high);
                }
            }
        }
    }
    let mut all = (0, 0);
    for (k, truth) in TRUTH.iter().enumerate() {
        let cov = t.covered[k] as f64 / t.judged[k] as f64;
        println!(
            "{:<12} true rate {:.4} (horizon {} days): {} judged verdicts, interval covers the truth in {:.1}%",
            truth.stage.as_str(),
            true_rate(truth, horizons[k]),
            horizons[k],
            t.judged[k],
            cov * 100.0
        );
        assert!(t.judged[k] > 300, "too few judged verdicts to measure");
        assert!(cov >= 0.90, "{}: coverage {cov}", truth.stage.as_str());
        all.0 += t.covered[k];
        all.1 += t.judged[k];
    }
    let cov = all.0 as f64 / all.1 as f64;
    println!(
        "all stages: {} judged verdicts over {SEEDS} seeds, coverage {:.1}%; {} too_early verdicts",
        all.1,
        cov * 100.0,
        t.waiting
    );
    assert!(cov >= 0.93, "coverage {cov} under 93%");
    assert!(t.waiting > 0, "the simulation never met a young cohort");
}

/// The true rates the verdict-word test cycles through: below, on the edges of, inside and
/// above each band (lead magnet 20–35%, CTA 5–12%, activation 1–3%).
const LM: [f64; 7] = [0.12, 0.19, 0.22, 0.27, 0.33, 0.37, 0.48];
const CTA: [f64; 6] = [0.025, 0.048, 0.07, 0.09, 0.125, 0.2];
const ACT: [f64; 6] = [0.004, 0.011, 0.02, 0.029, 0.034, 0.06];

#[test]
fn each_verdict_word_is_rarely_wrong_against_the_truth() {
    let cfg = FunnelConfig {
        scan_parts: 1,
        ..FunnelConfig::default()
    };
    let horizons = [
        cfg.maturity.lead_magnet,
        cfg.maturity.cta,
        cfg.maturity.activation,
    ];
    let bands = [cfg.bands.lead_magnet, cfg.bands.cta, cfg.bands.activation];
    // Per verdict word: (verdicts, wrong against the truth).
    let mut words: std::collections::BTreeMap<&str, (u64, u64)> = Default::default();
    for seed in 0..60u64 {
        let k = seed as usize;
        let truth = [
            Truth {
                stage: Stage::LeadMagnet,
                p: LM[k % LM.len()],
                mean_delay_hours: 0.5,
            },
            Truth {
                stage: Stage::Cta,
                p: CTA[(k / 2) % CTA.len()],
                mean_delay_hours: 12.0,
            },
            Truth {
                stage: Stage::Activation,
                p: ACT[(k / 3) % ACT.len()],
                mean_delay_hours: 24.0,
            },
        ];
        let (rows, _) = table_with(1000 + seed, &truth);
        let source = Source::Memory(rows);
        for week in [4, 6, 8, 10] {
            let as_of = T0 + week * WEEK;
            let range = Range::new(Ts(as_of - 4 * WEEK), Ts(as_of)).at(Ts(as_of));
            let report = compute(&source, &["sim"], &cfg, range).unwrap();
            let Some(p) = report.partner("sim") else {
                continue;
            };
            for (i, t) in truth.iter().enumerate() {
                let rate = p.figures.rates.get(t.stage).unwrap();
                if !rate.verdict.is_judged() {
                    continue;
                }
                let truth_rate = true_rate(t, horizons[i]);
                let (lo, hi) = (bands[i].low, bands[i].high);
                let wrong = match rate.verdict {
                    Verdict::Below | Verdict::LeaningBelow => truth_rate >= lo,
                    Verdict::Above | Verdict::LeaningAbove => truth_rate <= hi,
                    _ => truth_rate < lo || truth_rate > hi,
                };
                let e = words.entry(rate.verdict.as_str()).or_default();
                e.0 += 1;
                e.1 += u64::from(wrong);
            }
        }
    }
    for (word, (n, wrong)) in &words {
        println!(
            "{word:<14} {n:>5} verdicts, wrong against the truth in {:.1}%",
            *wrong as f64 * 100.0 / *n as f64
        );
    }
    for word in [
        "below",
        "within",
        "above",
        "leaning_below",
        "unclear",
        "leaning_above",
    ] {
        assert!(
            words.get(word).is_some_and(|w| w.0 >= 30),
            "too few `{word}` verdicts: {words:?}"
        );
    }
    for word in ["below", "within", "above"] {
        let (n, wrong) = words[word];
        assert!(
            wrong as f64 <= 0.05 * n as f64,
            "`{word}` wrong in {wrong} of {n} verdicts"
        );
    }
}
