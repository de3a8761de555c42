//! Read stage, SQL dump: stream `partner_events` rows out of a `wrangler d1 export` or
//! `sqlite3 .dump` file, statement by statement (the file is never loaded whole).
//!
//! Takes: a `.sql` file. Gives: [`Row`]s from its `INSERT INTO partner_events` statements; the
//! column order comes from the statement's column list or the dump's `CREATE TABLE`. Other
//! tables, `PRAGMA`, `BEGIN`/`COMMIT` and indexes are skipped. Values may be literals or the
//! `replace(...,'\n',char(10))` / `unistr(...)` forms that `sqlite3 .dump` writes for control
//! characters.

use super::{ColumnMap, Row, RowSink, ScanOptions, OPTIONAL_COLUMNS, REQUIRED_COLUMNS, TABLE};
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::error::{Error, Result};
use std::borrow::Cow;
use std::io::{BufRead, BufReader};
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
        let mut p = Parser { s: &stmt, i: 0 };
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
                            "INSERT without a column list and no CREATE TABLE before it: {} values, expected 7 (the seed's columns) or 9 (with value, user_id)",
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
        9 => names.extend(OPTIONAL_COLUMNS),
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
        visitor_id: text(map.required[5])?,
        created_at: text(map.required[6])?.unwrap_or(""),
        value: match map.value {
            Some(i) => get(i)?.as_number(),
            None => None,
        },
        user_id: match map.user_id {
            Some(i) => text(i)?,
            None => None,
        },
    })
}

/// Splits a dump into statements at `;` outside quotes and comments, line by line.
struct DumpReader<'p, R> {
    reader: R,
    path: &'p Path,
    line: usize,
    bytes_read: u64,
    buf: Vec<u8>,
    pending: Vec<u8>,
    pending_line: usize,
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
}

impl<'p, R: BufRead> DumpReader<'p, R> {
    fn new(reader: R, path: &'p Path) -> Self {
        DumpReader {
            reader,
            path,
            line: 0,
            bytes_read: 0,
            buf: Vec::new(),
            pending: Vec::new(),
            pending_line: 0,
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
            self.buf.clear();
            let got = self
                .reader
                .read_until(b'\n', &mut self.buf)
                .map_err(|e| Error::io(format!("cannot read {}", self.path.display()), e))?;
            if got == 0 {
                let rest = std::mem::take(&mut self.pending);
                if rest.iter().all(u8::is_ascii_whitespace) {
                    return Ok(None);
                }
                if !matches!(self.state, Quote::None | Quote::BlockComment) {
                    return Err(
                        self.error(self.pending_line, "the file ends inside a quoted value")
                    );
                }
                return self.finish(rest, self.pending_line).map(Some);
            }
            self.line += 1;
            self.bytes_read += got as u64;
            let bytes = std::mem::take(&mut self.buf);
            self.split_line(&bytes);
            self.buf = bytes;
        }
    }

    fn split_line(&mut self, bytes: &[u8]) {
        let mut i = 0;
        while i < bytes.len() {
            let c = bytes[i];
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
                        // Line comment: drop the rest of the line, keep tokens apart.
                        if !self.pending.is_empty() {
                            self.pending.push(b' ');
                        }
                        return;
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

/// A SQL value as written in a dump.
#[derive(Debug, Clone, PartialEq)]
enum Val<'a> {
    Null,
    Text(Cow<'a, str>),
    Number(&'a str),
}

impl Val<'_> {
    fn as_text(&self) -> Option<&str> {
        match self {
            Val::Null => None,
            Val::Text(t) => Some(t),
            Val::Number(n) => Some(n),
        }
    }
    fn as_number(&self) -> Option<f64> {
        match self {
            Val::Null => None,
            Val::Text(t) => t.parse().ok(),
            Val::Number(n) => n.parse().ok(),
        }
    }
}

type PResult<T> = std::result::Result<T, (usize, String)>;

/// A small recursive-descent reader for the statements dumps contain. Positions are byte
/// offsets into the statement.
struct Parser<'a> {
    s: &'a str,
    i: usize,
}

impl<'a> Parser<'a> {
    fn bytes(&self) -> &'a [u8] {
        self.s.as_bytes()
    }
    fn peek(&self) -> Option<u8> {
        self.bytes().get(self.i).copied()
    }
    fn ws(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }
    fn err<T>(&self, msg: impl Into<String>) -> PResult<T> {
        Err((self.i, msg.into()))
    }
    /// Consume `kw` (case-insensitive, whole word) if it is next.
    fn keyword(&mut self, kw: &str) -> bool {
        self.ws();
        let b = self.bytes();
        let end = self.i + kw.len();
        if end <= b.len()
            && b[self.i..end].eq_ignore_ascii_case(kw.as_bytes())
            && !b
                .get(end)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
        {
            self.i = end;
            true
        } else {
            false
        }
    }
    fn expect(&mut self, c: u8) -> PResult<()> {
        self.ws();
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            self.err(format!("expected `{}`", c as char))
        }
    }
    /// An identifier, bare or quoted with "", ``, [].
    fn ident(&mut self) -> PResult<String> {
        self.ws();
        let b = self.bytes();
        let close = match self.peek() {
            Some(b'"') => b'"',
            Some(b'`') => b'`',
            Some(b'[') => b']',
            Some(c) if c.is_ascii_alphabetic() || c == b'_' => {
                let start = self.i;
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'$')
                {
                    self.i += 1;
                }
                return Ok(self.s[start..self.i].to_string());
            }
            _ => return self.err("expected a name"),
        };
        self.i += 1;
        let mut out = String::new();
        loop {
            match b.get(self.i) {
                None => return self.err("unterminated quoted name"),
                Some(&c) if c == close => {
                    if close != b']' && b.get(self.i + 1) == Some(&close) {
                        out.push(close as char);
                        self.i += 2;
                    } else {
                        self.i += 1;
                        return Ok(out);
                    }
                }
                Some(_) => {
                    let ch = self.s[self.i..].chars().next().unwrap_or('\u{fffd}');
                    out.push(ch);
                    self.i += ch.len_utf8();
                }
            }
        }
    }
    /// `name` or `schema.name`; gives the last part.
    fn qualified_name(&mut self) -> PResult<String> {
        let mut name = self.ident()?;
        self.ws();
        if self.peek() == Some(b'.') {
            self.i += 1;
            name = self.ident()?;
        }
        Ok(name)
    }
    /// `(a, b, c)`.
    fn name_list(&mut self) -> PResult<Vec<String>> {
        self.expect(b'(')?;
        let mut out = vec![self.ident()?];
        loop {
            self.ws();
            match self.peek() {
                Some(b',') => {
                    self.i += 1;
                    out.push(self.ident()?);
                }
                Some(b')') => {
                    self.i += 1;
                    return Ok(out);
                }
                _ => return self.err("expected `,` or `)` in the column list"),
            }
        }
    }
    /// The column names of `CREATE TABLE t (col type ..., ..., table constraints)`.
    fn column_defs(&mut self) -> PResult<Vec<String>> {
        self.expect(b'(')?;
        let mut out = Vec::new();
        loop {
            self.ws();
            let is_constraint = ["CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"]
                .iter()
                .any(|k| {
                    let save = self.i;
                    let hit = self.keyword(k);
                    self.i = save;
                    hit
                });
            if !is_constraint {
                out.push(self.ident()?);
            }
            // Skip to the next top-level `,` or the closing `)`.
            let mut depth = 0usize;
            loop {
                self.ws();
                match self.peek() {
                    None => return self.err("unterminated CREATE TABLE"),
                    Some(b'(') => {
                        depth += 1;
                        self.i += 1;
                    }
                    Some(b')') if depth > 0 => {
                        depth -= 1;
                        self.i += 1;
                    }
                    Some(b')') => {
                        self.i += 1;
                        return Ok(out);
                    }
                    Some(b',') if depth == 0 => {
                        self.i += 1;
                        break;
                    }
                    Some(b'\'') => {
                        self.string()?;
                    }
                    Some(b'"' | b'`' | b'[') => {
                        self.ident()?;
                    }
                    Some(_) => self.i += 1,
                }
            }
        }
    }
    /// `'text'` with `''` for a quote.
    fn string(&mut self) -> PResult<Cow<'a, str>> {
        let b = self.bytes();
        self.i += 1;
        let start = self.i;
        let mut owned: Option<String> = None;
        loop {
            match b.get(self.i) {
                None => return self.err("unterminated string"),
                Some(b'\'') if b.get(self.i + 1) == Some(&b'\'') => {
                    let o = owned.get_or_insert_with(String::new);
                    o.push_str(&self.s[start..self.i]);
                    o.push('\'');
                    self.i += 2;
                    // Continue collecting after the escaped quote.
                    let rest = self.string_tail()?;
                    o.push_str(&rest);
                    return Ok(Cow::Owned(owned.unwrap_or_default()));
                }
                Some(b'\'') => {
                    self.i += 1;
                    return Ok(Cow::Borrowed(&self.s[start..self.i - 1]));
                }
                Some(_) => self.i += 1,
            }
        }
    }
    /// The rest of a string after an escaped quote (the slow path).
    fn string_tail(&mut self) -> PResult<String> {
        let b = self.bytes();
        let mut out = String::new();
        let mut start = self.i;
        loop {
            match b.get(self.i) {
                None => return self.err("unterminated string"),
                Some(b'\'') if b.get(self.i + 1) == Some(&b'\'') => {
                    out.push_str(&self.s[start..self.i]);
                    out.push('\'');
                    self.i += 2;
                    start = self.i;
                }
                Some(b'\'') => {
                    out.push_str(&self.s[start..self.i]);
                    self.i += 1;
                    return Ok(out);
                }
                Some(_) => self.i += 1,
            }
        }
    }
    /// One value: a literal, NULL, or the functions dumps use for control characters.
    fn value(&mut self) -> PResult<Val<'a>> {
        self.ws();
        match self.peek() {
            Some(b'\'') => Ok(Val::Text(self.string()?)),
            Some(c) if c.is_ascii_digit() || c == b'-' || c == b'+' || c == b'.' => {
                let start = self.i;
                self.i += 1;
                while self.peek().is_some_and(|c| {
                    c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'-' | b'+')
                }) {
                    self.i += 1;
                }
                Ok(Val::Number(&self.s[start..self.i]))
            }
            _ => {
                if self.keyword("NULL") {
                    return Ok(Val::Null);
                }
                let at = self.i;
                let name = self.ident()?.to_ascii_lowercase();
                self.ws();
                if self.peek() != Some(b'(') {
                    return Err((at, format!("unsupported value `{name}`")));
                }
                self.i += 1;
                let mut args = Vec::new();
                loop {
                    self.ws();
                    if self.peek() == Some(b')') {
                        self.i += 1;
                        break;
                    }
                    args.push(self.value()?);
                    self.ws();
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b')') => {
                            self.i += 1;
                            break;
                        }
                        _ => return self.err("expected `,` or `)` in a function call"),
                    }
                }
                call(&name, &args)
                    .map(|s| Val::Text(Cow::Owned(s)))
                    .map_err(|m| (at, m))
            }
        }
    }
    /// `(v, v, ...)`.
    fn tuple(&mut self) -> PResult<Vec<Val<'a>>> {
        self.expect(b'(')?;
        let mut out = Vec::with_capacity(9);
        loop {
            out.push(self.value()?);
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b')') => {
                    self.i += 1;
                    return Ok(out);
                }
                _ => return self.err("expected `,` or `)` between values"),
            }
        }
    }
}

/// The SQL functions `sqlite3 .dump` writes for text with control characters.
fn call(name: &str, args: &[Val<'_>]) -> Result<String, String> {
    let text = |i: usize| args.get(i).and_then(Val::as_text).unwrap_or("").to_string();
    match name {
        "replace" if args.len() == 3 => Ok(text(0).replace(&text(1), &text(2))),
        "char" => args
            .iter()
            .map(|a| {
                a.as_number()
                    .and_then(|n| char::from_u32(n as u32))
                    .ok_or_else(|| "char() needs code points".to_string())
            })
            .collect(),
        "unistr" if args.len() == 1 => unistr(&text(0)),
        _ => Err(format!("unsupported function `{name}()` in a value")),
    }
}

/// SQLite's `unistr()`: `\XXXX`, `\+XXXXXX`, `\uXXXX`, `\UXXXXXXXX` escapes and `\\`.
fn unistr(s: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let digits = match it.peek() {
            Some('\\') => {
                it.next();
                out.push('\\');
                continue;
            }
            Some('+') => {
                it.next();
                6
            }
            Some('u') => {
                it.next();
                4
            }
            Some('U') => {
                it.next();
                8
            }
            _ => 4,
        };
        let hex: String = (0..digits).filter_map(|_| it.next()).collect();
        let cp = u32::from_str_radix(&hex, 16)
            .map_err(|_| format!("bad escape in unistr(): \\{hex}"))?;
        out.push(char::from_u32(cp).ok_or("bad code point in unistr()")?);
    }
    Ok(out)
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

    #[test]
    fn a_different_schema_names_the_missing_columns() {
        let sql = "CREATE TABLE partner_events (id TEXT, partner TEXT, created_at TEXT);\n";
        let e = rows_of(sql).unwrap_err().to_string();
        assert!(e.contains("missing columns partner_code"), "{e}");
    }
}
