//! URLs as people read them.

/// The host of an absolute URL: `https://aikit.example/partners` -> `aikit.example`; empty when
/// the URL has none.
pub fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split('/').next().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::host_of;

    #[test]
    fn the_host_is_between_the_scheme_and_the_path() {
        assert_eq!(host_of("https://aikit.example/partners"), "aikit.example");
        assert_eq!(host_of("aikit.example/x"), "aikit.example");
        assert_eq!(host_of("https:///x"), "");
    }
}
