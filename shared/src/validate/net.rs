//! Network helpers for the Gateway, DestinationRule and ServiceEntry validators that
//! `common.rs` does not cover: Istio's port protocols (`pkg/config/protocol`), the
//! cipher suites a gateway accepts (`pkg/config/security`), Maglev table sizes and
//! locality strings.

/// A port protocol as Istio's `protocol.Parse` reads it (case-insensitive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Protocol {
    Grpc,
    GrpcWeb,
    Http,
    HttpProxy,
    Http2,
    Https,
    Tcp,
    Tls,
    Udp,
    Mongo,
    Redis,
    MySql,
    /// Anything else, including the empty string.
    Unsupported,
}

impl Protocol {
    /// Istio's `protocol.Parse`.
    pub(crate) fn parse(s: &str) -> Protocol {
        match s.to_ascii_lowercase().as_str() {
            "tcp" => Protocol::Tcp,
            "udp" => Protocol::Udp,
            "grpc" => Protocol::Grpc,
            "grpc-web" => Protocol::GrpcWeb,
            "http" => Protocol::Http,
            "http_proxy" => Protocol::HttpProxy,
            "http2" => Protocol::Http2,
            "https" => Protocol::Https,
            "tls" => Protocol::Tls,
            "mongo" => Protocol::Mongo,
            "redis" => Protocol::Redis,
            "mysql" => Protocol::MySql,
            _ => Protocol::Unsupported,
        }
    }

    /// Protocols carried over HTTP (`IsHTTP`).
    pub(crate) fn is_http(self) -> bool {
        matches!(
            self,
            Protocol::Http
                | Protocol::Http2
                | Protocol::HttpProxy
                | Protocol::Grpc
                | Protocol::GrpcWeb
        )
    }

    /// Protocols on top of TLS (`IsTLS`).
    pub(crate) fn is_tls(self) -> bool {
        matches!(self, Protocol::Https | Protocol::Tls)
    }

    /// Protocols carried over TCP without HTTP routing (`IsTCP`).
    pub(crate) fn is_tcp(self) -> bool {
        matches!(
            self,
            Protocol::Tcp
                | Protocol::Https
                | Protocol::Tls
                | Protocol::Mongo
                | Protocol::Redis
                | Protocol::MySql
        )
    }
}

/// The cipher suites a gateway server accepts by name (BoringSSL's, minus PSK), as
/// listed by Istio's `security.ValidCipherSuites`.
pub(crate) const VALID_CIPHER_SUITES: &[&str] = &[
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
    "ECDHE-ECDSA-AES128-SHA",
    "ECDHE-RSA-AES128-SHA",
    "ECDHE-ECDSA-AES256-SHA",
    "ECDHE-RSA-AES256-SHA",
    "AES128-GCM-SHA256",
    "AES256-GCM-SHA384",
    "AES128-SHA",
    "AES256-SHA",
    "DES-CBC3-SHA",
];

/// Istio's `security.IsValidCipherSuite`: a known suite, `ALL`, empty, or an
/// expression starting with an operator (`-AES128-SHA`, `+…`, `!…`), which Istio
/// passes through without parsing.
pub(crate) fn is_valid_cipher_suite(cs: &str) -> bool {
    match cs.chars().next() {
        None => true,
        _ if cs == "ALL" => true,
        Some(c) if !c.is_alphanumeric() => true,
        Some(_) => VALID_CIPHER_SUITES.contains(&cs),
    }
}

/// Envoy's (and Istio's) primality test for Maglev table sizes.
pub(crate) fn is_prime(x: u64) -> bool {
    if x != 0 && x < 4 {
        return true;
    }
    if x & 1 == 0 {
        return false;
    }
    let mut factor: u64 = 3;
    // factor <= sqrt(x), without floating point.
    while factor.checked_mul(factor).is_some_and(|sq| sq <= x) {
        if x % factor == 0 {
            return false;
        }
        factor += 2;
    }
    true
}

/// Go's `%v` of a sorted string slice: `[a b c]`.
pub(crate) fn go_list(items: &[&str]) -> String {
    format!("[{}]", items.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocols_parse_case_insensitively() {
        let cases = [
            ("http", Protocol::Http, true, false, false),
            ("HTTPS", Protocol::Https, false, true, true),
            ("GRPC-Web", Protocol::GrpcWeb, true, false, false),
            ("tls", Protocol::Tls, false, true, true),
            ("Mongo", Protocol::Mongo, false, false, true),
            ("http_proxy", Protocol::HttpProxy, true, false, false),
            ("UDP", Protocol::Udp, false, false, false),
            ("kafka", Protocol::Unsupported, false, false, false),
            ("", Protocol::Unsupported, false, false, false),
        ];
        for (s, p, http, tls, tcp) in cases {
            let got = Protocol::parse(s);
            assert_eq!(got, p, "{s}");
            assert_eq!(got.is_http(), http, "{s} http");
            assert_eq!(got.is_tls(), tls, "{s} tls");
            assert_eq!(got.is_tcp(), tcp, "{s} tcp");
        }
    }

    #[test]
    fn cipher_suites() {
        let cases = [
            ("ECDHE-ECDSA-AES128-SHA", true),
            ("-ECDHE-ECDSA-AES128-SHA", true),
            ("+anything", true),
            ("ALL", true),
            ("", true),
            ("not-a-cipher-suite", false),
            ("ecdhe-ecdsa-aes128-sha", false),
        ];
        for (cs, ok) in cases {
            assert_eq!(is_valid_cipher_suite(cs), ok, "{cs}");
        }
    }

    #[test]
    fn maglev_primes() {
        let cases = [
            (0, false),
            (1, true),
            (2, true),
            (3, true),
            (4, false),
            (9, false),
            (1000, false),
            (65537, true),
            (5_000_011, true),
            (5_000_013, false),
        ];
        for (n, prime) in cases {
            assert_eq!(is_prime(n), prime, "{n}");
        }
    }

    #[test]
    fn go_list_format() {
        assert_eq!(go_list(&["a", "b"]), "[a b]");
        assert_eq!(go_list(&[]), "[]");
    }
}
