//! What the Gateway will use, not what the shell sees (#14): an engine the user named must
//! answer, `--state-dir` means `OPENCLAW_STATE_DIR`, written files keep their owner, and the
//! Gateway's DOCKER_HOST comes from `$STATE_DIR/.env`.

use std::os::unix::net::UnixListener;

use crate::support::homes::{Sandbox, stderr, stdout};
use crate::support::pty::{Home, Tmux, have_tmux, quote};

const PRESETS: [&str; 3] = ["private", "group", "public"];

/// A unix socket that accepts connections (the kernel's backlog) but never answers: a hung
/// daemon. Kept open as long as the returned listener lives.
fn hung_socket(sb: &Sandbox) -> (UnixListener, String) {
    let path = sb.path("hung.sock");
    let l = UnixListener::bind(&path).expect("bind the hung socket");
    (l, format!("unix://{}", path.display()))
}

/// The real engines' env (rootless Docker's endpoint), when `.ci/support/engines.sh` runs.
fn rootless_docker() -> Option<String> {
    crate::support::engines::engines_env().map(|e| e["CLAWPOSTURE_DOCKER_ROOTLESS"].clone())
}

#[test]
fn a_named_engine_that_hangs_is_exit_3_in_plan_and_apply_for_every_preset() {
    let sb = Sandbox::new();
    let (_listener, hung) = hung_socket(&sb);
    // A real daemon that answers, named by DOCKER_HOST: before #14 detection quietly chose it
    // (or none) instead of the engine named with --docker-host.
    let ready = rootless_docker();
    for preset in PRESETS {
        for cmd in [
            &["plan"][..],
            &["apply", "--yes"][..],
            &["plan", "--json"][..],
        ] {
            let mut args = cmd.to_vec();
            args.extend(["--threat", preset, "--docker-host", &hung]);
            let mut c = sb.cmd(&args);
            if let Some(r) = &ready {
                c.env("DOCKER_HOST", r);
            }
            let out = c.output().expect("run");
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(3), "{preset} {cmd:?}: {err}");
            assert!(
                err.contains("--docker-host") && err.contains("timeout") && err.contains("Fix:"),
                "{preset} {cmd:?}: the state and the fix: {err}"
            );
            assert!(err.contains(&hung), "{err}");
        }
        assert!(!sb.config().exists(), "{preset}: nothing written");
    }
}

#[test]
fn docker_host_at_a_refused_socket_is_exit_3_too() {
    let sb = Sandbox::new();
    let path = sb.path("stale.sock");
    // A socket file nobody listens on: what a stopped daemon leaves behind.
    drop(UnixListener::bind(&path).expect("bind"));
    let out = sb
        .cmd(&["apply", "--yes", "--threat", "group"])
        .env("DOCKER_HOST", format!("unix://{}", path.display()))
        .output()
        .expect("run");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("DOCKER_HOST") && err.contains("not running"),
        "{err}"
    );
    assert!(!sb.config().exists());
}

#[test]
fn an_engine_nobody_named_is_skipped_on_the_first_lines_of_the_plan() {
    let sb = Sandbox::new();
    // A stale rootless Docker socket where detection looks for one.
    let runtime = sb.path("run");
    std::fs::create_dir_all(&runtime).expect("runtime dir");
    drop(UnixListener::bind(runtime.join("docker.sock")).expect("bind"));
    let out = sb
        .cmd(&["plan", "--threat", "private", "--accept-risk"])
        .env("XDG_RUNTIME_DIR", &runtime)
        .output()
        .expect("run");
    let text = stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    let head: Vec<&str> = text.lines().take(3).collect();
    assert!(
        head.iter().any(|l| l.starts_with("Skipped ")
            && l.contains("docker.sock")
            && l.contains("not running")),
        "the skipped engine is said on the first lines:\n{text}"
    );
}

/// `--plain` and the wizard refuse the same way, with the same exit code.
#[test]
fn plain_and_the_wizard_refuse_a_hung_named_engine_with_exit_3() {
    if !have_tmux() {
        return;
    }
    let sb = Sandbox::new();
    let (_listener, hung) = hung_socket(&sb);
    let h = Home::new();
    let t = Tmux::start(
        100,
        40,
        &h.line(
            &format!("--plain --threat private --docker-host {}", quote(&hung)),
            "",
        ),
    );
    t.wait_for("Owner (CHANNEL:ID");
    t.keys(&["Enter"]);
    assert_eq!(t.wait_exit(), 3, "{}", t.history());
    assert!(
        t.history().contains("does not answer"),
        "the refusal is shown:\n{}",
        t.history()
    );

    let t = Tmux::start(
        100,
        40,
        &h.line(
            &format!("--threat private --docker-host {}", quote(&hung)),
            "",
        ),
    );
    t.wait_for("does not answer");
    t.keys(&["q"]);
    let (seen, _) = t.wait_for_any(&["EXIT=", "Quit"]);
    if seen == "Quit" {
        t.type_text("y");
    }
    assert_eq!(t.wait_exit(), 3, "{}", t.history());
}

#[test]
fn state_dir_alone_moves_the_config_too() {
    let sb = Sandbox::new();
    let dir = sb.path("gateway-state");
    let out = sb.run(&[
        "apply",
        "--yes",
        "--threat",
        "private",
        "--engine",
        "none",
        "--accept-risk",
        "--state-dir",
        dir.to_str().expect("utf-8"),
    ]);
    assert!(
        crate::support::homes::applied(&out),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("config from --state-dir"),
        "{}",
        stdout(&out)
    );
    assert!(
        dir.join("openclaw.json").is_file(),
        "the config is DIR/openclaw.json"
    );
    assert!(dir.join(".env").is_file(), "the token is beside it");
    assert!(
        !sb.home().join(".openclaw/openclaw.json").exists(),
        "~/.openclaw is left alone"
    );
    // The same files as OPENCLAW_STATE_DIR=DIR: a second run that way has nothing to change.
    let again = sb
        .cmd(&[
            "plan",
            "--threat",
            "private",
            "--engine",
            "none",
            "--accept-risk",
        ])
        .env("OPENCLAW_STATE_DIR", &dir)
        .output()
        .expect("run");
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stdout(&again).contains("Nothing to change"),
        "{}",
        stdout(&again)
    );
}

/// The test user that owns the rootless daemons (else nobody): a user other than root.
fn other_user() -> (u32, u32) {
    let id = |flag: &str| {
        std::process::Command::new("id")
            .args([flag, "clawtest"])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
    };
    match (id("-u"), id("-g")) {
        (Some(u), Some(g)) => (u, g),
        _ => (65534, 65534),
    }
}

fn chown(path: &std::path::Path, (uid, gid): (u32, u32)) {
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).expect("chown");
}

fn owner(path: &std::path::Path) -> (u32, u32) {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::symlink_metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (m.uid(), m.gid())
}

/// Every file in `dir` (the state dir) with its owner.
fn owners(dir: &std::path::Path) -> Vec<(String, (u32, u32))> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .expect("state dir")
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().ends_with(".lock"))
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                owner(&e.path()),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn apply_as_root_on_another_users_state_dir_leaves_every_file_that_users() {
    // SAFETY: geteuid cannot fail and touches no memory.
    if unsafe { libc::geteuid() } != 0 {
        crate::support::engines::skipped("giving files to another user needs root");
        return;
    }
    let user = other_user();
    let sb = Sandbox::new();
    // An existing config: it is replaced, backed up, and the token moves to a new .env.
    let state = sb.path("state");
    std::fs::create_dir(&state).expect("state dir");
    std::fs::write(
        state.join("openclaw.json"),
        crate::support::homes::fixture("commented.json5"),
    )
    .expect("config");
    chown(&state, user);
    chown(&state.join("openclaw.json"), user);
    let out = sb.run(&[
        "apply",
        "--yes",
        "--threat",
        "private",
        "--engine",
        "none",
        "--accept-risk",
        "--state-dir",
        state.to_str().expect("utf-8"),
    ]);
    assert!(
        crate::support::homes::applied(&out),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("whose files these are (run as root)"),
        "said in the output: {}",
        stdout(&out)
    );
    let files = owners(&state);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    for want in ["openclaw.json", ".env"] {
        assert!(names.contains(&want), "{want} written: {names:?}");
    }
    assert!(
        names.iter().any(|n| n.ends_with(".bak")),
        "a backup: {names:?}"
    );
    assert!(
        names.len() >= 4,
        "config, .env, backup, checklist: {names:?}"
    );
    for (name, o) in &files {
        assert_eq!(
            *o, user,
            "{name} belongs to the state dir's user: {files:?}"
        );
    }

    // A new config in a state dir of that user, in a new subdirectory: the same.
    let sb = Sandbox::new();
    let parent = sb.path("home-of-user");
    std::fs::create_dir(&parent).expect("dir");
    chown(&parent, user);
    let state = parent.join(".openclaw");
    let out = sb.run(&[
        "apply",
        "--yes",
        "--threat",
        "group",
        "--engine",
        "none",
        "--accept-risk",
        "--state-dir",
        state.to_str().expect("utf-8"),
    ]);
    assert!(crate::support::homes::applied(&out), "{}", stderr(&out));
    assert_eq!(owner(&state), user, "the state dir clawposture created");
    let files = owners(&state);
    assert!(files.len() >= 3, "{files:?}");
    for (name, o) in &files {
        assert_eq!(*o, user, "{name}: {files:?}");
    }
}

#[test]
fn shell_docker_host_at_rootless_docker_is_written_into_dotenv_for_the_gateway() {
    let Some(host) = rootless_docker() else {
        return;
    };
    let sb = Sandbox::new();
    let state = sb.path("state");
    crate::support::engines::give_to_engine_user(&host, &[], &[&state]);
    let state_arg = state.to_str().expect("utf-8");
    let run = |args: &[&str]| {
        sb.cmd(args)
            .env("DOCKER_HOST", &host)
            .output()
            .expect("run")
    };
    // The shell reaches rootless Docker; the Gateway service, without .env, would not.
    let plan = run(&["plan", "--threat", "private", "--state-dir", state_arg]);
    let text = stdout(&plan);
    assert!(plan.status.success(), "{}", stderr(&plan));
    assert!(text.contains("container engine: docker-rootless"), "{text}");
    assert!(
        text.contains("The Gateway would reach a different daemon")
            && text.contains(&format!("DOCKER_HOST={host}")),
        "{text}"
    );
    let json = run(&[
        "plan",
        "--json",
        "--threat",
        "private",
        "--state-dir",
        state_arg,
    ]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("plan --json");
    assert_eq!(v["env_docker_host"], host.as_str(), "{v:#}");
    assert_eq!(
        v["gateway_reaches"]["because"],
        "the docker CLI's default socket"
    );

    let out = run(&[
        "apply",
        "--yes",
        "--threat",
        "private",
        "--state-dir",
        state_arg,
    ]);
    assert!(
        crate::support::homes::applied_but(&out, &["engine.image"]),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let env = std::fs::read_to_string(state.join(".env")).expect(".env");
    assert!(
        env.lines().any(|l| l == format!("DOCKER_HOST={host}")),
        "DOCKER_HOST in .env:\n{}",
        env.replace(|c: char| c.is_ascii_hexdigit(), "x")
    );
    assert!(
        env.contains("OPENCLAW_GATEWAY_TOKEN="),
        "the token is kept beside it"
    );

    // Now the Gateway reaches it: nothing left to write, and verify (without the shell's
    // DOCKER_HOST) checks the endpoint the Gateway reaches, from .env.
    let again = run(&["plan", "--threat", "private", "--state-dir", state_arg]);
    assert!(
        stdout(&again).contains("Nothing to change")
            && !stdout(&again).contains("would reach a different daemon"),
        "{}",
        stdout(&again)
    );
    let v = sb
        .cmd(&[
            "verify",
            "--json",
            "--no-openclaw",
            "--state-dir",
            state_arg,
        ])
        .output()
        .expect("verify");
    let report: serde_json::Value = serde_json::from_str(&stdout(&v)).expect("verify --json");
    let item = report["items"]
        .as_array()
        .and_then(|a| a.iter().find(|i| i["id"] == "engine.reachable"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(item["status"], "pass", "{report:#}");
    assert!(
        item.to_string().contains("$STATE_DIR/.env"),
        "the endpoint came from .env: {item}"
    );
    assert_eq!(report["endpoint"], host.as_str());
}

#[test]
fn a_gateway_in_a_container_is_detected_and_explained_in_the_report_and_the_checklist() {
    use clawposture::edge::detect;
    let dir = crate::support::detect::tempdir();
    let mut o = crate::support::detect::isolated(dir.path());
    // A bare system tree: no sign (this machine itself has /.dockerenv, the tree does not).
    let bare = detect::detect(&o);
    assert_eq!(bare.in_container, None);
    assert!(!detect::render_human(&bare).contains("In a container"));

    let root = o.system_root.clone();
    std::fs::write(root.join(".dockerenv"), "").expect("dockerenv");
    std::fs::create_dir_all(root.join("proc/self")).expect("proc");
    std::fs::write(
        root.join("proc/self/mountinfo"),
        "22 1 0:5 /docker.sock /var/run/docker.sock rw,nosuid - tmpfs tmpfs rw\n",
    )
    .expect("mountinfo");
    o.probe_timeout = std::time::Duration::from_millis(300);
    let r = detect::detect(&o);
    let c = r.in_container.clone().expect("detected");
    assert_eq!(
        c.markers,
        [
            "/.dockerenv",
            "an engine socket is mounted in at /var/run/docker.sock"
        ]
    );
    let human = detect::render_human(&r);
    assert!(
        human.contains("In a container (/.dockerenv;") && human.contains("docker inspect"),
        "{human}"
    );
    let json = serde_json::to_value(&r).expect("json");
    assert_eq!(json["in_container"]["markers"][0], "/.dockerenv");
    assert!(
        json["in_container"]["needs"]
            .as_str()
            .is_some_and(|n| n.contains("docker inspect"))
    );

    // The checklist written from that report carries a Note item saying what OpenClaw needs.
    let resolved = clawposture::model::paths::resolve(&clawposture::model::paths::PathInputs {
        config_flag: Some(dir.path().join("openclaw.json")),
        state_dir_flag: Some(dir.path().join("state")),
        ..Default::default()
    });
    let ctx = clawposture::domain::checklist::Context::new(
        "private",
        &serde_json::json!({}),
        &resolved,
        None,
    )
    .with_detection(&r);
    let md = clawposture::domain::checklist::markdown(&ctx);
    assert!(
        md.contains("**The Gateway runs in a container** *(note)* `gateway.in_container`")
            && md.contains("docker inspect"),
        "{md}"
    );
}

#[test]
fn say_it_right_flag_source_prerequisites_and_no_engine() {
    // Without an engine nothing is sandboxed: no note about recreating sandbox containers.
    let sb = Sandbox::new();
    let out = sb.run(&[
        "plan",
        "--threat",
        "private",
        "--engine",
        "none",
        "--accept-risk",
        "--state-dir",
        sb.path("s").to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        !stdout(&out).contains("Running sandbox containers keep their old settings"),
        "{}",
        stdout(&out)
    );

    let Some(host) = rootless_docker() else {
        return;
    };
    // An endpoint given by flag is not the docker CLI's default; a working rootless engine
    // does not come with a list of missing rootless prerequisites.
    let out = sb.run(&["detect", "--docker-host", &host]);
    let text = stdout(&out);
    let line = text
        .lines()
        .find(|l| l.contains(&host) && l.contains("(--docker-host)"))
        .unwrap_or_else(|| panic!("the flag's endpoint is listed:\n{text}"));
    assert!(!line.contains("[docker CLI default]"), "{line}");
    assert!(
        line.starts_with("->"),
        "rootless Docker is selected: {text}"
    );
    let prereq = text
        .lines()
        .find(|l| l.starts_with("Rootless prerequisites for"))
        .expect("prerequisites line");
    assert!(
        prereq.contains("all met") || prereq.contains("not needed"),
        "{prereq}"
    );
    assert!(!text.contains("  x "), "no missing-item list: {text}");

    // The check after apply says where the endpoint came from: DOCKER_HOST, not --docker-host.
    let state = sb.path("state");
    crate::support::engines::give_to_engine_user(&host, &[], &[&state]);
    let out = sb
        .cmd(&[
            "apply",
            "--yes",
            "--threat",
            "private",
            "--state-dir",
            state.to_str().expect("utf-8"),
        ])
        .env("DOCKER_HOST", &host)
        .output()
        .expect("run");
    let text = stdout(&out);
    let reach = text
        .lines()
        .find(|l| l.contains("engine.reachable"))
        .unwrap_or_else(|| panic!("engine.reachable:\n{text}{}", stderr(&out)));
    assert!(
        reach.contains("DOCKER_HOST") && !reach.contains("--docker-host"),
        "{reach}"
    );
}

/// `/info` `ID` straight from the daemon, as the test's own witness.
fn daemon_id(endpoint: &str) -> String {
    use std::io::{Read, Write};
    let path = endpoint.strip_prefix("unix://").expect("unix endpoint");
    let mut s = std::os::unix::net::UnixStream::connect(path).expect("connect");
    s.write_all(b"GET /info HTTP/1.0\r\nHost: docker\r\n\r\n")
        .expect("write");
    let mut resp = String::new();
    s.read_to_string(&mut resp).expect("read");
    let body = resp.split_once("\r\n\r\n").expect("http body").1;
    let v: serde_json::Value = serde_json::from_str(body).expect("json");
    v["ID"].as_str().expect("ID").to_string()
}

/// Real daemons: the shell's engine and the Gateway's are compared by daemon ID, not by socket
/// path: another path to the same daemon is the same daemon (nothing to write), another daemon
/// is reported beside it with both IDs.
#[test]
fn the_gateway_and_the_shell_are_compared_by_daemon_id() {
    let Some(env) = crate::support::engines::engines_env() else {
        return;
    };
    let rootless = env["CLAWPOSTURE_DOCKER_ROOTLESS"].clone();
    let rootful = env["CLAWPOSTURE_DOCKER_ROOTFUL"].clone();
    let (rootless_id, rootful_id) = (daemon_id(&rootless), daemon_id(&rootful));
    assert_ne!(rootless_id, rootful_id, "two daemons");
    let sb = Sandbox::new();
    let state = sb.path("state");
    std::fs::create_dir_all(&state).expect("state dir");
    let plan = |gateway: &str| {
        std::fs::write(state.join(".env"), format!("DOCKER_HOST={gateway}\n")).expect(".env");
        let out = sb
            .cmd(&[
                "plan",
                "--json",
                "--threat",
                "private",
                "--state-dir",
                state.to_str().expect("utf-8"),
            ])
            .env("DOCKER_HOST", &rootless)
            .output()
            .expect("run");
        assert!(out.status.success(), "{}", stderr(&out));
        let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("plan --json");
        v
    };
    // The Gateway's .env names the rootful daemon: another daemon, both IDs side by side.
    let v = plan(&rootful);
    assert_eq!(v["engine"], "docker-rootless", "{v:#}");
    assert_eq!(
        v["gateway_reaches"]["daemon_id"],
        rootful_id.as_str(),
        "{v:#}"
    );
    assert_eq!(
        v["gateway_chosen"]["daemon_id"],
        rootless_id.as_str(),
        "{v:#}"
    );
    assert_eq!(v["env_docker_host"], rootless.as_str(), "{v:#}");
    let text = stdout(
        &sb.cmd(&[
            "plan",
            "--threat",
            "private",
            "--state-dir",
            state.to_str().expect("utf-8"),
        ])
        .env("DOCKER_HOST", &rootless)
        .output()
        .expect("run"),
    );
    let line = text
        .lines()
        .find(|l| l.contains("would reach a different daemon"))
        .unwrap_or_else(|| panic!("said:\n{text}"));
    assert!(
        line.contains(&rootful_id) && line.contains(&rootless_id),
        "{line}"
    );

    // Another path to the rootless daemon (a symlinked socket): the same daemon by ID although
    // the paths differ, so nothing is written.
    let link = sb.path("same-daemon.sock");
    std::os::unix::fs::symlink(rootless.strip_prefix("unix://").expect("unix"), &link)
        .expect("symlink");
    let v = plan(&format!("unix://{}", link.display()));
    assert_eq!(
        v["gateway_reaches"]["daemon_id"],
        rootless_id.as_str(),
        "{v:#}"
    );
    assert!(v["env_docker_host"].is_null(), "{v:#}");
}
