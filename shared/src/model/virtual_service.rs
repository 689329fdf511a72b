//! `VirtualService` (`networking.istio.io/v1`): HTTP, TLS and TCP routing rules.
//!
//! Mirrors `istio.networking.v1.VirtualService` and its messages, field for field with the
//! v1 CRD schema. See the [module docs](super) for the modelling conventions.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::decode::FromValue;
use super::encode::ToValue;

use super::{Destination, Extra, Headers, Percent, StringMatch};

/// Valid values of [`HTTPRedirect::derive_port`].
pub const REDIRECT_DERIVE_PORTS: &[&str] = &["FROM_PROTOCOL_DEFAULT", "FROM_REQUEST_PORT"];

/// Valid values of [`CorsPolicy::unmatched_preflights`].
pub const CORS_UNMATCHED_PREFLIGHTS: &[&str] = &["UNSPECIFIED", "FORWARD", "IGNORE"];

/// `istio.networking.v1.VirtualService`: the `spec` of a VirtualService.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct VirtualService {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hosts: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateways: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<Vec<HTTPRoute>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<Vec<TLSRoute>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp: Option<Vec<TCPRoute>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export_to: Option<Vec<String>>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.HTTPRoute`: conditions and actions for HTTP/1.1, HTTP/2 and gRPC.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct HTTPRoute {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(rename = "match", default, skip_serializing_if = "Option::is_none")]
    pub r#match: Option<Vec<HTTPMatchRequest>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<Vec<HTTPRouteDestination>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect: Option<HTTPRedirect>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direct_response: Option<HTTPDirectResponse>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delegate: Option<Delegate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rewrite: Option<HTTPRewrite>,
    /// Duration string, e.g. `"10s"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<HTTPRetry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<HTTPFaultInjection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mirror: Option<Destination>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mirrors: Option<Vec<HTTPMirrorPolicy>>,
    /// Deprecated (`UInt32Value`): use `mirror_percentage`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mirror_percent: Option<u32>,
    /// Deprecated snake_case spelling `mirror_percent`, still accepted by the CRD schema.
    #[serde(
        rename = "mirror_percent",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub mirror_percent_legacy: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mirror_percentage: Option<Percent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cors_policy: Option<CorsPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<Headers>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.Delegate`: the VirtualService an HTTP route delegates to.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct Delegate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.HTTPMatchRequest`: conditions an HTTP request must meet
/// (all fields ANDed).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct HTTPMatchRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<StringMatch>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme: Option<StringMatch>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<StringMatch>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authority: Option<StringMatch>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<BTreeMap<String, StringMatch>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_labels: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateways: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_params: Option<BTreeMap<String, StringMatch>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_uri_case: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub without_headers: Option<BTreeMap<String, StringMatch>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stat_prefix: Option<String>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.HTTPRouteDestination`: a weighted HTTP destination.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct HTTPRouteDestination {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<Destination>,
    /// `int32`: a negative weight loads so that validation can report it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<Headers>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.RouteDestination`: a weighted TCP/TLS destination.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct RouteDestination {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<Destination>,
    /// `int32`: a negative weight loads so that validation can report it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<i32>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.L4MatchAttributes`: TCP match conditions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct L4MatchAttributes {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_subnets: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_subnet: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_labels: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateways: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_namespace: Option<String>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.TLSMatchAttributes`: TLS (SNI) match conditions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct TLSMatchAttributes {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sni_hosts: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_subnets: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_labels: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateways: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_namespace: Option<String>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.TCPRoute`: conditions and destinations for TCP traffic.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct TCPRoute {
    #[serde(rename = "match", default, skip_serializing_if = "Option::is_none")]
    pub r#match: Option<Vec<L4MatchAttributes>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<Vec<RouteDestination>>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.TLSRoute`: conditions and destinations for unterminated TLS traffic.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct TLSRoute {
    #[serde(rename = "match", default, skip_serializing_if = "Option::is_none")]
    pub r#match: Option<Vec<TLSMatchAttributes>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<Vec<RouteDestination>>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.HTTPRedirect`. `port` and `derive_port` form a oneof.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct HTTPRedirect {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authority: Option<String>,
    /// Oneof alternative to `derive_port`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u32>,
    /// Oneof alternative to `port`; one of [`REDIRECT_DERIVE_PORTS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub derive_port: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_code: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix_rewrite: Option<String>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.HTTPDirectResponse`: a fixed response `status` and optional `body`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct HTTPDirectResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<HTTPBody>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.HTTPBody`: oneof `string` / `bytes` (base64).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct HTTPBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string: Option<String>,
    /// Base64-encoded bytes, kept as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<String>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.HTTPRewrite`: rewrite of URI and/or authority before forwarding.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct HTTPRewrite {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authority: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri_regex_rewrite: Option<RegexRewrite>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.RegexRewrite`: RE2 `match` and its `rewrite` substitution.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct RegexRewrite {
    #[serde(rename = "match", default, skip_serializing_if = "Option::is_none")]
    pub r#match: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rewrite: Option<String>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.HTTPRetry`: retry policy.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct HTTPRetry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<i32>,
    /// Duration string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_try_timeout: Option<String>,
    /// Comma-separated retry conditions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_on: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_remote_localities: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_ignore_previous_hosts: Option<bool>,
    /// Duration string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff: Option<String>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.CorsPolicy`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct CorsPolicy {
    /// Deprecated exact-match origins: use `allow_origins`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_origin: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_origins: Option<Vec<StringMatch>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_methods: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_headers: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expose_headers: Option<Vec<String>>,
    /// Duration string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_credentials: Option<bool>,
    /// One of [`CORS_UNMATCHED_PREFLIGHTS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unmatched_preflights: Option<String>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.HTTPFaultInjection`: `delay` and/or `abort` faults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct HTTPFaultInjection {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<Delay>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abort: Option<Abort>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.HTTPFaultInjection.Delay`: oneof `fixed_delay` /
/// `exponential_delay`, plus `percentage` (and the deprecated integer `percent`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct Delay {
    /// Deprecated: use `percentage`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent: Option<i32>,
    /// Duration string; oneof alternative.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_delay: Option<String>,
    /// Duration string; oneof alternative (not implemented by Istio).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exponential_delay: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percentage: Option<Percent>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.HTTPFaultInjection.Abort`: oneof `http_status` / `grpc_status` /
/// `http2_error`, plus `percentage`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct Abort {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grpc_status: Option<String>,
    #[serde(
        rename = "http2Error",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub http2_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percentage: Option<Percent>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.HTTPMirrorPolicy`: one mirror destination and its `percentage`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct HTTPMirrorPolicy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<Destination>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percentage: Option<Percent>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_util::round_trip;
    use crate::model::OptSliceExt;
    use serde_json::json;

    #[test]
    fn full_http_route_round_trip() {
        let vs: VirtualService = round_trip(json!({
            "hosts": ["reviews", "reviews.example.com"],
            "gateways": ["mesh", "istio-system/ingress"],
            "exportTo": ["."],
            "http": [{
                "name": "r1",
                "match": [{
                    "name": "m1",
                    "uri": {"prefix": "/api"},
                    "scheme": {"exact": "https"},
                    "method": {"regex": "GET|POST"},
                    "authority": {"exact": "example.com"},
                    "headers": {"end-user": {"exact": "jason"}, "x-any": {}},
                    "port": 8080,
                    "sourceLabels": {"app": "productpage"},
                    "gateways": ["mesh"],
                    "queryParams": {"q": {"prefix": "a"}},
                    "ignoreUriCase": true,
                    "withoutHeaders": {"x-skip": {"exact": "1"}},
                    "sourceNamespace": "default",
                    "statPrefix": "stats"
                }],
                "route": [{
                    "destination": {"host": "reviews", "subset": "v2", "port": {"number": 9080}},
                    "weight": -5,
                    "headers": {"request": {"set": {"x-a": "b"}}}
                }],
                "rewrite": {"uri": "/", "authority": "a", "uriRegexRewrite": {"match": "^/a(.*)", "rewrite": "/b\\1"}},
                "timeout": "10s",
                "retries": {
                    "attempts": 3, "perTryTimeout": "2s", "retryOn": "5xx,reset",
                    "retryRemoteLocalities": true, "retryIgnorePreviousHosts": false, "backoff": "25ms"
                },
                "fault": {
                    "delay": {"percent": 10, "fixedDelay": "5s", "exponentialDelay": "1s", "percentage": {"value": 0.1}},
                    "abort": {"httpStatus": 503, "grpcStatus": "UNAVAILABLE", "http2Error": "CANCEL", "percentage": {"value": 50.5}}
                },
                "mirror": {"host": "mirror", "subset": "v1"},
                "mirrors": [{"destination": {"host": "m2"}, "percentage": {"value": 5.5}}],
                "mirrorPercent": 20,
                "mirror_percent": 30,
                "mirrorPercentage": {"value": 12.5},
                "corsPolicy": {
                    "allowOrigin": ["https://a"],
                    "allowOrigins": [{"exact": "https://b"}, {"regex": ".*"}],
                    "allowMethods": ["GET"], "allowHeaders": ["x-a"], "exposeHeaders": ["x-b"],
                    "maxAge": "24h", "allowCredentials": true, "unmatchedPreflights": "IGNORE"
                },
                "headers": {"response": {"add": {"x-c": "d"}, "remove": ["x-e"]}}
            }, {
                "redirect": {"uri": "/n", "authority": "b", "port": 8443, "derivePort": "FROM_REQUEST_PORT",
                             "scheme": "https", "redirectCode": 301, "prefixRewrite": "/p"}
            }, {
                "directResponse": {"status": 418, "body": {"string": "teapot", "bytes": "dGVh"}}
            }, {
                "delegate": {"name": "child", "namespace": "ns"}
            }],
            "tls": [{
                "match": [{
                    "sniHosts": ["a.example.com"], "destinationSubnets": ["10.0.0.0/8"], "port": 443,
                    "sourceLabels": {"app": "a"}, "gateways": ["gw"], "sourceNamespace": "ns"
                }],
                "route": [{"destination": {"host": "a"}, "weight": 100}]
            }],
            "tcp": [{
                "match": [{
                    "destinationSubnets": ["10.0.0.1"], "port": 3306, "sourceSubnet": "10.1.0.0/16",
                    "sourceLabels": {"app": "b"}, "gateways": ["mesh"], "sourceNamespace": "ns"
                }],
                "route": [{"destination": {"host": "mysql", "port": {"number": 3306}}, "weight": 0}]
            }]
        }));
        let http = vs.http.items();
        assert_eq!(http.len(), 4);
        assert_eq!(http[0].mirror_percent, Some(20));
        assert_eq!(http[0].mirror_percent_legacy, Some(30));
        assert_eq!(http[0].route.items()[0].weight, Some(-5));
        let abort = http[0].fault.as_ref().and_then(|f| f.abort.as_ref());
        assert_eq!(abort.and_then(|a| a.http2_error.as_deref()), Some("CANCEL"));
        let m = &http[0].r#match.items()[0];
        assert_eq!(m.headers.as_ref().map(|h| h.len()), Some(2));
        assert_eq!(
            http[1]
                .redirect
                .as_ref()
                .and_then(|r| r.derive_port.as_deref()),
            Some("FROM_REQUEST_PORT")
        );
        assert_eq!(vs.tcp.items()[0].route.items()[0].weight, Some(0));
    }

    #[test]
    fn bookinfo_reviews_round_trip() {
        round_trip::<VirtualService>(json!({
            "hosts": ["reviews"],
            "http": [{
                "match": [{"headers": {"end-user": {"exact": "jason"}}}],
                "route": [{"destination": {"host": "reviews", "subset": "v2"}}]
            }, {
                "route": [{"destination": {"host": "reviews", "subset": "v3"}}]
            }]
        }));
    }

    #[test]
    fn enum_consts_are_uppercase() {
        for v in REDIRECT_DERIVE_PORTS
            .iter()
            .chain(CORS_UNMATCHED_PREFLIGHTS)
        {
            assert_eq!(v.to_uppercase(), *v);
        }
    }
}
