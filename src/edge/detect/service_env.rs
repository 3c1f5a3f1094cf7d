//! The Gateway service's environment, read from what is installed: the systemd user unit
//! OpenClaw writes (`~/.config/systemd/user/openclaw-gateway[-<profile>].service`, its drop-ins
//! and `EnvironmentFile=`s), else its LaunchAgent (`~/Library/LaunchAgents/ai.openclaw.gateway.plist`,
//! or `ai.openclaw.<profile>.plist` for a profile), then `$STATE_DIR/.env`; and the Docker
//! endpoint the service's docker CLI reaches with it. Parsing and precedence are in
//! `domain::service_env`.

use std::path::{Path, PathBuf};

use super::context;
use crate::domain::service_env::{self as parse, Layer};
use crate::model::detect_options::DetectOptions;
use crate::model::gateway_env::GatewayEnv;

/// launchd's PATH when a plist sets none; systemd's user manager default.
const LAUNCHD_PATH: &str = "/usr/bin:/bin:/usr/sbin:/sbin";
const SYSTEMD_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

pub fn resolve(opts: &DetectOptions) -> GatewayEnv {
    let home = opts.home.as_deref();
    let mut layers = Vec::new();
    let mut notes = Vec::new();
    let mut definition = None;
    let mut default_path = None;
    if let Some(unit) = home.and_then(systemd_unit) {
        definition = Some(unit.display().to_string());
        default_path = Some(SYSTEMD_PATH);
        unit_layers(&unit, home, &mut layers, &mut notes);
    } else if let Some(plist) = home.and_then(launch_agent) {
        definition = Some(plist.display().to_string());
        default_path = Some(LAUNCHD_PATH);
        match std::fs::read_to_string(&plist)
            .map_err(|e| e.to_string())
            .and_then(|t| parse::parse_plist_env(&t))
        {
            Ok(vars) => layers.push(Layer {
                from: format!("EnvironmentVariables in {}", plist.display()),
                vars,
                fills_only: false,
            }),
            Err(e) => notes.push(format!("{}: not read: {e}", plist.display())),
        }
    }
    if let Some(dir) = &opts.state_dir {
        let env = dir.join(".env");
        if let Ok(text) = std::fs::read_to_string(&env) {
            layers.push(Layer {
                from: "$STATE_DIR/.env".into(),
                vars: crate::domain::dotenv::parse(&text),
                fills_only: true,
            });
        }
    }
    let vars = parse::merge(&layers);
    let mut g = GatewayEnv {
        definition,
        vars,
        ..GatewayEnv::default()
    };
    (g.endpoint, g.because) = reach(&g, opts);
    if let Some(default_path) = default_path {
        let path = g
            .var("PATH")
            .map_or(default_path.to_string(), |v| v.value.clone());
        let elsewhere: Vec<String> = home
            .map(|h| {
                [".docker/bin", ".orbstack/bin", ".rd/bin"]
                    .iter()
                    .map(|d| h.join(d).display().to_string())
                    .collect()
            })
            .unwrap_or_default();
        let has_docker = |d: &str| {
            let dir = if elsewhere.iter().any(|e| e == d) {
                PathBuf::from(d)
            } else {
                opts.sys(d)
            };
            dir.join("docker").is_file()
        };
        notes.extend(parse::docker_off_path(&path, &elsewhere, has_docker));
    }
    g.notes = notes;
    g
}

/// The service's docker CLI: DOCKER_HOST, else DOCKER_CONTEXT, else `currentContext` in its
/// config dir (DOCKER_CONFIG or ~/.docker), else the default socket.
fn reach(g: &GatewayEnv, opts: &DetectOptions) -> (String, String) {
    if let Some(h) = g.var("DOCKER_HOST") {
        return (h.value.clone(), format!("DOCKER_HOST in {}", h.from));
    }
    let config_dir = context::config_dir(
        g.var("DOCKER_CONFIG").map(|v| Path::new(&v.value)),
        opts.home.as_deref(),
    );
    let named = g
        .var("DOCKER_CONTEXT")
        .map(|v| (v.value.clone(), format!(" (DOCKER_CONTEXT in {})", v.from)))
        .or_else(|| {
            let dir = config_dir.as_deref()?;
            context::current_context(dir)
                .ok()
                .flatten()
                .map(|c| (c, String::new()))
        });
    if let (Some((name, from)), Some(dir)) = (named, &config_dir)
        && name != "default"
        && let Ok(endpoint) = context::context_endpoint(dir, &name)
    {
        return (endpoint, format!("docker context {name}{from}"));
    }
    (
        format!("unix://{}", opts.sys("var/run/docker.sock").display()),
        "the docker CLI's default socket".into(),
    )
}

/// `openclaw-gateway.service`, else the first profile unit `openclaw-gateway-<profile>.service`.
fn systemd_unit(home: &Path) -> Option<PathBuf> {
    let dir = home.join(".config/systemd/user");
    let main = dir.join("openclaw-gateway.service");
    if main.is_file() {
        return Some(main);
    }
    matching(&dir, |n| {
        n.starts_with("openclaw-gateway-") && n.ends_with(".service")
    })
    .into_iter()
    .next()
}

/// `ai.openclaw.gateway.plist`, else a profile's `ai.openclaw.<profile>.plist` whose
/// environment marks it as a gateway service (`OPENCLAW_SERVICE_KIND=gateway`): the node,
/// mac app and ssh agents share the prefix.
fn launch_agent(home: &Path) -> Option<PathBuf> {
    let dir = home.join("Library/LaunchAgents");
    let main = dir.join("ai.openclaw.gateway.plist");
    if main.is_file() {
        return Some(main);
    }
    matching(&dir, |n| {
        n.starts_with("ai.openclaw.") && n.ends_with(".plist")
    })
    .into_iter()
    .find(|p| {
        std::fs::read_to_string(p)
            .ok()
            .and_then(|t| parse::parse_plist_env(&t).ok())
            .is_some_and(|vars| {
                vars.iter()
                    .any(|(k, v)| k == "OPENCLAW_SERVICE_KIND" && v == "gateway")
            })
    })
}

/// The entries of `dir` whose names `want`, sorted.
fn matching(dir: &Path, want: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| want(n))
        .collect();
    names.sort();
    names.into_iter().map(|n| dir.join(n)).collect()
}

/// The unit, its drop-ins (`<unit>.d/*.conf`, sorted), then their `EnvironmentFile=`s, which
/// override every `Environment=` line.
fn unit_layers(unit: &Path, home: Option<&Path>, layers: &mut Vec<Layer>, notes: &mut Vec<String>) {
    let home_s = home.map(|h| h.display().to_string());
    let mut texts = vec![unit.to_path_buf()];
    let dropins = PathBuf::from(format!("{}.d", unit.display()));
    if let Ok(rd) = std::fs::read_dir(&dropins) {
        let mut confs: Vec<PathBuf> = rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "conf"))
            .collect();
        confs.sort();
        texts.extend(confs);
    }
    let mut files = Vec::new();
    for path in texts {
        let Ok(text) = std::fs::read_to_string(&path) else {
            notes.push(format!("{}: not readable", path.display()));
            continue;
        };
        let u = parse::parse_systemd_unit(&text, home_s.as_deref());
        layers.push(Layer {
            from: format!("Environment= in {}", path.display()),
            vars: u.environment,
            fills_only: false,
        });
        files.extend(u.files);
    }
    for (file, optional) in files {
        match std::fs::read_to_string(&file) {
            Ok(text) => layers.push(Layer {
                from: format!("EnvironmentFile {file}"),
                vars: parse::parse_env_file(&text),
                fills_only: false,
            }),
            Err(_) if optional => {}
            Err(e) => notes.push(format!(
                "EnvironmentFile {file} cannot be read ({e}): systemd will not start the Gateway"
            )),
        }
    }
}
