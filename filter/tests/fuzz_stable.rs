//! Bounded randomized test on stable Rust with the inputs of the cargo-fuzz targets
//! (`fuzz/fuzz_targets/{filter_config,matching}.rs`): the seeds, then deterministic
//! mutations of them (byte flips, insertions, deletions, splices, random bytes).
//!
//! `MESHROUTE_FUZZ_ITERS` (default 5000) sets the number of mutated inputs per target;
//! `MESHROUTE_FUZZ_SEED` changes the sequence.

#![allow(clippy::panic)] // test helpers report failures by panicking

use meshroute_filter::fuzzing::{
    check_config, check_matching, check_yaml, corpus_ok, seeds, YAML_SEEDS,
};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // SplitMix64.
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Interesting bytes for JSON and HTTP inputs.
const DICT: &[&[u8]] = &[
    b"&a ",
    b"*a",
    b"<<: *a",
    b"- ",
    b"---\n",
    b"    ",
    b"!!str ",
    b"kind: VirtualService\n",
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b":",
    b",",
    b"null",
    b"true",
    b"-1",
    b"1e999",
    b"\"\\u0000\"",
    b"\"regex\"",
    b"\"(\"",
    b"\"prefix\"",
    b"\"exact\"",
    b"\"weight\"",
    b"\"subset\"",
    b"\n",
    b"\r\n",
    b"x-meshroute-cluster: ",
    b"cookie: session=",
    b"x-envoy-retry-on: 5xx",
    b"\xff\xfe",
    b"%2F",
    b"?",
    b"#",
];

fn mutate(rng: &mut Rng, pool: &[Vec<u8>]) -> Vec<u8> {
    let mut v = pool[rng.below(pool.len())].clone();
    for _ in 0..1 + rng.below(4) {
        match rng.below(6) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            1 => {
                let i = rng.below(v.len() + 1);
                let d = DICT[rng.below(DICT.len())];
                v.splice(i..i, d.iter().copied());
            }
            2 if !v.is_empty() => {
                let i = rng.below(v.len());
                let n = 1 + rng.below(16.min(v.len() - i));
                v.drain(i..i + n);
            }
            3 => {
                let other = &pool[rng.below(pool.len())];
                let a = rng.below(v.len() + 1);
                let b = rng.below(other.len() + 1);
                v.truncate(a);
                v.extend_from_slice(&other[b..]);
            }
            4 => {
                let n = rng.below(64);
                v = (0..n).map(|_| rng.next() as u8).collect();
            }
            _ => {
                let i = rng.below(v.len() + 1);
                v.insert(i, rng.next() as u8);
            }
        }
    }
    v
}

fn iters() -> usize {
    std::env::var("MESHROUTE_FUZZ_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5000)
}

fn seed() -> u64 {
    std::env::var("MESHROUTE_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x6d72_6675_7a7a)
}

fn run(target: &str, check: fn(&[u8]) -> Result<(), String>, salt: u64) {
    run_with(target, check, salt, seeds());
}

fn run_with(target: &str, check: fn(&[u8]) -> Result<(), String>, salt: u64, pool: Vec<Vec<u8>>) {
    let mut rng = Rng(seed() ^ salt);
    for s in &pool {
        check(s).unwrap_or_else(|e| panic!("{target} seed {:?}: {e}", String::from_utf8_lossy(s)));
    }
    for i in 0..iters() {
        let input = mutate(&mut rng, &pool);
        if let Err(e) = check(&input) {
            panic!(
                "{target} input #{i} {:?}: {e}",
                String::from_utf8_lossy(&input)
            );
        }
    }
}

#[test]
fn corpus_compiles() {
    assert!(corpus_ok());
}

#[test]
fn filter_config_random() {
    run("filter_config", check_config, 1);
}

#[test]
fn matching_random() {
    run("matching", check_matching, 2);
}

/// YAML/JSON loading + validation + analyzers (`check_yaml`), seeded with Istio YAML and
/// the repository's examples.
#[test]
fn yaml_check_random() {
    let mut pool: Vec<Vec<u8>> = YAML_SEEDS.iter().map(|s| s.as_bytes().to_vec()).collect();
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    for dir in std::fs::read_dir(examples).into_iter().flatten().flatten() {
        for f in std::fs::read_dir(dir.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            if f.path().extension().is_some_and(|e| e == "yaml") {
                if let Ok(b) = std::fs::read(f.path()) {
                    pool.push(b);
                }
            }
        }
    }
    run_with("yaml_check", check_yaml, 3, pool);
}
