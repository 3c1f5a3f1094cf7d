//! Docker CLI contexts, read the way the docker CLI reads them (bollard does not):
//! `currentContext` in `<config dir>/config.json`, the endpoint in
//! `<config dir>/contexts/meta/<sha256(name)>/meta.json` → `Endpoints.docker.Host`.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The docker CLI's config dir: `$DOCKER_CONFIG`, else `~/.docker`.
pub fn config_dir(docker_config: Option<&Path>, home: Option<&Path>) -> Option<PathBuf> {
    docker_config
        .map(Path::to_path_buf)
        .or_else(|| home.map(|h| h.join(".docker")))
}

/// `currentContext` from `config.json`; None when unset, empty, or the file is absent.
pub fn current_context(config_dir: &Path) -> Result<Option<String>, String> {
    let path = config_dir.join("config.json");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    current_context_from_json(&text).map_err(|e| format!("{}: {e}", path.display()))
}

pub fn current_context_from_json(text: &str) -> Result<Option<String>, String> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    Ok(v.get("currentContext")
        .and_then(|c| c.as_str())
        .filter(|c| !c.is_empty())
        .map(str::to_string))
}

/// The directory name the docker CLI uses for a context: hex sha256 of its name.
pub fn meta_dir_name(context: &str) -> String {
    let digest = Sha256::digest(context.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The docker endpoint of a named context. "default" is not stored on disk: it means
/// DOCKER_HOST or the default socket, so callers handle it before asking here.
pub fn context_endpoint(config_dir: &Path, context: &str) -> Result<String, String> {
    let path = config_dir
        .join("contexts/meta")
        .join(meta_dir_name(context))
        .join("meta.json");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            format!(
                "context \"{context}\" not found ({} missing)",
                path.display()
            )
        } else {
            format!("cannot read {}: {e}", path.display())
        }
    })?;
    endpoint_from_meta(&text).map_err(|e| format!("{}: {e}", path.display()))
}

pub fn endpoint_from_meta(text: &str) -> Result<String, String> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    v.pointer("/Endpoints/docker/Host")
        .and_then(|h| h.as_str())
        .filter(|h| !h.is_empty())
        .map(str::to_string)
        .ok_or_else(|| "no Endpoints.docker.Host".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_dir_is_sha256_of_the_name() {
        // The docker CLI's own digest for "default" (digest.FromString("default")).
        assert_eq!(
            meta_dir_name("default"),
            "37a8eec1ce19687d132fe29051dca629d164e2c4958ba141d5f4133a33f0688f"
        );
    }

    #[test]
    fn reads_endpoint_and_current_context() {
        let meta = r#"{"Name":"rootless","Metadata":{"Description":"Rootless mode"},
            "Endpoints":{"docker":{"Host":"unix:///run/user/1000/docker.sock","SkipTLSVerify":false}}}"#;
        assert_eq!(
            endpoint_from_meta(meta).as_deref(),
            Ok("unix:///run/user/1000/docker.sock")
        );
        assert_eq!(
            current_context_from_json(r#"{"auths":{},"currentContext":"rootless"}"#),
            Ok(Some("rootless".to_string()))
        );
        assert_eq!(current_context_from_json(r#"{"auths":{}}"#), Ok(None));
        assert!(endpoint_from_meta(r#"{"Endpoints":{}}"#).is_err());
    }
}
