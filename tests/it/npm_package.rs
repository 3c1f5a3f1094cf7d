//! The npm packages as a user gets them: the generator lays out `clawposture` and
//! `@clawposture/cli-linux-x64-gnu` (holding this build's binary, stripped as the release
//! profile strips it), `npm pack` packs both, and npm installs the two tarballs into a
//! temporary prefix with no registry (offline, the registry set to a closed loopback port).
//! Then the launcher runs the binary: `npx clawposture --version`, `presets --json`,
//! `apply --dry-run`, exit codes passed through, a terminal reaching the wizard, SIGTERM
//! forwarded, and the messages for a missing or damaged platform package. The launcher's choice
//! for the other platforms is tested on fixture folders by npm/test (node:test), run here too.
//!
//! Needs node and npm; without them the tests say SKIPPED (and fail under CI=true).
//! `CLAWPOSTURE_NPM_BINARY=PATH` packages that binary (a release build) instead of this build.

use crate::support::pty as pty_common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use pty_common::{DEADLINE, Tmux, have_tmux, quote, skipped};

const BIN: &str = env!("CARGO_BIN_EXE_clawposture");
const VERSION: &str = env!("CARGO_PKG_VERSION");
const PLATFORM_PKG: &str = "@clawposture/cli-linux-x64-gnu";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// node and npm on PATH, or None after saying SKIPPED (a failure under CI=true).
fn have_npm() -> bool {
    let ok = ["node", "npm"].iter().all(|tool| {
        Command::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if !ok {
        if std::env::var_os("CI").is_some() {
            panic!("CI is set but node/npm are not installed");
        }
        skipped("node and npm are not installed (the npm package tests need them)");
    }
    ok
}

/// The machine's own platform is the one package built here.
fn on_linux_x64_glibc() -> bool {
    let ok = cfg!(all(
        target_os = "linux",
        target_arch = "x86_64",
        target_env = "gnu"
    ));
    if !ok {
        skipped(
            "the npm tarball test installs the linux-x64-gnu package, which fits only linux-x64 with glibc",
        );
    }
    ok
}

/// npm settings that keep every npm call on this machine: no registry, its own cache, no
/// user config, nothing to audit or fund.
fn offline_env(cache: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("npm_config_offline", "true".into()),
        // Port 9 on loopback: nothing listens there; an attempt would fail, not leave.
        ("npm_config_registry", "http://127.0.0.1:9/".into()),
        ("npm_config_cache", cache.display().to_string()),
        ("npm_config_userconfig", "/dev/null".into()),
        ("npm_config_audit", "false".into()),
        ("npm_config_fund", "false".into()),
        ("npm_config_update_notifier", "false".into()),
        ("npm_config_loglevel", "warn".into()),
    ]
}

fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"))
}

fn ok(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The packed and installed packages, made once for every test here.
struct Installed {
    root: PathBuf,
    prefix: PathBuf,
    main_tgz: PathBuf,
    platform_tgz: PathBuf,
}

impl Installed {
    fn npm(&self, args: &[&str]) -> Command {
        let mut c = Command::new("npm");
        c.args(args).envs(offline_env(&self.root.join("cache")));
        c
    }

    /// `npx clawposture ARGS` in the prefix, offline.
    fn npx(&self, args: &[&str]) -> Command {
        let mut c = Command::new("npx");
        // No `--no`/`--yes`: npx would read `--no clawposture` as an option and its value.
        c.arg("clawposture")
            .args(args)
            .current_dir(&self.prefix)
            .envs(offline_env(&self.root.join("cache")));
        c
    }

    fn launcher(&self) -> PathBuf {
        self.prefix.join("node_modules/.bin/clawposture")
    }

    fn binary(&self) -> PathBuf {
        self.prefix
            .join("node_modules")
            .join(PLATFORM_PKG)
            .join("bin/clawposture")
    }
}

static INSTALLED: OnceLock<Installed> = OnceLock::new();

/// Lay out, pack and install both packages under target/tmp (emptied first).
fn installed() -> &'static Installed {
    INSTALLED.get_or_init(|| {
        let t0 = Instant::now();
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("npm_package");
        let _ = std::fs::remove_dir_all(&root);
        for d in ["gen", "packs", "prefix", "cache"] {
            std::fs::create_dir_all(root.join(d)).expect("mkdir");
        }
        // CLAWPOSTURE_NPM_BINARY: package a release build instead (the README's release check).
        // Otherwise this test build, stripped as the release profile strips.
        let binary = root.join("clawposture");
        let source = std::env::var_os("CLAWPOSTURE_NPM_BINARY")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        let stripped = source.is_none()
            && Command::new("strip")
                .arg("-o")
                .arg(&binary)
                .arg(BIN)
                .status()
                .is_ok_and(|s| s.success());
        if !stripped {
            std::fs::copy(source.as_deref().unwrap_or(Path::new(BIN)), &binary)
                .expect("copy the binary");
        }
        let gen_script = repo().join("npm/scripts/generate.mjs");
        let gen_dir = root.join("gen");
        let main_dir = ok(Command::new("node")
            .arg(&gen_script)
            .args(["main", "--out"])
            .arg(&gen_dir));
        let platform_dir = ok(Command::new("node")
            .arg(&gen_script)
            .args(["platform", "linux-x64-gnu", "--binary"])
            .arg(&binary)
            .arg("--out")
            .arg(&gen_dir));
        let mut i = Installed {
            prefix: root.join("prefix"),
            main_tgz: PathBuf::new(),
            platform_tgz: PathBuf::new(),
            root: root.clone(),
        };
        for (dir, slot) in [(main_dir, 0), (platform_dir, 1)] {
            // `npm pack --json` says the file it wrote.
            let json = ok(i
                .npm(&["pack", "--json", "--pack-destination"])
                .arg(root.join("packs"))
                .arg(dir.trim()));
            let v: serde_json::Value = serde_json::from_str(&json).expect("npm pack --json");
            let file = root
                .join("packs")
                .join(v[0]["filename"].as_str().expect("filename"));
            if slot == 0 {
                i.main_tgz = file;
            } else {
                i.platform_tgz = file;
            }
        }
        ok(
            i.npm(&["install", "--no-save", "--ignore-scripts", "--prefix"])
                .arg(&i.prefix)
                .arg(&i.main_tgz)
                .arg(&i.platform_tgz),
        );
        eprintln!(
            "npm packages: {} {} bytes, {} {} bytes; laid out, packed and installed in {:?}",
            i.main_tgz.display(),
            size(&i.main_tgz),
            i.platform_tgz.display(),
            size(&i.platform_tgz),
            t0.elapsed()
        );
        i
    })
}

fn size(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

fn ready() -> Option<&'static Installed> {
    (have_npm() && on_linux_x64_glibc()).then(installed)
}

fn json_file(p: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{p:?}: {e}")))
        .expect("JSON")
}

#[test]
fn the_installed_packages_carry_cargo_tomls_version_and_no_install_scripts() {
    let Some(i) = ready() else { return };
    let main = json_file(&i.prefix.join("node_modules/clawposture/package.json"));
    let platform = json_file(
        &i.prefix
            .join("node_modules")
            .join(PLATFORM_PKG)
            .join("package.json"),
    );
    assert_eq!(main["version"], VERSION);
    assert_eq!(platform["version"], VERSION);
    let optional = main["optionalDependencies"].as_object().expect("optional");
    assert_eq!(optional.len(), 5, "{optional:?}");
    assert!(optional.values().all(|v| v == VERSION), "{optional:?}");
    assert_eq!(platform["os"], serde_json::json!(["linux"]));
    assert_eq!(platform["cpu"], serde_json::json!(["x64"]));
    assert_eq!(platform["libc"], serde_json::json!(["glibc"]));
    for m in [&main, &platform] {
        assert!(m.get("scripts").is_none(), "no install scripts: {m}");
    }
    // Offline, npm installed exactly the two tarballs: the other platforms' optional packages
    // were skipped, not fetched.
    let scope: Vec<String> = std::fs::read_dir(i.prefix.join("node_modules/@clawposture"))
        .expect("scope dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(scope, ["cli-linux-x64-gnu"]);
}

#[test]
fn npx_clawposture_version_presets_and_a_dry_run() {
    let Some(i) = ready() else { return };
    let t0 = Instant::now();
    let version = ok(&mut i.npx(&["--version"]));
    assert_eq!(
        version.trim(),
        format!(
            "clawposture {VERSION} (presets checked against OpenClaw {})",
            clawposture::model::versions::OPENCLAW_CHECKED
        )
    );
    eprintln!("npx clawposture --version: {:?}", t0.elapsed());

    let presets = ok(&mut i.npx(&["presets", "--json"]));
    let direct = ok(Command::new(BIN).args(["presets", "--json"]));
    let v: serde_json::Value = serde_json::from_str(&presets).expect("presets --json is JSON");
    assert!(
        v.to_string().contains("private"),
        "presets lists private: {v}"
    );
    assert_eq!(
        presets, direct,
        "the launcher passes stdout through unchanged"
    );

    let dir = tempfile::tempdir().expect("temp");
    let config = dir.path().join("openclaw.json");
    let fixture = repo().join("tests/fixtures/configs/commented.json5");
    std::fs::copy(&fixture, &config).expect("copy fixture");
    let before = std::fs::read(&config).expect("read");
    let args = |threat: &str| {
        vec![
            "apply".to_string(),
            "--dry-run".into(),
            "--threat".into(),
            threat.into(),
            "--engine".into(),
            "none".into(),
            "--config".into(),
            config.display().to_string(),
            "--state-dir".into(),
            dir.path().join("state").display().to_string(),
        ]
    };
    let private = args("private");
    let private: Vec<&str> = private.iter().map(String::as_str).collect();
    let through = run(i.npx(&private).env("HOME", dir.path()));
    assert_eq!(through.status.code(), Some(0), "{through:?}");
    let diff = String::from_utf8_lossy(&through.stdout);
    assert!(
        diff.contains("gateway"),
        "the dry run shows the plan:\n{diff}"
    );
    let direct = run(Command::new(BIN).args(&private).env("HOME", dir.path()));
    assert_eq!(through.stdout, direct.stdout);
    assert_eq!(
        std::fs::read(&config).expect("read"),
        before,
        "dry run wrote"
    );

    // Exit codes pass through: 3 (this machine cannot satisfy the preset) and 2 (usage).
    let public = args("public");
    let public: Vec<&str> = public.iter().map(String::as_str).collect();
    let refused = run(i.npx(&public).env("HOME", dir.path()));
    assert_eq!(refused.status.code(), Some(3), "{refused:?}");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("needs a container engine"));
    let usage = run(&mut i.npx(&["--no-such-flag"]));
    assert_eq!(usage.status.code(), Some(2), "{usage:?}");
    assert!(
        String::from_utf8_lossy(&usage.stderr).contains("unexpected argument '--no-such-flag'")
    );
    // And straight through the installed bin, without npx in between.
    let usage = run(Command::new(i.launcher()).arg("--no-such-flag"));
    assert_eq!(usage.status.code(), Some(2), "{usage:?}");
}

/// The shell line for tmux: `cmd` in `dir`, offline npm settings, then the exit status.
fn tmux_line(i: &Installed, home: &Path, cmd: &str) -> String {
    let env: String = offline_env(&i.root.join("cache"))
        .iter()
        .map(|(k, v)| format!(" {k}={}", quote(v)))
        .collect();
    format!(
        "cd {} && env -i PATH={} HOME={} TERM=xterm-256color LANG=C.UTF-8{env} {cmd} --config {} --state-dir {}; echo \"EXIT=$?\"; sleep 300",
        quote(&i.prefix.display().to_string()),
        quote(&std::env::var("PATH").unwrap_or_default()),
        quote(&home.display().to_string()),
        quote(&home.join("openclaw.json").display().to_string()),
        quote(&home.join("state").display().to_string()),
    )
}

fn home_with_config() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp");
    std::fs::copy(
        repo().join("tests/fixtures/configs/commented.json5"),
        dir.path().join("openclaw.json"),
    )
    .expect("copy fixture");
    dir
}

#[test]
fn a_terminal_reaches_the_wizard_through_npx() {
    let Some(i) = ready() else { return };
    if !have_tmux() {
        return;
    }
    let home = home_with_config();
    let t = Tmux::start(
        80,
        24,
        &tmux_line(i, home.path(), "npx clawposture --engine none"),
    );
    t.wait_for("1/7 Welcome");
    t.wait_for(&home.path().join("openclaw.json").display().to_string());
    t.keys(&["q"]);
    t.wait_for("EXIT=4");
    assert_eq!(
        t.format("#{alternate_on}"),
        "0",
        "left the alternate screen"
    );
}

/// The parent of `pid`, from /proc/PID/stat.
fn parent(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) state ppid ...": comm may hold spaces, so split after its last ')'.
    stat.rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().nth(1))
        .and_then(|s| s.parse::<u32>().ok())
}

/// The processes whose parent is `pid`.
fn children(pid: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .expect("/proc")
        .flatten()
        .filter_map(|e| e.file_name().to_string_lossy().parse::<u32>().ok())
        .filter(|p| parent(*p) == Some(pid))
        .collect()
}

fn descendants(pid: u32) -> Vec<u32> {
    let mut all = Vec::new();
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        for c in children(p) {
            all.push(c);
            todo.push(c);
        }
    }
    all
}

fn exe(pid: u32) -> Option<PathBuf> {
    std::fs::read_link(format!("/proc/{pid}/exe")).ok()
}

fn cmdline(pid: u32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
        .unwrap_or_default()
}

/// Alive and not a zombie waiting to be reaped.
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .and_then(|(_, r)| r.split_whitespace().next().map(|st| st != "Z"))
        })
        .unwrap_or(false)
}

#[test]
fn sigterm_to_the_launcher_ends_the_binary_and_is_its_exit_status() {
    let Some(i) = ready() else { return };
    if !have_tmux() {
        return;
    }
    let home = home_with_config();
    let launcher = i.launcher().display().to_string();
    let t = Tmux::start(
        80,
        24,
        &tmux_line(
            i,
            home.path(),
            &format!("{} --engine none", quote(&launcher)),
        ),
    );
    t.wait_for("1/7 Welcome");
    let shell: u32 = t.format("#{pane_pid}").parse().expect("pane pid");
    let procs = descendants(shell);
    let binary = i.binary().canonicalize().expect("binary path");
    let child = *procs
        .iter()
        .find(|p| exe(**p).as_deref() == Some(binary.as_path()))
        .unwrap_or_else(|| panic!("no process runs {binary:?} among {procs:?}"));
    // Its parent is the launcher: Node running the package's bin.
    let node = parent(child).expect("parent of the binary");
    assert!(
        cmdline(node).contains("node_modules/.bin/clawposture")
            && exe(node).is_some_and(|e| e
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("node"))),
        "the binary's parent {node} is not the launcher: {}",
        cmdline(node)
    );

    // SAFETY: kill(2) on a pid this test just found as its own tmux pane's descendant.
    assert_eq!(unsafe { libc::kill(node as i32, libc::SIGTERM) }, 0);
    t.wait_for("EXIT=143");
    let start = Instant::now();
    while alive(child) {
        assert!(
            start.elapsed() < DEADLINE,
            "the binary {child} outlived its launcher"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A copy of the installed prefix, to damage without touching the one the other tests use.
fn copy_prefix(i: &Installed, name: &str) -> PathBuf {
    let to = i.root.join(name);
    let _ = std::fs::remove_dir_all(&to);
    ok(Command::new("cp").arg("-a").arg(&i.prefix).arg(&to));
    to
}

#[test]
fn a_missing_or_damaged_platform_package_says_which_to_reinstall() {
    let Some(i) = ready() else { return };
    let damaged = copy_prefix(i, "damaged");
    let bin = damaged
        .join("node_modules")
        .join(PLATFORM_PKG)
        .join("bin/clawposture");
    // Truncated, as an interrupted download leaves it.
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&bin)
        .expect("open");
    f.set_len(4096).expect("truncate");
    drop(f);
    let out = run(Command::new(damaged.join("node_modules/.bin/clawposture")).arg("--version"));
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("is damaged (4096 bytes")
            && err.contains(&format!("reinstall {PLATFORM_PKG}@{VERSION}")),
        "{err}"
    );

    std::fs::remove_dir_all(damaged.join("node_modules").join(PLATFORM_PKG)).expect("rm");
    let out = run(Command::new(damaged.join("node_modules/.bin/clawposture")).arg("--version"));
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "{PLATFORM_PKG} is not installed; reinstall {PLATFORM_PKG}@{VERSION}"
        )),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&damaged);
}

#[test]
fn launcher_selection_for_every_platform_on_fixture_folders() {
    if !have_npm() {
        return;
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join("npm/test"))
        .expect("npm/test")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            p.to_string_lossy().ends_with(".test.js") || p.to_string_lossy().ends_with(".test.mjs")
        })
        .collect();
    files.sort();
    assert!(files.len() >= 3, "{files:?}");
    let out = run(Command::new("node").arg("--test").args(&files));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "node --test failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The runner really ran them: a count of passes, and no failure.
    assert!(
        text.lines()
            .any(|l| l.contains("pass ") && !l.ends_with("pass 0")),
        "{text}"
    );
}
