//! Fixtures (#14): the Gateway's environment read from an installed service definition laid
//! out as a real directory tree: a systemd user unit (its `Environment=` lines, drop-ins and
//! `EnvironmentFile=`s), a macOS LaunchAgent plist (its `EnvironmentVariables`, its PATH), and
//! `$STATE_DIR/.env` under both. The unit and plist shapes are OpenClaw 2026.9's
//! (`buildSystemdUnit`, `ai.openclaw.gateway.plist`); nothing here runs systemd or launchd.

use std::path::Path;

use clawposture::edge::detect::detect;

use crate::support::detect::{isolated, tempdir};
use crate::support::homes::{Sandbox, stderr, stdout};

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

const UNIT_HEAD: &str = "[Unit]\nDescription=OpenClaw Gateway\n\n[Service]\nExecStart=/usr/bin/node /opt/openclaw/dist/index.js gateway --port 18789\n";

#[test]
fn systemd_unit_environment_file_overrides_its_lines_and_dotenv_only_fills() {
    let dir = tempdir();
    let mut o = isolated(dir.path());
    let home = o.home.clone().expect("home");
    let state = dir.path().join("state");
    o.state_dir = Some(state.clone());
    let envfile = state.join("gateway.systemd.env");
    write(
        &home.join(".config/systemd/user/openclaw-gateway.service"),
        &format!(
            "{UNIT_HEAD}EnvironmentFile=-{}\nEnvironment=HOME=%h\nEnvironment=\"DOCKER_HOST=unix://%h/unit.sock\" DOCKER_CONTEXT=from-unit\n",
            envfile.display()
        ),
    );
    write(&envfile, "DOCKER_HOST=unix:///srv/from-envfile.sock\n");
    write(
        &state.join(".env"),
        "DOCKER_HOST=unix:///srv/from-dotenv.sock\nDOCKER_CONFIG=/srv/docker-config\n",
    );
    let g = detect(&o).gateway.expect("the gateway's view");
    assert_eq!(
        g.definition.as_deref(),
        Some(
            home.join(".config/systemd/user/openclaw-gateway.service")
                .to_str()
                .expect("utf-8")
        )
    );
    assert_eq!(g.endpoint, "unix:///srv/from-envfile.sock");
    assert!(g.because.contains("EnvironmentFile"), "{}", g.because);
    let var = |k: &str| g.var(k).map(|v| (v.value.clone(), v.from.clone()));
    assert_eq!(
        var("DOCKER_CONTEXT").map(|v| v.0),
        Some("from-unit".to_string())
    );
    // .env fills only what the service does not set itself.
    assert_eq!(
        var("DOCKER_CONFIG"),
        Some(("/srv/docker-config".into(), "$STATE_DIR/.env".into()))
    );

    // A drop-in comes after the unit; without the EnvironmentFile the unit's line stands.
    std::fs::remove_file(&envfile).expect("rm");
    write(
        &home.join(".config/systemd/user/openclaw-gateway.service.d/override.conf"),
        "[Service]\nEnvironment=DOCKER_CONTEXT=from-dropin\n",
    );
    let g = detect(&o).gateway.expect("view");
    assert_eq!(g.endpoint, format!("unix://{}/unit.sock", home.display()));
    assert!(g.because.contains("Environment= in"), "{}", g.because);
    assert_eq!(
        g.var("DOCKER_CONTEXT").map(|v| v.value.as_str()),
        Some("from-dropin")
    );
}

#[test]
fn without_docker_host_the_service_follows_its_context_else_the_default_socket() {
    let dir = tempdir();
    let mut o = isolated(dir.path());
    let home = o.home.clone().expect("home");
    o.state_dir = Some(dir.path().join("state"));
    // A profile's unit, and the docker CLI's current context in ~/.docker.
    write(
        &home.join(".config/systemd/user/openclaw-gateway-work.service"),
        &format!("{UNIT_HEAD}Environment=HOME=%h\n"),
    );
    let g = detect(&o).gateway.expect("view");
    assert!(
        g.definition
            .expect("found")
            .ends_with("openclaw-gateway-work.service")
    );
    assert_eq!(g.because, "the docker CLI's default socket");
    assert_eq!(
        g.endpoint,
        format!(
            "unix://{}",
            o.system_root.join("var/run/docker.sock").display()
        )
    );
    let meta = home
        .join(".docker/contexts/meta")
        .join(clawposture::edge::detect::meta_dir_name("colima"));
    write(
        &meta.join("meta.json"),
        r#"{"Name":"colima","Endpoints":{"docker":{"Host":"unix:///Users/u/.colima/default/docker.sock"}}}"#,
    );
    write(
        &home.join(".docker/config.json"),
        r#"{"currentContext":"colima"}"#,
    );
    let g = detect(&o).gateway.expect("view");
    assert_eq!(g.endpoint, "unix:///Users/u/.colima/default/docker.sock");
    assert_eq!(g.because, "docker context colima");
}

fn plist(env: &[(&str, &str)]) -> String {
    let vars: String = env
        .iter()
        .map(|(k, v)| format!("      <key>{k}</key>\n      <string>{v}</string>\n"))
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
  <dict>
    <key>Label</key>
    <string>ai.openclaw.gateway</string>
    <key>RunAtLoad</key>
    <true/>
    <key>EnvironmentVariables</key>
    <dict>
{vars}    </dict>
  </dict>
</plist>
"#
    )
}

/// OpenClaw's macOS service PATH (`resolveSystemPathDirs`).
const MAC_SERVICE_PATH: &str =
    "/opt/homebrew/bin:/opt/homebrew/sbin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";

#[test]
fn launch_agent_path_without_docker_is_said_with_the_fix_for_each_desktop_bin_dir() {
    for bin in [".docker/bin", ".orbstack/bin", ".rd/bin"] {
        let dir = tempdir();
        let mut o = isolated(dir.path());
        let home = o.home.clone().expect("home");
        o.state_dir = Some(dir.path().join("state"));
        write(
            &home.join("Library/LaunchAgents/ai.openclaw.gateway.plist"),
            &plist(&[("HOME", "/Users/u"), ("PATH", MAC_SERVICE_PATH)]),
        );
        write(&home.join(bin).join("docker"), "#!/bin/sh\n");
        let g = detect(&o).gateway.expect("view");
        assert_eq!(
            g.var("PATH").map(|v| v.value.as_str()),
            Some(MAC_SERVICE_PATH)
        );
        let note = g
            .notes
            .iter()
            .find(|n| n.contains("not on the Gateway service's PATH"))
            .unwrap_or_else(|| panic!("{bin}: {:?}", g.notes));
        assert!(
            note.contains(&home.join(bin).display().to_string()) && note.contains("Fix:"),
            "{note}"
        );
        // docker on the service PATH (here /usr/local/bin under the system root): nothing said.
        write(&o.system_root.join("usr/local/bin/docker"), "#!/bin/sh\n");
        let g = detect(&o).gateway.expect("view");
        assert!(g.notes.is_empty(), "{bin}: {:?}", g.notes);
    }
}

#[test]
fn a_profile_launch_agent_counts_only_when_it_is_a_gateway() {
    let dir = tempdir();
    let mut o = isolated(dir.path());
    let home = o.home.clone().expect("home");
    o.state_dir = Some(dir.path().join("state"));
    let agents = home.join("Library/LaunchAgents");
    // The node service shares the prefix: not the Gateway.
    write(
        &agents.join("ai.openclaw.node.plist"),
        &plist(&[("DOCKER_HOST", "unix:///node.sock")]),
    );
    let g = detect(&o).gateway.expect("view");
    assert_eq!(g.definition, None);
    write(
        &agents.join("ai.openclaw.work.plist"),
        &plist(&[
            ("OPENCLAW_SERVICE_KIND", "gateway"),
            ("DOCKER_HOST", "unix:///Users/u/.orbstack/run/docker.sock"),
        ]),
    );
    let g = detect(&o).gateway.expect("view");
    assert!(
        g.definition
            .expect("found")
            .ends_with("ai.openclaw.work.plist")
    );
    assert_eq!(g.endpoint, "unix:///Users/u/.orbstack/run/docker.sock");
    assert!(
        g.because.contains("EnvironmentVariables in"),
        "{}",
        g.because
    );
}

/// Through the CLI: the plan says on its first lines that the unit's DOCKER_HOST (which .env
/// cannot override) points elsewhere, and apply writes nothing into .env for it.
#[test]
fn a_unit_docker_host_elsewhere_is_said_first_and_not_written_into_dotenv() {
    let Some(env) = crate::support::engines::engines_env() else {
        return;
    };
    let rootless = env["CLAWPOSTURE_DOCKER_ROOTLESS"].clone();
    let sb = Sandbox::new();
    let unit = sb
        .home()
        .join(".config/systemd/user/openclaw-gateway.service");
    write(
        &unit,
        &format!("{UNIT_HEAD}Environment=DOCKER_HOST=unix:///srv/nothing-here.sock\n"),
    );
    let out = sb
        .cmd(&["plan", "--json", "--threat", "private"])
        .env("DOCKER_HOST", &rootless)
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert!(v["env_docker_host"].is_null(), "{v:#}");
    assert_eq!(
        v["gateway_reaches"]["endpoint"],
        "unix:///srv/nothing-here.sock"
    );
    assert_eq!(v["gateway_reaches"]["state"], "missing", "{v:#}");
    let out = sb
        .cmd(&["plan", "--threat", "private"])
        .env("DOCKER_HOST", &rootless)
        .output()
        .expect("run");
    let text = stdout(&out);
    let head: Vec<&str> = text.lines().take(3).collect();
    assert!(
        head.iter()
            .any(|l| l.contains("would reach a different daemon")
                && l.contains(&unit.display().to_string())
                && l.contains("cannot override")),
        "{text}"
    );
}
