//! `--format html` and `--format waterfall` as a person sees them (issue 8).
//!
//! - The HTML page of every fixture (and of the HTTP/3 captures of `../shared/captures`,
//!   when present) opened in headless Chromium: the DOM it builds has one `.bar` per HTTP
//!   exchange of `--format json`, TCP's and QUIC's (HTTP/3), and one `.cbar` per TCP
//!   connection without a readable request, and the page loads nothing from anywhere.
//! - Screenshots: the HTML page (one request clicked open, as a `<details>` opens on a
//!   click) and the terminal waterfall, run in a real terminal (`tmux`), its screen read
//!   with `capture-pane -e` and drawn by Chromium with the terminal's colours.
//!
//! Chromium and tmux are optional on a developer's machine: without them these tests print
//! why and pass. CI installs both and sets `PAGETRACE_REQUIRE_CHROMIUM=1`, which turns a
//! missing browser into a failure. `PAGETRACE_UPDATE_SCREENSHOTS=1` writes the PNGs to
//! `tests/snapshots/screenshots/` (the README shows them); otherwise they go to the target
//! directory only.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{fixture, root};
use serde_json::Value;

const FIXTURES: [&str; 5] = [
    "pageload",
    "pageload-delay40",
    "pageload-http1",
    "pageload-loss",
    "pageload-tls12-h2",
];

/// The fixture the screenshots show: 40 ms each way makes every phase visible.
const SHOWN: &str = "pageload-delay40";

fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for n in names {
            let p = dir.join(n);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

fn required() -> bool {
    std::env::var_os("PAGETRACE_REQUIRE_CHROMIUM").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Chromium, or `None` after saying why the test is skipped.
fn chromium(test: &str) -> Option<PathBuf> {
    let found = find_program(&["chromium", "chromium-browser", "google-chrome"]);
    if found.is_none() {
        assert!(
            !required(),
            "{test}: PAGETRACE_REQUIRE_CHROMIUM is set but chromium is not installed"
        );
        println!("{test}: skipped, chromium is not installed (apt-get install chromium)");
    }
    found
}

/// Runs a command with a deadline, killing it when it is late.
fn run_with_deadline(cmd: &mut Command, secs: u64) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let deadline = Instant::now() + Duration::from_secs(secs);
    // Read both pipes on threads so a chatty child never blocks on a full pipe.
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut so, &mut v).ok();
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut se, &mut v).ok();
        v
    });
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if Instant::now() > deadline {
            child.kill().ok();
            panic!("{cmd:?} took longer than {secs} s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: t_out.join().unwrap(),
        stderr: t_err.join().unwrap(),
    }
}

/// Headless Chromium with the flags a root, GPU-less, D-Bus-less machine needs.
fn headless(chrome: &Path) -> Command {
    let mut c = Command::new(chrome);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
    ]);
    c
}

/// Runs pagetrace from the repository root with relative paths, so the page shows
/// `fixtures/…` rather than where the checkout happens to be.
fn pagetrace(dir: &str, format: &str, out: Option<&Path>) -> Vec<u8> {
    let cap = format!("fixtures/{dir}/pageload.pcap");
    let keys = format!("fixtures/{dir}/pageload.keys");
    pagetrace_capture(&cap, &keys, format, out)
}

/// [`pagetrace`] on any capture and key log, paths relative to the repository root.
fn pagetrace_capture(cap: &str, keys: &str, format: &str, out: Option<&Path>) -> Vec<u8> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pagetrace"));
    cmd.current_dir(root())
        .arg("analyze")
        .arg(cap)
        .arg("--keylog")
        .arg(keys)
        .args(["--format", format])
        .env_remove("SSLKEYLOGFILE");
    if let Some(o) = out {
        cmd.arg("-o").arg(o);
    }
    let o = cmd.output().expect("run pagetrace");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o.stdout
}

fn tmp(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name)
}

/// `(width, height)` from a PNG's IHDR chunk.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let be = |i: usize| u32::from_be_bytes(bytes[i..i + 4].try_into().unwrap());
    (be(16), be(20))
}

fn screenshot(chrome: &Path, html: &Path, png: &Path, w: u32, h: u32) {
    std::fs::remove_file(png).ok();
    let o = run_with_deadline(
        headless(chrome)
            .arg(format!("--screenshot={}", png.display()))
            .arg(format!("--window-size={w},{h}"))
            .arg(format!("file://{}", html.display())),
        120,
    );
    let bytes = std::fs::read(png).unwrap_or_else(|e| {
        panic!(
            "no screenshot from chromium ({e}): {}",
            String::from_utf8_lossy(&o.stderr)
        )
    });
    assert_eq!(png_size(&bytes), (w, h));
    assert!(
        bytes.len() > 10_000,
        "a blank screenshot? {} bytes",
        bytes.len()
    );
}

/// Copies a screenshot into `tests/snapshots/screenshots/` when asked to.
fn publish(png: &Path, name: &str) {
    if std::env::var_os("PAGETRACE_UPDATE_SCREENSHOTS").is_some_and(|v| !v.is_empty()) {
        let dir = root().join("tests/snapshots/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(png, dir.join(name)).unwrap();
        println!("wrote tests/snapshots/screenshots/{name}");
    }
}

/// The HTML must not make the browser fetch anything: no scripts, styles, fonts, images or
/// frames from elsewhere (the page's CSP would refuse them; none should be asked for).
fn assert_self_contained(dir: &str, html: &str) {
    let lower = html.to_ascii_lowercase();
    for needle in [
        "<script",
        "<link",
        "<img",
        "<iframe",
        "<object",
        "<embed",
        "<video",
        "<audio",
        "<source",
        " src=",
        " href=",
        "url(",
        "@import",
        "@font-face",
    ] {
        assert!(
            !lower.contains(needle),
            "{dir}: the page contains {needle:?}"
        );
    }
    assert!(html.contains("Content-Security-Policy") && html.contains("default-src 'none'"));
}

#[test]
fn html_in_chromium_has_one_bar_per_request() {
    let Some(chrome) = chromium("html_in_chromium_has_one_bar_per_request") else {
        return;
    };
    let fixtures = FIXTURES.iter().map(|d| {
        (
            d.to_string(),
            format!("fixtures/{d}/pageload.pcap"),
            format!("fixtures/{d}/pageload.keys"),
        )
    });
    let h3 = ["quic-v2-http3-dsb-sll.pcapng"]
        .iter()
        .filter(|_| common::shared_captures().is_some())
        .map(|n| {
            (
                n.to_string(),
                format!("../shared/captures/{n}"),
                format!("../shared/captures/{n}.keys"),
            )
        })
        .filter(|(_, c, k)| root().join(c).is_file() && root().join(k).is_file());
    for (dir, cap, keys) in fixtures.chain(h3) {
        let page = tmp(&format!("{dir}.html"));
        pagetrace_capture(&cap, &keys, "html", Some(&page));
        let text = std::fs::read_to_string(&page).unwrap();
        assert_self_contained(&dir, &text);
        let report: Value =
            serde_json::from_slice(&pagetrace_capture(&cap, &keys, "json", None)).unwrap();
        let requests = count_bars(&report);
        let opaque = report["connections"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["http"].as_array().unwrap().is_empty())
            .count();
        let o = run_with_deadline(
            headless(&chrome)
                .arg("--enable-logging=stderr")
                .arg("--dump-dom")
                .arg(format!("file://{}", page.display())),
            120,
        );
        let dom = String::from_utf8_lossy(&o.stdout);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{dir}: chromium failed: {err}");
        assert!(dom.contains("</html>"), "{dir}: no DOM: {err}");
        assert_eq!(
            dom.matches("class=\"bar\"").count(),
            requests,
            "{dir}: one bar per request of the report"
        );
        assert_eq!(
            dom.matches("class=\"cbar\"").count(),
            opaque,
            "{dir}: one bar per connection without a readable request"
        );
        assert_eq!(
            dom.matches("<details class=\"req\"").count(),
            requests + opaque,
            "{dir}: every bar opens its connection's journey"
        );
        // One `.p` phase element per phase; a request bar has at least its wait.
        assert!(dom.matches("class=\"p ").count() >= requests, "{dir}");
        // Chromium reports what the CSP refused; nothing may have been asked for.
        assert!(
            !err.contains("Refused to") && !err.contains("net::ERR_"),
            "{dir}: the page tried to load something: {err}"
        );
    }

    // The screenshot: the shown fixture, its first clear-text h2c request clicked open.
    let page = tmp(&format!("{SHOWN}.html"));
    let text = std::fs::read_to_string(&page).unwrap();
    let at = text
        .find("id=\"page-2\"")
        .and_then(|p| text[p..].find("<details class=\"req\">").map(|i| p + i))
        .expect("a second page with a request");
    let opened = format!(
        "{}<details class=\"req\" open>{}",
        &text[..at],
        &text[at + "<details class=\"req\">".len()..]
    );
    let open_page = tmp(&format!("{SHOWN}-open.html"));
    std::fs::write(&open_page, opened).unwrap();
    let png = tmp("html-waterfall.png");
    screenshot(&chrome, &open_page, &png, 1280, 860);
    publish(&png, "html-waterfall.png");
}

/// The requests of a report, one bar each: the TCP connections' exchanges and the QUIC
/// connections' (HTTP/3).
fn count_bars(report: &Value) -> usize {
    ["connections", "quic"]
        .iter()
        .filter_map(|k| report[*k].as_array())
        .flatten()
        .map(|c| c["http"].as_array().map_or(0, Vec::len))
        .sum()
}

/// The colours of the terminal screenshot (a dark theme, xterm's palette for 30-37/90-97).
fn ansi_colour(code: u32) -> Option<&'static str> {
    Some(match code {
        30 => "#3b3b3b",
        31 => "#f0524f",
        32 => "#5cc26f",
        33 => "#f2b01b",
        34 => "#4f8ef7",
        35 => "#c678dd",
        36 => "#2bbfa7",
        37 => "#d0d0d0",
        90 => "#7f848e",
        91..=97 => "#e6e6e6",
        _ => return None,
    })
}

/// The SGR sequences pagetrace writes (reset, bold, dim, foreground colours) as HTML spans;
/// any other escape sequence fails the test, since none should reach a terminal.
fn ansi_to_html(text: &str) -> String {
    let mut out = String::new();
    let mut open = false;
    let mut chars = text.chars().peekable();
    let (mut bold, mut dim, mut fg): (bool, bool, Option<&str>) = (false, false, None);
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            assert_eq!(chars.next(), Some('['), "an escape that is not CSI");
            let mut params = String::new();
            for d in chars.by_ref() {
                if d == 'm' {
                    break;
                }
                assert!(d.is_ascii_digit() || d == ';', "not an SGR sequence: {d:?}");
                params.push(d);
            }
            for p in params.split(';') {
                match p.parse::<u32>().unwrap_or(0) {
                    0 | 39 => (bold, dim, fg) = (false, false, None),
                    1 => bold = true,
                    2 => dim = true,
                    22 => (bold, dim) = (false, false),
                    n => fg = ansi_colour(n).or(fg),
                }
            }
            if open {
                out.push_str("</span>");
            }
            out.push_str(&format!(
                "<span style=\"color:{};font-weight:{};opacity:{}\">",
                fg.unwrap_or("#d0d0d0"),
                if bold { 700 } else { 400 },
                if dim { 0.6 } else { 1.0 }
            ));
            open = true;
            continue;
        }
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    if open {
        out.push_str("</span>");
    }
    out
}

/// Runs the waterfall in a `cols`×`rows` tmux terminal and returns its screen, escape
/// sequences included (`capture-pane -e`).
fn in_tmux(tmux: &Path, cols: u16, rows: u16, env: &str, session: &str) -> String {
    let d = fixture(SHOWN);
    let done = tmp(&format!("{session}.done"));
    std::fs::remove_file(&done).ok();
    // `COLUMNS` is exported by hand: pagetrace reads the width from it (see the README).
    let script = format!(
        "clear; {env} COLUMNS={cols} '{}' analyze '{}' --keylog '{}' --format waterfall; touch '{}'; sleep 60",
        env!("CARGO_BIN_EXE_pagetrace"),
        d.join("pageload.pcap").display(),
        d.join("pageload.keys").display(),
        done.display()
    );
    let sock = format!("pagetrace-test-{}", std::process::id());
    let ok = Command::new(tmux)
        .args([
            "-L",
            &sock,
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            session,
        ])
        .args(["-x", &cols.to_string(), "-y", &rows.to_string()])
        .args([
            "env",
            "-u",
            "NO_COLOR",
            "TERM=xterm-256color",
            "sh",
            "-c",
            &script,
        ])
        .status()
        .expect("tmux");
    assert!(ok.success());
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done.exists() {
        assert!(
            Instant::now() < deadline,
            "the waterfall did not finish in tmux"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(300));
    let o = Command::new(tmux)
        .args(["-L", &sock, "capture-pane", "-e", "-p", "-t", session])
        .output()
        .expect("tmux capture-pane");
    Command::new(tmux)
        .args(["-L", &sock, "kill-session", "-t", session])
        .status()
        .ok();
    String::from_utf8(o.stdout).expect("UTF-8 screen")
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\x1b' {
            for d in it.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn terminal_waterfall_fits_colours_and_screenshot() {
    // Piped, the waterfall has no colour.
    let piped = String::from_utf8(pagetrace(SHOWN, "waterfall", None)).unwrap();
    assert!(!piped.contains('\x1b'), "colour on a pipe");
    assert!(piped.contains("Page 1") && piped.contains("┬"));

    let Some(tmux) = find_program(&["tmux"]) else {
        assert!(
            !required(),
            "PAGETRACE_REQUIRE_CHROMIUM is set but tmux is not installed"
        );
        println!("terminal_waterfall_fits_colours_and_screenshot: skipped, tmux is not installed");
        return;
    };
    let (cols, rows) = (110u16, 48u16);
    let screen = in_tmux(&tmux, cols, rows, "", "wf");
    let plain = strip_ansi(&screen);
    assert!(
        screen.contains("\x1b["),
        "no colour on a terminal:\n{screen}"
    );
    // Every line fits: nothing was wrapped by the terminal (a wrapped line would leave a
    // line starting in the bar column, and the legend would be cut).
    for line in plain.lines() {
        assert!(line.chars().count() <= cols as usize, "too wide: {line}");
    }
    for want in [
        "Page 1",
        "Page 2",
        "http://www.example.test/",
        "301",
        "162 B",
        "0 ms",
        "┬",
        "░ DNS",
        "█ download",
    ] {
        assert!(plain.contains(want), "{want:?} not on the screen:\n{plain}");
    }
    // One line per request of the report (URLs that do not fit lose their scheme first,
    // then their middle), each starting with its method.
    let json: serde_json::Value =
        serde_json::from_slice(&pagetrace(SHOWN, "json", None)).expect("JSON report");
    let exchanges: usize = json["connections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["http"].as_array().unwrap().len())
        .sum();
    let request_lines = plain
        .lines()
        .filter(|l| {
            ["GET ", "HEAD ", "POST "].iter().any(|m| l.starts_with(m))
                && [" 200 ", " 204 ", " 301 ", " 304 ", " 404 "]
                    .iter()
                    .any(|s| l.contains(s))
        })
        .count();
    assert!(exchanges > 15, "decrypted requests are in the report");
    assert_eq!(request_lines, exchanges, "{plain}");

    // NO_COLOR, even on a terminal.
    let no_color = in_tmux(&tmux, cols, rows, "NO_COLOR=1", "wfnc");
    assert!(
        !no_color.contains("\x1b["),
        "colour despite NO_COLOR:\n{no_color}"
    );
    assert_eq!(
        strip_ansi(&no_color),
        plain,
        "the same drawing without colour"
    );

    let Some(chrome) = chromium("terminal_waterfall_fits_colours_and_screenshot") else {
        return;
    };
    let lines: Vec<&str> = screen.trim_end().lines().collect();
    let html = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><style>\
         body{{margin:0;background:#1e1f22}}\
         pre{{margin:0;padding:12px 14px;color:#d0d0d0;font:14px/1.25 'DejaVu Sans Mono',monospace}}\
         </style></head><body><pre>{}</pre></body></html>",
        ansi_to_html(&lines.join("\n"))
    );
    let page = tmp("terminal-waterfall.html");
    std::fs::write(&page, html).unwrap();
    let png = tmp("terminal-waterfall.png");
    // 110 columns of 14 px DejaVu Sans Mono (8.43 px) and the padding.
    let height = 24 + 18 * lines.len() as u32 + 8;
    screenshot(&chrome, &page, &png, 960, height);
    publish(&png, "terminal-waterfall.png");
}
