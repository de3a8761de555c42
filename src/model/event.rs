//! Shared model: the `partner_events` table, which the collectors write and the readers read.
//!
//! Gives: its definition ([`SCHEMA_SQL`] and the later migrations' columns, with
//! [`add_missing_columns`] to bring an older table up to date), its column lists and the
//! collectors' `INSERT` ([`insert_sql`], [`insert_params`]), and one row of it, owned
//! ([`Event`]) or borrowed ([`Row`]). Imports nothing else of the crate.

use serde::{Deserialize, Serialize};

/// The `partner_events` schema, unchanged so existing D1 databases keep working.
pub const SCHEMA_SQL: &str = "CREATE TABLE IF NOT EXISTS partner_events (id TEXT PRIMARY KEY, partner_code TEXT NOT NULL,
  campaign TEXT NOT NULL, event_name TEXT NOT NULL, page_path TEXT NOT NULL,
  visitor_id TEXT, created_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS idx_partner_events_code_time ON partner_events(partner_code, created_at);";

/// Later, nullable columns: revenue value and the product's opaque user id (migration 0002),
/// the experiment variant the visitor saw (migration 0003). Readers accept a table without
/// them. One `ALTER` per line (see [`add_missing_columns`]).
pub const EXTRA_COLUMNS_SQL: &str = concat!(
    value_user_sql!(),
    "\n",
    variant_sql!(),
    "\n",
    payment_sql!()
);
/// Migration 0002: revenue value and user id (unchanged since released).
pub const VALUE_USER_SQL: &str = value_user_sql!();
/// Migration 0003: the experiment variant.
pub const VARIANT_SQL: &str = variant_sql!();

/// Migration 0004: payments from Stripe webhooks. Amount in the currency's minor unit (negative
/// for a refund), ISO currency (lower case, as Stripe writes it), the Stripe ids (the event,
/// unique; the Checkout Session or invoice; the customer; the charge or PaymentIntent) and the
/// rule that attributed the payment to its partner. The unique index keeps each Stripe event
/// once (SQLite and D1 allow any number of NULLs in it, so other rows are not affected).
pub const PAYMENT_SQL: &str = payment_sql!();

macro_rules! payment_sql {
    () => {
        "ALTER TABLE partner_events ADD COLUMN amount_minor INTEGER;
ALTER TABLE partner_events ADD COLUMN currency TEXT;
ALTER TABLE partner_events ADD COLUMN stripe_event_id TEXT;
ALTER TABLE partner_events ADD COLUMN stripe_object_id TEXT;
ALTER TABLE partner_events ADD COLUMN stripe_customer_id TEXT;
ALTER TABLE partner_events ADD COLUMN stripe_charge_id TEXT;
ALTER TABLE partner_events ADD COLUMN attribution_rule TEXT;
CREATE UNIQUE INDEX IF NOT EXISTS idx_partner_events_stripe_event ON partner_events(stripe_event_id);"
    };
}
use payment_sql;
macro_rules! value_user_sql {
    () => {
        "ALTER TABLE partner_events ADD COLUMN value REAL;\nALTER TABLE partner_events ADD COLUMN user_id TEXT;"
    };
}
use value_user_sql;
macro_rules! variant_sql {
    () => {
        "ALTER TABLE partner_events ADD COLUMN variant TEXT;"
    };
}
use variant_sql;

/// Adds the columns of [`EXTRA_COLUMNS_SQL`] a `partner_events` table lacks (the `serve`
/// database, the remote cache), leaving the rows as they are.
pub fn add_missing_columns(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    let mut have = std::collections::BTreeSet::new();
    {
        let mut stmt = conn.prepare("SELECT name FROM pragma_table_info('partner_events')")?;
        for name in stmt.query_map([], |r| r.get::<_, String>(0))? {
            have.insert(name?);
        }
    }
    for stmt in EXTRA_COLUMNS_SQL.lines() {
        // `CREATE ... IF NOT EXISTS` runs every time; an `ALTER` only for a missing column.
        if stmt.starts_with("CREATE") {
            conn.execute_batch(stmt)?;
            continue;
        }
        let column = stmt.split_whitespace().nth(5).unwrap_or("");
        if !column.is_empty() && !have.contains(column) {
            conn.execute_batch(stmt)?;
        }
    }
    Ok(())
}

/// The table every source must hold.
pub const TABLE: &str = "partner_events";
/// Columns every source must have (the `partner_events` schema).
pub const REQUIRED_COLUMNS: [&str; 7] = [
    "id",
    "partner_code",
    "campaign",
    "event_name",
    "page_path",
    "visitor_id",
    "created_at",
];
/// Nullable columns a later migration may add.
pub const OPTIONAL_COLUMNS: [&str; 10] = [
    "value",
    "user_id",
    "variant",
    "amount_minor",
    "currency",
    "stripe_event_id",
    "stripe_object_id",
    "stripe_customer_id",
    "stripe_charge_id",
    "attribution_rule",
];

/// Every column, in table order, as the collectors write them.
pub const INSERT_COLUMNS: &str = "id, partner_code, campaign, event_name, page_path, visitor_id, \
    created_at, value, user_id, variant, amount_minor, currency, stripe_event_id, \
    stripe_object_id, stripe_customer_id, stripe_charge_id, attribution_rule";

/// `INSERT INTO partner_events (every column) VALUES (?1, ..., ?17)`, `verb` being `INSERT` or
/// `INSERT OR IGNORE`; bind it with [`insert_params`].
pub fn insert_sql(verb: &str) -> String {
    let marks: Vec<String> = (1..=17).map(|i| format!("?{i}")).collect();
    format!(
        "{verb} INTO partner_events ({INSERT_COLUMNS}) VALUES ({})",
        marks.join(", ")
    )
}

/// The values of a row for [`insert_sql`], in [`INSERT_COLUMNS`] order.
pub fn insert_params<'a>(r: &'a Row<'a>) -> [&'a dyn rusqlite::ToSql; 17] {
    [
        &r.id,
        &r.partner_code,
        &r.campaign,
        &r.event_name,
        &r.page_path,
        &r.visitor_id,
        &r.created_at,
        &r.value,
        &r.user_id,
        &r.variant,
        &r.pay.amount_minor,
        &r.pay.currency,
        &r.pay.stripe_event_id,
        &r.pay.stripe_object_id,
        &r.pay.stripe_customer_id,
        &r.pay.stripe_charge_id,
        &r.pay.attribution_rule,
    ]
}

/// The payment columns of a row (migration 0004), borrowed; all `None` on other rows.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Pay<'a> {
    /// Amount in the currency's minor unit, net of tax; negative for a refund.
    pub amount_minor: Option<i64>,
    /// Lower-case ISO 4217 code, as Stripe writes it.
    pub currency: Option<&'a str>,
    /// The Stripe event id (`evt_...`), unique in the table.
    pub stripe_event_id: Option<&'a str>,
    /// The Checkout Session (`cs_...`) or invoice (`in_...`) paid; on a refund, the payment's.
    pub stripe_object_id: Option<&'a str>,
    /// The Stripe customer (`cus_...`).
    pub stripe_customer_id: Option<&'a str>,
    /// The charge (`ch_...`) or PaymentIntent (`pi_...`) of the payment, or the refunded charge.
    pub stripe_charge_id: Option<&'a str>,
    /// The rule that attributed the payment (`visitor`, `customer`, `coupon`, ...).
    pub attribution_rule: Option<&'a str>,
}

impl Pay<'_> {
    /// Owned.
    pub fn to_owned_pay(&self) -> PayBuf {
        let s = |v: Option<&str>| v.map(str::to_string);
        PayBuf {
            amount_minor: self.amount_minor,
            currency: s(self.currency),
            stripe_event_id: s(self.stripe_event_id),
            stripe_object_id: s(self.stripe_object_id),
            stripe_customer_id: s(self.stripe_customer_id),
            stripe_charge_id: s(self.stripe_charge_id),
            attribution_rule: s(self.attribution_rule),
        }
    }
}

/// The payment columns of an [`Event`] (migration 0004), owned.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PayBuf {
    /// See [`Pay::amount_minor`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_minor: Option<i64>,
    /// See [`Pay::currency`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// See [`Pay::stripe_event_id`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stripe_event_id: Option<String>,
    /// See [`Pay::stripe_object_id`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stripe_object_id: Option<String>,
    /// See [`Pay::stripe_customer_id`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stripe_customer_id: Option<String>,
    /// See [`Pay::stripe_charge_id`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stripe_charge_id: Option<String>,
    /// See [`Pay::attribution_rule`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribution_rule: Option<String>,
}

impl PayBuf {
    /// Borrowed.
    pub fn as_pay(&self) -> Pay<'_> {
        Pay {
            amount_minor: self.amount_minor,
            currency: self.currency.as_deref(),
            stripe_event_id: self.stripe_event_id.as_deref(),
            stripe_object_id: self.stripe_object_id.as_deref(),
            stripe_customer_id: self.stripe_customer_id.as_deref(),
            stripe_charge_id: self.stripe_charge_id.as_deref(),
            attribution_rule: self.attribution_rule.as_deref(),
        }
    }
}

/// One row of `partner_events`, owned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Unique row id (a UUID from the collectors).
    pub id: String,
    /// The partner's code.
    pub partner_code: String,
    /// The campaign (`default` when none).
    pub campaign: String,
    /// A stage name (`click`, `visit`, `lead_magnet`, `cta`, `activation`) or `revenue`.
    pub event_name: String,
    /// The page the event happened on.
    pub page_path: String,
    /// The visitor id; NULL (or empty) rows are anonymous.
    pub visitor_id: Option<String>,
    /// As stored: `2026-11-17T10:00:00.000Z` or SQLite's `2026-11-17 10:00:00` (both UTC).
    pub created_at: String,
    /// Revenue value (migration 0002), when present.
    #[serde(default)]
    pub value: Option<f64>,
    /// The product's opaque user id from a server-side event (migration 0002); never public.
    #[serde(default)]
    pub user_id: Option<String>,
    /// The experiment variant the visitor was shown (migration 0003); none for partners
    /// without variants, rows written before it, and a forged or unsigned variant cookie.
    #[serde(default)]
    pub variant: Option<String>,
    /// Payment columns (migration 0004); empty on other rows.
    #[serde(default, flatten)]
    pub pay: PayBuf,
}

impl Event {
    /// A borrowed view, as event sources hand rows to their callbacks.
    pub fn as_row(&self) -> Row<'_> {
        Row {
            id: &self.id,
            partner_code: &self.partner_code,
            campaign: &self.campaign,
            event_name: &self.event_name,
            page_path: &self.page_path,
            visitor_id: self.visitor_id.as_deref(),
            created_at: &self.created_at,
            value: self.value,
            user_id: self.user_id.as_deref(),
            variant: self.variant.as_deref(),
            pay: self.pay.as_pay(),
        }
    }
}

/// One row as a source hands it over, borrowed from the source's buffer (no allocation per row).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Row<'a> {
    /// Unique row id.
    pub id: &'a str,
    /// The partner's code.
    pub partner_code: &'a str,
    /// The campaign.
    pub campaign: &'a str,
    /// A stage name or `revenue`.
    pub event_name: &'a str,
    /// The page the event happened on.
    pub page_path: &'a str,
    /// The visitor id; `None` (or empty) is anonymous.
    pub visitor_id: Option<&'a str>,
    /// As stored (either timestamp format).
    pub created_at: &'a str,
    /// Revenue value (migration 0002).
    pub value: Option<f64>,
    /// The product's opaque user id (migration 0002).
    pub user_id: Option<&'a str>,
    /// The experiment variant (migration 0003).
    pub variant: Option<&'a str>,
    /// Payment columns (migration 0004).
    pub pay: Pay<'a>,
}

impl Row<'_> {
    /// The row, owned.
    pub fn to_event(&self) -> Event {
        Event {
            id: self.id.to_string(),
            partner_code: self.partner_code.to_string(),
            campaign: self.campaign.to_string(),
            event_name: self.event_name.to_string(),
            page_path: self.page_path.to_string(),
            visitor_id: self.visitor_id.map(str::to_string),
            created_at: self.created_at.to_string(),
            value: self.value,
            user_id: self.user_id.map(str::to_string),
            variant: self.variant.map(str::to_string),
            pay: self.pay.to_owned_pay(),
        }
    }
}
