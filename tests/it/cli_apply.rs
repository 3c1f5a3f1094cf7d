//! The non-interactive CLI on fixture files: what it writes, what it keeps, what it refuses.

use crate::support::homes as common;

use common::*;
use serde_json::{Value, json};
use std::os::unix::fs::PermissionsExt;

fn apply(sb: &Sandbox, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["apply", "--yes"];
    args.extend_from_slice(extra);
    sb.run(&args)
}

/// The status (`PASS`, `FAIL`, `SKIP`) a printed verify report gives item `id`.
fn status_of<'a>(printed: &'a str, id: &str) -> Option<&'a str> {
    printed.lines().find_map(|l| {
        let mut words = l.split_whitespace();
        let status = words.next()?;
        (words.next() == Some(id)).then_some(status)
    })
}

/// The config as JSON, with the sandbox's own directory (in the policy file's path) named
/// `<sandbox>`, so configs written in different sandboxes compare.
fn read_config(sb: &Sandbox) -> Value {
    let text = std::fs::read_to_string(sb.config()).expect("config written");
    json5(&text.replace(&sb.dir.path().display().to_string(), "<sandbox>"))
}

fn env_token(sb: &Sandbox) -> String {
    let env = std::fs::read_to_string(sb.state().join(".env")).expect(".env written");
    env.lines()
        .find_map(|l| l.strip_prefix("OPENCLAW_GATEWAY_TOKEN="))
        .expect("token line")
        .to_string()
}

fn backups(sb: &Sandbox) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(sb.state())
        .expect("state dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".bak"))
        .collect();
    v.sort();
    v
}

#[test]
fn new_file_is_plain_json_with_private_modes_and_a_hidden_token() {
    let sb = Sandbox::new();
    // An endpoint where nothing listens, whatever this machine runs.
    let nothing = format!("unix://{}", sb.path("nothing.sock").display());
    let out = apply(
        &sb,
        &[
            "--threat",
            "private",
            "--engine",
            "docker-rootless",
            "--no-detect",
            "--docker-host",
            &nothing,
        ],
    );
    assert!(crate::support::homes::applied(&out), "{}", stderr(&out));
    let text = std::fs::read_to_string(sb.config()).expect("written");
    let v: Value = serde_json::from_str(&text).expect("a new file is plain JSON");
    assert_eq!(v["agents"]["defaults"]["sandbox"]["mode"], "non-main");
    assert_eq!(
        v["agents"]["defaults"]["sandbox"]["docker"]["network"],
        "none"
    );
    assert_eq!(v["agents"]["defaults"]["sandbox"]["docker"]["user"], "0:0");
    assert_eq!(
        v["gateway"]["auth"]["token"],
        json!({"source": "env", "provider": "default", "id": "OPENCLAW_GATEWAY_TOKEN"})
    );
    assert_eq!(v["session"]["dmScope"], "main");
    assert_eq!(mode(&sb.config()), 0o600);
    assert_eq!(mode(&sb.state()), 0o700);
    assert_eq!(mode(&sb.state().join(".env")), 0o600);
    let token = env_token(&sb);
    assert_eq!(token.len(), 64);
    assert!(!stdout(&out).contains(&token) && !stderr(&out).contains(&token));
    assert!(!text.contains(&token));
    assert!(backups(&sb).is_empty(), "no file, no backup");
    // What was written is checked at once: the static items pass; the engine does not answer,
    // which fails its item instead of passing.
    let printed = stdout(&out);
    for id in [
        "static.drift",
        "static.config_perms",
        "static.env_perms",
        "static.token",
    ] {
        assert_eq!(status_of(&printed, id), Some("PASS"), "{id}:\n{printed}");
    }
    assert_eq!(
        status_of(&printed, "engine.reachable"),
        Some("FAIL"),
        "{printed}"
    );
}

#[test]
fn commented_json5_keeps_every_comment_and_moves_the_literal_token() {
    let sb = Sandbox::new();
    let original = fixture("commented.json5");
    sb.put_config(&original);
    let out = apply(
        &sb,
        &[
            "--threat",
            "public",
            "--engine",
            "docker-rootless",
            "--no-detect",
        ],
    );
    assert!(crate::support::homes::applied(&out), "{}", stderr(&out));
    let text = std::fs::read_to_string(sb.config()).expect("written");
    for comment in [
        "// My OpenClaw config. Hand-written; please keep my notes.",
        "/* Gateway: reached from my laptop only */",
        "// TODO: tighten",
        "// my model choice",
        "// trailing comma below is fine in JSON5",
    ] {
        assert!(text.contains(comment), "lost `{comment}`:\n{text}");
    }
    assert!(
        text.contains("logging: { level: 'info', },"),
        "unrelated key reformatted:\n{text}"
    );
    assert!(text.contains("model: { primary: 'anthropic/claude-sonnet-4-6' },"));
    let v = json5(&text);
    assert_eq!(v["agents"]["defaults"]["sandbox"]["mode"], "all");
    assert_eq!(v["gateway"]["bind"], "loopback");
    assert!(
        v["tools"]["exec"].get("security").is_none() && v["tools"]["exec"].get("ask").is_none()
    );
    assert_eq!(v["channels"]["telegram"]["dmPolicy"], "open");
    // The literal Gateway token moved to .env unchanged, so clients keep working.
    let literal = "correct-horse-battery-staple-0123456789";
    assert!(!text.contains(literal));
    assert_eq!(env_token(&sb), literal);
    let shown = format!("{}{}", stdout(&out), stderr(&out));
    assert!(!shown.contains(literal), "token shown");
    assert!(
        !shown.contains("AAFakeTokenForTestsOnly"),
        "bot token shown"
    );
    // The backup is the original, byte for byte, 0600.
    let b = backups(&sb);
    assert_eq!(b.len(), 1);
    assert_eq!(
        std::fs::read_to_string(sb.state().join(&b[0])).expect("backup"),
        original
    );
    assert_eq!(mode(&sb.state().join(&b[0])), 0o600);
}

/// The answers of a re-run test: `preset` for `engine`, with an owner, one group, on the
/// owner's Gateway.
fn answers<'a>(preset: &'a str, engine: &'a str) -> Vec<&'a str> {
    vec![
        "--threat",
        preset,
        "--engine",
        engine,
        "--no-detect",
        "--owner",
        "telegram:123456789",
        "--group",
        "telegram:-100200",
        "--same-gateway",
    ]
}

#[test]
fn applying_twice_changes_nothing() {
    for threat in ["private", "group", "public"] {
        let sb = Sandbox::new();
        sb.fixture("commented.json5");
        let args = answers(threat, "podman-rootless");
        assert!(crate::support::homes::applied(&apply(&sb, &args)));
        let first = std::fs::read(sb.config()).expect("written");
        let env_first = std::fs::read(sb.state().join(".env")).expect("env");
        let out = apply(&sb, &args);
        assert!(crate::support::homes::applied(&out), "{}", stderr(&out));
        assert!(
            stdout(&out).contains("Nothing to change"),
            "{threat}: {}",
            stdout(&out)
        );
        // Nothing written, yet the posture the file holds is checked as after a write.
        let printed = stdout(&out);
        assert!(printed.contains("Checked just now"), "{threat}: {printed}");
        assert_eq!(
            status_of(&printed, "static.drift"),
            Some("PASS"),
            "{threat}: {printed}"
        );
        assert_eq!(
            std::fs::read(sb.config()).expect("still there"),
            first,
            "{threat}"
        );
        assert_eq!(
            std::fs::read(sb.state().join(".env")).expect("env"),
            env_first
        );
        assert_eq!(backups(&sb).len(), 1, "{threat}: a no-op writes no backup");
    }
}

#[test]
fn switching_equals_applying_the_target_to_the_original() {
    for fixture_name in ["commented.json5", "channels.json", "empty-object.json"] {
        for (from, to) in [
            ("private", "public"),
            ("public", "group"),
            ("group", "private"),
            ("group", "public"),
        ] {
            let switched = Sandbox::new();
            switched.fixture(fixture_name);
            let direct = Sandbox::new();
            direct.fixture(fixture_name);
            let common = [
                "--engine",
                "docker",
                "--no-detect",
                "--owner",
                "telegram:123456789",
                "--group",
                "telegram:-100200",
                "--member",
                "telegram:222",
                "--same-gateway",
            ];
            let run = |sb: &Sandbox, t: &str| {
                let mut a = vec!["--threat", t];
                a.extend_from_slice(&common);
                let o = apply(sb, &a);
                assert!(
                    crate::support::homes::applied(&o),
                    "{fixture_name} {t}: {}",
                    stderr(&o)
                );
            };
            run(&switched, from);
            run(&switched, to);
            run(&direct, to);
            // Where the two differ, the target preset left the key alone (the original still
            // has it in `direct`) and the switch removed what only the first preset wanted.
            let orig = leaves(&json5(&fixture(fixture_name)));
            let (s, d) = (
                leaves(&read_config(&switched)),
                leaves(&read_config(&direct)),
            );
            let keys: std::collections::BTreeSet<&String> = s.keys().chain(d.keys()).collect();
            for k in keys {
                if s.get(k) != d.get(k) {
                    assert!(
                        !s.contains_key(k) && d.get(k) == orig.get(k),
                        "{fixture_name}: {from} -> {to}: `{k}` is {:?} after the switch, {:?} when applied directly",
                        s.get(k),
                        d.get(k)
                    );
                }
            }
        }
    }
}

/// Two agents, one unsandboxed (the user's), no roster setting: what a preset adds here
/// depends on the file as much as on the preset.
const TWO_AGENTS: &str = "{\n  agents: {\n    entries: {\n      main: {},\n      helper: { workspace: '~/.openclaw/workspace-helper', sandbox: { mode: 'off' }, tools: { profile: 'full' } },\n    },\n  },\n  channels: { telegram: { dmPolicy: 'pairing' } },\n}\n";

/// [`TWO_AGENTS`] applied with `(preset, engine)` `from`, then `to`: both writes pass apply's
/// own check, and a plan of `to` right after changes nothing. Returns the config written.
fn switch(from: (&str, &str), to: (&str, &str)) -> Value {
    let sb = Sandbox::new();
    sb.put_config(TWO_AGENTS);
    let args = |(preset, engine)| {
        let mut a = answers(preset, engine);
        a.push("--accept-risk");
        a
    };
    for step in [from, to] {
        let o = apply(&sb, &args(step));
        assert!(
            crate::support::homes::applied(&o),
            "{from:?} -> {to:?}: applying {step:?}: {}{}",
            stdout(&o),
            stderr(&o)
        );
    }
    let mut plan = vec!["plan"];
    plan.extend(args(to));
    let o = sb.run(&plan);
    assert!(
        stdout(&o).contains("Nothing to change"),
        "{from:?} -> {to:?}: a plan right after the switch still changes: {}{}",
        stdout(&o),
        stderr(&o)
    );
    read_config(&sb)
}

/// An attack on the switch: the earlier preset wrote what the new one needs only because of
/// the file (`agents.ownership` for a roster of several agents, a sandbox floor for an agent
/// the user left unsandboxed). Judged on the file before going back, the new preset saw them
/// held and let the switch remove them: group -> private left a roster OpenClaw refuses to
/// start ("multi-agent rosters require agents.ownership=explicit"), and apply's own check
/// failed after writing; private -> group was refused. Every switch between presets, on each
/// engine, must write the new preset exactly.
#[test]
fn a_switch_keeps_what_the_file_still_needs_from_the_earlier_preset() {
    let presets = ["private", "group", "public"];
    for engine in ["docker", "none"] {
        for from in presets {
            for to in presets.into_iter().filter(|t| *t != from) {
                let v = switch((from, engine), (to, engine));
                assert_eq!(
                    v.pointer("/agents/ownership"),
                    Some(&json!("explicit")),
                    "{engine}: {from} -> {to}: two agents need an explicit roster"
                );
            }
        }
    }
}

/// The same for a change of engine under one preset (docker, rootless Docker, rootless Podman,
/// none; each pair both ways): the new engine's variant is written exactly.
#[test]
fn an_engine_switch_writes_the_new_engines_variant_exactly() {
    let engines = ["docker", "docker-rootless", "podman-rootless", "none"];
    for preset in ["private", "group", "public"] {
        for from in engines {
            for to in engines.into_iter().filter(|e| *e != from) {
                switch((preset, from), (preset, to));
            }
        }
    }
}

/// Every leaf of a JSON value by its path (empty objects and arrays are leaves).
fn leaves(v: &Value) -> std::collections::BTreeMap<String, Value> {
    fn walk(v: &Value, path: String, out: &mut std::collections::BTreeMap<String, Value>) {
        match v {
            Value::Object(m) if !m.is_empty() => m
                .iter()
                .for_each(|(k, v)| walk(v, format!("{path}/{k}"), out)),
            other => {
                out.insert(path, other.clone());
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    walk(v, String::new(), &mut out);
    out
}

#[test]
fn channels_are_never_invented_and_foreign_bindings_survive() {
    let sb = Sandbox::new();
    sb.fixture("channels.json");
    let out = apply(
        &sb,
        &[
            "--threat",
            "group",
            "--engine",
            "docker",
            "--no-detect",
            "--owner",
            "telegram:111",
            "--group",
            "telegram:-100200",
            "--group",
            "slack:C1",
        ],
    );
    assert!(crate::support::homes::applied(&out), "{}", stderr(&out));
    let v = read_config(&sb);
    let channels: Vec<&String> = v["channels"]
        .as_object()
        .expect("channels")
        .keys()
        .collect();
    assert_eq!(channels, ["telegram", "whatsapp", "discord"]);
    assert_eq!(v["channels"]["telegram"]["dmPolicy"], "allowlist");
    assert_eq!(v["channels"]["telegram"]["allowFrom"], json!(["111"]));
    assert_eq!(
        v["channels"]["whatsapp"]["dmPolicy"], "pairing",
        "the owner is on telegram"
    );
    assert_eq!(v["channels"]["discord"]["groupPolicy"], "allowlist");
    assert!(
        v["channels"]["discord"].get("groups").is_none(),
        "discord has no `groups` allowlist"
    );
    assert_eq!(
        v["channels"]["telegram"]["groups"]["-100200"]["requireMention"],
        true
    );
    let bindings = v["bindings"].as_array().expect("bindings");
    assert!(
        bindings.contains(
            &json!({"agentId": "main", "match": {"channel": "discord", "guildId": "42"}})
        ),
        "the user's binding is kept"
    );
    assert!(bindings.contains(&json!({"agentId": "group", "match": {"channel": "telegram", "peer": {"kind": "group", "id": "-100200"}}})));
    let text = stdout(&out);
    assert!(
        text.contains("`slack:C1`") && text.contains("skipped"),
        "{text}"
    );
    assert!(
        text.contains("`discord` organises group chats differently"),
        "{text}"
    );
    assert!(text.contains("No members listed"), "{text}");
}

#[test]
fn legacy_agents_list_is_migrated_like_openclaw_does() {
    let sb = Sandbox::new();
    sb.fixture("legacy-list.json5");
    let out = apply(
        &sb,
        &["--threat", "group", "--engine", "docker", "--no-detect"],
    );
    assert!(crate::support::homes::applied(&out), "{}", stderr(&out));
    let v = read_config(&sb);
    assert!(v["agents"].get("list").is_none());
    assert_eq!(
        v["agents"]["entries"]["main"],
        json!({"workspace": "~/.openclaw/workspace"})
    );
    assert!(v["agents"]["entries"]["group"].is_object());
    assert!(
        std::fs::read_to_string(sb.config())
            .expect("text")
            .contains("// an old config that still lists agents as an array")
    );
}

#[test]
fn malformed_file_is_refused_with_its_position_and_left_alone() {
    let sb = Sandbox::new();
    let original = fixture("malformed.json5");
    sb.put_config(&original);
    let out = apply(
        &sb,
        &["--threat", "private", "--engine", "docker", "--no-detect"],
    );
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("{}:4:16:", sb.config().display())),
        "{err}"
    );
    assert!(err.contains("nothing was written"), "{err}");
    assert_eq!(
        std::fs::read_to_string(sb.config()).expect("kept"),
        original
    );
    assert!(backups(&sb).is_empty());
    assert!(!sb.state().join(".env").exists());
}

#[test]
fn include_under_an_owned_key_is_refused() {
    let sb = Sandbox::new();
    let original = fixture("include.json5");
    sb.put_config(&original);
    let out = apply(
        &sb,
        &["--threat", "private", "--engine", "docker", "--no-detect"],
    );
    assert_eq!(out.status.code(), Some(4));
    let err = stderr(&out);
    assert!(
        err.contains(":3:13:") && err.contains("`agents` is loaded through $include"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(sb.config()).expect("kept"),
        original
    );
}

#[test]
fn unwritable_directory_is_refused_and_nothing_is_lost() {
    let sb = Sandbox::new();
    let original = fixture("channels.json");
    sb.put_config(&original);
    let dir = sb.state();
    // Root ignores permission bits, so run as nobody over files nobody owns.
    let root = unsafe { libc::getuid() } == 0;
    if root {
        for p in [
            sb.dir.path().to_path_buf(),
            sb.home(),
            dir.clone(),
            sb.config(),
        ] {
            std::os::unix::fs::chown(&p, Some(65534), Some(65534)).expect("chown");
        }
    }
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o500)).expect("chmod");
    let mut cmd = sb.cmd(&[
        "apply",
        "--yes",
        "--threat",
        "private",
        "--engine",
        "docker",
        "--no-detect",
    ]);
    if root {
        let bin = env!("CARGO_BIN_EXE_clawposture");
        // Copy the binary where nobody can run it (the target dir may be private to root).
        let copy = sb.path("clawposture");
        std::fs::copy(bin, &copy).expect("copy binary");
        std::fs::set_permissions(sb.dir.path(), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
        cmd = std::process::Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&copy)
            .args([
                "apply",
                "--yes",
                "--threat",
                "private",
                "--engine",
                "docker",
                "--no-detect",
            ])
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", sb.home())
            .env("XDG_CONFIG_HOME", sb.path("xdg"))
            // nobody may not enter the clone's directory (e.g. a clone under /root).
            .current_dir("/")
            .stdin(std::process::Stdio::null());
    }
    let out = cmd.output().expect("run");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).expect("chmod back");
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("Nothing was lost"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(sb.config()).expect("kept"),
        original
    );
}

#[test]
fn symlinked_config_is_written_through_and_the_link_kept() {
    let sb = Sandbox::new();
    let real = sb.path("dotfiles/openclaw.json");
    std::fs::create_dir_all(real.parent().expect("parent")).expect("mkdir");
    std::fs::write(&real, fixture("empty-object.json")).expect("write");
    std::fs::create_dir_all(sb.state()).expect("mkdir");
    std::os::unix::fs::symlink(&real, sb.config()).expect("symlink");
    let out = apply(
        &sb,
        &["--threat", "private", "--engine", "podman", "--no-detect"],
    );
    // Written; and the check after writing says what OpenClaw's audit says of a symlinked
    // config, so apply exits 1 (the posture is not fully proven).
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        status_of(&stdout(&out), "static.config_perms"),
        Some("FAIL"),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("it is a symlink"), "{}", stdout(&out));
    assert!(
        std::fs::symlink_metadata(sb.config())
            .expect("link")
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        json5(&std::fs::read_to_string(&real).expect("target"))["agents"]["defaults"]["sandbox"]["backend"],
        "podman"
    );
    assert!(stdout(&out).contains("symlink"), "{}", stdout(&out));
}

#[test]
fn without_a_terminal_apply_needs_yes_and_never_waits() {
    let sb = Sandbox::new();
    let out = sb.run(&[
        "apply",
        "--threat",
        "private",
        "--engine",
        "docker",
        "--no-detect",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--yes"), "{}", stderr(&out));
    assert!(!sb.config().exists());
    let out = sb.run(&["apply", "--yes", "--engine", "docker", "--no-detect"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--threat private|group|public"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn public_without_an_engine_is_refused_unless_the_risk_is_accepted() {
    let sb = Sandbox::new();
    let out = apply(&sb, &["--threat", "public", "--engine", "none"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("--accept-risk"));
    assert!(!sb.config().exists());
    let out = apply(
        &sb,
        &["--threat", "public", "--engine", "none", "--accept-risk"],
    );
    assert!(crate::support::homes::applied(&out), "{}", stderr(&out));
    let v = read_config(&sb);
    assert_eq!(v["agents"]["defaults"]["sandbox"]["mode"], "off");
    let deny = v["tools"]["deny"].as_array().expect("deny");
    for g in ["group:runtime", "group:fs", "group:web", "group:automation"] {
        assert!(deny.contains(&json!(g)), "{g}");
    }
    assert_eq!(v["tools"]["exec"]["mode"], "deny");
}

#[test]
fn private_and_group_without_an_engine_turn_the_sandbox_off_but_keep_the_tool_policy() {
    let sb = Sandbox::new();
    assert!(crate::support::homes::applied(&apply(
        &sb,
        &["--threat", "group", "--engine", "none"]
    )));
    let v = read_config(&sb);
    assert_eq!(v["agents"]["defaults"]["sandbox"]["mode"], "off");
    assert_eq!(v["agents"]["entries"]["group"]["sandbox"]["mode"], "off");
    assert_eq!(
        v["agents"]["entries"]["group"]["tools"]["exec"]["mode"],
        "deny"
    );
    assert_eq!(v["tools"]["exec"]["mode"], "ask");
    assert!(
        v["agents"]["defaults"]["sandbox"]["docker"]
            .get("user")
            .is_none()
    );
}

#[test]
fn public_on_an_owners_gateway_points_to_a_separate_profile() {
    let sb = Sandbox::new();
    assert!(crate::support::homes::applied(&apply(
        &sb,
        &[
            "--threat",
            "private",
            "--engine",
            "docker",
            "--no-detect",
            "--owner",
            "telegram:123"
        ]
    )));
    let private = std::fs::read(sb.config()).expect("private");
    let out = apply(
        &sb,
        &["--threat", "public", "--engine", "docker", "--no-detect"],
    );
    assert_eq!(out.status.code(), Some(4));
    assert!(
        stderr(&out).contains("--openclaw-profile public"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read(sb.config()).expect("untouched"), private);
    let out = apply(
        &sb,
        &[
            "--threat",
            "public",
            "--engine",
            "docker",
            "--no-detect",
            "--openclaw-profile",
            "public",
        ],
    );
    assert!(crate::support::homes::applied(&out), "{}", stderr(&out));
    let public = json5(
        &std::fs::read_to_string(sb.home().join(".openclaw-public/openclaw.json"))
            .expect("public written"),
    );
    assert_eq!(public["gateway"]["port"], 19789);
    assert!(sb.home().join(".openclaw-public/.env").exists());
    assert_eq!(std::fs::read(sb.config()).expect("untouched"), private);
}

#[test]
#[cfg_attr(
    not(feature = "fault-injection"),
    ignore = "needs the write path's test hooks: cargo test --features fault-injection"
)]
fn a_kill_before_or_after_the_rename_leaves_the_old_or_the_new_file() {
    let sb = Sandbox::new();
    let original = fixture("commented.json5");
    sb.put_config(&original);
    let args = [
        "apply",
        "--yes",
        "--threat",
        "private",
        "--engine",
        "docker",
        "--no-detect",
    ];
    let out = sb
        .cmd(&args)
        .env("CLAWPOSTURE_FAULT", "config-after-temp")
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert_eq!(
        std::fs::read_to_string(sb.config()).expect("old file"),
        original
    );
    let out = sb
        .cmd(&args)
        .env("CLAWPOSTURE_FAULT", "config-after-rename")
        .output()
        .expect("run");
    assert!(!out.status.success());
    let v = read_config(&sb);
    assert_eq!(
        v["agents"]["defaults"]["sandbox"]["mode"], "non-main",
        "the new file is complete"
    );
    let out = sb.run(&args);
    assert!(crate::support::homes::applied(&out));
    let leftovers: Vec<String> = std::fs::read_dir(sb.state())
        .expect("dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("clawposture-tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_second_run_cannot_interleave() {
    let sb = Sandbox::new();
    sb.fixture("empty-object.json");
    let lock = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(sb.state().join(".openclaw.json.clawposture.lock"))
        .expect("lock file");
    lock.try_lock().expect("take the lock");
    let out = apply(
        &sb,
        &["--threat", "private", "--engine", "docker", "--no-detect"],
    );
    assert_eq!(out.status.code(), Some(4));
    assert!(
        stderr(&out).contains("another clawposture run"),
        "{}",
        stderr(&out)
    );
    // Unlock, not just close: a child forked meanwhile by another test's thread holds a copy of
    // this descriptor until it execs, and the lock lives as long as any copy does.
    lock.unlock().expect("unlock");
    drop(lock);
    assert!(crate::support::homes::applied(&apply(
        &sb,
        &["--threat", "private", "--engine", "docker", "--no-detect"]
    )));
}

#[test]
fn an_existing_env_file_keeps_its_lines_and_its_token() {
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.state()).expect("mkdir");
    std::fs::write(sb.state().join(".env"), "ANTHROPIC_API_KEY=sk-test\n").expect("env");
    assert!(crate::support::homes::applied(&apply(
        &sb,
        &["--threat", "private", "--engine", "docker", "--no-detect"]
    )));
    let env = std::fs::read_to_string(sb.state().join(".env")).expect("env");
    assert!(env.starts_with("ANTHROPIC_API_KEY=sk-test\n"));
    let token = env_token(&sb);
    assert!(crate::support::homes::applied(&apply(
        &sb,
        &["--threat", "group", "--engine", "docker", "--no-detect"]
    )));
    assert_eq!(env_token(&sb), token, "an existing token is never replaced");
}

#[test]
fn plan_json_explains_every_change_and_shows_no_secret() {
    let sb = Sandbox::new();
    sb.fixture("commented.json5");
    let out = sb.run(&[
        "plan",
        "--threat",
        "group",
        "--engine",
        "docker-rootless",
        "--no-detect",
        "--json",
    ]);
    assert!(crate::support::homes::applied(&out), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        !text.contains("correct-horse-battery-staple") && !text.contains("AAFakeTokenForTestsOnly")
    );
    let v: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(v["env_file"], "move_literal_token");
    for c in v["changes"].as_array().expect("changes") {
        assert!(
            !c["why"].as_str().unwrap_or("").is_empty()
                && !c["doc"].as_str().unwrap_or("").is_empty(),
            "{c}"
        );
    }
    assert!(v["diff"].as_str().expect("diff").contains("«secret»"));
    assert_eq!(
        std::fs::read_to_string(sb.config()).expect("untouched"),
        fixture("commented.json5")
    );
}

#[test]
fn presets_are_listed_with_their_values_and_a_broken_user_preset_is_named() {
    let sb = Sandbox::new();
    let out = sb.run(&["presets", "--json"]);
    assert!(crate::support::homes::applied(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).expect("json");
    let names: Vec<&str> = v
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(names, ["private", "group", "public"]);
    let dir = sb.path("xdg/clawposture/presets");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join("mine.toml"), "name = \"mine\"\ntitle = \"t\"\norder = 9\nsummary = \"s\"\nengine = \"recommended\"\n[[set]]\nkey = \"a..b\"\nvalue = 1\nwhy = \"w\"\ndoc = \"d\"\n").expect("write");
    // The broken file is named and skipped; it does not break the command (issue #15).
    let out = sb.run(&["presets"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("mine.toml:7: key `a..b`"),
        "{}",
        stderr(&out)
    );
    assert!(!stdout(&out).contains("mine"), "{}", stdout(&out));
}

#[test]
fn the_current_file_is_recognised_with_its_drift() {
    let sb = Sandbox::new();
    sb.fixture("channels.json");
    assert!(crate::support::homes::applied(&apply(
        &sb,
        &["--threat", "group", "--engine", "docker", "--no-detect"]
    )));
    let out = sb.run(&[
        "plan",
        "--threat",
        "group",
        "--engine",
        "docker",
        "--no-detect",
        "--json",
    ]);
    let v: Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(
        v["recognized"],
        json!({"preset": "group", "exact": true, "drift": []})
    );
    assert_eq!(v["noop"], true);
    // Someone loosens two owned keys by hand.
    let text = std::fs::read_to_string(sb.config()).expect("config");
    let loosened = text
        .replacen("\"bind\": \"loopback\"", "\"bind\": \"lan\"", 1)
        .replacen("\"network\": \"none\"", "\"network\": \"bridge\"", 1);
    assert_ne!(loosened, text);
    std::fs::write(sb.config(), loosened).expect("edit");
    let out = sb.run(&[
        "plan",
        "--threat",
        "private",
        "--engine",
        "docker",
        "--no-detect",
        "--json",
    ]);
    let v: Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(v["recognized"]["preset"], "group");
    assert_eq!(
        v["recognized"]["drift"],
        json!(["gateway.bind", "agents.defaults.sandbox.docker.network"])
    );
    let text = stdout(&sb.run(&[
        "plan",
        "--threat",
        "group",
        "--engine",
        "docker",
        "--no-detect",
    ]));
    assert!(
        text.contains("The file today: group preset")
            && text.contains("drifted: gateway.bind, agents.defaults.sandbox.docker.network"),
        "{text}"
    );
}

#[test]
fn plan_json_has_the_documented_shape_and_reports_apply_s_step() {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/plan-json.md"),
    )
    .expect("docs/plan-json.md");
    let sb = Sandbox::new();
    sb.fixture("commented.json5");
    let out = sb.run(&["plan", "--json", "--threat", "private", "--engine", "none"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).expect("plan --json");
    assert_eq!(v["schema"], "clawposture.plan/1");
    assert_eq!(v["dry_run"], true);
    assert_eq!(v["step"]["kind"], "write");
    for key in v.as_object().expect("object").keys() {
        assert!(
            doc.contains(&format!("`{key}`")),
            "`{key}` is not documented"
        );
    }
    // What apply would refuse, plan refuses too, with apply's exit code and the step in JSON.
    for (args, code, kind) in [
        (
            &["--threat", "public", "--engine", "none"][..],
            3,
            "acknowledge",
        ),
        (&["--threat", "nope", "--engine", "none"][..], 2, "refused"),
    ] {
        let mut plan = vec!["plan", "--json"];
        plan.extend_from_slice(args);
        let p = sb.run(&plan);
        let mut dry = vec!["apply", "--dry-run", "--json"];
        dry.extend_from_slice(args);
        let d = sb.run(&dry);
        for o in [&p, &d] {
            assert_eq!(o.status.code(), Some(code), "{args:?}: {}", stderr(o));
            let v: Value = serde_json::from_str(&stdout(o)).expect("json");
            assert_eq!(v["step"]["kind"], kind, "{args:?}");
            assert_eq!(v["step"]["exit_code"], code, "{args:?}");
        }
    }
}

#[test]
fn applying_public_twice_with_an_owner_changes_nothing_the_second_time() {
    // Once refused as "this file pins an owner" although it holds exactly the public preset.
    let sb = Sandbox::new();
    sb.fixture("commented.json5");
    let args = [
        "--threat",
        "public",
        "--owner",
        "telegram:1",
        "--engine",
        "none",
        "--accept-risk",
    ];
    let first = apply(&sb, &args);
    assert!(crate::support::homes::applied(&first), "{}", stderr(&first));
    let bytes = std::fs::read(sb.config()).expect("written");
    let second = apply(&sb, &args);
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    assert!(
        stdout(&second).contains("Nothing to change"),
        "{}",
        stdout(&second)
    );
    assert_eq!(std::fs::read(sb.config()).expect("kept"), bytes);
}

#[test]
fn a_profile_s_next_steps_and_checklist_carry_its_profile() {
    // After --openclaw-profile NAME every command printed for the user aims at that Gateway.
    let sb = Sandbox::new();
    let out = sb.run(&[
        "apply",
        "--openclaw-profile",
        "public",
        "--yes",
        "--threat",
        "public",
        "--engine",
        "none",
        "--accept-risk",
    ]);
    assert!(crate::support::homes::applied(&out), "{}", stderr(&out));
    let printed = stdout(&out);
    assert!(
        printed.contains("openclaw --profile public config validate"),
        "{printed}"
    );
    assert!(
        printed.contains("clawposture --openclaw-profile public verify"),
        "{printed}"
    );
    let list = std::fs::read_to_string(sb.home().join(".openclaw-public/clawposture-checklist.md"))
        .expect("the profile's checklist");
    for line in list
        .lines()
        .filter(|l| l.contains(" openclaw ") || l.contains("openclaw gateway"))
    {
        assert!(
            !line.contains("openclaw gateway restart") || line.contains("--profile public"),
            "a restart without the profile: {line}"
        );
    }
    assert!(list.contains("openclaw --profile public"), "{list}");
}

#[test]
fn a_re_run_without_the_owner_flag_keeps_the_pinned_owner() {
    // Once: `plan --threat private` proposed dmPolicy "allowlist" -> "pairing" and said "Owner not
    // pinned" right after `apply --owner`; accepting it loosened the posture.
    let sb = Sandbox::new();
    sb.fixture("channels.json");
    let first = apply(
        &sb,
        &[
            "--threat",
            "private",
            "--owner",
            "telegram:123",
            "--engine",
            "none",
        ],
    );
    assert!(crate::support::homes::applied(&first), "{}", stderr(&first));
    for cmd in [&["plan"][..], &["apply", "--yes"][..]] {
        let mut args = cmd.to_vec();
        args.extend(["--threat", "private", "--engine", "none"]);
        let out = sb.run(&args);
        assert_eq!(out.status.code(), Some(0), "{cmd:?}: {}", stderr(&out));
        let printed = stdout(&out);
        assert!(printed.contains("Nothing to change"), "{cmd:?}: {printed}");
        assert!(
            !printed.contains("Owner not pinned") && !printed.contains("owner is not pinned"),
            "{printed}"
        );
    }
}

#[test]
fn a_group_agent_of_the_user_keeps_its_model_and_identity() {
    // Once replaced wholesale: its model and identity survived only in the backup.
    let sb = Sandbox::new();
    sb.put_config(
        r#"{
  agents: {
    ownership: "explicit",
    entries: {
      main: {},
      group: {
        model: { primary: "anthropic/claude-haiku-4-5" }, // cheap for the group
        identity: { name: "Crabby" },
        tools: { allow: ["exec"] },
      },
    },
  },
}
"#,
    );
    let out = apply(
        &sb,
        &[
            "--threat",
            "group",
            "--group",
            "telegram:-100200",
            "--engine",
            "none",
        ],
    );
    assert!(crate::support::homes::applied(&out), "{}", stderr(&out));
    let text = std::fs::read_to_string(sb.config()).expect("written");
    let v = json5(&text);
    let group = &v["agents"]["entries"]["group"];
    assert_eq!(
        group["model"]["primary"], "anthropic/claude-haiku-4-5",
        "{text}"
    );
    assert_eq!(group["identity"]["name"], "Crabby", "{text}");
    assert!(text.contains("// cheap for the group"), "{text}");
    // What decides what members reach is the preset's, exactly: the user's `exec` is gone.
    assert_eq!(group["tools"]["profile"], "messaging", "{text}");
    assert!(group["tools"].get("allow").is_none(), "{text}");
}

#[test]
fn an_owner_on_a_channel_openclaw_does_not_know_is_refused_with_the_nearest() {
    let sb = Sandbox::new();
    sb.fixture("commented.json5");
    for cmd in [&["plan"][..], &["apply", "--yes"][..]] {
        let mut args = cmd.to_vec();
        args.extend([
            "--threat",
            "private",
            "--owner",
            "telegrm:123",
            "--engine",
            "none",
        ]);
        let out = sb.run(&args);
        assert_eq!(out.status.code(), Some(2), "{cmd:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("Did you mean `telegram`?"),
            "{}",
            stderr(&out)
        );
    }
    // A wildcard owner would make every sender the owner.
    let out = sb.run(&[
        "plan",
        "--threat",
        "private",
        "--owner",
        "telegram:*",
        "--engine",
        "none",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("wildcard"), "{}", stderr(&out));
}

#[test]
fn group_without_group_chats_is_checked_as_group_after_writing() {
    // The check after writing once recognised this file as private, with 5 drifted keys.
    let sb = Sandbox::new();
    let out = apply(&sb, &["--threat", "group", "--engine", "none"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let printed = stdout(&out);
    assert_eq!(
        status_of(&printed, "static.preset"),
        Some("PASS"),
        "{printed}"
    );
    assert!(printed.contains("group preset"), "{printed}");
    assert_eq!(
        status_of(&printed, "static.drift"),
        Some("PASS"),
        "{printed}"
    );
}

#[test]
fn plan_opens_with_what_the_file_leaves_open_today() {
    let sb = Sandbox::new();
    sb.fixture("commented.json5");
    let out = sb.run(&["plan", "--threat", "private", "--engine", "none"]);
    let printed = stdout(&out);
    let open = printed
        .lines()
        .find(|l| l.starts_with("Open today: "))
        .unwrap_or_else(|| panic!("no `Open today` line:\n{printed}"));
    assert!(open.contains("the config: gateway.bind lan"), "{open}");
    assert!(open.contains("agent `main`: sandbox.mode off"), "{open}");
    assert!(open.contains("tools.exec.mode full"), "{open}");
    // Once applied, nothing clawposture looks at is open (private keeps the sandbox off only
    // without an engine, which it says itself).
    let sb = Sandbox::new();
    sb.fixture("commented.json5");
    let out = apply(
        &sb,
        &[
            "--threat",
            "private",
            "--engine",
            "docker-rootless",
            "--no-detect",
        ],
    );
    assert!(crate::support::homes::applied(&out), "{}", stderr(&out));
    let again = stdout(&sb.run(&[
        "plan",
        "--threat",
        "private",
        "--engine",
        "docker-rootless",
        "--no-detect",
    ]));
    assert!(!again.contains("Open today: "), "{again}");
}
