//! From dissector events to the page-load report: the typed model, the DNS transaction log,
//! and the stitching of connections to lookups, hostnames, timelines and redirects.

pub mod build;
pub mod diagnosis;
pub mod dns_log;
pub mod filter;
pub mod model;
pub mod quic;
pub mod resolution;
pub mod stitch;
pub mod tls;
