//! Render stage: a loaded [`Site`](crate::site::Site) becomes a list of output files in memory.
//!
//! Nothing is written here; [`crate::output`] writes the files atomically once all rendered.

/// One file of the build output, rendered in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFile {
    /// Path relative to the output root, `/`-separated, e.g. `p/seo-consultant/index.html`.
    pub path: String,
    pub bytes: Vec<u8>,
}

impl OutputFile {
    pub fn new(path: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        OutputFile {
            path: path.into(),
            bytes: bytes.into(),
        }
    }
}

pub mod beacon;
pub mod llms;
