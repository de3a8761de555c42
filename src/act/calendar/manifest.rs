//! Calendar stage, what was generated: the `.pp-calendar.json` manifest at the site root.
//!
//! Takes: the site root. Gives: for each task file `calendar` wrote (path relative to the root),
//! the SHA-256 of the bytes it wrote there. A task file whose bytes still have that hash is
//! ours and unedited, so new data may replace it in place; any other file is someone's edit and
//! is never overwritten ([`super::files::write_all`]).
//!
//! Missing or unreadable, the manifest counts as empty: nothing is known to be ours, so nothing
//! existing is overwritten (the safe side). Written sorted and without timestamps, atomically,
//! after the task files: a run killed in between leaves old hashes, which again only means
//! "treat as edited".

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The manifest's file name, at the site root.
pub(crate) const FILE: &str = ".pp-calendar.json";
const VERSION: u32 = 1;

#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Manifest {
    version: u32,
    /// Task file (relative to the site root, `/`-separated) -> hex SHA-256 of what we wrote.
    files: BTreeMap<String, String>,
    /// The emails that asked a partner for traffic (or launched its page): a later run does
    /// not ask again while the ask is recent.
    #[serde(default, skip_serializing_if = "std::collections::BTreeSet::is_empty")]
    asks: std::collections::BTreeSet<String>,
}

/// Hex SHA-256 of `bytes`.
pub(crate) fn hash(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Manifest {
    fn path(root: &Path) -> PathBuf {
        root.join(FILE)
    }

    /// The site's manifest; empty when there is none or it cannot be read as one.
    pub(crate) fn load(root: &Path) -> Manifest {
        std::fs::read(Self::path(root))
            .ok()
            .and_then(|b| serde_json::from_slice::<Manifest>(&b).ok())
            .filter(|m| m.version == VERSION)
            .unwrap_or_default()
    }

    /// Did we generate exactly `bytes` at `rel`?
    pub(crate) fn generated(&self, rel: &str, bytes: &[u8]) -> bool {
        self.files.get(rel).is_some_and(|h| *h == hash(bytes))
    }

    /// Remember that the email at `rel` asked the partner for traffic.
    pub(crate) fn record_ask(&mut self, rel: &str) {
        self.asks.insert(rel.to_string());
    }

    /// The emails recorded as asks for traffic.
    pub(crate) fn asks(&self) -> impl Iterator<Item = &str> {
        self.asks.iter().map(String::as_str)
    }

    /// Every file recorded, relative to the site root.
    pub(crate) fn paths(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    pub(crate) fn record(&mut self, rel: &str, bytes: &[u8]) {
        self.files.insert(rel.to_string(), hash(bytes));
    }

    /// Write the manifest (entries of files no longer on disk dropped); untouched when its
    /// bytes would not change.
    pub(crate) fn save(mut self, root: &Path) -> Result<()> {
        self.version = VERSION;
        self.files.retain(|rel, _| root.join(rel).is_file());
        self.asks.retain(|rel| root.join(rel).is_file());
        let mut text = serde_json::to_string_pretty(&self)
            .map_err(|e| Error::Internal(format!("calendar manifest: {e}")))?;
        text.push('\n');
        let path = Self::path(root);
        if std::fs::read(&path).is_ok_and(|old| old == text.as_bytes()) {
            return Ok(());
        }
        super::files::write_atomic(&path, text.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recorded_file_is_recognised_by_its_bytes_only() {
        let mut m = Manifest::default();
        m.record("content/briefs/a.md", b"ours");
        assert!(m.generated("content/briefs/a.md", b"ours"));
        assert!(!m.generated("content/briefs/a.md", b"ours, edited"));
        assert!(!m.generated("content/briefs/b.md", b"ours"));
    }

    #[test]
    fn a_missing_or_broken_manifest_counts_as_empty_and_is_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE), b"{ not json").unwrap();
        let mut m = Manifest::load(dir.path());
        assert!(m.files.is_empty());
        std::fs::write(dir.path().join("a.md"), b"x").unwrap();
        m.record("a.md", b"x");
        m.record("gone.md", b"y");
        m.save(dir.path()).unwrap();
        let again = Manifest::load(dir.path());
        assert!(again.generated("a.md", b"x"));
        assert!(
            !again.files.contains_key("gone.md"),
            "entries of missing files are dropped"
        );
    }
}
