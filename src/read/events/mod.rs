//! Read stage for events: the `partner_events` table from any source, as rows.
//!
//! Takes: an `--events` argument. Gives: a [`Source`] whose [`Source::scan`] streams every
//! row (optionally only a coarse time range) to a callback, in one pass and flat memory.
//!
//! Sources (all give the same rows):
//! - a SQLite file (the `serve` database, or any copy of the table);
//! - wrangler's local D1 state, found from a database name (`--events partner-events`) under
//!   `.wrangler/state/v3/d1/miniflare-D1DatabaseObject/<hash>.sqlite`;
//! - a `wrangler d1 export` / `sqlite3 .dump` SQL file, streamed statement by statement;
//! - the JSON printed by `wrangler d1 execute --json` (an array of `{results, success, meta}`);
//! - `d1:<database>`: rows pulled from a remote D1 with `wrangler d1 execute --remote --json`,
//!   page by page (keyset on `created_at`, `id`), into a local cache file that is then read.
//!
//! ```no_run
//! use partner_pages::events::{Source, ScanOptions};
//! let src = Source::open("partner-events.db", std::path::Path::new(".")).unwrap();
//! let mut n = 0;
//! src.scan(&ScanOptions::default(), &mut |row| { n += 1; let _ = row.partner_code; Ok(()) }).unwrap();
//! ```

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

mod dump;
mod json;
mod sql;
mod sqlite;
mod time;
pub mod wrangler;

pub(crate) use time::DateCache;
pub use time::{Ts, MS_PER_DAY};

// The table's definition and rows live in the shared model (the collector writes the table);
// re-exported here so readers name them as before.
pub use crate::model::event::{
    add_missing_columns, insert_params, insert_sql, Event, Pay, PayBuf, Row, EXTRA_COLUMNS_SQL,
    INSERT_COLUMNS, OPTIONAL_COLUMNS, PAYMENT_SQL, REQUIRED_COLUMNS, SCHEMA_SQL, TABLE,
    VALUE_USER_SQL, VARIANT_SQL,
};

/// What a scan should hand over.
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// Skip rows certainly created before this instant. The filter is coarse (whole days, on
    /// the text, so it is right for both timestamp formats): callers still check each row.
    pub since: Option<Ts>,
    /// Skip rows certainly created at or after this instant (coarse, as `since`).
    pub until: Option<Ts>,
    /// Leave `id` and `page_path` empty: the funnel does not need them and SQLite reads less.
    pub skip_id_and_path: bool,
    /// Progress on a terminal (hidden when `None`).
    pub progress: Option<indicatif::ProgressBar>,
}

impl ScanOptions {
    /// The text bounds of the coarse filter: every stored form of an instant in
    /// `[since, until)` sorts (as text) inside `[since's day, until's day + 1)`.
    pub(crate) fn text_bounds(&self) -> (Option<String>, Option<String>) {
        (
            self.since.map(|t| t.date_string()),
            self.until.map(|t| t.plus_days(1).date_string()),
        )
    }

    pub(crate) fn keep_text(
        &self,
        bounds: &(Option<String>, Option<String>),
        created_at: &str,
    ) -> bool {
        bounds.0.as_deref().is_none_or(|lo| created_at >= lo)
            && bounds.1.as_deref().is_none_or(|hi| created_at < hi)
    }
}

/// Callback a scan feeds; returning an error stops the scan.
pub type RowSink<'s> = dyn FnMut(Row<'_>) -> Result<()> + 's;

/// One part's callback of [`Source::scan_parts`] (it may run on another thread).
pub type PartSink<'s> = dyn FnMut(Row<'_>) -> Result<()> + Send + 's;

/// Below this many rowids a SQLite source is read by one connection: threads do not pay off.
pub const SPLIT_MIN_ROWS: u64 = 20_000;

/// Where events come from. Open one with [`Source::open`].
#[derive(Debug, Clone)]
pub enum Source {
    /// A SQLite file with `partner_events` (the `serve` database, wrangler's local D1 state).
    Sqlite(PathBuf),
    /// A SQL dump (`wrangler d1 export`, `sqlite3 .dump`).
    Dump(PathBuf),
    /// The JSON of `wrangler d1 execute --json`.
    WranglerJson(PathBuf),
    /// Rows already in memory (tests, library users).
    Memory(Vec<Event>),
    /// A remote D1 database, pulled into a local cache file by [`wrangler::pull_remote`].
    RemoteD1 {
        /// The D1 database's name (`d1:<name>`).
        database: String,
        /// The local SQLite file the rows are pulled into.
        cache: PathBuf,
    },
}

impl Source {
    /// Resolve an `--events` argument. `root` is the site root (for `.wrangler` state and the
    /// remote cache). A path is recognised by its content, not its extension.
    pub fn open(spec: &str, root: &Path) -> Result<Source> {
        if let Some(db) = spec.strip_prefix("d1:") {
            if db.is_empty() {
                return Err(Error::user_hint(
                    "`d1:` needs a database name",
                    "write --events d1:<database>, the database_name of wrangler.toml",
                ));
            }
            return Ok(Source::RemoteD1 {
                database: db.to_string(),
                cache: wrangler::remote_cache_path(root, db),
            });
        }
        let path = PathBuf::from(spec);
        let candidates = [path.clone(), root.join(&path)];
        let existing = candidates.iter().find(|p| p.exists());
        match existing {
            Some(p) if p.is_dir() => wrangler::find_local_in_dir(p, None).map(Source::Sqlite),
            Some(p) => sniff(p),
            None => match wrangler::find_local_by_name(root, spec)? {
                Some(p) => Ok(Source::Sqlite(p)),
                None => Err(Error::user_hint(
                    format!("event source `{spec}` not found: it is neither a file nor a D1 database in .wrangler/state"),
                    "pass a SQLite file (the `serve` database), a `wrangler d1 export` .sql dump, the JSON of \
                     `wrangler d1 execute --json`, a local D1 database name, or d1:<database> for a remote one",
                )),
            },
        }
    }

    /// A short description for reports (file name or `d1:<name>`), free of absolute paths so
    /// the output stays the same from any working directory.
    pub fn describe(&self) -> String {
        let file = |p: &Path| {
            p.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| p.display().to_string())
        };
        match self {
            Source::Sqlite(p) => format!("sqlite:{}", file(p)),
            Source::Dump(p) => format!("sql-dump:{}", file(p)),
            Source::WranglerJson(p) => format!("wrangler-json:{}", file(p)),
            Source::Memory(v) => format!("memory:{} rows", v.len()),
            Source::RemoteD1 { database, .. } => format!("d1:{database}"),
        }
    }

    /// Stream every row (within the coarse range of `opts`) to `sink`. Returns the number of
    /// rows handed over.
    pub fn scan(&self, opts: &ScanOptions, sink: &mut RowSink<'_>) -> Result<u64> {
        match self {
            Source::Sqlite(p) => sqlite::scan(p, opts, sink),
            Source::Dump(p) => dump::scan(p, opts, sink),
            Source::WranglerJson(p) => json::scan(p, opts, sink),
            Source::Memory(rows) => {
                let bounds = opts.text_bounds();
                let mut n = 0;
                for e in rows {
                    if opts.keep_text(&bounds, &e.created_at) {
                        sink(e.as_row())?;
                        n += 1;
                    }
                }
                Ok(n)
            }
            Source::RemoteD1 { cache, database } => {
                if !cache.exists() {
                    return Err(Error::user_hint(
                        format!("no local cache for d1:{database} at {}", cache.display()),
                        "the cache is filled by `wrangler::pull_remote` (report does it before reading)",
                    ));
                }
                sqlite::scan(cache, opts, sink)
            }
        }
    }

    /// As [`Source::scan`], with the reading on a second thread: the source (SQLite's pages,
    /// the dump parser) and `sink` run side by side, rows passing in batches through a small
    /// bounded channel, so memory stays flat. Rows arrive in the same order.
    pub fn scan_threaded(&self, opts: &ScanOptions, sink: &mut RowSink<'_>) -> Result<u64> {
        if let Source::Memory(_) = self {
            return self.scan(opts, sink);
        }
        let (tx, rx) = std::sync::mpsc::sync_channel::<Batch>(4);
        std::thread::scope(|scope| {
            let producer = scope.spawn(move || {
                let mut batch = Batch::default();
                let n = self.scan(opts, &mut |r| {
                    batch.push(&r);
                    if batch.rows.len() >= BATCH_ROWS {
                        let full = std::mem::take(&mut batch);
                        tx.send(full)
                            .map_err(|_| Error::Internal("reader stopped".into()))?;
                    }
                    Ok(())
                })?;
                if !batch.rows.is_empty() {
                    let _ = tx.send(batch);
                }
                Ok::<u64, Error>(n)
            });
            let mut consumed: Result<()> = Ok(());
            for batch in rx.iter() {
                for i in 0..batch.rows.len() {
                    if let Err(e) = sink(batch.row(i)) {
                        consumed = Err(e);
                        break;
                    }
                }
                if consumed.is_err() {
                    break;
                }
            }
            drop(rx);
            let produced = producer
                .join()
                .map_err(|_| Error::Internal("the event reader thread panicked".into()))?;
            consumed?;
            produced
        })
    }

    /// As [`Source::scan`], spread over `parts` (each its own sink, each fed on its own thread):
    /// a SQLite source of at least [`SPLIT_MIN_ROWS`] rows is cut into equal rowid ranges, one
    /// read connection per part; every other source feeds `parts[0]` alone (through
    /// [`Source::scan_threaded`]). Which part gets which row is not part of the contract: a
    /// caller must give the same answer whatever the split.
    pub fn scan_parts(&self, opts: &ScanOptions, parts: &mut [&mut PartSink<'_>]) -> Result<u64> {
        let path = match self {
            Source::Sqlite(p) => Some(p),
            Source::RemoteD1 { cache, .. } if cache.exists() => Some(cache),
            _ => None,
        };
        let bounds = match path {
            Some(p) if parts.len() > 1 => sqlite::rowid_bounds(p)?,
            _ => None,
        };
        let (Some(path), Some((lo, hi))) = (path, bounds) else {
            return match parts.first_mut() {
                Some(first) => self.scan_threaded(opts, &mut **first),
                None => Ok(0),
            };
        };
        let span = (hi - lo).saturating_add(1) as u64;
        if span < SPLIT_MIN_ROWS {
            return self.scan_threaded(opts, &mut *parts[0]);
        }
        if let Some(pb) = &opts.progress {
            pb.set_length(span);
        }
        let n = parts.len() as u64;
        let step = span.div_ceil(n);
        std::thread::scope(|scope| {
            let handles: Vec<_> = parts
                .iter_mut()
                .enumerate()
                .map(|(i, part)| {
                    let a = lo.saturating_add((step * i as u64) as i64);
                    let b = lo
                        .saturating_add((step * (i as u64 + 1)) as i64)
                        .saturating_sub(1)
                        .min(hi);
                    scope.spawn(move || sqlite::scan_rowids(path, opts, Some((a, b)), &mut **part))
                })
                .collect();
            let mut total = 0;
            let mut first_err = None;
            for h in handles {
                match h.join() {
                    Ok(Ok(k)) => total += k,
                    Ok(Err(e)) => {
                        first_err.get_or_insert(e);
                    }
                    Err(_) => {
                        first_err.get_or_insert(Error::Internal(
                            "an event reader thread panicked".into(),
                        ));
                    }
                }
            }
            match first_err {
                Some(e) => Err(e),
                None => Ok(total),
            }
        })
    }

    /// Every row in memory. For small sources and tests; reports stream with [`Source::scan`].
    pub fn read_all(&self) -> Result<Vec<Event>> {
        let mut out = Vec::new();
        self.scan(&ScanOptions::default(), &mut |r| {
            out.push(r.to_event());
            Ok(())
        })?;
        Ok(out)
    }
}

const BATCH_ROWS: usize = 8192;

/// Rows copied out of a source's buffers, to cross threads.
#[derive(Default)]
struct Batch {
    text: String,
    /// Per row: end offsets of id, partner_code, campaign, event_name, page_path, visitor_id,
    /// created_at, user_id, variant; then value, and flags (1: visitor id, 2: user id,
    /// 4: variant).
    rows: Vec<([u32; 9], Option<f64>, u8)>,
    /// Per row, its payment columns when it has any (rare: no allocation for other rows).
    pays: Vec<Option<Box<PayBuf>>>,
}

impl Batch {
    fn push(&mut self, r: &Row<'_>) {
        let mut ends = [0u32; 9];
        let fields = [
            r.id,
            r.partner_code,
            r.campaign,
            r.event_name,
            r.page_path,
            r.visitor_id.unwrap_or(""),
            r.created_at,
            r.user_id.unwrap_or(""),
            r.variant.unwrap_or(""),
        ];
        for (i, f) in fields.iter().enumerate() {
            self.text.push_str(f);
            ends[i] = self.text.len() as u32;
        }
        let flags = u8::from(r.visitor_id.is_some())
            | (u8::from(r.user_id.is_some()) << 1)
            | (u8::from(r.variant.is_some()) << 2);
        self.rows.push((ends, r.value, flags));
        self.pays
            .push((r.pay != Pay::default()).then(|| Box::new(r.pay.to_owned_pay())));
    }

    fn row(&self, i: usize) -> Row<'_> {
        let (ends, value, flags) = &self.rows[i];
        let start = if i == 0 {
            0
        } else {
            self.rows[i - 1].0[8] as usize
        };
        let field = |k: usize| {
            let a = if k == 0 { start } else { ends[k - 1] as usize };
            &self.text[a..ends[k] as usize]
        };
        Row {
            id: field(0),
            partner_code: field(1),
            campaign: field(2),
            event_name: field(3),
            page_path: field(4),
            visitor_id: (flags & 1 != 0).then(|| field(5)),
            created_at: field(6),
            value: *value,
            user_id: (flags & 2 != 0).then(|| field(7)),
            variant: (flags & 4 != 0).then(|| field(8)),
            pay: self.pays[i]
                .as_deref()
                .map(PayBuf::as_pay)
                .unwrap_or_default(),
        }
    }
}

/// Decide a file's format from its first bytes.
fn sniff(path: &Path) -> Result<Source> {
    use std::io::Read;
    let mut head = [0u8; 512];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .map_err(|e| Error::io(format!("cannot read event source {}", path.display()), e))?;
    let head = &head[..n];
    if head.starts_with(b"SQLite format 3\0") {
        return Ok(Source::Sqlite(path.to_path_buf()));
    }
    let text = String::from_utf8_lossy(head);
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('[') || trimmed.starts_with('{') {
        return Ok(Source::WranglerJson(path.to_path_buf()));
    }
    let upper = trimmed.to_ascii_uppercase();
    if [
        "PRAGMA", "BEGIN", "CREATE", "INSERT", "--", "DROP", "COMMIT", "DELETE",
    ]
    .iter()
    .any(|k| upper.starts_with(k))
        || n == 0
    {
        return Ok(Source::Dump(path.to_path_buf()));
    }
    Err(unknown_format(path))
}

pub(crate) fn unknown_format(path: &Path) -> Error {
    Error::user_hint(
        format!("{}: not an event source I can read", path.display()),
        "expected a SQLite file with the partner_events table, a SQL dump from `wrangler d1 export` \
         or `sqlite3 .dump` (starting with PRAGMA/BEGIN/CREATE/INSERT), or the JSON array printed by \
         `wrangler d1 execute --json`",
    )
}

/// Where each needed column is in a source's rows. Built from the column names a source
/// declares; a missing required column is a schema error naming what was expected.
#[derive(Debug, Clone)]
pub(crate) struct ColumnMap {
    /// Index per [`REQUIRED_COLUMNS`] entry.
    pub required: [usize; 7],
    pub value: Option<usize>,
    pub user_id: Option<usize>,
    pub variant: Option<usize>,
    /// Index per payment column ([`OPTIONAL_COLUMNS`] from `amount_minor` on).
    pub pay: [Option<usize>; 7],
}

impl ColumnMap {
    pub(crate) fn from_names<S: AsRef<str>>(names: &[S], what: &str) -> Result<ColumnMap> {
        let find = |c: &str| {
            names
                .iter()
                .position(|n| n.as_ref().eq_ignore_ascii_case(c))
        };
        let mut required = [0usize; 7];
        let mut missing = Vec::new();
        for (i, c) in REQUIRED_COLUMNS.iter().enumerate() {
            match find(c) {
                Some(p) => required[i] = p,
                None => missing.push(*c),
            }
        }
        if !missing.is_empty() {
            let found: Vec<&str> = names.iter().map(|n| n.as_ref()).collect();
            return Err(Error::user_hint(
                format!(
                    "{what}: table partner_events has a different schema: missing {} {} (found: {})",
                    if missing.len() == 1 { "column" } else { "columns" },
                    missing.join(", "),
                    found.join(", ")
                ),
                format!(
                    "expected the partner_events columns {} (and optionally {})",
                    REQUIRED_COLUMNS.join(", "),
                    OPTIONAL_COLUMNS.join(", ")
                ),
            ));
        }
        Ok(ColumnMap {
            required,
            value: find("value"),
            user_id: find("user_id"),
            variant: find("variant"),
            pay: std::array::from_fn(|k| find(OPTIONAL_COLUMNS[3 + k])),
        })
    }
}

/// A progress bar on stderr when it is a terminal, hidden otherwise (CI stays quiet).
pub fn progress_bar(quiet: bool) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let pb = indicatif::ProgressBar::new(0);
    pb.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} reading events {bar:30} {percent}% {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    Some(pb)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every reader hands over the variant column; a table without it (or a NULL) gives none.
    #[test]
    fn every_reader_reads_the_variant_and_old_tables_read_none() {
        let dir = tempfile::tempdir().unwrap();
        let variants = |src: &Source| -> Vec<Option<String>> {
            let mut out = Vec::new();
            src.scan_threaded(&ScanOptions::default(), &mut |r| {
                out.push(r.variant.map(str::to_string));
                Ok(())
            })
            .unwrap();
            out
        };
        let ins = "INSERT INTO partner_events (id, partner_code, campaign, event_name, page_path, visitor_id, created_at) VALUES ('a','seo','default','visit','/p/seo/','v1','2026-11-17T10:00:00.000Z');";
        // A table with only the original seven columns.
        let old = dir.path().join("old.db");
        let conn = rusqlite::Connection::open(&old).unwrap();
        conn.execute_batch(SCHEMA_SQL).unwrap();
        conn.execute_batch(ins).unwrap();
        drop(conn);
        assert_eq!(variants(&Source::Sqlite(old.clone())), vec![None]);
        // Migrated in place: the old row stays without a variant, a new one has it.
        let conn = rusqlite::Connection::open(&old).unwrap();
        add_missing_columns(&conn).unwrap();
        add_missing_columns(&conn).unwrap(); // twice is harmless
        conn.execute_batch("INSERT INTO partner_events (id, partner_code, campaign, event_name, page_path, visitor_id, created_at, value, user_id, variant) VALUES ('b','seo','default','visit','/p/seo/','v2','2026-11-17T10:00:01.000Z',NULL,NULL,'speed');").unwrap();
        drop(conn);
        let want = vec![None, Some("speed".to_string())];
        assert_eq!(variants(&Source::Sqlite(old)), want);
        // A dump, with and without a column list.
        let dump = dir.path().join("d.sql");
        std::fs::write(&dump, "CREATE TABLE partner_events (id, partner_code, campaign, event_name, page_path, visitor_id, created_at, value, user_id, variant);\nINSERT INTO partner_events VALUES('a','seo','default','visit','/p/seo/','v1','2026-11-17T10:00:00.000Z',NULL,NULL,NULL);\nINSERT INTO partner_events VALUES('b','seo','default','visit','/p/seo/','v2','2026-11-17T10:00:01.000Z',NULL,NULL,'speed');\n").unwrap();
        assert_eq!(variants(&Source::Dump(dump)), want);
        // The JSON of `wrangler d1 execute --json` (a row without the key reads none).
        let json = dir.path().join("w.json");
        std::fs::write(&json, r#"[{"results":[{"id":"a","partner_code":"seo","campaign":"default","event_name":"visit","page_path":"/p/seo/","visitor_id":"v1","created_at":"2026-11-17T10:00:00.000Z","variant":null},{"id":"b","partner_code":"seo","campaign":"default","event_name":"visit","page_path":"/p/seo/","visitor_id":"v2","created_at":"2026-11-17T10:00:01.000Z","variant":"speed"}],"success":true}]"#).unwrap();
        assert_eq!(variants(&Source::WranglerJson(json)), want);
    }

    /// Every reader hands over the payment columns (migration 0004); old tables read none.
    #[test]
    fn every_reader_reads_the_payment_columns() {
        let dir = tempfile::tempdir().unwrap();
        let pays = |src: &Source| -> Vec<PayBuf> {
            src.read_all().unwrap().into_iter().map(|e| e.pay).collect()
        };
        let want = vec![
            PayBuf::default(),
            PayBuf {
                amount_minor: Some(-2450),
                currency: Some("eur".into()),
                stripe_event_id: Some("evt_1".into()),
                stripe_object_id: Some("cs_1".into()),
                stripe_customer_id: Some("cus_1".into()),
                stripe_charge_id: Some("ch_1".into()),
                attribution_rule: Some("visitor".into()),
            },
        ];
        let db = dir.path().join("p.db");
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(SCHEMA_SQL).unwrap();
        add_missing_columns(&conn).unwrap();
        conn.execute_batch("INSERT INTO partner_events (id, partner_code, campaign, event_name, page_path, visitor_id, created_at) VALUES ('a','seo','default','visit','/p/seo/','v1','2026-11-17T10:00:00.000Z');").unwrap();
        let refund = Event {
            id: "b".into(),
            partner_code: "seo".into(),
            campaign: "default".into(),
            event_name: "refund".into(),
            page_path: "/stripe".into(),
            visitor_id: Some("v1".into()),
            created_at: "2026-11-17T10:00:01.000Z".into(),
            value: None,
            user_id: None,
            variant: None,
            pay: want[1].clone(),
        };
        let row = refund.as_row();
        conn.execute(&insert_sql("INSERT"), &insert_params(&row)[..])
            .unwrap();
        // The same event id again is refused by the unique index.
        assert!(conn
            .execute(
                &insert_sql("INSERT"),
                &insert_params(
                    &Event {
                        id: "c".into(),
                        ..refund.clone()
                    }
                    .as_row()
                )[..]
            )
            .is_err());
        drop(conn);
        assert_eq!(pays(&Source::Sqlite(db)), want);
        let dump = dir.path().join("d.sql");
        std::fs::write(&dump, format!("CREATE TABLE partner_events ({INSERT_COLUMNS});\nINSERT INTO partner_events VALUES('a','seo','default','visit','/p/seo/','v1','2026-11-17T10:00:00.000Z',NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL);\nINSERT INTO partner_events VALUES('b','seo','default','refund','/stripe','v1','2026-11-17T10:00:01.000Z',NULL,NULL,NULL,-2450,'eur','evt_1','cs_1','cus_1','ch_1','visitor');\n")).unwrap();
        assert_eq!(pays(&Source::Dump(dump)), want);
        let json = dir.path().join("w.json");
        std::fs::write(&json, r#"[{"results":[{"id":"a","partner_code":"seo","campaign":"default","event_name":"visit","page_path":"/p/seo/","visitor_id":"v1","created_at":"2026-11-17T10:00:00.000Z","value":null,"user_id":null,"variant":null,"amount_minor":null,"currency":null,"stripe_event_id":null,"stripe_object_id":null,"stripe_customer_id":null,"stripe_charge_id":null,"attribution_rule":null},{"id":"b","partner_code":"seo","campaign":"default","event_name":"refund","page_path":"/stripe","visitor_id":"v1","created_at":"2026-11-17T10:00:01.000Z","amount_minor":-2450,"currency":"eur","stripe_event_id":"evt_1","stripe_object_id":"cs_1","stripe_customer_id":"cus_1","stripe_charge_id":"ch_1","attribution_rule":"visitor"}],"success":true}]"#).unwrap();
        assert_eq!(pays(&Source::WranglerJson(json.clone())), want);
        // A fractional amount is a located error, not a blank.
        std::fs::write(&json, r#"[{"results":[{"id":"b","partner_code":"seo","campaign":"default","event_name":"refund","page_path":"/stripe","visitor_id":"v1","created_at":"2026-11-17T10:00:01.000Z","amount_minor":24.5}],"success":true}]"#).unwrap();
        let e = Source::WranglerJson(json)
            .read_all()
            .unwrap_err()
            .to_string();
        assert!(e.contains("amount_minor") && e.contains("integer"), "{e}");
    }

    #[test]
    fn schema_error_names_the_missing_and_expected_columns() {
        let e = ColumnMap::from_names(&["id", "partner", "created_at"], "x.db").unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("missing columns partner_code, campaign"),
            "{msg}"
        );
        assert!(
            msg.contains("expected the partner_events columns id, partner_code"),
            "{msg}"
        );
    }

    #[test]
    fn the_threaded_scan_hands_over_the_same_rows_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("e.db");
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(SCHEMA_SQL).unwrap();
        conn.execute_batch(EXTRA_COLUMNS_SQL).unwrap();
        conn.execute_batch("BEGIN").unwrap();
        for i in 0..(BATCH_ROWS * 2 + 17) {
            conn.execute(
                "INSERT INTO partner_events (id, partner_code, campaign, event_name, page_path, visitor_id, created_at, value, user_id, variant, amount_minor, currency, stripe_event_id, attribution_rule) VALUES (?1, 'seo', 'c', 'visit', '/p/', ?2, '2026-11-17 10:00:00', ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                rusqlite::params![
                    format!("id{i}"),
                    (i % 3 != 0).then(|| format!("v{i}")),
                    (i % 5 == 0).then_some(i as f64),
                    (i % 7 == 0).then(|| format!("u{i}")),
                    (i % 2 == 0).then(|| format!("x{i}")),
                    (i % 11 == 0).then_some(-(i as i64)),
                    (i % 11 == 0).then_some("eur"),
                    (i % 11 == 0).then(|| format!("evt_{i}")),
                    (i % 13 == 0).then_some("visitor"),
                ],
            )
            .unwrap();
        }
        conn.execute_batch("COMMIT").unwrap();
        let src = Source::Sqlite(db);
        let plain = src.read_all().unwrap();
        let mut threaded = Vec::new();
        src.scan_threaded(&ScanOptions::default(), &mut |r| {
            threaded.push(r.to_event());
            Ok(())
        })
        .unwrap();
        assert_eq!(plain.len(), BATCH_ROWS * 2 + 17);
        assert_eq!(plain, threaded);
    }

    #[test]
    fn optional_columns_are_found_when_present() {
        let mut cols: Vec<&str> = REQUIRED_COLUMNS.to_vec();
        cols.push("user_id");
        let m = ColumnMap::from_names(&cols, "x").unwrap();
        assert_eq!(m.user_id, Some(7));
        assert_eq!(m.value, None);
    }

    #[test]
    fn coarse_filter_keeps_both_formats_of_the_boundary_day() {
        let opts = ScanOptions {
            since: Ts::parse("2026-11-17T10:00:00Z"),
            until: Ts::parse("2026-11-24T00:00:00Z"),
            ..Default::default()
        };
        let b = opts.text_bounds();
        assert!(opts.keep_text(&b, "2026-11-17 00:00:00"));
        assert!(opts.keep_text(&b, "2026-11-17T10:00:00.000Z"));
        assert!(opts.keep_text(&b, "2026-11-24 00:00:00"));
        assert!(!opts.keep_text(&b, "2026-11-16T23:59:59.999Z"));
        assert!(!opts.keep_text(&b, "2026-11-25 00:00:00"));
    }
}
