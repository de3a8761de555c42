//! Collector stage, the registry: what the collector knows of the site, compiled once from the
//! loaded partners and config (codes, campaigns, landing pages, activation triggers, variants
//! and weights, cookie names and lifetime, privacy switches, the Stripe webhook's rules).
//!
//! Takes: a loaded [`Site`]. Gives: a [`Registry`] every request check reads.

use crate::partner::DEFAULT_CAMPAIGN;
use crate::site::Site;
use std::collections::{BTreeMap, BTreeSet};

/// What the collector needs to know about the site, compiled from the partner registry.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Registry {
    /// Partners by code.
    pub partners: BTreeMap<String, PartnerRule>,
    /// Path part of `base_url`, "" or "/partners".
    pub base_path: String,
    /// The path the host output is served under (`host.base_path`), "" at the root.
    pub host_base_path: String,
    /// `collector.endpoint`, the beacon's URL as seen from pages (default `/e`).
    pub endpoint: String,
    /// Cookie names are `<prefix>_vid` and `<prefix>_src`.
    pub cookie_prefix: String,
    /// Cookies' Max-Age: the attribution window in seconds.
    pub max_age_secs: u64,
    /// Record nothing for requests with `DNT: 1` (`privacy.honor_dnt`).
    pub honor_dnt: bool,
    /// Record nothing for requests with `Sec-GPC: 1` (`privacy.honor_gpc`).
    pub honor_gpc: bool,
    /// The key variant assignments are drawn and signed with ([`crate::collector::VARIANT_SECRET_ENV`]);
    /// without it no partner's test runs (no variant is assigned or recorded).
    pub variant_secret: Option<Vec<u8>>,
    /// The Stripe webhook's rules; `None` without `stripe:` in the config (404).
    pub stripe: Option<crate::collector::stripe::Rules>,
}

/// One partner, as far as the collector cares.
#[derive(Debug, Clone, PartialEq)]
pub struct PartnerRule {
    /// Every allowed campaign, `default` included.
    pub campaigns: BTreeSet<String>,
    /// Site path of the landing page, without the base path (`/p/<code>/`).
    pub landing: String,
    /// `page:` activation trigger.
    pub page: Option<String>,
    /// `click:` activation trigger name.
    pub click: Option<String>,
    /// The experiment's variants and weights, the control first; empty without a test.
    pub variants: Vec<(String, f64)>,
}

impl Registry {
    /// Compile the collector's rules from a loaded site.
    pub fn from_site(site: &Site) -> Registry {
        let c = &site.config;
        Registry {
            partners: site
                .partners
                .iter()
                .map(|p| {
                    let rule = PartnerRule {
                        campaigns: p.all_campaigns().into_iter().map(String::from).collect(),
                        landing: p.landing_path(),
                        page: p.activation.trigger.page.clone(),
                        click: p.activation.trigger.click.clone(),
                        variants: p.variant_weights(),
                    };
                    (p.code.clone(), rule)
                })
                .collect(),
            base_path: c.base_path().to_string(),
            host_base_path: c.host_base_path().to_string(),
            endpoint: c.collector.endpoint.clone(),
            cookie_prefix: c.attribution.cookie_prefix.clone(),
            max_age_secs: u64::from(c.attribution.window_days) * 86_400,
            honor_dnt: c.privacy.honor_dnt,
            honor_gpc: c.privacy.honor_gpc,
            variant_secret: None,
            stripe: crate::collector::stripe::Rules::from_site(site),
        }
    }

    /// The same registry, drawing and signing variant assignments with `secret`.
    pub fn with_variant_secret(mut self, secret: Option<Vec<u8>>) -> Registry {
        self.variant_secret = secret;
        self
    }

    /// The registered campaign, or `default` for an unknown or missing one.
    pub(crate) fn campaign(&self, partner: &str, wanted: Option<&str>) -> String {
        match (self.partners.get(partner), wanted) {
            (Some(rule), Some(c)) if rule.campaigns.contains(c) => c.to_string(),
            _ => DEFAULT_CAMPAIGN.to_string(),
        }
    }
}

/// The registry and helpers the collector's unit tests share.
#[cfg(test)]
pub(crate) mod fixture {
    use super::*;
    use crate::collector::requests::Refusal;
    use crate::collector::rows::{Accepted, BeaconOutcome};

    /// Two well-formed visitor ids.
    pub(crate) const VID1: &str = "6f1c2a3b-4d5e-4f60-9a1b-2c3d4e5f6a7b";
    pub(crate) const VID2: &str = "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d";
    pub(crate) const KEY: &[u8] = b"test-variant-secret";

    pub(crate) fn tested_reg() -> Registry {
        let mut r = reg().with_variant_secret(Some(KEY.to_vec()));
        if let Some(rule) = r.partners.get_mut("seo") {
            rule.variants = vec![("control".into(), 70.0), ("speed".into(), 30.0)];
        }
        r
    }

    pub(crate) fn reg() -> Registry {
        let rule =
            |campaigns: &[&str], page: Option<&str>, click: Option<&str>, code: &str| PartnerRule {
                campaigns: campaigns.iter().map(|c| c.to_string()).collect(),
                landing: format!("/p/{code}/"),
                page: page.map(String::from),
                click: click.map(String::from),
                variants: Vec::new(),
            };
        let mut partners = BTreeMap::new();
        partners.insert(
            "seo".into(),
            rule(&["default", "webinar"], None, None, "seo"),
        );
        partners.insert(
            "founders".into(),
            rule(&["default"], Some("/pricing"), None, "founders"),
        );
        partners.insert(
            "tools".into(),
            rule(&["default"], None, Some("copy-snippet"), "tools"),
        );
        Registry {
            partners,
            base_path: "/partners".into(),
            host_base_path: String::new(),
            endpoint: "/partners/e".into(),
            cookie_prefix: "pp".into(),
            max_age_secs: 30 * 86_400,
            honor_dnt: true,
            honor_gpc: true,
            variant_secret: None,
            stripe: None,
        }
    }

    pub(crate) fn fixed_id() -> String {
        "new-visitor".into()
    }

    pub(crate) fn record(r: Result<BeaconOutcome, Refusal>) -> Accepted {
        match r {
            Ok(BeaconOutcome::Record(a)) => a,
            other => panic!("expected a row, got {other:?}"),
        }
    }
}
