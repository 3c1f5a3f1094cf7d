//! `update` alone: navigation, back, quit with unsaved answers, Ctrl-C, re-run preselection,
//! pre-filled answers, the advanced settings, and the effects it asks the edge to run.

use crate::support::tui as tui_common;

use clawposture::app::{self, Acks, Facts};
use clawposture::domain::choice::{Setting, WorkspaceAccess};
use clawposture::front::wizard::{
    self, Checks, Effect, Exit, Key, Msg, Setup, Step, Toggle, Wizard, WriteState,
};
use tui_common::*;

fn at(w: &Wizard) -> Step {
    w.step
}

#[test]
fn starts_by_reading_the_config_and_detecting() {
    let (w, effects) = Wizard::new(setup());
    assert_eq!(w.step, Step::Welcome);
    assert!(matches!(effects[0], Effect::LoadConfig { .. }));
    assert!(matches!(effects[1], Effect::Detect(_)));
    assert!(w.busy());
}

#[test]
fn engine_flag_skips_detection_like_apply() {
    let s = Setup {
        engine_override: Some(None),
        ..setup()
    };
    let (w, effects) = Wizard::new(s);
    assert_eq!(effects.len(), 1, "{effects:?}");
    assert_eq!(w.environment().map(|e| e.engine), Some(None));
}

#[test]
fn walks_forward_to_done_and_quits() {
    let mut w = loaded(setup(), Some(COMMENTED), Env::RootlessDocker);
    keys(&mut w, &[Key::Enter]);
    assert_eq!(at(&w), Step::Environment);
    keys(&mut w, &[Key::Enter]);
    assert_eq!(at(&w), Step::Threat);
    keys(&mut w, &[Key::Down, Key::Enter]);
    assert_eq!(at(&w), Step::Preset);
    assert_eq!(w.threat.as_deref(), Some("group"));
    keys(&mut w, &[Key::Enter]);
    assert_eq!(at(&w), Step::Preview);
    keys(&mut w, &[Key::Enter]);
    assert_eq!(at(&w), Step::Write);
    let effects = keys(&mut w, &[Key::Enter]);
    let [Effect::Write(job)] = effects.as_slice() else {
        panic!("expected one write, got {effects:?}");
    };
    assert_eq!(job.new_text, w.plan().expect("plan").plan.new_text);
    assert_eq!(job.original.as_deref(), Some(COMMENTED.as_bytes()));
    assert_eq!(w.write, WriteState::Writing);
    // Keys other than Ctrl-C do nothing while the write runs.
    assert!(keys(&mut w, &[Key::Esc, Key::Char('q')]).is_empty());
    assert_eq!(at(&w), Step::Write);
    // Reaching Done asks the edge to check what was written, with the same engine and
    // answers the plan used.
    let effects = wizard::update(&mut w, Msg::Written(Ok(outcome())));
    assert_eq!(at(&w), Step::Done);
    let [Effect::Check(check)] = effects.as_slice() else {
        panic!("expected one check, got {effects:?}");
    };
    assert_eq!(check.resolved.config, w.setup.resolved.config);
    assert_eq!(check.engine, w.environment().expect("environment").engine);
    assert_eq!(
        check.endpoint.as_deref(),
        Some("unix:///run/user/1000/docker.sock")
    );
    assert_eq!(w.checks, Checks::Running);
    assert!(w.busy(), "the spinner runs while the checks do");
    let report = checks(&w, Env::RootlessDocker);
    wizard::update(&mut w, Msg::Checked(Box::new(report.clone())));
    assert_eq!(w.checks, Checks::Done(Box::new(report)));
    assert!(!w.busy());
    assert!(!w.unsaved());
    assert_eq!(keys(&mut w, &[Key::Enter]), vec![Effect::Quit]);
    assert_eq!(w.exit, Some(Exit::Finished));
}

#[test]
fn the_wizard_plans_exactly_what_apply_plans() {
    let mut w = loaded(setup(), Some(COMMENTED), Env::RootfulDocker);
    keys(&mut w, &[Key::Enter, Key::Enter, Key::Char('2')]);
    let env = w.environment().expect("environment");
    let report = report(Env::RootfulDocker);
    let s = setup();
    let direct = app::decide(
        &Facts {
            environment: &env,
            detection: Some(&report),
            original: Some(COMMENTED.as_bytes().into()),
            token: Default::default(),
            config: std::path::Path::new(CONFIG),
            ledger: None,
        },
        &s.presets,
        Some("group"),
        &s.inputs,
        Acks::default(),
    );
    assert_eq!(w.next.as_ref(), Some(&direct));
}

#[test]
fn back_goes_one_screen_back_and_stops_at_welcome() {
    let mut w = loaded(setup(), Some(COMMENTED), Env::RootlessDocker);
    keys(
        &mut w,
        &[Key::Enter, Key::Enter, Key::Char('1'), Key::Enter],
    );
    assert_eq!(at(&w), Step::Preview);
    keys(&mut w, &[Key::Esc]);
    assert_eq!(at(&w), Step::Preset);
    keys(&mut w, &[Key::Backspace]);
    assert_eq!(at(&w), Step::Threat);
    keys(&mut w, &[Key::Esc, Key::Esc, Key::Esc, Key::Esc]);
    assert_eq!(at(&w), Step::Welcome);
    // The answer survives going back.
    assert_eq!(w.threat.as_deref(), Some("private"));
    // `p` on the Preset screen picks another preset.
    keys(&mut w, &[Key::Enter, Key::Enter, Key::Enter]);
    assert_eq!(at(&w), Step::Preset);
    keys(&mut w, &[Key::Char('p')]);
    assert_eq!(at(&w), Step::Threat);
    keys(&mut w, &[Key::Char('3')]);
    assert_eq!(w.threat.as_deref(), Some("public"));
}

#[test]
fn quit_asks_only_when_answers_would_be_lost() {
    // Nothing answered yet: q quits at once.
    let mut w = loaded(setup(), Some(COMMENTED), Env::RootlessDocker);
    assert_eq!(keys(&mut w, &[Key::Char('q')]), vec![Effect::Quit]);
    assert_eq!(w.exit, Some(Exit::Cancelled));

    // A threat chosen: q asks; n stays; y quits without writing.
    let mut w = loaded(setup(), Some(COMMENTED), Env::RootlessDocker);
    keys(&mut w, &[Key::Enter, Key::Enter, Key::Char('1')]);
    assert!(keys(&mut w, &[Key::Char('q')]).is_empty());
    assert!(w.confirm_quit);
    assert!(keys(&mut w, &[Key::Char('n')]).is_empty());
    assert!(!w.confirm_quit);
    assert_eq!(at(&w), Step::Preset);
    keys(&mut w, &[Key::Char('q')]);
    assert!(keys(&mut w, &[Key::Enter]).is_empty(), "Enter is not a yes");
    assert_eq!(keys(&mut w, &[Key::Char('y')]), vec![Effect::Quit]);
    assert_eq!(w.exit, Some(Exit::Cancelled));
}

#[test]
fn ctrl_c_always_exits() {
    // In help, in the quit dialog, while typing the owner, while writing.
    let mut w = loaded(setup(), Some(COMMENTED), Env::RootlessDocker);
    keys(&mut w, &[Key::Char('?')]);
    assert!(w.help);
    assert_eq!(keys(&mut w, &[Key::CtrlC]), vec![Effect::Quit]);
    assert_eq!(w.exit, Some(Exit::Interrupted));

    let mut w = loaded(setup(), Some(COMMENTED), Env::RootlessDocker);
    keys(
        &mut w,
        &[Key::Enter, Key::Enter, Key::Char('1'), Key::Char('3')],
    );
    assert!(w.edit.is_some());
    assert_eq!(keys(&mut w, &[Key::CtrlC]), vec![Effect::Quit]);

    let mut w = private_on_write();
    keys(&mut w, &[Key::Enter]);
    assert_eq!(w.write, WriteState::Writing);
    assert_eq!(keys(&mut w, &[Key::CtrlC]), vec![Effect::Quit]);
    assert_eq!(w.exit, Some(Exit::Interrupted));
}

#[test]
fn help_opens_and_closes_without_moving() {
    let mut w = loaded(setup(), Some(COMMENTED), Env::RootlessDocker);
    keys(&mut w, &[Key::Enter, Key::Char('?')]);
    assert!(w.help);
    keys(&mut w, &[Key::Enter]);
    assert!(!w.help);
    assert_eq!(at(&w), Step::Environment);
}

/// The text the `group` preset writes into the commented fixture here.
fn group_file() -> String {
    let w = loaded(
        Setup {
            threat: Some("group".into()),
            ..setup()
        },
        Some(COMMENTED),
        Env::RootlessDocker,
    );
    w.plan().expect("plan").plan.new_text.clone()
}

#[test]
fn rerun_preselects_the_preset_the_file_matches() {
    let text = group_file();
    let w = loaded(setup(), Some(&text), Env::RootlessDocker);
    let rec = w.recognized.as_ref().expect("recognized");
    assert_eq!(rec.preset, "group");
    assert!(rec.exact, "{rec:?}");
    assert_eq!(w.threat_cursor, 1);
    assert_eq!(w.threat, None, "preselected, not chosen: Enter confirms it");

    // Recognition arrives after the user moved the cursor: the user's choice stands.
    let (mut w, _) = Wizard::new(setup());
    keys(&mut w, &[Key::Enter, Key::Enter, Key::Down, Key::Down]);
    wizard::update(
        &mut w,
        Msg::ConfigLoaded {
            original: Ok(Some(text.into_bytes())),
            token: Default::default(),
            ledger: None,
        },
    );
    wizard::update(&mut w, Msg::Detected(Box::new(report(Env::RootlessDocker))));
    assert_eq!(
        w.recognized.as_ref().map(|r| r.preset.as_str()),
        Some("group")
    );
    assert_eq!(w.threat_cursor, 2);
}

#[test]
fn threat_flag_starts_on_the_preset_screen() {
    let s = Setup {
        threat: Some("public".into()),
        ..setup()
    };
    let mut w = loaded(s, Some(COMMENTED), Env::RootlessPodman);
    assert_eq!(at(&w), Step::Preset);
    assert_eq!(w.threat.as_deref(), Some("public"));
    keys(&mut w, &[Key::Esc]);
    assert_eq!(at(&w), Step::Threat);
    assert_eq!(w.threat_cursor, 2);
}

#[test]
fn recheck_detects_again() {
    let mut w = loaded(setup(), Some(COMMENTED), Env::NoEngine);
    keys(&mut w, &[Key::Enter]);
    let effects = keys(&mut w, &[Key::Char('r')]);
    assert!(
        matches!(effects.as_slice(), [Effect::Detect(_)]),
        "{effects:?}"
    );
    assert!(w.busy());
    wizard::update(&mut w, Msg::Detected(Box::new(report(Env::RootlessDocker))));
    assert!(w.environment().and_then(|e| e.engine).is_some());
}

#[test]
fn advanced_settings_go_through_the_core() {
    let mut w = loaded(setup(), Some(COMMENTED), Env::RootlessDocker);
    keys(&mut w, &[Key::Enter, Key::Enter, Key::Char('1')]);
    assert_eq!(w.workspace_access(), Some(WorkspaceAccess::Ro));
    keys(&mut w, &[Key::Char(' ')]);
    assert_eq!(w.inputs.workspace_access, Some(WorkspaceAccess::Rw));
    let p = w.plan().expect("plan");
    assert!(
        p.choice
            .adjustments
            .iter()
            .any(|a| a.key == WorkspaceAccess::KEY),
        "{:?}",
        p.choice.adjustments
    );
    assert_eq!(
        crate::support::pty::json5(&p.plan.new_text)["agents"]["defaults"]["sandbox"]["workspaceAccess"],
        "rw"
    );
    // Around to the preset's own value: the override is gone, not written twice.
    keys(&mut w, &[Key::Right, Key::Right]);
    assert_eq!(w.inputs.workspace_access, None);

    // Sandbox network: bridge.
    keys(&mut w, &[Key::Char('2')]);
    assert_eq!(
        crate::support::pty::json5(&w.plan().expect("plan").plan.new_text)["agents"]["defaults"]["sandbox"]
            ["docker"]["network"],
        "bridge"
    );

    // Owner: an invalid id is refused with the reason; a valid one pins the owner.
    keys(&mut w, &[Key::Char('3')]);
    for c in "telegram42".chars() {
        keys(&mut w, &[Key::Char(c)]);
    }
    keys(&mut w, &[Key::Enter]);
    assert!(w.edit_error.is_some());
    assert!(w.edit.is_some());
    keys(
        &mut w,
        &[
            Key::Backspace,
            Key::Backspace,
            Key::Char(':'),
            Key::Char('4'),
            Key::Char('2'),
        ],
    );
    keys(&mut w, &[Key::Enter]);
    assert_eq!(w.edit, None);
    assert_eq!(
        w.inputs.owner.as_ref().map(ToString::to_string).as_deref(),
        Some("telegram:42")
    );
    assert!(
        w.plan()
            .expect("plan")
            .plan
            .new_text
            .contains("telegram:42")
    );
    // Esc while typing cancels the edit only.
    keys(&mut w, &[Key::Char('3'), Key::Char('x'), Key::Esc]);
    assert_eq!(at(&w), Step::Preset);
    assert_eq!(
        w.inputs.owner.as_ref().map(ToString::to_string).as_deref(),
        Some("telegram:42")
    );
}

#[test]
fn public_without_engine_needs_the_risk_accepted() {
    let mut w = loaded(setup(), Some(COMMENTED), Env::PermissionDenied);
    keys(&mut w, &[Key::Enter, Key::Enter, Key::Char('3')]);
    assert!(w.plan().is_none() && w.plan_error().is_some());
    assert_eq!(w.notice, None);
    keys(&mut w, &[Key::Enter]);
    assert_eq!(at(&w), Step::Preset, "no preview of a refused plan");
    // Enter on a preset that cannot be written says why, instead of doing nothing.
    assert!(
        w.notice
            .as_deref()
            .is_some_and(|n| n.contains("needs a container engine")),
        "{:?}",
        w.notice
    );
    let risk = w.toggles().len();
    keys(&mut w, &[Key::Char(char::from(b'0' + risk as u8))]);
    assert!(w.inputs.accept_risk);
    assert!(w.plan().is_some());
    keys(&mut w, &[Key::Enter]);
    assert_eq!(at(&w), Step::Preview);
}

#[test]
fn preview_scrolls_within_its_text_and_switches_views() {
    let mut w = loaded(setup(), Some(COMMENTED), Env::RootlessDocker);
    keys(
        &mut w,
        &[Key::Enter, Key::Enter, Key::Char('3'), Key::Enter],
    );
    draw(&mut w, 80, 24);
    let limit = w.scroll_limit;
    assert!(limit > 0);
    keys(&mut w, &[Key::End]);
    assert_eq!(w.scroll, limit);
    keys(&mut w, &[Key::Down, Key::PageDown]);
    assert_eq!(w.scroll, limit, "no scrolling past the end");
    keys(&mut w, &[Key::Home]);
    assert_eq!(w.scroll, 0);
    keys(&mut w, &[Key::Up]);
    assert_eq!(w.scroll, 0);
    keys(&mut w, &[Key::Tab]);
    assert_eq!(w.preview, wizard::PreviewMode::Full);
    assert!(!w.full.contains(SECRETS[0]) && !w.diff.contains(SECRETS[0]));
}

#[test]
fn a_failed_write_stays_on_write_and_can_be_retried() {
    let mut w = private_on_write();
    keys(&mut w, &[Key::Enter]);
    wizard::update(&mut w, Msg::Written(Err("disk full".into())));
    assert_eq!(at(&w), Step::Write);
    assert!(matches!(w.write, WriteState::Failed(_)));
    let effects = keys(&mut w, &[Key::Enter]);
    assert!(matches!(effects.as_slice(), [Effect::Write(_)]));
}

#[test]
fn every_screen_has_hints_and_they_fit_80_columns() {
    let mut w = loaded(setup(), Some(COMMENTED), Env::RootlessDocker);
    for k in [
        Key::Enter,
        Key::Enter,
        Key::Char('1'),
        Key::Enter,
        Key::Enter,
    ] {
        assert!(!wizard::hints(&w).is_empty(), "{:?}", w.step);
        keys(&mut w, &[k]);
    }
    let text = draw(&mut w, 80, 24);
    let footer = text.lines().last().expect("footer");
    assert!(footer.contains("? help"), "{footer}");
}

/// Every foreground and background colour used on a screen.
fn colours(w: &mut Wizard) -> Vec<ratatui::style::Color> {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    wizard::update(w, Msg::Resize(80, 24));
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).expect("terminal");
    terminal
        .draw(|f| clawposture::front::tui::view(w, f))
        .expect("draw");
    let mut out: Vec<_> = terminal
        .backend()
        .buffer()
        .content()
        .iter()
        .flat_map(|c| [c.fg, c.bg])
        .collect();
    out.sort_by_key(|c| format!("{c:?}"));
    out.dedup();
    out
}

#[test]
fn no_color_means_no_colour_on_any_screen() {
    use ratatui::style::Color;
    let s = Setup {
        color: false,
        ..setup()
    };
    let mut w = loaded(s, Some(COMMENTED), Env::RootlessDocker);
    for k in [
        Key::Enter,
        Key::Enter,
        Key::Char('3'),
        Key::Enter,
        Key::Enter,
        Key::Char('?'),
    ] {
        assert_eq!(colours(&mut w), vec![Color::Reset], "{:?}", w.step);
        keys(&mut w, &[k]);
    }
    // With colour, the diff is coloured.
    let mut w = loaded(setup(), Some(COMMENTED), Env::RootlessDocker);
    keys(
        &mut w,
        &[Key::Enter, Key::Enter, Key::Char('3'), Key::Enter],
    );
    assert!(colours(&mut w).contains(&Color::Green));
}

#[test]
fn group_chats_and_members_are_fields_and_come_back_on_a_rerun() {
    let mut w = loaded(setup(), Some(COMMENTED), Env::RootlessDocker);
    keys(&mut w, &[Key::Enter, Key::Enter, Key::Char('2')]);
    assert_eq!(w.threat.as_deref(), Some("group"));
    let rows = w.toggles();
    let groups = rows
        .iter()
        .position(|t| *t == Toggle::Groups)
        .expect("a group preset asks for its group chats");
    let members = rows
        .iter()
        .position(|t| *t == Toggle::Members)
        .expect("and for its members");
    keys(&mut w, &[Key::Char(char::from(b'1' + groups as u8))]);
    for c in "telegram:-100200, telegram:-100300".chars() {
        keys(&mut w, &[Key::Char(c)]);
    }
    keys(&mut w, &[Key::Enter]);
    keys(&mut w, &[Key::Char(char::from(b'1' + members as u8))]);
    for c in "telegram:222".chars() {
        keys(&mut w, &[Key::Char(c)]);
    }
    keys(&mut w, &[Key::Enter]);
    assert_eq!(w.inputs.groups.len(), 2);
    assert_eq!(w.inputs.members.len(), 1);
    let written = w.plan().expect("plan").plan.new_text.clone();
    assert!(
        written.contains("-100200") && written.contains("-100300"),
        "{written}"
    );
    // The next run reads them back from the file it wrote: nothing to retype, nothing loosened.
    let mut again = loaded(setup(), Some(&written), Env::RootlessDocker);
    assert_eq!(again.inputs.groups.len(), 2, "{:?}", again.inputs);
    assert_eq!(again.inputs.members.len(), 1, "{:?}", again.inputs);
    keys(&mut again, &[Key::Enter, Key::Enter, Key::Char('2')]);
    // No key of the config changes (`.env` still gets its token: this fixture has none).
    let changes = &again.plan().expect("plan").plan.changes;
    assert!(
        changes.iter().all(|c| c.key == "gateway.auth.token"),
        "{changes:?}"
    );
}

#[test]
fn a_re_run_takes_the_answers_back_from_the_ledger() {
    let ledger = br#"{"version": 1, "writes": [{"at": "20261130T000000Z", "preset": "private",
        "engine": "docker-rootless", "answers": {"owner": "telegram:5", "groups": [], "members": [],
        "workspace_access": "rw", "sandbox_network": null, "accept_risk": false, "profile": null},
        "keys": [], "backup": null, "config_sha256": ""}]}"#;
    for (bytes, rw) in [(Some(ledger.to_vec()), true), (None, false)] {
        let (mut w, _) = Wizard::new(setup());
        wizard::update(
            &mut w,
            Msg::ConfigLoaded {
                original: Ok(Some(COMMENTED.as_bytes().to_vec())),
                token: Default::default(),
                ledger: bytes,
            },
        );
        wizard::update(&mut w, Msg::Detected(Box::new(report(Env::RootlessDocker))));
        assert_eq!(
            w.inputs.workspace_access,
            rw.then_some(WorkspaceAccess::Rw),
            "ledger given: {rw}"
        );
        assert_eq!(
            w.inputs.owner.as_ref().map(ToString::to_string).as_deref(),
            rw.then_some("telegram:5")
        );
    }
}

/// Done names every variable the write set in `.env` (moved channel secrets too, not only the
/// Gateway token), never a value.
#[test]
fn done_names_every_secret_the_write_moved_into_env() {
    let mut w = loaded(setup(), Some(COMMENTED), Env::RootlessDocker);
    keys(
        &mut w,
        &[Key::Enter, Key::Enter, Key::Down, Key::Enter, Key::Enter],
    );
    keys(&mut w, &[Key::Enter]);
    let mut o = outcome();
    o.env_names = vec![
        "OPENCLAW_GATEWAY_TOKEN".into(),
        "OPENCLAW_TELEGRAM_BOT_TOKEN".into(),
    ];
    wizard::update(&mut w, Msg::Written(Ok(o)));
    assert_eq!(at(&w), Step::Done);
    let screen = draw(&mut w, 120, 40);
    assert!(
        screen.contains(
            "OPENCLAW_GATEWAY_TOKEN, OPENCLAW_TELEGRAM_BOT_TOKEN now in /home/alice/.openclaw/.env"
        ),
        "{screen}"
    );
    assert!(!screen.contains("the Gateway token is in"), "{screen}");
}
