//! meshroute's production lints (MR1xx): problems Istio accepts but operators regret.
//!
//! Every lint has a code, a level, a one-line reason and a fix hint ([`Lint`],
//! [`ALL`]); docs/diagnostics.md documents each with an example. None of them
//! repeats an Istio check (IST codes): where Istio already reports a problem the
//! lint stays silent.
//!
//! Cost: the editor runs [`run`] on every keystroke, so each run indexes the
//! DestinationRules by host and the gateway-bound VirtualService hosts once, then
//! makes one pass over the resources. Nothing is quadratic in the number of
//! resources.

mod cross;
mod index;
mod policy;
mod regex;
mod routes;
#[cfg(test)]
mod tests;

use crate::analyze::Context;
use crate::diag::{codes, Diagnostic, Level};
use crate::load::{Kind, Resource};

/// One lint: its code, level, why it matters and how to fix it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lint {
    pub code: &'static str,
    /// The usual level (MR109 raises itself to Error for a 100% abort).
    pub level: Level,
    /// Short name, as in docs/diagnostics.md.
    pub title: &'static str,
    /// One line: what goes wrong in production.
    pub why: &'static str,
    /// One line: how to fix it (printed under the diagnostic by the CLI).
    pub hint: &'static str,
}

impl Lint {
    pub const MR101: Lint = Lint {
        code: codes::MR101,
        level: Level::Warning,
        title: "no catch-all HTTP rule",
        why: "a request that matches none of the rules gets 404 NR (no route) from Envoy",
        hint: "end spec.http with a rule without `match` (or `uri: {prefix: /}`) that routes, redirects or answers the rest",
    };
    pub const MR102: Lint = Lint {
        code: codes::MR102,
        level: Level::Warning,
        title: "subset shadowed by the namespace's DestinationRule",
        why: "sidecars use the DestinationRule of their own namespace first; if it lacks the subset, requests get 503 NC (no cluster)",
        hint: "define the subset in the DestinationRule of the VirtualService's namespace too, or remove that DestinationRule",
    };
    pub const MR103: Lint = Lint {
        code: codes::MR103,
        level: Level::Warning,
        title: "route weights do not sum to 100",
        why: "Istio accepts it and Envoy splits by relative weight, so the percentages written are not the ones applied",
        hint: "make the weights of the destinations sum to 100",
    };
    pub const MR104: Lint = Lint {
        code: codes::MR104,
        level: Level::Warning,
        title: "timeout shorter than the retries it allows",
        why: "the route timeout ends the request before perTryTimeout × (attempts + 1) have elapsed, so the last retries never run",
        hint: "raise `timeout` to at least perTryTimeout × (attempts + 1) plus backoff, or lower attempts/perTryTimeout",
    };
    pub const MR105: Lint = Lint {
        code: codes::MR105,
        level: Level::Warning,
        title: "retries after the upstream may have acted, on POST/PATCH",
        why: "5xx, gateway-error and reset retry requests the upstream may already have processed: a POST/PATCH is executed twice",
        hint: "for non-idempotent methods retry only on connect-failure,refused-stream,reset-before-request (or use idempotency keys)",
    };
    pub const MR106: Lint = Lint {
        code: codes::MR106,
        level: Level::Info,
        title: "retries after the upstream may have acted, any method",
        why: "the rule does not restrict the method, so POST/PATCH requests are retried on 5xx/gateway-error/reset too",
        hint: "split the rule by method (GET/HEAD/PUT/DELETE keep the retries) or retry only on connect-failure,refused-stream,reset-before-request",
    };
    pub const MR107: Lint = Lint {
        code: codes::MR107,
        level: Level::Info,
        title: "retries without outlier detection",
        why: "without outlierDetection a failing host stays in the pool: retries multiply the load on it (retry storm) instead of routing around it",
        hint: "add trafficPolicy.outlierDetection (e.g. consecutive5xxErrors: 5, interval: 10s, baseEjectionTime: 30s) to the destination's DestinationRule",
    };
    pub const MR108: Lint = Lint {
        code: codes::MR108,
        level: Level::Warning,
        title: "locality failover without outlier detection",
        why: "Istio only programs locality failover when outlierDetection is set: without it Envoy never fails over to another locality",
        hint: "add outlierDetection next to localityLbSetting (same traffic policy or an enclosing one)",
    };
    pub const MR109: Lint = Lint {
        code: codes::MR109,
        level: Level::Warning,
        title: "fault injection on all traffic",
        why: "a fault on a rule without a narrowing match hits every request of the host: an abort of 100% is an outage",
        hint: "scope the fault with a match (a test header such as `x-chaos: on`, or sourceLabels) or lower its percentage",
    };
    pub const MR110: Lint = Lint {
        code: codes::MR110,
        level: Level::Warning,
        title: "outlier detection may eject every host",
        why: "maxEjectionPercent: 100 with minHealthPercent 0 (Istio's default) lets Envoy eject the whole pool: 503 UH for everyone",
        hint: "lower maxEjectionPercent (e.g. 50) or set minHealthPercent so Envoy falls back to all hosts",
    };
    pub const MR111: Lint = Lint {
        code: codes::MR111,
        level: Level::Warning,
        title: "outlier detection threshold too low",
        why: "ejecting after 1 or 2 consecutive errors ejects healthy hosts on ordinary blips: hosts flap in and out of the pool",
        hint: "use at least 3 consecutive errors (Istio's default is 5)",
    };
    pub const MR112: Lint = Lint {
        code: codes::MR112,
        level: Level::Info,
        title: "regex where exact or prefix would do",
        why: "a regex costs an RE2 program per request and hides intent; Envoy regexes match the whole value, so literals are exact matches",
        hint: "replace the regex with the exact/prefix match in the message",
    };
    pub const MR113: Lint = Lint {
        code: codes::MR113,
        level: Level::Warning,
        title: "host split across VirtualServices on one gateway",
        why: "Istio merges them in creation-time order, which is not in the YAML and differs between clusters: overlapping rules win by age",
        hint: "keep each gateway host in one VirtualService, or use delegate VirtualServices with disjoint matches",
    };
    pub const MR114: Lint = Lint {
        code: codes::MR114,
        level: Level::Warning,
        title: "mirror to the routed destination",
        why: "the service receives every mirrored request twice: double load and side effects repeated",
        hint: "mirror to another service or subset (e.g. the new version), or remove the mirror",
    };
    pub const MR115: Lint = Lint {
        code: codes::MR115,
        level: Level::Info,
        title: "mirroring 100% of traffic",
        why: "a full mirror doubles the load on the mirror target; without a percentage Istio mirrors 100%",
        hint: "set mirrorPercentage (or mirrors[].percentage) to the share you need, e.g. 10",
    };
    pub const MR116: Lint = Lint {
        code: codes::MR116,
        level: Level::Info,
        title: "weight on a single destination is ignored",
        why: "the only destination of a route always receives 100% of its traffic, whatever its weight",
        hint: "remove the weight, or add the destination that should get the rest",
    };
    pub const MR117: Lint = Lint {
        code: codes::MR117,
        level: Level::Info,
        title: "destination without weight receives no traffic",
        why: "with weights on the other destinations an omitted weight is 0: Istio drops the destination from the split",
        hint: "give the destination a weight, or remove it",
    };
    pub const MR118: Lint = Lint {
        code: codes::MR118,
        level: Level::Info,
        title: "TLS disabled to an in-mesh host",
        why: "tls.mode DISABLE turns off Istio's automatic mTLS: traffic is plaintext, and fails if the destination requires STRICT mTLS",
        hint: "remove tls (auto mTLS) or use mode ISTIO_MUTUAL",
    };
    pub const MR119: Lint = Lint {
        code: codes::MR119,
        level: Level::Warning,
        title: "subset without labels",
        why: "a subset without labels selects every endpoint of the host, so routing to it splits nothing",
        hint: "add the labels that select the subset's pods (e.g. version: v2)",
    };
    pub const MR120: Lint = Lint {
        code: codes::MR120,
        level: Level::Warning,
        title: "connection pool of one",
        why: "a limit of 1 trips the circuit breaker as soon as two requests overlap: 503 UO (overflow) under normal load",
        hint: "size the limit from the expected concurrency (or leave it unset for Istio's default)",
    };
    pub const MR121: Lint = Lint {
        code: codes::MR121,
        level: Level::Warning,
        title: "fault without percentage never fires",
        why:
            "Istio passes no percentage to Envoy, which then injects the fault into 0% of requests",
        hint: "set percentage.value (e.g. 100 for every request matched by the rule)",
    };
}

/// Every lint, in code order.
pub const ALL: &[Lint] = &[
    Lint::MR101,
    Lint::MR102,
    Lint::MR103,
    Lint::MR104,
    Lint::MR105,
    Lint::MR106,
    Lint::MR107,
    Lint::MR108,
    Lint::MR109,
    Lint::MR110,
    Lint::MR111,
    Lint::MR112,
    Lint::MR113,
    Lint::MR114,
    Lint::MR115,
    Lint::MR116,
    Lint::MR117,
    Lint::MR118,
    Lint::MR119,
    Lint::MR120,
    Lint::MR121,
];

/// Hints for the loading codes (MR0xx), which are reported by the loader.
const LOAD_HINTS: &[(&str, &str)] = &[
    (
        codes::MR001,
        "fix the YAML at the line and column shown (indentation, a missing `:` or an unclosed quote); the other documents were still checked",
    ),
    (
        codes::MR002,
        "nothing to do if the kind is not traffic configuration; meshroute checks VirtualService, DestinationRule, Gateway, ServiceEntry, WorkloadEntry and the Kubernetes objects they refer to",
    ),
    (
        codes::MR003,
        "check the spelling against the Istio API reference; a misspelt field is silently ignored by Istio",
    ),
    (
        codes::MR004,
        "each YAML document must be a Kubernetes object with apiVersion, kind and metadata",
    ),
    (
        codes::MR005,
        "check the path and permissions; inputs must be UTF-8 YAML or JSON",
    ),
];

/// Runs every lint.
pub fn run(ctx: &Context<'_>) -> Vec<Diagnostic> {
    let index = index::Index::build(ctx);
    let mut out = Vec::new();
    for &r in &ctx.resources {
        let ns = ctx.namespace_of(r);
        match r.kind {
            Kind::VirtualService => {
                if let Some(vs) = r.virtual_service() {
                    routes::check(r, vs, ns, &mut out);
                    regex::check(r, vs, &mut out);
                    cross::check_virtual_service(r, vs, ns, &index, &mut out);
                }
            }
            Kind::DestinationRule => {
                if let Some(dr) = r.destination_rule() {
                    policy::check(r, dr, ns, &mut out);
                }
            }
            _ => {}
        }
    }
    cross::check_gateway_hosts(&index, &mut out);
    out
}

/// The fix hint printed under an MR diagnostic, if `code` is one of ours.
pub fn hint_for(code: &str) -> Option<&'static str> {
    ALL.iter()
        .find(|l| l.code == code)
        .map(|l| l.hint)
        .or_else(|| LOAD_HINTS.iter().find(|(c, _)| *c == code).map(|(_, h)| *h))
}

/// Reports `lint` on `r` at `path`, at the lint's level.
fn emit(out: &mut Vec<Diagnostic>, r: &Resource, lint: Lint, path: String, message: String) {
    out.push(r.diag(lint.code, lint.level, path, message));
}

/// Reports `lint` on `r` at `path`, at `level`.
fn emit_at(
    out: &mut Vec<Diagnostic>,
    r: &Resource,
    lint: Lint,
    level: Level,
    path: String,
    message: String,
) {
    out.push(r.diag(lint.code, level, path, message));
}
