//! FIXTURES, not live engines (#14): the desktop engines cannot run on this Linux CI machine,
//! so each is a real directory tree under a scratch HOME with a real unix socket at the path the
//! engine uses, bound by the test and answering recorded API payloads
//! (tests/fixtures/engines: `reconstructed-*` for Docker Desktop and Colima, the recorded Debian
//! Docker and Podman answers standing in for OrbStack, Rancher Desktop and a Podman machine,
//! whose own payloads are not available here). What is tested is discovery (which paths are
//! looked at, under which source), the probe over a real socket, and how endpoints the probe
//! must not reach (ssh://, tcp://, npipe://) are reported.

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};

use clawposture::edge::detect::{Report, Source, State, detect, meta_dir_name};
use clawposture::model::detect_options::DetectOptions;
use clawposture::model::environment::EngineKind;

use crate::support::detect::{isolated, tempdir};

fn payload(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/engines")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A socket at `path` answering like the engine whose payloads start with `prefix`: `/_ping`
/// (without headers, so the probe reads `/version`), `/version`, `/info`, libpod info; 404
/// for anything else (the sandbox image is not there).
fn serve(path: &Path, prefix: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    let listener = UnixListener::bind(path).expect("bind");
    let version = payload(&format!("{prefix}.version.json"));
    let info = payload(&format!("{prefix}.info.json"));
    let libpod = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/engines")
            .join(format!("{prefix}.libpod-info.json")),
    )
    .ok();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (version, info, libpod) = (version.clone(), info.clone(), libpod.clone());
            std::thread::spawn(move || answer(stream, &version, &info, libpod.as_deref()));
        }
    });
}

fn answer(mut s: UnixStream, version: &str, info: &str, libpod: Option<&str>) {
    let mut req = Vec::new();
    let mut buf = [0u8; 1024];
    while !req.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => req.extend_from_slice(&buf[..n]),
        }
    }
    let line = String::from_utf8_lossy(&req);
    let path = line
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_string();
    let (status, body) = if path == "/_ping" {
        ("200 OK", "OK".to_string())
    } else if path.ends_with("/version") {
        ("200 OK", version.to_string())
    } else if path.contains("/libpod/info") {
        match libpod {
            Some(l) => ("200 OK", l.to_string()),
            None => ("404 Not Found", r#"{"message":"not found"}"#.into()),
        }
    } else if path.ends_with("/info") {
        ("200 OK", info.to_string())
    } else {
        ("404 Not Found", r#"{"message":"No such image"}"#.into())
    };
    let _ = write!(
        s,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

fn opts(dir: &Path) -> (DetectOptions, PathBuf) {
    let o = isolated(dir);
    let home = o.home.clone().expect("home");
    (o, home)
}

fn at<'a>(r: &'a Report, path: &Path) -> &'a clawposture::edge::detect::EngineReport {
    let endpoint = format!("unix://{}", path.display());
    r.engines
        .iter()
        .find(|e| e.endpoint == endpoint)
        .unwrap_or_else(|| panic!("{endpoint} not in {:#?}", r.engines))
}

#[test]
fn fixture_each_desktop_socket_is_found_under_its_source_and_probed() {
    let cases: [(&str, Source, &str, Option<&str>); 8] = [
        (
            ".docker/run/docker.sock",
            Source::DockerDesktop,
            "reconstructed-docker-desktop-macos",
            Some("Docker Desktop"),
        ),
        (
            ".docker/desktop/docker.sock",
            Source::DockerDesktop,
            "reconstructed-docker-desktop-macos",
            Some("Docker Desktop"),
        ),
        (
            ".colima/default/docker.sock",
            Source::Colima,
            "reconstructed-colima",
            Some("colima"),
        ),
        (
            ".colima/work/docker.sock",
            Source::Colima,
            "reconstructed-colima",
            Some("colima"),
        ),
        (
            ".colima/docker.sock",
            Source::Colima,
            "reconstructed-colima",
            Some("colima"),
        ),
        (
            ".orbstack/run/docker.sock",
            Source::OrbStack,
            "debian12-docker-rootful",
            None,
        ),
        (
            ".rd/docker.sock",
            Source::RancherDesktop,
            "debian12-docker-rootful",
            None,
        ),
        (
            ".local/share/containers/podman/machine/qemu/podman.sock",
            Source::PodmanMachine,
            "debian12-podman-rootless",
            None,
        ),
    ];
    for (rel, source, prefix, platform) in cases {
        let dir = tempdir();
        let (o, home) = opts(dir.path());
        let sock = home.join(rel);
        serve(&sock, prefix);
        let r = detect(&o);
        let e = at(&r, &sock);
        assert_eq!(e.source, source, "{rel}");
        assert_eq!(e.state, State::Ready, "{rel}: {e:#?}");
        assert!(e.confirmed, "{rel}");
        if let Some(p) = platform {
            assert_eq!(e.platform.as_deref(), Some(p), "{rel}");
        }
        let kind = if source == Source::PodmanMachine {
            EngineKind::Podman
        } else {
            EngineKind::Docker
        };
        assert_eq!(e.kind, Some(kind), "{rel}");
        // The only engine here: it is the one selected.
        assert_eq!(r.selected.index.map(|i| &r.engines[i]), Some(e), "{rel}");
    }
}

#[test]
fn fixture_a_stopped_colima_profile_gets_its_own_start_command() {
    let dir = tempdir();
    let (o, home) = opts(dir.path());
    let sock = home.join(".colima/work/docker.sock");
    std::fs::create_dir_all(sock.parent().expect("parent")).expect("mkdir");
    // A socket file nobody listens on: the VM is stopped.
    drop(UnixListener::bind(&sock).expect("bind"));
    let r = detect(&o);
    let e = at(&r, &sock);
    assert_eq!(e.state, State::NotRunning);
    assert_eq!(e.fix.as_deref(), Some("colima start --profile work"));
}

/// The docker CLI's current context (config.json + contexts/meta/<sha256(name)>/meta.json).
fn context(home: &Path, name: &str, host: &str) {
    let meta = home
        .join(".docker/contexts/meta")
        .join(meta_dir_name(name))
        .join("meta.json");
    std::fs::create_dir_all(meta.parent().expect("parent")).expect("mkdir");
    std::fs::write(
        &meta,
        format!(r#"{{"Name":"{name}","Metadata":{{}},"Endpoints":{{"docker":{{"Host":"{host}","SkipTLSVerify":false}}}}}}"#),
    )
    .expect("meta");
    std::fs::write(
        home.join(".docker/config.json"),
        format!(r#"{{"currentContext":"{name}"}}"#),
    )
    .expect("config");
}

#[test]
fn fixture_contexts_to_a_desktop_socket_ssh_tcp_and_a_named_pipe() {
    // A context that names the OrbStack socket (as `docker context use orbstack` leaves it).
    let dir = tempdir();
    let (o, home) = opts(dir.path());
    let sock = home.join(".orbstack/run/docker.sock");
    serve(&sock, "debian12-docker-rootful");
    context(&home, "orbstack", &format!("unix://{}", sock.display()));
    let r = detect(&o);
    let e = at(&r, &sock);
    assert_eq!(e.source, Source::ConfigContext, "the context stands for it");
    assert_eq!(e.context.as_deref(), Some("orbstack"));
    assert!(e.cli_default && e.state == State::Ready);
    // And the Gateway's docker CLI reads the same context.
    let g = r.gateway.expect("gateway view");
    assert_eq!(g.because, "docker context orbstack");

    // Remote and foreign endpoints: reported with what they are, never connected to.
    for (name, host, says) in [
        ("remote", "ssh://deploy@build.example.com", "over ssh"),
        ("tcp", "tcp://127.0.0.1:2375", "not probed"),
        (
            "desktop-windows",
            "npipe:////./pipe/docker_engine",
            "Windows named pipe: not supported",
        ),
    ] {
        let dir = tempdir();
        let (o, home) = opts(dir.path());
        context(&home, name, host);
        let r = detect(&o);
        let e = r
            .engines
            .iter()
            .find(|e| e.endpoint == host)
            .unwrap_or_else(|| panic!("{host}: {:#?}", r.engines));
        assert_eq!(e.state, State::Unsupported, "{host}");
        assert!(
            e.detail.as_deref().is_some_and(|d| d.contains(says)),
            "{host}: {:?}",
            e.detail
        );
        assert!(e.as_engine().is_none());
    }
}
