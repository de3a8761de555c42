//! Report stage, HTML: one self-contained page (inline CSS, inline SVG, no scripts or fonts)
//! with a funnel chart per partner: bars of distinct visitors per stage, and each banded rate
//! drawn as its interval over the shaded band.

use super::{excluded_lines, stage_label, when};
use crate::funnel::stats::pct;
use crate::funnel::{Figures, FunnelReport, Rate, Stage};
use crate::render::escape_html;
use std::fmt::Write;

const CSS: &str = "body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#1d2433}\
table{border-collapse:collapse;margin:.5rem 0 1.5rem;width:100%}th,td{border-bottom:1px solid #d8dde6;padding:.3rem .5rem;text-align:left;vertical-align:top}\
td.n{text-align:right;font-variant-numeric:tabular-nums}.below{color:#b3261e}.above{color:#146c2e}.insufficient{color:#6b7280}\
.action{background:#f3f6fb;border-left:4px solid #3056d3;padding:.6rem .9rem;margin:1rem 0}.muted{color:#6b7280}svg{max-width:100%;height:auto}\
section{margin-top:2.5rem}";

/// The report as one HTML page.
pub fn html(r: &FunnelReport) -> String {
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Partner funnel report {} – {}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        escape_html(&when(r.range.start)),
        escape_html(&when(r.range.end))
    );
    let _ = writeln!(o, "<h1>Partner funnel report</h1>");
    let _ = writeln!(
        o,
        "<p>{} to {} (end excluded) · source <code>{}</code> · first-touch attribution, {}-day window.</p>",
        escape_html(&when(r.range.start)),
        escape_html(&when(r.range.end)),
        escape_html(&r.source),
        r.window_days
    );
    for para in super::method_text(r) {
        let _ = writeln!(o, "<p class=\"muted\">{}</p>", escape_html(&para));
    }
    let _ = writeln!(o, "<h2>Summary</h2>\n<table>\n<thead><tr><th>Partner</th><th>Clicks</th><th>Visitors</th><th>Lead magnet</th><th>CTA</th><th>Activation</th><th>Action (rule)</th></tr></thead>\n<tbody>");
    for p in &r.partners {
        let f = &p.figures;
        let _ = writeln!(
            o,
            "<tr><td><a href=\"#p-{}\">{}</a></td><td class=\"n\">{}</td><td class=\"n\">{}</td>{}{}{}<td>{} <code>{}</code></td></tr>",
            escape_html(&p.code),
            escape_html(&p.code),
            f.counts.clicks,
            f.counts.visitors,
            rate_td(&f.rates.lead_magnet),
            rate_td(&f.rates.cta),
            rate_td(&f.rates.activation),
            escape_html(&p.action.action),
            escape_html(&p.action.rule)
        );
    }
    let a = &r.average;
    let _ = writeln!(
        o,
        "<tr><th>Funnel average (pooled)</th><td class=\"n\">{}</td><td class=\"n\">{}</td>{}{}{}<td></td></tr>\n</tbody>\n</table>",
        a.counts.clicks,
        a.counts.visitors,
        rate_td(&a.rates.lead_magnet),
        rate_td(&a.rates.cta),
        rate_td(&a.rates.activation)
    );
    for p in &r.partners {
        let _ = writeln!(
            o,
            "<section id=\"p-{}\">\n<h2>{} — {}</h2>",
            escape_html(&p.code),
            escape_html(&p.code),
            escape_html(&p.name)
        );
        if !p.promise.is_empty() {
            let _ = writeln!(
                o,
                "<p>Promise: {} · activation event: <code>{}</code></p>",
                escape_html(&p.promise),
                escape_html(&p.activation_event)
            );
        }
        let _ = writeln!(
            o,
            "<div class=\"action\"><strong>Action:</strong> {}<br><span class=\"muted\">Because {}.</span></div>",
            escape_html(&p.action.action),
            escape_html(&p.action.because)
        );
        o.push_str(&chart(&p.code, &p.figures));
        stage_table(&mut o, &p.figures);
        let a = &p.activity;
        let _ = writeln!(
            o,
            "<p>Activity in the range (journeys of any age): {} clicks, {} visits, {} lead magnets, {} CTAs, {} activations.</p>",
            a.clicks, a.visits, a.lead_magnet, a.cta, a.activation
        );
        if !p.campaigns.is_empty() {
            let _ = writeln!(o, "<h3>By campaign</h3>\n<table>\n<thead><tr><th>Campaign</th><th>Clicks</th><th>Visitors</th><th>Lead magnet</th><th>CTA</th><th>Activation</th></tr></thead>\n<tbody>");
            for c in &p.campaigns {
                let f = &c.figures;
                let _ = writeln!(
                    o,
                    "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>{}{}{}</tr>",
                    escape_html(&c.campaign),
                    f.counts.clicks,
                    f.counts.visitors,
                    rate_td(&f.rates.lead_magnet),
                    rate_td(&f.rates.cta),
                    rate_td(&f.rates.activation)
                );
            }
            let _ = writeln!(o, "</tbody>\n</table>");
        }
        let _ = writeln!(o, "</section>");
    }
    let _ = writeln!(
        o,
        "<section>\n<h2>Funnel average (all partners pooled)</h2>"
    );
    o.push_str(&chart("average", &r.average));
    stage_table(&mut o, &r.average);
    let _ = writeln!(o, "</section>\n<section>\n<h2>Rows shown apart</h2>\n<table>\n<thead><tr><th>What</th><th>Rows</th></tr></thead>\n<tbody>");
    for (label, n) in excluded_lines(r) {
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td class=\"n\">{n}</td></tr>",
            escape_html(&label)
        );
    }
    let _ = writeln!(o, "</tbody>\n</table>\n</section>\n</body>\n</html>");
    o
}

fn rate_td(r: &Rate) -> String {
    match r.proportion.rate {
        None => "<td>–</td>".into(),
        Some(_) => format!(
            "<td class=\"{}\">{} <small>{}</small></td>",
            r.verdict.as_str(),
            escape_html(&r.proportion.display()),
            escape_html(&super::verdict_text(r))
        ),
    }
}

fn stage_table(o: &mut String, f: &Figures) {
    let c = &f.counts;
    let _ = writeln!(o, "<table>\n<thead><tr><th>Stage</th><th>Visitors</th><th>Old enough: reached / visitors [95% CI]</th><th>Band</th><th>Verdict</th></tr></thead>\n<tbody>");
    let _ = writeln!(o, "<tr><td>Click</td><td class=\"n\">{}</td><td colspan=\"3\" class=\"muted\">click → visit {}</td></tr>", c.clicks, escape_html(&f.steps.click_to_visit.display()));
    let _ = writeln!(
        o,
        "<tr><td>Visit</td><td class=\"n\">{}</td><td colspan=\"3\"></td></tr>",
        c.visitors
    );
    for (s, r, n) in [
        (Stage::LeadMagnet, &f.rates.lead_magnet, c.lead_magnet),
        (Stage::Cta, &f.rates.cta, c.cta),
        (Stage::Activation, &f.rates.activation, c.activation),
    ] {
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td class=\"n\">{n}</td><td>{}/{}: {}</td><td>{}–{}</td><td class=\"{}\">{}</td></tr>",
            stage_label(s),
            r.proportion.count,
            r.proportion.of,
            escape_html(&r.proportion.display()),
            pct(r.band.low),
            pct(r.band.high),
            r.verdict.as_str(),
            escape_html(&super::verdict_text(r))
        );
    }
    let _ = writeln!(o, "</tbody>\n</table>");
}

/// The SVG: five bars (distinct visitors per stage), then the three banded rates as intervals.
fn chart(id: &str, f: &Figures) -> String {
    let c = &f.counts;
    let counts = [c.clicks, c.visitors, c.lead_magnet, c.cta, c.activation];
    let max = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let (w, label_w, bar_w) = (640.0, 110.0, 440.0);
    let row_h = 26.0;
    let rates_top = 5.0 * row_h + 34.0;
    let h = rates_top + 3.0 * row_h + 30.0;
    let mut o = String::new();
    let title_id = format!("chart-{}", escape_html(id));
    let _ = writeln!(
        o,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-labelledby=\"{title_id}\">\n<title id=\"{title_id}\">Funnel of {}: {} clicks, {} visitors, {} lead magnet, {} CTA, {} activation</title>",
        escape_html(id),
        c.clicks,
        c.visitors,
        c.lead_magnet,
        c.cta,
        c.activation
    );
    for (i, (s, n)) in Stage::ALL.iter().zip(counts).enumerate() {
        let y = 8.0 + i as f64 * row_h;
        let bw = (n as f64 / max * bar_w).max(if n > 0 { 1.0 } else { 0.0 });
        let _ = writeln!(
            o,
            "<text x=\"0\" y=\"{:.1}\" font-size=\"13\" fill=\"#1d2433\">{}</text><rect x=\"{label_w}\" y=\"{y:.1}\" width=\"{bw:.1}\" height=\"18\" fill=\"#3056d3\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" fill=\"#1d2433\">{n}</text>",
            y + 13.0,
            stage_label(*s),
            label_w + bw + 6.0,
            y + 13.0
        );
    }
    // Rates: a scale from 0 to a little over the highest band edge or interval.
    let rates = [
        (Stage::LeadMagnet, &f.rates.lead_magnet),
        (Stage::Cta, &f.rates.cta),
        (Stage::Activation, &f.rates.activation),
    ];
    let top = rates
        .iter()
        .map(|(_, r)| {
            r.band.high.max(if r.proportion.of > 0 {
                r.proportion.high
            } else {
                0.0
            })
        })
        .fold(0.0f64, f64::max)
        .clamp(0.01, 1.0)
        * 1.1;
    let x = |v: f64| label_w + (v / top).min(1.0) * bar_w;
    let _ = writeln!(
        o,
        "<text x=\"0\" y=\"{:.1}\" font-size=\"12\" fill=\"#6b7280\">Share of visitors: band (shaded), rate and 95% interval; scale 0–{}</text>",
        rates_top - 10.0,
        pct(top)
    );
    for (i, (s, r)) in rates.iter().enumerate() {
        let y = rates_top + i as f64 * row_h;
        let _ = writeln!(
            o,
            "<text x=\"0\" y=\"{:.1}\" font-size=\"13\" fill=\"#1d2433\">{}</text><line x1=\"{label_w}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#d8dde6\"/><rect x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"18\" fill=\"#cfe8d6\"/>",
            y + 13.0,
            stage_label(*s),
            y + 9.0,
            label_w + bar_w,
            y + 9.0,
            x(r.band.low),
            x(r.band.high) - x(r.band.low)
        );
        if let Some(rate) = r.proportion.rate {
            let color = match r.verdict {
                crate::funnel::Verdict::Below => "#b3261e",
                crate::funnel::Verdict::Above => "#146c2e",
                _ => "#1d2433",
            };
            let _ = writeln!(
                o,
                "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{color}\" stroke-width=\"2\"/><circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\" fill=\"{color}\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" fill=\"{color}\">{}</text>",
                x(r.proportion.low),
                y + 9.0,
                x(r.proportion.high),
                y + 9.0,
                x(rate),
                y + 9.0,
                x(r.proportion.high) + 6.0,
                y + 13.0,
                escape_html(&format!("{} {}", r.proportion.display(), r.verdict.as_str()))
            );
        }
    }
    let _ = writeln!(o, "</svg>");
    o
}
