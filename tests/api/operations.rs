//! Operations endpoints: liveness, readiness and Prometheus metrics.

use crate::helpers::TestApp;
use reqwest::StatusCode;

#[tokio::test]
async fn health_and_readiness_answer_when_the_database_does() {
    let app = TestApp::spawn().await;
    let health = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let ready = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status_and_tokens_by_grant() {
    let app = TestApp::spawn().await;
    let secret = app.add_client("svc", &["read"], &[]).await;
    app.client_credentials_token("svc", &secret, "read").await;
    let _ = app
        .post_token(
            Some(("svc", "wrong")),
            &[("grant_type", "client_credentials")],
        )
        .await;
    let text = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let has = |needle: &[&str]| text.lines().any(|l| needle.iter().all(|n| l.contains(n)));
    assert!(
        has(&["http_requests_total", "route=\"/token\"", "status=\"200\""]),
        "{text}"
    );
    assert!(
        has(&["http_requests_total", "route=\"/token\"", "status=\"401\""]),
        "{text}"
    );
    assert!(
        has(&["http_request_duration_seconds_bucket", "route=\"/token\""]),
        "{text}"
    );
    assert!(
        has(&["behalf_tokens_issued_total", "grant=\"client_credentials\""]),
        "{text}"
    );
}

#[tokio::test]
async fn responses_carry_a_request_id_and_echo_the_callers() {
    let app = TestApp::spawn().await;
    let fresh = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert!(!fresh.headers()["x-request-id"].is_empty());
    let echoed = app
        .http
        .get(app.url("/healthz"))
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "trace-me-123");
}
