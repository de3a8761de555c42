//! Render stage, beacon: the tiny script that reports funnel events to the collector.
//!
//! Takes: the site (config + partner registry). Gives: one [`Beacon`] for the whole site, so
//! every page carries the same bytes and the same CSP hash, and [`public_files`], the same
//! script as `public/pp-beacon.js` for host-site pages.
//!
//! Page contract (templates and host pages):
//! - landing pages put the partner on the script tag: `<script data-partner="<code>">`; only
//!   such pages send `visit` (a landing page view);
//! - buttons carry `data-pp="lead_magnet"` or `data-pp="cta"`;
//! - an element that triggers a `click:` activation carries `data-pp-click="<name>"`;
//! - `page:` activations are sent when the page path matches a trigger page (trailing `/`
//!   ignored);
//! - host-site pages (e.g. `/pricing`) load [`HOST_SCRIPT_PATH`] with [`host_snippet`]; without
//!   `data-partner` the collector takes the partner from the attribution cookie.
//!
//! The wire format is in [`crate::collector`]. The script never throws (everything is in
//! `try`), never blocks (one `sendBeacon`, falling back to a `keepalive` fetch) and, when the
//! config says so, sends nothing under Do-Not-Track or Global Privacy Control.

use crate::output::OutputFile;
use crate::site::Site;
use std::collections::BTreeSet;

/// Where the host-page copy of the beacon is written, relative to `public/`.
pub const HOST_SCRIPT_PATH: &str = "pp-beacon.js";

/// Budget for the gzipped beacon (the best-known peers are about 1.7 KB gzip).
pub const GZIP_BUDGET: usize = 600;

/// The inline beacon and its Content-Security-Policy source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Beacon {
    /// JavaScript to inline in a `<script>` element (no `</script>` inside).
    pub js: String,
    /// CSP source for it, e.g. `'sha256-...'`.
    pub csp_hash: String,
}

/// The script, with `@U@` (endpoint), `@P@` (page triggers), `@K@` (click names) and `@D@`
/// (the privacy opt-out test) filled in by [`beacon`]. Hand-minified: every byte counts
/// against [`GZIP_BUDGET`].
///
/// `i` is the page id (`crypto.randomUUID()`, made once per page load, sent as `v` in every
/// event): on a direct visit the collector adopts it as the visitor id while there is no
/// visitor cookie yet, so a click sent before the first answer does not split the journey.
/// `f(e,n)` sends one event; the click listener runs in the capture phase so a page handler
/// that stops propagation cannot hide a conversion.
const TEMPLATE: &str = concat!(
    "(function(){try{",
    "var d=document,s=d.currentScript,p=s&&s.getAttribute('data-partner'),n=navigator,l=location,",
    "U=@U@,P=@P@,K=@K@,u=l.pathname,c=new URLSearchParams(l.search).get('campaign'),",
    "i=crypto.randomUUID&&crypto.randomUUID();",
    "if(@D@)return;",
    "function f(e,k){try{var o={e:e,u:u,v:i};p&&(o.p=p);c&&(o.c=c);k&&(o.n=k);o=JSON.stringify(o);",
    "n.sendBeacon&&n.sendBeacon(U,o)||fetch(U,{method:'POST',body:o,keepalive:!0,credentials:'same-origin'})",
    "}catch(x){}}",
    "p&&f('visit');",
    "P.indexOf(u.replace(/(.)\\/$/,'$1'))<0||f('activation');",
    "d.addEventListener('click',function(v){try{",
    "var a=v.target.closest('[data-pp],[data-pp-click]'),k;if(!a)return;",
    "k=a.getAttribute('data-pp');",
    "k?/^(lead_magnet|cta)$/.test(k)&&f(k):K.indexOf(k=a.getAttribute('data-pp-click'))<0||f('activation',k)",
    "}catch(x){}},!0)",
    "}catch(x){}})()",
);

/// The site's beacon.
pub fn beacon(site: &Site) -> Beacon {
    let pages: BTreeSet<String> = site
        .partners
        .iter()
        .filter_map(|p| p.activation.trigger.page.as_deref())
        .map(trim_trailing_slash)
        .collect();
    let clicks: BTreeSet<&str> = site
        .partners
        .iter()
        .filter_map(|p| p.activation.trigger.click.as_deref())
        .collect();
    let privacy = &site.config.privacy;
    let opt_out = match (privacy.honor_dnt, privacy.honor_gpc) {
        (true, true) => "n.doNotTrack=='1'||n.globalPrivacyControl",
        (true, false) => "n.doNotTrack=='1'",
        (false, true) => "n.globalPrivacyControl",
        (false, false) => "0",
    };
    let js = TEMPLATE
        .replace("@U@", &script_json(&site.config.collector.endpoint))
        .replace("@P@", &script_json(&pages))
        .replace("@K@", &script_json(&clicks))
        .replace("@D@", opt_out);
    let csp_hash = csp_sha256(&js);
    Beacon { js, csp_hash }
}

/// `public/pp-beacon.js`: the same script for host-site pages (see [`host_snippet`]).
pub fn public_files(beacon: &Beacon) -> Vec<OutputFile> {
    vec![OutputFile::new(HOST_SCRIPT_PATH, beacon.js.as_bytes())]
}

/// The one line a host-site page (e.g. `/pricing`) adds to report activations and clicks.
pub fn host_snippet(site: &Site) -> String {
    format!(
        "<script src=\"{}\" defer></script>",
        site.config.site_url(&format!("/{HOST_SCRIPT_PATH}"))
    )
}

/// `'sha256-<base64>'` of a script body, as CSP `script-src` expects.
pub fn csp_sha256(js: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    let digest = sha2::Sha256::digest(js.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// JSON for a value embedded in a `<script>` or a JS source: `<` (so no `</script>` or
/// `<!--`), U+2028 and U+2029 (line terminators in older JS) are escaped.
pub fn script_json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    let json = serde_json::to_string(value).unwrap_or_else(|_| "null".into());
    json.replace('<', "\\u003c")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

fn trim_trailing_slash(path: &str) -> String {
    if path.len() > 1 {
        path.trim_end_matches('/').to_string()
    } else {
        path.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn example_site() -> Site {
        crate::site::load(
            Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/aikit")),
            &Default::default(),
        )
        .expect("the example site loads")
    }

    /// Size of the beacon after gzip (level 9), the figure the budget is about.
    fn gzip_len(js: &str) -> usize {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(js.as_bytes()).unwrap();
        enc.finish().unwrap().len()
    }

    #[test]
    fn beacon_fits_the_gzip_budget() {
        let b = beacon(&example_site());
        let size = gzip_len(&b.js);
        assert!(
            size <= GZIP_BUDGET,
            "beacon is {size} B gzip, budget {GZIP_BUDGET} B"
        );
    }

    #[test]
    fn trigger_pages_and_click_names_are_compiled_in() {
        let b = beacon(&example_site());
        assert!(b.js.contains(r#"P=["/pricing"]"#), "{}", b.js);
        assert!(b.js.contains(r#"K=["copy-snippet"]"#), "{}", b.js);
        assert!(b.js.contains(r#"U="/e""#), "{}", b.js);
    }

    #[test]
    fn privacy_switches_decide_the_opt_out_test() {
        let mut site = example_site();
        assert!(beacon(&site)
            .js
            .contains("if(n.doNotTrack=='1'||n.globalPrivacyControl)"));
        site.config.privacy.honor_dnt = false;
        site.config.privacy.honor_gpc = false;
        let js = beacon(&site).js;
        assert!(js.contains("if(0)return"));
        assert!(!js.contains("doNotTrack"));
    }

    #[test]
    fn hostile_registry_strings_cannot_close_the_script() {
        let mut site = example_site();
        site.partners[0].activation.trigger.page = Some("/a</script><script>alert(1)//".into());
        site.partners[0].activation.trigger.click = Some("x\u{2028}y".into());
        site.config.collector.endpoint = "/e<!--".into();
        let js = beacon(&site).js;
        assert!(!js.to_ascii_lowercase().contains("</script"), "{js}");
        assert!(!js.contains("<!--"), "{js}");
        assert!(!js.contains('\u{2028}'), "{js}");
        assert!(js.contains(r"/a\u003c/script>"), "{js}");
    }

    #[test]
    fn csp_hash_is_the_sha256_of_the_exact_script() {
        let b = beacon(&example_site());
        assert_eq!(b.csp_hash, csp_sha256(&b.js));
        assert!(b.csp_hash.starts_with("'sha256-") && b.csp_hash.ends_with('\''));
        assert_ne!(b.csp_hash, csp_sha256(&format!("{} ", b.js)));
    }

    #[test]
    fn beacon_is_deterministic_and_the_host_file_carries_the_same_bytes() {
        let site = example_site();
        let files = public_files(&beacon(&site));
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].path, "pp-beacon.js");
        assert_eq!(files[0].bytes, beacon(&site).js.into_bytes());
        assert_eq!(beacon(&site), beacon(&site));
    }

    #[test]
    fn host_snippet_points_at_the_file_under_the_base_path() {
        let mut site = example_site();
        assert_eq!(
            host_snippet(&site),
            r#"<script src="/pp-beacon.js" defer></script>"#
        );
        site.config.base_url = "https://example.com/partners".into();
        assert_eq!(
            host_snippet(&site),
            r#"<script src="/partners/pp-beacon.js" defer></script>"#
        );
    }
}
