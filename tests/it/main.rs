//! End-to-end tests that need no external program: the `partner-pages` binary, the library and
//! SQLite (bundled) on fixture sites. Plain `cargo test` runs them on a machine with only Rust.
//! The tests that drive Chromium, workerd, the Nu checker or the Python parsers are in `tests/e2e`.
//! One test binary for all areas keeps link time down.

#[path = "../support/mod.rs"]
mod support;

mod build;
mod build_fast;
mod build_write;
mod calendar;
mod check;
mod experiments;
mod hardening;
mod kits;
mod layers;
mod leads;
mod ledger;
mod llms;
mod mcp;
mod partner_report;
mod reliability;
mod report;
mod serve;
mod stripe;
