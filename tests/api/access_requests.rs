//! The agent API (docs/contract.md "Access requests API"): paths, validation errors,
//! and who may see what (docs/security.md E15; another agent gets 404).

use crate::fixtures::{World, api, ask, console_token, desk, file_request};
use crate::helpers::TestApp;
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn an_agent_files_reads_and_cancels_a_request() {
    let d = desk().await;
    let created = file_request(&d, "read write", 7200).await;
    assert_eq!(created["status"], "pending");
    assert_eq!(created["subject"], d.alice_sub);
    assert_eq!(created["subject_username"], "alice");
    assert_eq!(created["scope"], "read write");
    assert_eq!(created["duration"], 7200);
    assert_eq!(created["reason"], "Customer reported a billing bug");
    assert_eq!(created["ticket"], "SUP-42");
    assert_eq!(created["grant_id"], Value::Null);
    assert!(created["created_at"].as_str().unwrap().ends_with('Z'));
    let id = created["id"].as_str().unwrap();

    let (status, _, read) = api(
        &d.app,
        reqwest::Method::GET,
        &format!("/api/access-requests/{id}"),
        Some(&d.bob),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read, created);

    let (status, _, cancelled) = api(
        &d.app,
        reqwest::Method::DELETE,
        &format!("/api/access-requests/{id}"),
        Some(&d.bob),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(cancelled["status"], "cancelled");
    let (status, _, again) = api(
        &d.app,
        reqwest::Method::DELETE,
        &format!("/api/access-requests/{id}"),
        Some(&d.bob),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
}

#[tokio::test]
async fn the_subject_may_be_given_by_sub_as_well_as_username() {
    let d = desk().await;
    let mut body = ask("read", 3600);
    body["subject"] = json!(d.alice_sub);
    let (status, _, created) = api(
        &d.app,
        reqwest::Method::POST,
        "/api/access-requests",
        Some(&d.bob),
        Some(body),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(created["subject_username"], "alice");
}

#[tokio::test]
async fn bad_requests_get_clear_json_errors() {
    let d = desk().await;
    let cases = [
        (
            json!({"subject": "nobody", "scope": "read", "duration": 3600, "reason": "x"}),
            "invalid_request",
        ),
        (
            json!({"subject": "bob", "scope": "read", "duration": 3600, "reason": "x"}),
            "invalid_request",
        ),
        (
            json!({"subject": "alice", "scope": "read", "duration": 0, "reason": "x"}),
            "invalid_request",
        ),
        (
            json!({"subject": "alice", "scope": "read", "duration": 8 * 86_400, "reason": "x"}),
            "invalid_request",
        ),
        (
            json!({"subject": "alice", "scope": "read", "duration": 3600}),
            "invalid_request",
        ),
        (
            json!({"subject": "alice", "scope": "read", "duration": 3600, "reason": "   "}),
            "invalid_request",
        ),
        (
            json!({"subject": "alice", "scope": "agent", "duration": 3600, "reason": "x"}),
            "invalid_scope",
        ),
        (
            json!({"subject": "alice", "scope": "read billing", "duration": 3600, "reason": "x"}),
            "invalid_scope",
        ),
        (
            json!({"subject": "alice", "scope": "", "duration": 3600, "reason": "x"}),
            "invalid_scope",
        ),
        (
            json!({"subject": "alice", "scope": "read", "duration": "an hour", "reason": "x"}),
            "invalid_request",
        ),
    ];
    for (body, error) in cases {
        let (status, _, answer) = api(
            &d.app,
            reqwest::Method::POST,
            "/api/access-requests",
            Some(&d.bob),
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(answer["error"], error, "{body}: {answer}");
        assert!(answer["error_description"].is_string());
    }
}

#[tokio::test]
async fn configured_non_delegable_scopes_are_refused() {
    let db = std::sync::Arc::new(crate::helpers::TestDb::new());
    let mut settings = db.settings();
    settings.policy.non_delegable_scopes = vec!["admin".into()];
    let app = TestApp::spawn_with(db, settings, behalf::clock::ManualClock::starting_now()).await;
    let world = World::new()
        .user("alice")
        .agent("bob")
        .console()
        .build_on(app)
        .await;
    let bob = world.agent_token("bob").await;
    let (status, _, body) = api(
        &world.app,
        reqwest::Method::POST,
        "/api/access-requests",
        Some(&bob),
        Some(ask("read admin", 3600)),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_scope");
}

#[tokio::test]
async fn without_a_valid_agent_token_the_api_answers_401_or_403_with_bearer() {
    let d = desk().await;
    let alice = console_token(&d.app, &d.secret, "alice", "openid read").await;
    let bob_without_agent_scope = console_token(&d.app, &d.secret, "bob", "openid read").await;
    let client_token = {
        let secret = d.app.add_client("svc", &["agent"], &[]).await;
        d.app
            .client_credentials_token("svc", &secret, "agent")
            .await
    };
    for (token, status) in [
        (None, StatusCode::UNAUTHORIZED),
        (Some("garbage"), StatusCode::UNAUTHORIZED),
        (Some(alice.as_str()), StatusCode::FORBIDDEN),
        (
            Some(bob_without_agent_scope.as_str()),
            StatusCode::FORBIDDEN,
        ),
        (Some(client_token.as_str()), StatusCode::UNAUTHORIZED),
    ] {
        let (got, headers, body) = api(
            &d.app,
            reqwest::Method::POST,
            "/api/access-requests",
            token,
            Some(ask("read", 3600)),
        )
        .await;
        assert_eq!(got, status, "{token:?}: {body}");
        assert!(
            headers["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Bearer")
        );
        assert!(body["error"].is_string());
    }
}

#[tokio::test]
async fn another_agent_cannot_see_cancel_or_end_bobs_request() {
    let d = desk().await;
    let carol = console_token(&d.app, &d.secret, "carol", "openid agent").await;
    let created = file_request(&d, "read", 3600).await;
    let id = created["id"].as_str().unwrap();
    for method in [reqwest::Method::GET, reqwest::Method::DELETE] {
        let (status, _, body) = api(
            &d.app,
            method,
            &format!("/api/access-requests/{id}"),
            Some(&carol),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["error"], "not_found");
    }
    let (status, _, unknown) = api(
        &d.app,
        reqwest::Method::GET,
        "/api/access-requests/nope",
        Some(&carol),
        None,
    )
    .await;
    assert_eq!(
        (status, &unknown),
        (
            StatusCode::NOT_FOUND,
            &json!({"error": "not_found", "error_description": "no such request or grant"})
        )
    );
}
