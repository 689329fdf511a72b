//! Envoy cluster names, as Istio builds them: `outbound|PORT|SUBSET|FQDN`.
//!
//! The engine's decisions, the filter's routing header and `meshroute render`'s
//! clusters all use this one function, so a decision always names a cluster
//! that the rendered bootstrap defines.

/// `outbound|9080|v2|reviews.default.svc.cluster.local`; an empty subset stays empty
/// (`outbound|9080||reviews…`), as in Istio.
pub fn cluster_name(port: u32, subset: Option<&str>, fqdn: &str) -> String {
    format!("outbound|{port}|{}|{fqdn}", subset.unwrap_or(""))
}

/// The parts of a cluster name made by [`cluster_name`]: (port, subset, fqdn).
pub fn parse_cluster_name(name: &str) -> Option<(u32, Option<&str>, &str)> {
    let mut it = name.splitn(4, '|');
    if it.next()? != "outbound" {
        return None;
    }
    let port = it.next()?.parse().ok()?;
    let subset = it.next()?;
    let fqdn = it.next()?;
    Some((port, (!subset.is_empty()).then_some(subset), fqdn))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn istio_cluster_names() {
        assert_eq!(
            cluster_name(9080, Some("v2"), "reviews.default.svc.cluster.local"),
            "outbound|9080|v2|reviews.default.svc.cluster.local"
        );
        assert_eq!(
            cluster_name(80, None, "httpbin.org"),
            "outbound|80||httpbin.org"
        );
        assert_eq!(
            parse_cluster_name("outbound|80||httpbin.org"),
            Some((80, None, "httpbin.org"))
        );
        assert_eq!(parse_cluster_name("inbound|80||x"), None);
    }
}
