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
    /// The version read from the installed package itself: then nothing runs.
    known: Option<String>,
    run: Result<(Child, Receiver<String>), String>,
    deadline: Instant,
    config_path: Option<PathBuf>,
}

pub fn start(opts: &DetectOptions, timeout: Duration) -> Pending {
    let deadline = Instant::now() + timeout;
    let path = which_in(opts, "openclaw");
    let known = path.as_deref().and_then(package_version);
    let run = match (&path, &known) {
        (_, Some(_)) | (None, _) => Err(String::new()),
        (Some(p), None) => spawn_version(p, opts),
    };
    Pending {
        path,
        known,
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
            _ if self.known.is_some() => (self.known, None),
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

/// The version of the installed `openclaw` package the command runs, without starting node
/// (~0.2 s): the command resolved through its symlinks to `.../openclaw/openclaw.mjs` (npm,
/// pnpm), or a small launcher script naming `.../node_modules/openclaw/...`; then that
/// package's `package.json`. None when it cannot be told: `openclaw --version` runs instead.
fn package_version(program: &str) -> Option<String> {
    let real = std::fs::canonicalize(program).ok()?;
    let package_dir = if real
        .extension()
        .is_some_and(|x| x == "mjs" || x == "js" || x == "cjs")
    {
        real.ancestors()
            .skip(1)
            .take(4)
            .find(|d| d.join("package.json").is_file())?
            .to_path_buf()
    } else {
        let meta = std::fs::metadata(&real).ok()?;
        if meta.len() > 16 * 1024 {
            return None;
        }
        let text = std::fs::read_to_string(&real).ok()?;
        if !text.starts_with("#!") {
            return None;
        }
        let marker = "node_modules/openclaw/";
        let at = text.find(marker)?;
        let start = text[..at]
            .rfind(|c: char| c == '"' || c == '\'' || c.is_whitespace())
            .map_or(0, |i| i + 1);
        PathBuf::from(&text[start..at + marker.len()])
    };
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(package_dir.join("package.json")).ok()?)
            .ok()?;
    (doc.get("name")?.as_str()? == "openclaw")
        .then(|| doc.get("version")?.as_str().map(str::to_string))
        .flatten()
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
    fn the_version_comes_from_the_package_a_symlink_or_a_launcher_names() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pkg = dir.path().join("lib/node_modules/openclaw");
        std::fs::create_dir_all(&pkg).expect("mkdir");
        std::fs::write(
            pkg.join("package.json"),
            r#"{"name":"openclaw","version":"2026.9.6"}"#,
        )
        .expect("package.json");
        std::fs::write(pkg.join("openclaw.mjs"), "#!/usr/bin/env node\n").expect("mjs");
        // npm's global bin: a symlink to the package's entry point.
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).expect("bin");
        std::os::unix::fs::symlink(pkg.join("openclaw.mjs"), bin.join("openclaw")).expect("link");
        let link = bin.join("openclaw").display().to_string();
        assert_eq!(package_version(&link).as_deref(), Some("2026.9.6"));
        // A launcher script (setup.sh, pnpm) naming the package.
        let sh = bin.join("openclaw-sh");
        std::fs::write(
            &sh,
            format!(
                "#!/bin/sh\nexec \"/usr/bin/node\" \"{}/openclaw.mjs\" \"$@\"\n",
                pkg.display()
            ),
        )
        .expect("script");
        assert_eq!(
            package_version(&sh.display().to_string()).as_deref(),
            Some("2026.9.6")
        );
        // Another package's name, or a binary: unknown (then `--version` runs).
        std::fs::write(
            pkg.join("package.json"),
            r#"{"name":"other","version":"1.0.0"}"#,
        )
        .expect("package.json");
        assert_eq!(package_version(&link), None);
        assert_eq!(package_version("/bin/sh"), None);
    }

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
