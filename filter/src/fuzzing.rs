//! Fuzzing entry points, shared by the cargo-fuzz targets (`fuzz/`) and the bounded
//! stable-Rust randomized test (`filter/tests/fuzz_stable.rs`), so both exercise the same
//! inputs. Each returns `Err(description)` when an invariant breaks; a panic inside is a
//! bug too.

use std::sync::OnceLock;

use meshroute_model::engine::{Request, SplitMix64};

use crate::config::{compile, Compiled};
use crate::plan::{
    apply_ops, control_headers, plan, shadow_headers, HeaderOp, Outcome, PlanSettings,
};

fn wrap(kind: &str, spec: &serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "settings": {"sticky": {"header": "x-user"}},
        "resources": [{
            "apiVersion": "networking.istio.io/v1", "kind": kind,
            "metadata": {"name": "fuzz", "namespace": "default"}, "spec": spec,
        }]
    }))
    .unwrap_or_default()
}

/// The plugin configurations derived from `data`: the bytes themselves and, when they are
/// JSON, that JSON as the spec of a VirtualService and of a DestinationRule.
pub fn config_inputs(data: &[u8]) -> Vec<Vec<u8>> {
    let mut out = vec![data.to_vec()];
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        out.push(wrap("VirtualService", &v));
        out.push(wrap("DestinationRule", &v));
    }
    out
}

/// Target 1: configuration parsing, validation and compilation.
pub fn check_config(data: &[u8]) -> Result<(), String> {
    for input in config_inputs(data) {
        match compile(&input) {
            Ok(c) => {
                if c.settings.cluster_header.is_empty() {
                    return Err("accepted an empty cluster header".into());
                }
                // A compiled configuration must answer any request without panicking.
                let h = [(":authority", "fuzz"), (":path", "/"), ("x-user", "u")];
                check_request(&c, &h, 1)?;
            }
            Err(diags) => {
                if diags.is_empty() {
                    return Err("rejected without a reason".into());
                }
                if let Some(d) = diags.iter().find(|d| !d.is_error() || d.message.is_empty()) {
                    return Err(format!("rejection that is not an error: {d:?}"));
                }
            }
        }
    }
    Ok(())
}

const CORPUS: &[&str] = &[
    r#"{"settings": {"sticky": {"cookie": "session"}}, "resources": [
 {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "metadata": {"name": "reviews", "namespace": "default"},
  "spec": {"hosts": ["reviews", "*.example.com"], "http": [
   {"name": "jason", "match": [{"headers": {"end-user": {"exact": "jason"}}}], "route": [{"destination": {"host": "reviews", "subset": "v2"}}]},
   {"match": [{"uri": {"regex": "/items/[0-9]+"}, "method": {"exact": "GET"}}, {"queryParams": {"q": {"prefix": "a"}}}],
    "rewrite": {"uri": "/v2/"}, "timeout": "1s", "retries": {"attempts": 3, "perTryTimeout": "100ms", "retryOn": "5xx,503"},
    "route": [{"destination": {"host": "reviews", "subset": "v1"}, "weight": 70}, {"destination": {"host": "reviews", "subset": "v3"}, "weight": 30,
               "headers": {"request": {"set": {":authority": "v3.internal"}}}}]},
   {"match": [{"uri": {"prefix": "/old"}, "ignoreUriCase": true}], "redirect": {"uri": "/new", "redirectCode": 308}},
   {"match": [{"withoutHeaders": {"x-canary": {}}}], "fault": {"delay": {"fixedDelay": "5ms", "percentage": {"value": 50}},
    "abort": {"grpcStatus": "UNAVAILABLE", "percentage": {"value": 50}}}, "mirror": {"host": "shadow"}, "route": [{"destination": {"host": "reviews"}}]},
   {"directResponse": {"status": 503, "body": {"string": "down"}}}]}}]}"#,
    r#"{"settings": {"gateway": "istio-system/gw"}, "resources": [
 {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "metadata": {"name": "edge", "namespace": "default"},
  "spec": {"hosts": ["*"], "gateways": ["istio-system/gw"], "http": [
   {"match": [{"port": 8080, "authority": {"prefix": "api."}}], "route": [{"destination": {"host": "api", "port": {"number": 80}}}]},
   {"route": [{"destination": {"host": "web"}}]}]}}]}"#,
];

fn engines() -> &'static [Compiled] {
    static ENGINES: OnceLock<Vec<Compiled>> = OnceLock::new();
    ENGINES.get_or_init(|| {
        CORPUS
            .iter()
            .filter_map(|c| compile(c.as_bytes()).ok())
            .collect()
    })
}

/// Splits fuzz bytes into a request: `method\nauthority\npath\nname: value\n…`, and a seed.
fn decode(data: &[u8]) -> (Vec<(String, String)>, u64) {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let mut headers = Vec::new();
    for pseudo in [":method", ":authority", ":path"] {
        if let Some(v) = lines.next() {
            headers.push((pseudo.to_owned(), v.to_owned()));
        }
    }
    for l in lines {
        match l.split_once(':') {
            Some((k, v)) if !k.is_empty() => {
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            }
            _ => {}
        }
    }
    let seed = data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
    });
    (headers, seed)
}

fn check_request(c: &Compiled, headers: &[(&str, &str)], seed: u64) -> Result<(), String> {
    let owned: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    check_owned(c, &owned, seed)
}

fn check_owned(c: &Compiled, headers: &[(String, String)], seed: u64) -> Result<(), String> {
    let ch = c.settings.cluster_header.as_str();
    let req = Request::from_headers(headers).with_source(&[], Some(c.settings.namespace.as_str()));
    let req = if c.is_gateway() {
        req.with_port(8080)
    } else {
        req
    };
    let d = c.engine.decide(&req);
    let s = PlanSettings {
        cluster_header: ch,
        sticky: c.sticky.as_ref(),
    };
    let p = plan(&d, &req, &s, &mut SplitMix64(seed));
    let clusters: Vec<&str> = p
        .request_ops
        .iter()
        .filter_map(|op| match op {
            HeaderOp::Set(k, v) if k == ch => Some(v.as_ref()),
            _ => None,
        })
        .collect();
    match &p.outcome {
        Outcome::Forward => {
            if clusters.len() != 1 || !clusters[0].starts_with("outbound|") {
                return Err(format!("forwarded without exactly one cluster: {p:?}"));
            }
        }
        Outcome::Reply(r) => {
            if !p.request_ops.is_empty() || !p.mirrors.is_empty() {
                return Err(format!("local reply with request ops or mirrors: {p:?}"));
            }
            if !(100..=999).contains(&r.status) {
                return Err(format!("bad status {}", r.status));
            }
        }
    }
    if p.aborted && p.outcome == Outcome::Forward {
        return Err("aborted but forwarded".into());
    }
    // What the upstream would see never carries client control headers.
    let mut forwarded = headers.to_vec();
    for name in control_headers(headers, ch) {
        apply_ops(&mut forwarded, &[HeaderOp::Remove(name.into())]);
    }
    apply_ops(&mut forwarded, &p.request_ops);
    let stray = control_headers(&forwarded, ch);
    let ours: Vec<&str> = p
        .request_ops
        .iter()
        .filter_map(|op| match op {
            HeaderOp::Set(k, _) | HeaderOp::Add(k, _) => Some(k.as_ref()),
            HeaderOp::Remove(_) => None,
        })
        .collect();
    if let Some(s) = stray.iter().find(|s| !ours.contains(&s.as_str())) {
        return Err(format!("client control header {s} survived"));
    }
    let shadow = shadow_headers(headers, &p.request_ops, ch);
    if shadow.iter().any(|(k, _)| k.eq_ignore_ascii_case(ch)) {
        return Err("mirror copy carries the cluster header".into());
    }
    Ok(())
}

/// Target 2: matching and planning of arbitrary requests against fixed configurations.
pub fn check_matching(data: &[u8]) -> Result<(), String> {
    // The raw bytes as the host's serialized header map: parsed or refused, never a panic.
    if let Ok(block) = crate::headers::HeaderBlock::parse(data.to_vec()) {
        let _ = block.pairs();
    }
    let (headers, seed) = decode(data);
    // The decoded headers survive the host's serialization and `HeaderBlock`, in order.
    let block = crate::headers::HeaderBlock::from_pairs(&headers);
    let read: Vec<(String, String)> = block
        .pairs()
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    if read != headers {
        return Err(format!(
            "header map round trip: {headers:?} read back as {read:?}"
        ));
    }
    for c in engines() {
        check_owned(c, &headers, seed)?;
    }
    Ok(())
}

/// Seeds for both targets (also the cargo-fuzz corpus).
pub fn seeds() -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = CORPUS.iter().map(|c| c.as_bytes().to_vec()).collect();
    out.push(
        br#"{"hosts": ["a"], "http": [{"route": [{"destination": {"host": "a"}}]}]}"#.to_vec(),
    );
    out.push(br#"{"host": "a", "subsets": [{"name": "v1", "labels": {"v": "1"}}]}"#.to_vec());
    out.push(b"GET\nreviews\n/items/12?q=abc\nend-user: jason\ncookie: session=42\nx-meshroute-cluster: evil".to_vec());
    out.push(b"POST\napi.example.com:8080\n/OLD/x\nx-canary: 1\nx-envoy-max-retries: 9".to_vec());
    out
}

/// The number of compiled corpus configurations (all must compile).
pub fn corpus_ok() -> bool {
    engines().len() == CORPUS.len()
}

/// Target 3: YAML/JSON loading (`load_str`: reader, alias/nesting budgets, typed model) and
/// the whole check pipeline (validation, analyzers, lints) on arbitrary text. Invariants:
/// no panic; every diagnostic has a code and a message; lines are within the input.
pub fn check_yaml(data: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(data);
    let loaded = meshroute_model::load_str(&text, Some("fuzz.yaml"));
    // YAML line breaks: `\n`, `\r\n` and a lone `\r`.
    let breaks =
        text.matches('\n').count() + text.matches('\r').count() - text.matches("\r\n").count();
    let lines = u32::try_from(breaks + 1).unwrap_or(u32::MAX);
    let opts = meshroute_model::check::CheckOptions::default();
    for d in meshroute_model::check::check(&loaded, &opts) {
        if d.code.is_empty() || d.message.is_empty() {
            return Err(format!("diagnostic without code or message: {d:?}"));
        }
        if let Some(line) = d.line {
            // (+1: errors at the end of input may name the line after the last one.)
            if line == 0 || line > lines.saturating_add(1) {
                return Err(format!(
                    "line {line} outside the input ({lines} lines): {d:?}"
                ));
            }
        }
    }
    Ok(())
}

/// Seeds for [`check_yaml`]: Istio YAML with anchors, flow and block styles, JSON, lists.
pub const YAML_SEEDS: &[&str] = &[
    "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: reviews, namespace: default}\nspec:\n  hosts: [reviews]\n  http:\n  - name: jason\n    match: [{headers: {end-user: {exact: jason}}}]\n    route: [{destination: {host: reviews, subset: v2}}]\n  - route:\n    - destination: {host: reviews, subset: v1}\n      weight: 90\n    - destination: {host: reviews, subset: v3}\n      weight: 10\n    retries: {attempts: 3, perTryTimeout: 2s}\n    fault: {delay: {fixedDelay: 5s, percentage: {value: 10}}}\n",
    "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: reviews}\nspec:\n  host: reviews\n  trafficPolicy: &tp\n    loadBalancer: {simple: ROUND_ROBIN}\n  subsets:\n  - name: v1\n    labels: {version: v1}\n    trafficPolicy: *tp\n---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: ext}\nspec:\n  hosts: [api.example.com]\n  ports: [{number: 443, name: https, protocol: HTTPS}]\n  resolution: DNS\n",
    "{\"apiVersion\": \"networking.istio.io/v1\", \"kind\": \"Gateway\", \"metadata\": {\"name\": \"gw\"}, \"spec\": {\"selector\": {\"istio\": \"ingressgateway\"}, \"servers\": [{\"port\": {\"number\": 80, \"name\": \"http\", \"protocol\": \"HTTP\"}, \"hosts\": [\"*.example.com\"]}]}}",
    "apiVersion: v1\nkind: List\nitems:\n- apiVersion: networking.istio.io/v1\n  kind: VirtualService\n  metadata: {name: a}\n  spec: {hosts: [a], http: [{route: [{destination: {host: a}}], mirror: {host: b}, mirrorPercentage: {value: 50}}]}\n",
];
