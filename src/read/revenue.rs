//! Read stage for payments: the `payment` and `refund` rows the Stripe webhook writes
//! ([`crate::collector::stripe`]), summed per partner, campaign and currency.

pub use crate::stage::{is_money_row, PAYMENT, REFUND, UNKNOWN_CHARGE};

use crate::error::Result;
use crate::events::{ScanOptions, Source};
use serde::Serialize;
use std::collections::BTreeMap;

/// Revenue from Stripe in a report's range: the payments made in the range with their refunds
/// (up to the report's `as_of`), per partner, campaign and currency. Amounts are integers in
/// the currency's minor unit (cents), net of tax.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Revenue {
    /// Per partner and currency (sorted by partner, then currency).
    pub partners: Vec<RevenueLine>,
    /// Per partner, campaign and currency.
    pub campaigns: Vec<RevenueLine>,
    /// Every payment in the range credited to a partner, with the rule that credited it.
    pub payments: Vec<Payment>,
    /// Payments no rule could credit to a partner: kept, counted here, never dropped.
    pub unmatched: Vec<Payment>,
    /// Refunds of charges no stored payment has (a payment made outside Stripe's events we
    /// received, or a refund that arrived before its payment).
    pub unknown_refunds: Vec<Payment>,
}

/// Money of one partner (and campaign) in one currency.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct RevenueLine {
    /// Partner code.
    pub partner: String,
    /// Campaign (`null` on a partner's total).
    pub campaign: Option<String>,
    /// Lower-case ISO 4217 code.
    pub currency: String,
    /// Payments, net of tax, minor units.
    pub gross: i64,
    /// Refunded of those payments (positive), minor units.
    pub refunded: i64,
    /// `gross - refunded`.
    pub net: i64,
    /// How many payments.
    pub payments: u64,
    /// Distinct paying customers (Stripe customer, else visitor, else the payment).
    pub paying_customers: u64,
    /// Visitors of the partner's (campaign's) cohort in the funnel.
    pub visitors: u64,
    /// `net / visitors`, minor units (null without visitors).
    pub net_per_visitor: Option<f64>,
}

/// One payment (or refund) row.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Payment {
    /// When Stripe made the event (UTC).
    pub created_at: String,
    /// Partner code (empty when no rule matched).
    pub partner: String,
    /// Campaign.
    pub campaign: String,
    /// Minor units, net of tax (negative for a refund).
    pub amount: i64,
    /// Refunded of this payment so far (positive), minor units.
    pub refunded: i64,
    /// Lower-case ISO 4217 code.
    pub currency: String,
    /// The rule that credited it: `visitor`, `customer`, `coupon`, `visitor_over_coupon`,
    /// `customer_over_coupon`, `coupon_over_visitor`, `coupon_over_customer`, `none`, or
    /// `unknown_charge` for a refund of an unknown charge.
    pub rule: String,
    /// Our visitor id, when known.
    pub visitor_id: Option<String>,
    /// The Stripe event.
    pub stripe_event_id: String,
    /// The Checkout Session or invoice.
    pub stripe_object_id: Option<String>,
    /// The Stripe customer.
    pub stripe_customer_id: Option<String>,
    /// The charge or PaymentIntent.
    pub stripe_charge_id: Option<String>,
}

impl Revenue {
    /// Keep only `code`'s lines and payments (the partner report, `report --partner`).
    pub fn only(&mut self, code: &str) {
        self.partners.retain(|l| l.partner == code);
        self.campaigns.retain(|l| l.partner == code);
        self.payments.retain(|p| p.partner == code);
        self.unmatched.clear();
        self.unknown_refunds.clear();
    }

    /// Nothing to show.
    pub fn is_empty(&self) -> bool {
        self.payments.is_empty() && self.unmatched.is_empty() && self.unknown_refunds.is_empty()
    }
}

/// What one visitor paid in one currency (for `leads`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Paid {
    /// Lower-case ISO 4217 code.
    pub currency: String,
    /// Payments made.
    pub payments: u64,
    /// Paid net of tax, less refunds, minor units.
    pub net: i64,
}

/// Payments by visitor id.
pub type PaidByVisitor = std::collections::HashMap<String, Vec<Paid>>;

/// What each visitor paid, from the payment and refund rows that carry a visitor id.
pub fn paid_by_visitor(source: &Source) -> Result<PaidByVisitor> {
    let mut acc: BTreeMap<(String, String), Paid> = BTreeMap::new();
    source.scan(&ScanOptions::default(), &mut |r| {
        if !is_money_row(r.event_name) || r.partner_code.is_empty() {
            return Ok(());
        }
        let (Some(v), Some(amount), Some(currency)) =
            (r.visitor_id, r.pay.amount_minor, r.pay.currency)
        else {
            return Ok(());
        };
        let p = acc
            .entry((v.to_string(), currency.to_string()))
            .or_insert_with(|| Paid {
                currency: currency.to_string(),
                ..Default::default()
            });
        p.net += amount;
        p.payments += u64::from(r.event_name == PAYMENT);
        Ok(())
    })?;
    let mut out = PaidByVisitor::new();
    for ((v, _), p) in acc {
        out.entry(v).or_default().push(p);
    }
    Ok(out)
}

/// Digits after the point of a currency's major unit (Stripe's zero- and three-decimal lists).
pub fn decimals(currency: &str) -> u32 {
    const ZERO: &[&str] = &[
        "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv",
        "xaf", "xof", "xpf",
    ];
    const THREE: &[&str] = &["bhd", "jod", "kwd", "omr", "tnd"];
    if ZERO.contains(&currency) {
        0
    } else if THREE.contains(&currency) {
        3
    } else {
        2
    }
}

/// `49.00 EUR` from 4900 and `eur`.
pub fn money(minor: i64, currency: &str) -> String {
    let d = decimals(currency);
    let code = currency.to_ascii_uppercase();
    if d == 0 {
        return format!("{minor} {code}");
    }
    let scale = 10i64.pow(d);
    let sign = if minor < 0 { "-" } else { "" };
    let a = minor.unsigned_abs();
    let s = scale as u64;
    format!("{sign}{}.{:0w$} {code}", a / s, a % s, w = d as usize)
}

/// The revenue section in Markdown (empty when there is none).
pub fn markdown(rev: Option<&Revenue>) -> String {
    let Some(rev) = rev.filter(|r| !r.is_empty()) else {
        return String::new();
    };
    let mut out = String::from("\n## Revenue (Stripe)\n\n");
    out.push_str(
        "Payments made in the range, net of tax, with their refunds so far. Each payment names \
         the rule that credited it.\n\n",
    );
    out.push_str("| Partner | Campaign | Currency | Gross | Refunded | Net | Payments | Paying customers | Net per visitor |\n|---|---|---|---:|---:|---:|---:|---:|---:|\n");
    for l in rev.partners.iter().chain(&rev.campaigns) {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            l.partner,
            l.campaign.as_deref().unwrap_or("(all)"),
            l.currency.to_ascii_uppercase(),
            money(l.gross, &l.currency),
            money(l.refunded, &l.currency),
            money(l.net, &l.currency),
            l.payments,
            l.paying_customers,
            l.net_per_visitor
                .map_or("–".into(), |v| money(v.round() as i64, &l.currency)),
        ));
    }
    let list = |title: &str, ps: &[Payment], out: &mut String| {
        if ps.is_empty() {
            return;
        }
        out.push_str(&format!("\n{title} ({}):\n\n", ps.len()));
        for p in ps {
            out.push_str(&format!(
                "- {} {} `{}` ({}{})\n",
                &p.created_at[..10],
                money(p.amount, &p.currency),
                p.stripe_object_id
                    .as_deref()
                    .or(p.stripe_charge_id.as_deref())
                    .unwrap_or(&p.stripe_event_id),
                if p.partner.is_empty() {
                    String::new()
                } else {
                    format!("{}, ", p.partner)
                },
                p.rule
            ));
        }
    };
    list("Payments", &rev.payments, &mut out);
    list("Payments credited to no partner", &rev.unmatched, &mut out);
    list("Refunds of unknown charges", &rev.unknown_refunds, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_in_their_currencys_unit() {
        assert_eq!(money(4900, "eur"), "49.00 EUR");
        assert_eq!(money(-2450, "eur"), "-24.50 EUR");
        assert_eq!(money(5, "usd"), "0.05 USD");
        assert_eq!(money(1200, "jpy"), "1200 JPY");
        assert_eq!(money(1234, "kwd"), "1.234 KWD");
    }
}
