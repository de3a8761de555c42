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
        "/public\n/collector\n/kits\n/.kit-secret\n*.db\n",
    ),
];

pub(super) fn run(global: &GlobalArgs, args: InitArgs) -> Result<()> {
    let dir = args.dir.unwrap_or_else(|| global.root.clone());
    scaffold(&dir)?;
    if !global.quiet {
        let shown = dir.display();
        println!("Created a partner-pages site in {shown}");
        println!("  partner-pages.yaml                 site config");
        println!("  partners/newsletter-friends.yaml   one partner");
        println!("  content/launch-checklist.md        its lead magnet page");
        println!("  content/newsletter*.md             the pages its buttons lead to");
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

/// Write the scaffold into `dir`, which must be missing or empty.
pub(super) fn scaffold(dir: &Path) -> Result<()> {
    if let Ok(mut entries) = std::fs::read_dir(dir) {
        if entries.next().is_some() {
            return Err(Error::user_hint(
                format!(
                    "{} is not empty; refusing to scaffold a site into it",
                    dir.display()
                ),
                "give a new folder: `partner-pages init my-site`",
            ));
        }
    } else if dir.exists() {
        return Err(Error::user(format!("{} is not a folder", dir.display())));
    }
    for (rel, text) in SCAFFOLD {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Error::io(format!("cannot create {}", parent.display()), e))?;
        }
        std::fs::write(&path, text)
            .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
    }
    Ok(())
}
