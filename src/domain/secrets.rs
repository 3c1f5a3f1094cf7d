//! Secrets never reach a preview, a log or a screenshot: every string that sits under a
//! secret-looking key is masked wherever it appears in text shown to people.

use serde_json::Value;

pub const MASK: &str = "«secret»";

fn secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    [
        "token",
        "password",
        "secret",
        "apikey",
        "api_key",
        "privatekey",
        "private_key",
        "credential",
        "passphrase",
    ]
    .iter()
    .any(|s| k.contains(s))
}

/// Every secret string in a config value (strings under secret-looking keys, at any depth).
pub fn collect(value: &Value, out: &mut Vec<String>) {
    collect_under(value, false, out);
}

fn collect_under(value: &Value, secret: bool, out: &mut Vec<String>) {
    match value {
        Value::String(s) if secret && s.len() >= 4 && !out.contains(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| collect_under(v, secret, out)),
        // A SecretRef names where the secret lives; its fields are not secret.
        Value::Object(map) if map.contains_key("source") && map.contains_key("id") => {}
        Value::Object(map) => map
            .iter()
            .for_each(|(k, v)| collect_under(v, secret || secret_key(k), out)),
        _ => {}
    }
}

/// `text` with every secret replaced by [`MASK`]; longest first so that a secret that contains
/// another is masked whole.
pub fn mask(text: &str, secrets: &[String]) -> String {
    let mut sorted: Vec<&String> = secrets.iter().collect();
    sorted.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut out = text.to_string();
    for s in sorted {
        out = out.replace(s.as_str(), MASK);
        // JSON-escaped form, as it appears inside a serialised value.
        if let Ok(escaped) = serde_json::to_string(s) {
            let inner = &escaped[1..escaped.len() - 1];
            if inner != s {
                out = out.replace(inner, MASK);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn collects_and_masks() {
        let v = json!({"gateway": {"auth": {"token": "abcdefghijklmnopqrstuvwxyz"}},
            "channels": {"telegram": {"botToken": "123:XYZ", "name": "bot"}},
            "x": {"apiKey": {"source": "env", "provider": "default", "id": "KEY"}},
            "models": {"providers": {"a": {"apiKeys": ["k1-long", "k2-long"]}}}});
        let mut found = Vec::new();
        collect(&v, &mut found);
        assert_eq!(
            found,
            [
                "abcdefghijklmnopqrstuvwxyz",
                "123:XYZ",
                "k1-long",
                "k2-long"
            ]
        );
        let text = serde_json::to_string_pretty(&v).unwrap();
        let masked = mask(&text, &found);
        for s in &found {
            assert!(!masked.contains(s.as_str()));
        }
        assert!(masked.contains("\"id\": \"KEY\""));
    }
}
