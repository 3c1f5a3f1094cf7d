//! The full-screen front end (the edge): terminal setup and restore, the event loop, and the
//! effects (detect, read, write) run on threads whose results come back as messages.
//! `view` and the screen modules are pure; everything impure in the wizard lives here.

pub mod screens;
pub mod theme;
mod view;

use std::io::{self, IsTerminal, Stdout};
use std::sync::Once;
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::Duration;

use crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use crossterm::terminal::{EnterAlternateScreen, LeaveAlternateScreen};
use crossterm::{cursor, execute, terminal};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;

use crate::app;
use crate::domain::preset::Preset;
use crate::edge::{detect, files};
use crate::front::cli::{Global, WizardArgs};
use crate::front::dispatch;
use crate::front::summary;
use crate::front::wizard::image::ImageMsg;
use crate::front::wizard::{self, Checks, Effect, Exit, Key, Msg, Setup, Wizard, WriteState};
use crate::model::detect_options::DetectOptions;
use crate::model::exit::{Failure, Stop};
use crate::model::paths::Resolved;

pub use view::{MIN_COLS, MIN_ROWS, scroll_limit, view};

/// What the bare command prints when there is no terminal to ask on.
pub const NO_TTY: &str = "no terminal to ask on, so the wizard cannot start. Use the non-interactive command instead:
  clawposture plan  --threat private|group|public      (shows the diff, writes nothing)
  clawposture apply --threat private|group|public --yes
Add --owner CHANNEL:ID, --group CHANNEL:CHAT_ID, --member CHANNEL:ID as needed; see `clawposture apply --help`.";

/// The bare `clawposture`: pick the front end, build the wizard's setup from the flags.
pub fn start(
    global: &Global,
    args: &WizardArgs,
    presets: Vec<Preset>,
    resolved: &Resolved,
) -> Result<(), Failure> {
    let setup = setup(global, args, presets, resolved)?;
    // Never block waiting for input that cannot come.
    if !io::stdin().is_terminal() {
        return Err(Failure::new(Stop::Usage, NO_TTY));
    }
    let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
    if args.plain || dumb || !io::stdout().is_terminal() {
        return crate::front::plain::run(setup);
    }
    run_full_screen(setup)
}

/// The wizard's starting point from the command line; usage errors surface before any screen.
pub fn setup(
    global: &Global,
    args: &WizardArgs,
    presets: Vec<Preset>,
    resolved: &Resolved,
) -> Result<Setup, Failure> {
    let answers = &args.answers;
    if answers.threat.is_some() {
        app::find_preset(&presets, answers.threat.as_deref())?;
    }
    let inputs = dispatch::inputs_from(answers)?;
    let (uid, gid) = dispatch::gateway_ids(resolved);
    Ok(Setup {
        resolved: resolved.clone(),
        presets,
        uid,
        gid,
        threat: answers.threat.clone(),
        inputs,
        engine_override: dispatch::engine_override(answers),
        same_gateway: answers.same_gateway,
        keep_backups: answers.keep_backups,
        detect: DetectOptions {
            want: dispatch::wanted_engine(answers),
            ..dispatch::detect_options(global, resolved)
        },
        color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    })
}

/// Leaves raw mode and the alternate screen and shows the cursor. Safe to call twice.
fn restore() {
    let _ = terminal::disable_raw_mode();
    let _ = execute!(io::stdout(), LeaveAlternateScreen, cursor::Show);
}

/// A panic anywhere restores the terminal first, so the message is readable and the shell usable.
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
}

/// Owns the terminal while the wizard runs; dropping it (return, `?`, unwinding) restores it.
struct Screen {
    terminal: Terminal<CrosstermBackend<Stdout>>,
}

impl Screen {
    fn enter() -> io::Result<Screen> {
        install_panic_hook();
        terminal::enable_raw_mode()?;
        // From here on every exit path must restore: build the guard before anything else fails.
        let guard = Restore;
        execute!(io::stdout(), EnterAlternateScreen, cursor::Hide)?;
        let terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
        std::mem::forget(guard);
        Ok(Screen { terminal })
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        restore();
    }
}

struct Restore;

impl Drop for Restore {
    fn drop(&mut self) {
        restore();
    }
}

fn io_failure(e: io::Error) -> Failure {
    Failure::new(Stop::Refused, format!("terminal error: {e}"))
}

pub fn translate(ev: KeyEvent) -> Option<Key> {
    // Windows reports releases too; only presses (and auto-repeat) are input.
    if !matches!(ev.kind, KeyEventKind::Press | KeyEventKind::Repeat) {
        return None;
    }
    let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
    Some(match ev.code {
        KeyCode::Char('c') if ctrl => Key::CtrlC,
        KeyCode::Char(_) if ctrl => return None,
        KeyCode::Char(c) => Key::Char(c),
        KeyCode::Up => Key::Up,
        KeyCode::Down => Key::Down,
        KeyCode::Left => Key::Left,
        KeyCode::Right => Key::Right,
        KeyCode::PageUp => Key::PageUp,
        KeyCode::PageDown => Key::PageDown,
        KeyCode::Home => Key::Home,
        KeyCode::End => Key::End,
        KeyCode::Enter => Key::Enter,
        KeyCode::Esc => Key::Esc,
        KeyCode::Backspace => Key::Backspace,
        KeyCode::Tab => Key::Tab,
        _ => return None,
    })
}

/// Run one effect off the UI thread; its result comes back on `tx`.
fn spawn(effect: Effect, tx: &Sender<Msg>) {
    let reply = tx.clone();
    let job = move || {
        let msg = match effect {
            Effect::Detect(opts) => Msg::Detected(Box::new(detect::detect(&opts))),
            Effect::LoadConfig { config, state_dir } => Msg::ConfigLoaded {
                original: files::read_config(&config).map_err(|f| f.message),
                token: files::token_state(&state_dir),
                ledger: files::read_ledger(&state_dir),
            },
            Effect::Write(job) => Msg::Written(
                files::run_write(&job)
                    .map(|(outcome, _)| outcome)
                    .map_err(|f| f.message),
            ),
            Effect::Check(job) => Msg::Checked(Box::new(files::run_check(&job))),
            Effect::BuildImage(job) => {
                crate::edge::verify::live::quiet();
                let progress = reply.clone();
                let mut on = |e: &crate::domain::image::progress::Event| {
                    let _ = progress.send(Msg::Image(ImageMsg::Event(e.clone())));
                };
                let done = crate::edge::image::build::build_for(
                    &job.endpoint,
                    &job.tag,
                    (job.uid, job.gid),
                    (None, None),
                    &mut on,
                );
                Msg::Image(ImageMsg::Finished(done))
            }
            Effect::Quit => return,
        };
        // The loop may have ended (Ctrl-C) before a slow probe answered; nobody to tell then.
        let _ = reply.send(msg);
    };
    if let Err(e) = std::thread::Builder::new()
        .name("clawposture-effect".into())
        .spawn(job)
    {
        let _ = tx.send(Msg::Written(Err(format!("cannot start a thread: {e}"))));
    }
}

/// Apply a message and run what it asks for; true when the wizard wants to quit.
fn step(w: &mut Wizard, msg: Msg, tx: &Sender<Msg>) -> bool {
    let mut quit = false;
    for effect in wizard::update(w, msg) {
        if effect == Effect::Quit {
            quit = true;
        } else {
            spawn(effect, tx);
        }
    }
    quit
}

/// What wakes the event loop: a key or resize from the terminal, an effect's result, or a
/// SIGTERM / SIGHUP (the terminal must be restored before the process ends).
enum Wake {
    Term(Event),
    Msg(Msg),
    Signal(i32),
}

/// Take SIGTERM and SIGHUP away from their default (which would end the process on the
/// alternate screen with the cursor hidden) and deliver them to the loop instead. Called
/// before any other thread starts, so every thread inherits the blocked mask; children get a
/// clean mask (std's `Command` resets it).
fn watch_signals(tx: Sender<Wake>) {
    // SAFETY: a zeroed sigset_t is then initialised by sigemptyset; the calls only read and
    // write that local set and this thread's mask.
    let set = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::sigaddset(&mut set, libc::SIGHUP);
        if libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) != 0 {
            return;
        }
        set
    };
    let _ = std::thread::Builder::new()
        .name("clawposture-signals".into())
        .spawn(move || {
            let mut sig = 0;
            // SAFETY: `set` lives on this thread's stack for the call; sigwait writes `sig`.
            if unsafe { libc::sigwait(&set, &mut sig) } == 0 {
                let _ = tx.send(Wake::Signal(sig));
            }
        });
}

/// Reads the terminal on its own thread, so the loop waits on one channel and draws a result
/// the moment it arrives (not after a poll timeout).
fn spawn_input(tx: Sender<Wake>) {
    let _ = std::thread::Builder::new()
        .name("clawposture-input".into())
        .spawn(move || {
            while let Ok(ev) = event::read() {
                if tx.send(Wake::Term(ev)).is_err() {
                    return;
                }
            }
        });
}

/// Runs until the wizard quits (None) or a signal asks the process to end (Some(signal)).
fn event_loop(
    screen: &mut Screen,
    w: &mut Wizard,
    tx: &Sender<Msg>,
    rx: &Receiver<Wake>,
    fault: bool,
) -> Result<Option<i32>, Failure> {
    loop {
        // Every wake (a key, a resize, a result, a tick) changes what is shown: draw first.
        {
            let size = screen.terminal.size().map_err(io_failure)?;
            let area = Rect::new(0, 0, size.width, size.height);
            if (size.width, size.height) != w.size {
                wizard::update(w, Msg::Resize(size.width, size.height));
            }
            let limit = scroll_limit(w, area);
            if limit != w.scroll_limit {
                wizard::update(w, Msg::ScrollLimit(limit));
            }
            screen.terminal.draw(|f| view(w, f)).map_err(io_failure)?;
            if fault {
                panic!("fault-injection tui-panic: a panic after the first frame");
            }
        }
        // Ticks (for the spinner) only while something runs; otherwise sleep until woken.
        let wake = if w.busy() {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(wake) => Some(wake),
                Err(mpsc::RecvTimeoutError::Timeout) => None,
                Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(None),
            }
        } else {
            match rx.recv() {
                Ok(wake) => Some(wake),
                Err(_) => return Ok(None),
            }
        };
        let msg = match wake {
            None => Msg::Tick,
            Some(Wake::Msg(m)) => m,
            Some(Wake::Term(Event::Key(k))) => match translate(k) {
                Some(key) => Msg::Key(key),
                None => continue,
            },
            // The next draw reads the new size; ratatui's autoresize clears the screen.
            Some(Wake::Term(Event::Resize(_, _))) => continue,
            Some(Wake::Term(_)) => continue,
            Some(Wake::Signal(sig)) => return Ok(Some(sig)),
        };
        if step(w, msg, tx) {
            return Ok(None);
        }
    }
}

/// The full-screen wizard, from the first frame to the summary printed after it.
pub fn run_full_screen(setup: Setup) -> Result<(), Failure> {
    let (mut w, effects) = Wizard::new(setup);
    // Test hook (built only with the `fault-injection` feature): panic mid-run to prove the
    // panic hook restores the terminal.
    let fault = cfg!(feature = "fault-injection")
        && std::env::var("CLAWPOSTURE_FAULT").is_ok_and(|f| f == "tui-panic");
    // Effects answer on `tx`; a forwarder puts their results on the loop's one channel.
    let (tx, results) = mpsc::channel::<Msg>();
    let (wake_tx, rx) = mpsc::channel::<Wake>();
    watch_signals(wake_tx.clone());
    let forward = wake_tx.clone();
    let _ = std::thread::Builder::new()
        .name("clawposture-results".into())
        .spawn(move || {
            while let Ok(m) = results.recv() {
                if forward.send(Wake::Msg(m)).is_err() {
                    return;
                }
            }
        });
    let mut screen = Screen::enter().map_err(io_failure)?;
    spawn_input(wake_tx);
    for e in effects {
        spawn(e, &tx);
    }
    let result = event_loop(&mut screen, &mut w, &tx, &rx, fault);
    drop(screen);
    if let Some(sig) = result? {
        let what = if w.write == WriteState::Writing {
            "the config is either the old or the new file, never a mix"
        } else if matches!(w.write, WriteState::Written(_)) {
            "the config was written before it"
        } else {
            "nothing was written"
        };
        return Err(Failure {
            code: 128 + sig,
            message: format!("stopped by signal {sig}; {what}."),
        });
    }
    finish(&w)
}

/// What the primary screen shows after the alternate one is gone, and the exit status.
fn finish(w: &Wizard) -> Result<(), Failure> {
    match (w.exit, &w.write) {
        (Some(Exit::Interrupted), WriteState::Writing) => Err(Failure::new(
            Stop::Interrupted,
            "interrupted while writing: the config is either the old or the new file, never a mix.",
        )),
        (_, WriteState::Written(outcome)) => {
            let advanced = w.inputs.advanced();
            let r = &w.setup.resolved;
            let checklist = crate::domain::checklist::path(&r.state_dir);
            match &w.checks {
                Checks::Done(report) => {
                    print!(
                        "{}",
                        summary::after_write_text(outcome, &checklist, report, advanced, r)
                    );
                    app::verdict(report)
                }
                _ => {
                    print!(
                        "{}Checklist: {}\n(The wizard ended before its checks did: `{}` runs them.)\n",
                        summary::written_text(outcome, r),
                        checklist.display(),
                        summary::verify_live(advanced, r)
                    );
                    Ok(())
                }
            }
        }
        (Some(Exit::Interrupted), _) => Err(Failure::new(
            Stop::Interrupted,
            "interrupted; nothing was written.",
        )),
        (_, WriteState::Unneeded) => {
            println!(
                "Nothing to change: {} already holds this posture.",
                w.setup.resolved.config.display()
            );
            if let Checks::Done(report) = &w.checks {
                print!(
                    "{}",
                    summary::checks_text(
                        summary::CHECKED_NOW,
                        report,
                        w.inputs.advanced(),
                        &w.setup.resolved,
                    )
                );
                return app::verdict(report);
            }
            Ok(())
        }
        // Left before writing: the step the application layer was at says why, with the same
        // exit code `apply` gives for it (a refusal, an acknowledgement not given, or simply
        // not confirmed).
        _ => Err(match &w.next {
            Some(app::Next::Refused(f)) => f.clone(),
            Some(app::Next::Acknowledge { ack, .. }) => ack.refusal(),
            _ => Failure::new(Stop::Refused, "nothing written: not confirmed."),
        }),
    }
}
