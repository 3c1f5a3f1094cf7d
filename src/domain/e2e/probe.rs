//! The probe command the scripted model asks `exec` to run, and the parse of its output.
//!
//! The script uses only shell built-ins and files under /proc (plus `rm`, when present, to
//! remove what it wrote): a minimal image (busybox with its applet links) is enough, and so is
//! the host, where a non-sandboxed session's `exec` runs.

use serde::{Deserialize, Serialize};

/// Every line of the probe's report starts with this word, so the report can be told apart
/// from anything OpenClaw adds around a tool's output.
pub const MARK: &str = "CPE2E";

/// The probe command. `host_marker` is a file that exists only on the host (in the run's
/// throwaway directory, which no sandbox mounts): seeing it proves the command ran there.
pub fn script(host_marker: &str) -> String {
    let m = MARK;
    let q = shell_quote(host_marker);
    [
        format!("m={m}"),
        "echo \"$m begin\"".to_string(),
        // Interfaces: /proc/net/dev (not /sys/class/net, which Podman bind-mounts from the host).
        "while IFS= read -r l; do case \"$l\" in *:*) n=\"${l%%:*}\"; echo \"$m if ${n##* }\";; esac; done < /proc/net/dev".to_string(),
        "while IFS= read -r l; do echo \"$m route $l\"; done < /proc/net/route".to_string(),
        "while IFS= read -r l; do case \"$l\" in Uid:*|Gid:*|CapEff:*|CapBnd:*|NoNewPrivs:*|Seccomp:*) echo \"$m status $l\";; esac; done < /proc/self/status".to_string(),
        "while IFS= read -r l; do echo \"$m uidmap $l\"; done < /proc/self/uid_map".to_string(),
        // Writes, each removed again; /tmp is the positive control (a tmpfs in every sandbox).
        "for d in /tmp / /workspace; do f=\"${d%/}/.cpe2e-$$\"; if ( : > \"$f\" ) 2>/dev/null; then echo \"$m write $d yes\"; rm -f \"$f\" 2>/dev/null; else echo \"$m write $d no\"; fi; done".to_string(),
        format!("if [ -e {q} ]; then echo \"$m host yes\"; else echo \"$m host no\"; fi"),
        "if [ -d /agent ]; then echo \"$m agent-mount yes\"; else echo \"$m agent-mount no\"; fi".to_string(),
        "echo \"$m pwd $(pwd)\"".to_string(),
        "for f in /workspace/* /workspace/.[!.]*; do [ -e \"$f\" ] && echo \"$m ws ${f#/workspace/}\"; done".to_string(),
        "echo \"$m end\"".to_string(),
    ]
    .join("\n")
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// What the probe reported (None/empty where a line is missing).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Probe {
    /// The report was complete (its `begin` and `end` lines were seen).
    pub complete: bool,
    pub interfaces: Vec<String>,
    pub routes: Vec<String>,
    pub uid: Option<String>,
    pub gid: Option<String>,
    pub uid_map: Vec<String>,
    pub cap_eff: Option<String>,
    pub cap_bnd: Option<String>,
    pub no_new_privs: Option<String>,
    pub seccomp: Option<String>,
    pub tmp_writable: Option<bool>,
    pub root_writable: Option<bool>,
    pub workspace_writable: Option<bool>,
    /// The run's host-only marker file was visible: the command ran on the host.
    pub on_host: Option<bool>,
    pub agent_mount: Option<bool>,
    pub pwd: Option<String>,
    pub workspace: Vec<String>,
}

fn yes(v: &str) -> Option<bool> {
    match v.trim() {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    }
}

/// Parse the probe's lines out of a tool result (None: no probe line at all, e.g. the call
/// was refused).
pub fn parse(text: &str) -> Option<Probe> {
    let mut p = Probe::default();
    let mut seen = false;
    let mut begun = false;
    let prefix = format!("{MARK} ");
    for raw in text.lines() {
        let Some(at) = raw.find(&prefix) else {
            continue;
        };
        let line = &raw[at + prefix.len()..];
        let (key, rest) = line.split_once(' ').unwrap_or((line, ""));
        let rest = rest.trim_end();
        match key {
            "begin" => {
                seen = true;
                begun = true;
            }
            "end" => p.complete = begun,
            "if" => p.interfaces.push(rest.trim().to_string()),
            "route" if !rest.starts_with("Iface") => p.routes.push(rest.to_string()),
            "uidmap" => p
                .uid_map
                .push(rest.split_whitespace().collect::<Vec<_>>().join(" ")),
            "status" => {
                let (k, v) = rest.split_once(':').unwrap_or((rest, ""));
                let first = v.split_whitespace().next().map(str::to_string);
                match k {
                    "Uid" => p.uid = first,
                    "Gid" => p.gid = first,
                    "CapEff" => p.cap_eff = first,
                    "CapBnd" => p.cap_bnd = first,
                    "NoNewPrivs" => p.no_new_privs = first,
                    "Seccomp" => p.seccomp = first,
                    _ => {}
                }
            }
            "write" => {
                let (dir, v) = rest.rsplit_once(' ').unwrap_or((rest, ""));
                let v = yes(v);
                match dir {
                    "/tmp" => p.tmp_writable = v,
                    "/" => p.root_writable = v,
                    "/workspace" => p.workspace_writable = v,
                    _ => {}
                }
            }
            "host" => p.on_host = yes(rest),
            "agent-mount" => p.agent_mount = yes(rest),
            "pwd" => p.pwd = Some(rest.to_string()),
            "ws" => p.workspace.push(rest.to_string()),
            _ => {}
        }
    }
    seen.then_some(p)
}

impl Probe {
    /// The capability set is empty (all hex digits zero).
    pub fn no_capabilities(&self) -> Option<bool> {
        self.cap_eff
            .as_deref()
            .map(|c| !c.is_empty() && c.chars().all(|d| d == '0'))
    }

    /// Interfaces other than loopback.
    pub fn non_loopback(&self) -> Vec<String> {
        self.interfaces
            .iter()
            .filter(|i| i.as_str() != "lo")
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_names_the_marker_quoted() {
        let s = script("/tmp/it's here");
        assert!(s.contains("'/tmp/it'\\''s here'"));
        assert!(s.starts_with("m=CPE2E"));
    }

    #[test]
    fn parses_a_sandbox_report() {
        let out = "Inter-|\nCPE2E begin\nCPE2E if lo\nCPE2E status Uid:\t1001\t1001\t1001\t1001\n\
                   CPE2E status CapEff:\t0000000000000000\nCPE2E status NoNewPrivs:\t1\n\
                   CPE2E status Seccomp:\t2\nCPE2E uidmap          0     100000      65536\n\
                   CPE2E write /tmp yes\nCPE2E write / no\nCPE2E write /workspace no\n\
                   CPE2E host no\nCPE2E agent-mount yes\nCPE2E pwd /workspace\nCPE2E ws AGENTS.md\nCPE2E end\n";
        let p = parse(out).expect("a report");
        assert!(p.complete);
        assert_eq!(p.interfaces, vec!["lo"]);
        assert_eq!(p.uid.as_deref(), Some("1001"));
        assert_eq!(p.no_capabilities(), Some(true));
        assert_eq!(p.no_new_privs.as_deref(), Some("1"));
        assert_eq!(p.uid_map, vec!["0 100000 65536"]);
        assert_eq!(
            (p.tmp_writable, p.root_writable, p.workspace_writable),
            (Some(true), Some(false), Some(false))
        );
        assert_eq!(p.on_host, Some(false));
        assert_eq!(p.workspace, vec!["AGENTS.md"]);
        assert!(p.non_loopback().is_empty());
    }

    #[test]
    fn a_refusal_is_no_report_and_a_cut_report_is_incomplete() {
        assert_eq!(parse("Unknown tool id: exec"), None);
        let p = parse("CPE2E begin\nCPE2E if lo\nCPE2E if eth0\n").expect("partial");
        assert!(!p.complete);
        assert_eq!(p.non_loopback(), vec!["eth0"]);
        assert_eq!(
            parse("CPE2E begin\nCPE2E status CapEff:\t00000000a80425fb\n")
                .and_then(|p| p.no_capabilities()),
            Some(false)
        );
    }
}
