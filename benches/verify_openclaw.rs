//! `clawposture verify` with its OpenClaw phase against one `openclaw security audit --json`,
//! side by side on the same 30-agent config (`cargo bench --bench verify_openclaw`; a plain
//! main, prints figures). Needs `CLAWPOSTURE_OPENCLAW` (else SKIPPED). Goal: verify <= 1.5x the
//! audit. Runs alternate (audit, verify, audit, verify, …) so machine load hits both alike;
//! `--runs N` sets how many of each (default 3).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const AGENTS: usize = 30;

fn main() {
    let Some(oc) = std::env::var_os("CLAWPOSTURE_OPENCLAW").map(PathBuf::from) else {
        eprintln!("SKIPPED: set CLAWPOSTURE_OPENCLAW to the real openclaw CLI");
        return;
    };
    let runs: usize = std::env::args()
        .skip_while(|a| a != "--runs")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(3);
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_clawposture"));
    let scratch = tempfile::tempdir().expect("tempdir");
    let state = scratch.path().join("state");
    std::fs::create_dir_all(&state).expect("mkdir");
    let config = state.join("openclaw.json");
    let entries: serde_json::Map<String, serde_json::Value> = (0..AGENTS)
        .map(|i| {
            let id = if i == 0 {
                "main".into()
            } else {
                format!("agent{i}")
            };
            (id, serde_json::json!({}))
        })
        .collect();
    std::fs::write(
        &config,
        serde_json::json!({
            "agents": {"ownership": "explicit", "entries": entries},
            "channels": {"telegram": {"botToken": {"source": "env", "provider": "default", "id": "TELEGRAM_BOT_TOKEN"}}}
        })
        .to_string(),
    )
    .expect("config");
    // The private preset on it: every agent sandboxed (non-main: two explain cases each), the
    // Policy plugin on.
    let applied = Command::new(&bin)
        .args([
            "apply",
            "--yes",
            "--threat",
            "private",
            "--engine",
            "docker-rootless",
            // The config is what matters here, whatever engines this machine runs.
            "--no-detect",
        ])
        .args([
            "--owner",
            "telegram:123456789",
            "--accept-risk",
            "--same-gateway",
        ])
        .arg("--config")
        .arg(&config)
        .arg("--state-dir")
        .arg(&state)
        .output()
        .expect("apply");
    assert!(
        matches!(applied.status.code(), Some(0 | 1))
            && state.join("clawposture.policy.jsonc").exists(),
        "apply failed: {}{}",
        String::from_utf8_lossy(&applied.stdout),
        String::from_utf8_lossy(&applied.stderr)
    );
    let cache = oc
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("compile-cache"))
        .filter(|d| d.is_dir());
    let dead = format!("unix://{}", scratch.path().join("no-engine.sock").display());

    let audit = || {
        // As verify runs it: read-only, offline, in an empty network namespace.
        let mut c = Command::new("unshare");
        c.arg("-n")
            .arg(&oc)
            .args(["security", "audit", "--json"])
            .env("OPENCLAW_CONFIG_PATH", &config)
            .env("OPENCLAW_STATE_DIR", &state)
            .env("OPENCLAW_CONFIG_READONLY", "1")
            .env("OPENCLAW_NO_AUTO_UPDATE", "1")
            .env("OPENCLAW_OFFLINE", "1")
            .env("npm_config_offline", "true")
            .current_dir(&state);
        if let Some(cc) = &cache {
            c.env("NODE_COMPILE_CACHE", cc);
        }
        time(c)
    };
    let verify_cmd = || {
        let mut c = Command::new(&bin);
        c.args(["verify", "--json", "--openclaw"])
            .arg(&oc)
            .arg("--config")
            .arg(&config)
            .arg("--state-dir")
            .arg(&state)
            .args(["--docker-host", &dead]);
        if let Some(cc) = &cache {
            c.env("NODE_COMPILE_CACHE", cc);
        }
        c
    };
    let verify = || time(verify_cmd());
    // What the phase ran (the `openclaw.binary` item's details), from one more run.
    let ran = || -> String {
        let out = verify_cmd().output().expect("verify");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        v["items"]
            .as_array()
            .and_then(|i| i.iter().find(|i| i["id"] == "openclaw.binary"))
            .map(|i| i["details"].to_string())
            .unwrap_or_default()
    };
    // One warm-up of each (Node's compile cache, the page cache).
    let _ = audit();
    let _ = verify();
    let mut a = Vec::new();
    let mut v = Vec::new();
    for _ in 0..runs {
        a.push(audit());
        v.push(verify());
    }
    let (ma, mv) = (median(&mut a), median(&mut v));
    println!("{AGENTS}-agent config, {runs} run(s) each, medians (all runs):");
    println!(
        "  openclaw security audit --json   {:6.1} s   {:?}",
        ma.as_secs_f64(),
        secs(&a)
    );
    println!(
        "  clawposture verify (OpenClaw)    {:6.1} s   {:?}",
        mv.as_secs_f64(),
        secs(&v)
    );
    println!("  verify's OpenClaw phase: {}", ran());
    let ratio = mv.as_secs_f64() / ma.as_secs_f64();
    println!(
        "  ratio verify / audit             {ratio:6.2}   (goal <= 1.5: {})",
        if ratio <= 1.5 { "met" } else { "NOT met" }
    );
}

fn time(mut c: Command) -> Duration {
    c.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let t = Instant::now();
    let s = c.status().expect("run");
    let d = t.elapsed();
    // verify exits 1 here (no engine answers); anything else is a broken run.
    assert!(matches!(s.code(), Some(0 | 1)), "{c:?} exited {s:?}");
    d
}

fn median(d: &mut [Duration]) -> Duration {
    d.sort();
    d[d.len() / 2]
}

fn secs(d: &[Duration]) -> Vec<String> {
    d.iter()
        .map(|d| format!("{:.1}", d.as_secs_f64()))
        .collect()
}
