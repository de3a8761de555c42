//! `leads`: one row per journey with who sent it, what promise, what next.
