//! Thin wrappers over the browser APIs the editor uses: clock, localStorage,
//! URL fragment, clipboard, downloads, files, focus. Nothing here sends data
//! anywhere: the workspace only leaves the page through the user's clipboard,
//! a download, or the fragment of a link the user copies.

use wasm_bindgen::{JsCast, JsValue};

fn window() -> Option<web_sys::Window> {
    web_sys::window()
}

/// Milliseconds since navigation started (`performance.now()`).
pub fn now_ms() -> f64 {
    window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or(0.0)
}

fn storage() -> Option<web_sys::Storage> {
    window()?.local_storage().ok()?
}

/// `localStorage[key]`.
pub fn load(key: &str) -> Option<String> {
    storage()?.get_item(key).ok()?
}

/// Sets `localStorage[key]`; false when storage is unavailable or full.
pub fn save(key: &str, value: &str) -> bool {
    storage().is_some_and(|s| s.set_item(key, value).is_ok())
}

/// The URL fragment, with its `#`.
pub fn location_hash() -> String {
    window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default()
}

/// The page URL without fragment.
pub fn page_url() -> String {
    let href = window()
        .and_then(|w| w.location().href().ok())
        .unwrap_or_default();
    match href.split_once('#') {
        Some((base, _)) => base.to_owned(),
        None => href,
    }
}

/// Replaces the URL fragment without adding a history entry or scrolling.
pub fn replace_hash(fragment: &str) {
    let Some(w) = window() else { return };
    let Ok(history) = w.history() else { return };
    let url = if fragment.is_empty() {
        page_url()
    } else {
        format!("#{fragment}")
    };
    let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&url));
}

fn js_error(e: JsValue) -> String {
    e.as_string()
        .or_else(|| {
            e.dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
        })
        .unwrap_or_else(|| format!("{e:?}"))
}

/// Writes `text` to the clipboard (async Clipboard API, then the legacy
/// `execCommand("copy")` when the page is not allowed to).
pub async fn copy_to_clipboard(text: &str) -> Result<(), String> {
    let Some(w) = window() else {
        return Err("no window".into());
    };
    let clipboard = w.navigator().clipboard();
    let promise = if JsValue::from(clipboard.clone()).is_undefined() {
        None
    } else {
        Some(clipboard.write_text(text))
    };
    let first = match promise {
        Some(p) => wasm_bindgen_futures::JsFuture::from(p)
            .await
            .map(|_| ())
            .map_err(js_error),
        None => Err("Clipboard API unavailable".into()),
    };
    match first {
        Ok(()) => Ok(()),
        Err(e) => legacy_copy(text).map_err(|e2| format!("{e}; {e2}")),
    }
}

fn legacy_copy(text: &str) -> Result<(), String> {
    let doc = window().and_then(|w| w.document()).ok_or("no document")?;
    let area: web_sys::HtmlTextAreaElement = doc
        .create_element("textarea")
        .map_err(js_error)?
        .dyn_into()
        .map_err(|_| "not a textarea")?;
    area.set_value(text);
    let body = doc.body().ok_or("no body")?;
    body.append_child(&area).map_err(js_error)?;
    area.select();
    let html: &web_sys::HtmlDocument = doc.unchecked_ref();
    let ok = html.exec_command("copy").unwrap_or(false);
    area.remove();
    if ok {
        Ok(())
    } else {
        Err("copy command refused".into())
    }
}

/// Offers `text` as a file download named `filename`.
pub fn download(filename: &str, text: &str) -> Result<(), String> {
    let doc = window().and_then(|w| w.document()).ok_or("no document")?;
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let bag = web_sys::BlobPropertyBag::new();
    bag.set_type("application/yaml");
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &bag).map_err(js_error)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(js_error)?;
    let a: web_sys::HtmlAnchorElement = doc
        .create_element("a")
        .map_err(js_error)?
        .dyn_into()
        .map_err(|_| "not an anchor")?;
    a.set_href(&url);
    a.set_download(filename);
    a.click();
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}

/// The text of a file the user picked or dropped.
pub async fn read_file(file: web_sys::File) -> Result<String, String> {
    let v = wasm_bindgen_futures::JsFuture::from(file.text())
        .await
        .map_err(js_error)?;
    v.as_string().ok_or_else(|| "not text".into())
}

/// Files of a `FileList` (input or drop).
pub fn files_of(list: Option<web_sys::FileList>) -> Vec<web_sys::File> {
    let Some(list) = list else { return Vec::new() };
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}

fn element_by_testid(testid: &str) -> Option<web_sys::HtmlElement> {
    let doc = window()?.document()?;
    let sel = format!(
        "[data-testid=\"{}\"]",
        testid.replace('\\', "\\\\").replace('"', "\\\"")
    );
    doc.query_selector(&sel).ok()??.dyn_into().ok()
}

/// Focuses the element with `data-testid` = `testid` and scrolls it into view.
pub fn focus_testid(testid: &str) -> bool {
    let Some(el) = element_by_testid(testid) else {
        return false;
    };
    let opts = web_sys::ScrollIntoViewOptions::new();
    opts.set_block(web_sys::ScrollLogicalPosition::Center);
    el.scroll_into_view_with_scroll_into_view_options(&opts);
    el.focus().is_ok()
}

/// Selects line `line` (1-based) of a textarea, scrolls to it, and focuses it if asked.
pub fn select_line(area: &web_sys::HtmlTextAreaElement, line: u32, col: u32, focus: bool) {
    let text = area.value();
    let mut start = 0usize;
    for (cur, l) in (1u32..).zip(text.split_inclusive('\n')) {
        if cur == line {
            break;
        }
        start += l.len();
    }
    let line_text = text[start.min(text.len())..]
        .split('\n')
        .next()
        .unwrap_or("");
    let end = start + line_text.len();
    // Textarea offsets count UTF-16 code units.
    let u16_at = |byte: usize| text[..byte.min(text.len())].encode_utf16().count() as u32;
    let col_off = line_text
        .char_indices()
        .nth(col.saturating_sub(1) as usize)
        .map(|(i, _)| i)
        .unwrap_or(0);
    let (s, e) = if col > 1 {
        (u16_at(start + col_off), u16_at(end))
    } else {
        (u16_at(start), u16_at(end))
    };
    if focus {
        let _ = area.focus();
    }
    let _ = area.set_selection_range(s, e);
    let lines = text.matches('\n').count().max(1) as f64;
    let per_line = f64::from(area.scroll_height()) / (lines + 1.0);
    let target =
        (f64::from(line.saturating_sub(1)) * per_line) - f64::from(area.client_height()) / 3.0;
    area.set_scroll_top(target.max(0.0) as i32);
}

/// Sets `data-theme` on `<html>`.
pub fn apply_theme(theme: &str) {
    if let Some(el) = window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = el.set_attribute("data-theme", theme);
    }
}
