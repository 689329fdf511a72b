//! Shared helpers for the corpus conformance tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failures panic
#![allow(dead_code)]

use std::path::PathBuf;

/// `$MESHROUTE_CORPUS`, else `../shared/corpus` beside the repository. `None` (with a
/// printed notice) when it is absent, so the tests skip rather than fail on a laptop.
pub fn corpus_dir(sub: &str) -> Option<PathBuf> {
    let base = std::env::var_os("MESHROUTE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus"))
        });
    let dir = base.join(sub);
    if dir.is_dir() {
        Some(dir)
    } else {
        if std::env::var_os("MESHROUTE_REQUIRE_CORPUS").is_some() {
            panic!(
                "corpus not found at {} and MESHROUTE_REQUIRE_CORPUS is set",
                dir.display()
            );
        }
        eprintln!(
            "SKIP: Istio corpus not found at {} (set MESHROUTE_CORPUS)",
            dir.display()
        );
        None
    }
}

/// Files in `dir` with extension `yaml`, sorted.
pub fn yaml_files(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    v.sort();
    v
}
