//! Load stage machinery shared by config, partners and content: bytes -> located tree -> shape
//! check -> typed model -> value rules.
//!
//! Takes: a file (or a front matter block) and the [`schema::Shape`] of its model. Gives: the
//! typed value with its located tree and text (for later cross-file checks), or diagnostics.

pub mod rules;
pub mod schema;
pub mod yaml;

use schema::{Report, Shape};
use serde::de::DeserializeOwned;
use yaml::{Node, Pos};

/// A typed model with the tree it was read from (positions for later checks).
#[derive(Debug, Clone)]
pub struct Located<T> {
    pub value: T,
    pub node: Node,
}

/// Parse `text` (which starts `line_offset` lines into `r.file`), check it against `shape` and
/// deserialize `T`. Problems go to `r`; `None` when there were any.
pub fn from_text<T: DeserializeOwned>(
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
    schema::check(&node, shape, "", node.pos, r);
    if r.diags.len() > before {
        return None;
    }
    match yaml::typed::<T>(text, r.file, r.line_offset) {
        Ok(value) => Some(Located { value, node }),
        Err(d) => {
            r.push(*d);
            None
        }
    }
}

/// Report a rule [`rules::Problem`] at the value found at `path` (or at `fallback`).
pub fn flag(r: &mut Report, node: &Node, path: &[&str], problem: rules::Problem) {
    let pos = node.lookup(path).map_or(node.pos, |n| n.pos);
    flag_at(r, pos, problem);
}

/// Report a rule [`rules::Problem`] at `pos`.
pub fn flag_at(r: &mut Report, pos: Pos, problem: rules::Problem) {
    let mut d = r.at(pos, problem.message).expected(problem.expected);
    if let Some(h) = problem.hint {
        d = d.hint(h);
    }
    r.push(d);
}
