//! Validation of Gateways.

use super::Report;
use crate::model::Gateway;

pub(super) fn validate(_spec: &Gateway, _report: &mut Report<'_>) {}
