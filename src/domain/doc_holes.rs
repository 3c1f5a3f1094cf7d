//! The syntax tree of a big file costs about 27 times the file. The tree is built only over
//! what the edits reach: every object or array that no edit path leads into stands in the
//! tree as one placeholder string (a hole), and printing fills each hole with its bytes as
//! read. Edits never look inside a hole, so the printed text is the one the whole tree gives.
//!
//! The library looks beyond the node it edits in one place: whether to write trailing
//! commas, it asks the first object or array, breadth first from the edited node, that has
//! blanks among its own children and at least one entry. A hole is only made where its
//! parent answers that question itself, so the search stops before it reaches a hole. It
//! also takes the newline kind from the first newline it meets: a file that mixes CRLF and
//! LF gets the whole tree, and so does one whose CRLFs are all inside holes.
//!
//! The walk that cuts the holes reads the file's own tree a level at a time: each object or
//! array it goes into is parsed with the containers inside it read as empty (their ranges
//! kept), so the whole file's tree is never built; the file's manners are counted on its
//! tokens.
//!
//! An object an edit reaches keeps its entries in the tree, each with its key and comments,
//! even where its value is a hole: inserting one agent among ten thousand built a tree of
//! ten thousand entries. So a run of entries no edit reaches stands as one entry, a hole of
//! its own (`"<marker><index>": 0`), filled back with the run's bytes, and with its entries
//! in the value. Only in an object written one entry per line with no duplicate key, never
//! its first or last entry (the library writes an object on one line entry by entry again
//! when an edit makes it span lines, and reads its manners at its ends).

use std::collections::HashSet;
use std::ops::Range;

use jsonc_parser::ast;
use jsonc_parser::common::Ranged;
use serde_json::Value;

/// Marks a hole's placeholder; a file holding it gets the whole tree.
const PREFIX: &str = "clawposture-hole-";
/// What follows a run's placeholder key in the skeleton: `"<marker><index>": 0`.
const RUN_VALUE: &str = ": 0";
/// The fewest entries a run stands for (a few entries cost little in the tree).
const MIN_RUN: usize = 8;

/// The holes of a skeleton: each placeholder string is `"<marker><index>"`.
pub struct Holes {
    marker: String,
    spans: Vec<Range<usize>>,
    /// Where each hole's value sits in the value read from the source (a node of `steps`).
    /// None: a duplicate key on the way there, so the value read holds another occurrence.
    at: Vec<Option<u32>>,
    /// The paths to the holes, as a tree: each node is its parent (`ROOT` for the top
    /// level's entries) and one step down from it.
    steps: Vec<(u32, Step)>,
    /// Holes that stand for a run of an object's entries (not one value): the keys, in
    /// order. In the tree each is one entry `"<marker><index>": 0` of its object, and its node
    /// in `at` is the object's.
    runs: std::collections::HashMap<usize, Vec<Box<str>>>,
    /// The paths whose values are in the tree (every prefix of every path edits reach).
    pub expanded: HashSet<Vec<String>>,
    /// The source's manners, read from the same abstract tree.
    pub style: crate::domain::doc_style::Style,
}

/// One step down a value: a key of an object, or an index of an array.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(Box<str>),
    Index(usize),
}

/// A step of a path being walked (borrowed).
#[derive(Debug, Clone, Copy, PartialEq)]
enum StepRef<'a> {
    Key(&'a str),
    Index(usize),
}

const ROOT: u32 = u32::MAX;

/// What a value converted from a tree with holes stands for. The plan's diff of the file
/// before and after (the ledger's keys) is taken before the holes are filled: only what an
/// edit reached is compared; a hole where the value read has it is the same value.
pub trait Placeholders {
    /// Whether `new` (a value of the tree, placeholders in it) is `read` once filled, both
    /// found at the key path `at` in their values.
    fn same(&self, read: &Value, new: &Value, at: &[String]) -> bool;
    /// `Some`: `v` is a placeholder, and this is its hole's value.
    fn resolve(&self, v: &Value) -> Option<Value>;
    /// `v` with every placeholder in it filled.
    fn filled(&self, v: &Value) -> Value;
    /// `Some`: `key`, a key of the object at the key path `at` in a value of the tree, stands
    /// for a run of that object's entries.
    fn run(&self, key: &str, at: &[String]) -> Option<Run>;
}

/// The entries a run's key stands for.
pub enum Run {
    /// At its own place: these keys, each with the value the value read holds there.
    Own(Vec<String>),
    /// Elsewhere: the entries, read from its bytes.
    Read(serde_json::Map<String, Value>),
}

/// A value without placeholders (the whole tree, or no tree).
pub struct NoHoles;

impl Placeholders for NoHoles {
    fn same(&self, read: &Value, new: &Value, _: &[String]) -> bool {
        read == new
    }
    fn resolve(&self, _: &Value) -> Option<Value> {
        None
    }
    fn filled(&self, v: &Value) -> Value {
        v.clone()
    }
    fn run(&self, _: &str, _: &[String]) -> Option<Run> {
        None
    }
}

/// A tree's holes with the text they were cut from.
pub struct Cut<'a> {
    pub holes: &'a Holes,
    pub source: &'a str,
}

impl Placeholders for Cut<'_> {
    fn same(&self, read: &Value, new: &Value, at: &[String]) -> bool {
        let mut at: Vec<StepRef> = at.iter().map(|k| StepRef::Key(k)).collect();
        self.same_at(read, new, &mut at)
    }

    fn resolve(&self, v: &Value) -> Option<Value> {
        self.holes.read(self.holes.index_of(v)?, self.source)
    }

    fn filled(&self, v: &Value) -> Value {
        let mut v = v.clone();
        self.holes.fill_value(&mut v, self.source);
        v
    }

    fn run(&self, key: &str, at: &[String]) -> Option<Run> {
        let i = self.holes.run_index(key)?;
        let at: Vec<StepRef> = at.iter().map(|k| StepRef::Key(k)).collect();
        Some(match self.holes.at[i] {
            Some(n) if self.holes.path_is(n, &at) => {
                Run::Own(self.holes.runs[&i].iter().map(|k| k.to_string()).collect())
            }
            _ => Run::Read(self.holes.read_run(i, self.source).unwrap_or_default()),
        })
    }
}

impl Cut<'_> {
    /// [`Placeholders::same`] at the path `at` (keys and indices).
    fn same_at<'v>(&self, read: &'v Value, new: &'v Value, at: &mut Vec<StepRef<'v>>) -> bool {
        if let Some(i) = self.holes.index_of(new) {
            // The hole's own place, no duplicate key on the way: the value read there is its.
            if self.holes.at[i].is_some_and(|n| self.holes.path_is(n, at)) {
                return true;
            }
            return self.holes.read(i, self.source).as_ref() == Some(read);
        }
        match (read, new) {
            (Value::Object(a), Value::Object(b)) => {
                let mut len = 0;
                for (k, y) in b {
                    if let Some(i) = self.holes.run_index(k) {
                        // A run at its own place holds the entries read there; elsewhere,
                        // its bytes read are compared.
                        if self.holes.at[i].is_some_and(|n| self.holes.path_is(n, at)) {
                            let keys = &self.holes.runs[&i];
                            if !keys.iter().all(|key| a.contains_key(&**key)) {
                                return false;
                            }
                            len += keys.len();
                        } else {
                            let entries = self.holes.read_run(i, self.source).unwrap_or_default();
                            if !entries.iter().all(|(key, v)| a.get(key) == Some(v)) {
                                return false;
                            }
                            len += entries.len();
                        }
                        continue;
                    }
                    len += 1;
                    let same = a.get(k).is_some_and(|x| {
                        at.push(StepRef::Key(k));
                        let same = self.same_at(x, y, at);
                        at.pop();
                        same
                    });
                    if !same {
                        return false;
                    }
                }
                len == a.len()
            }
            (Value::Array(a), Value::Array(b)) => {
                a.len() == b.len()
                    && a.iter().zip(b).enumerate().all(|(n, (x, y))| {
                        at.push(StepRef::Index(n));
                        let same = self.same_at(x, y, at);
                        at.pop();
                        same
                    })
            }
            (x, y) => x == y,
        }
    }
}

/// The skeleton of `source` (its text, to build the tree from) and its holes, with the
/// values at `expanded` paths in the tree, and the source's manners. None: the whole tree is
/// needed (CRLF and LF mixed, the marker in the file, or no object at the top).
pub fn skeleton(source: &str, expanded: HashSet<Vec<String>>) -> Option<(String, Holes)> {
    let crlf = source.matches("\r\n").count();
    if (crlf > 0 && crlf != source.matches('\n').count()) || source.contains(PREFIX) {
        return None;
    }
    let style = crate::domain::doc_style::Style::of_tokens(source)?;
    let mut cut = Walk {
        source,
        expanded: &expanded,
        spans: Vec::new(),
        at: Vec::new(),
        steps: Vec::new(),
        stack: Vec::new(),
        duplicates: 0,
        runs: Default::default(),
        unread: false,
    };
    // The tree a level at a time: only the containers the walk goes into are read.
    with_level(source, 0..source.len(), |root| match root {
        ast::Value::Object(root) => cut.object(root, &mut Vec::new(), true),
        _ => cut.unread = true,
    })?;
    let Walk {
        spans,
        at,
        steps,
        runs,
        unread,
        ..
    } = cut;
    if unread {
        return None;
    }
    let marker = format!("{PREFIX}{:016x}-", nonce());
    let mut text = String::new();
    let mut last = 0;
    for (i, span) in spans.iter().enumerate() {
        text.push_str(&source[last..span.start]);
        text.push('"');
        text.push_str(&marker);
        text.push_str(&i.to_string());
        text.push('"');
        if runs.contains_key(&i) {
            text.push_str(RUN_VALUE);
        }
        last = span.end;
    }
    text.push_str(&source[last..]);
    // A file whose every newline sits inside a hole would be printed with the library's
    // default newline instead of the file's CRLF.
    if crlf > 0 && !text.contains("\r\n") {
        return None;
    }
    Some((
        text,
        Holes {
            marker,
            spans,
            at,
            steps,
            runs,
            expanded,
            style,
        },
    ))
}

/// A marker no text the user or a preset wrote can guess: a value inserted by an edit that
/// spelled a placeholder would be filled with another value's bytes.
fn nonce() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.finish()
}

fn compound(v: &ast::Value) -> bool {
    matches!(v, ast::Value::Object(_) | ast::Value::Array(_))
}

/// The walk that cuts the holes, and keeps where each sits in the value read.
struct Walk<'s> {
    source: &'s str,
    expanded: &'s HashSet<Vec<String>>,
    spans: Vec<Range<usize>>,
    at: Vec<Option<u32>>,
    steps: Vec<(u32, Step)>,
    /// The steps down to the entry walked, each with its node once a hole below needed it.
    stack: Vec<(Step, Option<u32>)>,
    /// How many keys on the stack a later duplicate hides.
    duplicates: usize,
    runs: std::collections::HashMap<usize, Vec<Box<str>>>,
    /// A level of the tree could not be read (the whole tree is needed).
    unread: bool,
}

/// One level of the syntax tree of the container at `range` in `source` (with the comments
/// around it): its entries with their ranges in `source`, each container among them read as
/// empty (its range kept). A big file's whole tree costs about 8 times the file; the walk
/// reads it a level at a time, only the containers it goes into. None: the level does not
/// scan or parse.
fn with_level<R>(source: &str, range: Range<usize>, f: impl FnOnce(&ast::Value) -> R) -> Option<R> {
    let span = source.get(range.clone())?;
    let bytes = span.as_bytes();
    let mut text = String::new();
    // Each container inside: where it starts in `text`, and its range in `source`.
    let mut inner: Vec<(usize, Range<usize>)> = Vec::new();
    let (mut depth, mut copied, mut at) = (0usize, 0, 0);
    while at < bytes.len() {
        match bytes[at] {
            b'{' | b'[' if depth == 1 => {
                // A container inside this one: read as empty, its bytes skipped unread.
                let end = container_end(bytes, at)?;
                text.push_str(&span[copied..at]);
                inner.push((text.len(), range.start + at..range.start + end));
                text.push_str(&span[at..at + 1]);
                text.push_str(&span[end - 1..end]);
                (copied, at) = (end, end);
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.checked_sub(1)?,
            _ => {}
        }
        at = skip_token(bytes, at)?;
    }
    text.push_str(&span[copied..]);
    let mut value = jsonc_parser::parse_to_ast(
        &text,
        &Default::default(),
        &crate::domain::document::options(),
    )
    .ok()?
    .value?;
    // A place in `text` is the same place in `source` past the last container read as empty.
    let place = |at: usize| match inner.partition_point(|(start, _)| start + 2 <= at) {
        0 => range.start + at,
        n => inner[n - 1].1.end + (at - (inner[n - 1].0 + 2)),
    };
    shift(&mut value, &place);
    Some(f(&value))
}

/// Where the object or array opening at `start` ends (past its closing bracket), its strings
/// and comments skipped as the scanner reads them (brackets inside them do not count).
fn container_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut at = start;
    while at < bytes.len() {
        match bytes[at] {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(at + 1);
                }
            }
            _ => {}
        }
        at = skip_token(bytes, at)?;
    }
    None
}

/// Past the byte at `at`, or past the whole string or comment starting there (None: one that
/// does not end).
fn skip_token(bytes: &[u8], at: usize) -> Option<usize> {
    match (bytes[at], bytes.get(at + 1)) {
        (q @ (b'"' | b'\''), _) => {
            let mut i = at + 1;
            loop {
                match *bytes.get(i)? {
                    b'\\' => i += 2,
                    b if b == q => return Some(i + 1),
                    _ => i += 1,
                }
            }
        }
        (b'/', Some(b'/')) => Some(
            bytes[at..]
                .iter()
                .position(|&b| b == b'\n' || b == b'\r')
                .map_or(bytes.len(), |n| at + n),
        ),
        (b'/', Some(b'*')) => bytes[at + 2..]
            .windows(2)
            .position(|w| w == b"*/")
            .map(|n| at + 2 + n + 2),
        _ => Some(at + 1),
    }
}

/// Every range of `v` moved by `place`.
fn shift(v: &mut ast::Value, place: &impl Fn(usize) -> usize) {
    fn moved(r: &mut jsonc_parser::common::Range, place: &impl Fn(usize) -> usize) {
        (r.start, r.end) = (place(r.start), place(r.end));
    }
    match v {
        ast::Value::StringLit(x) => moved(&mut x.range, place),
        ast::Value::NumberLit(x) => moved(&mut x.range, place),
        ast::Value::BooleanLit(x) => moved(&mut x.range, place),
        ast::Value::NullKeyword(x) => moved(&mut x.range, place),
        ast::Value::Object(o) => {
            moved(&mut o.range, place);
            for p in &mut o.properties {
                moved(&mut p.range, place);
                match &mut p.name {
                    ast::ObjectPropName::String(x) => moved(&mut x.range, place),
                    ast::ObjectPropName::Word(x) => moved(&mut x.range, place),
                }
                shift(&mut p.value, place);
            }
        }
        ast::Value::Array(a) => {
            moved(&mut a.range, place);
            a.elements.iter_mut().for_each(|e| shift(e, place));
        }
    }
}

impl Walk<'_> {
    fn hole(&mut self, span: Range<usize>) {
        self.spans.push(span);
        let at = (self.duplicates == 0).then(|| {
            let mut parent = ROOT;
            for (step, node) in &mut self.stack {
                parent = *node.get_or_insert_with(|| {
                    self.steps.push((parent, step.clone()));
                    (self.steps.len() - 1) as u32
                });
            }
            parent
        });
        self.at.push(at);
    }

    /// `v`, a container read as empty in its level: its own level read, then walked.
    fn value(&mut self, v: &ast::Value, path: &mut Vec<String>, keyed: bool) {
        if compound(v) {
            let source = self.source;
            let range = v.range();
            if with_level(source, range.start..range.end, |v| {
                self.level(v, path, keyed)
            })
            .is_none()
            {
                self.unread = true;
            }
        }
    }

    fn level(&mut self, v: &ast::Value, path: &mut Vec<String>, keyed: bool) {
        match v {
            ast::Value::Object(o) => self.object(o, path, keyed),
            ast::Value::Array(a) => {
                let decides = !a.elements.is_empty()
                    && has_blank(self.source, a.range, a.elements.iter().map(|e| e.range()));
                for (n, e) in a.elements.iter().enumerate() {
                    self.stack.push((Step::Index(n), None));
                    if decides && compound(e) {
                        self.hole(e.range().start..e.range().end);
                    } else {
                        // Edit paths name keys only: nothing inside an array is expanded.
                        self.value(e, path, false);
                    }
                    self.stack.pop();
                }
            }
            _ => {}
        }
    }

    /// `keyed`: `path` is this object's key path (false inside an array).
    fn object(&mut self, o: &ast::Object, path: &mut Vec<String>, keyed: bool) {
        let decides = !o.properties.is_empty()
            && has_blank(self.source, o.range, o.properties.iter().map(|p| p.range));
        // The last occurrence of each key is the one the value read holds.
        let mut last = std::collections::HashMap::with_capacity(o.properties.len());
        for (n, p) in o.properties.iter().enumerate() {
            last.insert(p.name.as_str(), n);
        }
        let runs = match keyed && decides && last.len() == o.properties.len() {
            true => self.runs_of(o, path),
            false => Vec::new(),
        };
        let mut runs = runs.into_iter().peekable();
        let mut n = 0;
        while let Some(p) = o.properties.get(n) {
            if let Some(run) = runs.next_if(|r| r.start == n) {
                // One hole for the run's entries (their keys kept, in order).
                let end = &o.properties[run.end - 1];
                self.hole(p.range.start..end.range.end);
                let keys = o.properties[run.clone()].iter();
                let keys = keys.map(|p| p.name.as_str().into()).collect();
                self.runs.insert(self.spans.len() - 1, keys);
                n = run.end;
                continue;
            }
            let name = p.name.as_str();
            let hidden = last.get(name) != Some(&n);
            self.duplicates += usize::from(hidden);
            self.stack.push((Step::Key(name.into()), None));
            path.push(name.to_string());
            let open = keyed && self.expanded.contains(path.as_slice());
            if open || !decides || !compound(&p.value) {
                self.value(&p.value, path, open);
            } else {
                self.hole(p.value.range().start..p.value.range().end);
            }
            path.pop();
            self.stack.pop();
            self.duplicates -= usize::from(hidden);
            n += 1;
        }
    }
}

impl Walk<'_> {
    /// The runs of `o`'s entries (at `path`, no duplicate key) that stand in the tree as one
    /// entry each: at least [`MIN_RUN`] entries in a row that no edit path leads into, never
    /// the first or the last (the library reads the object's manners there: where it writes
    /// an entry it appends, and whether the object is written on one line), and only where
    /// the object still has blanks of its own outside them (it answers the trailing-comma
    /// question itself, see the module's notes).
    fn runs_of(&self, o: &ast::Object, path: &mut Vec<String>) -> Vec<std::ops::Range<usize>> {
        let n = o.properties.len();
        // Only an object written one entry per line: the library rewrites one written on a
        // line (or partly so) entry by entry when an edit makes it span lines.
        let mut from = o.range.start + 1;
        for r in o.properties.iter().map(|p| p.range).chain([o.range]) {
            let to = if r == o.range { r.end - 1 } else { r.start };
            if !self
                .source
                .get(from..to)
                .is_some_and(|gap| gap.contains('\n'))
            {
                return Vec::new();
            }
            from = r.end;
        }
        let mut runs = Vec::new();
        let mut start = None;
        for i in 1..n.saturating_sub(1) {
            path.push(o.properties[i].name.as_str().to_string());
            let open = self.expanded.contains(path.as_slice());
            path.pop();
            match (open, start) {
                (false, None) => start = Some(i),
                (true, Some(s)) => {
                    runs.push(s..i);
                    start = None;
                }
                _ => {}
            }
        }
        if let Some(s) = start {
            runs.push(s..n - 1);
        }
        runs.retain(|r| r.len() >= MIN_RUN);
        if runs.is_empty() {
            return runs;
        }
        // The object's own blanks with each run as one entry.
        let mut entries = Vec::new();
        let mut i = 0;
        for r in &runs {
            entries.extend(o.properties[i..r.start].iter().map(|p| p.range));
            entries.push(jsonc_parser::common::Range {
                start: o.properties[r.start].range.start,
                end: o.properties[r.end - 1].range.end,
            });
            i = r.end;
        }
        entries.extend(o.properties[i..].iter().map(|p| p.range));
        match has_blank(self.source, o.range, entries.into_iter()) {
            true => runs,
            false => Vec::new(),
        }
    }
}

/// Whether a container's own text (between its brackets, outside its entries) holds a blank
/// other than a newline, comments skipped: the syntax tree then has a whitespace child there.
fn has_blank(
    source: &str,
    outer: jsonc_parser::common::Range,
    inner: impl Iterator<Item = jsonc_parser::common::Range>,
) -> bool {
    let mut from = outer.start + 1;
    let mut gaps = Vec::new();
    for r in inner {
        gaps.push(from..r.start);
        from = r.end;
    }
    gaps.push(from..outer.end.saturating_sub(1));
    gaps.into_iter().any(|g| {
        let gap = source.get(g).unwrap_or("");
        let mut rest = gap;
        while let Some(c) = rest.chars().next() {
            if rest.starts_with("//") {
                rest = rest.find('\n').map_or("", |n| &rest[n..]);
            } else if rest.starts_with("/*") {
                rest = rest[2..].find("*/").map_or("", |n| &rest[n + 4..]);
            } else if c.is_whitespace() && c != '\n' && c != '\r' {
                return true;
            } else {
                rest = &rest[c.len_utf8()..];
            }
        }
        false
    })
}

impl Holes {
    /// The hole the string `s` stands for (None: `s` is no placeholder).
    fn index(&self, s: &str) -> Option<usize> {
        let i: usize = s.strip_prefix(&self.marker)?.parse().ok()?;
        (i < self.spans.len()).then_some(i)
    }

    /// The hole the value `v` stands for (None: `v` is no placeholder).
    fn index_of(&self, v: &Value) -> Option<usize> {
        self.index(v.as_str()?)
            .filter(|i| !self.runs.contains_key(i))
    }

    /// The run the key `k` stands for (None: `k` is no run's placeholder).
    fn run_index(&self, k: &str) -> Option<usize> {
        self.index(k).filter(|i| self.runs.contains_key(i))
    }

    /// Run `i`'s entries, read from its bytes.
    fn read_run(&self, i: usize, source: &str) -> Option<serde_json::Map<String, Value>> {
        match read_fragment(&format!("{{{}\n}}", &source[self.spans[i].clone()]))? {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// `m` with each run's placeholder entry replaced, in its place, by the run's entries:
    /// each from `entry(run index, key)` (None: all of them read from its bytes).
    fn splice_runs(
        &self,
        m: &mut serde_json::Map<String, Value>,
        source: &str,
        mut entry: impl FnMut(usize, &str) -> Option<Value>,
        mut other: impl FnMut(&mut Value),
    ) {
        if !m.keys().any(|k| self.run_index(k).is_some()) {
            m.values_mut().for_each(other);
            return;
        }
        let old = std::mem::take(m);
        let more: usize = old
            .keys()
            .filter_map(|k| self.run_index(k))
            .map(|i| self.runs[&i].len())
            .sum();
        *m = serde_json::Map::with_capacity(old.len() + more);
        for (k, mut v) in old {
            let Some(i) = self.run_index(&k) else {
                other(&mut v);
                m.insert(k, v);
                continue;
            };
            let keys = &self.runs[&i];
            let moved: Option<Vec<Value>> = keys.iter().map(|key| entry(i, key)).collect();
            match moved {
                Some(values) => {
                    for (key, value) in keys.iter().zip(values) {
                        m.insert(key.to_string(), value);
                    }
                }
                None => m.extend(self.read_run(i, source).unwrap_or_default()),
            }
        }
    }

    /// The value at node `n` of `read` (`read` itself at [`ROOT`]).
    fn node_mut<'r>(&self, n: u32, read: &'r mut Value) -> Option<&'r mut Value> {
        let mut path = Vec::new();
        let mut at = n;
        while at != ROOT {
            let (parent, step) = self.steps.get(at as usize)?;
            path.push(step);
            at = *parent;
        }
        let mut cur = read;
        for step in path.into_iter().rev() {
            cur = match (step, cur) {
                (Step::Key(k), Value::Object(m)) => m.get_mut(&**k)?,
                (Step::Index(i), Value::Array(a)) => a.get_mut(*i)?,
                _ => return None,
            };
        }
        Some(cur)
    }

    /// The object at node `n` of `read` (the root object at [`ROOT`]).
    fn object_at<'r>(
        &self,
        n: u32,
        read: &'r mut Value,
    ) -> Option<&'r mut serde_json::Map<String, Value>> {
        self.node_mut(n, read)?.as_object_mut()
    }

    /// The value of hole `i`, read from its bytes in `source`.
    fn read(&self, i: usize, source: &str) -> Option<Value> {
        read_fragment(&source[self.spans[i].clone()])
    }

    /// Whether the node `n` is the path `at`.
    fn path_is(&self, mut n: u32, at: &[StepRef<'_>]) -> bool {
        for want in at.iter().rev() {
            let Some((parent, step)) = self.steps.get(n as usize) else {
                return false;
            };
            let same = match (step, want) {
                (Step::Key(k), StepRef::Key(w)) => **k == **w,
                (Step::Index(i), StepRef::Index(j)) => i == j,
                _ => false,
            };
            if !same {
                return false;
            }
            n = *parent;
        }
        n == ROOT
    }

    /// The value at node `n` moved out of `read` (None: not there, or no object or array,
    /// which no hole is).
    fn take(&self, n: u32, read: &mut Value) -> Option<Value> {
        let cur = self.node_mut(n, read)?;
        matches!(cur, Value::Object(_) | Value::Array(_)).then(|| std::mem::take(cur))
    }

    /// [`Holes::fill_value`], each hole's value moved out of `read` (the value of the text
    /// the holes were cut from) where it sits there, instead of read again from its bytes.
    pub fn fill_from(&self, v: &mut Value, source: &str, read: &mut Value) {
        match v {
            Value::String(_) => {
                if let Some(i) = self.index_of(v) {
                    let moved = self.at[i].and_then(|n| self.take(n, read));
                    if let Some(value) = moved.or_else(|| self.read(i, source)) {
                        *v = value;
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|x| self.fill_from(x, source, read)),
            Value::Object(m) => {
                // A run's entries move out of the object read at its node (all of them, or
                // it is read from its bytes), the other entries are filled as values. The
                // read value is shared by both: taken in turns.
                let read = std::cell::RefCell::new(read);
                self.splice_runs(
                    m,
                    source,
                    |i, key| {
                        let mut read = read.borrow_mut();
                        let object = self.object_at(self.at[i]?, &mut read)?;
                        object.get_mut(key).map(std::mem::take)
                    },
                    |x| self.fill_from(x, source, &mut read.borrow_mut()),
                );
            }
            _ => {}
        }
    }

    /// The tree's printed text with every hole's bytes back in place (allocated once, at
    /// its length: the text is kept to the end of a run).
    pub fn fill(&self, printed: &str, source: &str) -> String {
        let needle = format!("\"{}", self.marker);
        let mut pieces = Vec::new();
        let mut rest = printed;
        while let Some(at) = rest.find(&needle) {
            let after = &rest[at + 1..];
            let end = after.find('"').unwrap_or(after.len());
            let index = self.index(&after[..end]);
            // A run's placeholder is a whole entry: its value goes too.
            let tail = match index.is_some_and(|i| self.runs.contains_key(&i)) {
                true => RUN_VALUE,
                false => "",
            };
            match index.map(|i| self.spans[i].clone()) {
                Some(span) if end < after.len() && after[end + 1..].starts_with(tail) => {
                    pieces.push(&rest[..at]);
                    pieces.push(&source[span]);
                    rest = &after[end + 1 + tail.len()..];
                }
                _ => {
                    pieces.push(&rest[..at + needle.len()]);
                    rest = &rest[at + needle.len()..];
                }
            }
        }
        pieces.push(rest);
        pieces.concat()
    }

    /// A value converted from the tree, every placeholder replaced by its hole's value (each
    /// read from its own bytes: independent of [`Holes::fill`], which the plan's read-back
    /// check compares it with).
    pub fn fill_value(&self, v: &mut Value, source: &str) {
        match v {
            Value::String(s) => {
                if let Some(read) = self.index(s).and_then(|i| self.read(i, source)) {
                    *v = read;
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|x| self.fill_value(x, source)),
            Value::Object(m) => {
                self.splice_runs(m, source, |_, _| None, |x| self.fill_value(x, source))
            }
            _ => {}
        }
    }
}

/// One value's text, read as the whole file is read.
fn read_fragment(text: &str) -> Option<Value> {
    jsonc_parser::parse_to_ast(
        text,
        &Default::default(),
        &crate::domain::document::options(),
    )
    .ok()?
    .value
    .map(crate::domain::document::compact_value)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each container's level read alone has the whole tree's children there: the same keys,
    /// kinds and ranges (strings and comments holding brackets, nested arrays, CRLF, for every
    /// fixture and texts made from them that still parse).
    #[test]
    fn a_level_read_alone_is_that_level_of_the_whole_tree() {
        use crate::domain::read_back::tests::{fixture_texts, parsing};
        /// (kind, range) of `v`, and of each child with its key.
        fn shape(v: &ast::Value) -> Vec<(String, usize, usize)> {
            let kind = |v: &ast::Value| match v {
                ast::Value::Object(_) => "{",
                ast::Value::Array(_) => "[",
                _ => "scalar",
            };
            let mut out = vec![(kind(v).to_string(), v.range().start, v.range().end)];
            match v {
                ast::Value::Object(o) => out.extend(o.properties.iter().map(|p| {
                    let (s, e) = (p.value.range().start, p.value.range().end);
                    (
                        format!("{}={}@{}", p.name.as_str(), kind(&p.value), p.range.start),
                        s,
                        e,
                    )
                })),
                ast::Value::Array(a) => out.extend(
                    a.elements
                        .iter()
                        .map(|e| (kind(e).to_string(), e.range().start, e.range().end)),
                ),
                _ => {}
            }
            out
        }
        fn each(v: &ast::Value, f: &mut impl FnMut(&ast::Value)) {
            f(v);
            match v {
                ast::Value::Object(o) => o.properties.iter().for_each(|p| each(&p.value, f)),
                ast::Value::Array(a) => a.elements.iter().for_each(|e| each(e, f)),
                _ => {}
            }
        }
        let mut base = fixture_texts();
        base.push(
            "// a { comment [\r\n{\r\n  'a{': \"]}\", /* } */ b: [[1, {c: '['}], []],\r\n  d: {e: {f: [{}]}},\r\n}\r\n"
                .to_string(),
        );
        let mut compared = 0;
        for text in &parsing(base, 2000) {
            let parsed = jsonc_parser::parse_to_ast(
                text,
                &Default::default(),
                &crate::domain::document::options(),
            );
            let Some(root) = parsed.ok().and_then(|p| p.value) else {
                continue;
            };
            let whole = with_level(text, 0..text.len(), shape).expect("the root's level");
            assert_eq!(whole, shape(&root), "{text}");
            each(&root, &mut |v| {
                if compound(v) {
                    let r = v.range();
                    let level = with_level(text, r.start..r.end, shape).expect("a level");
                    assert_eq!(level, shape(v), "{text}");
                    compared += 1;
                }
            });
        }
        assert!(compared > 2000, "{compared}");
    }

    fn expanded(paths: &[&str]) -> HashSet<Vec<String>> {
        let mut out = HashSet::new();
        for p in paths {
            let p: Vec<String> = p.split('.').map(String::from).collect();
            for n in 0..=p.len() {
                out.insert(p[..n].to_vec());
            }
        }
        out
    }

    #[test]
    fn a_skeleton_keeps_the_edited_path_and_fills_back_byte_for_byte() {
        let source = "{\n  a: { b: { c: 1 }, d: [ { e: 2 } ] },\n  f: { g: 3 }, // why\n  h: [1, { i: 4 }],\n}\n";
        let (text, holes) = skeleton(source, expanded(&["a.b"])).expect("a skeleton");
        // `a.b` is expanded; `a.d`, `f` and `h` stand as holes; `a.b.c` is a scalar.
        assert!(text.contains("b: { c: 1 }"), "{text}");
        assert_eq!(text.matches(PREFIX).count(), 3, "{text}");
        assert!(text.contains("// why"), "{text}");
        assert_eq!(holes.fill(&text, source), source);
        let mut v = crate::domain::document::parse_value(&text).expect("parses");
        holes.fill_value(&mut v, source);
        assert_eq!(
            v,
            crate::domain::document::parse_value(source).expect("parses")
        );
    }

    #[test]
    fn a_run_of_entries_no_edit_reaches_is_one_entry_of_the_tree() {
        let entries: String = (0..12)
            .map(|i| format!("    // agent {i}\n    'a{i}': {{ x: {i} }},\n"))
            .collect();
        let source = format!("{{\n  entries: {{\n{entries}  }},\n}}\n");
        let value = crate::domain::document::parse_value(&source).expect("parses");
        // The first and the last entry are never in a run. `a5` reached: a1..a4 and a6..a10
        // are too few for one; `a2` reached: a3..a10 is one.
        for (reached, runs) in [("entries.new", 1), ("entries.a5", 0), ("entries.a2", 1)] {
            let (text, holes) = skeleton(&source, expanded(&[reached])).expect("a skeleton");
            assert_eq!(holes.runs.len(), runs, "{reached}: {text}");
            assert_eq!(text.matches(RUN_VALUE).count(), runs, "{text}");
            assert!(text.contains("'a0'") && text.contains("'a11'"), "{text}");
            assert_eq!(holes.fill(&text, &source), source);
            let mut v = crate::domain::document::parse_value(&text).expect("parses");
            let mut moved = v.clone();
            holes.fill_value(&mut v, &source);
            assert_eq!(
                serde_json::to_string(&v).ok(),
                serde_json::to_string(&value).ok()
            );
            // Moved out of the value read: the same value, key order included.
            holes.fill_from(&mut moved, &source, &mut value.clone());
            assert_eq!(
                serde_json::to_string(&moved).ok(),
                serde_json::to_string(&value).ok()
            );
        }
        // Written on one line: never a run (the library rewrites such an object whole).
        let inline: Vec<String> = (0..12).map(|i| format!("a{i}: {{ x: {i} }}")).collect();
        let source = format!("{{ entries: {{ {} }} }}", inline.join(", "));
        let (_, holes) = skeleton(&source, expanded(&["entries.new"])).expect("a skeleton");
        assert!(holes.runs.is_empty());
    }

    #[test]
    fn a_container_without_its_own_blanks_keeps_its_children_in_the_tree() {
        // The top level and `{a:{...}}` have no blank of their own: the library would look
        // inside their children for the trailing-comma style, so none of those is a hole.
        // `{ z: [ 1 ] }` has its own blanks: its array is one.
        let source = "{x:{a:{\n  b: 1,\n}},y:{ z: [ 1 ] }}";
        let (text, holes) = skeleton(source, expanded(&["q"])).expect("a skeleton");
        assert!(text.contains("a:{\n  b: 1,\n}"), "{text}");
        assert!(!text.contains("z: [ 1 ]"), "{text}");
        assert_eq!(holes.fill(&text, source), source);
    }

    #[test]
    fn a_file_the_skeleton_could_print_differently_gets_the_whole_tree() {
        assert!(skeleton("{\r\n  a: { b: 1 },\n}\r\n", HashSet::new()).is_none());
        assert!(skeleton("{\r\n  a: { b: 1 },\r\n}\r\n", HashSet::new()).is_some());
        // Its only newline (CRLF) in a hole.
        assert!(skeleton("{ a: { b: 1 },\u{a0}c: [ 1 //x\r\n] }", HashSet::new()).is_none());
        assert!(skeleton("{ a: 'clawposture-hole-0' }", HashSet::new()).is_none());
        assert!(skeleton("", HashSet::new()).is_none());
    }
}
