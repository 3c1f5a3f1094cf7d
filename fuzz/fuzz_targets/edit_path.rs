//! The edit path on arbitrary input: text → parse → plan (each built-in preset, each engine
//! shape) → the new text. Whatever the input, nothing panics; a file that parses gets a new text
//! that parses; every top-level key no change touches keeps its text byte for byte; and
//! planning the new text again changes nothing (the write is idempotent).

#![no_main]

use clawposture::domain::choice::{self, Choice, Inputs};
use clawposture::domain::document::Document;
use clawposture::domain::plan::{self, EnvFileAction, TokenState};
use clawposture::domain::preset;
use clawposture::model::environment::{Engine, EngineKind, Environment};
use jsonc_parser::cst::CstRootNode;
use libfuzzer_sys::fuzz_target;

/// Each top-level property's text (the last of duplicates, as OpenClaw reads them).
fn top_level(text: &str) -> Vec<(String, String)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Ok(root) = CstRootNode::parse(text, &clawposture::domain::document::options()) else {
        return Vec::new();
    };
    let Some(obj) = root.object_value() else {
        return Vec::new();
    };
    let mut out: Vec<(String, String)> = Vec::new();
    for p in obj.properties() {
        if let Some(name) = p.name().and_then(|n| n.decoded_value().ok()) {
            out.retain(|(n, _)| n != &name);
            out.push((name, p.to_string()));
        }
    }
    out
}

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
    let first = match plan::plan(
        Some(text),
        chosen,
        &Default::default(),
        TokenState::default(),
    ) {
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
    // The plan to write, its new value made of the value read, plans the same text, reads as
    // it, and its ledger keys are the diff of the whole values.
    if let Ok(read) = clawposture::domain::document::parse_value(text) {
        let to_write = plan::plan_owned(
            Some(text.to_string()),
            Some(read.clone()),
            chosen,
            &Default::default(),
            TokenState::default(),
        )
        .expect("the plan to write");
        assert_eq!(to_write.new_text, first.new_text, "the plan to write differs");
        let written = clawposture::domain::document::parse_value(&first.new_text)
            .expect("the new text parses");
        assert_eq!(to_write.new_value, written, "the value made of the read one differs");
        let keys = clawposture::domain::ledger::write_keys(&read, &written);
        assert_eq!(to_write.ledger_keys(), keys, "the ledger keys differ");
        let mut to_write = to_write;
        assert_eq!(to_write.take_ledger_keys(), keys, "the ledger keys drawn differ");
    }
    // A top-level key no change touches keeps its text byte for byte.
    let touched: Vec<&str> = first
        .changes
        .iter()
        .map(|c| c.key.split(['.', '[']).next().unwrap_or(""))
        .collect();
    let after = top_level(&first.new_text);
    for (name, before) in top_level(text) {
        if touched.iter().any(|t| t.trim_matches('"') == name) {
            continue;
        }
        let now = after
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| t.as_str());
        assert_eq!(now, Some(before.as_str()), "untouched `{name}` changed");
    }
    if first.changes.is_empty() && first.env_file == EnvFileAction::Unchanged {
        assert_eq!(first.new_text, text, "no change, but the text changed");
    }
    // After the write, `.env` holds the token: a second plan of the written text is a no-op.
    let token = TokenState {
        env_file_has_token: true,
        ..TokenState::default()
    };
    let again = plan::plan(Some(&first.new_text), chosen, &Default::default(), token)
        .unwrap_or_else(|e| panic!("re-plan failed ({e}):\n{}", first.new_text));
    assert!(
        again.changes.is_empty(),
        "re-plan is not a no-op: {:?}\n{}",
        again.changes.iter().map(|c| &c.key).collect::<Vec<_>>(),
        first.new_text
    );
    assert_eq!(again.new_text, first.new_text, "re-plan changed the text");

    // The tree built over what the edits reach (holes elsewhere) prints what the whole tree
    // prints, for the preset's own edits.
    let (Ok(with), Ok(whole)) = (Document::parse(text), Document::parse_whole(text)) else {
        return;
    };
    let want = choice::desired(chosen, &plan::channels_in(&with.value()));
    let sets: Vec<_> = want
        .leaves
        .iter()
        .filter_map(|l| Some((l.path.clone(), l.value.clone()?)))
        .collect();
    let routes: Vec<_> = want.bindings.iter().map(choice::WantedRoute::value).collect();
    for d in [&with, &whole] {
        for l in want.leaves.iter().filter(|l| l.value.is_none()) {
            d.remove(&l.path, 0);
        }
        d.set_many(&sets);
        d.array_extend(&["bindings".to_string()], routes.to_vec());
        d.settle();
    }
    assert_eq!(with.text(), whole.text(), "the tree with holes printed another text");
});
