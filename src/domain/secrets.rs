//! Secrets never reach a preview, a log or a screenshot. A string is secret when its key path
//! is one OpenClaw marks sensitive (`presets/sensitive.toml`, pinned to the OpenClaw version it
//! was read from), one clawposture adds there (every `env.vars`), or when its key name looks
//! secret. Text of a config is masked on its syntax tree, by the span of each secret string
//! node, so a secret written with escapes (`'\u0041'`, `\'`, a line continuation) is masked
//! as surely as a plain one; other text (notes, values) is masked by matching the decoded
//! secrets collected the same way.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::Value;

pub const MASK: &str = "«secret»";

/// The data file: OpenClaw's sensitive paths and clawposture's additions.
pub const SOURCE: &str = include_str!("../../presets/sensitive.toml");

#[derive(Deserialize)]
struct SensitiveFile {
    openclaw: String,
    paths: Vec<String>,
    extra: Vec<String>,
}

/// The sensitive key path patterns: OpenClaw's (`paths`), then clawposture's (`extra`).
pub fn patterns() -> (String, Vec<String>, Vec<String>) {
    match toml::from_str::<SensitiveFile>(SOURCE) {
        Ok(f) => (f.openclaw, f.paths, f.extra),
        // The file is compiled in and checked by a test; an empty list still leaves the key
        // name rule.
        Err(_) => (String::new(), Vec::new(), Vec::new()),
    }
}

/// A trie of path patterns; `*` matches any one segment.
#[derive(Default)]
struct Node {
    children: HashMap<String, Node>,
    star: Option<Box<Node>>,
    end: bool,
}

impl Node {
    fn insert(&mut self, segments: &[String]) {
        let Some((first, rest)) = segments.split_first() else {
            self.end = true;
            return;
        };
        let next = if first == "*" || first == "[]" {
            self.star.get_or_insert_with(Default::default)
        } else {
            self.children.entry(first.clone()).or_default()
        };
        next.insert(rest);
    }
}

/// `a.b[].c` -> `a`, `b`, `[]`, `c`.
fn split_pattern(p: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in p.split('.') {
        let mut part = part;
        let mut arrays = 0;
        while let Some(stripped) = part.strip_suffix("[]") {
            part = stripped;
            arrays += 1;
        }
        out.push(part.to_string());
        out.extend(std::iter::repeat_n("[]".to_string(), arrays));
    }
    out
}

fn trie() -> &'static Node {
    static TRIE: OnceLock<Node> = OnceLock::new();
    TRIE.get_or_init(|| {
        let (_, paths, extra) = patterns();
        let mut root = Node::default();
        for p in paths.iter().chain(&extra) {
            let segments = split_pattern(p);
            // OpenClaw reads a legacy `agents.list` item as `agents.entries.<id>`.
            if segments.starts_with(&["agents".to_string(), "entries".to_string()]) {
                let mut legacy = segments.clone();
                legacy[1] = "list".into();
                root.insert(&legacy);
            }
            root.insert(&segments);
        }
        root
    })
}

/// OpenClaw's own name rule (`isSensitiveConfigPath`) plus a few names it misses (`key`,
/// `pat`, credentials, passphrases).
pub fn secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    const NOT_SECRET: [&str; 10] = [
        "maxtokens",
        "maxoutputtokens",
        "maxinputtokens",
        "maxcompletiontokens",
        "contexttokens",
        "totaltokens",
        "tokencount",
        "tokenlimit",
        "tokenbudget",
        "passwordfile",
    ];
    if NOT_SECRET.iter().any(|s| k.ends_with(s)) {
        return false;
    }
    let squeezed: String = k.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    k.ends_with("token")
        || [
            "token",
            "password",
            "secret",
            "apikey",
            "encryptkey",
            "privatekey",
            "credential",
            "passphrase",
        ]
        .iter()
        .any(|s| squeezed.contains(s))
        || squeezed.ends_with("serviceaccount")
        || squeezed.ends_with("serviceaccountref")
        || k == "key"
        || k == "pat"
        || k.ends_with("_pat")
        || k.ends_with("_key")
}

/// Where a walk down the config stands: the pattern nodes still matching, and whether the
/// current node is already secret.
#[derive(Clone)]
struct At<'t> {
    states: Vec<&'t Node>,
    secret: bool,
}

impl<'t> At<'t> {
    fn root() -> At<'static> {
        At {
            states: vec![trie()],
            secret: false,
        }
    }

    /// One step down: into the key `name`, or into an array item (`None`).
    fn down(&self, name: Option<&str>) -> At<'t> {
        if self.secret {
            return self.clone();
        }
        let mut states = Vec::new();
        for s in &self.states {
            if let Some(n) = name.and_then(|n| s.children.get(n)) {
                states.push(n);
            }
            if let Some(n) = &s.star {
                states.push(n);
            }
        }
        let secret = states.iter().any(|s| s.end) || name.is_some_and(secret_key);
        At { states, secret }
    }

    fn along(path: &[String]) -> At<'static> {
        path.iter().fold(At::root(), |at, seg| {
            if seg == "[]" {
                at.down(None)
            } else {
                at.down(Some(seg))
            }
        })
    }
}

/// A string that is only a reference to a variable (`${NAME}`, or `$NAME` on a secret
/// field) names where the secret lives, as a SecretRef does: shown, not masked.
fn is_ref_text(s: &str) -> bool {
    let t = s.trim();
    let name = |n: &str| {
        !n.is_empty()
            && !n.starts_with(|c: char| c.is_ascii_digit())
            && n.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    };
    t.strip_prefix("${")
        .and_then(|r| r.strip_suffix('}'))
        .is_some_and(name)
        || t.strip_prefix('$').is_some_and(name)
}

/// A SecretRef names where the secret lives; its fields are not secret.
fn is_secret_ref(map: &serde_json::Map<String, Value>) -> bool {
    map.contains_key("source") && map.contains_key("id")
}

/// Every secret string in a config value (strings under sensitive paths or secret-looking
/// keys, at any depth).
pub fn collect(value: &Value, out: &mut Vec<String>) {
    let mut seen: std::collections::HashSet<String> = out.iter().cloned().collect();
    collect_under(value, &At::root(), out, &mut seen);
}

fn collect_under(
    value: &Value,
    at: &At,
    out: &mut Vec<String>,
    seen: &mut std::collections::HashSet<String>,
) {
    match value {
        Value::String(s)
            if at.secret && s.len() >= 4 && !is_ref_text(s) && seen.insert(s.clone()) =>
        {
            out.push(s.clone());
        }
        Value::Array(items) => {
            let down = at.down(None);
            items
                .iter()
                .for_each(|v| collect_under(v, &down, out, seen))
        }
        Value::Object(map) if at.secret && is_secret_ref(map) => {}
        Value::Object(map) => map
            .iter()
            .for_each(|(k, v)| collect_under(v, &at.down(Some(k)), out, seen)),
        _ => {}
    }
}

/// `value`, found at `path` of the config (`[]` for an array item), with every secret string
/// replaced by [`MASK`].
pub fn mask_value_at(path: &[String], value: &Value) -> Value {
    map_secrets_at(path, value, &|_| Value::String(MASK.into()))
}

/// `value`, found at `path` of the config, with every secret string `s` replaced by `f(s)`
/// (the same strings [`mask_value_at`] masks).
pub fn map_secrets_at(path: &[String], value: &Value, f: &dyn Fn(&str) -> Value) -> Value {
    let mut v = value.clone();
    map_secrets_in_place(path, &mut v, f);
    v
}

/// Whether [`map_secrets_at`] would call its function on any string of `value`.
pub fn has_secret_at(path: &[String], value: &Value) -> bool {
    fn walk(v: &Value, at: &At) -> bool {
        match v {
            Value::String(s) => at.secret && !is_ref_text(s),
            Value::Array(items) => {
                let down = at.down(None);
                items.iter().any(|i| walk(i, &down))
            }
            Value::Object(map) if at.secret && is_secret_ref(map) => false,
            Value::Object(map) => map.iter().any(|(k, c)| walk(c, &at.down(Some(k)))),
            _ => false,
        }
    }
    walk(value, &At::along(path))
}

/// [`map_secrets_at`] in place: only the secret strings change (a big value is not copied).
pub fn map_secrets_in_place(path: &[String], value: &mut Value, f: &dyn Fn(&str) -> Value) {
    fn walk(v: &mut Value, at: &At, f: &dyn Fn(&str) -> Value) {
        match v {
            Value::String(s) if at.secret && !is_ref_text(s) => {
                let new = f(s);
                *v = new;
            }
            Value::Array(items) => {
                let down = at.down(None);
                items.iter_mut().for_each(|i| walk(i, &down, f));
            }
            Value::Object(map) if at.secret && is_secret_ref(map) => {}
            Value::Object(map) => {
                for (k, c) in map.iter_mut() {
                    walk(c, &at.down(Some(k)), f);
                }
            }
            _ => {}
        }
    }
    walk(value, &At::along(path), f)
}

/// Config text with every secret string node replaced, quotes and all, by the mask in the
/// node's own quotes. Text that does not parse is returned as it is (callers mask it by value
/// too).
pub fn mask_spans(text: &str) -> std::borrow::Cow<'_, str> {
    let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let body = &text[bom..];
    // A text the walk does not follow has no object to mask: it does not parse, or is blank.
    // Nothing to mask: the text itself, not a copy (a big file's is shown in a diff).
    let Some(mut spans) = streamed_spans(body) else {
        return std::borrow::Cow::Borrowed(text);
    };
    if spans.is_empty() {
        return std::borrow::Cow::Borrowed(text);
    }
    spans.sort_unstable();
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..bom]);
    let mut pos = 0;
    for (start, end) in spans {
        if start < pos || end > body.len() {
            continue;
        }
        let quote = body[start..].chars().next().unwrap_or('"');
        out.push_str(&body[pos..start]);
        out.push(quote);
        out.push_str(MASK);
        out.push(quote);
        pos = end;
    }
    out.push_str(&body[pos..]);
    std::borrow::Cow::Owned(out)
}

/// The spans of the secret string nodes of `body`, token by token (a big file's abstract
/// tree costs several times the file). None: the walk stopped short.
fn streamed_spans(body: &str) -> Option<Vec<(usize, usize)>> {
    let mut spans = SecretSpans {
        frames: Vec::new(),
        out: Vec::new(),
    };
    crate::domain::read_back::walk(body, &crate::domain::document::options(), &mut spans)?;
    Some(spans.out)
}

/// Where the token walk stands, for [`streamed_spans`].
struct SecretSpans {
    frames: Vec<SpanFrame>,
    out: Vec<(usize, usize)>,
}

struct SpanFrame {
    at: At<'static>,
    /// Where the next value stands (an object's after its key, an array's items).
    next: At<'static>,
    array: bool,
    /// Spans found before this object opened: a SecretRef's own are dropped when it closes.
    first_span: usize,
    has_source: bool,
    has_id: bool,
}

impl SecretSpans {
    fn next_at(&self) -> At<'static> {
        self.frames.last().map_or_else(At::root, |f| f.next.clone())
    }
}

impl<'a> crate::domain::read_back::Events<'a> for SecretSpans {
    fn scalar(&mut self, token: jsonc_parser::tokens::Token<'a>, span: std::ops::Range<usize>) {
        if let jsonc_parser::tokens::Token::String(s) = token
            && self.next_at().secret
            && !is_ref_text(&s)
        {
            self.out.push((span.start, span.end));
        }
    }

    fn open(&mut self, array: bool) {
        let at = self.next_at();
        let next = if array { at.down(None) } else { at.clone() };
        self.frames.push(SpanFrame {
            at,
            next,
            array,
            first_span: self.out.len(),
            has_source: false,
            has_id: false,
        });
    }

    fn key(&mut self, name: std::borrow::Cow<'a, str>) {
        if let Some(f) = self.frames.last_mut().filter(|f| !f.array) {
            f.has_source |= name == "source";
            f.has_id |= name == "id";
            f.next = f.at.down(Some(&name));
        }
    }

    fn close(&mut self) {
        if let Some(f) = self.frames.pop()
            && !f.array
            && f.at.secret
            && f.has_source
            && f.has_id
        {
            // A SecretRef names where the secret lives; its fields are not secret.
            self.out.truncate(f.first_span);
        }
    }
}

/// `text` with every secret replaced by [`MASK`]; longest first so that a secret that contains
/// another is masked whole.
pub fn mask(text: &str, secrets: &[String]) -> String {
    Masker::new(secrets).mask(text)
}

/// Every secret, and its JSON-escaped form, found in one pass over a text (leftmost-longest:
/// a secret that contains another is masked whole). Built once per plan.
#[derive(Clone)]
pub struct Masker {
    secrets: Vec<String>,
    automaton: Option<aho_corasick::AhoCorasick>,
}

impl Masker {
    pub fn new(secrets: &[String]) -> Masker {
        let mut patterns: Vec<String> = Vec::new();
        for s in secrets.iter().filter(|s| !s.is_empty()) {
            patterns.push(s.clone());
            // JSON-escaped form, as it appears inside a serialised value.
            if let Ok(escaped) = serde_json::to_string(s) {
                let inner = &escaped[1..escaped.len() - 1];
                if inner != s {
                    patterns.push(inner.to_string());
                }
            }
        }
        let automaton = (!patterns.is_empty())
            .then(|| {
                aho_corasick::AhoCorasick::builder()
                    .match_kind(aho_corasick::MatchKind::LeftmostLongest)
                    .build(&patterns)
                    .ok()
            })
            .flatten();
        Masker {
            secrets: secrets.to_vec(),
            automaton,
        }
    }

    pub fn mask(&self, text: &str) -> String {
        match &self.automaton {
            Some(ac) => {
                let mut out = String::with_capacity(text.len());
                ac.replace_all_with(text, &mut out, |_, _, dst| {
                    dst.push_str(MASK);
                    true
                });
                out
            }
            None => text.to_string(),
        }
    }
}

impl PartialEq for Masker {
    fn eq(&self, other: &Masker) -> bool {
        self.secrets == other.secrets
    }
}

// Never print the secrets, not even in debug output.
impl std::fmt::Debug for Masker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Masker({} secrets)", self.secrets.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The spans the abstract tree finds (how they were found before the token walk): the
    /// reference the walk is held to. None: the text does not parse.
    fn tree_spans(body: &str) -> Option<Vec<(usize, usize)>> {
        let parsed = jsonc_parser::parse_to_ast(
            body,
            &Default::default(),
            &crate::domain::document::options(),
        )
        .ok()?;
        let mut spans = Vec::new();
        if let Some(v) = &parsed.value {
            spans_under(v, &At::root(), &mut spans);
        }
        Some(spans)
    }

    fn spans_under(value: &jsonc_parser::ast::Value, at: &At, out: &mut Vec<(usize, usize)>) {
        match value {
            jsonc_parser::ast::Value::StringLit(s) if at.secret && !is_ref_text(&s.value) => {
                out.push((s.range.start, s.range.end))
            }
            jsonc_parser::ast::Value::Array(a) => {
                let down = at.down(None);
                a.elements.iter().for_each(|e| spans_under(e, &down, out))
            }
            jsonc_parser::ast::Value::Object(o)
                if at.secret
                    && ["source", "id"]
                        .iter()
                        .all(|k| o.properties.iter().any(|p| p.name.as_str() == *k)) => {}
            jsonc_parser::ast::Value::Object(o) => o
                .properties
                .iter()
                .for_each(|p| spans_under(&p.value, &at.down(Some(p.name.as_str())), out)),
            _ => {}
        }
    }

    /// The token walk finds the secret spans the abstract tree finds, on every config that
    /// parses but a blank one: secrets under sensitive paths and secret-looking keys, in
    /// arrays, escaped, SecretRefs (with and without more keys), references, on fixtures and
    /// thousands of texts made from them.
    #[test]
    fn the_token_walk_finds_the_spans_the_tree_finds() {
        use crate::domain::read_back::tests::{fixture_texts, mutated, rand};
        let mut base = fixture_texts();
        base.push("{ gateway: { auth: { token: 'GW\\u0041aaa' } }, channels: { telegram: { botToken: \"1:x\", accounts: [ { token: 'y', name: 'n' } ] } },\n env: { vars: { GITHUB_PAT: 'z', X: '${Y}' } }, models: { providers: { p: { apiKey: { source: 'env', id: 'K', extra: 's' }, params: { key: 'q' } } } }, 'token': [ 'a', { b: 'c' } ] }".into());
        base.push("{ gateway: { auth: { token: { source: 'env', provider: 'default' }, password: '$PW' } }, skills: { entries: { s: { apiKey: 'k', env: { TOKEN: 't' } } } } }".into());
        let mut rand = rand();
        let mut texts = base.clone();
        texts.extend(mutated(&base, 6_000, &mut rand));
        let (mut answered, mut with_spans) = (0, 0);
        for t in &texts {
            let t = t.strip_prefix('\u{feff}').unwrap_or(t);
            let tree = tree_spans(t);
            match streamed_spans(t) {
                Some(streamed) => {
                    assert_eq!(Some(&streamed), tree.as_ref(), "{t}");
                    answered += 1;
                    with_spans += usize::from(!streamed.is_empty());
                }
                // Not followed: no config (it does not parse, or is blank or no object).
                None => assert!(
                    t.trim().is_empty() || crate::domain::document::parse_value(t).is_err(),
                    "the walk stopped short on {t}"
                ),
            }
        }
        assert!(answered > 2_000, "{answered}");
        assert!(with_spans > 300, "{with_spans}");
    }

    #[test]
    fn collects_and_masks() {
        let v = json!({"gateway": {"auth": {"token": "abcdefghijklmnopqrstuvwxyz"}},
            "channels": {"telegram": {"botToken": "123:XYZ", "name": "bot"}},
            "x": {"apiKey": {"source": "env", "provider": "default", "id": "KEY"}},
            "models": {"providers": {"a": {"apiKeys": ["k1-long", "k2-long"]}}}});
        let mut found = Vec::new();
        collect(&v, &mut found);
        assert_eq!(
            found,
            [
                "abcdefghijklmnopqrstuvwxyz",
                "123:XYZ",
                "k1-long",
                "k2-long"
            ]
        );
        let text = serde_json::to_string_pretty(&v).unwrap();
        let masked = mask(&text, &found);
        for s in &found {
            assert!(!masked.contains(s.as_str()));
        }
        assert!(masked.contains("\"id\": \"KEY\""));
    }

    #[test]
    fn paths_openclaw_marks_and_env_vars_are_secret_whatever_the_key_name() {
        let v = json!({
            "env": {"vars": {"GITHUB_PAT": "ghp_abcdef"}, "OPENAI_KEY": "sk-abcdef"},
            "channels": {"line": {"secretFile": "/run/secret-file"}},
            "models": {"providers": {"p": {"params": {"key": "prov-key-1"}, "headers": {"X-Tenant": "tenant-9"}}}},
            "agents": {"list": [{"id": "a", "sandbox": {"ssh": {"identityData": "ssh-data"}}}]},
            "gateway": {"bind": "loopback", "maxTokens": "not-a-secret"}
        });
        let mut found = Vec::new();
        collect(&v, &mut found);
        for s in [
            "ghp_abcdef",
            "sk-abcdef",
            "/run/secret-file",
            "prov-key-1",
            "tenant-9",
        ] {
            assert!(found.contains(&s.to_string()), "{s} in {found:?}");
        }
        assert!(!found.contains(&"loopback".to_string()));
        assert!(!found.contains(&"not-a-secret".to_string()));
        let masked = mask_value_at(&["agents".into(), "list".into()], &v["agents"]["list"]);
        assert_eq!(masked[0]["sandbox"]["ssh"]["identityData"], MASK);
        assert_eq!(masked[0]["id"], "a");
    }

    #[test]
    fn spans_mask_escaped_and_continued_strings_in_their_own_quotes() {
        let text = "\u{feff}{\n  gateway: { auth: { token: 'GWTOKEN\\u0041aa\\'a\\\n  bbb' }, bind: 'lan' },\n  env: { vars: { GITHUB_PAT: \"ghp_x\" } },\n  x: { apiKey: { source: 'env', provider: 'default', id: 'K' } },\n}\n";
        let out = mask_spans(text);
        assert!(out.starts_with('\u{feff}'));
        assert!(!out.contains("GWTOKEN"), "{out}");
        assert!(!out.contains("bbb"), "{out}");
        assert!(!out.contains("ghp_x"), "{out}");
        assert!(out.contains("token: '«secret»'"), "{out}");
        assert!(out.contains("GITHUB_PAT: \"«secret»\""), "{out}");
        assert!(out.contains("bind: 'lan'"), "{out}");
        assert!(out.contains("id: 'K'"), "{out}");
    }

    #[test]
    fn the_pattern_file_parses_and_names_its_openclaw_version() {
        let (version, paths, extra) = patterns();
        assert!(!version.is_empty());
        assert!(paths.contains(&"gateway.auth.token".to_string()));
        assert!(extra.contains(&"env.vars.*".to_string()));
    }
}
