//! `--engine X` is looked for (#14): detection must find X answering, or nothing is written
//! (exit 3, with what was found of X and the fix). `--no-detect` trusts `--engine` for a config
//! prepared for another machine; `--engine none` needs nothing to answer.

use std::os::unix::net::UnixListener;

use crate::support::homes::{Sandbox, applied, stderr, stdout};

const PRESETS: [&str; 3] = ["private", "group", "public"];

#[test]
fn an_engine_named_with_engine_that_nobody_runs_is_exit_3_for_every_preset() {
    let sb = Sandbox::new();
    // No engine socket in this home, and no `podman` CLI on PATH (as root the real one would
    // answer for rootful Podman, which OpenClaw would use without any socket).
    let bin = sb.path("empty-bin");
    std::fs::create_dir_all(&bin).expect("bin");
    for engine in ["docker", "docker-rootless", "podman", "podman-rootless"] {
        for preset in PRESETS {
            for cmd in [&["plan"][..], &["apply", "--yes"][..]] {
                let mut args = cmd.to_vec();
                args.extend(["--threat", preset, "--engine", engine, "--accept-risk"]);
                let out = sb.cmd(&args).env("PATH", &bin).output().expect("run");
                let err = stderr(&out);
                assert_eq!(
                    out.status.code(),
                    Some(3),
                    "{engine} {preset} {cmd:?}: {err}"
                );
                assert!(
                    err.contains("--engine")
                        && err.contains(&format!("no {engine} engine answers"))
                        && err.contains("--no-detect"),
                    "{engine} {preset} {cmd:?}: the state and the fix: {err}"
                );
            }
        }
    }
    assert!(!sb.config().exists(), "nothing written");
}

#[test]
fn the_state_of_the_named_engines_socket_is_in_the_refusal() {
    let sb = Sandbox::new();
    let runtime = sb.path("run");
    std::fs::create_dir_all(runtime.join("podman")).expect("runtime dir");
    // What a stopped rootless Podman API service leaves behind.
    drop(UnixListener::bind(runtime.join("podman/podman.sock")).expect("bind"));
    let out = sb
        .cmd(&["plan", "--threat", "private", "--engine", "podman-rootless"])
        .env("XDG_RUNTIME_DIR", &runtime)
        .output()
        .expect("run");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("podman/podman.sock") && err.contains("not running"),
        "{err}"
    );
}

#[test]
fn no_detect_trusts_engine_and_needs_it() {
    let sb = Sandbox::new();
    let out = sb.run(&[
        "plan",
        "--threat",
        "private",
        "--engine",
        "docker-rootless",
        "--no-detect",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("docker-rootless"), "{}", stdout(&out));
    let out = sb.run(&[
        "apply",
        "--yes",
        "--threat",
        "private",
        "--engine",
        "docker-rootless",
        "--no-detect",
    ]);
    // Written; its own check after writing still says no engine answers (exit 1).
    assert!(applied(&out), "{}", stderr(&out));
    assert!(sb.config().exists());
    // --no-detect alone means nothing: a usage error.
    let out = sb.run(&["plan", "--threat", "private", "--no-detect"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

/// Real daemons: the named engine is found where it answers (its endpoint, not the best one),
/// and a named rootful engine is refused when only a rootless one answers.
#[test]
fn the_named_engine_is_used_where_it_answers_and_another_engine_does_not_stand_in() {
    let Some(env) = crate::support::engines::engines_env() else {
        return;
    };
    let rootless = env["CLAWPOSTURE_DOCKER_ROOTLESS"].clone();
    let rootful = env["CLAWPOSTURE_DOCKER_ROOTFUL"].clone();
    let sb = Sandbox::new();
    let run = |docker_host: &str, flag: &str, engine: &str| {
        sb.cmd(&[
            "plan",
            "--json",
            "--threat",
            "private",
            "--engine",
            engine,
            "--docker-host",
            flag,
        ])
        .env("DOCKER_HOST", docker_host)
        .output()
        .expect("run")
    };
    // Both answer; detection alone would pick rootless. --engine docker picks the rootful one.
    let out = run(&rootless, &rootful, "docker");
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("plan --json");
    assert_eq!(v["engine"], "docker", "{v:#}");
    let out = run(&rootful, &rootless, "docker-rootless");
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("plan --json");
    assert_eq!(v["engine"], "docker-rootless", "{v:#}");
    // Only rootless Docker answers: rootful Docker named is refused, and says what answers.
    let out = sb
        .cmd(&["plan", "--threat", "private", "--engine", "docker"])
        .env("DOCKER_HOST", &rootless)
        .output()
        .expect("run");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("Ready instead") && err.contains("--engine docker-rootless"),
        "{err}"
    );
}

/// `--plain` and the wizard refuse the same way, with the same exit code.
#[test]
fn plain_and_the_wizard_refuse_a_named_engine_nobody_runs_with_exit_3() {
    use crate::support::pty::{Home, Tmux, have_tmux};
    if !have_tmux() {
        return;
    }
    let h = Home::new();
    let t = Tmux::start(
        100,
        40,
        &h.line("--plain --threat private --engine docker-rootless", ""),
    );
    t.wait_for("Owner (CHANNEL:ID");
    t.keys(&["Enter"]);
    assert_eq!(t.wait_exit(), 3, "{}", t.history());
    assert!(
        t.history().contains("no docker-rootless engine answers"),
        "the refusal is shown:\n{}",
        t.history()
    );

    let t = Tmux::start(
        100,
        40,
        &h.line("--threat private --engine docker-rootless", ""),
    );
    t.wait_for("does not answer");
    t.keys(&["q"]);
    let (seen, _) = t.wait_for_any(&["EXIT=", "Quit"]);
    if seen == "Quit" {
        t.type_text("y");
    }
    assert_eq!(t.wait_exit(), 3, "{}", t.history());
}
