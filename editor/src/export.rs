//! Toolbar: undo/redo, theme, export (clipboard, download, `kubectl apply`
//! snippet, share link) and import (paste, file picker, drag and drop).
//!
//! Export always goes through the model (`Document::to_value` → YAML), so what
//! is copied is what the model understood, unknown fields included.

use crate::forms::widgets::Show;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::state::Workspace;
use crate::{browser, ctx, share, Ctx};

/// `kubectl apply` of `yaml` as a shell snippet (quoted heredoc: no `$` expansion).
pub fn kubectl_snippet(yaml: &str) -> String {
    let body = if yaml.ends_with('\n') {
        yaml.to_owned()
    } else {
        format!("{yaml}\n")
    };
    format!("kubectl apply -f - <<'EOF'\n{body}EOF\n")
}

/// Shows `text` in the export box and copies it to the clipboard.
fn export(ctx: Ctx, what: &'static str, text: String) {
    ctx.export_text.set(text.clone());
    spawn_local(async move {
        match browser::copy_to_clipboard(&text).await {
            Ok(()) => ctx.say(format!("Copied {what} to the clipboard")),
            Err(e) => ctx.say(format!(
                "Could not copy {what} ({e}); select the text in the export box and copy it"
            )),
        }
    });
}

/// Adds `text` (a YAML stream) to the workspace, or replaces it. Text that is
/// too large, binary, or does not parse is refused with a message and changes
/// nothing: the workspace, the YAML pane and the autosave stay as they were.
/// Returns true when imported.
pub fn import(ctx: Ctx, text: &str, replace: bool) -> bool {
    if let Some(why) = crate::refuse_yaml(text) {
        ctx.warn(format!("Nothing was imported: {why}."));
        return false;
    }
    if ctx.pane_errors.with_untracked(|e| !e.is_empty()) {
        ctx.warn("Nothing was imported: fix the syntax error in the YAML pane first (or undo).");
        return false;
    }
    // Parse the import alone (fresh ids after the workspace's), so errors name its own lines.
    let next_id = ctx.ws.with_untracked(|w| w.next_id);
    let parsed = Workspace {
        docs: Vec::new(),
        next_id,
    }
    .apply_text(text);
    let added = match parsed {
        Ok(added) => added,
        Err(errors) => {
            let first = &errors[0];
            ctx.warn(format!(
                "Nothing was imported: the YAML has {} at line {}, column {}: {}.",
                if errors.len() == 1 {
                    "an error".to_owned()
                } else {
                    format!("{} errors, the first", errors.len())
                },
                first.line,
                first.col,
                first.message
            ));
            return false;
        }
    };
    if added.docs.is_empty() {
        ctx.warn("Nothing was imported: the text holds no YAML document.");
        return false;
    }
    let count = added.docs.len();
    let first = added.docs.first().map(|d| d.id);
    let next = if replace {
        added
    } else {
        let mut next = ctx.ws.get_untracked();
        next.docs.extend(added.docs);
        next.next_id = added.next_id;
        next
    };
    ctx.replace(next);
    ctx.notice.set(None);
    ctx.say(format!("Imported {count} documents"));
    ctx.selected.set(first);
    true
}

fn import_files(ctx: Ctx, files: Vec<web_sys::File>) {
    if files.is_empty() {
        return;
    }
    // Refuse oversized files before reading them.
    let total: f64 = files.iter().map(|f| f.size()).sum();
    if total > crate::MAX_YAML_BYTES as f64 {
        ctx.warn(format!(
            "Nothing was imported: the files are {:.1} MiB; the editor takes at most {} MiB at once.",
            total / (1024.0 * 1024.0),
            crate::MAX_YAML_BYTES / (1024 * 1024)
        ));
        return;
    }
    spawn_local(async move {
        let mut texts = Vec::new();
        for f in files {
            match browser::read_file(f).await {
                Ok(t) => texts.push(t),
                Err(e) => {
                    ctx.warn(format!("Nothing was imported: cannot read the file ({e})."));
                    return;
                }
            }
        }
        if !texts.is_empty() {
            let joined = texts
                .iter()
                .map(|t| t.trim_end_matches('\n'))
                .collect::<Vec<_>>()
                .join("\n---\n");
            import(ctx, &format!("{joined}\n"), false);
        }
    });
}

pub fn on_dragover(ev: leptos::ev::DragEvent) {
    ev.prevent_default();
}

/// Dropped files (or text) are added to the workspace.
pub fn on_drop(ctx: Ctx, ev: leptos::ev::DragEvent) {
    let Some(dt) = ev.data_transfer() else { return };
    ev.prevent_default();
    let files = browser::files_of(dt.files());
    if files.is_empty() {
        if let Ok(text) = dt.get_data("text/plain") {
            if !text.trim().is_empty() {
                import(ctx, &text, false);
            }
        }
    } else {
        import_files(ctx, files);
    }
}

#[component]
pub fn Toolbar() -> impl IntoView {
    let ctx = ctx();
    let import_open = RwSignal::new(false);
    // Uncontrolled: a pasted text is read once, on import (never echoed back).
    let import_area = NodeRef::<leptos::html::Textarea>::new();
    let import_text = move || import_area.get().map(|a| a.value()).unwrap_or_default();
    let clear_import = move || {
        if let Some(a) = import_area.get() {
            a.set_value("");
        }
    };
    let copy_all = move |_| {
        export(
            ctx,
            "the workspace",
            ctx.ws.with_untracked(|w| w.export_yaml()),
        )
    };
    let copy_selected = move |_| {
        let text = ctx.selected.get_untracked().and_then(|id| {
            ctx.ws
                .with_untracked(|w| w.doc(id).map(|d| d.export_yaml()))
        });
        match text {
            Some(t) => export(ctx, "the resource", t),
            None => ctx.say("Select a resource first"),
        }
    };
    let copy_kubectl = move |_| {
        export(
            ctx,
            "the kubectl command",
            kubectl_snippet(&ctx.ws.with_untracked(|w| w.export_yaml())),
        )
    };
    let download = move |_| {
        let yaml = ctx.ws.with_untracked(|w| w.export_yaml());
        ctx.export_text.set(yaml.clone());
        match browser::download("meshroute-workspace.yaml", &yaml) {
            Ok(()) => ctx.say("Downloaded meshroute-workspace.yaml"),
            Err(e) => ctx.say(format!("Download failed: {e}")),
        }
    };
    let share_link = move |_| {
        let text = ctx.ws.with_untracked(|w| w.text());
        let url = format!("{}#{}", browser::page_url(), share::fragment_for(&text));
        export(ctx, "the share link", url);
    };
    view! {
        <div class="actions" role="toolbar" aria-label="Actions">
            <button data-testid="undo" title="Undo (Ctrl+Z)" disabled=move || !ctx.can_undo() on:click=move |_| ctx.undo()>"↶ Undo"</button>
            <button data-testid="redo" title="Redo (Ctrl+Shift+Z)" disabled=move || !ctx.can_redo() on:click=move |_| ctx.redo()>"↷ Redo"</button>
            <span class="sep"></span>
            <button data-testid="copy-all" on:click=copy_all title="Copy every resource as YAML">"Copy all"</button>
            <button data-testid="copy-selected" on:click=copy_selected title="Copy the selected resource as YAML">"Copy selected"</button>
            <button data-testid="copy-kubectl" on:click=copy_kubectl title="Copy as a kubectl apply command">"kubectl apply"</button>
            <button data-testid="download" on:click=download title="Download the workspace as a .yaml file">"Download .yaml"</button>
            <button data-testid="share-link" on:click=share_link title="Copy a link that carries the workspace in its #fragment (never sent to a server)">"Share link"</button>
            <button data-testid="import-toggle" aria-expanded=move || import_open.get().to_string() on:click=move |_| import_open.update(|o| *o = !*o)>"Import…"</button>
            <span class="sep"></span>
            <button
                data-testid="theme-toggle"
                aria-pressed=move || ctx.dark.get().to_string()
                title="Light or dark theme"
                on:click=move |_| ctx.dark.update(|d| *d = !*d)
            >
                {move || if ctx.dark.get() { "☀ Light" } else { "☾ Dark" }.to_owned()}
            </button>
        </div>
        <div class="drawers">
        <Show when=move || import_open.get()>
            <div class="drawer" data-testid="import-panel">
                <label for="import-text">"Paste YAML (one or more documents), pick files, or drop files anywhere on the page"</label>
                <textarea
                    id="import-text"
                    data-testid="import-text"
                    rows="6"
                    spellcheck="false"
                    node_ref=import_area
                    on:paste=move |ev: leptos::ev::ClipboardEvent| crate::yaml_pane::refuse_huge_paste(ctx, &ev)
                ></textarea>
                <div class="row">
                    <button data-testid="import-append" on:click=move |_| {
                        if import(ctx, &import_text(), false) {
                            clear_import();
                        }
                    }>"Add to workspace"</button>
                    <button data-testid="import-replace" on:click=move |_| {
                        if import(ctx, &import_text(), true) {
                            clear_import();
                        }
                    }>"Replace workspace"</button>
                    <label class="file">
                        "Files: "
                        <input
                            type="file"
                            multiple
                            accept=".yaml,.yml,.json,text/yaml,application/json"
                            data-testid="import-file"
                            on:change=move |ev| {
                                use wasm_bindgen::JsCast;
                                let input = ev
                                    .target()
                                    .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok());
                                if let Some(input) = input {
                                    import_files(ctx, browser::files_of(input.files()));
                                    input.set_value("");
                                }
                            }
                        />
                    </label>
                    <button on:click=move |_| import_open.set(false)>"Close"</button>
                </div>
            </div>
        </Show>
        <Show when=move || ctx.export_text.with(|t| !t.is_empty())>
            <div class="drawer">
                <label for="export-text">"Last export (also on the clipboard when the browser allows it)"</label>
                <textarea id="export-text" data-testid="export-text" rows="6" readonly spellcheck="false"
                    prop:value=move || ctx.export_text.get()></textarea>
                <div class="row">
                    <button data-testid="export-close" on:click=move |_| ctx.export_text.set(String::new())>"Close"</button>
                </div>
            </div>
        </Show>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::kubectl_snippet;

    #[test]
    fn kubectl_heredoc() {
        assert_eq!(
            kubectl_snippet("a: $x\n"),
            "kubectl apply -f - <<'EOF'\na: $x\nEOF\n"
        );
        assert_eq!(
            kubectl_snippet("a: 1"),
            "kubectl apply -f - <<'EOF'\na: 1\nEOF\n"
        );
    }
}
