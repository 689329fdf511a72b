//! Per-resource validation as Istio's validation webhook does it
//! (`pkg/config/validation` in istio/istio): IST0106 (error: Istio rejects the
//! resource) and IST0133 (warning: accepted, but probably not what was meant),
//! plus IST0130/IST0131 for unreachable or ineffective VirtualService rules.
//!
//! Validation never stops at the first problem: it returns all of them, each
//! with the field path (`spec.http[0].route[1].weight`) and line.

pub mod common;
mod destination_rule;
mod gateway;
mod net;
mod service_entry;
mod virtual_service;

use crate::diag::{codes, Diagnostic, Level};
use crate::load::{Resource, Spec};

/// Collects the diagnostics of one resource.
pub struct Report<'a> {
    resource: &'a Resource,
    pub diags: Vec<Diagnostic>,
}

impl<'a> Report<'a> {
    pub fn new(resource: &'a Resource) -> Self {
        Report {
            resource,
            diags: Vec::new(),
        }
    }

    pub fn resource(&self) -> &'a Resource {
        self.resource
    }

    /// IST0106: Istio would reject the resource.
    pub fn error(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.push(codes::IST0106, Level::Error, path, message);
    }

    /// IST0133: Istio accepts it with a warning.
    pub fn warning(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.push(codes::IST0133, Level::Warning, path, message);
    }

    pub fn push(
        &mut self,
        code: &str,
        level: Level,
        path: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.diags
            .push(self.resource.diag(code, level, path, message));
    }
}

/// Every problem with one resource, alone (no cross-resource knowledge).
pub fn validate_resource(r: &Resource) -> Vec<Diagnostic> {
    match &r.spec {
        Spec::Gateway(gw) => {
            let mut report = Report::new(r);
            gateway::validate(gw, &mut report);
            report.diags
        }
        _ => validate_routing_resource(r),
    }
}

/// [`validate_resource`] for the kinds the routing engine reads ([`crate::Kind::is_routing`]:
/// what the Envoy filter loads). Other kinds get no diagnostics here, and their validators
/// are not linked into a build that only calls this.
pub fn validate_routing_resource(r: &Resource) -> Vec<Diagnostic> {
    let mut report = Report::new(r);
    match &r.spec {
        Spec::VirtualService(vs) => virtual_service::validate(vs, &mut report),
        Spec::DestinationRule(dr) => destination_rule::validate(dr, &mut report),
        Spec::ServiceEntry(se) => service_entry::validate(se, &mut report),
        _ => {}
    }
    report.diags
}
