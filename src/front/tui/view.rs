//! The pure view: `view(&Wizard, &mut Frame)`. The frame is a header, one bordered body that
//! the current screen fills, and the footer of key hints; help and quit-confirm draw on top.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::screens::{self, Body};
use super::theme::Theme;
use crate::front::wizard::{Step, Wizard, hints};

/// Below this the screens cannot be drawn legibly; the view says so instead.
pub use crate::front::wizard::{MIN_COLS, MIN_ROWS};

pub fn theme(w: &Wizard) -> Theme {
    Theme {
        color: w.setup.color,
    }
}

struct Areas {
    header: Rect,
    body: Rect,
    footer: Rect,
}

fn areas(area: Rect) -> Areas {
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(area);
    Areas {
        header,
        body,
        footer,
    }
}

/// The inside of the body's border, with one column of padding each side.
fn inner(body: Rect) -> Rect {
    Block::bordered()
        .inner(body)
        .inner(ratatui::layout::Margin {
            horizontal: 1,
            vertical: 0,
        })
}

/// The split of the body into the fixed part and the scrolled part.
fn split(body: &Body, inner: Rect) -> (Rect, Rect) {
    if body.fixed.is_empty() {
        return (Rect::new(inner.x, inner.y, inner.width, 0), inner);
    }
    let want = body.fixed.len();
    // The scrolled part keeps at least three rows.
    let h = u16::try_from(want)
        .unwrap_or(u16::MAX)
        .min(inner.height.saturating_sub(3));
    let [fixed, rest] = Layout::vertical([Constraint::Length(h), Constraint::Min(0)]).areas(inner);
    (fixed, rest)
}

/// Screens wrap their own lines (with hanging indents), so the paragraph never wraps: long
/// config lines in the preview are cut at the border instead.
fn scrolled_paragraph(body: &Body) -> Paragraph<'_> {
    Paragraph::new(body.scrolled.clone())
}

/// How far the current screen's body can scroll in a terminal of `size`: the edge feeds this
/// back to `update` so scrolling stops at the last line.
pub fn scroll_limit(w: &Wizard, size: Rect) -> usize {
    if size.width < MIN_COLS || size.height < MIN_ROWS {
        return 0;
    }
    let t = theme(w);
    let a = areas(size);
    let inner = inner(a.body);
    let body = screens::body(w, &t, inner.width);
    let (_, rest) = split(&body, inner);
    body.scrolled.len().saturating_sub(usize::from(rest.height))
}

pub fn view(w: &Wizard, f: &mut Frame) {
    let area = f.area();
    let t = theme(w);
    if area.width < MIN_COLS || area.height < MIN_ROWS {
        let mut msg = vec![
            Line::styled("Terminal too small", t.bad()),
            Line::raw(format!(
                "clawposture needs {MIN_COLS}×{MIN_ROWS}; this one is {}×{}.",
                area.width, area.height
            )),
            Line::raw("Enlarge the window, or run `clawposture --plain`."),
            Line::raw("q quits."),
        ];
        if w.ignored_keys > 0 {
            msg.push(Line::raw(format!(
                "{} key(s) ignored: nothing acts on a screen you cannot see.",
                w.ignored_keys
            )));
        }
        f.render_widget(Paragraph::new(msg).wrap(Wrap { trim: true }), area);
        return;
    }
    let a = areas(area);
    header(w, &t, f, a.header);
    let block = Block::bordered()
        .border_style(t.border())
        .title(Span::styled(format!(" {} ", w.step.title()), t.title()));
    f.render_widget(block, a.body);
    let inner = inner(a.body);
    let body = screens::body(w, &t, inner.width);
    let (fixed, rest) = split(&body, inner);
    if fixed.height > 0 {
        f.render_widget(Paragraph::new(body.fixed.clone()), fixed);
    }
    let scroll = u16::try_from(w.scroll).unwrap_or(u16::MAX);
    f.render_widget(scrolled_paragraph(&body).scroll((scroll, 0)), rest);
    footer(w, &t, f, a.footer);
    if w.help {
        help(w, &t, f, area);
    }
    if w.confirm_quit {
        confirm_quit(&t, f, area);
    }
}

fn header(w: &Wizard, t: &Theme, f: &mut Frame, area: Rect) {
    let mut spans = vec![Span::styled(" clawposture ", t.title())];
    for s in Step::ALL {
        let n = s.index() + 1;
        let style = if s == w.step {
            t.selected()
        } else if s.index() < w.step.index() {
            t.good()
        } else {
            t.dim()
        };
        spans.push(Span::raw(" "));
        spans.push(Span::styled(format!("{n} {}", s.title()), style));
    }
    // Too narrow for every title: the current step and its number only.
    let full: usize = spans.iter().map(|s| s.width()).sum();
    if full > usize::from(area.width) {
        spans = vec![
            Span::styled(" clawposture ", t.title()),
            Span::styled(
                format!(
                    " {}/{} {} ",
                    w.step.index() + 1,
                    Step::ALL.len(),
                    w.step.title()
                ),
                t.selected(),
            ),
        ];
    }
    f.render_widget(Line::from(spans), area);
}

fn footer(w: &Wizard, t: &Theme, f: &mut Frame, area: Rect) {
    let mut spans = vec![Span::raw(" ")];
    let mut used = 1;
    let all = hints(w);
    // Hints that do not fit are dropped from the end; `?` (help lists them all) is kept.
    let help = all.iter().find(|h| h.keys == "?").copied();
    let reserve = help.map(|h| h.keys.chars().count() + h.action.chars().count() + 4);
    for h in all.iter().filter(|h| h.keys != "?") {
        let width = h.keys.chars().count() + h.action.chars().count() + 4;
        if used + width + reserve.unwrap_or(0) > usize::from(area.width) {
            break;
        }
        used += width;
        if spans.len() > 1 {
            spans.push(Span::styled(" · ", t.dim()));
        }
        spans.push(Span::styled(h.keys, t.key()));
        spans.push(Span::raw(" "));
        spans.push(Span::raw(h.action));
    }
    if let Some(h) = help {
        if spans.len() > 1 {
            spans.push(Span::styled(" · ", t.dim()));
        }
        spans.push(Span::styled(h.keys, t.key()));
        spans.push(Span::raw(" "));
        spans.push(Span::raw(h.action));
    }
    f.render_widget(Line::from(spans), area);
}

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

fn help(w: &Wizard, t: &Theme, f: &mut Frame, area: Rect) {
    let mut lines = vec![Line::styled("On this screen", t.heading())];
    // The screen's own hints as they are outside the overlay: one source for both.
    let global = crate::front::wizard::hints::GLOBAL;
    for h in crate::front::wizard::hints::screen_hints(w)
        .into_iter()
        .filter(|h| !global.iter().any(|g| g.keys.starts_with(h.keys)))
    {
        lines.push(Line::from(vec![
            Span::styled(format!("  {:<14}", h.keys), t.key()),
            Span::raw(h.action),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("Everywhere", t.heading()));
    for h in crate::front::wizard::hints::GLOBAL {
        lines.push(Line::from(vec![
            Span::styled(format!("  {:<14}", h.keys), t.key()),
            Span::raw(h.action),
        ]));
    }
    let height = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
    let r = centered(area, 56, height);
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines).block(
            Block::bordered()
                .border_style(t.border())
                .title(Span::styled(" Keys ", t.title())),
        ),
        r,
    );
}

fn confirm_quit(t: &Theme, f: &mut Frame, area: Rect) {
    let r = centered(area, 46, 5);
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(vec![
            Line::raw("Quit without writing anything?"),
            Line::raw("Your answers are not saved."),
            Line::from(vec![
                Span::styled("y", t.key()),
                Span::raw(" quit   "),
                Span::styled("n", t.key()),
                Span::raw(" stay"),
            ]),
        ])
        .block(
            Block::bordered()
                .border_style(t.bad())
                .title(Span::styled(" Quit? ", t.bad())),
        ),
        r,
    );
}
