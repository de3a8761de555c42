//! Report stage, for the partner: one partner's own figures, in a form that can be sent to
//! that partner (`report --partner X --for-partner`), as Markdown, HTML or JSON.
//!
//! Takes: the site, the funnel report of one partner (from [`super::run`]). Gives: a
//! [`PartnerReport`] and its text. The report is built from that partner's entry alone (its
//! funnel, its campaigns, its own test) plus the site's bands and horizons, so nothing of
//! another partner can reach it: no other partner's code, name or figure, no pooled average, no
//! rows of unknown codes, no commission terms, no rule names or internal advice. The next step
//! is the partner-safe form of the team's action: what we will change, and what we ask of them.

use super::when;
use crate::error::{Error, Result};
use crate::events::Ts;
use crate::funnel::stats::pct;
use crate::funnel::{FunnelReport, PartnerFunnel, Rate, Rule, Stage, Verdict};
use crate::render::escape_html;
use crate::site::Site;
use crate::text::escape::literal as md;
use crate::text::plural;
use serde::Serialize;
use std::fmt::Write;

/// What one partner's report says: their figures, their campaigns, their page's promise and
/// what changes next. What `report --for-partner --format json` prints.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct PartnerReport {
    /// Version of this JSON shape.
    #[schemars(extend("const" = 1))]
    pub version: u32,
    /// The partner's code.
    #[schemars(pattern(crate::json_schema::CODE))]
    pub partner: String,
    /// The partner's name.
    pub name: String,
    /// First instant of the range (the visitors who arrived from here on are counted).
    pub start: Ts,
    /// First instant after the range.
    pub end: Ts,
    /// The time the report is read at.
    pub as_of: Ts,
    /// Days a visitor's journey is followed after their first visit.
    pub window_days: u32,
    /// Distinct visitors who followed the partner's link.
    pub clicks: u64,
    /// Distinct visitors who reached the partner's page: the base of every rate.
    pub visitors: u64,
    /// Lead magnet, CTA and activation, each with its rate, interval and status.
    pub stages: Vec<StageLine>,
    /// What happened in the range, whatever the age of the journey.
    pub activity: crate::funnel::Activity,
    /// The promise of the partner's page, and its versions when a test runs.
    pub promise: PromiseLine,
    /// The partner's campaigns (`utm_campaign` / `?campaign=`), by name.
    pub campaigns: Vec<CampaignLine>,
    /// Which campaign converted best, in a sentence (or why that cannot be said yet).
    pub best_campaign: String,
    /// What changes next.
    pub next: NextStep,
    /// How the figures were counted, in words.
    pub method: Vec<String>,
    /// The partner's paying customers and net revenue per currency, from Stripe (absent when
    /// the events hold no payment).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revenue: Option<Vec<PartnerMoney>>,
    /// What the partner earns under its reward rule (none without a rule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub earnings: Option<crate::ledger::ReportEarnings>,
}

/// The partner's own customers' payments in one currency (amounts in minor units, net of tax).
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct PartnerMoney {
    /// Lower-case ISO 4217 code.
    pub currency: String,
    /// Customers who paid.
    pub paying_customers: u64,
    /// Payments made.
    pub payments: u64,
    /// Paid, net of tax.
    pub gross: i64,
    /// Refunded of that.
    pub refunded: i64,
    /// `gross - refunded`.
    pub net: i64,
}

/// The partner's lines of the revenue section.
fn partner_money(report: &FunnelReport, code: &str) -> Option<Vec<PartnerMoney>> {
    let rev = report.revenue.as_ref()?;
    Some(
        rev.partners
            .iter()
            .filter(|l| l.partner == code)
            .map(|l| PartnerMoney {
                currency: l.currency.clone(),
                paying_customers: l.paying_customers,
                payments: l.payments,
                gross: l.gross,
                refunded: l.refunded,
                net: l.net,
            })
            .collect(),
    )
}

/// The revenue lines as sentences (Markdown and HTML say the same).
fn money_sentences(r: &PartnerReport) -> Vec<String> {
    let Some(lines) = &r.revenue else {
        return Vec::new();
    };
    if lines.is_empty() {
        return vec!["None of your visitors has paid in these days yet.".into()];
    }
    lines
        .iter()
        .map(|l| {
            format!(
                "{} paying customer{} ({} payment{}): {} net of tax{}.",
                l.paying_customers,
                if l.paying_customers == 1 { "" } else { "s" },
                l.payments,
                if l.payments == 1 { "" } else { "s" },
                crate::revenue::money(l.net, &l.currency),
                if l.refunded > 0 {
                    format!(
                        ", after {} refunded",
                        crate::revenue::money(l.refunded, &l.currency)
                    )
                } else {
                    String::new()
                }
            )
        })
        .collect()
}

/// One banded stage of the partner's funnel.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct StageLine {
    /// The stage.
    pub stage: Stage,
    /// What the stage is, in the partner's terms (e.g. "Downloaded the checklist").
    pub label: String,
    /// Visitors of the range who reached it (whatever their age).
    pub reached: u64,
    /// The rate on the visitors old enough to be judged, with its interval, benchmark and status.
    pub rate: Rate,
    /// The status in words: a verdict against the benchmark, or when one will be possible.
    pub status: String,
}

/// One campaign of the partner.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct CampaignLine {
    /// The campaign name as recorded.
    pub campaign: String,
    /// Distinct visitors who followed the link of this campaign.
    pub clicks: u64,
    /// Distinct visitors who reached the page through this campaign.
    pub visitors: u64,
    /// Its lead magnet, CTA and activation rates (visitors old enough only).
    pub lead_magnet: Rate,
    /// See `lead_magnet`.
    pub cta: Rate,
    /// See `lead_magnet`.
    pub activation: Rate,
}

/// The page's promise and, when the page runs a test, each version's results.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct PromiseLine {
    /// The promise of the page (its control version when a test runs).
    pub promise: String,
    /// The versions of the page under test (empty when there is one version).
    pub versions: Vec<VersionLine>,
    /// Which promise converted best, in a sentence.
    pub summary: String,
}

/// One version of the page in a test.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct VersionLine {
    /// The version's id.
    pub id: String,
    /// Its promise.
    pub promise: String,
    /// Its headline.
    pub headline: String,
    /// Visitors who saw it (since the test began).
    pub visitors: u64,
    /// Of them, those who took the lead magnet, the CTA and activated.
    pub lead_magnet: u64,
    /// See `lead_magnet`.
    pub cta: u64,
    /// See `lead_magnet`.
    pub activation: u64,
}

/// The next step, as the partner reads it.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct NextStep {
    /// What we will change.
    pub we_change: String,
    /// What we ask of the partner (`None`: nothing, keep going).
    pub we_ask: Option<String>,
}

/// The partner a report for a partner is about: `partner` when it is in `partners/`; a field
/// error when there is none (`--for-partner` needs `--partner`), or an unknown-partner error
/// with the closest code suggested.
pub fn partner_of<'a>(site: &Site, partner: Option<&'a str>) -> Result<&'a str> {
    let Some(code) = partner else {
        let known: Vec<&str> = site.partners.iter().map(|p| p.code.as_str()).collect();
        return Err(Error::Field {
            field: "for_partner",
            value: "needs a partner".into(),
            problem: "a report for a partner shows one partner's figures, and none was named"
                .into(),
            hint: Some(format!(
                "name the partner whose report it is (partners in partners/: {})",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            )),
        });
    };
    super::check_partner(site, code)?;
    Ok(code)
}

/// The report for the partner `req.partner` (see [`partner_of`] for the errors).
pub fn run(site: &Site, req: &super::Request) -> Result<PartnerReport> {
    let code = partner_of(site, req.partner)?;
    let funnel = super::run(site, req)?;
    let mut r = build(site, &funnel, code)?;
    if site.partner(code).is_some_and(|p| p.rule.is_some()) {
        let source = super::open_source(site, req.events)?;
        r.earnings = crate::ledger::for_partner_report(site, &source, code, r.as_of)?;
    }
    Ok(r)
}

/// The report of partner `code` from a funnel report (only that partner's entry is read).
pub fn build(site: &Site, report: &FunnelReport, code: &str) -> Result<PartnerReport> {
    let p = report
        .partner(code)
        .ok_or_else(|| Error::Internal(format!("the funnel report has no partner `{code}`")))?;
    let partner = site.partner(code);
    let activation_label = partner
        .map(|x| x.activation.description.clone())
        .filter(|d| !d.trim().is_empty())
        .map(|d| format!("Activation: {d}"))
        .unwrap_or_else(|| format!("Activation ({})", p.activation_event));
    let lead_magnet_label = partner
        .map(|x| format!("Lead magnet: {}", x.lead_magnet.label))
        .unwrap_or_else(|| "Lead magnet".into());
    let cta_label = partner
        .map(|x| format!("Next step: {}", x.cta.label))
        .unwrap_or_else(|| "Next step".into());
    let min = report.bands.min_visitors;
    let f = &p.figures;
    let stages = [
        (
            Stage::LeadMagnet,
            lead_magnet_label,
            f.counts.lead_magnet,
            f.rates.lead_magnet,
        ),
        (Stage::Cta, cta_label, f.counts.cta, f.rates.cta),
        (
            Stage::Activation,
            activation_label,
            f.counts.activation,
            f.rates.activation,
        ),
    ]
    .into_iter()
    .map(|(stage, label, reached, rate)| StageLine {
        stage,
        label,
        reached,
        status: status(&rate, f.counts.visitors, min),
        rate,
    })
    .collect();
    let campaigns: Vec<CampaignLine> = p
        .campaigns
        .iter()
        .map(|c| CampaignLine {
            campaign: c.campaign.clone(),
            clicks: c.figures.counts.clicks,
            visitors: c.figures.counts.visitors,
            lead_magnet: c.figures.rates.lead_magnet,
            cta: c.figures.rates.cta,
            activation: c.figures.rates.activation,
        })
        .collect();
    Ok(PartnerReport {
        version: 1,
        partner: p.code.clone(),
        name: p.name.clone(),
        start: report.range.start,
        end: report.range.end,
        as_of: report.as_of,
        window_days: report.window_days,
        clicks: f.counts.clicks,
        visitors: f.counts.visitors,
        stages,
        activity: p.activity,
        promise: promise_line(site, report, p),
        best_campaign: best_campaign(&campaigns, min),
        campaigns,
        next: next_step(p, min),
        method: method(report),
        revenue: partner_money(report, code),
        earnings: None,
    })
}

/// The status of a stage in the partner's words: never a verdict on a cohort too young.
fn status(r: &Rate, visitors: u64, min: u64) -> String {
    let day = |t: Ts| t.to_string()[..10].to_string();
    match r.verdict {
        Verdict::Insufficient => {
            format!("not enough visitors yet for a verdict ({visitors} of the {min} needed)")
        }
        Verdict::TooEarly => format!(
            "too early to judge: {} of {visitors} visitors are {} past their visit; ready on {}",
            r.proportion.of,
            plural(u64::from(r.horizon_days), "day", "days"),
            r.ready.map(day).unwrap_or_else(|| "the next report".into())
        ),
        Verdict::Below => "below our benchmark".into(),
        Verdict::Within => "within our benchmark".into(),
        Verdict::Above => "above our benchmark".into(),
        Verdict::LeaningBelow | Verdict::Unclear | Verdict::LeaningAbove => {
            let lean = match r.verdict {
                Verdict::LeaningBelow => "leaning below our benchmark",
                Verdict::LeaningAbove => "leaning above our benchmark",
                _ => "inside our benchmark so far, but too close to its edge to say",
            };
            match crate::funnel::stats::settles_at(&r.proportion, &r.band) {
                Some(n) => format!(
                    "not clear yet: {lean}; about {} old enough would settle it",
                    plural(n, "visitor", "visitors")
                ),
                None => format!("not clear yet: {lean}"),
            }
        }
    }
}

/// Which campaign converted best: the deepest stage at which at least one campaign has
/// `min` visitors old enough and a conversion; a campaign is "clearly" best when its interval
/// lies above every other eligible campaign's.
fn best_campaign(campaigns: &[CampaignLine], min: u64) -> String {
    match campaigns {
        [] => return "No visitor came through a campaign link in this period.".into(),
        [only] => {
            return format!(
                "All your visitors in this period came through one campaign, \"{}\": there is no \
                 other to compare it with.",
                only.campaign
            )
        }
        _ => {}
    }
    let rate_of = |c: &CampaignLine, s: Stage| match s {
        Stage::Activation => c.activation,
        Stage::Cta => c.cta,
        _ => c.lead_magnet,
    };
    for s in [Stage::Activation, Stage::Cta, Stage::LeadMagnet] {
        let eligible: Vec<(&CampaignLine, Rate)> = campaigns
            .iter()
            .map(|c| (c, rate_of(c, s)))
            .filter(|(_, r)| r.proportion.of >= min)
            .collect();
        if !eligible.iter().any(|(_, r)| r.proportion.count > 0) {
            continue;
        }
        let Some((best, br)) = eligible.iter().copied().max_by(|a, b| {
            let (ra, rb) = (
                a.1.proportion.rate.unwrap_or(0.0),
                b.1.proportion.rate.unwrap_or(0.0),
            );
            ra.total_cmp(&rb)
                .then(a.1.proportion.low.total_cmp(&b.1.proportion.low))
                .then(b.0.campaign.cmp(&a.0.campaign))
        }) else {
            continue;
        };
        let stage = stage_word(s);
        if eligible.len() == 1 {
            return format!(
                "Only \"{}\" has enough visitors old enough to judge ({}): {stage} {}.",
                best.campaign,
                br.proportion.of,
                br.proportion.display()
            );
        }
        let others: Vec<&(&CampaignLine, Rate)> = eligible
            .iter()
            .filter(|(c, _)| c.campaign != best.campaign)
            .collect();
        let clear = others
            .iter()
            .all(|(_, r)| r.proportion.high < br.proportion.low);
        let rest: Vec<String> = others
            .iter()
            .map(|(c, r)| format!("\"{}\" {}", c.campaign, r.proportion.display()))
            .collect();
        return if clear {
            format!(
                "\"{}\" converted best: {stage} {}, clearly ahead of {}.",
                best.campaign,
                br.proportion.display(),
                rest.join(", ")
            )
        } else {
            format!(
                "\"{}\" leads on {stage} with {}, but its interval overlaps {}: no clear winner yet.",
                best.campaign,
                br.proportion.display(),
                rest.join(", ")
            )
        };
    }
    format!(
        "No campaign has both {min} visitors old enough to judge and a conversion yet: too early \
         to say which converts best."
    )
}

fn stage_word(s: Stage) -> &'static str {
    match s {
        Stage::LeadMagnet => "lead magnet",
        Stage::Cta => "next step (CTA)",
        Stage::Activation => "activation",
        Stage::Visit => "visit",
        Stage::Click => "click",
    }
}

/// The page's promise, and each version's results when the partner runs a test.
fn promise_line(site: &Site, report: &FunnelReport, p: &PartnerFunnel) -> PromiseLine {
    let partner = site.partner(&p.code);
    let Some(test) = report.experiments.iter().find(|t| t.partner == p.code) else {
        return PromiseLine {
            promise: p.promise.clone(),
            versions: Vec::new(),
            summary: format!(
                "Your page has one version, with the promise \"{}\": the stages above are its \
                 result.",
                p.promise
            ),
        };
    };
    let conv = |stage_index: usize, i: usize| {
        test.stages
            .get(stage_index)
            .and_then(|s| s.test.arms.get(i))
            .map(|a| a.conversions)
            .unwrap_or(0)
    };
    let versions: Vec<VersionLine> = test
        .variants
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let shown = partner.and_then(|x| x.with_variant(&v.id));
            VersionLine {
                id: v.id.clone(),
                promise: shown
                    .as_ref()
                    .map(|x| x.promise.clone())
                    .unwrap_or_else(|| p.promise.clone()),
                headline: shown
                    .as_ref()
                    .map(|x| x.landing.headline.clone())
                    .unwrap_or_default(),
                visitors: test.split.last.observed.get(i).copied().unwrap_or(0),
                lead_magnet: conv(0, i),
                cta: conv(1, i),
                activation: conv(2, i),
            }
        })
        .collect();
    use crate::experiment::Verdict as T;
    let mut said = Vec::new();
    for s in &test.stages {
        let stage = stage_word(s.stage);
        let d = &s.test.decision;
        said.push(match (d.verdict, &d.winner) {
            (T::Winner, Some(w)) => {
                let promise = versions
                    .iter()
                    .find(|v| &v.id == w)
                    .map(|v| v.promise.as_str())
                    .unwrap_or("");
                format!("on {stage}, version \"{w}\" (\"{promise}\") converted best")
            }
            (T::StopEquivalent, _) => format!("on {stage}, the versions convert alike"),
            (T::InvalidSplit, _) => format!(
                "on {stage}, no result: visitors were not split between the versions as planned, \
                 and we are checking the test"
            ),
            _ => format!("on {stage}, no clear difference yet"),
        });
    }
    PromiseLine {
        promise: p.promise.clone(),
        summary: format!(
            "Your page is testing {} versions since {}: {}.",
            versions.len(),
            test.looks
                .first()
                .map(|l| l.get(..10).unwrap_or(l).to_string())
                .unwrap_or_default(),
            said.join("; ")
        ),
        versions,
    }
}

/// The partner-safe form of the team's decision: what we change, what we ask. Written from the
/// partner's own figures only; the match names every [`Rule`], so a new rule needs its own
/// wording before it compiles.
fn next_step(p: &PartnerFunnel, min: u64) -> NextStep {
    let f = &p.figures;
    let d = &p.action;
    let v = f.counts.visitors;
    let ask_link = "Keep sharing your tracked links from your kit, as they are.".to_string();
    let version = |id: &Option<String>| id.clone().unwrap_or_default();
    let (we_change, we_ask) = match d.rule {
        Rule::InvalidSplit => (
            "Your page is testing versions of its promise, and the visitors were not split \
             between them as planned: we are fixing the test before we read any result."
                .to_string(),
            Some(ask_link),
        ),
        Rule::PromoteWinner => (
            format!(
                "Your page's test has a result: version \"{}\" converted best, so it becomes \
                 your page and the test ends.",
                version(&d.test.as_ref().and_then(|t| t.winner.clone()))
            ),
            Some(ask_link),
        ),
        Rule::EndTest => (
            "Your page's test is over: the versions convert alike, so we keep the original \
             and end the test."
                .to_string(),
            Some(ask_link),
        ),
        Rule::TestRunning => (
            "Your page is testing versions of its promise, and the test has no result yet: \
             the page's text stays as it is until it does."
                .to_string(),
            Some(ask_link),
        ),
        Rule::ManyClicksWeakLeadMagnet | Rule::WeakLeadMagnet => (
            format!(
                "Your audience arrives, but few take the free resource ({} of the visitors old \
                 enough: {}). We will rewrite the page's headline, add a clearer proof and match \
                 the resource to your audience's problem.",
                f.rates.lead_magnet.proportion.count,
                f.rates.lead_magnet.proportion.display()
            ),
            Some(
                "Tell us in one line what your audience asks you about most, so the new page \
                 speaks to it."
                    .to_string(),
            ),
        ),
        Rule::FewVisitsStrongActivation | Rule::AboveBand => (
            "Your audience converts better than we expect: we would like to give them more room \
             with a guest post, a webinar or a co-marketing slot together."
                .to_string(),
            Some("Tell us which of these fits your calendar.".to_string()),
        ),
        Rule::InsufficientData => (
            format!(
                "Nothing changes on the page yet: {} came through your links, and a verdict \
                 needs {min}.",
                plural(v, "visitor", "visitors")
            ),
            Some(format!(
                "Could you share your link once more (a post, a newsletter mention)? About {} \
                 more let us judge the page.",
                plural(min.saturating_sub(v), "visitor", "visitors")
            )),
        ),
        Rule::WeakClickToVisit => (
            format!(
                "{} of {} clicks on your links reached the page ({}): we will check the redirect \
                 and the page's speed.",
                f.steps.click_to_visit.count,
                f.steps.click_to_visit.of,
                f.steps.click_to_visit.display()
            ),
            Some(
                "Please check that your posts use the tracked link from your kit, unchanged, and \
                 tell us where you placed it."
                    .to_string(),
            ),
        ),
        Rule::BeaconStopped => (
            format!(
                "Since {} your page has stopped recording visits while your links keep sending \
                 people to it: the fault is on our side, and we are fixing the page's tracking \
                 before we judge anything.",
                d.handoff
                    .stopped
                    .map(|s| s.since_date())
                    .unwrap_or_default()
            ),
            Some(ask_link),
        ),
        Rule::StageNeverFires => (
            "One step of your page is not being recorded while later steps are: we will fix \
             the tracking before we judge the page."
                .to_string(),
            Some(ask_link),
        ),
        Rule::WeakCta => (
            "Visitors take the free resource but few take the next step: we will rework it into \
             one clear button."
                .to_string(),
            None,
        ),
        Rule::WeakActivation => (
            "Visitors sign up but few get to the result: we will send the people you refer an \
             onboarding email that walks them there."
                .to_string(),
            None,
        ),
        Rule::TooEarly => {
            let ready = f
                .rates
                .activation
                .ready
                .or(f.rates.cta.ready)
                .or(f.rates.lead_magnet.ready)
                .map(|t| t.to_string()[..10].to_string())
                .unwrap_or_else(|| "the next report".into());
            (
                format!(
                    "Nothing changes yet: your newest visitors have not had time to convert. We \
                     will judge the page once they have, on {ready}."
                ),
                Some(ask_link),
            )
        }
        Rule::OpenQuestion => (
            "Nothing changes yet: some rates are too close to our benchmark to tell on which \
             side they are, so we keep measuring (the table above says how many visitors would \
             settle each)."
                .to_string(),
            Some(ask_link),
        ),
        Rule::WithinBands => (
            "Nothing changes: every stage is within our benchmark, so the page and your \
             placements stay as they are."
                .to_string(),
            Some(ask_link),
        ),
    };
    NextStep { we_change, we_ask }
}

fn method(r: &FunnelReport) -> Vec<String> {
    let m = &r.maturity;
    vec![
        format!(
            "Counted: the distinct people who arrived through your tracked links from {} to {}, \
             each followed for up to {} days after their first visit, as of {}. A person counts \
             for the partner whose link they used first.",
            when(r.range.start),
            when(r.range.end),
            r.window_days,
            &r.as_of.to_string()[..10]
        ),
        format!(
            "A stage's rate counts only the visitors old enough to have reached it (lead magnet \
             {}, next step {}, activation {} after the visit); the range in \
             brackets is a 95% interval, where the true rate most likely is. A verdict against \
             our benchmark needs {} visitors old enough; before that the report says when it will \
             be ready.",
            crate::text::plural(u64::from(m.lead_magnet), "day", "days"),
            crate::text::plural(u64::from(m.cta), "day", "days"),
            crate::text::plural(u64::from(m.activation), "day", "days"),
            r.bands.min_visitors
        ),
    ]
}

mod write;
pub use write::{html, markdown, render};

#[cfg(test)]
mod tests;
