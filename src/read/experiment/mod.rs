//! Experiments: a verdict on a partner's variants (two to four promises), safe to read every week.
//!
//! Takes: the declared variants (ids, weights; the first is the control) and, per stage, the
//! cumulative counts of every variant at each look (say, at the end of every week). Gives: a
//! [`SplitCheck`] of the visitors against the weights and, per stage, a [`StageTest`] with the
//! interval of every pairwise difference at every look and one [`Decision`]:
//!
//! - `invalid_split`: the visitors per variant do not match the declared weights (sequential
//!   sample-ratio test at `srm_alpha`); nothing else is claimed, the assignment is broken;
//! - `winner <id>`: the variant's rate is above every other variant's, by the whole interval;
//! - `stop_equivalent`: every difference is inside ± the smallest lift that matters, so more
//!   traffic will not find one worth having;
//! - `no_difference_yet`: neither, or too few visitors and conversions to read the interval.
//!
//! The intervals come from [`sequential`]: a confidence sequence, so reading after every week
//! and stopping at the first conclusive look keeps the error rates stated (at most `alpha`
//! that a winner is declared when there is none). With more than two variants each pair gets
//! `alpha / pairs` (Bonferroni). The verdict reads the running intersection of a pair's
//! intervals over the looks, itself a confidence sequence: once conclusive, it stays so.
//!
//! ```
//! use partner_pages::experiment::{judge_stage, split_check, Look, Settings, Variant};
//! use partner_pages::experiment::sequential::Arm;
//! let variants = [Variant::new("control", 1.0), Variant::new("proof", 1.0)];
//! let looks: Vec<Look> = (1..=8u64)
//!     .map(|w| Look::new(format!("week {w}"), vec![Arm::new(300 * w, 60 * w), Arm::new(300 * w, 90 * w)]))
//!     .collect();
//! let s = Settings::default();
//! let split = split_check(&variants, &looks, &s);
//! let test = judge_stage(&variants, &looks, 0.25, &split, &s);
//! assert_eq!(test.decision.to_string(), "winner proof");
//! assert_eq!(test.decision.rule, "interval_excludes_zero");
//! ```

pub mod observe;
pub mod sequential;

#[cfg(test)]
mod tests;

use sequential::{confidence_sequence, mixture_tau2, srm, Arm, Interval, Srm};
use serde::{Serialize, Serializer};
use std::fmt;

/// How the verdicts are reached; stated in every report.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Settings {
    /// Chance, over every look, that an interval misses the true difference (two-sided).
    pub alpha: f64,
    /// Chance, over every look, that a correct split is called a mismatch.
    pub srm_alpha: f64,
    /// The smallest lift that matters, as a share of the stage's typical rate (the middle of
    /// its band): 0.2 with a 20–35% band means ±5.5 points.
    pub min_lift: f64,
    /// Visitors per variant at which the interval is tightest (its mixture is tuned there).
    pub plan_visitors: u64,
    /// Below this many visitors in a variant, no interval is read.
    pub min_visitors: u64,
    /// Below this many conversions (or non-conversions) in a pair, no interval is read: the
    /// normal approximation under the interval needs them.
    pub min_conversions: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            alpha: 0.05,
            srm_alpha: 0.001,
            min_lift: 0.2,
            plan_visitors: 1000,
            min_visitors: 100,
            min_conversions: 10,
        }
    }
}

impl Settings {
    /// The method and its parameters, in a sentence (for reports).
    pub fn method(&self) -> String {
        format!(
            "normal-mixture confidence sequence on the difference of rates (mixture SPRT; valid when read every week), {:.0}% level, Bonferroni over pairs; read from {} visitors per variant and {} conversions per pair; sequential sample-ratio test (Dirichlet-multinomial Bayes factor) at {}; smallest lift that matters: {:.0}% of the stage's band middle; visitors with no trusted variant after the test started (a forged or unsigned variant cookie) are in no variant",
            (1.0 - self.alpha) * 100.0,
            self.min_visitors,
            self.min_conversions,
            self.srm_alpha,
            self.min_lift * 100.0
        )
    }
}

/// A declared variant: its id and weight (any positive scale; equal by default).
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Variant {
    /// The variant's id (a slug), as the events' `variant` column stores it.
    pub id: String,
    /// Its share of visitors, in any positive unit (equal when none is declared).
    pub weight: f64,
}

impl Variant {
    /// A variant `id` with weight `weight`.
    pub fn new(id: impl Into<String>, weight: f64) -> Variant {
        Variant {
            id: id.into(),
            weight,
        }
    }

    /// A partner's declared variants with their weights (equal when none is given).
    pub fn of(partner: &crate::partner::Partner) -> Vec<Variant> {
        partner
            .variant_weights()
            .into_iter()
            .map(|(id, weight)| Variant::new(id, weight))
            .collect()
    }
}

/// Every variant's cumulative counts at one look, in the order of the declared variants.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Look {
    /// What the look is, e.g. its end date.
    pub label: String,
    /// Every variant's cumulative counts at this look, in the order of the declared variants.
    pub arms: Vec<Arm>,
}

impl Look {
    /// A look labelled `label` with every variant's counts.
    pub fn new(label: impl Into<String>, arms: Vec<Arm>) -> Look {
        Look {
            label: label.into(),
            arms,
        }
    }
}

/// The sample-ratio check at every look; a mismatch at any look invalidates the test.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct SplitCheck {
    /// The check at the last look.
    pub last: Srm,
    /// The first look (index) where the split was a mismatch.
    pub mismatch_at: Option<usize>,
}

/// Checks the visitors of every look against the declared weights.
pub fn split_check(variants: &[Variant], looks: &[Look], s: &Settings) -> SplitCheck {
    let weights: Vec<f64> = variants.iter().map(|v| v.weight).collect();
    let check = |l: &Look| {
        let visitors: Vec<u64> = l.arms.iter().map(|a| a.visitors).collect();
        srm(&visitors, &weights, s.srm_alpha)
    };
    let mismatch_at = looks.iter().position(|l| check(l).mismatch);
    let last = match looks.last() {
        Some(l) => check(l),
        None => srm(&vec![0; variants.len()], &weights, s.srm_alpha),
    };
    SplitCheck { last, mismatch_at }
}

/// One pair of variants: the interval of `rate(b) - rate(a)` at every look.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Pair {
    /// The first variant of the pair (the earlier declared; the control in a pair with it).
    pub a: String,
    /// The second variant: the intervals are of `rate(b) - rate(a)`.
    pub b: String,
    /// One per look, oldest first: the interval of `rate(b) - rate(a)` at that look; null
    /// while the counts are too small to read it. The series the HTML report draws.
    pub intervals: Vec<Option<Interval>>,
    /// One per look: the running intersection of the intervals read so far (null before
    /// the first readable look). Itself a confidence sequence; it never widens.
    pub running: Vec<Option<Interval>>,
    /// The running intersection at the last look: what the verdict reads (null before the
    /// first readable look).
    pub current: Option<Interval>,
}

/// What a test says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "TestVerdict")]
pub enum Verdict {
    /// One variant beats every other by the whole interval.
    Winner,
    /// Nothing conclusive yet: too few to read, or an interval that still includes zero.
    NoDifferenceYet,
    /// Every difference is inside ± the smallest lift that matters: stop, the variants are
    /// equivalent.
    StopEquivalent,
    /// The visitors per variant do not match the declared weights: nothing else is read.
    InvalidSplit,
}

impl Verdict {
    /// The verdict as reports and JSON write it: `winner`, `no_difference_yet`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Winner => "winner",
            Verdict::NoDifferenceYet => "no_difference_yet",
            Verdict::StopEquivalent => "stop_equivalent",
            Verdict::InvalidSplit => "invalid_split",
        }
    }
}

/// A verdict, its rule and the figures behind it.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Decision {
    /// What the test says.
    pub verdict: Verdict,
    /// The winning variant's id (with `winner` only).
    pub winner: Option<String>,
    /// The rule that gave the verdict: `sample_ratio_mismatch`, `interval_excludes_zero`,
    /// `interval_inside_min_lift`, `too_early` or `interval_includes_zero`.
    pub rule: &'static str,
    /// Why, in a sentence with the figures.
    pub because: String,
}

/// `winner proof`, `no_difference_yet`, ...
impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.winner {
            Some(w) => write!(f, "{} {w}", self.verdict.as_str()),
            None => f.write_str(self.verdict.as_str()),
        }
    }
}

/// One stage's test: the pairwise intervals over the looks and the decision.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct StageTest {
    /// The stage's typical rate the mixture and the smallest lift are scaled by.
    #[serde(serialize_with = "crate::funnel::stats::round")]
    pub base_rate: f64,
    /// The smallest lift that matters, in absolute rate (`min_lift × base_rate`).
    #[serde(serialize_with = "crate::funnel::stats::round")]
    pub min_lift: f64,
    /// The level each pair's interval is computed at (`alpha / pairs`).
    #[serde(serialize_with = "crate::funnel::stats::round")]
    pub pair_alpha: f64,
    /// The normal mixture's variance `τ²`, fixed in advance from the base rate and the planned
    /// visitors.
    #[serde(serialize_with = "round_sci")]
    pub tau2: f64,
    /// Every variant's counts at the last look.
    pub arms: Vec<Arm>,
    /// Every pair of variants (`k(k-1)/2` of them), in declared order.
    pub pairs: Vec<Pair>,
    /// The verdict, its rule and why.
    pub decision: Decision,
}

fn round_sci<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    // Keep 6 significant digits: the mixture scale is small (1e-4 and below).
    let v: f64 = format!("{x:.5e}").parse().unwrap_or(*x);
    s.serialize_f64(v)
}

/// Judges one stage from every variant's counts at each look. `base_rate` is the stage's
/// typical rate (the middle of its band); `split` the split check of the same looks.
pub fn judge_stage(
    variants: &[Variant],
    looks: &[Look],
    base_rate: f64,
    split: &SplitCheck,
    s: &Settings,
) -> StageTest {
    let k = variants.len();
    let n_pairs = (k * k.saturating_sub(1) / 2).max(1);
    let pair_alpha = s.alpha / n_pairs as f64;
    let tau2 = mixture_tau2(base_rate, s.plan_visitors, pair_alpha);
    let min_lift = s.min_lift * base_rate;
    let mut pairs = Vec::new();
    for i in 0..k {
        for j in i + 1..k {
            let mut intervals = Vec::with_capacity(looks.len());
            let mut running = Vec::with_capacity(looks.len());
            let mut current: Option<Interval> = None;
            for l in looks {
                let (a, b) = (arm(l, i), arm(l, j));
                let iv = readable(a, b, s).then(|| confidence_sequence(a, b, pair_alpha, tau2));
                if let Some(iv) = iv {
                    current = Some(match current.and_then(|c| c.intersect(&iv)) {
                        Some(x) => x,
                        None => iv,
                    });
                }
                intervals.push(iv);
                running.push(current);
            }
            pairs.push(Pair {
                a: variants[i].id.clone(),
                b: variants[j].id.clone(),
                intervals,
                running,
                current,
            });
        }
    }
    let arms: Vec<Arm> = looks
        .last()
        .map(|l| (0..k).map(|i| arm(l, i)).collect())
        .unwrap_or_else(|| vec![Arm::default(); k]);
    let decision = decide(variants, &pairs, &arms, split, min_lift, s);
    StageTest {
        base_rate,
        min_lift,
        pair_alpha,
        tau2,
        arms,
        pairs,
        decision,
    }
}

fn arm(l: &Look, i: usize) -> Arm {
    l.arms.get(i).copied().unwrap_or_default()
}

/// Enough visitors in both variants, and enough conversions and non-conversions in the pair,
/// for the normal approximation the interval rests on.
fn readable(a: Arm, b: Arm, s: &Settings) -> bool {
    let conv = a.conversions + b.conversions;
    let non = (a.visitors - a.conversions) + (b.visitors - b.conversions);
    a.visitors >= s.min_visitors
        && b.visitors >= s.min_visitors
        && conv >= s.min_conversions
        && non >= s.min_conversions
}

fn decide(
    variants: &[Variant],
    pairs: &[Pair],
    arms: &[Arm],
    split: &SplitCheck,
    min_lift: f64,
    s: &Settings,
) -> Decision {
    let d = |verdict, winner, rule, because| Decision {
        verdict,
        winner,
        rule,
        because,
    };
    if split.mismatch_at.is_some() {
        let l = &split.last;
        let obs: Vec<String> = l.observed.iter().map(|x| x.to_string()).collect();
        let exp: Vec<String> = l.expected.iter().map(|x| format!("{x:.0}")).collect();
        return d(
            Verdict::InvalidSplit,
            None,
            "sample_ratio_mismatch",
            format!(
                "visitors per variant {} where the declared weights expect {} (evidence {} ≥ {}): the assignment is broken, so no difference is read",
                obs.join("/"),
                exp.join("/"),
                evidence(l.evidence),
                l.threshold
            ),
        );
    }
    let Some(currents) = pairs.iter().map(|p| p.current).collect::<Option<Vec<_>>>() else {
        let fewest = arms.iter().map(|a| a.visitors).min().unwrap_or(0);
        let conv: u64 = arms.iter().map(|a| a.conversions).sum();
        return d(
            Verdict::NoDifferenceYet,
            None,
            "too_early",
            format!(
                "too few to read yet: {fewest} visitors in the smallest variant (needs {}), {conv} conversions in all (needs {} per pair)",
                s.min_visitors, s.min_conversions
            ),
        );
    };
    // A winner beats every other variant by its whole interval.
    for v in variants {
        let beats_all = pairs.iter().zip(&currents).all(|(p, c)| {
            (p.b == v.id && c.low > 0.0)
                || (p.a == v.id && c.high < 0.0)
                || (p.a != v.id && p.b != v.id)
        });
        if beats_all && variants.len() > 1 {
            let parts: Vec<String> = pairs
                .iter()
                .zip(&currents)
                .filter(|(p, _)| p.a == v.id || p.b == v.id)
                .map(|(p, c)| {
                    let (other, lo, hi) = if p.b == v.id {
                        (&p.a, c.low, c.high)
                    } else {
                        (&p.b, -c.high, -c.low)
                    };
                    format!("{} over {other} by {}", v.id, points_range(lo, hi))
                })
                .collect();
            return d(
                Verdict::Winner,
                Some(v.id.clone()),
                "interval_excludes_zero",
                format!("{} (the whole interval above zero)", parts.join("; ")),
            );
        }
    }
    if currents
        .iter()
        .all(|c| c.low > -min_lift && c.high < min_lift)
    {
        let widest = currents
            .iter()
            .map(|c| c.low.abs().max(c.high.abs()))
            .fold(0.0, f64::max);
        return d(
            Verdict::StopEquivalent,
            None,
            "interval_inside_min_lift",
            format!(
                "every difference is within ±{} points (smallest lift that matters: ±{} points): more traffic will not find a lift worth having",
                points(widest),
                points(min_lift)
            ),
        );
    }
    let parts: Vec<String> = pairs
        .iter()
        .zip(&currents)
        .map(|(p, c)| format!("{} − {}: {}", p.b, p.a, points_range(c.low, c.high)))
        .collect();
    d(
        Verdict::NoDifferenceYet,
        None,
        "interval_includes_zero",
        format!(
            "{}: the interval still includes zero and a lift that matters (±{} points)",
            parts.join("; "),
            points(min_lift)
        ),
    )
}

/// A difference of rates in percentage points, one decimal: `+3.2`.
fn points(x: f64) -> String {
    format!("{:.1}", (x * 1000.0).round() / 10.0)
}

use crate::text::number::signed_points;

/// `+1.2 to +8.3 points`.
pub fn points_range(low: f64, high: f64) -> String {
    format!("{} to {} points", signed_points(low), signed_points(high))
}

/// The split's evidence (a Bayes factor) as people read it: whole, or in e-notation when huge.
pub(crate) fn evidence(x: f64) -> String {
    if x >= 1e6 {
        format!("{x:.1e}")
    } else if x >= 10.0 {
        format!("{x:.0}")
    } else {
        // Small: two significant digits, so 0.03 does not read as 0.
        let digits = (1 - x.abs().max(1e-9).log10().floor() as i32).max(0) as usize;
        format!("{x:.digits$}")
    }
}
