//! The Gateway service's environment from its installed definition (pure: text in, data out):
//! a systemd user unit's `Environment=` / `EnvironmentFile=` lines, a LaunchAgent plist's
//! `EnvironmentVariables`, and the precedence the service sees: unit `Environment=` lines in
//! order, then `EnvironmentFile=` files (which override them, as systemd documents), then
//! `$STATE_DIR/.env`, which OpenClaw loads without overriding what is already set.

use crate::model::gateway_env::ServiceVar;

/// The variables that decide which engine the service's CLIs reach.
pub const ENGINE_VARS: [&str; 6] = [
    "DOCKER_HOST",
    "DOCKER_CONTEXT",
    "DOCKER_CONFIG",
    "CONTAINER_HOST",
    "CONTAINER_CONNECTION",
    "PATH",
];

/// What a unit (or drop-in) says about the environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnitEnv {
    /// `Environment=` assignments in order (an empty `Environment=` clears the earlier ones).
    pub environment: Vec<(String, String)>,
    /// `EnvironmentFile=` paths in order; `true` when prefixed with `-` (missing is fine).
    pub files: Vec<(String, bool)>,
}

/// One source of variables, applied in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    pub from: String,
    pub vars: Vec<(String, String)>,
    /// True for `$STATE_DIR/.env`: it only fills what is not already set.
    pub fills_only: bool,
}

/// The `[Service]` section's environment of a unit file. `%h` expands to `home`, `%%` to `%`.
pub fn parse_systemd_unit(text: &str, home: Option<&str>) -> UnitEnv {
    let mut out = UnitEnv::default();
    let mut in_service = false;
    for line in logical_lines(text) {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if line.starts_with('[') && line.ends_with(']') {
            in_service = line == "[Service]";
            continue;
        }
        if !in_service {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim();
        match key.trim() {
            "Environment" if value.is_empty() => out.environment.clear(),
            "Environment" => {
                for word in split_words(value) {
                    if let Some((k, v)) = word.split_once('=') {
                        out.environment.push((k.to_string(), specifiers(v, home)));
                    }
                }
            }
            "EnvironmentFile" if value.is_empty() => out.files.clear(),
            "EnvironmentFile" => {
                let (optional, path) = match value.strip_prefix('-') {
                    Some(p) => (true, p),
                    None => (false, value),
                };
                out.files.push((specifiers(path, home), optional));
            }
            _ => {}
        }
    }
    out
}

/// A systemd `EnvironmentFile`: `KEY=VALUE` lines, `#`/`;` comments, quotes stripped.
pub fn parse_env_file(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in logical_lines(text) {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let v = v.trim();
        let value = match split_words(v).as_slice() {
            [one] if v.starts_with('"') || v.starts_with('\'') => one.clone(),
            _ => v.to_string(),
        };
        out.push((k.trim().to_string(), value));
    }
    out
}

/// A LaunchAgent plist's `EnvironmentVariables` dict (XML plists; a binary one is an error).
pub fn parse_plist_env(text: &str) -> Result<Vec<(String, String)>, String> {
    if text.starts_with("bplist") {
        return Err("a binary plist (convert with `plutil -convert xml1`)".into());
    }
    let Some(start) = text.find("<key>EnvironmentVariables</key>") else {
        return Ok(Vec::new());
    };
    let rest = &text[start + "<key>EnvironmentVariables</key>".len()..];
    let rest = rest.trim_start();
    if rest.starts_with("<dict/>") {
        return Ok(Vec::new());
    }
    let body = rest
        .strip_prefix("<dict>")
        .and_then(|r| r.find("</dict>").map(|end| &r[..end]))
        .ok_or("EnvironmentVariables is not a <dict>")?;
    let mut out = Vec::new();
    let mut s = body;
    while let Some(k) = s.find("<key>") {
        let after = &s[k + 5..];
        let kend = after.find("</key>").ok_or("unclosed <key>")?;
        let key = unescape_xml(&after[..kend]);
        let after = after[kend + 6..].trim_start();
        let (value, next) = if let Some(r) = after.strip_prefix("<string>") {
            let vend = r.find("</string>").ok_or("unclosed <string>")?;
            (unescape_xml(&r[..vend]), &r[vend + 9..])
        } else if let Some(r) = after.strip_prefix("<string/>") {
            (String::new(), r)
        } else {
            return Err(format!("{key}: not a <string>"));
        };
        out.push((key, value));
        s = next;
    }
    Ok(out)
}

/// The variables of interest after precedence, each with where it came from.
pub fn merge(layers: &[Layer]) -> Vec<ServiceVar> {
    let mut out: Vec<ServiceVar> = Vec::new();
    for layer in layers {
        for (name, value) in &layer.vars {
            if !ENGINE_VARS.contains(&name.as_str()) {
                continue;
            }
            let var = ServiceVar {
                name: name.clone(),
                value: value.clone(),
                from: layer.from.clone(),
            };
            match out.iter_mut().find(|v| &v.name == name) {
                Some(_) if layer.fills_only => {}
                Some(prev) => *prev = var,
                None => out.push(var),
            }
        }
    }
    // An empty value is unset for the docker CLI (it falls through to the next source).
    out.retain(|v| !v.value.trim().is_empty());
    out
}

/// The service PATH lacks `docker` although one of `elsewhere` (dirs holding it, e.g.
/// `~/.docker/bin`) has it: the sentence that says so, with the fix. `has_docker(dir)` says
/// whether `dir/docker` exists.
pub fn docker_off_path(
    service_path: &str,
    elsewhere: &[String],
    has_docker: impl Fn(&str) -> bool,
) -> Option<String> {
    if service_path
        .split(':')
        .any(|d| !d.is_empty() && has_docker(d))
    {
        return None;
    }
    let found = elsewhere.iter().find(|d| has_docker(d))?;
    Some(format!(
        "`docker` is not on the Gateway service's PATH ({service_path}) but is in {found}: the sandbox cannot start. Fix: add {found} to PATH in the service's environment (then `openclaw gateway restart`), or link it onto that PATH: `sudo ln -s {found}/docker /usr/local/bin/docker`"
    ))
}

/// Lines joined where one ends in a backslash (systemd's continuation).
fn logical_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for raw in text.lines() {
        if let Some(head) = raw.strip_suffix('\\') {
            cur.push_str(head);
            cur.push(' ');
        } else {
            cur.push_str(raw);
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// systemd's word splitting: whitespace separates, `"..."` and `'...'` group, `\` escapes.
fn split_words(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (_, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
                in_word = true;
            }
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    words
}

fn specifiers(s: &str, home: Option<&str>) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some('h') if home.is_some() => out.push_str(home.unwrap_or_default()),
            Some(o) => {
                out.push('%');
                out.push(o);
            }
            None => out.push('%'),
        }
    }
    out
}

fn unescape_xml(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape OpenClaw 2026.9's `buildSystemdUnit` writes (`renderEnvLines`,
    /// `renderEnvironmentFileLines`), plus a hand-added DOCKER_HOST.
    const UNIT: &str = r#"[Unit]
Description=OpenClaw Gateway
After=network-online.target

[Service]
ExecStart=/usr/bin/node /home/u/.npm/lib/node_modules/openclaw/dist/index.js gateway --port 18789
Restart=always
EnvironmentFile=-/home/u/.openclaw/gateway.systemd.env
Environment=HOME=/home/u
Environment="PATH=/home/u/.local/bin:/usr/local/bin:/usr/bin:/bin"
Environment=OPENCLAW_SERVICE_MARKER=openclaw OPENCLAW_SERVICE_KIND=gateway
Environment="DOCKER_HOST=unix://%h/run/docker.sock" "NAME=a \"quoted\" 100%%"

[Install]
WantedBy=default.target
Environment=DOCKER_HOST=ignored-outside-service
"#;

    #[test]
    fn a_unit_gives_its_environment_and_files_in_order() {
        let u = parse_systemd_unit(UNIT, Some("/home/u"));
        assert_eq!(
            u.files,
            vec![("/home/u/.openclaw/gateway.systemd.env".to_string(), true)]
        );
        let get = |k: &str| {
            u.environment
                .iter()
                .rev()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("DOCKER_HOST"), Some("unix:///home/u/run/docker.sock"));
        assert_eq!(get("NAME"), Some("a \"quoted\" 100%"));
        assert_eq!(
            get("PATH"),
            Some("/home/u/.local/bin:/usr/local/bin:/usr/bin:/bin")
        );
        assert_eq!(get("OPENCLAW_SERVICE_KIND"), Some("gateway"));
        // An empty Environment= resets the list.
        let reset = parse_systemd_unit(
            "[Service]\nEnvironment=A=1\nEnvironment=\nEnvironment=B=2\n",
            None,
        );
        assert_eq!(reset.environment, vec![("B".into(), "2".into())]);
    }

    #[test]
    fn files_override_environment_lines_and_dotenv_only_fills() {
        let u = parse_systemd_unit(UNIT, Some("/home/u"));
        let file = parse_env_file(
            "# written by openclaw\nDOCKER_HOST=\"unix:///from/file.sock\"\nDOCKER_CONTEXT=ctx\n",
        );
        let merged = merge(&[
            Layer {
                from: "Environment= in unit".into(),
                vars: u.environment,
                fills_only: false,
            },
            Layer {
                from: "EnvironmentFile".into(),
                vars: file,
                fills_only: false,
            },
            Layer {
                from: "$STATE_DIR/.env".into(),
                vars: vec![
                    ("DOCKER_HOST".into(), "unix:///dotenv.sock".into()),
                    ("DOCKER_CONFIG".into(), "/cfg".into()),
                ],
                fills_only: true,
            },
        ]);
        let v = |k: &str| merged.iter().find(|v| v.name == k).cloned();
        let host = v("DOCKER_HOST").expect("DOCKER_HOST");
        assert_eq!(host.value, "unix:///from/file.sock");
        assert_eq!(host.from, "EnvironmentFile");
        assert_eq!(
            v("DOCKER_CONFIG").map(|v| v.from),
            Some("$STATE_DIR/.env".into())
        );
        assert_eq!(v("DOCKER_CONTEXT").map(|v| v.value), Some("ctx".into()));
        assert!(v("NAME").is_none(), "only the engine variables are kept");
    }

    /// The shape of OpenClaw's LaunchAgent (`ai.openclaw.gateway.plist`).
    const PLIST: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
  <dict>
    <key>Label</key>
    <string>ai.openclaw.gateway</string>
    <key>ProgramArguments</key>
    <array><string>/opt/homebrew/bin/node</string><string>gateway</string></array>
    <key>EnvironmentVariables</key>
    <dict>
      <key>HOME</key>
      <string>/Users/u</string>
      <key>PATH</key>
      <string>/opt/homebrew/bin:/opt/homebrew/sbin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin</string>
      <key>DOCKER_HOST</key>
      <string>unix:///Users/u/.colima/default/docker.sock</string>
      <key>EMPTY</key>
      <string/>
      <key>AMP</key>
      <string>a&amp;b</string>
    </dict>
  </dict>
</plist>
"#;

    #[test]
    fn a_launch_agent_gives_its_environment_variables() {
        let vars = parse_plist_env(PLIST).expect("parses");
        assert_eq!(vars.len(), 5);
        assert_eq!(
            vars[2],
            (
                "DOCKER_HOST".into(),
                "unix:///Users/u/.colima/default/docker.sock".into()
            )
        );
        assert_eq!(vars[3], ("EMPTY".into(), String::new()));
        assert_eq!(vars[4], ("AMP".into(), "a&b".into()));
        assert!(parse_plist_env("bplist00...").is_err());
        assert_eq!(parse_plist_env("<plist><dict></dict></plist>"), Ok(vec![]));
    }

    #[test]
    fn docker_off_the_service_path_is_said_with_the_fix() {
        let path = "/opt/homebrew/bin:/usr/local/bin:/usr/bin:/bin";
        let orb = "/Users/u/.orbstack/bin".to_string();
        let note = docker_off_path(path, std::slice::from_ref(&orb), |d| d == orb).expect("said");
        assert!(
            note.contains("/Users/u/.orbstack/bin") && note.contains("Fix:"),
            "{note}"
        );
        // On the PATH, or nowhere at all: nothing to say here.
        assert!(
            docker_off_path(path, std::slice::from_ref(&orb), |d| d == "/usr/local/bin").is_none()
        );
        assert!(docker_off_path(path, &[orb], |_| false).is_none());
    }
}
