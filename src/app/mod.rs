//! The application layer: what the edges gathered and what the user answered go in, the next
//! step comes out. Pure, and the only place that decides: `plan`, `apply`, `--plain` and the
//! wizard all call [`decide`] and walk its steps in the same order, so they cannot disagree.
//!
//! The order (each step only when the ones before it passed):
//! 1. the config must be text (else refused, exit 4);
//! 2. the preset must exist (else usage, exit 2);
//! 3. the machine must be able to hold it: an engine the user named (`--docker-host`,
//!    `DOCKER_HOST`) must answer (else exit 3); a preset that needs an engine when none is usable
//!    asks to accept the risk when it has a locked-down variant, else is refused (exit 3);
//! 4. the plan (a parse error or an `$include` under an owned key is refused, exit 4);
//! 5. a plan that changes nothing needs nothing else: the file is checked, not written;
//! 6. opening DMs to strangers on a Gateway that already serves an owner needs an
//!    acknowledgement (`--same-gateway`, the wizard's `a`, `--plain`'s question; else exit 4);
//! 7. a change that loosens a value the user had (not one clawposture wrote) needs an
//!    acknowledgement (`--allow-loosen`, the wizard's `l`, `--plain`'s question; else exit 4);
//! 8. confirm and write.

pub mod gateway;
pub mod jobs;

use std::path::Path;

pub use jobs::{CheckJob, WriteJob};

/// The core's vocabulary that front ends speak (answers, presets, what a file holds): front
/// ends import it from here, never from the core itself.
pub mod vocabulary {
    pub use crate::domain::choice::{
        Advanced, ChannelId, Inputs, SandboxNetwork, Setting, WorkspaceAccess,
    };
    pub use crate::domain::image::progress::{Event as ImageEvent, Progress as ImageProgress};
    pub use crate::domain::plan::TokenState;
    pub use crate::domain::preset::{EngineNeed, Preset};
    pub use crate::domain::recognize::Recognition;
}

use crate::domain::choice::{self, ChannelId, Choice, Inputs};
use crate::domain::ledger;
use crate::domain::plan::{self, Plan, TokenState};
use crate::domain::preset::Preset;
use crate::domain::recognize::{self as recognition, Recognition};
use crate::model::checks::Report as Checks;
use crate::model::detection::Report as Detection;
use crate::model::environment::Environment;
use crate::model::exit::{Failure, Stop};
use crate::model::paths::Resolved;
use serde_json::Value;

/// Everything the edges read for one decision.
pub struct Facts<'a> {
    pub environment: &'a Environment,
    pub detection: Option<&'a Detection>,
    /// The config file's bytes (None: no file): borrowed, or given up to [`decide_owned`]
    /// (a big file's text is then not held twice).
    pub original: Option<std::borrow::Cow<'a, [u8]>>,
    pub token: TokenState,
    pub config: &'a Path,
    /// The ledger's bytes (`$STATE_DIR/clawposture-ledger.json`; None: no ledger).
    pub ledger: Option<&'a [u8]>,
}

/// The acknowledgements the user gave (flags, or answers to the front end's questions).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Acks {
    /// `--same-gateway`: turn a Gateway that serves an owner public anyway.
    pub boundary: bool,
    /// `--allow-loosen`: loosen values the user had.
    pub loosen: bool,
}

/// What must be acknowledged before the next step.
#[derive(Debug, Clone, PartialEq)]
pub enum Ack {
    /// No usable engine: the preset's locked-down variant without a sandbox, or nothing.
    AcceptRisk { why: String },
    /// Strangers would reach a Gateway that already serves an owner.
    Boundary { why: String },
    /// The plan loosens values the user had (not ones clawposture wrote).
    Loosen { why: String },
}

impl Ack {
    pub fn why(&self) -> &str {
        match self {
            Ack::AcceptRisk { why } | Ack::Boundary { why } | Ack::Loosen { why } => why,
        }
    }

    /// What a front end that cannot ask (apply, plan) stops with.
    pub fn refusal(&self) -> Failure {
        match self {
            Ack::AcceptRisk { why } => Failure::new(
                Stop::Environment,
                format!("refused: {why} (--accept-risk accepts it)"),
            ),
            Ack::Boundary { why } => Failure::new(
                Stop::Refused,
                format!("refused: {why} (--same-gateway acknowledges it)"),
            ),
            Ack::Loosen { why } => Failure::new(
                Stop::Refused,
                format!("refused: {why} (--allow-loosen with --yes acknowledges it)"),
            ),
        }
    }
}

/// The next step, the same for every front end.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// Stop here (the failure knows its exit code).
    Refused(Failure),
    /// Ask first; the plan is there when one could be made (to show it meanwhile).
    Acknowledge {
        ack: Ack,
        prepared: Option<Box<Prepared>>,
    },
    /// The file already holds the posture: check it, write nothing.
    NothingToWrite(Box<Prepared>),
    /// Show the plan, confirm, write.
    Write(Box<Prepared>),
}

impl Next {
    pub fn prepared(&self) -> Option<&Prepared> {
        match self {
            Next::Refused(_) => None,
            Next::Acknowledge { prepared, .. } => prepared.as_deref(),
            Next::NothingToWrite(p) | Next::Write(p) => Some(p),
        }
    }

    /// The step as a front end that cannot ask sees it: the plan to write (or to check), or
    /// the failure to stop with.
    pub fn without_asking(self) -> Result<(Box<Prepared>, bool), Failure> {
        match self {
            Next::Refused(f) => Err(f),
            Next::Acknowledge { ack, .. } => Err(ack.refusal()),
            Next::NothingToWrite(p) => Ok((p, false)),
            Next::Write(p) => Ok((p, true)),
        }
    }
}

/// A plan, and everything a front end shows and writes with it.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    /// A file was read (its text is the plan's `old_text`: one copy of a big file, not three).
    pub file_read: bool,
    /// What is open today in the file as read, judged before the plan used its value up (see
    /// [`open_today_with`]).
    pub open_today: Vec<String>,
    pub choice: Choice,
    pub all: Vec<Choice>,
    pub plan: Plan,
    pub recognized: Option<Recognition>,
    pub detection: Option<Detection>,
    /// The ledger as read (what clawposture wrote before).
    pub ledger: ledger::Loaded,
    /// What the Gateway will use, as the plan says it first.
    pub gateway: gateway::View,
    /// The preset's policy file for OpenClaw's Policy plugin (None: the preset has none).
    pub policy: Option<crate::domain::policy::Write>,
}

/// Decide the next step (pure).
pub fn decide(
    facts: &Facts,
    presets: &[Preset],
    threat: Option<&str>,
    inputs: &Inputs,
    acks: Acks,
) -> Next {
    let current = decode(facts.config, facts.original.clone());
    decide_read(facts, current, presets, threat, inputs, acks)
}

/// [`decide`], the config's bytes given up: they become the plan's text without a copy.
pub fn decide_owned(
    mut facts: Facts,
    presets: &[Preset],
    threat: Option<&str>,
    inputs: &Inputs,
    acks: Acks,
) -> Next {
    let current = decode(facts.config, facts.original.take());
    decide_read(&facts, current, presets, threat, inputs, acks)
}

/// [`decide`] on the config's text, decoded (None: no file).
fn decide_read(
    facts: &Facts,
    current: Result<Option<String>, Failure>,
    presets: &[Preset],
    threat: Option<&str>,
    inputs: &Inputs,
    acks: Acks,
) -> Next {
    let current = match current {
        Ok(current) => current,
        Err(f) => return Next::Refused(f),
    };
    match prepare(facts, current, presets, threat, inputs) {
        Err(Prep::Refused(f)) => Next::Refused(f),
        Err(Prep::AcceptRisk(why)) => Next::Acknowledge {
            ack: Ack::AcceptRisk { why },
            prepared: None,
        },
        Ok(p) if p.writes_nothing() => Next::NothingToWrite(Box::new(p)),
        Ok(p) => match boundary(&p, acks) {
            Some(why) => Next::Acknowledge {
                ack: Ack::Boundary { why },
                prepared: Some(Box::new(p)),
            },
            None => match loosening(&p, acks) {
                Some(why) => Next::Acknowledge {
                    ack: Ack::Loosen { why },
                    prepared: Some(Box::new(p)),
                },
                None => Next::Write(Box::new(p)),
            },
        },
    }
}

enum Prep {
    Refused(Failure),
    AcceptRisk(String),
}

fn prepare(
    facts: &Facts,
    current: Option<String>,
    presets: &[Preset],
    threat: Option<&str>,
    inputs: &Inputs,
) -> Result<Prepared, Prep> {
    let preset = find_preset(presets, threat).map_err(Prep::Refused)?;
    // The file is read once here; every step below shares the value.
    let mut read = current
        .as_deref()
        .and_then(|c| crate::domain::document::parse_value(c).ok());
    // Every id names a channel OpenClaw knows (or one this config configures itself).
    let in_config = read.as_ref().map(plan::channels_in).unwrap_or_default();
    for id in inputs
        .owner
        .iter()
        .chain(&inputs.groups)
        .chain(&inputs.members)
    {
        if let Some(why) = crate::domain::channels::unknown(&id.channel, &in_config) {
            return Err(Prep::Refused(Failure::new(Stop::Usage, why)));
        }
    }
    // An engine the user named must answer: never silently plan for another (or none).
    if let Some(f) = facts.detection.and_then(gateway::named_unready) {
        return Err(Prep::Refused(f));
    }
    let mut chosen = match choice::choose(preset, facts.environment, inputs) {
        Ok(c) => c,
        // A locked-down variant exists: the user may accept the risk (flag or question).
        Err(r) if preset.no_engine.is_some() && !inputs.accept_risk => {
            return Err(Prep::AcceptRisk(r.to_string()));
        }
        Err(r) => {
            return Err(Prep::Refused(Failure::new(
                Stop::Environment,
                format!("refused: {r}"),
            )));
        }
    };
    if let Some(report) = facts.detection {
        chosen.notes.extend(detection_notes(report));
    }
    let all = all_choices(presets, facts.environment, &chosen.inputs);
    let loaded = ledger::parse(facts.ledger);
    if let Some(problem) = loaded.problem() {
        chosen.notes.push(problem);
    }
    let owned = owned_today(&loaded, read.as_ref(), facts.config);
    let policy_file = &facts.token.policy_file;
    chosen.policy_path =
        (!policy_file.path.as_os_str().is_empty()).then(|| policy_file.path.display().to_string());
    // What the file holds today, recognised before the plan is made: the two never hold their
    // copies of a big file's value at the same time.
    let recognized = current.as_deref().zip(read.as_mut()).and_then(|(c, v)| {
        recognition::recognize_read(
            c,
            v,
            presets,
            &[*facts.environment],
            None,
            inputs.advanced(),
        )
        .map(|r| r.summary())
    });
    let open_today = open_today_with(
        read.as_ref(),
        &loaded,
        facts.config,
        recognized.as_ref().map(|r| r.preset.as_str()),
    );
    // The text read is the plan's now (its `old_text`): `Prepared::current` reads it there.
    let file_read = current.is_some();
    let mut plan =
        plan::plan_owned(current, read, &chosen, &owned, facts.token.clone()).map_err(|e| {
            Prep::Refused(Failure::new(
                Stop::Refused,
                format!("{}:{e}", facts.config.display()),
            ))
        })?;
    // What the plan could not own (an agent a binding routes outsiders to) is refused.
    if let Some(why) = crate::domain::invariant_fixes::refused(&plan, &chosen) {
        return Err(Prep::Refused(Failure::new(
            Stop::Refused,
            format!("{}: {why}", facts.config.display()),
        )));
    }
    // The Gateway service reaches its engine through `$STATE_DIR/.env`, not this shell.
    let gateway = gateway::View::new(facts.detection, facts.token.docker_host.as_deref());
    plan.env_docker_host = gateway.env_docker_host.clone();
    // A policy file of the user's is kept with the preset's rules merged in as a floor; one that
    // cannot be judged is refused (exit 4, nothing written). The plan's new value is what its
    // new text reads as (the plan checked it).
    let policy = crate::domain::policy::plan(
        &chosen.preset.name,
        &plan.new_value,
        policy_file,
        loaded
            .ledger()
            .and_then(|l| l.policy_sha256(&policy_file.path.display().to_string())),
    )
    .map_err(|e| Prep::Refused(Failure::new(Stop::Refused, format!("refused: {e}"))))?;
    Ok(Prepared {
        policy,
        file_read,
        open_today,
        choice: chosen,
        all,
        plan,
        recognized,
        detection: facts.detection.cloned(),
        ledger: loaded,
        gateway,
    })
}

/// What clawposture owns in the file today: nothing without a ledger it can trust.
fn owned_today(loaded: &ledger::Loaded, read: Option<&Value>, config: &Path) -> ledger::Owned {
    match (loaded.ledger(), read) {
        (Some(l), Some(value)) => ledger::owned(&l.of_config(&config.display().to_string()), value),
        _ => ledger::Owned::default(),
    }
}

/// What happens to the preset's policy file, in words (None: the preset has none).
pub fn policy_line(p: &Prepared) -> Option<String> {
    let w = p.policy.as_ref()?;
    let what = match w.action {
        crate::domain::policy::Action::Create => "new file",
        crate::domain::policy::Action::Replace => "replaced (clawposture wrote it last)",
        crate::domain::policy::Action::Keep if w.notes.is_empty() => {
            "unchanged: it holds the preset's rules"
        }
        crate::domain::policy::Action::Keep => {
            "unchanged: yours, at least as strict as the preset's on every rule"
        }
        crate::domain::policy::Action::Merge => {
            "yours, kept: the preset's rules merged in as a floor, your stricter rules stay"
        }
    };
    let mut line = format!(
        "Policy {} ({what}): the preset's rules for OpenClaw's Policy plugin, checked by `openclaw policy check` and `openclaw doctor --lint`.",
        w.path.display()
    );
    for n in &w.notes {
        line.push_str(&format!("\n  policy {n}"));
    }
    Some(line)
}

/// Why the plan needs `--allow-loosen`: it loosens values the user had (None: it does not,
/// or `acks` says so already). Front ends that show the acknowledgement beside another ask it.
pub fn loosening(p: &Prepared, acks: Acks) -> Option<String> {
    if acks.loosen {
        return None;
    }
    let keys: Vec<String> = p
        .plan
        .user_loosenings()
        .iter()
        .map(|c| {
            let show = |v: &Option<serde_json::Value>| {
                v.as_ref()
                    .map_or("(absent)".to_string(), |v| p.plan.mask(&v.to_string()))
            };
            format!("`{}` {} -> {}", c.key, show(&c.before), show(&c.after))
        })
        .collect();
    (!keys.is_empty()).then(|| format!("this loosens values you set yourself: {}", keys.join(", ")))
}

/// The question every front end asks when the config holds literal channel secrets and the
/// user has not said yes (`--move-secrets`): what could move, and where (None: nothing to ask).
/// Without a yes nothing moves; the default answer is no.
pub fn secrets_offer(p: &Prepared) -> Option<String> {
    let movable = &p.plan.secret_moves.movable;
    (!p.choice.inputs.move_secrets && !movable.is_empty()).then(|| {
        format!(
            "The config holds {} literal channel secret(s) ({}): they can move into $STATE_DIR/.env (mode 0600), the config then referring to each by name (never shown).",
            movable.len(),
            movable.join(", ")
        )
    })
}

fn boundary(p: &Prepared, acks: Acks) -> Option<String> {
    if acks.boundary {
        return None;
    }
    plan::boundary_conflict(p.current(), &p.choice, p.recognized.as_ref())
}

/// Whether the preset can ask to accept the risk on a machine without an engine.
pub fn risk_acceptable(preset: &Preset) -> bool {
    preset.no_engine.is_some()
}

/// Which preset the file holds today, for this machine's engine, with the answers it was
/// written with read back from the file (the same recognizer `verify` uses).
pub fn recognize(
    current: &str,
    presets: &[Preset],
    environment: &Environment,
    inputs: &Inputs,
) -> Option<Recognition> {
    recognition::recognize(current, presets, &[*environment], None, inputs.advanced())
        .map(|r| r.summary())
}

/// Every answer the user has not given, taken back from what the last run left: first what
/// the file shows (owner, group chats, members), then the ledger (advanced settings too). Every
/// front end starts a re-run from these, so accepting the defaults never loosens.
pub fn rerun_answers(
    current: Option<&str>,
    ledger: Option<&[u8]>,
    config: &Path,
    given: &Inputs,
) -> Inputs {
    remembered_from_ledger(ledger, config, remembered(current, given))
}

/// The answers the file was written with (owner, group chats, members), for every answer the
/// user has not given: a re-run starts from them, so accepting the defaults never loosens.
pub fn remembered(current: Option<&str>, given: &Inputs) -> Inputs {
    let Some(value) = current.and_then(|c| crate::domain::document::parse_value(c).ok()) else {
        return given.clone();
    };
    let file = recognition::infer_inputs(&value);
    Inputs {
        owner: given.owner.clone().or(file.owner),
        groups: if given.groups.is_empty() {
            file.groups
        } else {
            given.groups.clone()
        },
        members: if given.members.is_empty() {
            file.members
        } else {
            given.members.clone()
        },
        ..given.clone()
    }
}

/// The answers the last write to this config was made with, from the ledger, for every answer
/// not given yet (after [`remembered`], which reads what the file shows): a deliberate advanced
/// setting comes back on a re-run instead of being proposed away.
pub fn remembered_from_ledger(ledger: Option<&[u8]>, config: &Path, given: Inputs) -> Inputs {
    use crate::domain::choice::{SandboxNetwork, Setting, WorkspaceAccess};
    let loaded = ledger::parse(ledger);
    let Some(a) = loaded
        .ledger()
        .and_then(|l| l.last_answers(&config.display().to_string()))
    else {
        return given;
    };
    let ids = |v: &[String]| -> Vec<ChannelId> {
        v.iter().filter_map(|s| ChannelId::parse(s).ok()).collect()
    };
    Inputs {
        owner: given
            .owner
            .clone()
            .or_else(|| a.owner.as_deref().and_then(|o| ChannelId::parse(o).ok())),
        groups: if given.groups.is_empty() {
            ids(&a.groups)
        } else {
            given.groups.clone()
        },
        members: if given.members.is_empty() {
            ids(&a.members)
        } else {
            given.members.clone()
        },
        workspace_access: given.workspace_access.or_else(|| {
            a.workspace_access
                .as_deref()
                .and_then(|w| WorkspaceAccess::parse(w).ok())
        }),
        sandbox_network: given.sandbox_network.or_else(|| {
            a.sandbox_network
                .as_deref()
                .and_then(|n| SandboxNetwork::parse(n).ok())
        }),
        ..given
    }
}

/// What the ledger knows of this config, in one line (Welcome, `--plain`): "public preset,
/// written 2026-11-30 for rootless Docker; 1 key changed by hand since". None without a ledger
/// or a write to this config in it.
pub fn ledger_summary(
    ledger: Option<&[u8]>,
    config: &Path,
    current: Option<&str>,
) -> Option<String> {
    let loaded = ledger::parse(ledger);
    if let Some(problem) = loaded.problem() {
        return Some(problem);
    }
    let here = config.display().to_string();
    let last = loaded
        .ledger()?
        .writes
        .iter()
        .rfind(|w| w.config.as_deref().is_none_or(|c| c == here))?;
    let date = match (last.at.get(0..4), last.at.get(4..6), last.at.get(6..8)) {
        (Some(y), Some(m), Some(d)) => format!("{y}-{m}-{d}"),
        _ => last.at.clone(),
    };
    let engine = match last.engine.as_deref() {
        Some("docker") => "Docker",
        Some("docker-rootless") => "rootless Docker",
        Some("podman") => "Podman",
        Some("podman-rootless") => "rootless Podman",
        _ => "no container engine",
    };
    let value = current.and_then(|c| crate::domain::document::parse_value(c).ok());
    let changed = match &value {
        Some(v) => match ledger::edited_since(last, v).len() {
            0 => "nothing changed by hand since".to_string(),
            1 => "1 key changed by hand since".to_string(),
            n => format!("{n} keys changed by hand since"),
        },
        None => "the file is gone or unreadable since".to_string(),
    };
    Some(format!(
        "{} preset, written {date} for {engine}; {changed}",
        last.preset
    ))
}

/// Where the file stands today, before any question (Welcome, `--plain`, `plan`).
#[derive(Debug, Clone, PartialEq)]
pub enum Today {
    NoFile,
    /// The file cannot be read as OpenClaw's JSON5 (the message says where).
    Unreadable(String),
    Matches(Recognition),
    NoPreset,
}

/// Judge the current file without any answer (pure).
pub fn today(facts: &Facts, presets: &[Preset], inputs: &Inputs) -> Today {
    if let Some(why) = unreadable(facts.config, facts.original.as_deref()) {
        return Today::Unreadable(why);
    }
    let Ok(Some(current)) = decode_config(facts.config, facts.original.as_deref()) else {
        return Today::NoFile;
    };
    match recognize(&current, presets, facts.environment, inputs) {
        Some(r) => Today::Matches(r),
        None => Today::NoPreset,
    }
}

/// What the current file leaves open, before any question (empty: no file, or the threat
/// model holds): the invariants of the threat verify would judge it against — the one it was
/// last applied with (the ledger), else the preset it is recognised as (`recognized`), else the
/// private one. `ledger`: the ledger's bytes.
pub fn open_today(
    current: Option<&str>,
    ledger: Option<&[u8]>,
    config: &Path,
    recognized: Option<&str>,
) -> Vec<String> {
    let value = current.and_then(|c| crate::domain::document::parse_value(c).ok());
    open_today_with(value.as_ref(), &ledger::parse(ledger), config, recognized)
}

/// [`open_today`] with the file's value and the ledger already read.
pub fn open_today_with(
    value: Option<&Value>,
    ledger: &ledger::Loaded,
    config: &Path,
    recognized: Option<&str>,
) -> Vec<String> {
    let threat_of = |p: &str| matches!(p, "private" | "group" | "public");
    let Some(value) = value else {
        return Vec::new();
    };
    let here = config.display().to_string();
    let last = ledger.ledger().and_then(|l| {
        l.writes
            .iter()
            .rfind(|w| w.config.as_deref().is_none_or(|c| c == here))
    });
    let (threat, engine, waived) = match last {
        Some(w) if threat_of(&w.preset) => {
            let mut waived = Vec::new();
            if w.answers.workspace_access.is_some() {
                waived.push("sandbox.workspaceAccess".to_string());
            }
            if w.answers.sandbox_network.is_some() {
                waived.push("sandbox.docker.network".to_string());
            }
            let engine = w.engine.as_deref().is_some_and(|e| e != "none");
            (w.preset.as_str(), engine, waived)
        }
        // The file's own sandbox says whether an engine runs it; nothing says otherwise:
        // judge the sandbox too (never a silent pass).
        _ => (
            recognized
                .filter(|p| threat_of(p))
                .unwrap_or(crate::domain::exposure::BEFORE_CHOOSING),
            true,
            Vec::new(),
        ),
    };
    crate::domain::exposure::open_today(value, threat, engine, &waived)
}

/// Why the config cannot be planned against at all (not text, or not JSON5 OpenClaw reads),
/// known before the engine is: None for a readable file or no file.
pub fn unreadable(config: &Path, original: Option<&[u8]>) -> Option<String> {
    match decode_config(config, original) {
        Err(f) => Some(f.message),
        Ok(None) => None,
        Ok(Some(text)) => crate::domain::document::parse_value(&text)
            .err()
            .map(|e| format!("{}:{e}", config.display())),
    }
}

/// The selected engine's missing sandbox image: (endpoint, image name).
pub fn missing_image(r: &Detection) -> Option<(String, String)> {
    let e = r.engines.get(r.selected.index?)?;
    let img = e.sandbox_image.as_ref()?;
    (img.present == Some(false)).then(|| (e.endpoint.clone(), img.name.clone()))
}

/// What the check after a write (or a no-op) means for the exit code: NOT OK is exit 1.
pub fn verdict(checks: &Checks) -> Result<(), Failure> {
    match checks.exit_code() {
        0 => Ok(()),
        _ => Err(Failure::new(
            Stop::ChecksFailed,
            "the check right after writing says NOT OK (see the FAIL lines above).",
        )),
    }
}

/// The preset named by `--threat` (or the wizard's answer).
pub fn find_preset<'a>(presets: &'a [Preset], threat: Option<&str>) -> Result<&'a Preset, Failure> {
    let names = || {
        presets
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join("|")
    };
    let threat = threat.ok_or_else(|| {
        Failure::new(
            Stop::Usage,
            format!("missing answer: pass --threat {}.", names()),
        )
    })?;
    presets.iter().find(|p| p.name == threat).ok_or_else(|| {
        Failure::new(
            Stop::Usage,
            format!("no preset named `{threat}`; `clawposture presets` lists them."),
        )
    })
}

/// The answers given as text (flags, prompts, fields), parsed once for every front end.
#[derive(Debug, Clone, Default)]
pub struct RawAnswers<'a> {
    pub owner: Option<&'a str>,
    pub groups: &'a [String],
    pub members: &'a [String],
}

pub fn parse_ids(raw: &RawAnswers, base: Inputs) -> Result<Inputs, Failure> {
    let parse = |s: &str| ChannelId::parse(s).map_err(|m| Failure::new(Stop::Usage, m));
    let owner = raw.owner.map(parse).transpose()?;
    if let Some(o) = &owner {
        check_owner(o).map_err(|m| Failure::new(Stop::Usage, m))?;
    }
    Ok(Inputs {
        owner,
        groups: raw
            .groups
            .iter()
            .map(|s| parse(s))
            .collect::<Result<_, _>>()?,
        members: raw
            .members
            .iter()
            .map(|s| parse(s))
            .collect::<Result<_, _>>()?,
        ..base
    })
}

/// An owner is one person: a wildcard would make every sender the owner.
pub fn check_owner(owner: &ChannelId) -> Result<(), String> {
    if owner.id.contains('*') {
        return Err(format!(
            "`{owner}` is a wildcard: an owner is one person's id (a wildcard would make every sender the owner)."
        ));
    }
    Ok(())
}

/// A list of ids as typed in a field or prompt: `telegram:1, telegram:2` (commas or spaces).
pub fn parse_id_list(text: &str) -> Result<Vec<ChannelId>, String> {
    text.split([',', ' ', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(ChannelId::parse)
        .collect()
}

/// The ids as a field shows them (the inverse of [`parse_id_list`]).
pub fn id_list(ids: &[ChannelId]) -> String {
    ids.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether the preset routes named group chats (and so asks for them and their members).
pub fn uses_groups(preset: &Preset) -> bool {
    !preset.group_chat.is_empty()
}

/// Every preset as it would be chosen here: what recognition and pruning compare against.
pub fn all_choices(
    presets: &[Preset],
    environment: &Environment,
    inputs: &std::sync::Arc<Inputs>,
) -> Vec<Choice> {
    presets
        .iter()
        .map(|p| choice::adjust_shared(p, environment, inputs))
        .collect()
}

/// The config's bytes as text; a file that is not UTF-8 is refused, never guessed at.
pub fn decode_config(config: &Path, original: Option<&[u8]>) -> Result<Option<String>, Failure> {
    decode(config, original.map(std::borrow::Cow::Borrowed))
}

/// [`decode_config`] of bytes borrowed (copied) or given up (decoded in place).
fn decode(
    config: &Path,
    original: Option<std::borrow::Cow<[u8]>>,
) -> Result<Option<String>, Failure> {
    original
        .map(|bytes| {
            String::from_utf8(bytes.into_owned()).map_err(|_| {
                Failure::new(
                    Stop::Refused,
                    format!(
                        "{} is not UTF-8 text; nothing was written.",
                        config.display()
                    ),
                )
            })
        })
        .transpose()
}

/// What detection adds to the plan's notes: which engine and why (the reason already says
/// which DOCKER_HOST the Gateway's service environment needs), and a missing sandbox image.
pub fn detection_notes(report: &Detection) -> Vec<String> {
    let mut notes = vec![format!("Container engine: {}", report.selected.reason)];
    if let Some(e) = report.selected.index.and_then(|i| report.engines.get(i))
        && let Some(image) = e
            .sandbox_image
            .as_ref()
            .filter(|i| i.present == Some(false))
    {
        notes.push(format!(
            "The sandbox image {} is not on this engine yet: OpenClaw never pulls or builds it, so sandboxed turns fail until you build it: clawposture image build",
            image.name
        ));
    }
    notes
}

/// A write job drawn without the plan's texts ([`Prepared::take_write_job_untexted`]): it can
/// only be written once they are moved in.
pub struct Untexted(WriteJob);

impl Untexted {
    /// The job, the plan's texts moved into it (the plan holds none until
    /// [`Prepared::texts_back`]).
    pub fn texts_from(self, p: &mut Prepared) -> WriteJob {
        let mut job = self.0;
        let old = std::mem::take(&mut p.plan.old_text);
        job.original = p.file_read.then(|| old.into_bytes());
        job.new_text = std::mem::take(&mut p.plan.new_text);
        job
    }
}

impl Prepared {
    /// The config text read (None: no file): what the plan started from.
    pub fn current(&self) -> Option<&str> {
        self.file_read.then_some(self.plan.old_text.as_str())
    }

    /// The config's bytes as read (None: no file): the text, which is exactly those bytes
    /// (anything but UTF-8 is refused before a plan is made).
    pub fn original(&self) -> Option<&[u8]> {
        self.current().map(str::as_bytes)
    }

    /// The file already holds the posture and the policy file its rules: nothing to write.
    pub fn writes_nothing(&self) -> bool {
        self.plan.is_noop() && !self.policy.as_ref().is_some_and(|w| w.writes())
    }

    /// What to check right after writing this plan: the engine detection chose (or
    /// `--docker-host`), and the answers it was written with.
    pub fn check_job(
        &self,
        resolved: &Resolved,
        presets: &[Preset],
        docker_host: Option<String>,
    ) -> CheckJob {
        let selected = self
            .detection
            .as_ref()
            .and_then(|r| r.selected.index.and_then(|i| r.engines.get(i)));
        let endpoint_source = selected.map(|e| format!("detected: {}", e.source.label()));
        let endpoint = selected.map(|e| e.endpoint.clone()).or(docker_host);
        CheckJob {
            endpoint_source,
            resolved: resolved.clone(),
            preset: self.choice.preset.name.clone(),
            presets: presets.to_vec(),
            engine: self.choice.environment.engine,
            endpoint,
            advanced: self.choice.inputs.advanced(),
            sweep_stale: self.writes_nothing(),
        }
    }

    /// What writing this plan means, at the resolved paths, keeping `keep_backups` backups
    /// besides the first.
    pub fn write_job(&self, resolved: &Resolved, keep_backups: usize) -> WriteJob {
        let checklist = self.checklist(resolved);
        self.write_job_with(
            resolved,
            keep_backups,
            self.plan.ledger_keys(),
            checklist,
            true,
        )
    }

    /// [`Prepared::write_job`], then [`Prepared::forget_values`]: the ledger keys move into
    /// the job instead of being copied (a big file's are several times the file).
    pub fn take_write_job(&mut self, resolved: &Resolved, keep_backups: usize) -> WriteJob {
        self.take_write_job_with(resolved, keep_backups, true)
    }

    /// [`Prepared::take_write_job`] without the texts, for a front end that shows the plan
    /// after drawing the job: [`Untexted::texts_from`] moves them in once shown, and
    /// [`Prepared::texts_back`] gives them back after the write (a big file's texts are not
    /// held twice).
    pub fn take_write_job_untexted(
        &mut self,
        resolved: &Resolved,
        keep_backups: usize,
    ) -> Untexted {
        Untexted(self.take_write_job_with(resolved, keep_backups, false))
    }

    fn take_write_job_with(
        &mut self,
        resolved: &Resolved,
        keep_backups: usize,
        texts: bool,
    ) -> WriteJob {
        // The checklist reads the new value: drawn before its leaves move into the keys.
        let checklist = self.checklist(resolved);
        let keys = self.plan.take_ledger_keys();
        let job = self.write_job_with(resolved, keep_backups, keys, checklist, texts);
        self.forget_values();
        job
    }

    /// The texts a write job moved out ([`Untexted::texts_from`]) back in the plan.
    pub fn texts_back(&mut self, job: WriteJob) {
        if let Some(bytes) = job.original {
            self.plan.old_text = String::from_utf8(bytes)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        }
        self.plan.new_text = job.new_text;
    }

    fn write_job_with(
        &self,
        resolved: &Resolved,
        keep_backups: usize,
        keys: Vec<ledger::KeyChange>,
        checklist: crate::domain::checklist::Context,
        texts: bool,
    ) -> WriteJob {
        WriteJob {
            keep_backups,
            config: resolved.config.clone(),
            original: texts.then(|| self.original().map(<[u8]>::to_vec)).flatten(),
            new_text: match texts {
                true => self.plan.new_text.clone(),
                false => String::new(),
            },
            state_dir: resolved.state_dir.clone(),
            env_file: self.plan.env_file.clone(),
            env_docker_host: self.plan.env_docker_host.clone(),
            env_secrets: self.plan.secret_moves.env.clone(),
            checklist,
            ledger: self.pending_ledger_with(resolved, keys),
            policy: self
                .policy
                .as_ref()
                .filter(|w| w.writes())
                .map(|w| (w.path.clone(), w.seen.clone(), w.text.clone())),
        }
    }

    /// Drop the file's new value and the ledger keys (each up to several times a big file)
    /// once the write job is drawn: the check after writing reads the file again. The plan's
    /// `new_value` and `ledger_keys` are not asked after this.
    pub fn forget_values(&mut self) {
        self.plan.forget_values();
    }

    /// The ledger to write with this plan (None: a newer clawposture's ledger, left alone).
    pub fn pending_ledger(
        &self,
        resolved: &Resolved,
    ) -> Option<(std::path::PathBuf, ledger::Pending)> {
        self.pending_ledger_with(resolved, self.plan.ledger_keys())
    }

    /// [`Prepared::pending_ledger`] with the plan's ledger keys given (moved or copied).
    fn pending_ledger_with(
        &self,
        resolved: &Resolved,
        keys: Vec<ledger::KeyChange>,
    ) -> Option<(std::path::PathBuf, ledger::Pending)> {
        let base = match &self.ledger {
            ledger::Loaded::Future(_) => return None,
            ledger::Loaded::Ok(l) => l.clone(),
            ledger::Loaded::Missing | ledger::Loaded::Corrupt(_) => ledger::Ledger::default(),
        };
        let mut pending = ledger::Pending::new(
            base,
            "apply",
            &self.choice.preset.name,
            self.choice
                .environment
                .engine
                .map(|e| e.label().to_string()),
            ledger::Answers::from_inputs(&self.choice.inputs, resolved.profile.as_deref()),
            // Diffed from the value read to what the new text reads as (the plan checked it).
            keys,
            &self.plan.new_text,
        );
        pending.write.config = Some(resolved.config.display().to_string());
        pending.write.policy = self.policy.as_ref().map(|w| ledger::PolicyRecord {
            path: w.path.display().to_string(),
            sha256: w.sha256(),
        });
        Some((resolved.state_dir.join(ledger::FILE_NAME), pending))
    }

    /// The checklist for this plan (what to check, why and how).
    pub fn checklist(&self, resolved: &Resolved) -> crate::domain::checklist::Context {
        let list = crate::domain::checklist::Context::from_plan(&self.choice, &self.plan, resolved);
        match &self.detection {
            Some(report) => list.with_detection(report),
            None => list,
        }
    }
}

#[cfg(test)]
mod ledger_summary_tests {
    use super::*;

    #[test]
    fn the_ledger_line_says_preset_date_engine_and_hand_edits() {
        let before = serde_json::json!({"gateway": {"port": 1}});
        let after_text = r#"{"gateway": {"port": 1, "bind": "loopback", "mode": "local"}}"#;
        let after: serde_json::Value = serde_json::from_str(after_text).expect("json");
        let mut pending = ledger::Pending::new(
            ledger::Ledger::default(),
            "apply",
            "public",
            Some("docker-rootless".into()),
            ledger::Answers::default(),
            ledger::write_keys(&before, &after),
            after_text,
        );
        pending.write.config = Some("/c/openclaw.json".into());
        let bytes = pending.render("20261130T101500Z", Some("x.bak"));
        let config = Path::new("/c/openclaw.json");
        assert_eq!(
            ledger_summary(Some(bytes.as_bytes()), config, Some(after_text)).as_deref(),
            Some(
                "public preset, written 2026-11-30 for rootless Docker; nothing changed by hand since"
            )
        );
        let edited = after_text.replace("loopback", "lan");
        assert_eq!(
            ledger_summary(Some(bytes.as_bytes()), config, Some(&edited)).as_deref(),
            Some(
                "public preset, written 2026-11-30 for rootless Docker; 1 key changed by hand since"
            )
        );
        assert_eq!(
            ledger_summary(
                Some(bytes.as_bytes()),
                Path::new("/other.json"),
                Some(after_text)
            ),
            None,
            "another config's write"
        );
        assert_eq!(ledger_summary(None, config, Some(after_text)), None);
        assert!(
            ledger_summary(Some(b"{"), config, None).is_some_and(|l| l.contains("cannot be read"))
        );
    }
}
