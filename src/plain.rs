//! `--plain`: the wizard's questions one line at a time (inquire), for screen readers, small or
//! dumb terminals, and whenever stdout is not a terminal. Same answers, same core
//! (`run::compose`), same write as the full-screen wizard and `apply`.
//!
//! Prompts and everything the user reads go to stderr (inquire draws there too); stdout gets
//! only the final summary, so `clawposture --plain > log` still shows the questions.

use std::fmt;

use inquire::{Confirm, InquireError, Select, Text};

use crate::choice::{ChannelId, Setting};
use crate::detect;
use crate::environment::Environment;
use crate::plan::{self, TokenState};
use crate::preset::Preset;
use crate::report;
use crate::run::{self, EXIT_ENVIRONMENT, EXIT_REFUSED, EXIT_USAGE, Facts, Failure, Prepared};
use crate::tui::EXIT_INTERRUPTED;
use crate::wizard::{Setup, text};
use crate::write;

fn asked(e: InquireError) -> Failure {
    match e {
        InquireError::OperationCanceled | InquireError::OperationInterrupted => Failure {
            code: EXIT_INTERRUPTED,
            message: "cancelled; nothing was written.".into(),
        },
        InquireError::NotTTY => Failure {
            code: EXIT_USAGE,
            message: crate::tui::NO_TTY.into(),
        },
        other => Failure {
            code: EXIT_USAGE,
            message: format!("cannot ask: {other}"),
        },
    }
}

/// One preset in the threat question.
struct Choice<'a>(usize, &'a Preset);

impl fmt::Display for Choice<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}. {}", self.0 + 1, self.1.title)
    }
}

/// An advanced value with its consequence, for a Select.
struct Option_<T>(T, &'static str, &'static str, bool);

impl<T> fmt::Display for Option_<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let preset = if self.3 { " (preset)" } else { "" };
        write!(f, "{}{preset}: {}", self.1, self.2)
    }
}

pub fn run(setup: Setup) -> Result<(), Failure> {
    let r = &setup.resolved;
    eprintln!("clawposture: line mode. Nothing is written until you confirm.");
    eprintln!(
        "Config: {} (chosen by {})\nState dir: {}\n",
        r.config.display(),
        r.config_source,
        r.state_dir.display()
    );
    let original = run::read_config(&r.config)?;
    let token = TokenState {
        env_file_has_token: write::env_file_has_token(&r.state_dir),
    };
    let (engine, report) = match setup.engine_override {
        Some(engine) => {
            eprintln!(
                "Container engine set with --engine: {} (detection skipped)\n",
                engine.map(|e| e.label()).unwrap_or("none")
            );
            (engine, None)
        }
        None => {
            eprintln!("Detecting container engines…");
            let report = detect::detect(&setup.detect);
            eprintln!("{}", detect::render_human(&report));
            (report.selected_engine(), Some(report))
        }
    };
    let environment = Environment {
        engine,
        uid: setup.uid,
        gid: setup.gid,
    };
    let presets = &setup.presets;
    let mut inputs = setup.inputs.clone();
    let current = run::decode_config(&r.config, original.as_deref())?;
    let recognized = current
        .as_deref()
        .and_then(|c| plan::recognize(c, &run::all_choices(presets, &environment, &inputs)));
    match (&current, &recognized) {
        (None, _) => eprintln!("Today: no config yet; the preset starts a new file.\n"),
        (_, Some(rec)) if rec.exact => {
            eprintln!(
                "Today: the file matches the {} preset exactly.\n",
                rec.preset
            )
        }
        (_, Some(rec)) => eprintln!(
            "Today: closest to the {} preset; drifted: {}\n",
            rec.preset,
            rec.drift.join(", ")
        ),
        (_, None) => eprintln!("Today: the file matches no preset.\n"),
    }

    let preset = match &setup.threat {
        Some(t) => run::find_preset(presets, Some(t))?,
        None => ask_threat(presets, recognized.as_ref().map(|r| r.preset.as_str()))?,
    };
    let facts = Facts {
        environment: &environment,
        detection: report.as_ref(),
        original: original.as_deref(),
        token,
        config: &r.config,
    };
    let mut prepared = match run::compose(preset, presets, &inputs, &facts) {
        Err(f) if f.code == EXIT_ENVIRONMENT && !inputs.accept_risk => {
            eprintln!("{}\n", f.message);
            let accept = Confirm::new("Accept the risk and write the variant without a sandbox?")
                .with_default(false)
                .with_help_message(text::ACCEPT_RISK_ON)
                .prompt()
                .map_err(asked)?;
            if !accept {
                return Err(f);
            }
            inputs.accept_risk = true;
            run::compose(preset, presets, &inputs, &facts)?
        }
        other => other?,
    };
    show_adjustments(&prepared);
    let advanced =
        Confirm::new("Change advanced settings (workspace access, sandbox network, owner)?")
            .with_default(false)
            .prompt()
            .map_err(asked)?;
    if advanced {
        ask_advanced(preset, &environment, &mut inputs)?;
        prepared = run::compose(preset, presets, &inputs, &facts)?;
    }

    print_plan(&prepared, &setup);
    if prepared.plan.is_noop() {
        println!(
            "Nothing to change: {} already holds this posture.",
            r.config.display()
        );
        let checks = prepared
            .check_job(r, presets, setup.detect.docker_host_flag.clone())
            .run();
        print!(
            "{}",
            report::checks_text(
                report::CHECKED_NOW,
                &checks,
                prepared.choice.inputs.advanced()
            )
        );
        return Ok(());
    }
    if !setup.same_gateway
        && let Some(why) =
            plan::boundary_conflict(prepared.current.as_deref(), &prepared.choice, &prepared.all)
    {
        eprintln!("{why}\n");
        let anyway = Confirm::new("Write to this same Gateway anyway?")
            .with_default(false)
            .prompt()
            .map_err(asked)?;
        if !anyway {
            return Err(Failure {
                code: EXIT_REFUSED,
                message: format!("refused: {why}"),
            });
        }
    }
    let yes = Confirm::new("Write these changes?")
        .with_default(false)
        .prompt()
        .map_err(asked)?;
    if !yes {
        return Err(Failure {
            code: EXIT_REFUSED,
            message: "nothing written: not confirmed.".into(),
        });
    }
    let (outcome, checklist) = prepared.write_job(r).run()?;
    let checks = prepared
        .check_job(r, presets, setup.detect.docker_host_flag.clone())
        .run();
    print!(
        "{}",
        report::after_write_text(
            &outcome,
            &checklist,
            &checks,
            prepared.choice.inputs.advanced()
        )
    );
    Ok(())
}

fn ask_threat<'a>(presets: &'a [Preset], today: Option<&str>) -> Result<&'a Preset, Failure> {
    eprintln!("Who should be able to reach your agent?");
    for (i, p) in presets.iter().enumerate() {
        eprintln!("  {}. {}", i + 1, p.title);
        match text::threat_description(&p.name) {
            Some((who, stranger)) => {
                eprintln!("     Who can reach it: {who}");
                eprintln!("     What a stranger could make it do: {stranger}");
            }
            None => eprintln!("     {}", p.summary),
        }
    }
    eprintln!();
    let options: Vec<Choice> = presets
        .iter()
        .enumerate()
        .map(|(i, p)| Choice(i, p))
        .collect();
    let start = today
        .and_then(|t| presets.iter().position(|p| p.name == t))
        .unwrap_or(0);
    let picked = Select::new("Threat model:", options)
        .with_starting_cursor(start)
        .prompt()
        .map_err(asked)?;
    Ok(picked.1)
}

fn show_adjustments(p: &Prepared) {
    eprintln!("\n{}", p.choice.preset.summary);
    for a in &p.choice.adjustments {
        eprintln!(
            "Adjusted for this machine: {} = {}\n  {}",
            a.key,
            a.value
                .as_ref()
                .map(|v| v.to_string())
                .unwrap_or_else(|| "(removed)".into()),
            a.why
        );
    }
    eprintln!();
}

/// Ask for one advanced setting, starting on the current answer (or the preset's value). The
/// result is an override only when it differs from the preset's value, so nothing extra is
/// written; a preset that does not set it is not asked about.
fn ask_setting<S: Setting>(
    prompt: &str,
    preset: &Preset,
    current: Option<S>,
) -> Result<Option<S>, Failure> {
    let Some(default) = S::preset_default(preset) else {
        return Ok(current);
    };
    let options: Vec<Option_<S>> = S::ALL
        .iter()
        .map(|&v| Option_(v, v.label(), v.consequence(), v == default))
        .collect();
    let start = S::ALL
        .iter()
        .position(|v| *v == current.unwrap_or(default))
        .unwrap_or(0);
    let picked = Select::new(prompt, options)
        .with_starting_cursor(start)
        .prompt()
        .map_err(asked)?;
    Ok((picked.0 != default).then_some(picked.0))
}

fn ask_advanced(
    preset: &Preset,
    environment: &Environment,
    inputs: &mut crate::choice::Inputs,
) -> Result<(), Failure> {
    if environment.engine.is_some() {
        inputs.workspace_access = ask_setting(
            "Workspace access for sandboxed runs:",
            preset,
            inputs.workspace_access,
        )?;
        inputs.sandbox_network = ask_setting("Sandbox network:", preset, inputs.sandbox_network)?;
    }
    let initial = inputs
        .owner
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    let owner = Text::new("Owner (CHANNEL:ID, empty for none):")
        .with_initial_value(&initial)
        .with_help_message(text::OWNER_CONSEQUENCE_SET)
        .with_validator(|s: &str| {
            Ok(if s.trim().is_empty() {
                inquire::validator::Validation::Valid
            } else {
                match ChannelId::parse(s.trim()) {
                    Ok(_) => inquire::validator::Validation::Valid,
                    Err(e) => inquire::validator::Validation::Invalid(e.into()),
                }
            })
        })
        .prompt()
        .map_err(asked)?;
    inputs.owner = match owner.trim() {
        "" => None,
        s => ChannelId::parse(s).ok(),
    };
    Ok(())
}

fn print_plan(p: &Prepared, setup: &Setup) {
    eprintln!(
        "{}",
        report::plan_text(&p.plan, &p.choice, &setup.resolved, p.recognized.as_ref())
    );
}
