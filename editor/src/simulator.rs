//! The request simulator: compiles the workspace with the model's matching
//! engine (`meshroute_model::engine`) and explains what happens to a request:
//! the rule that matches, each destination's share of traffic, faults,
//! rewrites, redirects, retries, mirrors, and for every earlier rule the
//! conditions that failed.

use std::sync::Arc;

use crate::forms::widgets::{keyed, Show};
use leptos::prelude::*;
use meshroute_model::duration::to_envoy;
use meshroute_model::engine::decision::ActionReport;
use meshroute_model::engine::{AbortError, Engine, EngineOptions, Explanation, HostMatch, Request};
use meshroute_model::{Diagnostic, Kind};

use crate::problems::level_class;
use crate::{ctx, Ctx};

/// The simulator's inputs, kept in the app context so they survive tab switches.
#[derive(Clone, Copy)]
pub struct SimInputs {
    pub method: RwSignal<String>,
    pub host: RwSignal<String>,
    pub path: RwSignal<String>,
    pub query: RwSignal<String>,
    /// `name: value` per line.
    pub headers: RwSignal<String>,
    /// `mesh` (sidecars) or a gateway `ns/name`.
    pub gateway: RwSignal<String>,
    pub port: RwSignal<String>,
    pub source_namespace: RwSignal<String>,
}

impl SimInputs {
    pub fn new() -> SimInputs {
        SimInputs {
            method: RwSignal::new("GET".into()),
            host: RwSignal::new(String::new()),
            path: RwSignal::new("/".into()),
            query: RwSignal::new(String::new()),
            headers: RwSignal::new(String::new()),
            gateway: RwSignal::new("mesh".into()),
            port: RwSignal::new(String::new()),
            source_namespace: RwSignal::new(String::new()),
        }
    }
}

impl Default for SimInputs {
    fn default() -> Self {
        Self::new()
    }
}

/// `name: value` lines → pairs (names lowercased, as HTTP/2 sends them).
pub fn parse_headers(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            let k = k.trim();
            (!k.is_empty()).then(|| (k.to_ascii_lowercase(), v.trim().to_owned()))
        })
        .collect()
}

/// A compiled engine; compared by identity so the memo always propagates.
#[derive(Clone)]
struct Compiled(Arc<Result<Engine, Vec<Diagnostic>>>);

impl PartialEq for Compiled {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

fn compile(ctx: Ctx, gateway: &str) -> Compiled {
    let opts = EngineOptions {
        default_namespace: "default".into(),
        gateway: (!gateway.is_empty() && gateway != "mesh").then(|| gateway.to_owned()),
    };
    Compiled(Arc::new(
        ctx.ws.with(|w| Engine::compile(w.resources(), &opts)),
    ))
}

fn explain(engine: &Engine, s: &SimInputs) -> Explanation {
    let headers = parse_headers(&s.headers.get());
    let method = s.method.get();
    let host = s.host.get();
    let query = s.query.get();
    let mut path = s.path.get();
    if path.is_empty() {
        path.push('/');
    }
    if !query.trim().is_empty() {
        path.push('?');
        path.push_str(query.trim().trim_start_matches('?'));
    }
    let ns = s.source_namespace.get();
    let ns = ns.trim();
    let mut req = Request::new(&method, &host, &path)
        .with_headers(&headers)
        .with_source(&[], (!ns.is_empty()).then_some(ns));
    if let Ok(p) = s.port.get().trim().parse::<u32>() {
        req = req.with_port(p);
    }
    engine.explain(&req)
}

fn pct(p: f64) -> String {
    let v = (p * 1000.0).round() / 10.0;
    format!("{v}%")
}

#[component]
pub fn Simulator() -> impl IntoView {
    let ctx = ctx();
    let s = ctx.sim;
    // Start with the first VirtualService host of the workspace.
    if s.host.with_untracked(String::is_empty) {
        let first = ctx.ws.with_untracked(|w| {
            w.resources().find_map(|r| {
                r.virtual_service()
                    .and_then(|v| v.hosts.as_ref()?.first().cloned())
            })
        });
        if let Some(h) = first {
            s.host.set(h);
        }
    }
    let gateways = Memo::new(move |_| {
        ctx.ws.with(|w| {
            let mut v = vec!["mesh".to_owned()];
            for r in w.resources().filter(|r| r.kind == Kind::Gateway) {
                v.push(format!("{}/{}", r.namespace_or("default"), r.name()));
            }
            v
        })
    });
    let compiled = Memo::new(move |_| compile(ctx, &s.gateway.get()));
    let result = Memo::new(move |_| {
        compiled.with(|c| match &*c.0 {
            Ok(engine) => Ok((explain(engine, &s), engine.warnings().to_vec())),
            Err(diags) => Err(diags.clone()),
        })
    });
    let text_input = move |label: &'static str,
                           id: &'static str,
                           sig: RwSignal<String>,
                           placeholder: &'static str| {
        view! {
            <div class="field">
                <label for=id>{label}</label>
                <input id=id data-testid=id type="text" spellcheck="false" placeholder=placeholder
                    prop:value=move || sig.get() on:input=move |ev| sig.set(event_target_value(&ev))/>
            </div>
        }
    };
    view! {
        <div class="simulator" data-testid="simulator">
            <form class="sim-request" on:submit=|ev| ev.prevent_default() aria-label="Request">
                <div class="row">
                    <div class="field">
                        <label for="sim-method">"Method"</label>
                        <select id="sim-method" data-testid="sim-method" prop:value=move || s.method.get()
                            on:change=move |ev| s.method.set(event_target_value(&ev))>
                            {["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"].map(|m| view! {
                                <option value=m selected=move || s.method.get() == m>{m}</option>
                            }).collect_view()}
                        </select>
                    </div>
                    {text_input("Host (authority)", "sim-host", s.host, "reviews")}
                    {text_input("Path", "sim-path", s.path, "/")}
                    {text_input("Query", "sim-query", s.query, "a=1&b=2")}
                </div>
                <div class="row">
                    <div class="field grow">
                        <label for="sim-headers">"Headers (name: value per line)"</label>
                        <textarea id="sim-headers" data-testid="sim-headers" rows="3" spellcheck="false"
                            placeholder="end-user: jason"
                            prop:value=move || s.headers.get()
                            on:input=move |ev| s.headers.set(event_target_value(&ev))></textarea>
                    </div>
                    <div class="field">
                        <label for="sim-gateway">"Proxy"</label>
                        <select id="sim-gateway" data-testid="sim-gateway" prop:value=move || s.gateway.get()
                            on:change=move |ev| s.gateway.set(event_target_value(&ev))>
                            {keyed(gateways, |n, g| format!("{n} {g}"), move |g| {
                                let label = if g == "mesh" { "mesh (sidecars)".to_owned() } else { format!("gateway {g}") };
                                let g2 = g.clone();
                                view! { <option value=g selected=move || s.gateway.get() == g2>{label}</option> }.into_any()
                            })}
                        </select>
                    </div>
                    {text_input("Port", "sim-port", s.port, "80")}
                    {text_input("Source namespace", "sim-source-ns", s.source_namespace, "default")}
                </div>
            </form>
            {move || match result.get() {
                Err(diags) => view! {
                    <div class="banner error" data-testid="sim-compile-errors">
                        <p>"The engine rejects this configuration:"</p>
                        <ul>
                            {diags.into_iter().map(|d| view! { <li class=level_class(d.level)>{d.to_string()}</li> }).collect_view()}
                        </ul>
                    </div>
                }.into_any(),
                Ok((ex, warnings)) => view! { <Outcome ex=ex warnings=warnings/> }.into_any(),
            }}
        </div>
    }
}

/// Selects the VirtualService named `"VirtualService ns/name"` and focuses its rule at `path`.
fn show_rule(ctx: Ctx, vs: &str, path: &str) {
    let Some((ns, name)) = vs
        .strip_prefix("VirtualService ")
        .and_then(|r| r.split_once('/'))
    else {
        return;
    };
    let id = ctx.ws.with_untracked(|w| {
        w.docs
            .iter()
            .find(|d| {
                d.resource().is_some_and(|r| {
                    r.kind == Kind::VirtualService
                        && r.name() == name
                        && r.namespace_or("default") == ns
                })
            })
            .map(|d| d.id)
    });
    if let Some(id) = id {
        ctx.selected.set(Some(id));
        ctx.tab.set(crate::Tab::Form);
        let testid = format!("f-{path}");
        request_animation_frame(move || {
            crate::browser::focus_testid(&testid);
        });
    }
}

#[component]
fn Outcome(ex: Explanation, warnings: Vec<Diagnostic>) -> impl IntoView {
    let ctx = ctx();
    let d = ex.decision.clone();
    let host_line = match (&ex.host.host, ex.host.kind) {
        (Some(h), Some(k)) => {
            let kind = match k {
                HostMatch::Exact => "exact host",
                HostMatch::Wildcard => "wildcard host",
                HostMatch::CatchAll => "catch-all host",
            };
            if ex.host.default_route {
                format!("{h} ({kind}): a declared service without VirtualService, default route")
            } else {
                format!("{h} ({kind}) → {}", ex.host.virtual_services.join(", "))
            }
        }
        _ => format!(
            "no VirtualService or service for {:?} on {}",
            ex.host.authority, d.gateway
        ),
    };
    let headline = match (&d.virtual_service, d.rule_index) {
        (Some(vs), Some(i)) => {
            let name = d
                .rule_name
                .as_deref()
                .map(|n| format!(" “{n}”"))
                .unwrap_or_default();
            let m = d
                .match_index
                .map(|m| format!(", match block {}", m + 1))
                .unwrap_or_default();
            format!("Rule {}{name} of {vs}{m}", i + 1)
        }
        _ if d.default_route => "Default route (no VirtualService)".to_owned(),
        _ => "No route".to_owned(),
    };
    let matched = d.rule_index;
    let action = match d.action.clone() {
        ActionReport::Route { destinations } => view! {
            <table class="dests" data-testid="sim-destinations">
                <thead><tr><th>"Destination"</th><th>"Port"</th><th>"Weight"</th><th>"Share"</th><th>"Envoy cluster"</th></tr></thead>
                <tbody>
                    {destinations.into_iter().enumerate().map(|(k, x)| {
                        let name = match &x.subset {
                            Some(s) => format!("{} / {s}", x.host),
                            None => x.host.clone(),
                        };
                        let undefined = x.subset_defined == Some(false);
                        let width = format!("width: {:.1}%", x.probability * 100.0);
                        view! {
                            <tr data-testid=format!("sim-dest-{k}") data-probability=format!("{:.4}", x.probability)>
                                <td>{name}{undefined.then(|| view! { <span class="badge error">" subset not defined: 503"</span> })}</td>
                                <td>{x.port}</td>
                                <td>{x.weight}</td>
                                <td class="share"><span class="bar" style=width></span>{pct(x.probability)}</td>
                                <td class="mono">{x.cluster}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        }.into_any(),
        ActionReport::Redirect(r) => view! {
            <p data-testid="sim-redirect">{format!("Redirect {} to {}", r.status, r.location)}</p>
        }.into_any(),
        ActionReport::DirectResponse { status, body } => view! {
            <p data-testid="sim-direct">{format!("Direct response {status}")}{body.map(|b| format!(": {b}"))}</p>
        }.into_any(),
        ActionReport::NoRoute { status, flag, detail, reason } => view! {
            <p class="error" data-testid="sim-no-route">{format!("{status} {flag}: {} ({detail})", reason.describe())}</p>
        }.into_any(),
    };
    let mut effects: Vec<String> = Vec::new();
    if let Some(f) = &d.fault {
        if let Some(dl) = &f.delay {
            effects.push(format!(
                "Fault: delay {} for {} of requests",
                to_envoy(dl.fixed_delay),
                pct(dl.percentage.percent() / 100.0)
            ));
        }
        if let Some(a) = &f.abort {
            let what = match &a.error {
                AbortError::Http(s) => format!("HTTP {s}"),
                AbortError::Grpc { name, code } => format!("gRPC {name} ({code})"),
            };
            effects.push(format!(
                "Fault: abort with {what} for {} of requests",
                pct(a.percentage.percent() / 100.0)
            ));
        }
    }
    if let Some(rw) = &d.rewrite {
        if let Some(p) = &rw.path {
            effects.push(format!("Rewrite: path → {p}"));
        }
        if let Some(a) = &rw.authority {
            effects.push(format!("Rewrite: authority → {a}"));
        }
    }
    if let Some(t) = &d.timeout {
        effects.push(format!("Timeout: {t}"));
    }
    if let Some(r) = &d.retries {
        let per_try = r
            .per_try_timeout
            .map(|t| format!(", {} per try", to_envoy(t)))
            .unwrap_or_default();
        let default = if r.istio_default {
            " (Istio's default)"
        } else {
            ""
        };
        effects.push(format!(
            "Retries: {} attempts on {}{per_try}{default}",
            r.attempts, r.retry_on
        ));
    }
    for m in &d.mirrors {
        let sub = m
            .subset
            .as_deref()
            .map(|s| format!(" / {s}"))
            .unwrap_or_default();
        effects.push(format!(
            "Mirror: {}{sub} for {} of requests",
            m.host,
            pct(m.percentage.percent() / 100.0)
        ));
    }
    if let Some(h) = &d.headers {
        for (k, v) in &h.request.set {
            effects.push(format!("Request header set: {k}: {v}"));
        }
        for (k, v) in &h.request.add {
            effects.push(format!("Request header added: {k}: {v}"));
        }
        for k in &h.request.remove {
            effects.push(format!("Request header removed: {k}"));
        }
        for (k, v) in &h.response.set {
            effects.push(format!("Response header set: {k}: {v}"));
        }
        for (k, v) in &h.response.add {
            effects.push(format!("Response header added: {k}: {v}"));
        }
        for k in &h.response.remove {
            effects.push(format!("Response header removed: {k}"));
        }
    }
    let text = ex.to_text();
    let rules = ex.rules.clone();
    let n_rules = rules.len();
    view! {
        <div class="sim-outcome">
            <p class="sim-host" data-testid="sim-host-selection"><strong>"Host: "</strong>{host_line}</p>
            <h3 class:ok=matched.is_some() data-testid="sim-result" data-rule-index=matched.map(|i| i.to_string())>{headline}</h3>
            {action}
            <Show when={let n = effects.len(); move || n > 0}>
                <ul class="effects" data-testid="sim-effects">
                    {effects.iter().map(|e| view! { <li>{e.clone()}</li> }).collect_view()}
                </ul>
            </Show>
            <h4>"Rules evaluated"</h4>
            <ol class="traces" data-testid="sim-rules">
                {rules.into_iter().map(|t| {
                    let name = t.name.clone().map(|n| format!(" “{n}”")).unwrap_or_default();
                    let verdict = if let Some(why) = &t.ignored {
                        format!("ignored: {why}")
                    } else if t.matched {
                        match t.matched_match {
                            Some(m) => format!("matched (block {})", m + 1),
                            None => "matched (no conditions)".to_owned(),
                        }
                    } else {
                        "did not match".to_owned()
                    };
                    let via = t.delegate.as_ref().map(|(vs, i)| format!(" via delegate {vs} rule {}", i + 1)).unwrap_or_default();
                    view! {
                        <li class="trace" class:matched=t.matched data-testid=format!("sim-rule-{}", t.index)
                            data-matched=t.matched.to_string()>
                            <div>
                                <button class="link" title="Show this rule in the form"
                                    data-testid=format!("sim-show-rule-{}", t.index)
                                    on:click={
                                        let (vs, path) = (t.virtual_service.clone(), t.path.clone());
                                        move |_| show_rule(ctx, &vs, &path)
                                    }>
                                    <strong>{format!("Rule {}{name}", t.index + 1)}</strong>
                                </button>
                                {via}": " {verdict}
                            </div>
                            <ul>
                                {t.failed.into_iter().map(|m| view! {
                                    <li>
                                        <span class="muted">{format!("block {} ({})", m.index + 1, m.summary)}</span>
                                        <ul>
                                            {m.mismatches.into_iter().map(|mm| view! {
                                                <li class="mismatch"><span class="mono">{mm.field}</span>": "{mm.message}</li>
                                            }).collect_view()}
                                        </ul>
                                    </li>
                                }).collect_view()}
                            </ul>
                        </li>
                    }
                }).collect_view()}
            </ol>
            <Show when=move || n_rules == 0>
                <p class="muted">"No rules were evaluated."</p>
            </Show>
            <Show when={let n = warnings.len(); move || n > 0}>
                <details class="warnings">
                    <summary>{format!("{} engine warnings", warnings.len())}</summary>
                    <ul>{warnings.iter().map(|w| view! { <li class=level_class(w.level)>{w.to_string()}</li> }).collect_view()}</ul>
                </details>
            </Show>
            <details>
                <summary>"As text (like meshroute simulate)"</summary>
                <pre data-testid="sim-text">{text}</pre>
            </details>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::parse_headers;

    #[test]
    fn headers() {
        assert_eq!(
            parse_headers("End-User: jason\nbad line\n x: a:b \n"),
            vec![
                ("end-user".to_owned(), "jason".to_owned()),
                ("x".to_owned(), "a:b".to_owned())
            ]
        );
    }
}
