//! Plugin configuration → compiled routes, with no host calls (unit-testable natively).
//!
//! The configuration is the JSON [`FilterConfig`] that `meshroute render` writes into the
//! bootstrap (see `meshroute_model::envoy::filter_config` for the contract). [`compile`] runs,
//! in order, and stops at the first stage that reports an error:
//!
//! 1. JSON syntax and the shape of [`FilterConfig`] (unknown fields refused, with their path);
//! 2. loading the resources ([`FilterConfig::load`], `load_values`: no YAML reader in the wasm);
//! 3. Istio's per-resource validation (`validate_routing_resource`: the kinds the engine
//!    reads; others are set aside undecoded by the loader);
//! 4. compiling the [`Engine`] (regexes, durations, delegates).
//!
//! Every error is returned as a [`Diagnostic`] naming the resource and field path, so
//! `on_configure` can log them all and refuse the configuration: it is never half-applied.
//!
//! # Filter extension: `settings.sticky`
//!
//! ```json
//! {"settings": {"sticky": {"header": "x-user"}}}      // or {"cookie": "session"}
//! ```
//! With `sticky`, a request that carries that header (or cookie) picks its weighted
//! destination by a stable hash of the value instead of at random, so one client keeps
//! its subset. Requests without it are still split at random. The field is read (and removed)
//! here before the rest is deserialized as [`FilterConfig`], which does not know it.

use std::collections::HashMap;
use std::sync::Mutex;

use meshroute_model::engine::{Engine, EngineOptions, FnvBuild};
use meshroute_model::envoy::filter_config::{
    FilterConfig, FilterConfigError, FilterSettings, MESH_GATEWAY,
};
use meshroute_model::{Diagnostic, Level};
use serde_json::{Map, Value};

use crate::plan::MetricKey;

/// Resource name used in diagnostics about the configuration itself.
pub const SOURCE: &str = "plugin configuration";

/// Diagnostic code for a configuration the filter cannot read (JSON, shape, settings).
pub const MR401: &str = "MR401";

/// Where a sticky weighted choice takes its key from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sticky {
    /// A request header (lower-case name).
    Header(String),
    /// A cookie, by name.
    Cookie(String),
}

/// A configuration ready to serve requests.
#[derive(Debug)]
pub struct Compiled {
    pub engine: Engine,
    pub settings: FilterSettings,
    pub sticky: Option<Sticky>,
    /// Warnings and infos (logged, not fatal).
    pub warnings: Vec<Diagnostic>,
    /// Number of resources loaded.
    pub resources: usize,
    /// Host metric ids of the request counter by labels key (see [`MetricKey`]): filled on
    /// first use, per configuration (the keys index this configuration's rules). A `Mutex`
    /// only so `Compiled` stays `Sync` for the fuzz harness; a Wasm VM is single-threaded,
    /// and there it is a flag.
    pub metric_ids: Mutex<HashMap<MetricKey, u32, FnvBuild>>,
}

impl Compiled {
    /// The cached request-counter id for `key`, if any.
    pub fn metric_id(&self, key: &MetricKey) -> Option<u32> {
        self.metric_ids_map().get(key).copied()
    }

    /// Caches the request-counter id for `key`.
    pub fn cache_metric_id(&self, key: MetricKey, id: u32) {
        self.metric_ids_map().insert(key, id);
    }

    fn metric_ids_map(&self) -> std::sync::MutexGuard<'_, HashMap<MetricKey, u32, FnvBuild>> {
        // A poisoned lock means a panic, which traps the VM anyway; the map stays valid.
        self.metric_ids
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Compiled {
    /// True when the filter plays a Gateway (routes match the listener port).
    pub fn is_gateway(&self) -> bool {
        self.settings.gateway != MESH_GATEWAY
    }
}

fn config_error(path: &str, message: impl Into<String>) -> Diagnostic {
    Diagnostic::error(MR401, message)
        .with_resource(SOURCE)
        .with_path(path)
}

/// Reads, validates and compiles a plugin configuration. `Err` holds every error found
/// at the first failing stage (never empty).
pub fn compile(raw: &[u8]) -> Result<Compiled, Vec<Diagnostic>> {
    let mut value = if raw.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Map::new())
    } else {
        serde_json::from_slice::<Value>(raw)
            .map_err(|e| vec![config_error("", format!("not valid JSON: {e}"))])?
    };
    if !value.is_object() {
        return Err(vec![config_error("", "expected a JSON object")]);
    }
    let sticky = take_sticky(&mut value).map_err(|m| vec![config_error("settings.sticky", m)])?;
    let mut config = FilterConfig::decode(value)
        .map_err(|e| vec![config_error(&e.path_from(""), e.message())])?;
    config.check().map_err(|e| {
        let path = match e {
            FilterConfigError::ClusterHeader(_) => "settings.cluster_header",
            FilterConfigError::Gateway(_) => "settings.gateway",
            FilterConfigError::Namespace => "settings.namespace",
            FilterConfigError::Json(_) => "",
        };
        vec![config_error(path, e.to_string())]
    })?;

    let loaded = config.load_quiet();
    let (errors, mut warnings): (Vec<Diagnostic>, Vec<Diagnostic>) = loaded
        .diagnostics
        .iter()
        .cloned()
        .partition(Diagnostic::is_error);
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut errors = Vec::new();
    let mut count = 0;
    for r in loaded.resources() {
        count += 1;
        for d in meshroute_model::validate::validate_routing_resource(r) {
            if d.is_error() {
                errors.push(d);
            } else {
                warnings.push(d);
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    let opts = EngineOptions {
        default_namespace: config.settings.namespace.clone(),
        gateway: config
            .settings
            .gateway_ref()
            .map(|(ns, name)| format!("{ns}/{name}")),
    };
    let engine = Engine::compile(loaded.resources(), &opts).map_err(|mut diags| {
        diags.retain(Diagnostic::is_error);
        if diags.is_empty() {
            diags.push(config_error("", "the routes could not be compiled"));
        }
        diags
    })?;
    warnings.extend(engine.warnings().iter().cloned());
    // Infos (unknown fields and the like) are noise in a proxy log.
    warnings.retain(|d| d.level != Level::Info);
    Ok(Compiled {
        engine,
        settings: config.settings,
        sticky,
        warnings,
        resources: count,
        metric_ids: Mutex::new(HashMap::default()),
    })
}

/// Removes `settings.sticky` from `value` and parses it.
fn take_sticky(value: &mut Value) -> Result<Option<Sticky>, String> {
    let Some(settings) = value.get_mut("settings").and_then(Value::as_object_mut) else {
        return Ok(None);
    };
    let Some(raw) = settings.remove("sticky") else {
        return Ok(None);
    };
    let bad = |msg: &str| msg.to_owned();
    let Value::Object(map) = raw else {
        if raw.is_null() {
            return Ok(None);
        }
        return Err(bad("expected {\"header\": NAME} or {\"cookie\": NAME}"));
    };
    let mut entries = map.into_iter();
    let (Some((kind, Value::String(name))), None) = (entries.next(), entries.next()) else {
        return Err(bad(
            "expected exactly one of {\"header\": NAME} or {\"cookie\": NAME}",
        ));
    };
    if name.is_empty() || !name.bytes().all(is_token_byte) {
        return Err(bad(&format!("{name:?} is not a valid {kind} name")));
    }
    match kind.as_str() {
        "header" => Ok(Some(Sticky::Header(name.to_ascii_lowercase()))),
        "cookie" => Ok(Some(Sticky::Cookie(name))),
        other => Err(bad(&format!(
            "unknown key {other:?}: expected \"header\" or \"cookie\""
        ))),
    }
}

/// RFC 7230 `tchar`.
pub(crate) fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// One log line per diagnostic: resource, path and reason.
pub fn describe(d: &Diagnostic) -> String {
    let resource = if d.resource.is_empty() {
        SOURCE
    } else {
        d.resource.as_str()
    };
    let path = if d.path.is_empty() {
        "-"
    } else {
        d.path.as_str()
    };
    format!(
        "resource \"{resource}\" path \"{path}\": {} [{}]",
        d.message, d.code
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vs(name: &str, spec: Value) -> Value {
        serde_json::json!({
            "apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
            "metadata": {"name": name, "namespace": "default"}, "spec": spec,
        })
    }

    fn cfg(settings: Value, resources: Vec<Value>) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({"settings": settings, "resources": resources}))
            .unwrap_or_default()
    }

    fn errors(raw: &[u8]) -> Vec<Diagnostic> {
        match compile(raw) {
            Ok(_) => Vec::new(),
            Err(e) => e,
        }
    }

    #[test]
    fn empty_configs_compile() {
        for raw in [
            &b""[..],
            b" \n",
            b"{}",
            br#"{"settings": {}, "resources": []}"#,
        ] {
            let c = compile(raw).map_err(|e| format!("{e:?}"));
            assert!(c.is_ok(), "{}: {c:?}", String::from_utf8_lossy(raw));
        }
    }

    #[test]
    fn routes_compile_and_sticky_is_read() {
        let raw = cfg(
            serde_json::json!({"sticky": {"cookie": "session"}, "namespace": "default"}),
            vec![vs(
                "reviews",
                serde_json::json!({"hosts": ["reviews"], "http": [{"route": [{"destination": {"host": "reviews", "subset": "v1"}}]}]}),
            )],
        );
        let c = compile(&raw).map_err(|e| format!("{e:?}"));
        let Ok(c) = c else {
            panic!("{c:?}");
        };
        assert_eq!(c.sticky, Some(Sticky::Cookie("session".into())));
        assert_eq!(c.resources, 1);
        assert!(!c.is_gateway());
    }

    #[test]
    fn bad_json_and_shape_name_the_path() {
        let e = errors(b"{nope");
        assert_eq!(e.len(), 1);
        assert!(e[0].message.contains("not valid JSON"), "{e:?}");
        let e = errors(br#"{"settings": {"typo": 1}}"#);
        assert_eq!(e[0].path, "settings.typo", "{e:?}");
        assert!(e[0].message.contains("typo"), "{e:?}");
        let e = errors(br#"{"settings": {"cluster_header": "Not Valid"}}"#);
        assert_eq!(e[0].path, "settings.cluster_header", "{e:?}");
        let e = errors(br#"[]"#);
        assert!(e[0].message.contains("object"), "{e:?}");
        let e = errors(br#"{"settings": {"sticky": {"header": "a b"}}}"#);
        assert_eq!(e[0].path, "settings.sticky");
        let e = errors(br#"{"settings": {"sticky": {"query": "a"}}}"#);
        assert_eq!(e[0].path, "settings.sticky");
    }

    #[test]
    fn validation_errors_name_resource_and_path() {
        // Weights that do not validate (negative) and a bad regex.
        let raw = cfg(
            serde_json::json!({}),
            vec![vs(
                "reviews",
                serde_json::json!({"hosts": ["reviews"], "http": [{
                    "match": [{"uri": {"regex": "(unclosed"}}],
                    "route": [{"destination": {"host": "reviews"}}]}]}),
            )],
        );
        let e = errors(&raw);
        assert!(!e.is_empty());
        assert!(e.iter().all(Diagnostic::is_error));
        assert!(
            e.iter()
                .any(|d| d.resource == "VirtualService default/reviews"
                    && d.path.starts_with("spec.http[0]")),
            "{e:?}"
        );
        let line = describe(&e[0]);
        assert!(line.contains("VirtualService default/reviews"), "{line}");
    }

    #[test]
    fn load_errors_refuse() {
        let raw = cfg(
            serde_json::json!({}),
            vec![
                serde_json::json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
                "metadata": {"name": "x"}, "spec": {"hosts": "not-a-list"}}),
            ],
        );
        let e = errors(&raw);
        assert!(!e.is_empty(), "a wrongly typed field must be refused");
    }

    #[test]
    fn kinds_the_engine_does_not_read_are_ignored_not_checked() {
        // A Gateway and a WorkloadEntry that would not even decode (wrong types), next to a
        // valid VirtualService: the filter neither decodes nor validates them, and serves.
        let raw = cfg(
            serde_json::json!({}),
            vec![
                serde_json::json!({"apiVersion": "networking.istio.io/v1", "kind": "Gateway",
                    "metadata": {"name": "gw"}, "spec": {"servers": "not-a-list"}}),
                serde_json::json!({"apiVersion": "networking.istio.io/v1", "kind": "WorkloadEntry",
                    "metadata": {"name": "we"}, "spec": {"ports": 7}}),
                vs(
                    "reviews",
                    serde_json::json!({"hosts": ["reviews"], "http": [{"route": [{"destination": {"host": "reviews"}}]}]}),
                ),
            ],
        );
        let c = compile(&raw).map_err(|e| format!("{e:?}"));
        let Ok(c) = c else {
            panic!("{c:?}");
        };
        assert_eq!(c.resources, 1, "only the VirtualService is loaded");
        // A ServiceEntry is read (the engine's registry) and so still validated.
        let raw = cfg(
            serde_json::json!({}),
            vec![
                serde_json::json!({"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
                    "metadata": {"name": "se"}, "spec": {"hosts": ["a.example"], "ports": [{"number": 0, "name": "http"}]}}),
            ],
        );
        let e = errors(&raw);
        assert!(
            e.iter()
                .any(|d| d.resource == "ServiceEntry se" && d.path.starts_with("spec.ports[0]")),
            "{e:?}"
        );
    }
}
