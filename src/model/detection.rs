//! The detection report: plain data only (no sockets, no handles), so the pure core can decide
//! from it, tests can compare it, and `--json` can print it as is.

use serde::{Deserialize, Serialize};

use crate::model::environment::{Engine, EngineKind};

/// Everything detection learned about this machine, in one value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Every endpoint considered, in the docker CLI's order of precedence, then well-known sockets.
    pub engines: Vec<EngineReport>,
    /// Which engine the preset should use, decided by detection's `select`.
    pub selected: Selection,
    pub clis: Clis,
    pub rootless_prerequisites: RootlessPrerequisites,
    pub openclaw: OpenClawReport,
    /// Signs that clawposture (and a Gateway started the same way) runs inside a container.
    #[serde(default)]
    pub in_container: Option<InContainer>,
    /// The Gateway service's environment and the Docker endpoint it reaches.
    #[serde(default)]
    pub gateway: Option<crate::model::gateway_env::GatewayEnv>,
    /// The engine `--engine` named; `selected` is then that engine or none (see `select`).
    #[serde(default)]
    pub requested: Option<Engine>,
    pub elapsed_ms: u64,
}

/// Running inside a container: the signs, and what OpenClaw needs there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InContainer {
    /// `/.dockerenv`, `/run/.containerenv`, a cgroup name, a mounted engine socket.
    pub markers: Vec<String>,
    /// What OpenClaw needs when its Gateway runs in a container, in words.
    pub needs: String,
}

impl Report {
    /// The engine the preset should be written for, if any engine is usable.
    pub fn selected_engine(&self) -> Option<Engine> {
        let engine = self.engines.get(self.selected.index?)?;
        engine.as_engine()
    }

    /// The selected engine when it answers and is rootless: rootless prerequisites for the
    /// current user are then not needed (the engine runs as its own user already).
    pub fn working_rootless(&self) -> Option<&EngineReport> {
        self.selected
            .index
            .and_then(|i| self.engines.get(i))
            .filter(|e| e.state == State::Ready && e.rootless == Some(true))
    }
}

/// Where an endpoint came from; the first four follow the docker CLI's own precedence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// clawposture's `--docker-host` option (the DOCKER_HOST the Gateway service will have).
    Flag,
    /// The `DOCKER_HOST` environment variable.
    DockerHost,
    /// The context named by `DOCKER_CONTEXT`.
    DockerContext,
    /// `currentContext` in the docker CLI's `config.json`.
    ConfigContext,
    /// `$XDG_RUNTIME_DIR/docker.sock` (or `/run/user/$UID/docker.sock`): rootless Docker.
    RootlessDocker,
    /// `/var/run/docker.sock`: the system (rootful) Docker daemon, also the CLI's default.
    SystemDocker,
    /// `~/.docker/run/docker.sock` (macOS) or `~/.docker/desktop/docker.sock` (Linux): Docker
    /// Desktop.
    DockerDesktop,
    /// `~/.colima/<profile>/docker.sock` (older: `~/.colima/docker.sock`,
    /// `~/.config/colima/<profile>/docker.sock`): Colima.
    Colima,
    /// `~/.orbstack/run/docker.sock`: OrbStack.
    OrbStack,
    /// `~/.rd/docker.sock`: Rancher Desktop (moby engine).
    RancherDesktop,
    /// A Podman machine's forwarded API socket
    /// (`~/.local/share/containers/podman/machine/<provider>/podman.sock`).
    PodmanMachine,
    /// `$XDG_RUNTIME_DIR/podman/podman.sock` (or `/run/user/$UID/podman/podman.sock`).
    RootlessPodman,
    /// `/run/podman/podman.sock`.
    SystemPodman,
    /// The endpoint the Gateway service's environment names (its definition, `$STATE_DIR/.env`).
    Gateway,
    /// What the `podman` CLI reports (`podman info`, `podman system connection list`): how
    /// OpenClaw's podman backend finds Podman, socket or not.
    PodmanCli,
}

impl Source {
    pub fn label(self) -> &'static str {
        match self {
            Source::Flag => "--docker-host",
            Source::DockerHost => "DOCKER_HOST",
            Source::DockerContext => "DOCKER_CONTEXT",
            Source::ConfigContext => "docker context",
            Source::RootlessDocker => "rootless docker socket",
            Source::SystemDocker => "system docker socket",
            Source::DockerDesktop => "Docker Desktop socket",
            Source::Colima => "Colima socket",
            Source::OrbStack => "OrbStack socket",
            Source::RancherDesktop => "Rancher Desktop socket",
            Source::PodmanMachine => "Podman machine socket",
            Source::RootlessPodman => "rootless podman socket",
            Source::SystemPodman => "system podman socket",
            Source::Gateway => "the Gateway service's environment",
            Source::PodmanCli => "podman CLI",
        }
    }

    /// True for endpoints somebody configured, false for sockets we merely look for.
    pub fn is_explicit(self) -> bool {
        matches!(
            self,
            Source::Flag | Source::DockerHost | Source::DockerContext | Source::ConfigContext
        )
    }
}

/// What a plain connect (and, when it succeeds, the first API call) found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// The engine answered its API.
    Ready,
    /// A socket file with nobody behind it (connection refused): a stopped daemon's leftover.
    NotRunning,
    /// The socket exists but this user may not open it.
    PermissionDenied,
    /// The socket accepts connections but the engine did not answer in time.
    Timeout,
    /// No socket at that path.
    Missing,
    /// Not a `unix://` endpoint (tcp://, ssh://, npipe://): not probed.
    Unsupported,
    /// Anything else (unreadable context, an answer that is not an engine API, ...).
    Error,
}

impl State {
    pub fn label(self) -> &'static str {
        match self {
            State::Ready => "ready",
            State::NotRunning => "not running",
            State::PermissionDenied => "permission denied",
            State::Timeout => "timeout",
            State::Missing => "missing",
            State::Unsupported => "unsupported",
            State::Error => "error",
        }
    }
}

/// One endpoint and what it answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EngineReport {
    /// From the API when ready; otherwise inferred from a well-known socket path (see `confirmed`).
    pub kind: Option<EngineKind>,
    /// `unix:///path`, or whatever DOCKER_HOST / the context said.
    pub endpoint: String,
    pub source: Source,
    /// The docker context name, for the two context sources.
    pub context: Option<String>,
    pub state: State,
    /// From the API when ready; otherwise inferred from a well-known socket path.
    pub rootless: Option<bool>,
    /// `kind` and `rootless` come from the engine itself, not from where its socket lives.
    pub confirmed: bool,
    /// The docker CLI (and so OpenClaw's docker backend) reaches this endpoint in this environment.
    pub cli_default: bool,
    /// Server version (Docker Engine or Podman).
    pub version: Option<String>,
    /// The daemon's `/info` `ID`: two endpoints with the same ID are one daemon (how OpenClaw
    /// itself tells daemons apart, `docker info --format {{.ID}}`).
    #[serde(default)]
    pub daemon_id: Option<String>,
    pub api_version: Option<String>,
    /// "Docker Desktop", "WSL 2", "colima", "OrbStack" when recognisable: the engine runs in a VM.
    pub platform: Option<String>,
    pub operating_system: Option<String>,
    pub security: Option<Security>,
    pub cgroup_version: Option<String>,
    pub runtimes: Vec<String>,
    pub default_runtime: Option<String>,
    /// gVisor (`runsc`) is configured (Docker) or installed (Podman).
    pub gvisor: bool,
    /// Presence of the sandbox image; None when the engine is not ready.
    pub sandbox_image: Option<SandboxImage>,
    /// What went wrong, in words.
    pub detail: Option<String>,
    /// One command or sentence that fixes it.
    pub fix: Option<String>,
}

impl EngineReport {
    /// A blank report for an endpoint not yet probed.
    /// `docker rootless`, `podman rootful?`: a `?` when only the socket's location suggests
    /// the kind, not the engine itself.
    pub fn label(&self) -> String {
        let kind = match self.kind {
            Some(EngineKind::Docker) => "docker",
            Some(EngineKind::Podman) => "podman",
            None => "?",
        };
        let mode = match self.rootless {
            Some(true) => " rootless",
            Some(false) => " rootful",
            None => "",
        };
        let hedge = if self.confirmed || self.kind.is_none() {
            ""
        } else {
            "?"
        };
        format!("{kind}{mode}{hedge}")
    }

    pub fn new(endpoint: impl Into<String>, source: Source) -> EngineReport {
        EngineReport {
            kind: None,
            endpoint: endpoint.into(),
            source,
            context: None,
            state: State::Missing,
            rootless: None,
            confirmed: false,
            cli_default: false,
            version: None,
            daemon_id: None,
            api_version: None,
            platform: None,
            operating_system: None,
            security: None,
            cgroup_version: None,
            runtimes: Vec::new(),
            default_runtime: None,
            gvisor: false,
            sandbox_image: None,
            detail: None,
            fix: None,
        }
    }

    /// The core's view of this endpoint; only a ready engine of known kind is an `Engine`.
    pub fn as_engine(&self) -> Option<Engine> {
        if self.state != State::Ready {
            return None;
        }
        Some(Engine {
            kind: self.kind?,
            // Unknown counts as rootful: never claim the safer posture without evidence.
            rootless: self.rootless.unwrap_or(false),
        })
    }

    /// The socket path of a `unix://` endpoint.
    pub fn socket_path(&self) -> Option<&str> {
        self.endpoint.strip_prefix("unix://")
    }
}

/// The daemon's security features, from `/info` SecurityOptions (and libpod info for Podman).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Security {
    pub seccomp: bool,
    pub seccomp_profile: Option<String>,
    pub apparmor: bool,
    pub selinux: bool,
    /// Containers run in a remapped user namespace (Docker `userns-remap`, or any rootless engine).
    pub userns: bool,
    pub cgroupns: bool,
    pub no_new_privileges: bool,
    /// `name=rootless` was listed. Docker says so; Podman never does (ask libpod instead).
    pub rootless: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxImage {
    pub name: String,
    /// None when the engine did not answer the image query in time.
    pub present: Option<bool>,
}

/// The engine the preset should use, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Selection {
    /// Index into `Report::engines`, or None when no engine is usable.
    pub index: Option<usize>,
    pub reason: String,
    /// Set when the chosen endpoint is not what the docker CLI reaches by default: the
    /// `DOCKER_HOST` the Gateway's service environment needs.
    pub docker_host: Option<String>,
}

/// Container CLIs on PATH (absolute paths).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clis {
    pub docker: Option<String>,
    pub podman: Option<String>,
    pub rootless_setup_tool: Option<String>,
}

/// What rootless Docker needs on this machine, as `dockerd-rootless-setuptool.sh` checks it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootlessPrerequisites {
    pub user: Option<String>,
    pub uid: u32,
    /// Every check passed.
    pub ok: bool,
    pub checks: Vec<PrereqCheck>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrereqCheck {
    /// Stable identifier: non_root, newuidmap, newgidmap, subuid, subgid, userns_clone,
    /// max_user_namespaces, apparmor_userns, xdg_runtime_dir, rootlesskit, setup_tool.
    pub id: String,
    pub ok: bool,
    pub detail: String,
    /// The exact command (or step) that fixes a failed check; clawposture never runs it.
    pub fix: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenClawReport {
    pub installed: bool,
    pub path: Option<String>,
    pub version: Option<String>,
    /// Why `openclaw --version` gave no version (timeout, exit status, ...).
    pub version_error: Option<String>,
    pub config_path: Option<String>,
    pub config_exists: bool,
    pub note: String,
}
