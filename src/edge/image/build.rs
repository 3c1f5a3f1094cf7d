//! `image build`, the edge: send the recipe to the engine's `/build` (Docker's classic builder
//! and Podman's compatible endpoint), turn its stream into [`Event`]s, prove the result, and
//! only then tag it.
//!
//! Nothing is ever half-tagged: the build runs without a tag and yields an image id; the tag
//! is one API call made after the proof passed. A cancel (the [`Cancel`] token, or SIGINT /
//! SIGTERM / SIGHUP) closes the build's connection, which makes the engine stop the build, and
//! removes an image that was already built.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use bollard::Docker;
use bollard::query_parameters::{
    BuildImageOptionsBuilder, RemoveImageOptionsBuilder, TagImageOptionsBuilder,
};
use futures_util::StreamExt;
use serde::Serialize;
use serde_json::json;

use super::engine::{self, Target};
use crate::domain::expect;
use crate::domain::image::progress::{Event, Step, parse_step};
use crate::domain::image::proof::{self, Proof, Ran};
use crate::domain::image::recipe::{BASE_ARG, Recipe};
use crate::domain::image::tar;
use crate::edge::verify::{live, live_judge as probe};
use crate::model::environment::EngineKind;

/// Stops a build from another thread or from the event callback.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<CancelInner>);

#[derive(Debug, Default)]
struct CancelInner {
    flag: AtomicBool,
    notify: tokio::sync::Notify,
}

impl Cancel {
    pub fn new() -> Cancel {
        Cancel::default()
    }

    pub fn cancel(&self) {
        self.0.flag.store(true, Ordering::SeqCst);
        self.0.notify.notify_waiters();
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.flag.load(Ordering::SeqCst)
    }

    async fn cancelled(&self) {
        loop {
            // Registered before the check, so a cancel between the two is not lost.
            let notified = self.0.notify.notified();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }
}

/// The user the proof runs the sandbox container as: what the preset writes for this engine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProofUser {
    /// `docker.user` (None: none is written; rootless Podman then runs keep-id).
    pub user: Option<String>,
    pub expected_uid: Option<u32>,
    /// Where the expected uid comes from, for the report.
    pub source: String,
}

impl ProofUser {
    /// The user OpenClaw runs the sandbox as on `target` when the Gateway runs as `uid:gid`:
    /// the preset's `docker.user`, except under rootless Podman, where OpenClaw passes the
    /// workspace owner (the engine's own user) as `--user` with keep-id.
    pub fn for_target(target: &Target, uid: u32, gid: u32) -> ProofUser {
        let (user, _) = crate::domain::choice::sandbox_user(target.engine(), uid, gid);
        match (&user, target.socket_owner) {
            (Some(u), _) => ProofUser {
                expected_uid: expect::numeric_uid(u),
                source: format!("the preset's docker.user \"{u}\" for {}", target.label()),
                user,
            },
            (None, Some(owner)) => {
                let group = target.socket_group.unwrap_or(owner);
                ProofUser {
                    user: Some(format!("{owner}:{group}")),
                    expected_uid: Some(owner),
                    source: "rootless Podman: OpenClaw's --user is the workspace owner, the engine's own user (keep-id)".into(),
                }
            }
            (None, None) => ProofUser {
                user: None,
                expected_uid: None,
                source: "rootless Podman, whose user is unknown".into(),
            },
        }
    }
}

/// What to build.
#[derive(Debug, Clone)]
pub struct BuildSpec {
    pub target: Target,
    pub tag: String,
    /// `--base`; None: the recipe's default (upstream's Debian base).
    pub base: Option<String>,
    /// Network of the build's RUN steps (None: the engine's default; `none` for a local base).
    pub network: Option<String>,
    pub recipe: Recipe,
    /// None: do not prove (tag right after the build).
    pub prove: Option<ProofUser>,
    /// SIGINT/SIGTERM/SIGHUP cancel the build (the CLI; a full-screen front end reads Ctrl-C
    /// as a key instead).
    pub catch_signals: bool,
}

/// A tagged image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Built {
    pub id: String,
    pub tag: String,
    pub steps: u32,
    pub elapsed_ms: u64,
    pub proof: Option<Proof>,
}

/// Why nothing was tagged.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum BuildError {
    /// The token or a signal stopped it. `removed`: an image already built was removed.
    Cancelled { step: Option<Step>, removed: bool },
    /// The engine refused or failed the build (or could not be reached).
    Failed {
        step: Option<Step>,
        engine_error: String,
        /// The failing step's last output lines (Podman puts the runtime's own error there).
        output: Vec<String>,
        advice: String,
    },
    /// Built, but it does not serve OpenClaw; the image was removed.
    ProofFailed { proof: Box<Proof> },
}

impl BuildError {
    /// Several lines for the user: what happened, where, and what to do.
    pub fn text(&self) -> String {
        let at = |s: &Option<Step>| match s {
            Some(s) => format!("at step {}/{} ({})", s.n, s.total, s.instruction),
            None => "before the first step".to_string(),
        };
        match self {
            BuildError::Cancelled { step, removed } => format!(
                "build cancelled {}; nothing was tagged{}",
                at(step),
                if *removed {
                    " (the built image was removed)"
                } else {
                    ""
                }
            ),
            BuildError::Failed {
                step,
                engine_error,
                output,
                advice,
            } => {
                let mut s = format!("build failed {}; nothing was tagged.", at(step));
                if !output.is_empty() {
                    s.push_str("\nstep output:");
                    for l in output {
                        s.push_str(&format!("\n  {l}"));
                    }
                }
                s.push_str(&format!(
                    "\nengine: {}\nwhat to do: {advice}",
                    engine_error.trim()
                ));
                s
            }
            BuildError::ProofFailed { proof } => {
                let mut s = String::from(
                    "the image was built but does not serve OpenClaw, so it was removed and nothing was tagged:",
                );
                for p in &proof.problems {
                    s.push_str(&format!("\n  - {p}"));
                }
                s
            }
        }
    }
}

/// What to do about a failed build, from the engine's words and the step it failed at.
pub fn advice(engine_error: &str, step: Option<&Step>, base: &str) -> String {
    let e = engine_error.to_lowercase();
    let at_from = step.is_some_and(|s| s.instruction.starts_with("FROM"));
    if e.contains("no space left") {
        "free disk space where the engine keeps its images (docker system prune / podman system prune), then build again".into()
    } else if e.contains("invalid reference") || e.contains("must be lowercase") {
        format!(
            "`{base}` is not a valid image reference: pass --base with a name like debian:bookworm-slim"
        )
    } else if at_from
        || e.contains("pull")
        || e.contains("registry")
        || e.contains("manifest unknown")
        || e.contains("no such host")
    {
        format!(
            "the base image {base} is not on this engine and could not be pulled: pull it where a registry is reachable, or pass --base with an image this engine has (docker images / podman images)"
        )
    } else if e.contains("connection")
        || e.contains("broken pipe")
        || e.contains("hyper")
        || e.contains("socket")
    {
        "the engine stopped answering during the build: start it again (or check its log), then run `clawposture image build` again".into()
    } else if step.is_some_and(|s| s.instruction.starts_with("RUN")) {
        "a RUN step failed inside the base image: the base needs /bin/sh with mkdir, chmod and chown (Debian, or busybox with its applets); with a Debian base the package step needs the network (leave --network unset)".into()
    } else {
        "see the engine's error above, fix its cause and run `clawposture image build` again".into()
    }
}

fn ms(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX)
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}

/// The outcome of the build phase: the image id, or why there is none.
enum Phase {
    Built { id: String, steps: u32 },
    Stopped(BuildError),
}

/// Build, prove, tag. Blocking; `on` sees every event in order. SIGINT/SIGTERM/SIGHUP act as
/// `cancel` while the build runs.
pub fn build(
    spec: &BuildSpec,
    cancel: &Cancel,
    on: &mut dyn FnMut(&Event),
) -> Result<Built, BuildError> {
    let start = Instant::now();
    let failed = |e: String| BuildError::Failed {
        step: None,
        output: Vec::new(),
        advice: advice(
            &e,
            None,
            spec.base.as_deref().unwrap_or(spec.recipe.upstream.base),
        ),
        engine_error: e,
    };
    let rt = runtime().map_err(failed)?;
    let docker = engine::connect(&spec.target.endpoint).map_err(failed)?;
    let context =
        tar::archive(&[("Dockerfile", spec.recipe.dockerfile.as_bytes())]).map_err(failed)?;
    on(&Event::Started {
        endpoint: spec.target.endpoint.clone(),
        context_bytes: context.len() as u64,
    });
    let guard = if spec.catch_signals {
        live::SignalGuard::install().ok()
    } else {
        None
    };
    let phase = rt.block_on(async {
        let run = run_build(&docker, spec, context, start, cancel, on);
        tokio::pin!(run);
        match &guard {
            Some(g) => tokio::select! {
                p = &mut run => p,
                _ = g.next() => {
                    // The build sees the cancel at once and reports the step it was at.
                    cancel.cancel();
                    run.await
                }
            },
            None => run.await,
        }
    });
    drop(guard);
    let (id, steps) = match phase {
        Phase::Built { id, steps } => (id, steps),
        Phase::Stopped(e) => return Err(e),
    };
    on(&Event::Built {
        id: id.clone(),
        elapsed_ms: ms(start),
    });
    let remove = |rt: &tokio::runtime::Runtime| {
        rt.block_on(async {
            docker
                .remove_image(
                    &id,
                    Some(RemoveImageOptionsBuilder::default().force(true).build()),
                    None,
                )
                .await
                .is_ok()
        })
    };
    if cancel.is_cancelled() {
        return Err(BuildError::Cancelled {
            step: None,
            removed: remove(&rt),
        });
    }
    let proof = match &spec.prove {
        Some(user) => match prove(&spec.target, &id, user) {
            Ok(p) => {
                on(&Event::Proved {
                    ok: p.ok(),
                    elapsed_ms: ms(start),
                });
                if !p.ok() {
                    remove(&rt);
                    return Err(BuildError::ProofFailed { proof: Box::new(p) });
                }
                Some(p)
            }
            Err(live::Interrupted(_)) => {
                cancel.cancel();
                return Err(BuildError::Cancelled {
                    step: None,
                    removed: remove(&rt),
                });
            }
        },
        None => None,
    };
    if cancel.is_cancelled() {
        return Err(BuildError::Cancelled {
            step: None,
            removed: remove(&rt),
        });
    }
    let (repo, tag) = engine::split_tag(&spec.tag);
    let tagged = rt.block_on(async {
        docker
            .tag_image(
                &id,
                Some(
                    TagImageOptionsBuilder::default()
                        .repo(&repo)
                        .tag(&tag)
                        .build(),
                ),
            )
            .await
    });
    if let Err(e) = tagged {
        let e = e.to_string();
        remove(&rt);
        return Err(BuildError::Failed {
            step: None,
            output: Vec::new(),
            advice: advice(&e, None, ""),
            engine_error: format!("tagging {id} as {}: {e}", spec.tag),
        });
    }
    on(&Event::Tagged {
        tag: spec.tag.clone(),
        elapsed_ms: ms(start),
    });
    Ok(Built {
        id,
        tag: spec.tag.clone(),
        steps,
        elapsed_ms: ms(start),
        proof,
    })
}

async fn run_build(
    docker: &Docker,
    spec: &BuildSpec,
    context: Vec<u8>,
    start: Instant,
    cancel: &Cancel,
    on: &mut dyn FnMut(&Event),
) -> Phase {
    let mut opts = BuildImageOptionsBuilder::default()
        .dockerfile("Dockerfile")
        .rm(true)
        .forcerm(true);
    if let Some(n) = &spec.network {
        opts = opts.networkmode(n);
    }
    if let Some(b) = &spec.base {
        opts = opts.buildargs(&HashMap::from([(BASE_ARG.to_string(), b.clone())]));
    }
    let base = spec
        .base
        .clone()
        .unwrap_or_else(|| spec.recipe.upstream.base.to_string());
    let mut stream =
        docker.build_image(opts.build(), None, Some(bollard::body_full(context.into())));
    let mut step: Option<Step> = None;
    let mut id: Option<String> = None;
    let mut short_id: Option<String> = None;
    // The current step's last lines, for a failure report.
    let mut output: Vec<String> = Vec::new();
    const KEEP: usize = 8;
    loop {
        let item = tokio::select! {
            i = stream.next() => i,
            _ = cancel.cancelled() => None,
        };
        if cancel.is_cancelled() {
            // Dropping the stream closes the connection: the engine stops the build.
            return Phase::Stopped(BuildError::Cancelled {
                step,
                removed: false,
            });
        }
        let Some(item) = item else { break };
        let info = match item {
            Ok(i) => i,
            Err(e) => {
                let engine_error = match e {
                    bollard::errors::Error::DockerStreamError { error } => error,
                    other => other.to_string(),
                };
                let joined = format!("{engine_error}\n{}", output.join("\n"));
                return Phase::Stopped(BuildError::Failed {
                    advice: advice(&joined, step.as_ref(), &base),
                    step,
                    engine_error,
                    output,
                });
            }
        };
        if let Some(text) = &info.stream {
            for line in text
                .lines()
                .map(str::trim_end)
                .filter(|l| !l.trim().is_empty())
            {
                if let Some(s) = parse_step(line) {
                    step = Some(s.clone());
                    output.clear();
                    on(&Event::Step {
                        step: s,
                        elapsed_ms: ms(start),
                    });
                    if cancel.is_cancelled() {
                        return Phase::Stopped(BuildError::Cancelled {
                            step,
                            removed: false,
                        });
                    }
                } else {
                    if let Some(rest) = line.trim().strip_prefix("Successfully built ") {
                        short_id = Some(rest.trim().to_string());
                    }
                    if output.len() == KEEP {
                        output.remove(0);
                    }
                    output.push(line.trim().to_string());
                    on(&Event::Output {
                        line: line.to_string(),
                        elapsed_ms: ms(start),
                    });
                }
            }
        }
        if let Some(status) = &info.status {
            let detail = info.progress_detail.as_ref();
            on(&Event::Pull {
                status: status.clone(),
                current: detail
                    .and_then(|d| d.current)
                    .and_then(|c| u64::try_from(c).ok()),
                total: detail
                    .and_then(|d| d.total)
                    .and_then(|t| u64::try_from(t).ok()),
                elapsed_ms: ms(start),
            });
        }
        if let Some(i) = info.aux.as_ref().and_then(|a| a.id.clone()) {
            id = Some(i);
        }
        if cancel.is_cancelled() {
            return Phase::Stopped(BuildError::Cancelled {
                step,
                removed: false,
            });
        }
    }
    match id.or(short_id) {
        Some(id) => Phase::Built {
            id,
            steps: step.map_or(0, |s| s.total),
        },
        None => Phase::Stopped(BuildError::Failed {
            advice: advice("", step.as_ref(), &base),
            step,
            output,
            engine_error: "the engine ended the build without naming an image".into(),
        }),
    }
}

/// The wizard's build (`b`): the recipe on the selected engine, proved under the preset's
/// user, tagged; the outcome in one line. The wizard passes no `base` (upstream's) and no
/// `network` (the engine's own, for the package step).
pub fn build_for(
    endpoint: &str,
    tag: &str,
    (uid, gid): (u32, u32),
    (base, network): (Option<&str>, Option<&str>),
    on: &mut dyn FnMut(&Event),
) -> Result<String, String> {
    let target = engine::resolve(
        Some(endpoint),
        None,
        &crate::edge::detect::DetectOptions::default(),
    )?;
    let spec = BuildSpec {
        prove: Some(ProofUser::for_target(&target, uid, gid)),
        target,
        tag: tag.to_string(),
        base: base.map(str::to_string),
        network: network.map(str::to_string),
        recipe: crate::domain::image::recipe::current(),
        catch_signals: false,
    };
    let built = build(&spec, &Cancel::new(), on).map_err(|e| e.text())?;
    let warnings = built
        .proof
        .as_ref()
        .map(|p| p.warnings.join("; "))
        .filter(|w| !w.is_empty())
        .map(|w| format!(" ({w})"))
        .unwrap_or_default();
    Ok(format!(
        "{} built and proved in {:.1}s{warnings}",
        built.tag,
        built.elapsed_ms as f64 / 1000.0
    ))
}

/// Run the two proof containers from image `id` on `target` (see [`proof`]).
pub fn prove(target: &Target, id: &str, user: &ProofUser) -> Result<Proof, live::Interrupted> {
    let podman = target.kind == EngineKind::Podman;
    let mut docker = expect::agent_sandbox(&json!({}), "main").docker;
    docker.user = user.user.clone();
    let ptarget = probe::Target {
        kind: target.kind,
        rootless: target.rootless,
    };
    let run = live::run_id();
    let pid = std::process::id();
    // As OpenClaw creates it: read-only root, tmpfs, no capabilities, the preset's user.
    let mut sandbox = probe::spec(&docker, id, ptarget, &run, pid, None);
    sandbox.cmd = vec!["/bin/sh".into(), "-c".into(), proof::sandbox_script()];
    // The image as built: its own user, its own /tmp (no tmpfs over it).
    let mut image = sandbox.clone();
    image.cmd = vec!["/bin/sh".into(), "-c".into(), proof::image_script()];
    image.user = None;
    image.userns_mode = None;
    image.readonly_rootfs = false;
    image.tmpfs = Vec::new();
    let runs = live::run_probes(&target.endpoint, podman, &[image, sandbox], &run)?;
    let ran = |i: usize| {
        runs.get(i)
            .map(|r| Ran {
                stdout: r.stdout.clone(),
                stderr: r.stderr.clone(),
                error: r.error.clone(),
            })
            .unwrap_or_default()
    };
    Ok(proof::judge(
        &ran(0),
        &ran(1),
        user.expected_uid,
        &user.source,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(n: u32, instruction: &str) -> Step {
        Step {
            n,
            total: 9,
            instruction: instruction.into(),
        }
    }

    #[test]
    fn advice_names_the_cause() {
        let from = step(2, "FROM ${BASE}");
        assert!(
            advice(
                "dial tcp: lookup registry-1.docker.io: no such host",
                Some(&from),
                "debian:bookworm-slim"
            )
            .contains("could not be pulled")
        );
        assert!(
            advice(
                "invalid reference format: repository name must be lowercase",
                Some(&from),
                "X/Y"
            )
            .contains("not a valid image reference")
        );
        assert!(
            advice(
                "write /var/lib/docker/x: no space left on device",
                Some(&step(5, "RUN x")),
                "b"
            )
            .contains("free disk space")
        );
        assert!(
            advice(
                "The command '/bin/sh -c mkdir -p /tmp' returned a non-zero code: 127",
                Some(&step(5, "RUN mkdir -p /tmp")),
                "b"
            )
            .contains("busybox with its applets")
        );
        assert!(
            advice(
                "error trying to connect: Connection refused",
                Some(&step(5, "RUN x")),
                "b"
            )
            .contains("stopped answering")
        );
    }

    #[test]
    fn errors_say_where_and_that_nothing_was_tagged() {
        let e = BuildError::Failed {
            step: Some(step(5, "RUN mkdir -p /tmp")),
            engine_error: "returned a non-zero code: 127\n".into(),
            output: vec!["/bin/sh: mkdir: not found".into()],
            advice: "fix it".into(),
        };
        let t = e.text();
        assert!(t.contains("at step 5/9 (RUN mkdir -p /tmp)"), "{t}");
        assert!(
            t.contains("nothing was tagged")
                && t.contains("engine: returned a non-zero code: 127\nwhat to do: fix it"),
            "{t}"
        );
        assert!(
            t.contains("step output:\n  /bin/sh: mkdir: not found\nengine:"),
            "{t}"
        );
        let c = BuildError::Cancelled {
            step: None,
            removed: true,
        };
        assert!(c.text().contains("before the first step"));
    }

    #[test]
    fn the_proof_user_is_the_presets() {
        let t = |kind, rootless| Target {
            endpoint: "unix:///x".into(),
            source: "test".into(),
            kind,
            rootless,
            socket_owner: Some(1001),
            socket_group: Some(1002),
            server: None,
        };
        let u = ProofUser::for_target(&t(EngineKind::Docker, true), 1000, 1000);
        assert_eq!((u.user.as_deref(), u.expected_uid), (Some("0:0"), Some(0)));
        let u = ProofUser::for_target(&t(EngineKind::Docker, false), 1000, 1000);
        assert_eq!(
            (u.user.as_deref(), u.expected_uid),
            (Some("1000:1000"), Some(1000))
        );
        let u = ProofUser::for_target(&t(EngineKind::Podman, true), 1000, 1000);
        assert_eq!(
            (u.user.as_deref(), u.expected_uid),
            (Some("1001:1002"), Some(1001))
        );
    }

    #[test]
    fn a_cancel_before_waiting_is_seen() {
        let c = Cancel::new();
        let c2 = c.clone();
        c2.cancel();
        assert!(c.is_cancelled());
        let Ok(rt) = runtime() else { panic!("runtime") };
        rt.block_on(c.cancelled());
    }
}
