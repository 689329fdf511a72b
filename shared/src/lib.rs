//! meshroute-model: Istio's traffic API (VirtualService, DestinationRule,
//! Gateway, ServiceEntry, WorkloadEntry) in Rust, with the Kubernetes objects
//! analysis needs.
//!
//! - [`yaml`]: YAML/JSON streams in and out, with line numbers for every field path.
//! - [`model`]: typed resources that keep unknown fields (lossless round trip).
//! - [`load`]: files/directories/strings → [`load::Resource`]s + diagnostics.
//! - [`diag`]: the diagnostic type every check reports.
//! - [`host`], [`duration`]: Istio's host-name and duration rules.
//!
//! No proxy-wasm, no leptos: this crate builds for native, `wasm32-wasip1`
//! (the Envoy filter) and `wasm32-unknown-unknown` (the browser editor).

pub mod analyze;
pub mod check;
pub mod cluster;
pub mod diag;
pub mod duration;
pub mod engine;
pub mod envoy;
pub mod host;
pub mod lint;
pub mod load;
pub mod model;
pub mod stats;
pub mod validate;
pub mod yaml;

pub use check::{check, CheckOptions};
pub use diag::{Diagnostic, Level};
pub use load::{load_path, load_str, load_values, Document, Kind, Loaded, Resource, Spec};
