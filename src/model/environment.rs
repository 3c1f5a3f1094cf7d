//! The environment as plain data: what the preset choice needs to know about this machine.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EngineKind {
    Docker,
    Podman,
}

/// The container engine the OpenClaw sandbox will use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Engine {
    pub kind: EngineKind,
    pub rootless: bool,
}

impl Engine {
    /// The `--engine` spelling: docker, docker-rootless, podman, podman-rootless.
    pub fn label(&self) -> &'static str {
        match (self.kind, self.rootless) {
            (EngineKind::Docker, false) => "docker",
            (EngineKind::Docker, true) => "docker-rootless",
            (EngineKind::Podman, false) => "podman",
            (EngineKind::Podman, true) => "podman-rootless",
        }
    }

    pub fn parse_label(s: &str) -> Option<Option<Engine>> {
        let (kind, rootless) = match s {
            "none" => return Some(None),
            "docker" => (EngineKind::Docker, false),
            "docker-rootless" => (EngineKind::Docker, true),
            "podman" => (EngineKind::Podman, false),
            "podman-rootless" => (EngineKind::Podman, true),
            _ => return None,
        };
        Some(Some(Engine { kind, rootless }))
    }
}

/// Everything about the machine that changes the preset: the engine (None: no usable engine)
/// and the user the OpenClaw Gateway runs as (sandbox file ownership depends on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Environment {
    pub engine: Option<Engine>,
    pub uid: u32,
    pub gid: u32,
}
