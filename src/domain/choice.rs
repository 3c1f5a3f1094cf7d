//! The preset choice: a pure function of (preset, environment, answers) that says which values
//! to own, which adjustments the environment forces, and why.

use std::fmt;

use serde::Serialize;
use serde_json::{Value, json};

use crate::domain::keypath;
use crate::domain::preset::{EngineNeed, Entry, ForEach, Preset, When};
use crate::model::environment::{Engine, EngineKind, Environment};

/// `telegram:123456789`: a sender or chat id on one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChannelId {
    pub channel: String,
    pub id: String,
}

impl ChannelId {
    pub fn parse(text: &str) -> Result<ChannelId, String> {
        match text.split_once(':') {
            Some((channel, id)) if !channel.is_empty() && !id.is_empty() => {
                if !channel
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                {
                    return Err(format!(
                        "`{channel}` is not a channel id (e.g. telegram, whatsapp, discord)"
                    ));
                }
                Ok(ChannelId {
                    channel: channel.to_ascii_lowercase(),
                    id: id.to_string(),
                })
            }
            _ => Err(format!(
                "`{text}` is not CHANNEL:ID (e.g. telegram:123456789)"
            )),
        }
    }
}

impl fmt::Display for ChannelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.channel, self.id)
    }
}

/// What the user told us besides the threat model.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Inputs {
    pub owner: Option<ChannelId>,
    pub groups: Vec<ChannelId>,
    pub members: Vec<ChannelId>,
    pub accept_risk: bool,
    /// Advanced: what the sandbox sees of the agent workspace (None: the preset's value).
    pub workspace_access: Option<WorkspaceAccess>,
    /// Advanced: whether sandboxed runs get a network (None: the preset's value).
    pub sandbox_network: Option<SandboxNetwork>,
    /// Move literal channel secrets into `$STATE_DIR/.env` (`--move-secrets`, or a yes).
    pub move_secrets: bool,
}

impl Inputs {
    pub fn advanced(&self) -> Advanced {
        Advanced {
            workspace_access: self.workspace_access,
            sandbox_network: self.sandbox_network,
        }
    }
}

/// The advanced answers that override a preset's value. A file cannot tell them from a hand
/// edit, so `verify` is told them (`--workspace-access`, `--sandbox-network`) rather than
/// reading them back; the checklist writes the command with them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Advanced {
    pub workspace_access: Option<WorkspaceAccess>,
    pub sandbox_network: Option<SandboxNetwork>,
}

impl Advanced {
    /// The flags that repeat these answers, e.g. `--sandbox-network bridge`.
    pub fn flags(&self) -> String {
        let mut out = Vec::new();
        if let Some(w) = self.workspace_access {
            out.push(format!("--workspace-access {}", w.label()));
        }
        if let Some(n) = self.sandbox_network {
            out.push(format!("--sandbox-network {}", n.label()));
        }
        out.join(" ")
    }
}

/// An advanced setting: one preset key with a closed set of values, each with what it means
/// for the user. Every front end asks, shows and parses them through this one trait.
pub trait Setting: Copy + PartialEq + Sized + 'static {
    const ALL: &'static [Self];
    /// The dotted key the setting overrides.
    const KEY: &'static str;
    /// What one value is called in an error, e.g. "a workspace access".
    const WHAT: &'static str;

    fn label(self) -> &'static str;

    /// What this value means for the user, in one sentence (shown by every front end).
    fn consequence(self) -> &'static str;

    fn parse(s: &str) -> Result<Self, String> {
        Self::ALL
            .iter()
            .copied()
            .find(|v| v.label() == s)
            .ok_or_else(|| {
                let labels: Vec<&str> = Self::ALL.iter().map(|v| v.label()).collect();
                let choices = match labels.split_last() {
                    Some((last, [])) => last.to_string(),
                    Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
                    None => String::new(),
                };
                format!("`{s}` is not {}: {choices}", Self::WHAT)
            })
    }

    /// The preset's own value (None: the preset does not set it).
    fn preset_default(preset: &Preset) -> Option<Self> {
        let v = preset_value(preset, Self::KEY)?;
        Self::parse(v.as_str()?).ok()
    }

    /// The value after `current` in `ALL`, cycling (backwards when `forward` is false).
    fn cycle(current: Self, forward: bool) -> Self {
        let n = Self::ALL.len();
        let i = Self::ALL.iter().position(|v| *v == current).unwrap_or(0);
        Self::ALL[if forward {
            (i + 1) % n
        } else {
            (i + n - 1) % n
        }]
    }
}

/// `agents.defaults.sandbox.workspaceAccess`: what sandboxed runs see of the agent workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkspaceAccess {
    None,
    Ro,
    Rw,
}

impl Setting for WorkspaceAccess {
    const ALL: &'static [WorkspaceAccess] = &[
        WorkspaceAccess::None,
        WorkspaceAccess::Ro,
        WorkspaceAccess::Rw,
    ];
    const KEY: &'static str = "agents.defaults.sandbox.workspaceAccess";
    const WHAT: &'static str = "a workspace access";

    fn label(self) -> &'static str {
        match self {
            WorkspaceAccess::None => "none",
            WorkspaceAccess::Ro => "ro",
            WorkspaceAccess::Rw => "rw",
        }
    }

    fn consequence(self) -> &'static str {
        match self {
            WorkspaceAccess::None => {
                "Sandboxed runs see no workspace at all: your memory and notes cannot leak into them, but they cannot read your files either."
            }
            WorkspaceAccess::Ro => {
                "Sandboxed runs can read your workspace (memory files, notes) but not change it: a hijacked run can read what is there, never alter it."
            }
            WorkspaceAccess::Rw => {
                "Sandboxed runs can change and delete workspace files, and your main agent later reads what they wrote: a hijacked run can plant instructions there."
            }
        }
    }
}

/// `agents.defaults.sandbox.docker.network`: whether sandboxed runs reach any network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SandboxNetwork {
    None,
    Bridge,
}

impl Setting for SandboxNetwork {
    const ALL: &'static [SandboxNetwork] = &[SandboxNetwork::None, SandboxNetwork::Bridge];
    const KEY: &'static str = "agents.defaults.sandbox.docker.network";
    const WHAT: &'static str = "a sandbox network";

    fn label(self) -> &'static str {
        match self {
            SandboxNetwork::None => "none",
            SandboxNetwork::Bridge => "bridge",
        }
    }

    fn consequence(self) -> &'static str {
        match self {
            SandboxNetwork::None => {
                "Sandboxed runs have no network: nothing they read can be sent anywhere, but they cannot download packages or fetch pages either."
            }
            SandboxNetwork::Bridge => {
                "Sandboxed runs reach the internet and your local network: a prompt-injected run can upload whatever it can read, or probe machines on your LAN."
            }
        }
    }
}

/// The value a preset writes at `key` (a dotted path), looking inside object entries.
pub fn preset_value(preset: &Preset, key: &str) -> Option<Value> {
    let path = keypath::parse(key).ok()?;
    preset.set.iter().find_map(|e| {
        let rest = path.strip_prefix(e.path.as_slice())?;
        get_in(&e.value, rest).cloned()
    })
}

/// How the reason of an adjustment the user asked for (an advanced answer) begins.
pub const ASKED_FOR: &str = "Asked for: ";

/// The advanced overrides that differ from the preset, as (key, value, why).
fn overrides(preset: &Preset, inputs: &Inputs) -> Vec<Adjustment> {
    let mut out = Vec::new();
    let mut push = |key: &str, label: &str, why: &str| {
        let value = json!(label);
        if preset_value(preset, key).as_ref() != Some(&value) {
            out.push(Adjustment {
                key: key.to_string(),
                value: Some(value),
                why: format!("{ASKED_FOR}{why}"),
            });
        }
    };
    if let Some(w) = inputs.workspace_access {
        push(WorkspaceAccess::KEY, w.label(), w.consequence());
    }
    if let Some(n) = inputs.sandbox_network {
        push(SandboxNetwork::KEY, n.label(), n.consequence());
    }
    out
}

/// A value the environment forces on top of the preset (None: the key is removed).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Adjustment {
    pub key: String,
    pub value: Option<Value>,
    pub why: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    pub preset: Preset,
    pub environment: Environment,
    /// Shared by every preset's choice for the same answers (a big roster's group chats are
    /// thousands, and recognition weighs a choice per preset and engine).
    pub inputs: std::sync::Arc<Inputs>,
    pub adjustments: Vec<Adjustment>,
    /// Plain-language consequences to show next to the plan.
    pub notes: Vec<String>,
    /// Where the preset's policy file goes (`{policy_path}` in a preset; None: entries that
    /// name it are not written, as when recognising a file).
    pub policy_path: Option<String>,
}

/// The environment cannot make this preset safe.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub preset: String,
    pub reason: String,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the {} preset needs a container engine and none is usable: {} Install Docker or Podman (rootless preferred) and run again, or accept the risk to write the locked-down no-sandbox variant.",
            self.preset, self.reason
        )
    }
}

/// Choose, refusing when the preset needs an engine that is missing and the risk was not
/// accepted.
pub fn choose(
    preset: &Preset,
    environment: &Environment,
    inputs: &Inputs,
) -> Result<Choice, Refusal> {
    if environment.engine.is_none() {
        // A required engine with no fallback variant is refused even with --accept-risk:
        // there is nothing locked-down to write instead.
        let reason = match &preset.no_engine {
            Some(_) if inputs.accept_risk => None,
            Some(n) => n.refuse.clone(),
            None if preset.engine == EngineNeed::Required => {
                Some("this preset has no variant without a sandbox.".to_string())
            }
            None => None,
        };
        if let Some(reason) = reason {
            return Err(Refusal {
                preset: preset.name.clone(),
                reason,
            });
        }
    }
    Ok(adjust(preset, environment, inputs))
}

/// The `docker.user` a preset writes for `engine` when the Gateway runs as `uid:gid` (None: no
/// user is set), and why. The image build proves its image under the same user.
pub fn sandbox_user(engine: Engine, uid: u32, gid: u32) -> (Option<String>, String) {
    match (engine.kind, engine.rootless) {
        (EngineKind::Docker, true) => (
            Some("0:0".to_string()),
            "Rootless Docker maps container root to your own user (still without capabilities, with no-new-privileges); the image's uid 1000 would map to a subordinate uid that cannot use the workspace OpenClaw creates.".to_string(),
        ),
        (EngineKind::Podman, true) => (
            None,
            "Rootless Podman runs the sandbox as your own user (--userns=keep-id) and rejects uid 0, so no user is set.".to_string(),
        ),
        (_, false) => (
            Some(format!("{uid}:{gid}")),
            format!(
                "A rootful engine runs the sandbox as the Gateway's own uid:gid ({uid}:{gid}), so the workspace OpenClaw creates (mode 0700) is usable and the container is not real root."
            ),
        ),
    }
}

/// The choice without the refusal check: what this preset would write here. Used to
/// recognise a file and to know which values other presets own.
pub fn adjust(preset: &Preset, environment: &Environment, inputs: &Inputs) -> Choice {
    adjust_shared(preset, environment, &std::sync::Arc::new(inputs.clone()))
}

/// [`adjust`] with the answers shared, not copied, by the choice.
pub fn adjust_shared(
    preset: &Preset,
    environment: &Environment,
    inputs: &std::sync::Arc<Inputs>,
) -> Choice {
    let mut adjustments = Vec::new();
    let mut notes = Vec::new();
    let sandboxed = preset
        .set
        .iter()
        .any(|e| e.path.starts_with(&sandbox_path()));
    match environment.engine {
        None => {
            if let Some(n) = &preset.no_engine {
                notes.push(n.note.clone());
            }
        }
        Some(engine) if sandboxed => {
            let user = ["agents", "defaults", "sandbox", "docker", "user"].join(".");
            if engine.kind == EngineKind::Podman {
                adjustments.push(Adjustment {
                    key: "agents.defaults.sandbox.backend".into(),
                    value: Some(json!("podman")),
                    why: "Podman is the engine here; OpenClaw's docker backend never falls back to Podman.".into(),
                });
            }
            let (value, why) = sandbox_user(engine, environment.uid, environment.gid);
            let value = value.map(|v| json!(v));
            if !engine.rootless && environment.uid == 0 {
                notes.push(
                    "The Gateway runs as root: with a rootful engine its sandbox runs as uid 0 (without capabilities). Run OpenClaw as an ordinary user, ideally with rootless Docker or Podman.".into(),
                );
            }
            adjustments.push(Adjustment {
                key: user,
                value,
                why,
            });
            adjustments.extend(overrides(preset, inputs));
        }
        Some(_) => {}
    }
    if (environment.engine.is_none() || !sandboxed)
        && (inputs.workspace_access.is_some() || inputs.sandbox_network.is_some())
    {
        notes.push(
            "Workspace access and sandbox network only matter when runs are sandboxed; here nothing is, so they were not written.".into(),
        );
    }
    Choice {
        preset: preset.clone(),
        environment: *environment,
        inputs: std::sync::Arc::clone(inputs),
        adjustments,
        notes,
        policy_path: None,
    }
}

fn sandbox_path() -> Vec<String> {
    vec!["agents".into(), "defaults".into(), "sandbox".into()]
}

/// One value to write (Some) or remove (None) at `path`, with its reason.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Leaf {
    pub path: Vec<String>,
    pub value: Option<Value>,
    pub why: String,
    pub doc: String,
}

/// Everything a choice writes into a given file: leaves (no leaf is inside another) and the
/// `bindings` items it wants.
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    pub preset: String,
    pub leaves: Vec<Leaf>,
    pub bindings: Vec<WantedRoute>,
}

/// A route the preset wants: to `agent`, for a channel or (`group`) one group chat of it,
/// with why and where it is documented. Made into its JSON value ([`WantedRoute::value`])
/// only where one is needed: a big roster wants thousands, most of them in the file already
/// (each value is about a kilobyte; the parts are shared with the preset's binding).
#[derive(Debug, Clone, PartialEq)]
pub struct WantedRoute {
    pub agent: std::rc::Rc<str>,
    pub channel: std::rc::Rc<str>,
    pub group: Option<String>,
    pub why: std::rc::Rc<str>,
    pub doc: std::rc::Rc<str>,
}

impl WantedRoute {
    /// `{"agentId", "match": {"channel", "peer": {"kind": "group", "id"}}}`, each object
    /// sized to its keys (`json!` grows each map as it inserts, half again its size).
    pub fn value(&self) -> Value {
        fn object<const N: usize>(entries: [(&str, Value); N]) -> Value {
            let mut m = serde_json::Map::with_capacity(N);
            for (k, v) in entries {
                m.insert(k.to_string(), v);
            }
            Value::Object(m)
        }
        let channel = Value::String(self.channel.to_string());
        let matched = match &self.group {
            None => object([("channel", channel)]),
            Some(id) => object([
                ("channel", channel),
                (
                    "peer",
                    object([
                        ("kind", Value::String("group".into())),
                        ("id", Value::String(id.clone())),
                    ]),
                ),
            ]),
        };
        object([
            ("agentId", Value::String(self.agent.to_string())),
            ("match", matched),
        ])
    }
}

impl Desired {
    pub fn leaf(&self, path: &[String]) -> Option<&Leaf> {
        self.leaves.iter().find(|l| l.path == path)
    }
}

/// What `choice` writes into a file whose `channels` block has these channel ids.
pub fn desired(choice: &Choice, channels: &[String]) -> Desired {
    let preset = &choice.preset;
    let inputs = &choice.inputs;
    let mut leaves = LeafSet::default();
    let ctx = Ctx {
        inputs,
        channel: None,
        policy_path: choice.policy_path.as_deref(),
    };
    for entry in &preset.set {
        if entry.when == Some(When::Owner) && inputs.owner.is_none() {
            continue;
        }
        add_entry(&mut leaves, Vec::new(), entry, &ctx);
    }
    if choice.environment.engine.is_none()
        && let Some(n) = &preset.no_engine
    {
        for entry in &n.set {
            add_entry(&mut leaves, Vec::new(), entry, &ctx);
        }
    }
    for a in &choice.adjustments {
        if let Ok(path) = keypath::parse(&a.key) {
            leaves.insert(Leaf {
                path,
                value: a.value.clone(),
                why: a.why.clone(),
                doc: "gateway/sandboxing.md".into(),
            });
        }
    }
    for u in &preset.unset {
        leaves.insert(Leaf {
            path: u.path.clone(),
            value: None,
            why: u.why.clone(),
            doc: u.doc.clone(),
        });
    }
    for channel in channels {
        let ctx = Ctx {
            inputs,
            channel: Some(channel),
            policy_path: choice.policy_path.as_deref(),
        };
        let base = vec!["channels".to_string(), channel.clone()];
        for entry in &preset.channel {
            if applies(entry, &ctx) {
                add_entry(&mut leaves, base.clone(), entry, &ctx);
            }
        }
        for group in inputs.groups.iter().filter(|g| &g.channel == channel) {
            for entry in &preset.group_chat {
                if !applies(entry, &ctx) {
                    continue;
                }
                let mut e = entry.clone();
                e.path = e
                    .path
                    .iter()
                    .map(|s| s.replace("{group_id}", &group.id))
                    .collect();
                add_entry(&mut leaves, base.clone(), &e, &ctx);
            }
        }
    }
    let mut bindings = Vec::new();
    // One shared name per channel.
    let names: Vec<std::rc::Rc<str>> = channels.iter().map(|c| c.as_str().into()).collect();
    for b in &preset.binding {
        let (agent, why, doc): (std::rc::Rc<str>, std::rc::Rc<str>, std::rc::Rc<str>) = (
            b.agent.as_str().into(),
            b.why.as_str().into(),
            b.doc.as_str().into(),
        );
        let wanted = |channel: std::rc::Rc<str>, group: Option<String>| WantedRoute {
            agent: agent.clone(),
            channel,
            group,
            why: why.clone(),
            doc: doc.clone(),
        };
        match b.for_each {
            ForEach::Channel => {
                for channel in &names {
                    bindings.push(wanted(channel.clone(), None));
                }
            }
            ForEach::GroupChat => {
                for g in &inputs.groups {
                    if let Some(channel) = names.iter().find(|c| ***c == *g.channel) {
                        bindings.push(wanted(channel.clone(), Some(g.id.clone())));
                    }
                }
            }
        }
    }
    Desired {
        preset: preset.name.clone(),
        leaves: leaves.into_leaves(),
        bindings,
    }
}

struct Ctx<'a> {
    inputs: &'a Inputs,
    channel: Option<&'a String>,
    policy_path: Option<&'a str>,
}

impl Ctx<'_> {
    fn owner_here(&self) -> bool {
        matches!((&self.inputs.owner, self.channel), (Some(o), Some(c)) if &o.channel == c)
    }

    fn members_here(&self) -> Vec<String> {
        self.inputs
            .members
            .iter()
            .filter(|m| Some(&m.channel) == self.channel)
            .map(|m| m.id.clone())
            .collect()
    }
}

fn applies(entry: &Entry, ctx: &Ctx) -> bool {
    if let (Some(only), Some(channel)) = (&entry.only, ctx.channel)
        && !only.contains(channel)
    {
        return false;
    }
    match entry.when {
        None => true,
        Some(When::Owner) => ctx.inputs.owner.is_some(),
        Some(When::OwnerHere) => ctx.owner_here(),
        Some(When::OwnerElsewhere) => !ctx.owner_here(),
        Some(When::MembersHere) => !ctx.members_here().is_empty(),
    }
}

/// Replace `{owner}`, `{owner_id}`, `{member_ids}`, `{policy_path}` placeholders. An array element without a
/// value is dropped; a scalar without one makes the whole entry not apply (None).
fn instantiate(value: &Value, ctx: &Ctx) -> Option<Value> {
    let scalar = |s: &str| -> Option<Option<String>> {
        match s {
            "{owner}" => Some(ctx.inputs.owner.as_ref().map(|o| o.to_string())),
            "{policy_path}" => Some(ctx.policy_path.map(str::to_string)),
            "{owner_id}" => Some(if ctx.channel.is_none() || ctx.owner_here() {
                ctx.inputs.owner.as_ref().map(|o| o.id.clone())
            } else {
                None
            }),
            _ => None,
        }
    };
    match value {
        Value::String(s) => match scalar(s) {
            Some(v) => v.map(Value::String),
            None => Some(value.clone()),
        },
        Value::Array(items) => {
            let mut out = Vec::new();
            for item in items {
                match item.as_str() {
                    Some("{member_ids}") => {
                        out.extend(ctx.members_here().into_iter().map(Value::String))
                    }
                    Some(s) if scalar(s).is_some() => {
                        if let Some(Some(v)) = scalar(s) {
                            out.push(Value::String(v));
                        }
                    }
                    _ => out.push(instantiate(item, ctx)?),
                }
            }
            // An id listed twice (owner also given as member) is written once.
            let mut seen = Vec::new();
            out.retain(|v| {
                let new = !seen.contains(v);
                seen.push(v.clone());
                new
            });
            Some(Value::Array(out))
        }
        Value::Object(map) => {
            let mut out = serde_json::Map::new();
            for (k, v) in map {
                out.insert(k.clone(), instantiate(v, ctx)?);
            }
            Some(Value::Object(out))
        }
        other => Some(other.clone()),
    }
}

fn add_entry(leaves: &mut LeafSet, base: Vec<String>, entry: &Entry, ctx: &Ctx) {
    let Some(value) = instantiate(&entry.value, ctx) else {
        return;
    };
    let mut path = base;
    path.extend(entry.path.iter().cloned());
    let mut flat = Vec::new();
    flatten(path, value, entry.exact, &mut flat);
    for (path, value) in flat {
        leaves.insert(Leaf {
            path,
            value: Some(value),
            why: entry.why.clone(),
            doc: entry.doc.clone(),
        });
    }
}

/// Objects become one leaf per key (the user's other keys there survive); arrays, scalars and
/// exact objects are single leaves; an empty object is a leaf that asks for the object to exist.
fn flatten(path: Vec<String>, value: Value, exact: bool, out: &mut Vec<(Vec<String>, Value)>) {
    match value {
        Value::Object(map) if !exact && !map.is_empty() => {
            for (k, v) in map {
                let mut p = path.clone();
                p.push(k);
                flatten(p, v, false, out);
            }
        }
        other => out.push((path, other)),
    }
}

/// The leaves being collected, in insertion order, with an index by path so that each insert
/// costs O(depth · log n) instead of a scan of every leaf (a 3,000-entry user preset made
/// every plan quadratic).
#[derive(Default)]
struct LeafSet {
    slots: Vec<Option<Leaf>>,
    index: std::collections::BTreeMap<Vec<String>, usize>,
}

impl LeafSet {
    /// A later leaf wins: it replaces leaves at or below its path, and when it lands inside an
    /// earlier object leaf (an exact object), it edits that object.
    fn insert(&mut self, leaf: Leaf) {
        // Paths at or below `leaf.path` are one contiguous run of the ordered index.
        let below: Vec<Vec<String>> = self
            .index
            .range(leaf.path.clone()..)
            .take_while(|(p, _)| p.starts_with(&leaf.path))
            .map(|(p, _)| p.clone())
            .collect();
        for p in below {
            if let Some(i) = self.index.remove(&p) {
                self.slots[i] = None;
            }
        }
        // No leaf is inside another, so at most one leaf is a strict prefix of this one.
        let outer = (0..leaf.path.len()).find_map(|n| self.index.get(&leaf.path[..n]).copied());
        if let Some(i) = outer
            && let Some(o) = self.slots[i].as_mut()
        {
            if let Some(v @ Value::Object(_)) = o.value.as_mut() {
                let rest = &leaf.path[o.path.len()..];
                set_in(v, rest, leaf.value.clone());
                return;
            }
            self.index.remove(&o.path);
            self.slots[i] = None;
        }
        self.index.insert(leaf.path.clone(), self.slots.len());
        self.slots.push(Some(leaf));
    }

    fn into_leaves(self) -> Vec<Leaf> {
        self.slots.into_iter().flatten().collect()
    }
}

/// Set (or remove, with None) `path` inside a JSON value, creating objects on the way.
pub fn set_in(root: &mut Value, path: &[String], value: Option<Value>) {
    let Some((last, parents)) = path.split_last() else {
        if let Some(v) = value {
            *root = v;
        }
        return;
    };
    let mut cur = root;
    for seg in parents {
        if !cur.is_object() {
            *cur = Value::Object(serde_json::Map::new());
        }
        let Value::Object(map) = cur else { return };
        cur = map
            .entry(seg.clone())
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
    }
    if !cur.is_object() {
        *cur = Value::Object(serde_json::Map::new());
    }
    if let Value::Object(map) = cur {
        match value {
            Some(v) => {
                map.insert(last.clone(), v);
            }
            None => {
                map.shift_remove(last);
            }
        }
    }
}

/// The value at `path`, if any.
pub fn get_in<'a>(root: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter()
        .try_fold(root, |cur, seg| cur.as_object()?.get(seg))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::preset;
    use crate::model::environment::Engine;

    #[test]
    fn a_route_is_the_object_openclaw_reads_key_order_included() {
        let route = |agent: &str, channel: &str, group: Option<&str>| WantedRoute {
            agent: agent.into(),
            channel: channel.into(),
            group: group.map(str::to_string),
            why: "".into(),
            doc: "".into(),
        };
        for (got, want) in [
            (
                route("main", "telegram", None),
                json!({"agentId": "main", "match": {"channel": "telegram"}}),
            ),
            (
                route("group", "slack", Some("C1")),
                json!({"agentId": "group", "match": {"channel": "slack", "peer": {"kind": "group", "id": "C1"}}}),
            ),
        ] {
            assert_eq!(got.value().to_string(), want.to_string());
        }
    }

    fn env(label: &str, uid: u32) -> Environment {
        Environment {
            engine: Engine::parse_label(label).flatten(),
            uid,
            gid: uid,
        }
    }

    fn preset(name: &str) -> Preset {
        preset::builtin()
            .into_iter()
            .find(|p| p.name == name)
            .expect("built-in preset")
    }

    fn leaf(c: &Choice, key: &str) -> Option<Option<Value>> {
        let path = keypath::parse(key).expect("key");
        desired(c, &[]).leaf(&path).map(|l| l.value.clone())
    }

    #[test]
    fn settings_parse_their_labels_and_name_the_choices_otherwise() {
        for w in WorkspaceAccess::ALL {
            assert_eq!(WorkspaceAccess::parse(w.label()), Ok(*w));
        }
        assert_eq!(
            WorkspaceAccess::parse("write"),
            Err("`write` is not a workspace access: none, ro or rw".into())
        );
        assert_eq!(
            SandboxNetwork::parse("host"),
            Err("`host` is not a sandbox network: none or bridge".into())
        );
        assert_eq!(
            SandboxNetwork::cycle(SandboxNetwork::Bridge, true),
            SandboxNetwork::None
        );
        assert_eq!(
            WorkspaceAccess::cycle(WorkspaceAccess::None, false),
            WorkspaceAccess::Rw
        );
    }

    #[test]
    fn the_engine_adjusts_backend_and_user() {
        let inputs = Inputs::default();
        let cases = [
            ("docker", None, Some(Some(json!("1000:1000")))),
            ("docker-rootless", None, Some(Some(json!("0:0")))),
            (
                "podman",
                Some(Some(json!("podman"))),
                Some(Some(json!("1000:1000"))),
            ),
            ("podman-rootless", Some(Some(json!("podman"))), Some(None)),
        ];
        for name in ["private", "group", "public"] {
            for (label, backend, user) in &cases {
                let c = choose(&preset(name), &env(label, 1000), &inputs).expect("choice");
                let want_backend = backend.clone().or(Some(Some(json!("docker"))));
                assert_eq!(
                    leaf(&c, "agents.defaults.sandbox.backend"),
                    want_backend,
                    "{name} {label}"
                );
                assert_eq!(
                    &leaf(&c, "agents.defaults.sandbox.docker.user"),
                    user,
                    "{name} {label}"
                );
            }
        }
    }

    #[test]
    fn no_engine_turns_the_sandbox_off_or_refuses_public() {
        let mut inputs = Inputs::default();
        for name in ["private", "group"] {
            let c = choose(&preset(name), &env("none", 1000), &inputs).expect("allowed");
            assert_eq!(
                leaf(&c, "agents.defaults.sandbox.mode"),
                Some(Some(json!("off")))
            );
            assert!(c.adjustments.is_empty());
            assert!(!c.notes.is_empty(), "the consequence is spelled out");
        }
        let refused = choose(&preset("public"), &env("none", 1000), &inputs).expect_err("refused");
        assert!(refused.to_string().contains("accept the risk"));
        inputs.accept_risk = true;
        let c = choose(&preset("public"), &env("none", 1000), &inputs).expect("accepted");
        assert_eq!(
            leaf(&c, "agents.defaults.sandbox.mode"),
            Some(Some(json!("off")))
        );
        assert_eq!(leaf(&c, "tools.exec.mode"), Some(Some(json!("deny"))));
    }

    #[test]
    fn a_root_gateway_on_a_rootful_engine_is_called_out() {
        let c = choose(&preset("private"), &env("docker", 0), &Inputs::default()).expect("choice");
        assert!(c.notes.iter().any(|n| n.contains("runs as root")));
    }

    #[test]
    fn owner_and_members_fill_the_placeholders() {
        let inputs = Inputs {
            owner: Some(ChannelId::parse("telegram:1").expect("id")),
            groups: vec![ChannelId::parse("telegram:-9").expect("id")],
            members: vec![
                ChannelId::parse("telegram:2").expect("id"),
                ChannelId::parse("whatsapp:+3").expect("id"),
            ],
            accept_risk: false,
            ..Inputs::default()
        };
        let c = choose(&preset("group"), &env("docker", 1000), &inputs).expect("choice");
        let d = desired(&c, &["telegram".into(), "whatsapp".into()]);
        let get = |k: &str| {
            d.leaf(&keypath::parse(k).expect("key"))
                .and_then(|l| l.value.clone())
        };
        assert_eq!(get("commands.ownerAllowFrom"), Some(json!(["telegram:1"])));
        assert_eq!(
            get("channels.telegram.groupAllowFrom"),
            Some(json!(["1", "2"]))
        );
        assert_eq!(
            get("channels.whatsapp.groupAllowFrom"),
            Some(json!(["+3"])),
            "the owner is not on whatsapp"
        );
        assert_eq!(get("channels.whatsapp.dmPolicy"), Some(json!("pairing")));
        assert_eq!(
            get("channels.telegram.groups.\"-9\".requireMention"),
            Some(json!(true))
        );
        assert_eq!(d.bindings.len(), 3, "main per channel + the group chat");
        assert!(ChannelId::parse("telegram").is_err() && ChannelId::parse("tele gram:1").is_err());
    }
}
