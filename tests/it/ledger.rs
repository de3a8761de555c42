//! `commissions` and `payouts` as a site owner runs them: reward rules in the partner files and
//! the config, payments in the event table (as the Stripe webhook stores them), the ledger
//! compared row by row with a computation written here, payout files parsed as CSV, a batch
//! paid (its lock kept), a refund after payout clawed back once, and a byte scan of `public/`
//! and of the MCP answers for payee details and reward terms.

use crate::support;
use chrono::{DateTime, Months, TimeZone, Utc};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const PAYPAL: &str = "ana.payee@example.net";
const WISE: &str = "bo.payee@example.org";
const WISE_NAME: &str = "Bo Payee-Holder";
const SELF_CUSTOMER: &str = "cus_selfA9";

/// The test's own statement of the rules (not the library's types).
#[derive(Clone, Copy)]
enum Sale {
    Pct(i64),  // whole percent
    Flat(i64), // minor units
}
#[derive(Clone, Copy)]
struct R {
    sale: Sale,
    lead: Option<i64>,
    months: Option<u32>, // None: forever
    hold: i64,
}

fn rules() -> BTreeMap<&'static str, R> {
    BTreeMap::from([
        // seo-consultant: 20% (default) recurring 3 months, 30-day hold (default).
        (
            "seo-consultant",
            R {
                sale: Sale::Pct(20),
                lead: None,
                months: Some(3),
                hold: 30,
            },
        ),
        // founder-community: 15.00 flat per sale, 2.00 per lead, forever, 10-day hold.
        (
            "founder-community",
            R {
                sale: Sale::Flat(1500),
                lead: Some(200),
                months: None,
                hold: 10,
            },
        ),
        // nocode-agency and ai-tools-directory: the defaults (20%, first payment only).
        (
            "nocode-agency",
            R {
                sale: Sale::Pct(20),
                lead: None,
                months: Some(0),
                hold: 30,
            },
        ),
        (
            "ai-tools-directory",
            R {
                sale: Sale::Pct(20),
                lead: None,
                months: Some(0),
                hold: 30,
            },
        ),
    ])
}

fn setup(root: &Path) {
    let cfg = root.join("partner-pages.yaml");
    let mut text = std::fs::read_to_string(&cfg).unwrap();
    text.push_str(
        "reward:\n  sale: 20%\n  hold_days: 30\n  minimum_payout: \"10\"\n  currency: usd\n",
    );
    std::fs::write(&cfg, text).unwrap();
    let add = |code: &str, extra: &str| {
        let p = root.join(format!("partners/{code}.yaml"));
        let mut text = std::fs::read_to_string(&p).unwrap();
        text.push_str(extra);
        std::fs::write(&p, text).unwrap();
    };
    add(
        "seo-consultant",
        &format!("reward:\n  recurring: 3\npayee:\n  paypal: {PAYPAL}\nown_accounts: [{SELF_CUSTOMER}]\n"),
    );
    add(
        "founder-community",
        &format!("reward:\n  sale: \"15\"\n  lead: \"2.00\"\n  recurring: forever\n  hold_days: 10\npayee:\n  wise_email: {WISE}\n  name: {WISE_NAME}\n"),
    );
}

struct Db(rusqlite::Connection, u64);

impl Db {
    fn open(path: &Path) -> Db {
        let c = rusqlite::Connection::open(path).unwrap();
        c.execute_batch(partner_pages::events::SCHEMA_SQL).unwrap();
        partner_pages::events::add_missing_columns(&c).unwrap();
        Db(c, 0)
    }

    #[allow(clippy::too_many_arguments)]
    fn row(
        &mut self,
        partner: &str,
        name: &str,
        at: DateTime<Utc>,
        visitor: Option<&str>,
        amount: Option<i64>,
        object: Option<&str>,
        customer: Option<&str>,
        rule: Option<&str>,
    ) {
        self.1 += 1;
        let id = format!("row{:05}", self.1);
        let evt = amount.map(|_| format!("evt_{:05}", self.1));
        self.0
            .execute(
                "INSERT INTO partner_events (id, partner_code, campaign, event_name, page_path, \
                 visitor_id, created_at, amount_minor, currency, stripe_event_id, stripe_object_id, \
                 stripe_customer_id, attribution_rule) VALUES (?1, ?2, 'default', ?3, '/p/', ?4, ?5, \
                 ?6, ?7, ?8, ?9, ?10, ?11)",
                rusqlite::params![
                    id,
                    partner,
                    name,
                    visitor,
                    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
                    amount,
                    amount.map(|_| "usd"),
                    evt,
                    object,
                    customer,
                    rule
                ],
            )
            .unwrap();
    }

    fn pay(
        &mut self,
        partner: &str,
        at: DateTime<Utc>,
        amount: i64,
        object: &str,
        customer: &str,
        rule: &str,
    ) {
        self.row(
            partner,
            "payment",
            at,
            Some(&format!("v-{customer}")),
            Some(amount),
            Some(object),
            Some(customer),
            Some(rule),
        );
    }

    fn refund(
        &mut self,
        partner: &str,
        at: DateTime<Utc>,
        amount: i64,
        object: &str,
        customer: &str,
    ) {
        self.row(
            partner,
            "refund",
            at,
            None,
            Some(-amount),
            Some(object),
            Some(customer),
            Some("visitor"),
        );
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

fn day(d: i64) -> DateTime<Utc> {
    t0() + chrono::Duration::days(d) + chrono::Duration::minutes(d * 7 % 600)
}

/// A generated table: per partner four customers paying monthly for five months (amounts from a
/// fixed-seed generator), a partial refund before payout, a refund in full, a coupon sale, a
/// self-referral, a payment credited to no partner, and leads (one visitor twice).
fn generate(db: &mut Db) {
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |lo: i64, hi: i64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        lo + (seed % ((hi - lo) as u64)) as i64
    };
    for (pi, code) in ["seo-consultant", "founder-community", "nocode-agency"]
        .iter()
        .enumerate()
    {
        for c in 0..4 {
            let customer = format!("cus_{pi}{c}");
            let start = next(0, 20);
            for m in 0..5u32 {
                let at = t0() + chrono::Duration::days(start) + chrono::Duration::hours(pi as i64);
                let at = at.checked_add_months(Months::new(m)).unwrap();
                let rule = if m == 0 { "visitor" } else { "customer" };
                db.pay(
                    code,
                    at,
                    next(1000, 9999),
                    &format!("in_{pi}{c}{m}"),
                    &customer,
                    rule,
                );
            }
        }
    }
    // A partial refund before any payout (seo-consultant's first invoice of customer 0).
    db.refund("seo-consultant", day(40), 333, "in_000", "cus_00");
    // A refund in full (nocode-agency's customer 0, first payment): voided.
    let conn = &db.0;
    let full: i64 = conn
        .query_row(
            "SELECT amount_minor FROM partner_events WHERE stripe_object_id = 'in_200'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    db.refund("nocode-agency", day(41), full, "in_200", "cus_20");
    // A coupon sale (no visitor) and a self-referral.
    db.row(
        "founder-community",
        "payment",
        day(30),
        None,
        Some(4900),
        Some("cs_coupon1"),
        Some("cus_cpn"),
        Some("coupon"),
    );
    db.pay(
        "seo-consultant",
        day(31),
        9900,
        "cs_self1",
        SELF_CUSTOMER,
        "visitor",
    );
    // Credited to no partner: kept, earns nothing.
    db.row(
        "",
        "payment",
        day(32),
        None,
        Some(1234),
        Some("cs_nobody"),
        Some("cus_nobody"),
        Some("none"),
    );
    // Leads: three visitors of founder-community, one of them twice.
    for (v, d) in [("lv1", 3), ("lv2", 12), ("lv1", 50), ("lv3", 150)] {
        db.row(
            "founder-community",
            "lead_magnet",
            day(d),
            Some(v),
            None,
            None,
            None,
            None,
        );
    }
}

/// A test-side CSV reader (RFC 4180: quoted fields, doubled quotes).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        match (quoted, ch) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(
        field.is_empty() && row.is_empty(),
        "the file ends with a line break"
    );
    rows
}

fn round_div(n: i64, d: i64) -> i64 {
    let q = (n.abs() * 2 + d) / (2 * d);
    if n < 0 {
        -q
    } else {
        q
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Exp {
    id: String,
    partner: String,
    kind: String,
    amount: i64,
    earnings: i64,
    status: String,
}

/// The expected unpaid rows at `as_of`, computed from the table without the library.
fn expected(db: &Path, as_of: DateTime<Utc>) -> Vec<Exp> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT partner_code, event_name, created_at, amount_minor, stripe_object_id, stripe_customer_id, visitor_id, id FROM partner_events ORDER BY created_at, id")
        .unwrap();
    type Raw = (
        String,
        String,
        String,
        Option<i64>,
        Option<String>,
        Option<String>,
        Option<String>,
        String,
    );
    let rows: Vec<Raw> = stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
    let rules = rules();
    let mut refunded: BTreeMap<String, i64> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.1 == "refund") {
        *refunded.entry(r.4.clone().unwrap()).or_default() += r.3.unwrap();
    }
    let status = |when: DateTime<Utc>, hold: i64| {
        if when + chrono::Duration::days(hold) > as_of {
            "pending"
        } else {
            "due"
        }
    };
    let mut out = Vec::new();
    let mut first: BTreeMap<(String, String), DateTime<Utc>> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.1 == "payment" && !r.0.is_empty()) {
        let rule = rules[r.0.as_str()];
        let when = at(&r.2);
        let f = *first
            .entry((r.0.clone(), r.5.clone().unwrap()))
            .or_insert(when);
        let earns = match rule.months {
            None => true,
            Some(0) => when == f,
            Some(n) => when < f.checked_add_months(Months::new(n)).unwrap(),
        };
        if !earns {
            continue;
        }
        let object = r.4.clone().unwrap();
        let gross = r.3.unwrap();
        let net = gross + refunded.get(&object).copied().unwrap_or(0);
        let earnings = match rule.sale {
            Sale::Pct(p) => round_div(net * p, 100),
            Sale::Flat(f) => round_div(f * net, gross),
        };
        let st = if net == 0 {
            "voided"
        } else if r.5.as_deref() == Some(SELF_CUSTOMER) {
            "held"
        } else {
            status(when, rule.hold)
        };
        out.push(Exp {
            id: format!("sale:{object}"),
            partner: r.0.clone(),
            kind: "sale".into(),
            amount: net,
            earnings,
            status: st.into(),
        });
    }
    let mut seen = BTreeSet::new();
    for r in rows.iter().filter(|r| r.1 == "lead_magnet") {
        let v = r.6.clone().unwrap();
        if !seen.insert((r.0.clone(), v.clone())) {
            continue;
        }
        let rule = rules[r.0.as_str()];
        if let Some(l) = rule.lead {
            out.push(Exp {
                id: format!("lead:{}:{v}", r.0),
                partner: r.0.clone(),
                kind: "lead".into(),
                amount: 0,
                earnings: l,
                status: status(at(&r.2), rule.hold).into(),
            });
        }
    }
    out.sort();
    out
}

fn ledger_rows(root: &Path) -> (Vec<String>, Vec<BTreeMap<String, String>>) {
    let text = support::read(root.join("ledger/commissions.csv"));
    let mut rows = parse_csv(&text);
    let header = rows.remove(0);
    let maps = rows
        .into_iter()
        .map(|r| {
            assert_eq!(r.len(), header.len(), "{r:?}");
            header.iter().cloned().zip(r).collect()
        })
        .collect();
    (header, maps)
}

fn as_exp(r: &BTreeMap<String, String>) -> Exp {
    Exp {
        id: r["id"].clone(),
        partner: r["partner"].clone(),
        kind: r["type"].clone(),
        amount: r["amount"].parse().unwrap(),
        earnings: r["earnings"].parse().unwrap(),
        status: r["status"].clone(),
    }
}

fn major(minor: i64) -> String {
    format!("{}.{:02}", minor / 100, minor % 100)
}

#[test]
fn the_ledger_pays_once_claws_back_once_and_keeps_payees_private() {
    let site = support::copy_site(&support::example_site());
    let root = site.path();
    setup(root);
    let db_path = root.join("events.db");
    let mut db = Db::open(&db_path);
    generate(&mut db);
    let events = db_path.to_str().unwrap();

    // 1. The ledger equals the computation above, row for row; re-running gives the same bytes.
    let d1 = t0() + chrono::Duration::days(150);
    let d1s = d1.format("%Y-%m-%d").to_string();
    let out = support::run_ok(root, &["commissions", "--events", events, "--as-of", &d1s]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("1 payment credited to no partner"),
        "{stdout}"
    );
    let first_bytes = support::read(root.join("ledger/commissions.csv"));
    let (header, rows) = ledger_rows(root);
    assert_eq!(
        header,
        [
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
            "batch"
        ]
    );
    let mut got: Vec<Exp> = rows.iter().map(as_exp).collect();
    got.sort();
    let midnight = Utc.from_utc_datetime(&d1.date_naive().and_hms_opt(0, 0, 0).unwrap());
    let want = expected(&db_path, midnight);
    assert_eq!(got, want);
    for (status, n) in [("due", 5), ("pending", 1), ("held", 1), ("voided", 1)] {
        assert!(
            want.iter().filter(|e| e.status == status).count() >= n,
            "the table has {n} {status} row(s)"
        );
    }
    let held = rows.iter().find(|r| r["status"] == "held").unwrap();
    assert!(held["reason"].starts_with("self_referral"), "{held:?}");
    assert!(
        got.iter()
            .any(|e| e.id == "sale:cs_coupon1" && e.earnings == 1500),
        "the coupon sale earns the flat amount"
    );
    support::run_ok(root, &["commissions", "--events", events, "--as-of", &d1s]);
    assert_eq!(
        support::read(root.join("ledger/commissions.csv")),
        first_bytes,
        "same input, same bytes"
    );

    // 2. The payout batch: per partner the due total, PayPal and Wise files as documented.
    let due = |p: &str| -> i64 {
        want.iter()
            .filter(|e| e.partner == p && e.status == "due")
            .map(|e| e.earnings)
            .sum()
    };
    support::run_ok(root, &["payouts", "--events", events, "--as-of", &d1s]);
    let batch_dir = root.join("ledger/payouts").join(&d1s);
    let paypal = parse_csv(&support::read(batch_dir.join("paypal-usd.csv")));
    // PayPal Payouts: no header; recipient, amount, currency, customer id, note, wallet.
    assert_eq!(paypal.len(), 1, "{paypal:?}");
    assert_eq!(
        paypal[0][..4],
        [
            PAYPAL.to_string(),
            major(due("seo-consultant")),
            "USD".into(),
            format!("{d1s}-seo-consultant")
        ]
    );
    assert_eq!(paypal[0][5], "PAYPAL");
    let wise = parse_csv(&support::read(batch_dir.join("wise-usd.csv")));
    // Wise "send by email" template columns.
    assert_eq!(
        wise[0],
        [
            "name",
            "recipientEmail",
            "paymentReference",
            "receiverType",
            "amountCurrency",
            "amount",
            "sourceCurrency",
            "targetCurrency"
        ]
    );
    assert_eq!(wise.len(), 2);
    assert_eq!(wise[1][0], WISE_NAME);
    assert_eq!(wise[1][1], WISE);
    assert_eq!(wise[1][5], major(due("founder-community")));
    assert_eq!(wise[1][6..], ["USD".to_string(), "USD".into()]);
    assert!(!batch_dir.join("paypal-usd-2.csv").exists());
    let lock_path = root.join(format!("ledger/payouts/{d1s}.lock.json"));
    let lock: serde_json::Value = serde_json::from_str(&support::read(&lock_path)).unwrap();
    let partners: BTreeSet<&str> = lock["totals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["partner"].as_str().unwrap())
        .collect();
    // nocode-agency has due earnings but no payee: not in the batch.
    assert_eq!(
        partners,
        BTreeSet::from(["founder-community", "seo-consultant"])
    );
    let (_, after_pay) = ledger_rows(root);
    let paid: BTreeMap<String, String> = after_pay
        .iter()
        .filter(|r| r["status"] == "paid")
        .map(|r| (r["id"].clone(), format!("{r:?}")))
        .collect();
    assert_eq!(
        paid.len(),
        want.iter()
            .filter(|e| e.status == "due"
                && e.partner != "nocode-agency"
                && e.partner != "ai-tools-directory")
            .count()
    );

    // 3. A partial refund of a paid sale and a rule change: one clawback, paid rows unchanged.
    let victim = after_pay
        .iter()
        .find(|r| r["status"] == "paid" && r["partner"] == "seo-consultant" && r["type"] == "sale")
        .unwrap()
        .clone();
    let object = victim["source"].clone();
    let customer = victim["customer"].clone();
    let (paid_amount, paid_earn): (i64, i64) = (
        victim["amount"].parse().unwrap(),
        victim["earnings"].parse().unwrap(),
    );
    let back = 1001;
    db.refund(
        "seo-consultant",
        d1 + chrono::Duration::days(1),
        back,
        &object,
        &customer,
    );
    let p = root.join("partners/seo-consultant.yaml");
    let text = std::fs::read_to_string(&p)
        .unwrap()
        .replace("  recurring: 3\n", "  recurring: 3\n  sale: 30%\n");
    std::fs::write(&p, text).unwrap();
    let d2s = (d1 + chrono::Duration::days(10))
        .format("%Y-%m-%d")
        .to_string();
    support::run_ok(root, &["commissions", "--events", events, "--as-of", &d2s]);
    let (_, after_refund) = ledger_rows(root);
    let paid_now: BTreeMap<String, String> = after_refund
        .iter()
        .filter(|r| r["status"] == "paid")
        .map(|r| (r["id"].clone(), format!("{r:?}")))
        .collect();
    assert_eq!(paid_now, paid, "paid rows never change");
    let clawbacks: Vec<_> = after_refund
        .iter()
        .filter(|r| r["type"] == "clawback")
        .collect();
    assert_eq!(clawbacks.len(), 1, "{clawbacks:?}");
    assert_eq!(
        clawbacks[0]["earnings"].parse::<i64>().unwrap(),
        -round_div(paid_earn * back, paid_amount)
    );
    assert_eq!(clawbacks[0]["status"], "due");
    assert_eq!(clawbacks[0]["partner"], "seo-consultant");
    // The next batch nets it; re-running after that adds nothing.
    let out = support::run_ok(root, &["payouts", "--events", events, "--as-of", &d2s]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("not paid: seo-consultant -"),
        "the clawback alone is carried"
    );
    // A later sale (30% since the rule changed) reaches the minimum: the batch nets the clawback.
    db.pay(
        "seo-consultant",
        d1 - chrono::Duration::days(35),
        9000,
        "in_late",
        "cus_late",
        "visitor",
    );
    support::run_ok(root, &["payouts", "--events", events, "--as-of", &d2s]);
    let claw = clawbacks[0]["earnings"].parse::<i64>().unwrap();
    let paypal2 = parse_csv(&support::read(
        root.join("ledger/payouts")
            .join(&d2s)
            .join("paypal-usd.csv"),
    ));
    assert_eq!(paypal2[0][1], major(2700 + claw));
    let lock2: serde_json::Value = serde_json::from_str(&support::read(
        root.join(format!("ledger/payouts/{d2s}.lock.json")),
    ))
    .unwrap();
    assert!(
        lock2["rows"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["type"] == "clawback"),
        "{lock2}"
    );
    support::run_ok(root, &["commissions", "--events", events, "--as-of", &d2s]);
    let (_, last) = ledger_rows(root);
    assert_eq!(last.iter().filter(|r| r["type"] == "clawback").count(), 1);

    // The partner's own report shows its earnings, with the hold reason's name only.
    let md = support::mcp::cli(
        root,
        &[
            "report",
            "--events",
            events,
            "--partner",
            "seo-consultant",
            "--for-partner",
            "--last",
            "28d",
            "--now",
            &format!("{d2s}T00:00:00Z"),
        ],
    );
    let paid_seo: i64 = last
        .iter()
        .filter(|r| r["partner"] == "seo-consultant" && r["status"] == "paid")
        .map(|r| r["earnings"].parse::<i64>().unwrap())
        .sum();
    assert!(md.contains("## Your earnings"), "{md}");
    assert!(
        md.contains("| USD | ") && md.contains(&format!(" | {} |\n", major(paid_seo))),
        "{md}"
    );
    assert!(md.contains("1 held (self referral)"), "{md}");
    assert!(
        !md.contains("founder-community") && !md.contains("program"),
        "{md}"
    );

    // The team report shows every partner's earnings next to the funnel (Markdown), never in
    // its JSON.
    let now = format!("{d2s}T00:00:00Z");
    let team = support::mcp::cli(
        root,
        &["report", "--events", events, "--last", "28d", "--now", &now],
    );
    let seo_line = team
        .lines()
        .find(|l| l.starts_with("| seo-consultant | USD |"))
        .unwrap_or_else(|| panic!("{team}"));
    assert!(
        seo_line.ends_with(&format!(" | {} |", major(paid_seo))),
        "{seo_line}"
    );
    assert!(team.contains("| founder-community | USD |"), "{team}");
    let json = support::mcp::cli(
        root,
        &[
            "report", "--events", events, "--last", "28d", "--now", &now, "--format", "json",
        ],
    );
    assert!(
        !json.contains("earnings") && !json.contains(&major(paid_seo)),
        "the JSON holds no earnings"
    );

    // 4. Nothing private in public/ or in the MCP answers.
    support::run_ok(root, &["build"]);
    let secrets = [
        PAYPAL,
        WISE,
        WISE_NAME,
        SELF_CUSTOMER,
        "of each net sale",
        "minimum_payout",
        "own_accounts",
        "15.00 USD",
    ];
    for (path, bytes) in support::tree(&root.join("public")) {
        let text = String::from_utf8_lossy(&bytes);
        for s in secrets {
            assert!(!text.contains(s), "public/{path} holds `{s}`");
        }
    }
    // The kit shows the terms written from the current rule (not the free commission text).
    let kits = support::tree(&root.join("kits"));
    let seo_kit: Vec<String> = kits
        .iter()
        .filter(|(p, _)| p.contains("seo-consultant"))
        .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
        .collect();
    assert!(
        seo_kit.iter().any(|k| k.contains("30% of each net sale (a customer&#39;s payments in their first 3 months); due 30 days after the sale, paid once earnings reach 10.00 USD")
            || k.contains("30% of each net sale (a customer's payments in their first 3 months); due 30 days after the sale, paid once earnings reach 10.00 USD")),
        "{seo_kit:?}"
    );
    assert!(
        !seo_kit.iter().any(|k| k.contains(PAYPAL)),
        "the kit holds no payee detail"
    );
    let mut c = support::mcp::Client::spawn(root, &db_path);
    c.request("initialize", serde_json::json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}));
    c.send(&serde_json::json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    let mut answers = vec![c.request("tools/list", serde_json::json!({}))];
    for (tool, args) in [
        ("list_partners", serde_json::json!({})),
        ("funnel_report", serde_json::json!({"since": "2026-01-01"})),
        ("leads", serde_json::json!({"since": "2026-01-01"})),
        (
            "calendar_tasks",
            serde_json::json!({"partner": "seo-consultant"}),
        ),
        ("check", serde_json::json!({})),
    ] {
        let answer = c.call(tool, args);
        // The team's payment figures list each payment's Stripe customer, the self-referral's
        // too: that id comes from Stripe's events, not from the partner file. Every other
        // answer must not hold it.
        if matches!(tool, "funnel_report" | "leads") {
            let text = answer.to_string();
            for s in secrets.iter().filter(|s| **s != SELF_CUSTOMER) {
                assert!(!text.contains(s), "the {tool} answer holds `{s}`: {text}");
            }
        } else {
            answers.push(answer);
        }
    }
    // What does seo-consultant earn: the CLI's JSON, its own figures only.
    let earn = c.call(
        "partner_earnings",
        serde_json::json!({"partner": "seo-consultant", "as_of": d2s}),
    );
    let text = support::mcp::tool_text(&earn).to_string();
    let cli = support::mcp::cli(
        root,
        &[
            "commissions",
            "--events",
            events,
            "--as-of",
            &d2s,
            "--partner",
            "seo-consultant",
        ],
    );
    assert_eq!(text, cli);
    let e: serde_json::Value = serde_json::from_str(&text).unwrap();
    let paid_total: i64 = last
        .iter()
        .filter(|r| r["partner"] == "seo-consultant" && r["status"] == "paid")
        .map(|r| r["earnings"].parse::<i64>().unwrap())
        .sum();
    assert_eq!(e["totals"][0]["paid"], paid_total, "{e}");
    assert_eq!(
        e["held"][0]["reason"].as_str().unwrap().split(':').next(),
        Some("self_referral")
    );
    for other in [
        "founder-community",
        "nocode-agency",
        &major(due("founder-community")),
    ] {
        assert!(
            !text.contains(other),
            "partner_earnings of seo-consultant names `{other}`"
        );
    }
    answers.push(earn);
    c.close();
    for a in answers {
        let text = a.to_string();
        for s in secrets {
            assert!(!text.contains(s), "an MCP answer holds `{s}`: {text}");
        }
    }
}

#[test]
fn bad_reward_values_are_located_and_nothing_is_written() {
    let site = support::copy_site(&support::example_site());
    let root = site.path();
    let p = root.join("partners/seo-consultant.yaml");
    let mut text = std::fs::read_to_string(&p).unwrap();
    text.push_str("reward:\n  sale: 120%\n  lead: two\n  recurring: always\n  currency: usx\npayee:\n  wise_email: not-an-email\n");
    std::fs::write(&p, text.clone()).unwrap();
    let out = support::run(root, &["commissions", "--events", "none.db"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let line = |needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() + 1;
    for (needle, msg) in [
        ("sale: 120%", "`reward.sale` is `120%`"),
        ("lead: two", "`reward.lead` is `two`"),
        ("recurring: always", "`reward.recurring` is `always`"),
        ("currency: usx", "`reward.currency` is `usx`"),
        ("wise_email: not", "`payee.wise_email` is `not-an-email`"),
    ] {
        assert!(err.contains(msg), "{msg} in {err}");
        assert!(
            err.contains(&format!("partners/seo-consultant.yaml:{}:", line(needle))),
            "{needle} located in {err}"
        );
    }
    assert!(!root.join("ledger").exists());
}

#[test]
fn check_warns_when_a_public_template_prints_payee_details_and_nothing_is_published() {
    let site = support::copy_site(&support::example_site());
    let root = site.path();
    std::fs::create_dir_all(root.join("templates")).unwrap();
    std::fs::write(
        root.join("templates/landing.html"),
        "{% extends \"base.html\" %}\n{% block main %}\n<p>{{ partner.payee }} {{ partner[\"own_accounts\"] }} {{ partner.reward }}</p>\n{% endblock %}\n",
    )
    .unwrap();
    let p = root.join("partners/seo-consultant.yaml");
    let mut text = std::fs::read_to_string(&p).unwrap();
    text.push_str(&format!(
        "reward:\n  sale: 20%\npayee:\n  paypal: {PAYPAL}\nown_accounts: [{SELF_CUSTOMER}]\n"
    ));
    std::fs::write(&p, text).unwrap();
    let out = support::run(root, &["check"]);
    let err =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    for field in ["payee", "own_accounts", "reward"] {
        assert!(
            err.contains(&format!("`partner.{field}` is private to the partner kit, but this template renders public pages")),
            "{field}: {err}"
        );
    }
    // Public pages do not get these fields at all: printing one is a build error (strict
    // templates), and nothing is written.
    let out = support::run(root, &["build"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`partner.payee` is undefined"));
    for dir in ["public", "kits"] {
        for (path, bytes) in support::tree(&root.join(dir)) {
            let text = String::from_utf8_lossy(&bytes);
            for s in [PAYPAL, SELF_CUSTOMER] {
                assert!(!text.contains(s), "{dir}/{path} holds `{s}`");
            }
        }
    }
}
