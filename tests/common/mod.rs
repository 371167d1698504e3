//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod gen;
pub mod lab;

use std::io::Cursor;
use std::path::{Path, PathBuf};

use pagetrace::capture::CaptureReader;
use pagetrace::pageload::model::Report;
use pagetrace::pipeline::{self, AnalyzerConfig};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(rel: &str) -> PathBuf {
    root().join("fixtures").join(rel)
}

/// `../shared/captures`, when present (CI has it; a user's clone does not).
pub fn shared_captures() -> Option<PathBuf> {
    let p = root().join("../shared/captures");
    p.is_dir().then_some(p)
}

/// Runs the library on capture bytes, as `analyze` does.
pub fn analyze_bytes(bytes: Vec<u8>, cfg: AnalyzerConfig) -> Report {
    analyze_with(bytes, "test", cfg, None)
}

/// As [`analyze_bytes`], naming the capture `name` and with a key log's text, as
/// `analyze --keylog` does.
pub fn analyze_with(
    bytes: Vec<u8>,
    name: &str,
    cfg: AnalyzerConfig,
    keylog: Option<&str>,
) -> Report {
    let reader = CaptureReader::new(Cursor::new(bytes)).expect("a capture");
    pipeline::analyze(reader, name, cfg, keylog)
}

pub fn analyze(path: &Path) -> Report {
    analyze_bytes(
        std::fs::read(path).expect("read capture"),
        AnalyzerConfig::default(),
    )
}

/// Compares `text` with the snapshot `tests/snapshots/<rel>`; `UPDATE_SNAPSHOTS=1` writes it.
pub fn snapshot(rel: &str, text: &str) {
    let path = root().join("tests/snapshots").join(rel);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_SNAPSHOTS=1 writes it)", path.display()));
    if want != text {
        let first = want
            .lines()
            .zip(text.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(want.lines().count().min(text.lines().count()));
        panic!(
            "{} differs from line {} (UPDATE_SNAPSHOTS=1 rewrites it); got:\n{text}",
            path.display(),
            first + 1
        );
    }
}

pub fn manifest(dir: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(fixture(dir).join("manifest.json")).expect("manifest");
    serde_json::from_str(&text).expect("manifest JSON")
}

/// An endpoint from a manifest's address and port.
pub fn endpoint(ip: &str, port: u64) -> std::net::SocketAddr {
    std::net::SocketAddr::new(ip.parse().expect("an IP address"), port as u16)
}

/// Captures with the key log beside them (`x.keys` or `x.pcap.keys`), as paths relative to
/// the crate root (the report records the path as given).
pub fn captures() -> Vec<(String, Option<String>)> {
    let root = root();
    let mut out = Vec::new();
    let mut add_dir = |dir: &Path, rel: &str| {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        let mut names: Vec<String> = rd
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".pcap") || n.ends_with(".pcapng"))
            .collect();
        names.sort();
        for n in names {
            let stem = n.rsplit_once('.').map_or(n.as_str(), |(s, _)| s);
            let keys = [format!("{n}.keys"), format!("{stem}.keys")]
                .into_iter()
                .find(|k| dir.join(k).is_file())
                .map(|k| format!("{rel}/{k}"));
            out.push((format!("{rel}/{n}"), keys));
        }
    };
    let mut fixtures: Vec<String> = std::fs::read_dir(root.join("fixtures"))
        .expect("fixtures")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    fixtures.sort();
    for f in fixtures {
        add_dir(&root.join("fixtures").join(&f), &format!("fixtures/{f}"));
    }
    if shared_captures().is_some() {
        add_dir(&root.join("../shared/captures"), "../shared/captures");
    }
    out
}

/// Every capture of the fixtures and of `../shared/captures` when present, as absolute
/// paths, with the key log beside it (`x.pcap.keys` or `x.keys`) when there is one.
pub fn capture_files() -> Vec<(PathBuf, Option<PathBuf>)> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root().join("fixtures"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.extend(shared_captures());
    dirs.sort();
    let mut out = Vec::new();
    for d in dirs {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&d)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
            .collect();
        files.sort();
        for f in files {
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            let stem = f.file_stem().unwrap().to_string_lossy().into_owned();
            let keys = [format!("{name}.keys"), format!("{stem}.keys")]
                .into_iter()
                .map(|k| d.join(k))
                .find(|k| k.is_file());
            out.push((f, keys));
        }
    }
    out
}

/// [`capture_files`], each with its key log and again without one.
pub fn capture_runs() -> Vec<(PathBuf, Option<PathBuf>)> {
    let mut out = Vec::new();
    for (f, keys) in capture_files() {
        if keys.is_some() {
            out.push((f.clone(), keys));
        }
        out.push((f, None));
    }
    out
}

/// The captures of `../shared/captures` (sorted), or none when it is absent.
pub fn corpus_files() -> Vec<PathBuf> {
    let Some(dir) = shared_captures() else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("pcap" | "pcapng")
            )
        })
        .collect();
    v.sort();
    v
}

/// Every resend a report names (`fast_retransmission`, `rto_retransmission`,
/// `spurious_retransmission`, `fin_retransmission`, `syn_retransmission`) is named once on
/// its connection: on one exchange or on the connection, never also as `head_of_line` on
/// the exchange that carried it; a connection names no more resends than it counted
/// (retransmissions and out-of-order segments, some of which were resends). Returns, per
/// connection, how many it named and how many retransmissions it counted.
pub fn resends_named_once(r: &Report) -> Vec<(usize, u64)> {
    use pagetrace::pageload::model::DelayKind;
    let resend = |k: DelayKind| {
        matches!(
            k,
            DelayKind::FastRetransmission
                | DelayKind::RtoRetransmission
                | DelayKind::SpuriousRetransmission
                | DelayKind::FinRetransmission
                | DelayKind::SynRetransmission
        )
    };
    let mut out = Vec::new();
    for c in &r.connections {
        let mut named: std::collections::BTreeMap<u64, usize> = Default::default();
        let exchanges = c.http.iter().map(|h| &h.diagnosis);
        for d in std::iter::once(&c.diagnosis).chain(exchanges).flatten() {
            if resend(d.kind) {
                *named.entry(*d.frames.last().unwrap()).or_default() += 1;
            }
        }
        assert!(
            named.values().all(|&n| n == 1),
            "connection {}: a resend named twice: {named:?}",
            c.id
        );
        for h in &c.http {
            for d in h
                .diagnosis
                .iter()
                .filter(|d| d.kind == DelayKind::HeadOfLine)
            {
                let f = d.frames.last();
                assert!(
                    !h.diagnosis
                        .iter()
                        .any(|o| resend(o.kind) && o.frames.last() == f),
                    "connection {}: a stream both carried and waited behind {f:?}",
                    c.id
                );
            }
        }
        let t = &c.tcp;
        let retransmissions = t.retransmissions.client + t.retransmissions.server;
        let counted = retransmissions + t.out_of_order.client + t.out_of_order.server;
        assert!(named.len() as u64 <= counted, "connection {}", c.id);
        out.push((named.len(), retransmissions));
    }
    out
}
