//! Browser tests of the editor (real headless Chromium through ChromeDriver,
//! the trunk build in editor/dist): templates, inline diagnostics, problems,
//! the Istio samples round trip, the simulator, autosave, clipboard/share,
//! syntax errors, themes, and timings of a 200-resource workspace.
//!
//! Needs chromium + chromedriver (scripts/setup.sh) and `scripts/build.sh editor`;
//! skipped otherwise unless MESHROUTE_REQUIRE_E2E is set (see tests/support).
//! The tests run one at a time (one browser on the machine at once).
//! Screenshots and timings land in target/test-artifacts/.

mod support;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use meshroute_model::load::semantically_equal;
use meshroute_model::yaml::{parse_stream, Limits};
use serde_json::{json, Value};
use support::browser::{self, ChromeDriver, StaticServer};

/// One browser at a time: the machine is small and the tests measure timings.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

type R<T = ()> = Result<T, String>;

fn e<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> String + '_ {
    move |err| format!("{what}: {err}")
}

/// Runs `scenario` against a fresh editor page (fresh browser profile); on failure,
/// saves a screenshot and the page errors and panics with them.
#[allow(clippy::await_holding_lock)]
async fn with_editor<F, Fut>(test: &str, clipboard: bool, scenario: F)
where
    F: FnOnce(Page) -> Fut,
    Fut: Future<Output = R>,
{
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let Some(pre) = browser::prereqs(test) else {
        return;
    };
    let server = StaticServer::serve(&pre.dist);
    let driver = ChromeDriver::start(&pre, test);
    let url = server.url("/");
    let client = if clipboard {
        session_with_clipboard(&driver, &url).await
    } else {
        driver.session().await
    };
    let page = Page {
        client: client.clone(),
        url,
    };
    let outcome = scenario(page).await;
    if let Err(msg) = &outcome {
        let shot = browser::screenshot(&client, &format!("editor-e2e-{test}-failure.png")).await;
        let errors = browser::page_errors(&client).await;
        let _ = client.close().await;
        panic!(
            "{test}: {msg}\npage errors: {errors:?}\nscreenshot: {}",
            shot.display()
        );
    }
    let errors = browser::page_errors(&client).await;
    let _ = client.close().await;
    assert!(errors.is_empty(), "{test}: errors on the page: {errors:?}");
}

/// A session whose profile lets the page read and write the clipboard.
async fn session_with_clipboard(driver: &ChromeDriver, url: &str) -> Client {
    let mut caps = driver.capabilities();
    let origin = url.trim_end_matches('/').to_owned();
    let setting = json!({ format!("{origin},*"): { "setting": 1 } });
    if let Some(opts) = caps
        .get_mut("goog:chromeOptions")
        .and_then(Value::as_object_mut)
    {
        opts.insert(
            "prefs".into(),
            json!({
                "profile.content_settings.exceptions.clipboard": setting,
                "profile.content_settings.exceptions.clipboard-sanitized-write": setting,
            }),
        );
    }
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&driver.url())
        .await
        .unwrap_or_else(|e| panic!("cannot open a WebDriver session: {e}"))
}

#[derive(Clone)]
struct Page {
    client: Client,
    url: String,
}

fn css(testid: &str) -> String {
    format!("[data-testid=\"{}\"]", testid.replace('"', "\\\""))
}

impl Page {
    /// Opens the editor and waits until it is interactive; returns the wall time.
    async fn open(&self) -> R<Duration> {
        let t0 = Instant::now();
        self.client.goto(&self.url).await.map_err(e("goto"))?;
        self.wait_ready().await?;
        Ok(t0.elapsed())
    }

    async fn wait_ready(&self) -> R {
        self.client
            .wait()
            .at_most(Duration::from_secs(60))
            .for_element(Locator::Css(&css("app-title")))
            .await
            .map_err(e("the editor never started"))?;
        self.wait_until("the app to be interactive", 30, || async {
            Ok(!self.text("perf-ready-ms").await?.is_empty())
        })
        .await
    }

    async fn el(&self, testid: &str) -> R<fantoccini::elements::Element> {
        self.client
            .wait()
            .at_most(Duration::from_secs(15))
            .for_element(Locator::Css(&css(testid)))
            .await
            .map_err(|err| format!("no element {testid}: {err}"))
    }

    async fn exists(&self, testid: &str) -> R<bool> {
        let found = self
            .client
            .find_all(Locator::Css(&css(testid)))
            .await
            .map_err(e("find_all"))?;
        Ok(!found.is_empty())
    }

    async fn click(&self, testid: &str) -> R {
        self.el(testid)
            .await?
            .click()
            .await
            .map_err(|err| format!("click {testid}: {err}"))
    }

    async fn text(&self, testid: &str) -> R<String> {
        self.el(testid)
            .await?
            .text()
            .await
            .map_err(|err| format!("text of {testid}: {err}"))
    }

    async fn value(&self, testid: &str) -> R<String> {
        self.js(
            "return document.querySelector(arguments[0]).value;",
            vec![json!(css(testid))],
        )
        .await
        .map(|v| v.as_str().unwrap_or_default().to_owned())
    }

    async fn attr(&self, testid: &str, name: &str) -> R<Option<String>> {
        self.el(testid).await?.attr(name).await.map_err(e("attr"))
    }

    async fn js(&self, script: &str, args: Vec<Value>) -> R<Value> {
        self.client
            .execute(script, args)
            .await
            .map_err(|err| format!("script failed: {err}"))
    }

    /// Sets an input's value and fires `input` and `change`, as typing/pasting would.
    async fn set(&self, testid: &str, value: &str) -> R {
        self.el(testid).await?;
        self.js(
            "const el = document.querySelector(arguments[0]); el.focus(); el.value = arguments[1];
             el.dispatchEvent(new Event('input', {bubbles: true}));
             el.dispatchEvent(new Event('change', {bubbles: true}));",
            vec![json!(css(testid)), json!(value)],
        )
        .await
        .map(|_| ())
    }

    async fn counter(&self, testid: &str) -> R<u64> {
        let v = self
            .js(
                "return document.querySelector(arguments[0]).textContent;",
                vec![json!(css(testid))],
            )
            .await?;
        Ok(v.as_str().and_then(|s| s.trim().parse().ok()).unwrap_or(0))
    }

    /// The workspace revision (bumped by every change).
    async fn ws_rev(&self) -> R<u64> {
        self.counter("ws-rev").await
    }

    /// Waits until the workspace changed after `rev` and the validation caught up with it.
    async fn settled(&self, rev: u64) -> R {
        self.wait_until("the change to be validated", 30, || async {
            let ws = self.ws_rev().await?;
            Ok(ws > rev && self.counter("validation-rev").await? == ws)
        })
        .await
    }

    async fn wait_until<F, Fut>(&self, what: &str, secs: u64, mut cond: F) -> R
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = R<bool>>,
    {
        let deadline = Instant::now() + Duration::from_secs(secs);
        let mut last_err = String::new();
        loop {
            match cond().await {
                Ok(true) => return Ok(()),
                Ok(false) => {}
                Err(err) => last_err = err,
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "timed out after {secs}s waiting for {what} {last_err}"
                ));
            }
            tokio::time::sleep(Duration::from_millis(60)).await;
        }
    }

    /// `data-code` of every row of the problems list.
    async fn problem_codes(&self) -> R<Vec<(String, String)>> {
        let v = self
            .js(
                "return Array.from(document.querySelectorAll('[data-testid=problem]'))
                    .map(r => [r.dataset.code, r.dataset.path]);",
                vec![],
            )
            .await?;
        Ok(v.as_array()
            .map(|a| {
                a.iter()
                    .map(|p| {
                        (
                            p[0].as_str().unwrap_or_default().to_owned(),
                            p[1].as_str().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn screenshot(&self, name: &str) {
        let shot = browser::screenshot(&self.client, name).await;
        eprintln!("screenshot: {}", shot.display());
    }

    /// Empties the workspace and adds a template (with its Kubernetes stubs).
    async fn start_from_template(&self, id: &str) -> R {
        let rev = self.ws_rev().await?;
        self.click("ws-clear").await?;
        self.click(&format!("template-{id}")).await?;
        self.settled(rev).await
    }

    /// The workspace as the model exports it (via "Copy all" and the export box).
    async fn export_all(&self) -> R<String> {
        self.js(
            "document.querySelector(arguments[0])?.click();",
            vec![json!(css("export-close"))],
        )
        .await?;
        self.click("copy-all").await?;
        self.el("export-text").await?;
        self.value("export-text").await
    }
}

/// The documents of a YAML stream as values, `kind: List` expanded, nulls dropped.
fn documents(text: &str) -> R<Vec<Value>> {
    let mut out = Vec::new();
    for d in parse_stream(text, Limits::default()) {
        let d = d.map_err(|err| format!("YAML error: {err}"))?;
        match d.value {
            Value::Null => {}
            Value::Object(m)
                if m.get("kind")
                    .and_then(Value::as_str)
                    .is_some_and(|k| k.ends_with("List")) =>
            {
                if let Some(Value::Array(items)) = m.get("items") {
                    out.extend(items.iter().cloned());
                }
            }
            v => out.push(v),
        }
    }
    Ok(out)
}

fn find_doc<'a>(docs: &'a [Value], kind: &str, name: &str) -> Option<&'a Value> {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
}

const CANARY_VS: &str = "
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  namespace: default
spec:
  hosts:
  - reviews
  http:
  - name: canary
    route:
    - destination:
        host: reviews
        subset: v1
      weight: 90
    - destination:
        host: reviews
        subset: v2
      weight: 10
";

const CANARY_DR: &str = "
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
  namespace: default
spec:
  host: reviews
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels:
      version: v2
  - name: v3
    labels:
      version: v3
";

#[tokio::test]
async fn editor_canary_template_exports_expected_yaml() {
    with_editor("editor_canary_template_exports_expected_yaml", false, |p| async move {
        p.open().await?;
        p.start_from_template("canary").await?;
        let exported = documents(&p.export_all().await?)?;
        for (kind, expected) in [("VirtualService", CANARY_VS), ("DestinationRule", CANARY_DR)] {
            let want = documents(expected)?.remove(0);
            let got = find_doc(&exported, kind, "reviews").ok_or(format!("no {kind} reviews exported"))?;
            if !semantically_equal(got, &want) {
                return Err(format!("{kind} differs:\n got {got:#}\nwant {want:#}"));
            }
        }
        let kinds: Vec<&str> = exported.iter().filter_map(|d| d["kind"].as_str()).collect();
        if kinds != ["VirtualService", "DestinationRule", "Service", "Deployment", "Deployment", "Deployment"] {
            return Err(format!("unexpected documents: {kinds:?}"));
        }
        // A clean template: no errors, no warnings.
        let codes = p.problem_codes().await?;
        if codes.iter().any(|(c, _)| !c.starts_with("MR0")) || p.text("count-error").await? != "0 errors" {
            return Err(format!("the canary template has problems: {codes:?}"));
        }
        p.click("tab-diagram").await?;
        p.el("diagram").await?;
        let labels = p
            .js("return Array.from(document.querySelectorAll('[data-testid=edge]')).map(e => e.dataset.label);", vec![])
            .await?;
        let labels: Vec<&str> = labels.as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
        if !(labels.contains(&"90%") && labels.contains(&"10%")) {
            return Err(format!("the traffic picture lacks the 90%/10% edges: {labels:?}"));
        }
        p.screenshot("editor-diagram-canary.png").await;
        p.click("tab-form").await?;
        p.screenshot("editor-canary-form.png").await;
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn editor_weight_diagnostic_appears_inline_and_goes() {
    with_editor(
        "editor_weight_diagnostic_appears_inline_and_goes",
        false,
        |p| async move {
            p.open().await?;
            p.start_from_template("canary").await?;
            let w0 = "f-spec.http[0].route[0].weight";
            let w1 = "f-spec.http[0].route[1].weight";
            let diag = "diag-spec.http[0].route";
            // With "keep at 100" on, editing one weight adjusts the other.
            let rev = p.ws_rev().await?;
            p.set(w0, "70").await?;
            p.settled(rev).await?;
            if p.value(w1).await? != "30" || p.text("weight-total-0").await? != "Total weight: 100%"
            {
                return Err(format!(
                    "weights did not rebalance: {} / {}",
                    p.value(w0).await?,
                    p.value(w1).await?
                ));
            }
            // Off: 90/20 is what the user asks for, and MR103 says so at the route list.
            p.click("keep-100").await?;
            p.set(w0, "90").await?;
            p.set(w1, "20").await?;
            p.wait_until(
                "the MR103 diagnostic inline, for a sum of 110",
                15,
                || async {
                    Ok(p.exists(diag).await? && {
                        let msg = p.text(diag).await?;
                        msg.contains("MR103") && msg.contains("sum to 110")
                    })
                },
            )
            .await?;
            if p.text("weight-total-0").await? != "Total weight: 110%" {
                return Err("the total does not say 110%".into());
            }
            p.screenshot("editor-weights-mr103.png").await;
            let rev = p.ws_rev().await?;
            p.set(w1, "10").await?;
            p.settled(rev).await?;
            if p.text("weight-total-0").await? != "Total weight: 100%" {
                return Err("the total does not say 100% after the fix".into());
            }
            p.wait_until("the MR103 diagnostic to go", 15, || async {
                Ok(!p.exists(diag).await?)
            })
            .await?;
            if p.problem_codes().await?.iter().any(|(c, _)| c == "MR103") {
                return Err("MR103 still in the problems list".into());
            }
            Ok(())
        },
    )
    .await;
}

#[tokio::test]
async fn editor_missing_subset_reports_ist0101_and_focuses_field() {
    with_editor("editor_missing_subset_reports_ist0101_and_focuses_field", false, |p| async move {
        p.open().await?;
        p.start_from_template("canary").await?;
        let subset = "f-spec.http[0].route[1].destination.subset";
        p.set(subset, "v9").await?;
        p.wait_until("IST0101 in the problems list", 15, || async {
            Ok(p.problem_codes().await?.iter().any(|(c, path)| c == "IST0101" && path.contains("route[1]")))
        })
        .await?;
        let inline = "diag-spec.http[0].route[1].destination.subset";
        p.wait_until("IST0101 inline at the subset", 10, || async {
            Ok(p.exists(inline).await? && p.text(inline).await?.contains("IST0101"))
        })
        .await?;
        p.screenshot("editor-ist0101.png").await;
        // Clicking the problem focuses the field.
        p.click("count-error").await?; // move focus away first
        p.js(
            "Array.from(document.querySelectorAll('[data-testid=problem]')).find(r => r.dataset.code === 'IST0101').click();",
            vec![],
        )
        .await?;
        p.wait_until("the subset field to get the focus", 10, || async {
            let id = p.js("return document.activeElement && document.activeElement.dataset.testid;", vec![]).await?;
            Ok(id.as_str() == Some(subset))
        })
        .await?;
        // Back to a defined subset: the error goes.
        p.set(subset, "v2").await?;
        p.wait_until("IST0101 to go", 15, || async {
            Ok(!p.problem_codes().await?.iter().any(|(c, _)| c == "IST0101"))
        })
        .await
    })
    .await;
}

fn corpus_samples() -> Option<PathBuf> {
    let base = std::env::var_os("MESHROUTE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus")));
    let dir = base.join("samples");
    dir.is_dir().then_some(dir)
}

#[tokio::test]
async fn editor_imports_every_istio_sample_and_exports_it_unchanged() {
    let Some(dir) = corpus_samples() else {
        eprintln!("SKIP editor_imports_every_istio_sample_and_exports_it_unchanged: no corpus (set MESHROUTE_CORPUS)");
        return;
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("read corpus samples")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no samples in {}", dir.display());
    with_editor(
        "editor_imports_every_istio_sample_and_exports_it_unchanged",
        false,
        |p| async move {
            p.open().await?;
            p.click("import-toggle").await?;
            let mut with_unknown = 0;
            for f in &files {
                let name = f
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default()
                    .to_owned();
                let text = std::fs::read_to_string(f).map_err(e("read sample"))?;
                let rev = p.ws_rev().await?;
                p.click("ws-clear").await?;
                p.set("import-text", &text).await?;
                p.click("import-replace").await?;
                p.settled(rev)
                    .await
                    .map_err(|err| format!("{name}: {err}"))?;
                if p.exists("yaml-errors").await? {
                    return Err(format!("{name}: the editor reports YAML errors"));
                }
                let exported = documents(&p.export_all().await?)
                    .map_err(|err| format!("{name}: export: {err}"))?;
                let original = documents(&text)?;
                if exported.len() != original.len() {
                    return Err(format!(
                        "{name}: {} documents in, {} out",
                        original.len(),
                        exported.len()
                    ));
                }
                for (i, (a, b)) in original.iter().zip(&exported).enumerate() {
                    if !semantically_equal(a, b) {
                        return Err(format!(
                            "{name}: document {i} changed:\n in {a:#}\nout {b:#}"
                        ));
                    }
                }
                if p.problem_codes().await?.iter().any(|(c, _)| c == "MR003") {
                    with_unknown += 1;
                }
            }
            eprintln!(
                "{} samples round-tripped; {with_unknown} with unknown fields (MR003) kept",
                files.len()
            );
            p.screenshot("editor-last-sample.png").await;
            Ok(())
        },
    )
    .await;
}

#[tokio::test]
async fn editor_simulates_end_user_jason() {
    with_editor("editor_simulates_end_user_jason", false, |p| async move {
        p.open().await?;
        p.start_from_template("header-routing").await?;
        p.click("tab-simulator").await?;
        p.set("sim-host", "reviews").await?;
        p.set("sim-headers", "end-user: jason").await?;
        p.wait_until("rule 1 to match", 15, || async {
            Ok(p.attr("sim-result", "data-rule-index").await?.as_deref() == Some("0"))
        })
        .await?;
        if p.attr("sim-rule-0", "data-matched").await?.as_deref() != Some("true") {
            return Err("rule 0 is not highlighted as matched".into());
        }
        let dest = p.text("sim-dest-0").await?;
        if !dest.contains("v2")
            || p.attr("sim-dest-0", "data-probability").await?.as_deref() != Some("1.0000")
        {
            return Err(format!("jason should go to v2 with probability 1: {dest}"));
        }
        p.screenshot("editor-simulator-jason.png").await;
        // Someone else: the first rule fails on end-user, the second matches.
        p.set("sim-headers", "end-user: bob").await?;
        p.wait_until("rule 2 to match", 15, || async {
            Ok(p.attr("sim-result", "data-rule-index").await?.as_deref() == Some("1"))
        })
        .await?;
        let why = p.text("sim-rule-0").await?;
        if !why.contains("end-user") {
            return Err(format!("no reason given for rule 1: {why}"));
        }
        if !p.text("sim-dest-0").await?.contains("v1") {
            return Err("bob should go to v1".into());
        }
        // From the explanation to the rule in the form.
        p.click("sim-show-rule-1").await?;
        p.wait_until("rule 2's card to get the focus", 10, || async {
            let id = p
                .js(
                    "return document.activeElement && document.activeElement.dataset.testid;",
                    vec![],
                )
                .await?;
            Ok(id.as_str() == Some("f-spec.http[1]"))
        })
        .await
    })
    .await;
}

#[tokio::test]
async fn editor_restores_workspace_after_reload_and_undoes() {
    with_editor(
        "editor_restores_workspace_after_reload_and_undoes",
        false,
        |p| async move {
            p.open().await?;
            p.start_from_template("sticky-sessions").await?;
            p.el("doc-DestinationRule-httpbin").await?;
            // Rename it through the form, then reload.
            p.click("doc-DestinationRule-httpbin").await?;
            let rev = p.ws_rev().await?;
            p.set("f-metadata.name", "httpbin-sticky").await?;
            p.settled(rev).await?;
            p.client.refresh().await.map_err(e("reload"))?;
            p.wait_ready().await?;
            p.el("doc-DestinationRule-httpbin-sticky").await?;
            let pane = p.value("yaml-pane").await?;
            if !pane.contains("consistentHash") || !pane.contains("name: httpbin-sticky") {
                return Err("the restored YAML lacks the edits".into());
            }
            // Undo/redo of a deletion.
            p.click("del-doc-DestinationRule-httpbin-sticky").await?;
            p.wait_until("the deletion", 10, || async {
                Ok(!p.exists("doc-DestinationRule-httpbin-sticky").await?)
            })
            .await?;
            p.click("undo").await?;
            p.el("doc-DestinationRule-httpbin-sticky").await?;
            p.click("redo").await?;
            p.wait_until("the redo", 10, || async {
                Ok(!p.exists("doc-DestinationRule-httpbin-sticky").await?)
            })
            .await
        },
    )
    .await;
}

#[tokio::test]
async fn editor_copies_to_clipboard_and_shares_a_link() {
    with_editor(
        "editor_copies_to_clipboard_and_shares_a_link",
        true,
        |p| async move {
            p.open().await?;
            p.start_from_template("mirroring").await?;
            let exported = p.export_all().await?;
            p.wait_until("the copy status", 10, || async {
                Ok(p.text("status").await?.contains("clipboard"))
            })
            .await?;
            let status = p.text("status").await?;
            let clip = p
                .client
                .execute_async(
                    "const done = arguments[arguments.length - 1];
                 navigator.clipboard.readText().then(t => done(t), e => done('ERR ' + e));",
                    vec![],
                )
                .await
                .map_err(e("readText"))?;
            // The session grants the clipboard permission: the clipboard must hold the export.
            match clip.as_str() {
                Some(t) if t == exported => {
                    eprintln!(
                        "clipboard: {} bytes, equal to the export box ({status})",
                        t.len()
                    );
                }
                other => {
                    return Err(format!(
                        "the clipboard does not hold the export ({status}): {:?}",
                        other.map(|t| t.chars().take(200).collect::<String>())
                    ))
                }
            }
            if !status.starts_with("Copied the workspace to the clipboard") {
                return Err(format!("unexpected status after copying: {status}"));
            }
            let docs = documents(&exported)?;
            let vs = find_doc(&docs, "VirtualService", "httpbin")
                .ok_or("no VirtualService httpbin exported")?;
            if vs["spec"]["http"][0]["mirrorPercentage"]["value"] != 10 {
                return Err(format!("unexpected export: {vs:#}"));
            }
            p.click("copy-kubectl").await?;
            let snippet = p.value("export-text").await?;
            if !snippet.starts_with("kubectl apply -f - <<'EOF'\n") || !snippet.ends_with("\nEOF\n")
            {
                return Err(format!("not a kubectl snippet: {snippet}"));
            }
            // Share link: open it in a profile without autosave; the workspace comes from the fragment.
            p.click("share-link").await?;
            let link = p.value("export-text").await?;
            if !link.contains("#ws=") {
                return Err(format!("not a share link: {link}"));
            }
            p.click("ws-clear").await?;
            p.js("localStorage.clear();", vec![]).await?;
            p.client.goto("about:blank").await.map_err(e("blank"))?;
            p.client.goto(&link).await.map_err(e("open link"))?;
            p.wait_ready().await?;
            p.el("doc-VirtualService-httpbin").await?;
            let url = p.client.current_url().await.map_err(e("url"))?;
            if url.fragment().is_some_and(|f| f.contains("ws=")) {
                return Err("the fragment should be cleared after loading".into());
            }
            Ok(())
        },
    )
    .await;
}

#[tokio::test]
async fn editor_yaml_pane_is_two_way_and_keeps_workspace_on_syntax_errors() {
    with_editor(
        "editor_yaml_pane_is_two_way_and_keeps_workspace_on_syntax_errors",
        false,
        |p| async move {
            p.open().await?;
            p.start_from_template("canary").await?;
            let good = p.value("yaml-pane").await?;
            // An unknown field typed in the pane: kept, reported as MR003 info.
            let with_unknown = good.replacen(
                "  hosts:\n  - reviews\n",
                "  hosts:\n  - reviews\n  futureField: 42\n",
                1,
            );
            p.set("yaml-pane", &with_unknown).await?;
            p.wait_until("MR003", 15, || async {
                Ok(p.problem_codes()
                    .await?
                    .iter()
                    .any(|(c, path)| c == "MR003" && path == "spec.futureField"))
            })
            .await?;
            if !p.export_all().await?.contains("futureField: 42") {
                return Err("the unknown field is not exported".into());
            }
            // Rename in the pane: the sidebar follows.
            let renamed = with_unknown.replacen("name: reviews\n", "name: reviews-two\n", 1);
            p.set("yaml-pane", &renamed).await?;
            p.el("doc-VirtualService-reviews-two").await?;
            // A syntax error: line and column shown, workspace unchanged, forms locked.
            let broken = renamed.replacen("  - name: canary\n", "  - name: [canary\n", 1);
            p.set("yaml-pane", &broken).await?;
            let err = p.text("yaml-error").await?;
            if !err.starts_with("Line ") || !err.contains("column") {
                return Err(format!("no line/column in {err:?}"));
            }
            p.el("form-locked").await?;
            p.el("doc-VirtualService-reviews-two").await?;
            p.screenshot("editor-syntax-error.png").await;
            // Fix it: the error goes and the workspace follows the text again.
            p.set(
                "yaml-pane",
                &renamed.replacen("name: reviews-two\n", "name: reviews-three\n", 1),
            )
            .await?;
            p.el("doc-VirtualService-reviews-three").await?;
            if p.exists("yaml-errors").await? {
                return Err("the syntax error stayed".into());
            }
            // A form edit rewrites the pane.
            p.click("doc-VirtualService-reviews-three").await?;
            p.set("f-spec.http[0].name", "split").await?;
            p.wait_until("the pane to follow the form", 10, || async {
                Ok(p.value("yaml-pane").await?.contains("name: split"))
            })
            .await
        },
    )
    .await;
}

#[tokio::test]
async fn editor_dark_theme_and_templates_render() {
    with_editor(
        "editor_dark_theme_and_templates_render",
        false,
        |p| async move {
            p.open().await?;
            p.start_from_template("ingress-tls").await?;
            p.click("theme-toggle").await?;
            let theme = p
                .js("return document.documentElement.dataset.theme;", vec![])
                .await?;
            if theme != "dark" {
                return Err(format!("theme is {theme}"));
            }
            p.click("doc-Gateway-bookinfo-gateway").await?;
            p.el("f-spec.servers[0].tls.credentialName").await?;
            p.screenshot("editor-dark-gateway.png").await;
            // Every template adds cleanly.
            for t in [
                "header-routing",
                "path-routing",
                "canary",
                "blue-green",
                "fault-test-header",
                "chaos",
                "retries-timeouts",
                "mirroring",
                "circuit-breaker",
                "sticky-sessions",
                "locality-failover",
                "ingress-tls",
            ] {
                p.start_from_template(t).await?;
                let errors = p.text("count-error").await?;
                let warnings = p.text("count-warning").await?;
                if errors != "0 errors" || warnings != "0 warnings" {
                    return Err(format!(
                        "template {t}: {errors}, {warnings}: {:?}",
                        p.problem_codes().await?
                    ));
                }
            }
            Ok(())
        },
    )
    .await;
}

/// `n` VirtualService + DestinationRule pairs (2n resources).
fn big_workspace(pairs: usize) -> String {
    let mut s = String::new();
    for i in 0..pairs {
        s.push_str(&format!(
            "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: svc-{i}\n  namespace: default\nspec:\n  hosts:\n  - svc-{i}\n  http:\n  - name: canary\n    match:\n    - headers:\n        x-canary:\n          exact: \"true\"\n    route:\n    - destination:\n        host: svc-{i}\n        subset: v2\n  - name: default\n    timeout: 5s\n    route:\n    - destination:\n        host: svc-{i}\n        subset: v1\n      weight: 90\n    - destination:\n        host: svc-{i}\n        subset: v2\n      weight: 10\n---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: svc-{i}\n  namespace: default\nspec:\n  host: svc-{i}\n  trafficPolicy:\n    outlierDetection:\n      consecutive5xxErrors: 5\n      interval: 10s\n  subsets:\n  - name: v1\n    labels:\n      version: v1\n  - name: v2\n    labels:\n      version: v2\n"
        ));
    }
    s
}

fn gzip_size(path: &std::path::Path) -> Option<u64> {
    let out = std::process::Command::new("gzip")
        .arg("-9")
        .arg("-c")
        .arg(path)
        .output()
        .ok()?;
    out.status.success().then_some(out.stdout.len() as u64)
}

#[tokio::test]
async fn editor_performance_200_resources() {
    let dist = browser::editor_dist();
    with_editor("editor_performance_200_resources", false, |p| async move {
        let mut report = Vec::new();
        if let Some(wasm) = std::fs::read_dir(&dist).ok().and_then(|d| {
            d.flatten().map(|e| e.path()).find(|p| p.extension().is_some_and(|x| x == "wasm"))
        }) {
            let raw = std::fs::metadata(&wasm).map(|m| m.len()).unwrap_or(0);
            let gz = gzip_size(&wasm).unwrap_or(0);
            report.push(format!("wasm: {raw} bytes, gzip -9 {gz} bytes ({})", wasm.display()));
        }
        let wall = p.open().await?;
        let ready = p.text("perf-ready-ms").await?;
        report.push(format!(
            "navigation to interactive: {ready} ms (performance.now() at first frame), {} ms wall clock from goto",
            wall.as_millis()
        ));
        // 200 resources through the YAML pane.
        let text = big_workspace(100);
        p.click("ws-clear").await?;
        let rev = p.ws_rev().await?;
        let t0 = Instant::now();
        p.set("yaml-pane", &text).await?;
        p.settled(rev).await?;
        report.push(format!(
            "load 200 resources: parse {} ms, validate {} ms ({} ms wall clock)",
            p.text("perf-parse-ms").await?,
            p.text("perf-validate-ms").await?,
            t0.elapsed().as_millis(),
        ));
        let count = p
            .js("return document.querySelectorAll('[data-doc-id]').length;", vec![])
            .await?;
        if count.as_u64() != Some(200) {
            return Err(format!("expected 200 resources in the sidebar, found {count}"));
        }
        // Real keystrokes at the end of the pane (each edits the last document only).
        let mut parse = Vec::new();
        let mut validate = Vec::new();
        let mut in_app = Vec::new();
        let mut walls = Vec::new();
        let pane = p.el("yaml-pane").await?;
        for key in ["#", " ", "x"] {
            let rev = p.ws_rev().await?;
            let t0 = Instant::now();
            pane.send_keys(key).await.map_err(e("send_keys"))?;
            p.settled(rev).await?;
            p.wait_until("the keystroke round trip", 10, || async {
                Ok(p.text("perf-roundtrip-ms").await?.parse::<f64>().is_ok_and(|v| v >= 0.0))
            })
            .await?;
            walls.push(t0.elapsed().as_millis());
            parse.push(p.text("perf-parse-ms").await?);
            validate.push(p.text("perf-validate-ms").await?);
            in_app.push(p.text("perf-roundtrip-ms").await?);
        }
        report.push(format!(
            "keystroke in a 200-resource workspace: re-parse {parse:?} ms, re-validate {validate:?} ms, \
             keystroke to problems painted {in_app:?} ms in the app (validation at once when the last one took <= 16 ms, else after 120 ms), {walls:?} ms seen by WebDriver"
        ));
        if !p.value("yaml-pane").await?.ends_with("# x") {
            return Err("the keystrokes did not land at the end of the pane".into());
        }
        p.screenshot("editor-200-resources.png").await;
        let text = report.join("\n");
        eprintln!("editor performance:\n{text}");
        let _ = std::fs::write(support::artifacts_dir().join("editor-performance.txt"), format!("{text}\n"));
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn editor_imports_dropped_and_picked_files_and_downloads() {
    let sample = std::env::temp_dir().join(format!("meshroute-e2e-{}.yaml", std::process::id()));
    std::fs::write(&sample, CANARY_DR.trim_start()).expect("write sample file");
    let path = sample.display().to_string();
    with_editor("editor_imports_dropped_and_picked_files_and_downloads", false, |p| async move {
        p.open().await?;
        p.click("ws-clear").await?;
        // Drag and drop of a file anywhere on the page.
        let rev = p.ws_rev().await?;
        p.js(
            "const dt = new DataTransfer();
             dt.items.add(new File([arguments[0]], 'dropped.yaml', {type: 'application/yaml'}));
             document.querySelector('.app').dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));",
            vec![json!(CANARY_VS.trim_start())],
        )
        .await?;
        p.settled(rev).await?;
        p.el("doc-VirtualService-reviews").await?;
        // The file picker.
        p.click("import-toggle").await?;
        let rev = p.ws_rev().await?;
        p.el("import-file").await?.send_keys(&path).await.map_err(e("pick file"))?;
        p.settled(rev).await?;
        p.el("doc-DestinationRule-reviews").await?;
        let docs = documents(&p.export_all().await?)?;
        if docs.len() != 2 {
            return Err(format!("expected the dropped VS and the picked DR, got {} documents", docs.len()));
        }
        p.click("download").await?;
        p.wait_until("the download", 10, || async { Ok(p.text("status").await?.starts_with("Downloaded")) })
            .await
    })
    .await;
    let _ = std::fs::remove_file(sample);
}

// ---------------------------------------------------------------------------
// Hostile input (issue 5): escaping, no network, share links, imports.

/// Every payload sets `window.__pwned` if it ever runs; `<x-pwn>` is a tag the
/// editor never creates.
const HOSTILE: &str = r#"apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: "<img src=x onerror=window.__pwned=1>"
  namespace: "<script>window.__pwned=2</script>"
spec:
  hosts:
  - "<img src=y onerror=window.__pwned=3>"
  gateways:
  - "\"><svg onload=window.__pwned=4>"
  - mesh
  http:
  - name: "<x-pwn onmouseover=window.__pwned=5>rule</x-pwn>"
    match:
    - headers:
        "<img src=h onerror=window.__pwned=6>":
          exact: "</textarea><img src=t onerror=window.__pwned=7>"
    route:
    - destination:
        host: "<img src=y onerror=window.__pwned=3>"
        subset: "</text><script>window.__pwned=8</script>"
  - route:
    - destination:
        host: "javascript:window.__pwned=9"
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: "<svg/onload=window.__pwned=10>"
spec:
  host: "<img src=y onerror=window.__pwned=3>"
  subsets:
  - name: "</text><script>window.__pwned=8</script>"
    labels:
      version: "<img src=l onerror=window.__pwned=11>"
"#;

impl Page {
    /// The banner text of a refused import or link ("" when none).
    async fn notice(&self) -> R<String> {
        let v = self
            .js(
                "const n = document.querySelector('[data-testid=notice-text]'); return n ? n.textContent : '';",
                vec![],
            )
            .await?;
        Ok(v.as_str().unwrap_or_default().to_owned())
    }

    /// Fails if a hostile payload ran or created an element: `window.__pwned`
    /// stays undefined, no `<img>`, `<x-pwn>`, no `<script>` besides the page's
    /// own, no inline event handler attribute anywhere, no `javascript:` link.
    async fn assert_inert(&self, where_: &str, page_scripts: u64) -> R {
        // Give a created <img> time to fail loading and fire onerror.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let v = self
            .js(
                "const all = Array.from(document.querySelectorAll('*'));
                 return {
                   pwned: typeof window.__pwned === 'undefined' ? null : String(window.__pwned),
                   img: document.querySelectorAll('img').length,
                   xpwn: document.querySelectorAll('x-pwn').length,
                   scripts: document.querySelectorAll('script').length,
                   handlers: all.filter(e => Array.from(e.attributes).some(a => a.name.startsWith('on'))).map(e => e.outerHTML.slice(0, 120)),
                   jsLinks: all.filter(e => ['href', 'src', 'xlink:href', 'action'].some(a => (e.getAttribute(a) || '').trim().toLowerCase().startsWith('javascript:'))).length,
                 };",
                vec![],
            )
            .await?;
        if !v["pwned"].is_null() {
            return Err(format!(
                "{where_}: a payload ran (window.__pwned = {})",
                v["pwned"]
            ));
        }
        if v["img"] != 0 || v["xpwn"] != 0 || v["jsLinks"] != 0 {
            return Err(format!("{where_}: payload elements were created: {v}"));
        }
        if v["scripts"].as_u64() != Some(page_scripts) {
            return Err(format!(
                "{where_}: script elements went from {page_scripts} to {}",
                v["scripts"]
            ));
        }
        if v["handlers"].as_array().is_none_or(|a| !a.is_empty()) {
            return Err(format!(
                "{where_}: elements with inline handlers: {}",
                v["handlers"]
            ));
        }
        Ok(())
    }

    async fn script_count(&self) -> R<u64> {
        Ok(self
            .js("return document.querySelectorAll('script').length;", vec![])
            .await?
            .as_u64()
            .unwrap_or(0))
    }

    /// True when the element's visible text contains `needle` (as text, not markup).
    async fn text_contains(&self, selector: &str, needle: &str) -> R<bool> {
        let v = self
            .js(
                "return Array.from(document.querySelectorAll(arguments[0])).some(e => e.textContent.includes(arguments[1]));",
                vec![json!(selector), json!(needle)],
            )
            .await?;
        Ok(v == true)
    }

    /// Every request the page made (resource timing): only the app's own files
    /// from the page's origin are allowed.
    async fn assert_no_network(&self, dist: &std::path::Path) -> R<Vec<String>> {
        let v = self
            .js(
                "return {origin: location.origin,
                         nav: performance.getEntriesByType('navigation').map(e => e.name),
                         res: performance.getEntriesByType('resource').map(e => e.name)};",
                vec![],
            )
            .await?;
        let origin = v["origin"].as_str().unwrap_or_default().to_owned();
        let app_files: Vec<String> = std::fs::read_dir(dist)
            .map_err(e("read dist"))?
            .flatten()
            .filter_map(|e| e.file_name().to_str().map(|n| format!("/{n}")))
            .collect();
        let res: Vec<String> = v["res"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        for name in &res {
            let ok = name
                .strip_prefix(&origin)
                .is_some_and(|path| app_files.iter().any(|f| f == path));
            if !ok {
                return Err(format!("the page requested {name} (only the app's files from {origin} are allowed): all requests {res:?}"));
            }
        }
        for name in v["nav"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !name.starts_with(&origin) {
                return Err(format!("the page navigated to {name}"));
            }
        }
        Ok(res)
    }

    /// Installs a requestAnimationFrame heartbeat (`window.__hb`) and resets it.
    async fn heartbeat_reset(&self) -> R {
        self.js(
            "if (!window.__hb) {
               window.__hb = {last: performance.now(), maxGap: 0, n: 0};
               const tick = () => { const now = performance.now(); const g = now - __hb.last;
                 if (g > __hb.maxGap) __hb.maxGap = g; __hb.last = now; __hb.n++; requestAnimationFrame(tick); };
               requestAnimationFrame(tick);
             }
             __hb.maxGap = 0; __hb.n = 0; __hb.last = performance.now();",
            vec![],
        )
        .await
        .map(|_| ())
    }

    /// (frames since the reset, longest gap between frames in ms).
    async fn heartbeat(&self) -> R<(u64, f64)> {
        let v = self.js("return [__hb.n, __hb.maxGap];", vec![]).await?;
        Ok((
            v[0].as_u64().unwrap_or(0),
            v[1].as_f64().unwrap_or(f64::MAX),
        ))
    }

    /// The (kind, name) of every sidebar entry.
    async fn sidebar(&self) -> R<Vec<String>> {
        let v = self
            .js(
                "return Array.from(document.querySelectorAll('[data-doc-id]')).map(e => e.dataset.testid || e.textContent);",
                vec![],
            )
            .await?;
        Ok(v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default())
    }
}

/// A tab that froze while working would show a long gap between frames; the
/// machine is shared and loaded, so the bound is generous (a frozen tab shows
/// gaps of many seconds, or no frames at all).
const MAX_FRAME_GAP_MS: f64 = 3000.0;

#[tokio::test]
async fn editor_escapes_hostile_names_everywhere() {
    let dist = browser::editor_dist();
    with_editor("editor_escapes_hostile_names_everywhere", false, |p| async move {
        p.open().await?;
        let scripts = p.script_count().await?;
        p.click("import-toggle").await?;
        let rev = p.ws_rev().await?;
        p.set("import-text", HOSTILE).await?;
        p.click("import-replace").await?;
        p.settled(rev).await?;
        // Sidebar: the names are there, as text.
        let vs_name = "<img src=x onerror=window.__pwned=1>";
        if !p.text_contains("[data-doc-id]", vs_name).await? {
            return Err(format!("the sidebar does not show {vs_name:?} as text: {:?}", p.sidebar().await?));
        }
        p.assert_inert("sidebar", scripts).await?;
        // Problems: the invalid names are reported, with the names in the messages.
        let codes = p.problem_codes().await?;
        if !codes.iter().any(|(c, _)| c == "IST0106") {
            return Err(format!("no IST0106 for the invalid names: {codes:?}"));
        }
        if !p.text_contains("[data-testid=problem]", "<img").await? {
            return Err("the problems list does not show the names as text".into());
        }
        p.assert_inert("problems list", scripts).await?;
        // Form of the VirtualService (inputs hold the values as values).
        p.click(&format!("doc-VirtualService-{vs_name}")).await?;
        if p.value("f-metadata.name").await? != vs_name {
            return Err("the name field does not hold the name".into());
        }
        p.assert_inert("form", scripts).await?;
        // Traffic picture: SVG text.
        p.click("tab-diagram").await?;
        p.el("diagram").await?;
        if !p.text_contains("[data-testid=diagram]", "<img src=y onerror=window.__pwned=3>").await? {
            return Err("the traffic picture does not show the host as text".into());
        }
        p.assert_inert("traffic picture", scripts).await?;
        p.screenshot("editor-hostile-diagram.png").await;
        // Simulator: the rule names and destinations come back in the explanation.
        p.click("tab-simulator").await?;
        p.set("sim-host", "<img src=y onerror=window.__pwned=3>").await?;
        p.set("sim-headers", "<img src=h onerror=window.__pwned=6>: </textarea><img src=t onerror=window.__pwned=7>").await?;
        p.wait_until("the simulator to answer", 15, || async {
            Ok(p.exists("sim-result").await? || p.exists("sim-compile-errors").await?)
        })
        .await?;
        if !p.text_contains("[data-testid=simulator]", "<img src=y onerror=window.__pwned=3>").await? {
            return Err("the simulator does not show the host as text".into());
        }
        eprintln!(
            "simulator: {}",
            p.js("return document.querySelector('[data-testid=simulator]').innerText.slice(0, 600);", vec![]).await?
        );
        p.assert_inert("simulator", scripts).await?;
        p.screenshot("editor-hostile-simulator.png").await;
        // Export and the YAML pane give the names back unchanged.
        let exported = documents(&p.export_all().await?)?;
        if find_doc(&exported, "VirtualService", vs_name).is_none() {
            return Err("the export lost the hostile name".into());
        }
        p.assert_inert("export", scripts).await?;
        let requests = p.assert_no_network(&dist).await?;
        eprintln!("requests: {requests:?}");
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn editor_keeps_data_in_the_browser() {
    let dist = browser::editor_dist();
    with_editor("editor_keeps_data_in_the_browser", true, |p| async move {
        p.open().await?;
        // Everything that touches the workspace: templates, forms, validation,
        // simulator, picture, copy, download, share link, import, reload.
        p.start_from_template("canary").await?;
        p.set("f-spec.http[0].route[1].destination.subset", "v9")
            .await?;
        p.wait_until("IST0101", 15, || async {
            Ok(p.problem_codes().await?.iter().any(|(c, _)| c == "IST0101"))
        })
        .await?;
        p.click("tab-simulator").await?;
        p.set("sim-host", "reviews").await?;
        p.click("tab-diagram").await?;
        p.el("diagram").await?;
        p.export_all().await?;
        p.click("copy-kubectl").await?;
        p.click("share-link").await?;
        p.click("download").await?;
        p.click("import-toggle").await?;
        let rev = p.ws_rev().await?;
        p.set("import-text", CANARY_DR).await?;
        p.click("import-append").await?;
        p.settled(rev).await?;
        let before = p.assert_no_network(&dist).await?;
        p.client.refresh().await.map_err(e("reload"))?;
        p.wait_ready().await?;
        let after = p.assert_no_network(&dist).await?;
        // The page itself loaded: its script, wasm and stylesheet, nothing else.
        for ext in [".js", ".wasm", ".css"] {
            if !after.iter().any(|r| r.ends_with(ext)) {
                return Err(format!(
                    "no {ext} among the page's requests {after:?}: is resource timing working?"
                ));
            }
        }
        eprintln!("requests before reload {before:?}, after {after:?}");
        Ok(())
    })
    .await;
}

/// base64url without padding (as the editor's share links).
fn b64url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

#[tokio::test]
async fn editor_refuses_hostile_share_links() {
    with_editor(
        "editor_refuses_hostile_share_links",
        false,
        |p| async move {
            p.open().await?;
            let scripts = p.script_count().await?;
            // The user's own work, autosaved.
            p.start_from_template("canary").await?;
            p.el("doc-VirtualService-reviews").await?;
            let open_link = |fragment: String| {
                let p = p.clone();
                async move {
                    p.client.goto("about:blank").await.map_err(e("blank"))?;
                    p.client
                        .goto(&format!("{}#{fragment}", p.url))
                        .await
                        .map_err(e("open link"))?;
                    p.wait_ready().await
                }
            };
            let huge = "A".repeat(1_500_000);
            let cases: Vec<(&str, String, &str)> = vec![
                (
                    "not base64",
                    "ws=<img src=x onerror=window.__pwned=1>".to_owned(),
                    "not base64url",
                ),
                (
                    "not UTF-8",
                    format!("ws={}", b64url(&[0xff, 0xfe, 0x00, 0x41])),
                    "not UTF-8",
                ),
                ("huge", format!("ws={huge}"), "KiB"),
                (
                    "YAML syntax error",
                    format!(
                        "ws={}",
                        b64url(b"kind: [VirtualService\nmetadata: {name: x\n")
                    ),
                    "syntax error",
                ),
                (
                    "binary",
                    format!("ws={}", b64url(b"kind: Service\n\x00\x01\x02")),
                    "binary",
                ),
            ];
            for (what, fragment, expect) in cases {
                let t0 = Instant::now();
                open_link(fragment)
                    .await
                    .map_err(|err| format!("{what}: {err}"))?;
                let notice = p.notice().await?;
                if !notice.starts_with("The shared link was not opened") || !notice.contains(expect)
                {
                    return Err(format!(
                        "{what}: expected a notice about {expect:?}, got {notice:?}"
                    ));
                }
                // The autosaved workspace is shown, untouched.
                p.el("doc-VirtualService-reviews")
                    .await
                    .map_err(|err| format!("{what}: {err}"))?;
                p.el("doc-DestinationRule-reviews")
                    .await
                    .map_err(|err| format!("{what}: {err}"))?;
                let url = p.client.current_url().await.map_err(e("url"))?;
                if url.fragment().is_some_and(|f| f.contains("ws=")) {
                    return Err(format!("{what}: the fragment should be cleared"));
                }
                p.assert_inert(what, scripts).await?;
                eprintln!(
                    "{what}: refused in {} ms: {notice}",
                    t0.elapsed().as_millis()
                );
            }
            p.screenshot("editor-bad-share-link.png").await;
            // After all that, a reload still restores the user's workspace.
            p.client.refresh().await.map_err(e("reload"))?;
            p.wait_ready().await?;
            p.el("doc-VirtualService-reviews").await?;
            if !p.notice().await?.is_empty() {
                return Err("a notice after a plain reload".into());
            }
            // A well-formed link whose workspace is script-like: loaded, shown as text, inert.
            open_link(format!("ws={}", b64url(HOSTILE.as_bytes()))).await?;
            if !p
                .text_contains("[data-doc-id]", "<img src=x onerror=window.__pwned=1>")
                .await?
            {
                return Err(format!(
                    "the hostile link's workspace is not shown: {:?}",
                    p.sidebar().await?
                ));
            }
            p.click("tab-diagram").await?;
            p.el("diagram").await?;
            p.assert_inert("hostile link", scripts).await
        },
    )
    .await;
}

/// An alias bomb: 10^7 nodes if expanded (the model stops at 10^6).
fn alias_bomb() -> String {
    let mut s = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n  a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..8 {
        let p = i - 1;
        s.push_str(&format!("  a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
    }
    s
}

#[tokio::test]
async fn editor_refuses_oversized_binary_and_alias_bomb_imports() {
    let dir = std::env::temp_dir().join(format!("meshroute-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    // 5 MB of valid-looking YAML.
    let big = dir.join("big.yaml");
    let mut text = String::new();
    let mut i = 0;
    while text.len() < 5 * 1024 * 1024 {
        text.push_str(&format!("---\napiVersion: v1\nkind: Service\nmetadata:\n  name: s{i}\nspec:\n  ports:\n  - port: 80\n"));
        i += 1;
    }
    std::fs::write(&big, &text).expect("write big file");
    // Binary garbage (a deterministic byte soup with NULs and invalid UTF-8).
    let garbage = dir.join("garbage.yaml");
    let mut x: u32 = 0x1234_5678;
    let bytes: Vec<u8> = (0..64 * 1024)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect();
    std::fs::write(&garbage, bytes).expect("write garbage");
    let (big_path, garbage_path) = (big.display().to_string(), garbage.display().to_string());
    with_editor("editor_refuses_oversized_binary_and_alias_bomb_imports", false, |p| async move {
        p.open().await?;
        p.start_from_template("canary").await?;
        let before = p.export_all().await?;
        let sidebar = p.sidebar().await?;
        p.click("export-close").await?;
        p.click("import-toggle").await?;
        let bomb = alias_bomb();
        let cases: Vec<(&str, &str, String, &str)> = vec![
            ("5 MB file", "file", big_path.clone(), "MiB"),
            ("5 MB paste", "clipboard", text.clone(), "MiB"),
            ("binary file", "file", garbage_path.clone(), "binary"),
            ("alias bomb", "paste", bomb, "alias bomb"),
            ("deep nesting", "paste", format!("a: {}", "[".repeat(5000)), "error at line 1"),
        ];
        for (what, how, input, expect) in cases {
            p.js("const c = document.querySelector('[data-testid=notice-close]'); if (c) c.click();", vec![]).await?;
            let rev = p.ws_rev().await?;
            p.heartbeat_reset().await?;
            let t0 = Instant::now();
            match how {
                "file" => p.el("import-file").await?.send_keys(&input).await.map_err(e("pick file"))?,
                // A real paste (clipboard data on a paste event): the editor refuses it
                // before the text reaches the text area.
                "clipboard" => {
                    let prevented = p
                        .js(
                            "const dt = new DataTransfer(); dt.setData('text/plain', arguments[0]);
                             const el = document.querySelector('[data-testid=import-text]'); el.focus();
                             const ev = new ClipboardEvent('paste', {clipboardData: dt, bubbles: true, cancelable: true});
                             el.dispatchEvent(ev); return ev.defaultPrevented;",
                            vec![json!(input)],
                        )
                        .await?;
                    if prevented != true || !p.value("import-text").await?.is_empty() {
                        return Err(format!("{what}: the paste was not refused"));
                    }
                }
                _ => {
                    p.set("import-text", &input).await?;
                    p.click("import-append").await?;
                }
            }
            p.wait_until(&format!("the {what} to be refused"), 60, || async { Ok(!p.notice().await?.is_empty()) })
                .await?;
            let refused_in = t0.elapsed();
            // The page answers WebDriver promptly and keeps painting frames.
            let t1 = Instant::now();
            tokio::time::sleep(Duration::from_millis(400)).await;
            let (frames, gap) = p.heartbeat().await?;
            let answer = t1.elapsed().saturating_sub(Duration::from_millis(400));
            let notice = p.notice().await?;
            eprintln!(
                "{what}: refused in {} ms; {frames} frames, longest gap {gap:.0} ms, WebDriver answered in {} ms: {notice}",
                refused_in.as_millis(),
                answer.as_millis()
            );
            if !notice.starts_with("Nothing was") || !notice.contains(expect) {
                return Err(format!("{what}: expected a notice about {expect:?}, got {notice:?}"));
            }
            if frames < 5 || gap > MAX_FRAME_GAP_MS || answer > Duration::from_secs(5) {
                return Err(format!("{what}: the tab was not responsive: {frames} frames, longest gap {gap:.0} ms, answer {answer:?}"));
            }
            if p.ws_rev().await? != rev {
                return Err(format!("{what}: the workspace changed"));
            }
            if p.sidebar().await? != sidebar {
                return Err(format!("{what}: the sidebar changed: {:?}", p.sidebar().await?));
            }
            if p.exists("yaml-errors").await? || p.exists("form-locked").await? {
                return Err(format!("{what}: the YAML pane took the refused text"));
            }
        }
        p.screenshot("editor-refused-import.png").await;
        if p.export_all().await? != before {
            return Err("the workspace's export changed".into());
        }
        // And after a reload (the autosave was not overwritten).
        p.client.refresh().await.map_err(e("reload"))?;
        p.wait_ready().await?;
        if p.sidebar().await? != sidebar || p.export_all().await? != before {
            return Err("the workspace restored after reload is not the user's".into());
        }
        Ok(())
    })
    .await;
    let _ = std::fs::remove_dir_all(dir);
}
