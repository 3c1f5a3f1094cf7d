//! `clawposture verify` without engines or OpenClaw: drift, modes, the token, a stopped daemon,
//! the Gateway's real listening address, host exec approvals, an unsafe `openclaw` path, the
//! exit codes and the JSON shape. Runs everywhere.

use crate::support::verify as verify_common;

use std::os::unix::fs::PermissionsExt;

use serde_json::json;
use verify_common::*;

/// A written private config and the verify flags that keep a run quick and local: no OpenClaw,
/// an engine endpoint where nothing listens.
fn private(h: &Home) -> Vec<String> {
    h.apply("private", "docker-rootless", &[]);
    let none = h.path("no-engine.sock");
    vec![
        "--no-openclaw".into(),
        "--docker-host".into(),
        format!("unix://{}", none.display()),
    ]
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn a_fresh_apply_passes_its_static_items() {
    let h = Home::new();
    let flags = private(&h);
    let v = h.verify(&args(&flags));
    for id in STATIC_IDS {
        assert_eq!(v.status(id), "pass", "{id}: {}", v.pretty());
    }
    assert_eq!(v.report["preset"], "private");
    // The engine is down: that is a failure, so the exit code is 1.
    assert_eq!(v.status("engine.reachable"), "fail");
    assert_eq!(v.code, Some(1));
}

#[test]
fn a_drifted_key_fails_static_drift_by_name() {
    let h = Home::new();
    let flags = private(&h);
    h.edit(|c| {
        c["gateway"]["bind"] = json!("lan");
        c["tools"]["elevated"]["enabled"] = json!(true);
    });
    let v = h.verify(&args(&flags));
    assert_eq!(v.status("static.drift"), "fail");
    let text = v.text("static.drift");
    assert!(text.contains("gateway.bind: found \\\"lan\\\""), "{text}");
    assert!(text.contains("tools.elevated.enabled"), "{text}");
    assert!(
        v.item("static.drift")["fix"]
            .as_str()
            .unwrap_or("")
            .contains("clawposture apply --threat private")
    );
    assert_eq!(v.code, Some(1));
}

#[test]
fn a_stopped_daemon_and_a_missing_socket_fail_the_engine_and_live_items_with_the_reason() {
    let h = Home::new();
    h.apply("private", "docker-rootless", &[]);
    // A socket file nobody listens on: what a stopped daemon leaves behind.
    let stale = h.path("stale.sock");
    drop(std::os::unix::net::UnixListener::bind(&stale).expect("bind"));
    let v = h.verify(&[
        "--live",
        "--no-openclaw",
        "--docker-host",
        &format!("unix://{}", stale.display()),
    ]);
    assert_eq!(v.status("engine.reachable"), "fail");
    assert!(
        v.text("engine.reachable").contains("nothing listens"),
        "{}",
        v.text("engine.reachable")
    );
    assert_eq!(v.status("engine.image"), "skipped");
    // The live probe cannot start either, and says why instead of passing.
    assert_eq!(v.status("live.container"), "fail");
    assert!(
        v.text("live.container").contains("could not be reached"),
        "{}",
        v.text("live.container")
    );
    assert_eq!(v.code, Some(1));
    let missing = h.path("missing.sock");
    let v = h.verify(&[
        "--no-openclaw",
        "--docker-host",
        &format!("unix://{}", missing.display()),
    ]);
    assert!(
        v.text("engine.reachable").contains("no socket at"),
        "{}",
        v.text("engine.reachable")
    );
}

#[test]
fn loose_modes_fail_and_the_token_is_never_printed() {
    let h = Home::new();
    let flags = private(&h);
    std::fs::set_permissions(h.config(), std::fs::Permissions::from_mode(0o644)).expect("chmod");
    std::fs::set_permissions(h.state(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let v = h.verify(&args(&flags));
    assert_eq!(v.status("static.config_perms"), "fail");
    assert!(v.text("static.config_perms").contains("644"));
    assert_eq!(v.status("static.state_dir_perms"), "fail");
    assert_eq!(v.status("static.token"), "pass");
    let env = std::fs::read_to_string(h.state().join(".env")).expect(".env");
    let token = env
        .lines()
        .find_map(|l| l.strip_prefix("OPENCLAW_GATEWAY_TOKEN="))
        .expect("token line");
    assert!(token.len() >= 24);
    let text = h.run(&[
        "verify",
        "--config",
        h.config().to_str().unwrap(),
        "--state-dir",
        h.state().to_str().unwrap(),
        "--no-openclaw",
        "--docker-host",
        "unix:///nonexistent.sock",
    ]);
    for out in [v.pretty(), v.stderr.clone(), stdout(&text), stderr(&text)] {
        assert!(!out.contains(token), "the token leaked");
    }
    // A short token fails (its length is shown, never the value).
    std::fs::write(
        h.state().join(".env"),
        "OPENCLAW_GATEWAY_TOKEN=short-secret\n",
    )
    .expect("write");
    let v = h.verify(&args(&flags));
    assert_eq!(v.status("static.token"), "fail");
    assert!(
        v.text("static.token").contains("12 characters"),
        "{}",
        v.text("static.token")
    );
    assert!(!v.pretty().contains("short-secret"));
}

#[test]
fn strict_turns_skipped_into_failure_and_a_missing_config_fails() {
    let h = Home::new();
    h.apply("private", "none", &[]);
    // No sandbox, so no engine items; nothing listens on the Gateway port: skipped.
    let v = h.verify(&["--no-openclaw"]);
    assert!(
        v.ids("skipped").contains(&"gateway.listen".to_string()),
        "{}",
        v.pretty()
    );
    assert!(v.ids("fail").is_empty(), "{}", v.pretty());
    assert_eq!(v.code, Some(0));
    let strict = h.verify(&["--no-openclaw", "--strict"]);
    assert_eq!(strict.code, Some(1));
    assert_eq!(strict.report["ok"], false);
    std::fs::remove_file(h.config()).expect("rm");
    let gone = h.verify(&["--no-openclaw"]);
    assert_eq!(gone.status("static.config_parses"), "fail");
    assert_eq!(gone.code, Some(1));
}

#[test]
fn the_gateway_must_really_listen_on_loopback() {
    let h = Home::new();
    let flags = private(&h);
    // Listening sockets only: nothing is ever connected or sent.
    let lo = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = lo.local_addr().expect("addr").port();
    h.edit(|c| c["gateway"]["port"] = json!(port));
    let v = h.verify(&args(&flags));
    assert_eq!(
        v.status("gateway.listen"),
        "pass",
        "{}",
        v.text("gateway.listen")
    );
    let any = std::net::TcpListener::bind("0.0.0.0:0").expect("bind any");
    let port = any.local_addr().expect("addr").port();
    h.edit(|c| c["gateway"]["port"] = json!(port));
    let v = h.verify(&args(&flags));
    assert_eq!(v.status("gateway.listen"), "fail");
    assert!(
        v.text("gateway.listen").contains("0.0.0.0"),
        "{}",
        v.text("gateway.listen")
    );
}

#[test]
fn seeded_full_exec_approvals_widen_the_preset() {
    let h = Home::new();
    let flags = private(&h);
    let v = h.verify(&args(&flags));
    assert_eq!(v.status("gateway.exec_approvals"), "pass");
    // What onboarding seeds: host exec with no allowlist and no prompt (legacy file form).
    let doc = json!({"version": 1, "socket": {"path": "/x.sock", "token": "socket-secret-token"}, "defaults": {"security": "full", "ask": "off"}, "agents": {}});
    std::fs::write(h.state().join("exec-approvals.json"), doc.to_string()).expect("write");
    let v = h.verify(&args(&flags));
    assert_eq!(v.status("gateway.exec_approvals"), "fail");
    assert!(
        v.text("gateway.exec_approvals")
            .contains("security \\\"full\\\""),
        "{}",
        v.text("gateway.exec_approvals")
    );
    assert!(!v.pretty().contains("socket-secret-token"));
}

#[test]
fn exec_approvals_are_not_passed_without_a_preset_to_judge_against() {
    let h = Home::new();
    // No preset matches this file: judged against its own exec mode, approvals that leave
    // "full" as it is would pass.
    h.put_config("{ gateway: { mode: 'local' }, tools: { exec: { mode: 'full' } } }\n");
    let v = h.verify(&["--no-openclaw"]);
    assert_eq!(
        v.report["preset"],
        serde_json::Value::Null,
        "{}",
        v.pretty()
    );
    v.assert_item("gateway.exec_approvals", "skipped", "no threat model");
    // A widening of what the file itself says is still a fact, and still fails.
    h.put_config("{ gateway: { mode: 'local' }, tools: { exec: { mode: 'ask' } } }\n");
    let doc = json!({"version": 1, "defaults": {"security": "full", "ask": "off"}, "agents": {}});
    std::fs::write(h.state().join("exec-approvals.json"), doc.to_string()).expect("write");
    let v = h.verify(&["--no-openclaw"]);
    assert_eq!(
        v.status("gateway.exec_approvals"),
        "fail",
        "{}",
        v.text("gateway.exec_approvals")
    );
}

#[test]
fn an_openclaw_binary_others_can_replace_is_refused_and_not_run() {
    let h = Home::new();
    h.apply("private", "none", &[]);
    let dir = h.path("shared-bin");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let fake = dir.join("openclaw");
    let ran = h.path("ran");
    std::fs::write(&fake, format!("#!/bin/sh\ntouch '{}'\n", ran.display())).expect("write");
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let v = h.verify(&["--openclaw", fake.to_str().expect("utf-8")]);
    assert_eq!(v.status("openclaw.binary"), "fail");
    assert!(
        v.text("openclaw.binary").contains("world-writable"),
        "{}",
        v.text("openclaw.binary")
    );
    for id in [
        "openclaw.validate",
        "openclaw.audit",
        "openclaw.sandbox[main]",
    ] {
        assert_eq!(v.status(id), "skipped", "{id}");
    }
    assert!(!ran.exists(), "the refused binary was run");
}

#[test]
fn the_json_report_has_the_documented_shape() {
    let h = Home::new();
    let flags = private(&h);
    let v = h.verify(&args(&flags));
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/verify-json.md"),
    )
    .expect("docs/verify-json.md");
    assert_eq!(v.report["schema"], "clawposture.verify/1");
    assert!(doc.contains("clawposture.verify/1"));
    for k in [
        "schema",
        "ok",
        "exit_code",
        "strict",
        "interrupted",
        "config",
        "state_dir",
        "preset",
        "engine",
        "endpoint",
        "counts",
        "items",
    ] {
        assert!(v.report.get(k).is_some(), "report lacks {k}");
        assert!(
            doc.contains(&format!("`{k}`")),
            "docs/verify-json.md does not document {k}"
        );
    }
    for item in v.report["items"].as_array().expect("items") {
        for k in [
            "id", "group", "title", "status", "reason", "fix", "details", "doc",
        ] {
            assert!(item.get(k).is_some(), "item lacks {k}: {item}");
        }
        assert!(["pass", "fail", "skipped"].contains(&item["status"].as_str().unwrap_or("")));
        assert!(
            doc.contains(&format!("`{}`", item["id"].as_str().unwrap_or("?")))
                || item["id"].as_str().unwrap_or("").contains('['),
            "undocumented id {}",
            item["id"]
        );
    }
    assert_eq!(v.report["exit_code"], v.code.unwrap_or(-1));
}

#[test]
fn advanced_answers_chosen_with_apply_are_not_drift_from_the_ledger_or_when_verify_is_told() {
    let h = Home::new();
    let chosen = ["--sandbox-network", "bridge", "--workspace-access", "rw"];
    h.apply("private", "docker-rootless", &chosen);
    let none = h.path("no-engine.sock");
    let flags = vec![
        "--no-openclaw".to_string(),
        "--docker-host".into(),
        format!("unix://{}", none.display()),
    ];
    // Told: both values are the user's, not drift.
    let mut told = flags.clone();
    told.extend(chosen.iter().map(|s| s.to_string()));
    let v = h.verify(&args(&told));
    assert_eq!(v.status("static.drift"), "pass", "{}", v.pretty());
    // Not told: the ledger says they were chosen.
    let v = h.verify(&args(&flags));
    assert_eq!(v.status("static.drift"), "pass", "{}", v.pretty());
    // Not told and no ledger: the file cannot tell a choice from a hand edit, so both keys
    // drift, and the fix names the flags that say it was chosen.
    let ledger = h.state().join("clawposture-ledger.json");
    let kept = std::fs::read(&ledger).expect("ledger");
    std::fs::remove_file(&ledger).expect("remove the ledger");
    let v = h.verify(&args(&flags));
    std::fs::write(&ledger, kept).expect("put the ledger back");
    assert_eq!(v.status("static.drift"), "fail");
    let fix = v.item("static.drift")["fix"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        fix.contains("--workspace-access rw") && fix.contains("--sandbox-network bridge"),
        "{fix}"
    );
    // The checklist written with the config carries the command with the flags.
    let list =
        std::fs::read_to_string(h.state().join("clawposture-checklist.md")).expect("checklist");
    for cmd in [
        "clawposture verify --workspace-access rw --sandbox-network bridge",
        "clawposture plan --threat private --engine docker-rootless --no-detect --workspace-access rw --sandbox-network bridge --config",
    ] {
        assert!(list.contains(cmd), "{cmd}:\n{list}");
    }
    // The by-hand drift check, run as the checklist writes it, finds nothing to change.
    let by_hand = list
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("clawposture plan "))
        .expect("the by-hand drift command");
    let words: Vec<&str> = by_hand.split_whitespace().skip(1).collect();
    let out = h.run(&words);
    assert!(
        crate::support::homes::applied(&out) && stdout(&out).contains("Nothing to change"),
        "{by_hand}:\n{}{}",
        stdout(&out),
        stderr(&out)
    );
}

#[test]
fn apply_checks_what_it_wrote_with_the_answers_it_was_given() {
    let h = Home::new();
    let config = h.config();
    let state = h.state();
    let none = h.path("no-engine.sock");
    let host = format!("unix://{}", none.display());
    let out = h.run(&[
        "apply",
        "--yes",
        "--json",
        "--threat",
        "private",
        "--engine",
        "docker-rootless",
        "--no-detect",
        "--sandbox-network",
        "bridge",
        "--docker-host",
        &host,
        "--config",
        config.to_str().expect("utf-8"),
        "--state-dir",
        state.to_str().expect("utf-8"),
    ]);
    assert!(
        crate::support::homes::applied(&out),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("apply --json");
    let drift = v["checks"]["items"]
        .as_array()
        .and_then(|items| items.iter().find(|i| i["id"] == "static.drift"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(drift["status"], "pass", "{drift}");
}

#[test]
fn an_openclaw_path_in_the_environment_is_a_default_that_no_openclaw_overrides() {
    // Once a usage error ("cannot be used with '--openclaw <PATH>'") when the variable was set.
    let h = Home::new();
    let flags = private(&h);
    let v = h.verify_with(
        &args(&flags),
        &[("CLAWPOSTURE_OPENCLAW", "/nonexistent/openclaw")],
    );
    assert_ne!(v.code, Some(2), "{}", v.stderr);
    assert!(
        v.report["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|i| !i["id"].as_str().unwrap_or("").starts_with("openclaw.")),
        "--no-openclaw runs no OpenClaw item: {}",
        v.pretty()
    );
}

#[test]
fn statuses_have_no_colour_through_a_pipe() {
    // Through a pipe (not a terminal): no escape codes at all.
    let h = Home::new();
    let flags = private(&h);
    let mut c = h.cmd(&["verify"]);
    c.args(args(&flags))
        .arg("--config")
        .arg(h.config())
        .arg("--state-dir")
        .arg(h.state());
    let out = c.output().expect("verify");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("PASS  static.drift"), "{text}");
    assert!(
        !text.contains('\x1b'),
        "escape codes through a pipe: {text}"
    );
}
