//! Words: counts with their singular or plural, the one helper every output uses.

/// `1 click`, `2 clicks`, `0 clicks`.
///
/// ```
/// use partner_pages::text::plural;
/// assert_eq!(plural(1, "click", "clicks"), "1 click");
/// assert_eq!(plural(3, "journey", "journeys"), "3 journeys");
/// ```
pub fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `today`, `1 day ago`, `5 days ago`.
pub fn days_ago(days: i64) -> String {
    match days {
        0 => "today".into(),
        d if d < 0 => format!("in {}", plural(d.unsigned_abs(), "day", "days")),
        d => format!("{} ago", plural(d as u64, "day", "days")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(plural(0, "visitor", "visitors"), "0 visitors");
        assert_eq!(plural(1, "visitor", "visitors"), "1 visitor");
        assert_eq!(days_ago(1), "1 day ago");
        assert_eq!(days_ago(2), "2 days ago");
        assert_eq!(days_ago(0), "today");
    }
}
