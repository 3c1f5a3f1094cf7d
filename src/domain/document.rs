//! The user's `openclaw.json` as a concrete syntax tree: edits touch only the keys they name,
//! so comments, formatting, key order and every other key survive byte for byte. The tree is
//! built over what the edits reach; the rest of the file stands in it as holes filled back
//! with their bytes when printed ([`crate::domain::doc_holes`]).

use std::fmt;

use jsonc_parser::ParseOptions;
use jsonc_parser::cst::{CstInputValue, CstObject, CstRootNode};
use serde_json::Value;

use crate::domain::doc_holes::{Cut, NoHoles, Placeholders};

/// Where and why a file cannot be read as OpenClaw config.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

pub struct Document {
    /// The text as read (without the BOM). The syntax tree is built from it at the first edit
    /// or lookup that needs it: a plan that edits nothing (a re-run, the check after a write)
    /// never builds it, and a big file's tree costs many times the file to build and to drop.
    source: String,
    tree: std::cell::RefCell<Option<Tree>>,
    /// The paths edits reach (every prefix of each): the tree is built over these only (see
    /// [`crate::domain::doc_holes`]). An edit outside them rebuilds the tree and replays
    /// [`Document::log`] on it.
    focus: std::cell::RefCell<std::collections::HashSet<Vec<String>>>,
    /// Every edit so far, in order, to replay on a rebuilt tree.
    log: std::cell::RefCell<Vec<Op>>,
    /// Whether the tree may have holes (the tests compare with the whole tree).
    holes: bool,
    /// The file started with a UTF-8 byte order mark: OpenClaw's JSON5 reader skips it, and
    /// the written text keeps it.
    bom: bool,
    /// How the file writes keys and strings: what is inserted is written the same way. Read
    /// at the first edit that inserts (a plan that edits nothing never needs it).
    style: std::cell::OnceCell<crate::domain::doc_style::Style>,
    /// Properties whose value was replaced while a comment sat beside it: the comment moves
    /// above the key in [`Document::settle`], never left beside the new value.
    replaced: std::cell::RefCell<Vec<jsonc_parser::cst::CstObjectProp>>,
    /// Inserted properties whose names are written bare in [`Document::settle`].
    bare: std::cell::RefCell<Vec<jsonc_parser::cst::CstObjectProp>>,
    /// Items appended to an existing array in one go: a placeholder element holds their place
    /// until [`Document::settle`] writes them (see [`Document::array_extend`]).
    extended: std::cell::RefCell<Vec<Extension>>,
    /// [`Document::value_from`] moved the appended items out: no edit may follow.
    finished: std::cell::Cell<bool>,
}

/// The syntax tree, of the whole text or (with holes) of its skeleton.
struct Tree {
    root: CstRootNode,
    holes: Option<crate::domain::doc_holes::Holes>,
}

/// An edit, as asked (replayed in order on a rebuilt tree).
enum Op {
    Set(Vec<String>, Value),
    SetMany(Vec<(Vec<String>, Value)>),
    Remove(Vec<String>, usize),
    /// The paths, and the depth to keep for every parent path the removal may prune.
    RemoveMany(
        Vec<Vec<String>>,
        std::collections::HashMap<Vec<String>, usize>,
    ),
    ArrayRemove(Vec<String>, usize),
    /// The items are shared with the [`Extension`] that writes them (thousands of routes).
    ArrayExtend(Vec<String>, std::rc::Rc<[Value]>),
}

struct Extension {
    path: Vec<String>,
    placeholder: jsonc_parser::cst::CstNode,
    items: std::rc::Rc<[Value]>,
    /// Each item as [`Document::settle`] writes it, rendered when appended: the last read
    /// ([`Document::value_from`]) moves the items themselves into the value.
    rendered: Vec<String>,
}

const BOM: char = '\u{feff}';

/// Lookups by name during one batch of edits ([`Document::set_many`],
/// [`Document::remove_many`]): each object's properties are read once, at the first lookup
/// in it, instead of scanning every property on every lookup (ten thousand agents set one key
/// each scanned `agents.entries` ten thousand times). Keyed by the object's path; a batch
/// never adds or removes a property of an object it still looks up in.
#[derive(Default)]
struct Index {
    objects: std::collections::HashMap<
        Vec<String>,
        std::collections::HashMap<String, jsonc_parser::cst::CstObjectProp>,
    >,
}

impl Index {
    /// [`last_prop`] of `obj`, the object at `at`.
    fn prop(
        &mut self,
        obj: &CstObject,
        at: &[String],
        name: &str,
    ) -> Option<jsonc_parser::cst::CstObjectProp> {
        if !self.objects.contains_key(at) {
            let mut names = std::collections::HashMap::new();
            for p in obj.properties() {
                if let Some(n) = p.name().and_then(|n| n.decoded_value().ok()) {
                    // Later duplicates win, as in `last_prop`.
                    names.insert(n, p);
                }
            }
            self.objects.insert(at.to_vec(), names);
        }
        self.objects.get(at).and_then(|m| m.get(name)).cloned()
    }

    /// [`Document::object_at`] through the index.
    fn object_at(&mut self, root: &CstRootNode, path: &[String]) -> Option<CstObject> {
        let mut obj = root.object_value()?;
        for n in 0..path.len() {
            obj = self.prop(&obj, &path[..n], &path[n])?.object_value()?;
        }
        Some(obj)
    }
}

/// The property OpenClaw reads for `name`: with duplicate keys its JSON5 parser keeps the
/// last one, so every lookup and edit here goes to the last one too.
fn last_prop(obj: &CstObject, name: &str) -> Option<jsonc_parser::cst::CstObjectProp> {
    obj.properties()
        .into_iter()
        .rev()
        .find(|p| p.name().and_then(|n| n.decoded_value().ok()).as_deref() == Some(name))
}

/// JSON5 as OpenClaw reads it: comments, trailing commas, unquoted keys, single quotes, hex
/// and non-finite numbers; but a missing comma is an error, as it is for JSON5.
pub fn options() -> ParseOptions {
    ParseOptions {
        allow_missing_commas: false,
        ..ParseOptions::default()
    }
}

/// [`options`] for the tokens alone.
pub fn scanner_options() -> jsonc_parser::ScannerOptions {
    let o = options();
    jsonc_parser::ScannerOptions {
        allow_single_quoted_strings: o.allow_single_quoted_strings,
        allow_hexadecimal_numbers: o.allow_hexadecimal_numbers,
        allow_unary_plus_numbers: o.allow_unary_plus_numbers,
        allow_bare_decimal_point_numbers: o.allow_bare_decimal_point_numbers,
        allow_non_finite_numbers: o.allow_non_finite_numbers,
        allow_extended_string_escapes: o.allow_extended_string_escapes,
    }
}

/// 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, column)
}

/// What [`Document::parse`] then [`Document::value`] give, the same value or the same error,
/// without building the syntax tree: one pass over the text into the abstract tree, converted
/// as the syntax tree converts its nodes. Every reader that does not edit uses this: the
/// syntax tree of a big file costs many times the file in memory and time, to build and to
/// drop.
pub fn parse_value(text: &str) -> Result<Value, ParseError> {
    let text = text.strip_prefix(BOM).unwrap_or(text);
    Ok(read_ast(text)?
        .map(compact_value)
        .unwrap_or_else(|| Value::Object(Default::default())))
}

/// The abstract tree's value, as the library converts it (the last of duplicate keys wins, in
/// the first one's place), with every object sized to its keys: the library grows each map as
/// it inserts, which left a one-key object at 366 bytes instead of 158 (a big file's tens of
/// thousands of small objects are most of its value).
pub(crate) fn compact_value(value: jsonc_parser::ast::Value<'_>) -> Value {
    use jsonc_parser::ast;
    match value {
        ast::Value::Object(obj) => {
            let mut map = serde_json::Map::with_capacity(obj.properties.len());
            for prop in obj.properties {
                map.insert(prop.name.into_string(), compact_value(prop.value));
            }
            Value::Object(map)
        }
        ast::Value::Array(arr) => {
            Value::Array(arr.elements.into_iter().map(compact_value).collect())
        }
        scalar => Value::from(scalar),
    }
}

/// A copy of `value` with every object sized to its keys, as [`compact_value`] reads them: a
/// map's own clone keeps room for more entries (a third more for the small objects most of a
/// big file's value is).
pub fn compact_clone(value: &Value) -> Value {
    match value {
        Value::Object(m) => {
            let mut map = serde_json::Map::with_capacity(m.len());
            for (k, v) in m {
                map.insert(k.clone(), compact_clone(v));
            }
            Value::Object(map)
        }
        Value::Array(a) => Value::Array(a.iter().map(compact_clone).collect()),
        scalar => scalar.clone(),
    }
}

/// Whether `text` reads as `value`: what `parse_value(text) == Ok(value)` says, without
/// building the text's value (a big file's value costs several times the file; the plan's
/// read-back check holds the planned one already).
pub fn reads_as(text: &str, value: &Value) -> Result<bool, ParseError> {
    let text = text.strip_prefix(BOM).unwrap_or(text);
    // Token by token first: no tree at all. Where the walk stops short, the abstract tree
    // gives the answer or the exact error.
    if lone_carriage_return(text).is_none()
        && let Some(same) = crate::domain::read_back::reads_as(text, value, &options())
    {
        return Ok(same);
    }
    // Only a text that does not parse or has no value (blank) is left: read it whole.
    Ok(parse_value(text)? == *value)
}

/// A carriage return not followed by a line feed (old Mac line endings) is a line break to
/// OpenClaw, but the syntax tree drops it when it prints the file: text no change touches
/// would change (found by the edit-path fuzz target). Refused, never silently rewritten.
pub(crate) fn lone_carriage_return(text: &str) -> Option<ParseError> {
    let at = text
        .match_indices('\r')
        .map(|(i, _)| i)
        .find(|&i| !text[i + 1..].starts_with('\n'))?;
    let before = &text[..at];
    let line_start = before.rfind('\n').map_or(0, |n| n + 1);
    Some(ParseError {
        line: before.matches('\n').count() + 1,
        column: before[line_start..].chars().count() + 1,
        message: "a carriage return without a line feed (old Mac line endings): convert the file to LF or CRLF line endings first".into(),
    })
}

/// The abstract tree of a config's text (BOM stripped), or why OpenClaw could not read it
/// (None: no value, only blanks or comments). The syntax tree is built by the same parser with
/// the same options, so it fails exactly where this fails.
fn read_ast(text: &str) -> Result<Option<jsonc_parser::ast::Value<'_>>, ParseError> {
    if let Some(e) = lone_carriage_return(text) {
        return Err(e);
    }
    let parsed =
        jsonc_parser::parse_to_ast(text, &Default::default(), &options()).map_err(|e| {
            ParseError {
                line: e.line_display(),
                column: e.column_display(),
                message: e.kind().to_string(),
            }
        })?;
    match parsed.value {
        Some(v @ jsonc_parser::ast::Value::Object(_)) => Ok(Some(v)),
        Some(_) => Err(ParseError {
            line: 1,
            column: 1,
            message: "the top level must be an object `{ ... }`".into(),
        }),
        None if text.trim().is_empty() => Ok(None),
        None => Err(ParseError {
            line: 1,
            column: 1,
            message: "no value found".into(),
        }),
    }
}

impl Document {
    pub fn parse(text: &str) -> Result<Document, ParseError> {
        read_ast(text.strip_prefix(BOM).unwrap_or(text))?;
        Ok(Document::read(text))
    }

    /// [`Document::parse`], with the whole text's syntax tree, never holes: the reference the
    /// tree with holes is compared with (tests, fuzzing).
    pub fn parse_whole(text: &str) -> Result<Document, ParseError> {
        let mut d = Document::parse(text)?;
        d.holes = false;
        Ok(d)
    }

    /// [`Document::parse`] of a text the caller has read already (`parse_value(text)` gave a
    /// value): not parsed again here.
    pub fn read(text: &str) -> Document {
        Document::read_owned(text.to_string())
    }

    /// [`Document::read`] of a text handed over (a big file's text is not copied): it comes
    /// back with [`Document::into_source`].
    pub fn read_owned(mut text: String) -> Document {
        let bom = text.starts_with(BOM);
        if bom {
            text.drain(..BOM.len_utf8());
        }
        Document {
            source: text,
            tree: Default::default(),
            focus: Default::default(),
            log: Default::default(),
            holes: true,
            bom,
            style: Default::default(),
            replaced: Default::default(),
            bare: Default::default(),
            extended: Default::default(),
            finished: Default::default(),
        }
    }

    fn style(&self) -> &crate::domain::doc_style::Style {
        self.style
            .get_or_init(|| crate::domain::doc_style::Style::of(&self.source))
    }

    /// The syntax tree (a handle), built at the first use over the paths in focus.
    fn root(&self) -> CstRootNode {
        if let Some(t) = &*self.tree.borrow() {
            return t.root.clone();
        }
        let focus = self.focus.borrow().clone();
        let skeleton = match self.holes {
            true => crate::domain::doc_holes::skeleton(&self.source, focus),
            false => None,
        };
        if let Some((_, holes)) = &skeleton {
            // Read from the abstract tree the skeleton was cut from (never built twice).
            let _ = self.style.set(holes.style);
        }
        let tree = match skeleton {
            Some((text, holes)) => CstRootNode::parse(&text, &options()).ok().map(|root| Tree {
                root,
                holes: Some(holes),
            }),
            None => None,
        };
        let tree = tree.unwrap_or_else(|| Tree {
            // The text parsed above with the same parser and options; should it fail anyway,
            // an empty tree makes every edit miss, which the plan's read-back check refuses.
            root: CstRootNode::parse(&self.source, &options())
                .or_else(|_| CstRootNode::parse("", &options()))
                .unwrap_or_else(|_| unreachable!("an empty text parses")),
            holes: None,
        });
        let root = tree.root.clone();
        *self.tree.borrow_mut() = Some(tree);
        root
    }

    /// The edits will reach `paths` (and read them): the tree is built over them (or, built
    /// already without them, built again and the edits so far replayed). Every edit brings
    /// its own paths into focus; a caller that knows them all beforehand builds the tree once.
    pub fn focus<'p>(&self, paths: impl IntoIterator<Item = &'p [String]>) {
        let mut added = false;
        {
            let mut focus = self.focus.borrow_mut();
            for p in paths {
                for n in 0..=p.len() {
                    if !focus.contains(&p[..n]) {
                        focus.insert(p[..n].to_vec());
                        added = true;
                    }
                }
            }
        }
        let stale = added
            && matches!(&*self.tree.borrow(), Some(Tree { holes: Some(h), .. })
                if !self.focus.borrow().is_subset(&h.expanded));
        if stale {
            debug_assert!(
                !self.finished.get(),
                "a tree rebuilt after the document's last read (its log is gone)"
            );
            *self.tree.borrow_mut() = None;
            self.replaced.borrow_mut().clear();
            self.bare.borrow_mut().clear();
            self.extended.borrow_mut().clear();
            // Replaying never logs: the log is taken out and put back.
            let log = std::mem::take(&mut *self.log.borrow_mut());
            for op in &log {
                self.apply(op);
            }
            *self.log.borrow_mut() = log;
        }
    }

    /// Bring `op`'s paths into focus, do it, and log it.
    fn edit(&self, op: Op) {
        debug_assert!(
            !self.finished.get(),
            "an edit after the document's last read"
        );
        match &op {
            Op::Set(p, _) | Op::Remove(p, _) | Op::ArrayRemove(p, _) | Op::ArrayExtend(p, _) => {
                self.focus([p.as_slice()])
            }
            Op::SetMany(items) => self.focus(items.iter().map(|(p, _)| p.as_slice())),
            Op::RemoveMany(paths, _) => self.focus(paths.iter().map(Vec::as_slice)),
        }
        self.apply(&op);
        self.log.borrow_mut().push(op);
    }

    fn apply(&self, op: &Op) {
        match op {
            Op::Set(p, v) => self.set_one(p, v),
            Op::SetMany(items) => self.set_many_now(items),
            Op::Remove(p, keep) => {
                self.remove_one(p, *keep);
            }
            Op::RemoveMany(paths, keep) => {
                self.remove_many_now(paths, |p| keep.get(p).copied().unwrap_or(0))
            }
            Op::ArrayRemove(p, i) => self.array_remove_now(p, *i),
            Op::ArrayExtend(p, items) => self.array_extend_now(p, items),
        }
    }

    /// The text as read (its BOM too), the document done with.
    pub fn into_source(self) -> String {
        let mut text = self.source;
        if self.bom {
            text.insert(0, BOM);
        }
        text
    }

    /// Nothing was edited (nor looked up in the syntax tree): the text is the one read.
    pub fn pristine(&self) -> bool {
        self.tree.borrow().is_none()
    }

    /// The tree's value, every hole read back from its bytes.
    fn tree_value(&self, node: &jsonc_parser::cst::CstNode) -> Option<Value> {
        let mut value = node.to_serde_value()?;
        if let Some(Tree { holes: Some(h), .. }) = &*self.tree.borrow() {
            h.fill_value(&mut value, &self.source);
        }
        Some(value)
    }

    pub fn value(&self) -> Value {
        if self.pristine() {
            return parse_value(&self.source).unwrap_or_else(|_| Value::Object(Default::default()));
        }
        let mut value = self
            .root()
            .value()
            .and_then(|v| self.tree_value(&v))
            .unwrap_or_else(|| Value::Object(Default::default()));
        self.extend_items(&mut value);
        value
    }

    /// Items appended in one go stand in the tree as one placeholder element (see
    /// [`Document::array_extend`]): in the value, the items.
    fn extend_items(&self, value: &mut Value) {
        self.put_items(value, false);
    }

    /// [`Document::extend_items`]; `last`: the document's last read, the items moved out of
    /// it (each is the log's too: the log is dropped, so no edit can be replayed after this).
    fn put_items(&self, value: &mut Value, last: bool) {
        if last {
            self.log.borrow_mut().clear();
            self.finished.set(true);
        }
        for e in self.extended.borrow_mut().iter_mut() {
            let mut at = Some(&mut *value);
            for seg in &e.path {
                at = at.and_then(|v| v.get_mut(seg.as_str()));
            }
            if let Some(Value::Array(a)) = at {
                a.pop();
                match std::rc::Rc::get_mut(&mut e.items).filter(|_| last) {
                    Some(items) => a.extend(items.iter_mut().map(std::mem::take)),
                    None => a.extend(e.items.iter().cloned()),
                }
            }
        }
    }

    /// [`Document::value`], built from `read`, what the text as read reads as
    /// ([`parse_value`]): every hole's value is moved out of it, not read again from its
    /// bytes (a big file's value is never held twice). `changes(read, new, placeholders)` is
    /// asked first, while `new` still holds the holes' placeholders: a diff of the two then
    /// walks only what the edits reached. The document's last read: the items appended in one
    /// go move into the value too, and only [`Document::settle`], [`Document::text`] and
    /// [`Document::into_source`] may follow.
    pub fn value_from<T>(
        &self,
        read: Value,
        changes: impl FnOnce(&Value, &Value, &dyn Placeholders) -> T,
    ) -> (T, Value) {
        if self.pristine() {
            return (changes(&read, &read, &NoHoles), read);
        }
        let tree = self.tree.borrow();
        let Some(Tree {
            root,
            holes: Some(holes),
        }) = &*tree
        else {
            drop(tree);
            let value = self.value();
            return (changes(&read, &value, &NoHoles), value);
        };
        let mut value = root
            .value()
            .and_then(|v| v.to_serde_value())
            .unwrap_or_else(|| Value::Object(Default::default()));
        self.put_items(&mut value, true);
        let cut = Cut {
            holes,
            source: &self.source,
        };
        let answer = changes(&read, &value, &cut);
        let mut read = read;
        holes.fill_from(&mut value, &self.source, &mut read);
        (answer, value)
    }

    /// [`Document::value`] at `path` (None: no such key), converting only that subtree.
    pub fn value_at(&self, path: &[String]) -> Option<Value> {
        // Items appended in one go are read through the whole value (see `array_extend`).
        if self
            .extended
            .borrow()
            .iter()
            .any(|e| e.path.starts_with(path) || path.starts_with(&e.path))
        {
            return crate::domain::choice::get_in(&self.value(), path).cloned();
        }
        let Some((last, parents)) = path.split_last() else {
            return Some(self.value());
        };
        // A lookup into a hole: the tree is built over the path first.
        self.focus([path]);
        self.tree_value(&last_prop(&self.object_at(parents)?, last)?.value()?)
    }

    pub fn text(&self) -> String {
        let text = match &*self.tree.borrow() {
            None => self.source.clone(),
            Some(Tree { root, holes: None }) => root.to_string(),
            Some(Tree {
                root,
                holes: Some(h),
            }) => h.fill(&root.to_string(), &self.source),
        };
        if self.bom {
            format!("{BOM}{text}")
        } else {
            text
        }
    }

    fn object_at(&self, path: &[String]) -> Option<CstObject> {
        let mut obj = self.root().object_value()?;
        for seg in path {
            obj = last_prop(&obj, seg)?.object_value()?;
        }
        Some(obj)
    }

    /// Set `path` to `value`, creating (or replacing non-object) parents on the way.
    pub fn set(&self, path: &[String], value: &Value) {
        self.edit(Op::Set(path.to_vec(), value.clone()));
    }

    fn set_one(&self, path: &[String], value: &Value) {
        let Some((last, parents)) = path.split_last() else {
            return;
        };
        let mut obj = self.root().object_value_or_set();
        for seg in parents {
            obj = match last_prop(&obj, seg) {
                Some(prop) => prop.object_value_or_set(),
                None => {
                    let child = obj.object_value_or_set(seg);
                    if let Some(created) = last_prop(&obj, seg) {
                        self.style()
                            .restyle_name(&created, &mut self.bare.borrow_mut());
                    }
                    child
                }
            };
        }
        match last_prop(&obj, last) {
            Some(prop) => self.replace_value(&prop, value),
            None => self.append_styled(&obj, last, value),
        }
    }

    /// Append `key: value` to `obj` in the file's style: names, quotes, trailing commas, and
    /// an object written on one line stays on one line.
    fn append_styled(&self, obj: &CstObject, key: &str, value: &Value) {
        let node: jsonc_parser::cst::CstNode = obj.clone().into();
        let inline = !obj.properties().is_empty() && crate::domain::doc_style::is_inline(&node);
        let prop = obj.append(key, to_input(value));
        self.style()
            .restyle_prop(&prop, &mut self.bare.borrow_mut());
        if inline {
            crate::domain::doc_style::collapse_after_insert(&node, &prop.clone().into());
        } else if let Some(v) = prop.value() {
            self.style().commas(&v);
        }
    }

    /// Set an existing property's value in the file's style; a comment beside the old value
    /// is remembered to move above the key.
    fn replace_value(&self, prop: &jsonc_parser::cst::CstObjectProp, value: &Value) {
        if crate::domain::doc_style::has_side_comment(prop) {
            self.replaced.borrow_mut().push(prop.clone());
        }
        let parent_inline = prop
            .parent()
            .is_some_and(|p| crate::domain::doc_style::is_inline(&p.into()));
        prop.set_value(to_input(value));
        if let Some(v) = prop.value() {
            self.style().restyle_value(&v, &mut self.bare.borrow_mut());
            if parent_inline {
                crate::domain::doc_style::collapse(&v);
            } else {
                self.style().commas(&v);
            }
        }
    }

    /// Finish the edits, right before printing (no edit or lookup by name may follow):
    /// inserted names are written bare where the file writes its keys bare, and comments that
    /// sat beside a replaced value move above its key.
    pub fn settle(&self) {
        for e in self.extended.borrow_mut().drain(..) {
            let sep = match e.placeholder.previous_sibling() {
                Some(ws) if ws.is_whitespace() => {
                    let multiline = ws.previous_sibling().is_some_and(|n| n.is_newline());
                    if multiline {
                        format!(",\n{ws}")
                    } else {
                        ", ".to_string()
                    }
                }
                Some(n) if n.is_newline() => ",\n".to_string(),
                _ => ", ".to_string(),
            };
            let raw = e.rendered.join(&sep);
            if let Some(s) = e.placeholder.as_string_lit() {
                s.set_raw_value(raw);
            }
        }
        crate::domain::doc_style::bare_names(std::mem::take(&mut self.bare.borrow_mut()));
        for prop in self.replaced.borrow_mut().drain(..) {
            crate::domain::doc_style::move_side_comments_above(&prop);
        }
    }

    /// [`Document::set`] for many paths, none inside another, with the same result: keys that
    /// already exist are set in place, and the keys missing under one existing object are
    /// gathered into one value and appended once. The syntax tree copies an object's children
    /// on every append, so setting a thousand new keys one by one was quadratic.
    pub fn set_many(&self, items: &[(Vec<String>, Value)]) {
        if !items.is_empty() {
            self.edit(Op::SetMany(items.to_vec()));
        }
    }

    fn set_many_now(&self, items: &[(Vec<String>, Value)]) {
        use std::collections::HashMap;
        // (existing parent path, missing key) -> the value to append there.
        let mut groups: Vec<(Vec<String>, String, Value)> = Vec::new();
        let mut index_of: HashMap<(Vec<String>, String), usize> = HashMap::new();
        let mut index = Index::default();
        'items: for (path, value) in items {
            let Some(last) = path.len().checked_sub(1) else {
                continue;
            };
            for n in 0..path.len() {
                if let Some(&g) = index_of.get(&(path[..n].to_vec(), path[n].clone())) {
                    crate::domain::choice::set_in(
                        &mut groups[g].2,
                        &path[n + 1..],
                        Some(value.clone()),
                    );
                    continue 'items;
                }
            }
            let mut obj = self.root().object_value_or_set();
            for (i, seg) in path.iter().enumerate() {
                match index.prop(&obj, &path[..i], seg) {
                    Some(prop) if i == last => {
                        self.replace_value(&prop, value);
                        continue 'items;
                    }
                    Some(prop) => obj = prop.object_value_or_set(),
                    None => {
                        let mut subtree = Value::Object(Default::default());
                        crate::domain::choice::set_in(
                            &mut subtree,
                            &path[i + 1..],
                            Some(value.clone()),
                        );
                        if i == last {
                            subtree = value.clone();
                        }
                        index_of.insert((path[..i].to_vec(), seg.clone()), groups.len());
                        groups.push((path[..i].to_vec(), seg.clone(), subtree));
                        continue 'items;
                    }
                }
            }
        }
        for (parent, key, value) in groups {
            let obj = if parent.is_empty() {
                Some(self.root().object_value_or_set())
            } else {
                index.object_at(&self.root(), &parent)
            };
            if let Some(obj) = obj {
                self.append_styled(&obj, &key, &value);
            }
        }
    }

    /// Remove `path`; then remove parents (up to, not including, `keep_depth` segments) that
    /// this removal left empty. Returns whether anything was removed.
    pub fn remove(&self, path: &[String], keep_depth: usize) -> bool {
        self.focus([path]);
        let removed = self.remove_one(path, keep_depth);
        if removed {
            self.log
                .borrow_mut()
                .push(Op::Remove(path.to_vec(), keep_depth));
        }
        removed
    }

    fn remove_one(&self, path: &[String], keep_depth: usize) -> bool {
        let Some((last, parents)) = path.split_last() else {
            return false;
        };
        let Some(obj) = self.object_at(parents) else {
            return false;
        };
        let Some(prop) = last_prop(&obj, last) else {
            return false;
        };
        prop.remove();
        let mut depth = parents.len();
        while depth > keep_depth {
            let Some(obj) = self.object_at(&path[..depth]) else {
                break;
            };
            if !obj.properties().is_empty() {
                break;
            }
            let Some(parent) = self.object_at(&path[..depth - 1]) else {
                break;
            };
            let Some(prop) = last_prop(&parent, &path[depth - 1]) else {
                break;
            };
            prop.remove();
            depth -= 1;
        }
        true
    }

    /// [`Document::remove`] for many paths (each pruning the parents it empties, down to
    /// `keep_depth(path)` segments), with the same result: an object all of whose keys go is
    /// removed whole from its parent, deepest first, instead of key by key (each removal walks
    /// the object's children, so emptying a thousand-key object one key at a time was quadratic).
    pub fn remove_many(&self, paths: &[Vec<String>], keep_depth: impl Fn(&[String]) -> usize) {
        if paths.is_empty() {
            return;
        }
        let mut keep = std::collections::HashMap::new();
        for p in paths {
            for n in 0..p.len() {
                if !keep.contains_key(&p[..n]) {
                    keep.insert(p[..n].to_vec(), keep_depth(&p[..n]));
                }
            }
        }
        self.edit(Op::RemoveMany(paths.to_vec(), keep));
    }

    fn remove_many_now(&self, paths: &[Vec<String>], keep_depth: impl Fn(&[String]) -> usize) {
        use std::collections::{BTreeMap, BTreeSet};
        let deepest = paths.iter().map(Vec::len).max().unwrap_or(0);
        // levels[d]: parent path of depth d -> the keys to remove from it.
        let mut levels: Vec<BTreeMap<Vec<String>, BTreeSet<String>>> =
            vec![BTreeMap::new(); deepest.max(1)];
        for p in paths {
            if let Some((last, parent)) = p.split_last() {
                levels[parent.len()]
                    .entry(parent.to_vec())
                    .or_default()
                    .insert(last.clone());
            }
        }
        let mut index = Index::default();
        for depth in (0..levels.len()).rev() {
            let groups = std::mem::take(&mut levels[depth]);
            for (parent, keys) in groups {
                let Some(obj) = index.object_at(&self.root(), &parent) else {
                    continue;
                };
                let props = obj.properties();
                let name = |p: &jsonc_parser::cst::CstObjectProp| {
                    p.name().and_then(|n| n.decoded_value().ok())
                };
                let all = !props.is_empty()
                    && props
                        .iter()
                        .all(|p| name(p).is_some_and(|n| keys.contains(&n)));
                if all && depth > 0 && depth > keep_depth(&parent) {
                    let (last, grand) = parent.split_last().expect("depth > 0");
                    levels[depth - 1]
                        .entry(grand.to_vec())
                        .or_default()
                        .insert(last.clone());
                    continue;
                }
                for p in props {
                    if name(&p).is_some_and(|n| keys.contains(&n)) {
                        p.remove();
                    }
                }
            }
        }
    }

    /// Remove the element at `index` of the array at `path`.
    pub fn array_remove(&self, path: &[String], index: usize) {
        self.edit(Op::ArrayRemove(path.to_vec(), index));
    }

    fn array_remove_now(&self, path: &[String], index: usize) {
        if let Some(el) = self
            .array_at(path)
            .and_then(|a| a.elements().into_iter().nth(index))
        {
            el.remove();
        }
    }

    /// Append to the array at `path`, creating it when it is missing.
    fn array_append(&self, path: &[String], value: &Value) {
        match self.array_at(path) {
            Some(a) => {
                let node = a.append(to_input(value));
                self.style()
                    .restyle_value(&node, &mut self.bare.borrow_mut());
            }
            None => self.set_one(path, &Value::Array(vec![value.clone()])),
        }
    }

    /// Append `items` to the array at `path` (created with them when missing). An append to
    /// the syntax tree walks every element of the array, so appending thousands one by one was
    /// quadratic: into an existing array with elements, one placeholder element is appended
    /// (the library places it: indentation, comma), and [`Document::settle`] writes every item
    /// in its place, one line each in the file's style. [`Document::value`] reads the items
    /// meanwhile.
    pub fn array_extend(&self, path: &[String], items: Vec<Value>) {
        // The items move in (a big file's new routes are not copied).
        let items: std::rc::Rc<[Value]> = items.into();
        if !items.is_empty() {
            self.edit(Op::ArrayExtend(path.to_vec(), items));
        }
    }

    fn array_extend_now(&self, path: &[String], items: &std::rc::Rc<[Value]>) {
        match self.array_at(path) {
            None => self.set_one(path, &Value::Array(items.to_vec())),
            Some(a) if items.len() < 2 || a.elements().is_empty() => {
                for item in items.iter() {
                    self.array_append(path, item);
                }
            }
            Some(a) => {
                let placeholder = a.append(CstInputValue::String(String::new()));
                let rendered = items
                    .iter()
                    .map(|i| self.style().render_inline(i))
                    .collect();
                self.extended.borrow_mut().push(Extension {
                    path: path.to_vec(),
                    placeholder,
                    items: items.clone(),
                    rendered,
                });
            }
        }
    }

    fn array_at(&self, path: &[String]) -> Option<jsonc_parser::cst::CstArray> {
        let (last, parents) = path.split_last()?;
        last_prop(&self.object_at(parents)?, last)?.array_value()
    }

    /// Byte offset, in the text as read, of the first `$include` key on the way down `path`
    /// (the root included). Asked only where a key crosses an include (an error to report):
    /// the whole text's tree, built for this and dropped.
    pub fn include_on_path(&self, path: &[String]) -> Option<(Vec<String>, usize)> {
        let root = CstRootNode::parse(&self.source, &options()).ok()?;
        let mut obj = root.object_value()?;
        let mut walked = Vec::new();
        for seg in path.iter().map(Some).chain(std::iter::once(None)) {
            if let Some(prop) = last_prop(&obj, "$include") {
                let bom = if self.bom { BOM.len_utf8() } else { 0 };
                return Some((walked, bom + prop_offset(&self.source, &prop)));
            }
            let seg = seg?;
            obj = last_prop(&obj, seg)?.object_value()?;
            walked.push(seg.clone());
        }
        None
    }
}

/// The paths of every object (the root is `[]`) that holds a `$include` key, from the value
/// (duplicate keys already resolved last-wins). One walk of the file: looking for `$include`
/// on the way down each touched key separately scanned big objects once per key.
pub fn objects_with_include(value: &Value) -> std::collections::HashSet<Vec<String>> {
    fn walk(v: &Value, path: &mut Vec<String>, out: &mut std::collections::HashSet<Vec<String>>) {
        if let Value::Object(map) = v {
            if map.contains_key("$include") {
                out.insert(path.clone());
            }
            for (k, child) in map {
                if child.is_object() {
                    path.push(k.clone());
                    walk(child, path, out);
                    path.pop();
                }
            }
        }
    }
    let mut out = std::collections::HashSet::new();
    walk(value, &mut Vec::new(), &mut out);
    out
}

/// Offset of a property in the printed text: the CST keeps no positions after edits, so count
/// the text that precedes the property in document order.
fn prop_offset(text: &str, prop: &jsonc_parser::cst::CstObjectProp) -> usize {
    let mut offset = 0;
    let mut node: jsonc_parser::cst::CstNode = prop.clone().into();
    loop {
        for sibling in node.previous_siblings() {
            offset += sibling.to_string().len();
        }
        match node.parent() {
            Some(parent) => node = parent.into(),
            None => break,
        }
    }
    offset.min(text.len())
}

fn to_input(value: &Value) -> CstInputValue {
    match value {
        Value::Null => CstInputValue::Null,
        Value::Bool(b) => CstInputValue::Bool(*b),
        Value::Number(n) => CstInputValue::Number(n.to_string()),
        Value::String(s) => CstInputValue::String(s.clone()),
        Value::Array(a) => CstInputValue::Array(a.iter().map(to_input).collect()),
        Value::Object(m) => {
            CstInputValue::Object(m.iter().map(|(k, v)| (k.clone(), to_input(v))).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lone_carriage_return_is_refused_where_it_stands_crlf_is_not() {
        let e = Document::parse("{ a: 1,\n  b:\r\r2 }")
            .err()
            .expect("refused");
        assert_eq!((e.line, e.column), (2, 5), "{e}");
        assert!(e.message.contains("carriage return"), "{e}");
        assert!(parse_value("{ a: 1,\r\n  b: 2 }\r\n").is_ok());
    }
    use serde_json::json;

    use crate::domain::read_back::tests::fixture_texts;

    #[test]
    fn reads_as_says_what_comparing_the_parsed_value_says() {
        let mut texts = fixture_texts();
        texts.extend(
            [
                "{ a: 1, a: 2 }",
                "{ a: 2, a: 2, b: 3 }",
                "{ n: 0x1F, m: +1, o: .5, p: 1e999, q: -0 }",
                "\u{feff}{ s: 'x\\u0041', t: [1, [2, { u: null }]], v: true }",
                "",
                "// only a comment\n",
            ]
            .map(String::from),
        );
        let values: Vec<Value> = texts.iter().filter_map(|t| parse_value(t).ok()).collect();
        let mut compared = 0;
        for t in &texts {
            for v in values
                .iter()
                .chain([&json!({"a": 2, "b": 3}), &json!({"a": 1})])
            {
                if let Ok(read) = parse_value(t) {
                    assert_eq!(reads_as(t, v).unwrap(), read == *v, "{t} against {v}");
                    compared += 1;
                }
            }
        }
        assert!(compared > 100, "{compared}");
        assert!(reads_as("{ a: ", &json!({})).is_err());
    }

    /// The same edits on the tree with holes and on the whole tree print the same text and
    /// read as the same value, on every fixture and a file with odd manners; the tree with
    /// holes holds a fraction of a big file.
    #[test]
    fn a_tree_with_holes_prints_what_the_whole_tree_prints() {
        let texts = odd_texts();
        let sets = [
            (p("agents.defaults.sandbox.mode"), json!("all")),
            (p("agents.entries.w.sandbox.mode"), json!("all")),
            (p("gateway.bind"), json!("loopback")),
            (p("channels.telegram.dmPolicy"), json!("pairing")),
            (p("tools.exec"), json!({"mode": "ask"})),
        ];
        let routes = [
            json!({"agentId": "g", "match": {"channel": "telegram"}}),
            json!({"agentId": "h"}),
        ];
        for text in &texts {
            let Ok(with) = Document::parse(text) else {
                continue;
            };
            let whole = Document::parse_whole(text).unwrap();
            for d in [&with, &whole] {
                d.set_many(&sets);
                d.remove(&p("agents.list"), 0);
                d.array_extend(&p("bindings"), routes.to_vec());
                d.set(&p("gateway.auth.token"), &json!("t"));
                d.remove_many(&[p("tools.allow"), p("channels.telegram.groups")], |_| 0);
            }
            assert_eq!(with.value(), whole.value(), "{text}");
            with.settle();
            whole.settle();
            assert_eq!(with.text(), whole.text(), "{text}");
        }
        // Ten thousand agents, one key edited: the tree holds the top of the file only.
        let mut big = String::from("{\n  agents: {\n    entries: {\n");
        for i in 0..10_000 {
            big.push_str(&format!(
                "      'a{i}': {{ sandbox: {{ mode: 'off' }} }},\n"
            ));
        }
        big.push_str("    },\n  },\n}\n");
        let doc = Document::parse(&big).unwrap();
        doc.set(&p("agents.defaults.sandbox.mode"), &json!("all"));
        let tree = doc.root().to_string().len();
        assert!(tree * 2 < big.len(), "{tree} of {}", big.len());
        assert_eq!(
            doc.value()["agents"]["entries"]["a9999"]["sandbox"]["mode"],
            "off"
        );
        let out = doc.text();
        let entries = &big[..big.find("\n    },\n  },").unwrap()];
        assert!(out.starts_with(entries), "{}", &out[out.len() - 300..]);
        assert_eq!(
            parse_value(&out).unwrap()["agents"]["defaults"]["sandbox"]["mode"],
            "all"
        );
    }

    /// The value made of the value read (holes moved out of it) is the whole tree's value,
    /// and the diff taken before the holes are filled is the diff of the whole values:
    /// duplicate keys around holes, items removed before holes in an array, pruned parents.
    #[test]
    fn a_value_made_of_the_value_read_is_the_whole_trees_and_so_is_its_diff() {
        use crate::domain::ledger;
        let mut texts = odd_texts();
        texts.push("{\n  a: { x: { y: 1 } },\n  b: [ { y: 1 }, { y: 2 }, { y: 3 } ],\n  a: { x: { y: 2 }, z: [ { q: 1 } ] },\n  c: { d: { e: 1 }, f: 2 },\n}\n".into());
        texts.push("{\n  bindings: [ { agentId: 'x' }, { agentId: 'y', match: { peer: { id: '1' } } } ],\n  agents: { entries: { w: { tools: { deny: [ 'exec' ] } } }, entries: { w: { sandbox: { mode: 'off' } } } },\n}\n".into());
        // Objects with many entries, where the tree keeps runs of them as one entry each:
        // one entry per line with comments among them, and all on one line.
        let entries: Vec<String> = (0..20)
            .map(|i| format!("      // agent {i}\n      'a{i}': {{ x: {i}, y: [ {i} ] }},\n"))
            .collect();
        texts.push(format!(
            "{{\n  agents: {{\n    entries: {{\n{}    }},\n  }},\n  bindings: [ {{ agentId: 'a1' }} ],\n}}\n",
            entries.concat()
        ));
        let inline: Vec<String> = (0..20).map(|i| format!("a{i}: {{ x: {i} }}")).collect();
        texts.push(format!(
            "{{ agents: {{ entries: {{ {} }} }} }}",
            inline.join(", ")
        ));
        let edits: [&dyn Fn(&Document); 10] = [
            // An entry inserted after a run, one set inside one (splitting it), one removed
            // between two, and a run's neighbour removed.
            &|d| d.set(&p("agents.entries.new.x"), &json!(1)),
            &|d| d.set(&p("agents.entries.a9.x"), &json!("nine")),
            &|d| {
                d.remove(&p("agents.entries.a10"), 2);
                d.set(&p("agents.entries.z.y"), &json!([]));
            },
            &|d| {
                d.remove_many(&[p("agents.entries.a0"), p("agents.entries.a19")], |_| 2);
                d.set(&p("agents.entries.a1"), &json!({"q": true}));
            },
            // Items shift under the holes of an array of the same length.
            &|d| {
                d.array_remove(&p("b"), 0);
                d.array_extend(&p("b"), vec![json!({"y": 3})]);
            },
            // The later of two duplicate keys removed: the earlier one's value is read again.
            &|d| {
                d.remove(&p("a"), 0);
            },
            &|d| d.set(&p("agents.defaults.sandbox.mode"), &json!("all")),
            &|d| {
                d.array_remove(&p("b"), 0);
                d.array_remove(&p("bindings"), 0);
                d.array_extend(
                    &p("bindings"),
                    vec![json!({"agentId": "g"}), json!({"agentId": "h"})],
                );
            },
            &|d| {
                d.remove_many(&[p("c.d"), p("c.f"), p("agents.entries.w.sandbox")], |_| 1);
                d.set(&p("a.x.y"), &json!(3));
            },
            &|d| {
                d.set(&p("agents.entries.w.sandbox.mode"), &json!("all"));
                d.remove(&p("agents.list"), 0);
            },
        ];
        let mut compared = 0;
        for text in &texts {
            let Ok(read) = parse_value(text) else {
                continue;
            };
            for edit in &edits {
                let (with, whole) = (
                    Document::parse(text).unwrap(),
                    Document::parse_whole(text).unwrap(),
                );
                edit(&with);
                edit(&whole);
                let want = whole.value();
                let (keys, value) = with.value_from(read.clone(), |old, new, holes| {
                    ledger::diff_with(old, new, holes)
                });
                assert_eq!(value, want, "{text}");
                assert_eq!(keys, ledger::diff(&read, &want), "{text}");
                // The items moved into the value are still printed (rendered when appended).
                with.settle();
                whole.settle();
                assert_eq!(with.text(), whole.text(), "{text}");
                compared += 1;
            }
        }
        assert!(compared > 40, "{compared}");
    }

    /// Objects of many entries, one per line, edited at random (keys set in and beside runs,
    /// entries removed, some together): the tree that keeps runs of entries as one entry
    /// prints, reads and diffs as the whole tree does.
    #[test]
    fn random_edits_around_runs_of_entries_are_the_whole_trees() {
        use crate::domain::ledger;
        let mut rand = crate::domain::read_back::tests::rand();
        let mut checked = 0;
        for round in 0..60 {
            let n = 9 + rand(20);
            let mut body = String::new();
            for i in 0..n {
                if rand(3) == 0 {
                    body.push_str(&format!("    // about e{i}\n"));
                }
                let comma = if i + 1 < n || rand(2) == 0 { "," } else { "" };
                let side = if rand(4) == 0 { " /* side */" } else { "" };
                body.push_str(&format!("    e{i}: {{ v: {i}, w: [{i}] }}{comma}{side}\n"));
            }
            let text = format!("{{\n  o: {{\n{body}  }},\n  k: [ 1 ],\n}}\n");
            let Ok(read) = parse_value(&text) else {
                panic!("{text}");
            };
            let key = |rand: &mut dyn FnMut(usize) -> usize| format!("o.e{}", rand(n + 2));
            let mut ops: Vec<(u8, String)> = Vec::new();
            for _ in 0..1 + rand(4) {
                ops.push((rand(4) as u8, key(&mut rand)));
            }
            let (with, whole) = (
                Document::parse(&text).unwrap(),
                Document::parse_whole(&text).unwrap(),
            );
            for d in [&with, &whole] {
                for (op, k) in &ops {
                    match op {
                        0 => d.set(&p(&format!("{k}.v")), &json!(round)),
                        1 => d.set(&p(k), &json!({"new": true})),
                        2 => {
                            d.remove(&p(k), 1);
                        }
                        _ => d.remove_many(&[p(k), p("o.e1")], |_| 1),
                    }
                }
            }
            let want = whole.value();
            let (keys, value) = with.value_from(read.clone(), |old, new, holes| {
                ledger::diff_with(old, new, holes)
            });
            assert_eq!(
                serde_json::to_string(&value).ok(),
                serde_json::to_string(&want).ok(),
                "{ops:?}\n{text}"
            );
            assert_eq!(keys, ledger::diff(&read, &want), "{ops:?}\n{text}");
            with.settle();
            whole.settle();
            assert_eq!(with.text(), whole.text(), "{ops:?}\n{text}");
            checked += 1;
        }
        assert_eq!(checked, 60);
    }

    /// Every fixture, and texts with odd manners, each also with Windows line endings.
    fn odd_texts() -> Vec<String> {
        let mut texts = fixture_texts();
        texts.push("{agents:{defaults:{sandbox:{mode:'off'}},entries:{a:{\n  tools: { x: 1 },\n}}},bindings:[{agentId:'a'},\n  {agentId:'b'},\n],channels:{telegram:{groups:{'1':{requireMention:true}}}}}".into());
        // `entries` has no blank of its own: the library takes the trailing-comma style from
        // `a`'s value, which must not be a hole.
        texts.push("{\"agents\": {\"entries\": {\"a\": {\n  \"x\": 1,\n}\n}}}\n".into());
        // Odd blanks (no-break space, form feed, vertical tab), comments where blanks would be,
        // and a key spelled like a placeholder's prefix.
        texts.push("{\u{a0}agents:{/* c */entries:{a:{\u{c}x: 1,}},\u{b}defaults:{}},bindings:[/*x*/{a:1}//y\n,{b:2}]}".into());
        texts.push(
            "{ 'clawposture-hole-0': { a: 1 }, agents: { entries: { b: { c: 1 } } } }".into(),
        );
        texts.push("{\n\tagents: { // mine\n\t\tentries: { w: { sandbox: { mode: 'off' } } }, list: [ { id: 'w' } ]\n\t},\n\tbindings: [ { agentId: 'w', match: { channel: 'telegram' } } ]\n}\n".into());
        // Windows line endings: the library writes what it inserts with the file's newline.
        let crlf: Vec<String> = texts.iter().map(|t| t.replace('\n', "\r\n")).collect();
        texts.extend(crlf);
        texts
    }

    fn p(s: &str) -> Vec<String> {
        crate::domain::keypath::parse(s).unwrap()
    }

    /// The value-only reader gives what the syntax tree gives: the same value (duplicate keys
    /// last-wins, escapes, hex, big and non-finite numbers, a BOM) or the same error.
    #[test]
    fn parse_value_reads_what_the_syntax_tree_reads() {
        let mut texts = fixture_texts();
        assert!(texts.len() > 5, "fixtures");
        texts.extend(
            [
                "",
                "  \n// only a comment\n",
                "\u{feff}{ a: 1 }",
                "{ a: 1, a: { b: 2 }, c: 3, a: [1e999, -Infinity, NaN, 0x1F, +5, .5, 5.] }",
                "{ 'k\\'q': 'v\\u0041\\\n w', \"x\": [true, false, null, {}], }",
                "[1, 2]",
                "5",
                "{ a: 1, }  x",
                "{ a: 1 b: 2 }",
                "{ a: ",
                "{ a: 'unterminated }",
            ]
            .map(String::from),
        );
        for t in &texts {
            let tree = Document::parse(t).map(|d| d.value());
            assert_eq!(parse_value(t), tree, "{t:?}");
        }
    }

    #[test]
    fn value_at_reads_one_subtree_as_the_whole_value_does() {
        let doc = Document::parse("{ a: { b: [1, { c: 'x' }], b: [2] }, d: 3 }").unwrap();
        let whole = doc.value();
        for path in ["a", "a.b", "d", "a.x", "d.e"] {
            assert_eq!(
                doc.value_at(&p(path)),
                crate::domain::choice::get_in(&whole, &p(path)).cloned(),
                "{path}"
            );
        }
        doc.array_extend(&p("a.b"), vec![json!(3), json!(4)]);
        assert_eq!(doc.value_at(&p("a.b")), Some(json!([2, 3, 4])));
    }

    #[test]
    fn edits_keep_comments_and_unrelated_keys() {
        let text = "// my config\n{\n  gateway: { port: 18789, /* keep */ bind: 'lan', },\n  custom: [1, 2,],\n}\n";
        let doc = Document::parse(text).unwrap();
        doc.set(&p("gateway.bind"), &json!("loopback"));
        doc.set(&p("tools.exec.mode"), &json!("ask"));
        let out = doc.text();
        assert!(
            out.starts_with(
                "// my config\n{\n  gateway: { port: 18789, /* keep */ bind: 'loopback', },"
            ),
            "{out}"
        );
        assert!(out.contains("custom: [1, 2,]"), "{out}");
        let v: Value = jsonc_parser::parse_to_serde_value(&out, &options()).unwrap();
        assert_eq!(v["tools"]["exec"]["mode"], "ask");
        assert_eq!(v["gateway"]["port"], 18789);
    }

    /// An insertion into an object written on one line keeps it on one line, and leaves the
    /// text of the properties already there byte for byte: odd spacing, and a value written
    /// over several lines (found by the edit-path fuzz target).
    #[test]
    fn an_insertion_on_one_line_leaves_its_siblings_text_alone() {
        let text = "{ t: { dmPolicy:  ['*'] }, n: {\n  x: 1,\n} }\n";
        let doc = Document::parse(text).unwrap();
        // As the plan inserts: the missing `gateway` appended whole to the existing object.
        doc.set_many(&[(p("gateway.bind"), json!("loopback"))]);
        doc.settle();
        let out = doc.text();
        assert!(out.contains("t: { dmPolicy:  ['*'] }"), "{out}");
        assert!(out.contains("n: {\n  x: 1,\n}"), "{out}");
        assert!(
            !out.starts_with("{\n"),
            "the object stays on one line: {out}"
        );
        assert_eq!(
            Document::parse(&out).unwrap().value()["gateway"]["bind"],
            "loopback"
        );
    }

    #[test]
    fn a_byte_order_mark_is_read_past_and_kept() {
        let doc = Document::parse("\u{feff}{ \"gateway\": { \"port\": 1 } }\n").unwrap();
        doc.set(&p("gateway.bind"), &json!("loopback"));
        let out = doc.text();
        assert!(out.starts_with("\u{feff}{"), "{out:?}");
        assert_eq!(doc.value()["gateway"]["bind"], "loopback");
        assert_eq!(out.matches('\u{feff}').count(), 1);
    }

    #[test]
    fn duplicate_keys_are_read_and_edited_last_wins_as_openclaw_reads_them() {
        let doc =
            Document::parse("{ gateway: { port: 1, port: 2 }, gateway: { bind: 'lan' } }").unwrap();
        assert_eq!(doc.value()["gateway"], json!({"bind": "lan"}));
        doc.set(&p("gateway.mode"), &json!("local"));
        doc.set(&p("gateway.bind"), &json!("loopback"));
        let v = Document::parse(&doc.text()).unwrap().value();
        assert_eq!(v["gateway"], json!({"bind": "loopback", "mode": "local"}));
        assert!(doc.remove(&p("gateway.bind"), 0));
        let v = Document::parse(&doc.text()).unwrap().value();
        assert_eq!(v["gateway"], json!({"mode": "local"}));
    }

    #[test]
    fn huge_numbers_are_kept_as_written() {
        let text = "{ x: 1e999, y: 123456789012345678901234567890, z: -1e999 }";
        let doc = Document::parse(text).unwrap();
        doc.set(&p("gateway.port"), &json!(18789));
        let out = doc.text();
        for kept in [
            "x: 1e999,",
            "y: 123456789012345678901234567890,",
            "z: -1e999",
        ] {
            assert!(out.contains(kept), "{out}");
        }
    }

    #[test]
    fn set_many_gives_the_value_of_one_set_per_key() {
        let text = "{\n  gateway: { port: 1, bind: 'lan', },\n  // keep\n  x: 2,\n}\n";
        let items: Vec<(Vec<String>, Value)> = [
            ("gateway.bind", json!("loopback")),
            ("gateway.auth.mode", json!("token")),
            ("env.vars.A", json!("a")),
            ("gateway.auth.extra.deep", json!(1)),
            ("env.vars.B", json!("b")),
            ("x", json!({"now": "an object"})),
            ("top", json!(true)),
        ]
        .into_iter()
        .map(|(k, v)| (p(k), v))
        .collect();
        let one = Document::parse(text).unwrap();
        for (k, v) in &items {
            one.set(k, v);
        }
        let many = Document::parse(text).unwrap();
        many.set_many(&items);
        let reread = Document::parse(&many.text()).unwrap().value();
        assert_eq!(reread, one.value());
        assert_eq!(reread["env"]["vars"], json!({"A": "a", "B": "b"}));
        assert!(many.text().contains("// keep"), "{}", many.text());
    }

    #[test]
    fn remove_many_gives_the_value_of_one_remove_per_key() {
        let text = "{\n  env: { vars: { A: 1, B: 2 } },\n  a: { b: { c: 1, d: 2 }, e: 3 },\n  channels: { x: { p: 1 } },\n  // keep\n  z: 1,\n}\n";
        let keep = |p: &[String]| {
            if p.first().is_some_and(|s| s == "channels") {
                2
            } else {
                0
            }
        };
        let paths: Vec<Vec<String>> = ["env.vars.A", "env.vars.B", "a.b.c", "channels.x.p", "a.e"]
            .into_iter()
            .map(p)
            .collect();
        let one = Document::parse(text).unwrap();
        for path in &paths {
            one.remove(path, keep(path));
        }
        let many = Document::parse(text).unwrap();
        many.remove_many(&paths, keep);
        let reread = Document::parse(&many.text()).unwrap().value();
        assert_eq!(reread, one.value());
        assert_eq!(
            reread,
            json!({"a": {"b": {"d": 2}}, "channels": {"x": {}}, "z": 1})
        );
        assert!(many.text().contains("// keep"));
    }

    #[test]
    fn array_extend_gives_the_value_of_one_append_per_item_in_the_files_style() {
        let items: Vec<Value> = (0..3)
            .map(|i| json!({"agentId": "group", "match": {"channel": "telegram", "id": format!("g{i}")}}))
            .collect();
        for text in [
            "{\n  bindings: [\n    // mine\n    { agentId: 'main', match: { channel: 'telegram' } },\n  ],\n}\n",
            "{\n  bindings: [{ agentId: 'main' }],\n}\n",
            "{\n  x: 1,\n}\n",
        ] {
            let one = Document::parse(text).unwrap();
            for i in &items {
                one.array_extend(&p("bindings"), vec![i.clone()]);
            }
            let many = Document::parse(text).unwrap();
            many.array_extend(&p("bindings"), items.to_vec());
            assert_eq!(many.value(), one.value(), "{text}");
            many.settle();
            let out = many.text();
            assert_eq!(Document::parse(&out).unwrap().value(), one.value(), "{out}");
            if text.contains("// mine") {
                assert!(out.contains("    // mine\n"), "{out}");
                assert!(
                    out.contains("\n    { agentId: 'group', match: { channel: 'telegram', id: 'g2' } },\n  ],"),
                    "{out}"
                );
            }
        }
    }

    #[test]
    fn remove_prunes_parents_it_emptied() {
        let doc = Document::parse("{\"a\": {\"b\": {\"c\": 1}}, \"d\": 2}").unwrap();
        assert!(doc.remove(&p("a.b.c"), 0));
        assert_eq!(doc.value(), json!({"d": 2}));
        let doc = Document::parse("{\"channels\": {\"x\": {\"c\": 1}}}").unwrap();
        doc.remove(&p("channels.x.c"), 2);
        assert_eq!(doc.value(), json!({"channels": {"x": {}}}));
        assert!(!doc.remove(&p("nope.x"), 0));
    }

    #[test]
    fn the_compact_value_is_the_librarys_value_duplicates_and_order_included() {
        let text = "{ b: 1, a: { y: [1, { z: 2, z: 3 }], x: 0x10 }, b: 'last', c: {}, d: [] }";
        let library: Value = read_ast(text)
            .ok()
            .flatten()
            .map(Value::from)
            .unwrap_or_default();
        let ours = parse_value(text).unwrap_or_default();
        assert_eq!(ours, library);
        // Order too (`==` on maps ignores it): the last `b` wins in the first one's place.
        assert_eq!(ours.to_string(), library.to_string());
        assert_eq!(
            ours.to_string(),
            r#"{"b":"last","a":{"y":[1,{"z":3}],"x":16},"c":{},"d":[]}"#
        );
    }

    #[test]
    fn parse_errors_have_line_and_column() {
        let e = Document::parse("{\n  \"a\": 1,\n  \"b\": ]\n}")
            .err()
            .unwrap();
        assert_eq!((e.line, e.column), (3, 8));
        assert!(Document::parse("[1]").is_err());
    }

    #[test]
    fn finds_include_on_path() {
        let text = "{\n  agents: { \"$include\": \"./agents.json5\" },\n}";
        let doc = Document::parse(text).unwrap();
        let (at, offset) = doc.include_on_path(&p("agents.defaults.sandbox")).unwrap();
        assert_eq!(at, p("agents"));
        assert_eq!(line_col(text, offset), (2, 13));
        assert!(doc.include_on_path(&p("tools.profile")).is_none());
    }
}
