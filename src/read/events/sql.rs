//! Read stage helper: the small piece of SQL a dump is made of — names, column lists,
//! `CREATE TABLE` column definitions and `VALUES` tuples of literals.
//!
//! Takes: one statement's text. Gives: names and [`Val`]s borrowed from it; errors carry the
//! byte offset where reading stopped.

use std::borrow::Cow;

/// A SQL value as written in a dump.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val<'a> {
    Null,
    Text(Cow<'a, str>),
    Number(&'a str),
}

impl Val<'_> {
    pub(crate) fn as_text(&self) -> Option<&str> {
        match self {
            Val::Null => None,
            Val::Text(t) => Some(t),
            Val::Number(n) => Some(n),
        }
    }
    pub(crate) fn as_number(&self) -> Option<f64> {
        match self {
            Val::Null => None,
            Val::Text(t) => t.parse().ok(),
            Val::Number(n) => n.parse().ok(),
        }
    }
}

pub(crate) type PResult<T> = std::result::Result<T, (usize, String)>;

/// Deepest nesting of function calls in one value (`sqlite3 .dump` writes two or three:
/// `replace(replace('...','\n',char(10)),'\r',char(13))`). Deeper input is refused before the
/// reader's stack could run out.
pub(super) const MAX_CALL_DEPTH: usize = 16;
/// Largest text a function call in a dump may produce (`replace` and `char` can multiply the
/// input); a dump of `partner_events` holds short values.
pub(super) const MAX_VALUE_BYTES: usize = 1 << 20;
/// Most text the function calls of one row (one `VALUES` tuple) may produce together, so many
/// small calls side by side cannot multiply a dump either.
pub(super) const MAX_ROW_EXPANSION: usize = 4 << 20;

/// A small recursive-descent reader for the statements dumps contain. Positions are byte
/// offsets into the statement.
pub(crate) struct Parser<'a> {
    pub s: &'a str,
    pub i: usize,
    /// Function calls open around the current value.
    depth: usize,
    /// Bytes the function calls of the current tuple have produced.
    produced: usize,
}

impl<'a> Parser<'a> {
    pub(crate) fn new(s: &'a str) -> Self {
        Parser {
            s,
            i: 0,
            depth: 0,
            produced: 0,
        }
    }
    fn bytes(&self) -> &'a [u8] {
        self.s.as_bytes()
    }
    pub(crate) fn peek(&self) -> Option<u8> {
        self.bytes().get(self.i).copied()
    }
    pub(crate) fn ws(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }
    fn err<T>(&self, msg: impl Into<String>) -> PResult<T> {
        Err((self.i, msg.into()))
    }
    /// Consume `kw` (case-insensitive, whole word) if it is next.
    pub(crate) fn keyword(&mut self, kw: &str) -> bool {
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
    pub(crate) fn ident(&mut self) -> PResult<String> {
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
    pub(crate) fn qualified_name(&mut self) -> PResult<String> {
        let mut name = self.ident()?;
        self.ws();
        if self.peek() == Some(b'.') {
            self.i += 1;
            name = self.ident()?;
        }
        Ok(name)
    }
    /// `(a, b, c)`.
    pub(crate) fn name_list(&mut self) -> PResult<Vec<String>> {
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
    pub(crate) fn column_defs(&mut self) -> PResult<Vec<String>> {
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
    pub(crate) fn value(&mut self) -> PResult<Val<'a>> {
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
                if self.depth >= MAX_CALL_DEPTH {
                    return Err((
                        at,
                        format!("function calls nested more than {MAX_CALL_DEPTH} deep in a value"),
                    ));
                }
                self.i += 1;
                self.depth += 1;
                let args = self.call_args();
                self.depth -= 1;
                let args = args?;
                let budget = MAX_ROW_EXPANSION.saturating_sub(self.produced);
                let text = call(&name, &args, budget.min(MAX_VALUE_BYTES)).map_err(|m| (at, m))?;
                self.produced += text.len();
                Ok(Val::Text(Cow::Owned(text)))
            }
        }
    }
    /// The arguments of a call, after its `(`, up to and with its `)`.
    fn call_args(&mut self) -> PResult<Vec<Val<'a>>> {
        let mut args = Vec::new();
        loop {
            self.ws();
            if self.peek() == Some(b')') {
                self.i += 1;
                return Ok(args);
            }
            args.push(self.value()?);
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b')') => {
                    self.i += 1;
                    return Ok(args);
                }
                _ => return self.err("expected `,` or `)` in a function call"),
            }
        }
    }
    /// `(v, v, ...)`.
    pub(crate) fn tuple(&mut self) -> PResult<Vec<Val<'a>>> {
        self.expect(b'(')?;
        self.produced = 0;
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

/// The SQL functions `sqlite3 .dump` writes for text with control characters. No result
/// grows past [`MAX_VALUE_BYTES`]: the size is known before the text is built.
fn call(name: &str, args: &[Val<'_>], limit: usize) -> Result<String, String> {
    let text = |i: usize| args.get(i).and_then(Val::as_text).unwrap_or("");
    let too_big = |n: usize| {
        format!(
            "{name}() would make {n} bytes of text, over the limit of {MAX_VALUE_BYTES} bytes a \
             value and {MAX_ROW_EXPANSION} bytes a row may expand to"
        )
    };
    match name {
        "replace" if args.len() == 3 => {
            let (s, from, to) = (text(0), text(1), text(2));
            // SQLite: an empty pattern leaves the text as it is.
            if from.is_empty() {
                return Ok(s.to_string());
            }
            let hits = s.matches(from).count();
            let size = (s.len() - hits * from.len()).saturating_add(hits.saturating_mul(to.len()));
            if size > limit {
                return Err(too_big(size));
            }
            Ok(s.replace(from, to))
        }
        "char" => {
            if args.len().saturating_mul(4) > limit {
                return Err(too_big(args.len().saturating_mul(4)));
            }
            args.iter()
                .map(|a| {
                    a.as_number()
                        .filter(|n| (0.0..=f64::from(u32::MAX)).contains(n))
                        .and_then(|n| char::from_u32(n as u32))
                        .ok_or_else(|| "char() needs code points".to_string())
                })
                .collect()
        }
        "unistr" if args.len() == 1 && text(0).len() > limit => Err(too_big(text(0).len())),
        "unistr" if args.len() == 1 => unistr(text(0)),
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
