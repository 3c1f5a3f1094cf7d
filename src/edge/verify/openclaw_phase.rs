//! The OpenClaw phase of verify, bounded: at most four OpenClaw processes whatever the number
//! of agents — `config validate`, `security audit`, `policy check` (when the Policy plugin is
//! on) and every agent's `sandbox explain` in ONE process ([`explain_batch.mjs`], OpenClaw's
//! own command module imported from the installed package, pinned to [`PIN`]) — all started at
//! once, each with its deadline, through [`crate::edge::child`] (own process group, whole tree
//! killed on timeout and on SIGINT/SIGTERM/SIGHUP). Only when the batch entry cannot be used
//! (another OpenClaw version) does explain fall back to one CLI call per case, three at a time.
//!
//! Offline, OpenClaw looks up channel plugins it has not installed with `npm view
//! @openclaw/<plugin>@<version>` (`resolveNpmSpecMetadata`, reached from the configured-plugin
//! install repair) and npm retries DNS for about two minutes in an empty network namespace;
//! `OPENCLAW_OFFLINE` does not cover it (it only gates tool downloads). `npm_config_offline=true`
//! makes that npm fail at once (ENOTCACHED), so the audit no longer waits it out.

use serde_json::Value;

use crate::domain::expect::{AgentSandbox, ExplainCase, explain_args, explain_cases};
use crate::edge::child::{self, Interrupted, Spec};

use super::openclaw_cli::{CallResult, Runner};

/// The OpenClaw version whose `dist/` layout the batch entry was written against.
pub const PIN: &str = "2026.9.6";

const BATCH: &str = include_str!("explain_batch.mjs");
const MARK: &str = "CLAWPOSTURE_EXPLAIN ";

/// What the phase gathered, per check.
#[derive(Debug, Clone, Default)]
pub struct Calls {
    pub validate: CallResult,
    pub audit: CallResult,
    pub policy: Option<CallResult>,
    /// `policy compare` of the configured policy file against the preset's (when it differs).
    pub compare: Option<CallResult>,
    /// Per sandbox (same order as given): each explain case and its result.
    pub explains: Vec<Vec<(ExplainCase, CallResult)>>,
    /// How explain ran, in words (one process, or why the CLI was used).
    pub explain_note: String,
    /// OpenClaw processes started.
    pub processes: usize,
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn base_env(runner: &Runner) -> Vec<(String, String)> {
    let mut env = runner.env.clone();
    if env.iter().any(|(k, v)| k == "OPENCLAW_OFFLINE" && v == "1") {
        env.push(("npm_config_offline".into(), "true".into()));
    }
    env
}

fn spec(runner: &Runner, args: &[String], label: &str, extra: &[(String, String)]) -> Spec {
    let mut argv = runner.prefix.clone();
    argv.push(runner.bin.display().to_string());
    argv.extend(args.iter().cloned());
    let mut env = base_env(runner);
    env.extend(extra.iter().cloned());
    Spec {
        argv,
        env,
        cwd: runner.cwd.clone(),
        timeout: runner.timeout,
        label: label.to_string(),
    }
}

fn to_call(o: child::Output, command: &str) -> CallResult {
    CallResult {
        command: command.to_string(),
        rc: o.rc,
        stdout: o.stdout,
        stderr: o.stderr,
        timed_out: o.timed_out,
        error: o.error,
    }
}

/// The environment that makes `openclaw` run the batch entry before its own CLI.
pub fn batch_env(cases: &[(String, ExplainCase)]) -> Vec<(String, String)> {
    let list: Vec<Value> = cases
        .iter()
        .map(|(agent, c)| match &c.session {
            Some(s) => serde_json::json!({"session": s}),
            None => serde_json::json!({"agent": agent}),
        })
        .collect();
    vec![
        (
            "NODE_OPTIONS".into(),
            format!("--import=data:text/javascript,{}", percent_encode(BATCH)),
        ),
        (
            "CLAWPOSTURE_EXPLAIN_CASES".into(),
            Value::Array(list).to_string(),
        ),
        ("CLAWPOSTURE_OPENCLAW_PIN".into(), PIN.into()),
    ]
}

/// The batch's answer: one JSON result per case, or why the CLI must be used instead.
pub fn parse_batch(stdout: &str, n: usize) -> Result<Vec<Result<Value, String>>, String> {
    let Some(line) = stdout.lines().rev().find_map(|l| l.strip_prefix(MARK)) else {
        return Err("the batch entry did not run (OpenClaw is not started by Node here)".into());
    };
    let v: Value = serde_json::from_str(line).map_err(|e| format!("unreadable batch: {e}"))?;
    if let Some(why) = v.get("fallback").and_then(Value::as_str) {
        return Err(why.to_string());
    }
    let results = v
        .get("results")
        .and_then(Value::as_array)
        .ok_or("the batch has no results")?;
    if results.len() != n {
        return Err(format!("the batch answered {} of {n} cases", results.len()));
    }
    Ok(results
        .iter()
        .map(|r| match r.get("json") {
            Some(j) if j.is_object() => Ok(j.clone()),
            _ => Err(r
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("no result")
                .to_string()),
        })
        .collect())
}

fn say(e: child::Event) {
    if let Some(l) = child::progress_line(&e) {
        super::live::say(&l);
    }
}

/// Run the phase. `policy_agent`: run `policy check --agent <it>` (None: the plugin is off);
/// `compare`: (the preset's policy, the configured one) for `policy compare`.
pub fn run(
    runner: &Runner,
    sandboxes: &[AgentSandbox],
    policy_agent: Option<&str>,
    compare: Option<(&std::path::Path, &std::path::Path)>,
) -> Result<Calls, Interrupted> {
    let cases: Vec<(usize, String, ExplainCase)> = sandboxes
        .iter()
        .enumerate()
        .flat_map(|(i, sb)| {
            explain_cases(sb)
                .into_iter()
                .map(move |c| (i, sb.agent.clone(), c))
        })
        .collect();
    let strings = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let mut specs = vec![
        spec(
            runner,
            &strings(&["config", "validate", "--json"]),
            "openclaw config validate",
            &[],
        ),
        spec(
            runner,
            &strings(&["security", "audit", "--json"]),
            "openclaw security audit",
            &[],
        ),
    ];
    if let Some(agent) = policy_agent {
        specs.push(spec(
            runner,
            &strings(&["policy", "check", "--agent", agent, "--json"]),
            "openclaw policy check",
            &[],
        ));
    }
    if let Some((baseline, policy)) = compare {
        specs.push(spec(
            runner,
            &[
                "policy".to_string(),
                "compare".into(),
                "--baseline".into(),
                baseline.display().to_string(),
                "--policy".into(),
                policy.display().to_string(),
                "--json".into(),
            ],
            "openclaw policy compare",
            &[],
        ));
    }
    let batch_cases: Vec<(String, ExplainCase)> = cases
        .iter()
        .map(|(_, a, c)| (a.clone(), c.clone()))
        .collect();
    if !cases.is_empty() {
        specs.push(spec(
            runner,
            &strings(&["sandbox", "explain", "--json"]),
            &format!(
                "openclaw sandbox explain ({} agent(s), {} session(s), one process)",
                sandboxes.len(),
                cases.len()
            ),
            &batch_env(&batch_cases),
        ));
    }
    let mut processes = specs.len();
    let mut out = child::run_all(&specs, &say)?.into_iter();
    let mut calls = Calls {
        validate: to_call(
            out.next().unwrap_or_default(),
            "openclaw config validate --json",
        ),
        audit: to_call(
            out.next().unwrap_or_default(),
            "openclaw security audit --json",
        ),
        ..Default::default()
    };
    if let Some(agent) = policy_agent {
        calls.policy = Some(to_call(
            out.next().unwrap_or_default(),
            &format!("openclaw policy check --agent {agent} --json"),
        ));
    }
    if compare.is_some() {
        calls.compare = Some(to_call(
            out.next().unwrap_or_default(),
            "openclaw policy compare --json",
        ));
    }
    calls.explains = vec![Vec::new(); sandboxes.len()];
    if cases.is_empty() {
        calls.processes = processes;
        return Ok(calls);
    }
    let batch = out.next().unwrap_or_default();
    let command_of =
        |agent: &str, c: &ExplainCase| format!("openclaw {}", explain_args(agent, c).join(" "));
    match parse_batch(&batch.stdout, cases.len()) {
        Ok(results) => {
            calls.explain_note = format!(
                "{} explain case(s) resolved in one OpenClaw process by OpenClaw's own sandboxExplainCommand",
                cases.len()
            );
            for ((i, agent, c), r) in cases.iter().zip(results) {
                let command = command_of(agent, c);
                let call = match r {
                    Ok(json) => CallResult {
                        command,
                        rc: Some(0),
                        stdout: json.to_string(),
                        ..Default::default()
                    },
                    Err(e) => CallResult {
                        command,
                        rc: batch.rc,
                        error: Some(format!("OpenClaw refused the case: {e}")),
                        ..Default::default()
                    },
                };
                calls.explains[*i].push((c.clone(), call));
            }
        }
        Err(why) if batch.timed_out || batch.error.is_some() => {
            // The batch itself timed out or could not start: the CLI would not do better.
            let res = to_call(batch, "openclaw sandbox explain (batch)");
            calls.explain_note = why;
            for (i, _, c) in &cases {
                calls.explains[*i].push((c.clone(), res.clone()));
            }
        }
        Err(why) => {
            super::live::say(&format!(
                "clawposture: one `openclaw sandbox explain` per case ({} calls): {why}",
                cases.len()
            ));
            calls.explain_note = format!("one CLI call per case: {why}");
            let fallback: Vec<Spec> = cases
                .iter()
                .map(|(_, a, c)| spec(runner, &explain_args(a, c), &command_of(a, c), &[]))
                .collect();
            processes += fallback.len();
            let mut results = Vec::new();
            for chunk in fallback.chunks(3) {
                results.extend(child::run_all(chunk, &say)?);
            }
            for ((i, a, c), o) in cases.iter().zip(results) {
                calls.explains[*i].push((c.clone(), to_call(o, &command_of(a, c))));
            }
        }
    }
    calls.processes = processes;
    Ok(calls)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_batch_line_is_found_after_other_output() {
        let out = "notice\n\nCLAWPOSTURE_EXPLAIN {\"version\":\"2026.9.6\",\"results\":[{\"json\":{\"a\":1}},{\"error\":\"Unknown agent id\"}]}\n";
        let r = parse_batch(out, 2).expect("results");
        assert_eq!(r[0], Ok(serde_json::json!({"a": 1})));
        assert_eq!(r[1], Err("Unknown agent id".to_string()));
        assert!(parse_batch(out, 3).unwrap_err().contains("2 of 3"));
        let fb =
            "CLAWPOSTURE_EXPLAIN {\"fallback\":\"OpenClaw 2027.1.0 is not the pinned 2026.9.6\"}";
        assert!(parse_batch(fb, 1).unwrap_err().contains("not the pinned"));
        assert!(parse_batch("{\"sessionKey\":\"x\"}", 1).is_err());
    }

    #[test]
    fn the_entry_travels_in_a_data_url_that_node_can_decode() {
        let env = batch_env(&[(
            "main".into(),
            ExplainCase {
                session: None,
                sandboxed: false,
            },
        )]);
        let opts = &env[0].1;
        assert!(opts.starts_with("--import=data:text/javascript,"));
        // Nothing that would split NODE_OPTIONS or end the URL early.
        assert!(!opts.contains(' ') && !opts.contains('"') && !opts.contains('\n'));
        assert_eq!(env[1].1, r#"[{"agent":"main"}]"#);
    }
}
