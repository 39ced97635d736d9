//! docs/security.md L7, L11, L12 on SQLite and PostgreSQL: control characters
//! in any input answer 400 (401 for credentials) before anything is looked up,
//! never 503; concurrent revocations of one token all answer 200; a native
//! app's loopback redirect is never looser than its registration.

use crate::fixtures::{
    Browser, ClientSpec, PASSWORD, add_code_client, add_user, ask, authorize_url, desk, pkce,
};
use crate::helpers::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::Value;

async fn post_form(app: &TestApp, path: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let response = app
        .http
        .post(app.url(path))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_control_character_in_a_client_id_is_a_400_before_any_lookup() {
    let app = TestApp::spawn().await;
    for path in ["/token", "/introspect", "/revoke"] {
        for client_id in ["svc\0", "svc\r\nINFO signed in sub=ADMIN-FORGED", "\x7f"] {
            let form = [
                ("grant_type", "client_credentials"),
                ("client_id", client_id),
                ("client_secret", "s"),
                ("token", "t"),
            ];
            let (status, body) = post_form(&app, path, &form).await;
            assert_eq!(
                status,
                StatusCode::BAD_REQUEST,
                "{path} {client_id:?}: {body}"
            );
            assert_eq!(body["error"], "invalid_request", "{path}: {body}");
        }
    }
}

#[tokio::test]
async fn a_control_character_in_basic_credentials_is_an_invalid_client() {
    let app = TestApp::spawn().await;
    for client_id in ["svc\0", "svc\r\nINFO signed in sub=ADMIN-FORGED"] {
        let response = app
            .http
            .post(app.url("/token"))
            .basic_auth(client_id, Some("secret"))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{client_id:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "invalid_client");
    }
}

#[tokio::test]
async fn a_control_character_in_a_username_is_a_400_page_and_counts_nothing() {
    let app = TestApp::spawn().await;
    add_user(&app, "alice", false).await;
    let browser = Browser::new(&app);
    for username in ["alice\0", "alice\r\n", "\x01"] {
        let page = browser.sign_in("/login", username, PASSWORD).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{username:?}");
        assert!(page.body.contains("not allowed"), "{}", page.body);
    }
    assert_eq!(
        browser.sign_in("/login", "alice", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn a_control_character_in_a_path_or_a_query_is_a_400() {
    let d = desk().await;
    for path in [
        "/api/access-requests/abc%00",
        "/api/access-requests/%0d%0a",
        "/authorize?client_id=cli%00",
        "/login?return_to=/account%0A",
    ] {
        let (status, _, body) =
            crate::fixtures::api(&d.app, Method::GET, path, Some(&d.bob), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
    }
    let response = d
        .app
        .http
        .post(d.app.url("/account/requests/x%00/approve"))
        .form(&[("csrf_token", "t")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn control_characters_in_an_access_request_are_refused_but_line_breaks_in_a_reason_are_text()
{
    let d = desk().await;
    for (field, value) in [
        ("reason", "billing\0bug"),
        ("ticket", "SUP-1\r\nINFO forged"),
        ("subject", "alice\0"),
        ("reason", "bell\x07"),
    ] {
        let mut body = ask("read", 3600);
        body[field] = value.into();
        let (status, _, answer) = crate::fixtures::api(
            &d.app,
            Method::POST,
            "/api/access-requests",
            Some(&d.bob),
            Some(body),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "{field} {value:?}: {answer}"
        );
        assert_eq!(answer["error"], "invalid_request");
        assert!(
            answer["error_description"]
                .as_str()
                .unwrap()
                .contains(field),
            "{answer}"
        );
    }
    let mut body = ask("read", 3600);
    body["reason"] = "Customer wrote:\n\tthe invoice is wrong".into();
    let (status, _, answer) = crate::fixtures::api(
        &d.app,
        Method::POST,
        "/api/access-requests",
        Some(&d.bob),
        Some(body),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
}

/// L11: on PostgreSQL the revocations run in parallel transactions, and each
/// tries to record the never-recorded client-credentials token.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_revocations_of_one_token_all_answer_200() {
    let app = TestApp::spawn().await;
    let secret = app.add_client("svc", &["read"], &[]).await;
    for round in 0..10 {
        let token = app.client_credentials_token("svc", &secret, "read").await;
        let revocations: Vec<_> = (0..8)
            .map(|_| {
                let (http, url, token, secret) = (
                    app.http.clone(),
                    app.url("/revoke"),
                    token.clone(),
                    secret.clone(),
                );
                tokio::spawn(async move {
                    http.post(url)
                        .basic_auth("svc", Some(secret))
                        .form(&[("token", token)])
                        .send()
                        .await
                        .unwrap()
                        .status()
                })
            })
            .collect();
        for revocation in revocations {
            assert_eq!(revocation.await.unwrap(), StatusCode::OK, "round {round}");
        }
        let response = app
            .http
            .post(app.url("/introspect"))
            .basic_auth("svc", Some(&secret))
            .form(&[("token", token.as_str())])
            .send()
            .await
            .unwrap();
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["active"], false, "round {round}");
    }
}

/// L12: each URI below is refused with an error page (never redirected to),
/// while the registered loopback path on another port is accepted.
#[tokio::test]
async fn a_native_apps_loopback_redirect_is_never_looser_than_its_registration() {
    let app = TestApp::spawn().await;
    add_user(&app, "alice", false).await;
    add_code_client(
        &app,
        ClientSpec {
            id: "cli",
            public: true,
            first_party: true,
            refresh: false,
        },
    )
    .await;
    let browser = Browser::new(&app);
    let (_, challenge) = pkce();
    for redirect_uri in [
        "http://127.0.0.1:53111/cb#frag",
        "http://user:pw@127.0.0.1:53111/cb",
        "HTTP://127.0.0.1:53111/cb",
        "http://127.0.0.1:99999/cb",
        "http://127.0.0.1:/cb",
    ] {
        let page = browser
            .get(&authorize_url(
                &app,
                "cli",
                &challenge,
                &[("redirect_uri", redirect_uri)],
            ))
            .await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{redirect_uri}");
        assert!(page.headers.get("location").is_none(), "{redirect_uri}");
    }
    let page = browser
        .get(&authorize_url(
            &app,
            "cli",
            &challenge,
            &[("redirect_uri", "http://127.0.0.1:53111/cb")],
        ))
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(page.location().starts_with("/login"));
}
