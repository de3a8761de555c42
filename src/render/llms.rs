//! Render stage, agents: llms.txt, the `.md` mirror of every page, partners.json, llms-full.txt.
//!
//! Takes: the site. Gives: files for `public/`. (To be filled by the llms.txt issue.)

use crate::render::OutputFile;
use crate::site::Site;

/// Files for agents, relative to `public/`.
pub fn render(_site: &Site) -> crate::Result<Vec<OutputFile>> {
    Ok(Vec::new())
}
