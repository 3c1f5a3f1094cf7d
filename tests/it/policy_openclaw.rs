//! The preset's policy for OpenClaw's Policy plugin (`presets/<preset>.policy.jsonc`) and the
//! bounded OpenClaw phase of verify, with the real OpenClaw CLI (`$CLAWPOSTURE_OPENCLAW`):
//! every preset's policy is accepted and clean on what apply writes; a weakened agent is named by
//! verify; a policy file clawposture did not write is never overwritten; the one OpenClaw process
//! of verify (audit, validate, policy check, every explain) answers exactly what the CLI answers;
//! SIGTERM leaves no OpenClaw child behind.

use crate::support::verify as verify_common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::support::openclaw::{json_of, namespaces_work, oc_cmd, verify_env};
use serde_json::{Value, json};
use verify_common::*;

/// Each check starts Node processes; on two cores the tests take turns.
static NODE_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn openclaw() -> Option<PathBuf> {
    crate::support::homes::openclaw_or_skip("the preset's policy with the real OpenClaw")
}

fn policy_path(h: &Home) -> PathBuf {
    h.state().join("clawposture.policy.jsonc")
}

#[test]
fn every_preset_policy_is_accepted_by_openclaw_and_clean_on_what_apply_writes() {
    let Some(oc) = openclaw() else { return };
    if !namespaces_work() {
        return skipped("needs `unshare -n` to keep OpenClaw off the network");
    }
    let _turn = NODE_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let mut cases = Vec::new();
    for threat in ["private", "group", "public"] {
        for engine in ["docker", "docker-rootless", "podman-rootless", "none"] {
            let h = Home::new();
            h.put_config(TELEGRAM);
            h.apply(threat, engine, &answers(threat));
            cases.push((threat, engine, h));
        }
    }
    // Three at a time (each is a Node process of ~10 s on a loaded machine).
    let results: Vec<(Value, Value)> = std::thread::scope(|s| {
        let mut out = Vec::new();
        for chunk in cases.chunks(3) {
            let handles: Vec<_> = chunk
                .iter()
                .map(|(_, _, h)| {
                    let oc = &oc;
                    s.spawn(move || {
                        let check =
                            oc_cmd(h, oc, &["policy", "check", "--agent", "main", "--json"])
                                .output()
                                .expect("policy check");
                        let valid = oc_cmd(h, oc, &["config", "validate", "--json"])
                            .output()
                            .expect("config validate");
                        (json_of(&check), json_of(&valid))
                    })
                })
                .collect();
            out.extend(handles.into_iter().map(|h| h.join().expect("thread")));
        }
        out
    });
    for ((threat, engine, h), (check, valid)) in cases.iter().zip(results) {
        let file = policy_path(h);
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("{threat}/{engine}: no policy file: {e}"));
        assert!(
            text.starts_with("// Written by clawposture"),
            "{threat}/{engine}"
        );
        assert_eq!(
            crate::support::homes::mode(&file) & 0o777,
            0o600,
            "{threat}/{engine}"
        );
        let config =
            crate::support::homes::json5(&std::fs::read_to_string(h.config()).expect("config"));
        assert_eq!(
            config["plugins"]["entries"]["policy"],
            json!({"enabled": true, "config": {"path": file.display().to_string()}}),
            "{threat}/{engine}"
        );
        // The ledger knows the file it wrote.
        let ledger: Value = serde_json::from_str(
            &std::fs::read_to_string(h.state().join("clawposture-ledger.json")).expect("ledger"),
        )
        .expect("ledger JSON");
        let last = &ledger["writes"][ledger["writes"].as_array().map_or(0, |w| w.len()) - 1];
        assert_eq!(last["policy"]["path"], json!(file.display().to_string()));
        assert_eq!(
            last["policy"]["sha256"],
            json!(clawposture::domain::ledger::sha256_hex(text.as_bytes()))
        );
        // Only rules the real plugin accepts, and the preset makes them all true.
        assert_eq!(
            check["findings"],
            json!([]),
            "{threat}/{engine}: {check:#}\npolicy:\n{text}"
        );
        assert_eq!(check["ok"], json!(true), "{threat}/{engine}");
        assert!(
            check["checksRun"].as_u64().unwrap_or(0) > 0,
            "{threat}/{engine}: {check}"
        );
        // The sandbox rules are there exactly when the preset sandboxes.
        let rules = crate::support::homes::json5(&text);
        assert_eq!(
            rules.get("sandbox").is_some(),
            *engine != "none",
            "{threat}/{engine}: {text}"
        );
        if *engine == "podman-rootless" {
            assert_eq!(rules["sandbox"]["allowBackends"], json!(["podman"]));
        }
        assert_eq!(valid["valid"], json!(true), "{threat}/{engine}: {valid}");
    }
}

#[test]
fn verify_fails_naming_the_agent_a_policy_rule_catches() {
    let Some(oc) = openclaw() else { return };
    let _turn = NODE_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let h = Home::new();
    h.put_config(TELEGRAM);
    h.apply("public", "docker-rootless", &answers("public"));
    // Hand-applied after a clean apply: a second agent with its sandbox off and exec on.
    h.edit(|v| {
        v["agents"]["ownership"] = json!("explicit");
        v["agents"]["entries"]["work"] =
            json!({"sandbox": {"mode": "off"}, "tools": {"exec": {"mode": "full"}}});
    });
    let dead = h.path("no-engine.sock");
    let env = verify_env(&oc);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let v = h.verify_with(
        &[
            "--openclaw",
            oc.to_str().expect("utf-8"),
            "--docker-host",
            &format!("unix://{}", dead.display()),
        ],
        &env,
    );
    assert_eq!(v.code, Some(1), "{}", v.pretty());
    let id = "openclaw.policy[work].sandbox-mode-unapproved";
    assert_eq!(v.status(id), "fail", "{}", v.pretty());
    assert!(v.text(id).contains("agent `work`"), "{}", v.text(id));
    assert_eq!(v.status("openclaw.policy"), "fail");
    assert!(
        v.ids("fail")
            .iter()
            .any(|i| i.starts_with("openclaw.policy[work].tools-exec")),
        "{:?}",
        v.ids("fail")
    );
    // The main agent keeps to the rules: no finding names it.
    assert!(
        !v.ids("fail")
            .iter()
            .any(|i| i.starts_with("openclaw.policy[main]")),
        "{:?}",
        v.ids("fail")
    );
    // Bounded: one OpenClaw process for validate, audit, policy check and both agents' explain.
    assert!(
        v.text("openclaw.binary")
            .contains("1 OpenClaw process(es); "),
        "{}",
        v.text("openclaw.binary")
    );
    assert!(
        v.text("openclaw.binary")
            .contains("in one OpenClaw process"),
        "{}",
        v.text("openclaw.binary")
    );
    // A progress line per check while it runs, then its end with the elapsed time.
    for check in [
        "openclaw config validate",
        "openclaw security audit",
        "openclaw policy check",
    ] {
        assert!(
            v.stderr.contains(&format!("clawposture: {check} …")),
            "{check}: {}",
            v.stderr
        );
        assert!(
            v.stderr.lines().any(
                |l| l.starts_with(&format!("clawposture: {check} done (exit")) && l.ends_with(" s")
            ),
            "{check}: {}",
            v.stderr
        );
    }
}

#[test]
fn a_weakened_policy_file_fails_verify_and_a_stricter_one_passes() {
    let Some(oc) = openclaw() else { return };
    let _turn = NODE_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let h = Home::new();
    h.put_config(TELEGRAM);
    h.apply("private", "none", &answers("private"));
    let file = policy_path(&h);
    let written = std::fs::read_to_string(&file).expect("policy");
    let env = verify_env(&oc);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let run = || h.verify_with(&["--openclaw", oc.to_str().expect("utf-8")], &env);
    let v = run();
    assert_eq!(
        v.status("openclaw.policy.file"),
        "pass",
        "{}",
        v.text("openclaw.policy.file")
    );
    assert!(v.text("openclaw.policy.file").contains("exactly"));
    assert_eq!(
        v.status("openclaw.policy"),
        "pass",
        "{}",
        v.text("openclaw.policy")
    );
    // Weakened by hand: policy check itself stays clean (fewer rules), compare does not.
    let mut rules = crate::support::homes::json5(&written);
    rules["tools"]
        .as_object_mut()
        .expect("tools")
        .remove("elevated");
    rules["gateway"]["auth"]["requireAuth"] = json!(false);
    std::fs::write(&file, serde_json::to_string_pretty(&rules).expect("json")).expect("write");
    let v = run();
    assert_eq!(v.status("openclaw.policy.file"), "fail", "{}", v.pretty());
    let t = v.text("openclaw.policy.file");
    assert!(
        t.contains("tools.elevated.allow") && t.contains("requireAuth"),
        "{t}"
    );
    assert_eq!(v.code, Some(1));
    // Stricter by hand: kept, and it passes.
    let mut rules = crate::support::homes::json5(&written);
    rules["network"] = json!({"privateNetwork": {"allow": false}});
    std::fs::write(&file, serde_json::to_string_pretty(&rules).expect("json")).expect("write");
    let v = run();
    assert_eq!(
        v.status("openclaw.policy.file"),
        "pass",
        "{}",
        v.text("openclaw.policy.file")
    );
    assert!(
        v.text("openclaw.policy.file")
            .contains("at least as strict")
    );
}

/// `clawposture apply --yes ARGS` into this home, its printed plan and outcome together.
fn apply_out(h: &Home, threat: &str, extra: &[&str]) -> (Option<i32>, String) {
    let mut args = vec![
        "apply",
        "--yes",
        "--threat",
        threat,
        "--engine",
        "none",
        "--accept-risk",
    ];
    args.extend(extra);
    let out = h.run_here(&args);
    (
        out.status.code(),
        format!("{}{}", stdout(&out), stderr(&out)),
    )
}

/// The preset is a floor under a policy file of the user's: their stricter rules stay across
/// apply and re-apply, a looser rule is raised with its reason in the plan, a rule that cannot
/// be judged is refused with its name and nothing is written; a file exactly as clawposture
/// renders it follows the preset.
#[test]
fn a_policy_file_of_the_users_is_kept_with_the_preset_as_its_floor() {
    let h = Home::new();
    h.put_config(TELEGRAM);
    let file = policy_path(&h);
    let theirs = r#"// my own rules
{
  "tools": {
    "elevated": { "allow": false },
    "exec": { "allowSecurity": ["deny"] }, // no host exec at all
  },
  "network": { "privateNetwork": { "allow": false } },
}
"#;
    std::fs::write(&file, theirs).expect("write");
    let owner = ["--owner", "telegram:123456789"];
    for round in ["apply", "re-apply"] {
        let (code, said) = apply_out(&h, "private", &owner);
        assert_eq!(code, Some(0), "{round}: {said}");
        let text = std::fs::read_to_string(&file).expect("policy");
        let rules = crate::support::homes::json5(&text);
        // Theirs, stricter than the preset's: kept, with their comments.
        assert!(text.starts_with("// my own rules"), "{round}: {text}");
        assert!(text.contains("// no host exec at all"), "{round}: {text}");
        assert_eq!(rules["tools"]["exec"]["allowSecurity"], json!(["deny"]));
        assert_eq!(rules["network"]["privateNetwork"]["allow"], json!(false));
        // The preset's floor is in.
        assert_eq!(rules["gateway"]["auth"]["requireAuth"], json!(true));
        assert_eq!(rules["ingress"]["session"]["requireDmScope"], json!("main"));
        assert_eq!(
            rules["tools"]["exec"]["requireAsk"],
            json!(["on-miss", "always"])
        );
        if round == "apply" {
            assert!(
                said.contains("policy tools.exec.allowSecurity: yours kept"),
                "{said}"
            );
            assert!(
                said.contains("policy gateway.auth.requireAuth: added"),
                "{said}"
            );
        } else {
            assert!(said.contains("at least as strict"), "{said}");
        }
    }

    // Loosened by hand: raised to the floor, the reason in the plan.
    let merged = std::fs::read_to_string(&file).expect("policy");
    let looser = merged.replace(
        "\"elevated\": { \"allow\": false }",
        "\"elevated\": { \"allow\": true }",
    );
    assert_ne!(looser, merged);
    std::fs::write(&file, &looser).expect("write");
    let (code, said) = apply_out(&h, "private", &owner);
    assert_eq!(code, Some(0), "{said}");
    assert!(
        said.contains("policy tools.elevated.allow: raised from true to the preset's floor false"),
        "{said}"
    );
    let rules = crate::support::homes::json5(&std::fs::read_to_string(&file).expect("policy"));
    assert_eq!(rules["tools"]["elevated"]["allow"], json!(false));
    assert_eq!(rules["tools"]["exec"]["allowSecurity"], json!(["deny"]));

    // A rule clawposture cannot judge: refused with its name, nothing written.
    let unknown =
        std::fs::read_to_string(&file)
            .expect("policy")
            .replacen("\"network\"", "\"netwrk\"", 1);
    std::fs::write(&file, &unknown).expect("write");
    let before = std::fs::read(h.config()).expect("config");
    let (code, said) = apply_out(&h, "public", &owner);
    assert_eq!(code, Some(4), "{said}");
    assert!(
        said.contains("`netwrk.privateNetwork.allow` is not a policy rule"),
        "{said}"
    );
    assert_eq!(std::fs::read_to_string(&file).expect("kept"), unknown);
    assert_eq!(
        std::fs::read(h.config()).expect("config"),
        before,
        "nothing written"
    );

    // Moved away: apply writes the preset's; another preset replaces its own file.
    std::fs::remove_file(&file).expect("rm");
    h.apply("private", "none", &answers("private"));
    let private = std::fs::read_to_string(&file).expect("written");
    assert!(
        private.contains("\"requireDmScope\": \"main\""),
        "{private}"
    );
    h.apply("public", "none", &answers("public"));
    let public = std::fs::read_to_string(&file).expect("replaced");
    assert!(
        public.contains("\"requireDmScope\": \"per-channel-peer\""),
        "{public}"
    );
    // Edited by hand since, then another preset: its rules follow the preset, the edit stays.
    let edited = public.replace(
        "\"tools\": {",
        "\"network\": { \"privateNetwork\": { \"allow\": false } },\n  \"tools\": {",
    );
    assert_ne!(edited, public);
    std::fs::write(&file, &edited).expect("edit");
    let (code, said) = apply_out(&h, "private", &owner);
    assert_eq!(code, Some(0), "{said}");
    let text = std::fs::read_to_string(&file).expect("policy");
    let rules = crate::support::homes::json5(&text);
    assert_eq!(
        rules["ingress"]["session"]["requireDmScope"],
        json!("main"),
        "{text}"
    );
    assert_eq!(rules["network"]["privateNetwork"]["allow"], json!(false));
    assert!(rules["agents"].get("workspace").is_none(), "{text}");
    assert!(
        said.contains(
            "policy ingress.session.requireDmScope: \"per-channel-peer\" was the public preset's"
        ),
        "{said}"
    );
}

/// The batch entry as clawposture sends it (the same file, the same encoding).
fn batch_options() -> String {
    let src = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src/edge/verify/openclaw_batch.mjs"),
    )
    .expect("openclaw_batch.mjs");
    let mut enc = String::new();
    for b in src.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            enc.push(b as char);
        } else {
            enc.push_str(&format!("%{b:02X}"));
        }
    }
    format!("--import=data:text/javascript,{enc}")
}

fn batch_line(out: &std::process::Output) -> Value {
    let text = stdout(out);
    let line = text
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("CLAWPOSTURE_BATCH "))
        .unwrap_or_else(|| panic!("no batch line: {text}{}", stderr(out)));
    serde_json::from_str(line).expect("batch JSON")
}

/// A JSON answer without the fields that only say when it was made.
fn timeless(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.remove("ts");
    }
    if let Some(a) = v.get_mut("attestation").and_then(Value::as_object_mut) {
        a.remove("checkedAt");
    }
    v
}

#[test]
fn one_process_answers_every_check_exactly_as_the_cli_does() {
    let Some(oc) = openclaw() else { return };
    if !namespaces_work() {
        return skipped("needs `unshare -n` to keep OpenClaw off the network");
    }
    let _turn = NODE_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let h = Home::new();
    let policy = h.path("rules.policy.jsonc");
    std::fs::write(&policy, r#"{"sandbox": {"requireMode": ["all"]}}"#).expect("policy");
    h.put_config(
        &json!({"agents": {"ownership": "explicit",
             "defaults": {"sandbox": {"mode": "non-main", "scope": "agent", "workspaceAccess": "ro"}},
             "entries": {"main": {}, "work": {"sandbox": {"mode": "off"}, "tools": {"elevated": {"enabled": false}}},
                         "pub": {"sandbox": {"mode": "all", "scope": "session", "workspaceAccess": "none"}}}},
            "plugins": {"entries": {"policy": {"enabled": true, "config": {"path": policy}}}}})
        .to_string(),
    );
    let commands: Vec<Vec<&str>> = vec![
        vec!["security", "audit", "--json"],
        vec!["config", "validate", "--json"],
        vec!["policy", "check", "--agent", "main", "--json"],
    ];
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (json!({"agent": "main"}), vec!["--agent", "main"]),
        (
            json!({"session": "agent:main:subagent:x"}),
            vec!["--session", "agent:main:subagent:x"],
        ),
        (json!({"agent": "work"}), vec!["--agent", "work"]),
        (json!({"agent": "pub"}), vec!["--agent", "pub"]),
        (
            json!({"session": "agent:pub:telegram:direct:42"}),
            vec!["--session", "agent:pub:telegram:direct:42"],
        ),
    ];
    // Many cases: an answer far beyond a pipe's 64 KiB arrives whole.
    let many: Vec<Value> = (0..12)
        .flat_map(|_| cases.iter().map(|(c, _)| c.clone()))
        .collect();
    let batch_env = |pin: &str| {
        let commands: Vec<Value> = commands
            .iter()
            .map(|a| json!({"args": a, "label": format!("openclaw {}", a[..2].join(" "))}))
            .collect();
        (
            json!({"commands": commands, "explain": many}).to_string(),
            pin.to_string(),
        )
    };
    let (list, pin) = batch_env("2026.9.6");
    let batch = oc_cmd(&h, &oc, &["security", "audit", "--json"])
        .env("NODE_OPTIONS", batch_options())
        .env("CLAWPOSTURE_BATCH", list)
        .env("CLAWPOSTURE_OPENCLAW_PIN", pin)
        .output()
        .expect("batch");
    assert!(
        batch.stdout.len() > 64 * 1024,
        "{} bytes",
        batch.stdout.len()
    );
    let b = batch_line(&batch);
    assert_eq!(b["version"], json!("2026.9.6"), "{b}");
    // Each check as it went, on stderr, with its time.
    for c in ["security audit", "config validate", "policy check"] {
        assert!(
            stderr(&batch).lines().any(|l| l
                .starts_with(&format!("CLAWPOSTURE_PROGRESS openclaw {c} done (exit"))
                && l.ends_with(" s")),
            "{c}: {}",
            stderr(&batch)
        );
    }
    let got = b["commands"].as_array().expect("commands");
    assert_eq!(got.len(), commands.len());
    for (args, got) in commands.iter().zip(got) {
        let cli = oc_cmd(&h, &oc, args).output().expect("cli");
        let text = got["stdout"].as_str().unwrap_or_else(|| panic!("{got}"));
        let mine = serde_json::from_str::<Value>(text.trim()).expect("the batch's JSON");
        assert_eq!(timeless(mine), timeless(json_of(&cli)), "{args:?}");
        assert_eq!(got["rc"], json!(cli.status.code()), "{args:?}");
    }
    // Spot checks that the comparison compared something.
    assert!(
        got[0]["stdout"]
            .as_str()
            .unwrap_or("")
            .contains("\"findings\"")
    );
    assert!(
        got[1]["stdout"]
            .as_str()
            .unwrap_or("")
            .contains("\"valid\":"),
        "{}",
        got[1]
    );
    assert!(
        got[2]["stdout"]
            .as_str()
            .unwrap_or("")
            .contains("policy/sandbox-mode-unapproved"),
        "{}",
        got[2]
    );
    let results = b["explain"].as_array().expect("explain");
    assert_eq!(results.len(), 12 * cases.len());
    for ((_, args), got) in cases.iter().zip(results) {
        let mut a = vec!["sandbox", "explain", "--json"];
        a.extend(args);
        let cli = json_of(&oc_cmd(&h, &oc, &a).output().expect("cli"));
        assert_eq!(got["json"], cli, "{args:?}");
    }
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r, &results[i % cases.len()], "case {i}");
    }
    assert_eq!(
        results[1]["json"]["sandbox"]["sessionIsSandboxed"],
        json!(true)
    );
    assert_eq!(results[2]["json"]["sandbox"]["mode"], json!("off"));
    assert_eq!(results[2]["json"]["elevated"]["enabled"], json!(false));
    assert_eq!(
        results[3]["json"]["sandbox"]["sessionIsSandboxed"],
        json!(true)
    );

    // Pinned: another version makes the entry step aside, and the launcher runs the command
    // line as the plain CLI.
    let (list, pin) = batch_env("2099.1.1");
    let other = oc_cmd(&h, &oc, &["security", "audit", "--json"])
        .env("NODE_OPTIONS", batch_options())
        .env("CLAWPOSTURE_BATCH", list)
        .env("CLAWPOSTURE_OPENCLAW_PIN", pin)
        .output()
        .expect("batch");
    assert!(
        stderr(&other)
            .contains("CLAWPOSTURE_FALLBACK OpenClaw 2026.9.6 is not the pinned 2099.1.1"),
        "{}",
        stderr(&other)
    );
    assert!(!stdout(&other).contains("CLAWPOSTURE_BATCH"));
    assert_eq!(
        timeless(json_of(&other)),
        timeless(serde_json::from_str(got[0]["stdout"].as_str().unwrap_or("")).expect("json"))
    );
}

/// Processes whose environment names this home (OpenClaw children inherit it).
fn left_in(home: &Path) -> Vec<String> {
    let needle = format!("OPENCLAW_STATE_DIR={}", home.display());
    let mut left = Vec::new();
    for e in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(env) = std::fs::read(format!("/proc/{pid}/environ")) else {
            continue;
        };
        if env.split(|b| *b == 0).any(|v| v == needle.as_bytes()) {
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            if stat
                .rsplit(')')
                .next()
                .is_some_and(|r| r.trim_start().starts_with('Z'))
            {
                continue;
            }
            left.push(format!(
                "{pid}: {}",
                String::from_utf8_lossy(&cmd).replace('\0', " ")
            ));
        }
    }
    left
}

#[test]
fn sigterm_during_the_openclaw_phase_leaves_no_child_behind() {
    let Some(oc) = openclaw() else { return };
    let _turn = NODE_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let h = Home::new();
    // 30 agents and a channel whose plugin is not installed (OpenClaw looks it up with npm).
    let entries: serde_json::Map<String, Value> =
        (0..30).map(|i| (format!("a{i}"), json!({}))).collect();
    h.put_config(
        &json!({"agents": {"ownership": "explicit",
                  "defaults": {"sandbox": {"mode": "non-main"}}, "entries": entries},
                "channels": {"whatsapp": {"dmPolicy": "pairing"}}})
        .to_string(),
    );
    let dead = h.path("no-engine.sock");
    let mut cmd = h.verify_cmd(&[
        "--openclaw",
        oc.to_str().expect("utf-8"),
        "--docker-host",
        &format!("unix://{}", dead.display()),
    ]);
    cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("verify");
    let err = BufReader::new(child.stderr.take().expect("stderr"));
    let mut seen = Vec::new();
    let mut lines = err.lines();
    // A tick line means the OpenClaw children have run for a while.
    for line in lines.by_ref() {
        let line = line.expect("stderr line");
        let tick = line.starts_with("clawposture: openclaw (security audit")
            && line.contains("… ")
            && line.ends_with(" s");
        seen.push(line);
        if tick {
            break;
        }
    }
    assert!(
        !left_in(&h.state()).is_empty(),
        "no OpenClaw process was running: {seen:?}"
    );
    // SAFETY: signalling the verify process this test started.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(128 + 15), "{seen:?} {rest:?}");
    let left = left_in(&h.state());
    assert!(left.is_empty(), "left behind: {left:#?}");
}
