//! `verify --e2e`, the imperative shell: prepare a throwaway state dir with a copy of the
//! config (only the scripted model and a unique container prefix added, workspaces moved
//! into the throwaway dir), check what would make the turn fail or hang (no namespace,
//! `/.dockerenv`, the engine, a rootless daemon of another user, the image), run the turns in
//! fresh namespaces ([`inner`]), then remove every container with the run's prefix, the model
//! and the directory, on every exit path (Ctrl-C, SIGTERM, a timeout included).

pub mod engine;
pub mod inner;
pub mod netns;
pub mod proc;
pub mod server;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::domain::choice::Advanced;
use crate::domain::e2e::evidence::{EngineFacts, Evidence, Turn};
use crate::domain::e2e::judge::{self, Expect};
use crate::domain::e2e::report::Report;
use crate::domain::e2e::script;
use crate::domain::expect;
use crate::domain::preset::Preset;

/// What a run needs.
#[derive(Debug, Clone)]
pub struct Options {
    pub config: PathBuf,
    pub state_dir: PathBuf,
    pub presets: Vec<Preset>,
    pub preset: Option<String>,
    pub advanced: Advanced,
    /// Only this agent.
    pub agent: Option<String>,
    /// Keep the containers and the throwaway dir.
    pub keep: bool,
    pub openclaw: Option<PathBuf>,
    /// `--docker-host`: the endpoint, instead of the one OpenClaw would resolve.
    pub docker_host: Option<String>,
    pub turn_timeout: Duration,
    /// Count skipped checks as failures.
    pub strict: bool,
}

fn now_secs() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

struct Run {
    started: f64,
    t0: Instant,
}

impl Run {
    fn say(&self, line: &str) {
        inner::say(self.started, line);
    }
}

fn setup_failure(against: &str, why: String, fix: Option<String>, run: &Run) -> Report {
    // Stopped during the checks before the run: nothing of the run exists yet.
    if let Some(sig) = proc::stop_signal() {
        run.say(&format!("stopped by signal {sig}"));
        std::process::exit(128 + sig);
    }
    let mut checks = judge::judge(
        &[],
        &Evidence {
            setup_error: Some(why),
            ..Evidence::default()
        },
    );
    if let Some(c) = checks.first_mut() {
        c.fix = fix;
    }
    Report {
        against: against.to_string(),
        checks,
        evidence: Evidence::default(),
        seconds: run.t0.elapsed().as_secs_f64(),
        kept: None,
        strict: false,
    }
}

/// The Gateway's environment and the Docker endpoint its docker CLI reaches, and why: its service definition's
/// environment, then `$STATE_DIR/.env`, then its user's docker context, else the default
/// socket (as `detect` and `apply` see it). Never this shell's DOCKER_HOST: the Gateway does
/// not inherit it, and under `sudo` it is gone anyway. The Gateway's user is the state dir's
/// owner; their home is this shell's when that is us, else theirs from the passwd file.
fn gateway_env(state_dir: &Path, owner: u32) -> crate::model::gateway_env::GatewayEnv {
    let root = PathBuf::from("/");
    let home = if owner == euid() {
        std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
    } else {
        crate::model::detect_options::home_dir(&root, owner)
    };
    let opts = crate::model::detect_options::DetectOptions {
        home,
        uid: owner,
        state_dir: Some(state_dir.to_path_buf()),
        system_root: root,
        ..Default::default()
    };
    crate::edge::detect::gateway_env(&opts)
}

/// The socket path of a `unix://` endpoint.
fn socket_of(endpoint: &str) -> Option<PathBuf> {
    endpoint.strip_prefix("unix://").map(PathBuf::from)
}

fn euid() -> u32 {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() }
}

/// The throwaway config: the user's, plus the scripted model, a unique container prefix and
/// workspaces inside the throwaway dir (OpenClaw seeds a workspace on a first turn: the user's
/// own must stay untouched).
pub fn throwaway_config(user: &Value, prefix: &str, state: &Path, agents: &[String]) -> Value {
    let mut c = user.clone();
    if !c.is_object() {
        c = json!({});
    }
    let model = format!("{}/{}", script::PROVIDER, script::MODEL);
    c["models"] = match c.get("models").cloned() {
        Some(Value::Object(mut m)) => {
            m.insert("mode".into(), json!("merge"));
            let mut providers = m.get("providers").cloned().unwrap_or(json!({}));
            if !providers.is_object() {
                providers = json!({});
            }
            providers[script::PROVIDER] = script::provider("http://127.0.0.1:0/v1");
            m.insert("providers".into(), providers);
            Value::Object(m)
        }
        _ => {
            json!({"mode": "merge", "providers": {script::PROVIDER: script::provider("http://127.0.0.1:0/v1")}})
        }
    };
    if !c["agents"].is_object() {
        c["agents"] = json!({});
    }
    if !c["agents"]["defaults"].is_object() {
        c["agents"]["defaults"] = json!({});
    }
    let d = &mut c["agents"]["defaults"];
    d["model"] = json!({"primary": model});
    d["workspace"] = json!(state.join("workspace").display().to_string());
    if !d["sandbox"].is_object() {
        d["sandbox"] = json!({});
    }
    if !d["sandbox"]["docker"].is_object() {
        d["sandbox"]["docker"] = json!({});
    }
    d["sandbox"]["docker"]["containerPrefix"] = json!(prefix);
    if let Some(entries) = c
        .pointer_mut("/agents/entries")
        .and_then(Value::as_object_mut)
    {
        for (id, e) in entries.iter_mut() {
            if !e.is_object() {
                continue;
            }
            if e.get("model").is_some() {
                e["model"] = json!({"primary": model});
            }
            if e.get("workspace").is_some() || agents.contains(id) && id != "main" {
                e["workspace"] = json!(state.join(format!("workspace-{id}")).display().to_string());
            }
            if let Some(p) = e.pointer_mut("/sandbox/docker/containerPrefix") {
                *p = json!(prefix);
            }
        }
    }
    c
}

fn random_suffix() -> String {
    let mut b = [0u8; 4];
    let _ = getrandom::fill(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Run `verify --e2e`.
pub fn run(o: &Options) -> Report {
    proc::catch_stop_signals();
    let run = Run {
        started: now_secs(),
        t0: Instant::now(),
    };
    run.say("reading the config");
    let text = match std::fs::read_to_string(&o.config) {
        Ok(t) => t,
        Err(e) => {
            return setup_failure(
                "nothing",
                format!("cannot read {}: {e}", o.config.display()),
                None,
                &run,
            );
        }
    };
    let Ok(doc) = crate::domain::document::Document::parse(&text) else {
        return setup_failure(
            "nothing",
            format!("{} does not parse", o.config.display()),
            None,
            &run,
        );
    };
    let user = doc.value();
    // SAFETY: getegid cannot fail.
    let egid = unsafe { libc::getegid() };
    // The file is judged as written for an engine (the run has one): a weakened file (its
    // sandbox off) must not be recognised as the preset's no-engine variant instead. As the
    // state dir's owner, who runs the turn.
    let (uid, gid) = std::fs::metadata(&o.state_dir)
        .map(|m| (m.uid(), m.gid()))
        .unwrap_or((euid(), egid));
    let environments: Vec<_> = crate::domain::recognize::environments(uid, gid)
        .into_iter()
        .filter(|e| e.engine.is_some())
        .collect();
    let recognized = crate::domain::recognize::recognize(
        &text,
        &o.presets,
        &environments,
        o.preset.as_deref(),
        o.advanced,
    );
    // Without a preset there is no threat model to judge the run against: judged against the
    // file itself, a config with every sandbox off would pass because OpenClaw did what it
    // says. Claimed only against a preset (as the static invariants check is).
    let Some(recognized) = recognized else {
        return setup_failure(
            "no preset",
            "no preset recognised in this config, none named with --preset and none applied: no threat model to judge the run against".into(),
            Some("name the preset this Gateway should hold (--preset private|group|public), or write one first with `clawposture apply`".into()),
            &run,
        );
    };
    let (model, preset) = (
        recognized.expected(&user).clone(),
        Some(recognized.preset.clone()),
    );
    let against = format!("the {} preset", recognized.preset);
    let mut agents = expect::agents(&user);
    if let Some(a) = &o.agent {
        if !agents.contains(a) {
            return setup_failure(
                &against,
                format!(
                    "no agent `{a}` in the config (agents: {})",
                    agents.join(", ")
                ),
                None,
                &run,
            );
        }
        agents = vec![a.clone()];
    }
    let expects: Vec<Expect> = judge::expectations(&model, preset.as_deref(), &agents);
    run.say(&format!(
        "judging against {against}; agents: {}",
        agents.join(", ")
    ));
    // OpenClaw.
    let openclaw = o
        .openclaw
        .clone()
        .or_else(|| {
            std::env::var_os("CLAWPOSTURE_OPENCLAW")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
        .or_else(|| which::which("openclaw").ok());
    let Some(openclaw) = openclaw else {
        return setup_failure(
            &against,
            "OpenClaw is not installed here (no `openclaw` on PATH, no --openclaw)".into(),
            Some(
                "install OpenClaw, or use `clawposture verify --live`, which needs only an engine"
                    .into(),
            ),
            &run,
        );
    };
    // The engine OpenClaw's sandbox would use.
    let sandboxes: Vec<_> = agents
        .iter()
        .map(|a| expect::agent_sandbox(&user, a))
        .collect();
    // The backend the config names, sandbox on or off: a file whose sandboxes were turned off
    // still names its engine (and the run must reach it to show nothing was created there).
    let podman = sandboxes.iter().any(|s| s.backend == "podman");
    if !podman && Path::new("/.dockerenv").exists() {
        return setup_failure(&against, "/.dockerenv exists: OpenClaw believes it runs inside a container and tries to resolve its bind mounts through `docker inspect` of itself, so its turn would fail".into(), Some("run verify --e2e where the Gateway runs on the host, or in a private mount namespace without /.dockerenv".into()), &run);
    }
    let mut env: Vec<(String, String)> = Vec::new();
    let state_uid = std::fs::metadata(&o.state_dir).map_or(euid(), |m| m.uid());
    let gateway = gateway_env(&o.state_dir, state_uid);
    let (docker_host, docker_because) = match &o.docker_host {
        Some(h) => (h.clone(), "--docker-host".to_string()),
        None => (gateway.endpoint.clone(), gateway.because.clone()),
    };
    let endpoint = if podman {
        // The Gateway's CONTAINER_HOST (its service definition or `.env`), else this shell's.
        let mut host = gateway
            .var("CONTAINER_HOST")
            .map(|v| v.value.clone())
            .or_else(|| std::env::var("CONTAINER_HOST").ok())
            .filter(|v| !v.is_empty());
        if host.is_none() && euid() != 0 {
            // Inside the user namespace the local `podman` believes it is root: use the user's
            // own API socket (remote mode, which OpenClaw accepts for a local socket).
            let sock = std::env::var_os("XDG_RUNTIME_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(format!("/run/user/{}", euid())))
                .join("podman/podman.sock");
            if sock.exists() {
                host = Some(format!("unix://{}", sock.display()));
            } else {
                return setup_failure(&against, "rootless Podman cannot run inside the probe's private network namespace without its API socket".into(), Some("start it: `systemctl --user start podman.socket` (or set CONTAINER_HOST=unix://…/podman.sock)".into()), &run);
            }
        }
        if let Some(h) = &host {
            env.push(("CONTAINER_HOST".into(), h.clone()));
        }
        host
    } else {
        env.push(("DOCKER_HOST".into(), docker_host.clone()));
        Some(docker_host)
    };
    let cli = engine::Cli {
        program: if podman { "podman" } else { "docker" }.to_string(),
        env: env.clone(),
    };
    run.say(&format!(
        "engine: {} at {}{}",
        cli.program,
        endpoint.as_deref().unwrap_or("its default"),
        if podman {
            String::new()
        } else {
            format!(" (the Gateway's: {docker_because})")
        }
    ));
    let facts = match cli.facts(endpoint.clone()) {
        Ok(f) => f,
        Err(e) => {
            return setup_failure(
                &against,
                format!("the engine does not answer: {e}"),
                Some(
                    "start the engine OpenClaw's sandbox uses (`clawposture detect` shows it)"
                        .into(),
                ),
                &run,
            );
        }
    };
    // A rootless daemon works only for its own user, with a state dir that user owns.
    let state_owner = std::fs::metadata(&o.state_dir)
        .map(|m| (m.uid(), m.gid()))
        .ok();
    // Root makes the namespaces and runs the turn as the state dir's owner.
    let run_as = match state_owner {
        Some((uid, gid)) if euid() == 0 && uid != 0 => Some((uid, gid)),
        _ => None,
    };
    let turn_uid = run_as.map_or(euid(), |(u, _)| u);
    if facts.rootless == Some(true)
        && let Some(sock) = endpoint.as_deref().and_then(socket_of)
        && let Ok(m) = std::fs::metadata(&sock)
        && m.uid() != turn_uid
    {
        return setup_failure(
            &against,
            format!(
                "the rootless engine at {} belongs to uid {}, not to you (uid {}): OpenClaw could not bind-mount the state dir through it",
                sock.display(),
                m.uid(),
                euid()
            ),
            Some(format!(
                "run verify --e2e as root (it runs the turn as the state dir's owner), with a state dir owned by uid {} (the user who runs the Gateway)",
                m.uid()
            )),
            &run,
        );
    }
    if let Ok(m) = std::fs::metadata(&o.state_dir)
        && m.uid() != turn_uid
    {
        return setup_failure(
            &against,
            format!(
                "the state dir {} belongs to uid {}, not to you (uid {})",
                o.state_dir.display(),
                m.uid(),
                euid()
            ),
            Some(format!("run verify --e2e as uid {}", m.uid())),
            &run,
        );
    }
    // Namespaces first: without them, nothing runs.
    let ns = match netns::prefix() {
        Ok(p) => p,
        Err(e) => return setup_failure(&against, e, Some("run it as root: `sudo clawposture verify --e2e` (the turn itself runs as the state dir's owner)".into()), &run),
    };
    // OpenClaw cuts a long prefix to fit the engine's name limit: keep it short.
    let prefix = format!("cpe2e-{}-", random_suffix());
    // The images the sandboxes name.
    let mut images: Vec<String> = sandboxes
        .iter()
        .filter(|s| s.enabled())
        .map(|s| s.docker.image.clone())
        .collect();
    images.dedup();
    for image in &images {
        run.say(&format!("checking the image {image}"));
        match cli.image_present(image) {
            Ok(true) => {}
            Ok(false) => return setup_failure(&against, format!("the sandbox image {image} is not in the engine (OpenClaw never pulls it)"), Some("build it: `clawposture image build` (or point agents.defaults.sandbox.docker.image at a local image)".into()), &run),
            Err(e) => return setup_failure(&against, format!("cannot inspect the image {image}: {e}"), None, &run),
        }
        if let Err(e) = cli.image_runs(image, &format!("{prefix}image-check")) {
            cli.remove_all(&prefix, Path::new("/nonexistent-clawposture"));
            return setup_failure(&against, format!("the image {image} cannot run OpenClaw's sandbox (it needs /bin/sh and `sleep`): {e}"), Some("use an image with a shell and its tools (busybox needs its applet links), e.g. `clawposture image build`".into()), &run);
        }
    }
    // The throwaway directory.
    let base = std::env::temp_dir().join(format!(
        "clawposture-e2e-{}-{}",
        std::process::id(),
        random_suffix()
    ));
    let dir = Dir(base.clone(), o.keep);
    if let Err(e) = std::fs::create_dir(&base).and_then(|_| {
        std::fs::set_permissions(&base, std::os::unix::fs::PermissionsExt::from_mode(0o700))
    }) {
        return setup_failure(
            &against,
            format!("cannot create {}: {e}", base.display()),
            None,
            &run,
        );
    }
    let state = base.join("state");
    let marker = base.join("host-only-marker");
    let _ = std::fs::create_dir(&state);
    // OpenClaw's own temp files too: inside a user namespace the system's /tmp belongs to an
    // unmapped owner, which OpenClaw refuses ("temp workspace directory has an untrusted owner").
    let tmp = base.join("tmp");
    let _ = std::fs::create_dir(&tmp);
    let _ = std::fs::write(&marker, "");
    if let Ok(env_text) = std::fs::read(o.state_dir.join(".env")) {
        let _ = std::fs::write(state.join(".env"), env_text);
        let _ = std::fs::set_permissions(
            state.join(".env"),
            std::os::unix::fs::PermissionsExt::from_mode(0o600),
        );
    }
    if let Some((uid, gid)) = run_as {
        for p in [&base, &state, &tmp, &state.join(".env")] {
            let _ = std::os::unix::fs::chown(p, Some(uid), Some(gid));
        }
    }
    let config = throwaway_config(&user, &prefix, &state, &agents);
    let evidence_path = base.join("evidence.json");
    let mut openclaw_env: Vec<(String, String)> = vec![
        (
            "OPENCLAW_CONFIG_PATH".into(),
            state.join("openclaw.json").display().to_string(),
        ),
        ("OPENCLAW_STATE_DIR".into(), state.display().to_string()),
        ("OPENCLAW_NO_AUTO_UPDATE".into(), "1".into()),
        ("OPENCLAW_DISABLE_BONJOUR".into(), "1".into()),
        ("TMPDIR".into(), tmp.display().to_string()),
        ("NO_COLOR".into(), "1".into()),
        ("TERM".into(), "dumb".into()),
    ];
    openclaw_env.extend(env.iter().cloned());
    let plan = inner::Plan {
        openclaw,
        state_dir: state.clone(),
        config_path: state.join("openclaw.json"),
        config,
        turns: expects
            .iter()
            .map(|e| (e.agent.clone(), e.session.clone(), e.main))
            .collect(),
        prefix: prefix.clone(),
        engine_program: cli.program.clone(),
        engine_env: env.clone(),
        openclaw_env,
        turn_timeout_secs: o.turn_timeout.as_secs().max(10),
        host_marker: marker,
        evidence: evidence_path.clone(),
        base: base.clone(),
        started: run.started,
        run_as,
    };
    let plan_path = base.join("plan.json");
    if let Err(e) = std::fs::write(&plan_path, serde_json::to_string(&plan).unwrap_or_default()) {
        return setup_failure(
            &against,
            format!("cannot write {}: {e}", plan_path.display()),
            None,
            &run,
        );
    }
    let exe = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => {
            return setup_failure(
                &against,
                format!("cannot find clawposture's own binary: {e}"),
                None,
                &run,
            );
        }
    };
    let mut argv = ns;
    argv.extend([
        exe.display().to_string(),
        "__e2e-inner".into(),
        plan_path.display().to_string(),
    ]);
    run.say(&format!(
        "{} turn(s), about a minute each; containers named {prefix}*",
        plan.turns.len()
    ));
    let deadline =
        Duration::from_secs((plan.turn_timeout_secs + 45) * plan.turns.len() as u64 + 30);
    let ran = proc::run_inherit_stderr(&argv, &[], &base, deadline);
    let mut setup_error = None;
    if ran.timed_out {
        setup_error = Some(format!(
            "the run did not finish in {} s",
            deadline.as_secs()
        ));
    } else if let Some(e) = &ran.error {
        setup_error = Some(e.clone());
    } else if !ran.ok() && !ran.interrupted {
        setup_error = Some(format!(
            "the namespaced run failed: {}",
            proc::tail(ran.stderr.trim(), 3)
        ));
    }
    let turns: Vec<Turn> = std::fs::read_to_string(&evidence_path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    if !turns.is_empty() && !ran.timed_out {
        setup_error = None;
    }
    let leftover = if o.keep {
        Vec::new()
    } else {
        run.say("removing the run's containers");
        cli.remove_all(&prefix, &base)
    };
    let kept = o
        .keep
        .then(|| format!("{} and containers {prefix}*", base.display()));
    drop(dir);
    if let Some(sig) = proc::stop_signal() {
        run.say(&format!("stopped by signal {sig}; cleaned up"));
        std::process::exit(128 + sig);
    }
    let evidence = Evidence {
        turns,
        engine: EngineFacts { ..facts },
        container_prefix: prefix,
        setup_error,
        leftover,
    };
    let checks = judge::judge(&expects, &evidence);
    Report {
        against,
        checks,
        evidence,
        seconds: run.t0.elapsed().as_secs_f64(),
        kept,
        strict: o.strict,
    }
}

/// The throwaway directory, removed when dropped (unless kept).
struct Dir(PathBuf, bool);

impl Drop for Dir {
    fn drop(&mut self) {
        if !self.1 {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
