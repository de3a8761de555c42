//! Step 5, read back: events from any source become journeys, counts and intervals.
//!
//! Takes: an event source ([`events`]: the local SQLite file, a D1 dump, wrangler JSON, a remote
//! D1). Gives: the funnel per partner and campaign ([`funnel`]) and the promise experiments'
//! verdicts ([`experiment`]), and the payments per partner ([`revenue`]). Imports the loaded site (step 1), never an output.

pub mod events;
pub mod experiment;
pub mod funnel;
pub mod revenue;
