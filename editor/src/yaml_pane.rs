//! The live, editable multi-document YAML pane.
//!
//! The pane shows the workspace as YAML and follows every change made
//! elsewhere. Typing in it re-splits the stream and re-parses only the changed
//! document (through the model); when the text parses it becomes the workspace,
//! when it does not, the errors are shown with line and column and the
//! workspace stays as it was (the forms are locked until the YAML is fixed).

use crate::forms::widgets::Show;
use leptos::html;
use leptos::prelude::*;

use crate::browser;
use crate::state::{split_stream, SyntaxError};
use crate::{ctx, Ctx};

/// Handles a new pane text typed by the user.
pub fn on_pane_text(ctx: Ctx, text: &str) {
    let t0 = browser::now_ms();
    ctx.input_at.set(Some(t0));
    ctx.roundtrip_ms.set(-1.0);
    if let Some(why) = crate::refuse_yaml(text) {
        ctx.pane_errors.set(vec![SyntaxError {
            line: 1,
            col: 1,
            message: format!("The YAML pane cannot take this text: {why}"),
        }]);
        ctx.parse_ms.set(browser::now_ms() - t0);
        return;
    }
    let result = ctx.ws.with_untracked(|w| w.apply_text(text));
    match result {
        Ok(next) => {
            if ctx.pane_errors.with_untracked(|e| !e.is_empty()) {
                ctx.pane_errors.set(Vec::new());
            }
            // Only when a document moved: every problem row's line follows it.
            let starts: Vec<u32> = split_stream(text).iter().map(|(l, _)| *l).collect();
            if ctx.pane_starts.with_untracked(|s| *s != starts) {
                ctx.pane_starts.set(starts);
            }
            let changed = ctx.ws.with_untracked(|w| *w != next);
            if changed {
                ctx.commit(next, Some("yaml-pane"), true);
            }
        }
        Err(errors) => ctx.pane_errors.set(errors),
    }
    ctx.parse_ms.set(browser::now_ms() - t0);
}

/// Refuses a paste larger than the editor takes before it reaches the text
/// area (laying out megabytes of text would freeze the tab).
pub fn refuse_huge_paste(ctx: Ctx, ev: &leptos::ev::ClipboardEvent) {
    let Some(text) = ev
        .clipboard_data()
        .and_then(|d| d.get_data("text/plain").ok())
    else {
        return;
    };
    if text.len() > crate::MAX_YAML_BYTES {
        ev.prevent_default();
        if let Some(why) = crate::refuse_yaml(&text) {
            ctx.warn(format!("Nothing was pasted: {why}."));
        }
    }
}

#[component]
pub fn YamlPane() -> impl IntoView {
    let ctx = ctx();
    let area = NodeRef::<html::Textarea>::new();
    let gutter = NodeRef::<html::Pre>::new();
    // Line count of the text on screen (typing updates it, the app's text too).
    let (lines, set_lines) = signal(ctx.pane_text.with_untracked(|t| t.lines().count().max(1)));
    Effect::new(move |_| {
        let n = ctx.pane_text.with(|t| t.lines().count().max(1));
        if lines.get_untracked() != n {
            set_lines.set(n);
        }
    });
    // Lines with problems get a marker in the gutter.
    let marked = Memo::new(move |_| {
        let mut lines: Vec<(u32, meshroute_model::Level)> = Vec::new();
        ctx.diags.with(|diags| {
            for d in diags.iter() {
                let Some(doc) = crate::state::doc_id_of(d.file.as_deref()) else {
                    continue;
                };
                let Some(line) = d.line else { continue };
                if let Some(l) = ctx.pane_line(doc, line) {
                    lines.push((l, d.level));
                }
            }
        });
        ctx.pane_errors.with(|errs| {
            lines.extend(errs.iter().map(|e| (e.line, meshroute_model::Level::Error)));
        });
        lines.sort();
        lines
    });
    // Line numbers depend on the line count only; the problem marks are a few
    // positioned elements on top, so a changed diagnostic does not re-lay out
    // thousands of gutter lines.
    let gutter_text = move || {
        use std::fmt::Write;
        let n = lines.get();
        let mut out = String::with_capacity(n * 6);
        for i in 1..=n {
            let _ = writeln!(out, " {i:>4}");
        }
        out
    };
    let gutter_marks = move || {
        let mut worst: Vec<(u32, meshroute_model::Level)> = Vec::new();
        for (l, lv) in marked.get() {
            match worst.last_mut() {
                Some((pl, plv)) if *pl == l => *plv = (*plv).min(lv),
                _ => worst.push((l, lv)),
            }
        }
        worst
            .into_iter()
            .map(|(line, level)| {
                let (mark, cls) = match level {
                    meshroute_model::Level::Error => ('●', "mark error"),
                    meshroute_model::Level::Warning => ('▲', "mark warning"),
                    meshroute_model::Level::Info => ('·', "mark info"),
                };
                view! {
                    <span class=cls style=format!("top: calc(6px + {} * 1.5em)", line.saturating_sub(1))>{mark}</span>
                }
            })
            .collect_view()
    };
    // Scroll requests from the problems list.
    Effect::new(move |_| {
        if let Some((line, col, focus)) = ctx.pane_goto.get() {
            if let Some(el) = area.get() {
                browser::select_line(&el, line, col, focus);
                if let Some(g) = gutter.get() {
                    g.set_scroll_top(el.scroll_top());
                }
            }
        }
    });
    view! {
        <section class="yaml-pane" aria-label="YAML">
            <div class="pane-head">
                <label for="yaml-pane">"YAML (all resources, editable)"</label>
                <span class="hint">"Edits apply as you type; syntax errors never overwrite the workspace."</span>
            </div>
            <div class="yaml-wrap">
                <pre class="gutter" aria-hidden="true" node_ref=gutter>{gutter_text}{gutter_marks}</pre>
                <textarea
                    id="yaml-pane"
                    data-testid="yaml-pane"
                    spellcheck="false"
                    autocomplete="off"
                    wrap="off"
                    node_ref=area
                    prop:value=move || ctx.pane_text.get()
                    on:paste=move |ev: leptos::ev::ClipboardEvent| refuse_huge_paste(ctx, &ev)
                    on:input=move |ev| {
                        let text = event_target_value(&ev);
                        let n = text.lines().count().max(1);
                        if lines.get_untracked() != n {
                            set_lines.set(n);
                        }
                        on_pane_text(ctx, &text);
                    }
                    on:scroll=move |_| {
                        if let (Some(a), Some(g)) = (area.get(), gutter.get()) {
                            g.set_scroll_top(a.scroll_top());
                        }
                    }
                ></textarea>
            </div>
            <Show when=move || ctx.pane_errors.with(|e| !e.is_empty())>
                <ul class="yaml-errors" data-testid="yaml-errors" role="alert">
                    {move || {
                        ctx.pane_errors
                            .get()
                            .into_iter()
                            .map(|e| {
                                let (line, col) = (e.line, e.col);
                                view! {
                                    <li>
                                        <button
                                            class="link"
                                            data-testid="yaml-error"
                                            on:click=move |_| ctx.pane_goto.set(Some((line, col, true)))
                                        >
                                            {format!("Line {line}, column {col}: ")}
                                            {e.message.clone()}
                                        </button>
                                    </li>
                                }
                            })
                            .collect_view()
                    }}
                    <li class="muted">"The workspace keeps its last valid version until this is fixed."</li>
                </ul>
            </Show>
        </section>
    }
}
