//! Read stage, SQL dump: stream `partner_events` rows out of a `wrangler d1 export` or
//! `sqlite3 .dump` file, statement by statement (the file is never loaded whole).
//!
//! Takes: a `.sql` file. Gives: [`Row`]s from its `INSERT INTO partner_events` statements; the
//! column order comes from the statement's column list or the dump's `CREATE TABLE`. Other
//! tables, `PRAGMA`, `BEGIN`/`COMMIT` and indexes are skipped. Values may be literals or the
//! `replace(...,'\n',char(10))` / `unistr(...)` forms that `sqlite3 .dump` writes for control
//! characters.

use super::sql::{Parser, Val};
use super::{ColumnMap, Pay, Row, RowSink, ScanOptions, OPTIONAL_COLUMNS, REQUIRED_COLUMNS, TABLE};
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::error::{Error, Result};
use std::borrow::Cow;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

pub(crate) fn scan(path: &Path, opts: &ScanOptions, sink: &mut RowSink<'_>) -> Result<u64> {
    let file = std::fs::File::open(path)
        .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
    if let (Some(pb), Ok(meta)) = (&opts.progress, file.metadata()) {
        pb.set_length(meta.len());
    }
    let mut reader = DumpReader::new(BufReader::with_capacity(1 << 20, file), path);
    let bounds = opts.text_bounds();
    let mut n = 0u64;
    let mut columns: Option<ColumnMap> = None;
    let mut saw_table = false;
    while let Some((stmt, line)) = reader.next_statement()? {
        let at = |col: usize, msg: String| -> Error {
            let col = col + 1;
            Error::Input(Diagnostics(vec![Diagnostic::new(path, line, col, msg)
                .expected("`INSERT INTO partner_events [(columns)] VALUES (...), ...;` with literal values, as `wrangler d1 export` writes")
                .hint("export again with `wrangler d1 export <db> --local --output events.sql` or `sqlite3 events.db .dump`")]))
        };
        let mut p = Parser::new(&stmt);
        if p.keyword("CREATE") {
            p.keyword("TEMP");
            p.keyword("TEMPORARY");
            if !p.keyword("TABLE") {
                continue;
            }
            if p.keyword("IF") {
                p.keyword("NOT");
                p.keyword("EXISTS");
            }
            let name = p.qualified_name().map_err(|(c, m)| at(c, m))?;
            if !name.eq_ignore_ascii_case(TABLE) {
                continue;
            }
            saw_table = true;
            let names = p.column_defs().map_err(|(c, m)| at(c, m))?;
            columns = Some(ColumnMap::from_names(
                &names,
                &format!("{}:{line}", path.display()),
            )?);
        } else if p.keyword("INSERT") || p.keyword("REPLACE") {
            if p.keyword("OR") {
                p.ident().map_err(|(c, m)| at(c, m))?;
            }
            if !p.keyword("INTO") {
                return Err(at(p.i, "expected INTO after INSERT".into()));
            }
            let name = p.qualified_name().map_err(|(c, m)| at(c, m))?;
            if !name.eq_ignore_ascii_case(TABLE) {
                continue;
            }
            saw_table = true;
            p.ws();
            let listed = if p.peek() == Some(b'(') {
                let names = p.name_list().map_err(|(c, m)| at(c, m))?;
                Some(ColumnMap::from_names(
                    &names,
                    &format!("{}:{line}", path.display()),
                )?)
            } else {
                None
            };
            if !p.keyword("VALUES") {
                return Err(at(
                    p.i,
                    "expected VALUES (only INSERT ... VALUES is read)".into(),
                ));
            }
            loop {
                let tuple_at = p.i;
                let vals = p.tuple().map_err(|(c, m)| at(c, m))?;
                let map = match (&listed, &columns) {
                    (Some(m), _) | (None, Some(m)) => Cow::Borrowed(m),
                    (None, None) => Cow::Owned(default_columns(vals.len()).ok_or_else(|| {
                        at(tuple_at, format!(
                            "INSERT without a column list and no CREATE TABLE before it: {} values, expected 7 (id, partner_code, campaign, event_name, page_path, visitor_id, created_at), 9 (with value, user_id) or 10 (and variant)",
                            vals.len()
                        ))
                    })?),
                };
                let row = to_row(&vals, &map).map_err(|m| at(tuple_at, m))?;
                if opts.keep_text(&bounds, row.created_at) {
                    sink(row)?;
                    n += 1;
                }
                p.ws();
                if p.peek() == Some(b',') {
                    p.i += 1;
                    continue;
                }
                break;
            }
        }
        if let Some(pb) = &opts.progress {
            pb.set_position(reader.bytes_read);
        }
    }
    if !saw_table {
        return Err(Error::user_hint(
            format!("{}: this SQL file has no partner_events table", path.display()),
            "expected a dump of the events database: `wrangler d1 export <db> --output events.sql` \
             (add --local for the local state) or `sqlite3 events.db .dump`",
        ));
    }
    Ok(n)
}

fn default_columns(n: usize) -> Option<ColumnMap> {
    let mut names: Vec<&str> = REQUIRED_COLUMNS.to_vec();
    match n {
        7 => {}
        9 => names.extend(&OPTIONAL_COLUMNS[..2]),
        10 => names.extend(&OPTIONAL_COLUMNS[..3]),
        17 => names.extend(OPTIONAL_COLUMNS),
        _ => return None,
    }
    ColumnMap::from_names(&names, "").ok()
}

fn to_row<'a>(vals: &'a [Val<'a>], map: &ColumnMap) -> Result<Row<'a>, String> {
    let get = |i: usize| -> Result<&'a Val<'a>, String> {
        vals.get(i)
            .ok_or_else(|| format!("this row has {} values, fewer than its columns", vals.len()))
    };
    let text = |i: usize| -> Result<Option<&'a str>, String> { Ok(get(i)?.as_text()) };
    Ok(Row {
        id: text(map.required[0])?.unwrap_or(""),
        partner_code: text(map.required[1])?.unwrap_or(""),
        campaign: text(map.required[2])?.unwrap_or(""),
        event_name: text(map.required[3])?.unwrap_or(""),
        page_path: text(map.required[4])?.unwrap_or(""),
        // NULL and '' are both anonymous (never funneled).
        visitor_id: text(map.required[5])?.filter(|v| !v.is_empty()),
        created_at: text(map.required[6])?.unwrap_or(""),
        value: match map.value {
            Some(i) => get(i)?.as_number(),
            None => None,
        },
        user_id: match map.user_id {
            Some(i) => text(i)?,
            None => None,
        },
        variant: match map.variant {
            Some(i) => text(i)?,
            None => None,
        },
        pay: {
            let t = |k: usize| -> Result<Option<&'a str>, String> {
                map.pay[k].map(text).transpose().map(Option::flatten)
            };
            Pay {
                amount_minor: match map.pay[0] {
                    Some(i) => get(i)?.as_text().and_then(|v| v.parse().ok()),
                    None => None,
                },
                currency: t(1)?,
                stripe_event_id: t(2)?,
                stripe_object_id: t(3)?,
                stripe_customer_id: t(4)?,
                stripe_charge_id: t(5)?,
                attribution_rule: t(6)?,
            }
        },
    })
}

/// The longest statement read (`wrangler d1 export` and `sqlite3 .dump` write one row per
/// `INSERT`, a few hundred bytes): a longer one is refused, so memory stays bounded whatever
/// the file holds.
pub(super) const MAX_STATEMENT_BYTES: usize = 16 << 20;
/// Bytes read at a time: a file without line ends is still read in bounded pieces.
const PIECE: u64 = 1 << 20;

/// Splits a dump into statements at `;` outside quotes and comments, piece by piece (a line,
/// or [`PIECE`] bytes of a longer one).
struct DumpReader<'p, R> {
    reader: R,
    path: &'p Path,
    line: usize,
    /// The last piece ended a line: the next one starts a new line.
    at_line_start: bool,
    bytes_read: u64,
    buf: Vec<u8>,
    pending: Vec<u8>,
    pending_line: usize,
    /// The statement being collected grew past [`MAX_STATEMENT_BYTES`].
    overflow: bool,
    state: Quote,
    ready: std::collections::VecDeque<(Vec<u8>, usize)>,
}

#[derive(Clone, Copy, PartialEq)]
enum Quote {
    None,
    Single,
    Double,
    Backtick,
    Bracket,
    BlockComment,
    LineComment,
}

impl<'p, R: BufRead> DumpReader<'p, R> {
    fn new(reader: R, path: &'p Path) -> Self {
        DumpReader {
            reader,
            path,
            line: 0,
            at_line_start: true,
            bytes_read: 0,
            buf: Vec::new(),
            pending: Vec::new(),
            pending_line: 0,
            overflow: false,
            state: Quote::None,
            ready: Default::default(),
        }
    }

    /// The next complete statement (without its `;`) and the line it starts on.
    fn next_statement(&mut self) -> Result<Option<(String, usize)>> {
        loop {
            if let Some((stmt, line)) = self.ready.pop_front() {
                return self.finish(stmt, line).map(Some);
            }
            if self.overflow {
                return Err(self.error(
                    self.pending_line,
                    &format!(
                        "a statement longer than {} MiB (is a `;` missing?)",
                        MAX_STATEMENT_BYTES >> 20
                    ),
                ));
            }
            self.buf.clear();
            let got = (&mut self.reader)
                .take(PIECE)
                .read_until(b'\n', &mut self.buf)
                .map_err(|e| Error::io(format!("cannot read {}", self.path.display()), e))?;
            if got == 0 {
                let rest = std::mem::take(&mut self.pending);
                if rest.iter().all(u8::is_ascii_whitespace) {
                    return Ok(None);
                }
                if !matches!(
                    self.state,
                    Quote::None | Quote::BlockComment | Quote::LineComment
                ) {
                    return Err(
                        self.error(self.pending_line, "the file ends inside a quoted value")
                    );
                }
                return self.finish(rest, self.pending_line).map(Some);
            }
            if self.at_line_start {
                self.line += 1;
            }
            self.at_line_start = self.buf.last() == Some(&b'\n');
            self.bytes_read += got as u64;
            let bytes = std::mem::take(&mut self.buf);
            self.split_line(&bytes);
            self.buf = bytes;
            if self.pending.len() > MAX_STATEMENT_BYTES {
                self.overflow = true;
                self.pending = Vec::new();
            }
        }
    }

    fn split_line(&mut self, bytes: &[u8]) {
        let mut i = 0;
        while i < bytes.len() {
            let c = bytes[i];
            if self.state == Quote::LineComment {
                // Dropped up to the line end; tokens stay apart.
                if c == b'\n' {
                    self.state = Quote::None;
                    if !self.pending.is_empty() {
                        self.pending.push(b' ');
                    }
                }
                i += 1;
                continue;
            }
            if self.pending.is_empty() && self.state == Quote::None && c.is_ascii_whitespace() {
                i += 1;
                continue;
            }
            if self.pending.is_empty() {
                self.pending_line = self.line;
            }
            match self.state {
                Quote::None => match c {
                    b'\'' => self.state = Quote::Single,
                    b'"' => self.state = Quote::Double,
                    b'`' => self.state = Quote::Backtick,
                    b'[' => self.state = Quote::Bracket,
                    b'-' if bytes.get(i + 1) == Some(&b'-') => {
                        self.state = Quote::LineComment;
                        i += 2;
                        continue;
                    }
                    b'/' if bytes.get(i + 1) == Some(&b'*') => {
                        self.state = Quote::BlockComment;
                        i += 2;
                        continue;
                    }
                    b';' => {
                        let stmt = std::mem::take(&mut self.pending);
                        self.ready.push_back((stmt, self.pending_line));
                        i += 1;
                        continue;
                    }
                    _ => {}
                },
                Quote::Single if c == b'\'' => self.state = Quote::None,
                Quote::Double if c == b'"' => self.state = Quote::None,
                Quote::Backtick if c == b'`' => self.state = Quote::None,
                Quote::Bracket if c == b']' => self.state = Quote::None,
                Quote::BlockComment => {
                    if c == b'*' && bytes.get(i + 1) == Some(&b'/') {
                        self.state = Quote::None;
                        if !self.pending.is_empty() {
                            self.pending.push(b' ');
                        }
                        i += 2;
                    } else {
                        i += 1;
                    }
                    continue;
                }
                _ => {}
            }
            self.pending.push(c);
            i += 1;
        }
    }

    fn finish(&self, stmt: Vec<u8>, line: usize) -> Result<(String, usize)> {
        String::from_utf8(stmt)
            .map(|s| (s, line))
            .map_err(|_| self.error(line, "this statement is not valid UTF-8"))
    }

    fn error(&self, line: usize, msg: &str) -> Error {
        Error::Input(Diagnostics(vec![Diagnostic::new(self.path, line, 0, msg)
            .expected(
                "a SQL dump of partner_events as `wrangler d1 export` writes it",
            )]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows_of(sql: &str) -> Result<Vec<crate::events::Event>> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.sql");
        std::fs::write(&p, sql).unwrap();
        let mut out = Vec::new();
        scan(&p, &ScanOptions::default(), &mut |r| {
            out.push(r.to_event());
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn reads_sqlite_dump_style_inserts() {
        let sql = "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n\
            CREATE TABLE partner_events (id TEXT PRIMARY KEY, partner_code TEXT NOT NULL,\n  campaign TEXT NOT NULL, event_name TEXT NOT NULL, page_path TEXT NOT NULL,\n  visitor_id TEXT, created_at TEXT NOT NULL, value REAL, user_id TEXT);\n\
            INSERT INTO partner_events VALUES('a','seo','default','visit','/p/seo/','v1','2026-11-17T10:00:00.000Z',NULL,NULL);\n\
            INSERT INTO partner_events VALUES('b','seo','it''s','revenue','/x','v1','2026-11-17 10:00:01',12.5,'u-9');\n\
            CREATE INDEX idx_partner_events_code_time ON partner_events(partner_code, created_at);\nCOMMIT;\n";
        let rows = rows_of(sql).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].visitor_id.as_deref(), Some("v1"));
        assert_eq!(rows[1].campaign, "it's");
        assert_eq!(rows[1].value, Some(12.5));
        assert_eq!(rows[1].user_id.as_deref(), Some("u-9"));
    }

    #[test]
    fn reads_wrangler_export_style_with_column_lists_and_control_characters() {
        let sql = "CREATE TABLE \"partner_events\" (\"id\" TEXT PRIMARY KEY, \"partner_code\" TEXT NOT NULL, \"campaign\" TEXT NOT NULL, \"event_name\" TEXT NOT NULL, \"page_path\" TEXT NOT NULL, \"visitor_id\" TEXT, \"created_at\" TEXT NOT NULL);\n\
            INSERT INTO \"partner_events\" (\"created_at\",\"id\",\"partner_code\",\"campaign\",\"event_name\",\"page_path\",\"visitor_id\") VALUES('2026-11-17 09:00:00','x','seo','default','click',replace('/go/a\\nb','\\n',char(10)),NULL),('2026-11-17 09:00:01','y','seo','default','visit',unistr('/p\\000a'),'v2');\n";
        let rows = rows_of(sql).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].page_path, "/go/a\nb");
        assert_eq!(rows[0].visitor_id, None);
        assert_eq!(rows[1].page_path, "/p\n");
        assert_eq!(rows[1].created_at, "2026-11-17 09:00:01");
    }

    #[test]
    fn an_empty_visitor_id_is_anonymous_like_null() {
        let sql = "CREATE TABLE partner_events (id, partner_code, campaign, event_name, page_path, visitor_id, created_at);\n\
            INSERT INTO partner_events VALUES('a','seo','default','visit','/p/seo/','','2026-11-17 10:00:00');\n\
            INSERT INTO partner_events VALUES('b','seo','default','visit','/p/seo/',NULL,'2026-11-17 10:00:01');\n\
            INSERT INTO partner_events VALUES('c','seo','default','visit','/p/seo/','v1','2026-11-17 10:00:02');\n";
        let rows = rows_of(sql).unwrap();
        let ids: Vec<_> = rows.iter().map(|r| r.visitor_id.as_deref()).collect();
        assert_eq!(ids, [None, None, Some("v1")]);
    }

    #[test]
    fn a_dump_without_the_table_names_what_was_expected() {
        let e = rows_of("CREATE TABLE other (a);\nINSERT INTO other VALUES(1);\n").unwrap_err();
        assert!(e.to_string().contains("no partner_events table"), "{e}");
    }

    #[test]
    fn a_broken_insert_points_at_its_line() {
        let sql = "CREATE TABLE partner_events (id, partner_code, campaign, event_name, page_path, visitor_id, created_at);\n\nINSERT INTO partner_events VALUES('a','seo' 'x');\n";
        let e = rows_of(sql).unwrap_err().to_string();
        assert!(e.contains("d.sql:3:"), "{e}");
    }

    const HEAD: &str = "CREATE TABLE partner_events (id, partner_code, campaign, event_name, page_path, visitor_id, created_at);\n";

    #[test]
    fn deeply_nested_calls_are_a_located_error_not_a_stack_overflow() {
        let n = 50_000;
        let sql = format!(
            "{HEAD}INSERT INTO partner_events VALUES('a','seo','d','visit',{}'x'{},'v','2026-11-17');\n",
            "replace(".repeat(n),
            ",'a','b')".repeat(n)
        );
        let e = rows_of(&sql).unwrap_err().to_string();
        assert!(
            e.contains("d.sql:2:") && e.contains("nested more than"),
            "{e}"
        );
        // The depth dumps really use is read.
        let ok = format!(
            "{HEAD}INSERT INTO partner_events VALUES('a','seo','d','visit',replace(replace('/a\\n\\r','\\n',char(10)),'\\r',char(13)),'v','2026-11-17');\n"
        );
        assert_eq!(rows_of(&ok).unwrap()[0].page_path, "/a\n\r");
    }

    #[test]
    fn expanding_calls_stop_at_the_value_limit() {
        // 20 nested replace('aaaa'...) would make 4^20 bytes (4 TiB).
        let n = 15;
        let sql = format!(
            "{HEAD}INSERT INTO partner_events VALUES('a','seo','d','visit',{}'aaaa'{},'v','2026-11-17');\n",
            "replace(".repeat(n),
            ",'a','aaaa')".repeat(n)
        );
        let e = rows_of(&sql).unwrap_err().to_string();
        assert!(e.contains("d.sql:2:") && e.contains("bytes of text"), "{e}");
        // Side by side: each call small, together over the row's budget.
        let wide: Vec<String> = (0..9)
            .map(|_| format!("replace('{}','a','{}')", "a".repeat(1024), "b".repeat(1000)))
            .collect();
        let sql = format!(
            "CREATE TABLE partner_events (id, partner_code, campaign, event_name, page_path, visitor_id, created_at, value, user_id);\nINSERT INTO partner_events VALUES({});\n",
            wide.join(",")
        );
        let e = rows_of(&sql).unwrap_err().to_string();
        assert!(e.contains("bytes of text"), "{e}");
        // An empty pattern leaves the text alone, as in SQLite.
        let sql = format!(
            "{HEAD}INSERT INTO partner_events VALUES('a','seo','d','visit',replace('/p','','xyz'),'v','2026-11-17');\n"
        );
        assert_eq!(rows_of(&sql).unwrap()[0].page_path, "/p");
    }

    #[test]
    fn a_statement_without_end_is_refused_at_the_limit() {
        let mut sql = format!("{HEAD}INSERT INTO partner_events VALUES('a','seo','d','visit','/");
        sql.push_str(&"x".repeat(MAX_STATEMENT_BYTES + 10));
        let e = rows_of(&sql).unwrap_err().to_string();
        assert!(e.contains("d.sql:2\n") && e.contains("longer than"), "{e}");
        // A comment split across pieces still ends at its line end.
        let sql = format!(
            "{HEAD}-- {}\nINSERT INTO partner_events VALUES('a','seo','d','visit','/p','v','2026-11-17');\n",
            "c".repeat(3 << 20)
        );
        let rows = rows_of(&sql).unwrap();
        assert_eq!(rows.len(), 1);
    }

    #[test]
    fn a_different_schema_names_the_missing_columns() {
        let sql = "CREATE TABLE partner_events (id TEXT, partner TEXT, created_at TEXT);\n";
        let e = rows_of(sql).unwrap_err().to_string();
        assert!(e.contains("missing columns partner_code"), "{e}");
    }
}
