//! The threat model as invariants (data: `presets/invariants.toml`), and their evaluation over a
//! parsed config (pure): every agent (`agents.defaults` merged with each `agents.entries.<id>`,
//! as OpenClaw resolves it), every channel and account, the bindings that decide which agents
//! outsiders reach, and whole-config keys. The plan owns what it can fix and refuses the rest
//! (`domain::invariant_fixes`); verify reports every violation (`static.invariants`).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::Value;

use crate::domain::expect;

pub const SOURCE: &str = include_str!("../../presets/invariants.toml");

#[derive(Debug, Clone, Deserialize)]
struct File {
    reads: Vec<String>,
    threat: Vec<Threat>,
    tool_groups: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    agent: Vec<Rule>,
    #[serde(default)]
    channel: Vec<Rule>,
    #[serde(default)]
    global: Vec<Rule>,
}

#[derive(Debug, Clone, Deserialize)]
struct Threat {
    name: String,
    outsiders: Outsiders,
    #[serde(default)]
    always: Vec<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Outsiders {
    None,
    Bound,
    All,
}

/// Who reaches an agent.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Outsider,
}

#[derive(Debug, Clone, Deserialize)]
struct Rule {
    threats: Vec<String>,
    #[serde(default)]
    role: Option<Role>,
    key: String,
    #[serde(default)]
    allowed: Vec<toml::Value>,
    #[serde(default)]
    denied: Vec<String>,
    #[serde(default)]
    fix: Option<toml::Value>,
    #[serde(default)]
    default: Option<toml::Value>,
    #[serde(default)]
    engine: bool,
    why: String,
}

fn json(v: &toml::Value) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

fn file() -> &'static File {
    static FILE: OnceLock<File> = OnceLock::new();
    // The data is compiled in and parsed by a unit test, so an error is a build mistake: fall
    // back to no invariants rather than panicking in a user's run.
    FILE.get_or_init(|| {
        toml::from_str(SOURCE).unwrap_or(File {
            reads: Vec::new(),
            threat: Vec::new(),
            tool_groups: BTreeMap::new(),
            agent: Vec::new(),
            channel: Vec::new(),
            global: Vec::new(),
        })
    })
}

/// The top-level keys whose contents the invariants read.
pub fn reads() -> &'static [String] {
    &file().reads
}

/// What a violation is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    Agent(String),
    /// A channel block, or one of its accounts.
    Channel {
        channel: String,
        account: Option<String>,
    },
    Config,
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Agent(id) => write!(f, "agent `{id}`"),
            Subject::Channel {
                channel,
                account: None,
            } => write!(f, "channel `{channel}`"),
            Subject::Channel {
                channel,
                account: Some(a),
            } => write!(f, "channel `{channel}` account `{a}`"),
            Subject::Config => f.write_str("the config"),
        }
    }
}

/// One invariant the config breaks.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    pub subject: Subject,
    /// The invariant's key, as the data names it (`sandbox.mode`, `dmPolicy`, ...).
    pub invariant: String,
    pub role: Option<Role>,
    /// Where the effective value comes from (the key to change).
    pub key: Vec<String>,
    /// The effective value (None: unset, OpenClaw's default applies).
    pub found: Option<Value>,
    pub allowed: Vec<Value>,
    /// Tools the agent must deny and does not.
    pub missing_denies: Vec<String>,
    pub fix: Option<Value>,
    pub why: String,
    /// The binding that makes an agent an outsider agent (`bindings[2]`), if one does.
    pub via: Option<String>,
}

impl Violation {
    pub fn key_display(&self) -> String {
        crate::domain::keypath::display(&self.key)
    }

    /// One line: who, which invariant, what was found and what the threat needs.
    pub fn line(&self, threat: &str) -> String {
        let found = match (&self.found, self.missing_denies.is_empty()) {
            (_, false) => format!("does not deny {}", self.missing_denies.join(", ")),
            (Some(v), true) => format!("is {v}"),
            (None, true) => "is unset".to_string(),
        };
        let needs = if self.missing_denies.is_empty() {
            let allowed: Vec<String> = self.allowed.iter().map(Value::to_string).collect();
            format!("the {threat} threat needs {}", allowed.join(" or "))
        } else {
            format!("the {threat} threat needs them denied")
        };
        let via = self
            .via
            .as_ref()
            .map(|b| format!(" ({b} routes outsiders to it)"))
            .unwrap_or_default();
        format!(
            "{}{via}: {} {found} ({}); {needs}: {}",
            self.subject,
            self.invariant,
            self.key_display(),
            self.why
        )
    }

    /// How to fix it by hand.
    pub fn fix_hint(&self) -> String {
        if let Some(b) = &self.via {
            return format!(
                "route that traffic to an agent that meets the invariants (the group preset's `group` agent: --group <channel>:<id>), or remove {b}"
            );
        }
        if !self.missing_denies.is_empty() {
            return format!(
                "add {} to {}",
                self.missing_denies.join(", "),
                self.key_display()
            );
        }
        match &self.fix {
            Some(v) => format!("set {} to {v}", self.key_display()),
            None => format!("change {}", self.key_display()),
        }
    }
}

fn seg(s: &str) -> Vec<String> {
    s.split('.').map(str::to_string).collect()
}

fn path(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

fn get<'a>(v: &'a Value, p: &[String]) -> Option<&'a Value> {
    crate::domain::choice::get_in(v, p)
}

/// The agents OpenClaw runs for this config, with where each comes from.
pub fn agents(config: &Value) -> Vec<String> {
    expect::agents(config)
}

/// The agent's effective value for an agent-level key, and the key it comes from.
fn effective(config: &Value, agent: &str, key: &str) -> (Option<Value>, Vec<String>) {
    let own = |rest: &[&str]| {
        let mut p = path(&["agents", "entries", agent]);
        p.extend(rest.iter().map(|s| s.to_string()));
        p
    };
    let first = |candidates: Vec<Vec<String>>, default: Option<Value>| {
        for c in &candidates {
            if let Some(v) = get(config, c) {
                return (Some(v.clone()), c.clone());
            }
        }
        (default, candidates.last().cloned().unwrap_or_default())
    };
    match key {
        "sandbox.mode" | "sandbox.workspaceAccess" | "sandbox.docker.network" => {
            let sb = expect::agent_sandbox(config, agent);
            let rest: Vec<&str> = key.split('.').collect();
            let mut defaults = path(&["agents", "defaults"]);
            defaults.extend(rest.iter().map(|s| s.to_string()));
            let value = match key {
                "sandbox.mode" => sb.mode.clone(),
                "sandbox.workspaceAccess" => sb.workspace_access.clone(),
                _ => sb.docker.network.clone(),
            };
            // `docker` overrides are ignored under scope "shared" (expect resolves that).
            let from_own = get(config, &own(&rest)).is_some()
                && !(key == "sandbox.docker.network" && sb.scope == "shared");
            (
                Some(Value::String(value)),
                if from_own { own(&rest) } else { defaults },
            )
        }
        "tools.profile" => first(vec![own(&["tools", "profile"]), seg("tools.profile")], None),
        "tools.exec.mode" => {
            let own_exec = own(&["tools", "exec"]);
            let from_own = get(config, &own_exec)
                .is_some_and(|e| e.get("mode").is_some() || e.get("security").is_some());
            let at = if from_own {
                own(&["tools", "exec", "mode"])
            } else {
                seg("tools.exec.mode")
            };
            // OpenClaw's default host exec is `full` (no approvals).
            let mode = expect::exec_mode(config, Some(agent)).unwrap_or_else(|| "full".into());
            (Some(Value::String(mode)), at)
        }
        "tools.elevated.enabled" => {
            // No layer may turn it on: an agent can only narrow it, but an agent's `true`
            // comes back the moment the global switch does.
            let own_key = own(&["tools", "elevated", "enabled"]);
            if get(config, &own_key) == Some(&Value::Bool(true)) {
                return (Some(Value::Bool(true)), own_key);
            }
            first(vec![seg("tools.elevated.enabled")], Some(Value::Bool(true)))
        }
        "memory.search.enabled" => first(
            vec![own(&["memory", "search", "enabled"])],
            Some(Value::Bool(true)),
        ),
        other => first(vec![own(&other.split('.').collect::<Vec<_>>())], None),
    }
}

/// The tools an agent's deny lists (global and its own) deny, groups expanded.
fn denied_tools(config: &Value, agent: &str) -> Vec<String> {
    let groups = &file().tool_groups;
    let mut out = Vec::new();
    for p in [
        seg("tools.deny"),
        path(&["agents", "entries", agent, "tools", "deny"]),
    ] {
        for name in get(config, &p)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            let name = name.to_ascii_lowercase();
            match groups.get(&name) {
                Some(members) => out.extend(members.iter().cloned()),
                None => out.push(name),
            }
        }
    }
    out
}

/// Which agents outsiders reach under `threat`, each with the binding that routes them there
/// (None: the threat itself makes it an outsider agent).
pub fn outsider_agents(config: &Value, threat: &str) -> BTreeMap<String, Option<String>> {
    let mut out = BTreeMap::new();
    let Some(t) = file().threat.iter().find(|t| t.name == threat) else {
        return out;
    };
    match t.outsiders {
        Outsiders::None => {}
        Outsiders::All => {
            for a in agents(config) {
                out.insert(a, None);
            }
        }
        Outsiders::Bound => {
            let known = agents(config);
            for a in &t.always {
                if known.contains(a) {
                    out.insert(a.clone(), None);
                }
            }
            let owners: Vec<String> = config
                .pointer("/commands/ownerAllowFrom")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect();
            for (i, b) in config
                .get("bindings")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                let Some(agent) = b.get("agentId").and_then(Value::as_str) else {
                    continue;
                };
                let m = b.get("match");
                let channel = m
                    .and_then(|m| m.get("channel"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let Some(peer) = m.and_then(|m| m.get("peer")) else {
                    continue; // a channel-wide route: DMs, which the DM policy gates
                };
                let kind = peer.get("kind").and_then(Value::as_str).unwrap_or("");
                let id = peer.get("id").and_then(Value::as_str).unwrap_or("");
                let outsider = match kind {
                    "direct" | "dm" => !owners.iter().any(|o| *o == format!("{channel}:{id}")),
                    _ => true,
                };
                if outsider {
                    out.entry(agent.to_string())
                        .or_insert_with(|| Some(format!("bindings[{i}]")));
                }
            }
        }
    }
    out
}

fn applies(rule: &Rule, threat: &str, engine: bool) -> bool {
    rule.threats.iter().any(|t| t == threat) && (engine || !rule.engine)
}

/// The invariant keys the user's advanced answers decide (`--workspace-access`,
/// `--sandbox-network`): a deliberate, acknowledged choice, not a way around the preset.
pub fn waived(advanced: crate::domain::choice::Advanced) -> Vec<String> {
    let mut out = Vec::new();
    if advanced.workspace_access.is_some() {
        out.push("sandbox.workspaceAccess".to_string());
    }
    if advanced.sandbox_network.is_some() {
        out.push("sandbox.docker.network".to_string());
    }
    out
}

fn check(
    rule: &Rule,
    found: Option<Value>,
    key: Vec<String>,
    subject: Subject,
    fill: &dyn Fn(&str) -> String,
) -> Option<Violation> {
    let allowed: Vec<Value> = rule.allowed.iter().map(json).collect();
    let effective = found.clone().or_else(|| rule.default.as_ref().map(json));
    if effective.as_ref().is_some_and(|v| allowed.contains(v)) {
        return None;
    }
    Some(Violation {
        subject,
        invariant: rule.key.clone(),
        role: rule.role,
        key,
        found: effective,
        allowed,
        missing_denies: Vec::new(),
        fix: rule.fix.as_ref().map(json),
        why: fill(&rule.why),
        via: None,
    })
}

/// Every invariant of `threat` that `config` breaks. `engine`: a container engine runs the
/// sandbox (the sandbox invariants apply).
/// `waived`: invariant keys an advanced answer decides on purpose (see [`waived`]).
pub fn violations(config: &Value, threat: &str, engine: bool, waived: &[String]) -> Vec<Violation> {
    let mut out = Vec::new();
    each_violation(config, threat, engine, waived, |v| out.push(v));
    out
}

/// [`violations`] handed to `sink` one at a time, as they are found (a big file's agents break
/// thousands; a caller that keeps a line of each need not hold them all).
pub fn each_violation(
    config: &Value,
    threat: &str,
    engine: bool,
    waived: &[String],
    mut sink: impl FnMut(Violation),
) {
    let f = file();
    let outsiders = outsider_agents(config, threat);
    for agent in agents(config) {
        let (role, via) = match outsiders.get(&agent) {
            Some(via) => (Role::Outsider, via.clone()),
            None => (Role::Owner, None),
        };
        let fill = |s: &str| s.replace("{agent}", &agent);
        for rule in f.agent.iter().filter(|r| applies(r, threat, engine)) {
            if rule.role != Some(role) || waived.contains(&rule.key) {
                continue;
            }
            let found = if rule.denied.is_empty() {
                let (value, key) = effective(config, &agent, &rule.key);
                check(rule, value, key, Subject::Agent(agent.clone()), &fill)
            } else {
                let denied = denied_tools(config, &agent);
                let missing: Vec<String> = rule
                    .denied
                    .iter()
                    .filter(|t| !denied.contains(t) && !denied.iter().any(|d| d == "*"))
                    .cloned()
                    .collect();
                (!missing.is_empty()).then(|| Violation {
                    subject: Subject::Agent(agent.clone()),
                    invariant: rule.key.clone(),
                    role: Some(role),
                    key: path(&["agents", "entries", &agent, "tools", "deny"]),
                    found: None,
                    allowed: Vec::new(),
                    missing_denies: missing,
                    fix: None,
                    why: fill(&rule.why),
                    via: None,
                })
            };
            if let Some(mut v) = found {
                v.via = via.clone();
                sink(v);
            }
        }
    }
    for channel in crate::domain::plan::channels_in(config) {
        let block = &config["channels"][&channel];
        let mut scopes: Vec<Option<String>> = vec![None];
        if let Some(accounts) = block.get("accounts").and_then(Value::as_object) {
            scopes.extend(
                accounts
                    .iter()
                    .filter(|(_, v)| v.is_object())
                    .map(|(k, _)| Some(k.clone())),
            );
        }
        for account in scopes {
            let fill = |s: &str| s.replace("{channel}", &channel);
            for rule in f.channel.iter().filter(|r| applies(r, threat, engine)) {
                let chan_key = path(&["channels", &channel, &rule.key]);
                let mut candidates = Vec::new();
                if let Some(a) = &account {
                    candidates.push(path(&["channels", &channel, "accounts", a, &rule.key]));
                }
                candidates.push(chan_key.clone());
                candidates.push(path(&["channels", "defaults", &rule.key]));
                let hit = candidates
                    .iter()
                    .find_map(|c| get(config, c).map(|v| (v.clone(), c.clone())));
                // An account without its own value inherits the channel's: judged there once.
                if account.is_some() && hit.as_ref().is_none_or(|(_, c)| c.len() < 5) {
                    continue;
                }
                let (found, key) = match hit {
                    Some((v, k)) => (Some(v), k),
                    None => (None, chan_key),
                };
                let subject = Subject::Channel {
                    channel: channel.clone(),
                    account: account.clone(),
                };
                if let Some(v) = check(rule, found, key, subject, &fill) {
                    sink(v);
                }
            }
        }
    }
    for rule in f.global.iter().filter(|r| applies(r, threat, engine)) {
        let key = seg(&rule.key);
        let found = get(config, &key).cloned();
        if let Some(v) = check(rule, found, key, Subject::Config, &|s: &str| s.to_string()) {
            sink(v);
        }
    }
}

/// The role of each agent under `threat` (for messages and tests).
pub fn role_of(config: &Value, threat: &str, agent: &str) -> Role {
    if outsider_agents(config, threat).contains_key(agent) {
        Role::Outsider
    } else {
        Role::Owner
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_data_parses_and_names_every_threat() {
        let f: File = toml::from_str(SOURCE).expect("presets/invariants.toml parses");
        let names: Vec<&str> = f.threat.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["private", "group", "public"]);
        for r in f.agent.iter().chain(&f.channel).chain(&f.global) {
            assert!(
                !r.allowed.is_empty() || !r.denied.is_empty(),
                "{} has nothing to check",
                r.key
            );
            if r.denied.is_empty() {
                let fix = r.fix.as_ref().map(json).expect("a fix");
                assert!(r.allowed.iter().map(json).any(|a| a == fix), "{}", r.key);
            }
        }
    }

    fn public_ok() -> Value {
        json!({
            "session": {"dmScope": "per-channel-peer"},
            "agents": {"defaults": {"sandbox": {"mode": "all", "workspaceAccess": "none",
                                                "docker": {"network": "none"}}},
                       "entries": {"main": {"memory": {"search": {"enabled": false}}}}},
            "tools": {"profile": "messaging", "exec": {"mode": "deny"},
                      "elevated": {"enabled": false},
                      "deny": ["group:runtime", "group:fs", "group:automation", "group:nodes",
                               "group:ui", "group:memory", "group:web"]},
            "channels": {"telegram": {"dmPolicy": "open", "groupPolicy": "open"}},
        })
    }

    #[test]
    fn a_public_config_holds_and_each_override_is_named() {
        assert_eq!(violations(&public_ok(), "public", true, &[]), vec![]);
        let mut v = public_ok();
        v["agents"]["entries"]["work"] = json!({
            "sandbox": {"mode": "off"},
            "tools": {"profile": "full", "exec": {"mode": "full"}, "elevated": {"enabled": true}},
        });
        let found = violations(&v, "public", true, &[]);
        let keys: Vec<String> = found.iter().map(Violation::key_display).collect();
        for k in [
            "agents.entries.work.sandbox.mode",
            "agents.entries.work.tools.profile",
            "agents.entries.work.tools.exec.mode",
            "agents.entries.work.tools.elevated.enabled",
            "agents.entries.work.memory.search.enabled",
        ] {
            assert!(keys.iter().any(|x| x == k), "{k} not in {keys:?}");
        }
        let line = found[0].line("public");
        assert!(line.contains("agent `work`"), "{line}");
        assert!(line.contains("unsandboxed for strangers"), "{line}");
        // Without an engine the sandbox invariants do not apply; the tool policy ones do.
        let found = violations(&v, "public", false, &[]);
        assert!(
            found.iter().all(|x| !x.invariant.starts_with("sandbox")),
            "{found:?}"
        );
        assert!(!found.is_empty());
    }

    #[test]
    fn channels_accounts_and_dm_scope_are_judged() {
        let v = json!({
            "channels": {"telegram": {"dmPolicy": "allowlist", "groupPolicy": "disabled",
                "accounts": {"alt": {"dmPolicy": "open"}, "quiet": {}}}},
            "session": {"dmScope": "main"},
        });
        let channel = |found: Vec<Violation>| -> Vec<Violation> {
            found
                .into_iter()
                .filter(|x| matches!(x.subject, Subject::Channel { .. }))
                .collect()
        };
        let found = channel(violations(&v, "private", false, &[]));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0].key_display(),
            "channels.telegram.accounts.alt.dmPolicy"
        );
        let found = violations(&v, "group", false, &[]);
        assert!(
            found
                .iter()
                .any(|x| x.key_display() == "session.dmScope" && x.subject == Subject::Config)
        );
        // An unset groupPolicy is OpenClaw's default, allowlist: not private.
        let v = json!({"channels": {"telegram": {"dmPolicy": "pairing"}}});
        let found = channel(violations(&v, "private", false, &[]));
        assert_eq!(found[0].found, Some(json!("allowlist")));
    }

    #[test]
    fn a_binding_makes_an_agent_an_outsider_agent() {
        let v = json!({
            "commands": {"ownerAllowFrom": ["telegram:1"]},
            "agents": {"entries": {"main": {}, "work": {"sandbox": {"mode": "off"}}}},
            "bindings": [
                {"agentId": "main", "match": {"channel": "telegram"}},
                {"agentId": "main", "match": {"channel": "telegram",
                                              "peer": {"kind": "direct", "id": "1"}}},
                {"agentId": "work", "match": {"channel": "telegram",
                                              "peer": {"kind": "group", "id": "-100"}}},
            ],
        });
        let o = outsider_agents(&v, "group");
        assert_eq!(o.len(), 1, "{o:?}");
        assert_eq!(o["work"], Some("bindings[2]".to_string()));
        assert_eq!(role_of(&v, "group", "main"), Role::Owner);
        let found = violations(&v, "group", true, &[]);
        let w: Vec<&Violation> = found
            .iter()
            .filter(|x| x.subject == Subject::Agent("work".into()))
            .collect();
        assert!(w.iter().all(|x| x.via.as_deref() == Some("bindings[2]")));
        assert!(w.iter().any(|x| x.invariant == "tools.deny"));
        // Under private nobody else reaches any agent: the binding changes no role.
        assert!(outsider_agents(&v, "private").is_empty());
    }
}
