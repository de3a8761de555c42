//! reliability end to end with external programs (the opt-in tier, `cargo test --test e2e`).
//! Reliability suite: crashes, hostile requests and broken inputs, with the real binary, a real
//! SQLite file and raw HTTP over loopback. Complements `serve.rs` (kill -9 of serve, traversal,
//! refusals), `worker.rs` and `check.rs`; this file covers what those do not.

use crate::support::serve::BROWSER_UA;

mod hostile_fields {
    use crate::support;
    use proptest::prelude::*;
    use std::path::Path;
    use std::process::Command;

    /// Text made of pieces that break HTML, Markdown, JSON and JavaScript when not escaped.
    fn hostile() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("<x-evil>".to_string()),
            Just("</script><x-evil>".to_string()),
            Just("\" x-evil=\"1".to_string()),
            Just("' x-evil='1".to_string()),
            Just("\n# x-evil heading".to_string()),
            Just("\n- [x-evil](https://evil.example)".to_string()),
            Just("{{ x }}{% if %}".to_string()),
            Just("&amp;&#x3c;".to_string()),
            Just("]]>-->".to_string()),
            Just("\u{2028}\u{2029}".to_string()),
            Just("`${x}`\\".to_string()),
            Just("*/ x-evil /*".to_string()),
            "[^\u{0}-\u{1f}\u{7f}]{0,12}",
            "[a-zA-Z ]{1,10}",
        ];
        proptest::collection::vec(piece, 1..6).prop_map(|v| format!("A {}", v.concat()))
    }

    fn q(s: &str) -> String {
        serde_json::to_string(s).unwrap()
    }

    fn partner_yaml(f: &[String; 10], page: &str) -> String {
        format!(
            "name: {}\ncode: acme\naudience: {}\npromise: {}\ncampaigns: [default, launch]\n\
             landing:\n  headline: {}\n  proof: {}\nlead_magnet: {{ label: {}, url: /get/ }}\n\
             cta: {{ label: {}, kind: demo, url: /demo }}\nactivation:\n  event: runs_audit\n  \
             description: {}\n  trigger: {{ page: {} }}\ncommission: {}\n",
            q(&f[0]),
            q(&f[1]),
            q(&f[2]),
            q(&f[3]),
            q(&f[4]),
            q(&f[5]),
            q(&f[6]),
            q(&f[7]),
            q(page),
            q(&f[8]),
        )
    }

    fn check_site(root: &Path) -> Result<(), TestCaseError> {
        let site = match partner_pages::site::load(root, &Default::default()) {
            Ok(s) => s,
            // Refused with diagnostics (YAML forbids C1 controls, say): nothing to escape.
            Err(_) => return Ok(()),
        };
        let acme = site.partner("acme").expect("acme loaded").clone();
        // The generated links point at pages this site lacks; the link check has its own tests,
        // this one is about escaping.
        let opts = partner_pages::build::BuildOptions {
            skip_link_check: true,
            ..Default::default()
        };
        let report = partner_pages::build::build(root, &opts);
        prop_assert!(report.is_ok(), "a loaded site builds: {:?}", report.err());
        let public = root.join("public");
        for page in [
            "public/p/acme/index.html",
            "kits/acme/index.html",
            "public/index.html",
        ] {
            let html = std::fs::read_to_string(root.join(page))
                .map_err(|e| TestCaseError::fail(format!("{page}: {e}")))?;
            for bad in ["<x-evil", "\" x-evil=", "' x-evil=", "</script><x-evil"] {
                prop_assert!(!html.contains(bad), "{page} contains raw {bad:?}");
            }
        }
        // partners.json: valid JSON holding the loaded strings exactly.
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(public.join("partners.json")).unwrap())
                .map_err(|e| TestCaseError::fail(format!("partners.json: {e}")))?;
        let entry = json["partners"]
            .as_array()
            .and_then(|a| a.iter().find(|p| p["code"] == "acme"))
            .cloned()
            .unwrap_or_default();
        prop_assert_eq!(entry["name"].as_str(), Some(acme.name.as_str()));
        // llms.txt: hostile text never starts a heading or a link line of its own.
        for file in ["llms.txt", "llms-full.txt"] {
            let text = std::fs::read_to_string(public.join(file)).unwrap_or_default();
            for line in text.lines() {
                prop_assert!(
                    !line.trim_start().starts_with("# x-evil")
                        && !line.trim_start().starts_with("- [x-evil]"),
                    "{file} line injected: {line:?}"
                );
            }
        }
        // The Worker: valid JavaScript whose registry reads back as the page trigger.
        let worker = root.join("collector/worker.js");
        let node = crate::tools::require_tool("node", "Node.js");
        let out = Command::new(node)
            .arg("--check")
            .arg(&worker)
            .output()
            .unwrap();
        prop_assert!(
            out.status.success(),
            "node --check worker.js: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let src = std::fs::read_to_string(&worker).unwrap();
        let line = src
            .lines()
            .find_map(|l| l.strip_prefix("const R = "))
            .and_then(|l| l.strip_suffix(';'))
            .expect("registry line in worker.js");
        let reg: serde_json::Value = serde_json::from_str(line)
            .map_err(|e| TestCaseError::fail(format!("registry is not JSON: {e}")))?;
        prop_assert_eq!(
            reg["partners"]["acme"]["page"].as_str(),
            acme.activation.trigger.page.as_deref()
        );
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn hostile_strings_in_every_partner_field_are_escaped_in_pages_json_llms_and_worker(
            f in proptest::array::uniform10(hostile()),
            page in prop_oneof![Just("/welcome".to_string()), "/[a-z\"'<>\\\\`$]{1,12}"],
        ) {
            let dir = tempfile::tempdir().unwrap();
            let root = dir.path();
            std::fs::create_dir_all(root.join("partners")).unwrap();
            std::fs::write(
                root.join("partner-pages.yaml"),
                std::fs::read(support::example_site().join("partner-pages.yaml")).unwrap(),
            ).unwrap();
            std::fs::write(root.join("partners/acme.yaml"), partner_yaml(&f, &page)).unwrap();
            check_site(root)?;
        }
    }
}

#[test]
fn worker_refuses_header_injection_open_redirects_and_forged_signatures() {
    use crate::worker::{now as wnow, Collector, SECRET as WSECRET};
    let c = Collector::start(|_| {});
    let ua = ("User-Agent", BROWSER_UA);
    let registered = [
        "/p/ai-tools-directory/",
        "/p/founder-community/",
        "/p/nocode-agency/",
        "/p/seo-consultant/",
    ];
    let mut clicks = 0;
    for path in [
        "/go/seo-consultant?campaign=x%0d%0aX-Injected:%201",
        "/go/seo-consultant?campaign=%0d%0aSet-Cookie:%20evil=1",
        "/go/seo-consultant%0d%0aX-Injected:%201",
        "/go/%2F%2Fevil.example",
        "/go/https:%2F%2Fevil.example",
        "/go/seo-consultant?campaign=//evil",
        "/go/seo-consultant?campaign=https://evil.example",
        "/go/..%2F..",
        "/go/%2e%2e%2f%2e%2e",
        "/go/seo-consultant%2F..%2F..%2F%2Fevil.example",
    ] {
        let r = c.request("GET", path, &[ua], b"");
        clicks += usize::from(r.status == 302);
        for (k, v) in &r.headers {
            assert!(
                !k.to_ascii_lowercase().starts_with("x-injected")
                    && !v.to_ascii_lowercase().contains("x-injected"),
                "{path}: injected header {k}: {v}"
            );
        }
        for cookie in r.header_all("set-cookie") {
            assert!(
                !cookie.to_ascii_lowercase().starts_with("evil"),
                "{path}: {cookie}"
            );
        }
        if (300..400).contains(&r.status) {
            let loc = r.header_all("location").first().copied().unwrap_or("");
            assert!(
                registered.iter().any(|l| loc == *l
                    || loc.starts_with(&format!("{l}?campaign="))
                        && !loc[l.len()..].contains("//")),
                "{path} redirected to {loc}"
            );
        }
    }
    let body = r#"{"event":"activation","partner":"seo-consultant","visitor_id":"v-1"}"#;
    let other =
        r#"{"event":"revenue","partner":"seo-consultant","visitor_id":"v-1","value":1000000}"#;
    let ts = wnow();
    let sign = |t: i64, b: &str| {
        partner_pages::collector::requests::sign(WSECRET.as_bytes(), t, b.as_bytes())
    };
    for (what, t, sig) in [
        ("signature of another body", ts, sign(ts, body)),
        ("signature of another timestamp", ts + 1, sign(ts, other)),
        (
            "dated an hour in the future",
            ts + 3600,
            sign(ts + 3600, other),
        ),
        (
            "replayed from an hour ago",
            ts - 3600,
            sign(ts - 3600, other),
        ),
    ] {
        let t = t.to_string();
        let r = c.request(
            "POST",
            "/s",
            &[("X-PP-Timestamp", &t), ("X-PP-Signature", &sig)],
            other.as_bytes(),
        );
        assert_eq!(r.status, 401, "{what}");
    }
    // A genuine event after the refusals, then the table holds exactly the clicks that were
    // accepted plus that one event: the forged ones wrote nothing.
    let r = c.signed(other, wnow(), WSECRET);
    assert_eq!(r.status, 204);
    let rows = c.rows_at_least(clicks + 1);
    assert_eq!(rows.len(), clicks + 1, "{rows:?}");
    assert!(
        rows.iter().all(|r| r["partner_code"] == "seo-consultant"
            && (r["event_name"] == "click" || r["event_name"] == "revenue")),
        "{rows:?}"
    );
    assert_eq!(
        rows.iter().filter(|r| r["event_name"] == "revenue").count(),
        1,
        "{rows:?}"
    );
}
