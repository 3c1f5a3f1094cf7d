//! Writing safely (the edge): lock, refuse if the file changed since it was read, timestamped
//! backup, temp file + fsync + rename, 0600 files in 0700 dirs. A kill at any instant leaves
//! the old file or the new one, never a mix.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::domain::plan::{EnvFileAction, TOKEN_ENV};

pub struct WriteRequest<'a> {
    pub config: &'a Path,
    /// The bytes the plan was made from; None when there was no file.
    pub original: Option<&'a [u8]>,
    pub new_text: &'a str,
    pub state_dir: &'a Path,
    pub env_file: &'a EnvFileAction,
    pub now: SystemTime,
}

pub use crate::model::written::WriteOutcome;

#[derive(Debug)]
pub enum WriteError {
    Locked(PathBuf),
    Changed(PathBuf),
    NotRegular(PathBuf),
    Io {
        what: &'static str,
        path: PathBuf,
        err: io::Error,
    },
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteError::Locked(p) => write!(
                f,
                "another clawposture run is writing {} right now; wait for it and run again.",
                p.display()
            ),
            WriteError::Changed(p) => write!(
                f,
                "{} changed while clawposture was planning (another program wrote it); run again to plan against the new contents.",
                p.display()
            ),
            WriteError::NotRegular(p) => write!(
                f,
                "{} is not a regular file; point --config at the real file.",
                p.display()
            ),
            WriteError::Io { what, path, err } => write!(
                f,
                "cannot {what} {}: {err}. Nothing was lost: the old file is still in place.",
                path.display()
            ),
        }
    }
}

fn io_err<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> WriteError + 'a {
    move |err| WriteError::Io {
        what,
        path: path.to_path_buf(),
        err,
    }
}

/// Test hook: abort at a named point, as a kill would, to prove the write is atomic.
fn fault(point: &str) {
    if std::env::var("CLAWPOSTURE_FAULT").is_ok_and(|f| f == point) {
        std::process::abort();
    }
}

/// Make `dir` exist with mode 0700; tighten it when group or others can enter it.
/// (pub: the checklist writer reuses it.)
pub fn private_dir(dir: &Path, tightened: &mut Vec<String>) -> Result<(), WriteError> {
    if !dir.exists() {
        fs::create_dir_all(dir).map_err(io_err("create the directory", dir))?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(io_err("set permissions on", dir))?;
        return Ok(());
    }
    let mode = fs::metadata(dir)
        .map_err(io_err("inspect", dir))?
        .permissions()
        .mode()
        & 0o777;
    if mode & 0o077 != 0 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(io_err("set permissions on", dir))?;
        tightened.push(format!("{} {:o} -> 700", dir.display(), mode));
    }
    Ok(())
}

fn sync_dir(dir: &Path) -> Result<(), WriteError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err("sync the directory", dir))
}

/// Replace `target` with `bytes` atomically: a 0600 temp file beside it, fsync, rename, fsync dir.
/// (pub: the checklist writer reuses it.)
pub fn atomic_replace(target: &Path, bytes: &[u8], label: &str) -> Result<(), WriteError> {
    let dir = target.parent().unwrap_or(Path::new("."));
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.clawposture-tmp-{}", std::process::id()));
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io_err("create a temporary file in", dir))?;
    let written = file.write_all(bytes).and_then(|_| file.sync_all());
    if let Err(err) = written {
        let _ = fs::remove_file(&tmp);
        return Err(WriteError::Io {
            what: "write",
            path: tmp,
            err,
        });
    }
    fault(&format!("{label}-after-temp"));
    if let Err(err) = fs::rename(&tmp, target) {
        let _ = fs::remove_file(&tmp);
        return Err(WriteError::Io {
            what: "replace",
            path: target.to_path_buf(),
            err,
        });
    }
    fault(&format!("{label}-after-rename"));
    sync_dir(dir)
}

/// A kill between temp write and rename leaves a temp file behind: the next run removes it.
fn remove_stale_temps(dir: &Path, name: &str) {
    let prefix = format!(".{name}.clawposture-tmp-");
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = fs::remove_file(e.path());
            }
        }
    }
}

/// `2026-11-27T21:31:58Z` -> `20261127T213158Z`, from the Unix time (no date crate needed).
pub fn stamp(now: SystemTime) -> String {
    let secs = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil-from-days (Howard Hinnant's algorithm), valid for all dates after 1970.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn backup(target: &Path, bytes: &[u8], now: SystemTime) -> Result<PathBuf, WriteError> {
    let dir = target.parent().unwrap_or(Path::new("."));
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let base = format!("{name}.clawposture-{}", stamp(now));
    for n in 1.. {
        let candidate = dir.join(if n == 1 {
            format!("{base}.bak")
        } else {
            format!("{base}-{n}.bak")
        });
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&candidate)
        {
            Ok(mut f) => {
                f.write_all(bytes)
                    .and_then(|_| f.sync_all())
                    .map_err(io_err("write the backup", &candidate))?;
                return Ok(candidate);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(err) => {
                return Err(WriteError::Io {
                    what: "create the backup",
                    path: candidate,
                    err,
                });
            }
        }
    }
    unreachable!("the loop only ends by returning")
}

/// Whether `$STATE_DIR/.env` defines the Gateway token.
pub fn env_file_has_token(state_dir: &Path) -> bool {
    fs::read_to_string(state_dir.join(".env")).is_ok_and(|text| env_text_has_token(&text))
}

fn env_text_has_token(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim_start();
        let l = l.strip_prefix("export ").unwrap_or(l);
        l.strip_prefix(TOKEN_ENV)
            .is_some_and(|rest| rest.trim_start().starts_with('=') && rest.trim_start().len() > 1)
    })
}

/// 32 bytes from the OS CSPRNG, hex encoded (64 characters).
pub fn generate_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn write_env_file(
    state_dir: &Path,
    action: &EnvFileAction,
    tightened: &mut Vec<String>,
) -> Result<Option<PathBuf>, WriteError> {
    let token = match action {
        EnvFileAction::Unchanged => return Ok(None),
        EnvFileAction::MoveLiteralToken(t) => t.clone(),
        EnvFileAction::GenerateToken => generate_token().map_err(|e| WriteError::Io {
            what: "draw random bytes for",
            path: state_dir.join(".env"),
            err: io::Error::other(e.to_string()),
        })?,
    };
    private_dir(state_dir, tightened)?;
    let path = state_dir.join(".env");
    let mut text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
        Err(err) => {
            return Err(WriteError::Io {
                what: "read",
                path,
                err,
            });
        }
    };
    if env_text_has_token(&text) {
        return Ok(None);
    }
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&format!("# Gateway token, written by clawposture; the config refers to it by name.\n{TOKEN_ENV}={token}\n"));
    atomic_replace(&path, text.as_bytes(), "env")?;
    Ok(Some(path))
}

/// Write the planned config (and the `.env` token first, so the config never refers to a
/// token that does not exist yet).
pub fn write(req: &WriteRequest) -> Result<WriteOutcome, WriteError> {
    let mut tightened = Vec::new();
    let link = fs::symlink_metadata(req.config)
        .map(|m| m.file_type().is_symlink())
        .unwrap_or(false);
    let target = if link {
        fs::canonicalize(req.config).map_err(io_err("follow the symlink", req.config))?
    } else {
        req.config.to_path_buf()
    };
    if target.exists()
        && !fs::metadata(&target)
            .map_err(io_err("inspect", &target))?
            .is_file()
    {
        return Err(WriteError::NotRegular(target));
    }
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    private_dir(&dir, &mut tightened)?;
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();

    let lock_path = dir.join(format!(".{name}.clawposture.lock"));
    let lock = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&lock_path)
        .map_err(io_err("create the lock file", &lock_path))?;
    let lock = match lock.try_lock() {
        Ok(()) => Held(lock),
        Err(fs::TryLockError::WouldBlock) => return Err(WriteError::Locked(target)),
        Err(fs::TryLockError::Error(err)) => {
            return Err(WriteError::Io {
                what: "lock",
                path: lock_path,
                err,
            });
        }
    };
    remove_stale_temps(&dir, &name);

    let now_bytes = match fs::read(&target) {
        Ok(b) => Some(b),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(err) => {
            return Err(WriteError::Io {
                what: "read",
                path: target,
                err,
            });
        }
    };
    if now_bytes.as_deref() != req.original {
        return Err(WriteError::Changed(target));
    }
    let backup = match &now_bytes {
        Some(bytes) => Some(backup(&target, bytes, req.now)?),
        None => None,
    };
    let env_file = write_env_file(req.state_dir, req.env_file, &mut tightened)?;
    atomic_replace(&target, req.new_text.as_bytes(), "config")?;
    drop(lock);
    Ok(WriteOutcome {
        written: target,
        via_symlink: link,
        backup,
        env_file,
        tightened,
    })
}

/// The run's lock, released explicitly on every path: a child process forked by another thread
/// (detection runs `docker`) shares the open file until it execs, so closing our descriptor
/// alone may leave the lock held for a moment after this run is done.
struct Held(File);

impl Drop for Held {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn stamp_is_utc_civil_time() {
        assert_eq!(stamp(SystemTime::UNIX_EPOCH), "19700101T000000Z");
        assert_eq!(
            stamp(SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_815_118)),
            "20261127T213158Z"
        );
        assert_eq!(
            stamp(SystemTime::UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "20000229T000000Z"
        );
    }

    #[test]
    fn env_token_detection() {
        assert!(env_text_has_token("A=1\nOPENCLAW_GATEWAY_TOKEN=abc\n"));
        assert!(env_text_has_token("export OPENCLAW_GATEWAY_TOKEN = abc"));
        assert!(!env_text_has_token(
            "OPENCLAW_GATEWAY_TOKEN=\n# OPENCLAW_GATEWAY_TOKEN=x"
        ));
        assert!(!env_text_has_token("OPENCLAW_GATEWAY_TOKEN_OLD=abc"));
    }

    #[test]
    fn token_is_64_hex_chars_and_fresh() {
        let a = generate_token().unwrap();
        let b = generate_token().unwrap();
        assert_eq!(a.len(), 64);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
