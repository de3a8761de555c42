//! Helpers shared by the plain and the e2e tests of `build`.
//! `build` and `init` end to end: output layout, determinism, atomic writes, escaping,
//! base paths, template overrides, HTML validity (W3C Nu) and accessibility (axe-core).

use crate::support::{self};
use std::path::Path;

pub(crate) fn build_ok(root: &Path, extra: &[&str]) -> String {
    let args: Vec<&str> = ["build"].iter().chain(extra).copied().collect();
    String::from_utf8_lossy(&support::run_ok(root, &args).stderr).into_owned()
}
