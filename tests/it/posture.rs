//! Posture truth, first part: the preset is a floor for every agent. An agent whose own
//! sandbox mode is weaker than the preset's is raised by apply (named in the plan), and the
//! same weakness put back by hand makes verify fail, naming the agent's key.

use crate::support::homes::{fixture, json5};
use crate::support::verify::*;

fn verify_args(h: &Home) -> Vec<String> {
    vec![
        "--no-openclaw".into(),
        "--engine".into(),
        "docker-rootless".into(),
        "--docker-host".into(),
        format!("unix://{}", h.path("no-engine.sock").display()),
    ]
}

#[test]
fn an_agent_that_turns_its_sandbox_off_is_raised_and_verify_catches_it_coming_back() {
    for (threat, floor) in [
        ("private", "non-main"),
        ("group", "non-main"),
        ("public", "all"),
    ] {
        let h = Home::new();
        h.put_config(&fixture("agent-override.json5"));
        let extra: &[&str] = if threat == "group" {
            &["--group", "telegram:-100200"]
        } else {
            &[]
        };
        h.apply(threat, "docker-rootless", extra);
        let text = std::fs::read_to_string(h.config()).expect("written");
        let v = json5(&text);
        assert_eq!(
            v["agents"]["entries"]["work"]["sandbox"]["mode"], floor,
            "{threat}: {text}"
        );
        // The user's comment on that line is kept.
        assert!(
            text.contains("// full access for my side project"),
            "{text}"
        );
        let flags = verify_args(&h);
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        let ok = h.verify(&flags);
        assert_eq!(
            ok.status("static.drift"),
            "pass",
            "{threat}: {}",
            ok.pretty()
        );

        h.edit(|v| v["agents"]["entries"]["work"]["sandbox"]["mode"] = "off".into());
        let bad = h.verify(&flags);
        assert_eq!(
            bad.status("static.drift"),
            "fail",
            "{threat}: {}",
            bad.pretty()
        );
        assert!(
            bad.item("static.drift")
                .to_string()
                .contains("agents.entries.work.sandbox.mode"),
            "{threat}: the agent's key is named: {}",
            bad.pretty()
        );
        assert_eq!(bad.code, Some(1));
    }
}
