//! Text shown to people for a plan or a write (pure: data in, text out; secrets masked).

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::choice::Choice;
use crate::paths::Resolved;
use crate::plan::{Change, Plan, Recognition};
use crate::preset::Preset;
use crate::write::WriteOutcome;

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
    format!(
        "  {sign} {}: {} -> {}\n      {} [{}]\n",
        c.key,
        short(&c.before),
        short(&c.after),
        c.why,
        c.doc
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
                crate::preset::EngineNeed::Required => "yes",
                crate::preset::EngineNeed::Recommended => "recommended",
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

pub fn plan_text(
    plan: &Plan,
    choice: &Choice,
    paths: &Resolved,
    recognized: Option<&Recognition>,
) -> String {
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
    if !choice.preset.source.starts_with("presets/") {
        let _ = writeln!(
            out,
            "The {} preset comes from the {}.",
            choice.preset.name,
            choice.preset.origin()
        );
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
    let changes = plan.masked_changes();
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
        for c in &changes {
            out.push_str(&change_line(c));
        }
    }
    match plan.env_file.label() {
        "generate_token" => out.push_str(&format!("\n$STATE_DIR/.env ({}) gets a new random Gateway token (never shown).\n", paths.state_dir.join(".env").display())),
        "move_literal_token" => out.push_str("\nThe literal Gateway token moves from the config into $STATE_DIR/.env (never shown); clients keep working.\n"),
        _ => {}
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

pub fn plan_json(
    plan: &Plan,
    choice: &Choice,
    paths: &Resolved,
    recognized: Option<&Recognition>,
) -> Value {
    json!({
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
        "noop": plan.is_noop(),
        "diff": plan.diff("current", "new"),
    })
}

pub fn written_text(outcome: &WriteOutcome) -> String {
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
            "Gateway token stored in {} (mode 0600; not shown)",
            e.display()
        );
    }
    for t in &outcome.tightened {
        let _ = writeln!(out, "Permissions tightened: {t}");
    }
    for w in &outcome.warnings {
        let _ = writeln!(out, "Warning: {w}");
    }
    out.push_str("Next: `openclaw config validate`, then restart the Gateway; after sandbox changes run `openclaw sandbox recreate --all`.\n");
    out
}

/// The command that runs the whole checklist, repeating the advanced answers so a deliberate
/// choice is not reported as drift.
pub fn verify_live(advanced: crate::choice::Advanced) -> String {
    match advanced.flags() {
        f if f.is_empty() => "clawposture verify --live".to_string(),
        f => format!("clawposture verify {f} --live"),
    }
}

/// The heading of verify's results after a write, and when nothing needed writing.
pub const CHECKED_AFTER_WRITE: &str = "Checked right after writing";
pub const CHECKED_NOW: &str = "Checked just now";

/// verify's static and engine results as the front ends print them at the end of a run.
pub fn checks_text(
    heading: &str,
    checks: &crate::verify::model::Report,
    advanced: crate::choice::Advanced,
) -> String {
    format!(
        "\n{heading} (static and engine items; `{}` runs the rest):\n{}",
        verify_live(advanced),
        checks.to_text()
    )
}

/// What apply and `--plain` print after writing: where things went, and the checks run on them.
pub fn after_write_text(
    outcome: &crate::write::WriteOutcome,
    checklist: &std::path::Path,
    checks: &crate::verify::model::Report,
    advanced: crate::choice::Advanced,
) -> String {
    format!(
        "{}Checklist: {}\n{}",
        written_text(outcome),
        checklist.display(),
        checks_text(CHECKED_AFTER_WRITE, checks, advanced)
    )
}

/// The commands to run after a write, each with the reason, for every front end's last screen.
pub fn next_steps(plan: &Plan, advanced: crate::choice::Advanced) -> Vec<(String, String)> {
    let mut steps = vec![
        (
            "openclaw config validate".to_string(),
            "OpenClaw checks the file it is about to load.".to_string(),
        ),
        (
            "restart the Gateway".to_string(),
            "It reads its config and .env only when it starts.".to_string(),
        ),
    ];
    if plan.changes.iter().any(|c| c.key.contains(".sandbox")) {
        steps.push((
            "openclaw sandbox recreate --all".to_string(),
            "Running sandbox containers keep their old settings until recreated.".to_string(),
        ));
    }
    steps.push((
        verify_live(advanced),
        "Proves the running Gateway enforces the new posture.".to_string(),
    ));
    steps
}
