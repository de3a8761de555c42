//! Payout batches: the due earnings of each partner whose total reaches the minimum, as a PayPal
//! Payouts file and a Wise batch file (one currency per file, split at each provider's row
//! limit), and the lock that marks them paid once committed. No money is moved: the files are
//! uploaded by a person, and the lock is reviewed in the pull request that adds it.
//!
//! - PayPal Payouts (web upload): no header; each line `recipient, amount, currency, customer
//!   id, note, wallet` (recipient: the partner's PayPal email or payer id; amount with a `.`
//!   and the currency's decimals; customer id `<batch>-<partner>`; wallet `PAYPAL`); at most
//!   [`PAYPAL_MAX_ROWS`] lines per file.
//! - Wise batch, "send by email" template: a header line [`WISE_COLUMNS`], then one transfer per
//!   line (Wise emails the partner a link to add their bank details); at most
//!   [`WISE_MAX_ROWS`] transfers per file.

use super::{csv_line, money, Earning, Ledger, Status, PAYOUTS_DIR};
use crate::error::{Error, Result};
use crate::events::Ts;
use crate::site::Site;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Most lines of a PayPal Payouts file.
pub const PAYPAL_MAX_ROWS: usize = 5_000;
/// Most transfers of a Wise batch file.
pub const WISE_MAX_ROWS: usize = 1_000;
/// The header of a Wise "send by email" batch file.
pub const WISE_COLUMNS: [&str; 8] = [
    "name",
    "recipientEmail",
    "paymentReference",
    "receiverType",
    "amountCurrency",
    "amount",
    "sourceCurrency",
    "targetCurrency",
];
/// The columns of a PayPal Payouts line (the file has no header).
pub const PAYPAL_COLUMNS: [&str; 6] = [
    "recipient",
    "amount",
    "currency",
    "customer_id",
    "note",
    "wallet",
];

/// A committed payout batch: every row it paid, as it was paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lock {
    /// The batch id (`YYYY-MM-DD`, `-2`... when a day has several).
    pub batch: String,
    /// The day the batch was made.
    pub date: String,
    /// What each partner is paid, per currency.
    pub totals: Vec<Total>,
    /// The rows paid, status `paid`.
    pub rows: Vec<Earning>,
}

/// One payment of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Total {
    /// Partner code.
    pub partner: String,
    /// Currency.
    pub currency: String,
    /// Minor units.
    pub earnings: i64,
    /// `paypal` or `wise`.
    pub method: String,
    /// How many ledger rows.
    pub rows: usize,
}

/// Why a partner's due earnings are not in the batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// Partner code.
    pub partner: String,
    /// Currency.
    pub currency: String,
    /// Due total, minor units.
    pub earnings: i64,
    /// Why.
    pub reason: String,
}

/// A batch to write: the lock and the skipped totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// What is paid.
    pub lock: Lock,
    /// What is not, and why.
    pub skipped: Vec<Skipped>,
}

/// The `*.lock.json` files under `ledger/payouts/`, by name.
pub fn read_locks(root: &Path) -> Result<Vec<Lock>> {
    let dir = root.join(PAYOUTS_DIR);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(Vec::new());
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(".lock.json"))
        })
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for p in paths {
        let rel = p.strip_prefix(root).unwrap_or(&p).display().to_string();
        let text = std::fs::read_to_string(&p)
            .map_err(|e| Error::io(format!("cannot read the payout lock {rel}"), e))?;
        let lock: Lock = serde_json::from_str(&text).map_err(|e| {
            Error::user_hint(
                format!("{rel}:{}:{}: not a payout lock: {e}", e.line(), e.column()),
                "a lock is written by `partner-pages payouts`; restore it from git rather than editing it",
            )
        })?;
        out.push(lock);
    }
    Ok(out)
}

enum Method<'a> {
    PayPal(&'a str),
    Wise {
        email: &'a str,
        name: &'a str,
        business: bool,
    },
}

/// The batch of `ledger`'s due rows: per partner and currency, the due total when it is above
/// zero and reaches the partner's minimum payout (in the reward's currency; other currencies
/// have no minimum) and the partner has payee details. `existing`: the locks already there
/// (the batch id must be new).
pub fn plan(site: &Site, ledger: &Ledger, as_of: Ts, existing: &[Lock]) -> Batch {
    let date = as_of.date_string();
    let mut batch = date.clone();
    let mut n = 2;
    while existing.iter().any(|l| l.batch == batch) {
        batch = format!("{date}-{n}");
        n += 1;
    }
    let mut due: BTreeMap<(String, String), Vec<&Earning>> = BTreeMap::new();
    for r in ledger.rows.iter().filter(|r| r.status == Status::Due) {
        due.entry((r.partner.clone(), r.currency.clone()))
            .or_default()
            .push(r);
    }
    let mut totals = Vec::new();
    let mut rows = Vec::new();
    let mut skipped = Vec::new();
    for ((partner, currency), list) in due {
        let total: i64 = list.iter().map(|r| r.earnings).sum();
        let p = site.partner(&partner);
        let minimum = p
            .and_then(|p| p.rule.as_ref())
            .filter(|r| r.currency == currency)
            .map_or(0, |r| r.minimum_payout);
        let skip = |reason: String| Skipped {
            partner: partner.clone(),
            currency: currency.clone(),
            earnings: total,
            reason,
        };
        if total <= 0 {
            skipped.push(skip(
                "the due total is not above zero (clawbacks are netted from later earnings)".into(),
            ));
            continue;
        }
        if total < minimum {
            skipped.push(skip(format!(
                "below the minimum payout of {}",
                money::format_with_code(minimum, &currency)
            )));
            continue;
        }
        let method = match p.and_then(|p| p.payee.as_ref()) {
            Some(payee) if payee.paypal.is_some() => "paypal",
            Some(payee) if payee.wise_email.is_some() => "wise",
            _ => {
                skipped.push(skip(
                    "no `payee:` in the partner file (a PayPal email or a Wise email)".into(),
                ));
                continue;
            }
        };
        totals.push(Total {
            partner: partner.clone(),
            currency: currency.clone(),
            earnings: total,
            method: method.into(),
            rows: list.len(),
        });
        for r in list {
            let mut paid = r.clone();
            paid.status = Status::Paid;
            paid.paid_on = date.clone();
            paid.batch = batch.clone();
            rows.push(paid);
        }
    }
    rows.sort_by(|a, b| (&a.created, &a.id).cmp(&(&b.created, &b.id)));
    Batch {
        lock: Lock {
            batch,
            date,
            totals,
            rows,
        },
        skipped,
    }
}

/// The payout files of a batch: name (relative to the batch's folder) and text.
pub fn files(site: &Site, lock: &Lock) -> Vec<(String, String)> {
    let mut by_file: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for t in &lock.totals {
        let Some(payee) = site.partner(&t.partner).and_then(|p| p.payee.as_ref()) else {
            continue;
        };
        let method = match (&payee.paypal, &payee.wise_email) {
            (Some(pp), _) => Method::PayPal(pp),
            (None, Some(email)) => Method::Wise {
                email,
                name: payee.name.as_deref().unwrap_or(&t.partner),
                business: payee.kind.as_deref() == Some("business"),
            },
            (None, None) => continue,
        };
        let amount = money::format_major(t.earnings, &t.currency);
        let cur = t.currency.to_ascii_uppercase();
        let (kind, line) = match method {
            Method::PayPal(recipient) => (
                "paypal",
                csv_line(&[
                    recipient.to_string(),
                    amount,
                    cur,
                    format!("{}-{}", lock.batch, t.partner),
                    format!("Partner earnings for batch {}", lock.batch),
                    "PAYPAL".into(),
                ]),
            ),
            Method::Wise {
                email,
                name,
                business,
            } => (
                "wise",
                csv_line(&[
                    name.to_string(),
                    email.to_string(),
                    format!("Earnings {}", lock.batch),
                    if business { "BUSINESS" } else { "PERSON" }.into(),
                    "target".into(),
                    amount,
                    cur.clone(),
                    cur,
                ]),
            ),
        };
        by_file
            .entry((kind.into(), t.currency.clone()))
            .or_default()
            .push(line);
    }
    let mut out = Vec::new();
    for ((kind, currency), lines) in by_file {
        let (limit, header) = if kind == "paypal" {
            (PAYPAL_MAX_ROWS, None)
        } else {
            (
                WISE_MAX_ROWS,
                Some(csv_line(&WISE_COLUMNS.map(String::from))),
            )
        };
        let parts = lines.chunks(limit).count();
        for (i, chunk) in lines.chunks(limit).enumerate() {
            let name = if parts == 1 {
                format!("{kind}-{currency}.csv")
            } else {
                format!("{kind}-{currency}-{}.csv", i + 1)
            };
            let mut text = header.clone().unwrap_or_default();
            for l in chunk {
                text.push_str(l);
            }
            out.push((name, text));
        }
    }
    out
}

/// The lock as committed: pretty JSON with a final line break.
pub fn lock_text(lock: &Lock) -> String {
    let mut s = serde_json::to_string_pretty(lock).unwrap_or_default();
    s.push('\n');
    s
}

/// Write a batch: its payout files under `ledger/payouts/<batch>/`, then its lock
/// `ledger/payouts/<batch>.lock.json` last (a failure before leaves no lock). Gives the
/// written paths, relative to the root.
pub fn write(root: &Path, site: &Site, lock: &Lock) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let dir = Path::new(PAYOUTS_DIR).join(&lock.batch);
    for (name, text) in files(site, lock) {
        let rel = dir.join(name);
        super::write_atomic(&root.join(&rel), &text)?;
        written.push(rel);
    }
    let rel = Path::new(PAYOUTS_DIR).join(format!("{}.lock.json", lock.batch));
    super::write_atomic(&root.join(&rel), &lock_text(lock))?;
    written.push(rel);
    Ok(written)
}
