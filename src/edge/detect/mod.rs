//! Container engine detection (the edge): sockets, processes, files -> one plain-data report.
//!
//! [`detect`] probes every candidate endpoint concurrently, each bounded by
//! [`DetectOptions::probe_timeout`], so a hung socket costs at most that long; `openclaw
//! --version` runs alongside on its own thread. [`select`] and [`render_human`] are pure.

mod context;
mod endpoints;
mod facts;
mod fixes;
pub(crate) mod http;
mod in_container;
mod openclaw_install;
mod podman_cli;
mod prereqs;
mod probe_endpoint;
mod render;
mod select;
mod service_env;

use std::time::{Duration, Instant};

pub use crate::model::detect_options::{
    DEFAULT_PROBE_TIMEOUT, DEFAULT_SANDBOX_IMAGE, DetectOptions,
};
pub use crate::model::detection::{
    Clis, EngineReport, InContainer, OpenClawReport, PrereqCheck, Report, RootlessPrerequisites,
    SandboxImage, Security, Selection, Source, State,
};
pub use context::{context_endpoint, meta_dir_name};
pub use facts::{
    VersionFacts, apply_info, apply_libpod_info, negotiated_api, parse_security_options, platform,
    version_facts,
};
pub use podman_cli::merge as merge_podman_cli;
pub use prereqs::{MIN_SUBIDS, free_subid_start, subid_count};
pub use render::render_human;
pub use select::select;

/// `openclaw --version` takes ~0.2 s of node start-up; past this it counts as hung.
const OPENCLAW_TIMEOUT: Duration = Duration::from_millis(1200);

/// The Gateway service's environment and the Docker endpoint its docker CLI reaches (no
/// engine is probed): for `verify --e2e`, which runs the turn where the Gateway would.
pub fn gateway_env(opts: &DetectOptions) -> crate::model::gateway_env::GatewayEnv {
    service_env::resolve(opts)
}

/// Probe everything and decide. Blocking; runs its own single-threaded async runtime, and
/// returns within about `opts.probe_timeout` (default 1.2 s) whatever the sockets do; a `podman` CLI
/// on PATH is waited for up to 3 s when no Podman socket answered (see `podman_cli`).
pub fn detect(opts: &DetectOptions) -> Report {
    let started = Instant::now();
    let openclaw = openclaw_install::start(opts, OPENCLAW_TIMEOUT.max(opts.probe_timeout));
    let clis = Clis {
        docker: prereqs::which_in(opts, "docker"),
        podman: prereqs::which_in(opts, "podman"),
        rootless_setup_tool: prereqs::which_in(opts, "dockerd-rootless-setuptool.sh"),
    };
    let gateway = service_env::resolve(opts);
    let podman = podman_cli::start(opts, &gateway, started + opts.probe_timeout);
    let mut engines = probe_all(endpoints::resolve(opts, Some(&gateway.endpoint)), opts);
    podman.finish(&mut engines);
    for e in &mut engines {
        fixes::annotate(e, &clis);
    }
    let rootless_prerequisites = prereqs::check(opts);
    let openclaw = openclaw.finish();
    let selected = select::select_for(&engines, opts.want);
    Report {
        engines,
        selected,
        clis,
        rootless_prerequisites,
        openclaw,
        in_container: in_container::check(opts),
        gateway: Some(gateway),
        requested: opts.want,
        elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    }
}

fn probe_all(candidates: Vec<endpoints::Candidate>, opts: &DetectOptions) -> Vec<EngineReport> {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            return candidates
                .into_iter()
                .map(|c| {
                    let mut r = c.report;
                    if c.probe {
                        r.state = State::Error;
                        r.detail = Some(format!("cannot start the async runtime: {e}"));
                    }
                    r
                })
                .collect();
        }
    };
    let timeout = opts.probe_timeout;
    let image = opts.sandbox_image.clone();
    // Dropping the runtime afterwards cancels whatever a hung socket left pending.
    runtime.block_on(async move {
        let deadline = tokio::time::Instant::now() + timeout;
        let tasks: Vec<_> = candidates
            .into_iter()
            .map(|c| {
                let fallback = c.report.clone();
                let task = c.probe.then(|| {
                    tokio::spawn(probe_endpoint::probe(
                        c.report.clone(),
                        image.clone(),
                        deadline,
                    ))
                });
                (fallback, task)
            })
            .collect();
        let mut out = Vec::with_capacity(tasks.len());
        for (fallback, task) in tasks {
            out.push(match task {
                None => fallback,
                Some(t) => t.await.unwrap_or_else(|e| {
                    let mut r = fallback;
                    r.state = State::Error;
                    r.detail = Some(format!("probe failed: {e}"));
                    r
                }),
            });
        }
        out
    })
}
