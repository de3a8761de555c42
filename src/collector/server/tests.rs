use super::*;

#[test]
fn reload_script_hash_joins_the_page_csp() {
    let page = br#"<head><meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'sha256-abc='"></head><body></body>"#;
    let out = String::from_utf8(inject_reload(page.to_vec())).unwrap();
    let hash = crate::render::beacon::csp_sha256(RELOAD_JS);
    assert!(
        out.contains(&format!("script-src {hash} 'sha256-abc='")),
        "{out}"
    );
    let no_script_src =
        br#"<meta http-equiv="Content-Security-Policy" content="default-src 'none'"><body></body>"#;
    let out = String::from_utf8(inject_reload(no_script_src.to_vec())).unwrap();
    assert!(
        out.contains(&format!("content=\"script-src {hash}; default-src")),
        "{out}"
    );
}

#[test]
fn reload_script_goes_before_the_last_body_end() {
    let out = inject_reload(b"<html><body><p>x</p></BODY></html>".to_vec());
    let s = String::from_utf8(out).unwrap();
    assert!(s.starts_with("<html><body><p>x</p><script>"), "{s}");
    assert!(s.ends_with("</script></BODY></html>"));
    let bare = String::from_utf8(inject_reload(b"<p>x</p>".to_vec())).unwrap();
    assert!(bare.ends_with("</script>"));
}

#[test]
fn error_page_escapes_the_diagnostics() {
    let page = error_page("error: bad <script> in partners/x.yaml:3:7");
    assert!(page.contains("bad &lt;script&gt; in partners/x.yaml:3:7"));
    assert!(!page.contains("<script>"));
}

#[test]
fn dot_segments_are_hidden_except_well_known() {
    for s in [
        ".partner-pages-manifest",
        ".pp-tmp-123",
        ".assetsignore",
        ".git",
        ".",
    ] {
        assert!(is_hidden(s), "{s}");
    }
    for s in [".well-known", "index.html", "a.b", "x."] {
        assert!(!is_hidden(s), "{s}");
    }
}

#[test]
fn base_path_is_stripped_only_on_a_segment_boundary() {
    assert_eq!(strip_base("/partners/p/x/", "/partners"), "/p/x/");
    assert_eq!(strip_base("/partners", "/partners"), "/");
    assert_eq!(strip_base("/partnersx/a", "/partners"), "/partnersx/a");
    assert_eq!(strip_base("/e", ""), "/e");
}

#[test]
fn content_types_follow_the_extension() {
    assert_eq!(
        content_type(Path::new("a/index.html")),
        "text/html; charset=utf-8"
    );
    assert_eq!(
        content_type(Path::new("llms.txt")),
        "text/plain; charset=utf-8"
    );
    assert_eq!(
        content_type(Path::new("index.html.md")),
        "text/markdown; charset=utf-8"
    );
    assert_eq!(content_type(Path::new("sitemap.xml")), "application/xml");
    assert_eq!(content_type(Path::new("x.PDF")), "application/pdf");
    assert_eq!(content_type(Path::new("noext")), "application/octet-stream");
}
