//! Write stage: rendered files go to disk so that a failure or a kill never leaves a torn
//! output; unchanged files are left alone, stale files of ours are removed.
//!
//! Takes: an output folder ([`Folder::open`]) and its [`OutputFile`]s, handed over one by one
//! ([`Folder::put`], from any thread, while rendering goes on), then the sorted list of every
//! path of the build ([`Folder::commit`]). Gives: the files on disk and [`WriteStats`]. Each
//! folder keeps a manifest ([`MANIFEST`]) of the files we wrote, so a rebuild removes only our
//! own stale files (a removed partner's pages), never a host site's.
//!
//! The manifest sits in the folder it describes (it moves, is copied and is cached with it), and
//! that folder may be published: so it holds no path, only the SHA-256 of each path
//! ([`path_hash`]). A hosted kit's path holds a 128-bit secret token, which its hash does not
//! give back; a stale file is found by hashing the paths of the folder's files. Nothing relies
//! on `.assetsignore` or the web server to keep the manifest private.
//!
//! A folder is written one of two ways, chosen when it is opened:
//!
//! - **Fresh** (the folder is missing or empty, the first build): every file goes under its final
//!   name into a staging folder beside it (`.<name>.pp-staging-<pid>`), the manifest last; the
//!   commit renames the staging folder onto the folder, one rename for the whole site. Until
//!   then the folder itself is not touched. Where that rename cannot be done (the folder is a
//!   mount point), the staging folder's entries are moved in one by one, the manifest first, so
//!   that a later build knows every file as ours. A build that fails or is killed leaves only
//!   the staging folder, outside the output; the next build removes it (any
//!   `.<name>.pp-staging-<digits>` beside the folder), so it is never served or deployed.
//! - **Update** (the folder has content): each file is compared with what is on disk (size
//!   first, then bytes); a changed file is written to a temporary name beside its target
//!   (`.<name>.pp-tmp-<pid>`). The commit renames every temporary over its target, removes the
//!   files the previous manifest lists that this build no longer produces, and writes the new
//!   manifest. While temporaries exist, a marker file ([`WRITING`]) sits in the folder; a build
//!   killed before it finished leaves the marker, and the next build first removes every
//!   temporary of ours under the folder. Builds with nothing to write never create the marker.
//!
//! A [`Folder`] dropped without a commit (an error anywhere, in render or write) removes its
//! staging folder or its temporaries and the folders it created for them: the output is as it
//! was, byte for byte.
//!
//! Promise: against a crash of the process (kill -9, out of memory), every file is either its
//! previous or its new version, never torn. There is no fsync: after a power loss the latest
//! build's files may be empty or missing (the next build restores them; the output is derived
//! from the inputs), the same as other static site generators.

use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// One file of the build output, rendered in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFile {
    /// Path relative to the output root, `/`-separated, e.g. `p/seo-consultant/index.html`.
    pub path: String,
    /// The file's content.
    pub bytes: Vec<u8>,
}

impl OutputFile {
    /// A file at `path` (relative, `/`-separated) holding `bytes`.
    pub fn new(path: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        OutputFile {
            path: path.into(),
            bytes: bytes.into(),
        }
    }
}

/// The manifest file in each output folder: the hashes of the paths we wrote ([`path_hash`]),
/// one per line, sorted.
pub const MANIFEST: &str = ".partner-pages-manifest";
/// Where earlier versions kept the no-change stamp (in the static output); a full build
/// removes it.
pub(crate) const LEGACY_STAMP: &str = ".partner-pages-stamp";
/// Present while a build has temporaries in the folder; see the module doc.
pub const WRITING: &str = ".partner-pages-writing";
/// Part of the name of a temporary file, `.<name>.pp-tmp-<pid>`.
pub const TMP_MARK: &str = ".pp-tmp-";
/// Part of the name of a staging folder, `.<name>.pp-staging-<pid>`, beside the output folder.
pub const STAGING_MARK: &str = ".pp-staging-";
const MANIFEST_HEADER: &str = "# Files written by partner-pages, as SHA-256 hashes of their paths; it removes only these when they become stale.\n";

/// How a path is kept in a manifest: SHA-256 of `partner-pages manifest\0<path>`, hex. The
/// manifest of a published folder gives no path back (a hosted kit's token stays secret).
pub fn path_hash(path: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"partner-pages manifest\0");
    h.update(path.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// A manifest line that is a [`path_hash`] (64 lowercase hex digits).
fn is_hash(line: &str) -> bool {
    line.len() == 64 && line.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// One output folder and what should be in it (paths relative to it, sorted).
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The folder.
    pub dir: &'a Path,
    /// Its files, sorted by path.
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

impl std::ops::AddAssign for WriteStats {
    fn add_assign(&mut self, o: WriteStats) {
        self.written += o.written;
        self.unchanged += o.unchanged;
        self.removed += o.removed;
    }
}

/// A file to move into place at commit (update mode).
struct Pending {
    tmp: PathBuf,
    dest: PathBuf,
}

enum Mode {
    /// Files go under their final names into `staging`, renamed onto the folder at commit.
    Fresh { staging: PathBuf },
    /// Changed files go to temporaries beside their targets, renamed at commit.
    Update {
        /// The previous manifest: hashes of the paths ([`path_hash`]).
        old: BTreeSet<String>,
        pending: Mutex<Vec<Pending>>,
        /// The [`WRITING`] marker was created (under the lock, before the first temporary).
        marked: Mutex<bool>,
    },
}

/// An output folder being written: [`open`](Folder::open), [`put`](Folder::put) every file,
/// [`commit`](Folder::commit). Dropped without a commit, it removes what it staged.
pub struct Folder {
    dir: PathBuf,
    mode: Mode,
    dirs_made: Mutex<HashSet<PathBuf>>,
    /// Folders this build created in the folder (update mode): removed again when empty if
    /// the build is not committed.
    created: Mutex<Vec<PathBuf>>,
    written: AtomicUsize,
    unchanged: AtomicUsize,
    committed: bool,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Folder {
    /// Clean up after an interrupted build, read the manifest, pick the mode (module doc).
    pub fn open(dir: &Path) -> Result<Folder> {
        sweep_interrupted(dir)?;
        let staging = staging_place(dir);
        if let Some((parent, prefix)) = &staging {
            sweep_staging(parent, prefix)?;
        }
        let fresh = match std::fs::symlink_metadata(dir) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
            Ok(m) if m.is_dir() => std::fs::read_dir(dir).is_ok_and(|mut r| r.next().is_none()),
            _ => false,
        };
        if let (true, Some((parent, prefix))) = (fresh, staging) {
            let staging = parent.join(format!("{prefix}{}", std::process::id()));
            // A folder we cannot create beside the output (read-only parent): update mode,
            // which reports the output folder itself if that cannot be created either.
            if std::fs::create_dir_all(&parent).is_ok() && std::fs::create_dir(&staging).is_ok() {
                return Ok(Folder::new(dir, Mode::Fresh { staging }));
            }
        }
        let old = read_manifest(dir)?;
        std::fs::create_dir_all(dir).map_err(|e| {
            Error::io(
                format!("cannot create the output folder {}", dir.display()),
                e,
            )
        })?;
        Ok(Folder::new(
            dir,
            Mode::Update {
                old,
                pending: Mutex::new(Vec::new()),
                marked: Mutex::new(false),
            },
        ))
    }

    fn new(dir: &Path, mode: Mode) -> Folder {
        Folder {
            dir: dir.to_path_buf(),
            mode,
            dirs_made: Mutex::new(HashSet::new()),
            created: Mutex::new(Vec::new()),
            written: AtomicUsize::new(0),
            unchanged: AtomicUsize::new(0),
            committed: false,
        }
    }

    /// True when the folder was missing or empty and is written through a staging folder.
    pub fn is_fresh(&self) -> bool {
        matches!(self.mode, Mode::Fresh { .. })
    }

    /// Stage one file (any thread). Its path must be plain relative (checked by render).
    pub fn put(&self, f: &OutputFile) -> Result<()> {
        match &self.mode {
            Mode::Fresh { staging } => {
                let dest = staging.join(&f.path);
                self.make_parent(&dest, staging)?;
                std::fs::write(&dest, &f.bytes)
                    .map_err(|e| Error::io(format!("cannot write {}", dest.display()), e))?;
            }
            Mode::Update {
                old,
                pending,
                marked,
            } => {
                let dest = self.dir.join(&f.path);
                if !self.must_write(&dest, f, old)? {
                    self.unchanged.fetch_add(1, Ordering::Relaxed);
                    return Ok(());
                }
                self.make_parent(&dest, &self.dir)?;
                {
                    let mut marked = lock(marked);
                    if !*marked {
                        let marker = self.dir.join(WRITING);
                        std::fs::write(&marker, "").map_err(|e| {
                            Error::io(format!("cannot write {}", marker.display()), e)
                        })?;
                        *marked = true;
                    }
                }
                let tmp = tmp_path(&dest);
                // Listed before it exists: a failed write is removed with the others.
                lock(pending).push(Pending {
                    tmp: tmp.clone(),
                    dest,
                });
                std::fs::write(&tmp, &f.bytes)
                    .map_err(|e| Error::io(format!("cannot write {}", tmp.display()), e))?;
            }
        }
        self.written.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Update mode: false when `dest` already holds these bytes; an error when something that
    /// is not ours is in the way.
    fn must_write(&self, dest: &Path, f: &OutputFile, old: &BTreeSet<String>) -> Result<bool> {
        match std::fs::symlink_metadata(dest) {
            Ok(m) if m.is_file() => {
                if m.len() == f.bytes.len() as u64
                    && std::fs::read(dest).is_ok_and(|b| b == f.bytes)
                {
                    return Ok(false);
                }
                if !old.contains(&path_hash(&f.path)) {
                    return Err(not_ours(dest));
                }
                Ok(true)
            }
            Ok(_) => Err(in_the_way(dest)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
            Err(e) => Err(Error::io(format!("cannot read {}", dest.display()), e)),
        }
    }

    fn make_parent(&self, dest: &Path, root: &Path) -> Result<()> {
        let parent = dest.parent().unwrap_or(root);
        if parent == root || lock(&self.dirs_made).contains(parent) {
            return Ok(());
        }
        // The folders about to be created, so an uncommitted build can remove them again.
        let mut missing = Vec::new();
        let mut d = Some(parent);
        while let Some(p) = d.filter(|p| *p != root && std::fs::symlink_metadata(p).is_err()) {
            missing.push(p.to_path_buf());
            d = p.parent();
        }
        lock(&self.created).extend(missing);
        std::fs::create_dir_all(parent)
            .map_err(|e| Error::io(format!("cannot create {}", parent.display()), e))?;
        lock(&self.dirs_made).insert(parent.to_path_buf());
        Ok(())
    }

    /// Put everything in place: `paths` are every file of this build for this folder, sorted
    /// (those [`put`](Folder::put) and those found unchanged).
    pub fn commit(mut self, paths: &[&str]) -> Result<WriteStats> {
        let mut stats = WriteStats {
            written: self.written.load(Ordering::Relaxed),
            unchanged: self.unchanged.load(Ordering::Relaxed),
            removed: 0,
        };
        match &self.mode {
            Mode::Fresh { staging } => {
                write_manifest(staging, paths)?;
                if std::fs::rename(staging, &self.dir).is_err() {
                    move_entries(staging, &self.dir)?;
                }
            }
            Mode::Update { old, pending, .. } => {
                let pending = std::mem::take(&mut *lock(pending));
                for (i, p) in pending.iter().enumerate() {
                    if let Err(e) = std::fs::rename(&p.tmp, &p.dest) {
                        discard(&pending[i..]);
                        return Err(Error::io(
                            format!("cannot move {} into place", p.dest.display()),
                            e,
                        ));
                    }
                }
                let now: HashSet<String> = paths.iter().map(|p| path_hash(p)).collect();
                let stale: HashSet<&String> = old.iter().filter(|h| !now.contains(*h)).collect();
                for path in files_hashed_in(&self.dir, &stale) {
                    match std::fs::remove_file(&path) {
                        Ok(()) => {
                            stats.removed += 1;
                            remove_empty_parents(&self.dir, &path);
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
                write_manifest(&self.dir, paths)?;
                let marker = self.dir.join(WRITING);
                match std::fs::remove_file(&marker) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(Error::io(format!("cannot remove {}", marker.display()), e))
                    }
                    _ => {}
                }
            }
        }
        self.committed = true;
        Ok(stats)
    }
}

impl Drop for Folder {
    /// Not committed: remove what was staged, so the output is as it was.
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        match &self.mode {
            Mode::Fresh { staging } => {
                let _ = std::fs::remove_dir_all(staging);
            }
            Mode::Update {
                pending, marked, ..
            } => {
                discard(&lock(pending));
                if *lock(marked) {
                    let _ = std::fs::remove_file(self.dir.join(WRITING));
                }
                // Deepest first; a folder someone else filled meanwhile stays.
                let mut created = std::mem::take(&mut *lock(&self.created));
                created.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
                for d in created {
                    let _ = std::fs::remove_dir(d);
                }
            }
        }
    }
}

/// Write every target; see the module doc for the order that keeps failures harmless.
pub fn write(targets: &[Target]) -> Result<WriteStats> {
    write_with(targets, || Ok(()))
}

/// [`write()`], calling `before_moves` once every file is staged, before the first one is moved
/// into place (the build removes its stamp there: nothing is touched if staging fails).
pub fn write_with(
    targets: &[Target],
    before_moves: impl FnOnce() -> Result<()>,
) -> Result<WriteStats> {
    let mut folders = Vec::with_capacity(targets.len());
    for t in targets {
        let folder = Folder::open(t.dir)?;
        for f in t.files {
            folder.put(f)?;
        }
        folders.push(folder);
    }
    before_moves()?;
    let mut stats = WriteStats::default();
    for (folder, t) in folders.into_iter().zip(targets) {
        let paths: Vec<&str> = t.files.iter().map(|f| f.path.as_str()).collect();
        stats += folder.commit(&paths)?;
    }
    Ok(stats)
}

/// Where the staging folder of `dir` goes: its parent, and the name without the pid.
fn staging_place(dir: &Path) -> Option<(PathBuf, String)> {
    let name = dir.file_name()?.to_string_lossy().into_owned();
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Some((parent, format!(".{name}{STAGING_MARK}")))
}

/// `<prefix><digits>`: a staging folder or temporary of ours.
fn is_ours(name: &str, prefix: &str) -> bool {
    name.strip_prefix(prefix)
        .is_some_and(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
}

/// Remove the staging folders a failed or killed build left beside the output folder.
fn sweep_staging(parent: &Path, prefix: &str) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return Ok(());
    };
    for entry in entries.filter_map(|e| e.ok()) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_ours(&name, prefix) && entry.file_type().is_ok_and(|t| t.is_dir()) {
            std::fs::remove_dir_all(entry.path()).map_err(|e| {
                Error::io(
                    format!(
                        "cannot remove {}, left by an interrupted build",
                        entry.path().display()
                    ),
                    e,
                )
            })?;
        }
    }
    Ok(())
}

/// The one-rename commit failed (a mount point, another file system): move the entries of
/// `staging` into `dir` one by one, the manifest first, then remove `staging`.
fn move_entries(staging: &Path, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| {
        Error::io(
            format!("cannot create the output folder {}", dir.display()),
            e,
        )
    })?;
    let mut names: Vec<_> = std::fs::read_dir(staging)
        .and_then(|r| r.map(|e| e.map(|e| e.file_name())).collect())
        .map_err(|e| Error::io(format!("cannot read {}", staging.display()), e))?;
    names.sort_by_key(|n| (n != MANIFEST, n.clone()));
    for name in names {
        let (from, to) = (staging.join(&name), dir.join(&name));
        if std::fs::symlink_metadata(&to).is_ok() {
            return Err(Error::user(format!(
                "{} appeared while the build was running; nothing of this build was moved over it",
                to.display()
            )));
        }
        std::fs::rename(&from, &to)
            .map_err(|e| Error::io(format!("cannot move {} into place", to.display()), e))?;
    }
    std::fs::remove_dir(staging)
        .map_err(|e| Error::io(format!("cannot remove {}", staging.display()), e))
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

/// The files under `dir` (not following links) whose
/// relative path hashes to one of `stale`. Walks only when there is something stale.
fn files_hashed_in(dir: &Path, stale: &HashSet<&String>) -> Vec<PathBuf> {
    if stale.is_empty() {
        return Vec::new();
    }
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .filter_map(|e| {
            let rel = e.path().strip_prefix(dir).ok()?;
            let rel: Vec<_> = rel.components().map(|c| c.as_os_str().to_str()).collect();
            let rel = rel.into_iter().collect::<Option<Vec<_>>>()?.join("/");
            stale
                .contains(&path_hash(&rel))
                .then(|| e.path().to_path_buf())
        })
        .collect()
}

/// A file of the output folder that partner-pages did not write and a build would replace.
fn not_ours(dest: &Path) -> Error {
    Error::user_hint(
        format!(
            "{} exists and was not written by partner-pages; refusing to overwrite it",
            dest.display()
        ),
        "move it away, or build into a sub-folder of the host site (another output folder)",
    )
}

/// Something other than a file where a build writes a file.
fn in_the_way(dest: &Path) -> Error {
    Error::user_hint(
        format!(
            "cannot write {}: something other than a file is in the way",
            dest.display()
        ),
        "remove it, or build into another output folder",
    )
}

/// What a build into `dir` would refuse, checked without writing (for `check`): the same
/// error as [`Folder::put`] for a file in the way that partner-pages did not write.
pub(crate) struct DryRun {
    dir: PathBuf,
    old: BTreeSet<String>,
}

impl DryRun {
    /// The folder's record of what partner-pages wrote there.
    pub(crate) fn open(dir: &Path) -> Result<DryRun> {
        Ok(DryRun {
            dir: dir.to_path_buf(),
            old: read_manifest(dir)?,
        })
    }

    /// The error a build gives for `f`, if any.
    pub(crate) fn check(&self, f: &OutputFile) -> Result<()> {
        let dest = self.dir.join(&f.path);
        match std::fs::symlink_metadata(&dest) {
            Ok(m) if m.is_file() => {
                let same = m.len() == f.bytes.len() as u64
                    && std::fs::read(&dest).is_ok_and(|b| b == f.bytes);
                if same || self.old.contains(&path_hash(&f.path)) {
                    Ok(())
                } else {
                    Err(not_ours(&dest))
                }
            }
            Ok(_) => Err(in_the_way(&dest)),
            Err(_) => Ok(()),
        }
    }
}

/// Hashes of the previous manifest ([`path_hash`]). A line that is a path (a manifest of an
/// earlier version) is hashed; lines that are not plain relative paths are ignored, and a
/// stale file is only ever looked for under the folder, so a tampered manifest cannot make us
/// delete outside it.
fn read_manifest(dir: &Path) -> Result<BTreeSet<String>> {
    let path = dir.join(MANIFEST);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        // No folder yet (or a file where it should be: `open` then reports the folder).
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
        .filter(|l| !l.starts_with('#') && *l != MANIFEST)
        .filter_map(|l| {
            if is_hash(l) {
                Some(l.to_owned())
            } else {
                is_plain_relative(l).then(|| path_hash(l))
            }
        })
        .collect())
}

fn write_manifest(dir: &Path, paths: &[&str]) -> Result<()> {
    let mut text = String::with_capacity(MANIFEST_HEADER.len() + paths.len() * 65);
    text.push_str(MANIFEST_HEADER);
    let mut hashes: Vec<String> = paths.iter().map(|p| path_hash(p)).collect();
    hashes.sort();
    for h in hashes {
        text.push_str(&h);
        text.push('\n');
    }
    let path = dir.join(MANIFEST);
    if std::fs::read(&path).is_ok_and(|b| b == text.as_bytes()) {
        return Ok(());
    }
    write_atomic(&path, text.as_bytes())
}

/// The temporary name of `dest` while it is written: `.<name>.pp-tmp-<pid>` beside it.
fn tmp_path(dest: &Path) -> PathBuf {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    dest.with_file_name(format!(".{name}{TMP_MARK}{}", std::process::id()))
}

/// Write one file whole or not at all: the bytes go to a temporary name beside `path` (see
/// [`TMP_MARK`]), which is then renamed over it; on failure the temporary is removed and `path`
/// keeps what it had. For the single files outside a build's output set (the manifest, the
/// build stamp, `report --out`, calendar task files).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = tmp_path(path);
    std::fs::write(&tmp, bytes)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            Error::io(format!("cannot write {}", path.display()), e)
        })
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
mod tests;
