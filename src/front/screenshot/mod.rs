//! Screenshots for the onboarding docs, drawn from the real screens: the wizard's own `update`
//! and `view` on fixed machines and a fixed config, into an off-screen buffer, exported as SVG
//! (and PNG where `rsvg-convert` exists). Deterministic: no time, no machine paths, no secrets.

pub mod fixtures;
pub mod svg;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;

use crate::front::tui;
use crate::front::wizard::{self, Key, Msg, Setup, Wizard};
use fixtures::{COMMENTED, Env, checks, loaded, outcome, setup};

/// The size the committed pictures are drawn at.
pub const DEFAULT_SIZE: (u16, u16) = (80, 24);

/// Draw the wizard the way the event loop does: size and scroll limit first, then `view`.
pub fn frame(w: &mut Wizard, cols: u16, rows: u16) -> Terminal<TestBackend> {
    wizard::update(w, Msg::Resize(cols, rows));
    let limit = tui::scroll_limit(w, Rect::new(0, 0, cols, rows));
    wizard::update(w, Msg::ScrollLimit(limit));
    let mut terminal = match Terminal::new(TestBackend::new(cols, rows)) {
        Ok(t) => t,
        Err(never) => match never {},
    };
    // TestBackend's draw cannot fail.
    let _ = terminal.draw(|f| tui::view(w, f));
    terminal
}

/// One picture: its file name (without extension), a caption, and the SVG.
pub struct Shot {
    pub name: String,
    pub caption: String,
    pub svg: String,
}

fn press(w: &mut Wizard, keys: &[Key]) {
    for k in keys {
        wizard::update(w, Msg::Key(*k));
    }
}

/// The config as the private preset leaves it, and the ledger of that write: what a re-run
/// starts from.
fn private_config() -> (String, Option<Vec<u8>>) {
    let w = loaded(
        Setup {
            threat: Some("private".into()),
            ..setup()
        },
        Some(COMMENTED),
        Env::RootlessDocker,
    );
    match w.plan() {
        Some(p) => (
            p.plan.new_text.clone(),
            p.pending_ledger(&w.setup.resolved)
                .map(|(_, l)| l.render("20261130T090000Z", None).into_bytes()),
        ),
        None => (COMMENTED.to_string(), None),
    }
}

/// Every picture of the walkthrough, at `cols`×`rows`.
pub fn shots(cols: u16, rows: u16) -> Vec<Shot> {
    let mut out = Vec::new();
    let mut shot = |w: &mut Wizard, name: &str, caption: &str| {
        let t = frame(w, cols, rows);
        out.push(Shot {
            name: name.to_string(),
            caption: caption.to_string(),
            svg: svg::render(t.backend().buffer(), &format!("clawposture — {caption}")),
        });
    };

    // First run: a hand-written config, rootless Docker, the private preset.
    let mut w = loaded(setup(), Some(COMMENTED), Env::RootlessDocker);
    shot(&mut w, "first-run-1-welcome", "first run: welcome");
    press(&mut w, &[Key::Enter]);
    shot(&mut w, "first-run-2-environment", "first run: environment");
    press(&mut w, &[Key::Enter]);
    shot(
        &mut w,
        "first-run-3-threat",
        "first run: who can reach the agent",
    );
    press(&mut w, &[Key::Char('1')]);
    shot(
        &mut w,
        "first-run-4-preset",
        "first run: the private preset",
    );
    press(&mut w, &[Key::Enter]);
    shot(&mut w, "first-run-5-preview", "first run: preview diff");
    press(&mut w, &[Key::Enter]);
    shot(&mut w, "first-run-6-write", "first run: write");
    press(&mut w, &[Key::Enter]);
    wizard::update(&mut w, Msg::Written(Ok(outcome())));
    let report = checks(&w, Env::RootlessDocker);
    wizard::update(&mut w, Msg::Checked(Box::new(report)));
    shot(
        &mut w,
        "first-run-7-done",
        "first run: done, checked, with the checklist",
    );

    // Re-run: the file holds the private preset; switch to public.
    let (config, ledger) = private_config();
    let mut w = loaded(setup(), Some(&config), Env::RootlessDocker);
    wizard::update(
        &mut w,
        Msg::ConfigLoaded {
            original: Ok(Some(config.into_bytes())),
            token: Default::default(),
            ledger,
        },
    );
    shot(
        &mut w,
        "rerun-1-welcome",
        "re-run: the file matches private",
    );
    press(&mut w, &[Key::Enter, Key::Enter]);
    shot(&mut w, "rerun-2-threat", "re-run: private preselected");
    press(&mut w, &[Key::Char('3'), Key::Enter]);
    shot(&mut w, "rerun-3-preview", "re-run: private to public");
    press(&mut w, &[Key::Enter]);
    shot(
        &mut w,
        "rerun-4-write",
        "re-run: a separate Gateway for strangers",
    );

    // Environment problems: Docker only through a socket this user may not open, rootless
    // Docker not set up.
    let mut w = loaded(setup(), Some(COMMENTED), Env::PermissionDenied);
    press(&mut w, &[Key::Enter]);
    shot(
        &mut w,
        "environment-rootless-missing",
        "environment: permission denied, rootless missing",
    );
    out
}

/// Write every picture into `dir` as SVG, and as PNG through `rsvg-convert` when asked and
/// available. Returns the files written, and a note when PNGs were asked for but cannot be made.
pub fn write_all(
    dir: &std::path::Path,
    cols: u16,
    rows: u16,
    png: bool,
) -> Result<(Vec<std::path::PathBuf>, Option<String>), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut written = Vec::new();
    let converter = which::which("rsvg-convert").ok();
    for s in shots(cols, rows) {
        let svg_path = dir.join(format!("{}.svg", s.name));
        std::fs::write(&svg_path, &s.svg)
            .map_err(|e| format!("cannot write {}: {e}", svg_path.display()))?;
        written.push(svg_path.clone());
        if let (true, Some(conv)) = (png, &converter) {
            let png_path = dir.join(format!("{}.png", s.name));
            let status = std::process::Command::new(conv)
                .arg("-o")
                .arg(&png_path)
                .arg(&svg_path)
                .status()
                .map_err(|e| format!("cannot run rsvg-convert: {e}"))?;
            if !status.success() {
                return Err(format!("rsvg-convert failed on {}", svg_path.display()));
            }
            written.push(png_path);
        }
    }
    let note = (png && converter.is_none()).then(|| {
        "PNG skipped: rsvg-convert is not installed (Debian: apt-get install librsvg2-bin)."
            .to_string()
    });
    Ok((written, note))
}
