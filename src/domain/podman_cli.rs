//! Podman the way OpenClaw's podman backend finds it (pure: the CLI's JSON in, a verdict out):
//! `podman info` (rootless flag, remote, the service socket path, version) and
//! `podman system connection list`; the API socket is only a secondary signal. OpenClaw
//! accepts a local Podman, or a remote one only through a local unix socket or a loopback ssh
//! connection (a Podman machine on this computer).

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodmanInfo {
    pub rootless: bool,
    /// The CLI talks to a service elsewhere (`CONTAINER_HOST`, a connection, a Podman machine).
    pub remote: bool,
    /// `host.remoteSocket.path`: where this Podman's API socket is (or would be).
    pub socket_path: Option<String>,
    pub version: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub name: String,
    pub uri: String,
    pub default: bool,
}

/// `podman info --format json`.
pub fn parse_info(v: &Value) -> Result<PodmanInfo, String> {
    let host = v.get("host").ok_or("no `host` in podman info")?;
    let rootless = host
        .pointer("/security/rootless")
        .and_then(Value::as_bool)
        .ok_or("no host.security.rootless in podman info")?;
    let text = |p: &str| {
        v.pointer(p)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    Ok(PodmanInfo {
        rootless,
        remote: host
            .get("serviceIsRemote")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        socket_path: text("/host/remoteSocket/path")
            .map(|p| p.strip_prefix("unix://").map(str::to_string).unwrap_or(p)),
        version: text("/version/Version"),
    })
}

/// `podman system connection list --format json` (Podman 4 and 5 both give Name, URI, Default).
pub fn parse_connections(text: &str) -> Vec<Connection> {
    let Ok(Value::Array(items)) = serde_json::from_str::<Value>(text) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|c| {
            Some(Connection {
                name: c.get("Name")?.as_str()?.to_string(),
                uri: c.get("URI")?.as_str()?.to_string(),
                default: c.get("Default").and_then(Value::as_bool).unwrap_or(false),
            })
        })
        .collect()
}

/// The endpoint OpenClaw's podman backend would use, or why it would refuse it.
/// `container_host`: `CONTAINER_HOST` as the Gateway has it.
pub fn endpoint(
    info: &PodmanInfo,
    connections: &[Connection],
    container_host: Option<&str>,
) -> Result<String, String> {
    if !info.remote {
        return info
            .socket_path
            .as_ref()
            .map(|p| format!("unix://{p}"))
            .ok_or_else(|| "podman info names no socket path".to_string());
    }
    let uri = container_host
        .map(str::to_string)
        .or_else(|| {
            connections
                .iter()
                .find(|c| c.default)
                .map(|c| c.uri.clone())
        })
        .ok_or("remote Podman without a default connection")?;
    if uri.starts_with("unix://") || is_loopback_ssh(&uri) {
        Ok(uri)
    } else {
        Err(format!(
            "remote Podman at {uri}: OpenClaw's podman backend accepts only a local socket or a loopback ssh connection to a Podman machine on this computer"
        ))
    }
}

/// `ssh://user@127.0.0.1:port/...`, `localhost` or `[::1]`: a Podman machine's forwarded port.
pub fn is_loopback_ssh(uri: &str) -> bool {
    let Some(rest) = uri.strip_prefix("ssh://") else {
        return false;
    };
    let authority = rest.split('/').next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    let host = if let Some(v6) = host.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        host.split(':').next().unwrap_or_default()
    };
    matches!(host, "127.0.0.1" | "localhost" | "::1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn local_rootless_podman_is_its_socket_path() {
        let v = json!({"host": {"serviceIsRemote": false, "remoteSocket": {"path": "/run/user/1000/podman/podman.sock"},
            "security": {"rootless": true}}, "version": {"Version": "4.3.1"}});
        let i = parse_info(&v).expect("info");
        assert!(i.rootless && !i.remote);
        assert_eq!(i.version.as_deref(), Some("4.3.1"));
        assert_eq!(
            endpoint(&i, &[], None).as_deref(),
            Ok("unix:///run/user/1000/podman/podman.sock")
        );
        assert!(parse_info(&json!({"version": {}})).is_err());
    }

    #[test]
    fn remote_podman_needs_a_local_socket_or_a_loopback_machine() {
        let machine = parse_connections(
            r#"[{"Name":"podman-machine-default","URI":"ssh://core@127.0.0.1:52368/run/user/501/podman/podman.sock","Identity":"/Users/u/.ssh/podman-machine-default","Default":true},
                {"Name":"prod","URI":"ssh://root@10.0.0.5/run/podman/podman.sock","Identity":"","Default":false}]"#,
        );
        assert_eq!(machine.len(), 2);
        let remote = PodmanInfo {
            rootless: true,
            remote: true,
            socket_path: Some("/run/user/501/podman/podman.sock".into()),
            version: Some("5.2.0".into()),
        };
        assert_eq!(
            endpoint(&remote, &machine, None).as_deref(),
            Ok("ssh://core@127.0.0.1:52368/run/user/501/podman/podman.sock")
        );
        let err = endpoint(
            &remote,
            &machine,
            Some("ssh://root@10.0.0.5/run/podman/podman.sock"),
        )
        .expect_err("refused");
        assert!(err.contains("10.0.0.5"), "{err}");
        assert!(is_loopback_ssh("ssh://u@[::1]:22/x") && is_loopback_ssh("ssh://localhost/x"));
        assert!(!is_loopback_ssh("ssh://u@example.com/x") && !is_loopback_ssh("tcp://127.0.0.1:1"));
    }
}
