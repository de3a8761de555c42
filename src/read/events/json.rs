//! Read stage, wrangler JSON: rows from the output of `wrangler d1 execute --json`.
//!
//! Takes: the JSON text — an array of result sets `{"results": [{column: value}], "success":
//! true, "meta": {...}}` (one per statement). Gives: [`Row`]s of every result set whose rows
//! carry the `partner_events` columns. The whole file is parsed at once: wrangler prints one query's
//! answer, which D1 caps well below memory limits; use a SQLite file or a dump for big tables.

use super::{ColumnMap, Pay, Row, RowSink, ScanOptions};
use crate::error::{Error, Result};
use serde_json::Value;
use std::path::Path;

const EXPECTED: &str = "expected the JSON printed by `wrangler d1 execute <db> --json --command \
    \"SELECT * FROM partner_events\"`: an array of {\"results\": [...], \"success\": true, \"meta\": {...}}";

/// The largest wrangler JSON file read: it is parsed whole (a few times its size in memory).
/// wrangler prints one query's answer; bigger tables go through a dump or a SQLite file.
pub(super) const MAX_JSON_BYTES: u64 = 64 << 20;

pub(crate) fn scan(path: &Path, opts: &ScanOptions, sink: &mut RowSink<'_>) -> Result<u64> {
    let file = std::fs::File::open(path)
        .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
    let size = file
        .metadata()
        .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?
        .len();
    if size > MAX_JSON_BYTES {
        return Err(Error::user_hint(
            format!(
                "{}: {size} bytes of wrangler JSON, more than the {} MiB read whole",
                path.display(),
                MAX_JSON_BYTES >> 20
            ),
            "export the table instead: `wrangler d1 export <db> --output events.sql` \
             (add --local for the local state); a dump is streamed",
        ));
    }
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
            // Each value must have its column's type: text (or null where the column is
            // nullable), a number for `value`. A wrong type is an error, never a blank.
            let wrong = |col: usize, want: &str, got: Option<&Value>| -> Error {
                Error::user_hint(
                    format!(
                        "{what}: result set {k}, row {i}, column `{}`: expected {want}, found {}",
                        names[col],
                        got.map_or("nothing (the column is missing)", type_name)
                    ),
                    EXPECTED,
                )
            };
            let text = |col: usize| -> Result<&str> {
                match obj.get(names[col]) {
                    Some(Value::String(s)) => Ok(s),
                    got => Err(wrong(col, "text", got)),
                }
            };
            let nullable = |col: usize| -> Result<Option<&str>> {
                match obj.get(names[col]) {
                    Some(Value::String(s)) => Ok(Some(s)),
                    Some(Value::Null) | None => Ok(None),
                    got => Err(wrong(col, "text or null", got)),
                }
            };
            let value = match map.value {
                None => None,
                Some(col) => match obj.get(names[col]) {
                    Some(Value::Number(n)) => n.as_f64(),
                    Some(Value::Null) | None => None,
                    got => return Err(wrong(col, "a number or null", got)),
                },
            };
            let r = Row {
                id: text(map.required[0])?,
                partner_code: text(map.required[1])?,
                campaign: text(map.required[2])?,
                event_name: text(map.required[3])?,
                page_path: text(map.required[4])?,
                // NULL and '' are both anonymous (never funneled).
                visitor_id: nullable(map.required[5])?.filter(|v| !v.is_empty()),
                created_at: text(map.required[6])?,
                value,
                user_id: map.user_id.map(nullable).transpose()?.flatten(),
                variant: map.variant.map(nullable).transpose()?.flatten(),
                pay: Pay {
                    amount_minor: match map.pay[0] {
                        None => None,
                        Some(col) => match obj.get(names[col]) {
                            Some(v @ Value::Number(n)) => Some(
                                n.as_i64()
                                    .ok_or_else(|| wrong(col, "an integer or null", Some(v)))?,
                            ),
                            Some(Value::Null) | None => None,
                            got => return Err(wrong(col, "an integer or null", got)),
                        },
                    },
                    currency: map.pay[1].map(nullable).transpose()?.flatten(),
                    stripe_event_id: map.pay[2].map(nullable).transpose()?.flatten(),
                    stripe_object_id: map.pay[3].map(nullable).transpose()?.flatten(),
                    stripe_customer_id: map.pay[4].map(nullable).transpose()?.flatten(),
                    stripe_charge_id: map.pay[5].map(nullable).transpose()?.flatten(),
                    attribution_rule: map.pay[6].map(nullable).transpose()?.flatten(),
                },
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

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
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
    fn an_empty_visitor_id_is_anonymous_like_null() {
        let r = rows(r#"[{"results":[
            {"id":"a","partner_code":"seo","campaign":"default","event_name":"visit","page_path":"/","visitor_id":"","created_at":"2026-11-17 10:00:00"},
            {"id":"b","partner_code":"seo","campaign":"default","event_name":"visit","page_path":"/","visitor_id":"v1","created_at":"2026-11-17 10:00:01"}
        ],"success":true}]"#).unwrap();
        let ids: Vec<_> = r.iter().map(|e| e.visitor_id.as_deref()).collect();
        assert_eq!(ids, [None, Some("v1")]);
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

    #[test]
    fn a_value_of_the_wrong_type_is_a_located_error() {
        const ROW: &str = r#""id":"a","partner_code":"seo","campaign":"default","event_name":"visit","page_path":"/p/seo/","visitor_id":null"#;
        for (extra, column, found) in [
            (r#""created_at":5"#, "created_at", "a number"),
            (
                r#""created_at":"2026-11-17 10:00:00","value":"3""#,
                "value",
                "text",
            ),
            (
                r#""created_at":"2026-11-17 10:00:00","user_id":[1]"#,
                "user_id",
                "an array",
            ),
            (r#""created_at":{"a":1}"#, "created_at", "an object"),
        ] {
            let good = format!(
                r#"{{{ROW},"created_at":"2026-11-17 10:00:00","value":null,"user_id":null}}"#
            );
            let text = format!(r#"[{{"results":[{good},{{{ROW},{extra}}}],"success":true}}]"#);
            let e = rows(&text).unwrap_err().to_string();
            assert!(
                e.contains(&format!("result set 0, row 1, column `{column}`"))
                    && e.contains(&format!("found {found}")),
                "{extra}: {e}"
            );
        }
        // A wrong type in the first row's key set: `id` as a number.
        let e = rows(r#"[{"results":[{"id":1,"partner_code":"seo","campaign":"d","event_name":"visit","page_path":"/","visitor_id":"v","created_at":"2026-11-17"}]}]"#)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("column `id`: expected text, found a number"),
            "{e}"
        );
    }
}
