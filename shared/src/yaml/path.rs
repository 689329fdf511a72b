//! Field paths (`spec.http[0].match[0].headers.end-user.exact`) and the
//! position table that maps them to source lines.

use std::collections::HashMap;

/// Appends a mapping key to a path: `spec` + `http` → `spec.http`. Keys that
/// are not plain identifiers are quoted: `metadata.labels["app.kubernetes.io/name"]`.
pub fn join_key(base: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    let mut s = String::with_capacity(base.len() + key.len() + 4);
    s.push_str(base);
    if plain {
        if !base.is_empty() {
            s.push('.');
        }
        s.push_str(key);
    } else {
        s.push('[');
        s.push_str(&serde_json::Value::String(key.to_owned()).to_string());
        s.push(']');
    }
    s
}

/// Appends a sequence index: `spec.http` + 0 → `spec.http[0]`.
pub fn join_index(base: &str, index: usize) -> String {
    format!("{base}[{index}]")
}

/// Field path → (line, column), both 1-based, for one document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Positions {
    map: HashMap<String, (u32, u32)>,
}

impl Positions {
    pub fn insert(&mut self, path: String, line: u32, col: u32) {
        self.map.entry(path).or_insert((line, col));
    }

    /// The exact position of `path`.
    pub fn get(&self, path: &str) -> Option<(u32, u32)> {
        self.map.get(path).copied()
    }

    /// The line of `path`, or of its nearest ancestor that has one (a missing
    /// field is reported where its parent is).
    pub fn line_of(&self, path: &str) -> Option<u32> {
        let mut p = path;
        loop {
            if let Some((line, _)) = self.map.get(p) {
                return Some(*line);
            }
            if p.is_empty() {
                return None;
            }
            p = parent(p);
        }
    }

    /// Moves every position by `lines` (used when a document is parsed apart from its stream).
    pub fn shift(&mut self, lines: u32) {
        for v in self.map.values_mut() {
            v.0 += lines;
        }
    }

    /// Keeps the entries below `prefix` (e.g. `items[3]`), rewritten relative to it.
    pub fn subtree(&self, prefix: &str) -> Positions {
        let mut out = Positions::default();
        for (k, v) in &self.map {
            if k == prefix {
                out.map.insert(String::new(), *v);
            } else if let Some(rest) = k.strip_prefix(prefix) {
                if let Some(rest) = rest.strip_prefix('.') {
                    out.map.insert(rest.to_owned(), *v);
                } else if rest.starts_with('[') {
                    // `items[3][0]` cannot happen for objects; keep quoted keys.
                    out.map.insert(rest.to_owned(), *v);
                }
            }
        }
        out
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// The parent of a path: `a.b[0].c` → `a.b[0]` → `a.b` → `a` → ``.
pub fn parent(path: &str) -> &str {
    let bytes = path.as_bytes();
    let mut i = bytes.len();
    let mut in_quote = false;
    while i > 0 {
        i -= 1;
        match bytes[i] {
            b'"' => in_quote = !in_quote,
            b'.' if !in_quote => return &path[..i],
            b'[' if !in_quote => return &path[..i],
            _ => {}
        }
    }
    ""
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_plain_and_quoted_keys() {
        assert_eq!(join_key("", "spec"), "spec");
        assert_eq!(join_key("spec", "http"), "spec.http");
        assert_eq!(join_index("spec.http", 2), "spec.http[2]");
        assert_eq!(
            join_key("metadata.labels", "app.kubernetes.io/name"),
            "metadata.labels[\"app.kubernetes.io/name\"]"
        );
    }

    #[test]
    fn parent_walks_up() {
        assert_eq!(
            parent("spec.http[0].route[1].weight"),
            "spec.http[0].route[1]"
        );
        assert_eq!(parent("spec.http[0]"), "spec.http");
        assert_eq!(parent("metadata.labels[\"a.b\"]"), "metadata.labels");
        assert_eq!(parent("spec"), "");
    }

    #[test]
    fn line_of_falls_back_to_ancestor() {
        let mut p = Positions::default();
        p.insert("spec".into(), 3, 1);
        p.insert("spec.http[0]".into(), 5, 3);
        assert_eq!(p.line_of("spec.http[0].route[1].weight"), Some(5));
        assert_eq!(p.line_of("spec.tcp"), Some(3));
        assert_eq!(p.line_of("status"), None);
    }
}
