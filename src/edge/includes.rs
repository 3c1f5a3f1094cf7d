//! Resolve a config's `$include`s read-only, the way OpenClaw loads them, so what the included
//! files hold is judged too (verify's invariants). Never writes. OpenClaw's rules
//! (gateway/config-secrets-env.md): the path is relative to the including file; it must stay
//! inside the config's directory (after symlinks); up to 10 nested levels; 2 MB per file; an
//! array of files is deep-merged in order and the sibling keys override. A missing file, a
//! path that escapes, a cycle or a file that does not parse is an error, never skipped.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

const MAX_DEPTH: usize = 10;
const MAX_BYTES: u64 = 2 * 1024 * 1024;

/// The config with every `$include` replaced by what it loads.
pub fn resolve(config: &Path, value: &Value) -> Result<Value, String> {
    let dir = config
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let root = std::fs::canonicalize(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let me = std::fs::canonicalize(config).unwrap_or_else(|_| config.to_path_buf());
    let mut stack = vec![me];
    walk(value, &dir, &root, &mut stack, "")
}

fn walk(
    value: &Value,
    dir: &Path,
    root: &Path,
    stack: &mut Vec<PathBuf>,
    at: &str,
) -> Result<Value, String> {
    match value {
        Value::Object(map) => {
            let mut base = Value::Object(Map::new());
            if let Some(inc) = map.get("$include") {
                let files: Vec<&str> = match inc {
                    Value::String(s) => vec![s.as_str()],
                    Value::Array(a) => a
                        .iter()
                        .map(|v| v.as_str().ok_or_else(|| bad(at, "a path must be a string")))
                        .collect::<Result<_, _>>()?,
                    _ => return Err(bad(at, "$include must be a path or a list of paths")),
                };
                for f in files {
                    let loaded = load(f, dir, root, stack, at)?;
                    merge(&mut base, loaded);
                }
            }
            let mut own = Map::new();
            for (k, v) in map {
                if k == "$include" {
                    continue;
                }
                let here = if at.is_empty() {
                    k.clone()
                } else {
                    format!("{at}.{k}")
                };
                own.insert(k.clone(), walk(v, dir, root, stack, &here)?);
            }
            merge(&mut base, Value::Object(own));
            Ok(base)
        }
        Value::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, v)| walk(v, dir, root, stack, &format!("{at}[{i}]")))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        other => Ok(other.clone()),
    }
}

fn bad(at: &str, why: &str) -> String {
    format!(
        "$include at `{}`: {why}",
        if at.is_empty() { "(top level)" } else { at }
    )
}

fn load(
    file: &str,
    dir: &Path,
    root: &Path,
    stack: &mut Vec<PathBuf>,
    at: &str,
) -> Result<Value, String> {
    if stack.len() > MAX_DEPTH {
        return Err(bad(at, &format!("more than {MAX_DEPTH} nested levels")));
    }
    let path = dir.join(file);
    let real = std::fs::canonicalize(&path)
        .map_err(|e| bad(at, &format!("{} cannot be read: {e}", path.display())))?;
    if !real.starts_with(root) {
        return Err(bad(
            at,
            &format!(
                "{} resolves to {}, outside the config's directory {}",
                path.display(),
                real.display(),
                root.display()
            ),
        ));
    }
    if stack.contains(&real) {
        return Err(bad(at, &format!("{} includes itself", real.display())));
    }
    let meta = std::fs::metadata(&real).map_err(|e| bad(at, &e.to_string()))?;
    if !meta.is_file() || meta.len() > MAX_BYTES {
        return Err(bad(
            at,
            &format!("{} is not a regular file of at most 2 MB", real.display()),
        ));
    }
    let text = std::fs::read_to_string(&real).map_err(|e| bad(at, &e.to_string()))?;
    let value = crate::domain::document::Document::parse(&text)
        .map_err(|e| bad(at, &format!("{}: {e}", real.display())))?
        .value();
    let next_dir = real.parent().map(Path::to_path_buf).unwrap_or_default();
    stack.push(real);
    let out = walk(&value, &next_dir, root, stack, at);
    stack.pop();
    out
}

/// Deep merge: objects merge key by key, anything else replaces.
fn merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(slot) => merge(slot, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (slot, v) => *slot = v,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn includes_resolve_inside_the_directory_and_fail_closed_otherwise() {
        let d = tempfile::tempdir().expect("tempdir");
        let cfg = d.path().join("openclaw.json");
        std::fs::write(
            d.path().join("channels.json5"),
            "{ telegram: { dmPolicy: 'open' }, $include: './more.json5' }",
        )
        .expect("write");
        std::fs::write(
            d.path().join("more.json5"),
            "{ telegram: { groupPolicy: 'open', dmPolicy: 'pairing' } }",
        )
        .expect("write");
        let v = json!({"channels": {"$include": "./channels.json5", "discord": {}}});
        let r = resolve(&cfg, &v).expect("resolves");
        // The including object's own keys win over what it includes.
        assert_eq!(
            r,
            json!({"channels": {"telegram": {"dmPolicy": "open", "groupPolicy": "open"}, "discord": {}}})
        );
        let missing = json!({"channels": {"$include": "./nope.json5"}});
        assert!(resolve(&cfg, &missing).unwrap_err().contains("`channels`"));
        std::fs::write(d.path().join("loop.json5"), "{ $include: './loop.json5' }").expect("w");
        let cycle = json!({"agents": {"$include": "./loop.json5"}});
        assert!(
            resolve(&cfg, &cycle)
                .unwrap_err()
                .contains("includes itself")
        );
        let outside = tempfile::tempdir().expect("tempdir");
        std::fs::write(outside.path().join("x.json5"), "{}").expect("w");
        std::os::unix::fs::symlink(outside.path().join("x.json5"), d.path().join("link.json5"))
            .expect("symlink");
        let escape = json!({"tools": {"$include": "./link.json5"}});
        assert!(resolve(&cfg, &escape).unwrap_err().contains("outside"));
    }
}
