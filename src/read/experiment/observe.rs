//! Experiments, reading events: each tested partner's visitors per variant, week by week.
//!
//! Takes: an event source, the partners (those with `variants` are read), the report's range
//! and the bands. Gives: a [`PartnerTest`] per tested partner: the weekly looks (cumulative
//! from the test's first visit to the range's end, one every 7 days ending at the range's end),
//! the split check and, for the lead-magnet, CTA and activation stages, the test of every
//! pair of variants.
//!
//! A visitor counts once per partner: in the variant of its earliest row that names one, from
//! its first `visit` in a journey of that partner; a stage counts when reached at or after that
//! visit. The test starts at the partner's first row that names a variant. A visitor none of
//! whose rows names a variant is left out of the arms when its visit is at or after that start:
//! the collectors store a forged or unsigned variant cookie as no variant, so such visitors are
//! ones who chose their page (or sent no cookie we can trust), and counting them in any arm would
//! let a flood of forged requests skew the test. They still count in the partner's funnel.
//! Visitors before the start (rows from before the partner ran a test) read as the control. Journeys are the funnel's (first touch:
//! a `click` or `visit` of any registered partner starts one when none is active, and it lasts
//! `window_days`), so a visitor another partner sent first is never counted in this partner's
//! test. Visitor ids with more than `bot_max_events` rows are left out, as in the funnel.

use super::{judge_stage, split_check, Look, Settings, SplitCheck, StageTest, Variant};
use crate::config::{Band, Bands};
use crate::error::Result;
use crate::events::{ScanOptions, Source, Ts, MS_PER_DAY};
use crate::partner::Partner;
use crate::stage::Stage;
use serde::Serialize;
use std::collections::HashMap;

/// The stages a test reads, as shares of visitors.
pub const STAGES: [Stage; 3] = [Stage::LeadMagnet, Stage::Cta, Stage::Activation];

/// One partner's test.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct PartnerTest {
    /// The partner's code.
    pub partner: String,
    /// Its variants, the control first.
    pub variants: Vec<Variant>,
    /// The end of every weekly look (RFC 3339), oldest first.
    pub looks: Vec<String>,
    /// The sample-ratio check of the visitors against the weights, at every look.
    pub split: SplitCheck,
    /// The lead-magnet, CTA and activation stages' tests, in funnel order.
    pub stages: Vec<StageResult>,
    /// The method and its parameters, in words.
    pub method: String,
    /// The same parameters as numbers.
    pub settings: Settings,
}

/// One stage's test.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct StageResult {
    /// The stage whose conversions are counted (as shares of visitors).
    pub stage: Stage,
    /// Its test.
    #[serde(flatten)]
    pub test: StageTest,
}

#[derive(Default)]
struct Visitor {
    rows: u32,
    /// (time of the earliest row naming a variant, that variant)
    variant: Option<(Ts, String)>,
    /// Every `visit` row of this partner's page.
    visits: Vec<Ts>,
    /// The first of them in a journey this partner started (set after reading).
    visit: Option<Ts>,
    /// Every time a stage was reached (checked against the visit at the end).
    reached: Vec<(Stage, Ts)>,
}

/// The tests of every partner with variants, from `source` up to `range.end`.
pub fn observe(
    source: &Source,
    partners: &[Partner],
    bands: &Bands,
    bot_max_events: u32,
    window_days: u32,
    end: Ts,
    s: &Settings,
) -> Result<Vec<PartnerTest>> {
    let tested: Vec<&Partner> = partners.iter().filter(|p| p.variants.len() > 1).collect();
    if tested.is_empty() {
        return Ok(Vec::new());
    }
    let mut by: HashMap<(usize, String), Visitor> = HashMap::new();
    // Per tested partner, its first row naming a variant: the test's start.
    let mut started: Vec<Option<Ts>> = vec![None; tested.len()];
    let opts = ScanOptions {
        until: Some(end),
        skip_id_and_path: true,
        ..ScanOptions::default()
    };
    source.scan(&opts, &mut |r| {
        let Some(i) = tested.iter().position(|p| p.code == r.partner_code) else {
            return Ok(());
        };
        let (Some(vid), Some(at)) = (r.visitor_id, Ts::parse(r.created_at)) else {
            return Ok(());
        };
        if at >= end {
            return Ok(());
        }
        let v = by.entry((i, vid.to_string())).or_default();
        v.rows += 1;
        if let Some(x) = r.variant {
            if started[i].is_none_or(|t| at < t) {
                started[i] = Some(at);
            }
            if v.variant.as_ref().is_none_or(|(t, _)| at < *t) {
                v.variant = Some((at, x.to_string()));
            }
        }
        match Stage::from_name(r.event_name) {
            Some(Stage::Visit) => v.visits.push(at),
            Some(st) if STAGES.contains(&st) => v.reached.push((st, at)),
            _ => {}
        }
        Ok(())
    })?;
    // Who sent each of these visitors first: the journey starts (a `click` or `visit` of any
    // registered partner) of the visitors seen above, read in a second pass.
    let known: std::collections::HashSet<&str> = partners.iter().map(|p| p.code.as_str()).collect();
    let mut starts: HashMap<String, Vec<(Ts, Option<usize>)>> = HashMap::new();
    for (_, vid) in by.keys() {
        starts.entry(vid.clone()).or_default();
    }
    source.scan(&opts, &mut |r| {
        if !matches!(r.event_name, "click" | "visit") || !known.contains(r.partner_code) {
            return Ok(());
        }
        let (Some(vid), Some(at)) = (r.visitor_id, Ts::parse(r.created_at)) else {
            return Ok(());
        };
        if at >= end {
            return Ok(());
        }
        if let Some(list) = starts.get_mut(vid) {
            list.push((at, tested.iter().position(|p| p.code == r.partner_code)));
        }
        Ok(())
    })?;
    let window_ms = i64::from(window_days) * MS_PER_DAY;
    // Per visitor, its journeys: (start, end, the tested partner that started it).
    type Journeys = Vec<(Ts, Ts, Option<usize>)>;
    let journeys: HashMap<&str, Journeys> = starts
        .iter_mut()
        .map(|(vid, list)| {
            list.sort();
            let mut out: Vec<(Ts, Ts, Option<usize>)> = Vec::new();
            for &(at, owner) in list.iter() {
                if out.last().is_none_or(|j| at >= j.1) {
                    out.push((at, Ts(at.0 + window_ms), owner));
                }
            }
            (vid.as_str(), out)
        })
        .collect();
    for ((i, vid), v) in by.iter_mut() {
        let owned = journeys.get(vid.as_str()).map(Vec::as_slice).unwrap_or(&[]);
        v.visits.sort();
        v.visit = v.visits.iter().copied().find(|t| {
            owned
                .iter()
                .any(|j| j.0 <= *t && *t < j.1 && j.2 == Some(*i))
        });
    }
    let mut out = Vec::new();
    for (i, p) in tested.iter().enumerate() {
        let variants = super::Variant::of(p);
        let index = |id: &str| variants.iter().position(|v| v.id == id);
        // (variant index, first visit, first time of each stage at or after it)
        let mut people: Vec<(usize, Ts, [Option<Ts>; 3])> = Vec::new();
        for ((pi, _), v) in &by {
            if *pi != i || v.rows > bot_max_events {
                continue;
            }
            let Some(visit) = v.visit else { continue };
            let arm = match &v.variant {
                Some((_, id)) => index(id).unwrap_or(0),
                // No variant we can trust, after the test started: in no arm.
                None if started[i].is_some_and(|t| visit >= t) => continue,
                None => 0,
            };
            let mut when = [None; 3];
            for (st, at) in &v.reached {
                let k = STAGES.iter().position(|x| x == st).unwrap_or(0);
                if *at >= visit && when[k].is_none_or(|t| *at < t) {
                    when[k] = Some(*at);
                }
            }
            people.push((arm, visit, when));
        }
        let Some(first) = people.iter().map(|x| x.1).min() else {
            continue;
        };
        // Look ends: the range's end, and every 7 days before it while after the first visit.
        let mut ends = vec![end];
        while let Some(&last) = ends.last() {
            let earlier = Ts(last.0 - 7 * MS_PER_DAY);
            if earlier <= first || ends.len() >= 520 {
                break;
            }
            ends.push(earlier);
        }
        ends.reverse();
        let looks_of = |k: usize| -> Vec<Look> {
            ends.iter()
                .map(|&e| {
                    let mut arms = vec![super::sequential::Arm::default(); variants.len()];
                    for (arm, visit, when) in &people {
                        if *visit < e {
                            arms[*arm].visitors += 1;
                            if when[k].is_some_and(|t| t < e) {
                                arms[*arm].conversions += 1;
                            }
                        }
                    }
                    Look::new(e.to_string(), arms)
                })
                .collect()
        };
        let split = split_check(&variants, &looks_of(0), s);
        let stages = STAGES
            .iter()
            .enumerate()
            .map(|(k, st)| StageResult {
                stage: *st,
                test: judge_stage(&variants, &looks_of(k), middle(band(bands, *st)), &split, s),
            })
            .collect();
        out.push(PartnerTest {
            partner: p.code.clone(),
            variants,
            looks: ends.iter().map(|e| e.to_string()).collect(),
            split,
            stages,
            method: s.method(),
            settings: s.clone(),
        });
    }
    out.sort_by(|a, b| a.partner.cmp(&b.partner));
    Ok(out)
}

fn band(b: &Bands, st: Stage) -> Band {
    match st {
        Stage::Cta => b.cta,
        Stage::Activation => b.activation,
        _ => b.lead_magnet,
    }
}

fn middle(b: Band) -> f64 {
    (b.low + b.high) / 2.0
}

/// One verdict for a partner's whole test, from its stages' verdicts.
#[derive(Debug, Clone, PartialEq)]
pub struct Overall<'a> {
    /// `invalid_split`, `winner`, `stop_equivalent` or `no_difference_yet`.
    pub verdict: super::Verdict,
    /// The winning variant (`winner` only).
    pub winner: Option<String>,
    /// The stage whose test is cited (`None`: the test has no stage yet).
    pub stage: Option<&'a StageResult>,
}

impl PartnerTest {
    /// One verdict for the whole test: a broken split invalidates all; winners that agree make
    /// a winner (the deepest stage's test is cited); a test settled as equivalent at every
    /// stage that can be read ends; anything else is no difference yet. The one place this is
    /// decided: the funnel's decision and the calendar read it.
    pub fn overall(&self) -> Overall<'_> {
        use super::Verdict;
        let of = |verdict, winner, stage| Overall {
            verdict,
            winner,
            stage,
        };
        let Some(first) = self.stages.first() else {
            return of(Verdict::NoDifferenceYet, None, None);
        };
        if self.split.mismatch_at.is_some() {
            return of(Verdict::InvalidSplit, None, Some(first));
        }
        let winners: Vec<&StageResult> = self
            .stages
            .iter()
            .filter(|s| s.test.decision.verdict == Verdict::Winner)
            .collect();
        let mut ids: Vec<&str> = winners
            .iter()
            .filter_map(|s| s.test.decision.winner.as_deref())
            .collect();
        ids.dedup();
        if let (Some(last), [id]) = (winners.last(), ids.as_slice()) {
            return of(Verdict::Winner, Some(id.to_string()), Some(last));
        }
        let readable: Vec<&StageResult> = self
            .stages
            .iter()
            .filter(|s| s.test.decision.rule != "too_early")
            .collect();
        if winners.is_empty()
            && !readable.is_empty()
            && readable
                .iter()
                .all(|s| s.test.decision.verdict == Verdict::StopEquivalent)
        {
            return of(Verdict::StopEquivalent, None, Some(readable[0]));
        }
        of(Verdict::NoDifferenceYet, None, Some(first))
    }
}

impl PartnerTest {
    /// The test as the funnel's decision reads it.
    pub fn state(&self) -> crate::funnel::TestState {
        use crate::funnel::TestVerdict as V;
        let o = self.overall();
        crate::funnel::TestState {
            verdict: match o.verdict {
                super::Verdict::Winner => V::Winner,
                super::Verdict::NoDifferenceYet => V::NoDifferenceYet,
                super::Verdict::StopEquivalent => V::StopEquivalent,
                super::Verdict::InvalidSplit => V::InvalidSplit,
            },
            winner: o.winner,
            control: self
                .variants
                .first()
                .map(|v| v.id.clone())
                .unwrap_or_default(),
            stage: o.stage.map(|s| s.stage),
            under_test: self.stages.iter().map(|s| s.stage).collect(),
            because: o
                .stage
                .map(|s| s.test.decision.because.clone())
                .unwrap_or_default(),
        }
    }
}
