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

/// Most lists merged on the stack; beyond this every entry is a candidate.
const MAX_LISTS: usize = 24;

/// A range of `UriIndex::postings`.
type Span = (u32, u32);

#[derive(Debug, Default, Clone)]
struct Node {
    /// Sorted by byte.
    edges: Vec<(u8, u32)>,
    /// Entries whose prefix ends here (sorted).
    prefix: Span,
    /// Entries whose exact path ends here (sorted).
    exact: Span,
}

#[derive(Debug, Clone)]
struct Trie {
    nodes: Vec<Node>,
    fold: bool,
}

/// A trie under construction: per-node entry lists.
struct TrieBuilder {
    trie: Trie,
    prefix: Vec<Vec<u32>>,
    exact: Vec<Vec<u32>>,
}

impl TrieBuilder {
    fn new(fold: bool) -> TrieBuilder {
        TrieBuilder {
            trie: Trie {
                nodes: vec![Node::default()],
                fold,
            },
            prefix: vec![Vec::new()],
            exact: vec![Vec::new()],
        }
    }

    fn node_for(&mut self, key: &str) -> usize {
        let t = &mut self.trie;
        let mut cur = 0usize;
        for &b in key.as_bytes() {
            let b = if t.fold { b.to_ascii_lowercase() } else { b };
            let next = t.nodes.get(cur).and_then(|n| {
                n.edges
                    .binary_search_by_key(&b, |e| e.0)
                    .ok()
                    .and_then(|i| n.edges.get(i))
                    .map(|e| e.1 as usize)
            });
            cur = match next {
                Some(n) => n,
                None => {
                    let id = t.nodes.len();
                    t.nodes.push(Node::default());
                    self.prefix.push(Vec::new());
                    self.exact.push(Vec::new());
                    if let Some(n) = t.nodes.get_mut(cur) {
                        let pos = n.edges.partition_point(|e| e.0 < b);
                        n.edges.insert(pos, (b, id as u32));
                    }
                    id
                }
            };
        }
        cur
    }

    fn add_prefix(&mut self, key: &str, entry: u32) {
        let n = self.node_for(key);
        if let Some(l) = self.prefix.get_mut(n) {
            l.push(entry);
        }
    }

    fn add_exact(&mut self, key: &str, entry: u32) {
        let n = self.node_for(key);
        if let Some(l) = self.exact.get_mut(n) {
            l.push(entry);
        }
    }

    /// Moves the lists into `postings`.
    fn finish(self, postings: &mut Vec<u32>) -> Trie {
        let mut trie = self.trie;
        let mut put = |l: &[u32]| -> Span {
            let start = postings.len() as u32;
            postings.extend_from_slice(l);
            (start, postings.len() as u32)
        };
        for ((node, p), e) in trie.nodes.iter_mut().zip(&self.prefix).zip(&self.exact) {
            node.prefix = put(p);
            node.exact = put(e);
        }
        trie
    }
}

impl Trie {
    fn is_empty(&self) -> bool {
        self.nodes.len() == 1
            && self
                .nodes
                .first()
                .is_some_and(|n| n.prefix.0 == n.prefix.1 && n.exact.0 == n.exact.1)
    }

    /// Pushes the candidate lists for `path`; false when there are too many lists.
    #[inline]
    fn collect(&self, path: &str, out: &mut Lists) -> bool {
        let mut cur = match self.nodes.first() {
            Some(n) => n,
            None => return true,
        };
        let bytes = path.as_bytes();
        let mut depth = 0usize;
        loop {
            if !out.push(cur.prefix) {
                return false;
            }
            let Some(&b) = bytes.get(depth) else {
                // The whole path consumed: exact matches end here.
                return out.push(cur.exact);
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

/// Sorted runs of entry numbers (spans of the postings), on the stack.
pub(crate) struct Lists {
    spans: [Span; MAX_LISTS],
    len: usize,
}

impl Lists {
    fn new() -> Self {
        Lists {
            spans: [(0, 0); MAX_LISTS],
            len: 0,
        }
    }

    /// Adds a span (empty spans are skipped); false when full.
    #[inline]
    fn push(&mut self, s: Span) -> bool {
        if s.0 == s.1 {
            return true;
        }
        match self.spans.get_mut(self.len) {
            Some(slot) => {
                *slot = s;
                self.len += 1;
                true
            }
            None => false,
        }
    }
}

/// The candidate entries for one path, in ascending order (a k-way merge of the
/// runs; k is small). Lives on the stack: no allocation per request.
pub(crate) struct Candidates<'s> {
    postings: &'s [u32],
    lists: Lists,
    /// Too many runs: every entry is a candidate.
    all: Option<std::ops::Range<u32>>,
}

impl Iterator for Candidates<'_> {
    type Item = u32;
    #[inline]
    fn next(&mut self) -> Option<u32> {
        if let Some(r) = &mut self.all {
            return r.next();
        }
        let live = self.lists.spans.get_mut(..self.lists.len)?;
        if let [one] = live {
            // One run: no merge.
            let v = *self.postings.get(one.0 as usize)?;
            one.0 += 1;
            if one.0 == one.1 {
                self.lists.len = 0;
            }
            return Some(v);
        }
        let mut best: Option<(usize, u32)> = None;
        for (i, sp) in live.iter().enumerate() {
            if sp.0 < sp.1 {
                if let Some(&h) = self.postings.get(sp.0 as usize) {
                    if best.is_none_or(|(_, b)| h < b) {
                        best = Some((i, h));
                    }
                }
            }
        }
        let (i, v) = best?;
        if let Some(sp) = live.get_mut(i) {
            sp.0 += 1;
        }
        Some(v)
    }
}

/// The index of one route table.
#[derive(Debug, Clone)]
pub(crate) struct UriIndex {
    sensitive: Trie,
    folded: Trie,
    /// Entries that are candidates for every path.
    always: Span,
    /// Every run, concatenated.
    postings: Vec<u32>,
    entries: u32,
}

impl UriIndex {
    /// Builds the index; `uris[i]` is the URI condition of entry `i` (None: any path).
    pub(crate) fn build<'u>(uris: impl Iterator<Item = Option<&'u UriMatcher>>) -> UriIndex {
        let mut sensitive = TrieBuilder::new(false);
        let mut folded = TrieBuilder::new(true);
        let mut always = Vec::new();
        let mut entries = 0;
        for (i, u) in uris.enumerate() {
            let i = i as u32;
            entries = i + 1;
            let Some(u) = u else {
                always.push(i);
                continue;
            };
            let trie = if u.ignore_case && !matches!(u.m, StrMatcher::Regex(_)) {
                &mut folded
            } else {
                &mut sensitive
            };
            match &u.m {
                StrMatcher::Exact(e) => trie.add_exact(e, i),
                StrMatcher::Prefix(p) => trie.add_prefix(p, i),
                StrMatcher::Regex(r) => {
                    let lit = literal_prefix(&r.src);
                    if lit.is_empty() {
                        always.push(i);
                    } else {
                        trie.add_prefix(&lit, i);
                    }
                }
                StrMatcher::Present => always.push(i),
            }
        }
        let mut postings = always;
        let always = (0, postings.len() as u32);
        let sensitive = sensitive.finish(&mut postings);
        let folded = folded.finish(&mut postings);
        UriIndex {
            sensitive,
            folded,
            always,
            postings,
            entries,
        }
    }

    /// The entries whose URI condition may match `path`, ascending.
    #[inline]
    pub(crate) fn candidates(&self, path: &str) -> Candidates<'_> {
        let mut lists = Lists::new();
        let ok = lists.push(self.always)
            && (self.sensitive.is_empty() || self.sensitive.collect(path, &mut lists))
            && (self.folded.is_empty() || self.folded.collect(path, &mut lists));
        Candidates {
            postings: &self.postings,
            lists,
            all: (!ok).then_some(0..self.entries),
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

    #[test]
    fn too_many_runs_fall_back_to_every_entry() {
        let deep = "/abcdefghijklmnopqrstuvwxyz0123456789";
        let us: Vec<Option<UriMatcher>> = (1..=deep.len())
            .map(|n| Some(uri("prefix", &deep[..n], false)))
            .collect();
        let idx = UriIndex::build(us.iter().map(Option::as_ref));
        let got: Vec<u32> = idx.candidates(deep).collect();
        assert_eq!(got, (0..deep.len() as u32).collect::<Vec<_>>());
        let got: Vec<u32> = idx.candidates("/abc").collect();
        assert_eq!(got, vec![0, 1, 2, 3]);
    }
}
