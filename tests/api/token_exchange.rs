//! RFC 8693 token exchange under a grant (docs/security.md E1–E15, H1 on actor tokens).

use crate::fixtures::{ACCESS_TOKEN_TYPE, api, approve, console_token, granted};
use crate::helpers::{jwt_claims, verify_with_jwks};
use behalf::store::audit_events;
use reqwest::{Method, StatusCode};

fn assert_error(result: (StatusCode, serde_json::Value), status: StatusCode, error: &str) {
    assert_eq!(result.0, status, "{}", result.1);
    assert_eq!(result.1["error"], error, "{}", result.1);
}

#[tokio::test]
async fn the_console_exchanges_bobs_token_for_a_delegated_token_naming_him_as_actor() {
    let g = granted("read write", 3600).await;
    let (status, body) = g.exchange(&[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["issued_token_type"], ACCESS_TOKEN_TYPE);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 300);
    assert_eq!(body["scope"], "read write");
    assert!(body.get("refresh_token").is_none());
    let token = body["access_token"].as_str().unwrap();
    let claims = verify_with_jwks(&g.d.app, token, g.d.app.issuer())
        .await
        .unwrap();
    assert_eq!(claims["sub"], g.d.alice_sub);
    let bob = verify_with_jwks(&g.d.app, &g.d.bob, g.d.app.issuer())
        .await
        .unwrap();
    assert_eq!(claims["act"], serde_json::json!({"sub": bob["sub"]}));
    assert_eq!(claims["grant_id"], g.grant_id);
    assert_eq!(claims["client_id"], "console");
    assert_eq!(claims["scope"], "read write");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        300
    );
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
}

#[tokio::test]
async fn no_client_authentication_or_a_public_client_is_invalid_client() {
    let g = granted("read", 3600).await;
    assert_error(
        g.exchange_as(None, &[]).await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    );
    assert_error(
        g.exchange_as(Some(("console", "wrong")), &[]).await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    );
    crate::fixtures::add_code_client(
        &g.d.app,
        crate::fixtures::ClientSpec {
            id: "spa",
            public: true,
            first_party: true,
            refresh: false,
        },
    )
    .await;
    assert_error(
        g.exchange_as(None, &[("client_id", "spa")]).await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    );
}

#[tokio::test]
async fn a_client_without_the_exchange_grant_is_unauthorized_client() {
    let g = granted("read", 3600).await;
    let secret = g.d.app.add_client("svc", &["read"], &[]).await;
    assert_error(
        g.exchange_as(Some(("svc", &secret)), &[]).await,
        StatusCode::BAD_REQUEST,
        "unauthorized_client",
    );
}

#[tokio::test]
async fn token_types_must_be_declared_and_match() {
    let g = granted("read", 3600).await;
    for extra in [
        vec![("subject_token_type", ACCESS_TOKEN_TYPE)],
        vec![("subject_token_type", "")],
        vec![("actor_token_type", "")],
        vec![(
            "actor_token_type",
            "urn:ietf:params:oauth:token-type:id_token",
        )],
        vec![("actor_token", "")],
        vec![("actor_token", ""), ("actor_token_type", "")],
        vec![(
            "requested_token_type",
            "urn:ietf:params:oauth:token-type:refresh_token",
        )],
        vec![(
            "requested_token_type",
            "urn:ietf:params:oauth:token-type:id_token",
        )],
    ] {
        assert_error(
            g.exchange(&extra).await,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        );
    }
    let (status, _) = g
        .exchange(&[
            ("requested_token_type", ACCESS_TOKEN_TYPE),
            ("actor_token_type", "urn:ietf:params:oauth:token-type:jwt"),
        ])
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn missing_truncated_oversized_or_unparsable_tokens_are_400_never_the_clients_identity() {
    let g = granted("read", 3600).await;
    let truncated = &g.d.bob[..g.d.bob.len() - 20];
    let oversized = "a".repeat(20_000);
    for actor in [truncated, "not-a-jwt", "a.b.c", &oversized] {
        assert_error(
            g.exchange(&[("actor_token", actor)]).await,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        );
    }
    let long_grant = "g".repeat(500);
    for subject in ["", "unknown-grant", long_grant.as_str()] {
        assert_error(
            g.exchange(&[("subject_token", subject)]).await,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        );
    }
}

#[tokio::test]
async fn expired_revoked_foreign_or_wrong_typ_actor_tokens_are_rejected() {
    let g = granted("read", 3600).await;
    // Revoked: the console revokes bob's token.
    let fresh_bob = console_token(&g.d.app, &g.d.secret, "bob", "openid agent").await;
    assert_eq!(
        g.revoke(("console", &g.d.secret), &fresh_bob, None).await,
        StatusCode::OK
    );
    assert_error(
        g.exchange(&[("actor_token", &fresh_bob)]).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );
    // Wrong typ / an ID token as actor.
    let id_token = crate::fixtures::console_tokens(&g.d.app, &g.d.secret, "bob", "openid agent")
        .await["id_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_error(
        g.exchange(&[("actor_token", &id_token)]).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );
    // Expired: move past bob's token's lifetime.
    g.d.app
        .clock
        .advance(g.d.app.state.settings.access_token_ttl_seconds);
    assert_error(
        g.exchange(&[]).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );
}

#[tokio::test]
async fn a_token_from_a_foreign_issuer_is_rejected() {
    let g = granted("read", 3600).await;
    // Same keys, another issuer: a second instance configured for another realm.
    let keys = g.d.app.state.keys.snapshot();
    let key = keys
        .signing(
            behalf::tokens::signing_key::Purpose::AccessToken,
            g.d.app.clock_now(),
        )
        .unwrap();
    let mut claims: serde_json::Value = verify_with_jwks(&g.d.app, &g.d.bob, g.d.app.issuer())
        .await
        .unwrap();
    claims["iss"] = "https://other-issuer.example".into();
    let foreign = behalf::tokens::jws::sign(key, "at+jwt", &claims);
    assert_error(
        g.exchange(&[("actor_token", &foreign)]).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );
}

#[tokio::test]
async fn the_grant_must_name_this_agent_and_this_client() {
    let g = granted("read", 3600).await;
    let carol = console_token(&g.d.app, &g.d.secret, "carol", "openid agent").await;
    assert_error(
        g.exchange(&[("actor_token", &carol)]).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );
    // Another support client with the exchange grant, and bob's token from it.
    let (row, other_secret) = behalf::oauth::registration::register(
        behalf::oauth::registration::NewClient {
            client_id: "console2".into(),
            first_party: true,
            redirect_uris: vec![crate::fixtures::CALLBACK.into()],
            grant_types: vec![
                "authorization_code".into(),
                "urn:ietf:params:oauth:grant-type:token-exchange".into(),
            ],
            scopes: ["openid", "agent", "read"].map(String::from).to_vec(),
            ..Default::default()
        },
        0,
    )
    .unwrap();
    g.d.app.state.db.run(move |c| row.insert(c)).await.unwrap();
    let other_secret = other_secret.unwrap().expose().clone();
    let (verifier, challenge) = crate::fixtures::pkce();
    let url = crate::fixtures::authorize_url(
        &g.d.app,
        "console2",
        &challenge,
        &[("scope", "openid agent")],
    );
    let location = crate::fixtures::Browser::new(&g.d.app)
        .authorize(&url, "bob", "approve")
        .await;
    let (_, tokens) = crate::fixtures::redeem(
        &g.d.app,
        ("console2", Some(&other_secret)),
        &crate::fixtures::query_of(&location)["code"],
        &verifier,
    )
    .await;
    let bob_via_console2 = tokens["access_token"].as_str().unwrap();
    // console2 with its own bob token: the grant is bound to console.
    assert_error(
        g.exchange_as(
            Some(("console2", &other_secret)),
            &[("actor_token", bob_via_console2)],
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );
    // console2 presenting the token console got: issued to another client.
    assert_error(
        g.exchange_as(Some(("console2", &other_secret)), &[]).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );
}

#[tokio::test]
async fn once_a_grant_is_revoked_or_expired_the_next_exchange_fails() {
    let g = granted("read", 3600).await;
    assert_eq!(g.exchange(&[]).await.0, StatusCode::OK);
    let (status, _, _) = api(
        &g.d.app,
        Method::DELETE,
        &format!("/api/grants/{}", g.grant_id),
        Some(&g.d.bob),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_error(
        g.exchange(&[]).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );

    let second = approve(&g.d, "read", 600).await;
    assert_eq!(
        g.exchange(&[("subject_token", &second)]).await.0,
        StatusCode::OK
    );
    g.d.app.clock.advance(600);
    assert_error(
        g.exchange(&[("subject_token", &second)]).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );
}

#[tokio::test]
async fn issued_scope_is_within_requested_grant_and_client_scopes() {
    let g = granted("read write", 3600).await;
    let (status, body) = g.exchange(&[("scope", "read")]).await;
    assert_eq!(
        (status, body["scope"].as_str()),
        (StatusCode::OK, Some("read"))
    );
    for wider in ["read admin", "openid", "agent", "write billing"] {
        assert_error(
            g.exchange(&[("scope", wider)]).await,
            StatusCode::BAD_REQUEST,
            "invalid_scope",
        );
    }
}

#[tokio::test]
async fn an_audience_outside_the_grant_is_invalid_target() {
    let g = granted("read", 3600).await;
    let issuer = g.d.app.issuer().to_string();
    let (status, body) = g.exchange(&[("audience", &issuer)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for extra in [
        vec![("audience", "https://evil.example")],
        vec![("resource", "https://api.other.example")],
    ] {
        assert_error(
            g.exchange(&extra).await,
            StatusCode::BAD_REQUEST,
            "invalid_target",
        );
    }
}

#[tokio::test]
async fn the_lifetime_is_capped_by_policy_and_by_the_grants_expiry() {
    let g = granted("read", 3600).await;
    g.d.app.clock.advance(3600 - 100);
    let bob = console_token(&g.d.app, &g.d.secret, "bob", "openid agent").await;
    let (status, body) = g.exchange(&[("actor_token", &bob)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["expires_in"], 100, "capped by the grant, not 300");
    let claims = verify_with_jwks(
        &g.d.app,
        body["access_token"].as_str().unwrap(),
        g.d.app.issuer(),
    )
    .await
    .unwrap();
    assert_eq!(claims["exp"].as_i64().unwrap(), g.d.app.clock_now() + 100);
}

/// docs/security.md E10: the actor token's `exp` caps the delegated token too.
#[tokio::test]
async fn a_delegated_token_never_outlives_the_actor_token_it_was_minted_with() {
    let g = granted("read", 7200).await;
    let actor = jwt_claims(&g.d.bob);
    // bob's token has 60 s left; the policy would allow 300 and the grant hours.
    let left = 60;
    g.d.app
        .clock
        .advance(actor["exp"].as_i64().unwrap() - g.d.app.clock_now() - left);
    let (status, body) = g.exchange(&[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["expires_in"], left,
        "capped by the actor token, not 300"
    );
    let claims = verify_with_jwks(
        &g.d.app,
        body["access_token"].as_str().unwrap(),
        g.d.app.issuer(),
    )
    .await
    .unwrap();
    assert!(claims["exp"].as_i64().unwrap() <= actor["exp"].as_i64().unwrap());
    assert_eq!(claims["exp"], actor["exp"]);
}

#[tokio::test]
async fn a_delegated_token_cannot_act_as_an_actor_token() {
    let g = granted("read", 3600).await;
    let delegated = g.delegated_token().await;
    assert_error(
        g.exchange(&[("actor_token", &delegated)]).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );
    // Nor call the agent API.
    let (status, _, _) = api(
        &g.d.app,
        Method::GET,
        "/api/access-requests/x",
        Some(&delegated),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn each_exchange_writes_its_audit_event_and_the_chain_verifies() {
    let g = granted("read", 3600).await;
    let token = g.delegated_token().await;
    let claims = verify_with_jwks(&g.d.app, &token, g.d.app.issuer())
        .await
        .unwrap();
    let grant_id = g.grant_id.clone();
    let events =
        g.d.app
            .state
            .db
            .run(move |c| audit_events::for_subject(c, &grant_id))
            .await
            .unwrap();
    let exchanged: Vec<_> = events
        .iter()
        .filter(|e| e.action == "token.exchanged")
        .collect();
    assert_eq!(exchanged.len(), 1);
    assert!(
        exchanged[0]
            .detail
            .contains(claims["jti"].as_str().unwrap())
    );
    assert_eq!(
        behalf::audit::verify(&g.d.app.state.db).await.unwrap(),
        behalf::audit::ChainReport::Intact {
            events: g.audit_events_count().await
        }
    );
}

#[tokio::test]
async fn a_non_delegable_scope_in_a_grant_is_never_exchanged() {
    // The policy changed after the grant was given: admin is now non-delegable.
    let g = granted("read admin", 3600).await;
    let mut policy = g.d.app.state.settings.policy.clone();
    policy.non_delegable_scopes = vec!["admin".into()];
    let state = g.d.app.state.clone();
    let settings = behalf::config::Settings {
        policy,
        ..state.settings.clone()
    };
    let db = g.d.app.db.clone();
    let clock = g.d.app.clock.clone();
    let mut settings = settings;
    settings.issuer = Some(g.d.app.issuer().to_string());
    let restarted = crate::helpers::TestApp::spawn_with(db, settings, clock).await;
    let form = [
        (
            "grant_type",
            "urn:ietf:params:oauth:grant-type:token-exchange",
        ),
        ("subject_token", g.grant_id.as_str()),
        ("subject_token_type", crate::fixtures::GRANT_ID_TYPE),
        ("actor_token", g.d.bob.as_str()),
        ("actor_token_type", ACCESS_TOKEN_TYPE),
    ];
    let (status, _, body) = restarted
        .post_token(Some(("console", &g.d.secret)), &form)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["scope"], "read", "admin left out");
    let mut asked = form.to_vec();
    asked.push(("scope", "admin"));
    let (status, _, body) = restarted
        .post_token(Some(("console", &g.d.secret)), &asked)
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_scope"))
    );
}
