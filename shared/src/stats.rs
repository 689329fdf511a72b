//! How the filter's per-rule metrics carry labels, shared by the filter (which
//! names its counters) and `render` (which tells Envoy how to read them).
//!
//! proxy-wasm metrics have a name and no tags. The filter encodes its labels in
//! the name the way Istio's stats plugin does, `key=.=value;.;` before the metric
//! name, and the bootstrap's `stats_config.stats_tags` extractors below turn them
//! into Prometheus labels:
//!
//! ```text
//! virtual_service=.=default/reviews;.;rule=.=jason;.;destination=.=outbound|9080|v2|reviews.default.svc.cluster.local;.;meshroute_requests_total
//! → meshroute_requests_total{virtual_service="default/reviews",rule="jason",destination="outbound|9080|v2|reviews.default.svc.cluster.local"}
//! ```

/// `(tag_name, regex)` for Envoy's `stats_config.stats_tags`, one per label, in
/// the order the labels appear in a metric name.
pub const STATS_TAGS: &[(&str, &str)] = &[
    ("virtual_service", r"(virtual_service=\.=(.*?);\.;)"),
    ("rule", r"(rule=\.=(.*?);\.;)"),
    ("destination", r"(destination=\.=(.*?);\.;)"),
];

/// The bootstrap's `stats_config` with the [`STATS_TAGS`] extractors.
pub fn stats_config() -> serde_json::Value {
    let tags: Vec<serde_json::Value> = STATS_TAGS
        .iter()
        .map(|(n, r)| serde_json::json!({"tag_name": n, "regex": r}))
        .collect();
    serde_json::json!({ "stats_tags": tags })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_extractor_finds_its_label_in_an_encoded_name() {
        let name = "virtual_service=.=default/reviews;.;rule=.=jason;.;destination=.=outbound|9080|v2|reviews;.;meshroute_requests_total";
        let found: Vec<(&str, String)> = STATS_TAGS
            .iter()
            .filter_map(|(tag, re)| {
                let re = regex_lite::Regex::new(re).ok()?;
                let caps = re.captures(name)?;
                Some((*tag, caps.get(2)?.as_str().to_owned()))
            })
            .collect();
        assert_eq!(
            found,
            vec![
                ("virtual_service", "default/reviews".to_owned()),
                ("rule", "jason".to_owned()),
                ("destination", "outbound|9080|v2|reviews".to_owned()),
            ]
        );
        assert_eq!(stats_config()["stats_tags"][2]["tag_name"], "destination");
    }
}
