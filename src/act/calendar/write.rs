//! The calendar as Markdown (one table per week) and as JSON.

use super::Calendar;
use crate::text::escape::table_cell;

/// The calendar as Markdown: one table per week.
pub fn to_markdown(cal: &Calendar) -> String {
    let mut out = format!(
        "# {}\n\nPlan of {} from {}, made from the funnel of {} to {} (UTC).\n",
        cal.title,
        crate::text::plural(u64::from(cal.weeks), "week", "weeks"),
        cal.start,
        cal.window.since.format("%Y-%m-%d %H:%M"),
        cal.window.until.format("%Y-%m-%d %H:%M"),
    );
    for week in 1..=cal.weeks {
        out.push_str(&format!("\n## Week {week}\n\n"));
        out.push_str("| date | partner | task | rule | why | file |\n|---|---|---|---|---|---|\n");
        for t in cal.tasks.iter().filter(|t| t.week == week) {
            out.push_str(&format!(
                "| {} | {} | {} | `{}` | {} | [{}]({}) |\n",
                t.date,
                table_cell(&t.partner),
                table_cell(&t.title),
                t.rule,
                table_cell(&t.reason),
                table_cell(&t.file),
                t.file
            ));
        }
    }
    out
}

/// The calendar as pretty JSON (schema: `schemas/calendar.schema.json`).
pub fn to_json(cal: &Calendar) -> crate::Result<String> {
    serde_json::to_string_pretty(cal)
        .map(|mut s| {
            s.push('\n');
            s
        })
        .map_err(|e| crate::Error::Internal(format!("calendar JSON: {e}")))
}
