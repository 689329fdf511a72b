//! `Gateway` (`networking.istio.io/v1`): a load balancer at the edge of the mesh, described
//! by the ports, protocols, hosts and TLS settings of its servers.
//!
//! Mirrors `istio.networking.v1.Gateway` and its messages, field for field with the v1 CRD
//! schema. See the [module docs](super) for the modelling conventions.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::decode::FromValue;
use super::encode::ToValue;

use super::Extra;

/// Valid values of [`ServerTLSSettings::mode`] (the v1 CRD's enum).
pub const SERVER_TLS_MODES: &[&str] = &[
    "PASSTHROUGH",
    "SIMPLE",
    "MUTUAL",
    "AUTO_PASSTHROUGH",
    "ISTIO_MUTUAL",
    "OPTIONAL_MUTUAL",
];

/// Valid values of [`ServerTLSSettings::min_protocol_version`] and
/// [`ServerTLSSettings::max_protocol_version`].
pub const TLS_PROTOCOL_VERSIONS: &[&str] =
    &["TLS_AUTO", "TLSV1_0", "TLSV1_1", "TLSV1_2", "TLSV1_3"];

/// Port protocols Istio knows (`protocol.Parse`, compared case-insensitively); anything
/// else is "unsupported".
pub const PORT_PROTOCOLS: &[&str] = &[
    "HTTP",
    "HTTPS",
    "GRPC",
    "GRPC-WEB",
    "HTTP2",
    "HTTP_PROXY",
    "MONGO",
    "REDIS",
    "MYSQL",
    "TCP",
    "TLS",
    "UDP",
];

/// `istio.networking.v1.Gateway`: the `spec` of a Gateway.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct Gateway {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub servers: Option<Vec<Server>>,
    /// Labels of the gateway pods this configuration applies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<BTreeMap<String, String>>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.Server`: one listener of a gateway.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct Server {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<Port>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind: Option<String>,
    /// `[namespace/]dnsName` entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hosts: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<ServerTLSSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.Port`: a server port.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct Port {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<u32>,
    /// One of [`PORT_PROTOCOLS`] (case-insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Deprecated / unused by Istio for gateways.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_port: Option<u32>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.ServerTLSSettings`: TLS for a gateway server.
///
/// `server_certificate`/`private_key`, `credential_name`, `credential_names` and
/// `tls_certificates` are alternative ways to give the certificate.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct ServerTLSSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub https_redirect: Option<bool>,
    /// One of [`SERVER_TLS_MODES`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_certificate: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_certificates: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_crl: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_names: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_cert_credential_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_certificates: Option<Vec<TLSCertificate>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_alt_names: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify_certificate_spki: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify_certificate_hash: Option<Vec<String>>,
    /// One of [`TLS_PROTOCOL_VERSIONS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_protocol_version: Option<String>,
    /// One of [`TLS_PROTOCOL_VERSIONS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_protocol_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cipher_suites: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecdh_curves: Option<Vec<String>>,
    /// `BoolValue`: accept client certificates that fail validation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure_skip_verify: Option<bool>,
    #[serde(flatten, skip_serializing_if = "crate::model::skip_extra")]
    pub extra: Extra,
}

/// `istio.networking.v1.ServerTLSSettings.TLSCertificate`: one certificate (file paths).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromValue, ToValue)]
#[serde(rename_all = "camelCase")]
pub struct TLSCertificate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_certificate: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_certificates: Option<String>,
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
    fn full_gateway_round_trip() {
        let gw: Gateway = round_trip(json!({
            "selector": {"istio": "ingressgateway"},
            "servers": [{
                "name": "https",
                "port": {"number": 443, "protocol": "HTTPS", "name": "https", "targetPort": 8443},
                "bind": "0.0.0.0",
                "hosts": ["ns1/*.example.com", "*"],
                "defaultEndpoint": "127.0.0.1:8080",
                "tls": {
                    "httpsRedirect": false,
                    "mode": "MUTUAL",
                    "serverCertificate": "/etc/certs/server.pem",
                    "privateKey": "/etc/certs/key.pem",
                    "caCertificates": "/etc/certs/ca.pem",
                    "caCrl": "/etc/certs/crl.pem",
                    "credentialName": "cred",
                    "credentialNames": ["cred-rsa", "cred-ecdsa"],
                    "caCertCredentialName": "ca-cred",
                    "tlsCertificates": [{
                        "serverCertificate": "/a.pem", "privateKey": "/a.key", "caCertificates": "/ca.pem"
                    }],
                    "subjectAltNames": ["spiffe://a"],
                    "verifyCertificateSpki": ["abc="],
                    "verifyCertificateHash": ["AB:CD"],
                    "minProtocolVersion": "TLSV1_2",
                    "maxProtocolVersion": "TLSV1_3",
                    "cipherSuites": ["ECDHE-RSA-AES128-GCM-SHA256"],
                    "ecdhCurves": ["P-256"],
                    "insecureSkipVerify": true
                }
            }, {
                "port": {"number": 80, "protocol": "HTTP", "name": "http"},
                "hosts": ["*"],
                "tls": {"httpsRedirect": true}
            }]
        }));
        let s = &gw.servers.items()[0];
        assert_eq!(s.port.as_ref().and_then(|p| p.number), Some(443));
        let tls = s.tls.as_ref().unwrap();
        assert_eq!(tls.credential_names.items().len(), 2);
        assert_eq!(tls.min_protocol_version.as_deref(), Some("TLSV1_2"));
    }

    #[test]
    fn enum_consts() {
        assert!(SERVER_TLS_MODES.contains(&"AUTO_PASSTHROUGH"));
        assert!(TLS_PROTOCOL_VERSIONS.contains(&"TLSV1_3"));
        assert!(PORT_PROTOCOLS.contains(&"GRPC-WEB"));
    }
}
