//! OpenID Connect specifics (docs/security.md I1, I2): `nonce`, `auth_time` with
//! `max_age`, and re-authentication forced by `prompt=login` and `max_age`.

use crate::fixtures::{
    Browser, ClientSpec, PASSWORD, add_code_client, add_user, authorize_url, pkce, query_of, redeem,
};
use crate::helpers::{TestApp, jwt_claims};
use reqwest::StatusCode;
use serde_json::Value;

fn id_token_claims(tokens: &Value) -> Value {
    jwt_claims(tokens["id_token"].as_str().expect("an ID token"))
}

#[tokio::test]
async fn the_id_token_echoes_the_nonce_and_carries_auth_time() {
    let app = TestApp::spawn().await;
    add_user(&app, "alice", false).await;
    let secret = add_code_client(
        &app,
        ClientSpec {
            id: "rp",
            public: false,
            first_party: true,
            refresh: false,
        },
    )
    .await
    .unwrap();
    let (verifier, challenge) = pkce();
    let signed_in_at = app.clock_now();
    let location = Browser::new(&app)
        .authorize(
            &authorize_url(&app, "rp", &challenge, &[("max_age", "300")]),
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
    assert_eq!(status, StatusCode::OK);
    let claims = id_token_claims(&tokens);
    assert_eq!(claims["nonce"], "n-456");
    assert_eq!(claims["iss"], app.issuer());
    assert_eq!(claims["aud"], "rp");
    assert_eq!(claims["azp"], "rp");
    assert_eq!(claims["auth_time"], signed_in_at);
    assert!(claims["at_hash"].is_string());
    let header = jsonwebtoken::decode_header(tokens["id_token"].as_str().unwrap()).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
}

#[tokio::test]
async fn prompt_login_and_an_exceeded_max_age_force_a_new_sign_in() {
    let app = TestApp::spawn().await;
    add_user(&app, "alice", false).await;
    add_code_client(
        &app,
        ClientSpec {
            id: "rp",
            public: false,
            first_party: true,
            refresh: false,
        },
    )
    .await;
    let browser = Browser::new(&app);
    assert_eq!(
        browser.sign_in("/login", "alice", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    let (_, challenge) = pkce();

    let plain = browser
        .get(&authorize_url(&app, "rp", &challenge, &[]))
        .await;
    assert!(
        query_of(&plain.location()).contains_key("code"),
        "the session suffices"
    );

    let forced = browser
        .get(&authorize_url(
            &app,
            "rp",
            &challenge,
            &[("prompt", "login")],
        ))
        .await;
    assert!(
        forced.location().starts_with("/login"),
        "prompt=login asks again"
    );
    let again = browser.sign_in(&forced.location(), "alice", PASSWORD).await;
    let after = browser.get(&again.location()).await;
    assert!(
        query_of(&after.location()).contains_key("code"),
        "and then goes on, without a loop"
    );

    app.clock.advance(120);
    let stale = browser
        .get(&authorize_url(&app, "rp", &challenge, &[("max_age", "60")]))
        .await;
    assert!(
        stale.location().starts_with("/login"),
        "max_age exceeded asks again"
    );
    let fresh = browser
        .get(&authorize_url(
            &app,
            "rp",
            &challenge,
            &[("max_age", "600")],
        ))
        .await;
    assert!(query_of(&fresh.location()).contains_key("code"));
    let none = browser
        .get(&authorize_url(
            &app,
            "rp",
            &challenge,
            &[("max_age", "60"), ("prompt", "none")],
        ))
        .await;
    assert_eq!(query_of(&none.location())["error"], "login_required");
}

#[tokio::test]
async fn userinfo_refuses_missing_foreign_and_scope_less_tokens() {
    let app = TestApp::spawn().await;
    let secret = app.add_client("svc", &["read"], &[]).await;
    let machine = app.client_credentials_token("svc", &secret, "read").await;
    for auth in [None, Some("not-a-token".to_string()), Some(machine)] {
        let mut request = app.http.get(app.url("/userinfo"));
        if let Some(token) = &auth {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        assert!(matches!(
            response.status(),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
        ));
        assert!(
            response.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Bearer")
        );
    }
}

#[tokio::test]
async fn the_reauthentication_marker_cannot_be_forged_or_transplanted() {
    let app = TestApp::spawn().await;
    add_user(&app, "alice", false).await;
    add_code_client(
        &app,
        ClientSpec {
            id: "rp",
            public: false,
            first_party: true,
            refresh: false,
        },
    )
    .await;
    let browser = Browser::new(&app);
    assert_eq!(
        browser.sign_in("/login", "alice", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    let (_, challenge) = pkce();
    let forced = browser
        .get(&authorize_url(
            &app,
            "rp",
            &challenge,
            &[("prompt", "login")],
        ))
        .await;
    let return_to = query_of(&forced.location())["return_to"].clone();
    let genuine = query_of(&return_to)["behalf_reauth_since"].clone();
    let (time, _) = genuine.split_once('.').unwrap();
    let (_, other_challenge) = pkce();
    for (marker, challenge) in [
        ("1".to_string(), challenge.as_str()),
        (
            format!("1.{}", genuine.split_once('.').unwrap().1),
            challenge.as_str(),
        ),
        (format!("{time}.AAAA"), challenge.as_str()),
        (genuine.clone(), other_challenge.as_str()),
    ] {
        let url = authorize_url(
            &app,
            "rp",
            challenge,
            &[("prompt", "login"), ("behalf_reauth_since", &marker)],
        );
        let page = browser.get(&url).await;
        assert!(
            page.location().starts_with("/login"),
            "{marker} skipped the sign-in"
        );
    }
}
