//! `meshroute analyze` end to end: the built binary on small files in a temp dir.
//!
//! Checks the istioctl-style text output (diagnostic line, hint line, summary),
//! the exact JSON shape, the exit codes (0 no error, 1 error, 2 nothing readable)
//! and that hostile inputs (binary garbage, directories) do not crash it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!(
            "meshroute-cli-{}-{}-{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.0.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("create parent dir");
        }
        std::fs::write(&p, contents).expect("write test file");
        p
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `meshroute analyze --color never ARGS` in `dir` (so file names print relative).
fn analyze(dir: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_meshroute"))
        .arg("analyze")
        .args(["--color", "never"])
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .output()
        .expect("run meshroute");
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !run.stderr.contains("panicked"),
        "meshroute panicked:\n{}",
        run.stderr
    );
    run
}

/// A VirtualService whose only rule has a match (MR101 at spec.http[0].match, line 9)
/// and routes to a subset no DestinationRule defines (IST0101 at line 15), and its Service.
const ROUTES: &str = "\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  namespace: default
spec:
  hosts: [reviews]
  http:
  - match:
    - uri:
        prefix: /api
    route:
    - destination:
        host: reviews
        subset: v9
---
apiVersion: v1
kind: Service
metadata:
  name: reviews
  namespace: default
spec:
  selector:
    app: reviews
  ports:
  - name: http
    port: 9080
";

const BROKEN: &str = "\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: broken
spec:
  hosts: [a
";

const CLEAN: &str = "\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings
  namespace: default
spec:
  hosts: [ratings]
  http:
  - route:
    - destination:
        host: ratings
---
apiVersion: v1
kind: Service
metadata:
  name: ratings
  namespace: default
spec:
  selector:
    app: ratings
  ports:
  - name: http
    port: 9080
";

#[test]
fn text_output_is_istioctl_style_with_hints_and_summary() {
    let dir = TempDir::new();
    dir.write("f.yaml", ROUTES);
    dir.write("g.yaml", BROKEN);
    let run = analyze(dir.path(), &["f.yaml", "g.yaml"]);
    let lines: Vec<&str> = run.stdout.lines().collect();

    // A production lint: `Level [CODE] (Kind ns/name file:line) path: message`, then its hint.
    let lint_at = lines
        .iter()
        .position(|l| {
            l.starts_with(
                "Warning [MR101] (VirtualService default/reviews f.yaml:9) spec.http[0].match: ",
            )
        })
        .unwrap_or_else(|| panic!("no MR101 line in:\n{}", run.stdout));
    let hint = meshroute_model::lint::hint_for("MR101").expect("MR101 has a hint");
    assert_eq!(
        lines.get(lint_at + 1).copied(),
        Some(format!("    hint: {hint}").as_str())
    );

    // A syntax error: no resource, file and line, and the hint of MR001.
    let syntax_at = lines
        .iter()
        .position(|l| l.starts_with("Error [MR001] (g.yaml:") && l.contains("YAML syntax error"))
        .unwrap_or_else(|| panic!("no MR001 line in:\n{}", run.stdout));
    assert!(
        lines
            .get(syntax_at + 1)
            .is_some_and(|l| l.starts_with("    hint: ")),
        "MR001 without hint:\n{}",
        run.stdout
    );

    // Istio's IST0101 (host+subset in no DestinationRule), in istioctl's exact form.
    let ist = lines
        .iter()
        .position(|l| {
            *l == "Error [IST0101] (VirtualService default/reviews f.yaml:15) spec.http[0].route[0].destination.subset: \
                   Referenced host+subset in destinationrule not found: \"reviews+v9\""
        })
        .unwrap_or_else(|| panic!("no IST0101 line in istioctl form in:\n{}", run.stdout));
    // Istio's codes get no meshroute hint.
    assert!(
        !lines
            .get(ist + 1)
            .is_some_and(|l| l.starts_with("    hint:")),
        "{}",
        run.stdout
    );

    // The summary counts every diagnostic by level.
    let errors = lines.iter().filter(|l| l.starts_with("Error [")).count();
    let warnings = lines.iter().filter(|l| l.starts_with("Warning [")).count();
    let infos = lines.iter().filter(|l| l.starts_with("Info [")).count();
    assert_eq!(
        lines.last().copied(),
        Some(
            format!("{errors} error(s), {warnings} warning(s), {infos} info message(s).").as_str()
        ),
        "{}",
        run.stdout
    );
    assert_eq!(run.code, 1, "an error-level diagnostic exits 1");
}

#[test]
fn json_output_has_exactly_the_documented_shape() {
    let dir = TempDir::new();
    dir.write("f.yaml", ROUTES);
    dir.write("g.yaml", BROKEN);
    let run = analyze(dir.path(), &["--output", "json", "f.yaml", "g.yaml"]);
    assert_eq!(run.code, 1);
    let v: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", run.stdout));
    let top = v.as_object().expect("top-level object");
    assert_eq!(top.keys().collect::<Vec<_>>(), vec!["diagnostics"]);
    let diags = top["diagnostics"].as_array().expect("diagnostics array");
    assert!(!diags.is_empty());
    for d in diags {
        let obj = d.as_object().expect("diagnostic object");
        assert_eq!(
            obj.keys().map(String::as_str).collect::<Vec<_>>(),
            vec!["code", "level", "resource", "path", "message", "file", "line"],
            "{d}"
        );
        assert!(
            matches!(obj["level"].as_str(), Some("error" | "warning" | "info")),
            "{d}"
        );
    }
    let mr101 = diags
        .iter()
        .find(|d| d["code"] == "MR101")
        .unwrap_or_else(|| panic!("no MR101 in {}", run.stdout));
    assert_eq!(
        mr101,
        &serde_json::json!({
            "code": "MR101",
            "level": "warning",
            "resource": "VirtualService default/reviews",
            "path": "spec.http[0].match",
            "message": mr101["message"],
            "file": "f.yaml",
            "line": 9
        })
    );
    let mr001 = diags
        .iter()
        .find(|d| d["code"] == "MR001")
        .unwrap_or_else(|| panic!("no MR001 in {}", run.stdout));
    assert_eq!(mr001["level"], "error");
    assert_eq!(mr001["resource"], "");
    assert_eq!(mr001["path"], "");
    assert_eq!(mr001["file"], "g.yaml");
    assert!(mr001["line"].is_u64());
}

#[test]
fn warnings_only_exit_zero_and_clean_input_says_so() {
    let dir = TempDir::new();
    dir.write("f.yaml", ROUTES.replace("        subset: v9\n", ""));
    let run = analyze(dir.path(), &["f.yaml"]);
    assert!(run.stdout.contains("Warning [MR101]"), "{}", run.stdout);
    assert!(!run.stdout.contains("Error ["), "{}", run.stdout);
    assert_eq!(run.code, 0, "warnings alone exit 0:\n{}", run.stdout);

    dir.write("clean.yaml", CLEAN);
    let run = analyze(dir.path(), &["clean.yaml"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(
        run.stdout.trim_end(),
        "\u{2714} No validation issues found when analyzing the given files."
    );
}

#[test]
fn nothing_readable_exits_two() {
    let dir = TempDir::new();
    let run = analyze(dir.path(), &["missing.yaml"]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("Error [MR005] (missing.yaml)"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("    hint: "), "{}", run.stdout);

    let run = analyze(dir.path(), &["--output", "json", "missing.yaml"]);
    assert_eq!(run.code, 2);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(v["diagnostics"][0]["code"], "MR005");
    assert_eq!(v["diagnostics"][0]["line"], serde_json::Value::Null);
}

#[test]
fn binary_garbage_does_not_crash() {
    let dir = TempDir::new();
    let mut garbage: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    garbage.extend_from_slice(&[0xff, 0xfe, 0x00, 0xc3, 0x28]);
    dir.write("garbage.yaml", &garbage);
    let run = analyze(dir.path(), &["garbage.yaml"]);
    assert_eq!(run.code, 2, "unreadable alone exits 2:\n{}", run.stdout);
    assert!(run.stdout.contains("[MR005]"), "{}", run.stdout);

    // Valid UTF-8 but not YAML a human wrote: control characters, tabs, stray indicators.
    dir.write(
        "noise.yaml",
        "\u{1}\u{2}\t:\n- [{\n\u{7f}: &a *a\n%%%\n---\n!!binary ~\n",
    );
    let run = analyze(dir.path(), &["noise.yaml"]);
    assert!(
        matches!(run.code, 0..=2),
        "exit {}:\n{}",
        run.code,
        run.stdout
    );

    // Garbage next to a good file: the good file is still checked, the garbage is an error.
    dir.write("good.yaml", CLEAN);
    let run = analyze(dir.path(), &["garbage.yaml", "good.yaml"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stdout.contains("[MR005]"), "{}", run.stdout);
}

#[test]
fn directory_arguments_are_walked() {
    let dir = TempDir::new();
    dir.write("conf/a.yaml", ROUTES.replace("        subset: v9\n", ""));
    dir.write("conf/nested/b.yml", CLEAN);
    dir.write("conf/README.txt", "not yaml, not read");
    dir.write("conf/bin.json", [0u8, 159, 146, 150]);
    let run = analyze(dir.path(), &["conf"]);
    assert!(run.stdout.contains("Warning [MR101]"), "{}", run.stdout);
    assert!(run.stdout.contains("a.yaml:9"), "{}", run.stdout);
    assert!(
        run.stdout.contains("[MR005]"),
        "non-UTF-8 .json is reported:\n{}",
        run.stdout
    );
    assert!(!run.stdout.contains("README"), "{}", run.stdout);
    assert_eq!(run.code, 1, "{}", run.stdout);

    // An empty directory: nothing to report, nothing unreadable.
    std::fs::create_dir_all(dir.path().join("empty")).expect("mkdir");
    let run = analyze(dir.path(), &["empty"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
}
