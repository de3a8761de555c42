//! User text made safe for Markdown: one line of llms.txt items, headings, blockquotes, the
//! Markdown mirrors' facts and the partner kits, and data shown literally in the reports'
//! sentences and table cells ([`literal`]). The one Markdown escaper of the crate.
//!
//! Takes: a string from YAML or front matter. Gives: Markdown source that renders back to the
//! same text (whitespace collapsed) and cannot open a new block, link, list item or heading.

/// Collapse every run of whitespace (newlines, tabs, Unicode line separators) into one space,
/// drop other control characters, and trim. The result is one line.
pub fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            pending_space = true;
        } else if c.is_control() {
            continue;
        } else {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(c);
        }
    }
    out
}

/// Escape text for an inline position (link text, notes after `: `, heading text).
///
/// Brackets become character references (`&#91;` `&#93;`) rather than backslash escapes: the
/// reference llms.txt parser (`llms_txt.parse_link`) ends a link title at the first `]`, escaped
/// or not, so only a reference keeps both CommonMark and that parser reading the same title.
/// Other Markdown punctuation is backslash-escaped, which CommonMark turns back into the
/// character.
pub fn inline(text: &str) -> String {
    let line = one_line(text);
    let mut out = String::with_capacity(line.len() + 8);
    let mut prev: Option<char> = None;
    let mut chars = line.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next = chars.peek().map(|&(_, n)| n);
        match c {
            '[' => out.push_str("&#91;"),
            ']' => out.push_str("&#93;"),
            '\\' | '`' | '*' | '<' | '>' | '#' | '~' | '|' | '!' => {
                out.push('\\');
                out.push(c);
            }
            // An underscore between letters or digits never opens emphasis (`runs_first_audit`).
            '_' if !(prev.is_some_and(char::is_alphanumeric)
                && next.is_some_and(char::is_alphanumeric)) =>
            {
                out.push_str("\\_");
            }
            // `&` only matters where it would start a character reference (`&amp;`, `&#93;`).
            '&' if starts_reference(&line[i + 1..]) => out.push_str("\\&"),
            _ => out.push(c),
        }
        prev = Some(c);
    }
    out
}

/// Escape text that starts a line (a blockquote's content, a paragraph): [`inline`] plus the
/// markers that would open a list, a heading underline or a thematic break at the line start.
pub fn block_start(text: &str) -> String {
    let escaped = inline(text);
    let first = escaped.chars().next();
    match first {
        Some('-' | '+' | '=') => format!("\\{escaped}"),
        Some(c) if c.is_ascii_digit() => {
            // "1. x" or "1) x" would open an ordered list.
            let digits = escaped.chars().take_while(char::is_ascii_digit).count();
            let rest = &escaped[digits..];
            if let Some(marker @ ('.' | ')')) = rest.chars().next() {
                format!("{}\\{}{}", &escaped[..digits], marker, &rest[1..])
            } else {
                escaped
            }
        }
        _ => escaped,
    }
}

/// Plain paragraphs (blank-line separated) of user text, each collapsed to one safe line.
pub fn paragraphs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !current.trim().is_empty() {
                out.push(block_start(&current));
            }
            current.clear();
        } else {
            current.push(' ');
            current.push_str(line);
        }
    }
    if !current.trim().is_empty() {
        out.push(block_start(&current));
    }
    out
}

/// Does `rest` (after an `&`) look like a character reference: `name;`, `#123;`, `#x1F;`?
fn starts_reference(rest: &str) -> bool {
    let body = rest
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'#')
        .count();
    body > 0 && rest.as_bytes().get(body) == Some(&b';')
}

/// Percent-encode what may not appear raw in a Markdown link destination (and would end the URL
/// for the reference parser): spaces, parentheses, angle brackets, control and non-ASCII bytes.
pub fn url(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    for b in url.bytes() {
        match b {
            b' '
            | b'('
            | b')'
            | b'<'
            | b'>'
            | b'['
            | b']'
            | b'"'
            | b'\\'
            | b'`'
            | 0..=0x1f
            | 0x7f..=0xff => out.push_str(&format!("%{b:02X}")),
            _ => out.push(b as char),
        }
    }
    out
}

/// `text` ends a sentence: add a period unless it already ends with `.`, `!` or `?`.
pub fn sentence(text: &str) -> String {
    let t = text.trim_end();
    if t.ends_with(['.', '!', '?']) {
        t.to_string()
    } else {
        format!("{t}.")
    }
}

/// Markdown made to fit one table cell: a `|` would end the cell and a line break the row, so
/// pipes are escaped and line breaks become spaces; the rest stays Markdown (code spans, links).
/// For data inside the cell, escape it with [`literal`] first.
pub fn table_cell(md: &str) -> String {
    md.replace('|', "\\|").replace(['\r', '\n'], " ")
}

/// Text that holds data (names, campaigns) as Markdown shows it literally: emphasis, code,
/// HTML, table cells and links cannot start in it. A `]` is escaped only where it would close
/// a link (`](`, `][`, `]:`), so the intervals (`[21.9–33%]`) stay readable as plain text.
pub fn literal(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' | '\r' => o.push(' '),
            '\\' | '`' | '*' | '_' | '<' | '>' | '|' | '#' | '&' => {
                o.push('\\');
                o.push(c);
            }
            ']' if matches!(chars.peek(), Some('(' | '[' | ':')) => o.push_str("\\]"),
            _ => o.push(c),
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newlines_and_tabs_collapse_to_one_space() {
        assert_eq!(one_line("  a\n\n b\t\r\nc\u{2028}d  "), "a b c d");
    }

    #[test]
    fn brackets_become_references_and_markdown_punctuation_is_escaped() {
        assert_eq!(
            inline("[x](y) `c` *e* <b> #h"),
            "&#91;x&#93;(y) \\`c\\` \\*e\\* \\<b\\> \\#h"
        );
    }

    #[test]
    fn underscores_are_escaped_only_where_they_could_open_emphasis() {
        assert_eq!(
            inline("runs_first_audit _x_ a_ __"),
            "runs_first_audit \\_x\\_ a\\_ \\_\\_"
        );
    }

    #[test]
    fn ampersand_is_escaped_only_where_it_starts_a_reference() {
        assert_eq!(inline("AT&T & co"), "AT&T & co");
        assert_eq!(inline("&amp; &#93;"), "\\&amp; \\&\\#93;");
    }

    #[test]
    fn line_start_markers_cannot_open_blocks() {
        assert_eq!(block_start("- item"), "\\- item");
        assert_eq!(block_start("12. item"), "12\\. item");
        assert_eq!(block_start("2024 was good"), "2024 was good");
        assert_eq!(block_start("# title"), "\\# title");
        assert_eq!(block_start("> quote"), "\\> quote");
    }

    #[test]
    fn urls_lose_characters_that_end_a_link() {
        assert_eq!(
            url("https://x.example/a b/(c)"),
            "https://x.example/a%20b/%28c%29"
        );
        assert_eq!(url("/café"), "/caf%C3%A9");
    }

    #[test]
    fn paragraphs_split_on_blank_lines() {
        assert_eq!(paragraphs("a\nb\n\n\n- c\n"), vec!["a b", "\\- c"]);
    }

    #[test]
    fn data_is_shown_literally_and_cells_stay_one_cell() {
        assert_eq!(literal("a|b *c* `d`\nx"), "a\\|b \\*c\\* \\`d\\` x");
        assert_eq!(literal("[1–2%] [x](y)"), "[1–2%] [x\\](y)");
        assert_eq!(table_cell("code `a|b`\r\nnext"), "code `a\\|b`  next");
    }
}
