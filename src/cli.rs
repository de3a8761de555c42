//! Command-line interface: one variant per command, with help that teaches.

use clap::{Args, Parser, Subcommand, ValueEnum};
use partner_pages::stage::Stage;
use std::path::PathBuf;

/// The flag that gives the library's request field `field` (`since` -> `--since`).
pub(crate) fn flag(field: &str) -> String {
    format!("--{}", field.replace('_', "-"))
}

#[derive(Debug, Parser)]
#[command(
    name = "partner-pages",
    version,
    about = "Partner referral landing pages with a first-party funnel",
    long_about = "Build landing pages from partners/*.yaml, collect events with a Cloudflare Worker \
                  or the local collector, and read them back as funnel reports, annotations and a \
                  content calendar.",
    after_help = "Examples:\n  partner-pages init my-site\n  partner-pages check\n  partner-pages build --base-url https://example.com\n  partner-pages serve --port 8080\n  partner-pages report --events partner-events.db --last 7d"
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args, Clone)]
pub(crate) struct GlobalArgs {
    /// Site root: the folder with partner-pages.yaml, partners/, content/, templates/.
    #[arg(long, global = true, default_value = ".", env = "PARTNER_PAGES_ROOT")]
    pub root: PathBuf,
    /// Print only errors.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// Print more about what is done (repeat for more).
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create a new site that builds as is: config, one partner, one content page.
    Init(InitArgs),
    /// Validate every partner, content file and template; report all errors at once.
    Check(CheckArgs),
    /// Build public/ (pages, kit, sitemap, llms.txt) and collector/ (Worker, wrangler.toml).
    Build(BuildArgs),
    /// Build, serve public/ with the local collector, rebuild on change with live reload.
    Serve(ServeArgs),
    /// Funnel report per partner and campaign, with intervals and one action each.
    Report(ReportArgs),
    /// Next weeks' content tasks per partner: briefs, enablement emails, CTA proposals.
    Calendar(CalendarArgs),
    /// One row per lead journey: who sent it, what promise, what next.
    Leads(LeadsArgs),
    /// The commission ledger from the events and reward rules, into ledger/commissions.csv.
    Commissions(LedgerArgs),
    /// The next payout batch: PayPal and Wise files and the lock to commit (moves no money).
    Payouts(LedgerArgs),
    /// Delete one person's rows from a local SQLite event file (and print the D1 statement).
    Forget(ForgetArgs),
    /// Model Context Protocol server over stdio: read-only tools for agents.
    Mcp(McpArgs),
}

#[derive(Debug, Args)]
pub(crate) struct LedgerArgs {
    /// Event source, as for `report` (default: partner-events.db of `serve` when it exists).
    #[arg(long, value_name = "SRC")]
    pub events: Option<String>,
    /// The day the statuses are computed for (YYYY-MM-DD or an RFC 3339 time, UTC); default
    /// now. Give it for a reproducible ledger.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
    /// `commissions` only: print this partner's earnings as JSON (totals per currency and
    /// status, held rows with their reason) instead of writing the ledger.
    #[arg(long)]
    pub partner: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// Folder to create the site in (default: the current folder; must be empty).
    pub dir: Option<PathBuf>,
    /// Only add the weekly report workflow (.github/workflows/partner-report.yml) to the
    /// existing site in DIR, for its D1 database; in a subfolder of a git repository it goes
    /// to the repository's root and runs in the subfolder. An existing file is never
    /// overwritten.
    #[arg(long)]
    pub workflow: bool,
    /// Set partner pages up at the root of an existing Hugo, Astro or Eleventy site in DIR:
    /// the config (partner pages under /partners, into the host's output), one partner, our
    /// content in partner-content/, .gitignore entries and the weekly workflow, at the root.
    #[arg(long, conflicts_with = "workflow")]
    pub host: bool,
}

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// Check only these partner files (default: the whole site).
    pub files: Vec<PathBuf>,
    /// Print the diagnostics as JSON.
    #[arg(long)]
    pub json: bool,
    /// Check links even when the host output is not built yet (links to its pages then fail).
    /// Without it, `check` checks every link whenever the site stands alone or its host output
    /// exists, as `build` does.
    #[arg(long)]
    pub links: bool,
    /// The host site's output folder for --links (default: host.output of the config).
    #[arg(long, value_name = "DIR")]
    pub host_dir: Option<PathBuf>,
    /// Skip the link check and the output folder's check, as `build --no-link-check` does.
    #[arg(long, conflicts_with_all = ["links", "host_dir"])]
    pub no_link_check: bool,
}

#[derive(Debug, Args, Clone, Default)]
pub(crate) struct OutputArgs {
    /// Output folder for the static site (default: <root>/public).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Override base_url from partner-pages.yaml (e.g. https://example.com/partners).
    #[arg(long)]
    pub base_url: Option<String>,
    /// The host site's output folder, served at `/` (default: host.output of the config); the
    /// partner pages go to <host-dir><base path> unless --out says otherwise.
    #[arg(long, value_name = "DIR")]
    pub host_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct BuildArgs {
    #[command(flatten)]
    pub output: OutputArgs,
    /// Annotate pages with the funnel of this event source (see `report --help`).
    #[arg(long, value_name = "SRC")]
    pub events: Option<String>,
    /// "Now" for the annotation window, RFC 3339 (default: the current time).
    #[arg(long, value_name = "TS")]
    pub now: Option<String>,
    /// Staff build: a funnel overlay on each landing page and annotations.json.
    #[arg(long)]
    pub preview: bool,
    /// Merge our section into this existing llms.txt instead of writing our own.
    #[arg(long, value_name = "PATH")]
    pub llms_merge: Option<PathBuf>,
    /// Do not fail on a link to a page that is in neither the host nor the partner output.
    #[arg(long)]
    pub no_link_check: bool,
    /// Write only the partner registry files listed in host.data (run it before the host
    /// build, so host templates can read them).
    #[arg(long)]
    pub data_only: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    pub output: OutputArgs,
    /// Address to listen on (loopback by default).
    #[arg(long, default_value = "127.0.0.1")]
    pub interface: String,
    /// Port to listen on (0 picks a free one and prints it).
    #[arg(long, short, default_value_t = 8080)]
    pub port: u16,
    /// SQLite file the local collector writes to (a relative path is in the site root).
    #[arg(long, default_value = "partner-events.db")]
    pub db: PathBuf,
    /// File holding the /s signing secret (default: $PP_SIGNING_SECRET).
    #[arg(long, value_name = "FILE")]
    pub secret_file: Option<PathBuf>,
    /// File holding the Stripe webhook signing secret(s), whsec_..., one per line (default:
    /// $PP_STRIPE_WEBHOOK_SECRET, separated by commas).
    #[arg(long, value_name = "FILE")]
    pub stripe_secret_file: Option<PathBuf>,
    /// Do not watch files or rebuild.
    #[arg(long)]
    pub no_watch: bool,
    /// Seconds a request head, or a collector request body, may take to arrive; a slower
    /// head closes the connection, a slower body gets 408.
    #[arg(long, value_name = "SECS", default_value_t = partner_pages::collector::server::READ_TIMEOUT.as_secs(), value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub read_timeout: u64,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum ReportFormat {
    Md,
    Html,
    Json,
}

#[derive(Debug, Args, Clone)]
pub(crate) struct RangeArgs {
    /// Event source: a SQLite file, a D1 name in .wrangler/state, a `wrangler d1 export` .sql dump,
    /// the JSON of `wrangler d1 execute --json`, or d1:<database> for a remote D1.
    /// Default: the `serve` database, partner-events.db in the site folder, when it exists.
    #[arg(long, value_name = "SRC")]
    pub events: Option<String>,
    /// Report range ending now, e.g. 7d, 24h, 4w.
    #[arg(long, conflicts_with_all = ["since", "until"])]
    pub last: Option<String>,
    /// Range start (inclusive), a date or RFC 3339 time, UTC.
    #[arg(long)]
    pub since: Option<String>,
    /// Range end (exclusive), a date or RFC 3339 time, UTC.
    #[arg(long)]
    pub until: Option<String>,
    /// "Now" for --last and defaults, RFC 3339 (for reproducible runs).
    #[arg(long, value_name = "TS")]
    pub now: Option<String>,
    /// Only this partner.
    #[arg(long)]
    pub partner: Option<String>,
}

impl RangeArgs {
    /// The range as the library takes it.
    pub(crate) fn spec(&self) -> partner_pages::funnel::RangeSpec<'_> {
        partner_pages::funnel::RangeSpec {
            last: self.last.as_deref(),
            since: self.since.as_deref(),
            until: self.until.as_deref(),
            now: self.now.as_deref(),
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    #[command(flatten)]
    pub range: RangeArgs,
    #[arg(long, value_enum, default_value = "md")]
    pub format: ReportFormat,
    /// Write to this file instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// A report to send to the partner named by --partner: only their own figures, campaigns
    /// and next step (no other partner, no pooled average, no internal rule names).
    #[arg(long)]
    pub for_partner: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum CalendarFormat {
    Md,
    Json,
    Ics,
}

#[derive(Debug, Args)]
pub(crate) struct CalendarArgs {
    /// Event source (see `report --help`; default: partner-events.db when it exists).
    #[arg(long, value_name = "SRC")]
    pub events: Option<String>,
    /// How many weeks to plan.
    #[arg(long, default_value_t = 1)]
    pub weeks: u32,
    /// First day of the plan (default: next Monday after --now).
    #[arg(long)]
    pub start: Option<String>,
    #[arg(long, value_name = "TS")]
    pub now: Option<String>,
    #[arg(long, value_enum, default_value = "md")]
    pub format: CalendarFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum LeadsFormat {
    Json,
    Csv,
    Md,
}

#[derive(Debug, Args)]
pub(crate) struct LeadsArgs {
    #[command(flatten)]
    pub range: RangeArgs,
    /// Only journeys that reached at least this stage.
    #[arg(long, default_value = "visit")]
    pub stage: Stage,
    /// Only leads with a user id: someone sales can contact.
    #[arg(long)]
    pub contactable: bool,
    #[arg(long, value_enum, default_value = "json")]
    pub format: LeadsFormat,
    /// At most N leads (1 to 1000); the JSON's `next_cursor` gives the next page. Default: all.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Start after the page this cursor came from (`next_cursor` of the previous answer).
    #[arg(long, value_name = "CURSOR")]
    pub cursor: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct ForgetArgs {
    /// The local SQLite event file.
    #[arg(long)]
    pub db: PathBuf,
    /// Delete the rows of this visitor id.
    #[arg(long, conflicts_with = "user")]
    pub visitor: Option<String>,
    /// Delete the rows of every visitor this product user id was joined to.
    #[arg(long)]
    pub user: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct McpArgs {
    /// Default event source for the report, leads and calendar tools.
    #[arg(long, value_name = "SRC")]
    pub events: Option<String>,
}
