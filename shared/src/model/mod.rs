//! Rust data types for Istio's traffic API (`networking.istio.io`): VirtualService,
//! DestinationRule, Gateway, ServiceEntry and WorkloadEntry, plus the few Kubernetes
//! objects (Service, Pod, Deployment, Namespace, Node, Secret) that Istio's analyzers look at.
//!
//! The types follow the `v1` CRD OpenAPI schemas field for field (`v1beta1` and `v1alpha3`
//! have the same schema). An Istio kind's type (e.g. [`VirtualService`]) is its `spec`, like
//! the Istio proto message of the same name; the object's `metadata` is [`ObjectMeta`]. A
//! Kubernetes kind's type (e.g. [`Service`]) is the whole object minus `apiVersion`, `kind`
//! and `metadata`.
//!
//! # Design choices
//!
//! The model is built for a lossless load → validate → save cycle, not for making invalid
//! states unrepresentable:
//!
//! * **Every field is optional** (`Option<T>`, skipped when `None`), so a document that
//!   omits a required field still loads and the validator reports it with a field path.
//! * **Every struct ends with `#[serde(flatten)] extra: Extra`**: fields this model does
//!   not know (legacy fields such as `websocketUpgrade`, fields from a newer Istio) survive
//!   load → save unchanged. Validators can list them as warnings.
//! * **Oneofs are structs, not enums.** Istio's proto `oneof`s (`StringMatch`
//!   exact/prefix/regex, `Delay` fixedDelay/exponentialDelay, `Abort`
//!   httpStatus/grpcStatus/http2Error, `HTTPBody` string/bytes, `LoadBalancerSettings`
//!   simple/consistentHash/backendUtilization, `ConsistentHashLB` hash keys, `HTTPRedirect`
//!   port/derivePort, …) are modelled with one `Option` per alternative, so a document
//!   that sets two alternatives loads and the validator can say which ones, where.
//! * **Enum-valued strings are `Option<String>`** (TLS modes, load-balancer algorithms,
//!   resolution, …) so unknown values load and are reported by validation. Each module
//!   has `pub const` arrays of the valid values (e.g. [`CLIENT_TLS_MODES`]).
//! * **Numbers**: `uint32` fields are `u32`, `int32` fields `i32` (a negative route weight
//!   loads so that validation can report it), `uint64` fields `u64`, doubles `f64`.
//!   Protobuf wrapper types (`UInt32Value`, `BoolValue`) are the plain `Option`.
//!   A float with an integral value is saved as an integer (`50`, not `50.0`).
//!   Durations are strings (`"1s"`, `"100ms"`), checked by validation.
//! * [`without_extra`] serializes with every `extra` hidden (only known fields), which the
//!   loader uses to list unknown fields.
//! * **Maps** are `BTreeMap<String, _>`; key order is not significant in Istio's API.
//!
//! All types deserialize from `serde_json::Value` (the loader converts YAML to JSON values).

use std::cell::Cell;

pub mod common;
pub mod decode;
pub mod destination_rule;
pub mod encode;
pub mod gateway;
pub mod k8s;
pub mod service_entry;
pub mod virtual_service;

pub use common::*;
pub use destination_rule::*;
pub use gateway::*;
pub use k8s::*;
pub use service_entry::*;
pub use virtual_service::*;

/// Fields of a JSON object that the model does not know, kept for a lossless round trip.
pub type Extra = serde_json::Map<String, serde_json::Value>;

thread_local! {
    static HIDE_EXTRA: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with every `extra` map hidden from serialization, so that serializing a model
/// value inside `f` yields only the fields the model knows. Comparing that with the raw
/// document lists the unknown fields. Nested calls and panics restore the previous state.
pub fn without_extra<T>(f: impl FnOnce() -> T) -> T {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            HIDE_EXTRA.with(|h| h.set(self.0));
        }
    }
    let _restore = Restore(HIDE_EXTRA.with(|h| h.replace(true)));
    f()
}

/// `skip_serializing_if` predicate of every `extra` field: skips it when empty or inside
/// [`without_extra`].
#[doc(hidden)]
pub fn skip_extra(extra: &Extra) -> bool {
    extra.is_empty() || HIDE_EXTRA.with(|h| h.get())
}

/// `serialize_with` of every `f64` field: a float with an integral value is written as an
/// integer (`50`, as in the YAML people write and in Istio's own JSON), so `value: 50`
/// round-trips to `50`, not `50.0`.
#[doc(hidden)]
pub fn serialize_opt_f64<S>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error>
where
    S: serde::Serializer,
{
    /// 2^53: integers below this are exact in an `f64`.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    match *v {
        Some(f) if f.fract() == 0.0 && f.abs() < EXACT => s.serialize_i64(f as i64),
        Some(f) => s.serialize_f64(f),
        None => s.serialize_none(),
    }
}

/// Convenience access to optional lists: `None` reads as an empty slice.
pub trait OptSliceExt<T> {
    /// The items of the list, or an empty slice when the list is absent.
    fn items(&self) -> &[T];
}

impl<T> OptSliceExt<T> for Option<Vec<T>> {
    fn items(&self) -> &[T] {
        self.as_deref().unwrap_or(&[])
    }
}

#[cfg(test)]
pub(crate) mod test_util {
    use serde::de::DeserializeOwned;
    use serde::Serialize;
    use serde_json::Value;

    /// Deserializes `v` as `T`, checks that every field of `v` is known to the model
    /// (nothing lands in an `extra` map), and that serializing gives `v` back.
    pub fn round_trip<T>(v: Value) -> T
    where
        T: DeserializeOwned + Serialize,
    {
        let t: T = serde_json::from_value(v.clone()).unwrap();
        let known = super::without_extra(|| serde_json::to_value(&t).unwrap());
        assert_eq!(known, v, "some fields are not known to the model");
        let back = serde_json::to_value(&t).unwrap();
        assert_eq!(back, v);
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn opt_slice_items() {
        let none: Option<Vec<u32>> = None;
        assert!(none.items().is_empty());
        assert_eq!(Some(vec![1, 2]).items(), &[1, 2]);
    }

    #[test]
    fn unknown_fields_survive() {
        let v = json!({
            "hosts": ["a"],
            "futureField": {"x": 1},
            "http": [{"websocketUpgrade": true, "route": [{"destination": {"host": "a", "later": 1}}]}]
        });
        let vs: VirtualService = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(vs.extra.get("futureField"), Some(&json!({"x": 1})));
        let http = &vs.http.items()[0];
        assert_eq!(http.extra.get("websocketUpgrade"), Some(&json!(true)));
        assert_eq!(serde_json::to_value(&vs).unwrap(), v);
    }

    #[test]
    fn without_extra_hides_unknown_fields() {
        let v = json!({"hosts": ["a"], "x": 1, "http": [{"y": 2, "timeout": "1s"}]});
        let vs: VirtualService = serde_json::from_value(v.clone()).unwrap();
        let known = without_extra(|| serde_json::to_value(&vs).unwrap());
        assert_eq!(known, json!({"hosts": ["a"], "http": [{"timeout": "1s"}]}));
        let nested = without_extra(|| without_extra(|| 1) + 1);
        assert_eq!(nested, 2);
        assert_eq!(serde_json::to_value(&vs).unwrap(), v);
    }

    #[test]
    fn empty_object_loads_and_saves_empty() {
        let v = json!({});
        let dr: DestinationRule = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(dr, DestinationRule::default());
        assert_eq!(serde_json::to_value(&dr).unwrap(), v);
    }

    #[test]
    fn wrong_type_is_an_error() {
        let r: Result<Gateway, _> =
            serde_json::from_value(json!({"servers": [{"port": {"number": "eighty"}}]}));
        assert!(r.is_err());
    }
}
