//! `partner-pages init [DIR]`: scaffold a site that builds as is (config, one partner, one page).
//!
//! Templates are not copied: the defaults are embedded in the binary, and a file of the same
//! name in the site's `templates/` overrides one of them.

use crate::cli::{GlobalArgs, InitArgs};
use partner_pages::error::{Error, Result};
use std::path::Path;

/// The scaffold: (path relative to the new site, contents).
pub(super) const SCAFFOLD: &[(&str, &str)] = &[
    (
        "partner-pages.yaml",
        r#"# Site config. Every command explains its options: `partner-pages help build`.
name: Example Partners
# Absolute URL where the partner pages are served; its path (e.g. /partners) prefixes every
# page partner-pages writes. Links you write (cta.url, ...) starting with `/` are paths of the
# site from its root and get no prefix.
base_url: https://example.com
summary: >-
  Partner offers of Example: each page gives one partner's audience a clear promise,
  a free resource and one next step.
language: en
collector:
  endpoint: /e
# Inside a host site (Hugo, Astro, Eleventy, ...): give base_url a path, e.g.
# https://example.com/partners, and uncomment. The pages then go to public/partners, take the
# look of a page the host built, and every link is checked against the host's pages.
# host:
#   output: public
# shell: { page: public/about/index.html, main: main }
"#,
    ),
    (
        "partners/newsletter-friends.yaml",
        r#"# One partner per file, named after its code: partners/<code>.yaml. `code` is the URL slug.
name: Newsletter friends
code: newsletter-friends
audience: Readers of partner newsletters about small-business marketing
promise: Launch checklist
campaigns: [default, spring-issue]
landing:
  headline: Launch your next campaign without the guesswork
  proof: The 12-step checklist our customers use before every launch
  body: content/launch-checklist.md
lead_magnet: { label: Read the launch checklist, url: /launch-checklist/ }
cta: { label: Join the newsletter, kind: newsletter, url: /newsletter/ }
activation:
  event: confirms_subscription
  description: Confirms the newsletter subscription
  trigger: { page: /newsletter-thanks/ }
commission: 20% of the first year
"#,
    ),
    (
        "content/launch-checklist.md",
        r#"---
title: Launch checklist
description: Twelve checks before you announce anything.
kind: lead_magnet
---

Use this list the week before a launch. Each step takes minutes.

## Before you write

1. Name the one audience this launch is for.
2. Write the promise in one sentence.
3. Pick the single action you want a reader to take.

## Before you publish

| Check | Why |
|---|---|
| The page has one headline and one button | Two buttons split attention |
| The proof is a number | Numbers are remembered |
| The link is tracked | So you know which partner sent whom |
"#,
    ),
    (
        "content/newsletter.md",
        r#"---
title: The newsletter
description: One short email a month with the checklist's next steps.
---

One short email a month: what worked in our customers' launches, and nothing else.
Reply to any issue to reach a person.
"#,
    ),
    (
        "content/newsletter-thanks.md",
        r#"---
title: You are subscribed
description: Thanks for joining the newsletter.
noindex: true
---

Thanks: the first issue arrives at the start of next month.
"#,
    ),
    (
        ".gitignore",
        "/public\n/collector\n/kits\n/.kit-secret\n/.partner-pages\n*.db\n",
    ),
    (WORKFLOW_PATH, WORKFLOW),
];

/// Where `init` puts the weekly report workflow (GitHub Actions).
pub(super) const WORKFLOW_PATH: &str = ".github/workflows/partner-report.yml";

/// The weekly report workflow: pull D1, write the report and the calendar, open a pull request.
pub(super) const WORKFLOW: &str = r##"# The weekly partner report, run by GitHub Actions: every Monday at 06:00 UTC it pulls the
# events from the collector's D1 database, writes the week's report and content calendar, and
# opens a pull request with them for you to review. Run it by hand from the Actions tab too.
#
# Set up once, in the repository's settings (Secrets and variables > Actions):
#   secret   CLOUDFLARE_API_TOKEN   a Cloudflare API token that can read D1 ("D1 Read")
#   secret   CLOUDFLARE_ACCOUNT_ID  your Cloudflare account id
#   variable PARTNER_PAGES_GIT      the git URL partner-pages is installed from
#                                   (`cargo install --locked --git <url> partner-pages`)
#   variable PARTNER_PAGES_REV      optional: a commit or tag of it, for the same build every week
# and in Settings > Actions > General, allow GitHub Actions to create pull requests.
#
# D1_DATABASE must be `collector.database` of partner-pages.yaml (default: partner-events). The
# database is found by its name with the token, so no build is needed here.
name: Weekly partner report

on:
  schedule:
    - cron: "0 6 * * 1" # Mondays, 06:00 UTC
  workflow_dispatch:

permissions:
  contents: write
  pull-requests: write

concurrency:
  group: partner-report
  cancel-in-progress: false

env:
  D1_DATABASE: partner-events
  WRANGLER_SEND_METRICS: "false"

jobs:
  report:
    runs-on: ubuntu-latest
    timeout-minutes: 30
    steps:
      - uses: actions/checkout@v4

      - uses: actions/setup-node@v4
        with:
          node-version: 20

      - name: Install partner-pages and wrangler
        env:
          PARTNER_PAGES_GIT: ${{ vars.PARTNER_PAGES_GIT }}
          PARTNER_PAGES_REV: ${{ vars.PARTNER_PAGES_REV }}
        run: |
          if [ -z "$PARTNER_PAGES_GIT" ]; then
            echo "::error::Set the repository variable PARTNER_PAGES_GIT to the git URL of partner-pages (Settings > Secrets and variables > Actions > Variables)."
            exit 1
          fi
          cargo install --locked --git "$PARTNER_PAGES_GIT" ${PARTNER_PAGES_REV:+--rev "$PARTNER_PAGES_REV"} partner-pages
          npm install --global wrangler@4

      # The rows pulled by earlier runs: each run reads only the new ones from D1.
      - uses: actions/cache@v4
        with:
          path: .partner-pages/cache
          key: partner-events-${{ github.run_id }}
          restore-keys: partner-events-

      - name: Write the report and the calendar
        env:
          CLOUDFLARE_API_TOKEN: ${{ secrets.CLOUDFLARE_API_TOKEN }}
          CLOUDFLARE_ACCOUNT_ID: ${{ secrets.CLOUDFLARE_ACCOUNT_ID }}
        run: |
          day=$(date -u +%F)
          echo "REPORT_DAY=$day" >> "$GITHUB_ENV"
          mkdir -p reports "reports/$day-for-partners"
          # The first command pulls the new rows of D1 into the cache; the others read it.
          partner-pages --quiet report --events "d1:$D1_DATABASE" --last 7d --out "reports/$day.md"
          cache=".partner-pages/cache/d1-$D1_DATABASE.sqlite"
          partner-pages --quiet calendar --events "$cache" --weeks 1 --start "$day" > "reports/$day-calendar.md"
          # Each partner's own report (no other partner's figures), to send with their kit.
          for code in $(partner-pages --quiet report --events "$cache" --last 7d --format json | jq -r '.partners[].code'); do
            partner-pages --quiet report --events "$cache" --last 28d --partner "$code" --for-partner --out "reports/$day-for-partners/$code.md"
          done
          # With reward rules: the commission ledger (ledger/commissions.csv) and the payout
          # batch of what is due (ledger/payouts/). Merging this pull request commits the
          # batch's lock: review it as the approval, and pay the files before merging.
          if grep -q '^reward:' partner-pages.yaml partners/*.yaml 2>/dev/null; then
            partner-pages --quiet payouts --events "$cache" --as-of "$day"
          fi

      # Commits what the steps above wrote (reports/, content/briefs/, emails/, proposals/, checks/, ledger/ and
      # the calendar's .pp-calendar.json) to the branch partner-report and opens or updates
      # its pull request.
      - name: Open a pull request
        uses: peter-evans/create-pull-request@v7
        with:
          branch: partner-report
          commit-message: "Partner report ${{ env.REPORT_DAY }}"
          title: "Partner report ${{ env.REPORT_DAY }}"
          body: |
            This week's partner report (reports/${{ env.REPORT_DAY }}.md), the content
            calendar it proposes (reports/${{ env.REPORT_DAY }}-calendar.md): briefs, partner
            emails and page changes, and each partner's own report to send with their kit
            (reports/${{ env.REPORT_DAY }}-for-partners/), to review before anything is sent
            or merged. With reward rules: the commission ledger (ledger/commissions.csv) and
            this week's payout batch (ledger/payouts/): merging commits its lock, so the rows
            it lists count as paid; pay the PayPal / Wise files first.
"##;

pub(super) fn run(global: &GlobalArgs, args: InitArgs) -> Result<()> {
    let dir = args.dir.unwrap_or_else(|| global.root.clone());
    if args.workflow {
        let path = add_workflow(&dir)?;
        if !global.quiet {
            println!("Wrote {}", path.display());
            println!(
                "Next: set the secrets CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID and the \
                 variable PARTNER_PAGES_GIT in the repository's settings (see the file's header)."
            );
        }
        return Ok(());
    }
    scaffold(&dir)?;
    if !global.quiet {
        let shown = dir.display();
        println!("Created a partner-pages site in {shown}");
        println!("  partner-pages.yaml                 site config");
        println!("  partners/newsletter-friends.yaml   one partner");
        println!("  content/launch-checklist.md        its lead magnet page");
        println!("  content/newsletter*.md             the pages its buttons lead to");
        println!("  {WORKFLOW_PATH}  the weekly report, as a GitHub Actions job");
        println!();
        println!(
            "Next: partner-pages --root {shown} build   (writes {shown}/public, and each partner's private kit to {shown}/kits)"
        );
        println!(
            "Templates are built in; to change one, put a file of the same name in {shown}/templates/ \
             (base.html, landing.html, kit.html, index.html, page.html, style.css)."
        );
    }
    Ok(())
}

/// The workflow for a site whose collector writes to the D1 database `database`.
pub(super) fn workflow_for(database: &str) -> String {
    WORKFLOW.replace(
        "  D1_DATABASE: partner-events\n",
        &format!("  D1_DATABASE: {database}\n"),
    )
}

/// Add the weekly report workflow to the existing site in `dir`, for the D1 database of its
/// config; refuses when the file exists (nothing is overwritten).
fn add_workflow(dir: &Path) -> Result<std::path::PathBuf> {
    let site = partner_pages::load(dir, &partner_pages::LoadOptions::default())?;
    let path = dir.join(WORKFLOW_PATH);
    if path.exists() {
        return Err(Error::user_hint(
            format!("{} exists; refusing to overwrite it", path.display()),
            "compare it with the output of `partner-pages init --workflow` in a copy of the site, \
             or remove it first",
        ));
    }
    write_new(&path, &workflow_for(&site.config.collector.database))?;
    Ok(path)
}

/// Write `text` to a new file at `path` (its folders created); never over an existing file,
/// even one that appeared since it was checked.
fn write_new(path: &Path, text: &str) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| Error::io(format!("cannot create {}", parent.display()), e))?;
    }
    use std::io::Write;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))
}

/// Write the scaffold into `dir`, which must be missing or empty.
pub(super) fn scaffold(dir: &Path) -> Result<()> {
    if let Ok(mut entries) = std::fs::read_dir(dir) {
        if entries.next().is_some() {
            return Err(Error::user_hint(
                format!(
                    "{} is not empty; refusing to scaffold a site into it",
                    dir.display()
                ),
                "give a new folder: `partner-pages init my-site`; to add only the weekly report \
                 workflow to an existing site: `partner-pages init --workflow`",
            ));
        }
    } else if dir.exists() {
        return Err(Error::user(format!("{} is not a folder", dir.display())));
    }
    for (rel, text) in SCAFFOLD {
        write_new(&dir.join(rel), text)?;
    }
    Ok(())
}
