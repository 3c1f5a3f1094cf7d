//! Parsing of engine answers from stored payloads (see tests/fixtures/engines/README.md):
//! `debian12-*` were recorded from the real daemons; `reconstructed-*` stand for engines that
//! cannot run here (Docker Desktop macOS, Docker Desktop WSL 2, colima).

use std::path::PathBuf;

use bollard::models::SystemInfo;
use clawposture::edge::detect::{
    EngineReport, Source, apply_info, apply_libpod_info, version_facts,
};
use clawposture::model::environment::EngineKind;
use serde_json::Value;

fn load(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/engines")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// What the probe does with the answers, minus the sockets: Docker's facts come from `/info`,
/// Podman's from libpod info.
fn interpret(prefix: &str) -> EngineReport {
    let v = version_facts(&load(&format!("{prefix}.version.json"))).expect("an engine's /version");
    let mut r = EngineReport::new("unix:///fixture.sock", Source::DockerHost);
    r.kind = Some(v.kind);
    r.version = v.version.clone();
    match v.kind {
        EngineKind::Docker => {
            let info: SystemInfo = serde_json::from_value(load(&format!("{prefix}.info.json")))
                .expect("bollard parses /info");
            apply_info(&mut r, &info, v.kind, v.platform_name.as_deref());
        }
        EngineKind::Podman => {
            apply_libpod_info(&mut r, &load(&format!("{prefix}.libpod-info.json")))
        }
    }
    r
}

#[test]
fn recorded_debian12_docker_rootful() {
    let r = interpret("debian12-docker-rootful");
    assert_eq!(r.kind, Some(EngineKind::Docker));
    assert_eq!(r.rootless, Some(false));
    assert_eq!(r.version.as_deref(), Some("20.10.24+dfsg1"));
    let s = r.security.expect("security parsed");
    assert!(s.seccomp && !s.userns && !s.rootless);
    assert_eq!(r.cgroup_version.as_deref(), Some("1"));
    assert_eq!(r.platform, None);
    assert!(!r.gvisor);
}

#[test]
fn recorded_debian12_docker_rootless_says_so_in_security_options() {
    let r = interpret("debian12-docker-rootless");
    assert_eq!(r.kind, Some(EngineKind::Docker));
    assert_eq!(r.rootless, Some(true));
    let s = r.security.expect("security parsed");
    assert!(s.rootless && s.userns && s.seccomp);
}

#[test]
fn recorded_debian12_podman_rootful_needs_libpod_info() {
    let r = interpret("debian12-podman-rootful");
    assert_eq!(r.kind, Some(EngineKind::Podman));
    assert_eq!(r.version.as_deref(), Some("4.3.1"));
    assert_eq!(r.rootless, Some(false));
}

#[test]
fn recorded_debian12_podman_rootless_only_libpod_tells() {
    // The Docker-compatible /info alone does not reveal rootless Podman...
    let info: SystemInfo =
        serde_json::from_value(load("debian12-podman-rootless.info.json")).expect("info");
    let opts = info.security_options.clone().unwrap_or_default();
    assert!(!opts.iter().any(|o| o.contains("rootless")));
    // ...libpod info does.
    let r = interpret("debian12-podman-rootless");
    assert_eq!(r.kind, Some(EngineKind::Podman));
    assert_eq!(r.rootless, Some(true));
    assert!(r.security.expect("security").userns);
}

#[test]
fn podman_compat_info_lists_runsc_that_is_not_installed() {
    // Its /info names runsc at /usr/bin/runsc, absent on the recording machine...
    let info: SystemInfo =
        serde_json::from_value(load("debian12-podman-rootful.info.json")).expect("info");
    assert!(info.runtimes.unwrap_or_default().contains_key("runsc"));
    // ...so the report takes the runtime libpod actually uses.
    let r = interpret("debian12-podman-rootful");
    assert_eq!(r.runtimes, vec!["runc".to_string()]);
    assert!(!r.gvisor);
    assert_eq!(r.cgroup_version.as_deref(), Some("1"));
}

#[test]
fn reconstructed_docker_desktop_macos() {
    let r = interpret("reconstructed-docker-desktop-macos");
    assert_eq!(r.kind, Some(EngineKind::Docker));
    assert_eq!(r.rootless, Some(false));
    assert_eq!(r.platform.as_deref(), Some("Docker Desktop"));
    assert_eq!(r.cgroup_version.as_deref(), Some("2"));
    let s = r.security.expect("security");
    assert!(s.seccomp && s.cgroupns && !s.apparmor);
}

#[test]
fn reconstructed_docker_desktop_wsl2() {
    let r = interpret("reconstructed-docker-desktop-wsl2");
    assert_eq!(r.kind, Some(EngineKind::Docker));
    assert_eq!(r.rootless, Some(false));
    assert_eq!(r.platform.as_deref(), Some("Docker Desktop (WSL 2)"));
    assert_eq!(r.version.as_deref(), Some("27.4.0"));
}

#[test]
fn reconstructed_colima() {
    let r = interpret("reconstructed-colima");
    assert_eq!(r.kind, Some(EngineKind::Docker));
    assert_eq!(r.rootless, Some(false));
    assert_eq!(r.platform.as_deref(), Some("colima"));
    let s = r.security.expect("security");
    assert!(s.apparmor && s.seccomp);
    assert_eq!(s.seccomp_profile.as_deref(), Some("builtin"));
}
