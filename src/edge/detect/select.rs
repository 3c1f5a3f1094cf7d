//! Which engine the preset should use: pure, from the report's engines alone.
//! Rootless beats rootful; a reachable engine beats a better one that does not answer;
//! then the endpoint the docker CLI reaches without extra configuration (a context shadowed by
//! DOCKER_HOST does not count); then Docker (the browser sandbox is Docker-only); then report
//! order.

use crate::model::detection::{EngineReport, Selection, Source, State};
use crate::model::environment::{Engine, EngineKind};

pub fn select(engines: &[EngineReport]) -> Selection {
    select_for(engines, None)
}

/// As [`select`], but with `want` (the engine `--engine` named) only that engine counts: the
/// endpoint the docker CLI reaches first, else the first in report order. None of it ready:
/// no selection, and the reason lists what was found of that engine and what answers instead.
pub fn select_for(engines: &[EngineReport], want: Option<Engine>) -> Selection {
    let usable = engines
        .iter()
        .enumerate()
        .filter_map(|(i, e)| e.as_engine().map(|eng| (i, e, eng)))
        .filter(|(_, _, eng)| want.is_none_or(|w| w == *eng));
    let best = usable.min_by_key(|(i, e, eng)| {
        (
            !eng.rootless,
            !e.cli_default,
            eng.kind != EngineKind::Docker,
            *i,
        )
    });

    let Some((index, chosen, engine)) = best else {
        return Selection {
            index: None,
            reason: match want {
                Some(w) => wanted_missing(engines, w),
                None => nothing_usable(engines),
            },
            docker_host: None,
        };
    };

    let mut reason = format!("{} is ready", describe(chosen));
    if let Some(w) = want {
        reason.push_str(&format!(" (named with --engine {})", w.label()));
    }
    let others_rootful: Vec<&EngineReport> = engines
        .iter()
        .filter(|e| {
            e.state == State::Ready && e.rootless != Some(true) && !std::ptr::eq(*e, chosen)
        })
        .collect();
    if engine.rootless {
        reason.push_str(" and rootless (a container escape lands in an unprivileged user)");
        if let Some(o) = others_rootful.first() {
            reason.push_str(&format!("; preferred over {}", describe(o)));
        }
    } else if let Some(better) = engines
        .iter()
        .find(|e| e.state != State::Ready && e.state != State::Missing && e.rootless == Some(true))
    {
        reason.push_str(&format!(
            "; {} would be safer but is {}{}",
            describe(better),
            better.state.label(),
            better
                .fix
                .as_deref()
                .map(|f| format!(" (fix: {f})"))
                .unwrap_or_default()
        ));
    } else {
        reason.push_str("; it is rootful, so a container escape is root on this host");
    }

    let mut docker_host = None;
    match engine.kind {
        EngineKind::Docker if !chosen.cli_default => {
            let shadowing = engines.iter().find(|e| e.cli_default);
            reason.push_str(&format!(
                ". The Gateway's docker CLI reaches {} by default: set DOCKER_HOST={} in its service environment",
                shadowing.map_or("unix:///var/run/docker.sock", |e| e.endpoint.as_str()),
                chosen.endpoint
            ));
            docker_host = Some(chosen.endpoint.clone());
        }
        EngineKind::Podman => reason.push_str(if engine.rootless {
            ". OpenClaw's podman backend runs the podman CLI as the Gateway user"
        } else {
            ". OpenClaw's podman backend reaches rootful Podman only if the Gateway runs as root"
        }),
        EngineKind::Docker => {}
    }
    Selection {
        index: Some(index),
        reason,
        docker_host,
    }
}

fn nothing_usable(engines: &[EngineReport]) -> String {
    // The most telling problem first: something that exists but fails, rootless before rootful.
    let problem = engines
        .iter()
        .filter(|e| e.state != State::Missing && e.state != State::Ready)
        .min_by_key(|e| (!e.cli_default, e.rootless != Some(true)));
    match problem {
        Some(e) => format!(
            "no engine answers: {} is {}{}",
            describe(e),
            e.state.label(),
            e.fix.as_deref().map(|f| format!(" (fix: {f})")).unwrap_or_default()
        ),
        None if engines.iter().any(|e| e.state == State::Ready) => {
            "the engines that answer did not say what they are".into()
        }
        None => "no container engine socket found; install rootless Docker or Podman, or keep the sandbox off".into(),
    }
}

/// Why the engine `--engine` named is not selected: each endpoint that may be it, with its
/// state and fix, then what answers instead.
fn wanted_missing(engines: &[EngineReport], want: Engine) -> String {
    let maybe: Vec<String> = engines
        .iter()
        .filter(|e| e.state != State::Missing && e.state != State::Ready)
        .filter(|e| e.kind.is_none_or(|k| k == want.kind))
        .filter(|e| e.rootless.is_none_or(|r| r == want.rootless))
        .map(|e| {
            format!(
                "{} is {}{}{}",
                describe(e),
                e.state.label(),
                e.detail
                    .as_deref()
                    .map(|d| format!(": {d}"))
                    .unwrap_or_default(),
                e.fix
                    .as_deref()
                    .map(|f| format!(" (fix: {f})"))
                    .unwrap_or_default()
            )
        })
        .collect();
    let instead: Vec<String> = engines
        .iter()
        .filter_map(|e| e.as_engine().map(|eng| (e, eng)))
        .map(|(e, eng)| format!("{} (--engine {})", describe(e), eng.label()))
        .collect();
    let mut s = format!("no {} engine answers", want.label());
    if maybe.is_empty() {
        s.push_str(" (no socket of it found)");
    } else {
        s.push_str(&format!(": {}", maybe.join("; ")));
    }
    if !instead.is_empty() {
        s.push_str(&format!(". Ready instead: {}", instead.join("; ")));
    }
    s
}

fn describe(e: &EngineReport) -> String {
    let kind = match e.kind {
        Some(EngineKind::Docker) => "Docker",
        Some(EngineKind::Podman) => "Podman",
        None => "engine",
    };
    let mode = match e.rootless {
        Some(true) => "rootless ",
        Some(false) => "rootful ",
        None => "",
    };
    let version = e
        .version
        .as_deref()
        .map(|v| format!(" {v}"))
        .unwrap_or_default();
    let from = match (e.source, &e.context) {
        (Source::DockerContext | Source::ConfigContext, Some(c)) => format!("context {c}"),
        (s, _) => s.label().to_string(),
    };
    format!("{mode}{kind}{version} at {} ({from})", e.endpoint)
}
