//! Text shown to people for a plan or a write (pure: data in, text out; secrets masked).

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::app::{Next, Prepared, Today};
use crate::domain::plan::{Change, Plan};
use crate::domain::preset::Preset;
use crate::edge::write::WriteOutcome;
use crate::model::paths::Resolved;

fn short(v: &Option<Value>) -> String {
    match v {
        None => "(unset)".into(),
        Some(v) => {
            let s = v.to_string();
            if s.chars().count() > 60 {
                format!("{}…", s.chars().take(59).collect::<String>())
            } else {
                s
            }
        }
    }
}

fn change_line(c: &Change) -> String {
    let sign = match (&c.before, &c.after) {
        (None, Some(_)) => '+',
        (Some(_), None) => '-',
        _ => '~',
    };
    let loosens = match c.loosens {
        Some(crate::domain::plan::Loosens::User) => "  LOOSENS a value you set",
        Some(crate::domain::plan::Loosens::Clawposture) => "  loosens (written by clawposture)",
        None => "",
    };
    let doc = if c.doc.is_empty() {
        String::new()
    } else {
        format!(" [{}]", c.doc)
    };
    format!(
        "  {sign} {}: {} -> {}{loosens}\n      {}{doc}\n",
        c.key,
        short(&c.before),
        short(&c.after),
        c.why,
    )
}

pub fn presets_text(presets: &[Preset]) -> String {
    let mut out = String::new();
    for p in presets {
        let _ = writeln!(
            out,
            "{} — {}\n  {}\n  needs a container engine: {}\n  source: {}\n",
            p.name,
            p.title,
            p.summary,
            match p.engine {
                crate::domain::preset::EngineNeed::Required => "yes",
                crate::domain::preset::EngineNeed::Recommended => "recommended",
            },
            p.origin()
        );
    }
    out
}

pub fn presets_json(presets: &[Preset]) -> Value {
    Value::Array(
        presets
            .iter()
            .map(|p| serde_json::to_value(p).unwrap_or(Value::Null))
            .collect(),
    )
}

pub fn plan_text(prepared: &Prepared, paths: &Resolved) -> String {
    let (plan, choice, recognized) = (
        &prepared.plan,
        &prepared.choice,
        prepared.recognized.as_ref(),
    );
    let mut out = String::new();
    let engine = choice
        .environment
        .engine
        .map(|e| e.label())
        .unwrap_or("none");
    let _ = writeln!(
        out,
        "{} preset for {}{} (config from {}); container engine: {engine}",
        plan.preset,
        paths.config.display(),
        if plan.new_file { " (new file)" } else { "" },
        paths.config_source
    );
    for line in prepared.gateway.head_lines() {
        let _ = writeln!(out, "{line}");
    }
    if !choice.preset.source.starts_with("presets/") {
        let _ = writeln!(
            out,
            "The {} preset comes from the {}.",
            choice.preset.name,
            choice.preset.origin()
        );
    }
    let open = &prepared.open_today;
    if !open.is_empty() {
        let _ = writeln!(out, "Open today: {}", open.join("; "));
    }
    if let Some(r) = recognized {
        let _ = writeln!(
            out,
            "The file today: {} preset{}",
            r.preset,
            if r.exact { ", exactly" } else { "" }
        );
        if !r.exact {
            let _ = writeln!(out, "  drifted: {}", r.drift.join(", "));
        }
    }
    for a in &choice.adjustments {
        let _ = writeln!(
            out,
            "Adjusted for this machine: {} = {}\n  {}",
            a.key,
            short(&a.value),
            a.why
        );
    }
    // Masked one at a time as printed (a big file's changes are thousands).
    let changes = &plan.changes;
    if plan.is_noop() {
        let _ = writeln!(
            out,
            "\nNothing to change: the file already holds this posture."
        );
    } else {
        let _ = writeln!(
            out,
            "\n{} change{}:",
            changes.len(),
            if changes.len() == 1 { "" } else { "s" }
        );
        for c in changes {
            out.push_str(&change_line(&plan.masked_change(c)));
        }
    }
    match plan.env_file.label() {
        "generate_token" => out.push_str(&format!("\n$STATE_DIR/.env ({}) gets a new random Gateway token (never shown).\n", paths.state_dir.join(".env").display())),
        "move_literal_token" => out.push_str("\nThe literal Gateway token moves from the config into $STATE_DIR/.env (never shown); clients keep working.\n"),
        _ => {}
    }
    for m in &plan.secret_moves.moved {
        let _ = writeln!(
            out,
            "\n$STATE_DIR/.env ({}) {} {} (never shown): `{}` moves out of the config, which refers to it by name.",
            paths.state_dir.join(".env").display(),
            if m.already_in_env {
                "already holds"
            } else {
                "gets"
            },
            m.var,
            m.key
        );
    }
    if let Some(line) = crate::app::policy_line(prepared) {
        let _ = writeln!(out, "\n{line}");
    }
    if let Some(host) = &plan.env_docker_host {
        let _ = writeln!(
            out,
            "\n$STATE_DIR/.env ({}) gets DOCKER_HOST={host}: the engine this preset was chosen for, as the Gateway service must reach it.",
            paths.state_dir.join(".env").display()
        );
    }
    for n in &plan.notes {
        let _ = writeln!(out, "\nNote: {}", plan.mask(n));
    }
    for w in &plan.warnings {
        let _ = writeln!(out, "\nWarning: {}", plan.mask(w));
    }
    if !plan.is_noop() && plan.new_text != plan.old_text {
        let _ = writeln!(out, "\n{}", plan.diff("current", "new"));
    }
    out
}

/// Where the file stands before any question (Welcome, `--plain`, `plan`).
pub fn today_text(today: &Today) -> String {
    match today {
        Today::NoFile => "Today: no config yet; the preset starts a new file.".to_string(),
        Today::Unreadable(why) => format!("Today: the config cannot be read: {why}"),
        Today::Matches(r) if r.exact => {
            format!("Today: the file holds the {} preset exactly.", r.preset)
        }
        Today::Matches(r) => format!(
            "Today: closest to the {} preset; drifted: {}",
            r.preset,
            r.drift.join(", ")
        ),
        Today::NoPreset => "Today: the file matches no preset.".to_string(),
    }
}

/// The schema of `plan --json` and `apply --json` (docs/plan-json.md).
pub const PLAN_SCHEMA: &str = "clawposture.plan/1";

/// The JSON of a step with no plan (refused before one could be made).
pub fn plan_json_empty(dry_run: bool) -> Value {
    json!({ "schema": PLAN_SCHEMA, "dry_run": dry_run })
}

/// Which step the application layer reached, for scripts.
pub fn step_json(next: &Next) -> Value {
    match next {
        Next::Refused(f) => json!({"kind": "refused", "exit_code": f.code, "message": f.message}),
        Next::Acknowledge { ack, .. } => {
            let f = ack.refusal();
            json!({"kind": "acknowledge", "exit_code": f.code, "message": f.message})
        }
        Next::NothingToWrite(_) => json!({"kind": "nothing_to_write", "exit_code": 0}),
        Next::Write(_) => json!({"kind": "write", "exit_code": 0}),
    }
}

pub fn plan_json(prepared: &Prepared, paths: &Resolved, dry_run: bool) -> Value {
    let (plan, choice, recognized) = (
        &prepared.plan,
        &prepared.choice,
        prepared.recognized.as_ref(),
    );
    json!({
        "schema": PLAN_SCHEMA,
        "dry_run": dry_run,
        "preset": plan.preset,
        "config_path": paths.config,
        "config_source": paths.config_source,
        "state_dir": paths.state_dir,
        "new_file": plan.new_file,
        "engine": choice.environment.engine.map(|e| e.label()),
        "adjustments": choice.adjustments,
        "recognized": recognized,
        "changes": plan.masked_changes(),
        "env_file": plan.env_file.label(),
        "warnings": plan.warnings.iter().map(|w| plan.mask(w)).collect::<Vec<_>>(),
        "notes": plan.notes.iter().map(|n| plan.mask(n)).collect::<Vec<_>>(),
        "kept": plan.kept,
        "loosens": !plan.user_loosenings().is_empty(),
        "skipped_engines": prepared.gateway.skipped,
        "env_docker_host": plan.env_docker_host,
        "secret_moves": plan.secret_moves.moved,
        "movable_secrets": plan.secret_moves.movable,
        "policy_file": prepared.policy.as_ref().map(|w| json!({"path": w.path, "action": format!("{:?}", w.action).to_lowercase(), "notes": w.notes})),
        "gateway_reaches": prepared.gateway.reaches.as_ref().map(|r| json!({"endpoint": r.endpoint, "because": r.because, "daemon_id": r.daemon_id, "state": r.state})),
        "gateway_chosen": prepared.gateway.chosen.as_ref().map(|(e, id)| json!({"endpoint": e, "daemon_id": id})),
        "noop": plan.is_noop(),
        "diff": plan.diff("current", "new"),
    })
}

pub fn written_text(outcome: &WriteOutcome, paths: &Resolved) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Wrote {}", outcome.written.display());
    if outcome.via_symlink {
        let _ = writeln!(
            out,
            "  (the config is a symlink: its target was replaced, the link kept)"
        );
    }
    if let Some(b) = &outcome.backup {
        let _ = writeln!(out, "Backup: {}", b.display());
    }
    if let Some(e) = &outcome.env_file {
        let _ = writeln!(
            out,
            "Stored in {} (mode 0600; values not shown): {}",
            e.display(),
            outcome.env_names.join(", ")
        );
    }
    for t in &outcome.tightened {
        let _ = writeln!(out, "Permissions tightened: {t}");
    }
    if let Some(o) = &outcome.owned_by {
        let _ = writeln!(out, "{o}");
    }
    for w in &outcome.warnings {
        let _ = writeln!(out, "Warning: {w}");
    }
    let oc = openclaw(paths);
    let _ = writeln!(
        out,
        "Next: `{oc} config validate`, then restart the Gateway; after sandbox changes run `{oc} sandbox recreate --all`."
    );
    out
}

/// The command that runs the whole checklist, repeating the advanced answers so a deliberate
/// choice is not reported as drift.
pub fn verify_live(advanced: crate::domain::choice::Advanced, paths: &Resolved) -> String {
    let mut cmd = "clawposture".to_string();
    if let Some(p) = &paths.profile {
        cmd.push_str(&format!(" --openclaw-profile {p}"));
    }
    cmd.push_str(" verify");
    match advanced.flags() {
        f if f.is_empty() => {}
        f => cmd.push_str(&format!(" {f}")),
    }
    cmd.push_str(" --live");
    cmd
}

/// The strongest check: a real OpenClaw turn in its own sandbox (`verify --e2e`). As root,
/// which its network namespace needs (the turn itself runs as the state dir's owner); sudo's
/// HOME is root's, so the state dir (and a config elsewhere) are spelled out.
pub fn verify_e2e(paths: &Resolved) -> String {
    let mut cmd = format!(
        "sudo clawposture verify --e2e --state-dir {}",
        paths.state_dir.display()
    );
    if paths.config != paths.state_dir.join("openclaw.json") {
        cmd.push_str(&format!(" --config {}", paths.config.display()));
    }
    cmd
}

/// The `openclaw` command for this Gateway (`openclaw --profile NAME` for a profile).
pub fn openclaw(paths: &Resolved) -> String {
    match &paths.profile {
        Some(p) => format!("openclaw --profile {p}"),
        None => "openclaw".to_string(),
    }
}

/// The heading of verify's results after a write, and when nothing needed writing.
pub const CHECKED_AFTER_WRITE: &str = "Checked right after writing";
pub const CHECKED_NOW: &str = "Checked just now";

/// verify's static and engine results as the front ends print them at the end of a run.
pub fn checks_text(
    heading: &str,
    checks: &crate::model::checks::Report,
    advanced: crate::domain::choice::Advanced,
    paths: &Resolved,
) -> String {
    format!(
        "\n{heading} (static and engine items; `{}` runs the rest):\n{}",
        verify_live(advanced, paths),
        checks.to_text()
    )
}

/// What apply and `--plain` print after writing: where things went, and the checks run on them.
pub fn after_write_text(
    outcome: &crate::edge::write::WriteOutcome,
    checklist: &std::path::Path,
    checks: &crate::model::checks::Report,
    advanced: crate::domain::choice::Advanced,
    paths: &Resolved,
) -> String {
    format!(
        "{}Checklist: {}\n{}",
        written_text(outcome, paths),
        checklist.display(),
        checks_text(CHECKED_AFTER_WRITE, checks, advanced, paths)
    )
}

/// The commands to run after a write, each with the reason, for every front end's last screen.
pub fn next_steps(
    plan: &Plan,
    advanced: crate::domain::choice::Advanced,
    paths: &Resolved,
) -> Vec<(String, String)> {
    let oc = openclaw(paths);
    let restart = match &paths.profile {
        Some(p) => format!(
            "restart the {p} Gateway (systemctl --user restart openclaw-gateway-{p}.service)"
        ),
        None => "restart the Gateway".to_string(),
    };
    let mut steps = vec![
        (
            format!("{oc} config validate"),
            "OpenClaw checks the file it is about to load.".to_string(),
        ),
        (
            restart,
            "It reads its config and .env only when it starts.".to_string(),
        ),
    ];
    if plan.changes.iter().any(|c| c.key.contains(".sandbox")) {
        steps.push((
            format!("{oc} sandbox recreate --all"),
            "Running sandbox containers keep their old settings until recreated.".to_string(),
        ));
    }
    steps.push((
        verify_live(advanced, paths),
        "Starts a throw-away container with the config's sandbox settings and proves from inside it: no network, read-only root, no capabilities.".to_string(),
    ));
    steps
}

/// Whether printed reports get colour: stdout is a terminal and `NO_COLOR` is not set.
pub fn use_color() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Colour the PASS / FAIL / SKIP words of a printed report and its result line (green, red,
/// yellow); the text is unchanged without colour.
pub fn paint(text: &str, color: bool) -> String {
    if !color {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 64);
    for line in text.split_inclusive('\n') {
        let painted = [
            ("  PASS  ", "\x1b[32m"),
            ("  FAIL  ", "\x1b[31m"),
            ("  SKIP  ", "\x1b[33m"),
        ]
        .iter()
        .find_map(|(word, code)| {
            line.strip_prefix(word)
                .map(|rest| format!("  {code}{}\x1b[0m  {rest}", word.trim()))
        });
        match painted {
            Some(p) => out.push_str(&p),
            None if line.starts_with("Result: NOT OK") => out.push_str(&format!(
                "\x1b[31m{}\x1b[0m{}",
                line.trim_end(),
                &line[line.trim_end().len()..]
            )),
            None if line.starts_with("Result: OK") => out.push_str(&format!(
                "\x1b[32m{}\x1b[0m{}",
                line.trim_end(),
                &line[line.trim_end().len()..]
            )),
            None => out.push_str(line),
        }
    }
    out
}

#[cfg(test)]
mod paint_tests {
    use super::paint;

    #[test]
    fn colour_only_on_request_and_only_the_status_words() {
        let text = "  PASS  static.drift  ok\n  FAIL  engine.reachable  no\nResult: NOT OK\n";
        assert_eq!(paint(text, false), text);
        let p = paint(text, true);
        assert!(p.contains("\x1b[32mPASS\x1b[0m  static.drift"));
        assert!(p.contains("\x1b[31mFAIL\x1b[0m  engine.reachable"));
        assert!(p.contains("\x1b[31mResult: NOT OK\x1b[0m\n"));
        let plain: String = p
            .replace("\x1b[32m", "")
            .replace("\x1b[31m", "")
            .replace("\x1b[0m", "");
        assert_eq!(plain, text);
    }
}
