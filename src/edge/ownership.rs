//! Whose files clawposture writes. Run as root (sudo) on a user's OpenClaw files, every file
//! written (config, `.env`, backup, checklist, a directory it creates) must stay that user's:
//! a root-owned 0600 config is one the user's own Gateway can no longer read. The owner is the
//! config's (the file replaced), else the state dir's, else the nearest existing directory's.

use std::fs::{self, File};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// A uid and gid to give written files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    pub uid: u32,
    pub gid: u32,
}

fn euid() -> u32 {
    // SAFETY: geteuid cannot fail and touches no memory.
    unsafe { libc::geteuid() }
}

/// The owner of the first of `paths` that exists, or of the nearest existing ancestor of the
/// last one (a state dir not created yet gets its parent's owner).
fn owner_of(paths: &[&Path]) -> Option<Owner> {
    let meta = |p: &Path| {
        fs::metadata(p).ok().map(|m| Owner {
            uid: m.uid(),
            gid: m.gid(),
        })
    };
    paths.iter().find_map(|p| meta(p)).or_else(|| {
        paths
            .last()
            .and_then(|p| p.ancestors().skip(1).find_map(meta))
    })
}

/// The owner to give every file of this write: None when not running as root (files are this
/// user's anyway, and only root may give them away) or when they would be root's.
pub fn for_write(config: &Path, state_dir: &Path) -> Option<Owner> {
    if euid() != 0 {
        return None;
    }
    owner_of(&[config, state_dir]).filter(|o| o.uid != 0)
}

/// The user the Gateway runs as, for the preset's sandbox user and verify's ownership items:
/// this process's ids, except as root on another user's files, where it is that user.
pub fn gateway_ids(config: &Path, state_dir: &Path) -> (u32, u32) {
    match for_write(config, state_dir) {
        Some(o) => (o.uid, o.gid),
        // SAFETY: getuid/getgid cannot fail and touch no memory.
        None => unsafe { (libc::getuid(), libc::getgid()) },
    }
}

/// Give an open file (a temp before its rename, a backup) to `owner`.
pub fn give_file(file: &File, owner: Option<Owner>) -> io::Result<()> {
    match owner {
        Some(o) => std::os::unix::fs::fchown(file, Some(o.uid), Some(o.gid)),
        None => Ok(()),
    }
}

/// Give a path clawposture just created (a directory) to `owner`; a symlink is never followed.
pub fn give_path(path: &Path, owner: Option<Owner>) -> io::Result<()> {
    match owner {
        Some(o) => std::os::unix::fs::lchown(path, Some(o.uid), Some(o.gid)),
        None => Ok(()),
    }
}

/// What the output says when root writes another user's files (None otherwise).
pub fn notice(owner: Option<Owner>) -> Option<String> {
    let o = owner?;
    let name = crate::model::detect_options::user_name(Path::new("/"), o.uid)
        .map(|n| format!("{n} (uid {})", o.uid))
        .unwrap_or_else(|| format!("uid {}", o.uid));
    Some(format!(
        "Written as {name}, whose files these are (run as root)."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_owner_is_the_configs_else_the_state_dirs_else_the_nearest_parents() {
        let dir = tempfile::tempdir().unwrap();
        let me = fs::metadata(dir.path()).unwrap();
        let mine = Owner {
            uid: me.uid(),
            gid: me.gid(),
        };
        let missing = dir.path().join("a/b/openclaw.json");
        assert_eq!(
            owner_of(&[&missing, &dir.path().join("a/b")]),
            Some(mine),
            "nearest existing ancestor"
        );
        let cfg = dir.path().join("openclaw.json");
        fs::write(&cfg, "{}").unwrap();
        assert_eq!(owner_of(&[&cfg, Path::new("/nonexistent")]), Some(mine));
        assert_eq!(
            owner_of(&[Path::new("/nonexistent/x"), Path::new("/")]).map(|o| o.uid),
            Some(0)
        );
    }

    #[test]
    fn nothing_is_given_away_without_an_owner() {
        let dir = tempfile::tempdir().unwrap();
        let f = File::create(dir.path().join("f")).unwrap();
        give_file(&f, None).unwrap();
        give_path(dir.path(), None).unwrap();
        assert!(notice(None).is_none());
    }
}
