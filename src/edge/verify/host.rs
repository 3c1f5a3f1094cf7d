//! The running Gateway and host exec: where the Gateway really listens (from the kernel's
//! socket tables, not from the config), and whether OpenClaw's host exec-approvals document
//! widens the exec policy the preset wrote. Parsing and judging are pure; `read_*` are the
//! shell.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use serde_json::Value;

use crate::model::checks::{Group, Outcome};

/// Listening sockets in a `/proc/net/tcp` or `/proc/net/tcp6` table.
pub fn parse_listeners(table: &str) -> Vec<(IpAddr, u16)> {
    let mut out = Vec::new();
    for line in table.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 4 || f[3] != "0A" {
            continue;
        }
        let Some((addr, port)) = f[1].split_once(':') else {
            continue;
        };
        let Ok(port) = u16::from_str_radix(port, 16) else {
            continue;
        };
        // The kernel prints each 32-bit word of the address in host order (little-endian
        // on the machines this runs on).
        let words: Option<Vec<[u8; 4]>> = (0..addr.len() / 8)
            .map(|i| {
                u32::from_str_radix(&addr[i * 8..i * 8 + 8], 16)
                    .ok()
                    .map(u32::to_le_bytes)
            })
            .collect();
        let Some(words) = words else { continue };
        let ip = match words.len() {
            1 => IpAddr::V4(Ipv4Addr::from(words[0])),
            4 => {
                let mut b = [0u8; 16];
                for (i, w) in words.iter().enumerate() {
                    b[i * 4..i * 4 + 4].copy_from_slice(w);
                }
                IpAddr::V6(Ipv6Addr::from(b))
            }
            _ => continue,
        };
        out.push((ip, port));
    }
    out
}

fn loopback(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// Read both tables (an absent tcp6 table means no IPv6).
pub fn read_listeners() -> Result<Vec<(IpAddr, u16)>, String> {
    let v4 = std::fs::read_to_string("/proc/net/tcp")
        .map_err(|e| format!("cannot read /proc/net/tcp: {e}"))?;
    let v6 = std::fs::read_to_string("/proc/net/tcp6").unwrap_or_default();
    let mut all = parse_listeners(&v4);
    all.extend(parse_listeners(&v6));
    Ok(all)
}

pub fn judge_listen(
    port: u16,
    port_source: &str,
    listeners: &Result<Vec<(IpAddr, u16)>, String>,
) -> Outcome {
    let id = crate::model::check_ids::GATEWAY_LISTEN;
    let title = format!("the Gateway listens on loopback only (port {port}, {port_source})");
    let doc = "gateway/security/network-exposure.md";
    let all = match listeners {
        Ok(l) => l,
        Err(e) => return Outcome::skip(id, Group::Gateway, title, e.clone()),
    };
    let on_port: Vec<&IpAddr> = all
        .iter()
        .filter(|(_, p)| *p == port)
        .map(|(ip, _)| ip)
        .collect();
    if on_port.is_empty() {
        return Outcome::skip(
            id,
            Group::Gateway,
            title,
            format!(
                "nothing listens on port {port} in this network namespace (the Gateway is not running here)"
            ),
        );
    }
    let open: Vec<String> = on_port
        .iter()
        .filter(|ip| !loopback(ip))
        .map(|ip| ip.to_string())
        .collect();
    let shown: Vec<String> = on_port.iter().map(|ip| ip.to_string()).collect();
    if open.is_empty() {
        Outcome::pass(
            id,
            Group::Gateway,
            title,
            format!("listening on {} only", shown.join(", ")),
        )
        .doc(doc)
    } else {
        Outcome::fail(id, Group::Gateway, title, format!("listening on {}: reachable from the network", open.join(", ")))
            .fix("set gateway.bind to \"loopback\" (clawposture apply does) and restart the Gateway; check OPENCLAW_GATEWAY_PORT/--bind in the service definition")
            .doc(doc)
    }
}

/// Ways the approvals document lets more run than `tools.exec.mode` says. Host approvals can
/// only tighten the config's policy, except that a `full` host policy lets full-permission
/// sessions and elevated runs skip approval, and `askFallback: full` runs unanswered prompts.
pub fn widening(
    doc: &Value,
    default_mode: Option<&str>,
    agent_modes: &BTreeMap<String, String>,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut scope = |label: String, policy: &Value, mode: Option<&str>| {
        let get = |k: &str| policy.get(k).and_then(Value::as_str);
        let mode = mode.unwrap_or("full");
        if mode == "full" {
            return;
        }
        if get("security") == Some("full") {
            out.push(format!(
                "{label}: security \"full\"{} (the preset wrote tools.exec.mode \"{mode}\")",
                if get("ask") == Some("off") {
                    ", ask \"off\""
                } else {
                    ""
                }
            ));
        }
        if get("askFallback") == Some("full") && mode != "deny" {
            out.push(format!(
                "{label}: askFallback \"full\" runs a command when nobody answers the prompt"
            ));
        }
        if policy.get("autoAllowSkills").and_then(Value::as_bool) == Some(true) {
            out.push(format!(
                "{label}: autoAllowSkills allowlists every skill's binaries implicitly"
            ));
        }
        for entry in policy
            .get("allowlist")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let pattern = entry
                .as_str()
                .or_else(|| entry.get("pattern").and_then(Value::as_str))
                .unwrap_or("");
            if matches!(pattern.trim(), "*" | "**" | "/**" | "/*" | "~/**")
                && entry.get("argPattern").is_none()
            {
                out.push(format!(
                    "{label}: allowlist pattern `{pattern}` admits every command"
                ));
            }
        }
    };
    if let Some(d) = doc.get("defaults") {
        scope("defaults".into(), d, default_mode);
    }
    if let Some(agents) = doc.get("agents").and_then(Value::as_object) {
        for (id, policy) in agents {
            let mode = agent_modes.get(id).map(String::as_str).or(default_mode);
            scope(format!("agents.{id}"), policy, mode);
        }
    }
    out
}

/// Where an approvals document was looked for, and what was found there.
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalsSource {
    pub location: String,
    /// Ok(None): no document there.
    pub doc: Result<Option<Value>, String>,
}

pub fn judge_approvals(
    sources: &[ApprovalsSource],
    default_mode: Option<&str>,
    agent_modes: &BTreeMap<String, String>,
) -> Outcome {
    let id = crate::model::check_ids::GATEWAY_EXEC_APPROVALS;
    let title = format!(
        "OpenClaw's host exec approvals do not widen tools.exec.mode ({})",
        default_mode.unwrap_or("unset")
    );
    let doc = "tools/exec-approvals.md";
    let errors: Vec<String> = sources
        .iter()
        .filter_map(|s| s.doc.as_ref().err().map(|e| format!("{}: {e}", s.location)))
        .collect();
    let found: Vec<(&str, &Value)> = sources
        .iter()
        .filter_map(|s| {
            s.doc
                .as_ref()
                .ok()
                .and_then(Option::as_ref)
                .map(|d| (s.location.as_str(), d))
        })
        .collect();
    let mut problems = Vec::new();
    for (loc, d) in &found {
        for w in widening(d, default_mode, agent_modes) {
            problems.push(format!("{loc}: {w}"));
        }
    }
    if !problems.is_empty() {
        return Outcome::fail(id, Group::Gateway, title, format!("{} widening setting(s) (onboarding seeds a full, no-ask policy)", problems.len()))
            .details(problems)
            .fix("export with `openclaw approvals get --json | jq '.file' > approvals.json`, change `security: \"full\"` to \"allowlist\", `askFallback` to \"deny\", drop wildcard entries, then `openclaw approvals set --file approvals.json`")
            .doc(doc);
    }
    if !errors.is_empty() {
        return Outcome::skip(id, Group::Gateway, title, errors.join("; "))
            .fix("check by hand: `openclaw approvals get --json`")
            .doc(doc);
    }
    if found.is_empty() {
        Outcome::pass(
            id,
            Group::Gateway,
            title,
            format!(
                "no approvals document ({}): tools.exec applies as written",
                sources
                    .iter()
                    .map(|s| s.location.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
        .doc(doc)
    } else {
        Outcome::pass(
            id,
            Group::Gateway,
            title,
            format!(
                "{} leaves the preset's policy as it is",
                found.iter().map(|(l, _)| *l).collect::<Vec<_>>().join(", ")
            ),
        )
        .doc(doc)
    }
}

/// The legacy `$STATE_DIR/exec-approvals.json` (doctor imports it into SQLite; until then it
/// is what the host reads).
pub fn read_legacy(state_dir: &Path) -> ApprovalsSource {
    let path = state_dir.join("exec-approvals.json");
    let doc = match std::fs::read_to_string(&path) {
        Ok(text) => jsonc_parser::parse_to_serde_value::<Value>(&text, &Default::default())
            .map(Some)
            .map_err(|e| format!("cannot parse: {e}")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.to_string()),
    };
    ApprovalsSource {
        location: path.display().to_string(),
        doc,
    }
}

/// The SQLite row `exec_approvals_config` in `$STATE_DIR/state/openclaw.sqlite`, read with the
/// `sqlite3` tool in read-only mode (clawposture links no SQLite).
pub fn read_sqlite(state_dir: &Path, timeout: std::time::Duration) -> ApprovalsSource {
    let db = state_dir.join("state").join("openclaw.sqlite");
    let location = format!("{}#exec_approvals_config", db.display());
    if !db.exists() {
        return ApprovalsSource {
            location,
            doc: Ok(None),
        };
    }
    let Ok(sqlite) = which::which("sqlite3") else {
        return ApprovalsSource {
            location,
            doc: Err(
                "the state database exists but the `sqlite3` tool is not installed to read it"
                    .into(),
            ),
        };
    };
    let argv = vec![
        sqlite.display().to_string(),
        "-readonly".into(),
        "-batch".into(),
        "-noheader".into(),
        db.display().to_string(),
        "SELECT raw_json FROM exec_approvals_config;".into(),
    ];
    let res = super::openclaw_cli::run(&argv, &[], Path::new("/"), timeout, "sqlite3");
    let doc = if res.rc == Some(0) {
        let text = res.stdout.trim();
        if text.is_empty() {
            Ok(None)
        } else {
            serde_json::from_str(text)
                .map(Some)
                .map_err(|e| format!("cannot parse the stored document: {e}"))
        }
    } else if res.stderr.contains("no such table") {
        Ok(None)
    } else {
        Err(format!(
            "sqlite3 failed: {}",
            res.error
                .clone()
                .unwrap_or_else(|| res.stderr.trim().to_string())
        ))
    };
    ApprovalsSource { location, doc }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::checks::Status;
    use serde_json::json;

    const TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:4965 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1 1 0\n   1: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0\n   2: 0100007F:4965 0100007F:C000 01 00000000:00000000 00:00000000 00000000  1000        0 3 1 0\n";
    const TCP6: &str = "  sl  local_address                         remote_address                        st\n   0: 00000000000000000000000001000000:4965 00000000000000000000000000000000:0000 0A 0\n   1: 00000000000000000000000000000000:4A25 00000000000000000000000000000000:0000 0A 0\n";

    #[test]
    fn parses_listeners() {
        let v4 = parse_listeners(TCP);
        assert_eq!(
            v4,
            vec![
                (IpAddr::from([127, 0, 0, 1]), 18789),
                (IpAddr::from([0, 0, 0, 0]), 8080)
            ]
        );
        let v6 = parse_listeners(TCP6);
        assert_eq!(v6[0], (IpAddr::V6(Ipv6Addr::LOCALHOST), 18789));
        assert_eq!(v6[1], (IpAddr::V6(Ipv6Addr::UNSPECIFIED), 18981));
    }

    #[test]
    fn listen_judgement() {
        let mut all = parse_listeners(TCP);
        all.extend(parse_listeners(TCP6));
        assert_eq!(
            judge_listen(18789, "config", &Ok(all.clone())).status,
            Status::Pass
        );
        assert_eq!(
            judge_listen(18981, "config", &Ok(all.clone())).status,
            Status::Fail
        );
        assert_eq!(
            judge_listen(19789, "config", &Ok(all)).status,
            Status::Skipped
        );
    }

    #[test]
    fn approvals_widening() {
        let none = BTreeMap::new();
        let seeded = json!({"version": 1, "defaults": {"security": "full", "ask": "off"}, "socket": {"token": "SECRET"}});
        let w = widening(&seeded, Some("ask"), &none);
        assert_eq!(w.len(), 1, "{w:?}");
        let out = judge_approvals(
            &[ApprovalsSource {
                location: "db".into(),
                doc: Ok(Some(seeded)),
            }],
            Some("ask"),
            &none,
        );
        assert_eq!(out.status, Status::Fail);
        assert!(!format!("{out:?}").contains("SECRET"));
        let tight = json!({"version": 1, "defaults": {"security": "allowlist", "ask": "on-miss", "askFallback": "deny"}, "agents": {"main": {"allowlist": [{"pattern": "/usr/bin/rg"}]}}});
        assert!(widening(&tight, Some("ask"), &none).is_empty());
        let wild = json!({"agents": {"group": {"allowlist": ["*"], "askFallback": "full"}}});
        let modes: BTreeMap<String, String> = [("group".to_string(), "deny".to_string())].into();
        let w = widening(&wild, Some("ask"), &modes);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            judge_approvals(
                &[ApprovalsSource {
                    location: "x".into(),
                    doc: Ok(None)
                }],
                Some("ask"),
                &none
            )
            .status
                == Status::Pass
        );
        assert!(
            judge_approvals(
                &[ApprovalsSource {
                    location: "x".into(),
                    doc: Err("no sqlite3".into())
                }],
                Some("ask"),
                &none
            )
            .status
                == Status::Skipped
        );
    }
}
