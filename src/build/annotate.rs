//! Build stage, annotation: the funnel of each partner for `build --events` (the `funnel`
//! template variable), the staff preview overlay and `annotations.json`.
//!
//! Takes: the site, an event source and `--now`. Gives: [`Annotations`]: one JSON value per
//! partner for the landing template (nothing shows unless a template uses `funnel`), and for
//! `--preview` the overlay injected into each landing page plus `annotations.json`.
//!
//! The window is the last 7 days ending at `--now` (default: the current time), the same cohort
//! rule as `report --last 7d`: the figures come from [`crate::funnel`], never recomputed here.

use crate::error::{Error, Result};
use crate::funnel::{FunnelReport, Range};
use crate::output::OutputFile;
use crate::render::escape_html;
use crate::site::Site;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Length of the annotation window, ending at `now`.
pub use crate::funnel::range::RECENT as WINDOW;
/// The staff file written beside the pages by `build --preview`.
pub const ANNOTATIONS_FILE: &str = "annotations.json";

/// Funnel figures per partner, ready for templates.
#[derive(Debug, Clone)]
pub struct Annotations {
    /// The window the figures cover.
    pub range: Range,
    /// The event source, as the report describes it.
    pub source: String,
    /// Partner code -> the `funnel` variable of its landing page.
    pub partners: BTreeMap<String, Value>,
}

/// The annotations of a build: `None` without `events`; `preview` without `events` is a user
/// error.
pub fn for_build(site: &Site, opts: &crate::build::BuildOptions) -> Result<Option<Annotations>> {
    match &opts.events {
        Some(events) => compute(
            site,
            events,
            opts.now.as_deref(),
            opts.render.progress.is_none(),
        )
        .map(Some),
        None if opts.preview => Err(Error::user_hint(
            "a preview build needs `events`, the event source of its funnel figures",
            "give the event source to annotate with, e.g. partner-events.db",
        )),
        None => Ok(None),
    }
}

impl Annotations {
    /// Render options that give each landing page its `funnel` variable.
    // `..Default::default()` keeps this compiling when the render stage gains options.
    #[allow(clippy::needless_update)]
    pub fn render_options<'a>(
        &self,
        progress: Option<&'a dyn crate::render::Progress>,
    ) -> crate::render::RenderOptions<'a> {
        crate::render::RenderOptions {
            funnel: self.partners.clone(),
            progress,
            ..Default::default()
        }
    }
}

/// Read the events and compute every partner's funnel over the window ending at `now`.
pub fn compute(site: &Site, events: &str, now: Option<&str>, quiet: bool) -> Result<Annotations> {
    let range = Range::from_flags(Some(WINDOW), None, None, now)?;
    let report = crate::report::funnel_for(site, events, range, quiet)?;
    Ok(from_report(&report))
}

/// The `funnel` variable of each partner: its [`crate::funnel::PartnerFunnel`] (visitors,
/// rates with intervals, bands and verdicts, campaigns, the recommended action) plus the
/// window and the pooled average.
pub fn from_report(report: &FunnelReport) -> Annotations {
    let average = serde_json::to_value(report.average).unwrap_or(Value::Null);
    let window = json!({
        "start": report.range.start.to_string(),
        "end": report.range.end.to_string(),
    });
    let partners = report
        .partners
        .iter()
        .map(|p| {
            let mut v = serde_json::to_value(p).unwrap_or(Value::Null);
            if let Value::Object(m) = &mut v {
                m.insert("window".into(), window.clone());
                m.insert("average".into(), average.clone());
                m.insert(
                    "landing_path".into(),
                    Value::String(format!("/p/{}/", p.code)),
                );
            }
            (p.code.clone(), v)
        })
        .collect();
    Annotations {
        range: report.range,
        source: report.source.clone(),
        partners,
    }
}

/// `annotations.json`: every partner's funnel keyed by code, for review tools.
pub fn annotations_json(a: &Annotations) -> Result<OutputFile> {
    let doc = json!({
        "version": 1,
        "source": a.source,
        "window": { "start": a.range.start.to_string(), "end": a.range.end.to_string() },
        "partners": a.partners,
    });
    let mut text = serde_json::to_string_pretty(&doc)
        .map_err(|e| Error::Internal(format!("annotations.json: {e}")))?;
    text.push('\n');
    Ok(OutputFile::new(ANNOTATIONS_FILE, text))
}

/// The overlay's stylesheet (its hash is added to the page's CSP `style-src`).
const OVERLAY_CSS: &str = ".pp-preview{position:fixed;right:1rem;bottom:1rem;z-index:1000;max-width:min(34rem,calc(100vw - 2rem));max-height:80vh;overflow:auto;background:#fff;color:#111;border:2px solid #7a3e00;border-radius:.5rem;padding:.75rem 1rem;font:14px/1.4 system-ui,sans-serif;box-shadow:0 4px 16px rgba(0,0,0,.25)}.pp-preview h2{font-size:1rem;margin:0 0 .5rem}.pp-preview table{border-collapse:collapse;width:100%}.pp-preview th,.pp-preview td{border-bottom:1px solid #ccc;padding:.2rem .4rem;text-align:left;word-break:normal;overflow-wrap:normal;hyphens:none}.pp-preview thead th{white-space:nowrap}.pp-preview caption{text-align:left;font-weight:600}.pp-preview .below{color:#a00000}.pp-preview .above{color:#00602b}.pp-preview p{margin:.5rem 0 0}";

/// Add the overlay to every partner's landing page in `files` and add `annotations.json`.
pub fn apply_preview(files: &mut Vec<OutputFile>, a: &Annotations) -> Result<()> {
    for (code, funnel) in &a.partners {
        let path = format!("p/{code}/index.html");
        if let Some(f) = files.iter_mut().find(|f| f.path == path) {
            let html = String::from_utf8(std::mem::take(&mut f.bytes))
                .map_err(|e| Error::Internal(format!("{path} is not UTF-8: {e}")))?;
            f.bytes = inject(&html, &overlay(funnel)).into_bytes();
        }
    }
    files.push(annotations_json(a)?);
    files.sort_by(|x, y| x.path.cmp(&y.path));
    Ok(())
}

/// Insert the overlay's style (allowed by hash in the page's CSP) and the overlay itself.
fn inject(html: &str, overlay: &str) -> String {
    let hash = crate::render::beacon::csp_sha256(OVERLAY_CSS);
    let mut out = html.to_string();
    // Allow the style through the page's own policy; pages without a CSP need nothing.
    if let Some(i) = out.find("style-src ") {
        out.insert_str(i + "style-src ".len(), &format!("{hash} "));
    }
    let style = format!("<style>{OVERLAY_CSS}</style>\n");
    match out.find("</head>") {
        Some(i) => out.insert_str(i, &style),
        None => out.insert_str(0, &style),
    }
    match out.rfind("</body>") {
        Some(i) => out.insert_str(i, overlay),
        None => out.push_str(overlay),
    }
    out
}

fn num(v: &Value, path: &[&str]) -> Option<f64> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_f64()
}

fn text<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    let mut cur = v;
    for p in path {
        match cur.get(p) {
            Some(x) => cur = x,
            None => return "",
        }
    }
    cur.as_str().unwrap_or("")
}

fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| "–".into(), crate::funnel::stats::pct)
}

/// `2026-11-17T12:00:00.000Z` -> `2026-11-17 12:00`, for people.
fn minutes(ts: &str) -> String {
    ts.get(..16).unwrap_or(ts).replacen('T', " ", 1)
}

/// The staff overlay of one landing page: stage rates against the bands, and the action.
pub fn overlay(funnel: &Value) -> String {
    let visitors = num(funnel, &["figures", "counts", "visitors"]).unwrap_or(0.0);
    let clicks = num(funnel, &["figures", "counts", "clicks"]).unwrap_or(0.0);
    let mut rows = String::new();
    for (stage, label) in [
        ("lead_magnet", "Lead magnet"),
        ("cta", "CTA"),
        ("activation", "Activation"),
    ] {
        let r = &funnel["figures"]["rates"][stage];
        let verdict = r["verdict"].as_str().unwrap_or("");
        rows.push_str(&format!(
            "<tr><th scope=\"row\">{label}</th><td>{}</td><td>{}</td><td>{}–{}</td><td>{}–{}</td><td class=\"{}\">{}</td></tr>\n",
            r["count"].as_u64().unwrap_or(0),
            pct(r["rate"].as_f64()),
            pct(r["low"].as_f64()),
            pct(r["high"].as_f64()),
            pct(r["band"]["low"].as_f64()),
            pct(r["band"]["high"].as_f64()),
            escape_html(verdict),
            escape_html(crate::funnel::stats::verdict_word(verdict)),
        ));
    }
    format!(
        "<aside class=\"pp-preview\" aria-labelledby=\"pp-preview-title\">\n\
<h2 id=\"pp-preview-title\">Funnel preview (staff build, not for deploy)</h2>\n\
<p>{visitors} visitors, {clicks} clicks, {start} to {end} UTC.</p>\n\
<table>\n<caption>Stage rates (share of visitors) against the bands</caption>\n\
<thead><tr><th scope=\"col\">Stage</th><th scope=\"col\">Reached</th><th scope=\"col\">Rate</th><th scope=\"col\">95% interval</th><th scope=\"col\">Band</th><th scope=\"col\">Verdict</th></tr></thead>\n\
<tbody>\n{rows}</tbody>\n</table>\n\
<p><strong>Action</strong> (rule <code>{rule}</code>): {action}</p>\n<p>{because}</p>\n</aside>\n",
        start = escape_html(&minutes(text(funnel, &["window", "start"]))),
        end = escape_html(&minutes(text(funnel, &["window", "end"]))),
        rule = escape_html(text(funnel, &["action", "rule"])),
        action = escape_html(text(funnel, &["action", "action"])),
        because = escape_html(text(funnel, &["action", "because"])),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlay_style_hash_joins_the_pages_style_policy() {
        let page = "<html><head><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'sha256-abc'\"></head><body><main></main></body></html>";
        let out = inject(page, "<aside>x</aside>\n");
        let hash = crate::render::beacon::csp_sha256(OVERLAY_CSS);
        assert!(
            out.contains(&format!("style-src {hash} 'sha256-abc'")),
            "{out}"
        );
        assert!(out.contains("</style>\n</head>"));
        assert!(out.ends_with("<aside>x</aside>\n</body></html>"));
    }

    #[test]
    fn overlay_shows_the_window_to_the_minute() {
        let v = json!({"window": {"start": "2026-11-17T12:00:00.000Z", "end": "2026-11-24T12:00:00.000Z"}});
        assert!(overlay(&v).contains("2026-11-17 12:00 to 2026-11-24 12:00 UTC"));
    }

    #[test]
    fn overlay_escapes_the_action_text() {
        let v = json!({"action": {"rule": "r", "action": "<b>", "because": "a & b"}});
        let html = overlay(&v);
        assert!(html.contains("&lt;b&gt;") && html.contains("a &amp; b"));
    }
}
