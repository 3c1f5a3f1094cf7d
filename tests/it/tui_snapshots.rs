//! Every screen, drawn by the real `view` into ratatui's TestBackend, for five environments
//! at 80×24; at 120×40 (where wrapping and the side-by-side layout differ) for one of them.
//! Review changed snapshots by eye (`cargo insta review`, or `INSTA_UPDATE=always cargo test
//! --test it tui_snapshots` and read the `.snap` diffs).

use crate::support::tui as tui_common;

use clawposture::front::wizard::{self, Effect, Key, Msg, Setup};
use tui_common::*;

/// The default terminal size, and a large one drawn for [`LARGE_FOR`] only.
const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];
const LARGE_FOR: Env = Env::RootlessDocker;

fn threat_for(env: Env) -> char {
    match env {
        Env::NoEngine | Env::PermissionDenied => '1',
        Env::RootfulDocker => '2',
        Env::RootlessDocker | Env::RootlessPodman => '3',
    }
}

fn config_for(env: Env) -> Option<&'static str> {
    // Rootless Podman starts from no file, so a new-file plan is covered too.
    (env != Env::RootlessPodman).then_some(COMMENTED)
}

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_prepend_module_to_snapshot(false);
    // The views use fixed paths; these catch a temp dir or a timing should one slip in.
    s.add_filter(r"/tmp/\.tmp\w+", "[TEMP]");
    s
}

#[test]
fn every_screen_every_environment() {
    settings().bind(|| {
        for env in Env::ALL {
            for (cols, rows) in SIZES {
                if (cols, rows) != SIZES[0] && env != LARGE_FOR {
                    continue;
                }
                let name = |screen: &str| format!("{}_{cols}x{rows}_{screen}", env.name());
                let mut w = loaded(setup(), config_for(env), env);
                insta::assert_snapshot!(name("1_welcome"), draw(&mut w, cols, rows));
                keys(&mut w, &[Key::Enter]);
                insta::assert_snapshot!(name("2_environment"), draw(&mut w, cols, rows));
                keys(&mut w, &[Key::Enter]);
                insta::assert_snapshot!(name("3_threat"), draw(&mut w, cols, rows));
                keys(&mut w, &[Key::Char(threat_for(env))]);
                insta::assert_snapshot!(name("4_preset"), draw(&mut w, cols, rows));
                if w.plan().is_none() {
                    // Refused here (public without an engine): accept the risk to go on.
                    let risk = w.toggles().len();
                    keys(&mut w, &[Key::Char(char::from(b'0' + risk as u8))]);
                    insta::assert_snapshot!(name("4_preset_risk"), draw(&mut w, cols, rows));
                }
                keys(&mut w, &[Key::Enter]);
                insta::assert_snapshot!(name("5_preview"), draw(&mut w, cols, rows));
                keys(&mut w, &[Key::Tab]);
                insta::assert_snapshot!(name("5_preview_full"), draw(&mut w, cols, rows));
                keys(&mut w, &[Key::Enter]);
                insta::assert_snapshot!(name("6_write"), draw(&mut w, cols, rows));
                let effects = keys(&mut w, &[Key::Enter]);
                assert_eq!(effects.len(), 1, "{}: Enter on Write writes", env.name());
                insta::assert_snapshot!(name("6_write_running"), draw(&mut w, cols, rows));
                let effects = wizard::update(&mut w, Msg::Written(Ok(outcome())));
                assert!(
                    matches!(effects.as_slice(), [Effect::Check(_)]),
                    "{}: Done checks what was written",
                    env.name()
                );
                insta::assert_snapshot!(name("7_done_checking"), draw(&mut w, cols, rows));
                let report = checks(&w, env);
                wizard::update(&mut w, Msg::Checked(Box::new(report)));
                insta::assert_snapshot!(name("7_done"), draw(&mut w, cols, rows));
            }
        }
    });
}

#[test]
fn states_between_screens() {
    settings().bind(|| {
        // Detection still running: the Environment screen says so and lets the user go on.
        let (mut w, _) = wizard::Wizard::new(setup());
        keys(&mut w, &[Key::Enter]);
        insta::assert_snapshot!("pending_80x24_environment", draw(&mut w, 80, 24));

        // Public without an engine is refused until the risk is accepted.
        let mut w = loaded(setup(), Some(COMMENTED), Env::NoEngine);
        keys(&mut w, &[Key::Enter, Key::Enter, Key::Char('3')]);
        insta::assert_snapshot!("no_engine_80x24_public_refused", draw(&mut w, 80, 24));

        // Owner being typed, with a validation error.
        let mut w = loaded(setup(), Some(COMMENTED), Env::RootlessDocker);
        keys(
            &mut w,
            &[Key::Enter, Key::Enter, Key::Char('1'), Key::Char('3')],
        );
        for c in "telegram42".chars() {
            keys(&mut w, &[Key::Char(c)]);
        }
        keys(&mut w, &[Key::Enter]);
        insta::assert_snapshot!("owner_error_80x24_preset", draw(&mut w, 80, 24));

        // Help and quit-confirm overlays.
        keys(&mut w, &[Key::Esc]);
        keys(&mut w, &[Key::Char('?')]);
        insta::assert_snapshot!("help_80x24_preset", draw(&mut w, 80, 24));
        keys(&mut w, &[Key::Esc, Key::Char('q')]);
        insta::assert_snapshot!("quit_80x24_preset", draw(&mut w, 80, 24));

        // A re-run: the Welcome screen names the preset the file matches and what drifted,
        // and the Threat screen starts on it.
        let group = loaded(
            Setup {
                threat: Some("group".into()),
                ..setup()
            },
            Some(COMMENTED),
            Env::RootlessDocker,
        )
        .plan()
        .expect("plan")
        .plan
        .new_text
        // The fixture writes bare keys and single quotes, and so does what is inserted into it.
        .replace("groupScope: 'per-group'", "groupScope: 'global'");
        assert!(group.contains("groupScope: 'global'"), "{group}");
        let mut w = loaded(setup(), Some(&group), Env::RootlessDocker);
        insta::assert_snapshot!("rerun_drifted_80x24_welcome", draw(&mut w, 80, 24));
        keys(&mut w, &[Key::Enter, Key::Enter]);
        insta::assert_snapshot!("rerun_drifted_80x24_threat", draw(&mut w, 80, 24));

        // Below the minimum size the view says so instead of drawing a broken layout.
        insta::assert_snapshot!("too_small_50x12", draw(&mut w, 50, 12));
    });
}

#[test]
fn boundary_conflict_and_noop() {
    settings().bind(|| {
        // A file that pins an owner: turning it public on the same Gateway needs `a` first.
        let owned = r#"{ "commands": { "ownerAllowFrom": ["telegram:1"] }, "channels": { "telegram": { "dmPolicy": "allowlist" } } }"#;
        let mut w = loaded(setup(), Some(owned), Env::RootlessDocker);
        keys(&mut w, &[Key::Enter, Key::Enter, Key::Char('3'), Key::Enter, Key::Enter]);
        insta::assert_snapshot!("conflict_80x24_write", draw(&mut w, 80, 24));
        assert!(keys(&mut w, &[Key::Enter]).is_empty(), "refused until accepted");
        keys(&mut w, &[Key::Char('a')]);
        insta::assert_snapshot!("conflict_accepted_80x24_write", draw(&mut w, 80, 24));

        // A file already in posture: Preview says so and Done says nothing was written.
        let s = Setup {
            threat: Some("private".into()),
            ..setup()
        };
        let first = loaded(s.clone(), Some(COMMENTED), Env::RootlessDocker);
        let new_text = first.plan().expect("plan").plan.new_text.clone();
        let mut w = loaded(s, Some(&new_text), Env::RootlessDocker);
        w.config = wizard::ConfigState::Ready {
            original: Some(new_text.into_bytes()),
            // The Gateway's .env already points at the engine: nothing left to write.
            token: clawposture::domain::plan::TokenState {
                env_file_has_token: true,
                docker_host: Some("unix:///run/user/1000/docker.sock".into()),
                policy_file: Default::default(),
                env_vars: Default::default(),
            },
            ledger: None,
        };
        wizard::update(&mut w, Msg::Detected(Box::new(report(Env::RootlessDocker))));
        keys(&mut w, &[Key::Enter]);
        insta::assert_snapshot!("noop_80x24_preview", draw(&mut w, 80, 24));
        // Nothing written, but the file is still checked: it holds the posture, does it work?
        let effects = keys(&mut w, &[Key::Enter]);
        assert!(matches!(effects.as_slice(), [Effect::Check(_)]), "{effects:?}");
        let report = checks(&w, Env::RootlessDocker);
        wizard::update(&mut w, Msg::Checked(Box::new(report)));
        insta::assert_snapshot!("noop_80x24_done", draw(&mut w, 80, 24));
    });
}

#[test]
fn loosening_a_value_the_user_set_waits_for_l() {
    use clawposture::app::vocabulary::{Inputs, WorkspaceAccess};
    settings().bind(|| {
        // The user's own `none`; asking for `rw` loosens it: Write waits for `l`.
        let strict =
            r#"{ "agents": { "defaults": { "sandbox": { "workspaceAccess": "none" } } } }"#;
        let s = Setup {
            inputs: Inputs {
                workspace_access: Some(WorkspaceAccess::Rw),
                ..Inputs::default()
            },
            ..setup()
        };
        let mut w = to_write(loaded(s, Some(strict), Env::RootlessDocker));
        assert!(
            w.loosen_conflict()
                .is_some_and(|c| c.contains("workspaceAccess"))
        );
        insta::assert_snapshot!("loosen_80x24_write", draw(&mut w, 80, 24));
        assert!(
            keys(&mut w, &[Key::Enter]).is_empty(),
            "refused until accepted"
        );
        keys(&mut w, &[Key::Char('l')]);
        assert!(w.ack_loosen);
        assert!(
            keys(&mut w, &[Key::Enter])
                .iter()
                .any(|e| matches!(e, Effect::Write(_))),
            "written once accepted"
        );
    });
}

/// The Write screen offers to move the fixture's literal bot token into `.env` (`s`); without
/// the yes nothing moves, with it the write carries the `.env` entry and the reference.
#[test]
fn write_screen_offers_to_move_literal_channel_secrets() {
    settings().bind(|| {
        let mut w = private_on_write();
        insta::assert_snapshot!("secrets_offer_80x24_write", draw(&mut w, 80, 24));
        assert!(w.secrets_offer().is_some());
        keys(&mut w, &[Key::Char('s')]);
        assert!(w.inputs.move_secrets);
        insta::assert_snapshot!("secrets_moved_80x24_write", draw(&mut w, 80, 24));
        let effects = keys(&mut w, &[Key::Enter]);
        let [Effect::Write(job)] = effects.as_slice() else {
            panic!("{effects:?}");
        };
        assert_eq!(job.env_secrets.len(), 1, "{job:?}");
        assert_eq!(job.env_secrets[0].name, "OPENCLAW_TELEGRAM_BOT_TOKEN");
        assert!(
            !job.new_text.contains("AAFakeTokenForTestsOnly"),
            "{}",
            job.new_text
        );
        assert!(!format!("{job:?}").contains("AAFakeTokenForTestsOnly"));
        // `s` again is a no: the plan moves nothing.
        let mut w = private_on_write();
        keys(&mut w, &[Key::Char('s'), Key::Char('s')]);
        let effects = keys(&mut w, &[Key::Enter]);
        let [Effect::Write(job)] = effects.as_slice() else {
            panic!("{effects:?}");
        };
        assert!(job.env_secrets.is_empty());
        assert!(job.new_text.contains("AAFakeTokenForTestsOnly"));
    });
}
