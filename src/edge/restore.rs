//! `clawposture restore`: list the backups (with what the ledger knows of each), and undo the
//! last write through the same safe write (lock, re-read, backup of the current file).

use std::path::Path;
use std::time::SystemTime;

use crate::domain::document::Document;
use crate::domain::ledger::{self, Loaded, Undo};
use crate::domain::plan::EnvFileAction;
use crate::edge::backups;
use crate::edge::files;
use crate::edge::write::{self, WriteRequest};
use crate::model::exit::{Failure, Stop};
use crate::model::paths::Resolved;

/// One backup as `restore --list` shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Listed {
    pub file: String,
    /// UTC, `YYYYMMDDTHHMMSSZ`.
    pub time: String,
    /// The write this backup was made before (its preset), when the ledger knows it.
    pub before_write_of: Option<String>,
    /// The preset the file held then (None: not written by clawposture, or unknown).
    pub held: Option<String>,
    /// The file holds a secret in clear (e.g. a Gateway token since moved to `.env`).
    pub literal_secret: bool,
}

pub fn list(resolved: &Resolved) -> Vec<Listed> {
    let loaded = ledger::parse(files::read_ledger(&resolved.state_dir).as_deref());
    let writes = loaded
        .ledger()
        .map(|l| l.writes.clone())
        .unwrap_or_default();
    backups::list(&resolved.config)
        .into_iter()
        .map(|b| {
            let file = b
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let at = writes
                .iter()
                .position(|w| w.backup.as_deref() == Some(file.as_str()));
            let literal_secret = write::read_regular(&b.path)
                .ok()
                .flatten()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .and_then(|t| Document::parse(&t).ok())
                .is_some_and(|d| {
                    let mut found = Vec::new();
                    crate::domain::secrets::collect(&d.value(), &mut found);
                    !found.is_empty()
                });
            Listed {
                file,
                time: b.stamp,
                before_write_of: at.map(|i| writes[i].preset.clone()),
                held: at
                    .and_then(|i| i.checked_sub(1))
                    .map(|i| writes[i].preset.clone()),
                literal_secret,
            }
        })
        .collect()
}

pub fn list_text(items: &[Listed]) -> String {
    if items.is_empty() {
        return "No backups: clawposture has not replaced this config yet.\n".into();
    }
    let mut out = String::new();
    for b in items {
        let what = match (&b.before_write_of, &b.held) {
            (Some(w), Some(h)) => format!("the {h} preset, before writing {w}"),
            (Some(w), None) => format!("before clawposture, before writing {w}"),
            (None, _) => "not in the ledger".to_string(),
        };
        out.push_str(&format!(
            "{}  {}  {}{}\n",
            b.time,
            b.file,
            what,
            if b.literal_secret {
                "  HOLDS A LITERAL SECRET (delete it once you no longer need it)"
            } else {
                ""
            }
        ));
    }
    out
}

/// Undo the last write (refused, with why, when the same keys were edited since).
pub fn undo(resolved: &Resolved, now: SystemTime) -> Result<String, Failure> {
    let refuse = |m: String| Failure::new(Stop::Refused, format!("refused to undo: {m}"));
    let original = files::read_config(&resolved.config)?
        .ok_or_else(|| refuse(format!("{} does not exist.", resolved.config.display())))?;
    let text = String::from_utf8(original.clone())
        .map_err(|_| refuse(format!("{} is not UTF-8 text.", resolved.config.display())))?;
    let loaded = ledger::parse(files::read_ledger(&resolved.state_dir).as_deref());
    let l = match &loaded {
        Loaded::Ok(l) => l,
        Loaded::Missing => return Err(refuse("there is no ledger: clawposture has not written this config (or wrote it before keeping one); `restore --list` shows the backups.".into())),
        other => return Err(refuse(other.problem().unwrap_or_default())),
    };
    let last = l.writes.last().cloned();
    let here = resolved.config.display().to_string();
    if let Some(other) = last
        .as_ref()
        .and_then(|w| w.config.as_ref())
        .filter(|c| **c != here)
    {
        return Err(refuse(format!(
            "clawposture's last write in this state dir was to {other}, not {here}; pass --config {other} to undo it."
        )));
    }
    let (new_text, rest, how) = match ledger::undo(l, &text).map_err(|e| refuse(e.to_string()))? {
        Undo::Backup { name, rest } => {
            let dir = config_dir(&resolved.config);
            let bytes = write::read_regular(&dir.join(&name))
                .map_err(|e| refuse(e.to_string()))?
                .ok_or_else(|| refuse(format!("the backup {name} is gone.")))?;
            let t = String::from_utf8(bytes)
                .map_err(|_| refuse(format!("the backup {name} is not UTF-8 text.")))?;
            (t, rest, format!("the bytes of {name}"))
        }
        Undo::Keys {
            new_text,
            rest,
            kept_references,
        } if kept_references.is_empty() => (
            new_text,
            rest,
            "its keys set back one by one (your edits to other keys since are kept)".into(),
        ),
        Undo::Keys {
            new_text,
            rest,
            kept_references,
        } => (
            new_text,
            rest,
            format!(
                "its keys set back one by one, except {}: that write moved their secrets into $STATE_DIR/.env, and clawposture never puts a moved secret back into the config, so they keep their reference (the backup of that write still holds the old literals)",
                kept_references
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
    };
    let render = |_: &str, _: Option<&str>| ledger::render(&rest);
    let outcome = write::write(&WriteRequest {
        config: &resolved.config,
        original: Some(&original),
        new_text: &new_text,
        state_dir: &resolved.state_dir,
        env_file: &EnvFileAction::Unchanged,
        env_docker_host: None,
        env_secrets: &[],
        now,
        checklist: None,
        ledger: Some((
            resolved.state_dir.join(ledger::FILE_NAME),
            &render as &write::RenderLedger,
        )),
        keep_backups: backups::KEEP,
        policy: None,
    })
    .map_err(|e| refuse(e.to_string()))?;
    let what = last
        .map(|w| format!("the {} write of {}", w.preset, w.at))
        .unwrap_or_default();
    Ok(format!(
        "Undid {what}: {} now holds {how}.{}\n",
        outcome.written.display(),
        kept_before(outcome.backup.as_deref(), "undo")
    ))
}

/// Put one backup back (its exact bytes), through the same safe write: the current file is
/// backed up first. `name` is a file name `restore --list` shows (or a path to one of them);
/// the ledger forgets the writes made from that backup on, so what it says matches the file.
pub fn restore_backup(resolved: &Resolved, name: &str, now: SystemTime) -> Result<String, Failure> {
    let refuse = |m: String| Failure::new(Stop::Refused, format!("refused to restore: {m}"));
    let wanted = Path::new(name)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let Some(backup) = backups::list(&resolved.config).into_iter().find(|b| {
        b.path
            .file_name()
            .is_some_and(|n| n.to_string_lossy() == wanted)
    }) else {
        return Err(refuse(format!(
            "`{name}` is not a backup of {}; `clawposture restore --list` shows them.",
            resolved.config.display()
        )));
    };
    let bytes = write::read_regular(&backup.path)
        .map_err(|e| refuse(e.to_string()))?
        .ok_or_else(|| refuse(format!("the backup {wanted} is gone.")))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| refuse(format!("the backup {wanted} is not UTF-8 text.")))?;
    let original = files::read_config(&resolved.config)?;
    let loaded = ledger::parse(files::read_ledger(&resolved.state_dir).as_deref());
    // The writes made from this backup on are undone by it: the ledger keeps those before.
    let rest = loaded.ledger().map(|l| {
        let mut rest = l.clone();
        if let Some(at) = rest
            .writes
            .iter()
            .position(|w| w.backup.as_deref() == Some(wanted.as_str()))
        {
            rest.writes.truncate(at);
        }
        rest
    });
    let render = |_: &str, _: Option<&str>| rest.as_ref().map(ledger::render).unwrap_or_default();
    let ledger_path = resolved.state_dir.join(ledger::FILE_NAME);
    let outcome = write::write(&WriteRequest {
        config: &resolved.config,
        original: original.as_deref(),
        new_text: &text,
        state_dir: &resolved.state_dir,
        env_file: &EnvFileAction::Unchanged,
        env_docker_host: None,
        env_secrets: &[],
        now,
        checklist: None,
        ledger: rest
            .is_some()
            .then_some((ledger_path, &render as &write::RenderLedger)),
        keep_backups: backups::KEEP,
        policy: None,
    })
    .map_err(|e| refuse(e.to_string()))?;
    Ok(format!(
        "Restored {} from {wanted} (its exact bytes).{}\n",
        outcome.written.display(),
        kept_before(outcome.backup.as_deref(), "restore")
    ))
}

/// Where the file as it was before `what` (undo, restore) is kept, as the message's last words.
fn kept_before(backup: Option<&Path>, what: &str) -> String {
    backup
        .map(|b| {
            format!(
                " The file as it was before the {what} is kept as {}.",
                b.display()
            )
        })
        .unwrap_or_default()
}

fn config_dir(config: &Path) -> std::path::PathBuf {
    let target = std::fs::canonicalize(config).unwrap_or_else(|_| config.to_path_buf());
    target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf()
}
