//! Writing safely (the edge): lock, refuse if the file changed since it was read, timestamped
//! backup, temp file + fsync + rename, 0600 files in 0700 dirs. A kill at any instant leaves
//! the old file or the new one, never a mix.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::domain::dotenv;
use crate::domain::plan::{EnvFileAction, TOKEN_ENV};
use crate::domain::secret_moves::EnvSecret;
use crate::edge::ownership::{self, Owner};

pub struct WriteRequest<'a> {
    pub config: &'a Path,
    /// The bytes the plan was made from; None when there was no file.
    pub original: Option<&'a [u8]>,
    pub new_text: &'a str,
    pub state_dir: &'a Path,
    pub env_file: &'a EnvFileAction,
    /// `DOCKER_HOST` for the Gateway service, set in the same `.env` write as the token.
    pub env_docker_host: Option<&'a str>,
    /// Literal channel secrets moved out of the config, set in the same `.env` write.
    pub env_secrets: &'a [EnvSecret],
    pub now: SystemTime,
    /// The checklist, written under the same lock once the config is written: its path and
    /// its text given the warnings of this write (directories left open).
    pub checklist: Option<(PathBuf, &'a RenderChecklist<'a>)>,
    /// The ledger, written under the same lock right after the config: its path and its text
    /// given the write's time stamp and the backup's file name.
    pub ledger: Option<(PathBuf, &'a RenderLedger<'a>)>,
    /// Backups kept after this write besides the first one (the file before clawposture).
    pub keep_backups: usize,
    /// The preset's policy file: its path, the bytes the plan saw there (None: no file) and
    /// its new text. Written before the config that names it; refused if it changed since.
    pub policy: Option<PolicyRequest<'a>>,
}

pub struct PolicyRequest<'a> {
    pub path: &'a Path,
    pub seen: Option<&'a [u8]>,
    pub text: &'a str,
}

/// The ledger's text, given the write's stamp and the backup's file name (None: no backup).
pub type RenderLedger<'a> = dyn Fn(&str, Option<&str>) -> String + 'a;

/// The checklist's text, given the warnings of the write it follows.
pub type RenderChecklist<'a> = dyn Fn(&[String]) -> String + 'a;

pub use crate::model::written::WriteOutcome;

#[derive(Debug)]
pub enum WriteError {
    Locked(PathBuf),
    Changed(PathBuf),
    NotRegular(PathBuf),
    /// The config (or `.env`) has other hard links: replacing it would split them silently.
    HardLinked(PathBuf, u64),
    /// The token cannot be written to `.env` in a form OpenClaw's dotenv parser reads back.
    Unquotable(PathBuf),
    Io {
        what: &'static str,
        path: PathBuf,
        err: io::Error,
    },
    /// A step failed before anything was written (true: a config file existed).
    Untouched(Box<WriteError>, bool),
    /// A step failed after these files were written (each said in words).
    Partial {
        written: Vec<String>,
        err: Box<WriteError>,
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
            WriteError::HardLinked(p, n) => write!(
                f,
                "{} has {n} hard links; replacing it would leave the other names with the old contents. Remove the other links (or copy the file) and run again.",
                p.display()
            ),
            WriteError::Unquotable(p) => write!(
                f,
                "a secret cannot be written to {} so that OpenClaw reads it back exactly (it has a line break, or all three quote characters); replace it and run again.",
                p.display()
            ),
            WriteError::Io { what, path, err } => {
                write!(f, "cannot {what} {}: {err}.", path.display())
            }
            WriteError::Untouched(err, true) => {
                write!(f, "{err} Nothing was lost: the old file is still in place.")
            }
            WriteError::Untouched(err, false) => write!(f, "{err} Nothing was written."),
            WriteError::Partial { written, err } => write!(
                f,
                "{err} Already written before this step failed: {}.",
                written.join("; ")
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

/// Test hooks (cargo feature `fault-injection` only; release builds read no variable here):
/// `CLAWPOSTURE_FAULT=<point>` aborts at that point, as a kill would, to prove the write is
/// atomic; `CLAWPOSTURE_FAULT_RUN=<point>:<shell command>` runs the command there, as another
/// program acting at that instant would.
#[cfg(feature = "fault-injection")]
fn fault(point: &str) {
    if std::env::var("CLAWPOSTURE_FAULT").is_ok_and(|f| f == point) {
        std::process::abort();
    }
    if let Ok(spec) = std::env::var("CLAWPOSTURE_FAULT_RUN")
        && let Some((at, cmd)) = spec.split_once(':')
        && at == point
    {
        let _ = std::process::Command::new("sh").args(["-c", cmd]).status();
    }
}

#[cfg(not(feature = "fault-injection"))]
fn fault(_point: &str) {}

/// What a directory is to this write: clawposture's (the OpenClaw state dir, which OpenClaw
/// itself keeps at 0700) or any other directory a config happens to live in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirRole {
    State,
    Other,
}

/// What clawposture did to directories, for the report and the checklist.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct DirReport {
    pub tightened: Vec<String>,
    pub warnings: Vec<String>,
    /// Run as root on another user's files: directories created are given to that user.
    pub owner: Option<Owner>,
}

fn euid() -> u32 {
    // SAFETY: geteuid cannot fail and touches no memory.
    unsafe { libc::geteuid() }
}

/// Directories that are shared by design whoever owns them.
fn system_dir(dir: &Path) -> bool {
    const SHARED: [&str; 12] = [
        "/", "/etc", "/tmp", "/var", "/var/tmp", "/usr", "/opt", "/home", "/root", "/dev/shm",
        "/run", "/srv",
    ];
    let canon = fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    SHARED.iter().any(|s| canon == Path::new(s))
        || std::env::var_os("HOME").is_some_and(|h| canon == Path::new(&h))
}

/// Why clawposture must not re-mode `dir` (None: it belongs to this user alone).
fn shared_reason(
    dir: &Path,
    meta: &fs::Metadata,
    role: DirRole,
    owner: Option<Owner>,
) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let mode = meta.mode();
    // As root on another user's files, that user's directories count as this run's own.
    let me = owner.map_or_else(euid, |o| o.uid);
    if meta.uid() != me {
        return Some(format!("it belongs to uid {}", meta.uid()));
    }
    if mode & 0o1000 != 0 {
        return Some("it is sticky (shared by design, like /tmp)".into());
    }
    if mode & 0o022 != 0 {
        return Some("others may write in it (shared by design)".into());
    }
    if mode & 0o2000 != 0 {
        return Some("it is set-group-ID (shared with a group)".into());
    }
    if system_dir(dir) {
        return Some("it is a system or home directory".into());
    }
    if role == DirRole::Other {
        return Some(
            "clawposture did not create it and it is not OpenClaw's state directory".into(),
        );
    }
    None
}

/// Make `dir` exist privately: a directory clawposture creates is 0700; an existing one is
/// tightened to 0700 only when it is the state dir and belongs to this user alone. Any other
/// open directory (sticky like /tmp, /etc, someone else's, a dotfiles repo, the current
/// directory) keeps its mode, and a warning says what to do.
pub fn private_dir(dir: &Path, role: DirRole, report: &mut DirReport) -> Result<(), WriteError> {
    let meta = match fs::metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let created: Vec<PathBuf> = dir
                .ancestors()
                .take_while(|a| !a.as_os_str().is_empty() && fs::symlink_metadata(a).is_err())
                .map(Path::to_path_buf)
                .collect();
            fs::create_dir_all(dir).map_err(io_err("create the directory", dir))?;
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
                .map_err(io_err("set permissions on", dir))?;
            for d in &created {
                ownership::give_path(d, report.owner).map_err(io_err("give away", d))?;
            }
            return Ok(());
        }
        Err(err) => return Err(io_err("inspect", dir)(err)),
    };
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 == 0 {
        return Ok(());
    }
    match shared_reason(dir, &meta, role, report.owner) {
        None => {
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
                .map_err(io_err("set permissions on", dir))?;
            report
                .tightened
                .push(format!("{} {:o} -> 700", dir.display(), mode));
        }
        Some(why) => {
            let line = format!(
                "{} is mode {mode:o}: others can see the names in it; clawposture left its mode as it is because {why}. If it is yours alone, run `chmod 700 {}`; otherwise keep the config in a private directory such as ~/.openclaw.",
                dir.display(),
                dir.display()
            );
            if !report.warnings.contains(&line) {
                report.warnings.push(line);
            }
        }
    }
    Ok(())
}

fn sync_dir(dir: &Path) -> Result<(), WriteError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err("sync the directory", dir))
}

/// The name pattern of clawposture's temp files for `name`: `.<name>.clawposture-tmp-…`.
fn temp_prefix(name: &str) -> String {
    format!(".{name}.clawposture-tmp-")
}

fn file_name(target: &Path) -> String {
    target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn parent_of(target: &Path) -> PathBuf {
    target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf()
}

/// Create `path` as a new 0600 file: O_CREAT|O_EXCL|O_NOFOLLOW, so an existing file or a
/// symlink at that name is an error, never reused or followed.
fn open_new_private(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW)
        .mode(0o600)
        .open(path)
}

/// A new 0600 temp file beside `target`: O_CREAT|O_EXCL|O_NOFOLLOW under a random name, so a
/// file or symlink planted at any name can neither be reused nor followed.
fn create_temp(target: &Path) -> Result<(File, PathBuf), WriteError> {
    let dir = parent_of(target);
    let prefix = temp_prefix(&file_name(target));
    for _ in 0..16 {
        let mut rnd = [0u8; 8];
        getrandom::fill(&mut rnd).map_err(|e| WriteError::Io {
            what: "draw random bytes for a temporary file in",
            path: dir.clone(),
            err: io::Error::other(e.to_string()),
        })?;
        let hex: String = rnd.iter().map(|b| format!("{b:02x}")).collect();
        let tmp = dir.join(format!("{prefix}{}-{hex}", std::process::id()));
        match open_new_private(&tmp) {
            Ok(f) => return Ok((f, tmp)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(err) => return Err(io_err("create a temporary file in", &dir)(err)),
        }
    }
    Err(WriteError::Io {
        what: "create a temporary file in",
        path: dir,
        err: io::Error::from(io::ErrorKind::AlreadyExists),
    })
}

/// Replace `target` with `bytes` atomically: a 0600 temp file beside it, fsync, rename, fsync dir.
/// (pub: the checklist writer reuses it.)
pub fn atomic_replace(
    target: &Path,
    bytes: &[u8],
    label: &str,
    owner: Option<Owner>,
) -> Result<(), WriteError> {
    replace_checked(target, bytes, label, None, owner)?;
    sync_dir(&parent_of(target))
}

/// [`atomic_replace`], and when `expect` is given, the target is read again right before the
/// rename and must still hold `expect` (None inside: must not exist); otherwise the temp is
/// removed and the write refused, so an edit made meanwhile is never lost. Ok means renamed;
/// the caller syncs the directory (a failure there is after the replacement).
fn replace_checked(
    target: &Path,
    bytes: &[u8],
    label: &str,
    expect: Option<Option<&[u8]>>,
    owner: Option<Owner>,
) -> Result<(), WriteError> {
    let (mut file, tmp) = create_temp(target)?;
    // The owner is set on the temp, before the rename: the file never exists as root's.
    let written = ownership::give_file(&file, owner)
        .and_then(|_| file.write_all(bytes))
        .and_then(|_| file.sync_all());
    drop(file);
    if let Err(err) = written {
        let _ = fs::remove_file(&tmp);
        return Err(WriteError::Io {
            what: "write",
            path: tmp,
            err,
        });
    }
    fault(&format!("{label}-after-temp"));
    if let Some(expect) = expect {
        let now = read_regular(target).inspect_err(|_| {
            let _ = fs::remove_file(&tmp);
        })?;
        if now.as_deref() != expect {
            let _ = fs::remove_file(&tmp);
            return Err(WriteError::Changed(target.to_path_buf()));
        }
    }
    if let Err(err) = fs::rename(&tmp, target) {
        let _ = fs::remove_file(&tmp);
        return Err(WriteError::Io {
            what: "replace",
            path: target.to_path_buf(),
            err,
        });
    }
    fault(&format!("{label}-after-rename"));
    Ok(())
}

/// A kill between temp write and rename leaves a temp file behind: the next run removes it.
/// Only names of clawposture's own pattern for `target`, and only regular files (a symlink or
/// anything else with that name is left alone).
pub fn remove_stale_temps(target: &Path) {
    let dir = parent_of(target);
    let prefix = temp_prefix(&file_name(target));
    if let Ok(entries) = fs::read_dir(&dir) {
        for e in entries.flatten() {
            let ours = e.file_name().to_string_lossy().starts_with(&prefix);
            if ours && fs::symlink_metadata(e.path()).is_ok_and(|m| m.file_type().is_file()) {
                let _ = fs::remove_file(e.path());
            }
        }
    }
}

/// A run that finds nothing to write still removes what a killed run left: the temps of the
/// config, `.env`, the ledger and the checklist, under the config's lock (skipped when another
/// run holds it: its temps are live). Nothing is created: no lock file where none exists.
pub fn sweep_stale(config: &Path, state_dir: &Path) {
    let target = fs::canonicalize(config).unwrap_or_else(|_| config.to_path_buf());
    let lock_path = parent_of(&target).join(format!(".{}.clawposture.lock", file_name(&target)));
    let Ok(lock) = OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&lock_path)
    else {
        return;
    };
    if lock.try_lock().is_err() {
        return;
    }
    remove_stale_temps(&target);
    for name in [
        ".env",
        crate::domain::ledger::FILE_NAME,
        crate::domain::checklist::FILE_NAME,
    ] {
        remove_stale_temps(&state_dir.join(name));
    }
}

/// Read a file that must be regular: None when it does not exist; a FIFO, socket or device is
/// refused at once (stat first, then opened non-blocking and checked again), never read.
pub fn read_regular(path: &Path) -> Result<Option<Vec<u8>>, WriteError> {
    use std::io::Read;
    match fs::metadata(path) {
        Ok(m) if !m.is_file() => return Err(WriteError::NotRegular(path.to_path_buf())),
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(io_err("read", path)(err)),
    }
    let mut file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(io_err("read", path))?;
    let meta = file.metadata().map_err(io_err("read", path))?;
    if !meta.is_file() {
        return Err(WriteError::NotRegular(path.to_path_buf()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.read_to_end(&mut bytes).map_err(io_err("read", path))?;
    Ok(Some(bytes))
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

fn backup(
    target: &Path,
    bytes: &[u8],
    now: SystemTime,
    owner: Option<Owner>,
) -> Result<PathBuf, WriteError> {
    let dir = target.parent().unwrap_or(Path::new("."));
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let base = format!("{name}.clawposture-{}", stamp(now));
    // After the highest counter of this second: a name pruning freed is never reused, so the
    // names keep the order the backups were made in.
    let now_stamp = stamp(now);
    let start = crate::edge::backups::list(target)
        .iter()
        .filter(|b| b.stamp == now_stamp)
        .map(|b| b.n + 1)
        .max()
        .unwrap_or(1);
    for n in start.. {
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
                if let Err(err) = ownership::give_file(&f, owner)
                    .and_then(|_| f.write_all(bytes))
                    .and_then(|_| f.sync_all())
                {
                    // A partial backup (disk full) is worse than none: it looks like a copy.
                    drop(f);
                    let _ = fs::remove_file(&candidate);
                    return Err(io_err("write the backup", &candidate)(err));
                }
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

/// Whether `$STATE_DIR/.env` defines the Gateway token with a real value, as OpenClaw's
/// dotenv parser reads it (an empty or placeholder value counts as absent). A `.env` that is
/// not a regular file counts as absent here; the write refuses it.
pub fn env_file_has_token(state_dir: &Path) -> bool {
    matches!(read_regular(&state_dir.join(".env")), Ok(Some(bytes))
        if env_text_has_token(&String::from_utf8_lossy(&bytes)))
}

/// A variable as `$STATE_DIR/.env` defines it for OpenClaw (None: unset, empty, or no
/// regular `.env`).
pub fn env_file_value(state_dir: &Path, name: &str) -> Option<String> {
    match read_regular(&state_dir.join(".env")) {
        Ok(Some(bytes)) => {
            dotenv::get(&String::from_utf8_lossy(&bytes), name).filter(|v| !v.trim().is_empty())
        }
        _ => None,
    }
}

fn env_text_has_token(text: &str) -> bool {
    dotenv::get(text, TOKEN_ENV).is_some_and(|v| !dotenv::is_placeholder(&v))
}

/// 32 bytes from the OS CSPRNG, hex encoded (64 characters).
pub fn generate_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The `.env` to write: the file to replace (a symlink's target, so the link is kept) and its
/// new text. None when `.env` already holds a real token or the plan does not touch it.
struct EnvWrite {
    shown: PathBuf,
    target: PathBuf,
    text: String,
    /// The variables this write sets (names only), for the report.
    names: Vec<String>,
}

fn plan_env_file(
    state_dir: &Path,
    action: &EnvFileAction,
    docker_host: Option<&str>,
    moved: &[EnvSecret],
) -> Result<Option<EnvWrite>, WriteError> {
    let token = match action {
        EnvFileAction::Unchanged if docker_host.is_none() && moved.is_empty() => return Ok(None),
        EnvFileAction::Unchanged => None,
        EnvFileAction::MoveLiteralToken(t) => Some(t.clone()),
        EnvFileAction::GenerateToken => Some(generate_token().map_err(|e| WriteError::Io {
            what: "draw random bytes for",
            path: state_dir.join(".env"),
            err: io::Error::other(e.to_string()),
        })?),
    };
    let shown = state_dir.join(".env");
    let target = match fs::symlink_metadata(&shown) {
        Ok(m) if m.file_type().is_symlink() => {
            fs::canonicalize(&shown).map_err(io_err("follow the symlink", &shown))?
        }
        _ => shown.clone(),
    };
    let text = match read_regular(&target)? {
        Some(bytes) => String::from_utf8(bytes).map_err(|_| WriteError::Io {
            what: "read",
            path: target.clone(),
            err: io::Error::new(io::ErrorKind::InvalidData, "not UTF-8 text"),
        })?,
        None => String::new(),
    };
    if let Ok(m) = fs::metadata(&target) {
        use std::os::unix::fs::MetadataExt;
        if m.nlink() > 1 {
            return Err(WriteError::HardLinked(target, m.nlink()));
        }
    }
    let original = text.clone();
    let mut text = text;
    let mut names = Vec::new();
    if let Some(token) = token.filter(|_| !env_text_has_token(&original)) {
        names.push(TOKEN_ENV.to_string());
        let line = dotenv::quote(TOKEN_ENV, &token)
            .ok_or_else(|| WriteError::Unquotable(shown.clone()))?;
        text = dotenv::set_line(
            &text,
            TOKEN_ENV,
            &line,
            "# Gateway token, written by clawposture; the config refers to it by name.\n",
        );
        if dotenv::get(&text, TOKEN_ENV).as_deref() != Some(token.as_str()) {
            return Err(WriteError::Unquotable(shown));
        }
    }
    if let Some(host) =
        docker_host.filter(|h| dotenv::get(&text, "DOCKER_HOST").as_deref() != Some(*h))
    {
        names.push("DOCKER_HOST".to_string());
        let line = dotenv::quote("DOCKER_HOST", host)
            .ok_or_else(|| WriteError::Unquotable(shown.clone()))?;
        text = dotenv::set_line(
            &text,
            "DOCKER_HOST",
            &line,
            "# The engine the sandbox posture was chosen for, written by clawposture: the Gateway service does not inherit a shell's DOCKER_HOST.\n",
        );
    }
    for m in moved {
        match dotenv::get(&text, &m.name) {
            Some(v) if v == m.value => continue,
            // The plan named this variable because `.env` did not hold another value there:
            // one that appeared since is someone's, and never overwritten.
            Some(v) if !dotenv::is_placeholder(&v) => return Err(WriteError::Changed(shown)),
            _ => {}
        }
        names.push(m.name.clone());
        let line = dotenv::quote(&m.name, &m.value)
            .ok_or_else(|| WriteError::Unquotable(shown.clone()))?;
        text = dotenv::set_line(
            &text,
            &m.name,
            &line,
            &format!(
                "# {}, moved out of the config by clawposture; the config refers to it by name.\n",
                m.key.replace(['\n', '\r'], " ")
            ),
        );
        if dotenv::get(&text, &m.name).as_deref() != Some(m.value.as_str()) {
            return Err(WriteError::Unquotable(shown));
        }
    }
    if text == original {
        return Ok(None);
    }
    Ok(Some(EnvWrite {
        shown,
        target,
        text,
        names,
    }))
}

/// What has been written so far, to say exactly that when a later step fails.
#[derive(Default)]
struct Progress(std::cell::RefCell<Vec<String>>);

impl Progress {
    fn push(&self, what: String) {
        self.0.borrow_mut().push(what);
    }

    fn fail(&self, err: WriteError, had_file: bool) -> WriteError {
        let written = self.0.borrow().clone();
        if written.is_empty() {
            WriteError::Untouched(Box::new(err), had_file)
        } else {
            WriteError::Partial {
                written,
                err: Box::new(err),
            }
        }
    }
}

/// Write the planned config (and the `.env` token first, so the config never refers to a
/// token that does not exist yet), then the checklist, all under one lock.
pub fn write(req: &WriteRequest) -> Result<WriteOutcome, WriteError> {
    let done = Progress::default();
    write_steps(req, &done).map_err(|e| done.fail(e, req.original.is_some()))
}

fn write_steps(req: &WriteRequest, done: &Progress) -> Result<WriteOutcome, WriteError> {
    use std::os::unix::fs::MetadataExt;
    let mut dirs = DirReport {
        owner: ownership::for_write(req.config, req.state_dir),
        ..DirReport::default()
    };
    let link = fs::symlink_metadata(req.config)
        .map(|m| m.file_type().is_symlink())
        .unwrap_or(false);
    let target = if link {
        fs::canonicalize(req.config).map_err(io_err("follow the symlink", req.config))?
    } else {
        req.config.to_path_buf()
    };
    match fs::metadata(&target) {
        Ok(m) if !m.is_file() => return Err(WriteError::NotRegular(target)),
        Ok(m) if m.nlink() > 1 => return Err(WriteError::HardLinked(target, m.nlink())),
        _ => {}
    }
    let dir = parent_of(&target);
    let same = |a: &Path, b: &Path| match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    };
    let role = if same(&dir, req.state_dir) {
        DirRole::State
    } else {
        DirRole::Other
    };
    private_dir(&dir, role, &mut dirs)?;
    let name = file_name(&target);

    let lock_path = dir.join(format!(".{name}.clawposture.lock"));
    let lock = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .custom_flags(libc::O_NOFOLLOW)
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
    remove_stale_temps(&target);
    remove_stale_temps(&req.state_dir.join(".env"));
    if let Some((path, _)) = &req.checklist {
        remove_stale_temps(path);
    }
    if let Some((path, _)) = &req.ledger {
        remove_stale_temps(path);
    }
    if let Some(p) = &req.policy {
        remove_stale_temps(p.path);
        // The plan decided on the bytes it saw: anything else there now is someone's edit.
        if read_regular(p.path)?.as_deref() != p.seen {
            return Err(WriteError::Changed(p.path.to_path_buf()));
        }
    }

    let now_bytes = read_regular(&target)?;
    if now_bytes.as_deref() != req.original {
        return Err(WriteError::Changed(target));
    }
    let env = plan_env_file(
        req.state_dir,
        req.env_file,
        req.env_docker_host,
        req.env_secrets,
    )?;
    let backup = match &now_bytes {
        Some(bytes) => Some(backup(&target, bytes, req.now, dirs.owner)?),
        None => None,
    };
    // Until the config is replaced, the old file is in place: a backup of it is only clutter
    // when a step fails before that.
    let drop_backup = |e: WriteError| {
        if let Some(b) = &backup {
            let _ = fs::remove_file(b);
        }
        e
    };
    let env_file = match &env {
        Some(e) => {
            private_dir(req.state_dir, DirRole::State, &mut dirs).map_err(drop_backup)?;
            remove_stale_temps(&e.target);
            atomic_replace(&e.target, e.text.as_bytes(), "env", dirs.owner).map_err(drop_backup)?;
            done.push(format!(
                "{} (the secrets the config is about to refer to; it does not yet)",
                e.shown.display()
            ));
            Some(e.shown.clone())
        }
        None => None,
    };
    // The policy before the config that names it: the Policy plugin never sees its path
    // without the file.
    if let Some(p) = &req.policy {
        private_dir(&parent_of(p.path), DirRole::Other, &mut dirs).map_err(drop_backup)?;
        replace_checked(
            p.path,
            p.text.as_bytes(),
            "policy",
            Some(p.seen),
            dirs.owner,
        )
        .map_err(drop_backup)?;
        sync_dir(&parent_of(p.path)).map_err(drop_backup)?;
        done.push(format!(
            "the policy {} (the config does not name it yet)",
            p.path.display()
        ));
    }
    replace_checked(
        &target,
        req.new_text.as_bytes(),
        "config",
        Some(req.original),
        dirs.owner,
    )
    .map_err(drop_backup)?;
    done.push(match &backup {
        Some(b) => format!(
            "the config {} (the old one is kept as {})",
            target.display(),
            b.display()
        ),
        None => format!("the config {}", target.display()),
    });
    sync_dir(&parent_of(&target))?;
    // The ledger right after the config, under the same lock: a kill in between leaves a
    // ledger without this write, so its keys count as the user's (nothing is removed on them).
    if let Some((path, render)) = &req.ledger {
        private_dir(req.state_dir, DirRole::State, &mut dirs)?;
        remove_stale_temps(path);
        let name = backup
            .as_ref()
            .and_then(|b| b.file_name())
            .map(|n| n.to_string_lossy().into_owned());
        atomic_replace(
            path,
            render(&stamp(req.now), name.as_deref()).as_bytes(),
            "ledger",
            dirs.owner,
        )?;
        done.push(format!("the ledger {}", path.display()));
        crate::edge::backups::prune(&target, req.keep_backups);
    }
    let checklist = match &req.checklist {
        Some((path, render)) => {
            private_dir(req.state_dir, DirRole::State, &mut dirs)?;
            remove_stale_temps(path);
            atomic_replace(
                path,
                render(&dirs.warnings).as_bytes(),
                "checklist",
                dirs.owner,
            )?;
            Some(path.clone())
        }
        None => None,
    };
    drop(lock);
    Ok(WriteOutcome {
        written: target,
        via_symlink: link,
        backup,
        env_file,
        env_names: env.map(|e| e.names).unwrap_or_default(),
        tightened: dirs.tightened,
        warnings: dirs.warnings,
        checklist,
        owned_by: ownership::notice(dirs.owner),
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
        assert!(!env_text_has_token("OPENCLAW_GATEWAY_TOKEN=\"\"\n"));
        assert!(!env_text_has_token("OPENCLAW_GATEWAY_TOKEN=# fill me in\n"));
        assert!(!env_text_has_token(
            "OPENCLAW_GATEWAY_TOKEN=abc\nOPENCLAW_GATEWAY_TOKEN=\n"
        ));
        assert!(!env_text_has_token(
            "OPENCLAW_GATEWAY_TOKEN=\n# OPENCLAW_GATEWAY_TOKEN=x"
        ));
        assert!(!env_text_has_token("OPENCLAW_GATEWAY_TOKEN_OLD=abc"));
    }

    #[test]
    fn a_symlink_planted_at_the_temp_name_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside");
        let planted = dir.path().join(".env.clawposture-tmp-1-00");
        std::os::unix::fs::symlink(&outside, &planted).unwrap();
        let err = open_new_private(&planted).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert!(!outside.exists(), "the symlink was followed");
        let fresh = open_new_private(&dir.path().join("new")).unwrap();
        assert_eq!(
            fresh.metadata().unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[test]
    fn sweeping_removes_only_our_regular_temps() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("openclaw.json");
        let ours = dir.path().join(".openclaw.json.clawposture-tmp-42-ab");
        let theirs = dir.path().join(".openclaw.json.other-tmp");
        let link = dir.path().join(".openclaw.json.clawposture-tmp-link");
        let victim = dir.path().join("victim");
        fs::write(&ours, "token").unwrap();
        fs::write(&theirs, "x").unwrap();
        fs::write(&victim, "keep").unwrap();
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        remove_stale_temps(&target);
        assert!(!ours.exists());
        assert!(theirs.exists());
        assert!(fs::symlink_metadata(&link).is_ok());
        assert_eq!(fs::read_to_string(&victim).unwrap(), "keep");
    }

    #[test]
    fn read_regular_refuses_a_fifo_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert!(matches!(
            read_regular(&fifo),
            Err(WriteError::NotRegular(_))
        ));
        assert!(matches!(read_regular(&dir.path().join("none")), Ok(None)));
        assert!(matches!(
            read_regular(Path::new("/dev/null")),
            Err(WriteError::NotRegular(_))
        ));
    }

    #[test]
    fn only_the_state_dir_of_this_user_is_tightened() {
        let dir = tempfile::tempdir().unwrap();
        let sticky = dir.path().join("tmp");
        fs::create_dir(&sticky).unwrap();
        fs::set_permissions(&sticky, fs::Permissions::from_mode(0o1777)).unwrap();
        let open = dir.path().join("open");
        fs::create_dir(&open).unwrap();
        fs::set_permissions(&open, fs::Permissions::from_mode(0o755)).unwrap();
        let mut r = DirReport::default();
        private_dir(&sticky, DirRole::State, &mut r).unwrap();
        private_dir(&open, DirRole::Other, &mut r).unwrap();
        assert_eq!(
            fs::metadata(&sticky).unwrap().permissions().mode() & 0o7777,
            0o1777
        );
        assert_eq!(
            fs::metadata(&open).unwrap().permissions().mode() & 0o7777,
            0o755
        );
        assert_eq!(r.warnings.len(), 2, "{:?}", r.warnings);
        assert!(r.tightened.is_empty());
        private_dir(&open, DirRole::State, &mut r).unwrap();
        assert_eq!(
            fs::metadata(&open).unwrap().permissions().mode() & 0o7777,
            0o700
        );
        let created = dir.path().join("new/deeper");
        private_dir(&created, DirRole::Other, &mut r).unwrap();
        assert_eq!(
            fs::metadata(&created).unwrap().permissions().mode() & 0o7777,
            0o700
        );
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
