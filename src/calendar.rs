//! Calendar stage: the next weeks' content work per partner, from its funnel.
//!
//! Takes: the site, each partner's funnel figures (from [`crate::funnel`]) and the plan dates.
//! Gives: a [`Calendar`] of tasks (a blog post brief, an enablement email and a CTA/landing
//! proposal per partner and week, chosen by the rules in [`plan`]), the task files rendered
//! through overridable templates ([`files`]), and the calendar as Markdown, JSON or iCalendar.
#![expect(missing_docs, reason = "public fields and items still to document")]

use crate::config::Bands;
use crate::partner::Partner;
use crate::site::Site;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

pub mod files;
pub mod ics;
pub(crate) mod manifest;
pub(crate) mod plan;
pub(crate) mod proposal;
pub mod run;

/// Version of the JSON shape (`schemas/calendar.schema.json`).
pub const JSON_VERSION: u32 = 1;

/// One stage of a partner's funnel as the planner reads it: a share of visitors with its 95%
/// Wilson interval, the band and the verdict the funnel gave.
#[derive(Debug, Clone, Serialize, PartialEq, Default, schemars::JsonSchema)]
pub struct StageFigures {
    pub stage: String,
    /// Human label: `lead magnet`, `CTA`, `activation`.
    pub label: String,
    pub count: u64,
    pub rate: f64,
    pub low: f64,
    pub high: f64,
    pub verdict: String,
    pub band_low: f64,
    pub band_high: f64,
}

/// One campaign's counts, to pick the campaign a partner should push next.
#[derive(Debug, Clone, Serialize, PartialEq, Default, schemars::JsonSchema)]
pub struct CampaignFigures {
    pub name: String,
    pub visitors: u64,
    pub lead_magnets: u64,
    pub activations: u64,
}

/// The funnel's recommended action for the partner: its rule, what to do and why.
#[derive(Debug, Clone, Serialize, PartialEq, Default, schemars::JsonSchema)]
pub struct ActionFigures {
    pub rule: String,
    pub action: String,
    pub because: String,
}

/// What the calendar reads of one partner's funnel.
#[derive(Debug, Clone, Serialize, PartialEq, Default, schemars::JsonSchema)]
pub struct PartnerFigures {
    pub code: String,
    pub visitors: u64,
    pub clicks: u64,
    /// `lead_magnet`, `cta`, `activation`, in funnel order.
    pub stages: Vec<StageFigures>,
    pub campaigns: Vec<CampaignFigures>,
    pub action: ActionFigures,
}

impl PartnerFigures {
    pub fn stage(&self, name: &str) -> Option<&StageFigures> {
        self.stages.iter().find(|s| s.stage == name)
    }
}

/// The three kinds of weekly task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TaskKind {
    Brief,
    Email,
    Proposal,
}

impl TaskKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskKind::Brief => "brief",
            TaskKind::Email => "email",
            TaskKind::Proposal => "proposal",
        }
    }
}

/// One task of the calendar, with the rule and figures that made it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Task {
    /// Stable id: `<date>-<partner>-<kind>`; the iCalendar UID is built from it.
    pub id: String,
    /// 1-based week of the plan.
    pub week: u32,
    #[serde(serialize_with = "ser_date")]
    #[schemars(with = "String", pattern(crate::schema::DATE))]
    pub date: NaiveDate,
    #[schemars(pattern(crate::schema::CODE))]
    pub partner: String,
    pub partner_name: String,
    pub kind: TaskKind,
    pub title: String,
    /// The allocation rule (docs/calendar.md).
    pub rule: String,
    /// The stage the task works on (`visit` for collect-traffic).
    #[schemars(with = "Option<crate::stage::Stage>")]
    pub target_stage: Option<String>,
    /// Co-marketing format: `guest-post` or `webinar`.
    pub format: Option<String>,
    /// One sentence: the figures and why this task.
    #[schemars(length(min = 1))]
    pub reason: String,
    /// Questions the audience asks at the target stage (what a brief answers).
    pub objections: Vec<String>,
    /// The campaign to ask the partner to push next.
    pub next_campaign: String,
    /// The partner's funnel in the annotation window.
    pub figures: PartnerFigures,
    /// The file this task was written to, relative to the site root.
    pub file: String,
}

impl Task {
    /// Plain text for calendar descriptions: reason, rule, funnel action and file.
    pub fn description(&self) -> String {
        let mut s = format!("{}\nRule: {}.", self.reason, self.rule);
        if !self.figures.action.rule.is_empty() {
            s.push_str(&format!(
                "\nFunnel action ({}): {} {}",
                self.figures.action.rule, self.figures.action.action, self.figures.action.because
            ));
        }
        s.push_str(&format!("\nFile: {}", self.file));
        s
    }
}

fn ser_date<S: serde::Serializer>(d: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&d.format("%Y-%m-%d").to_string())
}

fn ser_time<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// The funnel window the plan was made from: `[since, until)`.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Window {
    #[serde(serialize_with = "ser_time")]
    #[schemars(with = "String", pattern(crate::schema::TIME_SECONDS))]
    pub since: DateTime<Utc>,
    #[serde(serialize_with = "ser_time")]
    #[schemars(with = "String", pattern(crate::schema::TIME_SECONDS))]
    pub until: DateTime<Utc>,
}

/// Output of `partner-pages calendar --format json`: the planned tasks per partner and week,
/// each with the rule and the funnel figures behind it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Calendar {
    /// Version of this JSON shape.
    #[schemars(extend("const" = JSON_VERSION))]
    pub version: u32,
    pub title: String,
    /// `--now`: the iCalendar DTSTAMP and the end of the funnel window.
    #[serde(serialize_with = "ser_time")]
    #[schemars(with = "String", pattern(crate::schema::TIME_SECONDS))]
    pub now: DateTime<Utc>,
    #[serde(serialize_with = "ser_date")]
    #[schemars(with = "String", pattern(crate::schema::DATE))]
    pub start: NaiveDate,
    pub weeks: u32,
    pub window: Window,
    /// Domain part of iCalendar UIDs (the host of `base_url`).
    #[serde(skip)]
    pub uid_domain: String,
    /// Sorted by date, partner, kind.
    pub tasks: Vec<Task>,
}

/// Dates and size of a plan.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    pub now: DateTime<Utc>,
    pub start: NaiveDate,
    pub weeks: u32,
    pub window: Window,
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
        for week in 0..opts.weeks {
            let wp = plan::week_plan(&standing, week);
            for &kind in &wp.kinds {
                tasks.push(make_task(
                    partner,
                    f,
                    &site.config.bands,
                    &wp,
                    week,
                    kind,
                    opts.start,
                ));
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

fn host_of(base_url: &str) -> String {
    let rest = base_url.split_once("://").map_or(base_url, |(_, r)| r);
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() {
        "partner-pages.invalid".into()
    } else {
        host.to_string()
    }
}

/// Human label of a stage, for titles and sentences.
pub fn stage_label(stage: &str) -> &str {
    match stage {
        "lead_magnet" => "lead magnet",
        "cta" => "CTA",
        "activation" => "activation",
        "visit" => "visit",
        other => other,
    }
}

/// `SEO network's`, `agency partners'`.
pub fn possessive(name: &str) -> String {
    if name.ends_with('s') {
        format!("{name}'")
    } else {
        format!("{name}'s")
    }
}

/// `1 activation`, `9 activations`.
pub fn plural(n: u64, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// Lower-case the first letter for use inside a sentence, unless it starts an acronym
/// ("SEO consultants", "AI tools" stay as written).
pub fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(_) if c.clone().next().is_some_and(|n| n.is_uppercase()) => s.to_string(),
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Rates as the report writes them: `0.0067` -> `0.7%`, `0.2` -> `20%`.
pub(crate) use crate::funnel::stats::pct;

fn make_task(
    partner: &Partner,
    f: &PartnerFigures,
    bands: &Bands,
    wp: &plan::WeekPlan,
    week: u32,
    kind: TaskKind,
    start: NaiveDate,
) -> Task {
    let date = plan::task_date(start, week, kind);
    let ds = date.format("%Y-%m-%d").to_string();
    let code = &partner.code;
    let name = &partner.name;
    let stage = wp.target_stage.clone();
    let format_label = wp.format.map(|f| f.replace('-', " "));
    let title = match (kind, wp.rule) {
        (TaskKind::Brief, plan::RULE_CO_MARKETING) => format!(
            "Brief: {} with {name}",
            format_label.as_deref().unwrap_or("co-marketing post")
        ),
        (TaskKind::Brief, plan::RULE_STRENGTH) => format!(
            "Brief: more of what converts {} audience ({})",
            possessive(name),
            stage_label(stage.as_deref().unwrap_or("lead_magnet"))
        ),
        (TaskKind::Brief, _) => format!(
            "Brief: answer the {} objections of {} audience",
            stage_label(stage.as_deref().unwrap_or("visit")),
            possessive(name)
        ),
        (TaskKind::Email, plan::RULE_CO_MARKETING) => format!(
            "Email {name}: offer a {}",
            format_label.as_deref().unwrap_or("co-marketing slot")
        ),
        (TaskKind::Email, plan::RULE_COLLECT) => format!("Email {name}: ask for more traffic"),
        (TaskKind::Email, _) => format!("Email {name}: what converted, and the next campaign"),
        (TaskKind::Proposal, plan::RULE_CO_MARKETING) => {
            format!("Partner file update for {name}: a tracked campaign for the slot")
        }
        (TaskKind::Proposal, _) => match stage.as_deref() {
            Some("lead_magnet") => format!("Landing update for {name}: headline + proof block"),
            Some("cta") => format!("CTA update for {name}: a clearer next step"),
            _ => format!("Landing update for {name}: point to the activation step"),
        },
    };
    let reason = reason(partner, f, bands, wp);
    let file = match kind {
        TaskKind::Brief => format!(
            "content/briefs/{ds}-{code}-{}.md",
            plan::slug(wp.format.or(stage.as_deref()).unwrap_or("brief"))
        ),
        TaskKind::Email => format!("emails/{ds}-{code}.md"),
        TaskKind::Proposal => format!("proposals/{ds}-{code}.yaml.patch"),
    };
    Task {
        id: format!("{ds}-{code}-{}", kind.as_str()),
        week: week + 1,
        date,
        partner: code.clone(),
        partner_name: name.clone(),
        kind,
        title,
        rule: wp.rule.to_string(),
        target_stage: stage.clone(),
        format: wp.format.map(str::to_string),
        reason,
        objections: plan::objections(
            if wp.format.is_some() {
                "co-marketing"
            } else {
                stage.as_deref().unwrap_or("visit")
            },
            &lower_first(&partner.audience),
            &partner.promise,
        ),
        next_campaign: plan::next_campaign(f),
        figures: f.clone(),
        file,
    }
}

/// One sentence with the figures behind the week's rule.
fn reason(partner: &Partner, f: &PartnerFigures, bands: &Bands, wp: &plan::WeekPlan) -> String {
    let name = &partner.name;
    match wp.rule {
        plan::RULE_CO_MARKETING => match f.stage("activation") {
            Some(a) => format!(
                "{name}: {} from {} visitors ({}, 95% interval {}–{}); the whole interval is above the {}–{} band, so the audience is qualified: give it co-marketing inventory.",
                plural(a.count, "activation"), f.visitors, pct(a.rate), pct(a.low), pct(a.high), pct(a.band_low), pct(a.band_high)
            ),
            None => format!("{name}: activation above its band."),
        },
        plan::RULE_COLLECT => format!(
            "{name}: {} visitors ({} clicks) is under the {} needed for a verdict; collect more traffic before changing content.",
            f.visitors, f.clicks, bands.min_visitors
        ),
        plan::RULE_STRENGTH => {
            let steps: Vec<String> = f
                .stages
                .iter()
                .map(|s| format!("{} {}", s.label, pct(s.rate)))
                .collect();
            format!(
                "{name}: every step is within its band ({} of {} visitors); the funnel says keep the page, so the content builds on the best step, {}.",
                steps.join(", "),
                f.visitors,
                stage_label(wp.target_stage.as_deref().unwrap_or("lead_magnet"))
            )
        }
        _ => match wp.target_stage.as_deref().and_then(|s| f.stage(s)) {
            Some(s) => format!(
                "{name}: {} step at {} of {} visitors ({} reached it; 95% interval {}–{}, band {}–{}, verdict {}); the weakest step gets the fix first.",
                stage_label(&s.stage), pct(s.rate), f.visitors, s.count, pct(s.low), pct(s.high),
                pct(s.band_low), pct(s.band_high), if s.verdict.is_empty() { "n/a" } else { &s.verdict }
            ),
            None => format!("{name}: no stage figures yet."),
        },
    }
}

/// The calendar as Markdown: one table per week.
pub fn to_markdown(cal: &Calendar) -> String {
    let mut out = format!(
        "# {}\n\nPlan of {} week{} from {}, made from the funnel of {} to {} (UTC).\n",
        cal.title,
        cal.weeks,
        if cal.weeks == 1 { "" } else { "s" },
        cal.start,
        cal.window.since.format("%Y-%m-%d %H:%M"),
        cal.window.until.format("%Y-%m-%d %H:%M"),
    );
    for week in 1..=cal.weeks {
        out.push_str(&format!("\n## Week {week}\n\n"));
        out.push_str("| date | partner | task | rule | why | file |\n|---|---|---|---|---|---|\n");
        for t in cal.tasks.iter().filter(|t| t.week == week) {
            out.push_str(&format!(
                "| {} | {} | {} | `{}` | {} | [{}]({}) |\n",
                t.date,
                md_cell(&t.partner),
                md_cell(&t.title),
                t.rule,
                md_cell(&t.reason),
                md_cell(&t.file),
                t.file
            ));
        }
    }
    out
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The calendar as pretty JSON (schema: `schemas/calendar.schema.json`).
pub fn to_json(cal: &Calendar) -> crate::Result<String> {
    serde_json::to_string_pretty(cal)
        .map(|mut s| {
            s.push('\n');
            s
        })
        .map_err(|e| crate::Error::Internal(format!("calendar JSON: {e}")))
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
