//! Write stage: rendered files go to disk atomically (temp name + rename), unchanged files are
//! left alone, stale files of ours are removed.
//!
//! Takes: output folders and the [`OutputFile`]s for each. Gives: the files on disk and
//! [`WriteStats`]. Each folder keeps a manifest ([`MANIFEST`]) of the files we wrote, so a
//! rebuild removes only our own stale files (a removed partner's pages), never a host site's.
//!
//! Order of work, so that a failure leaves the previous output as it was:
//! 1. compare every file with what is on disk (size first, then bytes); write each changed file
//!    to a temporary name beside its target. Any error: the temporaries are removed, done.
//! 2. rename every temporary over its target;
//! 3. remove the files the previous manifest lists that this build no longer produces;
//! 4. write the new manifest.
//!
//! While temporaries exist, a marker file ([`WRITING`]) sits in the folder. A build killed
//! before it finished (kill -9, power loss) leaves the marker; the next build then first removes
//! every temporary of ours (`.<name>.pp-tmp-<pid>`) under the folder. Builds with nothing to
//! write never create the marker, so a no-change rebuild costs no extra walk.

use crate::error::{Error, Result};
use crate::render::OutputFile;
use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

/// The manifest file in each output folder: the paths we wrote, one per line, sorted.
pub const MANIFEST: &str = ".partner-pages-manifest";
/// Present while a build has temporaries in the folder; see the module doc.
pub const WRITING: &str = ".partner-pages-writing";
const TMP_MARK: &str = ".pp-tmp-";
const MANIFEST_HEADER: &str =
    "# Files written by partner-pages; it removes only these when they become stale.\n";

/// One output folder and what should be in it (paths relative to it, sorted).
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub dir: &'a Path,
    pub files: &'a [OutputFile],
}

/// What a write did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteStats {
    /// Files created or replaced.
    pub written: usize,
    /// Files whose bytes were already right (left untouched, mtime kept).
    pub unchanged: usize,
    /// Stale files of a previous build removed.
    pub removed: usize,
}

/// A file to move into place in step 2.
struct Pending {
    tmp: PathBuf,
    dest: PathBuf,
}

/// Write every target; see the module doc for the order that keeps failures harmless.
pub fn write(targets: &[Target]) -> Result<WriteStats> {
    write_with(targets, || Ok(()))
}

/// [`write`], calling `before_moves` once every file is staged, before the first one is moved
/// into place (the build removes its stamp there: nothing is touched if staging fails).
pub fn write_with(
    targets: &[Target],
    before_moves: impl FnOnce() -> Result<()>,
) -> Result<WriteStats> {
    let mut stats = WriteStats::default();
    let mut pending = Vec::new();
    let mut previous = Vec::with_capacity(targets.len());
    let staged = (|| -> Result<()> {
        for t in targets {
            sweep_interrupted(t.dir)?;
            let old = read_manifest(t.dir)?;
            stage(t, &old, &mut pending, &mut stats)?;
            previous.push(old);
        }
        Ok(())
    })();
    if let Err(e) = staged.and_then(|()| before_moves()) {
        discard(&pending);
        for t in targets {
            let _ = std::fs::remove_file(t.dir.join(WRITING));
        }
        return Err(e);
    }

    for (i, p) in pending.iter().enumerate() {
        if let Err(e) = std::fs::rename(&p.tmp, &p.dest) {
            discard(&pending[i..]);
            return Err(Error::io(
                format!("cannot move {} into place", p.dest.display()),
                e,
            ));
        }
    }

    for (t, old) in targets.iter().zip(&previous) {
        let now: HashSet<&str> = t.files.iter().map(|f| f.path.as_str()).collect();
        for stale in old.iter().filter(|p| !now.contains(p.as_str())) {
            let path = t.dir.join(stale);
            match std::fs::remove_file(&path) {
                Ok(()) => {
                    stats.removed += 1;
                    remove_empty_parents(t.dir, &path);
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(Error::io(
                        format!("cannot remove stale {}", path.display()),
                        e,
                    ))
                }
            }
        }
        write_manifest(t)?;
        match std::fs::remove_file(t.dir.join(WRITING)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(Error::io(
                    format!("cannot remove {}", t.dir.join(WRITING).display()),
                    e,
                ))
            }
            _ => {}
        }
    }
    Ok(stats)
}

/// Step 1 for one folder: compare, and write changed files to temporary names.
fn stage(
    t: &Target,
    old: &BTreeSet<String>,
    pending: &mut Vec<Pending>,
    stats: &mut WriteStats,
) -> Result<()> {
    std::fs::create_dir_all(t.dir).map_err(|e| {
        Error::io(
            format!("cannot create the output folder {}", t.dir.display()),
            e,
        )
    })?;
    let mut dirs_made: HashSet<PathBuf> = HashSet::new();
    let mut marked = false;
    for f in t.files {
        let dest = t.dir.join(&f.path);
        match std::fs::symlink_metadata(&dest) {
            Ok(m) if m.is_file() => {
                if m.len() == f.bytes.len() as u64
                    && std::fs::read(&dest).is_ok_and(|b| b == f.bytes)
                {
                    stats.unchanged += 1;
                    continue;
                }
                if !old.contains(&f.path) {
                    return Err(Error::user_hint(
                        format!(
                            "{} exists and was not written by partner-pages; refusing to overwrite it",
                            dest.display()
                        ),
                        "move it away, or build into a sub-folder of the host site with --out",
                    ));
                }
            }
            Ok(_) => {
                return Err(Error::user_hint(
                    format!(
                        "cannot write {}: something other than a file is in the way",
                        dest.display()
                    ),
                    "remove it, or build into another folder with --out",
                ))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(format!("cannot read {}", dest.display()), e)),
        }
        let parent = dest.parent().unwrap_or(t.dir).to_path_buf();
        if !dirs_made.contains(&parent) {
            std::fs::create_dir_all(&parent)
                .map_err(|e| Error::io(format!("cannot create {}", parent.display()), e))?;
            dirs_made.insert(parent.clone());
        }
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !marked {
            let marker = t.dir.join(WRITING);
            std::fs::write(&marker, "")
                .map_err(|e| Error::io(format!("cannot write {}", marker.display()), e))?;
            marked = true;
        }
        let tmp = parent.join(format!(".{name}{TMP_MARK}{}", std::process::id()));
        std::fs::write(&tmp, &f.bytes)
            .map_err(|e| Error::io(format!("cannot write {}", tmp.display()), e))?;
        pending.push(Pending { tmp, dest });
        stats.written += 1;
    }
    Ok(())
}

/// A previous build was killed with temporaries in `dir` (its marker is there): remove every
/// temporary of ours under `dir`, then the marker.
fn sweep_interrupted(dir: &Path) -> Result<()> {
    let marker = dir.join(WRITING);
    if !marker.is_file() {
        return Ok(());
    }
    for entry in walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(|e| e.ok())
    {
        let name = entry.file_name().to_string_lossy();
        let ours = name.starts_with('.')
            && name
                .rsplit_once(TMP_MARK)
                .is_some_and(|(_, pid)| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()));
        if ours && entry.file_type().is_file() {
            std::fs::remove_file(entry.path())
                .map_err(|e| Error::io(format!("cannot remove {}", entry.path().display()), e))?;
        }
    }
    std::fs::remove_file(&marker)
        .map_err(|e| Error::io(format!("cannot remove {}", marker.display()), e))
}

fn discard(pending: &[Pending]) {
    for p in pending {
        let _ = std::fs::remove_file(&p.tmp);
    }
}

/// Paths of the previous manifest; lines that are not plain relative paths are ignored, so a
/// tampered manifest cannot make us delete outside the folder.
fn read_manifest(dir: &Path) -> Result<BTreeSet<String>> {
    let path = dir.join(MANIFEST);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        // No folder yet (or a file where it should be: `stage` then reports the folder).
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            return Ok(BTreeSet::new())
        }
        Err(e) => return Err(Error::io(format!("cannot read {}", path.display()), e)),
    };
    Ok(text
        .lines()
        .filter(|l| !l.starts_with('#') && is_plain_relative(l) && *l != MANIFEST)
        .map(str::to_owned)
        .collect())
}

fn write_manifest(t: &Target) -> Result<()> {
    let mut text = String::from(MANIFEST_HEADER);
    for f in t.files {
        text.push_str(&f.path);
        text.push('\n');
    }
    let path = t.dir.join(MANIFEST);
    if std::fs::read(&path).is_ok_and(|b| b == text.as_bytes()) {
        return Ok(());
    }
    let tmp = t
        .dir
        .join(format!("{MANIFEST}.pp-tmp-{}", std::process::id()));
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))
}

/// `a/b.html`: no leading `/`, no `.`/`..`/empty segments, no backslashes.
pub fn is_plain_relative(p: &str) -> bool {
    !p.is_empty()
        && !p.starts_with('/')
        && !p.contains('\\')
        && p.split('/').all(|s| !s.is_empty() && s != "." && s != "..")
}

/// Remove the folders a removed file leaves empty, up to (not including) `root`.
fn remove_empty_parents(root: &Path, file: &Path) {
    let mut dir = file.parent();
    while let Some(d) = dir {
        if d == root || !d.starts_with(root) || std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[(&str, &str)]) -> Vec<OutputFile> {
        list.iter()
            .map(|(p, b)| OutputFile::new(*p, b.as_bytes()))
            .collect()
    }

    #[test]
    fn rewrite_skips_same_bytes_and_removes_only_our_stale_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("host.html"), "host").unwrap();
        let first = files(&[("a/index.html", "A"), ("b/index.html", "B")]);
        let s = write(&[Target {
            dir: dir.path(),
            files: &first,
        }])
        .unwrap();
        assert_eq!(
            s,
            WriteStats {
                written: 2,
                unchanged: 0,
                removed: 0
            }
        );

        let second = files(&[("a/index.html", "A2")]);
        let s = write(&[Target {
            dir: dir.path(),
            files: &second,
        }])
        .unwrap();
        assert_eq!(
            s,
            WriteStats {
                written: 1,
                unchanged: 0,
                removed: 1
            }
        );
        assert!(
            !dir.path().join("b").exists(),
            "empty folder of a stale file is removed"
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("host.html")).unwrap(),
            "host"
        );

        let s = write(&[Target {
            dir: dir.path(),
            files: &second,
        }])
        .unwrap();
        assert_eq!(
            s,
            WriteStats {
                written: 0,
                unchanged: 1,
                removed: 0
            }
        );
    }

    #[test]
    fn a_host_file_in_the_way_is_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), "host page").unwrap();
        let ours = files(&[("index.html", "ours"), ("p/x.html", "x")]);
        let err = write(&[Target {
            dir: dir.path(),
            files: &ours,
        }])
        .unwrap_err();
        assert!(
            err.to_string().contains("not written by partner-pages"),
            "{err}"
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("index.html")).unwrap(),
            "host page"
        );
        assert!(!dir.path().join("p/x.html").exists());
        let leftovers: Vec<_> = walkdir::WalkDir::new(dir.path())
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().contains("pp-tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn manifest_lines_escaping_the_folder_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(MANIFEST),
            "../outside.html\n/etc/passwd\na/../../x\nok.html\n",
        )
        .unwrap();
        let got = read_manifest(dir.path()).unwrap();
        assert_eq!(
            got.into_iter().collect::<Vec<_>>(),
            vec!["ok.html".to_string()]
        );
    }
}
