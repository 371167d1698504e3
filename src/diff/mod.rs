//! Two page-load reports → one comparison. STUB: replaced by the diff work.
