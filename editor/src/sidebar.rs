//! The workspace sidebar: resources grouped by kind; add, select, duplicate,
//! delete; templates.

use std::collections::HashMap;

use leptos::prelude::*;
use meshroute_model::Level;

use crate::forms::widgets::keyed;
use crate::state::{doc_id_of, DocId};
use crate::{ctx, templates, Tab};

/// Sidebar groups: (kind, heading, can add).
const GROUPS: &[(&str, &str, bool)] = &[
    ("VirtualService", "Virtual services", true),
    ("DestinationRule", "Destination rules", true),
    ("Gateway", "Gateways", true),
    ("ServiceEntry", "Service entries", true),
    ("", "Kubernetes and other", false),
];

#[derive(Clone, Debug, PartialEq)]
struct Entry {
    id: DocId,
    kind: String,
    name: String,
    title: String,
}

fn group_of(kind: &str) -> &'static str {
    GROUPS
        .iter()
        .find(|(k, _, _)| !k.is_empty() && *k == kind)
        .map(|(k, _, _)| *k)
        .unwrap_or("")
}

/// A name not used by any document of that kind.
fn fresh_name(kind: &str, taken: &[String]) -> String {
    let base = match kind {
        "VirtualService" => "new-route",
        "DestinationRule" => "new-destination",
        "Gateway" => "new-gateway",
        _ => "new-entry",
    };
    (1..)
        .map(|i| {
            if i == 1 {
                base.to_owned()
            } else {
                format!("{base}-{i}")
            }
        })
        .find(|n| !taken.contains(n))
        .unwrap_or_else(|| base.to_owned())
}

#[component]
pub fn Sidebar() -> impl IntoView {
    let ctx = ctx();
    let entries = Memo::new(move |_| {
        ctx.ws.with(|w| {
            w.docs
                .iter()
                .map(|d| Entry {
                    id: d.id,
                    kind: d.kind_name(),
                    name: d.name(),
                    title: d.title(),
                })
                .collect::<Vec<_>>()
        })
    });
    let counts = Memo::new(move |_| {
        let mut m: HashMap<DocId, (usize, usize)> = HashMap::new();
        ctx.diags.with(|ds| {
            for d in ds.iter() {
                if let Some(id) = doc_id_of(d.file.as_deref()) {
                    let e = m.entry(id).or_default();
                    match d.level {
                        Level::Error => e.0 += 1,
                        Level::Warning => e.1 += 1,
                        Level::Info => {}
                    }
                }
            }
        });
        m
    });
    let add = move |kind: &'static str| {
        let taken: Vec<String> = entries.with_untracked(|es| {
            es.iter()
                .filter(|e| e.kind == kind)
                .map(|e| e.name.clone())
                .collect()
        });
        let name = fresh_name(kind, &taken);
        let text = templates::skeleton(kind, &name);
        let mut new_id = None;
        ctx.edit(&format!("!add-{kind}"), |w| {
            new_id = w.add_text(&text).first().copied();
            true
        });
        ctx.selected.set(new_id);
        ctx.tab.set(Tab::Form);
        ctx.say(format!("Added {kind} {name}"));
    };

    let group_view = move |kind: &'static str, heading: &'static str, can_add: bool| {
        let items = Memo::new(move |_| {
            entries.with(|es| {
                es.iter()
                    .filter(|e| group_of(&e.kind) == kind)
                    .cloned()
                    .collect::<Vec<_>>()
            })
        });
        let group_id = if kind.is_empty() { "other" } else { kind };
        view! {
            <div class="group" data-testid=format!("group-{group_id}")>
                <div class="group-head">
                    <h3>{heading} " " <span class="muted">{move || items.with(Vec::len).to_string()}</span></h3>
                    {can_add.then(|| view! {
                        <button
                            class="icon"
                            data-testid=format!("add-{kind}")
                            title=format!("Add a {kind}")
                            aria-label=format!("Add a {kind}")
                            on:click=move |_| add(kind)
                        >"+"</button>
                    })}
                </div>
                <ul>
                    {keyed(items, |_, e| format!("{:?}", (e.id, &e.title, &e.kind)), move |e: Entry| {
                            let id = e.id;
                            let label = e.title.clone();
                            let kind_label = e.kind.clone();
                            let testid = format!("doc-{}-{}", e.kind, e.name);
                            // Per entry: a validation re-renders only the badges that changed.
                            let mine = Memo::new(move |_| counts.with(|c| c.get(&id).copied().unwrap_or_default()));
                            let badge = move || {
                                let (err, warn) = mine.get();
                                let cls = if err > 0 { "badge error" } else { "badge warning" };
                                let n = err + warn;
                                (n > 0).then(|| view! { <span class=cls title="errors + warnings">{n}</span> })
                            };
                            view! {
                                <li class:selected=move || ctx.selected.get() == Some(id)>
                                    <button
                                        class="doc"
                                        data-testid=testid.clone()
                                        data-doc-id=id.to_string()
                                        aria-current=move || (ctx.selected.get() == Some(id)).then_some("true")
                                        on:click=move |_| {
                                            ctx.selected.set(Some(id));
                                            ctx.tab.set(Tab::Form);
                                        }
                                    >
                                        {label.clone()}
                                        {(group_of(&kind_label).is_empty() && !kind_label.is_empty()).then(|| view! { <span class="muted">" " {kind_label.clone()}</span> })}
                                    </button>
                                    {badge}
                                    <button
                                        class="icon"
                                        data-testid=format!("dup-{testid}")
                                        title="Duplicate"
                                        aria-label=format!("Duplicate {label}")
                                        on:click=move |_| {
                                            let mut new_id = None;
                                            ctx.edit("!duplicate", |w| {
                                                new_id = w.duplicate(id);
                                                new_id.is_some()
                                            });
                                            if new_id.is_some() {
                                                ctx.selected.set(new_id);
                                            }
                                        }
                                    >"⊕"</button>
                                    <button
                                        class="icon danger"
                                        data-testid=format!("del-{testid}")
                                        title="Delete"
                                        aria-label=format!("Delete {label}")
                                        on:click=move |_| {
                                            ctx.edit("!delete", |w| w.remove(id));
                                            ctx.say("Deleted (undo with Ctrl+Z)");
                                        }
                                    >"✕"</button>
                                </li>
                            }
                            .into_any()
                        })}
                </ul>
            </div>
        }
    };

    view! {
        <nav class="sidebar" aria-label="Workspace">
            <div class="pane-head">
                <h2>"Workspace"</h2>
                <button
                    data-testid="ws-clear"
                    title="Start an empty workspace (undo brings it back)"
                    on:click=move |_| {
                        ctx.replace(Default::default());
                        ctx.say("New empty workspace");
                    }
                >"New"</button>
            </div>
            {GROUPS.iter().map(|(k, h, a)| group_view(k, h, *a)).collect_view()}
            <TemplateList/>
        </nav>
    }
}

#[component]
fn TemplateList() -> impl IntoView {
    let ctx = ctx();
    let stubs = RwSignal::new(true);
    view! {
        <details class="templates" open>
            <summary><h3>"Templates"</h3></summary>
            <label class="check">
                <input
                    type="checkbox"
                    data-testid="template-stubs"
                    prop:checked=move || stubs.get()
                    on:change=move |ev| stubs.set(event_target_checked(&ev))
                />
                " with Kubernetes Service/Deployment stubs"
            </label>
            <ul>
                {templates::ALL
                    .iter()
                    .map(|t| {
                        view! {
                            <li>
                                <button
                                    class="template"
                                    data-testid=format!("template-{}", t.id)
                                    title=t.description
                                    on:click=move |_| {
                                        let text = t.text(stubs.get_untracked());
                                        let mut first = None;
                                        ctx.edit(&format!("!template-{}", t.id), |w| {
                                            first = w.add_text(&text).first().copied();
                                            true
                                        });
                                        ctx.selected.set(first);
                                        ctx.tab.set(Tab::Form);
                                        ctx.say(format!("Added template: {}", t.title));
                                    }
                                >
                                    {t.title}
                                </button>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </details>
    }
}
