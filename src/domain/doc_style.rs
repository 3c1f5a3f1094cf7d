//! The file's own manners, so that what clawposture inserts reads like the rest of the file:
//! bare or quoted keys, single or double quotes (the majority of the file decides); and a
//! comment that sat beside a value clawposture replaces moves above the key, so it is never
//! re-attached to the new value it did not describe.

use jsonc_parser::cst::{CstNode, CstObjectProp};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Quote {
    #[default]
    Double,
    Single,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Style {
    /// Keys that are identifiers are written bare (`mode:`), as most of the file's are.
    pub bare_keys: bool,
    /// The quote for keys that must be quoted, and for strings.
    pub key_quote: Quote,
    pub string_quote: Quote,
    /// Multi-line objects and arrays end with a comma after their last item.
    pub trailing_commas: bool,
}

/// How many of the file's keys, strings and multi-line containers are written each way.
#[derive(Default)]
struct Counts {
    bare: usize,
    key_single: usize,
    key_double: usize,
    single: usize,
    double: usize,
    trailing: usize,
    closed: usize,
}

impl Counts {
    fn key(&mut self, q: Quote) {
        match q {
            Quote::Single => self.key_single += 1,
            Quote::Double => self.key_double += 1,
        }
    }

    fn string(&mut self, q: Quote) {
        match q {
            Quote::Single => self.single += 1,
            Quote::Double => self.double += 1,
        }
    }

    /// A multi-line container's last item is followed by a comma (or not).
    fn trailing(&mut self, text: &str, last_end: usize, end: usize) {
        let between = &text[last_end.min(end)..end];
        if between.contains('\n') {
            if between.trim_start().starts_with(',') {
                self.trailing += 1;
            } else {
                self.closed += 1;
            }
        }
    }

    fn style(&self) -> Style {
        Style {
            bare_keys: self.bare > self.key_single + self.key_double,
            key_quote: if self.key_single > self.key_double
                || (self.key_double == 0 && self.single > self.double)
            {
                Quote::Single
            } else {
                Quote::Double
            },
            string_quote: if self.single > self.double {
                Quote::Single
            } else {
                Quote::Double
            },
            trailing_commas: self.trailing > self.closed,
        }
    }
}

fn quote_of(text: &str, start: usize) -> Quote {
    if text[start..].starts_with('\'') {
        Quote::Single
    } else {
        Quote::Double
    }
}

impl Style {
    /// The majority style of `text` (JSON's when the file has no keys or strings).
    pub fn of(text: &str) -> Style {
        match jsonc_parser::parse_to_ast(
            text,
            &Default::default(),
            &crate::domain::document::options(),
        ) {
            Ok(parsed) => Style::of_tree(parsed.value.as_ref(), text),
            Err(_) => Style::default(),
        }
    }

    /// [`Style::of`] the abstract tree of `text`, built already.
    pub fn of_tree(value: Option<&jsonc_parser::ast::Value>, text: &str) -> Style {
        use jsonc_parser::ast;
        use jsonc_parser::common::Ranged;
        fn walk(v: &ast::Value, text: &str, c: &mut Counts) {
            match v {
                ast::Value::StringLit(s) => c.string(quote_of(text, s.range.start)),
                ast::Value::Array(a) => {
                    a.elements.iter().for_each(|e| walk(e, text, c));
                    if let Some(last) = a.elements.last() {
                        c.trailing(text, last.range().end, a.range.end);
                    }
                }
                ast::Value::Object(o) => {
                    if let Some(last) = o.properties.last() {
                        c.trailing(text, last.range.end, o.range.end);
                    }
                    for p in &o.properties {
                        match &p.name {
                            ast::ObjectPropName::Word(_) => c.bare += 1,
                            ast::ObjectPropName::String(s) => c.key(quote_of(text, s.range.start)),
                        }
                        walk(&p.value, text, c);
                    }
                }
                _ => {}
            }
        }
        let mut c = Counts::default();
        if let Some(v) = value {
            walk(v, text, &mut c);
        }
        c.style()
    }

    /// [`Style::of_tree`] of a text that parses, counted on its tokens: no syntax tree (a big
    /// file's costs several times the file). None: the text does not scan.
    pub fn of_tokens(text: &str) -> Option<Style> {
        use jsonc_parser::tokens::Token;
        /// An open container: an object waiting for a key, and where its last item ended.
        struct Open {
            object: bool,
            key_next: bool,
            last_end: Option<usize>,
        }
        let mut scanner =
            jsonc_parser::Scanner::new(text, &crate::domain::document::scanner_options());
        let mut c = Counts::default();
        let mut open: Vec<Open> = Vec::new();
        while let Some(token) = scanner.scan().ok()? {
            let (start, end) = (scanner.token_start(), scanner.token_end());
            let key = open.last().is_some_and(|o| o.object && o.key_next);
            match token {
                Token::CommentLine(_) | Token::CommentBlock(_) | Token::Colon => continue,
                Token::Comma => {
                    if let Some(o) = open.last_mut() {
                        o.key_next = o.object;
                    }
                    continue;
                }
                Token::OpenBrace | Token::OpenBracket => {
                    open.push(Open {
                        object: token == Token::OpenBrace,
                        key_next: true,
                        last_end: None,
                    });
                    continue;
                }
                Token::CloseBrace | Token::CloseBracket => {
                    if let Some(last) = open.pop()?.last_end {
                        c.trailing(text, last, end);
                    }
                    if let Some(o) = open.last_mut() {
                        o.last_end = Some(end);
                    }
                    continue;
                }
                Token::String(_) if key => c.key(quote_of(text, start)),
                // A loose name: a word, a number, `true`, `null`.
                _ if key => c.bare += 1,
                Token::String(_) => c.string(quote_of(text, start)),
                _ => {}
            }
            if let Some(o) = open.last_mut() {
                if key {
                    o.key_next = false;
                } else {
                    o.last_end = Some(end);
                }
            }
        }
        Some(c.style())
    }

    /// An inserted property: its name and its value, all the way down. Names to write bare
    /// go to `bare` (see [`Style::restyle_name`]).
    pub fn restyle_prop(&self, prop: &CstObjectProp, bare: &mut Vec<CstObjectProp>) {
        self.restyle_name(prop, bare);
        if let Some(v) = prop.value() {
            self.restyle_value(&v, bare);
        }
    }

    /// An inserted property's name (the library writes every name in double quotes). A name
    /// to write bare is only collected: the syntax tree decodes names as quoted strings, so
    /// [`bare_names`] rewrites them once every edit and lookup is done.
    pub fn restyle_name(&self, prop: &CstObjectProp, bare: &mut Vec<CstObjectProp>) {
        let Some(name) = prop.name().and_then(|n| n.as_string_lit()) else {
            return;
        };
        let Ok(decoded) = name.decoded_value() else {
            return;
        };
        if self.bare_keys && is_identifier(&decoded) {
            bare.push(prop.clone());
            return;
        }
        let raw = quoted(&decoded, self.key_quote);
        if raw != name.to_string() {
            name.set_raw_value(raw);
        }
    }

    /// Trailing commas in an inserted multi-line object or array, as the file writes them.
    pub fn commas(&self, node: &CstNode) {
        use jsonc_parser::cst::TrailingCommaMode;
        let mode = if self.trailing_commas {
            TrailingCommaMode::IfMultiline
        } else {
            TrailingCommaMode::Never
        };
        if let Some(o) = node.as_object() {
            o.set_trailing_commas(mode);
        } else if let Some(a) = node.as_array() {
            a.set_trailing_commas(mode);
        }
    }

    /// An inserted value: its strings, and the keys of its objects.
    pub fn restyle_value(&self, node: &CstNode, bare: &mut Vec<CstObjectProp>) {
        if let Some(s) = node.as_string_lit() {
            if self.string_quote == Quote::Single
                && let Ok(decoded) = s.decoded_value()
            {
                s.set_raw_value(quoted(&decoded, Quote::Single));
            }
        } else if let Some(o) = node.as_object() {
            o.properties()
                .iter()
                .for_each(|p| self.restyle_prop(p, bare));
        } else if let Some(a) = node.as_array() {
            a.elements()
                .iter()
                .for_each(|e| self.restyle_value(e, bare));
        }
    }
}

/// An object written on one line (`{ a: 1, b: 2 }`): its direct children hold no newline.
pub fn is_inline(node: &CstNode) -> bool {
    !node.children().iter().any(|c| c.is_newline())
}

/// Put back on one line an object that was on one line before `inserted` was appended to it
/// (the library writes every property on its own line then): the newlines among its own
/// children go and the indentation after each becomes one space, and `inserted`, new as a
/// whole, is flattened all the way down. The properties that were there keep their text byte
/// for byte, odd spacing and nested lines included (found by the edit-path fuzz target: a
/// `dmPolicy:  [...]` beside an insertion lost a space).
pub fn collapse_after_insert(node: &CstNode, inserted: &CstNode) {
    let mut after_newline = false;
    for c in node.children() {
        if c.is_newline() {
            c.remove();
            after_newline = true;
            continue;
        }
        if let Some(ws) = c.as_whitespace()
            && after_newline
        {
            ws.set_value(" ".into());
        }
        after_newline = false;
    }
    collapse(inserted);
}

/// A node that is new as a whole on one line: each newline and the indentation after it
/// become one space, all the way down.
pub fn collapse(node: &CstNode) {
    for c in node.children() {
        if c.is_newline() {
            c.remove();
        } else if let Some(ws) = c.as_whitespace() {
            ws.set_value(" ".into());
        } else if c.as_object().is_some() || c.as_array().is_some() || c.as_object_prop().is_some()
        {
            collapse(&c);
        }
    }
}

/// Write the collected names bare (last step before printing: the tree can no longer decode
/// them as strings).
pub fn bare_names(props: Vec<CstObjectProp>) {
    for prop in props {
        if let Some(name) = prop.name().and_then(|n| n.as_string_lit())
            && let Ok(decoded) = name.decoded_value()
            && is_identifier(&decoded)
        {
            name.set_raw_value(decoded);
        }
    }
}

impl Style {
    /// `v` on one line in the file's style (`{ agentId: 'main', match: { channel: 'x' } }`).
    pub fn render_inline(&self, v: &serde_json::Value) -> String {
        use serde_json::Value;
        match v {
            Value::String(s) => quoted(s, self.string_quote),
            Value::Array(items) => format!(
                "[{}]",
                items
                    .iter()
                    .map(|i| self.render_inline(i))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Value::Object(map) if map.is_empty() => "{}".into(),
            Value::Object(map) => format!(
                "{{ {} }}",
                map.iter()
                    .map(|(k, v)| {
                        let key = if self.bare_keys && is_identifier(k) {
                            k.clone()
                        } else {
                            quoted(k, self.key_quote)
                        };
                        format!("{key}: {}", self.render_inline(v))
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            other => other.to_string(),
        }
    }
}

/// A key JSON5 reads bare (ASCII identifiers only: what every JSON5 reader agrees on).
fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// `s` as a JSON5 string literal in quote `q`.
pub fn quoted(s: &str, q: Quote) -> String {
    let qc = match q {
        Quote::Single => '\'',
        Quote::Double => '"',
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(qc);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            c if c == qc => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push(qc);
    out
}

/// The comments that belong to a property's value: inside the property (`mode: /* why */
/// 'off'`) and after it on the same line (`token: 'x', // literal, I know`).
fn side_comments(prop: &CstObjectProp) -> Vec<CstNode> {
    let mut found: Vec<CstNode> = prop
        .children()
        .into_iter()
        .filter(|c| c.is_comment())
        .collect();
    for sibling in prop.next_siblings() {
        if sibling.is_newline() {
            break;
        }
        if sibling.is_comment() {
            found.push(sibling);
        } else if !(sibling.is_whitespace() || sibling.as_token().is_some_and(|t| t.value() == ','))
        {
            break;
        }
    }
    found
}

pub fn has_side_comment(prop: &CstObjectProp) -> bool {
    !side_comments(prop).is_empty()
}

/// Move the comments beside `prop`'s value above the key, at the key's indentation (or before
/// the key, as a block comment, when the property shares its line with others). Called once all
/// edits are done: the moved text rides in the whitespace before the key, which no later edit
/// reads as indentation.
pub fn move_side_comments_above(prop: &CstObjectProp) {
    let comments = side_comments(prop);
    if comments.is_empty() {
        return;
    }
    let texts: Vec<(String, bool)> = comments
        .iter()
        .filter_map(|c| c.as_comment())
        .map(|c| (c.raw_value(), c.is_line_comment()))
        .collect();
    for c in comments {
        // The blank before a comment goes with it (no trailing spaces left behind).
        if let Some(ws) = c.previous_sibling().and_then(|p| p.as_whitespace()) {
            ws.remove();
        }
        if let Some(comment) = c.as_comment() {
            comment.remove();
        }
    }
    let before = prop.previous_sibling();
    let own_line = before.as_ref().is_some_and(|b| {
        b.is_newline() || (b.is_whitespace() && b.previous_sibling().is_none_or(|p| p.is_newline()))
    });
    match before.and_then(|b| b.as_whitespace()) {
        Some(ws) if own_line => {
            let indent = ws.value();
            let mut raw = String::new();
            for (text, _) in &texts {
                raw.push_str(&format!("{indent}{text}\n"));
            }
            raw.push_str(&indent);
            ws.set_value(raw);
        }
        Some(ws) => {
            let mut raw = ws.value();
            for (text, line) in &texts {
                raw.push_str(&block(text, *line));
                raw.push(' ');
            }
            ws.set_value(raw);
        }
        None => {
            // The key opens its line with no indentation, or follows `{` directly: put the
            // comments before it as block comments in the name's own text.
            if let Some(name) = prop.name().and_then(|n| n.as_string_lit()) {
                let mut raw: String = texts
                    .iter()
                    .map(|(t, l)| format!("{} ", block(t, *l)))
                    .collect();
                raw.push_str(&name.to_string());
                name.set_raw_value(raw);
            } else if let Some(name) = prop.name().and_then(|n| n.as_word_lit()) {
                let mut raw: String = texts
                    .iter()
                    .map(|(t, l)| format!("{} ", block(t, *l)))
                    .collect();
                raw.push_str(&name.to_string());
                name.set_raw_value(raw);
            }
        }
    }
}

/// A comment as a block comment (a line comment cannot precede a key on its line).
fn block(text: &str, line: bool) -> String {
    if line {
        format!(
            "/* {} */",
            text.trim_start_matches("//").trim().replace("*/", "* /")
        )
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::document::Document;
    use serde_json::json;

    /// The style counted on the tokens is the one counted on the syntax tree, for every
    /// fixture and thousands of texts made from them that still parse (keys loose, quoted,
    /// trailing commas and comments moved).
    #[test]
    fn the_style_of_the_tokens_is_the_style_of_the_tree() {
        use super::Style;
        use crate::domain::read_back::tests::{fixture_texts, parsing};
        let mut base = fixture_texts();
        base.extend([
            "{ 'a': 1, \"b\": 'x', c: [ 'y', {d: \"z\"}, ], 1: null, true: 2, }".to_string(),
            "// top\n{\n  a: {\n    b: [1,\n 2\n ],\n  }, /* c */\n  'c': [\n {}\n ]\n}\n"
                .to_string(),
            "[ 'a', \"b\",\n]".to_string(),
            "'s'".to_string(),
        ]);
        let mut compared = 0;
        for text in &parsing(base, 5000) {
            let Ok(parsed) = jsonc_parser::parse_to_ast(
                text,
                &Default::default(),
                &crate::domain::document::options(),
            ) else {
                continue;
            };
            assert_eq!(
                Style::of_tokens(text),
                Some(Style::of_tree(parsed.value.as_ref(), text)),
                "{text}"
            );
            compared += 1;
        }
        assert!(compared > 1000, "{compared}");
    }

    fn p(s: &str) -> Vec<String> {
        crate::domain::keypath::parse(s).unwrap()
    }

    #[test]
    fn keys_inserted_into_a_file_with_bare_keys_and_single_quotes_come_out_bare_and_single() {
        let text =
            "{\n  gateway: { bind: 'lan' },\n  channels: { telegram: { dmPolicy: 'open' } },\n}\n";
        let doc = Document::parse(text).unwrap();
        doc.set(&p("gateway.bind"), &json!("loopback"));
        doc.set(&p("tools.exec.mode"), &json!("ask"));
        doc.set_many(&[(
            p("agents.defaults.sandbox"),
            json!({"mode": "non-main", "docker": {"capDrop": ["ALL"], "my-key": "it's"}}),
        )]);
        doc.settle();
        let out = doc.text();
        assert!(out.contains("bind: 'loopback'"), "{out}");
        assert!(
            out.contains("tools: {") && out.contains("mode: 'ask'"),
            "{out}"
        );
        assert!(out.contains("capDrop: [") && out.contains("'ALL'"), "{out}");
        assert!(out.contains("'my-key': 'it\\'s'"), "{out}");
        assert!(!out.contains('"'), "{out}");
        let v = Document::parse(&out).unwrap().value();
        assert_eq!(
            v["agents"]["defaults"]["sandbox"]["docker"]["my-key"],
            "it's"
        );
        assert_eq!(v["tools"]["exec"]["mode"], "ask");
    }

    #[test]
    fn keys_inserted_into_a_json_file_stay_json() {
        let text = "{\n  \"gateway\": { \"bind\": \"lan\" }\n}\n";
        let doc = Document::parse(text).unwrap();
        doc.set(&p("gateway.bind"), &json!("loopback"));
        doc.set(&p("tools.exec.mode"), &json!("ask"));
        doc.settle();
        let out = doc.text();
        assert!(out.contains("\"tools\": {"), "{out}");
        assert!(out.contains("\"mode\": \"ask\""), "{out}");
        assert!(
            serde_json::from_str::<serde_json::Value>(&out).is_ok(),
            "{out}"
        );
    }

    #[test]
    fn a_comment_beside_a_replaced_value_moves_above_the_key() {
        let text = "{\n  agents: {\n    defaults: {\n      sandbox: { mode: 'off' /* I want everything sandboxed */ },\n    },\n  },\n  gateway: {\n    auth: {\n      token: 'abc', // literal, I know\n      mode: 'token',\n    },\n  },\n}\n";
        let doc = Document::parse(text).unwrap();
        doc.set(&p("agents.defaults.sandbox.mode"), &json!("non-main"));
        doc.set(
            &p("gateway.auth.token"),
            &json!({"source": "env", "provider": "default", "id": "T"}),
        );
        doc.settle();
        let out = doc.text();
        assert!(
            out.contains("      // literal, I know\n      token: {"),
            "{out}"
        );
        assert!(
            out.contains("sandbox: { /* I want everything sandboxed */ mode: 'non-main' }"),
            "{out}"
        );
        assert!(out.contains("mode: 'token',"), "{out}");
        let v = Document::parse(&out).unwrap().value();
        assert_eq!(v["gateway"]["auth"]["token"]["id"], "T");
        assert_eq!(v["agents"]["defaults"]["sandbox"]["mode"], "non-main");
    }
}
