//! `meshroute simulate` end to end: the built binary on a bookinfo-style input.

use std::path::PathBuf;
use std::process::{Command, Output};

const BOOKINFO: &str = r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  namespace: bookinfo
spec:
  hosts:
  - reviews
  http:
  - name: jason
    match:
    - headers:
        end-user:
          exact: jason
    fault:
      delay:
        fixedDelay: 2s
        percentage:
          value: 10
    route:
    - destination:
        host: reviews
        subset: v2
  - name: api
    match:
    - uri:
        prefix: /api/
    rewrite:
      uri: /
    timeout: 3s
    retries:
      attempts: 3
      retryOn: 5xx
    route:
    - destination:
        host: reviews
        subset: v3
  - name: split
    route:
    - destination:
        host: reviews
        subset: v1
      weight: 75
    - destination:
        host: reviews
        subset: v3
      weight: 25
    mirror:
      host: reviews
      subset: v3
    mirrorPercentage:
      value: 5
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
  namespace: bookinfo
spec:
  host: reviews
  subsets:
  - name: v1
    labels: {version: v1}
  - name: v2
    labels: {version: v2}
  - name: v3
    labels: {version: v3}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: productpage
  namespace: bookinfo
spec:
  hosts:
  - productpage
  http:
  - match:
    - uri:
        exact: /productpage
    route:
    - destination:
        host: productpage
        port:
          number: 9080
"#;

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let p =
            std::env::temp_dir().join(format!("meshroute-simulate-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("temp dir");
        TempDir(p)
    }
    fn write(&self, name: &str, text: &str) -> PathBuf {
        let f = self.0.join(name);
        std::fs::write(&f, text).expect("write");
        f
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn simulate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_meshroute"))
        .arg("simulate")
        .args(args)
        .output()
        .expect("run meshroute")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn jason_is_routed_to_v2_with_explanation() {
    let dir = TempDir::new("jason");
    let f = dir.write("bookinfo.yaml", BOOKINFO);
    let f = f.to_str().expect("utf-8 path");
    let o = simulate(&[
        f,
        "--namespace",
        "bookinfo",
        "--host",
        "reviews:9080",
        "--path",
        "/reviews/1",
        "-H",
        "end-user: jason",
    ]);
    let out = stdout(&o);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        out.contains("VirtualService bookinfo/reviews http[0] (jason) match[0]"),
        "{out}"
    );
    assert!(
        out.contains("outbound|9080|v2|reviews.bookinfo.svc.cluster.local"),
        "{out}"
    );
    assert!(out.contains("100.0%"), "{out}");
    assert!(out.contains("fault delay: 2s on 10% of requests"), "{out}");
    assert!(out.contains("retries: 2 attempts"), "{out}");
    assert!(out.contains("(Istio default)"), "{out}");
}

#[test]
fn earlier_rules_are_explained_and_rewrites_shown() {
    let dir = TempDir::new("api");
    let f = dir.write("bookinfo.yaml", BOOKINFO);
    let f = f.to_str().expect("utf-8 path");
    let o = simulate(&[
        f,
        "-n",
        "bookinfo",
        "--host",
        "reviews",
        "--path",
        "/api/v1?x=1",
        "-H",
        "end-user: bob",
    ]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains(r#"match[0].headers.end-user: exact "jason" != "bob""#),
        "{out}"
    );
    assert!(
        out.contains("rewrite path: /api/v1?x=1 -> /v1?x=1"),
        "{out}"
    );
    assert!(out.contains("timeout: 3s"), "{out}");
    assert!(out.contains("retries: 3 attempts on 5xx"), "{out}");
}

#[test]
fn json_output_has_probabilities_clusters_and_mirrors() {
    let dir = TempDir::new("json");
    let f = dir.write("bookinfo.yaml", BOOKINFO);
    let f = f.to_str().expect("utf-8 path");
    let o = simulate(&[
        f, "-n", "bookinfo", "--host", "reviews", "--path", "/", "-o", "json",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let d = &v["decision"];
    assert_eq!(d["virtual_service"], "VirtualService bookinfo/reviews");
    assert_eq!(d["rule_index"], 2);
    assert_eq!(d["rule_name"], "split");
    let dests = d["action"]["destinations"]
        .as_array()
        .expect("destinations");
    assert_eq!(dests.len(), 2);
    assert_eq!(
        dests[0]["cluster"],
        "outbound|80|v1|reviews.bookinfo.svc.cluster.local"
    );
    assert_eq!(dests[0]["probability"], 0.75);
    assert_eq!(dests[1]["probability"], 0.25);
    assert_eq!(d["mirrors"][0]["percentage"], 5.0);
    assert_eq!(d["retries"]["attempts"], 2);
    let rules = v["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), 3);
    assert_eq!(
        rules[0]["failed"][0]["mismatches"][0]["field"],
        "match[0].headers.end-user"
    );
    assert!(v["warnings"].as_array().expect("warnings").is_empty());
}

#[test]
fn no_route_exits_1_and_bad_input_exits_2() {
    let dir = TempDir::new("exit");
    let f = dir.write("bookinfo.yaml", BOOKINFO);
    let f = f.to_str().expect("utf-8 path");
    let o = simulate(&[
        f,
        "-n",
        "bookinfo",
        "--host",
        "productpage:9080",
        "--path",
        "/static/x",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("404 NR"));
    let o = simulate(&[f, "-n", "bookinfo", "--host", "nowhere.example.com"]);
    assert_eq!(o.status.code(), Some(1));

    let bad = dir.write(
        "bad.yaml",
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: bad}\nspec:\n  hosts: [a]\n  http:\n  - match: [{uri: {regex: \"a(\"}}]\n    route: [{destination: {host: a}}]\n",
    );
    let o = simulate(&[bad.to_str().expect("utf-8"), "--host", "a"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("MR301") && err.contains("spec.http[0].match[0].uri"),
        "{err}"
    );
    let broken = dir.write("broken.yaml", "kind: [\n");
    let o = simulate(&[broken.to_str().expect("utf-8"), "--host", "a"]);
    assert_eq!(o.status.code(), Some(2));
    let o = simulate(&["/nonexistent/meshroute.yaml", "--host", "a"]);
    assert_eq!(o.status.code(), Some(2));
}
