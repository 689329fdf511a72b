//! Metric names.
//!
//! proxy-wasm metrics have a name and no tags; Envoy prefixes them with `wasmcustom.` and its
//! Prometheus endpoint drops that prefix (and adds no `envoy_`). Tags are encoded in the name
//! the way Istio's stats plugin does it, `key=.=value;.;`, before the metric name:
//!
//! ```text
//! virtual_service=.=default/reviews;.;rule=.=jason;.;destination=.=outbound|9080|v2|reviews.default.svc.cluster.local;.;meshroute_requests_total
//! ```
//!
//! With the [`STATS_TAGS`] extractors in the bootstrap's `stats_config.stats_tags`, Envoy turns
//! them into labels and `/stats/prometheus` shows
//!
//! ```text
//! meshroute_requests_total{virtual_service="default/reviews",rule="jason",destination="outbound|9080|v2|reviews.default.svc.cluster.local"} 1
//! ```
//!
//! Without them the metrics still exist, under a sanitized name holding the tags.

use crate::plan::Labels;

/// Counters the filter keeps, per VirtualService rule and destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Metric {
    /// Every request the filter decided on (`destination` = the chosen cluster or
    /// `redirect`, `direct_response`, `no_route`).
    Requests,
    /// Requests held by a fault delay.
    Delayed,
    /// Requests answered by a fault abort.
    Aborted,
    /// Shadow copies sent (`destination` = the mirror cluster).
    Mirrored,
}

impl Metric {
    pub fn name(self) -> &'static str {
        match self {
            Metric::Requests => "meshroute_requests_total",
            Metric::Delayed => "meshroute_delayed_total",
            Metric::Aborted => "meshroute_aborted_total",
            Metric::Mirrored => "meshroute_mirrored_total",
        }
    }
}

/// `(tag_name, regex)` extractors for Envoy's `stats_config.stats_tags` (`meshroute render` emits them).
pub use meshroute_model::stats::STATS_TAGS;

/// A tag value that cannot end its tag early.
fn value(v: &str) -> String {
    v.chars()
        .map(|c| {
            if c == ';' || c == '=' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect()
}

/// The full metric name for `metric` with `labels` (see the module docs).
pub fn metric_name(metric: Metric, labels: &Labels, destination: Option<&str>) -> String {
    format!(
        "virtual_service=.={};.;rule=.={};.;destination=.={};.;{}",
        value(&labels.virtual_service),
        value(&labels.rule),
        value(destination.unwrap_or(&labels.destination)),
        metric.name()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_tags_before_the_metric() {
        let l = Labels {
            virtual_service: "default/reviews".into(),
            rule: "a;b=c".into(),
            destination: "outbound|9080|v2|reviews.default.svc.cluster.local".into(),
        };
        assert_eq!(
            metric_name(Metric::Requests, &l, None),
            "virtual_service=.=default/reviews;.;rule=.=a_b_c;.;destination=.=outbound|9080|v2|reviews.default.svc.cluster.local;.;meshroute_requests_total"
        );
        assert!(metric_name(Metric::Mirrored, &l, Some("m")).contains("destination=.=m;.;"));
    }
}
