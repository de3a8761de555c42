//! Per-lead stage: one row per journey with who sent it, what promise, what next.
//!
//! Takes: the journeys of [`crate::funnel::journeys`] (the same attribution `report` counts —
//! there is no second implementation here), the site's partners and "now". Gives: a
//! [`LeadsReport`] (the JSON of `leads --format json`, schema `schemas/leads.schema.json`),
//! rendered as JSON, CSV (`leads::csv`) or Markdown. Each lead's next step comes from the named rules
//! of [`next_step`]. [`forget`] deletes one person's rows on request. The command streams: see
//! [`stream()`] (leads in order within a memory budget, `leads::sort`) and [`page`] (one page kept).
//!
//! Lead rows may carry the product's user id: `leads` is a staff command, and nothing here is
//! written under `public/` or into llms.txt.

pub(crate) mod csv;
pub mod forget;
pub mod next_step;
pub mod page;
pub(crate) mod sort;
pub mod stream;

use crate::error::{Error, Result};
use crate::events::Ts;
use crate::funnel::{Excluded, FunnelConfig, Journey, Journeys, Range, RangeSpec, Stage};
use crate::partner::{Cta, Partner};
use crate::site::Site;
use crate::text::escape::{literal as cell, table_cell};
use next_step::NextStep;
use serde::Serialize;
pub use stream::{stream, write_csv, write_json, write_markdown, LeadStream, Paging};

/// Version of the JSON shape of [`LeadsReport`].
pub const VERSION: u32 = 1;

/// What to list.
#[derive(Debug, Clone)]
pub struct LeadsOptions {
    /// Only journeys that reached at least this stage (in funnel order).
    pub stage: Stage,
    /// Only this partner's journeys.
    pub partner: Option<String>,
    /// "Now" for the next-step rules (days since a stage).
    pub now: Ts,
    /// Only leads with a user id (someone to contact).
    pub contactable: bool,
}

/// The time each stage was reached (`null`: not reached), in funnel order.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Stages {
    /// The partner link was clicked (`/go/<code>`).
    pub click: Option<Ts>,
    /// The landing page was viewed.
    pub visit: Option<Ts>,
    /// The lead magnet was taken.
    pub lead_magnet: Option<Ts>,
    /// The CTA was clicked.
    pub cta: Option<Ts>,
    /// The partner's activation event happened.
    pub activation: Option<Ts>,
}

/// How the journey started.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct FirstTouch {
    /// When the journey started.
    pub at: Ts,
    /// `click` (the partner link) or `visit` (the landing page, e.g. a shared URL).
    #[schemars(extend("enum" = ["click", "visit"]))]
    pub stage: &'static str,
}

/// One lead: a journey that reached at least the chosen stage.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Lead {
    /// The visitor id (first-party cookie).
    pub visitor_id: String,
    /// The product's opaque user id, when a server-side event of the journey carried one.
    pub user_id: Option<String>,
    /// Who sent it.
    #[schemars(pattern(crate::json_schema::CODE))]
    pub partner: String,
    /// The partner's name.
    pub partner_name: String,
    /// The campaign the journey came with.
    pub campaign: String,
    /// What it responded to: the partner's promise and CTA (from its YAML now).
    pub promise: String,
    /// The call to action the lead saw.
    pub cta: Cta,
    /// The partner's own name for activation.
    pub activation_event: String,
    /// How the journey started.
    pub first_touch: FirstTouch,
    /// When each stage was reached.
    pub stages: Stages,
    /// The furthest stage reached.
    #[schemars(with = "crate::stage::Stage")]
    pub last_stage: &'static str,
    /// When the furthest stage was reached.
    pub last_at: Ts,
    /// Sum of the journey's revenue values, and how many revenue events it had.
    pub revenue: f64,
    /// How many revenue events the journey had.
    pub revenue_events: u32,
    /// What should happen next.
    pub next_step: NextStep,
    /// What the lead paid through Stripe, per currency (absent when nothing).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paid: Vec<crate::revenue::Paid>,
}

/// One row per lead journey (at most `limit` per page when one is given) that started in the UTC
/// range [start, end) and reached at least `stage`: who sent it, what promise it responded to,
/// every stage reached with its time, and the next step from a named rule (docs/leads-mcp.md).
/// Staff output: `user_id` is the product's opaque id and never appears in public files.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct LeadsReport {
    /// Version of this JSON shape.
    #[schemars(extend("const" = 1))]
    pub version: u32,
    /// The event source, e.g. `sqlite:partner-events.db`.
    pub source: String,
    /// The UTC range `[start, end)` the journeys started in.
    pub range: Range,
    /// "Now" for the next-step rules.
    pub now: Ts,
    /// The minimum stage asked for.
    #[schemars(with = "crate::stage::Stage")]
    pub stage: &'static str,
    /// The partner filter, if any.
    pub partner: Option<String>,
    /// How many leads the query has in all pages.
    pub total: usize,
    /// Give it back as `cursor` for the next page; `null` on the last (or only) page.
    #[schemars(length(min = 1))]
    pub next_cursor: Option<String>,
    /// This page's leads (all of them without a limit), sorted by first touch, then visitor id.
    pub leads: Vec<Lead>,
    /// Rows set apart by the funnel rules (the same counts `report` shows).
    pub excluded: Excluded,
}

/// Parse `now` (default: the current time).
pub fn parse_now(now: Option<&str>) -> Result<Ts> {
    match now {
        None => Ok(Ts::now()),
        Some(s) => Ts::parse_date_or_time(s.trim()).ok_or_else(|| {
            Error::field(
                "now",
                s,
                "not a date or time",
                "write a UTC date like 2026-11-17 or a time like 2026-11-17T10:00:00Z",
            )
        }),
    }
}

/// What `leads` (and the MCP `leads` tool) asks for.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The event source (see [`crate::events::Source::open`]).
    pub events: &'a str,
    /// The range; its `now` is also the "now" of the next-step rules.
    pub range: RangeSpec<'a>,
    /// Only this partner's journeys.
    pub partner: Option<&'a str>,
    /// Only journeys that reached at least this stage.
    pub stage: Stage,
    /// Which page of the leads.
    pub paging: Paging<'a>,
    /// Only leads with a user id (someone to contact).
    pub contactable: bool,
}

/// The leads `req` asks for, streamed (what `leads` and the MCP `leads` tool share): one page
/// of them when the paging has a limit.
pub fn run(site: &Site, req: &Request) -> Result<LeadStream> {
    let opts = LeadsOptions {
        stage: req.stage,
        partner: req.partner.map(str::to_string),
        now: parse_now(req.range.now)?,
        contactable: req.contactable,
    };
    // One "now" for the range and the rules, even when it is the current time.
    let now = opts.now.to_string();
    let range = RangeSpec {
        now: Some(&now),
        ..req.range
    }
    .resolve()?;
    stream(site, req.events, range, &opts, req.paging, sort::SORT_BYTES)
}

/// The leads of `site` from the event source `events` over `range`, every one in memory (for
/// library users; the command streams them, see [`stream()`]).
pub fn compute(
    site: &Site,
    events: &str,
    range: Range,
    opts: &LeadsOptions,
) -> Result<LeadsReport> {
    if let Some(code) = &opts.partner {
        crate::report::check_partner(site, code)?;
    }
    let source = crate::report::open_source(site, events)?;
    let cfg = FunnelConfig::from_config(&site.config);
    let journeys = crate::funnel::journeys(&source, &site.partners, &cfg, range)?;
    let mut report = from_journeys(site, &source.describe(), &journeys, opts);
    let paid = crate::revenue::paid_by_visitor(&source)?;
    for l in &mut report.leads {
        l.paid = paid.get(&l.visitor_id).cloned().unwrap_or_default();
    }
    Ok(report)
}

/// The leads among journeys already computed.
pub fn from_journeys(
    site: &Site,
    source: &str,
    journeys: &Journeys,
    opts: &LeadsOptions,
) -> LeadsReport {
    let leads = journeys
        .journeys
        .iter()
        .filter(|j| opts.partner.as_deref().is_none_or(|p| j.partner == p))
        .filter(|j| j.reached.last().is_some_and(|last| last >= opts.stage))
        .filter(|j| !opts.contactable || j.user_id.is_some())
        .filter_map(|j| Some(lead(j, site.partner(&j.partner)?, opts.now)))
        .collect();
    let leads: Vec<Lead> = leads;
    LeadsReport {
        version: VERSION,
        source: source.to_string(),
        range: journeys.range,
        now: opts.now,
        stage: opts.stage.as_str(),
        partner: opts.partner.clone(),
        total: leads.len(),
        next_cursor: None,
        leads,
        excluded: journeys.excluded.clone(),
    }
}

fn lead(j: &Journey, p: &Partner, now: Ts) -> Lead {
    let r = &j.reached;
    let (last_stage, last_at) = r
        .last()
        .and_then(|s| Some((s.as_str(), r.get(s)?)))
        .unwrap_or(("click", j.start));
    Lead {
        visitor_id: j.visitor_id.clone(),
        user_id: j.user_id.clone(),
        partner: p.code.clone(),
        partner_name: p.name.clone(),
        campaign: j.campaign.clone(),
        promise: p.promise.clone(),
        cta: p.cta.clone(),
        activation_event: p.activation.event.clone(),
        first_touch: FirstTouch {
            at: j.start,
            stage: if r.click == Some(j.start) || r.visit != Some(j.start) {
                "click"
            } else {
                "visit"
            },
        },
        stages: Stages {
            click: r.click,
            visit: r.visit,
            lead_magnet: r.lead_magnet,
            cta: r.cta,
            activation: r.activation,
        },
        last_stage,
        last_at,
        revenue: j.revenue,
        revenue_events: j.revenue_events,
        next_step: next_step::next_step(r, p, now, j.user_id.is_some()),
        paid: Vec::new(),
    }
}

/// Pretty JSON with a final newline (what the CLI prints and the MCP tool answers).
pub fn json(report: &LeadsReport) -> String {
    let mut s =
        serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

/// The CSV columns, in order.
pub const CSV_HEADER: [&str; 22] = [
    "visitor_id",
    "user_id",
    "partner",
    "partner_name",
    "campaign",
    "promise",
    "cta_label",
    "cta_kind",
    "cta_url",
    "first_touch_at",
    "first_touch_stage",
    "click_at",
    "visit_at",
    "lead_magnet_at",
    "cta_at",
    "activation_at",
    "last_stage",
    "last_at",
    "revenue",
    "next_step_rule",
    "next_step_action",
    "next_step_because",
];

/// RFC 4180 CSV, one row per lead (see `leads::csv` for quoting and formula neutralisation).
pub fn to_csv(report: &LeadsReport) -> String {
    let mut w = csv::text_writer(&CSV_HEADER);
    for l in &report.leads {
        // Writing to a Vec<u8> cannot fail.
        let _ = csv_row(l, &mut w);
    }
    csv::finish_text(w)
}

/// One lead's CSV record.
fn csv_row<W: std::io::Write>(l: &Lead, w: &mut csv::Writer<W>) -> std::io::Result<()> {
    let t = |x: Option<Ts>| x.map(|t| t.to_string()).unwrap_or_default();
    let owned = [
        l.first_touch.at.to_string(),
        t(l.stages.click),
        t(l.stages.visit),
        t(l.stages.lead_magnet),
        t(l.stages.cta),
        t(l.stages.activation),
        l.last_at.to_string(),
        format!("{}", l.revenue),
    ];
    w.row([
        l.visitor_id.as_str(),
        l.user_id.as_deref().unwrap_or_default(),
        &l.partner,
        &l.partner_name,
        &l.campaign,
        &l.promise,
        &l.cta.label,
        cta_kind(&l.cta),
        &l.cta.url,
        &owned[0],
        l.first_touch.stage,
        &owned[1],
        &owned[2],
        &owned[3],
        &owned[4],
        &owned[5],
        l.last_stage,
        &owned[6],
        &owned[7],
        l.next_step.rule,
        &l.next_step.action,
        &l.next_step.because,
    ])
}

fn cta_kind(c: &Cta) -> &'static str {
    use crate::partner::CtaKind::*;
    match c.kind {
        Demo => "demo",
        Newsletter => "newsletter",
        Tutorial => "tutorial",
        Download => "download",
    }
}

/// Markdown for people: one table, then nothing else to scroll past.
pub fn markdown(report: &LeadsReport) -> String {
    let mut out = md_intro(report, report.leads.len());
    if report.leads.is_empty() {
        return out;
    }
    out.push_str(MD_TABLE_HEAD);
    for l in &report.leads {
        out.push_str(&md_row(l));
    }
    out
}

/// The Markdown table's header and rule lines.
const MD_TABLE_HEAD: &str = "| Visitor | User | Partner | Campaign | Promise | First touch | Last stage | Next step |\n|---|---|---|---|---|---|---|---|\n";

/// The Markdown title and summary of a report (whose page holds `shown` leads); with no lead,
/// the line that says so.
fn md_intro(report: &LeadsReport, shown: usize) -> String {
    let on_page = if shown == report.total {
        String::new()
    } else {
        format!(" ({shown} on this page)")
    };
    let mut out = format!(
        "# Leads\n\n{} from {} to {} that reached at least `{}`{} (source {}, now {}){on_page}.\n\n",
        crate::text::plural(report.total as u64, "journey", "journeys"),
        report.range.start,
        report.range.end,
        report.stage,
        report
            .partner
            .as_deref()
            .map(|p| format!(", partner `{p}`"))
            .unwrap_or_default(),
        report.source,
        report.now,
    );
    if shown == 0 {
        out.push_str("No leads in this range.\n");
    }
    out
}

/// One lead's Markdown table row.
fn md_row(l: &Lead) -> String {
    format!(
        "| `{}` | {} | {} | {} | {} | {} ({}) | {} ({}) | **{}**: {} — {} |\n",
        cell(&l.visitor_id),
        l.user_id.as_deref().map(cell).unwrap_or_default(),
        cell(&l.partner_name),
        cell(&l.campaign),
        cell(&l.promise),
        l.first_touch.at,
        l.first_touch.stage,
        l.last_stage,
        l.last_at,
        l.next_step.rule,
        table_cell(&l.next_step.action),
        table_cell(&l.next_step.because),
    )
}
