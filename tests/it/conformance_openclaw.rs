//! Conformance with the real OpenClaw 2026.9.6: every preset on every fixture, and on every
//! engine, as `clawposture apply` writes it, must pass `openclaw config validate`, and the audited subset must
//! have no critical finding in `openclaw security audit`.

use crate::support::homes as common;

use crate::support::openclaw::{oc_cmd, try_json_of, verify_env};
use common::*;
use serde_json::Value;
use std::sync::Mutex;

const PRESETS: [&str; 3] = ["private", "group", "public"];
const ENGINES: [&str; 5] = [
    "docker",
    "docker-rootless",
    "podman",
    "podman-rootless",
    "none",
];
const FIXTURES: [Option<&str>; 5] = [
    None,
    Some("commented.json5"),
    Some("channels.json"),
    Some("legacy-list.json5"),
    Some("agent-override.json5"),
];

struct Case {
    preset: &'static str,
    engine: &'static str,
    fixture: Option<&'static str>,
    audit: bool,
}

fn check(openclaw: &std::path::Path, case: &Case) -> Result<String, String> {
    let name = format!(
        "{} / {} / {}",
        case.preset,
        case.engine,
        case.fixture.unwrap_or("no file")
    );
    let sb = Sandbox::new();
    if let Some(f) = case.fixture {
        sb.fixture(f);
    }
    let mut args = vec![
        "apply",
        "--yes",
        "--threat",
        case.preset,
        "--engine",
        case.engine,
        "--no-detect",
        "--owner",
        "telegram:123456789",
        "--accept-risk",
        "--same-gateway",
    ];
    if case.preset == "group" {
        args.extend([
            "--group",
            "telegram:-1001234567890",
            "--member",
            "telegram:222222222",
        ]);
    }
    let out = sb.run(&args);
    // The engines are named, not running here: apply's check after writing fails on them alone.
    if !crate::support::homes::applied(&out) {
        return Err(format!("{name}: apply failed: {}", stderr(&out)));
    }
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/support/openclaw-check.sh");
    let mut cmd = std::process::Command::new("bash");
    cmd.arg(script);
    if case.audit {
        cmd.arg("--audit");
    }
    let out = cmd
        .arg(sb.config())
        .arg(sb.state())
        .env("CLAWPOSTURE_OPENCLAW", openclaw)
        .output()
        .map_err(|e| format!("{name}: {e}"))?;
    let report: Value = serde_json::from_str(stdout(&out).trim()).map_err(|e| {
        format!(
            "{name}: check output is not JSON ({e}): {}{}",
            stdout(&out),
            stderr(&out)
        )
    })?;
    if report["validate"]["valid"] != Value::Bool(true) {
        return Err(format!(
            "{name}: openclaw config validate: {}",
            report["validate"]
        ));
    }
    if !case.audit {
        return Ok(format!("{name}: valid"));
    }
    let summary = &report["audit"]["summary"];
    if summary["critical"] != 0 {
        let critical: Vec<&Value> = report["audit"]["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| f["severity"] == "critical")
            .collect();
        return Err(format!("{name}: critical audit findings: {critical:?}"));
    }
    if !summary["critical"].is_number() {
        return Err(format!("{name}: no audit summary: {}", report["audit"]));
    }
    Ok(format!("{name}: valid, audit {summary}"))
}

#[test]
fn every_preset_engine_and_fixture_is_accepted_by_real_openclaw() {
    let Some(openclaw) = openclaw_or_skip("conformance with the real OpenClaw") else {
        return;
    };
    // Fixtures differ in what they keep and migrate; engines differ only in the sandbox
    // adjustments. So: every preset on every fixture with one engine, and every preset with
    // every other engine on a new file. The audit is the slow step (8-18 s a call): it runs
    // wherever the posture differs (every fixture, and the no-engine variants).
    let mut cases = Vec::new();
    for preset in PRESETS {
        for fixture in FIXTURES {
            cases.push(Case {
                preset,
                engine: "docker-rootless",
                fixture,
                audit: true,
            });
        }
        for engine in ENGINES.into_iter().filter(|e| *e != "docker-rootless") {
            cases.push(Case {
                preset,
                engine,
                fixture: None,
                audit: engine == "none",
            });
        }
    }
    let total = cases.len();
    let queue = Mutex::new(cases);
    let results = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let case = match queue.lock() {
                        Ok(mut q) => q.pop(),
                        Err(_) => None,
                    };
                    let Some(case) = case else { break };
                    let r = check(&openclaw, &case);
                    if let Ok(mut all) = results.lock() {
                        all.push(r);
                    }
                }
            });
        }
    });
    let results = results.into_inner().expect("results");
    assert_eq!(results.len(), total, "every case ran");
    let failures: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    for r in results.iter().flatten() {
        eprintln!("ok   {r}");
    }
    assert!(
        failures.is_empty(),
        "{} of {total} failed:\n{}",
        failures.len(),
        failures
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// `openclaw config validate` on the config `sb` holds now.
fn validate(openclaw: &std::path::Path, sb: &Sandbox, name: &str) -> Result<(), String> {
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/support/openclaw-check.sh");
    let out = std::process::Command::new("bash")
        .arg(script)
        .arg(sb.config())
        .arg(sb.state())
        .env("CLAWPOSTURE_OPENCLAW", openclaw)
        .output()
        .map_err(|e| format!("{name}: {e}"))?;
    let report: Value = serde_json::from_str(stdout(&out).trim())
        .map_err(|e| format!("{name}: check output is not JSON ({e}): {}", stdout(&out)))?;
    if report["validate"]["valid"] != Value::Bool(true) {
        return Err(format!(
            "{name}: openclaw config validate: {}",
            report["validate"]
        ));
    }
    Ok(())
}

/// A sample of the ledger's sequences (#13), sized for CI: A -> B -> A on a hand-written file
/// and `restore --undo` after it; every file written must be one OpenClaw accepts.
#[test]
fn ledger_switches_and_undo_write_files_real_openclaw_accepts() {
    let Some(openclaw) = openclaw_or_skip("ledger conformance with the real OpenClaw") else {
        return;
    };
    let mut failures = Vec::new();
    for (a, b) in [
        ("private", "public"),
        ("group", "private"),
        ("public", "group"),
    ] {
        let sb = Sandbox::new();
        sb.fixture("commented.json5");
        for (step, threat) in [a, b, a].into_iter().enumerate() {
            let out = sb.run(&[
                "apply",
                "--yes",
                "--threat",
                threat,
                "--engine",
                "docker-rootless",
                "--no-detect",
                "--owner",
                "telegram:123456789",
                "--accept-risk",
                "--same-gateway",
            ]);
            let name = format!("{a} -> {b} -> {a}, step {}", step + 1);
            if !applied(&out) {
                failures.push(format!("{name}: apply failed: {}", stderr(&out)));
                continue;
            }
            if let Err(e) = validate(&openclaw, &sb, &name) {
                failures.push(e);
            }
        }
        let out = sb.run(&["restore", "--undo", "--yes"]);
        let name = format!("{a} -> {b} -> {a}, undone");
        if out.status.code() != Some(0) {
            failures.push(format!("{name}: {}", stderr(&out)));
        } else if let Err(e) = validate(&openclaw, &sb, &name) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The ways around the threat model (#11), as fixtures, and how each preset must end on them:
/// refused with the named key (exit 4), or written and, by `clawposture verify` with the real
/// OpenClaw, meeting every invariant (`static.invariants`), valid (`openclaw.validate`),
/// policy-clean (`openclaw.policy`) and with every agent's `sandbox explain` as the invariants
/// need (`openclaw.sandbox[<agent>]`, the main and a non-main session), with a direct `openclaw
/// policy check --json` as a second oracle.
const WAYS_AROUND: [(&str, &[(&str, &str)]); 5] = [
    // Per-agent overrides: sandbox off, tools profile full, exec full, elevated on, memory on;
    // an account that opens DMs. Owned by every preset.
    ("agent-weak-overrides.json5", &[]),
    // A channel block behind `$include`: every preset refuses, naming it.
    (
        "channels-include.json5",
        &[
            ("private", "`channels`"),
            ("group", "`channels`"),
            ("public", "`channels`"),
        ],
    ),
    ("legacy-list-two.json5", &[]),
    ("roster-explicit.json5", &[]),
    // A binding routes a group chat to the unsandboxed `work`: group refuses (an outsider
    // would reach it); private closes groups, public contains every agent.
    (
        "binding-second-agent.json5",
        &[("group", "agent `work` (bindings[1] routes outsiders to it)")],
    ),
];

const INVARIANT_ENGINES: [&str; 4] = ["docker", "docker-rootless", "podman-rootless", "none"];

/// The written cases of the CI sample, as (preset, engine, fixture) indexes: each written
/// fixture kind once, each engine once, each preset at least once (each case starts five
/// OpenClaw processes: verify's four and a direct `policy check`).
const SAMPLE: [(usize, usize, usize); 4] = [
    (2, 0, 0), // public / docker / agent-weak-overrides
    (0, 1, 2), // private / docker-rootless / legacy-list-two
    (1, 2, 3), // group / podman-rootless / roster-explicit
    (0, 3, 4), // private / none / binding-second-agent
];

fn way_around(
    openclaw: &std::path::Path,
    preset: &str,
    engine: &str,
    fixture: &str,
) -> Result<String, String> {
    let name = format!("{preset} / {engine} / {fixture}");
    let refusal = WAYS_AROUND
        .iter()
        .find(|(f, _)| *f == fixture)
        .and_then(|(_, r)| r.iter().find(|(p, _)| *p == preset))
        .map(|(_, key)| *key);
    let sb = Sandbox::new();
    sb.fixture(fixture);
    if fixture == "channels-include.json5" {
        std::fs::write(
            sb.config().with_file_name("channels-included.json5"),
            fixture_text("channels-included.json5"),
        )
        .map_err(|e| format!("{name}: {e}"))?;
    }
    let mut args = vec![
        "apply",
        "--yes",
        "--threat",
        preset,
        "--engine",
        engine,
        "--owner",
        "telegram:123456789",
        "--accept-risk",
        "--same-gateway",
    ];
    // The engines named here need not run on this machine: the config is written for them.
    if engine != "none" {
        args.push("--no-detect");
    }
    if preset == "group" {
        args.extend([
            "--group",
            "telegram:-1001234567890",
            "--member",
            "telegram:222222222",
        ]);
    }
    let before = std::fs::read(sb.config()).map_err(|e| format!("{name}: {e}"))?;
    let out = sb.run(&args);
    if let Some(key) = refusal {
        let err = stderr(&out);
        let unchanged = std::fs::read(sb.config()).ok().as_deref() == Some(before.as_slice());
        return if out.status.code() == Some(4) && err.contains(key) && unchanged {
            Ok(format!("{name}: refused, naming {key}"))
        } else {
            Err(format!(
                "{name}: expected exit 4 naming {key}, the file unchanged; got {:?}: {err}",
                out.status.code()
            ))
        };
    }
    if !crate::support::homes::applied(&out) {
        return Err(format!("{name}: apply failed: {}", stderr(&out)));
    }
    // Two oracles at once: verify with the real OpenClaw (its bounded phase: validate, audit,
    // policy check and every agent's explain in one process), and OpenClaw's own `config
    // validate` and `policy check`, run directly.
    let written = crate::support::homes::json5(
        &std::fs::read_to_string(sb.config()).map_err(|e| format!("{name}: {e}"))?,
    );
    let agents = clawposture::domain::invariants::agents(&written);
    let policy_agent = agents
        .iter()
        .find(|a| a.as_str() == "main")
        .or(agents.first())
        .cloned()
        .unwrap_or_else(|| "main".into());
    let (report, direct) = std::thread::scope(|s| {
        let direct = s.spawn(|| {
            oc_cmd(
                &sb,
                openclaw,
                &["policy", "check", "--agent", &policy_agent, "--json"],
            )
            .output()
        });
        let mut cmd = sb.cmd(&[
            "verify",
            "--json",
            "--openclaw",
            openclaw.to_str().unwrap_or_default(),
            "--engine",
            engine,
            "--preset",
            preset,
            "--docker-host",
            "unix:///nonexistent/clawposture.sock",
        ]);
        cmd.envs(verify_env(openclaw));
        let v = cmd.output();
        (v, direct.join())
    });
    let v = report.map_err(|e| format!("{name}: verify: {e}"))?;
    let report: Value = serde_json::from_str(stdout(&v).trim())
        .map_err(|e| format!("{name}: verify output is not JSON ({e}): {}", stdout(&v)))?;
    let item = |id: &str| {
        report["items"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|i| i["id"] == id)
            .cloned()
            .unwrap_or(Value::Null)
    };
    let mut must_pass: Vec<String> = ["static.invariants", "openclaw.validate", "openclaw.policy"]
        .map(String::from)
        .to_vec();
    must_pass.extend(agents.iter().map(|a| format!("openclaw.sandbox[{a}]")));
    for id in &must_pass {
        let i = item(id);
        if i["status"] != "pass" {
            return Err(format!("{name}: {id} is not PASS: {i}"));
        }
    }
    // OpenClaw's own resolution of each agent, read back from verify's item, against the
    // invariants (not against the file): with an engine, an owner agent sandboxes at least
    // its non-main sessions, an agent outsiders reach sandboxes every session, main included.
    if engine != "none" {
        for a in &agents {
            let reason = item(&format!("openclaw.sandbox[{a}]"))["reason"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let outsider = clawposture::domain::invariants::role_of(&written, preset, a)
                == clawposture::domain::invariants::Role::Outsider;
            explain_meets_invariants(&reason, a, outsider)
                .map_err(|e| format!("{name}: agent `{a}`: {e}"))?;
        }
    }
    // No policy finding for any agent, and the policy file is the preset's (or stricter).
    let ids: Vec<&str> = report["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["status"] == "fail")
        .filter_map(|i| i["id"].as_str())
        .filter(|id| id.starts_with("openclaw.") && *id != "openclaw.audit")
        .collect();
    if !ids.is_empty() {
        return Err(format!("{name}: verify fails {ids:?}"));
    }
    let direct = direct
        .map_err(|_| format!("{name}: policy check thread"))?
        .map_err(|e| format!("{name}: policy check: {e}"))?;
    let check = try_json_of(&direct).map_err(|e| format!("{name}: policy check: {e}"))?;
    if check["ok"] != Value::Bool(true)
        || check["findings"] != serde_json::json!([])
        || check["checksRun"].as_u64().unwrap_or(0) == 0
    {
        return Err(format!("{name}: openclaw policy check --json: {check}"));
    }
    Ok(format!(
        "{name}: written, invariants hold, valid, policy clean, {} agent(s) explained",
        agents.len()
    ))
}

/// `reason` of a passing `openclaw.sandbox[<agent>]` ("mode all, scope …; agent:a:main:
/// sandboxed=true, agent:a:subagent:…: sandboxed=true"), judged against the sandbox invariants.
fn explain_meets_invariants(reason: &str, agent: &str, outsider: bool) -> Result<(), String> {
    let mode = reason
        .strip_prefix("mode ")
        .and_then(|r| r.split(',').next())
        .ok_or_else(|| format!("no mode in {reason:?}"))?;
    let sessions: Vec<(&str, bool)> = reason
        .split_once("; ")
        .map(|(_, s)| s)
        .unwrap_or_default()
        .split(", ")
        .filter_map(|p| p.rsplit_once(": sandboxed="))
        .map(|(k, b)| (k, b == "true"))
        .collect();
    // verify explains the agent's main session (`--agent`) and, under non-main, a sub-agent's.
    let sub = format!("agent:{agent}:subagent:");
    let main = sessions
        .iter()
        .find(|(k, _)| !k.starts_with(&sub))
        .map(|s| s.1);
    let non_main = sessions
        .iter()
        .find(|(k, _)| k.starts_with(&sub))
        .map(|s| s.1);
    let ok = if outsider {
        mode == "all" && main == Some(true)
    } else {
        match mode {
            "all" => main == Some(true),
            "non-main" => non_main == Some(true),
            _ => false,
        }
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "sandbox explain does not meet the {} invariants: {reason}",
            if outsider { "outsider" } else { "owner" }
        ))
    }
}

fn fixture_text(name: &str) -> String {
    crate::support::homes::fixture(name)
}

/// Each preset × engine × way around the threat model ends refused with the named key or
/// written and holding (see [`WAYS_AROUND`]). Sized for CI (every refusal, the written cases
/// of [`SAMPLE`]); `CLAWPOSTURE_CONFORMANCE_FULL=1` runs the whole matrix (60
/// cases). Under CI a missing OpenClaw fails the test.
#[test]
fn ways_around_the_threat_model_end_refused_or_written_valid_in_real_openclaw() {
    let Some(openclaw) = openclaw_or_skip("invariant conformance with the real OpenClaw") else {
        return;
    };
    let full = std::env::var("CLAWPOSTURE_CONFORMANCE_FULL").is_ok_and(|v| v == "1");
    let mut cases: Vec<(&str, &str, &str)> = Vec::new();
    for (pi, preset) in PRESETS.into_iter().enumerate() {
        for (ei, engine) in INVARIANT_ENGINES.into_iter().enumerate() {
            for (fi, (fixture, refusals)) in WAYS_AROUND.iter().enumerate() {
                let refused = refusals.iter().any(|(p, _)| *p == preset);
                // The CI sample: every refusal (no OpenClaw runs for them), and the written
                // cases on a diagonal, each fixture once with another engine and preset, so
                // every fixture kind and every engine meets the real OpenClaw.
                let sampled = refused || SAMPLE.contains(&(pi, ei, fi));
                if full || sampled {
                    cases.push((preset, engine, fixture));
                }
            }
        }
    }
    let started = std::time::Instant::now();
    let total = cases.len();
    let queue = Mutex::new(cases);
    let results = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let case = match queue.lock() {
                        Ok(mut q) => q.pop(),
                        Err(_) => None,
                    };
                    let Some((p, e, f)) = case else { break };
                    let r = way_around(&openclaw, p, e, f);
                    if let Ok(mut all) = results.lock() {
                        all.push(r);
                    }
                }
            });
        }
    });
    let results = results.into_inner().expect("results");
    assert_eq!(results.len(), total, "every case ran");
    for r in results.iter().flatten() {
        eprintln!("ok   {r}");
    }
    let written = results
        .iter()
        .flatten()
        .filter(|r| r.contains(": written"))
        .count();
    eprintln!(
        "{total} cases ({written} written and checked with OpenClaw) in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    let failures: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(
        failures.is_empty(),
        "{} of {total} failed:\n{}",
        failures.len(),
        failures
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}
