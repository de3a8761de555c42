//! Calendar output, iCalendar: the plan as an RFC 5545 `VCALENDAR` with one all-day `VEVENT` per task.
//!
//! Takes: the planned [`super::Calendar`]. Gives: `.ics` text with CRLF line endings,
//! content lines folded at 75 octets and TEXT values escaped (`\\`, `;`, `,`, newlines).

use super::{Calendar, Task};
use chrono::{Days, NaiveDate};

/// `PRODID` of every calendar we write.
pub const PRODID: &str = "-//partner-pages//content calendar//EN";

/// The whole calendar as iCalendar text.
pub fn render(cal: &Calendar) -> String {
    let mut out = String::new();
    line(&mut out, "BEGIN:VCALENDAR");
    line(&mut out, "VERSION:2.0");
    line(&mut out, &format!("PRODID:{PRODID}"));
    line(&mut out, "CALSCALE:GREGORIAN");
    line(&mut out, "METHOD:PUBLISH");
    line(
        &mut out,
        &format!("X-WR-CALNAME:{}", escape_text(&cal.title)),
    );
    for task in &cal.tasks {
        event(&mut out, cal, task);
    }
    line(&mut out, "END:VCALENDAR");
    out
}

fn event(out: &mut String, cal: &Calendar, task: &Task) {
    line(out, "BEGIN:VEVENT");
    line(out, &format!("UID:{}", task_uid(cal, task)));
    line(
        out,
        &format!("DTSTAMP:{}", cal.now.format("%Y%m%dT%H%M%SZ")),
    );
    line(out, &format!("DTSTART;VALUE=DATE:{}", ics_date(task.date)));
    let end = task
        .date
        .checked_add_days(Days::new(1))
        .unwrap_or(task.date);
    line(out, &format!("DTEND;VALUE=DATE:{}", ics_date(end)));
    line(out, &format!("SUMMARY:{}", escape_text(&task.title)));
    line(
        out,
        &format!("DESCRIPTION:{}", escape_text(&task.description())),
    );
    line(
        out,
        &format!(
            "CATEGORIES:{},{}",
            escape_text(task.kind.as_str()),
            escape_text(&task.partner)
        ),
    );
    line(out, "TRANSP:TRANSPARENT");
    line(out, "END:VEVENT");
}

/// Stable per task: the same partner, kind and date give the same UID on every run.
pub fn task_uid(cal: &Calendar, task: &Task) -> String {
    format!("{}@{}", task.id, cal.uid_domain)
}

fn ics_date(d: NaiveDate) -> String {
    d.format("%Y%m%d").to_string()
}

/// Escape a TEXT value (RFC 5545 section 3.3.11).
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Append one content line, folded so no physical line exceeds 75 octets (section 3.1), never
/// inside a UTF-8 sequence, each ended by CRLF.
fn line(out: &mut String, content: &str) {
    let mut used = 0;
    for c in content.chars() {
        let n = c.len_utf8();
        if used + n > 75 {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += n;
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_escapes_backslash_semicolon_comma_and_newlines() {
        assert_eq!(escape_text("a\\b;c,d\ne\r\nf"), "a\\\\b\\;c\\,d\\ne\\nf");
    }

    #[test]
    fn long_lines_fold_at_75_octets_without_splitting_characters() {
        let mut out = String::new();
        let value = format!("SUMMARY:{}", "é".repeat(100));
        line(&mut out, &value);
        for physical in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(
                physical.len() <= 75,
                "{} octets: {physical}",
                physical.len()
            );
        }
        let unfolded = out.replace("\r\n ", "");
        assert_eq!(unfolded.trim_end_matches("\r\n"), value);
    }

    /// Undo folding and TEXT escaping, as a reader does.
    fn unfold_unescape(out: &str) -> String {
        let unfolded = out.replace("\r\n ", "");
        let value = unfolded.trim_end_matches("\r\n");
        let mut s = String::new();
        let mut chars = value.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some('n') => s.push('\n'),
                    Some(o) => s.push(o),
                    None => {}
                }
            } else {
                s.push(c);
            }
        }
        s
    }

    proptest::proptest! {
        #[test]
        fn any_text_survives_escaping_and_folding(text in "\\PC{0,300}") {
            let mut out = String::new();
            line(&mut out, &escape_text(&text));
            for physical in out.split("\r\n") {
                proptest::prop_assert!(physical.len() <= 75);
            }
            proptest::prop_assert_eq!(unfold_unescape(&out), text);
        }
    }

    #[test]
    fn short_lines_are_not_folded() {
        let mut out = String::new();
        line(&mut out, "VERSION:2.0");
        assert_eq!(out, "VERSION:2.0\r\n");
    }
}
