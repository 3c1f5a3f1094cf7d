//! Sets of JSON values compared as `==` compares them (an object's key order aside), in one
//! hash lookup each: `bindings` lists hold thousands of routes, and `Vec::contains` on each of
//! them made a re-run quadratic (ten thousand routes took 16 s).

use std::collections::HashSet;

use serde_json::Value;

/// A text equal for two values exactly when the values are `==`: objects with sorted keys.
pub fn canonical(v: &Value) -> String {
    let mut out = String::new();
    write(v, &mut out);
    out
}

fn write(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write(&m[k.as_str()], out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(x, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// Values by [`canonical`] text.
#[derive(Default)]
pub struct ValueSet(HashSet<String>);

impl ValueSet {
    pub fn contains(&self, v: &Value) -> bool {
        self.0.contains(&canonical(v))
    }

    /// Whether `v` was new.
    pub fn insert(&mut self, v: &Value) -> bool {
        self.0.insert(canonical(v))
    }
}

impl<'a> FromIterator<&'a Value> for ValueSet {
    fn from_iter<I: IntoIterator<Item = &'a Value>>(iter: I) -> Self {
        ValueSet(iter.into_iter().map(canonical).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Equal texts exactly for equal values, over values that differ in one place each.
    #[test]
    fn canonical_texts_are_equal_exactly_when_values_are() {
        let values = [
            json!({"a": 1, "b": [1, {"c": "x"}]}),
            json!({"b": [1, {"c": "x"}], "a": 1}),
            json!({"a": 1, "b": [{"c": "x"}, 1]}),
            json!({"a": "1", "b": [1, {"c": "x"}]}),
            json!({"a": 1.0, "b": [1, {"c": "x"}]}),
            json!({"a,b": 1}),
            json!({"a": 1, "b": 1}),
            json!({"a\"": 1}),
            json!(["a", "b"]),
            json!(["a,\"b"]),
            json!(null),
            json!("null"),
        ];
        for x in &values {
            for y in &values {
                assert_eq!(canonical(x) == canonical(y), x == y, "{x} vs {y}");
            }
        }
        let set: ValueSet = values.iter().collect();
        assert!(set.contains(&json!({"b": [1, {"c": "x"}], "a": 1})));
        assert!(!set.contains(&json!({"a": 2})));
    }
}
