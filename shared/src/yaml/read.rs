//! Reading a YAML stream into `serde_json::Value`s with positions.

use super::path::{join_index, join_key, Positions};
use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};
use serde_json::{Map, Number, Value};
use std::collections::HashMap;

/// Bounds that keep hostile input from exhausting memory or stack.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Nodes one document may expand to, aliases included.
    pub max_nodes: usize,
    /// Nesting depth of mappings and sequences.
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_nodes: 1_000_000,
            max_depth: 128,
        }
    }
}

/// A syntax (or limit) error at a 1-based line and column of the whole stream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line} column {col}: {message}")]
pub struct YamlError {
    pub line: u32,
    pub col: u32,
    pub message: String,
}

/// One document of a stream.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedDocument {
    pub value: Value,
    pub positions: Positions,
    /// 1-based line where the document's content starts.
    pub line: u32,
}

/// Parses every document of `text`. A document with a syntax error yields an
/// `Err` and parsing goes on with the next one. Empty documents are dropped.
pub fn parse_stream(text: &str, limits: Limits) -> Vec<Result<ParsedDocument, YamlError>> {
    let mut out = Vec::new();
    for (first_line, chunk) in split_documents(text) {
        match parse_document(&chunk, limits) {
            // An empty document (`---` alone) reads as null: there is nothing in it.
            Ok(Some(doc)) if doc.value.is_null() => {}
            Ok(Some(mut doc)) => {
                doc.positions.shift(first_line - 1);
                doc.line += first_line - 1;
                out.push(Ok(doc));
            }
            Ok(None) => {}
            Err(mut e) => {
                // JSON that YAML's stricter whitespace rules refuse (tabs): read it as JSON.
                if looks_like_json(&chunk) {
                    if let Ok(value) = serde_json::from_str::<Value>(&chunk) {
                        out.push(Ok(ParsedDocument {
                            value,
                            positions: Positions::default(),
                            line: first_line,
                        }));
                        continue;
                    }
                }
                e.line += first_line - 1;
                out.push(Err(e));
            }
        }
    }
    out
}

fn looks_like_json(chunk: &str) -> bool {
    matches!(
        chunk.trim_start().as_bytes().first(),
        Some(b'{') | Some(b'[')
    )
}

/// Splits a stream at `---` lines so that each document parses on its own.
/// Returns (1-based first line, text). Directive lines (`%YAML`) are blanked.
fn split_documents(text: &str) -> Vec<(u32, String)> {
    let mut chunks = Vec::new();
    let mut cur = String::new();
    let mut cur_first = 1u32;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let lineno = i as u32 + 1;
        let is_marker = line.starts_with("---")
            && line[3..]
                .chars()
                .next()
                .is_none_or(|c| c == ' ' || c == '\t' || c == '\n' || c == '\r');
        if is_marker {
            if !cur.trim().is_empty() {
                chunks.push((cur_first, std::mem::take(&mut cur)));
            }
            cur.clear();
            cur_first = lineno;
        }
        if line.starts_with('%') {
            cur.push('\n');
        } else {
            cur.push_str(line);
        }
    }
    if !cur.trim().is_empty() {
        chunks.push((cur_first, cur));
    }
    chunks
}

enum Frame {
    Seq {
        items: Vec<Value>,
        path: String,
        anchor: usize,
    },
    Map {
        map: Map<String, Value>,
        path: String,
        anchor: usize,
        key: Option<(String, u32, u32, bool)>,
        merges: Vec<Value>,
    },
}

struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Value, usize)>,
    positions: Positions,
    root: Option<Value>,
    nodes: usize,
    limits: Limits,
    first_line: Option<u32>,
}

fn err_at(span: &Span, message: impl Into<String>) -> YamlError {
    YamlError {
        line: span.start.line() as u32,
        col: span.start.col() as u32 + 1,
        message: message.into(),
    }
}

fn count_nodes(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(count_nodes).sum::<usize>(),
        Value::Object(m) => 1 + m.values().map(count_nodes).sum::<usize>(),
        _ => 1,
    }
}

impl Builder {
    fn charge(&mut self, n: usize, span: &Span) -> Result<(), YamlError> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > self.limits.max_nodes {
            return Err(err_at(
                span,
                format!(
                    "document expands to more than {} nodes (alias bomb?)",
                    self.limits.max_nodes
                ),
            ));
        }
        Ok(())
    }

    /// Path of the node about to be added to the top frame, recording its position.
    fn child_path(&mut self, span: &Span) -> Result<String, YamlError> {
        let line = span.start.line() as u32;
        let col = span.start.col() as u32 + 1;
        if self.first_line.is_none() {
            self.first_line = Some(line);
        }
        match self.stack.last() {
            None => {
                self.positions.insert(String::new(), line, col);
                Ok(String::new())
            }
            Some(Frame::Seq { items, path, .. }) => {
                let p = join_index(path, items.len());
                self.positions.insert(p.clone(), line, col);
                Ok(p)
            }
            Some(Frame::Map { key, path, .. }) => match key {
                Some((k, kl, kc, _)) => {
                    let p = join_key(path, k);
                    self.positions.insert(p.clone(), *kl, *kc);
                    Ok(p)
                }
                None => Err(err_at(
                    span,
                    "a mapping or sequence cannot be a mapping key",
                )),
            },
        }
    }

    /// Adds a finished value to the top frame (or makes it the root).
    fn add(&mut self, value: Value, anchor: usize, span: &Span) -> Result<(), YamlError> {
        if anchor > 0 {
            let n = count_nodes(&value);
            self.anchors.insert(anchor, (value.clone(), n));
        }
        match self.stack.last_mut() {
            None => self.root = Some(value),
            Some(Frame::Seq { items, .. }) => items.push(value),
            Some(Frame::Map {
                map, key, merges, ..
            }) => match key.take() {
                None => {
                    // This value is a key.
                    let k = match value {
                        Value::String(s) => s,
                        Value::Null => "null".to_owned(),
                        Value::Bool(b) => b.to_string(),
                        Value::Number(n) => n.to_string(),
                        _ => {
                            return Err(err_at(
                                span,
                                "a mapping or sequence cannot be a mapping key",
                            ))
                        }
                    };
                    let line = span.start.line() as u32;
                    let col = span.start.col() as u32 + 1;
                    *key = Some((k, line, col, false));
                }
                Some((k, _, _, is_merge)) => {
                    if is_merge {
                        merges.push(value);
                    } else if map.contains_key(&k) {
                        return Err(err_at(span, format!("duplicate mapping key {k:?}")));
                    } else {
                        map.insert(k, value);
                    }
                }
            },
        }
        Ok(())
    }

    fn on_scalar(
        &mut self,
        text: &str,
        style: ScalarStyle,
        anchor: usize,
        tag: Option<&Tag>,
        span: &Span,
    ) -> Result<(), YamlError> {
        self.charge(1, span)?;
        let is_key = matches!(self.stack.last(), Some(Frame::Map { key: None, .. }));
        if is_key {
            // Keys stay as written: `on:` or `y:` is a key named "on" or "y".
            let value = Value::String(text.to_owned());
            let merge = style == ScalarStyle::Plain && text == "<<";
            self.add(value, anchor, span)?;
            if merge {
                if let Some(Frame::Map { key: Some(k), .. }) = self.stack.last_mut() {
                    k.3 = true;
                }
            }
            return Ok(());
        }
        let value = resolve_scalar(text, style, tag).map_err(|m| err_at(span, m))?;
        let _ = self.child_path(span)?;
        self.add(value, anchor, span)
    }

    fn on_alias(&mut self, id: usize, span: &Span) -> Result<(), YamlError> {
        let Some((value, n)) = self.anchors.get(&id).map(|(v, n)| (v.clone(), *n)) else {
            return Err(err_at(span, "alias to an unknown anchor"));
        };
        self.charge(n, span)?;
        let is_key = matches!(self.stack.last(), Some(Frame::Map { key: None, .. }));
        if !is_key {
            let _ = self.child_path(span)?;
        }
        self.add(value, 0, span)
    }

    fn start(&mut self, seq: bool, anchor: usize, span: &Span) -> Result<(), YamlError> {
        self.charge(1, span)?;
        if self.stack.len() >= self.limits.max_depth {
            return Err(err_at(
                span,
                format!("nesting deeper than {} levels", self.limits.max_depth),
            ));
        }
        let path = self.child_path(span)?;
        self.stack.push(if seq {
            Frame::Seq {
                items: Vec::new(),
                path,
                anchor,
            }
        } else {
            Frame::Map {
                map: Map::new(),
                path,
                anchor,
                key: None,
                merges: Vec::new(),
            }
        });
        Ok(())
    }

    fn end(&mut self, span: &Span) -> Result<(), YamlError> {
        let (value, anchor) = match self.stack.pop() {
            Some(Frame::Seq { items, anchor, .. }) => (Value::Array(items), anchor),
            Some(Frame::Map {
                mut map,
                anchor,
                merges,
                ..
            }) => {
                for m in merges {
                    let sources = match m {
                        Value::Array(a) => a,
                        other => vec![other],
                    };
                    for src in sources {
                        match src {
                            Value::Object(o) => {
                                for (k, v) in o {
                                    map.entry(k).or_insert(v);
                                }
                            }
                            _ => {
                                return Err(err_at(
                                    span,
                                    "a merge key (<<) needs a mapping or a list of mappings",
                                ))
                            }
                        }
                    }
                }
                (Value::Object(map), anchor)
            }
            None => return Err(err_at(span, "unbalanced end of collection")),
        };
        self.add(value, anchor, span)
    }
}

/// Parses one document's text. `Ok(None)` when it holds no document.
fn parse_document(text: &str, limits: Limits) -> Result<Option<ParsedDocument>, YamlError> {
    let mut parser = Parser::new_from_str(text);
    let mut b = Builder {
        stack: Vec::new(),
        anchors: HashMap::new(),
        positions: Positions::default(),
        root: None,
        nodes: 0,
        limits,
        first_line: None,
    };
    let mut docs = 0;
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| YamlError {
            line: e.marker().line() as u32,
            col: e.marker().col() as u32 + 1,
            message: e.info().to_owned(),
        })?;
        match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing | Event::DocumentEnd => {}
            Event::DocumentStart(_) => {
                docs += 1;
                if docs > 1 && b.root.is_some() {
                    return Err(err_at(&span, "a second document without a `---` separator"));
                }
            }
            Event::Alias(id) => b.on_alias(id, &span)?,
            Event::Scalar(v, style, anchor, tag) => {
                b.on_scalar(&v, style, anchor, tag.as_deref(), &span)?
            }
            Event::SequenceStart(anchor, _) => b.start(true, anchor, &span)?,
            Event::MappingStart(anchor, _) => b.start(false, anchor, &span)?,
            Event::SequenceEnd | Event::MappingEnd => b.end(&span)?,
        }
    }
    Ok(b.root.map(|value| ParsedDocument {
        value,
        positions: b.positions,
        line: b.first_line.unwrap_or(1),
    }))
}

/// Resolves a scalar the way Kubernetes' YAML reader does.
fn resolve_scalar(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Result<Value, String> {
    if let Some(tag) = tag {
        if tag.handle == "tag:yaml.org,2002:" || tag.handle == "!!" {
            return match tag.suffix.as_str() {
                "str" => Ok(Value::String(text.to_owned())),
                "null" => Ok(Value::Null),
                "bool" => resolve_bool(text)
                    .map(Value::Bool)
                    .ok_or_else(|| format!("{text:?} is not a bool")),
                "int" => resolve_int(text).ok_or_else(|| format!("{text:?} is not an int")),
                "float" => resolve_float(text)
                    .or_else(|| resolve_int(text))
                    .ok_or_else(|| format!("{text:?} is not a float")),
                // !!binary, !!timestamp and others: keep the text.
                _ => Ok(Value::String(text.to_owned())),
            };
        }
    }
    if style != ScalarStyle::Plain {
        return Ok(Value::String(text.to_owned()));
    }
    Ok(resolve_plain(text))
}

/// Plain-scalar resolution (also used by the emitter to decide on quoting).
pub(crate) fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        _ => {}
    }
    if let Some(b) = resolve_bool(text) {
        return Value::Bool(b);
    }
    if let Some(n) = resolve_int(text) {
        return n;
    }
    if let Some(f) = resolve_float(text) {
        return f;
    }
    Value::String(text.to_owned())
}

fn resolve_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "y" | "Y" | "on" | "On" | "ON" => {
            Some(true)
        }
        "false" | "False" | "FALSE" | "no" | "No" | "NO" | "n" | "N" | "off" | "Off" | "OFF" => {
            Some(false)
        }
        _ => None,
    }
}

fn resolve_int(text: &str) -> Option<Value> {
    let (neg, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if body.is_empty() {
        return None;
    }
    let (radix, digits) = if let Some(h) = body.strip_prefix("0x") {
        (16, h)
    } else if let Some(o) = body.strip_prefix("0o") {
        (8, o)
    } else if let Some(b) = body.strip_prefix("0b") {
        (2, b)
    } else {
        (10, body)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let mag = u64::from_str_radix(digits, radix).ok();
    match (neg, mag) {
        (false, Some(m)) => Some(Value::Number(Number::from(m))),
        (true, Some(m)) if m <= i64::MAX as u64 + 1 => Some(Value::Number(Number::from(
            (m as i128).wrapping_neg() as i64,
        ))),
        // Out of range for 64 bits: keep it as a float, like JSON would.
        _ => text
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number),
    }
}

fn resolve_float(text: &str) -> Option<Value> {
    match text {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF"
        | ".nan" | ".NaN" | ".NAN" => {
            // JSON has no infinities or NaN: keep the text so nothing is lost.
            return Some(Value::String(text.to_owned()));
        }
        _ => {}
    }
    let b = text.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'-') | Some(b'+')) {
        i += 1;
    }
    let mut digits = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
        digits += 1;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
            digits += 1;
        }
    }
    if digits == 0 {
        return None;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if matches!(b.get(i), Some(b'-') | Some(b'+')) {
            i += 1;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    text.parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .map(Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(text: &str) -> ParsedDocument {
        let mut docs = parse_stream(text, Limits::default());
        assert_eq!(docs.len(), 1, "{docs:?}");
        docs.remove(0).unwrap()
    }

    #[test]
    fn parses_values_and_positions() {
        let doc = one("apiVersion: v1\nkind: X\nspec:\n  http:\n  - route:\n    - weight: 90\n      destination: {host: a}\n");
        assert_eq!(
            doc.value,
            json!({"apiVersion": "v1", "kind": "X", "spec": {"http": [{"route": [{"weight": 90, "destination": {"host": "a"}}]}]}})
        );
        assert_eq!(
            doc.positions.get("spec.http[0].route[0].weight"),
            Some((6, 7))
        );
        assert_eq!(
            doc.positions.get("spec.http[0].route[0].destination.host"),
            Some((7, 21))
        );
        assert_eq!(doc.line, 1);
    }

    #[test]
    fn scalars_resolve_like_kubernetes() {
        let doc =
            one("a: yes\nb: '1'\nc: 1.5\nd: ~\ne: 0x10\nf: -3\ng: \"true\"\nh: 1e3\ni: 10s\n");
        assert_eq!(
            doc.value,
            json!({"a": true, "b": "1", "c": 1.5, "d": null, "e": 16, "f": -3, "g": "true", "h": 1000.0, "i": "10s"})
        );
    }

    #[test]
    fn syntax_error_keeps_other_documents() {
        let docs = parse_stream("a: 1\n---\nb: [1, 2\n---\nc: 3\n", Limits::default());
        assert_eq!(docs.len(), 3);
        assert!(docs[0].is_ok());
        let e = docs[1].as_ref().unwrap_err();
        assert!(e.line >= 3, "{e:?}");
        assert_eq!(docs[2].as_ref().unwrap().value, json!({"c": 3}));
        assert_eq!(docs[2].as_ref().unwrap().line, 5);
    }

    #[test]
    fn document_lines_are_stream_lines() {
        let docs = parse_stream("# c\n---\na: 1\n---\n\nb:\n  c: 2\n", Limits::default());
        let d = docs[1].as_ref().unwrap();
        assert_eq!(d.line, 6);
        assert_eq!(d.positions.get("b.c"), Some((7, 3)));
    }

    #[test]
    fn alias_bomb_is_bounded() {
        let mut s = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            s.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n",
                p = i - 1
            ));
        }
        let docs = parse_stream(&s, Limits::default());
        let e = docs[0].as_ref().unwrap_err();
        assert!(e.message.contains("alias bomb"), "{e:?}");
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let s = "[".repeat(10_000);
        let docs = parse_stream(&s, Limits::default());
        let m = &docs[0].as_ref().unwrap_err().message;
        assert!(m.contains("nesting") || m.contains("recursion"), "{m}");
    }

    #[test]
    fn merge_keys_and_aliases() {
        let doc = one("base: &b {x: 1, y: 2}\nder:\n  <<: *b\n  y: 3\n");
        assert_eq!(doc.value["der"], json!({"x": 1, "y": 3}));
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let docs = parse_stream("a: 1\na: 2\n", Limits::default());
        assert!(docs[0].as_ref().unwrap_err().message.contains("duplicate"));
    }

    #[test]
    fn json_with_tabs_falls_back_to_json() {
        let doc = one("{\n\t\"a\": [1,\n\t2]}\n");
        assert_eq!(doc.value, json!({"a": [1, 2]}));
    }
}
