//! `clawposture verify --live` against real daemons: rootful Docker, rootless Docker and
//! rootless Podman from `.ci/support/engines.sh` (`$CLAWPOSTURE_ENGINES_ENV`), with the
//! locally imported probe image. Without them these tests say SKIPPED; in CI they fail.
//!
//! No sleeps: the tests wait on the process (its stderr line, its exit) and on the engine API.

use crate::support::verify as verify_common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use clawposture::edge::verify::live;
use serde_json::json;
use verify_common::*;

const PRESETS: [&str; 3] = ["private", "group", "public"];

/// Every live run first removes probe containers of dead clawposture processes, so a test that
/// keeps a killed run's container must not overlap another live run: these tests take turns.
static ENGINE_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn turn() -> std::sync::MutexGuard<'static, ()> {
    ENGINE_LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn live_items_pass(v: &Verified, label: &str) {
    for id in [
        "live.container",
        "live.network",
        "live.rootfs",
        "live.capabilities",
        "live.no_new_privileges",
        "live.user",
    ] {
        assert_eq!(v.status(id), "pass", "{label}: {id}: {}", v.text(id));
    }
    // Rootless engines on this kernel (cgroup v1) drop resource limits: that must be said, not
    // passed.
    match v.status("live.limits").as_str() {
        "pass" => {}
        "skipped" => assert!(
            v.text("live.limits").contains("NOT in effect"),
            "{label}: {}",
            v.text("live.limits")
        ),
        other => panic!("{label}: live.limits {other}: {}", v.text("live.limits")),
    }
}

/// The flags of `verify --live` on target `t` with the probe image, without OpenClaw.
fn live_args<'a>(t: &'a Target, image: &'a str) -> Vec<&'a str> {
    vec![
        "--live",
        "--no-openclaw",
        "--docker-host",
        &t.endpoint,
        "--probe-image",
        image,
    ]
}

/// `verify --live` on target `t` with the probe image, plus `extra`.
fn live(h: &Home, t: &Target, image: &str, extra: &[&str]) -> Verified {
    let mut args = live_args(t, image);
    args.extend(extra);
    h.verify(&args)
}

/// Item `id` has `status`, and its text names every one of `words`.
fn expect_item(v: &Verified, id: &str, status: &str, words: &[&str], label: &str) {
    let text = v.text(id);
    assert_eq!(v.status(id), status, "{label}: {id}: {text}");
    for w in words {
        assert!(text.contains(w), "{label}: {id} lacks `{w}`: {text}");
    }
}

/// The probe containers on `endpoint` that clawposture process `pid` started.
fn probe_containers_of(endpoint: &str, pid: u32) -> Vec<live::ProbeContainer> {
    live::list_probe_containers(endpoint)
        .expect("list containers")
        .into_iter()
        .filter(|c| c.pid == Some(pid))
        .collect()
}

fn no_probe_containers_of(endpoint: &str, pid: u32) {
    let left = probe_containers_of(endpoint, pid);
    assert!(
        left.is_empty(),
        "probe containers left behind on {endpoint}: {left:?}"
    );
}

/// A rootless engine runs as its socket's owner: the Gateway (and so its state dir and config)
/// must be that user's, or engine.user fails (the sandbox could not bind-mount the state dir).
/// These tests run as root: the state dir and config are given to the engine's user first.
fn as_the_engines_user(h: &Home, t: &Target) {
    crate::support::engines::give_to_engine_user(&t.endpoint, &[&h.config()], &[&h.state()]);
}

#[test]
fn verify_live_passes_for_every_preset_written_by_apply() {
    let Some(env) = engines() else { return };
    let _turn = turn();
    let image = probe_image(&env);
    for t in targets(&env) {
        for threat in PRESETS {
            let label = format!("{threat} on {}", t.label);
            // 1. The built-in preset as apply writes it. The test engines have no real sandbox
            //    image (it cannot be built offline), so the probe stands in for it and
            //    engine.image is the one failure, with the build recipe.
            let h = Home::new();
            h.put_config(TELEGRAM);
            as_the_engines_user(&h, &t);
            h.apply(threat, t.label, &answers(threat));
            let v = live(&h, &t, &image, &[]);
            for id in STATIC_IDS
                .into_iter()
                .chain(["engine.reachable", "engine.rootless"])
            {
                assert_eq!(v.status(id), "pass", "{label}: {id}: {}", v.text(id));
            }
            assert_eq!(v.report["preset"], threat, "{label}");
            live_items_pass(&v, &label);
            assert_eq!(v.ids("fail"), ["engine.image"], "{label}: {}", v.pretty());
            assert!(
                v.text("engine.image")
                    .contains("docker build -t openclaw-sandbox:bookworm-slim")
                    || v.text("engine.image")
                        .contains("podman build -t openclaw-sandbox:bookworm-slim"),
                "{label}"
            );

            // 2. The same preset with a sandbox image this engine has: everything passes.
            let h = Home::new();
            h.preset_with_image(threat, &image);
            h.put_config(TELEGRAM);
            as_the_engines_user(&h, &t);
            h.apply(threat, t.label, &answers(threat));
            let v = h.verify(&["--live", "--no-openclaw", "--docker-host", &t.endpoint]);
            live_items_pass(&v, &label);
            assert_eq!(v.status("engine.image"), "pass", "{label}");
            assert!(v.ids("fail").is_empty(), "{label}: {}", v.pretty());
            assert_eq!(v.code, Some(0), "{label}");
        }
    }
}

#[test]
fn edited_configs_fail_the_matching_live_item() {
    let Some(env) = engines() else { return };
    let _turn = turn();
    let image = probe_image(&env);
    for t in targets(&env) {
        let cases: [(&str, serde_json::Value, &str); 3] = [
            ("network", json!("bridge"), "live.network"),
            ("readOnlyRoot", json!(false), "live.rootfs"),
            ("capDrop", json!([]), "live.capabilities"),
        ];
        for (key, value, item) in cases {
            let label = format!("{key}={value} on {}", t.label);
            let h = Home::new();
            h.apply("private", t.label, &[]);
            h.edit(|c| c["agents"]["defaults"]["sandbox"]["docker"][key] = value.clone());
            let v = live(&h, &t, &image, &[]);
            assert_eq!(v.status(item), "fail", "{label}: {}", v.pretty());
            assert!(
                v.text(item).contains(key),
                "{label}: the reason names the key: {}",
                v.text(item)
            );
            assert_eq!(v.status("static.drift"), "fail", "{label}");
            assert_eq!(v.code, Some(1));
            // What the container showed, when it ran.
            if v.status("live.container") == "pass" {
                let text = v.text(item);
                match item {
                    "live.rootfs" => assert!(text.contains("/ is mounted rw"), "{label}: {text}"),
                    "live.capabilities" => assert!(
                        text.contains("CapBnd=") && !text.contains("CapBnd=0000000000000000"),
                        "{label}: {text}"
                    ),
                    _ => assert!(
                        text.contains("inside the container: interfaces"),
                        "{label}: {text}"
                    ),
                }
                assert!(
                    text.contains("container stdout"),
                    "{label}: a failed live item shows the output: {text}"
                );
            }
        }
    }
}

#[test]
fn a_bridge_network_is_seen_from_inside_the_container() {
    let Some(env) = engines() else { return };
    let _turn = turn();
    let image = probe_image(&env);
    // Rootless Docker and rootless Podman give a bridged container an interface and a default
    // route (rootful Docker here runs with --bridge=none): the probe reads them, sends nothing.
    for t in targets(&env).into_iter().filter(|t| t.label != "docker") {
        let h = Home::new();
        h.apply("private", t.label, &[]);
        h.edit(|c| c["agents"]["defaults"]["sandbox"]["docker"]["network"] = json!("bridge"));
        let v = live(&h, &t, &image, &[]);
        assert_eq!(
            v.status("live.container"),
            "pass",
            "{}: {}",
            t.label,
            v.text("live.container")
        );
        expect_item(
            &v,
            "live.network",
            "fail",
            &["eth0", "a default route via"],
            t.label,
        );

        // The same network chosen with apply and told to verify: not drift, and the network
        // item is skipped (not proven isolated), still with what the container has.
        let h = Home::new();
        h.apply("private", t.label, &["--sandbox-network", "bridge"]);
        let v = live(&h, &t, &image, &["--sandbox-network", "bridge"]);
        let chosen = ["chosen with --sandbox-network", "eth0"];
        expect_item(&v, "live.network", "skipped", &chosen, t.label);
        for id in [
            "static.drift",
            "live.rootfs",
            "live.capabilities",
            "live.user",
        ] {
            expect_item(&v, id, "pass", &[], t.label);
        }
    }
}

#[test]
fn a_missing_image_fails_engine_image_and_the_probe_with_a_clear_reason() {
    let Some(env) = engines() else { return };
    let _turn = turn();
    for t in targets(&env) {
        let h = Home::new();
        h.apply("private", t.label, &[]);
        h.edit(|c| {
            c["agents"]["defaults"]["sandbox"]["docker"]["image"] =
                json!("clawposture-no-such-image:none")
        });
        let v = h.verify(&["--live", "--no-openclaw", "--docker-host", &t.endpoint]);
        assert_eq!(v.status("engine.image"), "fail", "{}", t.label);
        assert!(
            v.text("engine.image")
                .contains("clawposture-no-such-image:none is not on"),
            "{}: {}",
            t.label,
            v.text("engine.image")
        );
        assert_eq!(v.status("live.container"), "fail", "{}", t.label);
        let text = v.text("live.container").to_lowercase();
        assert!(
            text.contains("image")
                && (text.contains("no such")
                    || text.contains("not known")
                    || text.contains("not found")),
            "{}: {text}",
            t.label
        );
        assert_eq!(v.status("live.network"), "skipped");
    }
}

/// Start `verify --live` with probe containers held alive, and return once the container runs.
fn start_held(h: &Home, t: &Target, image: &str) -> (std::process::Child, String) {
    let mut child = h
        .verify_cmd(&live_args(t, image))
        .env("CLAWPOSTURE_PROBE_HOLD_SECS", "600")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn verify");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let started = loop {
        match lines.next() {
            Some(Ok(l)) if l.contains("probe container") && l.contains("started") => break l,
            Some(Ok(_)) => continue,
            other => panic!("verify ended before its probe started: {other:?}"),
        }
    };
    // Keep draining stderr so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, started)
}

#[test]
fn ctrl_c_removes_the_probe_container() {
    let Some(env) = engines() else { return };
    let _turn = turn();
    let image = probe_image(&env);
    for t in targets(&env) {
        let h = Home::new();
        h.apply("private", t.label, &[]);
        let (mut child, started) = start_held(&h, &t, &image);
        let pid = child.id();
        assert!(
            !probe_containers_of(&t.endpoint, pid).is_empty(),
            "{}: {started}",
            t.label
        );
        // SAFETY: signalling the child this test started.
        unsafe {
            libc::kill(pid as i32, libc::SIGINT);
        }
        let status = child.wait().expect("wait");
        assert_eq!(status.code(), Some(130), "{}", t.label);
        no_probe_containers_of(&t.endpoint, pid);
    }
}

#[test]
fn a_killed_verify_leaves_no_probe_container_after_the_next_run() {
    let Some(env) = engines() else { return };
    let _turn = turn();
    let image = probe_image(&env);
    for t in targets(&env) {
        let h = Home::new();
        h.apply("private", t.label, &[]);
        let (mut child, _) = start_held(&h, &t, &image);
        let pid = child.id();
        child.kill().expect("SIGKILL");
        child.wait().expect("wait");
        // Nothing could run in the killed process: its held container is still there...
        assert!(
            !probe_containers_of(&t.endpoint, pid).is_empty(),
            "{}: the held container should outlive a SIGKILL until the next run",
            t.label
        );
        // ...until the next live run removes leftovers of dead clawposture processes first.
        let v = live(&h, &t, &image, &[]);
        assert_eq!(v.status("live.container"), "pass", "{}", t.label);
        assert!(
            v.stderr.contains("left by an earlier, interrupted run"),
            "{}: {}",
            t.label,
            v.stderr
        );
        no_probe_containers_of(&t.endpoint, pid);
        // And the second run left nothing of its own.
        let mine: Vec<_> = live::list_probe_containers(&t.endpoint)
            .expect("list")
            .into_iter()
            .filter(|c| {
                c.pid
                    .is_some_and(|p| !std::path::Path::new(&format!("/proc/{p}")).exists())
            })
            .collect();
        assert!(
            mine.is_empty(),
            "{}: containers of finished runs remain: {mine:?}",
            t.label
        );
    }
}

#[test]
fn every_finished_run_leaves_no_probe_container() {
    let Some(env) = engines() else { return };
    let _turn = turn();
    let image = probe_image(&env);
    for t in targets(&env) {
        let h = Home::new();
        h.apply("public", t.label, &[]);
        let child = h
            .verify_cmd(&live_args(&t, &image))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let pid = child.id();
        let out = child.wait_with_output().expect("wait");
        assert!(out.status.code().is_some(), "{}", t.label);
        // Removal is confirmed before verify returns: nothing of this run, right away.
        no_probe_containers_of(&t.endpoint, pid);
    }
}
