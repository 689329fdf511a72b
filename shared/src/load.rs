//! Loading Kubernetes-style YAML/JSON into typed [`Resource`]s.
//!
//! Input is a stream of documents (files, directories, stdin, a string). Each
//! document becomes a [`Document`]: a typed [`Resource`] when its kind is one
//! meshroute models, otherwise the raw value with the reason it was set aside.
//! `kind: List` is expanded. Nothing aborts the load: syntax errors (MR001),
//! unknown kinds (MR002, info), unknown fields (MR003, info) and schema type
//! errors (IST0106) become diagnostics with file and line, and the rest of the
//! stream is still loaded.

use crate::diag::{codes, Diagnostic, Level};
use crate::model::decode::FromValue;
use crate::model::encode::ToValue;
use crate::model::{self, ObjectMeta};
use crate::yaml::{self, join_index, join_key, Limits, Positions};
use serde_json::{Map, Value};
use std::fmt;
use std::path::Path;

/// Where a document came from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Source {
    /// File name as given (None for a string or stdin without a name).
    pub file: Option<String>,
    /// 1-based line of the document's first content line.
    pub line: u32,
    /// Field path → line/column inside this document.
    pub positions: Positions,
}

impl Source {
    /// Line of `path` (or its nearest ancestor) in the file, else the document's line.
    pub fn line_of(&self, path: &str) -> u32 {
        self.positions.line_of(path).unwrap_or(self.line)
    }
}

/// The kinds meshroute models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    VirtualService,
    DestinationRule,
    Gateway,
    ServiceEntry,
    WorkloadEntry,
    Service,
    Pod,
    Deployment,
    Namespace,
    Secret,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::VirtualService => "VirtualService",
            Kind::DestinationRule => "DestinationRule",
            Kind::Gateway => "Gateway",
            Kind::ServiceEntry => "ServiceEntry",
            Kind::WorkloadEntry => "WorkloadEntry",
            Kind::Service => "Service",
            Kind::Pod => "Pod",
            Kind::Deployment => "Deployment",
            Kind::Namespace => "Namespace",
            Kind::Secret => "Secret",
        }
    }

    /// The kind for an (apiVersion, kind) pair, if meshroute models it.
    pub fn from_type(api_version: &str, kind: &str) -> Option<Kind> {
        let (group, _version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        match (group, kind) {
            ("networking.istio.io", "VirtualService") => Some(Kind::VirtualService),
            ("networking.istio.io", "DestinationRule") => Some(Kind::DestinationRule),
            ("networking.istio.io", "Gateway") => Some(Kind::Gateway),
            ("networking.istio.io", "ServiceEntry") => Some(Kind::ServiceEntry),
            ("networking.istio.io", "WorkloadEntry") => Some(Kind::WorkloadEntry),
            ("", "Service") => Some(Kind::Service),
            ("", "Pod") => Some(Kind::Pod),
            ("apps", "Deployment") => Some(Kind::Deployment),
            ("", "Namespace") => Some(Kind::Namespace),
            ("", "Secret") => Some(Kind::Secret),
            _ => None,
        }
    }

    /// Istio's networking API versions meshroute accepts.
    pub fn is_istio(self) -> bool {
        matches!(
            self,
            Kind::VirtualService
                | Kind::DestinationRule
                | Kind::Gateway
                | Kind::ServiceEntry
                | Kind::WorkloadEntry
        )
    }

    /// The kinds the matching engine reads ([`crate::engine::Engine::compile`]): routes,
    /// subsets and the service registry. The Envoy filter loads only these
    /// ([`load_values_for_routing`]).
    pub fn is_routing(self) -> bool {
        matches!(
            self,
            Kind::VirtualService | Kind::DestinationRule | Kind::ServiceEntry | Kind::Service
        )
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The typed body of a resource. For Istio kinds it is the `spec`; for
/// Kubernetes kinds the whole object minus apiVersion/kind/metadata.
// Resources live boxed inside `Document`, so the variants' size spread costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Spec {
    VirtualService(model::VirtualService),
    DestinationRule(model::DestinationRule),
    Gateway(model::Gateway),
    ServiceEntry(model::ServiceEntry),
    WorkloadEntry(model::WorkloadEntry),
    Service(model::Service),
    Pod(model::Pod),
    Deployment(model::Deployment),
    Namespace(model::Namespace),
    Secret(model::Secret),
}

/// A typed object.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub api_version: String,
    pub kind: Kind,
    pub metadata: ObjectMeta,
    pub spec: Spec,
    /// Top-level fields besides apiVersion/kind/metadata/spec (e.g. `status`), kept as they are.
    pub extra: Map<String, Value>,
    pub source: Source,
}

impl Resource {
    pub fn name(&self) -> &str {
        self.metadata.name.as_deref().unwrap_or("")
    }

    /// The namespace as written, if any.
    pub fn namespace(&self) -> Option<&str> {
        self.metadata.namespace.as_deref().filter(|s| !s.is_empty())
    }

    /// The namespace, or `default_ns` when the input gives none.
    pub fn namespace_or<'a>(&'a self, default_ns: &'a str) -> &'a str {
        self.namespace().unwrap_or(default_ns)
    }

    /// `metadata.creationTimestamp` as a sortable `(year, month, day, hour, minute, second)`;
    /// absent or not Kubernetes' `YYYY-MM-DDTHH:MM:SSZ` form: Go's zero time (first).
    pub fn creation_time(&self) -> (u32, u32, u32, u32, u32, u32) {
        self.metadata
            .extra
            .get("creationTimestamp")
            .and_then(Value::as_str)
            .and_then(parse_k8s_time)
            .unwrap_or_default()
    }

    /// `"Kind namespace/name"`, or `"Kind name"` when the input gives no namespace.
    pub fn display_name(&self) -> String {
        match self.namespace() {
            Some(ns) => format!("{} {}/{}", self.kind, ns, self.name()),
            None => format!("{} {}", self.kind, self.name()),
        }
    }

    /// A diagnostic about this resource at `path`, with file and line filled in.
    pub fn diag(
        &self,
        code: &str,
        level: Level,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Diagnostic {
        let path = path.into();
        // Line 0 means "no line known" (input that was not YAML text).
        let line = Some(self.source.line_of(&path)).filter(|l| *l > 0);
        Diagnostic::new(code, level, message)
            .with_resource(self.display_name())
            .with_path(path)
            .at(self.source.file.as_deref(), line)
    }

    pub fn labels(&self) -> Option<&std::collections::BTreeMap<String, String>> {
        self.metadata.labels.as_ref()
    }

    pub fn virtual_service(&self) -> Option<&model::VirtualService> {
        match &self.spec {
            Spec::VirtualService(v) => Some(v),
            _ => None,
        }
    }
    pub fn destination_rule(&self) -> Option<&model::DestinationRule> {
        match &self.spec {
            Spec::DestinationRule(v) => Some(v),
            _ => None,
        }
    }
    pub fn gateway(&self) -> Option<&model::Gateway> {
        match &self.spec {
            Spec::Gateway(v) => Some(v),
            _ => None,
        }
    }
    pub fn service_entry(&self) -> Option<&model::ServiceEntry> {
        match &self.spec {
            Spec::ServiceEntry(v) => Some(v),
            _ => None,
        }
    }
    pub fn workload_entry(&self) -> Option<&model::WorkloadEntry> {
        match &self.spec {
            Spec::WorkloadEntry(v) => Some(v),
            _ => None,
        }
    }
    pub fn service(&self) -> Option<&model::Service> {
        match &self.spec {
            Spec::Service(v) => Some(v),
            _ => None,
        }
    }
    pub fn pod(&self) -> Option<&model::Pod> {
        match &self.spec {
            Spec::Pod(v) => Some(v),
            _ => None,
        }
    }
    pub fn deployment(&self) -> Option<&model::Deployment> {
        match &self.spec {
            Spec::Deployment(v) => Some(v),
            _ => None,
        }
    }
    pub fn secret(&self) -> Option<&model::Secret> {
        match &self.spec {
            Spec::Secret(v) => Some(v),
            _ => None,
        }
    }

    /// The whole object as JSON, for export: apiVersion, kind, metadata, spec, then other fields.
    pub fn to_value(&self) -> Value {
        let mut obj = Map::new();
        obj.insert("apiVersion".into(), Value::String(self.api_version.clone()));
        obj.insert("kind".into(), Value::String(self.kind.as_str().into()));
        obj.insert("metadata".into(), self.metadata.to_value());
        let body = match &self.spec {
            Spec::VirtualService(s) => spec_value(s),
            Spec::DestinationRule(s) => spec_value(s),
            Spec::Gateway(s) => spec_value(s),
            Spec::ServiceEntry(s) => spec_value(s),
            Spec::WorkloadEntry(s) => spec_value(s),
            Spec::Service(s) => body_value(s),
            Spec::Pod(s) => body_value(s),
            Spec::Deployment(s) => body_value(s),
            Spec::Namespace(s) => body_value(s),
            Spec::Secret(s) => body_value(s),
        };
        if let Value::Object(m) = body {
            obj.extend(m);
        }
        for (k, v) in &self.extra {
            obj.insert(k.clone(), v.clone());
        }
        Value::Object(obj)
    }

    /// The object as YAML.
    pub fn to_yaml(&self) -> String {
        yaml::to_yaml(&self.to_value())
    }
}

fn spec_value<T: ToValue>(spec: &T) -> Value {
    let mut m = Map::new();
    m.insert("spec".into(), spec.to_value());
    Value::Object(m)
}

fn body_value<T: ToValue>(body: &T) -> Value {
    body.to_value()
}

/// Why a document did not become a [`Resource`].
#[derive(Debug, Clone, PartialEq)]
pub enum SetAside {
    /// A kind meshroute does not model (kept for export, reported as info).
    UnknownKind,
    /// Not a Kubernetes object, or its fields have the wrong types (reported as an error).
    Invalid,
    /// A kind the caller does not use ([`load_values_for_routing`]: not one of
    /// [`Kind::is_routing`]); neither decoded nor checked, reported as info.
    NotRouting,
}

/// One document of the input.
#[derive(Debug, Clone, PartialEq)]
pub enum Document {
    Resource(Box<Resource>),
    Other {
        raw: Value,
        source: Source,
        reason: SetAside,
    },
}

impl Document {
    /// The document as JSON (typed resources re-serialized, others as read).
    pub fn to_value(&self) -> Value {
        match self {
            Document::Resource(r) => r.to_value(),
            Document::Other { raw, .. } => raw.clone(),
        }
    }
    pub fn source(&self) -> &Source {
        match self {
            Document::Resource(r) => &r.source,
            Document::Other { source, .. } => source,
        }
    }
}

/// The result of loading: every document and every problem found while loading.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Loaded {
    pub documents: Vec<Document>,
    pub diagnostics: Vec<Diagnostic>,
    /// True when some input could not be read at all (I/O error, not UTF-8).
    pub unreadable: bool,
}

impl Loaded {
    pub fn resources(&self) -> impl Iterator<Item = &Resource> {
        self.documents.iter().filter_map(|d| match d {
            Document::Resource(r) => Some(r.as_ref()),
            Document::Other { .. } => None,
        })
    }

    pub fn extend(&mut self, other: Loaded) {
        self.documents.extend(other.documents);
        self.diagnostics.extend(other.diagnostics);
        self.unreadable |= other.unreadable;
    }

    /// All documents as one multi-document YAML stream.
    pub fn to_yaml(&self) -> String {
        let values: Vec<Value> = self.documents.iter().map(Document::to_value).collect();
        yaml::to_yaml_documents(values.iter())
    }
}

/// Loads every document of `text`; `file` names it in diagnostics.
pub fn load_str(text: &str, file: Option<&str>) -> Loaded {
    let mut out = Loaded::default();
    for doc in yaml::parse_stream(text, Limits::default()) {
        match doc {
            Ok(d) => {
                let source = Source {
                    file: file.map(str::to_owned),
                    line: d.line,
                    positions: d.positions,
                };
                load_value::<true, false>(d.value, source, &mut out);
            }
            Err(e) => out.diagnostics.push(
                Diagnostic::error(
                    codes::MR001,
                    format!(
                        "YAML syntax error at line {} column {}: {}",
                        e.line, e.col, e.message
                    ),
                )
                .at(file, Some(e.line)),
            ),
        }
    }
    out
}

/// Loads already-parsed JSON objects (e.g. the filter's plugin configuration, which
/// is JSON and skips the YAML reader). `file` names the input in diagnostics; there
/// are no line numbers.
pub fn load_values(values: impl IntoIterator<Item = Value>, file: Option<&str>) -> Loaded {
    load_values_with::<true, false>(values, file)
}

/// [`load_values`] without the MR003 infos (unknown fields are still kept in `extra`):
/// listing them serializes every resource back, which a consumer that drops infos (the
/// Envoy filter) need not pay for, in time or in code size.
pub fn load_values_quiet(values: impl IntoIterator<Item = Value>, file: Option<&str>) -> Loaded {
    load_values_with::<false, false>(values, file)
}

/// [`load_values_quiet`] for a consumer that only routes (the Envoy filter): documents of
/// kinds the matching engine does not read (Gateway, WorkloadEntry, Pod, Deployment,
/// Namespace, Secret: see [`Kind::is_routing`]) are set aside undecoded
/// ([`SetAside::NotRouting`], an MR002 info) instead of decoded, so their decoders and
/// validators are not linked into the filter.
pub fn load_values_for_routing(
    values: impl IntoIterator<Item = Value>,
    file: Option<&str>,
) -> Loaded {
    load_values_with::<false, true>(values, file)
}

/// `UNKNOWN_FIELDS` and `ROUTING_ONLY` are const parameters so that a build which only
/// loads quietly for routing (the filter) does not link the serializers the MR003 report
/// needs, nor the decoders of kinds it does not read.
fn load_values_with<const UNKNOWN_FIELDS: bool, const ROUTING_ONLY: bool>(
    values: impl IntoIterator<Item = Value>,
    file: Option<&str>,
) -> Loaded {
    let mut out = Loaded::default();
    for value in values {
        let source = Source {
            file: file.map(str::to_owned),
            line: 0,
            positions: Positions::default(),
        };
        load_value::<UNKNOWN_FIELDS, ROUTING_ONLY>(value, source, &mut out);
    }
    out
}

/// Loads a file, or every `.yaml`/`.yml`/`.json` file below a directory (sorted), or stdin for `-`.
pub fn load_path(path: &Path) -> Loaded {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        return match std::io::Read::read_to_string(&mut std::io::stdin(), &mut text) {
            Ok(_) => load_str(&text, Some("<stdin>")),
            Err(e) => unreadable("<stdin>", &e.to_string()),
        };
    }
    if path.is_dir() {
        let mut out = Loaded::default();
        let mut files = Vec::new();
        collect_files(path, &mut files, &mut out);
        files.sort();
        for f in files {
            out.extend(load_file(&f));
        }
        return out;
    }
    load_file(path)
}

fn collect_files(dir: &Path, files: &mut Vec<std::path::PathBuf>, out: &mut Loaded) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            out.extend(unreadable(&dir.display().to_string(), &e.to_string()));
            return;
        }
    };
    for entry in entries.flatten() {
        let p = entry.path();
        if p.is_dir() {
            collect_files(&p, files, out);
        } else if matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("yaml") | Some("yml") | Some("json")
        ) {
            files.push(p);
        }
    }
}

fn load_file(path: &Path) -> Loaded {
    let name = path.display().to_string();
    match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => load_str(&text, Some(&name)),
            Err(e) => unreadable(&name, &format!("not UTF-8 text ({})", e.utf8_error())),
        },
        Err(e) => unreadable(&name, &e.to_string()),
    }
}

fn unreadable(name: &str, why: &str) -> Loaded {
    Loaded {
        documents: Vec::new(),
        diagnostics: vec![
            Diagnostic::error(codes::MR005, format!("cannot read {name}: {why}"))
                .at(Some(name), None),
        ],
        unreadable: true,
    }
}

fn load_value<const UNKNOWN_FIELDS: bool, const ROUTING_ONLY: bool>(
    value: Value,
    source: Source,
    out: &mut Loaded,
) {
    let Value::Object(mut obj) = value else {
        if !value.is_null() {
            out.diagnostics.push(
                Diagnostic::error(
                    codes::MR004,
                    "document is not a mapping (expected a Kubernetes object)",
                )
                .at(source.file.as_deref(), Some(source.line)),
            );
            out.documents.push(Document::Other {
                raw: value,
                source,
                reason: SetAside::Invalid,
            });
        }
        return;
    };
    let api_version = obj
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let kind_name = obj
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();

    if kind_name == "List"
        || kind_name.ends_with("List") && obj.get("items").is_some_and(Value::is_array)
    {
        let items = match obj.remove("items") {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        };
        for (i, item) in items.into_iter().enumerate() {
            let prefix = join_index("items", i);
            let positions = source.positions.subtree(&prefix);
            let line = source.positions.line_of(&prefix).unwrap_or(source.line);
            let src = Source {
                file: source.file.clone(),
                line,
                positions,
            };
            load_value::<UNKNOWN_FIELDS, ROUTING_ONLY>(item, src, out);
        }
        return;
    }

    let name = obj
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let namespace = obj
        .get("metadata")
        .and_then(|m| m.get("namespace"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let display = match &namespace {
        Some(ns) if !ns.is_empty() => format!("{kind_name} {ns}/{name}"),
        _ => format!("{kind_name} {name}"),
    };
    let at = |path: &str| (source.file.clone(), source.line_of(path));

    if api_version.is_empty() || kind_name.is_empty() {
        let (f, l) = at("");
        out.diagnostics.push(
            Diagnostic::error(
                codes::MR004,
                "document has no apiVersion or kind: not a Kubernetes object",
            )
            .with_resource(display.trim())
            .at(f.as_deref(), Some(l)),
        );
        out.documents.push(Document::Other {
            raw: Value::Object(obj),
            source,
            reason: SetAside::Invalid,
        });
        return;
    }

    let Some(kind) = Kind::from_type(&api_version, &kind_name) else {
        let (f, l) = at("");
        out.diagnostics.push(
            Diagnostic::info(
                codes::MR002,
                format!("{api_version} {kind_name} is not a kind meshroute checks; kept as is"),
            )
            .with_resource(display)
            .at(f.as_deref(), Some(l)),
        );
        out.documents.push(Document::Other {
            raw: Value::Object(obj),
            source,
            reason: SetAside::UnknownKind,
        });
        return;
    };
    if ROUTING_ONLY && !kind.is_routing() {
        let (f, l) = at("");
        out.diagnostics.push(
            Diagnostic::info(
                codes::MR002,
                format!("{kind_name} is not read by the routing engine; ignored"),
            )
            .with_resource(display)
            .at(f.as_deref(), Some(l)),
        );
        out.documents.push(Document::Other {
            raw: Value::Object(obj),
            source,
            reason: SetAside::NotRouting,
        });
        return;
    }

    // The raw object: to list unknown fields, and kept as the document if it does not load.
    let raw = Value::Object(obj.clone());
    obj.remove("apiVersion");
    obj.remove("kind");
    let metadata_value = obj.remove("metadata").unwrap_or(Value::Object(Map::new()));
    let mut errors = Vec::new();
    let metadata: Option<ObjectMeta> = typed(metadata_value, "metadata", &mut errors);

    let (spec, extra) = if kind.is_istio() {
        let spec_value = obj.remove("spec").unwrap_or(Value::Object(Map::new()));
        let spec = match kind {
            Kind::VirtualService => {
                typed(spec_value, "spec", &mut errors).map(Spec::VirtualService)
            }
            Kind::DestinationRule => {
                typed(spec_value, "spec", &mut errors).map(Spec::DestinationRule)
            }
            Kind::Gateway => typed(spec_value, "spec", &mut errors).map(Spec::Gateway),
            Kind::ServiceEntry => typed(spec_value, "spec", &mut errors).map(Spec::ServiceEntry),
            _ => typed(spec_value, "spec", &mut errors).map(Spec::WorkloadEntry),
        };
        (spec, obj)
    } else {
        let body = Value::Object(obj);
        let spec = match kind {
            Kind::Service => typed(body, "", &mut errors).map(Spec::Service),
            Kind::Pod => typed(body, "", &mut errors).map(Spec::Pod),
            Kind::Deployment => typed(body, "", &mut errors).map(Spec::Deployment),
            Kind::Namespace => typed(body, "", &mut errors).map(Spec::Namespace),
            _ => typed(body, "", &mut errors).map(Spec::Secret),
        };
        (spec, Map::new())
    };

    match (metadata, spec) {
        (Some(metadata), Some(spec)) => {
            let resource = Resource {
                api_version,
                kind,
                metadata,
                spec,
                extra,
                source,
            };
            if UNKNOWN_FIELDS && kind.is_istio() {
                report_unknown_fields(&raw, &resource, out);
            }
            out.documents.push(Document::Resource(Box::new(resource)));
        }
        _ => {
            for (path, message) in errors {
                let line = source.line_of(&path);
                out.diagnostics.push(
                    Diagnostic::error(codes::IST0106, message)
                        .with_resource(display.clone())
                        .with_path(path)
                        .at(source.file.as_deref(), Some(line)),
                );
            }
            out.documents.push(Document::Other {
                raw,
                source,
                reason: SetAside::Invalid,
            });
        }
    }
}

/// Decodes `value` as `T`, recording a (path, message) on failure.
fn typed<T: FromValue>(value: Value, base: &str, errors: &mut Vec<(String, String)>) -> Option<T> {
    match T::from_value(value) {
        Ok(t) => Some(t),
        Err(e) => {
            errors.push((e.path_from(base), format!("wrong type: {}", e.message())));
            None
        }
    }
}

/// Reports fields the model does not know (kept on export) as MR003 info.
fn report_unknown_fields(raw: &Value, resource: &Resource, out: &mut Loaded) {
    let known = model::without_extra(|| resource.to_value());
    let mut unknown = Vec::new();
    diff_paths(raw, &known, "", &mut unknown);
    for path in unknown {
        // `status` and Kubernetes' own metadata (resourceVersion, uid, …) are not spec fields.
        if path == "status" || path.starts_with("metadata") {
            continue;
        }
        out.diagnostics.push(resource.diag(
            codes::MR003,
            Level::Info,
            path,
            "unknown field: kept on export, not checked by meshroute",
        ));
    }
}

/// Paths present in `raw` but not in `known` (nulls count as absent).
fn diff_paths(raw: &Value, known: &Value, path: &str, out: &mut Vec<String>) {
    match (raw, known) {
        (Value::Object(r), Value::Object(k)) => {
            for (key, rv) in r {
                let p = join_key(path, key);
                match k.get(key) {
                    Some(kv) => diff_paths(rv, kv, &p, out),
                    None if rv.is_null() => {}
                    None => out.push(p),
                }
            }
        }
        (Value::Array(r), Value::Array(k)) => {
            for (i, (rv, kv)) in r.iter().zip(k.iter()).enumerate() {
                diff_paths(rv, kv, &join_index(path, i), out);
            }
        }
        _ => {}
    }
}

/// True when two documents are the same modulo number representation (`50` ≡ `50.0`)
/// and explicit nulls (`x: null` ≡ no `x`), which is how Kubernetes compares them.
pub fn semantically_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => x == y,
            _ => x == y,
        },
        (Value::Object(x), Value::Object(y)) => {
            let nonnull = |m: &Map<String, Value>| m.iter().filter(|(_, v)| !v.is_null()).count();
            nonnull(x) == nonnull(y)
                && x.iter()
                    .filter(|(_, v)| !v.is_null())
                    .all(|(k, v)| y.get(k).is_some_and(|w| semantically_equal(v, w)))
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| semantically_equal(v, w))
        }
        _ => a == b,
    }
}

/// Kubernetes' `metav1.Time` text (`2024-05-01T12:30:00Z`, RFC 3339 in UTC, whole seconds).
fn parse_k8s_time(t: &str) -> Option<(u32, u32, u32, u32, u32, u32)> {
    let b = t.as_bytes();
    if b.len() != 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' {
        return None;
    }
    if b[16] != b':' || b[19] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| t.get(r)?.parse::<u32>().ok();
    Some((
        num(0..4)?,
        num(5..7)?,
        num(8..10)?,
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
    ))
}

/// Puts the VirtualServices and the DestinationRules of `resources` in istiod's order, each
/// kind into the slots it held (other kinds stay where they are): oldest `creationTimestamp`
/// first, then by name, then by namespace (`sortConfigByCreationTime` in istiod's push
/// context). Istio routes a host with the first VirtualService of that order on sidecars (the
/// others are ignored for it), concatenates them in that order at gateways, and takes the
/// first DestinationRule of that order for a host; files and `kubectl get` output have no such
/// order, so input order is not what Istio uses. Resources without a timestamp (most YAML
/// files) are ordered by name, then namespace.
pub fn order_like_istio(resources: &mut [&Resource], default_ns: &str) {
    for kind in [Kind::VirtualService, Kind::DestinationRule] {
        let slots: Vec<usize> = resources
            .iter()
            .enumerate()
            .filter(|(_, r)| r.kind == kind)
            .map(|(i, _)| i)
            .collect();
        // The timestamp parsed once per resource, not per comparison.
        let mut sorted: Vec<(_, &Resource)> = slots
            .iter()
            .filter_map(|&i| resources.get(i).map(|r| (r.creation_time(), *r)))
            .collect();
        // Stable: exact duplicates keep their input order.
        sorted.sort_by(|(ta, a), (tb, b)| {
            ta.cmp(tb)
                .then_with(|| a.name().cmp(b.name()))
                .then_with(|| a.namespace_or(default_ns).cmp(b.namespace_or(default_ns)))
        });
        for (slot, (_, r)) in slots.into_iter().zip(sorted) {
            if let Some(x) = resources.get_mut(slot) {
                *x = r;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn kubernetes_creation_timestamps_parse_or_count_as_zero_time() {
        assert_eq!(
            super::parse_k8s_time("2024-05-01T12:30:09Z"),
            Some((2024, 5, 1, 12, 30, 9))
        );
        for bad in [
            "",
            "2024-05-01",
            "2024-05-01T12:30:09+02:00",
            "2024-05-01 12:30:09Z",
            "2024-5-01T12:30:09Z",
            "2024-05-01T12:30:0xZ",
        ] {
            assert_eq!(super::parse_k8s_time(bad), None, "{bad}");
        }
    }
}
