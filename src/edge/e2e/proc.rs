//! A child process with a deadline: its own process group (killed whole on timeout or when
//! asked to stop), SIGKILLed if clawposture dies first, output collected on threads.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

/// What one run produced.
#[derive(Debug, Clone, Default)]
pub struct Ran {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub timed_out: bool,
    /// Stopped because a signal asked clawposture to stop.
    pub interrupted: bool,
    pub error: Option<String>,
}

impl Ran {
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }
}

/// The signal that asked this process to stop (0: none).
static STOP: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_stop(sig: libc::c_int) {
    STOP.store(sig, Ordering::SeqCst);
}

/// Turn SIGINT/SIGTERM/SIGHUP into a flag the waits below look at, so a stop cleans up.
pub fn catch_stop_signals() {
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: a zeroed sigaction with a handler that only stores an atomic is well formed.
        unsafe {
            let mut new: libc::sigaction = std::mem::zeroed();
            new.sa_sigaction = on_stop as *const () as usize;
            libc::sigemptyset(&mut new.sa_mask);
            new.sa_flags = libc::SA_RESTART;
            libc::sigaction(sig, &new, std::ptr::null_mut());
        }
    }
}

/// The stop signal received, if any.
pub fn stop_signal() -> Option<i32> {
    match STOP.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

/// Run `argv` with `env` added, in `cwd`, for at most `timeout`.
pub fn run(argv: &[String], env: &[(String, String)], cwd: &Path, timeout: Duration) -> Ran {
    spawn_wait(argv, env, cwd, timeout, Output::Piped, None)
}

/// As [`run`], cut short by a stop signal: for the checks before a run, which leave nothing
/// to clean up (a stop need not wait for an engine that takes its time to answer).
pub fn run_stoppable(
    argv: &[String],
    env: &[(String, String)],
    cwd: &Path,
    timeout: Duration,
) -> Ran {
    spawn_wait(argv, env, cwd, timeout, Output::PipedStoppable, None)
}

/// As [`run`], as user `uid`:`gid` (no supplementary groups) when given.
pub fn run_as(
    argv: &[String],
    env: &[(String, String)],
    cwd: &Path,
    timeout: Duration,
    user: Option<(u32, u32)>,
) -> Ran {
    spawn_wait(argv, env, cwd, timeout, Output::Piped, user)
}

/// As [`run`], with the child's stderr going straight to ours (its progress lines are seen as
/// they come); a stop signal (SIGINT/SIGTERM/SIGHUP) kills it at once.
pub fn run_inherit_stderr(
    argv: &[String],
    env: &[(String, String)],
    cwd: &Path,
    timeout: Duration,
) -> Ran {
    spawn_wait(
        argv,
        env,
        cwd,
        timeout,
        Output::InheritStderrStoppable,
        None,
    )
}

/// Where the child's stderr goes, and whether a stop signal cuts the child short.
#[derive(Clone, Copy, PartialEq)]
enum Output {
    /// Collected; the child finishes even after a stop signal (cleanup calls must).
    Piped,
    /// Collected; killed at once on a stop signal.
    PipedStoppable,
    /// Straight to our stderr; killed at once on a stop signal.
    InheritStderrStoppable,
}

fn spawn_wait(
    argv: &[String],
    env: &[(String, String)],
    cwd: &Path,
    timeout: Duration,
    output: Output,
    user: Option<(u32, u32)>,
) -> Ran {
    let inherit_stderr = output == Output::InheritStderrStoppable;
    let Some(program) = argv.first() else {
        return Ran {
            error: Some("empty command".into()),
            ..Ran::default()
        };
    };
    let mut cmd = Command::new(program);
    cmd.args(&argv[1..])
        .envs(env.iter().cloned())
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(if inherit_stderr {
            Stdio::inherit()
        } else {
            Stdio::piped()
        })
        .process_group(0);
    // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(move || {
            if let Some((uid, gid)) = user
                && (libc::setgroups(0, std::ptr::null()) != 0
                    || libc::setgid(gid) != 0
                    || libc::setuid(uid) != 0)
            {
                return Err(std::io::Error::last_os_error());
            }
            // After setuid: a change of credentials clears the parent-death signal.
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return Ran {
                error: Some(format!("cannot run {program}: {e}")),
                ..Ran::default()
            };
        }
    };
    let pid = child.id() as i32;
    let reader = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut s = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut s);
            }
            String::from_utf8_lossy(&s).into_owned()
        })
    };
    let out = reader(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = reader(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let start = Instant::now();
    let mut ran = Ran::default();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                ran.code = status.code();
                break;
            }
            Ok(None) => {}
            Err(e) => {
                ran.error = Some(e.to_string());
                break;
            }
        }
        // Only the run and the checks before it are cut short by a stop signal: the cleanup's
        // engine calls that follow one must finish.
        let stop = output != Output::Piped && stop_signal().is_some();
        if stop || start.elapsed() >= timeout {
            ran.interrupted = stop;
            ran.timed_out = !stop;
            // SAFETY: signalling the process group created for this child.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
            let _ = child.wait();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // Whatever the group left behind holding the pipes dies with it.
    // SAFETY: as above; ESRCH when the group is gone already.
    unsafe {
        libc::kill(-pid, libc::SIGKILL);
    }
    ran.stdout = out.join().unwrap_or_default();
    ran.stderr = err.join().unwrap_or_default();
    ran
}

/// The last `n` lines of `s`.
pub fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
