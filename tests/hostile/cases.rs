//! Hostile plugin configurations for the meshroute filter, with the expected outcome.
//! Shared (by `#[path]`) between the native table test `filter/tests/hostile_config.rs`
//! and the real-Envoy suite `tests/e2e_hostile.rs`, so both check the same inputs.
//!
//! Spec cases are the `spec` of VirtualService `default/hostile` for host `reviews`, served
//! next to a DestinationRule with subsets v1, v2, v3; raw cases are the whole configuration.

#![allow(dead_code)] // each includer uses a part

use serde_json::{json, Value};

/// What a hostile configuration is.
pub enum Input {
    /// The whole plugin configuration string.
    Raw(String),
    /// The spec of VirtualService `default/hostile` (host `reviews`).
    Spec(Value),
}

/// What must happen to it.
pub enum Expect {
    /// Refused in `on_configure`, with a log line naming this resource and path (prefix).
    Reject {
        resource: &'static str,
        path: &'static str,
    },
    /// Accepted; requests to `reviews` then behave like Istio.
    Accept(Behaviour),
}

/// Istio's behaviour for an accepted configuration (requests to host `reviews`).
pub enum Behaviour {
    /// Every request goes to this subset.
    AllTo(&'static str),
    /// Requests are split; each of these subsets gets some.
    Split(&'static [&'static str]),
    /// No route: 404.
    NoRoute,
}

pub struct Case {
    pub name: &'static str,
    pub input: Input,
    pub expect: Expect,
}

pub const VS_RESOURCE: &str = "VirtualService default/hostile";
pub const PLUGIN: &str = "plugin configuration";

fn dest(subset: &str, weight: Value) -> Value {
    json!({"destination": {"host": "reviews", "subset": subset}, "weight": weight})
}

fn one_rule(rule: Value) -> Value {
    json!({"hosts": ["reviews"], "http": [rule]})
}

fn to_v1(extra: Value) -> Value {
    let mut rule = json!({"route": [{"destination": {"host": "reviews", "subset": "v1"}}]});
    if let (Some(r), Some(e)) = (rule.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            r.insert(k.clone(), v.clone());
        }
    }
    one_rule(rule)
}

fn reject(resource: &'static str, path: &'static str) -> Expect {
    Expect::Reject { resource, path }
}

/// The DestinationRule every spec case is served with.
pub fn destination_rule() -> Value {
    json!({"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
           "metadata": {"name": "reviews", "namespace": "default"},
           "spec": {"host": "reviews", "subsets": [
               {"name": "v1", "labels": {"version": "v1"}},
               {"name": "v2", "labels": {"version": "v2"}},
               {"name": "v3", "labels": {"version": "v3"}}]}})
}

/// The VirtualService of a spec case.
pub fn virtual_service(spec: &Value) -> Value {
    json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
           "metadata": {"name": "hostile", "namespace": "default"}, "spec": spec})
}

/// Every case. The 10,000-rule configuration and the pathological regex are separate tests
/// (they measure time).
pub fn cases() -> Vec<Case> {
    use Behaviour::*;
    use Input::*;
    let c = |name, input, expect| Case {
        name,
        input,
        expect,
    };
    vec![
        // Malformed input.
        c("malformed JSON", Raw("{nope".into()), reject(PLUGIN, "-")),
        c(
            "YAML instead of JSON",
            Raw("settings:\n  gateway: mesh\n".into()),
            reject(PLUGIN, "-"),
        ),
        c(
            "100,000 nested arrays",
            Raw("[".repeat(100_000)),
            reject(PLUGIN, "-"),
        ),
        c("not an object", Raw("[1, 2]".into()), reject(PLUGIN, "-")),
        c(
            "resource is not an object",
            Raw(r#"{"resources": [42]}"#.into()),
            reject(PLUGIN, "-"),
        ),
        c(
            "binary garbage",
            Raw("\u{1}\u{7f}\u{fffd}garbage\u{0}".into()),
            reject(PLUGIN, "-"),
        ),
        // Wrong types and unknown fields.
        c(
            "hosts is a string",
            Spec(json!({"hosts": "reviews", "http": [{"route": [{"destination": {"host": "reviews"}}]}]})),
            reject(VS_RESOURCE, "spec.hosts"),
        ),
        c(
            "timeout is a number",
            Spec(to_v1(json!({"timeout": 5}))),
            reject(VS_RESOURCE, "spec.http[0].timeout"),
        ),
        c(
            "unknown settings field",
            Raw(r#"{"settings": {"tpyo": 1}}"#.into()),
            reject(PLUGIN, "settings.tpyo"),
        ),
        // Unknown fields inside Istio objects are kept and ignored (kubectl's pruning; the
        // analyzer reports them), so the rule applies as written.
        c(
            "unknown field in a rule",
            Spec(one_rule(
                json!({"frobnicate": true, "route": [{"destination": {"host": "reviews", "subset": "v3"}}]}),
            )),
            Expect::Accept(AllTo("v3")),
        ),
        c(
            "unused kind only",
            Raw(r#"{"resources": [{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}}]}"#.into()),
            Expect::Accept(NoRoute),
        ),
        // Weights.
        c(
            "weight 0",
            Spec(one_rule(json!({"route": [dest("v1", json!(0)), dest("v3", json!(100))]}))),
            Expect::Accept(AllTo("v3")),
        ),
        c(
            "all weights 0",
            Spec(one_rule(json!({"route": [dest("v1", json!(0)), dest("v3", json!(0))]}))),
            reject(VS_RESOURCE, "spec.http[0].route"),
        ),
        c(
            "negative weight",
            Spec(one_rule(json!({"route": [dest("v1", json!(-10)), dest("v3", json!(110))]}))),
            reject(VS_RESOURCE, "spec.http[0].route[0].weight"),
        ),
        c(
            "weight beyond int32",
            Spec(one_rule(json!({"route": [dest("v1", json!(4_294_967_296_u64)), dest("v3", json!(1))]}))),
            reject(VS_RESOURCE, "spec.http[0].route[0].weight"),
        ),
        // Istio sums int32 weights (the sum wraps in Go and is accepted); meshroute sums in
        // u64 and splits by weight / total, as Envoy does.
        c(
            "weights summing past int32",
            Spec(one_rule(json!({"route": [dest("v1", json!(i32::MAX)), dest("v3", json!(i32::MAX))]}))),
            Expect::Accept(Split(&["v1", "v3"])),
        ),
        c(
            "weights not summing to 100",
            Spec(one_rule(json!({"route": [dest("v1", json!(30)), dest("v3", json!(30))]}))),
            Expect::Accept(Split(&["v1", "v3"])),
        ),
        // Percentages.
        c(
            "abort percentage 150",
            Spec(to_v1(json!({"fault": {"abort": {"httpStatus": 500, "percentage": {"value": 150}}}}))),
            reject(VS_RESOURCE, "spec.http[0].fault.abort.percentage.value"),
        ),
        c(
            "negative abort percentage",
            Spec(to_v1(json!({"fault": {"abort": {"httpStatus": 500, "percentage": {"value": -1}}}}))),
            reject(VS_RESOURCE, "spec.http[0].fault.abort.percentage.value"),
        ),
        c(
            "mirror percentage 101",
            Spec(to_v1(json!({"mirror": {"host": "reviews"}, "mirrorPercentage": {"value": 101}}))),
            reject(VS_RESOURCE, "spec.http[0].mirrorPercentage.value"),
        ),
        c(
            "abort status 9999",
            Spec(to_v1(json!({"fault": {"abort": {"httpStatus": 9999, "percentage": {"value": 100}}}}))),
            reject(VS_RESOURCE, "spec.http[0].fault.abort.httpStatus"),
        ),
        // Durations.
        c(
            "negative timeout",
            Spec(to_v1(json!({"timeout": "-1s"}))),
            reject(VS_RESOURCE, "spec.http[0].timeout"),
        ),
        c(
            "timeout beyond u64",
            Spec(to_v1(json!({"timeout": "99999999999999999999s"}))),
            reject(VS_RESOURCE, "spec.http[0].timeout"),
        ),
        c(
            "timeout beyond protobuf Duration",
            Spec(to_v1(json!({"timeout": "315576000001s"}))),
            reject(VS_RESOURCE, "spec.http[0].timeout"),
        ),
        c(
            "delay below 1ms",
            Spec(to_v1(json!({"fault": {"delay": {"fixedDelay": "0.5ms", "percentage": {"value": 100}}}}))),
            reject(VS_RESOURCE, "spec.http[0].fault.delay.fixedDelay"),
        ),
        c(
            "duration in fortnights",
            Spec(to_v1(json!({"retries": {"attempts": 3, "perTryTimeout": "1 fortnight"}}))),
            reject(VS_RESOURCE, "spec.http[0].retries.perTryTimeout"),
        ),
        c(
            "negative retry attempts",
            Spec(to_v1(json!({"retries": {"attempts": -3}}))),
            reject(VS_RESOURCE, "spec.http[0].retries.attempts"),
        ),
        // Regexes: RE2 syntax, size-limited.
        c(
            "regex that compiles huge",
            Spec(to_v1(json!({"match": [{"headers": {"x-evil": {"regex": "((a{100}){100}){100}"}}}]}))),
            reject(VS_RESOURCE, "spec.http[0].match[0].headers.x-evil.regex"),
        ),
        c(
            "regex longer than 1024",
            Spec(to_v1(json!({"match": [{"uri": {"regex": format!("{}a{}", "(".repeat(1000), ")".repeat(1000))}}]}))),
            reject(VS_RESOURCE, "spec.http[0].match[0].uri.regex"),
        ),
        c(
            "regex backreference",
            Spec(to_v1(json!({"match": [{"uri": {"regex": "(a)\\1"}}]}))),
            reject(VS_RESOURCE, "spec.http[0].match[0].uri.regex"),
        ),
        c(
            "no http, tcp or tls",
            Spec(json!({"hosts": ["reviews"]})),
            reject(VS_RESOURCE, "spec"),
        ),
    ]
}

/// A VirtualService spec with `n` rules (`/r<i>` exact → v1/v2/v3 round robin), the last
/// one a catch-all to v1.
pub fn many_rules(n: usize) -> Value {
    let subsets = ["v1", "v2", "v3"];
    let mut http: Vec<Value> = (0..n.saturating_sub(1))
        .map(|i| {
            json!({"name": format!("r{i}"), "match": [{"uri": {"exact": format!("/r{i}")}}],
                   "route": [{"destination": {"host": "reviews", "subset": subsets[i % 3]}}]})
        })
        .collect();
    http.push(
        json!({"name": "default", "route": [{"destination": {"host": "reviews", "subset": "v1"}}]}),
    );
    json!({"hosts": ["reviews"], "http": http})
}

/// The catastrophic-backtracking regex (for backtracking engines) and a header that triggers it.
pub const EVIL_REGEX: &str = "(a+)+$";

/// `n` bytes of `a` followed by `!`: no match, exponential for a backtracking engine.
pub fn evil_value(n: usize) -> String {
    let mut s = "a".repeat(n);
    s.push('!');
    s
}

/// Spec: header `x-evil` matching [`EVIL_REGEX`] → v3, anything else → v1.
pub fn evil_spec() -> Value {
    json!({"hosts": ["reviews"], "http": [
        {"name": "evil", "match": [{"headers": {"x-evil": {"regex": EVIL_REGEX}}}],
         "route": [{"destination": {"host": "reviews", "subset": "v3"}}]},
        {"name": "rest", "route": [{"destination": {"host": "reviews", "subset": "v1"}}]}]})
}
