//! The real binary in a real terminal (tmux, 80×24): from Welcome to Done against the real
//! rootless Docker daemon of `.ci/support/engines.sh`, then the written file and the
//! terminal itself (alternate screen left, cursor visible).

use crate::support::pty as pty_common;

use pty_common::*;

fn restored(t: &Tmux) {
    assert_eq!(
        t.format("#{alternate_on}"),
        "0",
        "still on the alternate screen"
    );
    assert_eq!(t.format("#{cursor_flag}"), "1", "cursor left hidden");
}

#[test]
fn welcome_to_done_against_rootless_docker() {
    // 80 columns for the short step labels; rows enough for the Done screen's checks.
    let Some((h, t, host)) = against_rootless_docker(80, 60, "") else {
        return;
    };
    t.wait_for("1/7 Welcome");
    t.keys(&["Enter"]);
    t.wait_for("Sandbox engine: docker-rootless");
    t.keys(&["Enter"]);
    t.wait_for("Who should be able to reach your agent?");
    t.keys(&["1"]);
    t.wait_for("Workspace access");
    t.wait_for("agents.defaults.sandbox.docker.user = \"0:0\"");
    t.keys(&["Enter"]);
    t.wait_for("keys change");
    t.keys(&["Tab"]);
    t.wait_for("showing the full new config");
    t.keys(&["Enter"]);
    t.wait_for("These files will be written:");
    t.keys(&["Enter"]);
    t.wait_for("✓ Wrote");
    // verify's static and engine items run on the written file, against the same daemon.
    t.wait_for("PASS  every owned key holds the preset's value");
    // The engine's items are further down: scroll until they show (each key redraws).
    let engine = "PASS  the sandbox's container engine answers";
    for _ in 0..40 {
        if t.screen().contains(engine) {
            break;
        }
        t.keys(&["Down"]);
    }
    t.wait_for(engine);
    t.keys(&["q"]);
    let code = t.wait_exit();
    let printed = t.history();
    assert_written_but_image(code, &printed);
    assert!(
        printed.contains("Wrote ") && printed.contains("Checked right after writing"),
        "summary on the primary screen:\n{printed}"
    );
    assert!(
        passes(&printed, "engine.rootless"),
        "the checks are printed after the wizard too:\n{printed}"
    );
    restored(&t);
    check_same_as_apply(&h, &host);
}

#[test]
fn ctrl_c_and_quit_restore_the_terminal_and_write_nothing() {
    if !have_tmux() {
        return;
    }
    let h = Home::new();
    let before = h.read("openclaw.json");
    // --engine: no daemon needed to show the Preset screen.
    let t = Tmux::start(80, 24, &h.line("--threat private --engine none", ""));
    t.wait_for("4/7 Preset");
    t.keys(&["C-c"]);
    t.wait_for("EXIT=130");
    restored(&t);
    assert_eq!(h.read("openclaw.json"), before);

    // q with an answer given asks first; y quits with nothing written, and the status apply
    // gives for a write not confirmed (4).
    let t = Tmux::start(80, 24, &h.line("--threat private --engine none", ""));
    t.wait_for("4/7 Preset");
    t.keys(&["q"]);
    t.wait_for("Quit without writing anything?");
    t.keys(&["y"]);
    t.wait_for("nothing written: not confirmed");
    t.wait_for("EXIT=4");
    restored(&t);
    assert_eq!(h.read("openclaw.json"), before);
}

#[test]
fn too_small_says_so_and_resize_redraws() {
    if !have_tmux() {
        return;
    }
    let h = Home::new();
    let before = h.read("openclaw.json");
    let t = Tmux::start(50, 12, &h.line("--threat private --engine none", ""));
    t.wait_for("Terminal too small");
    // Keys on a screen nobody can see do nothing (they once wrote the config unseen).
    for _ in 0..6 {
        t.keys(&["Enter"]);
    }
    t.keys(&["y", "w", "Enter"]);
    // The keys and the resize travel different ways (bytes vs SIGWINCH): wait until the
    // wizard has seen all nine keys before resizing.
    t.wait_for("9 key(s) ignored");
    t.resize(80, 24);
    t.wait_for("4/7 Preset");
    assert_eq!(
        h.read("openclaw.json"),
        before,
        "nothing written while too small"
    );
    t.keys(&["q"]);
    t.wait_for("Quit without writing anything?");
    t.keys(&["y"]);
    t.wait_for("EXIT=4");
    assert_eq!(h.read("openclaw.json"), before);
    restored(&t);
}

#[test]
fn a_panic_restores_the_terminal_first() {
    if !have_tmux() {
        return;
    }
    let mut h = Home::new();
    h.extra_env = " CLAWPOSTURE_FAULT=tui-panic".into();
    let before = h.read("openclaw.json");
    let t = Tmux::start(80, 24, &h.line("--engine none", ""));
    let screen = t.wait_for("EXIT=101");
    assert!(
        screen.contains("tui-panic"),
        "the panic message is readable:\n{screen}"
    );
    restored(&t);
    assert_eq!(h.read("openclaw.json"), before);
}

#[test]
fn sigterm_and_sighup_restore_the_terminal_and_write_nothing() {
    if !have_tmux() {
        return;
    }
    for (signal, code) in [("TERM", 143), ("HUP", 129)] {
        let h = Home::new();
        let before = h.read("openclaw.json");
        let pidfile = h.path("pid").display().to_string();
        // The shell records the wizard's pid, as a service manager would know it.
        let line = h.line("--threat private --engine none", "").replacen(
            "env -i",
            &format!("sh -c 'echo $$ > {pidfile}; exec \"$0\" \"$@\"' env -i"),
            1,
        );
        let t = Tmux::start(80, 24, &line);
        t.wait_for("4/7 Preset");
        let pid = h.read("pid").trim().to_string();
        let sent = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .expect("kill");
        assert!(sent.success());
        t.wait_for(&format!("EXIT={code}"));
        restored(&t);
        assert!(t.history().contains("nothing was written"), "{signal}");
        assert_eq!(h.read("openclaw.json"), before);
    }
}
