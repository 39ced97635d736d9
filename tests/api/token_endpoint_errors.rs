//! The token endpoint's answers to malformed input: RFC 6749 §5.2 JSON errors,
//! never axum's plain-text rejections (docs/security.md A4, C2).

use crate::helpers::TestApp;
use reqwest::StatusCode;
use serde_json::Value;

async fn raw_post(app: &TestApp, content_type: &str, body: &str) -> (StatusCode, String, Value) {
    let response = app
        .http
        .post(app.url("/token"))
        .header("content-type", content_type)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status();
    let cache = response.headers()["cache-control"]
        .to_str()
        .unwrap()
        .to_string();
    (
        status,
        cache,
        response.json().await.expect("a JSON error body"),
    )
}

#[tokio::test]
async fn bad_forms_are_invalid_request_json_with_no_store() {
    let app = TestApp::spawn().await;
    let form = "application/x-www-form-urlencoded";
    for (content_type, body) in [
        ("application/json", r#"{"grant_type":"client_credentials"}"#),
        ("text/plain", "grant_type=client_credentials"),
        (
            form,
            "grant_type=client_credentials&grant_type=client_credentials",
        ),
        (form, "scope=read"),
        (form, ""),
    ] {
        let (status, cache, body) = raw_post(&app, content_type, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{content_type} {body}");
        assert_eq!(body["error"], "invalid_request");
        assert!(body["error_description"].is_string());
        assert_eq!(cache, "no-store");
    }
}

#[tokio::test]
async fn a_duplicated_client_parameter_is_invalid_request() {
    let app = TestApp::spawn().await;
    let secret = app.add_client("svc", &["read"], &[]).await;
    let (status, _, body) = app
        .post_token(
            Some(("svc", &secret)),
            &[
                ("grant_type", "client_credentials"),
                ("scope", "read"),
                ("scope", "read"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_request");
}

#[tokio::test]
async fn unknown_grant_types_and_the_password_grant_are_unsupported() {
    let app = TestApp::spawn().await;
    let secret = app.add_client("svc", &["read"], &[]).await;
    for grant in ["password", "implicit", "urn:example:whatever"] {
        let (status, headers, body) = app
            .post_token(
                Some(("svc", &secret)),
                &[("grant_type", grant), ("username", "a"), ("password", "b")],
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{grant}");
        assert_eq!(body["error"], "unsupported_grant_type");
        assert_eq!(headers["cache-control"], "no-store");
    }
}

#[tokio::test]
async fn two_authentication_methods_at_once_are_invalid_request() {
    let app = TestApp::spawn().await;
    let secret = app.add_client("svc", &["read"], &[]).await;
    let (status, _, body) = app
        .post_token(
            Some(("svc", &secret)),
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "svc"),
                ("client_secret", &secret),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_request");
}

#[tokio::test]
async fn an_oversized_body_is_refused_without_reaching_the_grant() {
    let app = TestApp::spawn().await;
    let body = format!(
        "grant_type=client_credentials&scope={}",
        "a".repeat(200 * 1024)
    );
    let response = app
        .http
        .post(app.url("/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_client_error());
}
