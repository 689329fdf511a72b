//! Real-browser smoke test of the editor: serve the trunk build (editor/dist),
//! drive headless Chromium through ChromeDriver, click, screenshot.
//!
//! Needs chromium + chromedriver (scripts/setup.sh) and `scripts/build.sh editor`;
//! skipped otherwise unless MESHROUTE_REQUIRE_E2E is set (see tests/README.md).

mod support;

use fantoccini::{Client, Locator};
use std::time::{Duration, Instant};
use support::browser::{self, ChromeDriver, StaticServer};

const TEST: &str = "editor_loads_and_counter_reacts";

#[tokio::test]
async fn editor_loads_and_counter_reacts() {
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

    let counter = Locator::Css("[data-testid=counter-value]");
    let before = client
        .find(counter)
        .await
        .map_err(|e| e.to_string())?
        .text()
        .await
        .map_err(|e| e.to_string())?;
    let button = client
        .find(Locator::Css("[data-testid=counter-button]"))
        .await
        .map_err(|e| e.to_string())?;
    button.click().await.map_err(|e| format!("click: {e}"))?;
    button.click().await.map_err(|e| format!("click: {e}"))?;

    let deadline = Instant::now() + Duration::from_secs(10);
    let after = loop {
        let now = client
            .find(counter)
            .await
            .map_err(|e| e.to_string())?
            .text()
            .await
            .map_err(|e| e.to_string())?;
        if now != before || Instant::now() > deadline {
            break now;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    if before != "Clicked 0 times" || after != "Clicked 2 times" {
        return Err(format!(
            "counter went from {before:?} to {after:?}, expected 0 -> 2 clicks"
        ));
    }

    let errors = browser::page_errors(client).await;
    if !errors.is_empty() {
        return Err(format!("errors on the page: {errors:?}"));
    }
    let shot = browser::screenshot(client, "editor-smoke.png").await;
    eprintln!("screenshot: {}", shot.display());
    Ok(())
}
