//! `--only` (the table's sections) and the per-host summary, through the binary.

mod common;

use std::process::{Command, Output};

use common::*;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pagetrace"))
        .args(args)
        .current_dir(root())
        .env_remove("SSLKEYLOGFILE")
        .env_remove("COLUMNS")
        .env("NO_COLOR", "1")
        .output()
        .expect("run pagetrace")
}

fn table(extra: &[&str]) -> String {
    let mut args = vec![
        "analyze",
        "fixtures/pageload/pageload.pcap",
        "--keylog",
        "fixtures/pageload/pageload.keys",
    ];
    args.extend(extra);
    let out = run(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The section titles and story heads of a table, in order.
fn titles(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| {
            matches!(
                *l,
                "QUIC" | "Connections" | "Requests" | "Hosts" | "TLS" | "DNS" | "Waterfall"
            ) || l.starts_with("Connection #")
                || l.starts_with("pagetrace ")
        })
        .collect()
}

#[test]
fn only_writes_the_sections_named_in_their_usual_order() {
    let text = table(&["--only", "dns,requests"]);
    assert_eq!(titles(&text), vec!["Requests", "DNS"]);
    assert!(text.starts_with("Requests\n"), "{text}");
    let text = table(&["--only", "hosts"]);
    assert_eq!(titles(&text), vec!["Hosts"]);
    let text = table(&["--only", "summary,stories"]);
    let t = titles(&text);
    assert!(t[0].starts_with("pagetrace ") && t.len() == 7, "{t:?}");
    // The whole table is every section but TLS; TLS only on request.
    let all = table(&[]);
    assert!(titles(&all).contains(&"Hosts") && !titles(&all).contains(&"TLS"));
    let text = table(&["--only", "tls"]);
    assert!(
        text.contains("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"),
        "{text}"
    );
}

#[test]
fn hosts_add_up_to_the_requests() {
    let text = table(&["--only", "hosts"]);
    let mut requests = 0;
    let mut errors = 0;
    for line in text.lines().filter(|l| l.starts_with("│ ")) {
        let cells: Vec<&str> = line.split(['│', '┆']).map(str::trim).collect();
        if cells[1] == "host" {
            continue;
        }
        requests += cells[3].parse::<usize>().unwrap();
        errors += cells[8].parse::<usize>().unwrap();
    }
    assert_eq!(requests, 20, "{text}");
    // The 404 of the favicon.
    assert_eq!(errors, 1, "{text}");
}

#[test]
fn only_and_other_formats_is_a_usage_error() {
    let out = run(&[
        "analyze",
        "fixtures/pageload/pageload.pcap",
        "--format",
        "json",
        "--only",
        "hosts",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&[
        "analyze",
        "fixtures/pageload/pageload.pcap",
        "--only",
        "nope",
    ]);
    assert_eq!(out.status.code(), Some(2));
}
