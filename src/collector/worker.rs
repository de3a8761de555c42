//! Collector stage, production: the Cloudflare Worker, wrangler.toml and D1 migrations.
//!
//! Takes: the site (registry compiled in). Gives: files for `collector/`. (To be filled by the
//! collector issue.)

use crate::render::OutputFile;
use crate::site::Site;

/// Files relative to `collector/`.
pub fn render(_site: &Site) -> crate::Result<Vec<OutputFile>> {
    Ok(Vec::new())
}
