//! The collector agreement cases (`tests/fixtures/collector/*.json`): what both collectors must
//! answer alike. The plain tier checks the Rust rules against them (`tests/it/reliability.rs`),
//! the e2e tier the Worker under workerd (`tests/e2e/worker.rs`). `INSTA_UPDATE=always` rewrites
//! their expectations from the Rust rules (review the diff before committing).

use partner_pages::collector::{cookies, registry, requests, rows};
use serde_json::{json, Value};
use std::path::PathBuf;

/// The secret the `/s` cases are signed with (both collectors run with it in the e2e tier).
pub(crate) const SIGNING_SECRET: &str = "test-signing-secret";

/// The file `tests/fixtures/collector/<name>.json` and its content.
pub(crate) fn fixture(name: &str) -> (PathBuf, Value) {
    let path = super::repo_root()
        .join("tests/fixtures/collector")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    (path, value)
}

/// Writes `value` back to `path` (with `INSTA_UPDATE=always`).
pub(crate) fn bless(path: &std::path::Path, value: &Value) {
    let mut text = serde_json::to_string_pretty(value).unwrap();
    text.push('\n');
    std::fs::write(path, text).unwrap();
}

/// A case's body as bytes: `{{s*N}}` is `s` N times, `{{s*fill:N}}` pads with `s` (one byte)
/// so the body is N bytes in all, `{{hex:ff}}` is that raw byte; every `@` becomes `marker`.
pub(crate) fn expand(body: &str, marker: &str) -> Vec<u8> {
    let body = body.replace('@', marker);
    let mut out: Vec<u8> = Vec::new();
    let mut fill: Option<(u8, usize, usize)> = None;
    let mut rest = body.as_str();
    while let Some(i) = rest.find("{{") {
        out.extend_from_slice(&rest.as_bytes()[..i]);
        let end = i + rest[i..].find("}}").expect("a closing }}");
        let inner = &rest[i + 2..end];
        if let Some(hex) = inner.strip_prefix("hex:") {
            out.push(u8::from_str_radix(hex, 16).expect("a hex byte"));
        } else {
            let (s, n) = inner.rsplit_once('*').expect("{{s*N}}");
            if let Some(total) = n.strip_prefix("fill:") {
                assert_eq!(s.len(), 1, "fill with one byte");
                fill = Some((s.as_bytes()[0], total.parse().unwrap(), out.len()));
            } else {
                out.extend(s.repeat(n.parse().unwrap()).bytes());
            }
        }
        rest = &rest[end + 2..];
    }
    out.extend_from_slice(rest.as_bytes());
    if let Some((byte, total, at)) = fill {
        let n = total.saturating_sub(out.len());
        out.splice(at..at, std::iter::repeat_n(byte, n));
        assert_eq!(out.len(), total, "a body too long to fill to {total}");
    }
    out
}

/// The example site's registry, as the local collector compiles it.
pub(crate) fn example_registry() -> registry::Registry {
    let site =
        partner_pages::load(&super::example_site(), &Default::default()).expect("site loads");
    registry::Registry::from_site(&site)
}

/// What the Rust rules answer a beacon `body` with `cookie`: `{status, row, vid_cookie}`, the
/// row `[stage, partner, campaign, page path, visitor id or null for a fresh one]`.
pub(crate) fn beacon_answer(reg: &registry::Registry, body: &[u8], cookie: Option<&str>) -> Value {
    let jar = cookies::parse_cookies(cookie, "pp");
    match requests::beacon(reg, body, &jar, || "new".into()) {
        Ok(rows::BeaconOutcome::Record(a)) => json!({
            "status": 204,
            "row": [a.stage, a.partner, a.campaign, a.page_path,
                    (a.visitor_id != "new").then_some(a.visitor_id)],
            "vid_cookie": a.set.vid,
        }),
        Ok(rows::BeaconOutcome::Ignore) => json!({"status": 204, "row": null, "vid_cookie": false}),
        Err(r) => json!({"status": r.status(), "row": null, "vid_cookie": false}),
    }
}

/// A signed `/s` request: the body, the timestamp header and the signature header, for a
/// signature `change` (see server.json) of a good one made at `now`.
pub(crate) fn signed(body: &str, change: &str, now: i64) -> (String, String, Option<String>) {
    let sign = |ts: i64, b: &str| requests::sign(SIGNING_SECRET.as_bytes(), ts, b.as_bytes());
    let good = sign(now, body);
    let ts = now.to_string();
    match change {
        "good" => (body.into(), ts, Some(good)),
        "upper" => (body.into(), ts, Some(good.to_uppercase())),
        "none" => (body.into(), ts, None),
        "short" => (body.into(), ts, Some(good[..62].into())),
        "not-hex" => (body.into(), ts, Some(format!("{}zz", &good[..62]))),
        "timestamp-not-a-number" => (body.into(), format!("{ts}x"), Some(good)),
        "stale" => (
            body.into(),
            (now - 301).to_string(),
            Some(sign(now - 301, body)),
        ),
        "future" => (
            body.into(),
            (now + 600).to_string(),
            Some(sign(now + 600, body)),
        ),
        "body-changed" => (format!("{body} "), ts, Some(good)),
        other => panic!("unknown signature change {other}"),
    }
}

/// What the Rust rules answer a `/s` request: `{status, row}`, the row `[stage, campaign, page
/// path, visitor id, value, user id]`.
pub(crate) fn server_answer(
    reg: &registry::Registry,
    body: &[u8],
    ts: &str,
    sig: Option<&str>,
    now: i64,
) -> Value {
    let r = requests::verify_signature(Some(SIGNING_SECRET.as_bytes()), Some(ts), sig, body, now)
        .and_then(|()| requests::server_event(reg, body));
    match r {
        Ok(a) => json!({
            "status": 204,
            "row": [a.stage, a.campaign, a.page_path, a.visitor_id, a.value, a.user_id],
        }),
        Err(r) => json!({"status": r.status(), "row": null}),
    }
}

/// Unix seconds now.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}
