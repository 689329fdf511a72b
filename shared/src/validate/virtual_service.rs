//! Validation of VirtualServices.

use super::Report;
use crate::model::VirtualService;

pub(super) fn validate(_spec: &VirtualService, _report: &mut Report<'_>) {}
