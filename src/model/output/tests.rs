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
        vec![path_hash("ok.html")]
    );
}

#[test]
fn a_missing_folder_appears_whole_at_commit_and_not_before() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("public");
    let ours = files(&[("a/index.html", "A"), ("b.html", "B")]);
    let folder = Folder::open(&out).unwrap();
    assert!(folder.is_fresh());
    for f in &ours {
        folder.put(f).unwrap();
    }
    assert!(!out.exists(), "nothing in the output before the commit");
    let s = folder.commit(&["a/index.html", "b.html"]).unwrap();
    assert_eq!(s.written, 2);
    assert_eq!(
        std::fs::read_to_string(out.join("a/index.html")).unwrap(),
        "A"
    );
    let mut want = vec![path_hash("a/index.html"), path_hash("b.html")];
    want.sort();
    assert_eq!(
        read_manifest(&out).unwrap().into_iter().collect::<Vec<_>>(),
        want
    );
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("public")]);
}

#[test]
fn a_folder_dropped_without_commit_leaves_no_trace() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let folder = Folder::open(&empty).unwrap();
    assert!(folder.is_fresh(), "an empty folder is staged too");
    folder.put(&OutputFile::new("x/y.html", "y")).unwrap();
    drop(folder);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("empty")]);
    assert_eq!(std::fs::read_dir(&empty).unwrap().count(), 0);

    // Update mode: temporaries and the marker go too.
    std::fs::write(empty.join("host.html"), "host").unwrap();
    let folder = Folder::open(&empty).unwrap();
    assert!(!folder.is_fresh());
    folder.put(&OutputFile::new("x/y.html", "y")).unwrap();
    assert!(empty.join(WRITING).exists());
    drop(folder);
    let left: Vec<_> = walkdir::WalkDir::new(&empty)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, vec!["host.html".to_string()]);
}

#[test]
fn the_manifest_holds_no_path_and_still_removes_stale_files() {
    let dir = tempfile::tempdir().unwrap();
    let token = "0123456789abcdef0123456789abcdef";
    let kit = format!("kits/{token}/index.html");
    let first = files(&[("index.html", "I"), (kit.as_str(), "K")]);
    write(&[Target {
        dir: dir.path(),
        files: &first,
    }])
    .unwrap();
    let manifest = std::fs::read_to_string(dir.path().join(MANIFEST)).unwrap();
    assert!(!manifest.contains(token), "{manifest}");
    assert!(!manifest.contains("index.html"), "{manifest}");
    // The kit moves (a rotated secret): the old one is found by its hash and removed.
    let second = files(&[("index.html", "I"), ("kits/ffff/index.html", "K")]);
    let s = write(&[Target {
        dir: dir.path(),
        files: &second,
    }])
    .unwrap();
    assert_eq!(s.removed, 1);
    assert!(!dir.path().join("kits").join(token).exists());
    assert!(dir.path().join("kits/ffff/index.html").is_file());
    // A manifest of an earlier version (plain paths) is still understood.
    std::fs::write(
        dir.path().join(MANIFEST),
        "index.html\nkits/ffff/index.html\n",
    )
    .unwrap();
    let s = write(&[Target {
        dir: dir.path(),
        files: &files(&[("index.html", "I")]),
    }])
    .unwrap();
    assert_eq!((s.unchanged, s.removed), (1, 1));
}

#[test]
fn an_uncommitted_update_removes_the_folders_it_created() {
    let dir = tempfile::tempdir().unwrap();
    write(&[Target {
        dir: dir.path(),
        files: &files(&[("index.html", "I")]),
    }])
    .unwrap();
    let before: Vec<_> = walkdir::WalkDir::new(dir.path())
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.unwrap().path().to_path_buf())
        .collect();
    let folder = Folder::open(dir.path()).unwrap();
    assert!(!folder.is_fresh());
    folder
        .put(&OutputFile::new("kits/abc/deep/index.html", "K"))
        .unwrap();
    assert!(dir.path().join("kits/abc/deep").is_dir());
    drop(folder);
    let after: Vec<_> = walkdir::WalkDir::new(dir.path())
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.unwrap().path().to_path_buf())
        .collect();
    assert_eq!(before, after);
}
