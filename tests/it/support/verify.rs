//! Helpers shared by the `verify` integration tests: the real engines from
//! `.ci/support/engines.sh`, apply + verify in a throwaway home, and reading the JSON report.

use super::engines as engines_common;
#[allow(unused_imports)] // each test crate uses a different subset
pub use engines_common::{engines_env as engines, skipped};

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// Every static item: a freshly applied config passes them all.
pub const STATIC_IDS: [&str; 7] = [
    "static.config_parses",
    "static.preset",
    "static.drift",
    "static.config_perms",
    "static.state_dir_perms",
    "static.env_perms",
    "static.token",
];

pub const TELEGRAM: &str = r#"{"channels": {"telegram": {"botToken": {"source": "env", "provider": "default", "id": "TELEGRAM_BOT_TOKEN"}}}}"#;

/// One engine to test against: the `--engine` label apply gets and its endpoint.
#[derive(Debug, Clone)]
pub struct Target {
    pub label: &'static str,
    pub endpoint: String,
    pub podman: bool,
}

/// The three engines the issue names: rootful Docker, rootless Docker, rootless Podman.
pub fn targets(env: &HashMap<String, String>) -> Vec<Target> {
    let get = |k: &str| {
        env.get(k)
            .cloned()
            .unwrap_or_else(|| panic!("{k} missing from engines.env"))
    };
    vec![
        Target {
            label: "docker",
            endpoint: get("CLAWPOSTURE_DOCKER_ROOTFUL"),
            podman: false,
        },
        Target {
            label: "docker-rootless",
            endpoint: get("CLAWPOSTURE_DOCKER_ROOTLESS"),
            podman: false,
        },
        Target {
            label: "podman-rootless",
            endpoint: get("CLAWPOSTURE_PODMAN_ROOTLESS"),
            podman: true,
        },
    ]
}

/// Answers that give every preset its full shape (owner, a group chat, a member).
pub fn answers(threat: &str) -> Vec<&'static str> {
    let mut a = vec!["--owner", "telegram:123456789"];
    if threat == "group" {
        a.extend([
            "--group",
            "telegram:-1001234567890",
            "--member",
            "telegram:222222222",
        ]);
    }
    a
}

pub fn probe_image(env: &HashMap<String, String>) -> String {
    env.get("CLAWPOSTURE_PROBE_IMAGE")
        .cloned()
        .unwrap_or_else(|| "clawposture-probe:latest".into())
}

/// A throwaway home with its own config and state dir; the caller's environment stays out.
pub struct Home {
    pub dir: tempfile::TempDir,
}

impl Home {
    pub fn new() -> Home {
        Home {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn state(&self) -> PathBuf {
        self.path("state")
    }

    pub fn config(&self) -> PathBuf {
        self.state().join("openclaw.json")
    }

    pub fn put_config(&self, text: &str) {
        std::fs::create_dir_all(self.state()).expect("mkdir");
        std::fs::write(self.config(), text).expect("write config");
    }

    /// A user preset dir whose `<threat>.toml` is the built-in preset with the sandbox image
    /// replaced (the test engines have only the locally imported probe image, and the real
    /// sandbox image cannot be built offline).
    pub fn preset_with_image(&self, threat: &str, image: &str) {
        let src = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("presets")
            .join(format!("{threat}.toml"));
        let text = std::fs::read_to_string(&src).expect("built-in preset");
        assert!(
            text.contains("image = \"openclaw-sandbox:bookworm-slim\""),
            "{threat}.toml names the default image"
        );
        let dir = self.path("xdg/clawposture/presets");
        std::fs::create_dir_all(&dir).expect("mkdir presets");
        std::fs::write(
            dir.join(format!("{threat}.toml")),
            text.replace(
                "image = \"openclaw-sandbox:bookworm-slim\"",
                &format!("image = \"{image}\""),
            ),
        )
        .expect("write preset");
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_clawposture"));
        c.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.path("home"))
            .env("XDG_CONFIG_HOME", self.path("xdg"))
            .env("XDG_RUNTIME_DIR", self.path("run"))
            .stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("run clawposture")
    }

    /// `clawposture ARGS --config <this home's> --state-dir <this home's>`.
    pub fn run_here(&self, args: &[&str]) -> Output {
        let config = self.config();
        let state = self.state();
        let mut all = args.to_vec();
        all.extend([
            "--config",
            config.to_str().expect("utf-8"),
            "--state-dir",
            state.to_str().expect("utf-8"),
        ]);
        self.run(&all)
    }

    /// `clawposture apply --yes` with the given answers, into this home's config and state dir.
    pub fn apply(&self, threat: &str, engine: &str, extra: &[&str]) {
        let config = self.config();
        let state = self.state();
        let mut args = vec![
            "apply",
            "--yes",
            "--threat",
            threat,
            "--engine",
            engine,
            "--accept-risk",
            "--same-gateway",
        ];
        // The config is written for `engine` as named; the tests that need it running point
        // verify at it themselves.
        if engine != "none" {
            args.push("--no-detect");
        }
        args.extend([
            "--config",
            config.to_str().expect("utf-8"),
            "--state-dir",
            state.to_str().expect("utf-8"),
        ]);
        args.extend(extra);
        let out = self.run(&args);
        assert!(
            crate::support::homes::applied(&out),
            "apply {threat} {engine} failed: {}{}",
            stdout(&out),
            stderr(&out)
        );
    }

    /// Edit the written config as JSON.
    pub fn edit(&self, f: impl FnOnce(&mut Value)) {
        let text = std::fs::read_to_string(self.config()).expect("config");
        let mut v: Value =
            jsonc_parser::parse_to_serde_value(&text, &Default::default()).expect("config parses");
        f(&mut v);
        std::fs::write(
            self.config(),
            serde_json::to_string_pretty(&v).expect("json"),
        )
        .expect("write config");
    }

    /// `clawposture verify --json ARGS` on this home's config; (exit code, report, stderr).
    pub fn verify(&self, args: &[&str]) -> Verified {
        self.verify_with(args, &[])
    }

    /// The `clawposture verify --json ARGS` command on this home's config, not yet run.
    pub fn verify_cmd(&self, args: &[&str]) -> Command {
        let config = self.config();
        let state = self.state();
        let mut all = vec![
            "verify",
            "--json",
            "--config",
            config.to_str().expect("utf-8"),
            "--state-dir",
            state.to_str().expect("utf-8"),
        ];
        all.extend(args);
        self.cmd(&all)
    }

    pub fn verify_with(&self, args: &[&str], env: &[(&str, &str)]) -> Verified {
        let mut c = self.verify_cmd(args);
        for (k, v) in env {
            c.env(k, v);
        }
        let out = c.output().expect("run verify");
        let text = stdout(&out);
        let report: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("verify printed no JSON ({e}):\n{text}\n{}", stderr(&out)));
        Verified {
            code: out.status.code(),
            report,
            stderr: stderr(&out),
        }
    }
}

pub struct Verified {
    pub code: Option<i32>,
    pub report: Value,
    pub stderr: String,
}

impl Verified {
    pub fn item(&self, id: &str) -> &Value {
        self.report["items"]
            .as_array()
            .and_then(|items| items.iter().find(|i| i["id"] == id))
            .unwrap_or_else(|| panic!("no item {id} in {}", self.pretty()))
    }

    pub fn status(&self, id: &str) -> String {
        self.item(id)["status"].as_str().unwrap_or("?").to_string()
    }

    pub fn ids(&self, status: &str) -> Vec<String> {
        self.report["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|i| i["status"] == status)
            .map(|i| i["id"].as_str().unwrap_or("?").to_string())
            .collect()
    }

    /// Reason, fix and details of an item as one string, for `contains` assertions.
    pub fn text(&self, id: &str) -> String {
        let i = self.item(id);
        format!(
            "{} | {} | {}",
            i["reason"].as_str().unwrap_or(""),
            i["fix"].as_str().unwrap_or(""),
            i["details"]
        )
    }

    pub fn pretty(&self) -> String {
        serde_json::to_string_pretty(&self.report).unwrap_or_default()
    }

    /// Item `id` has `status`, and its [`Verified::text`] says `says`.
    pub fn assert_item(&self, id: &str, status: &str, says: &str) {
        let text = self.text(id);
        assert_eq!(self.status(id), status, "{id}: {text}");
        assert!(text.contains(says), "{id} does not say {says:?}: {text}");
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
