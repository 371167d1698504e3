//! `analyze --format parquet`: the streamed records as Parquet tables, for DuckDB and Spark.
//!
//! # Consumes
//! Model types only, one at a time, in the order the caller got them from
//! [`Analyzer::poll`](crate::pipeline::Analyzer::poll), as [`records`](super::records)
//! takes them: a DNS transaction with its stream index, a TCP or QUIC connection with the
//! positions (in its `http`, before any filter) of the requests kept, and at the end the
//! capture.
//!
//! # Produces
//! Under a directory, one file per table and capture: `DIR/<table>/<n>.parquet`, `n` the
//! capture's position in the command line's list, so that DuckDB's
//! `read_parquet('DIR/requests/*.parquet')` and Spark's `spark.read.parquet('DIR/requests')`
//! read every capture of a run. Every table's first column is `capture` (the capture's path
//! as given). The tables ([`TABLES`]):
//!
//! - `captures`: one row, the capture and how many rows of each kind it gave;
//! - `connections`: one row per TCP connection, its TCP counters and timeline phases;
//! - `requests`: one row per HTTP exchange of a TCP or QUIC connection (`quic` says which),
//!   `index` its position in the connection's `http`, headers as a list of (name, value);
//! - `dns`: one row per DNS transaction, `index` the number a connection's `dns` names;
//! - `tls`: one row per TCP or QUIC connection with a TLS handshake;
//! - `quic`: one row per QUIC connection;
//! - `diagnosis`: one row per [`Delay`] of a connection (`request` null) or of an exchange.
//!
//! Column types: capture times are `Timestamp(Microsecond, "UTC")` (the unit DuckDB and
//! Spark share; a nanosecond capture loses its last three digits), durations milliseconds
//! as `Float64`, counts, bytes and ids `UInt64`, addresses and enum values strings spelled
//! as `--format json` spells them. A value the model holds as an `Option` is nullable.
//!
//! # Guarantees
//! Memory tracks what is not yet written: each table's rows go to Arrow builders and leave
//! them as a record batch every [`BATCH_ROWS`] rows, and the Parquet writer closes a row
//! group every [`ROW_GROUP_ROWS`]. [`ParquetTables::finish`] closes every file; a table
//! that got no rows still gets its file, with its schema and no rows. What a streamed
//! record lacks beside `--format json` is what [`records`](super::records) says.

use std::fs::{self, File};
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::{
    ArrayBuilder, BooleanBuilder, Float64Builder, ListBuilder, StringBuilder, StructBuilder,
    TimestampMicrosecondBuilder, UInt16Builder, UInt32Builder, UInt64Builder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use crate::pageload::model::{
    CaptureInfo, Connection, Delay, DnsTransaction, HttpExchange, QuicConnection, TlsInfo,
};
use crate::time::Ts;

/// The tables, in the order of their directories' description above.
pub const TABLES: [&str; 7] = [
    "captures",
    "connections",
    "requests",
    "dns",
    "tls",
    "quic",
    "diagnosis",
];

/// Rows a table gathers before they are handed to its Parquet writer as one batch.
pub const BATCH_ROWS: usize = 8192;

/// Rows of a Parquet row group: the writer holds a row group's encoded pages until it is
/// full, so this bounds its memory as [`BATCH_ROWS`] bounds the builders'.
pub const ROW_GROUP_ROWS: usize = 8 * BATCH_ROWS;

/// The file of `table` for the capture at position `n` of the run's list.
pub fn table_path(dir: &Path, table: &str, n: usize) -> PathBuf {
    dir.join(table).join(format!("{n}.parquet"))
}

/// Removes the files of an earlier run from `dir` (`<table>/<n>.parquet` for every table,
/// nothing else), so that a run with fewer captures leaves none of the earlier ones' for
/// the engines to read with it.
pub fn clear(dir: &Path) -> io::Result<()> {
    for table in TABLES {
        let Ok(entries) = fs::read_dir(dir.join(table)) else {
            continue;
        };
        for e in entries {
            let path = e?.path();
            let ours = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".parquet"))
                .is_some_and(|stem| !stem.is_empty() && stem.bytes().all(|b| b.is_ascii_digit()));
            if ours {
                fs::remove_file(&path)?;
            }
        }
    }
    Ok(())
}

/// Declares a table's columns after `capture`: the struct of their builders, each column's
/// name (the field's), Arrow type and nullability, so that the schema and the builders are
/// written once, side by side.
macro_rules! columns {
    (
        $(#[$meta:meta])*
        struct $name:ident {
            $($col:ident: $builder:ty = $init:expr, $ty:expr, $nullable:expr;)*
        }
    ) => {
        $(#[$meta])*
        struct $name {
            $($col: $builder,)*
        }

        impl Columns for $name {
            fn new() -> $name {
                $name { $($col: $init,)* }
            }

            fn fields() -> Vec<Field> {
                vec![$(Field::new(stringify!($col), $ty, $nullable),)*]
            }

            fn finish(&mut self) -> Vec<ArrayRef> {
                vec![$(ArrayBuilder::finish(&mut self.$col),)*]
            }
        }
    };
}

/// The builders of one table's columns (after `capture`).
trait Columns {
    fn new() -> Self;
    /// The columns' names and types, in order.
    fn fields() -> Vec<Field>;
    /// The values appended since the last call, one array per column, in order.
    fn finish(&mut self) -> Vec<ArrayRef>;
}

fn ts_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

fn ts_builder() -> TimestampMicrosecondBuilder {
    TimestampMicrosecondBuilder::new().with_timezone("UTC")
}

fn strings_type() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true)))
}

fn strings_builder() -> ListBuilder<StringBuilder> {
    ListBuilder::new(StringBuilder::new())
}

fn header_fields() -> Fields {
    Fields::from(vec![
        Field::new("name", DataType::Utf8, false),
        Field::new("value", DataType::Utf8, false),
    ])
}

fn headers_type() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(
        DataType::Struct(header_fields()),
        true,
    )))
}

fn headers_builder() -> ListBuilder<StructBuilder> {
    ListBuilder::new(StructBuilder::new(
        header_fields(),
        vec![
            Box::new(StringBuilder::new()),
            Box::new(StringBuilder::new()),
        ],
    ))
}

fn frames_type() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::UInt64, true)))
}

fn frames_builder() -> ListBuilder<UInt64Builder> {
    ListBuilder::new(UInt64Builder::new())
}

columns! {
    /// `captures`: the capture, and how many rows it gave each table.
    struct CaptureColumns {
        format: StringBuilder = StringBuilder::new(), DataType::Utf8, false;
        packets: UInt64Builder = UInt64Builder::new(), DataType::UInt64, false;
        bytes: UInt64Builder = UInt64Builder::new(), DataType::UInt64, false;
        first_ts: TimestampMicrosecondBuilder = ts_builder(), ts_type(), true;
        last_ts: TimestampMicrosecondBuilder = ts_builder(), ts_type(), true;
        link_types: ListBuilder<StringBuilder> = strings_builder(), strings_type(), false;
        warnings: UInt64Builder = UInt64Builder::new(), DataType::UInt64, false;
        connections: UInt64Builder = UInt64Builder::new(), DataType::UInt64, false;
        quic: UInt64Builder = UInt64Builder::new(), DataType::UInt64, false;
        dns: UInt64Builder = UInt64Builder::new(), DataType::UInt64, false;
        requests: UInt64Builder = UInt64Builder::new(), DataType::UInt64, false;
    }
}

columns! {
    /// `connections`: one TCP connection a row.
    struct ConnectionColumns {
        id: UInt64Builder = UInt64Builder::new(), DataType::UInt64, false;
        tcp_stream: UInt64Builder = UInt64Builder::new(), DataType::UInt64, true;
        client: StringBuilder = StringBuilder::new(), DataType::Utf8, false;
        server: StringBuilder = StringBuilder::new(), DataType::Utf8, false;
        hostname: StringBuilder = StringBuilder::new(), DataType::Utf8, true;
        app_protocol: StringBuilder = StringBuilder::new(), DataType::Utf8, true;
        dns: UInt64Builder = UInt64Builder::new(), DataType::UInt64, true;
        syn_ts: TimestampMicrosecondBuilder = ts_builder(), ts_type(), true;
        handshake_ms: Float64Builder = Float64Builder::new(), DataType::Float64, true;
        bytes_client: UInt64Builder = UInt64Builder::new(), DataType::UInt64, false;
        bytes_server: UInt64Builder = UInt64Builder::new(), DataType::UInt64, false;
        packets_client: UInt64Builder = UInt64Builder::new(), DataType::UInt64, false;
        packets_server: UInt64Builder = UInt64Builder::new(), DataType::UInt64, false;
        retransmissions_client: UInt64Builder = UInt64Builder::new(), DataType::UInt64, false;
        retransmissions_server: UInt64Builder = UInt64Builder::new(), DataType::UInt64, false;
        close_kind: StringBuilder = StringBuilder::new(), DataType::Utf8, false;
        requests: UInt64Builder = UInt64Builder::new(), DataType::UInt64, false;
        dns_ms: Float64Builder = Float64Builder::new(), DataType::Float64, true;
        connect_ms: Float64Builder = Float64Builder::new(), DataType::Float64, true;
        tls_ms: Float64Builder = Float64Builder::new(), DataType::Float64, true;
        ttfb_ms: Float64Builder = Float64Builder::new(), DataType::Float64, true;
        download_ms: Float64Builder = Float64Builder::new(), DataType::Float64, true;
        total_ms: Float64Builder = Float64Builder::new(), DataType::Float64, true;
    }
}

columns! {
    /// `requests`: one HTTP exchange a row, of a TCP or a QUIC connection.
    struct RequestColumns {
        connection: UInt64Builder = UInt64Builder::new(), DataType::UInt64, false;
        quic: BooleanBuilder = BooleanBuilder::new(), DataType::Boolean, false;
        index: UInt32Builder = UInt32Builder::new(), DataType::UInt32, false;
        version: StringBuilder = StringBuilder::new(), DataType::Utf8, false;
        method: StringBuilder = StringBuilder::new(), DataType::Utf8, true;
        url: StringBuilder = StringBuilder::new(), DataType::Utf8, true;
        path: StringBuilder = StringBuilder::new(), DataType::Utf8, true;
        status: UInt16Builder = UInt16Builder::new(), DataType::UInt16, true;
        request_ts: TimestampMicrosecondBuilder = ts_builder(), ts_type(), true;
        response_ts: TimestampMicrosecondBuilder = ts_builder(), ts_type(), true;
        response_end_ts: TimestampMicrosecondBuilder = ts_builder(), ts_type(), true;
        ttfb_ms: Float64Builder = Float64Builder::new(), DataType::Float64, true;
        download_ms: Float64Builder = Float64Builder::new(), DataType::Float64, true;
        request_body_bytes: UInt64Builder = UInt64Builder::new(), DataType::UInt64, false;
        body_bytes: UInt64Builder = UInt64Builder::new(), DataType::UInt64, false;
        body_decoded_bytes: UInt64Builder = UInt64Builder::new(), DataType::UInt64, true;
        content_type: StringBuilder = StringBuilder::new(), DataType::Utf8, true;
        content_encoding: StringBuilder = StringBuilder::new(), DataType::Utf8, true;
        complete: BooleanBuilder = BooleanBuilder::new(), DataType::Boolean, false;
        request_headers: ListBuilder<StructBuilder> = headers_builder(), headers_type(), false;
        response_headers: ListBuilder<StructBuilder> = headers_builder(), headers_type(), false;
    }
}

columns! {
    /// `dns`: one DNS transaction a row.
    struct DnsColumns {
        index: UInt64Builder = UInt64Builder::new(), DataType::UInt64, false;
        ts: TimestampMicrosecondBuilder = ts_builder(), ts_type(), false;
        client: StringBuilder = StringBuilder::new(), DataType::Utf8, false;
        server: StringBuilder = StringBuilder::new(), DataType::Utf8, false;
        transport: StringBuilder = StringBuilder::new(), DataType::Utf8, false;
        qname: StringBuilder = StringBuilder::new(), DataType::Utf8, true;
        qtype: StringBuilder = StringBuilder::new(), DataType::Utf8, true;
        rcode: StringBuilder = StringBuilder::new(), DataType::Utf8, true;
        latency_ms: Float64Builder = Float64Builder::new(), DataType::Float64, true;
        answers: ListBuilder<StringBuilder> = strings_builder(), strings_type(), false;
        cached: BooleanBuilder = BooleanBuilder::new(), DataType::Boolean, true;
        // The resolver's walk: its queries upstream (null when the capture does not show
        // the resolver's side; 0 when answered from its cache).
        upstream_queries: UInt32Builder = UInt32Builder::new(), DataType::UInt32, true;
    }
}

columns! {
    /// `tls`: the handshake of one TCP or QUIC connection a row.
    struct TlsColumns {
        connection: UInt64Builder = UInt64Builder::new(), DataType::UInt64, false;
        quic: BooleanBuilder = BooleanBuilder::new(), DataType::Boolean, false;
        version: StringBuilder = StringBuilder::new(), DataType::Utf8, true;
        sni: StringBuilder = StringBuilder::new(), DataType::Utf8, true;
        alpn: StringBuilder = StringBuilder::new(), DataType::Utf8, true;
        cipher: StringBuilder = StringBuilder::new(), DataType::Utf8, true;
        handshake_ms: Float64Builder = Float64Builder::new(), DataType::Float64, true;
        decrypted: BooleanBuilder = BooleanBuilder::new(), DataType::Boolean, false;
        resumed: BooleanBuilder = BooleanBuilder::new(), DataType::Boolean, false;
    }
}

columns! {
    /// `quic`: one QUIC connection a row.
    struct QuicColumns {
        id: UInt64Builder = UInt64Builder::new(), DataType::UInt64, false;
        udp_stream: UInt64Builder = UInt64Builder::new(), DataType::UInt64, true;
        client: StringBuilder = StringBuilder::new(), DataType::Utf8, false;
        server: StringBuilder = StringBuilder::new(), DataType::Utf8, false;
        version: StringBuilder = StringBuilder::new(), DataType::Utf8, false;
        hostname: StringBuilder = StringBuilder::new(), DataType::Utf8, true;
        first_ts: TimestampMicrosecondBuilder = ts_builder(), ts_type(), false;
        last_ts: TimestampMicrosecondBuilder = ts_builder(), ts_type(), false;
        handshake_ms: Float64Builder = Float64Builder::new(), DataType::Float64, true;
        requests: UInt64Builder = UInt64Builder::new(), DataType::UInt64, false;
    }
}

columns! {
    /// `diagnosis`: one delay a row, of a connection (`request` null) or of an exchange.
    struct DelayColumns {
        connection: UInt64Builder = UInt64Builder::new(), DataType::UInt64, false;
        quic: BooleanBuilder = BooleanBuilder::new(), DataType::Boolean, false;
        request: UInt32Builder = UInt32Builder::new(), DataType::UInt32, true;
        kind: StringBuilder = StringBuilder::new(), DataType::Utf8, false;
        dir: StringBuilder = StringBuilder::new(), DataType::Utf8, false;
        ms: Float64Builder = Float64Builder::new(), DataType::Float64, false;
        from_ts: TimestampMicrosecondBuilder = ts_builder(), ts_type(), true;
        to_ts: TimestampMicrosecondBuilder = ts_builder(), ts_type(), true;
        frames: ListBuilder<UInt64Builder> = frames_builder(), frames_type(), false;
        note: StringBuilder = StringBuilder::new(), DataType::Utf8, false;
    }
}

/// One table of one capture: the rows gathered in its builders and the file they go to.
struct Table<C: Columns> {
    capture: StringBuilder,
    columns: C,
    /// Rows in the builders, not yet handed to `file`.
    pending: usize,
    /// Rows appended in all.
    rows: u64,
    schema: SchemaRef,
    file: ArrowWriter<File>,
}

impl<C: Columns> Table<C> {
    /// Creates (or truncates) `DIR/<name>/<n>.parquet`.
    fn create(dir: &Path, name: &str, n: usize) -> io::Result<Table<C>> {
        let path = table_path(dir, name, n);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        let file = File::create(&path)?;
        let mut fields = vec![Field::new("capture", DataType::Utf8, false)];
        fields.extend(C::fields());
        let schema = Arc::new(Schema::new(fields));
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .build();
        let file =
            ArrowWriter::try_new(file, schema.clone(), Some(props)).map_err(io::Error::other)?;
        Ok(Table {
            capture: StringBuilder::new(),
            columns: C::new(),
            pending: 0,
            rows: 0,
            schema,
            file,
        })
    }

    /// Starts a row: its `capture`, then the columns for the caller to append one value
    /// to each. [`Table::flush_if_full`] after.
    fn row(&mut self, capture: &str) -> &mut C {
        self.capture.append_value(capture);
        self.pending += 1;
        self.rows += 1;
        &mut self.columns
    }

    fn flush_if_full(&mut self) -> io::Result<()> {
        if self.pending >= BATCH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    /// Hands the rows in the builders to the file as one record batch.
    fn flush(&mut self) -> io::Result<()> {
        if self.pending == 0 {
            return Ok(());
        }
        let mut arrays = vec![ArrayBuilder::finish(&mut self.capture)];
        arrays.extend(self.columns.finish());
        self.pending = 0;
        // Checks every column's type and length against the schema.
        let batch = RecordBatch::try_new(self.schema.clone(), arrays).map_err(io::Error::other)?;
        self.file.write(&batch).map_err(io::Error::other)
    }

    /// Writes what is left and the file's footer.
    fn close(mut self) -> io::Result<()> {
        self.flush()?;
        self.file.close().map_err(io::Error::other)?;
        Ok(())
    }
}

/// The tables of one capture, filled as its items come.
pub struct ParquetTables {
    capture: String,
    captures: Table<CaptureColumns>,
    connections: Table<ConnectionColumns>,
    requests: Table<RequestColumns>,
    dns: Table<DnsColumns>,
    tls: Table<TlsColumns>,
    quic: Table<QuicColumns>,
    diagnosis: Table<DelayColumns>,
}

impl ParquetTables {
    /// Creates `dir` if missing and every table's file for the capture at position `n` of
    /// the run's list, whose rows say `capture`.
    pub fn create(dir: &Path, n: usize, capture: &str) -> io::Result<ParquetTables> {
        Ok(ParquetTables {
            capture: capture.to_string(),
            captures: Table::create(dir, "captures", n)?,
            connections: Table::create(dir, "connections", n)?,
            requests: Table::create(dir, "requests", n)?,
            dns: Table::create(dir, "dns", n)?,
            tls: Table::create(dir, "tls", n)?,
            quic: Table::create(dir, "quic", n)?,
            diagnosis: Table::create(dir, "diagnosis", n)?,
        })
    }

    /// A DNS transaction, `index` its number in the stream.
    pub fn dns(&mut self, index: u64, t: &DnsTransaction) -> io::Result<()> {
        let r = self.dns.row(&self.capture);
        let question = t.questions.first();
        r.index.append_value(index);
        r.ts.append_value(micros(t.ts));
        r.client.append_value(addr(t.client));
        r.server.append_value(addr(t.server));
        r.transport.append_value(t.transport.as_str());
        r.qname.append_option(question.map(|q| q.name.as_str()));
        r.qtype.append_option(question.map(|q| &*q.qtype));
        r.rcode.append_option(t.rcode.as_deref());
        r.latency_ms.append_option(t.latency_ms);
        for a in &t.answers {
            r.answers.values().append_value(&a.data);
        }
        r.answers.append(true);
        r.cached.append_option(t.cached);
        let walk = t
            .chain
            .as_ref()
            .map(|c| u32::try_from(c.len()).unwrap_or(u32::MAX));
        r.upstream_queries.append_option(walk);
        self.dns.flush_if_full()
    }

    /// A TCP connection, its TLS handshake, its exchanges and its delays; `indices` are
    /// the positions (before any filter) of the exchanges in `c.http`.
    pub fn connection(&mut self, c: &Connection, indices: &[usize]) -> io::Result<()> {
        let r = self.connections.row(&self.capture);
        let tcp = &c.tcp;
        r.id.append_value(c.id);
        r.tcp_stream.append_option(c.tcp_stream);
        r.client.append_value(addr(c.client));
        r.server.append_value(addr(c.server));
        r.hostname.append_option(c.hostname.as_deref());
        r.app_protocol
            .append_option(c.app_protocol.map(|p| p.as_str()));
        r.dns.append_option(c.dns.map(|d| d as u64));
        r.syn_ts.append_option(tcp.syn_ts.map(micros));
        r.handshake_ms.append_option(tcp.handshake_ms);
        r.bytes_client.append_value(tcp.bytes.client);
        r.bytes_server.append_value(tcp.bytes.server);
        r.packets_client.append_value(tcp.packets.client);
        r.packets_server.append_value(tcp.packets.server);
        r.retransmissions_client
            .append_value(tcp.retransmissions.client);
        r.retransmissions_server
            .append_value(tcp.retransmissions.server);
        r.close_kind.append_value(tcp.close.kind.as_str());
        r.requests.append_value(c.http.len() as u64);
        let t = &c.timeline;
        r.dns_ms.append_option(t.dns_ms);
        r.connect_ms.append_option(t.connect_ms);
        r.tls_ms.append_option(t.tls_ms);
        r.ttfb_ms.append_option(t.ttfb_ms);
        r.download_ms.append_option(t.download_ms);
        r.total_ms.append_option(t.total_ms);
        self.connections.flush_if_full()?;
        if let Some(tls) = &c.tls {
            self.tls_row(c.id, false, tls)?;
        }
        for d in &c.diagnosis {
            self.delay_row(c.id, false, None, d)?;
        }
        self.exchanges(c.id, false, &c.http, indices)
    }

    /// A QUIC connection, as [`ParquetTables::connection`].
    pub fn quic(&mut self, q: &QuicConnection, indices: &[usize]) -> io::Result<()> {
        let r = self.quic.row(&self.capture);
        r.id.append_value(q.id);
        r.udp_stream.append_option(q.udp_stream);
        r.client.append_value(addr(q.client));
        r.server.append_value(addr(q.server));
        r.version.append_value(&q.version);
        r.hostname.append_option(q.hostname.as_deref());
        r.first_ts.append_value(micros(q.first_ts));
        r.last_ts.append_value(micros(q.last_ts));
        r.handshake_ms.append_option(q.handshake_ms);
        r.requests.append_value(q.http.len() as u64);
        self.quic.flush_if_full()?;
        if let Some(tls) = &q.tls {
            self.tls_row(q.id, true, tls)?;
        }
        self.exchanges(q.id, true, &q.http, indices)
    }

    fn tls_row(&mut self, connection: u64, quic: bool, t: &TlsInfo) -> io::Result<()> {
        let r = self.tls.row(&self.capture);
        r.connection.append_value(connection);
        r.quic.append_value(quic);
        r.version.append_option(t.version.as_deref());
        r.sni.append_option(t.sni.as_deref());
        r.alpn.append_option(t.alpn.as_deref());
        r.cipher.append_option(t.cipher.as_deref());
        r.handshake_ms.append_option(t.handshake_ms);
        r.decrypted.append_value(t.decrypted);
        r.resumed.append_value(t.resumed);
        self.tls.flush_if_full()
    }

    /// The exchanges of a connection and their delays.
    fn exchanges(
        &mut self,
        connection: u64,
        quic: bool,
        http: &[HttpExchange],
        indices: &[usize],
    ) -> io::Result<()> {
        for (h, &i) in http.iter().zip(indices) {
            // An exchange's position fits: a connection's exchanges are capped far below.
            let index = u32::try_from(i).unwrap_or(u32::MAX);
            let r = self.requests.row(&self.capture);
            r.connection.append_value(connection);
            r.quic.append_value(quic);
            r.index.append_value(index);
            r.version.append_value(&h.version);
            r.method.append_option(h.method.as_deref());
            r.url.append_option(h.url.as_deref());
            r.path.append_option(h.path.as_deref());
            r.status.append_option(h.status);
            r.request_ts.append_option(h.request_ts.map(micros));
            r.response_ts.append_option(h.response_ts.map(micros));
            r.response_end_ts
                .append_option(h.response_end_ts.map(micros));
            r.ttfb_ms.append_option(h.ttfb_ms);
            r.download_ms.append_option(h.download_ms);
            r.request_body_bytes.append_value(h.request_body_bytes);
            r.body_bytes.append_value(h.body_bytes);
            r.body_decoded_bytes.append_option(h.body_decoded_bytes);
            r.content_type.append_option(h.content_type.as_deref());
            r.content_encoding
                .append_option(h.content_encoding.as_deref());
            r.complete.append_value(h.complete);
            append_headers(&mut r.request_headers, &h.request_headers);
            append_headers(&mut r.response_headers, &h.response_headers);
            self.requests.flush_if_full()?;
            for d in &h.diagnosis {
                self.delay_row(connection, quic, Some(index), d)?;
            }
        }
        Ok(())
    }

    fn delay_row(
        &mut self,
        connection: u64,
        quic: bool,
        request: Option<u32>,
        d: &Delay,
    ) -> io::Result<()> {
        let r = self.diagnosis.row(&self.capture);
        r.connection.append_value(connection);
        r.quic.append_value(quic);
        r.request.append_option(request);
        r.kind.append_value(d.kind.as_str());
        r.dir.append_value(d.dir.as_str());
        r.ms.append_value(d.ms);
        r.from_ts.append_option(d.from_ts.map(micros));
        r.to_ts.append_option(d.to_ts.map(micros));
        r.frames.values().append_slice(&d.frames);
        r.frames.append(true);
        r.note.append_value(&d.note);
        self.diagnosis.flush_if_full()
    }

    /// The `captures` row, then every file's last rows and footer.
    pub fn finish(mut self, info: &CaptureInfo) -> io::Result<()> {
        let r = self.captures.row(&self.capture);
        r.format.append_value(&info.format);
        r.packets.append_value(info.packets);
        r.bytes.append_value(info.bytes);
        r.first_ts.append_option(info.first_ts.map(micros));
        r.last_ts.append_option(info.last_ts.map(micros));
        for l in &info.link_types {
            r.link_types.values().append_value(l);
        }
        r.link_types.append(true);
        r.warnings.append_value(info.warnings.len() as u64);
        r.connections.append_value(self.connections.rows);
        r.quic.append_value(self.quic.rows);
        r.dns.append_value(self.dns.rows);
        r.requests.append_value(self.requests.rows);
        self.captures.close()?;
        self.connections.close()?;
        self.requests.close()?;
        self.dns.close()?;
        self.tls.close()?;
        self.quic.close()?;
        self.diagnosis.close()
    }
}

/// Microseconds since the epoch, rounded down.
fn micros(ts: Ts) -> i64 {
    ts.nanos().div_euclid(1000)
}

/// An address as the JSON writes it: `10.0.0.1:443`, `[fd00::1]:443`.
fn addr(a: SocketAddr) -> String {
    a.to_string()
}

/// One row's headers: a list of (name, value) structs.
fn append_headers(b: &mut ListBuilder<StructBuilder>, headers: &[(String, String)]) {
    let entries = b.values();
    for (name, value) in headers {
        // The struct's two fields are the strings `headers_builder` made.
        for (i, s) in [name, value].into_iter().enumerate() {
            if let Some(f) = entries.field_builder::<StringBuilder>(i) {
                f.append_value(s);
            }
        }
        entries.append(true);
    }
    b.append(true);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pageload::model::{DnsAnswer, DnsQuestion, HttpExchange};
    use arrow_array::cast::AsArray;
    use arrow_array::types::{TimestampMicrosecondType, UInt64Type};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    fn read(dir: &Path, table: &str) -> Vec<RecordBatch> {
        let f = File::open(table_path(dir, table, 3)).unwrap();
        ParquetRecordBatchReaderBuilder::try_new(f)
            .unwrap()
            .build()
            .unwrap()
            .map(|b| b.unwrap())
            .collect()
    }

    fn rows(batches: &[RecordBatch]) -> usize {
        batches.iter().map(|b| b.num_rows()).sum()
    }

    #[test]
    fn every_table_gets_a_file_and_rows_cross_batches() {
        let dir =
            std::env::temp_dir().join(format!("pagetrace-parquet-unit-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let mut t = ParquetTables::create(&dir, 3, "a.pcap").unwrap();
        let lookups = BATCH_ROWS + 5;
        for i in 0..lookups as u64 {
            let d = DnsTransaction {
                ts: Ts::from_nanos(1_700_000_000_123_456_789),
                questions: vec![DnsQuestion {
                    name: "www.test".into(),
                    qtype: "A".into(),
                }],
                answers: vec![DnsAnswer {
                    data: "10.0.0.1".into(),
                    ..DnsAnswer::default()
                }],
                ..DnsTransaction::default()
            };
            t.dns(i, &d).unwrap();
        }
        let c = Connection {
            id: 7,
            http: vec![HttpExchange {
                version: "HTTP/1.1".into(),
                status: Some(200),
                request_headers: vec![("Host".into(), "www.test".into())],
                ..HttpExchange::default()
            }],
            ..Connection::default()
        };
        t.connection(&c, &[4]).unwrap();
        t.finish(&CaptureInfo::default()).unwrap();

        for table in TABLES {
            assert!(table_path(&dir, table, 3).exists(), "{table}");
        }
        assert_eq!(rows(&read(&dir, "tls")), 0);
        let dns = read(&dir, "dns");
        assert_eq!(rows(&dns), lookups);
        assert!(dns.len() >= 2, "more rows than a batch: several batches");
        let ts = dns[0].column_by_name("ts").unwrap();
        assert_eq!(
            ts.as_primitive::<TimestampMicrosecondType>().value(0),
            1_700_000_000_123_456
        );
        let last = dns.last().unwrap();
        let index = last
            .column_by_name("index")
            .unwrap()
            .as_primitive::<UInt64Type>();
        assert_eq!(index.value(index.len() - 1), lookups as u64 - 1);

        let req = read(&dir, "requests");
        assert_eq!(rows(&req), 1);
        let headers = req[0]
            .column_by_name("request_headers")
            .unwrap()
            .as_list::<i32>();
        let entry = headers.value(0);
        let entry = entry.as_struct();
        assert_eq!(entry.column(0).as_string::<i32>().value(0), "Host");
        assert_eq!(entry.column(1).as_string::<i32>().value(0), "www.test");
        let index = req[0].column_by_name("index").unwrap();
        assert_eq!(
            index
                .as_primitive::<arrow_array::types::UInt32Type>()
                .value(0),
            4
        );

        let cap = read(&dir, "captures");
        assert_eq!(rows(&cap), 1);
        let col = |name: &str| {
            cap[0]
                .column_by_name(name)
                .unwrap()
                .as_primitive::<UInt64Type>()
                .value(0)
        };
        assert_eq!(
            (col("dns"), col("connections"), col("requests")),
            (lookups as u64, 1, 1)
        );
        assert_eq!(
            cap[0].column(0).as_string::<i32>().value(0),
            "a.pcap",
            "capture first"
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
