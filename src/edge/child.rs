//! Child processes that never outlive their purpose: each runs in its own process group with a
//! deadline, its output captured, and on timeout, SIGINT, SIGTERM or SIGHUP the whole tree is
//! killed — the child's group and every descendant, including those that moved to process
//! groups of their own (OpenClaw starts `npm view` that way). clawposture becomes a child
//! subreaper while children run, so a descendant whose parent died is re-parented here and
//! still found. Children also get PR_SET_PDEATHSIG, so a killed clawposture takes them along.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// One command to run.
#[derive(Debug, Clone)]
pub struct Spec {
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
    pub cwd: PathBuf,
    pub timeout: Duration,
    /// How progress lines and errors name it.
    pub label: String,
}

/// What one command produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Output {
    pub label: String,
    /// The exit code (None: a signal ended it, or it never ran).
    pub rc: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub timed_out: bool,
    /// It could not be started, or waiting for it failed.
    pub error: Option<String>,
    pub elapsed: Duration,
}

/// A signal (SIGINT, SIGTERM, SIGHUP) stopped the run; every child was killed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interrupted(pub i32);

/// What `run_all` reports while it runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Event<'a> {
    Started {
        label: &'a str,
    },
    Running {
        label: &'a str,
        elapsed: Duration,
    },
    /// A progress line the child printed on stderr after [`PROGRESS`] (one process that runs
    /// several checks reports each as it goes).
    Said {
        label: &'a str,
        line: &'a str,
    },
    Finished {
        output: &'a Output,
    },
}

/// Lines a child prints on stderr after this prefix are progress for the user: relayed as they
/// come ([`Event::Said`]) and left out of the captured stderr.
pub const PROGRESS: &str = "CLAWPOSTURE_PROGRESS ";

/// How often a still-running child is reported.
pub const TICK: Duration = Duration::from_secs(5);

struct Running {
    child: Child,
    pid: i32,
    out: Option<JoinHandle<String>>,
    err: Option<JoinHandle<String>>,
    said: Receiver<String>,
    started: Instant,
    last_tick: Instant,
    /// The value of [`MARKER`] in this child's environment.
    marker: String,
}

fn reader(pipe: Option<impl Read + Send + 'static>) -> Option<JoinHandle<String>> {
    let mut pipe = pipe?;
    Some(std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = pipe.read_to_end(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    }))
}

/// The stderr reader: progress lines go to `said` at once, the rest is kept.
fn err_reader(
    pipe: Option<impl Read + Send + 'static>,
    said: Sender<String>,
) -> Option<JoinHandle<String>> {
    let pipe = pipe?;
    Some(std::thread::spawn(move || {
        let mut r = BufReader::new(pipe);
        let mut kept = Vec::new();
        let mut line = Vec::new();
        while matches!(r.read_until(b'\n', &mut line), Ok(n) if n > 0) {
            match line.strip_prefix(PROGRESS.as_bytes()) {
                Some(rest) => {
                    let _ = said.send(String::from_utf8_lossy(rest).trim_end().to_string());
                }
                None => kept.extend_from_slice(&line),
            }
            line.clear();
        }
        String::from_utf8_lossy(&kept).into_owned()
    }))
}

fn spawn(spec: &Spec) -> Result<Running, String> {
    let Some(program) = spec.argv.first() else {
        return Err("empty command".into());
    };
    let marker = format!(
        "{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    );
    let mut cmd = Command::new(program);
    cmd.args(&spec.argv[1..])
        .envs(spec.env.iter().cloned())
        .env(MARKER, &marker)
        .current_dir(&spec.cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    let now = Instant::now();
    let (tx, said) = channel();
    Ok(Running {
        pid: child.id() as i32,
        out: reader(child.stdout.take()),
        err: err_reader(child.stderr.take(), tx),
        said,
        child,
        started: now,
        last_tick: now,
        marker,
    })
}

/// Parent pid of every process, from /proc (pid -> ppid).
fn process_table() -> Vec<(i32, i32)> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| {
        let pid: i32 = e.ok()?.file_name().to_str()?.parse().ok()?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // The command name is in parentheses and may contain spaces: read after the last ')'.
        let rest = &stat[stat.rfind(')')? + 1..];
        let ppid: i32 = rest.split_whitespace().nth(1)?.parse().ok()?;
        Some((pid, ppid))
    })
    .collect()
}

/// Every descendant of `root` (not `root` itself).
pub fn descendants(root: i32) -> BTreeSet<i32> {
    let table = process_table();
    let mut found = BTreeSet::new();
    let mut frontier = vec![root];
    while let Some(p) = frontier.pop() {
        for (pid, ppid) in &table {
            if *ppid == p && found.insert(*pid) {
                frontier.push(*pid);
            }
        }
    }
    found
}

/// Processes whose environment carries `marker` (descendants keep it even when re-parented).
fn marked(marker: &str) -> BTreeSet<i32> {
    let needle = format!("{MARKER}={marker}");
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return BTreeSet::new();
    };
    dir.filter_map(|e| {
        let pid: i32 = e.ok()?.file_name().to_str()?.parse().ok()?;
        let env = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
        env.split(|b| *b == 0)
            .any(|v| v == needle.as_bytes())
            .then_some(pid)
    })
    .collect()
}

fn state(pid: i32) -> Option<(char, i32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let mut rest = stat[stat.rfind(')')? + 1..].split_whitespace();
    let st = rest.next()?.chars().next()?;
    let ppid = rest.next()?.parse().ok()?;
    Some((st, ppid))
}

/// Kill a child's process group and every descendant (and their groups) — found by parent
/// pid and by the run's environment marker, so one that left our tree is found too — then
/// wait until none of them is left, reaping those re-parented to this process.
fn kill_tree(pid: i32, marker: &str) {
    // SAFETY: signalling our own child's group; SIGSTOP so nothing forks while we look.
    unsafe {
        libc::kill(-pid, libc::SIGSTOP);
    }
    let mut tree: BTreeSet<i32> = descendants(pid);
    tree.extend(marked(marker));
    tree.remove(&pid);
    // SAFETY: getpgrp has no preconditions.
    let mine = unsafe { libc::getpgrp() };
    for p in &tree {
        // SAFETY: kill(2) on descendants of our child; a descendant's own group goes whole.
        unsafe {
            let pgid = libc::getpgid(*p);
            if pgid > 0 && pgid != mine {
                libc::kill(-pgid, libc::SIGKILL);
            }
            libc::kill(*p, libc::SIGKILL);
        }
    }
    // SAFETY: as above.
    unsafe {
        libc::kill(-pid, libc::SIGKILL);
    }
    let me = std::process::id() as i32;
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let mut left = false;
        for p in &tree {
            match state(*p) {
                Some((_, ppid)) if ppid == me => {
                    // Re-parented here (subreaper): reap it ourselves.
                    // SAFETY: WNOHANG wait on one specific pid that is not a std Child.
                    unsafe {
                        libc::waitpid(*p, std::ptr::null_mut(), libc::WNOHANG);
                    }
                    left |= state(*p).is_some_and(|(st, _)| st != 'Z');
                }
                Some((st, _)) => left |= st != 'Z',
                None => {}
            }
        }
        if !left || Instant::now() >= deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    // Zombies re-parented here after the loop saw them alive.
    for p in &tree {
        if state(*p).is_some_and(|(_, ppid)| ppid == me) {
            // SAFETY: as above.
            unsafe {
                libc::waitpid(*p, std::ptr::null_mut(), libc::WNOHANG);
            }
        }
    }
}

/// The environment variable that marks every process of one run (value: pid and sequence).
pub const MARKER: &str = "CLAWPOSTURE_CHILD_OF";

static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn finish(label: &str, mut r: Running, timed_out: bool) -> Output {
    let status = r.child.wait();
    let mut o = Output {
        label: label.to_string(),
        timed_out,
        elapsed: r.started.elapsed(),
        ..Default::default()
    };
    match status {
        Ok(s) => o.rc = s.code(),
        Err(e) => o.error = Some(e.to_string()),
    }
    o.stdout = r.out.take().and_then(|h| h.join().ok()).unwrap_or_default();
    o.stderr = r.err.take().and_then(|h| h.join().ok()).unwrap_or_default();
    o
}

/// Run every spec at once, each with its own deadline; `on` sees each start, a tick per
/// running child every [`TICK`], and each end. A signal kills every child (with its tree) and
/// returns `Interrupted`.
pub fn run_all(specs: &[Spec], on: &dyn Fn(Event)) -> Result<Vec<Output>, Interrupted> {
    // SAFETY: a process attribute; descendants orphaned below us are re-parented here.
    unsafe {
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1);
    }
    let guard = crate::edge::verify::live::SignalGuard::install().ok();
    let mut outputs: Vec<Option<Output>> = vec![None; specs.len()];
    let mut running: Vec<Option<Running>> = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        match spawn(spec) {
            Ok(r) => {
                on(Event::Started { label: &spec.label });
                running.push(Some(r));
            }
            Err(e) => {
                outputs[i] = Some(Output {
                    label: spec.label.clone(),
                    error: Some(e),
                    ..Default::default()
                });
                running.push(None);
            }
        }
    }
    let mut interrupted = None;
    while running.iter().any(Option::is_some) {
        if let Some(sig) = guard.as_ref().and_then(|g| g.pending()) {
            interrupted = Some(sig);
            for (i, slot) in running.iter_mut().enumerate() {
                if let Some(r) = slot.take() {
                    kill_tree(r.pid, &r.marker);
                    outputs[i] = Some(finish(&specs[i].label, r, false));
                }
            }
            break;
        }
        for (i, slot) in running.iter_mut().enumerate() {
            let Some(r) = slot.as_mut() else { continue };
            for line in r.said.try_iter() {
                on(Event::Said {
                    label: &specs[i].label,
                    line: &line,
                });
            }
            let done = matches!(r.child.try_wait(), Ok(Some(_)) | Err(_));
            let late = r.started.elapsed() >= specs[i].timeout;
            if done || late {
                // A finished child may have left descendants behind (their own groups).
                kill_tree(r.pid, &r.marker);
                if let Some(mut r) = slot.take() {
                    let said = std::mem::replace(&mut r.said, channel().1);
                    let o = finish(&specs[i].label, r, late && !done);
                    // The reader has ended: the last lines are all here.
                    for line in said.try_iter() {
                        on(Event::Said {
                            label: &specs[i].label,
                            line: &line,
                        });
                    }
                    on(Event::Finished { output: &o });
                    outputs[i] = Some(o);
                }
            } else if r.last_tick.elapsed() >= TICK {
                r.last_tick = Instant::now();
                on(Event::Running {
                    label: &specs[i].label,
                    elapsed: r.started.elapsed(),
                });
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(guard);
    match interrupted {
        Some(sig) => Err(Interrupted(sig)),
        None => Ok(outputs.into_iter().map(Option::unwrap_or_default).collect()),
    }
}

/// Run one command (no signal handling of its own: the caller's signals stay as they are).
pub fn run(spec: &Spec) -> Output {
    let r = match spawn(spec) {
        Ok(r) => r,
        Err(e) => {
            return Output {
                label: spec.label.clone(),
                error: Some(e),
                ..Default::default()
            };
        }
    };
    let mut r = r;
    loop {
        let done = matches!(r.child.try_wait(), Ok(Some(_)) | Err(_));
        let late = r.started.elapsed() >= spec.timeout;
        if done || late {
            kill_tree(r.pid, &r.marker);
            return finish(&spec.label, r, late && !done);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A progress line for an event (None: nothing to say).
pub fn progress_line(e: &Event) -> Option<String> {
    match e {
        Event::Started { label } => Some(format!("clawposture: {label} …")),
        Event::Running { label, elapsed } => {
            Some(format!("clawposture: {label} … {} s", elapsed.as_secs()))
        }
        Event::Said { line, .. } => Some(format!("clawposture: {line}")),
        Event::Finished { output } => Some(format!(
            "clawposture: {} {} after {:.1} s",
            output.label,
            if output.timed_out {
                "timed out".to_string()
            } else if let Some(e) = &output.error {
                format!("failed ({e})")
            } else {
                match output.rc {
                    Some(rc) => format!("done (exit {rc})"),
                    None => "ended by a signal".to_string(),
                }
            },
            output.elapsed.as_secs_f64()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str, timeout: Duration) -> Spec {
        Spec {
            argv: vec!["/bin/sh".into(), "-c".into(), script.into()],
            env: vec![],
            cwd: PathBuf::from("/"),
            timeout,
            label: "sh".into(),
        }
    }

    fn alive(pid: i32) -> bool {
        // A zombie is dead for our purpose.
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| {
                let rest = &s[s.rfind(')').unwrap_or(0) + 1..];
                rest.split_whitespace().next() != Some("Z")
            })
            .unwrap_or(false)
    }

    #[test]
    fn output_and_exit_code_are_captured() {
        let o = run(&sh(
            "echo out; echo err >&2; exit 3",
            Duration::from_secs(20),
        ));
        assert_eq!(o.rc, Some(3));
        assert_eq!(o.stdout, "out\n");
        assert_eq!(o.stderr, "err\n");
        assert!(!o.timed_out);
    }

    #[test]
    fn a_deadline_kills_grandchildren_in_their_own_groups() {
        // The grandchild moves to a session (and group) of its own, as npm does under OpenClaw,
        // and prints its pid so the test can look for it afterwards.
        let o = run(&sh(
            "setsid sh -c 'echo $$; exec sleep 300' & wait",
            Duration::from_millis(700),
        ));
        assert!(o.timed_out, "{o:?}");
        let pid: i32 = o.stdout.trim().parse().expect("the grandchild's pid");
        let gone = (0..100).any(|_| {
            std::thread::sleep(Duration::from_millis(20));
            !alive(pid)
        });
        assert!(gone, "grandchild {pid} survived the deadline");
    }

    #[test]
    fn run_all_runs_concurrently_and_reports_each() {
        let specs: Vec<Spec> = (0..3)
            .map(|i| Spec {
                label: format!("job{i}"),
                ..sh("sleep 0.4; echo done", Duration::from_secs(20))
            })
            .collect();
        let seen = std::sync::Mutex::new(Vec::new());
        let t = Instant::now();
        let out = run_all(&specs, &|e| {
            if let Some(l) = progress_line(&e) {
                seen.lock().unwrap().push(l);
            }
        })
        .expect("no signal");
        // Three 0.4 s jobs one after another would take 1.2 s.
        assert!(
            t.elapsed() < Duration::from_millis(1100),
            "{:?}",
            t.elapsed()
        );
        assert!(out.iter().all(|o| o.stdout == "done\n" && o.rc == Some(0)));
        let seen = seen.into_inner().unwrap();
        assert_eq!(seen.iter().filter(|l| l.ends_with('…')).count(), 3);
        assert_eq!(
            seen.iter().filter(|l| l.contains("done (exit 0)")).count(),
            3
        );
    }

    #[test]
    fn progress_lines_are_relayed_and_kept_out_of_stderr() {
        let seen = std::sync::Mutex::new(Vec::new());
        let out = run_all(
            &[sh(
                "echo 'CLAWPOSTURE_PROGRESS step one done after 0.1 s' >&2; echo other >&2; echo out",
                Duration::from_secs(20),
            )],
            &|e| {
                if let Some(l) = progress_line(&e) {
                    seen.lock().unwrap().push(l);
                }
            },
        )
        .expect("no signal");
        assert_eq!(out[0].stderr, "other\n");
        assert_eq!(out[0].stdout, "out\n");
        let seen = seen.into_inner().unwrap();
        let at = |needle: &str| seen.iter().position(|l| l.contains(needle));
        let said = at("clawposture: step one done after 0.1 s").expect("relayed");
        assert!(said < at("sh done (exit 0)").expect("finished"), "{seen:?}");
    }

    #[test]
    fn a_missing_program_is_an_error_not_a_panic() {
        let o = run(&Spec {
            argv: vec!["/nonexistent/prog".into()],
            ..sh("", Duration::from_secs(1))
        });
        assert!(o.error.as_deref().unwrap_or("").contains("cannot run"));
    }
}
