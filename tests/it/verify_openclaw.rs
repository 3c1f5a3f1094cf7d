//! `clawposture verify`'s OpenClaw items with the real OpenClaw CLI
//! (`$CLAWPOSTURE_OPENCLAW`, the wrapper .ci/support/openclaw-setup.sh installs): they pass on
//! clawposture's own output for every preset, and fail when OpenClaw sees something else.
//! Without the CLI these tests say SKIPPED; in CI they fail.

use crate::support::verify as verify_common;

use std::path::{Path, PathBuf};

use serde_json::json;
use verify_common::*;

/// Each verify run starts several Node processes; on two cores the runs take turns.
static NODE_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn openclaw() -> Option<PathBuf> {
    match std::env::var_os("CLAWPOSTURE_OPENCLAW") {
        Some(p) if !p.is_empty() => Some(PathBuf::from(p)),
        _ if std::env::var_os("CI").is_some() => panic!(
            "CI is set but CLAWPOSTURE_OPENCLAW is not: .ci/run installs OpenClaw and sets it"
        ),
        _ => {
            skipped(
                "needs the real OpenClaw CLI: set CLAWPOSTURE_OPENCLAW (bash .ci/support/openclaw-setup.sh prints it)",
            );
            None
        }
    }
}

/// Node's compile cache beside the wrapper (as openclaw-check.sh uses it): only speed.
fn node_env(oc: &Path) -> Vec<(String, String)> {
    let cache = oc
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("compile-cache"));
    cache
        .filter(|c| c.is_dir())
        .map(|c| vec![("NODE_COMPILE_CACHE".to_string(), c.display().to_string())])
        .unwrap_or_default()
}

fn run_verify(h: &Home, oc: &Path) -> Verified {
    let dead = h.path("no-engine.sock");
    let env = node_env(oc);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    h.verify_with(
        &[
            "--openclaw",
            oc.to_str().expect("utf-8"),
            "--docker-host",
            &format!("unix://{}", dead.display()),
        ],
        &env,
    )
}

#[test]
fn openclaw_items_pass_on_every_preset_clawposture_writes() {
    let Some(oc) = openclaw() else { return };
    let _turn = NODE_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    for threat in ["private", "group", "public"] {
        let h = Home::new();
        h.put_config(TELEGRAM);
        h.apply(threat, "docker-rootless", &answers(threat));
        let v = run_verify(&h, &oc);
        assert_eq!(
            v.status("openclaw.binary"),
            "pass",
            "{threat}: {}",
            v.text("openclaw.binary")
        );
        // Off the network: an empty namespace when this machine allows one.
        let isolated = v
            .text("openclaw.binary")
            .contains("empty network namespace");
        assert!(
            isolated,
            "{threat}: OpenClaw was not isolated: {}",
            v.text("openclaw.binary")
        );
        assert_eq!(
            v.status("openclaw.validate"),
            "pass",
            "{threat}: {}",
            v.text("openclaw.validate")
        );
        let agents: Vec<String> = v.report["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| {
                i["id"]
                    .as_str()
                    .filter(|id| id.starts_with("openclaw.sandbox["))
                    .map(str::to_string)
            })
            .collect();
        let want: &[&str] = match threat {
            "group" => &["openclaw.sandbox[main]", "openclaw.sandbox[group]"],
            _ => &["openclaw.sandbox[main]"],
        };
        assert_eq!(agents, want, "{threat}");
        for id in want {
            assert_eq!(v.status(id), "pass", "{threat}: {id}: {}", v.text(id));
        }
        assert_eq!(
            v.status("openclaw.audit"),
            "pass",
            "{threat}: {}",
            v.text("openclaw.audit")
        );
        let audit = v.text("openclaw.audit");
        assert!(
            audit.contains("gateway.trusted_proxies_missing") && audit.contains("expected"),
            "{threat}: {audit}"
        );
        if threat != "private" && audit.contains("multi_user_heuristic") {
            assert!(
                audit.contains("expected for this preset"),
                "{threat}: {audit}"
            );
        }
        // The config was only read.
        let after = std::fs::read_to_string(h.config()).expect("config");
        assert!(
            !after.contains("\"meta\""),
            "{threat}: OpenClaw wrote the config"
        );
    }
}

#[test]
fn openclaw_items_fail_when_openclaw_sees_something_else() {
    let Some(oc) = openclaw() else { return };
    let _turn = NODE_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let h = Home::new();
    h.apply("private", "docker-rootless", &[]);
    h.edit(|c| {
        c["agents"]["defaults"]["sandbox"]["bogusKey"] = json!(1);
        c["tools"]["elevated"]["enabled"] = json!(true);
    });
    let v = run_verify(&h, &oc);
    v.assert_item("openclaw.validate", "fail", "bogusKey");
    assert_eq!(
        v.status("openclaw.sandbox[main]"),
        "fail",
        "{}",
        v.text("openclaw.sandbox[main]")
    );
    assert_eq!(v.code, Some(1));

    // A host approvals policy like the one onboarding seeds, stored by OpenClaw itself.
    let h = Home::new();
    h.apply("private", "docker-rootless", &[]);
    let mut set = std::process::Command::new(&oc);
    set.args(["approvals", "set", "--stdin"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", h.path("home"))
        .env("OPENCLAW_HOME", h.path("home"))
        .env("OPENCLAW_STATE_DIR", h.state())
        .env("OPENCLAW_CONFIG_PATH", h.config())
        .env("OPENCLAW_OFFLINE", "1")
        .env("OPENCLAW_NO_AUTO_UPDATE", "1")
        .envs(node_env(&oc))
        .current_dir(h.state())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = set.spawn().expect("openclaw approvals set");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(br#"{ version: 1, defaults: { security: "full", ask: "off" } }"#)
            .expect("write");
    }
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "approvals set: {}{}",
        stdout(&out),
        stderr(&out)
    );
    let v = h.verify(&["--no-openclaw", "--docker-host", "unix:///nonexistent.sock"]);
    if which_sqlite3() {
        assert_eq!(
            v.status("gateway.exec_approvals"),
            "fail",
            "{}",
            v.text("gateway.exec_approvals")
        );
        assert!(
            v.text("gateway.exec_approvals")
                .contains("openclaw.sqlite#exec_approvals_config: defaults: security"),
            "{}",
            v.text("gateway.exec_approvals")
        );
    } else {
        assert_eq!(
            v.status("gateway.exec_approvals"),
            "skipped",
            "{}",
            v.text("gateway.exec_approvals")
        );
    }
}

/// A config no preset fits, with none named or applied: the sandbox OpenClaw reports can only
/// be compared with the file's own, which proves nothing about the posture (every sandbox off
/// agreed with itself and passed). The item is skipped, saying why and what to do.
#[test]
fn openclaw_sandbox_items_are_skipped_without_a_preset_to_judge_against() {
    let Some(oc) = openclaw() else { return };
    let _turn = NODE_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let h = Home::new();
    h.put_config(
        "{ gateway: { mode: 'local' }, agents: { defaults: { sandbox: { mode: 'off' } } } }\n",
    );
    let v = run_verify(&h, &oc);
    v.assert_item("openclaw.sandbox[main]", "skipped", "no threat model");
}

fn which_sqlite3() -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("sqlite3").is_file()))
}
