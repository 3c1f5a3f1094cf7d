//! The part of a probe run that lives inside the fresh namespaces (`clawposture __e2e-inner
//! PLAN`): loopback up, the scripted model on 127.0.0.1, then one `openclaw agent --local`
//! turn per session, the containers each turn created inspected, the evidence written.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::engine::Cli;
use super::server::Server;
use super::{netns, proc};
use crate::domain::e2e::evidence::Turn;
use crate::domain::e2e::{probe, script};

/// What the outer process hands over (as JSON in the run's directory).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    pub openclaw: PathBuf,
    pub state_dir: PathBuf,
    pub config_path: PathBuf,
    /// The throwaway config without its model URL (the port is known only in here).
    pub config: Value,
    /// (agent, session key, main)
    pub turns: Vec<(String, String, bool)>,
    pub prefix: String,
    pub engine_program: String,
    pub engine_env: Vec<(String, String)>,
    pub openclaw_env: Vec<(String, String)>,
    pub turn_timeout_secs: u64,
    pub host_marker: PathBuf,
    pub evidence: PathBuf,
    /// The run's directory: every bind source of the run's containers is under it.
    pub base: PathBuf,
    pub started: f64,
    /// Run OpenClaw as this uid:gid (root made the namespaces for the state dir's owner).
    pub run_as: Option<(u32, u32)>,
}

/// Seconds since the outer run started (progress lines share one clock).
fn elapsed(plan: &Plan) -> f64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    now - plan.started
}

pub fn say(started: f64, line: &str) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    // Not eprintln!: a reader that went away (a closed pipe) must not stop the cleanup.
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "[e2e {:6.1}s] {line}", now - started);
}

/// Run the plan; the evidence goes to `plan.evidence` (the turns only). Returns an error for
/// a failure before the first turn.
pub fn run(plan_path: &std::path::Path) -> Result<(), String> {
    let text = std::fs::read_to_string(plan_path).map_err(|e| format!("plan: {e}"))?;
    let plan: Plan = serde_json::from_str(&text).map_err(|e| format!("plan: {e}"))?;
    netns::prepare()?;
    let others = netns::other_interfaces();
    if !others.is_empty() {
        return Err(format!(
            "the namespace has interfaces besides lo ({}): not running the turn",
            others.join(", ")
        ));
    }
    let server = Server::start(probe::script(&plan.host_marker.display().to_string()))
        .map_err(|e| format!("the scripted model cannot listen on 127.0.0.1: {e}"))?;
    let mut config = plan.config.clone();
    if let Some(p) = config.pointer_mut(&format!("/models/providers/{}", script::PROVIDER)) {
        p["baseUrl"] = Value::String(format!("http://127.0.0.1:{}/v1", server.port));
    }
    write_private(
        &plan.config_path,
        &serde_json::to_string_pretty(&config).unwrap_or_default(),
    )?;
    if let Some((uid, gid)) = plan.run_as {
        std::os::unix::fs::chown(&plan.config_path, Some(uid), Some(gid))
            .map_err(|e| format!("{}: {e}", plan.config_path.display()))?;
    }
    say(
        plan.started,
        &format!(
            "scripted model on 127.0.0.1:{} (network namespace with only lo)",
            server.port
        ),
    );
    let engine = Cli {
        program: plan.engine_program.clone(),
        env: plan.engine_env.clone(),
    };
    let mut seen: Vec<String> = engine.list(&plan.prefix, &plan.base);
    let mut turns = Vec::new();
    for (agent, session, main) in &plan.turns {
        say(
            plan.started,
            &format!("agent {agent}, session {session}: turn started"),
        );
        let t0 = Instant::now();
        let mut argv = vec![plan.openclaw.display().to_string()];
        let timeout = plan.turn_timeout_secs.to_string();
        argv.extend(
            [
                "agent",
                "--local",
                "--agent",
                agent,
                "--session-key",
                session,
                "--message",
                "Run the clawposture probe.",
                "--json",
                "--timeout",
                &timeout,
            ]
            .iter()
            .map(|s| s.to_string()),
        );
        let ran = proc::run_as(
            &argv,
            &plan.openclaw_env,
            &plan.state_dir,
            Duration::from_secs(plan.turn_timeout_secs + 30),
            plan.run_as,
        );
        let log = server.take();
        let now: Vec<String> = engine.list(&plan.prefix, &plan.base);
        let new: Vec<String> = now.iter().filter(|n| !seen.contains(n)).cloned().collect();
        seen = now;
        let containers = new.iter().filter_map(|n| engine.inspect(n)).collect();
        let first = log.exchanges.first();
        let tool_result = log.exchanges.iter().find_map(|x| x.tool_result.clone());
        let json = extract_json(&ran.stdout);
        let turn = Turn {
            agent: agent.clone(),
            session: session.clone(),
            main: *main,
            tools_offered: first.map(|x| x.tools.clone()).unwrap_or_default(),
            requests: log.exchanges.len(),
            action: first.map(|x| x.action.clone()),
            probe: tool_result.as_deref().and_then(probe::parse),
            tool_result,
            exit_code: ran.code,
            timed_out: ran.timed_out,
            error: ran.error.clone(),
            stderr_tail: proc::tail(
                &format!(
                    "{}\n{}",
                    ran.stderr,
                    if ran.ok() { "" } else { ran.stdout.as_str() }
                ),
                12,
            ),
            claimed_sandboxed: json
                .as_ref()
                .and_then(|j| j.pointer("/meta/systemPromptReport/sandbox/sandboxed"))
                .and_then(Value::as_bool),
            containers,
            seconds: t0.elapsed().as_secs_f64(),
        };
        say(
            plan.started,
            &format!(
                "agent {agent}, session {session}: turn ended in {:.0} s (exit {}, {} model requests, {} new container(s))",
                turn.seconds,
                ran.code.map_or("none".into(), |c| c.to_string()),
                turn.requests,
                new.len()
            ),
        );
        turns.push(turn);
        // Written after every turn: a run stopped midway still shows what it saw.
        write_private(
            &plan.evidence,
            &serde_json::to_string(&turns).unwrap_or_default(),
        )?;
        if ran.interrupted {
            break;
        }
    }
    let _ = elapsed(&plan);
    Ok(())
}

fn write_private(path: &std::path::Path, text: &str) -> Result<(), String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    f.write_all(text.as_bytes())
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// The first JSON object on stdout (OpenClaw may print notices before it).
fn extract_json(stdout: &str) -> Option<Value> {
    let start = stdout.find('{')?;
    let mut de = serde_json::Deserializer::from_str(&stdout[start..]).into_iter::<Value>();
    de.next()?.ok()
}
