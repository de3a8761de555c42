//! Decide stage for money: the commission ledger, derived from the events and the reward rules,
//! reviewed in git (`partner-pages commissions`), and payout batches (`partner-pages payouts`).
//!
//! Takes: the site (each partner's effective [`reward::Rule`], `own_accounts`), every event
//! row (payments and refunds of the Stripe webhook, leads, activations, clicks), the payout
//! locks already committed under `ledger/payouts/`, and the day the ledger is computed for.
//! Gives: one [`Earning`] per earning, sorted, the same bytes for the same input.
//!
//! - Who earns a payment: [`partner_of`], the partner the collector credited it to (visitor,
//!   customer or coupon, the rule stored with the row). A payment credited to no partner earns
//!   nothing and is counted in [`Ledger::unattributed`].
//! - A sale earns `round(net × pct / 100)` in the payment's currency (percentage), or the flat
//!   amount in the reward's currency, in proportion to what is left after refunds (flat). Net is
//!   the payment less its refunds. Which payments of a customer earn: `recurring` months
//!   counted from the customer's first payment to the partner (customer: the Stripe customer,
//!   else the product's user id, else our visitor id, else the payment itself).
//! - A lead (the lead magnet taken) and an activation earn their flat amount once per visitor
//!   and partner (anonymous rows earn nothing: they cannot be told apart).
//! - Status: `paid` when a payout lock lists the row (the lock's values are kept as they are:
//!   a rule change or a later refund never edits a paid row); else `voided` when refunded in
//!   full; else `held` with the reason of the first hold rule it meets ([`holds`]); else
//!   `pending` until `hold_days` after the earning, then `due`.
//! - A refund of a paid sale is a `clawback` row of its own (negative, due at once, netted
//!   from the next payout): the paid earnings in proportion to the refunded part of the paid
//!   amount. Refunds already netted when the sale was paid claw nothing back.

pub mod holds;
pub mod payout;

pub use crate::reward::{self, money};

use crate::error::{Error, Result};
use crate::events::{Event, Ts, MS_PER_DAY};
use crate::partner::Partner;
use crate::site::Site;
use reward::{Recurring, SaleReward};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The private folder of the ledger and payouts, at the site root (never published).
pub const LEDGER_DIR: &str = "ledger";
/// The ledger file, relative to the site root.
pub const LEDGER_FILE: &str = "ledger/commissions.csv";
/// Payout batches (files and locks), relative to the site root.
pub const PAYOUTS_DIR: &str = "ledger/payouts";

/// What earned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A payment.
    Sale,
    /// A lead (the lead magnet taken).
    Lead,
    /// An activation.
    Activation,
    /// A refund of a paid sale (negative).
    Clawback,
}

impl Kind {
    /// As written in the ledger.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Sale => "sale",
            Kind::Lead => "lead",
            Kind::Activation => "activation",
            Kind::Clawback => "clawback",
        }
    }
}

/// Where an earning stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Within its hold days.
    Pending,
    /// Past its hold, not paid yet.
    Due,
    /// Kept back by a hold rule (the reason says which); never paid until the rule clears.
    Held,
    /// In a committed payout lock.
    Paid,
    /// The sale was refunded in full before it was paid.
    Voided,
}

impl Status {
    /// As written in the ledger.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Due => "due",
            Status::Held => "held",
            Status::Paid => "paid",
            Status::Voided => "voided",
        }
    }
}

/// One row of the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Earning {
    /// Stable id, from what earned: `sale:<payment>`, `lead:<partner>:<visitor>`,
    /// `activation:<partner>:<visitor>`, `clawback:<refund>`.
    pub id: String,
    /// Partner code.
    pub partner: String,
    /// What earned.
    #[serde(rename = "type")]
    pub kind: Kind,
    /// The Stripe payment (Checkout Session or invoice id), refund event, or event row id.
    pub source: String,
    /// The customer: the Stripe customer, the product's user id or our visitor id.
    pub customer: String,
    /// The sale's net amount (a clawback: the refunded part), minor units; 0 for leads.
    pub amount: i64,
    /// Currency of `amount`.
    pub amount_currency: String,
    /// Earnings, minor units (negative for a clawback).
    pub earnings: i64,
    /// Currency of `earnings`.
    pub currency: String,
    /// Where it stands.
    pub status: Status,
    /// Why it is held or voided.
    pub reason: String,
    /// When it was earned (UTC).
    pub created: String,
    /// The day it is (or was) due.
    pub due_on: String,
    /// The day of the payout batch that paid it.
    pub paid_on: String,
    /// The payout batch that paid it.
    pub batch: String,
}

/// The computed ledger.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ledger {
    /// Every earning, sorted by time then id.
    pub rows: Vec<Earning>,
    /// Payments credited to no partner (their Stripe object ids): kept, counted, earning
    /// nothing.
    pub unattributed: Vec<String>,
}

/// The partner a payment (or refund) row is credited to: the code the collector stored with
/// it (by visitor, customer or coupon, as its `attribution_rule` says), when that partner
/// exists. The one place the ledger decides who a payment belongs to.
pub fn partner_of<'s>(site: &'s Site, row: &Event) -> Option<&'s Partner> {
    if row.partner_code.is_empty() {
        return None;
    }
    site.partner(&row.partner_code)
}

fn ts(e: &Event) -> Ts {
    Ts::parse(&e.created_at).unwrap_or(Ts(0))
}

fn day(t: Ts) -> String {
    t.date_string()
}

/// `t` plus `months` calendar months (the same day of the month, or the month's last day).
fn plus_months(t: Ts, months: u32) -> Ts {
    use chrono::{DateTime, Months};
    let Some(dt) = DateTime::from_timestamp_millis(t.0) else {
        return t;
    };
    dt.checked_add_months(Months::new(months))
        .map_or(Ts(i64::MAX), |d| Ts(d.timestamp_millis()))
}

fn customer_key(e: &Event) -> String {
    if let Some(c) = e
        .pay
        .stripe_customer_id
        .as_deref()
        .filter(|c| !c.is_empty())
    {
        return c.to_string();
    }
    if let Some(u) = e.user_id.as_deref().filter(|c| !c.is_empty()) {
        return format!("user:{u}");
    }
    if let Some(v) = e.visitor_id.as_deref().filter(|c| !c.is_empty()) {
        return format!("visitor:{v}");
    }
    format!("payment:{}", payment_key(e))
}

fn payment_key(e: &Event) -> String {
    e.pay
        .stripe_object_id
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| e.id.clone())
}

fn refund_key(e: &Event) -> String {
    e.pay
        .stripe_event_id
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| e.id.clone())
}

/// The status of an unpaid earning made at `at`: held (first matching reason), else pending
/// until `hold_days` later, else due. Gives the status, reason and due day.
fn unpaid_status(
    at: Ts,
    hold_days: u32,
    hold: Option<&str>,
    as_of: Ts,
) -> (Status, String, String) {
    let due = at.plus_days(i64::from(hold_days));
    let due_on = day(due);
    match hold {
        Some(reason) => (Status::Held, reason.to_string(), due_on),
        None if as_of.0 < due.0 => (Status::Pending, String::new(), due_on),
        None => (Status::Due, String::new(), due_on),
    }
}

/// Compute the ledger. `locks`: the payout locks already committed; `as_of`: the time the
/// statuses are computed for (the same `as_of` and input give the same rows).
pub fn compute(site: &Site, events: &[Event], locks: &[payout::Lock], as_of: Ts) -> Ledger {
    let mut locked: BTreeMap<&str, &Earning> = BTreeMap::new();
    for lock in locks {
        for r in &lock.rows {
            locked.entry(r.id.as_str()).or_insert(r);
        }
    }
    let holds = holds::Holds::find(site, events);
    let mut out: Vec<Earning> = Vec::new();
    let mut unattributed: BTreeSet<String> = BTreeSet::new();

    // Payments by partner, refunds by payment.
    let mut refunds: BTreeMap<String, Vec<&Event>> = BTreeMap::new();
    for e in events
        .iter()
        .filter(|e| e.event_name == crate::revenue::REFUND)
    {
        if let Some(o) = e.pay.stripe_object_id.as_deref().filter(|o| !o.is_empty()) {
            refunds.entry(o.to_string()).or_default().push(e);
        }
    }
    for list in refunds.values_mut() {
        list.sort_by(|a, b| (ts(a), &a.id).cmp(&(ts(b), &b.id)));
    }
    let mut payments: Vec<&Event> = events
        .iter()
        .filter(|e| {
            e.event_name == crate::revenue::PAYMENT
                && e.pay.amount_minor.is_some_and(|a| a > 0)
                && e.pay.currency.is_some()
        })
        .collect();
    payments.sort_by(|a, b| (ts(a), &a.id).cmp(&(ts(b), &b.id)));
    let mut first_payment: BTreeMap<(String, String), Ts> = BTreeMap::new();
    for p in &payments {
        let Some(partner) = partner_of(site, p) else {
            unattributed.insert(payment_key(p));
            continue;
        };
        let at = ts(p);
        let first = *first_payment
            .entry((partner.code.clone(), customer_key(p)))
            .or_insert(at);
        let key = payment_key(p);
        let id = format!("sale:{key}");
        let gross = p.pay.amount_minor.unwrap_or(0);
        let pay_currency = p.pay.currency.clone().unwrap_or_default();
        let its_refunds = refunds.get(&key).map(Vec::as_slice).unwrap_or(&[]);
        // A paid sale is judged by its lock, whatever the rule says today.
        if let Some(paid) = locked.get(id.as_str()) {
            // Paid: as locked. Refunds beyond the paid amount claw back, each its own row.
            let mut net = gross;
            for r in its_refunds {
                let before = net;
                net += r.pay.amount_minor.unwrap_or(0);
                let e = |x: i64| {
                    if paid.amount <= 0 {
                        0
                    } else {
                        money::round_div(
                            i128::from(paid.earnings) * i128::from(x.clamp(0, paid.amount)),
                            i128::from(paid.amount),
                        )
                    }
                };
                let back = e(net) - e(before);
                if back == 0 {
                    continue;
                }
                let rid = format!("clawback:{}", refund_key(r));
                if locked.contains_key(rid.as_str()) {
                    continue; // added from the lock below
                }
                let at = ts(r);
                out.push(Earning {
                    id: rid,
                    partner: paid.partner.clone(),
                    kind: Kind::Clawback,
                    source: refund_key(r),
                    customer: paid.customer.clone(),
                    amount: r.pay.amount_minor.unwrap_or(0),
                    amount_currency: pay_currency.clone(),
                    earnings: back,
                    currency: paid.currency.clone(),
                    status: Status::Due,
                    reason: format!("refund of {key}, paid in batch {}", paid.batch),
                    created: at.to_string(),
                    due_on: day(at),
                    paid_on: String::new(),
                    batch: String::new(),
                });
            }
            continue; // the paid row itself comes from the lock below
        }
        let Some(rule) = &partner.rule else { continue };
        let Some(sale) = rule.sale else { continue };
        let earns = match rule.recurring {
            Recurring::Forever => true,
            Recurring::Months(0) => at == first,
            Recurring::Months(n) => at.0 < plus_months(first, n).0,
        };
        if !earns {
            continue;
        }
        let refunded: i64 = its_refunds
            .iter()
            .map(|r| r.pay.amount_minor.unwrap_or(0))
            .sum();
        let net = (gross + refunded).max(0);
        let (earnings, currency) = match sale {
            SaleReward::Percent(bp) => (money::percent_of(net, bp), pay_currency.clone()),
            SaleReward::Flat(f) => (
                money::round_div(i128::from(f) * i128::from(net), i128::from(gross)),
                rule.currency.clone(),
            ),
        };
        let hold = holds.of_payment(partner, p);
        let (mut status, mut reason, due_on) =
            unpaid_status(at, rule.hold_days, hold.as_deref(), as_of);
        if net == 0 {
            status = Status::Voided;
            reason = "refunded in full".into();
        }
        out.push(Earning {
            id,
            partner: partner.code.clone(),
            kind: Kind::Sale,
            source: key,
            customer: customer_key(p),
            amount: net,
            amount_currency: pay_currency,
            earnings,
            currency,
            status,
            reason,
            created: at.to_string(),
            due_on,
            paid_on: String::new(),
            batch: String::new(),
        });
    }

    // Leads and activations: the first of each visitor per partner.
    let mut firsts: BTreeMap<(Kind, String, String), &Event> = BTreeMap::new();
    for e in events {
        let kind = match e.event_name.as_str() {
            "lead_magnet" => Kind::Lead,
            "activation" => Kind::Activation,
            _ => continue,
        };
        let Some(v) = e.visitor_id.as_deref().filter(|v| !v.is_empty()) else {
            continue;
        };
        let k = (kind, e.partner_code.clone(), v.to_string());
        let keep = firsts
            .get(&k)
            .is_none_or(|old| (ts(e), &e.id) < (ts(old), &old.id));
        if keep {
            firsts.insert(k, e);
        }
    }
    for ((kind, code, visitor), e) in firsts {
        let Some(partner) = site.partner(&code) else {
            continue;
        };
        let Some(rule) = &partner.rule else { continue };
        let amount = match kind {
            Kind::Lead => rule.lead,
            _ => rule.activation,
        };
        let Some(flat) = amount else { continue };
        let id = format!("{}:{code}:{visitor}", kind.as_str());
        if locked.contains_key(id.as_str()) {
            continue;
        }
        let at = ts(e);
        let hold = holds.of_conversion(partner, e);
        let (status, reason, due_on) = unpaid_status(at, rule.hold_days, hold.as_deref(), as_of);
        out.push(Earning {
            id,
            partner: code,
            kind,
            source: e.id.clone(),
            customer: format!("visitor:{visitor}"),
            amount: 0,
            amount_currency: rule.currency.clone(),
            earnings: flat,
            currency: rule.currency.clone(),
            status,
            reason,
            created: at.to_string(),
            due_on,
            paid_on: String::new(),
            batch: String::new(),
        });
    }

    // Every locked row, as locked.
    for r in locked.values() {
        out.push((*r).clone());
    }
    out.sort_by(|a, b| (&a.created, &a.id).cmp(&(&b.created, &b.id)));
    out.dedup_by(|a, b| a.id == b.id);
    Ledger {
        rows: out,
        unattributed: unattributed.into_iter().collect(),
    }
}

/// The ledger's columns, in order.
pub const COLUMNS: [&str; 15] = [
    "id",
    "partner",
    "type",
    "source",
    "customer",
    "amount",
    "amount_currency",
    "earnings",
    "currency",
    "status",
    "reason",
    "created",
    "due_on",
    "paid_on",
    "batch",
];

/// One CSV field: quoted when it holds a comma, a quote or a line break (RFC 4180). A field
/// starting with `=`, `+`, `-` or `@` that is not a number gets a leading `'` so a
/// spreadsheet does not run it as a formula.
pub fn csv_field(s: &str) -> String {
    let formula = s.starts_with(['=', '+', '@'])
        || (s.starts_with('-') && s[1..].parse::<f64>().is_err() && s.len() > 1);
    let s = if formula {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// One CSV line (with `\n`).
pub fn csv_line(fields: &[String]) -> String {
    let mut line = fields
        .iter()
        .map(|f| csv_field(f))
        .collect::<Vec<_>>()
        .join(",");
    line.push('\n');
    line
}

impl Ledger {
    /// The ledger as CSV: a header line, then one line per row.
    pub fn to_csv(&self) -> String {
        let mut out = csv_line(&COLUMNS.map(String::from));
        for r in &self.rows {
            out.push_str(&csv_line(&[
                r.id.clone(),
                r.partner.clone(),
                r.kind.as_str().into(),
                r.source.clone(),
                r.customer.clone(),
                r.amount.to_string(),
                r.amount_currency.clone(),
                r.earnings.to_string(),
                r.currency.clone(),
                r.status.as_str().into(),
                r.reason.clone(),
                r.created.clone(),
                r.due_on.clone(),
                r.paid_on.clone(),
                r.batch.clone(),
            ]));
        }
        out
    }

    /// Totals per partner, currency and status (minor units).
    pub fn totals(&self) -> BTreeMap<(String, String), BTreeMap<Status, i64>> {
        let mut t: BTreeMap<(String, String), BTreeMap<Status, i64>> = BTreeMap::new();
        for r in &self.rows {
            *t.entry((r.partner.clone(), r.currency.clone()))
                .or_default()
                .entry(r.status)
                .or_default() += r.earnings;
        }
        t
    }
}

/// Read every event of `src` (open it with `report::open_source`, which pulls a remote D1
/// first).
pub fn read_events(src: &crate::events::Source) -> Result<Vec<Event>> {
    let mut rows = Vec::new();
    src.scan(&crate::events::ScanOptions::default(), &mut |r| {
        rows.push(r.to_event());
        Ok(())
    })?;
    Ok(rows)
}

/// Write `text` to `path` atomically (a temporary file beside it, then a rename), creating
/// its folder; nothing half-written on failure.
pub fn write_atomic(path: &Path, text: &str) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
    let tmp: PathBuf = dir.join(format!(
        ".{}.tmp",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("ledger")
    ));
    std::fs::write(&tmp, text)
        .map_err(|e| Error::io(format!("cannot write {}", tmp.display()), e))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(format!("cannot write {}", path.display()), e)
    })
}

/// The day a ledger is computed for: `--as-of` (a date or a time), else now.
pub fn parse_as_of(text: Option<&str>) -> Result<Ts> {
    match text {
        None => Ok(Ts::now()),
        Some(t) => Ts::parse_date_or_time(t).ok_or_else(|| {
            Error::user_hint(
                format!("`as_of` is `{t}`, not a date"),
                "give a day as YYYY-MM-DD (the end of that day is not included), e.g. 2026-12-07",
            )
        }),
    }
}

/// Milliseconds in a day (for callers that add whole days).
pub const DAY_MS: i64 = MS_PER_DAY;

/// What `commissions` and `payouts` take.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The event source, opened (`report::open_source`).
    pub events: &'a crate::events::Source,
    /// The day statuses are computed for (`YYYY-MM-DD` or a time); default now.
    pub as_of: Option<&'a str>,
}

/// The ledger of the site at `site.root` from `req`'s events and the committed locks.
pub fn run(site: &Site, req: &Request) -> Result<(Ledger, Ts)> {
    let as_of = parse_as_of(req.as_of)?;
    let locks = payout::read_locks(&site.root)?;
    let events = read_events(req.events)?;
    Ok((compute(site, &events, &locks, as_of), as_of))
}

/// Compute and write `ledger/commissions.csv`; gives the ledger.
pub fn write_ledger(site: &Site, req: &Request) -> Result<Ledger> {
    let (ledger, _) = run(site, req)?;
    write_atomic(&site.root.join(LEDGER_FILE), &ledger.to_csv())?;
    Ok(ledger)
}

/// Compute the ledger, write the next payout batch (files, then its lock) and the ledger with
/// the batch's rows paid. Gives the batch and the written files (relative to the root); no
/// file when nothing is due.
pub fn write_payouts(site: &Site, req: &Request) -> Result<(payout::Batch, Vec<PathBuf>)> {
    let as_of = parse_as_of(req.as_of)?;
    let mut locks = payout::read_locks(&site.root)?;
    let events = read_events(req.events)?;
    let ledger = compute(site, &events, &locks, as_of);
    let batch = payout::plan(site, &ledger, as_of, &locks);
    let mut written = Vec::new();
    if !batch.lock.rows.is_empty() {
        written = payout::write(&site.root, site, &batch.lock)?;
        locks.push(batch.lock.clone());
    }
    let ledger = compute(site, &events, &locks, as_of);
    write_atomic(&site.root.join(LEDGER_FILE), &ledger.to_csv())?;
    written.push(PathBuf::from(LEDGER_FILE));
    Ok((batch, written))
}

/// One partner's earnings: totals per currency and status, and the reasons its rows are held.
/// What `commissions --partner` prints and the MCP tool `partner_earnings` answers: nothing
/// of another partner, no payee detail.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartnerEarnings {
    /// Partner code.
    pub partner: String,
    /// The day the statuses are computed for.
    pub as_of: String,
    /// Per currency, minor units.
    pub totals: Vec<CurrencyTotals>,
    /// Held rows: id and reason.
    pub held: Vec<HeldRow>,
    /// Ledger rows of the partner.
    pub rows: usize,
}

/// One currency of [`PartnerEarnings`].
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CurrencyTotals {
    /// Lower-case ISO code.
    pub currency: String,
    /// Within the hold.
    pub pending: i64,
    /// Past the hold, not paid (clawbacks included).
    pub due: i64,
    /// Held by a rule.
    pub held: i64,
    /// Paid in committed batches.
    pub paid: i64,
}

/// A held row of [`PartnerEarnings`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeldRow {
    /// Ledger row id.
    pub id: String,
    /// Why.
    pub reason: String,
}

/// The earnings of `partner` (a code of the site) in `ledger`.
pub fn partner_earnings(ledger: &Ledger, partner: &str, as_of: Ts) -> PartnerEarnings {
    let mut by: BTreeMap<String, CurrencyTotals> = BTreeMap::new();
    let mut held = Vec::new();
    let mut rows = 0;
    for r in ledger.rows.iter().filter(|r| r.partner == partner) {
        rows += 1;
        let t = by
            .entry(r.currency.clone())
            .or_insert_with(|| CurrencyTotals {
                currency: r.currency.clone(),
                ..Default::default()
            });
        match r.status {
            Status::Pending => t.pending += r.earnings,
            Status::Due => t.due += r.earnings,
            Status::Held => {
                t.held += r.earnings;
                held.push(HeldRow {
                    id: r.id.clone(),
                    reason: r.reason.clone(),
                });
            }
            Status::Paid => t.paid += r.earnings,
            Status::Voided => {}
        }
    }
    PartnerEarnings {
        partner: partner.to_string(),
        as_of: as_of.to_string(),
        totals: by.into_values().collect(),
        held,
        rows,
    }
}

/// [`partner_earnings`] of the site's ledger for `req`, as JSON with a final line break (the
/// caller checks that `partner` is a code of the site).
pub fn partner_earnings_json(site: &Site, req: &Request, partner: &str) -> Result<String> {
    let (ledger, as_of) = run(site, req)?;
    let mut s = serde_json::to_string_pretty(&partner_earnings(&ledger, partner, as_of))
        .map_err(|e| Error::user(format!("cannot write the earnings as JSON: {e}")))?;
    s.push('\n');
    Ok(s)
}

/// The earnings section of a partner's own report: totals per currency and, in words, why
/// rows are held (the rule's name only: the program's figures are not the partner's).
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ReportEarnings {
    /// Per currency, minor units.
    pub totals: Vec<ReportTotals>,
    /// Held rows per reason (`self_referral`, `fast_conversions`, `refund_rate`, `click_burst`).
    pub held: BTreeMap<String, usize>,
    /// What the figures mean, in a sentence.
    pub note: String,
}

/// One currency of the earnings section of a partner report.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ReportTotals {
    /// Lower-case ISO code.
    pub currency: String,
    /// Within the hold, minor units.
    pub pending: i64,
    /// Past the hold, paid with the next batch, minor units.
    pub due: i64,
    /// Held by a rule, minor units.
    pub held: i64,
    /// Paid, minor units.
    pub paid: i64,
}

/// The earnings section of `code`'s own report at `as_of`, when the partner has a reward rule.
pub fn for_partner_report(
    site: &Site,
    events: &crate::events::Source,
    code: &str,
    as_of: Ts,
) -> Result<Option<ReportEarnings>> {
    let Some(rule) = site.partner(code).and_then(|p| p.rule.as_ref()) else {
        return Ok(None);
    };
    let locks = payout::read_locks(&site.root)?;
    let all = read_events(events)?;
    let e = partner_earnings(&compute(site, &all, &locks, as_of), code, as_of);
    let mut held: BTreeMap<String, usize> = BTreeMap::new();
    for h in &e.held {
        let name = h.reason.split(':').next().unwrap_or("").to_string();
        *held.entry(name).or_default() += 1;
    }
    let mut note = format!(
        "Earnings are pending for {} day{} after each sale, then due and paid with the next payout",
        rule.hold_days,
        if rule.hold_days == 1 { "" } else { "s" }
    );
    if rule.minimum_payout > 0 {
        note.push_str(&format!(
            " once they reach {}",
            money::format_with_code(rule.minimum_payout, &rule.currency)
        ));
    }
    note.push('.');
    if !held.is_empty() {
        let parts: Vec<String> = held
            .iter()
            .map(|(r, n)| format!("{n} held ({})", r.replace('_', " ")))
            .collect();
        note.push_str(&format!(
            " {}: we look at these with you before they are paid.",
            parts.join(", ")
        ));
    }
    Ok(Some(ReportEarnings {
        totals: e
            .totals
            .into_iter()
            .map(|t| ReportTotals {
                currency: t.currency,
                pending: t.pending,
                due: t.due,
                held: t.held,
                paid: t.paid,
            })
            .collect(),
        held,
        note,
    }))
}

/// One partner and currency of the team report's earnings section.
#[derive(Debug, Clone, PartialEq)]
pub struct TeamEarnings {
    /// Partner code.
    pub partner: String,
    /// Lower-case ISO code.
    pub currency: String,
    /// Net amount of the sales that earned (in this currency), minor units.
    pub sales: i64,
    /// Minor units per status.
    pub pending: i64,
    /// Due, clawbacks included.
    pub due: i64,
    /// Held by a rule.
    pub held: i64,
    /// Paid.
    pub paid: i64,
}

/// The earnings section of the team report: per partner (only `partner` when given) and
/// currency, at `as_of`; empty when no partner has a reward rule.
pub fn for_team_report(
    site: &Site,
    events: &crate::events::Source,
    partner: Option<&str>,
    as_of: Ts,
) -> Result<Vec<TeamEarnings>> {
    if !site.partners.iter().any(|p| p.rule.is_some()) {
        return Ok(Vec::new());
    }
    let locks = payout::read_locks(&site.root)?;
    let all = read_events(events)?;
    let ledger = compute(site, &all, &locks, as_of);
    let mut by: BTreeMap<(String, String), TeamEarnings> = BTreeMap::new();
    for r in ledger
        .rows
        .iter()
        .filter(|r| partner.is_none_or(|p| p == r.partner))
    {
        let t = by
            .entry((r.partner.clone(), r.currency.clone()))
            .or_insert_with(|| TeamEarnings {
                partner: r.partner.clone(),
                currency: r.currency.clone(),
                sales: 0,
                pending: 0,
                due: 0,
                held: 0,
                paid: 0,
            });
        if r.kind == Kind::Sale && r.amount_currency == r.currency {
            t.sales += r.amount;
        }
        match r.status {
            Status::Pending => t.pending += r.earnings,
            Status::Due => t.due += r.earnings,
            Status::Held => t.held += r.earnings,
            Status::Paid => t.paid += r.earnings,
            Status::Voided => {}
        }
    }
    Ok(by.into_values().collect())
}

/// A short summary for the terminal: rows, totals per partner and status.
pub fn summary(ledger: &Ledger) -> String {
    let mut out = format!(
        "{} ({} row{})\n",
        LEDGER_FILE,
        ledger.rows.len(),
        if ledger.rows.len() == 1 { "" } else { "s" }
    );
    for ((partner, currency), by) in ledger.totals() {
        let parts: Vec<String> = by
            .iter()
            .map(|(st, v)| format!("{} {}", st.as_str(), money::format_major(*v, &currency)))
            .collect();
        out.push_str(&format!(
            "  {partner} ({}): {}\n",
            currency.to_ascii_uppercase(),
            parts.join(", ")
        ));
    }
    if !ledger.unattributed.is_empty() {
        out.push_str(&format!(
            "  {} payment{} credited to no partner (they earn nothing)\n",
            ledger.unattributed.len(),
            if ledger.unattributed.len() == 1 {
                ""
            } else {
                "s"
            }
        ));
    }
    out
}

#[cfg(test)]
mod tests;
