//! The `verify` subcommand's flags and entry point (the lead wires them into cli.rs/run.rs).

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::domain::choice::{Advanced, SandboxNetwork, Setting, WorkspaceAccess};
use crate::domain::preset::Preset;
use crate::edge::verify::{OpenClaw, Options, verify};
use crate::front::cli::EngineArg;
use crate::model::environment::Engine;
use crate::model::exit::{EXIT_USAGE, Failure};
use crate::model::paths::Resolved;

/// Check that the config still holds its preset, that the engine and image are ready, that
/// OpenClaw agrees, and (with --live) prove the sandbox from inside a container.
/// Exit 0 when nothing failed, 1 otherwise (skipped items never count as passed).
#[derive(Debug, Clone, Args)]
pub struct VerifyArgs {
    /// Also start a throw-away container with the sandbox settings and prove no network, a
    /// read-only root, no capabilities and the configured uid from inside it.
    #[arg(long)]
    pub live: bool,
    /// Prove the posture with OpenClaw's own runtime: one real `openclaw agent --local` turn per
    /// agent and session kind, against a scripted model on loopback, in a fresh network
    /// namespace and a throwaway state dir (about a minute per turn).
    #[arg(long, conflicts_with = "live")]
    pub e2e: bool,
    /// With --e2e: only this agent.
    #[arg(long, value_name = "ID", requires = "e2e")]
    pub agent: Option<String>,
    /// With --e2e: keep the throwaway state dir and the containers OpenClaw created.
    #[arg(long, requires = "e2e")]
    pub keep: bool,
    /// Print the result as JSON (schema: docs/verify-json.md).
    #[arg(long)]
    pub json: bool,
    /// Count skipped items as failures.
    #[arg(long)]
    pub strict: bool,
    /// Run the live probe from this local image instead of the configured sandbox image
    /// (same settings; it needs /bin/sh).
    #[arg(long, value_name = "IMAGE")]
    pub probe_image: Option<String>,
    /// Let the OpenClaw checks use the network (the audit may install channel plugins).
    /// Without it they run in an empty network namespace, or are skipped.
    #[arg(long)]
    pub allow_network: bool,
    /// Compare with this preset instead of recognising one from the file.
    #[arg(long, value_name = "PRESET")]
    pub preset: Option<String>,
    /// The workspace access the config was written with on purpose (apply's
    /// --workspace-access): that value is then not reported as drift.
    #[arg(long, value_name = "none|ro|rw", value_parser = WorkspaceAccess::parse)]
    pub workspace_access: Option<WorkspaceAccess>,
    /// The sandbox network the config was written with on purpose (apply's --sandbox-network):
    /// that value is then not drift, and a network the config grants is reported as chosen
    /// (skipped, not proven isolated) instead of failed.
    #[arg(long, value_name = "none|bridge", value_parser = SandboxNetwork::parse)]
    pub sandbox_network: Option<SandboxNetwork>,
    /// The engine the config was written for, instead of inferring it from the file.
    #[arg(long, value_enum)]
    pub engine: Option<EngineArg>,
    /// The engine endpoint to check: filled from the global `--docker-host` by run.rs (not a
    /// flag of its own). None: detection's choice for the config's backend, else DOCKER_HOST /
    /// CONTAINER_HOST, else the usual rootless and rootful sockets.
    #[arg(skip)]
    pub docker_host: Option<String>,
    /// The `openclaw` CLI to check with (default: $CLAWPOSTURE_OPENCLAW, else `openclaw` on
    /// PATH). The variable is a default only: `--no-openclaw` still turns the checks off.
    #[arg(long, value_name = "PATH")]
    pub openclaw: Option<PathBuf>,
    /// Do not run the OpenClaw CLI at all.
    #[arg(long, conflicts_with = "openclaw")]
    pub no_openclaw: bool,
    /// Time limit for each OpenClaw call.
    #[arg(long, value_name = "SECONDS", default_value_t = 180)]
    pub openclaw_timeout: u64,
}

/// The advanced answers of the last write to this config, from the ledger (none when there
/// is no ledger this build can read).
fn remembered_advanced(resolved: &Resolved) -> Advanced {
    use crate::domain::ledger;
    let loaded = ledger::parse(crate::edge::files::read_ledger(&resolved.state_dir).as_deref());
    let Some(answers) = loaded
        .ledger()
        .and_then(|l| l.last_answers(&resolved.config.display().to_string()))
    else {
        return Advanced::default();
    };
    Advanced {
        workspace_access: answers
            .workspace_access
            .as_deref()
            .and_then(|w| WorkspaceAccess::parse(w).ok()),
        sandbox_network: answers
            .sandbox_network
            .as_deref()
            .and_then(|n| SandboxNetwork::parse(n).ok()),
    }
}

/// The preset and engine of the last apply to this config, from the ledger: the threat model
/// verify judges the invariants against, and the engine the user mapping was written for.
fn remembered_threat(resolved: &Resolved) -> (Option<String>, Option<Option<Engine>>) {
    let loaded = crate::domain::ledger::parse(
        crate::edge::files::read_ledger(&resolved.state_dir).as_deref(),
    );
    let config = resolved.config.display().to_string();
    let last = loaded.ledger().and_then(|l| {
        l.writes
            .iter()
            .rfind(|w| w.kind == "apply" && w.config.as_deref().is_none_or(|c| c == config))
    });
    match last {
        Some(w) => (
            Some(w.preset.clone()),
            w.engine.as_deref().and_then(Engine::parse_label),
        ),
        None => (None, None),
    }
}

/// The options a `verify` invocation stands for.
pub fn options(
    args: &VerifyArgs,
    resolved: &Resolved,
    presets: &[Preset],
) -> Result<Options, Failure> {
    if let Some(p) = &args.preset
        && !presets.iter().any(|x| &x.name == p)
    {
        return Err(Failure {
            code: EXIT_USAGE,
            message: format!("no preset named `{p}`; `clawposture presets` lists them."),
        });
    }
    let mut o = Options::new(&resolved.config, &resolved.state_dir, presets.to_vec());
    o.preset = args.preset.clone();
    (o.threat, o.written_for) = remembered_threat(resolved);
    // A deliberate advanced answer is in the ledger: the flags are only needed to override it.
    let remembered = remembered_advanced(resolved);
    o.advanced = Advanced {
        workspace_access: args.workspace_access.or(remembered.workspace_access),
        sandbox_network: args.sandbox_network.or(remembered.sandbox_network),
    };
    o.engine = args
        .engine
        .map(|e| Engine::parse_label(e.label()).flatten());
    o.engine_host = args.docker_host.clone();
    o.live = args.live;
    o.strict = args.strict;
    o.probe_image = args.probe_image.clone();
    o.allow_network = args.allow_network;
    let from_env = std::env::var_os("CLAWPOSTURE_OPENCLAW")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    o.openclaw = match (args.openclaw.clone().or(from_env), args.no_openclaw) {
        (_, true) => OpenClaw::Off,
        (Some(p), false) => OpenClaw::Path(p),
        (None, false) => OpenClaw::Auto,
    };
    o.openclaw_timeout = Duration::from_secs(args.openclaw_timeout.max(1));
    // Test hook (built only with the `fault-injection` feature): keep probe containers alive
    // so a test can kill verify while one runs.
    o.hold_secs = if cfg!(feature = "fault-injection") {
        std::env::var("CLAWPOSTURE_PROBE_HOLD_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
    } else {
        None
    };
    Ok(o)
}

/// Run `clawposture verify`; prints the report and returns the exit code (0 nothing failed,
/// 1 something failed or --strict and something was skipped, 128+N interrupted by signal N).
pub fn run_verify(
    args: &VerifyArgs,
    resolved: &Resolved,
    presets: &[Preset],
) -> Result<i32, Failure> {
    let opts = options(args, resolved, presets)?;
    if args.e2e {
        return Ok(run_e2e(args, &opts));
    }
    let report = verify(&opts);
    print_report(args.json, &report.to_json(), &report.to_text());
    if !args.json
        && !args.live
        && report
            .outcomes
            .iter()
            .any(|o| o.group == crate::model::checks::Group::Engine)
    {
        println!(
            "(The sandbox was not probed live: run with --live to prove it from inside a container.)"
        );
    }
    Ok(report.exit_code())
}

/// `verify --e2e`: the report on stdout (text or JSON), progress on stderr.
fn run_e2e(args: &VerifyArgs, opts: &Options) -> i32 {
    let e2e = crate::edge::e2e::Options {
        config: opts.config.clone(),
        state_dir: opts.state_dir.clone(),
        presets: opts.presets.clone(),
        // Judged against the named preset, else the last apply's (the ledger), as `verify`
        // is: a hand edit must not make the file look like a weaker preset.
        preset: opts.preset.clone().or_else(|| {
            opts.threat
                .clone()
                .filter(|t| opts.presets.iter().any(|p| &p.name == t))
        }),
        advanced: opts.advanced,
        agent: args.agent.clone(),
        keep: args.keep,
        openclaw: match &opts.openclaw {
            OpenClaw::Path(p) => Some(p.clone()),
            _ => None,
        },
        docker_host: args.docker_host.clone(),
        turn_timeout: opts.openclaw_timeout,
        strict: args.strict,
    };
    let report = crate::edge::e2e::run(&e2e);
    print_report(args.json, &report.to_json(), &report.to_text());
    report.exit_code()
}

/// A report on stdout: its JSON, or its text coloured on a terminal.
fn print_report(json: bool, as_json: &serde_json::Value, text: &str) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(as_json).unwrap_or_default()
        );
    } else {
        print!(
            "{}",
            crate::front::summary::paint(text, crate::front::summary::use_color())
        );
    }
}
