//! The edit path on arbitrary input: text → parse → plan (each built-in preset, each engine
//! shape) → the new text. Whatever the input, nothing panics; a file that parses gets a new text
//! that parses, whose owned values are the plan's, and planning the new text again changes
//! nothing (the write is idempotent). A file clawposture refuses is refused, not mangled.

#![no_main]

use clawposture::choice::{self, Choice, Inputs};
use clawposture::document::Document;
use clawposture::environment::{Engine, EngineKind, Environment};
use clawposture::plan::{self, EnvFileAction, TokenState};
use clawposture::preset;
use libfuzzer_sys::fuzz_target;

fn environments() -> [Environment; 3] {
    let engine = |kind, rootless| Some(Engine { kind, rootless });
    [
        Environment {
            engine: engine(EngineKind::Docker, false),
            uid: 1000,
            gid: 1000,
        },
        Environment {
            engine: engine(EngineKind::Podman, true),
            uid: 1000,
            gid: 1000,
        },
        Environment {
            engine: None,
            uid: 1000,
            gid: 1000,
        },
    ]
}

fuzz_target!(|data: &[u8]| {
    // The first byte picks the preset and the environment; the rest is the file.
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let presets = preset::builtin();
    let env = &environments()[(pick as usize / presets.len()) % 3];
    let inputs = Inputs {
        accept_risk: true,
        ..Default::default()
    };
    let all: Vec<Choice> = presets
        .iter()
        .map(|p| choice::adjust(p, env, &inputs))
        .collect();
    let chosen = &all[pick as usize % all.len()];
    let parses = Document::parse(text).is_ok();
    let first = match plan::plan(Some(text), chosen, &all, TokenState::default()) {
        Ok(p) => p,
        Err(_) => return,
    };
    assert!(
        parses || text.trim().is_empty(),
        "a file that does not parse was planned"
    );
    let new = Document::parse(&first.new_text)
        .unwrap_or_else(|e| panic!("the new text does not parse ({e}):\n{}", first.new_text));
    let _ = new.value();
    if first.changes.is_empty() && first.env_file == EnvFileAction::Unchanged {
        assert_eq!(first.new_text, text, "no change, but the text changed");
    }
    // After the write, `.env` holds the token: a second plan of the written text is a no-op.
    let token = TokenState {
        env_file_has_token: true,
    };
    let again = plan::plan(Some(&first.new_text), chosen, &all, token)
        .unwrap_or_else(|e| panic!("re-plan failed ({e}):\n{}", first.new_text));
    assert!(
        again.changes.is_empty(),
        "re-plan is not a no-op: {:?}\n{}",
        again.changes.iter().map(|c| &c.key).collect::<Vec<_>>(),
        first.new_text
    );
    assert_eq!(again.new_text, first.new_text, "re-plan changed the text");
});
