//! End-to-end tests that need no external program: the `partner-pages` binary, the library and
//! SQLite (bundled) on fixture sites. Plain `cargo test` runs them on a machine with only Rust.
//! The tests that drive Chromium, workerd, the Nu checker or the Python parsers are in `tests/e2e`.
//! One test binary for all areas keeps link time down.
//!
//! Where a new test goes: by the command or promise it proves, in the file of that area below.
//! A test that needs an external program (Chromium, workerd, Java, Python, Node, a host
//! generator) goes to the same-named file of `tests/e2e/`. Shared builders of sites and event
//! tables live in `tests/support/`. Try not to add a file: add to the area that fits.

#[path = "../support/mod.rs"]
mod support;

// `build` and `init`: output layout, determinism, escaping, base paths, template overrides.
mod build;
// the no-change fast path of `build` and every change that must still rebuild.
mod build_fast;
// how `build` writes: staging, atomic swap, failures and kill -9 mid-write.
mod build_write;
// `calendar` and `build --events/--preview` on generated event tables.
mod calendar;
// `check` and the bad-input corpus (`tests/fixtures/bad-input/`): located diagnostics.
mod check;
// promise experiments with `serve`: sticky variants, rows that carry them.
mod experiments;
// hostile files and resource bounds: event readers, MCP, symlinks, memory limits.
mod hardening;
// partner-pages.yaml at a host's root: content_dir, init --host.
mod host_root;
// private partner kits: never public, hosted only at a secret path.
mod kits;
// the import rule between the folders of `src/` (read from the source).
mod layers;
// `leads` and `forget`: the per-lead export and erasure.
mod leads;
// the commission ledger: reward rules, holds, clawbacks, payout files, locks.
mod ledger;
// agent files: llms.txt, `.md` mirrors, partners.json, merges into host files.
mod llms;
// the MCP server over stdio, answers compared with the CLI's JSON.
mod mcp;
// one decision per partner: every output names the same rule for the same partner and range.
mod one_voice;
// the report a partner receives: their figures and nobody else's.
mod partner_report;
// private stays private: kit paths, published folders, host.data, symlinks, refused builds.
mod private;
// crashes and hostile requests to the collector: signatures, headers, SQL, redirects.
mod reliability;
// `report` through every event source format, and its figures.
mod report;
// `serve`: the local collector's routes, refusals, writes and live reload.
mod serve;
// the host shell: kits keep their own head, shells without head/body, CSP and <base>.
mod shell;
// Stripe webhooks into `serve`: signatures, deliveries, attribution, revenue figures.
mod stripe;
// the weekly workflow `init` writes: permissions per job, pinned actions and tools.
mod workflow;
