//! Simulations with a known truth: many seeded runs, a look after every simulated week, the
//! error rates measured. Run `cargo test --lib experiment:: -- --nocapture` to see the figures.

use super::sequential::Arm;
use super::*;

use crate::test_rng::Rng;

struct Scenario {
    /// The variants as declared (weights).
    declared: Vec<f64>,
    /// The split the traffic really follows (shares summing to 1).
    actual: Vec<f64>,
    /// Each variant's true conversion rate.
    rates: Vec<f64>,
    /// The stage's band middle (tunes the mixture, scales the smallest lift).
    base: f64,
    visitors_per_week: u64,
    weeks: usize,
}

/// The verdict at every weekly look, and the weekly looks themselves.
fn run(sc: &Scenario, seed: u64) -> (Vec<StageTest>, Vec<Look>) {
    let mut rng = Rng(seed.wrapping_mul(0xD134_2543_DE82_EF95) ^ 0x5851_F42D_4C95_7F2D);
    let variants: Vec<Variant> = sc
        .declared
        .iter()
        .enumerate()
        .map(|(i, w)| Variant::new(format!("v{i}"), *w))
        .collect();
    let s = Settings::default();
    let mut arms = vec![Arm::default(); variants.len()];
    let mut looks = Vec::new();
    let mut tests = Vec::new();
    for week in 0..sc.weeks {
        for _ in 0..sc.visitors_per_week {
            let v = rng.pick(&sc.actual);
            arms[v].visitors += 1;
            if rng.unit() < sc.rates[v] {
                arms[v].conversions += 1;
            }
        }
        looks.push(Look::new(format!("week {}", week + 1), arms.clone()));
        let split = split_check(&variants, &looks, &s);
        tests.push(judge_stage(&variants, &looks, sc.base, &split, &s));
    }
    (tests, looks)
}

const RUNS: u64 = 300;

struct Tally {
    ever_winner: u64,
    ever_wrong_winner: u64,
    final_winner: u64,
    ever_invalid: u64,
    ever_equivalent: u64,
    all_cover: u64,
    read_looks: u64,
}

/// `truth` is the true `rate(v1) - rate(v0)` (two variants) for the coverage count.
fn simulate(sc: &Scenario, right_winner: Option<&str>) -> Tally {
    let truth = sc.rates.get(1).copied().unwrap_or(0.0) - sc.rates[0];
    let mut t = Tally {
        ever_winner: 0,
        ever_wrong_winner: 0,
        final_winner: 0,
        ever_invalid: 0,
        ever_equivalent: 0,
        all_cover: 0,
        read_looks: 0,
    };
    for seed in 0..RUNS {
        let (tests, _) = run(sc, seed);
        let winners: Vec<&str> = tests
            .iter()
            .filter_map(|x| x.decision.winner.as_deref())
            .collect();
        t.ever_winner += u64::from(!winners.is_empty());
        t.ever_wrong_winner += u64::from(winners.iter().any(|w| Some(*w) != right_winner));
        t.final_winner += u64::from(
            tests.last().and_then(|x| x.decision.winner.as_deref()) == right_winner
                && right_winner.is_some(),
        );
        t.ever_invalid += u64::from(
            tests
                .iter()
                .any(|x| x.decision.verdict == Verdict::InvalidSplit),
        );
        t.ever_equivalent += u64::from(
            tests
                .iter()
                .any(|x| x.decision.verdict == Verdict::StopEquivalent),
        );
        // Time-uniform coverage: every interval of the first pair, at every look, covers.
        let last = tests.last().expect("weeks > 0");
        let read: Vec<&Interval> = last.pairs[0].intervals.iter().flatten().collect();
        t.read_looks += read.len() as u64;
        t.all_cover += u64::from(read.iter().all(|i| i.contains(truth)));
    }
    t
}

fn share(x: u64) -> f64 {
    x as f64 / RUNS as f64
}

fn two(rates: [f64; 2], base: f64, visitors_per_week: u64, weeks: usize) -> Scenario {
    Scenario {
        declared: vec![1.0, 1.0],
        actual: vec![0.5, 0.5],
        rates: rates.to_vec(),
        base,
        visitors_per_week,
        weeks,
    }
}

/// Acceptance 1: two identical variants, a look every week; the share of runs that ever
/// declare a winner stays at most 5%, at the typical rates of the three stages.
#[test]
fn a_a_tests_read_every_week_rarely_declare_a_winner() {
    for (stage, p, per_week) in [
        ("lead_magnet", 0.275, 200),
        ("cta", 0.085, 300),
        ("activation", 0.02, 400),
    ] {
        let sc = two([p, p], p, per_week, 20);
        let t = simulate(&sc, None);
        println!(
            "A/A {stage} p={p} {per_week}/week × 20 weeks, {RUNS} runs: ever a winner {:.1}%, ever invalid_split {:.1}%, ever stop_equivalent {:.1}%, every interval covers 0 in {:.1}% ({:.1} readable looks a run)",
            100.0 * share(t.ever_winner),
            100.0 * share(t.ever_invalid),
            100.0 * share(t.ever_equivalent),
            100.0 * share(t.all_cover),
            t.read_looks as f64 / RUNS as f64,
        );
        assert!(share(t.ever_winner) <= 0.05, "{stage}: {}", t.ever_winner);
        assert!(share(t.all_cover) >= 0.95, "{stage}: {}", t.all_cover);
        assert!(share(t.ever_invalid) <= 0.01, "{stage}: {}", t.ever_invalid);
        assert!(t.read_looks > 0, "{stage}: never readable");
    }
}

/// Three identical variants (three pairs, Bonferroni): still at most 5% ever a winner.
#[test]
fn a_a_a_tests_with_three_variants_rarely_declare_a_winner() {
    let sc = Scenario {
        declared: vec![1.0, 1.0, 1.0],
        actual: vec![1.0 / 3.0; 3],
        rates: vec![0.1; 3],
        base: 0.085,
        visitors_per_week: 450,
        weeks: 16,
    };
    let t = simulate(&sc, None);
    println!(
        "A/A/A cta p=0.1 450/week × 16 weeks, {RUNS} runs: ever a winner {:.1}%, ever invalid_split {:.1}%",
        100.0 * share(t.ever_winner),
        100.0 * share(t.ever_invalid)
    );
    assert!(share(t.ever_winner) <= 0.05);
    assert!(share(t.ever_invalid) <= 0.01);
}

/// Acceptance 2: a known lift; the winner is found, never the wrong one beyond the error
/// rate, and every weekly interval covers the true difference at the nominal 95% or more.
#[test]
fn a_b_tests_find_the_winner_and_cover_the_true_difference() {
    for (stage, pa, pb, base, per_week, min_power) in [
        ("lead_magnet", 0.25, 0.32, 0.275, 300, 0.8),
        ("cta", 0.08, 0.12, 0.085, 400, 0.8),
    ] {
        let sc = two([pa, pb], base, per_week, 16);
        let t = simulate(&sc, Some("v1"));
        println!(
            "A/B {stage} {pa} vs {pb} {per_week}/week × 16 weeks, {RUNS} runs: winner v1 at the end {:.1}%, ever a wrong winner {:.1}%, every interval covers {:+.3} in {:.1}%",
            100.0 * share(t.final_winner),
            100.0 * share(t.ever_wrong_winner),
            pb - pa,
            100.0 * share(t.all_cover),
        );
        assert!(
            share(t.final_winner) >= min_power,
            "{stage}: {}",
            t.final_winner
        );
        assert!(share(t.ever_wrong_winner) <= 0.025, "{stage}");
        assert!(share(t.all_cover) >= 0.95, "{stage}: {}", t.all_cover);
    }
}

/// The control can win too, and a negligible difference ends as `stop_equivalent`.
#[test]
fn the_control_can_win_and_a_tiny_difference_stops_as_equivalent() {
    let sc = two([0.30, 0.22], 0.275, 300, 12);
    let t = simulate(&sc, Some("v0"));
    println!(
        "control better 0.30 vs 0.22: winner v0 at the end {:.1}%",
        100.0 * share(t.final_winner)
    );
    assert!(share(t.final_winner) >= 0.9);

    // A 0.5-point difference on a 27.5% rate, where ±5.5 points matter.
    let sc = two([0.275, 0.28], 0.275, 600, 20);
    let mut equivalent = 0;
    for seed in 0..RUNS {
        let (tests, _) = run(&sc, seed);
        let last = tests.last().expect("weeks");
        equivalent += u64::from(last.decision.verdict == Verdict::StopEquivalent);
    }
    println!(
        "0.275 vs 0.28, 600/week × 20 weeks: stop_equivalent at the end {:.1}%",
        100.0 * share(equivalent)
    );
    assert!(share(equivalent) >= 0.8);
}

/// Acceptance 3: traffic split 55/45 on a declared 50/50 test gets `invalid_split`, whatever
/// the rates say (here a real lift that would otherwise win).
#[test]
fn a_55_45_split_on_a_declared_50_50_is_an_invalid_split() {
    let sc = Scenario {
        declared: vec![1.0, 1.0],
        actual: vec![0.55, 0.45],
        rates: vec![0.25, 0.32],
        base: 0.275,
        visitors_per_week: 300,
        weeks: 16,
    };
    let mut invalid = 0;
    let mut first_week = Vec::new();
    for seed in 0..RUNS {
        let (tests, _) = run(&sc, seed);
        let last = tests.last().expect("weeks");
        if last.decision.verdict == Verdict::InvalidSplit {
            invalid += 1;
            assert_eq!(last.decision.rule, "sample_ratio_mismatch");
            assert!(last.decision.winner.is_none());
        }
        if let Some(w) = tests
            .iter()
            .position(|x| x.decision.verdict == Verdict::InvalidSplit)
        {
            first_week.push(w + 1);
        }
    }
    first_week.sort_unstable();
    let median = first_week.get(first_week.len() / 2).copied().unwrap_or(0);
    println!(
        "55/45 on a declared 50/50, 300/week × 16 weeks, {RUNS} runs: invalid_split at the end {:.1}%, median first week {median}",
        100.0 * share(invalid)
    );
    assert!(share(invalid) >= 0.95, "{invalid}");
}

#[test]
fn decisions_read_well_and_state_their_rule() {
    let v = [Variant::new("control", 1.0), Variant::new("proof", 1.0)];
    let s = Settings::default();
    let early = [Look::new("w1", vec![Arm::new(40, 9), Arm::new(38, 12)])];
    let split = split_check(&v, &early, &s);
    let t = judge_stage(&v, &early, 0.275, &split, &s);
    assert_eq!(t.decision.to_string(), "no_difference_yet");
    assert_eq!(t.decision.rule, "too_early");
    assert!(
        t.decision.because.contains("38 visitors"),
        "{}",
        t.decision.because
    );
    assert_eq!(t.pairs[0].intervals, vec![None]);

    let skewed = [Look::new(
        "w9",
        vec![Arm::new(2200, 500), Arm::new(1800, 400)],
    )];
    let split = split_check(&v, &skewed, &s);
    let t = judge_stage(&v, &skewed, 0.275, &split, &s);
    assert_eq!(t.decision.to_string(), "invalid_split");
    assert!(
        t.decision.because.contains("2200/1800") && t.decision.because.contains("2000/2000"),
        "{}",
        t.decision.because
    );

    let open = [Look::new(
        "w4",
        vec![Arm::new(500, 120), Arm::new(500, 135)],
    )];
    let split = split_check(&v, &open, &s);
    let t = judge_stage(&v, &open, 0.275, &split, &s);
    assert_eq!(t.decision.rule, "interval_includes_zero");
    assert!(t.decision.because.starts_with("proof − control: −"));
    assert!(s.method().contains("95% level"));
}

#[test]
fn the_verdict_reads_the_running_intersection() {
    // A later, wider-looking interval (a dip in the estimate) does not undo a conclusion.
    let v = [Variant::new("a", 1.0), Variant::new("b", 1.0)];
    let s = Settings::default();
    let looks = vec![
        Look::new("w1", vec![Arm::new(2000, 400), Arm::new(2000, 560)]),
        Look::new("w2", vec![Arm::new(2100, 430), Arm::new(2100, 560)]),
    ];
    let split = split_check(&v, &looks, &s);
    let t = judge_stage(&v, &looks, 0.275, &split, &s);
    let [Some(first), Some(second)] = [t.pairs[0].intervals[0], t.pairs[0].intervals[1]] else {
        panic!("both looks readable");
    };
    let current = t.pairs[0].current.expect("readable");
    assert!(first.low > 0.0);
    assert_eq!(current.low, first.low.max(second.low));
    assert_eq!(current.high, first.high.min(second.high));
    assert_eq!(t.decision.to_string(), "winner b");
}
