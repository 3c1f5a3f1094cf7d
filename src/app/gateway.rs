//! What the Gateway will use, decided from detection's report (pure): an engine the user named
//! (`--docker-host`, else `DOCKER_HOST`) must answer, or nothing is planned; an engine nobody
//! named that does not answer is skipped, and the plan says so on its first lines.

use crate::model::detection::{EngineReport, Report as Detection, Source, State};
use crate::model::environment::EngineKind;
use crate::model::exit::{Failure, Stop};

/// What the plan says first about the engine the Gateway will use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct View {
    /// Engines nobody named that exist but do not answer: skipped, said on the plan's first
    /// lines (not in a trailing note).
    pub skipped: Vec<String>,
    /// The Docker endpoint the Gateway service would reach, and why (None: not a Docker
    /// engine, or nothing detected).
    pub reaches: Option<Reach>,
    /// The DOCKER_HOST to write into `$STATE_DIR/.env` so it reaches the chosen engine instead.
    pub env_docker_host: Option<String>,
    /// The chosen engine came from this shell's DOCKER_HOST (which the service never sees).
    pub from_shell: bool,
    /// The chosen engine's endpoint and daemon ID, when the Gateway reaches another endpoint.
    pub chosen: Option<(String, Option<String>)>,
    /// The service definition sets DOCKER_HOST itself (where): `.env` cannot override it.
    pub set_by_definition: Option<String>,
    /// Problems with the service's environment (e.g. `docker` not on its PATH), with fixes.
    pub service_notes: Vec<String>,
}

/// Where the Gateway's `docker` CLI goes, as the service sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reach {
    pub endpoint: String,
    /// `$STATE_DIR/.env`, `docker context NAME`, or `the default socket`.
    pub because: String,
    /// That endpoint's daemon ID (`/info` ID), when it answered.
    pub daemon_id: Option<String>,
    /// Its state when it did not answer (`not running`, `missing`, ...).
    pub state: Option<String>,
}

impl View {
    /// The Gateway's view: what the service would reach (its definition's environment, then
    /// `DOCKER_HOST` from `.env`, else the docker CLI's current context, else the default
    /// socket: never the shell's DOCKER_HOST or DOCKER_CONTEXT, which the service does not
    /// inherit), against the engine chosen. One daemon is one daemon ID, whatever the socket.
    pub fn new(report: Option<&Detection>, env_docker_host: Option<&str>) -> View {
        let Some(report) = report else {
            return View::default();
        };
        let chosen = report
            .selected
            .index
            .and_then(|i| report.engines.get(i))
            .filter(|e| e.kind == Some(EngineKind::Docker));
        let reaches = chosen.map(|_| service_reach(report, env_docker_host));
        let mut view = View {
            skipped: skipped(report),
            from_shell: chosen.is_some_and(|c| c.source == Source::DockerHost),
            service_notes: report
                .gateway
                .as_ref()
                .map(|g| g.notes.clone())
                .unwrap_or_default(),
            ..View::default()
        };
        if let (Some(c), Some(r)) = (chosen, &reaches)
            && (!same_endpoint(&c.endpoint, &r.endpoint) || c.daemon_id != r.daemon_id)
        {
            view.chosen = Some((c.endpoint.clone(), c.daemon_id.clone()));
            let same_daemon = match (&c.daemon_id, &r.daemon_id) {
                (Some(a), Some(b)) => a == b,
                _ => same_endpoint(&c.endpoint, &r.endpoint),
            };
            if !same_daemon {
                let defined = report
                    .gateway
                    .as_ref()
                    .and_then(|g| g.var("DOCKER_HOST"))
                    .filter(|v| !v.from.contains(".env"));
                match defined {
                    Some(v) => view.set_by_definition = Some(v.from.clone()),
                    None => view.env_docker_host = Some(c.endpoint.clone()),
                }
            }
        }
        view.reaches = reaches;
        view
    }

    /// The lines a plan starts with (after its title).
    pub fn head_lines(&self) -> Vec<String> {
        let mut v = self.skipped.clone();
        let id = |id: &Option<String>| {
            id.as_deref()
                .map_or(String::new(), |i| format!(", daemon ID {i}"))
        };
        if let (Some((chosen, chosen_id)), Some(r)) = (&self.chosen, &self.reaches) {
            let theirs = match (&r.daemon_id, &r.state) {
                (Some(_), _) => id(&r.daemon_id),
                (None, Some(s)) => format!(", {s}"),
                (None, None) => String::new(),
            };
            let pair = format!(
                "the Gateway reaches {} ({}{theirs}); this run chose {chosen}{}",
                r.endpoint,
                r.because,
                id(chosen_id)
            );
            if let Some(host) = &self.env_docker_host {
                let shell = if self.from_shell {
                    " (its service does not inherit this shell's DOCKER_HOST)"
                } else {
                    ""
                };
                v.push(format!(
                    "The Gateway would reach a different daemon{shell}: {pair}. Apply writes DOCKER_HOST={host} into $STATE_DIR/.env, which the Gateway loads at start."
                ));
            } else if let Some(from) = &self.set_by_definition {
                v.push(format!(
                    "The Gateway would reach a different daemon: {pair}. Its DOCKER_HOST is set in {from}, which $STATE_DIR/.env cannot override: set DOCKER_HOST={chosen} there, then restart the Gateway (`openclaw gateway restart`)."
                ));
            } else {
                v.push(format!(
                    "The Gateway reaches the same daemon through another endpoint: {pair}."
                ));
            }
        }
        v.extend(self.service_notes.iter().cloned());
        v
    }
}

/// The endpoint the service's docker CLI reaches without the shell's environment.
fn service_reach(report: &Detection, env_docker_host: Option<&str>) -> Reach {
    let (endpoint, because) = match &report.gateway {
        Some(g) => (g.endpoint.clone(), g.because.clone()),
        None => legacy_reach(report, env_docker_host),
    };
    let probed = report
        .engines
        .iter()
        .find(|e| same_endpoint(&e.endpoint, &endpoint));
    Reach {
        daemon_id: probed.and_then(|e| e.daemon_id.clone()),
        state: probed
            .filter(|e| e.state != State::Ready)
            .map(|e| e.state.label().to_string()),
        endpoint,
        because,
    }
}

/// Without the service's environment in the report: `.env`, the current context, the default.
fn legacy_reach(report: &Detection, env_docker_host: Option<&str>) -> (String, String) {
    if let Some(h) = env_docker_host {
        return (h.to_string(), "DOCKER_HOST in $STATE_DIR/.env".into());
    }
    if let Some(c) = report
        .engines
        .iter()
        .find(|e| e.source == Source::ConfigContext)
    {
        return (
            c.endpoint.clone(),
            format!(
                "docker context {}",
                c.context.as_deref().unwrap_or("(current)")
            ),
        );
    }
    let default = report
        .engines
        .iter()
        .find(|e| e.source == Source::SystemDocker)
        .map_or("unix:///var/run/docker.sock", |e| e.endpoint.as_str());
    (
        default.to_string(),
        "the docker CLI's default socket".into(),
    )
}

/// `unix:///a` and `/a` name the same socket.
fn same_endpoint(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        s.strip_prefix("unix://")
            .unwrap_or(s)
            .trim_end_matches('/')
            .to_string()
    };
    norm(a) == norm(b)
}

/// The endpoint the user named, if any: `--docker-host` wins over `DOCKER_HOST`, as `docker -H`
/// does.
pub fn named(report: &Detection) -> Option<&EngineReport> {
    report
        .engines
        .iter()
        .find(|e| e.source == Source::Flag)
        .or_else(|| {
            report
                .engines
                .iter()
                .find(|e| e.source == Source::DockerHost)
        })
}

/// An engine the user named that does not answer is an error (exit 3), never a silent "no
/// engine": writing the sandbox off (or another engine's posture) is not what was asked for.
pub fn named_unready(report: &Detection) -> Option<Failure> {
    if let Some(want) = report.requested.filter(|_| report.selected.index.is_none()) {
        return Some(Failure::new(
            Stop::Environment,
            format!(
                "refused: the engine you named with --engine does not answer: {}. Fix: start it (or point --docker-host at it); or name an engine that answers; or add --no-detect to write the config for a {} engine that is not on this machine. Nothing was written.",
                report.selected.reason,
                want.label()
            ),
        ));
    }
    let e = named(report).filter(|e| e.state != State::Ready)?;
    let how = match e.source {
        Source::Flag => "--docker-host",
        _ => "DOCKER_HOST",
    };
    let detail = e
        .detail
        .as_deref()
        .map(|d| format!(": {d}"))
        .unwrap_or_default();
    let fix = match (e.state, e.fix.as_deref()) {
        (State::Unsupported, _) => format!(
            "clawposture probes unix:// endpoints only; point {how} at the engine's unix socket"
        ),
        (_, Some(f)) => f.to_string(),
        (_, None) => format!("start the engine behind {}", e.endpoint),
    };
    Some(Failure::new(
        Stop::Environment,
        format!(
            "refused: the engine you named with {how} does not answer: {} is {}{detail}. Fix: {fix}; or name an engine that answers (or none: leave {how} unset and let detection choose). Nothing was written.",
            e.endpoint,
            e.state.label(),
        ),
    ))
}

/// The engines nobody named that exist but do not answer, in words: what detection skipped.
pub fn skipped(report: &Detection) -> Vec<String> {
    let chosen = report.selected.index;
    report
        .engines
        .iter()
        .enumerate()
        .filter(|(i, e)| {
            Some(*i) != chosen
                && !matches!(e.state, State::Ready | State::Missing)
                && !matches!(e.source, Source::Flag | Source::DockerHost)
        })
        .map(|(_, e)| {
            format!(
                "Skipped {} at {} ({}): {}{}",
                e.label(),
                e.endpoint,
                e.source.label(),
                e.state.label(),
                e.fix
                    .as_deref()
                    .map(|f| format!(" (fix: {f})"))
                    .unwrap_or_default()
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::detection::{Clis, OpenClawReport, Report, RootlessPrerequisites, Selection};
    use crate::model::exit::EXIT_ENVIRONMENT;

    pub(crate) fn report(engines: Vec<EngineReport>, index: Option<usize>) -> Report {
        Report {
            engines,
            selected: Selection {
                index,
                reason: String::new(),
                docker_host: None,
            },
            clis: Clis::default(),
            rootless_prerequisites: RootlessPrerequisites {
                user: None,
                uid: 1000,
                ok: true,
                checks: Vec::new(),
            },
            in_container: None,
            gateway: None,
            requested: None,
            openclaw: OpenClawReport {
                installed: false,
                path: None,
                version: None,
                version_error: None,
                config_path: None,
                config_exists: false,
                note: String::new(),
            },
            elapsed_ms: 0,
        }
    }

    fn engine(endpoint: &str, source: Source, state: State) -> EngineReport {
        let mut e = EngineReport::new(endpoint, source);
        e.state = state;
        e
    }

    #[test]
    fn a_named_engine_that_does_not_answer_is_exit_3_with_the_state_and_the_fix() {
        for state in [
            State::Timeout,
            State::NotRunning,
            State::Missing,
            State::PermissionDenied,
            State::Unsupported,
            State::Error,
        ] {
            let mut hung = engine("unix:///x/hung.sock", Source::Flag, state);
            hung.fix = Some("systemctl --user start docker".into());
            let r = report(
                vec![
                    hung,
                    engine(
                        "unix:///var/run/docker.sock",
                        Source::SystemDocker,
                        State::Ready,
                    ),
                ],
                Some(1),
            );
            let f = named_unready(&r).expect("refused");
            assert_eq!(f.code, EXIT_ENVIRONMENT);
            assert!(f.message.contains("--docker-host"), "{}", f.message);
            assert!(f.message.contains(state.label()), "{}", f.message);
            assert!(f.message.contains("unix:///x/hung.sock"), "{}", f.message);
            assert!(f.message.contains("Fix: "), "{}", f.message);
        }
    }

    #[test]
    fn the_flag_wins_over_docker_host_and_a_ready_named_engine_passes() {
        let r = report(
            vec![
                engine("unix:///a.sock", Source::Flag, State::Ready),
                engine("unix:///b.sock", Source::DockerHost, State::Timeout),
            ],
            Some(0),
        );
        assert!(named_unready(&r).is_none());
        let r = report(
            vec![engine(
                "tcp://127.0.0.1:1",
                Source::DockerHost,
                State::Unsupported,
            )],
            None,
        );
        let f = named_unready(&r).expect("refused");
        assert!(f.message.contains("DOCKER_HOST"), "{}", f.message);
    }

    #[test]
    fn only_unnamed_engines_that_exist_and_fail_are_skipped() {
        let r = report(
            vec![
                engine(
                    "unix:///run/user/1/docker.sock",
                    Source::RootlessDocker,
                    State::NotRunning,
                ),
                engine(
                    "unix:///var/run/docker.sock",
                    Source::SystemDocker,
                    State::Ready,
                ),
                engine(
                    "unix:///run/podman/podman.sock",
                    Source::SystemPodman,
                    State::Missing,
                ),
            ],
            Some(1),
        );
        let s = skipped(&r);
        assert_eq!(s.len(), 1, "{s:?}");
        assert!(s[0].contains("/run/user/1/docker.sock") && s[0].contains("not running"));
        assert!(named_unready(&r).is_none());
    }

    fn docker(endpoint: &str, source: Source, rootless: bool) -> EngineReport {
        let mut e = engine(endpoint, source, State::Ready);
        e.kind = Some(crate::model::environment::EngineKind::Docker);
        e.rootless = Some(rootless);
        e
    }

    #[test]
    fn the_gateway_reaches_dotenv_else_the_context_else_the_default_socket() {
        let rootless = "unix:///run/user/1001/docker.sock";
        // The shell's DOCKER_HOST chose rootless Docker; the service would reach the default.
        let r = report(
            vec![
                docker(rootless, Source::DockerHost, true),
                docker("unix:///var/run/docker.sock", Source::SystemDocker, false),
            ],
            Some(0),
        );
        let v = View::new(Some(&r), None);
        assert_eq!(v.env_docker_host.as_deref(), Some(rootless));
        assert_eq!(
            v.reaches.as_ref().map(|r| r.endpoint.as_str()),
            Some("unix:///var/run/docker.sock")
        );
        assert!(
            v.head_lines()
                .iter()
                .any(|l| l.contains("would reach a different daemon"))
        );
        // .env already points there: nothing to write.
        let v = View::new(Some(&r), Some("/run/user/1001/docker.sock"));
        assert_eq!(v.env_docker_host, None);
        assert!(v.head_lines().is_empty());
        // .env points elsewhere: it is replaced.
        let v = View::new(Some(&r), Some("unix:///elsewhere.sock"));
        assert_eq!(v.env_docker_host.as_deref(), Some(rootless));
        // A docker context in config.json is what the service's CLI reads.
        let mut ctx = docker(rootless, Source::ConfigContext, true);
        ctx.context = Some("rootless".into());
        let r = report(vec![ctx], Some(0));
        let v = View::new(Some(&r), None);
        assert_eq!(v.env_docker_host, None);
        assert_eq!(
            v.reaches.map(|r| r.because),
            Some("docker context rootless".to_string())
        );
        // Without detection (--engine), nothing is known and nothing written.
        assert_eq!(View::new(None, None), View::default());
    }

    #[test]
    fn one_daemon_is_one_daemon_id_and_a_definitions_docker_host_is_not_overridden() {
        use crate::model::gateway_env::{GatewayEnv, ServiceVar};
        let chosen = "unix:///run/user/1001/docker.sock";
        let other = "unix:///srv/link-to-it.sock";
        let mut a = docker(chosen, Source::DockerHost, true);
        a.daemon_id = Some("AAAA".into());
        let mut b = docker(other, Source::Gateway, true);
        b.daemon_id = Some("AAAA".into());
        let mut r = report(vec![a, b], Some(0));
        let via_env = |from: &str| GatewayEnv {
            vars: vec![ServiceVar {
                name: "DOCKER_HOST".into(),
                value: other.into(),
                from: from.into(),
            }],
            endpoint: other.into(),
            because: format!("DOCKER_HOST in {from}"),
            ..GatewayEnv::default()
        };
        r.gateway = Some(via_env("$STATE_DIR/.env"));
        // Another path, the same daemon ID: nothing to write, and said so.
        let v = View::new(Some(&r), None);
        assert_eq!(v.env_docker_host, None);
        assert!(
            v.head_lines().iter().any(|l| l.contains("same daemon")),
            "{:?}",
            v.head_lines()
        );
        // Another daemon: .env gets the chosen endpoint, both IDs are in the line.
        r.engines[1].daemon_id = Some("BBBB".into());
        let v = View::new(Some(&r), None);
        assert_eq!(v.env_docker_host.as_deref(), Some(chosen));
        let line = v.head_lines().join("\n");
        assert!(line.contains("AAAA") && line.contains("BBBB"), "{line}");
        // Set by the unit: .env could not override it, so it is said, not written.
        r.gateway = Some(via_env(
            "Environment= in /home/u/.config/systemd/user/openclaw-gateway.service",
        ));
        let v = View::new(Some(&r), None);
        assert_eq!(v.env_docker_host, None);
        assert!(
            v.head_lines().iter().any(|l| l.contains("cannot override")),
            "{:?}",
            v.head_lines()
        );
    }
}
