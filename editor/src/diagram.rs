//! The traffic picture: an SVG of entry points (the mesh's sidecars and each
//! Gateway) → VirtualServices and their HTTP rules → destination subsets, with
//! each route's weight on its edge. Drawn from the workspace's model values.

use leptos::prelude::*;
use meshroute_model::model::{HTTPMatchRequest, OptSliceExt, StringMatch};
use meshroute_model::{Kind, Resource};

use crate::forms::widgets::match_kind;
use crate::{ctx, Ctx};

const COL1: f64 = 10.0;
const COL1_W: f64 = 150.0;
const COL2: f64 = 200.0;
const COL2_W: f64 = 310.0;
const COL3: f64 = 580.0;
const COL3_W: f64 = 200.0;
const ROW: f64 = 26.0;
const HEAD: f64 = 30.0;
const GAP: f64 = 18.0;
const WIDTH: f64 = COL3 + COL3_W + 10.0;

#[derive(Clone, Debug, PartialEq)]
struct Node {
    label: String,
    sub: String,
    y: f64,
    h: f64,
}

#[derive(Clone, Debug, PartialEq)]
struct Edge {
    from: (f64, f64),
    to: (f64, f64),
    label: String,
    dashed: bool,
}

#[derive(Clone, Debug, PartialEq, Default)]
struct Picture {
    entries: Vec<Node>,
    services: Vec<Node>,
    rules: Vec<Node>,
    dests: Vec<Node>,
    edges: Vec<Edge>,
    height: f64,
}

fn short_match(kind: &str, m: &StringMatch) -> String {
    let (k, v) = match_kind(Some(m));
    match (kind, k) {
        (_, "present") => format!("{kind} present"),
        (_, "exact") => format!("{kind}={v}"),
        (_, "prefix") => format!("{kind} {v}*"),
        _ => format!("{kind}~{v}"),
    }
}

/// One line for a match block: `uri /api* & end-user=jason`.
fn summarize(m: &HTTPMatchRequest) -> String {
    let mut parts = Vec::new();
    if let Some(u) = &m.uri {
        parts.push(short_match("uri", u));
    }
    if let Some(x) = &m.method {
        parts.push(short_match("method", x));
    }
    if let Some(x) = &m.authority {
        parts.push(short_match("authority", x));
    }
    for (k, v) in m.headers.iter().flatten() {
        parts.push(short_match(k, v));
    }
    for (k, v) in m.query_params.iter().flatten() {
        parts.push(short_match(&format!("?{k}"), v));
    }
    for k in m.without_headers.iter().flat_map(|h| h.keys()) {
        parts.push(format!("!{k}"));
    }
    if let Some(p) = m.port {
        parts.push(format!("port {p}"));
    }
    if parts.is_empty() {
        "any".to_owned()
    } else {
        parts.join(" & ")
    }
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

fn gateway_key(r: &Resource) -> (String, String) {
    (
        r.name().to_owned(),
        format!("{}/{}", r.namespace_or("default"), r.name()),
    )
}

fn build(ctx: Ctx) -> Picture {
    ctx.ws.with(|w| {
        let mut p = Picture::default();
        // Entry points.
        let mut entry_keys: Vec<(String, String)> = vec![("mesh".into(), "mesh".into())];
        p.entries.push(Node {
            label: "mesh".into(),
            sub: "sidecars".into(),
            y: 10.0,
            h: 40.0,
        });
        for r in w.resources().filter(|r| r.kind == Kind::Gateway) {
            let servers: Vec<String> = r
                .gateway()
                .map(|g| {
                    g.servers
                        .items()
                        .iter()
                        .map(|s| {
                            let port = s.port.as_ref();
                            format!(
                                "{} {}",
                                port.and_then(|p| p.number).unwrap_or(0),
                                port.and_then(|p| p.protocol.clone()).unwrap_or_default()
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            let y = 10.0 + p.entries.len() as f64 * 56.0;
            entry_keys.push(gateway_key(r));
            p.entries.push(Node {
                label: format!("gateway {}", r.name()),
                sub: clip(&servers.join(", "), 30),
                y,
                h: 40.0,
            });
        }
        // VirtualServices and rules.
        let mut y = 10.0;
        let mut dest_keys: Vec<String> = Vec::new();
        let mut pending: Vec<(f64, usize, String, bool)> = Vec::new();
        for r in w.resources().filter(|r| r.kind == Kind::VirtualService) {
            let Some(vs) = r.virtual_service() else {
                continue;
            };
            let rules = vs.http.items();
            let h = HEAD + rules.len() as f64 * ROW + 6.0;
            let top = y;
            p.services.push(Node {
                label: clip(&format!("{} ({})", r.name(), r.namespace_or("default")), 40),
                sub: clip(&vs.hosts.items().join(", "), 44),
                y: top,
                h,
            });
            let gateways: Vec<String> = if vs.gateways.items().is_empty() {
                vec!["mesh".into()]
            } else {
                vs.gateways.items().to_vec()
            };
            for g in &gateways {
                let g = g.trim();
                if let Some(i) = entry_keys.iter().position(|(short, full)| {
                    short == g
                        || full == g
                        || g.ends_with(&format!("/{short}")) && full.ends_with(g)
                }) {
                    let e = &p.entries[i];
                    p.edges.push(Edge {
                        from: (COL1 + COL1_W, e.y + e.h / 2.0),
                        to: (COL2, top + HEAD / 2.0),
                        label: String::new(),
                        dashed: false,
                    });
                }
            }
            for (i, rule) in rules.iter().enumerate() {
                let ry = top + HEAD + i as f64 * ROW;
                let cond = match rule.r#match.items() {
                    [] => "any request".to_owned(),
                    [m] => summarize(m),
                    [m, rest @ ..] => format!("{} | +{}", summarize(m), rest.len()),
                };
                let name = rule
                    .name
                    .as_deref()
                    .map(|n| format!("{n}: "))
                    .unwrap_or_default();
                let action = if rule.redirect.is_some() {
                    " → redirect"
                } else if rule.direct_response.is_some() {
                    " → direct response"
                } else if rule.delegate.is_some() {
                    " → delegate"
                } else {
                    ""
                };
                p.rules.push(Node {
                    label: clip(&format!("{}. {name}{cond}{action}", i + 1), 48),
                    sub: String::new(),
                    y: ry,
                    h: ROW - 4.0,
                });
                let routes = rule.route.items();
                let weighted = routes.len() > 1;
                for d in routes {
                    let dest = d.destination.as_ref();
                    let host = dest.and_then(|d| d.host.as_deref()).unwrap_or("?");
                    let key = match dest.and_then(|d| d.subset.as_deref()) {
                        Some(s) => format!("{host} / {s}"),
                        None => host.to_owned(),
                    };
                    let k = match dest_keys.iter().position(|x| *x == key) {
                        Some(k) => k,
                        None => {
                            dest_keys.push(key);
                            dest_keys.len() - 1
                        }
                    };
                    let w = d.weight.unwrap_or(if weighted { 0 } else { 100 });
                    let label = if weighted {
                        format!("{w}%")
                    } else {
                        String::new()
                    };
                    pending.push((ry + (ROW - 4.0) / 2.0, k, label, weighted && w == 0));
                }
                if let Some(m) = &rule.mirror {
                    let key = format!(
                        "{}{}",
                        m.host.as_deref().unwrap_or("?"),
                        m.subset
                            .as_deref()
                            .map(|s| format!(" / {s}"))
                            .unwrap_or_default()
                    );
                    let k = match dest_keys.iter().position(|x| *x == key) {
                        Some(k) => k,
                        None => {
                            dest_keys.push(key);
                            dest_keys.len() - 1
                        }
                    };
                    let pctg = rule
                        .mirror_percentage
                        .as_ref()
                        .and_then(|p| p.value)
                        .map(|v| format!("mirror {v}%"))
                        .unwrap_or_else(|| "mirror".into());
                    pending.push((ry + (ROW - 4.0) / 2.0, k, pctg, true));
                }
            }
            y = top + h + GAP;
        }
        for (k, key) in dest_keys.iter().enumerate() {
            p.dests.push(Node {
                label: clip(key, 32),
                sub: String::new(),
                y: 10.0 + k as f64 * 40.0,
                h: 30.0,
            });
        }
        for (from_y, k, label, dashed) in pending {
            let d = &p.dests[k];
            p.edges.push(Edge {
                from: (COL2 + COL2_W, from_y),
                to: (COL3, d.y + d.h / 2.0),
                label,
                dashed,
            });
        }
        let bottom = |ns: &[Node]| ns.iter().map(|n| n.y + n.h).fold(0.0, f64::max);
        p.height = bottom(&p.entries)
            .max(bottom(&p.services))
            .max(bottom(&p.dests))
            .max(60.0)
            + 12.0;
        p
    })
}

fn curve(e: &Edge) -> String {
    let (x1, y1) = e.from;
    let (x2, y2) = e.to;
    let mx = (x1 + x2) / 2.0;
    format!("M {x1:.1} {y1:.1} C {mx:.1} {y1:.1}, {mx:.1} {y2:.1}, {x2:.1} {y2:.1}")
}

#[component]
pub fn Diagram() -> impl IntoView {
    let ctx = ctx();
    let pic = Memo::new(move |_| build(ctx));
    view! {
        <div class="diagram-wrap">
            <p class="muted">"Entry points → VirtualService rules (first match wins) → destinations, with route weights."</p>
            {move || {
                let p = pic.get();
                let empty = p.services.is_empty();
                let view_box = format!("0 0 {WIDTH} {:.0}", p.height);
                view! {
                    <svg class="diagram" data-testid="diagram" viewBox=view_box role="img" preserveAspectRatio="xMinYMin meet"
                        aria-label="Traffic picture: gateways to VirtualService rules to destinations">
                        <defs>
                            <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                                <path d="M 0 0 L 10 5 L 0 10 z" class="arrow-head"></path>
                            </marker>
                        </defs>
                        {p.edges.iter().map(|e| {
                            let (lx, ly) = (e.from.0 + 14.0, e.from.1 - 4.0);
                            view! {
                                <g class="edge" data-testid="edge" data-label=e.label.clone()>
                                    <path d=curve(e) class:dashed=e.dashed marker-end="url(#arrow)"></path>
                                    <text x=format!("{lx:.1}") y=format!("{ly:.1}") class="edge-label">{e.label.clone()}</text>
                                </g>
                            }
                        }).collect_view()}
                        {p.entries.iter().map(|n| view! {
                            <g class="node entry">
                                <rect x=COL1.to_string() y=format!("{:.1}", n.y) width=COL1_W.to_string() height=format!("{:.1}", n.h) rx="6"></rect>
                                <text x=(COL1 + 10.0).to_string() y=format!("{:.1}", n.y + 17.0) class="label">{n.label.clone()}</text>
                                <text x=(COL1 + 10.0).to_string() y=format!("{:.1}", n.y + 32.0) class="sub">{n.sub.clone()}</text>
                            </g>
                        }).collect_view()}
                        {p.services.iter().map(|n| view! {
                            <g class="node service" data-testid="diagram-vs">
                                <rect x=COL2.to_string() y=format!("{:.1}", n.y) width=COL2_W.to_string() height=format!("{:.1}", n.h) rx="6"></rect>
                                <text x=(COL2 + 10.0).to_string() y=format!("{:.1}", n.y + 14.0) class="label">{n.label.clone()}</text>
                                <text x=(COL2 + 10.0).to_string() y=format!("{:.1}", n.y + 26.0) class="sub">{n.sub.clone()}</text>
                            </g>
                        }).collect_view()}
                        {p.rules.iter().map(|n| view! {
                            <g class="node rule">
                                <rect x=(COL2 + 6.0).to_string() y=format!("{:.1}", n.y) width=(COL2_W - 12.0).to_string() height=format!("{:.1}", n.h) rx="4"></rect>
                                <text x=(COL2 + 14.0).to_string() y=format!("{:.1}", n.y + 15.0) class="rule-label">{n.label.clone()}</text>
                            </g>
                        }).collect_view()}
                        {p.dests.iter().map(|n| view! {
                            <g class="node dest" data-testid="diagram-dest">
                                <rect x=COL3.to_string() y=format!("{:.1}", n.y) width=COL3_W.to_string() height=format!("{:.1}", n.h) rx="6"></rect>
                                <text x=(COL3 + 10.0).to_string() y=format!("{:.1}", n.y + 19.0) class="label">{n.label.clone()}</text>
                            </g>
                        }).collect_view()}
                    </svg>
                    {empty.then(|| view! { <p class="muted">"No VirtualServices yet."</p> })}
                }
            }}
        </div>
    }
}
