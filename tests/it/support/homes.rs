//! Shared helpers for the integration tests: run the real binary in a throwaway home with the
//! caller's OpenClaw variables kept out.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// The config with this sandbox's own directory (in the policy file's absolute path)
    /// named `<home>`, so files written in different sandboxes compare byte for byte.
    pub fn config_text(&self) -> std::io::Result<String> {
        Ok(std::fs::read_to_string(self.config())?
            .replace(&self.dir.path().display().to_string(), "<home>"))
    }

    pub fn home(&self) -> PathBuf {
        self.path("home")
    }

    /// The default config path inside this sandbox's home.
    pub fn config(&self) -> PathBuf {
        self.home().join(".openclaw/openclaw.json")
    }

    pub fn state(&self) -> PathBuf {
        self.home().join(".openclaw")
    }

    pub fn put_config(&self, text: &str) -> PathBuf {
        let p = self.config();
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, text).expect("write config");
        p
    }

    pub fn fixture(&self, name: &str) -> PathBuf {
        self.put_config(&fixture(name))
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_clawposture"));
        c.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.home())
            .env("XDG_CONFIG_HOME", self.path("xdg"))
            .stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("run clawposture")
    }
}

pub fn fixture(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/configs")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Parse JSON5 the way clawposture and OpenClaw read it.
pub fn json5(text: &str) -> serde_json::Value {
    jsonc_parser::parse_to_serde_value(text, &Default::default()).expect("valid JSON5")
}

pub fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777
}

/// The real OpenClaw CLI for the conformance tiers: `$CLAWPOSTURE_OPENCLAW`. Without it the tier
/// is skipped with a visible message, except in CI, where it must run.
pub fn openclaw_or_skip(tier: &str) -> Option<PathBuf> {
    match std::env::var_os("CLAWPOSTURE_OPENCLAW") {
        Some(p) if !p.is_empty() => Some(PathBuf::from(p)),
        _ if std::env::var_os("CI").is_some() => {
            panic!("{tier}: CLAWPOSTURE_OPENCLAW is not set; .ci/run installs OpenClaw and sets it")
        }
        _ => {
            eprintln!(
                "SKIPPED {tier}: set CLAWPOSTURE_OPENCLAW to an openclaw wrapper (bash .ci/support/openclaw-setup.sh prints one)"
            );
            None
        }
    }
}

/// apply finished its work: exit 0, or exit 1 because its own check after writing failed only
/// on engine items (these tests name engines with `--engine` that no daemon here serves; the
/// exit code says the posture is not proven on this machine, as it must).
pub fn applied(out: &std::process::Output) -> bool {
    applied_but(out, &[])
}

/// As [`applied`], and the items `also` may fail too (e.g. a symlinked file, which verify
/// reports as OpenClaw's audit does).
pub fn applied_but(out: &std::process::Output, also: &[&str]) -> bool {
    let printed = String::from_utf8_lossy(&out.stdout);
    let fails: Vec<String> = match serde_json::from_str::<serde_json::Value>(&printed) {
        Ok(v) => v["checks"]["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|o| o["status"] == "fail")
            .map(|o| format!(" {}", o["id"].as_str().unwrap_or("")))
            .collect(),
        Err(_) => printed
            .lines()
            .filter(|l| l.trim_start().starts_with("FAIL "))
            .map(str::to_string)
            .collect(),
    };
    match out.status.code() {
        Some(0) => true,
        Some(1) => {
            !fails.is_empty()
                && fails.iter().all(|l| {
                    l.contains(" engine.") || also.iter().any(|id| l.contains(&format!(" {id}")))
                })
        }
        _ => false,
    }
}
