//! The wizard's sandbox image build: `b` on the Environment screen starts it (an effect, so
//! the event loop never waits), progress events move the gauge, the outcome replaces it.
//! Drawn by the real `view` (snapshots in tests/snapshots/image_gauge_*.snap).

use crate::support::tui as tui_common;

use clawposture::domain::image::progress::{Event, Step};
use clawposture::front::wizard::image::{ImageBuild, ImageMsg};
use clawposture::front::wizard::{self, Effect, Key, Msg};
use tui_common::*;

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_prepend_module_to_snapshot(false);
    s
}

fn send(w: &mut clawposture::front::wizard::Wizard, m: ImageMsg) {
    assert!(wizard::update(w, Msg::Image(m)).is_empty());
}

#[test]
fn b_builds_the_missing_image_with_a_gauge() {
    settings().bind(|| {
        let mut w = loaded(setup(), Some(COMMENTED), Env::RootfulDocker);
        keys(&mut w, &[Key::Enter]);
        let idle = draw(&mut w, 80, 24);
        assert!(idle.contains("missing: press b to"), "{idle}");
        insta::assert_snapshot!("image_gauge_80x24_idle", idle);

        let effects = keys(&mut w, &[Key::Char('b')]);
        let [Effect::BuildImage(job)] = effects.as_slice() else {
            panic!("{effects:?}")
        };
        assert_eq!(job.endpoint, "unix:///var/run/docker.sock");
        assert_eq!(job.tag, "openclaw-sandbox:bookworm-slim");
        // A second `b` while it runs starts nothing.
        assert!(keys(&mut w, &[Key::Char('b')]).is_empty());

        send(
            &mut w,
            ImageMsg::Event(Event::Started {
                endpoint: job.endpoint.clone(),
                context_bytes: 3584,
            }),
        );
        send(
            &mut w,
            ImageMsg::Event(Event::Step {
                step: Step {
                    n: 5,
                    total: 9,
                    instruction: "RUN mkdir -p /tmp /var/tmp /run /workspace && chmod 1777 /tmp /var/tmp".into(),
                },
                elapsed_ms: 4200,
            }),
        );
        let running = draw(&mut w, 80, 24);
        assert!(running.contains("step 5/9 4.2s"), "{running}");
        insta::assert_snapshot!("image_gauge_80x24_running", running);

        // The other screens go on while it runs: Enter moves on, the build state stays.
        keys(&mut w, &[Key::Enter]);
        assert!(matches!(w.image, ImageBuild::Running(_)));
        keys(&mut w, &[Key::Esc]);

        send(
            &mut w,
            ImageMsg::Finished(Err(
                "build failed at step 2/9 (FROM ${BASE}); nothing was tagged.\nengine: no such host\nwhat to do: pull it where a registry is reachable".into(),
            )),
        );
        let failed = draw(&mut w, 80, 24);
        assert!(failed.contains("press b to try again"), "{failed}");
        insta::assert_snapshot!("image_gauge_80x24_failed", failed);

        assert_eq!(keys(&mut w, &[Key::Char('b')]).len(), 1, "a retry");
        send(
            &mut w,
            ImageMsg::Finished(Ok(
                "openclaw-sandbox:bookworm-slim built and proved in 41.0s".into(),
            )),
        );
        let done = draw(&mut w, 80, 24);
        assert!(done.contains("✓ openclaw-sandbox:bookworm-slim built and proved"), "{done}");
        insta::assert_snapshot!("image_gauge_80x24_done", done);
    });
}

#[test]
fn no_key_when_the_image_is_there() {
    let mut w = loaded(setup(), Some(COMMENTED), Env::RootlessDocker);
    keys(&mut w, &[Key::Enter]);
    let text = draw(&mut w, 80, 24);
    assert!(!text.contains("press b"), "{text}");
    assert!(keys(&mut w, &[Key::Char('b')]).is_empty());
}
