//! The files every front end reads and writes around a plan: the config's bytes, whether
//! `.env` holds the token, the checklist, and running the application layer's jobs.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::app::{CheckJob, WriteJob};
use crate::domain::checklist::{self, Context};
use crate::domain::plan::TokenState;
use crate::edge::write::{self, WriteError, WriteOutcome, WriteRequest};
use crate::model::checks::Report;
use crate::model::exit::{Failure, Stop};

/// The config's bytes (None: no file yet).
pub fn read_config(path: &Path) -> Result<Option<Vec<u8>>, Failure> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Failure::new(
            Stop::Refused,
            format!("cannot read {}: {e}", path.display()),
        )),
    }
}

/// Whether `$STATE_DIR/.env` already holds the Gateway token.
pub fn token_state(state_dir: &Path) -> TokenState {
    TokenState {
        env_file_has_token: write::env_file_has_token(state_dir),
    }
}

/// Write the checklist (0600, atomic, in a 0700 state dir).
pub fn write_checklist(ctx: &Context) -> Result<PathBuf, WriteError> {
    let mut tightened = Vec::new();
    write::private_dir(&ctx.state_dir, &mut tightened)?;
    let target = checklist::path(&ctx.state_dir);
    write::atomic_replace(&target, checklist::markdown(ctx).as_bytes(), "checklist")?;
    Ok(target)
}

/// The one write path of every front end: the config (and `.env`), then the checklist.
pub fn run_write(job: &WriteJob) -> Result<(WriteOutcome, PathBuf), Failure> {
    let outcome = write::write(&WriteRequest {
        config: &job.config,
        original: job.original.as_deref(),
        new_text: &job.new_text,
        state_dir: &job.state_dir,
        env_file: &job.env_file,
        now: SystemTime::now(),
    })
    .map_err(|e| Failure::new(Stop::Refused, format!("refused to write: {e}")))?;
    let path = write_checklist(&job.checklist).map_err(|e| {
        Failure::new(
            Stop::Refused,
            format!(
                "wrote {}, but not the checklist: {e}",
                outcome.written.display()
            ),
        )
    })?;
    Ok((outcome, path))
}

/// verify's static and engine items on what was just written (or found to hold already).
pub fn run_check(job: &CheckJob) -> Report {
    crate::edge::verify::after_apply(
        &job.resolved,
        &job.presets,
        &job.preset,
        Some(job.engine),
        job.endpoint.clone(),
        job.advanced,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::paths::Resolved;

    #[test]
    fn checklist_file_is_private_and_atomic() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        let resolved = Resolved {
            config: dir.path().join("openclaw.json"),
            config_source: "--config".into(),
            state_dir: state.clone(),
            profile: None,
        };
        let c = Context::new("private", &serde_json::json!({}), &resolved, None);
        let p = write_checklist(&c).unwrap();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            std::fs::metadata(&state).unwrap().permissions().mode() & 0o777,
            0o700
        );
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            checklist::markdown(&c)
        );
    }
}
