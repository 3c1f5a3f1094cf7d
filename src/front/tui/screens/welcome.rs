//! Welcome: what clawposture will do, the file it will edit, and what that file is today.

use ratatui::text::{Line, Span};

use super::{Body, blank, field, spinner};
use crate::front::tui::theme::Theme;
use crate::front::wizard::{ConfigState, Detection, Wizard, text};

pub fn body(w: &Wizard, t: &Theme) -> Body {
    let mut l = vec![
        Line::raw("clawposture puts this OpenClaw installation into a secure posture. It will:"),
        blank(),
    ];
    for (i, s) in text::WELCOME_STEPS.iter().enumerate() {
        l.push(Line::from(vec![
            Span::styled(format!("  {}. ", i + 1), t.key()),
            Span::raw(*s),
        ]));
    }
    l.push(blank());
    let r = &w.setup.resolved;
    let state = match &w.config {
        ConfigState::Pending => format!(" (reading… {})", spinner(w)),
        ConfigState::Ready { original: None, .. } => " (new file)".to_string(),
        ConfigState::Ready { .. } => String::new(),
        ConfigState::Failed(_) => " (unreadable)".to_string(),
    };
    l.push(field(
        t,
        "Config",
        Span::raw(format!("{}{state}", r.config.display())),
    ));
    l.push(field(
        t,
        "",
        Span::styled(format!("chosen by {}", r.config_source), t.dim()),
    ));
    l.push(field(
        t,
        "State dir",
        Span::raw(format!(
            "{}  (.env keeps the Gateway token)",
            r.state_dir.display()
        )),
    ));
    l.push(blank());
    l.push(today(w, t));
    let open = &w.open;
    if !open.is_empty() {
        l.push(field(t, "Open", Span::styled(open.join("; "), t.warn())));
    }
    if let Some(line) = w.ledger_line() {
        l.push(field(t, "Ledger", Span::raw(line)));
    }
    if let Some(rec) = &w.recognized
        && !rec.exact
    {
        l.push(field(
            t,
            "",
            Span::styled(format!("drifted: {}", rec.drift.join(", ")), t.warn()),
        ));
    }
    // A file that cannot be read or parsed says so here, before any question.
    if let Some(crate::app::Today::Unreadable(e)) = &w.today {
        l.push(Line::styled(e.clone(), t.bad()));
        l.push(Line::styled(
            "Fix the file (or point --config at another) and run again: nothing can be written to it as it is.",
            t.dim(),
        ));
    }
    l.push(blank());
    l.push(Line::styled(
        "Nothing is written until you confirm on the Write screen.",
        t.dim(),
    ));
    Body {
        fixed: Vec::new(),
        scrolled: l,
        wrap: true,
    }
}

fn today(w: &Wizard, t: &Theme) -> Line<'static> {
    if let Some(crate::app::Today::Unreadable(_)) = &w.today {
        return field(
            t,
            "Today",
            Span::styled("the config cannot be read (below)", t.bad()),
        );
    }
    let value = match (&w.config, &w.detection, &w.recognized) {
        (ConfigState::Ready { original: None, .. }, _, _) => {
            Span::raw("no config yet: the preset starts a new file")
        }
        (ConfigState::Pending, _, _) | (_, Detection::Pending, _) => Span::styled(
            format!("checking which preset it matches… {}", spinner(w)),
            t.dim(),
        ),
        (_, _, Some(r)) if r.exact => {
            Span::styled(format!("matches the {} preset exactly", r.preset), t.good())
        }
        (_, _, Some(r)) => Span::styled(
            format!(
                "closest to the {} preset; {} value{} drifted",
                r.preset,
                r.drift.len(),
                if r.drift.len() == 1 { "" } else { "s" }
            ),
            t.warn(),
        ),
        (_, _, None) => Span::raw("matches no preset (hand-made or from another tool)"),
    };
    field(t, "Today", value)
}
