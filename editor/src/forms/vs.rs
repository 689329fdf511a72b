//! The VirtualService form: hosts and gateways, HTTP rules (add, remove,
//! reorder), a match builder (blocks are OR, conditions inside a block AND),
//! weighted destinations with subset pickers fed by the workspace's
//! DestinationRules, and panels for timeout, retries, fault, mirror, rewrite,
//! redirect, direct response and headers.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::str::FromStr;
use std::sync::Arc;

use crate::forms::widgets::Show;
use leptos::prelude::*;
use meshroute_model::load::Spec;
use meshroute_model::model::{
    Destination, HTTPMatchRequest, HTTPRoute, HTTPRouteDestination, OptSliceExt, Percent,
    PortSelector, StringMatch, VirtualService,
};
use meshroute_model::yaml::join_key;
use meshroute_model::Kind;

use super::weights::{even, normalize, rebalance};
use super::widgets::{
    keyed, list_text, make_match, map_text, opt_list, opt_map, opt_num, opt_str, prune, rows,
    AreaField, CheckField, FieldDiags, Getter, MatchField, NumberField, TextField,
};
use super::{edit_spec, spec_memo};
use crate::state::DocId;
use crate::{ctx, Ctx};

/// The VirtualService being edited: read it reactively, write it through the model.
#[derive(Clone, Copy)]
pub struct Vs {
    ctx: Ctx,
    id: DocId,
    vs: Memo<Option<Spec>>,
    /// Keep each route's weights summing to 100 while editing one of them.
    keep100: RwSignal<bool>,
}

impl Vs {
    fn read<T: Default>(self, f: impl FnOnce(&VirtualService) -> T) -> T {
        self.vs.with(|s| match s {
            Some(Spec::VirtualService(v)) => f(v),
            _ => T::default(),
        })
    }

    fn rule<T: Default>(self, i: usize, f: impl FnOnce(&HTTPRoute) -> T) -> T {
        self.read(|v| v.http.items().get(i).map(f).unwrap_or_default())
    }

    fn block<T: Default>(self, i: usize, j: usize, f: impl FnOnce(&HTTPMatchRequest) -> T) -> T {
        self.rule(i, |r| r.r#match.items().get(j).map(f).unwrap_or_default())
    }

    fn write(self, key: &str, f: impl FnOnce(&mut VirtualService)) {
        edit_spec(
            self.ctx,
            self.id,
            key,
            |s| match s {
                Spec::VirtualService(v) => Some(v),
                _ => None,
            },
            f,
        );
    }

    fn write_rule(self, i: usize, key: &str, f: impl FnOnce(&mut HTTPRoute)) {
        self.write(key, |v| {
            if let Some(r) = v.http.as_mut().and_then(|h| h.get_mut(i)) {
                f(r);
            }
        });
    }

    fn write_block(self, i: usize, j: usize, key: &str, f: impl FnOnce(&mut HTTPMatchRequest)) {
        self.write_rule(i, key, |r| {
            if let Some(m) = r.r#match.as_mut().and_then(|m| m.get_mut(j)) {
                f(m);
            }
        });
    }

    /// A text field bound to a rule field through plain functions.
    fn rule_text(
        self,
        i: usize,
        label: &'static str,
        field: &'static str,
        get: fn(&HTTPRoute) -> Option<String>,
        set: fn(&mut HTTPRoute, Option<String>),
    ) -> impl IntoView {
        let path = format!("spec.http[{i}].{field}");
        let key = path.clone();
        view! {
            <TextField
                label=label
                path=path
                value=Arc::new(move || self.rule(i, |r| get(r).unwrap_or_default()))
                on_set=Arc::new(move |s: String| self.write_rule(i, &key, |r| set(r, opt_str(&s))))
            />
        }
    }

    /// A number field bound to a rule field (invalid input is ignored).
    fn rule_num<T>(
        self,
        i: usize,
        label: &'static str,
        field: &'static str,
        get: fn(&HTTPRoute) -> Option<T>,
        set: fn(&mut HTTPRoute, Option<T>),
    ) -> impl IntoView
    where
        T: FromStr + Display + Send + Sync + 'static,
    {
        let path = format!("spec.http[{i}].{field}");
        let key = path.clone();
        view! {
            <NumberField
                label=label
                path=path
                value=Arc::new(move || self.rule(i, |r| get(r).map(|v| v.to_string()).unwrap_or_default()))
                on_set=Arc::new(move |s: String| {
                    if let Ok(v) = opt_num::<T>(&s) {
                        self.write_rule(i, &key, |r| set(r, v));
                    }
                })
            />
        }
    }

    /// A `key: value` lines field bound to a rule's map field.
    fn rule_map(
        self,
        i: usize,
        label: &'static str,
        field: &'static str,
        get: fn(&HTTPRoute) -> Option<&BTreeMap<String, String>>,
        set: fn(&mut HTTPRoute, Option<BTreeMap<String, String>>),
    ) -> impl IntoView {
        let path = format!("spec.http[{i}].{field}");
        let key = path.clone();
        view! {
            <AreaField
                label=label
                path=path
                placeholder="name: value (one per line)"
                value=Arc::new(move || self.rule(i, |r| map_text(get(r))))
                on_set=Arc::new(move |s: String| self.write_rule(i, &key, |r| set(r, opt_map(&s))))
            />
        }
    }
}

/// Hosts known in the workspace (services, service entries, rules), for suggestions.
fn known_hosts(ctx: Ctx) -> Memo<Vec<String>> {
    Memo::new(move |_| {
        ctx.ws.with(|w| {
            let mut out: Vec<String> = Vec::new();
            let mut push = |h: &str| {
                if !h.is_empty() && !out.iter().any(|x| x == h) {
                    out.push(h.to_owned());
                }
            };
            for r in w.resources() {
                match r.kind {
                    Kind::Service => push(r.name()),
                    Kind::ServiceEntry => {
                        for h in r.service_entry().map(|s| s.hosts.items()).unwrap_or(&[]) {
                            push(h);
                        }
                    }
                    Kind::DestinationRule => push(
                        r.destination_rule()
                            .and_then(|d| d.host.as_deref())
                            .unwrap_or(""),
                    ),
                    _ => {}
                }
            }
            out
        })
    })
}

/// `mesh` and the workspace's Gateways, for suggestions.
fn known_gateways(ctx: Ctx) -> Memo<Vec<String>> {
    Memo::new(move |_| {
        ctx.ws.with(|w| {
            let mut out = vec!["mesh".to_owned()];
            for r in w.resources().filter(|r| r.kind == Kind::Gateway) {
                out.push(r.name().to_owned());
                if let Some(ns) = r.namespace() {
                    out.push(format!("{ns}/{}", r.name()));
                }
            }
            out
        })
    })
}

/// A `<datalist>` of suggestions.
fn datalist(id: String, items: Memo<Vec<String>>) -> AnyView {
    view! {
        <datalist id=id>
            {keyed(items, |n, h| format!("{n} {h}"), |h| view! { <option value=h></option> }.into_any())}
        </datalist>
    }
    .into_any()
}

#[component]
pub fn VsForm(id: DocId) -> impl IntoView {
    let ctx = ctx();
    let vs = Vs {
        ctx,
        id,
        vs: spec_memo(ctx, id),
        keep100: RwSignal::new(true),
    };
    let n_rules = Memo::new(move |_| vs.read(|v| v.http.items().len()));
    let others = Memo::new(move |_| vs.read(|v| (v.tcp.items().len(), v.tls.items().len())));
    let add_rule = move |_| {
        vs.write("!add-rule", |v| {
            let host = v.hosts.items().first().cloned().unwrap_or_default();
            let http = v.http.get_or_insert_with(Vec::new);
            let catch_all_last = http.last().is_some_and(|r| r.r#match.items().is_empty());
            let mut rule = HTTPRoute {
                route: Some(vec![HTTPRouteDestination {
                    destination: Some(Destination {
                        host: Some(host),
                        ..Default::default()
                    }),
                    ..Default::default()
                }]),
                ..Default::default()
            };
            if catch_all_last {
                // Before the catch-all, with a condition, so that both stay reachable.
                rule.r#match = Some(vec![HTTPMatchRequest {
                    uri: Some(make_match(None, "prefix", "/new")),
                    ..Default::default()
                }]);
                http.insert(http.len() - 1, rule);
            } else {
                http.push(rule);
            }
        });
    };
    view! {
        {datalist("known-hosts".to_owned(), known_hosts(ctx))}
        {datalist("known-gateways".to_owned(), known_gateways(ctx))}
        <div class="row">
            <TextField
                label="Hosts"
                path="spec.hosts"
                title="Comma-separated host names this VirtualService routes"
                list="known-hosts"
                value=Arc::new(move || vs.read(|v| list_text(v.hosts.as_ref())))
                on_set=Arc::new(move |s: String| vs.write("spec.hosts", |v| v.hosts = opt_list(&s)))
            />
            <TextField
                label="Gateways"
                path="spec.gateways"
                placeholder="mesh"
                title="Comma-separated: mesh (sidecars) and/or gateways; empty means mesh"
                list="known-gateways"
                value=Arc::new(move || vs.read(|v| list_text(v.gateways.as_ref())))
                on_set=Arc::new(move |s: String| vs.write("spec.gateways", |v| v.gateways = opt_list(&s)))
            />
        </div>
        <div class="field check">
            <input
                id="keep-100"
                data-testid="keep-100"
                type="checkbox"
                prop:checked=move || vs.keep100.get()
                on:change=move |ev| vs.keep100.set(event_target_checked(&ev))
            />
            <label for="keep-100">"Keep each rule's weights at 100% (editing one weight adjusts the others)"</label>
        </div>
        <h3>"HTTP rules " <span class="muted">"(first match wins)"</span></h3>
        <FieldDiags path="spec.http"/>
        <div class="rules">
            {rows(n_rules, move |i| view! { <RuleCard vs=vs i=i n_rules=n_rules/> }.into_any())}
        </div>
        <button class="add" data-testid="add-rule" on:click=add_rule>"+ HTTP rule"</button>
        <Show when=move || { others.with(|(t, l)| t + l > 0) }>
            <p class="muted">
                {move || others.with(|(t, l)| format!("{t} TCP and {l} TLS routes: edit them in the YAML pane."))}
            </p>
        </Show>
    }
}

#[component]
fn RuleCard(vs: Vs, i: usize, n_rules: Memo<usize>) -> impl IntoView {
    let base = format!("spec.http[{i}]");
    let n_blocks = Memo::new(move |_| vs.rule(i, |r| r.r#match.items().len()));
    let move_rule = move |to: usize| {
        vs.write("!move-rule", |v| {
            if let Some(h) = v.http.as_mut() {
                if i < h.len() && to < h.len() {
                    h.swap(i, to);
                }
            }
        });
    };
    let add_block = move |_| {
        vs.write_rule(i, "!add-match", |r| {
            r.r#match
                .get_or_insert_with(Vec::new)
                .push(HTTPMatchRequest {
                    uri: Some(make_match(None, "prefix", "/")),
                    ..Default::default()
                });
        });
    };
    // A `Memo<String>`, a type the forms have anyway.
    let title = Memo::new(move |_| match vs.rule(i, |r| r.name.clone()) {
        Some(n) => format!("Rule {} · {n}", i + 1),
        None => format!("Rule {}", i + 1),
    });
    let title = move || title.get();
    view! {
        <article class="card rule" data-testid=format!("f-{base}") tabindex="-1" aria-label=title>
            <header class="card-head">
                <h4>{title}</h4>
                <div class="card-actions">
                    <button class="icon" data-testid=format!("rule-up-{i}") aria-label="Move rule up"
                        disabled=move || i == 0 on:click=move |_| move_rule(i.wrapping_sub(1))>"↑"</button>
                    <button class="icon" data-testid=format!("rule-down-{i}") aria-label="Move rule down"
                        disabled=move || { i + 1 >= n_rules.get() } on:click=move |_| move_rule(i + 1)>"↓"</button>
                    <button class="icon" data-testid=format!("rule-dup-{i}") aria-label="Duplicate rule"
                        on:click=move |_| vs.write("!dup-rule", |v| {
                            if let Some(h) = v.http.as_mut() {
                                if let Some(r) = h.get(i).cloned() {
                                    h.insert(i + 1, r);
                                }
                            }
                        })>"⊕"</button>
                    <button class="icon danger" data-testid=format!("rule-del-{i}") aria-label="Delete rule"
                        on:click=move |_| vs.write("!del-rule", |v| {
                            if let Some(h) = v.http.as_mut() {
                                if i < h.len() {
                                    h.remove(i);
                                }
                            }
                        })>"✕"</button>
                </div>
            </header>
            <FieldDiags path=base.clone()/>
            {vs.rule_text(i, "Rule name", "name", |r| r.name.clone(), |r, v| r.name = v)}
            <section class="when" aria-label="When">
                <h5>"When " <span class="muted">"— any block (OR); inside a block, every condition (AND)"</span></h5>
                <Show when=move || n_blocks.get() == 0>
                    <p class="all" data-testid=format!("matches-all-{i}")>"Every request (no match blocks)"</p>
                </Show>
                {rows(n_blocks, move |j| view! {
                    {(j > 0).then(|| view! { <div class="or" aria-hidden="true">"OR"</div> })}
                    <MatchBlock vs=vs i=i j=j/>
                }.into_any())}
                <button class="add" data-testid=format!("add-match-{i}") on:click=add_block>"+ Match block (OR)"</button>
                <FieldDiags path=format!("{base}.match")/>
            </section>
            <section class="then" aria-label="Then">
                <h5>"Then route to"</h5>
                <Routes vs=vs i=i/>
            </section>
            <Panels vs=vs i=i/>
        </article>
    }
}

/// A condition of a match block.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Cond {
    Uri,
    IgnoreCase,
    Method,
    Authority,
    Scheme,
    Port,
    Map(MapKind, String),
    /// Set in YAML, not editable here (sourceLabels, gateways, …).
    Other(&'static str),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MapKind {
    Headers,
    Query,
    Without,
}

impl MapKind {
    fn field(self) -> &'static str {
        match self {
            MapKind::Headers => "headers",
            MapKind::Query => "queryParams",
            MapKind::Without => "withoutHeaders",
        }
    }
    fn label(self) -> &'static str {
        match self {
            MapKind::Headers => "Header",
            MapKind::Query => "Query parameter",
            MapKind::Without => "Without header",
        }
    }
    fn get(self, m: &HTTPMatchRequest) -> Option<&BTreeMap<String, StringMatch>> {
        match self {
            MapKind::Headers => m.headers.as_ref(),
            MapKind::Query => m.query_params.as_ref(),
            MapKind::Without => m.without_headers.as_ref(),
        }
    }
    fn get_mut(self, m: &mut HTTPMatchRequest) -> &mut Option<BTreeMap<String, StringMatch>> {
        match self {
            MapKind::Headers => &mut m.headers,
            MapKind::Query => &mut m.query_params,
            MapKind::Without => &mut m.without_headers,
        }
    }
}

fn conditions(m: &HTTPMatchRequest) -> Vec<Cond> {
    let mut out = Vec::new();
    if m.uri.is_some() {
        out.push(Cond::Uri);
    }
    if m.ignore_uri_case.is_some() {
        out.push(Cond::IgnoreCase);
    }
    if m.method.is_some() {
        out.push(Cond::Method);
    }
    if m.authority.is_some() {
        out.push(Cond::Authority);
    }
    if m.scheme.is_some() {
        out.push(Cond::Scheme);
    }
    for k in [MapKind::Headers, MapKind::Query, MapKind::Without] {
        for name in k
            .get(m)
            .map(|h| h.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
        {
            out.push(Cond::Map(k, name));
        }
    }
    if m.port.is_some() {
        out.push(Cond::Port);
    }
    for (set, name) in [
        (m.source_labels.is_some(), "sourceLabels"),
        (m.gateways.is_some(), "gateways"),
        (m.source_namespace.is_some(), "sourceNamespace"),
        (!m.extra.is_empty(), "other fields"),
    ] {
        if set {
            out.push(Cond::Other(name));
        }
    }
    out
}

/// A name not yet in `map`.
fn fresh_key(map: Option<&BTreeMap<String, StringMatch>>, base: &str) -> String {
    (1..)
        .map(|n| {
            if n == 1 {
                base.to_owned()
            } else {
                format!("{base}-{n}")
            }
        })
        .find(|k| !map.is_some_and(|m| m.contains_key(k)))
        .unwrap_or_else(|| base.to_owned())
}

#[component]
fn MatchBlock(vs: Vs, i: usize, j: usize) -> impl IntoView {
    let base = format!("spec.http[{i}].match[{j}]");
    let conds = Memo::new(move |_| {
        vs.block(i, j, |m| {
            conditions(m).into_iter().enumerate().collect::<Vec<_>>()
        })
    });
    let add_cond = move |what: String| {
        vs.write_block(i, j, "!add-condition", |m| match what.as_str() {
            "uri" => m.uri = Some(make_match(None, "prefix", "/")),
            "method" => m.method = Some(make_match(None, "exact", "GET")),
            "authority" => m.authority = Some(make_match(None, "exact", "example.com")),
            "scheme" => m.scheme = Some(make_match(None, "exact", "https")),
            "port" => m.port = Some(80),
            "ignoreUriCase" => m.ignore_uri_case = Some(true),
            "header" | "query" | "without" => {
                let (kind, name) = match what.as_str() {
                    "header" => (MapKind::Headers, "x-header"),
                    "query" => (MapKind::Query, "param"),
                    _ => (MapKind::Without, "x-skip"),
                };
                let key = fresh_key(kind.get(m), name);
                let value = if kind == MapKind::Without {
                    StringMatch::default()
                } else {
                    make_match(None, "exact", "value")
                };
                kind.get_mut(m)
                    .get_or_insert_with(BTreeMap::new)
                    .insert(key, value);
            }
            _ => {}
        });
    };
    let remove_block = move |_| {
        vs.write_rule(i, "!del-match", |r| {
            if let Some(ms) = r.r#match.as_mut() {
                if j < ms.len() {
                    ms.remove(j);
                }
                if ms.is_empty() {
                    r.r#match = None;
                }
            }
        });
    };
    view! {
        <div class="match-block" data-testid=format!("f-{base}") tabindex="-1" role="group"
            aria-label=format!("Match block {} of rule {}", j + 1, i + 1)>
            <div class="block-head">
                <strong>{format!("Block {}", j + 1)}</strong>
                <span class="muted">" all of:"</span>
                <button class="icon danger" data-testid=format!("del-match-{i}-{j}") aria-label="Remove this match block"
                    on:click=remove_block>"✕"</button>
            </div>
            <FieldDiags path=base.clone()/>
            {keyed(conds, |_, (n, c)| format!("{n} {c:?}"), move |(n, c)| view! {
                {(n > 0).then(|| view! { <div class="and" aria-hidden="true">"AND"</div> })}
                <Condition vs=vs i=i j=j c=c/>
            }.into_any())}
            <Show when=move || conds.with(Vec::is_empty)>
                <p class="all">"No conditions: matches every request"</p>
            </Show>
            <label class="add-cond">
                <span class="sr-only">"Add a condition"</span>
                <select
                    data-testid=format!("add-cond-{i}-{j}")
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        if !v.is_empty() {
                            add_cond(v);
                        }
                        if let Some(t) = ev.target() {
                            use wasm_bindgen::JsCast;
                            if let Ok(sel) = t.dyn_into::<web_sys::HtmlSelectElement>() {
                                sel.set_value("");
                            }
                        }
                    }
                >
                    <option value="" selected>"+ condition (AND)…"</option>
                    <option value="uri">"URI"</option>
                    <option value="method">"Method"</option>
                    <option value="authority">"Authority (host)"</option>
                    <option value="scheme">"Scheme"</option>
                    <option value="header">"Header"</option>
                    <option value="query">"Query parameter"</option>
                    <option value="without">"Without header"</option>
                    <option value="port">"Port"</option>
                    <option value="ignoreUriCase">"Ignore URI case"</option>
                </select>
            </label>
        </div>
    }
}

#[component]
fn Condition(vs: Vs, i: usize, j: usize, c: Cond) -> impl IntoView {
    let base = format!("spec.http[{i}].match[{j}]");
    type Get = fn(&HTTPMatchRequest) -> Option<StringMatch>;
    type Set = fn(&mut HTTPMatchRequest, Option<StringMatch>);
    let base2 = base.clone();
    let string_match = move |label: &'static str, field: &'static str, get: Get, set: Set| {
        let path = format!("{base2}.{field}");
        let key = path.clone();
        view! {
            <div class="cond">
                <MatchField
                    label=label
                    path=path
                    value=Arc::new(move || vs.block(i, j, get))
                    on_set=Arc::new(move |m| vs.write_block(i, j, &key, |b| set(b, m)))
                />
                <button class="icon danger" aria-label=format!("Remove the {label} condition")
                    on:click=move |_| vs.write_block(i, j, "!del-condition", |b| set(b, None))>"✕"</button>
            </div>
        }
        .into_any()
    };
    match c {
        Cond::Uri => string_match("URI", "uri", |m| m.uri.clone(), |m, v| m.uri = v),
        Cond::Method => string_match("Method", "method", |m| m.method.clone(), |m, v| m.method = v),
        Cond::Authority => string_match("Authority", "authority", |m| m.authority.clone(), |m, v| m.authority = v),
        Cond::Scheme => string_match("Scheme", "scheme", |m| m.scheme.clone(), |m, v| m.scheme = v),
        Cond::IgnoreCase => view! {
            <div class="cond">
                <CheckField
                    label="Ignore URI case"
                    path=format!("{base}.ignoreUriCase")
                    value=Arc::new(move || vs.block(i, j, |m| m.ignore_uri_case.unwrap_or(false)))
                    on_set=Arc::new(move |b: bool| vs.write_block(i, j, "ignoreUriCase", |m| m.ignore_uri_case = Some(b)))
                />
                <button class="icon danger" aria-label="Remove the ignore-case option"
                    on:click=move |_| vs.write_block(i, j, "!del-condition", |m| m.ignore_uri_case = None)>"✕"</button>
            </div>
        }
        .into_any(),
        Cond::Port => {
            let path = format!("{base}.port");
            view! {
                <div class="cond">
                    <NumberField
                        label="Port"
                        path=path
                        min="1"
                        max="65535"
                        value=Arc::new(move || vs.block(i, j, |m| m.port.map(|p| p.to_string()).unwrap_or_default()))
                        on_set=Arc::new(move |s: String| {
                            if let Ok(p) = opt_num::<u32>(&s) {
                                vs.write_block(i, j, "match-port", |m| m.port = p);
                            }
                        })
                    />
                    <button class="icon danger" aria-label="Remove the port condition"
                        on:click=move |_| vs.write_block(i, j, "!del-condition", |m| m.port = None)>"✕"</button>
                </div>
            }
            .into_any()
        }
        Cond::Map(kind, name) => {
            let map_path = format!("{base}.{}", kind.field());
            let path = join_key(&map_path, &name);
            let key = path.clone();
            let name_get = name.clone();
            let name_set = name.clone();
            let name_del = name.clone();
            let name_show = name.clone();
            let rename = move |new: String| {
                let new = new.trim().to_owned();
                if new.is_empty() || new == name_set {
                    return;
                }
                let old = name_set.clone();
                vs.write_block(i, j, "!rename-key", move |m| {
                    if let Some(map) = kind.get_mut(m).as_mut() {
                        if let Some(v) = map.remove(&old) {
                            map.insert(new, v);
                        }
                    }
                });
            };
            view! {
                <div class="cond">
                    <TextField
                        label=format!("{} name", kind.label())
                        path=format!("{path}.name")
                        on_change_only=true
                        value=Arc::new(move || name_show.clone())
                        on_set=Arc::new(rename)
                    />
                    <MatchField
                        label=if kind == MapKind::Without { "absent when it" } else { "value" }
                        path=path
                        presence=true
                        value=Arc::new(move || vs.block(i, j, |m| kind.get(m).and_then(|h| h.get(&name_get)).cloned()))
                        on_set=Arc::new(move |v: Option<StringMatch>| {
                            let n = name.clone();
                            vs.write_block(i, j, &key, move |m| {
                                if let (Some(v), Some(map)) = (v, kind.get_mut(m).as_mut()) {
                                    map.insert(n, v);
                                }
                            })
                        })
                    />
                    <button class="icon danger" aria-label=format!("Remove the {} condition", kind.label())
                        on:click=move |_| {
                            let n = name_del.clone();
                            vs.write_block(i, j, "!del-condition", move |m| {
                                let slot = kind.get_mut(m);
                                if let Some(map) = slot.as_mut() {
                                    map.remove(&n);
                                    if map.is_empty() {
                                        *slot = None;
                                    }
                                }
                            })
                        }>"✕"</button>
                </div>
            }
            .into_any()
        }
        Cond::Other(what) => view! {
            <div class="cond muted">{format!("{what}: edit in the YAML pane")}</div>
        }
        .into_any(),
    }
}

fn set_weight(vs: Vs, i: usize, k: usize, w: Option<i32>) {
    let keep = vs.keep100.get_untracked();
    vs.write_rule(i, &format!("spec.http[{i}].route[{k}].weight"), |r| {
        let Some(routes) = r.route.as_mut() else {
            return;
        };
        match w {
            Some(w) if keep && routes.len() > 1 => {
                let cur: Vec<i32> = routes.iter().map(|d| d.weight.unwrap_or(0)).collect();
                for (d, w) in routes.iter_mut().zip(rebalance(&cur, k, w)) {
                    d.weight = Some(w);
                }
            }
            _ => {
                if let Some(d) = routes.get_mut(k) {
                    d.weight = w;
                }
            }
        }
    });
}

fn set_weights(routes: &mut [HTTPRouteDestination], weights: Vec<i32>) {
    for (d, w) in routes.iter_mut().zip(weights) {
        d.weight = Some(w);
    }
}

#[component]
fn Routes(vs: Vs, i: usize) -> impl IntoView {
    let base = format!("spec.http[{i}].route");
    let n = Memo::new(move |_| vs.rule(i, |r| r.route.items().len()));
    let total = Memo::new(move |_| {
        vs.rule(i, |r| {
            r.route
                .items()
                .iter()
                .map(|d| i64::from(d.weight.unwrap_or(0)))
                .sum::<i64>()
                .to_string()
        })
    });
    let add = move |_| {
        let keep = vs.keep100.get_untracked();
        vs.write_rule(i, "!add-destination", |r| {
            let host = r
                .route
                .items()
                .first()
                .and_then(|d| d.destination.as_ref())
                .and_then(|d| d.host.clone());
            let routes = r.route.get_or_insert_with(Vec::new);
            routes.push(HTTPRouteDestination {
                destination: Some(Destination {
                    host,
                    ..Default::default()
                }),
                ..Default::default()
            });
            if keep && routes.len() > 1 {
                let w = even(routes.len());
                set_weights(routes, w);
            }
        });
    };
    let balance = move |_| {
        vs.write_rule(i, "!balance", |r| {
            if let Some(routes) = r.route.as_mut() {
                let w = even(routes.len());
                set_weights(routes, w);
            }
        });
    };
    view! {
        <div class="routes" data-testid=format!("f-{base}") tabindex="-1">
            {rows(n, move |k| view! { <DestRow vs=vs i=i k=k n=n/> }.into_any())}
            <Show when=move || n.get() == 0>
                <p class="muted">"No destinations (a redirect or direct response answers instead)."</p>
            </Show>
            <div class="weights-foot">
                <span
                    data-testid=format!("weight-total-{i}")
                    class="total"
                    class:bad=move || { n.get() > 1 && total.with(|t| t != "100") }
                >
                    {move || format!("Total weight: {}%", total.get())}
                </span>
                <button class="add" data-testid=format!("add-dest-{i}") on:click=add>"+ Destination"</button>
                <button data-testid=format!("balance-{i}") disabled=move || n.get() < 2 on:click=balance>"Split evenly"</button>
            </div>
            <FieldDiags path=base.clone()/>
        </div>
    }
}

#[component]
fn DestRow(vs: Vs, i: usize, k: usize, n: Memo<usize>) -> impl IntoView {
    let ctx = vs.ctx;
    let base = format!("spec.http[{i}].route[{k}]");
    let dest = move |f: fn(&Destination) -> Option<String>| {
        vs.rule(i, |r| {
            r.route
                .items()
                .get(k)
                .and_then(|d| d.destination.as_ref())
                .and_then(f)
                .unwrap_or_default()
        })
    };
    let write_dest = move |key: &str, f: Box<dyn FnOnce(&mut Destination)>| {
        vs.write_rule(i, key, |r| {
            if let Some(d) = r.route.as_mut().and_then(|rs| rs.get_mut(k)) {
                f(d.destination.get_or_insert_with(Default::default));
            }
        });
    };
    let host = Memo::new(move |_| dest(|d| d.host.clone()));
    let subsets = Memo::new(move |_| {
        let h = host.get();
        ctx.ws.with(|w| w.subsets_for(&h))
    });
    let list_id = format!("subsets-{i}-{k}");
    // The weight as text ("" when not set): a `Memo<String>`, a type the forms have anyway.
    let weight = Memo::new(move |_| {
        vs.rule(i, |r| {
            r.route
                .items()
                .get(k)
                .and_then(|d| d.weight)
                .map(|w| w.to_string())
                .unwrap_or_default()
        })
    });
    let remove = move |_| {
        let keep = vs.keep100.get_untracked();
        vs.write_rule(i, "!del-destination", |r| {
            if let Some(routes) = r.route.as_mut() {
                if k < routes.len() {
                    routes.remove(k);
                }
                if keep {
                    if routes.len() == 1 {
                        routes[0].weight = None;
                    } else if routes.len() > 1 {
                        let cur: Vec<i32> = routes.iter().map(|d| d.weight.unwrap_or(0)).collect();
                        set_weights(routes, normalize(&cur));
                    }
                }
            }
        });
    };
    let slider_id = format!("f-{base}.weight-slider");
    view! {
        <div class="dest" data-testid=format!("f-{base}") tabindex="-1" role="group"
            aria-label=format!("Destination {} of rule {}", k + 1, i + 1)>
            <TextField
                label="Host"
                path=format!("{base}.destination.host")
                list="known-hosts"
                value=Arc::new(move || host.get())
                on_set=Arc::new(move |s: String| {
                    write_dest(&format!("spec.http[{i}].route[{k}].destination.host"), Box::new(move |d| d.host = opt_str(&s)))
                })
            />
            <TextField
                label="Subset"
                path=format!("{base}.destination.subset")
                list=list_id.clone()
                title="Subsets defined by the DestinationRules for this host"
                placeholder="e.g. v1"
                value=Arc::new(move || dest(|d| d.subset.clone()))
                on_set=Arc::new(move |s: String| {
                    write_dest(&format!("spec.http[{i}].route[{k}].destination.subset"), Box::new(move |d| d.subset = opt_str(&s)))
                })
            />
            {datalist(list_id, subsets)}
            <NumberField
                label="Port"
                path=format!("{base}.destination.port.number")
                min="1"
                max="65535"
                value=Arc::new(move || vs.rule(i, |r| {
                    r.route.items().get(k)
                        .and_then(|d| d.destination.as_ref())
                        .and_then(|d| d.port.as_ref())
                        .and_then(|p| p.number)
                        .map(|p| p.to_string())
                        .unwrap_or_default()
                }))
                on_set=Arc::new(move |s: String| {
                    if let Ok(p) = opt_num::<u32>(&s) {
                        write_dest(&format!("spec.http[{i}].route[{k}].destination.port"), Box::new(move |d| {
                            d.port = p.map(|number| PortSelector { number: Some(number), ..d.port.take().unwrap_or_default() });
                        }))
                    }
                })
            />
            <div class="weight">
                <NumberField
                    label="Weight %"
                    path=format!("{base}.weight")
                    min="0"
                    max="100"
                    value=Arc::new(move || weight.get())
                    on_set=Arc::new(move |s: String| {
                        if let Ok(w) = opt_num::<i32>(&s) {
                            set_weight(vs, i, k, w);
                        }
                    })
                />
                <input
                    type="range"
                    min="0"
                    max="100"
                    data-testid=slider_id
                    aria-label=format!("Weight of destination {}", k + 1)
                    disabled=move || n.get() < 2
                    prop:value=move || weight.with(|w| w.parse::<i32>().ok()).unwrap_or(if n.get() < 2 { 100 } else { 0 }).to_string()
                    on:input=move |ev| {
                        if let Ok(w) = event_target_value(&ev).parse::<i32>() {
                            set_weight(vs, i, k, Some(w));
                        }
                    }
                />
            </div>
            <button class="icon danger" data-testid=format!("del-dest-{i}-{k}") aria-label=format!("Remove destination {}", k + 1)
                on:click=remove>"✕"</button>
            <FieldDiags path=base.clone()/>
            <FieldDiags path=format!("{base}.destination")/>
        </div>
    }
}

/// A collapsible panel whose summary says what is set.
#[component]
fn Panel(
    #[prop(into)] title: String,
    #[prop(into)] testid: String,
    summary: Getter<String>,
    children: Children,
) -> impl IntoView {
    view! {
        <details class="panel" data-testid=testid>
            <summary>
                <span class="panel-title">{title}</span>
                <span class="panel-summary">{move || summary()}</span>
            </summary>
            <div class="panel-body">{children()}</div>
        </details>
    }
}

fn pct(p: Option<&Percent>) -> Option<f64> {
    p.and_then(|p| p.value)
}

fn set_pct(slot: &mut Option<Percent>, v: Option<f64>) {
    match v {
        Some(v) => slot.get_or_insert_with(Default::default).value = Some(v),
        None => {
            if let Some(p) = slot.as_mut() {
                p.value = None;
            }
            prune(slot);
        }
    }
}

fn fault_summary(r: &HTTPRoute) -> String {
    let Some(f) = &r.fault else {
        return String::new();
    };
    let mut parts = Vec::new();
    if let Some(d) = &f.delay {
        parts.push(format!(
            "delay {} at {}%",
            d.fixed_delay.as_deref().unwrap_or("?"),
            pct(d.percentage.as_ref())
                .map(|p| p.to_string())
                .unwrap_or_else(|| "?".into())
        ));
    }
    if let Some(a) = &f.abort {
        parts.push(format!(
            "abort {} at {}%",
            a.http_status
                .map(|s| s.to_string())
                .unwrap_or_else(|| "?".into()),
            pct(a.percentage.as_ref())
                .map(|p| p.to_string())
                .unwrap_or_else(|| "?".into())
        ));
    }
    parts.join(", ")
}

#[component]
fn Panels(vs: Vs, i: usize) -> impl IntoView {
    let summary = move |f: fn(&HTTPRoute) -> String| Arc::new(move || vs.rule(i, f));
    view! {
        <div class="panels">
            <Panel title="Timeout" testid=format!("panel-timeout-{i}") summary=summary(|r| r.timeout.clone().unwrap_or_default())>
                {vs.rule_text(i, "Route timeout (e.g. 10s)", "timeout", |r| r.timeout.clone(), |r, v| r.timeout = v)}
            </Panel>
            <Panel title="Retries" testid=format!("panel-retries-{i}")
                summary=summary(|r| r.retries.as_ref().map(|x| format!("{} attempts", x.attempts.unwrap_or(0))).unwrap_or_default())>
                {vs.rule_num::<i32>(i, "Attempts", "retries.attempts",
                    |r| r.retries.as_ref().and_then(|x| x.attempts),
                    |r, v| { r.retries.get_or_insert_with(Default::default).attempts = v; prune(&mut r.retries); })}
                {vs.rule_text(i, "Per-try timeout", "retries.perTryTimeout",
                    |r| r.retries.as_ref().and_then(|x| x.per_try_timeout.clone()),
                    |r, v| { r.retries.get_or_insert_with(Default::default).per_try_timeout = v; prune(&mut r.retries); })}
                {vs.rule_text(i, "Retry on", "retries.retryOn",
                    |r| r.retries.as_ref().and_then(|x| x.retry_on.clone()),
                    |r, v| { r.retries.get_or_insert_with(Default::default).retry_on = v; prune(&mut r.retries); })}
            </Panel>
            <Panel title="Fault injection" testid=format!("panel-fault-{i}") summary=summary(fault_summary)>
                <fieldset>
                    <legend>"Delay"</legend>
                    {vs.rule_text(i, "Fixed delay (e.g. 5s)", "fault.delay.fixedDelay",
                        |r| r.fault.as_ref()?.delay.as_ref()?.fixed_delay.clone(),
                        |r, v| {
                            let f = r.fault.get_or_insert_with(Default::default);
                            f.delay.get_or_insert_with(Default::default).fixed_delay = v;
                            prune(&mut f.delay);
                            prune(&mut r.fault);
                        })}
                    {vs.rule_num::<f64>(i, "Percentage of requests", "fault.delay.percentage.value",
                        |r| pct(r.fault.as_ref()?.delay.as_ref()?.percentage.as_ref()),
                        |r, v| {
                            let f = r.fault.get_or_insert_with(Default::default);
                            set_pct(&mut f.delay.get_or_insert_with(Default::default).percentage, v);
                            prune(&mut f.delay);
                            prune(&mut r.fault);
                        })}
                </fieldset>
                <fieldset>
                    <legend>"Abort"</legend>
                    {vs.rule_num::<i32>(i, "HTTP status", "fault.abort.httpStatus",
                        |r| r.fault.as_ref()?.abort.as_ref()?.http_status,
                        |r, v| {
                            let f = r.fault.get_or_insert_with(Default::default);
                            f.abort.get_or_insert_with(Default::default).http_status = v;
                            prune(&mut f.abort);
                            prune(&mut r.fault);
                        })}
                    {vs.rule_num::<f64>(i, "Percentage of requests", "fault.abort.percentage.value",
                        |r| pct(r.fault.as_ref()?.abort.as_ref()?.percentage.as_ref()),
                        |r, v| {
                            let f = r.fault.get_or_insert_with(Default::default);
                            set_pct(&mut f.abort.get_or_insert_with(Default::default).percentage, v);
                            prune(&mut f.abort);
                            prune(&mut r.fault);
                        })}
                </fieldset>
                <FieldDiags path=format!("spec.http[{i}].fault") nested=true/>
            </Panel>
            <Panel title="Mirror" testid=format!("panel-mirror-{i}")
                summary=summary(|r| r.mirror.as_ref().map(|m| {
                    let p = pct(r.mirror_percentage.as_ref()).map(|p| format!(" at {p}%")).unwrap_or_default();
                    format!("{}{}{p}", m.host.as_deref().unwrap_or("?"), m.subset.as_deref().map(|s| format!("/{s}")).unwrap_or_default())
                }).unwrap_or_default())>
                {vs.rule_text(i, "Mirror host", "mirror.host",
                    |r| r.mirror.as_ref()?.host.clone(),
                    |r, v| { r.mirror.get_or_insert_with(Default::default).host = v; prune(&mut r.mirror); })}
                {vs.rule_text(i, "Mirror subset", "mirror.subset",
                    |r| r.mirror.as_ref()?.subset.clone(),
                    |r, v| { r.mirror.get_or_insert_with(Default::default).subset = v; prune(&mut r.mirror); })}
                {vs.rule_num::<f64>(i, "Mirror percentage", "mirrorPercentage.value",
                    |r| pct(r.mirror_percentage.as_ref()),
                    |r, v| set_pct(&mut r.mirror_percentage, v))}
            </Panel>
            <Panel title="Rewrite" testid=format!("panel-rewrite-{i}")
                summary=summary(|r| r.rewrite.as_ref().map(|w| w.uri.clone().or(w.authority.clone()).unwrap_or_default()).unwrap_or_default())>
                {vs.rule_text(i, "Rewrite URI (prefix)", "rewrite.uri",
                    |r| r.rewrite.as_ref()?.uri.clone(),
                    |r, v| { r.rewrite.get_or_insert_with(Default::default).uri = v; prune(&mut r.rewrite); })}
                {vs.rule_text(i, "Rewrite authority", "rewrite.authority",
                    |r| r.rewrite.as_ref()?.authority.clone(),
                    |r, v| { r.rewrite.get_or_insert_with(Default::default).authority = v; prune(&mut r.rewrite); })}
            </Panel>
            <Panel title="Redirect" testid=format!("panel-redirect-{i}")
                summary=summary(|r| r.redirect.as_ref().map(|x| x.uri.clone().unwrap_or_else(|| "set".into())).unwrap_or_default())>
                {vs.rule_text(i, "Redirect URI", "redirect.uri",
                    |r| r.redirect.as_ref()?.uri.clone(),
                    |r, v| { r.redirect.get_or_insert_with(Default::default).uri = v; prune(&mut r.redirect); })}
                {vs.rule_text(i, "Redirect authority", "redirect.authority",
                    |r| r.redirect.as_ref()?.authority.clone(),
                    |r, v| { r.redirect.get_or_insert_with(Default::default).authority = v; prune(&mut r.redirect); })}
                {vs.rule_num::<u32>(i, "Redirect code", "redirect.redirectCode",
                    |r| r.redirect.as_ref()?.redirect_code,
                    |r, v| { r.redirect.get_or_insert_with(Default::default).redirect_code = v; prune(&mut r.redirect); })}
            </Panel>
            <Panel title="Direct response" testid=format!("panel-direct-{i}")
                summary=summary(|r| r.direct_response.as_ref().and_then(|d| d.status).map(|s| s.to_string()).unwrap_or_default())>
                {vs.rule_num::<u32>(i, "Status", "directResponse.status",
                    |r| r.direct_response.as_ref()?.status,
                    |r, v| { r.direct_response.get_or_insert_with(Default::default).status = v; prune(&mut r.direct_response); })}
                {vs.rule_text(i, "Body", "directResponse.body.string",
                    |r| r.direct_response.as_ref()?.body.as_ref()?.string.clone(),
                    |r, v| {
                        let d = r.direct_response.get_or_insert_with(Default::default);
                        d.body.get_or_insert_with(Default::default).string = v;
                        prune(&mut d.body);
                        prune(&mut r.direct_response);
                    })}
            </Panel>
            <Panel title="Headers" testid=format!("panel-headers-{i}")
                summary=summary(|r| if r.headers.is_some() { "set".into() } else { String::new() })>
                {vs.rule_map(i, "Request: set", "headers.request.set",
                    |r| r.headers.as_ref()?.request.as_ref()?.set.as_ref(),
                    |r, v| {
                        let h = r.headers.get_or_insert_with(Default::default);
                        h.request.get_or_insert_with(Default::default).set = v;
                        prune(&mut h.request);
                        prune(&mut r.headers);
                    })}
                {vs.rule_map(i, "Request: add", "headers.request.add",
                    |r| r.headers.as_ref()?.request.as_ref()?.add.as_ref(),
                    |r, v| {
                        let h = r.headers.get_or_insert_with(Default::default);
                        h.request.get_or_insert_with(Default::default).add = v;
                        prune(&mut h.request);
                        prune(&mut r.headers);
                    })}
                {vs.rule_text(i, "Request: remove (comma-separated)", "headers.request.remove",
                    |r| r.headers.as_ref()?.request.as_ref()?.remove.as_ref().map(|v| v.join(", ")),
                    |r, v| {
                        let h = r.headers.get_or_insert_with(Default::default);
                        h.request.get_or_insert_with(Default::default).remove = v.as_deref().and_then(opt_list);
                        prune(&mut h.request);
                        prune(&mut r.headers);
                    })}
                {vs.rule_map(i, "Response: set", "headers.response.set",
                    |r| r.headers.as_ref()?.response.as_ref()?.set.as_ref(),
                    |r, v| {
                        let h = r.headers.get_or_insert_with(Default::default);
                        h.response.get_or_insert_with(Default::default).set = v;
                        prune(&mut h.response);
                        prune(&mut r.headers);
                    })}
                {vs.rule_map(i, "Response: add", "headers.response.add",
                    |r| r.headers.as_ref()?.response.as_ref()?.add.as_ref(),
                    |r, v| {
                        let h = r.headers.get_or_insert_with(Default::default);
                        h.response.get_or_insert_with(Default::default).add = v;
                        prune(&mut h.response);
                        prune(&mut r.headers);
                    })}
                {vs.rule_text(i, "Response: remove (comma-separated)", "headers.response.remove",
                    |r| r.headers.as_ref()?.response.as_ref()?.remove.as_ref().map(|v| v.join(", ")),
                    |r, v| {
                        let h = r.headers.get_or_insert_with(Default::default);
                        h.response.get_or_insert_with(Default::default).remove = v.as_deref().and_then(opt_list);
                        prune(&mut h.response);
                        prune(&mut r.headers);
                    })}
            </Panel>
        </div>
    }
}
