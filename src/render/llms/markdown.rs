//! Render stage, agents: user Markdown (content files, landing bodies) cleaned for the mirrors.
//!
//! Takes: Markdown as the author wrote it. Gives: the same text, byte for byte, except for a few
//! targeted edits found with pulldown-cmark's source offsets: link destinations made absolute and
//! untracked, heading attributes (`{#id}`) and tag-only HTML blocks (`<div data-pp-click>`)
//! removed, and optionally every heading one level down.

use super::{canonical_url, escape};
use crate::config::Config;
use pulldown_cmark::{Event, HeadingLevel, LinkType, Options, Parser, Tag};
use std::ops::Range;

/// The extensions content is rendered with (see [`crate::content::render_markdown`]).
fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_HEADING_ATTRIBUTES
}

/// Clean `markdown` for a mirror; `demote` moves ATX headings one level down (a landing page's
/// body sits under the page's own H1).
pub(super) fn clean(config: &Config, markdown: &str, demote: bool) -> String {
    let parser = Parser::new_ext(markdown, options());
    let mut edits: Vec<(Range<usize>, String)> = Vec::new();
    for (dest, span) in parser
        .reference_definitions()
        .iter()
        .map(|(_, def)| (def.dest.to_string(), def.span.clone()))
    {
        edits.extend(dest_edit(config, markdown, span, &dest, "]:"));
    }
    for (event, range) in parser.into_offset_iter() {
        match event {
            Event::Start(Tag::Link {
                link_type: LinkType::Inline,
                dest_url,
                ..
            })
            | Event::Start(Tag::Image {
                link_type: LinkType::Inline,
                dest_url,
                ..
            }) => edits.extend(dest_edit(config, markdown, range, &dest_url, "](")),
            Event::Start(Tag::Heading {
                level,
                id,
                classes,
                attrs,
                ..
            }) => {
                let text = &markdown[range.clone()];
                let at = range.start + text.len() - text.trim_start().len();
                let atx = markdown[at..].starts_with('#');
                if demote && atx && level != HeadingLevel::H6 {
                    edits.push((at..at, "#".into()));
                }
                if atx && (id.is_some() || !classes.is_empty() || !attrs.is_empty()) {
                    edits.extend(attribute_edit(markdown, at));
                }
            }
            Event::Start(Tag::HtmlBlock) if tags_only(&markdown[range.clone()]) => {
                // With the blank line after it, so no gap of two blank lines is left behind.
                let blank = ["\n", "\r\n"]
                    .into_iter()
                    .find(|nl| markdown[range.end..].starts_with(nl))
                    .map_or(0, str::len);
                edits.push((range.start..range.end + blank, String::new()));
            }
            _ => {}
        }
    }
    apply(markdown, edits)
}

/// Apply non-overlapping edits in source order (an insertion before a replacement at the same
/// place goes first).
fn apply(markdown: &str, mut edits: Vec<(Range<usize>, String)>) -> String {
    edits.sort_by_key(|(r, _)| (r.start, r.end));
    let mut out = String::with_capacity(markdown.len());
    let mut at = 0;
    for (range, replacement) in edits {
        if range.start < at {
            continue; // overlapping (a link inside an image's alt text is not a destination)
        }
        out.push_str(&markdown[at..range.start]);
        out.push_str(&replacement);
        at = range.end;
    }
    out.push_str(&markdown[at..]);
    out
}

/// The ` {#id .class}` at the end of the ATX heading line starting at `at`.
fn attribute_edit(markdown: &str, at: usize) -> Option<(Range<usize>, String)> {
    let line_end = markdown[at..].find('\n').map_or(markdown.len(), |i| at + i);
    let line = markdown[at..line_end].trim_end_matches('\r');
    let line = line.trim_end();
    if !line.ends_with('}') {
        return None;
    }
    let open = line.rfind('{')?;
    let keep = line[..open].trim_end().len();
    Some((at + keep..at + line.len(), String::new()))
}

/// An HTML block made of tags and comments only (wrappers like `<div class="snippet">`), which
/// carry nothing for a reader.
fn tags_only(html: &str) -> bool {
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        if !rest[..open].trim().is_empty() {
            return false;
        }
        let close = if rest[open..].starts_with("<!--") {
            rest[open..].find("-->").map(|i| open + i + 3)
        } else {
            rest[open..].find('>').map(|i| open + i + 1)
        };
        match close {
            Some(c) => rest = &rest[c..],
            None => return false,
        }
    }
    rest.trim().is_empty()
}

/// The byte range of `dest` inside `markdown[span]` (found after the last `opener`) and its
/// canonical replacement, when it changes.
fn dest_edit(
    config: &Config,
    markdown: &str,
    span: Range<usize>,
    dest: &str,
    opener: &str,
) -> Option<(Range<usize>, String)> {
    let canonical = canonical_url(config, dest);
    if canonical == dest {
        return None;
    }
    let slice = markdown.get(span.clone())?;
    let after_opener = slice.rfind(opener)? + opener.len();
    let rest = &slice[after_opener..];
    let lead = rest.len() - rest.trim_start().len();
    let rest = rest.trim_start();
    let lead = lead + usize::from(rest.starts_with('<'));
    let start = span.start + after_opener + lead;
    if !markdown[start..].starts_with(dest) {
        return None; // written with escapes; keep the author's text rather than guess
    }
    Some((start..start + dest.len(), escape::url(&canonical)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::llms::tests::example_site;

    #[test]
    fn links_in_user_markdown_become_absolute_and_untracked() {
        let site = example_site();
        let md = "See [demo](/demo \"t\") and ![img](/a.png), [ext](https://x.example/),\n[tracked](/go/seo-consultant?campaign=x), [ref][r], `[code](/x)`.\n\n[r]: /pricing\n";
        assert_eq!(
            clean(&site.config, md, false),
            "See [demo](https://aikit.example/demo \"t\") and ![img](https://aikit.example/a.png), [ext](https://x.example/),\n[tracked](https://aikit.example/p/seo-consultant/), [ref][r], `[code](/x)`.\n\n[r]: https://aikit.example/pricing\n"
        );
    }

    #[test]
    fn body_headings_go_one_level_down_outside_code() {
        let site = example_site();
        let md = "# A\n\ntext # not\n\n  ## B ##\n\n```\n# code\n```\n\n###### F\n\nS\n===\n";
        assert_eq!(
            clean(&site.config, md, true),
            "## A\n\ntext # not\n\n  ### B ##\n\n```\n# code\n```\n\n###### F\n\nS\n===\n"
        );
    }

    #[test]
    fn heading_attributes_and_wrapper_tags_are_dropped_text_is_kept() {
        let site = example_site();
        let md = "## Setup {#setup .x}\n\n<div class=\"snippet\" data-pp-click=\"copy-snippet\">\n\n```sh\n<div>kept in code</div>\n```\n\n</div>\n\n<p>Text in HTML stays</p>\n\n## [Demo](/demo) {#demo}\n";
        assert_eq!(
            clean(&site.config, md, false),
            "## Setup\n\n```sh\n<div>kept in code</div>\n```\n\n<p>Text in HTML stays</p>\n\n## [Demo](https://aikit.example/demo)\n"
        );
    }
}
