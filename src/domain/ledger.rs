//! The ledger: what clawposture wrote, write by write, so that it never has to guess which
//! values are its own. A small versioned JSON file (`$STATE_DIR/clawposture-ledger.json`);
//! this module is its model and codec, and the pure questions asked of it: which keys are
//! clawposture's today (reconciled key by key against the file), and how to undo the last write.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::domain::choice::{Inputs, get_in};
use crate::domain::doc_holes::{NoHoles, Placeholders, Run};
use crate::domain::value_set::ValueSet;

/// The format this build reads and writes. A newer one is reported and never rewritten.
pub const VERSION: u32 = 1;
pub const FILE_NAME: &str = "clawposture-ledger.json";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ledger {
    pub version: u32,
    pub writes: Vec<Write>,
}

/// One write of the config by clawposture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Write {
    /// UTC, `YYYYMMDDTHHMMSSZ` (the backups' stamp).
    pub at: String,
    /// `apply`, or `undo` for a restore.
    #[serde(default = "apply_kind")]
    pub kind: String,
    pub preset: String,
    pub engine: Option<String>,
    pub answers: Answers,
    /// Every key whose value this write changed: the value before (absent: no key) and after.
    pub keys: Vec<KeyChange>,
    /// The backup of the file as it was before this write (its file name beside the config).
    pub backup: Option<String>,
    /// sha256 of the config's bytes right after this write.
    pub config_sha256: String,
    /// The config written (a state dir may serve more than one `--config`).
    #[serde(default)]
    pub config: Option<String>,
    /// The preset's policy file written (or found already holding its rules) with this write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<PolicyRecord>,
}

/// The policy file of a write: its path and the sha256 of its bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyRecord {
    pub path: String,
    pub sha256: String,
}

impl Ledger {
    /// The sha256 clawposture last recorded for the policy file at `path`.
    pub fn policy_sha256(&self, path: &str) -> Option<&str> {
        self.writes
            .iter()
            .rev()
            .find_map(|w| w.policy.as_ref().filter(|p| p.path == path))
            .map(|p| p.sha256.as_str())
    }
}

fn apply_kind() -> String {
    "apply".into()
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Answers {
    pub owner: Option<String>,
    pub groups: Vec<String>,
    pub members: Vec<String>,
    pub workspace_access: Option<String>,
    pub sandbox_network: Option<String>,
    pub accept_risk: bool,
    /// OpenClaw's `--profile NAME` this Gateway is.
    pub profile: Option<String>,
}

impl Answers {
    pub fn from_inputs(inputs: &Inputs, profile: Option<&str>) -> Answers {
        use crate::domain::choice::Setting;
        Answers {
            owner: inputs.owner.as_ref().map(ToString::to_string),
            groups: inputs.groups.iter().map(ToString::to_string).collect(),
            members: inputs.members.iter().map(ToString::to_string).collect(),
            workspace_access: inputs.workspace_access.map(|w| w.label().to_string()),
            sandbox_network: inputs.sandbox_network.map(|n| n.label().to_string()),
            accept_risk: inputs.accept_risk,
            profile: profile.map(str::to_string),
        }
    }
}

/// One key's change. `before`/`after` absent means the key did not exist (a JSON `null` is a
/// value OpenClaw can hold, so it is kept apart from "absent").
#[derive(Debug, Clone, Deserialize)]
pub struct KeyChange {
    pub key: Vec<String>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub before: Option<Value>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub after: Option<Value>,
    /// The user's own data moved, not a value clawposture chose (legacy `agents.list`
    /// migrated to `agents.entries`): undone with the write, never cleaned up.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub moved: bool,
    /// `before` is this many first items of `after`, an array only appended to (a big file's
    /// routes are not held twice): written as `before`, never read from a ledger.
    #[serde(skip)]
    before_items: Option<usize>,
}

impl KeyChange {
    pub fn new(key: Vec<String>, before: Option<Value>, after: Option<Value>, moved: bool) -> Self {
        KeyChange {
            key,
            before,
            after,
            moved,
            before_items: None,
        }
    }

    /// The value before, as written.
    fn before_view(&self) -> Option<Before<'_>> {
        match (&self.before, self.before_items, &self.after) {
            (Some(v), _, _) => Some(Before::Value(v)),
            (None, Some(n), Some(Value::Array(a))) => Some(Before::Items(&a[..n.min(a.len())])),
            _ => None,
        }
    }

    /// The same change with its value before held whole.
    pub fn materialized(mut self) -> KeyChange {
        if let Some(Before::Items(items)) = self.before_view() {
            self.before = Some(Value::Array(items.to_vec()));
        }
        self.before_items = None;
        self
    }
}

/// [`KeyChange`]'s value before: held, or the first items of the value after.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Before<'a> {
    Value(&'a Value),
    Items(&'a [Value]),
}

/// The same value before, however it is held.
impl PartialEq for Before<'_> {
    fn eq(&self, other: &Self) -> bool {
        fn items<'a>(b: &Before<'a>) -> Option<&'a [Value]> {
            match *b {
                Before::Items(items) => Some(items),
                Before::Value(v) => v.as_array().map(Vec::as_slice),
            }
        }
        match (self, other) {
            (Before::Value(a), Before::Value(b)) => a == b,
            (a, b) => items(a).is_some() && items(a) == items(b),
        }
    }
}

impl PartialEq for KeyChange {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
            && self.after == other.after
            && self.moved == other.moved
            && self.before_view() == other.before_view()
    }
}

/// Field for field as the struct reads (`key`, `before`, `after`, `moved`), absent ones left
/// out; `before` written from `after`'s first items where it is not held.
impl Serialize for KeyChange {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let before = self.before_view();
        let mut st = s.serialize_struct("KeyChange", 4)?;
        st.serialize_field("key", &self.key)?;
        match &before {
            Some(b) => st.serialize_field("before", b)?,
            None => st.skip_field("before")?,
        }
        match &self.after {
            Some(a) => st.serialize_field("after", a)?,
            None => st.skip_field("after")?,
        }
        match self.moved {
            true => st.serialize_field("moved", &true)?,
            false => st.skip_field("moved")?,
        }
        st.end()
    }
}

fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// The ledger as read from disk.
#[derive(Debug, Clone, PartialEq)]
pub enum Loaded {
    /// No ledger: first run, or a file written before the ledger existed.
    Missing,
    Ok(Ledger),
    /// Not a ledger this build can read: reported, never trusted to remove anything.
    Corrupt(String),
    /// Written by a newer clawposture: reported, never trusted or rewritten.
    Future(u32),
}

impl Loaded {
    pub fn ledger(&self) -> Option<&Ledger> {
        match self {
            Loaded::Ok(l) => Some(l),
            _ => None,
        }
    }

    /// Why the ledger cannot be used (None: it can, or there is none).
    pub fn problem(&self) -> Option<String> {
        match self {
            Loaded::Corrupt(why) => Some(format!(
                "The ledger ({FILE_NAME}) cannot be read ({why}): nothing is removed on its word; this write starts a new one."
            )),
            Loaded::Future(v) => Some(format!(
                "The ledger ({FILE_NAME}) is version {v}, newer than this clawposture ({VERSION}): nothing is removed on its word, and it is left as it is."
            )),
            _ => None,
        }
    }
}

pub fn parse(bytes: Option<&[u8]>) -> Loaded {
    let Some(bytes) = bytes else {
        return Loaded::Missing;
    };
    let value: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => return Loaded::Corrupt(format!("not JSON: {e}")),
    };
    match value.get("version").and_then(Value::as_u64) {
        Some(v) if v > u64::from(VERSION) => {
            return Loaded::Future(u32::try_from(v).unwrap_or(u32::MAX));
        }
        Some(_) => {}
        None => return Loaded::Corrupt("no version".into()),
    }
    match serde_json::from_value::<Ledger>(value) {
        Ok(l) => Loaded::Ok(l),
        Err(e) => Loaded::Corrupt(e.to_string()),
    }
}

/// The ledger's text. No secret literal is ever stored: each is replaced by its fingerprint
/// (see [`scrub`]), also in writes recorded by an older clawposture that kept them.
pub fn render(ledger: &Ledger) -> String {
    render_owned(ledger.clone())
}

/// [`render`] of a ledger the caller is done with: scrubbed in place, not copied.
fn render_owned(mut ledger: Ledger) -> String {
    scrub_ledger(&mut ledger);
    let mut text = serde_json::to_string_pretty(&ledger).unwrap_or_else(|_| "{}".into());
    text.push('\n');
    text
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

const MARK: &str = "«secret sha256:";

/// What the ledger stores for a secret string: a marker with the first 16 hex digits of its
/// sha256 (enough to tell whether the file still holds the same secret, and to find it there
/// again; the value itself is never stored).
pub fn fingerprint(secret: &str) -> String {
    format!("{MARK}{}»", &sha256_hex(secret.as_bytes())[..16])
}

pub fn is_marker(s: &str) -> bool {
    s.starts_with(MARK) && s.ends_with('»')
}

/// Whether a recorded value holds a secret's marker (at any depth).
pub fn has_marker(v: &Value) -> bool {
    match v {
        Value::String(s) => is_marker(s),
        Value::Array(a) => a.iter().any(has_marker),
        Value::Object(m) => m.values().any(has_marker),
        _ => false,
    }
}

/// `value`, found at `path` of the config, with every secret string (as the masking of
/// previews finds them: `presets/sensitive.toml` and secret-looking key names) replaced by
/// its [`fingerprint`].
pub fn scrub(path: &[String], value: &Value) -> Value {
    let mut v = value.clone();
    scrub_in_place(path, &mut v);
    v
}

/// A leaf of a SecretRef (`…token.id`) names where the secret lives, as the whole object
/// does when the file is scrubbed at once: never scrubbed.
fn ref_leaf(path: &[String], value: &Value) -> bool {
    value.is_string()
        && path
            .last()
            .is_some_and(|k| ["source", "provider", "id"].contains(&k.as_str()))
}

/// [`scrub`], borrowed when it has nothing to scrub (the file's routes, a key's value: a
/// copy of a big file's part only where it holds a secret).
fn scrub_cow<'v>(path: &[String], value: &'v Value) -> std::borrow::Cow<'v, Value> {
    if ref_leaf(path, value) || !crate::domain::secrets::has_secret_at(path, value) {
        std::borrow::Cow::Borrowed(value)
    } else {
        std::borrow::Cow::Owned(scrub(path, value))
    }
}

/// [`scrub`] in place (a recorded value as big as the file's routes is not copied).
fn scrub_in_place(path: &[String], value: &mut Value) {
    if ref_leaf(path, value) {
        return;
    }
    crate::domain::secrets::map_secrets_in_place(path, value, &|s| {
        if s.is_empty() || is_marker(s) {
            Value::String(s.to_string())
        } else {
            Value::String(fingerprint(s))
        }
    })
}

fn scrub_key_in_place(k: &mut KeyChange) {
    for v in [&mut k.before, &mut k.after].into_iter().flatten() {
        scrub_in_place(&k.key, v);
    }
}

fn scrub_key(k: &KeyChange) -> KeyChange {
    let mut k = k.clone();
    scrub_key_in_place(&mut k);
    k
}

/// The ledger with every recorded secret replaced by its fingerprint, in place.
fn scrub_ledger(l: &mut Ledger) {
    l.writes
        .iter_mut()
        .flat_map(|w| w.keys.iter_mut())
        .for_each(scrub_key_in_place);
}

fn scrubbed(l: &Ledger) -> Ledger {
    let mut l = l.clone();
    scrub_ledger(&mut l);
    l
}

/// Every leaf of a value: a non-object, or an empty object. An absent root has none.
#[cfg(test)]
fn leaves(v: &Value, path: &mut Vec<String>, out: &mut BTreeMap<Vec<String>, Value>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, x) in m {
                path.push(k.clone());
                leaves(x, path, out);
                path.pop();
            }
        }
        other => {
            out.insert(path.clone(), other.clone());
        }
    }
}

/// The keys that differ between two values of the config, leaf by leaf (arrays are one leaf,
/// and so is an empty object), in key order. Both values are walked together and an equal
/// subtree is skipped whole: listing every leaf of both (a big file's thousands) to compare
/// them one by one cost as much as the rest of the write.
pub fn diff(before: &Value, after: &Value) -> Vec<KeyChange> {
    diff_with(before, after, &NoHoles)
}

/// [`diff`] of `before` and `after` with its placeholders filled (`after` converted from a
/// syntax tree with holes, see [`crate::domain::document::Document::value_from`]): a hole
/// where `before` holds the same value is never read.
pub fn diff_with(before: &Value, after: &Value, holes: &dyn Placeholders) -> Vec<KeyChange> {
    diff_walk(before, after, holes, true)
}

/// [`diff_with`] with every `after` left out: each is the new value's leaf at its key
/// ([`leaf_at`]), read from it by [`fill_afters`] when the keys are drawn. The plan to write
/// holds its new value anyway; a copy of every leaf it changed (a big file's new routes, and
/// the routes kept) doubled it while the plan was made.
pub fn diff_keys_with(before: &Value, after: &Value, holes: &dyn Placeholders) -> Vec<KeyChange> {
    diff_walk(before, after, holes, false)
}

/// Each key's `after` read from `new` (keys from [`diff_keys_with`]), secrets scrubbed:
/// copied, or moved out when the caller gives `new` up. The keys are leaves of `new` and
/// none is inside another whose `after` is there, so a leaf moved out is never read again.
pub fn fill_afters(keys: &mut [KeyChange], mut new: std::borrow::Cow<'_, Value>) {
    for k in keys.iter_mut() {
        k.after = match &mut new {
            std::borrow::Cow::Borrowed(v) => leaf_at(v, &k.key).cloned(),
            std::borrow::Cow::Owned(v) => take_leaf(v, &k.key),
        };
        scrub_key_in_place(k);
    }
}

/// The leaf at `path` ([`leaf_at`]), moved out (null left in its place).
fn take_leaf(v: &mut Value, path: &[String]) -> Option<Value> {
    let mut at = v;
    for k in path {
        at = at.as_object_mut()?.get_mut(k)?;
    }
    match at {
        Value::Object(m) if !m.is_empty() => None,
        leaf => Some(std::mem::take(leaf)),
    }
}

fn diff_walk(
    before: &Value,
    after: &Value,
    holes: &dyn Placeholders,
    afters: bool,
) -> Vec<KeyChange> {
    fn branch(v: Option<&Value>) -> Option<&serde_json::Map<String, Value>> {
        v.and_then(Value::as_object).filter(|m| !m.is_empty())
    }
    fn same(
        a: Option<&Value>,
        b: Option<&Value>,
        path: &[String],
        holes: &dyn Placeholders,
    ) -> bool {
        match (a, b) {
            (Some(x), Some(y)) => holes.same(x, y, path),
            (None, None) => true,
            _ => false,
        }
    }
    fn walk(
        a: Option<&Value>,
        b: Option<&Value>,
        path: &mut Vec<String>,
        out: &mut Vec<KeyChange>,
        holes: &dyn Placeholders,
        afters: bool,
    ) {
        if same(a, b, path, holes) {
            return;
        }
        // A placeholder for another value than the one read here: its hole's own value.
        let resolved = b.and_then(|v| holes.resolve(v));
        let b = resolved.as_ref().or(b);
        let (am, bm) = (branch(a), branch(b));
        let (al, bl) = (a.filter(|_| am.is_none()), b.filter(|_| bm.is_none()));
        if !same(al, bl, path, holes) {
            // An array only appended to (the routes a preset adds): its value before is the
            // first items of its value after, filled in later ([`fill_afters`]).
            let appended = match (al, bl) {
                (Some(Value::Array(x)), Some(Value::Array(y))) if !afters => {
                    y.len() > x.len() && x.iter().zip(y).all(|(x, y)| holes.same(x, y, path))
                }
                _ => false,
            };
            out.push(KeyChange {
                key: path.clone(),
                before: al
                    .filter(|_| !appended)
                    .map(crate::domain::document::compact_clone),
                after: bl.filter(|_| afters).map(|v| holes.filled(v)),
                moved: false,
                before_items: al
                    .and_then(Value::as_array)
                    .filter(|_| appended)
                    .map(Vec::len),
            });
        }
        // A key of the tree's value may stand for a run of the object's entries: at its own
        // place they are the entries read (the same on both sides: not walked), elsewhere
        // its entries read from its bytes are compared.
        let mut runs = std::collections::HashSet::new();
        let mut same_keys = std::collections::HashSet::new();
        let mut read = serde_json::Map::new();
        for k in bm.into_iter().flat_map(|m| m.keys()) {
            match holes.run(k, path) {
                Some(Run::Own(keys)) => same_keys.extend(keys),
                Some(Run::Read(entries)) => read.extend(entries),
                None => continue,
            }
            runs.insert(k.as_str());
        }
        let keys: std::collections::BTreeSet<&String> = am
            .into_iter()
            .chain(bm)
            .flat_map(|m| m.keys())
            .chain(read.keys())
            .filter(|k| !runs.contains(k.as_str()) && !same_keys.contains(k.as_str()))
            .collect();
        for k in keys {
            path.push(k.clone());
            walk(
                am.and_then(|m| m.get(k)),
                bm.and_then(|m| m.get(k)).or_else(|| read.get(k)),
                path,
                out,
                holes,
                afters,
            );
            path.pop();
        }
    }
    let mut out = Vec::new();
    walk(
        Some(before),
        Some(after),
        &mut Vec::new(),
        &mut out,
        holes,
        afters,
    );
    out
}

fn token_path() -> Vec<String> {
    ["gateway", "auth", "token"].map(String::from).to_vec()
}

/// The keys a write changed, with the user's data it only moved marked as such: a legacy
/// `agents.list` migrated to `agents.entries.<id>`.
pub fn write_keys(old: &Value, new_value: &Value) -> Vec<KeyChange> {
    write_keys_of(old, diff(old, new_value))
}

/// [`write_keys`] of a diff from `old` taken already (see [`diff_with`]).
pub fn write_keys_of(old: &Value, changes: Vec<KeyChange>) -> Vec<KeyChange> {
    let mut moved: Vec<Vec<String>> = Vec::new();
    if let Some(list) = old.pointer("/agents/list").and_then(Value::as_array) {
        moved.push(vec!["agents".into(), "list".into()]);
        for id in list
            .iter()
            .filter_map(|i| i.get("id").and_then(Value::as_str))
        {
            moved.push(vec!["agents".into(), "entries".into(), id.to_string()]);
        }
    }
    changes
        .into_iter()
        .map(|mut k| {
            scrub_key_in_place(&mut k);
            k.moved = moved.iter().any(|m| k.key.starts_with(m));
            k
        })
        .collect()
}

/// A key clawposture wrote and the file still holds as written.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnedKey {
    /// What the user had before clawposture first wrote it (None: no key).
    pub original: Option<Value>,
    /// What clawposture wrote last (None: it removed the key).
    pub written: Option<Value>,
    pub preset: String,
}

/// What clawposture owns in a file today: only keys the ledger says it wrote, and only while
/// the file still holds what it wrote (a key changed by hand since is the user's again).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Owned {
    pub keys: BTreeMap<Vec<String>, OwnedKey>,
    /// `bindings` items clawposture added that the file still lists.
    pub bindings: Vec<Value>,
    /// Objects the user had empty (`main: {}`) before clawposture wrote keys inside: taking
    /// those keys away leaves the object, as the user had it, never prunes it.
    pub filled: std::collections::BTreeSet<Vec<String>>,
}

impl Owned {
    /// Whether clawposture wrote this key and the file still holds what it wrote.
    pub fn get(&self, key: &[String]) -> Option<&OwnedKey> {
        self.keys.get(key)
    }
}

impl Ledger {
    /// The answers of the last `apply` to this config (None: none recorded).
    pub fn last_answers(&self, config: &str) -> Option<&Answers> {
        self.writes
            .iter()
            .rfind(|w| w.kind == "apply" && w.config.as_deref().is_none_or(|c| c == config))
            .map(|w| &w.answers)
    }

    /// Only the writes of this config (a write that did not record its config counts).
    pub fn of_config(&self, config: &str) -> Ledger {
        Ledger {
            version: self.version,
            writes: self
                .writes
                .iter()
                .filter(|w| w.config.as_deref().is_none_or(|c| c == config))
                .cloned()
                .collect(),
        }
    }
}

/// Reconcile the ledger with the file's value today, key by key.
pub fn owned(ledger: &Ledger, file: &Value) -> Owned {
    // The ledger holds fingerprints of secrets (each recorded value is scrubbed again, in case
    // one holds a literal), and the file is compared in the same terms, key by key: scrubbed
    // copies of the whole ledger and the whole file cost several times a big file.
    type Recorded<'k> = Option<std::borrow::Cow<'k, Value>>;
    fn recorded(k: &KeyChange) -> (Recorded<'_>, Recorded<'_>) {
        (
            k.before.as_ref().map(|v| scrub_cow(&k.key, v)),
            k.after.as_ref().map(|v| scrub_cow(&k.key, v)),
        )
    }
    fn items<'a>(v: &'a Recorded<'_>) -> &'a [Value] {
        v.as_deref()
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }
    let scrubbed_leaf = |path: &[String]| leaf_at(file, path).map(|v| scrub_cow(path, v));
    let mut keys: BTreeMap<Vec<String>, OwnedKey> = BTreeMap::new();
    let mut added: Vec<Value> = Vec::new();
    let mut filled = std::collections::BTreeSet::new();
    for w in &ledger.writes {
        for k in &w.keys {
            let (before, after) = recorded(k);
            if matches!(before.as_deref(), Some(Value::Object(m)) if m.is_empty())
                && get_in(file, &k.key).is_some_and(Value::is_object)
            {
                filled.insert(k.key.clone());
            }
            // The token is managed on every write (and a literal one is never handed back);
            // moved user data is the user's.
            if k.moved || k.key.starts_with(&token_path()) {
                continue;
            }
            if k.key.first().is_some_and(|s| s == "bindings") && k.key.len() == 1 {
                let (before, after) = (items(&before), items(&after));
                let (before_set, after_set): (ValueSet, ValueSet) =
                    (before.iter().collect(), after.iter().collect());
                added.retain(|b| after_set.contains(b));
                let mut in_added: ValueSet = added.iter().collect();
                for item in after.iter().filter(|i| !before_set.contains(i)) {
                    if in_added.insert(item) {
                        added.push(item.clone());
                    }
                }
                continue;
            }
            let original = match keys.get(&k.key) {
                // Still what clawposture wrote last: the user's value is the one before that.
                Some(o) if o.written.as_ref() == before.as_deref() => o.original.clone(),
                // Changed by hand in between: the value before this write is the user's.
                _ => before.map(std::borrow::Cow::into_owned),
            };
            keys.insert(
                k.key.clone(),
                OwnedKey {
                    original,
                    written: after.map(std::borrow::Cow::into_owned),
                    preset: w.preset.clone(),
                },
            );
        }
    }
    // A secret moved out of the config (into `.env`) is never handed back as a literal, and
    // the reference that replaced it (its `source`/`provider`/`id` leaves) stays with it.
    let moved_secrets: Vec<Vec<String>> = keys
        .iter()
        .filter(|(_, o)| o.original.as_ref().is_some_and(has_marker))
        .map(|(k, _)| k.clone())
        .collect();
    keys.retain(|k, _| !moved_secrets.iter().any(|m| k.starts_with(m)));
    // Only what the file still holds as written is clawposture's. A key recorded as gone that
    // is now an object with keys inside (an empty object clawposture filled) is decided by
    // those keys, not as a whole.
    keys.retain(|path, o| {
        scrubbed_leaf(path).as_deref() == o.written.as_ref()
            && !(o.written.is_none() && get_in(file, path).is_some())
    });
    // Nothing to hand back: clawposture's value was the user's too.
    keys.retain(|_, o| o.original != o.written);
    // What clawposture wrote, as the file holds it (the ledger has only a fingerprint of a
    // secret it wrote; the file holds that very value, compared above).
    for (path, o) in keys.iter_mut() {
        if o.written.is_some() {
            o.written = leaf_at(file, path).cloned();
        }
    }
    let routes = file
        .get("bindings")
        .map(|b| scrub_cow(&["bindings".to_string()], b));
    let listed: ValueSet = routes
        .as_deref()
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .collect();
    added.retain(|b| listed.contains(b));
    Owned {
        keys,
        bindings: added,
        filled,
    }
}

/// The value at `path` as a leaf (a key holding a non-empty object has leaves, not a value).
pub fn leaf_at<'a>(v: &'a Value, path: &[String]) -> Option<&'a Value> {
    get_in(v, path).filter(|x| !matches!(x, Value::Object(m) if !m.is_empty()))
}

/// The keys of the last write that were edited since (the file no longer holds what was
/// written there), each with what it holds now.
pub fn edited_since(
    write: &Write,
    file: &Value,
) -> Vec<(Vec<String>, Option<Value>, Option<Value>)> {
    let keys: Vec<KeyChange> = write.keys.iter().map(scrub_key).collect();
    // Compared, and shown, as the ledger holds them: secrets by fingerprint.
    let now = |k: &KeyChange| leaf_at(file, &k.key).map(|v| scrub_cow(&k.key, v));
    keys.iter()
        .filter(|k| now(k).as_deref() != k.after.as_ref())
        .map(|k| {
            (
                k.key.clone(),
                k.after.clone(),
                now(k).map(std::borrow::Cow::into_owned),
            )
        })
        .collect()
}

/// The ledger to write with a config: everything but what only the write itself knows (when,
/// and the backup's name).
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    pub base: Ledger,
    pub write: Write,
}

impl Pending {
    /// The record of writing `new_text` over `old` (None: no file), appended to `base`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        base: Ledger,
        kind: &str,
        preset: &str,
        engine: Option<String>,
        answers: Answers,
        keys: Vec<KeyChange>,
        new_text: &str,
    ) -> Pending {
        // Scrubbed here, once, where both are owned: `render` then serializes them as they
        // stand (a copy of a big file's recorded routes to scrub cost as much as the value read).
        let mut base = base;
        scrub_ledger(&mut base);
        let mut keys = keys;
        keys.iter_mut().for_each(scrub_key_in_place);
        Pending {
            base: Ledger {
                version: VERSION,
                ..base
            },
            write: Write {
                at: String::new(),
                kind: kind.to_string(),
                preset: preset.to_string(),
                engine,
                answers,
                keys,
                backup: None,
                config_sha256: sha256_hex(new_text.as_bytes()),
                config: None,
                policy: None,
            },
        }
    }

    /// The ledger's text once the write is done at `at` with this backup.
    pub fn render(&self, at: &str, backup: Option<&str>) -> String {
        let w = &self.write;
        let stamped = Stamped {
            at,
            kind: &w.kind,
            preset: &w.preset,
            engine: &w.engine,
            answers: &w.answers,
            keys: &w.keys,
            backup,
            config_sha256: &w.config_sha256,
            config: &w.config,
            policy: w.policy.as_ref(),
        };
        let writes = self
            .base
            .writes
            .iter()
            .map(AnyWrite::Recorded)
            .chain([AnyWrite::Stamped(stamped)])
            .collect();
        let view = LedgerView {
            version: self.base.version,
            writes,
        };
        let mut text = serde_json::to_string_pretty(&view).unwrap_or_else(|_| "{}".into());
        text.push('\n');
        text
    }
}

/// The ledger [`Pending::render`] writes, borrowed: the new write stamped with its time and
/// backup, serialized field for field as [`Write`] is (`render_is_the_ledger_with_the_write_stamped`
/// holds the two to the same text).
#[derive(Serialize)]
struct LedgerView<'a> {
    version: u32,
    writes: Vec<AnyWrite<'a>>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum AnyWrite<'a> {
    Recorded(&'a Write),
    Stamped(Stamped<'a>),
}

#[derive(Serialize)]
struct Stamped<'a> {
    at: &'a str,
    kind: &'a str,
    preset: &'a str,
    engine: &'a Option<String>,
    answers: &'a Answers,
    keys: &'a [KeyChange],
    backup: Option<&'a str>,
    config_sha256: &'a str,
    config: &'a Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    policy: Option<&'a PolicyRecord>,
}

/// How to undo the last write.
#[derive(Debug, Clone, PartialEq)]
pub enum Undo {
    /// Nothing was edited since: the backup holds the previous bytes exactly.
    Backup { name: String, rest: Ledger },
    /// Edits to other keys were made since, or the write moved a secret out of the config:
    /// reverse this write's keys one by one, keeping those edits.
    Keys {
        new_text: String,
        rest: Ledger,
        /// Keys whose secret the write moved out of the config (into `.env`): they keep their
        /// reference; the literal is never put back.
        kept_references: Vec<String>,
    },
}

/// Why the last write cannot be undone.
#[derive(Debug, Clone, PartialEq)]
pub enum UndoRefused {
    NothingToUndo,
    /// There was no config before clawposture's write.
    NoFileBefore,
    /// These keys were edited since: (key, what clawposture wrote, what the file holds now).
    EditedSince(Vec<(String, Option<Value>, Option<Value>)>),
    Unreadable(String),
}

impl std::fmt::Display for UndoRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show = |v: &Option<Value>| v.as_ref().map_or("(absent)".to_string(), Value::to_string);
        match self {
            UndoRefused::NothingToUndo => write!(f, "the ledger records no write to undo."),
            UndoRefused::NoFileBefore => write!(
                f,
                "there was no config before clawposture's last write: remove the file yourself to go back to that."
            ),
            UndoRefused::EditedSince(keys) => {
                let list: Vec<String> = keys
                    .iter()
                    .map(|(k, w, n)| {
                        format!(
                            "`{k}` (clawposture wrote {}, it is now {})",
                            show(w),
                            show(n)
                        )
                    })
                    .collect();
                write!(
                    f,
                    "these keys were edited since clawposture's last write, so undoing it would overwrite your edits: {}. Set them back by hand (or restore a backup) and run again.",
                    list.join(", ")
                )
            }
            UndoRefused::Unreadable(why) => write!(f, "the config cannot be read: {why}"),
        }
    }
}

/// Plan undoing the last write on the file `current` holds now (pure).
pub fn undo(ledger: &Ledger, current: &str) -> Result<Undo, UndoRefused> {
    use crate::domain::document::Document;
    // An older ledger may hold literals: undo works on fingerprints only, as a new one does.
    let ledger = &scrubbed(ledger);
    let last = ledger.writes.last().ok_or(UndoRefused::NothingToUndo)?;
    let mut rest = ledger.clone();
    rest.writes.pop();
    let doc = Document::parse(current).map_err(|e| UndoRefused::Unreadable(e.to_string()))?;
    let value = doc.value();
    let edited = edited_since(last, &value);
    if !edited.is_empty() {
        return Err(UndoRefused::EditedSince(
            edited
                .into_iter()
                .map(|(k, w, n)| (crate::domain::keypath::display(&k), w, n))
                .collect(),
        ));
    }
    let Some(backup) = &last.backup else {
        return Err(UndoRefused::NoFileBefore);
    };
    // The secrets the file holds now, by fingerprint: a secret the write only moved within
    // the file (`agents.list` to `agents.entries`) is found again; one it moved out of the
    // file (into `.env`) is not, and its key keeps the reference.
    let mut here = Vec::new();
    crate::domain::secrets::collect(&value, &mut here);
    let known: BTreeMap<String, String> = here.into_iter().map(|s| (fingerprint(&s), s)).collect();
    fn restore(v: &Value, known: &BTreeMap<String, String>) -> Option<Value> {
        Some(match v {
            Value::String(s) if is_marker(s) => Value::String(known.get(s)?.clone()),
            Value::Array(a) => Value::Array(
                a.iter()
                    .map(|x| restore(x, known))
                    .collect::<Option<Vec<_>>>()?,
            ),
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, x)| restore(x, known).map(|x| (k.clone(), x)))
                    .collect::<Option<_>>()?,
            ),
            other => other.clone(),
        })
    }
    let mut kept: Vec<Vec<String>> = Vec::new();
    let mut back: Vec<(Vec<String>, Value)> = Vec::new();
    for k in &last.keys {
        let Some(before) = &k.before else { continue };
        match restore(before, &known) {
            Some(v) => back.push((k.key.clone(), v)),
            None => kept.push(k.key.clone()),
        }
    }
    let kept_references: Vec<String> = kept
        .iter()
        .map(|k| crate::domain::keypath::display(k))
        .collect();
    // The backup holds the moved literals: its bytes are never put back then.
    if kept_references.is_empty() && sha256_hex(current.as_bytes()) == last.config_sha256 {
        return Ok(Undo::Backup {
            name: backup.clone(),
            rest,
        });
    }
    // The reference's own leaves (`…botToken.id`) stay with it.
    let removed: Vec<Vec<String>> = last
        .keys
        .iter()
        .filter(|k| k.before.is_none() && !kept.iter().any(|p| k.key.starts_with(p)))
        .map(|k| k.key.clone())
        .collect();
    doc.remove_many(&removed, |p| {
        if p.first().is_some_and(|s| s == "channels") {
            2
        } else {
            0
        }
    });
    doc.set_many(&back);
    Ok(Undo::Keys {
        new_text: doc.text(),
        rest,
        kept_references,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(s: &str) -> Vec<String> {
        s.split('.').map(str::to_string).collect()
    }

    fn write(preset: &str, keys: Vec<KeyChange>) -> Write {
        Write {
            at: "20261130T000000Z".into(),
            kind: "apply".into(),
            preset: preset.into(),
            engine: None,
            answers: Answers::default(),
            keys,
            backup: None,
            config_sha256: String::new(),
            config: None,
            policy: None,
        }
    }

    /// An array only appended to holds no copy of its items before, and is written as if it
    /// held them; one changed otherwise (an item edited) holds its value before whole.
    #[test]
    fn an_array_only_appended_to_is_written_with_its_items_before() {
        let before = json!({"bindings": [{"a": 1}, {"b": 2}], "deny": ["x", "y"], "n": 1});
        let after =
            json!({"bindings": [{"a": 1}, {"b": 2}, {"c": 3}], "deny": ["y", "x", "z"], "n": 2});
        let mut keys = diff_keys_with(&before, &after, &NoHoles);
        fill_afters(&mut keys, std::borrow::Cow::Borrowed(&after));
        let at = |k: &[KeyChange], key: &str| k.iter().find(|c| c.key == [key]).cloned();
        assert_eq!(at(&keys, "bindings").and_then(|k| k.before), None);
        assert_eq!(
            at(&keys, "deny").and_then(|k| k.before),
            Some(json!(["x", "y"]))
        );
        let whole: Vec<KeyChange> = keys.iter().cloned().map(KeyChange::materialized).collect();
        assert_eq!(
            at(&whole, "bindings").and_then(|k| k.before),
            Some(json!([{"a": 1}, {"b": 2}]))
        );
        assert_eq!(
            serde_json::to_string(&keys).ok(),
            serde_json::to_string(&whole).ok()
        );
        assert_eq!(keys, whole);
        assert_eq!(keys, diff(&before, &after));
    }

    #[test]
    fn absent_and_null_are_told_apart_through_the_codec() {
        let l = Ledger {
            version: VERSION,
            writes: vec![write(
                "private",
                vec![
                    KeyChange::new(p("a.b"), None, Some(Value::Null), false),
                    KeyChange::new(p("c"), Some(json!(1)), None, true),
                ],
            )],
        };
        assert_eq!(parse(Some(render(&l).as_bytes())), Loaded::Ok(l));
    }

    #[test]
    fn corrupt_and_future_ledgers_are_reported_not_trusted() {
        assert!(matches!(parse(Some(b"{nope")), Loaded::Corrupt(_)));
        assert!(matches!(parse(Some(b"[]")), Loaded::Corrupt(_)));
        assert!(matches!(
            parse(Some(br#"{"version":1,"writes":[{"at":1}]}"#)),
            Loaded::Corrupt(_)
        ));
        assert_eq!(
            parse(Some(br#"{"version":9,"writes":"whatever"}"#)),
            Loaded::Future(9)
        );
        assert_eq!(parse(None), Loaded::Missing);
        assert!(parse(Some(b"{nope")).problem().is_some());
    }

    #[test]
    fn undo_reverses_only_the_last_write_and_keeps_other_edits() {
        let before = "{\n  // mine\n  \"a\": 1,\n  \"b\": {\"c\": true}\n}\n";
        let after = "{\n  // mine\n  \"a\": 2,\n  \"b\": {\"c\": true, \"d\": 3}\n}\n";
        let doc = |t: &str| crate::domain::document::Document::parse(t).unwrap().value();
        let mut w = write("private", diff(&doc(before), &doc(after)));
        w.backup = Some("x.bak".into());
        w.config_sha256 = sha256_hex(after.as_bytes());
        let l = Ledger {
            version: VERSION,
            writes: vec![w],
        };
        assert!(
            matches!(undo(&l, after), Ok(Undo::Backup { name, rest }) if name == "x.bak" && rest.writes.is_empty())
        );
        // Another key edited since: kept, and this write's keys reversed.
        let edited = after.replace("true", "false");
        let Ok(Undo::Keys { new_text, .. }) = undo(&l, &edited) else {
            panic!("keys");
        };
        assert_eq!(new_text, before.replace("true", "false"));
        // The same key edited since: refused, naming it.
        let err = undo(&l, &after.replace("\"a\": 2", "\"a\": 5")).unwrap_err();
        assert!(
            err.to_string()
                .contains("`a` (clawposture wrote 2, it is now 5)"),
            "{err}"
        );
    }

    #[test]
    fn the_ledger_never_stores_a_secret_literal_not_even_an_older_ledgers() {
        let before = json!({"gateway": {"auth": {"token": "GWLITERAL0123456789abcdefgh"}},
            "channels": {"telegram": {"botToken": "123:BOTLITERAL"}}});
        let after = json!({"gateway": {"auth": {"token": {"source": "env", "provider": "default", "id": "OPENCLAW_GATEWAY_TOKEN"}}},
            "channels": {"telegram": {"botToken": {"source": "env", "provider": "default", "id": "OPENCLAW_TELEGRAM_BOT_TOKEN"}}}});
        let keys = write_keys(&before, &after);
        let text = render(&Ledger {
            version: VERSION,
            writes: vec![write("private", keys)],
        });
        assert!(
            !text.contains("GWLITERAL") && !text.contains("BOTLITERAL"),
            "{text}"
        );
        assert!(text.contains(&fingerprint("123:BOTLITERAL")), "{text}");
        assert!(text.contains("OPENCLAW_TELEGRAM_BOT_TOKEN"), "{text}");
        // A ledger an older clawposture wrote, with the literal in it, is cleaned on render.
        let old = Ledger {
            version: VERSION,
            writes: vec![write("private", diff(&before, &after))],
        };
        assert!(serde_json::to_string(&old).unwrap().contains("BOTLITERAL"));
        assert!(!render(&old).contains("BOTLITERAL"));
    }

    #[test]
    fn afters_drawn_from_the_new_value_are_the_diffs_copied_or_moved_secrets_scrubbed() {
        let before = json!({"channels": {"telegram": {"botToken": "123:OLDLITERAL", "x": {}}}, "bindings": [1], "gone": true});
        let after = json!({"channels": {"telegram": {"botToken": "123:NEWLITERAL", "x": {"y": [2]}}}, "bindings": [1, {"agentId": "a"}], "new": {}});
        let mut want = diff(&before, &after);
        want.iter_mut().for_each(scrub_key_in_place);
        let mut copied = diff_keys_with(&before, &after, &NoHoles);
        assert!(copied.iter().all(|k| k.after.is_none()));
        let mut moved = copied.clone();
        fill_afters(&mut copied, std::borrow::Cow::Borrowed(&after));
        fill_afters(&mut moved, std::borrow::Cow::Owned(after.clone()));
        assert_eq!(copied, want);
        assert_eq!(moved, want);
        assert!(!format!("{want:?}").contains("LITERAL\""));
    }

    #[test]
    fn render_is_the_ledger_with_the_write_stamped() {
        let before = json!({"gateway": {"bind": "lan"}, "channels": {"telegram": {"botToken": "123:BOTLITERAL"}}, "bindings": [{"agentId": "a"}]});
        let after = json!({"gateway": {"bind": "loopback"}, "channels": {"telegram": {"botToken": "123:NEWLITERAL"}}, "bindings": [{"agentId": "a"}, {"agentId": "b"}]});
        // An older write recorded with a literal (scrubbed on render), and this write's keys
        // unscrubbed as handed over.
        let base = Ledger {
            version: VERSION,
            writes: vec![write("private", diff(&before, &after))],
        };
        for policy in [
            None,
            Some(PolicyRecord {
                path: "/s/p.jsonc".into(),
                sha256: "ab".into(),
            }),
        ] {
            for backup in [None, Some("c.bak")] {
                let mut pending = Pending::new(
                    base.clone(),
                    "apply",
                    "group",
                    Some("docker".into()),
                    Answers::default(),
                    diff(&before, &after),
                    "{}",
                );
                pending.write.config = Some("/c/openclaw.json".into());
                pending.write.policy = policy.clone();
                let mut whole = base.clone();
                whole.writes.push(Write {
                    at: "20261201T000000Z".into(),
                    backup: backup.map(str::to_string),
                    ..pending.write.clone()
                });
                let text = pending.render("20261201T000000Z", backup);
                assert_eq!(text, render(&whole));
                assert!(!text.contains("LITERAL\""), "{text}");
                assert_eq!(parse(Some(text.as_bytes())), Loaded::Ok(scrubbed(&whole)));
            }
        }
    }

    #[test]
    fn undo_after_a_move_keeps_the_reference_and_finds_secrets_moved_within_the_file() {
        let doc = |t: &str| crate::domain::document::Document::parse(t).unwrap().value();
        let before = "{\n  channels: { telegram: { botToken: '123:BOTLITERAL' } },\n  agents: { list: [ { id: 'a', sandbox: { ssh: { identityData: 'SSHDATA-1234' } } } ] },\n}\n";
        let after = "{\n  channels: { telegram: { botToken: { source: 'env', provider: 'default', id: 'OPENCLAW_TELEGRAM_BOT_TOKEN' } } },\n  agents: { entries: { a: { sandbox: { ssh: { identityData: 'SSHDATA-1234' } } } } },\n  x: 1,\n}\n";
        let mut w = write("private", write_keys(&doc(before), &doc(after)));
        w.backup = Some("b.bak".into());
        w.config_sha256 = sha256_hex(after.as_bytes());
        let l = Ledger {
            version: VERSION,
            writes: vec![w],
        };
        // Nothing edited since, yet the backup holds the moved literal: key by key instead.
        let Ok(Undo::Keys {
            new_text,
            kept_references,
            ..
        }) = undo(&l, after)
        else {
            panic!("keys");
        };
        assert_eq!(kept_references, ["channels.telegram.botToken"]);
        let v = doc(&new_text);
        assert_eq!(
            v["channels"]["telegram"]["botToken"]["id"],
            "OPENCLAW_TELEGRAM_BOT_TOKEN"
        );
        assert!(
            !new_text.contains("BOTLITERAL") && !new_text.contains("«secret"),
            "{new_text}"
        );
        // The SSH data only moved within the file: found again by its fingerprint.
        assert_eq!(
            v["agents"]["list"][0]["sandbox"]["ssh"]["identityData"], "SSHDATA-1234",
            "{new_text}"
        );
        assert!(v.get("x").is_none());
        // "Back to your value" never hands the literal back either.
        let o = owned(&l, &doc(after));
        assert!(
            o.keys
                .keys()
                .all(|k| !k.starts_with(&p("channels.telegram.botToken"))),
            "{:?}",
            o.keys.keys().collect::<Vec<_>>()
        );
    }

    #[test]
    fn diff_is_the_leaf_by_leaf_comparison() {
        // The plain definition: every leaf of both, compared one by one, in key order.
        fn by_leaves(before: &Value, after: &Value) -> Vec<KeyChange> {
            let (mut a, mut b) = (BTreeMap::new(), BTreeMap::new());
            leaves(before, &mut Vec::new(), &mut a);
            leaves(after, &mut Vec::new(), &mut b);
            let mut keys: Vec<&Vec<String>> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .filter(|k| a.get(*k) != b.get(*k))
                .map(|k| KeyChange::new(k.clone(), a.get(k).cloned(), b.get(k).cloned(), false))
                .collect()
        }
        let values = [
            json!({}),
            json!({"a": {}}),
            json!({"a": {"x": 1}, "k": [1]}),
            json!({"a": {"x": 1, "y": {"z": 2}}, "k": [1, 2]}),
            json!({"a": 3, "b": {"c": {"d": null}}, "z": {}}),
            json!({"b": {"c": {"d": false, "e": "s"}}, "a": {"x": {}}}),
            json!({"a": {"x": 1, "a b": 2, "a.b": {"c": 1}}, "": 1}),
            json!([1, 2]),
            json!("s"),
        ];
        for x in &values {
            for y in &values {
                assert_eq!(diff(x, y), by_leaves(x, y), "{x} -> {y}");
            }
        }
    }

    #[test]
    fn diff_goes_down_to_leaves() {
        let d = diff(
            &json!({"a": {"x": 1}, "k": [1]}),
            &json!({"a": {"x": 1, "y": {"z": 2}}, "k": [1, 2]}),
        );
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].key, p("a.y.z"));
        assert_eq!(d[0].before, None);
        assert_eq!(d[1].key, p("k"));
    }

    #[test]
    fn ownership_is_reconciled_key_by_key() {
        let l = Ledger {
            version: VERSION,
            writes: vec![
                write(
                    "public",
                    diff(
                        &json!({"port": 19789, "mode": "off"}),
                        &json!({"port": 1, "mode": "all", "x": true}),
                    ),
                ),
                write(
                    "private",
                    diff(&json!({"mode": "all"}), &json!({"mode": "non-main"})),
                ),
            ],
        };
        // The user changed `x` by hand since: it is theirs.
        let file = json!({"port": 1, "mode": "non-main", "x": false});
        let o = owned(&l, &file);
        assert_eq!(o.get(&p("port")).unwrap().original, Some(json!(19789)));
        assert_eq!(
            o.get(&p("mode")).unwrap().original,
            Some(json!("off")),
            "the user's value before clawposture, not the previous preset's"
        );
        assert!(o.get(&p("x")).is_none());
    }
}
