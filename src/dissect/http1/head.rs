//! Message heads: plausibility of a start line, the end of a head, and httparse into owned values.
//!
//! Nothing here keeps state across calls except [`HeadScan`], a three-state machine that finds
//! the empty line ending a head over any split of the stream.

use crate::dissect::stream::Dir;

/// Request methods accepted where the method is not already vouched for by the framing
/// (content detection and resynchronisation): RFC 9110 section 9, WebDAV (RFC 4918, 3253,
/// 3744, 4791, 5842), PATCH (RFC 5789), QUERY, UPnP/GENA and common cache verbs.
pub(super) const KNOWN_METHODS: &[&[u8]] = &[
    b"GET",
    b"HEAD",
    b"POST",
    b"PUT",
    b"DELETE",
    b"CONNECT",
    b"OPTIONS",
    b"TRACE",
    b"PATCH",
    b"QUERY",
    b"PROPFIND",
    b"PROPPATCH",
    b"MKCOL",
    b"COPY",
    b"MOVE",
    b"LOCK",
    b"UNLOCK",
    b"REPORT",
    b"SEARCH",
    b"MKCALENDAR",
    b"MKACTIVITY",
    b"CHECKOUT",
    b"MERGE",
    b"ACL",
    b"BIND",
    b"UNBIND",
    b"REBIND",
    b"SUBSCRIBE",
    b"UNSUBSCRIBE",
    b"NOTIFY",
    b"PURGE",
    b"LINK",
    b"UNLINK",
];

/// Longest method token accepted on the lenient path (at a message boundary).
const MAX_METHOD_LEN: usize = 32;

/// Whether some bytes can begin a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Plausible {
    /// They begin like a start line.
    Yes,
    /// Too few bytes to tell; every byte so far fits.
    Maybe,
    No,
}

/// `tchar` of RFC 9110 section 5.6.2.
fn is_tchar(b: u8) -> bool {
    matches!(
        b,
        b'!' | b'#'
            | b'$'
            | b'%'
            | b'&'
            | b'\''
            | b'*'
            | b'+'
            | b'-'
            | b'.'
            | b'^'
            | b'_'
            | b'`'
            | b'|'
            | b'~'
    ) || b.is_ascii_alphanumeric()
}

/// Does `bytes`, taken from where a request line would start, begin with `method SP`?
/// `strict` demands a known method (resynchronisation, detection); otherwise any token.
pub(super) fn request_start(bytes: &[u8], strict: bool) -> Plausible {
    if strict {
        let mut maybe = false;
        for m in KNOWN_METHODS {
            match bytes.get(m.len()) {
                Some(&b' ') if bytes.starts_with(m) => return Plausible::Yes,
                Some(_) => {}
                None if m.starts_with(bytes) => maybe = true,
                None => {}
            }
        }
        return if maybe {
            Plausible::Maybe
        } else {
            Plausible::No
        };
    }
    for (i, &b) in bytes.iter().enumerate() {
        if b == b' ' {
            return if i > 0 { Plausible::Yes } else { Plausible::No };
        }
        if !is_tchar(b) || i >= MAX_METHOD_LEN {
            return Plausible::No;
        }
    }
    Plausible::Maybe
}

/// Does `bytes` begin with `HTTP/1.` DIGIT SP DIGIT (a status line)?
pub(super) fn response_start(bytes: &[u8]) -> Plausible {
    const PREFIX: &[u8] = b"HTTP/1.";
    let n = bytes.len().min(PREFIX.len());
    if bytes.get(..n) != PREFIX.get(..n) {
        return Plausible::No;
    }
    let checks: [fn(u8) -> bool; 3] = [
        |b| b.is_ascii_digit(),
        |b| b == b' ',
        |b| b.is_ascii_digit(),
    ];
    for (k, check) in checks.iter().enumerate() {
        match bytes.get(PREFIX.len() + k) {
            Some(&b) if check(b) => {}
            Some(_) => return Plausible::No,
            None => return Plausible::Maybe,
        }
    }
    Plausible::Yes
}

/// Start-line plausibility for the direction: requests toward the server, responses back.
pub(super) fn start_plausible(dir: Dir, bytes: &[u8], strict: bool) -> Plausible {
    match dir {
        Dir::ToServer => request_start(bytes, strict),
        Dir::ToClient => response_start(bytes),
    }
}

/// Where resynchronisation may restart in `bytes`: the first offset whose bytes begin (or,
/// at the end of `bytes`, may begin) a plausible start line. Requests are looked for only at
/// line starts with a known method; a status line (`HTTP/1.x NNN`) anywhere, since a body
/// longer than its Content-Length runs straight into the next response.
/// `line_start` says whether `bytes[0]` follows a line feed.
pub(super) fn find_resync(dir: Dir, bytes: &[u8], line_start: bool) -> Option<usize> {
    let mut at_line_start = line_start;
    for (i, &b) in bytes.iter().enumerate() {
        let rest = bytes.get(i..).unwrap_or_default();
        let hit = match dir {
            Dir::ToServer => at_line_start && request_start(rest, true) != Plausible::No,
            Dir::ToClient => b == b'H' && response_start(rest) != Plausible::No,
        };
        if hit {
            return Some(i);
        }
        at_line_start = b == b'\n';
    }
    None
}

/// Finds the empty line that ends a head (`LF CRLF` or `LF LF`, RFC 9112 section 2.2 allows
/// a bare LF as line terminator), and the end of the first line, across calls.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct HeadScan {
    /// 0: inside a line; 1: just after a LF; 2: after LF CR.
    state: u8,
    /// The first line feed has been seen.
    pub first_line_done: bool,
}

/// What [`HeadScan::scan`] stopped at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ScanStop {
    /// The first line ends just before this offset (its LF included).
    FirstLine(usize),
    /// The head ends just before this offset.
    End(usize),
    /// Neither in these bytes.
    More,
}

impl HeadScan {
    /// Scans `bytes`, stopping after the first line's LF (once) or after the head's last LF.
    pub(super) fn scan(&mut self, bytes: &[u8], stop_at_first_line: bool) -> ScanStop {
        for (i, &b) in bytes.iter().enumerate() {
            match b {
                b'\n' => {
                    if self.state >= 1 && self.first_line_done {
                        self.state = 0;
                        return ScanStop::End(i + 1);
                    }
                    self.state = 1;
                    if !self.first_line_done {
                        self.first_line_done = true;
                        if stop_at_first_line {
                            return ScanStop::FirstLine(i + 1);
                        }
                    }
                }
                b'\r' if self.state == 1 => self.state = 2,
                _ => self.state = 0,
            }
        }
        ScanStop::More
    }
}

/// `Content-Length` as found in a head (RFC 9110 section 8.6).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) enum ContentLength {
    #[default]
    Absent,
    Valid(u64),
    /// Not a number, overflowing, or several different values; says which.
    Invalid(String),
}

/// The header fields that steer framing and the report, from the uncapped values.
#[derive(Debug, Clone, Default)]
pub(super) struct HeadFields {
    pub content_length: ContentLength,
    /// A Transfer-Encoding field was present.
    pub te_present: bool,
    /// The last transfer coding is `chunked`.
    pub chunked_final: bool,
    pub transfer_encoding: Option<String>,
    pub host: Option<String>,
    /// Protocol tokens of `Upgrade`, lowercased, without versions.
    pub upgrade: Vec<String>,
    pub content_type: Option<String>,
    pub content_encoding: Option<String>,
    /// `Accept` names `application/dns-message`.
    pub accept_dns: bool,
}

/// A parsed start line and header section, owned.
#[derive(Debug, Clone, Default)]
pub(super) struct Head {
    /// Minor version: 0 or 1.
    pub version: u8,
    pub method: Option<String>,
    pub target: Option<String>,
    pub status: Option<u16>,
    pub reason: Option<String>,
    /// Name as on the wire, value cut at the cap.
    pub headers: Vec<(String, String)>,
    pub truncated: bool,
    pub fields: HeadFields,
}

/// Why a head did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum HeadError {
    Parse(httparse::Error),
    /// httparse wanted more bytes although the empty line was there.
    Incomplete,
}

impl std::fmt::Display for HeadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HeadError::Parse(e) => write!(f, "{e}"),
            HeadError::Incomplete => f.write_str("incomplete head"),
        }
    }
}

/// Headers kept on the stack before falling back to a heap array sized by the line count.
const STACK_HEADERS: usize = 64;

fn parser_config() -> httparse::ParserConfig {
    // A passive observer accepts what browsers accept: obsolete folding, stray spaces and
    // invalid header lines (skipped) in responses, invalid lines in requests too.
    let mut c = httparse::ParserConfig::default();
    c.allow_obsolete_multiline_headers_in_responses(true)
        .allow_spaces_after_header_name_in_responses(true)
        .allow_multiple_spaces_in_request_line_delimiters(true)
        .allow_multiple_spaces_in_response_status_delimiters(true)
        .ignore_invalid_headers_in_responses(true)
        .ignore_invalid_headers_in_requests(true);
    c
}

/// Checks the first line alone (`bytes` ends with its LF): `Ok` when httparse accepts it so far.
pub(super) fn check_first_line(dir: Dir, bytes: &[u8]) -> Result<(), HeadError> {
    let config = parser_config();
    let mut headers = [httparse::EMPTY_HEADER; 1];
    let r = match dir {
        Dir::ToServer => config.parse_request(&mut httparse::Request::new(&mut headers), bytes),
        Dir::ToClient => config.parse_response(&mut httparse::Response::new(&mut headers), bytes),
    };
    match r {
        // A lone line cannot be complete (the empty line is missing), but more headers than
        // one slot is no error for a first-line check.
        Ok(_) | Err(httparse::Error::TooManyHeaders) => Ok(()),
        Err(e) => Err(HeadError::Parse(e)),
    }
}

/// Parses a complete head (`bytes` ends with its empty line).
pub(super) fn parse_head(dir: Dir, bytes: &[u8], value_cap: usize) -> Result<Head, HeadError> {
    let lines = bytes.iter().filter(|&&b| b == b'\n').count() + 1;
    if lines <= STACK_HEADERS {
        let mut headers = [httparse::EMPTY_HEADER; STACK_HEADERS];
        parse_with(dir, bytes, value_cap, &mut headers)
    } else {
        let mut headers = vec![httparse::EMPTY_HEADER; lines];
        parse_with(dir, bytes, value_cap, &mut headers)
    }
}

fn parse_with<'b>(
    dir: Dir,
    bytes: &'b [u8],
    value_cap: usize,
    headers: &mut [httparse::Header<'b>],
) -> Result<Head, HeadError> {
    let config = parser_config();
    let mut head = Head::default();
    let parsed: &[httparse::Header<'b>] = match dir {
        Dir::ToServer => {
            let mut req = httparse::Request::new(headers);
            match config.parse_request(&mut req, bytes) {
                Ok(httparse::Status::Complete(_)) => {}
                Ok(httparse::Status::Partial) => return Err(HeadError::Incomplete),
                Err(e) => return Err(HeadError::Parse(e)),
            }
            head.version = req.version.unwrap_or(1);
            head.method = req.method.map(str::to_string);
            head.target = req.path.map(str::to_string);
            req.headers
        }
        Dir::ToClient => {
            let mut resp = httparse::Response::new(headers);
            match config.parse_response(&mut resp, bytes) {
                Ok(httparse::Status::Complete(_)) => {}
                Ok(httparse::Status::Partial) => return Err(HeadError::Incomplete),
                Err(e) => return Err(HeadError::Parse(e)),
            }
            head.version = resp.version.unwrap_or(1);
            head.status = resp.code;
            head.reason = resp.reason.map(str::to_string);
            resp.headers
        }
    };
    head.headers.reserve(parsed.len());
    for h in parsed {
        let (value, cut) = capped_text(h.value, value_cap);
        head.truncated |= cut;
        head.headers.push((h.name.to_string(), value));
        note_field(&mut head.fields, h.name, h.value, value_cap);
    }
    Ok(head)
}

/// Lossy UTF-8 of at most `cap` bytes of `value`; `true` when it was cut.
pub(super) fn capped_text(value: &[u8], cap: usize) -> (String, bool) {
    let cut = value.len() > cap;
    let part = value.get(..cap.min(value.len())).unwrap_or_default();
    let mut s = String::from_utf8_lossy(part).into_owned();
    if cut {
        // Drop a replacement character left by a multi-byte sequence split at the cap.
        if std::str::from_utf8(part).is_err() && s.ends_with('\u{fffd}') {
            s.pop();
        }
    }
    (s, cut)
}

fn trim_ows(v: &[u8]) -> &[u8] {
    let start = v
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .unwrap_or(v.len());
    let end = v
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(start, |e| e + 1);
    v.get(start..end).unwrap_or_default()
}

/// Splits a comma-separated field value into trimmed, non-empty members.
fn list_members(v: &[u8]) -> impl Iterator<Item = &[u8]> {
    v.split(|&b| b == b',')
        .map(trim_ows)
        .filter(|m| !m.is_empty())
}

fn join_value(slot: &mut Option<String>, value: &[u8], cap: usize) {
    let (text, _) = capped_text(trim_ows(value), cap);
    match slot {
        Some(s) if s.len() < cap => {
            s.push_str(", ");
            s.push_str(&text);
        }
        Some(_) => {}
        None => *slot = Some(text),
    }
}

fn note_field(f: &mut HeadFields, name: &str, value: &[u8], cap: usize) {
    if name.eq_ignore_ascii_case("content-length") {
        note_content_length(&mut f.content_length, value);
    } else if name.eq_ignore_ascii_case("transfer-encoding") {
        f.te_present = true;
        join_value(&mut f.transfer_encoding, value, cap);
        // RFC 9112 section 6.3: chunked must be the final coding to frame the message.
        for coding in list_members(value) {
            let name = coding
                .split(|&b| b == b';')
                .next()
                .map(trim_ows)
                .unwrap_or_default();
            f.chunked_final = name.eq_ignore_ascii_case(b"chunked");
        }
    } else if name.eq_ignore_ascii_case("host") {
        if f.host.is_none() {
            let v = trim_ows(value);
            if !v.is_empty() {
                f.host = Some(capped_text(v, cap).0);
            }
        }
    } else if name.eq_ignore_ascii_case("upgrade") {
        for proto in list_members(value) {
            let token = proto.split(|&b| b == b'/').next().unwrap_or_default();
            if f.upgrade.len() < 8 && !token.is_empty() {
                f.upgrade
                    .push(capped_text(token, 64).0.to_ascii_lowercase());
            }
        }
    } else if name.eq_ignore_ascii_case("content-type") {
        if f.content_type.is_none() {
            f.content_type = Some(capped_text(trim_ows(value), cap).0);
        }
    } else if name.eq_ignore_ascii_case("content-encoding") {
        join_value(&mut f.content_encoding, value, cap);
    } else if name.eq_ignore_ascii_case("accept") {
        f.accept_dns |= list_members(value).any(crate::dissect::dns::doh::is_dns_media_type);
    }
}

/// `application/dns-message`, parameters ignored (RFC 8484 section 6).
fn note_content_length(cl: &mut ContentLength, value: &[u8]) {
    // RFC 9110 section 8.6: Content-Length = 1*DIGIT; a list of identical values (from
    // merged fields) may be taken as that one value, anything else is invalid framing.
    let mut members = 0;
    for m in value.split(|&b| b == b',').map(trim_ows) {
        members += 1;
        let parsed = if m.is_empty() || !m.iter().all(u8::is_ascii_digit) {
            Err(format!(
                "Content-Length {:?} is not a number",
                String::from_utf8_lossy(m)
            ))
        } else {
            m.iter()
                .try_fold(0u64, |acc, &d| {
                    acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
                })
                .ok_or_else(|| "Content-Length overflows 64 bits".to_string())
        };
        *cl = match (std::mem::take(cl), parsed) {
            (ContentLength::Invalid(why), _) => ContentLength::Invalid(why),
            (_, Err(why)) => ContentLength::Invalid(why),
            (ContentLength::Absent, Ok(n)) => ContentLength::Valid(n),
            (ContentLength::Valid(a), Ok(n)) if a == n => ContentLength::Valid(a),
            (ContentLength::Valid(a), Ok(n)) => {
                ContentLength::Invalid(format!("conflicting Content-Length values {a} and {n}"))
            }
        };
    }
    if members == 0 {
        *cl = ContentLength::Invalid("empty Content-Length".to_string());
    }
}

/// Content detection: do the first bytes of a direction look like HTTP/1.x?
///
/// Toward the server: optional empty lines, a known method, SP, a request-target, and
/// ` HTTP/1.` ending the line (a line not yet ended only has to fit so far). Toward the
/// client: `HTTP/1.x NNN`.
pub fn looks_like_http1(dir: Dir, first_bytes: &[u8]) -> bool {
    // RFC 9112 section 2.2: a recipient SHOULD ignore at least one empty line before the
    // start line.
    let skip = first_bytes
        .iter()
        .take(8)
        .take_while(|&&b| b == b'\r' || b == b'\n')
        .count();
    let bytes = first_bytes.get(skip..).unwrap_or_default();
    match dir {
        Dir::ToClient => {
            response_start(bytes) == Plausible::Yes
                && bytes.iter().skip(10).take(2).all(u8::is_ascii_digit)
        }
        Dir::ToServer => {
            if request_start(bytes, true) != Plausible::Yes {
                return false;
            }
            let Some(sp) = bytes.iter().position(|&b| b == b' ') else {
                return false;
            };
            let after = bytes.get(sp + 1..).unwrap_or_default();
            let line_end = after.iter().position(|&b| b == b'\n');
            let line = after
                .get(..line_end.unwrap_or(after.len()))
                .unwrap_or_default();
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            // The request-target: visible ASCII up to the next space.
            let target_len = line.iter().position(|&b| b == b' ').unwrap_or(line.len());
            let target = line.get(..target_len).unwrap_or_default();
            if target.is_empty() || !target.iter().all(|b| b.is_ascii_graphic()) {
                return false;
            }
            let version = line.get(target_len..).unwrap_or_default();
            const VERSION: &[u8] = b" HTTP/1.";
            if line_end.is_some() {
                version.len() == VERSION.len() + 1
                    && version.starts_with(VERSION)
                    && version.last().is_some_and(u8::is_ascii_digit)
            } else {
                let n = version.len().min(VERSION.len());
                version.get(..n) == VERSION.get(..n)
                    && version
                        .get(VERSION.len()..)
                        .is_none_or(|d| d.len() <= 1 && d.iter().all(u8::is_ascii_digit))
            }
        }
    }
}

/// The start of a head cut by loss or by the end of the capture: what its complete lines
/// say (the start line and the header lines before the cut), or, when even the start line
/// was cut, the start line read leniently (`GET /x HTT`: method and target, as tshark shows
/// it; the version defaults to 1.1). `None` when not even a method and a whole target, or a
/// status code, are there.
pub(super) fn salvage(dir: Dir, bytes: &[u8], value_cap: usize) -> Option<Head> {
    if let Some(last_lf) = bytes.iter().rposition(|&b| b == b'\n') {
        let mut whole_lines = Vec::with_capacity(last_lf + 3);
        whole_lines.extend_from_slice(bytes.get(..=last_lf).unwrap_or_default());
        whole_lines.extend_from_slice(b"\r\n");
        if let Ok(h) = parse_head(dir, &whole_lines, value_cap) {
            return Some(h);
        }
    }
    let line_end = bytes
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .unwrap_or(bytes.len());
    let line = bytes.get(..line_end).unwrap_or_default();
    let version_of = |v: &[u8]| match v {
        [b'H', b'T', b'T', b'P', b'/', b'1', b'.', d, ..] if d.is_ascii_digit() => d - b'0',
        _ => 1,
    };
    match dir {
        Dir::ToServer => {
            let sp = line.iter().position(|&b| b == b' ')?;
            let method = line.get(..sp)?;
            if method.is_empty()
                || method.len() > MAX_METHOD_LEN
                || !method.iter().all(|&b| is_tchar(b))
            {
                return None;
            }
            let rest = line.get(sp + 1..)?;
            let tsp = rest.iter().position(|&b| b == b' ')?;
            let target = rest.get(..tsp)?;
            if target.is_empty() || !target.iter().all(u8::is_ascii_graphic) {
                return None;
            }
            Some(Head {
                version: version_of(rest.get(tsp + 1..).unwrap_or_default()),
                method: Some(String::from_utf8_lossy(method).into_owned()),
                target: Some(String::from_utf8_lossy(target).into_owned()),
                ..Head::default()
            })
        }
        Dir::ToClient => {
            let digits = line.get(9..12)?;
            if response_start(line) != Plausible::Yes || !digits.iter().all(u8::is_ascii_digit) {
                return None;
            }
            let status = digits
                .iter()
                .fold(0u16, |acc, &d| acc * 10 + u16::from(d - b'0'));
            let reason = line.get(13..).map(|r| capped_text(r, value_cap).0);
            Some(Head {
                version: version_of(line),
                status: Some(status),
                reason,
                ..Head::default()
            })
        }
    }
}
