//! The Kubernetes objects Istio's analyzers look at: Service, Pod, Deployment, Namespace,
//! Node and Secret.
//!
//! Each type is the whole object minus `apiVersion`, `kind` and `metadata` (which is
//! [`ObjectMeta`]); only the fields the analysis uses are named, everything else is kept
//! in `extra`. Secrets keep the key *names* of `data` / `stringData`, never the values.

use std::collections::BTreeMap;

use serde::de::IgnoredAny;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::decode::FromValue;
use super::encode::ToValue;

use super::{Extra, ObjectMeta};

/// Valid values of [`ServiceSpec::type`].
pub const SERVICE_TYPES: &[&str] = &["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"];

/// Kubernetes `IntOrString`, e.g. a Service port's `targetPort` (`8080` or `"http"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum IntOrString {
    Int(i64),
    String(String),
}

impl FromValue for IntOrString {
    fn from_value(value: serde_json::Value) -> Result<Self, super::decode::DecodeError> {
        match value {
            serde_json::Value::Number(n) if n.as_i64().is_some() => {
                Ok(IntOrString::Int(n.as_i64().unwrap_or_default()))
            }
            serde_json::Value::String(s) => Ok(IntOrString::String(s)),
            _ => Err(super::decode::DecodeError::new(
                "data did not match any variant of untagged enum IntOrString",
            )),
        }
    }
}

impl ToValue for IntOrString {
    fn to_value(&self) -> serde_json::Value {
        match self {
            IntOrString::Int(i) => serde_json::Value::from(*i),
            IntOrString::String(s) => serde_json::Value::String(s.clone()),
        }
    }
}

/// Kubernetes `v1/Service` (minus `apiVersion`, `kind`, `metadata`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct Service {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<ServiceSpec>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// Kubernetes `ServiceSpec`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct ServiceSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ports: Option<Vec<KubeServicePort>>,
    /// One of [`SERVICE_TYPES`]; `ClusterIP` when absent.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub r#type: Option<String>,
    #[serde(rename = "clusterIP", default, skip_serializing_if = "Option::is_none")]
    pub cluster_ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_name: Option<String>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// Kubernetes `ServicePort` (named `KubeServicePort` to keep it apart from Istio's
/// [`super::ServicePort`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct KubeServicePort {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u32>,
    /// Port number or container port name; defaults to `port` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_port: Option<IntOrString>,
    /// `TCP` (default), `UDP` or `SCTP`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// Application protocol, which Istio uses for protocol selection before the port name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_protocol: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_port: Option<u32>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// Kubernetes `v1/Pod` (minus `apiVersion`, `kind`, `metadata`; `status` stays in `extra`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct Pod {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<PodSpec>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// Kubernetes `PodSpec`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct PodSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub containers: Option<Vec<Container>>,
    /// The node the pod runs on (its labels give the pod's topology / locality).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// Kubernetes `Container`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ports: Option<Vec<ContainerPort>>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// Kubernetes `ContainerPort`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct ContainerPort {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_port: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// Kubernetes `apps/v1/Deployment` (minus `apiVersion`, `kind`, `metadata`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<DeploymentSpec>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// Kubernetes `DeploymentSpec`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<LabelSelector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<PodTemplateSpec>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// Kubernetes `PodTemplateSpec`: the pods' `metadata` (labels) and `spec`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct PodTemplateSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<ObjectMeta>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<PodSpec>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// Kubernetes `LabelSelector`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_labels: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_expressions: Option<Vec<LabelSelectorRequirement>>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// Kubernetes `LabelSelectorRequirement` (`key`, `operator` `In|NotIn|Exists|DoesNotExist`,
/// `values`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelectorRequirement {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// Kubernetes `v1/Namespace`: only its metadata matters; `spec`/`status` stay in `extra`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct Namespace {
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// Kubernetes `v1/Node`: only its metadata (topology labels) matters; the rest stays in
/// `extra`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct Node {
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// Kubernetes `v1/Secret`, keeping the secret's `type` and the key names of `data` and
/// `stringData` only: values are dropped on load and saved back as empty strings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct Secret {
    /// E.g. `Opaque`, `kubernetes.io/tls`, `generic`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub r#type: Option<String>,
    /// Key names of `data` (sorted); values are not kept.
    #[serde(
        rename = "data",
        default,
        deserialize_with = "keys_only",
        serialize_with = "redacted_map",
        skip_serializing_if = "Option::is_none"
    )]
    pub data_keys: Option<Vec<String>>,
    /// Key names of `stringData` (sorted); values are not kept.
    #[serde(
        rename = "stringData",
        default,
        deserialize_with = "keys_only",
        serialize_with = "redacted_map",
        skip_serializing_if = "Option::is_none"
    )]
    pub string_data_keys: Option<Vec<String>>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

impl Secret {
    /// Whether `data` or `stringData` has the key `key`.
    pub fn has_key(&self, key: &str) -> bool {
        [&self.data_keys, &self.string_data_keys]
            .into_iter()
            .flatten()
            .flatten()
            .any(|k| k == key)
    }
}

/// Deserializes an optional map, keeping only its keys.
fn keys_only<'de, D>(d: D) -> Result<Option<Vec<String>>, D::Error>
where
    D: Deserializer<'de>,
{
    let m: Option<BTreeMap<String, IgnoredAny>> = Option::deserialize(d)?;
    Ok(m.map(|m| m.into_keys().collect()))
}

/// Serializes key names as a map whose values are empty strings.
fn redacted_map<S>(keys: &Option<Vec<String>>, s: S) -> Result<S::Ok, S::Error>
where
    S: Serializer,
{
    let keys = keys.as_deref().unwrap_or(&[]);
    let mut map = s.serialize_map(Some(keys.len()))?;
    for k in keys {
        map.serialize_entry(k, "")?;
    }
    map.end()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_util::round_trip;
    use crate::model::OptSliceExt;
    use serde_json::json;

    #[test]
    fn service_round_trip() {
        let svc: Service = round_trip(json!({
            "spec": {
                "type": "NodePort",
                "clusterIP": "10.0.0.1",
                "externalName": "x.example.com",
                "selector": {"istio": "ingressgateway"},
                "ports": [
                    {"name": "http2", "port": 80, "targetPort": 8080, "protocol": "TCP", "nodePort": 31380, "appProtocol": "http"},
                    {"name": "https", "port": 443, "targetPort": "https"}
                ]
            }
        }));
        let spec = svc.spec.unwrap();
        assert_eq!(spec.r#type.as_deref(), Some("NodePort"));
        let ports = spec.ports.items();
        assert_eq!(ports[0].target_port, Some(IntOrString::Int(8080)));
        assert_eq!(
            ports[1].target_port,
            Some(IntOrString::String("https".into()))
        );
        // unknown fields (status, other spec fields) survive
        let v = json!({"spec": {"ports": [{"port": 1}], "sessionAffinity": "None"}, "status": {}});
        let s: Service = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(serde_json::to_value(&s).unwrap(), v);
    }

    #[test]
    fn pod_and_deployment_round_trip() {
        let pod: Pod = round_trip(json!({
            "spec": {
                "nodeName": "node-1",
                "serviceAccountName": "sa",
                "containers": [{"name": "c", "image": "i", "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}]}]
            }
        }));
        assert_eq!(
            pod.spec.and_then(|s| s.node_name).as_deref(),
            Some("node-1")
        );
        let d: Deployment = round_trip(json!({
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "a"},
                             "matchExpressions": [{"key": "v", "operator": "In", "values": ["1"]}]},
                "template": {
                    "metadata": {"labels": {"app": "a"}},
                    "spec": {"containers": [{"name": "c", "ports": [{"containerPort": 80}]}]}
                }
            }
        }));
        assert_eq!(d.spec.and_then(|s| s.replicas), Some(2));
    }

    #[test]
    fn namespace_and_node_keep_everything() {
        let v = json!({"spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}});
        let ns: Namespace = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(serde_json::to_value(&ns).unwrap(), v);
        let node: Node = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(serde_json::to_value(&node).unwrap(), v);
    }

    #[test]
    fn secret_keeps_key_names_only() {
        let s: Secret = serde_json::from_value(json!({
            "type": "kubernetes.io/tls",
            "data": {"tls.key": "c2VjcmV0", "tls.crt": "Y2VydA=="},
            "stringData": {"ca.crt": "PEM"},
            "immutable": true
        }))
        .unwrap();
        assert_eq!(
            s.data_keys,
            Some(vec!["tls.crt".to_string(), "tls.key".to_string()])
        );
        assert!(s.has_key("ca.crt"));
        assert!(!s.has_key("cert"));
        assert!(!format!("{s:?}").contains("c2VjcmV0"));
        assert_eq!(
            serde_json::to_value(&s).unwrap(),
            json!({
                "type": "kubernetes.io/tls",
                "data": {"tls.crt": "", "tls.key": ""},
                "stringData": {"ca.crt": ""},
                "immutable": true
            })
        );
        let empty: Secret = serde_json::from_value(json!({"type": "Opaque"})).unwrap();
        assert_eq!(empty.data_keys, None);
        assert_eq!(
            serde_json::to_value(&empty).unwrap(),
            json!({"type": "Opaque"})
        );
    }
}
