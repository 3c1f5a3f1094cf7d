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
//! LF gets the whole tree.

use std::collections::HashSet;
use std::ops::Range;

use jsonc_parser::ast;
use jsonc_parser::common::Ranged;
use serde_json::Value;

/// Marks a hole's placeholder; a file holding it gets the whole tree.
const PREFIX: &str = "clawposture-hole-";

/// The holes of a skeleton: each placeholder string is `"<marker><index>"`.
pub struct Holes {
    marker: String,
    spans: Vec<Range<usize>>,
    /// The paths whose values are in the tree (every prefix of every path edits reach).
    pub expanded: HashSet<Vec<String>>,
}

/// The skeleton of `source` (its text, to build the tree from) and its holes, with the
/// values at `expanded` paths in the tree. None: the whole tree is needed (CRLF and LF
/// mixed, the marker in the file, or no object at the top).
pub fn skeleton(source: &str, expanded: HashSet<Vec<String>>) -> Option<(String, Holes)> {
    let crlf = source.matches("\r\n").count();
    if (crlf > 0 && crlf != source.matches('\n').count()) || source.contains(PREFIX) {
        return None;
    }
    let parsed = jsonc_parser::parse_to_ast(
        source,
        &Default::default(),
        &crate::domain::document::options(),
    )
    .ok()?;
    let ast::Value::Object(root) = parsed.value? else {
        return None;
    };
    let mut spans = Vec::new();
    walk_object(source, &root, &mut Vec::new(), true, &expanded, &mut spans);
    drop(root);
    let marker = format!("{PREFIX}{:016x}-", nonce());
    let mut text = String::new();
    let mut last = 0;
    for (i, span) in spans.iter().enumerate() {
        text.push_str(&source[last..span.start]);
        text.push('"');
        text.push_str(&marker);
        text.push_str(&i.to_string());
        text.push('"');
        last = span.end;
    }
    text.push_str(&source[last..]);
    Some((
        text,
        Holes {
            marker,
            spans,
            expanded,
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

fn walk_value(
    source: &str,
    v: &ast::Value,
    path: &mut Vec<String>,
    keyed: bool,
    expanded: &HashSet<Vec<String>>,
    spans: &mut Vec<Range<usize>>,
) {
    match v {
        ast::Value::Object(o) => walk_object(source, o, path, keyed, expanded, spans),
        ast::Value::Array(a) => {
            let decides = !a.elements.is_empty()
                && has_blank(source, a.range, a.elements.iter().map(|e| e.range()));
            for e in &a.elements {
                if decides && compound(e) {
                    spans.push(e.range().start..e.range().end);
                } else {
                    // Edit paths name keys only: nothing inside an array is expanded.
                    walk_value(source, e, path, false, expanded, spans);
                }
            }
        }
        _ => {}
    }
}

/// `keyed`: `path` is this object's key path (false inside an array).
fn walk_object(
    source: &str,
    o: &ast::Object,
    path: &mut Vec<String>,
    keyed: bool,
    expanded: &HashSet<Vec<String>>,
    spans: &mut Vec<Range<usize>>,
) {
    let decides = !o.properties.is_empty()
        && has_blank(source, o.range, o.properties.iter().map(|p| p.range));
    for p in &o.properties {
        path.push(p.name.as_str().to_string());
        let open = keyed && expanded.contains(path.as_slice());
        if open || !decides || !compound(&p.value) {
            walk_value(source, &p.value, path, open, expanded, spans);
        } else {
            spans.push(p.value.range().start..p.value.range().end);
        }
        path.pop();
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
    /// The span of the hole `s` stands for (None: `s` is no placeholder).
    fn span(&self, s: &str) -> Option<Range<usize>> {
        let i: usize = s.strip_prefix(&self.marker)?.parse().ok()?;
        self.spans.get(i).cloned()
    }

    /// The tree's printed text with every hole's bytes back in place.
    pub fn fill(&self, printed: &str, source: &str) -> String {
        let needle = format!("\"{}", self.marker);
        let mut out = String::with_capacity(source.len() + printed.len() / 8);
        let mut rest = printed;
        while let Some(at) = rest.find(&needle) {
            let after = &rest[at + 1..];
            let end = after.find('"').unwrap_or(after.len());
            match self.span(&after[..end]) {
                Some(span) if end < after.len() => {
                    out.push_str(&rest[..at]);
                    out.push_str(&source[span]);
                    rest = &after[end + 1..];
                }
                _ => {
                    out.push_str(&rest[..at + needle.len()]);
                    rest = &rest[at + needle.len()..];
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// A value converted from the tree, every placeholder replaced by its hole's value (each
    /// read from its own bytes: independent of [`Holes::fill`], which the plan's read-back
    /// check compares it with).
    pub fn fill_value(&self, v: &mut Value, source: &str) {
        match v {
            Value::String(s) => {
                if let Some(read) = self.span(s).and_then(|span| read_fragment(&source[span])) {
                    *v = read;
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|x| self.fill_value(x, source)),
            Value::Object(m) => m.values_mut().for_each(|x| self.fill_value(x, source)),
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
    .map(Value::from)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(skeleton("{ a: 'clawposture-hole-0' }", HashSet::new()).is_none());
        assert!(skeleton("", HashSet::new()).is_none());
    }
}
