//! Shared words: the text helpers every output uses, in one place. Imports nothing else of the
//! crate but [`crate::model`].
//!
//! Gives: Markdown escaping ([`escape`]) and rates as percentages ([`number`]).

pub mod escape;
pub mod number;
