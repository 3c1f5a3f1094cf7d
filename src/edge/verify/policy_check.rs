//! `openclaw policy check --json` judged (pure): every finding is a FAIL naming its check id
//! and the agent it is about; checks OpenClaw could not run stay SKIP; a clean run is a PASS
//! with OpenClaw's attestation hash.

use serde_json::Value;

use crate::model::checks::{Group, Outcome};

use super::openclaw_cli::{CallResult, extract_json};

pub const ID: &str = "openclaw.policy";
const TITLE: &str = "`openclaw policy check` finds the preset's policy holds";

/// The agent a finding is about: from its config path (`agents/entries/<id>/…`), else from
/// the message (`agent 'work' …`). None: the finding is global.
pub fn finding_agent(f: &Value) -> Option<String> {
    let path = f
        .get("ocPath")
        .or_else(|| f.get("target"))
        .and_then(Value::as_str)
        .unwrap_or("");
    if let Some(rest) = path.split("/agents/entries/").nth(1)
        && let Some(id) = rest.split('/').next()
        && !id.is_empty()
    {
        return Some(id.to_string());
    }
    let msg = f.get("message").and_then(Value::as_str).unwrap_or("");
    let rest = msg.split("agent '").nth(1)?;
    Some(rest.split('\'').next()?.to_string())
}

pub const FILE_ID: &str = "openclaw.policy.file";
const FILE_TITLE: &str = "the policy OpenClaw reads is at least as strict as the preset's";

/// The policy file the Policy plugin reads, compared with the preset's.
#[derive(Debug, Clone, PartialEq)]
pub enum FileCheck {
    /// It holds the preset's rules exactly.
    Same(std::path::PathBuf),
    /// It differs (or is another file): `policy compare` against `baseline` decides.
    Compare {
        policy: std::path::PathBuf,
        baseline: String,
    },
    /// Nothing to compare, and why (None: no item at all).
    Skip(Option<String>),
}

/// What to do about the configured policy file (pure but for the caller's read of `bytes`).
pub fn file_check(
    preset: Option<&str>,
    wanted: &Value,
    actual: &Value,
    read: &dyn Fn(&std::path::Path) -> Option<Vec<u8>>,
) -> FileCheck {
    let Some(preset) = preset else {
        return FileCheck::Skip(None);
    };
    let Some(template) = crate::domain::policy::template(preset) else {
        return FileCheck::Skip(None);
    };
    if actual.pointer("/plugins/entries/policy/enabled") != Some(&Value::Bool(true)) {
        return FileCheck::Skip(None);
    }
    let Some(path) = actual
        .pointer("/plugins/entries/policy/config/path")
        .and_then(Value::as_str)
    else {
        return FileCheck::Skip(Some(
            "plugins.entries.policy.config.path is not set: OpenClaw reads policy.jsonc from the agent's workspace".into(),
        ));
    };
    let path = std::path::PathBuf::from(path);
    if !path.is_absolute() {
        return FileCheck::Skip(Some(format!(
            "the policy path `{}` is relative to each agent's workspace: not compared",
            path.display()
        )));
    }
    let Ok(rules) = crate::domain::policy::rules(template, wanted) else {
        return FileCheck::Skip(None);
    };
    let baseline = crate::domain::policy::render(preset, &rules);
    match read(&path) {
        // A missing file is policy check's own finding (policy-jsonc-missing).
        None => FileCheck::Skip(None),
        Some(b) if b == baseline.as_bytes() => FileCheck::Same(path),
        Some(_) => FileCheck::Compare {
            policy: path,
            baseline,
        },
    }
}

/// The item for a policy file that holds the preset's rules exactly.
pub fn judge_same(path: &std::path::Path) -> Outcome {
    Outcome::pass(
        FILE_ID,
        Group::Openclaw,
        FILE_TITLE,
        format!("{} holds the preset's rules exactly", path.display()),
    )
    .doc("cli/policy/running-checks.md")
}

/// `openclaw policy compare --baseline <preset's> --policy <configured> --json` judged.
pub fn judge_compare(res: &CallResult, policy: &std::path::Path) -> Outcome {
    let Some(v) = extract_json(&res.stdout) else {
        return Outcome::fail(
            FILE_ID,
            Group::Openclaw,
            FILE_TITLE,
            format!(
                "{} differs from the preset's policy and `{}` gave no answer{}",
                policy.display(),
                res.command,
                if res.timed_out { " (timed out)" } else { "" }
            ),
        )
        .doc("cli/policy/running-checks.md");
    };
    let findings: Vec<String> = v
        .get("findings")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|f| {
            format!(
                "{}: {}",
                f.get("checkId").and_then(Value::as_str).unwrap_or("?"),
                f.get("message").and_then(Value::as_str).unwrap_or("")
            )
        })
        .collect();
    if v.get("ok").and_then(Value::as_bool) == Some(true) && findings.is_empty() {
        Outcome::pass(
            FILE_ID,
            Group::Openclaw,
            FILE_TITLE,
            format!(
                "{} differs from the preset's policy but is at least as strict (`openclaw policy compare`)",
                policy.display()
            ),
        )
        .doc("cli/policy/running-checks.md")
    } else {
        Outcome::fail(
            FILE_ID,
            Group::Openclaw,
            FILE_TITLE,
            format!(
                "{} is weaker than the preset's policy or misses its rules: {} finding(s)",
                policy.display(),
                findings.len()
            ),
        )
        .details(findings)
        .fix("move the file away and run `clawposture apply` (it writes the preset's policy), or add the missing rules")
        .doc("cli/policy/running-checks.md")
    }
}

/// The items of one policy check run.
pub fn judge(res: &CallResult, timeout_secs: u64) -> Vec<Outcome> {
    let Some(v) = extract_json(&res.stdout) else {
        let reason = if res.timed_out {
            format!("`{}` did not finish within {timeout_secs} s", res.command)
        } else if let Some(e) = &res.error {
            e.clone()
        } else {
            let last = res
                .stderr
                .lines()
                .rfind(|l| !l.trim().is_empty())
                .unwrap_or("")
                .to_string();
            format!(
                "`{}` exited {} without JSON output{}",
                res.command,
                res.rc.map_or("by a signal".to_string(), |c| c.to_string()),
                if last.is_empty() {
                    String::new()
                } else {
                    format!(": {last}")
                }
            )
        };
        // Never a pass for a check that could not run.
        return vec![Outcome::fail(ID, Group::Openclaw, TITLE, reason).doc("cli/policy.md")];
    };
    let findings: Vec<&Value> = v
        .get("findings")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let run = v.get("checksRun").and_then(Value::as_u64).unwrap_or(0);
    let skipped = v.get("checksSkipped").and_then(Value::as_u64).unwrap_or(0);
    let mut out = Vec::new();
    for f in &findings {
        let check = f
            .get("checkId")
            .and_then(Value::as_str)
            .unwrap_or("policy/?");
        let short = check.strip_prefix("policy/").unwrap_or(check);
        let agent = finding_agent(f);
        let id = match &agent {
            Some(a) => format!("{ID}[{a}].{short}"),
            None => format!("{ID}.{short}"),
        };
        let title = match &agent {
            Some(a) => format!("policy `{check}` holds for agent `{a}`"),
            None => format!("policy `{check}` holds"),
        };
        let mut o = Outcome::fail(
            id,
            Group::Openclaw,
            title,
            format!(
                "{check}{}: {}",
                agent
                    .as_ref()
                    .map(|a| format!(" (agent `{a}`)"))
                    .unwrap_or_default(),
                f.get("message").and_then(Value::as_str).unwrap_or("")
            ),
        )
        .doc("cli/policy/findings.md");
        if let Some(p) = f.get("ocPath").and_then(Value::as_str) {
            o = o.detail(format!("config: {p}"));
        }
        if let Some(r) = f.get("requirement").and_then(Value::as_str) {
            o = o.detail(format!("rule: {r}"));
        }
        o = o.fix(
            f.get("fixHint")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| {
                    "run `clawposture apply` to restore the preset's values for this agent".into()
                }),
        );
        out.push(o);
    }
    if skipped > 0 {
        out.push(Outcome::skip(
            format!("{ID}.skipped"),
            Group::Openclaw,
            "every policy check could run",
            format!(
                "OpenClaw skipped {skipped} of {} policy check(s): their rules are not proven",
                run + skipped
            ),
        ));
    }
    let hash = v
        .pointer("/attestation/attestationHash")
        .and_then(Value::as_str)
        .unwrap_or("?");
    if findings.is_empty() && v.get("ok").and_then(Value::as_bool) == Some(true) {
        out.insert(
            0,
            Outcome::pass(
                ID,
                Group::Openclaw,
                TITLE,
                format!("{run} check(s) run, no finding; attestation {hash}"),
            )
            .doc("cli/policy.md"),
        );
    } else {
        out.insert(
            0,
            Outcome::fail(
                ID,
                Group::Openclaw,
                TITLE,
                format!("{} finding(s) in {run} check(s)", findings.len()),
            )
            .doc("cli/policy.md"),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::checks::Status;
    use serde_json::json;

    fn res(v: &Value) -> CallResult {
        CallResult {
            command: "openclaw policy check --json".into(),
            rc: Some(1),
            stdout: v.to_string(),
            ..Default::default()
        }
    }

    #[test]
    fn each_finding_fails_with_its_check_and_agent() {
        let v = json!({"ok": false, "checksRun": 68, "checksSkipped": 2, "findings": [
            {"checkId": "policy/sandbox-mode-unapproved", "message": "agent 'work' uses unapproved sandbox mode 'off'.", "ocPath": "oc://openclaw.config/agents/entries/work/sandbox/mode"},
            {"checkId": "policy/gateway-non-loopback-bind", "message": "Gateway bind is omitted", "ocPath": "oc://openclaw.config/gateway/bind", "fixHint": "Use gateway.bind=loopback"}
        ]});
        let o = judge(&res(&v), 60);
        assert_eq!(o[0].id, ID);
        assert_eq!(o[0].status, Status::Fail);
        let work = o
            .iter()
            .find(|o| o.id == "openclaw.policy[work].sandbox-mode-unapproved")
            .expect("the agent's finding");
        assert_eq!(work.status, Status::Fail);
        assert!(work.reason.contains("agent `work`"), "{}", work.reason);
        let bind = o
            .iter()
            .find(|o| o.id == "openclaw.policy.gateway-non-loopback-bind")
            .expect("the global finding");
        assert_eq!(bind.fix.as_deref(), Some("Use gateway.bind=loopback"));
        let skip = o
            .iter()
            .find(|o| o.id == "openclaw.policy.skipped")
            .unwrap();
        assert_eq!(skip.status, Status::Skipped);
    }

    #[test]
    fn a_clean_check_passes_and_no_output_never_does() {
        let v = json!({"ok": true, "checksRun": 12, "checksSkipped": 0, "findings": [],
            "attestation": {"attestationHash": "sha256:ab"}});
        let o = judge(&res(&v), 60);
        assert_eq!(o.len(), 1);
        assert_eq!(o[0].status, Status::Pass);
        assert!(o[0].reason.contains("sha256:ab"));
        let broken = CallResult {
            command: "openclaw policy check --json".into(),
            rc: Some(2),
            stderr: "Multiple agents are configured, but policy check has no explicit owner. Pass --agent <id>.".into(),
            ..Default::default()
        };
        let o = judge(&broken, 60);
        assert_eq!(o[0].status, Status::Fail);
        assert!(o[0].reason.contains("--agent"), "{}", o[0].reason);
    }

    #[test]
    fn the_configured_policy_file_is_compared_with_the_preset_s() {
        let path = "/s/clawposture.policy.jsonc";
        let wanted = json!({"agents": {"defaults": {"sandbox": {"mode": "all", "backend": "docker", "workspaceAccess": "none"}}}});
        let actual = json!({"plugins": {"entries": {"policy": {"enabled": true, "config": {"path": path}}}}});
        let rules = crate::domain::policy::rules(
            crate::domain::policy::template("public").unwrap(),
            &wanted,
        )
        .unwrap();
        let ours = crate::domain::policy::render("public", &rules);
        let same = file_check(Some("public"), &wanted, &actual, &|_| {
            Some(ours.clone().into_bytes())
        });
        assert_eq!(same, FileCheck::Same(path.into()));
        let other = file_check(Some("public"), &wanted, &actual, &|_| Some(b"{}".to_vec()));
        assert!(matches!(other, FileCheck::Compare { ref baseline, .. } if *baseline == ours));
        assert_eq!(
            file_check(None, &wanted, &actual, &|_| None),
            FileCheck::Skip(None)
        );
        let relative = json!({"plugins": {"entries": {"policy": {"enabled": true, "config": {"path": "policy.jsonc"}}}}});
        assert!(matches!(
            file_check(Some("public"), &wanted, &relative, &|_| None),
            FileCheck::Skip(Some(_))
        ));
        let weaker = CallResult {
            command: "openclaw policy compare --json".into(),
            rc: Some(0),
            stdout: json!({"ok": false, "findings": [{"checkId": "policy/policy-conformance-missing", "message": "x is missing tools.elevated.allow."}]}).to_string(),
            ..Default::default()
        };
        let o = judge_compare(&weaker, std::path::Path::new(path));
        assert_eq!(o.status, Status::Fail);
        assert!(o.details[0].contains("tools.elevated.allow"));
        let stricter = CallResult {
            stdout: json!({"ok": true, "findings": []}).to_string(),
            ..weaker
        };
        assert_eq!(
            judge_compare(&stricter, std::path::Path::new(path)).status,
            Status::Pass
        );
    }

    #[test]
    fn the_agent_comes_from_the_path_or_the_message() {
        assert_eq!(
            finding_agent(
                &json!({"ocPath": "oc://openclaw.config/agents/entries/c/tools/elevated/enabled"})
            ),
            Some("c".into())
        );
        assert_eq!(
            finding_agent(&json!({"message": "agent 'x' permits elevated tool mode."})),
            Some("x".into())
        );
        assert_eq!(
            finding_agent(
                &json!({"ocPath": "oc://openclaw.config/tools/elevated/enabled", "message": "global tools config"})
            ),
            None
        );
    }
}
