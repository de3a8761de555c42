//! Shared words: the text helpers every output uses, in one place. Imports nothing else of the
//! crate but [`crate::model`].
//!
//! Gives: Markdown escaping ([`escape`]), HTML escaping ([`html`]), the host of a URL ([`url`]), rates as percentages ([`number`]) and counts with
//! their singular or plural and other English helpers ([`words`]).

pub mod escape;
pub mod html;
pub mod number;
pub mod url;
pub mod words;

pub use words::{days_ago, plural};
