//! The backups clawposture leaves beside the config (`openclaw.json.clawposture-STAMP.bak`):
//! listing them, and pruning them to the last few plus the first one (the file as it was
//! before clawposture).

use std::fs;
use std::path::{Path, PathBuf};

/// How many of the newest backups a write keeps (besides the first one).
pub const KEEP: usize = 5;

/// One backup file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    pub path: PathBuf,
    /// `YYYYMMDDTHHMMSSZ` (UTC).
    pub stamp: String,
    /// The counter of backups made within the same second (1 for the first).
    pub n: u32,
}

/// The backups of `config` (the symlink's target when it is one), oldest first.
pub fn list(config: &Path) -> Vec<Backup> {
    let target = fs::canonicalize(config).unwrap_or_else(|_| config.to_path_buf());
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let prefix = format!("{name}.clawposture-");
    let mut out: Vec<Backup> = fs::read_dir(&dir)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| {
                    let file = e.file_name().to_string_lossy().into_owned();
                    let rest = file.strip_prefix(&prefix)?.strip_suffix(".bak")?;
                    let (stamp, n) = match rest.split_once('-') {
                        Some((s, n)) => (s, n.parse().ok()?),
                        None => (rest, 1),
                    };
                    let regular = fs::symlink_metadata(e.path()).ok()?.file_type().is_file();
                    (stamp.len() == 16 && regular).then(|| Backup {
                        path: e.path(),
                        stamp: stamp.to_string(),
                        n,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort_by(|a, b| (&a.stamp, a.n).cmp(&(&b.stamp, b.n)));
    out
}

/// Remove all but the first backup and the `keep` newest. Best effort: a backup that cannot
/// be removed stays (it is only clutter).
pub fn prune(config: &Path, keep: usize) {
    let all = list(config);
    if all.len() <= keep + 1 {
        return;
    }
    for b in &all[1..all.len() - keep] {
        let _ = fs::remove_file(&b.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prune_keeps_the_first_and_the_newest() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("openclaw.json");
        fs::write(&config, "{}").unwrap();
        let names = [
            "openclaw.json.clawposture-20261130T000001Z.bak",
            "openclaw.json.clawposture-20261130T000002Z.bak",
            "openclaw.json.clawposture-20261130T000002Z-2.bak",
            "openclaw.json.clawposture-20261130T000003Z.bak",
            "openclaw.json.clawposture-20261130T000004Z.bak",
            "openclaw.json.clawposture-20261130T000005Z.bak",
            "openclaw.json.clawposture-20261130T000006Z.bak",
            "openclaw.json.clawposture-20261130T000007Z.bak",
        ];
        for n in names {
            fs::write(dir.path().join(n), n).unwrap();
        }
        fs::write(dir.path().join("other.bak"), "x").unwrap();
        assert_eq!(list(&config).len(), 8);
        assert_eq!(list(&config)[2].n, 2, "-2 sorts after its first");
        prune(&config, 5);
        let left: Vec<String> = list(&config)
            .iter()
            .map(|b| b.path.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left.len(), 6);
        assert_eq!(left[0], names[0]);
        assert_eq!(left[1], names[3]);
        assert!(dir.path().join("other.bak").exists());
    }
}
