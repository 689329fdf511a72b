//! `ServiceEntry` and `WorkloadEntry` (`networking.istio.io/v1`): services and workloads
//! added to Istio's service registry.
//!
//! Mirrors `istio.networking.v1.ServiceEntry` and `istio.networking.v1.WorkloadEntry`,
//! field for field with the v1 CRD schemas. See the [module docs](super) for the
//! modelling conventions.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::decode::FromValue;
use super::encode::ToValue;

use super::{Extra, WorkloadSelector};

/// Valid values of [`ServiceEntry::location`].
pub const SERVICE_ENTRY_LOCATIONS: &[&str] = &["MESH_EXTERNAL", "MESH_INTERNAL"];

/// Valid values of [`ServiceEntry::resolution`].
pub const SERVICE_ENTRY_RESOLUTIONS: &[&str] =
    &["NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN", "DYNAMIC_DNS"];

/// `istio.networking.v1.ServiceEntry`: the `spec` of a ServiceEntry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct ServiceEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hosts: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addresses: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ports: Option<Vec<ServicePort>>,
    /// One of [`SERVICE_ENTRY_LOCATIONS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// One of [`SERVICE_ENTRY_RESOLUTIONS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoints: Option<Vec<WorkloadEntry>>,
    /// Note: `labels`, unlike DestinationRule's `workloadSelector.matchLabels`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload_selector: Option<WorkloadSelector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export_to: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_alt_names: Option<Vec<String>>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.ServicePort`: a port of a ServiceEntry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct ServicePort {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_port: Option<u32>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.WorkloadEntry`: a non-Kubernetes workload; also the type of
/// [`ServiceEntry::endpoints`] items. As a resource, this is the `spec` of a WorkloadEntry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadEntry {
    /// IP address, DNS name or `unix://` socket path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Service port name → workload port number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ports: Option<BTreeMap<String, u32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    /// `region/zone/subzone`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locality: Option<String>,
    /// `uint32` load-balancing weight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account: Option<String>,
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
    fn full_service_entry_round_trip() {
        let se: ServiceEntry = round_trip(json!({
            "hosts": ["mymongodb.somedomain"],
            "addresses": ["192.192.192.192/24"],
            "ports": [{"number": 27018, "name": "mongodb", "protocol": "MONGO", "targetPort": 27019}],
            "location": "MESH_INTERNAL",
            "resolution": "STATIC",
            "endpoints": [{
                "address": "2.2.2.2",
                "ports": {"mongodb": 7777},
                "labels": {"app": "db"},
                "network": "n1",
                "locality": "us-west/zone1",
                "weight": 10,
                "serviceAccount": "sa"
            }],
            "workloadSelector": {"labels": {"app": "db"}},
            "exportTo": ["."],
            "subjectAltNames": ["spiffe://a"]
        }));
        assert_eq!(se.ports.items()[0].target_port, Some(27019));
        let ep = &se.endpoints.items()[0];
        assert_eq!(
            ep.ports.as_ref().and_then(|p| p.get("mongodb")),
            Some(&7777)
        );
    }

    #[test]
    fn workload_entry_round_trip() {
        let we: WorkloadEntry = round_trip(json!({
            "address": "10.0.0.1",
            "labels": {"app": "vm"},
            "serviceAccount": "vm-sa",
            "network": "vm-net"
        }));
        assert_eq!(we.service_account.as_deref(), Some("vm-sa"));
    }

    #[test]
    fn enum_consts() {
        assert!(SERVICE_ENTRY_LOCATIONS.contains(&"MESH_EXTERNAL"));
        assert!(SERVICE_ENTRY_RESOLUTIONS.contains(&"DNS_ROUND_ROBIN"));
    }
}
