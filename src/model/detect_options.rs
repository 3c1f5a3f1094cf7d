//! Detection inputs. Everything detection reads from the process environment is captured here
//! once, so tests (and the Gateway-service view, which differs from the shell's) can supply it.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::model::environment::Engine;

/// The image OpenClaw's sandbox uses unless the config names another.
pub const DEFAULT_SANDBOX_IMAGE: &str = "openclaw-sandbox:bookworm-slim";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetectOptions {
    /// clawposture's `--docker-host`: wins over everything, like `docker -H`.
    pub docker_host_flag: Option<String>,
    pub docker_host: Option<String>,
    pub docker_context: Option<String>,
    /// `DOCKER_CONFIG`: the docker CLI's config dir (default `~/.docker`).
    pub docker_config: Option<PathBuf>,
    pub xdg_runtime_dir: Option<PathBuf>,
    pub home: Option<PathBuf>,
    /// `PATH`, used for every `which` lookup and as the PATH of `openclaw --version`.
    pub path: Option<OsString>,
    /// The user the Gateway runs as (rootless prerequisites are per user).
    pub uid: u32,
    pub user: Option<String>,
    /// The sandbox image to look for in each ready engine.
    pub sandbox_image: String,
    /// The OpenClaw config file clawposture will edit.
    pub config_path: Option<PathBuf>,
    /// Prefix for system paths (`/var/run/docker.sock`, `/run/podman`, `/etc/subuid`,
    /// `/proc/sys/...`); `/` in real use, a scratch tree in tests.
    pub system_root: PathBuf,
    /// Each endpoint's whole probe (connect, identify, details) must finish within this.
    pub probe_timeout: Duration,
    /// The engine `--engine` named: detection then looks for that engine (and only that one)
    /// instead of the best one, so a named engine that does not answer is an error, not
    /// silently another engine's posture.
    pub want: Option<Engine>,
    /// OpenClaw's state dir, whose `.env` the Gateway loads at start (None: not known).
    pub state_dir: Option<PathBuf>,
}

/// Docker answers in a few ms, but Podman 4.3's libpod info takes ~0.35 s idle (it runs
/// dpkg-query, conmon and the OCI runtime) and several times that on a loaded machine. 1.2 s is
/// the most that keeps the whole detection under 1.5 s when a socket hangs.
pub const DEFAULT_PROBE_TIMEOUT: Duration = Duration::from_millis(1200);

impl Default for DetectOptions {
    /// Nothing set: no environment, uid 0, the default image, the real system root.
    fn default() -> Self {
        DetectOptions {
            docker_host_flag: None,
            docker_host: None,
            docker_context: None,
            docker_config: None,
            xdg_runtime_dir: None,
            home: None,
            path: None,
            uid: 0,
            user: None,
            sandbox_image: DEFAULT_SANDBOX_IMAGE.to_string(),
            config_path: None,
            system_root: PathBuf::from("/"),
            probe_timeout: DEFAULT_PROBE_TIMEOUT,
            want: None,
            state_dir: None,
        }
    }
}

impl DetectOptions {
    /// A snapshot of this process's environment. `config_path` None means OpenClaw's own
    /// default: `OPENCLAW_CONFIG_PATH`, else `$OPENCLAW_STATE_DIR/openclaw.json`, else
    /// `~/.openclaw/openclaw.json`.
    pub fn from_env(config_path: Option<PathBuf>) -> DetectOptions {
        let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        let home = var("HOME").map(PathBuf::from);
        let uid = current_uid();
        let system_root = PathBuf::from("/");
        let user =
            user_name(&system_root, uid).or_else(|| var("USER").and_then(|u| u.into_string().ok()));
        let config_path = config_path.or_else(|| {
            var("OPENCLAW_CONFIG_PATH")
                .map(PathBuf::from)
                .or_else(|| {
                    var("OPENCLAW_STATE_DIR").map(|d| PathBuf::from(d).join("openclaw.json"))
                })
                .or_else(|| home.as_ref().map(|h| h.join(".openclaw/openclaw.json")))
        });
        let state_dir = var("OPENCLAW_STATE_DIR")
            .map(PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(".openclaw")));
        DetectOptions {
            docker_host_flag: None,
            docker_host: var("DOCKER_HOST").and_then(|v| v.into_string().ok()),
            docker_context: var("DOCKER_CONTEXT").and_then(|v| v.into_string().ok()),
            docker_config: var("DOCKER_CONFIG").map(PathBuf::from),
            xdg_runtime_dir: var("XDG_RUNTIME_DIR").map(PathBuf::from),
            home,
            path: var("PATH"),
            uid,
            user,
            sandbox_image: DEFAULT_SANDBOX_IMAGE.to_string(),
            config_path,
            system_root,
            probe_timeout: DEFAULT_PROBE_TIMEOUT,
            want: None,
            state_dir,
        }
    }

    /// A system path under `system_root` (`sys("etc/subuid")`).
    pub(crate) fn sys(&self, rel: &str) -> PathBuf {
        self.system_root.join(rel.trim_start_matches('/'))
    }
}

/// This process's (effective) uid: the owner of `/proc/self`, read without libc.
fn current_uid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(u32::MAX)
}

/// The login name for `uid` from `<root>/etc/passwd`.
pub(crate) fn user_name(system_root: &Path, uid: u32) -> Option<String> {
    passwd_field(system_root, uid, 0)
}

/// The home directory of `uid` from `<root>/etc/passwd`.
pub fn home_dir(system_root: &Path, uid: u32) -> Option<PathBuf> {
    passwd_field(system_root, uid, 5)
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

/// Field `n` (0: name, 5: home) of `uid`'s line in `<root>/etc/passwd`.
fn passwd_field(system_root: &Path, uid: u32, n: usize) -> Option<String> {
    let passwd = std::fs::read_to_string(system_root.join("etc/passwd")).ok()?;
    passwd.lines().find_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        let id: u32 = f.get(2)?.parse().ok()?;
        (id == uid).then(|| f.get(n).map(|s| s.to_string()))?
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_and_home_come_from_the_uid_s_own_passwd_line() {
        let root = tempfile::tempdir().expect("dir");
        std::fs::create_dir(root.path().join("etc")).expect("etc");
        std::fs::write(
            root.path().join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\nbroken line\nalice:x:1000:1000:Alice,,,:/home/alice:/bin/bash\nnohome:x:1001:1001:::/bin/sh\n",
        )
        .expect("passwd");
        assert_eq!(user_name(root.path(), 1000).as_deref(), Some("alice"));
        assert_eq!(
            home_dir(root.path(), 1000),
            Some(PathBuf::from("/home/alice"))
        );
        assert_eq!(home_dir(root.path(), 0), Some(PathBuf::from("/root")));
        assert_eq!(home_dir(root.path(), 1001), None);
        assert_eq!(home_dir(root.path(), 4242), None);
    }
}
