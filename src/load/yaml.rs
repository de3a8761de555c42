//! Load stage, first step: the bytes of one YAML file become a located tree.
//!
//! Takes: a file's bytes (or the front matter of a Markdown file). Gives: a [`Node`] tree where
//! every key and value knows its 1-based line and column, or one located [`Diagnostic`] for a
//! file that is too large, not UTF-8, empty, not YAML, has duplicate keys or blows the alias
//! budget. The typed model is deserialized from the same text with the same [`options`] once the
//! tree passed the schema check.

use crate::diagnostics::Diagnostic;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;
use std::fmt;
use std::path::Path;

/// Largest YAML file we read (partners and config). Bigger files are refused before parsing.
pub(crate) const MAX_YAML_BYTES: u64 = 64 * 1024;

/// A 1-based position in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

impl Pos {
    pub const START: Pos = Pos { line: 1, column: 1 };

    /// Shift by `lines` (front matter starts on line 2 of its Markdown file).
    pub fn down(self, lines: usize) -> Pos {
        Pos {
            line: self.line + lines,
            column: self.column,
        }
    }

    fn from_location(loc: serde_saphyr::Location) -> Option<Pos> {
        let (line, column) = (loc.line() as usize, loc.column() as usize);
        (line > 0).then_some(Pos {
            line,
            column: column.max(1),
        })
    }
}

/// A YAML value with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub pos: Pos,
    pub value: Value,
    /// Byte range of the value in the parsed text (scalars), to read a number's text as written.
    pub raw: Option<std::ops::Range<usize>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

/// One `key: value` pair of a mapping, in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_pos: Pos,
    pub value: Node,
}

impl Value {
    /// How the value reads in a message: "a string", "a mapping", ...
    pub fn describe(&self) -> &'static str {
        match self {
            Value::Null => "nothing (null)",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

impl Node {
    pub fn entries(&self) -> &[Entry] {
        match &self.value {
            Value::Map(e) => e,
            _ => &[],
        }
    }

    /// The entry `key` of this mapping.
    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.entries().iter().find(|e| e.key == key)
    }

    /// Follow a path of keys (`["cta", "url"]`); list items by index (`"0"`).
    pub fn lookup(&self, path: &[&str]) -> Option<&Node> {
        let mut node = self;
        for step in path {
            node = match &node.value {
                Value::Map(entries) => &entries.iter().find(|e| e.key == *step)?.value,
                Value::Seq(items) => items.get(step.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(node)
    }

    /// Where the key of the last path step is written (for "unknown"/"missing" messages), or
    /// the value itself when the path is empty.
    pub fn key_pos(&self, path: &[&str]) -> Option<Pos> {
        match path.split_last() {
            None => Some(self.pos),
            Some((last, parent)) => Some(self.lookup(parent)?.get(last)?.key_pos),
        }
    }
}

/// Parser settings shared by the tree and the typed pass: duplicate keys are errors, only
/// YAML 1.2 booleans (no `no` -> false surprises), and a small alias budget so a billion-laughs
/// file is refused after a few thousand events instead of eating memory.
pub(crate) fn options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_aliases = 256;
    budget.max_anchors = 256;
    budget.max_events = 200_000;
    budget.max_depth = 64;
    budget.max_documents = 1;
    let mut opts = serde_saphyr::Options::default();
    opts.budget = Some(budget);
    opts.alias_limits.max_total_replayed_events = 20_000;
    opts.alias_limits.max_alias_expansions_per_anchor = 256;
    opts.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::Error;
    opts.strict_booleans = true;
    opts.with_snippet = false;
    opts
}

/// Read a file as UTF-8 text, refusing files over `limit` bytes and locating the first byte that
/// is not UTF-8.
/// Errors are boxed: they are rare and a [`Diagnostic`] is large.
pub(crate) fn read_text(path: &Path, rel: &Path, limit: u64) -> Result<String, Box<Diagnostic>> {
    let size = std::fs::metadata(path)
        .map_err(|e| {
            Box::new(Diagnostic::new(
                rel,
                0,
                0,
                format!("cannot read this file: {e}"),
            ))
        })?
        .len();
    if size > limit {
        return Err(Box::new(
            Diagnostic::new(
                rel,
                1,
                1,
                format!(
                    "file is too large: {size} bytes, the limit is {limit} bytes ({} KiB)",
                    limit / 1024
                ),
            )
            .expected(format!("a file of at most {} KiB", limit / 1024))
            .hint("split long text into a content/*.md file and point to it"),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| {
        Box::new(Diagnostic::new(
            rel,
            0,
            0,
            format!("cannot read this file: {e}"),
        ))
    })?;
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        // The prefix is valid UTF-8 by construction.
        let prefix = String::from_utf8_lossy(valid);
        let line = prefix.matches('\n').count() + 1;
        let line_start = prefix.rfind('\n').map_or(0, |i| i + 1);
        let column = prefix[line_start..].chars().count() + 1;
        let bad = e.as_bytes()[valid.len()];
        Box::new(
            Diagnostic::new(
                rel,
                line,
                column,
                format!(
                    "file is not valid UTF-8: byte 0x{bad:02X} at offset {}",
                    valid.len()
                ),
            )
            .expected("text encoded as UTF-8")
            .hint("re-save the file as UTF-8 (most editors: \"Save with encoding\")")
            .with_source(&prefix),
        )
    })
}

/// Parse YAML text into a located tree. `line_offset` is added to every line (front matter).
pub(crate) fn parse(text: &str, file: &Path, line_offset: usize) -> Result<Node, Box<Diagnostic>> {
    if text.trim().is_empty()
        || text
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Err(Box::new(
            Diagnostic::new(file, 1 + line_offset, 1, "file is empty")
                .expected("a YAML mapping of `key: value` lines"),
        ));
    }
    let parsed: Result<Spanned<Value>, _> = serde_saphyr::from_str_with_options(text, options());
    match parsed {
        Ok(s) => {
            let mut node = node(s);
            if line_offset > 0 {
                shift(&mut node, line_offset);
            }
            Ok(node)
        }
        Err(e) => Err(Box::new(from_saphyr(&e, text, file, line_offset))),
    }
}

/// Deserialize the typed model from text that already passed the schema check.
pub(crate) fn typed<T: serde::de::DeserializeOwned>(
    text: &str,
    file: &Path,
    line_offset: usize,
) -> Result<T, Box<Diagnostic>> {
    serde_saphyr::from_str_with_options(text, options())
        .map_err(|e| Box::new(from_saphyr(&e, text, file, line_offset)))
}

fn shift(node: &mut Node, lines: usize) {
    node.pos = node.pos.down(lines);
    match &mut node.value {
        Value::Seq(items) => items.iter_mut().for_each(|n| shift(n, lines)),
        Value::Map(entries) => {
            for e in entries {
                e.key_pos = e.key_pos.down(lines);
                shift(&mut e.value, lines);
            }
        }
        _ => {}
    }
}

/// Turn a serde-saphyr error into a diagnostic; when saphyr has no position, point at the first
/// line that is not blank or a comment so the diagnostic is still a real line:column.
fn from_saphyr(e: &serde_saphyr::Error, text: &str, file: &Path, line_offset: usize) -> Diagnostic {
    let pos = e
        .location()
        .and_then(Pos::from_location)
        .unwrap_or_else(|| first_content_pos(text));
    let raw = e.without_snippet().to_string();
    // saphyr points at the scalar it was scanning; the tab itself is often on a later line.
    let pos = if raw.contains("found a tab") {
        tab_after(text, pos).unwrap_or(pos)
    } else {
        pos
    };
    let (message, expected, hint) = explain(&raw);
    let mut d = Diagnostic::new(file, pos.line + line_offset, pos.column, message);
    d.source_line = text.lines().nth(pos.line - 1).map(str::to_owned);
    if let Some(x) = expected {
        d = d.expected(x);
    }
    if let Some(h) = hint {
        d = d.hint(h);
    }
    d
}

/// The first tab at or after `from`, as a position.
fn tab_after(text: &str, from: Pos) -> Option<Pos> {
    text.lines()
        .enumerate()
        .skip(from.line.saturating_sub(1))
        .find_map(|(i, line)| {
            let col = line.chars().position(|c| c == '\t')?;
            Some(Pos {
                line: i + 1,
                column: col + 1,
            })
        })
}

fn first_content_pos(text: &str) -> Pos {
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_start();
        if !t.is_empty() && !t.starts_with('#') {
            return Pos {
                line: i + 1,
                column: line.chars().count() - t.chars().count() + 1,
            };
        }
    }
    Pos::START
}

/// Rephrase saphyr's messages for the errors users make, without its own location suffix.
fn explain(raw: &str) -> (String, Option<String>, Option<String>) {
    let msg = strip_location(raw);
    let lower = msg.to_ascii_lowercase();
    if lower.contains("duplicate") {
        // saphyr: "duplicate mapping key: <key>, set DuplicateKeyPolicy ..."
        let key = msg
            .split_once("key: ")
            .map(|(_, rest)| rest.split(", set ").next().unwrap_or(rest).trim())
            .filter(|k| !k.is_empty());
        let what = key.map_or("a key".to_string(), |k| format!("`{k}`"));
        return (
            format!("duplicate key {what} in the same mapping"),
            Some("every key at most once per mapping".into()),
            Some("remove one of the two lines (YAML keeps no order between them)".into()),
        );
    }
    if lower.contains("documents") {
        return (
            "more than one YAML document in this file (a second `---` line)".into(),
            Some("one document per file: one partner per partners/<code>.yaml".into()),
            Some("move the second document to its own file, or remove the `---` line".into()),
        );
    }
    if lower.contains("tab") {
        return (
            format!("invalid YAML: {msg}"),
            Some("indentation with spaces".into()),
            Some("YAML does not allow tabs for indentation; replace them with spaces".into()),
        );
    }
    if lower.contains("alias")
        || lower.contains("anchor")
        || lower.contains("budget")
        || lower.contains("limit")
    {
        return (
            format!("refused: too many aliases or nodes ({msg})"),
            Some(
                "a small hand-written file; aliases (`*name`) expanded at most a few hundred times"
                    .into(),
            ),
            Some("write the values out instead of building them from nested aliases".into()),
        );
    }
    let expected = if lower.contains("quote") {
        "a closing quote on the same value"
    } else {
        "`key: value` lines, nested keys indented more than their parent, lists as `[a, b]` or `- a` lines"
    };
    (
        format!("invalid YAML: {msg}"),
        Some(expected.into()),
        Some("check the indentation and quoting on this line; quote values that contain `: ` or start with `*`, `&`, `!`, `{`, `[`".into()),
    )
}

fn strip_location(raw: &str) -> String {
    let first = raw.lines().next().unwrap_or(raw).trim();
    // saphyr appends " at line X, column Y" to some messages.
    let cut = first.find(" at line ").unwrap_or(first.len());
    first[..cut].trim_end_matches(['.', ':']).to_string()
}

// --- Deserialize the located tree through saphyr (so its budgets and duplicate-key policy apply).

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

fn node(s: Spanned<Value>) -> Node {
    let span = s.referenced.span();
    let raw = match (span.byte_offset(), span.byte_len()) {
        (Some(at), Some(len)) => Some(at as usize..(at + len) as usize),
        _ => None,
    };
    Node {
        pos: Pos::from_location(s.referenced).unwrap_or(Pos::START),
        value: s.value,
        raw,
    }
}

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Int(v.into()))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        Ok(i128::try_from(v).map_or(Value::Float(v as f64), Value::Int))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Str(String::from_utf8_lossy(v).into_owned()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Value>>()? {
            items.push(node(item));
        }
        Ok(Value::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<Value>>()? {
            let value = map.next_value::<Spanned<Value>>()?;
            let key_text = match key.value {
                Value::Str(s) => s,
                Value::Int(i) => i.to_string(),
                Value::Float(f) => f.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Null => "~".into(),
                Value::Seq(_) | Value::Map(_) => "<complex key>".into(),
            };
            entries.push(Entry {
                key: key_text,
                key_pos: Pos::from_location(key.referenced).unwrap_or(Pos::START),
                value: node(value),
            });
        }
        Ok(Value::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(text: &str) -> Node {
        parse(text, Path::new("t.yaml"), 0).expect("parses")
    }

    #[test]
    fn keys_and_values_know_their_line_and_column() {
        let n = tree("name: A\nlanding:\n  headline: Hi\n  proof: P\n");
        let e = n.get("landing").unwrap();
        assert_eq!(e.key_pos, Pos { line: 2, column: 1 });
        let h = n.lookup(&["landing", "headline"]).unwrap();
        assert_eq!(
            h.pos,
            Pos {
                line: 3,
                column: 13
            }
        );
        assert_eq!(
            n.key_pos(&["landing", "proof"]),
            Some(Pos { line: 4, column: 3 })
        );
    }

    #[test]
    fn flow_mappings_are_located_too() {
        let n = tree("cta: { label: Book, kind: demoo }\n");
        assert_eq!(
            n.key_pos(&["cta", "kind"]),
            Some(Pos {
                line: 1,
                column: 21
            })
        );
        assert_eq!(
            n.lookup(&["cta", "kind"]).unwrap().pos,
            Pos {
                line: 1,
                column: 27
            }
        );
    }

    #[test]
    fn front_matter_lines_are_shifted() {
        let n = parse("title: x\n", Path::new("c.md"), 1).unwrap();
        assert_eq!(n.get("title").unwrap().key_pos, Pos { line: 2, column: 1 });
    }

    #[test]
    fn duplicate_keys_point_at_the_second_key() {
        let d = parse("a: 1\nb: 2\na: 3\n", Path::new("t.yaml"), 0).unwrap_err();
        assert_eq!(
            (d.line, d.message.as_str()),
            (3, "duplicate key `a` in the same mapping"),
            "{d}"
        );
    }

    #[test]
    fn syntax_errors_are_located() {
        let d = parse("a: 1\nb: [1, 2\nc: 3\n", Path::new("t.yaml"), 0).unwrap_err();
        assert!(d.line >= 2 && d.column >= 1, "{d}");
        assert!(d.message.starts_with("invalid YAML"), "{d}");
    }

    #[test]
    fn a_second_document_is_refused_at_its_separator() {
        let d = parse("a: 1\n---\nb: 2\n", Path::new("t.yaml"), 0).unwrap_err();
        assert_eq!(d.line, 2, "{d}");
        assert!(d.message.starts_with("more than one YAML document"), "{d}");
    }

    #[test]
    fn tabs_get_a_hint_about_spaces() {
        let d = parse("a:\n  b: x\n\tc: 2\n", Path::new("t.yaml"), 0).unwrap_err();
        assert!(d.hint.as_deref().unwrap_or("").contains("tabs"), "{d}");
        assert_eq!((d.line, d.column), (3, 1), "{d}");
    }

    #[test]
    fn billion_laughs_is_refused_by_the_budget() {
        let mut text = String::from(
            "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        for (prev, name) in ["a", "b", "c", "d", "e", "f", "g", "h", "i"]
            .windows(2)
            .map(|w| (w[0], w[1]))
        {
            let refs = vec![format!("*{prev}"); 9].join(",");
            text.push_str(&format!("{name}: &{name} [{refs}]\n"));
        }
        let d = parse(&text, Path::new("t.yaml"), 0).unwrap_err();
        assert!(d.message.starts_with("refused"), "{d}");
        assert!(d.line > 0);
    }

    #[test]
    fn empty_and_comment_only_files_are_empty() {
        for text in ["", "\n\n", "# only a comment\n"] {
            let d = parse(text, Path::new("t.yaml"), 0).unwrap_err();
            assert_eq!(d.message, "file is empty");
        }
    }

    #[test]
    fn non_utf8_points_at_the_first_bad_byte() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.yaml");
        std::fs::write(&p, b"name: ok\ncode: caf\xe9\n").unwrap();
        let d = read_text(&p, Path::new("x.yaml"), MAX_YAML_BYTES).unwrap_err();
        assert_eq!((d.line, d.column), (2, 10), "{d}");
        assert!(d.message.contains("0xE9"));
    }

    #[test]
    fn files_over_the_limit_are_refused_with_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.yaml");
        std::fs::write(&p, "a: b\n".repeat(100)).unwrap();
        let d = read_text(&p, Path::new("x.yaml"), 100).unwrap_err();
        assert!(d.message.contains("the limit is 100 bytes"), "{d}");
    }
}
