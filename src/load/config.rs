//! Load stage: the site config `partner-pages.yaml`, its schema and rules.
//!
//! Takes: the YAML text. Gives: a validated [`Config`] with defaults filled in, or located
//! diagnostics.

use crate::load::shape::{Field, Report, Shape};
use crate::load::value_rules::{self, Problem};
use crate::load::{flag, from_text};
use serde::{Deserialize, Serialize};

/// The site config's file name, at the site root.
pub const CONFIG_FILE: &str = "partner-pages.yaml";

/// Site-wide settings. Field names are the user-facing contract.
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
    /// Where events go: endpoint, mode, D1 database (`collector:`).
    #[serde(default)]
    pub collector: CollectorConfig,
    /// Attribution window and cookies (`attribution:`).
    #[serde(default)]
    pub attribution: AttributionConfig,
    /// Healthy ranges per stage (`bands:`).
    #[serde(default)]
    pub bands: Bands,
    /// Days a journey is given to reach each stage (`maturity:`).
    #[serde(default)]
    pub maturity: Maturity,
    /// Do Not Track and Global Privacy Control (`privacy:`).
    #[serde(default)]
    pub privacy: PrivacyConfig,
    /// llms.txt options (`llms:`).
    #[serde(default)]
    pub llms: LlmsConfig,
    /// Private partner kits (`kits:`).
    #[serde(default)]
    pub kits: KitsConfig,
    /// The host site the partner pages live in (plugin mode): its build output.
    #[serde(default)]
    pub host: HostConfig,
    /// Take the page shell (head assets, header, footer) from a page the host built.
    #[serde(default)]
    pub shell: Option<ShellConfig>,
    /// Payments from Stripe webhooks (`stripe:`); `POST <base>/stripe` answers 404 without it.
    #[serde(default)]
    pub stripe: Option<StripeConfig>,
    /// Folder of our Markdown content pages, relative to the site root. Unset: `content`, or
    /// [`HOST_ROOT_CONTENT_DIR`] when the config sits at a host site's root (`host.output` or
    /// `shell.page` inside the site root), where `content/` belongs to the host generator.
    #[serde(default)]
    pub content_dir: Option<String>,
    /// Reward defaults every partner's `reward:` overrides field by field. Private terms:
    /// never serialised.
    #[serde(default, skip_serializing)]
    pub reward: Option<crate::reward::RewardYaml>,
}

/// Payments from Stripe webhooks (`stripe:`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct StripeConfig {
    /// Who is credited when the visitor's partner link and a partner's coupon disagree.
    pub prefer: StripePrefer,
}

/// Which attribution wins when a partner link and another partner's coupon disagree.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum StripePrefer {
    /// The partner whose link the buyer came through (or who brought the customer first).
    #[default]
    Link,
    /// The partner whose coupon the buyer used.
    Coupon,
}

impl StripePrefer {
    /// As written in `partner-pages.yaml`.
    pub fn as_str(self) -> &'static str {
        match self {
            StripePrefer::Link => "link",
            StripePrefer::Coupon => "coupon",
        }
    }
}

/// Our content folder by default when the config sits at the root of a host site.
pub const HOST_ROOT_CONTENT_DIR: &str = "partner-content";

/// Our content folder by default for a site of partner pages only.
pub const CONTENT_DIR: &str = "content";

/// Whether a path as written in the config (`public`, `../public/about/index.html`) stays
/// inside the site root.
fn inside_root(path: &str) -> bool {
    let p = std::path::Path::new(path);
    !p.is_absolute()
        && !matches!(
            p.components().next(),
            Some(std::path::Component::ParentDir) | None
        )
}

/// Config files of the host generators that keep their own pages in `content/` (Hugo, and
/// Eleventy sites as they are usually laid out).
pub const CONTENT_OWNERS: &[&str] = &[
    "hugo.toml",
    "hugo.yaml",
    "hugo.json",
    "config.toml",
    "eleventy.config.js",
    "eleventy.config.mjs",
    "eleventy.config.cjs",
    ".eleventy.js",
];

/// The content folder for `content_dir`, `host.output` and `shell.page` as written, of the
/// site at `root`: as given; else [`HOST_ROOT_CONTENT_DIR`] when the host's output is inside
/// the site root and the root holds a generator that owns `content/`; else [`CONTENT_DIR`].
pub fn content_dir_of(
    root: &std::path::Path,
    content_dir: Option<&str>,
    host_output: Option<&str>,
    shell_page: Option<&str>,
) -> String {
    match content_dir {
        Some(dir) => dir.trim_end_matches('/').to_string(),
        None if host_output.or(shell_page).is_some_and(inside_root)
            && CONTENT_OWNERS.iter().any(|f| root.join(f).is_file()) =>
        {
            HOST_ROOT_CONTENT_DIR.to_string()
        }
        None => CONTENT_DIR.to_string(),
    }
}

/// The host site generator's side (Hugo, Astro, Eleventy, ...).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct HostConfig {
    /// The host's build output folder, relative to the site root: the folder served at `/`.
    /// The partner pages are written to `<output><base path>` (e.g. `public/partners`), links
    /// are checked against it, and the Worker serves it whole.
    pub output: Option<String>,
    /// The path the host site is served under when it is not the origin's root, e.g.
    /// `/hugo-PaperMod` for a site built with the base URL `https://x.github.io/hugo-PaperMod/`:
    /// `host.output` is served at this path, links under it are files of `host.output`, and
    /// the partner pages' folder is `base_url`'s path below it. Unset: the root.
    pub base_path: Option<String>,
    /// Files to write the partner registry to, for host templates (e.g. Hugo
    /// `data/partners.json`, an Astro collection's `src/data/partners.json`).
    pub data: Vec<String>,
}

/// A host-built page whose shell wraps every partner page.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ShellConfig {
    /// The host-built page, relative to the site root, e.g. `public/about/index.html`.
    pub page: String,
    /// CSS selector of the element that receives the partner content, e.g. `main`.
    pub main: String,
    /// Colour of the primary button (`--pp-accent`), any CSS colour, e.g. `"#0b6e4f"`.
    /// Unset: buttons take the colour of the host's links.
    #[serde(default)]
    pub accent: Option<String>,
    /// Text colour on the primary button when `accent` is set (`--pp-accent-text`).
    #[serde(default)]
    pub accent_text: Option<String>,
    /// CSS selectors of the shell page's elements that mark it as the current page (an
    /// active nav link): each loses `aria-current` and the classes the selector names.
    /// Unset: [`DEFAULT_CURRENT`].
    #[serde(default)]
    pub current: Option<Vec<String>>,
}

/// Markers of the current page in common themes (Hugo PaperMod and Ananke, Eleventy's base
/// blog, Astro's blog starter, Bootstrap, WordPress exports).
pub const DEFAULT_CURRENT: &[&str] = &[
    "[aria-current]",
    ".active",
    ".is-active",
    ".current",
    ".current-menu-item",
    ".current_page_item",
    ".selected",
];

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

/// How the Worker is deployed beside the site.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum CollectorMode {
    /// The Worker serves the built pages as static assets and the collector routes.
    #[default]
    Assets,
    /// The Worker only answers its routes; everything else goes on to the origin.
    Route,
}

/// Attribution cookie and window.
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
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Band {
    /// Lower end of the healthy range (share of visitors).
    pub low: f64,
    /// Upper end of the healthy range (share of visitors).
    pub high: f64,
}

/// Per-stage bands; defaults: 20–35%, 5–12%, 1–3%.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Bands {
    /// Band of the lead-magnet rate (default 20–35%).
    pub lead_magnet: Band,
    /// Band of the CTA rate (default 5–12%).
    pub cta: Band,
    /// Band of the activation rate (default 1–3%).
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

/// Maturity horizons: how many days after its first touch a journey is given to reach each
/// stage. A stage's rate counts the journeys at least that old, and the visitors who reached the
/// stage within that many days; younger journeys wait (`too_early`). Stated defaults: a lead
/// magnet is downloaded on the visit (1 day), a demo or newsletter follows within a week (7),
/// activation within two weeks (14).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Maturity {
    /// Days for the lead magnet (default 1).
    #[schemars(range(min = 1))]
    pub lead_magnet: u32,
    /// Days for the CTA (default 7).
    #[schemars(range(min = 1))]
    pub cta: u32,
    /// Days for activation (default 14).
    #[schemars(range(min = 1))]
    pub activation: u32,
}

impl Maturity {
    /// The horizons, none longer than the attribution window (a journey is only followed
    /// that long).
    pub fn within(self, window_days: u32) -> Maturity {
        let w = window_days.max(1);
        Maturity {
            lead_magnet: self.lead_magnet.clamp(1, w),
            cta: self.cta.clamp(1, w),
            activation: self.activation.clamp(1, w),
        }
    }
}

impl Default for Maturity {
    fn default() -> Self {
        Maturity {
            lead_magnet: 1,
            cta: 7,
            activation: 14,
        }
    }
}

/// Privacy switches of the collector (`privacy:`).
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

/// llms.txt options (`llms:`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct LlmsConfig {
    /// Also write `llms-full.txt` with the full Markdown of every partner page.
    pub full: bool,
    /// Merge our section into this existing llms.txt (plugin mode) instead of writing our own.
    pub merge: Option<String>,
}

/// Where the partner kits go. Kits carry each partner's commission and tracked links, so they
/// are private by default: written beside the output, never into it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct KitsConfig {
    /// Private folder of the kits (`<dir>/<code>/index.html` and `index.md`), relative to the
    /// site root; never inside the static output.
    pub dir: String,
    /// Also publish each kit on the site at `/kits/<token>/`, the token derived from the kit
    /// secret (see the partner kits docs); off by default.
    pub hosted: bool,
}

impl Default for KitsConfig {
    fn default() -> Self {
        KitsConfig {
            dir: "kits".into(),
            hosted: false,
        }
    }
}

impl Config {
    /// Folder of our content pages, relative to the site root `root` (see [`content_dir_of`]).
    pub fn content_dir(&self, root: &std::path::Path) -> String {
        content_dir_of(
            root,
            self.content_dir.as_deref(),
            self.host.output.as_deref(),
            self.shell.as_ref().map(|s| s.page.as_str()),
        )
    }

    /// The path part of `base_url` without a trailing slash: "" or "/partners".
    pub fn base_path(&self) -> &str {
        base_path_of(&self.base_url)
    }

    /// The path the host site is served under (`host.base_path`) without a trailing slash:
    /// "" (the root) or e.g. "/hugo-PaperMod".
    pub fn host_base_path(&self) -> &str {
        self.host
            .base_path
            .as_deref()
            .map_or("", |p| p.trim_end_matches('/'))
    }

    /// Absolute URL of a site path (`/p/x/` -> `https://host/base/p/x/`).
    pub fn absolute_url(&self, site_path: &str) -> String {
        format!("{}{}", self.base_url.trim_end_matches('/'), site_path)
    }

    /// Root-relative URL of a site path, with the base path (`/p/x/` -> `/base/p/x/`).
    pub fn site_url(&self, site_path: &str) -> String {
        format!("{}{}", self.base_path(), site_path)
    }

    /// `https://host[:port]` of `base_url`: the origin host paths are resolved against.
    pub fn origin(&self) -> &str {
        let base = self.base_url.as_str();
        let start = base.find("://").map_or(0, |i| i + 3);
        match base[start..].find('/') {
            Some(i) => &base[..start + i],
            None => base,
        }
    }

    /// The one rule for a link written in a partner file or front matter (`lead_magnet.url`,
    /// `cta.url`, `activation.trigger.page`, Markdown links): a root-relative path is a path of
    /// the host site, from its root (`/pricing` stays `/pricing`, whatever the base path); an
    /// absolute URL is kept. Only the pages partner-pages writes itself carry the base path
    /// ([`Config::site_url`]).
    pub fn link_href(&self, url: &str) -> String {
        url.to_string()
    }

    /// The absolute URL of a link as [`Config::link_href`] resolves it: a host path is joined
    /// to the origin of `base_url` (not to its base path).
    pub fn link_url(&self, url: &str) -> String {
        if url.starts_with('/') && !url.starts_with("//") {
            format!("{}{url}", self.origin())
        } else {
            url.to_string()
        }
    }
}

/// What a build needs to know before the site loads (output folders, extra stamp inputs),
/// read from the config text without validation; the full load checks it afterwards.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Peek {
    /// `base_url` as written, when given.
    pub base_url: Option<String>,
    /// `host.output` as written, when given.
    pub host_output: Option<String>,
    /// `shell.page` as written, when given.
    pub shell_page: Option<String>,
    /// `content_dir` as written, when given.
    pub content_dir: Option<String>,
    /// `host.base_path` as written, when given.
    pub host_base_path: Option<String>,
}

impl Peek {
    /// The content folder of the site at `root` (see [`content_dir_of`]).
    pub fn content_dir(&self, root: &std::path::Path) -> String {
        content_dir_of(
            root,
            self.content_dir.as_deref(),
            self.host_output.as_deref(),
            self.shell_page.as_deref(),
        )
    }
}

/// [`Peek`] at `partner-pages.yaml` of `root`; empty when it cannot be read.
pub fn peek(root: &std::path::Path) -> Peek {
    use crate::load::yaml;
    let rel = std::path::Path::new(CONFIG_FILE);
    let Ok(text) = yaml::read_text(&root.join(rel), rel, yaml::MAX_YAML_BYTES) else {
        return Peek::default();
    };
    let Ok(node) = yaml::parse(&text, rel, 0) else {
        return Peek::default();
    };
    let text_at = |path: &[&str]| match node.lookup(path).map(|n| &n.value) {
        Some(yaml::Value::Str(s)) => Some(s.clone()),
        _ => None,
    };
    Peek {
        base_url: text_at(&["base_url"]),
        host_output: text_at(&["host", "output"]),
        shell_page: text_at(&["shell", "page"]),
        content_dir: text_at(&["content_dir"]),
        host_base_path: text_at(&["host", "base_path"]),
    }
}

/// A path of the site (`/hugo-PaperMod/partners`) as a path of the host output served under
/// `host_base` (`/hugo-PaperMod`): `/partners`. A path outside `host_base` is unchanged.
pub fn in_host<'a>(path: &'a str, host_base: &str) -> &'a str {
    let host_base = host_base.trim_end_matches('/');
    if host_base.is_empty() {
        return path;
    }
    match path.strip_prefix(host_base) {
        Some("") => "/",
        Some(rest) if rest.starts_with('/') => rest,
        _ => path,
    }
}

/// Whether `path` is `base` or below it, on a segment boundary (`base` "" holds every path).
pub fn under(path: &str, base: &str) -> bool {
    let base = base.trim_end_matches('/');
    base.is_empty()
        || path == base
        || path
            .strip_prefix(base)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// The path part of a base URL without a trailing slash: "" or "/partners".
pub fn base_path_of(base_url: &str) -> &str {
    let after_scheme = base_url
        .split_once("://")
        .map(|(_, r)| r)
        .unwrap_or(base_url);
    match after_scheme.find('/') {
        Some(i) => after_scheme[i..].trim_end_matches('/'),
        None => "",
    }
}

const BAND: Shape = Shape::Map(&[
    Field::req("low", Shape::Number),
    Field::req("high", Shape::Number),
]);

/// The shape of `partner-pages.yaml`; mirrors [`Config`] field by field (a field added to the
/// struct must be added here too; `schema_mirrors_every_field_of_the_struct` checks it).
pub const SHAPE: Shape = Shape::Map(&[
    Field::req("name", Shape::Text),
    Field::req("base_url", Shape::Text),
    Field::req("summary", Shape::Text),
    Field::opt("description", Shape::Text),
    Field::opt("language", Shape::Text),
    Field::opt(
        "collector",
        Shape::Map(&[
            Field::opt("endpoint", Shape::Text),
            Field::opt("mode", Shape::Enum(&["assets", "route"])),
            Field::opt("route", Shape::Text),
            Field::opt("worker_name", Shape::Text),
            Field::opt("database", Shape::Text),
            Field::opt("database_id", Shape::Text),
        ]),
    ),
    Field::opt(
        "attribution",
        Shape::Map(&[
            Field::opt("window_days", Shape::UInt),
            Field::opt("cookie_prefix", Shape::Text),
            Field::opt("bot_max_events", Shape::UInt),
        ]),
    ),
    Field::opt(
        "bands",
        Shape::Map(&[
            Field::opt("lead_magnet", BAND),
            Field::opt("cta", BAND),
            Field::opt("activation", BAND),
            Field::opt("min_visitors", Shape::UInt),
        ]),
    ),
    Field::opt(
        "maturity",
        Shape::Map(&[
            Field::opt("lead_magnet", Shape::UInt),
            Field::opt("cta", Shape::UInt),
            Field::opt("activation", Shape::UInt),
        ]),
    ),
    Field::opt(
        "privacy",
        Shape::Map(&[
            Field::opt("honor_dnt", Shape::Bool),
            Field::opt("honor_gpc", Shape::Bool),
        ]),
    ),
    Field::opt(
        "llms",
        Shape::Map(&[
            Field::opt("full", Shape::Bool),
            Field::opt("merge", Shape::Text),
        ]),
    ),
    Field::opt(
        "kits",
        Shape::Map(&[
            Field::opt("dir", Shape::Text),
            Field::opt("hosted", Shape::Bool),
        ]),
    ),
    Field::opt(
        "host",
        Shape::Map(&[
            Field::opt("output", Shape::Text),
            Field::opt("base_path", Shape::Text),
            Field::opt("data", Shape::List(&Shape::Text)),
        ]),
    ),
    Field::opt("content_dir", Shape::Text),
    Field::opt(
        "shell",
        Shape::Map(&[
            Field::req("page", Shape::Text),
            Field::req("main", Shape::Text),
            Field::opt("accent", Shape::Text),
            Field::opt("accent_text", Shape::Text),
            Field::opt("current", Shape::List(&Shape::Text)),
        ]),
    ),
    Field::opt(
        "stripe",
        Shape::Map(&[Field::opt("prefer", Shape::Enum(&["link", "coupon"]))]),
    ),
    Field::opt("reward", Shape::Map(crate::reward::REWARD_SHAPE)),
]);

/// Load the config text: shape, types, then the rules of [`Config::validate`].
pub fn parse(text: &str, r: &mut Report) -> Option<Config> {
    parse_in(text, None, r)
}

/// [`parse`] for the site at `root`: the folder paths are also checked against the root's own
/// name (`host.output: ../<the site's folder>` holds the site).
pub fn parse_in(text: &str, root: Option<&std::path::Path>, r: &mut Report) -> Option<Config> {
    let loaded = from_text::<Config>(text, &SHAPE, r)?;
    let mut config = loaded.value;
    let before = r.diags.len();
    config.validate(&loaded.node, r);
    if r.diags.len() == before {
        config.check_places(root, &loaded.node, r);
    }
    config.base_url = config.base_url.trim_end_matches('/').to_string();
    (r.diags.len() == before).then_some(config)
}

/// The kit secret's file at the site root (read by the kits module).
pub(crate) const KIT_SECRET_FILE: &str = ".kit-secret";
/// The site's state folder at the site root: the build's bookkeeping (see the stamp module).
pub(crate) const STATE_DIR: &str = ".partner-pages";

mod checks;

#[cfg(test)]
mod tests;
