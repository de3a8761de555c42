//! Shared model, step 0: what every step speaks in. Imports nothing else of the crate.
//!
//! Gives: the library's [`error::Error`], located diagnostics ([`diagnostics`]) and the funnel's
//! [`stage::Stage`] enum, used alike by the YAML model, the funnel, the command line and MCP;
//! the file a step produces and how it is written atomically ([`output`]); the JSON Schema
//! generator of every published output ([`json_schema`]); the `partner_events` table, its
//! migrations and its rows ([`event`]), written by the collector and read back by the readers.

pub mod diagnostics;
pub mod error;
pub mod event;
pub mod json_schema;
pub mod output;
pub mod stage;
