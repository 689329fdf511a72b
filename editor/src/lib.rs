//! meshroute-editor: a Leptos client-side app to build, validate, simulate and
//! export Istio traffic YAML. All model logic (parsing, validation, analyzers,
//! matching, export) comes from `meshroute-model`; this crate is UI.
//!
//! Layout: the workspace sidebar ([`sidebar`]), the selected resource's form
//! ([`forms`]), the request simulator ([`simulator`]) and traffic picture
//! ([`diagram`]) in the centre, the live multi-document YAML pane
//! ([`yaml_pane`]) on the right, problems below ([`problems`]), and
//! templates/import/export/share in the toolbar ([`export`]).
//!
//! State: one [`state::Workspace`] signal is the single source of truth; every
//! change goes through [`Ctx::commit`] (undo history, YAML pane refresh), and a
//! debounced effect re-validates with `meshroute_model::check` and autosaves.
//!
//! Stable `data-testid` attributes are the contract with the browser tests
//! (`tests/editor_smoke.rs`, `tests/editor_e2e.rs`); keep them when restyling.
//! Form fields use `f-<field path>` (e.g. `f-spec.http[0].route[1].weight`) and
//! their inline diagnostics `diag-<field path>`.

pub mod browser;
pub mod diagram;
pub mod export;
pub mod forms;
pub mod problems;
pub mod share;
pub mod sidebar;
pub mod simulator;
pub mod state;
pub mod templates;
pub mod yaml_pane;

use std::sync::Arc;
use std::time::Duration;

use crate::forms::widgets::Show;
use leptos::prelude::*;
use meshroute_model::{CheckOptions, Diagnostic};
use state::{DocId, History, SyntaxError, Workspace};

/// Version shown in the header (the workspace version).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// localStorage key of the autosaved workspace (YAML stream).
pub const STORAGE_KEY: &str = "meshroute.editor.workspace.v1";
/// localStorage key of the theme.
pub const THEME_KEY: &str = "meshroute.editor.theme";
/// Quiet time after the last edit before re-validating, when validation is slow
/// (the last one took more than [`FAST_VALIDATION_MS`]).
pub const DEBOUNCE: Duration = Duration::from_millis(120);
/// Validations faster than this (one frame) run right after each change.
pub const FAST_VALIDATION_MS: f64 = 16.0;
/// Largest YAML the editor accepts at once (import, paste into the pane).
pub const MAX_YAML_BYTES: usize = 2 * 1024 * 1024;

/// `performance.now()` when `mount` started (the wasm module is instantiated).
static BOOT_MS: std::sync::Mutex<f64> = std::sync::Mutex::new(0.0);

/// Mount the editor into `<body>`. Called from `main` in the browser.
pub fn mount() {
    if let Ok(mut b) = BOOT_MS.lock() {
        *b = browser::now_ms();
    }
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}

/// Why `text` cannot be taken as YAML at all (too large, binary), if so.
pub fn refuse_yaml(text: &str) -> Option<String> {
    if text.len() > MAX_YAML_BYTES {
        return Some(format!(
            "it is {:.1} MiB; the editor takes at most {} MiB at once",
            text.len() as f64 / (1024.0 * 1024.0),
            MAX_YAML_BYTES / (1024 * 1024)
        ));
    }
    // YAML allows no C0 control characters but tab and line breaks; U+FFFD is
    // what the browser puts in place of bytes that are not UTF-8.
    if let Some((i, c)) = text.char_indices().find(|(_, c)| {
        (c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{85}')) || *c == '\u{fffd}'
    }) {
        return Some(format!(
            "it is not a text file (binary data: {} at byte {i})",
            if c == '\u{fffd}' {
                "bytes that are not UTF-8".to_owned()
            } else {
                format!("control character U+{:04X}", u32::from(c))
            }
        ));
    }
    None
}

/// The centre panel's tabs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    Form,
    Simulator,
    Diagram,
}

/// Everything the panels share, provided as context by [`App`].
#[derive(Clone, Copy)]
pub struct Ctx {
    /// The single source of truth.
    pub ws: RwSignal<Workspace>,
    history: StoredValue<History>,
    /// Bumped when undo/redo availability may have changed.
    pub history_rev: RwSignal<u32>,
    /// The YAML pane's content as last set by the app (typing does not set it).
    pub pane_text: RwSignal<String>,
    /// First pane line of each document (parallel to `ws.docs`).
    pub pane_starts: RwSignal<Vec<u32>>,
    /// Syntax errors of the pane text; non-empty means the pane and the workspace differ.
    pub pane_errors: RwSignal<Vec<SyntaxError>>,
    pub selected: RwSignal<Option<DocId>>,
    pub tab: RwSignal<Tab>,
    /// The last validation of the workspace.
    pub diags: RwSignal<Arc<Vec<Diagnostic>>>,
    /// Incremented by every change of the workspace.
    pub ws_rev: RwSignal<u64>,
    /// The `ws_rev` the last validation saw (equal to `ws_rev` once validation caught up).
    pub validation_rev: RwSignal<u64>,
    /// Milliseconds of the last validation (`check` of the whole workspace).
    pub validate_ms: RwSignal<f64>,
    /// Milliseconds to split and re-parse the YAML pane on the last keystroke.
    pub parse_ms: RwSignal<f64>,
    /// `performance.now()` of the last keystroke in the YAML pane.
    pub input_at: RwSignal<Option<f64>>,
    /// Milliseconds from that keystroke to its problems on screen (debounce included).
    pub roundtrip_ms: RwSignal<f64>,
    /// `performance.now()` when the app became interactive.
    pub ready_ms: RwSignal<Option<f64>>,
    /// `performance.now()` when the wasm module started (`mount`).
    pub boot_ms: RwSignal<f64>,
    /// Milliseconds to build the initial workspace (restore/parse) before the first render.
    pub restore_ms: RwSignal<f64>,
    /// Milliseconds from the end of the last validation to the next frame
    /// (problems, sidebar badges, inline diagnostics updated).
    pub render_ms: RwSignal<f64>,
    /// A problem the user must see (failed import, unusable share link), until dismissed.
    pub notice: RwSignal<Option<String>>,
    pub dark: RwSignal<bool>,
    /// One-line status for the user (copied, imported, …).
    pub status: RwSignal<String>,
    /// The text of the last export (also shown for copying by hand).
    pub export_text: RwSignal<String>,
    /// A request to scroll the YAML pane: (line, column, focus).
    pub pane_goto: RwSignal<Option<(u32, u32, bool)>>,
    /// The simulator's request.
    pub sim: simulator::SimInputs,
}

/// The app context.
pub fn ctx() -> Ctx {
    expect_context::<Ctx>()
}

impl Ctx {
    fn new(initial: Workspace, pane_text: String, pane_errors: Vec<SyntaxError>) -> Ctx {
        let starts = initial.starts();
        let selected = initial.docs.first().map(|d| d.id);
        Ctx {
            ws: RwSignal::new(initial),
            history: StoredValue::new(History::default()),
            history_rev: RwSignal::new(0),
            pane_text: RwSignal::new(pane_text),
            pane_starts: RwSignal::new(starts),
            pane_errors: RwSignal::new(pane_errors),
            selected: RwSignal::new(selected),
            tab: RwSignal::new(Tab::Form),
            diags: RwSignal::new(Arc::new(Vec::new())),
            ws_rev: RwSignal::new(0),
            validation_rev: RwSignal::new(0),
            validate_ms: RwSignal::new(0.0),
            parse_ms: RwSignal::new(0.0),
            input_at: RwSignal::new(None),
            roundtrip_ms: RwSignal::new(0.0),
            ready_ms: RwSignal::new(None),
            boot_ms: RwSignal::new(BOOT_MS.lock().map(|b| *b).unwrap_or(0.0)),
            restore_ms: RwSignal::new(0.0),
            render_ms: RwSignal::new(0.0),
            notice: RwSignal::new(None),
            dark: RwSignal::new(false),
            status: RwSignal::new(String::new()),
            export_text: RwSignal::new(String::new()),
            pane_goto: RwSignal::new(None),
            sim: simulator::SimInputs::new(),
        }
    }

    /// Makes `next` the workspace. `key` names the edit for undo coalescing
    /// (typing into one field is one undo step); `from_pane` is true when the
    /// YAML pane produced it (the pane keeps the user's text then).
    pub fn commit(&self, next: Workspace, key: Option<&str>, from_pane: bool) {
        let now = browser::now_ms();
        // `!action` keys name discrete actions: never merged with the previous step.
        let key = key.filter(|k| !k.starts_with('!'));
        self.ws.with_untracked(|cur| {
            self.history.update_value(|h| h.record(cur, key, now));
        });
        if !from_pane {
            let (text, starts) = next.text_and_starts();
            self.pane_text.set(text);
            self.pane_starts.set(starts);
            self.pane_errors.set(Vec::new());
        }
        if let Some(sel) = self.selected.get_untracked() {
            if next.doc(sel).is_none() {
                self.selected.set(next.docs.first().map(|d| d.id));
            }
        }
        self.ws.set(next);
        self.ws_rev.update(|n| *n += 1);
        self.history_rev.update(|n| *n += 1);
    }

    /// Applies `f` to a copy of the workspace and commits it if `f` returns true.
    /// Refused while the YAML pane has a syntax error (its text would be lost).
    pub fn edit(&self, key: &str, f: impl FnOnce(&mut Workspace) -> bool) {
        if self.pane_errors.with_untracked(|e| !e.is_empty()) {
            self.say("Fix the YAML syntax error first (or undo): the YAML pane holds unsaved text");
            return;
        }
        let mut next = self.ws.get_untracked();
        if f(&mut next) {
            self.commit(next, Some(key), false);
        }
    }

    /// Replaces the workspace (import, restore): a fresh undo step.
    pub fn replace(&self, next: Workspace) {
        self.commit(next, None, false);
    }

    pub fn undo(&self) {
        let cur = self.ws.get_untracked();
        if let Some(prev) = self.history.try_update_value(|h| h.undo(&cur)).flatten() {
            self.set_without_history(prev);
        }
    }

    pub fn redo(&self) {
        let cur = self.ws.get_untracked();
        if let Some(next) = self.history.try_update_value(|h| h.redo(&cur)).flatten() {
            self.set_without_history(next);
        }
    }

    fn set_without_history(&self, ws: Workspace) {
        let (text, starts) = ws.text_and_starts();
        self.pane_text.set(text);
        self.pane_starts.set(starts);
        self.pane_errors.set(Vec::new());
        if let Some(sel) = self.selected.get_untracked() {
            if ws.doc(sel).is_none() {
                self.selected.set(ws.docs.first().map(|d| d.id));
            }
        }
        self.ws.set(ws);
        self.ws_rev.update(|n| *n += 1);
        self.history_rev.update(|n| *n += 1);
    }

    pub fn can_undo(&self) -> bool {
        self.history_rev.track();
        self.history.with_value(History::can_undo)
    }

    pub fn can_redo(&self) -> bool {
        self.history_rev.track();
        self.history.with_value(History::can_redo)
    }

    /// The pane line of `line` (1-based, inside document `doc`).
    pub fn pane_line(&self, doc: DocId, line: u32) -> Option<u32> {
        let i = self.ws.with_untracked(|w| w.index_of(doc))?;
        let start = self.pane_starts.with_untracked(|s| s.get(i).copied())?;
        Some(start + line.max(1) - 1)
    }

    pub fn say(&self, msg: impl Into<String>) {
        self.status.set(msg.into());
    }

    /// Tells the user something went wrong (banner until dismissed, and the status line).
    pub fn warn(&self, msg: impl Into<String>) {
        let msg = msg.into();
        self.status.set(msg.clone());
        self.notice.set(Some(msg));
    }
}

/// What to show at start: a shared link's workspace, else the autosaved one,
/// else the header-routing template (so every panel has something to show).
/// A link that cannot be loaded (damaged, too large, not YAML) is refused with a
/// message and changes nothing: the autosaved workspace is shown and kept.
fn initial_workspace() -> (
    Workspace,
    String,
    Vec<SyntaxError>,
    &'static str,
    Option<String>,
) {
    let mut warning = None;
    let hash = browser::location_hash();
    let shared = share::from_fragment(&hash);
    if shared != share::Shared::None {
        // Later reloads restore the autosave, not the link.
        browser::replace_hash("");
    }
    match shared {
        share::Shared::Yaml(yaml) => {
            let refused =
                refuse_yaml(&yaml).or_else(|| match Workspace::default().apply_text(&yaml) {
                    Ok(_) => None,
                    Err(errs) => errs.first().map(|e| {
                        format!(
                            "its YAML has a syntax error (line {}, column {}: {})",
                            e.line, e.col, e.message
                        )
                    }),
                });
            match refused {
                None => {
                    if let Ok(ws) = Workspace::default().apply_text(&yaml) {
                        return (ws, yaml, Vec::new(), "shared link", None);
                    }
                }
                Some(why) => warning = Some(format!("The shared link was not opened: {why}.")),
            }
        }
        share::Shared::Bad(why) => {
            warning = Some(format!("The shared link was not opened: {why}."))
        }
        share::Shared::None => {}
    }
    let (text, origin) = match browser::load(STORAGE_KEY) {
        Some(saved) => (saved, "autosave"),
        None => {
            let t = templates::by_id("header-routing").unwrap_or(&templates::ALL[0]);
            (t.text(true), "starter")
        }
    };
    match Workspace::default().apply_text(&text) {
        Ok(ws) => (ws, text, Vec::new(), origin, warning),
        Err(errors) => (Workspace::default(), text, errors, origin, warning),
    }
}

/// Re-validates and autosaves after every workspace change: right away while
/// validation fits in a frame (it is incremental, see `Workspace::validate`),
/// debounced by [`DEBOUNCE`] when the last one took longer.
fn start_validation(ctx: Ctx) {
    let pending = StoredValue::new(None::<TimeoutHandle>);
    Effect::new(move |_| {
        ctx.ws.track();
        if let Some(h) = pending.get_value() {
            h.clear();
        }
        // The first validation waits for the first frame (interactive first).
        let first = ctx.ready_ms.get_untracked().is_none();
        let delay = if !first && ctx.validate_ms.get_untracked() <= FAST_VALIDATION_MS {
            Duration::ZERO
        } else {
            DEBOUNCE
        };
        let handle = set_timeout_with_handle(move || validate_now(ctx), delay).ok();
        pending.set_value(handle);
    });
}

/// Validates the workspace now and records the timing.
pub fn validate_now(ctx: Ctx) {
    let rev = ctx.ws_rev.get_untracked();
    let t0 = browser::now_ms();
    let diags = ctx
        .ws
        .with_untracked(|ws| ws.validate(&CheckOptions::default()));
    let t1 = browser::now_ms();
    // Unchanged problems (typing in a comment, a value that stays valid): no
    // re-render at all.
    if ctx.diags.with_untracked(|d| **d != diags) {
        ctx.diags.set(Arc::new(diags));
    }
    ctx.validate_ms.set(t1 - t0);
    ctx.validation_rev.set(rev);
    let input_at = ctx.input_at.get_untracked();
    ctx.input_at.set(None);
    // The next frame: the problems list, badges and inline diagnostics are updated.
    request_animation_frame(move || {
        let now = browser::now_ms();
        ctx.render_ms.set(now - t1);
        if let Some(t) = input_at {
            ctx.roundtrip_ms.set(now - t);
        }
    });
    let text = ctx.ws.with_untracked(Workspace::text);
    if !browser::save(STORAGE_KEY, &text) {
        ctx.say("Could not autosave the workspace (browser storage full or disabled)");
    }
}

/// Root component.
#[component]
pub fn App() -> impl IntoView {
    let t0 = browser::now_ms();
    let (ws, text, errors, origin, warning) = initial_workspace();
    let ctx = Ctx::new(ws, text, errors);
    ctx.restore_ms.set(browser::now_ms() - t0);
    provide_context(ctx);
    provide_context(problems::Placed(problems::placed(ctx)));
    ctx.say(format!("Loaded the {origin} workspace"));
    if let Some(w) = warning {
        ctx.warn(w);
    }
    if browser::load(THEME_KEY).as_deref() == Some("dark") {
        ctx.dark.set(true);
    }
    Effect::new(move |_| {
        let dark = ctx.dark.get();
        browser::apply_theme(if dark { "dark" } else { "light" });
        browser::save(THEME_KEY, if dark { "dark" } else { "light" });
    });
    start_validation(ctx);
    // Undo/redo shortcuts outside text fields (which keep their own undo).
    let keys = window_event_listener(leptos::ev::keydown, move |ev| {
        let in_text = ev
            .target()
            .and_then(|t| {
                use wasm_bindgen::JsCast;
                t.dyn_into::<web_sys::Element>().ok()
            })
            .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
        if in_text || !(ev.ctrl_key() || ev.meta_key()) {
            return;
        }
        match ev.key().as_str() {
            "z" if !ev.shift_key() => {
                ev.prevent_default();
                ctx.undo();
            }
            "y" | "Z" => {
                ev.prevent_default();
                ctx.redo();
            }
            _ => {}
        }
    });
    on_cleanup(move || keys.remove());
    // Interactive once the first render is in the DOM.
    request_animation_frame(move || ctx.ready_ms.set(Some(browser::now_ms())));

    view! {
        <div class="app" on:dragover=export::on_dragover on:drop=move |ev| export::on_drop(ctx, ev)>
            <header class="toolbar">
                <h1 data-testid="app-title">"meshroute editor"</h1>
                <small data-testid="app-version">{format!("v{VERSION}")}</small>
                <export::Toolbar/>
            </header>
            <Show when=move || ctx.notice.with(Option::is_some)>
                <div class="banner error notice" role="alert" data-testid="notice">
                    <span data-testid="notice-text">{move || ctx.notice.get().unwrap_or_default()}</span>
                    <button class="link" data-testid="notice-close" on:click=move |_| ctx.notice.set(None)>"Dismiss"</button>
                </div>
            </Show>
            <div class="main">
                <sidebar::Sidebar/>
                <section class="centre" aria-label="Editor">
                    <CentreTabs/>
                </section>
                <yaml_pane::YamlPane/>
            </div>
            <problems::Problems/>
            <StatusBar/>
        </div>
    }
}

#[component]
fn CentreTabs() -> impl IntoView {
    let ctx = ctx();
    let tab_button = move |tab: Tab, label: &'static str, testid: &'static str| {
        view! {
            <button
                role="tab"
                data-testid=testid
                aria-selected=move || (ctx.tab.get() == tab).to_string()
                class:active=move || ctx.tab.get() == tab
                on:click=move |_| ctx.tab.set(tab)
            >
                {label}
            </button>
        }
    };
    view! {
        <div class="tabs" role="tablist">
            {tab_button(Tab::Form, "Form", "tab-form")}
            {tab_button(Tab::Simulator, "Simulate", "tab-simulator")}
            {tab_button(Tab::Diagram, "Traffic picture", "tab-diagram")}
        </div>
        <div class="tab-body">
            {move || match ctx.tab.get() {
                Tab::Form => view! { <forms::FormPanel/> }.into_any(),
                Tab::Simulator => view! { <simulator::Simulator/> }.into_any(),
                Tab::Diagram => view! { <diagram::Diagram/> }.into_any(),
            }}
        </div>
    }
}

/// Status line: messages and timings (also read by the browser tests).
#[component]
fn StatusBar() -> impl IntoView {
    let ctx = ctx();
    view! {
        <footer class="statusbar">
            <span data-testid="status" role="status" aria-live="polite">{move || ctx.status.get()}</span>
            <span class="spacer"></span>
            <span class="perf" title="Time to split and re-parse the YAML pane on the last keystroke">
                "parse " <span data-testid="perf-parse-ms">{move || format!("{:.1}", ctx.parse_ms.get())}</span> " ms"
            </span>
            <span class="perf" title="Time of the last validation (meshroute_model::check on the whole workspace)">
                "validate " <span data-testid="perf-validate-ms">{move || format!("{:.1}", ctx.validate_ms.get())}</span> " ms"
            </span>
            <span class="perf" title="From the last keystroke in the YAML pane to its problems on screen (including the debounce when validation is slow)">
                "keystroke→problems " <span data-testid="perf-roundtrip-ms">{move || format!("{:.0}", ctx.roundtrip_ms.get())}</span> " ms"
            </span>
            <span class="perf" title="From the end of the last validation to the next frame (problems, badges, inline diagnostics updated)">
                "render " <span data-testid="perf-render-ms">{move || format!("{:.1}", ctx.render_ms.get())}</span> " ms"
            </span>
            <span class="perf" title="From navigation to interactive">
                "ready " <span data-testid="perf-ready-ms">{move || ctx.ready_ms.get().map(|t| format!("{t:.0}")).unwrap_or_default()}</span> " ms"
            </span>
            <span hidden data-testid="perf-boot-ms">{move || format!("{:.1}", ctx.boot_ms.get())}</span>
            <span hidden data-testid="perf-restore-ms">{move || format!("{:.1}", ctx.restore_ms.get())}</span>
            <span hidden data-testid="ws-rev">{move || ctx.ws_rev.get().to_string()}</span>
            <span hidden data-testid="validation-rev">{move || ctx.validation_rev.get().to_string()}</span>
        </footer>
    }
}
