//! The partner's report as text: Markdown and a self-contained HTML page (JSON is its serde
//! form), with the sentences both share.

use super::*;

/// The report in `format` (Markdown, HTML or JSON).
pub fn render(r: &PartnerReport, format: super::super::Format) -> String {
    match format {
        super::super::Format::Md => markdown(r),
        super::super::Format::Html => html(r),
        super::super::Format::Json => {
            let mut s = serde_json::to_string_pretty(r)
                .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
            s.push('\n');
            s
        }
    }
}

fn rate_text(r: &Rate) -> String {
    match r.proportion.rate {
        None => "–".into(),
        Some(_) => format!(
            "{} of {}: {}",
            r.proportion.count,
            r.proportion.of,
            r.proportion.display()
        ),
    }
}

fn benchmark(r: &Rate) -> String {
    format!("{}–{}", pct(r.band.low), pct(r.band.high))
}

/// The report as Markdown, to paste into an email or a shared document.
pub fn markdown(r: &PartnerReport) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# {}: your referral report\n", md(&r.name));
    let _ = writeln!(
        o,
        "{} to {} · {} people followed your links, {} reached your page.\n",
        when(r.start),
        when(r.end),
        r.clicks,
        r.visitors
    );
    let _ = writeln!(o, "## What changes next\n");
    let _ = writeln!(o, "- **We will:** {}", md(&r.next.we_change));
    match &r.next.we_ask {
        Some(a) => {
            let _ = writeln!(o, "- **We ask you:** {}\n", md(a));
        }
        None => {
            let _ = writeln!(o, "- **From you:** nothing new; thank you.\n");
        }
    }
    let _ = writeln!(o, "## Your funnel\n");
    let _ = writeln!(
        o,
        "| Stage | People | Old enough: reached [95% interval] | Our benchmark | Status |"
    );
    let _ = writeln!(o, "|---|---:|---|---|---|");
    let _ = writeln!(o, "| Followed your link | {} | | | |", r.clicks);
    let _ = writeln!(o, "| Reached your page | {} | | | |", r.visitors);
    for s in &r.stages {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} |",
            md(&s.label),
            s.reached,
            rate_text(&s.rate),
            benchmark(&s.rate),
            md(&s.status)
        );
    }
    let a = &r.activity;
    let _ = writeln!(o, "\n{}\n", activity_sentence(a));
    let _ = writeln!(o, "## Which promise converted\n");
    let _ = writeln!(o, "{}\n", md(&r.promise.summary));
    if !r.promise.versions.is_empty() {
        let _ = writeln!(
            o,
            "| Version | Promise | Visitors | Lead magnet | Next step | Activation |"
        );
        let _ = writeln!(o, "|---|---|---:|---:|---:|---:|");
        for v in &r.promise.versions {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} |",
                md(&v.id),
                md(&v.promise),
                v.visitors,
                v.lead_magnet,
                v.cta,
                v.activation
            );
        }
        let _ = writeln!(o);
    }
    let _ = writeln!(o, "## Which campaign converted\n");
    let _ = writeln!(o, "{}\n", md(&r.best_campaign));
    if !r.campaigns.is_empty() {
        let _ = writeln!(
            o,
            "| Campaign | Clicks | Visitors | Lead magnet | Next step | Activation |"
        );
        let _ = writeln!(o, "|---|---:|---:|---|---|---|");
        for c in &r.campaigns {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} |",
                md(&c.campaign),
                c.clicks,
                c.visitors,
                c.lead_magnet.proportion.display(),
                c.cta.proportion.display(),
                c.activation.proportion.display()
            );
        }
        let _ = writeln!(o);
    }
    if let Some(e) = &r.earnings {
        let _ = writeln!(o, "## Your earnings\n");
        let _ = writeln!(o, "| Currency | Pending | Due | Held | Paid |");
        let _ = writeln!(o, "|---|---:|---:|---:|---:|");
        for t in &e.totals {
            let m = |v: i64| crate::reward::money::format_major(v, &t.currency);
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} |",
                t.currency.to_ascii_uppercase(),
                m(t.pending),
                m(t.due),
                m(t.held),
                m(t.paid)
            );
        }
        let _ = writeln!(o, "\n{}\n", md(&e.note));
    }
    let _ = writeln!(o, "## How this is counted\n");
    for para in &r.method {
        let _ = writeln!(o, "{}\n", md(para));
    }
    if r.revenue.is_some() {
        let _ = writeln!(o, "## Your customers' payments\n");
        for line in money_sentences(r) {
            let _ = writeln!(o, "{}\n", md(&line));
        }
    }
    o
}

const CSS: &str = "body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2rem auto;max-width:48rem;padding:0 1rem;color:#1d2433}\
table{border-collapse:collapse;margin:.5rem 0 1.5rem;width:100%}th,td{border-bottom:1px solid #d8dde6;padding:.3rem .5rem;text-align:left;vertical-align:top}\
td.n{text-align:right;font-variant-numeric:tabular-nums}.below{color:#b3261e}.above{color:#146c2e}.muted{color:#6b7280}\
.next{background:#f3f6fb;border-left:4px solid #3056d3;padding:.6rem .9rem;margin:1rem 0}\
@media (max-width:40rem){table{display:block;overflow-x:auto}}";

/// The report as one self-contained HTML page (inline CSS, no scripts, fonts or requests), to
/// attach to an email or put beside the partner's kit.
pub fn html(r: &PartnerReport) -> String {
    let e = escape_html;
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}: your referral report, {} – {}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n",
        e(&r.name),
        e(&when(r.start)),
        e(&when(r.end))
    );
    let _ = writeln!(o, "<h1>{}: your referral report</h1>", e(&r.name));
    let _ = writeln!(
        o,
        "<p>{} to {} · {} people followed your links, {} reached your page.</p>",
        e(&when(r.start)),
        e(&when(r.end)),
        r.clicks,
        r.visitors
    );
    let _ = writeln!(
        o,
        "<section class=\"next\">\n<h2>What changes next</h2>\n<p><strong>We will:</strong> {}</p>",
        e(&r.next.we_change)
    );
    match &r.next.we_ask {
        Some(a) => {
            let _ = writeln!(o, "<p><strong>We ask you:</strong> {}</p>", e(a));
        }
        None => {
            let _ = writeln!(
                o,
                "<p><strong>From you:</strong> nothing new; thank you.</p>"
            );
        }
    }
    let _ = writeln!(o, "</section>");
    let _ = writeln!(o, "<h2>Your funnel</h2>\n<table>\n<thead><tr><th>Stage</th><th>People</th><th>Old enough: reached [95% interval]</th><th>Our benchmark</th><th>Status</th></tr></thead>\n<tbody>");
    let _ = writeln!(
        o,
        "<tr><td>Followed your link</td><td class=\"n\">{}</td><td></td><td></td><td></td></tr>",
        r.clicks
    );
    let _ = writeln!(
        o,
        "<tr><td>Reached your page</td><td class=\"n\">{}</td><td></td><td></td><td></td></tr>",
        r.visitors
    );
    for s in &r.stages {
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td></tr>",
            e(&s.label),
            s.reached,
            e(&rate_text(&s.rate)),
            e(&benchmark(&s.rate)),
            s.rate.verdict.as_str(),
            e(&s.status)
        );
    }
    let _ = writeln!(o, "</tbody>\n</table>");
    let a = &r.activity;
    let _ = writeln!(o, "<p class=\"muted\">{}</p>", e(&activity_sentence(a)));
    let _ = writeln!(
        o,
        "<h2>Which promise converted</h2>\n<p>{}</p>",
        e(&r.promise.summary)
    );
    if !r.promise.versions.is_empty() {
        let _ = writeln!(o, "<table>\n<thead><tr><th>Version</th><th>Promise</th><th>Visitors</th><th>Lead magnet</th><th>Next step</th><th>Activation</th></tr></thead>\n<tbody>");
        for v in &r.promise.versions {
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                e(&v.id),
                e(&v.promise),
                v.visitors,
                v.lead_magnet,
                v.cta,
                v.activation
            );
        }
        let _ = writeln!(o, "</tbody>\n</table>");
    }
    let _ = writeln!(
        o,
        "<h2>Which campaign converted</h2>\n<p>{}</p>",
        e(&r.best_campaign)
    );
    if !r.campaigns.is_empty() {
        let _ = writeln!(o, "<table>\n<thead><tr><th>Campaign</th><th>Clicks</th><th>Visitors</th><th>Lead magnet</th><th>Next step</th><th>Activation</th></tr></thead>\n<tbody>");
        for c in &r.campaigns {
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                e(&c.campaign),
                c.clicks,
                c.visitors,
                e(&c.lead_magnet.proportion.display()),
                e(&c.cta.proportion.display()),
                e(&c.activation.proportion.display())
            );
        }
        let _ = writeln!(o, "</tbody>\n</table>");
    }
    if let Some(earn) = &r.earnings {
        let _ = writeln!(o, "<h2>Your earnings</h2>");
        let _ = writeln!(
            o,
            "<table><thead><tr><th>Currency</th><th>Pending</th><th>Due</th><th>Held</th><th>Paid</th></tr></thead><tbody>"
        );
        for t in &earn.totals {
            let m = |v: i64| crate::reward::money::format_major(v, &t.currency);
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                e(&t.currency.to_ascii_uppercase()),
                m(t.pending),
                m(t.due),
                m(t.held),
                m(t.paid)
            );
        }
        let _ = writeln!(o, "</tbody></table>\n<p>{}</p>", e(&earn.note));
    }
    let _ = writeln!(o, "<h2>How this is counted</h2>");
    for para in &r.method {
        let _ = writeln!(o, "<p class=\"muted\">{}</p>", e(para));
    }
    if r.revenue.is_some() {
        let _ = writeln!(o, "<h2>Your customers' payments</h2>");
        for line in money_sentences(r) {
            let _ = writeln!(o, "<p>{}</p>", e(&line));
        }
    }
    let _ = writeln!(o, "</main>\n</body>\n</html>");
    o
}

/// The range's activity in one sentence, each count with its own singular or plural.
pub(super) fn activity_sentence(a: &crate::funnel::Activity) -> String {
    let n = plural;
    format!(
        "In the same days, counting people who arrived earlier too: {}, {}, {}, {}, {}.",
        n(a.clicks, "link click", "link clicks"),
        n(a.visits, "page visit", "page visits"),
        n(a.lead_magnet, "lead magnet", "lead magnets"),
        n(a.cta, "next step", "next steps"),
        n(a.activation, "activation", "activations"),
    )
}
