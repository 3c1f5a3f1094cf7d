//! A policy file already at `$STATE_DIR/clawposture.policy.jsonc` that is not exactly one
//! clawposture renders: the preset's policy is a floor, the user's file is kept (pure). Rule by
//! rule, with the strictness data of `presets/policy_strictness.toml` (the terms of `openclaw
//! policy compare`, which verify runs on such a file): a rule at least as strict as the
//! preset's is kept, a looser one is raised to the preset's, a missing one is added, each with
//! its reason for the plan; the file is edited in place through the CST, so the user's other
//! rules and comments stay. A file that cannot be judged (not JSON5, a rule not in the data, a
//! value of the wrong shape) is refused, naming the rule.
//!
//! A file that starts with clawposture's header was rendered for the preset it names: a rule
//! there equal to that preset's is clawposture's, not the user's, and follows the new preset
//! (shown when it loosens), so switching presets does not keep the old preset's rules as if the
//! user had tightened them.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::Value;

use crate::domain::document::Document;

pub const SOURCE: &str = include_str!("../../presets/policy_strictness.toml");

#[derive(Debug, Deserialize)]
struct File {
    rule: Vec<RuleData>,
}

#[derive(Debug, Deserialize)]
struct RuleData {
    kind: String,
    keys: Vec<String>,
    #[serde(default)]
    values: Vec<toml::Value>,
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Allow,
    Deny,
    /// Weakest first.
    Ordered(Vec<Value>),
    Keep,
}

fn parse(text: &str) -> Result<HashMap<String, Kind>, String> {
    let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
    let mut out = HashMap::new();
    for r in file.rule {
        let kind = match r.kind.as_str() {
            "allow" => Kind::Allow,
            "deny" => Kind::Deny,
            "keep" => Kind::Keep,
            "ordered" => Kind::Ordered(
                r.values
                    .iter()
                    .map(|v| serde_json::to_value(v).map_err(|e| e.to_string()))
                    .collect::<Result<_, _>>()?,
            ),
            other => return Err(format!("unknown kind {other}")),
        };
        for k in r.keys {
            out.insert(k, kind.clone());
        }
    }
    Ok(out)
}

fn kinds() -> &'static HashMap<String, Kind> {
    static KINDS: OnceLock<HashMap<String, Kind>> = OnceLock::new();
    // Compiled-in data, parsed by a unit test: an error is a build mistake (no rule known, so
    // every user file is refused rather than judged wrongly).
    KINDS.get_or_init(|| parse(SOURCE).unwrap_or_default())
}

/// One rule of a policy: where it is in the file, and its key relative to its root or scope.
#[derive(Debug, Clone)]
struct Leaf {
    path: Vec<String>,
    key: String,
    value: Value,
}

const SELECTORS: [&str; 2] = ["agentIds", "channelIds"];

fn dotted(p: &[String]) -> String {
    p.join(".")
}

/// Every rule in `v` (an object at `at`, rules keyed from `rel`); Err names what is not a rule.
fn leaves_in(v: &Value, at: &[String], rel: &[String], out: &mut Vec<Leaf>) -> Result<(), String> {
    let Some(map) = v.as_object() else {
        return Err(if at.is_empty() {
            "the file is not a JSON5 object".to_string()
        } else {
            format!("`{}` is not an object", dotted(at))
        });
    };
    for (k, child) in map {
        let mut path = at.to_vec();
        path.push(k.clone());
        let mut key = rel.to_vec();
        key.push(k.clone());
        if at.is_empty() && k == "scopes" {
            let Some(scopes) = child.as_object() else {
                return Err("`scopes` is not an object".into());
            };
            for (name, scope) in scopes {
                let mut sp = path.clone();
                sp.push(name.clone());
                let Some(body) = scope.as_object() else {
                    return Err(format!("`{}` is not an object", dotted(&sp)));
                };
                let rules: serde_json::Map<String, Value> = body
                    .iter()
                    .filter(|(k, _)| !SELECTORS.contains(&k.as_str()))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                leaves_in(&Value::Object(rules), &sp, &[], out)?;
            }
            continue;
        }
        let name = dotted(&key);
        match kinds().get(&name) {
            Some(kind) => {
                shape_ok(kind, child).map_err(|e| format!("`{}` {e}", dotted(&path)))?;
                out.push(Leaf {
                    path,
                    key: name,
                    value: child.clone(),
                });
            }
            None if child.is_object() => leaves_in(child, &path, &key, out)?,
            None => {
                return Err(format!(
                    "`{}` is not a policy rule clawposture knows (presets/policy_strictness.toml)",
                    dotted(&path)
                ));
            }
        }
    }
    Ok(())
}

fn shape_ok(kind: &Kind, v: &Value) -> Result<(), String> {
    match kind {
        Kind::Allow | Kind::Deny => match v.as_array() {
            Some(items) if items.iter().all(Value::is_string) => Ok(()),
            _ => Err(format!("is {v}, not a list of names")),
        },
        Kind::Ordered(values) if !values.contains(v) => Err(format!(
            "is {v}, outside the order clawposture knows ({})",
            values
                .iter()
                .map(Value::to_string)
                .collect::<Vec<_>>()
                .join(" < ")
        )),
        _ => Ok(()),
    }
}

fn names(v: &Value) -> Vec<Value> {
    v.as_array().cloned().unwrap_or_default()
}

fn list(v: &[Value]) -> String {
    v.iter()
        .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The rule `user` holds, judged against the floor's `floor` at `key`: None keeps it, Some
/// sets the value given, with why.
fn judge(key: &str, user: &Value, floor: &Value) -> Option<(Value, String)> {
    match kinds().get(key)? {
        Kind::Allow => {
            let (u, f) = (names(user), names(floor));
            let extra: Vec<Value> = u.iter().filter(|x| !f.contains(x)).cloned().collect();
            (!extra.is_empty()).then(|| {
                (
                    floor.clone(),
                    format!(
                        "raised to the preset's floor [{}]: yours also allowed {}",
                        list(&f),
                        list(&extra)
                    ),
                )
            })
        }
        Kind::Deny => {
            let (mut u, f) = (names(user), names(floor));
            let missing: Vec<Value> = f.iter().filter(|x| !u.contains(x)).cloned().collect();
            (!missing.is_empty()).then(|| {
                u.extend(missing.iter().cloned());
                (
                    Value::Array(u),
                    format!("the preset's denies added: {}", list(&missing)),
                )
            })
        }
        Kind::Ordered(order) => {
            let rank = |v: &Value| order.iter().position(|x| x == v);
            match (rank(user), rank(floor)) {
                (Some(a), Some(b)) if a < b => Some((
                    floor.clone(),
                    format!("raised from {user} to the preset's floor {floor}"),
                )),
                _ => None,
            }
        }
        Kind::Keep => None,
    }
}

fn selector(scope: &Value) -> Vec<(String, Vec<Value>)> {
    SELECTORS
        .iter()
        .filter_map(|s| {
            scope.get(*s).map(|v| {
                let mut ids = names(v);
                ids.sort_by_key(Value::to_string);
                (s.to_string(), ids)
            })
        })
        .collect()
}

/// The preset a clawposture-rendered file names in its header (`// Written by clawposture for
/// the public preset: ...`).
pub fn header_preset(text: &str) -> Option<&str> {
    text.strip_prefix("// Written by clawposture for the ")?
        .split_once(" preset")
        .map(|(p, _)| p)
        .filter(|p| !p.contains('\n'))
}

/// The user's file with the floor merged in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    pub text: String,
    /// One line per rule raised, added or kept stricter, for the plan.
    pub notes: Vec<String>,
}

impl Merged {
    pub fn changed(&self, before: &str) -> bool {
        self.text != before
    }
}

/// Merge `floor` (the preset's policy for the config being written) into the file `text`.
/// `preset`: the preset being applied; `previous`: the floor of the preset the file's header
/// names (None: no header, every rule is the user's).
pub fn merge(
    text: &str,
    preset: &str,
    floor: &Value,
    previous: Option<(&str, &Value)>,
) -> Result<Merged, String> {
    let doc = Document::parse(text).map_err(|e| format!("it does not parse as JSON5 ({e})"))?;
    let user = doc.value();
    let mut user_rules = Vec::new();
    leaves_in(&user, &[], &[], &mut user_rules)?;
    let mut floor_rules = Vec::new();
    leaves_in(floor, &[], &[], &mut floor_rules)
        .map_err(|e| format!("the {preset} preset's policy: {e}"))?;
    let mut prev_rules = Vec::new();
    if let Some((_, p)) = previous {
        leaves_in(p, &[], &[], &mut prev_rules)
            .map_err(|e| format!("the previous preset's policy: {e}"))?;
    }
    let get = |v: &Value, p: &[String]| crate::domain::choice::get_in(v, p).cloned();

    // Floor scopes land in the user's scope with the same selector (names need not match, as
    // in `policy compare`), else are added whole.
    let mut scope_at: HashMap<String, Option<String>> = HashMap::new();
    let user_scopes = user.get("scopes").and_then(Value::as_object);
    if let Some(fs) = floor.get("scopes").and_then(Value::as_object) {
        for (name, scope) in fs {
            let sel = selector(scope);
            let found = user_scopes.and_then(|us| {
                us.iter()
                    .find(|(_, s)| selector(s) == sel)
                    .map(|(n, _)| n.clone())
            });
            scope_at.insert(name.clone(), found);
        }
    }
    let mut sets: Vec<(Vec<String>, Value)> = Vec::new();
    let mut removes: Vec<Vec<String>> = Vec::new();
    let mut notes = Vec::new();
    let mut added_scopes = Vec::new();
    for leaf in &floor_rules {
        let mut path = leaf.path.clone();
        if path.first().map(String::as_str) == Some("scopes") && path.len() > 2 {
            match scope_at.get(&path[1]).cloned().flatten() {
                Some(mine) => path[1] = mine,
                None => {
                    let name = path[1].clone();
                    if !added_scopes.contains(&name) {
                        let mut target = name.clone();
                        while user_scopes.is_some_and(|u| u.contains_key(&target)) {
                            target.push_str("-clawposture");
                        }
                        let scope = floor["scopes"][&name].clone();
                        notes.push(format!(
                            "scopes.{target}: added, the preset's overlay for {}",
                            selector(&scope)
                                .iter()
                                .map(|(s, ids)| format!("{s} [{}]", list(ids)))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ));
                        sets.push((vec!["scopes".into(), target], scope));
                        added_scopes.push(name);
                    }
                    continue;
                }
            }
        }
        let shown = dotted(&path);
        let was_prev = previous.and_then(|(p, pv)| {
            (get(pv, &leaf.path).is_some() && get(pv, &leaf.path) == get(&user, &path)).then_some(p)
        });
        match get(&user, &path) {
            None => {
                notes.push(format!("{shown}: added, the preset's floor {}", leaf.value));
                sets.push((path, leaf.value.clone()));
            }
            Some(u) if u == leaf.value => {}
            Some(u) if was_prev.is_some() => {
                let from = was_prev.unwrap_or_default();
                notes.push(format!(
                    "{shown}: {u} was the {from} preset's, now the {preset} preset's {}",
                    leaf.value
                ));
                sets.push((path, leaf.value.clone()));
            }
            Some(u) => match judge(&leaf.key, &u, &leaf.value) {
                Some((v, why)) => {
                    notes.push(format!("{shown}: {why}"));
                    sets.push((path, v));
                }
                None => notes.push(format!(
                    "{shown}: yours kept ({u}), at least as strict as the preset's {}",
                    leaf.value
                )),
            },
        }
    }
    // The previous preset's rules this preset does not have go with it.
    if let Some((from, _)) = previous {
        for leaf in &prev_rules {
            let in_floor = floor_rules.iter().any(|f| f.path == leaf.path);
            if !in_floor && get(&user, &leaf.path).as_ref() == Some(&leaf.value) {
                notes.push(format!(
                    "{}: removed, the {from} preset's rule (the {preset} preset has none)",
                    dotted(&leaf.path)
                ));
                removes.push(leaf.path.clone());
            }
        }
    }
    for p in &removes {
        doc.remove(p, 0);
    }
    for (p, v) in &sets {
        doc.set(p, v);
    }
    let mut out = doc.text();
    if let Some(from) = previous.map(|(p, _)| p)
        && from != preset
    {
        out = out.replacen(
            &format!("// Written by clawposture for the {from} preset"),
            &format!("// Written by clawposture for the {preset} preset"),
            1,
        );
    }
    Ok(Merged { text: out, notes })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_data_parses_and_knows_every_rule_the_presets_write() {
        let k = parse(SOURCE).expect("policy_strictness.toml");
        assert!(k.len() > 40);
        for preset in ["private", "group", "public"] {
            let t = crate::domain::policy::template(preset).expect("template");
            for mode in ["off", "all"] {
                let cfg = json!({"agents": {"defaults": {"sandbox": {"mode": mode}}}});
                let floor = crate::domain::policy::rules(t, &cfg).expect("rules");
                let mut out = Vec::new();
                leaves_in(&floor, &[], &[], &mut out).expect("every rule is known");
                assert!(!out.is_empty());
            }
        }
    }

    fn floor() -> Value {
        json!({
            "tools": {"elevated": {"allow": false}, "exec": {"allowSecurity": ["deny", "allowlist"]},
                      "denyTools": ["group:runtime"]},
            "ingress": {"session": {"requireDmScope": "main"}},
            "scopes": {"group-agent": {"agentIds": ["group"], "tools": {"profiles": {"allow": ["minimal"]}}}},
        })
    }

    #[test]
    fn stricter_rules_stay_looser_ones_are_raised_missing_ones_added() {
        let user = r#"// mine
{
  "tools": {
    "exec": { "allowSecurity": ["deny"] }, // only deny
    "denyTools": ["browser"],
    "elevated": { "allow": true },
  },
  "network": { "privateNetwork": { "allow": false } },
  "scopes": { "mine": { "agentIds": ["group"], "tools": { "profiles": { "allow": ["minimal", "coding"] } } } },
}"#;
        let m = merge(user, "private", &floor(), None).expect("judged");
        let v = Document::parse(&m.text).unwrap().value();
        assert!(m.text.contains("// only deny") && m.text.starts_with("// mine"));
        assert_eq!(v["tools"]["exec"]["allowSecurity"], json!(["deny"]));
        assert_eq!(v["tools"]["denyTools"], json!(["browser", "group:runtime"]));
        assert_eq!(v["tools"]["elevated"]["allow"], json!(false));
        assert_eq!(v["network"]["privateNetwork"]["allow"], json!(false));
        assert_eq!(v["ingress"]["session"]["requireDmScope"], json!("main"));
        // The floor's scope met the user's by selector, not by name.
        assert_eq!(
            v["scopes"]["mine"]["tools"]["profiles"]["allow"],
            json!(["minimal"])
        );
        assert!(v["scopes"].get("group-agent").is_none());
        let said = m.notes.join("\n");
        for want in [
            "tools.elevated.allow: raised from true to the preset's floor false",
            "tools.exec.allowSecurity: yours kept",
            "tools.denyTools: the preset's denies added: group:runtime",
            "ingress.session.requireDmScope: added",
            "scopes.mine.tools.profiles.allow: raised to the preset's floor [minimal]: yours also allowed coding",
        ] {
            assert!(said.contains(want), "{want}:\n{said}");
        }
        // Merged once, merging again changes nothing.
        let again = merge(&m.text, "private", &floor(), None).unwrap();
        assert_eq!(again.text, m.text);
    }

    #[test]
    fn what_cannot_be_judged_is_refused_naming_the_rule() {
        let refused = |text: &str| merge(text, "private", &floor(), None).unwrap_err();
        let e = refused(r#"{"tools": {"elevatd": {"allow": false}}}"#);
        assert!(
            e.contains("`tools.elevatd.allow` is not a policy rule"),
            "{e}"
        );
        let e = refused(r#"{"tools": {"exec": {"allowSecurity": "deny"}}}"#);
        assert!(e.contains("`tools.exec.allowSecurity`"), "{e}");
        let e = refused(r#"{"ingress": {"session": {"requireDmScope": "team"}}}"#);
        assert!(
            e.contains("`ingress.session.requireDmScope`") && e.contains("outside"),
            "{e}"
        );
        assert!(refused("{ nope").contains("JSON5"));
    }

    #[test]
    fn a_rendered_file_follows_the_new_preset_and_keeps_its_edits() {
        let public = json!({"ingress": {"session": {"requireDmScope": "per-channel-peer"}},
                            "agents": {"workspace": {"denyTools": ["exec"]}},
                            "tools": {"elevated": {"allow": false}}});
        let text = "// Written by clawposture for the public preset: x\n{\"ingress\": {\"session\": {\"requireDmScope\": \"per-channel-peer\"}}, \"agents\": {\"workspace\": {\"denyTools\": [\"exec\"]}}, \"tools\": {\"elevated\": {\"allow\": false}}, \"network\": {\"privateNetwork\": {\"allow\": false}}}";
        assert_eq!(header_preset(text), Some("public"));
        let m = merge(text, "private", &floor(), Some(("public", &public))).unwrap();
        let v = Document::parse(&m.text).unwrap().value();
        assert_eq!(v["ingress"]["session"]["requireDmScope"], json!("main"));
        assert!(v.get("agents").is_none(), "{}", m.text);
        assert_eq!(v["network"]["privateNetwork"]["allow"], json!(false));
        assert!(
            m.text
                .starts_with("// Written by clawposture for the private preset")
        );
        assert!(
            m.notes
                .iter()
                .any(|n| n.contains("was the public preset's")),
            "{:?}",
            m.notes
        );
    }
}
