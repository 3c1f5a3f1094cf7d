//! Command-line arguments (clap). Every front end fills the same answers from these flags.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::domain::choice::{SandboxNetwork, Setting, WorkspaceAccess};

/// `--help`'s closing text: the wizard, and the exit-code table every command shares.
const AFTER_HELP: &str = concat!(
    "Without a command, clawposture starts the interactive wizard; the answer flags above pre-fill it (e.g. --threat public starts on the Preset screen).\n\n",
    crate::model::exit::exit_codes_help!()
);

#[derive(Debug, Parser)]
#[command(
    name = "clawposture",
    version = crate::model::versions::LINE,
    about = "Put an OpenClaw installation into a secure posture in one run, and prove that it did.",
    after_help = AFTER_HELP,
    // The wizard's answer flags belong to the bare command; `apply` has its own copies.
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(flatten)]
    pub wizard: WizardArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Args)]
pub struct Global {
    /// The OpenClaw config file to edit (default: resolved as OpenClaw does: OPENCLAW_CONFIG_PATH,
    /// $OPENCLAW_STATE_DIR/openclaw.json, $OPENCLAW_HOME/.openclaw/openclaw.json, ~/.openclaw/openclaw.json).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Work on OpenClaw's `--profile NAME` Gateway (~/.openclaw-NAME), e.g. a separate public Gateway.
    #[arg(long, global = true, value_name = "NAME", value_parser = profile_name)]
    pub openclaw_profile: Option<String>,
    /// OpenClaw's state dir, as OPENCLAW_STATE_DIR: the token in .env and, unless --config says otherwise, the config PATH/openclaw.json (default: OPENCLAW_STATE_DIR or ~/.openclaw).
    #[arg(long, global = true, value_name = "PATH")]
    pub state_dir: Option<PathBuf>,
    /// The engine endpoint to probe first (like DOCKER_HOST), e.g. unix:///run/user/1000/docker.sock.
    #[arg(long, global = true, value_name = "URL")]
    pub docker_host: Option<String>,
}

fn size(s: &str) -> Result<(u16, u16), String> {
    let (c, r) = s.split_once('x').ok_or("COLSxROWS, e.g. 80x24")?;
    let (c, r) = (
        c.parse::<u16>().map_err(|e| e.to_string())?,
        r.parse::<u16>().map_err(|e| e.to_string())?,
    );
    if c < 20 || r < 8 {
        return Err("at least 20x8".into());
    }
    Ok((c, r))
}

fn profile_name(s: &str) -> Result<String, String> {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        Ok(s.to_string())
    } else {
        Err("a profile name is letters, digits, `-` and `_`".into())
    }
}

/// The bare command (the wizard): apply's answers pre-fill it.
#[derive(Debug, Clone, Args)]
pub struct WizardArgs {
    #[command(flatten)]
    pub answers: Answers,
    /// Ask the questions line by line instead of full screen (automatic when stdout is not a terminal).
    #[arg(long)]
    pub plain: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Detect Docker / Podman, rootless support and OpenClaw, and say which engine the sandbox would use.
    Detect {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Render every wizard screen on fixed example machines as SVG (and PNG) for docs.
    Screenshots {
        /// Where to write the pictures.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Terminal size, COLSxROWS.
        #[arg(long, default_value = "80x24", value_parser = size)]
        size: (u16, u16),
        /// Formats to write: svg, png (png needs rsvg-convert).
        #[arg(long, value_delimiter = ',', default_value = "svg,png")]
        format: Vec<String>,
    },
    /// List the presets: who can reach the agent and what it may do.
    Presets {
        /// Print JSON (every owned key with its value, reason and doc path).
        #[arg(long)]
        json: bool,
    },
    /// Show what a preset would change in the config, as a diff (writes nothing; exits as apply would, refusals included).
    Plan {
        #[command(flatten)]
        answers: Answers,
        /// Print the plan as JSON instead of a diff.
        #[arg(long)]
        json: bool,
    },
    /// Write the preset into the config (backup first, atomic, 0600), and the token into .env.
    Apply {
        #[command(flatten)]
        answers: Answers,
        /// Do not ask for confirmation (needed without a terminal).
        #[arg(long, short = 'y')]
        yes: bool,
        /// Show the plan and stop; write nothing (exits as apply would, refusals included).
        #[arg(long)]
        dry_run: bool,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Go back: list the backups (--list), or undo clawposture's last write (--undo), keeping your edits since.
    Restore {
        /// Put this backup back (a file name `--list` shows): its exact bytes, after a backup of
        /// the current file.
        #[arg(value_name = "BACKUP", conflicts_with_all = ["list", "undo"])]
        backup: Option<String>,
        /// List the backups: time, what the file held, whether it holds a literal secret.
        #[arg(long, conflicts_with = "undo", required_unless_present_any = ["undo", "backup"])]
        list: bool,
        /// Undo the last write (refused when the same keys were edited since).
        #[arg(long)]
        undo: bool,
        /// Do not ask for confirmation (needed without a terminal).
        #[arg(long, short = 'y')]
        yes: bool,
        /// Print the list as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check that the posture holds (static, engine, OpenClaw; --live proves the sandbox).
    Verify(crate::front::verify_args::VerifyArgs),
    /// Print a shell completion script, e.g. `clawposture completions bash > ~/.local/share/bash-completion/completions/clawposture`.
    Completions {
        #[arg(value_enum)]
        shell: crate::front::shellgen::Shell,
    },
    /// Print the man page (roff), e.g. `clawposture man | man -l -`.
    Man,
    /// Internal: the namespaced half of `verify --e2e` (runs the turns described in PLAN).
    #[command(name = "__e2e-inner", hide = true)]
    E2eInner { plan: PathBuf },
    /// The sandbox image: status (built by clawposture, current?), build (with progress), recipe.
    Image(crate::front::image_args::ImageArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EngineArg {
    Docker,
    DockerRootless,
    Podman,
    PodmanRootless,
    None,
}

impl EngineArg {
    pub fn label(self) -> &'static str {
        match self {
            EngineArg::Docker => "docker",
            EngineArg::DockerRootless => "docker-rootless",
            EngineArg::Podman => "podman",
            EngineArg::PodmanRootless => "podman-rootless",
            EngineArg::None => "none",
        }
    }
}

/// The answers every front end asks for.
#[derive(Debug, Clone, Args)]
pub struct Answers {
    /// Who can reach the agent: private (only me), group (me and people I trust), public (strangers),
    /// or the name of a preset of your own.
    #[arg(long, value_name = "THREAT")]
    pub threat: Option<String>,
    /// The container engine the sandbox uses (none: no sandbox). Detection then looks for that
    /// engine: if none of it answers, nothing is written (exit 3).
    #[arg(long, value_enum)]
    pub engine: Option<EngineArg>,
    /// Trust --engine without looking for it (a config prepared for another machine).
    #[arg(long, requires = "engine")]
    pub no_detect: bool,
    /// Pin the owner, e.g. telegram:123456789 (DMs then admit only the owner).
    #[arg(long, value_name = "CHANNEL:ID")]
    pub owner: Option<String>,
    /// A group chat the group agent answers in, e.g. telegram:-1001234567890 (repeatable).
    #[arg(long = "group", value_name = "CHANNEL:CHAT_ID")]
    pub groups: Vec<String>,
    /// A trusted member who may trigger the agent in those groups (repeatable).
    #[arg(long = "member", value_name = "CHANNEL:ID")]
    pub members: Vec<String>,
    /// Accept writing a preset whose sandbox cannot run here (public without a container engine).
    #[arg(long)]
    pub accept_risk: bool,
    /// What sandboxed runs see of the agent workspace (default: the preset's choice).
    #[arg(long, value_name = "none|ro|rw", value_parser = WorkspaceAccess::parse)]
    pub workspace_access: Option<WorkspaceAccess>,
    /// Whether sandboxed runs get a network: none, or bridge for internet and LAN (default: the preset's choice).
    #[arg(long, value_name = "none|bridge", value_parser = SandboxNetwork::parse)]
    pub sandbox_network: Option<SandboxNetwork>,
    /// Turn a Gateway that serves a private owner public anyway (instead of --openclaw-profile public).
    #[arg(long)]
    pub same_gateway: bool,
    /// Backups of the config to keep besides the first one (the file before clawposture).
    #[arg(long, value_name = "N", default_value_t = crate::edge::backups::KEEP)]
    pub keep_backups: usize,
    /// Loosen values you set yourself where the preset (or an advanced answer) is less strict (with --yes).
    #[arg(long)]
    pub allow_loosen: bool,
    /// Move literal channel secrets (bot tokens, API keys) from the config into $STATE_DIR/.env
    /// (0600); the config then refers to each by name. Without it, nothing is moved.
    #[arg(long)]
    pub move_secrets: bool,
}

#[cfg(test)]
mod help_tests {
    #[test]
    fn help_ends_with_the_exit_code_table() {
        assert!(super::AFTER_HELP.ends_with(crate::model::exit::HELP));
    }
}
