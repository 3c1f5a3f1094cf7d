//! `clawposture completions`, `clawposture man` and `--version` as a user's shell and `man`
//! take them: bash parses the script and completes `clawposture ap<TAB>` through its own
//! completion function (which answers with `compgen`), `man -l` renders the page without a
//! warning, and the OpenClaw release `--version` names is the one .ci/support pins.

use std::path::Path;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_clawposture");

fn clawposture(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run clawposture")
}

fn stdout_ok(args: &[&str]) -> String {
    let out = clawposture(args);
    assert!(out.status.success(), "{args:?}: {out:?}");
    String::from_utf8(out.stdout).expect("utf-8")
}

/// A tool on PATH, or false after saying SKIPPED (a failure under CI=true, where .ci/run
/// installs it).
fn have(tool: &str, why: &str) -> bool {
    let ok = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        if std::env::var_os("CI").is_some() {
            panic!("CI is set but {tool} is not installed ({why})");
        }
        eprintln!("SKIPPED: {tool} is not installed ({why})");
    }
    ok
}

/// What bash's completion offers for the command line `words` (the last word is the one being
/// completed), with the script `clawposture completions bash` printed loaded as a user's
/// shell loads it.
fn bash_complete(script: &Path, words: &[&str]) -> Vec<String> {
    let line = words.join(" ");
    let quoted: Vec<String> = words
        .iter()
        .map(|w| format!("'{}'", w.replace('\'', r"'\''")))
        .collect();
    let program = format!(
        r#"source "$1" || exit 9
spec=$(complete -p clawposture) || exit 8
fn=$(sed -n 's/.*-F \([^ ]*\) .*/\1/p' <<<"$spec")
COMP_WORDS=({words})
COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
COMP_LINE='{line}'
COMP_POINT=${{#COMP_LINE}}
COMPREPLY=()
"$fn" clawposture "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\n' "${{COMPREPLY[@]}}""#,
        words = quoted.join(" "),
    );
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &program, "bash"])
        .arg(script)
        .output()
        .expect("bash");
    assert!(out.status.success(), "bash completion: {out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn bash_parses_the_script_and_completes_subcommands_and_flags() {
    let script = stdout_ok(&["completions", "bash"]);
    let dir = tempfile::tempdir().expect("temp");
    let file = dir.path().join("clawposture.bash");
    std::fs::write(&file, &script).expect("write");

    let syntax = Command::new("bash")
        .arg("-n")
        .arg(&file)
        .output()
        .expect("bash -n");
    assert!(syntax.status.success(), "bash -n: {syntax:?}");

    assert_eq!(bash_complete(&file, &["clawposture", "ap"]), ["apply"]);
    let pre: Vec<String> = bash_complete(&file, &["clawposture", "p"]);
    for want in ["plan", "presets"] {
        assert!(pre.iter().any(|w| w == want), "{want} in {pre:?}");
    }
    assert_eq!(
        bash_complete(&file, &["clawposture", "apply", "--dry"]),
        ["--dry-run"]
    );
    let shells = bash_complete(&file, &["clawposture", "completions", ""]);
    for want in ["bash", "zsh", "fish", "powershell"] {
        assert!(shells.iter().any(|w| w == want), "{want} in {shells:?}");
    }
    assert!(
        bash_complete(&file, &["clawposture", "zz"]).is_empty(),
        "nothing for an unknown prefix"
    );
}

#[test]
fn every_shell_has_a_script_and_an_unknown_shell_is_a_usage_error() {
    for (shell, marker) in [
        ("bash", "complete -F _clawposture"),
        ("zsh", "#compdef clawposture"),
        ("fish", "complete -c clawposture"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let text = stdout_ok(&["completions", shell]);
        assert!(text.contains(marker), "{shell}: no `{marker}`");
    }
    let out = clawposture(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("possible values: bash, zsh, fish, powershell")
    );
}

#[test]
fn man_renders_the_page_with_every_subcommand_and_no_warning() {
    if !have("man", "man-db renders the page") {
        return;
    }
    let page = clawposture(&["man"]);
    assert!(page.status.success(), "{page:?}");
    let dir = tempfile::tempdir().expect("temp");
    let file = dir.path().join("clawposture.1");
    std::fs::write(&file, &page.stdout).expect("write");
    let out = Command::new("man")
        .arg("--warnings")
        .arg("-l")
        .arg(&file)
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        // Wide, so no wanted phrase is hyphenated across lines.
        .env("MANWIDTH", "250")
        .env("LANG", "C.UTF-8")
        .env("MAN_DISABLE_SECCOMP", "1")
        .output()
        .expect("man -l");
    let text = String::from_utf8_lossy(&out.stdout);
    let warnings = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "man -l: {out:?}");
    assert!(warnings.trim().is_empty(), "groff warnings:\n{warnings}");
    // man renders with backspace overstrikes when not on a terminal only if asked; strip any.
    let plain: String = {
        let mut s = String::new();
        for c in text.chars() {
            if c == '\u{8}' {
                s.pop();
            } else {
                s.push(c);
            }
        }
        // Justification pads with spaces; compare words.
        s.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    for want in [
        "clawposture - Put an OpenClaw installation into a secure posture",
        "SYNOPSIS",
        "--config <PATH>",
        "CLAWPOSTURE APPLY",
        "--dry-run",
        "CLAWPOSTURE VERIFY",
        "--live",
        "CLAWPOSTURE COMPLETIONS",
        "Exit codes: 0 ok (verify: nothing failed) 1 a check failed",
        &format!(
            "OpenClaw {}",
            clawposture::model::versions::OPENCLAW_CHECKED
        ),
    ] {
        assert!(
            plain.contains(want),
            "`{want}` not in the rendered page:\n{plain}"
        );
    }
}

#[test]
fn version_names_clawposture_and_the_openclaw_release_the_presets_were_checked_against() {
    let line = stdout_ok(&["--version"]);
    assert_eq!(
        line.trim(),
        format!(
            "clawposture {} (presets checked against OpenClaw {})",
            env!("CARGO_PKG_VERSION"),
            clawposture::model::versions::OPENCLAW_CHECKED
        )
    );
}

#[test]
fn the_openclaw_range_ends_at_the_release_tests_support_pins() {
    let support = Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/support");
    let setup = std::fs::read_to_string(support.join("openclaw-setup.sh")).expect("setup script");
    let pinned = setup
        .lines()
        .find_map(|l| l.strip_prefix("OC_OPENCLAW_VERSION=\"${OC_OPENCLAW_VERSION:-"))
        .and_then(|rest| rest.split_once('}'))
        .map(|(v, _)| v.to_string())
        .expect("OC_OPENCLAW_VERSION default in openclaw-setup.sh");
    let lock: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(support.join("openclaw/package-lock.json")).expect("lock"),
    )
    .expect("lock JSON");
    assert_eq!(
        lock["packages"]["node_modules/openclaw"]["version"], pinned,
        "the lockfile and the setup script pin the same OpenClaw"
    );
    assert_eq!(
        clawposture::model::versions::openclaw_checked_newest(),
        pinned
    );
}
