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

/// A config with a second agent `work` and a telegram channel: the shape every weakness below
/// is hand-applied to.
const TWO_AGENTS: &str = r#"{
  agents: { ownership: "explicit", entries: { main: {}, work: { workspace: "~/.openclaw/workspace-work" } } },
  channels: { telegram: { dmPolicy: "pairing" } },
}"#;

fn answers(threat: &str) -> Vec<&'static str> {
    let mut a = vec!["--owner", "telegram:123456789"];
    if threat == "group" {
        a.extend(["--group", "telegram:-100200", "--member", "telegram:222"]);
    }
    a
}

type Weakness = (&'static str, &'static str, fn(&mut serde_json::Value));

/// Each weakness, the subject verify must name and the invariant.
fn weaknesses(threat: &str) -> Vec<Weakness> {
    let mut w: Vec<Weakness> = vec![
        ("agent `work`", "sandbox.mode", |v| {
            v["agents"]["entries"]["work"]["sandbox"] = serde_json::json!({"mode": "off"})
        }),
        ("agent `work`", "tools.profile", |v| {
            v["agents"]["entries"]["work"]["tools"] = serde_json::json!({"profile": "full"})
        }),
        ("agent `work`", "tools.exec.mode", |v| {
            v["agents"]["entries"]["work"]["tools"] = serde_json::json!({"exec": {"mode": "full"}})
        }),
        ("agent `work`", "tools.elevated.enabled", |v| {
            v["agents"]["entries"]["work"]["tools"] =
                serde_json::json!({"elevated": {"enabled": true}})
        }),
    ];
    if threat != "public" {
        w.push(("channel `telegram` account `alt`", "dmPolicy", |v| {
            v["channels"]["telegram"]["accounts"] =
                serde_json::json!({"alt": {"dmPolicy": "open", "allowFrom": ["*"]}})
        }));
    }
    if threat == "public" {
        w.push(("agent `main`", "memory.search.enabled", |v| {
            v["agents"]["entries"]["main"]["memory"]["search"]["enabled"] = true.into()
        }));
    }
    if threat != "private" {
        w.push(("the config", "session.dmScope", |v| {
            v["session"]["dmScope"] = "main".into()
        }));
    }
    if threat == "group" {
        w.push(("agent `group`", "memory.search.enabled", |v| {
            v["agents"]["entries"]["group"]["memory"]["search"]["enabled"] = true.into()
        }));
        // An outsider routed to the weaker agent.
        w.push(("agent `work` (bindings[", "sandbox.mode", |v| {
            if let Some(b) = v["bindings"].as_array_mut() {
                b.push(serde_json::json!({"agentId": "work",
                    "match": {"channel": "telegram", "peer": {"kind": "group", "id": "-555"}}}));
            }
        }));
    }
    w
}

/// The negative tier: after a clean apply `static.invariants` passes; each weakness put in by
/// hand makes `verify` (static, no OpenClaw) exit 1 with `static.invariants` naming the agent
/// (or channel) and the invariant, whatever the drift check says.
#[test]
fn each_weakness_put_back_by_hand_fails_verify_naming_the_agent_and_the_invariant() {
    for threat in ["private", "group", "public"] {
        let h = Home::new();
        h.put_config(TWO_AGENTS);
        h.apply(threat, "docker-rootless", &answers(threat));
        let flags = verify_args(&h);
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        let clean = h.verify(&flags);
        assert_eq!(
            clean.status("static.invariants"),
            "pass",
            "{threat}: {}",
            clean.pretty()
        );
        let written = std::fs::read_to_string(h.config()).expect("written");
        for (subject, invariant, weaken) in weaknesses(threat) {
            std::fs::write(h.config(), &written).expect("restore");
            h.edit(weaken);
            let bad = h.verify(&flags);
            let item = bad.item("static.invariants").to_string();
            assert_eq!(
                bad.status("static.invariants"),
                "fail",
                "{threat} / {invariant}: {}",
                bad.pretty()
            );
            assert!(
                item.contains(subject) && item.contains(invariant),
                "{threat}: `{subject}` and `{invariant}` named in {item}"
            );
            assert_eq!(bad.code, Some(1), "{threat} / {invariant}");
        }
    }
}

/// "Open today" (the lines `plan`, `--plain` and the Welcome screen open with) comes from the
/// same invariant evaluation: after a clean apply it says nothing is open; each weakness of the
/// negative tier put in by hand is named there, with its subject and invariant.
#[test]
fn the_today_summary_names_each_weakness_the_invariants_catch() {
    let open_today = |h: &Home, threat: &str| -> Option<String> {
        let out = h.run_here(&[
            "plan",
            "--threat",
            threat,
            "--engine",
            "docker-rootless",
            "--no-detect",
        ]);
        format!("{}{}", stdout(&out), stderr(&out))
            .lines()
            .find_map(|l| l.strip_prefix("Open today: ").map(str::to_string))
    };
    for threat in ["private", "group", "public"] {
        let h = Home::new();
        h.put_config(TWO_AGENTS);
        assert!(
            open_today(&h, threat).is_some(),
            "{threat}: the file before apply is open"
        );
        h.apply(threat, "docker-rootless", &answers(threat));
        assert_eq!(
            open_today(&h, threat),
            None,
            "{threat}: nothing open after apply"
        );
        let written = std::fs::read_to_string(h.config()).expect("written");
        for (subject, invariant, weaken) in weaknesses(threat) {
            std::fs::write(h.config(), &written).expect("restore");
            h.edit(weaken);
            let line = open_today(&h, threat)
                .unwrap_or_else(|| panic!("{threat} / {invariant}: no `Open today` line"));
            // One phrase per subject: `agent `work`: sandbox.mode off, tools.profile full`.
            let named = line.split("; ").any(|p| {
                p.starts_with(subject)
                    && p.split_once("): ")
                        .or_else(|| p.split_once(": "))
                        .is_some_and(|(_, what)| {
                            what.split(", ")
                                .any(|w| w.starts_with(&format!("{invariant} ")))
                        })
            });
            assert!(
                named,
                "{threat}: `{subject}` and `{invariant}` named in {line}"
            );
        }
    }
}

/// Without an engine the sandbox invariants do not apply (the locked-down variants turn the
/// sandbox off), but the tool policy ones do; verify is told the engine with `--engine none`.
#[test]
fn without_an_engine_the_tool_invariants_still_hold_and_are_judged() {
    let h = Home::new();
    h.put_config(TWO_AGENTS);
    h.apply("public", "none", &answers("public"));
    let flags = ["--no-openclaw", "--engine", "none"];
    let clean = h.verify(&flags);
    assert_eq!(
        clean.status("static.invariants"),
        "pass",
        "{}",
        clean.pretty()
    );
    h.edit(|v| {
        v["agents"]["entries"]["work"]["tools"] = serde_json::json!({"exec": {"mode": "full"}})
    });
    let bad = h.verify(&flags);
    assert_eq!(bad.status("static.invariants"), "fail", "{}", bad.pretty());
    assert!(
        bad.item("static.invariants")
            .to_string()
            .contains("tools.exec.mode")
    );
    assert_eq!(bad.code, Some(1));
}

/// A channel block loaded through `$include` is judged as OpenClaw loads it: an open DM policy
/// inside fails verify (private), and apply refuses to write through it (exit 4, key named).
#[test]
fn a_channel_include_is_judged_by_verify_and_refused_by_apply() {
    let h = Home::new();
    h.put_config(TWO_AGENTS);
    h.apply("private", "docker-rootless", &answers("private"));
    let flags = verify_args(&h);
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let written = std::fs::read_to_string(h.config()).expect("written");
    let mut v = json5(&written);
    v["channels"] = serde_json::json!({"$include": "./channels.json5"});
    std::fs::write(h.config(), serde_json::to_string_pretty(&v).expect("json")).expect("w");
    let inc = h.config().with_file_name("channels.json5");
    std::fs::write(
        &inc,
        r#"{ telegram: { dmPolicy: "open", allowFrom: ["*"] } }"#,
    )
    .expect("w");
    let bad = h.verify(&flags);
    assert_eq!(bad.status("static.invariants"), "fail", "{}", bad.pretty());
    assert!(
        bad.item("static.invariants")
            .to_string()
            .contains("channel `telegram`"),
        "{}",
        bad.pretty()
    );
    // A missing include is never a pass.
    std::fs::remove_file(&inc).expect("rm");
    let gone = h.verify(&flags);
    assert_eq!(
        gone.status("static.invariants"),
        "fail",
        "{}",
        gone.pretty()
    );
    assert!(
        gone.item("static.invariants")
            .to_string()
            .contains("channels.json5 cannot be read"),
        "why is said: {}",
        gone.pretty()
    );
    let config = h.config();
    let state = h.state();
    let out = h.run(&[
        "apply",
        "--yes",
        "--threat",
        "private",
        "--engine",
        "docker-rootless",
        "--no-detect",
        "--same-gateway",
        "--config",
        config.to_str().expect("utf-8"),
        "--state-dir",
        state.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains("`channels`"), "{}", stderr(&out));
}

/// Recognition of the written preset is exact for every preset, engine and set of optional
/// answers (none, owner, owner + group, owner + group + member, group alone), from the file
/// alone (the ledger removed): the preset is named, nothing drifted, the invariants hold.
#[test]
fn the_written_preset_is_recognised_exactly_with_and_without_its_optional_answers() {
    let sets: [&[&str]; 5] = [
        &[],
        &["--owner", "telegram:123"],
        &["--owner", "telegram:123", "--group", "telegram:-100"],
        &[
            "--owner",
            "telegram:123",
            "--group",
            "telegram:-100",
            "--member",
            "telegram:222",
        ],
        &["--group", "telegram:-100"],
    ];
    let mut wrong = Vec::new();
    for threat in ["private", "group", "public"] {
        for engine in ["docker", "docker-rootless", "podman-rootless", "none"] {
            for answers in sets {
                let h = Home::new();
                h.put_config(r#"{ channels: { telegram: { dmPolicy: "pairing" } } }"#);
                h.apply(threat, engine, answers);
                std::fs::remove_file(h.state().join("clawposture-ledger.json"))
                    .expect("apply kept a ledger");
                let sock = format!("unix://{}", h.path("no-engine.sock").display());
                let v = h.verify(&["--no-openclaw", "--docker-host", &sock]);
                let name = format!("{threat} / {engine} / {answers:?}");
                if v.report["preset"] != threat {
                    wrong.push(format!("{name}: recognised as {}", v.report["preset"]));
                }
                for id in ["static.drift", "static.invariants"] {
                    if v.status(id) != "pass" {
                        wrong.push(format!("{name}: {id}: {}", v.item(id)));
                    }
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The engine check compares the config's user mapping with the engine reached: a config
/// written for rootless Docker (`docker.user "0:0"`, your own user there) verified against the
/// real rootful Docker fails `engine.user_mapping` with the fix (it would be real root), and
/// passes on the rootless engine it was written for.
#[test]
fn a_rootless_user_mapping_on_a_rootful_engine_fails_with_the_fix() {
    let Some(env) = engines() else { return };
    let h = Home::new();
    h.apply("private", "docker-rootless", &[]);
    let text = std::fs::read_to_string(h.config()).expect("written");
    assert_eq!(
        json5(&text)["agents"]["defaults"]["sandbox"]["docker"]["user"],
        "0:0"
    );
    let t = targets(&env);
    let on = |label: &str| {
        let target = t.iter().find(|x| x.label == label).expect("target");
        h.verify(&["--no-openclaw", "--docker-host", &target.endpoint])
    };
    let rootful = on("docker");
    assert_eq!(
        rootful.status("engine.reachable"),
        "pass",
        "{}",
        rootful.pretty()
    );
    assert_eq!(
        rootful.status("engine.user_mapping"),
        "fail",
        "{}",
        rootful.pretty()
    );
    let item = rootful.item("engine.user_mapping").to_string();
    assert!(
        item.contains("agent `main`") && item.contains("apply --engine docker"),
        "{item}"
    );
    assert_eq!(rootful.code, Some(1));
    let rootless = on("docker-rootless");
    assert_eq!(
        rootless.status("engine.user_mapping"),
        "pass",
        "{}",
        rootless.pretty()
    );
}

/// plan names each per-agent override it owns, with its reason, and the refusal of a binding
/// to a weaker agent names the key and the fix (exit 4, nothing written).
#[test]
fn plan_owns_each_override_with_its_reason_and_refuses_a_binding_to_a_weaker_agent() {
    let h = Home::new();
    h.put_config(&fixture("agent-weak-overrides.json5"));
    let config = h.config();
    let state = h.state();
    let paths = [
        "--config",
        config.to_str().expect("utf-8"),
        "--state-dir",
        state.to_str().expect("utf-8"),
    ];
    let mut args = vec![
        "plan",
        "--threat",
        "public",
        "--engine",
        "docker-rootless",
        "--no-detect",
        "--accept-risk",
    ];
    args.extend(paths);
    let out = h.run(&args);
    let text = stdout(&out);
    for (key, reason) in [
        (
            "agents.entries.work.sandbox.mode",
            "agent `work` would run unsandboxed for strangers",
        ),
        (
            "agents.entries.work.tools.profile",
            "offer strangers coding or every tool",
        ),
        (
            "agents.entries.work.tools.exec.mode",
            "would run commands for strangers",
        ),
        (
            "agents.entries.work.tools.elevated.enabled",
            "escape hatch to the host",
        ),
        (
            "agents.entries.work.memory.search.enabled",
            "let strangers search memory",
        ),
    ] {
        assert!(text.contains(key), "{key} in the plan:\n{text}");
        assert!(
            text.to_lowercase().contains(&reason.to_lowercase()),
            "{reason}:\n{text}"
        );
    }
    let h = Home::new();
    h.put_config(&fixture("binding-second-agent.json5"));
    let before = std::fs::read(h.config()).expect("config");
    let config = h.config();
    let state = h.state();
    let out = h.run(&[
        "apply",
        "--yes",
        "--threat",
        "group",
        "--engine",
        "docker-rootless",
        "--no-detect",
        "--same-gateway",
        "--group",
        "telegram:-100200",
        "--config",
        config.to_str().expect("utf-8"),
        "--state-dir",
        state.to_str().expect("utf-8"),
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(
        err.contains("agents.entries.work.sandbox.mode") && err.contains("remove bindings[1]"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(h.config()).expect("config"),
        before,
        "nothing written"
    );
}
