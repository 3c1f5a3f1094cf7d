//! The preset is a floor for every agent, not only for the defaults: an
//! `agents.entries.<id>.sandbox.mode` weaker than what the preset wants for that agent would
//! run it unsandboxed where the preset sandboxes (OpenClaw applies per-agent overrides key by
//! key over `agents.defaults`). The plan raises such an override to the floor, naming the
//! agent; a stricter override is the user's and stays.

use serde_json::Value;

use crate::domain::choice::{Desired, Leaf};

/// OpenClaw's sandbox modes, least strict first.
pub const SANDBOX_MODES: [&str; 3] = ["off", "non-main", "all"];

fn rank(mode: &str) -> Option<usize> {
    SANDBOX_MODES.iter().position(|m| *m == mode)
}

fn path(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

/// The value the preset wants at `at`, whether a leaf sets it or an object leaf above it does.
fn wanted_at<'a>(want: &'a Desired, at: &[String]) -> Option<&'a Value> {
    want.leaves.iter().find_map(|l| {
        let rest = at.strip_prefix(l.path.as_slice())?;
        crate::domain::choice::get_in(l.value.as_ref()?, rest)
    })
}

/// The leaves that raise each agent's weaker sandbox mode to the preset's, for the agents the
/// file lists (`value` after any `agents.list` migration).
pub fn sandbox_floors(value: &Value, want: &Desired) -> Vec<Leaf> {
    let Some(default_floor) = wanted_at(want, &path(&["agents", "defaults", "sandbox", "mode"]))
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        return Vec::new();
    };
    let Some(entries) = value.pointer("/agents/entries").and_then(Value::as_object) else {
        return Vec::new();
    };
    // The leaves that can decide a key under `agents.entries.<id>`: those above every agent,
    // and each agent's own (looking through every leaf for each agent was quadratic).
    let mut above: Vec<usize> = Vec::new();
    let mut by_agent: std::collections::HashMap<&str, Vec<usize>> = Default::default();
    for (i, l) in want.leaves.iter().enumerate() {
        let p = &l.path;
        let on_way = p.iter().zip(["agents", "entries"]).all(|(a, b)| a == b);
        match p.get(2) {
            _ if !on_way => {}
            None => above.push(i),
            Some(id) => by_agent.entry(id.as_str()).or_default().push(i),
        }
    }
    let mut out = Vec::new();
    for (id, entry) in entries {
        let Some(mode) = entry.pointer("/sandbox/mode").and_then(Value::as_str) else {
            continue; // inherits the defaults, which the preset sets
        };
        let at = path(&["agents", "entries", id, "sandbox", "mode"]);
        let set_here = above
            .iter()
            .chain(by_agent.get(id.as_str()).into_iter().flatten())
            .any(|&i| {
                let l = &want.leaves[i];
                at.strip_prefix(l.path.as_slice())
                    .zip(l.value.as_ref())
                    .is_some_and(|(rest, v)| crate::domain::choice::get_in(v, rest).is_some())
            });
        if set_here {
            continue; // the preset sets this agent's mode itself (the group agent)
        }
        let floor = &default_floor;
        if let (Some(have), Some(need)) = (rank(mode), rank(floor))
            && have < need
        {
            out.push(Leaf {
                path: at,
                value: Some(Value::String(floor.clone())),
                why: format!(
                    "Agent `{id}` overrides the sandbox with mode \"{mode}\", weaker than the {} preset's \"{floor}\": it would run unsandboxed where the preset sandboxes.",
                    want.preset
                ),
                doc: "gateway/sandboxing.md".into(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn want(mode: &str) -> Desired {
        Desired {
            preset: "public".into(),
            // As the built-in presets write it: one object leaf for the whole sandbox block.
            leaves: vec![Leaf {
                path: path(&["agents", "defaults", "sandbox"]),
                value: Some(json!({"mode": mode, "scope": "agent"})),
                why: String::new(),
                doc: String::new(),
            }],
            bindings: Vec::new(),
        }
    }

    #[test]
    fn a_weaker_agent_is_raised_a_stricter_or_inheriting_one_is_left() {
        let v = json!({"agents": {"entries": {
            "work": {"sandbox": {"mode": "off"}, "tools": {"profile": "full"}},
            "strict": {"sandbox": {"mode": "all"}},
            "plain": {"workspace": "~/w"},
        }}});
        let floors = sandbox_floors(&v, &want("non-main"));
        assert_eq!(floors.len(), 1, "{floors:?}");
        assert_eq!(
            floors[0].path,
            path(&["agents", "entries", "work", "sandbox", "mode"])
        );
        assert_eq!(floors[0].value, Some(json!("non-main")));
        assert!(floors[0].why.contains("`work`"));
        // No engine: the preset's own floor is "off", so nothing is raised.
        assert!(sandbox_floors(&v, &want("off")).is_empty());
    }
}
