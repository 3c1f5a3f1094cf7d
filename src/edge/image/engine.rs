//! Which engine the image is for, and what it holds under a tag (the edge: sockets).
//!
//! The endpoint is the one the preset is written for: `--docker-host` when given, else
//! detection's choice (or, with `--engine`, the first ready engine of that kind); its kind,
//! rootlessness and owner come from the engine itself, as `verify` reads them.

use std::collections::BTreeMap;

use bollard::{ClientVersion, Docker};
use serde::Serialize;
use serde_json::Value;

use crate::edge::detect::{self, DetectOptions};
use crate::edge::verify::engine as vengine;
use crate::model::environment::{Engine, EngineKind};

/// The engine an image command works on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Target {
    pub endpoint: String,
    /// Where the endpoint came from (`--docker-host`, detection's source).
    pub source: String,
    pub kind: EngineKind,
    pub rootless: bool,
    /// The uid owning the socket: the user a rootless engine runs as (keep-id maps to it).
    pub socket_owner: Option<u32>,
    pub socket_group: Option<u32>,
    /// `Docker Engine 20.10.24`, `Podman Engine 4.3.1`.
    pub server: Option<String>,
}

impl Target {
    pub fn engine(&self) -> Engine {
        Engine {
            kind: self.kind,
            rootless: self.rootless,
        }
    }

    /// `docker rootless`, `podman rootful`.
    pub fn label(&self) -> String {
        let kind = match self.kind {
            EngineKind::Docker => "docker",
            EngineKind::Podman => "podman",
        };
        let mode = if self.rootless { "rootless" } else { "rootful" };
        format!("{kind} {mode}")
    }
}

/// The engine to build on. `engine` narrows detection (and is checked against an explicit
/// endpoint); `none` is refused by the caller.
pub fn resolve(
    docker_host: Option<&str>,
    wanted: Option<Engine>,
    opts: &DetectOptions,
) -> Result<Target, String> {
    let (endpoint, source) = match docker_host {
        Some(h) => (h.to_string(), "--docker-host".to_string()),
        None => {
            let report = detect::detect(opts);
            let fits = |e: &detect::EngineReport| {
                e.as_engine().is_some_and(|g| wanted.is_none_or(|w| w == g))
            };
            let chosen = report
                .selected
                .index
                .and_then(|i| report.engines.get(i))
                .filter(|e| fits(e))
                .or_else(|| report.engines.iter().find(|e| fits(e)));
            match chosen {
                Some(e) => (e.endpoint.clone(), e.source.label().to_string()),
                None => {
                    return Err(match wanted {
                        Some(w) => format!(
                            "no ready {} engine found (detection: {}); start it, or pass --docker-host",
                            w.label(),
                            report.selected.reason
                        ),
                        None => format!(
                            "no ready container engine found (detection: {}); start Docker or Podman, or pass --docker-host",
                            report.selected.reason
                        ),
                    });
                }
            }
        }
    };
    let facts = vengine::gather(&endpoint, &source, &[]);
    if let Some(e) = facts.error {
        return Err(e);
    }
    let kind = facts
        .kind
        .ok_or_else(|| format!("{endpoint} answered, but not as Docker or Podman"))?;
    // Unknown counts as rootful, as detection does.
    let rootless = facts.rootless.unwrap_or(false);
    let socket_group = vengine::socket_path(&endpoint)
        .and_then(|p| std::fs::metadata(p).ok())
        .map(|m| std::os::unix::fs::MetadataExt::gid(&m));
    let target = Target {
        endpoint,
        source,
        kind,
        rootless,
        socket_owner: facts.socket_owner,
        socket_group,
        server: facts.server,
    };
    if let Some(w) = wanted
        && w != target.engine()
    {
        return Err(format!(
            "--engine {} but {} is {}",
            w.label(),
            target.endpoint,
            target.label()
        ));
    }
    Ok(target)
}

/// An image as the engine describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageInfo {
    pub id: String,
    pub labels: BTreeMap<String, String>,
    /// The image's `USER` (empty: root).
    pub user: String,
}

/// The image under `name`, or None when the engine has none.
pub fn inspect(endpoint: &str, name: &str) -> Result<Option<ImageInfo>, String> {
    let path =
        vengine::socket_path(endpoint).ok_or_else(|| format!("{endpoint} is not a unix socket"))?;
    match vengine::raw_get(
        &path,
        &format!("/images/{}/json", vengine::percent(name)),
        vengine::TIMEOUT,
    )? {
        (200, v) => Ok(Some(ImageInfo {
            id: v
                .get("Id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            labels: v
                .pointer("/Config/Labels")
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                        .collect()
                })
                .unwrap_or_default(),
            user: v
                .pointer("/Config/User")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
        })),
        (404, _) => Ok(None),
        (status, v) => Err(format!(
            "{endpoint} answered the image query with HTTP {status}: {v}"
        )),
    }
}

/// A bollard client speaking the engine's own API version (bollard's default, 1.53, is "too
/// new" for Docker 20.10 and Podman 4). Builds stream for minutes: the client timeout only
/// bounds each request's start, and is generous.
pub fn connect(endpoint: &str) -> Result<Docker, String> {
    let path =
        vengine::socket_path(endpoint).ok_or_else(|| format!("{endpoint} is not a unix socket"))?;
    let api = match vengine::raw_get(&path, "/version", vengine::TIMEOUT)? {
        (200, v) => v
            .get("ApiVersion")
            .and_then(Value::as_str)
            .map(str::to_string),
        (status, v) => {
            return Err(format!(
                "{endpoint} answered /version with HTTP {status}: {v}"
            ));
        }
    };
    let (major_version, minor_version) = detect::negotiated_api(api.as_deref());
    let path = path.to_str().ok_or("the socket path is not UTF-8")?;
    Docker::connect_with_unix(
        path,
        3600,
        &ClientVersion {
            major_version,
            minor_version,
        },
    )
    .map_err(|e| e.to_string())
}

/// `repo:tag` split the way the engine's tag endpoint wants it (`tag` defaults to latest; a
/// registry port's colon is not a tag).
pub fn split_tag(name: &str) -> (String, String) {
    match name.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') && !repo.is_empty() => {
            (repo.to_string(), tag.to_string())
        }
        _ => (name.to_string(), "latest".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_split_at_the_last_colon_outside_the_registry() {
        assert_eq!(
            split_tag("openclaw-sandbox:bookworm-slim"),
            ("openclaw-sandbox".into(), "bookworm-slim".into())
        );
        assert_eq!(split_tag("busybox"), ("busybox".into(), "latest".into()));
        assert_eq!(
            split_tag("localhost:5000/x"),
            ("localhost:5000/x".into(), "latest".into())
        );
        assert_eq!(
            split_tag("localhost:5000/x:1"),
            ("localhost:5000/x".into(), "1".into())
        );
    }
}
