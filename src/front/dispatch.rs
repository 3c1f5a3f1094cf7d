//! The command line's front end: gather facts at the edges, let the application layer decide,
//! print, and hand its jobs to the edges. Decides nothing itself.

use std::borrow::Cow;
use std::io::{BufRead, IsTerminal, Write};

use crate::app::{self, Acks, Facts, Next};
use crate::domain::choice::Inputs;
use crate::domain::plan::TokenState;
use crate::domain::preset::{self, Preset};
use crate::edge::detect;
use crate::edge::files;
use crate::front::cli::{Answers, Cli, Command, Global};
use crate::front::summary;
use crate::model::detect_options::DetectOptions;
use crate::model::detection::Report;
use crate::model::environment::{Engine, Environment};
use crate::model::paths::{self, PathInputs, Resolved};

pub use crate::model::exit::{
    EXIT_CHECKS_FAILED, EXIT_ENVIRONMENT, EXIT_INTERRUPTED, EXIT_REFUSED, EXIT_USAGE, Failure, Stop,
};

pub fn run(cli: Cli) -> Result<(), Failure> {
    let resolved = paths::resolve(&PathInputs {
        config_flag: cli.global.config.clone(),
        state_dir_flag: cli.global.state_dir.clone(),
        profile: cli.global.openclaw_profile.clone(),
        env: PathInputs::env_snapshot(),
    });
    // What needs no preset comes first, so a broken preset file cannot stop it.
    match &cli.command {
        Some(Command::Completions { shell }) => {
            return crate::front::shellgen::print(&crate::front::shellgen::completions(*shell))
                .map_err(|e| {
                    Failure::new(Stop::Refused, format!("cannot print the completions: {e}"))
                });
        }
        Some(Command::E2eInner { plan }) => {
            return crate::edge::e2e::inner::run(plan).map_err(|e| Failure::new(Stop::Refused, e));
        }
        Some(Command::Man) => {
            return crate::front::shellgen::man()
                .and_then(|page| crate::front::shellgen::print(&page))
                .map_err(|e| {
                    Failure::new(Stop::Refused, format!("cannot print the man page: {e}"))
                });
        }
        _ => {}
    }
    // A preset file that cannot be used is skipped with a warning; it never breaks a command.
    let (presets, bad) = preset::load_all(preset::user_dir().as_deref());
    for e in &bad {
        eprintln!("clawposture: warning: preset file skipped: {e}");
    }
    match cli.command {
        // Answered above.
        Some(Command::Completions { .. } | Command::Man | Command::E2eInner { .. }) => Ok(()),
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
            let (files, note) = crate::front::screenshot::write_all(&out, size.0, size.1, png)
                .map_err(|e| Failure::new(Stop::Refused, e))?;
            for f in files {
                println!("{}", f.display());
            }
            if let Some(n) = note {
                eprintln!("clawposture: {n}");
            }
            Ok(())
        }
        Some(Command::Presets { json }) => {
            // What the ledger knows of this config: which preset, when, changed by hand since.
            let current = files::read_config(&resolved.config)
                .ok()
                .flatten()
                .and_then(|b| String::from_utf8(b).ok());
            let ledger = files::read_ledger(&resolved.state_dir);
            let known =
                app::ledger_summary(ledger.as_deref(), &resolved.config, current.as_deref());
            if json {
                println!("{}", pretty(&summary::presets_json(&presets)));
            } else {
                print!("{}", summary::presets_text(&presets));
                match known {
                    Some(line) => println!("This config ({}): {line}", resolved.config.display()),
                    None => println!(
                        "This config ({}): not written by clawposture yet.",
                        resolved.config.display()
                    ),
                }
            }
            Ok(())
        }
        Some(Command::Plan { answers, json }) => {
            let g = gather(&answers, &cli.global, &resolved)?;
            let next = g.decide(&presets, &answers, &resolved)?;
            show(&next, &resolved, json, true);
            match next {
                Next::Refused(f) => {
                    // Refused before any plan: still say where the file stands.
                    if !json {
                        g.say_open_today(&resolved);
                    }
                    Err(f)
                }
                Next::Acknowledge { ack, .. } => Err(ack.refusal()),
                Next::NothingToWrite(_) | Next::Write(_) => Ok(()),
            }
        }
        Some(Command::Apply {
            answers,
            yes,
            dry_run,
            json,
        }) => {
            if !yes && !dry_run && !std::io::stdin().is_terminal() {
                return Err(Failure::new(
                    Stop::Usage,
                    "no terminal to confirm on: pass --yes to write without asking (or --dry-run to only look).",
                ));
            }
            let g = gather(&answers, &cli.global, &resolved)?;
            // What was gathered is in the plan now (a big file's bytes are not kept twice).
            let next = g.decide_owned(&presets, &answers, &resolved)?;
            // The job holds what the write needs (the ledger's entry is drawn from the file's
            // values); what is shown, the write and the check after it (which reads the file
            // again) read none of the plan's values of the file: they are done with before the
            // plan is shown (each is several times a big file).
            let (job, next) = match next {
                Next::Write(mut p) => {
                    let job = if dry_run {
                        p.forget_values();
                        None
                    } else {
                        Some(p.take_write_job_untexted(&resolved, answers.keep_backups))
                    };
                    (job, Next::Write(p))
                }
                Next::NothingToWrite(mut p) => {
                    p.forget_values();
                    (None, Next::NothingToWrite(p))
                }
                other => (None, other),
            };
            show(&next, &resolved, json, dry_run);
            let (mut prepared, _) = next.without_asking()?;
            if dry_run {
                return Ok(());
            }
            // Written (after the confirm), or found to hold the posture: checked either way.
            let written = match job {
                Some(job) => {
                    if !yes && !confirm("Write these changes? [y/N] ")? {
                        return Err(Failure::new(
                            Stop::Refused,
                            "nothing written: not confirmed.",
                        ));
                    }
                    // The texts were shown from the plan: they move into the job, and back
                    // for what is shown after the write.
                    let job = job.texts_from(&mut prepared);
                    let written = files::run_write(&job);
                    prepared.texts_back(job);
                    Some(written?)
                }
                // Nothing written: the check job sweeps the temps a killed run left.
                None => None,
            };
            let docker_host = cli.global.docker_host.clone();
            let check = prepared.check_job(&resolved, &presets, docker_host);
            let advanced = prepared.choice.inputs.advanced();
            // Only JSON shows the plan again: the text says what was written and checked,
            // so the plan (a big file's texts and changes) is given up before the check reads
            // the file again.
            let prepared = json.then_some(prepared);
            let checks = files::run_check(&check);
            if let Some(prepared) = prepared {
                let mut v = summary::plan_json(&prepared, &resolved, false);
                if let Some((outcome, checklist)) = &written {
                    v["written"] = serde_json::json!({
                        "config": outcome.written, "backup": outcome.backup, "env_file": outcome.env_file,
                        "via_symlink": outcome.via_symlink, "owned_by": outcome.owned_by, "tightened": outcome.tightened, "warnings": outcome.warnings,
                        "checklist": checklist,
                    });
                }
                v["checks"] = checks.to_json();
                println!("{}", pretty(&v));
            } else {
                let text = match &written {
                    Some((outcome, checklist)) => {
                        summary::after_write_text(outcome, checklist, &checks, advanced, &resolved)
                    }
                    None => {
                        summary::checks_text(summary::CHECKED_NOW, &checks, advanced, &resolved)
                    }
                };
                print!("{}", summary::paint(&text, summary::use_color()));
            }
            app::verdict(&checks)
        }
        Some(Command::Restore {
            backup,
            list,
            undo,
            yes,
            json,
        }) => {
            use crate::edge::restore;
            if list || (!undo && backup.is_none()) {
                let items = restore::list(&resolved);
                if json {
                    println!(
                        "{}",
                        pretty(&serde_json::to_value(&items).unwrap_or_default())
                    );
                } else {
                    print!("{}", restore::list_text(&items));
                }
                return Ok(());
            }
            if !yes {
                if !std::io::stdin().is_terminal() {
                    return Err(Failure::new(
                        Stop::Usage,
                        "no terminal to confirm on: pass --yes to undo without asking.",
                    ));
                }
                let question = match &backup {
                    Some(b) => format!("Replace the config with the backup {b}? [y/N] "),
                    None => "Undo clawposture's last write? [y/N] ".to_string(),
                };
                if !confirm(&question)? {
                    return Err(Failure::new(
                        Stop::Refused,
                        "nothing undone: not confirmed.",
                    ));
                }
            }
            let now = std::time::SystemTime::now();
            print!(
                "{}",
                match &backup {
                    Some(b) => restore::restore_backup(&resolved, b, now)?,
                    None => restore::undo(&resolved, now)?,
                }
            );
            Ok(())
        }
        Some(Command::Verify(mut args)) => {
            args.docker_host = cli.global.docker_host.clone();
            match crate::front::verify_args::run_verify(&args, &resolved, &presets)? {
                0 => Ok(()),
                // The report is printed already; only the exit code is left to give.
                code => Err(Failure {
                    code,
                    message: String::new(),
                }),
            }
        }
        Some(Command::Image(mut args)) => {
            args.docker_host = cli.global.docker_host.clone();
            crate::front::image_args::run(&args, &resolved)
        }
        None => crate::front::tui::start(&cli.global, &cli.wizard, presets, &resolved),
    }
}

/// Print what the step shows: the plan (or the refusal, in JSON). `plan` and `apply --dry-run`
/// show the same; apply adds what it wrote afterwards.
fn show(next: &Next, resolved: &Resolved, json: bool, dry_run: bool) {
    if json {
        let mut v = match next.prepared() {
            Some(p) => summary::plan_json(p, resolved, dry_run),
            None => summary::plan_json_empty(dry_run),
        };
        v["step"] = summary::step_json(next);
        if dry_run || next.prepared().is_none() || matches!(next, Next::Acknowledge { .. }) {
            println!("{}", pretty(&v));
        }
    } else if let Some(p) = next.prepared() {
        print!("{}", summary::plan_text(p, resolved));
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
        .map_err(|e| Failure::new(Stop::Usage, format!("cannot read the answer: {e}")))?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes"))
}

/// What the edges read for one decision of `plan` or `apply`.
struct Gathered {
    environment: Environment,
    detection: Option<Report>,
    original: Option<Vec<u8>>,
    token: TokenState,
    ledger: Option<Vec<u8>>,
}

impl Gathered {
    /// The config's text gathered (None: no file, or not UTF-8).
    fn current(&self, resolved: &Resolved) -> Option<String> {
        app::decode_config(&resolved.config, self.original.as_deref())
            .ok()
            .flatten()
    }

    /// The `Open today` line (nothing when the file is missing, unreadable or holds).
    fn say_open_today(&self, resolved: &Resolved) {
        let current = self.current(resolved);
        let open = app::open_today(
            current.as_deref(),
            self.ledger.as_deref(),
            &resolved.config,
            None,
        );
        if !open.is_empty() {
            println!("Open today: {}", open.join("; "));
        }
    }

    /// The decision of `plan` (what was gathered is kept, to say where the file stands).
    fn decide(
        &self,
        presets: &[Preset],
        answers: &Answers,
        resolved: &Resolved,
    ) -> Result<Next, Failure> {
        let facts = self.facts(resolved, self.original.as_deref().map(Cow::Borrowed));
        let (inputs, acks) = self.asked(answers, resolved)?;
        Ok(app::decide(
            &facts,
            presets,
            answers.threat.as_deref(),
            &inputs,
            acks,
        ))
    }

    /// The decision of `apply`: the config's bytes become the plan's text (not copied).
    fn decide_owned(
        mut self,
        presets: &[Preset],
        answers: &Answers,
        resolved: &Resolved,
    ) -> Result<Next, Failure> {
        let (inputs, acks) = self.asked(answers, resolved)?;
        let original = self.original.take().map(Cow::Owned);
        Ok(app::decide_owned(
            self.facts(resolved, original),
            presets,
            answers.threat.as_deref(),
            &inputs,
            acks,
        ))
    }

    fn facts<'a>(&'a self, resolved: &'a Resolved, original: Option<Cow<'a, [u8]>>) -> Facts<'a> {
        Facts {
            environment: &self.environment,
            detection: self.detection.as_ref(),
            original,
            token: self.token.clone(),
            config: &resolved.config,
            ledger: self.ledger.as_deref(),
        }
    }

    /// The answers given, and the acknowledgements. A re-run starts from the answers the last
    /// run left (the file, the ledger), as the wizard and --plain do: a pinned owner is not
    /// proposed away.
    fn asked(&self, answers: &Answers, resolved: &Resolved) -> Result<(Inputs, Acks), Failure> {
        let inputs = app::rerun_answers(
            self.current(resolved).as_deref(),
            self.ledger.as_deref(),
            &resolved.config,
            &inputs_from(answers)?,
        );
        let acks = Acks {
            boundary: answers.same_gateway,
            loosen: answers.allow_loosen,
        };
        Ok((inputs, acks))
    }
}

fn gather(answers: &Answers, global: &Global, resolved: &Resolved) -> Result<Gathered, Failure> {
    let (environment, detection) = environment_from(answers, global, resolved);
    Ok(Gathered {
        environment,
        detection,
        original: files::read_config(&resolved.config)?,
        token: files::token_state(&resolved.state_dir),
        ledger: files::read_ledger(&resolved.state_dir),
    })
}

/// The answers given as flags, parsed by the application layer.
pub fn inputs_from(answers: &Answers) -> Result<Inputs, Failure> {
    app::parse_ids(
        &app::RawAnswers {
            owner: answers.owner.as_deref(),
            groups: &answers.groups,
            members: &answers.members,
        },
        Inputs {
            accept_risk: answers.accept_risk,
            workspace_access: answers.workspace_access,
            sandbox_network: answers.sandbox_network,
            move_secrets: answers.move_secrets,
            ..Inputs::default()
        },
    )
}

/// The user the Gateway runs as: this process's ids, except as root on another user's state
/// dir, where it is that user (whose files are written, and whose uid the sandbox gets).
pub fn gateway_ids(resolved: &Resolved) -> (u32, u32) {
    crate::edge::ownership::gateway_ids(&resolved.config, &resolved.state_dir)
}

pub fn current_ids() -> (u32, u32) {
    // SAFETY: getuid/getgid cannot fail and touch no memory.
    unsafe { (libc::getuid(), libc::getgid()) }
}

pub fn detect_options(global: &Global, resolved: &Resolved) -> DetectOptions {
    let mut opts = DetectOptions::from_env(Some(resolved.config.clone()));
    opts.docker_host_flag = global.docker_host.clone();
    opts.state_dir = Some(resolved.state_dir.clone());
    opts
}

/// The engine taken as given without detection: `--engine none` (nothing to look for), or
/// `--engine X --no-detect`.
pub fn engine_override(answers: &Answers) -> Option<Option<Engine>> {
    answers
        .engine
        .map(|arg| Engine::parse_label(arg.label()).flatten())
        .filter(|e| e.is_none() || answers.no_detect)
}

/// The engine detection must find: `--engine X` without `--no-detect`.
pub fn wanted_engine(answers: &Answers) -> Option<Engine> {
    match engine_override(answers) {
        Some(_) => None,
        None => answers
            .engine
            .and_then(|arg| Engine::parse_label(arg.label()).flatten()),
    }
}

/// The environment from `--engine none` / `--no-detect`, or else from detection (whose report
/// comes back too; with `--engine X` it looks for X).
fn environment_from(
    answers: &Answers,
    global: &Global,
    resolved: &Resolved,
) -> (Environment, Option<Report>) {
    let (uid, gid) = gateway_ids(resolved);
    if let Some(engine) = engine_override(answers) {
        return (Environment { engine, uid, gid }, None);
    }
    let mut opts = detect_options(global, resolved);
    opts.want = wanted_engine(answers);
    let report = detect::detect(&opts);
    (
        Environment {
            engine: report.selected_engine(),
            uid,
            gid,
        },
        Some(report),
    )
}
