//! Where a config stands before any question: what in it is open to someone (pure). Every
//! front end opens with these lines (`plan`, `--plain`, the wizard's Welcome), so the user
//! sees what is at stake before choosing. They are the threat model's own verdict
//! ([`crate::domain::invariants::violations`], the evaluation `plan`, `apply` and `verify`
//! use), one short line per broken invariant, so the summary and the checks cannot disagree.

use serde_json::Value;

use crate::domain::invariants::{self, Violation};

/// The threat a file is judged against before the user chose one: the preset it was last
/// applied with, else `private` (only the owner reaches the agents: anything the private
/// threat model forbids is open to someone else).
pub const BEFORE_CHOOSING: &str = "private";

/// What the file leaves open under `threat`, one short phrase per subject naming each broken
/// invariant with the value found (empty: the threat model holds). `engine`: a container
/// engine runs the sandbox (judge it). `waived`: invariant keys an advanced answer decided
/// ([`invariants::waived`]).
pub fn open_today(value: &Value, threat: &str, engine: bool, waived: &[String]) -> Vec<String> {
    // (subject, what is broken), in the order the invariants are evaluated.
    let mut by_subject: Vec<(String, Vec<String>)> = Vec::new();
    // Where each subject sits in the list: a search of the list per violation was quadratic
    // in the number of agents.
    let mut at: std::collections::HashMap<String, usize> = Default::default();
    // Each is made a phrase as found (a big file's agents break thousands).
    invariants::each_violation(value, threat, engine, waived, |v| {
        let (subject, what) = phrase(&v);
        match at.get(&subject) {
            Some(&i) if !by_subject[i].1.contains(&what) => by_subject[i].1.push(what),
            Some(_) => {}
            None => {
                at.insert(subject.clone(), by_subject.len());
                by_subject.push((subject, vec![what]));
            }
        }
    });
    by_subject
        .into_iter()
        .map(|(s, all)| format!("{s}: {}", all.join(", ")))
        .collect()
}

/// (`agent `work``, `sandbox.mode off`), (`channel `telegram``, `dmPolicy open`).
fn phrase(v: &Violation) -> (String, String) {
    let via = v
        .via
        .as_ref()
        .map(|b| format!(" ({b} routes outsiders to it)"))
        .unwrap_or_default();
    let what = if v.missing_denies.is_empty() {
        let found = match &v.found {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => "unset".to_string(),
        };
        format!("{} {found}", v.invariant)
    } else {
        format!("{} lacks {}", v.invariant, v.missing_denies.join(", "))
    };
    (format!("{}{via}", v.subject), what)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_what_is_open_and_nothing_on_a_locked_file() {
        let open = json!({
            "channels": {"telegram": {"dmPolicy": "open", "groupPolicy": "disabled"},
                         "whatsapp": {"dmPolicy": "pairing", "groupPolicy": "disabled"}},
            "agents": {"ownership": "explicit",
                       "defaults": {"sandbox": {"mode": "non-main", "workspaceAccess": "ro",
                                                "docker": {"network": "none"}}},
                       "entries": {"main": {}, "work": {"sandbox": {"mode": "off"}}}},
            "gateway": {"bind": "lan"},
            "tools": {"profile": "coding", "exec": {"security": "full"}, "elevated": {"enabled": true}},
        });
        let lines = open_today(&open, BEFORE_CHOOSING, true, &[]);
        for (subject, what) in [
            ("channel `telegram`", "dmPolicy open"),
            ("agent `work`", "sandbox.mode off"),
            ("the config", "gateway.bind lan"),
            ("agent `main`", "tools.exec.mode full"),
            ("agent `main`", "tools.elevated.enabled true"),
        ] {
            assert!(
                lines
                    .iter()
                    .any(|l| l.starts_with(&format!("{subject}: ")) && l.contains(what)),
                "{subject} {what}: {lines:?}"
            );
        }
        assert_eq!(lines.len(), 4, "one line per subject: {lines:?}");
        assert!(!lines.iter().any(|l| l.contains("whatsapp")), "{lines:?}");
        let locked = json!({
            "channels": {"telegram": {"dmPolicy": "pairing", "groupPolicy": "disabled"}},
            "agents": {"defaults": {"sandbox": {"mode": "all", "workspaceAccess": "ro",
                                                "docker": {"network": "none"}}}},
            "gateway": {"bind": "loopback"},
            "tools": {"profile": "coding", "exec": {"mode": "ask"}, "elevated": {"enabled": false}},
        });
        assert_eq!(
            open_today(&locked, BEFORE_CHOOSING, true, &[]),
            Vec::<String>::new()
        );
        // The same file for strangers: every agent is theirs, and coding tools are too many.
        assert!(
            open_today(&locked, "public", true, &[])
                .iter()
                .any(|l| l.starts_with("agent `main`: ") && l.contains("tools.profile coding")),
        );
        // No engine: the sandbox is not judged, the tools still are.
        let no_engine = open_today(
            &json!({"tools": {"profile": "full"}}),
            BEFORE_CHOOSING,
            false,
            &[],
        );
        assert!(
            no_engine
                .iter()
                .any(|l| l.starts_with("agent `main`: tools.profile full")),
            "{no_engine:?}"
        );
        assert!(
            !no_engine.iter().any(|l| l.contains("sandbox")),
            "{no_engine:?}"
        );
    }
}
