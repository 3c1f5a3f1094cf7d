//! A config's text read token by token, as the parser reads it, without building its tree:
//! the parser's grammar with the same options (comments skipped, trailing commas, loose keys,
//! its nesting limit), told as events. A big file's abstract tree costs several times the
//! file; the plan's read-back check and the masking of secrets in a diff need none. A text
//! the walk does not follow to the end (an error, or a corner it does not know) it leaves to
//! the abstract tree, which says exactly why.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;

use jsonc_parser::ast::{NumberLit, Value as Ast};
use jsonc_parser::tokens::Token;
use jsonc_parser::{ParseOptions, Scanner, ScannerOptions};
use serde_json::Value;

/// The parser's nesting limit (its `maximum_nesting_depth`, counted the way it counts).
const MAX_DEPTH: usize = 512;

/// What the walk meets, in the text's order.
pub trait Events<'a> {
    /// A string, number, boolean or null value, and its span in the text.
    fn scalar(&mut self, token: Token<'a>, span: Range<usize>);
    /// An object (or an array) opens as the next value.
    fn open(&mut self, array: bool);
    /// The key of the innermost object's next value.
    fn key(&mut self, name: Cow<'a, str>);
    /// The innermost object or array closes.
    fn close(&mut self);
}

/// Walk `text` (BOM stripped), one object at the top, telling `events`. None: the walk
/// stopped short (an error, a top level that is no object, a grammar corner).
pub fn walk<'a>(text: &'a str, options: &ParseOptions, events: &mut dyn Events<'a>) -> Option<()> {
    let mut walk = Walk {
        scanner: Scanner::new(
            text,
            &ScannerOptions {
                allow_single_quoted_strings: options.allow_single_quoted_strings,
                allow_hexadecimal_numbers: options.allow_hexadecimal_numbers,
                allow_unary_plus_numbers: options.allow_unary_plus_numbers,
                allow_bare_decimal_point_numbers: options.allow_bare_decimal_point_numbers,
                allow_non_finite_numbers: options.allow_non_finite_numbers,
                allow_extended_string_escapes: options.allow_extended_string_escapes,
            },
        ),
        options,
        events,
        token: None,
        depth: 0,
    };
    walk.next()?;
    if !matches!(walk.token, Some(Token::OpenBrace)) {
        return None;
    }
    walk.value()?;
    walk.next()?;
    // A second value after the top level is an error.
    walk.token.is_none().then_some(())
}

/// Whether `text` (BOM stripped) reads as `value` (duplicate keys last-wins). None: the walk
/// stopped short (a text that does not parse, or a blank one): the caller reads it whole.
pub fn reads_as(text: &str, value: &Value, options: &ParseOptions) -> Option<bool> {
    let mut compare = Compare {
        top: value,
        frames: Vec::new(),
        answer: None,
    };
    walk(text, options, &mut compare)?;
    compare.answer
}

struct Walk<'a, 'o, 'e> {
    scanner: Scanner<'a>,
    options: &'o ParseOptions,
    events: &'e mut dyn Events<'a>,
    /// The token the walk stands on (None: the end of the text).
    token: Option<Token<'a>>,
    /// Open objects, properties and arrays, as the parser counts them against its limit.
    depth: usize,
}

impl<'a> Walk<'a, '_, '_> {
    /// To the next token that is no comment.
    fn next(&mut self) -> Option<()> {
        loop {
            match self.scanner.scan().ok()? {
                Some(Token::CommentLine(_) | Token::CommentBlock(_))
                    if self.options.allow_comments => {}
                Some(Token::CommentLine(_) | Token::CommentBlock(_)) => return None,
                token => {
                    self.token = token;
                    return Some(());
                }
            }
        }
    }

    /// The value starting at the current token, walked to its last token.
    fn value(&mut self) -> Option<()> {
        if self.depth > MAX_DEPTH {
            return None;
        }
        let span = self.scanner.token_start()..self.scanner.token_end();
        match self.token.take()? {
            Token::OpenBrace => self.object(),
            Token::OpenBracket => self.array(),
            t @ (Token::String(_) | Token::Boolean(_) | Token::Null | Token::Number(_)) => {
                self.events.scalar(t, span);
                Some(())
            }
            _ => None,
        }
    }

    /// After an entry: a comma (then the closing token is allowed only with trailing commas)
    /// or the closing token itself. A missing comma is an error, as the parser's options say.
    fn after_entry(&mut self, close: &Token) -> Option<()> {
        self.next()?;
        match &self.token {
            Some(Token::Comma) => {
                self.next()?;
                let closes = self.token.as_ref() == Some(close);
                (!closes || self.options.allow_trailing_commas).then_some(())
            }
            Some(t) if t == close => Some(()),
            _ => None,
        }
    }

    fn object(&mut self) -> Option<()> {
        self.events.open(false);
        self.depth += 1;
        self.next()?;
        let loose = self.options.allow_loose_object_property_names;
        loop {
            let name: Cow<'a, str> = match self.token.take()? {
                Token::CloseBrace => break,
                Token::String(s) => s,
                Token::Word(w) | Token::Number(w) if loose => Cow::Borrowed(w),
                // JSON5 reads `true`, `false` and `null` as key names too.
                Token::Boolean(b) if loose => Cow::Borrowed(if b { "true" } else { "false" }),
                Token::Null if loose => Cow::Borrowed("null"),
                _ => return None,
            };
            self.next()?;
            if self.token != Some(Token::Colon) {
                return None;
            }
            self.next()?;
            self.events.key(name);
            self.depth += 1;
            self.value()?;
            self.depth -= 1;
            self.after_entry(&Token::CloseBrace)?;
        }
        self.depth -= 1;
        self.events.close();
        Some(())
    }

    fn array(&mut self) -> Option<()> {
        self.events.open(true);
        self.depth += 1;
        self.next()?;
        loop {
            match &self.token {
                Some(Token::CloseBracket) => break,
                None => return None,
                Some(_) => {}
            }
            self.value()?;
            self.after_entry(&Token::CloseBracket)?;
        }
        self.depth -= 1;
        self.events.close();
        Some(())
    }
}

/// The comparison of a text with a value, one event at a time.
struct Compare<'a, 'v> {
    top: &'v Value,
    frames: Vec<Frame<'a, 'v>>,
    answer: Option<bool>,
}

enum Frame<'a, 'v> {
    Object {
        expected: Option<&'v serde_json::Map<String, Value>>,
        /// Each key's answer; a later duplicate replaces an earlier one (last wins).
        seen: HashMap<Cow<'a, str>, bool>,
        key: Option<Cow<'a, str>>,
    },
    Array {
        expected: Option<&'v Vec<Value>>,
        n: usize,
        same: bool,
    },
}

impl<'a, 'v> Compare<'a, 'v> {
    /// What the next value is compared with (None: nothing is expected there).
    fn expected(&self) -> Option<&'v Value> {
        match self.frames.last() {
            None => Some(self.top),
            Some(Frame::Object { expected, key, .. }) => (*expected)?.get(key.as_deref()?),
            Some(Frame::Array { expected, n, .. }) => (*expected)?.get(*n),
        }
    }

    fn answer(&mut self, same: bool) {
        match self.frames.last_mut() {
            None => self.answer = Some(same),
            Some(Frame::Object { seen, key, .. }) => {
                if let Some(k) = key.take() {
                    seen.insert(k, same);
                }
            }
            Some(Frame::Array { n, same: all, .. }) => {
                *all &= same;
                *n += 1;
            }
        }
    }
}

impl<'a> Events<'a> for Compare<'a, '_> {
    fn scalar(&mut self, token: Token<'a>, _: Range<usize>) {
        let expected = self.expected();
        let same = match token {
            Token::String(s) => matches!(expected, Some(Value::String(t)) if *t == *s),
            Token::Boolean(b) => matches!(expected, Some(Value::Bool(c)) if *c == b),
            Token::Null => matches!(expected, Some(Value::Null)),
            // Hex, `+1`, `.5`, `1e999`: read exactly as the library reads them.
            Token::Number(n) => expected.is_some_and(|v| {
                Value::from(Ast::NumberLit(NumberLit {
                    range: jsonc_parser::common::Range { start: 0, end: 0 },
                    value: n,
                })) == *v
            }),
            _ => false,
        };
        self.answer(same);
    }

    fn open(&mut self, array: bool) {
        let expected = self.expected();
        self.frames.push(if array {
            Frame::Array {
                expected: expected.and_then(Value::as_array),
                n: 0,
                same: expected.is_some_and(Value::is_array),
            }
        } else {
            Frame::Object {
                expected: expected.and_then(Value::as_object),
                seen: HashMap::new(),
                key: None,
            }
        });
    }

    fn key(&mut self, name: Cow<'a, str>) {
        if let Some(Frame::Object { key, .. }) = self.frames.last_mut() {
            *key = Some(name);
        }
    }

    fn close(&mut self) {
        let same = match self.frames.pop() {
            Some(Frame::Object { expected, seen, .. }) => {
                expected.is_some_and(|m| m.len() == seen.len()) && seen.values().all(|s| *s)
            }
            Some(Frame::Array { expected, n, same }) => {
                same && expected.is_some_and(|a| a.len() == n)
            }
            None => false,
        };
        self.answer(same);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::document::{lone_carriage_return, options, parse_value};
    use serde_json::json;

    /// What the abstract tree says: `Some(answer)` where the text parses, None where not.
    fn by_tree(text: &str, value: &Value) -> Option<bool> {
        parse_value(text).ok().map(|read| read == *value)
    }

    /// A seeded random number below `n`, the same on every run.
    pub fn rand() -> impl FnMut(usize) -> usize {
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n.max(1) as u64) as usize
        }
    }

    /// `n` texts made from `base` by deleting, inserting and swapping bytes that matter to
    /// the grammar (those that are no longer UTF-8 left out).
    pub fn mutated(
        base: &[String],
        n: usize,
        rand: &mut impl FnMut(usize) -> usize,
    ) -> Vec<String> {
        let grammar = b"{}[],:'\"/*\n \\ax1-.+e";
        let mut out = Vec::new();
        for _ in 0..n {
            let mut t = base[rand(base.len())].clone().into_bytes();
            for _ in 0..1 + rand(3) {
                let at = rand(t.len() + 1);
                match rand(3) {
                    0 if at < t.len() => {
                        t.remove(at);
                    }
                    1 if at < t.len() => t[at] = grammar[rand(grammar.len())],
                    _ => t.insert(at, grammar[rand(grammar.len())]),
                }
            }
            if let Ok(s) = String::from_utf8(t) {
                out.push(s);
            }
        }
        out
    }

    /// Every path of up to `depth` keys made of `segs`, the root first.
    pub fn paths_of(segs: &[&str], depth: usize) -> Vec<Vec<String>> {
        let mut paths: Vec<Vec<String>> = vec![Vec::new()];
        let mut longest = paths.clone();
        for _ in 0..depth {
            longest = longest
                .iter()
                .flat_map(|q| {
                    segs.iter()
                        .map(move |s| [q.clone(), vec![s.to_string()]].concat())
                })
                .collect();
            paths.extend(longest.iter().cloned());
        }
        paths
    }

    /// `base` and `n` texts made from it ([`mutated`]), those that parse as the file is read.
    pub fn parsing(base: Vec<String>, n: usize) -> Vec<String> {
        let mut rand = rand();
        let texts = mutated(&base, n, &mut rand);
        base.into_iter()
            .chain(texts)
            .filter(|t| {
                jsonc_parser::parse_to_ast(
                    t,
                    &Default::default(),
                    &crate::domain::document::options(),
                )
                .is_ok()
            })
            .collect()
    }

    /// Every config fixture's text.
    pub fn fixture_texts() -> Vec<String> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/configs");
        std::fs::read_dir(&dir)
            .expect("fixtures")
            .filter_map(|e| std::fs::read_to_string(e.expect("entry").path()).ok())
            .collect()
    }

    /// Wherever the walk answers, the abstract tree gives the same answer; wherever the text
    /// does not parse, the walk does not answer; it answers on every other text but a blank
    /// one. Fixtures and thousands of texts made from them by deleting, inserting and
    /// swapping bytes that matter to the grammar.
    #[test]
    fn the_walk_answers_as_the_abstract_tree_or_not_at_all() {
        let mut texts = fixture_texts();
        texts.extend(
            [
                "{ a: 1, a: 2 }",
                "{ a: 2, a: 2, b: 3 }",
                "{ n: 0x1F, m: +1, o: .5, p: 1e999, q: -0, r: Infinity, s: NaN }",
                "{ s: 'x\\u0041', t: [1, [2, { u: null }]], v: true, 'w\\\n': 1 }",
                "{ true: 1, null: 2, 3: 4, 'a': [,], }",
                "{ a: [1, 2,], b: {}, c: [], /* c */ d: // e\n 5 }",
                "{} {}",
                "[1]",
                "{ a: 1 b: 2 }",
                "{ a: [1 2] }",
            ]
            .map(String::from),
        );
        let deep = format!("{{a:{}1{}}}", "[".repeat(600), "]".repeat(600));
        texts.push(deep);
        let base = texts.clone();
        let mut rand = rand();
        texts.extend(mutated(&base, 10_000, &mut rand));
        let values: Vec<Value> = base
            .iter()
            .filter_map(|t| parse_value(t).ok())
            .chain([json!({"a": 2, "b": 3}), json!({"a": 1}), json!({})])
            .collect();
        let (mut answered, mut agreed_on_errors) = (0, 0);
        for t in &texts {
            let own = parse_value(t).ok();
            // The text's own value, and one other, so both answers are asked.
            let other = &values[rand(values.len())];
            for v in own.iter().chain([other]) {
                // As `document::reads_as` asks it: BOM stripped, old Mac line ends refused.
                let bare = t.strip_prefix('\u{feff}').unwrap_or(t);
                let walked = lone_carriage_return(bare)
                    .is_none()
                    .then(|| reads_as(bare, v, &options()))
                    .flatten();
                match (walked, by_tree(t, v)) {
                    (Some(w), Some(tree)) => {
                        assert_eq!(w, tree, "{t:?} against {v}");
                        answered += 1;
                    }
                    (Some(w), None) => {
                        panic!("the walk answered {w} on a text that does not parse: {t:?}")
                    }
                    (None, None) => agreed_on_errors += 1,
                    // Only a blank text (no object at all) is left to the abstract tree.
                    (None, Some(_)) => {
                        assert!(t.trim().is_empty(), "the walk stopped short on {t:?}")
                    }
                }
            }
        }
        assert!(answered > 3000, "{answered}");
        assert!(agreed_on_errors > 3000, "{agreed_on_errors}");
    }

    #[test]
    fn the_walk_follows_every_text_that_parses_as_an_object() {
        // It stops short only where the text does not parse or is no object (the top-level
        // object of every fixture is followed to its end).
        for t in fixture_texts() {
            if let Ok(v) = parse_value(&t) {
                let t = t.strip_prefix('\u{feff}').unwrap_or(&t);
                if t.trim_start().starts_with(['{', '/']) {
                    assert_eq!(reads_as(t, &v, &options()), Some(true), "{t}");
                }
            }
        }
    }
}
