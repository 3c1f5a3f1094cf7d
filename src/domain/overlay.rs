//! A value with edits kept beside it instead of applied to a copy. A dry plan (recognition
//! makes one per candidate preset) edits a big file's value, and copying that value costs
//! several times the file. A read applies the edits that reach the path it reads; the whole
//! value is made only when asked.

use std::cell::RefCell;

use serde_json::Value;

use crate::domain::choice::{get_in, set_in};

pub struct Overlay<'a> {
    base: &'a Value,
    edits: RefCell<Vec<(Vec<String>, Edit)>>,
}

enum Edit {
    /// The value set at the path (`choice::set_in`: objects made on the way).
    Set(Value),
    /// Items appended to the array at the path, or the array set with them.
    Extend(Vec<Value>),
}

impl<'a> Overlay<'a> {
    pub fn new(base: &'a Value) -> Overlay<'a> {
        Overlay {
            base,
            edits: RefCell::new(Vec::new()),
        }
    }

    pub fn is_edited(&self) -> bool {
        !self.edits.borrow().is_empty()
    }

    pub fn set(&self, path: &[String], value: Value) {
        self.edits
            .borrow_mut()
            .push((path.to_vec(), Edit::Set(value)));
    }

    pub fn extend(&self, path: &[String], items: &[Value]) {
        if !items.is_empty() {
            self.edits
                .borrow_mut()
                .push((path.to_vec(), Edit::Extend(items.to_vec())));
        }
    }

    /// The value at `path` after the edits (None: no such key).
    pub fn value_at(&self, path: &[String]) -> Option<Value> {
        let mut cur = get_in(self.base, path).cloned();
        for (at, edit) in self.edits.borrow().iter() {
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
        for (at, edit) in self.edits.borrow().iter() {
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
                    overlay.extend(&p(path), items);
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
}
