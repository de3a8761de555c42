//! Load stage, third step: the value rules shared by partners, config and content.
//!
//! Takes: one string value. Gives: `None` when it is fine, or a [`Problem`] saying what is wrong,
//! what shape was expected and how to fix it. Positions are added by the caller.

use crate::stage::{Stage, REVENUE};

/// What is wrong with a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub message: String,
    pub expected: &'static str,
    pub hint: Option<String>,
}

fn problem(
    message: impl Into<String>,
    expected: &'static str,
    hint: Option<String>,
) -> Option<Problem> {
    Some(Problem {
        message: message.into(),
        expected,
        hint,
    })
}

pub(crate) const SLUG: &str = "a slug: lowercase letters a-z, digits 0-9 and `-`, starting and ending with a letter or digit (at most 64)";
pub(crate) const LINK: &str =
    "a site path starting with `/` (e.g. `/demo`) or an absolute http(s) URL";
pub(crate) const SITE_PATH: &str = "a site path starting with `/`, e.g. `/pricing`";
pub(crate) const EVENT_NAME: &str =
    "a name of lowercase letters, digits and `_`, starting with a letter, e.g. `runs_first_audit`";

/// A lowercase slug with the same words: "Upper Case" -> "upper-case".
pub(crate) fn slugify(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// `what` is the thing the slug names ("partner code", "campaign").
pub(crate) fn slug(value: &str, what: &str) -> Option<Problem> {
    let ok_chars = value
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !value.is_empty()
        && value.len() <= 64
        && ok_chars
        && !value.starts_with('-')
        && !value.ends_with('-')
    {
        return None;
    }
    let suggestion = slugify(value);
    let hint =
        (!suggestion.is_empty() && suggestion != value).then(|| format!("use `{suggestion}`"));
    let why = if value.contains('/') || value.contains("..") {
        "looks like a path".to_string()
    } else if value.len() > 64 {
        format!("is {} characters long", value.len())
    } else if let Some(c) = value
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        format!("contains {}", describe_char(c))
    } else {
        "starts or ends with `-`".to_string()
    };
    problem(
        format!("{what} `{value}` is not a slug: it {why}"),
        SLUG,
        hint,
    )
}

fn describe_char(c: char) -> String {
    match c {
        ' ' => "a space".into(),
        c if c.is_ascii_uppercase() => format!("the uppercase letter `{c}`"),
        c => format!("`{c}`"),
    }
}

/// A link target on a page: a site path or an absolute http(s) URL; never `javascript:`.
pub(crate) fn link(value: &str) -> Option<Problem> {
    if let Some(p) = no_space(value, LINK) {
        return Some(p);
    }
    let lower = value.to_ascii_lowercase();
    for scheme in ["javascript:", "data:", "vbscript:"] {
        if lower.starts_with(scheme) {
            return problem(
                format!("`{scheme}` links are not allowed: `{value}`"),
                LINK,
                Some("link to a page; behaviour on click is added by the beacon".into()),
            );
        }
    }
    if value.starts_with('/') {
        return site_path_rule(value, LINK);
    }
    if value.contains('\\') {
        return problem(
            format!("`{value}` contains a backslash"),
            LINK,
            Some("browsers read `\\` as `/`, so it can point elsewhere: write `/`".into()),
        );
    }
    if let Some(rest) = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
    {
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        if host.is_empty() || host.starts_with(':') {
            return problem(format!("URL `{value}` has no host"), LINK, None);
        }
        return None;
    }
    if let Some((scheme, _)) = value.split_once(':') {
        if !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
        {
            return problem(
                format!("unsupported URL scheme `{scheme}:` in `{value}`"),
                LINK,
                Some("only http and https links and site paths are allowed".into()),
            );
        }
    }
    problem(
        format!("`{value}` is neither a site path nor an absolute URL"),
        LINK,
        Some(format!(
            "start it with `/`: `/{}`",
            value.trim_start_matches("./")
        )),
    )
}

/// A path on this site (`/pricing`), used for page triggers, the beacon endpoint and the
/// site-path form of links. The one rule for site paths: it starts with exactly one `/`, and
/// holds no backslash, space or control character anywhere. Browsers read `\` as `/`, so
/// `/\evil.example/x` and `//evil.example/x` both lead to another host.
pub(crate) fn site_path(value: &str) -> Option<Problem> {
    site_path_rule(value, SITE_PATH)
}

/// `true` when `value` passes [`site_path`]: for code that only needs the verdict.
#[cfg(test)]
pub(crate) fn is_site_path(value: &str) -> bool {
    site_path(value).is_none()
}

fn site_path_rule(value: &str, expected: &'static str) -> Option<Problem> {
    if let Some(p) = no_space(value, expected) {
        return Some(p);
    }
    if value.contains('\\') {
        let fixed = format!("/{}", value.replace('\\', "/").trim_start_matches('/'));
        return problem(
            format!("`{value}` contains a backslash"),
            expected,
            Some(format!(
                "browsers read `\\` as `/`, so it can lead to another host: use `{fixed}`"
            )),
        );
    }
    if value.starts_with("//") {
        return problem(
            format!("protocol-relative URL `{value}`"),
            expected,
            Some(if expected == LINK {
                format!("write the scheme: `https:{value}`")
            } else {
                "use the path only, without a host".to_string()
            }),
        );
    }
    if !value.starts_with('/') {
        let fixed = format!("/{}", value.trim_start_matches('/'));
        let hint = if value.contains("://") {
            "use the path only, without scheme and host".to_string()
        } else {
            format!("use `{fixed}`")
        };
        return problem(
            format!("`{value}` is not a site path"),
            expected,
            Some(hint),
        );
    }
    None
}

pub(crate) const D1_NAME: &str = "a D1 database name: letters, digits, `-` and `_`, starting with a letter or digit, at most 64 characters, e.g. `partner-events`";

/// A Cloudflare D1 database name (the API's pattern `[a-zA-Z0-9][a-zA-Z0-9_-]*`, at most 64):
/// it goes into `wrangler.toml`, its shell-command comments and `wrangler d1` arguments.
pub(crate) fn d1_database_name(value: &str) -> Option<Problem> {
    let ok = !value.is_empty()
        && value.len() <= 64
        && value.as_bytes()[0].is_ascii_alphanumeric()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        return None;
    }
    let suggestion = slugify(value);
    problem(
        format!(
            "`{}` is not a D1 database name",
            value.chars().take(80).collect::<String>().escape_debug()
        ),
        D1_NAME,
        (!suggestion.is_empty() && suggestion.len() <= 64 && suggestion != value)
            .then(|| format!("use `{suggestion}`")),
    )
}

fn no_space(value: &str, expected: &'static str) -> Option<Problem> {
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return problem(
            format!(
                "`{}` contains spaces or control characters",
                value.escape_debug()
            ),
            expected,
            Some("encode spaces as `%20`".into()),
        );
    }
    None
}

/// The partner's activation name: an identifier that is not a funnel stage.
pub(crate) fn event_name(value: &str) -> Option<Problem> {
    if Stage::from_name(value).is_some() || value == REVENUE {
        return problem(
            format!("activation event `{value}` collides with the funnel stage `{value}`"),
            EVENT_NAME,
            Some(format!(
                "stage names ({}) are reserved; name what the user did, e.g. `{value}_done` or `runs_first_audit`",
                Stage::ALL.iter().map(|s| s.as_str()).chain([REVENUE]).map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ")
            )),
        );
    }
    let ok = value.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok && value.len() <= 64 {
        return None;
    }
    let fixed = slugify(value).replace('-', "_");
    problem(
        format!("activation event `{value}` is not a valid name"),
        EVENT_NAME,
        (!fixed.is_empty()).then(|| format!("use `{fixed}`")),
    )
}

/// The `data-` hook of a click trigger: letters, digits, `-` and `_`.
pub(crate) fn hook_name(value: &str) -> Option<Problem> {
    let ok = !value.is_empty()
        && value.len() <= 64
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        return None;
    }
    let fixed = slugify(value);
    problem(
        format!("click hook `{value}` is not a valid name"),
        "letters, digits, `-` and `_`, e.g. `copy-snippet` (matched against `data-pp-click`)",
        (!fixed.is_empty()).then(|| format!("use `{fixed}`")),
    )
}

/// The site's base URL: absolute http(s) with a host, no query or fragment.
pub(crate) fn base_url(value: &str) -> Option<Problem> {
    const EXPECTED: &str =
        "an absolute http(s) URL, e.g. `https://example.com` or `https://example.com/partners`";
    if let Some(p) = no_space(value, EXPECTED) {
        return Some(p);
    }
    let lower = value.to_ascii_lowercase();
    let Some(rest) = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
    else {
        let hint = if value.contains("://") {
            "use http:// or https://".to_string()
        } else {
            format!(
                "add the scheme: `https://{}`",
                value.trim_start_matches('/')
            )
        };
        return problem(
            format!("base_url `{value}` is not an absolute http(s) URL"),
            EXPECTED,
            Some(hint),
        );
    };
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() {
        return problem(format!("base_url `{value}` has no host"), EXPECTED, None);
    }
    if value.contains('\\') {
        return problem(
            format!("base_url `{value}` contains a backslash"),
            EXPECTED,
            Some("browsers read `\\` as `/`: write `/`".into()),
        );
    }
    if value.contains(['?', '#']) {
        return problem(
            format!("base_url `{value}` has a query or fragment"),
            EXPECTED,
            Some("keep only scheme, host and an optional path".into()),
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_accept_lowercase_words_with_dashes() {
        for ok in ["seo-consultant", "a", "x1", "2024-webinar"] {
            assert_eq!(slug(ok, "code"), None, "{ok}");
        }
    }

    #[test]
    fn paths_and_uppercase_are_not_slugs_and_get_a_fix() {
        let p = slug("../x", "partner code").unwrap();
        assert_eq!(
            p.message,
            "partner code `../x` is not a slug: it looks like a path"
        );
        assert_eq!(p.hint.as_deref(), Some("use `x`"));
        let p = slug("Upper Case", "partner code").unwrap();
        assert_eq!(
            p.message,
            "partner code `Upper Case` is not a slug: it contains the uppercase letter `U`"
        );
        assert_eq!(p.hint.as_deref(), Some("use `upper-case`"));
        assert!(slug("-x", "c").is_some());
        assert!(slug("", "c").is_some());
        assert!(slug(&"a".repeat(65), "c").is_some());
    }

    #[test]
    fn links_are_site_paths_or_http_urls() {
        for ok in [
            "/demo",
            "/llms-txt-guide/#implementation",
            "https://cal.com/x",
            "http://a.b",
        ] {
            assert_eq!(link(ok), None, "{ok}");
        }
        assert!(link("javascript:alert(1)")
            .unwrap()
            .message
            .contains("`javascript:`"));
        assert!(link("JavaScript:alert(1)").is_some());
        assert!(link("//evil.example/x").is_some());
        assert!(link("https://").is_some());
        assert!(link("ftp://x.y/z").unwrap().message.contains("`ftp:`"));
        assert_eq!(
            link("demo").unwrap().hint.as_deref(),
            Some("start it with `/`: `/demo`")
        );
        assert!(link("/a b").is_some());
    }

    #[test]
    fn activation_events_may_not_be_stage_names() {
        for stage in [
            "click",
            "visit",
            "lead_magnet",
            "cta",
            "activation",
            "revenue",
        ] {
            assert!(
                event_name(stage).unwrap().message.contains("collides"),
                "{stage}"
            );
        }
        assert_eq!(event_name("runs_first_audit"), None);
        assert_eq!(
            event_name("Runs First").unwrap().hint.as_deref(),
            Some("use `runs_first`")
        );
    }

    #[test]
    fn base_url_must_be_absolute_http() {
        assert_eq!(base_url("https://aikit.example"), None);
        assert_eq!(base_url("https://example.com/partners/"), None);
        assert!(base_url("aikit.example")
            .unwrap()
            .hint
            .unwrap()
            .contains("https://aikit.example"));
        assert!(base_url("ftp://x").is_some());
        assert!(base_url("https:///x").is_some());
        assert!(base_url("https://x/?a=1").is_some());
        assert!(base_url("https://x/\\evil.example").is_some());
        assert!(base_url("https://x\\@evil.example/").is_some());
    }

    #[test]
    fn d1_names_are_letters_digits_dash_underscore() {
        for ok in ["partner-events", "db_1", "A1", &"a".repeat(64)] {
            assert_eq!(d1_database_name(ok), None, "{ok}");
        }
        for bad in [
            "",
            "-x",
            "x;rm -rf ~",
            "$(id)",
            "a b",
            "a'b",
            "ü",
            &"a".repeat(65),
        ] {
            assert!(d1_database_name(bad).is_some(), "{bad}");
        }
        assert_eq!(
            d1_database_name("Partner Events").unwrap().hint.as_deref(),
            Some("use `partner-events`")
        );
    }

    #[test]
    fn site_paths_start_with_one_slash() {
        assert_eq!(site_path("/pricing"), None);
        assert!(site_path("pricing").is_some());
        assert!(site_path("//x").is_some());
        for evil in ["/\\evil.example/x", "/a\\b", "\\\\evil.example"] {
            let p = site_path(evil).unwrap();
            assert!(p.message.contains("backslash"), "{evil}: {p:?}");
            assert!(link(evil).is_some(), "{evil}");
            assert!(!is_site_path(evil), "{evil}");
        }
        assert!(link("https://a.example\\@evil.example/").is_some());
        assert!(is_site_path("/p/seo/"));
        assert!(site_path("https://x/pricing")
            .unwrap()
            .hint
            .unwrap()
            .contains("path only"));
    }
}
