//! The whole check pipeline behind `meshroute analyze` and the editor's live
//! validation: loading diagnostics, per-resource validation (IST0106/IST0133,
//! IST0130/IST0131), cross-resource analyzers (IST codes) and meshroute's
//! production lints (MR codes). Returns every diagnostic, sorted and de-duplicated.

use crate::diag::Diagnostic;
use crate::load::Loaded;

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
