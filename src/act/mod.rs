//! Step 6, decide: what a marketer, a partner or a sales team reads.
//!
//! Takes: the funnel and experiments (step 5) and the site. Gives: the team report and the
//! partner's own report ([`report`]), the per-lead export ([`leads`]), the content calendar
//! ([`calendar`]), the commission ledger and payout files ([`ledger`]) and the JSON Schemas of these outputs ([`schema_files`], generated with [`crate::json_schema`]).

pub mod calendar;
pub mod leads;
pub mod ledger;
pub mod report;
pub mod schema_files;
