//! Shared by the wizard tests: the fixed machines of `clawposture::screenshot::fixtures`, key
//! presses, and drawing through the real `view`.
#![allow(dead_code)] // each test crate uses a different subset

use clawposture::screenshot;
pub use clawposture::screenshot::fixtures::*;
use clawposture::wizard::{self, Effect, Key, Msg, Wizard};

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
