//! `partner-pages init [DIR]`: scaffold a site that builds as is (config, one partner, one page).
//!
//! Templates are not copied: the defaults are embedded in the binary, and a file of the same
//! name in the site's `templates/` overrides one of them.

use crate::cli::{GlobalArgs, InitArgs};
use partner_pages::error::{Error, Result};
use std::path::Path;

/// The scaffold: (path relative to the new site, contents). The weekly workflow is written
/// beside it, where GitHub runs it ([`workflow_place`]).
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
#   variable PARTNER_PAGES_REV      the commit (or tag) of it to install: the same build every week
# and in Settings > Actions > General, allow GitHub Actions to create pull requests.
#
# D1_DATABASE must be `collector.database` of partner-pages.yaml (default: partner-events). The
# database is found by its name with the token, so no build is needed here.
#
# Least privilege: the job that installs the tools, reads D1 and writes the report can only read
# the repository, and its checkout keeps no token; only the second job, which runs no installed
# tool, may push the branch and open the pull request. Actions are pinned by commit (the tag in
# the comment), tools by version. To update one, replace the commit with the new tag's commit.
name: Weekly partner report

on:
  schedule:
    - cron: "0 6 * * 1" # Mondays, 06:00 UTC
  workflow_dispatch:

# Nothing by default: each job asks for what it needs.
permissions: {}

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
    permissions:
      contents: read
    outputs:
      day: ${{ steps.write.outputs.day }}
    steps:
      - uses: actions/checkout@11d5960a326750d5838078e36cf38b85af677262 # v4.4.0
        with:
          persist-credentials: false

      - uses: actions/setup-node@49933ea5288caeca8642d1e84afbd3f7d6820020 # v4.4.0
        with:
          node-version: 20

      - name: Install partner-pages and wrangler
        env:
          PARTNER_PAGES_GIT: ${{ vars.PARTNER_PAGES_GIT }}
          PARTNER_PAGES_REV: ${{ vars.PARTNER_PAGES_REV }}
        run: |
          if [ -z "$PARTNER_PAGES_GIT" ] || [ -z "$PARTNER_PAGES_REV" ]; then
            echo "::error::Set the repository variables PARTNER_PAGES_GIT (the git URL of partner-pages) and PARTNER_PAGES_REV (the commit or tag to install) in Settings > Secrets and variables > Actions > Variables."
            exit 1
          fi
          cargo install --locked --git "$PARTNER_PAGES_GIT" --rev "$PARTNER_PAGES_REV" partner-pages
          npm install --global wrangler@4.86.0

      # The rows pulled by earlier runs: each run reads only the new ones from D1.
      - uses: actions/cache@0057852bfaa89a56745cba8c7296529d2fc39830 # v4.3.0
        with:
          path: .partner-pages/cache
          key: partner-events-${{ github.run_id }}
          restore-keys: partner-events-

      - name: Write the report and the calendar
        id: write
        env:
          CLOUDFLARE_API_TOKEN: ${{ secrets.CLOUDFLARE_API_TOKEN }}
          CLOUDFLARE_ACCOUNT_ID: ${{ secrets.CLOUDFLARE_ACCOUNT_ID }}
        run: |
          day=$(date -u +%F)
          echo "day=$day" >> "$GITHUB_OUTPUT"
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

      # What the steps above wrote (reports/, briefs/ in the content folder, emails/, proposals/,
      # checks/, ledger/ and the calendar's .pp-calendar.json): every new or changed file git
      # does not ignore.
      - name: Pack what the report wrote
        run: |
          git ls-files -z --others --modified --exclude-standard | tar --null --files-from - --ignore-failed-read -cf "$RUNNER_TEMP/partner-report.tar"

      - uses: actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02 # v4.6.2
        with:
          name: partner-report
          path: ${{ runner.temp }}/partner-report.tar
          if-no-files-found: error
          retention-days: 7

  # Commits the report's files to the branch partner-report and opens or updates its pull
  # request. The only job that may write, and it installs and runs nothing of its own.
  pull-request:
    needs: report
    runs-on: ubuntu-latest
    timeout-minutes: 10
    permissions:
      contents: write
      pull-requests: write
    steps:
      - uses: actions/checkout@11d5960a326750d5838078e36cf38b85af677262 # v4.4.0
        with:
          persist-credentials: false

      - uses: actions/download-artifact@d3f86a106a0bac45b974a628896c90dbdf5c8093 # v4.3.0
        with:
          name: partner-report
          path: ${{ runner.temp }}/partner-report

      - name: Unpack the report
        run: |
          tar -xf "$RUNNER_TEMP/partner-report/partner-report.tar"

      - name: Open a pull request
        uses: peter-evans/create-pull-request@22a9089034f40e5a961c8808d113e2c98fb63676 # v7.0.11
        with:
          branch: partner-report
          commit-message: "Partner report ${{ needs.report.outputs.day }}"
          title: "Partner report ${{ needs.report.outputs.day }}"
          body: |
            This week's partner report (reports/${{ needs.report.outputs.day }}.md), the content
            calendar it proposes (reports/${{ needs.report.outputs.day }}-calendar.md): briefs,
            partner emails and page changes, and each partner's own report to send with their
            kit (reports/${{ needs.report.outputs.day }}-for-partners/), to review before
            anything is sent or merged. With reward rules: the commission
            ledger (ledger/commissions.csv) and this week's payout batch (ledger/payouts/):
            merging commits its lock, so the rows it lists count as paid; pay the PayPal / Wise
            files first.
"##;

pub(super) fn run(global: &GlobalArgs, args: InitArgs) -> Result<()> {
    let dir = args.dir.unwrap_or_else(|| global.root.clone());
    if args.host {
        let (generator, written) = host_setup(&dir)?;
        if !global.quiet {
            println!(
                "Set up partner pages in the {generator} site {}",
                dir.display()
            );
            for w in &written {
                println!("  {w}");
            }
            println!();
            println!("Next: build the {generator} site, then `partner-pages build` (writes the partner pages into its output under /partners).");
            println!("Then pick a page of the host as the shell (`shell:` in partner-pages.yaml) so the partner pages wear the site's look.");
        }
        return Ok(());
    }
    if args.workflow {
        let (path, sub) = add_workflow(&dir)?;
        if !global.quiet {
            println!("Wrote {}", path.display());
            if let Some(sub) = sub {
                println!("  at the repository's root; its steps run in {sub}/, where partner-pages.yaml is");
            }
            println!(
                "Next: set the secrets CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID and the \
                 variable PARTNER_PAGES_GIT in the repository's settings (see the file's header)."
            );
        }
        return Ok(());
    }
    let workflow = scaffold(&dir)?;
    if !global.quiet {
        let shown = dir.display();
        println!("Created a partner-pages site in {shown}");
        println!("  partner-pages.yaml                 site config");
        println!("  partners/newsletter-friends.yaml   one partner");
        println!("  content/launch-checklist.md        its lead magnet page");
        println!("  content/newsletter*.md             the pages its buttons lead to");
        match workflow {
            Workflow::Written(path) if path == dir.join(WORKFLOW_PATH) => {
                println!("  {WORKFLOW_PATH}  the weekly report, as a GitHub Actions job")
            }
            Workflow::Written(path) => println!(
                "  {}  the weekly report, as a GitHub Actions job (at the repository's root)",
                path.display()
            ),
            Workflow::Kept(path) => println!(
                "  {} exists: left as it is (`partner-pages init --workflow` explains)",
                path.display()
            ),
        }
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

/// The workflow for a site whose collector writes to the D1 database `database`, in the folder
/// `sub` of its repository (`None`: at the repository's root).
pub(super) fn workflow_for(database: &str, sub: Option<&str>) -> String {
    let mut text = WORKFLOW.replace(
        "  D1_DATABASE: partner-events\n",
        &format!("  D1_DATABASE: {database}\n"),
    );
    if let Some(sub) = sub {
        let quoted = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
        text = text
            .replacen(
                "\njobs:\n",
                &format!(
                    "\n# The partner-pages site (partner-pages.yaml) is in this folder of the repository:\n\
                     # every `run:` step runs there.\n\
                     defaults:\n  run:\n    working-directory: {}\n\njobs:\n",
                    quoted(sub)
                ),
                1,
            )
            // Action inputs are paths from the repository's root, not from working-directory.
            .replacen(
                "          path: .partner-pages/cache\n",
                &format!(
                    "          path: {}\n",
                    quoted(&format!("{sub}/.partner-pages/cache"))
                ),
                1,
            );
    }
    text
}

/// Where the weekly workflow of the site in `dir` goes: GitHub runs workflows only from the
/// `.github/workflows/` at the root of a repository, so in a subfolder of a git repository it
/// goes to the repository's root, and its steps run in the subfolder (returned as a path from
/// the root, `/`-separated). Outside any repository, or at its root: `dir`'s own `.github/`.
fn workflow_place(dir: &Path) -> Result<(std::path::PathBuf, Option<String>)> {
    let abs = dir
        .canonicalize()
        .map_err(|e| Error::io(format!("cannot open {}", dir.display()), e))?;
    let Some(repo) = abs.ancestors().find(|a| a.join(".git").exists()) else {
        return Ok((dir.join(WORKFLOW_PATH), None));
    };
    if repo == abs {
        return Ok((dir.join(WORKFLOW_PATH), None));
    }
    let rel = abs.strip_prefix(repo).unwrap_or(&abs);
    let parts: Option<Vec<&str>> = rel.components().map(|c| c.as_os_str().to_str()).collect();
    let sub = parts
        .map(|p| p.join("/"))
        .filter(|s| !s.contains("${{") && !s.chars().any(char::is_control));
    let Some(sub) = sub else {
        return Err(Error::user_hint(
            format!(
                "the folder name `{}` cannot go into a GitHub workflow",
                rel.display()
            ),
            "rename the folder without `${{` or control characters, or keep the partner files at the repository's root",
        ));
    };
    Ok((repo.join(WORKFLOW_PATH), Some(sub)))
}

/// Add the weekly report workflow to the existing site in `dir`, for the D1 database of its
/// config, at the root of the git repository it is in; refuses when the file exists (nothing
/// is overwritten). Gives the file and the site's folder in the repository (subfolder only).
fn add_workflow(dir: &Path) -> Result<(std::path::PathBuf, Option<String>)> {
    let site = partner_pages::load(dir, &partner_pages::LoadOptions::default())?;
    let (path, sub) = workflow_place(dir)?;
    if path.exists() {
        return Err(Error::user_hint(
            format!("{} exists; refusing to overwrite it", path.display()),
            "compare it with the output of `partner-pages init --workflow` in a copy of the site, \
             or remove it first",
        ));
    }
    write_new(
        &path,
        &workflow_for(&site.config.collector.database, sub.as_deref()),
    )?;
    Ok((path, sub))
}

/// What `init` did with the weekly workflow.
enum Workflow {
    /// Written to this file.
    Written(std::path::PathBuf),
    /// This file exists (a workflow of the repository): left as it is.
    Kept(std::path::PathBuf),
}

/// Write the weekly workflow for the new site in `dir` (its D1 database `database`) where
/// GitHub runs it, unless a file is there.
fn place_workflow(dir: &Path, database: &str) -> Result<Workflow> {
    let (path, sub) = workflow_place(dir)?;
    if path.exists() {
        return Ok(Workflow::Kept(path));
    }
    write_new(&path, &workflow_for(database, sub.as_deref()))?;
    Ok(Workflow::Written(path))
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

/// Write the scaffold into `dir`, which must be missing or empty, and the weekly workflow
/// where GitHub runs it (see [`workflow_place`]).
fn scaffold(dir: &Path) -> Result<Workflow> {
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
    place_workflow(dir, "partner-events")
}

/// A host site generator, recognised by its config file at the root.
struct Generator {
    name: &'static str,
    /// Config files, any of which marks the generator.
    marks: &'static [&'static str],
    /// Its build output folder.
    output: &'static str,
    /// A page every site of it has, for the commented `shell:` example.
    page: &'static str,
}

const GENERATORS: &[Generator] = &[
    Generator {
        name: "Hugo",
        marks: &["hugo.toml", "hugo.yaml", "hugo.json", "config.toml"],
        output: "public",
        page: "public/about/index.html",
    },
    Generator {
        name: "Astro",
        marks: &[
            "astro.config.mjs",
            "astro.config.js",
            "astro.config.ts",
            "astro.config.mts",
        ],
        output: "dist",
        page: "dist/about/index.html",
    },
    Generator {
        name: "Eleventy",
        marks: &[
            "eleventy.config.js",
            "eleventy.config.mjs",
            "eleventy.config.cjs",
            ".eleventy.js",
        ],
        output: "_site",
        page: "_site/about/index.html",
    },
];

/// What `.gitignore` must hold at a host site's root (private kits, the kit secret, caches,
/// event databases, the generated collector).
const HOST_GITIGNORE: &[&str] = &[
    "/kits",
    "/.kit-secret",
    "/.partner-pages",
    "*.db",
    "/collector",
];

/// `init --host`: our files at the root of the host site in `dir`. Returns the generator's name
/// and what was written. Refuses (writing nothing) when `dir` is not a recognised host site or
/// already has a `partner-pages.yaml`.
fn host_setup(dir: &Path) -> Result<(&'static str, Vec<String>)> {
    let Some(generator) = GENERATORS
        .iter()
        .find(|g| g.marks.iter().any(|m| dir.join(m).is_file()))
    else {
        return Err(Error::user_hint(
            format!(
                "{} is not the root of a Hugo, Astro or Eleventy site",
                dir.display()
            ),
            "run it where hugo.toml, astro.config.mjs or eleventy.config.js is; for a site of partner pages only: `partner-pages init <new folder>`",
        ));
    };
    let content = partner_pages::config::HOST_ROOT_CONTENT_DIR;
    let config = format!(
        r#"# Partner pages inside this {name} site. Every command explains its options:
# `partner-pages help build`.
name: Example Partners
# The partner pages are served under this URL's path (/partners): build the {name} site,
# then `partner-pages build` writes them into {output}/partners.
base_url: https://example.com/partners
summary: >-
  Partner offers of Example: each page gives one partner's audience a clear promise,
  a free resource and one next step.
language: en
collector:
  endpoint: /e
host:
  output: {output}
# Our Markdown pages; {name}'s own folders are left alone.
content_dir: {content}
# To dress the partner pages in the site's look, pick a page the host built and the element
# around its content, and uncomment:
# shell: {{ page: {page}, main: main }}
"#,
        name = generator.name,
        output = generator.output,
        page = generator.page,
    );
    let mut files: Vec<(String, String)> =
        vec![(partner_pages::config::CONFIG_FILE.to_string(), config)];
    for (rel, text) in SCAFFOLD {
        if *rel == "partner-pages.yaml" || *rel == ".gitignore" {
            continue;
        }
        let rel = rel.replacen("content/", &format!("{content}/"), 1);
        // Host mode: our pages are under the base path; links written with `/` are host paths.
        let text = text
            .replace("body: content/", &format!("body: {content}/"))
            .replace(
                "url: /launch-checklist/",
                "url: /partners/launch-checklist/",
            )
            .replace("url: /newsletter/", "url: /partners/newsletter/")
            .replace(
                "page: /newsletter-thanks/",
                "page: /partners/newsletter-thanks/",
            );
        files.push((rel, text));
    }
    for (rel, _) in &files {
        if dir.join(rel).exists() {
            return Err(Error::user_hint(
                format!(
                    "{} exists; refusing to overwrite it",
                    dir.join(rel).display()
                ),
                "partner pages are already set up here; `partner-pages check` tells what is wrong",
            ));
        }
    }
    let mut written = Vec::new();
    for (rel, text) in &files {
        write_new(&dir.join(rel), text)?;
        written.push(rel.clone());
    }
    // .gitignore: add the lines it lacks, keep the host's own.
    let ignore = dir.join(".gitignore");
    let old = std::fs::read_to_string(&ignore).unwrap_or_default();
    let have: Vec<&str> = old.lines().map(str::trim).collect();
    let missing: Vec<&str> = HOST_GITIGNORE
        .iter()
        .copied()
        .filter(|l| !have.contains(l))
        .collect();
    if !missing.is_empty() {
        let mut text = old.clone();
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str("# partner-pages: private kits, the kit secret, caches, event databases\n");
        for l in missing {
            text.push_str(l);
            text.push('\n');
        }
        std::fs::write(&ignore, text)
            .map_err(|e| Error::io(format!("cannot write {}", ignore.display()), e))?;
        written.push(".gitignore".into());
    }
    let shown = |path: &Path| match path.strip_prefix(dir) {
        Ok(rel) => rel.display().to_string(),
        Err(_) => path.display().to_string(),
    };
    match place_workflow(dir, "partner-events")? {
        Workflow::Written(path) => written.push(shown(&path)),
        Workflow::Kept(path) => written.push(format!("{} exists: left as it is", shown(&path))),
    }
    Ok((generator.name, written))
}
