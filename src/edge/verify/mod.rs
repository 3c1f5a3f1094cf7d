//! `clawposture verify`: run the checklist and say, item by item, whether the posture holds.
//!
//! Functional core, imperative shell: `expect`, `recognize`, `probe`, `model` and the `judge*`
//! functions are pure; `statics::gather`, `engine::gather`, `live`, `openclaw_cli::call` and
//! `host::read_*` do the I/O. [`verify`] wires them together; [`args`] is the CLI front.
//!
//! Groups and item ids (stable; the checklist file uses the same ids):
//! - static: `static.config_parses`, `static.preset`, `static.drift`, `static.config_perms`,
//!   `static.state_dir_perms`, `static.env_perms`, `static.token`
//! - engine (when an agent has a sandbox): `engine.reachable`, `engine.rootless`, `engine.image`
//! - openclaw: `openclaw.binary`, `openclaw.validate`, `openclaw.sandbox[<agent>]`, `openclaw.audit`
//! - live (`--live`): `live.container`, `live.network`, `live.rootfs`, `live.capabilities`,
//!   `live.no_new_privileges`, `live.user`, `live.limits` (suffixed `[<agent>]` when agents
//!   have different sandbox settings)
//! - gateway: `gateway.listen`, `gateway.exec_approvals`
//!
//! The JSON output is documented in docs/verify-json.md.

pub mod engine;
pub mod host;
pub mod invariant_checks;
pub mod live;
pub mod live_judge;
pub mod openclaw_cli;
pub mod openclaw_phase;
pub mod policy_check;
pub mod statics;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::domain::choice::{Advanced, SandboxNetwork, Setting};
use crate::domain::expect::{self, AgentSandbox};
use crate::domain::preset::Preset;
use crate::domain::recognize;
use crate::model::checks::{self as model, Group, Outcome, Report};
use crate::model::environment::{Engine, EngineKind, Environment};
use crate::model::paths::Resolved;

/// Where the `openclaw` CLI comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenClaw {
    /// `openclaw` on PATH, if any.
    Auto,
    Path(PathBuf),
    /// Do not run OpenClaw (and report nothing about it).
    Off,
}

/// Everything a verify run needs, as plain data.
#[derive(Debug, Clone)]
pub struct Options {
    pub config: PathBuf,
    pub state_dir: PathBuf,
    pub presets: Vec<Preset>,
    /// Compare with this preset instead of recognising one.
    pub preset: Option<String>,
    /// The threat model the last apply wrote (the ledger): what `static.invariants` judges
    /// when no `--preset` is given, so a hand edit cannot change the threat it is judged by.
    pub threat: Option<String>,
    /// The engine the last apply wrote for (the ledger; None: unknown).
    pub written_for: Option<Option<Engine>>,
    /// Advanced answers the config was written with on purpose (not drift).
    pub advanced: Advanced,
    /// The engine the config was written for (`--engine`), instead of inferring it.
    pub engine: Option<Option<Engine>>,
    /// The engine endpoint (`--docker-host`), instead of resolving it.
    pub engine_host: Option<String>,
    /// Where `engine_host` came from when not from `--docker-host` (detection's source).
    pub engine_host_source: Option<String>,
    pub live: bool,
    pub strict: bool,
    pub probe_image: Option<String>,
    pub allow_network: bool,
    pub openclaw: OpenClaw,
    pub openclaw_timeout: Duration,
    /// Check the running Gateway and the host approvals (off for apply's quick report).
    pub gateway: bool,
    pub uid: u32,
    pub gid: u32,
    pub env: HashMap<String, String>,
    /// Test hook: keep each probe container alive this long after its report.
    pub hold_secs: Option<u32>,
    /// Find the engine with `crate::edge::detect` (contexts, DOCKER_HOST, well-known sockets) when
    /// no endpoint is given.
    pub detect: bool,
}

impl Options {
    pub fn new(config: &Path, state_dir: &Path, presets: Vec<Preset>) -> Options {
        // As root on another user's files, that user is the Gateway's (and the files').
        let (uid, gid) = crate::edge::ownership::gateway_ids(config, state_dir);
        Options {
            config: config.to_path_buf(),
            state_dir: state_dir.to_path_buf(),
            presets,
            preset: None,
            threat: None,
            written_for: None,
            advanced: Advanced::default(),
            engine: None,
            engine_host: None,
            engine_host_source: None,
            live: false,
            strict: false,
            probe_image: None,
            allow_network: false,
            openclaw: OpenClaw::Auto,
            openclaw_timeout: openclaw_cli::DEFAULT_TIMEOUT,
            gateway: true,
            uid,
            gid,
            env: std::env::vars().collect(),
            hold_secs: None,
            detect: true,
        }
    }
}

fn backend_kind(sb: &AgentSandbox) -> EngineKind {
    if sb.backend == "podman" {
        EngineKind::Podman
    } else {
        EngineKind::Docker
    }
}

/// Distinct probe targets: one per distinct docker settings among sandboxed agents.
fn probe_targets(sandboxes: &[AgentSandbox]) -> Vec<&AgentSandbox> {
    let mut out: Vec<&AgentSandbox> = Vec::new();
    for sb in sandboxes.iter().filter(|s| s.enabled()) {
        if !out
            .iter()
            .any(|o| o.docker == sb.docker && o.backend == sb.backend)
        {
            out.push(sb);
        }
    }
    out
}

/// The uid the sandbox must run as, and why.
fn expected_uid(
    sb: &AgentSandbox,
    target: live_judge::Target,
    facts: &engine::EngineFacts,
    image: &str,
) -> live_judge::Expectation {
    if let Some(u) = &sb.docker.user {
        return match expect::numeric_uid(u) {
            Some(uid) => live_judge::Expectation {
                uid: Some(uid),
                uid_source: format!("docker.user \"{u}\""),
            },
            None => live_judge::Expectation {
                uid: None,
                uid_source: format!("docker.user \"{u}\" (a name)"),
            },
        };
    }
    if target.kind == EngineKind::Podman && target.rootless {
        return live_judge::Expectation {
            uid: facts.socket_owner,
            uid_source: "rootless Podman with keep-id runs it as the engine's own user".into(),
        };
    }
    match facts.image(image).and_then(|i| i.user.clone()) {
        Some(u) if u.is_empty() => live_judge::Expectation {
            uid: Some(0),
            uid_source: format!(
                "no docker.user: {image}'s default user, root (without capabilities)"
            ),
        },
        Some(u) => match expect::numeric_uid(&u) {
            Some(uid) => live_judge::Expectation {
                uid: Some(uid),
                uid_source: format!("no docker.user: {image}'s USER {u}"),
            },
            None => live_judge::Expectation {
                uid: None,
                uid_source: format!("no docker.user: {image}'s USER `{u}` (a name)"),
            },
        },
        None => live_judge::Expectation {
            uid: None,
            uid_source: format!("no docker.user, and {image}'s USER is unknown"),
        },
    }
}

/// The endpoint detection finds for the config's backend: a ready engine of that kind (and of
/// the expected rootlessness when known), detection's own choice first.
fn detected_endpoint(
    config: &Path,
    kind: EngineKind,
    rootless: Option<bool>,
) -> Option<(String, String)> {
    let report = crate::edge::detect::detect(&crate::edge::detect::DetectOptions::from_env(Some(
        config.to_path_buf(),
    )));
    let fits = |e: &crate::edge::detect::EngineReport| {
        e.state == crate::edge::detect::State::Ready
            && e.kind == Some(kind)
            && rootless.is_none_or(|r| e.rootless == Some(r))
    };
    let chosen = report
        .selected
        .index
        .and_then(|i| report.engines.get(i))
        .filter(|e| fits(e));
    let e = chosen.or_else(|| report.engines.iter().find(|e| fits(e)))?;
    Some((
        e.endpoint.clone(),
        format!("detected: {}", e.source.label()),
    ))
}

/// What the config says must be true, and what the engine must be asked (pure): the file
/// parsed, the preset it holds, the sandboxes it gives, and the engine query if any agent has
/// a sandbox.
pub struct Expectations {
    pub parsed: Result<Value, String>,
    pub recognized: Option<recognize::Recognized>,
    pub token: statics::TokenSource,
    /// The agents whose sandbox is on, as the file is.
    pub sandboxed: Vec<AgentSandbox>,
    pub engine: Option<EngineQuery>,
}

/// The file's value (null when it could not be read). Borrowed, never copied: a big file's
/// value costs several times the file.
fn value_of(parsed: &Result<Value, String>) -> &Value {
    static NULL: Value = Value::Null;
    parsed.as_ref().unwrap_or(&NULL)
}

impl Expectations {
    /// The file's value (null when it could not be read).
    pub fn value(&self) -> &Value {
        value_of(&self.parsed)
    }

    /// The file as the preset wants it: what OpenClaw must report.
    pub fn wanted_config(&self) -> &Value {
        match &self.recognized {
            Some(r) => r.expected(self.value()),
            None => self.value(),
        }
    }
}

/// What to ask the engine, and what its answer must be.
pub struct EngineQuery {
    pub kind: EngineKind,
    pub rootless: Option<bool>,
    /// The images to look up (the sandbox images, and `--probe-image`).
    pub asked: Vec<String>,
    pub wanted: engine::Wanted,
}

/// The facts the edges gathered for the static and engine items.
pub struct Gathered {
    pub files: statics::Facts,
    /// The engine's answer, and the endpoint it came from (None: no agent has a sandbox).
    pub engine: Option<engine::EngineFacts>,
}

/// The expectations of a config's text under these options (pure). `read` is the file's
/// text (None: no file), or why it could not be read.
pub fn expectations(opts: &Options, read: Result<Option<&str>, String>) -> Expectations {
    let text = read.as_ref().ok().copied().flatten();
    let mut parsed: Result<Value, String> = match read {
        Err(e) => Err(e),
        Ok(None) => Err("no config".into()),
        Ok(Some(t)) => crate::domain::document::parse_value(t).map_err(|e| e.to_string()),
    };
    // What the file is judged against: the engine and preset named, else those of the last
    // apply (the ledger), so a hand edit cannot make the file resemble another variant.
    let environments: Vec<Environment> = match opts.engine.or(opts.written_for) {
        Some(engine) => vec![Environment {
            engine,
            uid: opts.uid,
            gid: opts.gid,
        }],
        None => recognize::environments(opts.uid, opts.gid),
    };
    let recognized = match (text, &mut parsed) {
        (Some(t), Ok(v)) => recognize::recognize_read(
            t,
            v,
            &opts.presets,
            &environments,
            opts.preset.as_deref().or(opts
                .threat
                .as_deref()
                .filter(|t| opts.presets.iter().any(|p| p.name == *t))),
            opts.advanced,
        ),
        _ => None,
    };
    let value = value_of(&parsed);
    let token = statics::token_source(value);
    let sandboxed = expect::sandboxes_where(value, AgentSandbox::enabled);
    let engine = (parsed.is_ok() && !sandboxed.is_empty()).then(|| {
        let kind = backend_kind(&sandboxed[0]);
        let rootless = match opts.engine {
            Some(e) => e.map(|e| e.rootless),
            None => recognized.as_ref().and_then(|r| r.rootless()),
        };
        let mut images: Vec<String> = Vec::new();
        for sb in &sandboxed {
            if !images.contains(&sb.docker.image) {
                images.push(sb.docker.image.clone());
            }
        }
        let mut asked = images.clone();
        if let Some(p) = &opts.probe_image
            && !asked.contains(p)
        {
            asked.push(p.clone());
        }
        EngineQuery {
            kind,
            rootless,
            asked,
            wanted: engine::Wanted {
                kind: Some(kind),
                rootless,
                label: match opts.engine {
                    Some(e) => Some(e.map(|e| e.label()).unwrap_or("none").to_string()),
                    None => recognized.as_ref().and_then(|r| r.engine_label()),
                },
                images,
                state_owner: std::fs::metadata(&opts.state_dir)
                    .ok()
                    .map(|m| std::os::unix::fs::MetadataExt::uid(&m)),
            },
        }
    });
    Expectations {
        parsed,
        recognized,
        token,
        sandboxed,
        engine,
    }
}

/// The static and engine items (pure): the expectations against the gathered facts.
pub fn judge(opts: &Options, e: &Expectations, g: &Gathered) -> Report {
    let mut outcomes = statics::judge(
        &g.files,
        &e.parsed,
        e.recognized.as_ref(),
        opts.preset.as_deref(),
        &e.token,
    );
    outcomes.push(invariant_checks::judge(
        &e.parsed,
        e.recognized.as_ref(),
        opts.preset.as_deref().or(opts.threat.as_deref()),
        opts.engine,
        opts.advanced,
    ));
    if let (Some(q), Some(facts)) = (&e.engine, &g.engine) {
        outcomes.extend(engine::judge(facts, &q.wanted));
        if facts.reachable() {
            outcomes.extend(invariant_checks::judge_mapping(
                &e.sandboxed,
                facts.rootless,
                &facts.endpoint,
                opts.engine
                    .or(opts.written_for)
                    .map(|e| e.is_some_and(|e| e.rootless)),
                opts.uid,
                opts.gid,
            ));
        }
    }
    Report {
        config: opts.config.clone(),
        state_dir: opts.state_dir.clone(),
        preset: e.recognized.as_ref().map(|r| r.preset.clone()),
        engine: e.recognized.as_ref().and_then(|r| r.engine_label()),
        endpoint: g.engine.as_ref().map(|f| f.endpoint.clone()),
        strict: opts.strict,
        outcomes,
        interrupted: None,
    }
}

/// Gather what the static and engine items need (the edge: files, the engine's API).
pub fn gather(opts: &Options, e: &Expectations) -> Gathered {
    let files = statics::gather(&opts.config, &opts.state_dir, &e.token, opts.uid);
    let engine = e.engine.as_ref().map(|q| {
        // The Gateway's view first: its service does not inherit this shell's DOCKER_HOST but
        // loads `$STATE_DIR/.env`, so a DOCKER_HOST there is the daemon its sandbox uses.
        let gateway_env = (opts.engine_host.is_none() && q.kind == EngineKind::Docker)
            .then(|| crate::edge::write::env_file_value(&opts.state_dir, "DOCKER_HOST"))
            .flatten()
            .map(|h| {
                (
                    h,
                    "DOCKER_HOST in $STATE_DIR/.env (the Gateway's view)".to_string(),
                )
            });
        let named = opts
            .engine_host
            .clone()
            .zip(opts.engine_host_source.clone());
        let (endpoint, source) = match (&opts.engine_host, opts.detect) {
            _ if named.is_some() => named,
            _ if gateway_env.is_some() => gateway_env,
            (None, true) => detected_endpoint(&opts.config, q.kind, q.rootless),
            _ => None,
        }
        .unwrap_or_else(|| {
            engine::resolve_endpoint(
                opts.engine_host.as_deref(),
                q.kind,
                q.rootless,
                &opts.env,
                opts.uid,
                &|p| p.exists(),
            )
        });
        engine::gather(&endpoint, &source, &q.asked)
    });
    Gathered { files, engine }
}

/// The config's text with its `$include`s resolved (as JSON), or as it is when it has none or
/// they cannot be resolved (with why).
fn resolved_text(config: &Path, text: String) -> (String, Option<String>) {
    if !text.contains("$include") {
        return (text, None);
    }
    let Ok(doc) = crate::domain::document::Document::parse(&text) else {
        return (text, None);
    };
    match crate::edge::includes::resolve(config, &doc.value()) {
        Ok(v) => (serde_json::to_string_pretty(&v).unwrap_or(text), None),
        Err(e) => (text, Some(e)),
    }
}

/// Run every check the options ask for.
pub fn verify(opts: &Options) -> Report {
    // A FIFO or device as the config is refused at once, never read (it would block).
    let read = crate::edge::write::read_regular(&opts.config)
        .map(|b| b.map(|b| String::from_utf8_lossy(&b).into_owned()))
        .map_err(|e| e.to_string());
    // What OpenClaw loads is judged: `$include`s resolved read-only (left as they are when
    // they cannot be, which `static.invariants` reports).
    let mut include_error = None;
    let read = read.map(|t| {
        t.map(|t| {
            let (text, error) = resolved_text(&opts.config, t);
            include_error = error;
            text
        })
    });
    let e = expectations(
        opts,
        read.as_ref().map(|t| t.as_deref()).map_err(Clone::clone),
    );
    let g = gather(opts, &e);
    let mut report = judge(opts, &e, &g);
    // Why an include could not be resolved belongs to the item that could not judge it.
    if let Some(why) = include_error
        && let Some(o) = report
            .outcomes
            .iter_mut()
            .find(|o| o.id == crate::model::check_ids::STATIC_INVARIANTS)
    {
        o.details.push(why);
    }
    let mut outcomes = std::mem::take(&mut report.outcomes);
    let (parsed, value, wanted_config, sandboxed) =
        (&e.parsed, e.value(), e.wanted_config(), &e.sandboxed);
    let engine_facts = g.engine;

    if opts.live && parsed.is_ok() {
        match &engine_facts {
            None => outcomes.push(Outcome::skip(
                crate::model::check_ids::LIVE_CONTAINER,
                Group::Live,
                "a container with the sandbox settings runs the probe",
                "no agent has a sandbox (mode off everywhere): there is nothing to probe",
            )),
            Some(facts) => match live_outcomes(opts, sandboxed, facts) {
                Ok(o) => outcomes.extend(o),
                Err(live::Interrupted(sig)) => {
                    report.interrupted = Some(sig);
                    report.outcomes = outcomes;
                    return report;
                }
            },
        }
    }

    if opts.openclaw != OpenClaw::Off && parsed.is_ok() {
        match openclaw_outcomes(opts, wanted_config, value, report.preset.as_deref()) {
            Ok(o) => outcomes.extend(o),
            Err(sig) => {
                report.interrupted = Some(sig);
                report.outcomes = outcomes;
                return report;
            }
        }
    }

    if opts.gateway && parsed.is_ok() {
        let (port, source) = match opts
            .env
            .get("OPENCLAW_GATEWAY_PORT")
            .and_then(|p| p.parse::<u16>().ok())
        {
            Some(p) => (p, "OPENCLAW_GATEWAY_PORT"),
            None => (
                expect::gateway_port(value),
                if value.pointer("/gateway/port").is_some() {
                    "gateway.port"
                } else {
                    "the default port"
                },
            ),
        };
        outcomes.push(host::judge_listen(port, source, &host::read_listeners()));
        let mut modes = BTreeMap::new();
        for agent in expect::agents(wanted_config) {
            if let Some(m) = expect::exec_mode(wanted_config, Some(&agent)) {
                modes.insert(agent, m);
            }
        }
        let sources = vec![
            host::read_sqlite(&opts.state_dir, Duration::from_secs(10)),
            host::read_legacy(&opts.state_dir),
        ];
        let mut approvals = host::judge_approvals(
            &sources,
            expect::exec_mode(wanted_config, None).as_deref(),
            &modes,
        );
        // Without a preset the exec mode wanted is the file's own: approvals that leave it as
        // it is prove nothing about the posture (a file with exec "full" would pass). A
        // widening found is still a fact about this file, and stays a failure.
        if report.preset.is_none() && approvals.status == model::Status::Pass {
            approvals = no_threat_model(
                approvals.id,
                Group::Gateway,
                approvals.title,
                "to judge the host exec approvals against",
            )
            .doc("tools/exec-approvals.md");
        }
        outcomes.push(approvals);
    }

    // Report order follows the checklist, whatever order the checks ran in.
    let rank = |g: Group| match g {
        Group::Static => 0,
        Group::Engine => 1,
        Group::Openclaw => 2,
        Group::Live => 3,
        Group::Gateway => 4,
    };
    outcomes.sort_by_key(|o| rank(o.group));
    report.outcomes = outcomes;
    report
}

/// An item that judges the file against a threat model, skipped when no preset is recognised,
/// named or applied: judged against the file itself, a file with every guard off would pass.
pub(crate) fn no_threat_model(
    id: impl Into<String>,
    group: Group,
    title: impl Into<String>,
    what: &str,
) -> Outcome {
    Outcome::skip(
        id,
        group,
        title,
        format!("no preset recognised and none applied: no threat model {what}"),
    )
    .fix("name the preset this Gateway should hold with --preset, or write one with `clawposture apply`")
}

fn live_outcomes(
    opts: &Options,
    sandboxed: &[AgentSandbox],
    facts: &engine::EngineFacts,
) -> Result<Vec<Outcome>, live::Interrupted> {
    let targets = probe_targets(sandboxed);
    let run_id = live::run_id();
    let pid = std::process::id();
    let kind = facts.kind.unwrap_or_else(|| backend_kind(targets[0]));
    let target = live_judge::Target {
        kind,
        rootless: facts.rootless.unwrap_or(false),
    };
    let specs: Vec<live_judge::ProbeSpec> = targets
        .iter()
        .map(|sb| {
            let image = opts
                .probe_image
                .clone()
                .unwrap_or_else(|| sb.docker.image.clone());
            live_judge::spec(&sb.docker, &image, target, &run_id, pid, opts.hold_secs)
        })
        .collect();
    let runnable: Vec<live_judge::ProbeSpec> = specs
        .iter()
        .filter(|s| s.refusal.is_none())
        .cloned()
        .collect();
    let runs = if facts.reachable() {
        let mut done = live::run_probes(
            &facts.endpoint,
            kind == EngineKind::Podman,
            &runnable,
            &run_id,
        )?
        .into_iter();
        specs
            .iter()
            .map(|s| match &s.refusal {
                Some(why) => live_judge::Run {
                    error: Some(why.clone()),
                    ..Default::default()
                },
                None => done.next().unwrap_or_default(),
            })
            .collect::<Vec<_>>()
    } else {
        specs
            .iter()
            .map(|_| live_judge::Run {
                error: Some(format!(
                    "the engine could not be reached: {}",
                    facts.error.clone().unwrap_or_default()
                )),
                ..Default::default()
            })
            .collect()
    };
    let mut out = Vec::new();
    for ((sb, spec), run) in targets.iter().zip(&specs).zip(&runs) {
        let suffix = if targets.len() > 1 {
            format!("[{}]", sb.agent)
        } else {
            String::new()
        };
        let expectation = expected_uid(sb, target, facts, &spec.image);
        let mut items = live_judge::judge(sb, spec, run, &expectation, &suffix);
        if opts.advanced.sandbox_network == Some(SandboxNetwork::Bridge) {
            items = items.into_iter().map(|o| network_chosen(o, sb)).collect();
        }
        if opts.probe_image.is_some()
            && let Some(first) = items.first_mut()
        {
            first.details.push(format!(
                "probe image {} stands in for the configured {}",
                spec.image, sb.docker.image
            ));
        }
        out.extend(items);
    }
    Ok(out)
}

/// A network the user chose on purpose is not a failure of the sandbox, but it is not isolation
/// either: the item is skipped (never a pass; `--strict` fails it), with what the probe saw.
fn network_chosen(o: Outcome, sb: &AgentSandbox) -> Outcome {
    if !(o.id.starts_with(crate::model::check_ids::LIVE_NETWORK) && o.status == model::Status::Fail)
        || sb.docker.network != SandboxNetwork::Bridge.label()
    {
        return o;
    }
    Outcome {
        status: model::Status::Skipped,
        reason: format!(
            "the sandbox has network `{}`, chosen with --sandbox-network: isolation from the network is not claimed, so it is not proven",
            sb.docker.network
        ),
        fix: Some(
            "to isolate it, run `clawposture apply` without --sandbox-network bridge (the preset's value is none)"
                .into(),
        ),
        ..o
    }
}

/// The OpenClaw items; Err(signal) when a signal stopped the phase (its children are gone).
fn openclaw_outcomes(
    opts: &Options,
    wanted: &Value,
    actual: &Value,
    preset: Option<&str>,
) -> Result<Vec<Outcome>, i32> {
    let title = "the `openclaw` CLI is available and safe to run";
    let mut ids: Vec<(String, String)> = vec![(
        crate::model::check_ids::OPENCLAW_VALIDATE.into(),
        "`openclaw config validate` accepts the config".into(),
    )];
    let sandboxes = expect::sandboxes(wanted);
    for sb in &sandboxes {
        ids.push(openclaw_cli::explain_item(&sb.agent));
    }
    if openclaw_phase_policy_agent(actual).is_some() {
        ids.push((
            policy_check::ID.into(),
            "`openclaw policy check` finds the preset's policy holds".into(),
        ));
    }
    ids.push((
        crate::model::check_ids::OPENCLAW_AUDIT.into(),
        "`openclaw security audit` finds nothing critical".into(),
    ));
    let skip_all = |why: &str| {
        ids.iter()
            .map(|(id, t)| Outcome::skip(id.clone(), Group::Openclaw, t.clone(), why))
            .collect::<Vec<_>>()
    };

    let bin = match &opts.openclaw {
        OpenClaw::Path(p) => Some(p.clone()),
        OpenClaw::Auto => which::which("openclaw").ok(),
        OpenClaw::Off => None,
    };
    let Some(bin) = bin else {
        let mut v = vec![
            Outcome::skip(
                crate::model::check_ids::OPENCLAW_BINARY,
                Group::Openclaw,
                title,
                "`openclaw` is not on PATH",
            )
            .fix("pass --openclaw PATH to check with OpenClaw itself"),
        ];
        v.extend(skip_all("the OpenClaw CLI is not available"));
        return Ok(v);
    };
    if let Err(e) =
        openclaw_cli::path_components(&bin).and_then(|c| openclaw_cli::judge_path(&c, opts.uid))
    {
        let mut v = vec![Outcome::fail(crate::model::check_ids::OPENCLAW_BINARY, Group::Openclaw, title, format!("refused to run {}: {e}", bin.display()))
            .fix("install OpenClaw where only root or you can write (e.g. `npm install -g` under your own prefix), or tighten those directories")];
        v.extend(skip_all("the openclaw binary was refused"));
        return Ok(v);
    }
    let prefix = match openclaw_cli::network(opts.allow_network) {
        openclaw_cli::Network::Namespace(p) => p,
        openclaw_cli::Network::Allowed => Vec::new(),
        openclaw_cli::Network::Unavailable(why) => {
            let mut v = vec![Outcome::pass(
                crate::model::check_ids::OPENCLAW_BINARY,
                Group::Openclaw,
                title,
                bin.display().to_string(),
            )];
            v.extend(skip_all(&format!("cannot keep OpenClaw off the network: {why}")).into_iter().map(|o| o.fix("pass --allow-network to run it anyway (the audit may then install channel plugins)")));
            return Ok(v);
        }
    };
    let mut out = vec![Outcome::pass(
        crate::model::check_ids::OPENCLAW_BINARY,
        Group::Openclaw,
        title,
        format!(
            "{}{}",
            bin.display(),
            if prefix.is_empty() {
                " (network allowed)"
            } else {
                " (in an empty network namespace, OPENCLAW_OFFLINE=1)"
            }
        ),
    )];
    let runner = openclaw_cli::Runner::new(
        &bin,
        prefix,
        &opts.config,
        &opts.state_dir,
        !opts.allow_network,
        opts.openclaw_timeout,
    );

    // One OpenClaw process for every check and agent (openclaw_phase).
    let policy_agent = openclaw_phase_policy_agent(actual);
    let file_check = policy_check::file_check(preset, wanted, actual, &|p| {
        crate::edge::write::read_regular(p).ok().flatten()
    });
    // The preset's policy as `policy compare`'s baseline, in a private temp dir (verify writes
    // nothing beside the config).
    let baseline = match &file_check {
        policy_check::FileCheck::Compare { policy, baseline } => {
            private_temp_file("baseline.policy.jsonc", baseline).map(|b| (b, policy.clone()))
        }
        _ => None,
    };
    let ran = openclaw_phase::run(
        &runner,
        &sandboxes,
        policy_agent.as_deref(),
        baseline.as_ref().map(|(b, p)| (b.as_path(), p.as_path())),
    );
    if let Some((b, _)) = &baseline
        && let Some(dir) = b.parent()
    {
        let _ = std::fs::remove_dir_all(dir);
    }
    let calls = match ran {
        Ok(c) => c,
        Err(crate::edge::child::Interrupted(sig)) => return Err(sig),
    };
    out[0].details.push(format!(
        "{} OpenClaw process(es); {}",
        calls.processes, calls.explain_note
    ));
    out.push(openclaw_cli::judge_validate(
        &calls.validate,
        opts.openclaw_timeout,
    ));
    for (sb, explains) in sandboxes.iter().zip(&calls.explains) {
        // Without a preset the sandbox wanted is the file's own: OpenClaw agreeing with it
        // proves nothing about the posture (a file with every sandbox off would pass).
        if preset.is_none() {
            let (id, title) = openclaw_cli::explain_item(&sb.agent);
            out.push(no_threat_model(
                id,
                Group::Openclaw,
                title,
                "to compare OpenClaw's sandbox with",
            ));
            continue;
        }
        out.push(openclaw_cli::judge_explain(
            sb,
            expect::elevated_enabled(wanted, &sb.agent),
            explains,
            opts.openclaw_timeout,
        ));
    }
    if let Some(res) = &calls.policy {
        out.extend(policy_check::judge(res, opts.openclaw_timeout.as_secs()));
    }
    match (&file_check, &calls.compare, &baseline) {
        (policy_check::FileCheck::Same(p), _, _) => out.push(policy_check::judge_same(p)),
        (policy_check::FileCheck::Compare { policy, .. }, Some(res), _) => {
            out.push(policy_check::judge_compare(res, policy))
        }
        (policy_check::FileCheck::Compare { policy, .. }, None, None) => out.push(Outcome::skip(
            policy_check::FILE_ID,
            Group::Openclaw,
            "the policy OpenClaw reads is at least as strict as the preset's",
            format!("{} differs from the preset's policy, and no private temp file could hold the preset's for `openclaw policy compare`", policy.display()),
        )),
        (policy_check::FileCheck::Skip(Some(why)), _, _) => out.push(Outcome::skip(
            policy_check::FILE_ID,
            Group::Openclaw,
            "the policy OpenClaw reads is at least as strict as the preset's",
            why.clone(),
        )),
        _ => {}
    }
    out.push(openclaw_cli::judge_audit(
        &calls.audit,
        preset,
        opts.openclaw_timeout,
    ));
    Ok(out)
}

/// A new file in a new 0700 directory under the temp dir (None: it could not be made).
fn private_temp_file(name: &str, text: &str) -> Option<PathBuf> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let mut random = [0u8; 8];
    getrandom::fill(&mut random).ok()?;
    let tag: String = random.iter().map(|b| format!("{b:02x}")).collect();
    let dir = std::env::temp_dir().join(format!("clawposture-{}-{tag}", std::process::id()));
    std::fs::DirBuilder::new().mode(0o700).create(&dir).ok()?;
    let path = dir.join(name);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&path)
        .ok()?;
    f.write_all(text.as_bytes()).ok()?;
    Some(path)
}

/// The agent `policy check` runs as (None: the Policy plugin is not enabled in the file). One
/// call covers every agent's config rules; `--agent` only picks whose workspace resolves a
/// relative policy path, and OpenClaw refuses to guess it when several agents exist.
fn openclaw_phase_policy_agent(actual: &Value) -> Option<String> {
    if actual.pointer("/plugins/entries/policy/enabled") != Some(&Value::Bool(true)) {
        return None;
    }
    let agents = expect::agents(actual);
    Some(
        agents
            .iter()
            .find(|a| a.as_str() == "main")
            .or(agents.first())
            .cloned()
            .unwrap_or_else(|| "main".into()),
    )
}

/// The static and engine results right after `apply` wrote the config (no OpenClaw, no live
/// probe, no Gateway): what the TUI's Done screen and apply show.
pub fn after_apply(
    resolved: &Resolved,
    presets: &[Preset],
    preset: &str,
    engine: Option<Option<Engine>>,
    engine_host: Option<String>,
    engine_host_source: Option<String>,
    advanced: Advanced,
) -> Report {
    let mut o = Options::new(&resolved.config, &resolved.state_dir, presets.to_vec());
    o.preset = Some(preset.to_string());
    o.advanced = advanced;
    o.engine = engine;
    o.engine_host = engine_host;
    o.engine_host_source = engine_host_source;
    o.openclaw = OpenClaw::Off;
    o.gateway = false;
    verify(&o)
}
