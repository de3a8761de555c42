//! Shared words: the text helpers every output uses, in one place. Imports nothing else of the
//! crate but [`crate::model`].
//!
//! Gives: Markdown escaping ([`escape`]), rates as percentages ([`number`]) and counts with
//! their singular or plural ([`words`]).

pub mod escape;
pub mod number;
pub mod words;

pub use words::{days_ago, plural};
