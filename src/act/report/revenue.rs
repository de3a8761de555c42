//! Report stage, revenue: the payments and refunds of a report's range summed per partner,
//! campaign and currency (the types and the Markdown are in [`crate::revenue`]).

use crate::error::Result;
use crate::events::{ScanOptions, Source, Ts};
use crate::funnel::{FunnelReport, Range};
use crate::revenue::{is_money_row, money, Payment, Revenue, RevenueLine, PAYMENT};
use std::collections::{BTreeMap, BTreeSet};

/// The revenue of `range` in `source`, with the visitors of `funnel` for the per-visitor
/// figures. `None` when the source holds no payment or refund row at all.
pub fn compute(source: &Source, range: Range, funnel: &FunnelReport) -> Result<Option<Revenue>> {
    let mut payments: Vec<Payment> = Vec::new();
    let mut refunds: Vec<Payment> = Vec::new();
    let opts = ScanOptions {
        since: Some(range.start),
        ..Default::default()
    };
    source.scan(&opts, &mut |r| {
        if !is_money_row(r.event_name) {
            return Ok(());
        }
        let (Some(amount), Some(currency), Some(event)) =
            (r.pay.amount_minor, r.pay.currency, r.pay.stripe_event_id)
        else {
            return Ok(());
        };
        let Some(t) = Ts::parse(r.created_at) else {
            return Ok(());
        };
        if t < range.start || t >= range.as_of {
            return Ok(());
        }
        let p = Payment {
            created_at: t.to_string(),
            partner: r.partner_code.to_string(),
            campaign: r.campaign.to_string(),
            amount,
            refunded: 0,
            currency: currency.to_string(),
            rule: r.pay.attribution_rule.unwrap_or("none").to_string(),
            visitor_id: r.visitor_id.map(str::to_string),
            stripe_event_id: event.to_string(),
            stripe_object_id: r.pay.stripe_object_id.map(str::to_string),
            stripe_customer_id: r.pay.stripe_customer_id.map(str::to_string),
            stripe_charge_id: r.pay.stripe_charge_id.map(str::to_string),
        };
        if r.event_name == PAYMENT {
            if t < range.end {
                payments.push(p);
            }
        } else {
            refunds.push(p);
        }
        Ok(())
    })?;
    if payments.is_empty() && refunds.is_empty() {
        return Ok(None);
    }
    // Refunds point at their payment by its object id.
    let mut by_object: BTreeMap<&str, i64> = BTreeMap::new();
    let mut unknown_refunds = Vec::new();
    for r in &refunds {
        match r.stripe_object_id.as_deref() {
            Some(o) if !r.partner.is_empty() => *by_object.entry(o).or_default() -= r.amount,
            _ if r.rule == crate::revenue::UNKNOWN_CHARGE
                && Ts::parse(&r.created_at).is_some_and(|t| t < range.end) =>
            {
                unknown_refunds.push(r.clone())
            }
            _ => {}
        }
    }
    for p in &mut payments {
        if let Some(o) = p.stripe_object_id.as_deref() {
            p.refunded = by_object.get(o).copied().unwrap_or(0).min(p.amount);
        }
    }
    payments.sort_by(|a, b| {
        (&a.created_at, &a.stripe_event_id).cmp(&(&b.created_at, &b.stripe_event_id))
    });
    let (credited, unmatched): (Vec<Payment>, Vec<Payment>) =
        payments.into_iter().partition(|p| !p.partner.is_empty());
    let visitors = |partner: &str, campaign: Option<&str>| -> u64 {
        funnel
            .partner(partner)
            .map(|f| match campaign {
                None => f.figures.counts.visitors,
                Some(c) => f
                    .campaigns
                    .iter()
                    .find(|x| x.campaign == c)
                    .map_or(0, |x| x.figures.counts.visitors),
            })
            .unwrap_or(0)
    };
    let lines = |with_campaign: bool| -> Vec<RevenueLine> {
        // (partner, campaign, currency) -> the line and its paying customers.
        type Key = (String, Option<String>, String);
        let mut acc: BTreeMap<Key, (RevenueLine, BTreeSet<String>)> = BTreeMap::new();
        for p in &credited {
            let campaign = with_campaign.then(|| p.campaign.clone());
            let key = (p.partner.clone(), campaign.clone(), p.currency.clone());
            let (l, who) = acc.entry(key).or_insert_with(|| {
                (
                    RevenueLine {
                        partner: p.partner.clone(),
                        campaign,
                        currency: p.currency.clone(),
                        ..Default::default()
                    },
                    BTreeSet::new(),
                )
            });
            l.gross += p.amount;
            l.refunded += p.refunded;
            l.payments += 1;
            who.insert(
                p.stripe_customer_id
                    .clone()
                    .or_else(|| p.visitor_id.clone())
                    .unwrap_or_else(|| p.stripe_event_id.clone()),
            );
        }
        acc.into_values()
            .map(|(mut l, who)| {
                l.net = l.gross - l.refunded;
                l.paying_customers = who.len() as u64;
                l.visitors = visitors(&l.partner, l.campaign.as_deref());
                l.net_per_visitor = (l.visitors > 0).then(|| l.net as f64 / l.visitors as f64);
                l
            })
            .collect()
    };
    Ok(Some(Revenue {
        partners: lines(false),
        campaigns: lines(true),
        payments: credited,
        unmatched,
        unknown_refunds,
    }))
}

/// The revenue section in HTML (empty when there is none).
pub fn html(rev: Option<&Revenue>) -> String {
    use crate::render::escape_html as e;
    let Some(rev) = rev.filter(|r| !r.is_empty()) else {
        return String::new();
    };
    let mut out = String::from("<section class=\"revenue\"><h2>Revenue (Stripe)</h2>\n<p>Payments made in the range, net of tax, with their refunds so far. Each payment names the rule that credited it.</p>\n<table><thead><tr><th>Partner</th><th>Campaign</th><th>Currency</th><th>Gross</th><th>Refunded</th><th>Net</th><th>Payments</th><th>Paying customers</th><th>Net per visitor</th></tr></thead><tbody>\n");
    for l in rev.partners.iter().chain(&rev.campaigns) {
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            e(&l.partner),
            e(l.campaign.as_deref().unwrap_or("(all)")),
            e(&l.currency.to_ascii_uppercase()),
            e(&money(l.gross, &l.currency)),
            e(&money(l.refunded, &l.currency)),
            e(&money(l.net, &l.currency)),
            l.payments,
            l.paying_customers,
            e(&l.net_per_visitor.map_or("–".into(), |v| money(v.round() as i64, &l.currency))),
        ));
    }
    out.push_str("</tbody></table>\n");
    for (title, ps) in [
        ("Payments", &rev.payments),
        ("Payments credited to no partner", &rev.unmatched),
        ("Refunds of unknown charges", &rev.unknown_refunds),
    ] {
        if ps.is_empty() {
            continue;
        }
        out.push_str(&format!("<h3>{} ({})</h3>\n<ul>\n", e(title), ps.len()));
        for p in ps.iter() {
            out.push_str(&format!(
                "<li>{} {} <code>{}</code> ({})</li>\n",
                e(&p.created_at[..10]),
                e(&money(p.amount, &p.currency)),
                e(p.stripe_object_id
                    .as_deref()
                    .or(p.stripe_charge_id.as_deref())
                    .unwrap_or(&p.stripe_event_id)),
                e(&if p.partner.is_empty() {
                    p.rule.clone()
                } else {
                    format!("{}, {}", p.partner, p.rule)
                })
            ));
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</section>\n");
    out
}
