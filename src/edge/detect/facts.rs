//! Pure interpretation of engine answers (`/version`, `/info`, libpod info) into report fields.
//! No I/O here, so recorded payloads of engines that cannot run on this machine test it too.

use bollard::models::SystemInfo;
use serde_json::Value;

use crate::model::detection::{EngineReport, Security};
use crate::model::environment::EngineKind;

/// What `/version` (unversioned) tells: enough to pick the kind and negotiate the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionFacts {
    pub kind: EngineKind,
    pub version: Option<String>,
    pub api_version: Option<String>,
    pub platform_name: Option<String>,
}

/// Read from a JSON value rather than bollard's `SystemVersion`: a `/version` answer is the one
/// thing that must parse on every engine, and its `Components[].Details` vary in shape.
pub fn version_facts(v: &Value) -> Option<VersionFacts> {
    let text = |p: &str| {
        v.pointer(p)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    // Anything answering /version with neither field is not a container engine.
    if v.get("Version").is_none() && v.get("Components").is_none() {
        return None;
    }
    let components = v.get("Components").and_then(Value::as_array);
    let podman = components
        .into_iter()
        .flatten()
        .find(|c| c.get("Name").and_then(Value::as_str) == Some("Podman Engine"));
    let kind = if podman.is_some() {
        EngineKind::Podman
    } else {
        EngineKind::Docker
    };
    let version = podman
        .and_then(|c| c.get("Version").and_then(Value::as_str))
        .map(str::to_string)
        .or_else(|| text("/Version"));
    Some(VersionFacts {
        kind,
        version,
        api_version: text("/ApiVersion"),
        platform_name: text("/Platform/Name"),
    })
}

/// What `/_ping`'s headers tell, in well under a millisecond: Podman adds `Libpod-Api-Version`,
/// both send `Api-Version`, and `Server` carries the engine's version (`Docker/20.10.24 (linux)`,
/// `Libpod/4.3.1 (linux)`). Podman 4.3 spends ~0.6 s on `/version` (it runs conmon and the OCI
/// runtime to report their versions), so `/_ping` is the identification and `/version` only the
/// fallback for engines whose ping says nothing.
pub fn ping_facts(header: &dyn Fn(&str) -> Option<String>) -> Option<VersionFacts> {
    let api_version = header("api-version").filter(|s| !s.is_empty());
    let libpod = header("libpod-api-version").filter(|s| !s.is_empty());
    let server = header("server").unwrap_or_default();
    let server_version = server
        .split_whitespace()
        .next()
        .and_then(|p| p.split_once('/'))
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty());
    let kind = match (&libpod, &api_version) {
        (Some(_), _) => EngineKind::Podman,
        (None, Some(_)) => EngineKind::Docker,
        (None, None) => return None,
    };
    Some(VersionFacts {
        kind,
        version: server_version.or(libpod),
        api_version,
        platform_name: None,
    })
}

/// The API version to talk to this engine: its own, capped at what bollard knows.
pub fn negotiated_api(api_version: Option<&str>) -> (usize, usize) {
    const CAP: (usize, usize) = (1, 53);
    // Docker 20.10 and Podman 4/5 all speak 1.41: a safe guess when the engine does not say.
    const FALLBACK: (usize, usize) = (1, 41);
    let parsed = api_version.and_then(|s| {
        let (maj, min) = s.trim().split_once('.')?;
        Some((maj.parse().ok()?, min.parse().ok()?))
    });
    parsed.map(|v| v.min(CAP)).unwrap_or(FALLBACK)
}

/// SecurityOptions entries are comma-separated `key=value` lists (`name=seccomp,profile=builtin`);
/// engines before API 1.26 sent bare names (`seccomp`), which are accepted too.
pub fn parse_security_options<S: AsRef<str>>(options: &[S]) -> Security {
    let mut s = Security::default();
    for opt in options {
        let mut name = None;
        let mut profile = None;
        for field in opt.as_ref().split(',') {
            match field.split_once('=') {
                Some(("name", v)) => name = Some(v.trim()),
                Some(("profile", v)) => profile = Some(v.trim().to_string()),
                Some(_) => {}
                None => name = name.or(Some(field.trim())),
            }
        }
        match name {
            Some("seccomp") => {
                // An unconfined profile is listed but filters nothing.
                s.seccomp = profile.as_deref() != Some("unconfined");
                s.seccomp_profile = profile;
            }
            Some("apparmor") => s.apparmor = true,
            Some("selinux") => s.selinux = true,
            Some("userns") => s.userns = true,
            Some("rootless") => s.rootless = true,
            Some("cgroupns") => s.cgroupns = true,
            Some("no-new-privileges") => s.no_new_privileges = true,
            _ => {}
        }
    }
    s
}

/// Recognisable VM-backed setups, from `/info` and `/version` fields.
pub fn platform(
    operating_system: Option<&str>,
    kernel: Option<&str>,
    host_name: Option<&str>,
    platform_name: Option<&str>,
) -> Option<String> {
    let os = operating_system.unwrap_or_default();
    let kernel = kernel.unwrap_or_default();
    let desktop = os == "Docker Desktop"
        || platform_name.is_some_and(|p| p.starts_with("Docker Desktop"))
        || kernel.contains("linuxkit");
    let wsl = kernel.contains("microsoft-standard-WSL2") || kernel.ends_with("-WSL2");
    match (desktop, wsl) {
        (true, true) => return Some("Docker Desktop (WSL 2)".into()),
        (true, false) => return Some("Docker Desktop".into()),
        (false, true) => return Some("WSL 2".into()),
        _ => {}
    }
    if os.contains("OrbStack") || kernel.contains("orbstack") {
        return Some("OrbStack".into());
    }
    if host_name.is_some_and(|n| n == "colima" || n.starts_with("colima-")) {
        return Some("colima".into());
    }
    None
}

/// Fill the report from Docker's `/info`. (Podman's compatible `/info` is not used: it omits
/// rootless, lists every runtime it knows of whether installed or not, and takes ~0.4 s.)
pub fn apply_info(
    r: &mut EngineReport,
    info: &SystemInfo,
    kind: EngineKind,
    platform_name: Option<&str>,
) {
    let security = parse_security_options(info.security_options.as_deref().unwrap_or_default());
    if kind == EngineKind::Docker {
        r.rootless = Some(security.rootless);
    }
    let mut runtimes: Vec<(String, Option<String>)> = info
        .runtimes
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.path.clone()))
        .collect();
    runtimes.sort();
    r.gvisor = runtimes.iter().any(|(name, path)| {
        name == "runsc" || path.as_deref().is_some_and(|p| p.ends_with("runsc"))
    });
    r.runtimes = runtimes.into_iter().map(|(k, _)| k).collect();
    r.default_runtime = info.default_runtime.clone();
    r.daemon_id = info.id.clone().filter(|id| !id.is_empty());
    r.cgroup_version = info
        .cgroup_version
        .as_ref()
        .map(|v| v.to_string())
        .filter(|v| !v.is_empty());
    r.operating_system = info.operating_system.clone();
    r.platform = platform(
        info.operating_system.as_deref(),
        info.kernel_version.as_deref(),
        info.name.as_deref(),
        platform_name,
    );
    if r.version.is_none() {
        r.version = info.server_version.clone();
    }
    let mut security = security;
    security.userns |= r.rootless == Some(true);
    r.security = Some(security);
}

/// Podman's libpod info (`GET /v4.0.0/libpod/info`), its one source of facts:
/// `host.security.rootless` (which the Docker-compatible `/info` leaves out), the LSM flags,
/// cgroup version, and the OCI runtime actually in use.
pub fn apply_libpod_info(r: &mut EngineReport, v: &Value) {
    let text = |p: &str| {
        v.pointer(p)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let sec = v.pointer("/host/security");
    let flag = |k: &str| sec.and_then(|s| s.get(k)).and_then(Value::as_bool);
    if let Some(rootless) = flag("rootless") {
        r.rootless = Some(rootless);
    }
    let s = r.security.get_or_insert_with(Security::default);
    s.apparmor |= flag("apparmorEnabled") == Some(true);
    s.selinux |= flag("selinuxEnabled") == Some(true);
    s.seccomp |= flag("seccompEnabled") == Some(true);
    s.rootless |= flag("rootless") == Some(true);
    s.userns |= r.rootless == Some(true);
    // "v1" / "v2" in libpod, "1" / "2" in Docker's /info.
    r.cgroup_version = text("/host/cgroupVersion").map(|c| c.trim_start_matches('v').to_string());
    if let Some(rt) = text("/host/ociRuntime/name") {
        r.gvisor = rt == "runsc";
        r.runtimes = vec![rt.clone()];
        r.default_runtime = Some(rt);
    }
    if let Some(version) = text("/version/Version") {
        r.version = Some(version);
    }
    r.operating_system = match (
        text("/host/distribution/distribution"),
        text("/host/distribution/version"),
    ) {
        (Some(d), Some(v)) => Some(format!("{d} {v}")),
        (d, _) => d,
    };
    r.platform = platform(
        None,
        text("/host/kernel").as_deref(),
        text("/host/hostname").as_deref(),
        None,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn security_options_split_on_commas_then_equals() {
        let s = parse_security_options(&[
            "name=apparmor",
            "name=seccomp,profile=builtin",
            "name=rootless",
            "name=cgroupns",
        ]);
        assert!(s.apparmor && s.seccomp && s.rootless && s.cgroupns);
        assert_eq!(s.seccomp_profile.as_deref(), Some("builtin"));
        assert!(!s.selinux && !s.userns && !s.no_new_privileges);
    }

    #[test]
    fn security_options_old_bare_names_and_unconfined() {
        let s = parse_security_options(&["seccomp", "selinux", "userns"]);
        assert!(s.seccomp && s.selinux && s.userns && !s.rootless);
        let s =
            parse_security_options(&["name=seccomp,profile=unconfined", "name=no-new-privileges"]);
        assert!(!s.seccomp && s.no_new_privileges);
        assert_eq!(s.seccomp_profile.as_deref(), Some("unconfined"));
        assert_eq!(parse_security_options::<&str>(&[]), Security::default());
    }

    #[test]
    fn api_negotiation_caps_and_falls_back() {
        assert_eq!(negotiated_api(Some("1.41")), (1, 41));
        assert_eq!(negotiated_api(Some("1.99")), (1, 53));
        assert_eq!(negotiated_api(Some("garbage")), (1, 41));
        assert_eq!(negotiated_api(None), (1, 41));
    }

    #[test]
    fn platforms() {
        let p = |os, k, n| platform(Some(os), Some(k), Some(n), None);
        assert_eq!(
            p("Docker Desktop", "6.10.14-linuxkit", "docker-desktop").as_deref(),
            Some("Docker Desktop")
        );
        assert_eq!(
            p(
                "Docker Desktop",
                "5.15.167.4-microsoft-standard-WSL2",
                "docker-desktop"
            )
            .as_deref(),
            Some("Docker Desktop (WSL 2)")
        );
        assert_eq!(
            p(
                "Ubuntu 22.04.5 LTS",
                "5.15.167.4-microsoft-standard-WSL2",
                "pc"
            )
            .as_deref(),
            Some("WSL 2")
        );
        assert_eq!(
            p("Ubuntu 24.04.1 LTS", "6.8.0-50-generic", "colima").as_deref(),
            Some("colima")
        );
        assert_eq!(
            p("Debian GNU/Linux 12 (bookworm)", "6.1.0-28-amd64", "host"),
            None
        );
    }
}
