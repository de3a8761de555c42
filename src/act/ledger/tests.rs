use super::reward::{Payee, Recurring, Rule, SaleReward};
use super::*;
use crate::events::PayBuf;

fn site() -> Site {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/aikit");
    let mut site = crate::site::load(&root, &Default::default()).expect("the example site loads");
    for p in &mut site.partners {
        p.rule = Some(Rule {
            sale: Some(SaleReward::Percent(2000)),
            lead: Some(100),
            activation: None,
            recurring: Recurring::Forever,
            hold_days: 0,
            minimum_payout: 0,
            currency: "usd".into(),
        });
        p.payee = Some(Payee {
            paypal: Some(format!("{}@example.net", p.code)),
            ..Default::default()
        });
    }
    site
}

fn ev(id: &str, partner: &str, name: &str, at: &str, visitor: &str) -> Event {
    Event {
        id: id.into(),
        partner_code: partner.into(),
        campaign: "default".into(),
        event_name: name.into(),
        page_path: "/".into(),
        visitor_id: Some(visitor.into()),
        created_at: at.into(),
        value: None,
        user_id: None,
        variant: None,
        pay: PayBuf::default(),
    }
}

fn pay(id: &str, partner: &str, at: &str, visitor: &str, amount: i64) -> Event {
    let mut e = ev(id, partner, "payment", at, visitor);
    e.pay = PayBuf {
        amount_minor: Some(amount),
        currency: Some("usd".into()),
        stripe_event_id: Some(format!("evt_{id}")),
        stripe_object_id: Some(format!("cs_{id}")),
        stripe_customer_id: Some(format!("cus_{id}")),
        ..Default::default()
    };
    e
}

fn as_of() -> Ts {
    Ts::parse("2026-12-01T00:00:00Z").unwrap()
}

#[test]
fn a_click_burst_and_fast_conversions_hold_that_visitor_only() {
    let site = site();
    let mut events = Vec::new();
    for i in 0..holds::BURST_CLICKS {
        events.push(ev(
            &format!("c{i}"),
            "seo-consultant",
            "click",
            &format!("2026-10-01T10:00:{:02}.000Z", i * 2),
            "bursty",
        ));
    }
    events.push(pay(
        "p1",
        "seo-consultant",
        "2026-10-02T10:00:00.000Z",
        "bursty",
        1000,
    ));
    // Three conversions, each 5 s after a click of the same visitor.
    for (i, h) in ["11", "12", "13"].iter().enumerate() {
        events.push(ev(
            &format!("k{i}"),
            "founder-community",
            "click",
            &format!("2026-10-01T{h}:00:00.000Z"),
            "quick",
        ));
        let name = if i == 0 { "lead_magnet" } else { "activation" };
        events.push(ev(
            &format!("q{i}"),
            "founder-community",
            name,
            &format!("2026-10-01T{h}:00:05.000Z"),
            "quick",
        ));
    }
    events.push(ev(
        "l2",
        "founder-community",
        "lead_magnet",
        "2026-10-03T10:00:00.000Z",
        "calm",
    ));
    events.push(pay(
        "p2",
        "seo-consultant",
        "2026-10-02T11:00:00.000Z",
        "calm",
        1000,
    ));
    let l = compute(&site, &events, &[], as_of());
    let status = |id: &str| {
        let r = l
            .rows
            .iter()
            .find(|r| r.id == id)
            .unwrap_or_else(|| panic!("{id}"));
        (r.status, r.reason.split(':').next().unwrap().to_string())
    };
    assert_eq!(status("sale:cs_p1"), (Status::Held, "click_burst".into()));
    assert_eq!(
        status("lead:founder-community:quick"),
        (Status::Held, "fast_conversions".into())
    );
    assert_eq!(
        status("lead:founder-community:calm"),
        (Status::Due, String::new())
    );
    assert_eq!(status("sale:cs_p2"), (Status::Due, String::new()));
}

#[test]
fn a_refund_rate_far_above_the_programs_holds_the_partners_sales() {
    let site = site();
    let mut events = Vec::new();
    for i in 0..6 {
        let at = format!("2026-10-0{}T10:00:00.000Z", i + 1);
        events.push(pay(
            &format!("a{i}"),
            "seo-consultant",
            &at,
            &format!("va{i}"),
            1000,
        ));
        for j in 0..4 {
            events.push(pay(
                &format!("b{i}{j}"),
                "founder-community",
                &at,
                &format!("vb{i}{j}"),
                1000,
            ));
        }
        if i < 3 {
            let mut r = ev(&format!("r{i}"), "seo-consultant", "refund", &at, "x");
            r.pay = PayBuf {
                amount_minor: Some(-100),
                currency: Some("usd".into()),
                stripe_object_id: Some(format!("cs_a{i}")),
                ..Default::default()
            };
            events.push(r);
        }
    }
    // seo-consultant refunds 3 of 6 (50%); the program 3 of 30 (10%).
    let l = compute(&site, &events, &[], as_of());
    let a = l.rows.iter().find(|r| r.id == "sale:cs_a5").unwrap();
    assert_eq!(a.status, Status::Held);
    assert!(a.reason.starts_with("refund_rate: 3 of 6"), "{}", a.reason);
    let b = l.rows.iter().find(|r| r.id == "sale:cs_b00").unwrap();
    assert_eq!(b.status, Status::Due);
}

#[test]
fn payout_files_split_at_each_providers_row_limit() {
    let mut site = site();
    let template = site.partners[0].clone();
    let mut totals = Vec::new();
    for i in 0..(payout::PAYPAL_MAX_ROWS + payout::WISE_MAX_ROWS + 2) {
        let mut p = template.clone();
        p.code = format!("p{i:05}");
        p.payee = Some(Payee {
            paypal: (i <= payout::PAYPAL_MAX_ROWS).then(|| format!("p{i}@example.net")),
            wise_email: Some(format!("w{i}@example.net")),
            name: Some(format!("P {i}")),
            kind: None,
        });
        totals.push(payout::Total {
            partner: p.code.clone(),
            currency: "eur".into(),
            earnings: 1234,
            method: String::new(),
            rows: 1,
        });
        site.partners.push(p);
    }
    site.partners.sort_by(|a, b| a.code.cmp(&b.code));
    let lock = payout::Lock {
        batch: "2026-12-01".into(),
        date: "2026-12-01".into(),
        totals,
        rows: Vec::new(),
    };
    let files = payout::files(&site, &lock);
    let names: Vec<(&str, usize)> = files
        .iter()
        .map(|(n, t)| (n.as_str(), t.lines().count()))
        .collect();
    // 5,001 PayPal lines (no header) and 1,001 Wise transfers (a header in each file).
    assert_eq!(
        names,
        vec![
            ("paypal-eur-1.csv", 5000),
            ("paypal-eur-2.csv", 1),
            ("wise-eur-1.csv", 1001),
            ("wise-eur-2.csv", 2)
        ]
    );
    for l in files[0].1.lines() {
        let f: Vec<&str> = l.split(',').collect();
        assert_eq!(f.len(), 6, "{l}");
        assert_eq!(f[1..3], ["12.34", "EUR"]);
        assert_eq!(f[5], "PAYPAL");
    }
    assert!(files[3].1.starts_with("name,recipientEmail,"));
}

#[test]
fn the_same_input_gives_the_same_bytes_in_any_row_order() {
    let site = site();
    let mut events = vec![
        pay(
            "x1",
            "seo-consultant",
            "2026-10-01T10:00:00.000Z",
            "v1",
            4999,
        ),
        pay("x2", "founder-community", "2026-10-01 10:00:00", "v2", 1001),
        ev(
            "l1",
            "founder-community",
            "lead_magnet",
            "2026-10-01T09:00:00.000Z",
            "v2",
        ),
    ];
    let a = compute(&site, &events, &[], as_of()).to_csv();
    events.reverse();
    let b = compute(&site, &events, &[], as_of()).to_csv();
    assert_eq!(a, b);
    assert!(
        a.contains("sale:cs_x1,seo-consultant,sale,cs_x1,cus_x1,4999,usd,1000,usd,due"),
        "{a}"
    );
}

#[test]
fn csv_fields_are_quoted_and_formulas_defused() {
    assert_eq!(csv_field("a,b"), "\"a,b\"");
    assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    assert_eq!(csv_field("=cmd()"), "'=cmd()");
    assert_eq!(csv_field("-12.50"), "-12.50");
    assert_eq!(csv_field("-x"), "'-x");
}
