//! Calendar stage, the whole command as a library call: events -> funnel -> plan -> files.
//!
//! Takes: the site, an event source and the plan flags. Gives: the [`Calendar`] (with each
//! task's final file name) and what happened to each file. The funnel figures come from
//! [`crate::funnel`] over the same window as the build annotation (7 days ending at `--now`).

use super::files::{self, Outcome};
use super::{
    ActionFigures, ArmFigures, Calendar, CampaignFigures, ExperimentFigures, PartnerFigures,
    PlanOptions, PriorChange, StageFigures, Window,
};
use crate::error::{Error, Result};
use crate::events::Ts;
use crate::experiment::observe::{PartnerTest, StageResult};
use crate::funnel::{FunnelReport, Range};
use crate::site::Site;
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::BTreeMap;

/// Longest plan accepted (a year of weeks).
pub const MAX_WEEKS: u32 = 52;

/// What `calendar` was asked for.
#[derive(Debug, Clone, Default)]
pub struct Request<'a> {
    /// The event source.
    pub events: &'a str,
    /// How many weeks to plan (1 to [`MAX_WEEKS`]).
    pub weeks: u32,
    /// First day of the plan, `YYYY-MM-DD` (default: the Monday after `now`).
    pub start: Option<&'a str>,
    /// RFC 3339 (default: the current time).
    pub now: Option<&'a str>,
    /// Hide the progress bar.
    pub quiet: bool,
}

/// Plan and write the task files. Everything is rendered before the first write.
pub fn run(site: &Site, req: &Request) -> Result<(Calendar, Vec<(String, Outcome)>)> {
    plan_and_place(site, req, true)
}

/// The calendar `run` gives, with the same file names, writing nothing (the MCP tool).
pub fn plan(site: &Site, req: &Request) -> Result<Calendar> {
    plan_and_place(site, req, false).map(|(cal, _)| cal)
}

fn plan_and_place(
    site: &Site,
    req: &Request,
    write: bool,
) -> Result<(Calendar, Vec<(String, Outcome)>)> {
    if req.weeks == 0 || req.weeks > MAX_WEEKS {
        return Err(Error::field(
            "weeks",
            req.weeks.to_string(),
            format!("expected 1 to {MAX_WEEKS}"),
            "plan one week at a time and re-run when new data is in",
        ));
    }
    let range = Range::from_flags(Some(crate::funnel::range::RECENT), None, None, req.now)?;
    let now = to_utc(range.end)?;
    let start = match req.start {
        Some(s) => NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
            Error::field(
                "start",
                s,
                "not a date",
                "write the first day of the plan as YYYY-MM-DD, e.g. 2026-11-30",
            )
        })?,
        None => super::next_monday(now),
    };
    let report = crate::report::funnel_for(site, req.events, range, req.quiet)?;
    let opts = PlanOptions {
        now,
        start,
        weeks: req.weeks,
        window: Window {
            since: to_utc(range.start)?,
            until: now,
        },
        prior: measured_since(site, req, range, prior_changes(site, start))?,
        asked: prior_asks(site, start),
    };
    let mut cal = super::plan(site, &figures(site, &report), &opts);
    let rendered = files::render_all(site, &cal)?;
    let outcomes = files::write_all(&site.root, &mut cal, &rendered, write)?;
    Ok((cal, outcomes))
}

/// Each prior change with the funnel of the visitors who arrived on or after its date: one
/// more read of the events per change date, from that day to the plan's `now`.
fn measured_since(
    site: &Site,
    req: &Request,
    range: Range,
    mut prior: BTreeMap<String, PriorChange>,
) -> Result<BTreeMap<String, PriorChange>> {
    let mut dates: Vec<NaiveDate> = prior.values().map(|c| c.date).collect();
    dates.sort_unstable();
    dates.dedup();
    for date in dates {
        let start = Ts::parse_date_or_time(&date.format("%Y-%m-%d").to_string())
            .ok_or_else(|| Error::Internal(format!("not a date: {date}")))?;
        if start >= range.end {
            continue;
        }
        let since = Range { start, ..range };
        let report = crate::report::funnel_for(site, req.events, since, true)?;
        for (code, c) in prior.iter_mut().filter(|(_, c)| c.date == date) {
            let Some(p) = report.partner(code) else {
                continue;
            };
            let rate = match c.stage.as_str() {
                "cta" => &p.figures.rates.cta,
                "activation" => &p.figures.rates.activation,
                _ => &p.figures.rates.lead_magnet,
            };
            c.since = Some(super::SinceChange {
                visitors: p.figures.counts.visitors,
                stage: stage_figures(&c.stage, rate),
            });
        }
    }
    Ok(prior)
}

/// The planner's view of a stage rate.
fn stage_figures(name: &str, rate: &crate::funnel::Rate) -> StageFigures {
    StageFigures {
        stage: name.to_string(),
        label: super::stage_label(name).to_string(),
        count: rate.proportion.count,
        of: rate.proportion.of,
        rate: rate.proportion.rate.unwrap_or(0.0),
        low: rate.proportion.low,
        high: rate.proportion.high,
        verdict: rate.verdict.as_str().to_string(),
        band_low: rate.band.low,
        band_high: rate.band.high,
        horizon_days: rate.horizon_days,
        ready: rate.ready.map(|t| t.to_string()[..10].to_string()),
    }
}

/// The `fix-weakest-step` proposals earlier runs wrote (the manifest names them) dated in the
/// 28 days before `start`, that the partner file now has applied: the latest per partner.
/// Their stage is read from the proposal's `Rule:` line (`(target stage: cta)`); a proposal
/// whose template dropped that line is not followed up.
pub fn prior_changes(site: &Site, start: NaiveDate) -> BTreeMap<String, PriorChange> {
    let manifest = super::manifest::Manifest::load(&site.root);
    let mut out: BTreeMap<String, PriorChange> = BTreeMap::new();
    for rel in manifest.paths() {
        let Some((date, partner)) = recent_file(site, rel, "proposals/", ".yaml.patch", start)
        else {
            continue;
        };
        let (Ok(patch), Ok(current)) = (
            std::fs::read_to_string(site.root.join(rel)),
            std::fs::read_to_string(site.root.join(&partner.source)),
        ) else {
            continue;
        };
        let rule = format!("Rule: {}", super::plan::RULE_FIX);
        let Some(stage) = patch
            .lines()
            .filter(|l| l.starts_with(&rule))
            .find_map(|l| l.split_once("(target stage: "))
            .map(|(_, r)| r.trim_end_matches(')').to_string())
        else {
            continue;
        };
        if !applied(&current, &patch) {
            continue;
        }
        if out.get(&partner.code).is_none_or(|c| c.date < date) {
            out.insert(
                partner.code.clone(),
                PriorChange {
                    date,
                    stage,
                    file: rel.to_string(),
                    since: None,
                },
            );
        }
    }
    out
}

/// A task file an earlier run wrote, `<dir><date>-<code>[-<n>]<ext>`, dated in the 28 days
/// before `start`: its date and partner.
fn recent_file<'s>(
    site: &'s Site,
    rel: &str,
    dir: &str,
    ext: &str,
    start: NaiveDate,
) -> Option<(NaiveDate, &'s crate::partner::Partner)> {
    let earliest = start
        .checked_sub_days(chrono::Days::new(28))
        .unwrap_or(start);
    let stem = rel.strip_prefix(dir)?.strip_suffix(ext)?;
    let (day, rest) = (stem.get(..10)?, stem.get(11..)?);
    let date = NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?;
    if date >= start || date < earliest {
        return None;
    }
    let partner = site.partners.iter().find(|p| {
        rest == p.code
            || rest
                .strip_prefix(p.code.as_str())
                .and_then(|r| r.strip_prefix('-'))
                .is_some_and(|n| n.parse::<u32>().is_ok())
    })?;
    Some((date, partner))
}

/// The latest ask for traffic (or launch email) earlier runs wrote for each partner, dated in
/// the 28 days before `start` (the manifest records them).
pub fn prior_asks(site: &Site, start: NaiveDate) -> BTreeMap<String, NaiveDate> {
    let manifest = super::manifest::Manifest::load(&site.root);
    let mut out: BTreeMap<String, NaiveDate> = BTreeMap::new();
    for rel in manifest.asks() {
        let Some((date, p)) = recent_file(site, rel, "emails/", ".txt", start) else {
            continue;
        };
        if out.get(&p.code).is_none_or(|d| *d < date) {
            out.insert(p.code.clone(), date);
        }
    }
    out
}

/// Whether `current` has the change of the diff in `patch`: every added line is there, and
/// (when it removes lines) some removed line is gone.
fn applied(current: &str, patch: &str) -> bool {
    let Some(at) = patch.find("\n--- a/") else {
        return false;
    };
    let lines: std::collections::HashSet<&str> = current.lines().collect();
    let body = patch[at + 1..].lines().skip(2);
    let (mut added, mut removed) = (Vec::new(), Vec::new());
    for l in body {
        if let Some(x) = l.strip_prefix('+') {
            added.push(x);
        } else if let Some(x) = l.strip_prefix('-') {
            removed.push(x);
        }
    }
    !added.is_empty()
        && added.iter().all(|l| lines.contains(l))
        && (removed.is_empty() || removed.iter().any(|l| !lines.contains(l)))
}

fn to_utc(t: Ts) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_millis(t.0)
        .ok_or_else(|| Error::Internal(format!("time out of range: {}", t.0)))
}

/// What the planner reads of the funnel report: one [`PartnerFigures`] per partner.
pub fn figures(site: &Site, report: &FunnelReport) -> Vec<PartnerFigures> {
    report
        .partners
        .iter()
        .map(|p| {
            let r = &p.figures.rates;
            let stage = stage_figures;
            PartnerFigures {
                code: p.code.clone(),
                visitors: p.figures.counts.visitors,
                clicks: p.figures.counts.clicks,
                stages: vec![
                    stage("lead_magnet", &r.lead_magnet),
                    stage("cta", &r.cta),
                    stage("activation", &r.activation),
                ],
                campaigns: p
                    .campaigns
                    .iter()
                    .map(|c| CampaignFigures {
                        name: c.campaign.clone(),
                        visitors: c.figures.counts.visitors,
                        lead_magnets: c.figures.counts.lead_magnet,
                        activations: c.figures.counts.activation,
                    })
                    .collect(),
                action: ActionFigures {
                    rule: p.action.rule.to_string(),
                    action: p.action.action.clone(),
                    because: p.action.because.clone(),
                    without_test: p
                        .action
                        .without_test
                        .map(|r| r.to_string())
                        .unwrap_or_default(),
                },
                experiment: report
                    .experiments
                    .iter()
                    .find(|t| t.partner == p.code)
                    .map(|t| experiment(site, t)),
            }
        })
        .collect()
}

/// The verdict of a partner's test as the planner reads it ([`PartnerTest::overall`]).
pub fn experiment(site: &Site, t: &PartnerTest) -> ExperimentFigures {
    let partner = site.partner(&t.partner);
    let promise = |id: &str| {
        partner
            .and_then(|p| p.with_variant(id))
            .map(|p| p.promise)
            .unwrap_or_else(|| id.to_string())
    };
    let control = t.variants.first().map(|v| v.id.clone()).unwrap_or_default();
    let of = |s: &StageResult, verdict: &str, winner: Option<String>| ExperimentFigures {
        verdict: verdict.to_string(),
        winner,
        control: control.clone(),
        stage: s.stage.as_str().to_string(),
        because: s.test.decision.because.clone(),
        arms: t
            .variants
            .iter()
            .zip(&s.test.arms)
            .map(|(v, a)| ArmFigures {
                variant: v.id.clone(),
                promise: promise(&v.id),
                visitors: a.visitors,
                conversions: a.conversions,
            })
            .collect(),
    };
    let o = t.overall();
    match o.stage {
        Some(s) => of(s, o.verdict.as_str(), o.winner),
        None => ExperimentFigures {
            verdict: o.verdict.as_str().into(),
            control,
            ..Default::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::sequential::Arm;
    use crate::experiment::{judge_stage, split_check, Look, Settings, Variant};
    use crate::stage::Stage;

    fn site() -> Site {
        crate::load(
            std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/aikit")),
            &crate::LoadOptions::default(),
        )
        .expect("the example site loads")
    }

    /// A two-variant test read once: visitors per variant, then each stage's conversions.
    fn test_of(visitors: (u64, u64), conversions: [(u64, u64); 3]) -> PartnerTest {
        let variants = vec![Variant::new("control", 1.0), Variant::new("b", 1.0)];
        let s = Settings::default();
        let look = |k: usize| {
            vec![Look::new(
                "end",
                vec![
                    Arm::new(visitors.0, conversions[k].0),
                    Arm::new(visitors.1, conversions[k].1),
                ],
            )]
        };
        let split = split_check(&variants, &look(0), &s);
        let stages = [Stage::LeadMagnet, Stage::Cta, Stage::Activation]
            .into_iter()
            .enumerate()
            .map(|(k, st)| StageResult {
                stage: st,
                test: judge_stage(&variants, &look(k), [0.275, 0.085, 0.02][k], &split, &s),
            })
            .collect();
        PartnerTest {
            partner: "seo-consultant".into(),
            variants,
            looks: vec!["end".into()],
            split,
            stages,
            method: s.method(),
            settings: s,
        }
    }

    #[test]
    fn one_verdict_per_test_from_its_stages() {
        let site = site();
        let cases = [
            (
                "a lead-magnet winner",
                test_of((1000, 1000), [(200, 320), (3, 4), (0, 1)]),
                "winner",
                Some("b"),
                "lead_magnet",
            ),
            (
                "winners that disagree",
                test_of((2000, 2000), [(400, 640), (300, 120), (0, 1)]),
                "no_difference_yet",
                None,
                "lead_magnet",
            ),
            (
                "the same rate, much traffic",
                test_of((4000, 4000), [(1100, 1100), (3, 4), (0, 1)]),
                "stop_equivalent",
                None,
                "lead_magnet",
            ),
            (
                "a 55/45 split",
                test_of((1100, 900), [(300, 245), (3, 4), (0, 1)]),
                "invalid_split",
                None,
                "lead_magnet",
            ),
            (
                "too few to read",
                test_of((50, 50), [(10, 12), (1, 1), (0, 0)]),
                "no_difference_yet",
                None,
                "lead_magnet",
            ),
        ];
        for (case, t, verdict, winner, stage) in cases {
            let x = experiment(&site, &t);
            assert_eq!(x.verdict, verdict, "{case}: {x:?}");
            assert_eq!(x.winner.as_deref(), winner, "{case}");
            assert_eq!(x.stage, stage, "{case}");
            assert_eq!(x.control, "control");
            assert_eq!(x.arms.len(), 2);
        }
    }
}
