//! Probing one endpoint: a plain connect classifies the socket, the unversioned `/_ping`
//! identifies the engine, then its facts (Docker `/info` via bollard, Podman libpod info) and
//! the sandbox image (bollard) are fetched concurrently. Every step is bounded by the probe's
//! deadline.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bollard::{ClientVersion, Docker};
use serde_json::Value;
use tokio::net::UnixStream;
use tokio::time::{Instant, timeout_at};

use super::facts;
use super::http;
use crate::model::detection::{EngineReport, SandboxImage, State};
use crate::model::environment::EngineKind;

/// A healthy local socket connects in microseconds; waiting longer only delays the verdict.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(250);

pub async fn probe(mut r: EngineReport, image: String, deadline: Instant) -> EngineReport {
    let Some(path) = r.socket_path().map(PathBuf::from) else {
        r.state = State::Unsupported;
        r.detail = Some(not_probed(&r.endpoint));
        return r;
    };
    let budget = deadline.saturating_duration_since(Instant::now());

    let connect_deadline = deadline.min(Instant::now() + CONNECT_TIMEOUT);
    let mut stream = match timeout_at(connect_deadline, UnixStream::connect(&path)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            let (state, detail) = classify_connect_error(&e, &path);
            r.state = state;
            r.detail = Some(detail);
            return r;
        }
        Err(_) => {
            r.state = State::Timeout;
            r.detail = Some(format!(
                "connecting to {} did not complete in time",
                path.display()
            ));
            return r;
        }
    };
    // The kernel's word on who serves the socket: a fallback for rootless when the engine is
    // too slow to say it itself.
    let peer_uid = stream.peer_cred().ok().map(|c| c.uid());

    let ping = match timeout_at(deadline, http::get(&mut stream, "/_ping")).await {
        Ok(Ok(resp)) => resp,
        Ok(Err(e)) => return error(r, format!("GET /_ping failed: {e}")),
        Err(_) => {
            r.state = State::Timeout;
            r.detail = Some(format!(
                "{} accepts connections but did not answer within {} ms",
                path.display(),
                budget.as_millis()
            ));
            return r;
        }
    };
    drop(stream);
    let header = |name: &str| ping.header(name).map(str::to_string);
    let facts = match facts::ping_facts(&header) {
        Some(f) => f,
        None => match timeout_at(deadline, version_document(&path)).await {
            Ok(Ok(v)) => match facts::version_facts(&v) {
                Some(f) => f,
                None => {
                    return error(
                        r,
                        "the answer to /version is not a Docker or Podman engine's".into(),
                    );
                }
            },
            Ok(Err(e)) => {
                return error(
                    r,
                    format!("not an engine API: /_ping gave no API version; /version: {e}"),
                );
            }
            Err(_) => return timed_out(r, &path),
        },
    };

    r.state = State::Ready;
    r.confirmed = true;
    r.kind = Some(facts.kind);
    // Only the engine may say whether it is rootless; forget what its socket path suggested.
    r.rootless = None;
    r.version = facts.version.clone();
    r.api_version = facts.api_version.clone();
    details(&mut r, &path, &facts, image, deadline).await;
    if r.rootless.is_none()
        && facts.kind == EngineKind::Podman
        && let Some(uid) = peer_uid
    {
        r.rootless = Some(uid != 0);
        note(
            &mut r,
            format!("rootless inferred from the socket's server process (uid {uid})"),
        );
    }
    r
}

/// Why an endpoint that is not a unix socket is reported but not probed.
fn not_probed(endpoint: &str) -> String {
    let scheme = endpoint.split("://").next().unwrap_or_default();
    match scheme {
        "npipe" => format!(
            "{endpoint} is a Windows named pipe: not supported (OpenClaw's sandbox on Windows runs inside WSL 2; run clawposture there, where Docker Desktop's WSL integration gives /var/run/docker.sock)"
        ),
        "ssh" => format!(
            "{endpoint} is a daemon on another machine over ssh: reported, not probed (clawposture does not connect over the network); the sandbox would run on that machine"
        ),
        "tcp" | "http" | "https" => format!(
            "{endpoint} is a TCP endpoint: reported, not probed (clawposture probes only unix sockets); a daemon on TCP without TLS is root for anyone who reaches the port"
        ),
        _ => format!("{endpoint} is not a unix:// endpoint; clawposture probes only local sockets"),
    }
}

async fn details(
    r: &mut EngineReport,
    path: &Path,
    v: &facts::VersionFacts,
    image: String,
    deadline: Instant,
) {
    let (major_version, minor_version) = facts::negotiated_api(v.api_version.as_deref());
    let api = ClientVersion {
        major_version,
        minor_version,
    };
    let sock = path.to_string_lossy().into_owned();
    // bollard's own timeout has whole-second resolution; the deadline below is the real bound.
    let docker = match Docker::connect_with_unix(&sock, 2, &api) {
        Ok(d) => d,
        Err(e) => {
            note(r, format!("bollard: {e}"));
            return;
        }
    };
    let podman = v.kind == EngineKind::Podman;
    let (info, img) = tokio::join!(
        async {
            if podman {
                Facts::Libpod(timeout_at(deadline, libpod_info(path)).await)
            } else {
                let info = timeout_at(deadline, docker.info()).await;
                Facts::Docker(info.map(|r| r.map(Box::new)))
            }
        },
        timeout_at(deadline, docker.inspect_image(&image)),
    );

    match info {
        Facts::Docker(Ok(Ok(info))) => {
            facts::apply_info(r, &info, v.kind, v.platform_name.as_deref())
        }
        Facts::Docker(Ok(Err(e))) => note(r, format!("/info failed: {e}")),
        Facts::Libpod(Ok(Ok(value))) => facts::apply_libpod_info(r, &value),
        Facts::Libpod(Ok(Err(e))) => note(r, format!("libpod info failed: {e}")),
        Facts::Docker(Err(_)) | Facts::Libpod(Err(_)) => {
            note(r, "the engine's info did not arrive in time".into())
        }
    }
    let present = match img {
        Ok(Ok(_)) => Some(true),
        Ok(Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        })) => Some(false),
        Ok(Err(e)) => {
            note(r, format!("image inspect failed: {e}"));
            None
        }
        Err(_) => {
            note(r, "image inspect did not answer in time".into());
            None
        }
    };
    r.sandbox_image = Some(SandboxImage {
        name: image,
        present,
    });
}

type Timed<T> = Result<T, tokio::time::error::Elapsed>;

/// The engine's self-description: Docker's `/info` through bollard, Podman's libpod info.
enum Facts {
    Docker(Timed<Result<Box<bollard::models::SystemInfo>, bollard::errors::Error>>),
    Libpod(Timed<Result<Value, String>>),
}

async fn version_document(path: &Path) -> Result<Value, String> {
    get_json(path, "/version").await
}

async fn libpod_info(path: &Path) -> Result<Value, String> {
    get_json(path, "/v4.0.0/libpod/info").await
}

async fn get_json(path: &Path, what: &str) -> Result<Value, String> {
    let mut s = UnixStream::connect(path).await.map_err(|e| e.to_string())?;
    let resp = http::get(&mut s, what).await.map_err(|e| e.to_string())?;
    if resp.status != 200 {
        return Err(format!("HTTP {}", resp.status));
    }
    serde_json::from_slice(&resp.body).map_err(|e| e.to_string())
}

/// The states a plain `connect()` distinguishes, before any API call.
pub fn classify_connect_error(e: &std::io::Error, path: &Path) -> (State, String) {
    let p = path.display();
    match e.kind() {
        ErrorKind::NotFound => (State::Missing, format!("no socket at {p}")),
        ErrorKind::ConnectionRefused => (
            State::NotRunning,
            format!("{p} exists but nothing accepts connections (a stopped daemon's leftover)"),
        ),
        ErrorKind::PermissionDenied => (
            State::PermissionDenied,
            format!("this user may not open {p}"),
        ),
        // A full accept queue: the daemon is alive but not accepting.
        ErrorKind::WouldBlock => (State::Timeout, format!("{p} is not accepting connections")),
        _ => (State::Error, format!("connecting to {p}: {e}")),
    }
}

fn timed_out(mut r: EngineReport, path: &Path) -> EngineReport {
    r.state = State::Timeout;
    r.detail = Some(format!(
        "{} answered /_ping but not /version in time",
        path.display()
    ));
    r
}

fn error(mut r: EngineReport, detail: String) -> EngineReport {
    r.state = State::Error;
    r.detail = Some(detail);
    r
}

fn note(r: &mut EngineReport, msg: String) {
    r.detail = Some(match r.detail.take() {
        Some(d) => format!("{d}; {msg}"),
        None => msg,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_errors_map_to_states() {
        let p = Path::new("/x.sock");
        let s = |k: ErrorKind| classify_connect_error(&std::io::Error::from(k), p).0;
        assert_eq!(s(ErrorKind::NotFound), State::Missing);
        assert_eq!(s(ErrorKind::ConnectionRefused), State::NotRunning);
        assert_eq!(s(ErrorKind::PermissionDenied), State::PermissionDenied);
        assert_eq!(s(ErrorKind::WouldBlock), State::Timeout);
        assert_eq!(s(ErrorKind::InvalidInput), State::Error);
    }
}
