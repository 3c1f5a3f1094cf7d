//! Whether this process (and so a Gateway started the same way) runs inside a container: the
//! Docker install path of OpenClaw. Read from files only (`/.dockerenv`, `/run/.containerenv`,
//! PID 1's cgroups, a Docker socket mounted in), all under `system_root` so tests use a tree.

use crate::model::detect_options::DetectOptions;
use crate::model::detection::InContainer;

/// What OpenClaw needs when its Gateway runs in a container (see `shared/openclaw-runtime.md`).
pub const NEEDS: &str = "OpenClaw's sandbox then runs sibling containers on the host's daemon and resolves their bind sources through `docker inspect` of its own container: the Gateway's container needs the engine's socket mounted in, its state dir and workspace on bind mounts or volumes that `docker inspect` shows (the host paths the daemon sees), and its own hostname left as its container id";

/// The signs found, or None when there are none.
pub fn check(opts: &DetectOptions) -> Option<InContainer> {
    let mut markers = Vec::new();
    for f in ["/.dockerenv", "/run/.containerenv"] {
        if opts.sys(f).exists() {
            markers.push(f.to_string());
        }
    }
    if let Ok(cgroup) = std::fs::read_to_string(opts.sys("/proc/1/cgroup")) {
        for word in ["docker", "kubepods", "containerd", "libpod"] {
            if cgroup.contains(word) {
                markers.push(format!("/proc/1/cgroup names {word}"));
                break;
            }
        }
    }
    if let Ok(mounts) = std::fs::read_to_string(opts.sys("/proc/self/mountinfo")) {
        // Field 5 is the mount point: a socket mounted at the engine's path from outside.
        for sock in mounted_sockets(&mounts) {
            markers.push(format!("an engine socket is mounted in at {sock}"));
        }
    }
    (!markers.is_empty()).then(|| InContainer {
        markers,
        needs: NEEDS.to_string(),
    })
}

fn mounted_sockets(mountinfo: &str) -> Vec<String> {
    mountinfo
        .lines()
        .filter_map(|l| l.split_whitespace().nth(4))
        .filter(|p| p.ends_with("/docker.sock") || p.ends_with("/podman.sock"))
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> (tempfile::TempDir, DetectOptions) {
        let dir = tempfile::tempdir().unwrap();
        let opts = DetectOptions {
            system_root: dir.path().to_path_buf(),
            ..DetectOptions::default()
        };
        (dir, opts)
    }

    #[test]
    fn a_bare_tree_is_not_a_container() {
        let (_d, opts) = tree();
        assert_eq!(check(&opts), None);
    }

    #[test]
    fn each_marker_is_named() {
        let (d, opts) = tree();
        std::fs::write(d.path().join(".dockerenv"), "").unwrap();
        std::fs::create_dir_all(d.path().join("proc/1")).unwrap();
        std::fs::create_dir_all(d.path().join("proc/self")).unwrap();
        std::fs::write(d.path().join("proc/1/cgroup"), "0::/docker/abc123\n").unwrap();
        std::fs::write(
            d.path().join("proc/self/mountinfo"),
            "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n2 1 0:5 /docker.sock /var/run/docker.sock rw - tmpfs tmpfs rw\n",
        )
        .unwrap();
        let c = check(&opts).expect("a container");
        assert_eq!(
            c.markers,
            [
                "/.dockerenv",
                "/proc/1/cgroup names docker",
                "an engine socket is mounted in at /var/run/docker.sock"
            ]
        );
        assert!(c.needs.contains("docker inspect"));
    }
}
