//! Where the OpenClaw config and state live, resolved the way OpenClaw resolves them.

use std::collections::HashMap;
use std::path::PathBuf;

use serde::Serialize;

/// The inputs, as plain data: flags and a snapshot of the environment variables.
#[derive(Debug, Clone, Default)]
pub struct PathInputs {
    pub config_flag: Option<PathBuf>,
    pub state_dir_flag: Option<PathBuf>,
    pub profile: Option<String>,
    pub env: HashMap<String, String>,
}

impl PathInputs {
    /// The variables that matter, read from this process.
    pub fn env_snapshot() -> HashMap<String, String> {
        [
            "OPENCLAW_CONFIG_PATH",
            "OPENCLAW_STATE_DIR",
            "OPENCLAW_HOME",
            "HOME",
            "USERPROFILE",
        ]
        .iter()
        .filter_map(|k| {
            std::env::var(k)
                .ok()
                .filter(|v| !v.is_empty())
                .map(|v| (k.to_string(), v))
        })
        .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resolved {
    pub config: PathBuf,
    /// Which rule picked the config path, for messages.
    pub config_source: String,
    pub state_dir: PathBuf,
    /// OpenClaw's `--profile NAME` this Gateway is (from `--openclaw-profile`, or a state dir
    /// named `.openclaw-NAME`): every command clawposture prints for it carries `--profile NAME`.
    pub profile: Option<String>,
}

fn home(env: &HashMap<String, String>) -> PathBuf {
    env.get("OPENCLAW_HOME")
        .or_else(|| env.get("HOME"))
        .or_else(|| env.get("USERPROFILE"))
        .map(PathBuf::from)
        .or_else(|| directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf()))
        .unwrap_or_else(|| PathBuf::from("."))
}

fn expand(path: &str, env: &HashMap<String, String>) -> PathBuf {
    match path.strip_prefix("~") {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => {
            home(env).join(rest.trim_start_matches('/'))
        }
        _ => PathBuf::from(path),
    }
}

/// Config, first found: `--config`; `--state-dir DIR` (`DIR/openclaw.json`, as
/// `OPENCLAW_STATE_DIR=DIR`; OPENCLAW_CONFIG_PATH still wins without a profile); `--openclaw-profile` (`~/.openclaw-NAME/openclaw.json`);
/// `OPENCLAW_CONFIG_PATH`; `$OPENCLAW_STATE_DIR/openclaw.json`; `$OPENCLAW_HOME/.openclaw/openclaw.json`;
/// `~/.openclaw/openclaw.json`. State dir: `--state-dir`, profile, `OPENCLAW_STATE_DIR`, `~/.openclaw`.
/// A profile names another Gateway, so it overrides the path variables of the current one.
pub fn resolve(inputs: &PathInputs) -> Resolved {
    let env = &inputs.env;
    let profile_dir = inputs
        .profile
        .as_ref()
        .map(|p| home(env).join(format!(".openclaw-{p}")));
    let state_dir = inputs
        .state_dir_flag
        .clone()
        .or_else(|| profile_dir.clone())
        .or_else(|| env.get("OPENCLAW_STATE_DIR").map(|s| expand(s, env)))
        .unwrap_or_else(|| home(env).join(".openclaw"));
    // `--state-dir DIR` means what `OPENCLAW_STATE_DIR=DIR` means: the config moves with it
    // (OpenClaw reads `$OPENCLAW_STATE_DIR/openclaw.json`), unless OPENCLAW_CONFIG_PATH names
    // another file, which OpenClaw would read instead. Beside a profile, the flag wins.
    let state_flag_config = inputs
        .state_dir_flag
        .as_ref()
        .filter(|_| inputs.profile.is_some() || !env.contains_key("OPENCLAW_CONFIG_PATH"));
    let (config, config_source) = if let Some(c) = &inputs.config_flag {
        (c.clone(), "--config".to_string())
    } else if let Some(dir) = state_flag_config {
        (dir.join("openclaw.json"), "--state-dir".to_string())
    } else if let (Some(dir), Some(p)) = (&profile_dir, &inputs.profile) {
        (dir.join("openclaw.json"), format!("--openclaw-profile {p}"))
    } else if let Some(c) = env.get("OPENCLAW_CONFIG_PATH") {
        (expand(c, env), "OPENCLAW_CONFIG_PATH".to_string())
    } else if let Some(s) = env.get("OPENCLAW_STATE_DIR") {
        (
            expand(s, env).join("openclaw.json"),
            "OPENCLAW_STATE_DIR".to_string(),
        )
    } else if env.contains_key("OPENCLAW_HOME") {
        (
            home(env).join(".openclaw").join("openclaw.json"),
            "OPENCLAW_HOME".to_string(),
        )
    } else {
        (
            home(env).join(".openclaw").join("openclaw.json"),
            "default".to_string(),
        )
    };
    let profile = inputs.profile.clone().or_else(|| {
        state_dir
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix(".openclaw-"))
            .filter(|n| !n.is_empty())
            .map(str::to_string)
    });
    Resolved {
        config,
        config_source,
        state_dir,
        profile,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(pairs: &[(&str, &str)]) -> PathInputs {
        PathInputs {
            env: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn precedence_follows_openclaw() {
        let mut i = inputs(&[
            ("HOME", "/h"),
            ("OPENCLAW_HOME", "/oh"),
            ("OPENCLAW_STATE_DIR", "~/st"),
            ("OPENCLAW_CONFIG_PATH", "~/c.json"),
        ]);
        assert_eq!(resolve(&i).config, PathBuf::from("/oh/c.json"));
        assert_eq!(resolve(&i).state_dir, PathBuf::from("/oh/st"));
        i.env.remove("OPENCLAW_CONFIG_PATH");
        assert_eq!(resolve(&i).config, PathBuf::from("/oh/st/openclaw.json"));
        i.env.remove("OPENCLAW_STATE_DIR");
        assert_eq!(
            resolve(&i).config,
            PathBuf::from("/oh/.openclaw/openclaw.json")
        );
        i.env.remove("OPENCLAW_HOME");
        let r = resolve(&i);
        assert_eq!(
            (r.config, r.config_source.as_str(), r.state_dir),
            (
                PathBuf::from("/h/.openclaw/openclaw.json"),
                "default",
                PathBuf::from("/h/.openclaw")
            )
        );
        i.profile = Some("public".into());
        i.env
            .insert("OPENCLAW_CONFIG_PATH".into(), "/x.json".into());
        let r = resolve(&i);
        assert_eq!(
            (r.config, r.state_dir),
            (
                PathBuf::from("/h/.openclaw-public/openclaw.json"),
                PathBuf::from("/h/.openclaw-public")
            )
        );
        i.config_flag = Some("/flag.json".into());
        assert_eq!(resolve(&i).config, PathBuf::from("/flag.json"));
    }

    #[test]
    fn state_dir_flag_moves_the_config_as_openclaw_state_dir_does() {
        let flag = |i: &mut PathInputs| i.state_dir_flag = Some("/srv/gw".into());
        let mut i = inputs(&[("HOME", "/h")]);
        flag(&mut i);
        let r = resolve(&i);
        assert_eq!(
            (r.config, r.config_source.as_str(), r.state_dir),
            (
                PathBuf::from("/srv/gw/openclaw.json"),
                "--state-dir",
                PathBuf::from("/srv/gw")
            )
        );
        // The same as the variable: both name the same files.
        let by_env = resolve(&inputs(&[
            ("HOME", "/h"),
            ("OPENCLAW_STATE_DIR", "/srv/gw"),
        ]));
        assert_eq!(by_env.config, PathBuf::from("/srv/gw/openclaw.json"));
        assert_eq!(by_env.state_dir, PathBuf::from("/srv/gw"));
        // The flag beats the variable, and OPENCLAW_CONFIG_PATH still names the config.
        let mut i = inputs(&[("HOME", "/h"), ("OPENCLAW_STATE_DIR", "/other")]);
        flag(&mut i);
        assert_eq!(resolve(&i).config, PathBuf::from("/srv/gw/openclaw.json"));
        i.env
            .insert("OPENCLAW_CONFIG_PATH".into(), "/c.json".into());
        assert_eq!(resolve(&i).config, PathBuf::from("/c.json"));
        i.config_flag = Some("/flag.json".into());
        assert_eq!(resolve(&i).config, PathBuf::from("/flag.json"));
    }
}
