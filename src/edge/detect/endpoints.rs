//! Which endpoints to probe, resolved in the docker CLI's order: `--docker-host`, DOCKER_HOST,
//! DOCKER_CONTEXT, `currentContext`; then the well-known sockets. Each says where it came from,
//! and exactly one is marked as the endpoint the docker CLI would reach.

use std::path::{Path, PathBuf};

use super::context;
use crate::model::detect_options::DetectOptions;
use crate::model::detection::{EngineReport, Source, State};
use crate::model::environment::EngineKind;

/// An endpoint to probe, or one that already failed before any probe (a broken context).
#[derive(Debug, Clone)]
pub struct Candidate {
    pub report: EngineReport,
    pub probe: bool,
}

/// `gateway`: the endpoint the Gateway service reaches, probed too (for its daemon ID).
pub fn resolve(opts: &DetectOptions, gateway: Option<&str>) -> Vec<Candidate> {
    let mut out = Vec::new();
    // The first explicit endpoint is what the docker CLI uses; later ones are shadowed by it.
    let mut cli_chosen = false;
    let mut explicit = |out: &mut Vec<Candidate>, mut c: Candidate| {
        c.report.cli_default = !cli_chosen;
        cli_chosen = true;
        out.push(c);
    };
    let probe = |endpoint: &str, source: Source| Candidate {
        report: EngineReport::new(endpoint, source),
        probe: true,
    };

    if let Some(h) = nonempty(&opts.docker_host_flag) {
        explicit(&mut out, probe(h, Source::Flag));
    }
    if let Some(h) = nonempty(&opts.docker_host) {
        explicit(&mut out, probe(h, Source::DockerHost));
    }

    // Contexts are listed even when DOCKER_HOST overrides them: a rootless context the Gateway
    // does not use is exactly the kind of surprise the report should show.
    let config_dir = context::config_dir(opts.docker_config.as_deref(), opts.home.as_deref());
    let named = nonempty(&opts.docker_context).map(|c| (c.to_string(), Source::DockerContext));
    let current = match (&named, &config_dir) {
        (None, Some(dir)) => match context::current_context(dir) {
            Ok(c) => c.map(|c| (c, Source::ConfigContext)),
            Err(e) => {
                out.push(broken(
                    format!("config:{}", dir.display()),
                    Source::ConfigContext,
                    None,
                    e,
                ));
                None
            }
        },
        _ => None,
    };
    if let Some((name, source)) = named.or(current) {
        // "default" is the docker CLI's name for "DOCKER_HOST or the default socket".
        if name != "default" {
            let resolved = config_dir
                .as_deref()
                .ok_or_else(|| "neither DOCKER_CONFIG nor HOME is set".to_string())
                .and_then(|dir| context::context_endpoint(dir, &name));
            match resolved {
                Ok(endpoint) => {
                    let mut c = probe(&endpoint, source);
                    c.report.context = Some(name);
                    explicit(&mut out, c);
                }
                Err(e) => {
                    explicit(
                        &mut out,
                        broken(format!("context:{name}"), source, Some(name), e),
                    );
                }
            }
        }
    }

    let any_explicit = out.iter().any(|c| c.report.cli_default);
    for (path, source, kind, rootless) in well_known(opts) {
        let mut r = EngineReport::new(format!("unix://{}", path.display()), source);
        r.kind = Some(kind);
        r.rootless = rootless;
        // With nothing configured, the docker CLI talks to /var/run/docker.sock.
        r.cli_default = source == Source::SystemDocker && !any_explicit;
        out.push(Candidate {
            report: r,
            probe: true,
        });
    }
    // Last: where it is one of the above, that entry (and its source) stands for it.
    if let Some(g) = gateway.map(str::trim).filter(|g| !g.is_empty()) {
        out.push(probe(g, Source::Gateway));
    }
    dedup(out)
}

fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn broken(endpoint: String, source: Source, context: Option<String>, detail: String) -> Candidate {
    let mut r = EngineReport::new(endpoint, source);
    r.context = context;
    r.state = State::Error;
    r.detail = Some(detail);
    r.fix =
        Some("list the contexts with `docker context ls`, then `docker context use <name>`".into());
    Candidate {
        report: r,
        probe: false,
    }
}

fn well_known(opts: &DetectOptions) -> Vec<(PathBuf, Source, EngineKind, Option<bool>)> {
    use EngineKind::{Docker, Podman};
    // Under sudo/su XDG_RUNTIME_DIR is often unset while the user's daemon still runs there.
    let run_user = opts.sys(&format!("run/user/{}", opts.uid));
    let runtime_dirs: Vec<PathBuf> = match &opts.xdg_runtime_dir {
        Some(x) if x != &run_user && opts.uid != 0 => vec![x.clone(), run_user],
        Some(x) => vec![x.clone()],
        None if opts.uid != 0 => vec![run_user],
        None => vec![],
    };
    let mut v = Vec::new();
    for dir in &runtime_dirs {
        v.push((
            dir.join("docker.sock"),
            Source::RootlessDocker,
            Docker,
            Some(true),
        ));
    }
    v.push((
        opts.sys("var/run/docker.sock"),
        Source::SystemDocker,
        Docker,
        Some(false),
    ));
    if let Some(home) = &opts.home {
        v.extend(desktop_sockets(home));
    }
    for dir in &runtime_dirs {
        v.push((
            dir.join("podman/podman.sock"),
            Source::RootlessPodman,
            Podman,
            Some(true),
        ));
    }
    v.push((
        opts.sys("run/podman/podman.sock"),
        Source::SystemPodman,
        Podman,
        Some(false),
    ));
    v
}

/// The desktop engines' sockets under a home directory: each runs its daemon in a VM, so the
/// host sees neither rootful nor rootless (None). Only existing sockets of the per-profile
/// and per-provider kinds are listed (one entry per Colima profile, Podman machine provider).
fn desktop_sockets(home: &Path) -> Vec<(PathBuf, Source, EngineKind, Option<bool>)> {
    use EngineKind::{Docker, Podman};
    let mut v = vec![
        (
            home.join(".docker/run/docker.sock"),
            Source::DockerDesktop,
            Docker,
            None,
        ),
        (
            home.join(".docker/desktop/docker.sock"),
            Source::DockerDesktop,
            Docker,
            None,
        ),
    ];
    let exists = |p: &Path| std::fs::symlink_metadata(p).is_ok();
    // Colima: the default profile is ~/.colima/default; named ones ~/.colima/<name>
    // (`colima start --profile <name>`); older releases used ~/.colima/docker.sock, and
    // XDG-configured ones ~/.config/colima/<profile>.
    let old = home.join(".colima/docker.sock");
    if exists(&old) {
        v.push((old, Source::Colima, Docker, None));
    }
    for base in [home.join(".colima"), home.join(".config/colima")] {
        for profile in subdirs(&base) {
            let sock = profile.join("docker.sock");
            if exists(&sock) {
                v.push((sock, Source::Colima, Docker, None));
            }
        }
    }
    v.push((
        home.join(".orbstack/run/docker.sock"),
        Source::OrbStack,
        Docker,
        None,
    ));
    v.push((
        home.join(".rd/docker.sock"),
        Source::RancherDesktop,
        Docker,
        None,
    ));
    for provider in subdirs(&home.join(".local/share/containers/podman/machine")) {
        let sock = provider.join("podman.sock");
        if exists(&sock) {
            v.push((sock, Source::PodmanMachine, Podman, None));
        }
    }
    v
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect();
    out.sort();
    out
}

/// One entry per socket: the first (highest-precedence) source wins, and keeps the CLI mark
/// if a later duplicate had it. `/var/run` and `/run` are the same directory on most systems.
fn dedup(cands: Vec<Candidate>) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = Vec::new();
    for c in cands {
        let key = identity(&c.report.endpoint);
        if let Some(prev) = out.iter_mut().find(|p| identity(&p.report.endpoint) == key) {
            prev.report.cli_default |= c.report.cli_default;
            // A well-known location tells what an explicit endpoint probably is.
            if prev.report.kind.is_none() {
                prev.report.kind = c.report.kind;
                prev.report.rootless = c.report.rootless;
            }
            continue;
        }
        out.push(c);
    }
    out
}

fn identity(endpoint: &str) -> String {
    let Some(path) = endpoint.strip_prefix("unix://") else {
        return endpoint.to_string();
    };
    let p = Path::new(path);
    match (
        p.parent().and_then(|d| d.canonicalize().ok()),
        p.file_name(),
    ) {
        (Some(dir), Some(name)) => format!("unix://{}", dir.join(name).display()),
        _ => endpoint.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> DetectOptions {
        DetectOptions {
            uid: 1000,
            xdg_runtime_dir: Some("/run/user/1000".into()),
            home: Some("/home/u".into()),
            system_root: "/nonexistent-root".into(),
            ..DetectOptions::default()
        }
    }

    fn summary(c: &[Candidate]) -> Vec<(String, Source, bool)> {
        c.iter()
            .map(|c| {
                (
                    c.report.endpoint.clone(),
                    c.report.source,
                    c.report.cli_default,
                )
            })
            .collect()
    }

    #[test]
    fn without_configuration_the_cli_default_is_the_system_socket() {
        let c = resolve(&opts(), None);
        let s = summary(&c);
        assert_eq!(
            s[0],
            (
                "unix:///run/user/1000/docker.sock".into(),
                Source::RootlessDocker,
                false
            )
        );
        assert_eq!(
            s[2],
            (
                "unix:///nonexistent-root/var/run/docker.sock".into(),
                Source::SystemDocker,
                true
            )
        );
        assert_eq!(c.iter().filter(|c| c.report.cli_default).count(), 1);
        // Under the fake root, <root>/run/user/1000 differs from XDG_RUNTIME_DIR: both listed;
        // and the desktop sockets whose names do not depend on a profile (Docker Desktop macOS
        // and Linux, OrbStack, Rancher Desktop).
        assert_eq!(c.len(), 10);
    }

    #[test]
    fn docker_host_wins_and_duplicates_collapse() {
        let o = DetectOptions {
            docker_host: Some("unix:///run/user/1000/docker.sock".into()),
            ..opts()
        };
        let c = resolve(&o, None);
        assert_eq!(c[0].report.source, Source::DockerHost);
        assert!(c[0].report.cli_default);
        // The rootless well-known entry merged into the DOCKER_HOST one, lending its kind.
        assert_eq!(c[0].report.kind, Some(EngineKind::Docker));
        assert_eq!(c[0].report.rootless, Some(true));
        assert_eq!(c.iter().filter(|c| c.report.cli_default).count(), 1);
        assert!(
            !c[1..]
                .iter()
                .any(|d| d.report.endpoint == c[0].report.endpoint)
        );
    }

    #[test]
    fn the_flag_shadows_docker_host() {
        let o = DetectOptions {
            docker_host_flag: Some("unix:///srv/gateway.sock".into()),
            docker_host: Some("unix:///srv/shell.sock".into()),
            ..opts()
        };
        let s = summary(&resolve(&o, None));
        assert_eq!(
            s[0],
            ("unix:///srv/gateway.sock".into(), Source::Flag, true)
        );
        assert_eq!(
            s[1],
            ("unix:///srv/shell.sock".into(), Source::DockerHost, false)
        );
    }

    #[test]
    fn a_missing_context_is_an_error_entry_not_a_probe() {
        let o = DetectOptions {
            docker_context: Some("nope".into()),
            docker_config: Some("/nonexistent-config".into()),
            ..opts()
        };
        let c = resolve(&o, None);
        assert_eq!(c[0].report.source, Source::DockerContext);
        assert_eq!(c[0].report.state, State::Error);
        assert!(!c[0].probe);
        assert!(c[0].report.cli_default);
    }
}
