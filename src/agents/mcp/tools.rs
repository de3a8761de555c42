//! Agents stage, tools: each MCP tool's input schema, argument checks and its CLI twin.
//!
//! Takes: a tool name and its JSON arguments. Gives: the exact text the CLI prints for the same
//! inputs with `--format json` (or `check --json`), so an agent and a script see one shape.
//! Input schemas are generated from the argument structs (`schemars`, JSON Schema 2020-12) and
//! the same structs parse the arguments (`deny_unknown_fields`), so the schema an agent reads
//! is the check the server applies.

use super::Server;
use crate::error::{Error, Result};
use crate::funnel::RangeSpec;
use crate::stage::Stage;
use rmcp::handler::server::common::schema_for_input;
use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use rmcp::schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Why a tool call did not give an answer.
#[derive(Debug)]
pub enum ToolError {
    /// The arguments do not match the tool's input schema (MCP `-32602`).
    BadArguments(String),
    /// No tool of that name (MCP `-32602`).
    UnknownTool(String),
    /// The tool ran and failed, with the CLI's message (`isError: true`; `-32603` for bugs).
    Failed(Error),
    /// `check` found problems: `json` is what `check --json` prints (the CLI exits 1), and
    /// `summary` its one line ("2 errors in 1 file"). Sent with `isError: true`.
    Problems {
        /// The diagnostics as `check --json` prints them.
        json: String,
        /// One line: how many problems in how many files.
        summary: String,
    },
}

impl From<Error> for ToolError {
    fn from(e: Error) -> Self {
        ToolError::Failed(e)
    }
}

/// `list_partners` takes no arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(crate = "rmcp::schemars")]
pub struct NoArgs {}

/// Arguments of `funnel_report` (the flags of `report`).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(crate = "rmcp::schemars")]
pub struct ReportInput {
    /// Event source (a SQLite file, a `wrangler d1 export` dump, `wrangler d1 execute --json`
    /// output, a local D1 name). Default: the server's `--events`.
    pub events: Option<String>,
    /// Only this partner code.
    pub partner: Option<String>,
    /// Range ending at `now`: 7d, 24h, 4w, 90m. Not with since/until. Default 7d.
    pub last: Option<String>,
    /// Range start (inclusive): a UTC date 2026-11-17 or an RFC 3339 time.
    pub since: Option<String>,
    /// Range end (exclusive): a UTC date or an RFC 3339 time. Default: now.
    pub until: Option<String>,
    /// "Now" as an RFC 3339 time, for reproducible answers. Default: the current time.
    pub now: Option<String>,
}

/// Arguments of `partner_earnings` (the flags of `commissions --partner`).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(crate = "rmcp::schemars")]
pub struct EarningsInput {
    /// The partner code.
    pub partner: String,
    /// Event source (a SQLite file, a `wrangler d1 export` dump, `wrangler d1 execute --json`
    /// output, a local D1 name). Default: the server's `--events`.
    pub events: Option<String>,
    /// The day statuses are computed for (YYYY-MM-DD or an RFC 3339 time). Default: now.
    pub as_of: Option<String>,
}

/// Arguments of `experiments` (the flags of `report` it shares).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(crate = "rmcp::schemars")]
pub struct ExperimentsInput {
    /// Event source (a SQLite file, a `wrangler d1 export` dump, `wrangler d1 execute --json`
    /// output, a local D1 name). Default: the server's `--events`.
    pub events: Option<String>,
    /// Only this partner code's test.
    pub partner: Option<String>,
    /// Range ending at `now`: 7d, 24h, 4w, 90m. Not with since/until. Default 7d. A test is
    /// read from its first visit to the range's end, whatever the range's start.
    pub last: Option<String>,
    /// Range start (inclusive): a UTC date 2026-11-17 or an RFC 3339 time.
    pub since: Option<String>,
    /// Range end (exclusive): a UTC date or an RFC 3339 time. Default: now.
    pub until: Option<String>,
    /// "Now" as an RFC 3339 time, for reproducible answers. Default: the current time.
    pub now: Option<String>,
}

/// Arguments of `leads` (the flags of `leads`).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(crate = "rmcp::schemars")]
pub struct LeadsInput {
    /// Event source; default: the server's `--events`.
    pub events: Option<String>,
    /// Only this partner code.
    pub partner: Option<String>,
    /// Only journeys that reached at least this stage. Default: visit.
    pub stage: Option<Stage>,
    /// Range ending at `now`: 7d, 24h, 4w, 90m. Not with since/until. Default 7d.
    pub last: Option<String>,
    /// Range start (inclusive): a UTC date or an RFC 3339 time.
    pub since: Option<String>,
    /// Range end (exclusive): a UTC date or an RFC 3339 time.
    pub until: Option<String>,
    /// "Now" as an RFC 3339 time (ranges and the days in next steps). Default: the current time.
    /// Give it when paging, so the range does not move between pages.
    pub now: Option<String>,
    /// At most this many leads in the answer (1 to 1000). Default 200.
    #[schemars(range(min = 1, max = 1000))]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous answer, to get the next page. Default: the first page.
    pub cursor: Option<String>,
    /// Only leads with a user id (someone to contact). Default: false.
    pub contactable: Option<bool>,
}

/// Arguments of `calendar_tasks` (the flags of `calendar`).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(crate = "rmcp::schemars")]
pub struct CalendarInput {
    /// Event source; default: the server's `--events`.
    pub events: Option<String>,
    /// How many weeks to plan (1 to 52). Default 1.
    #[schemars(range(min = 1, max = 52))]
    pub weeks: Option<u32>,
    /// First day of the plan, a UTC date. Default: the Monday after `now`.
    pub start: Option<String>,
    /// "Now" as an RFC 3339 time. Default: the current time.
    pub now: Option<String>,
}

/// Arguments of `check`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(crate = "rmcp::schemars")]
pub struct CheckInput {
    /// A partner file to check, relative to the site root (e.g. partners/seo-consultant.yaml).
    /// Default: the whole site.
    pub file: Option<String>,
}

fn tool<T: JsonSchema + 'static>(
    name: &'static str,
    title: &str,
    description: &'static str,
) -> Tool {
    let schema = schema_for_input::<T>().unwrap_or_else(|_| {
        // Unreachable for the structs above (all are objects); an empty object schema keeps
        // tools/list answering rather than failing.
        let mut o = JsonObject::new();
        o.insert("type".into(), "object".into());
        std::sync::Arc::new(o)
    });
    Tool::new(name, description, schema)
        .with_title(title)
        .with_annotations(
            ToolAnnotations::with_title(title)
                .read_only(true)
                .destructive(false)
                .idempotent(true)
                .open_world(false),
        )
}

/// The tools, in the order `tools/list` gives them.
pub fn list() -> Vec<Tool> {
    vec![
        tool::<NoArgs>(
            "list_partners",
            "List partners",
            "Every partner of the site from partners/*.yaml: code, name, audience, promise, \
             campaigns, landing page, lead magnet, CTA and activation event (commission terms \
             are private to each partner's kit and not given).",
        ),
        tool::<ReportInput>(
            "funnel_report",
            "Funnel report",
            "The funnel per partner and campaign over a range: visitors, stage rates with 95% \
             Wilson intervals, verdicts against the bands and one recommended action per \
             partner; when the events hold Stripe payments, `revenue`: gross, refunded and net \
             per partner, campaign and currency (minor units, net of tax), paying customers, net \
             per visitor, each payment with the rule that credited it, and the payments and \
             refunds no partner could be credited with. Same JSON as `partner-pages report \
             --format json`.",
        ),
        tool::<ExperimentsInput>(
            "experiments",
            "Promise experiments",
            "The tests of partners that declare variants (two to four promises), read from each \
             test's first visit to the range's end with a look every 7 days: visitors and \
             conversions per variant, the sample-ratio check, and for the lead magnet, CTA and \
             activation stages the always-valid 95% interval of every difference between \
             variants at every look and the verdict (winner <id>, no_difference_yet, \
             stop_equivalent, invalid_split) with its rule and the method. The `experiments` \
             section of `partner-pages report --format json` (`[]` when no partner runs a \
             test), with its `version`, `source`, `range` and `as_of`.",
        ),
        tool::<LeadsInput>(
            "leads",
            "Leads",
            "One row per lead journey that reached at least `stage`: who sent it (partner, \
             campaign), the promise and CTA it responded to, every stage reached with its time, \
             the next step from a named rule, and `paid`: what the lead paid through Stripe \
             per currency (net of tax and refunds, minor units; absent when nothing). Paged: at most `limit` leads (default 200, \
             max 1000) in a stable order; `total` counts all of them, and while more remain \
             `next_cursor` is a string to pass back as `cursor` (with the same other arguments, \
             `now` included) for the next page, `null` on the last one. Same JSON as \
             `partner-pages leads --format json --limit N --cursor C`.",
        ),
        tool::<CalendarInput>(
            "calendar_tasks",
            "Calendar tasks",
            "The content tasks of the coming week(s) per partner, planned from its funnel. A \
             plan only: no task file is written. Same JSON as `partner-pages calendar --format json`.",
        ),
        tool::<EarningsInput>(
            "partner_earnings",
            "What a partner earns",
            "What one partner earns under its reward rule: per currency the pending, due, held \
             and paid totals in minor units (cents), and each held row with its reason. Nothing \
             of another partner and no payee detail. Same JSON as `partner-pages commissions \
             --partner CODE`.",
        ),
        tool::<CheckInput>(
            "check",
            "Check the site",
            "Validate one partner file or the whole site; every problem with file, line, column \
             and a hint. Same JSON as `partner-pages check --json`: `[]` when valid; problems \
             come back as a tool error (isError: true) carrying that JSON, then a summary line.",
        ),
    ]
}

fn parse<T: DeserializeOwned>(tool: &str, args: JsonObject) -> Result<T, ToolError> {
    serde_json::from_value(serde_json::Value::Object(args))
        .map_err(|e| ToolError::BadArguments(format!("invalid arguments for `{tool}`: {e}")))
}

/// Run tool `name` with `args`; the answer is the CLI's JSON text.
pub fn call(server: &Server, name: &str, args: JsonObject) -> Result<String, ToolError> {
    match name {
        "list_partners" => {
            parse::<NoArgs>(name, args)?;
            Ok(list_partners(server)?)
        }
        "funnel_report" => {
            let input: ReportInput = parse(name, args)?;
            let events = events_arg(server, name, input.events.clone())?;
            let range = range_spec(name, &input.last, &input.since, &input.until, &input.now)?;
            Ok(funnel_report(
                server,
                &crate::report::Request {
                    events: &events,
                    range,
                    partner: input.partner.as_deref(),
                    quiet: true,
                },
            )?)
        }
        "experiments" => {
            let input: ExperimentsInput = parse(name, args)?;
            let events = events_arg(server, name, input.events.clone())?;
            let range = range_spec(name, &input.last, &input.since, &input.until, &input.now)?;
            Ok(experiments(
                server,
                &crate::report::Request {
                    events: &events,
                    range,
                    partner: input.partner.as_deref(),
                    quiet: true,
                },
            )?)
        }
        "leads" => {
            let input: LeadsInput = parse(name, args)?;
            let stage = input.stage.unwrap_or(Stage::Visit);
            let bad =
                |e: Error| ToolError::BadArguments(format!("invalid arguments for `leads`: {e}"));
            let limit = crate::leads::page::check_limit(
                input
                    .limit
                    .map_or(crate::leads::page::DEFAULT_LIMIT, |n| n as usize),
            )
            .map_err(bad)?;
            let cursor = input
                .cursor
                .as_deref()
                .map(crate::leads::page::Cursor::parse)
                .transpose()
                .map_err(bad)?;
            let events = events_arg(server, name, input.events.clone())?;
            let range = range_spec(name, &input.last, &input.since, &input.until, &input.now)?;
            let req = crate::leads::Request {
                events: &events,
                range,
                partner: input.partner.as_deref(),
                stage,
                paging: crate::leads::Paging {
                    cursor: cursor.as_ref(),
                    limit: Some(limit),
                },
                contactable: input.contactable.unwrap_or(false),
            };
            Ok(leads(server, &req)?)
        }
        "calendar_tasks" => {
            let input: CalendarInput = parse(name, args)?;
            if let Some(w) = input.weeks {
                if !(1..=crate::calendar::run::MAX_WEEKS).contains(&w) {
                    return Err(ToolError::BadArguments(format!(
                        "invalid arguments for `calendar_tasks`: weeks must be 1 to {}, not {w}",
                        crate::calendar::run::MAX_WEEKS
                    )));
                }
            }
            let events = events_arg(server, name, input.events.clone())?;
            Ok(calendar_tasks(server, events, input)?)
        }
        "partner_earnings" => {
            let input: EarningsInput = parse(name, args)?;
            let events = events_arg(server, name, input.events.clone())?;
            let site = load_site(server)?;
            crate::report::check_partner(&site, &input.partner)?;
            let source = crate::report::open_source(&site, &events)?;
            Ok(crate::ledger::partner_earnings_json(
                &site,
                &crate::ledger::Request {
                    events: &source,
                    as_of: input.as_of.as_deref(),
                },
                &input.partner,
            )?)
        }
        "check" => {
            let input: CheckInput = parse(name, args)?;
            let diags = check(server, input.file)?;
            let json = format!("{}\n", diags.to_json());
            if !diags.has_errors() {
                Ok(json)
            } else {
                Err(ToolError::Problems {
                    json,
                    summary: diags.summary(),
                })
            }
        }
        other => Err(ToolError::UnknownTool(other.to_string())),
    }
}

fn events_arg(server: &Server, tool: &str, events: Option<String>) -> Result<String, ToolError> {
    let events = events.or_else(|| server.events.clone()).ok_or_else(|| {
        ToolError::BadArguments(format!(
            "`{tool}` needs an event source: pass `events`, or start the server with `partner-pages mcp --events SRC`"
        ))
    })?;
    if let Some(db) = events.strip_prefix("d1:") {
        // Reading a remote D1 first pulls new rows into the local cache, which is a write.
        let cache = crate::events::wrangler::remote_cache_path(&server.root, db);
        return Err(ToolError::BadArguments(format!(
            "`{tool}` is read-only and does not pull from a remote D1 (`{events}`): run \
             `partner-pages report --events {events}` to refresh the local cache, then pass the \
             cache file {} as `events`",
            cache.display()
        )));
    }
    Ok(events)
}

/// The range arguments of `tool`; `last` with `since`/`until` is a bad argument.
fn range_spec<'a>(
    tool: &str,
    last: &'a Option<String>,
    since: &'a Option<String>,
    until: &'a Option<String>,
    now: &'a Option<String>,
) -> Result<RangeSpec<'a>, ToolError> {
    if last.is_some() && (since.is_some() || until.is_some()) {
        return Err(ToolError::BadArguments(format!(
            "invalid arguments for `{tool}`: give `last` or `since`/`until`, not both"
        )));
    }
    Ok(RangeSpec {
        last: last.as_deref(),
        since: since.as_deref(),
        until: until.as_deref(),
        now: now.as_deref(),
    })
}

fn load_site(server: &Server) -> Result<crate::Site> {
    Ok(crate::load(&server.root, &crate::LoadOptions::default())?)
}

/// `list_partners`: the partners as their YAML says, sorted by code.
pub fn list_partners(server: &Server) -> Result<String> {
    let site = load_site(server)?;
    Ok(partners_json(&site))
}

/// The JSON of `list_partners`.
pub fn partners_json(site: &crate::Site) -> String {
    #[derive(Serialize)]
    struct Entry<'a> {
        code: &'a str,
        name: &'a str,
        audience: &'a str,
        promise: &'a str,
        campaigns: Vec<&'a str>,
        landing_url: String,
        headline: &'a str,
        lead_magnet: &'a crate::partner::Link,
        cta: &'a crate::partner::Cta,
        activation: &'a crate::partner::Activation,
        source: String,
    }
    let entries: Vec<Entry> = site
        .partners
        .iter()
        .map(|p| Entry {
            code: &p.code,
            name: &p.name,
            audience: &p.audience,
            promise: &p.promise,
            campaigns: p.all_campaigns(),
            landing_url: site.config.absolute_url(&p.landing_path()),
            headline: &p.landing.headline,
            lead_magnet: &p.lead_magnet,
            cta: &p.cta,
            activation: &p.activation,
            source: p.source.to_string_lossy().replace('\\', "/"),
        })
        .collect();
    let mut s = serde_json::to_string_pretty(&serde_json::json!({ "partners": entries }))
        .unwrap_or_default();
    s.push('\n');
    s
}

/// `funnel_report`: what `report --format json` prints.
fn funnel_report(server: &Server, req: &crate::report::Request) -> Result<String> {
    let site = load_site(server)?;
    Ok(crate::report::json(&crate::report::run(&site, req)?))
}

/// `experiments`: the `experiments` section of `report --format json` (always present, `[]`
/// without a test) with the report's `version`, `source`, `range` and `as_of`.
fn experiments(server: &Server, req: &crate::report::Request) -> Result<String> {
    #[derive(Serialize)]
    struct Answer<'a> {
        version: u32,
        source: &'a str,
        range: &'a crate::funnel::Range,
        as_of: crate::events::Ts,
        experiments: &'a [crate::experiment::observe::PartnerTest],
    }
    let site = load_site(server)?;
    let r = crate::report::run(&site, req)?;
    let answer = Answer {
        version: r.version,
        source: &r.source,
        range: &r.range,
        as_of: r.as_of,
        experiments: &r.experiments,
    };
    let mut s = serde_json::to_string_pretty(&answer)
        .map_err(|e| Error::Internal(format!("experiments JSON: {e}")))?;
    s.push('\n');
    Ok(s)
}

/// `leads`: what `leads --format json --limit N [--cursor C]` prints.
fn leads(server: &Server, req: &crate::leads::Request) -> Result<String> {
    let site = load_site(server)?;
    let page = crate::leads::run(&site, req)?;
    // The CLI's writer, so the answer is its bytes by construction.
    let mut out = Vec::new();
    crate::leads::write_json(page, &mut out)?;
    String::from_utf8(out).map_err(|e| Error::Internal(format!("leads JSON is not UTF-8: {e}")))
}

/// `calendar_tasks`: what `calendar --format json` prints, from the planner's dry run (the
/// task files are named as `calendar` would name them, and none is written).
fn calendar_tasks(server: &Server, events: String, input: CalendarInput) -> Result<String> {
    use crate::calendar::{self, run};
    let site = load_site(server)?;
    let cal = run::plan(
        &site,
        &run::Request {
            events: &events,
            weeks: input.weeks.unwrap_or(1),
            start: input.start.as_deref(),
            now: input.now.as_deref(),
            quiet: true,
        },
    )?;
    calendar::to_json(&cal)
}

/// `check`: the problems `check --json [FILE]` prints. None (an empty array) means the site
/// (or file) is valid; problems make the call a tool error, as they make the CLI exit 1.
fn check(server: &Server, file: Option<String>) -> Result<crate::diagnostics::Diagnostics> {
    // Relative to the site root: the server's working folder means nothing to an agent.
    let files: Vec<std::path::PathBuf> = file.into_iter().map(|f| server.root.join(f)).collect();
    Ok(crate::check::run(&server.root, &files)?.diagnostics)
}
