//! Lints on one VirtualService's rules: catch-all (MR101), weights (MR103,
//! MR116, MR117), timeouts and retries (MR104, MR105, MR106), faults (MR109,
//! MR121) and mirrors (MR114, MR115).

use super::index::normalize_gateway;
use super::{emit, emit_at, Lint};
use crate::diag::{Diagnostic, Level};
use crate::duration::parse_duration;
use crate::host;
use crate::load::Resource;
use crate::model::{
    Destination, HTTPMatchRequest, HTTPRoute, OptSliceExt, StringMatch, VirtualService,
};
use crate::yaml::{join_index, join_key};
use std::collections::BTreeSet;

pub(super) fn check(r: &Resource, vs: &VirtualService, ns: &str, out: &mut Vec<Diagnostic>) {
    catch_all(r, vs, ns, out);
    for (i, rule) in vs.http.items().iter().enumerate() {
        let path = join_index("spec.http", i);
        let dests: Vec<(Option<&Destination>, Option<i32>)> = rule
            .route
            .items()
            .iter()
            .map(|d| (d.destination.as_ref(), d.weight))
            .collect();
        weights(r, &join_key(&path, "route"), &dests, out);
        retries_vs_timeout(r, rule, &path, out);
        unsafe_retries(r, rule, &path, out);
        faults(r, rule, &path, out);
        mirrors(r, rule, &path, ns, out);
    }
    for (field, routes) in [("tcp", tcp_dests(vs)), ("tls", tls_dests(vs))] {
        for (i, dests) in routes.iter().enumerate() {
            let path = join_key(&join_index(&join_key("spec", field), i), "route");
            weights(r, &path, dests, out);
        }
    }
}

type Dests<'a> = Vec<(Option<&'a Destination>, Option<i32>)>;

fn tcp_dests(vs: &VirtualService) -> Vec<Dests<'_>> {
    vs.tcp
        .items()
        .iter()
        .map(|t| {
            t.route
                .items()
                .iter()
                .map(|d| (d.destination.as_ref(), d.weight))
                .collect()
        })
        .collect()
}

fn tls_dests(vs: &VirtualService) -> Vec<Dests<'_>> {
    vs.tls
        .items()
        .iter()
        .map(|t| {
            t.route
                .items()
                .iter()
                .map(|d| (d.destination.as_ref(), d.weight))
                .collect()
        })
        .collect()
}

// ---- catch-all ----

/// True when `sm`, as a URI match, accepts every path (Istio's own catch-all test,
/// plus the empty match, which Istio translates to prefix `/`).
fn uri_matches_all(sm: &StringMatch) -> bool {
    match (&sm.exact, &sm.prefix, &sm.regex) {
        (None, None, None) => true,
        (None, Some(p), None) => p == "/",
        (None, None, Some(re)) => matches!(
            re.as_str(),
            ".*" | "^.*" | "^.*$" | "/.*" | "^/.*" | "^/.*$"
        ),
        _ => false,
    }
}

fn non_empty<K, V>(m: &Option<std::collections::BTreeMap<K, V>>) -> bool {
    m.as_ref().is_some_and(|m| !m.is_empty())
}

/// True when `m` accepts every request, its `gateways` aside.
fn matches_all_but_gateways(m: &HTTPMatchRequest) -> bool {
    m.uri.as_ref().is_none_or(uri_matches_all)
        && m.scheme.is_none()
        && m.method.is_none()
        && m.authority.is_none()
        && !non_empty(&m.headers)
        && m.port.is_none()
        && !non_empty(&m.source_labels)
        && !non_empty(&m.query_params)
        && !non_empty(&m.without_headers)
        && m.source_namespace.as_deref().is_none_or(str::is_empty)
}

/// True when the rule applies to every request (of the gateways it is bound to).
pub(super) fn rule_matches_all(rule: &HTTPRoute) -> bool {
    let ms = rule.r#match.items();
    ms.is_empty() || ms.iter().any(matches_all_but_gateways)
}

/// MR101: no rule catches what the others do not match.
fn catch_all(r: &Resource, vs: &VirtualService, ns: &str, out: &mut Vec<Diagnostic>) {
    let rules = vs.http.items();
    // Delegate VirtualServices (no hosts) fall back to the root's next rules.
    if rules.is_empty() || vs.hosts.items().is_empty() {
        return;
    }
    let mut bound: BTreeSet<String> = vs
        .gateways
        .items()
        .iter()
        .map(|g| normalize_gateway(g, ns))
        .collect();
    if bound.is_empty() {
        bound.insert("mesh".to_owned());
    }
    // Gateways for which some rule matches every request.
    let mut covered: BTreeSet<String> = BTreeSet::new();
    for rule in rules {
        let ms = rule.r#match.items();
        if ms.is_empty() {
            return;
        }
        for m in ms.iter().filter(|m| matches_all_but_gateways(m)) {
            let gws = m.gateways.items();
            if gws.is_empty() {
                return;
            }
            covered.extend(gws.iter().map(|g| normalize_gateway(g, ns)));
        }
    }
    if bound.is_subset(&covered) {
        return;
    }
    let last = rules.len() - 1;
    let n = rules.len();
    emit(
        out,
        r,
        Lint::MR101,
        join_key(&join_index("spec.http", last), "match"),
        format!(
            "no HTTP rule matches every request: a request that matches none of the {n} rule(s) gets 404 (NR, no route)"
        ),
    );
}

// ---- weights ----

fn describe(d: Option<&Destination>) -> String {
    let Some(d) = d else {
        return "(no destination)".to_owned();
    };
    let mut s = d.host.clone().unwrap_or_default();
    if let Some(sub) = &d.subset {
        s.push('/');
        s.push_str(sub);
    }
    if let Some(p) = d.port.as_ref().and_then(|p| p.number) {
        s.push(':');
        s.push_str(&p.to_string());
    }
    s
}

fn pct(v: f64) -> String {
    let s = format!("{v:.1}");
    s.strip_suffix(".0").map(str::to_owned).unwrap_or(s)
}

/// MR103, MR116, MR117 on one route list.
fn weights(
    r: &Resource,
    path: &str,
    dests: &[(Option<&Destination>, Option<i32>)],
    out: &mut Vec<Diagnostic>,
) {
    // Negative weights are a validation error (IST0106).
    if dests.iter().any(|(_, w)| w.is_some_and(|w| w < 0)) {
        return;
    }
    if let [(d, Some(w))] = dests {
        if *w != 100 && *w != 0 {
            emit(
                out,
                r,
                Lint::MR116,
                join_key(&join_index(path, 0), "weight"),
                format!(
                    "{} is the only destination: it receives 100% of the traffic, weight {w} is ignored",
                    describe(*d)
                ),
            );
        }
        return;
    }
    if dests.len() < 2 {
        return;
    }
    let sum: i64 = dests.iter().map(|(_, w)| i64::from(w.unwrap_or(0))).sum();
    // A total of 0 is rejected by Istio's validation (IST0106).
    if sum == 0 {
        return;
    }
    if sum != 100 {
        let shares: Vec<String> = dests
            .iter()
            .map(|(d, w)| {
                let w = i64::from(w.unwrap_or(0));
                let mut s = format!("{} {}%", describe(*d), pct(w as f64 * 100.0 / sum as f64));
                if w == 0 {
                    s.push_str(" (dropped: weight 0)");
                }
                s
            })
            .collect();
        emit(
            out,
            r,
            Lint::MR103,
            path.to_owned(),
            format!(
                "weights sum to {sum}, not 100: Istio accepts this and Envoy splits by relative weight: {}",
                shares.join(", ")
            ),
        );
        return;
    }
    for (j, (d, w)) in dests.iter().enumerate() {
        if w.is_none() {
            emit(
                out,
                r,
                Lint::MR117,
                join_index(path, j),
                format!(
                    "{} has no weight while the others sum to 100: its weight is 0 and it receives no traffic",
                    describe(*d)
                ),
            );
        }
    }
}

// ---- timeouts and retries ----

/// MR104: the overall timeout cuts the retries short.
fn retries_vs_timeout(r: &Resource, rule: &HTTPRoute, path: &str, out: &mut Vec<Diagnostic>) {
    let (Some(timeout), Some(retries)) = (rule.timeout.as_deref(), rule.retries.as_ref()) else {
        return;
    };
    // attempts 0/unset disables retries (and Istio rejects perTryTimeout without attempts).
    let attempts = retries.attempts.unwrap_or(0);
    let Some(per_try) = retries.per_try_timeout.as_deref() else {
        return;
    };
    let (Ok(t), Ok(p)) = (parse_duration(timeout), parse_duration(per_try)) else {
        return;
    };
    if attempts <= 0 || t.is_zero() || p.is_zero() {
        return;
    }
    let tries = u128::from(attempts.unsigned_abs()) + 1;
    let needed = p.as_nanos().saturating_mul(tries);
    if t.as_nanos() >= needed {
        return;
    }
    let fit = t.as_nanos() / p.as_nanos();
    let detail = match fit {
        0 => "the overall timeout fires before the first per-try timeout, so no retry after a per-try timeout ever runs".to_owned(),
        1 => "only 1 full try fits".to_owned(),
        n => format!("only {n} full tries fit"),
    };
    emit(
        out,
        r,
        Lint::MR104,
        join_key(path, "timeout"),
        format!(
            "timeout {timeout} is shorter than perTryTimeout {per_try} × ({attempts} retries + 1) = {} tries: {detail}",
            tries
        ),
    );
}

/// Retry conditions that can re-send a request the upstream already processed.
/// 503 is left out: Istio's default policy retries it on every route, and Envoy's
/// own 503s (overflow, no healthy upstream) happen before the upstream sees the request.
fn unsafe_conditions(retry_on: &str) -> Vec<String> {
    retry_on
        .split(',')
        .map(str::trim)
        .filter(|c| match *c {
            "5xx" | "gateway-error" | "reset" => true,
            code => code
                .parse::<u16>()
                .is_ok_and(|n| (500..=599).contains(&n) && n != 503),
        })
        .map(str::to_owned)
        .collect()
}

/// The non-idempotent method a method match admits, if any.
fn admits_unsafe_method(sm: &StringMatch) -> Option<&'static str> {
    const UNSAFE: [&str; 2] = ["POST", "PATCH"];
    if sm.exact.is_none() && sm.prefix.is_none() && sm.regex.is_none() {
        return Some(UNSAFE[0]);
    }
    UNSAFE.into_iter().find(|m| {
        sm.exact.as_deref() == Some(*m)
            || sm.prefix.as_deref().is_some_and(|p| m.starts_with(p))
            || sm.regex.as_deref().is_some_and(|re| {
                regex_lite::Regex::new(&format!("^(?:{re})$")).is_ok_and(|rx| rx.is_match(m))
            })
    })
}

enum Methods {
    /// Some match admits this non-idempotent method explicitly.
    Unsafe(&'static str),
    /// Some match does not look at the method.
    Any,
    /// Every match restricts the method to idempotent ones.
    Safe,
}

fn methods(rule: &HTTPRoute) -> Methods {
    let ms = rule.r#match.items();
    let mut any = ms.is_empty();
    for m in ms {
        match &m.method {
            None => any = true,
            Some(sm) => {
                if let Some(method) = admits_unsafe_method(sm) {
                    if sm.exact.is_some() || sm.prefix.is_some() || sm.regex.is_some() {
                        return Methods::Unsafe(method);
                    }
                    any = true;
                }
            }
        }
    }
    if any {
        Methods::Any
    } else {
        Methods::Safe
    }
}

/// MR105 / MR106: retries that may repeat a non-idempotent request.
fn unsafe_retries(r: &Resource, rule: &HTTPRoute, path: &str, out: &mut Vec<Diagnostic>) {
    let Some(retries) = &rule.retries else { return };
    if retries.attempts.unwrap_or(0) <= 0 {
        return;
    }
    let Some(retry_on) = retries.retry_on.as_deref() else {
        return;
    };
    let conds = unsafe_conditions(retry_on);
    if conds.is_empty() {
        return;
    }
    let at = join_key(&join_key(path, "retries"), "retryOn");
    let conds = conds.join(",");
    match methods(rule) {
        Methods::Unsafe(m) => emit(
            out,
            r,
            Lint::MR105,
            at,
            format!(
                "retryOn {conds} re-sends requests the upstream may already have processed, and this rule matches {m}: a {m} can be executed twice"
            ),
        ),
        Methods::Any => emit(
            out,
            r,
            Lint::MR106,
            at,
            format!(
                "retryOn {conds} re-sends requests the upstream may already have processed, and this rule does not restrict the method: POST/PATCH requests are retried too"
            ),
        ),
        Methods::Safe => {}
    }
}

// ---- faults ----

/// MR109 and MR121.
fn faults(r: &Resource, rule: &HTTPRoute, path: &str, out: &mut Vec<Diagnostic>) {
    let Some(fault) = &rule.fault else { return };
    let fpath = join_key(path, "fault");
    // Istio gives Envoy `percentage` (or, for delays, the deprecated integer `percent`);
    // with neither, Envoy's percentage is 0.
    let abort = fault
        .abort
        .as_ref()
        .map(|a| a.percentage.as_ref().and_then(|p| p.value));
    let delay = fault.delay.as_ref().map(|d| {
        d.percentage
            .as_ref()
            .and_then(|p| p.value)
            .or(d.percent.map(f64::from))
    });
    if let Some(None) = abort {
        emit(
            out,
            r,
            Lint::MR121,
            join_key(&fpath, "abort"),
            "abort has no percentage: Envoy receives none and aborts 0% of requests".to_owned(),
        );
    }
    if let Some(None) = delay {
        emit(
            out,
            r,
            Lint::MR121,
            join_key(&fpath, "delay"),
            "delay has no percentage: Envoy receives none and delays 0% of requests".to_owned(),
        );
    }
    if !rule_matches_all(rule) {
        return;
    }
    let abort_pct = abort.flatten().unwrap_or(0.0);
    let delay_pct = delay.flatten().unwrap_or(0.0);
    if abort_pct >= 100.0 {
        emit_at(
            out,
            r,
            Lint::MR109,
            Level::Error,
            join_key(&join_key(&join_key(&fpath, "abort"), "percentage"), "value"),
            "this rule matches all traffic and aborts 100% of it: every request to the host fails"
                .to_owned(),
        );
    } else if abort_pct > 0.0 || delay_pct > 0.0 {
        let mut what = Vec::new();
        if abort_pct > 0.0 {
            what.push(format!("aborts {}%", pct(abort_pct)));
        }
        if delay_pct > 0.0 {
            what.push(format!("delays {}%", pct(delay_pct)));
        }
        emit(
            out,
            r,
            Lint::MR109,
            fpath,
            format!(
                "this rule matches all traffic and {} of it: the fault reaches every client of the host",
                what.join(" and ")
            ),
        );
    }
}

// ---- mirrors ----

fn same_destination(a: &Destination, b: &Destination, ns: &str) -> bool {
    let fq = |d: &Destination| host::to_fqdn(d.host.as_deref().unwrap_or(""), ns);
    let port = |d: &Destination| d.port.as_ref().and_then(|p| p.number);
    fq(a) == fq(b)
        && a.subset == b.subset
        && match (port(a), port(b)) {
            (Some(x), Some(y)) => x == y,
            _ => true,
        }
}

/// MR114 and MR115.
fn mirrors(r: &Resource, rule: &HTTPRoute, path: &str, ns: &str, out: &mut Vec<Diagnostic>) {
    let routed: Vec<&Destination> = rule
        .route
        .items()
        .iter()
        .filter_map(|d| d.destination.as_ref())
        .collect();
    let mut targets: Vec<(&Destination, String, Option<f64>, String)> = Vec::new();
    if let Some(m) = &rule.mirror {
        let mpath = join_key(path, "mirror");
        let (pct, ppath) = if let Some(p) = &rule.mirror_percentage {
            (
                p.value,
                join_key(&join_key(path, "mirrorPercentage"), "value"),
            )
        } else if let Some(p) = rule.mirror_percent {
            (Some(f64::from(p)), join_key(path, "mirrorPercent"))
        } else if let Some(p) = rule.mirror_percent_legacy {
            (Some(f64::from(p)), join_key(path, "mirror_percent"))
        } else {
            (None, mpath.clone())
        };
        targets.push((m, mpath, pct, ppath));
    }
    for (k, m) in rule.mirrors.items().iter().enumerate() {
        let Some(d) = &m.destination else { continue };
        let kpath = join_index(&join_key(path, "mirrors"), k);
        let (pct, ppath) = match &m.percentage {
            Some(p) => (p.value, join_key(&join_key(&kpath, "percentage"), "value")),
            None => (None, kpath.clone()),
        };
        targets.push((d, join_key(&kpath, "destination"), pct, ppath));
    }
    for (d, dpath, pct_value, ppath) in targets {
        if routed.iter().any(|rd| same_destination(d, rd, ns)) {
            emit(
                out,
                r,
                Lint::MR114,
                join_key(&dpath, "host"),
                format!(
                    "mirrors to {}, which this rule already routes to: the service receives each mirrored request twice",
                    describe(Some(d))
                ),
            );
        }
        match pct_value {
            None => emit(
                out,
                r,
                Lint::MR115,
                ppath,
                format!(
                    "mirror to {} has no percentage: Istio mirrors 100% of the traffic",
                    describe(Some(d))
                ),
            ),
            Some(v) if v >= 100.0 => emit(
                out,
                r,
                Lint::MR115,
                ppath,
                format!("mirrors 100% of the traffic to {}", describe(Some(d))),
            ),
            Some(_) => {}
        }
    }
}
