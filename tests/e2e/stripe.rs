//! Stripe webhooks into both collectors, signed with Stripe's own library: the Worker in
//! workerd (`wrangler dev`, local D1) and `serve` (SQLite) get the same deliveries and must
//! store the same rows.

use crate::support::serve::{Serve, BROWSER_UA};
use crate::support::stripe::{self, Money, SECRETS};
use crate::worker::{now, Collector};
use serde_json::{json, Value};
use std::io::Write;
use std::process::{Command, Stdio};

/// `Stripe-Signature` headers from `stripe.webhooks.generateTestHeaderString`, one per
/// `(payload, secret, timestamp)`.
fn stripe_headers(items: &[(&[u8], &str, i64)]) -> Vec<String> {
    let node = crate::tools::require_tool("node", "Node.js runs Stripe's library (npm `stripe`)");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js/stripe-sign.mjs");
    let input: Vec<Value> = items
        .iter()
        .map(
            |(p, s, t)| json!({"payload": String::from_utf8_lossy(p), "secret": s, "timestamp": t}),
        )
        .collect();
    let mut child = Command::new(node)
        .arg(script)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run node");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(&input).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "Stripe's library did not sign (is `stripe` installed? npm ci): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Sends one delivery (body, `Stripe-Signature`) and gives the status and text of the answer.
type Post<'a> = &'a dyn Fn(&[u8], &str) -> (u16, String);

/// What a collector must do with the deliveries, whatever it is: `post` sends one delivery,
/// `money` reads the payment and refund rows, `vid` is a visitor id the collector issued
/// through a partner link of seo-consultant.
fn deliveries(post: Post<'_>, money: &dyn Fn() -> Vec<Money>, vid: &str) {
    let t = now();
    let sale = stripe::event(
        "checkout.session.completed",
        &[
            ("/created", json!(t)),
            ("/data/object/client_reference_id", json!(vid)),
        ],
    );
    let renewal = stripe::event("invoice.paid", &[("/created", json!(t + 1))]);
    let refund = stripe::event("charge.refunded", &[("/created", json!(t + 2))]);
    let tampered = String::from_utf8(sale.clone())
        .unwrap()
        .replace("5880", "8880")
        .into_bytes();
    let h = stripe_headers(&[
        (&sale, SECRETS[1], now()),
        (&renewal, SECRETS[0], now()),
        (&refund, SECRETS[1], now()),
        (&sale, SECRETS[1], now()),
        (&refund, SECRETS[1], now() - 301),
    ]);
    // A tampered body (signed before the change) and a 301-second-old timestamp: 400, no row.
    let (status, text) = post(&tampered, &h[3]);
    assert_eq!(status, 400, "tampered: {text}");
    let (status, text) = post(&refund, &h[4]);
    assert_eq!(status, 400, "stale: {text}");
    assert_eq!(money(), vec![], "nothing stored for refused deliveries");
    // Three deliveries of each event (Stripe delivers at least once).
    for (body, header) in [(&sale, &h[0]), (&renewal, &h[1]), (&refund, &h[2])] {
        for i in 0..3 {
            let (status, text) = post(body, header);
            assert_eq!(status, 200, "delivery {i}: {text}");
        }
    }
    let rows = money();
    let got: Vec<(&str, &str, i64, &str, &str)> = rows
        .iter()
        .map(|m| {
            (
                m.partner.as_str(),
                m.kind.as_str(),
                m.amount,
                m.currency.as_str(),
                m.rule.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            // 5880 with 980 tax: 4900 net, by the visitor id passed as client_reference_id.
            ("seo-consultant", "payment", 4900, "eur", "visitor"),
            // The renewal of the same Stripe customer: total_excluding_tax.
            ("seo-consultant", "payment", 2000, "eur", "customer"),
            // Half of the charge refunded: half of the net, negative, pointing at the payment.
            ("seo-consultant", "refund", -2450, "eur", "visitor"),
        ]
    );
    assert_eq!(rows[2].object, rows[0].object);
    assert_eq!(rows[0].event, "evt_1QkSession0000000000001");

    // Coupons, a link/coupon disagreement (the link wins by default), a refund of a charge no
    // payment has, and bad input (nothing stored), signed by Stripe's library too.
    let session = |id: &str, edits: &[(&str, Value)]| {
        let mut all: Vec<(&str, Value)> = vec![
            ("/id", json!(format!("evt_{id}"))),
            ("/created", json!(t + 10)),
            ("/data/object/id", json!(format!("cs_{id}"))),
            ("/data/object/customer", json!(format!("cus_{id}"))),
            ("/data/object/payment_intent", json!(format!("pi_{id}"))),
            ("/data/object/client_reference_id", json!(null)),
        ];
        all.extend(edits.iter().cloned());
        stripe::event("checkout.session.completed", &all)
    };
    let coupon = session(
        "coupon",
        &[("/data/object/discounts", json!([{"coupon": "founders"}]))],
    );
    let disagree = session(
        "disagree",
        &[
            ("/data/object/client_reference_id", json!(vid)),
            (
                "/data/object/discounts",
                json!([{"promotion_code": {"id": "FOUNDERS"}}]),
            ),
        ],
    );
    let nobody = session("nobody", &[]);
    let unknown_refund = stripe::event(
        "charge.refunded",
        &[
            ("/id", json!("evt_unknown_refund")),
            ("/created", json!(t + 11)),
            ("/data/object/id", json!("ch_unknown")),
            ("/data/object/payment_intent", json!("pi_unknown")),
        ],
    );
    let bad_currency = session("badcur", &[("/data/object/currency", json!("zzz"))]);
    let fractional = session("frac", &[("/data/object/amount_total", json!(58.8))]);
    let h = stripe_headers(&[
        (&coupon, SECRETS[1], now()),
        (&disagree, SECRETS[1], now()),
        (&nobody, SECRETS[1], now()),
        (&unknown_refund, SECRETS[1], now()),
        (&bad_currency, SECRETS[1], now()),
        (&fractional, SECRETS[1], now()),
    ]);
    for (body, header) in [
        (&coupon, &h[0]),
        (&disagree, &h[1]),
        (&nobody, &h[2]),
        (&unknown_refund, &h[3]),
    ] {
        let (status, text) = post(body, header);
        assert_eq!(status, 200, "{text}");
    }
    for (body, header, why) in [
        (&bad_currency, &h[4], "unknown currency `zzz`"),
        (&fractional, &h[5], "amount_total"),
    ] {
        let (status, text) = post(body, header);
        assert_eq!(status, 400, "{text}");
        assert!(text.contains(why), "{text}");
    }
    let big = vec![b' '; 256 * 1024 + 1];
    let (status, text) = post(&big, &stripe_headers(&[(&big, SECRETS[1], now())])[0]);
    assert_eq!(status, 400, "{text}");
    let rest: Vec<(String, String, i64, String)> = money()[3..]
        .iter()
        .map(|m| (m.partner.clone(), m.kind.clone(), m.amount, m.rule.clone()))
        .collect();
    let s = |x: &str| x.to_string();
    assert_eq!(
        rest,
        vec![
            (s("founder-community"), s("payment"), 4900, s("coupon")),
            (
                s("seo-consultant"),
                s("payment"),
                4900,
                s("visitor_over_coupon")
            ),
            (s(""), s("payment"), 4900, s("none")),
            (s(""), s("refund"), -2940, s("unknown_charge")),
        ]
    );
}

#[test]
fn worker_and_serve_store_stripe_events_signed_by_stripes_library_once() {
    // The Worker, in workerd with local D1.
    let c = Collector::start_in(stripe::site("link"));
    let click = c.request(
        "GET",
        "/go/seo-consultant",
        &[("User-Agent", BROWSER_UA)],
        b"",
    );
    assert_eq!(click.status, 302);
    let vid = click
        .header_all("set-cookie")
        .iter()
        .find_map(|v| v.strip_prefix("pp_vid=").and_then(|r| r.split(';').next()))
        .expect("a visitor cookie")
        .to_string();
    c.rows_at_least(1);
    // The page reads the visitor id from GET /stripe (the cookie is HttpOnly).
    let cookie = format!("pp_vid={vid}");
    let mine = c.request("GET", "/stripe", &[("Cookie", &cookie)], b"");
    assert_eq!(mine.status, 200);
    let v: Value = serde_json::from_str(mine.text()).unwrap();
    assert_eq!(v, json!({ "visitor_id": vid }));
    let post = |body: &[u8], header: &str| {
        let r = c.request(
            "POST",
            "/stripe",
            &[
                ("Stripe-Signature", header),
                ("Content-Type", "application/json"),
            ],
            body,
        );
        (r.status, r.text().to_string())
    };
    let money = || {
        c.query("SELECT partner_code, event_name, amount_minor, currency, stripe_event_id, stripe_object_id, attribution_rule FROM partner_events WHERE event_name IN ('payment', 'refund') ORDER BY created_at, rowid")
            .iter()
            .map(|r| Money {
                partner: r["partner_code"].as_str().unwrap().into(),
                kind: r["event_name"].as_str().unwrap().into(),
                amount: r["amount_minor"].as_i64().unwrap(),
                currency: r["currency"].as_str().unwrap().into(),
                event: r["stripe_event_id"].as_str().unwrap().into(),
                object: r["stripe_object_id"].as_str().map(String::from),
                rule: r["attribution_rule"].as_str().unwrap().into(),
            })
            .collect()
    };
    deliveries(&post, &money, &vid);
    drop(c);

    // `serve`, on the same deliveries.
    let site = stripe::site("link");
    let secrets = site.path().join("stripe-secrets.txt");
    std::fs::write(&secrets, SECRETS.join(",")).unwrap();
    let arg = secrets.display().to_string();
    let s = Serve::start_in(site, &["--no-watch", "--stripe-secret-file", &arg], true);
    let click = s.get("/go/seo-consultant", &[("User-Agent", BROWSER_UA)]);
    let vid = click
        .cookie_header()
        .split("; ")
        .find_map(|c| c.strip_prefix("pp_vid="))
        .expect("a visitor cookie")
        .to_string();
    let post = |body: &[u8], header: &str| {
        let r = s.send(
            "POST",
            "/stripe",
            &[
                ("Stripe-Signature", header),
                ("Content-Type", "application/json"),
            ],
            body,
        );
        (r.status, r.text())
    };
    let money = || stripe::money(&s.db);
    deliveries(&post, &money, &vid);

    // The JSON that carries revenue validates against the committed schemas.
    let day = |secs: i64| {
        chrono::DateTime::from_timestamp(secs, 0)
            .unwrap()
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    };
    let (since, until) = (day(now() - 86_400), day(now() + 86_400));
    for (args, schema, field) in [
        (vec!["report"], "report.schema.json", "revenue"),
        (
            vec!["report", "--for-partner", "--partner", "seo-consultant"],
            "partner-report.schema.json",
            "revenue",
        ),
        (
            vec!["leads", "--stage", "click"],
            "leads.schema.json",
            "paid",
        ),
    ] {
        let out = Command::new(crate::support::bin())
            .arg("--root")
            .arg(s.site.path())
            .args(&args)
            .arg("--events")
            .arg(&s.db)
            .args([
                "--since", &since, "--until", &until, "--now", &until, "--format", "json",
            ])
            .env_remove("PARTNER_PAGES_ROOT")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains(&format!("\"{field}\"")), "{text}");
        crate::tools::assert_valid_json(schema, &text);
    }
    // The HTML reports with their revenue sections pass the Nu checker.
    let mut pages = Vec::new();
    for (name, args) in [
        ("team.html", vec!["report"]),
        (
            "partner.html",
            vec!["report", "--for-partner", "--partner", "seo-consultant"],
        ),
    ] {
        let out = Command::new(crate::support::bin())
            .arg("--root")
            .arg(s.site.path())
            .args(&args)
            .arg("--events")
            .arg(&s.db)
            .args([
                "--since", &since, "--until", &until, "--now", &until, "--format", "html",
            ])
            .env_remove("PARTNER_PAGES_ROOT")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let html = String::from_utf8(out.stdout).unwrap();
        assert!(
            html.contains("Revenue (Stripe)") || html.contains("payments</h2>"),
            "{html}"
        );
        let file = s.site.path().join(name);
        std::fs::write(&file, html).unwrap();
        pages.push(file);
    }
    crate::tools::assert_nu_clean(&pages);
}
