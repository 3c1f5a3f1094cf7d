//! A run with nothing to write still sweeps the temps a killed run left (issue #15, temp
//! files): `apply`, `--plain` and the wizard each remove a stale temp of clawposture's own name
//! pattern from the config's directory and the state dir, and leave every other name alone.

use crate::support::pty::{Home, Tmux, have_tmux};

const FLAGS: &str = "--threat private --owner telegram:123456789 --engine none";

/// A home whose config already holds the preset (a first `apply` wrote it), with a stale temp
/// of our pattern beside the config and in the state dir, and two files that are not ours.
struct Planted {
    home: Home,
    stale: Vec<std::path::PathBuf>,
    foreign: Vec<std::path::PathBuf>,
}

fn planted() -> Planted {
    let home = Home::new();
    let out = home.apply_yes(FLAGS);
    assert!(crate::support::homes::applied(&out), "first apply: {out:?}");
    let stale = vec![
        home.path(".openclaw.json.clawposture-tmp-99999-0"),
        home.state().join("..env.clawposture-tmp-99999-0"),
    ];
    let foreign = vec![
        home.path(".openclaw.json.other-tmp"),
        home.path("openclaw.json.clawposture-tmp-99999-0"),
    ];
    for p in stale.iter().chain(&foreign) {
        std::fs::write(p, "OPENCLAW_GATEWAY_TOKEN=leaked").expect("plant");
    }
    Planted {
        home,
        stale,
        foreign,
    }
}

fn assert_swept(p: &Planted, front: &str, before: &[u8]) {
    assert_eq!(
        std::fs::read(p.home.config()).expect("config"),
        before,
        "{front}: nothing was to be written"
    );
    for s in &p.stale {
        assert!(!s.exists(), "{front}: {} not swept", s.display());
    }
    for f in &p.foreign {
        assert!(f.exists(), "{front}: {} is not ours to remove", f.display());
    }
}

#[test]
fn apply_with_nothing_to_write_sweeps_our_stale_temps_only() {
    let p = planted();
    let before = std::fs::read(p.home.config()).expect("config");
    let out = p.home.apply_yes(FLAGS);
    assert!(crate::support::homes::applied(&out), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Nothing to change"),
        "{out:?}"
    );
    assert_swept(&p, "apply", &before);
}

#[test]
fn plain_with_nothing_to_write_sweeps_our_stale_temps_only() {
    if !have_tmux() {
        return;
    }
    let p = planted();
    let before = std::fs::read(p.home.config()).expect("config");
    let t = Tmux::start(100, 40, &p.home.line(&format!("--plain {FLAGS}"), ""));
    let mut prompts = vec![
        "EXIT=",
        "Owner (CHANNEL:ID",
        "Change advanced settings",
        "Move them into $STATE_DIR/.env?",
    ];
    loop {
        let (prompt, _) = t.wait_for_any(&prompts);
        match prompt {
            "EXIT=" => break,
            "Owner (CHANNEL:ID" => t.keys(&["Enter"]),
            _ => {
                t.type_text("n");
                t.keys(&["Enter"]);
            }
        }
        prompts.retain(|q| *q != prompt);
    }
    assert!(t.history().contains("Nothing to change"), "{}", t.history());
    assert_eq!(t.wait_exit(), 0, "{}", t.history());
    assert_swept(&p, "--plain", &before);
}

#[test]
fn the_wizard_with_nothing_to_write_sweeps_our_stale_temps_only() {
    if !have_tmux() {
        return;
    }
    let p = planted();
    let before = std::fs::read(p.home.config()).expect("config");
    let t = Tmux::start(80, 24, &p.home.line(FLAGS, ""));
    t.wait_for("4/7 Preset");
    // The plan is there (with `--engine none`, as the variant without a sandbox).
    t.wait_for_any(&[
        "Adjusted for this machine",
        "Nothing adjusted for this machine",
        "No container engine: the preset's variant without a sandbox",
    ]);
    t.keys(&["Enter"]);
    t.wait_for("5/7 Preview");
    t.keys(&["Enter"]);
    t.wait_for("7/7 Done");
    // The sweep runs with the check, before its result is shown.
    t.wait_for("Checked just now");
    t.keys(&["Enter"]);
    assert_eq!(t.wait_exit(), 0);
    assert_swept(&p, "the wizard", &before);
}
