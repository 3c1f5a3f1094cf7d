//! Which preset (and which engine variant of it) a config holds, and which owned keys drifted
//! (pure). The answers the file was written with are read back from the file itself, so a
//! pinned owner or named groups do not count as drift.

use serde::Serialize;
use serde_json::Value;

use crate::domain::choice::{self, Advanced, ChannelId, Choice, Inputs};
use crate::domain::plan::{self, TokenState};
use crate::domain::preset::Preset;
use crate::model::environment::{Engine, EngineKind, Environment};

/// One owned key whose value differs from the preset's (values masked).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Drift {
    pub key: String,
    pub found: Option<Value>,
    pub wanted: Option<Value>,
}

/// Which preset a file holds, as the front ends show it: the name, whether exactly, and the
/// keys that drifted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recognition {
    pub preset: String,
    pub exact: bool,
    pub drift: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Recognized {
    pub preset: String,
    /// Every engine variant the file fits equally well (None: the no-engine variant).
    pub engines: Vec<Option<Engine>>,
    pub drift: Vec<Drift>,
    /// How many values the preset owns in this file.
    pub owned: usize,
    pub choice: Choice,
    /// The file as it would be if it held the preset exactly (what OpenClaw should report);
    /// None when it does (no drift): see [`Recognized::expected`].
    pub expected: Option<Value>,
}

impl Recognized {
    /// The file as it would be if it held the preset exactly; `file` is the value it was
    /// recognised in (a file with no drift is its own expectation: never copied).
    pub fn expected<'a>(&'a self, file: &'a Value) -> &'a Value {
        self.expected.as_ref().unwrap_or(file)
    }

    pub fn summary(&self) -> Recognition {
        Recognition {
            preset: self.preset.clone(),
            exact: self.drift.is_empty(),
            drift: self.drift.iter().map(|d| d.key.clone()).collect(),
        }
    }

    /// `Some(true)`: every variant that fits is rootless; `Some(false)`: none is; None: both
    /// fit (e.g. the Gateway runs as root, so rootful and rootless write the same user).
    pub fn rootless(&self) -> Option<bool> {
        let set: Vec<bool> = self.engines.iter().flatten().map(|e| e.rootless).collect();
        match (set.iter().any(|r| *r), set.iter().any(|r| !*r)) {
            (true, false) => Some(true),
            (false, true) => Some(false),
            _ => None,
        }
    }

    pub fn engine_label(&self) -> Option<String> {
        let labels: Vec<&str> = self
            .engines
            .iter()
            .map(|e| e.map(|e| e.label()).unwrap_or("none"))
            .collect();
        if labels.is_empty() {
            None
        } else {
            Some(labels.join(" or "))
        }
    }

    pub fn kind(&self) -> Option<EngineKind> {
        self.engines.iter().flatten().map(|e| e.kind).next()
    }
}

/// The answers a file was written with: the pinned owner, the group chats routed to the group
/// agent (or given their own `groups` entry) and the members allowed in groups.
pub fn infer_inputs(value: &Value) -> Inputs {
    let owner = value
        .pointer("/commands/ownerAllowFrom")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(Value::as_str)
        .and_then(|s| ChannelId::parse(s).ok());
    let mut groups: Vec<ChannelId> = Vec::new();
    // Each id once, in the order first seen (a set beside each list: `contains` on the list
    // was quadratic in the number of group chats).
    let mut seen: std::collections::HashSet<(bool, String, String)> = Default::default();
    let mut push = |list: &mut Vec<ChannelId>, c: ChannelId, members: bool| {
        if seen.insert((members, c.channel.clone(), c.id.clone())) {
            list.push(c);
        }
    };
    for b in value
        .get("bindings")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let m = b.get("match");
        let channel = m.and_then(|m| m.get("channel")).and_then(Value::as_str);
        let peer = m.and_then(|m| m.get("peer"));
        if let (Some(channel), Some(peer)) = (channel, peer)
            && peer.get("kind").and_then(Value::as_str) == Some("group")
            && let Some(id) = peer.get("id").and_then(Value::as_str)
        {
            push(
                &mut groups,
                ChannelId {
                    channel: channel.to_string(),
                    id: id.to_string(),
                },
                false,
            );
        }
    }
    let mut members = Vec::new();
    for channel in plan::channels_in(value) {
        let block = &value["channels"][&channel];
        for id in block
            .get("groups")
            .and_then(Value::as_object)
            .map(|m| m.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
        {
            if id != "*" {
                push(
                    &mut groups,
                    ChannelId {
                        channel: channel.clone(),
                        id,
                    },
                    false,
                );
            }
        }
        let owner_id = owner
            .as_ref()
            .filter(|o| o.channel == channel)
            .map(|o| o.id.clone());
        for m in block
            .get("groupAllowFrom")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if m != "*" && Some(m) != owner_id.as_deref() {
                push(
                    &mut members,
                    ChannelId {
                        channel: channel.clone(),
                        id: m.to_string(),
                    },
                    true,
                );
            }
        }
    }
    // The advanced settings (workspace access, sandbox network) are not read back: a hand edit
    // to `network: "bridge"` must show as drift, and the file cannot tell the two apart. A
    // deliberate choice is given to `recognize` instead (verify's flags, or apply's answers).
    Inputs {
        owner,
        groups,
        members,
        accept_risk: true,
        ..Inputs::default()
    }
}

/// Every environment a file may have been written for, as this user.
pub fn environments(uid: u32, gid: u32) -> Vec<Environment> {
    let mut out = vec![Environment {
        engine: None,
        uid,
        gid,
    }];
    for kind in [EngineKind::Docker, EngineKind::Podman] {
        for rootless in [false, true] {
            out.push(Environment {
                engine: Some(Engine { kind, rootless }),
                uid,
                gid,
            });
        }
    }
    out
}

struct Candidate {
    preset: String,
    engine: Option<Engine>,
    drift: Vec<Drift>,
    owned: usize,
    choice: Choice,
    expected: Option<Value>,
}

/// `keep`: keep the plan's new value as [`Candidate::expected`] (only the best candidate's is
/// wanted: each is a big file's whole value).
fn evaluate(text: &str, value: &mut Value, choice: Choice, keep: bool) -> Option<Candidate> {
    let token = || TokenState {
        env_file_has_token: true,
        ..TokenState::default()
    };
    let owned = crate::domain::ledger::Owned::default();
    // Only the changes and the new value are read: planned on the value (no syntax tree to
    // build and drop per candidate), in full only where that cannot be done exactly.
    let p = plan::plan_changes_read(text, value, &choice, &owned, token(), keep)
        .or_else(|_| plan::plan_read(Some(text), Some(&*value), &choice, &owned, token()))
        .ok()?;
    let drift = p
        .masked_changes()
        .into_iter()
        .map(|c| {
            // A literal token is drift, but its value must never be shown.
            if c.key == "gateway.auth.token" {
                Drift {
                    key: c.key,
                    found: Some(Value::String("(a literal token)".into())),
                    wanted: c.after,
                }
            } else {
                Drift {
                    key: c.key,
                    found: c.before,
                    wanted: c.after,
                }
            }
        })
        .collect();
    let owned = p.preset_keys;
    // The plan's new value (a big file's value: moved, not copied), kept only when it differs
    // from the file.
    let expected = (keep && !p.changes.is_empty()).then_some(p.new_value);
    Some(Candidate {
        preset: choice.preset.name.clone(),
        engine: choice.environment.engine,
        drift,
        owned,
        choice,
        expected,
    })
}

/// The preset (and engine variants) the file fits best. With `preset` or `environment` given,
/// only those are tried, and the best fit is returned however much it drifted; otherwise a
/// preset must hold more than half of its values to be recognised.
pub fn recognize(
    text: &str,
    presets: &[Preset],
    environments: &[Environment],
    preset: Option<&str>,
    advanced: Advanced,
) -> Option<Recognized> {
    let mut value = crate::domain::document::parse_value(text).ok()?;
    recognize_read(text, &mut value, presets, environments, preset, advanced)
}

/// [`recognize`] of a file whose value the caller has read already
/// (`document::parse_value(text)`). The value is lent: each candidate's plan changes it and
/// puts it back (a big file's value costs several times the file to copy).
pub fn recognize_read(
    text: &str,
    value: &mut Value,
    presets: &[Preset],
    environments: &[Environment],
    preset: Option<&str>,
    advanced: Advanced,
) -> Option<Recognized> {
    let inputs = std::sync::Arc::new(Inputs {
        workspace_access: advanced.workspace_access,
        sandbox_network: advanced.sandbox_network,
        ..infer_inputs(value)
    });
    // Plan only the candidates that can matter (planning is the cost): first those that can
    // fit (or all, when the preset is named), then the others whose drift could still equal
    // the best one's (they name the engines that fit as well). The lower bound is exact:
    // a candidate skipped here would have been dropped below.
    let channels = plan::channels_in(value);
    let mut later: Vec<(usize, Choice, usize)> = Vec::new();
    let mut found: Vec<(usize, Candidate)> = Vec::new();
    let choices = presets
        .iter()
        .filter(|p| preset.is_none_or(|name| p.name == name))
        .flat_map(|p| {
            environments
                .iter()
                .map(|env| choice::adjust_shared(p, env, &inputs))
        });
    for (i, c) in choices.enumerate() {
        match plan::drift_at_least(value, &channels, &c) {
            Some((missing, owned)) if preset.is_none() && missing * 2 >= owned => {
                later.push((i, c, missing));
            }
            _ => found.extend(evaluate(text, value, c, false).map(|c| (i, c))),
        }
    }
    let fits = |c: &Candidate| preset.is_some() || c.drift.len() * 2 < c.owned;
    if let Some(n) = found
        .iter()
        .filter(|(_, c)| fits(c))
        .map(|(_, c)| c.drift.len())
        .min()
    {
        for (i, c, missing) in later {
            if missing <= n {
                found.extend(evaluate(text, value, c, false).map(|c| (i, c)));
            }
        }
    }
    // In the order they were listed, as before: the first of equal fits is reported.
    found.sort_by_key(|(i, _)| *i);
    let cands: Vec<Candidate> = found.into_iter().map(|(_, c)| c).collect();
    let best = cands
        .iter()
        .filter(|c| fits(c))
        .min_by_key(|c| c.drift.len())?;
    let (name, n) = (best.preset.clone(), best.drift.len());
    let engines: Vec<Option<Engine>> = cands
        .iter()
        .filter(|c| c.preset == name && c.drift.len() == n)
        .map(|c| c.engine)
        .collect();
    let mut best = cands
        .into_iter()
        .find(|c| c.preset == name && c.drift.len() == n)?;
    // The file as the best fit wants it: planned again for that one candidate alone (none is
    // needed when nothing drifted: the file is its own expectation).
    if n > 0 {
        best.expected = evaluate(text, value, best.choice.clone(), true)?.expected;
    }
    Some(Recognized {
        preset: best.preset,
        engines,
        drift: best.drift,
        owned: best.owned,
        choice: best.choice,
        expected: best.expected,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn presets() -> Vec<Preset> {
        crate::domain::preset::builtin()
    }

    /// Recognise with the built-in presets and no advanced answers given.
    fn untold(text: &str, envs: &[Environment], preset: Option<&str>) -> Option<Recognized> {
        recognize(text, &presets(), envs, preset, Advanced::default())
    }

    fn written(threat: &str, engine: Option<Engine>, inputs: &Inputs, base: &str) -> String {
        let p = presets().into_iter().find(|p| p.name == threat).unwrap();
        let env = Environment {
            engine,
            uid: 1000,
            gid: 1000,
        };
        let choice = choice::adjust(&p, &env, inputs);
        plan::plan(
            Some(base),
            &choice,
            &Default::default(),
            TokenState::default(),
        )
        .unwrap()
        .new_text
    }

    /// An owner, a group and a member: every question of every preset answered.
    fn every_answer() -> Inputs {
        Inputs {
            owner: Some(ChannelId::parse("telegram:123").unwrap()),
            groups: vec![ChannelId::parse("telegram:-100").unwrap()],
            members: vec![ChannelId::parse("telegram:222").unwrap()],
            accept_risk: true,
            ..Inputs::default()
        }
    }

    #[test]
    fn recognises_each_preset_and_engine_exactly() {
        let inputs = every_answer();
        let base = r#"{"channels": {"telegram": {"botToken": {"source": "env", "provider": "default", "id": "T"}}}}"#;
        for threat in ["private", "group", "public"] {
            for engine in [
                Some(Engine {
                    kind: EngineKind::Docker,
                    rootless: true,
                }),
                Some(Engine {
                    kind: EngineKind::Podman,
                    rootless: false,
                }),
            ] {
                let text = written(threat, engine, &inputs, base);
                let r = untold(&text, &environments(1000, 1000), None).unwrap();
                assert_eq!(r.preset, threat);
                assert!(r.drift.is_empty(), "{threat} {engine:?}: {:?}", r.drift);
                assert_eq!(r.engines, vec![engine], "{threat}");
            }
        }
    }

    #[test]
    fn root_user_cannot_tell_rootful_from_rootless_docker() {
        let p = presets().into_iter().find(|p| p.name == "private").unwrap();
        let env = Environment {
            engine: Some(Engine {
                kind: EngineKind::Docker,
                rootless: false,
            }),
            uid: 0,
            gid: 0,
        };
        let text = plan::plan(
            None,
            &choice::adjust(&p, &env, &Inputs::default()),
            &Default::default(),
            TokenState::default(),
        )
        .unwrap()
        .new_text;
        let r = untold(&text, &environments(0, 0), None).unwrap();
        assert_eq!(r.engines.len(), 2);
        assert_eq!(r.rootless(), None);
        assert_eq!(r.kind(), Some(EngineKind::Docker));
    }

    #[test]
    fn drift_is_listed_by_key() {
        let mut v: Value = serde_json::from_str(&written(
            "private",
            Some(Engine {
                kind: EngineKind::Docker,
                rootless: true,
            }),
            &Inputs::default(),
            "",
        ))
        .unwrap();
        v["agents"]["defaults"]["sandbox"]["docker"]["network"] = json!("bridge");
        v["gateway"]["auth"]["token"] = json!("a-literal-token-that-is-long-enough");
        let text = serde_json::to_string_pretty(&v).unwrap();
        let r = untold(&text, &environments(1000, 1000), None).unwrap();
        let keys: Vec<&str> = r.drift.iter().map(|d| d.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "agents.defaults.sandbox.docker.network",
                "gateway.auth.token"
            ]
        );
        assert_eq!(r.drift[0].found, Some(json!("bridge")));
        assert!(!format!("{:?}", r.drift).contains("a-literal-token"));
        assert_eq!(
            r.expected(&v)["agents"]["defaults"]["sandbox"]["docker"]["network"],
            "none"
        );
    }

    #[test]
    fn a_deliberate_advanced_choice_is_not_drift_when_verify_is_told_it() {
        let chosen = Advanced {
            workspace_access: Some(choice::WorkspaceAccess::Rw),
            sandbox_network: Some(choice::SandboxNetwork::Bridge),
        };
        let engine = Some(Engine {
            kind: EngineKind::Docker,
            rootless: true,
        });
        let inputs = Inputs {
            workspace_access: chosen.workspace_access,
            sandbox_network: chosen.sandbox_network,
            ..Inputs::default()
        };
        let text = written("private", engine, &inputs, "");
        let envs = environments(1000, 1000);
        let told = recognize(&text, &presets(), &envs, None, chosen).unwrap();
        assert_eq!(told.preset, "private");
        assert!(told.drift.is_empty(), "{:?}", told.drift);
        // Not told: the same file is the private preset with two drifted keys.
        let r = untold(&text, &envs, None).unwrap();
        let keys: Vec<&str> = r.drift.iter().map(|d| d.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "agents.defaults.sandbox.workspaceAccess",
                "agents.defaults.sandbox.docker.network"
            ]
        );
    }

    #[test]
    fn unrelated_file_is_not_recognised_unless_forced() {
        let text = r#"{"gateway": {"bind": "lan"}}"#;
        assert!(untold(text, &environments(1000, 1000), None).is_none());
        let r = untold(text, &environments(1000, 1000), Some("private")).unwrap();
        assert!(!r.drift.is_empty());
    }

    /// Recognition plans on the value (no syntax tree): wherever it can, it must find what
    /// the full plan finds, for every preset, engine and kind of file.
    #[test]
    fn planning_on_the_value_finds_what_the_full_plan_finds() {
        let inputs = every_answer();
        let mut files: Vec<String> = [
            include_str!("../../tests/fixtures/configs/realistic-300.json5"),
            include_str!("../../tests/fixtures/configs/agent-weak-overrides.json5"),
            include_str!("../../tests/fixtures/configs/agent-override.json5"),
            include_str!("../../tests/fixtures/configs/binding-second-agent.json5"),
            include_str!("../../tests/fixtures/configs/commented.json5"),
            include_str!("../../tests/fixtures/configs/roster-explicit.json5"),
            include_str!("../../tests/fixtures/configs/legacy-list.json5"),
            include_str!("../../tests/fixtures/configs/include.json5"),
            include_str!("../../tests/fixtures/configs/channels.json"),
            r#"{channels: {telegram: {botToken: "123:abc", groups: {"-100": {}}}}, bindings: {}}"#,
            r#"{agents: {defaults: 3}, gateway: {auth: {token: "${T}"}}, tools: {elevated: {enabled: true}}}"#,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let base = files[0].clone();
        for p in presets() {
            files.push(written(&p.name, None, &inputs, &base));
        }
        let (mut dry, mut total) = (0, 0);
        for text in &files {
            let Ok(mut value) = crate::domain::document::parse_value(text) else {
                continue;
            };
            let read = value.to_string();
            let asked = infer_inputs(&value);
            for p in presets() {
                for env in environments(1000, 1000) {
                    for inputs in [&inputs, &asked] {
                        let c = choice::adjust(&p, &env, inputs);
                        let owned = Default::default();
                        let token = || TokenState {
                            env_file_has_token: true,
                            ..TokenState::default()
                        };
                        total += 1;
                        let on_value =
                            plan::plan_changes_read(text, &mut value, &c, &owned, token(), true);
                        // The value lent is given back as it was, keys in their order.
                        assert_eq!(value.to_string(), read, "{}", p.name);
                        let Ok(on_value) = on_value else {
                            continue;
                        };
                        dry += 1;
                        let full =
                            plan::plan_read(Some(text), Some(&value), &c, &owned, token()).unwrap();
                        assert_eq!(on_value.changes, full.changes, "{}", p.name);
                        assert_eq!(
                            (on_value.old_text.as_str(), on_value.new_text.as_str()),
                            ("", "")
                        );
                        // No change: the file's value, which the caller holds, is not copied.
                        let on_value_new = if on_value.changes.is_empty() {
                            assert_eq!(on_value.new_value, Value::Null);
                            &value
                        } else {
                            &on_value.new_value
                        };
                        assert_eq!(on_value_new, &full.new_value, "{}", p.name);
                        assert_eq!(
                            serde_json::to_string(on_value_new).unwrap(),
                            serde_json::to_string(&full.new_value).unwrap(),
                            "key order, {}",
                            p.name
                        );
                        assert_eq!(on_value.warnings, full.warnings);
                        assert_eq!(on_value.notes, full.notes);
                        assert_eq!(on_value.kept, full.kept);
                        assert_eq!(on_value.secrets, full.secrets);
                        assert_eq!(on_value.env_file, full.env_file);
                        assert_eq!(on_value.secret_moves, full.secret_moves);
                    }
                }
            }
        }
        // Most candidates are planned on the value; the rest (a legacy list, an include, a
        // removal) fall back to the full plan.
        assert!(dry * 2 > total, "{dry} of {total} planned on the value");
    }
}
