//! The three front ends walk the application layer's steps the same way: for each scenario,
//! `apply`, `--plain` and the full-screen wizard (both in a real terminal) reach the same step,
//! leave the same config bytes and exit with the same code. No engine is needed (`--engine
//! none`), so these run everywhere tmux does.

use crate::support::pty::{Home, Tmux, have_tmux};

/// How a front end is answered when a step asks something: yes to writing, no to every
/// acknowledgement (so a refusal is reached exactly where `apply` stops).
#[derive(Clone, Copy)]
struct Scenario {
    name: &'static str,
    /// Run first with `apply --yes` (the state the scenario starts from), if any.
    before: Option<&'static str>,
    /// The config's text instead of the commented fixture (None: keep it; Some(""): no file).
    config: Option<&'static str>,
    /// The answers, as flags every front end takes.
    flags: &'static str,
    /// The step all three must reach.
    step: Step,
    exit: i32,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Step {
    Write,
    NothingToWrite,
    Boundary,
    Loosen,
    AcceptRisk,
    Refused,
}

const SCENARIOS: [Scenario; 6] = [
    Scenario {
        name: "fresh file",
        before: None,
        config: Some(""),
        flags: "--threat private --owner telegram:123456789 --engine none",
        step: Step::Write,
        exit: 0,
    },
    Scenario {
        name: "re-run of the same preset with --owner",
        before: Some("--threat public --owner telegram:123456789 --engine none --accept-risk"),
        config: None,
        flags: "--threat public --owner telegram:123456789 --engine none --accept-risk",
        step: Step::NothingToWrite,
        exit: 0,
    },
    Scenario {
        name: "switch across the trust boundary",
        before: Some("--threat private --owner telegram:123456789 --engine none"),
        config: None,
        flags: "--threat public --engine none --accept-risk",
        step: Step::Boundary,
        exit: 4,
    },
    Scenario {
        name: "loosening a value the user set",
        before: None,
        config: Some(r#"{ agents: { defaults: { sandbox: { workspaceAccess: "none" } } } }"#),
        flags: "--threat private --engine docker-rootless --no-detect --workspace-access rw",
        step: Step::Loosen,
        exit: 4,
    },
    Scenario {
        name: "parse error",
        before: None,
        config: Some("{ gateway: { port: 18789, \n"),
        flags: "--threat private --engine none",
        step: Step::Refused,
        exit: 4,
    },
    Scenario {
        name: "no engine for public",
        before: None,
        config: None,
        flags: "--threat public --engine none",
        step: Step::AcceptRisk,
        exit: 3,
    },
];

fn home(s: &Scenario) -> Home {
    let h = Home::new();
    match s.config {
        Some("") => std::fs::remove_file(h.config()).expect("no config"),
        Some(text) => std::fs::write(h.config(), text).expect("config"),
        None => {}
    }
    if let Some(flags) = s.before {
        let out = h.apply_yes(flags);
        assert!(
            crate::support::homes::applied(&out),
            "{}: the starting apply: {out:?}",
            s.name
        );
    }
    h
}

/// `--plain` answers: keep the owner field, no advanced settings, no to every
/// acknowledgement, yes to writing.
fn plain(s: &Scenario) -> (i32, Option<Vec<u8>>, String) {
    let h = home(s);
    let t = Tmux::start(100, 40, &h.line(&format!("--plain {}", s.flags), ""));
    // Each prompt that can come, in the application layer's order, answered once (an answered
    // prompt stays on the screen), until the program ends.
    let mut prompts = vec![
        "EXIT=",
        "Owner (CHANNEL:ID",
        "Accept the risk",
        "Change advanced settings",
        "Move them into $STATE_DIR/.env?",
        "Write to this same Gateway anyway?",
        "Loosen these values anyway?",
        "Write these changes?",
    ];
    loop {
        let (prompt, _) = t.wait_for_any(&prompts);
        match prompt {
            "EXIT=" => break,
            "Owner (CHANNEL:ID" => t.keys(&["Enter"]),
            "Write these changes?" => {
                t.type_text("y");
                t.keys(&["Enter"]);
            }
            _ => {
                t.type_text("n");
                t.keys(&["Enter"]);
            }
        }
        prompts.retain(|p| *p != prompt);
    }
    let history = t.history();
    let step = match () {
        _ if history.contains("Write to this same Gateway anyway?") => Step::Boundary,
        _ if history.contains("Loosen these values anyway?") => Step::Loosen,
        _ if history.contains("Accept the risk") => Step::AcceptRisk,
        _ if history.contains("Nothing to change") => Step::NothingToWrite,
        _ if history.contains("Write these changes?") => Step::Write,
        _ => Step::Refused,
    };
    (t.wait_exit(), h.config_bytes(), format!("{step:?}"))
}

/// The wizard, started on the Preset screen by `--threat`: Enter through Preview and Write;
/// where it cannot go on, `q` and `y` (quit without writing).
fn wizard(s: &Scenario) -> (i32, Option<Vec<u8>>, String) {
    let h = home(s);
    let t = Tmux::start(80, 24, &h.line(s.flags, ""));
    t.wait_for("4/7 Preset");
    // Wait for the plan, or the reason there is none, before pressing anything.
    let (shown, _) = t.wait_for_any(&[
        "Adjusted for this machine",
        "Nothing adjusted for this machine",
        "No container engine: the preset's variant without a sandbox",
        "needs a container engine",
        "openclaw.json:",
    ]);
    let step = match shown {
        "needs a container engine" => Step::AcceptRisk,
        "openclaw.json:" => Step::Refused,
        _ => {
            t.keys(&["Enter"]);
            t.wait_for("5/7 Preview");
            t.keys(&["Enter"]);
            let (at, _) = t.wait_for_any(&["6/7 Write", "7/7 Done"]);
            if at == "7/7 Done" {
                t.wait_for("Checked just now");
                Step::NothingToWrite
            } else {
                t.keys(&["Enter"]);
                let (after, _) = t.wait_for_any(&[
                    "7/7 Done",
                    "until you accept loosening",
                    "Writing is refused until you accept",
                ]);
                if after == "7/7 Done" {
                    t.wait_for("Checked right after writing");
                    Step::Write
                } else if after == "until you accept loosening" {
                    Step::Loosen
                } else {
                    Step::Boundary
                }
            }
        }
    };
    if matches!(step, Step::Write | Step::NothingToWrite) {
        t.keys(&["Enter"]);
    } else {
        // Enter on a step that cannot go on does not move; then quit without writing.
        t.keys(&["Enter", "q"]);
        t.wait_for("Quit without writing anything?");
        t.keys(&["y"]);
    }
    (t.wait_exit(), h.config_bytes(), format!("{step:?}"))
}

#[test]
fn apply_plain_and_the_wizard_reach_the_same_step_bytes_and_exit_code() {
    if !have_tmux() {
        return;
    }
    for s in &SCENARIOS {
        let h = home(s);
        let before = h.config_bytes();
        let out = h.apply_yes(s.flags);
        let code = out.status.code().unwrap_or(-1);
        let applied = h.config_bytes();
        assert_eq!(code, s.exit, "{}: apply: {out:?}", s.name);
        if s.step != Step::Write {
            assert_eq!(applied, before, "{}: apply wrote", s.name);
        }
        if s.step == Step::NothingToWrite {
            let printed = String::from_utf8_lossy(&out.stdout);
            assert!(
                printed.contains("Nothing to change"),
                "{}: {printed}",
                s.name
            );
        }
        let (p_code, p_bytes, p_step) = plain(s);
        let (w_code, w_bytes, w_step) = wizard(s);
        assert_eq!(p_code, s.exit, "{}: --plain's exit", s.name);
        assert_eq!(w_code, s.exit, "{}: the wizard's exit", s.name);
        assert_eq!(
            p_step,
            format!("{:?}", s.step),
            "{}: --plain's step",
            s.name
        );
        assert_eq!(
            w_step,
            format!("{:?}", s.step),
            "{}: the wizard's step",
            s.name
        );
        assert_eq!(p_bytes, applied, "{}: --plain's bytes", s.name);
        assert_eq!(w_bytes, applied, "{}: the wizard's bytes", s.name);
    }
}
