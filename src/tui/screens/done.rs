//! Done: what was written, the plan's warnings and notes, the checklist, the next commands.

use ratatui::text::{Line, Span};

use super::{Body, blank};
use crate::report;
use crate::tui::theme::Theme;
use crate::wizard::{Wizard, WriteState};

/// The checklist written beside the config: where it is, and its items (what to check now).
pub fn checklist_results(w: &Wizard, t: &Theme) -> Vec<Line<'static>> {
    let Some(p) = w.plan() else { return Vec::new() };
    let list = p.checklist(&w.setup.resolved);
    let mut l = vec![Line::from(vec![
        Span::styled("Checklist ", t.heading()),
        Span::raw(
            crate::checklist::path(&w.setup.resolved.state_dir)
                .display()
                .to_string(),
        ),
    ])];
    for item in crate::checklist::items(&list) {
        l.push(Line::raw(format!("  ☐ {}", item.title)));
    }
    l.push(Line::styled(
        "  `clawposture verify --live` runs them and proves the sandbox.",
        t.dim(),
    ));
    l
}

pub fn body(w: &Wizard, t: &Theme) -> Body {
    let mut l = Vec::new();
    match &w.write {
        WriteState::Written(o) => {
            l.push(Line::styled(
                format!("✓ Wrote {}", o.written.display()),
                t.good(),
            ));
            if o.via_symlink {
                l.push(Line::raw(
                    "  the config is a symlink: its target was replaced, the link kept",
                ));
            }
            match &o.backup {
                Some(b) => l.push(Line::from(vec![
                    Span::raw("  backup: "),
                    Span::raw(b.display().to_string()),
                ])),
                None => l.push(Line::styled(
                    "  no backup: there was no file before",
                    t.dim(),
                )),
            }
            if let Some(e) = &o.env_file {
                l.push(Line::from(vec![
                    Span::raw("  token: "),
                    Span::raw(format!(
                        "the Gateway token is in {} (mode 0600; not shown)",
                        e.display()
                    )),
                ]));
            }
            for tight in &o.tightened {
                l.push(Line::raw(format!("  permissions tightened: {tight}")));
            }
        }
        WriteState::Unneeded => l.push(Line::styled(
            format!(
                "✓ Nothing to change: {} already holds this posture; nothing was written.",
                w.setup.resolved.config.display()
            ),
            t.good(),
        )),
        _ => l.push(Line::styled("Nothing was written.", t.dim())),
    }
    if let Some(p) = w.plan() {
        l.push(blank());
        l.push(Line::styled("Next", t.heading()));
        for (i, (cmd, why)) in report::next_steps(&p.plan).into_iter().enumerate() {
            l.push(Line::from(vec![
                Span::styled(format!("  {}. ", i + 1), t.key()),
                Span::styled(cmd, t.heading()),
                Span::styled(format!(" — {why}"), t.dim()),
            ]));
        }
        let checks = checklist_results(w, t);
        if !checks.is_empty() {
            l.push(blank());
            l.push(Line::styled("Checklist", t.heading()));
            l.extend(checks);
        }
        if !p.plan.warnings.is_empty() || !p.plan.notes.is_empty() {
            l.push(blank());
        }
        for wn in &p.plan.warnings {
            l.push(Line::from(vec![
                Span::styled("warning: ", t.warn()),
                Span::raw(p.plan.mask(wn)),
            ]));
        }
        for n in &p.plan.notes {
            l.push(Line::from(vec![
                Span::styled("note: ", t.heading()),
                Span::raw(p.plan.mask(n)),
            ]));
        }
    }
    Body {
        fixed: Vec::new(),
        scrolled: l,
        wrap: true,
    }
}
