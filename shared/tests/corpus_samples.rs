//! Istio's own sample configs: every Istio resource loads with no schema error,
//! and load → save → load gives back every field (lossless round trip).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failures panic

mod common;

use meshroute_model::load::semantically_equal;
use meshroute_model::yaml::{parse_stream, Limits};
use meshroute_model::{check, load_str, Document, Kind, Level};
use serde_json::Value;

#[test]
fn samples_load_without_schema_errors_and_round_trip() {
    let Some(dir) = common::corpus_dir("samples") else {
        return;
    };
    let files = common::yaml_files(&dir);
    assert!(
        files.len() > 50,
        "expected Istio's samples in {}",
        dir.display()
    );
    let mut resources = 0;
    let mut failures = Vec::new();
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(file).unwrap();
        let loaded = load_str(&text, Some(&name));

        // 1. No schema error on any Istio sample (validation included).
        let diags = check::check(&loaded, &check::CheckOptions::default());
        for d in diags
            .iter()
            .filter(|d| d.code == "IST0106" || d.code == "MR001" || d.code == "MR004")
        {
            failures.push(format!("{name}: {d}"));
        }

        // 2. Every typed resource re-serializes to exactly what was read.
        let raw_docs: Vec<Value> = parse_stream(&text, Limits::default())
            .into_iter()
            .map(|d| d.unwrap().value)
            .flat_map(|v| match v.get("kind").and_then(Value::as_str) {
                Some("List") => v["items"].as_array().cloned().unwrap_or_default(),
                _ => vec![v],
            })
            .collect();
        assert_eq!(
            raw_docs.len(),
            loaded.documents.len(),
            "{name}: document count"
        );
        for (raw, doc) in raw_docs.iter().zip(&loaded.documents) {
            let Document::Resource(r) = doc else { continue };
            if !r.kind.is_istio() {
                continue;
            }
            resources += 1;
            let saved = r.to_value();
            if !semantically_equal(raw, &saved) {
                failures.push(format!(
                    "{name}: {} changed on round trip\n  read: {raw}\n  saved: {saved}",
                    r.display_name()
                ));
            }
            // 3. And through YAML text too.
            let text2 = r.to_yaml();
            let again = load_str(&text2, None);
            match again.documents.first() {
                Some(Document::Resource(r2)) if semantically_equal(raw, &r2.to_value()) => {}
                _ => failures.push(format!(
                    "{name}: {} changed through YAML:\n{text2}",
                    r.display_name()
                )),
            }
        }
        // Unknown kinds are reported as info, never as errors.
        for d in &loaded.diagnostics {
            if d.code == "MR002" {
                assert_eq!(d.level, Level::Info);
            }
        }
    }
    println!(
        "samples: {} files, {resources} Istio resources round-tripped",
        files.len()
    );
    assert!(resources > 80, "only {resources} Istio resources found");
    assert!(
        failures.is_empty(),
        "{} problems:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let _ = Kind::VirtualService;
}
