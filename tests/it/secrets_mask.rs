//! Secrets in previews (issue #15): masking works on the syntax tree, by the span of every
//! string node under a key path OpenClaw marks sensitive or a key name that looks secret, so a
//! token written with escapes and secrets under keys the name rule misses never reach plan,
//! apply, --dry-run, --json, --plain or the checklist. Each test is named after the attack.

use crate::support::homes::*;

use std::process::Command;

/// A Gateway token spelled with a `\u` escape, an escaped quote and a line continuation: its
/// parsed value appears nowhere in the raw text, so matching the value against the text missed
/// it. Each fragment below is unique to one secret.
const ESCAPED: &str = "{\n  // my config\n  gateway: { auth: { mode: 'token', token: 'GWTOKEN\\u0041aaaaaaaa\\'bbbbbbbbbbb\\\n  cccccccccc' }, bind: 'lan' },\n}\n";
const ESCAPED_PARTS: [&str; 3] = ["GWTOKEN", "bbbbbbbbbbb", "cccccccccc"];

/// Secrets under keys the name rule misses: an environment variable, a provider's
/// `params.key`, an agent's SSH identity in the legacy `agents.list` (migrated, so the whole
/// block is a change), each next to a line the plan changes so that it sits in diff context.
const UNNAMED: &str = "{\n  gateway: {\n    bind: 'lan',\n  },\n  env: {\n    vars: { GITHUB_PAT: 'ghp_PATPATPAT123', OPENAI_KEY: 'sk-OPENAIOPENAI' },\n  },\n  models: {\n    providers: { p: { baseUrl: 'http://127.0.0.1:1', params: { key: 'PROVKEY12345' } } },\n  },\n  agents: {\n    list: [ { id: 'main', sandbox: { ssh: { identityData: 'SSHIDENTITY99' } }, params: { key: 'AGENTPARAMKEY7' } } ],\n  },\n}\n";

const PRIVATE: [&str; 5] = ["--threat", "private", "--engine", "docker", "--no-detect"];

fn outputs(sb: &Sandbox) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (name, sub, extra) in [
        ("plan", "plan", &[][..]),
        ("plan --json", "plan", &["--json"][..]),
        ("apply --dry-run", "apply", &["--dry-run"][..]),
        (
            "apply --dry-run --json",
            "apply",
            &["--dry-run", "--json"][..],
        ),
    ] {
        let mut args = vec![sub];
        args.extend_from_slice(&PRIVATE);
        args.extend_from_slice(extra);
        let o = sb.run(&args);
        assert_eq!(o.status.code(), Some(0), "{name}: {o:?}");
        out.push((name.to_string(), format!("{}{}", stdout(&o), stderr(&o))));
    }
    out
}

fn assert_hidden(what: &str, text: &str, parts: &[&str]) {
    for p in parts {
        assert!(!text.contains(p), "{what} shows `{p}`:\n{text}");
    }
}

#[test]
fn a_token_written_with_escapes_never_shows_in_plan_apply_dry_run_or_json() {
    let sb = Sandbox::new();
    sb.put_config(ESCAPED);
    for (name, text) in outputs(&sb) {
        assert_hidden(&name, &text, &ESCAPED_PARTS);
        // The token's line is in the diff, masked in its own quotes.
        if !name.ends_with("--json") {
            assert!(text.contains("token: '«secret»'"), "{name}:\n{text}");
        }
    }
    let mut args = vec!["apply", "--yes"];
    args.extend_from_slice(&PRIVATE);
    let o = sb.run(&args);
    assert!(applied(&o), "{o:?}");
    assert_hidden(
        "apply",
        &format!("{}{}", stdout(&o), stderr(&o)),
        &ESCAPED_PARTS,
    );
    let checklist =
        std::fs::read_to_string(sb.state().join("clawposture-checklist.md")).expect("checklist");
    assert_hidden("the checklist", &checklist, &ESCAPED_PARTS);
    // The token really moved: `.env` holds it whole, as OpenClaw decodes it.
    let env = std::fs::read_to_string(sb.state().join(".env")).expect(".env");
    let token = clawposture::domain::dotenv::get(&env, "OPENCLAW_GATEWAY_TOKEN").expect("token");
    assert_eq!(token, "GWTOKENAaaaaaaaa'bbbbbbbbbbb  cccccccccc");
}

#[test]
fn env_vars_github_pat_and_openai_key_never_show_in_diff_context() {
    let sb = Sandbox::new();
    sb.put_config(UNNAMED);
    for (name, text) in outputs(&sb) {
        assert_hidden(&name, &text, &["ghp_PATPATPAT123", "sk-OPENAIOPENAI"]);
        if name == "plan" {
            assert!(text.contains("GITHUB_PAT: '«secret»'"), "{text}");
        }
    }
}

#[test]
fn a_provider_params_key_never_shows_in_diff_context() {
    let sb = Sandbox::new();
    sb.put_config(UNNAMED);
    for (name, text) in outputs(&sb) {
        assert_hidden(&name, &text, &["PROVKEY12345"]);
        if name == "plan" {
            assert!(text.contains("key: '«secret»'"), "{text}");
            assert!(text.contains("baseUrl: 'http://127.0.0.1:1'"), "{text}");
        }
    }
}

#[test]
fn secrets_in_the_agents_list_migration_block_are_masked() {
    let sb = Sandbox::new();
    sb.put_config(UNNAMED);
    for (name, text) in outputs(&sb) {
        // The migration block is two changes (`agents.list` out, `agents.entries` in) and
        // the migrated lines of the diff.
        assert!(text.contains("agents.list"), "{name}:\n{text}");
        assert_hidden(&name, &text, &["SSHIDENTITY99", "AGENTPARAMKEY7"]);
    }
    let o = sb.run(&[
        "plan",
        "--json",
        "--threat",
        "private",
        "--engine",
        "docker",
        "--no-detect",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("plan --json");
    let entries = v["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| c["key"] == "agents.entries")
        .expect("the migrated agents");
    assert_eq!(
        entries["after"]["main"]["sandbox"]["ssh"]["identityData"],
        "«secret»"
    );
    assert_eq!(entries["after"]["main"]["params"]["key"], "«secret»");
}

#[test]
fn a_token_written_with_escapes_never_shows_in_plain() {
    use crate::support::pty::*;
    if !have_tmux() {
        return;
    }
    let h = Home::new();
    std::fs::write(h.config(), ESCAPED).expect("config");
    let t = Tmux::start(120, 50, &h.line("--plain --engine docker --no-detect", ""));
    if t.wait_for_any(&["Build it now", "Threat model:"]).0 == "Build it now" {
        t.type_text("n");
        t.keys(&["Enter"]);
    }
    t.wait_for("Threat model:");
    t.keys(&["Enter"]);
    t.wait_for("Owner (CHANNEL:ID");
    t.keys(&["Enter"]);
    t.wait_for("Change advanced settings");
    t.type_text("n");
    t.keys(&["Enter"]);
    t.wait_for("Write these changes?");
    let history = t.history();
    assert!(history.contains("«secret»"), "{history}");
    assert_hidden("--plain", &history, &ESCAPED_PARTS);
    t.type_text("n");
    t.keys(&["Enter"]);
    t.wait_exit();
}

/// The sensitive paths in `presets/sensitive.toml` are the ones the installed OpenClaw marks:
/// its config schema payload's UI hints with `sensitive: true` (`openclaw config schema`
/// prints the JSON Schema without them, so they are read from the package's own builder).
#[test]
fn sensitive_paths_are_the_ones_the_installed_openclaw_marks() {
    let Some(oc) = openclaw_or_skip("sensitive paths") else {
        return;
    };
    // The wrapper lives in <prefix>/bin/openclaw, next to the node it runs.
    let prefix = oc
        .canonicalize()
        .expect("openclaw path")
        .parent()
        .and_then(|b| b.parent())
        .expect("prefix")
        .to_path_buf();
    let node = prefix.join("bin/node");
    let dist = prefix.join("node_modules/openclaw/dist");
    let builder = std::fs::read_dir(&dist)
        .expect("dist")
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("schema-") && n.ends_with(".mjs"))
                && std::fs::read_to_string(p)
                    .is_ok_and(|t| t.contains("buildConfigSchemaCore as t"))
        })
        .expect("OpenClaw's config schema builder in dist/");
    let script = format!(
        "const m = await import({:?}); const r = m.t(); \
         console.log(JSON.stringify({{version: r.version, sensitive: Object.entries(r.uiHints)\
         .filter(([k, h]) => h && h.sensitive === true).map(([k]) => k).sort()}}));",
        builder.display().to_string()
    );
    let out = Command::new(&node)
        .args(["--input-type=module", "-e", &script])
        .output()
        .expect("node");
    assert!(out.status.success(), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("hints JSON");
    let (version, mut ours, _) = clawposture::domain::secrets::patterns();
    let mut theirs: Vec<String> = v["sensitive"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect();
    theirs.sort();
    ours.sort();
    assert_eq!(v["version"], version.as_str(), "pinned OpenClaw version");
    assert_eq!(
        ours, theirs,
        "presets/sensitive.toml differs from the installed OpenClaw's sensitive paths"
    );
}
