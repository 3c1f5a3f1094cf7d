//! Static checks: the config, its owned keys, file modes and the Gateway token. The judging is
//! pure (facts in, outcomes out); `gather` is the only part that reads the disk.

use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::domain::choice::{Advanced, Setting};
use crate::domain::keypath;
use crate::domain::plan::{MIN_TOKEN_LEN, TOKEN_ENV};
use crate::domain::recognize::Recognized;
use crate::model::checks::{Group, Outcome};

/// What `stat` says about a path (not following a final symlink).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileFacts {
    pub mode: u32,
    pub uid: u32,
    pub symlink: bool,
}

/// `Ok(None)`: the path does not exist.
pub fn stat(path: &Path) -> io::Result<Option<FileFacts>> {
    match std::fs::symlink_metadata(path) {
        Ok(m) => {
            let symlink = m.file_type().is_symlink();
            // Judge the file a symlink points at; the link itself is reported separately.
            let m = if symlink { std::fs::metadata(path)? } else { m };
            Ok(Some(FileFacts {
                mode: m.permissions().mode() & 0o7777,
                uid: m.uid(),
                symlink,
            }))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// How the config names the Gateway token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    /// `{source: "env", id: NAME}` or `"${NAME}"`.
    Env(String),
    /// A SecretRef from a file, exec or store provider: clawposture cannot read it.
    Other(String),
    /// A literal string in the config (its length only).
    Literal(usize),
    Missing,
}

pub fn token_source(config: &Value) -> TokenSource {
    match config.pointer("/gateway/auth/token") {
        Some(Value::Object(m)) => match (
            m.get("source").and_then(Value::as_str),
            m.get("id").and_then(Value::as_str),
        ) {
            (Some("env"), Some(id)) => TokenSource::Env(id.to_string()),
            (Some(s), _) => TokenSource::Other(s.to_string()),
            _ => TokenSource::Other("unknown".into()),
        },
        Some(Value::String(s)) => {
            let t = s.trim();
            match t.strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
                Some(name) => TokenSource::Env(name.to_string()),
                None => TokenSource::Literal(t.chars().count()),
            }
        }
        _ => TokenSource::Missing,
    }
}

/// The length of `name`'s value as OpenClaw's dotenv parser reads it (an unquoted `#` starts a
/// comment, quotes are stripped, the last definition wins), without keeping the value.
pub fn env_value_len(text: &str, name: &str) -> Option<usize> {
    crate::domain::dotenv::get(text, name).map(|v| v.chars().count())
}

/// Everything the static checks need, read once.
#[derive(Debug, Clone)]
pub struct Facts {
    pub config_path: PathBuf,
    pub state_dir: PathBuf,
    pub config: Result<Option<FileFacts>, String>,
    pub state: Result<Option<FileFacts>, String>,
    pub env_file: Result<Option<FileFacts>, String>,
    /// Length of the token's value in `$STATE_DIR/.env`, and in this process's environment.
    pub token_len_env_file: Option<usize>,
    pub token_len_process: Option<usize>,
    pub uid: u32,
}

pub fn gather(config_path: &Path, state_dir: &Path, token: &TokenSource, uid: u32) -> Facts {
    let s = |p: &Path| stat(p).map_err(|e| e.to_string());
    let env_path = state_dir.join(".env");
    let name = match token {
        TokenSource::Env(n) => n.clone(),
        _ => TOKEN_ENV.to_string(),
    };
    // A FIFO or device as `.env` is not read (it would block); it counts as no file.
    let env_text = crate::edge::write::read_regular(&env_path)
        .ok()
        .flatten()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    Facts {
        config_path: config_path.to_path_buf(),
        state_dir: state_dir.to_path_buf(),
        config: s(config_path),
        state: s(state_dir),
        env_file: s(&env_path),
        token_len_env_file: env_value_len(&env_text, &name),
        token_len_process: std::env::var(&name).ok().map(|v| v.trim().chars().count()),
        uid,
    }
}

fn mode_outcome(
    id: &str,
    title: &str,
    path: &Path,
    facts: &Result<Option<FileFacts>, String>,
    want: u32,
    uid: u32,
    missing_ok: bool,
) -> Outcome {
    let o = match facts {
        Err(e) => Outcome::fail(
            id,
            Group::Static,
            title,
            format!("cannot inspect {}: {e}", path.display()),
        ),
        Ok(None) if missing_ok => Outcome::skip(
            id,
            Group::Static,
            title,
            format!("{} does not exist", path.display()),
        ),
        Ok(None) => Outcome::fail(
            id,
            Group::Static,
            title,
            format!("{} does not exist", path.display()),
        ),
        Ok(Some(f)) => {
            let loose = f.mode & 0o077;
            let mut problems = Vec::new();
            if loose != 0 {
                problems.push(format!(
                    "mode is {:o}, group or others have access (want {want:o})",
                    f.mode & 0o777
                ));
            }
            if f.uid != uid && f.uid != 0 {
                problems.push(format!("owned by uid {}, not by you (uid {uid})", f.uid));
            }
            if f.symlink {
                problems.push("it is a symlink (OpenClaw's atomic writes replace the link's target; the audit warns)".into());
            }
            if problems.is_empty() {
                Outcome::pass(
                    id,
                    Group::Static,
                    title,
                    format!("{} is {:o}", path.display(), f.mode & 0o777),
                )
            } else {
                Outcome::fail(
                    id,
                    Group::Static,
                    title,
                    format!("{}: {}", path.display(), problems.join("; ")),
                )
            }
        }
    };
    o.fix(format!("chmod {want:o} '{}'", path.display()))
        .doc("gateway/security/audit-checks.md")
}

/// The static outcomes, in checklist order.
pub fn judge(
    facts: &Facts,
    parsed: &Result<Value, String>,
    recognized: Option<&Recognized>,
    forced: Option<&str>,
    token: &TokenSource,
) -> Vec<Outcome> {
    let mut out = Vec::new();
    let cfg = &facts.config_path;
    out.push(match (&facts.config, parsed) {
        (Ok(None), _) => Outcome::fail(
            crate::model::check_ids::STATIC_CONFIG_PARSES,
            Group::Static,
            "the config exists and parses",
            format!("no config at {}", cfg.display()),
        )
        .fix("run `clawposture apply --threat private|group|public` (or pass --config)"),
        (_, Err(e)) => Outcome::fail(
            crate::model::check_ids::STATIC_CONFIG_PARSES,
            Group::Static,
            "the config exists and parses",
            format!("{}:{e}", cfg.display()),
        )
        .fix("fix the file (or restore a clawposture backup beside it)")
        .doc("gateway/configuration.md"),
        (_, Ok(_)) => Outcome::pass(
            crate::model::check_ids::STATIC_CONFIG_PARSES,
            Group::Static,
            "the config exists and parses",
            format!("{} is JSON5 OpenClaw can read", cfg.display()),
        ),
    });
    let parses = parsed.is_ok() && matches!(facts.config, Ok(Some(_)));
    out.push(match (parses, recognized) {
        (false, _) => Outcome::skip(
            crate::model::check_ids::STATIC_PRESET,
            Group::Static,
            "the config holds a clawposture preset",
            "the config could not be read",
        ),
        (true, None) => Outcome::fail(
            crate::model::check_ids::STATIC_PRESET,
            Group::Static,
            "the config holds a clawposture preset",
            "it matches no preset: more than half of every preset's values differ",
        )
        .fix(
            "run `clawposture plan --threat <preset>` to see the changes, then `clawposture apply`",
        ),
        (true, Some(r)) => Outcome::pass(
            crate::model::check_ids::STATIC_PRESET,
            Group::Static,
            "the config holds a clawposture preset",
            format!(
                "{} preset{}{}",
                r.preset,
                r.engine_label()
                    .map(|e| format!(", written for engine {e}"))
                    .unwrap_or_default(),
                if forced.is_some() {
                    " (as asked with --preset)"
                } else {
                    ""
                }
            ),
        ),
    });
    out.push(match (parses, recognized) {
        (true, Some(r)) if r.drift.is_empty() => Outcome::pass(
            crate::model::check_ids::STATIC_DRIFT,
            Group::Static,
            "every owned key holds the preset's value",
            format!("all {} owned values hold", r.owned),
        ),
        (true, Some(r)) => {
            let details = r
                .drift
                .iter()
                .map(|d| {
                    format!(
                        "{}: found {}, the {} preset wants {}",
                        d.key,
                        show(&d.found),
                        r.preset,
                        show(&d.wanted)
                    )
                })
                .collect();
            Outcome::fail(
                crate::model::check_ids::STATIC_DRIFT,
                Group::Static,
                "every owned key holds the preset's value",
                format!(
                    "{} of {} owned keys drifted: {}",
                    r.drift.len(),
                    r.owned,
                    r.drift
                        .iter()
                        .map(|d| d.key.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
            .details(details)
            .fix(drift_fix(r))
        }
        _ => Outcome::skip(
            crate::model::check_ids::STATIC_DRIFT,
            Group::Static,
            "every owned key holds the preset's value",
            "no preset to compare with",
        ),
    });
    out.push(mode_outcome(
        crate::model::check_ids::STATIC_CONFIG_PERMS,
        "the config is private (0600)",
        cfg,
        &facts.config,
        0o600,
        facts.uid,
        false,
    ));
    out.push(mode_outcome(
        crate::model::check_ids::STATIC_STATE_DIR_PERMS,
        "the state dir is private (0700)",
        &facts.state_dir,
        &facts.state,
        0o700,
        facts.uid,
        false,
    ));
    out.push(mode_outcome(
        crate::model::check_ids::STATIC_ENV_PERMS,
        "the .env file is private (0600)",
        &facts.state_dir.join(".env"),
        &facts.env_file,
        0o600,
        facts.uid,
        false,
    ));
    out.push(judge_token(facts, token).doc("gateway/configuration/environment-variables.md"));
    out
}

fn show(v: &Option<Value>) -> String {
    match v {
        None => "(unset)".into(),
        Some(v) => {
            let s = v.to_string();
            if s.chars().count() > 80 {
                format!("{}…", s.chars().take(79).collect::<String>())
            } else {
                s
            }
        }
    }
}

fn judge_token(facts: &Facts, token: &TokenSource) -> Outcome {
    let title = format!(
        "the Gateway token exists and has at least {MIN_TOKEN_LEN} characters (never shown)"
    );
    let id = crate::model::check_ids::STATIC_TOKEN;
    let env_path = facts.state_dir.join(".env");
    match token {
        TokenSource::Missing => Outcome::fail(id, Group::Static, title, "gateway.auth.token is not set: OpenClaw would make up a runtime-only token")
            .fix("run `clawposture apply` again: it stores a random token in $STATE_DIR/.env and refers to it"),
        TokenSource::Other(source) => Outcome::skip(id, Group::Static, title, format!("the token comes from a `{source}` SecretRef, which clawposture does not read")),
        TokenSource::Literal(n) => Outcome::fail(
            id,
            Group::Static,
            title,
            format!("the config holds a literal token ({n} characters{}); the preset keeps it in $STATE_DIR/.env", if *n < MIN_TOKEN_LEN { ", too short" } else { "" }),
        )
        .fix("run `clawposture apply` again: it moves the token into .env (clients keep working)"),
        TokenSource::Env(name) => match (facts.token_len_env_file, facts.token_len_process) {
            (Some(n), _) if n >= MIN_TOKEN_LEN => Outcome::pass(id, Group::Static, title, format!("{name} is set in {} ({n} characters)", env_path.display())),
            (Some(n), _) => Outcome::fail(id, Group::Static, title, format!("{name} in {} has only {n} characters (the audit flags gateway.token_too_short)", env_path.display()))
                .fix(format!("replace it with a long random value, e.g. `openssl rand -hex 32`, in {}", env_path.display())),
            (None, Some(n)) if n >= MIN_TOKEN_LEN => Outcome::pass(
                id,
                Group::Static,
                title,
                format!("{name} is not in {} but is set in this shell ({n} characters); the Gateway service must have it too", env_path.display()),
            ),
            (None, Some(n)) => Outcome::fail(id, Group::Static, title, format!("{name} is set in this shell with only {n} characters and is not in {}", env_path.display())),
            (None, None) => Outcome::fail(id, Group::Static, title, format!("the config refers to {name}, but {} does not define it", env_path.display()))
                .fix("run `clawposture apply` again: it writes a random token into .env"),
        },
    }
}

/// `agents.defaults.sandbox.docker.network` etc. for messages.
pub fn key(path: &[&str]) -> String {
    keypath::display(&path.iter().map(|s| s.to_string()).collect::<Vec<_>>())
}

/// The value an advanced setting drifted to, when it is one of its values.
fn drifted_to<S: Setting>(r: &Recognized) -> Option<S> {
    let d = r.drift.iter().find(|d| d.key == S::KEY)?;
    S::parse(d.found.as_ref()?.as_str()?).ok()
}

/// How to end the drift: restore the preset, or, for a value chosen on purpose with apply's
/// advanced flags, tell verify so.
fn drift_fix(r: &Recognized) -> String {
    let mut fix = format!(
        "run `clawposture apply --threat {}` to restore them (it shows the diff first)",
        r.preset
    );
    let chosen = Advanced {
        workspace_access: drifted_to(r),
        sandbox_network: drifted_to(r),
    }
    .flags();
    if !chosen.is_empty() {
        fix.push_str(&format!(
            "; if you chose this on purpose, say so: `clawposture verify {chosen}`"
        ));
    }
    fix
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn facts(config_mode: u32, env_len: Option<usize>) -> Facts {
        let f = |mode| {
            Ok(Some(FileFacts {
                mode,
                uid: 1000,
                symlink: false,
            }))
        };
        Facts {
            config_path: "/s/openclaw.json".into(),
            state_dir: "/s".into(),
            config: f(config_mode),
            state: f(0o700),
            env_file: f(0o600),
            token_len_env_file: env_len,
            token_len_process: None,
            uid: 1000,
        }
    }

    #[test]
    fn token_is_judged_by_length_and_never_printed() {
        let text = "A=1\nexport OPENCLAW_GATEWAY_TOKEN=\"abcdefghijklmnopqrstuvwxyz0123\"\n";
        assert_eq!(env_value_len(text, TOKEN_ENV), Some(30));
        assert_eq!(env_value_len("OPENCLAW_GATEWAY_TOKEN_X=1", TOKEN_ENV), None);
        // OpenClaw reads 12 characters here, not 31: verify says what OpenClaw sees.
        let cut = "OPENCLAW_GATEWAY_TOKEN=abcdefghijkl#mnopqrstuvwxyz012\n";
        assert_eq!(env_value_len(cut, TOKEN_ENV), Some(12));
        let src = token_source(
            &json!({"gateway": {"auth": {"token": {"source": "env", "provider": "default", "id": TOKEN_ENV}}}}),
        );
        assert_eq!(src, TokenSource::Env(TOKEN_ENV.into()));
        let o = judge_token(&facts(0o600, Some(64)), &src);
        assert_eq!(o.status, crate::model::checks::Status::Pass);
        let o = judge_token(&facts(0o600, Some(10)), &src);
        assert_eq!(o.status, crate::model::checks::Status::Fail);
        let lit = token_source(&json!({"gateway": {"auth": {"token": "supersecretvalue"}}}));
        let o = judge_token(&facts(0o600, None), &lit);
        assert!(!format!("{o:?}").contains("supersecretvalue"));
        assert_eq!(
            token_source(&json!({"gateway": {"auth": {"token": "${MY_TOKEN}"}}})),
            TokenSource::Env("MY_TOKEN".into())
        );
    }

    #[test]
    fn modes_must_be_private() {
        let f = facts(0o644, Some(64));
        let out = judge(&f, &Ok(json!({})), None, None, &TokenSource::Missing);
        let perms = out.iter().find(|o| o.id == "static.config_perms").unwrap();
        assert_eq!(perms.status, crate::model::checks::Status::Fail);
        assert!(perms.reason.contains("644"), "{}", perms.reason);
        let ok = judge(
            &facts(0o600, Some(64)),
            &Ok(json!({})),
            None,
            None,
            &TokenSource::Missing,
        );
        assert_eq!(
            ok.iter()
                .find(|o| o.id == "static.config_perms")
                .unwrap()
                .status,
            crate::model::checks::Status::Pass
        );
        assert_eq!(
            ok.iter().find(|o| o.id == "static.preset").unwrap().status,
            crate::model::checks::Status::Fail
        );
    }
}
