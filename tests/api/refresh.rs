//! Refresh tokens (docs/security.md D1–D3): rotation and reuse detection, binding to
//! the client and the original scope, and the end of the account or consent.

use crate::fixtures::{
    Browser, ClientSpec, add_code_client, add_user, authorize_url, pkce, query_of, redeem,
};
use crate::helpers::TestApp;
use reqwest::StatusCode;
use serde_json::Value;

struct Signed {
    app: TestApp,
    secret: String,
    refresh: String,
}

async fn signed_in(first_party: bool) -> Signed {
    let app = TestApp::spawn().await;
    add_user(&app, "alice", false).await;
    let secret = add_code_client(
        &app,
        ClientSpec {
            id: "rp",
            public: false,
            first_party,
            refresh: true,
        },
    )
    .await
    .unwrap();
    let (verifier, challenge) = pkce();
    let location = Browser::new(&app)
        .authorize(
            &authorize_url(&app, "rp", &challenge, &[]),
            "alice",
            "approve",
        )
        .await;
    let (status, tokens) = redeem(
        &app,
        ("rp", Some(&secret)),
        &query_of(&location)["code"],
        &verifier,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    Signed {
        refresh: tokens["refresh_token"].as_str().unwrap().into(),
        app,
        secret,
    }
}

async fn refresh(
    s: &Signed,
    client: (&str, &str),
    token: &str,
    scope: Option<&str>,
) -> (StatusCode, Value) {
    let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", token)];
    if let Some(scope) = scope {
        form.push(("scope", scope));
    }
    let (status, _, body) = s.app.post_token(Some(client), &form).await;
    (status, body)
}

#[tokio::test]
async fn each_refresh_rotates_and_a_replay_revokes_the_family() {
    let s = signed_in(true).await;
    let (status, first) = refresh(&s, ("rp", &s.secret), &s.refresh, None).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let rotated = first["refresh_token"].as_str().unwrap();
    assert_ne!(rotated, s.refresh);
    assert_eq!(first["scope"], "openid profile");
    assert!(first["id_token"].is_string());

    let (status, replay) = refresh(&s, ("rp", &s.secret), &s.refresh, None).await;
    assert_eq!(
        (status, replay["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    let (status, after) = refresh(&s, ("rp", &s.secret), rotated, None).await;
    assert_eq!(
        (status, after["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant")),
        "family revoked"
    );
    let access = first["access_token"].as_str().unwrap();
    let info = s
        .app
        .http
        .get(s.app.url("/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(
        info.status(),
        StatusCode::UNAUTHORIZED,
        "access tokens of the family revoked"
    );
}

#[tokio::test]
async fn another_client_or_a_wider_scope_is_refused_and_a_narrower_one_allowed() {
    let s = signed_in(true).await;
    let other = add_code_client(
        &s.app,
        ClientSpec {
            id: "other",
            public: false,
            first_party: true,
            refresh: true,
        },
    )
    .await
    .unwrap();
    let (status, body) = refresh(&s, ("other", &other), &s.refresh, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    let (status, body) = refresh(
        &s,
        ("rp", &s.secret),
        &s.refresh,
        Some("openid profile agent"),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_scope"))
    );
    // Neither refusal used the token up.
    let (status, narrowed) = refresh(&s, ("rp", &s.secret), &s.refresh, Some("openid")).await;
    assert_eq!(status, StatusCode::OK, "{narrowed}");
    assert_eq!(narrowed["scope"], "openid");
    // The family keeps its original scope: the next refresh may ask for all of it again.
    let (status, full) = refresh(
        &s,
        ("rp", &s.secret),
        narrowed["refresh_token"].as_str().unwrap(),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(full["scope"], "openid profile");
}

#[tokio::test]
async fn refresh_tokens_expire_when_idle() {
    let s = signed_in(true).await;
    s.app
        .clock
        .advance(s.app.state.settings.refresh_token_idle_seconds);
    let (status, body) = refresh(&s, ("rp", &s.secret), &s.refresh, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn withdrawn_consent_ends_refresh() {
    let s = signed_in(false).await;
    // "Withdraw" under "Apps you allowed" on alice's account page.
    let browser = crate::fixtures::signed_in_to_account(&s.app, "alice").await;
    let page = browser.get("/account").await;
    assert!(page.body.contains("data-app-id=\"rp\""), "{}", page.body);
    let withdrawn = browser
        .post("/account/apps/rp/withdraw", &[crate::fixtures::csrf(&page)])
        .await;
    assert_eq!(withdrawn.status, StatusCode::SEE_OTHER);
    let (status, body) = refresh(&s, ("rp", &s.secret), &s.refresh, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn a_disabled_user_cannot_refresh_or_sign_in() {
    let s = signed_in(true).await;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_behalf"))
        .args(["user", "disable", "alice"])
        .env("BEHALF_DATABASE_URL", &s.app.db.url)
        .env("BEHALF_KEY_ENCRYPTION_KEY", crate::helpers::TEST_KEK)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (status, body) = refresh(&s, ("rp", &s.secret), &s.refresh, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    let page = Browser::new(&s.app)
        .sign_in("/login", "alice", crate::fixtures::PASSWORD)
        .await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_refresh_token_raced_on_two_instances_succeeds_once() {
    let s = signed_in(true).await;
    let mut settings = s.app.db.settings();
    settings.issuer = Some(s.app.issuer().to_string());
    let other = TestApp::spawn_with(s.app.db.clone(), settings, s.app.clock.clone()).await;
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", s.refresh.as_str()),
    ];
    let (a, b) = tokio::join!(
        s.app.post_token(Some(("rp", &s.secret)), &form),
        other.post_token(Some(("rp", &s.secret)), &form)
    );
    let statuses = [a.0, b.0];
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
    let loser = if a.0 == StatusCode::OK { b.2 } else { a.2 };
    assert_eq!(loser["error"], "invalid_grant");
}
