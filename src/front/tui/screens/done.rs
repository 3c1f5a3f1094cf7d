//! Done: what was written, verify's static and engine results on it, the next commands, the
//! checklist, the plan's warnings and notes.

use ratatui::text::{Line, Span};

use super::{Body, blank, spinner};
use crate::front::summary;
use crate::front::tui::theme::Theme;
use crate::front::wizard::{Checks, Wizard, WriteState};
use crate::model::checks::Status;

/// verify's static and engine items, run on the file right after Done was reached.
pub fn check_results(w: &Wizard, t: &Theme) -> Vec<Line<'static>> {
    let heading = match w.write {
        WriteState::Unneeded => summary::CHECKED_NOW,
        _ => summary::CHECKED_AFTER_WRITE,
    };
    let mut l = vec![Line::styled(heading, t.heading())];
    let report = match &w.checks {
        Checks::NotRun => return Vec::new(),
        Checks::Running => {
            l.push(Line::raw(format!(
                "  {} checking the files and the engine…",
                spinner(w)
            )));
            return l;
        }
        Checks::Done(r) => r,
    };
    for o in &report.outcomes {
        let style = match o.status {
            Status::Pass => t.good(),
            Status::Fail => t.bad(),
            Status::Skipped => t.warn(),
        };
        l.push(Line::from(vec![
            Span::styled(format!("  {}  ", o.status.label()), style),
            Span::raw(o.title.clone()),
        ]));
        if o.status == Status::Pass {
            continue;
        }
        l.push(Line::from(vec![
            Span::raw("        "),
            Span::styled(o.reason.clone(), t.dim()),
        ]));
        // A fix may be a recipe (the image's Dockerfile): keep its lines.
        for (i, line) in o.fix.iter().flat_map(|f| f.lines()).enumerate() {
            l.push(Line::from(vec![
                Span::styled(
                    if i == 0 {
                        "        fix: "
                    } else {
                        "             "
                    },
                    t.key(),
                ),
                Span::raw(line.to_string()),
            ]));
        }
    }
    let c = report.counts();
    l.push(Line::styled(
        format!(
            "  {} passed, {} failed, {} skipped (skipped is not a pass). `{}` runs the rest: OpenClaw, the live probe, the Gateway.",
            c.pass,
            c.fail,
            c.skipped,
            summary::verify_live(w.inputs.advanced(), &w.setup.resolved)
        ),
        if c.fail > 0 { t.bad() } else { t.dim() },
    ));
    l
}

/// The checklist written beside the config: where it is, and its items (what to check now).
pub fn checklist_results(w: &Wizard, t: &Theme) -> Vec<Line<'static>> {
    let Some(p) = w.plan() else { return Vec::new() };
    let list = p.checklist(&w.setup.resolved);
    let mut l = vec![Line::from(vec![
        Span::styled("Checklist ", t.heading()),
        Span::raw(
            crate::domain::checklist::path(&w.setup.resolved.state_dir)
                .display()
                .to_string(),
        ),
    ])];
    for item in crate::domain::checklist::items(&list) {
        l.push(Line::raw(format!("  ☐ {}", item.title)));
    }
    l.push(Line::styled(
        format!(
            "  `{}` runs them and proves the sandbox; `{}` proves it with OpenClaw's own runtime (1–2 min per preset).",
            summary::verify_live(w.inputs.advanced(), &w.setup.resolved),
            summary::verify_e2e(&w.setup.resolved)
        ),
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
                // Every variable this write set is named (a moved channel secret too), never
                // its value.
                let line = match o.env_names.as_slice() {
                    [one] if one == "OPENCLAW_GATEWAY_TOKEN" => vec![
                        Span::raw("  token: "),
                        Span::raw(format!(
                            "the Gateway token is in {} (mode 0600; not shown)",
                            e.display()
                        )),
                    ],
                    names => vec![
                        Span::raw("  .env: "),
                        Span::raw(format!(
                            "{} now in {} (mode 0600; values not shown)",
                            names.join(", "),
                            e.display()
                        )),
                    ],
                };
                l.push(Line::from(line));
            }
            for tight in &o.tightened {
                l.push(Line::raw(format!("  permissions tightened: {tight}")));
            }
            if let Some(owned) = &o.owned_by {
                l.push(Line::raw(format!("  {owned}")));
            }
            for warn in &o.warnings {
                l.push(Line::raw(format!("  warning: {warn}")));
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
    let checks = check_results(w, t);
    if !checks.is_empty() {
        l.push(blank());
        l.extend(checks);
    }
    if let Some(p) = w.plan() {
        l.push(blank());
        l.push(Line::styled("Next", t.heading()));
        for (i, (cmd, why)) in summary::next_steps(&p.plan, w.inputs.advanced(), &w.setup.resolved)
            .into_iter()
            .enumerate()
        {
            l.push(Line::from(vec![
                Span::styled(format!("  {}. ", i + 1), t.key()),
                Span::styled(cmd, t.heading()),
                Span::styled(format!(" — {why}"), t.dim()),
            ]));
        }
        let list = checklist_results(w, t);
        if !list.is_empty() {
            l.push(blank());
            l.extend(list);
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
