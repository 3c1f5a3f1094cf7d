//! Judge what the probe turns saw against the threat model: what the preset (recognised from
//! the file, or named with `--preset`) says must hold, not what the file says today, so a
//! weakened file fails instead of agreeing with itself.

use serde::Serialize;
use serde_json::Value;

use super::evidence::{Container, EngineFacts, Evidence, Turn};
use crate::domain::expect::{self, AgentSandbox};
use crate::model::checks::Status;

/// One session the run probes, and what must hold for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Expect {
    pub agent: String,
    pub session: String,
    pub main: bool,
    /// The sandbox the threat model gives this agent.
    pub sandbox: AgentSandbox,
    /// The session must run in a container.
    pub sandboxed: bool,
    /// The model must not be offered `exec` (public; an agent whose tools deny it).
    pub exec_denied: bool,
    /// Where the expectation comes from (`the public preset`, `the file (no preset recognised)`).
    pub source: String,
}

/// The session keys probed for an agent: its main key and a direct-message peer's key.
pub fn sessions(agent: &str) -> [(String, bool); 2] {
    [
        (format!("agent:{agent}:main"), true),
        (format!("agent:{agent}:dm-probe"), false),
    ]
}

fn lists_exec(v: Option<&Value>) -> bool {
    v.and_then(Value::as_array).is_some_and(|a| {
        a.iter()
            .filter_map(Value::as_str)
            .any(|t| t == "exec" || t == "group:runtime")
    })
}

/// Whether the config's tool policy takes `exec` away from `agent`.
pub fn exec_denied(config: &Value, agent: &str, preset: Option<&str>) -> bool {
    if preset == Some("public") {
        return true;
    }
    let own = config
        .pointer("/agents/entries")
        .and_then(|e| e.get(agent))
        .and_then(|a| a.get("tools"));
    let global = config.get("tools");
    let mode_deny = |t: Option<&Value>| {
        t.and_then(|t| t.pointer("/exec/mode"))
            .and_then(Value::as_str)
            == Some("deny")
    };
    lists_exec(own.and_then(|t| t.get("deny")))
        || lists_exec(global.and_then(|t| t.get("deny")))
        || mode_deny(own)
        || (own.and_then(|t| t.pointer("/exec/mode")).is_none() && mode_deny(global))
}

/// The expectations for `agents` (each with its two sessions) from the threat model's config.
pub fn expectations(model: &Value, preset: Option<&str>, agents: &[String]) -> Vec<Expect> {
    let source = match preset {
        Some(p) => format!("the {p} preset"),
        None => "the file (no preset recognised)".to_string(),
    };
    let mut v = Vec::new();
    for agent in agents {
        let sandbox = expect::agent_sandbox(model, agent);
        for (session, main) in sessions(agent) {
            let sandboxed = sandbox.mode == "all" || (sandbox.mode == "non-main" && !main);
            v.push(Expect {
                agent: agent.clone(),
                session,
                main,
                sandbox: sandbox.clone(),
                sandboxed,
                exec_denied: exec_denied(model, agent, preset),
                source: source.clone(),
            });
        }
    }
    v
}

/// One judged item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// `e2e.<agent>.<main|dm>.<what>`, or `e2e.setup`, `e2e.cleanup`.
    pub id: String,
    pub status: Status,
    pub reason: String,
    pub fix: Option<String>,
    pub details: Vec<String>,
}

impl Check {
    fn new(id: String, status: Status, reason: impl Into<String>) -> Check {
        Check {
            id,
            status,
            reason: reason.into(),
            fix: None,
            details: Vec::new(),
        }
    }
    fn fix(mut self, f: impl Into<String>) -> Check {
        self.fix = Some(f.into());
        self
    }
    fn details(mut self, d: Vec<String>) -> Check {
        self.details = d;
        self
    }
}

/// The fix for a turn that failed, from what OpenClaw printed.
pub fn turn_fix(stderr: &str) -> Option<String> {
    let s = stderr.to_ascii_lowercase();
    if s.contains("image not found") || s.contains("no such image") {
        Some("build the sandbox image: `clawposture image build` (OpenClaw never pulls it)".into())
    } else if s.contains("exec sleep failed") || s.contains("is not running") {
        Some("the sandbox image needs /bin/sh and `sleep` (busybox needs its applet links) and a /tmp with mode 1777".into())
    } else if s.contains("permission denied") {
        Some("with a rootless engine, run as the engine's user and keep the state dir owned by that user".into())
    } else if s.contains("cannot resolve sandbox bind sources") {
        Some("OpenClaw believes it runs in a container (/.dockerenv): run where the Gateway runs, outside a container".into())
    } else {
        None
    }
}

/// Why OpenClaw ended a turn: its `Reason:` line, else the `message` of its JSON error, else
/// the last line it printed.
fn failure_reason(s: &str) -> String {
    if let Some(r) = s
        .lines()
        .rev()
        .find_map(|l| l.split_once("Reason:").map(|(_, r)| r.trim().to_string()))
    {
        return r;
    }
    if let Some(m) = s.lines().rev().find_map(|l| {
        l.trim()
            .strip_prefix("\"message\":")
            .map(|m| m.trim().trim_end_matches(',').trim_matches('"').to_string())
    }) {
        return m;
    }
    last_line(s)
}

fn last_line(s: &str) -> String {
    s.lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
        .chars()
        .take(300)
        .collect()
}

fn first_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
        .chars()
        .take(200)
        .collect()
}

/// A tool result's gist: its `error` when it is a JSON answer, else its first line.
fn answer_of(s: &str) -> String {
    serde_json::from_str::<Value>(s)
        .ok()
        .and_then(|v| v.get("error").and_then(Value::as_str).map(first_line))
        .unwrap_or_else(|| first_line(s))
}

fn inspect_details(c: &Container) -> Vec<String> {
    vec![
        format!("container {}", c.name),
        format!("NetworkMode {}", c.network_mode),
        format!(
            "ReadonlyRootfs {}",
            c.readonly_rootfs.map_or("?".into(), |b| b.to_string())
        ),
        format!("CapDrop {}", c.cap_drop.join(",")),
        format!(
            "EffectiveCaps {}",
            c.effective_caps
                .as_ref()
                .map_or("(not reported)".into(), |e| format!("[{}]", e.join(",")))
        ),
        format!("SecurityOpt {}", c.security_opt.join(",")),
        format!(
            "User {}",
            if c.user.is_empty() {
                "(image default)"
            } else {
                &c.user
            }
        ),
        format!("Binds {}", c.binds.join(" ")),
    ]
}

fn judge_container(
    prefix: &str,
    e: &Expect,
    c: &Container,
    engine: &EngineFacts,
    out: &mut Vec<Check>,
) {
    let d = &e.sandbox.docker;
    let mut wrong = Vec::new();
    if d.network == "none" && c.network_mode != "none" {
        wrong.push(format!("network mode {} (expected none)", c.network_mode));
    }
    if d.read_only_root && c.readonly_rootfs != Some(true) {
        wrong.push("root file system writable".to_string());
    }
    for cap in &d.cap_drop {
        let all_gone = cap.eq_ignore_ascii_case("ALL")
            && c.effective_caps.as_ref().is_some_and(|e| e.is_empty());
        if !all_gone
            && !c.cap_drop.iter().any(|x| {
                x.eq_ignore_ascii_case(cap) || x.eq_ignore_ascii_case(&format!("CAP_{cap}"))
            })
        {
            wrong.push(format!("capability drop {cap} missing"));
        }
    }
    if !c
        .security_opt
        .iter()
        .any(|s| s.starts_with("no-new-privileges"))
    {
        wrong.push("no-new-privileges missing".to_string());
    }
    let id = format!("{prefix}.container");
    out.push(if wrong.is_empty() {
        Check::new(id, Status::Pass, "the container OpenClaw created has no network, a read-only root, no capabilities and no-new-privileges")
    } else {
        Check::new(id, Status::Fail, format!("the container OpenClaw created has {}", wrong.join(", ")))
    }
    .details(inspect_details(c)));
    let mut limits = Vec::new();
    let mut missing = Vec::new();
    if let Some(p) = d.pids_limit {
        limits.push(format!("pids {p} → {}", c.pids_limit.unwrap_or(0)));
        if c.pids_limit.unwrap_or(0) <= 0 {
            missing.push("pids");
        }
    }
    if let Some(m) = &d.memory {
        limits.push(format!("memory {m} → {}", c.memory.unwrap_or(0)));
        if c.memory.unwrap_or(0) <= 0 {
            missing.push("memory");
        }
    }
    if let Some(cpus) = d.cpus {
        limits.push(format!("cpus {cpus} → {}", c.nano_cpus.unwrap_or(0)));
        if c.nano_cpus.unwrap_or(0) <= 0 {
            missing.push("cpus");
        }
    }
    if limits.is_empty() {
        return;
    }
    let id = format!("{prefix}.limits");
    let check = match engine.enforces_limits() {
        Some(false) => Check::new(
            id,
            Status::Skipped,
            "limits are recorded (or dropped) but not enforced by this engine (rootless on cgroup v1, or no cgroup driver): not proven",
        )
        .fix("use cgroup v2 with systemd delegation for a rootless engine, or a rootful engine"),
        _ if !missing.is_empty() => Check::new(
            id,
            Status::Fail,
            format!("limits missing on the container: {}", missing.join(", ")),
        ),
        Some(true) => Check::new(id, Status::Pass, "the engine records and enforces the limits"),
        None => Check::new(id, Status::Skipped, "limits recorded; whether the engine enforces them is unknown"),
    };
    out.push(check.details(limits));
}

/// Judge every expectation against the turns.
pub fn judge(expects: &[Expect], ev: &Evidence) -> Vec<Check> {
    let mut out = Vec::new();
    if let Some(err) = &ev.setup_error {
        out.push(Check::new("e2e.setup".into(), Status::Fail, err.clone()));
        return out;
    }
    for e in expects {
        let kind = if e.main { "main" } else { "dm" };
        let prefix = format!("e2e.{}.{kind}", e.agent);
        let Some(turn) = ev
            .turns
            .iter()
            .find(|t| t.agent == e.agent && t.session == e.session)
        else {
            out.push(Check::new(
                format!("{prefix}.turn"),
                Status::Skipped,
                format!("no turn ran for {}", e.session),
            ));
            continue;
        };
        judge_turn(&prefix, e, turn, ev, &mut out);
    }
    out.push(if ev.leftover.is_empty() {
        Check::new(
            "e2e.cleanup".into(),
            Status::Pass,
            "no container of the run is left",
        )
    } else {
        Check::new(
            "e2e.cleanup".into(),
            Status::Fail,
            "containers of the run are left",
        )
        .details(ev.leftover.clone())
        .fix(format!(
            "remove them: docker rm -f {}",
            ev.leftover.join(" ")
        ))
    });
    out
}

/// The containers that serve this turn: the ones it created, or (for an agent- or
/// shared-scoped sandbox) the agent's container an earlier turn created.
fn containers_of<'a>(e: &Expect, turn: &'a Turn, ev: &'a Evidence) -> Vec<&'a Container> {
    if !turn.containers.is_empty() || e.sandbox.scope == "session" {
        return turn.containers.iter().collect();
    }
    ev.turns
        .iter()
        .filter(|t| t.agent == e.agent || e.sandbox.scope == "shared")
        .take_while(|t| t.session != turn.session)
        .flat_map(|t| t.containers.iter())
        .collect()
}

fn judge_turn(prefix: &str, e: &Expect, turn: &Turn, ev: &Evidence, out: &mut Vec<Check>) {
    let failed = turn.timed_out || turn.error.is_some() || turn.exit_code.is_some_and(|c| c != 0);
    if failed && turn.requests == 0 {
        let why = if turn.timed_out {
            "the turn did not finish in time".to_string()
        } else if let Some(err) = &turn.error {
            err.clone()
        } else {
            format!(
                "OpenClaw ended the turn with exit code {}: {}",
                turn.exit_code.unwrap_or(-1),
                failure_reason(&turn.stderr_tail)
            )
        };
        let mut c = Check::new(
            format!("{prefix}.turn"),
            Status::Fail,
            format!("{}: {why}", turn.session),
        );
        if let Some(f) = turn_fix(&turn.stderr_tail) {
            c = c.fix(f);
        }
        out.push(c);
        return;
    }
    let containers = containers_of(e, turn, ev);
    let probe = turn.probe.as_ref();
    let on_host = probe.and_then(|p| p.on_host);
    let tools = format!("tools offered: {}", turn.tools_offered.join(", "));
    // Where the session ran.
    let id = format!("{prefix}.sandbox");
    if e.sandboxed {
        out.push(if on_host == Some(true) {
            Check::new(id, Status::Fail, format!("{} ran on the host: the probe saw a file only the host has ({} says it must be sandboxed)", turn.session, e.source))
        } else if containers.is_empty() {
            Check::new(id, Status::Fail, format!("no container was created for {} (OpenClaw claimed sandboxed: {}); {} says it must be sandboxed", turn.session, turn.claimed_sandboxed.map_or("?".into(), |b| b.to_string()), e.source))
        } else {
            Check::new(id, Status::Pass, format!("{} ran in container {}", turn.session, containers.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")))
        });
    } else {
        let how = match (on_host, &turn.tool_result) {
            (Some(true), _) => "the probe ran on the host".to_string(),
            (_, Some(r)) => format!("exec on the host answered: {}", answer_of(r)),
            _ => "no exec ran".to_string(),
        };
        let whose = if e.main {
            "the main session"
        } else {
            "this session"
        };
        out.push(Check::new(
            id,
            Status::Pass,
            format!(
                "{} is not sandboxed, as {} intends for {whose}; {how}",
                turn.session, e.source
            ),
        ));
    }
    // Whether exec is offered.
    let offered = turn.tools_offered.iter().any(|t| t == "exec");
    if e.exec_denied {
        let id = format!("{prefix}.exec");
        out.push(
            if offered {
                Check::new(
                    id,
                    Status::Fail,
                    format!("the model was offered exec ({} denies it)", e.source),
                )
            } else if probe.is_some() {
                Check::new(id, Status::Fail, "a forced tool_call of exec ran the probe")
            } else {
                let answer = turn
                    .tool_result
                    .as_deref()
                    .map(answer_of)
                    .unwrap_or_else(|| "no tool to call".into());
                Check::new(
                    id,
                    Status::Pass,
                    format!("exec is not offered; a forced call answered: {answer}"),
                )
            }
            .details(vec![tools.clone()]),
        );
    } else if !offered && e.sandboxed {
        out.push(
            Check::new(
                format!("{prefix}.exec"),
                Status::Skipped,
                "exec is not offered: nothing could be probed inside the sandbox",
            )
            .details(vec![tools.clone()]),
        );
    }
    // Inside the sandbox.
    if e.sandboxed && on_host != Some(true) {
        if let Some(p) = probe {
            probe_checks(prefix, e, p, &containers, out);
        }
        if let Some(c) = containers.first() {
            judge_container(prefix, e, c, &ev.engine, out);
        }
    }
}

fn probe_checks(
    prefix: &str,
    e: &Expect,
    p: &super::probe::Probe,
    containers: &[&Container],
    out: &mut Vec<Check>,
) {
    let d = &e.sandbox.docker;
    let id = format!("{prefix}.network");
    let others = p.non_loopback();
    out.push(
        if d.network != "none" {
            Check::new(
                id,
                Status::Skipped,
                format!(
                    "the threat model grants network `{}`: not proven isolated",
                    d.network
                ),
            )
        } else if p.interfaces.is_empty() {
            Check::new(id, Status::Fail, "the probe read no interface")
        } else if others.is_empty() {
            Check::new(id, Status::Pass, "only lo inside the sandbox")
        } else {
            Check::new(
                id,
                Status::Fail,
                format!(
                    "network interfaces inside the sandbox: {}",
                    p.interfaces.join(", ")
                ),
            )
        }
        .details(p.routes.iter().map(|r| format!("route {r}")).collect()),
    );
    let id = format!("{prefix}.rootfs");
    out.push(match (p.tmp_writable, p.root_writable) {
        (Some(true), Some(false)) => Check::new(id, Status::Pass, "/ is read-only (a write to /tmp succeeded)"),
        (Some(true), Some(true)) if !d.read_only_root => Check::new(id, Status::Skipped, "the threat model leaves / writable"),
        (Some(true), Some(true)) => Check::new(id, Status::Fail, "/ is writable inside the sandbox"),
        (Some(false), _) => Check::new(id, Status::Fail, "the positive control failed: /tmp is not writable, so nothing is proven (and the agent cannot use /tmp)")
            .fix("give the image a /tmp with mode 1777"),
        _ => Check::new(id, Status::Fail, "the probe's write report is missing"),
    });
    let id = format!("{prefix}.privileges");
    let caps = p.no_capabilities();
    let nnp = p.no_new_privs.as_deref() == Some("1");
    out.push(
        if caps == Some(true) && nnp {
            Check::new(
                id,
                Status::Pass,
                "no effective capabilities, no_new_privs set",
            )
        } else {
            Check::new(
                id,
                Status::Fail,
                format!(
                    "CapEff {}, NoNewPrivs {}",
                    p.cap_eff.as_deref().unwrap_or("?"),
                    p.no_new_privs.as_deref().unwrap_or("?")
                ),
            )
        }
        .details(vec![
            format!(
                "uid {} gid {}",
                p.uid.as_deref().unwrap_or("?"),
                p.gid.as_deref().unwrap_or("?")
            ),
            format!("uid_map {}", p.uid_map.join("; ")),
            format!("Seccomp {}", p.seccomp.as_deref().unwrap_or("?")),
        ]),
    );
    let id = format!("{prefix}.workspace");
    let ws_bind = containers
        .iter()
        .flat_map(|c| c.binds.iter())
        .find(|b| b.split(':').nth(1) == Some("/workspace"))
        .cloned();
    let copy = ws_bind
        .as_deref()
        .is_some_and(|b| b.contains("/sandboxes/"));
    let mut details = vec![format!("/workspace: {}", p.workspace.join(" "))];
    if let Some(b) = &ws_bind {
        details.push(format!("bind {b}"));
    }
    let access = e.sandbox.workspace_access.as_str();
    out.push(
        match (access, p.workspace_writable) {
            ("none", Some(true)) if copy || ws_bind.is_none() => Check::new(id, Status::Pass, "/workspace is a writable copy of the sandbox's own (no access to the agent workspace)"),
            ("none", Some(true)) => Check::new(id, Status::Fail, "/workspace is writable and not a sandbox copy"),
            ("none", _) => Check::new(id, Status::Fail, "/workspace is not writable (expected the sandbox's own copy)"),
            ("ro", Some(false)) => Check::new(id, Status::Pass, "the workspace is read-only inside the sandbox"),
            ("ro", _) => Check::new(id, Status::Fail, "the workspace is writable inside the sandbox (expected read-only)"),
            (_, Some(w)) => Check::new(id, Status::Pass, format!("/workspace writable: {w} (access {access})")),
            _ => Check::new(id, Status::Fail, "the probe's workspace report is missing"),
        }
        .details(details),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::e2e::probe::Probe;
    use serde_json::json;

    fn model() -> Value {
        json!({"agents": {"defaults": {"sandbox": {"mode": "non-main", "scope": "session", "workspaceAccess": "none",
            "docker": {"network": "none", "readOnlyRoot": true, "capDrop": ["ALL"], "pidsLimit": 256}}},
            "entries": {"main": {}, "group": {"sandbox": {"mode": "all"}, "tools": {"deny": ["group:runtime"]}}}}})
    }

    fn inside() -> Probe {
        Probe {
            complete: true,
            interfaces: vec!["lo".into()],
            cap_eff: Some("0000000000000000".into()),
            no_new_privs: Some("1".into()),
            tmp_writable: Some(true),
            root_writable: Some(false),
            workspace_writable: Some(true),
            on_host: Some(false),
            ..Probe::default()
        }
    }

    fn container(name: &str) -> Container {
        Container {
            name: name.into(),
            network_mode: "none".into(),
            readonly_rootfs: Some(true),
            cap_drop: vec!["ALL".into()],
            security_opt: vec!["no-new-privileges".into()],
            binds: vec!["/s/sandboxes/w:/workspace:rw".into()],
            pids_limit: Some(256),
            ..Container::default()
        }
    }

    fn status(checks: &[Check], id: &str) -> Status {
        checks
            .iter()
            .find(|c| c.id == id)
            .unwrap_or_else(|| panic!("no {id} in {checks:?}"))
            .status
    }

    #[test]
    fn expectations_follow_the_mode_and_the_tool_policy() {
        let ex = expectations(&model(), Some("group"), &["main".into(), "group".into()]);
        let flags: Vec<(bool, bool)> = ex.iter().map(|e| (e.sandboxed, e.exec_denied)).collect();
        assert_eq!(
            flags,
            vec![(false, false), (true, false), (true, true), (true, true)]
        );
    }

    fn evidence(turns: Vec<Turn>, rootless_v1: bool) -> Evidence {
        Evidence {
            turns,
            engine: EngineFacts {
                cli: "docker".into(),
                rootless: Some(rootless_v1),
                cgroup_version: Some(if rootless_v1 { "1" } else { "2" }.into()),
                ..EngineFacts::default()
            },
            ..Evidence::default()
        }
    }

    #[test]
    fn a_sandboxed_session_passes_and_unenforced_limits_are_skipped() {
        let ex = expectations(&model(), Some("group"), &["main".into()]);
        let turns = vec![
            Turn {
                agent: "main".into(),
                session: "agent:main:main".into(),
                main: true,
                requests: 2,
                tools_offered: vec!["exec".into()],
                probe: Some(Probe {
                    on_host: Some(true),
                    ..inside()
                }),
                ..Turn::default()
            },
            Turn {
                agent: "main".into(),
                session: "agent:main:dm-probe".into(),
                requests: 2,
                tools_offered: vec!["exec".into()],
                probe: Some(inside()),
                containers: vec![container("p-1")],
                ..Turn::default()
            },
        ];
        let checks = judge(&ex, &evidence(turns, true));
        for id in [
            "e2e.main.main.sandbox",
            "e2e.main.dm.sandbox",
            "e2e.main.dm.network",
            "e2e.main.dm.rootfs",
            "e2e.main.dm.privileges",
            "e2e.main.dm.workspace",
            "e2e.main.dm.container",
            "e2e.cleanup",
        ] {
            assert_eq!(status(&checks, id), Status::Pass, "{id}: {checks:?}");
        }
        assert_eq!(status(&checks, "e2e.main.dm.limits"), Status::Skipped);
    }

    #[test]
    fn a_host_run_a_network_and_an_offered_exec_fail() {
        let ex = expectations(&model(), Some("group"), &["main".into(), "group".into()]);
        let turns = vec![
            Turn {
                agent: "main".into(),
                session: "agent:main:dm-probe".into(),
                requests: 2,
                probe: Some(Probe {
                    interfaces: vec!["lo".into(), "eth0".into()],
                    ..inside()
                }),
                containers: vec![Container {
                    network_mode: "bridge".into(),
                    ..container("p-1")
                }],
                ..Turn::default()
            },
            Turn {
                agent: "group".into(),
                session: "agent:group:main".into(),
                main: true,
                requests: 2,
                tools_offered: vec!["exec".into()],
                probe: Some(Probe {
                    on_host: Some(true),
                    ..inside()
                }),
                ..Turn::default()
            },
            Turn {
                agent: "group".into(),
                session: "agent:group:dm-probe".into(),
                requests: 2,
                tools_offered: vec!["tool_call".into()],
                tool_result: Some("Unknown tool id: exec".into()),
                ..Turn::default()
            },
        ];
        let checks = judge(&ex, &evidence(turns, false));
        assert_eq!(status(&checks, "e2e.main.dm.network"), Status::Fail);
        assert_eq!(status(&checks, "e2e.main.dm.container"), Status::Fail);
        assert_eq!(status(&checks, "e2e.group.main.sandbox"), Status::Fail);
        assert_eq!(status(&checks, "e2e.group.main.exec"), Status::Fail);
        assert_eq!(status(&checks, "e2e.group.dm.exec"), Status::Pass);
        // No container for a session that must be sandboxed.
        assert_eq!(status(&checks, "e2e.group.dm.sandbox"), Status::Fail);
        assert_eq!(status(&checks, "e2e.main.main.turn"), Status::Skipped);
    }

    #[test]
    fn podman_shows_a_dropped_all_as_an_empty_effective_set() {
        let ex = expectations(&model(), Some("group"), &["main".into()]);
        let podman = |eff: Vec<String>| Container {
            cap_drop: vec!["CAP_CHOWN".into(), "CAP_KILL".into()],
            effective_caps: Some(eff),
            ..container("p-1")
        };
        for (eff, want) in [
            (vec![], Status::Pass),
            (vec!["CAP_KILL".to_string()], Status::Fail),
        ] {
            let turns = vec![Turn {
                agent: "main".into(),
                session: "agent:main:dm-probe".into(),
                requests: 2,
                probe: Some(inside()),
                containers: vec![podman(eff)],
                ..Turn::default()
            }];
            assert_eq!(
                status(
                    &judge(&ex, &evidence(turns, false)),
                    "e2e.main.dm.container"
                ),
                want
            );
        }
    }

    #[test]
    fn a_failed_turn_says_why() {
        let tail = "[openclaw] Reason: temp workspace directory has an untrusted owner\n{\n  \"ok\": false\n}";
        assert_eq!(
            failure_reason(tail),
            "temp workspace directory has an untrusted owner"
        );
        let json = "{\n  \"error\": {\n    \"message\": \"config invalid\"\n  }\n}";
        assert_eq!(failure_reason(json), "config invalid");
    }

    #[test]
    fn a_failed_turn_names_the_fix() {
        let ex = expectations(&model(), None, &["group".into()]);
        let turns = vec![Turn {
            agent: "group".into(),
            session: "agent:group:main".into(),
            main: true,
            exit_code: Some(1),
            stderr_tail: "Error: Sandbox image not found in Podman: x".into(),
            ..Turn::default()
        }];
        let checks = judge(&ex, &evidence(turns, false));
        let c = checks
            .iter()
            .find(|c| c.id == "e2e.group.main.turn")
            .expect("turn check");
        assert_eq!(c.status, Status::Fail);
        assert!(
            c.fix
                .as_deref()
                .unwrap_or("")
                .contains("clawposture image build")
        );
    }
}
