//! The OpenClaw phase of verify, bounded: ONE OpenClaw process whatever the number of agents.
//! [`openclaw_batch.mjs`] runs, inside it, every CLI command verify needs (`security audit`,
//! `config validate`, `policy check` when the Policy plugin is on, `policy compare` when the
//! policy file differs from the preset's) through OpenClaw's own CLI main, one after the other,
//! and every agent's `sandbox explain` through OpenClaw's own command module, pinned to [`PIN`].
//! Most of a CLI call's time is Node loading OpenClaw's modules and OpenClaw's config preflight
//! (a read-only snapshot of the state database through worker processes): one process pays it
//! once. The process runs through [`crate::edge::child`] (own process group, a deadline, the whole
//! tree killed on timeout and on SIGINT/SIGTERM/SIGHUP) and reports each check as it goes.
//! When the entry cannot be used (another OpenClaw version, modules not found) it steps aside
//! and the same process runs `security audit --json` as the plain CLI; the other commands then
//! run as CLI calls at once, and explain one CLI call per case, three at a time. A command the
//! entry could not run is run again as a CLI call.
//!
//! Offline, OpenClaw looks up channel plugins it has not installed with `npm view
//! @openclaw/<plugin>@<version>` (`resolveNpmSpecMetadata`, reached from the configured-plugin
//! install repair) and npm retries DNS for about two minutes in an empty network namespace;
//! `OPENCLAW_OFFLINE` does not cover it (it only gates tool downloads). `npm_config_offline=true`
//! makes that npm fail at once (ENOTCACHED), so the audit no longer waits it out.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::domain::expect::{AgentSandbox, ExplainCase, explain_args, explain_cases};
use crate::edge::child::{self, Interrupted, Spec};

use super::openclaw_cli::{CallResult, Runner};

/// The OpenClaw version whose `dist/` layout the batch entry was written against.
pub const PIN: &str = "2026.9.6";

const BATCH: &str = include_str!("openclaw_batch.mjs");
const MARK: &str = "CLAWPOSTURE_BATCH ";
const FALLBACK: &str = "CLAWPOSTURE_FALLBACK ";

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
    /// How the phase ran, in words (one process, or why the CLI was used).
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

/// One CLI command of the phase: its arguments, how progress lines name it, and how the
/// report names it.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    pub args: Vec<String>,
    pub label: String,
    pub command: String,
}

impl Command {
    fn new(args: &[&str], label: &str) -> Command {
        Command {
            args: args.iter().map(|s| s.to_string()).collect(),
            label: label.to_string(),
            command: format!("openclaw {}", args.join(" ")),
        }
    }
}

/// The audit comes first: it is also what the launcher runs when the entry steps aside.
fn audit_args() -> [&'static str; 3] {
    ["security", "audit", "--json"]
}

/// Node's compile cache for the batch: `$XDG_CACHE_HOME` (else `~/.cache`)
/// `/clawposture/node-compile-cache`, made 0700 and used only when it is a directory you own
/// that nobody else can write (a compile cache is code Node runs).
pub fn compile_cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            std::env::var_os("HOME")
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
                .map(|h| h.join(".cache"))
        })?;
    private_dir(&base.join("clawposture").join("node-compile-cache"))
}

/// `dir`, made 0700 if missing; None unless it is a directory you own that only you can write.
fn private_dir(dir: &Path) -> Option<PathBuf> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    let _ = std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir);
    let m = std::fs::symlink_metadata(dir).ok()?;
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    (m.is_dir() && m.uid() == me && m.mode() & 0o022 == 0).then(|| dir.to_path_buf())
}

/// The environment that makes `openclaw` run the batch entry before its own CLI.
pub fn batch_env(
    commands: &[Command],
    cases: &[(String, ExplainCase)],
    compile_cache: Option<&Path>,
) -> Vec<(String, String)> {
    let list: Vec<Value> = cases
        .iter()
        .map(|(agent, c)| match &c.session {
            Some(s) => serde_json::json!({"session": s}),
            None => serde_json::json!({"agent": agent}),
        })
        .collect();
    let commands: Vec<Value> = commands
        .iter()
        .map(|c| serde_json::json!({"args": c.args, "label": c.label}))
        .collect();
    let mut batch = serde_json::json!({"commands": commands, "explain": list});
    if let Some(dir) = compile_cache {
        batch["compileCache"] = Value::from(dir.display().to_string());
    }
    vec![
        (
            "NODE_OPTIONS".into(),
            format!("--import=data:text/javascript,{}", percent_encode(BATCH)),
        ),
        ("CLAWPOSTURE_BATCH".into(), batch.to_string()),
        ("CLAWPOSTURE_OPENCLAW_PIN".into(), PIN.into()),
    ]
}

/// One command's answer from the batch: what the CLI would have printed and its exit code,
/// or why the entry could not run it.
pub type Answer = Result<(Option<i32>, String, String), String>;

/// The batch's answers: per command and per explain case, or why the CLI must be used.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub commands: Vec<Answer>,
    pub explains: Vec<Result<Value, String>>,
}

/// Read the batch's answer from its stdout (and the reason it stepped aside from its stderr).
pub fn parse_batch(
    stdout: &str,
    stderr: &str,
    commands: usize,
    cases: usize,
) -> Result<Batch, String> {
    let Some(line) = stdout.lines().rev().find_map(|l| l.strip_prefix(MARK)) else {
        return Err(stderr
            .lines()
            .rev()
            .find_map(|l| l.strip_prefix(FALLBACK))
            .map(str::to_string)
            .unwrap_or_else(|| {
                "the batch entry did not run (OpenClaw is not started by Node here)".into()
            }));
    };
    let v: Value = serde_json::from_str(line).map_err(|e| format!("unreadable batch: {e}"))?;
    let list = |key: &str, n: usize| -> Result<Vec<Value>, String> {
        let got = v
            .get(key)
            .and_then(Value::as_array)
            .ok_or(format!("the batch has no {key}"))?;
        if got.len() != n {
            return Err(format!("the batch answered {} of {n} {key}", got.len()));
        }
        Ok(got.clone())
    };
    let text = |r: &Value, k: &str| r.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let commands = list("commands", commands)?
        .iter()
        .map(|r| match r.get("error").and_then(Value::as_str) {
            Some(e) => Err(e.to_string()),
            None => Ok((
                r.get("rc").and_then(Value::as_i64).map(|c| c as i32),
                text(r, "stdout"),
                text(r, "stderr"),
            )),
        })
        .collect();
    let explains = list("explain", cases)?
        .iter()
        .map(|r| match r.get("json") {
            Some(j) if j.is_object() => Ok(j.clone()),
            _ => Err(r
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("no result")
                .to_string()),
        })
        .collect();
    Ok(Batch { commands, explains })
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
    compare: Option<(&Path, &Path)>,
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
    // Order: audit, validate, then the optional ones (their places are known below).
    let mut commands = vec![
        Command::new(&audit_args(), "openclaw security audit"),
        Command::new(
            &["config", "validate", "--json"],
            "openclaw config validate",
        ),
    ];
    if let Some(agent) = policy_agent {
        commands.push(Command::new(
            &["policy", "check", "--agent", agent, "--json"],
            "openclaw policy check",
        ));
    }
    if let Some((baseline, policy)) = compare {
        let (b, p) = (baseline.display().to_string(), policy.display().to_string());
        let mut c = Command::new(
            &[
                "policy",
                "compare",
                "--baseline",
                &b,
                "--policy",
                &p,
                "--json",
            ],
            "openclaw policy compare",
        );
        c.command = "openclaw policy compare --json".into();
        commands.push(c);
    }
    let batch_cases: Vec<(String, ExplainCase)> = cases
        .iter()
        .map(|(_, a, c)| (a.clone(), c.clone()))
        .collect();
    let one = spec(
        runner,
        &commands[0].args,
        &format!(
            "openclaw ({}{} explain case(s) for {} agent(s); one process)",
            commands
                .iter()
                .map(|c| format!("{}, ", c.label.trim_start_matches("openclaw ")))
                .collect::<String>(),
            cases.len(),
            sandboxes.len()
        ),
        &batch_env(&commands, &batch_cases, compile_cache_dir().as_deref()),
    );
    let mut processes = 1;
    let batch = child::run_all(std::slice::from_ref(&one), &say)?
        .into_iter()
        .next()
        .unwrap_or_default();
    let command_of =
        |agent: &str, c: &ExplainCase| format!("openclaw {}", explain_args(agent, c).join(" "));
    let mut answers: Vec<Option<CallResult>> = vec![None; commands.len()];
    let mut explains: Vec<Option<CallResult>> = vec![None; cases.len()];
    let note;
    match parse_batch(&batch.stdout, &batch.stderr, commands.len(), cases.len()) {
        Ok(b) => {
            note = format!(
                "{} command(s) and {} explain case(s) in one OpenClaw process (OpenClaw's own CLI main and sandboxExplainCommand)",
                commands.len(),
                cases.len()
            );
            for ((slot, c), a) in answers.iter_mut().zip(&commands).zip(b.commands) {
                // A command the entry could not run is left for the CLI below.
                if let Ok((rc, stdout, stderr)) = a {
                    *slot = Some(CallResult {
                        command: c.command.clone(),
                        rc,
                        stdout,
                        stderr,
                        ..Default::default()
                    });
                }
            }
            for ((slot, (_, agent, c)), r) in explains.iter_mut().zip(&cases).zip(b.explains) {
                let command = command_of(agent, c);
                *slot = Some(match r {
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
                });
            }
        }
        Err(why) if batch.timed_out || batch.error.is_some() => {
            // The process itself timed out or could not start: the CLI would not do better.
            note = why;
            for (slot, c) in answers.iter_mut().zip(&commands) {
                *slot = Some(to_call(batch.clone(), &c.command));
            }
            for (slot, (_, a, c)) in explains.iter_mut().zip(&cases) {
                *slot = Some(to_call(batch.clone(), &command_of(a, c)));
            }
        }
        Err(why) => {
            // The entry stepped aside: the launcher ran the audit as the plain CLI.
            super::live::say(&format!(
                "clawposture: OpenClaw's CLI for each check ({} more call(s)): {why}",
                commands.len() - 1 + cases.len()
            ));
            note = format!("one CLI call per check and per explain case: {why}");
            answers[0] = Some(to_call(batch.clone(), &commands[0].command));
        }
    }
    // Whatever is still missing runs as CLI calls: the commands at once, explain three at a time.
    let missing: Vec<usize> = (0..commands.len())
        .filter(|i| answers[*i].is_none())
        .collect();
    if !missing.is_empty() {
        let specs: Vec<Spec> = missing
            .iter()
            .map(|i| spec(runner, &commands[*i].args, &commands[*i].label, &[]))
            .collect();
        processes += specs.len();
        for (i, o) in missing.iter().zip(child::run_all(&specs, &say)?) {
            answers[*i] = Some(to_call(o, &commands[*i].command));
        }
    }
    let missing: Vec<usize> = (0..cases.len())
        .filter(|i| explains[*i].is_none())
        .collect();
    if !missing.is_empty() {
        let specs: Vec<Spec> = missing
            .iter()
            .map(|i| {
                let (_, a, c) = &cases[*i];
                spec(runner, &explain_args(a, c), &command_of(a, c), &[])
            })
            .collect();
        processes += specs.len();
        let mut results = Vec::new();
        for chunk in specs.chunks(3) {
            results.extend(child::run_all(chunk, &say)?);
        }
        for (i, o) in missing.iter().zip(results) {
            let (_, a, c) = &cases[*i];
            explains[*i] = Some(to_call(o, &command_of(a, c)));
        }
    }
    let mut answers = answers.into_iter().map(Option::unwrap_or_default);
    let mut calls = Calls {
        audit: answers.next().unwrap_or_default(),
        validate: answers.next().unwrap_or_default(),
        policy: policy_agent.and_then(|_| answers.next()),
        compare: compare.and_then(|_| answers.next()),
        explains: vec![Vec::new(); sandboxes.len()],
        explain_note: note,
        processes,
    };
    for ((i, _, c), r) in cases.iter().zip(explains) {
        calls.explains[*i].push((c.clone(), r.unwrap_or_default()));
    }
    Ok(calls)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_batch_line_is_found_after_other_output() {
        let out = "notice\n\nCLAWPOSTURE_BATCH {\"version\":\"2026.9.6\",\"commands\":[{\"rc\":0,\"stdout\":\"{}\\n\",\"stderr\":\"\"},{\"error\":\"boom\",\"stdout\":\"\"}],\"explain\":[{\"json\":{\"a\":1}},{\"error\":\"Unknown agent id\"}]}\n";
        let b = parse_batch(out, "", 2, 2).expect("results");
        assert_eq!(b.commands[0], Ok((Some(0), "{}\n".into(), String::new())));
        assert_eq!(b.commands[1], Err("boom".to_string()));
        assert_eq!(b.explains[0], Ok(serde_json::json!({"a": 1})));
        assert_eq!(b.explains[1], Err("Unknown agent id".to_string()));
        assert!(parse_batch(out, "", 2, 3).unwrap_err().contains("2 of 3"));
        assert!(parse_batch(out, "", 3, 2).unwrap_err().contains("2 of 3"));
        // Stepped aside: the reason is on stderr, the stdout is the plain CLI's.
        let why = parse_batch(
            "{\"summary\":{}}",
            "x\nCLAWPOSTURE_FALLBACK OpenClaw 2027.1.0 is not the pinned 2026.9.6\n",
            1,
            0,
        )
        .unwrap_err();
        assert!(why.contains("not the pinned"), "{why}");
        assert!(
            parse_batch("{\"sessionKey\":\"x\"}", "", 1, 1)
                .unwrap_err()
                .contains("did not run")
        );
    }

    #[test]
    fn the_entry_travels_in_a_data_url_that_node_can_decode() {
        let env = batch_env(
            &[Command::new(&audit_args(), "openclaw security audit")],
            &[(
                "main".into(),
                ExplainCase {
                    session: None,
                    sandboxed: false,
                },
            )],
            Some(Path::new("/c")),
        );
        let opts = &env[0].1;
        assert!(opts.starts_with("--import=data:text/javascript,"));
        // Nothing that would split NODE_OPTIONS or end the URL early.
        assert!(!opts.contains(' ') && !opts.contains('"') && !opts.contains('\n'));
        let batch: Value = serde_json::from_str(&env[1].1).expect("json");
        assert_eq!(batch["explain"], serde_json::json!([{"agent": "main"}]));
        assert_eq!(
            batch["commands"][0]["args"],
            serde_json::json!(["security", "audit", "--json"])
        );
        assert_eq!(batch["compileCache"], serde_json::json!("/c"));
    }

    #[test]
    fn the_compile_cache_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().expect("tempdir");
        let want = d.path().join("clawposture").join("node-compile-cache");
        let dir = private_dir(&want).expect("made");
        assert_eq!(dir, want);
        let mode = std::fs::metadata(&dir).expect("dir").permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        // Another user could put code there: not used.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).expect("chmod");
        assert_eq!(private_dir(&want), None);
        let file = d.path().join("file");
        std::fs::write(&file, "").expect("file");
        assert_eq!(private_dir(&file), None);
    }
}
