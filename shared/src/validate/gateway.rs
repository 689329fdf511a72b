//! Validation of Gateways, as Istio's `ValidateGateway`, `validateServer`,
//! `validateServerPort`, `validateServerBind` and `validateTLSOptions` do it
//! (`pkg/config/validation/validation.go`), plus the v1 CRD's enums and limits.

use std::collections::{BTreeMap, BTreeSet};

use super::common;
use super::net::{go_list, is_valid_cipher_suite, Protocol};
use super::Report;
use crate::model::{
    Gateway, OptSliceExt, Port, Server, ServerTLSSettings, SERVER_TLS_MODES, TLS_PROTOCOL_VERSIONS,
};
use crate::yaml::{join_index, join_key};

/// Prefix of a Unix domain socket `bind` address.
const UNIX_PREFIX: &str = "unix://";

/// Annotation marking a Gateway converted from the Kubernetes Gateway API.
const GATEWAY_SEMANTICS_ANNOTATION: &str = "internal.istio.io/gateway-semantics";

pub(super) fn validate(spec: &Gateway, report: &mut Report<'_>) {
    let res = report.resource();
    let gateway_semantics = res
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(GATEWAY_SEMANTICS_ANNOTATION))
        .is_some_and(|v| v == "gateway");

    // Gateway names end up in listener and route names: a DNS label (no dots).
    let name = res.name();
    if !gateway_semantics && !common::is_dns1123_label(name) {
        report.error("metadata.name", format!("invalid gateway name: {name:?}"));
    }

    let servers = spec.servers.items();
    if servers.is_empty() {
        let path = if spec.servers.is_some() {
            "spec.servers"
        } else {
            "spec"
        };
        report.error(path, "gateway must have at least one server");
    }
    for (i, server) in servers.iter().enumerate() {
        validate_server(
            server,
            &join_index("spec.servers", i),
            gateway_semantics,
            report,
        );
    }

    // Port names are unique across servers.
    let mut port_names: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, server) in servers.iter().enumerate() {
        let Some(port) = &server.port else { continue };
        let spath = join_index("spec.servers", i);
        let name = port.name.as_deref().unwrap_or("");
        if let Some(first) = port_names.get(name) {
            report.error(
                join_key(&join_key(&spath, "port"), "name"),
                format!(
                    "port names in servers must be unique: duplicate name {name} (also spec.servers[{first}])"
                ),
            );
        } else {
            port_names.insert(name, i);
        }
        let protocol = Protocol::parse(port.protocol.as_deref().unwrap_or(""));
        let redirect = server
            .tls
            .as_ref()
            .and_then(|t| t.https_redirect)
            .unwrap_or(false);
        if !protocol.is_http() && redirect {
            report.warning(
                join_key(&join_key(&spath, "tls"), "httpsRedirect"),
                "tls.httpsRedirect should only be used with http servers",
            );
        }
    }
}

/// Istio's `validateServer`.
fn validate_server(server: &Server, path: &str, gateway_semantics: bool, report: &mut Report<'_>) {
    let hosts = server.hosts.items();
    let hosts_path = join_key(path, "hosts");
    if hosts.is_empty() {
        report.error(&hosts_path, "server config must contain at least one host");
    }
    for (j, host) in hosts.iter().enumerate() {
        let hp = join_index(&hosts_path, j);
        for e in common::validate_namespace_slash_wildcard_hostname(host, true, gateway_semantics) {
            report.error(&hp, e);
        }
    }

    let bind = server.bind.as_deref().unwrap_or("");
    let port_ok = validate_server_port(server.port.as_ref(), bind, path, report);
    validate_server_bind(server.port.as_ref(), bind, path, report);
    let tls_path = join_key(path, "tls");
    if let Some(tls) = &server.tls {
        validate_tls_options(tls, &tls_path, report);
    }

    // HTTPS/TLS servers need TLS settings; plain-text ones must not terminate TLS.
    let Some(port) = server.port.as_ref().filter(|_| port_ok) else {
        return;
    };
    let protocol = Protocol::parse(port.protocol.as_deref().unwrap_or(""));
    match &server.tls {
        None if protocol.is_tls() => report.error(
            path,
            "server must have TLS settings for HTTPS/TLS protocols",
        ),
        Some(tls) if !protocol.is_tls() => {
            if protocol.is_http() {
                let set = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.is_empty());
                if !is_passthrough(tls)
                    || set(&tls.ca_certificates)
                    || set(&tls.private_key)
                    || set(&tls.server_certificate)
                {
                    report.error(
                        &tls_path,
                        "server cannot have TLS settings for plain text HTTP ports",
                    );
                }
            } else {
                report.error(
                    &tls_path,
                    "server cannot have TLS settings for non HTTPS/TLS ports",
                );
            }
        }
        _ => {}
    }
}

/// The TLS mode, PASSTHROUGH when unset (the proto default).
fn tls_mode(tls: &ServerTLSSettings) -> &str {
    tls.mode.as_deref().unwrap_or("PASSTHROUGH")
}

/// Istio's `gateway.IsPassThroughServer`.
fn is_passthrough(tls: &ServerTLSSettings) -> bool {
    matches!(tls_mode(tls), "PASSTHROUGH" | "AUTO_PASSTHROUGH")
}

/// Istio's `validateServerPort`; true when the port has no error.
fn validate_server_port(
    port: Option<&Port>,
    bind: &str,
    path: &str,
    report: &mut Report<'_>,
) -> bool {
    let pp = join_key(path, "port");
    let Some(port) = port else {
        report.error(&pp, "port is required");
        return false;
    };
    let mut ok = true;
    let protocol = port.protocol.as_deref().unwrap_or("");
    if Protocol::parse(protocol) == Protocol::Unsupported {
        report.error(
            join_key(&pp, "protocol"),
            format!(
                "invalid protocol {protocol:?}, supported protocols are HTTP, HTTP2, GRPC, GRPC-WEB, MONGO, REDIS, MYSQL, TCP"
            ),
        );
        ok = false;
    }
    let number = port.number.unwrap_or(0);
    if number > 0 || !bind.starts_with(UNIX_PREFIX) {
        if let Err(e) = common::validate_port(i64::from(number)) {
            report.error(join_key(&pp, "number"), e);
            ok = false;
        }
    }
    if port.target_port.is_some_and(|t| t > 0) {
        report.error(
            join_key(&pp, "targetPort"),
            "targetPort has no impact on Gateways",
        );
        ok = false;
    }
    if port.name.as_deref().unwrap_or("").is_empty() {
        report.error(join_key(&pp, "name"), "port name must be set");
        ok = false;
    }
    ok
}

/// Istio's `validateServerBind`.
fn validate_server_bind(port: Option<&Port>, bind: &str, path: &str, report: &mut Report<'_>) {
    let bp = join_key(path, "bind");
    if let Some(socket) = bind.strip_prefix(UNIX_PREFIX) {
        if let Err(e) = common::validate_unix_address(socket) {
            report.error(&bp, e);
        }
        if let Some(n) = port.and_then(|p| p.number).filter(|n| *n != 0) {
            report.error(
                join_key(&join_key(path, "port"), "number"),
                format!("port number must be 0 for unix domain socket: {n}"),
            );
        }
    } else if !bind.is_empty() {
        if let Err(e) = common::validate_ip_address(bind) {
            report.error(&bp, e);
        }
    }
}

/// Position of a TLS protocol version, for ordering (`TLS_AUTO` has none).
fn version_rank(v: &str) -> Option<usize> {
    match v {
        "TLSV1_0" => Some(0),
        "TLSV1_1" => Some(1),
        "TLSV1_2" => Some(2),
        "TLSV1_3" => Some(3),
        _ => None,
    }
}

/// Istio's `validateTLSOptions` (server TLS), plus the CRD's enums and list limits.
fn validate_tls_options(tls: &ServerTLSSettings, path: &str, report: &mut Report<'_>) {
    let set = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.is_empty());
    let at = |key: &str| join_key(path, key);
    let mode = tls_mode(tls);
    if !SERVER_TLS_MODES.contains(&mode) {
        report.error(
            at("mode"),
            format!(
                "unsupported TLS mode {mode:?}; valid modes are {}",
                SERVER_TLS_MODES.join(", ")
            ),
        );
    }

    // Protocol versions.
    for (value, key) in [
        (&tls.min_protocol_version, "minProtocolVersion"),
        (&tls.max_protocol_version, "maxProtocolVersion"),
    ] {
        if let Some(v) = value.as_deref() {
            if !TLS_PROTOCOL_VERSIONS.contains(&v) {
                report.error(
                    at(key),
                    format!(
                        "unsupported TLS protocol version {v:?}; valid values are {}",
                        TLS_PROTOCOL_VERSIONS.join(", ")
                    ),
                );
            }
        }
    }
    let min = tls.min_protocol_version.as_deref().unwrap_or("");
    let max = tls.max_protocol_version.as_deref().unwrap_or("");
    let ciphers = tls.cipher_suites.items();
    if (min == "TLSV1_0" || min == "TLSV1_1") && ciphers.is_empty() {
        report.warning(
            at("minProtocolVersion"),
            "TLS version below TLSV1_2 require setting compatible ciphers as by default they no longer include compatible ciphers.",
        );
    }
    if let (Some(lo), Some(hi)) = (version_rank(min), version_rank(max)) {
        if hi < lo {
            report.warning(
                at("maxProtocolVersion"),
                format!(
                    "maxProtocolVersion {max} is lower than minProtocolVersion {min}: no TLS version is acceptable and Envoy rejects the listener"
                ),
            );
        }
    }

    // Cipher suites: unknown and duplicate ones are ignored.
    let mut invalid: BTreeSet<&str> = BTreeSet::new();
    let mut valid: BTreeSet<&str> = BTreeSet::new();
    let mut duplicate: BTreeSet<&str> = BTreeSet::new();
    for cs in ciphers {
        if !is_valid_cipher_suite(cs) {
            invalid.insert(cs);
        } else if !valid.insert(cs) {
            duplicate.insert(cs);
        }
    }
    if !invalid.is_empty() {
        let list: Vec<&str> = invalid.into_iter().collect();
        report.warning(
            at("cipherSuites"),
            format!("ignoring invalid cipher suites: {}", go_list(&list)),
        );
    }
    if !duplicate.is_empty() {
        let list: Vec<&str> = duplicate.into_iter().collect();
        report.warning(
            at("cipherSuites"),
            format!("ignoring duplicate cipher suites: {}", go_list(&list)),
        );
    }

    let tls_certs = tls.tls_certificates.items();
    let credential_names = tls.credential_names.items();
    if tls.credential_names.as_ref().is_some_and(|c| c.is_empty()) {
        report.error(
            at("credentialNames"),
            "credentialNames must have at least 1 item",
        );
    }
    if credential_names.len() > 2 {
        report.error(
            at("credentialNames"),
            "credentialNames must have at most 2 items",
        );
    }
    if tls.tls_certificates.as_ref().is_some_and(|c| c.is_empty()) {
        report.error(
            at("tlsCertificates"),
            "tlsCertificates must have at least 1 item",
        );
    }

    if mode == "ISTIO_MUTUAL" {
        // Istio's own certificates are used: nothing else may be given.
        for (present, key, what) in [
            (
                set(&tls.server_certificate),
                "serverCertificate",
                "server certificate",
            ),
            (set(&tls.private_key), "privateKey", "private key"),
            (set(&tls.ca_certificates), "caCertificates", "CA bundle"),
            (!tls_certs.is_empty(), "tlsCertificates", "tlsCertificates"),
            (
                set(&tls.credential_name),
                "credentialName",
                "credentialName",
            ),
            (
                !credential_names.is_empty(),
                "credentialNames",
                "credentialNames",
            ),
        ] {
            if present {
                report.error(
                    at(key),
                    format!("ISTIO_MUTUAL TLS cannot have associated {what}"),
                );
            }
        }
        return;
    }

    if is_passthrough(tls)
        && (set(&tls.ca_crl)
            || set(&tls.server_certificate)
            || set(&tls.private_key)
            || set(&tls.ca_certificates)
            || !tls_certs.is_empty()
            || set(&tls.credential_name)
            || !credential_names.is_empty())
    {
        report.warning(
            path,
            format!("{mode} mode does not use certificates, they will be ignored"),
        );
    }

    // One certificate source only.
    let sources = [
        set(&tls.server_certificate) && set(&tls.private_key),
        set(&tls.credential_name),
        !credential_names.is_empty(),
        !tls_certs.is_empty(),
    ];
    if sources.iter().filter(|s| **s).count() > 1 {
        report.error(
            path,
            "only one of credential_name, credential_names, server_certificate/private_key, tls_certificates should be specified",
        );
    }

    let terminating = matches!(mode, "SIMPLE" | "MUTUAL" | "OPTIONAL_MUTUAL");
    if terminating && (set(&tls.credential_name) || !credential_names.is_empty()) {
        // Credentials come from a secret: no files are needed.
        return;
    }
    if terminating {
        let prefix = if mode == "SIMPLE" {
            "SIMPLE TLS"
        } else {
            "MUTUAL TLS"
        };
        if mode != "SIMPLE" && !set(&tls.ca_certificates) && !set(&tls.ca_cert_credential_name) {
            report.error(
                at("caCertificates"),
                format!("{prefix} requires a client CA bundle"),
            );
        }
        if tls_certs.len() > 2 {
            report.warning(
                at("tlsCertificates"),
                format!("{prefix} can support up to 2 server certificates"),
            );
        }
        if tls_certs.is_empty() {
            if !set(&tls.server_certificate) {
                report.error(
                    at("serverCertificate"),
                    format!("{prefix} requires a server certificate"),
                );
            }
            if !set(&tls.private_key) {
                report.error(at("privateKey"), format!("{prefix} requires a private key"));
            }
        }
        let certs_path = at("tlsCertificates");
        for (k, cert) in tls_certs.iter().enumerate() {
            let cp = join_index(&certs_path, k);
            if !set(&cert.server_certificate) {
                report.error(
                    join_key(&cp, "serverCertificate"),
                    format!("{prefix} requires a server certificate"),
                );
            }
            if !set(&cert.private_key) {
                report.error(
                    join_key(&cp, "privateKey"),
                    format!("{prefix} requires a private key"),
                );
            }
        }
    }
    if set(&tls.ca_crl) {
        if set(&tls.credential_name) {
            report.error(
                at("caCrl"),
                "CRL is not supported with credentialName. CRL has to be specified in the credential",
            );
        }
        if mode == "SIMPLE" {
            report.error(at("caCrl"), "CRL is not supported with SIMPLE TLS");
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::diag::Level;

    /// Validates a Gateway named `name` whose `spec` is `spec` (YAML, indented by two)
    /// and returns (level, path) of every IST0106/IST0133.
    fn run_named(name: &str, spec: &str) -> Vec<(Level, String)> {
        let text = format!(
            "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: {name}\n  namespace: ns1\nspec:\n{spec}"
        );
        let loaded = crate::load_str(&text, None);
        let r = loaded.resources().next().expect("a resource");
        crate::validate::validate_resource(r)
            .into_iter()
            .filter(|d| d.code == "IST0106" || d.code == "IST0133")
            .map(|d| (d.level, d.path))
            .collect()
    }

    fn paths(diags: &[(Level, String)], level: Level) -> Vec<&str> {
        diags
            .iter()
            .filter(|(l, _)| *l == level)
            .map(|(_, p)| p.as_str())
            .collect()
    }

    /// (scenario, spec, error paths, warning paths)
    type Case = (
        &'static str,
        &'static str,
        &'static [&'static str],
        &'static [&'static str],
    );

    fn check(cases: &[Case]) {
        for (name, spec, want_errors, want_warnings) in cases {
            let got = run_named("gw", spec);
            assert_eq!(paths(&got, Level::Error), *want_errors, "{name}: errors");
            assert_eq!(
                paths(&got, Level::Warning),
                *want_warnings,
                "{name}: warnings"
            );
        }
    }

    /// A server on 443/HTTPS for foo.bar.com with the given `tls` body (indented by 6).
    fn https(tls: &str) -> String {
        format!(
            "  servers:\n  - port: {{number: 443, name: https, protocol: HTTPS}}\n    hosts: [foo.bar.com]\n    tls:\n{tls}"
        )
    }

    #[test]
    fn gateway_level() {
        check(&[
            ("no servers", "  selector: {istio: ingressgateway}\n", &["spec"], &[]),
            ("empty servers", "  servers: []\n", &["spec.servers"], &[]),
            (
                "one http server",
                "  servers:\n  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: ['*']\n",
                &[],
                &[],
            ),
            (
                "duplicate port names",
                "  servers:\n  - port: {number: 80, name: foo, protocol: http}\n    hosts: [foo.bar.com]\n  - port: {number: 8080, name: foo, protocol: http}\n    hosts: [scooby.doo.com]\n",
                &["spec.servers[1].port.name"],
                &[],
            ),
            (
                "https redirect on an https server",
                "  servers:\n  - port: {number: 80, name: https, protocol: https}\n    hosts: [bar.com]\n    tls: {httpsRedirect: true}\n",
                &[],
                &["spec.servers[0].tls.httpsRedirect"],
            ),
            (
                "https redirect on an http server",
                "  servers:\n  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: [bar.com]\n    tls: {httpsRedirect: true}\n",
                &[],
                &[],
            ),
        ]);
        let bad_name = run_named(
            "gw.with.dots",
            "  servers:\n  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: ['*']\n",
        );
        assert_eq!(paths(&bad_name, Level::Error), ["metadata.name"]);
    }

    #[test]
    fn server_hosts_port_and_bind() {
        let s = |port: &str, hosts: &str, extra: &str| -> String {
            format!("  servers:\n  - port: {port}\n    hosts: {hosts}\n{extra}")
        };
        let http7 = "{number: 7, name: http, protocol: http}";
        let cases: Vec<(&str, String, Vec<&str>)> = vec![
            (
                "empty server",
                "  servers:\n  - {}\n".to_owned(),
                vec!["spec.servers[0].hosts", "spec.servers[0].port"],
            ),
            ("ip host", s(http7, "[1.1.1.1]", ""), vec![]),
            ("namespaced host", s(http7, "[ns1/foo.bar.com]", ""), vec![]),
            ("any namespace", s(http7, "['*/foo.bar.com']", ""), vec![]),
            ("this namespace", s(http7, "[./foo.bar.com]", ""), vec![]),
            (
                "tilde namespace",
                s(http7, "[~/foo.bar.com]", ""),
                vec!["spec.servers[0].hosts[0]"],
            ),
            (
                "inner wildcard",
                s(http7, "[foo.*.bar.com]", ""),
                vec!["spec.servers[0].hosts[0]"; 2],
            ),
            (
                "partial wildcard",
                s(http7, "['*bar.com']", ""),
                vec!["spec.servers[0].hosts[0]"],
            ),
            (
                "short name",
                s(http7, "[foo]", ""),
                vec!["spec.servers[0].hosts[0]"],
            ),
            (
                "empty port",
                s("{}", "[foo.bar.com]", ""),
                vec![
                    "spec.servers[0].port.protocol",
                    "spec.servers[0].port.number",
                    "spec.servers[0].port.name",
                ],
            ),
            (
                "unknown protocol",
                s("{number: 1, name: h, protocol: kafka}", "[foo.bar.com]", ""),
                vec!["spec.servers[0].port.protocol"],
            ),
            (
                "port too large",
                s(
                    "{number: 66000, name: h, protocol: http}",
                    "[foo.bar.com]",
                    "",
                ),
                vec!["spec.servers[0].port.number"],
            ),
            (
                "target port",
                s(
                    "{number: 80, name: h, protocol: http, targetPort: 8080}",
                    "[foo.bar.com]",
                    "",
                ),
                vec!["spec.servers[0].port.targetPort"],
            ),
            (
                "bind ip",
                s(http7, "[foo.bar.com]", "    bind: 127.0.0.1\n"),
                vec![],
            ),
            (
                "bind bad ip",
                s(
                    "{number: 0, name: http, protocol: http}",
                    "[foo.bar.com]",
                    "    bind: foo.bar\n",
                ),
                vec!["spec.servers[0].port.number", "spec.servers[0].bind"],
            ),
            (
                "unix bind with port",
                s(http7, "[foo.bar.com]", "    bind: unix://@foobar\n"),
                vec!["spec.servers[0].port.number"],
            ),
            (
                "unix bind port 0",
                s(
                    "{number: 0, name: http, protocol: http}",
                    "[foo.bar.com]",
                    "    bind: unix:///var/run/gw.sock\n",
                ),
                vec![],
            ),
            (
                "https without tls",
                s(
                    "{number: 443, name: https, protocol: https}",
                    "[foo.bar.com]",
                    "",
                ),
                vec!["spec.servers[0]"],
            ),
            (
                "simple tls on http",
                s(
                    http7,
                    "[foo.bar.com]",
                    "    tls: {mode: SIMPLE, credentialName: c}\n",
                ),
                vec!["spec.servers[0].tls"],
            ),
            (
                "tls on tcp",
                s(
                    "{number: 7, name: tcp, protocol: TCP}",
                    "[foo.bar.com]",
                    "    tls: {httpsRedirect: false}\n",
                ),
                vec!["spec.servers[0].tls"],
            ),
        ];
        for (name, spec, want) in cases {
            let got = run_named("gw", &spec);
            assert_eq!(paths(&got, Level::Error), want, "{name}");
        }
    }

    #[test]
    fn tls_options() {
        let t = "spec.servers[0].tls";
        let cases: &[(&str, &str, &[&str], &[&str])] = &[
            ("empty tls is passthrough", "      {}\n", &[], &[]),
            ("simple with files", "      {mode: SIMPLE, serverCertificate: c, privateKey: k}\n", &[], &[]),
            ("simple with credential", "      {mode: SIMPLE, credentialName: c}\n", &[], &[]),
            ("simple without files", "      {mode: SIMPLE}\n", &["spec.servers[0].tls.serverCertificate", "spec.servers[0].tls.privateKey"], &[]),
            ("credential and files", "      {mode: SIMPLE, serverCertificate: c, privateKey: k, credentialName: c}\n", &[t], &[]),
            ("mutual without ca", "      {mode: MUTUAL, serverCertificate: c, privateKey: k}\n", &["spec.servers[0].tls.caCertificates"], &[]),
            ("mutual with ca credential", "      {mode: MUTUAL, serverCertificate: c, privateKey: k, caCertCredentialName: ca}\n", &[], &[]),
            ("optional mutual with nothing", "      {mode: OPTIONAL_MUTUAL}\n", &["spec.servers[0].tls.caCertificates", "spec.servers[0].tls.serverCertificate", "spec.servers[0].tls.privateKey"], &[]),
            ("three tls certificates", "      mode: SIMPLE\n      tlsCertificates: [{serverCertificate: a, privateKey: a}, {serverCertificate: b, privateKey: b}, {serverCertificate: c, privateKey: c}]\n", &[], &["spec.servers[0].tls.tlsCertificates"]),
            ("tls certificate without key", "      mode: SIMPLE\n      tlsCertificates: [{serverCertificate: a}]\n", &["spec.servers[0].tls.tlsCertificates[0].privateKey"], &[]),
            ("credential names and tls certificates", "      mode: MUTUAL\n      credentialNames: [a]\n      tlsCertificates: [{serverCertificate: a, privateKey: a}]\n", &[t], &[]),
            ("two credential names", "      {mode: MUTUAL, credentialNames: [a, b]}\n", &[], &[]),
            ("three credential names", "      {mode: MUTUAL, credentialNames: [a, b, c]}\n", &["spec.servers[0].tls.credentialNames"], &[]),
            ("istio mutual with key", "      {mode: ISTIO_MUTUAL, privateKey: k}\n", &["spec.servers[0].tls.privateKey"], &[]),
            ("passthrough with credential", "      {mode: PASSTHROUGH, credentialName: c}\n", &[], &[t]),
            ("simple with crl", "      {mode: SIMPLE, serverCertificate: c, privateKey: k, caCrl: crl}\n", &["spec.servers[0].tls.caCrl"], &[]),
            ("crl with credential", "      {mode: MUTUAL, credentialName: c, caCrl: crl}\n", &[], &[]),
            ("unknown cipher", "      {mode: SIMPLE, credentialName: c, cipherSuites: [nope]}\n", &[], &["spec.servers[0].tls.cipherSuites"]),
            ("duplicate cipher", "      {mode: SIMPLE, credentialName: c, cipherSuites: [AES128-SHA, AES128-SHA]}\n", &[], &["spec.servers[0].tls.cipherSuites"]),
            ("cipher operator", "      {mode: SIMPLE, credentialName: c, cipherSuites: [-AES128-SHA]}\n", &[], &[]),
            ("old tls without ciphers", "      {mode: SIMPLE, credentialName: c, minProtocolVersion: TLSV1_1}\n", &[], &["spec.servers[0].tls.minProtocolVersion"]),
            ("versions inverted", "      {mode: SIMPLE, credentialName: c, minProtocolVersion: TLSV1_3, maxProtocolVersion: TLSV1_2}\n", &[], &["spec.servers[0].tls.maxProtocolVersion"]),
            ("unknown version", "      {mode: SIMPLE, credentialName: c, maxProtocolVersion: TLSV2}\n", &["spec.servers[0].tls.maxProtocolVersion"], &[]),
            ("unknown mode", "      {mode: STRICT}\n", &["spec.servers[0].tls.mode"], &[]),
        ];
        for (name, tls, want_e, want_w) in cases {
            let got = run_named("gw", &https(tls));
            assert_eq!(paths(&got, Level::Error), *want_e, "{name}: errors");
            assert_eq!(paths(&got, Level::Warning), *want_w, "{name}: warnings");
        }
    }
}
