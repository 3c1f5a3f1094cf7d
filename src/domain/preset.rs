//! Presets are data: TOML files in `presets/`, embedded in the binary, overridable and
//! extendable by `*.toml` files in the user's clawposture config dir.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::keypath;

const BUILTIN: [(&str, &str); 3] = [
    (
        "presets/private.toml",
        include_str!("../../presets/private.toml"),
    ),
    (
        "presets/group.toml",
        include_str!("../../presets/group.toml"),
    ),
    (
        "presets/public.toml",
        include_str!("../../presets/public.toml"),
    ),
];

/// Whether the preset needs a container engine to be safe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EngineNeed {
    Recommended,
    Required,
}

/// A condition on the user's answers under which an entry applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum When {
    /// An owner was given (`--owner CHANNEL:ID`).
    Owner,
    /// Channel entries: the owner is on this channel.
    OwnerHere,
    /// Channel entries: no owner, or the owner is on another channel.
    OwnerElsewhere,
    /// Channel entries: group members were given for this channel.
    MembersHere,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ForEach {
    /// One binding per channel present in the config.
    Channel,
    /// One binding per `--group CHANNEL:ID` on a channel present in the config.
    GroupChat,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSet {
    key: String,
    value: toml::Value,
    why: String,
    doc: String,
    #[serde(default)]
    when: Option<When>,
    #[serde(default)]
    exact: bool,
    #[serde(default)]
    only: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUnset {
    key: String,
    why: String,
    doc: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBinding {
    agent: String,
    for_each: ForEach,
    why: String,
    doc: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNoEngine {
    #[serde(default)]
    refuse: Option<String>,
    note: String,
    #[serde(default)]
    set: Vec<RawSet>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPreset {
    name: String,
    title: String,
    order: u32,
    summary: String,
    engine: EngineNeed,
    #[serde(default)]
    set: Vec<RawSet>,
    #[serde(default)]
    unset: Vec<RawUnset>,
    #[serde(default)]
    channel: Vec<RawSet>,
    #[serde(default)]
    group_chat: Vec<RawSet>,
    #[serde(default)]
    binding: Vec<RawBinding>,
    #[serde(default)]
    no_engine: Option<RawNoEngine>,
}

/// One value a preset owns. `path` is relative to the root for `set`, to `channels.<id>`
/// for channel and group-chat entries.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    pub path: Vec<String>,
    pub value: Value,
    pub why: String,
    pub doc: String,
    pub when: Option<When>,
    pub exact: bool,
    pub only: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unset {
    pub path: Vec<String>,
    pub why: String,
    pub doc: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Binding {
    pub agent: String,
    pub for_each: ForEach,
    pub why: String,
    pub doc: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NoEngine {
    pub refuse: Option<String>,
    pub note: String,
    pub set: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Preset {
    pub name: String,
    pub title: String,
    pub order: u32,
    pub summary: String,
    pub engine: EngineNeed,
    pub set: Vec<Entry>,
    pub unset: Vec<Unset>,
    pub channel: Vec<Entry>,
    pub group_chat: Vec<Entry>,
    pub binding: Vec<Binding>,
    pub no_engine: Option<NoEngine>,
    /// Where it came from: `presets/private.toml` (built in) or a file path.
    pub source: String,
    /// A user preset that replaces a built-in one: the built-in's source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overrides: Option<String>,
}

impl Preset {
    /// Where the preset came from, in words: `built in`, or the file (and what it overrides).
    pub fn origin(&self) -> String {
        match &self.overrides {
            _ if self.source.starts_with("presets/") => "built in".to_string(),
            Some(_) => format!("user file {}, overrides the built-in preset", self.source),
            None => format!("user file {}", self.source),
        }
    }
}

/// A preset file that cannot be used: names the file, the line and the key.
#[derive(Debug, Clone, PartialEq)]
pub struct PresetError {
    pub file: String,
    pub line: Option<usize>,
    pub key: Option<String>,
    pub message: String,
}

impl fmt::Display for PresetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(key) = &self.key {
            write!(f, ": key `{key}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The line on which `needle` (a key's text) first appears, for semantic errors that
/// serde cannot place.
fn line_of_text(text: &str, needle: &str) -> Option<usize> {
    text.find(needle).map(|at| line_of(text, at))
}

/// Parse one preset file. `file` is only used in error messages.
pub fn parse(file: &str, text: &str) -> Result<Preset, PresetError> {
    let raw: RawPreset = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| line_of(text, s.start));
        // toml's message starts with its own location block; keep the last line (the reason).
        let message = e.message().trim().to_string();
        PresetError {
            file: file.to_string(),
            line,
            key: None,
            message,
        }
    })?;
    let err = |key: &str, message: String| PresetError {
        file: file.to_string(),
        // A quoted segment is escaped in the TOML text: fall back to the last segment.
        line: line_of_text(text, key).or_else(|| {
            key.rsplit('.')
                .next()
                .and_then(|seg| line_of_text(text, seg.trim_matches('"')))
        }),
        key: Some(key.to_string()),
        message,
    };
    if raw.name.is_empty()
        || !raw
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(err(
            &raw.name,
            "a preset name is letters, digits, `-` and `_`".into(),
        ));
    }
    let entries = |list: Vec<RawSet>| -> Result<Vec<Entry>, PresetError> {
        list.into_iter()
            .map(|r| {
                let path = keypath::parse(&r.key).map_err(|m| err(&r.key, m))?;
                let value = toml_to_json(r.value).map_err(|m| err(&r.key, m))?;
                if r.exact && !value.is_object() {
                    return Err(err(&r.key, "`exact = true` needs an object value".into()));
                }
                Ok(Entry {
                    path,
                    value,
                    why: r.why,
                    doc: r.doc,
                    when: r.when,
                    exact: r.exact,
                    only: r.only,
                })
            })
            .collect()
    };
    let set = entries(raw.set)?;
    for e in &set {
        if matches!(
            e.when,
            Some(When::OwnerHere | When::OwnerElsewhere | When::MembersHere)
        ) {
            return Err(err(
                &keypath::display(&e.path),
                "this `when` applies to [[channel]] entries only".into(),
            ));
        }
    }
    let unset = raw
        .unset
        .into_iter()
        .map(|r| {
            let path = keypath::parse(&r.key).map_err(|m| err(&r.key, m))?;
            Ok(Unset {
                path,
                why: r.why,
                doc: r.doc,
            })
        })
        .collect::<Result<Vec<_>, PresetError>>()?;
    let no_engine = match raw.no_engine {
        None => None,
        Some(n) => Some(NoEngine {
            refuse: n.refuse,
            note: n.note,
            set: entries(n.set)?,
        }),
    };
    let channel = entries(raw.channel)?;
    let group_chat = entries(raw.group_chat)?;
    // Keys OpenClaw would reject, or that undo each other, are refused here, at load.
    let roots: Vec<&Entry> = set
        .iter()
        .chain(no_engine.iter().flat_map(|n| n.set.iter()))
        .collect();
    check_keys(&roots, unset.iter().map(|u| &u.path), true).map_err(|(k, m)| err(&k, m))?;
    let per_channel: Vec<&Entry> = channel.iter().chain(group_chat.iter()).collect();
    check_keys(&per_channel, std::iter::empty(), false).map_err(|(k, m)| err(&k, m))?;
    Ok(Preset {
        name: raw.name,
        title: raw.title,
        order: raw.order,
        summary: raw.summary,
        engine: raw.engine,
        set,
        unset,
        channel,
        group_chat,
        binding: raw
            .binding
            .into_iter()
            .map(|b| Binding {
                agent: b.agent,
                for_each: b.for_each,
                why: b.why,
                doc: b.doc,
            })
            .collect(),
        no_engine,
        source: file.to_string(),
        overrides: None,
    })
}

/// Scalar keys of OpenClaw's schema that presets commonly touch: a key below one of them would
/// turn the user's scalar into an object, which OpenClaw rejects.
const KNOWN_SCALARS: [&str; 12] = [
    "gateway.port",
    "gateway.mode",
    "gateway.bind",
    "gateway.auth.mode",
    "gateway.tailscale.mode",
    "session.dmScope",
    "agents.defaults.sandbox.mode",
    "agents.defaults.sandbox.scope",
    "agents.defaults.sandbox.workspaceAccess",
    "agents.defaults.sandbox.docker.network",
    "agents.defaults.sandbox.docker.user",
    "tools.profile",
];

/// The keys of one namespace (root, or `channels.<id>`): no `$`-keys (`$include` would be
/// written as a key; OpenClaw treats it as a directive), no key below a scalar (set by this
/// preset or known to be one), and no two entries for one key with different values under the
/// same condition. Linear in the number of entries (one map of paths, every prefix looked up).
fn check_keys<'a>(
    entries: &[&'a Entry],
    unsets: impl Iterator<Item = &'a Vec<String>>,
    root: bool,
) -> Result<(), (String, String)> {
    use std::collections::HashMap;
    let all_paths = entries.iter().map(|e| &e.path).chain(unsets);
    for path in all_paths {
        if let Some(seg) = path.iter().find(|s| s.starts_with('$')) {
            return Err((
                keypath::display(path),
                format!(
                    "`{seg}` is not a config key OpenClaw accepts from a preset (`$include` and other `$` keys are directives)"
                ),
            ));
        }
    }
    let mut scalars: HashMap<&[String], Option<&Entry>> = HashMap::new();
    let known: Vec<Vec<String>> = if root {
        KNOWN_SCALARS
            .iter()
            .filter_map(|k| keypath::parse(k).ok())
            .collect()
    } else {
        Vec::new()
    };
    for k in &known {
        scalars.insert(k.as_slice(), None);
    }
    let mut by_path: HashMap<&[String], &Entry> = HashMap::new();
    for e in entries {
        if !e.value.is_object() {
            scalars.insert(e.path.as_slice(), Some(e));
        }
        if let Some(prev) = by_path.get(e.path.as_slice())
            && prev.value != e.value
            && prev.when == e.when
            && prev.only == e.only
        {
            return Err((
                keypath::display(&e.path),
                format!(
                    "two entries set this key to different values under the same condition ({} and {})",
                    prev.value, e.value
                ),
            ));
        }
        by_path.insert(e.path.as_slice(), e);
    }
    for e in entries {
        for n in 1..e.path.len() {
            if let Some(owner) = scalars.get(&e.path[..n]) {
                let what = match owner {
                    Some(o) => format!("this preset sets it to {}", o.value),
                    None => "OpenClaw's schema has a single value there".into(),
                };
                return Err((
                    keypath::display(&e.path),
                    format!(
                        "`{}` is not an object ({what}); a key below it would turn it into one, which OpenClaw rejects",
                        keypath::display(&e.path[..n])
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn toml_to_json(v: toml::Value) -> Result<Value, String> {
    Ok(match v {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) => serde_json::Number::from_f64(f)
            .map(Value::Number)
            .ok_or_else(|| format!("{f} cannot be written as JSON"))?,
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => {
            return Err(format!("dates ({d}) are not OpenClaw config values"));
        }
        toml::Value::Array(a) => {
            Value::Array(a.into_iter().map(toml_to_json).collect::<Result<_, _>>()?)
        }
        toml::Value::Table(t) => Value::Object(
            t.into_iter()
                .map(|(k, v)| Ok((k, toml_to_json(v)?)))
                .collect::<Result<serde_json::Map<_, _>, String>>()?,
        ),
    })
}

/// The built-in presets, in order.
pub fn builtin() -> Vec<Preset> {
    // Built-in files are checked by the test suite; a broken one is a build defect.
    BUILTIN
        .iter()
        .filter_map(|(file, text)| parse(file, text).ok())
        .collect()
}

/// Built-in presets, then every `*.toml` in `dir` (sorted by file name): a user preset with
/// the name of a built-in one replaces it (and says so: `overrides`); any other name adds a
/// preset. A file that cannot be used is skipped and returned as an error beside the presets
/// that loaded, so one bad file never breaks a command.
pub fn load_all(dir: Option<&Path>) -> (Vec<Preset>, Vec<PresetError>) {
    let mut presets = Vec::new();
    let mut errors = Vec::new();
    for (file, text) in BUILTIN {
        match parse(file, text) {
            Ok(p) => presets.push(p),
            Err(e) => errors.push(e),
        }
    }
    let files = match dir.map(user_files).transpose() {
        Ok(files) => files.unwrap_or_default(),
        Err(e) => {
            errors.push(e);
            Vec::new()
        }
    };
    for path in files {
        let file = path.display().to_string();
        let parsed = std::fs::read_to_string(&path)
            .map_err(|e| PresetError {
                file: file.clone(),
                line: None,
                key: None,
                message: format!("cannot read: {e}"),
            })
            .and_then(|text| parse(&file, &text));
        let mut preset = match parsed {
            Ok(p) => p,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        match presets.iter_mut().find(|p| p.name == preset.name) {
            Some(slot) => {
                preset.overrides = Some(match &slot.overrides {
                    Some(builtin) => builtin.clone(),
                    None => slot.source.clone(),
                });
                *slot = preset;
            }
            None => presets.push(preset),
        }
    }
    presets.sort_by(|a, b| a.order.cmp(&b.order).then_with(|| a.name.cmp(&b.name)));
    (presets, errors)
}

/// [`load_all`], failing on the first file that cannot be used (for tools and benches).
pub fn load(dir: Option<&Path>) -> Result<Vec<Preset>, PresetError> {
    match load_all(dir) {
        (presets, errors) if errors.is_empty() => Ok(presets),
        (_, mut errors) => Err(errors.remove(0)),
    }
}

fn user_files(dir: &Path) -> Result<Vec<PathBuf>, PresetError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(PresetError {
                file: dir.display().to_string(),
                line: None,
                key: None,
                message: format!("cannot list the preset dir: {e}"),
            });
        }
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    Ok(files)
}

/// The user's preset dir: `<config dir>/clawposture/presets` (`~/.config/clawposture/presets`
/// on Linux).
pub fn user_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "clawposture").map(|d| d.config_dir().join("presets"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_presets_parse() {
        for (file, text) in BUILTIN {
            if let Err(e) = parse(file, text) {
                panic!("{e}");
            }
        }
        let names: Vec<String> = builtin().into_iter().map(|p| p.name).collect();
        assert_eq!(names, ["private", "group", "public"]);
    }

    #[test]
    fn malformed_file_names_file_line_and_key() {
        let text = "name = \"x\"\ntitle = \"t\"\norder = 9\nsummary = \"s\"\nengine = \"recommended\"\n\n[[set]]\nkey = \"a..b\"\nvalue = 1\nwhy = \"w\"\ndoc = \"d\"\n";
        let e = parse("my.toml", text).unwrap_err();
        assert_eq!(e.file, "my.toml");
        assert_eq!(e.line, Some(8));
        assert_eq!(e.key.as_deref(), Some("a..b"));

        let text =
            "name = \"x\"\ntitle = \"t\"\norder = 9\nsummary = \"s\"\nengine = \"sometimes\"\n";
        let e = parse("bad.toml", text).unwrap_err();
        assert_eq!(e.line, Some(5));
        assert!(
            e.message.contains("sometimes") || e.message.contains("variant"),
            "{}",
            e.message
        );

        let text = "name = \"x\"\ntitle = \"t\"\norder = 9\nsummary = \"s\"\nengine = \"required\"\n[[set]]\nkey = \"a\"\nvalue = 1\nwhy = \"w\"\ndoc = \"d\"\ncolour = 3\n";
        let e = parse("bad.toml", text).unwrap_err();
        assert!(e.message.contains("colour"), "{}", e.message);
        assert_eq!(e.line, Some(11));
    }

    const HEAD: &str =
        "name = \"x\"\ntitle = \"t\"\norder = 9\nsummary = \"s\"\nengine = \"required\"\n";

    fn set(key: &str, value: &str) -> String {
        format!("\n[[set]]\nkey = {key:?}\nvalue = {value}\nwhy = \"w\"\ndoc = \"d\"\n")
    }

    #[test]
    fn an_include_key_in_a_preset_is_refused() {
        let text = format!("{HEAD}{}", set("agents.\"$include\"", "\"./evil.json5\""));
        let e = parse("inc.toml", &text).unwrap_err();
        assert!(e.message.contains("$include"), "{e}");
        assert_eq!(e.line, Some(8), "the `key =` line");
    }

    #[test]
    fn a_key_below_a_scalar_is_refused() {
        // Known to OpenClaw's schema as a single value.
        let e = parse("p.toml", &format!("{HEAD}{}", set("gateway.port.x", "1"))).unwrap_err();
        assert!(e.message.contains("`gateway.port` is not an object"), "{e}");
        // Set as a scalar by the same preset.
        let text = format!("{HEAD}{}{}", set("a.b", "1"), set("a.b.c", "2"));
        let e = parse("p.toml", &text).unwrap_err();
        assert!(e.message.contains("this preset sets it to 1"), "{e}");
        assert_eq!(e.key.as_deref(), Some("a.b.c"));
        // An object value below which keys are added is fine.
        let text = format!("{HEAD}{}{}", set("a.b", "{ c = 1 }"), set("a.b.d", "2"));
        assert!(parse("p.toml", &text).is_ok());
    }

    #[test]
    fn conflicting_entries_are_refused() {
        let text = format!(
            "{HEAD}{}{}",
            set("tools.profile", "\"coding\""),
            set("tools.profile", "\"full\"")
        );
        let e = parse("c.toml", &text).unwrap_err();
        assert!(e.message.contains("different values"), "{e}");
        let same = format!(
            "{HEAD}{}{}",
            set("tools.profile", "\"coding\""),
            set("tools.profile", "\"coding\"")
        );
        assert!(parse("c.toml", &same).is_ok());
    }

    #[test]
    fn one_bad_file_is_skipped_and_reported_the_others_load() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a-bad.toml"), "name = \"bad\"\ntitle = [").unwrap();
        std::fs::write(
            dir.path().join("b-good.toml"),
            HEAD.replace("\"x\"", "\"good\""),
        )
        .unwrap();
        let (presets, errors) = load_all(Some(dir.path()));
        assert_eq!(errors.len(), 1);
        assert!(errors[0].file.ends_with("a-bad.toml") && errors[0].line == Some(2));
        let names: Vec<&str> = presets.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["private", "group", "public", "good"]);
        assert!(load(Some(dir.path())).is_err());
    }

    #[test]
    fn user_dir_overrides_and_extends() {
        let dir = tempfile::tempdir().unwrap();
        let private = BUILTIN[0]
            .1
            .replace("title = \"Private: only me\"", "title = \"Mine\"");
        std::fs::write(dir.path().join("private.toml"), private).unwrap();
        let extra = "name = \"kiosk\"\ntitle = \"Kiosk\"\norder = 4\nsummary = \"s\"\nengine = \"required\"\n";
        std::fs::write(dir.path().join("kiosk.toml"), extra).unwrap();
        std::fs::write(dir.path().join("notes.txt"), "ignored").unwrap();
        let presets = load(Some(dir.path())).unwrap();
        let names: Vec<&str> = presets.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["private", "group", "public", "kiosk"]);
        assert_eq!(presets[0].title, "Mine");
        assert!(
            presets[0].source.ends_with("private.toml")
                && presets[0].source != "presets/private.toml"
        );
        assert_eq!(
            presets[0].overrides.as_deref(),
            Some("presets/private.toml")
        );
        assert!(
            presets[0]
                .origin()
                .ends_with("overrides the built-in preset")
        );
        assert_eq!(presets[1].origin(), "built in");
        assert_eq!(presets[3].overrides, None);
    }
}
