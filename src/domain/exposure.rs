//! Where a config stands before any question: what in it is open to someone (pure). Every
//! front end opens with these lines (`plan`, `--plain`, the wizard's Welcome), so the user
//! sees what is at stake before choosing.

use serde_json::Value;

/// What the file leaves open, one short phrase each (empty: nothing clawposture looks at).
pub fn open_today(value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(channels) = value.get("channels").and_then(Value::as_object) {
        for (name, block) in channels {
            if block.get("dmPolicy").and_then(Value::as_str) == Some("open") {
                out.push(format!("DMs on {name} open to anyone"));
            }
        }
    }
    let default_mode = value
        .pointer("/agents/defaults/sandbox/mode")
        .and_then(Value::as_str)
        .unwrap_or("off");
    if default_mode == "off" {
        out.push("no sandbox (agents.defaults.sandbox.mode is off)".into());
    }
    if let Some(entries) = value.pointer("/agents/entries").and_then(Value::as_object) {
        for (id, entry) in entries {
            let mode = entry.pointer("/sandbox/mode").and_then(Value::as_str);
            if mode == Some("off") && default_mode != "off" {
                out.push(format!("agent `{id}` unsandboxed"));
            }
        }
    }
    match value.pointer("/gateway/bind").and_then(Value::as_str) {
        None | Some("loopback") => {}
        Some(bind) => out.push(format!("Gateway bound to {bind}, not loopback")),
    }
    let exec = value.pointer("/tools/exec");
    let full = |k: &str| exec.and_then(|e| e.get(k)).and_then(Value::as_str) == Some("full");
    if full("mode") || full("security") {
        out.push("host shell commands run without approval (exec full)".into());
    }
    if value.pointer("/tools/elevated/enabled") == Some(&Value::Bool(true)) {
        out.push("elevated exec on".into());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_what_is_open_and_nothing_on_a_locked_file() {
        let open = json!({
            "channels": {"telegram": {"dmPolicy": "open"}, "whatsapp": {"dmPolicy": "pairing"}},
            "agents": {"defaults": {"sandbox": {"mode": "non-main"}},
                       "entries": {"work": {"sandbox": {"mode": "off"}}}},
            "gateway": {"bind": "lan"},
            "tools": {"exec": {"security": "full"}, "elevated": {"enabled": true}},
        });
        let lines = open_today(&open);
        assert_eq!(lines.len(), 5, "{lines:?}");
        assert!(lines[0].contains("telegram"));
        assert!(lines.iter().any(|l| l.contains("agent `work`")));
        let locked = json!({
            "agents": {"defaults": {"sandbox": {"mode": "all"}}},
            "gateway": {"bind": "loopback"},
            "tools": {"exec": {"mode": "ask"}},
        });
        assert!(open_today(&locked).is_empty());
        assert!(open_today(&json!({}))[0].contains("no sandbox"));
    }
}
