//! OpenClaw itself: on PATH, its version (bounded: a node CLI can stall), and the config file.
//! `openclaw --version` runs on its own thread from the start of detection, so its ~0.2 s of
//! node start-up overlaps the socket probes instead of adding to them.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use super::prereqs::which_in;
use crate::model::detect_options::DetectOptions;
use crate::model::detection::OpenClawReport;

const NOTE: &str = "OpenClaw's docker sandbox runs the docker CLI in the Gateway service's environment: \
its DOCKER_HOST / DOCKER_CONTEXT (not this shell's) decide which engine the sandbox reaches.";

/// `openclaw --version` in flight.
pub struct Pending {
    path: Option<String>,
    run: Result<(Child, Receiver<String>), String>,
    deadline: Instant,
    config_path: Option<PathBuf>,
}

pub fn start(opts: &DetectOptions, timeout: Duration) -> Pending {
    let deadline = Instant::now() + timeout;
    let path = which_in(opts, "openclaw");
    let run = match &path {
        Some(p) => spawn_version(p, opts),
        None => Err(String::new()),
    };
    Pending {
        path,
        run,
        deadline,
        config_path: opts.config_path.clone(),
    }
}

fn spawn_version(program: &str, opts: &DetectOptions) -> Result<(Child, Receiver<String>), String> {
    let mut cmd = Command::new(program);
    cmd.arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .env("OPENCLAW_NO_AUTO_UPDATE", "1");
    if let Some(p) = &opts.path {
        cmd.env("PATH", p);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run {program} --version: {e}"))?;
    let mut out = child.stdout.take().ok_or("no stdout pipe")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = String::new();
        // A version line is short; the cap stops a misbehaving program from filling memory.
        let _ = (&mut out).take(64 * 1024).read_to_string(&mut buf);
        let _ = tx.send(buf);
    });
    Ok((child, rx))
}

impl Pending {
    pub fn finish(self) -> OpenClawReport {
        let config_exists = self.config_path.as_ref().is_some_and(|p| p.is_file());
        let (version, version_error) = match self.run {
            _ if self.path.is_none() => (None, None),
            Err(e) => (None, Some(e)),
            Ok((child, rx)) => wait_version(child, rx, self.deadline),
        };
        OpenClawReport {
            installed: self.path.is_some(),
            path: self.path,
            version,
            version_error,
            config_path: self.config_path.map(|p| p.display().to_string()),
            config_exists,
            note: NOTE.into(),
        }
    }
}

fn wait_version(
    mut child: Child,
    rx: Receiver<String>,
    deadline: Instant,
) -> (Option<String>, Option<String>) {
    let remaining = deadline.saturating_duration_since(Instant::now());
    let output = match rx.recv_timeout(remaining) {
        Ok(out) => out,
        Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => {
            let _ = child.kill();
            let _ = child.wait();
            return (
                None,
                Some("`openclaw --version` did not answer in time".into()),
            );
        }
    };
    // stdout is closed, so the process is exiting; still never wait past the deadline.
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(2)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    match (parse_version(&output), status) {
        (_, Some(s)) if !s.success() => (None, Some(format!("`openclaw --version` failed ({s})"))),
        (Some(v), _) => (Some(v), None),
        (None, _) => (
            None,
            Some(format!(
                "unrecognised `openclaw --version` output: {:?}",
                output.trim()
            )),
        ),
    }
}

/// "OpenClaw 2026.9.6 (eb377ac)" → "2026.9.6"; a bare "2026.9.6" works too.
pub fn parse_version(output: &str) -> Option<String> {
    output
        .lines()
        .flat_map(str::split_whitespace)
        .find(|t| t.starts_with(|c: char| c.is_ascii_digit()) && t.contains('.'))
        .map(|t| t.trim_start_matches('v').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(
            parse_version("OpenClaw 2026.9.6 (eb377ac)\n").as_deref(),
            Some("2026.9.6")
        );
        assert_eq!(parse_version("2026.1.2").as_deref(), Some("2026.1.2"));
        assert_eq!(parse_version("error: nope"), None);
    }
}
