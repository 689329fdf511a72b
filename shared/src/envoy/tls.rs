//! TLS contexts: upstream (DestinationRule `tls`, as istiod's `cluster_tls.go` builds them,
//! with files instead of SDS) and downstream (Gateway server `tls`).

use serde_json::{json, Map, Value};

use crate::diag::Level;
use crate::load::Resource;
use crate::model::{ClientTLSSettings, OptSliceExt, ServerTLSSettings};

use super::clusters::Hpo;
use super::{codes, resolve_file, typed, Ctx};

const UPSTREAM_TLS: &str = "envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext";
const DOWNSTREAM_TLS: &str = "envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext";

fn transport_socket(type_name: &str, config: Value) -> Value {
    json!({"name": "envoy.transport_sockets.tls", "typed_config": typed(type_name, config)})
}

fn file(path: &str) -> Value {
    json!({"filename": path})
}

/// `match_typed_subject_alt_names` for exact SANs (Istio writes the untyped, deprecated
/// `match_subject_alt_names`; the typed form needs a SAN type, guessed from the value).
fn san_matchers(sans: &[String]) -> Value {
    Value::Array(
        sans.iter()
            .map(|s| {
                let san_type = if s.contains("://") {
                    "URI"
                } else if crate::host::is_ip(s) {
                    "IP_ADDRESS"
                } else {
                    "DNS"
                };
                json!({"san_type": san_type, "matcher": {"exact": s}})
            })
            .collect(),
    )
}

/// The cluster `transport_socket` for a DestinationRule `tls` (None: plaintext).
pub(crate) fn upstream(
    ctx: &mut Ctx<'_>,
    dr: &Resource,
    tls: &ClientTLSSettings,
    path: &str,
    hpo: &mut Hpo,
) -> Option<Value> {
    let mode = tls.mode.as_deref().unwrap_or("DISABLE");
    let mutual = match mode {
        "SIMPLE" => false,
        "MUTUAL" => true,
        "ISTIO_MUTUAL" => {
            ctx.diag(
                dr,
                codes::MR203,
                Level::Warning,
                format!("{path}.mode"),
                "ISTIO_MUTUAL needs Istio's CA and workload certificates, which a standalone Envoy does not have: rendered as plaintext",
            );
            return None;
        }
        _ => return None,
    };
    if tls
        .credential_name
        .as_deref()
        .is_some_and(|c| !c.is_empty())
    {
        ctx.diag(
            dr,
            codes::MR203,
            Level::Warning,
            format!("{path}.credentialName"),
            "credentialName refers to a Kubernetes secret, which render cannot read: give clientCertificate/privateKey/caCertificates file paths instead; rendered without the credential",
        );
    }
    let sni = tls.sni.clone().unwrap_or_default();
    let sans = tls.subject_alt_names.items();
    let insecure = tls.insecure_skip_verify.unwrap_or(false);
    // setAutoSniAndAutoSanValidation
    if sni.is_empty() {
        hpo.auto_sni = true;
        if sans.is_empty() && !insecure {
            hpo.auto_san_validation = true;
        }
    }
    let mut common = Map::new();
    if mutual {
        let cert = tls.client_certificate.as_deref().unwrap_or("");
        let key = tls.private_key.as_deref().unwrap_or("");
        if cert.is_empty() || key.is_empty() {
            ctx.diag(
                dr,
                codes::MR203,
                Level::Error,
                path,
                "MUTUAL TLS needs clientCertificate and privateKey: Istio drops the TLS settings (plaintext), and so does render",
            );
            return None;
        }
        common.insert(
            "tls_certificates".into(),
            json!([{
                "certificate_chain": file(&resolve_file(dr, cert)),
                "private_key": file(&resolve_file(dr, key)),
            }]),
        );
    }
    if !insecure {
        let ca = match tls.ca_certificates.as_deref().filter(|c| !c.is_empty()) {
            Some(ca) => resolve_file(dr, ca),
            None => ctx.opts.system_ca.clone(),
        };
        let mut vc = Map::new();
        vc.insert("trusted_ca".into(), file(&ca));
        if !sans.is_empty() {
            vc.insert("match_typed_subject_alt_names".into(), san_matchers(sans));
        }
        if let Some(crl) = tls.ca_crl.as_deref().filter(|c| !c.is_empty()) {
            vc.insert("crl".into(), file(&resolve_file(dr, crl)));
        }
        common.insert("validation_context".into(), Value::Object(vc));
    }
    if hpo.is_h2() {
        common.insert("alpn_protocols".into(), json!(["h2"]));
    }
    let mut ctx_json = Map::new();
    if !sni.is_empty() {
        ctx_json.insert("sni".into(), Value::String(sni));
    }
    ctx_json.insert("common_tls_context".into(), Value::Object(common));
    Some(transport_socket(UPSTREAM_TLS, Value::Object(ctx_json)))
}

/// Envoy's name for an Istio TLS protocol version.
fn tls_version(v: &str) -> Option<&'static str> {
    Some(match v {
        "TLS_AUTO" => "TLS_AUTO",
        "TLSV1_0" => "TLSv1_0",
        "TLSV1_1" => "TLSv1_1",
        "TLSV1_2" => "TLSv1_2",
        "TLSV1_3" => "TLSv1_3",
        _ => return None,
    })
}

/// The listener filter chain `transport_socket` for a Gateway server's `tls` (SIMPLE, MUTUAL,
/// OPTIONAL_MUTUAL with certificate files); None with a diagnostic otherwise.
pub(crate) fn downstream(
    ctx: &mut Ctx<'_>,
    gw: &Resource,
    tls: &ServerTLSSettings,
    path: &str,
) -> Option<Value> {
    let mode = tls.mode.as_deref().unwrap_or("PASSTHROUGH");
    let (validate, require) = match mode {
        "SIMPLE" => (false, false),
        "MUTUAL" => (true, true),
        "OPTIONAL_MUTUAL" => (true, false),
        other => {
            ctx.diag(
                gw,
                codes::MR203,
                Level::Warning,
                format!("{path}.mode"),
                format!("TLS mode {other} (no TLS termination at the gateway) is not rendered: the server is skipped"),
            );
            return None;
        }
    };
    let mut certs = Vec::new();
    if let (Some(c), Some(k)) = (
        tls.server_certificate.as_deref(),
        tls.private_key.as_deref(),
    ) {
        certs.push((c.to_owned(), k.to_owned(), tls.ca_certificates.clone()));
    }
    for c in tls.tls_certificates.items() {
        if let (Some(cert), Some(key)) = (c.server_certificate.as_deref(), c.private_key.as_deref())
        {
            certs.push((cert.to_owned(), key.to_owned(), c.ca_certificates.clone()));
        }
    }
    if certs.is_empty() {
        let why = if tls.credential_name.is_some() || tls.credential_names.is_some() {
            "credentialName refers to a Kubernetes secret, which render cannot read: give serverCertificate and privateKey file paths"
        } else {
            "no serverCertificate/privateKey given"
        };
        ctx.diag(
            gw,
            codes::MR203,
            Level::Warning,
            path,
            format!("{why}: the server is skipped"),
        );
        return None;
    }
    let mut common = Map::new();
    common.insert(
        "tls_certificates".into(),
        Value::Array(
            certs
                .iter()
                .map(|(c, k, _)| {
                    json!({"certificate_chain": file(&resolve_file(gw, c)), "private_key": file(&resolve_file(gw, k))})
                })
                .collect(),
        ),
    );
    common.insert("alpn_protocols".into(), json!(["h2", "http/1.1"]));
    let mut params = Map::new();
    // Istio's gateways default to TLS 1.2 at least.
    let min = tls
        .min_protocol_version
        .as_deref()
        .and_then(tls_version)
        .filter(|v| *v != "TLS_AUTO")
        .unwrap_or("TLSv1_2");
    params.insert("tls_minimum_protocol_version".into(), json!(min));
    if let Some(max) = tls.max_protocol_version.as_deref().and_then(tls_version) {
        params.insert("tls_maximum_protocol_version".into(), json!(max));
    }
    if !tls.cipher_suites.items().is_empty() {
        params.insert("cipher_suites".into(), json!(tls.cipher_suites.items()));
    }
    if !tls.ecdh_curves.items().is_empty() {
        params.insert("ecdh_curves".into(), json!(tls.ecdh_curves.items()));
    }
    common.insert("tls_params".into(), Value::Object(params));
    if validate {
        let ca = tls
            .ca_certificates
            .clone()
            .or_else(|| certs.iter().find_map(|(_, _, ca)| ca.clone()))
            .filter(|c| !c.is_empty());
        let Some(ca) = ca else {
            ctx.diag(
                gw,
                codes::MR203,
                Level::Warning,
                format!("{path}.caCertificates"),
                format!("{mode} needs caCertificates to verify clients: the server is skipped"),
            );
            return None;
        };
        let mut vc = Map::new();
        vc.insert("trusted_ca".into(), file(&resolve_file(gw, &ca)));
        if let Some(crl) = tls.ca_crl.as_deref().filter(|c| !c.is_empty()) {
            vc.insert("crl".into(), file(&resolve_file(gw, crl)));
        }
        if !tls.subject_alt_names.items().is_empty() {
            vc.insert(
                "match_typed_subject_alt_names".into(),
                san_matchers(tls.subject_alt_names.items()),
            );
        }
        if !tls.verify_certificate_spki.items().is_empty() {
            vc.insert(
                "verify_certificate_spki".into(),
                json!(tls.verify_certificate_spki.items()),
            );
        }
        if !tls.verify_certificate_hash.items().is_empty() {
            vc.insert(
                "verify_certificate_hash".into(),
                json!(tls.verify_certificate_hash.items()),
            );
        }
        common.insert("validation_context".into(), Value::Object(vc));
    }
    let mut out = Map::new();
    out.insert("common_tls_context".into(), Value::Object(common));
    if require {
        out.insert("require_client_certificate".into(), json!(true));
    }
    Some(transport_socket(DOWNSTREAM_TLS, Value::Object(out)))
}
