//! Read stage, wrangler JSON: rows from the output of `wrangler d1 execute --json`.
//!
//! Takes: the JSON text — an array of result sets `{"results": [{column: value}], "success":
//! true, "meta": {...}}` (one per statement). Gives: [`Row`]s of every result set whose rows
//! carry the seed's columns. The whole file is parsed at once: wrangler prints one query's
//! answer, which D1 caps well below memory limits; use a SQLite file or a dump for big tables.

use super::{ColumnMap, Row, RowSink, ScanOptions};
use crate::error::{Error, Result};
use serde_json::Value;
use std::path::Path;

const EXPECTED: &str = "expected the JSON printed by `wrangler d1 execute <db> --json --command \
    \"SELECT * FROM partner_events\"`: an array of {\"results\": [...], \"success\": true, \"meta\": {...}}";

pub(crate) fn scan(path: &Path, opts: &ScanOptions, sink: &mut RowSink<'_>) -> Result<u64> {
    let file = std::fs::File::open(path)
        .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
    let value: Value = serde_json::from_reader(std::io::BufReader::new(file)).map_err(|e| {
        Error::user_hint(
            format!(
                "{}:{}:{}: not valid JSON: {e}",
                path.display(),
                e.line(),
                e.column()
            ),
            EXPECTED,
        )
    })?;
    scan_value(&value, &path.display().to_string(), opts, sink)
}

/// Rows of an already parsed wrangler answer (also used by the remote pull).
pub(crate) fn scan_value(
    value: &Value,
    what: &str,
    opts: &ScanOptions,
    sink: &mut RowSink<'_>,
) -> Result<u64> {
    let sets: Vec<&Value> = match value {
        Value::Array(a) => a.iter().collect(),
        Value::Object(_) => vec![value],
        _ => {
            return Err(Error::user_hint(
                format!("{what}: JSON of the wrong shape"),
                EXPECTED,
            ))
        }
    };
    let bounds = opts.text_bounds();
    let mut n = 0;
    let mut any_set = false;
    for (k, set) in sets.iter().enumerate() {
        let Some(results) = set.get("results").and_then(Value::as_array) else {
            return Err(Error::user_hint(
                format!("{what}: result set {k} has no \"results\" array"),
                EXPECTED,
            ));
        };
        if set.get("success").and_then(Value::as_bool) == Some(false) {
            return Err(Error::user(format!(
                "{what}: result set {k} reports success: false (the query failed in wrangler)"
            )));
        }
        any_set = true;
        let Some(Value::Object(first)) = results.first() else {
            continue;
        };
        let names: Vec<&str> = first.keys().map(String::as_str).collect();
        let map = ColumnMap::from_names(&names, what)?;
        for (i, row) in results.iter().enumerate() {
            let Value::Object(obj) = row else {
                return Err(Error::user_hint(
                    format!("{what}: result set {k}, row {i} is not an object"),
                    EXPECTED,
                ));
            };
            let get = |col: usize| obj.get(names[col]);
            let text = |col: usize| -> Option<&str> { get(col).and_then(Value::as_str) };
            let r = Row {
                id: text(map.required[0]).unwrap_or(""),
                partner_code: text(map.required[1]).unwrap_or(""),
                campaign: text(map.required[2]).unwrap_or(""),
                event_name: text(map.required[3]).unwrap_or(""),
                page_path: text(map.required[4]).unwrap_or(""),
                visitor_id: text(map.required[5]),
                created_at: text(map.required[6]).unwrap_or(""),
                value: map.value.and_then(get).and_then(Value::as_f64),
                user_id: map.user_id.and_then(text),
            };
            if opts.keep_text(&bounds, r.created_at) {
                sink(r)?;
                n += 1;
            }
        }
    }
    if !any_set {
        return Err(Error::user_hint(
            format!("{what}: no result sets"),
            EXPECTED,
        ));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str) -> Result<Vec<crate::events::Event>> {
        let v: Value = serde_json::from_str(text).unwrap();
        let mut out = Vec::new();
        scan_value(&v, "t.json", &ScanOptions::default(), &mut |r| {
            out.push(r.to_event());
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn reads_wrangler_result_sets() {
        let r = rows(r#"[{"results":[{"id":"a","partner_code":"seo","campaign":"default","event_name":"visit","page_path":"/p/seo/","visitor_id":null,"created_at":"2026-11-17 10:00:00","value":3}],"success":true,"meta":{"duration":1}}]"#).unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].visitor_id, None);
        assert_eq!(r[0].value, Some(3.0));
    }

    #[test]
    fn other_json_names_the_expected_shape() {
        let e = rows(r#"{"rows": []}"#).unwrap_err().to_string();
        assert!(
            e.contains("no \"results\" array") && e.contains("wrangler d1 execute"),
            "{e}"
        );
        let e = rows(r#"[{"results":[{"a":1}],"success":true}]"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing columns"), "{e}");
    }
}
