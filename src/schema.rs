//! The JSON Schemas of what the tool writes for programs, generated from the Rust types it
//! serialises, so a schema cannot drift from the output.
//!
//! Takes: the types of `partners.json`, `report --format json`, `leads --format json` and
//! `calendar --format json`. Gives: one JSON Schema (draft 2020-12) per document. The files in
//! `schemas/` are these documents, committed; a unit test fails when they differ, and
//! `UPDATE_SCHEMAS=1 cargo test --lib schema::` rewrites them.
//!
//! Every object is closed (`additionalProperties: false`): a field the schema does not name is
//! a field the program does not write.

use schemars::generate::SchemaSettings;
use schemars::transform::{transform_subschemas, Transform};
use schemars::{JsonSchema, Schema};

/// An absolute `http(s)` URL, as every URL in `partners.json` is.
pub(crate) const ABSOLUTE_URL: &str = r"^https?://[^\s]+$";
/// A partner code: lower-case letters and digits in words joined by `-`.
pub(crate) const CODE: &str = r"^[a-z0-9]+(-[a-z0-9]+)*$";
/// A UTC timestamp with milliseconds, as every time in the reports is written.
pub(crate) const TIMESTAMP: &str = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$";
/// A UTC timestamp to the second (the calendar's times).
pub(crate) const TIME_SECONDS: &str = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$";
/// A calendar date.
pub(crate) const DATE: &str = r"^\d{4}-\d{2}-\d{2}$";

/// One published schema: its file name under `schemas/`, its title and how to make it.
pub struct Document {
    /// File name under `schemas/`, e.g. `report.schema.json`.
    pub file: &'static str,
    /// Makes the schema.
    pub generate: fn() -> Schema,
}

/// Every published schema.
pub const DOCUMENTS: &[Document] = &[
    Document {
        file: "partners.schema.json",
        generate: crate::render::llms::registry::schema,
    },
    Document {
        file: "report.schema.json",
        generate: || {
            document::<crate::funnel::FunnelReport>(
                "report.schema.json",
                "partner-pages report --format json",
            )
        },
    },
    Document {
        file: "calendar.schema.json",
        generate: || {
            document::<crate::calendar::Calendar>(
                "calendar.schema.json",
                "partner-pages content calendar",
            )
        },
    },
    Document {
        file: "leads.schema.json",
        generate: || {
            document::<crate::leads::LeadsReport>(
                "leads.schema.json",
                "partner-pages leads --format json",
            )
        },
    },
];

/// The schema of `T`, closed, with its `$id` and `title`.
pub(crate) fn document<T: JsonSchema>(file: &str, title: &str) -> Schema {
    let settings = SchemaSettings::draft2020_12()
        .for_serialize()
        .with_transform(Closed);
    let mut schema = settings.into_generator().into_root_schema_for::<T>();
    let object = schema.ensure_object();
    object.insert(
        "$id".to_owned(),
        format!("https://partner-pages.dev/schemas/{file}").into(),
    );
    object.insert("title".to_owned(), title.into());
    schema
}

/// Pretty JSON with a final newline: the bytes of a file in `schemas/`.
pub fn to_file_text(schema: &Schema) -> String {
    let mut text = serde_json::to_string_pretty(schema).unwrap_or_default();
    text.push('\n');
    text
}

/// Closes every object schema that lists properties and says nothing of others, and turns a
/// doc comment's wrapped lines into one line per paragraph.
#[derive(Clone)]
struct Closed;

impl Transform for Closed {
    fn transform(&mut self, schema: &mut Schema) {
        if let Some(object) = schema.as_object_mut() {
            if object.contains_key("properties") && !object.contains_key("additionalProperties") {
                object.insert("additionalProperties".to_owned(), false.into());
            }
            if let Some(serde_json::Value::String(text)) = object.get_mut("description") {
                *text = unwrap_lines(text);
            }
        }
        transform_subschemas(self, schema);
    }
}

/// `a\nb\n\nc` → `a b\n\nc`.
fn unwrap_lines(text: &str) -> String {
    text.split("\n\n")
        .map(|para| {
            para.split('\n')
                .map(str::trim)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// The committed schemas are the generated ones (`UPDATE_SCHEMAS=1` rewrites them).
    #[test]
    fn committed_schemas_are_the_generated_ones() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas");
        let update = std::env::var_os("UPDATE_SCHEMAS").is_some();
        let mut stale = Vec::new();
        for doc in DOCUMENTS {
            let text = to_file_text(&(doc.generate)());
            let path = dir.join(doc.file);
            if update {
                std::fs::write(&path, &text).unwrap();
            } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
                stale.push(doc.file);
            }
        }
        assert!(
            stale.is_empty(),
            "schemas/ differs from the types for {stale:?}: run `UPDATE_SCHEMAS=1 cargo test --lib schema::` and commit"
        );
    }

    #[test]
    fn every_object_is_closed() {
        for doc in DOCUMENTS {
            let value = (doc.generate)().to_value();
            let mut open = Vec::new();
            walk(&value, "#", &mut open);
            assert!(open.is_empty(), "{}: open objects at {open:?}", doc.file);
        }
    }

    /// Descriptions come from doc comments: they must read as text, not as rustdoc links.
    #[test]
    fn descriptions_have_no_rustdoc_links() {
        for doc in DOCUMENTS {
            let text = to_file_text(&(doc.generate)());
            assert!(
                !text.contains("[`"),
                "{}: a rustdoc link in a description",
                doc.file
            );
        }
    }

    fn walk(v: &serde_json::Value, at: &str, open: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                if m.contains_key("properties")
                    && m.get("additionalProperties") != Some(&false.into())
                {
                    open.push(at.to_owned());
                }
                for (k, v) in m {
                    walk(v, &format!("{at}/{k}"), open);
                }
            }
            serde_json::Value::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    walk(v, &format!("{at}/{i}"), open);
                }
            }
            _ => {}
        }
    }
}
