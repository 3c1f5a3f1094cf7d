//! What the Gateway will use, decided from detection's report (pure): an engine the user named
//! (`--docker-host`, else `DOCKER_HOST`) must answer, or nothing is planned; an engine nobody
//! named that does not answer is skipped, and the plan says so on its first lines.

use crate::model::detection::{EngineReport, Report as Detection, Source, State};
use crate::model::exit::{Failure, Stop};

/// What the plan says first about the engine the Gateway will use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct View {
    /// Engines nobody named that exist but do not answer: skipped, said on the plan's first
    /// lines (not in a trailing note).
    pub skipped: Vec<String>,
}

impl View {
    pub fn from_detection(report: Option<&Detection>) -> View {
        View {
            skipped: report.map(skipped).unwrap_or_default(),
        }
    }

    /// The lines a plan starts with (after its title).
    pub fn head_lines(&self) -> Vec<String> {
        self.skipped.clone()
    }
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
}
