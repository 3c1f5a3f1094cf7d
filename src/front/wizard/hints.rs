//! The key hints of every screen, from one source: the footer draws them, the help overlay
//! lists them, and the tests read them.

use super::{Detection, Step, Toggle, Wizard, WriteState};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hint {
    pub keys: &'static str,
    pub action: &'static str,
}

const fn h(keys: &'static str, action: &'static str) -> Hint {
    Hint { keys, action }
}

/// Keys that work on every screen (shown in the help overlay).
pub const GLOBAL: [Hint; 4] = [
    h("?", "help"),
    h("Esc/Backspace", "back"),
    h("q", "quit (asks when answers are unsaved)"),
    h("Ctrl-C", "exit now, nothing written"),
];

/// The hints for the screen as it is now (mode-dependent: editing, confirming, help).
pub fn hints(w: &Wizard) -> Vec<Hint> {
    if w.confirm_quit {
        return vec![h("y", "quit without writing"), h("n/Esc", "stay")];
    }
    if w.help {
        return vec![h("?/Esc", "close help")];
    }
    screen_hints(w)
}

/// The hints of the screen itself (what the help overlay lists).
pub fn screen_hints(w: &Wizard) -> Vec<Hint> {
    if let Some((row, _)) = &w.edit {
        let what = match row {
            Toggle::Owner => "set owner (empty: none)",
            Toggle::Groups => "set group chats (empty: none)",
            _ => "set members (empty: none)",
        };
        return vec![h("Enter", what), h("Esc", "cancel")];
    }
    let mut out = match w.step {
        Step::Welcome => vec![h("Enter", "start")],
        Step::Environment => {
            let mut v = vec![h("Enter", "continue"), h("↑↓/jk", "scroll")];
            if matches!(w.detection, Detection::Done(_)) {
                v.push(h("r", "re-check"));
            }
            v
        }
        Step::Threat => vec![h("↑↓/jk", "move"), h("Enter", "choose"), h("1-9", "pick")],
        Step::Preset => vec![
            h("Enter", "preview"),
            h("↑↓", "move"),
            h("Space", "change"),
            h("p", "presets"),
        ],
        Step::Preview => vec![
            h("Enter", "continue"),
            h("Tab", "diff/full"),
            h("↑↓ PgDn", "scroll"),
        ],
        Step::Write => match &w.write {
            WriteState::Writing => return vec![h("Ctrl-C", "abort")],
            WriteState::Failed(_) => vec![h("Enter", "try again")],
            _ => {
                let mut v = vec![h("Enter/y", "write")];
                if w.boundary_conflict().is_some() {
                    v.push(h("a", "accept: same Gateway"));
                }
                if w.loosen_conflict().is_some() {
                    v.push(h("l", "accept: loosen"));
                }
                if w.secrets_offer().is_some() || w.inputs.move_secrets {
                    v.push(h("s", "move secrets to .env"));
                }
                v
            }
        },
        Step::Done => vec![h("Enter/q", "exit"), h("↑↓", "scroll")],
    };
    if !matches!(w.step, Step::Welcome | Step::Done) {
        out.push(h("Esc", "back"));
    }
    out.push(h("?", "help"));
    if w.step != Step::Done {
        out.push(h("q", "quit"));
    }
    out
}
