//! Calendar stage, the whole command as a library call: events -> funnel -> plan -> files.
//!
//! Takes: the site, an event source and the plan flags. Gives: the [`Calendar`] (with each
//! task's final file name) and what happened to each file. The funnel figures come from
//! [`crate::funnel`] over the same window as the build annotation (7 days ending at `--now`).

use super::files::{self, Outcome};
use super::{
    ActionFigures, Calendar, CampaignFigures, PartnerFigures, PlanOptions, StageFigures, Window,
};
use crate::error::{Error, Result};
use crate::events::Ts;
use crate::funnel::{FunnelReport, Range};
use crate::site::Site;
use chrono::{DateTime, NaiveDate, Utc};

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
    };
    let mut cal = super::plan(site, &figures(&report), &opts);
    let rendered = files::render_all(site, &cal)?;
    let outcomes = files::write_all(&site.root, &mut cal, &rendered, write)?;
    Ok((cal, outcomes))
}

fn to_utc(t: Ts) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_millis(t.0)
        .ok_or_else(|| Error::Internal(format!("time out of range: {}", t.0)))
}

/// What the planner reads of the funnel report: one [`PartnerFigures`] per partner.
pub fn figures(report: &FunnelReport) -> Vec<PartnerFigures> {
    report
        .partners
        .iter()
        .map(|p| {
            let r = &p.figures.rates;
            let stage = |name: &str, rate: &crate::funnel::Rate| StageFigures {
                stage: name.to_string(),
                label: super::stage_label(name).to_string(),
                count: rate.proportion.count,
                rate: rate.proportion.rate.unwrap_or(0.0),
                low: rate.proportion.low,
                high: rate.proportion.high,
                verdict: rate.verdict.as_str().to_string(),
                band_low: rate.band.low,
                band_high: rate.band.high,
            };
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
                    rule: p.action.rule.clone(),
                    action: p.action.action.clone(),
                    because: p.action.because.clone(),
                },
            }
        })
        .collect()
}
