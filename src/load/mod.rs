//! Load stage machinery shared by config, partners and content: bytes -> located tree -> shape
//! check -> typed model -> value rules.
//!
//! Takes: a file (or a front matter block) and the [`shape::Shape`] of its model. Gives: the
//! typed value with its located tree and text (for later cross-file checks), or diagnostics.

// The inputs of a site and their validation.
pub mod config;
pub mod content;
pub(crate) mod kits;
pub mod partner;
pub mod reward;
pub mod site;

pub(crate) mod shape;
pub(crate) mod value_rules;
pub(crate) mod yaml;

use crate::diagnostics::Diagnostic;
use serde::de::DeserializeOwned;
use shape::{Report, Shape};
use std::path::{Path, PathBuf};
use yaml::{Node, Pos};

/// A typed model with the tree it was read from (positions for later checks).
#[derive(Debug, Clone)]
pub struct Located<T> {
    pub value: T,
    pub node: Node,
}

/// Parse `text` (which starts `line_offset` lines into `r.file`), check it against `shape` and
/// deserialize `T`. Problems go to `r`; `None` when there were any.
pub(crate) fn from_text<T: DeserializeOwned>(
    text: &str,
    shape: &Shape,
    r: &mut Report,
) -> Option<Located<T>> {
    let node = match yaml::parse(text, r.file, r.line_offset) {
        Ok(n) => n,
        Err(d) => {
            r.push(*d);
            return None;
        }
    };
    if !matches!(node.value, yaml::Value::Map(_)) {
        let d = r
            .at(
                node.pos,
                format!(
                    "expected a mapping of `key: value` lines, found {}",
                    node.value.describe()
                ),
            )
            .expected(shape.describe());
        r.push(d);
        return None;
    }
    let before = r.diags.len();
    shape::check(&node, shape, "", node.pos, r);
    if r.diags.len() > before {
        return None;
    }
    // The tree passed the shape check, so the typed value is built from it (one YAML parse per
    // file, not two); saphyr's typed pass only runs if that fails, for its located error.
    if let Ok(value) = serde_json::from_value::<T>(to_json(&node, shape, text)) {
        return Some(Located { value, node });
    }
    match yaml::typed::<T>(text, r.file, r.line_offset) {
        Ok(value) => Some(Located { value, node }),
        Err(d) => {
            r.push(*d);
            None
        }
    }
}

/// The checked tree as JSON for serde, scalars read the way `shape` says (`name: 1.50` is the
/// text `1.50`, as written). Optional fields written without a value are left out (= default).
fn to_json(node: &Node, shape: &Shape, text: &str) -> serde_json::Value {
    use serde_json::Value as J;
    use yaml::Value as Y;
    match (shape, &node.value) {
        (Shape::Text | Shape::Enum(_), Y::Str(s)) => J::String(s.clone()),
        (Shape::Text | Shape::Enum(_), Y::Int(_) | Y::Float(_) | Y::Bool(_)) => {
            let written = node.raw.clone().and_then(|r| text.get(r)).map(str::trim);
            match written {
                Some(w) if !w.is_empty() => J::String(w.to_string()),
                _ => J::String(scalar_text(&node.value)),
            }
        }
        (Shape::List(item), Y::Seq(items)) => {
            J::Array(items.iter().map(|n| to_json(n, item, text)).collect())
        }
        (Shape::Map(fields), Y::Map(entries)) => J::Object(
            entries
                .iter()
                .filter(|e| !matches!(e.value.value, Y::Null))
                .map(|e| {
                    let shape = fields
                        .iter()
                        .find(|f| f.name == e.key)
                        .map_or(Shape::Any, |f| f.shape);
                    (e.key.clone(), to_json(&e.value, &shape, text))
                })
                .collect(),
        ),
        (_, value) => natural_json(value),
    }
}

fn natural_json(value: &yaml::Value) -> serde_json::Value {
    use serde_json::Value as J;
    use yaml::Value as Y;
    match value {
        Y::Null => J::Null,
        Y::Bool(b) => J::Bool(*b),
        Y::Int(i) => i64::try_from(*i)
            .map(J::from)
            .or_else(|_| u64::try_from(*i).map(J::from))
            .unwrap_or_else(|_| J::from(*i as f64)),
        Y::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        Y::Str(s) => J::String(s.clone()),
        Y::Seq(items) => J::Array(items.iter().map(|n| natural_json(&n.value)).collect()),
        Y::Map(entries) => J::Object(
            entries
                .iter()
                .map(|e| (e.key.clone(), natural_json(&e.value.value)))
                .collect(),
        ),
    }
}

fn scalar_text(value: &yaml::Value) -> String {
    match value {
        yaml::Value::Int(i) => i.to_string(),
        yaml::Value::Float(f) => f.to_string(),
        yaml::Value::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

/// A diagnostic at the value of `path` in the YAML file `rel` of the site at `root`, for the
/// checks of later stages (shell, links) that keep only the typed value: the file is read
/// again, which costs nothing on the good path. When the file or field cannot be found the
/// diagnostic names the file without a position.
pub(crate) fn at_field(
    root: &std::path::Path,
    rel: &std::path::Path,
    path: &[&str],
    message: impl Into<String>,
) -> crate::diagnostics::Diagnostic {
    let message = message.into();
    let text = yaml::read_text(&root.join(rel), rel, yaml::MAX_YAML_BYTES).ok();
    let node = text.as_deref().and_then(|t| yaml::parse(t, rel, 0).ok());
    match (text.as_deref(), node.as_ref().and_then(|n| n.lookup(path))) {
        (Some(text), Some(value)) => Report::new(rel, text, 0).at(value.pos, message),
        _ => crate::diagnostics::Diagnostic::new(rel, 0, 0, message),
    }
}

/// Report a rule [`value_rules::Problem`] at the value found at `path` (or at `fallback`).
pub(crate) fn flag(r: &mut Report, node: &Node, path: &[&str], problem: value_rules::Problem) {
    let pos = node.lookup(path).map_or(node.pos, |n| n.pos);
    flag_at(r, pos, problem);
}

/// Report a rule [`value_rules::Problem`] at `pos`.
pub(crate) fn flag_at(r: &mut Report, pos: Pos, problem: value_rules::Problem) {
    let mut d = r.at(pos, problem.message).expected(problem.expected);
    if let Some(h) = problem.hint {
        d = d.hint(h);
    }
    r.push(d);
}

/// The file a symbolic link met while loading (`partners/`, `content/`, `templates/`) points
/// to, checked before a byte of it is read: it must exist, be a file inside the site root and
/// have the link's own extension (a `partners/x.yaml` pointing at `.env` is refused, so no line
/// of it can appear in an error). `path` is the link (or a file under a linked folder), `rel`
/// its name for messages. The error names both paths and never the file's content.
pub(crate) fn check_link(root: &Path, path: &Path, rel: &Path) -> Result<PathBuf, Box<Diagnostic>> {
    let refuse = |message: String, hint: &str| {
        Box::new(
            Diagnostic::new(rel, 0, 0, message)
                .expected("a file inside the site folder, or a link to one with the same extension")
                .hint(hint.to_string()),
        )
    };
    let Ok(target) = path.canonicalize() else {
        return Err(refuse(
            format!("`{}` is a broken symbolic link", rel.display()),
            "point the link at an existing file or remove it",
        ));
    };
    let inside = root
        .canonicalize()
        .is_ok_and(|root| target.starts_with(root));
    if !inside {
        return Err(refuse(
            format!(
                "`{}` is a symbolic link to {}, outside the site; not read",
                rel.display(),
                target.display()
            ),
            "copy the file into the site instead of linking to it",
        ));
    }
    if !target.is_file() {
        return Err(refuse(
            format!(
                "`{}` is a symbolic link to a folder ({}); linked folders are not followed",
                rel.display(),
                target.display()
            ),
            "move or copy the folder into the site",
        ));
    }
    let ext = |p: &Path| p.extension().map(|e| e.to_ascii_lowercase());
    if ext(&target) != ext(path) {
        return Err(refuse(
            format!(
                "`{}` is a symbolic link to {}, a file of another kind; not read",
                rel.display(),
                target.display()
            ),
            "link only to a file with the same extension",
        ));
    }
    Ok(target)
}

/// Does `path` go through a symbolic link below `root` (the file itself or a folder on the
/// way)? Only then is [`check_link`] needed.
pub(crate) fn through_link(root: &Path, path: &Path) -> bool {
    let Ok(rel) = path.strip_prefix(root) else {
        return false;
    };
    let mut at = root.to_path_buf();
    rel.components().any(|c| {
        at.push(c);
        std::fs::symlink_metadata(&at).is_ok_and(|m| m.file_type().is_symlink())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Doc {
        name: String,
        #[serde(default)]
        note: Option<String>,
        low: f64,
        days: u32,
    }
    const DOC: Shape = Shape::Map(&[
        shape::Field::req("name", Shape::Text),
        shape::Field::opt("note", Shape::Text),
        shape::Field::req("low", Shape::Number),
        shape::Field::req("days", Shape::UInt),
    ]);

    fn load(text: &str) -> Option<Doc> {
        let mut r = Report::new(Path::new("d.yaml"), text, 0);
        from_text::<Doc>(text, &DOC, &mut r).map(|l| l.value)
    }

    #[test]
    fn numbers_in_text_fields_keep_their_written_form() {
        let d = load("name: 1.50\nnote:\nlow: 0\ndays: 7\n").unwrap();
        assert_eq!(
            d,
            Doc {
                name: "1.50".into(),
                note: None,
                low: 0.0,
                days: 7
            }
        );
    }

    #[test]
    fn values_serde_refuses_still_get_a_located_error() {
        let mut r = Report::new(Path::new("d.yaml"), "", 0);
        let text = "name: x\nlow: 0.5\ndays: 99999999999\n";
        assert!(from_text::<Doc>(text, &DOC, &mut r).is_none());
        assert_eq!(r.diags[0].line, 3, "{}", r.diags[0]);
    }
}
