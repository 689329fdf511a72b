//! Istio's validation unit tests as conformance cases: each document of
//! `corpus/validation/*.yaml` is analyzed alone and must get the verdict Istio gives:
//! `error` → an error-level IST0106; `warning` → no IST0106 and an IST0133 (or
//! IST0130/IST0131 for unreachable or overlapping rules); `valid` → no IST0106.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failures panic

mod common;

use meshroute_model::yaml::{parse_stream, to_yaml, Limits};
use meshroute_model::{check, load_str, Level};

/// Cases that must pass; raise it as validation grows, never lower it.
const MIN_PASSING: usize = 299;

#[test]
fn validation_cases_match_istio() {
    let Some(dir) = common::corpus_dir("validation") else {
        return;
    };
    let mut total = 0;
    let mut passed = 0;
    let mut failures = Vec::new();
    let mut per_file = Vec::new();
    for file in common::yaml_files(&dir) {
        let fname = file.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&file).unwrap();
        let (mut f_total, mut f_pass) = (0, 0);
        for doc in parse_stream(&text, Limits::default()) {
            let doc = doc.unwrap();
            let expect = doc.value["metadata"]["annotations"]["conformance.expect"]
                .as_str()
                .unwrap_or("")
                .to_owned();
            let name = doc.value["metadata"]["name"]
                .as_str()
                .unwrap_or("")
                .to_owned();
            // Analyze the document alone, as its own file.
            let alone = to_yaml(&doc.value);
            let loaded = load_str(&alone, Some(&fname));
            let diags = check::check(&loaded, &check::CheckOptions::default());
            let has = |code: &str, level: Option<Level>| {
                diags
                    .iter()
                    .any(|d| d.code == code && level.is_none_or(|l| d.level == l))
            };
            let schema_error =
                has("IST0106", Some(Level::Error)) || has("MR001", None) || has("MR004", None);
            let ok = match expect.as_str() {
                "error" => schema_error,
                "warning" => {
                    !schema_error
                        && (has("IST0133", None) || has("IST0130", None) || has("IST0131", None))
                }
                "valid" => !schema_error,
                other => panic!("{fname} {name}: unknown expectation {other:?}"),
            };
            total += 1;
            f_total += 1;
            if ok {
                passed += 1;
                f_pass += 1;
            } else {
                let got: Vec<String> = diags
                    .iter()
                    .filter(|d| d.code.starts_with("IST"))
                    .map(|d| format!("{} {} {}", d.code, d.path, d.message))
                    .collect();
                failures.push(format!("{fname} {name}: expected {expect}, got {got:?}"));
            }
        }
        per_file.push(format!("{f_pass:>4}/{f_total:<4} {fname}"));
    }
    println!("validation conformance per file:\n{}", per_file.join("\n"));
    println!("failing cases:\n{}", failures.join("\n"));
    println!("validation conformance: {passed}/{total} cases pass");
    assert!(
        total >= 290,
        "expected Istio's ~299 validation cases, found {total}"
    );
    assert!(
        passed >= MIN_PASSING,
        "{passed}/{total} pass, below the floor of {MIN_PASSING}"
    );
}
