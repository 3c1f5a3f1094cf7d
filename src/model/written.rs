//! What a write did, for every front end's report.

use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq)]
pub struct WriteOutcome {
    /// The file that was replaced (the symlink's target when the config is a symlink).
    pub written: PathBuf,
    pub via_symlink: bool,
    pub backup: Option<PathBuf>,
    pub env_file: Option<PathBuf>,
    /// The variables this write set in `env_file`: names only, values are never shown.
    pub env_names: Vec<String>,
    /// Permissions clawposture tightened, for the report.
    pub tightened: Vec<String>,
    /// Directories clawposture left open because they are not its own alone (shared, sticky,
    /// someone else's, or not created by it), each with what to do.
    pub warnings: Vec<String>,
    /// The checklist written under the lock (None when the request had none).
    pub checklist: Option<PathBuf>,
    /// Run as root on another user's files: whose they stay, in words (None otherwise).
    pub owned_by: Option<String>,
}
