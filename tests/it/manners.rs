//! The edit path's manners (issue #15): what `apply` inserts reads like the rest of the file
//! (bare or quoted keys, single or double quotes, one-line objects kept on one line, trailing
//! commas as the file writes them), and a comment beside a value it replaces is kept above
//! the key, never re-attached to the new value. Each test is named after what broke.

use crate::support::homes::*;

const APPLY: [&str; 9] = [
    "apply",
    "--yes",
    "--threat",
    "private",
    "--engine",
    "docker",
    "--no-detect",
    "--owner",
    "telegram:42",
];

fn apply(text: &str) -> String {
    let sb = Sandbox::new();
    sb.put_config(text);
    let out = sb.run(&APPLY);
    assert!(applied(&out), "{}{}", stdout(&out), stderr(&out));
    std::fs::read_to_string(sb.config()).expect("config")
}

#[test]
fn keys_inserted_into_a_file_with_bare_keys_and_single_quotes_are_not_double_quoted() {
    let text = "{\n  gateway: {\n    port: 18789,\n    bind: 'lan',\n  },\n  channels: {\n    telegram: {\n      botToken: '123:abc',\n      dmPolicy: 'open',\n    },\n  },\n}\n";
    let out = apply(text);
    assert!(!out.contains('"'), "a double quote was inserted:\n{out}");
    for line in [
        "    bind: 'loopback',",
        "    dmScope: 'main',",
        "      mode: 'ask',",
    ] {
        assert!(out.contains(line), "`{line}` missing:\n{out}");
    }
    let v = json5(&out);
    assert_eq!(v["tools"]["exec"]["mode"], "ask");
    assert_eq!(v["channels"]["telegram"]["dmPolicy"], "allowlist");
}

#[test]
fn a_plain_json_file_stays_plain_json_with_quoted_keys_and_no_trailing_commas() {
    let text = "{\n  \"gateway\": {\n    \"port\": 18789,\n    \"bind\": \"lan\"\n  }\n}\n";
    let out = apply(text);
    let v: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON any more ({e}):\n{out}"));
    assert_eq!(v["gateway"]["bind"], "loopback");
    assert!(out.contains("\"tools\": {"), "{out}");
}

#[test]
fn an_object_written_inline_stays_inline_instead_of_expanding_with_odd_indentation() {
    let text = "{\n  gateway: { port: 18789, bind: 'lan' },\n  channels: { telegram: { botToken: '123:abc', dmPolicy: 'open', allowFrom: ['*'] } },\n}\n";
    let out = apply(text);
    let channels = out
        .lines()
        .find(|l| l.trim_start().starts_with("channels:"))
        .expect("channels line");
    assert!(
        channels
            .contains("telegram: { botToken: '123:abc', dmPolicy: 'allowlist', allowFrom: ['42'],")
            && channels.trim_end().ends_with("} },"),
        "the inline channel block was expanded:\n{out}"
    );
    let gateway = out
        .lines()
        .find(|l| l.trim_start().starts_with("gateway:"))
        .expect("gateway line");
    assert!(
        gateway.contains("bind: 'loopback'") && gateway.trim_end().ends_with("},"),
        "{out}"
    );
    // Nothing else in the file is indented oddly: every line outside the one-line objects
    // starts at an even column.
    for l in out.lines() {
        let indent = l.len() - l.trim_start().len();
        assert_eq!(indent % 2, 0, "odd indentation in `{l}`:\n{out}");
    }
    let v = json5(&out);
    assert_eq!(v["channels"]["telegram"]["allowFrom"][0], "42");
}

#[test]
fn a_comment_on_a_replaced_value_is_kept_above_the_key_not_beside_the_new_value() {
    let text = "{\n  gateway: {\n    auth: {\n      mode: 'token',\n      token: 'abcdefghijklmnopqrstuvwxyz0123456789', // literal, I know\n    },\n  },\n  agents: {\n    defaults: {\n      sandbox: {\n        mode: 'off', /* I want everything sandboxed */\n      },\n    },\n  },\n}\n";
    let out = apply(text);
    assert!(
        out.contains("      // literal, I know\n      token: {"),
        "the token's comment is not above the key:\n{out}"
    );
    assert!(
        out.contains("        /* I want everything sandboxed */\n        mode: 'non-main',"),
        "the sandbox comment is not above the key:\n{out}"
    );
    // Each comment appears once, and never on the new value's line.
    assert_eq!(out.matches("literal, I know").count(), 1, "{out}");
    for l in out.lines() {
        if l.contains("I want everything sandboxed") || l.contains("literal, I know") {
            assert!(
                l.trim_start().starts_with("//") || l.trim_start().starts_with("/*"),
                "{l}"
            );
        }
    }
}
