//! The URI index of one route table: which match entries can possibly match a path.
//!
//! Entries (one per `(rule, match block)` in evaluation order) are bucketed by their
//! URI condition: exact and prefix URIs (and the literal prefix of a regex URI) go
//! into a byte trie, case-sensitive or ASCII case-folded per `ignoreUriCase`; the rest
//! (no URI, regexes without a literal prefix) are always candidates. Walking the trie
//! along the request path yields a few sorted lists of entry numbers, merged in
//! ascending order so the first entry that fully matches is still the first in
//! rule order (first match wins). Nothing is allocated per request.

use super::matcher::{literal_prefix, StrMatcher, UriMatcher};

/// Most lists merged on the stack; beyond this the caller falls back to a scan.
const MAX_LISTS: usize = 32;

#[derive(Debug, Default, Clone)]
struct Node {
    /// Sorted by byte.
    edges: Vec<(u8, u32)>,
    /// Entries whose prefix ends here (sorted).
    prefix: Vec<u32>,
    /// Entries whose exact path ends here (sorted).
    exact: Vec<u32>,
}

#[derive(Debug, Clone)]
struct Trie {
    nodes: Vec<Node>,
    fold: bool,
}

impl Trie {
    fn new(fold: bool) -> Trie {
        Trie {
            nodes: vec![Node::default()],
            fold,
        }
    }

    fn node_for(&mut self, key: &str) -> usize {
        let mut cur = 0usize;
        for &b in key.as_bytes() {
            let b = if self.fold { b.to_ascii_lowercase() } else { b };
            let next = match self.nodes.get(cur) {
                Some(n) => match n.edges.binary_search_by_key(&b, |e| e.0) {
                    Ok(i) => n.edges.get(i).map(|e| e.1 as usize),
                    Err(_) => None,
                },
                None => None,
            };
            cur = match next {
                Some(n) => n,
                None => {
                    let id = self.nodes.len();
                    self.nodes.push(Node::default());
                    if let Some(n) = self.nodes.get_mut(cur) {
                        let pos = n.edges.partition_point(|e| e.0 < b);
                        n.edges.insert(pos, (b, id as u32));
                    }
                    id
                }
            };
        }
        cur
    }

    fn is_empty(&self) -> bool {
        self.nodes.len() == 1
            && self
                .nodes
                .first()
                .is_some_and(|n| n.prefix.is_empty() && n.exact.is_empty())
    }

    /// Pushes the candidate lists for `path`; false when there are too many lists.
    fn collect<'s>(&'s self, path: &str, out: &mut Lists<'s>) -> bool {
        let mut cur = match self.nodes.first() {
            Some(n) => n,
            None => return true,
        };
        let bytes = path.as_bytes();
        let mut depth = 0usize;
        loop {
            if !cur.prefix.is_empty() && !out.push(&cur.prefix) {
                return false;
            }
            if depth == bytes.len() {
                if !cur.exact.is_empty() && !out.push(&cur.exact) {
                    return false;
                }
                return true;
            }
            let Some(&b) = bytes.get(depth) else {
                return true;
            };
            let b = if self.fold { b.to_ascii_lowercase() } else { b };
            let next = match cur.edges.binary_search_by_key(&b, |e| e.0) {
                Ok(i) => cur.edges.get(i).and_then(|e| self.nodes.get(e.1 as usize)),
                Err(_) => None,
            };
            match next {
                Some(n) => cur = n,
                None => return true,
            }
            depth += 1;
        }
    }
}

/// Sorted lists of entry numbers, on the stack.
pub(crate) struct Lists<'s> {
    lists: [&'s [u32]; MAX_LISTS],
    len: usize,
}

impl<'s> Lists<'s> {
    fn new() -> Self {
        Lists {
            lists: [&[]; MAX_LISTS],
            len: 0,
        }
    }

    fn push(&mut self, l: &'s [u32]) -> bool {
        match self.lists.get_mut(self.len) {
            Some(slot) => {
                *slot = l;
                self.len += 1;
                true
            }
            None => false,
        }
    }

    /// Pops the smallest head among the lists (k-way merge; k is small).
    #[inline]
    fn next_min(&mut self) -> Option<u32> {
        let live = self.lists.get_mut(..self.len)?;
        let mut best: Option<(usize, u32)> = None;
        for (i, l) in live.iter().enumerate() {
            if let Some(&h) = l.first() {
                if best.is_none_or(|(_, b)| h < b) {
                    best = Some((i, h));
                }
            }
        }
        let (i, v) = best?;
        if let Some(l) = live.get_mut(i) {
            *l = l.get(1..).unwrap_or(&[]);
        }
        Some(v)
    }
}

/// The candidate entries for one path, in ascending order. Lives on the stack
/// (no allocation per request), hence the large variant.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Candidates<'s> {
    Merge(Lists<'s>),
    /// Too many lists: every entry is a candidate.
    All(std::ops::Range<u32>),
}

impl Iterator for Candidates<'_> {
    type Item = u32;
    #[inline]
    fn next(&mut self) -> Option<u32> {
        match self {
            Candidates::Merge(l) => l.next_min(),
            Candidates::All(r) => r.next(),
        }
    }
}

/// The index of one route table.
#[derive(Debug, Clone)]
pub(crate) struct UriIndex {
    sensitive: Trie,
    folded: Trie,
    /// Entries that are candidates for every path (sorted).
    always: Vec<u32>,
    entries: u32,
}

impl UriIndex {
    /// Builds the index; `uris[i]` is the URI condition of entry `i` (None: any path).
    pub(crate) fn build<'u>(uris: impl Iterator<Item = Option<&'u UriMatcher>>) -> UriIndex {
        let mut idx = UriIndex {
            sensitive: Trie::new(false),
            folded: Trie::new(true),
            always: Vec::new(),
            entries: 0,
        };
        for (i, u) in uris.enumerate() {
            let i = i as u32;
            idx.entries = i + 1;
            let Some(u) = u else {
                idx.always.push(i);
                continue;
            };
            let trie = if u.ignore_case && !matches!(u.m, StrMatcher::Regex(_)) {
                &mut idx.folded
            } else {
                &mut idx.sensitive
            };
            match &u.m {
                StrMatcher::Exact(e) => {
                    let n = trie.node_for(e);
                    if let Some(n) = trie.nodes.get_mut(n) {
                        n.exact.push(i);
                    }
                }
                StrMatcher::Prefix(p) => {
                    let n = trie.node_for(p);
                    if let Some(n) = trie.nodes.get_mut(n) {
                        n.prefix.push(i);
                    }
                }
                StrMatcher::Regex(r) => {
                    let lit = literal_prefix(&r.src);
                    if lit.is_empty() {
                        idx.always.push(i);
                    } else {
                        let n = trie.node_for(&lit);
                        if let Some(n) = trie.nodes.get_mut(n) {
                            n.prefix.push(i);
                        }
                    }
                }
                StrMatcher::Present => idx.always.push(i),
            }
        }
        idx
    }

    /// The entries whose URI condition may match `path`, ascending.
    #[inline]
    pub(crate) fn candidates<'s>(&'s self, path: &str) -> Candidates<'s> {
        let mut lists = Lists::new();
        let ok = (self.always.is_empty() || lists.push(&self.always))
            && (self.sensitive.is_empty() || self.sensitive.collect(path, &mut lists))
            && (self.folded.is_empty() || self.folded.collect(path, &mut lists));
        if ok {
            Candidates::Merge(lists)
        } else {
            Candidates::All(0..self.entries)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::StringMatch;

    fn uri(kind: &str, v: &str, fold: bool) -> UriMatcher {
        let mut m = StringMatch::default();
        match kind {
            "exact" => m.exact = Some(v.into()),
            "prefix" => m.prefix = Some(v.into()),
            _ => m.regex = Some(v.into()),
        }
        UriMatcher {
            m: StrMatcher::compile(&m).unwrap(),
            ignore_case: fold,
        }
    }

    #[test]
    fn candidates_are_sorted_and_complete() {
        let us = [
            Some(uri("prefix", "/api", false)),
            None,
            Some(uri("exact", "/api/x", false)),
            Some(uri("prefix", "/API/", true)),
            Some(uri("regex", "/api/[a-z]+", false)),
            Some(uri("prefix", "/other", false)),
            Some(uri("regex", ".*", false)),
        ];
        let idx = UriIndex::build(us.iter().map(Option::as_ref));
        let got: Vec<u32> = idx.candidates("/api/x").collect();
        assert_eq!(got, vec![0, 1, 2, 3, 4, 6]);
        let got: Vec<u32> = idx.candidates("/api/xy").collect();
        assert_eq!(got, vec![0, 1, 3, 4, 6]);
        let got: Vec<u32> = idx.candidates("/").collect();
        assert_eq!(got, vec![1, 6]);
    }
}
