//! Load stage: one partner per `partners/<code>.yaml`.
//!
//! Takes: the YAML text of a partner file. Gives: a [`Partner`]; validation across files
//! (duplicate codes, campaigns) happens in [`crate::site`].

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The funnel stages, in order (DESIGN.md section 3). `event_name` stores these names.
pub const STAGES: [&str; 5] = ["click", "visit", "lead_magnet", "cta", "activation"];
/// Server-side revenue signal, not a funnel stage.
pub const REVENUE: &str = "revenue";
/// The campaign every partner has, and that unknown `?campaign=` values map to.
pub const DEFAULT_CAMPAIGN: &str = "default";

/// One referral partner. Field names are the user-facing contract (DESIGN.md section 2).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Partner {
    /// Shown on the page.
    pub name: String,
    /// Slug `[a-z0-9-]`, unique; used in URLs, cookies and events.
    pub code: String,
    /// Who the partner's audience is.
    pub audience: String,
    /// The lead magnet / landing angle.
    pub promise: String,
    /// Allowed `?campaign=` values; `default` is always allowed.
    #[serde(default)]
    pub campaigns: Vec<String>,
    pub landing: Landing,
    pub lead_magnet: Link,
    pub cta: Cta,
    pub activation: Activation,
    /// Shown only in the partner kit.
    #[serde(default)]
    pub commission: Option<String>,
    /// Meta description; defaults to the promise and proof.
    #[serde(default)]
    pub description: Option<String>,
    /// `<meta name="robots" content="noindex">`, left out of the sitemap and llms.txt.
    #[serde(default)]
    pub noindex: bool,
    /// Not built at all.
    #[serde(default)]
    pub draft: bool,
    /// Listed in llms.txt (default true).
    #[serde(default = "yes")]
    pub llms: bool,
    /// llms.txt section to list this partner under (default "Partner offers").
    #[serde(default)]
    pub llms_section: Option<String>,
    /// Extra note for the llms.txt item.
    #[serde(default)]
    pub llms_note: Option<String>,
    /// The file this partner came from, relative to the site root.
    #[serde(skip)]
    pub source: PathBuf,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Landing {
    pub headline: String,
    pub proof: String,
    /// Optional Markdown section, a path like `content/seo-checklist.md`.
    #[serde(default)]
    pub body: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Link {
    pub label: String,
    /// A site path (`/downloads/x.pdf`) or an absolute http(s) URL.
    pub url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Cta {
    pub label: String,
    pub kind: CtaKind,
    pub url: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum CtaKind {
    Demo,
    Newsletter,
    Tutorial,
    Download,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Activation {
    /// The name partners and agents see, e.g. `runs_first_audit`.
    pub event: String,
    pub description: String,
    pub trigger: Trigger,
}

/// How activation is detected: `{ server: true }`, `{ page: /pricing }` or `{ click: copy-snippet }`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Trigger {
    #[serde(default)]
    pub server: bool,
    #[serde(default)]
    pub page: Option<String>,
    #[serde(default)]
    pub click: Option<String>,
}

impl Partner {
    /// Every allowed campaign, `default` first, then the declared ones in file order.
    pub fn all_campaigns(&self) -> Vec<&str> {
        let mut out = vec![DEFAULT_CAMPAIGN];
        for c in &self.campaigns {
            if c != DEFAULT_CAMPAIGN {
                out.push(c);
            }
        }
        out
    }

    /// Site path of the landing page.
    pub fn landing_path(&self) -> String {
        format!("/p/{}/", self.code)
    }

    /// Site path of the partner kit.
    pub fn kit_path(&self) -> String {
        format!("/p/{}/kit/", self.code)
    }
}
