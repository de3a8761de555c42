//! Build stage 0, the no-change fast path (like make): a stamp of every build input.
//!
//! Takes: the site root and the build options that reach the output. Gives: a SHA-256 stamp of
//! the inputs (config, `partners/`, `content/`, `templates/`, options, binary identity, the llms
//! host file), stored by a successful build in [`STAMP`] in the site's state folder
//! ([`STATE_DIR`], beside the site's inputs, never in a published folder: it names every file of
//! the build, hosted kits included) together with the size and mtime of every file it wrote. A later build whose stamp matches and whose output
//! files are all still as written reports everything unchanged without loading or rendering.
//!
//! The walk only reads and hashes bytes: no YAML parsing. Anything unexpected (an unreadable
//! file, a missing stamp line, an unknown binary) means "not fresh" and a normal full build.

use crate::config::CONFIG_FILE;
use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

/// The stamp file in the state folder ([`STATE_DIR`]).
pub(crate) const STAMP: &str = "build-stamp";
/// The site's state folder, at the site root: bookkeeping that must not be published. It
/// ignores itself in git (a `.gitignore` of `*`).
pub(crate) const STATE_DIR: &str = crate::config::STATE_DIR;
pub(crate) use crate::output::LEGACY_STAMP;

/// The state folder of the site at `root`.
pub(crate) fn state_dir(root: &Path) -> PathBuf {
    root.join(STATE_DIR)
}
const HEADER: &str = "# partner-pages build stamp: a build with the same inputs and these files untouched is skipped.\n";
/// Input folders of a site, hashed recursively (with the content folder of the config).
const INPUT_DIRS: [&str; 2] = ["partners", "templates"];

/// The build options that change the output.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Key<'a> {
    pub root: &'a Path,
    pub out_dir: &'a Path,
    pub base_url: Option<&'a str>,
    pub llms_merge: Option<&'a Path>,
    /// Where the kits go and how they are hosted ([`crate::kits::StampKey`]).
    pub kits: &'a str,
}

/// Hash of everything but the llms host file (which the build itself rewrites): finish it with
/// [`finish`]. `None` when an input cannot be read or the binary cannot be identified.
pub(crate) fn inputs(key: &Key) -> Option<Sha256> {
    let mut h = Sha256::new();
    field(
        &mut h,
        b"partner-pages",
        env!("CARGO_PKG_VERSION").as_bytes(),
    );
    let exe = std::env::current_exe().ok()?;
    let meta = std::fs::metadata(&exe).ok()?;
    field(
        &mut h,
        b"exe",
        format!("{} {}", meta.len(), mtime(&meta)?).as_bytes(),
    );
    let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    field(&mut h, b"root", abs(key.root).to_string_lossy().as_bytes());
    field(
        &mut h,
        b"out",
        abs(key.out_dir).to_string_lossy().as_bytes(),
    );
    field(
        &mut h,
        b"base_url",
        option(key.base_url.map(str::as_bytes)).as_slice(),
    );
    let merge = key.llms_merge.map(|p| p.to_string_lossy().into_owned());
    field(
        &mut h,
        b"llms_merge",
        option(merge.as_deref().map(str::as_bytes)).as_slice(),
    );
    field(&mut h, b"kits", key.kits.as_bytes());
    file(&mut h, CONFIG_FILE, &key.root.join(CONFIG_FILE)).ok()?;
    let content = crate::config::peek(key.root).content_dir(key.root);
    for dir in INPUT_DIRS.iter().copied().chain([content.as_str()]) {
        let top = key.root.join(dir);
        field(&mut h, b"dir", dir.as_bytes());
        if !top.exists() {
            continue;
        }
        for entry in walkdir::WalkDir::new(&top)
            .follow_links(true)
            .sort_by_file_name()
        {
            let entry = entry.ok()?;
            let rel = entry.path().strip_prefix(key.root).ok()?.to_string_lossy();
            if entry.file_type().is_file() {
                file(&mut h, &rel, entry.path()).ok()?;
            } else {
                field(&mut h, b"entry", rel.as_bytes());
            }
        }
    }
    Some(h)
}

/// The stamp: the input hash plus the llms host file the build merged into (path and bytes).
pub(crate) fn finish(mut h: Sha256, llms_host: Option<&Path>) -> String {
    if let Some(host) = llms_host {
        let _ = file(&mut h, "llms host", host);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// What a fresh stamp says about the build it skips.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fresh {
    pub pages: usize,
    pub files: usize,
}

/// The stamp file in the state folder `out_dir` if it matches the inputs hashed in `h` and every file it lists
/// still has the size and mtime it had after that build.
pub(crate) fn fresh(out_dir: &Path, h: &Sha256) -> Option<Fresh> {
    let text = std::fs::read_to_string(out_dir.join(STAMP)).ok()?;
    let mut lines = text.lines().filter(|l| !l.starts_with('#'));
    let stamp = lines.next()?.strip_prefix("stamp ")?;
    let pages = lines.next()?.strip_prefix("pages ")?.parse().ok()?;
    let files = lines.next()?.strip_prefix("files ")?.parse().ok()?;
    let host = lines.next()?.strip_prefix("llms-host ")?;
    let host = (!host.is_empty()).then(|| PathBuf::from(host));
    if finish(h.clone(), host.as_deref()) != stamp {
        return None;
    }
    let mut listed = 0;
    for line in lines {
        let mut parts = line.splitn(3, ' ');
        let (size, time, path) = (parts.next()?, parts.next()?, parts.next()?);
        let meta = std::fs::metadata(path).ok()?;
        if !meta.is_file() || meta.len().to_string() != size || mtime(&meta)? != time {
            return None;
        }
        listed += 1;
    }
    (listed > files).then_some(Fresh { pages, files })
}

/// Record a successful build: `files` are the paths written (each output folder with its files;
/// the manifest of each folder is listed too). Written last, via a temporary name.
pub(crate) fn write(
    out_dir: &Path,
    stamp: &str,
    llms_host: Option<&Path>,
    pages: usize,
    outputs: &[(&Path, Vec<&str>)],
) -> Result<()> {
    let files: usize = outputs.iter().map(|(_, f)| f.len()).sum();
    let host = llms_host.map(|p| p.to_string_lossy().into_owned());
    let mut text = format!(
        "{HEADER}stamp {stamp}\npages {pages}\nfiles {files}\nllms-host {}\n",
        host.unwrap_or_default()
    );
    for (dir, names) in outputs {
        for name in names.iter().copied().chain([crate::output::MANIFEST]) {
            let path = dir.join(name);
            let meta = std::fs::metadata(&path)
                .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
            let Some(time) = mtime(&meta) else {
                return Ok(()); // no mtimes here: never claim freshness
            };
            text.push_str(&format!("{} {time} {}\n", meta.len(), path.display()));
        }
    }
    std::fs::create_dir_all(out_dir)
        .map_err(|e| Error::io(format!("cannot create {}", out_dir.display()), e))?;
    let ignore = out_dir.join(".gitignore");
    if !ignore.exists() {
        crate::output::write_atomic(&ignore, b"*\n")?;
    }
    crate::output::write_atomic(&out_dir.join(STAMP), text.as_bytes())
}

/// Remove the stamp of the state folder `out_dir` (before a full build writes anything).
pub(crate) fn remove(out_dir: &Path) -> Result<()> {
    remove_file(&out_dir.join(STAMP))
}

/// Remove the stamp an earlier version left in the static output folder `out_dir`.
pub(crate) fn remove_legacy(out_dir: &Path) -> Result<()> {
    remove_file(&out_dir.join(LEGACY_STAMP))
}

fn remove_file(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(Error::io(format!("cannot remove {}", path.display()), e))
        }
        _ => Ok(()),
    }
}

/// Length-prefixed, so that no two different inputs hash the same byte stream.
fn field(h: &mut Sha256, name: &[u8], value: &[u8]) {
    h.update((name.len() as u64).to_le_bytes());
    h.update(name);
    h.update((value.len() as u64).to_le_bytes());
    h.update(value);
}

fn option(v: Option<&[u8]>) -> Vec<u8> {
    v.map_or_else(|| b"-".to_vec(), |b| [b"+", b].concat())
}

/// A file by name and bytes; a missing file hashes as missing (it may be created later).
fn file(h: &mut Sha256, name: &str, path: &Path) -> std::io::Result<()> {
    match std::fs::read(path) {
        Ok(bytes) => field(h, name.as_bytes(), &option(Some(&bytes))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => field(h, name.as_bytes(), b"-"),
        Err(e) => return Err(e),
    }
    Ok(())
}

fn mtime(meta: &std::fs::Metadata) -> Option<String> {
    let d = meta.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
    Some(format!("{}.{:09}", d.as_secs(), d.subsec_nanos()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (p, b) in [
            ("partner-pages.yaml", "title: x\n"),
            ("partners/a.yaml", "code: a\n"),
            ("content/guide/intro.md", "# Intro\n"),
            ("templates/landing.html", "{{ x }}"),
        ] {
            let path = dir.path().join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, b).unwrap();
        }
        dir
    }

    fn stamp(root: &Path, base_url: Option<&str>) -> String {
        let out = root.join("public");
        let key = Key {
            root,
            out_dir: &out,
            base_url,
            llms_merge: None,
            kits: "",
        };
        finish(inputs(&key).unwrap(), None)
    }

    #[test]
    fn stamp_is_stable_and_follows_every_input() {
        let dir = site();
        let root = dir.path();
        let first = stamp(root, None);
        assert_eq!(first.len(), 64);
        assert_eq!(stamp(root, None), first, "same inputs, same stamp");
        assert_ne!(stamp(root, Some("https://x.example/")), first);

        let mut seen = vec![first.clone()];
        let edits: [(&str, Option<&str>); 5] = [
            ("partners/a.yaml", Some("code: b\n")),
            ("content/guide/new.md", Some("# New\n")),
            ("templates/landing.html", Some("{{ y }}")),
            ("partner-pages.yaml", Some("title: y\n")),
            ("content/guide/new.md", None),
        ];
        for (p, bytes) in edits {
            match bytes {
                Some(b) => std::fs::write(root.join(p), b).unwrap(),
                None => std::fs::remove_file(root.join(p)).unwrap(),
            }
            let s = stamp(root, None);
            assert!(!seen.contains(&s), "{p} did not change the stamp");
            seen.push(s);
        }
    }

    #[test]
    fn llms_host_bytes_are_part_of_the_stamp() {
        let dir = site();
        let host = dir.path().join("llms.txt");
        std::fs::write(&host, "# Host\n").unwrap();
        let h = inputs(&Key {
            root: dir.path(),
            out_dir: &dir.path().join("public"),
            base_url: None,
            llms_merge: None,
            kits: "",
        })
        .unwrap();
        let a = finish(h.clone(), Some(&host));
        std::fs::write(&host, "# Host edited\n").unwrap();
        assert_ne!(finish(h.clone(), Some(&host)), a);
        assert_ne!(finish(h, None), a);
    }

    #[test]
    fn fresh_needs_the_same_stamp_and_untouched_files() {
        let dir = site();
        let out = dir.path().join("public");
        std::fs::create_dir_all(&out).unwrap();
        std::fs::write(out.join("index.html"), "page").unwrap();
        std::fs::write(out.join(crate::output::MANIFEST), "index.html\n").unwrap();
        let key = Key {
            root: dir.path(),
            out_dir: &out,
            base_url: None,
            llms_merge: None,
            kits: "",
        };
        let h = inputs(&key).unwrap();
        let s = finish(h.clone(), None);
        write(&out, &s, None, 1, &[(&out, vec!["index.html"])]).unwrap();
        assert_eq!(fresh(&out, &h), Some(Fresh { pages: 1, files: 1 }));

        let other = inputs(&Key {
            base_url: Some("https://y.example/"),
            ..key
        })
        .unwrap();
        assert_eq!(fresh(&out, &other), None, "different inputs");

        std::fs::write(out.join("index.html"), "hand edit").unwrap();
        assert_eq!(fresh(&out, &h), None, "an output file was touched");

        remove(&out).unwrap();
        assert_eq!(fresh(&out, &h), None, "no stamp");
        remove(&out).unwrap();
    }
}
