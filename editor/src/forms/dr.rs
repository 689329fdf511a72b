//! The DestinationRule form: host, subsets (name and labels), and the basics of
//! the traffic policy (load balancer incl. consistent hash, connection pool,
//! outlier detection, TLS mode).

use std::fmt::Display;
use std::str::FromStr;
use std::sync::Arc;

use crate::forms::widgets::Show;
use leptos::prelude::*;
use meshroute_model::load::Spec;
use meshroute_model::model::{
    ConsistentHashLB, DestinationRule, HTTPCookie, LoadBalancerSettings, OptSliceExt, Subset,
    TrafficPolicy, CLIENT_TLS_MODES, SIMPLE_LB_ALGORITHMS,
};

use super::widgets::{
    map_text, opt_map, opt_num, opt_str, prune, rows, AreaField, FieldDiags, NumberField,
    SelectField, TextField,
};
use super::{edit_spec, spec_memo};
use crate::state::DocId;
use crate::{ctx, Ctx};

#[derive(Clone, Copy)]
struct Dr {
    ctx: Ctx,
    id: DocId,
    dr: Memo<Option<Spec>>,
}

impl Dr {
    fn read<T: Default>(self, f: impl FnOnce(&DestinationRule) -> T) -> T {
        self.dr.with(|s| match s {
            Some(Spec::DestinationRule(v)) => f(v),
            _ => T::default(),
        })
    }

    fn write(self, key: &str, f: impl FnOnce(&mut DestinationRule)) {
        edit_spec(
            self.ctx,
            self.id,
            key,
            |s| match s {
                Spec::DestinationRule(v) => Some(v),
                _ => None,
            },
            f,
        );
    }

    /// Edits the top-level traffic policy, dropping what becomes empty.
    fn write_tp(self, key: &str, f: impl FnOnce(&mut TrafficPolicy)) {
        self.write(key, |d| {
            let tp = d.traffic_policy.get_or_insert_with(Default::default);
            f(tp);
            if let Some(cp) = tp.connection_pool.as_mut() {
                prune(&mut cp.tcp);
                prune(&mut cp.http);
            }
            prune(&mut tp.connection_pool);
            prune(&mut tp.outlier_detection);
            prune(&mut tp.tls);
            prune(&mut tp.load_balancer);
            prune(&mut d.traffic_policy);
        });
    }

    fn tp_num<T>(
        self,
        label: &'static str,
        field: &'static str,
        get: fn(&TrafficPolicy) -> Option<T>,
        set: fn(&mut TrafficPolicy, Option<T>),
    ) -> impl IntoView
    where
        T: FromStr + Display + Send + Sync + 'static,
    {
        let path = format!("spec.trafficPolicy.{field}");
        let key = path.clone();
        view! {
            <NumberField
                label=label
                path=path
                min="0"
                value=Arc::new(move || self.read(|d| d.traffic_policy.as_ref().and_then(get).map(|v| v.to_string()).unwrap_or_default()))
                on_set=Arc::new(move |s: String| {
                    if let Ok(v) = opt_num::<T>(&s) {
                        self.write_tp(&key, |tp| set(tp, v));
                    }
                })
            />
        }
    }

    fn tp_text(
        self,
        label: &'static str,
        field: &'static str,
        get: fn(&TrafficPolicy) -> Option<String>,
        set: fn(&mut TrafficPolicy, Option<String>),
    ) -> impl IntoView {
        let path = format!("spec.trafficPolicy.{field}");
        let key = path.clone();
        view! {
            <TextField
                label=label
                path=path
                value=Arc::new(move || self.read(|d| d.traffic_policy.as_ref().and_then(get).unwrap_or_default()))
                on_set=Arc::new(move |s: String| self.write_tp(&key, |tp| set(tp, opt_str(&s))))
            />
        }
    }
}

/// The load-balancer mode shown in the select: a simple algorithm, `hash:<key>`, or "".
fn lb_mode(lb: Option<&LoadBalancerSettings>) -> String {
    let Some(lb) = lb else { return String::new() };
    if let Some(s) = &lb.simple {
        return s.clone();
    }
    match &lb.consistent_hash {
        Some(h) if h.http_header_name.is_some() => "hash:header".into(),
        Some(h) if h.http_cookie.is_some() => "hash:cookie".into(),
        Some(h) if h.use_source_ip.is_some() => "hash:sourceIp".into(),
        Some(h) if h.http_query_parameter_name.is_some() => "hash:query".into(),
        Some(_) => "hash:header".into(),
        None => String::new(),
    }
}

fn set_lb_mode(tp: &mut TrafficPolicy, mode: &str) {
    let lb = tp.load_balancer.get_or_insert_with(Default::default);
    let keep_name = lb.consistent_hash.as_ref().and_then(|h| {
        h.http_header_name
            .clone()
            .or(h.http_query_parameter_name.clone())
            .or(h.http_cookie.as_ref().and_then(|c| c.name.clone()))
    });
    lb.simple = None;
    lb.consistent_hash = None;
    if let Some(key) = mode.strip_prefix("hash:") {
        let name = keep_name.unwrap_or_else(|| {
            if key == "cookie" {
                "session".into()
            } else {
                "x-user".into()
            }
        });
        let mut h = ConsistentHashLB::default();
        match key {
            "cookie" => {
                h.http_cookie = Some(HTTPCookie {
                    name: Some(name),
                    ttl: Some("0s".into()),
                    ..Default::default()
                })
            }
            "sourceIp" => h.use_source_ip = Some(true),
            "query" => h.http_query_parameter_name = Some(name),
            _ => h.http_header_name = Some(name),
        }
        lb.consistent_hash = Some(h);
    } else if !mode.is_empty() {
        lb.simple = Some(mode.to_owned());
    }
}

#[component]
pub fn DrForm(id: DocId) -> impl IntoView {
    let ctx = ctx();
    let dr = Dr {
        ctx,
        id,
        dr: spec_memo(ctx, id),
    };
    let n_subsets = Memo::new(move |_| dr.read(|d| d.subsets.items().len()));
    let mode = Memo::new(move |_| {
        dr.read(|d| {
            lb_mode(
                d.traffic_policy
                    .as_ref()
                    .and_then(|t| t.load_balancer.as_ref()),
            )
        })
    });
    let mut lb_options: Vec<(String, String)> =
        vec![(String::new(), "(Istio default: LEAST_REQUEST)".into())];
    lb_options.extend(
        SIMPLE_LB_ALGORITHMS
            .iter()
            .map(|a| (a.to_string(), a.to_string())),
    );
    lb_options.extend([
        (
            "hash:header".to_owned(),
            "Sticky: hash of a header".to_owned(),
        ),
        (
            "hash:cookie".to_owned(),
            "Sticky: hash of a cookie".to_owned(),
        ),
        (
            "hash:sourceIp".to_owned(),
            "Sticky: hash of the source IP".to_owned(),
        ),
        (
            "hash:query".to_owned(),
            "Sticky: hash of a query parameter".to_owned(),
        ),
    ]);
    let mut tls_options: Vec<(String, String)> = vec![(String::new(), "(not set)".into())];
    tls_options.extend(
        CLIENT_TLS_MODES
            .iter()
            .map(|m| (m.to_string(), m.to_string())),
    );
    let add_subset = move |_| {
        dr.write("!add-subset", |d| {
            let subsets = d.subsets.get_or_insert_with(Vec::new);
            let name = (1..)
                .map(|n| format!("v{n}"))
                .find(|n| !subsets.iter().any(|s| s.name.as_deref() == Some(n)))
                .unwrap_or_default();
            subsets.push(Subset {
                labels: opt_map(&format!("version: {name}")),
                name: Some(name),
                ..Default::default()
            });
        });
    };
    view! {
        <TextField
            label="Host"
            path="spec.host"
            list="known-hosts"
            value=Arc::new(move || dr.read(|d| d.host.clone().unwrap_or_default()))
            on_set=Arc::new(move |s: String| dr.write("spec.host", |d| d.host = opt_str(&s)))
        />
        <h3>"Subsets"</h3>
        <FieldDiags path="spec.subsets"/>
        <div class="subsets">
            {rows(n_subsets, move |k| view! { <SubsetRow dr=dr k=k/> }.into_any())}
        </div>
        <button class="add" data-testid="add-subset" on:click=add_subset>"+ Subset"</button>
        <h3>"Traffic policy"</h3>
        <FieldDiags path="spec.trafficPolicy"/>
        <fieldset>
            <legend>"Load balancing"</legend>
            <SelectField
                label="Algorithm"
                path="spec.trafficPolicy.loadBalancer"
                options=lb_options
                value=Arc::new(move || mode.get())
                on_set=Arc::new(move |m: String| dr.write_tp("lb-mode", |tp| set_lb_mode(tp, &m)))
            />
            <Show when=move || mode.with(|m| m == "hash:header" || m == "hash:cookie" || m == "hash:query")>
                <TextField
                    label="Hash key (header, cookie or query parameter name)"
                    path="spec.trafficPolicy.loadBalancer.consistentHash"
                    value=Arc::new(move || dr.read(|d| {
                        let h = d.traffic_policy.as_ref().and_then(|t| t.load_balancer.as_ref()).and_then(|l| l.consistent_hash.as_ref());
                        h.and_then(|h| h.http_header_name.clone()
                            .or(h.http_query_parameter_name.clone())
                            .or(h.http_cookie.as_ref().and_then(|c| c.name.clone())))
                            .unwrap_or_default()
                    }))
                    on_set=Arc::new(move |s: String| dr.write_tp("hash-key", |tp| {
                        let h = tp.load_balancer.get_or_insert_with(Default::default).consistent_hash.get_or_insert_with(Default::default);
                        let v = opt_str(&s);
                        if let Some(c) = h.http_cookie.as_mut() {
                            c.name = v;
                        } else if h.http_query_parameter_name.is_some() {
                            h.http_query_parameter_name = v;
                        } else {
                            h.http_header_name = v;
                        }
                    }))
                />
            </Show>
            <Show when=move || mode.with(|m| m == "hash:cookie")>
                {dr.tp_text("Cookie TTL (0s: session cookie)", "loadBalancer.consistentHash.httpCookie.ttl",
                    |tp| tp.load_balancer.as_ref()?.consistent_hash.as_ref()?.http_cookie.as_ref()?.ttl.clone(),
                    |tp, v| {
                        if let Some(c) = tp.load_balancer.as_mut().and_then(|l| l.consistent_hash.as_mut()).and_then(|h| h.http_cookie.as_mut()) {
                            c.ttl = v;
                        }
                    })}
            </Show>
        </fieldset>
        <fieldset>
            <legend>"Connection pool"</legend>
            {dr.tp_num::<i32>("TCP max connections", "connectionPool.tcp.maxConnections",
                |tp| tp.connection_pool.as_ref()?.tcp.as_ref()?.max_connections,
                |tp, v| tp.connection_pool.get_or_insert_with(Default::default).tcp.get_or_insert_with(Default::default).max_connections = v)}
            {dr.tp_num::<i32>("HTTP/1.1 max pending requests", "connectionPool.http.http1MaxPendingRequests",
                |tp| tp.connection_pool.as_ref()?.http.as_ref()?.http1_max_pending_requests,
                |tp, v| tp.connection_pool.get_or_insert_with(Default::default).http.get_or_insert_with(Default::default).http1_max_pending_requests = v)}
            {dr.tp_num::<i32>("HTTP/2 max requests", "connectionPool.http.http2MaxRequests",
                |tp| tp.connection_pool.as_ref()?.http.as_ref()?.http2_max_requests,
                |tp, v| tp.connection_pool.get_or_insert_with(Default::default).http.get_or_insert_with(Default::default).http2_max_requests = v)}
            {dr.tp_num::<i32>("Max requests per connection", "connectionPool.http.maxRequestsPerConnection",
                |tp| tp.connection_pool.as_ref()?.http.as_ref()?.max_requests_per_connection,
                |tp, v| tp.connection_pool.get_or_insert_with(Default::default).http.get_or_insert_with(Default::default).max_requests_per_connection = v)}
        </fieldset>
        <fieldset>
            <legend>"Outlier detection (circuit breaker)"</legend>
            {dr.tp_num::<u32>("Consecutive 5xx errors", "outlierDetection.consecutive5xxErrors",
                |tp| tp.outlier_detection.as_ref()?.consecutive_5xx_errors,
                |tp, v| tp.outlier_detection.get_or_insert_with(Default::default).consecutive_5xx_errors = v)}
            {dr.tp_text("Interval", "outlierDetection.interval",
                |tp| tp.outlier_detection.as_ref()?.interval.clone(),
                |tp, v| tp.outlier_detection.get_or_insert_with(Default::default).interval = v)}
            {dr.tp_text("Base ejection time", "outlierDetection.baseEjectionTime",
                |tp| tp.outlier_detection.as_ref()?.base_ejection_time.clone(),
                |tp, v| tp.outlier_detection.get_or_insert_with(Default::default).base_ejection_time = v)}
            {dr.tp_num::<i32>("Max ejection %", "outlierDetection.maxEjectionPercent",
                |tp| tp.outlier_detection.as_ref()?.max_ejection_percent,
                |tp, v| tp.outlier_detection.get_or_insert_with(Default::default).max_ejection_percent = v)}
        </fieldset>
        <fieldset>
            <legend>"TLS to the upstream"</legend>
            <SelectField
                label="Mode"
                path="spec.trafficPolicy.tls.mode"
                options=tls_options
                value=Arc::new(move || dr.read(|d| d.traffic_policy.as_ref().and_then(|t| t.tls.as_ref()).and_then(|t| t.mode.clone()).unwrap_or_default()))
                on_set=Arc::new(move |m: String| dr.write_tp("tls-mode", |tp| tp.tls.get_or_insert_with(Default::default).mode = opt_str(&m)))
            />
        </fieldset>
        <p class="muted">"Locality load balancing, port-level and subset-level policies: edit them in the YAML pane (they are kept)."</p>
    }
}

#[component]
fn SubsetRow(dr: Dr, k: usize) -> impl IntoView {
    let base = format!("spec.subsets[{k}]");
    let has_policy = Memo::new(move |_| {
        dr.read(|d| {
            d.subsets
                .items()
                .get(k)
                .is_some_and(|s| s.traffic_policy.is_some())
        })
    });
    view! {
        <div class="card subset" data-testid=format!("f-{base}") tabindex="-1" role="group" aria-label=format!("Subset {}", k + 1)>
            <TextField
                label="Subset name"
                path=format!("{base}.name")
                value=Arc::new(move || dr.read(|d| d.subsets.items().get(k).and_then(|s| s.name.clone()).unwrap_or_default()))
                on_set=Arc::new(move |s: String| dr.write(&format!("spec.subsets[{k}].name"), |d| {
                    if let Some(x) = d.subsets.as_mut().and_then(|v| v.get_mut(k)) {
                        x.name = opt_str(&s);
                    }
                }))
            />
            <AreaField
                label="Labels (key: value per line)"
                path=format!("{base}.labels")
                value=Arc::new(move || dr.read(|d| map_text(d.subsets.items().get(k).and_then(|s| s.labels.as_ref()))))
                on_set=Arc::new(move |s: String| dr.write(&format!("spec.subsets[{k}].labels"), |d| {
                    if let Some(x) = d.subsets.as_mut().and_then(|v| v.get_mut(k)) {
                        x.labels = opt_map(&s);
                    }
                }))
            />
            <Show when=move || has_policy.get()>
                <p class="muted">"Has its own traffic policy (YAML)."</p>
            </Show>
            <button class="icon danger" data-testid=format!("del-subset-{k}") aria-label=format!("Remove subset {}", k + 1)
                on:click=move |_| dr.write("!del-subset", |d| {
                    if let Some(v) = d.subsets.as_mut() {
                        if k < v.len() {
                            v.remove(k);
                        }
                    }
                })>"✕"</button>
            <FieldDiags path=base.clone()/>
        </div>
    }
}
