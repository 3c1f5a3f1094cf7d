//! What a probe run saw, as plain data (gathered by `edge::e2e`, judged by [`super::judge`],
//! printed by `--json`).

use serde::{Deserialize, Serialize};

use super::probe::Probe;
use super::script::Action;

/// The fields of `docker/podman inspect` the posture is about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Container {
    pub name: String,
    pub network_mode: String,
    pub readonly_rootfs: Option<bool>,
    pub cap_drop: Vec<String>,
    /// Podman's `EffectiveCaps` (Docker has no such field): Podman lists the default set it
    /// dropped instead of `ALL`, so an empty effective set is how `ALL` shows there.
    pub effective_caps: Option<Vec<String>>,
    pub security_opt: Vec<String>,
    pub user: String,
    /// `source:destination:mode` of every bind mount.
    pub binds: Vec<String>,
    pub pids_limit: Option<i64>,
    pub memory: Option<i64>,
    pub nano_cpus: Option<i64>,
    /// OpenClaw's `openclaw.*` labels (session key, agent).
    pub labels: Vec<(String, String)>,
}

impl Container {
    /// The session key OpenClaw recorded on the container, if any.
    pub fn session(&self) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k.to_ascii_lowercase().contains("session"))
            .map(|(_, v)| v.as_str())
    }
}

/// One `openclaw agent --local` turn.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Turn {
    pub agent: String,
    pub session: String,
    /// The agent's main session key (`agent:<id>:main`).
    pub main: bool,
    /// The tool names OpenClaw offered the model in the turn's first request.
    pub tools_offered: Vec<String>,
    /// How many chat-completions requests the turn made.
    pub requests: usize,
    /// What the scripted model did on the first request.
    pub action: Option<Action>,
    /// The tool result OpenClaw sent back (the probe's output, or a refusal).
    pub tool_result: Option<String>,
    pub probe: Option<Probe>,
    pub exit_code: Option<i32>,
    pub timed_out: bool,
    pub error: Option<String>,
    /// The end of OpenClaw's stderr (why a turn failed).
    pub stderr_tail: String,
    /// `meta.systemPromptReport.sandbox.sandboxed` of the turn's JSON (OpenClaw's claim).
    pub claimed_sandboxed: Option<bool>,
    /// Containers with the run's prefix that appeared during this turn.
    pub containers: Vec<Container>,
    pub seconds: f64,
}

/// The engine the run used.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineFacts {
    /// `docker` or `podman`.
    pub cli: String,
    pub endpoint: Option<String>,
    pub rootless: Option<bool>,
    pub cgroup_version: Option<String>,
    pub cgroup_driver: Option<String>,
}

impl EngineFacts {
    /// Whether the engine enforces pids/memory/cpu limits it records (None: unknown).
    /// Rootless on cgroup v1 records them (Docker) or drops them (Podman) but enforces none.
    pub fn enforces_limits(&self) -> Option<bool> {
        if self.cgroup_driver.as_deref() == Some("none") {
            return Some(false);
        }
        match (self.rootless, self.cgroup_version.as_deref()) {
            (Some(true), Some("1")) => Some(false),
            (Some(_), Some(_)) => Some(true),
            _ => None,
        }
    }
}

/// Everything one run gathered.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub turns: Vec<Turn>,
    pub engine: EngineFacts,
    pub container_prefix: String,
    /// A failure before any turn ran (no namespace, the model server, …).
    pub setup_error: Option<String>,
    /// Containers with the prefix still present after cleanup.
    pub leftover: Vec<String>,
}
