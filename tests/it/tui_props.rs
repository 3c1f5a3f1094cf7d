//! Whatever keys arrive, in whatever order, and whatever the terminal size: `update` never
//! panics, the screen stays valid, and `view` draws without panicking or showing a secret.

use crate::support::tui as tui_common;

use clawposture::front::wizard::{self, Key, Msg, WriteState};
use proptest::prelude::*;
use tui_common::*;

const KEYS: [Key; 20] = [
    Key::Up,
    Key::Down,
    Key::Left,
    Key::Right,
    Key::PageUp,
    Key::PageDown,
    Key::Home,
    Key::End,
    Key::Enter,
    Key::Enter,
    Key::Esc,
    Key::Backspace,
    Key::Tab,
    Key::Char('1'),
    Key::Char('2'),
    Key::Char('3'),
    Key::Char('4'),
    Key::Char(' '),
    Key::Char('?'),
    Key::Char('q'),
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn any_keys_any_size(
        env in 0..Env::ALL.len(),
        presses in prop::collection::vec(0..KEYS.len(), 0..40),
        cols in 1u16..200,
        rows in 1u16..60,
    ) {
        let env = Env::ALL[env];
        let mut w = loaded(setup(), Some(COMMENTED), env);
        for i in presses {
            keys(&mut w, &[KEYS[i]]);
            if w.write == WriteState::Writing {
                wizard::update(&mut w, Msg::Written(Ok(outcome())));
                let report = checks(&w, env);
                wizard::update(&mut w, Msg::Checked(Box::new(report)));
            }
            if w.exit.is_some() {
                break;
            }
        }
        draw(&mut w, cols, rows);
        prop_assert!(w.scroll <= w.scroll_limit, "scroll {} past {}", w.scroll, w.scroll_limit);
    }
}
