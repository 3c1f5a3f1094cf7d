//! The Gateway service's environment as the service sees it (plain data): the variables that
//! decide which engine its `docker`/`podman` CLI reaches, each with where it came from, and
//! the endpoint that follows from them.

use serde::{Deserialize, Serialize};

/// One variable of the service's environment and the place that set it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceVar {
    pub name: String,
    pub value: String,
    /// `Environment= in <unit>`, `EnvironmentFile <path>`, `EnvironmentVariables in <plist>`,
    /// `$STATE_DIR/.env`.
    pub from: String,
}

/// What the Gateway service would run with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatewayEnv {
    /// The installed service definition read (systemd user unit, LaunchAgent plist), if any.
    pub definition: Option<String>,
    /// The engine variables that apply, after precedence (DOCKER_HOST, DOCKER_CONTEXT,
    /// DOCKER_CONFIG, CONTAINER_HOST, CONTAINER_CONNECTION, PATH).
    pub vars: Vec<ServiceVar>,
    /// The Docker endpoint the service's docker CLI reaches.
    pub endpoint: String,
    /// Why: `DOCKER_HOST in <where>`, `docker context NAME`, `the docker CLI's default socket`.
    pub because: String,
    /// Problems with what the service would run, each with its fix (e.g. `docker` not on the
    /// service PATH).
    pub notes: Vec<String>,
}

impl GatewayEnv {
    pub fn var(&self, name: &str) -> Option<&ServiceVar> {
        self.vars.iter().find(|v| v.name == name)
    }
}
