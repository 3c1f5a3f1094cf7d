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
        line: line_of_text(text, key),
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
    Ok(Preset {
        name: raw.name,
        title: raw.title,
        order: raw.order,
        summary: raw.summary,
        engine: raw.engine,
        set,
        unset,
        channel: entries(raw.channel)?,
        group_chat: entries(raw.group_chat)?,
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
    })
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
/// the name of a built-in one replaces it; any other name adds a preset.
pub fn load(dir: Option<&Path>) -> Result<Vec<Preset>, PresetError> {
    let mut presets = Vec::new();
    for (file, text) in BUILTIN {
        presets.push(parse(file, text)?);
    }
    if let Some(dir) = dir {
        for path in user_files(dir)? {
            let file = path.display().to_string();
            let text = std::fs::read_to_string(&path).map_err(|e| PresetError {
                file: file.clone(),
                line: None,
                key: None,
                message: format!("cannot read: {e}"),
            })?;
            let preset = parse(&file, &text)?;
            match presets.iter_mut().find(|p| p.name == preset.name) {
                Some(slot) => *slot = preset,
                None => presets.push(preset),
            }
        }
    }
    presets.sort_by(|a, b| a.order.cmp(&b.order).then_with(|| a.name.cmp(&b.name)));
    Ok(presets)
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
    }
}
