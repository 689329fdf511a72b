//! `DestinationRule` (`networking.istio.io/v1`): policies applied to traffic for a service
//! after routing (load balancing, connection pools, outlier detection, client TLS, subsets).
//!
//! Mirrors `istio.networking.v1.DestinationRule` and its messages, field for field with the
//! v1 CRD schema. See the [module docs](super) for the modelling conventions.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::decode::FromValue;
use super::encode::ToValue;

use super::{Extra, PortSelector, TypeWorkloadSelector};

/// Valid values of [`LoadBalancerSettings::simple`].
pub const SIMPLE_LB_ALGORITHMS: &[&str] = &[
    "UNSPECIFIED",
    "LEAST_CONN",
    "RANDOM",
    "PASSTHROUGH",
    "ROUND_ROBIN",
    "LEAST_REQUEST",
];

/// Valid values of [`ClientTLSSettings::mode`].
pub const CLIENT_TLS_MODES: &[&str] = &["DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL"];

/// Valid values of [`HTTPSettings::h2_upgrade_policy`].
pub const H2_UPGRADE_POLICIES: &[&str] = &["DEFAULT", "DO_NOT_UPGRADE", "UPGRADE"];

/// Valid values of [`ProxyProtocol::version`].
pub const PROXY_PROTOCOL_VERSIONS: &[&str] = &["V1", "V2"];

/// `istio.networking.v1.DestinationRule`: the `spec` of a DestinationRule.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct DestinationRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic_policy: Option<TrafficPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subsets: Option<Vec<Subset>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export_to: Option<Vec<String>>,
    /// Note: `matchLabels`, unlike ServiceEntry's `workloadSelector.labels`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload_selector: Option<TypeWorkloadSelector>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.TrafficPolicy`: policies for a destination, subset or port.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct TrafficPolicy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer: Option<LoadBalancerSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_pool: Option<ConnectionPoolSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outlier_detection: Option<OutlierDetection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<ClientTLSSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_level_settings: Option<Vec<PortTrafficPolicy>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tunnel: Option<TunnelSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_protocol: Option<ProxyProtocol>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_budget: Option<RetryBudget>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.TrafficPolicy.PortTrafficPolicy`: policies for one port
/// (no nested `portLevelSettings`, `tunnel`, `proxyProtocol` or `retryBudget`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct PortTrafficPolicy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<PortSelector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer: Option<LoadBalancerSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_pool: Option<ConnectionPoolSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outlier_detection: Option<OutlierDetection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<ClientTLSSettings>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.TrafficPolicy.TunnelSettings`: tunnel the connection (CONNECT/POST).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct TunnelSettings {
    /// `CONNECT` (default) or `POST`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_port: Option<u32>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.TrafficPolicy.ProxyProtocol`: PROXY protocol to the upstream.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct ProxyProtocol {
    /// One of [`PROXY_PROTOCOL_VERSIONS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.TrafficPolicy.RetryBudget`: limit on concurrent retries.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct RetryBudget {
    /// A plain number in `[0, 100]` (not a [`super::Percent`] object).
    #[serde(
        default,
        serialize_with = "crate::model::serialize_opt_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub percent: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_retry_concurrency: Option<u32>,
    /// Duration string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_interval: Option<String>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.Subset`: a named set of endpoints selected by `labels`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct Subset {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic_policy: Option<TrafficPolicy>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.LoadBalancerSettings`: oneof `simple` / `consistent_hash` /
/// `backend_utilization`, plus locality, zone-aware and warmup settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct LoadBalancerSettings {
    /// One of [`SIMPLE_LB_ALGORITHMS`]; oneof alternative.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simple: Option<String>,
    /// Oneof alternative.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consistent_hash: Option<ConsistentHashLB>,
    /// Oneof alternative.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_utilization: Option<BackendUtilizationLB>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locality_lb_setting: Option<LocalityLoadBalancerSetting>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone_aware_lb_setting: Option<ZoneAwareLoadBalancerSetting>,
    /// Deprecated duration string: use `warmup`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup_duration_secs: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup: Option<WarmupConfiguration>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.LoadBalancerSettings.ConsistentHashLB`: oneof hash key
/// (`http_header_name` / `http_cookie` / `use_source_ip` / `http_query_parameter_name`)
/// and oneof hash algorithm (`ring_hash` / `maglev`), plus the deprecated
/// `minimum_ring_size`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct ConsistentHashLB {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_header_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_cookie: Option<HTTPCookie>,
    #[serde(
        rename = "useSourceIp",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub use_source_ip: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_query_parameter_name: Option<String>,
    #[serde(rename = "ringHash", default, skip_serializing_if = "Option::is_none")]
    pub ring_hash: Option<RingHash>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maglev: Option<MagLev>,
    /// Deprecated (`uint64`): use `ring_hash.minimum_ring_size`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_ring_size: Option<u64>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.LoadBalancerSettings.ConsistentHashLB.RingHash`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct RingHash {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_ring_size: Option<u64>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.LoadBalancerSettings.ConsistentHashLB.MagLev`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct MagLev {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table_size: Option<u64>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.LoadBalancerSettings.ConsistentHashLB.HTTPCookie`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct HTTPCookie {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Duration string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Vec<CookieAttribute>>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.LoadBalancerSettings.ConsistentHashLB.HTTPCookie.Attribute`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct CookieAttribute {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// The `loadBalancer.backendUtilization` object (`istio.networking.v1` load-balancer
/// message): weights endpoints by backend-reported ORCA utilization.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct BackendUtilizationLB {
    /// Duration string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_expiration_period: Option<String>,
    /// Duration string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_update_period: Option<String>,
    /// Duration string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_stabilization_period: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_utilization_penalty_percent: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_names_for_computing_utilization: Option<Vec<String>>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.LocalityLoadBalancerSetting`: locality-weighted distribution and
/// failover.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct LocalityLoadBalancerSetting {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribute: Option<Vec<LocalityDistribute>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failover: Option<Vec<LocalityFailover>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failover_priority: Option<Vec<String>>,
    /// `BoolValue`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.LocalityLoadBalancerSetting.Distribute`: traffic from locality
/// `from` split over localities `to` (locality → weight).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct LocalityDistribute {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<BTreeMap<String, u32>>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.LocalityLoadBalancerSetting.Failover`: failover from region `from`
/// to region `to`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct LocalityFailover {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// The `loadBalancer.zoneAwareLbSetting` object (`istio.networking.v1` zone-aware
/// load-balancer settings).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct ZoneAwareLoadBalancerSetting {
    /// `BoolValue`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failover: Option<Vec<LocalityFailover>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failover_priority: Option<Vec<String>>,
    /// `UInt32Value`, at least 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_cluster_size: Option<u32>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.WarmupConfiguration`: slow start for new endpoints.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct WarmupConfiguration {
    /// Duration string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    /// `DoubleValue` in `[0, 100]`.
    #[serde(
        default,
        serialize_with = "crate::model::serialize_opt_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub minimum_percent: Option<f64>,
    /// `DoubleValue`, at least 0.
    #[serde(
        default,
        serialize_with = "crate::model::serialize_opt_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub aggression: Option<f64>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.ConnectionPoolSettings`: TCP and HTTP connection pool limits.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionPoolSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp: Option<TCPSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HTTPSettings>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.ConnectionPoolSettings.TCPSettings`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct TCPSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<i32>,
    /// Duration string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_timeout: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_keepalive: Option<TcpKeepalive>,
    /// Duration string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_connection_duration: Option<String>,
    /// Duration string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<String>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.ConnectionPoolSettings.TCPSettings.TcpKeepalive`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct TcpKeepalive {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probes: Option<u32>,
    /// Duration string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// Duration string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.ConnectionPoolSettings.HTTPSettings`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct HTTPSettings {
    #[serde(
        rename = "http1MaxPendingRequests",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub http1_max_pending_requests: Option<i32>,
    #[serde(
        rename = "http2MaxRequests",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub http2_max_requests: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_requests_per_connection: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_retries: Option<i32>,
    /// Duration string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<String>,
    /// One of [`H2_UPGRADE_POLICIES`].
    #[serde(
        rename = "h2UpgradePolicy",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub h2_upgrade_policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_client_protocol: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrent_streams: Option<i32>,
    #[serde(
        rename = "http2KeepAlive",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub http2_keep_alive: Option<HTTP2KeepAlive>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// The `connectionPool.http.http2KeepAlive` object (`istio.networking.v1`
/// `ConnectionPoolSettings.HTTPSettings`): HTTP/2 PING frames to the upstream.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct HTTP2KeepAlive {
    /// Duration string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
    /// Duration string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.OutlierDetection`: circuit breaker ejecting unhealthy hosts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct OutlierDetection {
    /// Deprecated (`int32`): use `consecutive_5xx_errors` / `consecutive_gateway_errors`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consecutive_errors: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split_external_local_origin_errors: Option<bool>,
    /// `UInt32Value`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consecutive_local_origin_failures: Option<u32>,
    /// `UInt32Value`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consecutive_gateway_errors: Option<u32>,
    /// `UInt32Value`.
    #[serde(
        rename = "consecutive5xxErrors",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub consecutive_5xx_errors: Option<u32>,
    /// Duration string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
    /// Duration string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_ejection_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ejection_percent: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_health_percent: Option<i32>,
    /// HTTP status codes in `[100, 599]` counted as errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outlier_detection_http_error_codes: Option<Vec<u32>>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.ClientTLSSettings`: TLS for connections to the upstream.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct ClientTLSSettings {
    /// One of [`CLIENT_TLS_MODES`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_certificate: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_certificates: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_alt_names: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sni: Option<String>,
    /// `BoolValue`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure_skip_verify: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_crl: Option<String>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_util::round_trip;
    use crate::model::OptSliceExt;
    use serde_json::{json, Value};

    fn full_lb() -> Value {
        json!({
            "simple": "LEAST_REQUEST",
            "consistentHash": {
                "httpHeaderName": "x-user",
                "httpCookie": {"name": "c", "path": "/", "ttl": "0s",
                               "attributes": [{"name": "SameSite", "value": "Strict"}]},
                "useSourceIp": true,
                "httpQueryParameterName": "q",
                "ringHash": {"minimumRingSize": 1024},
                "maglev": {"tableSize": 65537},
                "minimumRingSize": 512
            },
            "backendUtilization": {
                "weightExpirationPeriod": "180s", "weightUpdatePeriod": "1s",
                "weightStabilizationPeriod": "10s", "errorUtilizationPenaltyPercent": 100,
                "metricNamesForComputingUtilization": ["named_metrics.foo"]
            },
            "localityLbSetting": {
                "distribute": [{"from": "us-west/zone1/*", "to": {"us-west/zone1/*": 80, "us-west/zone2/*": 20}}],
                "failover": [{"from": "us-east", "to": "eu-west"}],
                "failoverPriority": ["topology.istio.io/network"],
                "enabled": true
            },
            "zoneAwareLbSetting": {
                "enabled": false, "failover": [{"from": "a", "to": "b"}],
                "failoverPriority": ["x"], "minClusterSize": 3
            },
            "warmupDurationSecs": "60s",
            "warmup": {"duration": "30s", "minimumPercent": 10.5, "aggression": 1.5}
        })
    }

    fn full_port_policy() -> Value {
        json!({
            "port": {"number": 80},
            "loadBalancer": full_lb(),
            "connectionPool": {
                "tcp": {
                    "maxConnections": 100, "connectTimeout": "30ms",
                    "tcpKeepalive": {"probes": 9, "time": "7200s", "interval": "75s"},
                    "maxConnectionDuration": "1h", "idleTimeout": "1h"
                },
                "http": {
                    "http1MaxPendingRequests": 1, "http2MaxRequests": 2,
                    "maxRequestsPerConnection": 3, "maxRetries": 4, "idleTimeout": "5s",
                    "h2UpgradePolicy": "UPGRADE", "useClientProtocol": true,
                    "maxConcurrentStreams": 6,
                    "http2KeepAlive": {"interval": "10s", "timeout": "3s"}
                }
            },
            "outlierDetection": {
                "consecutiveErrors": 5, "splitExternalLocalOriginErrors": true,
                "consecutiveLocalOriginFailures": 5, "consecutiveGatewayErrors": 3,
                "consecutive5xxErrors": 7, "interval": "5m", "baseEjectionTime": "15m",
                "maxEjectionPercent": 100, "minHealthPercent": 10,
                "outlierDetectionHttpErrorCodes": [503, 504]
            },
            "tls": {
                "mode": "MUTUAL", "clientCertificate": "/c.pem", "privateKey": "/k.pem",
                "caCertificates": "/ca.pem", "credentialName": "cred",
                "subjectAltNames": ["spiffe://a"], "sni": "a.example.com",
                "insecureSkipVerify": false, "caCrl": "/crl.pem"
            }
        })
    }

    #[test]
    fn full_destination_rule_round_trip() {
        let mut top = full_port_policy();
        let obj = top.as_object_mut().unwrap();
        obj.remove("port");
        obj.insert("portLevelSettings".into(), json!([full_port_policy()]));
        obj.insert(
            "tunnel".into(),
            json!({"protocol": "CONNECT", "targetHost": "10.0.0.1", "targetPort": 8443}),
        );
        obj.insert("proxyProtocol".into(), json!({"version": "V2"}));
        obj.insert(
            "retryBudget".into(),
            json!({"percent": 25.5, "minRetryConcurrency": 3, "budgetInterval": "10s"}),
        );
        let dr: DestinationRule = round_trip(json!({
            "host": "reviews.default.svc.cluster.local",
            "trafficPolicy": top.clone(),
            "subsets": [{"name": "v1", "labels": {"version": "v1"}, "trafficPolicy": top}],
            "exportTo": ["*"],
            "workloadSelector": {"matchLabels": {"app": "ratings"}}
        }));
        let tp = dr.traffic_policy.as_ref().unwrap();
        let http = tp
            .connection_pool
            .as_ref()
            .and_then(|c| c.http.as_ref())
            .unwrap();
        assert_eq!(http.http1_max_pending_requests, Some(1));
        assert_eq!(http.h2_upgrade_policy.as_deref(), Some("UPGRADE"));
        let od = tp.outlier_detection.as_ref().unwrap();
        assert_eq!(od.consecutive_5xx_errors, Some(7));
        let ch = tp
            .load_balancer
            .as_ref()
            .and_then(|l| l.consistent_hash.as_ref())
            .unwrap();
        assert_eq!(ch.use_source_ip, Some(true));
        assert_eq!(
            ch.ring_hash.as_ref().and_then(|r| r.minimum_ring_size),
            Some(1024)
        );
        assert_eq!(
            tp.port_level_settings.items()[0]
                .port
                .as_ref()
                .and_then(|p| p.number),
            Some(80)
        );
        assert_eq!(dr.subsets.items()[0].name.as_deref(), Some("v1"));
    }

    #[test]
    fn bookinfo_mtls_round_trip() {
        round_trip::<DestinationRule>(json!({
            "host": "reviews",
            "trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}},
            "subsets": [
                {"name": "v1", "labels": {"version": "v1"}},
                {"name": "v2", "labels": {"version": "v2"}}
            ]
        }));
    }

    #[test]
    fn enum_consts() {
        assert!(CLIENT_TLS_MODES.contains(&"ISTIO_MUTUAL"));
        assert!(SIMPLE_LB_ALGORITHMS.contains(&"ROUND_ROBIN"));
        assert!(H2_UPGRADE_POLICIES.contains(&"DO_NOT_UPGRADE"));
        assert!(PROXY_PROTOCOL_VERSIONS.contains(&"V1"));
    }
}
