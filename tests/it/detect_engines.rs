//! Detection against the four REAL daemons of `.ci/support/engines.sh start` (rootful and
//! rootless dockerd, rootful and rootless Podman), found through `$CLAWPOSTURE_ENGINES_ENV`.
//! Without it these tests say they are skipped; in CI (`CI` set) they fail instead.

use crate::support::detect as detect_common;

use std::collections::HashMap;
use std::path::Path;

use clawposture::edge::detect::{EngineReport, Report, Source, State, detect, meta_dir_name};
use clawposture::model::environment::{Engine, EngineKind};
use detect_common::{LIVE_TIMEOUT, detect_as_nobody, engines_env, is_root, isolated, tempdir};

#[test]
#[ignore = "helper: run by detect_as_nobody as an unprivileged child"]
fn detect_as_child() {
    detect_common::child_main();
}

fn endpoint(env: &HashMap<String, String>, key: &str) -> String {
    env.get(key)
        .cloned()
        .unwrap_or_else(|| panic!("{key} missing from engines.env"))
}

fn detect_docker_host(env: &HashMap<String, String>, host: &str, image: Option<&str>) -> Report {
    let dir = tempdir();
    let mut o = isolated(dir.path());
    o.docker_host = Some(host.to_string());
    o.probe_timeout = LIVE_TIMEOUT;
    o.sandbox_image =
        image.map_or_else(|| endpoint(env, "CLAWPOSTURE_PROBE_IMAGE"), str::to_string);
    detect(&o)
}

fn first(r: &Report) -> &EngineReport {
    r.engines
        .first()
        .expect("at least the DOCKER_HOST endpoint")
}

/// The exact verdict for one daemon reached through DOCKER_HOST.
fn assert_engine(key: &str, kind: EngineKind, rootless: bool) {
    let Some(env) = engines_env() else { return };
    let host = endpoint(&env, key);
    let r = detect_docker_host(&env, &host, None);
    let e = first(&r);
    assert_eq!(e.endpoint, host);
    assert_eq!(e.source, Source::DockerHost);
    assert_eq!(e.state, State::Ready, "{key}: {:?}", e.detail);
    assert_eq!(e.kind, Some(kind), "{key}");
    assert_eq!(e.rootless, Some(rootless), "{key}: {:?}", e.detail);
    assert!(e.confirmed && e.cli_default);
    assert!(e.version.as_deref().is_some_and(|v| !v.is_empty()));
    assert!(
        e.security.as_ref().is_some_and(|s| s.seccomp),
        "{key}: seccomp"
    );
    let img = e.sandbox_image.as_ref().expect("image checked");
    assert_eq!(img.present, Some(true), "{key}: the imported probe image");
    assert_eq!(r.selected.index, Some(0), "{}", r.selected.reason);
    assert_eq!(r.selected_engine(), Some(Engine { kind, rootless }));
}

#[test]
fn rootful_docker() {
    assert_engine("CLAWPOSTURE_DOCKER_ROOTFUL", EngineKind::Docker, false);
}

#[test]
fn rootless_docker() {
    assert_engine("CLAWPOSTURE_DOCKER_ROOTLESS", EngineKind::Docker, true);
}

#[test]
fn rootful_podman() {
    assert_engine("CLAWPOSTURE_PODMAN_ROOTFUL", EngineKind::Podman, false);
}

#[test]
fn rootless_podman() {
    assert_engine("CLAWPOSTURE_PODMAN_ROOTLESS", EngineKind::Podman, true);
}

#[test]
fn missing_sandbox_image_is_reported_with_a_build_fix() {
    let Some(env) = engines_env() else { return };
    let host = endpoint(&env, "CLAWPOSTURE_DOCKER_ROOTFUL");
    let r = detect_docker_host(&env, &host, Some("openclaw-sandbox:bookworm-slim"));
    let e = first(&r);
    assert_eq!(e.state, State::Ready);
    assert_eq!(
        e.sandbox_image.as_ref().and_then(|i| i.present),
        Some(false)
    );
    assert!(
        e.fix
            .as_deref()
            .is_some_and(|f| f.contains("clawposture image build --docker-host "))
    );
}

#[test]
fn rootless_socket_in_runtime_dir_is_preferred_over_rootful_docker_host() {
    let Some(env) = engines_env() else { return };
    let rootful = endpoint(&env, "CLAWPOSTURE_DOCKER_ROOTFUL");
    let rootless = endpoint(&env, "CLAWPOSTURE_DOCKER_ROOTLESS");
    let runtime_dir = Path::new(rootless.trim_start_matches("unix://"))
        .parent()
        .expect("socket has a parent dir")
        .to_path_buf();
    let dir = tempdir();
    let mut o = isolated(dir.path());
    o.docker_host = Some(rootful.clone());
    o.xdg_runtime_dir = Some(runtime_dir);
    o.probe_timeout = LIVE_TIMEOUT;
    let r = detect(&o);

    let idx = r
        .engines
        .iter()
        .position(|e| e.source == Source::RootlessDocker && e.endpoint == rootless)
        .expect("well-known rootless socket listed");
    let e = &r.engines[idx];
    assert_eq!(
        (e.state, e.kind, e.rootless),
        (State::Ready, Some(EngineKind::Docker), Some(true))
    );
    assert!(!e.cli_default, "DOCKER_HOST points elsewhere");
    assert_eq!(r.engines[0].rootless, Some(false));
    assert_eq!(r.selected.index, Some(idx), "{}", r.selected.reason);
    // The Gateway will not reach it unless its service environment says so.
    assert_eq!(r.selected.docker_host.as_deref(), Some(rootless.as_str()));
    assert!(
        r.selected.reason.contains("preferred over rootful Docker"),
        "{}",
        r.selected.reason
    );
}

/// A docker CLI context on disk, exactly as `docker context create` writes it.
fn write_context(config_dir: &Path, name: &str, host: &str, current: bool) {
    let meta = config_dir.join("contexts/meta").join(meta_dir_name(name));
    std::fs::create_dir_all(&meta).expect("meta dir");
    let doc = serde_json::json!({
        "Name": name,
        "Metadata": {"Description": "clawposture test"},
        "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": false}}
    });
    std::fs::write(meta.join("meta.json"), doc.to_string()).expect("meta.json");
    if current {
        let cfg = serde_json::json!({"auths": {}, "currentContext": name});
        std::fs::write(config_dir.join("config.json"), cfg.to_string()).expect("config.json");
    }
}

#[test]
fn current_context_in_config_resolves_to_the_rootless_daemon() {
    let Some(env) = engines_env() else { return };
    let rootless = endpoint(&env, "CLAWPOSTURE_DOCKER_ROOTLESS");
    let dir = tempdir();
    let mut o = isolated(dir.path());
    let cfg = o.home.clone().expect("home").join(".docker");
    write_context(&cfg, "clawtest-rootless", &rootless, true);
    o.probe_timeout = LIVE_TIMEOUT;
    let r = detect(&o);
    let e = first(&r);
    assert_eq!(e.source, Source::ConfigContext);
    assert_eq!(e.context.as_deref(), Some("clawtest-rootless"));
    assert_eq!(e.endpoint, rootless);
    assert_eq!(
        (e.state, e.kind, e.rootless),
        (State::Ready, Some(EngineKind::Docker), Some(true))
    );
    assert!(e.cli_default);
    assert_eq!(r.selected.index, Some(0));
    assert_eq!(r.selected.docker_host, None, "the CLI already reaches it");
}

#[test]
fn docker_context_variable_beats_current_context() {
    let Some(env) = engines_env() else { return };
    let podman = endpoint(&env, "CLAWPOSTURE_PODMAN_ROOTLESS");
    let docker = endpoint(&env, "CLAWPOSTURE_DOCKER_ROOTFUL");
    let dir = tempdir();
    let mut o = isolated(dir.path());
    let cfg = dir.path().join("docker-config");
    write_context(&cfg, "rootful", &docker, true);
    write_context(&cfg, "podman-rootless", &podman, false);
    o.docker_config = Some(cfg);
    o.docker_context = Some("podman-rootless".into());
    o.probe_timeout = LIVE_TIMEOUT;
    let r = detect(&o);
    let e = first(&r);
    assert_eq!(e.source, Source::DockerContext);
    assert_eq!(e.endpoint, podman);
    assert_eq!(
        (e.state, e.kind, e.rootless),
        (State::Ready, Some(EngineKind::Podman), Some(true))
    );
    // DOCKER_CONTEXT overrides currentContext, so the "rootful" context is not even read.
    assert!(!r.engines.iter().any(|x| x.endpoint == docker));
}

#[test]
fn real_rootful_docker_socket_denies_an_ordinary_user() {
    let Some(env) = engines_env() else { return };
    if !is_root() {
        detect_common::skipped("switching to user nobody needs root");
        return;
    }
    let host = endpoint(&env, "CLAWPOSTURE_DOCKER_ROOTFUL");
    let r = detect_as_nobody(&host);
    let e = first(&r);
    assert_eq!(e.endpoint, host);
    assert_eq!(e.state, State::PermissionDenied, "{:?}", e.detail);
    // Never answered: nothing is claimed about what it is.
    assert_eq!((e.kind, e.rootless, e.confirmed), (None, None, false));
    assert!(
        e.fix
            .as_deref()
            .is_some_and(|f| f.contains("root-equivalent") && f.contains("rootless"))
    );
    assert_eq!(r.selected.index, None);
    assert_eq!(r.rootless_prerequisites.uid, detect_common::NOBODY);
}
