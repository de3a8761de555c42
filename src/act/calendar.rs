//! Calendar stage: the next weeks' content work per partner, from its funnel.
//!
//! Takes: the site, each partner's funnel figures (from [`crate::funnel`]) and the plan dates.
//! Gives: a [`Calendar`] of tasks (a blog post brief, an enablement email and a CTA/landing
//! proposal per partner and week, chosen by the rules in [`plan`]), the task files rendered
//! through overridable templates ([`files`]), and the calendar as Markdown, JSON or iCalendar.
//!
//! By job: [`figures`] (what the planner reads of a funnel), [`task`] (the calendar and its
//! tasks), [`plan`] (the allocation rules), the private `assemble` (a schedule turned into
//! tasks) and `wording` (stage labels, subjects and reasons), [`mod@write`] (Markdown and JSON),
//! [`ics`], [`files`] (task files), `manifest` and `proposal`.

use crate::site::Site;
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::BTreeMap;

mod assemble;
pub mod figures;
pub mod files;
pub mod ics;
pub(crate) mod manifest;
pub(crate) mod plan;
pub(crate) mod proposal;
pub mod run;
pub mod task;
mod wording;
pub mod write;

use assemble::{make_task, readable_from, Ctx};
pub use figures::{
    ActionFigures, ArmFigures, CampaignFigures, ExperimentFigures, PartnerFigures, StageFigures,
};
pub use task::{Calendar, Task, TaskKind, Window, JSON_VERSION};
pub(crate) use wording::{arm_rate, did_figures};
pub use wording::{lower_first, plural, possessive, stage_label};
pub use write::{to_json, to_markdown};

/// Dates and size of a plan.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    /// "Now": the end of the funnel window.
    pub now: DateTime<Utc>,
    /// The first day of the plan.
    pub start: NaiveDate,
    /// How many weeks to plan.
    pub weeks: u32,
    /// The funnel window to plan from.
    pub window: Window,
    /// Changes earlier runs proposed that the partner files now have, by partner code.
    pub prior: BTreeMap<String, PriorChange>,
    /// The day an earlier run last asked a partner for traffic (28 days before the plan at
    /// most), by partner code.
    pub asked: BTreeMap<String, NaiveDate>,
}

/// A landing/CTA change an earlier `calendar` run proposed (a `fix-weakest-step` proposal in
/// the manifest, dated in the 28 days before the plan) and that the partner file now has.
#[derive(Debug, Clone, PartialEq)]
pub struct PriorChange {
    /// The proposal's date: the day the change was planned.
    pub date: NaiveDate,
    /// The stage it worked on.
    pub stage: String,
    /// The proposal file, relative to the site root.
    pub file: String,
    /// The funnel of the visitors who arrived on or after `date` only (journeys that started
    /// that day or later): what a measurement of the change reads. `None`: not read (a plan
    /// made without an event source).
    pub since: Option<SinceChange>,
}

/// A partner's figures counted only on the visitors who arrived on or after a change.
#[derive(Debug, Clone, PartialEq)]
pub struct SinceChange {
    /// Distinct visitors whose journey started on or after the change date.
    pub visitors: u64,
    /// The changed stage's rate over those of them old enough for it (its maturity horizon).
    pub stage: StageFigures,
}

/// The first Monday strictly after `now` (the default `--start`).
pub fn next_monday(now: DateTime<Utc>) -> NaiveDate {
    use chrono::Datelike;
    let today = now.date_naive();
    let ahead = 7 - u64::from(today.weekday().num_days_from_monday());
    today
        .checked_add_days(chrono::Days::new(ahead))
        .unwrap_or(today)
}

/// Plan the tasks of every partner with figures. Task files are named here but not rendered.
pub fn plan(site: &Site, figures: &[PartnerFigures], opts: &PlanOptions) -> Calendar {
    let by_code: BTreeMap<&str, &PartnerFigures> =
        figures.iter().map(|f| (f.code.as_str(), f)).collect();
    let mut tasks = Vec::new();
    // Briefs are draft content pages: they go to the site's content folder.
    let content_dir = site.config.content_dir(&site.root);
    for partner in &site.partners {
        let empty = PartnerFigures {
            code: partner.code.clone(),
            ..Default::default()
        };
        let f = by_code
            .get(partner.code.as_str())
            .copied()
            .unwrap_or(&empty);
        let standing = plan::standing(f);
        // A change an earlier run made is measured first while its cohort is not readable.
        let prior = opts.prior.get(&partner.code);
        // Counted on the visitors since the change, it is measured first whether it is
        // readable yet or not (then its task says when it will be).
        let measuring = prior.and_then(|c| {
            if c.since.is_some() {
                return Some(c.stage.as_str());
            }
            let horizon = f.stage(&c.stage).map_or(7, |s| s.horizon_days);
            let ready = readable_from(f, &site.config.bands, &opts.window, c.date, horizon);
            ready
                .is_none_or(|r| r > opts.start)
                .then_some(c.stage.as_str())
        });
        let schedule = plan::schedule(
            &standing,
            f.experiment.as_ref(),
            &plan::best_first(f),
            opts.start,
            opts.weeks,
            measuring,
            opts.asked.contains_key(&partner.code),
        );
        let ctx = Ctx {
            partner,
            content_dir: &content_dir,
            f,
            bands: &site.config.bands,
            opts,
            standing: &standing,
            schedule: &schedule,
            // What a `follows_prior` task follows: the change being measured, or the ask.
            prior: match (measuring, prior, opts.asked.get(&partner.code)) {
                (Some(_), Some(c), _) => Some((c.date, "proposal")),
                (_, _, Some(d)) => Some((*d, "email")),
                _ => None,
            },
            since: measuring.and(prior).and_then(|c| c.since.as_ref()),
        };
        for (week, specs) in schedule.iter().enumerate() {
            for spec in specs {
                tasks.push(make_task(&ctx, week as u32, spec));
            }
        }
    }
    tasks.sort_by(|a, b| (a.date, &a.partner, a.kind).cmp(&(b.date, &b.partner, b.kind)));
    Calendar {
        version: JSON_VERSION,
        title: format!("{} content calendar", site.config.name),
        now: opts.now,
        start: opts.start,
        weeks: opts.weeks,
        window: opts.window.clone(),
        uid_domain: host_of(&site.config.base_url),
        tasks,
    }
}

/// The site's host for ids and addresses; `partner-pages.invalid` when the URL has none.
fn host_of(base_url: &str) -> String {
    match crate::text::url::host_of(base_url) {
        "" => "partner-pages.invalid".into(),
        host => host.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_start_is_the_monday_after_now() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let monday = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        assert_eq!(next_monday(at("2026-11-24T12:00:00Z")), monday); // a Tuesday
        assert_eq!(next_monday(at("2026-11-29T23:59:59Z")), monday); // a Sunday
        assert_eq!(
            next_monday(at("2026-11-23T00:00:00Z")), // a Monday: the next one
            monday
        );
    }
}

#[cfg(test)]
pub(crate) mod tests_support {
    /// Wilson 95% interval, for hand-built test figures only (the funnel computes the real ones).
    pub(crate) fn wilson(k: u64, n: u64) -> (f64, f64) {
        if n == 0 {
            return (0.0, 0.0);
        }
        let z = 1.959_963_984_540_054_f64;
        let (k, n) = (k as f64, n as f64);
        let p = k / n;
        let d = 1.0 + z * z / n;
        let c = (p + z * z / (2.0 * n)) / d;
        let h = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / d;
        ((c - h).max(0.0), (c + h).min(1.0))
    }
}
