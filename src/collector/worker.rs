//! Collector stage, production: the Cloudflare Worker, wrangler.toml and D1 migrations.
//!
//! Takes: the site (the partner registry is compiled into the Worker, so unknown codes and
//! campaigns are refused without a lookup). Gives: the files of `collector/`, relative to it:
//! `worker.js`, `wrangler.toml`, `migrations/0001_partner_events.sql`,
//! `migrations/0002_value_user.sql`, `migrations/0003_variant.sql`,
//! `migrations/0004_payments.sql` and a `.gitignore` for wrangler's local state and secrets;
//! and, in mode `assets`, `public/.assetsignore` ([`public_files`]).
//!
//! The Worker's source is `templates/collector/worker.js`, embedded in the binary; the only
//! generated part is the registry object, injected as script-safe JSON.

use crate::collector::{
    BOT_UA_MARKERS, MAX_BEACON_BODY, MAX_JSON_DEPTH, MAX_PAGE_PATH, MAX_SERVER_BODY, SECRET_ENV,
    SIGNATURE_WINDOW_SECS, VARIANT_SECRET_ENV,
};
use crate::config::CollectorMode;
use crate::model::event::{PAYMENT_SQL, SCHEMA_SQL, VALUE_USER_SQL, VARIANT_SQL};
use crate::output::OutputFile;
use crate::render::beacon::script_json;
use crate::site::Site;
use crate::text::url::host_of;
use serde::Serialize;
use std::collections::BTreeMap;

/// The Worker source; `/*@REGISTRY@*/ {}` is replaced by the registry.
const WORKER_TEMPLATE: &str = include_str!("../../templates/collector/worker.js");
const REGISTRY_SLOT: &str = "/*@REGISTRY@*/ {}";
/// Replaced by [`Protocol`]: the words of the protocol and the table, from the Rust constants.
const PROTOCOL_SLOT: &str = "/*@PROTOCOL@*/ {}";

/// The workerd feature level the Worker is written against. Fixed, so builds are reproducible.
pub(crate) const COMPATIBILITY_DATE: &str = "2025-06-01";

/// Written as `database_id` until `collector.database_id` is set; `wrangler deploy` refuses it.
pub(crate) const PLACEHOLDER_DATABASE_ID: &str = "00000000-0000-0000-0000-000000000000";

/// Migration file names, in order.
pub(crate) const MIGRATION_SEED: &str = "migrations/0001_partner_events.sql";
pub(crate) const MIGRATION_VALUE_USER: &str = "migrations/0002_value_user.sql";
pub(crate) const MIGRATION_VARIANT: &str = "migrations/0003_variant.sql";
pub(crate) const MIGRATION_PAYMENTS: &str = "migrations/0004_payments.sql";

/// The words the Worker shares with the local collector and the table, taken from the Rust
/// constants so the two cannot drift: the stage names, the id pattern, the `INSERT`s (the
/// column list). Field names are read by `worker.js`.
#[derive(Debug, PartialEq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Protocol {
    /// The stages a beacon may send ([`crate::collector::requests::BEACON_STAGES`]).
    pub beacon_stages: Vec<String>,
    /// The events of a signed `/s` body ([`crate::collector::requests::SERVER_EVENTS`]).
    pub server_events: Vec<String>,
    /// The stage a `/go/` row records.
    pub click: String,
    /// The stage checked against the partner's trigger.
    pub activation: String,
    /// The server event that needs a value.
    pub revenue: String,
    /// The funnel stages as an SQL list, `('click', 'visit', ...)`.
    pub stage_names_sql: String,
    /// Page and visitor ids ([`crate::collector::requests::PAGE_ID_PATTERN`]).
    pub page_id: String,
    /// `INSERT` of the first seven columns (`/go/` and `/e` rows).
    pub event_insert: String,
    /// ... and the variant (partners running a test).
    pub variant_insert: String,
    /// `INSERT` of the seven columns, `value` and `user_id` (`/s` rows).
    pub server_insert: String,
    /// ... and the variant.
    pub server_variant_insert: String,
    /// `INSERT INTO partner_events (every column) ` (a payment, followed by its `SELECT`).
    pub payment_insert: String,
}

impl Protocol {
    /// From the Rust constants.
    pub(crate) fn from_rust() -> Protocol {
        use crate::collector::requests::{BEACON_STAGES, PAGE_ID_PATTERN, SERVER_EVENTS};
        use crate::model::event::{INSERT_COLUMNS, REQUIRED_COLUMNS, TABLE};
        let insert = |extra: &[&str]| {
            let cols: Vec<&str> = REQUIRED_COLUMNS.iter().chain(extra).copied().collect();
            let marks: Vec<String> = (1..=cols.len()).map(|i| format!("?{i}")).collect();
            format!(
                "INSERT INTO {TABLE} ({}) VALUES ({})",
                cols.join(", "),
                marks.join(", ")
            )
        };
        let stages: Vec<String> = crate::stage::Stage::ALL
            .iter()
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        Protocol {
            beacon_stages: BEACON_STAGES.iter().map(|s| s.as_str().into()).collect(),
            server_events: SERVER_EVENTS.iter().map(|s| s.to_string()).collect(),
            click: crate::stage::Stage::Click.as_str().into(),
            activation: crate::stage::Stage::Activation.as_str().into(),
            revenue: crate::stage::REVENUE.into(),
            stage_names_sql: format!("({})", stages.join(", ")),
            page_id: PAGE_ID_PATTERN.into(),
            event_insert: insert(&[]),
            variant_insert: insert(&["variant"]),
            server_insert: insert(&["value", "user_id"]),
            server_variant_insert: insert(&["value", "user_id", "variant"]),
            payment_insert: format!("INSERT INTO {TABLE} ({INSERT_COLUMNS}) "),
        }
    }
}

/// What the Worker knows about the site. Field names are read by `worker.js`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Registry<'a> {
    base_path: &'a str,
    endpoint: &'a str,
    cookie_prefix: &'a str,
    cookie_max_age: u64,
    honor_dnt: bool,
    honor_gpc: bool,
    max_beacon_body: usize,
    max_server_body: usize,
    max_page_path: usize,
    max_json_depth: usize,
    signature_window_secs: i64,
    bot_markers: &'a [&'a str],
    partners: BTreeMap<&'a str, RegistryPartner<'a>>,
    /// The Stripe webhook's rules; null without `stripe:` (the route is then not the Worker's).
    stripe: Option<RegistryStripe>,
}

/// What `POST <base>/stripe` needs (see `crate::collector::stripe`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct RegistryStripe {
    max_body: usize,
    tolerance_secs: i64,
    window_secs: i64,
    prefer: &'static str,
    /// Coupon id, upper case -> partner code.
    coupons: BTreeMap<String, String>,
    currencies: &'static [&'static str],
}

#[derive(Debug, Serialize)]
struct RegistryPartner<'a> {
    campaigns: Vec<&'a str>,
    /// Site path of the landing page, without the base path.
    landing: String,
    /// `page:` trigger, or null.
    page: Option<&'a str>,
    /// `click:` trigger name, or null.
    click: Option<&'a str>,
    /// The experiment's `[id, weight]` pairs, the control first; empty without a test.
    variants: Vec<(String, f64)>,
}

/// Files relative to `collector/`.
pub(crate) fn render(site: &Site) -> crate::Result<Vec<OutputFile>> {
    Ok(vec![
        OutputFile::new(".gitignore", ".wrangler/\n.dev.vars\n"),
        OutputFile::new(MIGRATION_SEED, migration_seed()),
        OutputFile::new(MIGRATION_VALUE_USER, migration_value_user()),
        OutputFile::new(MIGRATION_VARIANT, migration_variant()),
        OutputFile::new(MIGRATION_PAYMENTS, migration_payments()),
        OutputFile::new("worker.js", worker_js(site)),
        OutputFile::new(WRANGLER_TOML, wrangler_toml(site, DEFAULT_ASSETS_DIR)),
    ])
}

/// Files the collector needs in `public/`: in mode `assets`, `.assetsignore` (gitignore
/// syntax; wrangler reads it, never serves it, and leaves what it lists out of the deploy), so
/// the Worker serves what `serve` serves: no dotfile or dot-folder at any depth except
/// `.well-known/`. That covers the build's bookkeeping by name too, and the temporaries
/// (`.<name>.pp-tmp-<pid>`) and marker a killed build can leave behind.
pub(crate) fn public_files(site: &Site) -> Vec<OutputFile> {
    match site.config.collector.mode {
        CollectorMode::Assets => vec![OutputFile::new(
            ".assetsignore",
            format!(
                "{ASSETS_IGNORE_HEADER} files in public/ the Worker must not serve or deploy.\n\
                 # Every dotfile and dot-folder (as `partner-pages serve`), except .well-known/:\n\
                 .*\n!.well-known\n\
                 # and by name, the build's bookkeeping and what a killed build leaves behind:\n\
                 {}\n{}\n{}\n*.pp-tmp-*\n",
                crate::output::MANIFEST,
                crate::output::LEGACY_STAMP,
                crate::output::WRITING,
            ),
        )],
        // A static origin may list folders (an autoindex): an index page in the hosted kits'
        // folder stands in for the listing, so `/kits/` names no kit.
        CollectorMode::Route if matches!(site.kit_hosting, crate::kits::Hosting::Hosted(_)) => {
            vec![OutputFile::new(
                format!("{}/index.html", crate::kits::HOSTED_DIR),
                KITS_INDEX,
            )]
        }
        CollectorMode::Route => Vec::new(),
    }
}

/// The page at `/kits/` in mode `route` with hosted kits: nothing, not indexed.
const KITS_INDEX: &str = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"robots\" content=\"noindex\"><meta name=\"referrer\" content=\"no-referrer\"><title>Not found</title></head><body><p>Not found.</p></body></html>\n";

/// A warning when the host output has an `.assetsignore` of its own (which `build` leaves
/// alone) that does not keep dotfiles out of the Worker's assets: the build's manifest (hashes
/// of paths, no path), the marker and temporaries of an interrupted build would be served.
pub(crate) fn host_assets_ignore_warning(host: &std::path::Path) -> Option<String> {
    let path = host.join(".assetsignore");
    let text = std::fs::read_to_string(&path).ok()?;
    if text.starts_with(ASSETS_IGNORE_HEADER) {
        return None;
    }
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let covers = |name: &str| {
        lines
            .iter()
            .any(|l| matches!(*l, ".*" | "/.*" | "**/.*") || l.trim_start_matches('/') == name)
    };
    let missing: Vec<&str> = [crate::output::MANIFEST, crate::output::WRITING]
        .into_iter()
        .filter(|n| !covers(n))
        .collect();
    (!missing.is_empty() || !lines.iter().any(|l| *l == "*.pp-tmp-*" || *l == ".*")).then(|| {
        format!(
            "{} is the host's own and does not leave partner-pages' dotfiles ({}, `*.pp-tmp-*`) out of the Worker's assets: they would be served. Add the lines `.*` and `!.well-known` to it",
            path.display(),
            [crate::output::MANIFEST, crate::output::WRITING].join(", ")
        )
    })
}

/// How our `.assetsignore` starts: a file that starts otherwise is the host's own.
pub(crate) const ASSETS_IGNORE_HEADER: &str = "# Generated by partner-pages:";

/// `worker.js` with the site's registry compiled in.
pub(crate) fn worker_js(site: &Site) -> String {
    let cfg = &site.config;
    let registry = Registry {
        base_path: cfg.base_path(),
        endpoint: &cfg.collector.endpoint,
        cookie_prefix: &cfg.attribution.cookie_prefix,
        cookie_max_age: u64::from(cfg.attribution.window_days) * 86_400,
        honor_dnt: cfg.privacy.honor_dnt,
        honor_gpc: cfg.privacy.honor_gpc,
        max_beacon_body: MAX_BEACON_BODY,
        max_server_body: MAX_SERVER_BODY,
        max_page_path: MAX_PAGE_PATH,
        max_json_depth: MAX_JSON_DEPTH,
        signature_window_secs: SIGNATURE_WINDOW_SECS,
        bot_markers: BOT_UA_MARKERS,
        stripe: crate::collector::stripe::Rules::from_site(site).map(|r| RegistryStripe {
            max_body: crate::collector::stripe::MAX_STRIPE_BODY,
            tolerance_secs: crate::collector::stripe::TOLERANCE_SECS,
            window_secs: r.window_secs,
            prefer: r.prefer.as_str(),
            coupons: r.coupons,
            currencies: crate::collector::stripe::CURRENCIES,
        }),
        partners: site
            .partners
            .iter()
            .map(|p| {
                let entry = RegistryPartner {
                    campaigns: p.all_campaigns(),
                    landing: p.landing_path(),
                    page: p.activation.trigger.page.as_deref(),
                    click: p.activation.trigger.click.as_deref(),
                    // In both modes: the landing page's route runs the Worker, which serves the
                    // variant's file (from the assets, or from the origin in mode `route`).
                    variants: p.variant_weights(),
                };
                (p.code.as_str(), entry)
            })
            .collect(),
    };
    WORKER_TEMPLATE
        .replacen(REGISTRY_SLOT, &script_json(&registry), 1)
        .replacen(PROTOCOL_SLOT, &script_json(&Protocol::from_rust()), 1)
}

/// File name of the wrangler config inside `collector/`.
pub(crate) const WRANGLER_TOML: &str = "wrangler.toml";
/// Where the static site is, seen from `collector/`, for a build without `--out`.
pub(crate) const DEFAULT_ASSETS_DIR: &str = "../public";

/// `wrangler.toml`: the D1 binding, and either the static assets (`assets_dir`, relative to
/// `collector/`) or the routes.
pub(crate) fn wrangler_toml(site: &Site, assets_dir: &str) -> String {
    let cfg = &site.config;
    let c = &cfg.collector;
    let base = cfg.base_path();
    let mut out = String::new();
    out.push_str("# Generated by `partner-pages build` from partner-pages.yaml; rebuild instead of editing.\n");
    out.push_str(&format!(
        "# Deploy: wrangler d1 migrations apply '{db}' --remote && wrangler deploy\n\
         # Secret for signed server events: wrangler secret put {SECRET_ENV}\n",
        db = c.database
    ));
    if site.partners.iter().any(|p| !p.variants.is_empty()) {
        out.push_str(&format!(
            "# Secret for the partners' tests (draws and signs each visitor's variant; without it no\n\
             # test runs and every visitor sees the control page): wrangler secret put {VARIANT_SECRET_ENV}\n"
        ));
    }
    if cfg.stripe.is_some() {
        out.push_str(&format!(
            "# Stripe webhook endpoint secret(s), whsec_..., comma-separated: wrangler secret put {}\n",
            crate::collector::stripe::SECRET_ENV
        ));
    }
    out.push_str(&format!("name = {}\n", toml_str(&c.worker_name)));
    out.push_str("main = \"worker.js\"\n");
    out.push_str(&format!("compatibility_date = \"{COMPATIBILITY_DATE}\"\n"));
    let mut worker_paths = vec![
        format!("{base}/go/*"),
        c.endpoint.clone(),
        format!("{base}/s"),
    ];
    if cfg.stripe.is_some() {
        worker_paths.push(format!("{base}{}", crate::collector::stripe::STRIPE_PATH));
    }
    // The landing pages of partners running a test: the Worker picks the visitor's variant.
    for p in site.partners.iter().filter(|p| !p.variants.is_empty()) {
        worker_paths.push(format!("{base}{}", p.landing_path()));
        worker_paths.push(format!("{base}{}index.html", p.landing_path()));
    }
    match c.mode {
        CollectorMode::Assets => {
            out.push_str("\n# The Worker also serves the static site; it runs first only on its own routes.\n");
            out.push_str(&format!(
                "[assets]\ndirectory = {}\nbinding = \"ASSETS\"\n",
                toml_str(assets_dir)
            ));
            out.push_str(&format!(
                "run_worker_first = [{}]\n",
                worker_paths
                    .iter()
                    .map(|p| toml_str(p))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        CollectorMode::Route => {
            let host = host_of(&cfg.base_url);
            let mut routes: Vec<String> =
                worker_paths.iter().map(|p| format!("{host}{p}")).collect();
            if let Some(r) = &c.route {
                if !routes.contains(r) {
                    routes.push(r.clone());
                }
            }
            out.push_str(
                "\n# The Worker runs on the site's own domain (first-party cookies), on its routes only.\n",
            );
            out.push_str(&format!(
                "routes = [{}]\n",
                routes
                    .iter()
                    .map(|r| toml_str(r))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    out.push_str("\n[[d1_databases]]\nbinding = \"DB\"\n");
    out.push_str(&format!("database_name = {}\n", toml_str(&c.database)));
    match &c.database_id {
        Some(id) => out.push_str(&format!("database_id = {}\n", toml_str(id))),
        None => out.push_str(&format!(
            "# Placeholder: run `wrangler d1 create '{}'` and set collector.database_id in partner-pages.yaml.\n\
             database_id = \"{PLACEHOLDER_DATABASE_ID}\"\n",
            c.database
        )),
    }
    out.push_str("migrations_dir = \"migrations\"\n");
    out
}

/// The `partner_events` table and index (`IF NOT EXISTS`, so a database that already has the
/// table adopts the migrations).
pub(crate) fn migration_seed() -> String {
    format!("-- partner_events: the event table and its index.\n{SCHEMA_SQL}\n")
}

/// Nullable revenue value and the product's opaque user id, written by `POST /s`.
pub(crate) fn migration_value_user() -> String {
    format!("-- Nullable columns for server-side events: revenue value, opaque user id.\n{VALUE_USER_SQL}\n")
}

/// The experiment variant a visitor was shown; null for partners without variants, rows from
/// before the test, and forged or unsigned variant cookies.
pub(crate) fn migration_variant() -> String {
    format!("-- Nullable experiment variant of each event (null: no test, or no variant we can trust).\n{VARIANT_SQL}\n")
}

/// Payments from Stripe webhooks: amount, currency, Stripe ids, attribution rule, and the
/// unique index that keeps each Stripe event once.
pub(crate) fn migration_payments() -> String {
    format!("-- Nullable payment columns written by the Stripe webhook, and its unique event id.\n{PAYMENT_SQL}\n")
}

/// A TOML basic string (JSON string escapes are valid TOML for these characters).
fn toml_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04X}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
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

    fn file<'a>(files: &'a [OutputFile], path: &str) -> &'a str {
        let f = files
            .iter()
            .find(|f| f.path == path)
            .unwrap_or_else(|| panic!("{path} is rendered"));
        std::str::from_utf8(&f.bytes).expect("utf-8")
    }

    #[test]
    fn collector_holds_worker_config_and_both_migrations() {
        let files = render(&example_site()).unwrap();
        let mut paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        paths.sort();
        assert_eq!(
            paths,
            [
                ".gitignore",
                "migrations/0001_partner_events.sql",
                "migrations/0002_value_user.sql",
                "migrations/0003_variant.sql",
                "migrations/0004_payments.sql",
                "worker.js",
                "wrangler.toml"
            ]
        );
    }

    #[test]
    fn first_migration_is_the_seed_schema_in_sqlite() {
        let files = render(&example_site()).unwrap();
        let db = rusqlite::Connection::open_in_memory().unwrap();
        db.execute_batch(file(&files, MIGRATION_SEED)).unwrap();
        let cols: Vec<String> = db
            .prepare("SELECT name FROM pragma_table_info('partner_events') ORDER BY cid")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            cols,
            [
                "id",
                "partner_code",
                "campaign",
                "event_name",
                "page_path",
                "visitor_id",
                "created_at"
            ]
        );
        let index: String = db
            .query_row(
                "SELECT sql FROM sqlite_master WHERE name = 'idx_partner_events_code_time'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(
            index.contains("partner_events(partner_code, created_at)"),
            "{index}"
        );
        // Applying the first migration to a database that already has the table works.
        db.execute_batch(file(&files, MIGRATION_SEED)).unwrap();
        db.execute_batch(file(&files, MIGRATION_VALUE_USER))
            .unwrap();
        db.execute_batch(file(&files, MIGRATION_VARIANT)).unwrap();
        let n: i64 = db
            .query_row(
                "SELECT count(*) FROM pragma_table_info('partner_events') WHERE name IN ('value', 'user_id', 'variant') AND \"notnull\" = 0",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 3);
    }

    /// The Worker's protocol words come from the Rust constants: the generated file holds
    /// exactly them (a changed stage name, id pattern, column or limit in Rust changes the
    /// Worker with it), and the template spells none of them itself.
    #[test]
    fn the_worker_gets_the_stage_names_id_pattern_columns_and_limits_from_rust() {
        use crate::collector::requests::{BEACON_STAGES, PAGE_ID_PATTERN, SERVER_EVENTS};
        let js = worker_js(&example_site());
        let json_of = |prefix: &str| -> serde_json::Value {
            let line = js
                .lines()
                .find(|l| l.starts_with(prefix))
                .unwrap_or_else(|| panic!("a line {prefix}"));
            serde_json::from_str(line.trim_start_matches(prefix).trim_end_matches(';')).unwrap()
        };
        let p: Protocol = serde_json::from_value(json_of("const P = ")).unwrap();
        assert_eq!(p, Protocol::from_rust());
        let names: Vec<&str> = BEACON_STAGES.iter().map(|s| s.as_str()).collect();
        assert_eq!(p.beacon_stages, names);
        assert_eq!(p.server_events, SERVER_EVENTS);
        assert_eq!(p.page_id, PAGE_ID_PATTERN);
        assert_eq!(
            p.stage_names_sql,
            "('click', 'visit', 'lead_magnet', 'cta', 'activation')"
        );
        assert!(p
            .payment_insert
            .contains(crate::model::event::INSERT_COLUMNS));
        assert_eq!(
            p.server_variant_insert,
            "INSERT INTO partner_events (id, partner_code, campaign, event_name, page_path, \
             visitor_id, created_at, value, user_id, variant) VALUES (?1, ?2, ?3, ?4, ?5, ?6, \
             ?7, ?8, ?9, ?10)"
        );
        let r = json_of("const R = ");
        assert_eq!(r["maxBeaconBody"], MAX_BEACON_BODY);
        assert_eq!(r["maxServerBody"], MAX_SERVER_BODY);
        assert_eq!(r["maxPagePath"], MAX_PAGE_PATH);
        assert_eq!(r["maxJsonDepth"], MAX_JSON_DEPTH);
        assert_eq!(r["signatureWindowSecs"], SIGNATURE_WINDOW_SECS);
        // The template itself names no stage, column list or id pattern.
        for word in [
            "\"lead_magnet\"",
            "'lead_magnet'",
            "\"revenue\"",
            "\"activation\"",
            "\"click\"",
            "partner_code, campaign, event_name",
            "[89ab]",
        ] {
            assert!(
                !WORKER_TEMPLATE.contains(word),
                "worker.js spells {word} itself"
            );
        }
        assert!(!js.contains(PROTOCOL_SLOT));
    }

    #[test]
    fn registry_is_compiled_into_the_worker() {
        let js = worker_js(&example_site());
        assert!(!js.contains(REGISTRY_SLOT));
        let line = js
            .lines()
            .find(|l| l.starts_with("const R = "))
            .expect("registry line");
        let json = line.trim_start_matches("const R = ").trim_end_matches(';');
        let reg: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(reg["endpoint"], "/e");
        assert_eq!(reg["cookiePrefix"], "pp");
        assert_eq!(reg["cookieMaxAge"], 30 * 86_400);
        assert_eq!(reg["maxBeaconBody"], MAX_BEACON_BODY);
        assert_eq!(
            reg["partners"]["seo-consultant"]["campaigns"],
            serde_json::json!(["default", "webinar-dec", "newsletter-jan"])
        );
        assert_eq!(
            reg["partners"]["seo-consultant"]["landing"],
            "/p/seo-consultant/"
        );
        assert_eq!(reg["partners"]["founder-community"]["page"], "/pricing");
        assert_eq!(
            reg["partners"]["ai-tools-directory"]["click"],
            "copy-snippet"
        );
        assert_eq!(
            reg["botMarkers"].as_array().unwrap().len(),
            BOT_UA_MARKERS.len()
        );
    }

    #[test]
    fn hostile_registry_strings_stay_data() {
        let mut site = example_site();
        site.partners[0].campaigns.push("x</script>\u{2028}".into());
        let js = worker_js(&site);
        let line = js.lines().find(|l| l.starts_with("const R = ")).unwrap();
        assert!(!line.contains('<') && !line.contains('\u{2028}'), "{line}");
        assert!(line.contains(r"x\u003c/script>\u2028"), "{line}");
    }

    #[test]
    fn assets_mode_serves_public_and_runs_the_worker_first_on_its_routes() {
        let toml = wrangler_toml(&example_site(), DEFAULT_ASSETS_DIR);
        assert!(toml.contains("name = \"aikit-partner-collector\"\nmain = \"worker.js\"\n"));
        assert!(toml.contains(&format!("compatibility_date = \"{COMPATIBILITY_DATE}\"")));
        assert!(toml.contains("[assets]\ndirectory = \"../public\"\nbinding = \"ASSETS\"\n"));
        assert!(toml.contains("run_worker_first = [\"/go/*\", \"/e\", \"/s\"]"));
        assert!(toml.contains("binding = \"DB\"\ndatabase_name = \"partner-events\"\n"));
        assert!(toml.contains(&format!("database_id = \"{PLACEHOLDER_DATABASE_ID}\"")));
        assert!(toml.contains("wrangler d1 create 'partner-events'"));
        assert!(!toml.contains("routes = "));
    }

    #[test]
    fn route_mode_routes_the_collector_paths_on_the_site_domain() {
        let mut site = example_site();
        site.config.collector.mode = CollectorMode::Route;
        site.config.base_url = "https://example.com/partners".into();
        site.config.collector.database_id = Some("abc-123".into());
        let toml = wrangler_toml(&site, DEFAULT_ASSETS_DIR);
        assert!(
            toml.contains(
                "routes = [\"example.com/partners/go/*\", \"example.com/e\", \"example.com/partners/s\"]"
            ),
            "{toml}"
        );
        assert!(toml.contains("database_id = \"abc-123\""));
        assert!(!toml.contains("[assets]"));
    }

    #[test]
    fn a_test_runs_in_both_modes_on_its_landing_page_routes_and_asks_for_the_variant_secret() {
        let mut site = example_site();
        let i = site
            .partners
            .iter()
            .position(|p| p.code == "seo-consultant")
            .unwrap();
        let variant = |id: &str| crate::partner::Variant {
            id: id.into(),
            weight: None,
            promise: None,
            landing: None,
            lead_magnet: None,
            cta: None,
        };
        site.partners[i].variants = vec![variant("control"), variant("speed")];
        assert!(!wrangler_toml(&example_site(), DEFAULT_ASSETS_DIR).contains(VARIANT_SECRET_ENV));
        for mode in [CollectorMode::Assets, CollectorMode::Route] {
            site.config.collector.mode = mode;
            let toml = wrangler_toml(&site, DEFAULT_ASSETS_DIR);
            assert!(
                toml.contains("\"/p/seo-consultant/\", \"/p/seo-consultant/index.html\"")
                    || toml.contains(
                        "\"aikit.example/p/seo-consultant/\", \"aikit.example/p/seo-consultant/index.html\""
                    ),
                "{mode:?}: {toml}"
            );
            assert!(
                toml.contains(&format!("wrangler secret put {VARIANT_SECRET_ENV}")),
                "{toml}"
            );
            let js = worker_js(&site);
            let line = js.lines().find(|l| l.starts_with("const R = ")).unwrap();
            let reg: serde_json::Value =
                serde_json::from_str(line.trim_start_matches("const R = ").trim_end_matches(';'))
                    .unwrap();
            assert_eq!(
                reg["partners"]["seo-consultant"]["variants"],
                serde_json::json!([["control", 1.0], ["speed", 1.0]]),
                "{mode:?}"
            );
            // No secret in the built Worker: the key is read at run time.
            assert!(!js.contains("test-variant-secret"));
        }
    }

    #[test]
    fn assets_mode_keeps_the_build_manifest_out_of_the_served_files() {
        let mut site = example_site();
        let files = public_files(&site);
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].path, ".assetsignore");
        let text = String::from_utf8(files[0].bytes.clone()).unwrap();
        for line in [
            crate::output::MANIFEST,
            crate::output::LEGACY_STAMP,
            crate::output::WRITING,
            "*.pp-tmp-*",
            ".*",
            "!.well-known",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in {text}");
        }
        site.config.collector.mode = CollectorMode::Route;
        assert!(public_files(&site).is_empty());
        // With hosted kits, a page stands in for a static origin's listing of `/kits/`.
        site.kit_hosting =
            crate::kits::Hosting::Hosted(crate::kits::Secret::new("0123456789abcdef0123").unwrap());
        let files = public_files(&site);
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].path, "kits/index.html");
        assert!(String::from_utf8_lossy(&files[0].bytes).contains("noindex"));
    }

    #[test]
    fn toml_strings_are_escaped() {
        assert_eq!(toml_str("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000A\"");
    }
}
