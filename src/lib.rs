//! pagetrace: a page load's journey from real packets.
//!
//! The library reads captures, reassembles TCP, dissects DNS, TLS, HTTP/1.x, HTTP/2, QUIC
//! and HTTP/3, and builds one report per connection. Modules read top to bottom in the order
//! data flows; [`pipeline`] alone knows the stage order.
//!
//! # Layers, and who may use whom
//!
//! ```text
//!  capture ──► link, net ──► tcp ──────────────┐
//!  (files,     (stateless    (flow table,      │   pipeline ──► pageload ──► report, diff
//!   live)       views, flow   reassembly:      ├─► (the order:   (the only    (renderers
//!               keys)         protocol-blind)  │    events in,    builder of   over the
//!                            dissect ◄─ decrypt│    one queue     the report)  model only)
//!                            (DNS, TLS, HTTP,  │    out)
//!                             QUIC, HTTP/3)  ──┘
//! ```
//!
//! - [`capture`] reads files and interfaces and yields frames; it knows no protocol and no
//!   report ([`warning`] is how it says what is damaged).
//! - [`link`] and [`net`] are stateless views (Ethernet, SLL, IP, UDP, TCP headers), plus
//!   bounded IP defragmentation and the flow key and direction every stateful stage shares.
//! - [`tcp`] reassembles both directions of each connection and hands bytes, gaps and the
//!   close to its caller's handler; it never knows what the bytes are, nor keys, nor the
//!   report: its result is typed [`tcp::TcpFacts`].
//! - [`dissect`] holds the parsers (DNS, TLS with its decryption through [`decrypt`],
//!   HTTP/1.x, HTTP/2, QUIC with its packet protection, HTTP/3, QPACK). Each hands out typed
//!   results of its own ([`dissect::http::Exchange`], [`dissect::tls::TlsFacts`],
//!   [`dissect::quic::QuicFacts`], DNS messages); none builds the report, none calls back up.
//! - [`pipeline`] is the one place that decides which dissector reads which bytes (detection
//!   by content, TLS → HTTP, UDP → DNS | QUIC → HTTP/3 | DNS over QUIC, DoH bodies → DNS), holds
//!   the key log, and hands out what is finished through one queue ([`pipeline::Analyzer::poll`])
//!   or one report ([`pipeline::Analyzer::finish`]); [`pipeline::drive`] is the one loop over a
//!   capture.
//! - [`pageload`] turns the typed facts into the serializable [`pageload::model`] (the JSON
//!   contract) and links them: DNS lookups to connections, redirects, Alt-Svc to QUIC. It is
//!   the only place facts become the strings the report shows.
//! - [`report`] and [`diff`] render a model to any `io::Write`; they read nothing but the
//!   model.
//! - [`time`], [`warning`] and [`expiry`] (which entry of a bounded table is the oldest,
//!   without a scan) are shared by every layer.
//!
//! No `unsafe`: everything from the wire is read through checked slices.

#![forbid(unsafe_code)]

pub mod expiry;
pub mod order;
pub mod time;
pub mod warning;

pub mod capture;
pub mod decrypt;
pub mod diff;
pub mod dissect;
pub mod link;
pub mod net;
pub mod pageload;
pub mod pipeline;
pub mod report;
pub mod tcp;
