//! llms.txt and the agent files end to end with external programs (the opt-in tier, `cargo test --test e2e`).
//! Agent-facing outputs read back with the real parsers: llms.txt with the `llms-txt` package
//! (`llms_txt.parse_llms_file`), partners.json with `jsonschema`, merges into host files.

use crate::support;
use partner_pages::escape;
use partner_pages::render::llms;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::llms::*;

fn checker() -> PathBuf {
    support::repo_root().join("tests/py/check_llms.py")
}

/// Run `tests/py/check_llms.py <args>` and parse its JSON output; a failure shows its stderr.
fn check(args: &[&str]) -> Value {
    let python = crate::tools::require_tool("python3", "Python 3 with llms-txt and jsonschema");
    let out = Command::new(python)
        .arg(checker())
        .args(args)
        .output()
        .expect("run check_llms.py");
    assert!(
        out.status.success(),
        "check_llms.py {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("check_llms.py prints JSON")
}

fn load(root: &Path) -> partner_pages::Site {
    partner_pages::load(root, &Default::default()).expect("site loads")
}

/// Assert an llms.txt parsed by `llms_txt` says what the site's data says.
fn assert_llms_txt_matches(site: &partner_pages::Site, parsed: &Value) {
    let c = &site.config;
    assert_eq!(parsed["title"], escape::one_line(&c.name));
    assert_eq!(parsed["summary"], escape::one_line(&c.summary));
    assert_eq!(
        parsed["missing"],
        serde_json::json!([]),
        "links to missing files"
    );

    let offers = parsed["sections"]["Partner offers"]
        .as_array()
        .expect("a Partner offers section");
    let listed: Vec<_> = site
        .partners
        .iter()
        .filter(|p| p.llms && !p.noindex)
        .collect();
    assert_eq!(offers.len(), listed.len());
    for (item, p) in offers.iter().zip(&listed) {
        assert_eq!(item["title"], escape::one_line(&p.name));
        assert_eq!(
            item["url"],
            c.absolute_url(&format!("/p/{}/index.html.md", p.code))
        );
        let desc = item["desc"].as_str().unwrap();
        for fact in [
            &p.promise,
            &p.audience,
            &p.cta.label,
            &p.activation.description,
        ] {
            let fact = escape::one_line(fact);
            let fact = fact.trim_end_matches('.');
            assert!(desc.contains(fact), "{desc:?} lacks {fact:?}");
        }
    }

    let guides: Vec<_> = site
        .content
        .iter()
        .filter(|g| {
            g.is_published()
                && !g.front.noindex
                && matches!(
                    g.front.kind,
                    partner_pages::content::ContentKind::LeadMagnet
                        | partner_pages::content::ContentKind::Tutorial
                )
        })
        .collect();
    if !guides.is_empty() {
        let items = parsed["sections"]["Guides"].as_array().expect("Guides");
        let titles: Vec<&str> = items.iter().map(|i| i["title"].as_str().unwrap()).collect();
        let expected: Vec<&str> = guides.iter().map(|g| g.front.title.as_str()).collect();
        assert_eq!(titles, expected);
    }
    let order: Vec<&str> = parsed["section_order"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(order.last(), Some(&"Optional"), "Optional comes last");
    assert!(parsed["checked"].as_u64().unwrap() > listed.len() as u64);
}

#[test]
fn example_llms_txt_parses_with_its_title_summary_sections_and_links() {
    // A copy: a build writes collector/ and kits/ into the site root, and tests run in parallel.
    let site = support::copy_site(&support::example_site());
    let root = site.path().to_path_buf();
    let site = load(&root);
    let out = publish(&root, &[]);
    let llms_txt = out.path().join("llms.txt");
    let parsed = check(&[
        "parse",
        llms_txt.to_str().unwrap(),
        out.path().to_str().unwrap(),
        &site.config.base_url,
    ]);
    assert_eq!(parsed["title"], "AIKit Partners");
    assert_eq!(
        parsed["section_order"],
        serde_json::json!(["Partner offers", "Guides", "Optional"])
    );
    assert_llms_txt_matches(&site, &parsed);
    let optional: Vec<&str> = parsed["sections"]["Optional"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["url"].as_str().unwrap())
        .collect();
    assert!(optional.contains(&"https://aikit.example/partners.json"));
    assert!(optional.contains(&"https://aikit.example/llms-full.txt"));
    assert_eq!(
        parsed["info"],
        escape::one_line(site.config.description.as_deref().unwrap())
    );

    // llms-full.txt holds every listed partner page, as its mirror says it.
    let full = std::fs::read_to_string(out.path().join("llms-full.txt")).unwrap();
    for p in &site.partners {
        let mirror =
            std::fs::read_to_string(out.path().join(format!("p/{}/index.html.md", p.code)))
                .unwrap();
        let (h1, body) = mirror.split_once('\n').unwrap();
        let source = format!(
            "{h1}\n\nSource: <https://aikit.example/p/{}/>\n{body}",
            p.code
        );
        assert!(full.contains(&source), "llms-full.txt lacks {}", p.code);
    }
}

#[test]
fn five_hundred_partner_site_parses_and_every_linked_md_exists() {
    let site_dir = generated_site(500, "https://host.example/partners");
    let site = load(site_dir.path());
    assert_eq!(site.partners.len(), 500);
    let out = publish(site_dir.path(), &[]);
    let parsed = check(&[
        "parse",
        out.path().join("llms.txt").to_str().unwrap(),
        out.path().to_str().unwrap(),
        &site.config.base_url,
    ]);
    assert_eq!(parsed["title"], "Generated [partners] #1");
    assert_eq!(
        parsed["section_order"],
        serde_json::json!(["Partner offers", "Guides", "Optional"]),
        "user text opened no section"
    );
    assert_llms_txt_matches(&site, &parsed);
    assert_eq!(
        parsed["sections"]["Guides"][0]["title"],
        "A [guide] (with) `code`"
    );
}

#[test]
fn a_site_without_description_still_gives_the_reference_parser_its_summary() {
    let site_dir = generated_site(3, "https://x.example");
    let config = site_dir.path().join("partner-pages.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    let without: String = text
        .lines()
        .filter(|l| !l.starts_with("description:"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(without, text, "the description line was removed");
    std::fs::write(&config, without).unwrap();
    let site = load(site_dir.path());
    assert!(site.config.description.is_none());
    let out = publish(site_dir.path(), &[]);
    let parsed = check(&[
        "parse",
        out.path().join("llms.txt").to_str().unwrap(),
        out.path().to_str().unwrap(),
        &site.config.base_url,
    ]);
    assert!(
        !parsed["summary"].as_str().unwrap_or("").is_empty(),
        "{parsed}"
    );
    assert!(
        !parsed["info"].as_str().unwrap_or("").is_empty(),
        "{parsed}"
    );
    assert_llms_txt_matches(&site, &parsed);
}

#[test]
fn hostile_partner_names_stay_one_item_each_for_the_reference_parser() {
    let site_dir = generated_site(15, "https://x.example");
    let out = publish(site_dir.path(), &[]);
    let parsed = check(&["parse", out.path().join("llms.txt").to_str().unwrap()]);
    let offers = parsed["sections"]["Partner offers"].as_array().unwrap();
    assert_eq!(offers.len(), 15);
    assert_eq!(
        offers[7]["title"],
        "Evil ] name) [x](https://evil.example) 7 ## Heading - item `tick` <b>#7</b> &amp;"
    );
    assert_eq!(offers[7]["url"], "https://x.example/p/p0007/index.html.md");
    assert!(offers[7]["desc"]
        .as_str()
        .unwrap()
        .starts_with("Promise: Promise ]: ( # not a heading 7."));
}

#[test]
fn partners_json_validates_against_its_schema_and_matches_the_yaml() {
    // A copy: a build writes collector/ and kits/ into the site root, and tests run in parallel.
    let site = support::copy_site(&support::example_site());
    let root = site.path().to_path_buf();
    let out = publish(&root, &[]);
    let json_path = out.path().join("partners.json");
    crate::tools::assert_valid_json(
        "partners.schema.json",
        &std::fs::read_to_string(&json_path).unwrap(),
    );

    let json: Value = serde_json::from_slice(&std::fs::read(&json_path).unwrap()).unwrap();
    let partners = json["partners"].as_array().unwrap();
    let mut yaml_files: Vec<_> = std::fs::read_dir(root.join("partners"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    yaml_files.sort();
    assert_eq!(partners.len(), yaml_files.len());
    for file in yaml_files {
        // The YAML read as plain data, independent of the crate's Partner type.
        let y: Value = serde_saphyr::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let code = y["code"].as_str().unwrap();
        let p = partners.iter().find(|p| p["code"] == code).expect("listed");
        for field in ["name", "promise", "audience"] {
            assert_eq!(p[field], y[field], "{code}.{field}");
        }
        assert_eq!(p["headline"], y["landing"]["headline"]);
        assert_eq!(p["proof"], y["landing"]["proof"]);
        assert_eq!(p["cta"]["label"], y["cta"]["label"]);
        assert_eq!(p["cta"]["kind"], y["cta"]["kind"]);
        let absolute = |u: &Value| {
            let u = u.as_str().unwrap();
            if u.starts_with('/') {
                format!("https://aikit.example{u}")
            } else {
                u.to_string()
            }
        };
        assert_eq!(p["cta"]["url"], absolute(&y["cta"]["url"]));
        assert_eq!(p["lead_magnet"]["label"], y["lead_magnet"]["label"]);
        assert_eq!(p["lead_magnet"]["url"], absolute(&y["lead_magnet"]["url"]));
        assert_eq!(p["activation"]["event"], y["activation"]["event"]);
        assert_eq!(
            p["activation"]["description"],
            y["activation"]["description"]
        );
        assert_eq!(p["campaigns"], y["campaigns"]);
        assert_eq!(p["landing_url"], format!("https://aikit.example/p/{code}/"));
        assert_eq!(
            p["markdown_url"],
            format!("https://aikit.example/p/{code}/index.html.md")
        );
        assert!(p.get("commission").is_none());
        assert!(out.path().join(format!("p/{code}/index.html.md")).is_file());
    }
}

#[test]
fn partners_json_of_a_generated_site_validates_too() {
    let site_dir = generated_site(50, "https://host.example/base");
    let out = publish(site_dir.path(), &[]);
    let json = std::fs::read_to_string(out.path().join("partners.json")).unwrap();
    crate::tools::assert_valid_json("partners.schema.json", &json);
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["partners"].as_array().map(Vec::len), Some(50));
}

#[test]
fn schema_rejects_a_registry_with_a_commission() {
    // A copy: a build writes collector/ and kits/ into the site root, and tests run in parallel.
    let site = support::copy_site(&support::example_site());
    let root = site.path().to_path_buf();
    let out = publish(&root, &[]);
    let json_path = out.path().join("partners.json");
    let mut json: Value = serde_json::from_slice(&std::fs::read(&json_path).unwrap()).unwrap();
    json["partners"][0]["commission"] = "20%".into();
    let errors = crate::tools::schema_errors("partners.schema.json", &json.to_string());
    assert!(errors.contains("commission"), "{errors}");
}

/// The host text with our block (start marker line to end marker line) cut out.
fn without_block(text: &str) -> String {
    let start = text.find(llms::MARKER_START).expect("start marker");
    let end = text.find(llms::MARKER_END).expect("end marker") + llms::MARKER_END.len() + 1;
    format!("{}{}", &text[..start], &text[end..])
}

#[test]
fn merge_into_a_host_without_markers_keeps_the_host_and_is_a_no_op_the_second_time() {
    // A copy: a build writes collector/ and kits/ into the site root, and tests run in parallel.
    let site = support::copy_site(&support::example_site());
    let root = site.path().to_path_buf();
    let host_dir = tempfile::tempdir().unwrap();
    let host = host_dir.path().join("llms.txt");
    std::fs::write(&host, HOST).unwrap();
    let out = publish(&root, &["--llms-merge", host.to_str().unwrap()]);
    assert!(
        !out.path().join("llms.txt").exists(),
        "no llms.txt of our own"
    );

    let merged = std::fs::read_to_string(&host).unwrap();
    assert_eq!(
        merged.matches("\n# ").count() + usize::from(merged.starts_with("# ")),
        1,
        "one H1"
    );
    assert_eq!(merged.matches("\n> ").count(), 1, "one summary");
    // Our block sits before the host's Optional section; the rest is byte-identical.
    assert!(merged.find(llms::MARKER_END) < merged.find("## Optional"));
    assert_eq!(
        without_block(&merged),
        HOST.replace("\n## Optional", "\n\n## Optional")
    );

    // The reference parser reads it once our two marker lines (HTML comments) are dropped.
    let plain = host_dir.path().join("plain.txt");
    let no_markers: String = merged
        .lines()
        .filter(|l| *l != llms::MARKER_START && *l != llms::MARKER_END)
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&plain, no_markers).unwrap();
    let parsed = check(&[
        "parse",
        plain.to_str().unwrap(),
        out.path().to_str().unwrap(),
        "https://aikit.example",
    ]);
    assert_eq!(parsed["title"], "Host docs");
    assert_eq!(parsed["summary"], "The host's own summary.");
    assert_eq!(
        parsed["section_order"],
        serde_json::json!(["Docs", "Partner offers", "Guides", "Optional"])
    );
    assert_eq!(
        parsed["sections"]["Partner offers"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    assert_eq!(parsed["missing"], serde_json::json!([]));

    let modified = std::fs::metadata(&host).unwrap().modified().unwrap();
    publish(&root, &["--llms-merge", host.to_str().unwrap()]);
    assert_eq!(
        std::fs::read_to_string(&host).unwrap(),
        merged,
        "second run changes nothing"
    );
    assert_eq!(
        std::fs::metadata(&host).unwrap().modified().unwrap(),
        modified,
        "not rewritten"
    );
}

#[test]
fn every_markdown_alternate_link_resolves_to_a_mirror() {
    for (site_dir, base) in [
        (
            Some(support::copy_site(&support::example_site())),
            "https://aikit.example",
        ),
        (
            Some(generated_site(30, "https://host.example/partners")),
            "https://host.example/partners",
        ),
    ] {
        let root = site_dir.as_ref().unwrap().path().to_path_buf();
        let out = publish(&root, &[]);
        let base_path = base.split_once("://").unwrap().1;
        let base_path = base_path.find('/').map(|i| &base_path[i..]).unwrap_or("");
        let v = check(&["alternates", out.path().to_str().unwrap(), base_path]);
        assert_eq!(v["missing"], serde_json::json!([]));
        let pages = v["pages"].as_u64().unwrap();
        assert!(pages > 0);
        assert!(v["checked"].as_u64().unwrap() >= pages, "{v}");
        // And every mirror we wrote belongs to a page.
        for e in walkdir::WalkDir::new(out.path())
            .into_iter()
            .filter_map(Result::ok)
        {
            let p = e.path().to_string_lossy();
            if let Some(html) = p.strip_suffix(".md") {
                assert!(Path::new(html).is_file(), "{p} mirrors no page");
            }
        }
    }
}

#[test]
fn yaml_and_front_matter_overrides_reach_llms_txt() {
    let site_dir = generated_site(4, "https://x.example");
    let root = site_dir.path();
    let edit = |rel: &str, from: &str, to: &str| {
        let path = root.join(rel);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{rel} lacks {from:?}");
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    };
    edit(
        "partners/p0001.yaml",
        "commission:",
        "llms_section: Directories\nllms_note: Listed since 2024.\ncommission:",
    );
    edit(
        "partners/p0002.yaml",
        "commission:",
        "llms: false\ncommission:",
    );
    edit(
        "partners/p0003.yaml",
        "commission:",
        "noindex: true\ncommission:",
    );
    std::fs::write(
        root.join("content/hidden.md"),
        "---\ntitle: Hidden guide\nkind: lead_magnet\nnoindex: true\n---\n\nNot for agents.\n",
    )
    .unwrap();
    std::fs::write(
        root.join("content/about.md"),
        "---\ntitle: About us\nkind: page\nllms_note: Who runs the program.\n---\n\nAbout.\n",
    )
    .unwrap();
    std::fs::write(
        root.join("content/draft.md"),
        "---\ntitle: Draft guide\nkind: tutorial\ndraft: true\n---\n\nSoon.\n",
    )
    .unwrap();
    std::fs::write(
        root.join("content/quiet.md"),
        "---\ntitle: Quiet guide\nkind: tutorial\nllms: false\n---\n\nQuiet.\n",
    )
    .unwrap();

    let out = publish(root, &[]);
    let parsed = check(&[
        "parse",
        out.path().join("llms.txt").to_str().unwrap(),
        out.path().to_str().unwrap(),
        "https://x.example",
    ]);
    assert_eq!(
        parsed["section_order"],
        serde_json::json!(["Partner offers", "Guides", "Directories", "Optional"])
    );
    let urls = |section: &str| -> Vec<String> {
        parsed["sections"][section]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["url"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        urls("Partner offers"),
        ["https://x.example/p/p0000/index.html.md"]
    );
    assert_eq!(
        urls("Directories"),
        ["https://x.example/p/p0001/index.html.md"]
    );
    assert!(parsed["sections"]["Directories"][0]["desc"]
        .as_str()
        .unwrap()
        .ends_with("Listed since 2024."));
    assert_eq!(urls("Guides"), ["https://x.example/guide/index.html.md"]);
    let optional = &parsed["sections"]["Optional"];
    assert_eq!(optional[0]["title"], "About us");
    assert_eq!(optional[0]["desc"], "Who runs the program.");
    let text = std::fs::read_to_string(out.path().join("llms.txt")).unwrap();
    for gone in [
        "p0002",
        "p0003",
        "Hidden guide",
        "Draft guide",
        "Quiet guide",
    ] {
        assert!(!text.contains(gone), "{gone} is listed");
    }
    // noindex and llms: false pages still have their mirror (their HTML exists).
    assert!(out.path().join("p/p0003/index.html.md").is_file());
    assert!(out.path().join("hidden/index.html.md").is_file());
    assert!(!out.path().join("draft/index.html.md").exists());
    let registry: Value =
        serde_json::from_slice(&std::fs::read(out.path().join("partners.json")).unwrap()).unwrap();
    let codes: Vec<&str> = registry["partners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        ["p0000", "p0001", "p0002"],
        "noindex is not a public offer"
    );
}
