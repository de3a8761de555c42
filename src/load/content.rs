//! Load stage: `content/*.md` with YAML front matter, rendered with pulldown-cmark.
//!
//! Takes: Markdown files. Gives: [`ContentPage`]s (standalone pages at `/<slug>/`, and
//! sections used as a partner's landing body), or diagnostics located in the `.md` file.

use crate::diagnostics::Diagnostic;
use crate::load::shape::{Field, Report, Shape};
use crate::load::{value_rules, yaml};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Front matter between `---` lines at the top of a content file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct FrontMatter {
    /// The page title.
    pub title: String,
    /// The meta description and llms.txt note, when given.
    #[serde(default)]
    pub description: Option<String>,
    /// `lead_magnet`, `tutorial`, `section` (only used inside a landing page) or `page`.
    #[serde(default)]
    pub kind: ContentKind,
    /// Drafts are never published.
    #[serde(default)]
    pub draft: bool,
    /// Keep the page out of sitemaps and llms.txt.
    #[serde(default)]
    pub noindex: bool,
    /// Listed in llms.txt (default true for lead magnets, tutorials and pages).
    #[serde(default)]
    pub llms: Option<bool>,
    /// The llms.txt section the page is listed under (default from its kind).
    #[serde(default)]
    pub llms_section: Option<String>,
    /// The llms.txt note of the page (default: its description).
    #[serde(default)]
    pub llms_note: Option<String>,
    /// Extra fields of generated briefs ([`BRIEF_FIELDS`]: partner, target stage, figures...).
    #[serde(default, flatten)]
    pub extra: std::collections::BTreeMap<String, serde_json::Value>,
}

/// What a content page is (`kind:` in its front matter).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum ContentKind {
    /// A free resource a partner's page offers.
    LeadMagnet,
    /// A tutorial.
    Tutorial,
    /// A block used inside a landing page, never published on its own.
    Section,
    /// Any other page (the default).
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
    /// Its front matter.
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

    /// The path the page is served at, from the site root.
    pub fn site_path(&self) -> String {
        format!("/{}/", self.slug)
    }
}

/// Render Markdown to HTML: tables, footnotes, strikethrough and heading anchors. Every heading
/// gets an `id` — the one written as `{#id}`, or a slug of its text (`## Set it up` ->
/// `set-it-up`, repeated ones get `-1`, `-2`) — so links like `/guide/#set-it-up` work.
pub fn render_markdown(markdown: &str) -> String {
    use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd};
    let opts = Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_HEADING_ATTRIBUTES;
    let mut events: Vec<Event> = Parser::new_ext(markdown, opts).collect();
    let mut used: std::collections::BTreeSet<String> = events
        .iter()
        .filter_map(|e| match e {
            Event::Start(Tag::Heading { id: Some(id), .. }) => Some(id.to_string()),
            _ => None,
        })
        .collect();
    let mut i = 0;
    while i < events.len() {
        if let Event::Start(Tag::Heading { id: None, .. }) = &events[i] {
            let mut text = String::new();
            for e in &events[i + 1..] {
                match e {
                    Event::End(TagEnd::Heading(_)) => break,
                    Event::Text(t) | Event::Code(t) => text.push_str(t),
                    _ => {}
                }
            }
            let base = crate::load::value_rules::slugify(&text);
            let base = if base.is_empty() {
                "section".to_string()
            } else {
                base
            };
            let mut id = base.clone();
            let mut n = 0;
            while used.contains(&id) {
                n += 1;
                id = format!("{base}-{n}");
            }
            used.insert(id.clone());
            if let Event::Start(Tag::Heading { id: slot, .. }) = &mut events[i] {
                *slot = Some(CowStr::from(id));
            }
        }
        i += 1;
    }
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
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

/// Largest Markdown file we read.
pub const MAX_CONTENT_BYTES: u64 = 1024 * 1024;

/// Front matter keys that generated briefs (`calendar`) carry besides the page fields; kept in
/// [`FrontMatter::extra`]. Any other unknown key is an error with a "did you mean".
pub const BRIEF_FIELDS: &[&str] = &[
    "partner",
    "target_stage",
    "promise",
    "objections",
    "figures",
    "date",
    "rule",
    "audience",
    "format",
    "reason",
    "funnel_action",
];

/// `kind` values of content files.
pub const KINDS: &[&str] = &["lead_magnet", "tutorial", "section", "page"];

/// Slugs that would collide with the pages and routes we generate.
pub const RESERVED_SLUGS: &[&str] = &["p", "go", "e", "s"];

/// The shape of the front matter; mirrors [`FrontMatter`] plus [`BRIEF_FIELDS`].
pub const SHAPE: Shape = Shape::Map(&[
    Field::req("title", Shape::Text),
    Field::opt("description", Shape::Text),
    Field::opt("kind", Shape::Enum(KINDS)),
    Field::opt("draft", Shape::Bool),
    Field::opt("noindex", Shape::Bool),
    Field::opt("llms", Shape::Bool),
    Field::opt("llms_section", Shape::Text),
    Field::opt("llms_note", Shape::Text),
    Field::opt("partner", Shape::Any),
    Field::opt("target_stage", Shape::Any),
    Field::opt("promise", Shape::Any),
    Field::opt("objections", Shape::Any),
    Field::opt("figures", Shape::Any),
    Field::opt("date", Shape::Any),
    Field::opt("rule", Shape::Any),
    Field::opt("audience", Shape::Any),
    Field::opt("format", Shape::Any),
    Field::opt("reason", Shape::Any),
    Field::opt("funnel_action", Shape::Any),
]);

/// Load one Markdown file's text. `rel` is the path relative to the site root.
pub fn parse(text: &str, rel: &Path, diags: &mut Vec<Diagnostic>) -> Option<ContentPage> {
    let slug = rel
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("")
        .to_string();
    let mut ok = true;
    if let Some(problem) = value_rules::slug(&slug, "content file name") {
        let mut d = Diagnostic::new(rel, 1, 1, problem.message)
            .expected("`content/<slug>.md`; the file name is the page's URL")
            .with_source(text);
        if let Some(h) = problem.hint {
            d = d.hint(format!("rename the file: {h}"));
        }
        diags.push(d);
        ok = false;
    } else if RESERVED_SLUGS.contains(&slug.as_str()) {
        diags.push(
            Diagnostic::new(
                rel,
                1,
                1,
                format!("content file name `{slug}` is reserved: /{slug}/ is generated"),
            )
            .expected(format!(
                "a slug other than {}",
                crate::load::shape::one_of(RESERVED_SLUGS)
            ))
            .with_source(text),
        );
        ok = false;
    }
    let Some((fm, body, _)) = split_front_matter(text) else {
        let opened = text.starts_with("---\n") || text.starts_with("---\r\n");
        let message = if opened {
            "front matter is not closed"
        } else {
            "missing front matter"
        };
        diags.push(
            Diagnostic::new(rel, 1, 1, message)
                .expected("a first line `---`, YAML with at least `title:`, then a line `---` before the Markdown")
                .hint("start the file with:\n---\ntitle: Your page title\n---")
                .with_source(text),
        );
        return None;
    };
    // Front matter starts on line 2, after the opening `---`.
    let mut r = Report::new(rel, fm, 1);
    let front = crate::load::from_text::<FrontMatter>(fm, &SHAPE, &mut r);
    diags.append(&mut r.diags);
    let front = front?.value;
    ok.then(|| ContentPage {
        slug,
        source: rel.to_path_buf(),
        front,
        markdown: body.to_string(),
        html: render_markdown(body),
    })
}

/// Load every `<content_dir>/**/*.md` (`content/` unless the config says otherwise), sorted
/// by path. Problems go to `diags`.
pub fn load_all(root: &Path, content_dir: &str, diags: &mut Vec<Diagnostic>) -> Vec<ContentPage> {
    let dir = root.join(content_dir);
    let mut out = Vec::new();
    if !dir.is_dir() {
        return out;
    }
    for entry in walkdir::WalkDir::new(&dir).sort_by_file_name() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = e.path().unwrap_or(&dir);
                let rel = path.strip_prefix(root).unwrap_or(path);
                diags.push(Diagnostic::new(rel, 0, 0, format!("cannot read: {e}")));
                continue;
            }
        };
        let path = entry.path();
        let rel = path.strip_prefix(root).unwrap_or(path);
        if entry.path_is_symlink() {
            // Followed when it stays in the site and points at a Markdown file; otherwise
            // reported (folders too), never skipped without a word.
            let is_md = path.extension().is_some_and(|x| x == "md");
            let to_dir = std::fs::metadata(path).is_ok_and(|m| m.is_dir());
            if !is_md && !to_dir {
                continue;
            }
            if let Err(d) = crate::load::check_link(root, path, rel) {
                diags.push(*d);
                continue;
            }
        } else if !entry.file_type().is_file() || path.extension().is_none_or(|x| x != "md") {
            continue;
        } else if crate::load::through_link(root, path) {
            if let Err(d) = crate::load::check_link(root, path, rel) {
                diags.push(*d);
                continue;
            }
        }
        match yaml::read_text(path, rel, MAX_CONTENT_BYTES) {
            Ok(text) => out.extend(parse(&text, rel, diags)),
            Err(d) => diags.push(*d),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(name: &str, text: &str) -> Result<ContentPage, Vec<String>> {
        let mut diags = Vec::new();
        parse(text, Path::new(name), &mut diags).ok_or_else(|| {
            diags
                .iter()
                .map(|d| format!("{}:{} {}", d.line, d.column, d.message))
                .collect()
        })
    }

    #[test]
    fn front_matter_and_body_are_split_and_rendered() {
        let page = load(
            "content/guide.md",
            "---\ntitle: Guide\nkind: tutorial\n---\n# Hello\n",
        )
        .unwrap();
        assert_eq!(page.slug, "guide");
        assert_eq!(page.front.kind, ContentKind::Tutorial);
        assert!(
            page.html.contains("<h1 id=\"hello\">Hello</h1>"),
            "{}",
            page.html
        );
    }

    #[test]
    fn headings_get_stable_unique_anchors() {
        let html = render_markdown(
            "# Set it up\n\n## Set it up\n\n## `llms.txt` file\n\n## Custom {#mine}\n",
        );
        assert!(html.contains("<h1 id=\"set-it-up\">"), "{html}");
        assert!(html.contains("<h2 id=\"set-it-up-1\">"), "{html}");
        assert!(html.contains("<h2 id=\"llms-txt-file\">"), "{html}");
        assert!(html.contains("<h2 id=\"mine\">"), "{html}");
    }

    #[test]
    fn front_matter_errors_point_at_lines_of_the_markdown_file() {
        let err = load(
            "content/guide.md",
            "---\ntitle: Guide\nkind: tutorail\ntitel: x\n---\nbody\n",
        )
        .unwrap_err();
        assert_eq!(
            err,
            vec![
                "3:7 unknown value `tutorail` for `kind`",
                "4:1 unknown field `titel`"
            ]
        );
    }

    #[test]
    fn schema_mirrors_every_field_of_the_struct() {
        use crate::load::shape::{field_paths, json_paths};
        let mut json = serde_json::to_value(FrontMatter::default()).unwrap();
        for f in BRIEF_FIELDS {
            json[*f] = serde_json::Value::Null;
        }
        assert_eq!(
            field_paths(&SHAPE),
            json_paths(&json),
            "add the new field to content::SHAPE"
        );
    }

    #[test]
    fn brief_fields_are_allowed_and_kept() {
        let page = load(
            "content/brief.md",
            "---\ntitle: B\ndraft: true\npartner: seo\nfigures: { visitors: 10 }\n---\n",
        )
        .unwrap();
        assert_eq!(page.front.extra["partner"], serde_json::json!("seo"));
        assert!(page.front.extra.contains_key("figures"));
    }

    #[test]
    fn missing_or_unclosed_front_matter_is_reported_at_the_top() {
        assert_eq!(
            load("content/a.md", "# No front matter\n").unwrap_err(),
            vec!["1:1 missing front matter"]
        );
        assert_eq!(
            load("content/a.md", "---\ntitle: x\n").unwrap_err(),
            vec!["1:1 front matter is not closed"]
        );
    }

    #[test]
    fn content_file_names_must_be_slugs_and_not_reserved() {
        assert!(
            load("content/My Guide.md", "---\ntitle: x\n---\n").unwrap_err()[0]
                .contains("not a slug")
        );
        assert!(load("content/p.md", "---\ntitle: x\n---\n").unwrap_err()[0].contains("reserved"));
    }
}
