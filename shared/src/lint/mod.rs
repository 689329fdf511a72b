//! meshroute's production lints (MR1xx): problems Istio accepts but operators regret.

use crate::analyze::Context;
use crate::diag::Diagnostic;

/// Runs every lint.
pub fn run(_ctx: &Context<'_>) -> Vec<Diagnostic> {
    Vec::new()
}

/// The fix hint printed under an MR diagnostic, if `code` is one of ours.
pub fn hint_for(_code: &str) -> Option<&'static str> {
    None
}
