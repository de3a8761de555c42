//! Write stage: render results go to disk atomically (temp name + rename), unchanged files are left alone, stale files of ours are removed.
