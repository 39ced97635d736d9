//! The client-credentials grant end to end (RFC 6749 §4.4, RFC 9068, RFC 8707;
//! docs/security.md C1, C2, C3, C4, C5).

use crate::helpers::{TestApp, verify_with_jwks};
use behalf::store::clients::ClientRow;
use reqwest::StatusCode;

#[tokio::test]
async fn a_confidential_client_gets_an_rfc9068_token_that_verifies_against_the_jwks() {
    let app = TestApp::spawn().await;
    let secret = app.add_client("svc", &["read", "write"], &[]).await;
    let (status, headers, body) = app
        .post_token(
            Some(("svc", &secret)),
            &[("grant_type", "client_credentials"), ("scope", "read")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "read");
    assert_eq!(body["expires_in"], 3600);
    assert!(body.get("refresh_token").is_none());
    let token = body["access_token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::ES256);
    let claims = verify_with_jwks(&app, token, app.issuer()).await.unwrap();
    assert_eq!(claims["sub"], "svc");
    assert_eq!(claims["client_id"], "svc");
    assert_eq!(claims["scope"], "read");
    assert_eq!(claims["iss"], app.issuer());
    assert_eq!(claims["aud"], app.issuer());
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );
    assert!(claims["jti"].as_str().unwrap().len() >= 22);
}

#[tokio::test]
async fn client_secret_post_works_as_well_as_basic() {
    let app = TestApp::spawn().await;
    let secret = app.add_client("svc", &["read"], &[]).await;
    let (status, _, body) = app
        .post_token(
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "svc"),
                ("client_secret", &secret),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["scope"], "read",
        "all of the client's scopes when none is asked for"
    );
}

#[tokio::test]
async fn each_token_has_its_own_jti() {
    let app = TestApp::spawn().await;
    let secret = app.add_client("svc", &["read"], &[]).await;
    let a = app.client_credentials_token("svc", &secret, "read").await;
    let b = app.client_credentials_token("svc", &secret, "read").await;
    let claims_a = verify_with_jwks(&app, &a, app.issuer()).await.unwrap();
    let claims_b = verify_with_jwks(&app, &b, app.issuer()).await.unwrap();
    assert_ne!(claims_a["jti"], claims_b["jti"]);
}

#[tokio::test]
async fn a_wrong_secret_an_unknown_client_or_no_authentication_is_401_invalid_client() {
    let app = TestApp::spawn().await;
    let secret = app.add_client("svc", &["read"], &[]).await;
    let cc = [("grant_type", "client_credentials")];
    let wrong_secret = app.post_token(Some(("svc", "not-the-secret")), &cc).await;
    let unknown = app.post_token(Some(("nobody", &secret)), &cc).await;
    let anonymous = app.post_token(None, &cc).await;
    let secret_of_other_sent_as_post = app
        .post_token(
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "svc"),
                ("client_secret", "x"),
            ],
        )
        .await;
    for (status, headers, body) in [
        wrong_secret,
        unknown,
        anonymous,
        secret_of_other_sent_as_post,
    ] {
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["error"], "invalid_client");
        assert!(
            headers["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Basic")
        );
        assert_eq!(headers["cache-control"], "no-store");
    }
}

#[tokio::test]
async fn a_public_client_cannot_use_client_credentials() {
    let app = TestApp::spawn().await;
    // Registration refuses this combination, so write the row directly: the token
    // endpoint must refuse it on its own too.
    let row = ClientRow {
        client_id: "spa".into(),
        secret_hash: None,
        is_public: true,
        first_party: false,
        name: "spa".into(),
        redirect_uris: "https://app.example.com/cb".into(),
        grant_types: "client_credentials".into(),
        scopes: "read".into(),
        audiences: String::new(),
        created_at: 0,
        delegated_sign_in: false,
        initiate_login_uri: None,
        backchannel_logout_uri: None,
        program_agent: false,
        ciba_mode: None,
        ciba_notification_endpoint: None,
        id_token_signed_response_alg: "RS256".into(),
    };
    app.state.db.run(move |c| row.insert(c)).await.unwrap();
    let (status, _, body) = app
        .post_token(
            None,
            &[("grant_type", "client_credentials"), ("client_id", "spa")],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "unauthorized_client");
}

#[tokio::test]
async fn a_client_without_the_grant_is_unauthorized_client() {
    let app = TestApp::spawn().await;
    let (row, secret) = behalf::oauth::registration::register(
        behalf::oauth::registration::NewClient {
            client_id: "web".into(),
            redirect_uris: vec!["https://app.example.com/cb".into()],
            ..Default::default()
        },
        0,
    )
    .unwrap();
    app.state.db.run(move |c| row.insert(c)).await.unwrap();
    let (status, _, body) = app
        .post_token(
            Some(("web", secret.unwrap().expose())),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "unauthorized_client");
}

#[tokio::test]
async fn a_scope_outside_the_clients_scopes_is_invalid_scope() {
    let app = TestApp::spawn().await;
    let secret = app.add_client("svc", &["read"], &[]).await;
    for scope in ["admin", "read admin", "bad\"scope"] {
        let (status, headers, body) = app
            .post_token(
                Some(("svc", &secret)),
                &[("grant_type", "client_credentials"), ("scope", scope)],
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{scope}");
        assert_eq!(body["error"], "invalid_scope");
        assert_eq!(headers["cache-control"], "no-store");
    }
}

#[tokio::test]
async fn resource_and_audience_become_aud_when_allowed_and_invalid_target_otherwise() {
    let app = TestApp::spawn().await;
    let api = "https://api.example.test";
    let secret = app
        .add_client("svc", &["read"], &[api, "urn:example:reports"])
        .await;
    let ask = |extra: Vec<(&'static str, &'static str)>| {
        let mut form = vec![("grant_type", "client_credentials")];
        form.extend(extra);
        let (app, secret) = (&app, secret.clone());
        async move { app.post_token(Some(("svc", &secret)), &form).await }
    };
    let (status, _, body) = ask(vec![("resource", api)]).await;
    assert_eq!(status, StatusCode::OK);
    let claims = verify_with_jwks(&app, body["access_token"].as_str().unwrap(), api)
        .await
        .unwrap();
    assert_eq!(claims["aud"], api);

    let (status, _, body) = ask(vec![("resource", api), ("audience", "urn:example:reports")]).await;
    assert_eq!(status, StatusCode::OK);
    let claims = verify_with_jwks(&app, body["access_token"].as_str().unwrap(), api)
        .await
        .unwrap();
    assert_eq!(
        claims["aud"],
        serde_json::json!([api, "urn:example:reports"])
    );

    for bad in [
        vec![("resource", "https://evil.example")],
        vec![("resource", "https://api.example.test#frag")],
        vec![("resource", "not-a-uri")],
        vec![("audience", "urn:example:other")],
    ] {
        let (status, _, body) = ask(bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad:?}");
        assert_eq!(body["error"], "invalid_target", "{bad:?}");
    }
}

#[tokio::test]
async fn an_operator_may_sign_access_tokens_with_rs256_as_rfc9068_asks_to_allow() {
    let db = std::sync::Arc::new(crate::helpers::TestDb::new());
    let mut settings = db.settings();
    settings.access_token_algorithm = behalf::tokens::signing_key::Algorithm::RS256;
    let app = TestApp::spawn_with(db, settings, behalf::clock::ManualClock::starting_now()).await;
    let secret = app.add_client("svc", &["read"], &[]).await;
    let token = app.client_credentials_token("svc", &secret, "read").await;
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    let jwks: jsonwebtoken::jwk::JwkSet =
        serde_json::from_value(app.get_json("/jwks.json").await).unwrap();
    let key =
        jsonwebtoken::DecodingKey::from_jwk(jwks.find(&header.kid.unwrap()).unwrap()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_issuer(&[app.issuer()]);
    validation.set_audience(&[app.issuer()]);
    let claims = jsonwebtoken::decode::<serde_json::Value>(&token, &key, &validation)
        .unwrap()
        .claims;
    assert_eq!(claims["sub"], "svc");
    // behalf's own verifier (introspection, actor tokens) accepts it with the key's algorithm.
    assert!(app.state.verify_access_token(&token).is_ok());
    let discovery = app.get_json("/.well-known/openid-configuration").await;
    assert_eq!(
        discovery["access_token_signing_alg_values_supported"],
        serde_json::json!(["RS256"])
    );
}
