//! Validation of ServiceEntrys.

use super::Report;
use crate::model::ServiceEntry;

pub(super) fn validate(_spec: &ServiceEntry, _report: &mut Report<'_>) {}
