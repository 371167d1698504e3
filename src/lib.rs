//! pagetrace: a page load's journey from real packets.
//!
//! The library reads captures, reassembles TCP, dissects DNS, TLS and HTTP, and stitches
//! them into one report per connection. Modules read top to bottom in the order data flows;
//! [`pipeline`] alone knows the stage order.
//!
//! No `unsafe`: everything from the wire is read through checked slices.

#![forbid(unsafe_code)]

pub mod time;

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
