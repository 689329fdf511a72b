//! Decoding model types from an owned [`serde_json::Value`], with the field path of the
//! first wrong type.
//!
//! The loader's path to the typed model. It reads the same JSON names as the types' serde
//! derives (`#[derive(FromValue)]` reads their `#[serde(...)]` attributes) and gives the
//! same error messages for wrong types (leaves are decoded by serde itself), but without
//! `#[serde(flatten)]`'s buffered deserialization and without `serde_path_to_error`: each
//! struct matches its object's keys directly, puts unknown ones into `extra`, and a failing
//! field adds its key or index to the error's path on the way out. This is most of the
//! difference in code size between loading with serde and loading with this module (the
//! Envoy filter and the browser editor are size-constrained WebAssembly).
//!
//! The serde derives stay: they are the model's public (de)serialization API.

use std::collections::BTreeMap;

use serde::de::{Error as _, Unexpected};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::yaml::{join_index, join_key};

pub use meshroute_model_derive::FromValue;

/// A model type that can be decoded from an owned JSON value.
pub trait FromValue: Sized {
    fn from_value(value: Value) -> Result<Self, DecodeError>;
}

/// One step of an error path.
#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Key(String),
    Index(usize),
}

/// A wrong type (or missing required field) and where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodeError {
    /// Innermost segment first (segments are added while the error travels outwards).
    rev_path: Vec<Segment>,
    message: String,
}

impl DecodeError {
    /// An error with `message` at the current value.
    pub fn new(message: impl Into<String>) -> Self {
        DecodeError {
            rev_path: Vec::new(),
            message: message.into(),
        }
    }

    /// From a serde error (the message serde_json gives for the same input).
    pub fn from_json(e: serde_json::Error) -> Self {
        DecodeError::new(e.to_string())
    }

    /// serde's "invalid type: …, expected …" for `value`.
    pub fn invalid_type(value: &Value, expected: &str) -> Self {
        let n;
        let unexpected = match value {
            Value::Null => Unexpected::Unit,
            Value::Bool(b) => Unexpected::Bool(*b),
            Value::Number(x) => {
                if let Some(u) = x.as_u64() {
                    Unexpected::Unsigned(u)
                } else if let Some(i) = x.as_i64() {
                    Unexpected::Signed(i)
                } else {
                    n = x.as_f64().unwrap_or(f64::NAN);
                    Unexpected::Float(n)
                }
            }
            Value::String(s) => Unexpected::Str(s),
            Value::Array(_) => Unexpected::Seq,
            Value::Object(_) => Unexpected::Map,
        };
        Self::from_json(serde_json::Error::invalid_type(unexpected, &expected))
    }

    /// serde's "missing field `name`".
    pub fn missing_field(name: &'static str) -> Self {
        Self::from_json(serde_json::Error::missing_field(name))
    }

    /// The error, one level out: inside the object key `key`.
    pub fn in_key(mut self, key: &str) -> Self {
        self.rev_path.push(Segment::Key(key.to_owned()));
        self
    }

    /// The error, one level out: inside the array element `index`.
    pub fn in_index(mut self, index: usize) -> Self {
        self.rev_path.push(Segment::Index(index));
        self
    }

    /// The error's field path below `base` (`spec.http[0].route`).
    pub fn path_from(&self, base: &str) -> String {
        let mut path = base.to_owned();
        for seg in self.rev_path.iter().rev() {
            path = match seg {
                Segment::Key(k) => join_key(&path, k),
                Segment::Index(i) => join_index(&path, *i),
            };
        }
        path
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Decodes the value of the object key `key` as `T` (what `#[derive(FromValue)]` calls for
/// each field). Not inlined: one copy per field type, not one per field.
#[doc(hidden)]
#[inline(never)]
pub fn field<T: FromValue>(value: Value, key: &'static str) -> Result<T, DecodeError> {
    T::from_value(value).map_err(|e| e.in_key(key))
}

/// Decodes `value` as `T`.
pub fn decode<T: FromValue>(value: Value) -> Result<T, DecodeError> {
    T::from_value(value)
}

macro_rules! leaf {
    ($($t:ty),* $(,)?) => {$(
        impl FromValue for $t {
            fn from_value(value: Value) -> Result<Self, DecodeError> {
                <$t as Deserialize>::deserialize(value).map_err(DecodeError::from_json)
            }
        }
    )*};
}

leaf!(bool, u16, u32, u64, i32, i64, f64);

impl FromValue for String {
    fn from_value(value: Value) -> Result<Self, DecodeError> {
        match value {
            Value::String(s) => Ok(s),
            other => Err(DecodeError::invalid_type(&other, "a string")),
        }
    }
}

impl FromValue for Value {
    fn from_value(value: Value) -> Result<Self, DecodeError> {
        Ok(value)
    }
}

impl FromValue for Map<String, Value> {
    fn from_value(value: Value) -> Result<Self, DecodeError> {
        match value {
            Value::Object(m) => Ok(m),
            other => Err(DecodeError::invalid_type(&other, "a map")),
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: Value) -> Result<Self, DecodeError> {
        match value {
            Value::Null => Ok(None),
            v => T::from_value(v).map(Some),
        }
    }
}

impl<T: FromValue> FromValue for Vec<T> {
    fn from_value(value: Value) -> Result<Self, DecodeError> {
        match value {
            // A plain loop rather than `collect()` into a `Result`: the adaptor chain
            // (`GenericShunt`) costs several hundred bytes per element type in WebAssembly.
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, v) in items.into_iter().enumerate() {
                    match T::from_value(v) {
                        Ok(t) => out.push(t),
                        Err(e) => return Err(e.in_index(i)),
                    }
                }
                Ok(out)
            }
            other => Err(DecodeError::invalid_type(&other, "a sequence")),
        }
    }
}

impl<T: FromValue> FromValue for BTreeMap<String, T> {
    fn from_value(value: Value) -> Result<Self, DecodeError> {
        match value {
            // Inserted one by one rather than `collect()`ed: `BTreeMap: FromIterator` sorts its
            // input first, which costs one stable-sort instance per value type in WebAssembly.
            Value::Object(m) => {
                let mut out = BTreeMap::new();
                for (k, v) in m {
                    match T::from_value(v) {
                        Ok(t) => {
                            out.insert(k, t);
                        }
                        Err(e) => return Err(e.in_key(&k)),
                    }
                }
                Ok(out)
            }
            other => Err(DecodeError::invalid_type(&other, "a map")),
        }
    }
}
