//! Privacy stage of `leads`: delete one person's rows from a local SQLite event file.
//!
//! Takes: a SQLite file holding `partner_events` and a visitor id or a product user id.
//! Gives: the number of rows deleted (in one transaction) and the equivalent D1 statement for
//! production, with the value quoted so it is safe both as SQL and inside a shell command.

use crate::error::{Error, Result};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;

/// Whose rows to delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Person {
    /// Every row with this visitor id.
    Visitor(String),
    /// Every row carrying this user id, and every row of each visitor id such a row names.
    User(String),
}

impl Person {
    fn describe(&self) -> String {
        match self {
            Person::Visitor(v) => format!("visitor {}", sql_literal(v)),
            Person::User(u) => format!("user {}", sql_literal(u)),
        }
    }
}

/// What `forget` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forgotten {
    /// Rows deleted from the local file.
    pub rows: usize,
    /// The visitor ids whose rows were deleted (sorted).
    pub visitors: Vec<String>,
    /// The `DELETE` statement, runnable in SQLite and D1.
    pub sql: String,
    /// False when `--user` was asked of a table without the `user_id` column (migration 0002):
    /// no row can carry a user id there, so nothing was deleted.
    pub has_user_column: bool,
}

/// The `DELETE` statement that removes `person`'s rows (SQLite / D1 dialect).
pub fn delete_sql(person: &Person) -> String {
    match person {
        Person::Visitor(v) => format!(
            "DELETE FROM partner_events WHERE visitor_id = {}",
            sql_literal(v)
        ),
        Person::User(u) => {
            let lit = sql_literal(u);
            format!(
                "DELETE FROM partner_events WHERE user_id = {lit} OR visitor_id IN \
                 (SELECT visitor_id FROM partner_events WHERE user_id = {lit} AND visitor_id IS NOT NULL)"
            )
        }
    }
}

/// The production command: `npx wrangler d1 execute <database> --remote --command "<sql>"`.
///
/// [`sql_literal`] keeps the statement free of characters a shell treats specially inside
/// double quotes, so the line can be pasted as is.
pub fn d1_command(database: &str, person: &Person) -> String {
    let db = if is_plain(database) {
        database.to_string()
    } else {
        format!("'{}'", database.replace('\'', r"'\''"))
    };
    format!(
        "npx wrangler d1 execute {db} --remote --command \"{}\"",
        delete_sql(person)
    )
}

/// Characters that are safe in a SQL string literal *and* inside a double-quoted shell word.
fn is_plain(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:@+=/".contains(&b))
}

/// A SQL literal for an opaque id: `'abc-123'` when it is plain, otherwise a hex blob cast to
/// text (`CAST(X'…' AS TEXT)`), which no quote, `$`, backtick or `!` can break out of.
pub fn sql_literal(value: &str) -> String {
    if is_plain(value) {
        format!("'{value}'")
    } else {
        let hex: String = value.bytes().map(|b| format!("{b:02x}")).collect();
        format!("CAST(X'{hex}' AS TEXT)")
    }
}

/// Delete `person`'s rows from the SQLite file `db` in one transaction.
///
/// Errors (exit 1): the file is missing, is not SQLite, or has no `partner_events` table.
pub fn forget(db: &Path, person: &Person) -> Result<Forgotten> {
    if !db.is_file() {
        return Err(Error::user_hint(
            format!("{}: no such event file", db.display()),
            "pass the SQLite file the local collector writes (`serve --db`), or a wrangler local D1 file under .wrangler/state/",
        ));
    }
    let mut conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_WRITE)
        .map_err(|e| Error::user(format!("{}: cannot open as SQLite: {e}", db.display())))?;
    let columns = table_columns(&conn, db)?;
    let has_user_column = columns.iter().any(|c| c == "user_id");
    let sql = delete_sql(person);
    if matches!(person, Person::User(_)) && !has_user_column {
        return Ok(Forgotten {
            rows: 0,
            visitors: Vec::new(),
            sql,
            has_user_column,
        });
    }
    let not_sqlite = |e: rusqlite::Error| {
        Error::user(format!(
            "{}: cannot delete from partner_events: {e}",
            db.display()
        ))
    };
    let tx = conn.transaction().map_err(not_sqlite)?;
    let visitors = {
        let (query, value) = match person {
            Person::Visitor(v) => (
                "SELECT DISTINCT visitor_id FROM partner_events WHERE visitor_id = ?1",
                v,
            ),
            Person::User(u) => (
                "SELECT DISTINCT visitor_id FROM partner_events WHERE user_id = ?1 AND visitor_id IS NOT NULL",
                u,
            ),
        };
        let mut stmt = tx.prepare(query).map_err(not_sqlite)?;
        let rows = stmt
            .query_map([value], |r| r.get::<_, String>(0))
            .map_err(not_sqlite)?;
        let mut v = rows.collect::<Result<Vec<_>, _>>().map_err(not_sqlite)?;
        v.sort();
        v
    };
    // The statement we print for D1 is the one we run, so both delete the same rows.
    let rows = tx.execute(&sql, []).map_err(not_sqlite)?;
    tx.commit().map_err(not_sqlite)?;
    Ok(Forgotten {
        rows,
        visitors,
        sql,
        has_user_column,
    })
}

fn table_columns(conn: &Connection, db: &Path) -> Result<Vec<String>> {
    let no_table = || {
        Error::user_hint(
            format!("{}: no partner_events table", db.display()),
            "is this the event file of `partner-pages serve` or a wrangler D1 state file?",
        )
    };
    let mut stmt = conn
        .prepare("SELECT name FROM pragma_table_info('partner_events')")
        .map_err(|e| Error::user(format!("{}: not a SQLite database: {e}", db.display())))?;
    let cols = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .map_err(|e| Error::user(format!("{}: not a SQLite database: {e}", db.display())))?;
    if cols.is_empty() {
        return Err(no_table());
    }
    for needed in ["visitor_id", "partner_code", "created_at"] {
        if !cols.iter().any(|c| c == needed) {
            return Err(Error::user(format!(
                "{}: partner_events has no `{needed}` column; this is not the partner-pages schema",
                db.display()
            )));
        }
    }
    Ok(cols)
}

/// The text `forget` prints: what was deleted and the statement for production.
pub fn summary(person: &Person, db: &Path, done: &Forgotten, d1_database: &str) -> String {
    let mut out = String::new();
    if !done.has_user_column {
        out.push_str(&format!(
            "{}: partner_events has no user_id column (migration 0002), so no row carries a user id; nothing deleted\n",
            db.display()
        ));
    } else {
        out.push_str(&format!(
            "deleted {} of {} from {}",
            crate::text::plural(done.rows as u64, "row", "rows"),
            person.describe(),
            db.display()
        ));
        if matches!(person, Person::User(_)) {
            out.push_str(&format!(
                " (visitor ids: {})",
                if done.visitors.is_empty() {
                    "none".to_string()
                } else {
                    done.visitors.join(", ")
                }
            ));
        }
        out.push('\n');
    }
    out.push_str("\nRun the same deletion on the production database (Cloudflare D1):\n\n  ");
    out.push_str(&d1_command(d1_database, person));
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db_with(rows: &[(&str, &str, Option<&str>, Option<&str>)]) -> tempfile::NamedTempFile {
        let f = tempfile::NamedTempFile::new().unwrap();
        let conn = Connection::open(f.path()).unwrap();
        conn.execute_batch(crate::events::SCHEMA_SQL).unwrap();
        conn.execute_batch(crate::events::EXTRA_COLUMNS_SQL)
            .unwrap();
        for (id, ev, vid, uid) in rows {
            conn.execute(
                "INSERT INTO partner_events (id, partner_code, campaign, event_name, page_path, visitor_id, created_at, user_id) VALUES (?1, 'seo', 'default', ?2, '/p/seo/', ?3, '2026-11-17T10:00:00.000Z', ?4)",
                rusqlite::params![id, ev, vid, uid],
            )
            .unwrap();
        }
        f
    }

    fn remaining(f: &tempfile::NamedTempFile) -> Vec<String> {
        let conn = Connection::open(f.path()).unwrap();
        let mut stmt = conn
            .prepare("SELECT id FROM partner_events ORDER BY id")
            .unwrap();
        let ids = stmt.query_map([], |r| r.get(0)).unwrap();
        ids.map(Result::unwrap).collect()
    }

    #[test]
    fn user_deletion_follows_the_visitor_ids_joined_to_the_user() {
        let f = db_with(&[
            ("1", "visit", Some("v1"), None),
            ("2", "activation", Some("v1"), Some("u'1")),
            ("3", "visit", Some("v2"), None),
            ("4", "revenue", None, Some("u'1")),
            ("5", "visit", Some("v3"), Some("other")),
        ]);
        let person = Person::User("u'1".into());
        let done = forget(f.path(), &person).unwrap();
        assert_eq!(done.rows, 3);
        assert_eq!(done.visitors, vec!["v1".to_string()]);
        assert_eq!(remaining(&f), vec!["3", "5"]);
    }

    #[test]
    fn odd_ids_become_hex_literals_that_match_the_same_text() {
        let nasty = "a'b\"c $(rm -rf /) `x` !1 ;";
        assert!(sql_literal(nasty).starts_with("CAST(X'"));
        let f = db_with(&[
            ("1", "visit", Some(nasty), None),
            ("2", "visit", Some("a"), None),
        ]);
        let done = forget(f.path(), &Person::Visitor(nasty.into())).unwrap();
        assert_eq!(done.rows, 1);
        assert_eq!(remaining(&f), vec!["2"]);
        let cmd = d1_command("partner-events", &Person::Visitor(nasty.into()));
        let inner = cmd.split_once('"').unwrap().1;
        assert!(!inner
            .trim_end_matches('"')
            .contains(['"', '$', '`', '!', '\\']));
    }

    #[test]
    fn user_on_a_seed_schema_table_deletes_nothing_and_says_why() {
        let f = tempfile::NamedTempFile::new().unwrap();
        let conn = Connection::open(f.path()).unwrap();
        conn.execute_batch(crate::events::SCHEMA_SQL).unwrap();
        conn.execute(
            "INSERT INTO partner_events VALUES ('1','seo','default','visit','/','v1','2026-11-17T10:00:00.000Z')",
            [],
        )
        .unwrap();
        let person = Person::User("u1".into());
        let done = forget(f.path(), &person).unwrap();
        assert!(!done.has_user_column);
        assert_eq!(done.rows, 0);
        assert!(summary(&person, f.path(), &done, "db").contains("no user_id column"));
    }

    #[test]
    fn a_file_without_the_table_is_a_user_error() {
        let f = tempfile::NamedTempFile::new().unwrap();
        Connection::open(f.path())
            .unwrap()
            .execute_batch("CREATE TABLE other (x)")
            .unwrap();
        let err = forget(f.path(), &Person::Visitor("v".into())).unwrap_err();
        assert_eq!(err.exit_code(), 1);
        assert!(err.to_string().contains("no partner_events table"), "{err}");
    }
}
