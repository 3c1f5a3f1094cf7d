//! Shared by the wizard tests: the fixed machines of `clawposture::front::screenshot::fixtures`, key
//! presses, and drawing through the real `view`.

use clawposture::front::screenshot;
pub use clawposture::front::screenshot::fixtures::*;
use clawposture::front::wizard::{self, Effect, Key, Msg, Wizard};

pub fn keys(w: &mut Wizard, keys: &[Key]) -> Vec<Effect> {
    keys.iter()
        .flat_map(|k| wizard::update(w, Msg::Key(*k)))
        .collect()
}

/// Draw through the real `view`, the way the event loop does: size and scroll limit first.
pub fn draw(w: &mut Wizard, cols: u16, rows: u16) -> String {
    let text = screenshot::frame(w, cols, rows).backend().to_string();
    for s in SECRETS {
        assert!(!text.contains(s), "a secret reached the screen:\n{text}");
    }
    text
}

/// The private preset on the commented fixture with rootless Docker, walked to the Write screen.
pub fn private_on_write() -> Wizard {
    to_write(loaded(setup(), Some(COMMENTED), Env::RootlessDocker))
}

/// A loaded wizard walked to the Write screen: the first threat (private), every other step
/// as proposed.
pub fn to_write(mut w: Wizard) -> Wizard {
    keys(
        &mut w,
        &[
            Key::Enter,
            Key::Enter,
            Key::Char('1'),
            Key::Enter,
            Key::Enter,
        ],
    );
    assert_eq!(w.step, wizard::Step::Write);
    w
}
