//! The whole check pipeline behind `meshroute analyze` and the editor's live
//! validation: loading diagnostics, per-resource validation (IST0106/IST0133,
//! IST0130/IST0131), cross-resource analyzers (IST codes) and meshroute's
//! production lints (MR codes). Returns every diagnostic, sorted and de-duplicated.

use crate::diag::Diagnostic;
use crate::load::{Document, Loaded};

/// Settings for [`check`].
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// Namespace of resources that do not name one (istioctl's `--namespace`).
    pub default_namespace: String,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            default_namespace: "default".to_owned(),
        }
    }
}

/// Runs every check on `loaded`.
pub fn check(loaded: &Loaded, opts: &CheckOptions) -> Vec<Diagnostic> {
    let mut out = loaded.diagnostics.clone();
    for r in loaded.resources() {
        out.extend(crate::validate::validate_resource(r));
    }
    let ctx = crate::analyze::Context::new(loaded, &opts.default_namespace);
    out.extend(crate::analyze::run(&ctx));
    out.extend(crate::lint::run(&ctx));
    sort_and_dedup(&mut out);
    out
}

/// The part of [`check`] that depends on one loaded input alone: its loading
/// diagnostics and the per-resource validation of each of its resources.
/// Callers that keep one [`Loaded`] per document (the editor) cache this per
/// document and recompute it only for the documents that changed.
pub fn check_local(loaded: &Loaded) -> Vec<Diagnostic> {
    let mut out = loaded.diagnostics.clone();
    for r in loaded.resources() {
        out.extend(crate::validate::validate_resource(r));
    }
    out
}

/// The cross-resource part of [`check`]: analyzers and lints over every
/// document, borrowed (no copy of the workspace). Unsorted.
pub fn check_cross<'a>(
    documents: impl IntoIterator<Item = &'a Document>,
    opts: &'a CheckOptions,
) -> Vec<Diagnostic> {
    let ctx = crate::analyze::Context::from_documents(documents, &opts.default_namespace);
    let mut out = crate::analyze::run(&ctx);
    out.extend(crate::lint::run(&ctx));
    out
}

/// [`check`] over several separately loaded inputs (one per document), with the
/// per-input part supplied by the caller (e.g. from a cache of [`check_local`]):
/// `check_parts(parts)` equals `check` of all the inputs concatenated.
pub fn check_parts<'a>(
    parts: impl IntoIterator<Item = (&'a Loaded, &'a [Diagnostic])> + Clone,
    opts: &'a CheckOptions,
) -> Vec<Diagnostic> {
    let mut out: Vec<Diagnostic> = parts
        .clone()
        .into_iter()
        .flat_map(|(_, local)| local.iter().cloned())
        .collect();
    out.extend(check_cross(
        parts.into_iter().flat_map(|(l, _)| l.documents.iter()),
        opts,
    ));
    sort_and_dedup(&mut out);
    out
}

/// Orders diagnostics by file, line, code and drops exact duplicates.
pub fn sort_and_dedup(diags: &mut Vec<Diagnostic>) {
    diags.sort_by(|a, b| {
        (&a.file, a.line, &a.resource, &a.code, &a.path, &a.message).cmp(&(
            &b.file,
            b.line,
            &b.resource,
            &b.code,
            &b.path,
            &b.message,
        ))
    });
    diags.dedup();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::load_str;

    /// Splitting the input into one `Loaded` per document and checking the parts
    /// gives exactly what `check` gives for the whole stream: on every Istio sample
    /// of the corpus and on a stream with cross-resource problems.
    #[test]
    fn check_parts_equals_check() {
        let mut inputs = vec![
            "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: r\nspec:\n  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews, subset: v9}\n      weight: 90\n---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: r\nspec:\n  host: reviews\n  subsets:\n  - name: v1\n    lables: {version: v1}\n---\nkind: Node\napiVersion: v1\nmetadata: {name: n1}\n".to_owned(),
        ];
        let base = std::env::var_os("MESHROUTE_CORPUS")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| {
                std::path::PathBuf::from(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../../shared/corpus"
                ))
            });
        let dir = base.join("samples");
        if let Ok(rd) = std::fs::read_dir(&dir) {
            let mut files: Vec<_> = rd.flatten().map(|e| e.path()).collect();
            files.sort();
            for f in files {
                if let Ok(t) = std::fs::read_to_string(&f) {
                    inputs.push(t);
                }
            }
        }
        let opts = CheckOptions::default();
        for text in &inputs {
            let whole = load_str(text, Some("f"));
            let want = check(&whole, &opts);
            // One Loaded per document, as the editor keeps them.
            let parts: Vec<Loaded> = whole
                .documents
                .iter()
                .map(|d| Loaded {
                    documents: vec![d.clone()],
                    diagnostics: Vec::new(),
                    unreadable: false,
                })
                .collect();
            let mut locals: Vec<Vec<Diagnostic>> = parts.iter().map(check_local).collect();
            // Loading diagnostics belong to the whole input here; give them to the first part.
            if let Some(first) = locals.first_mut() {
                first.extend(whole.diagnostics.iter().cloned());
            }
            let got = check_parts(parts.iter().zip(locals.iter().map(Vec::as_slice)), &opts);
            assert_eq!(got, want, "{text}");
        }
    }
}
