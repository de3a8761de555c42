//! Calendar stage: the next weeks' content work per partner, from its funnel.
//!
//! Takes: the site, each partner's funnel figures (from [`crate::funnel`]) and the plan dates.
//! Gives: a [`Calendar`] of tasks (a blog post brief, an enablement email and a CTA/landing
//! proposal per partner and week, chosen by the rules in [`plan`]), the task files rendered
//! through overridable templates ([`files`]), and the calendar as Markdown, JSON or iCalendar.

use crate::config::Bands;
use crate::partner::Partner;
use crate::site::Site;
use crate::text::escape::table_cell;
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
pub const JSON_VERSION: u32 = 2;

/// One stage of a partner's funnel as the planner reads it: a share of the visitors old enough
/// to be judged on it, with its 95% Wilson interval, the band and the verdict the funnel gave.
#[derive(Debug, Clone, Serialize, PartialEq, Default, schemars::JsonSchema)]
pub struct StageFigures {
    /// The stage: `lead_magnet`, `cta` or `activation`.
    pub stage: String,
    /// Human label: `lead magnet`, `CTA`, `activation`.
    pub label: String,
    /// Visitors old enough who reached the stage within its horizon.
    pub count: u64,
    /// Visitors old enough to be judged on the stage (the base of the rate).
    pub of: u64,
    /// Its rate over the visitors old enough for it.
    pub rate: f64,
    /// Lower end of the 95% interval.
    pub low: f64,
    /// Upper end of the 95% interval.
    pub high: f64,
    /// The funnel's verdict (`below`, `within`, `above`, `too_early`, `insufficient`).
    pub verdict: String,
    /// Lower end of the stage's band.
    pub band_low: f64,
    /// Upper end of the stage's band.
    pub band_high: f64,
    /// Days a visitor is given to reach the stage (its maturity horizon).
    pub horizon_days: u32,
    /// `too_early`: the day the whole cohort is old enough (`YYYY-MM-DD`).
    #[schemars(pattern(crate::schema::DATE))]
    pub ready: Option<String>,
}

impl StageFigures {
    /// The figures as the funnel's explanation writes them:
    /// `2 of 290 visitors: 0.7% [0.2–2.5%] (band 20–35%)`.
    pub fn cite(&self) -> String {
        format!(
            "{} of {} visitors: {} (band {}–{})",
            self.count,
            self.of,
            crate::funnel::stats::Proportion::new(self.count, self.of).display(),
            pct(self.band_low),
            pct(self.band_high)
        )
    }

    /// [`StageFigures::ready`] as a date.
    pub fn ready_date(&self) -> Option<NaiveDate> {
        self.ready
            .as_deref()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
    }
}

/// One campaign's counts, to pick the campaign a partner should push next.
#[derive(Debug, Clone, Serialize, PartialEq, Default, schemars::JsonSchema)]
pub struct CampaignFigures {
    /// The campaign's name.
    pub name: String,
    /// Its distinct visitors.
    pub visitors: u64,
    /// Its lead magnets taken.
    pub lead_magnets: u64,
    /// Its activations.
    pub activations: u64,
}

/// The funnel's recommended action for the partner: its rule, what to do and why.
#[derive(Debug, Clone, Serialize, PartialEq, Default, schemars::JsonSchema)]
pub struct ActionFigures {
    /// The funnel rule's name.
    pub rule: String,
    /// What to do.
    pub action: String,
    /// Why, with the figures.
    pub because: String,
    /// With a test: the funnel rule once the test is over (empty without a test).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub without_test: String,
}

/// One variant of a partner's test at the stage that decided it.
#[derive(Debug, Clone, Serialize, PartialEq, Default, schemars::JsonSchema)]
pub struct ArmFigures {
    /// The variant's id.
    pub variant: String,
    /// The promise the variant shows (the partner's own when it does not override it).
    pub promise: String,
    /// Visitors who saw it.
    pub visitors: u64,
    /// Those of them who converted at the deciding stage.
    pub conversions: u64,
}

/// The verdict of a partner's experiment, as the planner reads it.
#[derive(Debug, Clone, Serialize, PartialEq, Default, schemars::JsonSchema)]
pub struct ExperimentFigures {
    /// `winner`, `stop_equivalent`, `invalid_split` or `no_difference_yet`.
    pub verdict: String,
    /// The winning variant (`winner` only).
    pub winner: Option<String>,
    /// The control: the first variant.
    pub control: String,
    /// The stage whose test gave the verdict.
    pub stage: String,
    /// The test's own explanation, with its figures.
    pub because: String,
    /// Every variant's visitors and conversions at that stage.
    pub arms: Vec<ArmFigures>,
}

/// What the calendar reads of one partner's funnel.
#[derive(Debug, Clone, Serialize, PartialEq, Default, schemars::JsonSchema)]
pub struct PartnerFigures {
    /// The partner's code.
    pub code: String,
    /// Distinct visitors in the window.
    pub visitors: u64,
    /// Distinct visitors who clicked the partner link.
    pub clicks: u64,
    /// `lead_magnet`, `cta`, `activation`, in funnel order.
    pub stages: Vec<StageFigures>,
    /// Per campaign, for the campaign to push next.
    pub campaigns: Vec<CampaignFigures>,
    /// The funnel's recommended action.
    pub action: ActionFigures,
    /// The partner's experiment, when it runs one.
    pub experiment: Option<ExperimentFigures>,
}

impl PartnerFigures {
    /// The figures of a stage by name.
    pub fn stage(&self, name: &str) -> Option<&StageFigures> {
        self.stages.iter().find(|s| s.stage == name)
    }
}

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
    #[schemars(with = "String", pattern(crate::schema::DATE))]
    pub date: NaiveDate,
    /// The partner's code.
    #[schemars(pattern(crate::schema::CODE))]
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
    #[schemars(pattern(crate::schema::DATE))]
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
    #[schemars(with = "String", pattern(crate::schema::TIME_SECONDS))]
    pub since: DateTime<Utc>,
    /// End of the window (excluded).
    #[serde(serialize_with = "ser_time")]
    #[schemars(with = "String", pattern(crate::schema::TIME_SECONDS))]
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
    #[schemars(with = "String", pattern(crate::schema::TIME_SECONDS))]
    pub now: DateTime<Utc>,
    /// The first day of the plan (by default the Monday after `now`).
    #[serde(serialize_with = "ser_date")]
    #[schemars(with = "String", pattern(crate::schema::DATE))]
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
        let measuring = prior.and_then(|c| {
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

/// `1 activation`, `9 activations` (the regular plural of [`crate::text::plural`]).
pub fn plural(n: u64, what: &str) -> String {
    crate::text::plural(n, what, &format!("{what}s"))
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

/// The base form of a description's first verb, lower-cased, for "went on to ...":
/// `Imports a first client site` -> `import a first client site`, `Copies the snippet` ->
/// `copy the snippet`. `None` when the first word is not a third-person verb.
pub(crate) fn base_form(description: &str) -> Option<String> {
    let d = description.trim().trim_end_matches('.');
    let (first, rest) = d.split_once(' ').unwrap_or((d, ""));
    let w = first.to_lowercase();
    let base = if let Some(s) = w.strip_suffix("ies") {
        format!("{s}y")
    } else if ["sses", "shes", "ches", "xes", "zes", "oes"]
        .iter()
        .any(|e| w.ends_with(e))
    {
        w[..w.len() - 2].to_string()
    } else if w.ends_with('s') && !w.ends_with("ss") && w.len() > 2 {
        w[..w.len() - 1].to_string()
    } else {
        return None;
    };
    Some(if rest.is_empty() {
        base
    } else {
        format!("{base} {rest}")
    })
}

/// What reaching a stage means for this partner's visitors, after "N of M visitors":
/// `took the Content QA checklist`, `went on to book a demo`, `went on to import a first
/// client site`.
pub(crate) fn did(partner: &Partner, stage: &str) -> String {
    match stage {
        "lead_magnet" => format!("took the {}", partner.promise),
        "cta" => format!("went on to {}", lower_first(&partner.cta.label)),
        "activation" => match base_form(&partner.activation.description) {
            Some(b) => format!("went on to {b}"),
            None => format!(
                "reached the first result ({})",
                lower_first(&partner.activation.description)
            ),
        },
        _ => "visited the page".into(),
    }
}

/// `36 of 140 visitors took the Cost reduction guide (26%)`.
pub(crate) fn did_figures(partner: &Partner, s: &StageFigures) -> String {
    format!(
        "{} of {} visitors {} ({})",
        s.count,
        s.of,
        did(partner, &s.stage),
        pct(s.rate)
    )
}

/// What the planner knows while it turns one partner's schedule into tasks.
struct Ctx<'a> {
    partner: &'a Partner,
    /// The site's content folder (`content_dir`), relative to the site root.
    content_dir: &'a str,
    f: &'a PartnerFigures,
    bands: &'a Bands,
    opts: &'a PlanOptions,
    standing: &'a plan::Standing,
    schedule: &'a plan::Schedule,
    /// The earlier run's task a `follows_prior` task follows: its date and kind.
    prior: Option<(NaiveDate, &'static str)>,
}

/// The day a cohort that starts on `from` has `min_visitors` visitors old enough for a stage
/// of `horizon_days`, at the partner's pace over `window`; `None` without traffic.
fn readable_from(
    f: &PartnerFigures,
    bands: &Bands,
    window: &Window,
    from: NaiveDate,
    horizon_days: u32,
) -> Option<NaiveDate> {
    let pace = f.visitors as f64 / window.days() as f64;
    if pace <= 0.0 {
        return None;
    }
    let days = (bands.min_visitors as f64 / pace).ceil() as u64;
    Some(plan::add_days(from, days + u64::from(horizon_days)))
}

/// When a measurement can be read: `on <date>`, with a warning past eight weeks (at that pace
/// the change cannot be measured soon: more traffic comes first), or `once it has traffic`.
fn readable_text(ready: Option<NaiveDate>, since: NaiveDate) -> String {
    match ready {
        None => "once it has traffic".into(),
        Some(d) if (d - since).num_days() > 56 => format!(
            "on {}, more than eight weeks away at this pace: ask the partner for more traffic before counting on this measurement",
            d.format("%Y-%m-%d")
        ),
        Some(d) => format!("on {}", d.format("%Y-%m-%d")),
    }
}

impl Ctx<'_> {
    fn date(&self, week: u32, kind: TaskKind, rule: &str) -> NaiveDate {
        plan::task_date(self.opts.start, week, kind, rule)
    }

    /// The spec of `kind` in 0-based `week`, if any.
    fn spec(&self, week: u32, kind: TaskKind) -> Option<&plan::Spec> {
        self.schedule
            .get(week as usize)
            .and_then(|w| w.iter().find(|s| s.kind == kind))
    }

    fn id(&self, week: u32, spec: &plan::Spec) -> String {
        let ds = self.date(week, spec.kind, spec.rule).format("%Y-%m-%d");
        let code = &self.partner.code;
        match spec.kind {
            TaskKind::Check => format!("{ds}-{code}-check-{}", spec.phase),
            k => format!("{ds}-{code}-{}", k.as_str()),
        }
    }

    /// Visitors a day at this partner's pace over the window.
    fn pace(&self) -> f64 {
        self.f.visitors as f64 / self.opts.window.days() as f64
    }

    /// `about 72 a week, from 290 in the 28 days before 2026-11-24`.
    fn pace_text(&self) -> String {
        format!(
            "about {:.0} a week, from {} in the {} days before {}",
            self.pace() * 7.0,
            self.f.visitors,
            self.opts.window.days(),
            self.opts.window.until.format("%Y-%m-%d")
        )
    }

    /// The day a cohort that starts on `from` has `min_visitors` visitors old enough for
    /// `stage`, at this partner's pace; `None` without traffic.
    fn readable(&self, from: NaiveDate, horizon_days: u32) -> Option<NaiveDate> {
        readable_from(self.f, self.bands, &self.opts.window, from, horizon_days)
    }

    fn stage(&self, spec: &plan::Spec) -> Option<&StageFigures> {
        spec.target_stage.as_deref().and_then(|s| self.f.stage(s))
    }

    fn campaign_of(&self, week: u32, format: &str) -> String {
        format!(
            "{format}-{}",
            self.date(week, TaskKind::Proposal, plan::RULE_CO_MARKETING)
                .format("%Y-%m-%d")
        )
    }
}

fn make_task(ctx: &Ctx<'_>, week: u32, spec: &plan::Spec) -> Task {
    let partner = ctx.partner;
    let f = ctx.f;
    let date = ctx.date(week, spec.kind, spec.rule);
    let ds = date.format("%Y-%m-%d").to_string();
    let code = &partner.code;
    let name = &partner.name;
    let stage = spec.target_stage.clone();
    let stage_name = stage_label(stage.as_deref().unwrap_or("visit")).to_string();
    let format_label = spec.format.map(|f| f.replace('-', " "));
    let follows = spec
        .follows
        .map(|(w, k)| (w, k, ctx.spec(w, k)))
        .and_then(|(w, _, s)| s.map(|s| (w, s)));
    let prior = ctx.prior.filter(|_| spec.follows_prior);
    let follows_id = follows
        .map(|(w, s)| ctx.id(w, s))
        .or_else(|| prior.map(|(d, kind)| format!("{}-{code}-{kind}", d.format("%Y-%m-%d"))));
    let follows_date = follows
        .map(|(w, s)| ctx.date(w, s.kind, s.rule))
        .or(prior.map(|(d, _)| d));
    let (reason, ready) = reason(ctx, week, spec, follows_date);
    let followed_stage = follows.and_then(|(_, s)| s.target_stage.as_deref());
    let subject =
        (spec.kind == TaskKind::Email).then(|| subject(ctx, spec, follows_date, followed_stage));
    let title = match spec.kind {
        TaskKind::Email => format!(
            "Email {name}: {}",
            subject.as_deref().unwrap_or("an update")
        ),
        TaskKind::Brief => match (spec.rule, spec.phase) {
            (plan::RULE_CO_MARKETING, _) => format!(
                "Brief: {} with {name}",
                format_label.as_deref().unwrap_or("co-marketing post")
            ),
            (plan::RULE_STRENGTH, _) => format!(
                "Brief: more of what converts {} audience ({stage_name})",
                possessive(name)
            ),
            (plan::RULE_COLLECT, _) => format!(
                "Brief: a post {name} can share with {}",
                lower_first(&partner.audience)
            ),
            _ => format!(
                "Brief: answer the {stage_name} objections of {} audience",
                possessive(name)
            ),
        },
        TaskKind::Proposal => match spec.rule {
            plan::RULE_CO_MARKETING => format!(
                "Partner file update for {name}: a tracked campaign for the {}",
                format_label.as_deref().unwrap_or("slot")
            ),
            plan::RULE_PROMOTE => format!(
                "Promote the winning variant `{}` of {name}",
                f.experiment
                    .as_ref()
                    .and_then(|x| x.winner.as_deref())
                    .unwrap_or("?")
            ),
            plan::RULE_END_TEST => format!("End the test of {name}, keep the control"),
            _ => match stage.as_deref() {
                Some("lead_magnet") => format!("Landing update for {name}: headline + proof block"),
                Some("cta") => format!("CTA update for {name}: a clearer next step"),
                _ => format!("Landing update for {name}: point to the activation step"),
            },
        },
        TaskKind::Check => match spec.phase {
            plan::PHASE_ACT | plan::PHASE_WAIT
                if [
                    plan::RULE_FIX_HANDOFF,
                    plan::RULE_LET_TEST_RUN,
                    plan::RULE_KEEP_MEASURING,
                ]
                .contains(&spec.rule) =>
            {
                format!("{name}: {}", f.action.action.trim_end_matches('.'))
            }
            plan::PHASE_MEASURE if spec.rule == plan::RULE_FIX_HANDOFF => format!(
                "Count the clicks of {name} that reach the page since {}",
                follows_date.map_or(ds.clone(), |d| d.to_string())
            ),
            plan::PHASE_READ if spec.rule == plan::RULE_LET_TEST_RUN => {
                format!("Read the test of {name}")
            }
            plan::PHASE_READ if spec.rule == plan::RULE_KEEP_MEASURING => {
                format!("Read {} open stages again", possessive(name))
            }
            plan::PHASE_WAIT => format!(
                "Wait for {} cohort: no change until {}",
                possessive(name),
                ready.as_deref().unwrap_or("it is old enough")
            ),
            plan::PHASE_READ => format!(
                "Read {} verdict on {}",
                possessive(name),
                ready.as_deref().unwrap_or("the ready date")
            ),
            plan::PHASE_REPLAN => format!("Re-plan {name} from the new data"),
            plan::PHASE_ACT if spec.rule == plan::RULE_FIX_SPLIT => {
                format!("Fix the traffic split of {} test", possessive(name))
            }
            _ => match (spec.rule, spec.format) {
                (plan::RULE_COLLECT, _) => format!(
                    "Count {} visitors since {}",
                    possessive(name),
                    follows_date.map_or(ds.clone(), |d| d.to_string())
                ),
                (plan::RULE_CO_MARKETING, Some(fm)) => format!(
                    "Measure {} {} campaign",
                    possessive(name),
                    fm.replace('-', " ")
                ),
                (plan::RULE_STRENGTH, _) => format!(
                    "Measure {} {} campaign",
                    possessive(name),
                    plan::next_campaign(f)
                ),
                _ => format!(
                    "Measure the {stage_name} change of {} for {name}",
                    follows_date.map_or(ds.clone(), |d| d.to_string())
                ),
            },
        },
    };
    let file = match spec.kind {
        TaskKind::Brief => format!(
            "{}/briefs/{ds}-{code}-{}.md",
            ctx.content_dir,
            plan::slug(spec.format.or(stage.as_deref()).unwrap_or("brief"))
        ),
        TaskKind::Email => format!("emails/{ds}-{code}.txt"),
        TaskKind::Proposal => format!("proposals/{ds}-{code}.yaml.patch"),
        TaskKind::Check => format!("checks/{ds}-{code}-{}.md", spec.phase),
    };
    let objection_stage = if spec.format.is_some() {
        "co-marketing"
    } else {
        stage.as_deref().unwrap_or("visit")
    };
    let next_campaign = match (spec.rule, spec.format) {
        (plan::RULE_CO_MARKETING, Some(fm)) if spec.kind != TaskKind::Proposal => {
            // The email and brief push the campaign their week's proposal adds.
            let w = spec.follows.map_or(week, |(w, _)| w);
            if ctx.spec(w, TaskKind::Proposal).is_some() {
                ctx.campaign_of(w, fm)
            } else {
                plan::next_campaign(f)
            }
        }
        _ => plan::next_campaign(f),
    };
    let _ = ctx.standing;
    Task {
        id: ctx.id(week, spec),
        week: week + 1,
        date,
        partner: code.clone(),
        partner_name: name.clone(),
        kind: spec.kind,
        title,
        rule: spec.rule.to_string(),
        phase: spec.phase.to_string(),
        follows: follows_id,
        ready,
        subject,
        target_stage: stage.clone(),
        format: spec.format.map(str::to_string),
        reason,
        objections: if spec.kind == TaskKind::Brief {
            plan::objections(
                objection_stage,
                &lower_first(&partner.audience),
                &partner.promise,
            )
        } else {
            Vec::new()
        },
        next_campaign,
        figures: f.clone(),
        file,
    }
}

/// The winner's (or the control's) promise and figures, and the other arms'.
fn arm<'a>(x: &'a ExperimentFigures, id: &str) -> Option<&'a ArmFigures> {
    x.arms.iter().find(|a| a.variant == id)
}

pub(crate) fn arm_rate(a: &ArmFigures) -> String {
    if a.visitors == 0 {
        "–".into()
    } else {
        pct(a.conversions as f64 / a.visitors as f64)
    }
}

/// The email's subject: the partner's own figures and what converted, never a thank-you for
/// nothing.
fn subject(
    ctx: &Ctx<'_>,
    spec: &plan::Spec,
    follows: Option<NaiveDate>,
    followed_stage: Option<&str>,
) -> String {
    let p = ctx.partner;
    let f = ctx.f;
    let best = plan::strongest(f);
    match (spec.rule, spec.phase) {
        (plan::RULE_FIX_HANDOFF, _) => {
            "Clicks on your link are not all reaching the page: can you check the link you use?"
                .to_string()
        }
        (plan::RULE_PROMOTE, _) => {
            let x = f.experiment.as_ref();
            let w = x.and_then(|x| x.winner.as_deref().and_then(|id| arm(x, id)));
            let others: Vec<String> = x
                .map(|x| {
                    x.arms
                        .iter()
                        .filter(|a| Some(a.variant.as_str()) != x.winner.as_deref())
                        .map(arm_rate)
                        .collect()
                })
                .unwrap_or_default();
            let what = match spec.target_stage.as_deref() {
                Some("lead_magnet") => "took the free resource".to_string(),
                Some(st) => did(p, st),
                None => "converted".into(),
            };
            match w {
                Some(w) => format!(
                    "\"{}\" converted best on your page: {} of its visitors {what}, against {}",
                    w.promise,
                    arm_rate(w),
                    others.join(" and ")
                ),
                None => "The test on your page has a winner".into(),
            }
        }
        (plan::RULE_END_TEST, _) => {
            let rates: Vec<String> = f
                .experiment
                .as_ref()
                .map(|x| x.arms.iter().map(arm_rate).collect())
                .unwrap_or_default();
            format!(
                "Both promises on your page converted alike ({}): we keep \"{}\"",
                rates.join(" and "),
                p.promise
            )
        }
        (plan::RULE_CO_MARKETING, plan::PHASE_FOLLOW_UP) => {
            let s = plan::above_stages(f);
            match s.first() {
                Some(s) => format!(
                    "A webinar for your audience ({} of {} visitors {}): a date, and your commission",
                    s.count,
                    s.of,
                    did(p, &s.stage)
                ),
                None => "A webinar for your audience: a date, and your commission".into(),
            }
        }
        (plan::RULE_CO_MARKETING, _) => {
            let s = plan::above_stages(f);
            match s.first() {
                Some(s) => format!(
                    "{} of {} visitors from your link {}: a guest post, a webinar or a higher commission?",
                    s.count,
                    s.of,
                    did(p, &s.stage)
                ),
                None => "Your audience converts: a guest post, a webinar or a higher commission?"
                    .into(),
            }
        }
        (plan::RULE_COLLECT, plan::PHASE_LAUNCH) => format!(
            "Your {} page is live: the link to share with {}",
            p.promise,
            lower_first(&p.audience)
        ),
        (plan::RULE_COLLECT, _) => format!(
            "{} from your {} link so far: one more share this week?",
            plural(f.visitors, "visitor"),
            p.promise
        ),
        (plan::RULE_WAIT, _) => format!(
            "{} from your link so far; your first results on {}",
            plural(f.visitors, "visitor"),
            wait_ready(f).map_or("the next report".into(), |d| d.format("%b %-d").to_string())
        ),
        (_, plan::PHASE_FOLLOW_UP) => {
            let since = follows.map_or("this month".into(), |d| d.format("%b %-d").to_string());
            let changed = followed_stage.map_or("a change", short_change);
            let so_far = best.map_or_else(|| plural(f.visitors, "visitor"), |s| did_figures(p, s));
            match spec.target_stage.as_deref() {
                Some(next) if spec.rule == plan::RULE_FIX && Some(next) != followed_stage => format!(
                    "Since {since} your {} page has {changed}; next, {} ({so_far} so far)",
                    p.promise,
                    short_change(next)
                ),
                _ => format!(
                    "Since {since} your {} page has {changed}: {so_far} so far, and the link to share next",
                    p.promise
                ),
            }
        }
        (plan::RULE_STRENGTH, _) => match best {
            Some(s) => format!(
                "{} from your link: what converted, and the link to share next",
                did_figures(p, s)
            ),
            None => format!(
                "{} from your link: what converted, and the link to share next",
                plural(f.visitors, "visitor")
            ),
        },
        _ => {
            let weak = ctx
                .stage(spec)
                .map_or("", |s| stage_label(&s.stage))
                .to_string();
            match best {
                Some(s) => format!(
                    "{} from your link; next we improve the {weak} step",
                    did_figures(p, s)
                ),
                None => {
                    let lm = f.stage("lead_magnet").map_or(0, |s| s.count);
                    format!(
                        "{} from your link, {lm} took the {}: we are fixing our page",
                        plural(f.visitors, "visitor"),
                        p.promise
                    )
                }
            }
        }
    }
}

/// A change to a stage's part of the page, in a few words: `a new headline`.
pub(crate) fn short_change(stage: &str) -> &'static str {
    match stage {
        "lead_magnet" => "a new headline",
        "cta" => "a clearer call to action",
        "activation" => "a pointer to the first step after signup",
        _ => "a change",
    }
}

/// The day the last too-young stage of `f` is ready.
fn wait_ready(f: &PartnerFigures) -> Option<NaiveDate> {
    f.stages
        .iter()
        .filter(|s| s.verdict == "too_early")
        .filter_map(StageFigures::ready_date)
        .max()
}

/// One sentence with the figures behind the task, and the day its figures are readable.
fn reason(
    ctx: &Ctx<'_>,
    week: u32,
    spec: &plan::Spec,
    follows: Option<NaiveDate>,
) -> (String, Option<String>) {
    let p = ctx.partner;
    let f = ctx.f;
    let name = &p.name;
    let min = ctx.bands.min_visitors;
    let date = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
    let since = follows.unwrap_or_else(|| ctx.date(week, spec.kind, spec.rule));
    let stage = ctx.stage(spec);
    let stage_name = stage_label(spec.target_stage.as_deref().unwrap_or("visit")).to_string();
    match (spec.rule, spec.phase) {
        (plan::RULE_KEEP_MEASURING, plan::PHASE_READ) => (
            format!(
                "{name}: run `report --partner {}` again and read the open stages: {}",
                p.code, f.action.action
            ),
            None,
        ),
        (plan::RULE_FIX_HANDOFF, plan::PHASE_ACT)
        | (plan::RULE_LET_TEST_RUN, plan::PHASE_WAIT)
        | (plan::RULE_KEEP_MEASURING, _) => (
            format!("{name}: {} Why: {}.", f.action.action, f.action.because),
            None,
        ),
        (plan::RULE_FIX_HANDOFF, _) => {
            let ready = ctx.readable(since, 0);
            (
                format!(
                    "{name}: count only the clicks made after the fix of {}: the share of them that reaches the page, against the 80% floor (before the fix: {}). Readable {}: {min} visitors at {}.",
                    date(since),
                    f.action.because,
                    readable_text(ready, since),
                    ctx.pace_text()
                ),
                ready.map(date),
            )
        }
        (plan::RULE_LET_TEST_RUN, _) => (
            format!(
                "{name}: run `report --partner {}` and read the test's verdict; the next `calendar` run turns it into tasks (promote the winner, or end the test).",
                p.code
            ),
            None,
        ),
        (plan::RULE_FIX_SPLIT, _) => (
            format!(
                "{name}: the test's split is broken: {}. Check the variant weights in the partner file, the cookie and the Worker's assignment before reading any difference.",
                f.experiment.as_ref().map_or("", |x| x.because.as_str())
            ),
            None,
        ),
        (plan::RULE_PROMOTE, _) => {
            let x = f.experiment.as_ref();
            (
                format!(
                    "{name}: the {} test has a winner, `{}`: {}. Its copy becomes the partner's own and the test ends.",
                    stage_label(x.map_or("", |x| x.stage.as_str())),
                    x.and_then(|x| x.winner.as_deref()).unwrap_or("?"),
                    x.map_or("", |x| x.because.as_str())
                ),
                None,
            )
        }
        (plan::RULE_END_TEST, _) => {
            let x = f.experiment.as_ref();
            (
                format!(
                    "{name}: the {} test is settled without a winner: {}. End it and keep the control `{}`.",
                    stage_label(x.map_or("", |x| x.stage.as_str())),
                    x.map_or("", |x| x.because.as_str()),
                    x.map_or("", |x| x.control.as_str())
                ),
                None,
            )
        }
        (_, plan::PHASE_REPLAN) => (
            format!(
                "{name}: this plan was made from the funnel of {} to {}; the weeks since brought new data, including the cohorts of any change it made. Run `calendar` again with it for the next weeks.",
                ctx.opts.window.since.format("%Y-%m-%d"),
                ctx.opts.window.until.format("%Y-%m-%d")
            ),
            None,
        ),
        (plan::RULE_CO_MARKETING, plan::PHASE_MEASURE) => {
            let campaign = spec
                .follows
                .map(|(w, _)| ctx.campaign_of(w, spec.format.unwrap_or("guest-post")))
                .unwrap_or_default();
            let horizon = f.stage("activation").map_or(14, |s| s.horizon_days);
            let ready = ctx.readable(since, horizon);
            (
                format!(
                    "{name}: measure the `{campaign}` campaign added on {}: its visitors and activations against the partner's activation {}. Readable {}: {min} visitors at {}, plus the {horizon}-day activation horizon.",
                    date(since),
                    f.stage("activation").map_or(String::new(), StageFigures::cite),
                    readable_text(ready, since),
                    ctx.pace_text()
                ),
                ready.map(date),
            )
        }
        (plan::RULE_CO_MARKETING, plan::PHASE_FOLLOW_UP) => (
            format!(
                "{name}: follow up the webinar slot of {}: a date, and the commission talk; the figures are those of the offer ({}).",
                follows.map_or(String::new(), date),
                plan::above_stages(f)
                    .iter()
                    .map(|s| format!("{} {}", s.label, s.cite()))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            None,
        ),
        (plan::RULE_CO_MARKETING, plan::PHASE_NEXT) => (
            format!(
                "{name}: the second slot for a qualified audience, a webinar, tracked as its own campaign so its visitors and activations can be read apart."
            ),
            None,
        ),
        (plan::RULE_CO_MARKETING, _) => {
            let cites: Vec<String> = plan::above_stages(f)
                .iter()
                .map(|s| format!("{} {}", s.label, s.cite()))
                .collect();
            (
                format!(
                    "{name}: {} clicks, {} visitors; above the band: {}. The audience is qualified: offer more inventory (a guest post, a webinar, a co-marketing slot or a higher commission).",
                    f.clicks,
                    f.visitors,
                    cites.join("; ")
                ),
                None,
            )
        }
        (plan::RULE_COLLECT, plan::PHASE_MEASURE) => {
            let need = min.saturating_sub(f.visitors);
            let ready = ctx.readable(since, 0).map(|_| {
                let days = (need as f64 / ctx.pace()).ceil() as u64;
                plan::add_days(since, days)
            });
            (
                match ready {
                    Some(d) => format!(
                        "{name}: count the visitors since the email of {}: {need} more are needed for a verdict ({min} in all), which at {} comes on {}. If none arrived, check that the link was shared and that /go/{} redirects; do not ask again by email.",
                        date(since),
                        ctx.pace_text(),
                        date(d),
                        p.code
                    ),
                    None => format!(
                        "{name}: count the first visitors since the launch email of {}: none came in the {} days before {}. If none arrived, check that /go/{} redirects and that the partner published the link; do not ask again by email.",
                        date(since),
                        ctx.opts.window.days(),
                        ctx.opts.window.until.format("%Y-%m-%d"),
                        p.code
                    ),
                },
                ready.map(date),
            )
        }
        (plan::RULE_COLLECT, plan::PHASE_FOLLOW_UP) => (
            format!(
                "{name}: {} so far, under the {min} a verdict needs; instead of a second ask, a post the partner can link to for {}.",
                if f.visitors == 0 {
                    "no visitor".to_string()
                } else {
                    plural(f.visitors, "visitor")
                },
                lower_first(&p.audience)
            ),
            None,
        ),
        (plan::RULE_COLLECT, plan::PHASE_LAUNCH) => (
            format!(
                "{name}: no visitor in the {} days before {}: the link has not been shared yet. One launch email with the tracked link; no content change.",
                ctx.opts.window.days(),
                ctx.opts.window.until.format("%Y-%m-%d")
            ),
            None,
        ),
        (plan::RULE_COLLECT, _) => (
            format!(
                "{name}: {} visitors ({} clicks) is under the {min} needed for a verdict; one ask for more traffic, no content change on so few visitors.",
                f.visitors, f.clicks
            ),
            None,
        ),
        (plan::RULE_WAIT, plan::PHASE_WAIT) => {
            let parts: Vec<String> = f
                .stages
                .iter()
                .filter(|s| s.verdict == "too_early")
                .map(|s| {
                    format!(
                        "{}: {} of {} visitors are old enough ({}; all ready {})",
                        s.label,
                        s.of,
                        f.visitors,
                        plural(u64::from(s.horizon_days), "day"),
                        s.ready.as_deref().unwrap_or("now")
                    )
                })
                .collect();
            let ready = wait_ready(f);
            (
                format!(
                    "{name}: too young to judge: {}. Wait until {} before changing the page: a verdict on a cohort that had no time to convert would be wrong.",
                    parts.join("; "),
                    ready.map_or("the cohort is old enough".into(), date)
                ),
                ready.map(date),
            )
        }
        (plan::RULE_WAIT, plan::PHASE_READ) => {
            let ready = wait_ready(f);
            (
                format!(
                    "{name}: on or after {}, run `report --partner {}` for the cohort that was too young on {}; act on its verdict (the next `calendar` run turns it into tasks).",
                    ready.map_or("the ready date".into(), date),
                    p.code,
                    ctx.opts.window.until.format("%Y-%m-%d")
                ),
                ready.map(date),
            )
        }
        (plan::RULE_WAIT, _) => (
            format!(
                "{name}: {} so far; the first verdict comes on {}. Tell the partner where things stand, without a verdict yet.",
                plural(f.visitors, "visitor"),
                wait_ready(f).map_or("the next report".into(), date)
            ),
            wait_ready(f).map(date),
        ),
        (plan::RULE_STRENGTH, plan::PHASE_MEASURE) => {
            let horizon = stage.map_or(7, |s| s.horizon_days);
            let ready = ctx.readable(since, horizon);
            (
                format!(
                    "{name}: measure the `{}` campaign pushed in the email of {}: its visitors and its {stage_name} rate against {}. Readable {}: {min} visitors at {}.",
                    plan::next_campaign(f),
                    date(since),
                    stage.map_or(String::new(), StageFigures::cite),
                    readable_text(ready, since),
                    ctx.pace_text()
                ),
                ready.map(date),
            )
        }
        (plan::RULE_STRENGTH, plan::PHASE_FOLLOW_UP) => (
            format!(
                "{name}: {stage_name} converts best ({}); more content on it while the change is measured.",
                stage.map_or(String::new(), StageFigures::cite)
            ),
            None,
        ),
        (plan::RULE_STRENGTH, _) => {
            let steps: Vec<String> = f
                .stages
                .iter()
                .map(|s| format!("{} {}", s.label, pct(s.rate)))
                .collect();
            (
                format!(
                    "{name}: every judged step is within its band ({} of {} visitors); the funnel says keep the page, so the content builds on {stage_name} ({}).",
                    steps.join(", "),
                    f.visitors,
                    stage.map_or(String::new(), StageFigures::cite)
                ),
                None,
            )
        }
        (_, plan::PHASE_MEASURE) => {
            let horizon = stage.map_or(7, |s| s.horizon_days);
            let ready = ctx.readable(since, horizon);
            (
                format!(
                    "{name}: measure the {stage_name} change of {}: the {stage_name} rate of visitors who arrived on or after that day, against the baseline {}. Readable {}: {min} visitors at {}, plus the {horizon}-day {stage_name} horizon.",
                    date(since),
                    stage.map_or(String::new(), StageFigures::cite),
                    readable_text(ready, since),
                    ctx.pace_text()
                ),
                ready.map(date),
            )
        }
        (_, plan::PHASE_FOLLOW_UP) => (
            format!(
                "{name}: tell the partner what changed on {} and which campaign to push next (`{}`); the figures of the window are those from before the change, which is measured only on the visitors who arrive after it.",
                follows.map_or(String::new(), date),
                plan::next_campaign(f)
            ),
            None,
        ),
        (_, phase) => match stage {
            Some(s) => (
                format!(
                    "{name}: {} step {} (verdict {}); {}",
                    s.label,
                    s.cite(),
                    if s.verdict.is_empty() { "n/a" } else { &s.verdict },
                    if phase == plan::PHASE_NEXT {
                        "the next weak step, once the first fix is in."
                    } else {
                        "the weakest step gets the fix first."
                    }
                ),
                None,
            ),
            None => (format!("{name}: no stage figures yet."), None),
        },
    }
}

/// The calendar as Markdown: one table per week.
pub fn to_markdown(cal: &Calendar) -> String {
    let mut out = format!(
        "# {}\n\nPlan of {} from {}, made from the funnel of {} to {} (UTC).\n",
        cal.title,
        crate::text::plural(u64::from(cal.weeks), "week", "weeks"),
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
                table_cell(&t.partner),
                table_cell(&t.title),
                t.rule,
                table_cell(&t.reason),
                table_cell(&t.file),
                t.file
            ));
        }
    }
    out
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
    fn a_measurement_readable_only_months_away_says_so() {
        let since = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let soon = NaiveDate::from_ymd_opt(2026, 12, 23).unwrap();
        let late = NaiveDate::from_ymd_opt(2027, 2, 26).unwrap();
        assert_eq!(readable_text(Some(soon), since), "on 2026-12-23");
        let text = readable_text(Some(late), since);
        assert!(
            text.starts_with("on 2027-02-26, more than eight weeks away"),
            "{text}"
        );
        assert_eq!(readable_text(None, since), "once it has traffic");
    }

    #[test]
    fn verbs_take_their_base_form() {
        for (d, want) in [
            (
                "Imports a first client site",
                Some("import a first client site"),
            ),
            (
                "Copies the implementation snippet",
                Some("copy the implementation snippet"),
            ),
            ("Opens the pricing page", Some("open the pricing page")),
            (
                "Runs a first content audit in AIKit",
                Some("run a first content audit in AIKit"),
            ),
            ("Pushes a page", Some("push a page")),
            ("First audit", None),
        ] {
            assert_eq!(base_form(d).as_deref(), want, "{d}");
        }
    }

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
