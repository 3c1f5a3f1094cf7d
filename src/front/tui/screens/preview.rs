//! Preview: the coloured diff of the current file against the new one, or the whole new
//! config (Tab). Secrets are masked by the plan before any text reaches this screen.

use ratatui::text::{Line, Span};

use super::Body;
use crate::front::tui::theme::Theme;
use crate::front::wizard::{PreviewMode, Wizard};

pub fn body(w: &Wizard, t: &Theme, width: u16) -> Body {
    let Some(p) = w.plan() else {
        let why = match w.plan_error() {
            Some(e) => Line::styled(e, t.bad()),
            None => Line::styled(
                "No plan yet: waiting for detection and the config.",
                t.dim(),
            ),
        };
        return Body {
            fixed: vec![why],
            ..Body::default()
        };
    };
    let n = p.plan.changes.len();
    let mode = match w.preview {
        PreviewMode::Diff => "diff",
        PreviewMode::Full => "full new config",
    };
    let summary = if p.plan.is_noop() {
        Line::styled(
            "Nothing to change: the file already holds this posture.",
            t.good(),
        )
    } else {
        Line::from(vec![
            Span::styled(
                format!("{n} key{} change", if n == 1 { "" } else { "s" }),
                t.heading(),
            ),
            Span::styled(
                format!(
                    "{} · showing the {mode} · secrets masked",
                    if p.plan.new_file { " (new file)" } else { "" }
                ),
                t.dim(),
            ),
        ])
    };
    let text = w.preview_text();
    let scrolled = text
        .lines()
        .map(|line| {
            let style = match w.preview {
                PreviewMode::Full => ratatui::style::Style::new(),
                PreviewMode::Diff if line.starts_with("+++") || line.starts_with("---") => {
                    t.heading()
                }
                PreviewMode::Diff if line.starts_with('+') => t.add(),
                PreviewMode::Diff if line.starts_with('-') => t.remove(),
                PreviewMode::Diff if line.starts_with("@@") => t.hunk(),
                PreviewMode::Diff => t.dim(),
            };
            Line::styled(line.to_string(), style)
        })
        .collect();
    // What the Gateway will use comes first: a skipped engine, a DOCKER_HOST for its `.env`.
    let mut fixed = vec![summary];
    for l in p.gateway.head_lines() {
        fixed.extend(super::hang(Line::styled(l, t.warn()), usize::from(width)));
    }
    Body {
        fixed,
        scrolled,
        wrap: false,
    }
}
