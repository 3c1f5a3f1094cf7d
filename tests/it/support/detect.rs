//! Helpers shared by the detection integration tests.

use super::engines as engines_common;
#[allow(unused_imports)] // each test crate uses a different subset
pub use engines_common::{engines_env, skipped};

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use clawposture::edge::detect::{DetectOptions, Report, detect};

/// Env var through which a parent test hands the endpoint to its unprivileged child.
const CHILD_ENDPOINT: &str = "CLAWPOSTURE_CHILD_DOCKER_HOST";
const REPORT_MARK: &str = "CLAWPOSTURE_REPORT=";
pub const NOBODY: u32 = 65534;

pub fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

/// Options that see nothing of this machine: empty HOME, PATH and system root under `dir`,
/// no XDG_RUNTIME_DIR. Tests add exactly what they mean to show.
pub fn isolated(dir: &Path) -> DetectOptions {
    let home = dir.join("home");
    let bin = dir.join("bin");
    let root = dir.join("root");
    for d in [&home, &bin, &root] {
        std::fs::create_dir_all(d).expect("scratch dirs");
    }
    let mut o = DetectOptions::from_env(Some(dir.join("openclaw.json")));
    o.docker_host = None;
    o.docker_context = None;
    o.docker_config = None;
    o.xdg_runtime_dir = None;
    o.home = Some(home);
    o.path = Some(bin.into_os_string());
    o.system_root = root;
    o
}

/// Generous per-probe budget for the live daemons: a loaded CI machine must not turn a
/// slow answer into a wrong verdict. The default budget is exercised by the bench.
pub const LIVE_TIMEOUT: Duration = Duration::from_secs(10);

pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

/// Put an executable script named `name` into `dir`.
pub fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).expect("write script");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod script");
    p
}

/// Detect as user `nobody` (root bypasses socket permissions, so a permission test run as
/// root would prove nothing). Re-runs this test binary's `detect_as_child` test under
/// `setpriv`; the child prints its report as JSON.
pub fn detect_as_nobody(endpoint: &str) -> Report {
    let exe = std::env::current_exe().expect("current_exe");
    // The test binary may sit under a directory nobody cannot enter (e.g. /root).
    let dir = tempdir();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
        .expect("chmod dir");
    let copy = dir.path().join("detect-child");
    std::fs::copy(&exe, &copy).expect("copy test binary");
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).expect("chmod copy");
    let out = Command::new("setpriv")
        .args([
            format!("--reuid={NOBODY}"),
            format!("--regid={NOBODY}"),
            "--clear-groups".into(),
        ])
        .arg(&copy)
        .args([
            "--exact",
            "detect_failures::detect_as_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENDPOINT, endpoint)
        .current_dir("/")
        .output()
        .expect("run setpriv (util-linux)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json = stdout
        .lines()
        .find_map(|l| l.split_once(REPORT_MARK).map(|(_, json)| json))
        .unwrap_or_else(|| {
            panic!(
                "child printed no report (status {}):\n{stdout}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            )
        });
    serde_json::from_str(json).expect("child report is a Report")
}

/// Body of each crate's `detect_as_child` test: does nothing unless started by
/// [`detect_as_nobody`].
pub fn child_main() {
    let Ok(endpoint) = std::env::var(CHILD_ENDPOINT) else {
        return;
    };
    let dir = tempdir();
    let mut o = isolated(dir.path());
    o.docker_host = Some(endpoint);
    o.probe_timeout = LIVE_TIMEOUT;
    let report = detect(&o);
    // On its own line: the test harness prints "test detect_as_child ..." without a newline.
    println!(
        "\n{REPORT_MARK}{}",
        serde_json::to_string(&report).expect("serialise report")
    );
}
