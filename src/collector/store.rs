//! Collector stage, local storage: the SQLite file `serve` writes events to.
//!
//! Takes: accepted [`Event`]s from the request handlers. Gives: rows in `partner_events`,
//! acknowledged to each handler only once the transaction holding them has committed.
//!
//! One writer thread owns the connection. Handlers send `(event, ack)` over a channel; the
//! writer takes everything waiting (up to [`MAX_BATCH`]), inserts it in one transaction and
//! commits, then answers every ack. Under load, batches grow by themselves, so a commit costs
//! one WAL append for hundreds of rows.
//!
//! Durability: WAL with `synchronous=NORMAL`. A commit is in the WAL file (the OS has it) before
//! any ack, so a crash or `kill -9` of the process loses nothing acknowledged; a power loss or OS
//! crash may lose the last commits before the next checkpoint. For a local dev collector
//! that is the right trade (`FULL` would fsync on every batch).

use crate::model::event::{Event, SCHEMA_SQL};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use tokio::sync::{mpsc, oneshot};

/// Most events committed in one transaction.
pub const MAX_BATCH: usize = 4096;
/// Events waiting for the writer before handlers wait to enqueue (back-pressure).
const QUEUE: usize = 16_384;

/// Why the local store could not take a row.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database file could not be opened or migrated.
    #[error("cannot open the event database {path}: {source}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
    /// A write failed; the message says why.
    #[error("cannot write the event: {0}")]
    Write(String),
    /// The writer has stopped (the server is shutting down).
    #[error("the event writer has stopped")]
    Stopped,
}

type Ack = oneshot::Sender<Result<(), String>>;

/// Handle to the writer thread. Cheap to share behind an `Arc`; dropping the last handle
/// (or calling [`Store::close`]) lets the writer finish what is queued and stop.
pub struct Store {
    tx: Option<mpsc::Sender<(Event, Ack)>>,
    writer: Option<std::thread::JoinHandle<()>>,
    /// Dropping it stops the checkpointer.
    stop_checkpoints: Option<std::sync::mpsc::Sender<()>>,
    checkpointer: Option<std::thread::JoinHandle<()>>,
    /// The database file.
    path: PathBuf,
}

impl Store {
    /// Open (or create) the database, set WAL and the schema, and start the writer.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let conn = open_connection(path).map_err(|source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        // Checkpoints (which fsync) run on their own connection, so a commit never waits for
        // one; in WAL mode a PASSIVE checkpoint does not block the writer.
        let open_err = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        conn.pragma_update(None, "wal_autocheckpoint", 0)
            .map_err(open_err)?;
        let ckpt_conn = Connection::open(path).map_err(open_err)?;
        ckpt_conn
            .busy_timeout(std::time::Duration::from_secs(5))
            .map_err(open_err)?;
        ckpt_conn
            .pragma_update(None, "journal_size_limit", JOURNAL_SIZE_LIMIT)
            .map_err(open_err)?;
        let spawn_err =
            |e: std::io::Error| StoreError::Write(format!("cannot start a thread: {e}"));
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let checkpointer = std::thread::Builder::new()
            .name("pp-checkpoint".into())
            .spawn(move || checkpoint_loop(ckpt_conn, stopped))
            .map_err(spawn_err)?;
        let wal = {
            let mut p = path.as_os_str().to_owned();
            p.push("-wal");
            PathBuf::from(p)
        };
        let (tx, rx) = mpsc::channel(QUEUE);
        let writer = std::thread::Builder::new()
            .name("pp-event-writer".into())
            .spawn(move || write_loop(conn, rx, wal))
            .map_err(spawn_err)?;
        Ok(Store {
            tx: Some(tx),
            writer: Some(writer),
            stop_checkpoints: Some(stop),
            checkpointer: Some(checkpointer),
            path: path.to_path_buf(),
        })
    }

    /// The database file (the Stripe webhook writes through its own connection).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Queue one event and wait until it is committed.
    pub async fn insert(&self, event: Event) -> Result<(), StoreError> {
        let tx = self.tx.as_ref().ok_or(StoreError::Stopped)?;
        let (ack, done) = oneshot::channel();
        tx.send((event, ack))
            .await
            .map_err(|_| StoreError::Stopped)?;
        match done.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(StoreError::Write(e)),
            Err(_) => Err(StoreError::Stopped),
        }
    }

    /// Stop taking events, commit what is queued, and wait for the writer to finish.
    pub fn close(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.tx.take();
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
        self.stop_checkpoints.take();
        if let Some(c) = self.checkpointer.take() {
            let _ = c.join();
        }
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// A connection with our pragmas and the schema (the `partner_events` table plus the nullable columns).
pub fn open_connection(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "journal_size_limit", JOURNAL_SIZE_LIMIT)?;
    conn.execute_batch(SCHEMA_SQL)?;
    crate::model::event::add_missing_columns(&conn)?;
    Ok(conn)
}

fn insert(conn: &Connection, e: &Event) -> rusqlite::Result<()> {
    let row = e.as_row();
    conn.prepare_cached(&crate::model::event::insert_sql("INSERT"))?
        .execute(&crate::model::event::insert_params(&row)[..])?;
    Ok(())
}

fn commit_batch(conn: &mut Connection, batch: &[(Event, Ack)]) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    for (e, _) in batch {
        insert(&tx, e)?;
    }
    tx.commit()
}

/// How often the checkpointer moves the WAL into the database file.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// WAL size above which the writer, between two batches (their requests already answered),
/// runs a TRUNCATE checkpoint that empties the file. Under steady load the PASSIVE checkpoints
/// never catch up with the writer, and SQLite restarts the WAL from its start only once one
/// has; so the WAL stays under this plus one batch.
pub const WAL_TRUNCATE_BYTES: u64 = 16 << 20;
/// `PRAGMA journal_size_limit`: what a WAL file is cut back to whenever SQLite restarts it.
pub const JOURNAL_SIZE_LIMIT: i64 = 4 << 20;

fn checkpoint_loop(conn: Connection, stopped: std::sync::mpsc::Receiver<()>) {
    use std::sync::mpsc::RecvTimeoutError;
    loop {
        let last = matches!(
            stopped.recv_timeout(CHECKPOINT_EVERY),
            Err(RecvTimeoutError::Disconnected) | Ok(())
        );
        // After the writer stopped, TRUNCATE leaves a small WAL behind.
        let mode = if last { "TRUNCATE" } else { "PASSIVE" };
        let _ = conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |_| Ok(()));
        if last {
            return;
        }
    }
}

fn write_loop(mut conn: Connection, mut rx: mpsc::Receiver<(Event, Ack)>, wal: PathBuf) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(item) => batch.push(item),
                Err(_) => break,
            }
        }
        match commit_batch(&mut conn, &batch) {
            Ok(()) => {
                for (_, ack) in batch.drain(..) {
                    let _ = ack.send(Ok(()));
                }
            }
            // One bad row must not sink its neighbours: retry each in its own transaction.
            Err(_) => {
                for (e, ack) in batch.drain(..) {
                    let one = conn
                        .transaction()
                        .and_then(|tx| insert(&tx, &e).and_then(|()| tx.commit()));
                    let _ = ack.send(one.map_err(|err| err.to_string()));
                }
            }
        }
        // The batch is answered; a WAL grown past the bound is emptied before the next one.
        if std::fs::metadata(&wal).is_ok_and(|m| m.len() > WAL_TRUNCATE_BYTES) {
            let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: &str) -> Event {
        Event {
            id: id.into(),
            partner_code: "seo".into(),
            campaign: "default".into(),
            event_name: "visit".into(),
            page_path: "/p/seo/".into(),
            visitor_id: Some("v1".into()),
            created_at: "2026-11-25T08:00:00.000Z".into(),
            value: None,
            user_id: None,
            variant: None,
            pay: Default::default(),
        }
    }

    #[test]
    fn adds_the_nullable_columns_to_a_seed_only_database() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seed.db");
        Connection::open(&path)
            .unwrap()
            .execute_batch(SCHEMA_SQL)
            .unwrap();
        let conn = open_connection(&path).unwrap();
        let cols: Vec<String> = conn
            .prepare("SELECT name FROM pragma_table_info('partner_events')")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(cols[7..], crate::model::event::OPTIONAL_COLUMNS);
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        // Opening again does not try to add them twice.
        drop(conn);
        open_connection(&path).unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn acknowledged_events_are_committed_and_a_duplicate_fails_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.db");
        let store = std::sync::Arc::new(Store::open(&path).unwrap());
        let mut tasks = Vec::new();
        for i in 0..500 {
            let s = store.clone();
            tasks.push(tokio::spawn(async move {
                s.insert(event(&format!("id-{i}"))).await
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        // Another connection sees every acknowledged row right away.
        let count = |p: &Path| -> i64 {
            Connection::open(p)
                .unwrap()
                .query_row("SELECT count(*) FROM partner_events", [], |r| r.get(0))
                .unwrap()
        };
        assert_eq!(count(&path), 500);
        let dup = store.insert(event("id-7")).await;
        assert!(matches!(dup, Err(StoreError::Write(_))), "{dup:?}");
        store.insert(event("id-500")).await.unwrap();
        assert_eq!(count(&path), 501);
    }
}
