//! Load stage: the site config `partner-pages.yaml`.
//!
//! Takes: the YAML text. Gives: a validated [`Config`] with defaults filled in.

use serde::{Deserialize, Serialize};

pub const CONFIG_FILE: &str = "partner-pages.yaml";

/// Site-wide settings. Field names are the user-facing contract (DESIGN.md section 2).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Site name: page titles, the llms.txt H1.
    pub name: String,
    /// Absolute base URL, e.g. `https://aikit.example` or `https://example.com/partners`.
    /// Normalised without a trailing slash; its path is the base path of every link.
    pub base_url: String,
    /// One-paragraph summary: the llms.txt blockquote and the index page's intro.
    pub summary: String,
    /// Optional longer notes for llms.txt (plain paragraphs).
    #[serde(default)]
    pub description: Option<String>,
    /// `lang` attribute of pages.
    #[serde(default = "default_language")]
    pub language: String,
    #[serde(default)]
    pub collector: CollectorConfig,
    #[serde(default)]
    pub attribution: AttributionConfig,
    #[serde(default)]
    pub bands: Bands,
    #[serde(default)]
    pub privacy: PrivacyConfig,
    #[serde(default)]
    pub llms: LlmsConfig,
}

fn default_language() -> String {
    "en".into()
}

/// Where events go and how the Worker is deployed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CollectorConfig {
    /// Beacon endpoint as seen from pages: a path on the same origin (first-party), default `/e`.
    pub endpoint: String,
    /// `assets`: the Worker also serves `public/` (site on Cloudflare). `route`: the Worker runs on
    /// `route` in front of a site hosted elsewhere.
    pub mode: CollectorMode,
    /// Route pattern for `mode: route`, e.g. `aikit.example/go/*`.
    pub route: Option<String>,
    /// Worker name in wrangler.toml.
    pub worker_name: String,
    /// D1 database name (binding `DB`).
    pub database: String,
    /// D1 database id (from `wrangler d1 create`); a placeholder is written when absent.
    pub database_id: Option<String>,
}

impl Default for CollectorConfig {
    fn default() -> Self {
        CollectorConfig {
            endpoint: "/e".into(),
            mode: CollectorMode::Assets,
            route: None,
            worker_name: "partner-pages-collector".into(),
            database: "partner-events".into(),
            database_id: None,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum CollectorMode {
    #[default]
    Assets,
    Route,
}

/// Attribution cookie and window (DESIGN.md section 4).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AttributionConfig {
    /// First-touch window in days; also the cookies' Max-Age.
    pub window_days: u32,
    /// Prefix of the first-party cookie names (`<prefix>_vid`, `<prefix>_src`).
    pub cookie_prefix: String,
    /// A visitor id with more rows than this in the table read is treated as a bot.
    pub bot_max_events: u32,
}

impl Default for AttributionConfig {
    fn default() -> Self {
        AttributionConfig {
            window_days: 30,
            cookie_prefix: "pp".into(),
            bot_max_events: 100,
        }
    }
}

/// A healthy range for a stage rate, as shares of visitors (0.20 = 20%).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Band {
    pub low: f64,
    pub high: f64,
}

/// Per-stage bands; defaults from the seed: 20–35%, 5–12%, 1–3%.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Bands {
    pub lead_magnet: Band,
    pub cta: Band,
    pub activation: Band,
    /// Fewer visitors than this gives the verdict `insufficient`.
    pub min_visitors: u64,
}

impl Default for Bands {
    fn default() -> Self {
        Bands {
            lead_magnet: Band {
                low: 0.20,
                high: 0.35,
            },
            cta: Band {
                low: 0.05,
                high: 0.12,
            },
            activation: Band {
                low: 0.01,
                high: 0.03,
            },
            min_visitors: 100,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PrivacyConfig {
    /// Send nothing when the browser says Do-Not-Track.
    pub honor_dnt: bool,
    /// Send nothing when the browser says Global Privacy Control.
    pub honor_gpc: bool,
}

impl Default for PrivacyConfig {
    fn default() -> Self {
        PrivacyConfig {
            honor_dnt: true,
            honor_gpc: true,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct LlmsConfig {
    /// Also write `llms-full.txt` with the full Markdown of every partner page.
    pub full: bool,
    /// Merge our section into this existing llms.txt (plugin mode) instead of writing our own.
    pub merge: Option<String>,
}

impl Config {
    /// The path part of `base_url` without a trailing slash: "" or "/partners".
    pub fn base_path(&self) -> &str {
        let after_scheme = self
            .base_url
            .split_once("://")
            .map(|(_, r)| r)
            .unwrap_or(&self.base_url);
        match after_scheme.find('/') {
            Some(i) => after_scheme[i..].trim_end_matches('/'),
            None => "",
        }
    }

    /// Absolute URL of a site path (`/p/x/` -> `https://host/base/p/x/`).
    pub fn absolute_url(&self, site_path: &str) -> String {
        format!("{}{}", self.base_url.trim_end_matches('/'), site_path)
    }

    /// Root-relative URL of a site path, with the base path (`/p/x/` -> `/base/p/x/`).
    pub fn site_url(&self, site_path: &str) -> String {
        format!("{}{}", self.base_path(), site_path)
    }
}
