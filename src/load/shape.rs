//! Load stage, second step: check a located YAML tree against the shape of a model.
//!
//! Takes: a [`Node`] tree and a [`Shape`]. Gives: one located [`Diagnostic`] per problem —
//! unknown fields (with "did you mean"), wrong types, missing required fields, empty text,
//! misspelled enum values — all of them, not just the first. The typed serde pass runs only
//! when this check found nothing, so its (one-at-a-time) errors are a safety net.

use super::yaml::{Node, Pos, Value};
use crate::diagnostics::Diagnostic;
use std::path::Path;

/// The expected shape of a YAML value.
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    /// Any non-empty scalar, read as text (numbers and booleans too: `name: 2024` is fine).
    Text,
    Bool,
    /// A whole number `>= 0`.
    UInt,
    /// Any number.
    Number,
    /// One of these words.
    Enum(&'static [&'static str]),
    /// A list of items of one shape.
    List(&'static Shape),
    /// A mapping with these fields.
    Map(&'static [Field]),
    /// Anything (free-form fields kept as they are).
    Any,
}

/// One field of a mapping.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub shape: Shape,
    pub required: bool,
}

impl Field {
    pub const fn req(name: &'static str, shape: Shape) -> Field {
        Field {
            name,
            shape,
            required: true,
        }
    }
    pub const fn opt(name: &'static str, shape: Shape) -> Field {
        Field {
            name,
            shape,
            required: false,
        }
    }
}

impl Shape {
    /// The shape in words, for "expected ...".
    pub fn describe(&self) -> String {
        match self {
            Shape::Text => "text".into(),
            Shape::Bool => "`true` or `false`".into(),
            Shape::UInt => "a whole number (0, 1, 2, ...)".into(),
            Shape::Number => "a number".into(),
            Shape::Enum(words) => one_of(words),
            Shape::List(Shape::Text) => "a list of text items, like `[a, b]`".into(),
            Shape::List(item) => format!("a list of {}", item.describe()),
            Shape::Map(fields) => {
                let names: Vec<&str> = fields.iter().map(|f| f.name).collect();
                format!(
                    "a mapping with {}",
                    one_of(&names).trim_start_matches("one of ")
                )
            }
            Shape::Any => "any value".into(),
        }
    }
}

/// "one of `a`, `b` or `c`".
pub(crate) fn one_of(words: &[&str]) -> String {
    let quoted: Vec<String> = words.iter().map(|w| format!("`{w}`")).collect();
    match quoted.split_last() {
        None => "nothing".into(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("one of {} or {last}", rest.join(", ")),
    }
}

/// The closest candidate to a misspelled word, if one is close enough to be what was meant.
pub(crate) fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let lower = word.to_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        if c.to_lowercase() == lower {
            return Some(c);
        }
        let d = strsim::damerau_levenshtein(&lower, c);
        let limit = (c.chars().count() / 3).max(1);
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// Where diagnostics of one file go: the file name, its text (for snippets) and the list.
pub struct Report<'a> {
    pub file: &'a Path,
    pub text: &'a str,
    /// Lines before the YAML starts in the file (1 for front matter).
    pub line_offset: usize,
    pub diags: Vec<Diagnostic>,
}

impl<'a> Report<'a> {
    pub fn new(file: &'a Path, text: &'a str, line_offset: usize) -> Self {
        Report {
            file,
            text,
            line_offset,
            diags: Vec::new(),
        }
    }

    /// A diagnostic at `pos` (already in file lines) with the source line attached.
    pub fn at(&self, pos: Pos, message: impl Into<String>) -> Diagnostic {
        let mut d = Diagnostic::new(self.file, pos.line, pos.column, message);
        let text_line = pos.line.checked_sub(self.line_offset + 1);
        d.source_line = text_line
            .and_then(|l| self.text.lines().nth(l))
            .map(str::to_owned);
        d
    }

    pub fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }
}

/// Check `node` against `shape`. `name` is the field's dotted name for messages, `owner` the
/// position of the field's key (where "missing field" points).
pub(crate) fn check(node: &Node, shape: &Shape, name: &str, owner: Pos, r: &mut Report) {
    let wrong = |r: &mut Report, expected: String| {
        let what = if name.is_empty() {
            "the file".to_string()
        } else {
            format!("`{name}`")
        };
        let d = r
            .at(
                node.pos,
                format!("wrong type for {what}: found {}", node.value.describe()),
            )
            .expected(expected);
        r.push(d);
    };
    match (shape, &node.value) {
        (Shape::Any, _) => {}
        (Shape::Text, Value::Str(s)) if s.trim().is_empty() => {
            let d = r
                .at(node.pos, format!("`{name}` is empty"))
                .expected("some text")
                .hint("write a value or remove the line if the field is optional");
            r.push(d);
        }
        (Shape::Text, Value::Str(_) | Value::Int(_) | Value::Float(_) | Value::Bool(_)) => {}
        (Shape::Bool, Value::Bool(_)) => {}
        (Shape::Bool, Value::Str(s)) => {
            let d = r
                .at(
                    node.pos,
                    format!("wrong type for `{name}`: found the text `{s}`"),
                )
                .expected("`true` or `false`");
            r.push(d);
        }
        (Shape::UInt, Value::Int(i)) if *i >= 0 => {}
        (Shape::Number, Value::Int(_) | Value::Float(_)) => {}
        (Shape::Enum(words), Value::Str(s)) => {
            if !words.contains(&s.as_str()) {
                let mut d = r
                    .at(node.pos, format!("unknown value `{s}` for `{name}`"))
                    .expected(one_of(words));
                if let Some(m) = did_you_mean(s, words.iter().copied()) {
                    d = d.hint(format!("did you mean `{m}`?"));
                }
                r.push(d);
            }
        }
        (Shape::List(item), Value::Seq(items)) => {
            for (i, n) in items.iter().enumerate() {
                check(n, item, &format!("{name}[{i}]"), n.pos, r);
            }
        }
        (Shape::Map(fields), Value::Map(entries)) => {
            // A misspelled required key is reported once, as unknown with its suggestion,
            // not a second time as missing.
            let mut suggested: Vec<&str> = Vec::new();
            for e in entries {
                let full = join(name, &e.key);
                match fields.iter().find(|f| f.name == e.key) {
                    Some(f) => {
                        if matches!(e.value.value, Value::Null) && !f.required {
                            continue; // `commission:` with nothing means "not set"
                        }
                        check(&e.value, &f.shape, &full, e.key_pos, r);
                    }
                    None => {
                        let names: Vec<&str> = fields.iter().map(|f| f.name).collect();
                        let place = if name.is_empty() {
                            String::new()
                        } else {
                            format!(" in `{name}`")
                        };
                        let mut d = r
                            .at(e.key_pos, format!("unknown field `{}`{place}", e.key))
                            .expected(format!(
                                "one of the fields {}",
                                one_of(&names).trim_start_matches("one of ")
                            ));
                        if let Some(m) = did_you_mean(&e.key, names.iter().copied()) {
                            d = d.hint(format!("did you mean `{m}`?"));
                            suggested.push(m);
                        }
                        r.push(d);
                    }
                }
            }
            let missing: Vec<&Field> = fields
                .iter()
                .filter(|f| f.required && !suggested.contains(&f.name))
                .filter(|f| !entries.iter().any(|e| e.key == f.name))
                .collect();
            let place = if name.is_empty() {
                String::new()
            } else {
                format!(" in `{name}`")
            };
            match missing.as_slice() {
                [] => {}
                [f] => {
                    let d = r
                        .at(owner, format!("missing required field `{}`{place}", f.name))
                        .expected(format!("`{}:` with {}", f.name, f.shape.describe()));
                    r.push(d);
                }
                many => {
                    let names: Vec<String> = many.iter().map(|f| format!("`{}`", f.name)).collect();
                    let d = r
                        .at(
                            owner,
                            format!("missing required fields {}{place}", names.join(", ")),
                        )
                        .expected(format!("each of {} set", names.join(", ")));
                    r.push(d);
                }
            }
        }
        (shape, _) => wrong(r, shape.describe()),
    }
}

/// Dotted paths of every field of a mapping shape (`landing.headline`), for the tests that keep
/// each schema in step with its struct.
#[cfg(test)]
pub(crate) fn field_paths(shape: &Shape) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    fn walk(shape: &Shape, prefix: &str, out: &mut std::collections::BTreeSet<String>) {
        if let Shape::Map(fields) = shape {
            for f in fields.iter() {
                let path = join(prefix, f.name);
                walk(&f.shape, &path, out);
                out.insert(path);
            }
        }
    }
    walk(shape, "", &mut out);
    out
}

/// Dotted paths of every object key in a serialized struct (the other side of [`field_paths`]).
#[cfg(test)]
pub(crate) fn json_paths(value: &serde_json::Value) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    fn walk(v: &serde_json::Value, prefix: &str, out: &mut std::collections::BTreeSet<String>) {
        if let serde_json::Value::Object(map) = v {
            for (k, child) in map {
                let path = join(prefix, k);
                walk(child, &path, out);
                out.insert(path);
            }
        }
    }
    walk(value, "", &mut out);
    out
}

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::yaml::parse;

    const INNER: &[Field] = &[
        Field::req("label", Shape::Text),
        Field::req("kind", Shape::Enum(&["demo", "newsletter"])),
    ];
    const ROOT: &[Field] = &[
        Field::req("name", Shape::Text),
        Field::req("promise", Shape::Text),
        Field::opt("noindex", Shape::Bool),
        Field::opt("campaigns", Shape::List(&Shape::Text)),
        Field::req("cta", Shape::Map(INNER)),
    ];

    fn run(text: &str) -> Vec<Diagnostic> {
        let file = Path::new("p.yaml");
        let node = parse(text, file, 0).unwrap();
        let mut r = Report::new(file, text, 0);
        check(&node, &Shape::Map(ROOT), "", node.pos, &mut r);
        r.diags
    }

    #[test]
    fn unknown_field_points_at_its_key_and_suggests_the_close_one() {
        let d = run("name: A\npromis: B\ncta: { label: L, kind: demo }\n");
        let unknown = d
            .iter()
            .find(|d| d.message.starts_with("unknown field"))
            .unwrap();
        assert_eq!((unknown.line, unknown.column), (2, 1));
        assert_eq!(unknown.hint.as_deref(), Some("did you mean `promise`?"));
    }

    #[test]
    fn a_misspelled_required_field_is_one_error_not_two() {
        let d = run("name: A\npromis: B\ncta: { label: L, kind: demo }\n");
        assert_eq!(d.len(), 1, "{d:?}");
    }

    #[test]
    fn missing_field_points_at_the_mapping_and_names_the_field() {
        let d = run("name: A\npromise: B\ncta:\n  label: L\n");
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].message, "missing required field `kind` in `cta`");
        assert_eq!((d[0].line, d[0].column), (3, 1));
        let d = run("noindex: true\n");
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(
            d[0].message,
            "missing required fields `name`, `promise`, `cta`"
        );
    }

    #[test]
    fn misspelled_enum_value_gets_a_suggestion() {
        let d = run("name: A\npromise: B\ncta: { label: L, kind: demoo }\n");
        assert_eq!(d[0].message, "unknown value `demoo` for `cta.kind`");
        assert_eq!(d[0].hint.as_deref(), Some("did you mean `demo`?"));
        assert_eq!(d[0].column, 24);
    }

    #[test]
    fn wrong_types_are_all_reported() {
        let d = run("name: [A]\npromise: B\nnoindex: sometimes\ncampaigns: x\ncta: { label: L, kind: demo }\n");
        let lines: Vec<usize> = d.iter().map(|d| d.line).collect();
        assert_eq!(lines, vec![1, 3, 4], "{d:?}");
    }

    #[test]
    fn did_you_mean_ignores_far_words() {
        assert_eq!(
            did_you_mean("headlin", ["headline", "proof"]),
            Some("headline")
        );
        assert_eq!(did_you_mean("zzz", ["headline", "proof"]), None);
        assert_eq!(did_you_mean("Promise", ["promise"]), Some("promise"));
    }
}
