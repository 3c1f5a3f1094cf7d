//! Drive the real binary in a real terminal: a private tmux server per test (its own socket,
//! killed when the test ends), keys with `send-keys`, the screen with `capture-pane`, and
//! synchronisation by polling for text under a deadline (never a fixed sleep).

use super::engines as engines_common;
#[allow(unused_imports)] // each test crate uses a different subset
pub use engines_common::{engines_env as engines, skipped};

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Generous: a loaded 2-core CI machine must not turn slowness into a failure.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// tmux itself, or None after saying so (in CI: fail; `.ci/run` installs it).
pub fn have_tmux() -> bool {
    let ok = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        if std::env::var_os("CI").is_some() {
            panic!("CI is set but tmux is not installed");
        }
        skipped("tmux is not installed");
    }
    ok
}

pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

static SERIAL: AtomicUsize = AtomicUsize::new(0);

pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// Run `command` (a shell line) in a new detached `cols`×`rows` session. The line should
    /// end by printing `EXIT=$?` and sleeping, so the pane outlives the program.
    pub fn start(cols: u16, rows: u16, command: &str) -> Tmux {
        let socket = format!(
            "clawposture-test-{}-{}",
            std::process::id(),
            SERIAL.fetch_add(1, Ordering::SeqCst)
        );
        let t = Tmux { socket };
        let out = t.tmux(&[
            "new-session",
            "-d",
            "-x",
            &cols.to_string(),
            "-y",
            &rows.to_string(),
            "-s",
            "t",
            command,
        ]);
        assert!(out.status.success(), "tmux new-session: {out:?}");
        t
    }

    fn tmux(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("run tmux")
    }

    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.tmux(&["capture-pane", "-p", "-t", "t"]).stdout).into_owned()
    }

    /// The screen with everything that scrolled off it.
    pub fn history(&self) -> String {
        String::from_utf8_lossy(
            &self
                .tmux(&["capture-pane", "-p", "-S", "-", "-t", "t"])
                .stdout,
        )
        .into_owned()
    }

    /// Keys by tmux name (`Enter`, `Down`, `C-c`, or literal characters).
    pub fn keys(&self, keys: &[&str]) {
        for k in keys {
            let out = self.tmux(&["send-keys", "-t", "t", k]);
            assert!(out.status.success(), "send-keys {k}: {out:?}");
        }
    }

    /// Type text literally.
    pub fn type_text(&self, text: &str) {
        let out = self.tmux(&["send-keys", "-t", "t", "-l", text]);
        assert!(out.status.success(), "send-keys -l: {out:?}");
    }

    /// Wait for the program to end and return its exit status (from the `EXIT=` line).
    pub fn wait_exit(&self) -> i32 {
        let screen = self.wait_for("EXIT=");
        screen
            .lines()
            .find_map(|l| l.trim().strip_prefix("EXIT="))
            .and_then(|c| c.trim().parse().ok())
            .unwrap_or_else(|| panic!("no exit status on the screen:\n{screen}"))
    }

    /// Wait until the screen shows one of `texts`: which one (the first in `texts` that is
    /// shown), and the screen.
    pub fn wait_for_any<'a>(&self, texts: &[&'a str]) -> (&'a str, String) {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if let Some(t) = texts.iter().find(|t| screen.contains(**t)) {
                return (t, screen);
            }
            if start.elapsed() > DEADLINE {
                panic!("none of {texts:?} appeared within {DEADLINE:?}; the screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Wait until the screen shows `text`; panics with the screen after the deadline.
    pub fn wait_for(&self, text: &str) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            if start.elapsed() > DEADLINE {
                panic!("`{text}` did not appear within {DEADLINE:?}; the screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Resize the window, as a user dragging the terminal would.
    pub fn resize(&self, cols: u16, rows: u16) {
        let out = self.tmux(&[
            "resize-window",
            "-t",
            "t",
            "-x",
            &cols.to_string(),
            "-y",
            &rows.to_string(),
        ]);
        assert!(out.status.success(), "resize-window: {out:?}");
    }

    /// A tmux format of the pane, e.g. `#{alternate_on}`.
    pub fn format(&self, f: &str) -> String {
        String::from_utf8_lossy(&self.tmux(&["display-message", "-p", "-t", "t", f]).stdout)
            .trim()
            .to_string()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        // Only this test's own server: the socket name is unique to it.
        let _ = self.tmux(&["kill-server"]);
    }
}

/// A throwaway home with the commented fixture as the config.
pub struct Home {
    pub dir: tempfile::TempDir,
    /// Extra ` NAME=value` words for `env -i`, e.g. a fault hook.
    pub extra_env: String,
}

impl Home {
    pub fn new() -> Home {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("home")).expect("home");
        let fixture =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/configs/commented.json5");
        std::fs::copy(fixture, dir.path().join("openclaw.json")).expect("copy fixture");
        Home {
            dir,
            extra_env: String::new(),
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn config(&self) -> PathBuf {
        self.path("openclaw.json")
    }

    pub fn state(&self) -> PathBuf {
        self.path("state")
    }

    /// The shell line that runs clawposture in this home with `args`, then reports its status.
    pub fn line(&self, args: &str, redirect: &str) -> String {
        format!(
            "env -i PATH={} HOME={} TERM=xterm-256color LANG=C.UTF-8{} {} --config {} --state-dir {} {args} {redirect}; echo \"EXIT=$?\"; sleep 300",
            quote(&std::env::var("PATH").unwrap_or_default()),
            quote(&self.path("home").display().to_string()),
            self.extra_env,
            quote(env!("CARGO_BIN_EXE_clawposture")),
            quote(&self.config().display().to_string()),
            quote(&self.state().display().to_string()),
        )
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    /// The config with this home's own directory (in the policy file's absolute path) named
    /// `<home>`, so files written in different homes compare byte for byte.
    pub fn config_text(&self) -> String {
        self.read("openclaw.json")
            .replace(&self.dir.path().display().to_string(), "<home>")
    }

    /// [`Home::config_text`] as bytes, None when there is no config file.
    pub fn config_bytes(&self) -> Option<Vec<u8>> {
        std::fs::read(self.config()).ok().map(|b| {
            String::from_utf8_lossy(&b)
                .replace(&self.dir.path().display().to_string(), "<home>")
                .into_bytes()
        })
    }

    /// `clawposture apply --yes` on this home's config and state dir with `flags`, in a clean
    /// environment (PATH, and this home's `home` as HOME).
    pub fn apply_yes(&self, flags: &str) -> Output {
        Command::new(env!("CARGO_BIN_EXE_clawposture"))
            .args(["apply", "--yes", "--config"])
            .arg(self.config())
            .arg("--state-dir")
            .arg(self.state())
            .args(flags.split_whitespace())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.path("home"))
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run apply")
    }

    /// What `clawposture apply --yes` writes from the same fixture: the reference result.
    pub fn apply_reference(args: &[&str]) -> String {
        let h = Home::new();
        let out = Command::new(env!("CARGO_BIN_EXE_clawposture"))
            .arg("apply")
            .arg("--yes")
            .arg("--config")
            .arg(h.config())
            .arg("--state-dir")
            .arg(h.state())
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", h.path("home"))
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run apply");
        assert!(crate::support::homes::applied(&out), "apply: {out:?}");
        h.config_text()
    }
}

pub fn json5(text: &str) -> serde_json::Value {
    jsonc_parser::parse_to_serde_value(text, &Default::default()).expect("valid JSON5")
}

/// clawposture with `args` in a new `cols`×`rows` terminal, against the real rootless dockerd
/// of `.ci/support/engines.sh`: the home, the terminal and that daemon's endpoint. None (said
/// as SKIPPED, a failure in CI) without the daemons or tmux.
pub fn against_rootless_docker(cols: u16, rows: u16, args: &str) -> Option<(Home, Tmux, String)> {
    let engines = engines()?;
    if !have_tmux() {
        return None;
    }
    let host = engines["CLAWPOSTURE_DOCKER_ROOTLESS"].clone();
    let h = Home::new();
    // The Gateway is the rootless engine's user: its config and state dir are that user's.
    crate::support::engines::give_to_engine_user(&host, &[&h.config()], &[&h.state()]);
    let t = Tmux::start(
        cols,
        rows,
        &h.line(&format!("{args} --docker-host {}", quote(&host)), ""),
    );
    Some((h, t, host))
}

/// Some line of a printed `verify` report passes item `id`.
pub fn passes(printed: &str, id: &str) -> bool {
    printed
        .lines()
        .any(|l| l.contains("PASS") && l.contains(id))
}

/// A private-preset run against rootless Docker at `host` left the file behind that `apply`
/// writes from the same answers, byte for byte: one core, every front end.
pub fn check_same_as_apply(h: &Home, host: &str) {
    check_written(h, Some("0:0"));
    assert_eq!(
        h.config_text(),
        Home::apply_reference(&["--threat", "private", "--docker-host", host])
    );
}

/// What a wizard run on the commented fixture must leave behind, whichever front end.
pub fn check_written(h: &Home, expect_user: Option<&str>) {
    let text = h.read("openclaw.json");
    let v = json5(&text);
    assert_eq!(v["gateway"]["bind"], "loopback", "{text}");
    assert_eq!(
        v["gateway"]["auth"]["token"]["id"],
        "OPENCLAW_GATEWAY_TOKEN"
    );
    assert_eq!(v["tools"]["exec"]["mode"], "ask");
    assert_eq!(v["agents"]["defaults"]["sandbox"]["mode"], "non-main");
    if let Some(u) = expect_user {
        assert_eq!(v["agents"]["defaults"]["sandbox"]["docker"]["user"], u);
    }
    for comment in [
        "// My OpenClaw config. Hand-written; please keep my notes.",
        "/* Gateway: reached from my laptop only */",
        "// my model choice",
        "// trailing comma below is fine in JSON5",
    ] {
        assert!(text.contains(comment), "comment `{comment}` lost:\n{text}");
    }
    assert!(
        !text.contains("correct-horse-battery-staple"),
        "literal token left in the config"
    );
    let env = h.read("state/.env");
    assert!(env.contains("OPENCLAW_GATEWAY_TOKEN=correct-horse-battery-staple-0123456789"));
    let backups: Vec<_> = std::fs::read_dir(h.dir.path())
        .expect("list")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".bak"))
        .collect();
    assert_eq!(backups.len(), 1, "one backup");
    let original = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/configs/commented.json5"),
    )
    .expect("fixture");
    assert_eq!(
        std::fs::read_to_string(backups[0].path()).expect("backup"),
        original
    );
}

/// The run ended as a finished write does on these test engines: exit 0, or exit 1 with the
/// sandbox image the only failure (the test daemons hold no `openclaw-sandbox` image, and the
/// check after writing says so; every other item must pass).
pub fn assert_written_but_image(code: i32, printed: &str) {
    let fails: Vec<&str> = printed
        .lines()
        .filter(|l| l.trim_start().starts_with("FAIL "))
        .collect();
    match code {
        0 => assert!(fails.is_empty(), "{printed}"),
        1 => assert!(
            !fails.is_empty() && fails.iter().all(|l| l.contains("engine.image")),
            "exit 1 for something else than the missing image:\n{printed}"
        ),
        other => panic!("exit {other}:\n{printed}"),
    }
}
