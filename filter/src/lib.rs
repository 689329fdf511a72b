//! meshroute-filter: a proxy-wasm (ABI 0.2.1) HTTP filter that enforces Istio
//! VirtualService/DestinationRule rules inside stock Envoy.
//!
//! A thin adapter over `meshroute-model`: the plugin configuration is the JSON
//! `FilterConfig` that `meshroute render` writes (Istio resources + settings); it is
//! loaded, validated and compiled into an [`Engine`](meshroute_model::engine::Engine) in
//! `on_configure` (any error is logged with resource and path, and the configuration is
//! refused). Per request the engine decides and the filter acts:
//!
//! * **route**: the request header named `settings.cluster_header` (default
//!   `x-meshroute-cluster`) is set to the Istio cluster name; the rendered Envoy route uses
//!   `cluster_header`, and Envoy re-selects the route after the filter changed headers
//!   (ABI 0.2.1 clears the route cache). Client-sent copies of that header and of Envoy's
//!   fault/retry/timeout control headers are stripped first.
//! * weighted destinations: uniform random per request (seeded with `getrandom`), or sticky
//!   by a header/cookie hash (`settings.sticky`, see [`config`]);
//! * rewrites (`:path`, `:authority`), request/response header operations;
//! * timeout through the router's `x-envoy-upstream-rq-timeout-ms`; Istio's default retry
//!   policy is the rendered routes' own, any other policy goes through the router's
//!   `x-envoy-*` retry headers (see `meshroute_model::envoy::filter_config`);
//! * fault delay (the request is paused and resumed from the root context's tick through a
//!   deadline queue, [`timers`]), abort (local reply `fault filter abort`, gRPC aborts with
//!   `grpc-status`), both (delay, then abort);
//! * redirect, direct response, no route (404) as local replies;
//! * mirrors: fire-and-forget HTTP calls to the mirror cluster with the `-shadow` host;
//! * metrics per VirtualService rule and destination ([`metrics`]).
//!
//! Layout: [`config`] (configuration → compiled routes), [`plan`] (decision → actions, pure),
//! [`timers`] (delay queue and counter flush), [`metrics`] (names), [`headers`] (the
//! request header map read in place), [`http`] (the filter over an abstract
//! host, with a mock-host test suite) and, on wasm only, the proxy-wasm contexts.

pub mod config;
#[doc(hidden)]
pub mod fuzzing;
pub mod headers;
pub mod http;
pub mod metrics;
pub mod plan;
pub mod timers;

#[cfg(target_family = "wasm")]
mod abi;
#[cfg(target_family = "wasm")]
mod wasm;

pub use config::{compile, Compiled, Sticky};

/// Crate version (logged at configuration).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
