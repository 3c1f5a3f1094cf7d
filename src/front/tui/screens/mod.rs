//! One module per screen. Each builds its body as lines from the wizard's state (pure); the
//! view lays them out. `fixed` stays on top, `scrolled` scrolls with the arrow keys.

mod done;
mod environment;
mod image_gauge;
mod preset;
mod preview;
mod threat;
mod welcome;
mod write;

use ratatui::text::{Line, Span};

use super::theme::Theme;
use crate::front::wizard::{Step, Wizard};

pub use done::checklist_results;
pub use write::checklist_target;

#[derive(Debug, Clone, Default)]
pub struct Body {
    pub fixed: Vec<Line<'static>>,
    pub scrolled: Vec<Line<'static>>,
    /// Wrap long lines (prose); config text is cut instead, so columns stay aligned.
    pub wrap: bool,
}

pub fn body(w: &Wizard, t: &Theme, width: u16) -> Body {
    let mut b = screen_body(w, t, width);
    if b.wrap {
        let width = usize::from(width);
        b.fixed = b.fixed.into_iter().flat_map(|l| hang(l, width)).collect();
        b.scrolled = b
            .scrolled
            .into_iter()
            .flat_map(|l| hang(l, width))
            .collect();
    }
    b
}

/// Word-wrap one line to `width`, continuation lines indented under the text (past a short
/// leading label such as `fix: ` or `✗ `), so wrapped fixes and reasons stay readable.
pub fn hang(line: Line<'static>, width: usize) -> Vec<Line<'static>> {
    let len = |s: &str| s.chars().count();
    let total: usize = line.spans.iter().map(|s| len(&s.content)).sum();
    if total <= width || width < 20 {
        return vec![line];
    }
    let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
    let lead = len(&text) - len(text.trim_start());
    let indent = match line.spans.first() {
        Some(s) if s.content.ends_with(' ') && len(&s.content) <= 14 && line.spans.len() > 1 => {
            len(&s.content)
        }
        _ => lead,
    }
    .min(width / 2);
    // Pieces are a word with the spaces after it, each keeping its span's style.
    let mut pieces: Vec<(String, ratatui::style::Style)> = Vec::new();
    for span in &line.spans {
        let mut cur = String::new();
        let mut in_space = false;
        for c in span.content.chars() {
            if c != ' ' && in_space {
                pieces.push((std::mem::take(&mut cur), span.style));
                in_space = false;
            }
            if c == ' ' {
                in_space = true;
            }
            cur.push(c);
        }
        if !cur.is_empty() {
            pieces.push((cur, span.style));
        }
    }
    let mut out: Vec<Line<'static>> = Vec::new();
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    let flush = |spans: &mut Vec<Span<'static>>, out: &mut Vec<Line<'static>>| {
        if let Some(last) = spans.last_mut() {
            let trimmed = last.content.trim_end().to_string();
            last.content = trimmed.into();
        }
        out.push(Line::from(std::mem::take(spans)).style(line.style));
    };
    for (piece, style) in pieces {
        let word = len(piece.trim_end());
        if used > indent && used + word > width {
            flush(&mut spans, &mut out);
            spans.push(Span::raw(" ".repeat(indent)));
            used = indent;
        }
        let mut piece = piece;
        // A word longer than a whole line (a path, a URL) is cut where the line ends.
        while used + len(piece.trim_end()) > width && len(&piece) > width - used {
            let head: String = piece.chars().take(width - used).collect();
            piece = piece.chars().skip(width - used).collect();
            spans.push(Span::styled(head, style));
            flush(&mut spans, &mut out);
            spans.push(Span::raw(" ".repeat(indent)));
            used = indent;
        }
        used += len(&piece);
        spans.push(Span::styled(piece, style));
    }
    if !spans.is_empty() {
        flush(&mut spans, &mut out);
    }
    out
}

fn screen_body(w: &Wizard, t: &Theme, width: u16) -> Body {
    let mut b = step_body(w, t, width);
    if matches!(w.step, Step::Environment | Step::Done) {
        b.fixed.extend(image_gauge::lines(w, t, width));
    }
    b
}

fn step_body(w: &Wizard, t: &Theme, width: u16) -> Body {
    match w.step {
        Step::Welcome => welcome::body(w, t),
        Step::Environment => environment::body(w, t),
        Step::Threat => threat::body(w, t),
        Step::Preset => preset::body(w, t),
        Step::Preview => preview::body(w, t, width),
        Step::Write => write::body(w, t),
        Step::Done => done::body(w, t),
    }
}

const SPINNER: [&str; 4] = ["|", "/", "-", "\\"];

/// A spinner frame from the wizard's tick count (no clock in the view).
pub fn spinner(w: &Wizard) -> &'static str {
    SPINNER[usize::try_from(w.ticks % 4).unwrap_or(0)]
}

/// `label` padded to a column, then the value.
pub fn field(t: &Theme, label: &str, value: impl Into<Span<'static>>) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("{label:<12}"), t.heading()),
        value.into(),
    ])
}

pub fn blank() -> Line<'static> {
    Line::raw("")
}
