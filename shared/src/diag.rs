//! Diagnostics: what every check in meshroute reports.
//!
//! A [`Diagnostic`] names the resource (`"Kind namespace/name"`), the field path
//! (`spec.http[0].route[1].weight`), and where known the file and line. The JSON
//! form is exactly `{code, level, resource, path, message, file, line}`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Severity, as `istioctl analyze` prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
    Warning,
    Info,
}

impl Level {
    /// `Error`, `Warning` or `Info`, as in istioctl's text output.
    pub fn title(self) -> &'static str {
        match self {
            Level::Error => "Error",
            Level::Warning => "Warning",
            Level::Info => "Info",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.title())
    }
}

/// One finding about the input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// Istio's code (`IST0101`) or one of ours (`MR101`, `MR0xx` for loading).
    pub code: String,
    pub level: Level,
    /// `"Kind namespace/name"`, or `"Kind name"` when the input gives no namespace;
    /// empty for problems that belong to no resource (e.g. a YAML syntax error).
    pub resource: String,
    /// Field path inside the resource, e.g. `spec.http[0].route[1].weight`; empty for the whole resource.
    pub path: String,
    pub message: String,
    pub file: Option<String>,
    pub line: Option<u32>,
}

impl Diagnostic {
    pub fn new(code: impl Into<String>, level: Level, message: impl Into<String>) -> Self {
        Diagnostic {
            code: code.into(),
            level,
            resource: String::new(),
            path: String::new(),
            message: message.into(),
            file: None,
            line: None,
        }
    }
    pub fn error(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(code, Level::Error, message)
    }
    pub fn warning(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(code, Level::Warning, message)
    }
    pub fn info(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(code, Level::Info, message)
    }
    pub fn with_resource(mut self, resource: impl Into<String>) -> Self {
        self.resource = resource.into();
        self
    }
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }
    pub fn at(mut self, file: Option<&str>, line: Option<u32>) -> Self {
        self.file = file.map(str::to_owned);
        self.line = line;
        self
    }
    pub fn is_error(&self) -> bool {
        self.level == Level::Error
    }
}

impl fmt::Display for Diagnostic {
    /// istioctl style: `Error [IST0101] (VirtualService default/reviews reviews.yaml:12) message`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}]", self.level, self.code)?;
        let mut loc = String::new();
        if !self.resource.is_empty() {
            loc.push_str(&self.resource);
        }
        if let Some(file) = &self.file {
            if !loc.is_empty() {
                loc.push(' ');
            }
            loc.push_str(file);
            if let Some(line) = self.line {
                loc.push(':');
                loc.push_str(&line.to_string());
            }
        }
        if !loc.is_empty() {
            write!(f, " ({loc})")?;
        }
        if !self.path.is_empty() {
            write!(f, " {}:", self.path)?;
        }
        write!(f, " {}", self.message)
    }
}

/// The codes meshroute reports, with Istio's names for the IST ones.
pub mod codes {
    /// ReferencedResourceNotFound
    pub const IST0101: &str = "IST0101";
    /// SchemaValidationError
    pub const IST0106: &str = "IST0106";
    /// ConflictingMeshGatewayVirtualServiceHosts
    pub const IST0109: &str = "IST0109";
    /// VirtualServiceDestinationPortSelectorRequired
    pub const IST0112: &str = "IST0112";
    /// NoServerCertificateVerificationDestinationLevel
    pub const IST0128: &str = "IST0128";
    /// NoServerCertificateVerificationPortLevel
    pub const IST0129: &str = "IST0129";
    /// VirtualServiceUnreachableRule
    pub const IST0130: &str = "IST0130";
    /// VirtualServiceIneffectiveMatch
    pub const IST0131: &str = "IST0131";
    /// VirtualServiceHostNotFoundInGateway
    pub const IST0132: &str = "IST0132";
    /// SchemaWarning
    pub const IST0133: &str = "IST0133";
    /// GatewayDuplicateCertificate
    pub const IST0138: &str = "IST0138";
    /// IngressRouteRulesNotAffected
    pub const IST0140: &str = "IST0140";
    /// ConflictingGateways
    pub const IST0145: &str = "IST0145";
    /// GatewayPortNotDefinedOnService
    pub const IST0162: &str = "IST0162";
    /// DestinationRuleSubsetNotSelectPods
    pub const IST0173: &str = "IST0173";
    /// UnknownDestinationRuleHost
    pub const IST0174: &str = "IST0174";

    /// YAML/JSON syntax error (file, line, column).
    pub const MR001: &str = "MR001";
    /// Resource kind meshroute does not model: skipped.
    pub const MR002: &str = "MR002";
    /// Field meshroute does not know: kept on export, not checked.
    pub const MR003: &str = "MR003";
    /// Document is not a Kubernetes object (no apiVersion/kind) or has the wrong shape.
    pub const MR004: &str = "MR004";
    /// Input could not be read (I/O error, not UTF-8, too large).
    pub const MR005: &str = "MR005";

    // ---- Production lints (MR1xx), owned by crate::lint; see docs/diagnostics.md ----
    /// No catch-all HTTP rule: unmatched requests get 404 NR.
    pub const MR101: &str = "MR101";
    /// Subset defined elsewhere but missing from the DestinationRule of the VirtualService's namespace.
    pub const MR102: &str = "MR102";
    /// Route weights do not sum to 100 (Envoy normalizes them).
    pub const MR103: &str = "MR103";
    /// Route timeout shorter than perTryTimeout × (attempts + 1).
    pub const MR104: &str = "MR104";
    /// Retries on 5xx/gateway-error/reset for a rule matching POST/PATCH.
    pub const MR105: &str = "MR105";
    /// Retries on 5xx/gateway-error/reset for a rule not restricting the method.
    pub const MR106: &str = "MR106";
    /// Retries to a destination without outlierDetection.
    pub const MR107: &str = "MR107";
    /// localityLbSetting failover without outlierDetection (never fails over).
    pub const MR108: &str = "MR108";
    /// Fault injection on a rule matching all traffic (Error for a 100% abort).
    pub const MR109: &str = "MR109";
    /// outlierDetection maxEjectionPercent 100 with minHealthPercent 0.
    pub const MR110: &str = "MR110";
    /// outlierDetection consecutive errors threshold of 1 or 2.
    pub const MR111: &str = "MR111";
    /// Regex match replaceable by exact or prefix.
    pub const MR112: &str = "MR112";
    /// One host in several VirtualServices bound to the same gateway.
    pub const MR113: &str = "MR113";
    /// Mirror to the destination the rule already routes to.
    pub const MR114: &str = "MR114";
    /// Mirroring 100% of traffic.
    pub const MR115: &str = "MR115";
    /// Weight on a single destination (ignored).
    pub const MR116: &str = "MR116";
    /// Destination without weight next to weighted ones (gets no traffic).
    pub const MR117: &str = "MR117";
    /// DestinationRule TLS mode DISABLE for an in-mesh host.
    pub const MR118: &str = "MR118";
    /// DestinationRule subset without labels.
    pub const MR119: &str = "MR119";
    /// Connection pool limit of 1.
    pub const MR120: &str = "MR120";
    /// Fault abort/delay without percentage (never injected).
    pub const MR121: &str = "MR121";
}
