//! The opt-in tier: end-to-end tests with the real external components (headless Chromium through
//! Node and playwright-core, workerd through `wrangler dev` and local D1, the W3C Nu checker on
//! Java, the Python reference parsers and validators, git). `cargo test` skips this target; run it
//! with `bash scripts/test`, which installs what is missing, or `cargo test --test e2e`.
//! A missing component fails the test with a message naming it; nothing passes silently.

#[path = "../support/mod.rs"]
mod support;
#[path = "../support/tools.rs"]
mod tools;

mod build;
mod calendar;
mod experiments;
mod hosts;
mod leads;
mod ledger;
mod llms;
mod mcp;
mod reliability;
mod report;
mod serve;
mod stripe;
mod weekly;
mod worker;
