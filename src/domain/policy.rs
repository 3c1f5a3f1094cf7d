//! The preset's policy for OpenClaw's bundled Policy plugin, as data
//! (`presets/<preset>.policy.jsonc`): rendered for the config being written, and what apply
//! does with `$STATE_DIR/clawposture.policy.jsonc` (create, replace one exactly as it renders
//! them, or merge the preset's floor into any other: `domain::policy_merge`). Pure.

use std::path::PathBuf;

use serde_json::Value;

pub const FILE_NAME: &str = "clawposture.policy.jsonc";
/// Rules merged in only when the config's sandbox is on.
const SANDBOXED: &str = "clawposture:sandboxed";
const BACKEND: &str = "{backend}";
const ACCESS: &str = "{workspace_access_or_less}";

/// The policy file as found beside the state (what the plan needs to know about it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyFile {
    pub path: PathBuf,
    /// None: no file.
    pub bytes: Option<Vec<u8>>,
}

/// The built-in policy template of a preset.
pub fn template(preset: &str) -> Option<&'static str> {
    match preset {
        "private" => Some(include_str!("../../presets/private.policy.jsonc")),
        "group" => Some(include_str!("../../presets/group.policy.jsonc")),
        "public" => Some(include_str!("../../presets/public.policy.jsonc")),
        _ => None,
    }
}

fn merge(into: &mut Value, from: &Value) {
    match (into, from) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(k) {
                    Some(slot) => merge(slot, v),
                    None => {
                        a.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (slot, v) => *slot = v.clone(),
    }
}

fn fill(v: &mut Value, backend: &str, access: &[&str]) {
    match v {
        Value::Array(items) => {
            let mut out = Vec::new();
            for mut item in std::mem::take(items) {
                match item.as_str() {
                    Some(ACCESS) => out.extend(access.iter().map(|a| Value::from(*a))),
                    Some(BACKEND) => out.push(Value::from(backend)),
                    _ => {
                        fill(&mut item, backend, access);
                        out.push(item);
                    }
                }
            }
            *items = out;
        }
        Value::Object(map) => map.values_mut().for_each(|x| fill(x, backend, access)),
        Value::String(s) if s == BACKEND => *s = backend.to_string(),
        _ => {}
    }
}

/// The policy for a config: the template's rules, the sandboxed ones only when the config's
/// default sandbox is on, with the backend and the workspace access the config writes.
pub fn rules(template: &str, config: &Value) -> Result<Value, String> {
    let mut v = crate::domain::document::Document::parse(template)
        .map_err(|e| format!("the policy template does not parse: {e}"))?
        .value();
    let map = v
        .as_object_mut()
        .ok_or("the policy template is not an object")?;
    let sandboxed_rules = map.remove(SANDBOXED);
    let sandbox = |k: &str| config.pointer(&format!("/agents/defaults/sandbox/{k}"));
    let mode = sandbox("mode").and_then(Value::as_str).unwrap_or("off");
    if mode != "off"
        && let Some(extra) = sandboxed_rules
    {
        merge(&mut v, &extra);
    }
    let backend = sandbox("backend")
        .and_then(Value::as_str)
        .unwrap_or("docker");
    let access: &[&str] = match sandbox("workspaceAccess").and_then(Value::as_str) {
        Some("rw") => &["none", "ro", "rw"],
        Some("ro") => &["none", "ro"],
        _ => &["none"],
    };
    fill(&mut v, backend, access);
    Ok(v)
}

/// The file's text: a header, then the rules.
pub fn render(preset: &str, rules: &Value) -> String {
    format!(
        "// Written by clawposture for the {preset} preset: the rules OpenClaw's Policy plugin checks\n\
         // (`openclaw policy check --json`, `openclaw doctor --lint`). The preset's rules are a floor:\n\
         // on the next apply, rules you edit or add here are kept when at least as strict as the\n\
         // preset's, and a looser one is raised to the preset's (the plan says which and why).\n{}\n",
        serde_json::to_string_pretty(rules).unwrap_or_default()
    )
}

/// Whether `bytes` are exactly a file clawposture renders (any built-in preset, engine or none,
/// either backend, any workspace access): unedited, so replacing it loses nothing even when the
/// ledger that recorded it is gone or unreadable.
pub fn pristine(bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    if !text.starts_with("// Written by clawposture") {
        return false;
    }
    ["private", "group", "public"].iter().any(|p| {
        let Some(t) = template(p) else { return false };
        ["off", "on"].iter().any(|mode| {
            ["docker", "podman"].iter().any(|backend| {
                ["none", "ro", "rw"].iter().any(|access| {
                    let cfg = serde_json::json!({"agents": {"defaults": {"sandbox": {
                        "mode": if *mode == "on" { "all" } else { "off" },
                        "backend": backend, "workspaceAccess": access}}}});
                    rules(t, &cfg).is_ok_and(|r| render(p, &r) == text)
                })
            })
        })
    })
}

/// What apply does with the policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Create,
    /// Replace the one clawposture wrote last (unchanged since).
    Replace,
    /// It already holds these rules, or rules at least as strict (`notes` say which).
    Keep,
    /// A file of the user's (or one edited since): the preset's floor merged into it, the
    /// user's stricter rules kept (`domain::policy_merge`; `notes` say what changed and why).
    Merge,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    pub path: PathBuf,
    /// The bytes found there (the write refuses if they changed since).
    pub seen: Option<Vec<u8>>,
    pub text: String,
    pub action: Action,
    /// Per rule, what the merge did and why (empty unless merged or kept as the user's).
    pub notes: Vec<String>,
}

impl Write {
    pub fn writes(&self) -> bool {
        self.action != Action::Keep
    }

    pub fn sha256(&self) -> String {
        crate::domain::ledger::sha256_hex(self.text.as_bytes())
    }
}

/// The policy write for a new config (None: the config does not point the Policy plugin at
/// `file.path`, or the preset has no policy). `ours`: the sha256 clawposture recorded for the
/// file it wrote last. A file it did not write, or one edited since, is never overwritten: the
/// preset's rules are merged into it as a floor, and one that cannot be judged is refused.
pub fn plan(
    preset: &str,
    new_config: &Value,
    file: &PolicyFile,
    ours: Option<&str>,
) -> Result<Option<Write>, String> {
    let points_here = new_config
        .pointer("/plugins/entries/policy/config/path")
        .and_then(Value::as_str)
        == Some(&*file.path.to_string_lossy());
    let enabled = new_config.pointer("/plugins/entries/policy/enabled") == Some(&Value::Bool(true));
    let Some(template) = template(preset).filter(|_| points_here && enabled) else {
        return Ok(None);
    };
    let floor = rules(template, new_config)?;
    let text = render(preset, &floor);
    let mut notes = Vec::new();
    let (text, action) = match &file.bytes {
        None => (text, Action::Create),
        Some(b) if *b == text.as_bytes() => (text, Action::Keep),
        // Exactly a file clawposture renders: nothing of the user's in it.
        Some(b) if pristine(b) => (text, Action::Replace),
        // The user's, or clawposture's edited since: the preset is a floor under it.
        Some(b) => {
            let cannot = |why: String| {
                format!(
                    "{} cannot be judged against the {preset} preset's policy: {why}. It is kept as it is and nothing is written; fix that rule (or move the file away) and run apply again.",
                    file.path.display()
                )
            };
            let theirs =
                std::str::from_utf8(b).map_err(|_| cannot("it is not UTF-8 text".into()))?;
            let previous = crate::domain::policy_merge::header_preset(theirs)
                .and_then(|p| Some((p, rules(self::template(p)?, new_config).ok()?)));
            let merged = crate::domain::policy_merge::merge(
                theirs,
                preset,
                &floor,
                previous.as_ref().map(|(p, v)| (*p, v)),
            )
            .map_err(cannot)?;
            let ours = Some(crate::domain::ledger::sha256_hex(b).as_str()) == ours;
            notes = merged.notes.clone();
            if ours {
                notes.insert(
                    0,
                    "clawposture wrote this file last, merged with your rules".into(),
                );
            }
            if merged.changed(theirs) {
                (merged.text, Action::Merge)
            } else {
                (merged.text, Action::Keep)
            }
        }
    };
    Ok(Some(Write {
        path: file.path.clone(),
        seen: file.bytes.clone(),
        text,
        action,
        notes,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(mode: &str, backend: &str, access: &str, path: &str) -> Value {
        json!({"agents": {"defaults": {"sandbox": {"mode": mode, "backend": backend, "workspaceAccess": access}}},
               "plugins": {"entries": {"policy": {"enabled": true, "config": {"path": path}}}}})
    }

    #[test]
    fn sandbox_rules_follow_the_config() {
        let t = template("private").unwrap();
        let on = rules(t, &config("non-main", "podman", "ro", "/p")).unwrap();
        assert_eq!(
            on.pointer("/sandbox/allowBackends"),
            Some(&json!(["podman"]))
        );
        assert!(on.get(SANDBOXED).is_none());
        let public = rules(
            template("public").unwrap(),
            &config("all", "docker", "ro", "/p"),
        )
        .unwrap();
        assert_eq!(
            public.pointer("/agents/workspace/allowedAccess"),
            Some(&json!(["none", "ro"]))
        );
        let off = rules(t, &config("off", "docker", "none", "/p")).unwrap();
        assert!(off.get("sandbox").is_none(), "{off}");
        assert_eq!(off.pointer("/gateway/auth/requireAuth"), Some(&json!(true)));
        // Scopes merge: the group agent keeps its tool scope, the sandbox scope only with a sandbox.
        let g = template("group").unwrap();
        let on = rules(g, &config("non-main", "docker", "none", "/p")).unwrap();
        assert!(on.pointer("/scopes/group-agent").is_some());
        assert!(on.pointer("/scopes/group-agent-sandbox").is_some());
        let off = rules(g, &config("off", "docker", "none", "/p")).unwrap();
        assert!(off.pointer("/scopes/group-agent-sandbox").is_none());
        let text = render("group", &off);
        assert!(text.starts_with("// Written by clawposture"));
        let back = crate::domain::document::Document::parse(&text)
            .unwrap()
            .value();
        assert_eq!(back, off);
    }

    #[test]
    fn a_file_clawposture_did_not_write_is_never_overwritten_but_merged() {
        let path = "/s/clawposture.policy.jsonc";
        let c = config("all", "docker", "none", path);
        let file = |bytes: Option<&[u8]>| PolicyFile {
            path: path.into(),
            bytes: bytes.map(<[u8]>::to_vec),
        };
        let w = plan("public", &c, &file(None), None).unwrap().unwrap();
        assert_eq!(w.action, Action::Create);
        let same = plan("public", &c, &file(Some(w.text.as_bytes())), None)
            .unwrap()
            .unwrap();
        assert_eq!(same.action, Action::Keep);
        let old = b"{ \"tools\": {} }";
        let sha = crate::domain::ledger::sha256_hex(old);
        // clawposture's last write, not exactly a render (a merge): merged again, said so.
        let again = plan("public", &c, &file(Some(old)), Some(&sha))
            .unwrap()
            .unwrap();
        assert_eq!(again.action, Action::Merge);
        assert!(again.notes[0].starts_with("clawposture wrote this file last"));
        // Not ours: the floor is merged in (an empty tools block holds no rule of its own).
        let merged = plan("public", &c, &file(Some(old)), None).unwrap().unwrap();
        assert_eq!(merged.action, Action::Merge);
        assert!(
            merged
                .notes
                .iter()
                .any(|n| n.starts_with("tools.elevated.allow: added"))
        );
        let e = plan(
            "public",
            &c,
            &file(Some(b"{ \"tools\": { \"x\": 1 } }")),
            None,
        )
        .unwrap_err();
        assert!(e.contains("`tools.x` is not a policy rule"), "{e}");
        // Without a ledger, a file exactly as clawposture renders it is still its own...
        let private = config("non-main", "podman", "ro", path);
        let mine = plan("private", &private, &file(None), None)
            .unwrap()
            .unwrap();
        assert!(pristine(mine.text.as_bytes()));
        assert_eq!(
            plan("public", &c, &file(Some(mine.text.as_bytes())), None)
                .unwrap()
                .unwrap()
                .action,
            Action::Replace
        );
        // ...but not once edited, even by one character.
        let edited = mine.text.replace("\"main\"", "\"per-peer\"");
        assert_ne!(edited, mine.text);
        assert!(!pristine(edited.as_bytes()));
        // ...then it is merged: the private header's rules follow the public preset.
        let m = plan("public", &c, &file(Some(edited.as_bytes())), None)
            .unwrap()
            .unwrap();
        assert_eq!(m.action, Action::Merge);
        assert!(
            m.text
                .starts_with("// Written by clawposture for the public preset")
        );
        // Not pointed at this file, or the plugin off: nothing to write.
        let elsewhere = config("all", "docker", "none", "/mine/policy.jsonc");
        assert_eq!(plan("public", &elsewhere, &file(Some(old)), None), Ok(None));
        assert_eq!(plan("custom", &c, &file(None), None), Ok(None));
    }
}
