//! Funnel stage, statistics: proportions with Wilson 95% score intervals, and band verdicts.
//!
//! Takes: a count out of a total, and a band. Gives: a [`Proportion`] (rate and interval) and
//! a [`Verdict`] that only claims what the interval supports.

use crate::config::Band;
use serde::{Serialize, Serializer};

/// The 97.5th percentile of the standard normal distribution (two-sided 95%).
pub const Z95: f64 = 1.959_963_984_540_054;

/// `count` out of `of`, with its Wilson 95% interval. With `of == 0` the rate is unknown and
/// the interval is the whole `[0, 1]`.
///
/// ```
/// use partner_pages::funnel::stats::Proportion;
/// let p = Proportion::new(81, 263);
/// assert_eq!((p.low * 1e4).round() / 1e4, 0.2553); // Newcombe (1998), Table I
/// assert_eq!((p.high * 1e4).round() / 1e4, 0.3662);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, schemars::JsonSchema)]
#[schemars(
    description = "`count` out of `of`, with its 95% Wilson interval; with `of` 0 the rate is null and the interval is the whole [0, 1]."
)]
pub struct Proportion {
    /// How many reached it.
    pub count: u64,
    /// Out of how many.
    pub of: u64,
    /// `count / of`; null when `of` is 0.
    #[serde(serialize_with = "round_opt")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub rate: Option<f64>,
    /// The 95% Wilson interval.
    #[serde(serialize_with = "round")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub low: f64,
    /// Upper end of the 95% Wilson interval.
    #[serde(serialize_with = "round")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub high: f64,
}

impl Proportion {
    /// `count` of `of`, with its interval.
    pub fn new(count: u64, of: u64) -> Proportion {
        let (low, high) = wilson(count, of);
        Proportion {
            count,
            of,
            rate: (of > 0).then(|| count as f64 / of as f64),
            low,
            high,
        }
    }

    /// The whole interval is under the band: the step is clearly weak.
    pub fn clearly_below(&self, band: &Band) -> bool {
        self.of > 0 && self.high < band.low
    }

    /// The whole interval is over the band: the step is clearly strong.
    pub fn clearly_above(&self, band: &Band) -> bool {
        self.of > 0 && self.low > band.high
    }

    /// `12.3% [8.1–17.9%]`.
    pub fn display(&self) -> String {
        match self.rate {
            None => "–".into(),
            Some(r) => format!("{} [{}–{}]", pct(r), pct_bare(self.low), pct(self.high)),
        }
    }
}

/// Wilson score interval at 95% (Wilson 1927; Newcombe 1998, method 3), clamped to [0, 1].
pub fn wilson(count: u64, of: u64) -> (f64, f64) {
    if of == 0 {
        return (0.0, 1.0);
    }
    let n = of as f64;
    let p = (count.min(of)) as f64 / n;
    let z2 = Z95 * Z95;
    let denom = 1.0 + z2 / n;
    let center = (p + z2 / (2.0 * n)) / denom;
    let half = Z95 / denom * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    let low = if count == 0 {
        0.0
    } else {
        (center - half).max(0.0)
    };
    let high = if count >= of {
        1.0
    } else {
        (center + half).min(1.0)
    };
    (low, high)
}

/// A stage rate judged against its band. `within` only when the whole interval lies inside
/// the band; an interval that crosses a band edge is an open question, with the side the
/// estimate leans to (`leaning_below`, `unclear` when the estimate is inside the band,
/// `leaning_above`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Fewer visitors than `bands.min_visitors`: no verdict yet.
    Insufficient,
    /// Enough visitors, but fewer than `bands.min_visitors` of them are old enough to have
    /// reached the stage: no verdict until the cohort matures.
    TooEarly,
    /// The whole interval is under the band.
    Below,
    /// The interval crosses a band edge and the estimate is under the band: open, leaning below.
    LeaningBelow,
    /// The interval crosses a band edge and the estimate is inside the band: open.
    Unclear,
    /// The interval crosses a band edge and the estimate is over the band: open, leaning above.
    LeaningAbove,
    /// The whole interval is inside the band.
    Within,
    /// The whole interval is over the band.
    Above,
}

impl Verdict {
    /// The verdict of `p` against `band`: `insufficient` under `min_visitors` visitors, else
    /// below, above or within by its interval, and an open question when the interval crosses
    /// a band edge.
    pub fn judge(p: &Proportion, band: &Band, visitors: u64, min_visitors: u64) -> Verdict {
        if visitors < min_visitors || p.of == 0 {
            Verdict::Insufficient
        } else if p.clearly_below(band) {
            Verdict::Below
        } else if p.clearly_above(band) {
            Verdict::Above
        } else if p.low >= band.low && p.high <= band.high {
            Verdict::Within
        } else {
            let r = p.rate.unwrap_or(0.0);
            if r < band.low {
                Verdict::LeaningBelow
            } else if r > band.high {
                Verdict::LeaningAbove
            } else {
                Verdict::Unclear
            }
        }
    }

    /// [`Verdict::judge`] on the mature part of a cohort of `visitors`: `too_early` when there
    /// are visitors enough but not old enough (`p.of` counts the mature ones).
    pub fn judge_mature(p: &Proportion, band: &Band, visitors: u64, min_visitors: u64) -> Verdict {
        if visitors < min_visitors {
            Verdict::Insufficient
        } else if p.of < min_visitors {
            Verdict::TooEarly
        } else {
            Verdict::judge(p, band, p.of, min_visitors)
        }
    }

    /// A verdict that compares the rate with its band (not waiting for traffic or time).
    pub fn is_judged(self) -> bool {
        !matches!(self, Verdict::Insufficient | Verdict::TooEarly)
    }

    /// An interval that crosses a band edge: the question is still open.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            Verdict::LeaningBelow | Verdict::Unclear | Verdict::LeaningAbove
        )
    }

    /// The verdict's name, as the JSON writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Insufficient => "insufficient",
            Verdict::TooEarly => "too_early",
            Verdict::Below => "below",
            Verdict::LeaningBelow => "leaning_below",
            Verdict::Unclear => "unclear",
            Verdict::LeaningAbove => "leaning_above",
            Verdict::Within => "within",
            Verdict::Above => "above",
        }
    }

    /// The verdict as people read it: `within`, `unclear (leaning below)`.
    pub fn word(self) -> &'static str {
        match self {
            Verdict::LeaningBelow => "unclear (leaning below)",
            Verdict::Unclear => "unclear (inside so far)",
            Verdict::LeaningAbove => "unclear (leaning above)",
            v => v.as_str(),
        }
    }
}

/// The word people read for a verdict's JSON name (`leaning_below` -> `unclear (leaning
/// below)`); other text is returned as it is.
pub fn verdict_word(name: &str) -> &str {
    const ALL: [Verdict; 8] = [
        Verdict::Insufficient,
        Verdict::TooEarly,
        Verdict::Below,
        Verdict::LeaningBelow,
        Verdict::Unclear,
        Verdict::LeaningAbove,
        Verdict::Within,
        Verdict::Above,
    ];
    for v in ALL {
        if v.as_str() == name {
            return v.word();
        }
    }
    name
}

/// For an open verdict: about how many visitors old enough, in all, would settle it if the
/// rate stays where it is (the interval's half-width shrinks under the distance from the rate
/// to the nearest band edge). `None` when the rate sits on an edge (no count settles it).
pub fn settles_at(p: &Proportion, band: &Band) -> Option<u64> {
    let r = p.rate?;
    let d = (r - band.low).abs().min((r - band.high).abs());
    if d < 1e-9 {
        return None;
    }
    let var = (r * (1.0 - r)).max(1e-4);
    let n = (Z95 * Z95 * var / (d * d)).ceil() as u64;
    Some(n.max(p.of + 1))
}

pub use crate::text::number::{pct, pct_bare};

/// Rates in JSON: 6 decimals are plenty and keep the output stable and readable.
pub(crate) fn round<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(round6(*x))
}

pub(crate) fn round_opt<S: Serializer>(x: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match x {
        Some(v) => s.serialize_f64(round6(*v)),
        None => s.serialize_none(),
    }
}

pub(crate) fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r4(x: f64) -> f64 {
        (x * 1e4).round() / 1e4
    }

    /// Published Wilson score intervals (no continuity correction), Newcombe R.G. (1998),
    /// "Two-sided confidence intervals for the single proportion: comparison of seven
    /// methods", Statistics in Medicine 17:857–872, Table I, method 3:
    /// 81/263 -> 0.2553–0.3662; 15/148 -> 0.0624–0.1605; 0/20 -> 0.0000–0.1611;
    /// 1/29 -> 0.0061–0.1718.
    #[test]
    fn wilson_matches_newcombe_1998_table_1() {
        for (x, n, lo, hi) in [
            (81, 263, 0.2553, 0.3662),
            (15, 148, 0.0624, 0.1605),
            (0, 20, 0.0, 0.1611),
            (1, 29, 0.0061, 0.1718),
        ] {
            let (l, h) = wilson(x, n);
            assert_eq!((r4(l), r4(h)), (lo, hi), "{x}/{n}");
        }
    }

    #[test]
    fn wilson_is_symmetric_and_bounded() {
        for n in [1u64, 2, 10, 97, 1000] {
            for x in 0..=n.min(50) {
                let (l, h) = wilson(x, n);
                let (l2, h2) = wilson(n - x, n);
                assert!((l - (1.0 - h2)).abs() < 1e-12 && (h - (1.0 - l2)).abs() < 1e-12);
                assert!(
                    0.0 <= l && l <= x as f64 / n as f64 && x as f64 / n as f64 <= h && h <= 1.0
                );
            }
        }
        assert_eq!(wilson(0, 0), (0.0, 1.0));
    }

    #[test]
    fn verdicts_need_enough_visitors_and_a_clear_interval() {
        let band = Band {
            low: 0.20,
            high: 0.35,
        };
        let weak = Proportion::new(2, 250);
        assert_eq!(Verdict::judge(&weak, &band, 250, 100), Verdict::Below);
        assert_eq!(
            Verdict::judge(&weak, &band, 250, 300),
            Verdict::Insufficient
        );
        let edge = Proportion::new(18, 100); // 18% but the interval reaches into the band
        assert_eq!(
            Verdict::judge(&edge, &band, 100, 100),
            Verdict::LeaningBelow
        );
        assert_eq!(Verdict::LeaningBelow.word(), "unclear (leaning below)");
        let n = settles_at(&edge, &band).unwrap();
        assert!(n > 100, "{n}");
        // At that many visitors with the same rate, the interval no longer reaches the band.
        let settled = Proportion::new((n as f64 * 0.18).round() as u64, n);
        assert!(settled.high < band.low + 0.002, "{settled:?}");
        let middle = Proportion::new(27, 100); // inside, but the interval crosses the low edge
        assert_eq!(Verdict::judge(&middle, &band, 100, 100), Verdict::Unclear);
        let inside = Proportion::new(270, 1000);
        assert_eq!(Verdict::judge(&inside, &band, 1000, 100), Verdict::Within);
        // The issue's examples: 0% [0–2.7%] against 1–3% is not within.
        let zero = Proportion::new(0, 140);
        let act = Band {
            low: 0.01,
            high: 0.03,
        };
        assert_ne!(Verdict::judge(&zero, &act, 140, 100), Verdict::Within);
        let strong = Proportion::new(60, 120);
        assert_eq!(Verdict::judge(&strong, &band, 120, 100), Verdict::Above);
    }

    #[test]
    fn percentages_read_well() {
        assert_eq!(pct(0.2), "20%");
        assert_eq!(pct(0.0287), "2.9%");
        assert_eq!(Proportion::new(2, 250).display(), "0.8% [0.2–2.9%]");
    }
}
