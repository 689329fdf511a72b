//! Host names as Istio treats them: short names resolved against a namespace,
//! FQDNs, `*` and `*.suffix` wildcards.

/// The cluster DNS domain Istio assumes.
pub const DEFAULT_DOMAIN: &str = "cluster.local";

/// Istio's `ResolveShortnameToFQDN`: `reviews` in namespace `default` becomes
/// `reviews.default.svc.cluster.local`; names with a dot, `*` and IP addresses stay as they are.
pub fn to_fqdn(host: &str, namespace: &str) -> String {
    if host.is_empty() || host == "*" || host.contains('.') || is_ip(host) {
        return host.to_owned();
    }
    if namespace.is_empty() {
        format!("{host}.svc.{DEFAULT_DOMAIN}")
    } else {
        format!("{host}.{namespace}.svc.{DEFAULT_DOMAIN}")
    }
}

/// istiod `resolveGatewayName`: a VirtualService's gateway reference as `ns/name`. `name` and
/// `./name` → `vs_ns/name`; the legacy `name.ns.svc.cluster.local` (or `name.ns`) →
/// `ns/name`; `ns/name` and `mesh` stay.
pub fn resolve_gateway_name(g: &str, vs_ns: &str) -> String {
    if g == "mesh" {
        return g.to_owned();
    }
    match g.split_once('/') {
        Some((".", name)) => format!("{vs_ns}/{name}"),
        Some(_) => g.to_owned(),
        None => match g.split_once('.') {
            None => format!("{vs_ns}/{g}"),
            Some((name, rest)) => {
                let ns = rest.split('.').next().unwrap_or(rest);
                format!("{ns}/{name}")
            }
        },
    }
}

/// True for an IPv4 or IPv6 address literal.
pub fn is_ip(s: &str) -> bool {
    s.parse::<std::net::IpAddr>().is_ok()
}

/// True when `host` starts with `*`.
pub fn is_wildcard(host: &str) -> bool {
    host.starts_with('*')
}

/// Istio's `host.Name.Matches`: true when the two names overlap, either being a wildcard.
pub fn matches(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match (is_wildcard(a), is_wildcard(b)) {
        (false, false) => false,
        (true, false) => wildcard_covers(a, b),
        (false, true) => wildcard_covers(b, a),
        // Two wildcards overlap when one suffix ends with the other.
        (true, true) => {
            let sa = &a[1..];
            let sb = &b[1..];
            sa.ends_with(sb) || sb.ends_with(sa)
        }
    }
}

/// Istio's `host.Name.SubsetOf`: every name `a` matches is matched by `b`.
pub fn subset_of(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    if is_wildcard(b) {
        if is_wildcard(a) {
            return a[1..].ends_with(&b[1..]);
        }
        return wildcard_covers(b, a);
    }
    false
}

/// `*.foo.com` covers `bar.foo.com` (and `a.bar.foo.com`); `*` covers everything.
fn wildcard_covers(wildcard: &str, name: &str) -> bool {
    let suffix = &wildcard[1..];
    suffix.is_empty() || name.ends_with(suffix)
}

/// Strips a `:port` from an authority (`reviews:9080` → `reviews`), keeping IPv6 brackets intact.
pub fn strip_port(authority: &str) -> &str {
    if authority.starts_with('[') {
        return match authority.find(']') {
            Some(i) => &authority[..=i],
            None => authority,
        };
    }
    match authority.rsplit_once(':') {
        Some((h, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => authority,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fqdn_resolution() {
        assert_eq!(
            to_fqdn("reviews", "default"),
            "reviews.default.svc.cluster.local"
        );
        assert_eq!(to_fqdn("reviews.prod", "default"), "reviews.prod");
        assert_eq!(to_fqdn("*.example.com", "default"), "*.example.com");
        assert_eq!(to_fqdn("*", "default"), "*");
        assert_eq!(to_fqdn("10.0.0.1", "default"), "10.0.0.1");
    }

    #[test]
    fn wildcard_matching() {
        assert!(matches("*.example.com", "a.example.com"));
        assert!(matches("a.example.com", "*.example.com"));
        assert!(!matches("*.example.com", "example.org"));
        assert!(matches("*", "anything"));
        assert!(matches("*.a.com", "*.com"));
        assert!(!matches("a.com", "b.com"));
        assert!(subset_of("a.example.com", "*.example.com"));
        assert!(!subset_of("*.example.com", "a.example.com"));
        assert!(subset_of("*.a.example.com", "*.example.com"));
    }

    #[test]
    fn ports_are_stripped() {
        assert_eq!(strip_port("reviews:9080"), "reviews");
        assert_eq!(strip_port("reviews"), "reviews");
        assert_eq!(strip_port("[::1]:80"), "[::1]");
    }
}
