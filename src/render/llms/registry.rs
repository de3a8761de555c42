//! Render stage, agents: `partners.json`, the machine-readable registry of public offers.
//!
//! Takes: the site. Gives: JSON matching `schemas/partners.schema.json`. Commission stays out
//! (it is shown only in the partner kit); `noindex` partners stay out.

use super::{canonical_url, markdown_path};
use crate::partner::{CtaKind, Partner};
use crate::site::Site;
use serde::Serialize;

/// Bumped when a field changes meaning or disappears (new fields keep it).
pub(super) const REGISTRY_VERSION: u32 = 1;

#[derive(Serialize)]
struct Registry<'a> {
    version: u32,
    site: SiteInfo<'a>,
    partners: Vec<Offer<'a>>,
}

#[derive(Serialize)]
struct SiteInfo<'a> {
    name: &'a str,
    summary: &'a str,
    base_url: &'a str,
    llms_txt: Option<String>,
}

#[derive(Serialize)]
struct Offer<'a> {
    code: &'a str,
    name: &'a str,
    promise: &'a str,
    audience: &'a str,
    headline: &'a str,
    proof: &'a str,
    lead_magnet: LinkOut<'a>,
    cta: CtaOut<'a>,
    activation: ActivationOut<'a>,
    campaigns: Vec<&'a str>,
    landing_url: String,
    markdown_url: String,
}

#[derive(Serialize)]
struct LinkOut<'a> {
    label: &'a str,
    url: String,
}

#[derive(Serialize)]
struct CtaOut<'a> {
    label: &'a str,
    kind: CtaKind,
    url: String,
}

#[derive(Serialize)]
struct ActivationOut<'a> {
    event: &'a str,
    description: &'a str,
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
