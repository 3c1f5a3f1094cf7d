//! The sandbox image line of the Environment and Done screens: the missing image and the key
//! that builds it, then the build's live gauge, then its outcome.

use ratatui::text::{Line, Span};

use crate::front::tui::theme::Theme;
use crate::front::wizard::image::{ImageBuild, missing_image};
use crate::front::wizard::{Detection, Wizard};

pub fn lines(w: &Wizard, t: &Theme, width: u16) -> Vec<Line<'static>> {
    let Detection::Done(r) = &w.detection else {
        return Vec::new();
    };
    let Some((endpoint, tag)) = missing_image(r) else {
        return Vec::new();
    };
    let mut l = match &w.image {
        ImageBuild::Idle => vec![Line::from(vec![
            Span::styled("! ", t.warn()),
            Span::raw(format!("The sandbox image {tag} is missing: press ")),
            Span::styled("b", t.key()),
            Span::raw(" to build it now (as `clawposture image build` does)."),
        ])],
        ImageBuild::Running(p) => vec![
            Line::styled(format!("Building {tag} on {endpoint}"), t.heading()),
            // Leave room for the screen's margins; the gauge cuts its own line.
            Line::raw(p.line(usize::from(width.saturating_sub(4)).max(20))),
        ],
        ImageBuild::Done { ok: true, text } => {
            vec![Line::styled(format!("✓ {text}"), t.good())]
        }
        ImageBuild::Done { ok: false, text } => {
            let mut l = vec![Line::from(vec![
                Span::styled("✗ ", t.bad()),
                Span::raw("The sandbox image build failed (press "),
                Span::styled("b", t.key()),
                Span::raw(" to try again):"),
            ])];
            l.extend(
                text.lines()
                    .take(6)
                    .map(|s| Line::styled(format!("  {s}"), t.dim())),
            );
            l
        }
    };
    l.push(Line::raw(""));
    l
}
