//! Renderers: pure functions from the typed report to any `io::Write`.

pub mod explain;
pub mod fmt;
pub mod har;
pub mod html;
pub mod json;
pub mod live;
pub mod narrative;
pub mod table;
pub mod timing;
pub mod waterfall;
