//! The failure states, each reproduced for real without any daemon: a socket that accepts and
//! never answers, a missing socket, a stale socket, a socket this user may not open, a docker
//! CLI with no daemon, broken contexts, a hung `openclaw`, and the JSON contract.

use crate::support::detect as detect_common;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::time::Duration;

use clawposture::edge::detect::{Report, Source, State, detect, render_human};
use clawposture::model::environment::EngineKind;
use detect_common::{detect_as_nobody, is_root, isolated, script, tempdir};

#[test]
#[ignore = "helper: run by detect_as_nobody as an unprivileged child"]
fn detect_as_child() {
    detect_common::child_main();
}

/// Short: these sockets never answer, and waiting longer proves nothing more.
const SHORT: Duration = Duration::from_millis(300);

fn unix(p: &Path) -> String {
    format!("unix://{}", p.display())
}

#[test]
fn hung_socket_is_a_timeout_and_never_selected() {
    let dir = tempdir();
    let sock = dir.path().join("hung.sock");
    // Bound and listening, never accepted: connect() succeeds through the backlog, then silence.
    let _listener = UnixListener::bind(&sock).expect("bind");
    let mut o = isolated(dir.path());
    o.docker_host = Some(unix(&sock));
    o.probe_timeout = SHORT;
    let r = detect(&o);
    let e = &r.engines[0];
    assert_eq!(e.source, Source::DockerHost);
    assert_eq!(e.state, State::Timeout, "{:?}", e.detail);
    assert_eq!((e.kind, e.rootless, e.confirmed), (None, None, false));
    assert!(e.fix.as_deref().is_some_and(|f| f.contains("restart")));
    assert_eq!(r.selected.index, None);
}

#[test]
fn hung_rootless_well_known_socket_keeps_its_inferred_identity() {
    let dir = tempdir();
    let runtime = dir.path().join("runtime");
    std::fs::create_dir_all(&runtime).expect("runtime dir");
    let _listener = UnixListener::bind(runtime.join("docker.sock")).expect("bind");
    let mut o = isolated(dir.path());
    o.xdg_runtime_dir = Some(runtime.clone());
    o.probe_timeout = SHORT;
    let r = detect(&o);
    let e = r
        .engines
        .iter()
        .find(|e| e.endpoint == unix(&runtime.join("docker.sock")))
        .expect("rootless socket listed");
    assert_eq!(e.source, Source::RootlessDocker);
    assert_eq!(e.state, State::Timeout);
    // Inferred from the location, and marked as such.
    assert_eq!(
        (e.kind, e.rootless, e.confirmed),
        (Some(EngineKind::Docker), Some(true), false)
    );
    assert!(
        r.selected.reason.contains("no engine answers"),
        "{}",
        r.selected.reason
    );
}

#[test]
fn missing_socket() {
    let dir = tempdir();
    let mut o = isolated(dir.path());
    let sock = dir.path().join("nothing-here.sock");
    o.docker_host = Some(unix(&sock));
    let r = detect(&o);
    let e = &r.engines[0];
    assert_eq!(e.state, State::Missing);
    assert_eq!((e.kind, e.rootless), (None, None));
    // An explicit endpoint that is missing is a problem worth a fix; a well-known one is not.
    assert!(e.fix.is_some());
    assert!(
        r.engines[1..]
            .iter()
            .all(|x| x.state == State::Missing && x.fix.is_none())
    );
    assert_eq!(r.selected.index, None);
}

#[test]
fn stale_socket_is_not_running() {
    let dir = tempdir();
    let sock = dir.path().join("stale.sock");
    drop(UnixListener::bind(&sock).expect("bind")); // the file outlives the listener
    let mut o = isolated(dir.path());
    o.docker_host = Some(unix(&sock));
    let r = detect(&o);
    assert_eq!(
        r.engines[0].state,
        State::NotRunning,
        "{:?}",
        r.engines[0].detail
    );
    assert_eq!(r.selected.index, None);
}

#[test]
fn socket_this_user_may_not_open() {
    let dir = tempdir();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
        .expect("chmod dir");
    let sock = dir.path().join("root-only.sock");
    let _listener = UnixListener::bind(&sock).expect("bind");
    std::fs::set_permissions(&sock, std::fs::Permissions::from_mode(0o660)).expect("chmod sock");
    let r: Report = if is_root() {
        // Root opens anything: ask as user nobody.
        detect_as_nobody(&unix(&sock))
    } else {
        std::fs::set_permissions(&sock, std::fs::Permissions::from_mode(0o000)).expect("chmod 000");
        let mut o = isolated(dir.path());
        o.docker_host = Some(unix(&sock));
        detect(&o)
    };
    let e = &r.engines[0];
    assert_eq!(e.state, State::PermissionDenied, "{:?}", e.detail);
    assert_eq!((e.kind, e.rootless), (None, None));
    let fix = e.fix.as_deref().unwrap_or_default();
    assert!(
        fix.contains("root-equivalent") && fix.contains("rootless"),
        "{fix}"
    );
}

#[test]
fn docker_cli_without_a_daemon() {
    let dir = tempdir();
    let o = isolated(dir.path());
    let bin = Path::new(o.path.as_ref().expect("isolated PATH")).to_path_buf();
    // The client is installed: a stand-in that behaves like `docker` with no daemon.
    script(
        &bin,
        "docker",
        "echo 'Cannot connect to the Docker daemon' >&2; exit 1",
    );
    std::fs::create_dir_all(o.system_root.join("var/run")).expect("var/run");
    let r = detect(&o);
    assert!(r.clis.docker.is_some());
    let e = r
        .engines
        .iter()
        .find(|e| e.source == Source::SystemDocker)
        .expect("system socket listed");
    assert!(
        e.cli_default,
        "with nothing configured the CLI uses /var/run/docker.sock"
    );
    assert_eq!(
        (e.state, e.kind, e.rootless),
        (State::Missing, Some(EngineKind::Docker), Some(false))
    );
    assert!(
        e.fix
            .as_deref()
            .is_some_and(|f| f.contains("docker CLI is installed but no daemon"))
    );
    assert_eq!(r.selected.index, None);
    assert!(render_human(&r).contains("fix: the docker CLI is installed"));
}

#[test]
fn tcp_endpoints_are_reported_not_probed() {
    let dir = tempdir();
    let mut o = isolated(dir.path());
    o.docker_host = Some("tcp://192.0.2.1:2376".into()); // TEST-NET: never contacted
    let r = detect(&o);
    assert_eq!(r.engines[0].state, State::Unsupported);
    assert!(
        r.engines[0]
            .fix
            .as_deref()
            .is_some_and(|f| f.contains("docker -H tcp://192.0.2.1:2376 info"))
    );
}

#[test]
fn unknown_context_is_an_error_with_a_fix() {
    let dir = tempdir();
    let mut o = isolated(dir.path());
    o.docker_context = Some("gone".into());
    let r = detect(&o);
    let e = &r.engines[0];
    assert_eq!((e.source, e.state), (Source::DockerContext, State::Error));
    assert_eq!(e.context.as_deref(), Some("gone"));
    assert!(e.cli_default);
    assert!(e.detail.as_deref().is_some_and(|d| d.contains("not found")));
    assert!(
        e.fix
            .as_deref()
            .is_some_and(|f| f.contains("docker context ls"))
    );
}

/// A fake engine on a real socket: answers `/_ping` like Podman, then stalls on everything else.
/// Served by a thread; the test never sleeps, the probe's deadline ends the wait.
#[test]
fn podman_too_slow_for_libpod_info_falls_back_to_the_socket_owner() {
    let dir = tempdir();
    let sock = dir.path().join("slow-podman.sock");
    let listener = UnixListener::bind(&sock).expect("bind");
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let mut line = String::new();
            let _ = BufReader::new(&conn).read_line(&mut line);
            if line.starts_with("GET /_ping ") {
                let _ = conn.write_all(
                    b"HTTP/1.0 200 OK\r\nApi-Version: 1.41\r\nLibpod-Api-Version: 4.3.1\r\nServer: Libpod/4.3.1 (linux)\r\n\r\nOK",
                );
            } else {
                held.push(conn); // keep it open, answer nothing
            }
        }
    });
    let mut o = isolated(dir.path());
    o.docker_host = Some(unix(&sock));
    o.probe_timeout = SHORT;
    let r = detect(&o);
    let e = &r.engines[0];
    assert_eq!(
        (e.state, e.kind),
        (State::Ready, Some(EngineKind::Podman)),
        "{:?}",
        e.detail
    );
    assert_eq!(e.version.as_deref(), Some("4.3.1"));
    // This process serves the socket: rootless exactly when the test is not root.
    assert_eq!(e.rootless, Some(!is_root()));
    assert!(
        e.detail
            .as_deref()
            .is_some_and(|d| d.contains("inferred from the socket"))
    );
    assert_eq!(e.sandbox_image.as_ref().and_then(|i| i.present), None);
}

#[test]
fn hung_openclaw_version_is_cut_off() {
    let dir = tempdir();
    let o = isolated(dir.path());
    let bin = Path::new(o.path.as_ref().expect("PATH")).to_path_buf();
    // The isolated PATH has no tools; name them for the stand-in itself.
    script(
        &bin,
        "openclaw",
        "PATH=/usr/bin:/bin exec tail -f /dev/null",
    );
    let r = detect(&o);
    assert!(r.openclaw.installed);
    assert_eq!(r.openclaw.version, None);
    assert!(
        r.openclaw
            .version_error
            .as_deref()
            .is_some_and(|e| e.contains("did not answer"))
    );
}

#[test]
fn openclaw_version_and_config() {
    let dir = tempdir();
    let o = isolated(dir.path());
    let bin = Path::new(o.path.as_ref().expect("PATH")).to_path_buf();
    script(&bin, "openclaw", "echo 'OpenClaw 2026.9.6 (eb377ac)'");
    std::fs::write(dir.path().join("openclaw.json"), "{}").expect("config");
    let r = detect(&o);
    assert!(r.openclaw.installed);
    assert_eq!(r.openclaw.version.as_deref(), Some("2026.9.6"));
    assert!(r.openclaw.config_exists);
    assert!(r.openclaw.note.contains("DOCKER_HOST"));
}

#[test]
fn json_has_the_keys_scripts_rely_on_and_round_trips() {
    let dir = tempdir();
    let mut o = isolated(dir.path());
    o.docker_host = Some(unix(&dir.path().join("none.sock")));
    let r = detect(&o);
    let v = serde_json::to_value(&r).expect("serialise");
    for key in [
        "engines",
        "selected",
        "rootless_prerequisites",
        "openclaw",
        "elapsed_ms",
    ] {
        assert!(v.get(key).is_some(), "missing top-level key {key}");
    }
    for key in [
        "kind",
        "endpoint",
        "source",
        "state",
        "rootless",
        "version",
        "sandbox_image",
    ] {
        assert!(
            v["engines"][0].get(key).is_some(),
            "missing engines[].{key}"
        );
    }
    assert!(v["selected"].get("index").is_some_and(|i| i.is_null()));
    assert!(v["selected"]["reason"].is_string());
    for key in ["installed", "version", "config_path"] {
        assert!(v["openclaw"].get(key).is_some(), "missing openclaw.{key}");
    }
    assert_eq!(v["engines"][0]["state"], "missing");
    assert_eq!(v["engines"][0]["source"], "docker_host");
    let back: Report = serde_json::from_value(v).expect("deserialise");
    assert_eq!(back, r);
}
