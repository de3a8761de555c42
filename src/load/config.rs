//! Load stage: the site config `partner-pages.yaml`, its schema and rules.
//!
//! Takes: the YAML text. Gives: a validated [`Config`] with defaults filled in, or located
//! diagnostics.

use crate::load::rules::{self, Problem};
use crate::load::schema::{Field, Report, Shape};
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

impl Config {
    /// `host.base_path`: a plain path `base_url`'s path is below, with a collector that runs
    /// in front of the host's server (the Worker's assets are served at the root).
    fn validate_host_base_path(&self, node: &crate::load::yaml::Node, r: &mut Report) {
        let Some(raw) = self.host.base_path.as_deref() else {
            return;
        };
        let path = self.host_base_path();
        let plain = raw.starts_with('/')
            && !raw.starts_with("//")
            && !raw.contains(['?', '#', '\\', ' '])
            && !raw.split('/').any(|s| s == ".." || s == ".");
        let problem = if !plain {
            Some(Problem {
                message: format!("`host.base_path: {raw}` is not a path"),
                expected: "the path the host site is served under, e.g. `/blog`",
                hint: Some(
                    "the path of the host generator's base URL (Hugo `baseURL`, Astro `base`, Eleventy `pathPrefix`); leave it out for a site at the root"
                        .into(),
                ),
            })
        } else if !path.is_empty() && (self.base_path() == path || !under(self.base_path(), path)) {
            Some(Problem {
                message: format!(
                    "`base_url` {} is not below the host's base path `{path}`",
                    self.base_url
                ),
                expected: "a `base_url` whose path is a folder of the host site",
                hint: Some(format!(
                    "the partner pages live in the host site: `base_url: {}{path}/partners`",
                    self.origin()
                )),
            })
        } else if !path.is_empty() && self.collector.mode == CollectorMode::Assets {
            Some(Problem {
                message: format!(
                    "`host.base_path: {raw}` needs `collector.mode: route`"
                ),
                expected: "`collector.mode: route` with a `route:` under the host's base path",
                hint: Some(format!(
                    "in mode `assets` the Worker serves the host output at the origin's root, not under `{path}`; run it as a route in front of the host's server: `route: {}{}/go/*`",
                    crate::text::url::host_of(&self.base_url),
                    self.base_path()
                )),
            })
        } else {
            None
        };
        if let Some(problem) = problem {
            flag(r, node, &["host", "base_path"], problem);
        }
    }

    /// `content_dir`: a folder inside the site root, not one of our other folders.
    fn validate_content_dir(&self, node: &crate::load::yaml::Node, r: &mut Report) {
        let Some(dir) = self.content_dir.as_deref() else {
            return;
        };
        let first = dir.trim_end_matches('/');
        let ours = ["partners", "templates", "collector", &self.kits.dir];
        if !inside_root(dir) || dir.contains("..") || ours.contains(&first) {
            flag(
                r,
                node,
                &["content_dir"],
                Problem {
                    message: format!("`content_dir: {dir}` is not a folder for content pages"),
                    expected: "a folder inside the site root of its own, e.g. `partner-content`",
                    hint: Some(
                        "not `partners`, `templates`, `collector` or the kits folder, and not above the site root"
                            .into(),
                    ),
                },
            );
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
pub const SCHEMA: Shape = Shape::Map(&[
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
    let loaded = from_text::<Config>(text, &SCHEMA, r)?;
    let mut config = loaded.value;
    let before = r.diags.len();
    config.validate(&loaded.node, r);
    if r.diags.len() == before {
        config.check_places(root, &loaded.node, r);
    }
    config.base_url = config.base_url.trim_end_matches('/').to_string();
    (r.diags.len() == before).then_some(config)
}

impl Config {
    /// The rules the shape cannot say; each problem is reported at its value in `node`.
    pub fn validate(&self, node: &crate::load::yaml::Node, r: &mut Report) {
        self.validate_content_dir(node, r);
        self.validate_host_base_path(node, r);
        if let Some(y) = &self.reward {
            crate::reward::validate_yaml(y, node, "reward", r);
        }
        if let Some(problem) = rules::base_url(&self.base_url) {
            flag(r, node, &["base_url"], problem);
        }
        if let Some(problem) = rules::site_path(&self.collector.endpoint) {
            flag(r, node, &["collector", "endpoint"], problem);
        } else if self.collector.endpoint.contains(['?', '#']) || self.collector.endpoint == "/" {
            let problem = Problem {
                message: format!(
                    "collector endpoint `{}` must be a plain path",
                    self.collector.endpoint
                ),
                expected: "a path on the site's own origin without query, e.g. `/e`",
                hint: Some(
                    "the beacon posts to this path; keep the default `/e` unless it is taken"
                        .into(),
                ),
            };
            flag(r, node, &["collector", "endpoint"], problem);
        }
        if let Some(problem) = rules::d1_database_name(&self.collector.database) {
            flag(r, node, &["collector", "database"], problem);
        }
        if self.collector.mode == CollectorMode::Route && self.collector.route.is_none() {
            let pos = node.key_pos(&["collector", "mode"]).unwrap_or(node.pos);
            let d = r
                .at(pos, "`collector.mode: route` needs `collector.route`")
                .expected("`route:` with a Workers route pattern, e.g. `aikit.example/go/*`")
                .hint("or use `mode: assets` to let the Worker serve public/ too");
            r.push(d);
        }
        if self.host.output.is_some() && self.base_path().is_empty() {
            let problem = Problem {
                message: "`host.output` is set but `base_url` has no path: the partner pages would overwrite the host's pages".into(),
                expected: "a base_url with the folder of the partner pages, e.g. `https://example.com/partners`",
                hint: Some("or remove `host:` for a site of partner pages only".into()),
            };
            flag(r, node, &["host", "output"], problem);
        }
        for (field, value) in [
            ("output", self.host.output.as_deref()),
            ("page", self.shell.as_ref().map(|s| s.page.as_str())),
        ] {
            let Some(value) = value else { continue };
            if value.is_empty()
                || std::path::Path::new(value).is_absolute()
                || value.starts_with('/')
            {
                let path: &[&str] = if field == "output" {
                    &["host", "output"]
                } else {
                    &["shell", "page"]
                };
                let problem = Problem {
                    message: format!("`{value}` is not a relative path"),
                    expected: "a path relative to partner-pages.yaml, e.g. `public` or `../public/about/index.html`",
                    hint: Some("paths in partner-pages.yaml are relative to its folder, so the site builds the same on every machine".into()),
                };
                flag(r, node, path, problem);
            }
        }
        if self.attribution.window_days == 0 {
            let problem = Problem {
                message: "`attribution.window_days` is 0: no visit could ever be attributed".into(),
                expected: "a whole number of days, at least 1 (default 30)",
                hint: None,
            };
            flag(r, node, &["attribution", "window_days"], problem);
        }
        if self.attribution.bot_max_events == 0 {
            let problem = Problem {
                message: "`attribution.bot_max_events` is 0: every visitor would count as a bot"
                    .into(),
                expected: "a whole number of rows, at least 1 (default 100)",
                hint: None,
            };
            flag(r, node, &["attribution", "bot_max_events"], problem);
        }
        let prefix = &self.attribution.cookie_prefix;
        if prefix.is_empty()
            || !prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            let problem = Problem {
                message: format!("cookie prefix `{prefix}` is not a valid cookie name part"),
                expected: "letters, digits and `_`, e.g. `pp`",
                hint: None,
            };
            flag(r, node, &["attribution", "cookie_prefix"], problem);
        }
        if let Some(problem) = kits_dir(&self.kits.dir) {
            flag(r, node, &["kits", "dir"], problem);
        }
        for (name, band) in [
            ("lead_magnet", self.bands.lead_magnet),
            ("cta", self.bands.cta),
            ("activation", self.bands.activation),
        ] {
            check_band(name, band, node, r);
        }
        for (name, days) in [
            ("lead_magnet", self.maturity.lead_magnet),
            ("cta", self.maturity.cta),
            ("activation", self.maturity.activation),
        ] {
            // A default longer than a short window is clamped (see `Maturity::within`); a value
            // written in the file must fit.
            let written = node.key_pos(&["maturity", name]).is_some();
            let window = self.attribution.window_days;
            if written && (days == 0 || (window > 0 && days > window)) {
                let problem = Problem {
                    message: format!(
                        "`maturity.{name}` is {days} days, outside 1..={} (the attribution window)",
                        self.attribution.window_days
                    ),
                    expected: "a whole number of days from 1 to `attribution.window_days`",
                    hint: Some(
                        "a journey is only followed for the attribution window, so it cannot \
                         need longer to mature"
                            .into(),
                    ),
                };
                flag(r, node, &["maturity", name], problem);
            }
        }
    }
}

/// The kit secret's file at the site root (read by the kits module).
pub(crate) const KIT_SECRET_FILE: &str = ".kit-secret";
/// The site's state folder at the site root: the build's bookkeeping (see the stamp module).
pub(crate) const STATE_DIR: &str = ".partner-pages";

/// A path relative to the site root, resolved by name from the root's components.
fn resolve(root: &[String], rel: &str) -> Vec<String> {
    let mut out = root.to_vec();
    for part in rel.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            p => out.push(p.to_string()),
        }
    }
    out
}

/// The components of the site root: its absolute path when known, else stand-ins that match
/// no folder name (so `..` can still be followed a few levels up).
fn root_components(root: Option<&std::path::Path>) -> Vec<String> {
    let abs = root.and_then(|r| std::path::absolute(r).ok());
    match abs {
        Some(abs) => resolve(&[], &abs.to_string_lossy().replace('\\', "/")),
        None => (0..8)
            .map(|i| format!("\0up{i}"))
            .chain(["\0site".to_string()])
            .collect(),
    }
}

/// A relative path as written: not empty, not absolute.
fn is_relative(value: &str) -> bool {
    !value.is_empty()
        && !std::path::Path::new(value).is_absolute()
        && !value.starts_with(['/', '\\'])
}

impl Config {
    /// `host.output`, `host.data`, `shell.page` and `kits.dir` against each other and the site:
    /// the published folder holds none of the site's own files (the root, partner files,
    /// content, templates, collector/, the kits, the kit secret, event databases), and
    /// `host.data` writes only inside the host site, never onto one of them.
    fn check_places(
        &self,
        root: Option<&std::path::Path>,
        node: &crate::load::yaml::Node,
        r: &mut Report,
    ) {
        let root_c = root_components(root);
        let at = |rel: &str| resolve(&root_c, rel);
        let kits = self.kits.dir.trim_end_matches('/');
        let own: [(&str, String); 8] = [
            (CONFIG_FILE, "the site config".into()),
            ("partners", "the partner files".into()),
            ("content", "the content pages".into()),
            ("templates", "the site's templates".into()),
            (
                "collector",
                "the collector (worker.js, wrangler.toml)".into(),
            ),
            (
                kits,
                format!("the private partner kits (`kits.dir` `{kits}`)"),
            ),
            (KIT_SECRET_FILE, "the kit secret".into()),
            (STATE_DIR, "the build's bookkeeping".into()),
        ];
        let host = self
            .host
            .output
            .as_deref()
            .filter(|h| is_relative(h))
            .map(|h| (h, at(h)));
        // Where the partner pages go inside the host output.
        let ours = host.as_ref().map(|(_, h)| resolve(h, self.base_path()));
        let in_ours = |p: &[String]| ours.as_ref().is_some_and(|o| p.starts_with(o));
        if let Some((value, h)) = &host {
            let problem = if root_c.starts_with(h) {
                Some(format!(
                    "`host.output` `{value}` holds the site itself: partner files, kits, the kit secret, event databases and collector/ would be published"
                ))
            } else {
                own.iter()
                    .find(|(o, _)| {
                        let o = at(o);
                        o.starts_with(h) || h.starts_with(&o)
                    })
                    .map(|(o, what)| {
                        format!("`host.output` `{value}` would publish {what} (`{o}`)")
                    })
            };
            if let Some(message) = problem {
                flag(
                    r,
                    node,
                    &["host", "output"],
                    Problem {
                        message,
                        expected: "the folder the host generator writes, e.g. `public` (Hugo), `dist` (Astro), `_site` (Eleventy)",
                        hint: Some(
                            "only that folder is published; keep the site's own files (partner-pages.yaml, partners/, kits, collector/) beside it"
                                .into(),
                        ),
                    },
                );
            }
        }
        // The host site: the folder holding its output, or the site root.
        let host_site = host
            .as_ref()
            .map(|(_, h)| h[..h.len().saturating_sub(1)].to_vec())
            .unwrap_or_else(|| root_c.clone());
        let shell = self.shell.as_ref().map(|s| s.page.as_str());
        for (i, value) in self.host.data.iter().enumerate() {
            let index = i.to_string();
            let path = ["host", "data", index.as_str()];
            const EXPECTED: &str =
                "a `.json` file of the host site, relative to partner-pages.yaml, e.g. `data/partners.json`";
            let message = if !is_relative(value) {
                Some(format!("`{value}` is not a relative path"))
            } else if !value.ends_with(".json") {
                Some(format!("`host.data` `{value}` is not a `.json` file"))
            } else {
                let d = at(value);
                if !d.starts_with(&host_site) || d.len() == host_site.len() {
                    Some(format!("`host.data` `{value}` is outside the host site"))
                } else if let Some((o, what)) = own.iter().find(|(o, _)| d.starts_with(&at(o))) {
                    Some(format!(
                        "`host.data` `{value}` would overwrite {what} (`{o}`)"
                    ))
                } else if in_ours(&d) {
                    Some(format!(
                        "`host.data` `{value}` is inside the partner pages' own output folder"
                    ))
                } else if shell.is_some_and(|s| is_relative(s) && at(s) == d) {
                    Some(format!("`host.data` `{value}` is the shell page"))
                } else {
                    None
                }
            };
            if let Some(message) = message {
                flag(
                    r,
                    node,
                    &path,
                    Problem {
                        message,
                        expected: EXPECTED,
                        hint: Some(
                            "every build rewrites these files: keep them inside the host site (the folder holding `host.output`), away from the site's own files"
                                .into(),
                        ),
                    },
                );
            }
        }
        if let Some(value) = shell.filter(|s| is_relative(s)) {
            let s = at(value);
            let message = if let Some((o, what)) = own.iter().find(|(o, _)| s.starts_with(&at(o))) {
                Some(format!(
                    "`shell.page` `{value}` is one of {what} (`{o}`), not a host-built page"
                ))
            } else if in_ours(&s) {
                Some(format!(
                    "`shell.page` `{value}` is inside the partner pages' own output folder"
                ))
            } else {
                None
            };
            if let Some(message) = message {
                flag(
                    r,
                    node,
                    &["shell", "page"],
                    Problem {
                        message,
                        expected: "a page the host generator built, e.g. `public/about/index.html`",
                        hint: Some(
                            "pick a page of the host's output outside the partner pages' folder"
                                .into(),
                        ),
                    },
                );
            }
        }
    }
}

/// Folders of a site that the kits must not be written into (its inputs and other outputs).
const NOT_FOR_KITS: &[&str] = &[
    "partners",
    "content",
    "templates",
    "public",
    "preview",
    "collector",
];

/// `kits.dir`: a folder of its own, not the site root nor one of the site's other folders (the
/// build also refuses a kits folder inside the output folder, which `--out` may move).
fn kits_dir(dir: &str) -> Option<Problem> {
    const EXPECTED: &str = "a folder of its own, relative to the site root, e.g. `kits`";
    let trimmed = dir.trim_end_matches('/');
    let first = trimmed.trim_start_matches("./");
    if trimmed.is_empty() || first.is_empty() || first == "." {
        return Some(Problem {
            message: format!("`kits.dir` `{dir}` is the site root"),
            expected: EXPECTED,
            hint: Some("kits hold each partner's private terms: give them their own folder".into()),
        });
    }
    let top = first.split('/').next().unwrap_or(first);
    if NOT_FOR_KITS.contains(&top) {
        return Some(Problem {
            message: format!("`kits.dir` `{dir}` is inside the site's `{top}` folder"),
            expected: EXPECTED,
            hint: Some(if matches!(top, "public" | "preview") {
                "kits under the published output would be public; keep them beside it, e.g. `kits`"
                    .into()
            } else {
                format!("`{top}/` belongs to the site; use a folder of its own, e.g. `kits`")
            }),
        });
    }
    None
}

fn check_band(name: &str, band: Band, node: &crate::load::yaml::Node, r: &mut Report) {
    const EXPECTED: &str =
        "`{ low: L, high: H }` with 0 <= L <= H <= 1 (shares of visitors: 0.2 = 20%)";
    for (side, v) in [("low", band.low), ("high", band.high)] {
        if !(0.0..=1.0).contains(&v) {
            let hint = (v > 1.0 && v <= 100.0)
                .then(|| format!("write percentages as shares: {} instead of {v}", v / 100.0));
            let problem = Problem {
                message: format!("`bands.{name}.{side}` is {v}, outside 0..1"),
                expected: EXPECTED,
                hint,
            };
            flag(r, node, &["bands", name, side], problem);
            return;
        }
    }
    if band.low > band.high {
        let problem = Problem {
            message: format!(
                "`bands.{name}` has low {} above high {}",
                band.low, band.high
            ),
            expected: EXPECTED,
            hint: Some("swap the two values".into()),
        };
        flag(r, node, &["bands", name, "low"], problem);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn load(text: &str) -> Result<Config, Vec<String>> {
        let mut r = Report::new(Path::new(CONFIG_FILE), text, 0);
        parse(text, &mut r).ok_or_else(|| {
            r.diags
                .iter()
                .map(|d| format!("{}:{} {}", d.line, d.column, d.message))
                .collect()
        })
    }

    const MINIMAL: &str = "name: S\nbase_url: https://example.com/partners/\nsummary: Sum\n";

    #[test]
    fn a_minimal_config_gets_defaults_and_a_trimmed_base_url() {
        let c = load(MINIMAL).unwrap();
        assert_eq!(c.base_url, "https://example.com/partners");
        assert_eq!(c.base_path(), "/partners");
        assert_eq!(c.attribution.window_days, 30);
        assert_eq!(c.collector.endpoint, "/e");
    }

    #[test]
    fn a_host_base_path_is_a_plain_path_above_base_url_with_a_routed_collector() {
        let routed = "collector: { mode: route, route: \"example.com/blog/partners/go/*\" }\n";
        let text = |base_url: &str, host: &str, collector: &str| {
            format!("name: S\nbase_url: {base_url}\nsummary: Sum\nhost: {{ output: public, base_path: {host} }}\n{collector}")
        };
        let c = load(&text("https://example.com/blog/partners", "/blog/", routed)).unwrap();
        assert_eq!(c.host_base_path(), "/blog");
        assert_eq!(in_host(c.base_path(), c.host_base_path()), "/partners");
        for (base_url, host, collector, want) in [
            (
                "https://example.com/blog/partners",
                "blog",
                routed,
                "4:36 `host.base_path: blog` is not a path",
            ),
            (
                "https://example.com/blog/partners",
                "/blog/../x",
                routed,
                "4:36 `host.base_path: /blog/../x` is not a path",
            ),
            (
                "https://example.com/partners",
                "/blog",
                routed,
                "4:36 `base_url` https://example.com/partners is not below the host's base path `/blog`",
            ),
            (
                "https://example.com/blog",
                "/blog",
                routed,
                "4:36 `base_url` https://example.com/blog is not below the host's base path `/blog`",
            ),
            (
                "https://example.com/blogs/partners",
                "/blog",
                routed,
                "4:36 `base_url` https://example.com/blogs/partners is not below the host's base path `/blog`",
            ),
            (
                "https://example.com/blog/partners",
                "/blog",
                "",
                "4:36 `host.base_path: /blog` needs `collector.mode: route`",
            ),
        ] {
            assert_eq!(
                load(&text(base_url, host, collector)).unwrap_err(),
                vec![want.to_string()],
                "{base_url} {host}"
            );
        }
    }

    #[test]
    fn site_paths_map_into_a_host_under_a_sub_path_on_segment_boundaries() {
        assert_eq!(in_host("/blog/partners", "/blog"), "/partners");
        assert_eq!(in_host("/blog", "/blog/"), "/");
        assert_eq!(in_host("/blogs/x", "/blog"), "/blogs/x");
        assert_eq!(in_host("/x", ""), "/x");
        assert!(under("/blog/x", "/blog") && under("/blog", "/blog") && under("/x", ""));
        assert!(!under("/blogs", "/blog") && !under("/", "/blog"));
    }

    #[test]
    fn schema_mirrors_every_field_of_the_struct() {
        use crate::load::schema::{field_paths, json_paths};
        let text = format!(
            "{MINIMAL}host: {{ output: public, data: [data/partners.json] }}\nshell: {{ page: public/about/index.html, main: main }}\nstripe: {{ prefer: coupon }}\n"
        );
        let json = serde_json::to_value(load(&text).unwrap()).unwrap();
        // `reward:` (private terms) is never serialised.
        let schema: std::collections::BTreeSet<String> = field_paths(&SCHEMA)
            .into_iter()
            .filter(|f| f != "reward" && !f.starts_with("reward."))
            .collect();
        assert_eq!(
            schema,
            json_paths(&json),
            "add the new field to config::SCHEMA"
        );
        let with_reward = format!("{text}reward: {{ sale: 20%, currency: usd }}\n");
        let c = load(&with_reward).unwrap();
        assert_eq!(
            c.reward.as_ref().and_then(|r| r.sale.as_deref()),
            Some("20%")
        );
        assert!(!serde_json::to_string(&c).unwrap().contains("20%"));
    }

    #[test]
    fn every_config_problem_is_reported_at_its_value() {
        let text = "name: S\nbase_url: example.com\nsummary: Sum\ncollector: { endpoint: e, database: \"x; rm -rf ~\" }\nattribution:\n  window_days: 0\nbands:\n  cta: { low: 0.2, high: 0.1 }\n  activation: { low: 1, high: 3 }\n";
        assert_eq!(
            load(text).unwrap_err(),
            vec![
                "2:11 base_url `example.com` is not an absolute http(s) URL",
                "4:24 `e` is not a site path",
                "4:37 `x; rm -rf ~` is not a D1 database name",
                "6:16 `attribution.window_days` is 0: no visit could ever be attributed",
                "8:15 `bands.cta` has low 0.2 above high 0.1",
                "9:31 `bands.activation.high` is 3, outside 0..1",
            ]
        );
    }

    #[test]
    fn misspelled_config_keys_get_a_suggestion() {
        let mut r = Report::new(Path::new(CONFIG_FILE), "", 0);
        let text = format!("{MINIMAL}atribution: {{ window_days: 7 }}\n");
        assert!(parse(&text, &mut r).is_none());
        assert_eq!(
            r.diags[0].hint.as_deref(),
            Some("did you mean `attribution`?")
        );
    }

    #[test]
    fn host_output_never_publishes_the_site_and_host_data_writes_only_host_files() {
        let errs = |host: &str| load(&format!("{MINIMAL}{host}")).err().unwrap_or_default();
        // The host output holding the site root, or one of its folders: refused at the value.
        for output in [
            ".",
            "./",
            "..",
            "../..",
            "partners",
            "collector",
            "kits",
            "kits/x",
            "content",
        ] {
            let e = errs(&format!("host:\n  output: \"{output}\"\n"));
            assert_eq!(e.len(), 1, "{output}: {e:?}");
            assert!(e[0].starts_with("5:11 `host.output`"), "{output}: {e:?}");
        }
        assert!(
            errs("host: { output: dist }\nkits: { dir: dist/kits }\n")[0]
                .contains("would publish the private partner kits")
        );
        // With the root known, `../<its own name>` is the root.
        let site = tempfile::tempdir().unwrap();
        let name = site
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let text = format!("{MINIMAL}host: {{ output: ../{name} }}\n");
        let mut r = Report::new(Path::new(CONFIG_FILE), &text, 0);
        assert!(parse_in(&text, Some(site.path()), &mut r).is_none());
        assert!(
            r.diags[0].message.contains("holds the site itself"),
            "{:?}",
            r.diags
        );
        // Fine: the usual layouts.
        assert!(errs("host: { output: public, data: [data/partners.json] }\nshell: { page: public/about/index.html, main: main }\n").is_empty());
        assert!(errs("host: { output: ../public, data: [../data/partners.json] }\nshell: { page: ../public/about/index.html, main: main }\n").is_empty());

        // host.data onto the site's own files, out of the host, absolute: each at its item.
        for (data, says) in [
            ("partner-pages.json", ""),
            ("partners/acme.json", "would overwrite the partner files"),
            ("templates/x.json", "would overwrite the site's templates"),
            ("kits/x.json", "would overwrite the private partner kits"),
            ("collector/x.json", "would overwrite the collector"),
            (
                "public/partners/x.json",
                "inside the partner pages' own output folder",
            ),
            ("../../x.json", "is outside the host site"),
            ("../x.json", "is outside the host site"),
            ("/tmp/x.json", "is not a relative path"),
            ("partner-pages.yaml", "is not a `.json` file"),
            ("partners/acme.yaml", "is not a `.json` file"),
        ] {
            let e = errs(&format!(
                "host:\n  output: public\n  data: [data/ok.json, \"{data}\"]\n"
            ));
            if says.is_empty() {
                assert!(e.is_empty(), "{data}: {e:?}");
                continue;
            }
            assert_eq!(e.len(), 1, "{data}: {e:?}");
            assert!(
                e[0].starts_with("6:24 ") && e[0].contains(says),
                "{data}: {e:?}"
            );
        }
        // Without host.output, the host site is the site root.
        assert!(errs("host: { data: [../x.json] }\n")[0].contains("outside the host site"));
        // The shell page is a host page, not one of ours.
        for page in [
            "templates/base.html",
            "public/partners/p/x/index.html",
            "kits/a/index.html",
        ] {
            let e = errs(&format!(
                "host: {{ output: public }}\nshell: {{ page: {page}, main: main }}\n"
            ));
            assert_eq!(e.len(), 1, "{page}: {e:?}");
            assert!(e[0].contains("`shell.page`"), "{page}: {e:?}");
        }
    }
}
