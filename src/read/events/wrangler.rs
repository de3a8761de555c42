//! Read stage, wrangler: find a D1 database's local state from its name, and pull a remote
//! D1 into a local cache file page by page.
//!
//! Takes: a database name and the site root. Gives: the path of a SQLite file to read.
//!
//! Local state (wrangler 3/4, miniflare): `<dir>/.wrangler/state/v3/d1/miniflare-D1DatabaseObject/
//! <hash>.sqlite`, where `<hash>` is miniflare's durable-object id of the database id
//! (`preview_database_id`, else `database_id`, else the binding) from the `[[d1_databases]]` entry
//! of `wrangler.toml` whose `database_name` matches.
//!
//! Remote (`d1:<name>`): D1 stops a query at 30 s and the free plan reads 5 million rows a day,
//! so the pull never runs one big query: per partner code it asks for the next [`PAGE_ROWS`]
//! rows after the last `(created_at, id)` already cached — a range on the
//! `(partner_code, created_at)` index, so each page reads about as many rows as it returns.

use super::{Row, ScanOptions, TABLE};
use crate::error::{Error, Result};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

const STATE_DIR: &str = ".wrangler/state/v3/d1/miniflare-D1DatabaseObject";
/// The same layout under a `wrangler ... --persist-to <dir>` folder.
const PERSIST_DIR: &str = "v3/d1/miniflare-D1DatabaseObject";
const UNIQUE_KEY: &str = "miniflare-D1DatabaseObject";
/// Rows per remote page: small enough for wrangler's JSON and D1's 30 s limit.
pub const PAGE_ROWS: usize = 5000;

/// miniflare's `durableObjectNamespaceIdFromName(uniqueKey, name)`: the local file name.
pub fn local_object_id(name: &str) -> String {
    let key = Sha256::digest(UNIQUE_KEY.as_bytes());
    let mut mac = <Hmac<Sha256>>::new_from_slice(&key).expect("HMAC takes any key length");
    mac.update(name.as_bytes());
    let name_hmac = mac.finalize().into_bytes();
    let mut mac = <Hmac<Sha256>>::new_from_slice(&key).expect("HMAC takes any key length");
    mac.update(&name_hmac[..16]);
    let check = mac.finalize().into_bytes();
    let mut out = String::with_capacity(64);
    for b in name_hmac[..16].iter().chain(&check[..16]) {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// One `[[d1_databases]]` entry of a wrangler.toml (other keys are ignored).
#[derive(Debug, Default, Clone, PartialEq, serde::Deserialize)]
struct D1Entry {
    binding: Option<String>,
    database_name: Option<String>,
    database_id: Option<String>,
    preview_database_id: Option<String>,
}

/// The parts of a wrangler.toml this reader needs.
#[derive(Debug, Default, serde::Deserialize)]
struct WranglerToml {
    #[serde(default)]
    d1_databases: Vec<D1Entry>,
}

/// The `[[d1_databases]]` entries of a wrangler.toml; none when it is not valid TOML (the
/// database is then looked up by its name alone, as when there is no wrangler.toml).
fn d1_entries(toml: &str) -> Vec<D1Entry> {
    toml::from_str::<WranglerToml>(toml)
        .map(|w| w.d1_databases)
        .unwrap_or_default()
}

/// Folders that may hold a `.wrangler` state: the generated `collector/`, the site root, cwd.
fn candidate_dirs(root: &Path) -> Vec<PathBuf> {
    let mut v = vec![root.join("collector"), root.to_path_buf()];
    if let Ok(cwd) = std::env::current_dir() {
        v.push(cwd.join("collector"));
        v.push(cwd);
    }
    v.dedup();
    v
}

/// Find the local D1 file of database `name` (as in `wrangler d1 execute <name> --local`).
/// `Ok(None)` when no `.wrangler` state mentions it.
pub fn find_local_by_name(root: &Path, name: &str) -> Result<Option<PathBuf>> {
    for dir in candidate_dirs(root) {
        let state = dir.join(STATE_DIR);
        if !state.is_dir() {
            continue;
        }
        let mut ids = vec![name.to_string()];
        for cfg in ["wrangler.toml"] {
            if let Ok(text) = std::fs::read_to_string(dir.join(cfg)) {
                for e in d1_entries(&text) {
                    if e.database_name.as_deref() == Some(name)
                        || e.binding.as_deref() == Some(name)
                    {
                        if let Some(id) = e.preview_database_id.or(e.database_id).or(e.binding) {
                            ids.insert(0, id);
                        }
                    }
                }
            }
        }
        for id in ids {
            let file = state.join(format!("{}.sqlite", local_object_id(&id)));
            if file.is_file() {
                return Ok(Some(file));
            }
        }
    }
    Ok(None)
}

/// A folder given as `--events`: a collector folder with `.wrangler` state, or the state
/// folder itself. Exactly one database file must be there (else name it).
pub fn find_local_in_dir(dir: &Path, _name: Option<&str>) -> Result<PathBuf> {
    // `.wrangler/state/...` under a collector folder, `v3/d1/...` under a `--persist-to` folder,
    // or the state folder itself.
    let state = [
        dir.join(STATE_DIR),
        dir.join(PERSIST_DIR),
        dir.to_path_buf(),
    ]
    .into_iter()
    .find(|d| d.is_dir() && list_sqlite(d).next().is_some());
    let Some(state) = state else {
        return Err(Error::user_hint(
            format!("{}: a folder without wrangler D1 state", dir.display()),
            format!(
                "expected {STATE_DIR}/<hash>.sqlite inside it (run the Worker with `wrangler dev` \
                     or `wrangler d1 execute --local` first), or pass the database name or a file"
            ),
        ));
    };
    let files: Vec<PathBuf> = list_sqlite(&state).collect();
    match files.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(Error::user_hint(
            format!("{}: {} local D1 databases, cannot tell which one to read", state.display(), files.len()),
            "pass the database name (`--events partner-events`, as in wrangler.toml) or one of the .sqlite files",
        )),
    }
}

fn list_sqlite(dir: &Path) -> impl Iterator<Item = PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|x| x == "sqlite")
                && p.file_stem().is_some_and(|s| s != "metadata")
        })
        .collect();
    v.sort();
    v.into_iter()
}

/// Where the local cache of remote database `name` lives.
pub fn remote_cache_path(root: &Path, name: &str) -> PathBuf {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    root.join(".partner-pages")
        .join("cache")
        .join(format!("d1-{safe}.sqlite"))
}

/// Every local cache of a remote D1 under `root` (the files [`remote_cache_path`] names),
/// sorted: `forget` deletes a person's rows from them too.
pub fn local_caches(root: &Path) -> Vec<PathBuf> {
    let dir = root.join(".partner-pages").join("cache");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("d1-") && n.ends_with(".sqlite"))
                && p.is_file()
        })
        .collect();
    v.sort();
    v
}

/// Runs a command and gives its stdout. The real one runs `npx wrangler`; tests give canned
/// answers (there is no remote D1 here).
pub trait CommandRunner {
    /// Run `program` with `args` in `dir`; its stdout, or an error naming what failed.
    fn run(&self, program: &str, args: &[String], dir: &Path) -> Result<Vec<u8>>;
}

/// Runs the command for real, in the folder holding wrangler.toml.
pub struct SystemRunner;

impl CommandRunner for SystemRunner {
    fn run(&self, program: &str, args: &[String], dir: &Path) -> Result<Vec<u8>> {
        let out = std::process::Command::new(program)
            .args(args)
            .current_dir(dir)
            .env("WRANGLER_SEND_METRICS", "false")
            .output()
            .map_err(|e| Error::io(format!("cannot run {program}"), e))?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            let tail: Vec<&str> = err.lines().rev().take(8).collect();
            return Err(Error::user_hint(
                format!(
                    "`{program} {}` failed:\n{}",
                    args.join(" "),
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                ),
                "check `wrangler login` and that the database name matches wrangler.toml",
            ));
        }
        Ok(out.stdout)
    }
}

fn sql_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Where a page of the pull starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageStart<'a> {
    /// The partner's first row.
    First,
    /// Rows created at or after this `created_at` (the overlap window of a later pull).
    Since(&'a str),
    /// Rows after this `(created_at, id)`, in `(created_at, id)` order (the next page).
    After(&'a str, &'a str),
}

/// The query for one page of one partner's rows from `start`, in `(created_at, id)` order.
pub fn page_query(partner_code: &str, start: PageStart<'_>, limit: usize) -> String {
    let mut q = format!(
        "SELECT * FROM {TABLE} WHERE partner_code = {}",
        sql_quote(partner_code)
    );
    match start {
        PageStart::First => {}
        PageStart::Since(t) => q.push_str(&format!(" AND created_at >= {}", sql_quote(t))),
        PageStart::After(t, id) => q.push_str(&format!(
            " AND (created_at > {t} OR (created_at = {t} AND id > {id}))",
            t = sql_quote(t),
            id = sql_quote(id)
        )),
    }
    q.push_str(&format!(" ORDER BY created_at, id LIMIT {limit}"));
    q
}

/// How far back from the newest cached row of a partner each pull reads again. Workers
/// commit concurrently, so a row can land in D1 after a later one was pulled; one committed
/// within this window of its `created_at` is still fetched. Rows are stored by `id` (the
/// primary key), so a row read twice is kept once.
pub const OVERLAP_MS: i64 = 10 * 60 * 1000;

/// `created_at` minus [`OVERLAP_MS`], written in the same form as `created_at` (ISO with `T`
/// and `Z`, or SQLite's `YYYY-MM-DD HH:MM:SS`) so the text comparison in D1 stays right.
/// `None` when the text is not a time (then the pull starts at the partner's first row).
pub fn overlap_start(created_at: &str) -> Option<String> {
    let t = super::Ts::parse(created_at)?;
    let back = super::Ts(t.0 - OVERLAP_MS).to_string();
    Some(if created_at.as_bytes().get(10) == Some(&b' ') {
        format!("{} {}", &back[..10], &back[11..19])
    } else {
        back
    })
}

/// Pull the rows of `partner_codes` from remote D1 `database` into `cache`: per partner, from
/// [`OVERLAP_MS`] before its newest cached row (all rows on the first pull), page by page.
/// Returns the number of rows new to the cache. `dir` is where wrangler runs (the folder of
/// wrangler.toml).
pub fn pull_remote(
    runner: &dyn CommandRunner,
    dir: &Path,
    database: &str,
    partner_codes: &[String],
    cache: &Path,
) -> Result<u64> {
    if let Some(parent) = cache.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| Error::io(format!("cannot create {}", parent.display()), e))?;
    }
    let mut conn = rusqlite::Connection::open(cache)
        .map_err(|e| Error::user(format!("{}: cannot open the cache: {e}", cache.display())))?;
    let db_err =
        |e: rusqlite::Error| Error::Internal(format!("remote cache {}: {e}", cache.display()));
    conn.execute_batch(super::SCHEMA_SQL).map_err(db_err)?;
    super::add_missing_columns(&conn).map_err(db_err)?;
    let mut total = 0u64;
    // Payments no partner could be credited with are stored under the empty code.
    for code in partner_codes.iter().map(String::as_str).chain([""]) {
        let newest: Option<String> = conn
            .query_row(
                "SELECT created_at FROM partner_events WHERE partner_code = ?1 ORDER BY created_at DESC, id DESC LIMIT 1",
                [code],
                |r| r.get(0),
            )
            .ok();
        let since = newest.as_deref().and_then(overlap_start);
        // The (created_at, id) of the last row of the previous page.
        let mut last: Option<(String, String)> = None;
        loop {
            let start = match (&last, &since) {
                (Some((t, id)), _) => PageStart::After(t, id),
                (None, Some(t)) => PageStart::Since(t),
                (None, None) => PageStart::First,
            };
            let query = page_query(code, start, PAGE_ROWS);
            let args: Vec<String> = [
                "wrangler",
                "d1",
                "execute",
                database,
                "--remote",
                "--json",
                "--command",
            ]
            .iter()
            .map(|s| s.to_string())
            .chain([query])
            .collect();
            let out = runner.run("npx", &args, dir)?;
            let value: serde_json::Value = serde_json::from_slice(&out).map_err(|e| {
                Error::user(format!("wrangler printed something that is not JSON: {e}"))
            })?;
            let tx = conn.transaction().map_err(db_err)?;
            let (mut read, mut new) = (0usize, 0u64);
            {
                // A row already cached (same id: the overlap) is left as it is.
                let mut ins = tx
                    .prepare(&super::insert_sql("INSERT OR IGNORE"))
                    .map_err(db_err)?;
                let mut sink = |r: Row<'_>| -> Result<()> {
                    let added = ins.execute(&super::insert_params(&r)[..]).map_err(db_err)?;
                    new += added as u64;
                    read += 1;
                    last = Some((r.created_at.to_string(), r.id.to_string()));
                    Ok(())
                };
                super::json::scan_value(
                    &value,
                    &format!("d1:{database}"),
                    &ScanOptions::default(),
                    &mut sink,
                )?;
            }
            tx.commit().map_err(db_err)?;
            total += new;
            if read < PAGE_ROWS {
                break;
            }
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    #[test]
    fn local_object_id_matches_miniflare() {
        // Computed by miniflare 4 (wrangler 4.86) for this database_id: the file it created
        // was `.wrangler/state/v3/d1/miniflare-D1DatabaseObject/f023adf8...53e8c.sqlite`.
        assert_eq!(
            local_object_id("11111111-2222-3333-4444-555555555555"),
            "f023adf8de81e80d62670e09f086149af129cccda34c51f26517069258c53e8c"
        );
    }

    #[test]
    fn reads_d1_entries_of_wrangler_toml() {
        let toml = "name = \"x\"\n\n[[d1_databases]]\nbinding = \"DB\" # the binding\ndatabase_name = \"partner-events\"\ndatabase_id = \"abc\"\n\n[vars]\nA = \"1\"\n";
        let e = d1_entries(toml);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].database_name.as_deref(), Some("partner-events"));
        assert_eq!(e[0].database_id.as_deref(), Some("abc"));
        assert_eq!(e[0].binding.as_deref(), Some("DB"));
        // Forms a line reader got wrong: an inline array of tables, a `#` inside a string, a
        // key of another table with the same name.
        let toml = "d1_databases = [{ binding = \"DB\", database_name = \"a#b\", database_id = \"x\" }, { database_name = \"two\" }]\n[env.staging]\ndatabase_id = \"not-this\"\n";
        let e = d1_entries(toml);
        assert_eq!(e.len(), 2, "{e:?}");
        assert_eq!(e[0].database_name.as_deref(), Some("a#b"));
        assert_eq!(e[0].database_id.as_deref(), Some("x"));
        assert_eq!(e[1].database_name.as_deref(), Some("two"));
        assert!(d1_entries("[[d1_databases]\nbroken").is_empty());
    }

    #[test]
    fn reads_the_wrangler_toml_the_build_writes() {
        let site = crate::site::load(
            Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/aikit")),
            &Default::default(),
        )
        .expect("the example site loads");
        let text = crate::collector::worker::wrangler_toml(&site, "../public");
        let e = d1_entries(&text);
        assert_eq!(e.len(), 1, "{text}");
        assert_eq!(
            e[0].database_name.as_deref(),
            Some(site.config.collector.database.as_str())
        );
        assert_eq!(e[0].binding.as_deref(), Some("DB"));
    }

    #[test]
    fn page_query_is_a_keyset_on_created_at_and_id() {
        let q = page_query(
            "seo",
            PageStart::After("2026-11-17T10:00:00.000Z", "it's"),
            10,
        );
        assert_eq!(
            q,
            "SELECT * FROM partner_events WHERE partner_code = 'seo' AND (created_at > '2026-11-17T10:00:00.000Z' OR (created_at = '2026-11-17T10:00:00.000Z' AND id > 'it''s')) ORDER BY created_at, id LIMIT 10"
        );
    }

    /// Answers wrangler's JSON from a real SQLite table, applying the page query — a stand-in
    /// for the remote (none is reachable here), so only the paging and parsing are tested.
    struct FakeWrangler {
        remote: rusqlite::Connection,
        calls: RefCell<Vec<String>>,
    }

    impl CommandRunner for FakeWrangler {
        fn run(&self, program: &str, args: &[String], _dir: &Path) -> Result<Vec<u8>> {
            assert_eq!(program, "npx");
            assert_eq!(
                &args[..6],
                [
                    "wrangler",
                    "d1",
                    "execute",
                    "remote-db",
                    "--remote",
                    "--json"
                ]
            );
            let sql = args.last().unwrap().clone();
            self.calls.borrow_mut().push(sql.clone());
            let mut stmt = self.remote.prepare(&sql).unwrap();
            let names: Vec<String> = stmt.column_names().map(|s| s.to_string()).collect();
            let rows: Vec<serde_json::Value> = stmt
                .query_map([], |r| {
                    let mut m = serde_json::Map::new();
                    for (i, n) in names.iter().enumerate() {
                        let v = match r.get_ref(i)? {
                            rusqlite::types::ValueRef::Null => serde_json::Value::Null,
                            rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into(),
                            rusqlite::types::ValueRef::Real(f) => f.into(),
                            rusqlite::types::ValueRef::Integer(i) => i.into(),
                            rusqlite::types::ValueRef::Blob(_) => serde_json::Value::Null,
                        };
                        m.insert(n.clone(), v);
                    }
                    Ok(serde_json::Value::Object(m))
                })
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            Ok(serde_json::to_vec(
                &serde_json::json!([{"results": rows, "success": true, "meta": {}}]),
            )
            .unwrap())
        }
    }

    #[test]
    fn remote_pull_pages_by_keyset_and_only_fetches_new_rows() {
        let remote = rusqlite::Connection::open_in_memory().unwrap();
        remote.execute_batch(crate::events::SCHEMA_SQL).unwrap();
        let n = PAGE_ROWS + 7;
        {
            let mut ins = remote
                .prepare("INSERT INTO partner_events VALUES (?1, 'seo', 'default', 'visit', '/p/seo/', ?2, ?3)")
                .unwrap();
            for i in 0..n {
                // Every 3 rows share a timestamp, so the id part of the keyset matters.
                let t = format!(
                    "2026-11-17T10:{:02}:{:02}.000Z",
                    (i / 3) / 60 % 60,
                    (i / 3) % 60
                );
                ins.execute(rusqlite::params![format!("id-{i:06}"), format!("v{i}"), t])
                    .unwrap();
            }
        }
        let fake = FakeWrangler {
            remote,
            calls: RefCell::new(Vec::new()),
        };
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("c.sqlite");
        let got = pull_remote(&fake, dir.path(), "remote-db", &["seo".into()], &cache).unwrap();
        assert_eq!(got as usize, n);
        // Two pages of `seo`, one (empty) of the payments no partner was credited with.
        assert_eq!(fake.calls.borrow().len(), 3, "two pages and the empty code");
        assert!(fake.calls.borrow()[2].contains("partner_code = ''"));
        // A second pull asks once, for the overlap window before the newest cached row, and
        // adds nothing: the rows it reads again are already cached.
        let again = pull_remote(&fake, dir.path(), "remote-db", &["seo".into()], &cache).unwrap();
        assert_eq!(again, 0);
        assert_eq!(fake.calls.borrow().len(), 5);
        let newest = "2026-11-17T10:27:48.000Z"; // row 5006: second (5006 / 3) = 1668
        assert!(
            fake.calls.borrow()[3].contains(&format!(
                "created_at >= '{}'",
                overlap_start(newest).unwrap()
            )),
            "{}",
            fake.calls.borrow()[3]
        );
        // A row committed late with an earlier created_at (inside the window) is fetched by
        // the next pull, once.
        fake.remote
            .execute(
                "INSERT INTO partner_events VALUES ('late', 'seo', 'default', 'visit', '/p/seo/', 'v-late', '2026-11-17T10:20:00.500Z')",
                [],
            )
            .unwrap();
        let late = pull_remote(&fake, dir.path(), "remote-db", &["seo".into()], &cache).unwrap();
        assert_eq!(late, 1);
        let rows = crate::events::Source::Sqlite(cache).read_all().unwrap();
        assert_eq!(rows.len(), n + 1);
        let mut ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), n + 1, "no row twice");
    }

    #[test]
    fn the_overlap_starts_ten_minutes_back_in_the_same_text_form() {
        assert_eq!(
            overlap_start("2026-11-17T10:05:00.250Z").as_deref(),
            Some("2026-11-17T09:55:00.250Z")
        );
        assert_eq!(
            overlap_start("2026-11-17 00:03:00").as_deref(),
            Some("2026-11-16 23:53:00")
        );
        assert_eq!(overlap_start("not a time"), None);
    }
}
