//! Load + validate stage: the whole site (config, partners, content) read from a root folder.
//!
//! Takes: a site root. Gives: a [`Site`] with partners sorted by code and content by slug,
//! or every problem found at once as [`Diagnostics`]: a broken file does not stop the others
//! from being read, and the checks across files (duplicate codes, landing bodies) run on
//! whatever loaded.

use crate::config::{Config, CONFIG_FILE};
use crate::content::ContentPage;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::load::shape::{did_you_mean, Report};
use crate::load::yaml::{self, Node, Pos};
use crate::load::{value_rules, Located};
use crate::partner::Partner;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Everything the render stage needs, loaded and validated.
#[derive(Debug, Clone)]
pub struct Site {
    /// The site folder (where `partner-pages.yaml` is).
    pub root: PathBuf,
    /// The site config.
    pub config: Config,
    /// Sorted by code; drafts removed.
    pub partners: Vec<Partner>,
    /// Sorted by slug; includes sections and drafts (render decides what to publish).
    pub content: Vec<ContentPage>,
    /// Whether kits are also published on the site (`kits.hosted` and the kit secret).
    pub kit_hosting: crate::kits::Hosting,
}

impl Site {
    /// The partner with this code.
    pub fn partner(&self, code: &str) -> Option<&Partner> {
        self.partners.iter().find(|p| p.code == code)
    }

    /// The content page built from this source file (relative to `content/`).
    pub fn content_by_source(&self, source: &str) -> Option<&ContentPage> {
        self.content.iter().find(|c| c.source == Path::new(source))
    }
}

/// Options that override the config file from the command line.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `base_url` of the config, as written.
    pub base_url: Option<String>,
}

/// A partner file that loaded, with what the checks across files need. The YAML node tree is
/// dropped as soon as the file is parsed (it is most of a partner's memory): only the positions
/// the checks across files point at are kept.
struct Loaded {
    partner: Partner,
    text: String,
    code_pos: Pos,
    /// Where each of `partner.coupons` is.
    coupon_pos: Vec<Pos>,
    /// Every `landing.body` of the file (the partner's, then its variants'), with its position.
    bodies: Vec<(String, Pos)>,
}

impl Loaded {
    fn new(partner: Located<Partner>, text: String) -> Loaded {
        let node: &Node = &partner.node;
        let pos = |path: &[&str]| node.lookup(path).map_or(node.pos, |n| n.pos);
        let p = &partner.value;
        let mut bodies: Vec<(String, Pos)> = p
            .landing
            .body
            .iter()
            .map(|b| (b.clone(), pos(&["landing", "body"])))
            .collect();
        for (i, v) in p.variants.iter().enumerate() {
            if let Some(b) = v.landing.as_ref().and_then(|l| l.body.as_ref()) {
                let idx = i.to_string();
                bodies.push((b.clone(), pos(&["variants", &idx, "landing", "body"])));
            }
        }
        let coupon_pos = (0..p.coupons.len())
            .map(|i| pos(&["coupons", &i.to_string()]))
            .collect();
        Loaded {
            code_pos: pos(&["code"]),
            coupon_pos,
            bodies,
            partner: partner.value,
            text,
        }
    }
    fn report(&self) -> Report<'_> {
        Report::new(&self.partner.source, &self.text, 0)
    }
}

/// Load and validate the site at `root`. Reports every problem in the tree at once, sorted by
/// file and position.
pub fn load(root: &Path, opts: &LoadOptions) -> Result<Site, Diagnostics> {
    let mut diags: Vec<Diagnostic> = Vec::new();
    let config = load_config(root, opts, &mut diags);
    let content_dir = match &config {
        Some((c, _)) => c.content_dir(root),
        None => crate::config::peek(root).content_dir(root),
    };
    let content = crate::content::load_all(root, &content_dir, &mut diags);
    let loaded = load_partners(root, &mut diags);
    check_duplicate_codes(&loaded, &mut diags);
    check_duplicate_coupons(&loaded, &mut diags);
    check_duplicate_slugs(&content, &mut diags);
    check_landing_bodies(root, &content_dir, &loaded, &content, &mut diags);

    let mut loaded = loaded;
    if let Some((config, _)) = &config {
        resolve_rewards(
            root,
            config,
            loaded.iter_mut().map(|l| &mut l.partner),
            &mut diags,
        );
    }
    match config {
        Some((config, kit_hosting)) if diags.is_empty() => {
            let mut partners: Vec<Partner> = loaded
                .into_iter()
                .map(|l| l.partner)
                .filter(|p| !p.draft)
                .collect();
            partners.sort_by(|a, b| a.code.cmp(&b.code));
            let mut content = content;
            content.sort_by(|a, b| a.slug.cmp(&b.slug));
            Ok(Site {
                root: root.to_path_buf(),
                config,
                partners,
                content,
                kit_hosting,
            })
        }
        _ => {
            let mut d = Diagnostics(diags);
            d.sort();
            Err(d)
        }
    }
}

fn load_config(
    root: &Path,
    opts: &LoadOptions,
    diags: &mut Vec<Diagnostic>,
) -> Option<(Config, crate::kits::Hosting)> {
    let path = root.join(CONFIG_FILE);
    if !path.is_file() {
        diags.push(
            Diagnostic::new(
                CONFIG_FILE,
                0,
                0,
                format!("no site config `{CONFIG_FILE}` in {}", root.display()),
            )
            .expected("a site root with partner-pages.yaml, partners/ and content/")
            .hint("run `partner-pages init` to create a site, or give the root of an existing one"),
        );
        return None;
    }
    if crate::load::through_link(root, &path) {
        if let Err(d) = crate::load::check_link(root, &path, Path::new(CONFIG_FILE)) {
            diags.push(*d);
            return None;
        }
    }
    let text = match yaml::read_text(&path, Path::new(CONFIG_FILE), yaml::MAX_YAML_BYTES) {
        Ok(t) => t,
        Err(d) => {
            diags.push(*d);
            return None;
        }
    };
    let mut r = Report::new(Path::new(CONFIG_FILE), &text, 0);
    let mut config = crate::config::parse_in(&text, Some(root), &mut r);
    diags.append(&mut r.diags);
    if let (Some(c), Some(url)) = (config.as_mut(), &opts.base_url) {
        match value_rules::base_url(url) {
            None => c.base_url = url.trim_end_matches('/').to_string(),
            Some(problem) => {
                let mut d =
                    Diagnostic::new("--base-url", 0, 0, problem.message).expected(problem.expected);
                d.hint = problem.hint;
                diags.push(d);
            }
        }
    }
    config.map(|c| {
        let hosting = crate::kits::Hosting::read(root, c.kits.hosted, &text);
        (c, hosting)
    })
}

/// Every `partners/*.yaml` (and `.yml`), sorted by file name; subfolders are not read.
fn load_partners(root: &Path, diags: &mut Vec<Diagnostic>) -> Vec<Loaded> {
    let dir = root.join("partners");
    let mut out = Vec::new();
    let Ok(read) = std::fs::read_dir(&dir) else {
        return out; // a site without partners yet is valid
    };
    // Links are checked (inside the site, to a YAML file) before anything is read; a link to
    // a folder or a broken one is reported, never silently skipped.
    let mut files: Vec<PathBuf> = read
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "yaml" || x == "yml")
                && (p.is_file() || std::fs::symlink_metadata(p).is_ok_and(|m| m.is_symlink()))
        })
        .collect();
    files.sort();
    // Files are independent: read them on a few threads, in chunks, and join the results in file
    // order so the output does not depend on scheduling.
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    let chunk = files.len().div_ceil(threads).max(64);
    let results: Vec<(Vec<Loaded>, Vec<Diagnostic>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|part| scope.spawn(move || load_partner_files(root, part)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    for (mut loaded, mut d) in results {
        out.append(&mut loaded);
        diags.append(&mut d);
    }
    out
}

fn load_partner_files(root: &Path, files: &[PathBuf]) -> (Vec<Loaded>, Vec<Diagnostic>) {
    let mut out = Vec::new();
    let mut diags = Vec::new();
    for path in files {
        let rel = path.strip_prefix(root).unwrap_or(path).to_path_buf();
        if crate::load::through_link(root, path) {
            if let Err(d) = crate::load::check_link(root, path, &rel) {
                diags.push(*d);
                continue;
            }
        }
        let text = match yaml::read_text(path, &rel, yaml::MAX_YAML_BYTES) {
            Ok(t) => t,
            Err(d) => {
                diags.push(*d);
                continue;
            }
        };
        let mut r = Report::new(&rel, &text, 0);
        let partner = crate::partner::parse(&text, &mut r);
        diags.append(&mut r.diags);
        if let Some(partner) = partner {
            out.push(Loaded::new(partner, text));
        }
    }
    (out, diags)
}

/// Codes are unique across files; each file of a clash points at the other(s).
fn check_duplicate_codes(loaded: &[Loaded], diags: &mut Vec<Diagnostic>) {
    let mut by_code: BTreeMap<&str, Vec<&Loaded>> = BTreeMap::new();
    for l in loaded {
        by_code.entry(&l.partner.code).or_default().push(l);
    }
    for (code, users) in by_code.into_iter().filter(|(_, u)| u.len() > 1) {
        for l in &users {
            let others: Vec<String> = users
                .iter()
                .filter(|o| !std::ptr::eq(**o, *l))
                .map(|o| {
                    let p = o.code_pos;
                    format!("{}:{}:{}", o.partner.source.display(), p.line, p.column)
                })
                .collect();
            let d = l
                .report()
                .at(l.code_pos, format!("duplicate partner code `{code}`, also used at {}", others.join(", ")))
                .expected("a code used by one partner file only")
                .hint("codes name URLs, cookies and events: give each partner its own, and keep only one file per code");
            diags.push(d);
        }
    }
}

/// Each partner's effective reward rule (its `reward:` over the config's) and the terms its
/// kit shows; problems go to `diags`, located in the file that wrote the field (a problem of
/// the defaults once).
fn resolve_rewards<'a>(
    root: &Path,
    config: &Config,
    partners: impl Iterator<Item = &'a mut Partner>,
    diags: &mut Vec<Diagnostic>,
) {
    let mut said: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    for p in partners {
        match crate::reward::resolve(p.reward.as_ref(), config.reward.as_ref()) {
            Ok(rule) => {
                p.rule_terms = rule.as_ref().map(crate::reward::Rule::terms);
                p.rule = rule;
            }
            Err(problems) => {
                for pr in &problems {
                    if matches!(pr.origin, crate::reward::Origin::Defaults)
                        && !said.insert(pr.message.clone())
                    {
                        continue;
                    }
                    diags.push(crate::reward::merge_diagnostic(
                        root,
                        &p.source,
                        Path::new(CONFIG_FILE),
                        pr,
                    ));
                }
            }
        }
    }
}

/// A Stripe coupon credits one partner: a coupon listed by two partner files (compared
/// ignoring case) is an error in each, pointing at the other(s).
fn check_duplicate_coupons(loaded: &[Loaded], diags: &mut Vec<Diagnostic>) {
    let mut by_coupon: BTreeMap<String, Vec<(&Loaded, Pos, &str)>> = BTreeMap::new();
    for l in loaded {
        for (c, pos) in l.partner.coupons.iter().zip(&l.coupon_pos) {
            let users = by_coupon.entry(c.to_ascii_uppercase()).or_default();
            // A coupon listed twice in one file is that file's own error.
            if !users.iter().any(|(o, _, _)| std::ptr::eq(*o, l)) {
                users.push((l, *pos, c));
            }
        }
    }
    for users in by_coupon.values().filter(|u| u.len() > 1) {
        for (l, pos, c) in users {
            let others: Vec<String> = users
                .iter()
                .filter(|(o, _, _)| !std::ptr::eq(*o, *l))
                .map(|(o, p, _)| format!("{}:{}:{}", o.partner.source.display(), p.line, p.column))
                .collect();
            let d = l
                .report()
                .at(*pos, format!("coupon `{c}` is also listed at {}", others.join(", ")))
                .expected("a coupon listed by one partner only (compared ignoring case)")
                .hint("a payment with this coupon could be credited to either partner: keep it in one partner file");
            diags.push(d);
        }
    }
}

/// Content slugs are URLs: two files with one stem (`content/x.md`, `content/a/x.md`) collide.
fn check_duplicate_slugs(content: &[ContentPage], diags: &mut Vec<Diagnostic>) {
    let mut by_slug: BTreeMap<&str, Vec<&ContentPage>> = BTreeMap::new();
    for c in content {
        by_slug.entry(&c.slug).or_default().push(c);
    }
    for (slug, pages) in by_slug.into_iter().filter(|(_, p)| p.len() > 1) {
        for c in &pages {
            let others: Vec<String> = pages
                .iter()
                .filter(|o| o.source != c.source)
                .map(|o| o.source.display().to_string())
                .collect();
            diags.push(
                Diagnostic::new(
                    &c.source,
                    1,
                    1,
                    format!(
                        "content slug `{slug}` is also used by {}",
                        others.join(", ")
                    ),
                )
                .expected("one content file per name: the file name is the page's URL `/<name>/`")
                .hint("rename one of the files")
                .with_source("---"),
            );
        }
    }
}

/// `landing.body` names a Markdown file under the content folder that exists.
fn check_landing_bodies(
    root: &Path,
    content_dir: &str,
    loaded: &[Loaded],
    content: &[ContentPage],
    diags: &mut Vec<Diagnostic>,
) {
    for (l, (body, body_pos)) in loaded
        .iter()
        .flat_map(|l| l.bodies.iter().map(move |b| (l, b)))
    {
        let in_content = Path::new(body).starts_with(content_dir)
            && body.ends_with(".md")
            && !body.contains("..");
        if in_content && root.join(body).is_file() {
            continue;
        }
        let sources: Vec<String> = content
            .iter()
            .map(|c| c.source.display().to_string())
            .collect();
        let mut d = l
            .report()
            .at(
                *body_pos,
                format!("landing body `{body}` is not a content file"),
            )
            .expected(format!(
                "a path like `{content_dir}/<name>.md` of a file that exists"
            ));
        if let Some(m) = did_you_mean(body, sources.iter().map(String::as_str)) {
            d = d.hint(format!("did you mean `{m}`?"));
        } else if !sources.is_empty() {
            d = d.hint(format!("content files: {}", sources.join(", ")));
        } else {
            d = d.hint("create the file, or remove `body:` to use only headline and proof");
        }
        diags.push(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn partner(code: &str) -> String {
        format!("name: N\ncode: {code}\naudience: A\npromise: P\nlanding:\n  headline: H\n  proof: Pr\n  body: content/guide.md\nlead_magnet: {{ label: Get, url: /guide/ }}\ncta: {{ label: Book, kind: demo, url: /demo }}\nactivation:\n  event: books\n  description: D\n  trigger: {{ server: true }}\n")
    }

    fn site() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            CONFIG_FILE,
            "name: S\nbase_url: https://example.com\nsummary: Sum\n",
        );
        write(
            dir.path(),
            "content/guide.md",
            "---\ntitle: Guide\n---\nText\n",
        );
        write(dir.path(), "partners/alpha.yaml", &partner("alpha"));
        dir
    }

    #[test]
    fn a_valid_site_loads_sorted_without_drafts() {
        let dir = site();
        write(
            dir.path(),
            "partners/beta.yaml",
            &format!("{}draft: true\n", partner("beta")),
        );
        write(dir.path(), "partners/aaa.yaml", &partner("aaa"));
        let s = load(dir.path(), &LoadOptions::default()).unwrap();
        let codes: Vec<&str> = s.partners.iter().map(|p| p.code.as_str()).collect();
        assert_eq!(codes, vec!["aaa", "alpha"]);
        assert!(s.content_by_source("content/guide.md").is_some());
    }

    #[test]
    fn errors_in_several_files_are_all_reported() {
        let dir = site();
        write(
            dir.path(),
            "partners/beta.yaml",
            &partner("beta").replace("promise", "promis"),
        );
        write(dir.path(), "content/bad.md", "no front matter\n");
        write(
            dir.path(),
            CONFIG_FILE,
            "name: S\nbase_url: example.com\nsummary: Sum\n",
        );
        let d = load(dir.path(), &LoadOptions::default()).unwrap_err();
        let files: Vec<String> = d.0.iter().map(|d| d.location()).collect();
        assert_eq!(
            files,
            vec![
                "content/bad.md:1:1",
                "partner-pages.yaml:2:11",
                "partners/beta.yaml:4:1"
            ]
        );
    }

    #[test]
    fn many_partner_files_load_the_same_on_several_threads() {
        let dir = site();
        for i in 0..300 {
            let code = format!("p{i:03}");
            let text = partner(&code);
            // Two broken files far apart, in different chunks.
            let text = if i == 7 || i == 250 {
                text.replace("kind: demo", "kind: demoo")
            } else {
                text
            };
            write(dir.path(), &format!("partners/{code}.yaml"), &text);
        }
        let d = load(dir.path(), &LoadOptions::default()).unwrap_err();
        let locations: Vec<String> = d.0.iter().map(|d| d.location()).collect();
        assert_eq!(
            locations,
            vec!["partners/p007.yaml:10:27", "partners/p250.yaml:10:27"]
        );
        std::fs::remove_file(dir.path().join("partners/p007.yaml")).unwrap();
        std::fs::remove_file(dir.path().join("partners/p250.yaml")).unwrap();
        let s = load(dir.path(), &LoadOptions::default()).unwrap();
        assert_eq!(s.partners.len(), 299);
        assert!(s.partners.windows(2).all(|w| w[0].code < w[1].code));
    }

    #[test]
    fn content_files_with_one_name_in_two_folders_collide() {
        let dir = site();
        write(
            dir.path(),
            "content/briefs/guide.md",
            "---\ntitle: Brief\ndraft: true\n---\n",
        );
        let d = load(dir.path(), &LoadOptions::default()).unwrap_err();
        let got: Vec<String> =
            d.0.iter()
                .map(|d| format!("{} {}", d.location(), d.message))
                .collect();
        assert_eq!(
            got,
            vec![
                "content/briefs/guide.md:1:1 content slug `guide` is also used by content/guide.md",
                "content/guide.md:1:1 content slug `guide` is also used by content/briefs/guide.md",
            ]
        );
    }

    #[test]
    fn duplicate_codes_point_at_both_files() {
        let dir = site();
        write(dir.path(), "partners/alpha.yml", &partner("alpha"));
        let d = load(dir.path(), &LoadOptions::default()).unwrap_err();
        assert_eq!(d.len(), 2);
        assert_eq!(
            d.0[0].message,
            "duplicate partner code `alpha`, also used at partners/alpha.yml:2:7"
        );
        assert_eq!(
            d.0[1].message,
            "duplicate partner code `alpha`, also used at partners/alpha.yaml:2:7"
        );
    }

    #[test]
    fn missing_landing_body_suggests_the_close_file() {
        let dir = site();
        write(
            dir.path(),
            "partners/alpha.yaml",
            &partner("alpha").replace("guide.md", "gide.md"),
        );
        let d = load(dir.path(), &LoadOptions::default()).unwrap_err();
        assert_eq!(d.0[0].location(), "partners/alpha.yaml:8:9");
        assert_eq!(
            d.0[0].hint.as_deref(),
            Some("did you mean `content/guide.md`?")
        );
    }

    #[test]
    fn base_url_flag_overrides_and_is_checked() {
        let dir = site();
        let opts = LoadOptions {
            base_url: Some("https://other.example/x/".into()),
        };
        assert_eq!(
            load(dir.path(), &opts).unwrap().config.base_url,
            "https://other.example/x"
        );
        let bad = LoadOptions {
            base_url: Some("other.example".into()),
        };
        assert_eq!(
            load(dir.path(), &bad).unwrap_err().0[0].file,
            Path::new("--base-url")
        );
    }

    #[test]
    fn a_missing_config_is_one_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let d = load(dir.path(), &LoadOptions::default()).unwrap_err();
        assert_eq!(d.len(), 1);
        assert!(d.0[0]
            .hint
            .as_deref()
            .unwrap()
            .contains("partner-pages init"));
    }
}
