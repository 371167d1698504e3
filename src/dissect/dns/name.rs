//! Domain names on the wire (RFC 1035 §3.1, §4.1.4) decoded into presentation form.
//!
//! Guarantees, whatever the input:
//! - every compression pointer must point strictly before the start of the run of labels
//!   that contains it (so each jump goes to an earlier offset than the last one: loops and
//!   forward or out-of-bounds pointers are errors, never a hang);
//! - at most [`MAX_POINTER_JUMPS`] jumps and [`MAX_NAME_LEN`] wire octets per name;
//! - labels read in place never run past the caller's `limit` (the end of the message, or
//!   of the rdata that holds the name).
//!
//! Presentation form follows dig: labels as on the wire (no case folding), no trailing
//! dot, the root as `.`, the characters `. \ " ( ) ; @ $` escaped with a backslash and
//! bytes outside `!`..=`~` as `\DDD` (RFC 4343 §2.1 keeps case and bytes as they are).

use std::fmt;

/// RFC 1035 §2.3.4: "names ... 255 octets or less", counting length octets and the root.
pub const MAX_NAME_LEN: usize = 255;

/// Most compression pointers followed in one name. A legitimate name needs at most one per
/// label (≤ 127); with the strictly-backward rule this only bounds work on hostile input.
pub const MAX_POINTER_JUMPS: usize = 128;

/// Why a name could not be decoded. Offsets are from the start of the DNS message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameError {
    /// The name runs past the end of the bytes that may hold it (need more bytes).
    Truncated { offset: usize },
    /// A compression pointer at `at` does not point strictly before the labels being read.
    ForwardPointer { at: usize, target: usize },
    /// A compression pointer at `at` points past the end of the message.
    PointerOutOfBounds { at: usize, target: usize },
    /// More than [`MAX_POINTER_JUMPS`] pointers.
    TooManyPointers { at: usize },
    /// More than [`MAX_NAME_LEN`] octets.
    TooLong { at: usize },
    /// Label type `0b01` or `0b10` (RFC 6891 §5 deprecates extended label types).
    BadLabelType { at: usize, byte: u8 },
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            NameError::Truncated { offset } => write!(f, "name cut short at offset {offset}"),
            NameError::ForwardPointer { at, target } => {
                write!(
                    f,
                    "compression pointer at offset {at} does not point backwards (to {target})"
                )
            }
            NameError::PointerOutOfBounds { at, target } => {
                write!(
                    f,
                    "compression pointer at offset {at} points outside the message (to {target})"
                )
            }
            NameError::TooManyPointers { at } => {
                write!(
                    f,
                    "more than {MAX_POINTER_JUMPS} compression pointers (at offset {at})"
                )
            }
            NameError::TooLong { at } => {
                write!(f, "name longer than {MAX_NAME_LEN} octets at offset {at}")
            }
            NameError::BadLabelType { at, byte } => {
                write!(f, "unsupported label type 0x{byte:02x} at offset {at}")
            }
        }
    }
}

/// Decodes the name at `msg[start..]` and appends its presentation form to `out`.
///
/// `limit` bounds the labels read in place (before the first pointer); pointers may target
/// any earlier offset of `msg`. Returns the offset just past the name as it sits at
/// `start` (past its terminating zero or its first pointer). On error `out` is left as it
/// was.
pub fn read_name(
    msg: &[u8],
    start: usize,
    limit: usize,
    out: &mut String,
) -> Result<usize, NameError> {
    let mark = out.len();
    let r = read_name_inner(msg, start, limit.min(msg.len()), out);
    if r.is_err() {
        out.truncate(mark);
    }
    r
}

/// Skips the name at `msg[start..]` without rendering it; same checks and result as
/// [`read_name`].
pub fn skip_name(msg: &[u8], start: usize, limit: usize) -> Result<usize, NameError> {
    walk(msg, start, limit.min(msg.len()), |_| {})
}

fn read_name_inner(
    msg: &[u8],
    start: usize,
    limit: usize,
    out: &mut String,
) -> Result<usize, NameError> {
    let mark = out.len();
    let end = walk(msg, start, limit, |label| {
        if out.len() > mark {
            out.push('.');
        }
        push_label(label, out);
    })?;
    if out.len() == mark {
        out.push('.');
    }
    Ok(end)
}

/// Walks the labels, calling `visit` for each one (root excluded).
fn walk<'a>(
    msg: &'a [u8],
    start: usize,
    limit: usize,
    mut visit: impl FnMut(&'a [u8]),
) -> Result<usize, NameError> {
    let mut pos = start;
    // Labels in the current run may not be read at or beyond `bound`.
    let mut bound = limit;
    // Where the current run of labels began; the next pointer must go strictly before it.
    let mut run_start = start;
    let mut end: Option<usize> = None;
    let mut jumps = 0usize;
    let mut wire_len = 0usize;
    loop {
        let byte = match msg.get(pos) {
            Some(&b) if pos < bound => b,
            _ => return Err(NameError::Truncated { offset: pos }),
        };
        match byte & 0xC0 {
            0x00 => {
                let len = usize::from(byte);
                wire_len += len + 1;
                if wire_len > MAX_NAME_LEN {
                    return Err(NameError::TooLong { at: pos });
                }
                if len == 0 {
                    return Ok(end.unwrap_or(pos + 1));
                }
                let label_end = pos + 1 + len;
                let label = match msg.get(pos + 1..label_end) {
                    Some(l) if label_end <= bound => l,
                    _ => return Err(NameError::Truncated { offset: pos + 1 }),
                };
                visit(label);
                pos = label_end;
            }
            0xC0 => {
                let low = match msg.get(pos + 1) {
                    Some(&b) if pos + 1 < bound => b,
                    _ => return Err(NameError::Truncated { offset: pos + 1 }),
                };
                let target = (usize::from(byte & 0x3F) << 8) | usize::from(low);
                if end.is_none() {
                    end = Some(pos + 2);
                }
                if target >= msg.len() {
                    return Err(NameError::PointerOutOfBounds { at: pos, target });
                }
                // RFC 1035 §4.1.4 lets a pointer replace "the ending of a domain name" with
                // "a prior occurrence of the same name": only earlier offsets are valid.
                if target >= run_start {
                    return Err(NameError::ForwardPointer { at: pos, target });
                }
                jumps += 1;
                if jumps > MAX_POINTER_JUMPS {
                    return Err(NameError::TooManyPointers { at: pos });
                }
                pos = target;
                run_start = target;
                bound = msg.len();
            }
            _ => return Err(NameError::BadLabelType { at: pos, byte }),
        }
    }
}

/// Appends one label, escaping as dig does for names.
pub fn push_label(label: &[u8], out: &mut String) {
    for &c in label {
        match c {
            b'.' | b'\\' | b'"' | b'(' | b')' | b';' | b'@' | b'$' => {
                out.push('\\');
                out.push(char::from(c));
            }
            0x21..=0x7E => out.push(char::from(c)),
            _ => push_ddd(c, out),
        }
    }
}

/// Appends `\DDD`, three decimal digits (RFC 1035 §5.1).
pub fn push_ddd(c: u8, out: &mut String) {
    out.push('\\');
    out.push(char::from(b'0' + c / 100));
    out.push(char::from(b'0' + (c / 10) % 10));
    out.push(char::from(b'0' + c % 10));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name_at(msg: &[u8], start: usize) -> Result<(String, usize), NameError> {
        let mut s = String::new();
        let end = read_name(msg, start, msg.len(), &mut s)?;
        assert_eq!(skip_name(msg, start, msg.len()), Ok(end));
        Ok((s, end))
    }

    #[test]
    fn plain_and_root() {
        let msg = b"\x03www\x07example\x03com\x00";
        assert_eq!(name_at(msg, 0), Ok(("www.example.com".to_string(), 17)));
        assert_eq!(name_at(b"\x00", 0), Ok((".".to_string(), 1)));
    }

    #[test]
    fn case_is_kept() {
        assert_eq!(name_at(b"\x03WwW\x02Ex\x00", 0).unwrap().0, "WwW.Ex");
    }

    #[test]
    fn compression_pointer_backwards() {
        // "example.com" at 0, then "www" + pointer to 0 at 13.
        let msg = b"\x07example\x03com\x00\x03www\xC0\x00";
        assert_eq!(name_at(msg, 13), Ok(("www.example.com".to_string(), 19)));
        // A name that is only a pointer.
        let msg = b"\x03com\x00\xC0\x00";
        assert_eq!(name_at(msg, 5), Ok(("com".to_string(), 7)));
    }

    #[test]
    fn chained_pointers() {
        // "com" at 0; "example" + ptr(0) at 5; "www" + ptr(5) at 15.
        let msg = b"\x03com\x00\x07example\xC0\x00\x03www\xC0\x05";
        assert_eq!(name_at(msg, 15), Ok(("www.example.com".to_string(), 21)));
    }

    #[test]
    fn malformed_pointer_to_itself() {
        let msg = b"\x03abc\xC0\x00";
        assert_eq!(
            name_at(msg, 0),
            Err(NameError::ForwardPointer { at: 4, target: 0 })
        );
        let msg = b"\xC0\x00";
        assert_eq!(
            name_at(msg, 0),
            Err(NameError::ForwardPointer { at: 0, target: 0 })
        );
    }

    #[test]
    fn malformed_pointer_loop_through_earlier_name() {
        // At 0: "a" then pointer to 5; at 5: "b" then pointer to 0. Reading from 5: the jump
        // to 0 is backwards, but the pointer at 2 then goes to 5, not before 0.
        let msg = b"\x01a\xC0\x05\x00\x01b\xC0\x00";
        assert_eq!(
            name_at(msg, 5),
            Err(NameError::ForwardPointer { at: 2, target: 5 })
        );
    }

    #[test]
    fn malformed_forward_and_out_of_bounds_pointers() {
        let msg = b"\xC0\x02\x03com\x00";
        assert_eq!(
            name_at(msg, 0),
            Err(NameError::ForwardPointer { at: 0, target: 2 })
        );
        let msg = b"\x03com\xC0\x40";
        assert_eq!(
            name_at(msg, 0),
            Err(NameError::PointerOutOfBounds { at: 4, target: 64 })
        );
        let msg = b"\x03com\xFF\xFF";
        assert_eq!(
            name_at(msg, 0),
            Err(NameError::PointerOutOfBounds {
                at: 4,
                target: 0x3FFF
            })
        );
    }

    #[test]
    fn malformed_label_types() {
        assert_eq!(
            name_at(b"\x41ab", 0),
            Err(NameError::BadLabelType { at: 0, byte: 0x41 })
        );
        assert_eq!(
            name_at(b"\x80", 0),
            Err(NameError::BadLabelType { at: 0, byte: 0x80 })
        );
    }

    #[test]
    fn truncated_names() {
        let msg = b"\x03www\x07example\x03com\x00";
        for cut in 0..msg.len() {
            assert!(
                matches!(name_at(&msg[..cut], 0), Err(NameError::Truncated { .. })),
                "cut at {cut}"
            );
        }
        // Pointer cut after its first byte.
        assert_eq!(
            name_at(b"\x00\xC0", 1),
            Err(NameError::Truncated { offset: 2 })
        );
    }

    #[test]
    fn limit_bounds_in_place_labels_only() {
        let msg = b"\x03com\x00\x03www\xC0\x00";
        let mut s = String::from("keep");
        // The limit cuts the in-place label "www".
        assert_eq!(
            read_name(msg, 5, 8, &mut s),
            Err(NameError::Truncated { offset: 6 })
        );
        assert_eq!(s, "keep");
        // With the pointer inside the limit, the target may lie anywhere before.
        s.clear();
        assert_eq!(read_name(msg, 5, 11, &mut s), Ok(11));
        assert_eq!(s, "www.com");
    }

    #[test]
    fn too_long_names() {
        // 4 labels of 63 = 256 octets, plus root = 257 > 255.
        let mut msg = Vec::new();
        for _ in 0..4 {
            msg.push(63u8);
            msg.extend_from_slice(&[b'a'; 63]);
        }
        msg.push(0);
        assert_eq!(name_at(&msg, 0), Err(NameError::TooLong { at: 192 }));
        // Exactly 255: 3 x 63 + 61 + root = 64*3 + 62 + 1.
        let mut msg = Vec::new();
        for _ in 0..3 {
            msg.push(63u8);
            msg.extend_from_slice(&[b'a'; 63]);
        }
        msg.push(61);
        msg.extend_from_slice(&[b'b'; 61]);
        msg.push(0);
        assert_eq!(msg.len(), 255);
        assert_eq!(name_at(&msg, 0).unwrap().1, 255);
    }

    #[test]
    fn too_many_pointers() {
        // 200 pointers each to the previous one, below a root at 0.
        let mut msg = vec![0u8];
        for i in 0..200u16 {
            let target = if i == 0 { 0 } else { 1 + 2 * (i - 1) };
            msg.extend_from_slice(&(0xC000 | target).to_be_bytes());
        }
        let last = msg.len() - 2;
        assert_eq!(
            name_at(&msg, last),
            Err(NameError::TooManyPointers { at: 1 + 2 * 71 })
        );
        // 100 jumps are fine.
        assert_eq!(
            name_at(&msg, 1 + 2 * 99),
            Ok((".".to_string(), 1 + 2 * 100))
        );
    }

    #[test]
    fn escapes_like_dig() {
        let msg = b"\x05a.b\\c\x04 \x00\xff\"\x00";
        assert_eq!(name_at(msg, 0).unwrap().0, "a\\.b\\\\c.\\032\\000\\255\\\"");
        assert_eq!(name_at(b"\x04_tcp\x01*\x00", 0).unwrap().0, "_tcp.*");
    }
}
