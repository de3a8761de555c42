//! What the calendar gives: the [`Calendar`] of [`Task`]s, each with the rule and figures that
//! made it (the JSON shape of `schemas/calendar.schema.json`).

use super::{plan, PartnerFigures};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

/// Version of the JSON shape (`schemas/calendar.schema.json`).
pub const JSON_VERSION: u32 = 2;

/// The kinds of weekly task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TaskKind {
    /// A content brief (`<content_dir>/briefs/`).
    Brief,
    /// An email to the partner (`emails/`).
    Email,
    /// A patch of the partner file to review (`proposals/`).
    Proposal,
    /// A staff check: wait, measure a change, read a verdict, fix a test's split, re-plan.
    Check,
}

impl TaskKind {
    /// The kind's name, as in ids and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskKind::Brief => "brief",
            TaskKind::Email => "email",
            TaskKind::Proposal => "proposal",
            TaskKind::Check => "check",
        }
    }
}

/// One task of the calendar, with the rule and figures that made it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Task {
    /// Stable id: `<date>-<partner>-<kind>` (checks add their phase); the iCalendar UID is
    /// built from it.
    pub id: String,
    /// 1-based week of the plan.
    pub week: u32,
    /// The day the task is due.
    #[serde(serialize_with = "ser_date")]
    #[schemars(with = "String", pattern(crate::json_schema::DATE))]
    pub date: NaiveDate,
    /// The partner's code.
    #[schemars(pattern(crate::json_schema::CODE))]
    pub partner: String,
    /// The partner's name.
    pub partner_name: String,
    /// What kind of task.
    pub kind: TaskKind,
    /// One line: what to do.
    pub title: String,
    /// The allocation rule (docs/calendar.md).
    #[schemars(extend("enum" = plan::RULES))]
    pub rule: String,
    /// What the task does in the partner's sequence: `act`, `measure`, `next-step`,
    /// `follow-up`, `ask`, `launch`, `wait`, `read`, `replan`.
    #[schemars(extend("enum" = plan::PHASES))]
    pub phase: String,
    /// The id of the earlier task this one follows through on (the change a check measures).
    pub follows: Option<String>,
    /// When the figures the task needs are readable (`YYYY-MM-DD`), if it waits for them.
    #[schemars(pattern(crate::json_schema::DATE))]
    pub ready: Option<String>,
    /// Emails: the subject line.
    pub subject: Option<String>,
    /// The stage the task works on (`visit` for traffic).
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
        let mut s = format!("{}\nRule: {} ({}).", self.reason, self.rule, self.phase);
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
    /// Start of the window (included).
    #[serde(serialize_with = "ser_time")]
    #[schemars(with = "String", pattern(crate::json_schema::TIME_SECONDS))]
    pub since: DateTime<Utc>,
    /// End of the window (excluded).
    #[serde(serialize_with = "ser_time")]
    #[schemars(with = "String", pattern(crate::json_schema::TIME_SECONDS))]
    pub until: DateTime<Utc>,
}

impl Window {
    /// Whole days in the window (at least 1).
    pub fn days(&self) -> i64 {
        (self.until - self.since).num_days().max(1)
    }
}

/// Output of `partner-pages calendar --format json`: the planned tasks per partner and week,
/// each with the rule and the funnel figures behind it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Calendar {
    /// Version of this JSON shape.
    #[schemars(extend("const" = JSON_VERSION))]
    pub version: u32,
    /// The calendar's title.
    pub title: String,
    /// `--now`: the iCalendar DTSTAMP and the end of the funnel window.
    #[serde(serialize_with = "ser_time")]
    #[schemars(with = "String", pattern(crate::json_schema::TIME_SECONDS))]
    pub now: DateTime<Utc>,
    /// The first day of the plan (by default the Monday after `now`).
    #[serde(serialize_with = "ser_date")]
    #[schemars(with = "String", pattern(crate::json_schema::DATE))]
    pub start: NaiveDate,
    /// How many weeks it covers.
    pub weeks: u32,
    /// The funnel window the plan was made from.
    pub window: Window,
    /// Domain part of iCalendar UIDs (the host of `base_url`).
    #[serde(skip)]
    pub uid_domain: String,
    /// Sorted by date, partner, kind.
    pub tasks: Vec<Task>,
}
