//! Threat model: who can reach the agent. One row per preset (built-in and the user's own);
//! the highlighted one is described below the list.

use ratatui::text::{Line, Span};

use super::{Body, blank};
use crate::domain::preset::EngineNeed;
use crate::front::tui::theme::Theme;
use crate::front::wizard::{Wizard, text};

pub fn body(w: &Wizard, t: &Theme) -> Body {
    let mut fixed = vec![
        Line::raw("Who should be able to reach your agent?"),
        blank(),
    ];
    for (i, p) in w.setup.presets.iter().enumerate() {
        let here = i == w.threat_cursor;
        let today = w.recognized.as_ref().is_some_and(|r| r.preset == p.name);
        let mut spans = vec![
            Span::styled(if here { " ▸ " } else { "   " }, t.key()),
            Span::styled(format!("{} ", i + 1), t.key()),
            Span::styled(
                p.title.clone(),
                if here { t.selected() } else { t.heading() },
            ),
        ];
        if today {
            spans.push(Span::styled("  (the file today)", t.dim()));
        }
        fixed.push(Line::from(spans));
    }
    let mut l = Vec::new();
    if let Some(p) = w.setup.presets.get(w.threat_cursor) {
        match text::threat_description(&p.name) {
            Some((who, stranger)) => {
                l.push(Line::styled("Who can reach it", t.heading()));
                l.push(Line::raw(format!("  {who}")));
                l.push(Line::styled(
                    "What a stranger could make it do",
                    t.heading(),
                ));
                l.push(Line::raw(format!("  {stranger}")));
            }
            None => {
                l.push(Line::styled(
                    format!("Your preset ({})", p.source),
                    t.heading(),
                ));
                l.push(Line::raw(format!("  {}", p.summary)));
            }
        }
        let no_engine = w.environment().is_some_and(|e| e.engine.is_none());
        if no_engine && p.engine == EngineNeed::Required {
            l.push(Line::styled(
                "Needs a container engine, and none is usable here: it will be refused unless you accept the risk.",
                t.warn(),
            ));
        }
    }
    Body {
        fixed,
        scrolled: l,
        wrap: true,
    }
}
