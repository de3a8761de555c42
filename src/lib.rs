//! partner-pages: partner referral landing pages with a first-party funnel.
//!
//! Read this file top to bottom to walk the pipeline. Each step is a folder of `src/` that
//! imports only earlier steps and the two shared leaves (`text`, `model`); `tests/it/layers.rs`
//! checks it:
//!
//! ```text
//! partners/*.yaml ─┐
//! content/*.md ────┼─> load/ (config, partner, content, reward rules, kits) ─> render/ (pages,
//! templates/ ──────┘      llms.txt + mirrors, beacon, host shell, links)    ─> build/ (check,
//!                         annotations, stamp, atomic write)
//!                   collector/: the Worker bundle and the local collector of `serve`
//!
//! events (sqlite | d1 dump | wrangler json | d1:remote) ─> read/ (events, funnel: journeys,
//!   stages, intervals, one decision per partner; experiments; revenue)
//!   ─> act/ (report, partner report, leads, calendar, commission ledger, schema files)
//!   ─> agents/ (the MCP server)
//! ```
//!
//! The modules are also reachable by their short names at the crate root (`partner_pages::funnel`
//! is `partner_pages::read::funnel`). The command line (the binary) and the MCP server are front
//! ends over the same calls: each use case takes a request value (`report::Request`,
//! `leads::Request`, `calendar::run::Request`, `check::run`) and errors name request fields, not
//! flags.

// 0. Shared leaves every step may use: the words (escaping, plurals, rates) and the model
//    (errors, diagnostics, stages, the event table, output files, JSON Schemas).
pub mod model;
pub mod text;
pub use model::{diagnostics, error, json_schema, output, stage};
pub use text::escape;

// 1. Load: the inputs, read and validated; every problem located (diagnostics).
pub(crate) mod load;
pub(crate) use load::kits;
pub use load::{config, content, partner, reward, site};

// 2. Render, in memory: pages, sitemap, llms.txt and mirrors, beacon, host shell (templates);
//    the links they hold are checked (links).
pub mod render;
pub(crate) use render::links;

// 3. Build: check (load + render, write nothing), the no-change stamp, funnel annotations,
//    render, the Worker bundle, then write atomically (output).
pub mod build;
pub use build::check;

// 4. Collect: the Worker we generate and the local collector of `serve`.
pub mod collector;

// 5. Read events back: sources, funnel (attribution, counts, intervals, actions), experiments.
pub mod read;
pub use read::{events, experiment, funnel, revenue};

// 6. Decide: the report, the leads, the content calendar, the schemas of their outputs.
pub mod act;
pub use act::{calendar, leads, ledger, report, schema_files};

// 7. Agents: the MCP server over the same library calls as the command line.
pub mod agents;
pub use agents::mcp;

pub use build::{build, BuildOptions, BuildReport};
pub use error::{Error, Result};
pub use site::{load, LoadOptions, Site};

#[cfg(test)]
mod test_rng;
