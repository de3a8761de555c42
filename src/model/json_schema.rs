//! The JSON Schemas of what the tool writes for programs, generated from the Rust types it
//! serialises, so a schema cannot drift from the output.
//!
//! Takes: a serialised type. Gives: its JSON Schema (draft 2020-12), closed, with the patterns
//! the types share. Which type each file in `schemas/` comes from is [`crate::schema_files`].
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

/// The schema of `T`, closed, with its `$id` and `title`.
pub fn document<T: JsonSchema>(file: &str, title: &str) -> Schema {
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
