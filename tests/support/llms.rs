//! Helpers shared by the plain and the e2e tests of llms.txt and the agent files.
//! Agent-facing outputs read back with the real parsers: llms.txt with the `llms-txt` package
//! (`llms_txt.parse_llms_file`), partners.json with `jsonschema`, merges into host files.

use crate::support;
use std::path::Path;

/// Build the site at `root` into a fresh output folder and return it.
pub(crate) fn publish(root: &Path, extra: &[&str]) -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    let mut args = vec!["build", "--out", out.path().to_str().unwrap()];
    args.extend_from_slice(extra);
    let run = support::run(root, &args);
    assert!(
        run.status.success(),
        "build failed:\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    out
}

/// A site of `n` partners; every 7th has a name and promise full of Markdown syntax.
pub(crate) fn generated_site(n: usize, base_url: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(
        root.join("partner-pages.yaml"),
        format!(
            "name: \"Generated [partners] #1\"\nbase_url: {base_url}\nsummary: \"Many partners,\\nsome with ] and ) in their names.\"\ndescription: \"## not a section\\n\\n- not a list\"\nllms: {{ full: true }}\n"
        ),
    )
    .unwrap();
    std::fs::create_dir_all(root.join("partners")).unwrap();
    std::fs::create_dir_all(root.join("content")).unwrap();
    std::fs::write(
        root.join("content/guide.md"),
        "---\ntitle: \"A [guide] (with) `code`\"\nkind: tutorial\ndescription: How to ## read\n---\n\nSee [the demo](/demo) and [a partner](/go/p0007?campaign=x).\n",
    )
    .unwrap();
    for i in 0..n {
        let code = format!("p{i:04}");
        let (name, promise) = if i % 7 == 0 {
            (
                format!("Evil ] name) [x](https://evil.example) {i}\n## Heading\n- item `tick` <b>#{i}</b> &amp;"),
                format!("Promise ]: (\n# not a heading {i}"),
            )
        } else {
            (format!("Partner {i}"), format!("Promise {i}"))
        };
        let yaml = format!(
            "name: {name}\ncode: {code}\naudience: Audience {i}\npromise: {promise}\ncampaigns: [default, c{i}]\nlanding:\n  headline: Headline {i}\n  proof: Proof {i}\nlead_magnet: {{ label: Get it, url: https://files.example/{code}.pdf }}\ncta: {{ label: Book, kind: demo, url: /guide/ }}\nactivation:\n  event: activates_{i}\n  description: Does thing {i}\n  trigger: {{ server: true }}\ncommission: SECRET-COMMISSION-{i}\n",
            name = serde_json::to_string(&name).unwrap(),
            promise = serde_json::to_string(&promise).unwrap(),
        );
        std::fs::write(root.join(format!("partners/{code}.yaml")), yaml).unwrap();
    }
    dir
}

pub(crate) const HOST: &str = "# Host docs\n\n> The host's own summary.\n\nSome host notes.\n\n## Docs\n\n- [Intro](https://host.example/intro.md): start here\n\n## Optional\n\n- [Changelog](https://host.example/changelog.md)\n";
