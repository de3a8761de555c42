//! Report stage: a [`FunnelReport`] as Markdown for people, JSON for agents (schema:
//! `schemas/report.schema.json`), or a self-contained HTML page with an SVG funnel per partner.
//!
//! Takes: the site (partner registry, config) and a [`Request`] (event source, range, partner).
//! Gives: the [`FunnelReport`] and its rendered text; the same inputs give the same bytes.

use crate::error::{Error, Result};
use crate::events::{self, Source};
use crate::funnel::{self, FunnelConfig, FunnelReport, Range, RangeSpec};
use crate::site::Site;

mod html;
mod markdown;
pub mod partner;
pub mod revenue;

pub use html::html;
pub use markdown::markdown;

/// What `report` (and the MCP `funnel_report` tool) asks for.
#[derive(Debug, Clone, Copy, Default)]
pub struct Request<'a> {
    /// The event source (see [`Source::open`]).
    pub events: &'a str,
    /// The report range.
    pub range: RangeSpec<'a>,
    /// Only this partner (a code in `partners/`).
    pub partner: Option<&'a str>,
    /// Hide the progress bar.
    pub quiet: bool,
}

/// The report's text formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Markdown for people.
    Md,
    /// A self-contained HTML page.
    Html,
    /// JSON for agents (`schemas/report.schema.json`).
    Json,
}

/// The funnel report `req` asks for: the range resolved, the partner checked, the events read.
pub fn run(site: &Site, req: &Request) -> Result<FunnelReport> {
    let range = req.range.resolve()?;
    if let Some(code) = req.partner {
        check_partner(site, code)?;
    }
    let funnel = funnel_for(site, req.events, range, req.quiet)?;
    Ok(match req.partner {
        Some(code) => {
            let mut f = funnel.only(code);
            if let Some(r) = &mut f.revenue {
                r.only(code);
            }
            f
        }
        None => funnel,
    })
}

/// Open `events` for `site`: resolve the source, and for `d1:<name>` pull new remote rows into
/// the local cache first (through `npx wrangler`, in the folder of `wrangler.toml`).
pub fn open_source(site: &Site, events: &str) -> Result<Source> {
    let source = Source::open(events, &site.root)?;
    if let Source::RemoteD1 { database, cache } = &source {
        let dir = [site.root.join("collector"), site.root.clone()]
            .into_iter()
            .find(|d| d.join("wrangler.toml").is_file())
            .unwrap_or_else(|| site.root.clone());
        let codes: Vec<String> = site.partners.iter().map(|p| p.code.clone()).collect();
        events::wrangler::pull_remote(
            &events::wrangler::SystemRunner,
            &dir,
            database,
            &codes,
            cache,
        )?;
    }
    Ok(source)
}

/// The database `serve` writes, in the site folder: the event source when none is given.
pub const DEFAULT_EVENTS: &str = "partner-events.db";

/// The event source to read: `events` when given, else the `serve` database of the site at
/// `root` when it exists; otherwise a user error saying what to pass.
pub fn resolve_events(root: &std::path::Path, events: Option<&str>) -> Result<String> {
    if let Some(e) = events.filter(|e| !e.trim().is_empty()) {
        return Ok(e.to_string());
    }
    let default = root.join(DEFAULT_EVENTS);
    if default.is_file() {
        return Ok(default.to_string_lossy().into_owned());
    }
    Err(Error::user_hint(
        format!(
            "no event source: none given, and no database of `partner-pages serve` at {}",
            default.display()
        ),
        "give the events: a SQLite file, a `wrangler d1 export` dump, the JSON of `wrangler d1 \
         execute --json`, or d1:<database> for the remote D1",
    ))
}

/// Refuse a `partner` code that is not in `partners/`, suggesting the closest one.
pub fn check_partner(site: &Site, code: &str) -> Result<()> {
    if site.partner(code).is_some() {
        return Ok(());
    }
    let best = site
        .partners
        .iter()
        .map(|p| (strsim::jaro_winkler(code, &p.code), &p.code))
        .max_by(|a, b| a.0.total_cmp(&b.0));
    let known: Vec<&str> = site.partners.iter().map(|p| p.code.as_str()).collect();
    let hint = match best {
        Some((score, c)) if score > 0.7 => {
            format!("did you mean `{c}`? (partners: {})", known.join(", "))
        }
        _ => format!(
            "partners in partners/: {}",
            if known.is_empty() {
                "none".into()
            } else {
                known.join(", ")
            }
        ),
    };
    Err(Error::field("partner", code, "no such partner", hint))
}

/// The funnel of `site` from `events` over `range`: what `report`, the build annotation and
/// `calendar` share. `quiet` hides the progress bar.
pub fn funnel_for(site: &Site, events: &str, range: Range, quiet: bool) -> Result<FunnelReport> {
    let source = open_source(site, events)?;
    let mut cfg = FunnelConfig::from_config(&site.config);
    cfg.progress = events::progress_bar(quiet);
    let report = funnel::compute(&source, &site.partners, &cfg, range);
    if let Some(pb) = &cfg.progress {
        pb.finish_and_clear();
    }
    let report = report?;
    let tests = crate::experiment::observe::observe(
        &source,
        &site.partners,
        &site.config.bands,
        site.config.attribution.bot_max_events,
        site.config.attribution.window_days,
        range.end,
        &crate::experiment::Settings {
            min_visitors: site.config.bands.min_visitors,
            ..Default::default()
        },
    )?;
    let states: Vec<(String, funnel::TestState)> = tests
        .iter()
        .map(|t| (t.partner.clone(), t.state()))
        .collect();
    let mut report = report.with_tests(&states);
    report.experiments = tests;
    report.revenue = revenue::compute(&source, range, &report)?;
    Ok(report)
}

/// The report in `format`.
pub fn render(report: &FunnelReport, format: Format) -> String {
    match format {
        Format::Md => markdown(report),
        Format::Html => html(report),
        Format::Json => json(report),
    }
}

/// Pretty JSON with a final newline.
pub fn json(report: &FunnelReport) -> String {
    let mut s =
        serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

/// `2026-11-17 00:00 UTC`, with seconds (and milliseconds) only when they are not zero.
pub(crate) fn when(t: events::Ts) -> String {
    let s = t.to_string(); // 2026-11-17T00:00:00.000Z
    let (date, hm, sec) = (&s[..10], &s[11..16], &s[16..23]);
    let sec = match sec {
        ":00.000" => "",
        _ if sec.ends_with(".000") => &sec[..3],
        _ => sec,
    };
    format!("{date} {hm}{sec} UTC")
}

/// A verdict as people read it: `within`, `unclear (leaning below)`, or
/// `too_early (ready 2026-12-06)`.
pub(crate) fn verdict_text(r: &funnel::Rate) -> String {
    match (r.verdict, r.ready) {
        (funnel::Verdict::TooEarly, Some(t)) => {
            format!("too_early (ready {})", &t.to_string()[..10])
        }
        (v, _) => v.word().to_string(),
    }
}

/// The range's activity in a sentence, each count in the singular or plural (Markdown and
/// HTML say the same).
pub(crate) fn activity_text(a: &funnel::Activity) -> String {
    use crate::text::plural;
    format!(
        "Activity in the range (journeys of any age): {}, {}, {}, {}, {}.",
        plural(a.clicks, "click", "clicks"),
        plural(a.visits, "visit", "visits"),
        plural(a.lead_magnet, "lead magnet", "lead magnets"),
        plural(a.cta, "CTA", "CTAs"),
        plural(a.activation, "activation", "activations")
    )
}

/// How many of a partner's leads there is someone to contact for (Markdown and HTML say the
/// same): `Leads (lead magnet or CTA): 253, of whom 115 contactable (with a user id).`
pub(crate) fn contactable_text(c: &funnel::Counts) -> String {
    format!(
        "Leads (lead magnet or CTA): {}, of whom {} contactable (with a user id); `leads --contactable` lists them.",
        c.leads, c.contactable_leads
    )
}

/// How the figures were counted, in the report's own words (Markdown and HTML say the same).
pub(crate) fn method_text(r: &FunnelReport) -> [String; 2] {
    use funnel::stats::pct;
    let (b, m) = (&r.bands, &r.maturity);
    [
        format!(
            "The cohort is the journeys that started in the range, followed until {} (at most \
             {} days each). A stage is judged only on the visitors whose journey is old enough \
             to have reached it (lead magnet {}, CTA {}, activation {} after the \
             first touch), as the share of them who reached it within that time, with a 95% \
             Wilson interval, against its band (lead magnet {}–{}, CTA {}–{}, activation \
             {}–{}). A verdict needs {} visitors; when fewer are old enough the verdict is \
             too_early, with the date the whole cohort is ready.",
            when(r.as_of),
            r.window_days,
            crate::text::plural(u64::from(m.lead_magnet), "day", "days"),
            crate::text::plural(u64::from(m.cta), "day", "days"),
            crate::text::plural(u64::from(m.activation), "day", "days"),
            pct(b.lead_magnet.low),
            pct(b.lead_magnet.high),
            pct(b.cta.low),
            pct(b.cta.high),
            pct(b.activation.low),
            pct(b.activation.high),
            b.min_visitors
        ),
        "Activity is what happened in the range, whatever the age of the journey: the journeys \
         that first reached each stage in the range, credited by first touch to their partner. \
         It shows the conversions of older journeys that a young cohort cannot show yet."
            .to_string(),
    ]
}

/// One stage's pairwise differences as people read them (Markdown and HTML say the same):
/// `speed − control: +1.0 to +3.0 points`, or `too early` while the counts are too small.
pub(crate) fn differences_text(t: &crate::experiment::StageTest) -> String {
    use crate::experiment::points_range;
    let parts: Vec<String> = t
        .pairs
        .iter()
        .map(|p| match p.current {
            Some(c) => format!("{} − {}: {}", p.b, p.a, points_range(c.low, c.high)),
            None => format!("{} − {}: too early", p.b, p.a),
        })
        .collect();
    parts.join("; ")
}

/// A test's split check in a sentence (Markdown and HTML say the same).
pub(crate) fn split_text(t: &crate::experiment::observe::PartnerTest) -> String {
    let l = &t.split.last;
    let observed: Vec<String> = l.observed.iter().map(|x| x.to_string()).collect();
    let expected: Vec<String> = l.expected.iter().map(|x| format!("{x:.0}")).collect();
    let head = format!(
        "Split: {} visitors per variant where the weights expect {}",
        observed.join("/"),
        expected.join("/")
    );
    match t.split.mismatch_at {
        Some(i) => format!(
            "{head}: a mismatch from the look ending {} on (evidence {} ≥ {}), so every verdict is invalid_split.",
            look_date(t.looks.get(i).map(String::as_str).unwrap_or("")),
            crate::experiment::evidence(l.evidence),
            l.threshold
        ),
        None => format!(
            "{head}: consistent with them at every look (evidence {}, a mismatch from {}).",
            crate::experiment::evidence(l.evidence),
            l.threshold
        ),
    }
}

/// A look's end (RFC 3339) as people read it: `2026-11-23 00:00 UTC`.
pub(crate) fn look_date(label: &str) -> String {
    events::Ts::parse(label).map_or_else(|| label.to_string(), when)
}

/// The labels of the five stages, as people read them.
pub(crate) fn stage_label(s: funnel::Stage) -> &'static str {
    match s {
        funnel::Stage::Click => "Click",
        funnel::Stage::Visit => "Visit",
        funnel::Stage::LeadMagnet => "Lead magnet",
        funnel::Stage::Cta => "CTA",
        funnel::Stage::Activation => "Activation",
    }
}

/// The rows set apart, as (label, rows) lines, in a fixed order.
pub(crate) fn excluded_lines(r: &FunnelReport) -> Vec<(String, u64)> {
    let e = &r.excluded;
    let mut v = vec![(
        format!(
            "rows read (created from {} to {}, coarse)",
            when(events::Ts(
                r.range.start.0 - i64::from(r.window_days) * events::MS_PER_DAY
            )),
            when(r.range.end)
        ),
        e.rows_read,
    )];
    for (code, n) in &e.unknown_partner_rows {
        v.push((format!("unknown partner code `{code}`"), *n));
    }
    for (code, n) in &e.no_visitor_rows {
        v.push((format!("no visitor id (partner `{code}`)"), *n));
    }
    for (name, n) in &e.unknown_event_rows {
        v.push((format!("unknown event name `{name}`"), *n));
    }
    v.push((
        format!(
            "bot rows ({} visitor ids with more than {} rows)",
            e.bot_visitors, r.bot_max_events
        ),
        e.bot_rows,
    ));
    v.push((
        "rows in no journey (no click or visit before them in the window)".into(),
        e.unattributed_rows,
    ));
    v.push((
        "rows with an unreadable created_at".into(),
        e.invalid_time_rows,
    ));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_utc_minutes_unless_more_is_needed() {
        let t = |s: &str| when(events::Ts::parse(s).unwrap());
        assert_eq!(t("2026-11-17T00:00:00.000Z"), "2026-11-17 00:00 UTC");
        assert_eq!(t("2026-11-17T10:30:05.000Z"), "2026-11-17 10:30:05 UTC");
        assert_eq!(t("2026-11-17T10:30:05.250Z"), "2026-11-17 10:30:05.250 UTC");
    }
}
