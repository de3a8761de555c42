//! Text made safe for HTML (and XML, for the sitemap): the one HTML escaper of the crate, for the pages built outside
//! templates (report HTML, preview overlay, serve's error page); templates escape the same set.

/// Escape `& < > " '` for HTML text and attribute values, the same set the templates escape.
/// For the few pages built outside templates (report HTML, preview overlay, serve's error page).
pub fn escape_html(s: &str) -> String {
    escape_markup(s, "&#39;")
}

/// Escape `& < > " '` for XML text and attribute values (the sitemap), `'` as `&apos;`.
pub fn escape_xml(s: &str) -> String {
    escape_markup(s, "&apos;")
}

/// The escaper of both: `'` as `apos`, the rest as their named entities.
fn escape_markup(s: &str, apos: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str(apos),
            c => out.push(c),
        }
    }
    out
}
