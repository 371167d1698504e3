//! `--format html`: one self-contained page that draws the waterfall as a browser's
//! network panel does.
//!
//! # Consumes
//! The finished [`Report`], through the rows, timings and pages of
//! [`crate::report::timing`] (the same numbers as the HAR and the terminal waterfall), and
//! each connection's [`Narrative`] (the same story as the text of `--format table`, built
//! once per connection and told in the detail of each of its rows).
//!
//! # Produces
//! One HTML document: per page load a table of requests (method, name, status, protocol, type,
//! size, time) beside a waterfall on the page's own time axis, one `.bar` element per HTTP
//! exchange (`.cbar` for a connection with no readable request), each made of one `.p`
//! element per phase. Hovering a row shows its phases; clicking it (a `<details>` element,
//! no script) opens the connection's journey, DNS → TCP → TLS → requests → teardown, drawn on
//! the same axis and told in words, beside the request's and response's headers. An HTTP/3
//! request (protocol `h3`) opens its QUIC connection's journey: DNS → the QUIC handshake
//! (Initial, Handshake, 1-RTT packets) → TLS → requests → CONNECTION_CLOSE, from the
//! connection's [`QuicNarrative`].
//!
//! # Guarantees
//! - Self-contained: inline CSS only, no script, no font, image or other URL is loaded; a
//!   Content-Security-Policy of `default-src 'none'` makes the browser refuse any load even
//!   if something slipped through.
//! - Every string from the capture is escaped for HTML text and attributes (`& < > " '`);
//!   control characters and bidirectional overrides are replaced by U+FFFD so a hostile
//!   header can neither inject markup nor reorder what the reader sees. Style attributes
//!   hold only numbers this module formats.
//! - The size is bounded by the report: a journey lists at most [`JOURNEY_REQUESTS`]
//!   requests of its connection around the current one.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use std::net::SocketAddr;

use crate::pageload::model::{
    AppProtocol, CloseKind, Connection, DnsTransaction, HttpExchange, PerDir, QuicConnection,
    Report,
};
use crate::report::fmt::{
    fmt_bytes, fmt_decoded, fmt_ms, fmt_opt_ms, fmt_tick, plural, rel_ms as rel, tick_step,
};
use crate::report::fold;
use crate::report::narrative::{
    self, Alpn, CloseStep, DnsStep, HttpStep, Issues, Narrative, QuicHandshake, QuicHello,
    QuicNarrative, Step, TcpStep, TlsStep,
};
use crate::report::timing::{self, mime_type, Conn, ConnKey, Page, Phase, Row};
use crate::time::Ts;

/// Requests of a connection listed in one journey.
pub const JOURNEY_REQUESTS: usize = 20;
/// DNS answers named in a journey.
const JOURNEY_ANSWERS: usize = 8;
/// TLS alerts listed in a journey.
const JOURNEY_ALERTS: usize = 5;

/// Escapes capture text for HTML text and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' => out.push(c),
            c if c.is_control() => out.push('\u{FFFD}'),
            '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => {
                out.push('\u{FFFD}')
            }
            c => out.push(c),
        }
    }
    out
}

const CSS: &str = r#"
:root{--dns:#1b9e8a;--connect:#f29a1b;--tls:#a44fd6;--send:#2e9d4a;--wait:#5cc26f;--receive:#1a73e8;--blocked:#b9bec6;--line:#e6e8ec;--muted:#6b7280;--text:#1f2328;--bg:#fff;--alt:#f7f8fa;--hover:#eaf1fd}
*{box-sizing:border-box}
body{margin:0;font:12px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,Ubuntu,"Helvetica Neue",Arial,sans-serif;color:var(--text);background:var(--bg)}
header{padding:14px 18px 10px;border-bottom:1px solid var(--line);background:#fbfbfc}
h1{margin:0 0 4px;font-size:16px;font-weight:600}
h1 .logo{color:#1a73e8;margin-right:8px}
.sum{margin:0;color:var(--muted)}
.legend{list-style:none;margin:8px 0 0;padding:0;display:flex;flex-wrap:wrap;gap:14px;color:var(--muted)}
.legend i{display:inline-block;width:14px;height:9px;margin-right:5px;vertical-align:middle;border-radius:2px}
.legend i.blocked{height:3px}
main{padding:6px 0 30px}
section.page{margin:10px 0 18px}
h2{font-size:13px;font-weight:600;margin:0;padding:6px 18px}
h2 .u{font-weight:400;color:#1a56b8;margin-left:6px;word-break:break-all}
h2 .m{font-weight:400;color:var(--muted);margin-left:10px}
.wf{border-top:1px solid var(--line);border-bottom:1px solid var(--line)}
.row{display:grid;grid-template-columns:5.4em minmax(12em,24em) 5em 6.4em 5.2em 6.2em 6.2em minmax(18em,1fr);align-items:center;min-height:22px;border-bottom:1px solid var(--line)}
.row>span{padding:0 6px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;border-right:1px solid var(--line);line-height:21px}
.row>span.c-w{border-right:0;position:relative;overflow:visible;height:21px;padding:0;margin:0 10px 0 4px;background-image:repeating-linear-gradient(to right,#e3e5e9 0 1px,transparent 1px var(--step,100%))}
.head{font-weight:600;color:#3c4043;background:#f1f3f4;position:sticky;top:0;z-index:20}
.head .c-w{color:var(--muted);font-weight:400}
.axis b{position:absolute;top:0;font-weight:400;padding-left:3px;white-space:nowrap;font-size:11px}
.num{text-align:right}
details.req>summary{list-style:none;cursor:pointer}
details.req>summary::-webkit-details-marker{display:none}
details.req:nth-of-type(even)>summary{background:var(--alt)}
details.req>summary:hover{background:var(--hover)}
details.req[open]>summary{background:#dde8fb}
.c-n .path{color:var(--text)}
.c-n .host{color:var(--muted);margin-left:6px}
.c-n .enc{color:var(--muted);font-style:italic}
.s3{color:#a15c00}.s4,.s5{color:#c5221f;font-weight:600}.s0{color:var(--muted)}
.bar,.cbar{position:absolute;top:5px;height:11px;min-width:2px}
.p{position:absolute;top:0;height:100%;min-width:1px}
.p.blocked{background:var(--blocked);top:45%;height:10%}
.p.dns{background:var(--dns)}.p.connect{background:var(--connect)}.p.tls{background:var(--tls)}
.p.send{background:var(--send)}.p.wait{background:var(--wait)}.p.receive{background:var(--receive)}
.p.data{background:repeating-linear-gradient(135deg,#9aa7b4 0 3px,#c9d1d9 3px 6px)}
.legend i.dns{background:var(--dns)}.legend i.connect{background:var(--connect)}.legend i.tls{background:var(--tls)}.legend i.send{background:var(--send)}.legend i.wait{background:var(--wait)}.legend i.receive{background:var(--receive)}.legend i.blocked{background:var(--blocked)}.legend i.data{background:repeating-linear-gradient(135deg,#9aa7b4 0 3px,#c9d1d9 3px 6px)}
.tip{display:none;position:absolute;top:19px;z-index:30;background:#fff;border:1px solid #c9ced6;border-radius:6px;box-shadow:0 4px 14px rgba(0,0,0,.14);padding:8px 10px;min-width:17em;white-space:normal;color:var(--text);line-height:1.5}
summary:hover .tip{display:block}
details[open] .tip{display:none}
.tip table{border-collapse:collapse;width:100%}
.tip td{padding:0 4px}.tip td:last-child{text-align:right;font-variant-numeric:tabular-nums}
.tip i{display:inline-block;width:9px;height:9px;margin-right:5px;border-radius:2px}
.tip tr.total td{border-top:1px solid var(--line);font-weight:600}
.tip .when{color:var(--muted);margin-bottom:4px}
.detail{display:grid;grid-template-columns:minmax(0,3fr) minmax(0,2fr);gap:18px;padding:12px 18px 14px;background:#fff;border-bottom:2px solid #c6d5f3;position:relative;z-index:10}
.detail h3{font-size:12px;margin:0 0 6px}
.ctrack{position:relative;height:16px;margin:4px 0 10px;background:var(--alt);border:1px solid var(--line);border-radius:3px}
.ctrack .p{top:3px;height:8px}
.ctrack .jr{position:absolute;top:2px;height:10px;min-width:2px;background:#9ab5e8;border-radius:1px}
.ctrack .fin{position:absolute;top:-2px;width:2px;height:18px;background:#c5221f}
ol.journey{margin:0;padding:0;list-style:none}
ol.journey>li{display:grid;grid-template-columns:5.5em 1fr;gap:8px;padding:3px 0;border-top:1px dashed var(--line)}
ol.journey>li>b{color:#3c4043}
ol.journey .at{color:var(--muted);white-space:nowrap}
ol.reqs{margin:2px 0 0;padding-left:1.6em}
ol.reqs li.cur{font-weight:600}
ol.reqs li{word-break:break-all}
.warn{color:#a15c00}
table.hdrs{border-collapse:collapse;width:100%;margin-bottom:10px;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:11px}
table.hdrs th{text-align:left;padding:1px 8px 1px 0;color:#3c4043;vertical-align:top;white-space:nowrap;font-weight:600}
table.hdrs td{padding:1px 0;word-break:break-all}
.gen{font-size:12px;margin:0 0 10px;line-height:1.6}
.gen span{color:var(--muted)}
footer{color:var(--muted);padding:0 18px 20px}
.empty{padding:18px;color:var(--muted)}
"#;

/// Where a time falls on a page's axis, in percent.
struct Axis {
    start: Ts,
    span_ms: f64,
}

impl Axis {
    fn pct(&self, t: Ts) -> f64 {
        (t.ms_since(self.start) / self.span_ms * 100.0).clamp(0.0, 100.0)
    }
}

fn phase_name(p: Phase) -> &'static str {
    match p {
        Phase::Blocked => "Stalled",
        Phase::Dns => "DNS lookup",
        Phase::Connect => "TCP connect",
        Phase::Tls => "TLS handshake",
        Phase::Send => "Request sent",
        Phase::Wait => "Waiting (TTFB)",
        Phase::Receive => "Content download",
        Phase::Data => "Encrypted data",
    }
}

fn short_type(h: &HttpExchange) -> String {
    let Some(m) = mime_type(h) else {
        return "–".into();
    };
    let m = m
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let sub = m.rsplit('/').next().unwrap_or(&m);
    let sub = sub.strip_prefix("x-").unwrap_or(sub);
    let sub = sub.strip_suffix("+xml").unwrap_or(sub);
    match sub {
        "javascript" | "ecmascript" => "script".into(),
        s => s.to_string(),
    }
}

fn protocol(row: &Row) -> String {
    match (row.exchange, row.conn) {
        (Some((_, h)), _) if h.version.starts_with("HTTP/2") => "h2".into(),
        (Some((_, h)), _) if h.version.starts_with("HTTP/3") => "h3".into(),
        (Some((_, h)), _) => h.version.to_ascii_lowercase(),
        (None, Conn::Quic(_)) => "quic".into(),
        (None, Conn::Tcp(c)) => match &c.tls {
            Some(t) => t.version.clone().unwrap_or_else(|| "TLS".into()),
            None => c
                .app_protocol
                .map_or("tcp", AppProtocol::as_str)
                .to_string(),
        },
    }
}

/// `(path and query, host)` of a URL.
fn split_url(url: &str) -> (String, String) {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    match rest.find('/') {
        Some(i) => (rest[i..].to_string(), rest[..i].to_string()),
        None => ("/".to_string(), rest.to_string()),
    }
}

/// Writes the whole report as one HTML document. Past [`fold::FOLD_AT`] alike that were
/// one-sided (a scan, a flood: [`fold`]), they are counted in a table under the header
/// instead of drawn, unless `all` (a 100,000-port scan was a 130 MB page).
pub fn write_html<W: Write>(out: &mut W, r: &Report, all: bool) -> io::Result<()> {
    let folded = if all { None } else { fold::fold(r) };
    let mut s = String::with_capacity(64 * 1024);
    match &folded {
        Some(f) => render(&mut s, &f.report, Some((r, &f.groups))),
        None => render(&mut s, r, None),
    }
    out.write_all(s.as_bytes())
}

/// The folded table's cells' style, on each cell (in the page's `<style>` it would change
/// every page, folded or not).
const CELL: &str = "padding:2px 10px;text-align:left;border-bottom:1px solid var(--muted)";

/// The folded groups as a table.
fn render_folded(s: &mut String, groups: &[fold::Group]) {
    let _ = write!(
        s,
        "<section class=\"folded\"><p class=\"sum\">{}</p>\n\
         <table style=\"border-collapse:collapse;margin:4px 0 16px\">\n<tr>",
        esc(&fold::headline(groups))
    );
    for h in ["kind", "server", "outcome", "count", "clients", "ports"] {
        let _ = write!(s, "<th style=\"{CELL}\">{h}</th>");
    }
    s.push_str("</tr>\n");
    for g in groups {
        s.push_str("<tr>");
        let cells = [
            g.kind.to_string(),
            g.servers_text(),
            g.outcome.to_string(),
            g.count.to_string(),
            g.clients_text(),
            g.ports_text(),
        ];
        for c in cells {
            let _ = write!(s, "<td style=\"{CELL}\">{}</td>", esc(&c));
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</table></section>\n");
}

/// One connection's story: a TCP connection's or a QUIC connection's.
enum Story<'a> {
    Tcp(Narrative<'a>),
    Quic(Box<QuicNarrative<'a>>),
}

impl<'a> Story<'a> {
    fn of(r: &'a Report, c: Conn<'a>) -> Story<'a> {
        match c {
            Conn::Tcp(c) => Story::Tcp(narrative::of_report(r, c)),
            Conn::Quic(q) => Story::Quic(Box::new(narrative::quic_of_report(r, q))),
        }
    }
}

/// Each connection's story, told in the detail of each of its rows.
struct Stories<'a>(HashMap<ConnKey, Story<'a>>);

impl<'a> Stories<'a> {
    fn of(r: &'a Report) -> Stories<'a> {
        let tcp = r.connections.iter().map(Conn::Tcp);
        let quic = r.quic.iter().filter(|q| !q.http.is_empty()).map(Conn::Quic);
        Stories(
            tcp.chain(quic)
                .map(|c| (c.key(), Story::of(r, c)))
                .collect(),
        )
    }

    fn get(&self, c: Conn) -> Option<&Story<'a>> {
        self.0.get(&c.key())
    }
}

/// `r` is what is drawn; `folded`, when something was folded out of it, the whole report
/// (for the counts) and what was folded.
fn render(s: &mut String, r: &Report, folded: Option<(&Report, &Vec<fold::Group>)>) {
    let whole = folded.map_or(r, |(w, _)| w);
    let rows = timing::rows(r);
    let pages = timing::pages(&rows);
    let stories = Stories::of(r);
    let requests = rows.iter().filter(|row| row.exchange.is_some()).count();
    let mut from_servers: u64 = r.connections.iter().map(|c| c.tcp.bytes.server).sum();
    // QUIC connections are named when they carried requests (without keys the page has no
    // row of theirs).
    let quic = if r.quic.iter().any(|q| !q.http.is_empty()) {
        from_servers += r.quic.iter().map(|q| q.bytes.server).sum::<u64>();
        format!(" · {}", plural(r.quic.len(), "QUIC connection"))
    } else {
        String::new()
    };
    let span = match (r.capture.first_ts, r.capture.last_ts) {
        (Some(a), Some(b)) => format!(" · capture spans {}", fmt_ms(b.ms_since(a).max(0.0))),
        _ => String::new(),
    };
    let span = match timing::load_span(&rows) {
        Some((a, b)) => format!("{span} · page load {}", fmt_ms(b.ms_since(a))),
        None => span,
    };
    let path = esc(&r.capture.path);
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"pagetrace {}\">\n\
         <title>pagetrace · {path}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<header>\n\
         <h1><span class=\"logo\">pagetrace</span>{path}</h1>\n\
         <p class=\"sum\">{} · {}{quic} · {} · {} from servers · {}{span}</p>\n",
        env!("CARGO_PKG_VERSION"),
        plural(requests, "request"),
        plural(whole.connections.len(), "connection"),
        plural(whole.dns.len(), "DNS lookup"),
        fmt_bytes(from_servers),
        plural(r.capture.packets, "packet"),
    );
    let worst = crate::report::narrative::worst_delays(r, 5);
    if !worst.is_empty() {
        s.push_str("<p class=\"sum\">Worst delays: ");
        let items: Vec<String> = worst
            .iter()
            .map(|w| {
                format!(
                    "{} {} ({})",
                    fmt_ms(w.delay.ms),
                    esc(w.delay.kind.as_str()),
                    esc(&w.what)
                )
            })
            .collect();
        s.push_str(&items.join("; "));
        s.push_str("</p>\n");
    }
    s.push_str("<ul class=\"legend\">");
    for p in Phase::ALL {
        let _ = write!(s, "<li><i class=\"{}\"></i>{}</li>", p.key(), phase_name(p));
    }
    s.push_str("</ul>\n</header>\n<main>\n");
    if let Some((_, groups)) = folded {
        render_folded(s, groups);
    }
    if rows.is_empty() {
        s.push_str("<p class=\"empty\">No requests or connections in this capture.</p>\n");
    }
    for (pi, page) in pages.iter().enumerate() {
        render_page(s, r, &rows, &stories, page, pi);
    }
    let _ = write!(
        s,
        "</main>\n<footer>Timings are the capture's packet timestamps. Hover a request for its \
         phases; click it for its connection's journey and its headers. Written by pagetrace {}.</footer>\n\
         </body>\n</html>\n",
        env!("CARGO_PKG_VERSION")
    );
}

fn render_page(
    s: &mut String,
    r: &Report,
    rows: &[Row],
    stories: &Stories,
    page: &Page,
    pi: usize,
) {
    let span_ms = page.end.ms_since(page.start).max(0.0);
    let axis = Axis {
        start: page.start,
        span_ms: if span_ms > 0.0 { span_ms } else { 1.0 },
    };
    let step = tick_step(axis.span_ms, 8);
    let n_req = page
        .rows
        .iter()
        .filter(|&&i| rows[i].exchange.is_some())
        .count();
    let bytes: u64 = page
        .rows
        .iter()
        .filter_map(|&i| rows[i].exchange.map(|e| e.1.body_bytes))
        .sum();
    let _ = write!(
        s,
        "<section class=\"page\" id=\"page-{n}\">\n<h2>Page {n}<span class=\"u\">{}</span>\
         <span class=\"m\">{} · {} · {} · at {}</span></h2>\n\
         <div class=\"wf\" style=\"--step:{:.4}%\">\n",
        esc(&page.title),
        plural(n_req, "request"),
        fmt_bytes(bytes),
        fmt_ms(span_ms),
        rel(Some(page.start), r.capture.first_ts),
        step / axis.span_ms * 100.0,
        n = pi + 1,
    );
    s.push_str(
        "<div class=\"row head\"><span class=\"c-m\">Method</span><span class=\"c-n\">Name</span><span class=\"c-s\">Status</span>\
         <span class=\"c-p\">Protocol</span><span class=\"c-t\">Type</span>\
         <span class=\"c-z num\">Size</span><span class=\"c-d num\">Time</span><span class=\"c-w axis\">",
    );
    let mut k = 0u32;
    loop {
        let t = step * k as f64;
        // Leave room for the last label.
        if t > axis.span_ms * 0.93 || k > 50 {
            break;
        }
        let _ = write!(
            s,
            "<b style=\"left:{:.3}%\">{}</b>",
            t / axis.span_ms * 100.0,
            fmt_tick(t, step)
        );
        k += 1;
    }
    s.push_str("</span></div>\n");
    for &ri in &page.rows {
        render_row(s, r, &rows[ri], stories, &axis);
    }
    s.push_str("</div>\n</section>\n");
}

fn render_row(s: &mut String, r: &Report, row: &Row, stories: &Stories, axis: &Axis) {
    let c = row.conn;
    let (name, status, status_class, kind, size) = match row.exchange {
        Some((_, h)) => {
            let (path, host) = split_url(&row.url);
            let name = format!(
                "<span class=\"path\">{}</span><span class=\"host\">{}</span>",
                esc(&path),
                esc(&host)
            );
            let (st, cls) = match h.status {
                Some(v) => (v.to_string(), format!("s{}", (v / 100).min(9))),
                None => ("–".to_string(), "s0".to_string()),
            };
            (name, st, cls, short_type(h), fmt_bytes(h.body_bytes))
        }
        None => {
            let what = match c.tls() {
                Some(t) if !t.decrypted => "encrypted, no keys",
                Some(_) => "no HTTP seen",
                None => "not HTTP",
            };
            let name = format!(
                "<span class=\"path\">{}</span><span class=\"host enc\">{what}</span>",
                esc(&row.url)
            );
            let kind = match (c, c.tls()) {
                (Conn::Quic(_), _) => "quic",
                (_, Some(_)) => "tls",
                (_, None) => "tcp",
            };
            (
                name,
                "–".to_string(),
                "s0".to_string(),
                kind.to_string(),
                fmt_bytes(c.server_bytes()),
            )
        }
    };
    let _ = write!(
        s,
        "<details class=\"req\"><summary class=\"row\">\
         <span class=\"c-m\">{}</span><span class=\"c-n\" title=\"{}\">{name}</span><span class=\"c-s {status_class}\">{status}</span>\
         <span class=\"c-p\">{}</span><span class=\"c-t\">{}</span><span class=\"c-z num\">{size}</span>\
         <span class=\"c-d num\">{}</span><span class=\"c-w\">",
        esc(row.exchange.and_then(|(_, h)| h.method.as_deref()).unwrap_or("")),
        esc(&row.url),
        esc(&protocol(row)),
        esc(&kind),
        fmt_ms(row.duration_ms()),
    );
    // The bar, its phases positioned within it.
    let left = axis.pct(row.start);
    let right = axis.pct(row.end);
    let width = (right - left).max(0.0);
    let class = if row.exchange.is_some() {
        "bar"
    } else {
        "cbar"
    };
    let _ = write!(
        s,
        "<span class=\"{class}\" style=\"left:{left:.3}%;width:{width:.3}%\">"
    );
    let bar_ms = row.end.ms_since(row.start);
    for sp in &row.spans {
        let (l, w) = if bar_ms > 0.0 {
            (
                (sp.from.ms_since(row.start) / bar_ms * 100.0).clamp(0.0, 100.0),
                (sp.to.ms_since(sp.from) / bar_ms * 100.0).clamp(0.0, 100.0),
            )
        } else {
            (0.0, 100.0)
        };
        let _ = write!(
            s,
            "<i class=\"p {}\" style=\"left:{l:.3}%;width:{w:.3}%\"></i>",
            sp.phase.key()
        );
    }
    s.push_str("</span>");
    render_tip(s, r, row, left, right);
    s.push_str("</span></summary>\n");
    match stories.get(row.conn) {
        Some(story) => render_story(s, r, row, story, axis),
        None => render_story(s, r, row, &Story::of(r, row.conn), axis),
    }
    s.push_str("</details>\n");
}

fn render_tip(s: &mut String, r: &Report, row: &Row, left: f64, right: f64) {
    // Anchored on the side with room.
    let pos = if left > 55.0 {
        format!("right:{:.3}%", (100.0 - right).max(0.0))
    } else {
        format!("left:{left:.3}%")
    };
    let _ = write!(
        s,
        "<span class=\"tip\" style=\"{pos}\"><div class=\"when\">Started at {}</div><table>",
        rel(Some(row.start), r.capture.first_ts)
    );
    let t = &row.timings;
    let mut lines: Vec<(Phase, f64)> = Vec::new();
    let mut push = |p: Phase, v: Option<f64>| {
        if let Some(v) = v {
            lines.push((p, v));
        }
    };
    push(Phase::Blocked, t.blocked.filter(|v| *v > 0.0));
    push(Phase::Dns, t.dns);
    // HAR's connect holds the TLS handshake; the tip shows them apart. On QUIC they are
    // one handshake, shown once.
    if !row.conn.is_quic() {
        push(
            Phase::Connect,
            t.connect.map(|c| (c - t.ssl.unwrap_or(0.0)).max(0.0)),
        );
    }
    push(Phase::Tls, t.ssl);
    push(Phase::Send, t.send);
    push(Phase::Wait, t.wait);
    push(Phase::Receive, t.receive);
    if row.exchange.is_none() {
        if let Some(d) = row.spans.iter().find(|sp| sp.phase == Phase::Data) {
            push(Phase::Data, Some(d.to.ms_since(d.from)));
        }
    }
    for (p, v) in &lines {
        let name = match p {
            Phase::Tls if row.conn.is_quic() => "QUIC handshake (TLS 1.3)",
            p => phase_name(*p),
        };
        let _ = write!(
            s,
            "<tr><td><i class=\"p-{k}\" style=\"background:var(--{k},#9aa7b4)\"></i>{}</td><td>{}</td></tr>",
            name,
            fmt_ms(*v),
            k = p.key()
        );
    }
    let _ = write!(
        s,
        "<tr class=\"total\"><td>Total</td><td>{}</td></tr></table>",
        fmt_ms(row.duration_ms())
    );
    if let Some((_, h)) = row.exchange {
        if let Some(to) = &h.redirect_to {
            let _ = write!(s, "<div>Redirects to {}</div>", esc(to));
        }
    }
    s.push_str("</span>");
}

/// A row's detail: its connection's journey on the page's axis and in words (the
/// connection's story), beside the request's headers.
fn render_story(s: &mut String, r: &Report, row: &Row, story: &Story, axis: &Axis) {
    s.push_str("<div class=\"detail\"><div>");
    match story {
        Story::Tcp(n) => render_journey(s, r, row, n, axis),
        Story::Quic(n) => render_quic_journey(s, r, row, n, axis),
    }
    s.push_str("</div><div>");
    if let Some((_, h)) = row.exchange {
        render_headers(s, row.conn.server(), h, &row.url);
    }
    s.push_str("</div></div>");
}

/// A TCP connection's journey: its [`Narrative`], on the axis and in words.
fn render_journey(s: &mut String, r: &Report, row: &Row, n: &Narrative, axis: &Axis) {
    let c = n.conn;
    let origin = r.capture.first_ts;
    let _ = write!(
        s,
        "<h3>Connection #{} · {} → {}{}</h3>",
        c.id,
        esc(&c.client.to_string()),
        esc(&c.server.to_string()),
        c.hostname
            .as_deref()
            .map(|h| format!(" · {}", esc(h)))
            .unwrap_or_default()
    );
    render_track(s, row, axis, &tcp_track(r, c));
    s.push_str("<ol class=\"journey\">");
    for step in &n.steps {
        match step {
            // The lookup counts for this row when the timing model gave it its DNS phase.
            Step::Dns(d) => journey_dns(s, d, row.dns.is_none(), origin),
            Step::Tcp(t) => journey_tcp(s, t, origin),
            Step::Tls(t) => journey_tls(s, t, origin),
            Step::Requests(reqs) => journey_requests(s, c.tcp.bytes, reqs, row, origin),
            Step::Issues(i) => journey_issues(s, i),
            Step::Warnings { shown, .. } => journey_warnings(s, shown),
            Step::Close(cl) => journey_close(s, cl, origin),
            // The bar and the tip already show where the time went and the sizes.
            Step::Time(_) | Step::Transfer { .. } => {}
        }
    }
    s.push_str("</ol>");
}

/// A QUIC connection's journey: DNS → QUIC handshake → TLS → requests → close.
fn render_quic_journey(s: &mut String, r: &Report, row: &Row, n: &QuicNarrative, axis: &Axis) {
    let q = n.conn;
    let origin = r.capture.first_ts;
    let _ = write!(
        s,
        "<h3>QUIC connection #{} · {} → {}{}</h3>",
        q.id,
        esc(&q.client.to_string()),
        esc(&q.server.to_string()),
        q.hostname
            .as_deref()
            .map(|h| format!(" · {}", esc(h)))
            .unwrap_or_default()
    );
    render_track(s, row, axis, &quic_track(r, q, n));
    s.push_str("<ol class=\"journey\">");
    journey_dns(s, &n.dns, row.dns.is_none(), origin);
    for why in &n.why {
        let _ = write!(
            s,
            "<li><b>Why</b><span>{}</span></li>",
            esc(&why.describe(origin))
        );
    }
    journey_quic_handshake(s, &n.handshake, n.handshake_ms(), origin);
    match &n.tls {
        Some(t) => journey_tls(s, t, origin),
        None => journey_quic_hello(s, &n.hello),
    }
    journey_requests(s, q.bytes, &n.requests, row, origin);
    journey_warnings(s, n.warnings_shown);
    journey_quic_close(s, n, origin);
    s.push_str("</ol>");
}

fn journey_warnings(s: &mut String, shown: &[crate::warning::Warning]) {
    for w in shown {
        let _ = write!(
            s,
            "<li><b>Warning</b><span class=\"warn\">{}</span></li>",
            esc(&w.message)
        );
    }
}

/// The handshake by packet type: `Initial 4/2 → Handshake 2/2 → 1-RTT 173/1083`.
fn journey_quic_handshake(
    s: &mut String,
    h: &QuicHandshake,
    handshake_ms: Option<f64>,
    origin: Option<Ts>,
) {
    let (c, sv) = (h.client, h.server);
    let mut packets = vec![format!("Initial {}/{}", c.initial, sv.initial)];
    if c.zero_rtt + sv.zero_rtt > 0 {
        packets.push(format!("0-RTT {}/{}", c.zero_rtt, sv.zero_rtt));
    }
    packets.push(format!("Handshake {}/{}", c.handshake, sv.handshake));
    packets.push(format!("1-RTT {}/{}", c.one_rtt, sv.one_rtt));
    let mut parts = vec![format!(
        "{} {} packets (client/server)",
        esc(h.version),
        packets.join(" → ")
    )];
    if let Some(ms) = h.server_initial_ms {
        parts.push(format!("server's Initial after {}", fmt_ms(ms)));
    }
    parts.push(format!("handshake {}", fmt_opt_ms(handshake_ms)));
    if let Some(at) = h.confirmed_at {
        parts.push(format!("HANDSHAKE_DONE at {}", rel(Some(at), origin)));
    }
    let _ = write!(
        s,
        "<li><b>QUIC</b><span>{} <span class=\"at\">{}</span></span></li>",
        parts.join(" · "),
        rel(h.initial_at, origin)
    );
}

/// What the Initials said of TLS when the handshake was not decrypted.
fn journey_quic_hello(s: &mut String, hello: &QuicHello) {
    let text = match *hello {
        QuicHello::Unread => "no TLS hello read".to_string(),
        QuicHello::Read {
            sni,
            alpn_offered,
            version,
            cipher,
        } => {
            let mut parts = vec![version.unwrap_or("no ServerHello").to_string()];
            parts.extend(cipher.map(str::to_string));
            parts.extend(sni.map(|x| format!("SNI {x}")));
            if !alpn_offered.is_empty() {
                parts.push(format!("ALPN offered {}", alpn_offered.join(",")));
            }
            parts.push("not decrypted".into());
            parts.join(" · ")
        }
    };
    let _ = write!(s, "<li><b>TLS</b><span>{}</span></li>", esc(&text));
}

fn journey_quic_close(s: &mut String, n: &QuicNarrative, origin: Option<Ts>) {
    if n.close.is_empty() {
        let _ = write!(
            s,
            "<li><b>Close</b><span>no CONNECTION_CLOSE seen; last packet \
             <span class=\"at\">{}</span></span></li>",
            rel(Some(n.last_at), origin)
        );
    }
    for cl in n.close {
        let reason = if cl.reason.is_empty() {
            String::new()
        } else {
            format!(" \"{}\"", cl.reason)
        };
        let _ = write!(
            s,
            "<li><b>Close</b><span>CONNECTION_CLOSE from the {}: {}{} <span class=\"at\">{}</span></span></li>",
            cl.from,
            esc(&cl.error),
            esc(&reason),
            rel(Some(cl.ts), origin)
        );
    }
}

fn journey_dns(s: &mut String, d: &DnsStep, not_this_rows: bool, origin: Option<Ts>) {
    match d {
        DnsStep::Lookup {
            tx,
            question,
            answers,
        } => {
            let reused = if not_this_rows && tx.latency_ms.is_some() {
                " (answer reused by this connection)"
            } else {
                ""
            };
            let shown = &answers[..answers.len().min(JOURNEY_ANSWERS)];
            let _ = write!(
                s,
                "<li><b>DNS</b><span>{} → {} · via {} ({}) · {}{reused} <span class=\"at\">{}</span></span></li>",
                esc(question),
                esc(&shown.join(", ")),
                esc(&tx.server.to_string()),
                tx.transport,
                tx.latency_ms.map(fmt_ms).unwrap_or_else(|| "no answer".into()),
                rel(Some(tx.ts), origin)
            );
            match tx.chain.as_deref() {
                Some([]) => s.push_str(
                    "<li><b></b><span class=\"at\">answered from the resolver's cache: no queries upstream</span></li>",
                ),
                Some(chain) => {
                    for st in chain {
                        let role = st.role_text();
                        let got = st.outcome_text();
                        let _ = write!(
                            s,
                            "<li><b>↳</b><span>{} {} → {} ({}) · {} · {} <span class=\"at\">{}</span></span></li>",
                            esc(&st.qname),
                            esc(&st.qtype),
                            esc(&st.server.to_string()),
                            esc(&role),
                            esc(&got),
                            st.latency_ms.map(fmt_ms).unwrap_or_else(|| "no answer".into()),
                            rel(Some(st.ts), origin)
                        );
                    }
                }
                None => {}
            }
        }
        DnsStep::NotLinked { note } => {
            let _ = write!(
                s,
                "<li><b>DNS</b><span class=\"at\">{}</span></li>",
                esc(note.unwrap_or("not linked to a lookup"))
            );
        }
    }
}

fn journey_tcp(s: &mut String, t: &TcpStep, origin: Option<Ts>) {
    if t.syn_at.is_none() {
        s.push_str(
            "<li><b>TCP</b><span class=\"at\">handshake not captured (already open)</span></li>",
        );
        return;
    }
    let mut steps = vec!["SYN"];
    if t.synack_seen {
        steps.push("SYN/ACK");
    }
    if t.ack_seen {
        steps.push("ACK");
    }
    let opts: Vec<String> = t.options.iter().map(|o| o.to_string()).collect();
    let opts = if opts.is_empty() {
        String::new()
    } else {
        format!(" · {}", opts.join(", "))
    };
    let _ = write!(
        s,
        "<li><b>TCP</b><span>{} · RTT {}{opts} <span class=\"at\">{}</span></span></li>",
        steps.join(" → "),
        fmt_opt_ms(t.rtt_ms),
        rel(t.syn_at, origin)
    );
}

fn journey_tls(s: &mut String, step: &TlsStep, origin: Option<Ts>) {
    let tls = step.tls;
    let mut parts = vec![step.version.to_string()];
    if let Some(cs) = &tls.cipher {
        parts.push(cs.clone());
    }
    if let Some(sni) = &tls.sni {
        parts.push(format!("SNI {sni}"));
    }
    match step.alpn {
        Alpn::Chosen(a) => parts.push(format!("ALPN {a}")),
        _ if !tls.alpn_offered.is_empty() => {
            parts.push(format!("ALPN offered {}", tls.alpn_offered.join(",")))
        }
        _ => {}
    }
    if tls.resumed {
        parts.push("resumed".into());
    }
    if tls.hello_retry {
        parts.push("HelloRetryRequest".into());
    }
    parts.push(if tls.decrypted {
        "decrypted".into()
    } else {
        "not decrypted".into()
    });
    let cert = step
        .leaf
        .map(|leaf| format!(" · cert {} by {}", leaf.subject, leaf.issuer))
        .unwrap_or_default();
    let _ = write!(
        s,
        "<li><b>TLS</b><span>{} · handshake {}{} <span class=\"at\">{}</span></span></li>",
        esc(&parts.join(" · ")),
        fmt_opt_ms(tls.handshake_ms),
        esc(&cert),
        rel(tls.client_hello_ts, origin)
    );
    for a in tls.alerts.iter().take(JOURNEY_ALERTS) {
        let _ = write!(
            s,
            "<li><b>Alert</b><span class=\"warn\">{} alert from the {}: {}</span></li>",
            a.level,
            a.from,
            esc(&a.description)
        );
    }
}

/// At most [`JOURNEY_REQUESTS`] requests around the row's own, or the bytes of a connection
/// with none readable.
fn journey_requests(
    s: &mut String,
    bytes: PerDir,
    reqs: &[HttpStep],
    row: &Row,
    origin: Option<Ts>,
) {
    if reqs.is_empty() {
        let _ = write!(
            s,
            "<li><b>Data</b><span>{} to the server, {} back; no readable request</span></li>",
            fmt_bytes(bytes.client),
            fmt_bytes(bytes.server)
        );
        return;
    }
    let current = row.exchange.map(|e| e.0);
    let cur = current.unwrap_or(0);
    let from = cur
        .saturating_sub(JOURNEY_REQUESTS / 2)
        .min(reqs.len().saturating_sub(JOURNEY_REQUESTS));
    let to = (from + JOURNEY_REQUESTS).min(reqs.len());
    let _ = write!(
        s,
        "<li><b>HTTP</b><span>{} request{} on this connection<ol class=\"reqs\" start=\"{}\">",
        reqs.len(),
        if reqs.len() == 1 { "" } else { "s" },
        from + 1
    );
    for step in &reqs[from..to] {
        let h = step.exchange;
        let status = h
            .status
            .map(|v| v.to_string())
            .unwrap_or_else(|| "no response".into());
        let _ = write!(
            s,
            "<li{}>{} {} → {} · {} · TTFB {} · download {} <span class=\"at\">{}</span></li>",
            if Some(step.index) == current {
                " class=\"cur\""
            } else {
                ""
            },
            esc(h.method.as_deref().unwrap_or("?")),
            esc(&step.url),
            esc(&status),
            fmt_bytes(h.body_bytes),
            fmt_opt_ms(h.ttfb_ms),
            fmt_opt_ms(h.download_ms),
            rel(h.request_ts, origin)
        );
    }
    s.push_str("</ol></span></li>");
}

fn journey_issues(s: &mut String, i: &Issues) {
    let mut issues = Vec::new();
    if let Some(rt) = i.retransmissions {
        issues.push(format!(
            "retransmissions {} from the client, {} from the server",
            rt.client, rt.server
        ));
    }
    if let Some(g) = i.gaps {
        issues.push(format!("bytes never captured {} / {}", g.client, g.server));
    }
    if let Some(z) = i.zero_window {
        issues.push(format!("zero windows {} / {}", z.client, z.server));
    }
    if !issues.is_empty() {
        let _ = write!(
            s,
            "<li><b>Issues</b><span class=\"warn\">{}</span></li>",
            esc(&issues.join("; "))
        );
    }
}

fn journey_close(s: &mut String, cl: &CloseStep, origin: Option<Ts>) {
    let text = match cl.kind {
        CloseKind::Open => "still open at the end of the capture".to_string(),
        CloseKind::Rst => format!("reset by the {}: {}", cl.who(), cl.steps),
        CloseKind::Fin => format!("{} · the {} closed first", cl.steps, cl.who()),
    };
    let _ = write!(
        s,
        "<li><b>Close</b><span>{} <span class=\"at\">{}</span></span></li>",
        esc(&text),
        rel(cl.at, origin)
    );
}

/// What a journey's track draws: the setup phases (CSS class, from, to), the connection's
/// requests, its close.
struct Track<'a> {
    setup: Vec<(&'static str, Ts, Ts)>,
    http: &'a [HttpExchange],
    close: Option<Ts>,
}

/// The lookup's span, when answered.
fn dns_span(d: Option<&DnsTransaction>) -> Option<(&'static str, Ts, Ts)> {
    d.and_then(|d| Some(("p dns", d.ts, d.response_ts?)))
}

fn tcp_track<'a>(r: &Report, c: &'a Connection) -> Track<'a> {
    let mut setup: Vec<_> = dns_span(c.dns.and_then(|i| r.dns.get(i)))
        .into_iter()
        .collect();
    if let (Some(a), Some(b)) = (c.tcp.syn_ts, c.tcp.ack_ts) {
        setup.push(("p connect", a, b));
    }
    if let Some(t) = &c.tls {
        if let (Some(a), Some(b)) = (t.client_hello_ts, t.handshake_done_ts) {
            setup.push(("p tls", a, b));
        }
    }
    Track {
        setup,
        http: &c.http,
        close: c.tcp.close.ts,
    }
}

/// The QUIC handshake draws as the TLS phase, as in the waterfall.
fn quic_track<'a>(r: &Report, q: &'a QuicConnection, n: &QuicNarrative) -> Track<'a> {
    let mut setup: Vec<_> = dns_span(q.dns.and_then(|i| r.dns.get(i)))
        .into_iter()
        .collect();
    if let (Some(a), Some(ms)) = (q.client_initial_ts, n.handshake_ms()) {
        setup.push((
            "p tls",
            a,
            Ts(a.0.saturating_add((ms * 1e6).round() as i64)),
        ));
    }
    Track {
        setup,
        http: &q.http,
        close: q.close.first().map(|c| c.ts),
    }
}

/// The connection on the page's axis: its setup phases, its other requests (pale), this
/// request's send, wait and download phases in the legend's colours, its close.
fn render_track(s: &mut String, row: &Row, axis: &Axis, track: &Track) {
    s.push_str("<div class=\"ctrack\">");
    let mut put = |class: &str, from: Ts, to: Ts| {
        let l = axis.pct(from);
        let w = (axis.pct(to) - l).max(0.0);
        let _ = write!(
            s,
            "<i class=\"{class}\" style=\"left:{l:.3}%;width:{w:.3}%\"></i>"
        );
    };
    for &(class, from, to) in &track.setup {
        put(class, from, to);
    }
    let current = row.exchange.map(|e| e.0);
    for (i, h) in track.http.iter().enumerate() {
        if Some(i) == current {
            for sp in row
                .spans
                .iter()
                .filter(|sp| matches!(sp.phase, Phase::Send | Phase::Wait | Phase::Receive))
            {
                let class = format!("p {}", sp.phase.key());
                put(&class, sp.from, sp.to);
            }
            continue;
        }
        let (Some(a), Some(b)) = (
            h.request_ts.or(h.response_ts),
            h.response_end_ts.or(h.response_ts).or(h.request_end_ts),
        ) else {
            continue;
        };
        put("jr", a, b.max(a));
    }
    if let Some(ts) = track.close {
        if ts.ms_since(axis.start) <= axis.span_ms {
            let _ = write!(
                s,
                "<i class=\"fin\" style=\"left:{:.3}%\" title=\"close\"></i>",
                axis.pct(ts)
            );
        }
    }
    s.push_str("</div>");
}

fn render_headers(s: &mut String, server: SocketAddr, h: &HttpExchange, url: &str) {
    let status = match h.status {
        Some(v) => format!("{v} {}", h.reason.as_deref().unwrap_or("")),
        None => "no response captured".into(),
    };
    let _ = write!(
        s,
        "<h3>Request</h3><div class=\"gen\"><span>URL</span> {}<br><span>Method</span> {} · \
         <span>Status</span> {} · <span>Version</span> {}{}<br><span>Remote</span> {} · \
         <span>Sent</span> {} body · <span>Received</span> {} body{}{}{}</div>",
        esc(url),
        esc(h.method.as_deref().unwrap_or("?")),
        esc(status.trim()),
        esc(&h.version),
        h.stream
            .map(|id| format!(" · <span>Stream</span> {id}"))
            .unwrap_or_default(),
        esc(&server.to_string()),
        fmt_bytes(h.request_body_bytes),
        fmt_bytes(h.body_bytes),
        h.content_encoding
            .as_deref()
            .map(|e| match fmt_decoded(h) {
                Some(d) => format!(" ({}, {d})", esc(e)),
                None => format!(" ({})", esc(e)),
            })
            .unwrap_or_default(),
        if h.complete { "" } else { " · incomplete" },
        h.body_sha256
            .as_deref()
            .map(|d| format!("<br><span>Body SHA-256</span> {}", esc(d)))
            .unwrap_or_default(),
    );
    if !h.diagnosis.is_empty() {
        s.push_str("<h3>Why it took this long</h3><table class=\"hdrs\">");
        for d in &h.diagnosis {
            let _ = write!(
                s,
                "<tr><th>{} {}</th><td>{}</td></tr>",
                fmt_ms(d.ms),
                esc(d.kind.as_str()),
                esc(&d.note)
            );
        }
        s.push_str("</table>");
    }
    for (title, headers) in [
        ("Response headers", &h.response_headers),
        ("Request headers", &h.request_headers),
    ] {
        if headers.is_empty() {
            continue;
        }
        let _ = write!(s, "<h3>{title}</h3><table class=\"hdrs\">");
        for (k, v) in headers {
            let _ = write!(s, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(v));
        }
        s.push_str("</table>");
    }
    if h.headers_truncated {
        s.push_str("<p class=\"warn\">Some header values were cut at pagetrace's cap.</p>");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::timing::tests::{h3_sample, sample};

    fn html(r: &Report) -> String {
        let mut out = Vec::new();
        write_html(&mut out, r, false).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn escapes_everything_hostile() {
        assert_eq!(
            esc("<script>alert('x')</script>&\"\u{202e}\u{0}\n"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;\u{FFFD}\u{FFFD}\n"
        );
        let mut r = sample();
        let evil =
            "https://www.example.test/\"><script>alert(1)</script><img src=x onerror=alert(2)>";
        r.connections[0].http[0].url = Some(evil.into());
        r.connections[0].http[0]
            .response_headers
            .push(("X-<b>".into(), "</table><iframe src=//evil>".into()));
        r.capture.path = "<style>body{display:none}</style>".into();
        let page = html(&r);
        assert!(!page.contains("<script"), "{page}");
        assert!(!page.contains("<img"));
        assert!(!page.contains("<iframe"));
        assert!(!page.contains("<style>body"));
        assert!(!page.contains("X-<b>"));
        assert!(page.contains("X-&lt;b&gt;"));
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    }

    #[test]
    fn self_contained_with_one_bar_per_request() {
        let page = html(&sample());
        assert_eq!(page.matches("class=\"bar\"").count(), 3);
        assert_eq!(page.matches("class=\"cbar\"").count(), 1);
        assert_eq!(page.matches("<details class=\"req\">").count(), 4);
        for needle in [
            "http://",
            "https://fonts",
            "<script",
            "<link",
            "src=",
            "url(",
            "@import",
        ] {
            let hits: Vec<_> = page.match_indices(needle).collect();
            // The only URLs are the capture's own, as escaped text.
            if needle.starts_with("http") {
                continue;
            }
            assert!(hits.is_empty(), "{needle}");
        }
        assert!(page.contains("default-src 'none'"));
        assert!(page.contains("<b>DNS</b>"));
        assert!(page.contains("<b>TCP</b>"));
        assert!(page.contains("<b>TLS</b>"));
        assert!(page.contains("<b>Close</b>"));
        assert!(page.contains("answer reused by this connection"));
    }

    #[test]
    fn http3_rows_open_their_quic_journey() {
        let page = html(&h3_sample());
        assert_eq!(page.matches("class=\"bar\"").count(), 5);
        assert_eq!(page.matches("class=\"cbar\"").count(), 1);
        assert_eq!(page.matches("<span class=\"c-p\">h3</span>").count(), 2);
        assert!(
            page.contains("3 connections · 1 QUIC connection · "),
            "{page}"
        );
        assert_eq!(page.matches("<h3>QUIC connection #1 · ").count(), 2);
        for want in [
            "<li><b>QUIC</b><span>v1 Initial 2/1 → Handshake 1/2 → 1-RTT 9/27 packets \
             (client/server) · server's Initial after 1.000 ms · handshake 3.000 ms · \
             HANDSHAKE_DONE at +0.046 s",
            "TLS 1.3 · TLS_AES_128_GCM_SHA256 · SNI static.example.test · ALPN h3 · decrypted",
            "2 requests on this connection",
            "<li><b>Close</b><span>CONNECTION_CLOSE from the client: NO_ERROR",
            "QUIC handshake (TLS 1.3)</td><td>3.500 ms</td>",
            "<span>Version</span> HTTP/3 · <span>Stream</span> 4",
        ] {
            assert!(page.contains(want), "{want:?} missing");
        }
        // The QUIC handshake is not told as a TCP connect.
        let quic_tip = &page[page.find("static.example.test/app.js").unwrap()..];
        let quic_tip = &quic_tip[..quic_tip.find("</table>").unwrap()];
        assert!(!quic_tip.contains("TCP connect"), "{quic_tip}");
    }

    #[test]
    fn empty_report() {
        let page = html(&Report::default());
        assert!(page.contains("No requests or connections"));
        assert!(page.ends_with("</html>\n"));
    }
}
