//! What the plan owns so the threat model's invariants hold for every agent and account, not
//! only for the defaults the preset writes (pure). Given the file as the preset's leaves leave
//! it, each violation that lives in a per-agent override or a per-account channel policy gets
//! a leaf (set in the diff, with the reason: "agent `work` would run unsandboxed for
//! strangers"). What cannot be owned safely (an agent that a user's binding routes outsiders
//! to) is left for [`refusals`], which the application layer turns into exit 4 naming the key
//! and the fix.

use serde_json::Value;

use crate::domain::choice::{Desired, Leaf, set_in};
use crate::domain::invariants::{self, Subject, Violation};

/// The file as `want`'s leaves would leave it, copied: the model [`fixes`]'s projection in
/// place is held to.
#[cfg(test)]
fn projected<'v>(value: &'v Value, want: &Desired) -> std::borrow::Cow<'v, Value> {
    if holds_all(value, want) {
        return std::borrow::Cow::Borrowed(value);
    }
    let mut v = value.clone();
    for leaf in &want.leaves {
        set_in(&mut v, &leaf.path, leaf.value.clone());
    }
    std::borrow::Cow::Owned(v)
}

fn holds_all(value: &Value, want: &Desired) -> bool {
    want.leaves
        .iter()
        .all(|l| crate::domain::choice::get_in(value, &l.path) == l.value.as_ref())
}

/// How to put back one change [`set_logged`] made.
#[derive(Debug)]
pub enum Undo {
    /// The value at the path was replaced: this was there.
    Put(Vec<String>, Value),
    /// The key at the path was added.
    Added(Vec<String>),
    /// The key at the path was removed: it stood at this index of its object.
    Removed(Vec<String>, usize, Value),
}

/// [`set_in`], with what it changed logged for [`undo`]: the value it replaced or removed is
/// moved into the log, not copied, and nothing below a key it adds is logged.
pub fn set_logged(root: &mut Value, path: &[String], value: Option<Value>, log: &mut Vec<Undo>) {
    let Some((last, parents)) = path.split_last() else {
        if let Some(v) = value {
            log.push(Undo::Put(Vec::new(), std::mem::replace(root, v)));
        }
        return;
    };
    let mut cur = root;
    for (depth, seg) in parents.iter().enumerate() {
        if !cur.is_object() {
            // Replaced whole: putting the old value back undoes everything below.
            let old = std::mem::replace(cur, Value::Object(serde_json::Map::new()));
            log.push(Undo::Put(path[..depth].to_vec(), old));
            set_in(cur, &path[depth..], value);
            return;
        }
        let Value::Object(map) = cur else { return };
        if !map.contains_key(seg) {
            log.push(Undo::Added(path[..=depth].to_vec()));
            let mut fresh = Value::Object(serde_json::Map::new());
            set_in(&mut fresh, &path[depth + 1..], value);
            map.insert(seg.clone(), fresh);
            return;
        }
        let Some(next) = map.get_mut(seg) else { return };
        cur = next;
    }
    if !cur.is_object() {
        let old = std::mem::replace(cur, Value::Object(serde_json::Map::new()));
        log.push(Undo::Put(parents.to_vec(), old));
        set_in(cur, std::slice::from_ref(last), value);
        return;
    }
    let Value::Object(map) = cur else { return };
    match value {
        Some(v) => match map.get_mut(last) {
            Some(slot) => log.push(Undo::Put(path.to_vec(), std::mem::replace(slot, v))),
            None => {
                log.push(Undo::Added(path.to_vec()));
                map.insert(last.clone(), v);
            }
        },
        None => {
            if let Some(index) = map.keys().position(|k| k == last)
                && let Some(old) = map.shift_remove(last)
            {
                log.push(Undo::Removed(path.to_vec(), index, old));
            }
        }
    }
}

/// Put back what [`set_logged`] changed, last change first: the value is as it was, its keys
/// in their order.
pub fn undo(root: &mut Value, log: Vec<Undo>) {
    for step in log.into_iter().rev() {
        match step {
            Undo::Put(path, old) => {
                if let Some(slot) = get_mut_in(root, &path) {
                    *slot = old;
                }
            }
            Undo::Added(path) => {
                if let Some((last, parents)) = path.split_last()
                    && let Some(Value::Object(map)) = get_mut_in(root, parents)
                {
                    map.shift_remove(last);
                }
            }
            Undo::Removed(path, index, old) => {
                if let Some((last, parents)) = path.split_last()
                    && let Some(Value::Object(map)) = get_mut_in(root, parents)
                {
                    map.shift_insert(index, last.clone(), old);
                }
            }
        }
    }
}

fn get_mut_in<'v>(root: &'v mut Value, path: &[String]) -> Option<&'v mut Value> {
    path.iter()
        .try_fold(root, |cur, seg| cur.get_mut(seg.as_str()))
}

fn why(v: &Violation, threat: &str) -> String {
    let allowed: Vec<String> = v.allowed.iter().map(Value::to_string).collect();
    let mut why = v.why.clone();
    if let Some(first) = why.get(..1) {
        why = first.to_uppercase() + &why[1..];
    }
    if v.missing_denies.is_empty() {
        format!(
            "{why}: the {threat} threat model needs {} {} (found {}).",
            v.invariant,
            allowed.join(" or "),
            v.found
                .as_ref()
                .map(Value::to_string)
                .unwrap_or_else(|| "unset".into())
        )
    } else {
        format!(
            "{why}: the {threat} threat model needs {} denied.",
            v.missing_denies.join(", ")
        )
    }
}

/// Whether a violation's key is one the plan may own: a per-agent override or a per-account
/// channel policy (the preset's own leaves own the defaults and the channel blocks).
fn ownable(v: &Violation) -> bool {
    if v.via.is_some() {
        return false;
    }
    match &v.subject {
        Subject::Agent(id) => {
            v.key.len() > 3 && v.key[0] == "agents" && v.key[1] == "entries" && v.key[2] == *id
        }
        Subject::Channel {
            account: Some(_), ..
        } => v.key.len() == 5 && v.key[2] == "accounts",
        _ => false,
    }
}

/// The leaves that make every ownable invariant hold after `want` (`value`: the file after any
/// `agents.list` migration). Leaves already in `want` are not repeated. The file is judged as
/// `want` would leave it: `value` is changed to that in place and put back after (a big
/// file's value costs several times the file to copy).
pub fn fixes(value: &mut Value, want: &Desired, engine: bool, waived: &[String]) -> Vec<Leaf> {
    let mut log = Vec::new();
    if !holds_all(value, want) {
        for leaf in &want.leaves {
            set_logged(value, &leaf.path, leaf.value.clone(), &mut log);
        }
    }
    let out = fixes_after(value, want, engine, waived);
    undo(value, log);
    out
}

/// [`fixes`] of a value that cannot be changed in place: copied only when `want` changes it.
pub fn fixes_read(value: &Value, want: &Desired, engine: bool, waived: &[String]) -> Vec<Leaf> {
    match holds_all(value, want) {
        true => fixes_after(value, want, engine, waived),
        false => fixes(&mut value.clone(), want, engine, waived),
    }
}

/// [`fixes`] of the file as `want` leaves it (`after`).
fn fixes_after(after: &Value, want: &Desired, engine: bool, waived: &[String]) -> Vec<Leaf> {
    let threat = want.preset.as_str();
    let mut out: Vec<Leaf> = Vec::new();
    // The paths `want` and `out` hold: a search of both lists per fix was quadratic in the
    // number of agents.
    let mut taken: std::collections::HashSet<Vec<String>> =
        want.leaves.iter().map(|l| l.path.clone()).collect();
    let mut push = |out: &mut Vec<Leaf>, path: Vec<String>, value: Option<Value>, why: &str| {
        if !taken.insert(path.clone()) {
            return;
        }
        out.push(Leaf {
            path,
            value,
            why: why.to_string(),
            doc: "gateway/security/index.md".into(),
        });
    };
    for v in invariants::violations(after, threat, engine, waived)
        .iter()
        .filter(|v| ownable(v))
    {
        let reason = why(v, threat);
        if !v.missing_denies.is_empty() {
            let mut deny: Vec<Value> = crate::domain::choice::get_in(after, &v.key)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            deny.extend(v.missing_denies.iter().cloned().map(Value::String));
            push(&mut out, v.key.clone(), Some(Value::Array(deny)), &reason);
            continue;
        }
        let Some(fix) = &v.fix else { continue };
        push(&mut out, v.key.clone(), Some(fix.clone()), &reason);
        // `mode` and the legacy `security`/`ask` pair in one scope fail validation.
        if v.invariant == "tools.exec.mode" {
            let exec = &v.key[..v.key.len() - 1];
            for legacy in ["security", "ask"] {
                let mut p = exec.to_vec();
                p.push(legacy.into());
                if crate::domain::choice::get_in(after, &p).is_some() {
                    push(
                        &mut out,
                        p,
                        None,
                        "Legacy pair of `tools.exec.mode`; setting both fails validation.",
                    );
                }
            }
        }
    }
    // More than one agent needs an explicit roster, or `openclaw config validate` fails
    // ("multi-agent rosters require agents.ownership=explicit"): a migrated `agents.list` loses
    // its retired `default` marker, and a preset may add `main` beside the user's agent.
    // The roster once the fixes are set, counted without copying the file: the agents it
    // has, and any a fix would create.
    let roster = {
        let mut ids: std::collections::HashSet<&str> = after
            .pointer("/agents/entries")
            .and_then(Value::as_object)
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default();
        for l in &out {
            if l.value.is_some() && l.path.len() >= 3 && l.path[..2] == ["agents", "entries"] {
                ids.insert(&l.path[2]);
            }
        }
        ids.len()
    };
    if roster > 1 && after.pointer("/agents/ownership").is_none() {
        push(
            &mut out,
            vec!["agents".into(), "ownership".into()],
            Some(Value::String("explicit".into())),
            "More than one agent: OpenClaw needs an explicit roster (`agents.ownership: \"explicit\"`), or the Gateway does not start.",
        );
    }
    out
}

/// The invariants a planned file still breaks: each is refused (exit 4) with its key and fix.
pub fn refusals(planned: &Value, threat: &str, engine: bool, waived: &[String]) -> Vec<String> {
    invariants::violations(planned, threat, engine, waived)
        .iter()
        .map(|v| format!("{}. Fix: {}", v.line(threat), v.fix_hint()))
        .collect()
}

/// Why a plan must not be written: the invariants its new file still breaks (None: none).
pub fn refused(
    plan: &crate::domain::plan::Plan,
    choice: &crate::domain::choice::Choice,
) -> Option<String> {
    // What the new text reads as (the plan checked it).
    let lines = refusals(
        &plan.new_value,
        &choice.preset.name,
        choice.environment.engine.is_some(),
        &invariants::waived(choice.inputs.advanced()),
    );
    (!lines.is_empty()).then(|| {
        format!(
            "refused: the {} threat model would not hold, and clawposture cannot own this safely; nothing was written.\n  {}",
            choice.preset.name,
            lines.join("\n  ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Changes logged on random paths (keys added, replaced, removed; through a scalar, the
    /// root): each is what `set_in` makes, and undoing them gives back the value as it was,
    /// its keys in their order (compared as printed).
    #[test]
    fn changes_made_in_place_are_set_ins_and_undone_to_the_same_bytes() {
        let mut rand = crate::domain::read_back::tests::rand();
        let segs = ["a", "b", "c", "d"];
        let paths = crate::domain::read_back::tests::paths_of(&segs, 3);
        let base = json!({"c": {"d": 1, "a": [1], "b": {"a": "x", "c": null}}, "a": 2, "d": {}});
        let mut changed = 0;
        for round in 0..200 {
            let mut value = base.clone();
            let mut whole = base.clone();
            let mut log = Vec::new();
            for _ in 0..(1 + round % 9) {
                let at = paths[rand(paths.len())].clone();
                let v = match rand(4) {
                    0 => None,
                    1 => Some(json!({"b": rand(9)})),
                    _ => Some(json!(rand(9))),
                };
                set_in(&mut whole, &at, v.clone());
                set_logged(&mut value, &at, v, &mut log);
                assert_eq!(value.to_string(), whole.to_string(), "round {round}");
            }
            changed += usize::from(value != base);
            undo(&mut value, log);
            assert_eq!(value.to_string(), base.to_string(), "round {round}");
        }
        assert!(changed > 150, "{changed}");
    }

    /// Fixes judged in place are those judged on a copy, and the file is left as it was.
    #[test]
    fn fixes_judged_in_place_are_a_copys_and_leave_the_file_as_it_was() {
        let file = json!({
            "agents": {"entries": {"work": {"sandbox": {"mode": "off"}, "tools": {"deny": ["x"]}}}},
            "bindings": [{"agentId": "work", "match": {"channel": "telegram"}}],
            "channels": {"telegram": {"dmPolicy": "open", "accounts": {"b": {"dmPolicy": "open"}}}}
        });
        let want = public();
        let mut lent = file.clone();
        let in_place = fixes(&mut lent, &want, true, &[]);
        assert_eq!(lent.to_string(), file.to_string());
        let copied = fixes_after(&projected(&file, &want), &want, true, &[]);
        assert!(!in_place.is_empty());
        assert_eq!(
            in_place
                .iter()
                .map(|l| (&l.path, &l.value))
                .collect::<Vec<_>>(),
            copied
                .iter()
                .map(|l| (&l.path, &l.value))
                .collect::<Vec<_>>()
        );
        assert_eq!(fixes_read(&file, &want, true, &[]).len(), in_place.len());
    }

    fn want(preset: &str, leaves: Vec<(&str, Value)>) -> Desired {
        Desired {
            preset: preset.into(),
            leaves: leaves
                .into_iter()
                .map(|(k, v)| Leaf {
                    path: k.split('.').map(str::to_string).collect(),
                    value: Some(v),
                    why: String::new(),
                    doc: String::new(),
                })
                .collect(),
            bindings: Vec::new(),
        }
    }

    fn public() -> Desired {
        want(
            "public",
            vec![
                ("session.dmScope", json!("per-channel-peer")),
                (
                    "agents.defaults.sandbox",
                    json!({"mode": "all", "workspaceAccess": "none", "docker": {"network": "none"}}),
                ),
                (
                    "agents.entries.main.memory.search",
                    json!({"enabled": false}),
                ),
                ("tools.profile", json!("messaging")),
                (
                    "tools.deny",
                    json!([
                        "group:runtime",
                        "group:fs",
                        "group:automation",
                        "group:nodes",
                        "group:ui",
                        "group:memory",
                        "group:web"
                    ]),
                ),
                ("tools.exec", json!({"mode": "deny"})),
                ("tools.elevated.enabled", json!(false)),
            ],
        )
    }

    #[test]
    fn per_agent_overrides_and_accounts_are_owned_with_their_reason() {
        let file = json!({
            "agents": {"entries": {"work": {
                "sandbox": {"mode": "off"},
                "tools": {"profile": "full", "exec": {"security": "full", "ask": "off"},
                          "elevated": {"enabled": true}},
            }}},
            "channels": {"telegram": {"accounts": {"alt": {"groupPolicy": "open"}}}},
        });
        let w = public();
        let leaves = fixes_read(&file, &w, true, &[]);
        let keys: Vec<String> = leaves
            .iter()
            .map(|l| crate::domain::keypath::display(&l.path))
            .collect();
        for k in [
            "agents.entries.work.sandbox.mode",
            "agents.entries.work.tools.profile",
            "agents.entries.work.tools.exec.mode",
            "agents.entries.work.tools.exec.security",
            "agents.entries.work.tools.exec.ask",
            "agents.entries.work.tools.elevated.enabled",
            "agents.entries.work.memory.search.enabled",
            "agents.ownership",
        ] {
            assert!(keys.iter().any(|x| x == k), "{k} not in {keys:?}");
        }
        let mode = &leaves[keys
            .iter()
            .position(|k| k == "agents.entries.work.sandbox.mode")
            .unwrap()];
        assert_eq!(mode.value, Some(json!("all")));
        assert!(
            mode.why.contains("unsandboxed for strangers"),
            "{}",
            mode.why
        );
        // Public allows open group policies: the account is left as it is.
        assert!(!keys.iter().any(|k| k.contains("accounts")));
        // After the fixes, nothing is left to refuse.
        let mut all = w.clone();
        all.leaves.extend(leaves);
        assert_eq!(
            refusals(&projected(&file, &all), "public", true, &[]),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_binding_to_a_weaker_agent_is_refused_not_owned() {
        let file = json!({
            "agents": {"ownership": "explicit",
                       "entries": {"main": {}, "work": {"sandbox": {"mode": "off"}}}},
            "bindings": [{"agentId": "work", "match": {"channel": "telegram",
                                                       "peer": {"kind": "group", "id": "-1"}}}],
        });
        let w = want(
            "group",
            vec![("session.dmScope", json!("per-channel-peer"))],
        );
        let leaves = fixes_read(&file, &w, true, &[]);
        assert!(
            leaves
                .iter()
                .all(|l| l.path[..3] != ["agents", "entries", "work"]),
            "{leaves:?}"
        );
        let r = refusals(&projected(&file, &w), "group", true, &[]);
        assert!(
            r.iter().any(|l| l.contains("agent `work` (bindings[0]")
                && l.contains("agents.entries.work.sandbox.mode")
                && l.contains("remove bindings[0]")),
            "{r:?}"
        );
    }
}
