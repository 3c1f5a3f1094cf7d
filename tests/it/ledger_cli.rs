//! The ledger through the CLI (#13): what the user wrote survives switching, A -> B -> A gives
//! the user's values back, a stricter value is kept, loosening needs `--allow-loosen`,
//! `restore --undo` and `--list`, a corrupt ledger never crashes nor removes anything.

use crate::support::homes::*;
use serde_json::{Value, json};

fn apply(sb: &Sandbox, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "apply",
        "--yes",
        "--engine",
        "docker-rootless",
        "--no-detect",
    ];
    args.extend_from_slice(extra);
    let nothing = format!("unix://{}", sb.path("nothing.sock").display());
    args.extend_from_slice(&["--docker-host", &nothing]);
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    sb.run(&args)
}

/// The config as JSON, with the sandbox's own directory (in the policy file's path) named
/// `<sandbox>`, so configs written in different sandboxes compare.
fn config(sb: &Sandbox) -> Value {
    let text = std::fs::read_to_string(sb.config()).expect("config");
    json5(&text.replace(&sb.dir.path().display().to_string(), "<sandbox>"))
}

fn ledger(sb: &Sandbox) -> Value {
    let path = sb.state().join("clawposture-ledger.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("ledger")).expect("ledger JSON")
}

fn at<'a>(v: &'a Value, pointer: &str) -> &'a Value {
    v.pointer(pointer).unwrap_or(&Value::Null)
}

const HAND_WRITTEN: &str = r#"{
  // I turned the browser off on purpose.
  browser: { enabled: false },
  commands: { restart: false },
  agents: { ownership: "explicit", defaults: { workspace: "~/my-workspace" } },
  gateway: { port: 19789 },
}
"#;

#[test]
fn hand_written_values_survive_a_preset_on_a_file_clawposture_never_touched() {
    let sb = Sandbox::new();
    sb.put_config(HAND_WRITTEN);
    let out = apply(&sb, &["--threat", "private"]);
    assert!(applied(&out), "{}", stderr(&out));
    let text = std::fs::read_to_string(sb.config()).expect("config");
    assert!(
        text.contains("// I turned the browser off on purpose."),
        "{text}"
    );
    let v = config(&sb);
    assert_eq!(at(&v, "/browser/enabled"), &json!(false));
    assert_eq!(at(&v, "/commands/restart"), &json!(false));
    assert_eq!(at(&v, "/agents/ownership"), &json!("explicit"));
    assert_eq!(at(&v, "/gateway/port"), &json!(19789));
    // The ledger: 0600, one write, with its answers and keys.
    let path = sb.state().join("clawposture-ledger.json");
    assert_eq!(mode(&path), 0o600);
    let l = ledger(&sb);
    assert_eq!(l["version"], 1);
    assert_eq!(l["writes"].as_array().map(Vec::len), Some(1));
    assert_eq!(l["writes"][0]["preset"], "private");
    assert_eq!(l["writes"][0]["engine"], "docker-rootless");
    assert!(
        l["writes"][0]["backup"]
            .as_str()
            .is_some_and(|b| b.ends_with(".bak"))
    );
    let hash = l["writes"][0]["config_sha256"]
        .as_str()
        .expect("hash")
        .to_string();
    assert_eq!(hash.len(), 64);
    assert!(
        l["writes"][0]["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .any(|k| k["key"] == json!(["gateway", "bind"]) && k["after"] == "loopback"),
        "{l}"
    );
}

#[test]
fn switching_a_b_a_gives_back_what_the_user_had() {
    // A port public does not write (it writes 19789).
    let original = HAND_WRITTEN.replace("19789", "19555");
    let sb = Sandbox::new();
    sb.put_config(&original);
    for threat in ["private", "public", "private"] {
        let out = apply(&sb, &["--threat", threat, "--same-gateway"]);
        assert!(applied(&out), "{threat}: {}", stderr(&out));
    }
    let v = config(&sb);
    assert_eq!(
        at(&v, "/agents/defaults/workspace"),
        &json!("~/my-workspace")
    );
    assert_eq!(at(&v, "/gateway/port"), &json!(19555));
    assert_eq!(at(&v, "/browser/enabled"), &json!(false));
    assert_eq!(at(&v, "/agents/ownership"), &json!("explicit"));
    // Private applied directly to the original gives the same values.
    let direct = Sandbox::new();
    direct.put_config(&original);
    assert!(applied(&apply(&direct, &["--threat", "private"])));
    let mut a = config(&sb);
    let mut b = config(&direct);
    for x in [&mut a, &mut b] {
        // The token reference is the same; only the preset's values are compared.
        x["gateway"]["auth"]["token"] = Value::Null;
    }
    assert_eq!(a, b);
    assert_eq!(ledger(&sb)["writes"].as_array().map(Vec::len), Some(3));
}

#[test]
fn a_stricter_value_is_kept_and_loosening_one_needs_allow_loosen() {
    let sb = Sandbox::new();
    sb.put_config(
        r#"{ agents: { defaults: { sandbox: { mode: "all", workspaceAccess: "none" } } } }"#,
    );
    let out = sb.run(&[
        "plan",
        "--threat",
        "private",
        "--engine",
        "docker-rootless",
        "--no-detect",
    ]);
    let text = stdout(&out);
    assert!(
        text.contains(
            "kept: stricter than the preset: `agents.defaults.sandbox.mode` stays \"all\""
        ),
        "{text}"
    );
    // Asking for rw loosens the user's `none`: refused without --allow-loosen (exit 4).
    let args = ["--threat", "private", "--workspace-access", "rw"];
    let out = apply(&sb, &args);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains("--allow-loosen"), "{}", stderr(&out));
    assert!(ledger_missing(&sb));
    let plan = sb.run(&[
        "plan",
        "--json",
        "--threat",
        "private",
        "--engine",
        "docker-rootless",
        "--no-detect",
        "--workspace-access",
        "rw",
    ]);
    let v: Value = serde_json::from_str(&stdout(&plan)).expect("plan json");
    assert_eq!(v["loosens"], true);
    assert!(
        v["changes"]
            .as_array()
            .expect("changes")
            .iter()
            .any(
                |c| c["key"] == "agents.defaults.sandbox.workspaceAccess" && c["loosens"] == "user"
            )
    );
    let mut with = args.to_vec();
    with.push("--allow-loosen");
    let out = apply(&sb, &with);
    assert!(applied(&out), "{}", stderr(&out));
    let v = config(&sb);
    assert_eq!(
        at(&v, "/agents/defaults/sandbox/workspaceAccess"),
        &json!("rw")
    );
    assert_eq!(at(&v, "/agents/defaults/sandbox/mode"), &json!("all"));
}

fn ledger_missing(sb: &Sandbox) -> bool {
    !sb.state().join("clawposture-ledger.json").exists()
}

#[test]
fn undo_after_one_write_returns_the_previous_bytes() {
    let sb = Sandbox::new();
    sb.put_config(HAND_WRITTEN);
    let before = std::fs::read(sb.config()).expect("config");
    assert!(applied(&apply(&sb, &["--threat", "group"])));
    assert_ne!(std::fs::read(sb.config()).expect("config"), before);
    let out = sb.run(&["restore", "--undo", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(std::fs::read(sb.config()).expect("config"), before);
    assert_eq!(ledger(&sb)["writes"], json!([]));
    // Nothing left to undo.
    let out = sb.run(&["restore", "--undo", "--yes"]);
    assert_eq!(out.status.code(), Some(4), "{}", stdout(&out));
}

#[test]
fn undo_keeps_unrelated_edits_and_refuses_when_the_same_key_was_edited() {
    let sb = Sandbox::new();
    sb.put_config(HAND_WRITTEN);
    assert!(applied(&apply(&sb, &["--threat", "private"])));
    let written = std::fs::read_to_string(sb.config()).expect("config");
    // The same key edited by hand since: refused, naming it.
    std::fs::write(sb.config(), written.replace("\"loopback\"", "\"lan\"")).expect("edit");
    let out = sb.run(&["restore", "--undo", "--yes"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(stderr(&out).contains("`gateway.bind`"), "{}", stderr(&out));
    // An unrelated edit: kept, and the write's keys go back.
    std::fs::write(sb.config(), written.replace("explicit", "auto")).expect("edit");
    let out = sb.run(&["restore", "--undo", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = config(&sb);
    assert_eq!(at(&v, "/agents/ownership"), &json!("auto"));
    assert_eq!(at(&v, "/gateway/bind"), &Value::Null);
    assert_eq!(at(&v, "/gateway/port"), &json!(19789));
    assert_eq!(at(&v, "/browser/enabled"), &json!(false));
}

#[test]
fn restore_list_names_presets_and_literal_secrets_and_backups_are_pruned() {
    let sb = Sandbox::new();
    sb.put_config(r#"{ gateway: { auth: { token: "0123456789abcdef0123456789abcdef" } } }"#);
    let threats = [
        "private", "group", "private", "group", "private", "group", "private", "group",
    ];
    for t in threats {
        assert!(applied(&apply(&sb, &["--threat", t])), "{t}");
    }
    let out = sb.run(&["restore", "--list", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let items: Value = serde_json::from_str(&stdout(&out)).expect("list json");
    let items = items.as_array().expect("array");
    // Eight writes made seven backups (the first write had a file, so eight): the first plus
    // the last five are kept.
    assert_eq!(items.len(), 6, "{items:?}");
    assert_eq!(
        items[0]["literal_secret"], true,
        "the file before clawposture held the token"
    );
    assert_eq!(items[0]["before_write_of"], "private");
    assert_eq!(items[0]["held"], Value::Null);
    assert_eq!(items[5]["held"], "private", "{items:?}");
    assert_eq!(items[5]["before_write_of"], "group");
    assert_eq!(items[5]["literal_secret"], false);
    let text = stdout(&sb.run(&["restore", "--list"]));
    assert!(text.contains("HOLDS A LITERAL SECRET"), "{text}");
}

#[test]
fn a_corrupt_or_future_ledger_is_reported_and_removes_nothing() {
    for bad in ["{not json", r#"{"version": 99, "writes": []}"#] {
        let sb = Sandbox::new();
        sb.put_config(HAND_WRITTEN);
        assert!(applied(&apply(
            &sb,
            &["--threat", "public", "--accept-risk"]
        )));
        let path = sb.state().join("clawposture-ledger.json");
        std::fs::write(&path, bad).expect("ledger");
        let out = apply(&sb, &["--threat", "private"]);
        assert!(applied(&out), "{bad}: {}", stderr(&out));
        assert!(
            stdout(&out).contains("The ledger (clawposture-ledger.json)"),
            "{}",
            stdout(&out)
        );
        // Nothing is removed on its word: public's workspace stays (it is not private's).
        let v = config(&sb);
        assert_eq!(
            at(&v, "/agents/defaults/workspace"),
            &json!("~/.openclaw-public/workspace")
        );
        if bad.contains("99") {
            assert_eq!(
                std::fs::read_to_string(&path).expect("ledger"),
                bad,
                "left alone"
            );
        } else {
            assert_eq!(
                ledger(&sb)["writes"].as_array().map(Vec::len),
                Some(1),
                "started over"
            );
        }
    }
}

#[test]
fn verify_reads_a_deliberate_advanced_answer_from_the_ledger() {
    let sb = Sandbox::new();
    sb.put_config(HAND_WRITTEN);
    let out = apply(&sb, &["--threat", "private", "--workspace-access", "rw"]);
    assert!(applied(&out), "{}", stderr(&out));
    let nothing = format!("unix://{}", sb.path("nothing.sock").display());
    let drift = |sb: &Sandbox| {
        let out = sb.run(&[
            "verify",
            "--json",
            "--no-openclaw",
            "--engine",
            "docker-rootless",
            "--docker-host",
            &nothing,
        ]);
        let v: Value = serde_json::from_str(&stdout(&out)).expect("verify json");
        v["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|i| i["id"] == "static.drift")
            .map(|i| i["status"].clone())
            .expect("static.drift")
    };
    assert_eq!(drift(&sb), json!("pass"), "rw was asked for: not drift");
    // Without the ledger the file cannot tell the answer from a hand edit.
    std::fs::remove_file(sb.state().join("clawposture-ledger.json")).expect("ledger");
    assert_eq!(drift(&sb), json!("fail"));
}

#[test]
fn restore_backup_puts_back_its_exact_bytes_and_the_ledger_forgets_what_came_after() {
    let sb = Sandbox::new();
    sb.put_config(HAND_WRITTEN);
    assert!(applied(&apply(&sb, &["--threat", "private"])));
    assert!(applied(&apply(
        &sb,
        &[
            "--threat",
            "public",
            "--accept-risk",
            "--same-gateway",
            "--allow-loosen"
        ]
    )));
    assert_eq!(ledger(&sb)["writes"].as_array().map(Vec::len), Some(2));
    let list = sb.run(&["restore", "--list", "--json"]);
    let items: Value = serde_json::from_str(&stdout(&list)).expect("list JSON");
    let first = items[0]["file"].as_str().expect("a backup").to_string();
    // A name that is no backup of this config is refused, and nothing changes.
    let before = std::fs::read(sb.config()).expect("config");
    let bad = sb.run(&["restore", "--yes", "openclaw.json"]);
    assert_eq!(bad.status.code(), Some(4), "{}", stderr(&bad));
    assert_eq!(std::fs::read(sb.config()).expect("config"), before);
    // The first backup is the file before clawposture: its exact bytes come back.
    let out = sb.run(&["restore", "--yes", &first]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(sb.config()).expect("config"),
        HAND_WRITTEN
    );
    assert_eq!(ledger(&sb)["writes"].as_array().map(Vec::len), Some(0));
    // The file as it was before the restore is a backup too.
    let after: Value = serde_json::from_str(&stdout(&sb.run(&["restore", "--list", "--json"])))
        .expect("list JSON");
    assert!(
        after.as_array().map(Vec::len) > items.as_array().map(Vec::len),
        "{after}"
    );
}

#[test]
fn presets_say_what_the_ledger_knows_of_this_config() {
    let sb = Sandbox::new();
    sb.put_config(HAND_WRITTEN);
    let before = stdout(&sb.run(&["presets"]));
    assert!(
        before.contains("not written by clawposture yet"),
        "{before}"
    );
    assert!(applied(&apply(&sb, &["--threat", "private"])));
    let after = stdout(&sb.run(&["presets"]));
    assert!(
        after.contains("This config") && after.contains("private preset, written"),
        "{after}"
    );
}

#[test]
fn keep_backups_sets_how_many_backups_stay_besides_the_first() {
    let sb = Sandbox::new();
    sb.put_config(HAND_WRITTEN);
    for t in ["private", "group", "private", "group"] {
        let out = apply(&sb, &["--threat", t, "--keep-backups", "1"]);
        assert!(applied(&out), "{t}: {}", stderr(&out));
    }
    let out = sb.run(&["restore", "--list", "--json"]);
    let items: Value = serde_json::from_str(&stdout(&out)).expect("list json");
    // Four writes, four backups made: the first (the file before clawposture) and the last one.
    assert_eq!(items.as_array().map(Vec::len), Some(2), "{items}");
    assert_eq!(items[0]["held"], Value::Null, "{items}");
}
