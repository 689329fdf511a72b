//! Real-browser smoke test of the editor: serve the trunk build (editor/dist),
//! drive headless Chromium through ChromeDriver, click, screenshot.
//!
//! Needs chromium + chromedriver (scripts/setup.sh) and `scripts/build.sh editor`;
//! skipped otherwise unless MESHROUTE_REQUIRE_E2E is set (see tests/README.md).

mod support;

use fantoccini::{Client, Locator};
use std::time::Duration;
use support::browser::{self, ChromeDriver, StaticServer};

const TEST: &str = "editor_loads_and_tabs_react";

#[tokio::test]
async fn editor_loads_and_tabs_react() {
    let Some(pre) = browser::prereqs(TEST) else {
        return;
    };
    let server = StaticServer::serve(&pre.dist);
    let driver = ChromeDriver::start(&pre, TEST);
    let client = driver.session().await;

    let outcome = scenario(&client, &server).await;
    if let Err(msg) = &outcome {
        let shot = browser::screenshot(&client, "editor-smoke-failure.png").await;
        let html = client.source().await.unwrap_or_default();
        let errors = browser::page_errors(&client).await;
        let _ = client.close().await;
        panic!(
            "{msg}\npage errors: {errors:?}\nscreenshot: {}\nDOM: {html}",
            shot.display()
        );
    }
    client.close().await.expect("close session");
}

async fn scenario(client: &Client, server: &StaticServer) -> Result<(), String> {
    client
        .goto(&server.url("/"))
        .await
        .map_err(|e| format!("goto: {e}"))?;
    let title = client
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css("[data-testid=app-title]"))
        .await
        .map_err(|e| format!("app title never appeared (wasm not started?): {e}"))?;
    let text = title.text().await.map_err(|e| e.to_string())?;
    if text != "meshroute editor" {
        return Err(format!("unexpected title {text:?}"));
    }

    // The app reacts to a click: the Simulate tab opens the simulator, Form brings the
    // form back (real controls, not a test-only widget).
    for (tab, body) in [("tab-simulator", "simulator"), ("tab-form", "form")] {
        client
            .find(Locator::Css(&format!("[data-testid={tab}]")))
            .await
            .map_err(|e| e.to_string())?
            .click()
            .await
            .map_err(|e| format!("click {tab}: {e}"))?;
        client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(&format!("[data-testid={body}]")))
            .await
            .map_err(|e| format!("clicking {tab} did not show [data-testid={body}]: {e}"))?;
        let selected = client
            .find(Locator::Css(&format!("[data-testid={tab}]")))
            .await
            .map_err(|e| e.to_string())?
            .attr("aria-selected")
            .await
            .map_err(|e| e.to_string())?;
        if selected.as_deref() != Some("true") {
            return Err(format!("{tab} clicked but aria-selected is {selected:?}"));
        }
    }

    let errors = browser::page_errors(client).await;
    if !errors.is_empty() {
        return Err(format!("errors on the page: {errors:?}"));
    }
    let shot = browser::screenshot(client, "editor-smoke.png").await;
    eprintln!("screenshot: {}", shot.display());
    Ok(())
}
