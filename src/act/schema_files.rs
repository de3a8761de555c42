//! The published JSON Schemas: the files in `schemas/`, each generated from the type its JSON
//! is written from ([`crate::json_schema`] makes them). A unit test fails when a committed file
//! differs from its type; `INSTA_UPDATE=always cargo test --lib schema_files::` rewrites them (the
//! one switch that refreshes every expected output, docs/contributing.md).

/// One published schema: its file name under `schemas/`, its title and how to make it.
pub struct Document {
    /// File name under `schemas/`, e.g. `report.schema.json`.
    pub file: &'static str,
    /// Makes the schema.
    pub generate: fn() -> schemars::Schema,
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
            crate::json_schema::document::<crate::funnel::FunnelReport>(
                "report.schema.json",
                "partner-pages report --format json",
            )
        },
    },
    Document {
        file: "partner-report.schema.json",
        generate: || {
            crate::json_schema::document::<crate::report::partner::PartnerReport>(
                "partner-report.schema.json",
                "partner-pages report --for-partner --format json",
            )
        },
    },
    Document {
        file: "calendar.schema.json",
        generate: || {
            crate::json_schema::document::<crate::calendar::Calendar>(
                "calendar.schema.json",
                "partner-pages content calendar",
            )
        },
    },
    Document {
        file: "leads.schema.json",
        generate: || {
            crate::json_schema::document::<crate::leads::LeadsReport>(
                "leads.schema.json",
                "partner-pages leads --format json",
            )
        },
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json_schema::to_file_text;
    use std::path::Path;

    /// The committed schemas are the generated ones (`INSTA_UPDATE=always` rewrites them).
    #[test]
    fn committed_schemas_are_the_generated_ones() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas");
        let update = matches!(std::env::var("INSTA_UPDATE").as_deref(), Ok("always" | "1"));
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
            "schemas/ differs from the types for {stale:?}: run `INSTA_UPDATE=always cargo test --lib schema_files::`, review the diff and commit"
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
