//! The imperative shell for the non-interactive commands: read files, call the pure core,
//! print, write. Errors come back as (exit code, one sentence with the fix).

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::choice::{self, ChannelId, Choice, Inputs};
use crate::cli::{Answers, Cli, Command, Global};
use crate::detect::{self, DetectOptions, Report};
use crate::environment::{Engine, Environment};
use crate::paths::{self, PathInputs, Resolved};
use crate::plan::{self, EnvFileAction, Plan, TokenState};
use crate::preset::{self, Preset};
use crate::report;
use crate::write::{self, WriteRequest};

pub const EXIT_USAGE: i32 = 2;
pub const EXIT_ENVIRONMENT: i32 = 3;
pub const EXIT_REFUSED: i32 = 4;

/// An error for the user: the exit code and one sentence that says what to do.
#[derive(Debug)]
pub struct Failure {
    pub code: i32,
    pub message: String,
}

fn fail(code: i32, message: impl Into<String>) -> Failure {
    Failure {
        code,
        message: message.into(),
    }
}

pub fn run(cli: Cli) -> Result<(), Failure> {
    let resolved = paths::resolve(&PathInputs {
        config_flag: cli.global.config.clone(),
        state_dir_flag: cli.global.state_dir.clone(),
        profile: cli.global.openclaw_profile.clone(),
        env: PathInputs::env_snapshot(),
    });
    // A preset file that cannot be used is skipped with a warning; it never breaks a command.
    let (presets, bad) = preset::load_all(preset::user_dir().as_deref());
    for e in &bad {
        eprintln!("clawposture: warning: preset file skipped: {e}");
    }
    match cli.command {
        Some(Command::Detect { json }) => {
            let report = detect::detect(&detect_options(&cli.global, &resolved));
            if json {
                println!(
                    "{}",
                    pretty(&serde_json::to_value(&report).unwrap_or_default())
                );
            } else {
                print!("{}", detect::render_human(&report));
            }
            Ok(())
        }
        Some(Command::Screenshots { out, size, format }) => {
            let png = format.iter().any(|f| f == "png");
            let (files, note) = crate::screenshot::write_all(&out, size.0, size.1, png)
                .map_err(|e| fail(EXIT_REFUSED, e))?;
            for f in files {
                println!("{}", f.display());
            }
            if let Some(n) = note {
                eprintln!("clawposture: {n}");
            }
            Ok(())
        }
        Some(Command::Presets { json }) => {
            if json {
                println!("{}", pretty(&report::presets_json(&presets)));
            } else {
                print!("{}", report::presets_text(&presets));
            }
            Ok(())
        }
        Some(Command::Plan { answers, json }) => {
            let ctx = prepare(&answers, &cli.global, &presets, &resolved)?;
            if json {
                println!("{}", pretty(&ctx.json(&resolved)));
            } else {
                print!("{}", ctx.text(&resolved));
            }
            Ok(())
        }
        Some(Command::Apply {
            answers,
            yes,
            dry_run,
            same_gateway,
            json,
        }) => {
            if !yes && !dry_run && !std::io::stdin().is_terminal() {
                return Err(fail(
                    EXIT_USAGE,
                    "no terminal to confirm on: pass --yes to write without asking (or --dry-run to only look).",
                ));
            }
            let ctx = prepare(&answers, &cli.global, &presets, &resolved)?;
            if !same_gateway
                && let Some(why) =
                    plan::boundary_conflict(ctx.current.as_deref(), &ctx.choice, &ctx.all)
            {
                return Err(fail(EXIT_REFUSED, format!("refused: {why}")));
            }
            if !json {
                print!("{}", ctx.text(&resolved));
            }
            if dry_run {
                if json {
                    println!("{}", pretty(&ctx.json(&resolved)));
                }
                return Ok(());
            }
            if ctx.plan.is_noop() {
                // Nothing to write, but the posture the file holds is checked as after a write.
                let checks = ctx
                    .check_job(&resolved, &presets, cli.global.docker_host.clone())
                    .run();
                if json {
                    let mut v = ctx.json(&resolved);
                    v["checks"] = checks.to_json();
                    println!("{}", pretty(&v));
                } else {
                    print!(
                        "{}",
                        report::checks_text(
                            report::CHECKED_NOW,
                            &checks,
                            ctx.choice.inputs.advanced()
                        )
                    );
                }
                return Ok(());
            }
            if !yes && !confirm("Write these changes? [y/N] ")? {
                return Err(fail(EXIT_REFUSED, "nothing written: not confirmed."));
            }
            let (outcome, checklist) = ctx.write_job(&resolved).run()?;
            let checks = ctx
                .check_job(&resolved, &presets, cli.global.docker_host.clone())
                .run();
            if json {
                let mut v = ctx.json(&resolved);
                v["written"] = serde_json::json!({
                    "config": outcome.written, "backup": outcome.backup, "env_file": outcome.env_file,
                    "via_symlink": outcome.via_symlink, "tightened": outcome.tightened, "warnings": outcome.warnings,
                    "checklist": checklist,
                });
                v["checks"] = checks.to_json();
                println!("{}", pretty(&v));
            } else {
                print!(
                    "{}",
                    report::after_write_text(
                        &outcome,
                        &checklist,
                        &checks,
                        ctx.choice.inputs.advanced()
                    )
                );
            }
            Ok(())
        }
        Some(Command::Verify(mut args)) => {
            args.docker_host = cli.global.docker_host.clone();
            match crate::verify::args::run_verify(&args, &resolved, &presets)? {
                0 => Ok(()),
                // The report is printed already; only the exit code is left to give.
                code => Err(Failure {
                    code,
                    message: String::new(),
                }),
            }
        }
        None => crate::tui::start(&cli.global, &cli.wizard, presets, &resolved),
    }
}

fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}

fn confirm(prompt: &str) -> Result<bool, Failure> {
    print!("{prompt}");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| fail(EXIT_USAGE, format!("cannot read the answer: {e}")))?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes"))
}

/// Everything a command needs, computed once.
pub struct Prepared {
    pub original: Option<Vec<u8>>,
    pub current: Option<String>,
    pub choice: Choice,
    pub all: Vec<Choice>,
    pub plan: Plan,
    pub recognized: Option<plan::Recognition>,
    pub detection: Option<Report>,
}

/// The write every front end performs, as data: the config (and `.env`), then the checklist
/// beside it, which says how to check what was just written.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteJob {
    pub config: PathBuf,
    pub original: Option<Vec<u8>>,
    pub new_text: String,
    pub state_dir: PathBuf,
    pub env_file: EnvFileAction,
    /// Written beside the config once the config is written.
    pub checklist: crate::checklist::Context,
}

impl WriteJob {
    /// The one write path of every front end (the edge: it touches the disk).
    pub fn run(&self) -> Result<(write::WriteOutcome, PathBuf), Failure> {
        // The checklist is written under the config's lock, with the directories left open.
        let render = |left_open: &[String]| {
            crate::checklist::markdown(&self.checklist.clone().left_open(left_open.to_vec()))
        };
        let path = crate::checklist::path(&self.state_dir);
        let outcome = write::write(&WriteRequest {
            config: &self.config,
            original: self.original.as_deref(),
            new_text: &self.new_text,
            state_dir: &self.state_dir,
            env_file: &self.env_file,
            now: SystemTime::now(),
            checklist: Some((path.clone(), &render)),
        })
        .map_err(|e| fail(EXIT_REFUSED, format!("refused to write: {e}")))?;
        Ok((outcome, path))
    }
}

/// The static and engine items of `verify` to run on what was just written, as data: built by
/// the pure core, run at the edge (it reads files and asks the engine).
#[derive(Debug, Clone, PartialEq)]
pub struct CheckJob {
    pub resolved: Resolved,
    pub presets: Vec<Preset>,
    pub engine: Option<crate::environment::Engine>,
    pub endpoint: Option<String>,
    pub advanced: crate::choice::Advanced,
}

impl CheckJob {
    pub fn run(&self) -> crate::verify::model::Report {
        crate::verify::args::after_apply(
            &self.resolved,
            &self.presets,
            Some(self.engine),
            self.endpoint.clone(),
            self.advanced,
        )
    }
}

impl Prepared {
    /// What to check right after writing this plan: the engine detection chose (or
    /// `--docker-host`), and the answers it was written with.
    pub fn check_job(
        &self,
        resolved: &Resolved,
        presets: &[Preset],
        docker_host: Option<String>,
    ) -> CheckJob {
        let endpoint = self
            .detection
            .as_ref()
            .and_then(|r| r.selected.index.and_then(|i| r.engines.get(i)))
            .map(|e| e.endpoint.clone())
            .or(docker_host);
        CheckJob {
            resolved: resolved.clone(),
            presets: presets.to_vec(),
            engine: self.choice.environment.engine,
            endpoint,
            advanced: self.choice.inputs.advanced(),
        }
    }

    /// What writing this plan means, at the resolved paths (pure).
    pub fn write_job(&self, resolved: &Resolved) -> WriteJob {
        WriteJob {
            config: resolved.config.clone(),
            original: self.original.clone(),
            new_text: self.plan.new_text.clone(),
            state_dir: resolved.state_dir.clone(),
            env_file: self.plan.env_file.clone(),
            checklist: self.checklist(resolved),
        }
    }

    /// The checklist for this plan (pure: what to check, why and how).
    pub fn checklist(&self, resolved: &Resolved) -> crate::checklist::Context {
        let list = crate::checklist::Context::from_plan(&self.choice, &self.plan, resolved);
        match &self.detection {
            Some(report) => list.with_detection(report),
            None => list,
        }
    }

    /// The plan as people read it (secrets masked).
    pub fn text(&self, resolved: &Resolved) -> String {
        report::plan_text(&self.plan, &self.choice, resolved, self.recognized.as_ref())
    }

    /// The plan as scripts read it (secrets masked).
    pub fn json(&self, resolved: &Resolved) -> serde_json::Value {
        report::plan_json(&self.plan, &self.choice, resolved, self.recognized.as_ref())
    }
}

pub fn read_config(path: &Path) -> Result<Option<Vec<u8>>, Failure> {
    // A FIFO or device is refused at once, never read (a FIFO would block forever).
    write::read_regular(path).map_err(|e| fail(EXIT_REFUSED, e.to_string()))
}

pub fn inputs_from(answers: &Answers) -> Result<Inputs, Failure> {
    let parse = |s: &String| ChannelId::parse(s).map_err(|m| fail(EXIT_USAGE, m));
    Ok(Inputs {
        owner: answers.owner.as_ref().map(parse).transpose()?,
        groups: answers.groups.iter().map(parse).collect::<Result<_, _>>()?,
        members: answers
            .members
            .iter()
            .map(parse)
            .collect::<Result<_, _>>()?,
        accept_risk: answers.accept_risk,
        workspace_access: answers.workspace_access,
        sandbox_network: answers.sandbox_network,
    })
}

pub fn current_ids() -> (u32, u32) {
    // SAFETY: getuid/getgid cannot fail and touch no memory.
    unsafe { (libc::getuid(), libc::getgid()) }
}

pub fn detect_options(global: &Global, resolved: &Resolved) -> DetectOptions {
    let mut opts = DetectOptions::from_env(Some(resolved.config.clone()));
    opts.docker_host_flag = global.docker_host.clone();
    opts
}

/// The environment from `--engine`, or else from detection (whose report comes back too).
pub fn environment_from(
    answers: &Answers,
    global: &Global,
    resolved: &Resolved,
) -> (Environment, Option<Report>) {
    let (uid, gid) = current_ids();
    if let Some(arg) = answers.engine {
        return (
            Environment {
                engine: Engine::parse_label(arg.label()).flatten(),
                uid,
                gid,
            },
            None,
        );
    }
    let report = detect::detect(&detect_options(global, resolved));
    (
        Environment {
            engine: report.selected_engine(),
            uid,
            gid,
        },
        Some(report),
    )
}

/// What detection adds to the plan's notes: which engine and why (the reason already says
/// which DOCKER_HOST the Gateway's service environment needs), and a missing sandbox image.
pub fn detection_notes(report: &Report) -> Vec<String> {
    let mut notes = vec![format!("Container engine: {}", report.selected.reason)];
    if let Some(e) = report.selected.index.and_then(|i| report.engines.get(i))
        && e.sandbox_image
            .as_ref()
            .is_some_and(|i| i.present == Some(false))
    {
        notes.push(format!(
            "The sandbox image {} is not on this engine yet: OpenClaw never pulls or builds it, so sandboxed turns fail until you build it (see the checklist).",
            e.sandbox_image.as_ref().map(|i| i.name.as_str()).unwrap_or(detect::DEFAULT_SANDBOX_IMAGE)
        ));
    }
    notes
}

/// Everything the edge read for one plan; `compose` turns it into a plan without any I/O.
pub struct Facts<'a> {
    pub environment: &'a Environment,
    pub detection: Option<&'a Report>,
    /// The config file's bytes (None: no file).
    pub original: Option<&'a [u8]>,
    pub token: TokenState,
    pub config: &'a Path,
}

/// The preset named by `--threat` (or the wizard's answer).
pub fn find_preset<'a>(presets: &'a [Preset], threat: Option<&str>) -> Result<&'a Preset, Failure> {
    let threat = threat.ok_or_else(|| {
        fail(
            EXIT_USAGE,
            format!(
                "missing answer: pass --threat {}.",
                presets
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join("|")
            ),
        )
    })?;
    presets.iter().find(|p| p.name == threat).ok_or_else(|| {
        fail(
            EXIT_USAGE,
            format!("no preset named `{threat}`; `clawposture presets` lists them."),
        )
    })
}

/// Every preset as it would be chosen here: what recognition and pruning compare against.
pub fn all_choices(presets: &[Preset], environment: &Environment, inputs: &Inputs) -> Vec<Choice> {
    presets
        .iter()
        .map(|p| choice::adjust(p, environment, inputs))
        .collect()
}

/// The config's bytes as text; a file that is not UTF-8 is refused, never guessed at.
pub fn decode_config(config: &Path, original: Option<&[u8]>) -> Result<Option<String>, Failure> {
    original
        .map(|bytes| {
            String::from_utf8(bytes.to_vec()).map_err(|_| {
                fail(
                    EXIT_REFUSED,
                    format!(
                        "{} is not UTF-8 text; nothing was written.",
                        config.display()
                    ),
                )
            })
        })
        .transpose()
}

/// The one pure path from answers and gathered facts to a plan, shared by `plan`, `apply`,
/// the wizard and `--plain`.
pub fn compose(
    preset: &Preset,
    presets: &[Preset],
    inputs: &Inputs,
    facts: &Facts,
) -> Result<Prepared, Failure> {
    let mut chosen = choice::choose(preset, facts.environment, inputs)
        .map_err(|r| fail(EXIT_ENVIRONMENT, format!("refused: {r}")))?;
    if let Some(report) = facts.detection {
        chosen.notes.extend(detection_notes(report));
    }
    let all = all_choices(presets, facts.environment, inputs);
    let current = decode_config(facts.config, facts.original)?;
    let plan = plan::plan(current.as_deref(), &chosen, &all, facts.token)
        .map_err(|e| fail(EXIT_REFUSED, format!("{}:{e}", facts.config.display())))?;
    let recognized = current.as_deref().and_then(|c| plan::recognize(c, &all));
    Ok(Prepared {
        original: facts.original.map(<[u8]>::to_vec),
        current,
        choice: chosen,
        all,
        plan,
        recognized,
        detection: facts.detection.cloned(),
    })
}

pub fn prepare(
    answers: &Answers,
    global: &Global,
    presets: &[Preset],
    resolved: &Resolved,
) -> Result<Prepared, Failure> {
    let preset = find_preset(presets, answers.threat.as_deref())?;
    let inputs = inputs_from(answers)?;
    let (environment, detection) = environment_from(answers, global, resolved);
    let original = read_config(&resolved.config)?;
    let token = TokenState {
        env_file_has_token: write::env_file_has_token(&resolved.state_dir),
    };
    compose(
        preset,
        presets,
        &inputs,
        &Facts {
            environment: &environment,
            detection: detection.as_ref(),
            original: original.as_deref(),
            token,
            config: &resolved.config,
        },
    )
}
