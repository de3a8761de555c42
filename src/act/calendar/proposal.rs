//! Calendar stage, proposals: a CTA / landing change to `partners/<code>.yaml` as a unified diff.
//!
//! Takes: a partner, its YAML text and the task the planner chose. Gives: the proposed field
//! values, the edited YAML (only the changed lines touched where the file's layout allows; a
//! flow mapping like `cta: { ... }` is rewritten as a block) and a unified diff that
//! `git apply` accepts.

use super::{lower_first, plan, Task};
use crate::partner::Partner;
use serde_json::Value;

/// One proposed change: a field path in the partner file and its new value (`null`: remove
/// the top-level key).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Edit {
    /// `["landing", "headline"]`, `["campaigns"]`.
    pub path: Vec<&'static str>,
    pub value: Value,
}

/// The edits that end a partner's test: with `winner`, its overrides become the partner's own
/// fields; then `variants:` goes.
fn end_test(partner: &Partner, winner: Option<&str>) -> Vec<Edit> {
    let s = |v: &String| Value::String(v.clone());
    let mut out = Vec::new();
    if let Some(v) = winner.and_then(|id| partner.variants.iter().find(|v| v.id == id)) {
        if let Some(x) = &v.promise {
            out.push(Edit {
                path: vec!["promise"],
                value: s(x),
            });
        }
        if let Some(l) = &v.landing {
            for (k, x) in [
                ("headline", &l.headline),
                ("proof", &l.proof),
                ("body", &l.body),
            ] {
                if let Some(x) = x {
                    out.push(Edit {
                        path: vec!["landing", k],
                        value: s(x),
                    });
                }
            }
        }
        if let Some(x) = &v.lead_magnet {
            out.push(Edit {
                path: vec!["lead_magnet", "label"],
                value: s(&x.label),
            });
        }
        if let Some(x) = &v.cta {
            out.push(Edit {
                path: vec!["cta", "label"],
                value: s(&x.label),
            });
        }
    }
    if !partner.variants.is_empty() {
        out.push(Edit {
            path: vec!["variants"],
            value: Value::Null,
        });
    }
    out
}

/// The fields the task proposes to change, by its rule and target stage.
pub(crate) fn proposed_edits(partner: &Partner, task: &Task) -> Vec<Edit> {
    let s = |v: String| Value::String(v);
    if task.rule == plan::RULE_PROMOTE {
        let winner = task
            .figures
            .experiment
            .as_ref()
            .and_then(|x| x.winner.as_deref());
        return end_test(partner, winner);
    }
    if task.rule == plan::RULE_END_TEST {
        return end_test(partner, None);
    }
    if task.rule == plan::RULE_CO_MARKETING {
        let campaign = format!(
            "{}-{}",
            task.format.as_deref().unwrap_or("co-marketing"),
            task.date.format("%Y-%m-%d")
        );
        if partner.campaigns.contains(&campaign) {
            return Vec::new();
        }
        let mut list: Vec<Value> = partner.campaigns.iter().cloned().map(s).collect();
        list.push(s(campaign));
        return vec![Edit {
            path: vec!["campaigns"],
            value: Value::Array(list),
        }];
    }
    let headline = &partner.landing.headline;
    let proof = &partner.landing.proof;
    match task.target_stage.as_deref() {
        // The visitor came for the promise: say it in the headline, and make the proof speak
        // to this audience.
        Some("lead_magnet") => {
            let new_headline = if contains_ci(headline, &partner.promise) {
                format!("Free {}: {}", lower_first(&partner.promise), headline)
            } else {
                format!("{}: {}", partner.promise, lower_first(headline))
            };
            vec![
                Edit {
                    path: vec!["landing", "headline"],
                    value: s(new_headline),
                },
                Edit {
                    path: vec!["landing", "proof"],
                    value: s(format!(
                        "{}, built for {}",
                        proof.trim_end_matches('.'),
                        lower_first(&partner.audience)
                    )),
                },
            ]
        }
        Some("cta") => {
            use crate::partner::CtaKind;
            let what = match partner.cta.kind {
                CtaKind::Demo => "see it on your own content",
                CtaKind::Newsletter => "one useful email a week",
                CtaKind::Tutorial => "step by step, in ten minutes",
                CtaKind::Download => "free, no signup",
            };
            vec![Edit {
                path: vec!["cta", "label"],
                value: s(format!("{}: {what}", partner.cta.label)),
            }]
        }
        _ => vec![Edit {
            path: vec!["landing", "proof"],
            value: s(format!(
                "{}. Your first step after signing up: {}",
                proof.trim_end_matches('.'),
                lower_first(&partner.activation.description)
            )),
        }],
    }
}

fn contains_ci(hay: &str, needle: &str) -> bool {
    hay.to_lowercase().contains(&needle.to_lowercase())
}

/// Apply `edits` to the partner YAML `text`. A field inside a block mapping is changed in
/// place (its line and any continuation lines); anything else rewrites the top-level key.
pub(crate) fn apply(text: &str, edits: &[Edit]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for edit in edits {
        apply_one(&mut lines, edit);
    }
    let mut out = lines.join("\n");
    if text.ends_with('\n') || text.is_empty() {
        out.push('\n');
    }
    out
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// Lines `[start, end)` of the value of the key on line `key_line`: following lines that are
/// blank or indented more than the key, without trailing blank lines.
fn value_extent(lines: &[String], key_line: usize) -> usize {
    let base = indent_of(&lines[key_line]);
    let mut end = key_line + 1;
    let mut last_content = key_line + 1;
    while end < lines.len() {
        let l = &lines[end];
        if l.trim().is_empty() {
            end += 1;
            continue;
        }
        // A block sequence may sit at its key's indentation (`variants:\n- id: a`).
        let item = indent_of(l) == base && l.trim_start().starts_with('-');
        if indent_of(l) < base || (indent_of(l) == base && !item) {
            break;
        }
        end += 1;
        last_content = end;
    }
    last_content
}

fn key_at(line: &str, key: &str) -> bool {
    line.trim_start()
        .strip_prefix(key)
        .is_some_and(|r| r.starts_with(':'))
}

fn apply_one(lines: &mut Vec<String>, edit: &Edit) {
    let top = edit.path[0];
    let Some(top_line) = lines
        .iter()
        .position(|l| indent_of(l) == 0 && key_at(l, top))
    else {
        // The key is absent: append it (or nothing to remove).
        if edit.value.is_null() {
            return;
        }
        lines.extend(emit(top, &nest(&edit.path[1..], &edit.value), 0));
        return;
    };
    let top_end = value_extent(lines, top_line);
    if edit.path.len() == 1 && edit.value.is_null() {
        lines.drain(top_line..top_end);
        return;
    }
    let inline = lines[top_line][top.len() + 1..].trim().to_string();
    if edit.path.len() == 2 && (inline.is_empty() || inline.starts_with('#')) {
        let sub = edit.path[1];
        let child = (top_line + 1..top_end).find(|&i| key_at(&lines[i], sub));
        if let Some(i) = child {
            let ind = indent_of(&lines[i]);
            let end = value_extent(lines, i);
            let new = emit(sub, &edit.value, ind);
            lines.splice(i..end, new);
            return;
        }
        let ind = (top_line + 1..top_end)
            .map(|i| indent_of(&lines[i]))
            .find(|&n| n > 0)
            .unwrap_or(2);
        let new = emit(sub, &edit.value, ind);
        lines.splice(top_end..top_end, new);
        return;
    }
    if edit.path.len() == 2 {
        // A flow mapping on one line (`cta: { label: x, kind: demo }`): rewrite it as a block
        // with the one field changed, keeping the other fields and their order.
        if let Some(mut map) = parse_flow_map(&inline) {
            if let Some(slot) = map.iter_mut().find(|(k, _)| k == edit.path[1]) {
                slot.1 = edit.value.clone();
            } else {
                map.push((edit.path[1].to_string(), edit.value.clone()));
            }
            let mut new = vec![format!("{top}:")];
            for (k, v) in &map {
                new.extend(emit(k, v, 2));
            }
            lines.splice(top_line..top_end, new);
        }
        return;
    }
    let new = emit(top, &edit.value, 0);
    lines.splice(top_line..top_end, new);
}

fn nest(path: &[&str], value: &Value) -> Value {
    match path.split_first() {
        None => value.clone(),
        Some((k, rest)) => {
            let mut m = serde_json::Map::new();
            m.insert((*k).to_string(), nest(rest, value));
            Value::Object(m)
        }
    }
}

/// Parse a simple one-line flow mapping `{ a: x, b: "y, z" }` into ordered pairs of strings.
/// Returns `None` for anything more complex (the edit is then skipped, never guessed).
fn parse_flow_map(s: &str) -> Option<Vec<(String, Value)>> {
    let body = s.strip_prefix('{')?.trim_end();
    let body = body.strip_suffix('}')?;
    let mut out = Vec::new();
    let mut parts = Vec::new();
    let (mut cur, mut quote) = (String::new(), None::<char>);
    for c in body.chars() {
        match (quote, c) {
            (None, '"' | '\'') => {
                quote = Some(c);
                cur.push(c);
            }
            (Some(q), c) if c == q => {
                quote = None;
                cur.push(c);
            }
            (None, '{' | '[') => return None,
            (None, ',') => parts.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    if !cur.trim().is_empty() {
        parts.push(cur);
    }
    for p in parts {
        let (k, v) = p.split_once(':')?;
        let v = v.trim();
        let value = if let Some(inner) = v.strip_prefix('"').and_then(|x| x.strip_suffix('"')) {
            serde_json::from_str(&format!("\"{inner}\"")).ok()?
        } else if let Some(inner) = v.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')) {
            Value::String(inner.replace("''", "'"))
        } else {
            Value::String(v.to_string())
        };
        out.push((k.trim().to_string(), value));
    }
    Some(out)
}

/// YAML lines for `key: value` at `indent` spaces (block style for maps, flow for lists).
fn emit(key: &str, value: &Value, indent: usize) -> Vec<String> {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(m) => {
            let mut out = vec![format!("{pad}{key}:")];
            for (k, v) in m.iter().filter(|(_, v)| !v.is_null()) {
                out.extend(emit(k, v, indent + 2));
            }
            out
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(scalar).collect();
            vec![format!("{pad}{key}: [{}]", items.join(", "))]
        }
        v => vec![format!("{pad}{key}: {}", scalar(v))],
    }
}

/// A YAML scalar: plain when it cannot be misread, else double-quoted (JSON quoting is valid
/// YAML).
fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => {
            let reserved = ["true", "false", "null", "yes", "no", "on", "off", "~"]
                .contains(&s.to_ascii_lowercase().as_str());
            let plain = !s.is_empty()
                && !reserved
                && s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '/')
                && !s.ends_with(' ')
                && s.chars()
                    .all(|c| c.is_alphanumeric() || " -_./$%()'!?&+".contains(c));
            if plain {
                s.clone()
            } else {
                Value::String(s.clone()).to_string()
            }
        }
        other => other.to_string(),
    }
}

/// A unified diff of `old` -> `new` for `path` (as `a/<path>` and `b/<path>`), three lines of
/// context, ready for `git apply` or `patch -p1`. Empty when nothing changed.
pub(crate) fn unified_diff(path: &str, old: &str, new: &str) -> String {
    let a: Vec<&str> = old.split_inclusive('\n').collect();
    let b: Vec<&str> = new.split_inclusive('\n').collect();
    let ops = diff_ops(&a, &b);
    if ops.iter().all(|o| matches!(o, Op::Same(..))) {
        return String::new();
    }
    let mut out = format!("--- a/{path}\n+++ b/{path}\n");
    const CONTEXT: usize = 3;
    let changed: Vec<usize> = ops
        .iter()
        .enumerate()
        .filter(|(_, o)| !matches!(o, Op::Same(..)))
        .map(|(i, _)| i)
        .collect();
    // Group changes whose contexts touch into hunks of op indices [lo, hi).
    let mut hunks: Vec<(usize, usize)> = Vec::new();
    for &i in &changed {
        let lo = i.saturating_sub(CONTEXT);
        let hi = (i + CONTEXT + 1).min(ops.len());
        match hunks.last_mut() {
            Some(h) if lo <= h.1 => h.1 = hi,
            _ => hunks.push((lo, hi)),
        }
    }
    for (lo, hi) in hunks {
        let (mut a_start, mut b_start) = (None, None);
        let (mut a_len, mut b_len) = (0, 0);
        let mut body = String::new();
        for op in &ops[lo..hi] {
            match *op {
                Op::Same(i, j) => {
                    a_start.get_or_insert(i);
                    b_start.get_or_insert(j);
                    a_len += 1;
                    b_len += 1;
                    push_line(&mut body, ' ', a[i]);
                }
                Op::Del(i, j) => {
                    a_start.get_or_insert(i);
                    b_start.get_or_insert(j);
                    a_len += 1;
                    push_line(&mut body, '-', a[i]);
                }
                Op::Ins(i, j) => {
                    a_start.get_or_insert(i);
                    b_start.get_or_insert(j);
                    b_len += 1;
                    push_line(&mut body, '+', b[j]);
                }
            }
        }
        let range = |start: Option<usize>, len: usize| {
            let s = start.unwrap_or(0);
            if len == 0 {
                format!("{s},0")
            } else if len == 1 {
                format!("{}", s + 1)
            } else {
                format!("{},{len}", s + 1)
            }
        };
        out.push_str(&format!(
            "@@ -{} +{} @@\n",
            range(a_start, a_len),
            range(b_start, b_len)
        ));
        out.push_str(&body);
    }
    out
}

fn push_line(out: &mut String, sign: char, line: &str) {
    out.push(sign);
    out.push_str(line);
    if !line.ends_with('\n') {
        out.push_str("\n\\ No newline at end of file\n");
    }
}

/// A diff operation with the positions in the old and new files where it happens.
#[derive(Debug, Clone, Copy)]
enum Op {
    Same(usize, usize),
    Del(usize, usize),
    Ins(usize, usize),
}

/// Line diff: common prefix and suffix, then a longest common subsequence of the middle
/// (partner files are small; the middle is a few lines).
fn diff_ops(a: &[&str], b: &[&str]) -> Vec<Op> {
    let pre = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suf = a[pre..]
        .iter()
        .rev()
        .zip(b[pre..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (am, bm) = (&a[pre..a.len() - suf], &b[pre..b.len() - suf]);
    let mut ops: Vec<Op> = (0..pre).map(|i| Op::Same(i, i)).collect();
    let (n, m) = (am.len(), bm.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if am[i] == bm[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && am[i] == bm[j] {
            ops.push(Op::Same(pre + i, pre + j));
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            // Deletions before insertions, as diff(1) prints them.
            ops.push(Op::Del(pre + i, pre + j));
            i += 1;
        } else {
            ops.push(Op::Ins(pre + i, pre + j));
            j += 1;
        }
    }
    let (a0, b0) = (a.len() - suf, b.len() - suf);
    ops.extend((0..suf).map(|k| Op::Same(a0 + k, b0 + k)));
    ops
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = "name: SEO\ncode: seo\ncampaigns: [default, webinar-dec]\nlanding:\n  headline: Ship AI content\n  proof: 40-point checklist\n  body: content/seo.md\ncta: { label: Book a demo, kind: demo, url: /demo }\n";

    #[test]
    fn block_fields_change_in_place() {
        let out = apply(
            YAML,
            &[Edit {
                path: vec!["landing", "headline"],
                value: Value::String("Content QA checklist: ship AI content".into()),
            }],
        );
        assert!(out.contains("  headline: \"Content QA checklist: ship AI content\"\n"));
        assert!(out.contains("  proof: 40-point checklist\n  body: content/seo.md\n"));
        assert_eq!(out.lines().count(), YAML.lines().count());
    }

    #[test]
    fn flow_mapping_is_rewritten_as_a_block_keeping_other_fields() {
        let out = apply(
            YAML,
            &[Edit {
                path: vec!["cta", "label"],
                value: Value::String("Book a demo: see it".into()),
            }],
        );
        assert!(
            out.ends_with("cta:\n  label: \"Book a demo: see it\"\n  kind: demo\n  url: /demo\n")
        );
    }

    #[test]
    fn list_values_replace_the_whole_key() {
        let out = apply(
            YAML,
            &[Edit {
                path: vec!["campaigns"],
                value: serde_json::json!(["default", "webinar-dec", "guest-post-2026-11-30"]),
            }],
        );
        assert!(out.contains("campaigns: [default, webinar-dec, guest-post-2026-11-30]\n"));
    }

    #[test]
    fn diff_has_hunk_headers_and_context() {
        let new = YAML.replace(
            "  proof: 40-point checklist\n",
            "  proof: 41-point checklist\n",
        );
        let d = unified_diff("partners/seo.yaml", YAML, &new);
        assert!(
            d.starts_with("--- a/partners/seo.yaml\n+++ b/partners/seo.yaml\n@@ -3,6 +3,6 @@\n"),
            "{d}"
        );
        assert!(d.contains("\n-  proof: 40-point checklist\n+  proof: 41-point checklist\n"));
        assert_eq!(unified_diff("x", YAML, YAML), "");
    }

    #[test]
    fn plain_scalars_are_only_used_when_unambiguous() {
        assert_eq!(scalar(&Value::String("Book a demo".into())), "Book a demo");
        assert_eq!(scalar(&Value::String("yes".into())), "\"yes\"");
        assert_eq!(scalar(&Value::String("a: b".into())), "\"a: b\"");
        assert_eq!(scalar(&Value::String("# x".into())), "\"# x\"");
    }
}
