//! Labelled, keyboard-usable form controls bound to model fields. Every control
//! has `data-testid="f-<field path>"` and shows the diagnostics reported at its
//! path inline (`data-testid="diag-<field path>"`).

use std::collections::BTreeMap;
use std::sync::Arc;

use leptos::prelude::*;
use meshroute_model::model::StringMatch;

use crate::ctx;
use crate::problems::level_class;
use crate::state::{doc_id_of, DocId};

/// The document the form edits (context for [`FieldDiags`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FormDoc(pub DocId);

/// The diagnostics of the form's document (context for [`FieldDiags`]): filtered
/// once per validation, so each field scans its document's few diagnostics, and
/// fields are not touched at all when the document's diagnostics did not change.
#[derive(Clone, Copy)]
pub struct DocDiags(pub Memo<Vec<meshroute_model::Diagnostic>>);

impl DocDiags {
    pub fn new(id: DocId) -> DocDiags {
        let ctx = ctx();
        DocDiags(Memo::new(move |_| {
            ctx.diags.with(|ds| {
                ds.iter()
                    .filter(|d| doc_id_of(d.file.as_deref()) == Some(id))
                    .cloned()
                    .collect()
            })
        }))
    }
}

/// Diagnostics of the form's document at `path` (and below it when `nested`).
#[component]
pub fn FieldDiags(#[prop(into)] path: String, #[prop(optional)] nested: bool) -> impl IntoView {
    let doc_diags = use_context::<DocDiags>();
    let testid = format!("diag-{path}");
    let items = Memo::new(move |_| {
        let Some(DocDiags(diags)) = doc_diags else {
            return Vec::new();
        };
        diags.with(|ds| {
            ds.iter()
                .filter(|d| {
                    d.path == path
                        || (nested
                            && d.path.len() > path.len()
                            && d.path.starts_with(path.as_str())
                            && matches!(d.path.as_bytes()[path.len()], b'.' | b'['))
                })
                .cloned()
                .collect::<Vec<meshroute_model::Diagnostic>>()
        })
    });
    view! {
        <Show when=move || items.with(|i| !i.is_empty())>
            <ul class="field-diags" data-testid=testid.clone() role="status">
                {keyed(
                    items,
                    |n, d| format!("{n} {:?}", (d.level, &d.code, &d.message)),
                    |d| {
                        view! {
                            <li class=level_class(d.level)>
                                <span class="code">{d.code}</span>
                                " "
                                {d.message}
                            </li>
                        }
                        .into_any()
                    },
                )}
            </ul>
        </Show>
    }
}

/// The rows `0..count`, keyed by index (rows are re-created only when the count
/// changes).
pub fn rows(count: Memo<usize>, row: impl Fn(usize) -> AnyView + Send + Sync + 'static) -> AnyView {
    for_erased(
        Arc::new(move || (0..count.get()).map(|k| (k.to_string(), k)).collect()),
        Arc::new(row),
    )
}

/// A keyed list of `items` (a `<For>`: a change touches only the rows whose key
/// changed; a row keeps the item it was created with). `key` (of the index and the
/// item) must be unique in the list and change when the row must be rebuilt.
pub fn keyed<T: Clone + Send + Sync + 'static>(
    items: Memo<Vec<T>>,
    key: impl Fn(usize, &T) -> String + Send + Sync + 'static,
    row: impl Fn(T) -> AnyView + Send + Sync + 'static,
) -> AnyView {
    for_erased(
        Arc::new(move || {
            items.with(|v| v.iter().enumerate().map(|(n, t)| (key(n, t), n)).collect())
        }),
        // Called by `<For>` right after `each` read the list, for a key it did not
        // have: the item at that index is the one `each` saw.
        Arc::new(move |n| match items.with_untracked(|v| v.get(n).cloned()) {
            Some(t) => row(t),
            None => ().into_any(),
        }),
    )
}

type RowFn = Arc<dyn Fn(usize) -> AnyView + Send + Sync>;
type EachFn = Arc<dyn Fn() -> Vec<(String, usize)> + Send + Sync>;

/// Every list of the editor goes through this one `<For>` (string key, index into
/// the list), so `For` and its keyed diff are instantiated once rather than once
/// per item and key type.
fn for_erased(each: EachFn, row: RowFn) -> AnyView {
    view! { <For each=move || each() key=|(k, _): &(String, usize)| k.clone() children=move |(_, n)| row(n)/> }
        .into_any()
}

/// Leptos' `<Show>` (no fallback) with the condition and children type-erased: every
/// `<Show>` of the editor goes through [`show_erased`], so `Show` and its memo are
/// instantiated once rather than once per use. Imported by name, it shadows the
/// prelude's.
#[component]
pub fn Show<W>(children: ChildrenFn, when: W) -> impl IntoView
where
    W: Fn() -> bool + Send + Sync + 'static,
{
    show_erased(Arc::new(when), children)
}

fn show_erased(when: Arc<dyn Fn() -> bool + Send + Sync>, children: ChildrenFn) -> AnyView {
    view! { <leptos::prelude::Show when=move || when()>{children()}</leptos::prelude::Show> }
        .into_any()
}

/// `Some(trimmed)` unless blank.
pub fn opt_str(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// Parses an optional number: blank is `Ok(None)`, garbage is the parse error.
pub fn opt_num<T: std::str::FromStr>(s: &str) -> Result<Option<T>, T::Err> {
    let t = s.trim();
    if t.is_empty() {
        Ok(None)
    } else {
        t.parse().map(Some)
    }
}

/// `a, b c` → `["a", "b", "c"]`; blank is `None`.
pub fn opt_list(s: &str) -> Option<Vec<String>> {
    let v: Vec<String> = s
        .split([',', ' ', '\n'])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_owned)
        .collect();
    (!v.is_empty()).then_some(v)
}

pub fn list_text(v: Option<&Vec<String>>) -> String {
    v.map(|v| v.join(", ")).unwrap_or_default()
}

/// `k: v` (or `k=v`) lines → map; blank is `None`.
pub fn opt_map(s: &str) -> Option<BTreeMap<String, String>> {
    // Inserted one by one (a later line wins, as with `collect()`), which links no sort.
    let mut m = BTreeMap::new();
    for l in s.lines() {
        let l = l.trim();
        let (k, v) = l
            .split_once(':')
            .or_else(|| l.split_once('='))
            .unwrap_or((l, ""));
        let k = k.trim();
        if !k.is_empty() {
            m.insert(k.to_owned(), v.trim().to_owned());
        }
    }
    (!m.is_empty()).then_some(m)
}

pub fn map_text(m: Option<&BTreeMap<String, String>>) -> String {
    m.map(|m| m.iter().map(|(k, v)| format!("{k}: {v}\n")).collect())
        .unwrap_or_default()
}

/// `None` when `o` holds the default value (drops empty objects from the YAML).
pub fn prune<T: Default + PartialEq>(o: &mut Option<T>) {
    if o.as_ref().is_some_and(|v| *v == T::default()) {
        *o = None;
    }
}

/// Which alternative a [`StringMatch`] uses, and its value.
pub fn match_kind(m: Option<&StringMatch>) -> (&'static str, String) {
    match m {
        None => ("", String::new()),
        Some(m) => {
            if let Some(v) = &m.exact {
                ("exact", v.clone())
            } else if let Some(v) = &m.prefix {
                ("prefix", v.clone())
            } else if let Some(v) = &m.regex {
                ("regex", v.clone())
            } else {
                ("present", String::new())
            }
        }
    }
}

/// A [`StringMatch`] with one alternative (`present` → `{}`), keeping unknown fields.
pub fn make_match(old: Option<&StringMatch>, kind: &str, value: &str) -> StringMatch {
    let mut m = StringMatch {
        extra: old.map(|o| o.extra.clone()).unwrap_or_default(),
        ..Default::default()
    };
    let v = Some(value.to_owned());
    match kind {
        "exact" => m.exact = v,
        "prefix" => m.prefix = v,
        "regex" => m.regex = v,
        _ => {}
    }
    m
}

fn field_id(path: &str) -> String {
    format!("f-{path}")
}

/// A text input.
#[component]
pub fn TextField(
    #[prop(into)] label: String,
    #[prop(into)] path: String,
    value: Getter<String>,
    on_set: Setter<String>,
    #[prop(optional, into)] placeholder: String,
    /// Id of a `<datalist>` with suggestions.
    #[prop(optional, into)]
    list: Option<String>,
    /// Apply on `change` (Enter/blur) instead of every keystroke: for keys of maps,
    /// which would reorder the rows while typing.
    #[prop(optional)]
    on_change_only: bool,
    #[prop(optional, into)] title: String,
) -> impl IntoView {
    let id = field_id(&path);
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input
                id=id.clone()
                data-testid=id
                type="text"
                title=title
                spellcheck="false"
                autocomplete="off"
                placeholder=placeholder
                list=list
                prop:value=move || value()
                on:input={
                    let on_set = on_set.clone();
                    move |ev| {
                        if !on_change_only {
                            on_set(event_target_value(&ev))
                        }
                    }
                }
                on:change=move |ev| {
                    if on_change_only {
                        on_set(event_target_value(&ev))
                    }
                }
            />
            <FieldDiags path=path/>
        </div>
    }
}

/// A number input (the value is text so that blank means "not set").
#[component]
pub fn NumberField(
    #[prop(into)] label: String,
    #[prop(into)] path: String,
    value: Getter<String>,
    on_set: Setter<String>,
    #[prop(optional, into)] min: Option<String>,
    #[prop(optional, into)] max: Option<String>,
    #[prop(optional, into)] step: Option<String>,
    #[prop(optional, into)] placeholder: String,
) -> impl IntoView {
    let id = field_id(&path);
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input
                id=id.clone()
                data-testid=id
                type="number"
                min=min
                max=max
                step=step
                placeholder=placeholder
                prop:value=move || value()
                on:input=move |ev| on_set(event_target_value(&ev))
            />
            <FieldDiags path=path/>
        </div>
    }
}

/// A select; `options` are (value, label); a current value not among them is shown too.
#[component]
pub fn SelectField(
    #[prop(into)] label: String,
    #[prop(into)] path: String,
    value: Getter<String>,
    options: Vec<(String, String)>,
    on_set: Setter<String>,
    /// Testid suffix when the path's testid belongs to another control.
    #[prop(optional, into)]
    testid: Option<String>,
) -> impl IntoView {
    let id = testid.unwrap_or_else(|| field_id(&path));
    let opts = options.clone();
    let (v1, v2) = (value.clone(), value.clone());
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <select
                id=id.clone()
                data-testid=id
                prop:value=move || v1()
                on:change=move |ev| on_set(event_target_value(&ev))
            >
                {options
                    .into_iter()
                    .map(|(v, l)| {
                        let (value, v2) = (value.clone(), v.clone());
                        view! { <option value=v selected=move || value() == v2>{l}</option> }
                    })
                    .collect_view()}
                {move || {
                    let cur = v2();
                    if !cur.is_empty() && !opts.iter().any(|(v, _)| *v == cur) {
                        let label = format!("{cur} (unknown)");
                        view! { <option value=cur selected=true>{label}</option> }.into_any()
                    } else {
                        ().into_any()
                    }
                }}
            </select>
            <FieldDiags path=path/>
        </div>
    }
}

/// A checkbox.
#[component]
pub fn CheckField(
    #[prop(into)] label: String,
    #[prop(into)] path: String,
    /// The current value, read reactively (a plain closure: no `Signal<bool>`).
    value: Getter<bool>,
    on_set: Setter<bool>,
) -> impl IntoView {
    let id = field_id(&path);
    view! {
        <div class="field check">
            <input
                id=id.clone()
                data-testid=id.clone()
                type="checkbox"
                prop:checked=move || value()
                on:change=move |ev| on_set(event_target_checked(&ev))
            />
            <label for=id>{label}</label>
            <FieldDiags path=path/>
        </div>
    }
}

/// A multi-line input applied on `change` (maps and lists written one per line).
#[component]
pub fn AreaField(
    #[prop(into)] label: String,
    #[prop(into)] path: String,
    value: Getter<String>,
    on_set: Setter<String>,
    #[prop(optional, into)] placeholder: String,
) -> impl IntoView {
    let id = field_id(&path);
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <textarea
                id=id.clone()
                data-testid=id
                rows="2"
                spellcheck="false"
                placeholder=placeholder
                prop:value=move || value()
                on:change=move |ev| on_set(event_target_value(&ev))
            ></textarea>
            <FieldDiags path=path nested=true/>
        </div>
    }
}

/// A [`StringMatch`]: how to compare (exact/prefix/regex, or present/absent for
/// headers) and the value. `None` removes the condition.
#[component]
pub fn MatchField(
    #[prop(into)] label: String,
    #[prop(into)] path: String,
    /// The current value, read reactively (a plain closure: no `Signal` type of
    /// its own).
    value: Getter<Option<StringMatch>>,
    on_set: Setter<Option<StringMatch>>,
    /// Offer "present" (`{}`), for headers and query parameters.
    #[prop(optional)]
    presence: bool,
) -> impl IntoView {
    let id = field_id(&path);
    let kind_id = format!("{id}-type");
    let (v1, v2, v3, v4) = (value.clone(), value.clone(), value.clone(), value);
    let kind = Memo::new(move |_| match_kind(v1().as_ref()).0.to_owned());
    let text = Memo::new(move |_| match_kind(v2().as_ref()).1);
    let mut kinds = vec![
        ("exact", "equals"),
        ("prefix", "starts with"),
        ("regex", "matches regex"),
    ];
    if presence {
        kinds.push(("present", "is present"));
    }
    view! {
        <div class="field match-field">
            <label for=id.clone()>{label}</label>
            <select
                data-testid=kind_id.clone()
                aria-label="comparison"
                prop:value=move || kind.get()
                on:change={
                    let on_set = on_set.clone();
                    move |ev| {
                    let k = event_target_value(&ev);
                    let v = text.get_untracked();
                    on_set(Some(make_match(untrack(|| v3()).as_ref(), &k, &v)))
                }}
            >
                {kinds
                    .into_iter()
                    .map(|(k, l)| view! { <option value=k selected=move || kind.with(|c| c == k)>{l}</option> })
                    .collect_view()}
            </select>
            <input
                id=id.clone()
                data-testid=id
                type="text"
                spellcheck="false"
                autocomplete="off"
                disabled=move || kind.with(|k| k == "present")
                prop:value=move || text.get()
                on:input=move |ev| {
                    let v = event_target_value(&ev);
                    let k = kind.get_untracked();
                    on_set(Some(make_match(untrack(|| v4()).as_ref(), if k.is_empty() { "exact" } else { &k }, &v)))
                }
            />
            <FieldDiags path=path nested=true/>
        </div>
    }
}

/// A value read reactively by a widget.
pub type Getter<T> = Arc<dyn Fn() -> T + Send + Sync>;

/// What a widget calls with the new value.
pub type Setter<T> = Arc<dyn Fn(T) + Send + Sync>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing_helpers() {
        assert_eq!(opt_str("  "), None);
        assert_eq!(opt_num::<u32>(""), Ok(None));
        assert_eq!(opt_num::<u32>("12"), Ok(Some(12)));
        assert!(opt_num::<u32>("x").is_err());
        assert_eq!(
            opt_list("a, b c"),
            Some(vec!["a".into(), "b".into(), "c".into()])
        );
        let m = opt_map("app: web\nversion=v1\n\n").unwrap();
        assert_eq!(map_text(Some(&m)), "app: web\nversion: v1\n");
        let mut o = Some(StringMatch::default());
        prune(&mut o);
        assert_eq!(o, None);
        let m = make_match(None, "prefix", "/api");
        assert_eq!(match_kind(Some(&m)), ("prefix", "/api".to_owned()));
        assert_eq!(
            match_kind(Some(&make_match(None, "present", ""))).0,
            "present"
        );
    }
}
