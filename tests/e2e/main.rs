//! The opt-in tier: end-to-end tests with the real external components (headless Chromium through
//! Node and playwright-core, workerd through `wrangler dev` and local D1, the W3C Nu checker on
//! Java, the Python reference parsers and validators, git). `cargo test` skips this target; run it
//! with `bash scripts/test`, which installs what is missing, or `cargo test --test e2e`.
//! A missing component fails the test with a message naming it; nothing passes silently.
//!
//! Where a new test goes: the file named after the command or area it proves, as in `tests/it/`;
//! only what needs an external program belongs here.

#[path = "../support/mod.rs"]
mod support;
#[path = "../support/tools.rs"]
mod tools;

// built pages through the Nu checker, and axe-core in Chromium.
mod build;
// calendar files read by the reference parsers (icalendar, jsonschema, Nu).
mod calendar;
// promise experiments in Chromium against `wrangler dev` and `serve`.
mod experiments;
// plugin mode in real Hugo, Eleventy and Astro sites, walked in Chromium.
mod hosts;
// `leads` read back by Python's csv and jsonschema.
mod leads;
// the commission ledger and payout files read by Python's csv; the weekly payouts step.
mod ledger;
// llms.txt and partners.json read by the reference parsers.
mod llms;
// the MCP tools' input schemas checked by Python's jsonschema.
mod mcp;
// no private path in any public file, in every deployment mode (wrangler dev, static origin).
mod private;
// hostile requests and partner text against the Worker in workerd.
mod reliability;
// reports validated against their schemas and the Nu checker.
mod report;
// `serve` walked by Chromium.
mod serve;
// partner pages inside real third-party themes: computed styles, axe, screenshots at two widths.
mod themes;
// Stripe webhooks signed by Stripe's own library, posted to `wrangler dev` and `serve`.
mod stripe;
// the weekly workflow: action-validator and the job's report step as a script.
mod weekly;
// the generated Worker in workerd with local D1: refusals, writes, agreement with `serve`.
mod worker;
