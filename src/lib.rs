//! partner-pages: partner referral landing pages with a first-party funnel.
//!
//! Read this file top to bottom to walk the pipeline:
//!
//! ```text
//! partners/*.yaml ─┐
//! content/*.md ────┼─> load (config, partner, content) ─> validate ─> render (templates) ─> write (atomic)
//! templates/ ──────┘                                                    ├─ pages, kit, sitemap
//!                                                                       ├─ llms.txt + .md mirrors
//!                                                                       └─ collector/ (Worker, wrangler.toml, migrations)
//!
//! events (sqlite | d1 dump | wrangler json) ─> funnel (attribution, stages, stats) ─> report | annotate | calendar | leads
//! ```

// Inputs and their validation.
pub mod check;
pub mod config;
pub mod content;
pub mod diagnostics;
pub mod load;
pub mod partner;
pub mod site;
pub mod stage;

// Rendering and writing the static output.
pub mod build;
pub mod kits;
pub mod links;
pub mod output;
pub mod render;
pub mod stamp;

// Measurement: the Worker we generate and the local collector.
pub mod collector;

// Reading events back and deciding what to do.
pub mod calendar;
pub mod events;
pub mod experiment;
pub mod funnel;
pub mod leads;
pub mod report;

// Agents.
pub mod mcp;

// Errors shared by every stage.
pub mod error;

pub use build::{build, BuildOptions, BuildReport};
pub use error::{Error, Result};
pub use site::{load, LoadOptions, Site};
