//! Line mode through a pseudo-terminal (tmux): `--plain`, and the automatic switch when stdout
//! is not a terminal, answer the same questions and write the same file as the full-screen
//! wizard and `apply`. Without any terminal the bare command exits 2 at once.

use crate::support::pty as pty_common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pty_common::*;

/// Pick private (the first preset, or the one the file already matches), keep the owner field
/// as it is (empty, or the owner read back from the file) and no advanced settings.
fn answer_private(t: &Tmux) {
    // The test engines hold no sandbox image: line mode offers to build it first; not now.
    if t.wait_for_any(&["Build it now", "Threat model:"]).0 == "Build it now" {
        t.type_text("n");
        t.keys(&["Enter"]);
    }
    t.wait_for("Threat model:");
    t.keys(&["Enter"]);
    t.wait_for("Owner (CHANNEL:ID");
    t.keys(&["Enter"]);
    t.wait_for("Change advanced settings");
    t.type_text("n");
    t.keys(&["Enter"]);
    // The fixture's literal bot token: line mode offers to move it into .env; not now.
    if t.wait_for_any(&["Move them into $STATE_DIR/.env?", "Write these changes?"])
        .0
        .starts_with("Move")
    {
        t.type_text("n");
        t.keys(&["Enter"]);
    }
}

fn answer_private_and_write(t: &Tmux) {
    // The fixture matches no preset, so the cursor starts on the first one: private.
    answer_private(t);
    t.wait_for("Write these changes?");
    t.type_text("y");
    t.keys(&["Enter"]);
}

#[test]
fn plain_writes_the_same_file_as_apply() {
    let Some((h, t, host)) = against_rootless_docker(100, 40, "--plain") else {
        return;
    };
    answer_private_and_write(&t);
    let code = t.wait_exit();
    // The same detection report as `clawposture detect`, each problem with its fix.
    let history = t.history();
    assert!(
        history.contains("is not on") && history.contains("Build it now"),
        "the missing sandbox image is offered to be built:\n{history}"
    );
    assert_written_but_image(code, &history);
    assert!(history.contains("Container engines"), "{history}");
    assert!(history.contains("docker rootless"), "{history}");
    // verify's static and engine items run on the written file, against the same daemon.
    assert!(history.contains("Checked right after writing"), "{history}");
    for id in ["static.drift", "static.config_perms", "engine.reachable"] {
        assert!(passes(&history, id), "{id}:\n{history}");
    }
    check_same_as_apply(&h, &host);
}

#[test]
fn stdout_not_a_terminal_switches_to_line_mode() {
    if !have_tmux() {
        return;
    }
    let h = Home::new();
    let out = h.path("stdout.txt").display().to_string();
    let t = Tmux::start(
        100,
        40,
        &h.line(
            "--engine docker-rootless --no-detect",
            &format!("> {}", quote(&out)),
        ),
    );
    answer_private_and_write(&t);
    // No rootless daemon answers at the default socket here: the write succeeds and the check
    // after it says NOT OK on the engine alone, which is exit 1.
    let code = t.wait_exit();
    check_written(&h, Some("0:0"));
    // Only the summary goes to stdout; the questions went to the terminal (stderr).
    let summary = h.read("stdout.txt");
    assert!(summary.starts_with("Wrote "), "{summary}");
    assert!(!summary.contains("Threat model"), "{summary}");
    assert!(
        passes(&summary, "static.drift"),
        "the checks are part of the summary:\n{summary}"
    );
    assert_engine_only(code, &summary);

    // Run again: nothing to write, and the posture the file holds is still checked.
    let t = Tmux::start(
        100,
        40,
        &h.line(
            "--engine docker-rootless --no-detect",
            &format!("> {}", quote(&out)),
        ),
    );
    answer_private(&t);
    let code = t.wait_exit();
    let summary = h.read("stdout.txt");
    assert!(
        summary.contains("Nothing to change") && summary.contains("Checked just now"),
        "{summary}"
    );
    assert!(passes(&summary, "static.drift"), "{summary}");
    assert_engine_only(code, &summary);
}

/// Exit 0, or exit 1 with only the engine's items failing (no daemon at the default socket).
fn assert_engine_only(code: i32, summary: &str) {
    let fails: Vec<&str> = summary
        .lines()
        .filter(|l| l.trim_start().starts_with("FAIL "))
        .collect();
    match code {
        0 => assert!(fails.is_empty(), "{summary}"),
        1 => assert!(
            !fails.is_empty() && fails.iter().all(|l| l.contains(" engine.")),
            "{summary}"
        ),
        other => panic!("exit {other}:\n{summary}"),
    }
}

/// Run the binary with stdin from /dev/null under a deadline: it must not wait for input.
fn no_tty(args: &[&str]) -> std::process::Output {
    let h = Home::new();
    let mut child = Command::new(env!("CARGO_BIN_EXE_clawposture"))
        .args(args)
        .arg("--config")
        .arg(h.config())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", h.path("home"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let start = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if start.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("clawposture {args:?} blocked without a terminal");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

#[test]
fn without_a_terminal_it_explains_apply_and_exits_2() {
    for args in [&[][..], &["--plain"][..], &["--threat", "public"][..]] {
        let out = no_tty(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("clawposture apply --threat"), "{err}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn answer_flags_belong_to_the_bare_command() {
    // `--threat` before a subcommand is the wizard's flag: clap refuses the mix.
    let out = no_tty(&["--threat", "private", "presets"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot be used with"),
        "{out:?}"
    );
    // A bad answer is a usage error before any screen, with the reason.
    let out = no_tty(&["--owner", "nonsense"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("CHANNEL:ID"),
        "{out:?}"
    );
    let out = no_tty(&["--threat", "nope"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no preset named"),
        "{out:?}"
    );
}

#[test]
fn advanced_settings_are_apply_flags_too() {
    let text = Home::apply_reference(&[
        "--threat",
        "private",
        "--engine",
        "docker-rootless",
        "--no-detect",
        "--workspace-access",
        "rw",
        "--sandbox-network",
        "bridge",
    ]);
    let v = json5(&text);
    assert_eq!(v["agents"]["defaults"]["sandbox"]["workspaceAccess"], "rw");
    assert_eq!(
        v["agents"]["defaults"]["sandbox"]["docker"]["network"],
        "bridge"
    );
    // Without an engine nothing is sandboxed: the overrides are not written.
    let text = Home::apply_reference(&[
        "--threat",
        "private",
        "--engine",
        "none",
        "--workspace-access",
        "rw",
    ]);
    assert_eq!(
        json5(&text)["agents"]["defaults"]["sandbox"]["workspaceAccess"],
        "ro"
    );
}
