//! Preset: the chosen preset, what this machine changes in it and why, and the advanced
//! settings people ask about, each with its consequence spelled out.

use ratatui::text::{Line, Span};

use super::{Body, blank, spinner};
use crate::domain::choice::Setting;
use crate::front::tui::theme::Theme;
use crate::front::wizard::{Toggle, Wizard, text};

pub fn body(w: &Wizard, t: &Theme) -> Body {
    let Some(preset) = w.preset() else {
        return Body {
            fixed: vec![Line::raw(
                "No preset chosen yet: go back (Esc) to the threat model.",
            )],
            ..Body::default()
        };
    };
    let engine = match w.environment() {
        None => format!("detecting… {}", spinner(w)),
        Some(e) => e.engine.map(|e| e.label()).unwrap_or("none").to_string(),
    };
    let mut fixed = vec![
        Line::from(vec![
            Span::styled(preset.title.clone(), t.heading()),
            Span::styled(format!("   container engine: {engine}"), t.dim()),
        ]),
        blank(),
    ];
    for (i, row) in w.toggles().iter().enumerate() {
        let here = i == w.toggle_cursor;
        let (label, value, consequence) = describe(w, *row);
        fixed.push(Line::from(vec![
            Span::styled(if here { " ▸ " } else { "   " }, t.key()),
            Span::styled(format!("{} ", i + 1), t.key()),
            Span::styled(format!("{label:<18}"), t.heading()),
            Span::styled(value, if here { t.selected() } else { t.good() }),
        ]));
        if here {
            if let Some(err) = &w.edit_error {
                fixed.push(Line::styled(format!("     {err}"), t.bad()));
            }
            fixed.push(Line::styled(format!("     {consequence}"), t.dim()));
        }
    }
    let mut l = vec![blank()];
    if let Some(n) = &w.notice {
        l.push(Line::styled(n.clone(), t.bad()));
        l.push(blank());
    }
    match (w.plan(), w.plan_error()) {
        (None, None) => l.push(Line::styled(
            format!("Waiting for detection and the config file… {}", spinner(w)),
            t.dim(),
        )),
        (None, Some(e)) => l.push(Line::styled(e, t.bad())),
        (Some(p), _) => {
            if p.choice.adjustments.is_empty() && p.choice.environment.engine.is_none() {
                // Not "nothing adjusted": without an engine the sandbox is off (said below).
                l.push(Line::styled(
                    "No container engine: the preset's variant without a sandbox.",
                    t.heading(),
                ));
            } else if p.choice.adjustments.is_empty() {
                l.push(Line::styled("Nothing adjusted for this machine.", t.dim()));
            } else {
                l.push(Line::styled("Adjusted for this machine", t.heading()));
            }
            for a in &p.choice.adjustments {
                let value = a
                    .value
                    .as_ref()
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "(removed)".into());
                l.push(Line::from(vec![
                    Span::styled("  • ", t.key()),
                    Span::raw(format!("{} = {value}", a.key)),
                ]));
                l.push(Line::styled(format!("    {}", a.why), t.dim()));
            }
            for n in &p.plan.notes {
                l.push(Line::from(vec![
                    Span::styled("  note: ", t.heading()),
                    Span::raw(p.plan.mask(n)),
                ]));
            }
            for wn in &p.plan.warnings {
                l.push(Line::from(vec![
                    Span::styled("  warning: ", t.warn()),
                    Span::raw(p.plan.mask(wn)),
                ]));
            }
        }
    }
    l.push(blank());
    l.push(Line::styled("What this preset does", t.heading()));
    l.push(Line::styled(preset.summary.clone(), t.dim()));
    Body {
        fixed,
        scrolled: l,
        wrap: true,
    }
}

/// Shown value and consequence of an advanced setting's row, "(preset)" marking its default.
fn setting<S: Setting>(w: &Wizard, value: Option<S>) -> (String, &'static str) {
    match value {
        Some(v) if w.preset_default::<S>() == Some(v) => {
            (format!(" {} (preset) ", v.label()), v.consequence())
        }
        Some(v) => (format!(" {} ", v.label()), v.consequence()),
        None => (" n/a ".into(), "This preset runs no sandbox."),
    }
}

/// Label, shown value and consequence of one advanced row.
fn describe(w: &Wizard, row: Toggle) -> (&'static str, String, &'static str) {
    match row {
        Toggle::WorkspaceAccess => {
            let (value, why) = setting(w, w.workspace_access());
            ("Workspace access", value, why)
        }
        Toggle::SandboxNetwork => {
            let (value, why) = setting(w, w.sandbox_network());
            ("Sandbox network", value, why)
        }
        Toggle::Owner => match (editing(w, row), &w.inputs.owner) {
            (Some(buf), _) => (
                "Owner",
                format!(" {buf}█ "),
                "Type CHANNEL:ID, e.g. telegram:123456789 (your own sender id).",
            ),
            (None, Some(o)) => ("Owner", format!(" {o} "), text::OWNER_CONSEQUENCE_SET),
            (None, None) => (
                "Owner",
                " not pinned ".into(),
                text::OWNER_CONSEQUENCE_UNSET,
            ),
        },
        Toggle::Groups => ids_row(w, row, "Group chats", &w.inputs.groups, text::GROUPS_HELP),
        Toggle::Members => ids_row(w, row, "Members", &w.inputs.members, text::MEMBERS_HELP),
        Toggle::AcceptRisk => {
            if w.inputs.accept_risk {
                ("Accept the risk", " yes ".into(), text::ACCEPT_RISK_ON)
            } else {
                ("Accept the risk", " no ".into(), text::ACCEPT_RISK_OFF)
            }
        }
    }
}

/// The buffer of `row` while it is being typed.
fn editing(w: &Wizard, row: Toggle) -> Option<&str> {
    match &w.edit {
        Some((r, buf)) if *r == row => Some(buf.as_str()),
        _ => None,
    }
}

/// A row holding a list of ids (group chats, members).
fn ids_row(
    w: &Wizard,
    row: Toggle,
    label: &'static str,
    ids: &[crate::app::vocabulary::ChannelId],
    help: &'static str,
) -> (&'static str, String, &'static str) {
    match editing(w, row) {
        Some(buf) => (label, format!(" {buf}█ "), help),
        None if ids.is_empty() => (label, " none ".into(), help),
        None => (label, format!(" {} ", crate::app::id_list(ids)), help),
    }
}
