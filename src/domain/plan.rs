//! The plan: a pure function from (current file text, choice) to the new text, every change
//! with its reason, and warnings. Nothing here touches the disk.

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;
use serde_json::{Value, json};

use crate::domain::choice::{self, Choice, Desired, get_in, set_in};
use crate::domain::document::{self, Document, ParseError};
use crate::domain::keypath;
use crate::domain::ledger::{self, Owned};
use crate::domain::secrets;
use crate::domain::strictness::{self, Verdict};
use crate::domain::value_set::ValueSet;

pub const TOKEN_ENV: &str = "OPENCLAW_GATEWAY_TOKEN";
/// The audit flags gateway tokens shorter than this (`gateway.token_too_short`).
pub const MIN_TOKEN_LEN: usize = 24;

/// What the plan needs to know about `$STATE_DIR/.env`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenState {
    pub env_file_has_token: bool,
    /// `DOCKER_HOST` as `.env` defines it: the endpoint the Gateway service reaches (it does
    /// not inherit the shell's DOCKER_HOST, but loads `.env` at start).
    pub docker_host: Option<String>,
    /// `$STATE_DIR/clawposture.policy.jsonc` as found (the preset's policy is written there).
    pub policy_file: crate::domain::policy::PolicyFile,
    /// What `$STATE_DIR/.env` defines (values never printed): a moved channel secret never
    /// takes a name it already holds with another value.
    pub env_vars: crate::domain::secret_moves::EnvVars,
}

/// What happens to `$STATE_DIR/.env`.
#[derive(Clone, PartialEq, Eq)]
pub enum EnvFileAction {
    Unchanged,
    /// Add a new random token.
    GenerateToken,
    /// Move the literal token out of the config into `.env` (clients keep working).
    MoveLiteralToken(String),
}

// Never print the moved token, not even in debug output.
impl fmt::Debug for EnvFileAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl EnvFileAction {
    pub fn label(&self) -> &'static str {
        match self {
            EnvFileAction::Unchanged => "unchanged",
            EnvFileAction::GenerateToken => "generate_token",
            EnvFileAction::MoveLiteralToken(_) => "move_literal_token",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Change {
    pub key: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub why: String,
    pub doc: String,
    /// The change makes the key less strict (see `presets/strictness.toml`), and whose value
    /// it loosens: the user's needs an acknowledgement (`--allow-loosen`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loosens: Option<Loosens>,
}

/// Whose value a loosening change weakens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Loosens {
    /// A value the user had (clawposture did not write it): needs an acknowledgement.
    User,
    /// A value clawposture wrote for a stricter preset.
    Clawposture,
}

/// A user's value kept because it is stricter than the preset's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Kept {
    pub key: String,
    pub value: Value,
    pub preset_value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub preset: String,
    pub new_file: bool,
    pub old_text: String,
    pub new_text: String,
    pub changes: Vec<Change>,
    pub warnings: Vec<String>,
    pub notes: Vec<String>,
    /// The user's values kept because they are stricter than the preset's.
    pub kept: Vec<Kept>,
    pub env_file: EnvFileAction,
    /// `DOCKER_HOST` to write into `$STATE_DIR/.env` so the Gateway service reaches the engine
    /// the preset was chosen for (set by the application layer from the Gateway's view).
    pub env_docker_host: Option<String>,
    /// Strings to mask in anything shown to people.
    pub secrets: Vec<String>,
    /// [`Plan::secrets`], ready to mask a text in one pass.
    pub masker: secrets::Masker,
    /// What `new_text` reads as (checked against it): callers need not parse it again.
    pub new_value: Value,
    /// Literal channel secrets moved to `.env` (with the user's yes), or that could be.
    pub secret_moves: crate::domain::secret_moves::Moves,
    /// How many keys the preset owns in this file (its leaves, before the per-agent fixes and
    /// floors): recognition's measure of fit.
    pub preset_keys: usize,
    /// The keys the write changes, each `after` still in `new_value`: drawn with
    /// [`Plan::ledger_keys`] or [`Plan::take_ledger_keys`]. Only the plan to write has them
    /// ([`plan_owned`]); empty elsewhere.
    ledger_keys: Vec<crate::domain::ledger::KeyChange>,
}

impl Plan {
    /// The keys the write changes, as the ledger records them (secrets scrubbed).
    pub fn ledger_keys(&self) -> Vec<crate::domain::ledger::KeyChange> {
        let mut keys = self.ledger_keys.clone();
        crate::domain::ledger::fill_afters(&mut keys, Cow::Borrowed(&self.new_value));
        keys
    }

    /// [`Plan::ledger_keys`], the new value given up: its leaves move into the keys (a big
    /// file's new routes are not copied), and `new_value` is null after this.
    pub fn take_ledger_keys(&mut self) -> Vec<crate::domain::ledger::KeyChange> {
        let mut keys = std::mem::take(&mut self.ledger_keys);
        let new = std::mem::take(&mut self.new_value);
        crate::domain::ledger::fill_afters(&mut keys, Cow::Owned(new));
        keys
    }

    /// Drop the new value and the ledger keys (the caller reads neither again).
    pub fn forget_values(&mut self) {
        self.new_value = Value::Null;
        self.ledger_keys = Vec::new();
    }

    /// Nothing to write: the file already holds exactly this posture.
    pub fn is_noop(&self) -> bool {
        self.new_text == self.old_text
            && self.env_file == EnvFileAction::Unchanged
            && self.env_docker_host.is_none()
            && self.secret_moves.env.is_empty()
    }

    /// The changes that loosen a value the user had (each needs `--allow-loosen`).
    pub fn user_loosenings(&self) -> Vec<&Change> {
        self.changes
            .iter()
            .filter(|c| c.loosens == Some(Loosens::User))
            .collect()
    }

    pub fn mask(&self, text: &str) -> String {
        self.masker.mask(text)
    }

    /// A unified diff of the current file against the new one, secrets masked: on the syntax
    /// tree first (every secret string node, escapes included), then by value.
    pub fn diff(&self, old_name: &str, new_name: &str) -> String {
        let (old, new) = (
            secrets::mask_spans(&self.old_text),
            secrets::mask_spans(&self.new_text),
        );
        let diff = similar::TextDiff::from_lines(&old, &new);
        let text = diff
            .unified_diff()
            .context_radius(3)
            .header(old_name, new_name)
            .to_string();
        self.mask(&text)
    }

    /// The new config text, secrets masked (the wizard shows it whole).
    pub fn masked_new_text(&self) -> String {
        self.mask(&secrets::mask_spans(&self.new_text))
    }

    /// The changes with every secret masked, for JSON output and previews: by key path (the
    /// change's key and the keys inside its value), then by value.
    pub fn masked_changes(&self) -> Vec<Change> {
        self.changes.iter().map(|c| self.masked_change(c)).collect()
    }

    /// One of [`Plan::masked_changes`] (a big file's changes are shown one at a time).
    pub fn masked_change(&self, c: &Change) -> Change {
        // `bindings[3]` / `bindings[]` name an array item.
        let at: Vec<String> = keypath::parse(c.key.split('[').next().unwrap_or(""))
            .map(|mut p| {
                if c.key.contains('[') {
                    p.push("[]".into());
                }
                p
            })
            .unwrap_or_default();
        let mask_value = |v: &Option<Value>| {
            v.as_ref().map(|v| {
                let v = secrets::mask_value_at(&at, v);
                let text = self.mask(&v.to_string());
                serde_json::from_str(&text).unwrap_or(Value::String(text))
            })
        };
        Change {
            before: mask_value(&c.before),
            after: mask_value(&c.after),
            ..c.clone()
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum PlanError {
    /// The file is not JSON5 OpenClaw can read.
    Parse(ParseError),
    /// A key the preset owns lives behind `$include`.
    Include {
        key: String,
        line: usize,
        column: usize,
    },
    /// The edit did not produce what it should have; nothing may be written.
    Internal(String),
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanError::Parse(e) => write!(
                f,
                "{e}. Fix the file (or restore a backup) and run again; nothing was written."
            ),
            PlanError::Include { key, line, column } => write!(
                f,
                "{line}:{column}: `{key}` is loaded through $include, and the preset owns keys inside it or the threat model's invariants read it (agents, bindings, channels, session, tools): clawposture judges and writes only the main file. Move the included keys into the main file (or apply the preset to the included file) and run again; nothing was written."
            ),
            PlanError::Internal(m) => write!(f, "internal check failed, nothing was written: {m}"),
        }
    }
}

fn path(s: &str) -> Vec<String> {
    s.split('.').map(str::to_string).collect()
}

fn secret_ref() -> Value {
    json!({"source": "env", "provider": "default", "id": TOKEN_ENV})
}

/// Channel blocks present in the file (clawposture never adds one).
pub fn channels_in(value: &Value) -> Vec<String> {
    value
        .get("channels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter(|(k, v)| v.is_object() && k.as_str() != "defaults")
                .map(|(k, _)| k.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// Parents that a removal may prune: never a channel block itself (an empty channel block
/// still starts that channel, so its presence is the user's decision).
fn keep_depth(p: &[String]) -> usize {
    if p.first().is_some_and(|s| s == "channels") {
        2
    } else {
        0
    }
}

/// [`keep_depth`], and no pruning of an object the user had empty before clawposture filled
/// it ([`Owned::filled`]): going back, or a preset that unsets what clawposture wrote there,
/// leaves it as the user wrote it.
fn keep_depth_owned(owned: &Owned, p: &[String]) -> usize {
    let filled = (1..=p.len())
        .rev()
        .find(|&n| owned.filled.contains(&p[..n]))
        .unwrap_or(0);
    keep_depth(p).max(filled)
}

/// The keys clawposture wrote for an earlier preset that `want` does not set and the file
/// still holds as written: each goes back to the user's value. A key at or below one already
/// going away is skipped, as a one-by-one removal would find it gone.
fn going_back<'a>(
    owned: &'a Owned,
    want: &Desired,
    value: &Value,
) -> Vec<(&'a Vec<String>, &'a crate::domain::ledger::OwnedKey)> {
    let mut removed: std::collections::HashSet<&[String]> = Default::default();
    let mut back = Vec::new();
    for (key, o) in &owned.keys {
        if want.leaves.iter().any(|l| covers(l, key)) {
            continue;
        }
        let gone = (1..=key.len()).any(|n| removed.contains(&key[..n]));
        if gone || crate::domain::ledger::leaf_at(value, key) != o.written.as_ref() {
            continue;
        }
        if o.original.is_none() {
            removed.insert(key);
        }
        back.push((key, o));
    }
    back
}

/// `value` once `back` went back, as the edits do it: removals first (pruning the parents
/// they empty, as [`Document::remove_many`] does), then the user's values.
fn projected(
    value: &Value,
    back: &[(&Vec<String>, &crate::domain::ledger::OwnedKey)],
    owned: &Owned,
) -> Value {
    let mut v = value.clone();
    for (key, _) in back.iter().filter(|(_, o)| o.original.is_none()) {
        set_in(&mut v, key, None);
        let mut depth = key.len().saturating_sub(1);
        while depth > keep_depth_owned(owned, key)
            && get_in(&v, &key[..depth])
                .is_some_and(|o| o.as_object().is_some_and(|m| m.is_empty()))
        {
            set_in(&mut v, &key[..depth], None);
            depth -= 1;
        }
    }
    for (key, o) in back {
        if let Some(original) = &o.original {
            set_in(&mut v, key, Some(original.clone()));
        }
    }
    v
}

/// The file a plan judges: its own to change and put back, or only to read.
enum Judged<'a> {
    Mut(&'a mut Value),
    Read(&'a Value),
}

/// `want` with the leaves the threat model's invariants need per agent and account, and the
/// preset's sandbox floor for what they leave, judged on the file as `want` leaves it.
fn add_fixes(want: &mut Desired, judged: Judged, engine: bool, waived: &[String]) {
    use crate::domain::invariant_fixes::{fixes, fixes_read};
    let (fixes, value) = match judged {
        Judged::Mut(v) => (fixes(v, want, engine, waived), &*v),
        Judged::Read(v) => (fixes_read(v, want, engine, waived), v),
    };
    want.leaves.extend(fixes);
    let floors = crate::domain::agent_floors::sandbox_floors(value, want);
    want.leaves.extend(floors);
}

fn read_value<'v>(read: &'v Option<Read>) -> &'v Value {
    read.as_ref().map_or(&Value::Null, Read::get)
}

/// Whether one of our leaves decides `other`: the same key, a key inside it, or an object
/// that contains it (but not a bare "this object exists" leaf).
fn covers(ours: &choice::Leaf, other: &[String]) -> bool {
    let exists_only = matches!(&ours.value, Some(Value::Object(m)) if m.is_empty());
    ours.path.starts_with(other) || (other.starts_with(&ours.path) && !exists_only)
}

/// Plan `choice` against the current file (None: no file). `owned` is what the ledger says
/// clawposture wrote and the file still holds: only those keys are candidates for removal when
/// switching presets, and they go back to the value the user had before clawposture. Without a
/// ledger (`Owned::default()`), nothing the user wrote is removed.
pub fn plan(
    current: Option<&str>,
    choice: &Choice,
    owned: &Owned,
    token: TokenState,
) -> Result<Plan, PlanError> {
    plan_read(current, None, choice, owned, token)
}

/// [`plan`] of a file whose value the caller has read already (`document::parse_value` of
/// `current`; None: read it here): the syntax tree is still built for the edits, but the
/// whole-file value is not converted again.
pub fn plan_read(
    current: Option<&str>,
    read: Option<&Value>,
    choice: &Choice,
    owned: &Owned,
    token: TokenState,
) -> Result<Plan, PlanError> {
    plan_with(
        current.map(Cow::Borrowed),
        read.map(Read::Borrowed),
        choice,
        owned,
        token,
        Mode::Full,
    )
}

/// [`plan_read`] of the plan to write, given the file's text and value to use up: the plan's
/// `old_text` is that text and its `new_value` is made of the value (a big file's text and
/// value are never held twice, see [`Document::value_from`]), and its `ledger_keys` are
/// filled.
pub fn plan_owned(
    current: Option<String>,
    read: Option<Value>,
    choice: &Choice,
    owned: &Owned,
    token: TokenState,
) -> Result<Plan, PlanError> {
    plan_with(
        current.map(Cow::Owned),
        read.map(Read::Owned),
        choice,
        owned,
        token,
        Mode::ToWrite,
    )
}

/// [`plan_read`]'s changes, notes and warnings, for recognition, which reads nothing else:
/// the edits are kept beside the value read ([`crate::domain::overlay`]), so no syntax tree
/// is built (nor printed, nor read back) and neither the value nor the text is copied;
/// `old_text` and `new_text` are left empty, and so is `new_value` (null) unless `keep` asks
/// for it and there is a change (no change: it is `read`, which the caller holds). Errs
/// wherever only the syntax tree edits exactly (a legacy `agents.list`, a removal, which
/// could uncover an earlier duplicate key, a key on the way through `$include`, a secret
/// moved): the caller then plans in full.
pub fn plan_changes_read(
    current: &str,
    read: &mut Value,
    choice: &Choice,
    owned: &Owned,
    token: TokenState,
    keep: bool,
) -> Result<Plan, PlanError> {
    plan_with(
        Some(Cow::Borrowed(current)),
        Some(Read::Lent(read)),
        choice,
        owned,
        token,
        Mode::Dry { keep },
    )
}

/// The value read, as the caller gives it. Lent or handed over, it is changed in place and put
/// back while the plan judges the file as the preset would leave it (a big file's value
/// costs several times the file to copy).
enum Read<'a> {
    Borrowed(&'a Value),
    Lent(&'a mut Value),
    Owned(Value),
}

impl Read<'_> {
    fn get(&self) -> &Value {
        match self {
            Read::Borrowed(v) => v,
            Read::Lent(v) => v,
            Read::Owned(v) => v,
        }
    }

    fn get_mut(&mut self) -> Option<&mut Value> {
        match self {
            Read::Borrowed(_) => None,
            Read::Lent(v) => Some(v),
            Read::Owned(v) => Some(v),
        }
    }

    fn into_owned(self) -> Value {
        match self {
            Read::Owned(v) => v,
            other => other.get().clone(),
        }
    }
}

/// Where a plan's edits go: the syntax tree, whose text is printed, or (`dry`) beside the
/// value read, never copied (see [`crate::domain::overlay`]).
enum Edits<'a> {
    Tree(&'a Document),
    Value(crate::domain::overlay::Overlay<'a>),
}

/// The error that sends [`plan_changes_read`]'s caller to the full plan.
fn needs_tree() -> PlanError {
    PlanError::Internal("this edit needs the syntax tree".into())
}

impl Edits<'_> {
    fn set_many(&self, items: &[(Vec<String>, Value)]) {
        match self {
            Edits::Tree(doc) => doc.set_many(items),
            Edits::Value(v) => {
                for (p, x) in items {
                    v.set(p, x.clone());
                }
            }
        }
    }

    fn set(&self, p: &[String], x: &Value) {
        match self {
            Edits::Tree(doc) => doc.set(p, x),
            Edits::Value(v) => v.set(p, x.clone()),
        }
    }

    fn remove(&self, p: &[String], keep_depth: usize) -> Result<(), PlanError> {
        match self {
            Edits::Tree(doc) => {
                doc.remove(p, keep_depth);
                Ok(())
            }
            Edits::Value(_) => Err(needs_tree()),
        }
    }

    fn array_remove(&self, p: &[String], index: usize) -> Result<(), PlanError> {
        match self {
            Edits::Tree(doc) => {
                doc.array_remove(p, index);
                Ok(())
            }
            Edits::Value(_) => Err(needs_tree()),
        }
    }

    /// As [`Document::array_extend`]: appended to the array, or the array set with them.
    fn array_extend(&self, p: &[String], items: Vec<Value>) {
        match self {
            Edits::Tree(doc) => doc.array_extend(p, items),
            Edits::Value(v) => v.extend(p, items),
        }
    }

    /// The value at `p` after the edits so far; `read` is the file's value before any.
    fn value_at(&self, read: &Value, p: &[String]) -> Option<Value> {
        match self {
            // Until the first edit the file's value is the one read (no syntax tree yet).
            Edits::Tree(doc) if doc.pristine() => get_in(read, p).cloned(),
            Edits::Tree(doc) => doc.value_at(p),
            Edits::Value(v) => v.value_at(p),
        }
    }
}

/// What a plan is made for.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    /// Every part of a plan.
    Full,
    /// The plan to write ([`plan_owned`]): its ledger keys are diffed from the value read,
    /// which its new value is then made of.
    ToWrite,
    /// Its changes only, the edits kept beside the value read ([`plan_changes_read`]);
    /// `keep`: its new value too.
    Dry { keep: bool },
}

fn plan_with(
    current: Option<Cow<str>>,
    mut read: Option<Read>,
    choice: &Choice,
    owned: &Owned,
    token: TokenState,
    mode: Mode,
) -> Result<Plan, PlanError> {
    let dry = matches!(mode, Mode::Dry { .. });
    let to_write = mode == Mode::ToWrite;
    let new_file = current.as_deref().unwrap_or("").trim().is_empty();
    // A text the caller has read is not parsed again (the syntax tree waits for an edit); the
    // document holds the plan's one copy of it (`old_text`) until the plan is done with it
    // (the text itself when the caller hands it over).
    let (doc, old_text) = match (&read, current) {
        // A dry plan edits beside the value read and never reads the syntax tree's text (each
        // use of `doc` below is for the tree's edits, and a dry plan errs before it): the text
        // is not copied, and `old_text` is left empty like `new_text` (recognition plans a big
        // file once per candidate).
        (Some(_), Some(_)) if dry && !new_file => (Document::read_owned(String::new()), None),
        (Some(_), Some(text)) if !new_file => (Document::read_owned(text.into_owned()), None),
        (_, current) => {
            let text = current.unwrap_or_default();
            let doc =
                Document::parse(if new_file { "{}" } else { &text }).map_err(PlanError::Parse)?;
            (doc, Some(text.into_owned()))
        }
    };
    let mut changes = Vec::new();
    let mut warnings = Vec::new();
    let mut notes = choice.notes.clone();

    let start: Cow<Value> = match &read {
        Some(v) if !new_file => Cow::Borrowed(v.get()),
        _ => Cow::Owned(doc.value()),
    };
    // The secrets to mask in what the plan shows. A dry plan shows only its changes: it looks
    // for them only when there are some (below).
    let mut secrets = Vec::new();
    if !dry {
        secrets::collect(&start, &mut secrets);
    }
    if dry && start.pointer("/agents/list").is_some() {
        return Err(needs_tree());
    }
    migrate_agents_list(&doc, &start, &mut changes)?;

    // One value of the file after the migration serves every read until the first edit
    // (each conversion walks the whole file).
    let migrated = if start.pointer("/agents/list").is_some() {
        Cow::Owned(doc.value())
    } else {
        start
    };
    let channels = channels_in(&migrated);
    let mut want = choice::desired(choice, &channels);
    let preset_keys = want.leaves.len();
    // Per-agent overrides weaker than the preset are raised too: the preset is a floor for
    // every agent, not only for the defaults. The threat model's invariants first, per agent
    // and per account (owned, with the reason for that agent's role), then the preset's own
    // sandbox floor for what they leave. Both are judged on the file as it is once the keys
    // an earlier preset wrote and this one does not set are back to the user's values: a
    // roster that needs `agents.ownership`, or an agent whose sandbox only an earlier preset
    // raised, must not lose it in the switch.
    let back = going_back(owned, &want, &migrated);
    let fix = |want: &mut Desired, judged: Judged| {
        add_fixes(
            want,
            judged,
            choice.environment.engine.is_some(),
            &crate::domain::invariants::waived(choice.inputs.advanced()),
        )
    };
    // The file judged: changed in place and put back where the plan may (a copy of its own, or
    // a value read it was lent or given), else copied where the preset changes it.
    let migrated = if !back.is_empty() {
        fix(
            &mut want,
            Judged::Mut(&mut projected(&migrated, &back, owned)),
        );
        migrated
    } else {
        match migrated {
            Cow::Owned(mut v) => {
                fix(&mut want, Judged::Mut(&mut v));
                Cow::Owned(v)
            }
            Cow::Borrowed(_) => {
                match read.as_mut().and_then(Read::get_mut) {
                    Some(v) => fix(&mut want, Judged::Mut(v)),
                    None => fix(&mut want, Judged::Read(read_value(&read))),
                }
                Cow::Borrowed(read_value(&read))
            }
        }
    };
    // The keys the plan writes or reads besides the leaves' own (borrowed: a big file's
    // leaves are many).
    let mut touched: Vec<Vec<String>> = vec![path("gateway.auth.token")];
    if !want.bindings.is_empty() {
        touched.push(path("bindings"));
    }
    let includes = document::objects_with_include(&migrated);
    // What the invariants read (agents, channels, tools, ...) must be judged from this file:
    // an include there could hold a weaker policy the plan cannot see or own.
    for root in crate::domain::invariants::reads() {
        touched.push(vec![root.clone()]);
    }
    let mut under_read: Vec<&Vec<String>> = includes
        .iter()
        .filter(|p| {
            p.first()
                .is_some_and(|f| crate::domain::invariants::reads().contains(f))
        })
        .collect();
    under_read.sort();
    touched.extend(under_read.into_iter().map(|p| {
        let mut p = p.clone();
        p.push("$include".into());
        p
    }));
    let touched = want.leaves.iter().map(|l| &l.path).chain(&touched);
    for p in touched.filter(|p| (0..=p.len()).any(|n| includes.contains(&p[..n]))) {
        if dry {
            return Err(needs_tree());
        }
        if let Some((at, offset)) = doc.include_on_path(p) {
            let (line, column) = document::line_col(&doc.text(), offset);
            let key = if at.is_empty() {
                "(top level)".to_string()
            } else {
                keypath::display(&at)
            };
            return Err(PlanError::Include { key, line, column });
        }
    }

    // What clawposture wrote earlier and this preset does not own goes back to the user's
    // value first: pruning the parents it leaves empty must not undo ours. Leaves never
    // overlap, so one snapshot of the file serves each loop.
    let value = migrated;
    // Removed together at the end (an object emptied whole goes in one edit); a path at or
    // below one already removed is skipped, as a one-by-one removal would find it gone.
    let mut removed: Vec<Vec<String>> = Vec::new();
    let mut restored: Vec<(Vec<String>, Value)> = Vec::new();
    for (key, o) in going_back(owned, &want, &value) {
        match &o.original {
            Some(v) => restored.push((key.clone(), v.clone())),
            None => removed.push(key.clone()),
        }
        let loosens = match (&o.original, &o.written) {
            (Some(back), Some(ours)) if strictness::compare(key, back, ours) == Verdict::Looser => {
                Some(Loosens::Clawposture)
            }
            _ => None,
        };
        changes.push(Change {
            key: keypath::display(key),
            before: o.written.clone(),
            after: o.original.clone(),
            why: format!(
                "Written by clawposture for the {} preset; {} does not use it: back to {}.",
                o.preset,
                want.preset,
                if o.original.is_some() {
                    "the value you had before clawposture"
                } else {
                    "no key, as before clawposture"
                }
            ),
            doc: String::new(),
            loosens,
        });
    }
    // The syntax tree is built over what the edits below reach and read, once (see
    // `domain::doc_holes`): the keys going back, the leaves the file does not hold yet, and
    // what is read after them. An edit elsewhere still lands, at the cost of a rebuild.
    if !dry {
        let mut reach: Vec<&[String]> = removed.iter().map(Vec::as_slice).collect();
        reach.extend(restored.iter().map(|(p, _)| p.as_slice()));
        reach.extend(
            want.leaves
                .iter()
                .filter(|l| !holds(get_in(&value, &l.path), l.value.as_ref()))
                .map(|l| l.path.as_slice()),
        );
        // Read after the edits: the routes, the keys secret fields live under (secrets to
        // move), the token. A read outside the tree's focus would build it again.
        let mut fixed = vec![path("bindings"), path("gateway.auth.token")];
        fixed.extend(crate::domain::secret_moves::roots(&channels));
        reach.extend(fixed.iter().map(Vec::as_slice));
        doc.focus(reach);
    }
    // Nothing removed or restored: the file's value is still the one read above.
    let value = if removed.is_empty() && restored.is_empty() {
        value
    } else if dry {
        return Err(needs_tree());
    } else {
        doc.remove_many(&removed, |p| keep_depth_owned(owned, p));
        doc.set_many(&restored);
        Cow::Owned(doc.value())
    };
    let edits = if dry {
        Edits::Value(crate::domain::overlay::Overlay::new(value.as_ref()))
    } else {
        Edits::Tree(&doc)
    };
    let mut kept = Vec::new();
    // Sets are applied in batches (one append per missing object); a removal first applies
    // the sets before it, so the order of edits is the leaves' order.
    let mut sets: Vec<(Vec<String>, Value)> = Vec::new();
    let asked: Vec<Vec<String>> = choice
        .adjustments
        .iter()
        .filter(|a| a.why.starts_with(choice::ASKED_FOR))
        .filter_map(|a| keypath::parse(&a.key).ok())
        .collect();
    for leaf in &want.leaves {
        let cur = get_in(&value, &leaf.path).cloned();
        if holds(cur.as_ref(), leaf.value.as_ref()) {
            continue;
        }
        let mine = owned.get(&leaf.path);
        let ours = mine.is_some();
        // The user's value: what the file holds, or, where clawposture wrote it, what the user
        // had before clawposture.
        let user_value = match mine {
            Some(o) => o.original.clone(),
            None => cur.clone(),
        };
        let stricter = |a: &Option<Value>, b: &Option<Value>| match (a, b) {
            (Some(a), Some(b)) => strictness::compare(&leaf.path, a, b) == Verdict::Stricter,
            _ => false,
        };
        // A sandbox setting cannot be kept where no engine runs the sandbox.
        let sandbox_runs =
            choice.environment.engine.is_some() || !leaf.path.iter().any(|s| s == "sandbox");
        let answer = asked.contains(&leaf.path);
        if stricter(&user_value, &leaf.value)
            && !answer
            && sandbox_runs
            && let (Some(u), Some(w)) = (&user_value, &leaf.value)
        {
            kept.push(Kept {
                key: keypath::display(&leaf.path),
                value: u.clone(),
                preset_value: w.clone(),
            });
            if cur.as_ref() != Some(u) {
                sets.push((leaf.path.clone(), u.clone()));
                changes.push(Change {
                    key: keypath::display(&leaf.path),
                    before: cur.clone(),
                    after: Some(u.clone()),
                    why: "kept: stricter than the preset: back to the value you had before clawposture.".into(),
                    doc: leaf.doc.clone(),
                    loosens: stricter(&cur, &user_value).then_some(Loosens::Clawposture),
                });
            }
            continue;
        }
        let loosens = stricter(&cur, &leaf.value).then_some(if ours {
            Loosens::Clawposture
        } else {
            Loosens::User
        });
        match &leaf.value {
            Some(v) => sets.push((leaf.path.clone(), v.clone())),
            None => {
                edits.set_many(&std::mem::take(&mut sets));
                edits.remove(&leaf.path, keep_depth_owned(owned, &leaf.path))?;
            }
        }
        changes.push(Change {
            key: keypath::display(&leaf.path),
            before: cur,
            after: leaf.value.clone(),
            why: leaf.why.clone(),
            doc: leaf.doc.clone(),
            loosens,
        });
    }
    for k in &kept {
        notes.push(format!(
            "kept: stricter than the preset: `{}` stays {} (the preset writes {}).",
            k.key, k.value, k.preset_value
        ));
    }

    edits.set_many(&sets);

    let read_at = |p: &[String]| edits.value_at(&value, p);
    // The sets never reach the routes (planned apart): they are read as the file has them,
    // not copied (a big file's routes are many).
    let bp = path("bindings");
    let edited = sets
        .iter()
        .any(|(p, _)| p.starts_with(&bp) || bp.starts_with(p))
        .then(|| read_at(&bp))
        .flatten();
    let bindings = match edited.as_ref().or_else(|| get_in(&value, &bp)) {
        Some(Value::Array(a)) => a.as_slice(),
        _ => &[],
    };
    // The routes are planned and given up: nothing below reads them (a big file's desired
    // routes are many; each added one moves into the file's edits).
    let wanted = std::mem::take(&mut want.bindings);
    plan_bindings(&edits, bindings, wanted, &want.preset, owned, &mut changes)?;
    // Its notes come after the ones about this posture (they are an offer, not a step).
    let mut move_notes = Vec::new();
    let mut moved = Vec::new();
    let secret_moves = {
        let mut channels_now;
        let config: &Value = match &edits {
            Edits::Tree(d) if d.pristine() => &value,
            Edits::Value(v) if !v.is_edited() => &value,
            // Only the keys the secret fields live under are read (a big file's channels hold
            // thousands of group chats no secret field is in).
            Edits::Tree(_) | Edits::Value(_) => {
                channels_now = json!({});
                for root in crate::domain::secret_moves::roots(&channels) {
                    if let Some(v) = read_at(&root) {
                        set_in(&mut channels_now, &root, Some(v));
                    }
                }
                &channels_now
            }
        };
        crate::domain::secret_moves::plan_read(
            config,
            &token.env_vars,
            choice.inputs.move_secrets,
            |sets| moved = sets.to_vec(),
            &mut changes,
            &mut move_notes,
            &mut warnings,
        )
    };
    if dry && !moved.is_empty() {
        return Err(needs_tree());
    }
    edits.set_many(&moved);
    let current_token = read_at(&path("gateway.auth.token"));
    let env_file = plan_token(&edits, current_token, token, &mut changes, &mut warnings);
    warn_about_answers(choice, &channels, &mut warnings);
    if want
        .leaves
        .iter()
        .any(|l| l.path.starts_with(&path("agents.defaults.sandbox")))
        && changes.iter().any(|c| c.key.contains(".sandbox"))
        // With the sandbox off nothing runs in a container: there is nothing to recreate.
        && !want.leaves.iter().any(|l| {
            l.path == path("agents.defaults.sandbox.mode")
                && l.value == Some(Value::String("off".into()))
        })
    {
        notes.push("Running sandbox containers keep their old settings: run `openclaw sandbox recreate --all` after writing.".into());
    }
    notes.extend(move_notes);

    // Nothing edited, and the caller read the text: the text is the one read, and its value
    // the one the caller read from it (no need to read it back).
    let unedited = matches!(&edits, Edits::Tree(d) if d.pristine()) && read.is_some() && !new_file;
    if unedited {
        holds_wanted(&value, &want, &kept)?;
    }
    if dry && !changes.is_empty() {
        secrets::collect(read_value(&read), &mut secrets);
    }
    // The leaves' reasons and doc pages are in the changes now: only their keys and values are
    // read below (a big file's leaves are many; freed before the new value is made).
    for leaf in &mut want.leaves {
        leaf.why = String::new();
        leaf.doc = String::new();
    }
    let dry_value = match edits {
        Edits::Value(v) => {
            holds_wanted_by(&|p| v.value_at(p).map(Cow::Owned), &want, &kept)?;
            // Nothing edited, or not asked: null (the caller holds the value read).
            Some(match mode {
                Mode::Dry { keep: true } if !changes.is_empty() => v.value(),
                _ => Value::Null,
            })
        }
        Edits::Tree(_) => None,
    };
    // The snapshot of the file before the edits, unless it is the value read itself.
    let snapshot = match value {
        Cow::Owned(v) => Some(v),
        Cow::Borrowed(_) => None,
    };
    let mut ledger_keys = Vec::new();
    let final_value = match (dry_value, snapshot, read) {
        (Some(v), _, _) => v,
        (None, Some(v), _) if doc.pristine() => v,
        (None, None, read) if doc.pristine() => read.map(Read::into_owned).unwrap_or_default(),
        // The plan to write, given the value read to use up: the new value is made of it.
        (None, None, Some(Read::Owned(read))) if to_write => {
            let (keys, v) = doc.value_from(read, |old, new, holes| {
                ledger::write_keys_of(old, ledger::diff_keys_with(old, new, holes))
            });
            ledger_keys = keys;
            v
        }
        (None, _, read) => {
            let v = doc.value();
            if to_write {
                let blank = Value::Object(Default::default());
                let old = read.as_ref().map_or(&blank, Read::get);
                ledger_keys = ledger::write_keys_of(
                    old,
                    ledger::diff_keys_with(old, &v, &crate::domain::doc_holes::NoHoles),
                );
            }
            v
        }
    };
    let (new_text, source) = if dry {
        (String::new(), doc.into_source())
    } else {
        // Every owned value holds; the desired values are done with before the text is
        // printed and read back (a big file's desired bindings are many).
        if !unedited {
            holds_wanted(&final_value, &want, &kept)?;
        }
        drop(want);
        // The file's own manners for what was inserted; the check below reads the text back.
        doc.settle();
        let new_text = if new_file {
            let mut t = serde_json::to_string_pretty(&final_value)
                .map_err(|e| PlanError::Internal(e.to_string()))?;
            t.push('\n');
            t
        } else {
            doc.text()
        };
        // The syntax tree has done its work: freed before the text is read back below (a big
        // file's tree costs many times the file).
        let source = doc.into_source();
        if !unedited {
            reads_back(&new_text, &final_value)?;
        }
        (new_text, source)
    };
    let old_text = old_text.unwrap_or(source);
    secrets::collect(&final_value, &mut secrets);
    if let EnvFileAction::MoveLiteralToken(t) = &env_file
        && !secrets.contains(t)
    {
        secrets.push(t.clone());
    }
    Ok(Plan {
        preset: choice.preset.name.clone(),
        new_file,
        old_text,
        new_text,
        changes,
        warnings,
        notes,
        kept,
        env_file,
        env_docker_host: None,
        masker: secrets::Masker::new(&secrets),
        secrets,
        new_value: final_value,
        secret_moves,
        preset_keys,
        ledger_keys,
    })
}

/// Whether the file's value satisfies a leaf: equal, or any object where `{}` asks for one.
fn holds(current: Option<&Value>, wanted: Option<&Value>) -> bool {
    match (current, wanted) {
        (Some(Value::Object(_)), Some(Value::Object(w))) if w.is_empty() => true,
        (c, w) => c == w,
    }
}

/// The new text must parse back to what was planned.
fn reads_back(new_text: &str, planned: &Value) -> Result<(), PlanError> {
    // Read back the way the file was read (a BOM skipped, duplicate keys last-wins, `1e999`
    // kept as written), so only a real edit mistake fails here.
    let same = document::reads_as(new_text, planned)
        .map_err(|e| PlanError::Internal(format!("the new text does not parse: {e}")))?;
    if !same {
        return Err(PlanError::Internal(
            "the new text does not hold the planned values".into(),
        ));
    }
    Ok(())
}

/// Every owned value holds in `value`, but the user's stricter ones kept.
fn holds_wanted(value: &Value, want: &Desired, kept: &[Kept]) -> Result<(), PlanError> {
    holds_wanted_by(&|p| get_in(value, p).map(Cow::Borrowed), want, kept)
}

/// [`holds_wanted`], each value read with `get`.
fn holds_wanted_by<'v>(
    get: &dyn Fn(&[String]) -> Option<Cow<'v, Value>>,
    want: &Desired,
    kept: &[Kept],
) -> Result<(), PlanError> {
    for leaf in &want.leaves {
        let is_kept = kept.iter().any(|k| k.key == keypath::display(&leaf.path));
        if !is_kept && !holds(get(&leaf.path).as_deref(), leaf.value.as_ref()) {
            return Err(PlanError::Internal(format!(
                "`{}` did not get its value",
                keypath::display(&leaf.path)
            )));
        }
    }
    Ok(())
}

/// OpenClaw migrates legacy `agents.list: [{id, ...}]` to `agents.entries.<id>` at load time
/// (and `openclaw doctor` rewrites it); do the same so the preset's per-agent keys land in the
/// canonical place. Retired `default: true` markers are dropped as `config validate` does.
fn migrate_agents_list(
    doc: &Document,
    value: &Value,
    changes: &mut Vec<Change>,
) -> Result<(), PlanError> {
    let Some(list) = value.pointer("/agents/list").and_then(Value::as_array) else {
        return Ok(());
    };
    let mut entries = value
        .pointer("/agents/entries")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for item in list {
        let Some(obj) = item.as_object() else {
            continue;
        };
        let Some(id) = obj.get("id").and_then(Value::as_str) else {
            continue;
        };
        let mut body = obj.clone();
        body.shift_remove("id");
        body.shift_remove("default");
        entries.entry(id.to_string()).or_insert(Value::Object(body));
    }
    doc.remove(&path("agents.list"), 1);
    doc.set(&path("agents.entries"), &Value::Object(entries.clone()));
    changes.push(Change {
        key: "agents.list".into(),
        before: Some(Value::Array(list.clone())),
        after: None,
        why: "Legacy `agents.list` is migrated to `agents.entries`, as OpenClaw does at load time and `openclaw doctor` does on disk.".into(),
        doc: "gateway/doctor/config-migrations.md".into(),
        loosens: None,
    });
    changes.push(Change {
        key: "agents.entries".into(),
        before: value.pointer("/agents/entries").cloned(),
        after: Some(Value::Object(entries)),
        why: "The migrated agents, keyed by id.".into(),
        doc: "gateway/doctor/config-migrations.md".into(),
        loosens: None,
    });
    Ok(())
}

/// `bindings` is a list the user may share with us: only items a preset generates are ours.
fn plan_bindings(
    doc: &Edits,
    current: &[Value],
    want: Vec<choice::WantedRoute>,
    preset: &str,
    owned: &Owned,
    changes: &mut Vec<Change>,
) -> Result<(), PlanError> {
    let bp = path("bindings");
    let none_wanted = want.is_empty();
    // Only routes the ledger says clawposture added are ours to take away: the wanted ones'
    // values are made to compare with only when there are some (a re-run).
    if !owned.bindings.is_empty() {
        let values: Vec<Value> = want.iter().map(choice::WantedRoute::value).collect();
        let wanted: ValueSet = values.iter().collect();
        let owned_bindings: ValueSet = owned.bindings.iter().collect();
        let ours = |v: &Value| owned_bindings.contains(v);
        let mut removed = 0;
        for (index, item) in current.iter().enumerate().rev() {
            if ours(item) && !wanted.contains(item) {
                doc.array_remove(&bp, index)?;
                removed += 1;
                changes.push(Change {
                    key: format!("bindings[{index}]"),
                    before: Some(item.clone()),
                    after: None,
                    why: format!("A route the {preset} preset does not use."),
                    doc: "gateway/config-agents/entries-and-multi-agent.md".into(),
                    loosens: None,
                });
            }
        }
        if removed > 0 && removed == current.len() && none_wanted {
            doc.remove(&bp, 0)?;
            return Ok(());
        }
    }
    let present: ValueSet = current.iter().collect();
    let mut added = Vec::new();
    for w in want {
        let item = w.value();
        if !present.contains(&item) {
            changes.push(Change {
                key: "bindings[]".into(),
                before: None,
                after: Some(document::compact_clone(&item)),
                why: w.why.to_string(),
                doc: w.doc.to_string(),
                loosens: None,
            });
            added.push(item);
        }
    }
    // All at once: one append per item walked the whole array each time.
    doc.array_extend(&bp, added);
    Ok(())
}

/// The Gateway token lives in `$STATE_DIR/.env`, referenced by a SecretRef; it is never
/// written into the config and never printed.
fn plan_token(
    doc: &Edits,
    current: Option<Value>,
    token: TokenState,
    changes: &mut Vec<Change>,
    warnings: &mut Vec<String>,
) -> EnvFileAction {
    let tp = path("gateway.auth.token");
    let why =
        format!("The token lives in $STATE_DIR/.env ({TOKEN_ENV}, mode 0600), not in the config.");
    let docpath = "gateway/configuration/environment-variables.md".to_string();
    let action = match &current {
        // A SecretRef (or `${VAR}` substitution) already keeps the token out of the file.
        Some(Value::Object(_)) => return EnvFileAction::Unchanged,
        Some(Value::String(s)) if s.contains("${") => return EnvFileAction::Unchanged,
        Some(Value::String(_)) if token.env_file_has_token => {
            warnings.push(format!("The config held a literal Gateway token; $STATE_DIR/.env already defines {TOKEN_ENV}, so that one is used from now on (the old literal stays only in the backup)."));
            EnvFileAction::Unchanged
        }
        Some(Value::String(s)) if s.trim().len() >= MIN_TOKEN_LEN => {
            EnvFileAction::MoveLiteralToken(s.trim().to_string())
        }
        Some(Value::String(_)) => {
            warnings.push(format!("The Gateway token in the config is shorter than {MIN_TOKEN_LEN} characters: a new random one is generated, so clients need the new token from $STATE_DIR/.env."));
            EnvFileAction::GenerateToken
        }
        _ if token.env_file_has_token => EnvFileAction::Unchanged,
        _ => EnvFileAction::GenerateToken,
    };
    doc.set(&tp, &secret_ref());
    changes.push(Change {
        key: "gateway.auth.token".into(),
        before: current,
        after: Some(secret_ref()),
        why,
        doc: docpath,
        loosens: None,
    });
    action
}

fn warn_about_answers(choice: &Choice, channels: &[String], warnings: &mut Vec<String>) {
    let inputs = &choice.inputs;
    let uses_groups = !choice.preset.group_chat.is_empty();
    // A preset that opens DMs to everyone (public) has no pairing for an owner to replace.
    let opens_dms = choice
        .preset
        .channel
        .iter()
        .any(|e| e.path == ["dmPolicy"] && e.value == json!("open"));
    match &inputs.owner {
        None if !opens_dms => warnings.push(
            "The owner is not pinned: DMs stay on pairing (you approve each sender). Give the owner (CHANNEL:ID) to pin yourself.".into(),
        ),
        None => {}
        Some(o) if !channels.contains(&o.channel) => warnings.push(format!(
            "The owner's channel `{}` has no block in this file: commands.ownerAllowFrom pins you, but clawposture never adds a channel.",
            o.channel
        )),
        Some(_) => {}
    }
    for g in &inputs.groups {
        if !channels.contains(&g.channel) {
            warnings.push(format!(
                "Group `{g}` is on a channel this file does not configure; it was skipped."
            ));
        }
    }
    if uses_groups && inputs.groups.is_empty() && !channels.is_empty() {
        warnings.push("No group chat named: the group allowlist admits none yet. Name each group chat (CHANNEL:CHAT_ID).".into());
    }
    if uses_groups && !inputs.groups.is_empty() && inputs.members.is_empty() {
        warnings.push("No members listed: inside allowed groups only the owner can trigger the agent. Name each member (CHANNEL:ID).".into());
    }
    let grouped = ["telegram", "whatsapp", "signal"];
    for c in channels {
        if (uses_groups || choice.preset.channel.iter().any(|e| e.only.is_some()))
            && !grouped.contains(&c.as_str())
        {
            warnings.push(format!(
                "`{c}` organises group chats differently (guilds, channels): its group allowlist is not written by clawposture; groupPolicy still applies."
            ));
        }
    }
}

/// A lower bound of the drift `plan` would report for `choice` on a file whose value is
/// `value`, and the number of leaves it owns, without planning: every owned leaf the file does
/// not hold is a change in the full plan. None when the file has a legacy `agents.list`, which
/// the plan migrates first (the bound would not hold). Recognition uses it to skip candidates
/// that cannot fit; planning each of them edits the syntax tree once per missing key, which a
/// big user preset made slow for every command.
pub fn drift_at_least(
    value: &Value,
    channels: &[String],
    choice: &Choice,
) -> Option<(usize, usize)> {
    if value.pointer("/agents/list").is_some() {
        return None;
    }
    let want = choice::desired(choice, channels);
    let missing = want
        .leaves
        .iter()
        .filter(|l| !holds(get_in(value, &l.path), l.value.as_ref()))
        .count();
    Some((missing, want.leaves.len()))
}

/// Opening DMs to strangers on a Gateway that already serves an owner crosses OpenClaw's
/// trust boundary (one trust boundary per Gateway). Returns why, when it does.
pub fn boundary_conflict(
    current: Option<&str>,
    target: &Choice,
    today: Option<&crate::domain::recognize::Recognition>,
) -> Option<String> {
    let opens = target
        .preset
        .channel
        .iter()
        .any(|e| e.path == ["dmPolicy"] && e.value == json!("open"));
    let current = current?;
    if !opens {
        return None;
    }
    let value = document::parse_value(current).ok()?;
    let pinned = value
        .pointer("/commands/ownerAllowFrom")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    let serves = today
        .filter(|r| r.preset != target.preset.name)
        .map(|r| r.preset.clone());
    if !pinned && serves.is_none() {
        return None;
    }
    let what = match serves {
        Some(p) => format!("this file is set up for the {p} preset"),
        None => "this file pins an owner (commands.ownerAllowFrom)".to_string(),
    };
    Some(format!(
        "{what}, and {} lets strangers in. OpenClaw's trust model is one trust boundary per Gateway: run the public agent as its own Gateway with --openclaw-profile {} (its own state dir and port), or acknowledge turning this Gateway public anyway.",
        target.preset.name, target.preset.name
    ))
}
