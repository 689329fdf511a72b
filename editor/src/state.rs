//! The workspace: the editor's single source of truth.
//!
//! A [`Workspace`] is an ordered list of [`Doc`]s. Each doc is one YAML document
//! of the multi-document stream shown in the YAML pane, stored together with the
//! model's parse of it (`meshroute_model::load_str`): the typed [`Resource`] (or
//! the raw value for kinds the model does not type), its field positions and its
//! loading diagnostics. Doc text and parse always change together, so everything
//! else (sidebar, forms, problems, simulator, diagram, export) reads the model
//! values, and the YAML pane is the docs' texts joined with `---`.
//!
//! Editing the YAML pane re-splits the stream and re-parses only the documents
//! whose text changed ([`Workspace::apply_text`]); a syntax error leaves the
//! workspace untouched. Forms edit a typed resource and write it back through the
//! model's emitter ([`Workspace::edit_resource`]). No model logic lives here:
//! parsing, validation and export all come from `meshroute_model`.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use meshroute_model::check::{check_local, check_parts};
use meshroute_model::diag::codes;
use meshroute_model::yaml::{self, Limits};
use meshroute_model::{load_str, CheckOptions, Diagnostic, Document, Kind, Loaded, Resource};
use serde_json::Value;

/// Stable identity of a document across edits (keys the sidebar, forms and history).
pub type DocId = u32;

/// The `file` every diagnostic of document `id` carries.
pub fn doc_key(id: DocId) -> String {
    format!("doc{id}")
}

/// The document a diagnostic's `file` names.
pub fn doc_id_of(file: Option<&str>) -> Option<DocId> {
    file?.strip_prefix("doc")?.parse().ok()
}

/// One YAML document of the workspace and the model's parse of it.
#[derive(Clone, Debug)]
pub struct Doc {
    pub id: DocId,
    /// The document's YAML, without the `---` line that separates it from the previous one.
    pub text: Arc<str>,
    /// `load_str(text)`, with `file` = [`doc_key`]`(id)` so diagnostics name the document.
    pub parsed: Arc<Loaded>,
    /// The document's own diagnostics (loading + per-resource validation,
    /// `check_local`), computed once per parse and shared by every copy of the
    /// doc (undo history included): re-validation only recomputes changed documents.
    local: Arc<OnceLock<Vec<Diagnostic>>>,
}

impl PartialEq for Doc {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id && Arc::ptr_eq(&self.parsed, &other.parsed)
    }
}

impl Doc {
    /// Parses `text` through the model. A document with anchors is first read
    /// with the editor's tighter node budget ([`MAX_DOC_NODES`]), so an alias
    /// bomb is refused after 10^5 nodes instead of the model's 10^6.
    pub fn parse(id: DocId, text: &str) -> Doc {
        let key = doc_key(id);
        let parsed = bomb_check(text, &key).unwrap_or_else(|| load_str(text, Some(&key)));
        Doc {
            id,
            text: Arc::from(text),
            parsed: Arc::new(parsed),
            local: Arc::new(OnceLock::new()),
        }
    }

    /// The document's own diagnostics (cached; see [`Doc::local`]'s field).
    pub fn local_diagnostics(&self) -> &[Diagnostic] {
        self.local.get_or_init(|| check_local(&self.parsed))
    }

    /// True once the document's own diagnostics are cached.
    pub fn is_checked(&self) -> bool {
        self.local.get().is_some()
    }

    /// The typed resource, when the document is exactly one object of a kind the model types.
    pub fn resource(&self) -> Option<&Resource> {
        match self.parsed.documents.as_slice() {
            [Document::Resource(r)] => Some(r),
            _ => None,
        }
    }

    /// The document as a value, when it is exactly one object (typed or not).
    pub fn value(&self) -> Option<Value> {
        match self.parsed.documents.as_slice() {
            [d] => Some(d.to_value()),
            _ => None,
        }
    }

    /// The document's kind as written (`VirtualService`, `Service`, `HTTPRoute`, …).
    pub fn kind_name(&self) -> String {
        if let Some(r) = self.resource() {
            return r.kind.as_str().to_owned();
        }
        match self.parsed.documents.as_slice() {
            [Document::Other { raw, .. }] => raw
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            [] => String::new(),
            _ => "List".to_owned(),
        }
    }

    /// The typed kind, if any.
    pub fn kind(&self) -> Option<Kind> {
        self.resource().map(|r| r.kind)
    }

    fn meta(&self, field: &str) -> Option<String> {
        let v = match self.parsed.documents.as_slice() {
            [Document::Resource(r)] => {
                return match field {
                    "name" => r.metadata.name.clone(),
                    _ => r.metadata.namespace.clone(),
                }
            }
            [Document::Other { raw, .. }] => raw,
            _ => return None,
        };
        v.get("metadata")?.get(field)?.as_str().map(str::to_owned)
    }

    /// `metadata.name`.
    pub fn name(&self) -> String {
        self.meta("name").unwrap_or_default()
    }

    /// `metadata.namespace`, if set.
    pub fn namespace(&self) -> Option<String> {
        self.meta("namespace").filter(|s| !s.is_empty())
    }

    /// A one-line label for lists: `reviews (default)`, or what the document is.
    pub fn title(&self) -> String {
        match self.parsed.documents.len() {
            0 => "(empty document)".to_owned(),
            1 => {
                let name = self.name();
                let name = if name.is_empty() {
                    "(no name)".to_owned()
                } else {
                    name
                };
                match self.namespace() {
                    Some(ns) => format!("{name} ({ns})"),
                    None => name,
                }
            }
            n => format!("List of {n} objects"),
        }
    }

    /// The document as the model exports it (one value per object).
    pub fn export_values(&self) -> Vec<Value> {
        self.parsed
            .documents
            .iter()
            .map(Document::to_value)
            .collect()
    }

    /// The document as the model exports it, as YAML.
    pub fn export_yaml(&self) -> String {
        yaml::to_yaml_documents(self.export_values().iter())
    }

    fn has_syntax_error(&self) -> bool {
        self.parsed
            .diagnostics
            .iter()
            .any(|d| d.code == codes::MR001)
    }
}

/// Nodes one document may expand to in the editor (aliases included). A large
/// VirtualService (1,000 rules) is a few 10^4 nodes.
pub const MAX_DOC_NODES: usize = 100_000;

/// For a text with anchors (`&`), the loading result of a document that
/// exceeds [`MAX_DOC_NODES`] (an MR001 syntax error, as the model reports its own
/// budget), else `None`.
fn bomb_check(text: &str, key: &str) -> Option<Loaded> {
    if !text.contains('&') {
        return None;
    }
    let limits = Limits {
        max_nodes: MAX_DOC_NODES,
        ..Limits::default()
    };
    let e = yaml::parse_stream(text, limits)
        .into_iter()
        .filter_map(Result::err)
        .find(|e| e.message.contains("nodes"))?;
    let mut out = Loaded::default();
    out.diagnostics.push(
        Diagnostic::error(
            codes::MR001,
            format!(
                "YAML syntax error at line {} column {}: {}",
                e.line, e.col, e.message
            ),
        )
        .at(Some(key), Some(e.line)),
    );
    Some(out)
}

/// A YAML syntax error, at a line and column of the YAML pane (1-based).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: u32,
    pub col: u32,
    pub message: String,
}

/// Ordered documents. Cloning is cheap (texts and parses are shared).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Workspace {
    pub docs: Vec<Doc>,
    pub next_id: DocId,
}

/// True for a document separator line (`---` then nothing but blanks or a comment).
fn is_plain_marker(line: &str) -> bool {
    is_marker(line) && {
        let rest = line[3..].trim();
        rest.is_empty() || rest.starts_with('#')
    }
}

/// True for a line that starts a document (`---` followed by a blank or the end),
/// the rule the model's YAML reader uses.
fn is_marker(line: &str) -> bool {
    line.starts_with("---")
        && line[3..]
            .chars()
            .next()
            .is_none_or(|c| c == ' ' || c == '\t' || c == '\n' || c == '\r')
}

/// Splits a stream into (first line of the body, body). A plain `---` line is not
/// part of the body; a `--- value` line is. Blank documents are dropped.
pub fn split_stream(text: &str) -> Vec<(u32, &str)> {
    let mut out = Vec::new();
    let mut start = 0usize; // byte offset of the current body
    let mut start_line = 1u32;
    let mut offset = 0usize;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let lineno = i as u32 + 1;
        if is_marker(line) {
            let body = &text[start..offset];
            if !body.trim().is_empty() {
                out.push((start_line, body));
            }
            if is_plain_marker(line) {
                start = offset + line.len();
                start_line = lineno + 1;
            } else {
                start = offset;
                start_line = lineno;
            }
        }
        offset += line.len();
    }
    let body = &text[start..];
    if !body.trim().is_empty() {
        out.push((start_line, body));
    }
    out
}

impl Workspace {
    /// A workspace holding the documents of `text` (syntax errors are kept in the docs).
    pub fn from_text_lenient(text: &str) -> Workspace {
        let mut ws = Workspace::default();
        ws.add_text(text);
        ws
    }

    /// The YAML pane: every document's text, separated by `---` lines.
    pub fn text(&self) -> String {
        self.text_and_starts().0
    }

    /// First line (1-based) of each document's text in [`Workspace::text`].
    pub fn starts(&self) -> Vec<u32> {
        self.text_and_starts().1
    }

    /// Both at once.
    pub fn text_and_starts(&self) -> (String, Vec<u32>) {
        let mut out = String::new();
        let mut starts = Vec::with_capacity(self.docs.len());
        let mut line = 1u32;
        for (i, d) in self.docs.iter().enumerate() {
            if i > 0 {
                if !out.ends_with('\n') {
                    out.push('\n');
                    line += 1;
                }
                let first = d.text.split_inclusive('\n').next().unwrap_or("");
                if !is_marker(first) || is_plain_marker(first) {
                    out.push_str("---\n");
                    line += 1;
                }
            }
            starts.push(line);
            out.push_str(&d.text);
            line += d.text.matches('\n').count() as u32;
        }
        (out, starts)
    }

    /// The whole workspace as the model exports it: one multi-document YAML stream.
    pub fn export_yaml(&self) -> String {
        let values: Vec<Value> = self.docs.iter().flat_map(Doc::export_values).collect();
        yaml::to_yaml_documents(values.iter())
    }

    /// The workspace for a new YAML pane text. Documents whose text did not change
    /// keep their parse (and id); only changed ones are parsed again. Any syntax
    /// error returns `Err` with pane positions, and the caller keeps `self`.
    pub fn apply_text(&self, text: &str) -> Result<Workspace, Vec<SyntaxError>> {
        let chunks = split_stream(text);
        let mut used = vec![false; self.docs.len()];
        let mut slots: Vec<Option<Doc>> = vec![None; chunks.len()];
        // Same text at the same position, then the same text anywhere (moved).
        for (i, (_, body)) in chunks.iter().enumerate() {
            if let Some(d) = self.docs.get(i) {
                if !used[i] && *d.text == **body {
                    used[i] = true;
                    slots[i] = Some(d.clone());
                }
            }
        }
        let mut by_text: HashMap<&str, Vec<usize>> = HashMap::new();
        for (j, d) in self.docs.iter().enumerate() {
            if !used[j] {
                by_text.entry(&d.text).or_default().push(j);
            }
        }
        for (i, (_, body)) in chunks.iter().enumerate() {
            if slots[i].is_some() {
                continue;
            }
            if let Some(js) = by_text.get_mut(body) {
                while let Some(j) = js.pop() {
                    if !used[j] {
                        used[j] = true;
                        slots[i] = Some(self.docs[j].clone());
                        break;
                    }
                }
            }
        }
        // Changed documents: parse, keeping the id of the document they replace.
        let mut next_id = self.next_id;
        let mut errors = Vec::new();
        let mut docs = Vec::with_capacity(chunks.len());
        for (i, ((line, body), slot)) in chunks.iter().zip(slots).enumerate() {
            let doc = match slot {
                Some(d) => d,
                None => {
                    let id = match self.docs.get(i) {
                        Some(d) if !used[i] => {
                            used[i] = true;
                            d.id
                        }
                        _ => {
                            next_id += 1;
                            next_id
                        }
                    };
                    let d = Doc::parse(id, body);
                    if d.has_syntax_error() {
                        errors.extend(syntax_errors(&d, body, *line));
                    }
                    d
                }
            };
            docs.push(doc);
        }
        if errors.is_empty() {
            Ok(Workspace { docs, next_id })
        } else {
            Err(errors)
        }
    }

    fn fresh_id(&mut self) -> DocId {
        self.next_id += 1;
        self.next_id
    }

    /// Appends the documents of `text` (a stream); returns their ids.
    pub fn add_text(&mut self, text: &str) -> Vec<DocId> {
        let mut ids = Vec::new();
        for (_, body) in split_stream(text) {
            let id = self.fresh_id();
            self.docs.push(Doc::parse(id, body));
            ids.push(id);
        }
        ids
    }

    pub fn index_of(&self, id: DocId) -> Option<usize> {
        self.docs.iter().position(|d| d.id == id)
    }

    pub fn doc(&self, id: DocId) -> Option<&Doc> {
        self.docs.iter().find(|d| d.id == id)
    }

    /// Replaces the text of document `id` (parsing it). False when `id` is not
    /// in the workspace or the text is unchanged.
    pub fn set_doc_text(&mut self, id: DocId, text: &str) -> bool {
        match self.index_of(id) {
            Some(i) if *self.docs[i].text != *text => {
                self.docs[i] = Doc::parse(id, text);
                true
            }
            _ => false,
        }
    }

    /// Edits the typed resource of document `id` and writes it back through the
    /// model's emitter (unknown fields are kept). False if it has none.
    pub fn edit_resource(&mut self, id: DocId, f: impl FnOnce(&mut Resource)) -> bool {
        let Some(mut r) = self.doc(id).and_then(|d| d.resource()).cloned() else {
            return false;
        };
        f(&mut r);
        let text = r.to_yaml();
        self.set_doc_text(id, &text)
    }

    /// Edits document `id` as a JSON value (any single object, typed or not).
    pub fn edit_value(&mut self, id: DocId, f: impl FnOnce(&mut Value)) -> bool {
        let Some(mut v) = self.doc(id).and_then(Doc::value) else {
            return false;
        };
        f(&mut v);
        let text = yaml::to_yaml(&v);
        self.set_doc_text(id, &text)
    }

    /// Sets `metadata.name` (or `metadata.namespace`); an empty namespace removes it.
    pub fn set_meta(&mut self, id: DocId, field: &str, value: &str) -> bool {
        self.edit_value(id, |v| {
            let Some(obj) = v.as_object_mut() else { return };
            let meta = obj
                .entry("metadata")
                .or_insert_with(|| Value::Object(Default::default()));
            if let Some(m) = meta.as_object_mut() {
                if value.is_empty() && field == "namespace" {
                    m.remove(field);
                } else {
                    m.insert(field.to_owned(), Value::String(value.to_owned()));
                }
            }
        })
    }

    pub fn remove(&mut self, id: DocId) -> bool {
        let before = self.docs.len();
        self.docs.retain(|d| d.id != id);
        self.docs.len() != before
    }

    /// Inserts a copy named `<name>-copy` after document `id`.
    pub fn duplicate(&mut self, id: DocId) -> Option<DocId> {
        let i = self.index_of(id)?;
        let src = self.docs[i].clone();
        let new_id = self.fresh_id();
        let text = match src.value() {
            Some(mut v) => {
                let name = format!("{}-copy", src.name());
                if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
                    m.insert("name".into(), Value::String(name));
                }
                yaml::to_yaml(&v)
            }
            None => src.text.to_string(),
        };
        self.docs.insert(i + 1, Doc::parse(new_id, &text));
        Some(new_id)
    }

    /// Every object of the workspace, in order, as one input (a copy: the checks
    /// themselves borrow the documents, see [`Workspace::validate`]).
    pub fn combined(&self) -> Loaded {
        let mut out = Loaded::default();
        for d in &self.docs {
            out.documents.extend(d.parsed.documents.iter().cloned());
            out.diagnostics.extend(d.parsed.diagnostics.iter().cloned());
            out.unreadable |= d.parsed.unreadable;
        }
        out
    }

    /// The typed resources, in order.
    pub fn resources(&self) -> impl Iterator<Item = &Resource> {
        self.docs.iter().flat_map(|d| {
            d.parsed.documents.iter().filter_map(|doc| match doc {
                Document::Resource(r) => Some(r.as_ref()),
                Document::Other { .. } => None,
            })
        })
    }

    /// Everything `meshroute analyze` reports for the workspace, incrementally:
    /// each document's own diagnostics come from its cache (computed only for
    /// documents parsed since the last validation), the cross-resource analyzers
    /// and lints run over the borrowed documents (no copy of the workspace).
    /// Equal to `meshroute_model::check(&self.combined(), opts)`.
    pub fn validate(&self, opts: &CheckOptions) -> Vec<Diagnostic> {
        check_parts(
            self.docs
                .iter()
                .map(|d| (&*d.parsed, d.local_diagnostics())),
            opts,
        )
    }

    /// Subsets the DestinationRules of the workspace define for `host` (as
    /// written or by short name), for subset pickers.
    pub fn subsets_for(&self, host: &str) -> Vec<String> {
        let short = |h: &str| h.split('.').next().unwrap_or("").to_owned();
        let mut out: Vec<String> = Vec::new();
        for r in self.resources() {
            let Some(dr) = r.destination_rule() else {
                continue;
            };
            let Some(h) = dr.host.as_deref() else {
                continue;
            };
            if h == host || short(h) == short(host) {
                for s in dr.subsets.as_deref().unwrap_or(&[]) {
                    if let Some(n) = &s.name {
                        if !out.contains(n) {
                            out.push(n.clone());
                        }
                    }
                }
            }
        }
        out
    }
}

/// The syntax errors of a parsed document whose body starts at pane line
/// `first_line`: read from its MR001 diagnostics (no second parse), else by
/// parsing `body` again.
fn syntax_errors(doc: &Doc, body: &str, first_line: u32) -> Vec<SyntaxError> {
    let from_diags: Option<Vec<SyntaxError>> = doc
        .parsed
        .diagnostics
        .iter()
        .filter(|d| d.code == codes::MR001)
        .map(|d| {
            let rest = d.message.strip_prefix("YAML syntax error at line ")?;
            let (line, rest) = rest.split_once(" column ")?;
            let (col, message) = rest.split_once(": ")?;
            Some(SyntaxError {
                line: line.parse::<u32>().ok()? + first_line - 1,
                col: col.parse().ok()?,
                message: message.to_owned(),
            })
        })
        .collect();
    if let Some(errs) = from_diags.filter(|e| !e.is_empty()) {
        return errs;
    }
    yaml::parse_stream(body, Limits::default())
        .into_iter()
        .filter_map(Result::err)
        .map(|e| SyntaxError {
            line: e.line + first_line - 1,
            col: e.col,
            message: e.message,
        })
        .collect()
}

/// Undo/redo: snapshots of the workspace (cheap: documents are shared).
#[derive(Clone, Debug, Default)]
pub struct History {
    past: Vec<Workspace>,
    future: Vec<Workspace>,
    last_key: Option<String>,
    last_time: f64,
}

/// Edits with the same key within this many milliseconds make one undo step (typing).
pub const COALESCE_MS: f64 = 1000.0;
const MAX_STEPS: usize = 200;

impl History {
    /// Records `before` as an undo step ahead of a change. Successive changes with
    /// the same `key` (a field being typed into) within [`COALESCE_MS`] coalesce.
    pub fn record(&mut self, before: &Workspace, key: Option<&str>, now_ms: f64) {
        let coalesce = key.is_some()
            && key == self.last_key.as_deref()
            && now_ms - self.last_time < COALESCE_MS
            && !self.past.is_empty();
        self.last_key = key.map(str::to_owned);
        self.last_time = now_ms;
        self.future.clear();
        if !coalesce {
            self.past.push(before.clone());
            if self.past.len() > MAX_STEPS {
                self.past.remove(0);
            }
        }
    }

    pub fn undo(&mut self, current: &Workspace) -> Option<Workspace> {
        let prev = self.past.pop()?;
        self.future.push(current.clone());
        self.last_key = None;
        Some(prev)
    }

    pub fn redo(&mut self, current: &Workspace) -> Option<Workspace> {
        let next = self.future.pop()?;
        self.past.push(current.clone());
        self.last_key = None;
        Some(next)
    }

    pub fn can_undo(&self) -> bool {
        !self.past.is_empty()
    }

    pub fn can_redo(&self) -> bool {
        !self.future.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VS: &str = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\nspec:\n  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews, subset: v1}\n";
    const DR: &str = "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: reviews\nspec:\n  host: reviews\n  subsets:\n  - name: v1\n    labels: {version: v1}\n";

    #[test]
    fn split_and_join_round_trip() {
        let text = format!("{VS}---\n{DR}");
        let ws = Workspace::from_text_lenient(&text);
        assert_eq!(ws.docs.len(), 2);
        assert_eq!(ws.text(), text);
        assert_eq!(ws.starts(), vec![1, 11]);
        assert_eq!(ws.docs[0].kind(), Some(Kind::VirtualService));
        assert_eq!(ws.docs[1].title(), "reviews");
        assert_eq!(
            ws.subsets_for("reviews.default.svc.cluster.local"),
            vec!["v1"]
        );
    }

    #[test]
    fn leading_marker_and_blank_documents_are_dropped() {
        let ws = Workspace::from_text_lenient(&format!("---\n{VS}---\n\n---\n{DR}"));
        assert_eq!(ws.docs.len(), 2);
        assert_eq!(*ws.docs[0].text, *VS);
    }

    #[test]
    fn apply_text_reparses_only_changed_documents() {
        let ws = Workspace::from_text_lenient(&format!("{VS}---\n{DR}"));
        let edited = format!("{VS}---\n{}", DR.replace("v1", "v2"));
        let next = ws.apply_text(&edited).unwrap();
        assert!(Arc::ptr_eq(&ws.docs[0].parsed, &next.docs[0].parsed));
        assert!(!Arc::ptr_eq(&ws.docs[1].parsed, &next.docs[1].parsed));
        assert_eq!(next.docs[1].id, ws.docs[1].id);
        // Swapping documents keeps both parses and ids.
        let swapped = ws.apply_text(&format!("{DR}---\n{VS}")).unwrap();
        assert_eq!(swapped.docs[0].id, ws.docs[1].id);
        assert!(Arc::ptr_eq(&ws.docs[0].parsed, &swapped.docs[1].parsed));
    }

    #[test]
    fn syntax_errors_do_not_replace_the_workspace() {
        let ws = Workspace::from_text_lenient(&format!("{VS}---\n{DR}"));
        let broken = format!("{VS}---\n{DR}  bad: [unclosed\n");
        let errs = ws.apply_text(&broken).unwrap_err();
        assert_eq!(errs.len(), 1);
        // The DR starts on line 11 and has 9 lines; the broken line is 20.
        assert!(errs[0].line >= 20, "{errs:?}");
        assert!(errs[0].col >= 1);
    }

    #[test]
    fn edit_resource_keeps_unknown_fields() {
        let text = VS.replace(
            "  hosts: [reviews]\n",
            "  hosts: [reviews]\n  futureField: 7\n",
        );
        let mut ws = Workspace::from_text_lenient(&text);
        let id = ws.docs[0].id;
        assert!(ws.edit_resource(id, |r| r.metadata.namespace = Some("prod".into())));
        assert!(ws.docs[0].text.contains("futureField: 7"));
        assert_eq!(ws.docs[0].namespace().as_deref(), Some("prod"));
        assert!(ws.set_meta(id, "name", "ratings"));
        assert_eq!(ws.docs[0].name(), "ratings");
        let copy = ws.duplicate(id).unwrap();
        assert_eq!(ws.doc(copy).unwrap().name(), "ratings-copy");
        assert!(ws.remove(id));
        assert_eq!(ws.docs.len(), 1);
    }

    #[test]
    fn diagnostics_name_their_document() {
        let ws =
            Workspace::from_text_lenient(&format!("{VS}---\n{}", DR.replace("labels", "lables")));
        let diags = ws.validate(&CheckOptions::default());
        let mr003 = diags.iter().find(|d| d.code == "MR003").expect("MR003");
        assert_eq!(doc_id_of(mr003.file.as_deref()), Some(ws.docs[1].id));
    }

    #[test]
    fn incremental_validation_equals_check_and_reuses_unchanged_docs() {
        let text = format!(
            "{VS}---\n{}---\n{}",
            DR.replace("labels", "lables"),
            VS.replace("v1", "v9")
        );
        let ws = Workspace::from_text_lenient(&text);
        let opts = CheckOptions::default();
        let full = meshroute_model::check(&ws.combined(), &opts);
        assert!(full.iter().any(|d| d.code == "IST0101"), "{full:?}");
        assert_eq!(ws.validate(&opts), full);
        assert!(ws.docs.iter().all(Doc::is_checked));
        // Edit the last document: the others keep their cached diagnostics.
        let edited = ws
            .apply_text(&format!(
                "{VS}---\n{}---\n{}",
                DR.replace("labels", "lables"),
                VS.replace("v1", "v8")
            ))
            .unwrap();
        assert!(edited.docs[0].is_checked() && edited.docs[1].is_checked());
        assert_eq!(
            edited.validate(&opts),
            meshroute_model::check(&edited.combined(), &opts)
        );
    }

    #[test]
    fn alias_bombs_stop_at_the_editor_budget() {
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..8 {
            let p = i - 1;
            bomb.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
        }
        let errs = Workspace::default().apply_text(&bomb).unwrap_err();
        assert!(errs[0].message.contains("100000 nodes"), "{errs:?}");
        // Anchors within the budget are fine.
        let ok = "a: &x {b: 1}\nc: *x\n";
        assert!(Workspace::default().apply_text(ok).is_ok());
        // Line/column of ordinary errors come from the model's diagnostics.
        let errs = Workspace::default()
            .apply_text("a: 1\nb: [x\n")
            .unwrap_err();
        assert!(errs[0].line >= 2 && errs[0].col >= 1, "{errs:?}");
    }

    #[test]
    fn history_coalesces_typing() {
        let a = Workspace::from_text_lenient(VS);
        let b = Workspace::from_text_lenient(DR);
        let mut h = History::default();
        h.record(&a, Some("f"), 0.0);
        h.record(&a, Some("f"), 100.0);
        h.record(&a, None, 200.0);
        assert_eq!(h.past.len(), 2);
        assert_eq!(h.undo(&b), Some(a.clone()));
        assert_eq!(h.redo(&a), Some(b));
    }
}
