//! Experiments, statistics: an always-valid confidence sequence for the difference of two
//! conversion rates, and a sequential sample-ratio-mismatch test.
//!
//! Takes: counts (visitors and conversions per variant) at one look. Gives: an [`Interval`]
//! for `p_b - p_a` and an [`Srm`] check of the visitors against the declared weights. Both stay
//! valid when looked at after every week (or every visitor): the chance that the interval
//! ever misses the true difference, over all looks, is at most `alpha`, and the chance that
//! a correct split is ever called a mismatch is at most `srm_alpha`.
//!
//! The interval is the normal-mixture confidence sequence of Howard, Ramdas, McAuliffe and
//! Sekhon (2021, "Time-uniform, nonparametric, nonasymptotic confidence sequences", Annals of
//! Statistics 49(2)), applied as in the mixture SPRT of Johari, Koomen, Pekelis and Walsh
//! (2017/2022, "Always valid inference: continuous monitoring of A/B tests", Operations
//! Research 70(3)): with `V` the variance of the observed difference,
//!
//! ```text
//! difference ± sqrt( V (V + τ²) / τ² · ln( (V + τ²) / (V α²) ) )
//! ```
//!
//! It rests on the normal approximation of the two rates (hence the minimum counts the caller
//! applies before trusting it; the simulations in `tests.rs` measure the error rates that
//! result). The mixture scale `τ²` is fixed in advance (never from the data), tuned so the
//! interval is tightest at a planned number of visitors per variant (Howard et al., section
//! 3.5: `ρ = m / (2 ln(1/α) + ln(1 + 2 ln(1/α)))`).
//!
//! The split check is the Dirichlet-multinomial Bayes factor of Lindon and Malek (2022,
//! "Anytime-valid inference for multinomial count data", NeurIPS): under the declared weights
//! it is a test martingale, so calling a mismatch when it reaches `1/srm_alpha` is wrong with
//! probability at most `srm_alpha`, however often it is read.

use serde::Serialize;

/// One variant's counts at a look: visitors (the base) and those who converted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Arm {
    /// Visitors assigned to the variant by the look.
    pub visitors: u64,
    /// Those of them who reached the stage by the look.
    pub conversions: u64,
}

impl Arm {
    /// Counts of a variant; conversions above `visitors` are capped to it.
    pub fn new(visitors: u64, conversions: u64) -> Arm {
        Arm {
            visitors,
            conversions: conversions.min(visitors),
        }
    }

    /// The conversion rate; `None` without visitors.
    pub fn rate(&self) -> Option<f64> {
        (self.visitors > 0).then(|| self.conversions as f64 / self.visitors as f64)
    }

    /// The variance of the observed rate, with the rate shrunk half a conversion towards 1/2
    /// so that 0 or all conversions never give a zero variance (and a zero-width interval).
    fn variance(&self) -> f64 {
        let n = self.visitors as f64;
        let p = (self.conversions as f64 + 0.5) / (n + 1.0);
        p * (1.0 - p) / n
    }
}

/// An interval for the difference of two rates (`b - a`), clamped to `[-1, 1]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Interval {
    /// The observed difference of the rates.
    #[serde(serialize_with = "crate::funnel::stats::round")]
    pub estimate: f64,
    /// The interval's lower bound.
    #[serde(serialize_with = "crate::funnel::stats::round")]
    pub low: f64,
    /// The interval's upper bound.
    #[serde(serialize_with = "crate::funnel::stats::round")]
    pub high: f64,
}

impl Interval {
    /// Whether `x` is inside the interval (bounds included).
    pub fn contains(&self, x: f64) -> bool {
        self.low <= x && x <= self.high
    }

    /// The part of both intervals (`None` when they do not meet). The running intersection of
    /// a confidence sequence's intervals is a confidence sequence too, and never widens.
    pub fn intersect(&self, o: &Interval) -> Option<Interval> {
        let low = self.low.max(o.low);
        let high = self.high.min(o.high);
        (low <= high).then_some(Interval {
            estimate: o.estimate,
            low,
            high,
        })
    }
}

/// The mixture scale `τ²` that makes the interval tightest when each of two variants has
/// `plan_visitors` visitors converting at `base_rate`.
pub fn mixture_tau2(base_rate: f64, plan_visitors: u64, alpha: f64) -> f64 {
    let b = base_rate.clamp(0.001, 0.999);
    let v_plan = 2.0 * b * (1.0 - b) / plan_visitors.max(1) as f64;
    let l = (1.0 / alpha).ln();
    v_plan * (2.0 * l + (1.0 + 2.0 * l).ln())
}

/// The confidence sequence's interval for `rate(b) - rate(a)` at this look, at level `alpha`
/// (two-sided), with mixture scale `tau2` (see [`mixture_tau2`]). Either arm without visitors
/// gives the whole `[-1, 1]`.
///
/// ```
/// use partner_pages::experiment::sequential::{confidence_sequence, mixture_tau2, Arm};
/// let tau2 = mixture_tau2(0.25, 1000, 0.05);
/// let i = confidence_sequence(Arm::new(1000, 250), Arm::new(1000, 330), 0.05, tau2);
/// assert!((i.estimate - 0.08).abs() < 1e-12);
/// assert!(i.low > 0.0 && i.high < 0.16);
/// ```
pub fn confidence_sequence(a: Arm, b: Arm, alpha: f64, tau2: f64) -> Interval {
    let (Some(ra), Some(rb)) = (a.rate(), b.rate()) else {
        return Interval {
            estimate: 0.0,
            low: -1.0,
            high: 1.0,
        };
    };
    let estimate = rb - ra;
    let v = a.variance() + b.variance();
    let half = (v * (v + tau2) / tau2 * ((v + tau2) / (v * alpha * alpha)).ln()).sqrt();
    Interval {
        estimate,
        low: (estimate - half).max(-1.0),
        high: (estimate + half).min(1.0),
    }
}

/// The sample-ratio check at one look.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Srm {
    /// Visitors per variant.
    pub observed: Vec<u64>,
    /// What the declared weights expect of the same total.
    pub expected: Vec<f64>,
    /// The evidence against the declared split (Bayes factor, `≥ 1`-ish when it is wrong).
    #[serde(serialize_with = "crate::funnel::stats::round")]
    pub evidence: f64,
    /// `1 / srm_alpha`: evidence from here on is a mismatch.
    #[serde(serialize_with = "crate::funnel::stats::round")]
    pub threshold: f64,
    /// Whether the evidence reached the threshold: the split does not match the weights.
    pub mismatch: bool,
}

/// Prior concentration of the Dirichlet mixture (Σα), centred on the declared weights: a
/// mismatch as large as 55/45 on 50/50 shows from about 2,000 visitors.
pub const SRM_CONCENTRATION: f64 = 100.0;

/// Checks `observed` visitors per variant against the declared `weights` (any positive scale),
/// at level `srm_alpha`.
///
/// ```
/// use partner_pages::experiment::sequential::srm;
/// assert!(!srm(&[1010, 990], &[1.0, 1.0], 0.001).mismatch);
/// assert!(srm(&[1650, 1350], &[1.0, 1.0], 0.001).mismatch); // 55/45 on a declared 50/50
/// ```
pub fn srm(observed: &[u64], weights: &[f64], srm_alpha: f64) -> Srm {
    let total_w: f64 = weights.iter().sum();
    let theta: Vec<f64> = weights.iter().map(|w| w / total_w).collect();
    let n: u64 = observed.iter().sum();
    let expected = theta.iter().map(|t| t * n as f64).collect();
    let k = SRM_CONCENTRATION;
    let mut log_bf = ln_gamma(k) - ln_gamma(k + n as f64);
    for (&x, &t) in observed.iter().zip(&theta) {
        let a = k * t;
        log_bf += ln_gamma(a + x as f64) - ln_gamma(a) - x as f64 * t.ln();
    }
    let threshold = 1.0 / srm_alpha;
    // Report the evidence capped so the JSON stays a finite, readable number.
    let evidence = log_bf.min(700.0).exp();
    Srm {
        observed: observed.to_vec(),
        expected,
        evidence,
        threshold,
        mismatch: log_bf >= threshold.ln(),
    }
}

/// `ln Γ(x)` for `x > 0` (Lanczos, g = 7, 9 terms: about 15 correct digits).
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x) Γ(1 - x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut s = C[0];
    for (i, c) in C.iter().enumerate().skip(1) {
        s += c / (x + i as f64);
    }
    let t = x + G + 0.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + s.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_gamma_matches_factorials_and_half_integers() {
        let mut f = 1.0f64;
        for n in 1..60u32 {
            // Γ(n) = (n-1)!
            assert!(
                (ln_gamma(n as f64) - f.ln()).abs() < 1e-10 * f.ln().max(1.0),
                "n={n}"
            );
            f *= n as f64;
        }
        let sqrt_pi_ln = std::f64::consts::PI.sqrt().ln();
        assert!((ln_gamma(0.5) - sqrt_pi_ln).abs() < 1e-12);
        assert!((ln_gamma(1.5) - (sqrt_pi_ln - 2f64.ln())).abs() < 1e-12);
        // Stirling at a large argument.
        let x = 1.0e6f64;
        let stirling =
            (x - 0.5) * x.ln() - x + 0.5 * (2.0 * std::f64::consts::PI).ln() + 1.0 / (12.0 * x);
        assert!((ln_gamma(x) - stirling).abs() < 1e-6);
    }

    #[test]
    fn the_interval_is_centred_on_the_difference_and_shrinks_with_traffic() {
        let tau2 = mixture_tau2(0.3, 1000, 0.05);
        let mut last = f64::INFINITY;
        for n in [100u64, 400, 1600, 6400, 25600] {
            let i = confidence_sequence(
                Arm::new(n, n * 3 / 10),
                Arm::new(n, n * 35 / 100),
                0.05,
                tau2,
            );
            assert!((i.estimate - 0.05).abs() < 0.01);
            assert!(i.contains(i.estimate));
            let w = i.high - i.low;
            assert!(w < last, "width {w} at n={n} not under {last}");
            last = w;
        }
        // Swapping the arms mirrors the interval.
        let i = confidence_sequence(Arm::new(500, 100), Arm::new(400, 120), 0.05, tau2);
        let j = confidence_sequence(Arm::new(400, 120), Arm::new(500, 100), 0.05, tau2);
        assert!((i.low + j.high).abs() < 1e-12 && (i.high + j.low).abs() < 1e-12);
    }

    #[test]
    fn the_sequence_is_wider_than_a_fixed_sample_interval_but_not_by_much() {
        // The price of reading every week: wider than the one-look 95% interval (1.96 sd),
        // by less than a factor 2 near the planned size.
        let tau2 = mixture_tau2(0.25, 1000, 0.05);
        let (a, b) = (Arm::new(1000, 250), Arm::new(1000, 250));
        let i = confidence_sequence(a, b, 0.05, tau2);
        let sd = (a.variance() + b.variance()).sqrt();
        let ratio = i.high / (1.959_964 * sd);
        assert!(ratio > 1.0 && ratio < 2.0, "ratio {ratio}");
    }

    #[test]
    fn empty_arms_give_the_whole_range_and_zero_conversions_a_positive_width() {
        let tau2 = mixture_tau2(0.02, 1000, 0.05);
        let i = confidence_sequence(Arm::new(0, 0), Arm::new(10, 1), 0.05, tau2);
        assert_eq!((i.low, i.high), (-1.0, 1.0));
        let z = confidence_sequence(Arm::new(300, 0), Arm::new(300, 0), 0.05, tau2);
        assert!(z.low < 0.0 && z.high > 0.0);
    }

    #[test]
    fn srm_accepts_the_declared_split_and_rejects_a_skewed_one() {
        assert!(!srm(&[0, 0], &[1.0, 1.0], 0.001).mismatch);
        assert!(!srm(&[5100, 4900], &[1.0, 1.0], 0.001).mismatch);
        // Unequal declared weights: 70/30 observed on a declared 70/30 is fine, on 50/50 not.
        assert!(!srm(&[7020, 2980], &[70.0, 30.0], 0.001).mismatch);
        assert!(srm(&[7020, 2980], &[1.0, 1.0], 0.001).mismatch);
        // Three variants, one starved.
        assert!(srm(&[1000, 1000, 700], &[1.0, 1.0, 1.0], 0.001).mismatch);
        let s = srm(&[1100, 900], &[1.0, 1.0], 0.001);
        assert_eq!(s.expected, vec![1000.0, 1000.0]);
        assert_eq!(s.threshold, 1000.0);
    }
}
