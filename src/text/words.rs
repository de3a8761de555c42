//! Words: counts with their singular or plural, the one helper every output uses, and the
//! English helpers of sentences built from names (possessive, lower-cased first letter, the
//! base form of a verb).

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

/// `SEO network's`, `agency partners'`.
pub fn possessive(name: &str) -> String {
    if name.ends_with('s') {
        format!("{name}'")
    } else {
        format!("{name}'s")
    }
}

/// `1 activation`, `9 activations`: [`plural`] with the regular `s`.
pub fn regular_plural(n: u64, what: &str) -> String {
    plural(n, what, &format!("{what}s"))
}

/// Lower-case the first letter for use inside a sentence, unless it starts an acronym
/// ("SEO consultants", "AI tools" stay as written).
pub fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(_) if c.clone().next().is_some_and(|n| n.is_uppercase()) => s.to_string(),
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The base form of a description's first verb, lower-cased, for "went on to ...":
/// `Imports a first client site` -> `import a first client site`, `Copies the snippet` ->
/// `copy the snippet`. `None` when the first word is not a third-person verb.
pub fn base_form(description: &str) -> Option<String> {
    let d = description.trim().trim_end_matches('.');
    let (first, rest) = d.split_once(' ').unwrap_or((d, ""));
    let w = first.to_lowercase();
    let base = if let Some(s) = w.strip_suffix("ies") {
        format!("{s}y")
    } else if ["sses", "shes", "ches", "xes", "zes", "oes"]
        .iter()
        .any(|e| w.ends_with(e))
    {
        w[..w.len() - 2].to_string()
    } else if w.ends_with('s') && !w.ends_with("ss") && w.len() > 2 {
        w[..w.len() - 1].to_string()
    } else {
        return None;
    };
    Some(if rest.is_empty() {
        base
    } else {
        format!("{base} {rest}")
    })
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

    #[test]
    fn verbs_take_their_base_form() {
        for (d, want) in [
            (
                "Imports a first client site",
                Some("import a first client site"),
            ),
            (
                "Copies the implementation snippet",
                Some("copy the implementation snippet"),
            ),
            ("Opens the pricing page", Some("open the pricing page")),
            (
                "Runs a first content audit in AIKit",
                Some("run a first content audit in AIKit"),
            ),
            ("Pushes a page", Some("push a page")),
            ("First audit", None),
        ] {
            assert_eq!(base_form(d).as_deref(), want, "{d}");
        }
    }
}
