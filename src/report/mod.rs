//! Renderers: pure functions from the typed report to any `io::Write`.
//!
//! # Consumes
//! The finished [`Report`](crate::pageload::model::Report) (or, for the live printers, its
//! parts as the capture hands them out): the model is the renderers' only input. HTTP/3
//! exchanges (in `Report::quic[].http`) are shown wherever TCP's are: the timing model's
//! rows ([`timing::Conn`] names either kind of connection) and the narrative carry both.
//!
//! # Produces
//! One module per output, each writing to any `io::Write` so tests render into a
//! `Vec<u8>`: [`json`], [`table`] (the story of each connection, summary tables and the
//! waterfall), [`waterfall`], [`har`], [`html`], [`live`] (the lines of `pagetrace live`).
//!
//! # Guarantees: renderers share, not borrow
//! What two outputs have in common lives in a module of its own that no output owns
//! (ripgrep's `printer/src/util.rs` idea), and the imports between the files form a DAG:
//!
//! ```text
//! fmt       numbers, sizes, durations, offsets, dates, plurals, padding, Paint, tables
//!           fitted to a width (Fit), lines wrapped to it (wrap, Wrapped)
//!  └─ explain    one-line meanings of HTTP headers                   (fmt)
//! timing    rows, phases, HAR timings, pages                         (model only)
//! hosts     the per-host summary                                     (model only)
//! narrative the typed story of one connection                        (timing, explain)
//!
//! json                                                               (model only)
//! har       HAR 1.2                                                   (fmt, timing)
//! waterfall the terminal waterfall                                    (fmt, timing)
//! html      the page and its journeys                                 (fmt, timing, narrative)
//! live      the live lines and jsonl objects                          (fmt, narrative)
//! records   analyze's jsonl lines and csv rows                        (model only)
//! table     the story, the summary tables                             (fmt, narrative,
//!           and, as its last section, the waterfall                     waterfall)
//! ```
//!
//! `diff/` imports only [`fmt`] from here. `table` → `waterfall` is the one edge between
//! two outputs, and one-way: `--format table` ends with the waterfall drawing.

pub mod explain;
pub mod fastjson;
pub mod fmt;
pub mod fold;
pub mod har;
pub mod hosts;
pub mod html;
pub mod json;
pub mod live;
pub mod narrative;
#[cfg(feature = "parquet")]
pub mod parquet;
pub mod records;
pub mod table;
pub mod timing;
pub mod waterfall;
