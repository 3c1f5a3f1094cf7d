//! The real OpenClaw CLI as the tests run it: read-only on a throwaway home's config, in an
//! empty network namespace, offline, with Node's compile cache beside the wrapper (only speed).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// A throwaway home with a config and a state dir (`homes::Sandbox`, `verify::Home`).
pub trait Homed {
    fn config_path(&self) -> PathBuf;
    fn state_path(&self) -> PathBuf;
}

impl Homed for super::homes::Sandbox {
    fn config_path(&self) -> PathBuf {
        self.config()
    }
    fn state_path(&self) -> PathBuf {
        self.state()
    }
}

impl Homed for super::verify::Home {
    fn config_path(&self) -> PathBuf {
        self.config()
    }
    fn state_path(&self) -> PathBuf {
        self.state()
    }
}

/// Node's compile cache beside the wrapper (only speed).
pub fn compile_cache(oc: &Path) -> Option<String> {
    oc.parent()
        .and_then(Path::parent)
        .map(|d| d.join("compile-cache"))
        .filter(|c| c.is_dir())
        .map(|c| c.display().to_string())
}

/// The environment to hand `clawposture verify --openclaw` (the compile cache, if any).
pub fn verify_env(oc: &Path) -> Vec<(String, String)> {
    compile_cache(oc)
        .map(|cc| ("NODE_COMPILE_CACHE".to_string(), cc))
        .into_iter()
        .collect()
}

/// `openclaw ARGS` on a home's config, read-only, in an empty network namespace.
pub fn oc_cmd(h: &impl Homed, oc: &Path, args: &[&str]) -> Command {
    let state = h.state_path();
    let mut c = Command::new("unshare");
    c.arg("-n")
        .arg(oc)
        .args(args)
        .env("OPENCLAW_CONFIG_PATH", h.config_path())
        .env("OPENCLAW_STATE_DIR", &state)
        .env("OPENCLAW_CONFIG_READONLY", "1")
        .env("OPENCLAW_NO_AUTO_UPDATE", "1")
        .env("OPENCLAW_OFFLINE", "1")
        .env("npm_config_offline", "true")
        .current_dir(&state)
        .stdin(Stdio::null());
    if let Some(cc) = compile_cache(oc) {
        c.env("NODE_COMPILE_CACHE", cc);
    }
    c
}

/// The first JSON object OpenClaw printed on stdout (it may print lines before it).
pub fn try_json_of(out: &Output) -> Result<Value, String> {
    let text = String::from_utf8_lossy(&out.stdout);
    let err = || format!("no JSON: {text}{}", String::from_utf8_lossy(&out.stderr));
    let at = text.find('{').ok_or_else(err)?;
    serde_json::Deserializer::from_str(&text[at..])
        .into_iter::<Value>()
        .next()
        .and_then(Result::ok)
        .ok_or_else(err)
}

pub fn json_of(out: &Output) -> Value {
    try_json_of(out).unwrap_or_else(|e| panic!("{e}"))
}

pub fn namespaces_work() -> bool {
    Command::new("unshare")
        .args(["-n", "true"])
        .status()
        .is_ok_and(|s| s.success())
}
