//! The weekly workflow's report step with reward rules: it writes the commission ledger and the
//! payout batch, and Python's `csv` module reads the PayPal and Wise files with each provider's
//! documented columns (a payee name with a comma survives the quoting).

use crate::support::{self, example_site};
use crate::tools::require_tool;
use std::process::Command;

#[test]
fn the_weekly_step_writes_the_ledger_and_payout_files_python_reads() {
    require_tool(
        "jq",
        "jq (apt-get install jq), as on GitHub's ubuntu runners",
    );
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(support::bin())
        .arg("init")
        .arg(dir.path().join("fresh"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let workflow = support::read(
        dir.path()
            .join("fresh/.github/workflows/partner-report.yml"),
    );
    let script = crate::weekly::step_script(&workflow, "Write the report and the calendar")
        .replace(
            "--events \"d1:$D1_DATABASE\"",
            "--events \".partner-pages/cache/d1-$D1_DATABASE.sqlite\"",
        );

    let site = support::copy_site(&example_site());
    let root = site.path();
    let append = |file: &str, text: &str| {
        let p = root.join(file);
        let mut t = std::fs::read_to_string(&p).unwrap();
        t.push_str(text);
        std::fs::write(&p, t).unwrap();
    };
    append(
        "partner-pages.yaml",
        "reward:\n  sale: 10%\n  hold_days: 30\n  minimum_payout: \"1\"\n  currency: usd\n",
    );
    append(
        "partners/seo-consultant.yaml",
        "payee:\n  paypal: ana@example.net\n",
    );
    append(
        "partners/founder-community.yaml",
        "payee:\n  wise_email: bo@example.org\n  name: \"Payee, Bo\"\n  kind: business\n",
    );
    let cache = root.join(".partner-pages/cache/d1-partner-events.sqlite");
    std::fs::create_dir_all(cache.parent().unwrap()).unwrap();
    let conn = rusqlite::Connection::open(&cache).unwrap();
    conn.execute_batch(partner_pages::events::SCHEMA_SQL)
        .unwrap();
    partner_pages::events::add_missing_columns(&conn).unwrap();
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    for (i, (code, amount)) in [
        ("seo-consultant", 4900),
        ("seo-consultant", 9900),
        ("founder-community", 12345),
    ]
    .into_iter()
    .enumerate()
    {
        let at =
            partner_pages::events::Ts(now_ms - 60 * 86_400_000 + i as i64 * 60_000).to_string();
        conn.execute(
            "INSERT INTO partner_events (id, partner_code, campaign, event_name, page_path, visitor_id, \
             created_at, amount_minor, currency, stripe_event_id, stripe_object_id, stripe_customer_id, \
             attribution_rule) VALUES (?1, ?2, 'default', 'payment', '/stripe', ?3, ?4, ?5, 'usd', ?6, ?7, ?8, 'visitor')",
            rusqlite::params![format!("r{i}"), code, format!("v{i}"), at, amount, format!("evt_{i}"), format!("cs_{i}"), format!("cus_{i}")],
        )
        .unwrap();
    }
    drop(conn);
    let path = format!(
        "{}:{}",
        support::bin().parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let github_output = dir.path().join("github-output");
    let out = Command::new("bash")
        .args(["-eo", "pipefail", "-c", &script])
        .current_dir(root)
        .env("PATH", path)
        .env("D1_DATABASE", "partner-events")
        .env("GITHUB_OUTPUT", &github_output)
        .env_remove("PARTNER_PAGES_ROOT")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the step failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let day = support::read(&github_output)
        .trim()
        .strip_prefix("day=")
        .unwrap()
        .to_string();
    let batch = root.join("ledger/payouts").join(&day);
    assert!(root
        .join(format!("ledger/payouts/{day}.lock.json"))
        .is_file());

    let py = r#"
import csv, json, sys
rows = lambda p: list(csv.reader(open(p, newline="")))
ledger = list(csv.DictReader(open(sys.argv[3], newline="")))
print(json.dumps({"paypal": rows(sys.argv[1]), "wise": rows(sys.argv[2]),
                  "ledger": [[r["id"], r["earnings"], r["status"], r["batch"]] for r in ledger]}))
"#;
    let out = Command::new("python3")
        .args(["-c", py])
        .arg(batch.join("paypal-usd.csv"))
        .arg(batch.join("wise-usd.csv"))
        .arg(root.join("ledger/commissions.csv"))
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // PayPal Payouts: no header; recipient, amount, currency, customer id, note, wallet.
    assert_eq!(
        v["paypal"],
        serde_json::json!([[
            "ana@example.net",
            "14.80",
            "USD",
            format!("{day}-seo-consultant"),
            format!("Partner earnings for batch {day}"),
            "PAYPAL"
        ]])
    );
    // Wise "send by email": the template's header, then the transfer.
    assert_eq!(
        v["wise"],
        serde_json::json!([
            [
                "name",
                "recipientEmail",
                "paymentReference",
                "receiverType",
                "amountCurrency",
                "amount",
                "sourceCurrency",
                "targetCurrency"
            ],
            [
                "Payee, Bo",
                "bo@example.org",
                format!("Earnings {day}"),
                "BUSINESS",
                "target",
                "12.35",
                "USD",
                "USD"
            ]
        ])
    );
    assert_eq!(
        v["ledger"],
        serde_json::json!([
            ["sale:cs_0", "490", "paid", day],
            ["sale:cs_1", "990", "paid", day],
            ["sale:cs_2", "1235", "paid", day]
        ])
    );
}
