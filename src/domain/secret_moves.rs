//! Moving literal channel secrets (bot tokens, API keys) out of the config into
//! `$STATE_DIR/.env`, the way the Gateway token is kept there: offered, shown (masked) in the
//! preview, and done only when the user says yes (`--move-secrets`, the wizard's review screen,
//! `--plain`'s question). Which fields, which reference each field accepts and the variable's
//! name are data (`presets/secret_refs.toml`, read from OpenClaw's schema); this module finds
//! the literals, names their variables without clobbering `.env`, and edits the syntax tree.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::domain::document::Document;
use crate::domain::dotenv;
use crate::domain::keypath;
use crate::domain::plan::Change;

/// The data file: channel secret fields, the reference each accepts, the variable's name.
pub const SOURCE: &str = include_str!("../../presets/secret_refs.toml");

/// How the config refers to a moved secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Form {
    /// `{ source: "env", provider: "default", id: VAR }`: the field accepts a SecretRef.
    Ref,
    /// `"${VAR}"`: a plain string field (OpenClaw substitutes `${VAR}` in any string).
    Env,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Field {
    pub path: String,
    pub form: Form,
    /// The variable's name; each `{}` is the key a `*` of `path` matched.
    pub var: String,
}

#[derive(Deserialize)]
struct FieldsFile {
    openclaw: String,
    field: Vec<Field>,
}

fn file() -> &'static (String, Vec<Field>) {
    static FILE: OnceLock<(String, Vec<Field>)> = OnceLock::new();
    FILE.get_or_init(|| match toml::from_str::<FieldsFile>(SOURCE) {
        Ok(f) => (f.openclaw, f.field),
        // Compiled in and checked by a test: an unreadable file only means nothing is offered.
        Err(_) => (String::new(), Vec::new()),
    })
}

/// The fields secrets can be moved out of, and the OpenClaw version they were read from.
pub fn fields() -> &'static [Field] {
    &file().1
}

pub fn openclaw_version() -> &'static str {
    &file().0
}

/// The keys every secret field lives under (up to a wildcard, at most `channels.<channel>.<key>`)
/// in the channels `present`: [`literals`] of a value holding only these reads the same.
pub fn roots(present: &[String]) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = fields()
        .iter()
        .map(|f| {
            f.path
                .split('.')
                .take(3)
                .take_while(|s| *s != "*")
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .filter(|r| r.get(1).is_none_or(|c| present.contains(c)))
        .collect();
    out.sort();
    out.dedup();
    // A root inside another is read with it.
    let all = out.clone();
    out.retain(|r| !all.iter().any(|o| o.len() < r.len() && r.starts_with(o)));
    out
}

/// A string that already refers to a variable instead of holding the secret: `${VAR}` (or
/// text using it) or the `$VAR` shorthand OpenClaw accepts on secret fields.
pub fn is_reference(s: &str) -> bool {
    let t = s.trim();
    let name = |n: &str| {
        n.chars()
            .next()
            .is_some_and(|c| c.is_ascii_uppercase() || c == '_')
            && n.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    };
    t.contains("${") || t.strip_prefix('$').is_some_and(name)
}

/// A secret the config holds in clear, in a field it can be moved out of.
#[derive(Clone, PartialEq, Eq)]
pub struct Literal {
    pub path: Vec<String>,
    pub value: String,
    pub form: Form,
    /// The variable's name this field asks for (before any clash with `.env` is resolved);
    /// None when the name would not be a valid one (`^[A-Z][A-Z0-9_]{0,127}$`).
    pub var: Option<String>,
}

// Never print the secret, not even in debug output.
impl fmt::Debug for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Literal({})", keypath::display(&self.path))
    }
}

/// `OPENCLAW_TELEGRAM_{}_BOT_TOKEN` with `{}` filled by `keys` (upper-cased, other characters
/// as `_`); None when the result is not a name a SecretRef may hold.
pub fn var_name(template: &str, keys: &[String]) -> Option<String> {
    let mut out = String::new();
    let mut keys = keys.iter();
    let mut rest = template;
    while let Some(at) = rest.find("{}") {
        out.push_str(&rest[..at]);
        let key = keys.next()?;
        out.extend(key.chars().map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        }));
        rest = &rest[at + 2..];
    }
    out.push_str(rest);
    valid_name(&out).then_some(out)
}

fn valid_name(n: &str) -> bool {
    n.len() <= 128
        && n.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && n.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// Every literal channel secret in a config value (pure): strings under a field of
/// `secret_refs.toml` that are not already a reference, and not empty or a placeholder.
pub fn literals(config: &Value) -> Vec<Literal> {
    let mut out = Vec::new();
    for f in fields() {
        let pattern: Vec<&str> = f.path.split('.').collect();
        walk(
            config,
            &pattern,
            &mut Vec::new(),
            &mut Vec::new(),
            f,
            &mut out,
        );
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out.dedup_by(|a, b| a.path == b.path);
    out
}

fn walk(
    v: &Value,
    pattern: &[&str],
    at: &mut Vec<String>,
    stars: &mut Vec<String>,
    f: &Field,
    out: &mut Vec<Literal>,
) {
    let Some((first, rest)) = pattern.split_first() else {
        if let Value::String(s) = v
            && !dotenv::is_placeholder(s)
            && !is_reference(s)
        {
            out.push(Literal {
                path: at.clone(),
                value: s.clone(),
                form: f.form,
                var: var_name(&f.var, stars),
            });
        }
        return;
    };
    let Some(map) = v.as_object() else {
        return;
    };
    let mut step = |k: &String, child: &Value, star: bool| {
        at.push(k.clone());
        if star {
            stars.push(k.clone());
        }
        walk(child, rest, at, stars, f, out);
        if star {
            stars.pop();
        }
        at.pop();
    };
    if *first == "*" {
        for (k, child) in map {
            step(k, child, true);
        }
    } else if let Some((k, child)) = map.get_key_value(*first) {
        step(k, child, false);
    }
}

/// What `$STATE_DIR/.env` defines, as OpenClaw's dotenv parser reads it (a later definition
/// wins; an empty or placeholder value counts as absent).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct EnvVars(pub Vec<(String, String)>);

impl EnvVars {
    pub fn from_text(text: &str) -> EnvVars {
        EnvVars(dotenv::parse(text))
    }

    /// The value OpenClaw would use for `name` (None: unset, empty or a placeholder).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !dotenv::is_placeholder(v))
    }
}

// Never print the values, not even in debug output.
impl fmt::Debug for EnvVars {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EnvVars({} names)", self.0.len())
    }
}

/// One secret to write into `.env` with the config that refers to it.
#[derive(Clone, PartialEq, Eq)]
pub struct EnvSecret {
    pub name: String,
    pub value: String,
    /// The config key it came from (for the `.env` comment and messages).
    pub key: String,
}

impl fmt::Debug for EnvSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EnvSecret({} from {})", self.name, self.key)
    }
}

/// One literal moved: where from, to which variable, in which form (never the value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Moved {
    pub key: String,
    pub var: String,
    pub form: Form,
    /// `.env` already held this exact value under `var`: nothing is written there.
    pub already_in_env: bool,
}

/// The plan's part for channel secrets.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Moves {
    /// The literals moved by this plan (empty unless the user said yes).
    pub moved: Vec<Moved>,
    /// What `.env` gets for them (those it already holds exactly are left out).
    pub env: Vec<EnvSecret>,
    /// Literals that could be moved, by key, when the user has not said yes.
    pub movable: Vec<String>,
    /// Literals that cannot be moved, with why (they stay in the config).
    pub refused: Vec<(String, String)>,
}

/// The reference a moved field holds.
pub fn reference(form: Form, var: &str) -> Value {
    match form {
        Form::Ref => json!({"source": "env", "provider": "default", "id": var}),
        Form::Env => Value::String(format!("${{{var}}}")),
    }
}

/// Names `.env` must keep for other purposes whatever it holds now.
const RESERVED: [&str; 2] = [crate::domain::plan::TOKEN_ENV, "DOCKER_HOST"];

/// Plan moving the literal channel secrets of `doc` (when `asked`), editing its syntax tree
/// and recording each change; `notes` and `warnings` say what could be moved, what was
/// renamed to spare a variable `.env` already holds, and what cannot be moved.
pub fn plan(
    doc: &Document,
    env: &EnvVars,
    asked: bool,
    changes: &mut Vec<Change>,
    notes: &mut Vec<String>,
    warnings: &mut Vec<String>,
) -> Moves {
    plan_read(
        &doc.value(),
        env,
        asked,
        |sets| doc.set_many(sets),
        changes,
        notes,
        warnings,
    )
}

/// [`plan`] of a config whose value (at least its `channels`) the caller has read: the sets
/// go to `edit` (once, possibly empty), so a big file's value is not converted again.
pub fn plan_read(
    config: &Value,
    env: &EnvVars,
    asked: bool,
    edit: impl FnOnce(&[(Vec<String>, Value)]),
    changes: &mut Vec<Change>,
    notes: &mut Vec<String>,
    warnings: &mut Vec<String>,
) -> Moves {
    let mut moves = Moves::default();
    let found = literals(config);
    let mut taken: BTreeSet<String> = RESERVED.iter().map(|s| s.to_string()).collect();
    let mut sets = Vec::new();
    for lit in found {
        let key = keypath::display(&lit.path);
        let Some(base) = lit.var.clone() else {
            moves.refused.push((
                key,
                "its account name does not make a valid variable name (A-Z, 0-9, _; 128 at most)"
                    .into(),
            ));
            continue;
        };
        if dotenv::quote(&base, &lit.value).is_none() {
            moves.refused.push((
                key,
                "`.env` cannot hold its value exactly (a line break, or all three quote characters)"
                    .into(),
            ));
            continue;
        }
        if !asked {
            moves.movable.push(key);
            continue;
        }
        // The first free name: the base, then `_2`, `_3`, ...; one `.env` already holds with
        // this very value is reused. Another value there is never overwritten.
        let mut chosen = None;
        for n in 1..100 {
            let name = if n == 1 {
                base.clone()
            } else {
                format!("{base}_{n}")
            };
            if taken.contains(&name) || !valid_name(&name) {
                continue;
            }
            match env.get(&name) {
                Some(v) if v == lit.value => {
                    chosen = Some((name, true));
                    break;
                }
                Some(_) => continue,
                None => {
                    chosen = Some((name, false));
                    break;
                }
            }
        }
        let Some((name, already)) = chosen else {
            moves.refused.push((
                key,
                format!(
                    "`.env` already defines {base} and its numbered variants with other values"
                ),
            ));
            continue;
        };
        taken.insert(name.clone());
        if name != base {
            notes.push(format!(
                "$STATE_DIR/.env already defines {base} with another value: it is left as it is, and `{key}` moves to {name} instead."
            ));
        }
        let after = reference(lit.form, &name);
        sets.push((lit.path.clone(), after.clone()));
        changes.push(Change {
            key: key.clone(),
            before: Some(Value::String(lit.value.clone())),
            after: Some(after),
            why: format!(
                "A literal channel secret: it moves to $STATE_DIR/.env ({name}, mode 0600) and the config refers to it by name."
            ),
            doc: "gateway/configuration/environment-variables.md".into(),
            loosens: None,
        });
        if !already {
            moves.env.push(EnvSecret {
                name: name.clone(),
                value: lit.value.clone(),
                key: key.clone(),
            });
        }
        moves.moved.push(Moved {
            key,
            var: name,
            form: lit.form,
            already_in_env: already,
        });
    }
    edit(&sets);
    if !moves.movable.is_empty() {
        notes.push(format!(
            "{} literal channel secret(s) could be moved to .env: --move-secrets ({}).",
            moves.movable.len(),
            moves.movable.join(", ")
        ));
    }
    for (key, why) in &moves.refused {
        warnings.push(format!(
            "`{key}` holds a literal secret that stays in the config: {why}."
        ));
    }
    moves
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A value holding only the roots' keys has the whole value's literals: every secret field
    /// of every channel filled in (a literal each), beside keys no field names.
    #[test]
    fn the_literals_under_the_roots_are_the_whole_values() {
        use crate::domain::choice::{get_in, set_in};
        let mut whole = serde_json::json!({"channels": {}, "agents": {"x": "y"}});
        for (n, f) in fields().iter().enumerate() {
            let path: Vec<String> = f
                .path
                .split('.')
                .map(|s| {
                    if s == "*" {
                        format!("any{}", n % 3)
                    } else {
                        s.to_string()
                    }
                })
                .collect();
            set_in(
                &mut whole,
                &path,
                Some(Value::String(format!("literal-{n}"))),
            );
            let mut beside = path[..2].to_vec();
            beside.push("groups".into());
            set_in(
                &mut whole,
                &beside,
                Some(serde_json::json!({"-100": {"requireMention": true}})),
            );
        }
        let present = crate::domain::plan::channels_in(&whole);
        let mut only = serde_json::json!({});
        for root in roots(&present) {
            if let Some(v) = get_in(&whole, &root) {
                set_in(&mut only, &root, Some(v.clone()));
            }
        }
        let (a, b) = (literals(&whole), literals(&only));
        assert!(
            a.len() * 10 >= fields().len() * 9,
            "{} of {}",
            a.len(),
            fields().len()
        );
        assert_eq!(
            a.iter().map(|l| (&l.path, &l.value)).collect::<Vec<_>>(),
            b.iter().map(|l| (&l.path, &l.value)).collect::<Vec<_>>()
        );
        // Nothing but the roots was read.
        assert!(only.to_string().len() < whole.to_string().len());
        assert!(roots(&[]).is_empty());
    }

    #[test]
    fn the_field_file_parses_and_names_its_openclaw_version() {
        assert!(!openclaw_version().is_empty());
        let f = fields();
        assert!(
            f.iter()
                .any(|f| f.path == "channels.telegram.botToken" && f.form == Form::Ref)
        );
        for f in f {
            let stars = f.path.matches('*').count();
            let keys: Vec<String> = (0..stars).map(|i| format!("k{i}")).collect();
            assert!(var_name(&f.var, &keys).is_some(), "{}", f.var);
        }
    }

    #[test]
    fn literals_skip_references_placeholders_and_non_strings() {
        let v = json!({"channels": {
            "telegram": {"botToken": "123:abc", "webhookSecret": "${X}",
                "accounts": {"work-bot": {"botToken": "456:def"}, "b": {"botToken": ""}}},
            "discord": {"token": {"source": "env", "provider": "default", "id": "D"}},
            "slack": {"botToken": "$SLACK_BOT", "appToken": "changeme"},
            "irc": {"password": "hunter22"}
        }});
        let found = literals(&v);
        let keys: Vec<String> = found.iter().map(|l| keypath::display(&l.path)).collect();
        assert_eq!(
            keys,
            [
                "channels.irc.password",
                "channels.telegram.accounts.\"work-bot\".botToken",
                "channels.telegram.botToken"
            ]
        );
        assert_eq!(found[0].form, Form::Env);
        assert_eq!(
            found[1].var.as_deref(),
            Some("OPENCLAW_TELEGRAM_WORK_BOT_BOT_TOKEN")
        );
        assert!(!format!("{found:?}").contains("123:abc"));
    }

    #[test]
    fn a_different_env_value_is_never_clobbered_and_the_same_one_is_reused() {
        let doc = Document::parse(
            r#"{channels: {telegram: {botToken: "123:abc"}, discord: {token: "d-tok"}}}"#,
        )
        .unwrap();
        let env = EnvVars::from_text(
            "OPENCLAW_TELEGRAM_BOT_TOKEN=someone-else\nOPENCLAW_DISCORD_TOKEN=d-tok\n",
        );
        let (mut c, mut n, mut w) = (Vec::new(), Vec::new(), Vec::new());
        let m = plan(&doc, &env, true, &mut c, &mut n, &mut w);
        let names: Vec<&str> = m.moved.iter().map(|m| m.var.as_str()).collect();
        assert_eq!(
            names,
            ["OPENCLAW_DISCORD_TOKEN", "OPENCLAW_TELEGRAM_BOT_TOKEN_2"]
        );
        assert_eq!(m.env.len(), 1, "the discord token is in .env already");
        assert_eq!(m.env[0].name, "OPENCLAW_TELEGRAM_BOT_TOKEN_2");
        assert!(
            n.iter()
                .any(|n| n.contains("moves to OPENCLAW_TELEGRAM_BOT_TOKEN_2"))
        );
        let v = doc.value();
        assert_eq!(
            v["channels"]["telegram"]["botToken"]["id"],
            "OPENCLAW_TELEGRAM_BOT_TOKEN_2"
        );
    }

    #[test]
    fn without_a_yes_nothing_moves_and_the_plan_says_how() {
        let text = r#"{channels: {telegram: {botToken: "123:abc"}}}"#;
        let doc = Document::parse(text).unwrap();
        let (mut c, mut n, mut w) = (Vec::new(), Vec::new(), Vec::new());
        let m = plan(&doc, &EnvVars::default(), false, &mut c, &mut n, &mut w);
        assert!(m.moved.is_empty() && m.env.is_empty() && c.is_empty());
        assert_eq!(doc.text(), text);
        assert!(
            n[0].starts_with("1 literal channel secret(s) could be moved to .env: --move-secrets")
        );
    }

    #[test]
    fn a_value_with_a_line_break_is_refused_not_moved() {
        let doc = Document::parse(r#"{channels: {telegram: {botToken: "a\nB=c"}}}"#).unwrap();
        let (mut c, mut n, mut w) = (Vec::new(), Vec::new(), Vec::new());
        let m = plan(&doc, &EnvVars::default(), true, &mut c, &mut n, &mut w);
        assert!(m.moved.is_empty());
        assert_eq!(m.refused.len(), 1);
        assert!(w[0].contains("stays in the config"), "{w:?}");
    }
}
