//! The pure choice of engine, and the human rendering, on hand-built reports.

use clawposture::edge::detect::{
    Clis, EngineReport, OpenClawReport, Report, RootlessPrerequisites, SandboxImage, Source, State,
    render_human, select,
};
use clawposture::model::environment::{Engine, EngineKind};

fn engine(
    endpoint: &str,
    source: Source,
    state: State,
    kind: EngineKind,
    rootless: bool,
) -> EngineReport {
    let mut e = EngineReport::new(endpoint, source);
    e.state = state;
    e.kind = Some(kind);
    e.rootless = Some(rootless);
    e.confirmed = state == State::Ready;
    e.cli_default = source == Source::SystemDocker;
    if state == State::Ready {
        e.version = Some("1.0".into());
    }
    e
}

const ROOTLESS: &str = "unix:///run/user/1000/docker.sock";
const SYSTEM: &str = "unix:///var/run/docker.sock";
const PODMAN: &str = "unix:///run/user/1000/podman/podman.sock";

/// The three usual engines: the system Docker socket, rootless Docker, rootless Podman.
fn system(state: State) -> EngineReport {
    engine(
        SYSTEM,
        Source::SystemDocker,
        state,
        EngineKind::Docker,
        false,
    )
}

fn rootless(state: State) -> EngineReport {
    engine(
        ROOTLESS,
        Source::RootlessDocker,
        state,
        EngineKind::Docker,
        true,
    )
}

/// A ready rootful Docker named by DOCKER_HOST, so the docker CLI's default.
fn docker_host() -> EngineReport {
    let mut e = engine(
        "unix:///srv/docker.sock",
        Source::DockerHost,
        State::Ready,
        EngineKind::Docker,
        false,
    );
    e.cli_default = true;
    e
}

fn podman(state: State) -> EngineReport {
    engine(
        PODMAN,
        Source::RootlessPodman,
        state,
        EngineKind::Podman,
        true,
    )
}

#[test]
fn rootless_ready_beats_rootful_ready() {
    let engines = [system(State::Ready), rootless(State::Ready)];
    let s = select(&engines);
    assert_eq!(s.index, Some(1));
    assert!(
        s.reason.contains("rootless") && s.reason.contains("preferred over rootful Docker"),
        "{}",
        s.reason
    );
    // The CLI reaches /var/run/docker.sock by default, so the Gateway needs DOCKER_HOST.
    assert_eq!(s.docker_host.as_deref(), Some(ROOTLESS));
    assert!(s.reason.contains(&format!("DOCKER_HOST={ROOTLESS}")));
}

#[test]
fn reachable_rootful_beats_unreachable_rootless_and_says_why() {
    let mut down = rootless(State::NotRunning);
    down.fix = Some("systemctl --user start docker".into());
    let engines = [down, system(State::Ready)];
    let s = select(&engines);
    assert_eq!(s.index, Some(1));
    assert_eq!(s.docker_host, None, "the CLI default already");
    assert!(
        s.reason.contains("would be safer but is not running"),
        "{}",
        s.reason
    );
    assert!(s.reason.contains("systemctl --user start docker"));
}

#[test]
fn docker_beats_podman_at_equal_rootlessness() {
    let engines = [podman(State::Ready), rootless(State::Ready)];
    assert_eq!(select(&engines).index, Some(1));
}

#[test]
fn rootless_podman_beats_rootful_docker() {
    let engines = [system(State::Ready), podman(State::Ready)];
    let s = select(&engines);
    assert_eq!(s.index, Some(1));
    assert_eq!(
        s.docker_host, None,
        "Podman's backend uses the podman CLI, not DOCKER_HOST"
    );
    assert!(s.reason.contains("podman CLI"), "{}", s.reason);
}

#[test]
fn the_cli_default_beats_another_at_equal_rank() {
    let host = docker_host();
    let mut system = system(State::Ready);
    system.cli_default = false;
    let s = select(&[system, host]);
    assert_eq!(s.index, Some(1));
    assert_eq!(s.docker_host, None);
}

#[test]
fn a_context_shadowed_by_docker_host_earns_nothing_for_being_configured() {
    let host = docker_host();
    // DOCKER_CONTEXT is ignored by the docker CLI while DOCKER_HOST is set.
    let ctx = engine(
        PODMAN,
        Source::DockerContext,
        State::Ready,
        EngineKind::Podman,
        true,
    );
    let rootless = rootless(State::Ready);
    let s = select(&[host, ctx, rootless]);
    assert_eq!(s.index, Some(2), "{}", s.reason);
    assert_eq!(s.docker_host.as_deref(), Some(ROOTLESS));
}

#[test]
fn nothing_usable_names_the_most_telling_problem() {
    let mut denied = system(State::PermissionDenied);
    denied.fix = Some("prefer rootless".into());
    let engines = [rootless(State::Missing), denied];
    let s = select(&engines);
    assert_eq!(s.index, None);
    assert!(
        s.reason.contains("permission denied") && s.reason.contains("prefer rootless"),
        "{}",
        s.reason
    );
    assert!(
        select(&[])
            .reason
            .contains("no container engine socket found")
    );
}

#[test]
fn unknown_rootless_counts_as_rootful() {
    let mut e = system(State::Ready);
    e.rootless = None;
    let r = report(vec![e]);
    assert_eq!(
        r.selected_engine(),
        Some(Engine {
            kind: EngineKind::Docker,
            rootless: false
        })
    );
}

fn report(engines: Vec<EngineReport>) -> Report {
    let selected = select(&engines);
    Report {
        engines,
        selected,
        clis: Clis::default(),
        rootless_prerequisites: RootlessPrerequisites {
            user: Some("u".into()),
            uid: 1000,
            ok: true,
            checks: vec![],
        },
        in_container: None,
        gateway: None,
        requested: None,
        openclaw: OpenClawReport {
            installed: false,
            path: None,
            version: None,
            version_error: None,
            config_path: Some("/home/u/.openclaw/openclaw.json".into()),
            config_exists: false,
            note: "note".into(),
        },
        elapsed_ms: 7,
    }
}

#[test]
fn human_output_puts_a_fix_under_every_problem_and_hides_plain_absences() {
    let mut ready = system(State::Ready);
    ready.sandbox_image = Some(SandboxImage {
        name: "openclaw-sandbox:bookworm-slim".into(),
        present: Some(false),
    });
    ready.fix = Some("build the sandbox image: docker build ...".into());
    let mut denied = engine(
        "unix:///srv/x.sock",
        Source::DockerHost,
        State::PermissionDenied,
        EngineKind::Docker,
        false,
    );
    denied.fix = Some("prefer rootless".into());
    let absent = podman(State::Missing);
    let text = render_human(&report(vec![denied, ready, absent]));
    assert!(text.contains("permission denied"), "{text}");
    assert!(text.contains("fix: prefer rootless"));
    assert!(text.contains("fix: build the sandbox image"));
    assert!(text.contains(&format!("not found: {PODMAN}")));
    assert!(text.contains("->  1"), "selected row marked:\n{text}");
    assert!(text.contains("detected in 7 ms"));
}
