//! The meshroute filter's plugin configuration: the contract between `meshroute render`
//! (which writes it into the bootstrap) and the proxy-wasm filter (which reads it in
//! `on_configure`). Both sides use this one type.
//!
//! # Wire format
//!
//! Envoy hands the filter the `configuration` of its `envoy.extensions.filters.http.wasm.v3.Wasm`
//! config, a `google.protobuf.StringValue` holding this JSON:
//!
//! ```json
//! {
//!   "settings": {
//!     "gateway": "mesh",
//!     "namespace": "default",
//!     "cluster_header": "x-meshroute-cluster"
//!   },
//!   "resources": [
//!     {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "metadata": {...}, "spec": {...}},
//!     ...
//!   ]
//! }
//! ```
//!
//! - `settings.gateway`: `"mesh"` (sidecar semantics: VirtualServices whose `gateways` is empty or
//!   contains `mesh`) or `"namespace/name"` of the Istio Gateway this Envoy plays.
//! - `settings.namespace`: namespace of resources that name none, and the proxy's own namespace
//!   (for `sourceNamespace` matches and short-name expansion).
//! - `settings.cluster_header`: request header the filter writes the chosen cluster into. Every
//!   rendered route is `route: {cluster_header: <this>}`, so the request goes to that cluster.
//!   Cluster names come from [`crate::cluster::cluster_name`] (`outbound|PORT|SUBSET|FQDN`), and
//!   the bootstrap defines every cluster a rule can name.
//! - `resources`: the VirtualService, DestinationRule and ServiceEntry objects as JSON, exactly
//!   as [`crate::load::Resource::to_value`] writes them. Load them with [`FilterConfig::load`].
//!   The filter reads the kinds of [`crate::Kind::is_routing`] (these three and Kubernetes
//!   `Service`s, for their ports) and sets any other kind aside undecoded and unchecked
//!   ([`FilterConfig::load_quiet`]).
//!
//! All fields are optional (`{}` is valid: mesh, namespace `default`, header
//! `x-meshroute-cluster`, no resources). Unknown fields are refused so a typo is not silently
//! ignored.
//!
//! # What the rendered bootstrap provides around the filter
//!
//! The HTTP filter chain is `envoy.filters.http.wasm` (this filter) → `envoy.filters.http.router`
//! (no Envoy fault filter: the filter injects delays and aborts itself, and a fault filter
//! honouring `x-envoy-fault-*` headers would be a way for clients to trigger faults). The filter acts by setting request headers that Envoy honours
//! after it:
//!
//! | what | request header(s) the filter sets | honoured by |
//! |---|---|---|
//! | destination | `<cluster_header>: outbound\|PORT\|SUBSET\|FQDN` (absent: a rendered route answers 404, like Istio's NR; a cluster the bootstrap lacks: 503, like Istio's NC) | route `cluster_header` |
//! | timeout (Istio default: none) | `x-envoy-upstream-rq-timeout-ms` (`0` = none) | router |
//! | Istio's default retry policy | nothing: it is the rendered routes' own `retry_policy` | route |
//! | any other retry policy, or none (`attempts: 0`) | `x-envoy-max-retries` (always, `0` for none), `x-envoy-retry-on`, `x-envoy-retriable-status-codes`, `x-envoy-upstream-rq-per-try-timeout-ms` | selects a route whose policy has no `retry_on`; router |
//! | no "previous hosts" retry predicate (consistent hash, `retryIgnorePreviousHosts: false`) | [`HEADER_NO_PREVIOUS_HOSTS`]`: 1` | selects a route without the predicate |
//!
//! Istio applies its default retry policy (2 retries on
//! `connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes` with 503,
//! [`ROUTE_DEFAULT_NUM_RETRIES`], [`ROUTE_DEFAULT_RETRY_ON`], [`ROUTE_DEFAULT_RETRIABLE_STATUS_CODES`])
//! to every rule without `retries`. The rendered routes carry that policy, so for such rules
//! (nearly all) the filter sets no retry header. For a rule whose retries differ, the filter
//! sets `x-envoy-max-retries` (`0` for `attempts: 0`) and the other retry headers; a request
//! carrying `x-envoy-max-retries` selects a route whose retry policy has **no** `retry_on` of
//! its own (Envoy ORs the route's `retry_on` with the header's, so the default's conditions
//! would otherwise stay): the policy is then exactly the headers', and without
//! `x-envoy-retry-on` the router does not retry at all. Every route has a `previous_hosts` host
//! predicate (or not, with [`HEADER_NO_PREVIOUS_HOSTS`]) and `host_selection_retry_max_attempts: 5`
//! like Istio's policies; its timeout is `0s` (Istio's "no timeout"). The routes, first match
//! wins ([`crate::envoy`] renders them; a hand-written bootstrap must have the same, or rules
//! without `retries` are not retried):
//!
//! | route | matches | retry policy |
//! |---|---|---|
//! | `meshroute-no-route` | no cluster header | — (direct response 404) |
//! | `meshroute` | neither `x-envoy-max-retries` nor [`HEADER_NO_PREVIOUS_HOSTS`] (nearly every request: second, so Envoy's second route match visits two routes) | Istio's default (`DefaultPolicy`) |
//! | `meshroute-retry-headers-no-previous-hosts` | `x-envoy-max-retries` and [`HEADER_NO_PREVIOUS_HOSTS`] present | from headers, no predicate |
//! | `meshroute-retry-headers` | `x-envoy-max-retries` present | from headers, previous-hosts predicate |
//! | `meshroute-no-previous-hosts` | [`HEADER_NO_PREVIOUS_HOSTS`] present | Istio's default, no predicate (`DefaultConsistentHashPolicy`) |
//!
//! Because clients could send these headers themselves, the filter must remove or
//! overwrite every `x-envoy-fault-*`, `x-envoy-retry-*`, `x-envoy-retriable-*`,
//! `x-envoy-max-retries`, `x-envoy-upstream-rq-*` header, [`HEADER_NO_PREVIOUS_HOSTS`] and the
//! cluster header on every request (Envoy re-selects the route after the filter changed them).
//! Mirrors, redirects, direct responses, rewrites, header operations and CORS are the filter's own
//! work (mirrors as HTTP calls to the mirror's cluster, which the bootstrap defines).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::load::{load_values, load_values_for_routing, Loaded};
use crate::model::decode::{DecodeError, FromValue};

/// Default request header carrying the chosen cluster.
pub const DEFAULT_CLUSTER_HEADER: &str = "x-meshroute-cluster";

/// `settings.gateway` value for sidecar (mesh) semantics.
pub const MESH_GATEWAY: &str = "mesh";

/// Default namespace of resources that name none.
pub const DEFAULT_NAMESPACE: &str = "default";

/// Request header that, when present, selects the rendered route *without* Istio's
/// `previous_hosts` retry host predicate (Istio drops it for consistent-hash destinations
/// and for `retryIgnorePreviousHosts: false`).
pub const HEADER_NO_PREVIOUS_HOSTS: &str = "x-meshroute-no-previous-hosts";

/// Envoy fault filter control headers (`header_delay`/`header_abort`). The wasm-mode chain has
/// no fault filter; the filter strips client copies all the same.
pub const HEADER_FAULT_DELAY_MS: &str = "x-envoy-fault-delay-request";
pub const HEADER_FAULT_ABORT_STATUS: &str = "x-envoy-fault-abort-request";
pub const HEADER_FAULT_ABORT_GRPC_STATUS: &str = "x-envoy-fault-abort-grpc-request";

/// Request headers the router honours for the filter's timeout and retry decisions.
pub const HEADER_TIMEOUT_MS: &str = "x-envoy-upstream-rq-timeout-ms";
pub const HEADER_PER_TRY_TIMEOUT_MS: &str = "x-envoy-upstream-rq-per-try-timeout-ms";
pub const HEADER_MAX_RETRIES: &str = "x-envoy-max-retries";
pub const HEADER_RETRY_ON: &str = "x-envoy-retry-on";
pub const HEADER_RETRIABLE_STATUS_CODES: &str = "x-envoy-retriable-status-codes";

/// Istio's default retry policy (`retry.DefaultPolicy`), which the rendered wasm-mode routes
/// carry: the filter sets no retry header for a rule whose effective policy is this one.
pub const ROUTE_DEFAULT_NUM_RETRIES: u32 = 2;
/// `retry_on` of Istio's default retry policy.
pub const ROUTE_DEFAULT_RETRY_ON: &str =
    "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes";
/// `retriable_status_codes` of Istio's default retry policy.
pub const ROUTE_DEFAULT_RETRIABLE_STATUS_CODES: &[u32] = &[503];

/// The filter's plugin configuration. See the [module docs](self) for the contract.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterConfig {
    #[serde(default)]
    pub settings: FilterSettings,
    /// Istio objects as JSON (apiVersion, kind, metadata, spec).
    #[serde(default)]
    pub resources: Vec<Value>,
}

/// `settings` of [`FilterConfig`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterSettings {
    /// `"mesh"` or `"namespace/name"` of a Gateway.
    #[serde(default = "default_gateway")]
    pub gateway: String,
    /// Namespace of resources that name none; the proxy's namespace.
    #[serde(default = "default_namespace")]
    pub namespace: String,
    /// Request header the filter writes the chosen cluster into.
    #[serde(default = "default_cluster_header")]
    pub cluster_header: String,
}

fn default_gateway() -> String {
    MESH_GATEWAY.to_owned()
}
fn default_namespace() -> String {
    DEFAULT_NAMESPACE.to_owned()
}
fn default_cluster_header() -> String {
    DEFAULT_CLUSTER_HEADER.to_owned()
}

impl Default for FilterSettings {
    fn default() -> Self {
        FilterSettings {
            gateway: default_gateway(),
            namespace: default_namespace(),
            cluster_header: default_cluster_header(),
        }
    }
}

impl FilterSettings {
    fn decode(value: Value) -> Result<FilterSettings, DecodeError> {
        let map = match value {
            Value::Object(m) => m,
            other => return Err(DecodeError::invalid_type(&other, "struct FilterSettings")),
        };
        let mut settings = FilterSettings::default();
        for (key, v) in map {
            let field = match key.as_str() {
                "gateway" => &mut settings.gateway,
                "namespace" => &mut settings.namespace,
                "cluster_header" => &mut settings.cluster_header,
                _ => {
                    return Err(unknown_field(
                        &key,
                        &["gateway", "namespace", "cluster_header"],
                    ))
                }
            };
            *field = String::from_value(v).map_err(|e| e.in_key(&key))?;
        }
        Ok(settings)
    }

    /// The Gateway as `(namespace, name)`, or `None` for the mesh.
    pub fn gateway_ref(&self) -> Option<(&str, &str)> {
        if self.gateway == MESH_GATEWAY {
            return None;
        }
        Some(match self.gateway.split_once('/') {
            Some((ns, name)) => (ns, name),
            None => (self.namespace.as_str(), self.gateway.as_str()),
        })
    }
}

/// serde's "unknown field" error, at the field.
fn unknown_field(key: &str, expected: &'static [&'static str]) -> DecodeError {
    DecodeError::from_json(serde::de::Error::unknown_field(key, expected)).in_key(key)
}

/// Why a plugin configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterConfigError {
    #[error("plugin configuration is not valid JSON for meshroute: {0}")]
    Json(String),
    #[error("settings.cluster_header {0:?} is not a valid lower-case HTTP header name")]
    ClusterHeader(String),
    #[error("settings.gateway {0:?} must be \"mesh\" or \"namespace/name\"")]
    Gateway(String),
    #[error("settings.namespace must not be empty")]
    Namespace,
}

impl FilterConfig {
    /// Parses the plugin configuration bytes. Empty (or whitespace-only) input is the default.
    pub fn from_slice(raw: &[u8]) -> Result<FilterConfig, FilterConfigError> {
        if raw.iter().all(u8::is_ascii_whitespace) {
            return Ok(FilterConfig::default());
        }
        let value: Value =
            serde_json::from_slice(raw).map_err(|e| FilterConfigError::Json(e.to_string()))?;
        if !value.is_object() {
            return Err(FilterConfigError::Json("expected a JSON object".into()));
        }
        let config: FilterConfig =
            serde_json::from_value(value).map_err(|e| FilterConfigError::Json(e.to_string()))?;
        config.check()?;
        Ok(config)
    }

    /// Decodes an already-parsed configuration object, like `serde_json::from_value` (same
    /// messages, unknown fields refused) but with the field path of the error and without
    /// serde's generic machinery (the filter is size-constrained WebAssembly).
    pub fn decode(value: Value) -> Result<FilterConfig, DecodeError> {
        let map = match value {
            Value::Object(m) => m,
            other => return Err(DecodeError::invalid_type(&other, "struct FilterConfig")),
        };
        let mut config = FilterConfig::default();
        for (key, v) in map {
            match key.as_str() {
                "settings" => {
                    config.settings = FilterSettings::decode(v).map_err(|e| e.in_key(&key))?
                }
                "resources" => {
                    config.resources = Vec::<Value>::from_value(v).map_err(|e| e.in_key(&key))?
                }
                _ => return Err(unknown_field(&key, &["settings", "resources"])),
            }
        }
        Ok(config)
    }

    /// Checks the settings (the resources are checked when loaded).
    pub fn check(&self) -> Result<(), FilterConfigError> {
        let h = &self.settings.cluster_header;
        let header_ok = !h.is_empty()
            && h.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || b"!#$%&'*+-.^_`|~".contains(&b)
            });
        if !header_ok {
            return Err(FilterConfigError::ClusterHeader(h.clone()));
        }
        if self.settings.namespace.is_empty() {
            return Err(FilterConfigError::Namespace);
        }
        let g = &self.settings.gateway;
        let gateway_ok = g == MESH_GATEWAY
            || match g.split_once('/') {
                Some((ns, name)) => !ns.is_empty() && !name.is_empty() && !name.contains('/'),
                None => !g.is_empty(),
            };
        if !gateway_ok {
            return Err(FilterConfigError::Gateway(g.clone()));
        }
        Ok(())
    }

    /// The resources as typed [`crate::load::Resource`]s, with load diagnostics.
    pub fn load(&self) -> Loaded {
        load_values(self.resources.iter().cloned(), Some("plugin configuration"))
    }

    /// Like [`load`](Self::load), consuming the resources, without the MR003 (unknown
    /// field) infos, which a proxy does not log, and with the kinds the routing engine does
    /// not read set aside undecoded (an MR002 info each; see [`Kind::is_routing`](crate::Kind::is_routing)):
    /// what the filter calls in `on_configure`.
    pub fn load_quiet(&mut self) -> Loaded {
        load_values_for_routing(
            std::mem::take(&mut self.resources),
            Some("plugin configuration"),
        )
    }

    /// The JSON text Envoy passes to the filter.
    pub fn to_json_string(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn empty_config_is_the_default() {
        for raw in [&b""[..], b"  \n", b"{}"] {
            let c = FilterConfig::from_slice(raw).unwrap();
            assert_eq!(c, FilterConfig::default());
        }
        let d = FilterConfig::default();
        assert_eq!(d.settings.gateway, "mesh");
        assert_eq!(d.settings.namespace, "default");
        assert_eq!(d.settings.cluster_header, "x-meshroute-cluster");
        assert_eq!(d.settings.gateway_ref(), None);
    }

    #[test]
    fn round_trip_and_load() {
        let c = FilterConfig {
            settings: FilterSettings {
                gateway: "istio-system/ingress".into(),
                namespace: "prod".into(),
                cluster_header: "x-route".into(),
            },
            resources: vec![json!({
                "apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
                "metadata": {"name": "r"}, "spec": {"hosts": ["reviews"]}
            })],
        };
        let text = c.to_json_string();
        let back = FilterConfig::from_slice(text.as_bytes()).unwrap();
        assert_eq!(back, c);
        assert_eq!(
            back.settings.gateway_ref(),
            Some(("istio-system", "ingress"))
        );
        let loaded = back.load();
        assert_eq!(loaded.resources().count(), 1);
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    }

    #[test]
    fn short_gateway_name_uses_the_namespace() {
        let c = FilterConfig::from_slice(br#"{"settings": {"gateway": "gw", "namespace": "ns"}}"#)
            .unwrap();
        assert_eq!(c.settings.gateway_ref(), Some(("ns", "gw")));
    }

    #[test]
    fn bad_configs_are_refused() {
        for bad in [
            &br#"nope"#[..],
            br#"[]"#,
            br#"{"cluster": "x"}"#,
            br#"{"settings": {"cluster_header": "X-Upper"}}"#,
            br#"{"settings": {"cluster_header": "a b"}}"#,
            br#"{"settings": {"gateway": "a/b/c"}}"#,
            br#"{"settings": {"namespace": ""}}"#,
            br#"{"settings": {"typo": 1}}"#,
            br#"{"resources": {}}"#,
        ] {
            assert!(
                FilterConfig::from_slice(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
