//! Text made safe for HTML: the one HTML escaper of the crate, for the pages built outside
//! templates (report HTML, preview overlay, serve's error page); templates escape the same set.

/// Escape `& < > " '` for HTML text and attribute values, the same set the templates escape.
/// For the few pages built outside templates (report HTML, preview overlay, serve's error page).
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
