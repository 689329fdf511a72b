//! Istio's `istioctl analyze` test suite: for every case of
//! `corpus/analyzers/expectations.yaml`, analyzing the case's files together reports
//! every expected (code, resource), and none of the analyzer's codes that Istio does not.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failures panic

mod common;

use meshroute_model::yaml::{parse_stream, Limits};
use meshroute_model::{analyze, check, load_str, Loaded};
use std::collections::BTreeSet;

/// Cases that must pass; raise it as analyzers grow, never lower it.
const MIN_PASSING: usize = 37;

/// The codes each Istio analyzer emits (its no-false-positive scope).
fn analyzer_codes(analyzer: &str) -> &'static [&'static str] {
    match analyzer {
        "gateway.IngressGatewayPortAnalyzer" => &["IST0101", "IST0162"],
        "gateway.ConflictingGatewayAnalyzer" => &["IST0145"],
        "gateway.CertificateAnalyzer" => &["IST0138"],
        "virtualservice.ConflictingMeshGatewayHostsAnalyzer" => &["IST0109"],
        "virtualservice.DestinationHostAnalyzer" => &["IST0101", "IST0112", "IST0140"],
        "virtualservice.DestinationRuleAnalyzer" => &["IST0101"],
        "virtualservice.GatewayAnalyzer" => &["IST0101", "IST0132"],
        "destinationrule.CaCertificateAnalyzer" => &["IST0128", "IST0129"],
        "destinationrule.PodNotSelectedAnalyzer" => &["IST0173", "IST0174"],
        a if a.starts_with("schemaValidation") => &["IST0130", "IST0131"],
        other => panic!("unknown analyzer {other}"),
    }
}

#[test]
fn analyzer_cases_match_istio() {
    let Some(dir) = common::corpus_dir("analyzers") else {
        return;
    };
    let text = std::fs::read_to_string(dir.join("expectations.yaml")).unwrap();
    let cases = parse_stream(&text, Limits::default())
        .remove(0)
        .unwrap()
        .value;
    let cases = cases.as_array().unwrap();
    let mut passed = 0;
    let mut report = Vec::new();
    for case in cases {
        let name = case["case"].as_str().unwrap();
        let analyzer = case["analyzer"].as_str().unwrap();
        let codes = analyzer_codes(analyzer);
        let mut loaded = Loaded::default();
        for f in case["files"].as_array().unwrap() {
            let f = f.as_str().unwrap();
            let body = std::fs::read_to_string(dir.join(f)).unwrap();
            loaded.extend(load_str(&body, Some(f)));
        }
        // Like Istio's TestAnalyzers, run only the case's analyzer: several analyzers
        // report IST0101, and another one's IST0101 (e.g. a destination host missing
        // from a gateway test's files) is not this case's concern. Schema validation
        // (dupmatches) runs through the whole pipeline.
        let opts = check::CheckOptions::default();
        let ctx = analyze::Context::new(&loaded, &opts.default_namespace);
        let diags = match analyze::run_analyzer(&ctx, analyzer) {
            Some(diags) => diags,
            None => check::check(&loaded, &opts),
        };
        let got: BTreeSet<(String, String)> = diags
            .iter()
            .filter(|d| codes.contains(&d.code.as_str()))
            .map(|d| (d.code.clone(), d.resource.clone()))
            .collect();
        let want: BTreeSet<(String, String)> = case["expect"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["code"].as_str().unwrap().to_owned(),
                    e["resource"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let missing: Vec<_> = want.difference(&got).collect();
        let extra: Vec<_> = got.difference(&want).collect();
        // And what a user runs, `meshroute analyze` (every check at once), must report
        // every expected pair too (it may add other analyzers' findings).
        let full: BTreeSet<(String, String)> = check::check(&loaded, &opts)
            .iter()
            .map(|d| (d.code.clone(), d.resource.clone()))
            .collect();
        let missing_full: Vec<_> = want.difference(&full).collect();
        if !missing_full.is_empty() {
            report.push(format!(
                "FAIL {name}: full pipeline misses {missing_full:?}"
            ));
        } else if missing.is_empty() && extra.is_empty() {
            passed += 1;
            report.push(format!("PASS {name}"));
        } else {
            report.push(format!(
                "FAIL {name} ({analyzer}): missing {missing:?}, unexpected {extra:?}"
            ));
        }
    }
    println!("{}", report.join("\n"));
    println!("analyzer conformance: {passed}/{} cases pass", cases.len());
    assert!(cases.len() >= 30);
    assert!(
        passed >= MIN_PASSING,
        "{passed}/{} pass, below the floor of {MIN_PASSING}",
        cases.len()
    );
}
