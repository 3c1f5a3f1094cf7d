//! Wizard timings (`cargo bench --bench tui`); prints figures, asserts nothing.
//!
//! 1. Process start to the first complete frame: the release binary in an 80×24 pseudo-terminal
//!    of our own (openpty), timed from spawn until the footer, the last row drawn, arrives.
//!    Then the frame with content: with `--threat private`, until the Preset screen shows the
//!    plan ("Adjusted for this machine" or "Nothing adjusted…"), side by side with `clawposture detect` run alone: the
//!    difference is what the wizard adds after detection finished (goal: at most 50 ms).
//! 2. In-process start to first frame: presets, wizard, one draw into a TestBackend.
//! 3. Frame render time of the Preview screen with the 300-line config (diff and full view).

use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use clawposture::domain::choice::Inputs;
use clawposture::domain::plan::TokenState;
use clawposture::domain::preset;
use clawposture::front::tui;
use clawposture::front::wizard::{self, Key, Msg, Setup, Wizard};
use clawposture::model::detect_options::DetectOptions;
use clawposture::model::environment::Engine;
use clawposture::model::paths::Resolved;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;

const CONFIG_300: &str = include_str!("../tests/fixtures/configs/realistic-300.json5");
/// The project's goal for process start to first frame.
const GOAL: Duration = Duration::from_millis(30);

fn stats(mut d: Vec<Duration>) -> (Duration, Duration, Duration) {
    d.sort();
    (d[0], d[d.len() / 2], d[d.len() * 95 / 100])
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// An 80×24 pty pair: (master, slave).
fn openpty() -> Option<(OwnedFd, OwnedFd)> {
    let mut master = 0;
    let mut slave = 0;
    let size = libc::winsize {
        ws_row: 24,
        ws_col: 80,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: openpty writes two fds into the locals; the winsize is read only.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &size,
        )
    };
    if rc != 0 {
        return None;
    }
    // SAFETY: both fds were just opened by openpty and are owned by nobody else.
    Some(unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) })
}

/// Spawn the binary on a fresh pty and time until `marker` has been written to it.
fn first_frame(bin: &str, dir: &std::path::Path, args: &[&str], marker: &str) -> Option<Duration> {
    let (master, slave) = openpty()?;
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .arg("--config")
        .arg(dir.join("openclaw.json"))
        .arg("--state-dir")
        .arg(dir.join("state"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("TERM", "xterm-256color")
        .stdin(Stdio::from(slave.try_clone().ok()?))
        .stdout(Stdio::from(slave.try_clone().ok()?))
        .stderr(Stdio::from(slave));
    // SAFETY: only async-signal-safe calls between fork and exec: a new session whose
    // controlling terminal is the pty, as a terminal emulator starts a shell.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let start = Instant::now();
    let mut child = cmd.spawn().ok()?;
    let mut reader = std::fs::File::from(master.try_clone().ok()?);
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let mut took = None;
    while start.elapsed() < Duration::from_secs(10) {
        // Wait for output with a deadline: a screen that never shows the marker must not hang.
        let mut pfd = libc::pollfd {
            fd: std::os::fd::AsRawFd::as_raw_fd(&reader),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd on the stack, for the duration of the call.
        if unsafe { libc::poll(&mut pfd, 1, 1000) } <= 0 {
            continue;
        }
        let n = reader.read(&mut buf).unwrap_or(0);
        if n == 0 {
            break;
        }
        seen.extend_from_slice(&buf[..n]);
        if String::from_utf8_lossy(&seen).contains(marker) {
            took = Some(start.elapsed());
            break;
        }
    }
    // Ctrl-C through the terminal, as a user would; the wizard exits at once.
    let mut writer = std::fs::File::from(master);
    let _ = std::io::Write::write_all(&mut writer, b"\x03");
    let _ = child.wait();
    took
}

/// Process start to the frame that shows the plan, against `clawposture detect` alone.
fn content_frame(bin: &str) {
    let Ok(dir) = tempfile::tempdir() else {
        println!("no temp dir; content-frame timing skipped");
        return;
    };
    let _ = std::fs::write(dir.path().join("openclaw.json"), CONFIG_300);
    let detect: Vec<Duration> = (0..20)
        .filter_map(|_| {
            let start = Instant::now();
            let out = Command::new(bin)
                .args(["detect", "--json", "--config"])
                .arg(dir.path().join("openclaw.json"))
                .env_clear()
                .env("PATH", std::env::var("PATH").unwrap_or_default())
                .env("HOME", dir.path())
                .output()
                .ok()?;
            out.status.success().then(|| start.elapsed())
        })
        .collect();
    let content: Vec<Duration> = (0..20)
        .filter_map(|_| {
            first_frame(
                bin,
                dir.path(),
                &["--threat", "private"],
                // One word: ratatui skips unchanged blank cells, so words arrive apart.
                "djusted",
            )
        })
        .collect();
    if detect.is_empty() || content.is_empty() {
        println!("content frame: no pty or detect failed here, skipped");
        return;
    }
    let (_, d_med, _) = stats(detect);
    let (c_min, c_med, c_p95) = stats(content);
    println!(
        "process start -> frame with the plan (detection running, --threat private): min {} median {} p95 {}",
        ms(c_min),
        ms(c_med),
        ms(c_p95)
    );
    println!(
        "`clawposture detect` alone: median {}; the wizard's content frame comes {} after it (goal <= 50.00 ms); ratio {:.2}",
        ms(d_med),
        ms(c_med.saturating_sub(d_med)),
        c_med.as_secs_f64() / d_med.as_secs_f64()
    );
}

fn setup(engine: bool) -> Setup {
    Setup {
        resolved: Resolved {
            config: PathBuf::from("/home/alice/.openclaw/openclaw.json"),
            config_source: "the default".into(),
            state_dir: PathBuf::from("/home/alice/.openclaw"),
            profile: None,
        },
        presets: preset::builtin(),
        uid: 1000,
        gid: 1000,
        threat: Some("private".into()),
        inputs: Inputs::default(),
        engine_override: engine.then(|| Engine::parse_label("docker-rootless").flatten()),
        same_gateway: false,
        keep_backups: clawposture::edge::backups::KEEP,
        detect: DetectOptions::default(),
        color: true,
    }
}

fn draw(w: &mut Wizard, terminal: &mut Terminal<TestBackend>, cols: u16, rows: u16) {
    let limit = tui::scroll_limit(w, Rect::new(0, 0, cols, rows));
    wizard::update(w, Msg::ScrollLimit(limit));
    let _ = terminal.draw(|f| tui::view(w, f));
}

fn main() {
    // 1. Process start to first frame, through a real pty.
    let bin = env!("CARGO_BIN_EXE_clawposture");
    match tempfile::tempdir() {
        Ok(dir) => {
            let _ = std::fs::write(dir.path().join("openclaw.json"), CONFIG_300);
            for (label, args) in [
                ("detection running", &[][..]),
                ("--engine given", &["--engine", "docker-rootless"][..]),
            ] {
                let runs: Vec<Duration> = (0..20)
                    .filter_map(|_| first_frame(bin, dir.path(), args, "quit"))
                    .collect();
                if runs.is_empty() {
                    println!("process start -> first frame ({label}): no pty here, skipped");
                    continue;
                }
                let (min, med, p95) = stats(runs);
                println!(
                    "process start -> first complete frame, 80x24 ({label}): min {} median {} p95 {} (goal <= {})",
                    ms(min),
                    ms(med),
                    ms(p95),
                    ms(GOAL)
                );
            }
        }
        Err(e) => println!("no temp dir ({e}); process timing skipped"),
    }
    content_frame(bin);

    // 2. In-process: everything the binary does before its first draw, minus exec and I/O.
    let runs: Vec<Duration> = (0..50)
        .map(|_| {
            let start = Instant::now();
            let s = Setup {
                presets: preset::load(None).unwrap_or_default(),
                threat: None,
                ..setup(false)
            };
            let (mut w, _) = Wizard::new(s);
            // TestBackend cannot fail (its error type is Infallible).
            let Ok(mut t) = Terminal::new(TestBackend::new(80, 24));
            draw(&mut w, &mut t, 80, 24);
            start.elapsed()
        })
        .collect();
    let (min, med, p95) = stats(runs);
    println!(
        "in-process init + first draw (Welcome, 80x24): min {} median {} p95 {}",
        ms(min),
        ms(med),
        ms(p95)
    );

    // 3. Preview with the 300-line config: one frame = scroll limit + view into the buffer.
    let (mut w, _) = Wizard::new(setup(true));
    wizard::update(
        &mut w,
        Msg::ConfigLoaded {
            original: Ok(Some(CONFIG_300.as_bytes().to_vec())),
            token: TokenState::default(),
            ledger: None,
        },
    );
    wizard::update(&mut w, Msg::Key(Key::Enter));
    if w.step != wizard::Step::Preview {
        println!("could not reach the Preview screen; frame timing skipped");
        return;
    }
    for (mode, key) in [("diff", None), ("full config", Some(Key::Tab))] {
        if let Some(k) = key {
            wizard::update(&mut w, Msg::Key(k));
        }
        for (cols, rows) in [(80u16, 24u16), (120, 40)] {
            let Ok(mut t) = Terminal::new(TestBackend::new(cols, rows));
            wizard::update(&mut w, Msg::Resize(cols, rows));
            let lines = w.preview_text().lines().count();
            let runs: Vec<Duration> = (0..200)
                .map(|i| {
                    // Scroll while measuring, as a user paging through the file would.
                    wizard::update(
                        &mut w,
                        Msg::Key(if i % 2 == 0 { Key::PageDown } else { Key::Up }),
                    );
                    let start = Instant::now();
                    draw(&mut w, &mut t, cols, rows);
                    start.elapsed()
                })
                .collect();
            let (min, med, p95) = stats(runs);
            println!(
                "Preview frame, {mode} ({lines} lines), {cols}x{rows}: min {} median {} p95 {}",
                ms(min),
                ms(med),
                ms(p95)
            );
        }
    }
}
