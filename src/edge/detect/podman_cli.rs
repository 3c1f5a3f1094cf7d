//! The `podman` CLI, run the way OpenClaw's podman backend runs it (as this user, with the
//! Gateway's CONTAINER_HOST / CONTAINER_CONNECTION, not the shell's): `podman info --format
//! json` and `podman system connection list --format json`, both started when detection starts
//! and bounded by the probe deadline. Its answer makes Podman usable although its API socket is
//! not listening (OpenClaw never uses the socket); what to conclude is `domain::podman_cli`.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use super::facts;
use super::prereqs::which_in;
use crate::domain::podman_cli::{self as verdict, Connection, PodmanInfo};
use crate::model::detect_options::DetectOptions;
use crate::model::detection::{EngineReport, Source, State};
use crate::model::environment::EngineKind;
use crate::model::gateway_env::GatewayEnv;

type Run = Result<(Child, Receiver<String>), String>;

/// `podman info` starts a user namespace and reads its store: ~0.3 s idle, over a second on a
/// loaded machine (OpenClaw's own probe allows 5 s). It is waited for this long only when no
/// Podman socket answered already; otherwise the probes' deadline bounds it too.
const CLI_TIMEOUT: Duration = Duration::from_secs(3);

/// Both commands in flight.
pub struct Pending {
    program: Option<String>,
    info: Option<Run>,
    connections: Option<Run>,
    deadline: Instant,
    /// How long to wait when no Podman answered through its socket.
    slow_deadline: Instant,
    container_host: Option<String>,
}

pub fn start(opts: &DetectOptions, gateway: &GatewayEnv, deadline: Instant) -> Pending {
    let program = which_in(opts, "podman");
    let var = |k: &str| gateway.var(k).map(|v| v.value.clone());
    let env = [
        ("CONTAINER_HOST", var("CONTAINER_HOST")),
        ("CONTAINER_CONNECTION", var("CONTAINER_CONNECTION")),
    ];
    let spawn = |args: &[&str]| program.as_deref().map(|p| spawn(p, args, opts, &env));
    Pending {
        info: spawn(&["info", "--format", "json"]),
        connections: spawn(&["system", "connection", "list", "--format", "json"]),
        program,
        deadline,
        slow_deadline: deadline.max(Instant::now() + CLI_TIMEOUT),
        container_host: var("CONTAINER_HOST"),
    }
}

fn spawn(
    program: &str,
    args: &[&str],
    opts: &DetectOptions,
    env: &[(&str, Option<String>)],
) -> Run {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(p) = &opts.path {
        cmd.env("PATH", p);
    }
    if let Some(h) = &opts.home {
        cmd.env("HOME", h);
    }
    match &opts.xdg_runtime_dir {
        Some(x) => cmd.env("XDG_RUNTIME_DIR", x),
        None => cmd.env_remove("XDG_RUNTIME_DIR"),
    };
    for (k, v) in env {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run {program} {}: {e}", args.join(" ")))?;
    let mut out = child.stdout.take().ok_or("no stdout pipe")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = String::new();
        let _ = (&mut out).take(4 * 1024 * 1024).read_to_string(&mut buf);
        let _ = tx.send(buf);
    });
    Ok((child, rx))
}

fn wait(run: Run, deadline: Instant, what: &str) -> Result<String, String> {
    let (mut child, rx) = run?;
    let left = deadline.saturating_duration_since(Instant::now());
    match rx.recv_timeout(left) {
        Ok(out) => match child.wait() {
            Ok(s) if s.success() => Ok(out),
            Ok(s) => Err(format!("`podman {what}` failed ({s})")),
            Err(e) => Err(format!("`podman {what}`: {e}")),
        },
        Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {
            let _ = child.kill();
            let _ = child.wait();
            Err(format!("`podman {what}` did not answer in time"))
        }
    }
}

impl Pending {
    /// Fold the CLI's answer into the engines: the socket entry it names becomes usable (or a
    /// new entry is added), a remote Podman OpenClaw would refuse is said so.
    pub fn finish(self, engines: &mut Vec<EngineReport>) {
        let (Some(program), Some(info)) = (self.program, self.info) else {
            return;
        };
        let socket_answered = engines
            .iter()
            .any(|e| e.kind == Some(EngineKind::Podman) && e.state == State::Ready);
        let deadline = if socket_answered {
            self.deadline
        } else {
            self.slow_deadline
        };
        let info = wait(info, deadline, "info")
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).map_err(|e| e.to_string()));
        let connections = self
            .connections
            .map(|c| wait(c, deadline, "system connection list"))
            .and_then(Result::ok)
            .map(|t| verdict::parse_connections(&t))
            .unwrap_or_default();
        let (value, parsed) = match info.and_then(|v| verdict::parse_info(&v).map(|i| (v, i))) {
            Ok(x) => x,
            Err(e) => {
                // Only worth a line when no Podman answered any other way.
                if !engines
                    .iter()
                    .any(|e| e.kind == Some(EngineKind::Podman) && e.state == State::Ready)
                {
                    let mut r =
                        EngineReport::new(format!("podman CLI ({program})"), Source::PodmanCli);
                    r.kind = Some(EngineKind::Podman);
                    r.state = State::Error;
                    r.detail = Some(e);
                    r.fix = Some("run `podman info` as the Gateway's user to see why".into());
                    engines.push(r);
                }
                return;
            }
        };
        merge(
            engines,
            &value,
            &parsed,
            &connections,
            self.container_host.as_deref(),
        );
    }
}

/// Pure apart from its inputs: the CLI's facts into the report.
pub fn merge(
    engines: &mut Vec<EngineReport>,
    value: &serde_json::Value,
    info: &PodmanInfo,
    connections: &[Connection],
    container_host: Option<&str>,
) {
    let endpoint = verdict::endpoint(info, connections, container_host);
    let at = match &endpoint {
        Ok(e) => engines.iter().position(|r| same(&r.endpoint, e)),
        Err(_) => None,
    };
    let mut r = match at {
        Some(i) if engines[i].state == State::Ready => return,
        Some(i) => engines.remove(i),
        None => EngineReport::new(
            endpoint
                .clone()
                .unwrap_or_else(|_| "podman CLI (remote)".into()),
            Source::PodmanCli,
        ),
    };
    let socket_state = (r.state != State::Missing || at.is_some()).then_some(r.state);
    r.kind = Some(EngineKind::Podman);
    r.rootless = Some(info.rootless);
    r.confirmed = true;
    r.version = info.version.clone().or(r.version);
    match endpoint {
        Ok(_) => {
            facts::apply_libpod_info(&mut r, value);
            r.state = State::Ready;
            r.fix = None;
            let via = if info.remote {
                "through its connection (a Podman machine)"
            } else {
                "as this user"
            };
            r.detail = Some(match socket_state {
                Some(s) if s != State::Ready => format!(
                    "the podman CLI answers {via}; its API socket is {} — OpenClaw's podman backend uses the CLI, not the socket",
                    s.label()
                ),
                _ => {
                    format!("the podman CLI answers {via} (OpenClaw's podman backend uses the CLI)")
                }
            });
        }
        Err(why) => {
            r.state = State::Unsupported;
            r.detail = Some(why);
            r.fix = Some(
                "use a local Podman (or `podman machine start` on this computer), or Docker".into(),
            );
        }
    }
    let at = at.unwrap_or(engines.len()).min(engines.len());
    engines.insert(at, r);
}

fn same(a: &str, b: &str) -> bool {
    a.trim_start_matches("unix://") == b.trim_start_matches("unix://")
}
