//! Visual forms for the selected resource: VirtualService ([`vs`]),
//! DestinationRule ([`dr`]), Gateway ([`gw`]) and ServiceEntry ([`se`]). Forms
//! edit the typed model and write it back through the model's emitter, so
//! fields the form does not show (and unknown fields) are kept.

pub mod dr;
pub mod gw;
pub mod se;
pub mod vs;
pub mod weights;
pub mod widgets;

use crate::forms::widgets::{keyed, Show};
use std::sync::Arc;

use leptos::prelude::*;
use meshroute_model::load::Spec;
use meshroute_model::{Kind, Resource};

use crate::problems::{focus_problem, level_class, row_key};
use crate::state::DocId;
use crate::{ctx, Ctx};
use widgets::{DocDiags, FormDoc, TextField};

/// Edits the typed resource of `id` (one undo step per `key` while typing).
pub fn edit_resource(ctx: Ctx, id: DocId, key: &str, f: impl FnOnce(&mut Resource)) {
    ctx.edit(key, |w| w.edit_resource(id, f));
}

/// Edits the spec of `id` when it is of the expected variant (`pick` returns it).
pub fn edit_spec<T>(
    ctx: Ctx,
    id: DocId,
    key: &str,
    pick: impl FnOnce(&mut Spec) -> Option<&mut T>,
    f: impl FnOnce(&mut T),
) {
    edit_resource(ctx, id, key, |r| {
        if let Some(t) = pick(&mut r.spec) {
            f(t);
        }
    });
}

/// The spec of `id`'s resource. The four forms read it through this one memo type
/// (each form is shown only for its kind).
pub fn spec_memo(ctx: Ctx, id: DocId) -> Memo<Option<Spec>> {
    Memo::new(move |_| {
        ctx.ws
            .with(|w| w.doc(id).and_then(|d| d.resource()).map(|r| r.spec.clone()))
    })
}

#[component]
pub fn FormPanel() -> impl IntoView {
    let ctx = ctx();
    // Re-rendered only when the selection or its kind changes, not on every edit.
    let sel = Memo::new(move |_| {
        let id = ctx.selected.get()?;
        ctx.ws
            .with(|w| w.doc(id).map(|d| (id, d.kind(), d.kind_name())))
    });
    move || {
        match sel.get() {
        None => view! {
            <div class="empty" data-testid="form-empty">
                <p>"Select a resource in the workspace, add one with +, or start from a template."</p>
            </div>
        }
        .into_any(),
        Some((id, kind, kind_name)) => {
            provide_context(FormDoc(id));
            provide_context(DocDiags::new(id));
            let body = match kind {
                Some(Kind::VirtualService) => view! { <vs::VsForm id=id/> }.into_any(),
                Some(Kind::DestinationRule) => view! { <dr::DrForm id=id/> }.into_any(),
                Some(Kind::Gateway) => view! { <gw::GwForm id=id/> }.into_any(),
                Some(Kind::ServiceEntry) => view! { <se::SeForm id=id/> }.into_any(),
                _ => {
                    let what = if kind_name.is_empty() { "this document".to_owned() } else { kind_name };
                    view! {
                        <p class="muted" data-testid="form-none">
                            "No form for " {what} ": edit it in the YAML pane. It is kept and exported as it is."
                        </p>
                    }
                    .into_any()
                }
            };
            view! {
                <div class="form" data-testid="form">
                    <Show when=move || ctx.pane_errors.with(|e| !e.is_empty())>
                        <p class="banner error" role="alert" data-testid="form-locked">
                            "The YAML pane has a syntax error: the forms are locked until it is fixed."
                        </p>
                    </Show>
                    <fieldset class="form-body" disabled=move || ctx.pane_errors.with(|e| !e.is_empty())>
                        <MetaFields id=id/>
                        <DocProblems id=id/>
                        {body}
                    </fieldset>
                </div>
            }
            .into_any()
        }
    }
    }
}

/// Kind, name and namespace of the selected document (rename, move namespace).
#[component]
fn MetaFields(id: DocId) -> impl IntoView {
    let ctx = ctx();
    // [kind, name, namespace]: a `Memo<Vec<String>>`, a type the app has anyway.
    let meta = Memo::new(move |_| {
        ctx.ws.with(|w| {
            w.doc(id)
                .map(|d| vec![d.kind_name(), d.name(), d.namespace().unwrap_or_default()])
                .unwrap_or_default()
        })
    });
    view! {
        <div class="meta">
            <h2 data-testid="form-kind">{move || meta.with(|m| m.first().cloned().unwrap_or_default())}</h2>
            <TextField
                label="Name"
                path="metadata.name"
                value=Arc::new(move || meta.with(|m| m.get(1).cloned().unwrap_or_default()))
                on_set=Arc::new(move |v: String| {
                    ctx.edit("metadata.name", |w| w.set_meta(id, "name", v.trim()));
                })
            />
            <TextField
                label="Namespace"
                path="metadata.namespace"
                placeholder="default"
                value=Arc::new(move || meta.with(|m| m.get(2).cloned().unwrap_or_default()))
                on_set=Arc::new(move |v: String| {
                    ctx.edit("metadata.namespace", |w| w.set_meta(id, "namespace", v.trim()));
                })
            />
        </div>
    }
}

/// All problems of the document, compact, above the form.
#[component]
fn DocProblems(id: DocId) -> impl IntoView {
    let ctx = ctx();
    let all = crate::problems::all();
    let mine = Memo::new(move |_| {
        all.with(|ps| {
            ps.iter()
                .filter(|p| p.doc == Some(id))
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    view! {
        <Show when=move || mine.with(|m| !m.is_empty())>
            <details class="doc-problems" data-testid="doc-problems">
                <summary>{move || format!("{} problems in this resource", mine.with(Vec::len))}</summary>
                <ul>
                    {keyed(mine, |n, p| format!("{n} {}", row_key(p)), move |p| {
                        let cls = level_class(p.diag.level);
                        let label = format!("{} {} — {}", p.diag.code, p.diag.path, p.diag.message);
                        view! {
                            <li class=cls>
                                <button class="link" on:click=move |_| focus_problem(ctx, &p)>{label}</button>
                            </li>
                        }
                        .into_any()
                    })}
                </ul>
            </details>
        </Show>
    }
}
