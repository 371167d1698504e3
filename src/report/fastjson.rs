//! JSON text, byte for byte what `serde_json::to_writer` (compact) and
//! `serde_json::to_writer_pretty` write, from a serializer that does less per value.
//!
//! Why: streamed records of a flood are mostly JSON (a half-open connection is a 1.2 KB
//! line); `perf` put serde_json's serializer at 45% of `--format jsonl` on 200,000 SYNs,
//! most of it in the escape scan of every key and string a byte at a time and in calls
//! through `io::Write` for each piece. Here the output is a `Vec<u8>`, strings are scanned
//! eight bytes at a time, and numbers are formatted as serde_json formats them (`itoa`, and
//! serde_json's own float formatter).
//!
//! # Guarantees
//! - The same bytes as serde_json for every value (tests in `tests/fastjson.rs` compare
//!   every fixture's report and records, and values chosen for their corners: control
//!   characters, non-finite floats, integer map keys, every enum shape, `flatten`).
//! - What serde_json refuses (a map key that is not a string, a finite number, a bool or a
//!   unit variant) this refuses too; [`extend`] then writes the value again with serde_json,
//!   so the outcome, error message included, is serde_json's.

use std::io::{self, Write};
use std::net::SocketAddr;

use serde::ser::{self, Serialize};
use serde_json::ser::Formatter;

/// Appends `value` as JSON to `out` (pretty-printed as serde_json's `PrettyFormatter`
/// with two spaces, or compact).
pub fn extend<T: Serialize + ?Sized>(
    out: &mut Vec<u8>,
    value: &T,
    pretty: bool,
) -> serde_json::Result<()> {
    let start = out.len();
    let done = if pretty {
        value.serialize(&mut Ser::<true>::new(out, None))
    } else {
        value.serialize(&mut Ser::<false>::new(out, None))
    };
    if done.is_ok() {
        return Ok(());
    }
    out.truncate(start);
    if pretty {
        serde_json::to_writer_pretty(&mut *out, value)
    } else {
        serde_json::to_writer(&mut *out, value)
    }
}

/// `value` pretty-printed into `w`, through a buffer written out each time it holds
/// [`FLUSH_AT`] bytes (a report's text is not held whole).
pub fn write_pretty<T: Serialize + ?Sized>(w: &mut dyn Write, value: &T) -> io::Result<()> {
    let mut buf = Vec::with_capacity(FLUSH_AT + (FLUSH_AT >> 2));
    let mut ser = Ser::<true>::new(&mut buf, Some(w));
    let done = value.serialize(&mut ser);
    if let Some(e) = ser.io_error.take() {
        return Err(e);
    }
    if done.is_err() {
        // What serde_json says of it (part of the text may be out already).
        let e = serde_json::to_writer_pretty(io::sink(), value).err();
        return Err(e.map_or_else(|| io::Error::other(Unsupported), io::Error::from));
    }
    w.write_all(&buf)
}

/// A socket address as serde writes it (`1.2.3.4:5`, `[::1]:5`) for a human-readable
/// format, with IPv4 formatted here rather than through `core::fmt` (two per connection
/// and per DNS transaction, a tenth of a flood's JSON time); a field's
/// `#[serde(serialize_with)]`.
pub fn socket_addr<S: ser::Serializer>(
    a: &SocketAddr,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    let SocketAddr::V4(v4) = a else {
        return a.serialize(s);
    };
    if !s.is_human_readable() {
        return a.serialize(s);
    }
    // "255.255.255.255:65535"
    let mut buf = [0u8; 21];
    let mut n = 0;
    let mut put = |bytes: &[u8]| {
        buf[n..n + bytes.len()].copy_from_slice(bytes);
        n += bytes.len();
    };
    let mut digits = itoa::Buffer::new();
    for (i, octet) in v4.ip().octets().into_iter().enumerate() {
        if i > 0 {
            put(b".");
        }
        put(digits.format(octet).as_bytes());
    }
    put(b":");
    put(digits.format(v4.port()).as_bytes());
    match std::str::from_utf8(&buf[..n]) {
        Ok(text) => s.serialize_str(text),
        Err(_) => a.serialize(s),
    }
}

/// [`write_pretty`]'s buffer size.
const FLUSH_AT: usize = 64 << 10;

/// This serializer stopped: a value it does not write, a `Serialize` impl's own error, or
/// the sink's error (kept aside). Empty, so results stay a byte wide on the hot path;
/// [`extend`] then asks serde_json, whose error says what it was.
#[derive(Debug)]
pub struct Unsupported;

impl std::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not written as JSON")
    }
}

impl std::error::Error for Unsupported {}

impl ser::Error for Unsupported {
    fn custom<M: std::fmt::Display>(_msg: M) -> Self {
        Unsupported
    }
}

type Result<T = ()> = std::result::Result<T, Unsupported>;

struct Ser<'a, const P: bool> {
    out: &'a mut Vec<u8>,
    /// Where `out` goes once it holds [`FLUSH_AT`] bytes, if anywhere.
    sink: Option<&'a mut dyn Write>,
    /// The sink's error, which stopped the serializer.
    io_error: Option<io::Error>,
    /// Pretty (`P`): the current depth.
    indent: usize,
    /// Pretty: whether the innermost open array or object has a value (serde_json keeps one
    /// flag, not one per level, and so does this).
    has_value: bool,
}

/// `b` in a JSON string needs an escape.
#[inline]
fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// Whether any of the eight bytes of `x` needs an escape.
#[inline]
fn any_escape(x: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let control = x.wrapping_sub(ONES * 0x20) & !x & HIGH;
    control | zero(x ^ (ONES * u64::from(b'"'))) | zero(x ^ (ONES * u64::from(b'\\'))) != 0
}

/// Whether no byte of `bytes` needs an escape: eight bytes at a time, a short string
/// padded to eight, the tail of a long one as its last eight (again, overlapping).
#[inline]
fn clean(bytes: &[u8]) -> bool {
    let n = bytes.len();
    if n <= 8 {
        let mut word = [b' '; 8];
        word[..n].copy_from_slice(bytes);
        return !any_escape(u64::from_le_bytes(word));
    }
    let mut dirty = false;
    for c in bytes.chunks_exact(8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(c);
        dirty |= any_escape(u64::from_le_bytes(word));
    }
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[n - 8..]);
    !(dirty || any_escape(u64::from_le_bytes(word)))
}

/// `s` as a JSON string, escaped as serde_json escapes (the short forms for `\b`, `\t`,
/// `\n`, `\f`, `\r`, `\"`, `\\`, `\u00xx` in lowercase hex for other control characters,
/// nothing else).
#[inline]
fn write_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    if clean(bytes) {
        out.extend_from_slice(bytes);
    } else {
        write_escaped(out, bytes);
    }
    out.push(b'"');
}

#[cold]
fn write_escaped(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if !needs_escape(b) {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x09 => out.extend_from_slice(b"\\t"),
            0x0A => out.extend_from_slice(b"\\n"),
            0x0C => out.extend_from_slice(b"\\f"),
            0x0D => out.extend_from_slice(b"\\r"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xF)]);
            }
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

fn write_int<I: itoa::Integer>(out: &mut Vec<u8>, v: I) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

fn write_f64(out: &mut Vec<u8>, v: f64) {
    if v.is_finite() {
        // serde_json's own formatter, so the digits are its digits.
        let _ = serde_json::ser::CompactFormatter.write_f64(out, v);
    } else {
        out.extend_from_slice(b"null");
    }
}

fn write_f32(out: &mut Vec<u8>, v: f32) {
    if v.is_finite() {
        let _ = serde_json::ser::CompactFormatter.write_f32(out, v);
    } else {
        out.extend_from_slice(b"null");
    }
}

impl<'a, const P: bool> Ser<'a, P> {
    fn int<I: itoa::Integer>(&mut self, v: I) -> Result {
        write_int(self.out, v);
        Ok(())
    }

    fn new(out: &'a mut Vec<u8>, sink: Option<&'a mut dyn Write>) -> Self {
        Ser {
            out,
            sink,
            io_error: None,
            indent: 0,
            has_value: false,
        }
    }

    #[inline]
    fn begin(&mut self, open: u8) {
        if P {
            self.indent += 1;
            self.has_value = false;
        }
        self.out.push(open);
    }

    #[inline]
    fn end(&mut self, close: u8) {
        if P {
            self.indent -= 1;
            if self.has_value {
                self.newline();
            }
        }
        self.out.push(close);
    }

    fn newline(&mut self) {
        self.out.push(b'\n');
        for _ in 0..self.indent {
            self.out.extend_from_slice(b"  ");
        }
    }

    /// Before an array element or an object key.
    #[inline]
    fn element(&mut self, first: bool) {
        if P {
            if !first {
                self.out.push(b',');
            }
            self.newline();
        } else if !first {
            self.out.push(b',');
        }
    }

    /// Between an object key and its value.
    #[inline]
    fn colon(&mut self) {
        if P {
            self.out.extend_from_slice(b": ");
        } else {
            self.out.push(b':');
        }
    }

    #[inline]
    fn value_done(&mut self) -> Result {
        if P {
            self.has_value = true;
        }
        // Only the pretty document goes to a sink.
        if P && self.out.len() >= FLUSH_AT {
            if let Some(sink) = self.sink.as_mut() {
                if let Err(e) = sink.write_all(self.out) {
                    self.io_error = Some(e);
                    return Err(Unsupported);
                }
                self.out.clear();
            }
        }
        Ok(())
    }

    /// `{"variant":` of an enum's newtype, tuple or struct variant.
    fn variant_open(&mut self, variant: &str) {
        self.begin(b'{');
        self.element(true);
        write_str(self.out, variant);
        self.colon();
    }

    /// The `}` after a variant's value.
    fn variant_close(&mut self) -> Result {
        self.value_done()?;
        self.end(b'}');
        Ok(())
    }
}

/// An array or object being written; `first` until its first element.
struct Compound<'s, 'a, const P: bool> {
    ser: &'s mut Ser<'a, P>,
    first: bool,
    /// Whether a `}` closing an enum variant follows the array or object.
    variant: bool,
}

impl<const P: bool> Compound<'_, '_, P> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.ser.element(self.first);
        self.first = false;
        value.serialize(&mut *self.ser)?;
        self.ser.value_done()
    }

    /// A struct's field name: a name in the source (`derive`'s, or a `rename`), which needs
    /// no escape (checked in debug builds), so none is looked for.
    #[inline]
    fn key(&mut self, key: &'static str) {
        debug_assert!(clean(key.as_bytes()), "{key:?} needs an escape");
        self.ser.element(self.first);
        self.first = false;
        let out = &mut *self.ser.out;
        out.reserve(key.len() + 3);
        out.push(b'"');
        out.extend_from_slice(key.as_bytes());
        out.push(b'"');
        self.ser.colon();
    }

    fn field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result {
        self.key(key);
        value.serialize(&mut *self.ser)?;
        self.ser.value_done()
    }

    fn close(self, close: u8) -> Result {
        self.ser.end(close);
        if self.variant {
            self.ser.variant_close()?;
        }
        Ok(())
    }
}

/// serde's ten integer methods, each handing its value to `self.$via` (generic over
/// `itoa::Integer`).
macro_rules! int_methods {
    ($via:ident) => {
        int_methods!($via: serialize_i8 i8, serialize_i16 i16, serialize_i32 i32,
            serialize_i64 i64, serialize_i128 i128, serialize_u8 u8, serialize_u16 u16,
            serialize_u32 u32, serialize_u64 u64, serialize_u128 u128);
    };
    ($via:ident: $($method:ident $t:ty),*) => {$(
        fn $method(self, v: $t) -> Result {
            self.$via(v)
        }
    )*};
}

impl<'s, 'a, const P: bool> ser::Serializer for &'s mut Ser<'a, P> {
    type Ok = ();
    type Error = Unsupported;
    type SerializeSeq = Compound<'s, 'a, P>;
    type SerializeTuple = Compound<'s, 'a, P>;
    type SerializeTupleStruct = Compound<'s, 'a, P>;
    type SerializeTupleVariant = Compound<'s, 'a, P>;
    type SerializeMap = Compound<'s, 'a, P>;
    type SerializeStruct = Compound<'s, 'a, P>;
    type SerializeStructVariant = Compound<'s, 'a, P>;

    fn serialize_bool(self, v: bool) -> Result {
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }
    int_methods!(int);
    fn serialize_f32(self, v: f32) -> Result {
        write_f32(self.out, v);
        Ok(())
    }
    fn serialize_f64(self, v: f64) -> Result {
        write_f64(self.out, v);
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result {
        write_str(self.out, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result {
        write_str(self.out, v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result {
        use ser::SerializeSeq;
        let mut seq = self.serialize_seq(Some(v.len()))?;
        for b in v {
            seq.serialize_element(b)?;
        }
        seq.end()
    }
    fn serialize_none(self) -> Result {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result {
        self.serialize_unit()
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result {
        write_str(self.out, variant);
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result {
        self.variant_open(variant);
        value.serialize(&mut *self)?;
        self.variant_close()
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Compound<'s, 'a, P>> {
        self.begin(b'[');
        Ok(Compound {
            ser: self,
            first: true,
            variant: false,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Compound<'s, 'a, P>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Compound<'s, 'a, P>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'s, 'a, P>> {
        self.variant_open(variant);
        self.begin(b'[');
        Ok(Compound {
            ser: self,
            first: true,
            variant: true,
        })
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Compound<'s, 'a, P>> {
        self.begin(b'{');
        Ok(Compound {
            ser: self,
            first: true,
            variant: false,
        })
    }
    fn serialize_struct(self, _: &'static str, len: usize) -> Result<Compound<'s, 'a, P>> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'s, 'a, P>> {
        self.variant_open(variant);
        self.begin(b'{');
        Ok(Compound {
            ser: self,
            first: true,
            variant: true,
        })
    }
}

/// The compounds written as arrays: each element (or field) in turn, then `]`.
macro_rules! array_compound {
    ($($trait:ident :: $method:ident),*) => {$(
        impl<const P: bool> ser::$trait for Compound<'_, '_, P> {
            type Ok = ();
            type Error = Unsupported;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
                self.element(value)
            }
            fn end(self) -> Result {
                self.close(b']')
            }
        }
    )*};
}

array_compound!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl<const P: bool> ser::SerializeMap for Compound<'_, '_, P> {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result {
        self.ser.element(self.first);
        self.first = false;
        key.serialize(KeySer(&mut *self.ser.out))?;
        self.ser.colon();
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        value.serialize(&mut *self.ser)?;
        self.ser.value_done()
    }
    fn end(self) -> Result {
        self.close(b'}')
    }
}

/// The compounds written as objects of named fields, then `}`.
macro_rules! struct_compound {
    ($($trait:ident),*) => {$(
        impl<const P: bool> ser::$trait for Compound<'_, '_, P> {
            type Ok = ();
            type Error = Unsupported;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result {
                self.field(key, value)
            }
            fn end(self) -> Result {
                self.close(b'}')
            }
        }
    )*};
}

struct_compound!(SerializeStruct, SerializeStructVariant);

/// A map key: strings as they are, numbers (finite ones) and bools quoted, as serde_json
/// writes them; anything else is [`Unsupported`], as serde_json refuses it.
struct KeySer<'a>(&'a mut Vec<u8>);

impl KeySer<'_> {
    fn quoted_int<I: itoa::Integer>(self, v: I) -> Result {
        self.0.push(b'"');
        write_int(self.0, v);
        self.0.push(b'"');
        Ok(())
    }
}

fn unsupported<T>() -> Result<T> {
    Err(Unsupported)
}

impl<'a> ser::Serializer for KeySer<'a> {
    type Ok = ();
    type Error = Unsupported;
    type SerializeSeq = ser::Impossible<(), Unsupported>;
    type SerializeTuple = ser::Impossible<(), Unsupported>;
    type SerializeTupleStruct = ser::Impossible<(), Unsupported>;
    type SerializeTupleVariant = ser::Impossible<(), Unsupported>;
    type SerializeMap = ser::Impossible<(), Unsupported>;
    type SerializeStruct = ser::Impossible<(), Unsupported>;
    type SerializeStructVariant = ser::Impossible<(), Unsupported>;

    fn serialize_bool(self, v: bool) -> Result {
        self.0
            .extend_from_slice(if v { b"\"true\"" } else { b"\"false\"" });
        Ok(())
    }
    int_methods!(quoted_int);
    fn serialize_f32(self, v: f32) -> Result {
        if !v.is_finite() {
            return unsupported();
        }
        self.0.push(b'"');
        write_f32(self.0, v);
        self.0.push(b'"');
        Ok(())
    }
    fn serialize_f64(self, v: f64) -> Result {
        if !v.is_finite() {
            return unsupported();
        }
        self.0.push(b'"');
        write_f64(self.0, v);
        self.0.push(b'"');
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result {
        write_str(self.0, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result {
        write_str(self.0, v);
        Ok(())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result {
        unsupported()
    }
    fn serialize_none(self) -> Result {
        unsupported()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result {
        unsupported()
    }
    fn serialize_unit(self) -> Result {
        unsupported()
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result {
        unsupported()
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result {
        write_str(self.0, variant);
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Result {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result {
        unsupported()
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq> {
        unsupported()
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple> {
        unsupported()
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct> {
        unsupported()
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        unsupported()
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap> {
        unsupported()
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct> {
        unsupported()
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant> {
        unsupported()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;

    fn both<T: Serialize>(v: &T) {
        for pretty in [false, true] {
            let mut ours = Vec::new();
            extend(&mut ours, v, pretty).unwrap();
            let theirs = if pretty {
                serde_json::to_vec_pretty(v).unwrap()
            } else {
                serde_json::to_vec(v).unwrap()
            };
            assert_eq!(
                String::from_utf8_lossy(&ours),
                String::from_utf8_lossy(&theirs)
            );
        }
    }

    #[test]
    fn strings_escape_as_serde_json_does() {
        let every: String = (0u8..=0x7f).map(char::from).collect();
        both(&every);
        both(&"é\u{7f}\u{2028}🦀 \"quoted\" back\\slash, tab\there and a long run".to_string());
        for n in 0..20 {
            both(&"a".repeat(n));
            both(&format!("{}\"{}", "x".repeat(n), "y".repeat(n)));
        }
        assert!(!any_escape(u64::from_le_bytes(*b"abcdefgh")));
        assert!(any_escape(u64::from_le_bytes(*b"abc\"efgh")));
        assert!(any_escape(u64::from_le_bytes(*b"abcdefg\\")));
        assert!(any_escape(u64::from_le_bytes(*b"\x1fbcdefgh")));
        assert!(!any_escape(u64::from_le_bytes(*b" ~\x7f\xff\x80!#]")));
    }

    #[derive(Serialize)]
    struct Addr(#[serde(serialize_with = "socket_addr")] SocketAddr);

    #[test]
    fn socket_addresses_as_serde_writes_them() {
        for text in [
            "0.0.0.0:0",
            "255.255.255.255:65535",
            "10.0.0.53:53",
            "[::1]:443",
            "[fe80::1%2]:80",
        ] {
            let a: SocketAddr = text.parse().unwrap();
            assert_eq!(
                serde_json::to_string(&Addr(a)).unwrap(),
                serde_json::to_string(&a).unwrap()
            );
        }
    }

    #[test]
    fn numbers_as_serde_json_writes_them() {
        both(&[
            0.0,
            -0.0,
            1e-7,
            1e21,
            1.5,
            f64::MIN_POSITIVE,
            f64::MAX,
            1700000000.0001,
        ]);
        both(&[f64::NAN, f64::INFINITY, f64::NEG_INFINITY]);
        both(&[1.1f32, f32::NAN, 3e-9]);
        both(&(i64::MIN, u64::MAX, i128::MIN, u128::MAX, -1i8, 255u8));
    }

    #[derive(Serialize)]
    enum Shapes {
        Unit,
        Newtype(u8),
        Tuple(u8, String),
        Struct { a: Option<u8>, b: Vec<u8> },
    }

    #[derive(Serialize)]
    struct Outer {
        kind: &'static str,
        #[serde(flatten)]
        inner: Inner,
        empty: Vec<u8>,
        empty_map: std::collections::BTreeMap<String, u8>,
        nested: Vec<Vec<u8>>,
        unit: (),
    }

    #[derive(Serialize)]
    struct Inner {
        x: Option<Shapes>,
        y: std::collections::BTreeMap<u16, Shapes>,
    }

    #[test]
    fn every_shape_as_serde_json_writes_it() {
        let v = Outer {
            kind: "k",
            inner: Inner {
                x: Some(Shapes::Struct {
                    a: None,
                    b: vec![1, 2],
                }),
                y: [
                    (1, Shapes::Unit),
                    (2, Shapes::Newtype(3)),
                    (4, Shapes::Tuple(5, "six".into())),
                    (
                        7,
                        Shapes::Struct {
                            a: Some(8),
                            b: vec![],
                        },
                    ),
                ]
                .into_iter()
                .collect(),
            },
            empty: vec![],
            empty_map: Default::default(),
            nested: vec![vec![], vec![1], vec![]],
            unit: (),
        };
        both(&v);
        both(&vec![Shapes::Unit, Shapes::Tuple(0, String::new())]);
        both(&'\u{1}');
        both(&serde_bytes_like(b"ab"));
    }

    fn serde_bytes_like(b: &[u8]) -> Vec<u8> {
        b.to_vec()
    }

    #[test]
    fn keys_serde_json_takes_and_this_does_not_go_to_serde_json() {
        let by_bool: std::collections::BTreeMap<bool, u8> = [(true, 1), (false, 0)].into();
        both(&by_bool);
        let by_tuple: std::collections::BTreeMap<(u8, u8), u8> = [((1, 2), 3)].into();
        let mut ours = b"prefix".to_vec();
        let err = extend(&mut ours, &by_tuple, false).unwrap_err();
        assert_eq!(
            err.to_string(),
            serde_json::to_vec(&by_tuple).unwrap_err().to_string()
        );
    }
}
