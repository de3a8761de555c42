//! `leads`: one row per journey with who sent it, what promise, what next.

pub mod csv;
pub mod forget;
pub mod rules;
