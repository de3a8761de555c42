//! Load stage: `content/*.md` with YAML front matter, rendered with pulldown-cmark.
//!
//! Takes: Markdown files. Gives: [`ContentPage`]s (standalone pages at `/<slug>/`, and
//! sections used as a partner's landing body).

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Front matter between `---` lines at the top of a content file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct FrontMatter {
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    /// `lead_magnet`, `tutorial`, `section` (only used inside a landing page) or `page`.
    #[serde(default)]
    pub kind: ContentKind,
    /// Drafts are never published.
    #[serde(default)]
    pub draft: bool,
    #[serde(default)]
    pub noindex: bool,
    /// Listed in llms.txt (default true for lead magnets, tutorials and pages).
    #[serde(default)]
    pub llms: Option<bool>,
    #[serde(default)]
    pub llms_section: Option<String>,
    #[serde(default)]
    pub llms_note: Option<String>,
    /// Free-form extra fields used by briefs (partner, target stage, figures...).
    #[serde(default, flatten)]
    pub extra: std::collections::BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum ContentKind {
    LeadMagnet,
    Tutorial,
    Section,
    #[default]
    Page,
}

/// A loaded Markdown file.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ContentPage {
    /// File stem, the URL slug: `content/seo-checklist.md` -> `seo-checklist`.
    pub slug: String,
    /// Path relative to the site root, e.g. `content/seo-checklist.md`.
    pub source: PathBuf,
    pub front: FrontMatter,
    /// The Markdown body without front matter.
    pub markdown: String,
    /// The body rendered to HTML.
    pub html: String,
}

impl ContentPage {
    /// Standalone pages are published at `/<slug>/`; sections are not.
    pub fn is_published(&self) -> bool {
        !self.front.draft && self.front.kind != ContentKind::Section
    }

    pub fn site_path(&self) -> String {
        format!("/{}/", self.slug)
    }
}

/// Render Markdown to HTML: tables, footnotes, strikethrough and heading anchors (`id`s).
pub fn render_markdown(markdown: &str) -> String {
    use pulldown_cmark::{Options, Parser};
    let opts = Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_HEADING_ATTRIBUTES;
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, Parser::new_ext(markdown, opts));
    html
}

/// Split `---\n<yaml>\n---\n<body>`; returns (front matter, body, line where the body starts).
pub fn split_front_matter(text: &str) -> Option<(&str, &str, usize)> {
    let rest = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))?;
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == "---" {
            let fm = &rest[..offset];
            let body = &rest[offset + line.len()..];
            let body_line = 2 + fm.lines().count() + 1;
            return Some((fm, body, body_line));
        }
        offset += line.len();
    }
    None
}

/// Load every `content/**/*.md`, sorted by path. Problems go to `diags`.
pub fn load_all(
    root: &std::path::Path,
    diags: &mut crate::diagnostics::Diagnostics,
) -> Vec<ContentPage> {
    use crate::diagnostics::Diagnostic;
    let dir = root.join("content");
    let mut out = Vec::new();
    if !dir.is_dir() {
        return out;
    }
    for entry in walkdir::WalkDir::new(&dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
    {
        let path = entry.path();
        if !entry.file_type().is_file() || path.extension().is_none_or(|x| x != "md") {
            continue;
        }
        let rel = path.strip_prefix(root).unwrap_or(path).to_path_buf();
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                diags.push(Diagnostic::new(rel, 0, 0, format!("cannot read: {e}")));
                continue;
            }
        };
        let Some((fm, body, _)) = split_front_matter(&text) else {
            diags.push(
                Diagnostic::new(rel, 1, 1, "missing front matter")
                    .expected("a `---` line, YAML with at least `title:`, and a closing `---`"),
            );
            continue;
        };
        match serde_saphyr::from_str::<FrontMatter>(fm) {
            Ok(front) => {
                let slug = path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                out.push(ContentPage {
                    slug,
                    source: rel,
                    front,
                    markdown: body.to_string(),
                    html: render_markdown(body),
                });
            }
            Err(e) => diags.push(Diagnostic::new(rel, 0, 0, e.to_string())),
        }
    }
    out
}
