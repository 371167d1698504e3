//! DNS over QUIC (RFC 9250) recorded on the spot by `tests/lab` (root, network namespaces):
//! `record.py --scenario doq` runs doq.py's aioquic server (UDP 853, ALPN `doq`, the lab
//! zone) and client (a bootstrap lookup over UDP, then one QUIC connection with one query
//! per stream: A, then AAAA, an NXDOMAIN, another name and a NODATA at once, then the same
//! question twice at once). Every query the server logged must be a `doq` DNS transaction
//! of the report, paired with its answer (rcode, answers, authority), on the QUIC
//! connection's addresses; that connection is `doq`, decrypted, with no HTTP. From the key
//! log and from the pcapng's secrets block; QUIC v1 over IPv6, v2 over IPv4, and v1 with a
//! query packet and an answer packet dropped (retransmitted on other packets).
//!
//! Needs root and `sudo tests/lab/setup.sh` (dnsmasq-base, tcpdump, wireshark-common;
//! aioquic in tests/lab/.venv). Skipped with a message otherwise, unless
//! `PAGETRACE_LAB_REQUIRED=1` (CI sets it) makes that a failure. 6-12 seconds.

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use pagetrace::pageload::model::{DnsTransaction, DnsTransport, QuicConnection, Report};
use pagetrace::pipeline::AnalyzerConfig;
use serde_json::Value;

fn skip() -> bool {
    common::lab::skip_lab(common::lab::missing(false))
}

fn record(name: &str, args: &[&str]) -> PathBuf {
    let out = std::env::temp_dir().join(format!("pagetrace-lab-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let o = Command::new("python3")
        .arg(common::lab::dir().join("record.py"))
        .args(["--scenario", "doq", "-q", "--out"])
        .arg(&out)
        .args(args)
        .output()
        .expect("run tests/lab/record.py");
    assert!(
        o.status.success(),
        "{name}: the lab failed:\n{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

fn analyze_dir(dir: &Path, pcapng: bool) -> Report {
    let (file, keys) = if pcapng {
        ("capture.pcapng", None)
    } else {
        (
            "capture.pcap",
            Some(std::fs::read_to_string(dir.join("keys.log")).expect("keys.log")),
        )
    };
    analyze_with(
        std::fs::read(dir.join(file)).expect("capture"),
        file,
        AnalyzerConfig::default(),
        keys.as_deref(),
    )
}

fn str_of<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str()
        .unwrap_or_else(|| panic!("manifest: no {k} in {v}"))
}

/// `[(name, type, ttl, value)]` of a manifest's record list, sorted.
fn records_of(v: &Value) -> Vec<(String, String, u32, String)> {
    let mut out: Vec<_> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                str_of(r, "name").to_string(),
                str_of(r, "type").to_string(),
                r["ttl"].as_u64().unwrap() as u32,
                str_of(r, "value").to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

/// The same from a report's answers or authority.
fn records(rs: &[pagetrace::pageload::model::DnsAnswer]) -> Vec<(String, String, u32, String)> {
    let mut out: Vec<_> = rs
        .iter()
        .map(|a| (a.name.clone(), a.rtype.to_string(), a.ttl, a.data.clone()))
        .collect();
    out.sort();
    out
}

/// Checks one report against the manifest; returns how many DoQ queries agree.
fn check(name: &str, dir: &Path, r: &Report, want_version: &str) -> usize {
    let m: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    let logged = m["doq"]["queries"]
        .as_array()
        .expect("manifest doq.queries");
    assert!(
        logged.len() >= 7,
        "{name}: the server logged {}",
        logged.len()
    );

    // The QUIC connection: one, `doq`, decrypted, on the addresses the server logged.
    let doq: Vec<&QuicConnection> = r
        .quic
        .iter()
        .filter(|q| q.tls.as_ref().and_then(|t| t.alpn.as_deref()) == Some("doq"))
        .collect();
    assert_eq!(doq.len(), 1, "{name}: QUIC connections with ALPN doq");
    assert_eq!(r.quic.len(), 1, "{name}: no other QUIC connection");
    let q = doq[0];
    let first = &logged[0];
    let client = endpoint(
        str_of(first, "client_addr"),
        first["client_port"].as_u64().unwrap(),
    );
    let server = endpoint(
        str_of(first, "server_addr"),
        first["server_port"].as_u64().unwrap(),
    );
    assert_eq!((q.client, q.server), (client, server), "{name}: QUIC ends");
    assert_eq!(server.port(), 853, "{name}");
    assert_eq!(q.version, want_version, "{name}: QUIC version");
    assert_eq!(
        q.dcid,
        str_of(first, "odcid"),
        "{name}: the client's first DCID"
    );
    let tls = q.tls.as_ref().unwrap();
    assert!(tls.decrypted, "{name}: decrypted");
    assert_eq!(tls.alpn_offered, ["doq"], "{name}: ALPN offered");
    assert_eq!(tls.sni.as_deref(), Some("www.lab.test"), "{name}: SNI");
    assert!(!tls.certificates.is_empty(), "{name}: the certificate");
    let dec = q.decryption.as_ref().expect("packets decrypted");
    assert!(dec.one_rtt > 0, "{name}: 1-RTT packets opened");
    assert_eq!((dec.failed, dec.no_keys), (0, 0), "{name}: {dec:?}");
    assert!(q.warnings.is_empty(), "{name}: {:?}", q.warnings);
    // Encrypted DNS, read: as many queries as the server logged.
    let e = q.encrypted_dns.as_ref().expect("encrypted_dns");
    assert_eq!(e.protocol, DnsTransport::Doq, "{name}");
    assert!(e.decrypted, "{name}");
    assert_eq!(e.queries, Some(logged.len() as u64), "{name}: queries");
    // Links to no HTTP.
    assert!(q.http.is_empty(), "{name}: HTTP on a DoQ connection");
    assert!(q.h3_offer.is_none(), "{name}: an Alt-Svc offer for DoQ");
    // The client closed with DOQ_NO_ERROR.
    assert!(
        q.close.iter().any(|c| c.error_code == 0),
        "{name}: {:?}",
        q.close
    );

    // Its own address came from the bootstrap lookup over UDP, before the connection.
    let boot = &r.dns[q.dns.expect("the QUIC connection's lookup")];
    assert_eq!(
        boot.transport,
        DnsTransport::Udp,
        "{name}: bootstrap lookup"
    );
    assert_eq!(boot.questions[0].name, "www.lab.test", "{name}");
    assert!(boot.response_ts.is_some_and(|t| t <= q.first_ts), "{name}");

    // Every query the server logged: one DoQ transaction each, paired with its answer.
    let mut pool: Vec<&DnsTransaction> = r
        .dns
        .iter()
        .filter(|t| t.transport == DnsTransport::Doq)
        .collect();
    let frames = r.capture.packets;
    for l in logged {
        let (qname, qtype) = (str_of(l, "name"), str_of(l, "type"));
        let ends = (
            endpoint(str_of(l, "client_addr"), l["client_port"].as_u64().unwrap()),
            endpoint(str_of(l, "server_addr"), l["server_port"].as_u64().unwrap()),
        );
        assert_eq!(ends, (client, server), "{name}: one connection");
        assert_eq!(
            l["client_fin"], true,
            "{name}: the client's FIN came with its query"
        );
        let what = format!("{name}: {qname}/{qtype} (stream {})", l["stream_id"]);
        let at = pool
            .iter()
            .position(|t| {
                t.questions.len() == 1
                    && t.questions[0].name == qname
                    && t.questions[0].qtype == qtype
                    && t.query_packet.is_some()
                    && t.response_ts.is_some()
            })
            .unwrap_or_else(|| panic!("{what}: no DoQ transaction with query and answer"));
        let t = pool.remove(at);
        assert_eq!((t.client, t.server), (client, server), "{what}: ends");
        assert_eq!(u64::from(t.id), l["id"].as_u64().unwrap(), "{what}: id");
        assert_eq!(t.id, 0, "{what}: RFC 9250 4.2.1");
        assert_eq!(
            t.rcode.as_deref(),
            Some(str_of(l, "rcode")),
            "{what}: rcode"
        );
        assert!(!t.truncated, "{what}");
        assert_eq!(
            records(&t.answers),
            records_of(&l["answers"]),
            "{what}: answers"
        );
        assert_eq!(
            records(&t.authority),
            records_of(&l["authority"]),
            "{what}: authority"
        );
        let (qf, rf) = (t.query_packet.unwrap(), t.response_packet.unwrap());
        assert!(
            0 < qf && qf < rf && rf <= frames,
            "{what}: frames {qf} -> {rf} of {frames}"
        );
        let (ts, rts) = (t.ts, t.response_ts.unwrap());
        assert!(
            q.first_ts < ts && ts < rts && rts <= q.last_ts,
            "{what}: times"
        );
        assert!(t.latency_ms.is_some_and(|l| l > 0.0), "{what}: latency");
    }
    assert!(
        pool.is_empty(),
        "{name}: DoQ transactions no server logged: {pool:#?}"
    );
    // What the server logged as a whole: A, AAAA, NXDOMAIN with the SOA, NODATA.
    let rcodes: Vec<&str> = logged.iter().map(|l| str_of(l, "rcode")).collect();
    assert!(rcodes.contains(&"NXDOMAIN"), "{name}: {rcodes:?}");
    assert!(
        logged
            .iter()
            .any(|l| str_of(l, "rcode") == "NOERROR" && l["answers"].as_array().unwrap().is_empty()),
        "{name}: a NODATA answer"
    );
    // The bootstrap lookups dnsmasq logged are UDP transactions.
    for d in m["dns"]["queries"].as_array().unwrap() {
        assert!(
            r.dns.iter().any(|t| t.transport == DnsTransport::Udp
                && t.questions[0].name == str_of(d, "name")
                && t.questions[0].qtype == str_of(d, "type")
                && t.response_ts.is_some()),
            "{name}: bootstrap {d}"
        );
    }
    logged.len()
}

fn server_of(m: &Value) -> SocketAddr {
    let q = &m["doq"]["queries"][0];
    endpoint(str_of(q, "server_addr"), q["server_port"].as_u64().unwrap())
}

/// A client packet with a query in the parallel round and a server packet with an answer,
/// dropped by the relay after (client side) or before (server side) the capture.
const DROPS: [&str; 4] = [
    "--drop",
    "c2s udp dst port 853 and quic-short and len>150:3",
    "--drop",
    "s2c udp src port 853 and quic-short and len>400:2",
];

#[test]
fn dns_over_quic_queries_match_the_servers_log() {
    if skip() {
        return;
    }
    let started = std::time::Instant::now();
    for (name, args, version, v6) in [
        ("doq-v1", &[][..], "v1", true),
        (
            "doq-v2-ipv4",
            &["--quic-version", "2", "--ipv4-only"][..],
            "v2",
            false,
        ),
        ("doq-drops", &DROPS[..], "v1", true),
    ] {
        let dir = record(name, args);
        let m: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap())
                .unwrap();
        assert_eq!(
            server_of(&m).is_ipv6(),
            v6,
            "{name}: the client's address family"
        );
        let drops = m["relay"]["drops"].as_array().map_or(0, Vec::len);
        assert_eq!(drops, if args == DROPS { 2 } else { 0 }, "{name}: drops");
        for pcapng in [false, true] {
            let how = if pcapng {
                "pcapng secrets block"
            } else {
                "key log"
            };
            let r = analyze_dir(&dir, pcapng);
            let n = check(&format!("{name}, {how}"), &dir, &r, version);
            eprintln!("{name}, {how}: {n} DoQ queries agree with the server's log");
        }
        // Without keys: the Initial's ALPN says DNS over QUIC; its queries cannot be told.
        let r = analyze_with(
            std::fs::read(dir.join("capture.pcap")).expect("capture"),
            "capture.pcap",
            AnalyzerConfig::default(),
            None,
        );
        let e = r.quic[0].encrypted_dns.as_ref().expect("encrypted_dns");
        assert_eq!(
            (e.protocol, e.decrypted, e.queries),
            (DnsTransport::Doq, false, None)
        );
        assert!(r.dns.iter().all(|t| t.transport != DnsTransport::Doq));
        let _ = std::fs::remove_dir_all(&dir);
    }
    eprintln!("DoQ lab: {:.1} s", started.elapsed().as_secs_f64());
}
