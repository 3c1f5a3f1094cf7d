//! Property tests of the plan over generated JSON5 files: idempotence, switching, unrelated
//! keys and comments preserved, owned keys exact, secrets never shown.

use clawposture::domain::choice::{self, ChannelId, Choice, Inputs, get_in};
use clawposture::domain::ledger::{self, Ledger, Owned, Pending};
use clawposture::domain::plan::{self, Plan, TokenState};
use clawposture::domain::preset;
use clawposture::model::environment::{Engine, Environment};
use proptest::prelude::*;
use serde_json::{Value, json};

fn secret() -> impl Strategy<Value = String> {
    "[A-Za-z0-9]{12,40}".prop_map(|s| format!("S3CR3T{s}"))
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<bool>().prop_map(Value::from),
        (0i64..100_000).prop_map(Value::from),
        "[a-z ]{0,12}".prop_map(Value::from),
    ]
}

fn unrelated() -> impl Strategy<Value = Value> {
    let leaf = scalar();
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z][a-zA-Z0-9]{0,6}", inner, 1..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A user's config: unrelated keys, some owned keys with other values, channels, secrets.
fn config() -> impl Strategy<Value = Value> {
    (
        prop::collection::btree_map("x[a-z]{1,6}", unrelated(), 0..4),
        prop::option::of(prop::sample::select(vec!["lan", "loopback", "auto"])),
        prop::option::of(prop_oneof![secret().prop_map(Value::from), Just(json!({"source": "env", "provider": "default", "id": "TOK"}))]),
        prop::option::of(prop::sample::select(vec!["full", "coding", "messaging"])),
        prop::option::of(prop_oneof![Just(json!({"security": "full", "ask": "off"})), Just(json!({"mode": "full"}))]),
        prop::sample::subsequence(vec!["telegram", "whatsapp", "discord"], 0..=3),
        secret(),
        prop::option::of(prop::sample::select(vec!["off", "non-main", "all"])),
        any::<bool>(),
    )
        .prop_map(|(extra, bind, token, profile, exec, channels, bot, mode, bindings)| {
            let mut v = json!({});
            for (k, x) in extra {
                v[k] = x;
            }
            if let Some(b) = bind {
                v["gateway"]["bind"] = json!(b);
                v["gateway"]["port"] = json!(18789);
            }
            if let Some(t) = token {
                v["gateway"]["auth"] = json!({"mode": "token", "token": t});
            }
            if let Some(p) = profile {
                v["tools"]["profile"] = json!(p);
            }
            if let Some(e) = exec {
                v["tools"]["exec"] = e;
            }
            if let Some(m) = mode {
                v["agents"]["defaults"]["sandbox"]["mode"] = json!(m);
                v["agents"]["defaults"]["model"] = json!({"primary": "a/b"});
            }
            for c in channels {
                v["channels"][c] = json!({"botToken": bot.clone(), "dmPolicy": "pairing", "allowFrom": ["42"]});
            }
            if bindings {
                v["bindings"] = json!([{"agentId": "main", "match": {"channel": "discord", "guildId": "7"}}]);
            }
            v
        })
}

/// Render as JSON5 with a numbered comment before every property, unquoted keys where
/// possible and trailing commas.
fn json5_text(v: &Value, counter: &mut usize, indent: usize) -> String {
    let pad = "  ".repeat(indent + 1);
    match v {
        Value::Object(m) if !m.is_empty() => {
            let mut out = String::from("{\n");
            for (k, x) in m {
                *counter += 1;
                let key = if k.chars().all(|c| c.is_ascii_alphanumeric())
                    && !k.starts_with(|c: char| c.is_ascii_digit())
                {
                    k.clone()
                } else {
                    format!("'{k}'")
                };
                let n = *counter;
                let inner = json5_text(x, counter, indent + 1);
                out.push_str(&format!("{pad}// note {n}\n{pad}{key}: {inner},\n"));
            }
            out.push_str(&"  ".repeat(indent));
            out.push('}');
            out
        }
        other => other.to_string(),
    }
}

fn inputs() -> impl Strategy<Value = Inputs> {
    (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(owner, group, member)| Inputs {
        owner: owner.then(|| ChannelId {
            channel: "telegram".into(),
            id: "123".into(),
        }),
        groups: if group {
            vec![ChannelId {
                channel: "telegram".into(),
                id: "-100".into(),
            }]
        } else {
            vec![]
        },
        members: if member {
            vec![ChannelId {
                channel: "telegram".into(),
                id: "7".into(),
            }]
        } else {
            vec![]
        },
        accept_risk: true,
        ..Inputs::default()
    })
}

fn environment() -> impl Strategy<Value = Environment> {
    prop::sample::select(vec![
        "docker",
        "docker-rootless",
        "podman",
        "podman-rootless",
        "none",
    ])
    .prop_map(|l| Environment {
        engine: Engine::parse_label(l).flatten(),
        uid: 1000,
        gid: 1000,
    })
}

fn choices(env: &Environment, inputs: &Inputs) -> Vec<Choice> {
    preset::builtin()
        .iter()
        .map(|p| choice::adjust(p, env, inputs))
        .collect()
}

/// The plan to write, as apply makes it (the value read used up); its ledger keys are the
/// diff of the whole values before and after, whatever parts of the file its tree left out.
fn run(text: &str, target: &Choice, owned: &Owned, has_token: bool) -> Plan {
    let read = clawposture::domain::document::parse_value(text).expect("parses");
    let p = plan::plan_owned(
        Some(text.to_string()),
        Some(read),
        target,
        owned,
        TokenState {
            env_file_has_token: has_token,
            ..TokenState::default()
        },
    )
    .expect("plan");
    let whole = ledger::write_keys(&parse(text), &parse(&p.new_text));
    assert_eq!(p.ledger_keys(), whole, "{text}");
    // Drawn with the new value given up: the same keys, its leaves moved into them.
    let mut taken = p.clone();
    assert_eq!(taken.take_ledger_keys(), whole, "{text}");
    assert_eq!(taken.new_value, serde_json::Value::Null);
    p
}

/// The ledger after writing `p`, as apply records it.
fn record(ledger: &Ledger, p: &Plan) -> Ledger {
    let pending = Pending::new(
        ledger.clone(),
        "apply",
        &p.preset,
        None,
        Default::default(),
        p.ledger_keys(),
        &p.new_text,
    );
    match ledger::parse(Some(
        pending.render("20261130T000000Z", Some("b.bak")).as_bytes(),
    )) {
        ledger::Loaded::Ok(l) => l,
        other => panic!("the ledger does not read back: {other:?}"),
    }
}

fn owned(ledger: &Ledger, text: &str) -> Owned {
    ledger::owned(ledger, &parse(text))
}

fn parse(text: &str) -> Value {
    jsonc_parser::parse_to_serde_value(text, &clawposture::domain::document::options())
        .expect("parses")
}

fn leaves(v: &Value, path: Vec<String>, out: &mut Vec<(Vec<String>, Value)>) {
    match v {
        Value::Object(m) if !m.is_empty() => m.iter().for_each(|(k, x)| {
            let mut p = path.clone();
            p.push(k.clone());
            leaves(x, p, out)
        }),
        other => out.push((path, other.clone())),
    }
}

fn owned_by_anyone(all: &[Choice], channels: &[String], p: &[String]) -> bool {
    let fixed = [
        vec!["gateway".to_string(), "auth".into(), "token".into()],
        vec!["bindings".to_string()],
    ];
    fixed.iter().any(|f| p.starts_with(f))
        || all.iter().any(|c| {
            choice::desired(c, channels)
                .leaves
                .iter()
                .any(|l| p.starts_with(&l.path) || l.path.starts_with(p))
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn plan_properties(value in config(), inputs in inputs(), env in environment(), a in 0usize..3, b in 0usize..3) {
        let mut counter = 0;
        let text = json5_text(&value, &mut counter, 0);
        let all = choices(&env, &inputs);
        let (ca, cb) = (&all[a], &all[b]);
        let none = Owned::default();
        let pa = run(&text, ca, &none, false);
        let after_a = record(&Ledger::default(), &pa);
        let result = parse(&pa.new_text);

        // Comments survive.
        for n in 1..=counter {
            let note = format!("// note {n}\n");
            prop_assert!(pa.new_text.contains(&note), "lost `{}` from\n{}\nin\n{}", note, text, pa.new_text);
        }
        // Owned keys are exact.
        let channels = plan::channels_in(&result);
        for leaf in choice::desired(ca, &channels).leaves {
            if pa.kept.iter().any(|k| k.key == clawposture::domain::keypath::display(&leaf.path)) {
                continue;
            }
            let got = get_in(&result, &leaf.path);
            let ok = match (&leaf.value, got) {
                (Some(Value::Object(m)), Some(Value::Object(_))) if m.is_empty() => true,
                (w, g) => w.as_ref() == g,
            };
            prop_assert!(ok, "{:?}: {:?} != {:?}", leaf.path, got, leaf.value);
        }
        // Unrelated keys survive untouched.
        let mut orig = Vec::new();
        leaves(&value, vec![], &mut orig);
        for (p, x) in orig {
            if !owned_by_anyone(&all, &channels, &p) {
                prop_assert_eq!(get_in(&result, &p), Some(&x), "{:?}", p);
            }
        }
        // Idempotent: byte for byte, and nothing for .env.
        let again = run(&pa.new_text, ca, &owned(&after_a, &pa.new_text), true);
        prop_assert!(again.is_noop(), "second run changes {:?}", again.changes);
        // Switching A -> B (with the ledger) equals B on the original: what A wrote and B does
        // not own goes back to the user's value.
        let switched = parse(&run(&pa.new_text, cb, &owned(&after_a, &pa.new_text), true).new_text);
        let direct = parse(&run(&text, cb, &none, false).new_text);
        let (mut s, mut d) = (Vec::new(), Vec::new());
        leaves(&switched, vec![], &mut s);
        leaves(&direct, vec![], &mut d);
        for (p, x) in &d {
            let there = s.iter().find(|(q, _)| q == p).map(|(_, y)| y);
            if there != Some(x) {
                prop_assert!(there.is_none() && get_in(&value, p) == Some(x), "{:?}: switched {:?}, direct {:?}", p, there, x);
            }
        }
        for (p, x) in &s {
            prop_assert_eq!(get_in(&direct, p), Some(x), "{:?} is left over from {}", p, ca.preset.name);
        }
        // Secrets are never shown.
        let shown = format!("{}{}{:?}{:?}", pa.diff("a", "b"), serde_json::to_string(&pa.masked_changes()).unwrap_or_default(), pa.warnings, pa.notes);
        let mut secrets = Vec::new();
        clawposture::domain::secrets::collect(&value, &mut secrets);
        for sec in secrets {
            prop_assert!(!shown.contains(&sec), "secret shown");
        }
    }
}

/// Whether `choice` owns `p` in a file with these channels (or the token and routes every
/// preset manages).
fn owned_by(c: &Choice, channels: &[String], p: &[String]) -> bool {
    owned_by_anyone(std::slice::from_ref(c), channels, p)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Over random user files and random preset sequences, written through the ledger: a key
    /// the user wrote and the current preset does not own is never removed or changed; every
    /// change that loosens a value is marked; A -> B -> A ends where A on the original does.
    #[test]
    fn ledger_sequences_keep_what_the_user_wrote(
        value in config(),
        inputs in inputs(),
        env in environment(),
        seq in prop::collection::vec(0usize..3, 1..5),
        a in 0usize..3,
        b in 0usize..3,
    ) {
        use clawposture::domain::keypath;
        use clawposture::domain::strictness::{self, Verdict};
        let mut counter = 0;
        let text = json5_text(&value, &mut counter, 0);
        let all = choices(&env, &inputs);
        let mut orig = Vec::new();
        leaves(&value, vec![], &mut orig);

        let mut ledger = Ledger::default();
        let mut cur = text.clone();
        for (step, &i) in seq.iter().enumerate() {
            let c = &all[i];
            let p = run(&cur, c, &owned(&ledger, &cur), step > 0);
            for ch in &p.changes {
                let (Some(before), Some(after), Ok(key)) = (&ch.before, &ch.after, keypath::parse(&ch.key)) else {
                    continue;
                };
                if strictness::compare(&key, after, before) == Verdict::Looser {
                    prop_assert!(ch.loosens.is_some(), "unmarked loosening of {}: {} -> {}", ch.key, before, after);
                }
            }
            ledger = record(&ledger, &p);
            cur = p.new_text;
            let now = parse(&cur);
            let channels = plan::channels_in(&now);
            for (path, x) in &orig {
                if !owned_by(c, &channels, path) {
                    prop_assert_eq!(get_in(&now, path), Some(x), "{:?} after {:?}", path, &seq[..=step]);
                }
            }
        }

        // A -> B -> A equals A on the original.
        let (ca, cb) = (&all[a], &all[b]);
        let direct = run(&text, ca, &Owned::default(), false);
        let mut ledger = Ledger::default();
        let mut cur = text.clone();
        for (step, c) in [ca, cb, ca].into_iter().enumerate() {
            let p = run(&cur, c, &owned(&ledger, &cur), step > 0);
            ledger = record(&ledger, &p);
            cur = p.new_text;
        }
        prop_assert_eq!(parse(&cur), parse(&direct.new_text), "{} -> {} -> {}", ca.preset.name, cb.preset.name, ca.preset.name);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Undoing the last of random writes: with nothing edited since, the backup's bytes; with
    /// the text touched elsewhere (a trailing space), the write's keys set back one by one give
    /// the previous file's values.
    #[test]
    fn undo_of_the_last_write_gives_the_previous_file_back(
        value in config(),
        inputs in inputs(),
        env in environment(),
        seq in prop::collection::vec(0usize..3, 1..4),
    ) {
        let mut counter = 0;
        let text = json5_text(&value, &mut counter, 0);
        let all = choices(&env, &inputs);
        let mut ledger = Ledger::default();
        let mut cur = text.clone();
        let mut previous = text.clone();
        for (step, &i) in seq.iter().enumerate() {
            let p = run(&cur, &all[i], &owned(&ledger, &cur), step > 0);
            if p.new_text == cur {
                continue;
            }
            ledger = record(&ledger, &p);
            previous = cur;
            cur = p.new_text;
        }
        if ledger.writes.is_empty() {
            return Ok(());
        }
        let before = ledger.writes.len();
        // A literal Gateway token the last write moved into `.env` is never put back: that
        // key keeps its reference, every other key goes back.
        let expected = |new_text: &str, kept: &[String]| {
            let mut want = parse(&previous);
            if kept.iter().any(|k| k == "gateway.auth.token") {
                want["gateway"]["auth"]["token"] = parse(new_text)["gateway"]["auth"]["token"].clone();
            }
            want
        };
        match ledger::undo(&ledger, &cur) {
            Ok(ledger::Undo::Backup { rest, .. }) => prop_assert_eq!(rest.writes.len(), before - 1),
            Ok(ledger::Undo::Keys { new_text, kept_references, .. }) => {
                prop_assert_eq!(&kept_references, &vec!["gateway.auth.token".to_string()]);
                prop_assert_eq!(parse(&new_text), expected(&new_text, &kept_references), "{}", new_text);
            }
            other => prop_assert!(false, "not the backup: {:?}", other),
        }
        let touched = format!("{cur} ");
        match ledger::undo(&ledger, &touched) {
            Ok(ledger::Undo::Keys { new_text, kept_references, .. }) => {
                prop_assert_eq!(parse(&new_text), expected(&new_text, &kept_references), "{}", new_text);
            }
            other => prop_assert!(false, "not key by key: {:?}", other),
        }
    }
}
