//! OpenClaw's own view of the config: `config validate`, `sandbox explain` and `security
//! audit`, run read-only (OPENCLAW_CONFIG_READONLY=1, never `--fix`), each with a timeout,
//! without network unless allowed (an empty network namespace plus OPENCLAW_OFFLINE=1: the
//! audit may otherwise try to install channel plugins), and only from a binary nobody else
//! can replace. Running is the shell; judging the JSON is pure.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::domain::expect::AgentSandbox;
use crate::model::checks::{Group, Outcome};

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(180);

/// One path component as `stat` sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    pub path: PathBuf,
    pub mode: u32,
    pub uid: u32,
    pub dir: bool,
}

/// Refuse a binary that someone else could replace: the file and every directory above it
/// (of the path as given and of its resolved target) must be writable by nobody but root
/// or you. A world- or group-writable directory is accepted only with the sticky bit (others
/// cannot rename or delete what they do not own there, as in /tmp).
pub fn judge_path(components: &[Component], me: u32) -> Result<(), String> {
    let mut problems = Vec::new();
    for c in components {
        let writable = c.mode & 0o022 != 0;
        let sticky = c.dir && c.mode & 0o1000 != 0;
        if writable && !sticky {
            problems.push(format!(
                "{} is {} (mode {:o})",
                c.path.display(),
                if c.mode & 0o002 != 0 {
                    "world-writable"
                } else {
                    "group-writable"
                },
                c.mode & 0o7777
            ));
        }
        if c.uid != 0 && c.uid != me {
            problems.push(format!(
                "{} is owned by uid {} (neither root nor you)",
                c.path.display(),
                c.uid
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// Stat the binary and every directory above it (as given and resolved).
pub fn path_components(bin: &Path) -> Result<Vec<Component>, String> {
    let mut paths: Vec<PathBuf> = Vec::new();
    let abs = if bin.is_absolute() {
        bin.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| e.to_string())?
            .join(bin)
    };
    for a in abs.ancestors().skip(1) {
        paths.push(a.to_path_buf());
    }
    let real = std::fs::canonicalize(&abs)
        .map_err(|e| format!("cannot resolve {}: {e}", abs.display()))?;
    for a in real.ancestors() {
        if !paths.contains(&a.to_path_buf()) {
            paths.push(a.to_path_buf());
        }
    }
    paths
        .into_iter()
        .map(|p| {
            let m = std::fs::metadata(&p)
                .map_err(|e| format!("cannot inspect {}: {e}", p.display()))?;
            Ok(Component {
                mode: m.permissions().mode() & 0o7777,
                uid: m.uid(),
                dir: m.is_dir(),
                path: p,
            })
        })
        .collect()
}

/// How the OpenClaw calls are kept off the network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Network {
    /// Run inside an empty network namespace with this command prefix.
    Namespace(Vec<String>),
    /// `--allow-network`: run as is.
    Allowed,
    /// No way to isolate: the calls are not made.
    Unavailable(String),
}

/// Try the ways to get an empty network namespace: as root, then as an ordinary user with a
/// user namespace mapping your own uid (so file ownership looks the same to OpenClaw), then
/// mapping you to root.
pub fn network(allow: bool) -> Network {
    if allow {
        return Network::Allowed;
    }
    let Ok(unshare) = which::which("unshare") else {
        return Network::Unavailable("`unshare` (util-linux) is not installed".into());
    };
    let unshare = unshare.to_string_lossy().into_owned();
    for args in [
        vec!["-n"],
        vec!["--user", "--map-current-user", "--net"],
        vec!["-r", "-n"],
    ] {
        let ok = Command::new(&unshare)
            .args(&args)
            .arg("true")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            let mut prefix = vec![unshare.clone()];
            prefix.extend(args.iter().map(|s| s.to_string()));
            return Network::Namespace(prefix);
        }
    }
    Network::Unavailable("this system does not let clawposture create an empty network namespace (`unshare -n` and user namespaces are not permitted)".into())
}

/// Everything a call needs.
#[derive(Debug, Clone)]
pub struct Runner {
    pub bin: PathBuf,
    pub prefix: Vec<String>,
    pub env: Vec<(String, String)>,
    pub cwd: PathBuf,
    pub timeout: Duration,
}

impl Runner {
    pub fn new(
        bin: &Path,
        prefix: Vec<String>,
        config: &Path,
        state_dir: &Path,
        offline: bool,
        timeout: Duration,
    ) -> Runner {
        let mut env = vec![
            (
                "OPENCLAW_CONFIG_PATH".to_string(),
                config.display().to_string(),
            ),
            (
                "OPENCLAW_STATE_DIR".to_string(),
                state_dir.display().to_string(),
            ),
            // Nothing in a verify run may write the config, and no update or mDNS may start.
            ("OPENCLAW_CONFIG_READONLY".to_string(), "1".to_string()),
            ("OPENCLAW_NO_AUTO_UPDATE".to_string(), "1".to_string()),
            ("OPENCLAW_DISABLE_BONJOUR".to_string(), "1".to_string()),
            ("NO_COLOR".to_string(), "1".to_string()),
            ("TERM".to_string(), "dumb".to_string()),
        ];
        if offline {
            env.push(("OPENCLAW_OFFLINE".to_string(), "1".to_string()));
        }
        // OpenClaw trusts `./.env`: run in the state dir, whose .env it trusts anyway.
        let cwd = if state_dir.is_dir() {
            state_dir.to_path_buf()
        } else {
            PathBuf::from("/")
        };
        Runner {
            bin: bin.to_path_buf(),
            prefix,
            env,
            cwd,
            timeout,
        }
    }
}

/// What one call produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallResult {
    pub command: String,
    pub rc: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub timed_out: bool,
    pub error: Option<String>,
}

/// Run `openclaw ARGS` with the runner's environment.
pub fn call(runner: &Runner, args: &[&str]) -> CallResult {
    let mut argv: Vec<String> = runner.prefix.clone();
    argv.push(runner.bin.display().to_string());
    argv.extend(args.iter().map(|s| s.to_string()));
    run(
        &argv,
        &runner.env,
        &runner.cwd,
        runner.timeout,
        &format!("openclaw {}", args.join(" ")),
    )
}

/// Run a command with a timeout through [`crate::edge::child`]: its own process group, the
/// whole tree killed on timeout, and it dies with clawposture (PR_SET_PDEATHSIG).
pub fn run(
    argv: &[String],
    env: &[(String, String)],
    cwd: &Path,
    timeout: Duration,
    label: &str,
) -> CallResult {
    let o = crate::edge::child::run(&crate::edge::child::Spec {
        argv: argv.to_vec(),
        env: env.to_vec(),
        cwd: cwd.to_path_buf(),
        timeout,
        label: label.to_string(),
    });
    CallResult {
        command: label.to_string(),
        rc: o.rc,
        stdout: o.stdout,
        stderr: o.stderr,
        timed_out: o.timed_out,
        error: o.error,
    }
}

/// The first JSON object on stdout (OpenClaw may print notices before it).
pub fn extract_json(stdout: &str) -> Option<Value> {
    let mut search = 0;
    while let Some(pos) = stdout[search..].find('{') {
        let at = search + pos;
        let mut de = serde_json::Deserializer::from_str(&stdout[at..]).into_iter::<Value>();
        if let Some(Ok(v)) = de.next() {
            return Some(v);
        }
        search = at + 1;
    }
    None
}

fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// A call that produced no usable JSON.
fn broken(id: &str, title: &str, res: &CallResult, timeout: Duration) -> Outcome {
    let reason = if res.timed_out {
        format!(
            "`{}` did not finish within {} s",
            res.command,
            timeout.as_secs()
        )
    } else if let Some(e) = &res.error {
        e.clone()
    } else {
        format!(
            "`{}` exited {} without JSON output",
            res.command,
            res.rc
                .map(|c| c.to_string())
                .unwrap_or("by a signal".into())
        )
    };
    let mut o = Outcome::fail(id, Group::Openclaw, title, reason);
    let t = tail(&res.stderr, 15);
    if !t.is_empty() {
        o = o.detail(format!("stderr:\n{t}"));
    }
    o
}

pub fn judge_validate(res: &CallResult, timeout: Duration) -> Outcome {
    let id = crate::model::check_ids::OPENCLAW_VALIDATE;
    let title = "`openclaw config validate` accepts the config";
    let Some(v) = extract_json(&res.stdout) else {
        return broken(id, title, res, timeout).doc("cli/config.md");
    };
    let warnings: Vec<String> = v
        .get("warnings")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|w| {
            w.as_str().map(str::to_string).unwrap_or_else(|| {
                w.get("message")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| w.to_string())
            })
        })
        .map(|w| format!("warning: {w}"))
        .collect();
    if v.get("valid").and_then(Value::as_bool) == Some(true) {
        Outcome::pass(
            id,
            Group::Openclaw,
            title,
            if warnings.is_empty() {
                "valid, no warnings".to_string()
            } else {
                format!("valid, {} warning(s)", warnings.len())
            },
        )
        .details(warnings)
    } else {
        let issues: Vec<String> = v
            .get("issues")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|i| {
                format!(
                    "{}: {}",
                    i.get("path").and_then(Value::as_str).unwrap_or("(root)"),
                    i.get("message")
                        .and_then(Value::as_str)
                        .unwrap_or("invalid")
                )
            })
            .collect();
        Outcome::fail(
            id,
            Group::Openclaw,
            title,
            format!(
                "invalid: {} issue(s); the Gateway refuses to start on an invalid config",
                issues.len()
            ),
        )
        .details(issues)
        .details(warnings)
        .fix("fix the listed keys (`clawposture apply` restores the preset's own)")
        .doc("gateway/configuration.md")
    }
}

pub use crate::domain::expect::{ExplainCase, explain_args, explain_cases};

/// The id and title of agent `agent`'s `sandbox explain` item.
pub fn explain_item(agent: &str) -> (String, String) {
    (
        crate::model::check_ids::openclaw_sandbox(agent),
        format!("`openclaw sandbox explain` for agent `{agent}` agrees with the preset"),
    )
}

pub fn judge_explain(
    want: &AgentSandbox,
    elevated_wanted: bool,
    calls: &[(ExplainCase, CallResult)],
    timeout: Duration,
) -> Outcome {
    let (id, title) = explain_item(&want.agent);
    let mut diffs = Vec::new();
    let mut seen = Vec::new();
    for (case, res) in calls {
        let Some(v) = extract_json(&res.stdout) else {
            return broken(&id, &title, res, timeout).doc("cli/sandbox.md");
        };
        let s = v.get("sandbox").cloned().unwrap_or(Value::Null);
        let session = v
            .get("sessionKey")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string();
        let mut cmp = |field: &str, got: Option<&Value>, want: Value| {
            if got != Some(&want) {
                diffs.push(format!(
                    "{session}: {field} is {}, the preset wants {want}",
                    got.map(Value::to_string).unwrap_or("(missing)".into())
                ));
            }
        };
        cmp(
            "sandbox.mode",
            s.get("mode"),
            Value::from(want.mode.clone()),
        );
        cmp(
            "sandbox.scope",
            s.get("scope"),
            Value::from(want.scope.clone()),
        );
        cmp(
            "sandbox.workspaceAccess",
            s.get("workspaceAccess"),
            Value::from(want.workspace_access.clone()),
        );
        cmp(
            "sandbox.sessionIsSandboxed",
            s.get("sessionIsSandboxed"),
            Value::from(case.sandboxed),
        );
        cmp(
            "elevated.enabled",
            v.pointer("/elevated/enabled"),
            Value::from(elevated_wanted),
        );
        seen.push(format!(
            "{session}: sandboxed={}",
            s.get("sessionIsSandboxed")
                .map(Value::to_string)
                .unwrap_or("?".into())
        ));
    }
    if diffs.is_empty() {
        Outcome::pass(
            &id,
            Group::Openclaw,
            title,
            format!(
                "mode {}, scope {}, workspaceAccess {}, elevated off; {}",
                want.mode,
                want.scope,
                want.workspace_access,
                seen.join(", ")
            ),
        )
        .doc("cli/sandbox.md")
    } else {
        Outcome::fail(
            &id,
            Group::Openclaw,
            title,
            format!("{} difference(s) from the preset", diffs.len()),
        )
        .details(diffs)
        .fix(
            "run `clawposture apply` to restore the preset, then `openclaw sandbox recreate --all`",
        )
        .doc("cli/sandbox.md")
    }
}

/// Why a warn is expected for this preset (None: it is not).
pub fn expected_warn(check_id: &str, preset: Option<&str>) -> Option<&'static str> {
    match check_id {
        "gateway.trusted_proxies_missing" => Some(
            "expected: OpenClaw reports it for every loopback Gateway with no trusted proxies; it matters only behind a reverse proxy (then set gateway.trustedProxies)",
        ),
        "security.trust_model.multi_user_heuristic"
            if matches!(preset, Some("group" | "public")) =>
        {
            Some(
                "expected for this preset: members or strangers reach the Gateway by design; they are confined to sandboxed sessions and a narrow tool policy",
            )
        }
        _ => None,
    }
}

pub fn judge_audit(res: &CallResult, preset: Option<&str>, timeout: Duration) -> Outcome {
    let id = crate::model::check_ids::OPENCLAW_AUDIT;
    let title = "`openclaw security audit` finds nothing critical";
    let Some(v) = extract_json(&res.stdout) else {
        return broken(id, title, res, timeout).doc("gateway/security/audit-checks.md");
    };
    let findings: Vec<&Value> = v
        .get("findings")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let sev = |f: &Value| {
        f.get("severity")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let line = |f: &Value| {
        format!(
            "{} {}: {}",
            sev(f),
            f.get("checkId").and_then(Value::as_str).unwrap_or("?"),
            f.get("title").and_then(Value::as_str).unwrap_or("")
        )
    };
    let critical: Vec<&Value> = findings
        .iter()
        .copied()
        .filter(|f| sev(f) == "critical")
        .collect();
    let summary_critical = v
        .pointer("/summary/critical")
        .and_then(Value::as_u64)
        .unwrap_or(critical.len() as u64);
    let mut details = Vec::new();
    for f in &critical {
        let fix = f.get("remediation").and_then(Value::as_str).unwrap_or("");
        details.push(format!(
            "{}{}",
            line(f),
            if fix.is_empty() {
                String::new()
            } else {
                format!("\n  fix: {fix}")
            }
        ));
    }
    let mut unexpected = 0;
    for f in findings.iter().filter(|f| sev(f) == "warn") {
        let check = f.get("checkId").and_then(Value::as_str).unwrap_or("");
        match expected_warn(check, preset) {
            Some(why) => details.push(format!("{}\n  {why}", line(f))),
            None => {
                unexpected += 1;
                let fix = f
                    .get("remediation")
                    .and_then(Value::as_str)
                    .unwrap_or("see the audit output");
                details.push(format!("{}\n  not expected by the preset: {fix}", line(f)));
            }
        }
    }
    let warns = findings.iter().filter(|f| sev(f) == "warn").count();
    if summary_critical > 0 {
        Outcome::fail(id, Group::Openclaw, title, format!("{summary_critical} critical finding(s), {warns} warning(s)"))
            .details(details)
            .fix("follow each finding's fix; never run `openclaw security audit --fix` blindly (it reverts parts of the public preset)")
            .doc("gateway/security/audit-checks.md")
    } else {
        Outcome::pass(
            id,
            Group::Openclaw,
            title,
            format!(
                "no critical finding; {warns} warning(s){}",
                if unexpected > 0 {
                    format!(", {unexpected} not expected by the preset (read them)")
                } else {
                    String::new()
                }
            ),
        )
        .details(details)
        .doc("gateway/security/audit-checks.md")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::expect;
    use crate::model::checks::Status;
    use serde_json::json;

    fn comp(path: &str, mode: u32, uid: u32, dir: bool) -> Component {
        Component {
            path: path.into(),
            mode,
            uid,
            dir,
        }
    }

    #[test]
    fn writable_paths_are_refused() {
        assert!(
            judge_path(
                &[
                    comp("/usr/bin", 0o755, 0, true),
                    comp("/usr/bin/openclaw", 0o755, 0, false)
                ],
                1000
            )
            .is_ok()
        );
        assert!(
            judge_path(
                &[
                    comp("/tmp", 0o1777, 0, true),
                    comp("/tmp/me", 0o755, 1000, true)
                ],
                1000
            )
            .is_ok()
        );
        let e = judge_path(&[comp("/opt/shared", 0o775, 0, true)], 1000).unwrap_err();
        assert!(e.contains("group-writable"), "{e}");
        assert!(
            judge_path(&[comp("/opt/x", 0o777, 0, true)], 1000)
                .unwrap_err()
                .contains("world-writable")
        );
        assert!(
            judge_path(&[comp("/home/eve/bin", 0o755, 1001, true)], 1000)
                .unwrap_err()
                .contains("uid 1001")
        );
    }

    fn ok(stdout: &str) -> CallResult {
        CallResult {
            command: "openclaw x".into(),
            rc: Some(0),
            stdout: stdout.into(),
            ..Default::default()
        }
    }

    #[test]
    fn json_after_notices() {
        assert_eq!(
            extract_json("Config write will strip comments\n{\"valid\":true}\n"),
            Some(json!({"valid": true}))
        );
        assert_eq!(extract_json("a {broken\n{\"x\":1}"), Some(json!({"x": 1})));
        assert_eq!(extract_json("nothing"), None);
    }

    #[test]
    fn validate_and_audit() {
        assert_eq!(
            judge_validate(&ok("{\"valid\":true,\"warnings\":[]}"), DEFAULT_TIMEOUT).status,
            Status::Pass
        );
        let bad = judge_validate(
            &ok(
                "{\"valid\":false,\"issues\":[{\"path\":\"a.b\",\"message\":\"Unrecognized key\"}]}",
            ),
            DEFAULT_TIMEOUT,
        );
        assert_eq!(bad.status, Status::Fail);
        assert!(bad.details[0].contains("a.b: Unrecognized key"));
        let timed = judge_validate(
            &CallResult {
                command: "openclaw config validate --json".into(),
                timed_out: true,
                ..Default::default()
            },
            DEFAULT_TIMEOUT,
        );
        assert!(timed.reason.contains("did not finish"));
        let audit = json!({"summary": {"critical": 0, "warn": 2}, "findings": [
            {"checkId": "gateway.trusted_proxies_missing", "severity": "warn", "title": "t"},
            {"checkId": "security.trust_model.multi_user_heuristic", "severity": "warn", "title": "m", "remediation": "r"}]});
        let o = judge_audit(&ok(&audit.to_string()), Some("group"), DEFAULT_TIMEOUT);
        assert_eq!(o.status, Status::Pass);
        assert!(!o.reason.contains("not expected"));
        let o = judge_audit(&ok(&audit.to_string()), Some("private"), DEFAULT_TIMEOUT);
        assert!(o.reason.contains("1 not expected"));
        let crit = json!({"summary": {"critical": 1}, "findings": [{"checkId": "gateway.loopback_no_auth", "severity": "critical", "title": "no auth"}]});
        assert_eq!(
            judge_audit(&ok(&crit.to_string()), None, DEFAULT_TIMEOUT).status,
            Status::Fail
        );
    }

    #[test]
    fn explain_is_compared_with_the_preset() {
        let want = expect::agent_sandbox(
            &json!({"agents": {"defaults": {"sandbox": {"mode": "non-main", "scope": "agent", "workspaceAccess": "ro"}}}}),
            "main",
        );
        let cases = explain_cases(&want);
        assert_eq!(cases.len(), 2);
        let out = |sandboxed: bool, key: &str| {
            ok(&json!({"sessionKey": key, "sandbox": {"mode": "non-main", "scope": "agent", "workspaceAccess": "ro", "sessionIsSandboxed": sandboxed}, "elevated": {"enabled": false}}).to_string())
        };
        let good = vec![
            (cases[0].clone(), out(false, "agent:main:main")),
            (cases[1].clone(), out(true, "agent:main:subagent:x")),
        ];
        assert_eq!(
            judge_explain(&want, false, &good, DEFAULT_TIMEOUT).status,
            Status::Pass
        );
        let bad = vec![
            (cases[0].clone(), out(false, "agent:main:main")),
            (cases[1].clone(), out(false, "agent:main:subagent:x")),
        ];
        let o = judge_explain(&want, false, &bad, DEFAULT_TIMEOUT);
        assert_eq!(o.status, Status::Fail);
        assert!(o.details[0].contains("sessionIsSandboxed"));
        assert_eq!(explain_args("main", &cases[1])[3], "--session");
    }
}
