//! The engine's CLI as OpenClaw uses it (`docker` or `podman`, same environment): facts, the
//! image checks, and the run's containers (found by the run's name prefix).

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use super::proc;
use crate::domain::e2e::evidence::{Container, EngineFacts};

const CALL: Duration = Duration::from_secs(60);

/// The engine CLI with the environment OpenClaw gets.
#[derive(Debug, Clone)]
pub struct Cli {
    pub program: String,
    pub env: Vec<(String, String)>,
}

impl Cli {
    pub fn call(&self, args: &[&str]) -> proc::Ran {
        proc::run(&self.argv(args), &self.env, Path::new("/"), CALL)
    }

    /// As [`Cli::call`], for the checks before a run: a stop signal cuts it short.
    fn check(&self, args: &[&str]) -> proc::Ran {
        proc::run_stoppable(&self.argv(args), &self.env, Path::new("/"), CALL)
    }

    fn argv(&self, args: &[&str]) -> Vec<String> {
        std::iter::once(self.program.clone())
            .chain(args.iter().map(|s| s.to_string()))
            .collect()
    }

    fn podman(&self) -> bool {
        self.program.ends_with("podman")
    }

    /// Rootless, cgroup version and driver (None where the engine does not say).
    pub fn facts(&self, endpoint: Option<String>) -> Result<EngineFacts, String> {
        let ran = if self.podman() {
            self.check(&["info", "--format", "json"])
        } else {
            self.check(&["info", "--format", "{{json .}}"])
        };
        if !ran.ok() {
            return Err(format!(
                "`{} info` failed: {}",
                self.program,
                proc::tail(ran.stderr.trim(), 3)
            ));
        }
        let v: Value = serde_json::from_str(ran.stdout.trim()).unwrap_or(Value::Null);
        let s = |p: &str| v.pointer(p).and_then(Value::as_str).map(str::to_string);
        let mut f = EngineFacts {
            cli: self.program.clone(),
            endpoint,
            ..EngineFacts::default()
        };
        if self.podman() {
            f.rootless = v
                .pointer("/host/security/rootless")
                .and_then(Value::as_bool);
            f.cgroup_version =
                s("/host/cgroupVersion").map(|c| c.trim_start_matches('v').to_string());
            f.cgroup_driver = s("/host/cgroupManager");
        } else {
            f.rootless = v.get("SecurityOptions").and_then(Value::as_array).map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .any(|o| o.contains("name=rootless"))
            });
            f.cgroup_version = s("/CgroupVersion");
            f.cgroup_driver = s("/CgroupDriver");
        }
        Ok(f)
    }

    /// Whether the image is there (OpenClaw never pulls it).
    pub fn image_present(&self, image: &str) -> Result<bool, String> {
        let ran = self.check(&["image", "inspect", "--format", "{{.Id}}", image]);
        if ran.ok() {
            return Ok(true);
        }
        let e = ran.stderr.to_ascii_lowercase();
        if e.contains("no such") || e.contains("not found") || e.contains("unknown image") {
            Ok(false)
        } else {
            Err(proc::tail(ran.stderr.trim(), 3))
        }
    }

    /// Whether the image can run OpenClaw's container (`sleep infinity`) and its commands
    /// (`/bin/sh -lc`): a throwaway container with no network, named with the run's prefix.
    pub fn image_runs(&self, image: &str, name: &str) -> Result<(), String> {
        let ran = self.check(&[
            "run",
            "--rm",
            "--name",
            name,
            "--network",
            "none",
            "--entrypoint",
            "/bin/sh",
            image,
            "-c",
            // A file on PATH, as exec(2) needs (a busybox shell may run applets without their
            // links, which `command -v` would count).
            "IFS=:; for d in $PATH; do [ -x \"$d/sleep\" ] && exit 0; done; echo 'no sleep on PATH in the image' >&2; exit 3",
        ]);
        if ran.ok() {
            Ok(())
        } else {
            let why = proc::tail(ran.stderr.trim(), 2);
            Err(if why.is_empty() {
                format!("exit code {:?}", ran.code)
            } else {
                why
            })
        }
    }

    /// The run's containers: named with `prefix` (the image check), or OpenClaw's sandbox
    /// containers whose bind mounts come from the run's directory `base` (OpenClaw shortens
    /// long name prefixes, so the name alone cannot find them).
    pub fn list(&self, prefix: &str, base: &Path) -> Vec<String> {
        let all = self.call(&["ps", "-a", "--format", "{{.Names}}"]);
        let mut found: Vec<String> = all
            .stdout
            .lines()
            .map(str::trim)
            .filter(|n| !prefix.is_empty() && n.starts_with(prefix))
            .map(str::to_string)
            .collect();
        let sandboxes = self.call(&[
            "ps",
            "-a",
            "--filter",
            "label=openclaw.sandbox",
            "--format",
            "{{.Names}}",
        ]);
        let names: Vec<&str> = sandboxes
            .stdout
            .lines()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .collect();
        if names.is_empty() {
            return found;
        }
        let mut args = vec![
            "inspect",
            "--format",
            "{{.Name}} {{range .Mounts}}{{.Source}} {{end}}",
        ];
        args.extend(names.iter().copied());
        let base = base.display().to_string();
        for line in self.call(&args).stdout.lines() {
            let mut words = line.split_whitespace();
            let Some(name) = words.next() else { continue };
            let name = name.trim_start_matches('/').to_string();
            if words.any(|src| src.starts_with(&base)) && !found.contains(&name) {
                found.push(name);
            }
        }
        found
    }

    pub fn inspect(&self, name: &str) -> Option<Container> {
        let ran = self.call(&["inspect", name]);
        let v: Value = serde_json::from_str(ran.stdout.trim()).ok()?;
        Some(container(name, v.get(0)?))
    }

    /// Remove every container with `prefix`; returns those still there afterwards.
    pub fn remove_all(&self, prefix: &str, base: &Path) -> Vec<String> {
        for _ in 0..3 {
            let names = self.list(prefix, base);
            if names.is_empty() {
                return names;
            }
            let mut args = vec!["rm", "-f"];
            args.extend(names.iter().map(String::as_str));
            let _ = self.call(&args);
        }
        self.list(prefix, base)
    }
}

/// The inspect fields of one container.
pub fn container(name: &str, v: &Value) -> Container {
    let strings = |p: &str| string_list(v.pointer(p));
    let binds = v
        .get("Mounts")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter(|m| m.get("Type").and_then(Value::as_str) == Some("bind"))
                .map(|m| {
                    let rw = m.get("RW").and_then(Value::as_bool).unwrap_or(false);
                    format!(
                        "{}:{}:{}",
                        m.get("Source").and_then(Value::as_str).unwrap_or(""),
                        m.get("Destination").and_then(Value::as_str).unwrap_or(""),
                        if rw { "rw" } else { "ro" }
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let labels = v
        .pointer("/Config/Labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter(|(k, _)| k.starts_with("openclaw"))
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                .collect()
        })
        .unwrap_or_default();
    Container {
        name: name.to_string(),
        network_mode: v
            .pointer("/HostConfig/NetworkMode")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        readonly_rootfs: v
            .pointer("/HostConfig/ReadonlyRootfs")
            .and_then(Value::as_bool),
        cap_drop: strings("/HostConfig/CapDrop"),
        effective_caps: v.get("EffectiveCaps").map(|c| string_list(Some(c))),
        security_opt: strings("/HostConfig/SecurityOpt"),
        user: v
            .pointer("/Config/User")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        binds,
        pids_limit: v.pointer("/HostConfig/PidsLimit").and_then(Value::as_i64),
        memory: v.pointer("/HostConfig/Memory").and_then(Value::as_i64),
        nano_cpus: v.pointer("/HostConfig/NanoCpus").and_then(Value::as_i64),
        labels,
    }
}

/// The strings of a JSON array (none when it is absent or not an array).
fn string_list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}
