//! OpenClaw config key paths: `agents.defaults.sandbox`, `plugins.entries."memory-core".config`.

/// Split a dotted path; a segment holding a dot, dash, star or space is quoted ("..." or '...').
pub fn parse(text: &str) -> Result<Vec<String>, String> {
    let mut segments = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        let segment = match chars.peek() {
            Some(&q @ ('"' | '\'')) => {
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next() {
                        Some(c) if c == q => break,
                        Some(c) => s.push(c),
                        None => return Err(format!("unclosed quote in key `{text}`")),
                    }
                }
                s
            }
            _ => {
                let mut s = String::new();
                while let Some(&c) = chars.peek() {
                    if c == '.' {
                        break;
                    }
                    if c == '"' || c == '\'' {
                        return Err(format!("quote inside a bare segment of key `{text}`"));
                    }
                    s.push(c);
                    chars.next();
                }
                s
            }
        };
        if segment.is_empty() {
            return Err(format!("empty segment in key `{text}`"));
        }
        segments.push(segment);
        match chars.next() {
            None => return Ok(segments),
            Some('.') => continue,
            Some(c) => {
                return Err(format!(
                    "unexpected `{c}` after a quoted segment in key `{text}`"
                ));
            }
        }
    }
}

/// The inverse of [`parse`]: quote only the segments that need it.
pub fn display(path: &[String]) -> String {
    path.iter()
        .map(|s| {
            if !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
            {
                s.clone()
            } else {
                format!("\"{s}\"")
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_quoted_and_bare_segments() {
        assert_eq!(
            parse(r#"plugins.entries."memory-core".config"#).unwrap(),
            vec!["plugins", "entries", "memory-core", "config"]
        );
        assert_eq!(
            parse("groups.'*'.requireMention").unwrap(),
            vec!["groups", "*", "requireMention"]
        );
        assert!(parse("a..b").is_err());
        assert!(parse("a.\"b").is_err());
        assert!(parse("a.\"b\"c").is_err());
    }

    #[test]
    fn display_round_trips() {
        for p in [
            "a.b.c",
            r#"plugins.entries."memory-core".x"#,
            r#"groups."*".y"#,
            r#"groups."-100123".y"#,
        ] {
            assert_eq!(display(&parse(p).unwrap()), p);
        }
    }
}
