//! `--plain`: the wizard's questions one line at a time (inquire), for screen readers, small or
//! dumb terminals, and whenever stdout is not a terminal. It asks and shows; the application
//! layer (`app::decide`) decides, in the same steps and order as `apply` and the wizard.
//!
//! Prompts and everything the user reads go to stderr (inquire draws there too); stdout gets
//! only the final summary, so `clawposture --plain > log` still shows the questions.

use std::fmt;

use inquire::{Confirm, InquireError, Select, Text};

use crate::app::{self, Ack, Acks, Facts, Next, Prepared, Today};
use crate::domain::choice::{ChannelId, Inputs, Setting};
use crate::domain::preset::Preset;
use crate::edge::{detect, files};
use crate::front::summary;
use crate::front::wizard::{Setup, text};
use crate::model::environment::Environment;
use crate::model::exit::{Failure, Stop};

fn asked(e: InquireError) -> Failure {
    match e {
        InquireError::OperationCanceled | InquireError::OperationInterrupted => {
            Failure::new(Stop::Interrupted, "cancelled; nothing was written.")
        }
        InquireError::NotTTY => Failure::new(Stop::Usage, crate::front::tui::NO_TTY),
        other => Failure::new(Stop::Usage, format!("cannot ask: {other}")),
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

fn yes_no(question: &str, help: Option<&str>) -> Result<bool, Failure> {
    let mut c = Confirm::new(question).with_default(false);
    if let Some(h) = help {
        c = c.with_help_message(h);
    }
    c.prompt().map_err(asked)
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
    let original = files::read_config(&r.config)?;
    let token = files::token_state(&r.state_dir);
    let ledger = files::read_ledger(&r.state_dir);
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
            offer_image_build(&report, setup.uid, setup.gid)?;
            (report.selected_engine(), Some(report))
        }
    };
    let environment = Environment {
        engine,
        uid: setup.uid,
        gid: setup.gid,
    };
    let presets = &setup.presets;
    let facts = Facts {
        environment: &environment,
        detection: report.as_ref(),
        original: original.as_deref().map(std::borrow::Cow::Borrowed),
        token,
        config: &r.config,
        ledger: ledger.as_deref(),
    };
    let today = app::today(&facts, presets, &setup.inputs);
    eprintln!("{}", summary::today_text(&today));
    let current_text = app::decode_config(&r.config, original.as_deref())
        .ok()
        .flatten();
    let recognized = match &today {
        Today::Matches(m) => Some(m.preset.as_str()),
        _ => None,
    };
    let open = app::open_today(
        current_text.as_deref(),
        ledger.as_deref(),
        &r.config,
        recognized,
    );
    if !open.is_empty() {
        eprintln!("Open today: {}", open.join("; "));
    }
    eprintln!();
    if let Today::Unreadable(why) = &today {
        return Err(Failure::new(Stop::Refused, why.clone()));
    }
    let current = app::decode_config(&r.config, original.as_deref())?;
    if let Some(line) = app::ledger_summary(ledger.as_deref(), &r.config, current.as_deref()) {
        eprintln!("Ledger: {line}\n");
    }
    let mut inputs = app::rerun_answers(
        current.as_deref(),
        ledger.as_deref(),
        &r.config,
        &setup.inputs,
    );
    let recognized = match &today {
        Today::Matches(rec) => Some(rec.preset.as_str()),
        _ => None,
    };
    let preset = match &setup.threat {
        Some(t) => app::find_preset(presets, Some(t))?,
        None => ask_threat(presets, recognized)?,
    };
    let mut acks = Acks {
        boundary: setup.same_gateway,
        loosen: false,
    };
    let decide = |inputs: &Inputs, acks: Acks| {
        app::decide(&facts, presets, Some(&preset.name), inputs, acks)
    };

    // Who may reach it: the owner, and for a group preset the chats and their members.
    ask_people(preset, &mut inputs)?;
    // The machine first: a preset it cannot hold is refused, or its risk accepted.
    let mut next = decide(&inputs, acks);
    if let Next::Acknowledge {
        ack: Ack::AcceptRisk { why },
        ..
    } = &next
    {
        eprintln!("{why}\n");
        if !yes_no(
            "Accept the risk and write the variant without a sandbox?",
            Some(text::ACCEPT_RISK_ON),
        )? {
            return Err(Failure::new(Stop::Environment, format!("refused: {why}")));
        }
        inputs.accept_risk = true;
        next = decide(&inputs, acks);
    }
    if let Some(p) = next.prepared() {
        show_adjustments(p);
        if yes_no(
            "Change advanced settings (workspace access, sandbox network)?",
            None,
        )? {
            ask_advanced(preset, &mut inputs)?;
            next = decide(&inputs, acks);
        }
    }
    if let Some(why) = next.prepared().and_then(app::secrets_offer) {
        eprintln!("{why}\n");
        if yes_no(
            "Move them into $STATE_DIR/.env?",
            Some(text::MOVE_SECRETS_HELP),
        )? {
            inputs.move_secrets = true;
            next = decide(&inputs, acks);
        }
    }
    if let Some(p) = next.prepared() {
        eprintln!("{}", summary::plan_text(p, r));
    }
    if let Next::Acknowledge {
        ack: Ack::Boundary { why },
        ..
    } = &next
    {
        eprintln!("{why}\n");
        if !yes_no("Write to this same Gateway anyway?", None)? {
            return Err(Failure::new(Stop::Refused, format!("refused: {why}")));
        }
        acks.boundary = true;
        next = decide(&inputs, acks);
    }
    if let Next::Acknowledge {
        ack: Ack::Loosen { why },
        ..
    } = &next
    {
        eprintln!("{why}\n");
        if !yes_no("Loosen these values anyway?", None)? {
            return Err(Failure::new(Stop::Refused, format!("refused: {why}")));
        }
        acks.loosen = true;
        next = decide(&inputs, acks);
    }
    let docker_host = setup.detect.docker_host_flag.clone();
    match next {
        Next::Refused(f) => Err(f),
        // Every acknowledgement was asked for above; one left means the answers changed it.
        Next::Acknowledge { ack, .. } => Err(ack.refusal()),
        Next::NothingToWrite(p) => {
            println!(
                "Nothing to change: {} already holds this posture.",
                r.config.display()
            );
            let checks = files::run_check(&p.check_job(r, presets, docker_host));
            print!(
                "{}",
                summary::checks_text(summary::CHECKED_NOW, &checks, p.choice.inputs.advanced(), r)
            );
            app::verdict(&checks)
        }
        Next::Write(mut p) => {
            if !yes_no("Write these changes?", None)? {
                return Err(Failure::new(
                    Stop::Refused,
                    "nothing written: not confirmed.",
                ));
            }
            // As `apply` does: the check after writing reads the file again.
            let job = p.take_write_job(r, setup.keep_backups);
            let (outcome, checklist) = files::run_write(&job)?;
            let checks = files::run_check(&p.check_job(r, presets, docker_host));
            print!(
                "{}",
                summary::after_write_text(
                    &outcome,
                    &checklist,
                    &checks,
                    p.choice.inputs.advanced(),
                    r
                )
            );
            app::verdict(&checks)
        }
    }
}

/// The selected engine lacks the sandbox image (OpenClaw never pulls or builds it): offer to
/// build it now, as `clawposture image build` does, with a line per build event.
fn offer_image_build(
    report: &crate::model::detection::Report,
    uid: u32,
    gid: u32,
) -> Result<(), Failure> {
    let Some((endpoint, tag)) = app::missing_image(report) else {
        return Ok(());
    };
    eprintln!(
        "The sandbox image {tag} is not on {endpoint}: OpenClaw never pulls or builds it, so every sandboxed turn fails until it is there."
    );
    if !yes_no(
        "Build it now (as `clawposture image build` does; the base image comes from a registry)?",
        None,
    )? {
        eprintln!("Not built: `clawposture image build` does it later.\n");
        return Ok(());
    }
    let mut progress = crate::domain::image::progress::Progress::default();
    let mut on = |e: &crate::domain::image::progress::Event| {
        progress.apply(e);
        eprintln!("  {}", progress.line(100));
    };
    match crate::edge::image::build::build_for(&endpoint, &tag, (uid, gid), (None, None), &mut on) {
        Ok(text) => eprintln!("{text}\n"),
        Err(e) => eprintln!("The image was not built: {e}\n"),
    }
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

fn ask_advanced(preset: &Preset, inputs: &mut Inputs) -> Result<(), Failure> {
    inputs.workspace_access = ask_setting(
        "Workspace access for sandboxed runs:",
        preset,
        inputs.workspace_access,
    )?;
    inputs.sandbox_network = ask_setting("Sandbox network:", preset, inputs.sandbox_network)?;
    Ok(())
}

/// A list of ids (owner: at most one), starting from the current answer.
fn ask_ids(prompt: &str, help: &str, initial: &str, one: bool) -> Result<Vec<ChannelId>, Failure> {
    let answer = Text::new(prompt)
        .with_initial_value(initial)
        .with_help_message(help)
        .with_validator(move |s: &str| {
            Ok(match app::parse_id_list(s) {
                Ok(ids) if one && ids.len() > 1 => {
                    inquire::validator::Validation::Invalid("one owner: a single CHANNEL:ID".into())
                }
                Ok(ids) if one => match ids.first().map(app::check_owner) {
                    Some(Err(e)) => inquire::validator::Validation::Invalid(e.into()),
                    _ => inquire::validator::Validation::Valid,
                },
                Ok(_) => inquire::validator::Validation::Valid,
                Err(e) => inquire::validator::Validation::Invalid(e.into()),
            })
        })
        .prompt()
        .map_err(asked)?;
    app::parse_id_list(&answer).map_err(|e| Failure::new(Stop::Usage, e))
}

fn ask_people(preset: &Preset, inputs: &mut Inputs) -> Result<(), Failure> {
    let owner = inputs
        .owner
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    let owner = ask_ids(
        "Owner (CHANNEL:ID, empty for none):",
        text::OWNER_CONSEQUENCE_SET,
        &owner,
        true,
    )?;
    inputs.owner = owner.into_iter().next();
    if let Some(o) = &inputs.owner {
        app::check_owner(o).map_err(|e| Failure::new(Stop::Usage, e))?;
    }
    if app::uses_groups(preset) {
        inputs.groups = ask_ids(
            "Group chats (CHANNEL:CHAT_ID, empty for none):",
            text::GROUPS_HELP,
            &app::id_list(&inputs.groups),
            false,
        )?;
        inputs.members = ask_ids(
            "Members who may trigger it (CHANNEL:ID, empty for none):",
            text::MEMBERS_HELP,
            &app::id_list(&inputs.members),
            false,
        )?;
    }
    Ok(())
}
