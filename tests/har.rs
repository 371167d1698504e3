//! `--format har` on the committed page-load recordings (issue 8): the document validates
//! against the HAR 1.2 JSON schema (the har-schema package's, in `tests/har-schema/`), every
//! request of the recorder's manifest that pagetrace can read is an entry, the timings add
//! up, and every number is the one `--format json` reports.
//! The fixtures' key logs are given, so the HTTPS requests (decrypted HTTP/1.1 and HTTP/2)
//! are entries too. The HTTP/3 captures of `../shared/captures`, when present, are held to
//! the same rules: their requests are entries of QUIC connections (`connection` `quic-N`).

mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{fixture, manifest, root};
use pagetrace::report::har::iso8601;
use pagetrace::time::Ts;
use serde_json::{json, Value};

const FIXTURES: [&str; 5] = [
    "pageload",
    "pageload-delay40",
    "pageload-http1",
    "pageload-loss",
    "pageload-tls12-h2",
];

/// Runs `pagetrace analyze` on a fixture with its key log and parses standard output.
fn analyze(dir: &str, format: &str) -> Value {
    let d = fixture(dir);
    analyze_capture(&d.join("pageload.pcap"), &d.join("pageload.keys"), format)
}

/// Runs `pagetrace analyze` on a capture with a key log and parses standard output.
fn analyze_capture(cap: &Path, keys: &Path, format: &str) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_pagetrace"))
        .arg("analyze")
        .arg(cap)
        .arg("--keylog")
        .arg(keys)
        .args(["--format", format])
        .env_remove("SSLKEYLOGFILE")
        .output()
        .expect("run pagetrace");
    let what = cap.display();
    assert!(
        out.status.success(),
        "{what} --format {format}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{what} {format}: {e}"))
}

/// The HTTP/3 captures of `../shared/captures` with their key logs, when present.
fn http3_captures() -> Vec<(String, PathBuf, PathBuf)> {
    let Some(dir) = common::shared_captures() else {
        println!("../shared/captures is not here: no HTTP/3 capture checked");
        return Vec::new();
    };
    ["quic-v2-http3-dsb-sll.pcapng"]
        .iter()
        .map(|n| (n.to_string(), dir.join(n), dir.join(format!("{n}.keys"))))
        .filter(|(_, c, k)| c.is_file() && k.is_file())
        .collect()
}

/// Rewrites one har-schema file for the bundle: `"$ref": "x.json#"` points at the local
/// definition `x`, `$id`/`$schema` go, and the package's `"min"` (not a JSON Schema
/// keyword) becomes `"minimum"`.
fn localize(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.remove("$id");
            map.remove("$schema");
            if let Some(Value::String(r)) = map.get_mut("$ref") {
                if let Some(name) = r.strip_suffix(".json#") {
                    *r = format!("#/definitions/{name}");
                }
            }
            if map.contains_key("type") {
                if let Some(min) = map.remove("min") {
                    map.insert("minimum".into(), min);
                }
            }
            for child in map.values_mut() {
                localize(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(localize),
        _ => {}
    }
}

/// The har-schema files as one draft-06 schema, so nothing is resolved from outside.
fn har_schema() -> jsonschema::Validator {
    let dir = root().join("tests/har-schema");
    let mut defs = serde_json::Map::new();
    for e in std::fs::read_dir(&dir).expect("tests/har-schema") {
        let path = e.unwrap().path();
        if path.extension().is_some_and(|x| x == "json") {
            let mut v: Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            localize(&mut v);
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            defs.insert(name, v);
        }
    }
    assert!(
        defs.contains_key("har") && defs.len() >= 18,
        "{:?}",
        defs.keys()
    );
    let schema = json!({
        "$schema": "http://json-schema.org/draft-06/schema#",
        "definitions": defs,
        "allOf": [{"$ref": "#/definitions/har"}],
    });
    jsonschema::draft6::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the bundled HAR schema compiles")
}

fn schema_errors(v: &jsonschema::Validator, har: &Value) -> Vec<String> {
    v.iter_errors(har)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

/// A report time (float seconds, microsecond precision) as a [`Ts`].
fn ts(v: &Value) -> Ts {
    Ts(((f(v) * 1e6).round() as i64) * 1000)
}

const PHASES: [&str; 6] = ["blocked", "dns", "connect", "send", "wait", "receive"];

#[test]
fn har_of_every_fixture_validates_against_the_har_1_2_schema() {
    let validator = har_schema();
    let fixtures = FIXTURES.iter().map(|d| (d.to_string(), analyze(d, "har")));
    let h3 = http3_captures()
        .into_iter()
        .map(|(n, c, k)| (n, analyze_capture(&c, &k, "har")));
    for (dir, har) in fixtures.chain(h3) {
        let errors = schema_errors(&validator, &har);
        assert!(errors.is_empty(), "{dir}: {errors:#?}");
        assert_eq!(har["log"]["version"], "1.2");
        assert!(
            !har["log"]["entries"].as_array().unwrap().is_empty(),
            "{dir}"
        );
        assert!(!har["log"]["pages"].as_array().unwrap().is_empty(), "{dir}");
    }
}

/// The bundled schema is not vacuous: it rejects what HAR 1.2 forbids.
#[test]
fn har_schema_rejects_broken_documents() {
    let validator = har_schema();
    let good = analyze("pageload", "har");
    assert!(schema_errors(&validator, &good).is_empty());
    type Breakage = (&'static str, fn(&mut Value));
    let breakages: [Breakage; 7] = [
        ("no time", |h| {
            h["log"]["entries"][0]
                .as_object_mut()
                .unwrap()
                .remove("time");
        }),
        ("timing not a number", |h| {
            h["log"]["entries"][0]["timings"]["dns"] = json!("fast")
        }),
        ("timing below -1", |h| {
            h["log"]["entries"][0]["timings"]["connect"] = json!(-5)
        }),
        ("no receive", |h| {
            h["log"]["entries"][0]["timings"]
                .as_object_mut()
                .unwrap()
                .remove("receive");
        }),
        ("bad date", |h| {
            h["log"]["entries"][0]["startedDateTime"] = json!("yesterday")
        }),
        ("bad server address", |h| {
            h["log"]["entries"][0]["serverIPAddress"] = json!("www.example.test")
        }),
        ("status not an integer", |h| {
            h["log"]["entries"][0]["response"]["status"] = json!("301")
        }),
    ];
    for (what, breakage) in breakages {
        let mut bad = good.clone();
        breakage(&mut bad);
        assert!(
            !schema_errors(&validator, &bad).is_empty(),
            "the schema accepted a HAR with {what}"
        );
    }
}

/// `time` is the sum of the non-negative phases (`ssl` is inside `connect`); `send`, `wait`
/// and `receive` are never negative (HAR 1.2); the others are -1 or non-negative.
#[test]
fn har_timings_add_up() {
    let fixtures = FIXTURES.iter().map(|d| (d.to_string(), analyze(d, "har")));
    let h3 = http3_captures()
        .into_iter()
        .map(|(n, c, k)| (n, analyze_capture(&c, &k, "har")));
    for (dir, har) in fixtures.chain(h3) {
        for e in har["log"]["entries"].as_array().unwrap() {
            let url = &e["request"]["url"];
            let t = &e["timings"];
            for k in ["send", "wait", "receive"] {
                assert!(f(&t[k]) >= 0.0, "{dir} {url}: {k} {}", t[k]);
            }
            for k in ["blocked", "dns", "connect", "ssl"] {
                let v = f(&t[k]);
                assert!(v == -1.0 || v >= 0.0, "{dir} {url}: {k} {v}");
            }
            if f(&t["ssl"]) >= 0.0 {
                assert!(f(&t["connect"]) >= f(&t["ssl"]), "{dir} {url}: {t}");
            }
            let sum: f64 = PHASES.iter().map(|k| f(&t[*k])).filter(|v| *v >= 0.0).sum();
            assert!(
                close(f(&e["time"]), sum, 0.001),
                "{dir} {url}: time {} but the phases add up to {sum}",
                e["time"]
            );
        }
    }
}

/// Every exchange of `--format json` is one entry, and each number in the entry is the
/// report's own.
#[test]
fn har_numbers_are_the_json_reports_numbers() {
    for dir in FIXTURES {
        check_numbers(dir, &analyze(dir, "har"), &analyze(dir, "json"));
    }
    for (name, cap, keys) in http3_captures() {
        let har = analyze_capture(&cap, &keys, "har");
        let report = analyze_capture(&cap, &keys, "json");
        let h3 = check_numbers(&name, &har, &report);
        assert!(h3 > 0, "{name}: no HTTP/3 entry");
    }
}

/// The connections of a report by their HAR `connection`: the TCP ones by id, the QUIC
/// ones as `quic-<id>`.
fn connections_by_har_name(report: &Value) -> HashMap<String, (bool, &Value)> {
    let tcp = report["connections"].as_array().unwrap().iter().map(|c| {
        let id = c["id"].as_u64().unwrap();
        (id.to_string(), (false, c))
    });
    let quic = report["quic"].as_array().into_iter().flatten().map(|q| {
        let id = q["id"].as_u64().unwrap();
        (format!("quic-{id}"), (true, q))
    });
    tcp.chain(quic).collect()
}

/// [`har_numbers_are_the_json_reports_numbers`] on one capture; the number of HTTP/3
/// entries.
fn check_numbers(dir: &str, har: &Value, report: &Value) -> usize {
    let entries = har["log"]["entries"].as_array().unwrap();
    let conns = connections_by_har_name(report);
    let exchanges: usize = conns
        .values()
        .map(|(_, c)| c["http"].as_array().unwrap().len())
        .sum();
    assert_eq!(entries.len(), exchanges, "{dir}: one entry per exchange");
    let mut seen = BTreeMap::new();
    let mut setups: HashMap<&str, usize> = HashMap::new();
    let mut dns_users: HashMap<u64, usize> = HashMap::new();
    let mut h3 = 0;
    for e in entries {
        let name = e["connection"].as_str().unwrap();
        let (quic, c) = conns[name];
        let id = e["_connectionId"].as_u64().unwrap();
        assert_eq!(c["id"].as_u64(), Some(id), "{dir} {name}");
        let i = e["_httpIndex"].as_u64().unwrap() as usize;
        assert!(
            seen.insert((name, i), ()).is_none(),
            "{dir}: {name}/{i} twice"
        );
        let h = &c["http"][i];
        let what = format!("{dir} {} (connection {name})", e["request"]["url"]);
        check_exchange(e, h, &what);
        check_connection(e, c, quic, &what);
        if quic {
            h3 += 1;
            assert_eq!(e["_quicStream"], h["stream"], "{what}");
        }
        check_phases(e, h, &what);
        // The setup phases, on the first request of a connection only.
        let t = &e["timings"];
        if f(&t["connect"]) >= 0.0 {
            *setups.entry(name).or_default() += 1;
            check_setup(t, c, h, report, quic, &what);
        } else {
            assert_eq!(t["ssl"], -1, "{what}: ssl without connect");
            assert_eq!(t["dns"], -1, "{what}: dns without connect");
        }
        if f(&t["dns"]) >= 0.0 {
            let d = c["dns"].as_u64().expect("a lookup");
            *dns_users.entry(d).or_default() += 1;
            let lat = f(&report["dns"][d as usize]["latency_ms"]);
            assert!(close(f(&t["dns"]), lat, 0.0011), "{what}: dns {t} vs {lat}");
            if !quic {
                assert!(close(f(&t["dns"]), f(&c["timeline"]["dns_ms"]), 0.0011));
            }
        }
        // The entry starts with its first phase, never after its first request byte.
        let req = iso8601(ts(&h["request_ts"]));
        let started = e["startedDateTime"].as_str().unwrap();
        if f(&t["connect"]) < 0.0 && f(&t["blocked"]) < 0.0 {
            assert_eq!(started, req, "{what}");
        } else {
            assert!(started <= req.as_str(), "{what}: {started} > {req}");
        }
    }
    for (id, n) in setups {
        assert_eq!(n, 1, "{dir}: connection {id} set up {n} times");
    }
    // Every connection that waited for a lookup carries it (several may, opened at once).
    for (d, n) in dns_users {
        assert!(n >= 1, "{dir}: lookup {d} counted for {n} requests");
    }
    h3
}

/// The request and response of an entry are the exchange's.
fn check_exchange(e: &Value, h: &Value, what: &str) {
    assert_eq!(e["request"]["method"], h["method"], "{what}");
    assert_eq!(e["request"]["url"], h["url"], "{what}");
    // HTTP/3 is spelled `h3`, as Chrome does.
    let version = match h["version"].as_str() {
        Some("HTTP/3") => json!("h3"),
        _ => h["version"].clone(),
    };
    assert_eq!(e["request"]["httpVersion"], version, "{what}");
    assert_eq!(
        e["request"]["headers"].as_array().unwrap().len(),
        h["request_headers"].as_array().unwrap().len(),
        "{what}"
    );
    if h["status"].is_null() {
        // No response: status 0, no body, and why.
        assert_eq!(e["response"]["status"], 0, "{what}");
        assert_eq!(e["response"]["bodySize"], -1, "{what}");
        assert!(e["response"]["_error"].is_string(), "{what}");
        return;
    }
    assert_eq!(e["response"]["httpVersion"], version, "{what}");
    assert_eq!(e["response"]["status"], h["status"], "{what}");
    assert_eq!(e["response"]["bodySize"], h["body_bytes"], "{what}");
    assert_eq!(
        e["response"]["headers"].as_array().unwrap().len(),
        h["response_headers"].as_array().unwrap().len(),
        "{what}"
    );
    if let Some(ct) = h["content_type"].as_str() {
        assert_eq!(e["response"]["content"]["mimeType"], ct, "{what}");
    }
    if let Some(to) = h["redirect_to"].as_str() {
        assert_eq!(e["response"]["redirectURL"], to, "{what}");
    }
}

/// The connection fields of an entry are its connection's.
fn check_connection(e: &Value, c: &Value, quic: bool, what: &str) {
    let server = c["server"].as_str().unwrap();
    let ip = server
        .rsplit_once(':')
        .unwrap()
        .0
        .trim_start_matches('[')
        .trim_end_matches(']');
    assert_eq!(e["serverIPAddress"], ip, "{what}");
    let tls = &c["tls"];
    assert_eq!(e.get("_tlsVersion"), tls.get("version"), "{what}");
    assert_eq!(
        e.get("_alpn").unwrap_or(&Value::Null),
        &tls["alpn"],
        "{what}"
    );
    if quic {
        // pagetrace counts no retransmissions for QUIC: the field is left out.
        assert!(e.get("_retransmissions").is_none(), "{what}");
        assert!(e.get("_http2Stream").is_none(), "{what}");
        return;
    }
    let rt = &c["tcp"]["retransmissions"];
    assert_eq!(
        e["_retransmissions"].as_u64(),
        Some(rt["client"].as_u64().unwrap() + rt["server"].as_u64().unwrap()),
        "{what}"
    );
}

/// `send`, `wait` and `receive` are the exchange's own.
fn check_phases(e: &Value, h: &Value, what: &str) {
    let t = &e["timings"];
    let not_observed = |k: &str| {
        t.get("_notObserved")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|x| x == k))
    };
    match (h["request_ts"].is_number(), h["request_end_ts"].is_number()) {
        (true, true) => {
            let send = ts(&h["request_end_ts"]).ms_since(ts(&h["request_ts"]));
            assert!(close(f(&t["send"]), send.max(0.0), 0.0011), "{what}: send");
        }
        _ => assert!(not_observed("send"), "{what}"),
    }
    for (k, json_key) in [("wait", "ttfb_ms"), ("receive", "download_ms")] {
        match h[json_key].as_f64() {
            Some(v) => {
                assert!(close(f(&t[k]), v.max(0.0), 0.0011), "{what}: {k} {t}")
            }
            None => assert!(not_observed(k), "{what}: {k}"),
        }
    }
}

/// `connect` runs from the lookup's answer (when the entry carries the lookup) or the SYN
/// (QUIC: the first Initial) to the moment the client could send (`tls.client_ready_ts`:
/// with False Start the client's Finished; else the handshake's end; plain TCP: the ACK),
/// cut at the request's first byte; `ssl` is the TLS part of it. A QUIC connection's
/// `connect` and `ssl` are both its handshake.
fn check_setup(t: &Value, c: &Value, h: &Value, report: &Value, quic: bool, what: &str) {
    let tls = &c["tls"];
    let answer = (f(&t["dns"]) >= 0.0)
        .then(|| ts(&report["dns"][c["dns"].as_u64().unwrap() as usize]["response_ts"]));
    let ready = |tls: &Value| {
        [&tls["client_ready_ts"], &tls["handshake_done_ts"]]
            .into_iter()
            .find(|v| !v.is_null())
            .map(ts)
    };
    let (start, end) = if quic {
        assert_eq!(
            t["connect"], t["ssl"],
            "{what}: QUIC's handshake is its TLS's"
        );
        let end = match tls["decrypted"].as_bool() {
            Some(true) => ready(tls).unwrap(),
            _ => ts(&c["server_handshake_ts"]),
        };
        (answer.unwrap_or_else(|| ts(&c["client_initial_ts"])), end)
    } else {
        let tcp = &c["tcp"];
        let end = if tls.is_null() { None } else { ready(tls) };
        let end = end.unwrap_or_else(|| ts(&tcp["ack_ts"]));
        (answer.unwrap_or_else(|| ts(&tcp["syn_ts"])), end)
    };
    let end = if h["request_ts"].is_null() {
        end
    } else {
        end.min(ts(&h["request_ts"]))
    };
    let want = end.ms_since(start).max(0.0);
    assert!(
        close(f(&t["connect"]), want, 0.0021),
        "{what}: connect {t} vs {want} from the answer or SYN to the client's readiness"
    );
    if !quic {
        let ssl = tls["ready_ms"].as_f64().or(tls["handshake_ms"].as_f64());
        match ssl {
            Some(ssl) => assert!(f(&t["ssl"]) <= ssl + 0.0011, "{what}: ssl {t} vs {ssl}"),
            None => assert_eq!(t["ssl"], -1, "{what}"),
        }
    }
}

/// The URL as sent: the recorder tags each request with `#id`, a fragment never sent.
fn sent_url(r: &Value) -> &str {
    r["url"].as_str().unwrap().split('#').next().unwrap()
}

/// `"1.1"` → `"HTTP/1.1"`.
fn http_version(v: &Value) -> String {
    format!("HTTP/{}", v.as_str().unwrap())
}

/// Every request of the manifest that was made (curl got a status) and that pagetrace can
/// read is an entry with the recorder's method, URL, status, version and addresses.
/// `clear_text_only`: only the `http://` requests (TLS decryption is not on this branch).
fn check_manifest_requests(dir: &str, clear_text_only: bool) {
    let m = manifest(dir);
    let har = analyze(dir, "har");
    let report = analyze(dir, "json");
    let client_of: HashMap<String, String> = report["connections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_u64().unwrap().to_string(),
                c["client"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut left: Vec<&Value> = har["log"]["entries"].as_array().unwrap().iter().collect();
    let mut checked = 0;
    for r in m["requests"].as_array().unwrap() {
        let observed = &r["observed"];
        if observed["http_code"].as_u64().unwrap_or(0) == 0 {
            continue; // never sent (the NXDOMAIN host)
        }
        if clear_text_only && r["scheme"] != "http" {
            continue;
        }
        let client = common::endpoint(
            observed["local_ip"].as_str().unwrap(),
            observed["local_port"].as_u64().unwrap(),
        );
        let pos = left.iter().position(|e| {
            e["request"]["method"] == r["method"]
                && e["request"]["url"] == sent_url(r)
                && client_of.get(e["connection"].as_str().unwrap()) == Some(&client.to_string())
        });
        let Some(pos) = pos else {
            panic!(
                "{dir}: manifest request {} ({} {} from {client}) is not in the HAR",
                r["id"],
                r["method"],
                sent_url(r)
            );
        };
        let e = left.remove(pos);
        let id = &r["id"];
        assert_eq!(e["response"]["status"], r["expected_status"], "{dir} {id}");
        assert_eq!(
            e["request"]["httpVersion"],
            http_version(&r["http_version"]),
            "{dir} {id}"
        );
        assert_eq!(e["serverIPAddress"], observed["remote_ip"], "{dir} {id}");
        assert_eq!(e["_complete"], true, "{dir} {id}");
        assert!(e["timings"].get("_notObserved").is_none(), "{dir} {id}");
        if let Some(loc) = observed["redirect_url"].as_str() {
            assert_eq!(e["response"]["redirectURL"], loc, "{dir} {id}");
        }
        if let Some(tls) = r["tls_version"].as_str() {
            assert_eq!(e["_tlsVersion"], format!("TLS {tls}"), "{dir} {id}");
            assert_eq!(e["_alpn"], r["alpn"], "{dir} {id}");
        }
        if let Some(size) = r["observed"]["size_download"].as_u64() {
            assert_eq!(e["response"]["bodySize"], size, "{dir} {id}");
            // `content.size` is the content, as DevTools has it: gzip bodies decoded.
            let content = &e["response"]["content"];
            if let Some(decoded) = r["body_size"].as_u64() {
                assert_eq!(content["size"], decoded, "{dir} {id}");
                let saved = decoded.checked_sub(size).filter(|&n| n > 0);
                assert_eq!(content["compression"].as_u64(), saved, "{dir} {id}");
            }
        }
        checked += 1;
    }
    assert!(checked > 0, "{dir}: no manifest request checked");
    // Every entry is one of the manifest's (when only the clear text was asked for, the
    // others are HTTPS ones).
    let extra: Vec<&Value> = left
        .iter()
        .map(|e| &e["request"]["url"])
        .filter(|u| !clear_text_only || !u.as_str().unwrap().starts_with("https://"))
        .collect();
    assert!(
        extra.is_empty(),
        "{dir}: entries not in the manifest: {extra:?}"
    );
}

#[test]
fn every_clear_text_manifest_request_is_in_the_har() {
    for dir in FIXTURES {
        check_manifest_requests(dir, true);
    }
}

#[test]
fn every_manifest_request_is_in_the_har() {
    for dir in FIXTURES {
        check_manifest_requests(dir, false);
    }
}

/// Pages follow the rule in `report::waterfall`'s module doc: the recorder's navigation
/// (`http://www.example.test/`, a 301) opens the first page; its h2c phase fetches a second
/// top-level document (`Accept: text/html`, an HTML response), which opens a page of its
/// own. Every entry belongs to a page.
#[test]
fn har_pages_start_at_navigations() {
    for dir in FIXTURES {
        let har = analyze(dir, "har");
        let log = &har["log"];
        let pages = log["pages"].as_array().unwrap();
        let ids: Vec<&str> = pages.iter().map(|p| p["id"].as_str().unwrap()).collect();
        let first = manifest(dir)["requests"][0].clone();
        assert_eq!(pages[0]["title"], sent_url(&first), "{dir}");
        for e in log["entries"].as_array().unwrap() {
            let p = e["pageref"].as_str().expect("every entry has a page");
            assert!(ids.contains(&p), "{dir}: {p}");
        }
        // A page's title is one of its own entries, and no entry starts before its page.
        for p in pages {
            let mine: Vec<&Value> = log["entries"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["pageref"] == p["id"])
                .collect();
            assert!(
                mine.iter().any(|e| e["request"]["url"] == p["title"]),
                "{dir}"
            );
            for e in &mine {
                assert!(
                    e["startedDateTime"].as_str() >= p["startedDateTime"].as_str(),
                    "{dir}"
                );
            }
        }
        let h2c_doc = pages
            .iter()
            .any(|p| p["title"] == "http://www.example.test:8080/");
        assert_eq!(h2c_doc, dir != "pageload-http1", "{dir}");
    }
}

/// HTTP/1.1 and h2c in the clear: on each connection whose handshake was captured the first
/// request has `connect` (TCP only: `ssl` is -1, there is no TLS), and every request has
/// real `send`, `wait` and `receive`.
#[test]
fn clear_text_http1_and_h2c_have_every_phase_that_happened() {
    for dir in FIXTURES {
        let har = analyze(dir, "har");
        let entries = har["log"]["entries"].as_array().unwrap();
        let mut h2c = 0;
        let mut by_conn: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
        for e in entries.iter().filter(|e| e.get("_tlsVersion").is_none()) {
            by_conn
                .entry(e["connection"].as_str().unwrap())
                .or_default()
                .push(e);
        }
        for (conn, es) in by_conn {
            let first = es
                .iter()
                .min_by_key(|e| e["startedDateTime"].as_str().unwrap())
                .unwrap();
            let what = format!("{dir} connection {conn}");
            assert!(f(&first["timings"]["connect"]) > 0.0, "{what}");
            assert!(f(&first["timings"]["blocked"]) >= 0.0, "{what}");
            for e in &es {
                assert!(e.get("_tlsVersion").is_none(), "{what}");
                let t = &e["timings"];
                assert_eq!(t["ssl"], -1, "{what}: no TLS on this connection");
                assert!(t.get("_notObserved").is_none(), "{what}: {t}");
                // The response was seen, so the server's wait was measured.
                assert!(f(&t["wait"]) > 0.0, "{what}: {t}");
                if e["request"]["httpVersion"] == "HTTP/2" {
                    h2c += 1;
                    assert!(f(&t["receive"]) > 0.0, "{what}: DATA frames took time");
                }
            }
        }
        let want = manifest(dir)["requests"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["scheme"] == "http" && r["http_version"] == "2")
            .count();
        assert_eq!(h2c, want, "{dir}: h2c requests");
    }
}

/// HTTP/2 over TLS 1.2, decrypted: every phase that happened has a value.
#[test]
fn decrypted_http2_has_every_phase_that_happened() {
    let dir = "pageload-tls12-h2";
    let har = analyze(dir, "har");
    let entries: Vec<&Value> = har["log"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["request"]["url"]
                .as_str()
                .unwrap()
                .starts_with("https://")
        })
        .collect();
    let want = manifest(dir)["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["scheme"] == "https" && r["observed"]["http_code"].as_u64() != Some(0))
        .count();
    assert_eq!(
        entries.len(),
        want,
        "{dir}: every HTTPS request of the manifest is decrypted into an entry"
    );
    let mut first_of: BTreeMap<&str, &Value> = BTreeMap::new();
    for e in &entries {
        let what = format!("{dir} {}", e["request"]["url"]);
        assert_eq!(e["request"]["httpVersion"], "HTTP/2", "{what}");
        assert_eq!(e["_tlsVersion"], "TLS 1.2", "{what}");
        assert_eq!(e["_alpn"], "h2", "{what}");
        let t = &e["timings"];
        assert!(t.get("_notObserved").is_none(), "{what}: {t}");
        for k in ["send", "wait", "receive"] {
            assert!(f(&t[k]) >= 0.0, "{what}: {k} {t}");
        }
        assert!(f(&t["wait"]) > 0.0, "{what}: {t}");
        let c = e["connection"].as_str().unwrap();
        let earlier = first_of
            .get(c)
            .is_some_and(|x| x["startedDateTime"].as_str() <= e["startedDateTime"].as_str());
        if !earlier {
            first_of.insert(c, e);
        }
    }
    assert_eq!(
        first_of.len(),
        3,
        "{dir}: the doc, static and api connections"
    );
    for (c, e) in first_of {
        let t = &e["timings"];
        let what = format!("{dir} connection {c}");
        assert!(f(&t["connect"]) > 0.0, "{what}: {t}");
        assert!(
            f(&t["ssl"]) > 0.0,
            "{what}: the TLS handshake happened: {t}"
        );
        assert!(
            f(&t["connect"]) > f(&t["ssl"]),
            "{what}: connect holds TCP and TLS"
        );
    }
}
