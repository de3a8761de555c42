//! Report stage, HTML: one self-contained page (inline CSS, inline SVG, no scripts or fonts)
//! with a funnel chart per partner: bars of distinct visitors per stage, and each banded rate
//! drawn as its interval over the shaded band.

use super::{differences_text, excluded_lines, look_date, split_text, stage_label, when};
use crate::experiment::observe::PartnerTest;
use crate::experiment::{points_range, Pair};
use crate::funnel::stats::pct;
use crate::funnel::{Figures, FunnelReport, Rate, Stage};
use crate::render::escape_html;
use std::fmt::Write;

const CSS: &str = "body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#1d2433}\
table{border-collapse:collapse;margin:.5rem 0 1.5rem;width:100%}th,td{border-bottom:1px solid #d8dde6;padding:.3rem .5rem;text-align:left;vertical-align:top}\
td.n{text-align:right;font-variant-numeric:tabular-nums}.below{color:#b3261e}.above{color:#146c2e}.insufficient{color:#6b7280}\
.action{background:#f3f6fb;border-left:4px solid #3056d3;padding:.6rem .9rem;margin:1rem 0}.muted{color:#6b7280}svg{max-width:100%;height:auto}\
section{margin-top:2.5rem}.winner{color:#146c2e}.invalid_split{color:#b3261e}details{margin:.3rem 0 1.2rem}\
@media (max-width:40rem){table{display:block;overflow-x:auto}}";

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
            escape_html(p.action.rule.as_str())
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
        if r.experiments.iter().any(|t| t.partner == p.code) {
            let _ = writeln!(
                o,
                "<p>A test of promises is running: <a href=\"#test-{}\">its verdicts</a>.</p>",
                escape_html(&p.code)
            );
        }
        o.push_str(&chart(&p.code, &p.figures));
        stage_table(&mut o, &p.figures);
        let _ = writeln!(
            o,
            "<p>{}</p>\n<p>{}</p>",
            escape_html(&super::activity_text(&p.activity)),
            escape_html(&super::contactable_text(&p.figures.counts).replace('`', ""))
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
    experiments(&mut o, r);
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
    let _ = writeln!(o, "</tbody>\n</table>\n</section>");
    o.push_str(&super::revenue::html(r.revenue.as_ref()));
    if !r.earnings.is_empty() {
        let _ = writeln!(o, "<section>\n<h2>Partner earnings</h2>\n<table>\n<thead><tr><th>Partner</th><th>Currency</th><th>Sales (net)</th><th>Pending</th><th>Due</th><th>Held</th><th>Paid</th></tr></thead>\n<tbody>");
        for e in &r.earnings {
            let m = |v: i64| crate::reward::money::format_major(v, &e.currency);
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                escape_html(&e.partner),
                escape_html(&e.currency.to_ascii_uppercase()),
                m(e.sales),
                m(e.pending),
                m(e.due),
                m(e.held),
                m(e.paid)
            );
        }
        let _ = writeln!(o, "</tbody>\n</table>\n</section>");
    }
    let _ = writeln!(o, "</body>\n</html>");
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
                escape_html(&format!("{} {}", r.proportion.display(), r.verdict.word()))
            );
        }
    }
    let _ = writeln!(o, "</svg>");
    o
}

/// Each running test: visitors and conversions per variant, every stage's verdict with its rule
/// (the Markdown's words), and per pair of variants the interval of the difference week by
/// week, drawn and as a table.
fn experiments(o: &mut String, r: &FunnelReport) {
    for t in &r.experiments {
        let code = escape_html(&t.partner);
        let n = t.looks.len();
        let _ = writeln!(
            o,
            "<section id=\"test-{code}\">\n<h2>Test: {code}</h2>\n<p>{} from the first visit to {}; the control is <code>{}</code>.</p>",
            crate::text::plural(n as u64, "weekly look", "weekly looks"),
            escape_html(&look_date(t.looks.last().map(String::as_str).unwrap_or(""))),
            escape_html(t.variants.first().map(|v| v.id.as_str()).unwrap_or(""))
        );
        let _ = writeln!(o, "<table>\n<thead><tr><th>Variant</th><th>Weight</th><th>Visitors</th><th>Lead magnet</th><th>CTA</th><th>Activation</th></tr></thead>\n<tbody>");
        for (i, v) in t.variants.iter().enumerate() {
            let visitors = t.split.last.observed.get(i).copied().unwrap_or(0);
            let conv = |k: usize| {
                let c = t
                    .stages
                    .get(k)
                    .and_then(|s| s.test.arms.get(i))
                    .map_or(0, |a| a.conversions);
                if visitors == 0 {
                    format!("<td class=\"n\">{c}</td>")
                } else {
                    format!(
                        "<td class=\"n\">{c} <small>({})</small></td>",
                        pct(c as f64 / visitors as f64)
                    )
                }
            };
            let _ = writeln!(
                o,
                "<tr><td><code>{}</code></td><td class=\"n\">{}</td><td class=\"n\">{visitors}</td>{}{}{}</tr>",
                escape_html(&v.id),
                v.weight,
                conv(0),
                conv(1),
                conv(2)
            );
        }
        let _ = writeln!(o, "</tbody>\n</table>");
        let _ = writeln!(o, "<table>\n<thead><tr><th>Stage</th><th>Difference (interval, all looks)</th><th>Verdict</th><th>Rule</th></tr></thead>\n<tbody>");
        for s in &t.stages {
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td><code>{}</code></td></tr>",
                stage_label(s.stage),
                escape_html(&differences_text(&s.test)),
                s.test.decision.verdict.as_str(),
                escape_html(&s.test.decision.to_string()),
                s.test.decision.rule
            );
        }
        let _ = writeln!(o, "</tbody>\n</table>");
        let _ = writeln!(o, "<p>{}</p>", escape_html(&split_text(t)));
        for s in &t.stages {
            let _ = writeln!(
                o,
                "<h3>{}: {}</h3>\n<p><code>{}</code>: {}.</p>",
                stage_label(s.stage),
                escape_html(&s.test.decision.to_string()),
                s.test.decision.rule,
                escape_html(&s.test.decision.because)
            );
            for (k, p) in s.test.pairs.iter().enumerate() {
                let id = format!("test-{code}-{}-{k}", s.stage.as_str());
                let stage = match s.stage {
                    crate::stage::Stage::Cta => "CTA".to_string(),
                    other => stage_label(other).to_lowercase(),
                };
                let what = format!("{} − {}, {stage} rate", p.b, p.a);
                o.push_str(&difference_chart(&id, &what, t, p, s.test.min_lift));
                difference_table(o, &what, t, p);
            }
        }
        let _ = writeln!(
            o,
            "<p class=\"muted\">Method: {}.</p>\n</section>",
            escape_html(&t.method)
        );
    }
}

/// The figures behind a difference chart, look by look: its text alternative.
fn difference_table(o: &mut String, what: &str, t: &PartnerTest, p: &Pair) {
    let _ = writeln!(
        o,
        "<details><summary>Week by week: {}</summary>\n<table>\n<thead><tr><th>Look ending</th><th>Estimate</th><th>Interval at this look</th><th>Running interval (what the verdict reads)</th></tr></thead>\n<tbody>",
        escape_html(what)
    );
    for (i, label) in t.looks.iter().enumerate() {
        let at = p.intervals.get(i).copied().flatten();
        let run = p.running.get(i).copied().flatten();
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>",
            escape_html(&look_date(label)),
            at.map_or_else(|| "–".to_string(), |x| signed(x.estimate)),
            at.map_or_else(
                || "too early".to_string(),
                |x| escape_html(&points_range(x.low, x.high))
            ),
            run.map_or_else(
                || "–".to_string(),
                |x| escape_html(&points_range(x.low, x.high))
            )
        );
    }
    let _ = writeln!(o, "</tbody>\n</table>\n</details>");
}

use crate::text::number::signed_points as signed;

/// The SVG of one pair's difference over the looks: the estimate and its always-valid
/// interval at every readable look, the running interval the verdict reads (shaded), the zero
/// line and ± the smallest lift that matters (dashed). Nothing to draw before the first
/// readable look: a sentence says so.
fn difference_chart(id: &str, what: &str, t: &PartnerTest, p: &Pair, min_lift: f64) -> String {
    let n = t.looks.len();
    let read: Vec<(usize, crate::experiment::sequential::Interval)> = p
        .intervals
        .iter()
        .enumerate()
        .filter_map(|(i, x)| x.map(|x| (i, x)))
        .collect();
    if read.is_empty() {
        return format!(
            "<p class=\"muted\">{}: too few visitors and conversions to draw an interval yet.</p>\n",
            escape_html(what)
        );
    }
    let (w, h) = (640.0, 220.0);
    let (left, right, top, bottom) = (64.0, 16.0, 24.0, 40.0);
    let lows = read.iter().map(|(_, x)| x.low).chain([-min_lift, 0.0]);
    let highs = read.iter().map(|(_, x)| x.high).chain([min_lift, 0.0]);
    let lo = lows.fold(f64::INFINITY, f64::min);
    let hi = highs.fold(f64::NEG_INFINITY, f64::max);
    let pad = ((hi - lo) * 0.08).max(0.002);
    let (lo, hi) = (lo - pad, hi + pad);
    let y = |v: f64| top + (hi - v) / (hi - lo) * (h - top - bottom);
    let x = |i: usize| {
        if n <= 1 {
            left + (w - left - right) / 2.0
        } else {
            left + i as f64 / (n - 1) as f64 * (w - left - right)
        }
    };
    let last = read.last().map(|(_, x)| *x);
    let title = format!(
        "{what}, in points, at each of {n} weekly looks; at the last readable look {}",
        last.map_or_else(String::new, |x| format!(
            "estimate {} points, interval {}",
            signed(x.estimate),
            points_range(x.low, x.high)
        ))
    );
    let desc = format!(
        "Dots: the estimate at each look, with its always-valid 95% interval as a vertical line. Shaded: the running interval the verdict reads. Solid line: no difference. Dashed lines: ±{} points, the smallest lift that matters. The table after the chart gives the same figures.",
        signed(min_lift).trim_start_matches('+')
    );
    let mut o = String::new();
    let _ = writeln!(
        o,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-labelledby=\"{id}-title {id}-desc\">\n<title id=\"{id}-title\">{}</title>\n<desc id=\"{id}-desc\">{}</desc>",
        escape_html(&title),
        escape_html(&desc)
    );
    // The running interval: a band from the first readable look on.
    let band: Vec<(usize, crate::experiment::sequential::Interval)> = p
        .running
        .iter()
        .enumerate()
        .filter_map(|(i, x)| x.map(|x| (i, x)))
        .collect();
    if let Some(&(first, _)) = band.first() {
        let mut pts: Vec<String> = band
            .iter()
            .map(|(i, r)| format!("{:.1},{:.1}", x(*i), y(r.high)))
            .collect();
        pts.extend(
            band.iter()
                .rev()
                .map(|(i, r)| format!("{:.1},{:.1}", x(*i), y(r.low))),
        );
        if band.len() == 1 {
            // One look: a narrow bar rather than a line.
            let r = band[0].1;
            let _ = writeln!(
                o,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"16\" height=\"{:.1}\" fill=\"#dbe4fb\"/>",
                x(first) - 8.0,
                y(r.high),
                (y(r.low) - y(r.high)).max(1.0)
            );
        } else {
            let _ = writeln!(
                o,
                "<polygon points=\"{}\" fill=\"#dbe4fb\"/>",
                pts.join(" ")
            );
        }
    }
    // Reference lines: zero, and ± the smallest lift that matters.
    let _ = writeln!(
        o,
        "<line x1=\"{left}\" y1=\"{z:.1}\" x2=\"{:.1}\" y2=\"{z:.1}\" stroke=\"#1d2433\"/>",
        w - right,
        z = y(0.0)
    );
    for m in [min_lift, -min_lift] {
        let _ = writeln!(
            o,
            "<line x1=\"{left}\" y1=\"{v:.1}\" x2=\"{:.1}\" y2=\"{v:.1}\" stroke=\"#6b7280\" stroke-dasharray=\"4 4\"/>",
            w - right,
            v = y(m)
        );
    }
    // The y axis, in points: zero and ± the smallest lift first, then the bounds of the scale,
    // each label only where it does not touch one already placed.
    let mut placed: Vec<f64> = Vec::new();
    for v in [0.0, min_lift, -min_lift, hi, lo] {
        let at = y(v);
        if placed.iter().any(|p| (p - at).abs() < 12.0) {
            continue;
        }
        placed.push(at);
        let _ = writeln!(
            o,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\" fill=\"#6b7280\">{}</text>",
            left - 6.0,
            at + 4.0,
            signed(v)
        );
    }
    let _ = writeln!(
        o,
        "<text x=\"0\" y=\"11\" font-size=\"11\" fill=\"#6b7280\">difference, points</text>"
    );
    // Every readable look: the interval and the estimate.
    for (i, iv) in &read {
        let color = if iv.low > 0.0 || iv.high < 0.0 {
            "#146c2e"
        } else {
            "#3056d3"
        };
        let _ = writeln!(
            o,
            "<line x1=\"{cx:.1}\" y1=\"{:.1}\" x2=\"{cx:.1}\" y2=\"{:.1}\" stroke=\"{color}\" stroke-width=\"2\"/><circle cx=\"{cx:.1}\" cy=\"{:.1}\" r=\"3.5\" fill=\"{color}\"/>",
            y(iv.high),
            y(iv.low),
            y(iv.estimate),
            cx = x(*i)
        );
    }
    // The x axis: the look dates, thinned to about eight labels.
    let step = n.div_ceil(8).max(1);
    for (i, label) in t.looks.iter().enumerate() {
        if i % step != 0 && i + 1 != n {
            continue;
        }
        let _ = writeln!(
            o,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#6b7280\">{}</text>",
            x(i),
            h - bottom + 16.0,
            escape_html(label.get(5..10).unwrap_or(label))
        );
    }
    let _ = writeln!(
        o,
        "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#6b7280\">look ending (month-day, UTC)</text>\n</svg>",
        left + (w - left - right) / 2.0,
        h - 6.0
    );
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::observe::StageResult;
    use crate::experiment::sequential::Arm;
    use crate::experiment::{judge_stage, split_check, Look, Settings, Variant};

    /// A two-variant test over weekly looks of `per_week` visitors a variant, converting at
    /// `rates`; the first look has too few visitors to read.
    fn test_of(per_week: u64, rates: [f64; 2], weeks: u64) -> PartnerTest {
        let variants = vec![Variant::new("control", 1.0), Variant::new("speed", 1.0)];
        let s = Settings::default();
        let looks: Vec<Look> = (1..=weeks)
            .map(|w| {
                let n = per_week * w;
                let arms = rates
                    .iter()
                    .map(|r| Arm::new(n, (n as f64 * r).round() as u64))
                    .collect();
                Look::new(format!("2026-11-{:02}T00:00:00.000Z", 2 + 7 * w), arms)
            })
            .collect();
        let split = split_check(&variants, &looks, &s);
        let stage = StageResult {
            stage: crate::stage::Stage::LeadMagnet,
            test: judge_stage(&variants, &looks, 0.275, &split, &s),
        };
        PartnerTest {
            partner: "seo-consultant".into(),
            variants,
            looks: looks.iter().map(|l| l.label.clone()).collect(),
            split,
            stages: vec![stage],
            method: s.method(),
            settings: s,
        }
    }

    fn chart_of(t: &PartnerTest) -> String {
        let s = &t.stages[0];
        difference_chart("c", "speed − control", t, &s.test.pairs[0], s.test.min_lift)
    }

    #[test]
    fn the_chart_has_a_dot_per_readable_look_and_its_labels_never_touch() {
        let t = test_of(60, [0.2, 0.3], 4);
        let pair = &t.stages[0].test.pairs[0];
        let readable = pair.intervals.iter().flatten().count();
        assert_eq!(readable, 3, "the first look (60 a variant) is too early");
        let svg = chart_of(&t);
        assert_eq!(svg.matches("<circle").count(), readable, "{svg}");
        assert!(svg.contains("role=\"img\" aria-labelledby=\"c-title c-desc\""));
        assert!(svg.contains("<title id=\"c-title\">speed − control, in points, at each of 4 weekly looks; at the last readable look estimate +10.0 points"), "{svg}");
        // The y labels: zero always; the others only where they do not touch a placed one.
        let ys: Vec<f64> = svg
            .match_indices("text-anchor=\"end\"")
            .map(|(i, _)| {
                let before = &svg[..i];
                let y = before.rfind(" y=\"").unwrap() + 4;
                let end = before[y..].find('"').unwrap() + y;
                before[y..end].parse().unwrap()
            })
            .collect();
        assert!(svg.contains(">0.0</text>"));
        for (i, a) in ys.iter().enumerate() {
            for b in &ys[i + 1..] {
                assert!((a - b).abs() >= 12.0, "labels at {a} and {b}: {ys:?}");
            }
        }
        // Wide intervals on a small scale: ± the smallest lift sits close to zero and its labels
        // are left out rather than drawn over the zero label.
        let t = test_of(5000, [0.2, 0.2], 3);
        let wide = test_of(120, [0.0, 0.9], 2);
        for t in [&t, &wide] {
            let svg = chart_of(t);
            let n = svg.matches("text-anchor=\"end\"").count();
            assert!((1..=5).contains(&n), "{n} labels: {svg}");
        }
    }

    #[test]
    fn without_a_readable_look_there_is_a_sentence_not_a_chart() {
        let t = test_of(20, [0.2, 0.3], 3);
        let html = chart_of(&t);
        assert!(!html.contains("<svg"), "{html}");
        assert!(html.contains("too few visitors and conversions to draw an interval yet"));
    }
}
