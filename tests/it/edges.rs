//! The edges of the write path under attack (issue #15): each test is named after the attack
//! or accident it defeats, and runs the real binary in a throwaway home.

use crate::support::homes as common;

use common::*;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Output;

const APPLY: [&str; 7] = [
    "apply",
    "--yes",
    "--threat",
    "private",
    "--engine",
    "docker",
    "--no-detect",
];

/// A literal token long enough to be moved to `.env`, with a `#` that unquoted dotenv cuts.
const HASH_TOKEN: &str = "abcdefghijkl#mnopqrstuvwxyz0123456789";

fn apply_with(sb: &Sandbox, extra: &[&str]) -> Output {
    let mut args = APPLY.to_vec();
    args.extend_from_slice(extra);
    sb.run(&args)
}

fn full_mode(p: &Path) -> u32 {
    std::fs::metadata(p).expect("metadata").permissions().mode() & 0o7777
}

fn both(o: &Output) -> String {
    format!("{}{}", stdout(o), stderr(o))
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn config_with_token(token: &str) -> String {
    format!(
        "{{\n  gateway: {{ auth: {{ mode: 'token', token: {} }} }},\n}}\n",
        serde_json::to_string(token).expect("json")
    )
}

/// The value OpenClaw's loader gets for the Gateway token (dotenv's rules, ported).
fn env_value(sb: &Sandbox) -> Option<String> {
    let text = std::fs::read_to_string(sb.state().join(".env")).expect(".env");
    clawposture::domain::dotenv::get(&text, "OPENCLAW_GATEWAY_TOKEN")
}

// ---- 1. system directories ------------------------------------------------------------------

#[test]
fn a_config_in_a_sticky_world_writable_dir_like_tmp_keeps_the_dir_mode() {
    let sb = Sandbox::new();
    let tmp = sb.path("tmp");
    std::fs::create_dir(&tmp).expect("mkdir");
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o1777)).expect("chmod");
    let config = tmp.join("openclaw.json");
    let out = apply_with(&sb, &["--config", config.to_str().expect("utf8")]);
    assert!(crate::support::homes::applied(&out), "{}", both(&out));
    assert_eq!(
        full_mode(&tmp),
        0o1777,
        "the sticky bit and the mode are kept"
    );
    assert!(config.exists());
    assert_eq!(mode(&config), 0o600);
    let printed = stdout(&out);
    assert!(
        printed.contains(&format!("Warning: {} is mode 1777", tmp.display()))
            && printed.contains("left its mode"),
        "{printed}"
    );
    let checklist =
        std::fs::read_to_string(sb.state().join("clawposture-checklist.md")).expect("checklist");
    assert!(
        checklist.contains("## Directories left open") && checklist.contains("sticky"),
        "{checklist}"
    );
}

#[test]
fn a_config_symlinked_into_a_dir_owned_by_someone_else_does_not_remode_that_dir() {
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("SKIPPED: needs root to make a directory owned by another uid (nobody)");
        return;
    }
    let sb = Sandbox::new();
    let etc = sb.path("etc");
    std::fs::create_dir(&etc).expect("mkdir");
    let real = etc.join("openclaw.json");
    std::fs::write(&real, "{\n  gateway: { port: 18789 },\n}\n").expect("write");
    std::os::unix::fs::chown(&etc, Some(65534), Some(65534)).expect("chown");
    std::fs::set_permissions(&etc, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::fs::create_dir_all(sb.state()).expect("state");
    symlink(&real, sb.config()).expect("symlink");
    let out = apply_with(&sb, &[]);
    assert!(
        crate::support::homes::applied_but(&out, &["static.config_perms"]),
        "{}",
        both(&out)
    );
    let meta = std::fs::metadata(&etc).expect("etc");
    assert_eq!(full_mode(&etc), 0o755, "someone else's dir keeps its mode");
    assert_eq!(meta.uid(), 65534);
    assert!(
        std::fs::symlink_metadata(sb.config())
            .expect("link")
            .file_type()
            .is_symlink()
    );
    let v = json5(&std::fs::read_to_string(&real).expect("target"));
    assert_eq!(v["agents"]["defaults"]["sandbox"]["mode"], "non-main");
    assert!(
        stdout(&out).contains("belongs to uid 65534"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_config_in_the_users_own_project_dir_is_not_remoded() {
    let sb = Sandbox::new();
    let project = sb.path("project");
    std::fs::create_dir(&project).expect("mkdir");
    std::fs::set_permissions(&project, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let config = project.join("openclaw.json");
    let out = apply_with(&sb, &["--config", config.to_str().expect("utf8")]);
    assert!(crate::support::homes::applied(&out), "{}", both(&out));
    assert_eq!(full_mode(&project), 0o755);
    assert!(stdout(&out).contains("chmod 700"), "{}", stdout(&out));
}

#[test]
fn a_dir_clawposture_creates_for_the_config_is_private() {
    let sb = Sandbox::new();
    let config = sb.path("new/deeper/openclaw.json");
    let out = apply_with(&sb, &["--config", config.to_str().expect("utf8")]);
    assert!(crate::support::homes::applied(&out), "{}", both(&out));
    assert_eq!(full_mode(&sb.path("new/deeper")), 0o700);
    assert!(!stdout(&out).contains("left its mode"), "{}", stdout(&out));
}

// ---- 2. temp files, symlinks, hard links -----------------------------------------------------

#[test]
fn a_symlink_planted_with_the_temp_pattern_cannot_redirect_the_token_and_is_left_alone() {
    let sb = Sandbox::new();
    sb.put_config("{}\n");
    let loot = sb.path("loot");
    // clawposture's temp pattern is `.<name>.clawposture-tmp-…`.
    let planted = [".env", "openclaw.json", "clawposture-checklist.md"].map(|n| {
        sb.state()
            .join(format!(".{n}.clawposture-tmp-{}-0", std::process::id()))
    });
    for p in &planted {
        symlink(&loot, p).expect("plant");
    }
    let out = apply_with(&sb, &[]);
    assert!(crate::support::homes::applied(&out), "{}", both(&out));
    assert!(!loot.exists(), "a planted symlink was followed");
    let env = std::fs::symlink_metadata(sb.state().join(".env")).expect(".env");
    assert!(
        env.file_type().is_file(),
        ".env is a regular file, not a link"
    );
    assert_eq!(env.mode() & 0o777, 0o600);
    assert_eq!(env_value(&sb).map(|v| v.len()), Some(64));
    for p in &planted {
        assert!(
            std::fs::symlink_metadata(p).is_ok(),
            "symlinks are never swept"
        );
    }
}

#[test]
fn temps_left_by_a_killed_run_are_swept_by_the_next_run() {
    let sb = Sandbox::new();
    sb.put_config("{}\n");
    let stale = [".env", "openclaw.json", "clawposture-checklist.md"]
        .map(|n| sb.state().join(format!(".{n}.clawposture-tmp-99999")));
    for p in &stale {
        std::fs::write(p, "OPENCLAW_GATEWAY_TOKEN=leaked").expect("stale");
    }
    let unrelated = sb.state().join("notes.clawposture-tmp-1");
    std::fs::write(&unrelated, "mine").expect("unrelated");
    let out = apply_with(&sb, &[]);
    assert!(crate::support::homes::applied(&out), "{}", both(&out));
    for p in &stale {
        assert!(!p.exists(), "{} not swept", p.display());
    }
    assert!(unrelated.exists(), "other names are not ours to remove");
    let left: Vec<String> = names_in(&sb.state())
        .into_iter()
        .filter(|n| n.contains("clawposture-tmp") && !n.starts_with("notes"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_symlinked_env_is_written_through_and_the_link_kept() {
    let sb = Sandbox::new();
    sb.put_config("{}\n");
    let secrets = sb.path("secrets");
    std::fs::create_dir(&secrets).expect("mkdir");
    let real = secrets.join("openclaw.env");
    std::fs::write(&real, "OTHER=1\n").expect("env");
    symlink(&real, sb.state().join(".env")).expect("link");
    let out = apply_with(&sb, &[]);
    assert!(
        crate::support::homes::applied_but(&out, &["static.env_perms"]),
        "{}",
        both(&out)
    );
    assert!(
        std::fs::symlink_metadata(sb.state().join(".env"))
            .expect("link")
            .file_type()
            .is_symlink(),
        "the link is kept"
    );
    let text = std::fs::read_to_string(&real).expect("target");
    assert!(text.starts_with("OTHER=1\n"), "{text}");
    let token = clawposture::domain::dotenv::get(&text, "OPENCLAW_GATEWAY_TOKEN").expect("token");
    assert_eq!(token.len(), 64);
    assert_eq!(mode(&real), 0o600);
}

#[test]
fn a_hard_linked_config_is_refused_not_split() {
    let sb = Sandbox::new();
    let original = "{\n  gateway: { port: 18789 },\n}\n";
    sb.put_config(original);
    let other = sb.path("other-name.json");
    std::fs::hard_link(sb.config(), &other).expect("link");
    let out = apply_with(&sb, &[]);
    assert_eq!(out.status.code(), Some(4), "{}", both(&out));
    assert!(stderr(&out).contains("2 hard links"), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(sb.config()).expect("kept"),
        original
    );
    assert_eq!(std::fs::metadata(&other).expect("other").nlink(), 2);
    assert!(!sb.state().join(".env").exists(), "nothing written");
}

#[test]
fn a_hard_linked_env_is_refused_not_split() {
    let sb = Sandbox::new();
    let original = "{\n  gateway: { port: 18789 },\n}\n";
    sb.put_config(original);
    std::fs::write(sb.state().join(".env"), "A=1\n").expect("env");
    std::fs::hard_link(sb.state().join(".env"), sb.path("env-copy")).expect("link");
    let out = apply_with(&sb, &[]);
    assert_eq!(out.status.code(), Some(4), "{}", both(&out));
    assert!(stderr(&out).contains("2 hard links"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("Nothing was lost"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(sb.config()).expect("kept"),
        original
    );
    assert_eq!(
        std::fs::read_to_string(sb.path("env-copy")).expect("kept"),
        "A=1\n"
    );
}

// ---- 3. .env with OpenClaw's dotenv rules ----------------------------------------------------

#[test]
fn a_literal_token_with_a_hash_is_quoted_so_openclaw_reads_all_of_it() {
    let sb = Sandbox::new();
    sb.put_config(&config_with_token(HASH_TOKEN));
    let out = apply_with(&sb, &[]);
    assert!(crate::support::homes::applied(&out), "{}", both(&out));
    assert_eq!(env_value(&sb).as_deref(), Some(HASH_TOKEN));
    let v = json5(&std::fs::read_to_string(sb.config()).expect("config"));
    assert_eq!(
        v["gateway"]["auth"]["token"]["id"],
        "OPENCLAW_GATEWAY_TOKEN"
    );
}

#[test]
fn a_placeholder_token_in_env_does_not_replace_the_good_literal_token() {
    for placeholder in [
        "OPENCLAW_GATEWAY_TOKEN=\"\"",
        "OPENCLAW_GATEWAY_TOKEN=# fill me in",
    ] {
        let sb = Sandbox::new();
        let good = "0123456789abcdef0123456789abcdef";
        sb.put_config(&config_with_token(good));
        std::fs::write(
            sb.state().join(".env"),
            format!("A=1\n{placeholder}\nB=2\n"),
        )
        .expect("env");
        let out = apply_with(&sb, &[]);
        assert!(crate::support::homes::applied(&out), "{}", both(&out));
        assert_eq!(
            env_value(&sb).as_deref(),
            Some(good),
            "{placeholder}: OpenClaw must see the config's token"
        );
        let text = std::fs::read_to_string(sb.state().join(".env")).expect("env");
        assert_eq!(
            text.matches("OPENCLAW_GATEWAY_TOKEN=").count(),
            1,
            "the placeholder line is replaced: {text}"
        );
        assert!(text.starts_with("A=1\nB=2\n"), "{text}");
    }
}

#[test]
fn a_token_with_a_newline_cannot_inject_a_variable_into_env() {
    let sb = Sandbox::new();
    let token = "0123456789abcdef0123456789\nNODE_OPTIONS=--require=/tmp/x.js";
    let original = config_with_token(token);
    sb.put_config(&original);
    let out = apply_with(&sb, &[]);
    assert_eq!(out.status.code(), Some(4), "{}", both(&out));
    assert!(stderr(&out).contains("line break"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("Nothing was lost"),
        "{}",
        stderr(&out)
    );
    assert!(!sb.state().join(".env").exists());
    assert_eq!(
        std::fs::read_to_string(sb.config()).expect("kept"),
        original
    );
}

/// dotenv from the installed OpenClaw package, next to the `openclaw` wrapper.
fn openclaw_dotenv() -> Option<(PathBuf, PathBuf)> {
    let cli = openclaw_or_skip("env round trip through OpenClaw's dotenv")?;
    let root = cli.parent()?.parent()?.to_path_buf();
    let module = root.join("node_modules/dotenv");
    let node = [root.join("bin/node"), PathBuf::from("node")]
        .into_iter()
        .find(|n| {
            std::process::Command::new(n)
                .arg("--version")
                .output()
                .is_ok_and(|o| crate::support::homes::applied(&o))
        });
    match (module.join("package.json").exists(), node) {
        (true, Some(node)) => Some((node, module)),
        _ if std::env::var_os("CI").is_some() => {
            panic!("dotenv or node not found next to {}", cli.display())
        }
        _ => {
            eprintln!(
                "SKIPPED env round trip: no node_modules/dotenv or node next to {}",
                cli.display()
            );
            None
        }
    }
}

#[test]
fn env_values_round_trip_through_openclaws_own_dotenv_parser() {
    let Some((node, module)) = openclaw_dotenv() else {
        return;
    };
    let tokens = [
        HASH_TOKEN,
        "quote'd-0123456789abcdef0123456789",
        "dq\"-0123456789abcdef0123456789ab",
        "back\\n-slash-0123456789abcdef01234",
        "mixed'\"#-0123456789abcdef0123456",
    ];
    for token in tokens {
        let sb = Sandbox::new();
        sb.put_config(&config_with_token(token));
        std::fs::write(sb.state().join(".env"), "KEEP=1 # mine\n").expect("env");
        let out = apply_with(&sb, &[]);
        assert!(
            crate::support::homes::applied(&out),
            "{token}: {}",
            both(&out)
        );
        let script = format!(
            "const d=require({}); const fs=require('fs'); process.stdout.write(JSON.stringify(d.parse(fs.readFileSync({}))))",
            serde_json::to_string(&module.display().to_string()).expect("json"),
            serde_json::to_string(&sb.state().join(".env").display().to_string()).expect("json"),
        );
        let parsed = std::process::Command::new(&node)
            .args(["-e", &script])
            .output()
            .expect("node");
        assert!(parsed.status.success(), "{}", stderr(&parsed));
        let v: serde_json::Value = serde_json::from_slice(&parsed.stdout).expect("json");
        assert_eq!(
            v["OPENCLAW_GATEWAY_TOKEN"], token,
            "OpenClaw's dotenv read {v}"
        );
        assert_eq!(v["KEEP"], "1");
        assert_eq!(env_value(&sb).as_deref(), Some(token), "the port agrees");
    }
}

// ---- 4. races and honest messages ------------------------------------------------------------

#[test]
#[cfg_attr(
    not(feature = "fault-injection"),
    ignore = "needs the write path's test hooks: cargo test --features fault-injection"
)]
fn an_edit_made_between_the_re_read_and_the_rename_is_not_lost() {
    let sb = Sandbox::new();
    let original = "{\n  gateway: { port: 18789 },\n}\n";
    sb.put_config(original);
    let edit = format!("printf '// my edit\\n' >> '{}'", sb.config().display());
    let out = sb
        .cmd(&APPLY)
        .env("CLAWPOSTURE_FAULT_RUN", format!("config-after-temp:{edit}"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(4), "{}", both(&out));
    assert!(stderr(&out).contains("changed while"), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(sb.config()).expect("config"),
        format!("{original}// my edit\n"),
        "the user's edit is in the file"
    );
    let names = names_in(&sb.state());
    assert!(
        !names
            .iter()
            .any(|n| n.contains("clawposture-tmp") || n.ends_with(".bak")),
        "no temp, no backup of a write that did not happen: {names:?}"
    );
    // The .env token was written first; the message says so instead of "nothing was lost".
    assert!(stderr(&out).contains("Already written"), "{}", stderr(&out));
}

#[test]
#[cfg_attr(
    not(feature = "fault-injection"),
    ignore = "needs the write path's test hooks: cargo test --features fault-injection"
)]
fn a_kill_while_writing_env_leaves_a_private_temp_that_the_next_run_sweeps() {
    let sb = Sandbox::new();
    let original = "{\n  gateway: { port: 18789 },\n}\n";
    sb.put_config(original);
    let out = sb
        .cmd(&APPLY)
        .env("CLAWPOSTURE_FAULT", "env-after-temp")
        .output()
        .expect("run");
    assert!(!out.status.success());
    let temps: Vec<PathBuf> = names_in(&sb.state())
        .into_iter()
        .filter(|n| n.starts_with("..env.clawposture-tmp-"))
        .map(|n| sb.state().join(n))
        .collect();
    assert_eq!(temps.len(), 1, "{:?}", names_in(&sb.state()));
    assert_eq!(mode(&temps[0]), 0o600, "the token's temp is private");
    assert!(!sb.state().join(".env").exists());
    assert_eq!(std::fs::read_to_string(sb.config()).expect("old"), original);
    let out = apply_with(&sb, &[]);
    assert!(crate::support::homes::applied(&out), "{}", both(&out));
    assert!(!temps[0].exists(), "swept by the next run");
    assert_eq!(env_value(&sb).map(|v| v.len()), Some(64));
}

#[test]
fn a_checklist_failure_after_the_config_was_written_says_the_config_was_written() {
    let sb = Sandbox::new();
    sb.put_config("{\n  gateway: { port: 18789 },\n}\n");
    // A directory where the checklist goes: the rename onto it fails.
    std::fs::create_dir(sb.state().join("clawposture-checklist.md")).expect("mkdir");
    std::fs::write(sb.state().join("clawposture-checklist.md/x"), "x").expect("fill");
    let out = apply_with(&sb, &[]);
    assert_eq!(out.status.code(), Some(4), "{}", both(&out));
    let err = stderr(&out);
    assert!(!err.contains("Nothing was lost"), "{err}");
    assert!(err.contains("Already written"), "{err}");
    assert!(
        err.contains(&format!("the config {}", sb.config().display())),
        "{err}"
    );
    let v = json5(&std::fs::read_to_string(sb.config()).expect("config"));
    assert_eq!(v["agents"]["defaults"]["sandbox"]["mode"], "non-main");
}

#[test]
fn a_backup_cut_short_by_a_full_disk_is_removed() {
    let sb = Sandbox::new();
    // 44 KB of config; the file size limit (20 blocks of 512 bytes) stops the backup halfway,
    // as a full disk would (EFBIG instead of ENOSPC; SIGXFSZ ignored so the write fails).
    let original = format!(
        "// {}\n{{\n  gateway: {{ port: 18789 }},\n}}\n",
        "x".repeat(44_000)
    );
    sb.put_config(&original);
    let script = format!(
        "trap '' XFSZ; ulimit -f 20; exec '{}' apply --yes --threat private --engine docker --no-detect",
        env!("CARGO_BIN_EXE_clawposture")
    );
    let cmd = sb.cmd(&[]);
    let out = std::process::Command::new("sh")
        .args(["-c", &script])
        .env_clear()
        .envs(cmd.get_envs().filter_map(|(k, v)| Some((k, v?))))
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(4), "{}", both(&out));
    assert!(stderr(&out).contains("backup"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("Nothing was lost"),
        "{}",
        stderr(&out)
    );
    let names = names_in(&sb.state());
    assert!(
        !names.iter().any(|n| n.ends_with(".bak")),
        "a partial backup was left: {names:?}"
    );
    assert_eq!(
        std::fs::read_to_string(sb.config()).expect("kept"),
        original
    );
}

// ---- 5. inputs OpenClaw reads ----------------------------------------------------------------

#[test]
fn a_config_with_a_utf8_bom_is_applied_and_keeps_the_bom() {
    let sb = Sandbox::new();
    sb.put_config("\u{feff}{\n  \"gateway\": { \"port\": 18789 },\n}\n");
    let out = apply_with(&sb, &[]);
    assert!(crate::support::homes::applied(&out), "{}", both(&out));
    let text = std::fs::read_to_string(sb.config()).expect("config");
    assert!(text.starts_with("\u{feff}{"), "the BOM is kept");
    let v = json5(text.trim_start_matches('\u{feff}'));
    assert_eq!(v["agents"]["defaults"]["sandbox"]["mode"], "non-main");
}

#[test]
fn duplicate_keys_are_edited_where_openclaw_reads_them_last_wins() {
    let sb = Sandbox::new();
    sb.put_config(
        "{\n  gateway: { port: 1, bind: 'lan' },\n  gateway: { port: 18789, bind: 'lan' },\n}\n",
    );
    let out = apply_with(&sb, &[]);
    assert!(crate::support::homes::applied(&out), "{}", both(&out));
    assert!(!both(&out).contains("internal check failed"));
    // Read the way OpenClaw's JSON5 reads it: the last `gateway` wins.
    let v = json5(&std::fs::read_to_string(sb.config()).expect("config"));
    assert_eq!(v["gateway"]["bind"], "loopback");
    assert_eq!(v["gateway"]["port"], 18789);
}

#[test]
fn huge_numbers_like_1e999_are_not_mangled() {
    let sb = Sandbox::new();
    sb.put_config(
        "{\n  gateway: { port: 18789 },\n  x: 1e999,\n  y: 123456789012345678901234567890,\n}\n",
    );
    let out = apply_with(&sb, &[]);
    assert!(crate::support::homes::applied(&out), "{}", both(&out));
    let text = std::fs::read_to_string(sb.config()).expect("config");
    assert!(text.contains("x: 1e999,"), "{text}");
    assert!(
        text.contains("y: 123456789012345678901234567890,"),
        "{text}"
    );
}

/// Run with a time limit (coreutils `timeout`): a hang shows as exit 124, not a stuck suite.
fn run_limited(sb: &Sandbox, args: &[&str]) -> Output {
    let cmd = sb.cmd(&[]);
    std::process::Command::new("timeout")
        .arg("30")
        .arg(env!("CARGO_BIN_EXE_clawposture"))
        .args(args)
        .env_clear()
        .envs(cmd.get_envs().filter_map(|(k, v)| Some((k, v?))))
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run")
}

#[test]
fn a_fifo_as_the_config_is_refused_at_once_not_read_forever() {
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.state()).expect("state");
    let c = std::ffi::CString::new(sb.config().to_str().expect("utf8")).expect("cstr");
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    for args in [
        &[
            "plan",
            "--threat",
            "private",
            "--engine",
            "docker",
            "--no-detect",
        ][..],
        &APPLY[..],
    ] {
        let out = run_limited(&sb, args);
        assert_eq!(out.status.code(), Some(4), "{args:?}: {}", both(&out));
        assert!(
            stderr(&out).contains("not a regular file"),
            "{}",
            stderr(&out)
        );
    }
    let out = run_limited(&sb, &["verify"]);
    assert_ne!(out.status.code(), Some(124), "verify hung on the FIFO");
    assert!(!out.status.success());
}

#[test]
fn a_device_as_the_config_is_refused_not_read() {
    let sb = Sandbox::new();
    let out = run_limited(
        &sb,
        &[
            "plan",
            "--threat",
            "private",
            "--engine",
            "docker",
            "--no-detect",
            "--config",
            "/dev/zero",
        ],
    );
    assert_eq!(out.status.code(), Some(4), "{}", both(&out));
    assert!(
        stderr(&out).contains("not a regular file"),
        "{}",
        stderr(&out)
    );
}

// ---- 6. user presets -------------------------------------------------------------------------

fn user_presets(sb: &Sandbox) -> PathBuf {
    let dir = sb.path("xdg/clawposture/presets");
    std::fs::create_dir_all(&dir).expect("mkdir");
    dir
}

const PRESET_HEAD: &str =
    "name = \"NAME\"\ntitle = \"T\"\norder = 9\nsummary = \"s\"\nengine = \"recommended\"\n";

fn preset_set(key: &str, value: &str) -> String {
    format!("\n[[set]]\nkey = {key:?}\nvalue = {value}\nwhy = \"w\"\ndoc = \"d\"\n")
}

#[test]
fn a_malformed_user_preset_is_skipped_with_file_and_line_and_never_breaks_verify() {
    let sb = Sandbox::new();
    let dir = user_presets(&sb);
    std::fs::write(dir.join("broken.toml"), "name = \"broken\"\ntitle = [\n").expect("write");
    sb.put_config("{\n  gateway: { port: 18789 },\n}\n");
    let out = sb.run(&["presets"]);
    assert!(crate::support::homes::applied(&out), "{}", both(&out));
    let warning = format!("{}:2", dir.join("broken.toml").display());
    assert!(stderr(&out).contains(&warning), "{}", stderr(&out));
    assert!(stdout(&out).contains("private"), "the others still list");
    let out = sb.run(&["verify"]);
    assert!(stderr(&out).contains(&warning), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("Result:"),
        "verify ran its checks: {}",
        both(&out)
    );
    let out = sb.run(&[
        "plan",
        "--threat",
        "private",
        "--engine",
        "docker",
        "--no-detect",
    ]);
    assert!(crate::support::homes::applied(&out), "{}", both(&out));
}

#[test]
fn a_preset_key_that_turns_a_scalar_into_an_object_or_writes_an_include_is_refused() {
    let sb = Sandbox::new();
    let dir = user_presets(&sb);
    let port = format!(
        "{}{}",
        PRESET_HEAD.replace("NAME", "portx"),
        preset_set("gateway.port.x", "1")
    );
    let include = format!(
        "{}{}",
        PRESET_HEAD.replace("NAME", "inc"),
        preset_set("agents.\"$include\"", "\"./x.json5\"")
    );
    let conflict = format!(
        "{}{}{}",
        PRESET_HEAD.replace("NAME", "twice"),
        preset_set("tools.profile", "\"coding\""),
        preset_set("tools.profile", "\"full\"")
    );
    std::fs::write(dir.join("portx.toml"), port).expect("write");
    std::fs::write(dir.join("inc.toml"), include).expect("write");
    std::fs::write(dir.join("twice.toml"), conflict).expect("write");
    let out = sb.run(&["presets"]);
    assert!(crate::support::homes::applied(&out), "{}", both(&out));
    let err = stderr(&out);
    assert!(err.contains("portx.toml:8: key `gateway.port.x`"), "{err}");
    assert!(
        err.contains("inc.toml:8") && err.contains("$include"),
        "{err}"
    );
    assert!(
        err.contains("twice.toml") && err.contains("different values"),
        "{err}"
    );
    for name in ["portx", "inc", "twice"] {
        assert!(
            !stdout(&out).contains(&format!("{name} — ")),
            "{name} was not skipped"
        );
        let out = sb.run(&[
            "plan",
            "--threat",
            name,
            "--engine",
            "docker",
            "--no-detect",
        ]);
        assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    }
}

#[test]
fn a_user_override_of_a_builtin_preset_says_so_in_presets_and_plan() {
    let sb = Sandbox::new();
    let dir = user_presets(&sb);
    let public =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("presets/public.toml"))
            .expect("built-in");
    let file = dir.join("public.toml");
    std::fs::write(&file, public.replacen("title = \"", "title = \"Mine: ", 1)).expect("write");
    let out = sb.run(&["presets"]);
    assert!(crate::support::homes::applied(&out), "{}", both(&out));
    let line = format!(
        "source: user file {}, overrides the built-in preset",
        file.display()
    );
    assert!(stdout(&out).contains(&line), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("source: built in"),
        "{}",
        stdout(&out)
    );
    let json = sb.run(&["presets", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    let public = v
        .as_array()
        .and_then(|a| a.iter().find(|p| p["name"] == "public"))
        .expect("public");
    assert_eq!(public["overrides"], "presets/public.toml");
    let out = sb.run(&[
        "plan",
        "--threat",
        "public",
        "--engine",
        "docker",
        "--no-detect",
        "--accept-risk",
    ]);
    assert!(
        stdout(&out).contains("overrides the built-in preset"),
        "{}",
        both(&out)
    );
}

/// Wall time of one command (a coarse bound, measured for the report; the cost was quadratic).
#[test]
fn a_3000_entry_user_preset_plans_applies_and_switches_back() {
    // What a big preset must still do right; its cost (once quadratic: 6 s for this plan in a
    // debug build) is measured by `cargo bench --bench user_preset` as a per-entry ratio.
    let sb = Sandbox::new();
    let dir = user_presets(&sb);
    sb.put_config("{\n  gateway: { port: 18789 },\n}\n");
    let plan = [
        "plan",
        "--threat",
        "private",
        "--engine",
        "docker",
        "--no-detect",
    ];
    let mut text = PRESET_HEAD.replace("NAME", "big");
    for i in 0..3000 {
        text.push_str(&preset_set(&format!("env.vars.V{i}"), &format!("\"v{i}\"")));
    }
    std::fs::write(dir.join("big.toml"), text).expect("write");
    let out = sb.run(&plan);
    assert!(crate::support::homes::applied(&out), "{}", both(&out));
    // verify still judges the file with the big preset among the candidates.
    let out = sb.run(&["verify"]);
    assert!(stdout(&out).contains("Result:"), "{}", both(&out));
    let out = sb.run(&APPLY);
    assert!(crate::support::homes::applied(&out), "{}", both(&out));
    let big = [
        "apply",
        "--yes",
        "--threat",
        "big",
        "--engine",
        "docker",
        "--no-detect",
    ];
    let out = sb.run(&big);
    assert!(crate::support::homes::applied(&out), "{}", both(&out));
    let v = json5(&std::fs::read_to_string(sb.config()).expect("config"));
    assert_eq!(v["env"]["vars"].as_object().map(|m| m.len()), Some(3000));
    let out = sb.run(&plan);
    assert!(crate::support::homes::applied(&out), "{}", both(&out));
    assert_eq!(
        stdout(&out).matches("env.vars.V").count(),
        3000,
        "each removal is listed"
    );
}

#[test]
fn a_preset_that_unsets_a_key_clawposture_wrote_keeps_the_users_empty_object() {
    // The user had `env: {}`; one preset wrote a variable inside it, the next unsets that
    // variable: the object the user wrote stays, empty, as it was before clawposture.
    let sb = Sandbox::new();
    let dir = user_presets(&sb);
    sb.put_config("{\n  gateway: { port: 18789 },\n  env: {},\n}\n");
    let fill = PRESET_HEAD.replace("NAME", "fill") + &preset_set("env.vars.FOO", "\"x\"");
    let drop = PRESET_HEAD.replace("NAME", "drop")
        + "\n[[unset]]\nkey = \"env.vars.FOO\"\nwhy = \"w\"\ndoc = \"d\"\n";
    std::fs::write(dir.join("fill.toml"), fill).expect("write");
    std::fs::write(dir.join("drop.toml"), drop).expect("write");
    let apply = |name: &str| {
        let out = sb.run(&[
            "apply",
            "--yes",
            "--threat",
            name,
            "--engine",
            "docker",
            "--no-detect",
        ]);
        assert!(crate::support::homes::applied(&out), "{}", both(&out));
        json5(&std::fs::read_to_string(sb.config()).expect("config"))
    };
    assert_eq!(apply("fill")["env"]["vars"]["FOO"], "x");
    let v = apply("drop");
    assert_eq!(v["env"], serde_json::json!({}), "{v}");
}

// ---- races: the checklist under the lock -----------------------------------------------------

#[test]
fn two_concurrent_applies_never_leave_a_checklist_naming_the_other_preset() {
    let sb = Sandbox::new();
    sb.put_config(
        "{\n  gateway: { port: 18789 },\n  channels: { telegram: { dmPolicy: 'pairing' } },\n}\n",
    );
    let run = |preset: &str| {
        sb.cmd(&[
            "apply",
            "--yes",
            "--threat",
            preset,
            "--engine",
            "docker",
            "--no-detect",
            "--owner",
            "telegram:42",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn")
    };
    let mut both_wrote = 0;
    for round in 0..8 {
        let (first, second) = if round % 2 == 0 {
            ("private", "group")
        } else {
            ("group", "private")
        };
        let mut a = run(first);
        let mut b = run(second);
        let (ra, rb) = (a.wait().expect("wait"), b.wait().expect("wait"));
        if ra.code().is_some_and(|c| c <= 1) && rb.code().is_some_and(|c| c <= 1) {
            both_wrote += 1;
        }
        let v = json5(&std::fs::read_to_string(sb.config()).expect("config"));
        let holds = if v["agents"]["entries"]["group"].is_object() {
            "group"
        } else {
            "private"
        };
        let checklist = std::fs::read_to_string(sb.state().join("clawposture-checklist.md"))
            .expect("checklist");
        assert!(
            checklist.contains(&format!("Every value the {holds} preset owns")),
            "round {round}: the config holds {holds}, the checklist names another preset"
        );
    }
    eprintln!("rounds where both runs finished their work: {both_wrote}/8");
}

// ---- scale -------------------------------------------------------------------------------------

/// The scale bench's generator (benches/support/scale.rs): one shape for the bench and this
/// test. Per 10 lines one agent with an unsandboxed override and one Telegram group chat,
/// every other chat already routed to the group agent; the `--group` answers name every chat
/// (so the group preset appends a route for each chat not routed yet). The bench's runner is
/// compiled in too, unused here.
#[allow(dead_code)]
#[path = "../../benches/support/scale.rs"]
mod scale;

/// Run clawposture with `args` and return its output and the CPU seconds (user + system) that
/// process alone used (`wait4` on its pid: the test harness runs other tests' children too).
fn run_measured(sb: &Sandbox, args: &[&str]) -> (Output, f64) {
    use std::os::unix::process::ExitStatusExt;
    let out_path = sb.path("measured.out");
    let err_path = sb.path("measured.err");
    // Reaped by wait4 below, which also gives its resource usage.
    #[allow(clippy::zombie_processes)]
    let child = sb
        .cmd(args)
        .stdout(std::fs::File::create(&out_path).expect("stdout file"))
        .stderr(std::fs::File::create(&err_path).expect("stderr file"))
        .spawn()
        .expect("spawn");
    let mut status = 0;
    // SAFETY: wait4 only writes the status and the struct it is given, for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as libc::pid_t, "wait4");
    let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 / 1e6;
    let out = Output {
        status: std::process::ExitStatus::from_raw(status),
        stdout: std::fs::read(&out_path).expect("stdout"),
        stderr: std::fs::read(&err_path).expect("stderr"),
    };
    (out, t(usage.ru_utime) + t(usage.ru_stime))
}

/// The first apply, and the re-run on what it wrote (the ledger then lists every route and
/// key it added: comparing routes list against list made the re-run quadratic, 16 s at 90k
/// lines while the first apply took 2 s).
#[test]
fn apply_on_a_config_ten_times_bigger_costs_about_ten_times_not_a_hundred() {
    let mut cost = Vec::new();
    let mut rerun = Vec::new();
    for lines in [1_500, 15_000] {
        let sb = Sandbox::new();
        let (text, ids) = scale::scaled(lines);
        let groups: Vec<String> = ids
            .iter()
            .flat_map(|id| ["--group".to_string(), format!("telegram:{id}")])
            .collect();
        sb.put_config(&text);
        let mut args: Vec<&str> = vec![
            "apply",
            "--yes",
            "--threat",
            "group",
            "--engine",
            "docker",
            "--no-detect",
            "--owner",
            "telegram:42",
        ];
        args.extend(groups.iter().map(String::as_str));
        let (out, used) = run_measured(&sb, &args);
        assert!(crate::support::homes::applied(&out), "{}", both(&out));
        let v = json5(&std::fs::read_to_string(sb.config()).expect("config"));
        // Each chat is routed to the group agent exactly once (the user's routes kept, the
        // missing ones appended), plus the channel's route to the owner's agent.
        let bindings = v["bindings"].as_array().cloned().unwrap_or_default();
        assert_eq!(bindings.len(), ids.len() + 1, "{lines} lines");
        for id in &ids {
            let routed = bindings
                .iter()
                .filter(|b| b["agentId"] == "group" && b["match"]["peer"]["id"] == id.as_str())
                .count();
            assert_eq!(routed, 1, "telegram:{id}");
        }
        cost.push(used);
        let written = std::fs::read(sb.config()).expect("config");
        let (out, used) = run_measured(&sb, &args);
        assert!(crate::support::homes::applied(&out), "{}", both(&out));
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Nothing to change"),
            "the re-run changes nothing: {}",
            both(&out)
        );
        assert_eq!(std::fs::read(sb.config()).expect("config"), written);
        rerun.push(used);
    }
    for (what, cost) in [("apply", &cost), ("re-run", &rerun)] {
        let ratio = cost[1] / cost[0];
        eprintln!(
            "{what} CPU: {:.2} s for 1.5k lines, {:.2} s for 15k lines: x{ratio:.1}",
            cost[0], cost[1]
        );
        // Linear is x10 (plus fixed costs, which only lower it); quadratic was x100.
        assert!(ratio < 20.0, "{what}: x{ratio:.1}: not linear");
    }
}
