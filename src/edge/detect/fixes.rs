//! One line that fixes each problem an endpoint shows. Pure: the report and the CLIs found.

use crate::model::detection::{Clis, EngineReport, Source, State};
use crate::model::environment::EngineKind;

const ROOTLESS_SETUP: &str = "dockerd-rootless-setuptool.sh install";

pub fn annotate(e: &mut EngineReport, clis: &Clis) {
    if e.fix.is_some() {
        return;
    }
    e.fix = fix_for(e, clis);
}

/// `~/.colima/<profile>/docker.sock` -> the profile.
fn colima_profile(path: &str) -> Option<&str> {
    let dir = std::path::Path::new(path).parent()?;
    let name = dir.file_name()?.to_str()?;
    (name != ".colima").then_some(name)
}

fn fix_for(e: &EngineReport, clis: &Clis) -> Option<String> {
    let path = e.socket_path().unwrap_or(&e.endpoint);
    let podman = e.kind == Some(EngineKind::Podman);
    match e.state {
        State::Ready => image_fix(e),
        State::NotRunning | State::Missing if e.source.is_explicit() => Some(format!(
            "nothing answers at {path}: start that engine, or point {} at a running one",
            if e.source == Source::Flag { "--docker-host" } else { "DOCKER_HOST / the docker context" }
        )),
        State::NotRunning => Some(match e.source {
            Source::RootlessDocker => format!("systemctl --user start docker   (first time: {ROOTLESS_SETUP})"),
            Source::SystemDocker => format!("sudo systemctl start docker — or, safer, rootless: {ROOTLESS_SETUP}"),
            Source::DockerDesktop => "start Docker Desktop".into(),
            Source::Colima => match colima_profile(path) {
                Some(p) if p != "default" => format!("colima start --profile {p}"),
                _ => "colima start".into(),
            },
            Source::OrbStack => "start OrbStack (open -a OrbStack)".into(),
            Source::RancherDesktop => "start Rancher Desktop (with the dockerd (moby) engine)".into(),
            Source::PodmanMachine => "podman machine start".into(),
            Source::RootlessPodman => "systemctl --user enable --now podman.socket".into(),
            Source::SystemPodman => "sudo systemctl enable --now podman.socket".into(),
            _ => format!("start the engine behind {path}, or remove its stale socket"),
        }),
        State::Missing => match e.source {
            Source::SystemDocker if e.cli_default && clis.docker.is_some() => Some(format!(
                "the docker CLI is installed but no daemon listens: sudo systemctl start docker — or, safer, rootless: {ROOTLESS_SETUP}"
            )),
            Source::RootlessPodman if clis.podman.is_some() => {
                Some("systemctl --user enable --now podman.socket".into())
            }
            _ => None,
        },
        State::PermissionDenied if podman => Some(
            "rootful Podman's socket is root-only; use rootless Podman instead: systemctl --user enable --now podman.socket".into(),
        ),
        State::PermissionDenied => Some(format!(
            "the docker group (sudo usermod -aG docker $USER) is root-equivalent; prefer rootless Docker: {ROOTLESS_SETUP}"
        )),
        State::Timeout => Some(format!(
            "the daemon behind {path} accepts but does not answer: restart it ({})",
            match e.source {
                Source::RootlessDocker => "systemctl --user restart docker",
                Source::RootlessPodman => "systemctl --user restart podman.socket",
                Source::SystemPodman => "sudo systemctl restart podman.socket",
                _ if podman => "restart the podman service",
                _ => "sudo systemctl restart docker",
            }
        )),
        State::Unsupported => Some(format!(
            "check it yourself: docker -H {} info   (clawposture probes only unix:// sockets)",
            e.endpoint
        )),
        State::Error => None,
    }
}

fn image_fix(e: &EngineReport) -> Option<String> {
    let img = e
        .sandbox_image
        .as_ref()
        .filter(|i| i.present == Some(false))?;
    // The endpoint is always named: without it `image build` builds on detection's choice,
    // which need not be this engine.
    let host = format!(" --docker-host {}", e.endpoint);
    let tag = if img.name == super::DEFAULT_SANDBOX_IMAGE {
        String::new()
    } else {
        format!(" --tag {}", img.name)
    };
    Some(format!(
        "build the sandbox image: clawposture image build{host}{tag}   (the recipe: clawposture image recipe)"
    ))
}
