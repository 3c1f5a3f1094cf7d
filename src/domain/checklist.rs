//! The verification checklist written beside the config on every apply
//! (`$STATE_DIR/clawposture-checklist.md`): what to check, why (with the OpenClaw doc), the
//! command that checks it by hand and what it must show. Item ids are the ids
//! `clawposture verify` reports, so the file and the command say the same thing.
//!
//! Everything here is pure (context in, Markdown out); `edge::files::write_checklist` stores
//! it with the same atomic 0600 write the config gets.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use crate::domain::choice::Choice;
use crate::domain::expect::{self, AgentSandbox, build_recipe, explain_args, explain_cases};
use crate::domain::plan::{MIN_TOKEN_LEN, Plan, TOKEN_ENV};
use crate::model::environment::{Engine, EngineKind};
use crate::model::paths::Resolved;

pub const FILE_NAME: &str = "clawposture-checklist.md";

/// What the checklist is generated from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Context {
    pub preset: String,
    pub config: PathBuf,
    pub state_dir: PathBuf,
    /// The engine the preset was adjusted for (None: no engine, sandbox off).
    pub engine: Option<Engine>,
    /// The engine endpoint when known (detection), e.g. `unix:///run/user/1000/docker.sock`.
    pub endpoint: Option<String>,
    /// Whether each sandbox image is on the engine, when known.
    pub images_present: Vec<(String, bool)>,
    /// The agents with a sandbox (mode other than off), as the written config resolves them.
    pub sandboxes: Vec<AgentSandbox>,
    pub port: u16,
    pub exec_mode: Option<String>,
    pub owner: Option<String>,
    /// This apply changed sandbox keys (running containers keep the old settings).
    pub sandbox_changed: bool,
    /// This apply changed keys that need a Gateway restart (gateway.*, discovery.*).
    pub restart_needed: bool,
    /// OpenClaw profile (`--profile NAME`), for the service unit name.
    pub profile: Option<String>,
    /// The DOCKER_HOST the Gateway service needs (None: the docker CLI's default reaches it).
    pub service_docker_host: Option<String>,
    /// The advanced answers as verify flags (`--sandbox-network bridge`), empty when none.
    pub verify_flags: String,
    /// Directories the write left open (shared, sticky, someone else's), each with what to do.
    pub left_open: Vec<String>,
    /// Detection found this runs in a container: the signs, and what OpenClaw needs there.
    pub in_container: Option<crate::model::detection::InContainer>,
    /// Literal channel secrets this write moves into `.env`: (config key, variable).
    pub moved_secrets: Vec<(String, String)>,
}

impl Context {
    /// The context of an apply: the choice and plan it wrote, at the resolved paths.
    pub fn from_plan(choice: &Choice, plan: &Plan, resolved: &Resolved) -> Context {
        // What the new text reads as (the plan checked it).
        Context::new(
            &choice.preset.name,
            &plan.new_value,
            resolved,
            choice.environment.engine,
        )
        .owner(choice.inputs.owner.as_ref().map(|o| o.to_string()))
        .changes(plan.changes.iter().map(|c| c.key.as_str()))
        .verify_flags(choice.inputs.advanced().flags())
        .moved_secrets(
            plan.secret_moves
                .moved
                .iter()
                .map(|m| (m.key.clone(), m.var.clone()))
                .collect(),
        )
    }

    pub fn moved_secrets(mut self, moved: Vec<(String, String)>) -> Context {
        self.moved_secrets = moved;
        self
    }

    /// The context of a config as it is (verify uses this to name the manual items).
    pub fn new(
        preset: &str,
        config_value: &Value,
        resolved: &Resolved,
        engine: Option<Engine>,
    ) -> Context {
        let profile = resolved.profile.clone();
        Context {
            preset: preset.to_string(),
            config: resolved.config.clone(),
            state_dir: resolved.state_dir.clone(),
            engine,
            endpoint: None,
            images_present: Vec::new(),
            sandboxes: expect::sandboxes_where(config_value, AgentSandbox::enabled),
            port: expect::gateway_port(config_value),
            exec_mode: expect::exec_mode(config_value, None),
            owner: None,
            sandbox_changed: false,
            restart_needed: false,
            profile,
            service_docker_host: None,
            verify_flags: String::new(),
            left_open: Vec::new(),
            in_container: None,
            moved_secrets: Vec::new(),
        }
    }

    /// The directories the write left open (see [`write::private_dir`]).
    pub fn left_open(mut self, warnings: Vec<String>) -> Context {
        self.left_open = warnings;
        self
    }

    pub fn verify_flags(mut self, flags: String) -> Context {
        self.verify_flags = flags;
        self
    }

    pub fn owner(mut self, owner: Option<String>) -> Context {
        self.owner = owner;
        self
    }

    /// Mark what the written changes require (recreate, restart).
    pub fn changes<'a>(mut self, keys: impl Iterator<Item = &'a str>) -> Context {
        for k in keys {
            if k.contains(".sandbox") {
                self.sandbox_changed = true;
            }
            if k.starts_with("gateway.") || k.starts_with("discovery.") {
                self.restart_needed = true;
            }
        }
        self
    }

    /// What the engine said (from detection or verify): its endpoint and which images it has.
    /// An endpoint other than the system socket is what the Gateway service's DOCKER_HOST must be.
    pub fn engine_facts(
        mut self,
        endpoint: Option<String>,
        images_present: Vec<(String, bool)>,
    ) -> Context {
        self.service_docker_host = endpoint
            .clone()
            .filter(|e| e != "unix:///var/run/docker.sock" && e != "unix:///run/docker.sock");
        self.endpoint = endpoint;
        self.images_present = images_present;
        self
    }

    /// Fill the engine facts from a detection report: the selected engine's endpoint, whether
    /// it has the sandbox image, and the DOCKER_HOST the Gateway's service needs.
    pub fn with_detection(mut self, report: &crate::model::detection::Report) -> Context {
        self.in_container = report.in_container.clone();
        let Some(e) = report.selected.index.and_then(|i| report.engines.get(i)) else {
            return self;
        };
        let images = e
            .sandbox_image
            .iter()
            .filter_map(|i| i.present.map(|p| (i.name.clone(), p)))
            .collect();
        let mut c = self.engine_facts(Some(e.endpoint.clone()), images);
        // Detection names the DOCKER_HOST the service needs when the CLI default would miss the
        // engine; an endpoint that itself came from --docker-host or DOCKER_HOST must be in the
        // service's environment too.
        let explicit = matches!(
            e.source,
            crate::model::detection::Source::Flag | crate::model::detection::Source::DockerHost
        );
        c.service_docker_host = report
            .selected
            .docker_host
            .clone()
            .or_else(|| explicit.then(|| e.endpoint.clone()));
        c
    }

    fn images(&self) -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        for s in &self.sandboxes {
            if !v.contains(&s.docker.image) {
                v.push(s.docker.image.clone());
            }
        }
        v
    }

    fn kind(&self) -> EngineKind {
        self.engine
            .map(|e| e.kind)
            .or_else(|| {
                self.sandboxes.first().map(|s| {
                    if s.backend == "podman" {
                        EngineKind::Podman
                    } else {
                        EngineKind::Docker
                    }
                })
            })
            .unwrap_or(EngineKind::Docker)
    }

    fn unit(&self) -> String {
        match &self.profile {
            Some(p) => format!("openclaw-gateway-{p}.service"),
            None => "openclaw-gateway.service".into(),
        }
    }

    /// `DOCKER_HOST=... ` for hand commands, when the endpoint is known.
    fn host_prefix(&self) -> String {
        match (&self.endpoint, self.kind()) {
            (Some(e), EngineKind::Docker) => format!("DOCKER_HOST={} ", sh(e)),
            _ => String::new(),
        }
    }

    fn engine_cli(&self) -> &'static str {
        match self.kind() {
            EngineKind::Docker => "docker",
            EngineKind::Podman => "podman",
        }
    }

    /// `openclaw` aimed at this config and state dir (and `--profile NAME` for a profile's
    /// Gateway, so a restart never hits the default one).
    fn oc(&self) -> String {
        let profile = match &self.profile {
            Some(p) => format!(" --profile {}", sh(p)),
            None => String::new(),
        };
        format!(
            "OPENCLAW_CONFIG_PATH={} OPENCLAW_STATE_DIR={} openclaw{profile}",
            sh(&self.config.display().to_string()),
            sh(&self.state_dir.display().to_string())
        )
    }
}

/// Quote for a POSIX shell.
pub fn sh(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-:=@%+,".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Who checks an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// `clawposture verify` checks it.
    Verify,
    /// `clawposture verify --live` checks it.
    Live,
    /// Only by hand (clawposture cannot see it, or it is a step to take).
    Manual,
    /// Something to know about this machine, not a check.
    Note,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    pub id: String,
    pub section: &'static str,
    pub title: String,
    pub why: String,
    pub doc: String,
    pub by_hand: Option<String>,
    pub expected: String,
    pub check: Check,
}

const SEC_STEPS: &str = "Steps after this change";
const SEC_FILES: &str = "Files and the Gateway token";
const SEC_ENGINE: &str = "Container engine";
const SEC_OPENCLAW: &str = "OpenClaw agrees";
const SEC_LIVE: &str = "Live sandbox proof";
const SEC_GATEWAY: &str = "Running Gateway and host exec";
const SEC_DECIDE: &str = "Still open";

// One call per checklist item reads as a table row; a struct literal would triple its length.
#[allow(clippy::too_many_arguments)]
fn item(
    id: &str,
    section: &'static str,
    title: impl Into<String>,
    why: impl Into<String>,
    doc: &str,
    by_hand: Option<String>,
    expected: impl Into<String>,
    check: Check,
) -> Item {
    Item {
        id: id.to_string(),
        section,
        title: title.into(),
        why: why.into(),
        doc: doc.to_string(),
        by_hand,
        expected: expected.into(),
        check,
    }
}

/// The checklist items for this context, in order.
/// The shell words every item's command uses, quoted once.
struct Words {
    cfg: String,
    state: String,
    env: String,
    ledger: String,
    sandboxed: bool,
    cli: &'static str,
    host: String,
}

/// Every checklist item for this context, in the order the file lists them.
pub fn items(ctx: &Context) -> Vec<Item> {
    let w = Words {
        cfg: sh(&ctx.config.display().to_string()),
        state: sh(&ctx.state_dir.display().to_string()),
        env: sh(&ctx.state_dir.join(".env").display().to_string()),
        ledger: sh(&ctx
            .state_dir
            .join(crate::domain::ledger::FILE_NAME)
            .display()
            .to_string()),
        sandboxed: !ctx.sandboxes.is_empty(),
        cli: ctx.engine_cli(),
        host: ctx.host_prefix(),
    };
    let mut v = Vec::new();

    step_items(ctx, &w, &mut v);
    file_items(ctx, &w, &mut v);
    engine_items(ctx, &w, &mut v);
    container_note(ctx, &mut v);
    openclaw_items(ctx, &mut v);
    live_and_gateway_items(ctx, &w, &mut v);
    decision_items(ctx, &w, &mut v);
    v
}

/// What must be done after writing (recreate, restart).
fn step_items(ctx: &Context, w: &Words, v: &mut Vec<Item>) {
    let Words { sandboxed, .. } = w;
    let sandboxed = *sandboxed;
    if sandboxed && ctx.sandbox_changed {
        v.push(item(
            "sandbox.recreate",
            SEC_STEPS,
            "Recreate running sandbox containers",
            "Running sandbox containers keep the settings they were created with; only new containers get the new network, root, capability and limit settings.",
            "cli/sandbox.md",
            Some(format!("{} sandbox recreate --all --force", ctx.oc())),
            "Every listed container is removed; the next sandboxed turn creates a fresh one.",
            Check::Manual,
        ));
    }
    if !ctx.moved_secrets.is_empty() {
        let list: Vec<String> = ctx
            .moved_secrets
            .iter()
            .map(|(k, var)| format!("`{k}` → {var}"))
            .collect();
        v.push(item(
            "secrets.moved",
            SEC_STEPS,
            "Restart the Gateway so it reads the moved channel secrets from .env",
            format!(
                "These literal channel secrets moved from the config into $STATE_DIR/.env (mode 0600), the config now refers to them by name: {}. OpenClaw loads .env when it starts, so a running Gateway resolves the new names only after a restart. The backups of the config still hold the old literals: delete them once you no longer need them (`clawposture restore --list` marks them).",
                list.join(", ")
            ),
            "gateway/configuration/environment-variables.md",
            Some(format!(
                "{oc} gateway restart && {oc} secrets audit --check",
                oc = ctx.oc()
            )),
            "`secrets audit` reports no plaintext secret and no unresolved reference.",
            Check::Manual,
        ));
    }
    if ctx.restart_needed {
        v.push(item(
            crate::model::check_ids::GATEWAY_RESTART,
            SEC_STEPS,
            "Restart the Gateway",
            "Gateway and discovery keys (bind, auth, tailscale, mDNS) are not hot-reloaded.",
            "gateway/configuration/hot-reload.md",
            Some(format!("{} gateway restart", ctx.oc())),
            "The Gateway comes back up and `openclaw health` is OK.",
            Check::Manual,
        ));
    }
}

/// The file and its secrets.
fn file_items(ctx: &Context, w: &Words, v: &mut Vec<Item>) {
    let Words {
        cfg,
        state,
        env,
        ledger,
        ..
    } = w;
    v.push(item(
        crate::model::check_ids::STATIC_DRIFT,
        SEC_FILES,
        format!("Every value the {} preset owns is still in place", ctx.preset),
        "OpenClaw's own writers (onboarding, doctor, `config set`) and hand edits can undo a setting without notice.",
        "gateway/configuration.md",
        Some(format!(
            // The drift check compares the file with the posture written for that engine,
            // running or not: --no-detect.
            "clawposture plan --threat {} --engine {}{}{} --config {cfg} --state-dir {state}",
            ctx.preset,
            ctx.engine.map_or("none", |e| e.label()),
            if ctx.engine.is_some() { " --no-detect" } else { "" },
            if ctx.verify_flags.is_empty() { String::new() } else { format!(" {}", ctx.verify_flags) }
        )),
        "\"Nothing to change: the file already holds this posture.\"",
        Check::Verify,
    ));
    v.push(item(
        crate::model::check_ids::STATIC_INVARIANTS,
        SEC_FILES,
        format!(
            "Every agent, channel and binding meets the {} threat model",
            ctx.preset
        ),
        "An agent's own override (sandbox, tools, exec, elevated, memory), an account's DM or group policy, a binding that routes outsiders to another agent or an `$include` can undo the posture while every key the preset owns still holds (presets/invariants.toml).",
        "gateway/security/index.md",
        Some(format!(
            "clawposture verify --config {cfg} --state-dir {state} --no-openclaw"
        )),
        "`static.invariants` is PASS.",
        Check::Verify,
    ));
    v.push(item(
        crate::model::check_ids::STATIC_CONFIG_PERMS,
        SEC_FILES,
        "The config, the state dir, .env and clawposture's ledger are private",
        "Other local users must not read the config or the token, nor plant a config; these are the audit's fs.* checks. The ledger (clawposture-ledger.json) records every value clawposture wrote and the value it replaced: `clawposture restore --list` and `--undo` use it.",
        "gateway/security/audit-checks.md",
        Some(format!("stat -c '%a %U %n' {cfg} {state} {env} {ledger}")),
        "600 for the config, 700 for the state dir, 600 for .env and the ledger, all owned by you.",
        Check::Verify,
    ));
    v.push(item(
        crate::model::check_ids::STATIC_TOKEN,
        SEC_FILES,
        format!("The Gateway token is in .env and has at least {MIN_TOKEN_LEN} characters"),
        "The config refers to the token by name (a SecretRef); a short token is flagged by the audit (gateway.token_too_short). The commands print its length, never the token.",
        "gateway/configuration/environment-variables.md",
        Some(format!("awk -F= '/^(export )?{TOKEN_ENV}=/{{print length($2)}}' {env}")),
        format!("One number, at least {MIN_TOKEN_LEN}."),
        Check::Verify,
    ));
}

/// The engine and the image (only when an agent has a sandbox).
fn engine_items(ctx: &Context, w: &Words, v: &mut Vec<Item>) {
    let Words {
        sandboxed,
        cli,
        host,
        ..
    } = w;
    let sandboxed = *sandboxed;
    if sandboxed {
        v.push(item(
            crate::model::check_ids::ENGINE_REACHABLE,
            SEC_ENGINE,
            format!("The {cli} engine answers, at the endpoint the Gateway uses"),
            "With the sandbox on and no engine, every sandboxed turn fails (there is no fallback to the host).",
            "gateway/sandboxing.md",
            Some(match ctx.kind() {
                EngineKind::Docker => format!("{host}docker version --format '{{{{.Server.Version}}}}'"),
                EngineKind::Podman => "podman version --format '{{.Server.Version}}'".into(),
            }),
            "A version number, no \"Cannot connect\".",
            Check::Verify,
        ));
        let rootless = ctx.engine.map(|e| e.rootless);
        v.push(item(
            crate::model::check_ids::ENGINE_ROOTLESS,
            SEC_ENGINE,
            format!(
                "The engine is {}, as the config was written for",
                match rootless {
                    Some(true) => "rootless",
                    Some(false) => "rootful",
                    None => "the one",
                }
            ),
            "The sandbox user was chosen for this kind of engine: \"0:0\" is your own user under rootless Docker but real root under a rootful one.",
            "gateway/sandboxing.md",
            Some(match ctx.kind() {
                EngineKind::Docker => format!("{host}docker info --format '{{{{.SecurityOptions}}}}'"),
                EngineKind::Podman => "podman info --format '{{.Host.Security.Rootless}}'".into(),
            }),
            match (ctx.kind(), rootless) {
                (EngineKind::Docker, Some(true)) => "The list contains name=rootless.",
                (EngineKind::Docker, _) => "The list has no name=rootless.",
                (EngineKind::Podman, Some(true)) => "true",
                (EngineKind::Podman, _) => "false",
            },
            Check::Verify,
        ));
        for image in ctx.images() {
            let present = ctx
                .images_present
                .iter()
                .find(|(n, _)| *n == image)
                .map(|(_, p)| *p);
            let check_cmd = match ctx.kind() {
                EngineKind::Docker => {
                    format!("{host}docker image inspect {} --format ok", sh(&image))
                }
                EngineKind::Podman => format!("podman image exists {} && echo ok", sh(&image)),
            };
            let recipe = build_recipe(
                &image,
                ctx.kind(),
                ctx.endpoint
                    .as_deref()
                    .filter(|_| ctx.kind() == EngineKind::Docker),
            );
            let (title, by_hand, expected) = match (present, recipe) {
                (Some(false), Some(r)) => (
                    format!("Build the sandbox image {image} (it is missing)"),
                    format!("{r}\n{check_cmd}"),
                    "The build ends with the image tagged; the check prints ok.".to_string(),
                ),
                (None, Some(r)) => (
                    format!("The sandbox image {image} exists"),
                    format!(
                        "{check_cmd}\n# if it does not, build it (the npm package ships no setup script):\n{r}"
                    ),
                    "ok".to_string(),
                ),
                (_, None) | (Some(true), _) => (
                    format!("The sandbox image {image} exists"),
                    check_cmd,
                    "ok".to_string(),
                ),
            };
            v.push(item(
                crate::model::check_ids::ENGINE_IMAGE,
                SEC_ENGINE,
                title,
                "OpenClaw never pulls or builds the sandbox image, and refuses to substitute plain Debian (the image needs python3 for the file helpers).",
                "gateway/sandboxing/images-and-setup.md",
                Some(by_hand),
                expected,
                Check::Verify,
            ));
        }
        let unit = ctx.unit();
        let (by_hand, expected) = match (ctx.kind(), &ctx.service_docker_host) {
            (EngineKind::Docker, Some(e)) => (
                format!("systemctl --user show {unit} -p Environment"),
                format!("The environment contains DOCKER_HOST={e}, or `$STATE_DIR/.env` defines it (clawposture writes it there; the Gateway loads that file at start). If neither: `systemctl --user edit {unit}`, add `[Service]` and `Environment=DOCKER_HOST={e}`, then restart the Gateway."),
            ),
            (EngineKind::Docker, _) => (
                format!("systemctl --user show {unit} -p Environment"),
                "No DOCKER_HOST or DOCKER_CONTEXT that points at another engine than the one checked above.".to_string(),
            ),
            (EngineKind::Podman, _) => (
                format!("systemctl --user show {unit} -p User -p Environment"),
                "The service runs as the user whose Podman was checked above (rootless Podman storage is per user).".to_string(),
            ),
        };
        v.push(item(
            crate::model::check_ids::GATEWAY_SERVICE_ENV,
            SEC_ENGINE,
            "The Gateway service reaches the same engine",
            "OpenClaw runs the engine's CLI with the service's own environment (DOCKER_HOST, DOCKER_CONTEXT); a service that sees another engine, or none, breaks or weakens the sandbox although this shell's checks pass.",
            "gateway/sandboxing.md",
            Some(by_hand),
            expected,
            Check::Manual,
        ));
    }
}

/// The Gateway runs in a container (the Docker install path): what OpenClaw needs there.
fn container_note(ctx: &Context, v: &mut Vec<Item>) {
    let Some(c) = &ctx.in_container else { return };
    v.push(item(
        crate::model::check_ids::GATEWAY_IN_CONTAINER,
        SEC_ENGINE,
        "The Gateway runs in a container",
        format!(
            "Detection found {}. {}.",
            c.markers.join("; "),
            c.needs
        ),
        "install/docker.md",
        Some("docker inspect \"$HOSTNAME\" --format '{{json .Mounts}}'".into()),
        "The state dir and the workspace are listed with their host Source paths, and the engine's socket is mounted.",
        Check::Note,
    ));
}

/// What OpenClaw itself says of the config.
fn openclaw_items(ctx: &Context, v: &mut Vec<Item>) {
    v.push(item(
        crate::model::check_ids::OPENCLAW_VALIDATE,
        SEC_OPENCLAW,
        "OpenClaw accepts the config",
        "Unknown keys, wrong types or bad values make the Gateway refuse to start.",
        "cli/config.md",
        Some(format!("{} config validate --json", ctx.oc())),
        "\"valid\": true; read any warnings.",
        Check::Verify,
    ));
    let all_agents: Vec<AgentSandbox> = if ctx.sandboxes.is_empty() {
        Vec::new()
    } else {
        ctx.sandboxes.clone()
    };
    for sb in &all_agents {
        let cmds: Vec<String> = explain_cases(sb)
            .iter()
            .map(|c| format!("{} {}", ctx.oc(), explain_args(&sb.agent, c).join(" ")))
            .collect();
        let cases = explain_cases(sb);
        let sessions: Vec<String> = cases
            .iter()
            .map(|c| {
                format!(
                    "{} → sessionIsSandboxed {}",
                    c.session
                        .clone()
                        .unwrap_or_else(|| format!("agent:{}:main", sb.agent)),
                    c.sandboxed
                )
            })
            .collect();
        v.push(item(
            &crate::model::check_ids::openclaw_sandbox(&sb.agent),
            SEC_OPENCLAW,
            format!("OpenClaw resolves agent `{}`'s sandbox as the preset says", sb.agent),
            "`sandbox explain` is OpenClaw's own resolution of defaults and per-agent overrides.",
            "cli/sandbox.md",
            Some(cmds.join("\n")),
            format!("sandbox.mode \"{}\", scope \"{}\", workspaceAccess \"{}\", elevated.enabled false; {}.", sb.mode, sb.scope, sb.workspace_access, sessions.join("; ")),
            Check::Verify,
        ));
    }
    let mut warns = vec!["`gateway.trusted_proxies_missing` (every loopback Gateway; matters only behind a reverse proxy)".to_string()];
    if matches!(ctx.preset.as_str(), "group" | "public") {
        warns.push("`security.trust_model.multi_user_heuristic` (other people reach this Gateway by design)".into());
    }
    v.push(item(
        crate::model::check_ids::OPENCLAW_AUDIT,
        SEC_OPENCLAW,
        "OpenClaw's security audit finds nothing critical",
        "The audit knows OpenClaw's own risky combinations. It exits 0 even with critical findings, so read the summary. Never run it with --fix here: that reverts parts of the presets.",
        "gateway/security/audit-checks.md",
        Some(format!("{} security audit --json", ctx.oc())),
        format!("\"summary\": {{\"critical\": 0, ...}}. Expected warnings: {}.", warns.join("; ")),
        Check::Verify,
    ));
}

/// The sandbox from inside a container, and the running Gateway.
fn live_and_gateway_items(ctx: &Context, w: &Words, v: &mut Vec<Item>) {
    let Words { cli, host, .. } = w;
    for sb in &ctx.sandboxes {
        if ctx.sandboxes.iter().position(|s| s.docker == sb.docker)
            != ctx.sandboxes.iter().position(|s| s.agent == sb.agent)
        {
            continue;
        }
        let d = &sb.docker;
        let mut args = vec![
            format!("{host}{cli} run --rm --init"),
            format!("--network {}", sh(&d.network)),
        ];
        if d.read_only_root {
            args.push("--read-only".into());
        }
        for t in &d.tmpfs {
            if !(ctx.kind() == EngineKind::Podman && d.tmpfs_default && t == "/run") {
                args.push(format!("--tmpfs {}", sh(t)));
            }
        }
        for c in &d.cap_drop {
            args.push(format!("--cap-drop {}", sh(c)));
        }
        args.push("--security-opt no-new-privileges".into());
        if let Some(u) = &d.user {
            args.push(format!("--user {}", sh(u)));
        }
        if ctx.kind() == EngineKind::Podman && ctx.engine.is_some_and(|e| e.rootless) {
            args.push("--userns keep-id".into());
        }
        args.push(sh(&d.image));
        args.push("sh -c 'ls /sys/class/net; cat /proc/net/route; grep -E \"^(Uid|CapEff|CapBnd)\" /proc/self/status; touch /probe'".into());
        v.push(item(
            crate::model::check_ids::LIVE_NETWORK,
            SEC_LIVE,
            format!("A container with agent `{}`'s sandbox settings has no network, a read-only root and no capabilities", sb.agent),
            "A config is a promise; a container started with exactly these settings shows what the engine really does. Checks only read /sys and /proc: nothing is sent anywhere.",
            "gateway/sandboxing.md",
            Some(args.join(" \\\n  ")),
            format!(
                "Only `lo`; the route table is only its header line; CapEff and CapBnd are 0000000000000000; Uid is {}; `touch /probe` fails with \"Read-only file system\". `clawposture verify --live` does all of this with positive controls (ids live.network, live.rootfs, live.capabilities, live.user).",
                d.user.as_deref().and_then(expect::numeric_uid).map(|u| u.to_string()).unwrap_or_else(|| "the image's user".into())
            ),
            Check::Live,
        ));
    }

    v.push(item(
        crate::model::check_ids::GATEWAY_LISTEN,
        SEC_GATEWAY,
        format!("The running Gateway listens on loopback only (port {})", ctx.port),
        "What the process really binds matters, not what the config says (a --bind flag or an older config can win).",
        "gateway/security/network-exposure.md",
        Some(format!("ss -ltn 'sport = :{}'", ctx.port)),
        "Local addresses 127.0.0.1 or [::1] only, never 0.0.0.0, [::] or a LAN address.",
        Check::Verify,
    ));
    v.push(item(
        crate::model::check_ids::GATEWAY_EXEC_APPROVALS,
        SEC_GATEWAY,
        format!("Host exec approvals do not widen tools.exec.mode \"{}\"", ctx.exec_mode.as_deref().unwrap_or("unset")),
        "Onboarding seeds a host approvals policy of security \"full\" and ask \"off\"; with it, full-permission sessions and elevated runs skip approval and `askFallback: \"full\"` runs unanswered prompts.",
        "tools/exec-approvals.md",
        Some(format!("{} approvals get --json", ctx.oc())),
        "No `\"security\": \"full\"`, no `\"askFallback\": \"full\"`, no `autoAllowSkills: true` and no `*` allowlist entry under `file.defaults` or `file.agents`.",
        Check::Verify,
    ));
}

/// What is left for the user to decide.
fn decision_items(ctx: &Context, w: &Words, v: &mut Vec<Item>) {
    let Words { cfg, state, .. } = w;
    if ctx.owner.is_none() {
        v.push(item(
            "owner.unpinned",
            SEC_DECIDE,
            "Pin yourself as the owner",
            "Without commands.ownerAllowFrom, the first pairing you approve becomes the owner on some channels; pinning makes it explicit.",
            "tools/slash-commands.md",
            Some(format!("clawposture apply --threat {} --owner telegram:<your numeric id> --config {cfg} --state-dir {state}", ctx.preset)),
            "commands.ownerAllowFrom lists you; DMs admit only you where the preset says so.",
            Check::Manual,
        ));
    }
}

/// The checklist as Markdown (deterministic: no dates, so re-applying the same posture writes
/// the same file).
pub fn markdown(ctx: &Context) -> String {
    let items = items(ctx);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# OpenClaw security checklist: {} preset\n",
        ctx.preset
    );
    let _ = writeln!(
        out,
        "Written by clawposture for `{}` (state dir `{}`).",
        ctx.config.display(),
        ctx.state_dir.display()
    );
    let engine = match (ctx.engine, &ctx.endpoint) {
        (Some(e), Some(p)) => format!("{} at `{p}`", e.label()),
        (Some(e), None) => e.label().to_string(),
        (None, _) => "none: the sandbox is off".to_string(),
    };
    let _ = writeln!(out, "Container engine: {engine}.\n");
    let _ = writeln!(
        out,
        "Tick each box after checking by hand. `clawposture verify` checks every item marked *(verify)* and prints pass, fail or skipped for each; `clawposture verify --live` also starts a throw-away container with the sandbox settings and proves them from inside; `clawposture verify --e2e` is the strongest check: it runs one real OpenClaw agent turn per agent and session kind in OpenClaw's own sandbox (offline, against a scripted model, in a throwaway state dir; as root; a minute or two per preset). Run it again after every OpenClaw or engine upgrade. A skipped item is not a pass.\n"
    );
    if !ctx.verify_flags.is_empty() {
        let f = &ctx.verify_flags;
        let _ = writeln!(
            out,
            "This config was written with `{f}`, a choice the file cannot tell from a hand edit: run `clawposture verify {f}` (and `clawposture verify {f} --live`) so it is not reported as drift.\n"
        );
    }
    if !ctx.left_open.is_empty() {
        let _ = writeln!(
            out,
            "## Directories left open
"
        );
        for w in &ctx.left_open {
            let _ = writeln!(out, "- [ ] {w}");
        }
        out.push('\n');
    }
    let mut section = "";
    for it in &items {
        if it.section != section {
            section = it.section;
            let _ = writeln!(out, "## {section}\n");
        }
        let tag = match it.check {
            Check::Verify => " *(verify)*",
            Check::Live => " *(verify --live)*",
            Check::Manual => "",
            Check::Note => " *(note)*",
        };
        let _ = writeln!(out, "- [ ] **{}**{tag} `{}`", it.title, it.id);
        let _ = writeln!(out, "  - Why: {} (OpenClaw docs: `{}`)", it.why, it.doc);
        if let Some(cmd) = &it.by_hand {
            let _ = writeln!(out, "  - By hand:\n\n    ```sh");
            for line in cmd.lines() {
                let _ = writeln!(out, "    {line}");
            }
            let _ = writeln!(out, "    ```\n");
        }
        let _ = writeln!(out, "  - Expected: {}\n", it.expected);
    }
    out
}

/// Where the checklist goes.
pub fn path(state_dir: &Path) -> PathBuf {
    state_dir.join(FILE_NAME)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::choice::{self, ChannelId, Inputs};
    use crate::domain::plan::{self, TokenState};
    use crate::model::environment::Environment;

    fn ctx(threat: &str, engine: Option<Engine>, owner: bool) -> Context {
        let preset = crate::domain::preset::builtin()
            .into_iter()
            .find(|p| p.name == threat)
            .unwrap();
        let inputs = Inputs {
            owner: owner.then(|| ChannelId::parse("telegram:1").unwrap()),
            accept_risk: true,
            ..Default::default()
        };
        let choice = choice::adjust(
            &preset,
            &Environment {
                engine,
                uid: 1000,
                gid: 1000,
            },
            &inputs,
        );
        let p = plan::plan(None, &choice, &Default::default(), TokenState::default()).unwrap();
        let resolved = Resolved {
            config: "/home/me/.openclaw/openclaw.json".into(),
            config_source: "default".into(),
            state_dir: "/home/me/.openclaw".into(),
            profile: None,
        };
        Context::from_plan(&choice, &p, &resolved)
    }

    fn ids(c: &Context) -> Vec<String> {
        items(c).into_iter().map(|i| i.id).collect()
    }

    #[test]
    fn first_apply_lists_recreate_restart_engine_and_owner() {
        let c = ctx(
            "private",
            Some(Engine {
                kind: EngineKind::Docker,
                rootless: true,
            }),
            false,
        );
        let ids = ids(&c);
        for want in [
            "sandbox.recreate",
            "gateway.restart",
            "engine.reachable",
            "engine.rootless",
            "engine.image",
            "gateway.service_env",
            "openclaw.validate",
            "openclaw.sandbox[main]",
            "openclaw.audit",
            "live.network",
            "gateway.listen",
            "gateway.exec_approvals",
            "owner.unpinned",
        ] {
            assert!(ids.iter().any(|i| i == want), "{want} missing from {ids:?}");
        }
        let md = markdown(&c);
        assert!(md.contains("- [ ] **Recreate running sandbox containers**"));
        assert!(md.contains("sandbox recreate --all --force"));
        // Unknown image presence: the check and the build recipe.
        assert!(md.contains("docker build -t openclaw-sandbox:bookworm-slim - <<'DOCKERFILE'"));
        assert!(md.contains("--user 0:0"));
    }

    #[test]
    fn missing_image_and_endpoint_shape_the_engine_items() {
        let c = ctx(
            "group",
            Some(Engine {
                kind: EngineKind::Docker,
                rootless: true,
            }),
            true,
        )
        .engine_facts(
            Some("unix:///run/user/1000/docker.sock".into()),
            vec![("openclaw-sandbox:bookworm-slim".into(), false)],
        );
        let it = items(&c);
        let img = it.iter().find(|i| i.id == "engine.image").unwrap();
        assert!(img.title.contains("missing"));
        assert!(img.by_hand.as_ref().unwrap().starts_with(
            "clawposture image build --docker-host unix:///run/user/1000/docker.sock\n"
        ));
        let svc = it.iter().find(|i| i.id == "gateway.service_env").unwrap();
        assert!(
            svc.expected
                .contains("DOCKER_HOST=unix:///run/user/1000/docker.sock")
        );
        assert!(!it.iter().any(|i| i.id == "owner.unpinned"));
        assert!(it.iter().any(|i| i.id == "openclaw.sandbox[group]"));
        let audit = it.iter().find(|i| i.id == "openclaw.audit").unwrap();
        assert!(audit.expected.contains("multi_user_heuristic"));
        let present = c
            .clone()
            .engine_facts(None, vec![("openclaw-sandbox:bookworm-slim".into(), true)]);
        assert!(!markdown(&present).contains("docker build"));
    }

    #[test]
    fn no_engine_has_no_engine_or_live_items_and_podman_uses_its_cli() {
        let c = ctx("private", None, true);
        let ids = ids(&c);
        assert!(
            !ids.iter().any(|i| i.starts_with("engine.")
                || i.starts_with("live.")
                || i == "sandbox.recreate"),
            "{ids:?}"
        );
        let p = ctx(
            "public",
            Some(Engine {
                kind: EngineKind::Podman,
                rootless: true,
            }),
            true,
        );
        let md = markdown(&p);
        assert!(md.contains("podman info --format '{{.Host.Security.Rootless}}'"));
        assert!(md.contains("--userns keep-id"));
        assert!(md.contains("podman build -t openclaw-sandbox:bookworm-slim"));
    }

    #[test]
    fn shell_quoting() {
        assert_eq!(sh("/a/b.json"), "/a/b.json");
        assert_eq!(sh("/a b/it's"), "'/a b/it'\\''s'");
    }
}
