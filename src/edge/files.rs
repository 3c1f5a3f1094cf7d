//! The files every front end reads and writes around a plan: the config's bytes, whether
//! `.env` holds the token, the checklist, and running the application layer's jobs.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::app::{CheckJob, WriteJob};
use crate::domain::checklist;
use crate::domain::plan::TokenState;
use crate::edge::write::{self, WriteOutcome, WriteRequest};
use crate::model::checks::Report;
use crate::model::exit::{Failure, Stop};

/// The config's bytes (None: no file yet).
pub fn read_config(path: &Path) -> Result<Option<Vec<u8>>, Failure> {
    // A FIFO or device is refused at once, never read (a FIFO would block forever).
    write::read_regular(path).map_err(|e| Failure::new(Stop::Refused, e.to_string()))
}

/// The ledger's bytes (None: none yet). One that cannot be read is treated as corrupt by the
/// application layer, never as a reason to stop.
pub fn read_ledger(state_dir: &Path) -> Option<Vec<u8>> {
    match write::read_regular(&state_dir.join(crate::domain::ledger::FILE_NAME)) {
        Ok(bytes) => bytes,
        Err(_) => Some(b"(not a regular file)".to_vec()),
    }
}

/// Whether `$STATE_DIR/.env` already holds the Gateway token.
pub fn token_state(state_dir: &Path) -> TokenState {
    TokenState {
        env_file_has_token: write::env_file_has_token(state_dir),
        docker_host: write::env_file_value(state_dir, "DOCKER_HOST"),
        policy_file: policy_file(state_dir),
        env_vars: env_vars(state_dir),
    }
}

/// What `$STATE_DIR/.env` defines, as OpenClaw reads it (nothing when it is not a regular
/// UTF-8 file: the write refuses such a file anyway).
pub fn env_vars(state_dir: &Path) -> crate::domain::secret_moves::EnvVars {
    match write::read_regular(&state_dir.join(".env")) {
        Ok(Some(bytes)) => {
            crate::domain::secret_moves::EnvVars::from_text(&String::from_utf8_lossy(&bytes))
        }
        _ => Default::default(),
    }
}

/// `$STATE_DIR/clawposture.policy.jsonc` as found: its absolute path (the config names it) and
/// its bytes (a FIFO, device or directory there counts as a file of someone else's).
pub fn policy_file(state_dir: &Path) -> crate::domain::policy::PolicyFile {
    let dir = std::path::absolute(state_dir).unwrap_or_else(|_| state_dir.to_path_buf());
    let path = dir.join(crate::domain::policy::FILE_NAME);
    let bytes = match write::read_regular(&path) {
        Ok(b) => b,
        Err(_) => Some(b"(not a regular file)".to_vec()),
    };
    crate::domain::policy::PolicyFile { path, bytes }
}

/// The one write path of every front end: the config (and `.env`), and the checklist under
/// the same lock (with the directories the write left open).
pub fn run_write(job: &WriteJob) -> Result<(WriteOutcome, PathBuf), Failure> {
    let render = |left_open: &[String]| {
        checklist::markdown(&job.checklist.clone().left_open(left_open.to_vec()))
    };
    let path = checklist::path(&job.state_dir);
    let ledger = |at: &str, backup: Option<&str>| {
        job.ledger
            .as_ref()
            .map(|(_, p)| p.render(at, backup))
            .unwrap_or_default()
    };
    let outcome = write::write(&WriteRequest {
        config: &job.config,
        original: job.original.as_deref(),
        new_text: &job.new_text,
        state_dir: &job.state_dir,
        env_file: &job.env_file,
        env_docker_host: job.env_docker_host.as_deref(),
        env_secrets: &job.env_secrets,
        now: SystemTime::now(),
        checklist: Some((path.clone(), &render)),
        ledger: job
            .ledger
            .as_ref()
            .map(|(p, _)| (p.clone(), &ledger as &write::RenderLedger)),
        keep_backups: job.keep_backups,
        policy: job
            .policy
            .as_ref()
            .map(|(path, seen, text)| write::PolicyRequest {
                path,
                seen: seen.as_deref(),
                text,
            }),
    })
    .map_err(|e| Failure::new(Stop::Refused, format!("refused to write: {e}")))?;
    Ok((outcome, path))
}

/// Nothing to write: still sweep the temps a killed run left (see `write::sweep_stale`).
pub fn sweep_stale(resolved: &crate::model::paths::Resolved) {
    write::sweep_stale(&resolved.config, &resolved.state_dir);
}

/// verify's static and engine items on what was just written (or found to hold already);
/// with nothing written, the temps a killed run left are swept first.
pub fn run_check(job: &CheckJob) -> Report {
    if job.sweep_stale {
        sweep_stale(&job.resolved);
    }
    crate::edge::verify::after_apply(
        &job.resolved,
        &job.presets,
        &job.preset,
        Some(job.engine),
        job.endpoint.clone(),
        job.endpoint_source.clone(),
        job.advanced,
    )
}
