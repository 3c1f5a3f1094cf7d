//! What a write did, for every front end's report.

use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq)]
pub struct WriteOutcome {
    /// The file that was replaced (the symlink's target when the config is a symlink).
    pub written: PathBuf,
    pub via_symlink: bool,
    pub backup: Option<PathBuf>,
    pub env_file: Option<PathBuf>,
    /// Permissions clawposture tightened, for the report.
    pub tightened: Vec<String>,
}
