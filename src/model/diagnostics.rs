//! Located errors for every stage: a file, a position, what was expected and a hint.
//!
//! Takes: an error found while loading or rendering. Gives: a [`Diagnostic`] that
//! renders like rustc (`error: ... --> partners/seo.yaml:3:7`) with the source line, plain or
//! in colour, and as JSON for `check --json`.

use crate::text::plural;
use anstyle::{AnsiColor, Style};
use serde::Serialize;
use std::fmt;
use std::path::PathBuf;

/// How bad a [`Diagnostic`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The site cannot be built as it is.
    #[default]
    Error,
    /// The site builds, but something is probably not what was meant (`check` exits 0).
    Warning,
}

/// One user-facing problem with an input file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// `error` or `warning`.
    pub severity: Severity,
    /// The file the problem is in, relative to the site root when possible.
    pub file: PathBuf,
    /// 1-based line, 0 when the problem is about the whole file (e.g. it cannot be read).
    pub line: usize,
    /// 1-based column, 0 when unknown.
    pub column: usize,
    /// What is wrong, in one sentence.
    pub message: String,
    /// The shape that was expected (e.g. "a slug of a-z, 0-9 and -").
    pub expected: Option<String>,
    /// What to do next ("did you mean `promise`?").
    pub hint: Option<String>,
    /// The offending source line, for the snippet.
    #[serde(skip)]
    pub source_line: Option<String>,
}

impl Diagnostic {
    /// A diagnostic at `file:line:column` with its message.
    pub fn new(
        file: impl Into<PathBuf>,
        line: usize,
        column: usize,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Error,
            file: file.into(),
            line,
            column,
            message: message.into(),
            expected: None,
            hint: None,
            source_line: None,
        }
    }

    /// The same problem as a warning.
    pub fn warning(mut self) -> Self {
        self.severity = Severity::Warning;
        self
    }

    /// True for a warning (the site still builds).
    pub fn is_warning(&self) -> bool {
        self.severity == Severity::Warning
    }

    /// Say what was expected there.
    pub fn expected(mut self, expected: impl Into<String>) -> Self {
        self.expected = Some(expected.into());
        self
    }

    /// Add a hint: how to fix it.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Attach the source line `self.line` of `source`, for the snippet.
    pub fn with_source(mut self, source: &str) -> Self {
        if self.line > 0 {
            self.source_line = source.lines().nth(self.line - 1).map(str::to_owned);
        }
        self
    }

    /// `file:line:column`, the form editors and CI annotations understand.
    pub fn location(&self) -> String {
        match (self.line, self.column) {
            (0, _) => self.file.display().to_string(),
            (l, 0) => format!("{}:{}", self.file.display(), l),
            (l, c) => format!("{}:{}:{}", self.file.display(), l, c),
        }
    }

    /// rustc-style text; `color` adds ANSI colours (for a terminal).
    pub fn render(&self, color: bool) -> String {
        let p = Paint(color);
        let mut out = String::new();
        let label = match self.severity {
            Severity::Error => p.red_bold("error"),
            Severity::Warning => p.yellow_bold("warning"),
        };
        out += &format!("{label}{}\n", p.bold(&format!(": {}", self.message)));
        let num = self.line.to_string();
        let pad = " ".repeat(num.len());
        out += &format!("{pad}{} {}\n", p.blue("-->"), self.location());
        if let Some(src) = &self.source_line {
            let src = src.trim_end_matches('\r');
            let bar = p.blue("|");
            out += &format!("{pad} {bar}\n");
            out += &format!("{} {bar} {src}\n", p.blue(&num));
            let start = self.column.saturating_sub(1);
            let width = token_width(src, start);
            let lead: String = src
                .chars()
                .take(start)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            let carets = "^".repeat(width);
            let carets = match self.severity {
                Severity::Error => p.red_bold(&carets),
                Severity::Warning => p.yellow_bold(&carets),
            };
            out += &format!("{pad} {bar} {lead}{carets}\n");
        }
        if let Some(e) = &self.expected {
            out += &format!("{pad} {} expected: {e}\n", p.blue("="));
        }
        if let Some(h) = &self.hint {
            let h = h.replace('\n', &format!("\n{pad}         "));
            out += &format!("{pad} {} help: {h}\n", p.blue("="));
        }
        out
    }
}

/// How many characters to underline from `start`: the key or value written there.
fn token_width(line: &str, start: usize) -> usize {
    let rest: Vec<char> = line.chars().skip(start).collect();
    // A flow list or mapping: underline up to its matching bracket.
    if let Some(open @ ('[' | '{')) = rest.first().copied() {
        let close = if open == '[' { ']' } else { '}' };
        let mut depth = 0;
        for (i, c) in rest.iter().enumerate() {
            if *c == open {
                depth += 1;
            } else if *c == close {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
        }
        return rest.len();
    }
    let mut n = 0;
    let mut quote = None;
    while n < rest.len() {
        let c = rest[n];
        let next = rest.get(n + 1).copied();
        match quote {
            Some(q) if c == q => {
                n += 1;
                break;
            }
            Some(_) => {}
            None if n == 0 && (c == '"' || c == '\'') => quote = Some(c),
            None if c == ':' && next.is_none_or(|x| x == ' ') => break,
            None if matches!(c, ',' | '}' | ']') => break,
            None if c == ' ' && next == Some('#') => break,
            None => {}
        }
        n += 1;
    }
    let token: String = rest[..n].iter().collect();
    token.trim_end().chars().count().max(1)
}

/// The styles of a diagnostic (anstyle); applied only when colour is asked for. Callers print
/// coloured text through `anstream`, which drops the styles where the stream or the environment
/// (`NO_COLOR`, `CLICOLOR=0`, not a terminal) says no and keeps them for `CLICOLOR_FORCE`.
struct Paint(bool);

impl Paint {
    const ERROR: Style = AnsiColor::Red.on_default().bold();
    const WARNING: Style = AnsiColor::Yellow.on_default().bold();
    const GUTTER: Style = AnsiColor::Blue.on_default().bold();
    const STRONG: Style = Style::new().bold();

    fn wrap(&self, style: Style, s: &str) -> String {
        if self.0 {
            format!("{style}{s}{style:#}")
        } else {
            s.to_string()
        }
    }
    fn red_bold(&self, s: &str) -> String {
        self.wrap(Self::ERROR, s)
    }
    fn yellow_bold(&self, s: &str) -> String {
        self.wrap(Self::WARNING, s)
    }
    fn blue(&self, s: &str) -> String {
        self.wrap(Self::GUTTER, s)
    }
    fn bold(&self, s: &str) -> String {
        self.wrap(Self::STRONG, s)
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.render(false).trim_end_matches('\n'))
    }
}

/// Every problem found in one pass over the inputs (check reports them all at once).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// Add one diagnostic.
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }
    /// No diagnostic yet.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// How many diagnostics.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Order by file, then position, so output does not depend on discovery order.
    pub fn sort(&mut self) {
        self.0
            .sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
    }

    /// How many distinct files have problems.
    pub fn file_count(&self) -> usize {
        let files: std::collections::BTreeSet<_> = self.0.iter().map(|d| &d.file).collect();
        files.len()
    }

    /// How many of them are errors (the rest are warnings).
    pub fn error_count(&self) -> usize {
        self.0.iter().filter(|d| !d.is_warning()).count()
    }

    /// True when there is at least one error (warnings alone do not fail).
    pub fn has_errors(&self) -> bool {
        self.error_count() > 0
    }

    /// "2 errors in 1 file", "1 warning in 1 file", "1 error and 2 warnings in 2 files".
    pub fn summary(&self) -> String {
        let (e, m) = (self.error_count(), self.file_count());
        let w = self.len() - e;
        let errors = plural(e as u64, "error", "errors");
        let warnings = plural(w as u64, "warning", "warnings");
        let what = match (e, w) {
            (_, 0) => errors,
            (0, _) => warnings,
            _ => format!("{errors} and {warnings}"),
        };
        format!("{what} in {}", plural(m as u64, "file", "files"))
    }

    /// Every diagnostic, a blank line between them, then the summary.
    pub fn render(&self, color: bool) -> String {
        let mut out = String::new();
        for d in &self.0 {
            out += &d.render(color);
            out.push('\n');
        }
        out += &Paint(color).bold(&self.summary());
        out
    }

    /// A JSON array of `{file, line, column, message, expected, hint}`.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&self.0).unwrap_or_else(|_| "[]".into())
    }
}

impl From<Vec<Diagnostic>> for Diagnostics {
    fn from(v: Vec<Diagnostic>) -> Self {
        Diagnostics(v)
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(false))
    }
}

impl std::error::Error for Diagnostics {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_rustc_with_the_token_underlined() {
        let d = Diagnostic::new("partners/a.yaml", 4, 1, "unknown field `promis`")
            .expected("one of the fields `name` or `promise`")
            .hint("did you mean `promise`?")
            .with_source("name: A\ncode: a\naudience: x\npromis: Content QA\n");
        assert_eq!(
            d.to_string(),
            "error: unknown field `promis`\n --> partners/a.yaml:4:1\n  |\n4 | promis: Content QA\n  | ^^^^^^\n  = expected: one of the fields `name` or `promise`\n  = help: did you mean `promise`?"
        );
    }

    #[test]
    fn underline_stops_at_flow_punctuation_and_comments() {
        assert_eq!(token_width("cta: { kind: demoo, url: /x }", 13), 5);
        assert_eq!(token_width("code: Upper Case # note", 6), 10);
        assert_eq!(token_width("url: \"a, b\"", 5), 6);
        assert_eq!(token_width("", 0), 1);
        assert_eq!(token_width("note: [a, [b]], x", 6), 8);
    }

    #[test]
    fn colour_only_when_asked() {
        let d = Diagnostic::new("a", 1, 1, "m");
        assert!(!d.render(false).contains('\x1b'));
        let coloured = d.render(true);
        assert!(
            coloured.contains("\x1b[1m\x1b[31merror\x1b[0m"),
            "{coloured:?}"
        );
        assert_eq!(
            anstream::adapter::strip_str(&coloured).to_string(),
            d.render(false),
            "stripping the styles gives the plain text"
        );
    }

    #[test]
    fn summary_counts_errors_and_files() {
        let mut ds = Diagnostics::default();
        ds.push(Diagnostic::new("b", 2, 1, "x"));
        ds.push(Diagnostic::new("a", 1, 1, "y"));
        ds.push(Diagnostic::new("a", 0, 0, "z"));
        ds.sort();
        assert_eq!(ds.0[0].message, "z");
        assert_eq!(ds.summary(), "3 errors in 2 files");
        let json: serde_json::Value = serde_json::from_str(&ds.to_json()).unwrap();
        assert_eq!(json[0]["file"], "a");
        assert_eq!(json[2]["line"], 2);
        assert!(json[0].get("source_line").is_none());
    }
}
