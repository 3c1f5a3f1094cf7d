//! What a config implies, as plain data (pure): the effective sandbox of each agent, resolved
//! the way OpenClaw resolves it (`resolveSandboxDockerConfig` in `dist/config-*.mjs`), the
//! Gateway port and the exec policy. Both the live probe (from the file as it is) and the
//! OpenClaw checks (from the file as the preset wants it) read these.

use serde::Serialize;
use serde_json::Value;

pub const DEFAULT_IMAGE: &str = "openclaw-sandbox:bookworm-slim";
pub const DEFAULT_PORT: u16 = 18789;
const DEFAULT_TMPFS: [&str; 3] = ["/tmp", "/var/tmp", "/run"];

/// `agents.defaults.sandbox.docker` merged with an agent's override (both engines read it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DockerSettings {
    pub image: String,
    pub network: String,
    pub read_only_root: bool,
    pub tmpfs: Vec<String>,
    /// The tmpfs list is OpenClaw's default (Podman then drops `/run`).
    pub tmpfs_default: bool,
    pub user: Option<String>,
    pub cap_drop: Vec<String>,
    pub pids_limit: Option<i64>,
    pub memory: Option<String>,
    pub memory_swap: Option<String>,
    pub cpus: Option<f64>,
    pub ulimits: Vec<(String, Value)>,
    pub seccomp_profile: Option<String>,
    pub apparmor_profile: Option<String>,
    pub dns: Vec<String>,
    pub extra_hosts: Vec<String>,
    pub binds: Vec<String>,
    pub gpus: Option<String>,
}

/// The effective sandbox of one agent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentSandbox {
    pub agent: String,
    pub mode: String,
    pub scope: String,
    pub workspace_access: String,
    pub backend: String,
    pub docker: DockerSettings,
}

impl AgentSandbox {
    pub fn enabled(&self) -> bool {
        self.mode != "off"
    }

    /// Whether the agent's own main session (`agent:<id>:main`) runs in the sandbox.
    pub fn main_sandboxed(&self) -> bool {
        self.mode == "all"
    }
}

fn strings(v: Option<&Value>) -> Option<Vec<String>> {
    v.and_then(Value::as_array).map(|a| {
        a.iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect()
    })
}

/// The agents OpenClaw knows: the keys of `agents.entries`, or the implicit `main`.
pub fn agents(config: &Value) -> Vec<String> {
    let ids: Vec<String> = config
        .pointer("/agents/entries")
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    if ids.is_empty() {
        vec!["main".to_string()]
    } else {
        ids
    }
}

fn pointer_escape(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// The effective sandbox of `agent`: the entry's keys win key by key over the defaults; the
/// entry's `docker` block is ignored under `scope: "shared"`.
pub fn agent_sandbox(config: &Value, agent: &str) -> AgentSandbox {
    let global = config.pointer("/agents/defaults/sandbox");
    let own = config.pointer(&format!(
        "/agents/entries/{}/sandbox",
        pointer_escape(agent)
    ));
    let pick = |key: &str, default: &str| -> String {
        own.and_then(|o| o.get(key))
            .or_else(|| global.and_then(|g| g.get(key)))
            .and_then(Value::as_str)
            .unwrap_or(default)
            .to_string()
    };
    let scope = pick("scope", "agent");
    let gd = global.and_then(|g| g.get("docker"));
    let ad = if scope == "shared" {
        None
    } else {
        own.and_then(|o| o.get("docker"))
    };
    let field = |key: &str| {
        ad.and_then(|d| d.get(key))
            .or_else(|| gd.and_then(|d| d.get(key)))
    };
    let tmpfs = strings(field("tmpfs"));
    let mut ulimits: Vec<(String, Value)> = Vec::new();
    for source in [gd, ad].into_iter().flatten() {
        if let Some(map) = source.get("ulimits").and_then(Value::as_object) {
            for (k, v) in map {
                ulimits.retain(|(name, _)| name != k);
                ulimits.push((k.clone(), v.clone()));
            }
        }
    }
    let mut binds = strings(gd.and_then(|d| d.get("binds"))).unwrap_or_default();
    binds.extend(strings(ad.and_then(|d| d.get("binds"))).unwrap_or_default());
    let limit = |key: &str| -> Option<String> {
        match field(key)? {
            Value::Number(n) => Some(n.to_string()),
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
            _ => None,
        }
    };
    let docker = DockerSettings {
        image: field("image")
            .and_then(Value::as_str)
            .unwrap_or(DEFAULT_IMAGE)
            .to_string(),
        network: field("network")
            .and_then(Value::as_str)
            .unwrap_or("none")
            .to_string(),
        read_only_root: field("readOnlyRoot")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        tmpfs_default: tmpfs.is_none(),
        tmpfs: tmpfs.unwrap_or_else(|| DEFAULT_TMPFS.iter().map(|s| s.to_string()).collect()),
        user: field("user")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        cap_drop: strings(field("capDrop")).unwrap_or_else(|| vec!["ALL".to_string()]),
        pids_limit: field("pidsLimit")
            .and_then(Value::as_f64)
            .filter(|n| n.is_finite() && *n > 0.0)
            .map(|n| n as i64),
        memory: limit("memory"),
        memory_swap: limit("memorySwap"),
        cpus: field("cpus")
            .and_then(Value::as_f64)
            .filter(|n| n.is_finite() && *n > 0.0),
        ulimits,
        seccomp_profile: field("seccompProfile")
            .and_then(Value::as_str)
            .map(str::to_string),
        apparmor_profile: field("apparmorProfile")
            .and_then(Value::as_str)
            .map(str::to_string),
        dns: strings(field("dns")).unwrap_or_default(),
        extra_hosts: strings(field("extraHosts")).unwrap_or_default(),
        binds,
        gpus: field("gpus")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string),
    };
    AgentSandbox {
        agent: agent.to_string(),
        mode: pick("mode", "off"),
        scope,
        workspace_access: pick("workspaceAccess", "none"),
        backend: pick("backend", "docker"),
        docker,
    }
}

/// Every agent's effective sandbox.
pub fn sandboxes(config: &Value) -> Vec<AgentSandbox> {
    sandboxes_where(config, |_| true)
}

/// The agents' effective sandboxes that `keep` keeps, each judged as it is read (a big
/// roster's thousands of sandboxes that are off are never held together).
pub fn sandboxes_where(config: &Value, keep: impl Fn(&AgentSandbox) -> bool) -> Vec<AgentSandbox> {
    agents(config)
        .iter()
        .map(|a| agent_sandbox(config, a))
        .filter(|s| keep(s))
        .collect()
}

/// The Gateway port the config asks for (`OPENCLAW_GATEWAY_PORT` and `--port` win at run time).
pub fn gateway_port(config: &Value) -> u16 {
    config
        .pointer("/gateway/port")
        .and_then(Value::as_u64)
        .and_then(|p| u16::try_from(p).ok())
        .unwrap_or(DEFAULT_PORT)
}

/// `tools.exec.mode` for an agent (its own override first). Legacy `security`/`ask` pairs are
/// mapped the way the docs map them, so a file that still has them is judged fairly.
pub fn exec_mode(config: &Value, agent: Option<&str>) -> Option<String> {
    let from = |base: &str| -> Option<String> {
        let exec = config.pointer(base)?;
        if let Some(m) = exec.get("mode").and_then(Value::as_str) {
            return Some(m.to_string());
        }
        match (
            exec.get("security").and_then(Value::as_str),
            exec.get("ask").and_then(Value::as_str),
        ) {
            (Some("deny"), _) => Some("deny".into()),
            (Some("full"), Some("off") | None) => Some("full".into()),
            (Some("allowlist"), Some("on-miss")) => Some("ask".into()),
            (Some("allowlist"), Some("off") | None) => Some("allowlist".into()),
            _ => None,
        }
    };
    agent
        .and_then(|a| from(&format!("/agents/entries/{}/tools/exec", pointer_escape(a))))
        .or_else(|| from("/tools/exec"))
}

/// Whether the config leaves `tools.elevated` on for an agent (OpenClaw's default is on; an
/// agent can only narrow it).
pub fn elevated_enabled(config: &Value, agent: &str) -> bool {
    let global = config
        .pointer("/tools/elevated/enabled")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let own = config
        .pointer(&format!(
            "/agents/entries/{}/tools/elevated/enabled",
            pointer_escape(agent)
        ))
        .and_then(Value::as_bool)
        .unwrap_or(true);
    global && own
}

/// Docker's byte sizes (`RAMInBytes`): a number with an optional b/k/m/g/t suffix (an
/// optional trailing `b`, case-insensitive), powers of 1024.
pub fn parse_bytes(text: &str) -> Option<i64> {
    let t = text.trim().to_ascii_lowercase();
    let t = t
        .strip_suffix('b')
        .filter(|r| r.ends_with(['k', 'm', 'g', 't']))
        .unwrap_or(&t);
    let (num, mult) = match t.chars().last()? {
        'k' => (&t[..t.len() - 1], 1i64 << 10),
        'm' => (&t[..t.len() - 1], 1 << 20),
        'g' => (&t[..t.len() - 1], 1 << 30),
        't' => (&t[..t.len() - 1], 1 << 40),
        'b' => (&t[..t.len() - 1], 1),
        _ => (t, 1),
    };
    let n: f64 = num.trim().parse().ok()?;
    if !n.is_finite() || n < 0.0 {
        return None;
    }
    Some((n * mult as f64) as i64)
}

/// A numeric `uid[:gid]` user spec: the uid.
pub fn numeric_uid(user: &str) -> Option<u32> {
    user.split(':').next()?.trim().parse().ok()
}

/// One `sandbox explain` call and what it must show.
#[derive(Debug, Clone, PartialEq)]
pub struct ExplainCase {
    pub session: Option<String>,
    pub sandboxed: bool,
}

/// The explain calls for an agent: its main session, plus a non-main one when the mode is
/// `non-main` (so "sessions sandboxed" is seen, not inferred).
pub fn explain_cases(sb: &AgentSandbox) -> Vec<ExplainCase> {
    let mut v = vec![ExplainCase {
        session: None,
        sandboxed: sb.main_sandboxed(),
    }];
    if sb.mode == "non-main" {
        v.push(ExplainCase {
            session: Some(format!("agent:{}:subagent:clawposture-verify", sb.agent)),
            sandboxed: true,
        });
    }
    v
}

pub fn explain_args(agent: &str, case: &ExplainCase) -> Vec<String> {
    let mut a = vec!["sandbox".to_string(), "explain".into(), "--json".into()];
    match &case.session {
        Some(s) => a.extend(["--session".to_string(), s.clone()]),
        None => a.extend(["--agent".to_string(), agent.to_string()]),
    }
    a
}

/// How to build the default image (OpenClaw never pulls or builds it; the npm package has no
/// setup scripts): `clawposture image build`, then the same recipe by hand
/// ([`crate::domain::image::recipe`]). None for an image of the user's own.
pub fn build_recipe(
    image: &str,
    kind: crate::model::environment::EngineKind,
    endpoint: Option<&str>,
) -> Option<String> {
    (image == DEFAULT_IMAGE)
        .then(|| crate::domain::image::recipe::build_hint(image, kind, endpoint))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_follow_openclaw() {
        let s = agent_sandbox(&json!({}), "main");
        assert_eq!(
            (
                s.mode.as_str(),
                s.scope.as_str(),
                s.workspace_access.as_str(),
                s.backend.as_str()
            ),
            ("off", "agent", "none", "docker")
        );
        assert_eq!(s.docker.image, DEFAULT_IMAGE);
        assert_eq!(s.docker.network, "none");
        assert!(s.docker.read_only_root && s.docker.tmpfs_default);
        assert_eq!(s.docker.cap_drop, ["ALL"]);
        assert_eq!(s.docker.tmpfs, ["/tmp", "/var/tmp", "/run"]);
        assert_eq!(agents(&json!({})), ["main"]);
    }

    #[test]
    fn agent_overrides_win_key_by_key_except_docker_under_shared() {
        let c = json!({"agents": {
            "defaults": {"sandbox": {"mode": "non-main", "scope": "session", "docker": {"network": "none", "memory": "1g", "ulimits": {"nofile": 10}}}},
            "entries": {"main": {}, "group": {"sandbox": {"mode": "all", "docker": {"network": "bridge", "ulimits": {"nproc": 5}}}}}
        }});
        let g = agent_sandbox(&c, "group");
        assert_eq!((g.mode.as_str(), g.scope.as_str()), ("all", "session"));
        assert_eq!(g.docker.network, "bridge");
        assert_eq!(g.docker.memory.as_deref(), Some("1g"));
        assert_eq!(g.docker.ulimits.len(), 2);
        let mut shared = c.clone();
        shared["agents"]["entries"]["group"]["sandbox"]["scope"] = json!("shared");
        assert_eq!(agent_sandbox(&shared, "group").docker.network, "none");
        assert_eq!(agents(&c), ["main", "group"]);
        assert!(!agent_sandbox(&c, "main").main_sandboxed() && g.main_sandboxed());
    }

    #[test]
    fn bytes_and_users() {
        assert_eq!(parse_bytes("1g"), Some(1 << 30));
        assert_eq!(parse_bytes("512m"), Some(512 << 20));
        assert_eq!(parse_bytes("512MB"), Some(512 << 20));
        assert_eq!(parse_bytes("1073741824"), Some(1 << 30));
        assert_eq!(parse_bytes("lots"), None);
        assert_eq!(numeric_uid("1000:1000"), Some(1000));
        assert_eq!(numeric_uid("sandbox"), None);
    }

    #[test]
    fn exec_modes_and_elevated() {
        let c = json!({"tools": {"exec": {"mode": "ask"}, "elevated": {"enabled": false}},
            "agents": {"entries": {"group": {"tools": {"exec": {"mode": "deny"}}}}}});
        assert_eq!(exec_mode(&c, Some("group")).as_deref(), Some("deny"));
        assert_eq!(exec_mode(&c, Some("main")).as_deref(), Some("ask"));
        assert_eq!(
            exec_mode(&json!({"tools": {"exec": {"security": "full"}}}), None).as_deref(),
            Some("full")
        );
        assert!(!elevated_enabled(&c, "main"));
        assert!(elevated_enabled(&json!({}), "main"));
        assert_eq!(gateway_port(&json!({"gateway": {"port": 19789}})), 19789);
    }
}
