//! Report stage, Markdown: tables a marketer reads in a pull request or a chat.

use super::{excluded_lines, method_text, stage_label, verdict_text, when};
use crate::funnel::stats::pct;
use crate::funnel::{Figures, FunnelReport, Proportion, Rate, Stage};
use crate::text::escape::table_cell as cell;
use std::fmt::Write;

fn rate_cell(r: &Rate) -> String {
    match r.proportion.rate {
        None if r.ready.is_some() => verdict_text(r),
        None => "–".into(),
        Some(_) => format!("{} {}", r.proportion.display(), verdict_text(r)),
    }
}

fn step_cell(p: &Proportion) -> String {
    if p.of == 0 {
        "–".into()
    } else {
        format!("{} ({}/{})", p.display(), p.count, p.of)
    }
}

/// The report as Markdown.
pub fn markdown(r: &FunnelReport) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# Partner funnel report\n");
    let _ = writeln!(
        o,
        "{} to {} (end excluded) · source `{}` · first-touch attribution, {}-day window\n",
        when(r.range.start),
        when(r.range.end),
        r.source,
        r.window_days
    );
    for para in method_text(r) {
        let _ = writeln!(o, "{para}\n");
    }
    let _ = writeln!(o, "## Summary\n");
    let _ = writeln!(
        o,
        "| Partner | Clicks | Visitors | Lead magnet | CTA | Activation | Action | Rule |"
    );
    let _ = writeln!(o, "|---|---:|---:|---|---|---|---|---|");
    for p in &r.partners {
        let f = &p.figures;
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} | {} | `{}` |",
            cell(&p.code),
            f.counts.clicks,
            f.counts.visitors,
            rate_cell(&f.rates.lead_magnet),
            rate_cell(&f.rates.cta),
            rate_cell(&f.rates.activation),
            cell(&p.action.action),
            p.action.rule
        );
    }
    let a = &r.average;
    let _ = writeln!(
        o,
        "| **funnel average (pooled)** | {} | {} | {} | {} | {} | | |\n",
        a.counts.clicks,
        a.counts.visitors,
        rate_cell(&a.rates.lead_magnet),
        rate_cell(&a.rates.cta),
        rate_cell(&a.rates.activation)
    );
    for p in &r.partners {
        let _ = writeln!(o, "## {} — {}\n", cell(&p.code), cell(&p.name));
        if !p.promise.is_empty() {
            let _ = writeln!(
                o,
                "Promise: {} · activation event: `{}`\n",
                cell(&p.promise),
                p.activation_event
            );
        }
        let _ = writeln!(o, "**Action:** {}\n", p.action.action);
        let _ = writeln!(o, "Because {}.\n", p.action.because);
        stage_table(&mut o, &p.figures);
        let _ = writeln!(o, "{}\n", super::activity_text(&p.activity));
        let _ = writeln!(o, "{}\n", super::contactable_text(&p.figures.counts));
        if p.figures.counts.revenue_journeys > 0 {
            let _ = writeln!(
                o,
                "Revenue: {} from {} journeys.\n",
                p.figures.counts.revenue, p.figures.counts.revenue_journeys
            );
        }
        if !p.campaigns.is_empty() {
            let _ = writeln!(o, "By campaign:\n");
            let _ = writeln!(
                o,
                "| Campaign | Clicks | Visitors | Lead magnet | CTA | Activation |"
            );
            let _ = writeln!(o, "|---|---:|---:|---|---|---|");
            for c in &p.campaigns {
                let f = &c.figures;
                let _ = writeln!(
                    o,
                    "| {} | {} | {} | {} | {} | {} |",
                    cell(&c.campaign),
                    f.counts.clicks,
                    f.counts.visitors,
                    rate_cell(&f.rates.lead_magnet),
                    rate_cell(&f.rates.cta),
                    rate_cell(&f.rates.activation)
                );
            }
            let _ = writeln!(o);
        }
    }
    experiments(&mut o, r);
    let _ = writeln!(o, "## Funnel average (all partners pooled)\n");
    stage_table(&mut o, &r.average);
    let _ = writeln!(o, "## Rows shown apart\n");
    let _ = writeln!(o, "Rows in the range that no partner's funnel counts.\n");
    let _ = writeln!(o, "| What | Rows |");
    let _ = writeln!(o, "|---|---:|");
    for (label, n) in excluded_lines(r) {
        let _ = writeln!(o, "| {} | {} |", cell(&label), n);
    }
    o.push_str(&crate::revenue::markdown(r.revenue.as_ref()));
    if !r.earnings.is_empty() {
        let _ = writeln!(o, "\n## Partner earnings\n");
        let _ = writeln!(
            o,
            "From the commission ledger at the report's time (`partner-pages commissions`): the net sales that earned, and the earnings by status.\n"
        );
        let _ = writeln!(
            o,
            "| Partner | Currency | Sales (net) | Pending | Due | Held | Paid |"
        );
        let _ = writeln!(o, "|---|---|---:|---:|---:|---:|---:|");
        for e in &r.earnings {
            let m = |v: i64| crate::reward::money::format_major(v, &e.currency);
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} | {} |",
                cell(&e.partner),
                e.currency.to_ascii_uppercase(),
                m(e.sales),
                m(e.pending),
                m(e.due),
                m(e.held),
                m(e.paid)
            );
        }
    }
    o
}

/// Each running test: visitors and conversions per variant, the interval of every difference,
/// the verdict and its rule, the method.
fn experiments(o: &mut String, r: &FunnelReport) {
    for t in &r.experiments {
        let _ = writeln!(o, "## Test: {}\n", cell(&t.partner));
        let last = super::look_date(t.looks.last().map(String::as_str).unwrap_or(""));
        let _ = writeln!(
            o,
            "{} from the first visit to {last}; the control is `{}`.\n",
            crate::text::plural(t.looks.len() as u64, "weekly look", "weekly looks"),
            t.variants.first().map(|v| v.id.as_str()).unwrap_or("")
        );
        let _ = writeln!(
            o,
            "| Variant | Weight | Visitors | Lead magnet | CTA | Activation |"
        );
        let _ = writeln!(o, "|---|---:|---:|---:|---:|---:|");
        for (i, v) in t.variants.iter().enumerate() {
            let conv = |k: usize| {
                t.stages
                    .get(k)
                    .and_then(|s| s.test.arms.get(i))
                    .map(|a| a.conversions)
                    .unwrap_or(0)
            };
            let visitors = t.split.last.observed.get(i).copied().unwrap_or(0);
            let _ = writeln!(
                o,
                "| {} | {} | {visitors} | {} | {} | {} |",
                cell(&v.id),
                v.weight,
                conv(0),
                conv(1),
                conv(2)
            );
        }
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "| Stage | Difference (interval, all looks) | Verdict | Rule |"
        );
        let _ = writeln!(o, "|---|---|---|---|");
        for s in &t.stages {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} |",
                stage_label(s.stage),
                cell(&super::differences_text(&s.test)),
                s.test.decision,
                s.test.decision.rule
            );
        }
        let _ = writeln!(o);
        for s in &t.stages {
            let _ = writeln!(
                o,
                "- {}: {}.",
                stage_label(s.stage),
                cell(&s.test.decision.because)
            );
        }
        let _ = writeln!(o, "\n{}\n", super::split_text(t));
        let _ = writeln!(o, "Method: {}.\n", t.method);
    }
}

fn stage_table(o: &mut String, f: &Figures) {
    let c = &f.counts;
    let s = &f.steps;
    let _ = writeln!(
        o,
        "| Stage | Visitors | Old enough: reached / visitors [95% CI] | Band | Verdict | Step [95% CI] |"
    );
    let _ = writeln!(o, "|---|---:|---|---|---|---|");
    let _ = writeln!(
        o,
        "| {} | {} | | | | |",
        stage_label(Stage::Click),
        c.clicks
    );
    let _ = writeln!(
        o,
        "| {} | {} | | | | click → visit {} |",
        stage_label(Stage::Visit),
        c.visitors,
        step_cell(&s.click_to_visit)
    );
    let rows = [
        (
            Stage::LeadMagnet,
            &f.rates.lead_magnet,
            c.lead_magnet,
            "visit → lead magnet",
            &s.visit_to_lead_magnet,
        ),
        (
            Stage::Cta,
            &f.rates.cta,
            c.cta,
            "lead magnet → CTA",
            &s.lead_magnet_to_cta,
        ),
        (
            Stage::Activation,
            &f.rates.activation,
            c.activation,
            "CTA → activation",
            &s.cta_to_activation,
        ),
    ];
    for (stage, rate, n, step, p) in rows {
        let _ = writeln!(
            o,
            "| {} | {} | {}/{}: {} | {}–{} | {} | {} {} |",
            stage_label(stage),
            n,
            rate.proportion.count,
            rate.proportion.of,
            rate.proportion.display(),
            pct(rate.band.low),
            pct(rate.band.high),
            verdict_text(rate),
            step,
            step_cell(p)
        );
    }
    let _ = writeln!(o);
}
