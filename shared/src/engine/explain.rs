//! Why a request took its route: host selection, then every rule evaluated
//! before the winning one with the conditions that failed. Not on the hot path.

use std::fmt::{self, Write as _};

use serde::Serialize;

use super::compile::{Rule, RuleBody, NO_MATCH};
use super::decision::{ActionReport, DecisionReport, HostMatch};
use super::matcher::{Collect, Ctx};
use super::request::{split_path, Request};
use super::Engine;

/// A failed condition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    /// The resource the condition is written in (`VirtualService ns/name`).
    pub resource: String,
    /// Full field path, e.g. `spec.http[0].match[0].headers.end-user`.
    pub path: String,
    /// The path relative to its rule, e.g. `match[0].headers.end-user`.
    pub field: String,
    /// E.g. `exact "jason" != "bob"`.
    pub message: String,
}

impl fmt::Display for Mismatch {
    /// `match[0].headers.end-user: exact "jason" != "bob"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// One match block that was tried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MatchTrace {
    pub index: usize,
    pub name: Option<String>,
    /// `VirtualService ns/name` and field path of the block (`spec.http[i].match[j]`).
    pub resource: String,
    pub path: String,
    /// The conditions, in short.
    pub summary: String,
    /// Empty when the block matched.
    pub mismatches: Vec<Mismatch>,
}

/// One rule that was evaluated (or skipped), in evaluation order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleTrace {
    pub virtual_service: String,
    /// Index in the (root) VirtualService's `http`.
    pub index: usize,
    pub name: Option<String>,
    /// `spec.http[i]` of the rule body (in the delegate for delegated rules).
    pub path: String,
    /// `(delegate VirtualService, its rule index)` for delegated rules.
    pub delegate: Option<(String, usize)>,
    /// True for the winning rule.
    pub matched: bool,
    /// The matching block of the winning rule (`None`: a rule without `match`).
    pub matched_match: Option<usize>,
    /// The blocks that did not match.
    pub failed: Vec<MatchTrace>,
    /// Why Istio ignores this rule, if it does.
    pub ignored: Option<String>,
}

/// How the host was selected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostSelection {
    pub authority: String,
    /// The host the route table belongs to, if any.
    pub host: Option<String>,
    pub kind: Option<HostMatch>,
    /// The VirtualServices of the route table (several when a gateway merges them).
    pub virtual_services: Vec<String>,
    /// True for a declared service's default route (no VirtualService).
    pub default_route: bool,
}

/// The decision with its reasons.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    pub decision: DecisionReport,
    pub host: HostSelection,
    /// Rules evaluated before the winning one (and the winner last).
    pub rules: Vec<RuleTrace>,
}

/// `spec.http[3].match[0].uri` → `match[0].uri`.
fn relative_field(path: &str) -> String {
    if let Some(rest) = path.strip_prefix("spec.http[") {
        if let Some(i) = rest.find("].") {
            return rest.get(i + 2..).unwrap_or(rest).to_owned();
        }
    }
    path.to_owned()
}

impl Engine {
    fn vs_name(&self, vs: Option<u32>) -> String {
        match vs {
            Some(v) => self.vs_names.get(v as usize).cloned().unwrap_or_default(),
            None => String::new(),
        }
    }

    fn trace_for(&self, rule: &Rule) -> RuleTrace {
        RuleTrace {
            virtual_service: self.vs_name(rule.vs),
            index: rule.index as usize,
            name: rule.name.as_deref().map(Into::into),
            path: rule.path.to_string(),
            delegate: rule
                .delegate
                .map(|(vs, i)| (self.vs_name(Some(vs)), i as usize)),
            matched: false,
            matched_match: None,
            failed: Vec::new(),
            ignored: match &rule.body {
                RuleBody::Ignored(r) => Some(r.clone()),
                RuleBody::Active(_) => None,
            },
        }
    }

    /// Decides `req` and explains it: for the selected VirtualService, every rule
    /// before the winning one with each failed condition, e.g.
    /// `match[0].headers.end-user: exact "jason" != "bob"`.
    pub fn explain(&self, req: &Request<'_>) -> Explanation {
        let decision = self.decide(req);
        let report = decision.report();
        let mut host = HostSelection {
            authority: req.authority.to_owned(),
            host: decision.host.map(|(h, _)| h.to_owned()),
            kind: decision.host.map(|(_, k)| k),
            virtual_services: Vec::new(),
            default_route: report.default_route,
        };
        let mut rules: Vec<RuleTrace> = Vec::new();
        let Some(table) = decision.table else {
            return Explanation {
                decision: report,
                host,
                rules,
            };
        };
        for s in &table.sets {
            // Rule sets below the number of VirtualServices are theirs; the rest
            // are services' default routes.
            if let Some(name) = self.vs_names.get(*s as usize) {
                host.virtual_services.push(name.clone());
            }
        }
        let (path, query) = split_path(req.path);
        let cx = Ctx {
            req,
            path,
            query,
            port: decision.port,
            gateway: &self.gateway,
        };
        let mut ignored = table.ignored.iter().peekable();
        let mut last: Option<(u32, u32)> = None;
        let mut won = false;
        for (pos, e) in table.entries.iter().enumerate() {
            while let Some((_, s, r)) = ignored.next_if(|(p, _, _)| *p as usize <= pos) {
                if let Some(rule) = self.rule_of(*s, *r) {
                    rules.push(self.trace_for(rule));
                    last = None;
                }
            }
            let Some(rule) = self.rule_of(e.set, e.rule) else {
                continue;
            };
            if self.guarded(table, e, &cx) {
                // Not a route for this request: an earlier catch-all of its
                // VirtualService exists for it and ended its routes.
                continue;
            }
            if last != Some((e.set, e.rule)) {
                rules.push(self.trace_for(rule));
                last = Some((e.set, e.rule));
            }
            let Some(trace) = rules.last_mut() else {
                continue;
            };
            if e.m == NO_MATCH {
                trace.matched = true;
                won = true;
                break;
            }
            let Some(m) = rule.matches.get(e.m as usize) else {
                continue;
            };
            let mut c = Collect::default();
            match m.eval(&cx, &mut c) {
                Some(_) => {
                    trace.matched = true;
                    trace.matched_match = Some(e.m as usize);
                    won = true;
                    break;
                }
                None => trace.failed.push(MatchTrace {
                    index: e.m as usize,
                    name: m.name.as_deref().map(Into::into),
                    resource: self.vs_name(Some(m.vs)),
                    path: m.path.to_string(),
                    summary: m.summary(),
                    mismatches: c
                        .0
                        .into_iter()
                        .map(|f| Mismatch {
                            resource: self.vs_name(Some(f.vs)),
                            field: relative_field(&f.path),
                            path: f.path,
                            message: f.message,
                        })
                        .collect(),
                }),
            }
        }
        if !won {
            for (_, s, r) in ignored {
                if let Some(rule) = self.rule_of(*s, *r) {
                    rules.push(self.trace_for(rule));
                }
            }
        }
        Explanation {
            decision: report,
            host,
            rules,
        }
    }
}

impl Explanation {
    /// A human-readable rendering (what `meshroute simulate` prints).
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let d = &self.decision;
        let r = &d.request;
        let _ = writeln!(
            s,
            "Request: {} {}://{}{} (port {}, gateway {})",
            r.method, r.scheme, r.authority, r.path, r.port, d.gateway
        );
        for (k, v) in &r.headers {
            let _ = writeln!(s, "  {k}: {v}");
        }
        match (&self.host.host, self.host.kind) {
            (Some(h), Some(k)) => {
                let kind = match k {
                    HostMatch::Exact => "exact host",
                    HostMatch::Wildcard => "wildcard host",
                    HostMatch::CatchAll => "catch-all host",
                };
                if self.host.default_route {
                    let _ = writeln!(s, "Host: {h} ({kind}; declared service without VirtualService: default route)");
                } else {
                    let _ = writeln!(
                        s,
                        "Host: {h} ({kind}) -> {}",
                        self.host.virtual_services.join(", ")
                    );
                }
            }
            _ => {
                let _ = writeln!(
                    s,
                    "Host: no VirtualService or service for {:?} on {}",
                    crate::host::strip_port(&self.host.authority),
                    d.gateway
                );
            }
        }
        if !self.rules.is_empty() {
            let _ = writeln!(s, "Rules:");
        }
        for t in &self.rules {
            let name = t
                .name
                .as_deref()
                .map(|n| format!(" {n:?}"))
                .unwrap_or_default();
            let via = match &t.delegate {
                Some((vs, i)) => format!(" via delegate {vs} http[{i}]"),
                None => String::new(),
            };
            let head = format!("http[{}]{name}{via}", t.index);
            if let Some(why) = &t.ignored {
                let _ = writeln!(s, "  - {head}: ignored: {why}");
                continue;
            }
            let verdict = if t.matched {
                match t.matched_match {
                    Some(m) => format!("MATCHED (match[{m}])"),
                    None => "MATCHED (no match conditions)".into(),
                }
            } else {
                "no match".into()
            };
            let _ = writeln!(
                s,
                "  {} {head}: {verdict}",
                if t.matched { "*" } else { "-" }
            );
            for m in &t.failed {
                let _ = writeln!(s, "      match[{}] ({}):", m.index, m.summary);
                for mm in &m.mismatches {
                    if mm.resource != t.virtual_service {
                        let _ = writeln!(s, "        {mm}   [{}]", mm.resource);
                    } else {
                        let _ = writeln!(s, "        {mm}");
                    }
                }
            }
        }
        s.push_str(&d.to_text());
        s
    }
}

impl DecisionReport {
    /// A human-readable rendering of the decision.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let mut rule = String::new();
        if let Some(vs) = &self.virtual_service {
            rule.push_str(vs);
        }
        if let Some(i) = self.rule_index {
            let _ = write!(rule, " http[{i}]");
        }
        if let Some(n) = &self.route_name {
            let _ = write!(rule, " ({n})");
        }
        if let Some(m) = self.match_index {
            let _ = write!(rule, " match[{m}]");
        }
        if let Some(dg) = &self.delegate {
            let _ = write!(
                rule,
                " via delegate {} http[{}]",
                dg.virtual_service, dg.rule_index
            );
        }
        if self.default_route {
            rule.push_str("default route (no VirtualService)");
        }
        match &self.action {
            ActionReport::Route { destinations } => {
                let _ = writeln!(s, "Decision: route  [{}]", rule.trim());
                for d in destinations {
                    let subset = d
                        .subset
                        .as_deref()
                        .map(|x| format!(" subset {x}"))
                        .unwrap_or_default();
                    let _ = writeln!(
                        s,
                        "  -> {}{subset} port {}  {:.1}%  cluster {}",
                        d.host,
                        d.port,
                        d.probability * 100.0,
                        d.cluster
                    );
                    if d.subset_defined == Some(false) {
                        let _ = writeln!(
                            s,
                            "     warning: subset not defined by any DestinationRule: Envoy answers 503 (NC)"
                        );
                    }
                    if let Some(h) = &d.headers {
                        let _ = writeln!(
                            s,
                            "     headers: {}",
                            serde_json::to_string(h).unwrap_or_default()
                        );
                    }
                }
            }
            ActionReport::Redirect(r) => {
                let _ = writeln!(
                    s,
                    "Decision: redirect {} -> {}  [{}]",
                    r.status,
                    r.location,
                    rule.trim()
                );
            }
            ActionReport::DirectResponse { status, body } => {
                let _ = writeln!(s, "Decision: direct response {status}  [{}]", rule.trim());
                if let Some(b) = body {
                    let _ = writeln!(s, "  body: {b:?}");
                }
            }
            ActionReport::NoRoute { detail, .. } => {
                let _ = writeln!(s, "Decision: no route: 404 NR ({detail})");
            }
        }
        if let Some(rw) = &self.rewrite {
            if let Some(p) = &rw.path {
                let _ = writeln!(s, "  rewrite path: {} -> {p}", self.request.path);
            }
            if let Some(a) = &rw.authority {
                let _ = writeln!(s, "  rewrite authority: {a}");
            }
        }
        if let Some(h) = &self.headers {
            let _ = writeln!(
                s,
                "  headers: {}",
                serde_json::to_string(h).unwrap_or_default()
            );
        }
        if matches!(self.action, ActionReport::Route { .. }) {
            let _ = writeln!(
                s,
                "  timeout: {}",
                self.timeout
                    .as_deref()
                    .unwrap_or("none (Istio default: disabled)")
            );
            match &self.retries {
                Some(r) => {
                    let _ = write!(s, "  retries: {} attempts on {}", r.attempts, r.retry_on);
                    if !r.retriable_status_codes.is_empty() {
                        let _ = write!(s, " (status {:?})", r.retriable_status_codes);
                    }
                    if let Some(t) = r.per_try_timeout {
                        let _ = write!(s, ", per try {}", crate::duration::to_envoy(t));
                    }
                    if r.istio_default {
                        s.push_str("  (Istio default)");
                    }
                    s.push('\n');
                }
                None => s.push_str("  retries: disabled\n"),
            }
        }
        if let Some(f) = &self.fault {
            if let Some(d) = &f.delay {
                let _ = writeln!(
                    s,
                    "  fault delay: {} on {}% of requests",
                    crate::duration::to_envoy(d.fixed_delay),
                    d.percentage.percent()
                );
            }
            if let Some(a) = &f.abort {
                let what = match &a.error {
                    super::decision::AbortError::Http(c) => format!("HTTP {c}"),
                    super::decision::AbortError::Grpc { name, code } => {
                        format!("gRPC {name} ({code})")
                    }
                };
                let _ = writeln!(
                    s,
                    "  fault abort: {what} on {}% of requests",
                    a.percentage.percent()
                );
            }
        }
        for m in &self.mirrors {
            let _ = writeln!(
                s,
                "  mirror: {} {}% cluster {}",
                m.host,
                m.percentage.percent(),
                m.cluster
            );
        }
        if self.cors.is_some() {
            let _ = writeln!(
                s,
                "  cors: {}",
                serde_json::to_string(&self.cors).unwrap_or_default()
            );
        }
        s
    }
}
