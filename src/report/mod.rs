//! Renderers: pure functions from the typed report to any `io::Write`.

pub mod json;
pub mod table;
