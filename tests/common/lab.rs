//! What the tests that record real software in network namespaces share: whether they can
//! run here, and skipping (or failing, when required) when they cannot.

use std::path::PathBuf;
use std::process::Command;

/// `tests/lab`: the recorder, its venv (aioquic) and node_modules (playwright-core).
pub fn dir() -> PathBuf {
    super::root().join("tests/lab")
}

/// Whether this process runs as root (the namespaces need it).
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

/// Why a test that makes network namespaces cannot run here: it is not root.
pub fn not_root() -> Option<String> {
    (!is_root()).then(|| "not root (the lab uses network namespaces)".to_string())
}

/// Why the lab cannot run here: not root, or `tests/lab/setup.sh` not run (its Python
/// venv; with `browser`, its node_modules too).
pub fn missing(browser: bool) -> Option<String> {
    if let Some(why) = not_root() {
        return Some(why);
    }
    let venv = dir().join(".venv/bin/python").exists();
    if !venv || (browser && !dir().join("node_modules").is_dir()) {
        return Some("tests/lab/setup.sh has not been run".into());
    }
    None
}

/// Whether `cmd` is on the PATH.
pub fn have(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {cmd} >/dev/null 2>&1")])
        .status()
        .is_ok_and(|s| s.success())
}

/// The first of `tools` not on the PATH.
pub fn missing_tool(tools: &[&str]) -> Option<String> {
    tools
        .iter()
        .find(|t| !have(t))
        .map(|t| format!("{t} is not installed"))
}

/// True (after saying why) when the test must be skipped; panics instead when `required`
/// (an environment variable CI sets) is set.
///
/// With `PAGETRACE_LAB_LATER` set and `required` not, a test that could run is skipped
/// too: CI's `cargo test` step sets it, as each lab test runs in a step of its own after it
/// (required there), rather than twice.
pub fn skip(why: Option<String>, required: &str) -> bool {
    let later = std::env::var_os("PAGETRACE_LAB_LATER").is_some();
    match why {
        None if later && std::env::var_os(required).is_none() => {
            eprintln!("deferred: PAGETRACE_LAB_LATER is set (it runs with {required} later)");
            true
        }
        None => false,
        Some(why) if std::env::var_os(required).is_some() => {
            panic!("{required} is set but {why}")
        }
        Some(why) => {
            eprintln!("skipped: {why}");
            true
        }
    }
}

/// [`skip`] for the lab tests (`PAGETRACE_LAB_REQUIRED`).
pub fn skip_lab(why: Option<String>) -> bool {
    skip(why, "PAGETRACE_LAB_REQUIRED")
}

/// Runs `tests/lab/record.py` with `args`. A navigation Chromium itself gave up on
/// (drive.js names its error, such as `net::ERR_NETWORK_CHANGED`) is the lab's failure,
/// not pagetrace's: it is recorded once more, and the first failure is printed. `Err`
/// with the output when it fails otherwise, or twice.
pub fn record(args: &[&std::ffi::OsStr]) -> Result<(), String> {
    let mut failures = Vec::new();
    for _attempt in 0..2 {
        let o = Command::new("python3")
            .arg(dir().join("record.py"))
            .args(args)
            .output()
            .expect("run tests/lab/record.py");
        if o.status.success() {
            return Ok(());
        }
        let why = format!(
            "{}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        let browser_gave_up = why.contains("drive.js: navigation ");
        eprintln!("the lab failed:\n{why}");
        failures.push(why);
        if !browser_gave_up {
            break;
        }
        eprintln!("the browser's navigation failed; recording once more");
    }
    Err(failures.join("\n---\n"))
}
