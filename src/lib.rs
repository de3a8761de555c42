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

// 0. Shared leaves every step may use: the model (errors, diagnostics, stages) and the words
//    (escaping).
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
