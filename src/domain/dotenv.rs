//! `.env` files as OpenClaw reads them: its loader hands the file to the `dotenv` package's
//! `parse` (17.x), so this is that function's rules, ported: one `LINE` pattern over the whole
//! text, `#` starts a comment in an unquoted value, surrounding quotes are stripped, `\n` and
//! `\r` are expanded only inside double quotes, and the last definition of a name wins.
//! Writing goes through [`quote`], which only returns a form this parser reads back exactly.

use std::sync::LazyLock;

use regex::Regex;

/// dotenv 17's `LINE` pattern. JS's `\w` is ASCII; `\s` and `.` behave as in Rust with `(?m)`.
static LINE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r#"(?m)(?:^|^)\s*(?:export\s+)?([A-Za-z0-9_.-]+)(?:\s*=\s*?|:\s+?)(\s*'(?:\\'|[^'])*'|\s*"(?:\\"|[^"])*"|\s*`(?:\\`|[^`])*`|[^#\r\n]+)?\s*(?:#.*)?(?:$|$)"#,
    )
    .ok()
});

/// Every `(name, value)` in file order, as dotenv's `parse` yields them (a later pair with the
/// same name replaces an earlier one in OpenClaw; [`get`] applies that rule).
pub fn parse(text: &str) -> Vec<(String, String)> {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let Some(line) = LINE.as_ref() else {
        return Vec::new();
    };
    line.captures_iter(&text)
        .map(|c| {
            let key = c.get(1).map(|m| m.as_str()).unwrap_or_default().to_string();
            let raw = c.get(2).map(|m| m.as_str()).unwrap_or_default().trim();
            let quote = raw.chars().next();
            let mut value = match quote {
                Some(q @ ('\'' | '"' | '`')) if raw.len() >= 2 && raw.ends_with(q) => {
                    raw[1..raw.len() - 1].to_string()
                }
                _ => raw.to_string(),
            };
            if quote == Some('"') {
                value = value.replace("\\n", "\n").replace("\\r", "\r");
            }
            (key, value)
        })
        .collect()
}

/// The value OpenClaw sees for `name` (the last definition wins).
pub fn get(text: &str, name: &str) -> Option<String> {
    parse(text)
        .into_iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// A value that stands for "not filled in": empty, blank, or an obvious placeholder. OpenClaw
/// would use it as the secret, so clawposture treats the variable as absent.
pub fn is_placeholder(value: &str) -> bool {
    let v = value.trim();
    let lower = v.to_ascii_lowercase();
    v.is_empty()
        || (v.starts_with('<') && v.ends_with('>'))
        || [
            "changeme",
            "change-me",
            "change_me",
            "todo",
            "xxx",
            "placeholder",
            "your-token-here",
            "your_token_here",
        ]
        .contains(&lower.as_str())
}

/// `NAME=<value>` in a form dotenv reads back as exactly `value`: bare when that is safe,
/// else single, double or back quotes, whichever round-trips. None: a line break, or no form
/// round-trips (all three quote characters), and the value must be refused.
pub fn quote(name: &str, value: &str) -> Option<String> {
    // dotenv reads a quoted multi-line value back, but other readers of the same file (a
    // systemd EnvironmentFile, a shell) take the second line as a new variable: refused.
    if value.contains(['\n', '\r', '\0']) {
        return None;
    }
    let plain = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.:+/=@%,".contains(c));
    let candidates = [
        plain.then(|| value.to_string()),
        Some(format!("'{value}'")),
        Some(format!("\"{value}\"")),
        Some(format!("`{value}`")),
    ];
    candidates.into_iter().flatten().find_map(|form| {
        let line = format!("{name}={form}");
        (parse(&format!("{line}\n")) == [(name.to_string(), value.to_string())]).then_some(line)
    })
}

/// `text` with `name` defined as `line` (from [`quote`]): every earlier definition of `name`
/// (placeholders) is removed, so the file holds one. Lines are kept byte for byte otherwise.
pub fn set_line(text: &str, name: &str, line: &str, comment: &str) -> String {
    let mut out = String::new();
    for l in text.split_inclusive('\n') {
        let defines = parse(l).iter().any(|(k, _)| k == name);
        if !defines {
            out.push_str(l);
        }
    }
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(comment);
    out.push_str(line);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String)> {
        parse(text)
    }

    #[test]
    fn hash_starts_a_comment_only_when_unquoted() {
        assert_eq!(get("T=abc#def\n", "T").as_deref(), Some("abc"));
        assert_eq!(get("T='abc#def'\n", "T").as_deref(), Some("abc#def"));
        assert_eq!(get("T=# fill me in\n", "T").as_deref(), Some(""));
        assert_eq!(get("T=\"\"\n", "T").as_deref(), Some(""));
    }

    #[test]
    fn quotes_are_stripped_and_double_quotes_expand_newlines() {
        assert_eq!(get("T=\"a\\nb\"", "T").as_deref(), Some("a\nb"));
        assert_eq!(get("T='a\\nb'", "T").as_deref(), Some("a\\nb"));
        assert_eq!(get("export T = 'x' # c", "T").as_deref(), Some("x"));
        assert_eq!(
            pairs("A=1\nB=2\nA=3\n"),
            [
                ("A".into(), "1".into()),
                ("B".into(), "2".into()),
                ("A".into(), "3".into())
            ]
        );
        assert_eq!(get("A=1\nA=3\n", "A").as_deref(), Some("3"));
    }

    #[test]
    fn a_token_with_hash_quotes_and_newline_is_quoted_or_refused() {
        for v in [
            "abcdefghijkl#mnopqrstuvwxyz0123",
            "it's",
            "say \"hi\"",
            "a\\nb",
            "both ' and \"",
            " padded ",
            "0123456789abcdef",
        ] {
            let line = quote("T", v).unwrap_or_else(|| panic!("{v:?} not quotable"));
            assert_eq!(get(&line, "T").as_deref(), Some(v), "{line}");
        }
        assert_eq!(quote("T", "abc123").as_deref(), Some("T=abc123"));
        assert!(quote("T", "line1\nOTHER=injected").is_none());
        // Whatever form is chosen for hostile values, it reads back exactly, or none is given.
        for v in ["'\"`", "a'b\"c`d#e", "#'#\"#`#", "x\\", "\\'", "  #  "] {
            if let Some(line) = quote("T", v) {
                assert_eq!(get(&line, "T").as_deref(), Some(v), "{line}");
            }
        }
    }

    #[test]
    fn placeholders_count_as_absent() {
        for v in ["", "  ", "<your token>", "changeme", "TODO"] {
            assert!(is_placeholder(v), "{v:?}");
        }
        assert!(!is_placeholder("0123456789abcdef0123456789abcdef"));
    }

    #[test]
    fn set_line_replaces_placeholders_and_keeps_other_lines() {
        let text = "# mine\nA=1\nT=\"\"\nB=2";
        let out = set_line(text, "T", "T=abc", "# c\n");
        assert_eq!(out, "# mine\nA=1\nB=2\n# c\nT=abc\n");
    }
}
