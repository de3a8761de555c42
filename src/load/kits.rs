//! Partner kits: each partner's tracked links, copy and commission terms, kept private.
//!
//! Takes: the site's `kits:` settings and, when kits are hosted, the kit secret. Gives: where each
//! kit goes. A kit is always written to the private kits folder beside the output
//! (`<kits.dir>/<code>/index.html` and `index.md`, to send to the partner), never into the
//! published output. With `kits.hosted: true` the build also publishes it at
//! `/kits/<token>/`, where the token is HMAC-SHA256 of the partner code under a secret the site
//! keeps out of git ([`SECRET_ENV`] or the file [`SECRET_FILE`]): nobody can derive one
//! partner's kit URL from another's, and rotating the secret moves every kit (the old paths are
//! gone after the next build). Hosted kits are `noindex`, send no referrer, and are left out of
//! the sitemap, llms.txt, llms-full.txt, partners.json, the Markdown mirrors and the index.

use crate::diagnostics::Diagnostic;
use crate::partner::Partner;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::path::Path;

/// Environment variable holding the kit secret (wins over [`SECRET_FILE`]).
pub(crate) const SECRET_ENV: &str = "PARTNER_PAGES_KIT_SECRET";
/// File at the site root holding the kit secret (its first line); keep it out of git.
pub(crate) const SECRET_FILE: &str = crate::config::KIT_SECRET_FILE;
/// Shortest secret accepted, in bytes: a short secret could be guessed from one kit's path.
pub(crate) const MIN_SECRET_BYTES: usize = 16;
/// Folder of the hosted kits in the static output.
pub(crate) const HOSTED_DIR: &str = "kits";
/// Hex characters of the token in a hosted kit's path (128 bits of the HMAC).
const TOKEN_HEX: usize = 32;

/// The secret the hosted kit paths are derived from. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Secret {
    /// A secret from its text (surrounding whitespace dropped); `None` when shorter than
    /// [`MIN_SECRET_BYTES`].
    pub fn new(text: &str) -> Option<Secret> {
        let t = text.trim();
        (t.len() >= MIN_SECRET_BYTES).then(|| Secret(t.as_bytes().to_vec()))
    }

    fn mac(&self, domain: &str, value: &str) -> [u8; 32] {
        // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
        let mut mac = match Hmac::<Sha256>::new_from_slice(&self.0) {
            Ok(m) => m,
            Err(_) => unreachable!("HMAC accepts keys of any length"),
        };
        mac.update(domain.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The token of a partner's hosted kit: HMAC-SHA256 of the code, first 128 bits, hex.
    pub fn token(&self, code: &str) -> String {
        hex(&self.mac("partner-pages kit", code)[..TOKEN_HEX / 2])
    }

    /// A digest that changes with the secret and reveals nothing of it (the build stamp keys on
    /// it, so a rotated secret rebuilds).
    pub fn fingerprint(&self) -> String {
        hex(&self.mac("partner-pages kit fingerprint", "")[..8])
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// How the site publishes its kits.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Hosting {
    /// Kits only in the private folder (the default).
    #[default]
    Private,
    /// Also on the site at `/kits/<token>/`.
    Hosted(Secret),
    /// `kits.hosted: true` but no usable secret: building fails with this problem; `check`
    /// shows it as a warning (the secret may live only where the site is built).
    NoSecret(Box<Diagnostic>),
}

impl Hosting {
    /// The hosting of a site whose config says `hosted`; `config_text` locates the problem.
    pub fn read(root: &Path, hosted: bool, config_text: &str) -> Hosting {
        if !hosted {
            return Hosting::Private;
        }
        let (source, text) = match std::env::var(SECRET_ENV) {
            Ok(v) if !v.trim().is_empty() => (SECRET_ENV.to_string(), Ok(v)),
            _ => (
                SECRET_FILE.to_string(),
                std::fs::read_to_string(root.join(SECRET_FILE)),
            ),
        };
        let problem = match text {
            Ok(t) => match Secret::new(t.lines().next().unwrap_or("")) {
                Some(s) => return Hosting::Hosted(s),
                None => format!(
                    "the kit secret in {source} is shorter than {MIN_SECRET_BYTES} bytes: hosted kit paths could be guessed"
                ),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => format!(
                "`kits.hosted` is true but no kit secret is set ({SECRET_ENV} or {SECRET_FILE})"
            ),
            Err(e) => format!("cannot read the kit secret {SECRET_FILE}: {e}"),
        };
        let (line, column) = position_of(config_text, "hosted");
        Hosting::NoSecret(Box::new(
            Diagnostic::new(crate::config::CONFIG_FILE, line, column, problem)
                .expected(format!(
                    "a random secret of at least {MIN_SECRET_BYTES} bytes in {SECRET_ENV} or in the file {SECRET_FILE} at the site root"
                ))
                .hint(format!(
                    "create one with `openssl rand -hex 32 > {SECRET_FILE}` and add `{SECRET_FILE}` to .gitignore; or set `kits.hosted: false` to send kits privately"
                ))
                .with_source(config_text),
        ))
    }

    /// Site path of a partner's hosted kit, `None` when kits are not hosted.
    pub fn path(&self, partner: &Partner) -> Option<String> {
        match self {
            Hosting::Hosted(s) => Some(format!("/{HOSTED_DIR}/{}/", s.token(&partner.code))),
            _ => None,
        }
    }

    /// For the build stamp: what of the hosting changes the output.
    pub fn fingerprint(&self) -> String {
        match self {
            Hosting::Private => "private".into(),
            Hosting::Hosted(s) => format!("hosted {}", s.fingerprint()),
            Hosting::NoSecret(_) => "no secret".into(),
        }
    }
}

/// What of the kits a build's no-change stamp depends on, read without loading the site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StampKey {
    /// `kits.dir` as configured (default `kits`).
    pub dir: String,
    /// The folder and the hosting ([`Hosting::fingerprint`]): a rotated secret rebuilds.
    pub fingerprint: String,
}

/// The [`StampKey`] of the site at `root` (defaults when the config cannot be read: the full
/// build that follows reports the problem).
pub(crate) fn stamp_key(root: &Path) -> StampKey {
    let text = std::fs::read_to_string(root.join(crate::config::CONFIG_FILE)).unwrap_or_default();
    let mut r = crate::load::shape::Report::new(Path::new(crate::config::CONFIG_FILE), &text, 0);
    let kits = crate::config::parse(&text, &mut r)
        .map(|c| c.kits)
        .unwrap_or_default();
    let hosting = Hosting::read(root, kits.hosted, &text);
    StampKey {
        fingerprint: format!("{} {}", kits.dir, hosting.fingerprint()),
        dir: kits.dir,
    }
}

/// Refuse a kits folder that would be published or mixed with another output: inside the
/// static output folder (or holding it), or inside the collector folder.
pub(crate) fn check_place(
    root: &Path,
    kits_dir: &Path,
    out_dir: &Path,
    collector_dir: &Path,
) -> crate::Result<()> {
    let kits = normal(kits_dir);
    let root = normal(root);
    for (other, what) in [
        (normal(out_dir), "the static output folder"),
        (normal(collector_dir), "the collector folder"),
    ] {
        if kits.starts_with(&other) || other.starts_with(&kits) {
            return Err(crate::Error::user_hint(
                format!(
                    "the kits folder {} (`kits.dir`) overlaps {what} {}: private kits would be published",
                    kits_dir.display(),
                    other.display()
                ),
                "set `kits.dir` in partner-pages.yaml to a folder beside the output, e.g. `kits`",
            ));
        }
    }
    if root.starts_with(&kits) {
        return Err(crate::Error::user_hint(
            format!(
                "the kits folder {} (`kits.dir`) holds the site itself",
                kits_dir.display()
            ),
            "set `kits.dir` in partner-pages.yaml to a folder of its own, e.g. `kits`",
        ));
    }
    Ok(())
}

/// An absolute path with `.` and `..` resolved by name (the folders may not exist yet).
fn normal(p: &Path) -> std::path::PathBuf {
    use std::path::Component;
    let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let mut out = std::path::PathBuf::new();
    for c in abs.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

/// 1-based line and column of the first `key` in `text` (0, 0 when absent).
fn position_of(text: &str, key: &str) -> (usize, usize) {
    for (i, line) in text.lines().enumerate() {
        if let Some(c) = line.find(key) {
            return (i + 1, line[..c].chars().count() + 1);
        }
    }
    (0, 0)
}

/// The Markdown kit (`<kits.dir>/<code>/index.md`): the same facts as the HTML kit, to paste
/// into an email to the partner. Text from YAML is escaped so it stays text; the blurb is a
/// code block, copied exactly as written.
pub(crate) fn markdown(
    partner: &Partner,
    landing_url: &str,
    links: &[(String, String)],
    blurb: &str,
    hosted_url: Option<&str>,
) -> String {
    use crate::escape::{inline, one_line, url};
    let mut md = format!("# Partner kit: {}\n\n", inline(&partner.name));
    md.push_str(&format!("Your landing page: <{}>\n", url(landing_url)));
    if let Some(u) = hosted_url {
        md.push_str(&format!(
            "\nThis kit online, private to you: <{}>\n",
            url(u)
        ));
    }
    md.push_str("\n## Your offer\n\n");
    for (label, value) in [
        ("Audience", partner.audience.as_str()),
        ("Promise", &partner.promise),
        ("Headline", &partner.landing.headline),
        ("Proof", &partner.landing.proof),
        (
            "Commission",
            partner
                .commission
                .as_deref()
                .unwrap_or("ask your partner manager"),
        ),
    ] {
        md.push_str(&format!("- {label}: {}\n", inline(value)));
    }
    md.push_str(
        "\n## Tracked links\n\nUse one link per campaign so we can tell you which one works.\n\n",
    );
    for (campaign, link) in links {
        md.push_str(&format!("- `{campaign}`: <{}>\n", url(link)));
    }
    let blurb = one_line(blurb);
    let fence = "`".repeat(longest_run(&blurb, '`').max(2) + 1);
    md.push_str(&format!(
        "\n## Suggested blurb\n\n{fence}text\n{blurb}\n{fence}\n"
    ));
    md
}

/// Length of the longest run of `c` in `s`.
fn longest_run(s: &str, c: char) -> usize {
    let (mut best, mut run) = (0, 0);
    for x in s.chars() {
        run = if x == c { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_differ_per_code_and_per_secret_and_are_stable() {
        let a = Secret::new("0123456789abcdef-one").unwrap();
        let b = Secret::new("0123456789abcdef-two").unwrap();
        assert_eq!(a.token("seo"), a.token("seo"));
        assert_ne!(a.token("seo"), a.token("seo2"));
        assert_ne!(a.token("seo"), b.token("seo"));
        assert_eq!(a.token("seo").len(), TOKEN_HEX);
        assert!(a.token("seo").bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a.fingerprint(), b.fingerprint());
        // HMAC-SHA256("0123456789abcdef-one", "partner-pages kit\0seo"), computed independently
        // with Python's hmac module.
        assert_eq!(a.token("seo"), KNOWN_TOKEN);
    }

    const KNOWN_TOKEN: &str = "bfd998665c996acf08b72c8bc4f1785c";

    #[test]
    fn kits_never_overlap_the_output_or_the_collector() {
        let root = Path::new("/site");
        let (out, coll) = (Path::new("/site/public"), Path::new("/site/collector"));
        assert!(check_place(root, Path::new("/site/kits"), out, coll).is_ok());
        assert!(check_place(root, Path::new("/site/../elsewhere/kits"), out, coll).is_ok());
        for bad in [
            "/site/public/kits",
            "/site/public/../public/x",
            "/site/collector/k",
            "/",
            "/site/./",
        ] {
            let e = check_place(root, Path::new(bad), out, coll).unwrap_err();
            assert!(e.to_string().contains("`kits.dir`"), "{bad}: {e}");
        }
        // `--out` into a folder that holds the kits.
        assert!(check_place(root, Path::new("/site/kits"), Path::new("/site"), coll).is_err());
    }

    #[test]
    fn markdown_kit_keeps_yaml_text_as_text() {
        let text = "name: A [b] *c*\ncode: a\naudience: x\npromise: P\nlanding: { headline: H, proof: Pr }\nlead_magnet: { label: L, url: /l }\ncta: { label: C, kind: demo, url: /c }\nactivation: { event: e, description: D, trigger: { server: true } }\ncommission: \"# 20% <b>\"\n";
        let mut r = crate::load::shape::Report::new(Path::new("partners/a.yaml"), text, 0);
        let p = crate::partner::parse(text, &mut r)
            .expect("the test partner loads")
            .value;
        let md = markdown(
            &p,
            "https://x.example/p/a/",
            &[("default".into(), "https://x.example/go/a".into())],
            "Use ```this``` now",
            None,
        );
        assert!(
            md.starts_with("# Partner kit: A &#91;b&#93; \\*c\\*\n"),
            "{md}"
        );
        assert!(md.contains("- Commission: \\# 20% \\<b\\>\n"), "{md}");
        assert!(
            md.contains("\n````text\nUse ```this``` now\n````\n"),
            "{md}"
        );
    }

    #[test]
    fn short_secrets_are_refused_and_never_printed() {
        assert!(Secret::new("  short  ").is_none());
        let s = Secret::new("a-secret-of-enough-bytes").unwrap();
        assert_eq!(format!("{s:?}"), "Secret(..)");
    }

    #[test]
    fn a_missing_secret_is_reported_at_kits_hosted() {
        let dir = tempfile::tempdir().unwrap();
        let text = "name: S\nkits:\n  hosted: true\n";
        // The environment may carry a secret on a developer's machine: only the file is read here
        // when the variable is unset.
        if std::env::var(SECRET_ENV).is_ok() {
            return;
        }
        let Hosting::NoSecret(d) = Hosting::read(dir.path(), true, text) else {
            panic!("no secret must be a problem");
        };
        assert_eq!((d.line, d.column), (3, 3), "{d}");
        assert!(d.message.contains("no kit secret"), "{d}");
        std::fs::write(dir.path().join(SECRET_FILE), "tooshort\n").unwrap();
        let Hosting::NoSecret(d) = Hosting::read(dir.path(), true, text) else {
            panic!("a short secret must be a problem");
        };
        assert!(d.message.contains("shorter than 16 bytes"), "{d}");
        std::fs::write(
            dir.path().join(SECRET_FILE),
            "0123456789abcdef-one\nignored\n",
        )
        .unwrap();
        let h = Hosting::read(dir.path(), true, text);
        assert_eq!(
            h,
            Hosting::Hosted(Secret::new("0123456789abcdef-one").unwrap())
        );
        assert_eq!(Hosting::read(dir.path(), false, text), Hosting::Private);
    }
}
