//! Encoding model values as `serde_json::Value` without serde's `Serializer` machinery.
//!
//! [`ToValue`] gives exactly what `serde_json::to_value` gives for the model's `Serialize`
//! derives (`#[derive(ToValue)]` reads the same `#[serde(...)]` attributes; equality is
//! tested on the whole Istio corpus in `shared/tests/decode_equivalence.rs`), including
//! [`without_extra`](super::without_extra). The loader's export (`Resource::to_value`, the
//! YAML writer's input) and validation's canonical match keys use it: serde's derived
//! `serialize` with `#[serde(flatten)]` goes through a map serializer per struct and is
//! several times larger in WebAssembly. The `Serialize` derives stay for library users.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

pub use meshroute_model_derive::ToValue;

/// A model value as JSON (what `serde_json::to_value` gives for its `Serialize`).
pub trait ToValue {
    fn to_value(&self) -> Value;
}

/// Inserts `key: v` (what `#[derive(ToValue)]` calls for each field). Not inlined: one copy
/// per field type, not one per field.
#[doc(hidden)]
#[inline(never)]
pub fn put<T: ToValue>(m: &mut Map<String, Value>, key: &'static str, v: &T) {
    m.insert(String::from(key), v.to_value());
}

/// Appends a flattened `extra` map's entries (a key already present keeps its place and
/// takes the new value, as with serde's flatten).
#[doc(hidden)]
#[inline(never)]
pub fn put_flat(m: &mut Map<String, Value>, extra: &Map<String, Value>) {
    for (k, v) in extra {
        m.insert(k.clone(), v.clone());
    }
}

macro_rules! leaf {
    ($($t:ty),* $(,)?) => {$(
        impl ToValue for $t {
            fn to_value(&self) -> Value {
                Value::from(*self)
            }
        }
    )*};
}

// `f64`: `Value::from` is serde_json's own conversion (non-finite → `null`).
leaf!(bool, u16, u32, u64, i32, i64, f64);

impl ToValue for String {
    fn to_value(&self) -> Value {
        Value::String(self.clone())
    }
}

impl ToValue for Value {
    fn to_value(&self) -> Value {
        self.clone()
    }
}

impl ToValue for Map<String, Value> {
    fn to_value(&self) -> Value {
        Value::Object(self.clone())
    }
}

impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value {
        match self {
            Some(v) => v.to_value(),
            None => Value::Null,
        }
    }
}

impl<T: ToValue> ToValue for Vec<T> {
    fn to_value(&self) -> Value {
        Value::Array(self.iter().map(ToValue::to_value).collect())
    }
}

impl<T: ToValue> ToValue for BTreeMap<String, T> {
    fn to_value(&self) -> Value {
        let mut m = Map::new();
        for (k, v) in self {
            m.insert(k.clone(), v.to_value());
        }
        Value::Object(m)
    }
}
