//! Podman found the way OpenClaw finds it (#14): through the `podman` CLI, the API socket only a
//! secondary signal.
//!
//! The real test runs a second rootless Podman store for the engines' test user (its own HOME
//! and XDG_RUNTIME_DIR in a temp dir, vfs storage) whose API service was never started: the
//! shared `podman system service` of `.ci/support/engines.sh` is left alone. The fixture tests
//! fold recorded `podman info` output (and a reconstructed Podman machine connection list) into
//! a report.

use std::path::Path;
use std::process::Command;

use clawposture::domain::podman_cli::{parse_connections, parse_info};
use clawposture::edge::detect::{EngineReport, Source, State, merge_podman_cli};
use clawposture::model::environment::EngineKind;

fn recorded_info() -> serde_json::Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/engines/debian12-podman-rootless.podman-info.json");
    serde_json::from_str(&std::fs::read_to_string(p).expect("fixture")).expect("json")
}

#[test]
fn recorded_podman_info_makes_a_silent_socket_usable() {
    let v = recorded_info();
    let info = parse_info(&v).expect("podman info");
    let sock = "unix:///tmp/clawposture-podman-cli/run/podman/podman.sock";
    let mut stale = EngineReport::new(sock, Source::RootlessPodman);
    stale.state = State::NotRunning;
    stale.fix = Some("systemctl --user enable --now podman.socket".into());
    let mut engines = vec![stale];
    merge_podman_cli(&mut engines, &v, &info, &[], None);
    assert_eq!(engines.len(), 1);
    let e = &engines[0];
    assert_eq!(e.state, State::Ready);
    assert_eq!(e.kind, Some(EngineKind::Podman));
    assert_eq!(e.rootless, Some(true));
    assert!(e.confirmed && e.fix.is_none());
    assert_eq!(e.version.as_deref(), Some("4.3.1"));
    assert!(
        e.detail
            .as_deref()
            .is_some_and(|d| d.contains("not running")),
        "{:?}",
        e.detail
    );
    // Nothing at that path in the report: the CLI's Podman is added.
    let mut engines = Vec::new();
    merge_podman_cli(&mut engines, &v, &info, &[], None);
    assert_eq!(engines[0].source, Source::PodmanCli);
    assert_eq!(engines[0].endpoint, sock);
}

/// Reconstructed (not recorded: no Podman machine runs here): macOS `podman info` is remote,
/// its default connection a loopback ssh to the machine.
#[test]
fn podman_machine_over_loopback_ssh_is_usable_and_a_remote_host_is_not() {
    let mut v = recorded_info();
    v["host"]["serviceIsRemote"] = serde_json::json!(true);
    v["host"]["remoteSocket"]["path"] = serde_json::json!("/run/user/501/podman/podman.sock");
    let info = parse_info(&v).expect("info");
    let conns = parse_connections(
        r#"[{"Name":"podman-machine-default","URI":"ssh://core@127.0.0.1:52368/run/user/501/podman/podman.sock","Identity":"/Users/u/.local/share/containers/podman/machine/machine","Default":true,"ReadWrite":true},
            {"Name":"podman-machine-default-root","URI":"ssh://root@127.0.0.1:52368/run/podman/podman.sock","Identity":"/Users/u/.local/share/containers/podman/machine/machine","Default":false,"ReadWrite":true}]"#,
    );
    let mut engines = Vec::new();
    merge_podman_cli(&mut engines, &v, &info, &conns, None);
    assert_eq!(engines[0].state, State::Ready, "{:?}", engines[0]);
    assert!(
        engines[0]
            .endpoint
            .starts_with("ssh://core@127.0.0.1:52368")
    );
    assert!(
        engines[0]
            .detail
            .as_deref()
            .is_some_and(|d| d.contains("Podman machine"))
    );
    let mut engines = Vec::new();
    merge_podman_cli(
        &mut engines,
        &v,
        &info,
        &conns,
        Some("ssh://root@build.example.com/run/podman/podman.sock"),
    );
    assert_eq!(engines[0].state, State::Unsupported);
    assert!(engines[0].as_engine().is_none());
}

/// A private rootless Podman store for the engines' test user; its pause process (started by
/// `podman info`) is ended by pid when the test is done.
struct Store {
    dir: tempfile::TempDir,
    user: String,
}

impl Store {
    fn new(user: &str) -> Store {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = dir.path().join("home");
        let run = dir.path().join("run");
        std::fs::create_dir_all(home.join(".config/containers")).expect("mkdir");
        std::fs::create_dir_all(&run).expect("mkdir");
        std::fs::write(
            home.join(".config/containers/storage.conf"),
            "[storage]\ndriver = \"vfs\"\n",
        )
        .expect("storage.conf");
        let ok = Command::new("chown")
            .args(["-R", &format!("{user}:{user}")])
            .arg(dir.path())
            .status()
            .expect("chown");
        assert!(ok.success());
        std::fs::set_permissions(&run, std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .expect("chmod");
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .expect("chmod");
        Store {
            dir,
            user: user.into(),
        }
    }

    fn run(&self) -> std::path::PathBuf {
        self.dir.path().join("run")
    }

    /// clawposture as the test user with this store's HOME and XDG_RUNTIME_DIR.
    fn clawposture(&self, args: &[&str]) -> std::process::Output {
        self.as_user(&crate::support::exe::copy_into(self.dir.path()), args)
    }

    /// `program args` as the test user with this store's HOME and XDG_RUNTIME_DIR.
    fn as_user(&self, program: &std::path::Path, args: &[&str]) -> std::process::Output {
        Command::new("setpriv")
            .args([
                &format!("--reuid={}", self.user),
                &format!("--regid={}", self.user),
                "--init-groups",
                "env",
                "-i",
            ])
            .arg(format!("HOME={}", self.dir.path().join("home").display()))
            .arg(format!("XDG_RUNTIME_DIR={}", self.run().display()))
            .arg(format!("USER={}", self.user))
            .arg("PATH=/usr/bin:/bin")
            .arg(program)
            .args(args)
            // The test's own directory may be one only root can enter (a clone in /root):
            // podman and clawposture run from `/`, where the test user may be.
            .current_dir("/")
            .output()
            .expect("run clawposture")
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        let pid = std::fs::read_to_string(self.run().join("libpod/tmp/pause.pid"))
            .ok()
            .and_then(|p| p.trim().parse::<i32>().ok());
        if let Some(pid) = pid.filter(|p| *p > 1) {
            // SAFETY: kill(2) on the pause process this store's `podman info` started.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
    }
}

#[test]
fn rootless_podman_without_its_api_service_is_found_through_the_cli() {
    let Some(env) = crate::support::engines::engines_env() else {
        return;
    };
    if !crate::support::detect::is_root() {
        crate::support::engines::skipped("needs root to run as the engines' test user");
        return;
    }
    let store = Store::new(&env["CLAWPOSTURE_TEST_USER"]);
    // A store that has been used before, as a user's is: its first `podman info` creates the
    // storage and the pause process, which is not what detection is judged on (it gives the
    // CLI 3 s).
    let first = store.as_user(std::path::Path::new("/usr/bin/podman"), &["info"]);
    assert!(first.status.success(), "podman info: {first:?}");
    let sock = store.run().join("podman/podman.sock");
    let out = store.clawposture(&["detect", "--json"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let v: serde_json::Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{e}: {text}{}", String::from_utf8_lossy(&out.stderr)));
    let engines = v["engines"].as_array().expect("engines");
    let podman = engines
        .iter()
        .find(|e| e["endpoint"] == format!("unix://{}", sock.display()))
        .unwrap_or_else(|| panic!("{v:#}"));
    assert!(!sock.exists(), "no API service listens there");
    assert_eq!(podman["state"], "ready", "{podman:#}");
    assert_eq!(podman["kind"], "podman");
    assert_eq!(podman["rootless"], true);
    assert!(
        podman["detail"]
            .as_str()
            .is_some_and(|d| d.contains("podman CLI") && d.contains("missing")),
        "{podman:#}"
    );
    let chosen = v["selected"]["index"]
        .as_u64()
        .expect("an engine is selected") as usize;
    assert_eq!(engines[chosen], *podman);
    // The plan is written for it, as OpenClaw's podman backend would run it.
    let out = store.clawposture(&["plan", "--json", "--threat", "private"]);
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"));
    assert_eq!(v["engine"], "podman-rootless", "{v:#}");
}
