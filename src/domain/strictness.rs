//! Which of two values of a key is stricter, from `presets/strictness.toml` (data beside the
//! presets, in the order OpenClaw's Policy plugin compares them). Pure.

use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::Value;

use crate::domain::keypath;

/// How a value compares with another for the same key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Same,
    Stricter,
    Looser,
    /// The key has no order, or a value is outside it.
    Unordered,
}

#[derive(Debug, Deserialize)]
struct File {
    #[serde(default)]
    order: Vec<Order>,
    #[serde(default)]
    list: Vec<List>,
}

#[derive(Debug, Deserialize)]
struct Order {
    keys: Vec<String>,
    values: Vec<toml::Value>,
}

#[derive(Debug, Deserialize)]
struct List {
    keys: Vec<String>,
    kind: ListKind,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum ListKind {
    Deny,
}

enum Rule {
    /// Weakest first.
    Ordered(Vec<Value>),
    Deny,
}

struct Rules(Vec<(Vec<String>, Rule)>);

pub const SOURCE: &str = include_str!("../../presets/strictness.toml");

fn rules() -> &'static Rules {
    static RULES: OnceLock<Rules> = OnceLock::new();
    RULES.get_or_init(|| parse(SOURCE).unwrap_or(Rules(Vec::new())))
}

fn parse(text: &str) -> Result<Rules, String> {
    let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for o in file.order {
        let values: Vec<Value> = o
            .values
            .iter()
            .map(|v| serde_json::to_value(v).map_err(|e| e.to_string()))
            .collect::<Result<_, _>>()?;
        for k in &o.keys {
            out.push((keypath::parse(k)?, Rule::Ordered(values.clone())));
        }
    }
    for l in file.list {
        for k in &l.keys {
            match l.kind {
                ListKind::Deny => out.push((keypath::parse(k)?, Rule::Deny)),
            }
        }
    }
    Ok(Rules(out))
}

fn matches(pattern: &[String], key: &[String]) -> bool {
    pattern.len() == key.len() && pattern.iter().zip(key).all(|(p, k)| p == "*" || p == k)
}

/// Whether the key has an order at all.
pub fn ordered(key: &[String]) -> bool {
    rules().0.iter().any(|(p, _)| matches(p, key))
}

/// How `value` compares with `reference` at `key`.
pub fn compare(key: &[String], value: &Value, reference: &Value) -> Verdict {
    if value == reference {
        return Verdict::Same;
    }
    let Some((_, rule)) = rules().0.iter().find(|(p, _)| matches(p, key)) else {
        return Verdict::Unordered;
    };
    match rule {
        Rule::Ordered(values) => {
            let rank = |v: &Value| values.iter().position(|x| x == v);
            match (rank(value), rank(reference)) {
                (Some(a), Some(b)) if a > b => Verdict::Stricter,
                (Some(a), Some(b)) if a < b => Verdict::Looser,
                (Some(_), Some(_)) => Verdict::Same,
                _ => Verdict::Unordered,
            }
        }
        Rule::Deny => match (value.as_array(), reference.as_array()) {
            (Some(a), Some(b)) => {
                let holds_all = |x: &[Value], y: &[Value]| y.iter().all(|i| x.contains(i));
                match (holds_all(a, b), holds_all(b, a)) {
                    (true, true) => Verdict::Same,
                    (true, false) => Verdict::Stricter,
                    (false, true) => Verdict::Looser,
                    (false, false) => Verdict::Unordered,
                }
            }
            _ => Verdict::Unordered,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn k(s: &str) -> Vec<String> {
        keypath::parse(s).expect("key")
    }

    #[test]
    fn the_data_parses() {
        assert!(parse(SOURCE).is_ok_and(|r| r.0.len() >= 10));
    }

    #[test]
    fn orders_and_deny_lists() {
        let mode = k("agents.defaults.sandbox.mode");
        assert_eq!(
            compare(&mode, &json!("all"), &json!("non-main")),
            Verdict::Stricter
        );
        assert_eq!(
            compare(&mode, &json!("off"), &json!("all")),
            Verdict::Looser
        );
        assert_eq!(
            compare(
                &k("agents.entries.group.sandbox.mode"),
                &json!("all"),
                &json!("off")
            ),
            Verdict::Stricter
        );
        assert_eq!(
            compare(&k("tools.exec.mode"), &json!("deny"), &json!("ask")),
            Verdict::Stricter
        );
        assert_eq!(
            compare(&k("gateway.bind"), &json!("custom"), &json!("loopback")),
            Verdict::Unordered
        );
        assert_eq!(
            compare(&k("tools.elevated.enabled"), &json!(true), &json!(false)),
            Verdict::Looser
        );
        assert_eq!(
            compare(&k("tools.deny"), &json!(["a", "b"]), &json!(["a"])),
            Verdict::Stricter
        );
        assert_eq!(
            compare(&k("tools.deny"), &json!(["b"]), &json!(["a"])),
            Verdict::Unordered
        );
        assert_eq!(
            compare(&k("gateway.port"), &json!(1), &json!(2)),
            Verdict::Unordered
        );
    }
}
