//! Located errors for every stage: a file, a position, what was expected and a hint.
//!
//! Takes: an error found while loading or rendering. Gives: a [`Diagnostic`] that
//! renders like rustc (`error: ... --> partners/seo.yaml:3:7`) with the source line.

use std::fmt;
use std::path::PathBuf;

/// One user-facing problem with an input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file the problem is in, relative to the site root when possible.
    pub file: PathBuf,
    /// 1-based line, 0 when the problem is about the whole file.
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
    pub source_line: Option<String>,
}

impl Diagnostic {
    pub fn new(
        file: impl Into<PathBuf>,
        line: usize,
        column: usize,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            file: file.into(),
            line,
            column,
            message: message.into(),
            expected: None,
            hint: None,
            source_line: None,
        }
    }

    pub fn expected(mut self, expected: impl Into<String>) -> Self {
        self.expected = Some(expected.into());
        self
    }

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
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error: {}", self.message)?;
        writeln!(f, "  --> {}", self.location())?;
        if let Some(src) = &self.source_line {
            let num = self.line.to_string();
            let pad = " ".repeat(num.len());
            writeln!(f, "{pad} |")?;
            writeln!(f, "{num} | {src}")?;
            let caret_at = self.column.saturating_sub(1);
            writeln!(f, "{pad} | {}^", " ".repeat(caret_at))?;
        }
        if let Some(e) = &self.expected {
            writeln!(f, "  = expected: {e}")?;
        }
        if let Some(h) = &self.hint {
            writeln!(f, "  = help: {h}")?;
        }
        Ok(())
    }
}

/// Every problem found in one pass over the inputs (check reports them all at once).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 {
            writeln!(f, "{d}")?;
        }
        let n = self.0.len();
        write!(f, "{n} error{} found", if n == 1 { "" } else { "s" })
    }
}

impl std::error::Error for Diagnostics {}
