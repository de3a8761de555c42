use super::*;
use std::path::Path;

fn load(text: &str) -> Result<Config, Vec<String>> {
    let mut r = Report::new(Path::new(CONFIG_FILE), text, 0);
    parse(text, &mut r).ok_or_else(|| {
        r.diags
            .iter()
            .map(|d| format!("{}:{} {}", d.line, d.column, d.message))
            .collect()
    })
}

const MINIMAL: &str = "name: S\nbase_url: https://example.com/partners/\nsummary: Sum\n";

#[test]
fn a_minimal_config_gets_defaults_and_a_trimmed_base_url() {
    let c = load(MINIMAL).unwrap();
    assert_eq!(c.base_url, "https://example.com/partners");
    assert_eq!(c.base_path(), "/partners");
    assert_eq!(c.attribution.window_days, 30);
    assert_eq!(c.collector.endpoint, "/e");
}

#[test]
fn schema_mirrors_every_field_of_the_struct() {
    use crate::load::shape::{field_paths, json_paths};
    let text = format!(
            "{MINIMAL}host: {{ output: public, data: [data/partners.json] }}\nshell: {{ page: public/about/index.html, main: main }}\nstripe: {{ prefer: coupon }}\n"
        );
    let json = serde_json::to_value(load(&text).unwrap()).unwrap();
    // `reward:` (private terms) is never serialised.
    let schema: std::collections::BTreeSet<String> = field_paths(&SHAPE)
        .into_iter()
        .filter(|f| f != "reward" && !f.starts_with("reward."))
        .collect();
    assert_eq!(
        schema,
        json_paths(&json),
        "add the new field to config::SHAPE"
    );
    let with_reward = format!("{text}reward: {{ sale: 20%, currency: usd }}\n");
    let c = load(&with_reward).unwrap();
    assert_eq!(
        c.reward.as_ref().and_then(|r| r.sale.as_deref()),
        Some("20%")
    );
    assert!(!serde_json::to_string(&c).unwrap().contains("20%"));
}

#[test]
fn every_config_problem_is_reported_at_its_value() {
    let text = "name: S\nbase_url: example.com\nsummary: Sum\ncollector: { endpoint: e, database: \"x; rm -rf ~\" }\nattribution:\n  window_days: 0\nbands:\n  cta: { low: 0.2, high: 0.1 }\n  activation: { low: 1, high: 3 }\n";
    assert_eq!(
        load(text).unwrap_err(),
        vec![
            "2:11 base_url `example.com` is not an absolute http(s) URL",
            "4:24 `e` is not a site path",
            "4:37 `x; rm -rf ~` is not a D1 database name",
            "6:16 `attribution.window_days` is 0: no visit could ever be attributed",
            "8:15 `bands.cta` has low 0.2 above high 0.1",
            "9:31 `bands.activation.high` is 3, outside 0..1",
        ]
    );
}

#[test]
fn misspelled_config_keys_get_a_suggestion() {
    let mut r = Report::new(Path::new(CONFIG_FILE), "", 0);
    let text = format!("{MINIMAL}atribution: {{ window_days: 7 }}\n");
    assert!(parse(&text, &mut r).is_none());
    assert_eq!(
        r.diags[0].hint.as_deref(),
        Some("did you mean `attribution`?")
    );
}

#[test]
fn host_output_never_publishes_the_site_and_host_data_writes_only_host_files() {
    let errs = |host: &str| load(&format!("{MINIMAL}{host}")).err().unwrap_or_default();
    // The host output holding the site root, or one of its folders: refused at the value.
    for output in [
        ".",
        "./",
        "..",
        "../..",
        "partners",
        "collector",
        "kits",
        "kits/x",
        "content",
    ] {
        let e = errs(&format!("host:\n  output: \"{output}\"\n"));
        assert_eq!(e.len(), 1, "{output}: {e:?}");
        assert!(e[0].starts_with("5:11 `host.output`"), "{output}: {e:?}");
    }
    assert!(
        errs("host: { output: dist }\nkits: { dir: dist/kits }\n")[0]
            .contains("would publish the private partner kits")
    );
    // With the root known, `../<its own name>` is the root.
    let site = tempfile::tempdir().unwrap();
    let name = site
        .path()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let text = format!("{MINIMAL}host: {{ output: ../{name} }}\n");
    let mut r = Report::new(Path::new(CONFIG_FILE), &text, 0);
    assert!(parse_in(&text, Some(site.path()), &mut r).is_none());
    assert!(
        r.diags[0].message.contains("holds the site itself"),
        "{:?}",
        r.diags
    );
    // Fine: the usual layouts.
    assert!(errs("host: { output: public, data: [data/partners.json] }\nshell: { page: public/about/index.html, main: main }\n").is_empty());
    assert!(errs("host: { output: ../public, data: [../data/partners.json] }\nshell: { page: ../public/about/index.html, main: main }\n").is_empty());

    // host.data onto the site's own files, out of the host, absolute: each at its item.
    for (data, says) in [
        ("partner-pages.json", ""),
        ("partners/acme.json", "would overwrite the partner files"),
        ("templates/x.json", "would overwrite the site's templates"),
        ("kits/x.json", "would overwrite the private partner kits"),
        ("collector/x.json", "would overwrite the collector"),
        (
            "public/partners/x.json",
            "inside the partner pages' own output folder",
        ),
        ("../../x.json", "is outside the host site"),
        ("../x.json", "is outside the host site"),
        ("/tmp/x.json", "is not a relative path"),
        ("partner-pages.yaml", "is not a `.json` file"),
        ("partners/acme.yaml", "is not a `.json` file"),
    ] {
        let e = errs(&format!(
            "host:\n  output: public\n  data: [data/ok.json, \"{data}\"]\n"
        ));
        if says.is_empty() {
            assert!(e.is_empty(), "{data}: {e:?}");
            continue;
        }
        assert_eq!(e.len(), 1, "{data}: {e:?}");
        assert!(
            e[0].starts_with("6:24 ") && e[0].contains(says),
            "{data}: {e:?}"
        );
    }
    // Without host.output, the host site is the site root.
    assert!(errs("host: { data: [../x.json] }\n")[0].contains("outside the host site"));
    // The shell page is a host page, not one of ours.
    for page in [
        "templates/base.html",
        "public/partners/p/x/index.html",
        "kits/a/index.html",
    ] {
        let e = errs(&format!(
            "host: {{ output: public }}\nshell: {{ page: {page}, main: main }}\n"
        ));
        assert_eq!(e.len(), 1, "{page}: {e:?}");
        assert!(e[0].contains("`shell.page`"), "{page}: {e:?}");
    }
}

#[test]
fn a_host_base_path_is_a_plain_path_above_base_url_with_a_routed_collector() {
    let routed = "collector: { mode: route, route: \"example.com/blog/partners/go/*\" }\n";
    let text = |base_url: &str, host: &str, collector: &str| {
        format!("name: S\nbase_url: {base_url}\nsummary: Sum\nhost: {{ output: public, base_path: {host} }}\n{collector}")
    };
    let c = load(&text("https://example.com/blog/partners", "/blog/", routed)).unwrap();
    assert_eq!(c.host_base_path(), "/blog");
    assert_eq!(in_host(c.base_path(), c.host_base_path()), "/partners");
    for (base_url, host, collector, want) in [
        (
            "https://example.com/blog/partners",
            "blog",
            routed,
            "4:36 `host.base_path: blog` is not a path",
        ),
        (
            "https://example.com/blog/partners",
            "/blog/../x",
            routed,
            "4:36 `host.base_path: /blog/../x` is not a path",
        ),
        (
            "https://example.com/partners",
            "/blog",
            routed,
            "4:36 `base_url` https://example.com/partners is not below the host's base path `/blog`",
        ),
        (
            "https://example.com/blog",
            "/blog",
            routed,
            "4:36 `base_url` https://example.com/blog is not below the host's base path `/blog`",
        ),
        (
            "https://example.com/blogs/partners",
            "/blog",
            routed,
            "4:36 `base_url` https://example.com/blogs/partners is not below the host's base path `/blog`",
        ),
        (
            "https://example.com/blog/partners",
            "/blog",
            "",
            "4:36 `host.base_path: /blog` needs `collector.mode: route`",
        ),
    ] {
        assert_eq!(
            load(&text(base_url, host, collector)).unwrap_err(),
            vec![want.to_string()],
            "{base_url} {host}"
        );
    }
}

#[test]
fn site_paths_map_into_a_host_under_a_sub_path_on_segment_boundaries() {
    assert_eq!(in_host("/blog/partners", "/blog"), "/partners");
    assert_eq!(in_host("/blog", "/blog/"), "/");
    assert_eq!(in_host("/blogs/x", "/blog"), "/blogs/x");
    assert_eq!(in_host("/x", ""), "/x");
    assert!(under("/blog/x", "/blog") && under("/blog", "/blog") && under("/x", ""));
    assert!(!under("/blogs", "/blog") && !under("/", "/blog"));
}
