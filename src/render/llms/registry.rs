//! Render stage, agents: `partners.json`, the machine-readable registry of public offers.
//!
//! Takes: the site. Gives: JSON matching `schemas/partners.schema.json`. Commission stays out
//! (it is shown only in the partner kit); `noindex` partners stay out.

use super::{canonical_url, markdown_path};
use crate::json_schema::{ABSOLUTE_URL, CODE};
use crate::partner::{CtaKind, Partner};
use crate::site::Site;
use schemars::JsonSchema;
use serde::Serialize;

/// Bumped when a field changes meaning or disappears (new fields keep it).
pub(super) const REGISTRY_VERSION: u32 = 1;

/// Written by `partner-pages build` as `partners.json`: one entry per partner whose landing page
/// is indexable (not draft, not noindex), sorted by code. Commission is never included. All URLs
/// are absolute and canonical (never tracked /go/ links).
#[derive(Serialize, JsonSchema)]
struct Registry<'a> {
    /// Format version; bumped when a field changes meaning or disappears.
    #[schemars(extend("const" = REGISTRY_VERSION))]
    version: u32,
    site: SiteInfo<'a>,
    partners: Vec<Offer<'a>>,
}

#[derive(Serialize, JsonSchema)]
struct SiteInfo<'a> {
    #[schemars(length(min = 1))]
    name: &'a str,
    summary: &'a str,
    #[schemars(pattern(ABSOLUTE_URL))]
    base_url: &'a str,
    /// URL of our llms.txt; null in plugin mode (our sections are merged into the host's
    /// llms.txt).
    #[schemars(pattern(ABSOLUTE_URL))]
    llms_txt: Option<String>,
}

#[derive(Serialize, JsonSchema)]
struct Offer<'a> {
    /// The partner's slug: URLs, cookies and events use it.
    #[schemars(pattern(CODE))]
    code: &'a str,
    #[schemars(length(min = 1))]
    name: &'a str,
    /// The lead magnet / landing angle.
    promise: &'a str,
    /// Who the partner's audience is.
    audience: &'a str,
    headline: &'a str,
    proof: &'a str,
    lead_magnet: LinkOut<'a>,
    cta: CtaOut<'a>,
    /// What counts as the visitor getting value.
    activation: ActivationOut<'a>,
    /// Allowed ?campaign= values, `default` first.
    #[schemars(extend("prefixItems" = [{"const": "default"}], "minItems" = 1, "uniqueItems" = true), inner(length(min = 1)))]
    campaigns: Vec<&'a str>,
    #[schemars(pattern(ABSOLUTE_URL))]
    landing_url: String,
    /// The clean Markdown mirror of the landing page (what llms.txt links to).
    #[schemars(pattern(r"^https?://[^\s]+\.md$"))]
    markdown_url: String,
}

#[derive(Serialize, JsonSchema)]
struct LinkOut<'a> {
    label: &'a str,
    /// The partner file's link as an absolute URL. A path written in the partner file (`/demo`)
    /// is a path of the host site from its root: it is joined to the origin of
    /// `site.base_url`, without its base path (`https://example.com/demo` for a base_url of
    /// `https://example.com/partners`).
    #[schemars(pattern(ABSOLUTE_URL))]
    url: String,
}

#[derive(Serialize, JsonSchema)]
struct CtaOut<'a> {
    label: &'a str,
    kind: CtaKind,
    /// The partner file's link as an absolute URL, joined like `lead_magnet.url`.
    #[schemars(pattern(ABSOLUTE_URL))]
    url: String,
}

#[derive(Serialize, JsonSchema)]
struct ActivationOut<'a> {
    /// The name partners and agents see, e.g. runs_first_audit.
    event: &'a str,
    description: &'a str,
}

/// The schema of `partners.json` (`schemas/partners.schema.json`).
pub(crate) fn schema() -> schemars::Schema {
    crate::json_schema::document::<Registry<'static>>(
        "partners.schema.json",
        "partner-pages registry of public partner offers (public/partners.json)",
    )
}

/// Pretty-printed JSON with a final newline, partners sorted by code.
pub(super) fn partners_json(site: &Site) -> crate::Result<Vec<u8>> {
    let c = &site.config;
    let registry = Registry {
        version: REGISTRY_VERSION,
        site: SiteInfo {
            name: &c.name,
            summary: &c.summary,
            base_url: &c.base_url,
            // In plugin mode the host's llms.txt is elsewhere; we do not guess its URL.
            llms_txt: c
                .llms
                .merge
                .is_none()
                .then(|| c.absolute_url(&format!("/{}", super::LLMS_TXT))),
        },
        partners: offers(site),
    };
    let mut bytes = serde_json::to_vec_pretty(&registry)
        .map_err(|e| crate::Error::Internal(format!("serialising partners.json: {e}")))?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// The public offers, sorted by code.
fn offers(site: &Site) -> Vec<Offer<'_>> {
    let c = &site.config;
    let mut partners: Vec<&Partner> = site.partners.iter().filter(|p| !p.noindex).collect();
    partners.sort_by(|a, b| a.code.cmp(&b.code));
    partners
        .into_iter()
        .map(|p| Offer {
            code: &p.code,
            name: &p.name,
            promise: &p.promise,
            audience: &p.audience,
            headline: &p.landing.headline,
            proof: &p.landing.proof,
            lead_magnet: LinkOut {
                label: &p.lead_magnet.label,
                url: canonical_url(c, &p.lead_magnet.url),
            },
            cta: CtaOut {
                label: &p.cta.label,
                kind: p.cta.kind,
                url: canonical_url(c, &p.cta.url),
            },
            activation: ActivationOut {
                event: &p.activation.event,
                description: &p.activation.description,
            },
            campaigns: p.all_campaigns(),
            landing_url: c.absolute_url(&p.landing_path()),
            markdown_url: c.absolute_url(&markdown_path(&p.landing_path())),
        })
        .collect()
}

/// One partner in the host's data file: `id` (the code, the key Astro's `file()` loader and
/// Hugo templates use) and the root-relative `url` of its landing page, then the offer.
#[derive(Serialize)]
struct HostEntry<'a> {
    id: &'a str,
    url: String,
    #[serde(flatten)]
    offer: Offer<'a>,
}

/// The partner registry for host templates (`host.data`): a JSON array of offers sorted by
/// code, each with `id` and `url`; Hugo reads it as `site.Data.partners`, Astro as a content
/// collection with `file()`.
pub fn host_data_json(site: &Site) -> crate::Result<Vec<u8>> {
    let c = &site.config;
    let entries: Vec<HostEntry> = offers(site)
        .into_iter()
        .map(|offer| HostEntry {
            id: offer.code,
            url: c.site_url(&format!("/p/{}/", offer.code)),
            offer,
        })
        .collect();
    let mut bytes = serde_json::to_vec_pretty(&entries)
        .map_err(|e| crate::Error::Internal(format!("serialising the host data: {e}")))?;
    bytes.push(b'\n');
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::llms::tests::example_site;

    #[test]
    fn registry_lists_indexable_partners_without_commission() {
        let mut site = example_site();
        site.partners[0].noindex = true;
        let json: serde_json::Value =
            serde_json::from_slice(&partners_json(&site).unwrap()).unwrap();
        let codes: Vec<&str> = json["partners"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["code"].as_str().unwrap())
            .collect();
        assert_eq!(
            codes,
            ["founder-community", "nocode-agency", "seo-consultant"]
        );
        let text = String::from_utf8(partners_json(&site).unwrap()).unwrap();
        assert!(!text.contains("commission"));
        assert!(!text.contains("20% of first-year"));
        let seo = &json["partners"][2];
        assert_eq!(seo["cta"]["url"], "https://aikit.example/demo");
        assert_eq!(seo["cta"]["kind"], "demo");
        assert_eq!(
            seo["markdown_url"],
            "https://aikit.example/p/seo-consultant/index.html.md"
        );
        assert_eq!(
            seo["campaigns"],
            serde_json::json!(["default", "webinar-dec", "newsletter-jan"])
        );
    }
}
