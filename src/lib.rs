//! partner-pages: partner referral landing pages with a first-party funnel.
//!
//! Read this file top to bottom to walk the pipeline:
//!
//! ```text
//! partners/*.yaml ─┐
//! content/*.md ────┼─> load (config, partner, content) ─> site ─> render (templates) ─┐
//! templates/ ──────┘        (check: load + render, write nothing)   pages, kits, sitemap, │
//!                                                                   llms.txt + mirrors    │
//!                     build: + annotations (funnel) + collector/ (Worker bundle) ─> output (atomic)
//!
//! events (sqlite | d1 dump | wrangler json) ─> funnel (attribution, stages, stats)
//!                                              ─> report | leads | calendar | build annotations
//!
//! The command line (the binary) and the MCP server (`mcp`) are front ends over the same calls:
//! each use case takes a request value (`report::Request`, `leads::Request`,
//! `calendar::run::Request`, `check::run`) and errors name request fields, not flags.
//! ```

// 1. Load: the inputs, read and validated; every problem located (diagnostics).
pub mod check;
pub mod config;
pub mod content;
pub mod diagnostics;
pub mod error;
pub mod escape;
pub(crate) mod load;
pub mod partner;
pub mod reward;
pub mod site;
pub mod stage;

// 2. Render, in memory: pages, sitemap, llms.txt and mirrors, beacon, host shell (templates);
//    the links they hold are checked (links).
pub(crate) mod kits;
pub(crate) mod links;
pub mod render;

// 3. Build: the no-change stamp, funnel annotations, render, the Worker bundle, then write
//    atomically (output).
pub mod build;
pub mod output;
pub(crate) mod stamp;

// 4. Collect: the Worker we generate and the local collector of `serve`.
pub mod collector;

// 5. Read events back: sources, funnel (attribution, counts, intervals, actions).
pub mod events;
pub mod experiment;
pub mod funnel;

// 6. Decide: the report, the leads, the content calendar.
pub mod calendar;
pub mod leads;
pub mod ledger;
pub mod report;
pub mod revenue;
pub mod schema;
pub mod schemas;

// 7. Agents: the MCP server over the same library calls as the command line.
pub mod mcp;

pub use build::{build, BuildOptions, BuildReport};
pub use error::{Error, Result};
pub use site::{load, LoadOptions, Site};

#[cfg(test)]
mod test_rng;
