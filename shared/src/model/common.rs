//! Types shared by several Istio networking resources: string matches, percentages,
//! destinations, header manipulation, workload selectors and object metadata.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::decode::FromValue;
use super::encode::ToValue;

use super::Extra;

/// `istio.networking.v1.StringMatch`: oneof `exact` / `prefix` / `regex` (RE2 syntax).
///
/// Each alternative is its own field so that the validator can report two set at once.
/// An empty `StringMatch` (`{}`) matches anything for header presence checks.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct StringMatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exact: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.Percent`: a percentage `value` in `[0.0, 100.0]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct Percent {
    #[serde(
        default,
        serialize_with = "crate::model::serialize_opt_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub value: Option<f64>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.PortSelector`: a port `number` (the proto's only alternative).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct PortSelector {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<u32>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.Destination`: a service `host`, optional `subset` and `port`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct Destination {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subset: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<PortSelector>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.Headers`: header manipulation for requests and responses.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct Headers {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<HeaderOperations>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<HeaderOperations>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.Headers.HeaderOperations`: `set`, `add` and `remove` headers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct HeaderOperations {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remove: Option<Vec<String>>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.WorkloadSelector`: selects workloads by `labels` (used by
/// ServiceEntry). Note that DestinationRule uses [`TypeWorkloadSelector`] (`matchLabels`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadSelector {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.type.v1beta1.WorkloadSelector`: selects workloads by `matchLabels` (used by
/// DestinationRule's `workloadSelector`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct TypeWorkloadSelector {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_labels: Option<BTreeMap<String, String>>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// Kubernetes `ObjectMeta` (`metadata`): the fields the analysis uses, the rest in `extra`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_util::round_trip;
    use serde_json::json;

    #[test]
    fn string_match_all_alternatives_load() {
        let m: StringMatch = round_trip(json!({"exact": "a", "prefix": "b", "regex": "c.*"}));
        assert_eq!(m.exact.as_deref(), Some("a"));
        assert_eq!(m.prefix.as_deref(), Some("b"));
        assert_eq!(m.regex.as_deref(), Some("c.*"));
        let empty: StringMatch = round_trip(json!({}));
        assert_eq!(empty, StringMatch::default());
    }

    #[test]
    fn destination_round_trip() {
        let d: Destination =
            round_trip(json!({"host": "reviews", "subset": "v1", "port": {"number": 9080}}));
        assert_eq!(d.port.and_then(|p| p.number), Some(9080));
        let p: Percent = round_trip(json!({"value": 12.5}));
        assert_eq!(p.value, Some(12.5));
    }

    #[test]
    fn percent_keeps_integers_integral() {
        let p: Percent = round_trip(json!({"value": 50}));
        assert_eq!(p.value, Some(50.0));
        round_trip::<Percent>(json!({"value": -1}));
        round_trip::<Percent>(json!({"value": 0.001}));
        let from_float: Percent = serde_json::from_value(json!({"value": 100.0})).unwrap();
        assert_eq!(
            serde_json::to_value(&from_float).unwrap(),
            json!({"value": 100})
        );
    }

    #[test]
    fn headers_round_trip() {
        let h: Headers = round_trip(json!({
            "request": {"set": {"x-a": "1"}, "add": {"x-b": "2"}, "remove": ["x-c"]},
            "response": {"remove": ["server"]}
        }));
        assert_eq!(
            h.response.and_then(|r| r.remove),
            Some(vec!["server".to_string()])
        );
    }

    #[test]
    fn selectors_and_meta_round_trip() {
        round_trip::<WorkloadSelector>(json!({"labels": {"app": "a"}}));
        round_trip::<TypeWorkloadSelector>(json!({"matchLabels": {"app": "a"}}));
        let m: ObjectMeta = round_trip(json!({
            "name": "n", "namespace": "ns",
            "labels": {"app": "a"}, "annotations": {"k": "v"}
        }));
        assert_eq!(m.name.as_deref(), Some("n"));
        let with_extra: ObjectMeta =
            serde_json::from_value(json!({"name": "n", "resourceVersion": "7"})).unwrap();
        assert_eq!(with_extra.extra.get("resourceVersion"), Some(&json!("7")));
    }
}
