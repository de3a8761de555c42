//! Read stage for events: the `partner_events` table from any source, as [`Event`] rows.
//!
//! Sources (SQLite file, wrangler local D1 state, `wrangler d1 export` dump, `wrangler d1
//! execute --json`, `d1:<name>`) sit behind one interface and all give the same rows.

use serde::{Deserialize, Serialize};

/// The seed's schema (DESIGN.md section 3), unchanged so existing D1 databases keep working.
pub const SCHEMA_SQL: &str = "CREATE TABLE IF NOT EXISTS partner_events (id TEXT PRIMARY KEY, partner_code TEXT NOT NULL,
  campaign TEXT NOT NULL, event_name TEXT NOT NULL, page_path TEXT NOT NULL,
  visitor_id TEXT, created_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS idx_partner_events_code_time ON partner_events(partner_code, created_at);";

/// Later, nullable columns (migration 0002): revenue value and the product's opaque user id.
/// Readers accept a table without them.
pub const EXTRA_COLUMNS_SQL: &str = "ALTER TABLE partner_events ADD COLUMN value REAL;
ALTER TABLE partner_events ADD COLUMN user_id TEXT;";

/// One row of `partner_events`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    pub partner_code: String,
    pub campaign: String,
    /// A stage name (`click`, `visit`, `lead_magnet`, `cta`, `activation`) or `revenue`.
    pub event_name: String,
    pub page_path: String,
    pub visitor_id: Option<String>,
    /// As stored: `2026-11-17T10:00:00.000Z` or SQLite's `2026-11-17 10:00:00` (both UTC).
    pub created_at: String,
    /// Revenue value (migration 0002), when present.
    #[serde(default)]
    pub value: Option<f64>,
    /// The product's opaque user id from a server-side event (migration 0002); never public.
    #[serde(default)]
    pub user_id: Option<String>,
}
