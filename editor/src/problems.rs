//! The problems list: every diagnostic of the last validation (the same as
//! `meshroute analyze`), with code, level, resource, path, message and hint.
//! Clicking one selects its resource and focuses the field (or the YAML line).

use crate::forms::widgets::{keyed, Show};
use leptos::prelude::*;
use meshroute_model::{Diagnostic, Level};

use crate::state::{doc_id_of, DocId};
use crate::{browser, ctx, Ctx, Tab};

/// A diagnostic placed in the workspace.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    pub diag: Diagnostic,
    pub doc: Option<DocId>,
    /// Line in the YAML pane.
    pub line: Option<u32>,
    pub hint: Option<&'static str>,
}

/// The parent of a field path: `a.b[0].c` → `a.b[0]` → `a.b` → `a`.
pub fn parent_path(path: &str) -> &str {
    let mut in_quote = false;
    for (i, b) in path.bytes().enumerate().rev() {
        match b {
            b'"' => in_quote = !in_quote,
            b'.' | b'[' if !in_quote => return &path[..i],
            _ => {}
        }
    }
    ""
}

/// `1 error`, `2 errors`, `0 errors`.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

pub fn level_class(level: Level) -> &'static str {
    match level {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Info => "info",
    }
}

/// The problems of the last validation, placed.
pub fn placed(ctx: Ctx) -> Memo<Vec<Problem>> {
    Memo::new(move |_| {
        ctx.diags.with(|diags| {
            let placed = diags
                .iter()
                .map(|d| {
                    let doc = doc_id_of(d.file.as_deref());
                    let line = doc.and_then(|id| d.line.and_then(|l| ctx.pane_line(id, l)));
                    Problem {
                        diag: d.clone(),
                        doc,
                        line,
                        hint: meshroute_model::lint::hint_for(&d.code),
                    }
                })
                .collect::<Vec<Problem>>();
            pane_order(placed)
        })
    })
}

/// The app's one [`placed`] memo (provided by `App`), shared by the problems
/// list and the form's problem summary.
#[derive(Clone, Copy)]
pub struct Placed(pub Memo<Vec<Problem>>);

/// The placed problems of the last validation.
pub fn all() -> Memo<Vec<Problem>> {
    expect_context::<Placed>().0
}

/// A row's identity: the diagnostic itself, with its line inside its document
/// but not its pane line, so typing that shifts other documents' lines does not
/// rebuild their rows (their line cells follow the pane reactively). `Debug`
/// quotes the strings, so different diagnostics give different keys.
pub fn row_key(p: &Problem) -> String {
    let d = &p.diag;
    format!(
        "{:?}",
        (&d.file, d.line, &d.code, &d.resource, &d.path, &d.message)
    )
}

/// Problems in the order of the YAML pane (the model sorts by file name, and
/// `doc10` sorts before `doc2`).
fn pane_order(mut ps: Vec<Problem>) -> Vec<Problem> {
    ps.sort_by_key(|p| (p.line.is_none(), p.line, p.diag.level));
    ps
}

/// Selects the problem's resource and focuses its field in the form, else its YAML line.
pub fn focus_problem(ctx: Ctx, p: &Problem) {
    if let Some(doc) = p.doc {
        ctx.selected.set(Some(doc));
        ctx.tab.set(Tab::Form);
    }
    // The pane line now (rows keep the problem they were created with).
    let line = p
        .doc
        .zip(p.diag.line)
        .and_then(|(id, l)| ctx.pane_line(id, l))
        .or(p.line);
    if let Some(l) = line {
        ctx.pane_goto.set(Some((l, 1, false)));
    }
    let path = p.diag.path.clone();
    request_animation_frame(move || {
        let mut cur = path.as_str();
        while cur.contains('.') || cur.contains('[') {
            if browser::focus_testid(&format!("f-{cur}")) {
                return;
            }
            cur = parent_path(cur);
        }
        if let Some(l) = line {
            ctx.pane_goto.set(Some((l, 1, true)));
        }
    });
}

#[component]
pub fn Problems() -> impl IntoView {
    let ctx = ctx();
    let all = all();
    let show_info = RwSignal::new(true);
    let only_selected = RwSignal::new(false);
    let count = move |lv: Level| all.with(|ps| ps.iter().filter(|p| p.diag.level == lv).count());
    let visible = Memo::new(move |_| {
        let sel = ctx.selected.get();
        all.with(|ps| {
            ps.iter()
                .filter(|p| show_info.get() || p.diag.level != Level::Info)
                .filter(|p| !only_selected.get() || p.doc == sel)
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    view! {
        <section class="problems" aria-label="Problems" data-testid="problems">
            <div class="pane-head">
                <h2>"Problems"</h2>
                <span class="badge error" data-testid="count-error">{move || plural(count(Level::Error), "error")}</span>
                <span class="badge warning" data-testid="count-warning">{move || plural(count(Level::Warning), "warning")}</span>
                <span class="badge info" data-testid="count-info">{move || plural(count(Level::Info), "info")}</span>
                <label>
                    <input type="checkbox" data-testid="problems-show-info" prop:checked=move || show_info.get()
                        on:change=move |ev| show_info.set(event_target_checked(&ev))/>
                    " show infos"
                </label>
                <label>
                    <input type="checkbox" data-testid="problems-only-selected" prop:checked=move || only_selected.get()
                        on:change=move |ev| only_selected.set(event_target_checked(&ev))/>
                    " selected resource only"
                </label>
            </div>
            <div class="problems-scroll">
                <table>
                    <thead>
                        <tr><th>"Level"</th><th>"Code"</th><th>"Resource"</th><th>"Path"</th><th>"Message"</th><th>"Line"</th></tr>
                    </thead>
                    <tbody>
                        // Keyed: a re-validation only touches the rows that changed.
                        {keyed(visible, |_, p| row_key(p), move |p: Problem| {
                                let cls = level_class(p.diag.level);
                                let (doc, doc_line) = (p.doc, p.diag.line);
                                // Follows the pane when other documents grow or shrink.
                                let pane_line = move || {
                                    ctx.pane_starts.track();
                                    doc.zip(doc_line)
                                        .and_then(|(id, l)| ctx.pane_line(id, l))
                                        .map(|l| l.to_string())
                                        .unwrap_or_default()
                                };
                                let p2 = p.clone();
                                let p3 = p.clone();
                                view! {
                                    <tr
                                        class=format!("problem {cls}")
                                        data-testid="problem"
                                        data-code=p.diag.code.clone()
                                        data-path=p.diag.path.clone()
                                        tabindex="0"
                                        title="Show the field"
                                        on:click=move |_| focus_problem(ctx, &p2)
                                        on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                                            if ev.key() == "Enter" || ev.key() == " " {
                                                ev.prevent_default();
                                                focus_problem(ctx, &p3);
                                            }
                                        }
                                    >
                                        <td><span class=format!("badge {cls}")>{p.diag.level.title()}</span></td>
                                        <td class="code">{p.diag.code.clone()}</td>
                                        <td>{p.diag.resource.clone()}</td>
                                        <td class="mono">{p.diag.path.clone()}</td>
                                        <td>
                                            {p.diag.message.clone()}
                                            {p.hint.map(|h| view! { <div class="hint">"Fix: " {h}</div> })}
                                        </td>
                                        <td>{pane_line}</td>
                                    </tr>
                                }
                                .into_any()
                            })}
                    </tbody>
                </table>
                <Show when=move || visible.with(Vec::is_empty)>
                    <p class="muted" data-testid="no-problems">"No problems."</p>
                </Show>
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::parent_path;

    #[test]
    fn parents() {
        assert_eq!(
            parent_path("spec.http[0].route[1].weight"),
            "spec.http[0].route[1]"
        );
        assert_eq!(parent_path("spec.http[0]"), "spec.http");
        assert_eq!(parent_path("metadata.labels[\"a.b\"]"), "metadata.labels");
        assert_eq!(parent_path("spec"), "");
    }
}
