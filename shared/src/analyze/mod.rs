//! Cross-resource analyzers with Istio's codes (`istioctl analyze`).

use crate::diag::Diagnostic;
use crate::load::{Kind, Loaded, Resource};

/// What every analyzer and lint sees: all resources, with their effective namespace.
pub struct Context<'a> {
    pub loaded: &'a Loaded,
    /// Namespace of resources that do not name one.
    pub default_namespace: &'a str,
    pub resources: Vec<&'a Resource>,
}

impl<'a> Context<'a> {
    pub fn new(loaded: &'a Loaded, default_namespace: &'a str) -> Self {
        Context {
            loaded,
            default_namespace,
            resources: loaded.resources().collect(),
        }
    }

    /// Resources of one kind, in input order.
    pub fn of_kind(&self, kind: Kind) -> impl Iterator<Item = &'a Resource> + '_ {
        self.resources.iter().copied().filter(move |r| r.kind == kind)
    }

    /// The effective namespace of `r`.
    pub fn namespace_of(&self, r: &'a Resource) -> &'a str {
        r.namespace().unwrap_or(self.default_namespace)
    }
}

/// Runs every analyzer.
pub fn run(_ctx: &Context<'_>) -> Vec<Diagnostic> {
    Vec::new()
}
