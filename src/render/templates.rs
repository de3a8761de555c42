//! Render stage, templates: the minijinja environment (embedded defaults + the site's overrides).
//!
//! Takes: a site root. Gives: [`Templates`], which renders a named template with a context, and
//! turns every template error into a [`Diagnostic`] pointing at the template file and line.
//!
//! The defaults live as real files in the repository's `templates/` and are embedded with
//! `include_str!` (as mdBook does with its theme). A site overrides any of them, file by file, by
//! placing a file of the same name in its own `templates/`; it may also add new templates there
//! (macros, partials) that its overrides include.

use crate::diagnostics::{Diagnostic, Diagnostics};
use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The default templates, embedded in the binary: (name, source).
pub(crate) const DEFAULTS: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/base.html")),
    ("landing.html", include_str!("../../templates/landing.html")),
    ("kit.html", include_str!("../../templates/kit.html")),
    ("index.html", include_str!("../../templates/index.html")),
    ("page.html", include_str!("../../templates/page.html")),
    ("style.css", include_str!("../../templates/style.css")),
    ("shell.css", include_str!("../../templates/shell.css")),
    // Task files of `calendar`, rendered with the same environment.
    (
        "calendar/brief.md",
        include_str!("../../templates/calendar/brief.md"),
    ),
    (
        "calendar/email.txt",
        include_str!("../../templates/calendar/email.txt"),
    ),
    (
        "calendar/check.md",
        include_str!("../../templates/calendar/check.md"),
    ),
    (
        "calendar/proposal.md",
        include_str!("../../templates/calendar/proposal.md"),
    ),
];

/// Folder of a site's own templates, relative to its root.
pub(crate) const TEMPLATES_DIR: &str = "templates";

/// Sub-folder of `templates/` that is not ours (the Worker source, see `collector::worker`).
const OTHER_RENDERERS_DIR: &str = "collector";

/// Templates larger than this are refused (a template is a page layout, not data).
const MAX_TEMPLATE_BYTES: u64 = 1024 * 1024;

/// The template environment of one site.
pub(crate) struct Templates {
    env: Environment<'static>,
    /// Template name -> file shown in diagnostics (`templates/landing.html`, or
    /// `templates/landing.html (built-in default)`).
    origin: BTreeMap<String, PathBuf>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates")
            .field("templates", &self.origin)
            .finish()
    }
}

impl Templates {
    /// The defaults overridden by `<root>/templates/**` (every file, sorted by path).
    /// Syntax errors in any template are reported all at once.
    pub(crate) fn load(root: &Path) -> Result<Templates, Diagnostics> {
        let mut sources: BTreeMap<String, (String, PathBuf)> = DEFAULTS
            .iter()
            .map(|(name, src)| {
                let shown = PathBuf::from(format!("{TEMPLATES_DIR}/{name} (built-in default)"));
                (name.to_string(), (src.to_string(), shown))
            })
            .collect();
        let mut diags = Diagnostics::default();
        let dir = root.join(TEMPLATES_DIR);
        if dir.is_dir() {
            let walk = walkdir::WalkDir::new(&dir)
                .sort_by_file_name()
                .into_iter()
                // templates/collector/ holds the Worker source, filled by collector::worker.
                .filter_entry(|e| e.depth() != 1 || e.file_name() != OTHER_RENDERERS_DIR);
            for entry in walk {
                let entry = match entry {
                    Ok(e) => e,
                    Err(e) => {
                        diags.push(Diagnostic::new(
                            TEMPLATES_DIR,
                            0,
                            0,
                            format!("cannot read: {e}"),
                        ));
                        continue;
                    }
                };
                let path = entry.path();
                let linked = entry.path_is_symlink();
                if !linked && !entry.file_type().is_file() {
                    continue;
                }
                let rel = path.strip_prefix(root).unwrap_or(path).to_path_buf();
                let Some(name) = template_name(path.strip_prefix(&dir).unwrap_or(path)) else {
                    continue;
                };
                // A link (or a file under a linked folder) is read only when it stays in the
                // site and keeps its extension; no byte of anything else is read.
                if linked || crate::load::through_link(root, path) {
                    if let Err(d) = crate::load::check_link(root, path, &rel) {
                        diags.push(*d);
                        continue;
                    }
                }
                if std::fs::metadata(path).map(|m| m.len()).unwrap_or(0) > MAX_TEMPLATE_BYTES {
                    diags.push(Diagnostic::new(
                        rel,
                        0,
                        0,
                        format!("template is larger than {MAX_TEMPLATE_BYTES} bytes"),
                    ));
                    continue;
                }
                match std::fs::read_to_string(path) {
                    Ok(src) => {
                        sources.insert(name, (src, rel));
                    }
                    Err(e) => diags.push(
                        Diagnostic::new(rel, 0, 0, format!("cannot read template: {e}"))
                            .expected("a UTF-8 text file"),
                    ),
                }
            }
        }

        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // Auto-escaping: HTML for .html/.xml (minijinja's default rule), none for .css.
        env.set_auto_escape_callback(minijinja::default_auto_escape_callback);
        env.set_formatter(html_formatter);
        env.set_keep_trailing_newline(true);
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        add_filters(&mut env);
        let mut origin = BTreeMap::new();
        for (name, (src, shown)) in sources {
            if let Err(e) = env.add_template_owned(name.clone(), src.clone()) {
                diags.push(diagnostic_at(&e, &shown, &src));
            }
            origin.insert(name, shown);
        }
        if diags.is_empty() {
            Ok(Templates { env, origin })
        } else {
            Err(diags)
        }
    }

    /// Render template `name` with `ctx`. Errors point at the template (or the one it
    /// extends/includes) where they happened.
    pub(crate) fn render<S: Serialize>(
        &self,
        name: &str,
        ctx: S,
    ) -> Result<String, Box<Diagnostic>> {
        let tmpl = self
            .env
            .get_template(name)
            .map_err(|e| Box::new(self.diagnostic(&e)))?;
        tmpl.render(ctx).map_err(|e| Box::new(self.diagnostic(&e)))
    }

    /// Does this environment have a template of that name?
    pub(crate) fn has(&self, name: &str) -> bool {
        self.origin.contains_key(name)
    }

    /// Warnings for every use of a partner field that is private to the kit
    /// ([`crate::partner::PRIVATE_FIELDS`], as `partner.<field>` or `partner["<field>"]`) in
    /// the templates that render public pages: `roots` and every template they extend, include
    /// or import, at the template line of the use. Public pages get those fields as none, so
    /// the use shows nothing (or "none") where the author expected the value.
    pub(crate) fn private_field_uses(&self, roots: &[&str]) -> Vec<Diagnostic> {
        let mut seen: Vec<String> = Vec::new();
        let mut queue: Vec<String> = roots.iter().map(|r| r.to_string()).collect();
        while let Some(name) = queue.pop() {
            if seen.contains(&name) || !self.has(&name) {
                continue;
            }
            if let Ok(t) = self.env.get_template(&name) {
                queue.extend(referenced_templates(t.source()));
            }
            seen.push(name);
        }
        seen.sort();
        let mut out = Vec::new();
        for name in &seen {
            let Ok(t) = self.env.get_template(name) else {
                continue;
            };
            let src = t.source();
            for (at, field) in private_uses(src) {
                let before = &src[..at];
                let line = before.matches('\n').count() + 1;
                let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
                let shown = self.origin.get(name).cloned().unwrap_or_default();
                out.push(
                    Diagnostic::new(
                        shown,
                        line,
                        column,
                        format!(
                            "`partner.{field}` is private to the partner kit, but this template renders public pages"
                        ),
                    )
                    .expected(format!(
                        "`partner.{field}` only in kit.html (or the templates only kit.html uses)"
                    ))
                    .hint(format!(
                        "public pages get `partner.{field}` as none, so nothing of it is published; show it in kit.html, which goes to the partner privately"
                    ))
                    .with_source(src)
                    .warning(),
                );
            }
        }
        out
    }

    fn diagnostic(&self, err: &minijinja::Error) -> Diagnostic {
        let name = err.name().unwrap_or("<template>");
        let shown = self
            .origin
            .get(name)
            .cloned()
            .unwrap_or_else(|| PathBuf::from(format!("{TEMPLATES_DIR}/{name}")));
        let src = self
            .env
            .get_template(name)
            .map(|t| t.source().to_string())
            .unwrap_or_default();
        diagnostic_at(err, &shown, &src)
    }
}

/// Filters every template can use (the calendar's task templates among them):
/// `yaml` (a YAML-safe quoted scalar) and `pct` (`0.0067` -> `0.7%`).
fn add_filters(env: &mut minijinja::Environment<'static>) {
    env.add_filter("yaml", yaml_filter);
    env.add_filter("pct", pct_filter);
}

/// `{{ x | yaml }}`: a YAML double-quoted scalar (JSON quoting is valid YAML).
fn yaml_filter(v: minijinja::Value) -> String {
    match v.as_str() {
        Some(s) => serde_json::Value::String(s.to_string()).to_string(),
        None if v.is_none() || v.is_undefined() => "null".into(),
        None => v.to_string(),
    }
}

/// `{{ 0.0067 | pct }}` -> `0.7%` (the report's formatter).
fn pct_filter(v: f64) -> String {
    crate::text::number::pct(v)
}

/// Escapes `& < > " '` in HTML templates (minijinja's default also escapes `/`, which makes
/// every URL in the output hard to read); everything else as minijinja does it.
fn html_formatter(
    out: &mut minijinja::Output,
    state: &minijinja::State,
    value: &minijinja::Value,
) -> Result<(), minijinja::Error> {
    match (state.auto_escape(), value.as_str()) {
        (minijinja::AutoEscape::Html, Some(s)) if !value.is_safe() => {
            let mut last = 0;
            for (i, b) in s.bytes().enumerate() {
                let rep = match b {
                    b'&' => "&amp;",
                    b'<' => "&lt;",
                    b'>' => "&gt;",
                    b'"' => "&quot;",
                    b'\'' => "&#39;",
                    _ => continue,
                };
                out.write_str(&s[last..i])?;
                out.write_str(rep)?;
                last = i + 1;
            }
            out.write_str(&s[last..])?;
            Ok(())
        }
        _ => minijinja::escape_formatter(out, state, value),
    }
}

/// The code parts of a template (`{{ ... }}` and `{% ... %}`, not comments nor raw blocks),
/// as (start offset, text).
fn code_blocks(src: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut i = 0;
    let mut raw = false;
    while let Some(rel) = src[i..].find('{') {
        let start = i + rel;
        let close = match src.as_bytes().get(start + 1) {
            Some(b'{') => "}}",
            Some(b'%') => "%}",
            Some(b'#') => "#}",
            _ => {
                i = start + 1;
                continue;
            }
        };
        let body_start = start + 2;
        let Some(len) = src[body_start..].find(close) else {
            break;
        };
        let body = &src[body_start..body_start + len];
        i = body_start + len + 2;
        let tag = body.trim_matches(|c: char| c == '-' || c == '+' || c.is_whitespace());
        if close == "%}" && tag.split_whitespace().next() == Some("raw") {
            raw = true;
            continue;
        }
        if close == "%}" && tag.split_whitespace().next() == Some("endraw") {
            raw = false;
            continue;
        }
        if close != "#}" && !raw {
            out.push((body_start, body));
        }
    }
    out
}

/// Template names a template extends, includes or imports (the string literals of those tags).
fn referenced_templates(src: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (at, body) in code_blocks(src) {
        let is_tag = src[..at].ends_with("{%");
        let first = body
            .trim_start_matches(['-', '+'])
            .split_whitespace()
            .next()
            .unwrap_or("");
        if !is_tag || !matches!(first, "extends" | "include" | "import" | "from") {
            continue;
        }
        let mut rest = body;
        while let Some(q) = rest.find(['"', '\'']) {
            let quote = rest.as_bytes()[q] as char;
            let after = &rest[q + 1..];
            let Some(end) = after.find(quote) else { break };
            out.push(after[..end].to_string());
            rest = &after[end + 1..];
        }
    }
    out
}

/// Uses of a private partner field in the code of a template: (byte offset, field).
fn private_uses(src: &str) -> Vec<(usize, &'static str)> {
    let mut out = Vec::new();
    for (at, body) in code_blocks(src) {
        let bytes = body.as_bytes();
        let mut from = 0;
        while let Some(rel) = body[from..].find("partner") {
            let start = from + rel;
            from = start + "partner".len();
            let word_before = start > 0
                && (bytes[start - 1].is_ascii_alphanumeric()
                    || matches!(bytes[start - 1], b'_' | b'.'));
            if word_before {
                continue;
            }
            let rest = body[from..].trim_start();
            let field_text = if let Some(r) = rest.strip_prefix('.') {
                let r = r.trim_start();
                let end = r
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(r.len());
                &r[..end]
            } else if let Some(r) = rest.strip_prefix('[') {
                let r = r.trim_start();
                match r.chars().next() {
                    Some(q @ ('"' | '\'')) => {
                        let r = &r[1..];
                        r.find(q).map_or("", |end| &r[..end])
                    }
                    _ => "",
                }
            } else {
                ""
            };
            if let Some(field) = crate::partner::PRIVATE_FIELDS
                .iter()
                .find(|f| **f == field_text)
            {
                out.push((at + start, *field));
            }
        }
    }
    out
}

/// `/`-separated template name of a file under `templates/`; `None` for hidden files.
fn template_name(rel: &Path) -> Option<String> {
    let mut parts = Vec::new();
    for c in rel.components() {
        let s = c.as_os_str().to_str()?;
        if s.starts_with('.') {
            return None;
        }
        parts.push(s);
    }
    Some(parts.join("/"))
}

/// A minijinja error as a located diagnostic: file, line, column of the failing expression.
fn diagnostic_at(err: &minijinja::Error, file: &Path, src: &str) -> Diagnostic {
    let line = err.line().unwrap_or(0);
    let column = match err.range() {
        Some(r) if r.start <= src.len() => {
            let before = &src[..r.start];
            before.len() - before.rfind('\n').map(|i| i + 1).unwrap_or(0) + 1
        }
        _ => 0,
    };
    let expr = err
        .range()
        .and_then(|r| src.get(r))
        .filter(|e| !e.contains('\n'));
    let message = match (err.kind(), expr, err.detail()) {
        (minijinja::ErrorKind::UndefinedError, Some(e), _) => {
            format!("template error: `{e}` is undefined")
        }
        (_, _, Some(detail)) => format!("template error: {} ({detail})", err.kind()),
        (_, _, None) => format!("template error: {}", err.kind()),
    };
    let hint = match err.kind() {
        minijinja::ErrorKind::UndefinedError => {
            "see docs/build.md for the variables each template gets; use `{% if x is defined %}` for optional ones"
        }
        minijinja::ErrorKind::TemplateNotFound => {
            "templates are looked up in the site's templates/ folder, then the built-in defaults"
        }
        _ => "see the minijinja template syntax reference (Jinja2-compatible)",
    };
    Diagnostic::new(file, line, column, message)
        .hint(hint)
        .with_source(src)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, src) in files {
            let p = dir.path().join(TEMPLATES_DIR).join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, src).unwrap();
        }
        dir
    }

    #[test]
    fn defaults_load_without_a_templates_folder() {
        let dir = tempfile::tempdir().unwrap();
        let t = Templates::load(dir.path()).unwrap();
        for (name, _) in DEFAULTS {
            assert!(t.has(name), "{name}");
        }
    }

    #[test]
    fn site_template_overrides_the_default_of_the_same_name() {
        let dir = site_with(&[("kit.html", "custom {{ x }}")]);
        let t = Templates::load(dir.path()).unwrap();
        assert_eq!(
            t.render("kit.html", minijinja::context! { x => "<b>" })
                .unwrap(),
            "custom &lt;b&gt;"
        );
    }

    #[test]
    fn undefined_variable_points_at_its_template_line() {
        let dir = site_with(&[("page.html", "line one\n\nhello {{ nope.title }}")]);
        let t = Templates::load(dir.path()).unwrap();
        let d = t.render("page.html", minijinja::context! {}).unwrap_err();
        assert_eq!(d.file, PathBuf::from("templates/page.html"));
        assert_eq!((d.line, d.column), (3, 10));
        assert_eq!(d.message, "template error: `nope.title` is undefined");
        assert_eq!(d.source_line.as_deref(), Some("hello {{ nope.title }}"));
    }

    #[test]
    fn syntax_errors_of_every_template_are_reported_at_once() {
        let dir = site_with(&[
            ("kit.html", "{% if %}"),
            ("partials/card.html", "ok\n{{ a + }}"),
        ]);
        let diags = Templates::load(dir.path()).unwrap_err();
        let files: Vec<_> = diags.0.iter().map(|d| d.location()).collect();
        assert_eq!(files.len(), 2, "{diags}");
        assert!(files[0].starts_with("templates/kit.html:1"), "{files:?}");
        assert!(
            files[1].starts_with("templates/partials/card.html:2"),
            "{files:?}"
        );
    }

    #[test]
    fn private_fields_in_templates_of_public_pages_are_found_at_their_line() {
        let dir = site_with(&[
            (
                "landing.html",
                "{% extends \"base.html\" %}\n{% block main %}\n<p>{{ partner.name }}</p>\n<p>Earn {{ partner.commission }}</p>\n{# partner.commission in a comment #}\n{% include \"terms.html\" %}\n{% endblock %}\n",
            ),
            ("terms.html", "x\n{% if partner [ 'commission' ] %}y{% endif %}\n"),
            ("kit.html", "{{ partner.commission }}"),
            ("index.html", "{% raw %}{{ partner.commission }}{% endraw %}{{ mypartner.commission }}"),
        ]);
        let t = Templates::load(dir.path()).unwrap();
        let found: Vec<String> = t
            .private_field_uses(&["landing.html", "index.html", "page.html"])
            .iter()
            .map(|d| format!("{} {:?}", d.location(), d.severity))
            .collect();
        assert_eq!(
            found,
            vec![
                "templates/landing.html:4:12 Warning",
                "templates/terms.html:2:7 Warning"
            ]
        );
        let none = Templates::load(tempfile::tempdir().unwrap().path()).unwrap();
        assert!(none
            .private_field_uses(&["landing.html", "index.html", "page.html"])
            .is_empty());
    }

    #[test]
    fn error_in_an_extended_template_names_that_template() {
        let dir = site_with(&[
            (
                "base.html",
                "top\n{{ missing_var }}\n{% block main %}{% endblock %}",
            ),
            (
                "page.html",
                "{% extends \"base.html\" %}{% block main %}x{% endblock %}",
            ),
        ]);
        let t = Templates::load(dir.path()).unwrap();
        let d = t.render("page.html", minijinja::context! {}).unwrap_err();
        assert_eq!(d.location(), "templates/base.html:2:4");
    }
}
