//! `clawposture image status|build|recipe`: flags and the printing shell around the module.

use std::io::{IsTerminal, Write};

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use crate::domain::image::progress::{Event, Progress, clip};
use crate::domain::image::recipe::{self, UPSTREAM};
use crate::domain::image::status::{self, ImageState};
use crate::edge::detect::DetectOptions;
use crate::edge::image::build::{self, BuildError, BuildSpec, Cancel, ProofUser};
use crate::edge::image::engine::{self, Target};
use crate::front::cli::EngineArg;
use crate::front::dispatch::{EXIT_USAGE, Failure};
use crate::model::paths::Resolved;

/// Exit code of a build that failed (or whose image failed the proof); 130 for a cancel.
pub const EXIT_BUILD_FAILED: i32 = 1;
pub const EXIT_CANCELLED: i32 = 130;

/// The sandbox image OpenClaw's sandbox runs: is it there, did clawposture build it, build it.
#[derive(Debug, Clone, Args)]
pub struct ImageArgs {
    #[command(subcommand)]
    pub action: ImageAction,
    /// The engine endpoint: filled from the global `--docker-host` by run.rs.
    #[arg(skip)]
    pub docker_host: Option<String>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum ImageAction {
    /// Say whether the image is there and whether clawposture built it from this recipe.
    /// Exit codes: 0 built by clawposture from the current recipe, 1 missing, 3 no engine,
    /// 5 built by clawposture from an older recipe, 6 not built by clawposture.
    Status(Common),
    /// Build the image on the engine the Gateway uses (live progress; Ctrl-C cancels and tags
    /// nothing), prove it serves OpenClaw, then tag it.
    /// Exit codes: 0 built and tagged, 1 build or proof failed, 3 no engine, 130 cancelled.
    Build(BuildArgs),
    /// Print the Dockerfile clawposture builds (to build by hand).
    Recipe,
}

#[derive(Debug, Clone, Args)]
pub struct Common {
    /// Which engine (default: the one detection picks for the preset).
    #[arg(long, value_enum)]
    pub engine: Option<EngineArg>,
    /// The image name OpenClaw's config uses.
    #[arg(long, value_name = "IMAGE", default_value = UPSTREAM.image)]
    pub tag: String,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
pub struct BuildArgs {
    #[command(flatten)]
    pub common: Common,
    /// The base image (default: debian:bookworm-slim, pulled by the engine if it lacks it).
    /// Any base with /bin/sh and mkdir, chmod, chown works; without apt-get it gets no packages.
    #[arg(long, value_name = "IMAGE")]
    pub base: Option<String>,
    /// Network of the build's RUN steps (e.g. none for a local base; default: the engine's).
    #[arg(long, value_name = "MODE")]
    pub network: Option<String>,
    /// Tag without running the two proof containers.
    #[arg(long)]
    pub no_prove: bool,
}

fn fail(code: i32, message: impl Into<String>) -> Failure {
    Failure {
        code,
        message: message.into(),
    }
}

fn target(args: &ImageArgs, common: &Common, resolved: &Resolved) -> Result<Target, Failure> {
    if common.engine == Some(EngineArg::None) {
        return Err(fail(EXIT_USAGE, "--engine none: an image needs an engine"));
    }
    let mut opts = DetectOptions::from_env(Some(resolved.config.clone()));
    opts.docker_host_flag = args.docker_host.clone();
    opts.sandbox_image = common.tag.clone();
    engine::resolve(
        args.docker_host.as_deref(),
        common
            .engine
            .and_then(|e| crate::model::environment::Engine::parse_label(e.label()).flatten()),
        &opts,
    ).map_err(|e| {
        if common.json {
            println!(
                "{}",
                pretty(&json!({"image": common.tag, "state": "no_engine", "error": e, "exit_code": status::EXIT_NO_ENGINE}))
            );
            fail(status::EXIT_NO_ENGINE, "")
        } else {
            fail(status::EXIT_NO_ENGINE, e)
        }
    })
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

fn exit(code: i32) -> Result<(), Failure> {
    if code == 0 {
        Ok(())
    } else {
        Err(fail(code, ""))
    }
}

pub fn run(args: &ImageArgs, resolved: &Resolved) -> Result<(), Failure> {
    match &args.action {
        ImageAction::Recipe => {
            print!("{}", recipe::current().dockerfile);
            Ok(())
        }
        ImageAction::Status(common) => status_cmd(args, common, resolved),
        ImageAction::Build(b) => build_cmd(args, b, resolved),
    }
}

fn status_cmd(args: &ImageArgs, common: &Common, resolved: &Resolved) -> Result<(), Failure> {
    let t = target(args, common, resolved)?;
    let info =
        engine::inspect(&t.endpoint, &common.tag).map_err(|e| fail(status::EXIT_NO_ENGINE, e))?;
    let r = recipe::current();
    let state = status::classify(info.as_ref().map(|i| &i.labels), &r.hash);
    let sentence = state.sentence(&common.tag, &r.hash);
    let fix = (!matches!(state, ImageState::Current { .. }))
        .then(|| recipe::build_cmd(&common.tag, Some(&t.endpoint)));
    if common.json {
        let mut v = json!({
            "image": common.tag,
            "endpoint": t.endpoint,
            "source": t.source,
            "engine": t.label(),
            "server": t.server,
            "id": info.as_ref().map(|i| i.id.clone()),
            "user": info.as_ref().map(|i| i.user.clone()),
            "recipe": r.hash,
            "openclaw": UPSTREAM.openclaw_version,
            "message": sentence,
            "fix": fix,
            "exit_code": state.exit_code(),
        });
        if let (Some(obj), Ok(Value::Object(s))) = (v.as_object_mut(), serde_json::to_value(&state))
        {
            obj.extend(s);
        }
        println!("{}", pretty(&v));
    } else {
        println!(
            "{} on {} ({}, from {})",
            common.tag,
            t.endpoint,
            t.label(),
            t.source
        );
        println!("{}: {sentence}", state.name());
        if let Some(f) = fix {
            println!("fix: {f}");
        }
    }
    exit(state.exit_code())
}

/// Where progress goes: one rewritten line on a terminal, plain lines otherwise, nothing for
/// `--json` (its stdout is the result).
struct Reporter {
    tty: bool,
    quiet: bool,
    width: usize,
    progress: Progress,
    events: usize,
    /// A gauge line is on screen without its newline.
    open_line: bool,
}

impl Reporter {
    fn new(json: bool) -> Reporter {
        let tty = std::io::stderr().is_terminal() && !json;
        let width = crossterm::terminal::size()
            .map(|(c, _)| usize::from(c))
            .unwrap_or(100)
            .max(20);
        Reporter {
            tty,
            quiet: json,
            width,
            progress: Progress::default(),
            events: 0,
            open_line: false,
        }
    }

    fn on(&mut self, e: &Event) {
        self.events += 1;
        self.progress.apply(e);
        if self.quiet {
            return;
        }
        let mut err = std::io::stderr().lock();
        let building = matches!(
            e,
            Event::Started { .. } | Event::Step { .. } | Event::Output { .. } | Event::Pull { .. }
        );
        if self.tty && building {
            // \r and erase-line: the gauge rewrites itself in place.
            let _ = write!(err, "\r\x1b[2K{}", self.progress.line(self.width - 1));
            let _ = err.flush();
            self.open_line = true;
            return;
        }
        if self.open_line {
            // The gauge's last state stays on screen; the proof's own lines start below it.
            let _ = writeln!(err);
            self.open_line = false;
        }
        let secs = |ms: &u64| *ms as f64 / 1000.0;
        let line = match e {
            Event::Started {
                endpoint,
                context_bytes,
            } => format!("sending the recipe ({context_bytes} bytes) to {endpoint}"),
            Event::Step { step, elapsed_ms } => format!(
                "step {}/{} ({:.1}s): {}",
                step.n,
                step.total,
                secs(elapsed_ms),
                step.instruction
            ),
            Event::Output { line, .. } => format!("  {line}"),
            Event::Pull {
                status,
                current,
                total,
                ..
            } => match (current, total) {
                (Some(c), Some(t)) => format!("  {status} {c}/{t} bytes"),
                _ => format!("  {status}"),
            },
            Event::Built { id, elapsed_ms } => {
                format!("built {} ({:.1}s); proving it", short(id), secs(elapsed_ms))
            }
            Event::Proved { ok, elapsed_ms } => format!(
                "proof {} ({:.1}s)",
                if *ok { "passed" } else { "FAILED" },
                secs(elapsed_ms)
            ),
            Event::Tagged { tag, elapsed_ms } => {
                format!("tagged {tag} ({:.1}s)", secs(elapsed_ms))
            }
        };
        let _ = writeln!(err, "clawposture: {}", clip(&line, 400));
    }

    fn finish(&mut self) {
        if self.open_line {
            let _ = writeln!(std::io::stderr());
            self.open_line = false;
        }
    }
}

fn short(id: &str) -> &str {
    let id = id.strip_prefix("sha256:").unwrap_or(id);
    &id[..id.len().min(12)]
}

fn build_cmd(args: &ImageArgs, b: &BuildArgs, resolved: &Resolved) -> Result<(), Failure> {
    let t = target(args, &b.common, resolved)?;
    let (uid, gid) = crate::front::dispatch::current_ids();
    let spec = BuildSpec {
        prove: (!b.no_prove).then(|| ProofUser::for_target(&t, uid, gid)),
        target: t.clone(),
        tag: b.common.tag.clone(),
        base: b.base.clone(),
        network: b.network.clone(),
        recipe: recipe::current(),
        catch_signals: true,
    };
    let mut reporter = Reporter::new(b.common.json);
    let result = build::build(&spec, &Cancel::new(), &mut |e| reporter.on(e));
    reporter.finish();
    let base = b.base.as_deref().unwrap_or(UPSTREAM.base);
    match result {
        Ok(built) => {
            if b.common.json {
                println!(
                    "{}",
                    pretty(&json!({
                        "outcome": "built",
                        "image": built.tag,
                        "id": built.id,
                        "endpoint": t.endpoint,
                        "engine": t.label(),
                        "base": base,
                        "recipe": spec.recipe.hash,
                        "openclaw": UPSTREAM.openclaw_version,
                        "steps": built.steps,
                        "events": reporter.events,
                        "elapsed_ms": built.elapsed_ms,
                        "proof": built.proof,
                    }))
                );
            } else {
                println!(
                    "built {} ({}) on {} ({}) from {base} in {:.1}s: {} steps, recipe {} for OpenClaw {}",
                    built.tag,
                    short(&built.id),
                    t.endpoint,
                    t.label(),
                    built.elapsed_ms as f64 / 1000.0,
                    built.steps,
                    spec.recipe.hash,
                    UPSTREAM.openclaw_version
                );
                if let Some(p) = &built.proof {
                    println!("proof that it serves OpenClaw:");
                    for l in p.lines() {
                        println!("  {l}");
                    }
                    for w in &p.warnings {
                        println!("warning: {w}");
                    }
                }
            }
            Ok(())
        }
        Err(e) => {
            let code = match e {
                BuildError::Cancelled { .. } => EXIT_CANCELLED,
                _ => EXIT_BUILD_FAILED,
            };
            if b.common.json {
                let mut v = serde_json::to_value(&e).unwrap_or_default();
                v["image"] = json!(b.common.tag);
                v["endpoint"] = json!(t.endpoint);
                v["message"] = json!(e.text());
                v["exit_code"] = json!(code);
                println!("{}", pretty(&v));
                Err(fail(code, ""))
            } else {
                Err(fail(code, e.text()))
            }
        }
    }
}
