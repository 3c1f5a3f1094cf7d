//! A value with edits kept beside it instead of applied to a copy. A dry plan (recognition
//! makes one per candidate preset) edits a big file's value, and copying that value costs
//! several times the file. A read applies the edits that reach the path it reads; the whole
//! value is made only when asked.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ops::Bound;

use serde_json::Value;

use crate::domain::choice::{get_in, set_in};

pub struct Overlay<'a> {
    base: &'a Value,
    edits: RefCell<Edits>,
}

/// The edits in the order made, and where each is: a read looks up the few edits on its
/// path and below it instead of walking them all (ten thousand agents each edited, each read
/// back, walked every edit on every read: quadratic).
#[derive(Default)]
struct Edits {
    made: Vec<(Vec<String>, Edit)>,
    /// The edits at each path, by their place in `made`. Ordered by path: the paths below one
    /// follow it, one range.
    at: BTreeMap<Vec<String>, Vec<usize>>,
}

enum Edit {
    /// The value set at the path (`choice::set_in`: objects made on the way).
    Set(Value),
    /// Items appended to the array at the path, or the array set with them.
    Extend(Vec<Value>),
}

impl Edits {
    fn push(&mut self, path: &[String], edit: Edit) {
        self.at
            .entry(path.to_vec())
            .or_default()
            .push(self.made.len());
        self.made.push((path.to_vec(), edit));
    }

    /// The edits that reach `path`, in the order made: those on the way down to it (the root
    /// and `path` itself included) and those below it.
    fn reaching(&self, path: &[String]) -> Vec<usize> {
        let mut found: Vec<usize> = (0..path.len())
            .filter_map(|n| self.at.get(&path[..n]))
            .flatten()
            .copied()
            .collect();
        found.extend(
            self.at
                .range::<[String], _>((Bound::Included(path), Bound::Unbounded))
                .take_while(|(at, _)| at.starts_with(path))
                .flat_map(|(_, made)| made.iter().copied()),
        );
        found.sort_unstable();
        found
    }
}

impl<'a> Overlay<'a> {
    pub fn new(base: &'a Value) -> Overlay<'a> {
        Overlay {
            base,
            edits: RefCell::new(Edits::default()),
        }
    }

    pub fn is_edited(&self) -> bool {
        !self.edits.borrow().made.is_empty()
    }

    pub fn set(&self, path: &[String], value: Value) {
        self.edits.borrow_mut().push(path, Edit::Set(value));
    }

    pub fn extend(&self, path: &[String], items: Vec<Value>) {
        if !items.is_empty() {
            self.edits.borrow_mut().push(path, Edit::Extend(items));
        }
    }

    /// The value at `path` after the edits (None: no such key).
    pub fn value_at(&self, path: &[String]) -> Option<Value> {
        let mut cur = get_in(self.base, path).cloned();
        let edits = self.edits.borrow();
        for i in edits.reaching(path) {
            let (at, edit) = &edits.made[i];
            if let Some(below) = path.strip_prefix(at.as_slice()) {
                // An edit at or above the path: the value there after it, then down to it.
                cur = match edit {
                    Edit::Set(v) => get_in(v, below).cloned(),
                    Edit::Extend(items) if below.is_empty() => Some(extended(cur.take(), items)),
                    // A key path never leads into an array.
                    Edit::Extend(_) => None,
                };
            } else if let Some(rel) = at.strip_prefix(path) {
                // An edit below the path: made on the value read there.
                let mut v = cur
                    .take()
                    .unwrap_or_else(|| Value::Object(Default::default()));
                apply(&mut v, rel, edit);
                cur = Some(v);
            }
        }
        cur
    }

    /// The whole value after the edits (a copy of the base: asked only where it is kept).
    pub fn value(&self) -> Value {
        let mut v = self.base.clone();
        for (at, edit) in self.edits.borrow().made.iter() {
            apply(&mut v, at, edit);
        }
        v
    }
}

fn extended(array: Option<Value>, items: &[Value]) -> Value {
    match array {
        Some(Value::Array(mut a)) => {
            a.extend(items.iter().cloned());
            Value::Array(a)
        }
        _ => Value::Array(items.to_vec()),
    }
}

fn apply(v: &mut Value, path: &[String], edit: &Edit) {
    match edit {
        Edit::Set(x) => set_in(v, path, Some(x.clone())),
        Edit::Extend(items) => {
            let at = path
                .iter()
                .try_fold(&mut *v, |cur, seg| cur.as_object_mut()?.get_mut(seg));
            match at {
                Some(Value::Array(a)) => a.extend(items.iter().cloned()),
                _ => set_in(v, path, Some(Value::Array(items.to_vec()))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(s: &str) -> Vec<String> {
        if s.is_empty() {
            return Vec::new();
        }
        s.split('.').map(String::from).collect()
    }

    /// Every read of every path, after every prefix of a sequence of edits, is what the
    /// whole value after those edits holds there: edits above, at and below the path read,
    /// objects made on the way, a scalar replaced by an object, arrays extended and set.
    #[test]
    fn a_read_is_what_the_whole_edited_value_holds_there() {
        let base = json!({
            "a": {"b": {"c": 1}, "s": "x"},
            "list": [1, 2],
            "n": 5,
            "o": {"x": 1},
        });
        let edits: Vec<(&str, Option<Value>, Vec<Value>)> = vec![
            ("a.b.d", Some(json!(2)), vec![]),
            ("list", None, vec![json!(3)]),
            ("a.s.t", Some(json!("y")), vec![]),
            ("n.m.k", Some(json!({"z": [1]})), vec![]),
            ("a", Some(json!({"b": {"e": 4}})), vec![]),
            ("a.b.arr", None, vec![json!(1), json!(2)]),
            ("a.b.arr", None, vec![json!(3)]),
            ("new.deep", None, vec![json!({"q": 1})]),
            ("list.x", Some(json!(1)), vec![]),
            // An object replaced by an array: nothing is found below it any more.
            ("o", None, vec![json!(9)]),
        ];
        let reads = [
            "",
            "a",
            "a.b",
            "a.b.c",
            "a.b.d",
            "a.b.e",
            "a.b.arr",
            "a.s",
            "a.s.t",
            "list",
            "list.x",
            "n",
            "n.m",
            "o",
            "o.x",
            "n.m.k",
            "n.m.k.z",
            "new",
            "new.deep",
            "missing.key",
        ];
        let overlay = Overlay::new(&base);
        let mut whole = base.clone();
        let mut checked = 0;
        for (path, set, items) in &edits {
            match set {
                Some(v) => {
                    overlay.set(&p(path), v.clone());
                    apply(&mut whole, &p(path), &Edit::Set(v.clone()));
                }
                None => {
                    overlay.extend(&p(path), items.clone());
                    apply(&mut whole, &p(path), &Edit::Extend(items.clone()));
                }
            }
            for r in reads {
                assert_eq!(
                    overlay.value_at(&p(r)),
                    get_in(&whole, &p(r)).cloned(),
                    "`{r}` after `{path}`"
                );
                checked += 1;
            }
            assert_eq!(overlay.value(), whole);
        }
        assert_eq!(checked, edits.len() * reads.len());
        // The base itself is never changed.
        assert_eq!(base["a"]["b"]["c"], 1);
    }

    /// The same on random edits (the root, paths that share a prefix or only a key's first
    /// letters, arrays set and extended): the edits a read looks up are exactly those that
    /// reach it, in the order made.
    #[test]
    fn random_edits_read_back_as_the_whole_value_holds_them() {
        let mut rand = crate::domain::read_back::tests::rand();
        let segs = ["a", "ab", "b", "c"];
        // Every path of up to three keys.
        let paths = crate::domain::read_back::tests::paths_of(&segs, 3);
        let mut checked = 0;
        for round in 0..40 {
            let base = json!({"a": {"ab": 1, "b": [1]}, "ab": {"c": {"a": "x"}}, "c": 2});
            let overlay = Overlay::new(&base);
            let mut whole = base.clone();
            for _ in 0..(1 + round % 12) {
                let at = paths[rand(paths.len())].clone();
                let edit = match rand(4) {
                    0 => Edit::Extend(vec![json!(rand(9))]),
                    1 => Edit::Set(json!({"a": {"c": rand(9)}, "ab": [rand(9)]})),
                    _ => Edit::Set(json!(rand(9))),
                };
                match &edit {
                    Edit::Set(v) => overlay.set(&at, v.clone()),
                    Edit::Extend(items) => overlay.extend(&at, items.clone()),
                }
                apply(&mut whole, &at, &edit);
                for r in &paths {
                    assert_eq!(
                        overlay.value_at(r),
                        get_in(&whole, r).cloned(),
                        "`{}` in round {round}",
                        r.join(".")
                    );
                    checked += 1;
                }
            }
            assert_eq!(overlay.value(), whole);
        }
        assert!(checked > 40 * paths.len(), "{checked}");
    }
}
