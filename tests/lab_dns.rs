//! The resolver's walk, DNSSEC and DNS over TLS, recorded on the spot by
//! `tests/lab/dnstree.py` (root, network namespaces): a private DNS tree of BIND servers
//! (the root, the TLDs `test.` and `alt.`, the zones `lab.test.`, `hoster.alt.` and
//! `other.test.`; all but the last two signed), a validating unbound whose root hints
//! point at the private root and which also serves DNS over TLS, and a client that asks
//! with `dig` (cold, cached, a CNAME into an insecure zone whose server's name has no glue,
//! NXDOMAIN, NODATA, HTTPS), with `kdig +tls` (its key log), then fetches a page with curl.
//! Captures at the client and at the resolver.
//!
//! Checked against what the servers say happened (BIND's query logs, in the order the
//! queries reached the wire): every client lookup's chain in the report is exactly the
//! queries the servers logged for it (server, name, type, in order), with the role the
//! lab gave each server (the report takes roles from referrals only); a lookup the servers
//! saw nothing for is `cached`; AD as dig and kdig printed it; DNS over TLS decrypted into
//! `dot` transactions, and without keys counted on its connection; no chain where the
//! capture does not show the resolver's side; the page's connection linked to its lookup,
//! whose walk the waterfall and the table draw.
//!
//! Every check runs twice: on the committed recording `fixtures/dnstree/` (made by the
//! same script; no root needed, so `cargo test` runs it anywhere) and on a recording made
//! on the spot, which needs root and BIND, unbound, kdig, dig, curl and tcpdump
//! (`tests/lab/setup.sh`): skipped with a message otherwise, unless
//! `PAGETRACE_LAB_REQUIRED=1` (CI sets it) makes that a failure. About 6 seconds.

mod common;

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::*;
use pagetrace::pageload::model::{AppProtocol, DnsTransaction, DnsTransport, Report};
use pagetrace::pipeline::AnalyzerConfig;
use serde_json::Value;

const CLIENT: &str = "10.53.1.2";
const RESOLVER: &str = "10.53.1.53";

fn skip() -> bool {
    let tools = [
        "named",
        "unbound",
        "dnssec-signzone",
        "dig",
        "kdig",
        "curl",
        "tcpdump",
    ];
    common::lab::skip_lab(common::lab::not_root().or_else(|| common::lab::missing_tool(&tools)))
}

/// One recording for every test of this file.
fn recording() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let out = std::env::temp_dir().join(format!("pagetrace-lab-dns-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out);
        let mut last = String::new();
        for _ in 0..2 {
            let o = Command::new("python3")
                .arg(common::lab::dir().join("dnstree.py"))
                .args(["-q", "--out"])
                .arg(&out)
                .output()
                .expect("run tests/lab/dnstree.py");
            if o.status.success() {
                return out;
            }
            last = format!(
                "{}\n{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
        }
        panic!("the DNS lab failed twice:\n{last}");
    })
}

fn manifest(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap()
}

/// The committed recording.
fn fixture() -> PathBuf {
    common::root().join("fixtures/dnstree")
}

/// The key log of a recording: `keys.log` as the lab writes it, `<capture>.keys` as the
/// fixture holds it (so every test that walks the fixtures finds it).
fn keys_of(dir: &Path, file: &str) -> String {
    let stem = file.trim_end_matches(".pcap");
    [dir.join("keys.log"), dir.join(format!("{stem}.keys"))]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .expect("a key log")
}

fn report(dir: &Path, file: &str, keys: bool) -> Report {
    let keys = keys.then(|| keys_of(dir, file));
    analyze_with(
        std::fs::read(dir.join(file)).expect("capture"),
        file,
        AnalyzerConfig::default(),
        keys.as_deref(),
    )
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str()
        .unwrap_or_else(|| panic!("manifest: no {k} in {v}"))
}

fn ip(a: &str) -> IpAddr {
    a.parse().unwrap()
}

/// The client's transactions to the resolver for `qname`/`qtype` over `transport`, in
/// time order.
fn client_lookups<'a>(
    r: &'a Report,
    qname: &str,
    qtype: &str,
    transport: DnsTransport,
) -> Vec<(usize, &'a DnsTransaction)> {
    r.dns
        .iter()
        .enumerate()
        .filter(|(_, t)| {
            t.client.ip() == ip(CLIENT)
                && t.server.ip() == ip(RESOLVER)
                && t.transport == transport
                && t.questions
                    .first()
                    .is_some_and(|q| q.name == qname && q.qtype == qtype)
        })
        .collect()
}

/// The queries the servers logged for a lookup (`index` a number, or `"fetch"`), in the
/// order they reached the wire: `(server, name, type)`.
fn logged(m: &Value, lookup: &Value) -> Vec<(IpAddr, String, String)> {
    let mut qs: Vec<&Value> = m["server_queries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|q| &q["lookup"] == lookup)
        .collect();
    qs.sort_by(|a, b| {
        let t = |q: &Value| q["wire_time"].as_f64().or(q["time"].as_f64()).unwrap();
        t(a).partial_cmp(&t(b)).unwrap()
    });
    qs.iter()
        .map(|q| {
            (
                ip(s(q, "server")),
                s(q, "qname").trim_end_matches('.').to_string(),
                s(q, "qtype").to_string(),
            )
        })
        .map(|(a, n, t)| (a, if n.is_empty() { ".".into() } else { n }, t))
        .collect()
}

/// The chain as `(server, name, type)`.
fn chain_of(t: &DnsTransaction) -> Vec<(IpAddr, String, String)> {
    t.chain
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(|s| (s.server.ip(), s.qname.clone(), s.qtype.to_string()))
        .collect()
}

/// Checks every step's role against the lab's own list of what each server is.
fn check_roles(m: &Value, t: &DnsTransaction, what: &str) {
    for st in t.chain.as_deref().unwrap_or_default() {
        let want = s(&m["servers"][st.server.ip().to_string()], "role");
        assert_eq!(
            st.role.as_str(),
            want,
            "{what}: the role of {} for {} {} (zone {:?})",
            st.server,
            st.qname,
            st.qtype,
            st.zone
        );
        assert_eq!(st.server.port(), 53, "{what}");
        assert!(st.latency_ms.is_some(), "{what}: {} answered", st.qname);
    }
}

fn every_chain_is_what_the_servers_logged(dir: &Path) {
    let m = manifest(dir);
    let r = report(dir, "resolver.pcap", true);
    let mut walked = 0;
    for l in m["lookups"].as_array().unwrap() {
        let index = &l["index"];
        let what = format!("lookup {index} ({} {})", s(l, "qname"), s(l, "qtype"));
        let transport = match s(l, "transport") {
            "dot" => DnsTransport::Dot,
            _ => DnsTransport::Udp,
        };
        let found = client_lookups(&r, s(l, "qname"), s(l, "qtype"), transport);
        // Lookups 7 and 8 ask the same over DNS over TLS: the first such is 7.
        let nth = m["lookups"]
            .as_array()
            .unwrap()
            .iter()
            .take_while(|o| o["index"] != *index)
            .filter(|o| {
                o["qname"] == l["qname"]
                    && o["qtype"] == l["qtype"]
                    && o["transport"] == l["transport"]
            })
            .count();
        let (_, t) = found
            .get(nth)
            .unwrap_or_else(|| panic!("{what}: not in the report ({} like it)", found.len()));
        assert_eq!(t.rcode.as_deref(), Some(s(l, "rcode")), "{what}: rcode");
        assert_eq!(t.dnssec.ad, l["ad"].as_bool().unwrap(), "{what}: AD");
        let want = logged(&m, index);
        assert_eq!(
            want.len() as u64,
            l["upstream_queries"].as_u64().unwrap(),
            "{what}: the manifest's own count"
        );
        assert_eq!(
            chain_of(t),
            want,
            "{what}: the chain against the servers' logs"
        );
        assert_eq!(t.cached, Some(want.is_empty()), "{what}: cached");
        check_roles(&m, t, &what);
        walked += usize::from(!want.is_empty());
        // Each step's own transaction points back at this lookup.
        for st in t.chain.as_deref().unwrap_or_default() {
            let u = &r.dns[st.dns.expect("a step's transaction")];
            assert_eq!(u.questions[0].name, st.qname, "{what}");
            assert!(
                u.upstream_of.is_some_and(|c| std::ptr::eq(&r.dns[c], *t)),
                "{what}: {} upstream_of",
                st.qname
            );
        }
    }
    assert!(walked >= 5, "lookups with a walk: {walked}");

    // The cold lookup: the walk from the root, by referrals, then validation.
    let (_, cold) = client_lookups(&r, "www.lab.test", "A", DnsTransport::Udp)[0];
    let outcomes: Vec<(String, String, Option<String>)> = cold
        .chain
        .as_deref()
        .unwrap()
        .iter()
        .map(|s| (s.qname.clone(), s.outcome.to_string(), s.referral.clone()))
        .collect();
    for (name, zone) in [("test", "test"), ("lab.test", "lab.test")] {
        assert!(
            outcomes.contains(&(name.into(), "referral".into(), Some(zone.into()))),
            "a referral to {zone}: {outcomes:?}"
        );
    }
    assert!(
        outcomes.contains(&("www.lab.test".into(), "answer".into(), None)),
        "{outcomes:?}"
    );
    let dnskeys = cold
        .chain
        .as_deref()
        .unwrap()
        .iter()
        .filter(|s| s.qtype == "DNSKEY")
        .count();
    assert!(
        dnskeys >= 3,
        "DNSKEY fetched for ., test and lab.test: {dnskeys}"
    );
    // NXDOMAIN and NODATA steps.
    let (_, nx) = client_lookups(&r, "nx.lab.test", "AAAA", DnsTransport::Udp)[0];
    assert_eq!(nx.chain.as_deref().unwrap()[0].outcome.as_str(), "nxdomain");
    let (_, nodata) = client_lookups(&r, "www.lab.test", "MX", DnsTransport::Udp)[0];
    assert_eq!(
        nodata.chain.as_deref().unwrap()[0].outcome.as_str(),
        "nodata"
    );

    // The fetch: getaddrinfo's A and AAAA lookups together walked what the servers logged
    // for it, and the page's connection is linked to the A lookup.
    let want = logged(&m, &Value::from("fetch"));
    let mut got = Vec::new();
    for qtype in ["A", "AAAA"] {
        for (_, t) in client_lookups(&r, "page.lab.test", qtype, DnsTransport::Udp) {
            check_roles(&m, t, "fetch");
            got.extend(chain_of(t));
        }
    }
    got.sort();
    let mut want_sorted = want.clone();
    want_sorted.sort();
    assert_eq!(
        got, want_sorted,
        "the fetch's lookups against the servers' logs"
    );
    let page = r
        .connections
        .iter()
        .find(|c| c.server.ip() == ip(s(&m["fetch"], "address")))
        .expect("the page's connection");
    let lookup = &r.dns[page.dns.expect("the page's lookup")];
    assert_eq!(lookup.questions[0].name, "page.lab.test");
    assert!(
        lookup.chain.as_ref().is_some_and(|c| !c.is_empty()),
        "the page's lookup walked the tree"
    );
    assert_eq!(page.http[0].status, Some(200));
}

/// Streamed (`--format jsonl`, as `live` hands lookups out): every client lookup carries
/// the whole report's chain and cache, its steps named by the stream index of lines
/// handed out before it.
fn streamed_chains_are_the_reports(dir: &Path) {
    let r = report(dir, "resolver.pcap", true);
    let keys = std::env::temp_dir().join(format!(
        "pagetrace-dns-stream-keys-{}-{}",
        std::process::id(),
        dir.file_name().unwrap().to_string_lossy()
    ));
    std::fs::write(&keys, keys_of(dir, "resolver.pcap")).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_pagetrace"))
        .args(["analyze", "--format", "jsonl", "--keylog"])
        .arg(&keys)
        .arg(dir.join("resolver.pcap"))
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&keys);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let lines: Vec<Value> = String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &Value| v["type"] == "dns")
        .collect();
    assert_eq!(lines.len(), r.dns.len());
    let step = |s: &Value| {
        (
            s["server"].clone(),
            s["qname"].clone(),
            s["qtype"].clone(),
            s["role"].clone(),
            s["zone"].clone(),
            s["outcome"].clone(),
        )
    };
    let mut walked = 0;
    for t in r.dns.iter().filter(|t| t.chain.is_some()) {
        let whole = serde_json::to_value(t).unwrap();
        let streamed = lines
            .iter()
            .find(|l| {
                l["ts"] == whole["ts"] && l["client"] == whole["client"] && l["id"] == whole["id"]
            })
            .unwrap_or_else(|| panic!("{:?} not streamed", t.questions));
        let what = format!("{:?}", t.questions);
        assert_eq!(streamed["cached"], whole["cached"], "{what}");
        let (got, want) = (
            streamed["chain"].as_array().unwrap(),
            whole["chain"].as_array().unwrap(),
        );
        assert_eq!(
            got.iter().map(step).collect::<Vec<_>>(),
            want.iter().map(step).collect::<Vec<_>>(),
            "{what}"
        );
        for s in got {
            let i = s["dns"].as_u64().unwrap();
            assert!(
                i < streamed["index"].as_u64().unwrap(),
                "{what}: step {i} handed out before"
            );
            assert_eq!(lines[i as usize]["index"], s["dns"]);
            assert_eq!(
                lines[i as usize]["questions"][0]["name"], s["qname"],
                "{what}"
            );
        }
        walked += usize::from(!got.is_empty());
    }
    assert!(walked >= 5, "streamed lookups with a walk: {walked}");
}

fn dns_over_tls_is_read_with_keys_and_counted_without(dir: &Path) {
    let m = manifest(dir);
    let dot: Vec<&Value> = m["lookups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["transport"] == "dot")
        .collect();
    assert_eq!(dot.len(), 2);
    for (file, keys) in [("client.pcap", true), ("resolver.pcap", true)] {
        let r = report(dir, file, keys);
        let conns: Vec<_> = r
            .connections
            .iter()
            .filter(|c| c.server.port() == 853)
            .collect();
        assert_eq!(conns.len(), dot.len(), "{file}: DoT connections");
        for (c, l) in conns.iter().zip(&dot) {
            assert_eq!(c.app_protocol, Some(AppProtocol::TlsDns), "{file}");
            let e = c.encrypted_dns.as_ref().expect("encrypted_dns");
            assert!(e.decrypted && e.queries == Some(1), "{file}: {e:?}");
            let ts: Vec<&DnsTransaction> = r
                .dns
                .iter()
                .filter(|t| (t.client, t.server) == (c.client, c.server))
                .collect();
            assert_eq!(ts.len(), 1, "{file}: one transaction on {}", c.client);
            let t = ts[0];
            assert_eq!(t.transport, DnsTransport::Dot);
            assert_eq!(t.questions[0].name, s(l, "qname"));
            assert_eq!(t.rcode.as_deref(), Some(s(l, "rcode")));
            assert_eq!(t.dnssec.ad, l["ad"].as_bool().unwrap(), "{file}: AD");
            let answers: Vec<&str> = t
                .answers
                .iter()
                .filter(|a| a.rtype == "A")
                .map(|a| a.data.as_str())
                .collect();
            assert_eq!(answers, ["10.53.2.25"], "{file}");
        }
    }
    // Without keys: the connections carry encrypted DNS, one query each, by record sizes.
    let r = report(dir, "client.pcap", false);
    let conns: Vec<_> = r
        .connections
        .iter()
        .filter(|c| c.server.port() == 853)
        .collect();
    assert_eq!(conns.len(), 2);
    for c in conns {
        assert_eq!(c.app_protocol, Some(AppProtocol::Tls));
        let e = c.encrypted_dns.as_ref().expect("encrypted_dns");
        assert_eq!(e.protocol, DnsTransport::Dot);
        assert!(!e.decrypted);
        assert_eq!(e.queries, Some(1), "one query, by record sizes");
    }
    assert!(r.dns.iter().all(|t| t.transport != DnsTransport::Dot));
}

fn without_the_resolver_side_no_chain_is_made_up(dir: &Path) {
    let r = report(dir, "client.pcap", true);
    assert!(r.dns.len() >= 8, "{} transactions", r.dns.len());
    for t in &r.dns {
        assert!(
            t.chain.is_none() && t.cached.is_none() && t.upstream_of.is_none(),
            "{:?}: the client's capture cannot tell",
            t.questions
        );
    }
}

fn the_table_and_the_waterfall_show_the_walk(dir: &Path) {
    let keys = std::env::temp_dir().join(format!(
        "pagetrace-dns-keys-{}-{}",
        std::process::id(),
        dir.file_name().unwrap().to_string_lossy()
    ));
    std::fs::write(&keys, keys_of(dir, "resolver.pcap")).unwrap();
    let run = |format: &str| {
        let o = Command::new(env!("CARGO_BIN_EXE_pagetrace"))
            .args(["analyze", "--format", format, "--keylog"])
            .arg(&keys)
            .arg(dir.join("resolver.pcap"))
            .env("COLUMNS", "200")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };
    let table = run("table");
    for want in [
        "the resolver's walk:",
        "↳ page.lab.test A",
        "referral to lab.test",
        "DNS over TLS to the resolver 10.53.1.53:853: 1 query, decrypted",
        "NOERROR (AD, cached)",
    ] {
        assert!(table.contains(want), "table lacks {want:?}:\n{table}");
    }
    let waterfall = run("waterfall");
    assert!(
        waterfall.contains("↳ page.lab.test A @10.53.0.3:53 authoritative"),
        "{waterfall}"
    );
    let html = run("html");
    assert!(html.contains("authoritative lab.test"), "{html}");
    let _ = std::fs::remove_file(&keys);
}

#[test]
fn committed_recording_every_chain_is_what_the_servers_logged() {
    every_chain_is_what_the_servers_logged(&fixture());
}

#[test]
fn committed_recording_streamed_chains() {
    streamed_chains_are_the_reports(&fixture());
}

#[test]
fn committed_recording_dns_over_tls() {
    dns_over_tls_is_read_with_keys_and_counted_without(&fixture());
}

#[test]
fn committed_recording_client_side_has_no_chain() {
    without_the_resolver_side_no_chain_is_made_up(&fixture());
}

#[test]
fn committed_recording_views() {
    the_table_and_the_waterfall_show_the_walk(&fixture());
}

/// All of the above on a recording made now, with the Debian packages of the day.
#[test]
fn recorded_on_the_spot() {
    if skip() {
        return;
    }
    let dir = recording();
    every_chain_is_what_the_servers_logged(dir);
    streamed_chains_are_the_reports(dir);
    dns_over_tls_is_read_with_keys_and_counted_without(dir);
    without_the_resolver_side_no_chain_is_made_up(dir);
    the_table_and_the_waterfall_show_the_walk(dir);
    let _ = std::fs::remove_dir_all(dir);
}
