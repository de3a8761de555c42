//! Read stage, SQLite: stream `partner_events` from a SQLite file (the `serve` database,
//! wrangler's local D1 state, or the remote cache) in one sequential scan.
//!
//! Takes: a file path and [`ScanOptions`]. Gives: borrowed [`Row`]s, without copying the text.

use super::{ColumnMap, Pay, Row, RowSink, ScanOptions, TABLE};
use crate::error::{Error, Result};
use rusqlite::{types::ValueRef, Connection, OpenFlags};
use std::path::Path;

pub(crate) fn open_read_only(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| sql_err(path, "cannot open", e))?;
    // No mmap: mapped pages of a multi-GB file would count as this process's memory.
    Ok(conn)
}

fn sql_err(path: &Path, what: &str, e: rusqlite::Error) -> Error {
    let locked = matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    );
    if locked {
        return Error::user_hint(
            format!(
                "{}: the database is locked by another connection",
                path.display()
            ),
            "another program holds an exclusive lock on it (an open transaction in sqlite3, \
             a copy in progress); run the command again once that program is done",
        );
    }
    let hint = "expected a SQLite file with the partner_events table (the `serve` database or \
                wrangler's local D1 state)";
    Error::user_hint(format!("{}: {what}: {e}", path.display()), hint)
}

/// The column names of `partner_events`, or a clear error when the table is missing.
pub(crate) fn columns(conn: &Connection, path: &Path) -> Result<Vec<String>> {
    let mut stmt = conn
        .prepare("SELECT name FROM pragma_table_info(?1)")
        .map_err(|e| sql_err(path, "not a readable SQLite database", e))?;
    let names = stmt
        .query_map([TABLE], |r| r.get::<_, String>(0))
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .map_err(|e| sql_err(path, "not a readable SQLite database", e))?;
    if names.is_empty() {
        let tables: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
            .and_then(|mut s| {
                s.query_map([], |r| r.get::<_, String>(0))?
                    .collect::<Result<Vec<_>, _>>()
            })
            .unwrap_or_default();
        return Err(Error::user_hint(
            format!(
                "{}: no table partner_events (tables found: {})",
                path.display(),
                if tables.is_empty() {
                    "none".to_string()
                } else {
                    tables.join(", ")
                }
            ),
            "expected the table partner_events(id, partner_code, campaign, event_name, \
             page_path, visitor_id, created_at); is this the right database?",
        ));
    }
    Ok(names)
}

fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

pub(crate) fn scan(path: &Path, opts: &ScanOptions, sink: &mut RowSink<'_>) -> Result<u64> {
    if let Some(pb) = &opts.progress {
        pb.set_length(rowid_bounds(path)?.map_or(0, |(_, hi)| hi.max(0) as u64));
    }
    scan_rowids(path, opts, None, sink)
}

/// The smallest and largest rowid of `partner_events` (`None`: empty table). Two queries:
/// each is one b-tree descent, while `SELECT min(rowid), max(rowid)` scans the whole table.
pub(crate) fn rowid_bounds(path: &Path) -> Result<Option<(i64, i64)>> {
    let conn = open_read_only(path)?;
    columns(&conn, path)?;
    let one = |agg: &str| {
        conn.query_row(&format!("SELECT {agg}(rowid) FROM {TABLE}"), [], |r| {
            r.get::<_, Option<i64>>(0)
        })
        .map_err(|e| sql_err(path, "cannot read partner_events", e))
    };
    Ok(one("min")?.zip(one("max")?))
}

/// As [`scan`], only the rows whose rowid is in `[lo, hi]` when `rowids` is given (several of
/// these run side by side on their own connections). Progress advances by rows read.
pub(crate) fn scan_rowids(
    path: &Path,
    opts: &ScanOptions,
    rowids: Option<(i64, i64)>,
    sink: &mut RowSink<'_>,
) -> Result<u64> {
    let conn = open_read_only(path)?;
    let names = columns(&conn, path)?;
    let map = ColumnMap::from_names(&names, &path.display().to_string())?;
    // Select only what is needed, in a fixed order: 0 partner_code, 1 campaign, 2 event_name,
    // 3 visitor_id, 4 created_at, then id, page_path, value, user_id when present.
    let mut cols: Vec<&str> = vec![
        &names[map.required[1]],
        &names[map.required[2]],
        &names[map.required[3]],
        &names[map.required[5]],
        &names[map.required[6]],
    ];
    let with_id = !opts.skip_id_and_path;
    if with_id {
        cols.push(&names[map.required[0]]);
        cols.push(&names[map.required[4]]);
    }
    let value_at = map.value.map(|i| {
        cols.push(&names[i]);
        cols.len() - 1
    });
    let user_at = map.user_id.map(|i| {
        cols.push(&names[i]);
        cols.len() - 1
    });
    let variant_at = map.variant.map(|i| {
        cols.push(&names[i]);
        cols.len() - 1
    });
    let pay_at: [Option<usize>; 7] = std::array::from_fn(|k| {
        map.pay[k].map(|i| {
            cols.push(&names[i]);
            cols.len() - 1
        })
    });
    let created = quote_ident(&names[map.required[6]]);
    let (lo, hi) = opts.text_bounds();
    let mut sql = format!(
        "SELECT {} FROM {}",
        cols.iter()
            .map(|c| quote_ident(c))
            .collect::<Vec<_>>()
            .join(", "),
        TABLE
    );
    let mut params: Vec<String> = Vec::new();
    // NOT INDEXED: the only index is (partner_code, created_at); a range on created_at alone
    // cannot use it, and walking it fetches rows at random (a naive GROUP BY took 27 s).
    sql.push_str(" NOT INDEXED");
    let mut conds = Vec::new();
    let rowid_cond = rowids.map(|(a, b)| format!("rowid BETWEEN {a} AND {b}"));
    // The time range in SQL costs SQLite two text comparisons per row; when the first and the
    // last row (rows are appended in about time order) are both in it, most rows are, and the
    // same test runs here on the bytes instead (`in_bounds`, the same rows either way).
    let filter_here = (lo.is_some() || hi.is_some())
        && !filter_mode_sql()
        && ["ASC", "DESC"].iter().all(|dir| {
            let q = format!(
                "SELECT {created} FROM {TABLE} {} ORDER BY rowid {dir} LIMIT 1",
                rowid_cond
                    .as_deref()
                    .map(|c| format!("WHERE {c}"))
                    .unwrap_or_default()
            );
            conn.query_row(&q, [], |r| {
                Ok(in_bounds(r.get_ref(0)?, lo.as_deref(), hi.as_deref()))
            })
            .unwrap_or(false)
        });
    if !filter_here {
        if let Some(lo) = &lo {
            params.push(lo.clone());
            conds.push(format!("{created} >= ?{}", params.len()));
        }
        if let Some(hi) = &hi {
            params.push(hi.clone());
            conds.push(format!("{created} < ?{}", params.len()));
        }
    }
    if let Some(c) = rowid_cond {
        // A rowid range is a seek in the table's own b-tree (NOT INDEXED still allows it).
        conds.insert(0, c);
    }
    if !conds.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conds.join(" AND "));
    }
    let mut stmt = conn
        .prepare(&sql)
        .map_err(|e| sql_err(path, "cannot read partner_events", e))?;
    let mut rows = stmt
        .query(rusqlite::params_from_iter(params.iter()))
        .map_err(|e| sql_err(path, "cannot read partner_events", e))?;
    let mut n: u64 = 0;
    loop {
        let r = match rows.next() {
            Ok(Some(r)) => r,
            Ok(None) => break,
            Err(e) => return Err(sql_err(path, "while reading partner_events", e)),
        };
        if filter_here {
            let at = r
                .get_ref(4)
                .map_err(|e| sql_err(path, "while reading partner_events", e))?;
            if !in_bounds(at, lo.as_deref(), hi.as_deref()) {
                continue;
            }
        }
        let text = |i: usize| -> Result<Option<&str>> {
            match r.get_ref(i) {
                Ok(ValueRef::Text(t)) | Ok(ValueRef::Blob(t)) => {
                    std::str::from_utf8(t).map(Some).map_err(|_| {
                        Error::user(format!(
                            "{}: row {}: text is not UTF-8",
                            path.display(),
                            n + 1
                        ))
                    })
                }
                Ok(ValueRef::Null) => Ok(None),
                // Numbers stored in text columns: not expected from the collector; treat as absent.
                Ok(_) => Ok(None),
                Err(e) => Err(sql_err(path, "while reading partner_events", e)),
            }
        };
        let value = match value_at {
            Some(i) => match r.get_ref(i) {
                Ok(ValueRef::Real(f)) => Some(f),
                Ok(ValueRef::Integer(v)) => Some(v as f64),
                Ok(ValueRef::Text(t)) => std::str::from_utf8(t).ok().and_then(|s| s.parse().ok()),
                _ => None,
            },
            None => None,
        };
        let row = Row {
            partner_code: text(0)?.unwrap_or(""),
            campaign: text(1)?.unwrap_or(""),
            event_name: text(2)?.unwrap_or(""),
            // NULL and '' are both anonymous (never funneled).
            visitor_id: text(3)?.filter(|v| !v.is_empty()),
            created_at: text(4)?.unwrap_or(""),
            id: if with_id { text(5)?.unwrap_or("") } else { "" },
            page_path: if with_id { text(6)?.unwrap_or("") } else { "" },
            value,
            user_id: match user_at {
                Some(i) => text(i)?,
                None => None,
            },
            variant: match variant_at {
                Some(i) => text(i)?,
                None => None,
            },
            pay: Pay {
                amount_minor: pay_at[0].and_then(|i| match r.get_ref(i) {
                    Ok(ValueRef::Integer(v)) => Some(v),
                    _ => None,
                }),
                currency: pay_at[1].map(text).transpose()?.flatten(),
                stripe_event_id: pay_at[2].map(text).transpose()?.flatten(),
                stripe_object_id: pay_at[3].map(text).transpose()?.flatten(),
                stripe_customer_id: pay_at[4].map(text).transpose()?.flatten(),
                stripe_charge_id: pay_at[5].map(text).transpose()?.flatten(),
                attribution_rule: pay_at[6].map(text).transpose()?.flatten(),
            },
        };
        sink(row)?;
        n += 1;
        if n & 0xFFFF == 0 {
            if let Some(pb) = &opts.progress {
                pb.inc(0x10000);
            }
        }
    }
    Ok(n)
}

/// `created_at >= lo AND created_at < hi` as SQLite decides it for a TEXT column with text
/// bounds: text compares byte by byte; NULL, numbers (below any text) and blobs (above any
/// text) never pass both.
fn in_bounds(v: ValueRef<'_>, lo: Option<&str>, hi: Option<&str>) -> bool {
    match v {
        ValueRef::Text(t) => {
            lo.is_none_or(|lo| t >= lo.as_bytes()) && hi.is_none_or(|hi| t < hi.as_bytes())
        }
        ValueRef::Null => false,
        ValueRef::Integer(_) | ValueRef::Real(_) => lo.is_none(),
        ValueRef::Blob(_) => hi.is_none(),
    }
}

#[cfg(test)]
thread_local! {
    /// Tests: force the time range into SQL (to compare both ways of filtering).
    static FORCE_SQL_FILTER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

#[cfg(test)]
fn filter_mode_sql() -> bool {
    FORCE_SQL_FILTER.with(|f| f.get())
}

#[cfg(not(test))]
fn filter_mode_sql() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{Event, Ts};

    fn scan_all(path: &Path, opts: &ScanOptions, sql: bool) -> Vec<Event> {
        FORCE_SQL_FILTER.with(|f| f.set(sql));
        let mut out = Vec::new();
        scan(path, opts, &mut |r| {
            out.push(r.to_event());
            Ok(())
        })
        .unwrap();
        FORCE_SQL_FILTER.with(|f| f.set(false));
        out
    }

    #[test]
    fn time_range_filtered_here_keeps_the_rows_sql_keeps() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("e.db");
        let conn = Connection::open(&db).unwrap();
        conn.execute_batch(crate::events::SCHEMA_SQL).unwrap();
        // First and last rows in range (so the filter runs here), odd values between.
        let created: [&dyn rusqlite::ToSql; 9] = [
            &"2026-11-18T00:00:00.000Z",
            &"2026-11-01 10:00:00",
            &"2026-11-17",
            &"2026-11-30T00:00:00.000Z",
            &"garbage",
            &12345_i64,
            &b"2026-11-18 blob".to_vec(),
            &"2026-11-24 23:59:59",
            &"2026-11-19T00:00:00.000Z",
        ];
        for (i, at) in created.iter().enumerate() {
            conn.execute(
                "INSERT INTO partner_events VALUES (?1, 'seo', 'default', 'visit', '/', 'v', ?2)",
                rusqlite::params![format!("r{i}"), at],
            )
            .unwrap();
        }
        drop(conn);
        let opts = ScanOptions {
            since: Ts::parse("2026-11-17T10:00:00Z"),
            until: Ts::parse("2026-11-24T00:00:00Z"),
            ..Default::default()
        };
        let sql = scan_all(&db, &opts, true);
        let here = scan_all(&db, &opts, false);
        let ids: Vec<&str> = here.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["r0", "r2", "r7", "r8"]);
        assert_eq!(here, sql);
    }

    #[test]
    fn an_empty_visitor_id_is_anonymous_like_null() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("e.db");
        let conn = Connection::open(&db).unwrap();
        conn.execute_batch(crate::events::SCHEMA_SQL).unwrap();
        for (id, vid) in [("a", Some("")), ("b", None), ("c", Some("v1"))] {
            conn.execute(
                "INSERT INTO partner_events VALUES (?1, 'seo', 'default', 'visit', '/', ?2, '2026-11-17 10:00:00')",
                rusqlite::params![id, vid],
            )
            .unwrap();
        }
        drop(conn);
        let rows = scan_all(&db, &ScanOptions::default(), false);
        let ids: Vec<_> = rows.iter().map(|e| e.visitor_id.as_deref()).collect();
        assert_eq!(ids, [None, None, Some("v1")]);
    }
}
