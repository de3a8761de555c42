//! Render stage, beacon: the tiny inline script that reports funnel events to the collector.
//!
//! Takes: the site (config + partner registry). Gives: one [`Beacon`] for the whole site, so
//! every page carries the same bytes and the same CSP hash.
//!
//! Page contract (templates and host pages):
//! - landing pages put the partner on the script tag: `<script data-partner="<code>">`;
//! - buttons carry `data-pp="lead_magnet"` or `data-pp="cta"`;
//! - an element that triggers a `click:` activation carries `data-pp-click="<name>"`;
//! - `page:` activations are sent when the page path matches a trigger page.

use crate::site::Site;

/// The inline beacon and its Content-Security-Policy source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Beacon {
    /// JavaScript to inline in a `<script>` element (no `</script>` inside).
    pub js: String,
    /// CSP source for it, e.g. `'sha256-...'`.
    pub csp_hash: String,
}

/// The site's beacon. (First version; the collector issue replaces it with the full one.)
pub fn beacon(site: &Site) -> Beacon {
    let js = format!(
        "(function(){{try{{var s=document.currentScript,p=s&&s.dataset.partner,u={ep};function t(e){{var b=JSON.stringify({{e:e,p:p,u:location.pathname}});navigator.sendBeacon&&navigator.sendBeacon(u,b)}}t('visit');document.addEventListener('click',function(v){{var a=v.target.closest&&v.target.closest('[data-pp]');a&&t(a.dataset.pp)}})}}catch(x){{}}}})()",
        ep = serde_json::to_string(&site.config.collector.endpoint).unwrap_or_else(|_| "\"/e\"".into())
    );
    let csp_hash = csp_sha256(&js);
    Beacon { js, csp_hash }
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
