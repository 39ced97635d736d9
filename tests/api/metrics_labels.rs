//! `/metrics` labels come from closed sets (docs/security.md L4): made-up
//! methods and paths, as a scanner sends them, add no series (the recorder
//! never drops one); every metric has its `# HELP`; and with `metrics_listen`
//! the metrics leave the main listener for an address of their own.

use crate::helpers::TestApp;
use reqwest::{Method, StatusCode};
use std::collections::BTreeSet;

async fn metrics_text(app: &TestApp, base: &str) -> String {
    let response = app
        .http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.unwrap()
}

/// Each series' name and labels, without its value.
fn series(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            l.rsplit_once(' ')
                .map_or(l, |(series, _)| series)
                .to_string()
        })
        .collect()
}

/// One request of every odd kind, numbered `n`: a made-up method on a route,
/// on an unknown path, and a known method on an unknown path.
async fn odd_requests(app: &TestApp, n: usize) {
    let method = Method::from_bytes(format!("X-SCAN-{n}").as_bytes()).unwrap();
    for path in [
        "/token".to_string(),
        "/healthz".into(),
        format!("/scan/{n}"),
    ] {
        app.http
            .request(method.clone(), app.url(&path))
            .send()
            .await
            .unwrap();
    }
    app.http
        .get(app.url(&format!("/scan/{n}/{}", "a".repeat(n % 50))))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn odd_methods_and_paths_add_no_series_and_every_metric_has_help() {
    let app = TestApp::spawn().await;
    let secret = app.add_client("svc", &["read"], &[]).await;
    app.client_credentials_token("svc", &secret, "read").await;
    odd_requests(&app, 0).await;
    metrics_text(&app, &app.base).await;
    let before = metrics_text(&app, &app.base).await;

    for n in 1..=300 {
        odd_requests(&app, n).await;
    }
    let after = metrics_text(&app, &app.base).await;
    let added: Vec<_> = series(&after)
        .difference(&series(&before))
        .cloned()
        .collect();
    assert!(added.is_empty(), "new series: {added:#?}");
    assert!(after.len() < 16 * 1024, "/metrics is {} bytes", after.len());
    assert!(
        after.contains(r#"method="other""#),
        "odd methods are counted as other: {after}"
    );
    for metric in [
        "http_requests_total",
        "http_request_duration_seconds",
        "behalf_tokens_issued_total",
    ] {
        assert!(
            after
                .lines()
                .any(|l| l.starts_with(&format!("# HELP {metric} "))),
            "no # HELP for {metric}: {after}"
        );
    }
}

#[tokio::test]
async fn with_metrics_listen_metrics_answer_there_and_not_on_the_main_listener() {
    let app = TestApp::spawn_configured(|s| s.metrics_listen = Some("127.0.0.1:0".into())).await;
    let metrics_base = app.metrics_base.clone().expect("a metrics listener");
    assert_ne!(metrics_base, app.base);
    let health = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let main = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(main.status(), StatusCode::NOT_FOUND);
    let text = metrics_text(&app, &metrics_base).await;
    assert!(
        text.lines()
            .any(|l| l.starts_with("http_requests_total") && l.contains(r#"route="/healthz""#)),
        "the metrics listener counts the main listener's requests: {text}"
    );
}
