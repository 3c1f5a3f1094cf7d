//! Environment: what detection found, each problem with its one-line fix. Detection runs on
//! a thread; until it reports, this screen says so and the user may go on.

use ratatui::text::{Line, Span};

use super::{Body, blank, spinner};
use crate::edge::detect::{Report, State};
use crate::front::tui::theme::Theme;
use crate::front::wizard::{Detection, Wizard};

pub fn body(w: &Wizard, t: &Theme) -> Body {
    match &w.detection {
        Detection::Pending => Body {
            fixed: vec![Line::styled(
                format!(
                    "{} Looking for Docker and Podman (rootful and rootless) and OpenClaw…",
                    spinner(w)
                ),
                t.heading(),
            )],
            scrolled: vec![
                Line::raw("This takes about a second. You may continue meanwhile;"),
                Line::raw("the preset is adjusted as soon as the result is in."),
            ],
            wrap: true,
        },
        Detection::Skipped(engine) => Body {
            fixed: vec![Line::styled(
                format!(
                    "Container engine set with --engine: {}",
                    engine.map(|e| e.label()).unwrap_or("none")
                ),
                t.heading(),
            )],
            scrolled: vec![Line::raw(
                "Detection was skipped (--engine none, or --no-detect), as `clawposture apply` skips it then.",
            )],
            wrap: true,
        },
        Detection::Done(r) => done(r, t),
    }
}

fn done(r: &Report, t: &Theme) -> Body {
    let fixed = match r.selected_engine() {
        Some(e) => vec![
            Line::from(vec![
                Span::styled("✓ Sandbox engine: ", t.good()),
                Span::styled(e.label(), t.heading()),
            ]),
            Line::from(vec![
                Span::raw("  "),
                Span::styled(r.selected.reason.clone(), t.dim()),
            ]),
            blank(),
        ],
        None => vec![
            Line::styled("✗ No usable container engine", t.bad()),
            Line::from(vec![
                Span::raw("  "),
                Span::styled(r.selected.reason.clone(), t.dim()),
            ]),
            blank(),
        ],
    };
    let mut l = vec![Line::styled(
        format!("Engines (detected in {} ms)", r.elapsed_ms),
        t.heading(),
    )];
    let mut absent = Vec::new();
    for (i, e) in r.engines.iter().enumerate() {
        // Sockets merely looked for and not found are noise unless there is something to do.
        if e.state == State::Missing && e.fix.is_none() && !e.source.is_explicit() {
            absent.push(e.endpoint.clone());
            continue;
        }
        let selected = r.selected.index == Some(i);
        let (mark, style) = match e.state {
            State::Ready => (if selected { "▸" } else { "✓" }, t.good()),
            State::Missing => ("·", t.dim()),
            _ => ("✗", t.bad()),
        };
        l.push(Line::from(vec![
            Span::styled(format!("{mark} "), style),
            Span::styled(format!("{:<17}", e.label()), t.heading()),
            Span::styled(format!("{:<18}", e.state.label()), style),
            Span::raw(e.version.clone().unwrap_or_default()),
        ]));
        l.push(Line::styled(
            format!("    {} ({})", e.endpoint, e.source.label()),
            t.dim(),
        ));
        if e.state != State::Ready
            && let Some(d) = &e.detail
        {
            l.push(Line::raw(format!("    {d}")));
        }
        if let Some(f) = &e.fix {
            l.push(Line::from(vec![
                Span::styled("    fix: ", t.warn()),
                Span::raw(f.clone()),
            ]));
        }
    }
    if !absent.is_empty() {
        l.push(Line::from(vec![
            Span::styled("· not found: ", t.dim()),
            Span::styled(absent.join(", "), t.dim()),
        ]));
    }
    if let Some(h) = &r.selected.docker_host {
        l.push(Line::from(vec![
            Span::styled("! ", t.warn()),
            Span::raw(format!(
                "The Gateway's service environment needs DOCKER_HOST={h}"
            )),
        ]));
    }
    l.push(blank());
    let p = &r.rootless_prerequisites;
    let who = p.user.clone().unwrap_or_else(|| format!("uid {}", p.uid));
    let failed: Vec<_> = p.checks.iter().filter(|c| !c.ok).collect();
    if failed.is_empty() {
        l.push(Line::styled(
            format!("✓ Rootless prerequisites for {who}: all met"),
            t.good(),
        ));
    } else if let Some(e) = r.working_rootless() {
        // Not a red list next to a rootless engine that works: nothing is missing for it.
        l.push(Line::styled(
            format!(
                "✓ Rootless prerequisites for {who}: not needed (the rootless engine at {} answers)",
                e.endpoint
            ),
            t.good(),
        ));
    } else {
        l.push(Line::styled(
            format!("Rootless prerequisites for {who}: {} missing", failed.len()),
            t.heading(),
        ));
        for c in failed {
            l.push(Line::from(vec![
                Span::styled("✗ ", t.bad()),
                Span::raw(format!("{}: {}", c.id, c.detail)),
            ]));
            if let Some(f) = &c.fix {
                l.push(Line::from(vec![
                    Span::styled("    fix: ", t.warn()),
                    Span::raw(f.clone()),
                ]));
            }
        }
    }
    l.push(blank());
    let o = &r.openclaw;
    let installed = match (&o.path, &o.version) {
        (None, _) => Line::styled("· OpenClaw: not on PATH", t.dim()),
        (Some(p), Some(v)) => Line::styled(format!("✓ OpenClaw {v} at {p}"), t.good()),
        (Some(p), None) => Line::raw(format!(
            "· OpenClaw at {p}{}",
            o.version_error
                .as_ref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default()
        )),
    };
    l.push(installed);
    l.push(Line::styled(format!("  {}", o.note), t.dim()));
    Body {
        fixed,
        scrolled: l,
        wrap: true,
    }
}
