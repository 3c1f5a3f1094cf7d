//! The live probe, pure parts: the container settings a sandbox config implies, the script
//! that runs inside, and the judgement of its output.
//!
//! The probe never sends a packet: it only reads the container's own `/sys/class/net`,
//! `/proc/net/*`, `/proc/self/status` and `/proc/self/mounts`, and writes one file to a tmpfs
//! and (to prove it fails) one to `/`. Every negative check has a positive control from the
//! same container: `lo` must be listed and the route table readable before "no other
//! interface, no route" counts; the tmpfs write must succeed before "root not writable"
//! counts; the status lines must be read before "no capabilities" counts. A missing tool or
//! file is therefore a failure, never a pass. Only `/bin/sh` builtins are used.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::domain::expect::{self, AgentSandbox, DockerSettings};
use crate::model::checks::{Group, Outcome};
use crate::model::environment::EngineKind;

/// Every probe container carries this label, so leftovers can be found and removed.
pub const LABEL: &str = "clawposture.probe";
/// The pid of the clawposture process that created the container.
pub const LABEL_PID: &str = "clawposture.probe.pid";
/// One id per verify run.
pub const LABEL_RUN: &str = "clawposture.probe.run";

/// The marker lines that open and close the probe's report.
const BEGIN: &str = "clawposture-probe.begin=1";
const END: &str = "clawposture-probe.end=1";

/// A container create request, as plain data (the shell turns it into bollard's types).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProbeSpec {
    pub image: String,
    pub cmd: Vec<String>,
    pub user: Option<String>,
    pub network_mode: String,
    pub readonly_rootfs: bool,
    pub tmpfs: Vec<String>,
    pub cap_drop: Vec<String>,
    pub security_opt: Vec<String>,
    pub pids_limit: Option<i64>,
    pub memory: Option<i64>,
    pub memory_swap: Option<i64>,
    pub nano_cpus: Option<i64>,
    pub ulimits: Vec<(String, i64, i64)>,
    pub userns_mode: Option<String>,
    pub dns: Vec<String>,
    pub extra_hosts: Vec<String>,
    pub labels: BTreeMap<String, String>,
    /// Settings of the config the probe does not reproduce, and why.
    pub not_reproduced: Vec<String>,
    /// OpenClaw itself would refuse to create this sandbox (so no container is started).
    pub refusal: Option<String>,
}

/// The engine the probe runs on, as far as the container settings depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub kind: EngineKind,
    pub rootless: bool,
}

/// The script: prints `key=value` lines between BEGIN and END, then optionally holds (a test
/// hook that keeps the container alive so a killed verify can be simulated).
pub fn script(hold_secs: Option<u32>) -> String {
    let mut s = String::from(
        r#"echo 'clawposture-probe.begin=1'
for f in /sys/class/net/*; do [ -e "$f" ] && echo "sysnet=${f##*/}"; done
if [ -r /proc/net/dev ]; then
  while read -r l; do case "$l" in *:*) echo "netdev=${l%%:*}";; esac; done < /proc/net/dev
  echo 'netdev.read=1'
fi
if [ -r /proc/net/route ]; then
  n=0
  while read -r iface dest gw flags rest; do
    n=$((n+1)); [ "$n" = 1 ] && { [ "$iface" = Iface ] && echo 'route.header=1'; continue; }
    echo "route=$iface $dest $gw $flags"
  done < /proc/net/route
fi
if [ -r /proc/net/ipv6_route ]; then
  echo 'route6.read=1'
  while read -r dst dlen src slen nh metric ref use flags dev; do echo "route6=$dev $dst $dlen"; done < /proc/net/ipv6_route
fi
while read -r k v rest; do
  case "$k" in Uid:|Gid:|CapInh:|CapPrm:|CapEff:|CapBnd:|CapAmb:|NoNewPrivs:|Seccomp:) echo "status.${k%:}=$v";; esac
done < /proc/self/status
while read -r dev mnt fs opts rest; do echo "mount=$mnt $fs $opts"; done < /proc/self/mounts
if (echo probe > /tmp/.clawposture-probe) 2>/dev/null; then echo 'write.tmp=ok'; else echo 'write.tmp=fail'; fi
if (echo probe > /.clawposture-probe) 2>/dev/null; then echo 'write.root=ok'; else echo 'write.root=fail'; fi
for f in pids/pids.max memory/memory.limit_in_bytes cpu/cpu.cfs_quota_us cpu/cpu.cfs_period_us pids.max memory.max cpu.max; do
  if [ -r "/sys/fs/cgroup/$f" ]; then read -r v < "/sys/fs/cgroup/$f"; echo "cgroup.$f=$v"; fi
done
echo 'clawposture-probe.end=1'
"#,
    );
    if let Some(secs) = hold_secs {
        s.push_str(&format!("sleep {secs}\n"));
    }
    s
}

/// The container the config implies, mirroring OpenClaw's `buildSandboxCreateArgs` (and its
/// Podman policy): `--init`, read-only root, tmpfs, network, user, cap-drop, no-new-privileges,
/// limits. Workspace mounts, binds, env and setupCommand are left out: the probe needs no host
/// path and must never see a secret.
pub fn spec(
    docker: &DockerSettings,
    image: &str,
    target: Target,
    run: &str,
    pid: u32,
    hold_secs: Option<u32>,
) -> ProbeSpec {
    let podman = target.kind == EngineKind::Podman;
    let mut tmpfs: Vec<String> = docker
        .tmpfs
        .iter()
        .map(|t| t.split(':').next().unwrap_or(t).to_string())
        .collect();
    if podman && docker.tmpfs_default {
        // OpenClaw's Podman policy drops `/run` from the default list (Podman's init lives there).
        tmpfs.retain(|t| t != "/run");
    }
    let mut security_opt = vec!["no-new-privileges".to_string()];
    if let Some(p) = &docker.seccomp_profile {
        security_opt.push(format!("seccomp={p}"));
    }
    if let Some(p) = &docker.apparmor_profile {
        security_opt.push(format!("apparmor={p}"));
    }
    // OpenClaw's Podman policy: rootless keep-id needs a numeric, non-zero user.
    let refusal = match (&docker.user, podman && target.rootless) {
        (Some(u), true) if keep_id(u).is_none() => Some(format!(
            "OpenClaw refuses docker.user \"{u}\" under rootless Podman: it must be a numeric UID or UID:GID"
        )),
        (Some(u), true) if u.split(':').any(|p| p.trim().parse::<u64>() == Ok(0)) => Some(format!(
            "OpenClaw refuses docker.user \"{u}\" under rootless Podman (keep-id cannot map uid or gid 0): every sandboxed turn would fail; the config was written for another engine"
        )),
        _ => None,
    };
    let userns_mode = if podman && target.rootless {
        Some(match docker.user.as_deref().and_then(keep_id) {
            Some(mode) => mode,
            None => "keep-id".to_string(),
        })
    } else {
        None
    };
    let mut not_reproduced = Vec::new();
    if !docker.binds.is_empty() {
        not_reproduced.push(format!(
            "binds ({}): the probe mounts no host path",
            docker.binds.len()
        ));
    }
    if docker.gpus.is_some() {
        not_reproduced.push("gpus".to_string());
    }
    let ulimits = docker
        .ulimits
        .iter()
        .filter_map(|(name, v)| {
            let (soft, hard) = match v {
                serde_json::Value::Number(n) => (n.as_i64()?, n.as_i64()?),
                serde_json::Value::String(s) => {
                    let (a, b) = s.split_once(':').unwrap_or((s, s));
                    (a.trim().parse().ok()?, b.trim().parse().ok()?)
                }
                serde_json::Value::Object(m) => {
                    let soft = m.get("soft").and_then(serde_json::Value::as_i64);
                    let hard = m.get("hard").and_then(serde_json::Value::as_i64);
                    (soft.or(hard)?, hard.or(soft)?)
                }
                _ => return None,
            };
            Some((name.clone(), soft, hard))
        })
        .collect();
    let labels = [
        (LABEL.to_string(), "1".to_string()),
        (LABEL_PID.to_string(), pid.to_string()),
        (LABEL_RUN.to_string(), run.to_string()),
    ]
    .into_iter()
    .collect();
    ProbeSpec {
        image: image.to_string(),
        cmd: vec!["/bin/sh".into(), "-c".into(), script(hold_secs)],
        user: docker.user.clone(),
        network_mode: docker.network.clone(),
        readonly_rootfs: docker.read_only_root,
        tmpfs,
        cap_drop: docker.cap_drop.clone(),
        security_opt,
        pids_limit: docker.pids_limit,
        memory: docker.memory.as_deref().and_then(expect::parse_bytes),
        memory_swap: docker.memory_swap.as_deref().and_then(|s| {
            if s.trim() == "-1" {
                Some(-1)
            } else {
                expect::parse_bytes(s)
            }
        }),
        nano_cpus: docker.cpus.map(|c| (c * 1e9) as i64),
        ulimits,
        userns_mode,
        dns: docker.dns.clone(),
        extra_hosts: docker.extra_hosts.clone(),
        labels,
        not_reproduced,
        refusal,
    }
}

/// OpenClaw's `resolvePodmanKeepIdMode` for a configured numeric user.
fn keep_id(user: &str) -> Option<String> {
    let (uid, gid) = match user.split_once(':') {
        Some((u, g)) => (
            u.trim().parse::<u64>().ok()?,
            Some(g.trim().parse::<u64>().ok()?),
        ),
        None => (user.trim().parse::<u64>().ok()?, None),
    };
    Some(match gid {
        Some(g) => format!("keep-id:uid={uid},gid={g}"),
        None => format!("keep-id:uid={uid}"),
    })
}

/// What the probe printed, parsed.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Findings {
    pub complete: bool,
    pub sysnet: Vec<String>,
    pub netdev: Vec<String>,
    pub netdev_read: bool,
    pub route_header: bool,
    /// (iface, destination hex, gateway hex, flags)
    pub routes: Vec<(String, String, String, String)>,
    pub route6_read: bool,
    /// (dev, destination, prefix length)
    pub routes6: Vec<(String, String, String)>,
    pub status: BTreeMap<String, String>,
    /// (mount point, fs type, options)
    pub mounts: Vec<(String, String, String)>,
    pub write_tmp: Option<bool>,
    pub write_root: Option<bool>,
    pub cgroup: BTreeMap<String, String>,
}

pub fn parse(stdout: &str) -> Findings {
    let mut f = Findings::default();
    let mut inside = false;
    for line in stdout.lines() {
        let line = line.trim_end();
        if line == BEGIN {
            inside = true;
            continue;
        }
        if !inside {
            continue;
        }
        if line == END {
            f.complete = true;
            break;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let words = |n: usize| -> Vec<String> {
            v.split_whitespace()
                .map(str::to_string)
                .chain(std::iter::repeat(String::new()))
                .take(n)
                .collect()
        };
        match k {
            "sysnet" => f.sysnet.push(v.to_string()),
            "netdev" => f.netdev.push(v.trim().to_string()),
            "netdev.read" => f.netdev_read = true,
            "route.header" => f.route_header = true,
            "route" => {
                let w = words(4);
                f.routes
                    .push((w[0].clone(), w[1].clone(), w[2].clone(), w[3].clone()));
            }
            "route6.read" => f.route6_read = true,
            "route6" => {
                let w = words(3);
                f.routes6.push((w[0].clone(), w[1].clone(), w[2].clone()));
            }
            "mount" => {
                let w = words(3);
                f.mounts.push((w[0].clone(), w[1].clone(), w[2].clone()));
            }
            "write.tmp" => f.write_tmp = Some(v == "ok"),
            "write.root" => f.write_root = Some(v == "ok"),
            _ if k.starts_with("status.") => {
                f.status
                    .insert(k["status.".len()..].to_string(), v.trim().to_string());
            }
            _ if k.starts_with("cgroup.") => {
                f.cgroup
                    .insert(k["cgroup.".len()..].to_string(), v.trim().to_string());
            }
            _ => {}
        }
    }
    f
}

/// What the live items are judged against.
#[derive(Debug, Clone, PartialEq)]
pub struct Expectation {
    /// The uid the sandbox process must have (None: cannot be known, e.g. a user name).
    pub uid: Option<u32>,
    /// Where the expected uid comes from, for the message.
    pub uid_source: String,
}

/// The result of running the container, as plain data.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Run {
    /// The container could not be created or started, or the output could not be read.
    pub error: Option<String>,
    pub stdout: String,
    pub stderr: String,
    pub warnings: Vec<String>,
    pub container: Option<String>,
}

/// The container's output, for a failed item (bounded so one item cannot flood the report).
fn output_details(run: &Run) -> Vec<String> {
    let clip = |s: &str| -> String {
        let lines: Vec<&str> = s.lines().collect();
        let keep = 60;
        if lines.len() > keep {
            format!(
                "{}\n… ({} more lines)",
                lines[..keep].join("\n"),
                lines.len() - keep
            )
        } else {
            lines.join("\n")
        }
    };
    let mut d = Vec::new();
    if let Some(e) = &run.error {
        d.push(format!("engine error: {e}"));
    }
    if !run.stdout.trim().is_empty() {
        d.push(format!("container stdout:\n{}", clip(&run.stdout)));
    }
    if !run.stderr.trim().is_empty() {
        d.push(format!("container stderr:\n{}", clip(&run.stderr)));
    }
    for w in &run.warnings {
        d.push(format!("engine warning: {w}"));
    }
    d
}

fn hex_caps(v: Option<&String>) -> Option<u64> {
    u64::from_str_radix(v?.trim(), 16).ok()
}

fn loopback_v6(dev: &str) -> bool {
    dev == "lo"
}

/// What one probe's judges read: the sandbox, how the container was made, what it printed.
struct Probe<'a> {
    sandbox: &'a AgentSandbox,
    spec: &'a ProbeSpec,
    run: &'a Run,
    expect: &'a Expectation,
    f: &'a Findings,
    /// The probe ran to its end marker.
    ran: bool,
    suffix: &'a str,
}

/// Why an item is skipped when the probe did not run.
const NOT_RUN: &str = "the probe did not run (see live.container)";

impl Probe<'_> {
    fn id(&self, s: &str) -> String {
        format!("live.{s}{}", self.suffix)
    }
}

/// Judge one probe. `suffix` distinguishes several sandboxes (`[group]`), empty for one.
pub fn judge(
    sandbox: &AgentSandbox,
    spec: &ProbeSpec,
    run: &Run,
    expect: &Expectation,
    suffix: &str,
) -> Vec<Outcome> {
    let f = parse(&run.stdout);
    let p = Probe {
        sandbox,
        spec,
        run,
        expect,
        f: &f,
        ran: run.error.is_none() && f.complete,
        suffix,
    };
    let mut out = vec![
        judge_container(&p).doc("gateway/sandboxing.md"),
        judge_network(&p).doc("gateway/sandboxing.md"),
        judge_rootfs(&p).doc("gateway/sandboxing.md"),
        judge_capabilities(&p).doc("gateway/sandboxing.md"),
        judge_no_new_privileges(&p),
        judge_user(&p),
        // Limits: a rootless engine without cgroup delegation silently drops them.
        judge_limits(spec, &f, p.ran, &p.id("limits"), run),
    ];
    // A failed item shows what the container printed (live.container already does).
    if p.ran {
        let evidence = output_details(&Run {
            stdout: run.stdout.clone(),
            stderr: run.stderr.clone(),
            ..Default::default()
        });
        for o in out
            .iter_mut()
            .skip(1)
            .filter(|o| o.status == crate::model::checks::Status::Fail)
        {
            o.details.extend(evidence.iter().cloned());
        }
    }
    out
}

/// The probe's own container ran to its end (the positive control of every other item).
fn judge_container(p: &Probe) -> Outcome {
    let Probe {
        sandbox,
        spec,
        run,
        ran,
        ..
    } = *p;
    let id = |s: &str| p.id(s);
    let title = format!(
        "a container with the sandbox settings of agent `{}` runs the probe",
        sandbox.agent
    );
    let mut container = if ran {
        Outcome::pass(
            id("container"),
            Group::Live,
            title,
            format!("image {} on the configured settings", spec.image),
        )
    } else if let Some(e) = &run.error {
        Outcome::fail(
            id("container"),
            Group::Live,
            title,
            format!("the probe did not run: {e}"),
        )
        .details(output_details(run))
    } else {
        Outcome::fail(
            id("container"),
            Group::Live,
            title,
            "the probe did not finish (no end marker in its output)",
        )
        .details(output_details(run))
    };
    if !spec.not_reproduced.is_empty() {
        container = container.detail(format!(
            "not reproduced: {}",
            spec.not_reproduced.join("; ")
        ));
    }
    for w in &run.warnings {
        if ran {
            container = container.detail(format!("engine warning: {w}"));
        }
    }
    container
}

/// Network: the config first (a network other than none is a failure whatever the probe
/// shows), then the container's own view.
fn judge_network(p: &Probe) -> Outcome {
    let Probe {
        sandbox, f, ran, ..
    } = *p;
    let id = |s: &str| p.id(s);
    let not_run = NOT_RUN;
    // Network: the config first (a network other than none is a failure whatever the probe
    // shows), then the container's own view.
    let net_title = "the sandbox has no network: only `lo`, no route";
    let net_key = "agents.defaults.sandbox.docker.network";
    if sandbox.docker.network != "none" {
        let mut o = Outcome::fail(
            id("network"),
            Group::Live,
            net_title,
            format!(
                "the config gives the sandbox network `{}` ({net_key} or the agent's override)",
                sandbox.docker.network
            ),
        );
        if ran {
            let default = f
                .routes
                .iter()
                .find(|r| r.1 == "00000000")
                .map(|r| format!("a default route via {}", r.0))
                .unwrap_or_else(|| "no default route".into());
            o = o.detail(format!(
                "inside the container: interfaces {}; {}; {} IPv4 route(s)",
                f.sysnet.join(", "),
                default,
                f.routes.len()
            ));
        }
        o.fix(format!(
            "set {net_key} to \"none\" (clawposture apply restores it)"
        ))
    } else if !ran {
        Outcome::skip(id("network"), Group::Live, net_title, not_run)
    } else {
        let lo_listed = f.sysnet.iter().any(|i| i == "lo") && f.netdev.iter().any(|i| i == "lo");
        let others: Vec<String> = f
            .sysnet
            .iter()
            .chain(f.netdev.iter())
            .filter(|i| i.as_str() != "lo")
            .cloned()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let routes: Vec<String> = f
            .routes
            .iter()
            .filter(|r| r.0 != "lo")
            .map(|r| format!("{} dest {} gw {}", r.0, r.1, r.2))
            .collect();
        let default = f.routes.iter().any(|r| r.1 == "00000000");
        let routes6: Vec<String> = f
            .routes6
            .iter()
            .filter(|r| !loopback_v6(&r.0))
            .map(|r| format!("{} {}/{}", r.0, r.1, r.2))
            .collect();
        if !lo_listed || !f.route_header || !f.netdev_read {
            Outcome::fail(
                id("network"),
                Group::Live,
                net_title,
                format!(
                    "positive control failed: {} — the probe cannot tell an empty network from an unreadable one",
                    [
                        (!lo_listed)
                            .then_some("`lo` is not listed in /sys/class/net and /proc/net/dev"),
                        (!f.route_header).then_some("/proc/net/route is not readable"),
                        (!f.netdev_read).then_some("/proc/net/dev is not readable"),
                    ]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join("; ")
                ),
            )
        } else if !others.is_empty() || !routes.is_empty() || default || !routes6.is_empty() {
            let mut why = Vec::new();
            if !others.is_empty() {
                why.push(format!("interfaces besides lo: {}", others.join(", ")));
            }
            if default {
                why.push("a default route".to_string());
            }
            if !routes.is_empty() {
                why.push(format!("IPv4 routes: {}", routes.join("; ")));
            }
            if !routes6.is_empty() {
                why.push(format!("IPv6 routes: {}", routes6.join("; ")));
            }
            (Outcome::fail(id("network"), Group::Live, net_title, format!("the container has {}", why.join("; "))))
                .fix("make sure the engine honours `--network none` (and that no agent overrides docker.network)")
        } else {
            Outcome::pass(
                id("network"),
                Group::Live,
                net_title,
                "only `lo` in /sys/class/net and /proc/net/dev; the route tables hold no route off loopback",
            )
        }
    }
}

/// The root filesystem is read-only (with the tmpfs write as its control).
fn judge_rootfs(p: &Probe) -> Outcome {
    let Probe {
        sandbox, f, ran, ..
    } = *p;
    let id = |s: &str| p.id(s);
    let not_run = NOT_RUN;
    // Root filesystem.
    let root_title = "the sandbox's root filesystem is read-only";
    let root_mount = f.mounts.iter().rev().find(|m| m.0 == "/");
    let root_ro = root_mount.map(|m| m.2.split(',').any(|o| o == "ro"));
    if !sandbox.docker.read_only_root {
        let mut o = Outcome::fail(
            id("rootfs"),
            Group::Live,
            root_title,
            "the config sets readOnlyRoot: false",
        );
        if ran {
            o = o.detail(format!(
                "inside the container: / is mounted {}; a write to / {}",
                root_mount.map(|m| m.2.as_str()).unwrap_or("(not listed)"),
                if f.write_root == Some(true) {
                    "succeeded"
                } else {
                    "failed"
                }
            ));
        }
        o.fix("set agents.defaults.sandbox.docker.readOnlyRoot to true (clawposture apply restores it)")
    } else if !ran {
        Outcome::skip(id("rootfs"), Group::Live, root_title, not_run)
    } else if f.write_tmp != Some(true) || root_mount.is_none() {
        Outcome::fail(
            id("rootfs"),
            Group::Live,
            root_title,
            "positive control failed: a write to the /tmp tmpfs did not succeed, or / is not listed in /proc/self/mounts",
        )
    } else if f.write_root == Some(true) || root_ro != Some(true) {
        Outcome::fail(
            id("rootfs"),
            Group::Live,
            root_title,
            format!(
                "/ is mounted `{}` and a write to / {}",
                root_mount.map(|m| m.2.as_str()).unwrap_or(""),
                if f.write_root == Some(true) {
                    "succeeded"
                } else {
                    "failed"
                }
            ),
        )
    } else {
        Outcome::pass(
            id("rootfs"),
            Group::Live,
            root_title,
            "/ is mounted read-only and a write to it failed, while a write to the /tmp tmpfs succeeded",
        )
    }
}

/// No capabilities left to the sandbox process.
fn judge_capabilities(p: &Probe) -> Outcome {
    let Probe {
        sandbox, f, ran, ..
    } = *p;
    let id = |s: &str| p.id(s);
    let not_run = NOT_RUN;
    // Capabilities.
    let cap_title = "the sandbox process has no capabilities";
    let names = ["CapEff", "CapPrm", "CapBnd", "CapAmb"];
    let caps: Vec<(&str, Option<u64>)> = names
        .iter()
        .map(|n| (*n, hex_caps(f.status.get(*n))))
        .collect();
    let drops_all = sandbox
        .docker
        .cap_drop
        .iter()
        .any(|c| c.eq_ignore_ascii_case("ALL"));
    if !drops_all {
        let mut o = Outcome::fail(
            id("capabilities"),
            Group::Live,
            cap_title,
            format!(
                "the config's capDrop is {:?}, not [\"ALL\"]: the engine's default capabilities stay",
                sandbox.docker.cap_drop
            ),
        );
        if ran {
            o = o.detail(format!(
                "inside the container: {}",
                caps.iter()
                    .map(|(n, v)| format!(
                        "{n}={}",
                        v.map(|v| format!("{v:016x}")).unwrap_or("?".into())
                    ))
                    .collect::<Vec<_>>()
                    .join(" ")
            ));
        }
        o.fix("set agents.defaults.sandbox.docker.capDrop to [\"ALL\"] (clawposture apply restores it)")
    } else if !ran {
        Outcome::skip(id("capabilities"), Group::Live, cap_title, not_run)
    } else if caps.iter().any(|(_, v)| v.is_none()) {
        Outcome::fail(
            id("capabilities"),
            Group::Live,
            cap_title,
            "positive control failed: the capability lines of /proc/self/status were not read",
        )
    } else if caps.iter().any(|(_, v)| *v != Some(0)) {
        Outcome::fail(
            id("capabilities"),
            Group::Live,
            cap_title,
            format!(
                "non-empty capability sets: {}",
                caps.iter()
                    .filter(|(_, v)| *v != Some(0))
                    .map(|(n, v)| format!("{n}={:016x}", v.unwrap_or(0)))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        )
    } else {
        Outcome::pass(
            id("capabilities"),
            Group::Live,
            cap_title,
            "CapEff, CapPrm, CapBnd and CapAmb are all 0",
        )
    }
}

/// No new privileges (OpenClaw always adds it).
fn judge_no_new_privileges(p: &Probe) -> Outcome {
    let Probe { f, ran, .. } = *p;
    let id = |s: &str| p.id(s);
    let not_run = NOT_RUN;
    // No new privileges (OpenClaw always adds it).
    let nnp_title = "no-new-privileges is in effect";
    if !ran {
        Outcome::skip(id("no_new_privileges"), Group::Live, nnp_title, not_run)
    } else {
        match f.status.get("NoNewPrivs").map(String::as_str) {
            Some("1") => Outcome::pass(
                id("no_new_privileges"),
                Group::Live,
                nnp_title,
                "NoNewPrivs is 1",
            ),
            Some(v) => Outcome::fail(
                id("no_new_privileges"),
                Group::Live,
                nnp_title,
                format!("NoNewPrivs is {v}"),
            ),
            None => Outcome::fail(
                id("no_new_privileges"),
                Group::Live,
                nnp_title,
                "positive control failed: NoNewPrivs was not read from /proc/self/status",
            ),
        }
    }
}

/// The sandbox runs as the configured uid.
fn judge_user(p: &Probe) -> Outcome {
    let Probe { expect, f, ran, .. } = *p;
    let id = |s: &str| p.id(s);
    let not_run = NOT_RUN;
    // User.
    let user_title = "the sandbox runs as the configured uid";
    let uid = f
        .status
        .get("Uid")
        .and_then(|u| u.split_whitespace().next())
        .and_then(|u| u.parse::<u32>().ok());
    if !ran {
        Outcome::skip(id("user"), Group::Live, user_title, not_run)
    } else {
        match (uid, expect.uid) {
            (None, _) => Outcome::fail(id("user"), Group::Live, user_title, "positive control failed: the Uid line of /proc/self/status was not read"),
            (Some(u), None) => Outcome::skip(id("user"), Group::Live, user_title, format!("runs as uid {u}; {} cannot be compared numerically", expect.uid_source)),
            (Some(u), Some(want)) if u == want => Outcome::pass(id("user"), Group::Live, user_title, format!("uid {u} ({})", expect.uid_source)),
            (Some(u), Some(want)) => (Outcome::fail(id("user"), Group::Live, user_title, format!("runs as uid {u}, expected {want} ({})", expect.uid_source)))
                .fix("check agents.defaults.sandbox.docker.user against the engine (rootless Docker: \"0:0\"; rootful: your uid:gid)"),
        }
    }
}

fn judge_limits(spec: &ProbeSpec, f: &Findings, ran: bool, id: &str, run: &Run) -> Outcome {
    let title = "the configured pids/memory/cpu limits are in effect";
    if spec.pids_limit.is_none() && spec.memory.is_none() && spec.nano_cpus.is_none() {
        return Outcome::skip(
            id,
            Group::Live,
            title,
            "the config sets no limits (OpenClaw's default is none)",
        );
    }
    if !ran {
        return Outcome::skip(
            id,
            Group::Live,
            title,
            "the probe did not run (see live.container)",
        );
    }
    let read = |v1: &str, v2: &str| f.cgroup.get(v1).or_else(|| f.cgroup.get(v2)).cloned();
    let mut missing = Vec::new();
    let mut wrong = Vec::new();
    let mut good = Vec::new();
    if let Some(want) = spec.pids_limit {
        match read("pids/pids.max", "pids.max") {
            Some(v) if v.parse::<i64>().ok() == Some(want) => good.push(format!("pids {want}")),
            Some(v) if v == "max" => missing.push(format!("pids (want {want}, found unlimited)")),
            Some(v) => wrong.push(format!("pids: want {want}, found {v}")),
            None => missing.push(format!("pids (want {want}, no pids controller)")),
        }
    }
    if let Some(want) = spec.memory {
        match read("memory/memory.limit_in_bytes", "memory.max") {
            Some(v) if v.parse::<i64>().ok() == Some(want) => {
                good.push(format!("memory {want} bytes"))
            }
            // cgroup v1 reports "unlimited" as a page-rounded huge number, v2 as "max".
            Some(v) if v == "max" || v.parse::<i64>().is_ok_and(|n| n >= 1 << 62) => {
                missing.push(format!("memory (want {want}, found unlimited)"))
            }
            Some(v) => wrong.push(format!("memory: want {want}, found {v}")),
            None => missing.push(format!("memory (want {want}, no memory controller)")),
        }
    }
    if let Some(want) = spec.nano_cpus {
        let v1 = (
            f.cgroup.get("cpu/cpu.cfs_quota_us"),
            f.cgroup.get("cpu/cpu.cfs_period_us"),
        );
        let got = match (v1, f.cgroup.get("cpu.max")) {
            ((Some(q), Some(p)), _) => Some((q.clone(), p.clone())),
            (_, Some(m)) => m
                .split_once(' ')
                .map(|(q, p)| (q.to_string(), p.to_string())),
            _ => None,
        };
        match got {
            Some((q, p)) => match (q.parse::<i64>(), p.parse::<i64>()) {
                (Ok(q), Ok(p))
                    if q > 0 && p > 0 && (q * 1_000_000_000 / p - want).abs() <= 1_000_000 =>
                {
                    good.push(format!("cpus {}", want as f64 / 1e9))
                }
                (Ok(q), _) if q < 0 => missing.push(format!(
                    "cpus (want {}, found unlimited)",
                    want as f64 / 1e9
                )),
                _ if q == "max" => missing.push(format!(
                    "cpus (want {}, found unlimited)",
                    want as f64 / 1e9
                )),
                _ => wrong.push(format!(
                    "cpus: want {}, found quota {q} / period {p}",
                    want as f64 / 1e9
                )),
            },
            None => missing.push(format!(
                "cpus (want {}, no cpu controller)",
                want as f64 / 1e9
            )),
        }
    }
    if !wrong.is_empty() {
        return Outcome::fail(
            id,
            Group::Live,
            title,
            format!("limits differ from the config: {}", wrong.join("; ")),
        );
    }
    if !missing.is_empty() {
        // Not a failure of the posture the config describes, but not proven either: the
        // engine (typically rootless on cgroup v1, or without systemd delegation) drops them.
        return Outcome::skip(id, Group::Live, title, format!("NOT in effect on this engine: {}", missing.join("; ")))
            .details(run.warnings.iter().map(|w| format!("engine warning: {w}")).collect())
            .fix("rootless engines enforce limits only on cgroup v2 with controllers delegated to your user (systemd `Delegate=`); see Docker's rootless docs, \"Limiting resources\"")
            .doc("gateway/sandboxing.md");
    }
    Outcome::pass(id, Group::Live, title, good.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::checks::Status;
    use serde_json::json;

    fn sandbox(edit: impl FnOnce(&mut serde_json::Value)) -> AgentSandbox {
        let mut c = json!({"agents": {"defaults": {"sandbox": {"mode": "all", "docker": {"network": "none", "readOnlyRoot": true, "capDrop": ["ALL"], "pidsLimit": 256, "memory": "1g", "cpus": 1, "user": "0:0"}}}}});
        edit(&mut c);
        expect::agent_sandbox(&c, "main")
    }

    const CLEAN: &str = "noise\nclawposture-probe.begin=1\nsysnet=lo\nnetdev=lo\nnetdev.read=1\nroute.header=1\nroute6.read=1\nroute6=lo 00000000000000000000000000000001 80\nstatus.Uid=0\nstatus.CapPrm=0000000000000000\nstatus.CapEff=0000000000000000\nstatus.CapBnd=0000000000000000\nstatus.CapAmb=0000000000000000\nstatus.NoNewPrivs=1\nmount=/ overlay ro,relatime\nmount=/tmp tmpfs rw,nosuid\nwrite.tmp=ok\nwrite.root=fail\ncgroup.pids/pids.max=256\ncgroup.memory/memory.limit_in_bytes=1073741824\ncgroup.cpu/cpu.cfs_quota_us=100000\ncgroup.cpu/cpu.cfs_period_us=100000\nclawposture-probe.end=1\n";

    fn run(stdout: &str) -> Run {
        Run {
            stdout: stdout.to_string(),
            ..Default::default()
        }
    }

    fn status(outs: &[Outcome], id: &str) -> Status {
        outs.iter()
            .find(|o| o.id == id)
            .map(|o| o.status)
            .unwrap_or_else(|| panic!("{id} missing"))
    }

    fn judged(sb: &AgentSandbox, stdout: &str) -> Vec<Outcome> {
        let target = Target {
            kind: EngineKind::Docker,
            rootless: true,
        };
        let spec = spec(&sb.docker, &sb.docker.image, target, "r1", 1, None);
        judge(
            sb,
            &spec,
            &run(stdout),
            &Expectation {
                uid: Some(0),
                uid_source: "docker.user 0:0".into(),
            },
            "",
        )
    }

    #[test]
    fn clean_output_passes_everything() {
        let outs = judged(&sandbox(|_| {}), CLEAN);
        for o in &outs {
            assert_eq!(o.status, Status::Pass, "{o:?}");
        }
    }

    #[test]
    fn each_negative_check_needs_its_positive_control() {
        let sb = sandbox(|_| {});
        let no_lo = CLEAN.replace("sysnet=lo\n", "");
        assert_eq!(status(&judged(&sb, &no_lo), "live.network"), Status::Fail);
        let no_route_table = CLEAN.replace("route.header=1\n", "");
        assert_eq!(
            status(&judged(&sb, &no_route_table), "live.network"),
            Status::Fail
        );
        let no_tmp = CLEAN.replace("write.tmp=ok", "write.tmp=fail");
        assert_eq!(status(&judged(&sb, &no_tmp), "live.rootfs"), Status::Fail);
        let no_caps = CLEAN.replace("status.CapEff=0000000000000000\n", "");
        assert_eq!(
            status(&judged(&sb, &no_caps), "live.capabilities"),
            Status::Fail
        );
        let no_end = CLEAN.replace("clawposture-probe.end=1\n", "");
        let outs = judged(&sb, &no_end);
        assert_eq!(status(&outs, "live.container"), Status::Fail);
        assert_eq!(status(&outs, "live.network"), Status::Skipped);
    }

    #[test]
    fn network_rootfs_and_caps_failures_are_seen_inside() {
        let sb = sandbox(|_| {});
        let eth = CLEAN
            .replace("sysnet=lo\n", "sysnet=lo\nsysnet=eth0\n")
            .replace(
                "route.header=1\n",
                "route.header=1\nroute=eth0 00000000 0100A8C0 0003\n",
            );
        let outs = judged(&sb, &eth);
        assert_eq!(status(&outs, "live.network"), Status::Fail);
        assert!(
            outs[1].reason.contains("eth0") && outs[1].reason.contains("default route"),
            "{}",
            outs[1].reason
        );
        let rw = CLEAN
            .replace("mount=/ overlay ro,relatime", "mount=/ overlay rw,relatime")
            .replace("write.root=fail", "write.root=ok");
        assert_eq!(status(&judged(&sb, &rw), "live.rootfs"), Status::Fail);
        let caps = CLEAN.replace(
            "status.CapBnd=0000000000000000",
            "status.CapBnd=00000000a80425fb",
        );
        assert_eq!(
            status(&judged(&sb, &caps), "live.capabilities"),
            Status::Fail
        );
    }

    #[test]
    fn config_violations_fail_even_without_a_probe() {
        let bridge =
            sandbox(|c| c["agents"]["defaults"]["sandbox"]["docker"]["network"] = json!("bridge"));
        let outs = judged(&bridge, "");
        assert_eq!(status(&outs, "live.network"), Status::Fail);
        let writable = sandbox(|c| {
            c["agents"]["defaults"]["sandbox"]["docker"]["readOnlyRoot"] = json!(false)
        });
        assert_eq!(
            status(&judged(&writable, CLEAN), "live.rootfs"),
            Status::Fail
        );
        let caps = sandbox(|c| c["agents"]["defaults"]["sandbox"]["docker"]["capDrop"] = json!([]));
        assert_eq!(
            status(&judged(&caps, CLEAN), "live.capabilities"),
            Status::Fail
        );
    }

    #[test]
    fn dropped_limits_are_not_proven_and_wrong_ones_fail() {
        let sb = sandbox(|_| {});
        let unlimited = CLEAN
            .replace("cgroup.pids/pids.max=256\n", "")
            .replace("=1073741824", "=9223372036854771712")
            .replace("cpu.cfs_quota_us=100000", "cpu.cfs_quota_us=-1");
        let outs = judged(&sb, &unlimited);
        assert_eq!(status(&outs, "live.limits"), Status::Skipped);
        assert!(outs.last().unwrap().reason.contains("NOT in effect"));
        let wrong = CLEAN.replace("pids.max=256", "pids.max=512");
        assert_eq!(status(&judged(&sb, &wrong), "live.limits"), Status::Fail);
    }

    #[test]
    fn spec_mirrors_openclaw_and_podman_policy() {
        let sb =
            sandbox(|c| c["agents"]["defaults"]["sandbox"]["docker"]["user"] = json!("1000:1000"));
        let s = spec(
            &sb.docker,
            "img",
            Target {
                kind: EngineKind::Podman,
                rootless: true,
            },
            "r",
            7,
            None,
        );
        assert_eq!(s.tmpfs, ["/tmp", "/var/tmp"]);
        assert_eq!(s.userns_mode.as_deref(), Some("keep-id:uid=1000,gid=1000"));
        assert_eq!(s.memory, Some(1 << 30));
        assert_eq!(s.nano_cpus, Some(1_000_000_000));
        assert_eq!(s.security_opt, ["no-new-privileges"]);
        assert_eq!(s.labels.get(LABEL_PID).map(String::as_str), Some("7"));
        let d = spec(
            &sb.docker,
            "img",
            Target {
                kind: EngineKind::Docker,
                rootless: false,
            },
            "r",
            7,
            Some(5),
        );
        assert_eq!(d.tmpfs, ["/tmp", "/var/tmp", "/run"]);
        assert!(d.userns_mode.is_none());
        assert!(d.cmd[2].ends_with("sleep 5\n"));
        let root = sandbox(|_| {});
        assert!(
            spec(
                &root.docker,
                "img",
                Target {
                    kind: EngineKind::Podman,
                    rootless: true
                },
                "r",
                7,
                None
            )
            .refusal
            .is_some()
        );
        assert!(
            spec(
                &root.docker,
                "img",
                Target {
                    kind: EngineKind::Docker,
                    rootless: true
                },
                "r",
                7,
                None
            )
            .refusal
            .is_none()
        );
    }
}
