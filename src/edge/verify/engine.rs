//! The container engine the sandbox uses: where it is, and what it says about itself. The
//! facts are plain data (the detection module can fill them instead); `gather` talks to the
//! engine, with a timeout on every call; `judge` is pure.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::domain::expect::DEFAULT_IMAGE;
use crate::edge::detect::http;
use crate::model::checks::{Group, Outcome};
use crate::model::environment::EngineKind;

pub const TIMEOUT: Duration = Duration::from_secs(10);

/// One sandbox image and whether the engine has it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImageFact {
    pub name: String,
    /// None: could not be asked (the error says why).
    pub present: Option<bool>,
    /// The image's `USER` (empty: root).
    pub user: Option<String>,
    pub error: Option<String>,
}

/// What the engine says about itself.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EngineFacts {
    /// `unix:///path/to/docker.sock`
    pub endpoint: String,
    /// Where the endpoint came from (`--docker-host`, `DOCKER_HOST`, a default path).
    pub source: String,
    /// None: it answered. Some: why it could not be reached.
    pub error: Option<String>,
    /// e.g. "Docker Engine 20.10.24", "Podman Engine 4.3.1"
    pub server: Option<String>,
    pub kind: Option<EngineKind>,
    pub rootless: Option<bool>,
    /// The uid that owns the socket: the user a rootless engine runs as.
    pub socket_owner: Option<u32>,
    pub images: Vec<ImageFact>,
}

impl EngineFacts {
    pub fn reachable(&self) -> bool {
        self.error.is_none()
    }

    pub fn image(&self, name: &str) -> Option<&ImageFact> {
        self.images.iter().find(|i| i.name == name)
    }

    pub fn socket_path(&self) -> Option<PathBuf> {
        socket_path(&self.endpoint)
    }
}

/// The socket path of a `unix://` endpoint (a bare absolute path is accepted too).
pub fn socket_path(endpoint: &str) -> Option<PathBuf> {
    if let Some(p) = endpoint.strip_prefix("unix://") {
        return Some(PathBuf::from(p));
    }
    endpoint.starts_with('/').then(|| PathBuf::from(endpoint))
}

/// Where the engine is, in the order OpenClaw's `docker`/`podman` CLI would look (contexts
/// aside: detection resolves those): an explicit endpoint, the environment, then the usual
/// sockets of a rootless and a rootful daemon; the first that exists wins.
pub fn resolve_endpoint(
    explicit: Option<&str>,
    kind: EngineKind,
    rootless: Option<bool>,
    env: &HashMap<String, String>,
    uid: u32,
    exists: &dyn Fn(&Path) -> bool,
) -> (String, String) {
    if let Some(e) = explicit {
        return (e.to_string(), "--docker-host".into());
    }
    let vars: &[&str] = match kind {
        EngineKind::Docker => &["DOCKER_HOST"],
        EngineKind::Podman => &["CONTAINER_HOST", "DOCKER_HOST"],
    };
    for v in vars {
        if let Some(h) = env.get(*v).filter(|h| !h.is_empty()) {
            return (h.clone(), (*v).to_string());
        }
    }
    let runtime = env
        .get("XDG_RUNTIME_DIR")
        .cloned()
        .unwrap_or_else(|| format!("/run/user/{uid}"));
    let (user, system): (Vec<String>, Vec<String>) = match kind {
        EngineKind::Docker => (
            vec![
                format!("{runtime}/docker.sock"),
                format!("/run/user/{uid}/docker.sock"),
            ],
            vec!["/var/run/docker.sock".into()],
        ),
        EngineKind::Podman => (
            vec![
                format!("{runtime}/podman/podman.sock"),
                format!("/run/user/{uid}/podman/podman.sock"),
            ],
            vec!["/run/podman/podman.sock".into()],
        ),
    };
    let ordered: Vec<String> = if rootless == Some(false) {
        system.into_iter().chain(user).collect()
    } else {
        user.into_iter().chain(system).collect()
    };
    let found = ordered
        .iter()
        .find(|p| exists(Path::new(p.as_str())))
        .or(ordered.first());
    let path = found
        .cloned()
        .unwrap_or_else(|| "/var/run/docker.sock".into());
    (format!("unix://{path}"), "default socket".into())
}

/// A GET over the engine's unix socket (HTTP/1.0, so the answer is not chunked), with a
/// timeout on every step. Returns the status and the JSON body.
pub fn raw_get(socket: &Path, uri: &str, timeout: Duration) -> Result<(u16, Value), String> {
    let mut s = UnixStream::connect(socket).map_err(|e| describe_connect(socket, &e))?;
    s.set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    s.set_write_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    s.write_all(http::request(uri).as_bytes())
        .map_err(|e| format!("cannot send to {}: {e}", socket.display()))?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).map_err(|e| match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => format!(
            "{} did not answer within {} s",
            socket.display(),
            timeout.as_secs()
        ),
        _ => format!("cannot read from {}: {e}", socket.display()),
    })?;
    parse_http(&buf)
}

/// Status and JSON body of an HTTP response (chunked bodies are decoded too; a body that is not
/// JSON comes back as a string).
pub fn parse_http(buf: &[u8]) -> Result<(u16, Value), String> {
    let r = http::parse(buf).ok_or("the engine's answer is not HTTP")?;
    let body = r.body_text();
    let value = serde_json::from_str(body.trim()).unwrap_or(Value::String(body.trim().to_string()));
    Ok((r.status, value))
}

fn describe_connect(socket: &Path, e: &io::Error) -> String {
    let p = socket.display();
    match e.kind() {
        io::ErrorKind::NotFound => {
            format!("no socket at {p}: the daemon is not running (or listens elsewhere)")
        }
        io::ErrorKind::ConnectionRefused => {
            format!("nothing listens on {p}: the daemon is stopped and its socket file is stale")
        }
        io::ErrorKind::PermissionDenied => format!(
            "permission denied on {p} (docker-group membership is root-equivalent: prefer rootless Docker or Podman)"
        ),
        _ => format!("cannot connect to {p}: {e}"),
    }
}

/// Engine kind and rootlessness from `/version` and `/info` (Docker lists `name=rootless` in
/// `SecurityOptions`; Podman's compatible `/info` has a `Rootless` field instead).
pub fn classify(
    version: &Value,
    info: &Value,
) -> (Option<String>, Option<EngineKind>, Option<bool>) {
    let components = version.get("Components").and_then(Value::as_array);
    let podman = components.is_some_and(|c| {
        c.iter().any(|x| {
            x.get("Name")
                .and_then(Value::as_str)
                .is_some_and(|n| n.contains("Podman"))
        })
    });
    let kind = if version.is_object() {
        Some(if podman {
            EngineKind::Podman
        } else {
            EngineKind::Docker
        })
    } else {
        None
    };
    let server = version.get("Version").and_then(Value::as_str).map(|v| {
        format!(
            "{} {v}",
            if podman {
                "Podman Engine"
            } else {
                "Docker Engine"
            }
        )
    });
    let sec_rootless = info
        .get("SecurityOptions")
        .and_then(Value::as_array)
        .map(|opts| {
            opts.iter()
                .filter_map(Value::as_str)
                .any(|o| o.split(',').any(|kv| kv == "name=rootless"))
        });
    let rootless = match (info.get("Rootless").and_then(Value::as_bool), sec_rootless) {
        (Some(r), _) => Some(r),
        (None, Some(true)) => Some(true),
        (None, Some(false)) if !podman => Some(false),
        _ => None,
    };
    (server, kind, rootless)
}

/// Ask the engine (synchronously; every call has a timeout). Images are asked about through
/// the same socket.
pub fn gather(endpoint: &str, source: &str, images: &[String]) -> EngineFacts {
    let mut facts = EngineFacts {
        endpoint: endpoint.to_string(),
        source: source.to_string(),
        error: None,
        server: None,
        kind: None,
        rootless: None,
        socket_owner: None,
        images: Vec::new(),
    };
    let Some(path) = socket_path(endpoint) else {
        facts.error = Some(format!(
            "{endpoint} is not a unix socket: clawposture only probes local engines over unix sockets"
        ));
        return facts;
    };
    facts.socket_owner = std::fs::metadata(&path).ok().map(|m| m.uid());
    let answers = |uri: &str| match raw_get(&path, uri, TIMEOUT) {
        Ok((200, v)) => Ok(v),
        Ok((status, v)) => Err(format!(
            "{endpoint} answered {uri} with HTTP {status}: {}",
            short(&v)
        )),
        Err(e) => Err(e),
    };
    // /info only once /version answered: a hung engine costs one timeout, not two.
    let (version, info) = match answers("/version").and_then(|v| Ok((v, answers("/info")?))) {
        Ok(both) => both,
        Err(e) => {
            facts.error = Some(e);
            return facts;
        }
    };
    (facts.server, facts.kind, facts.rootless) = classify(&version, &info);
    for name in images {
        facts.images.push(image_fact(&path, name));
    }
    facts
}

fn short(v: &Value) -> String {
    let s = match v {
        Value::Object(m) => m
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| v.to_string()),
        Value::String(s) => s.clone(),
        _ => v.to_string(),
    };
    s.chars().take(300).collect()
}

fn image_fact(socket: &Path, name: &str) -> ImageFact {
    let uri = format!("/images/{}/json", percent(name));
    match raw_get(socket, &uri, TIMEOUT) {
        Ok((200, v)) => ImageFact {
            name: name.to_string(),
            present: Some(true),
            user: Some(
                v.pointer("/Config/User")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            ),
            error: None,
        },
        Ok((404, _)) => ImageFact {
            name: name.to_string(),
            present: Some(false),
            user: None,
            error: None,
        },
        Ok((status, v)) => ImageFact {
            name: name.to_string(),
            present: None,
            user: None,
            error: Some(format!("HTTP {status}: {}", short(&v))),
        },
        Err(e) => ImageFact {
            name: name.to_string(),
            present: None,
            user: None,
            error: Some(e),
        },
    }
}

pub(crate) fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b':' | b'/' | b'@' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// What the engine items expect.
#[derive(Debug, Clone, PartialEq)]
pub struct Wanted {
    pub kind: Option<EngineKind>,
    pub rootless: Option<bool>,
    /// The engines the config fits, for messages (`docker-rootless`).
    pub label: Option<String>,
    pub images: Vec<String>,
    /// The uid that owns the state dir: the user the Gateway must run as to read its files.
    pub state_owner: Option<u32>,
}

/// A rootless engine runs as the user that owns its socket; OpenClaw's sandbox bind-mounts
/// the state dir into it, so the Gateway must run as that same user and own the state dir, or
/// creating the container fails ("permission denied" on the bind mount).
fn judge_user(facts: &EngineFacts, wanted: &Wanted) -> Option<Outcome> {
    let title = "the rootless engine's user owns the state dir";
    let id = crate::model::check_ids::ENGINE_USER;
    if facts.rootless != Some(true) {
        return None;
    }
    match (facts.socket_owner, wanted.state_owner) {
        (Some(engine), Some(state)) if engine == state => Some(Outcome::pass(
            id,
            Group::Engine,
            title,
            format!("the engine runs as uid {engine}, who owns the state dir"),
        )),
        (Some(engine), Some(state)) => Some(
            Outcome::fail(
                id,
                Group::Engine,
                title,
                format!(
                    "the rootless engine at {} runs as uid {engine}, but the state dir belongs to uid {state}: the sandbox cannot bind-mount the state dir (permission denied)",
                    facts.endpoint
                ),
            )
            .fix(format!(
                "run the Gateway as uid {engine} (the engine's user) with a state dir it owns, or use the rootless engine of uid {state}"
            ))
            .doc("gateway/sandboxing.md"),
        ),
        _ => None,
    }
}

pub fn judge(facts: &EngineFacts, wanted: &Wanted) -> Vec<Outcome> {
    let mut out = Vec::new();
    let title = "the sandbox's container engine answers";
    let doc = "gateway/sandboxing.md";
    match &facts.error {
        Some(e) => {
            out.push(
                Outcome::fail(crate::model::check_ids::ENGINE_REACHABLE, Group::Engine, title, e.clone())
                    .detail(format!("endpoint {} (from {})", facts.endpoint, facts.source))
                    .fix("start the engine (rootless Docker: `systemctl --user start docker`; Podman: `systemctl --user start podman.socket`), or pass --docker-host to point at it; the Gateway service needs the same DOCKER_HOST")
                    .doc(doc),
            );
            let why = "the engine could not be reached (see engine.reachable)";
            out.push(Outcome::skip(
                crate::model::check_ids::ENGINE_ROOTLESS,
                Group::Engine,
                "the engine is rootless as the config expects",
                why,
            ));
            for img in &wanted.images {
                out.push(Outcome::skip(
                    image_id(img, wanted),
                    Group::Engine,
                    format!("the sandbox image {img} is present"),
                    why,
                ));
            }
            return out;
        }
        None => out.push(Outcome::pass(
            crate::model::check_ids::ENGINE_REACHABLE,
            Group::Engine,
            title,
            format!(
                "{} at {} (from {})",
                facts.server.as_deref().unwrap_or("an engine"),
                facts.endpoint,
                facts.source
            ),
        )),
    }
    let kind_note = match (wanted.kind, facts.kind) {
        (Some(w), Some(k)) if w != k => Some(format!(
            "the config's backend is {} but this endpoint is {}: OpenClaw's {} backend never falls back to the other engine",
            name(w),
            name(k),
            name(w)
        )),
        _ => None,
    };
    let rl_title = "the engine is rootless as the config expects";
    let rootless = match (wanted.rootless, facts.rootless) {
        (_, None) => Outcome::skip(crate::model::check_ids::ENGINE_ROOTLESS, Group::Engine, rl_title, "the engine does not say whether it is rootless"),
        (None, Some(r)) => Outcome::pass(
            crate::model::check_ids::ENGINE_ROOTLESS,
            Group::Engine,
            rl_title,
            format!("the engine is {}; the config fits both ({})", if r { "rootless" } else { "rootful" }, wanted.label.as_deref().unwrap_or("any engine")),
        ),
        (Some(w), Some(r)) if w == r => Outcome::pass(crate::model::check_ids::ENGINE_ROOTLESS, Group::Engine, rl_title, format!("the engine is {} as expected", if r { "rootless" } else { "rootful" })),
        (Some(w), Some(_)) => Outcome::fail(
            crate::model::check_ids::ENGINE_ROOTLESS,
            Group::Engine,
            rl_title,
            format!(
                "the config was written for a {} engine ({}) but this one is {}",
                if w { "rootless" } else { "rootful" },
                wanted.label.as_deref().unwrap_or("?"),
                if w { "rootful" } else { "rootless" }
            ),
        )
        .fix("point --docker-host (and the Gateway's DOCKER_HOST) at the engine the config was written for, or re-run `clawposture apply --engine ...` for this one")
        .doc("gateway/sandboxing.md"),
    };
    out.push(match kind_note {
        Some(n) if rootless.status != crate::model::checks::Status::Fail => {
            let mut o = Outcome::fail(
                crate::model::check_ids::ENGINE_ROOTLESS,
                Group::Engine,
                rl_title,
                n,
            );
            o.fix = Some(
                "re-run `clawposture apply --engine ...` for the engine that is really used".into(),
            );
            o
        }
        _ => rootless,
    });
    out.extend(judge_user(facts, wanted));
    for img in &wanted.images {
        let t = format!("the sandbox image {img} is present");
        let id = image_id(img, wanted);
        let kind = facts.kind.or(wanted.kind).unwrap_or(EngineKind::Docker);
        out.push(match facts.image(img) {
            Some(ImageFact { present: Some(true), .. }) => Outcome::pass(id, Group::Engine, t, format!("{img} is on {}", facts.endpoint)),
            Some(ImageFact { present: Some(false), .. }) => {
                let mut o = Outcome::fail(
                    id,
                    Group::Engine,
                    t,
                    format!("{img} is not on {}: every sandboxed turn fails (OpenClaw never pulls or builds it)", facts.endpoint),
                )
                .doc("gateway/sandboxing/images-and-setup.md");
                o = if img == DEFAULT_IMAGE {
                    o.fix(format!(
                        "build it on this engine (the npm package ships no setup script):\n{}",
                        crate::domain::image::recipe::build_command(img, kind, Some(&facts.endpoint))
                    ))
                } else {
                    o.fix(format!("build or pull {img} on this engine"))
                };
                o
            }
            Some(ImageFact { error: Some(e), .. }) => Outcome::fail(id, Group::Engine, t, format!("cannot ask the engine about {img}: {e}")),
            _ => Outcome::skip(id, Group::Engine, t, "not asked"),
        });
    }
    out
}

fn image_id(img: &str, wanted: &Wanted) -> String {
    if wanted.images.len() > 1 {
        format!("engine.image[{img}]")
    } else {
        crate::model::check_ids::ENGINE_IMAGE.into()
    }
}

fn name(k: EngineKind) -> &'static str {
    match k {
        EngineKind::Docker => "docker",
        EngineKind::Podman => "podman",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::expect::DEFAULT_IMAGE;
    use crate::model::checks::Status;
    use serde_json::json;

    #[test]
    fn endpoint_order() {
        let env: HashMap<String, String> =
            [("XDG_RUNTIME_DIR".to_string(), "/run/user/5".to_string())].into();
        let none = |_: &Path| false;
        assert_eq!(
            resolve_endpoint(
                Some("unix:///x.sock"),
                EngineKind::Docker,
                None,
                &env,
                5,
                &none
            )
            .0,
            "unix:///x.sock"
        );
        assert_eq!(
            resolve_endpoint(None, EngineKind::Docker, None, &env, 5, &none).0,
            "unix:///run/user/5/docker.sock"
        );
        assert_eq!(
            resolve_endpoint(None, EngineKind::Docker, Some(false), &env, 5, &none).0,
            "unix:///var/run/docker.sock"
        );
        let only_system = |p: &Path| p == Path::new("/run/podman/podman.sock");
        assert_eq!(
            resolve_endpoint(None, EngineKind::Podman, Some(true), &env, 5, &only_system).0,
            "unix:///run/podman/podman.sock"
        );
        let mut with_host = env.clone();
        with_host.insert("DOCKER_HOST".into(), "unix:///d.sock".into());
        assert_eq!(
            resolve_endpoint(None, EngineKind::Docker, None, &with_host, 5, &none),
            ("unix:///d.sock".to_string(), "DOCKER_HOST".to_string())
        );
    }

    #[test]
    fn classify_docker_and_podman() {
        let docker = classify(
            &json!({"Version": "20.10.24", "Components": [{"Name": "Engine"}]}),
            &json!({"SecurityOptions": ["name=seccomp,profile=default", "name=rootless"]}),
        );
        assert_eq!(
            docker,
            (
                Some("Docker Engine 20.10.24".into()),
                Some(EngineKind::Docker),
                Some(true)
            )
        );
        let rootful = classify(
            &json!({"Version": "20.10.24"}),
            &json!({"SecurityOptions": ["name=seccomp,profile=default"]}),
        );
        assert_eq!(rootful.2, Some(false));
        let podman = classify(
            &json!({"Version": "4.3.1", "Components": [{"Name": "Podman Engine"}]}),
            &json!({"SecurityOptions": ["name=seccomp"], "Rootless": true}),
        );
        assert_eq!(
            podman,
            (
                Some("Podman Engine 4.3.1".into()),
                Some(EngineKind::Podman),
                Some(true)
            )
        );
        let unknown = classify(
            &json!({"Components": [{"Name": "Podman Engine"}]}),
            &json!({"SecurityOptions": []}),
        );
        assert_eq!(unknown.2, None);
    }

    #[test]
    fn http_parsing() {
        let (s, v) =
            parse_http(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{\"a\":1}\n")
                .unwrap();
        assert_eq!((s, v), (200, json!({"a": 1})));
        let (s, v) = parse_http(b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n7\r\n{\"b\":2}\r\n0\r\n\r\n").unwrap();
        assert_eq!((s, v), (404, json!({"b": 2})));
        assert!(parse_http(b"garbage").is_err());
    }

    #[test]
    fn missing_image_fails_with_the_recipe_and_a_dead_engine_fails_reachable() {
        let wanted = Wanted {
            kind: Some(EngineKind::Docker),
            rootless: Some(true),
            label: Some("docker-rootless".into()),
            images: vec![DEFAULT_IMAGE.into()],
            state_owner: None,
        };
        let mut facts = EngineFacts {
            endpoint: "unix:///s".into(),
            source: "test".into(),
            error: None,
            server: Some("Docker Engine 1".into()),
            kind: Some(EngineKind::Docker),
            rootless: Some(true),
            socket_owner: None,
            images: vec![ImageFact {
                name: DEFAULT_IMAGE.into(),
                present: Some(false),
                user: None,
                error: None,
            }],
        };
        let out = judge(&facts, &wanted);
        let img = out.iter().find(|o| o.id == "engine.image").unwrap();
        assert_eq!(img.status, Status::Fail);
        assert!(
            img.fix
                .as_deref()
                .is_some_and(|f| f.contains("docker build -t openclaw-sandbox:bookworm-slim"))
        );
        assert_eq!(
            out.iter()
                .find(|o| o.id == "engine.rootless")
                .unwrap()
                .status,
            Status::Pass
        );
        facts.rootless = Some(false);
        assert_eq!(
            judge(&facts, &wanted)
                .iter()
                .find(|o| o.id == "engine.rootless")
                .unwrap()
                .status,
            Status::Fail
        );
        facts.error = Some("nothing listens on /s".into());
        let out = judge(&facts, &wanted);
        assert_eq!(out[0].status, Status::Fail);
        assert!(out[1..].iter().all(|o| o.status == Status::Skipped));
    }

    #[test]
    fn a_rootless_engine_of_another_user_than_the_state_dirs_fails_with_the_fix() {
        let wanted = |state_owner| Wanted {
            kind: Some(EngineKind::Docker),
            rootless: Some(true),
            label: None,
            images: Vec::new(),
            state_owner,
        };
        let facts = |rootless, socket_owner| EngineFacts {
            endpoint: "unix:///run/user/1001/docker.sock".into(),
            source: "test".into(),
            error: None,
            server: None,
            kind: Some(EngineKind::Docker),
            rootless: Some(rootless),
            socket_owner,
            images: Vec::new(),
        };
        let user = |f: &EngineFacts, w: &Wanted| {
            judge(f, w)
                .into_iter()
                .find(|o| o.id == crate::model::check_ids::ENGINE_USER)
        };
        let o = user(&facts(true, Some(1001)), &wanted(Some(0))).expect("judged");
        assert_eq!(o.status, Status::Fail);
        assert!(
            o.fix
                .as_deref()
                .is_some_and(|f| f.contains("run the Gateway as uid 1001"))
        );
        let o = user(&facts(true, Some(1001)), &wanted(Some(1001))).expect("judged");
        assert_eq!(o.status, Status::Pass);
        // A rootful engine runs as root whatever owns its socket: not judged.
        assert!(user(&facts(false, Some(0)), &wanted(Some(1001))).is_none());
        assert!(user(&facts(true, None), &wanted(Some(1001))).is_none());
    }
}
