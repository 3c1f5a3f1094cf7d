//! Write: every file that will be written, then one confirm. The write itself is an effect;
//! this screen shows it running, failing (with the reason) or refused until acknowledged.

use ratatui::text::{Line, Span};

use super::{Body, blank, field, spinner};
use crate::domain::plan::EnvFileAction;
use crate::front::tui::theme::Theme;
use crate::front::wizard::{Wizard, WriteState};

/// Where the checklist is written: `$STATE_DIR/clawposture-checklist.md`.
pub fn checklist_target(w: &Wizard) -> Option<String> {
    Some(
        crate::domain::checklist::path(&w.setup.resolved.state_dir)
            .display()
            .to_string(),
    )
}

pub fn body(w: &Wizard, t: &Theme) -> Body {
    let Some(p) = w.plan() else {
        return Body {
            fixed: vec![Line::styled("No plan to write.", t.dim())],
            ..Body::default()
        };
    };
    let r = &w.setup.resolved;
    let mut l = vec![
        Line::styled("These files will be written:", t.heading()),
        blank(),
    ];
    l.push(field(
        t,
        "  config",
        Span::raw(r.config.display().to_string()),
    ));
    l.push(field(
        t,
        "",
        Span::styled(
            if p.plan.new_file {
                "a new file, mode 0600".to_string()
            } else {
                "replaced atomically; comments and formatting kept; mode 0600".to_string()
            },
            t.dim(),
        ),
    ));
    let name = r
        .config
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    l.push(field(
        t,
        "  backup",
        if p.original().is_some() {
            Span::raw(format!("{name}.clawposture-<time>.bak beside it"))
        } else {
            Span::styled("none: there is no file yet", t.dim())
        },
    ));
    let env = r.state_dir.join(".env").display().to_string();
    l.push(field(
        t,
        "  .env",
        match &p.plan.env_file {
            EnvFileAction::Unchanged if p.plan.secret_moves.env.is_empty() => {
                Span::styled(format!("{env} (unchanged)"), t.dim())
            }
            EnvFileAction::Unchanged => Span::raw(env),
            EnvFileAction::GenerateToken => Span::raw(env),
            EnvFileAction::MoveLiteralToken(_) => Span::raw(env),
        },
    ));
    match &p.plan.env_file {
        EnvFileAction::GenerateToken => l.push(field(
            t,
            "",
            Span::styled(
                "gets a new random Gateway token (never shown), mode 0600",
                t.dim(),
            ),
        )),
        EnvFileAction::MoveLiteralToken(_) => l.push(field(
            t,
            "",
            Span::styled(
                "the token moves out of the config into here (never shown); clients keep working",
                t.dim(),
            ),
        )),
        EnvFileAction::Unchanged => {}
    }
    for m in &p.plan.secret_moves.moved {
        l.push(field(
            t,
            "",
            Span::styled(
                if m.already_in_env {
                    format!("{} already holds `{}` (never shown)", m.var, m.key)
                } else {
                    format!(
                        "gets {}: the secret of `{}` (never shown), moved out of the config",
                        m.var, m.key
                    )
                },
                t.dim(),
            ),
        ));
    }
    l.push(field(
        t,
        "  checklist",
        match checklist_target(w) {
            Some(path) => Span::raw(path),
            None => Span::styled("not written by this build", t.dim()),
        },
    ));
    // What clawposture wrote and the values it replaced: `restore --undo` reads it.
    l.push(field(
        t,
        "  ledger",
        Span::raw(
            w.setup
                .resolved
                .state_dir
                .join(crate::domain::ledger::FILE_NAME)
                .display()
                .to_string(),
        ),
    ));
    for wn in &p.plan.warnings {
        l.push(Line::from(vec![
            Span::styled("warning: ", t.warn()),
            Span::raw(p.plan.mask(wn)),
        ]));
    }
    if let Some(conflict) = w.boundary_conflict() {
        l.push(blank());
        l.push(Line::styled(conflict, t.bad()));
        l.push(Line::from(vec![
            Span::styled(if w.ack_boundary { "[x] " } else { "[ ] " }, t.key()),
            Span::raw("a: write to this same Gateway anyway"),
        ]));
    }
    if let Some(conflict) = w.loosen_conflict() {
        l.push(blank());
        l.push(Line::styled(conflict, t.bad()));
        l.push(Line::from(vec![
            Span::styled(if w.ack_loosen { "[x] " } else { "[ ] " }, t.key()),
            Span::raw("l: loosen these values anyway"),
        ]));
    }
    l.push(blank());
    l.push(match &w.write {
        WriteState::Writing => Line::styled(format!("{} Writing…", spinner(w)), t.heading()),
        WriteState::Failed(e) => Line::styled(format!("Not written: {e}"), t.bad()),
        _ if w.boundary_conflict().is_some() && !w.ack_boundary => Line::styled(
            "Writing is refused until you accept (a), or go back and quit to use --openclaw-profile.",
            t.warn(),
        ),
        _ if w.loosen_conflict().is_some() && !w.ack_loosen => Line::styled(
            "Writing is refused until you accept loosening (l), or go back and change the answers.",
            t.warn(),
        ),
        _ => Line::from(vec![
            Span::styled("Enter", t.key()),
            Span::raw(" writes these files. Nothing has been written yet."),
        ]),
    });
    // The offer is answered before writing (`s`); while writing it is no longer a question.
    // Last, so the status line above stays where the other screens put it.
    let offered = w.secrets_offer().is_some() || w.inputs.move_secrets;
    if offered && !matches!(w.write, WriteState::Writing) {
        let n = p.plan.secret_moves.movable.len() + p.plan.secret_moves.moved.len();
        l.push(Line::from(vec![
            Span::styled(
                if w.inputs.move_secrets {
                    "[x] "
                } else {
                    "[ ] "
                },
                t.key(),
            ),
            Span::raw(format!(
                "s: move {n} literal channel secret(s) into .env (never shown)"
            )),
        ]));
    }
    Body {
        fixed: Vec::new(),
        scrolled: l,
        wrap: true,
    }
}
