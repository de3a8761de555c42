//! End-to-end tests on fixture sites, with the real components (Chromium, wrangler, Python parsers).
//! One test binary for all areas keeps link time down.

mod build;
mod build_fast;
mod build_write;
mod calendar;
mod check;
mod experiments;
mod hardening;
mod hosts;
mod kits;
mod leads;
mod llms;
mod mcp;
mod reliability;
mod report;
mod serve;
mod support;
mod worker;
