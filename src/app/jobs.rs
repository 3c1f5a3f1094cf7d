//! The application layer's requests to the edges, as data: a front end hands them to
//! `edge::files::{run_write, run_check}` (or the wizard's effect runner) unchanged.

use std::path::PathBuf;

use crate::domain::checklist::Context;
use crate::domain::choice::Advanced;
use crate::domain::plan::EnvFileAction;
use crate::domain::preset::Preset;
use crate::model::environment::Engine;
use crate::model::paths::Resolved;

/// The write every front end performs: the config (and `.env`), then the checklist beside it,
/// which says how to check what was just written.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteJob {
    /// Backups kept besides the first one (`--keep-backups`, 5 by default).
    pub keep_backups: usize,
    pub config: PathBuf,
    pub original: Option<Vec<u8>>,
    pub new_text: String,
    pub state_dir: PathBuf,
    pub env_file: EnvFileAction,
    /// `DOCKER_HOST` to set in `.env` for the Gateway service (None: leave it).
    pub env_docker_host: Option<String>,
    /// Literal channel secrets the config is about to refer to (written to `.env` first).
    pub env_secrets: Vec<crate::domain::secret_moves::EnvSecret>,
    /// Written beside the config once the config is written.
    pub checklist: Context,
    /// The ledger, written under the same lock right after the config (None: left alone).
    pub ledger: Option<(PathBuf, crate::domain::ledger::Pending)>,
    /// The preset's policy file, the bytes the plan saw there (None: no file) and its new
    /// text: written before the config that names it.
    pub policy: Option<(PathBuf, Option<Vec<u8>>, String)>,
}

/// The static and engine items of `verify` to run on what was just written.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckJob {
    pub resolved: Resolved,
    /// The preset just written (or found): judged against it, never re-guessed from the file.
    pub preset: String,
    pub presets: Vec<Preset>,
    pub engine: Option<Engine>,
    pub endpoint: Option<String>,
    /// Where `endpoint` came from, in words (`DOCKER_HOST`, `rootless docker socket`); None:
    /// `--docker-host`.
    pub endpoint_source: Option<String>,
    pub advanced: Advanced,
    /// Nothing is written: the check first sweeps the temps a killed run left (a write sweeps
    /// them itself), so every front end's nothing-to-write path does.
    pub sweep_stale: bool,
}
